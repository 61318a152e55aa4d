"""Hostile files on every upload path (report, covenant, units import, scoring-table import):
the content is checked against the declared type, archives against decompression bombs
before any parser touches them, and parsing runs in a child process under limits. Each
refusal names the problem (and the limit) in the sender's language; nothing is stored."""

from __future__ import annotations

import hashlib

from bot.services.app import Services
from handlers.telegram.ui import LangCb
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BLOC_CODE,
    UNITS,
    bloc_by_code,
    docx_bytes,
    draft_id,
    plain,
    report_setup,
    stored_files,
    unit_names,
)
from tests.hostile.files import (
    ELF,
    PE,
    broken_docx,
    docx_bomb,
    polyglot_pdf_zip,
    polyglot_zip_pdf,
    real_docx,
    tiny_bomb,
    wide_xlsx,
    xlsx_bomb,
)

S = SECRETARY.id
CAPTION = "/units import"
AGAIN = " Hãy kiểm tra và gửi lại."
NO_UNITS = " Không có đơn vị nào được nhập."
NO_TABLE = " Bảng chấm điểm chưa được nhập."
NOT_A = "Nội dung tệp không phải là"
BROKEN_DOCX = "Tệp DOCX bị hỏng hoặc thiếu phần bắt buộc, không đọc được."
RENAMED = "; đổi tên tệp không làm đổi loại tệp."
BOMB = (
    "Tệp nén bung ra quá lớn: khi giải nén tối đa 16 MB, gấp 200 lần dung lượng tệp và "
    "1000 thành phần."
)
STORED_BOMB = (
    "Tệp nén bung ra quá lớn: khi giải nén tối đa 256 MB, gấp 200 lần dung lượng tệp và "
    "5000 thành phần."
)


async def test_a_renamed_program_a_polyglot_or_a_bomb_is_no_report(
    tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    draft = draft_id(await tg.say(AN, "/report"))
    docx = real_docx()
    cases = [
        ("Báo cáo SYT.docx", ELF, f"{NOT_A} DOCX (nhận ra: ELF executable){RENAMED}"),
        ("Báo cáo SYT.pdf", PE, f"{NOT_A} PDF (nhận ra: Windows Executable){RENAMED}"),
        ("Báo cáo SYT.doc", ELF, f"{NOT_A} DOC (nhận ra: ELF executable){RENAMED}"),
        (
            "Báo cáo SYT.pdf",
            polyglot_pdf_zip(docx),
            "Tệp vừa là PDF vừa là một loại tệp khác (tệp lai) nên không được nhận.",
        ),
        (
            "Báo cáo SYT.docx",
            polyglot_zip_pdf(docx),
            "Tệp vừa là DOCX vừa là một loại tệp khác (tệp lai) nên không được nhận.",
        ),
        (
            "Báo cáo SYT.xlsx",
            docx,
            "Tệp XLSX bị hỏng hoặc thiếu phần bắt buộc, không đọc được.",
        ),
        ("Báo cáo SYT.docx", tiny_bomb(), STORED_BOMB),
    ]
    for name, data, refusal in cases:
        assert plain(await tg.send_file(AN, name, data)) == [(AN.id, refusal + AGAIN)], name
    assert stored_files(services) == []
    async with services.db.uow() as uow:
        stored = await uow.reports.draft_by_id(draft)
    assert stored is not None
    assert stored.file_sha256 is None

    # A real Word document goes through.
    replies = await tg.send_file(AN, "Báo cáo SYT.docx", docx)
    assert replies[0].text.startswith("Mục 1/"), replies[0].text
    assert stored_files(services) == [hashlib.sha256(docx).hexdigest()]


async def test_hostile_unit_lists_are_refused_naming_the_problem(
    tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=UNITS)
    before = await unit_names(services, await bloc_by_code(services, BLOC_CODE))
    await tg.say(SECRETARY, "/units import")
    cases = [
        ("don_vi.xlsx", ELF, f"{NOT_A} XLSX (nhận ra: ELF executable){RENAMED}"),
        ("don_vi.csv", PE, f"{NOT_A} CSV (nhận ra: Windows Executable){RENAMED}"),
        ("don_vi.xlsx", xlsx_bomb(52_000), BOMB),
        ("don_vi.xlsx", tiny_bomb(), BOMB),
        ("don_vi.xlsx", wide_xlsx(rows=1), "Có dòng quá nhiều ô: tối đa 100 ô một dòng."),
    ]
    for name, data, refusal in cases:
        assert plain(await tg.send_file(SECRETARY, name, data)) == [(S, refusal + NO_UNITS)], name
    assert await unit_names(services, await bloc_by_code(services, BLOC_CODE)) == before

    # In the sender's language.
    await tg.tap(SECRETARY, LangCb(code="en").pack())
    assert plain(await tg.send_file(SECRETARY, "units.xlsx", ELF, "/units import")) == [
        (
            S,
            "The file's content is not a XLSX (it looks like: ELF executable); renaming a file "
            "does not change its type. No unit was imported.",
        )
    ]
    assert plain(await tg.send_file(SECRETARY, "units.xlsx", xlsx_bomb(52_000), CAPTION)) == [
        (
            S,
            "The compressed file expands too far: at most 16 MB unpacked, 200 times the file's "
            "size, and 1000 parts. No unit was imported.",
        )
    ]


async def test_hostile_scoring_tables_are_refused(tg: Harness) -> None:
    await tg.admin_setup(units=UNITS)
    cases = [
        ("bang.xlsx", xlsx_bomb(52_000), BOMB),
        ("bang.yaml", ELF, f"{NOT_A} YAML (nhận ra: ELF executable){RENAMED}"),
        ("bang.xlsx", wide_xlsx(rows=1), "Có dòng quá nhiều ô: tối đa 100 ô một dòng."),
    ]
    for name, data, refusal in cases:
        replies = await tg.send_file(SECRETARY, name, data, "/criteria")
        assert plain(replies) == [(S, refusal + NO_TABLE)], name


async def test_hostile_covenant_files_are_refused(tg: Harness) -> None:
    await tg.admin_setup(units=UNITS)
    caption = "/covenant set"
    cases = [
        ("giao-uoc.docx", broken_docx(), BROKEN_DOCX),
        ("giao-uoc.docx", docx_bomb(100_000), BOMB),
        ("giao-uoc.docx", ELF, f"{NOT_A} DOCX (nhận ra: ELF executable){RENAMED}"),
        ("giao-uoc.txt", PE, f"{NOT_A} TXT (nhận ra: Windows Executable){RENAMED}"),
        (
            "giao-uoc.docx",
            docx_bytes(*(["Điều."] * 2_001)),
            "Văn bản có quá nhiều đoạn: tối đa 2000 đoạn.",
        ),
    ]
    for name, data, refusal in cases:
        replies = await tg.send_file(SECRETARY, name, data, caption)
        assert plain(replies) == [(S, refusal + AGAIN)], name

    replies = await tg.send_file(
        SECRETARY, "giao-uoc.docx", docx_bytes("Các đơn vị cam kết thi đua năm 2025."), caption
    )
    assert replies[0].text.startswith("✅"), replies[0].text
