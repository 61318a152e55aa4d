"""The award dossier's order, numbering and names (bot/core/dossier.py): literal data."""

from __future__ import annotations

from bot.core.dossier import Part, Wanted, missing, plan


def test_the_contents_list_comes_first_then_the_parts_in_the_dossiers_order() -> None:
    # Given out of order: the plan files them as offices do, the units in the order given.
    entries = plan(
        [
            Wanted(Part.ACHIEVEMENT, ("pdf",), unit="Sở B", slug="SB", tier="gov_flag"),
            Wanted(Part.SCORES, ("xlsx",)),
            Wanted(Part.ACHIEVEMENT, (), unit="Sở A", slug="SA", tier="pm_cert"),
            Wanted(Part.MINUTES, ("docx",)),
            Wanted(Part.MEMO, ("docx", "pdf")),  # a PDF beside the DOCX: one number, two files
            Wanted(Part.RECORDS, ()),
        ]
    )
    assert [(e.number, e.part, e.names) for e in entries] == [
        (0, Part.CONTENTS, ("00_Muc_luc.txt",)),
        (1, Part.MEMO, ("01_To_trinh.docx", "01_To_trinh.pdf")),
        (2, Part.MINUTES, ("02_Bien_ban_hoi_nghi.docx",)),
        (3, Part.RECORDS, ()),
        (4, Part.SCORES, ("04_Bang_diem.xlsx",)),
        (5, Part.ACHIEVEMENT, ("05_Bao_cao_thanh_tich_SB.pdf",)),
        (6, Part.ACHIEVEMENT, ()),
    ]
    # What is missing keeps its number, so the numbering never shifts as reports arrive.
    assert [(e.number, e.wanted.unit) for e in missing(entries)] == [(3, ""), (6, "Sở A")]
    assert missing(entries)[1].stem == "06_Bao_cao_thanh_tich_SA"


def test_a_file_without_an_extension_keeps_its_numbered_name() -> None:
    [_, entry] = plan([Wanted(Part.ACHIEVEMENT, ("",), unit="Sở C", slug="SC")])
    assert entry.present
    assert entry.names == ("01_Bao_cao_thanh_tich_SC",)
