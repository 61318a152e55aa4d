"""The vote-count record (biên bản kiểm phiếu) as DOCX in the NĐ 30/2020 layout: read back
with python-docx, built directly and through the vote_record use case."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn

from bot.core.models import Bloc, BlocKind, Locale, Membership, Platform, Role
from bot.core.units import UnitDraft
from bot.core.voting import BallotKind, BallotStatus, Choice, Option, OptionKind, default_rules
from bot.fakes.clock import FakeClock
from bot.render import Renderer
from bot.services import voting as svc
from bot.services.actors import Actor, load_actor, resolve_actor
from bot.services.app import Services
from bot.services.documents import (
    _SUCCESSORS,
    Block,
    OfficialDocument,
    RecordRow,
    VoteRecord,
    date_line,
    official_docx,
    vote_record_docx,
    vote_records_docx,
)
from storage.vote_repos import Conference

TZ = "Asia/Ho_Chi_Minh"
HEAD = "9f2c0a7e" * 8
BOARD = ("Quàng Thị Mai", "Trần Đức Long")
BLOC_NAME = "Khối thi đua Văn hóa - Xã hội"


def t_vi(key: str) -> str:
    return Renderer().t(Locale.VI, key)


def test_date_line_pads_days_below_ten_and_months_one_and_two() -> None:
    cases = {
        datetime(2024, 3, 5, 2, 30, tzinfo=UTC): "Hà Nội, ngày 05 tháng 3 năm 2024",
        datetime(2025, 1, 1, 2, 0, tzinfo=UTC): "Hà Nội, ngày 01 tháng 01 năm 2025",
        datetime(2024, 2, 9, 2, 0, tzinfo=UTC): "Hà Nội, ngày 09 tháng 02 năm 2024",
        datetime(2022, 12, 20, 2, 0, tzinfo=UTC): "Hà Nội, ngày 20 tháng 12 năm 2022",
        datetime(2024, 10, 10, 2, 0, tzinfo=UTC): "Hà Nội, ngày 10 tháng 10 năm 2024",
        # 18:00 UTC on 4 March is already 5 March in Hà Nội.
        datetime(2024, 3, 4, 18, 0, tzinfo=UTC): "Hà Nội, ngày 05 tháng 3 năm 2024",
    }
    for when, expected in cases.items():
        assert date_line("Hà Nội", when, TZ) == expected, when
    assert date_line("", datetime(2024, 3, 5, 2, 0, tzinfo=UTC), TZ) == "Ngày 05 tháng 3 năm 2024"
    assert date_line("Điện Biên", datetime(2022, 12, 20, 1, 0, tzinfo=UTC), TZ) == (
        "Điện Biên, ngày 20 tháng 12 năm 2022"
    )


def text_of(doc: DocumentObject) -> list[str]:
    """Every paragraph, in the body and in the table cells, in order; then the page footer."""
    lines = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                lines += [p.text for p in cell.paragraphs]
    return lines + [p.text for p in doc.sections[0].footer.paragraphs]


RECORD = VoteRecord(
    issuer=BLOC_NAME,
    number="05/BB-KTĐVHXH",
    locality="Hà Nội",
    when=datetime(2024, 3, 5, 2, 30, tzinfo=UTC),  # 09:30 in Hà Nội
    timezone=TZ,
    subject="Kiểm phiếu: Đề nghị tặng Cờ thi đua của Chính phủ",
    place="Hội trường Sở Y tế",
    counting_board=BOARD,
    issued=12,
    returned=11,
    valid=10,
    invalid=1,
    blank=1,
    base_label="tổng số đơn vị thành viên",
    base_count=12,
    threshold="≥70%",
    rows=(
        RecordRow("Sở Y tế", 9, 750, True),
        RecordRow("Sở Giáo dục và Đào tạo", 1, 83, False),
        RecordRow("Sở Văn hóa, Thể thao và Du lịch", 0, 0, False),
    ),
    conclusion="Kết quả: đề nghị Sở Y tế.",
    audit_head=HEAD,
    chair="Nguyễn Văn Thành",
)


def test_the_record_opens_and_holds_the_official_layout_and_the_count() -> None:
    doc = Document(io.BytesIO(vote_record_docx(RECORD, t_vi)))
    lines = text_of(doc)

    header_left, header_right = (
        [p.text for p in cell.paragraphs] for cell in doc.tables[0].rows[0].cells
    )
    assert header_left == ["KHỐI THI ĐUA VĂN HÓA - XÃ HỘI", "", "Số: 05/BB-KTĐVHXH"]
    assert header_right == [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "",
        "Hà Nội, ngày 05 tháng 3 năm 2024",
    ]
    nation = doc.tables[0].rows[0].cells[1].paragraphs[0].runs[0]
    dated = doc.tables[0].rows[0].cells[1].paragraphs[3].runs[0]
    assert (nation.bold, dated.italic) == (True, True)

    body = [p.text for p in doc.paragraphs if p.text]
    assert body == [
        "BIÊN BẢN",
        "Kiểm phiếu: Đề nghị tặng Cờ thi đua của Chính phủ",
        "Vào hồi 09 giờ 30, ngày 05 tháng 3 năm 2024, tại Hội trường Sở Y tế, "
        "Ban kiểm phiếu đã tiến hành kiểm phiếu.",
        "Ban kiểm phiếu gồm:",
        "- Quàng Thị Mai",
        "- Trần Đức Long",
        "Số phiếu phát ra: 12; số phiếu thu về: 11; số phiếu hợp lệ: 10; "
        "số phiếu không hợp lệ: 1 (trong đó phiếu trắng: 1).",
        "Tỷ lệ tính trên 12 (tổng số đơn vị thành viên); ngưỡng thông qua: ≥70%.",
        "Kết quả: đề nghị Sở Y tế.",
        "Biên bản kết thúc cùng ngày, đã được đọc lại và các thành viên Ban kiểm phiếu "
        "nhất trí ký tên.",
    ]
    # The audit head at the foot of every page (issue 20, point 2: it was an orphan line
    # alone on a page), the first page's too.
    section = doc.sections[0]
    assert [p.text for p in section.footer.paragraphs] == [f"Mã kiểm chứng nhật ký: {HEAD}"]
    assert [p.text for p in section.first_page_footer.paragraphs] == [
        f"Mã kiểm chứng nhật ký: {HEAD}"
    ]
    assert [[c.text for c in row.cells] for row in doc.tables[1].rows] == [
        ["STT", "Nội dung / Đơn vị", "Số phiếu", "Tỷ lệ"],
        ["1", "Sở Y tế", "9", "75,0%"],
        ["2", "Sở Giáo dục và Đào tạo", "1", "8,3%"],
        ["3", "Sở Văn hóa, Thể thao và Du lịch", "0", "0,0%"],
    ]
    # Signatures (issue 20, point 1): the board's head and the chair side by side, each a
    # title, room to sign and the name under it; the other members under them, room to sign
    # above each name; no row split across pages.
    signatures = doc.tables[2]
    space = ["", "", ""]
    assert [[[p.text for p in c.paragraphs] for c in row.cells] for row in signatures.rows] == [
        [
            ["BAN KIỂM PHIẾU", "TRƯỞNG BAN", "(Ký, ghi rõ họ tên)", *space, BOARD[0]],
            ["CHỦ TỌA HỘI NGHỊ", "", "(Ký, ghi rõ họ tên)", *space, "Nguyễn Văn Thành"],
        ],
        [["CÁC THÀNH VIÊN BAN KIỂM PHIẾU"]] * 2,  # one cell across both columns
        [[*space, BOARD[1]], [""]],
    ]
    names = [c.paragraphs[-1].runs[0] for c in signatures.rows[0].cells]
    assert all(run.bold for run in names)
    assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in signatures.rows)
    assert "BIÊN BẢN" in lines

    # A4 portrait, margins top/bottom 20 mm, left 30 mm, right 15 mm; Times New Roman 13.
    section = doc.sections[0]
    sizes = (section.page_width, section.page_height)
    assert tuple(round(s.mm) for s in sizes if s is not None) == (210, 297)
    margins = (
        section.top_margin,
        section.bottom_margin,
        section.left_margin,
        section.right_margin,
    )
    assert tuple(round(m.mm) for m in margins if m is not None) == (20, 20, 30, 15)
    normal = doc.styles["Normal"].font
    assert normal.name == "Times New Roman"
    assert normal.size is not None
    assert normal.size.pt == 13


def _minutes_docx() -> bytes:
    return official_docx(
        OfficialDocument(
            issuer=BLOC_NAME,
            number="01/BB-KTĐVHXH",
            dated="Hà Nội, ngày 05 tháng 3 năm 2024",
            title="BIÊN BẢN",
            subject="Hội nghị tổng kết",
            body=(Block("Đoạn văn"),),
            sign_left=("THƯ KÝ", "", "Lò Thị Hương"),
            sign_right=("CHỦ TỌA", "", "Nguyễn Văn Thành"),
            recipients_title="Nơi nhận:",
            recipients=("- Lưu: VT.",),
        ),
        t_vi,
    )


def _rule_mm(paragraph: Any) -> tuple[float, float]:
    """The length of the line drawn under a header paragraph (its cell less its indents)."""
    fmt = paragraph.paragraph_format
    borders = paragraph._p.pPr.find(qn("w:pBdr"))
    assert borders is not None, "no line drawn"
    assert borders.find(qn("w:bottom")) is not None, "no line drawn"
    return float(fmt.left_indent.mm), float(fmt.right_indent.mm)


def test_the_header_fits_the_text_area_and_draws_its_lines() -> None:
    """NĐ 30/2020: the header within the 165-mm text area; a line (not typed characters) a
    third to a half of the issuing body's width under it, and one as long as the motto under
    the motto; page numbers from page 2, centred in the top margin."""
    for data in (vote_record_docx(RECORD, t_vi), _minutes_docx()):
        doc = Document(io.BytesIO(data))
        header = doc.tables[0]
        grid = [round(int(c.get(qn("w:w"))) / 56.6929) for c in header._tbl.tblGrid]
        assert sum(grid) <= 165, grid
        left, right = header.rows[0].cells
        assert "─" not in left.paragraphs[1].text + right.paragraphs[2].text
        li, ri = _rule_mm(left.paragraphs[1])
        assert round(grid[0] - li - ri - 2) == 25  # of a 70-mm column
        li, ri = _rule_mm(right.paragraphs[2])
        assert round(grid[1] - li - ri - 2) == 62  # "Độc lập - Tự do - Hạnh phúc" at 13 pt
        section = doc.sections[0]
        assert section.different_first_page_header_footer
        assert section.first_page_header.paragraphs[0].text == ""
        numbered = section.header.paragraphs[0]
        assert numbered.alignment == WD_ALIGN_PARAGRAPH.CENTER
        assert numbered._p.find(qn("w:fldSimple")).get(qn("w:instr")) == "PAGE"


def test_documents_say_they_are_vietnamese_and_the_blocs() -> None:
    """Word checks spelling in the document's language: Vietnamese, not python-docx's
    English; the author and title are the bloc's and the document's."""
    doc = Document(io.BytesIO(vote_record_docx(RECORD, t_vi)))
    props = doc.core_properties
    assert props.language == "vi-VN"
    assert props.author == "Khối thi đua Văn hóa - Xã hội"
    assert props.last_modified_by == props.author
    assert props.title == "Biên bản: Kiểm phiếu: Đề nghị tặng Cờ thi đua của Chính phủ"
    assert props.comments == ""
    assert props.subject == ""
    langs = [
        e.get(qn("w:val"))
        for e in doc.styles.element.iter(qn("w:lang"))
        if e.getparent().getparent().tag in (qn("w:rPrDefault"), qn("w:style"))
    ]
    assert len(langs) == 2, langs  # the defaults' and the Normal style's
    assert set(langs) == {"vi-VN"}, langs
    english = Document(io.BytesIO(vote_record_docx(RECORD, t_vi, locale="en")))
    assert english.core_properties.language == "en-GB"


def test_the_record_is_the_same_bytes_for_the_same_count() -> None:
    assert vote_record_docx(RECORD, t_vi) == vote_record_docx(RECORD, t_vi)


# --- through the use case: the stored count, the conference, the audit head --------------


async def _person(services: Services, external_id: int) -> Actor:
    return await resolve_actor(
        services,
        platform=Platform.TELEGRAM,
        external_id=str(external_id),
        display_name=f"Người {external_id}",
        username=None,
    )


async def _conference_with_open_ballot(services: Services) -> tuple[int, list[Actor], Actor]:
    """Three units with a representative each, the secretariat, the conference held in
    Hà Nội (its counting board), and the report approval open."""
    now = services.clock.now()
    reps = [await _person(services, 6000 + i) for i in range(3)]
    secretary = await _person(services, 6100)
    async with services.db.uow() as uow:
        bloc = await uow.blocs.create(
            name=BLOC_NAME, kind=BlocKind.KHOI, year=2024, code="KTĐVHXH", timezone=TZ, now=now
        )
        units = await uow.blocs.add_units(
            bloc.id,
            [
                UnitDraft("Sở Y tế", "SYT"),
                UnitDraft("Sở Giáo dục và Đào tạo", "SGDĐT"),
                UnitDraft("Sở Văn hóa, Thể thao và Du lịch", "SVHTTDL"),
            ],
            now,
        )
        for person, unit in zip(reps, units, strict=True):
            await uow.identities.put_membership(
                Membership(person.identity.id, bloc.id, unit.id, frozenset({Role.REPRESENTATIVE})),
                now,
            )
        await uow.identities.put_membership(
            Membership(secretary.identity.id, bloc.id, None, frozenset({Role.SECRETARIAT})), now
        )
        conference = await uow.votes.add_conference(
            Conference(
                id=0,
                bloc_id=bloc.id,
                year=2024,
                held_at=now,
                place="Hội trường Sở Y tế",
                chair_unit_id=units[0].id,
                chair="Nguyễn Văn Thành",
                secretary="Lò Thị Hương",
                counting_board=BOARD,
                guests="",
                locality="Hà Nội",
            ),
            created_by=secretary.identity.id,
            now=now,
        )
        info = await uow.votes.add_ballot(
            bloc_id=bloc.id,
            conference_id=conference.id,
            kind=BallotKind.APPROVE_REPORT,
            title="",
            rules=default_rules(BallotKind.APPROVE_REPORT),
            options=[
                Option(0, OptionKind.AGREE),
                Option(1, OptionKind.DISAGREE),
                Option(2, OptionKind.OTHER),
            ],
            tier=None,
            tier_order=0,
            quota=1,
            runoff_of=None,
            closes_at=None,
            created_by=secretary.identity.id,
            now=now,
        )
        await uow.votes.set_status(info.ballot.id, BallotStatus.OPEN, now=now)
        await uow.commit()
    async with services.db.uow() as uow:
        reps = [await load_actor(uow, services, p.account) for p in reps]
        secretary = await load_actor(uow, services, secretary.account)
    return info.ballot.id, reps, secretary


async def test_vote_record_use_case_writes_the_counted_ballot(
    services: Services, clock: FakeClock
) -> None:
    clock.set(datetime(2024, 3, 5, 1, 0, tzinfo=UTC))  # 08:00 on 5 March in Hà Nội
    ballot, reps, secretary = await _conference_with_open_ballot(services)
    for actor, choice in zip(
        reps,
        (Choice((0,)), Choice((2,), other_text="Bổ sung số liệu"), Choice(blank=True)),
        strict=True,
    ):
        assert isinstance(
            await svc.cast_vote(services, actor, ballot_id=ballot, choice=choice), svc.Accepted
        )
    assert isinstance(await svc.close_ballot(services, secretary, ref="1"), svc.Closed)
    bloc_id = secretary.memberships[0].bloc_id
    async with services.db.uow() as uow:
        _, head = await uow.audit.head(bloc_id)

    out = await svc.vote_record(services, secretary, ref="1", locale="vi")
    assert isinstance(out, svc.RecordOut)
    assert out.filename == "bien-ban-kiem-phieu-01.docx"
    doc = Document(io.BytesIO(out.docx))
    lines = text_of(doc)
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "KHỐI THI ĐUA VĂN HÓA - XÃ HỘI",
        "Số: 01/BBKP-KTĐVHXH",
        "Hà Nội, ngày 05 tháng 3 năm 2024",
        "Kiểm phiếu: Thông qua dự thảo báo cáo tổng kết",
        "Vào hồi 08 giờ 00, ngày 05 tháng 3 năm 2024, tại Hội trường Sở Y tế, "
        "Ban kiểm phiếu đã tiến hành kiểm phiếu.",
        "Số phiếu phát ra: 3; số phiếu thu về: 3; số phiếu hợp lệ: 2; "
        "số phiếu không hợp lệ: 1 (trong đó phiếu trắng: 1).",
        "Tỷ lệ tính trên 3 (tổng số đơn vị thành viên); ngưỡng thông qua: >50%.",
        "Kết quả: không thông qua.",
        f"Mã kiểm chứng nhật ký: {head}",
        "- Quàng Thị Mai",
    ):
        assert expected in lines, expected
    assert [[c.text for c in row.cells] for row in doc.tables[1].rows][1:] == [
        ["1", "Đồng ý", "1", "33,3%"],
        ["2", "Không đồng ý", "0", "0,0%"],
        ["3", "Ý kiến khác", "1", "33,3%"],
    ]
    assert out.context["returned"] == 3
    assert out.context["approved"] is False

    # Only the secretariat gets it, and only for a counted ballot.
    refused = await svc.vote_record(services, reps[0], ref="1", locale="vi")
    assert not isinstance(refused, svc.RecordOut)
    assert refused.reason.value == "not_secretariat"


def test_control_characters_in_names_never_break_a_document() -> None:
    """XML 1.0 cannot hold most control characters: a name imported from a file with one
    made python-docx raise (the whole /minutes failed); they are dropped, the rest kept."""
    t = t_vi
    record = replace(
        RECORD,
        issuer="Khối\x01 thi đua",
        rows=(RecordRow("Sở\x02 Y tế <b>&</b>", 3, 750, True),),
        conclusion="Kết quả: đề nghị Sở\x0b Y tế.",
    )
    lines = text_of(Document(io.BytesIO(vote_records_docx([record, record], t))))
    assert "Sở Y tế <b>&</b>" in lines
    assert "Kết quả: đề nghị Sở Y tế." in lines
    assert "KHỐI THI ĐUA" in lines
    official = OfficialDocument(
        issuer="Khối\x01 thi đua",
        number="01/BB-K\x03",
        dated="Hà Nội, ngày 05 tháng 3 năm 2024",
        title="BIÊN BẢN",
        subject="Hội nghị\x04",
        body=(Block("Đoạn\x05 văn"), Block(table=(("A\x06", "B"), ("1", "Sở\x07 & Ban")))),
        sign_left=("THƯ KÝ", "", "Lò\x08 Thị Hương"),
        sign_right=("CHỦ TỌA", "", "Nguyễn Văn Thành"),
        recipients_title="Nơi nhận:",
        recipients=("- Lưu:\x0e VT.",),
        footer="Mã\x1b",
    )
    lines = text_of(Document(io.BytesIO(official_docx(official, t))))
    for expected in (
        "Số: 01/BB-K",
        "Hội nghị",
        "Đoạn văn",
        "Sở & Ban",
        "Lò Thị Hương",
        "- Lưu: VT.",
    ):
        assert expected in lines, expected


def _cluster_facts(chair: str, secretary: str, leader: str, deputy: str) -> Any:
    """The facts of a Cụm's conference whose names were typed in lower case or with their
    honorific (issue 17, item 12)."""
    from bot.services.minutes import _Facts
    from bot.services.summary import AwardLine, SummaryData

    bloc = Bloc(1, "Cụm thi đua các xã vùng thấp", BlocKind.CUM, 2024, "CTĐVT", TZ)
    conference = Conference(
        id=1,
        bloc_id=1,
        year=2024,
        held_at=datetime(2024, 12, 20, 1, 0, tzinfo=UTC),
        place="Hội trường UBND xã Tân Phú",
        chair_unit_id=1,
        chair=chair,
        secretary=secretary,
        counting_board=(),
        guests="lãnh đạo Ban Thi đua - Khen thưởng tỉnh",
        locality="Bến Tre",
    )
    summary = SummaryData(
        bloc,
        conference,
        "xã Tân Phú",
        2,
        2,
        True,
        (AwardLine("chair_cert", ("xã An Hiệp",)),),
        leader,
        deputy,
        (2, 2),
    )
    attendance = (("xã Tân Phú", True), ("xã An Hiệp", True))
    return _Facts(bloc, conference, attendance, (), (), summary, HEAD)


def test_a_clusters_texts_say_cum_start_with_a_capital_and_keep_one_honorific() -> None:
    from bot.services.minutes import minutes_document

    render = Renderer()
    facts = _cluster_facts("Ông Trần Văn Bình", "đ/c Lê Thị Cúc", "xã Tân Phú", "xã An Hiệp")
    article = render.render("vi", "summary", s=facts.summary)
    assert article.split("\n\n")[2:] == [
        "Về dự Hội nghị có lãnh đạo Ban Thi đua - Khen thưởng tỉnh; đại diện lãnh đạo 02/02 "
        "cơ quan, đơn vị trong Cụm. Ông Trần Văn Bình (xã Tân Phú) chủ trì Hội nghị.",
        "Hội nghị đã thông qua Báo cáo tổng kết công tác thi đua, khen thưởng năm 2024, "
        "phương hướng, nhiệm vụ năm 2025.",
        "Hội nghị đã bình xét, suy tôn, đề nghị 01 đơn vị được tặng Bằng khen của Chủ tịch "
        "UBND tỉnh (xã An Hiệp).",
        "Xã Tân Phú được bầu làm đơn vị Cụm trưởng năm 2025; xã An Hiệp được bầu làm đơn vị "
        "Cụm phó.",
        "Các cơ quan, đơn vị trong Cụm ký kết giao ước thi đua năm 2025 (02/02 đơn vị đã ký).",
    ]
    minutes = minutes_document(render, "vi", facts)
    lines = [b.text for b in minutes.body if b.text]
    assert "Chủ trì: ông Trần Văn Bình (xã Tân Phú)." in lines
    assert "Thư ký: đồng chí Lê Thị Cúc." in lines
    assert (
        "Xã Tân Phú được bầu làm đơn vị Cụm trưởng năm 2025; xã An Hiệp được bầu làm đơn vị "
        "Cụm phó." in lines
    )
    assert (
        "Các cơ quan, đơn vị trong Cụm ký kết giao ước thi đua năm 2025 (02/02 đơn vị đã ký)."
        in lines
    )
    assert not [line for line in lines if "Khối" in line or "khối" in line]
    # The signatures carry the bare names, as official documents sign.
    assert (minutes.sign_left[-1], minutes.sign_right[-1]) == ("Lê Thị Cúc", "Trần Văn Bình")

    # "Đồng chí …" typed in any case is kept once; a bare name gets "Đồng chí".
    for typed, said in [
        ("Đồng chí Nguyễn Văn Thành", "Đồng chí Nguyễn Văn Thành"),
        ("đồng chí Nguyễn Văn Thành", "Đồng chí Nguyễn Văn Thành"),
        ("DONG CHI Nguyễn Văn Thành", "Đồng chí Nguyễn Văn Thành"),
        ("Đ/c Nguyễn Văn Thành", "Đồng chí Nguyễn Văn Thành"),
        ("bà Hoàng Thị Lan", "Bà Hoàng Thị Lan"),
        ("Nguyễn Văn Thành", "Đồng chí Nguyễn Văn Thành"),
    ]:
        facts = _cluster_facts(typed, "", "xã Tân Phú", "")
        article = render.render("vi", "summary", s=facts.summary)
        assert f" {said} (xã Tân Phú) chủ trì Hội nghị." in article, typed


def test_added_elements_stand_where_the_schema_puts_them() -> None:
    """Word refuses a file whose elements are out of schema order ("unreadable content");
    LibreOffice renders it anyway, so only the XML shows it. What these documents add to a
    paragraph's, a section's, a table's and a run's properties is followed only by what the
    schema allows after it, and preceded by nothing the schema puts after it."""
    allowed = {
        "w:pBdr": _SUCCESSORS["w:pBdr"],
        "w:pgNumType": _SUCCESSORS["w:pgNumType"],
        "w:lang": _SUCCESSORS["w:lang"],
        "w:tblLayout": ("w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription"),
    }
    seen: dict[str, int] = {}
    for data in (vote_records_docx([RECORD, RECORD], t_vi), _minutes_docx()):
        doc = Document(io.BytesIO(data))
        for root in (doc.element, doc.styles.element):
            for name, successors in allowed.items():
                for element in root.iter(qn(name)):
                    seen[name] = seen.get(name, 0) + 1
                    after = {qn(s) for s in successors}
                    before = [sib.tag for sib in element.itersiblings(preceding=True)]
                    assert not after & set(before), (name, before)  # nothing out of order
                    later = [sib.tag for sib in element.itersiblings()]
                    assert set(later) <= after, (name, later)
    assert set(seen) == set(allowed), seen  # each one checked, none missing


def test_a_heading_goes_with_its_section_onto_the_next_page() -> None:
    """A section heading is kept with what follows it: rendered, «V. KẾT LUẬN» ended alone at
    the foot of a page when the conclusions did not fit under it (the PDF checks saw it)."""
    docx = official_docx(
        OfficialDocument(
            issuer=BLOC_NAME,
            number="01/BB-KTĐVHXH",
            dated="Hà Nội, ngày 05 tháng 3 năm 2024",
            title="BIÊN BẢN",
            subject="Hội nghị tổng kết",
            body=(Block("IV. KẾT QUẢ", "h"), Block("Đoạn văn"), Block("V. KẾT LUẬN", "h")),
            sign_left=("THƯ KÝ", "", "Lò Thị Hương"),
            sign_right=("CHỦ TỌA", "", "Nguyễn Văn Thành"),
            recipients_title="Nơi nhận:",
            recipients=("- Lưu: VT.",),
        ),
        t_vi,
    )
    paragraphs = {p.text: p for p in Document(io.BytesIO(docx)).paragraphs}
    for heading in ("IV. KẾT QUẢ", "V. KẾT LUẬN"):
        assert paragraphs[heading].paragraph_format.keep_with_next is True, heading
    assert paragraphs["Đoạn văn"].paragraph_format.keep_with_next is not True


def test_a_tie_is_said_where_it_happened_also_beside_the_units_decided() -> None:
    """Issue 20, point 6: one unit passed and two tied for the last place; the record said
    only «đề nghị A» — the tie at the quota boundary went unsaid."""
    render = Renderer()
    context = {
        "ballot": {"kind": "award"},
        "approved": False,
        "decided": ["Sở Y tế"],
        "decided_by": "vote",
        "tie": ["Sở Giáo dục và Đào tạo", "Sở Tư pháp"],
        "tie_votes": 3,
        "tie_percent": 750,
        "seats_left": 1,
        "fewer_than_quota": False,
        "quota": 2,
    }
    assert render.plain("vi", "record_conclusion", **context) == (
        "Kết quả: đề nghị Sở Y tế; hòa phiếu giữa Sở Giáo dục và Đào tạo, Sở Tư pháp (cùng 3 "
        "phiếu, 75,0%) cho 1 suất còn lại; bỏ phiếu lại."
    )
    assert render.plain("en", "record_conclusion", **context) == (
        "Result: proposed: Sở Y tế; tie between Sở Giáo dục và Đào tạo, Sở Tư pháp (3 votes "
        "each, 75.0%) for 1 remaining place(s); run-off."
    )
