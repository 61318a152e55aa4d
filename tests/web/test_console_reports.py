"""The console's scoring table and report periods: the same services as `/criteria import`,
`/period`, `/status`, `/review`, `/return`, `/export` and `/report UNIT` (same checks, audit,
notices), each outcome in the chat's words; a table is previewed before it is saved;
representatives are refused on every route; every form needs the session's token."""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import timedelta
from typing import Any

from aiohttp import FormData

from bot.core.scoring import format_points
from bot.fakes.clock import FakeClock
from bot.services import reports as svc
from bot.services.app import Services
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BINH,
    BLOC_CODE,
    CUONG,
    ITEMS,
    OPEN_PERIOD,
    PERIOD_TITLE,
    STRANGER,
    SYT_VALUES,
    TABLE_EXAMPLE,
    UNITS,
    actor_of,
    audit_trail,
    bloc_by_code,
    csv_bytes,
    entries,
    join,
    submitted,
    versions,
)
from tests.web.support import Client, csrf_of, page_text, redirected, sign_in

CODES = [code for code, *_ in ITEMS]
PDF = b"%PDF-1.7 bao cao giay"


def told_in_chat(tg: Harness, chat_id: int, since: int = 0) -> list[str]:
    return [
        str(getattr(r, "text", ""))
        for r in tg.bot.mock_session.requests[since:]
        if getattr(r, "chat_id", None) == chat_id
    ]


async def table_versions(services: Services) -> list[int]:
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        return [v for v, _, _ in await uow.tables.versions(bloc.id, bloc.year)]


async def periods(services: Services) -> list[Any]:
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        return await uow.reports.periods(bloc.id)


async def upload(
    client: Client, page_path: str, action: str, name: str, data: bytes, csrf: bool = True
) -> tuple[int, str]:
    """A multipart upload as the page's form sends it: csrf first, then the file."""
    html = await (await client.get(page_path)).text()
    form = FormData(quote_fields=False)
    if csrf:
        form.add_field("csrf", csrf_of(html))
    form.add_field(
        "file", io.BytesIO(data), filename=name, content_type="application/octet-stream"
    )
    done = await client.post(action, data=form)
    return done.status, await done.text()


def ticket_of(html: str) -> str:
    found = re.search(r'name="ticket" value="([^"]+)"', html)
    assert found is not None, "no confirm on the page"
    return found.group(1)


async def with_members(tg: Harness) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    await join(tg, BINH, "1")
    await join(tg, CUONG, "2")


async def with_period(tg: Harness) -> None:
    await with_members(tg)
    await tg.send_file(SECRETARY, "bang-cham-diem.yaml", TABLE_EXAMPLE.read_bytes(), "/criteria")
    await tg.say(SECRETARY, OPEN_PERIOD)


# --- the scoring table -----------------------------------------------------------------


async def test_a_table_is_previewed_then_saved_on_confirm(
    client: Client, tg: Harness, services: Services
) -> None:
    await with_members(tg)
    await sign_in(client, tg, SECRETARY)
    html = await (await client.get("/web/console/table")).text()
    assert "Chưa có bảng chấm điểm cho năm nay." in html
    assert 'enctype="multipart/form-data"' in html

    status, html = await upload(
        client,
        "/web/console/table",
        "/web/console/table/preview",
        "bang.yaml",
        TABLE_EXAMPLE.read_bytes(),
    )
    assert status == 200, html
    assert "Xem trước: phiên bản 1, năm 2024" in html
    assert "Bảng chưa được lưu." in html
    assert "I. Công tác chỉ đạo, điều hành và thực hiện nhiệm vụ chính trị" in html
    assert "<td>1.2</td>" in html
    assert '<td class="num">20</td>' in html
    assert "Trần điểm thưởng</dt><dd>5</dd>" in html
    assert "Trần điểm trừ</dt><dd>10</dd>" in html
    assert "Điểm thưởng (tối đa 5)" in html
    assert "<td>P2</td>" in html
    assert await table_versions(services) == []  # nothing saved by the preview

    ticket = ticket_of(html)
    done = await client.post(
        "/web/console/table/confirm",
        data={"csrf": csrf_of(html), "ticket": ticket},
        allow_redirects=False,
    )
    assert done.status == 303
    assert done.headers["Location"] == "/web/console/table?saved=1"
    assert await table_versions(services) == [1]
    assert [a for a, _ in await audit_trail(services) if a.startswith("scoring_table")] == [
        "scoring_table.imported"
    ]
    html = await (await client.get("/web/console/table?saved=1")).text()
    assert "✅ Đã nhập bảng chấm điểm." in html
    # The next step is the console's page, not a Telegram command.
    assert (
        'Kỳ báo cáo mở sau đây sẽ dùng phiên bản này: <a href="/web/console/periods">Kỳ báo '
        "cáo</a>"
    ) in html
    assert "/period new" not in html
    assert "năm 2024, phiên bản 1" in html
    # The same ticket again, altered or of another person: nothing more is saved.
    forged = ticket[:-1] + ("0" if ticket[-1] != "0" else "1")
    refused = await client.post(
        "/web/console/table/confirm", data={"csrf": csrf_of(html), "ticket": forged}
    )
    assert refused.status == 400
    assert "Bản xem trước đã quá 10 phút" in await refused.text()
    assert await table_versions(services) == [1]
    # The chat shows the same table.
    replies = await tg.say(SECRETARY, "/criteria")
    assert "phiên bản 1" in replies[-1].text


async def test_a_preview_expires_after_ten_minutes(
    client: Client, tg: Harness, services: Services, clock: FakeClock
) -> None:
    await with_members(tg)
    await sign_in(client, tg, SECRETARY)
    _, html = await upload(
        client,
        "/web/console/table",
        "/web/console/table/preview",
        "bang.yaml",
        TABLE_EXAMPLE.read_bytes(),
    )
    clock.advance(timedelta(minutes=11))
    late = await client.post(
        "/web/console/table/confirm", data={"csrf": csrf_of(html), "ticket": ticket_of(html)}
    )
    assert late.status == 400
    assert "Bản xem trước đã quá 10 phút" in await late.text()
    assert await table_versions(services) == []


async def test_a_bad_table_is_refused_row_by_row_and_nothing_is_saved(
    client: Client, tg: Harness, services: Services
) -> None:
    await with_members(tg)
    await sign_in(client, tg, SECRETARY)
    rows = [
        ["Loại", "Nhóm", "Mã", "Nội dung", "Điểm tối đa"],
        ["tiêu chí", "I. Chỉ đạo", "1.1", "Ban hành kế hoạch", "10"],
        ["tiêu chí", "I. Chỉ đạo", "1.1", "Trùng mã", "5"],
        ["tiêu chí", "I. Chỉ đạo", "1.3", "", "5"],
        ["tiêu chí", "I. Chỉ đạo", "1.4", "Báo cáo đúng hạn", "abc"],
    ]
    status, html = await upload(
        client, "/web/console/table", "/web/console/table/preview", "bang.csv", csv_bytes(rows)
    )
    assert status == 400
    assert 'role="alert"' in html
    assert "không được nhập vì 3 lỗi" in html
    row = '<td class="num" data-label="Dòng">{}</td><td data-label="Lỗi">{}'
    assert row.format(3, "mã mục trùng với một dòng trước</td>") in html
    assert row.format(4, "thiếu nội dung</td>") in html
    assert row.format(5, "điểm tối đa không hợp lệ") in html
    assert 'name="ticket"' not in html
    assert await table_versions(services) == []

    status, html = await upload(
        client, "/web/console/table", "/web/console/table/preview", "bang.pdf", b"%PDF-1.7"
    )
    assert status == 400
    assert "Chỉ nhận tệp .yaml, .csv hoặc .xlsx." in html
    assert await table_versions(services) == []


async def test_a_second_press_of_save_stores_the_table_once(
    client: Client, tg: Harness, services: Services
) -> None:
    """«Lưu» pressed twice (or the page reloaded with its form): one version, the same page;
    a preview older than a table saved since it is stale, not saved over it (before: a second,
    identical version each time)."""
    await with_members(tg)
    await sign_in(client, tg, SECRETARY)
    _, html = await upload(
        client,
        "/web/console/table",
        "/web/console/table/preview",
        "bang.yaml",
        TABLE_EXAMPLE.read_bytes(),
    )
    _, stale = await upload(
        client,
        "/web/console/table",
        "/web/console/table/preview",
        "bang.yaml",
        TABLE_EXAMPLE.read_bytes().replace(b"1.2", b"1.9"),
    )
    form = {"csrf": csrf_of(html), "ticket": ticket_of(html)}
    for _ in range(2):
        done = await client.post("/web/console/table/confirm", data=form, allow_redirects=False)
        assert done.status == 303
        assert done.headers["Location"] == "/web/console/table?saved=1"
    assert await table_versions(services) == [1]
    imported = [a for a, _ in await audit_trail(services) if a == "scoring_table.imported"]
    assert imported == ["scoring_table.imported"]
    late = await client.post(
        "/web/console/table/confirm", data={"csrf": csrf_of(stale), "ticket": ticket_of(stale)}
    )
    assert late.status == 400
    assert "Bản xem trước đã quá 10 phút" in await late.text()
    assert await table_versions(services) == [1]


async def test_a_ticket_confirms_only_the_previewing_persons_file(
    tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, STRANGER, "secretariat")  # a second member of the secretariat
    lan, other = await actor_of(services, SECRETARY), await actor_of(services, STRANGER)
    data = TABLE_EXAMPLE.read_bytes()
    preview = await svc.preview_table(services, lan, filename="bang.yaml", data=data)
    assert isinstance(preview, svc.TablePreview)
    assert (preview.version, len(preview.table.items)) == (1, len(ITEMS))
    refused = await svc.confirm_table(services, other, ticket=preview.ticket)
    assert isinstance(refused, svc.PreviewExpired)
    assert await svc.table_versions(services, lan) == []
    done = await svc.confirm_table(services, lan, ticket=preview.ticket)
    assert isinstance(done, svc.TableImported)
    listed = await svc.table_versions(services, other)
    assert isinstance(listed, list)
    assert [(v.version, v.year, v.table) for v in listed] == [(1, 2024, done.table)]


# --- report periods --------------------------------------------------------------------


async def test_open_a_period_and_the_representatives_are_told(
    client: Client, tg: Harness, services: Services
) -> None:
    await with_members(tg)
    await tg.send_file(SECRETARY, "bang-cham-diem.yaml", TABLE_EXAMPLE.read_bytes(), "/criteria")
    await sign_in(client, tg, SECRETARY)
    html = await (await client.get("/web/console/periods")).text()
    assert 'type="datetime-local"' in html
    assert "Kỳ mới dùng bảng chấm điểm phiên bản 1" in html
    since = len(tg.bot.mock_session.requests)
    form = {
        "csrf": csrf_of(html),
        "kind": "year_end",
        "title": PERIOD_TITLE,
        "deadline": "2024-12-15T17:00",
        "policy": "refuse",
        "max_mb": "10",
        "type-pdf": "on",
        "type-docx": "on",
    }
    done = await client.post("/web/console/periods", data=form, allow_redirects=False)
    assert done.status == 303, await done.text()
    assert done.headers["Location"] == "/web/console/periods/1?opened=1"
    found = await periods(services)
    assert len(found) == 1
    assert found[0].title == PERIOD_TITLE
    assert found[0].late_policy.value == "refuse"
    assert found[0].max_bytes == 10 * 1024 * 1024
    assert found[0].accepted_types == ("pdf", "docx")
    for person in (AN, BINH, CUONG):
        said = told_in_chat(tg, person.id, since)
        assert any(f"đã mở kỳ «{PERIOD_TITLE}». Hạn chót: 17:00 15/12/2024" in s for s in said)
    html = await (await client.get("/web/console/periods/1?opened=1")).text()
    assert "✅ Đã mở kỳ báo cáo số 1" in html
    assert "Đã nộp 0/3: đúng hạn 0, muộn 0, trả lại 0, chưa nộp 3" in html

    # A deadline in the past: said in the chat's words, what was typed kept.
    # Typed in decomposed letters (as some phones send them): shown back composed.
    typed = unicodedata.normalize("NFD", "Sơ kết")
    refused = await client.post(
        "/web/console/periods", data={**form, "title": typed, "deadline": "2020-01-01T08:00"}
    )
    assert refused.status == 400
    page = await refused.text()
    assert 'role="alert"' in page
    assert 'value="Sơ kết"' in page
    assert typed not in page
    assert len(await periods(services)) == 1


async def test_extend_asks_first_and_tells_the_representatives(
    client: Client, tg: Harness, services: Services
) -> None:
    await with_period(tg)
    await sign_in(client, tg, SECRETARY)
    confirm = await (await client.get("/web/console/periods/1/extend")).text()
    assert "Hạn hiện tại: 17:00 15/12/2024" in confirm
    assert "các đại diện đơn vị sẽ được báo hạn mới" in confirm
    since = len(tg.bot.mock_session.requests)
    landing = await redirected(
        client,
        "/web/console/periods/1/extend",
        {"csrf": csrf_of(confirm), "deadline": "2024-12-20T17:00"},
    )
    assert landing == "/web/console/periods/1?done=extended"
    html = await page_text(client, landing)
    assert "✅ Đã gia hạn kỳ" in html
    assert "từ 17:00 15/12/2024 đến 17:00 20/12/2024" in html
    told = told_in_chat(tg, AN.id, since)
    assert sum("được gia hạn đến 17:00 20/12/2024" in s for s in told) == 1
    # A reload of that page: the same words, read again; nothing extended, nobody told again.
    again = await page_text(client, landing)
    assert "từ 17:00 15/12/2024 đến 17:00 20/12/2024" in again
    assert told_in_chat(tg, AN.id, since) == told
    assert [a for a, _ in await audit_trail(services) if a == "period.extended"] == [
        "period.extended"
    ]
    assert "Đã gia hạn" not in await page_text(client, "/web/console/periods/1")
    earlier = await client.post(
        "/web/console/periods/1/extend",
        data={"csrf": csrf_of(confirm), "deadline": "2024-12-18T17:00"},
    )
    assert earlier.status == 400
    assert 'value="2024-12-18T17:00"' in await earlier.text()


async def test_status_table_and_downloads_after_a_submission(
    client: Client, tg: Harness, services: Services
) -> None:
    await with_period(tg)
    await submitted(services, AN)
    await sign_in(client, tg, SECRETARY)
    page = await client.get("/web/console/periods/1")
    html = await page.text()
    assert page.status == 200
    assert "Đã nộp 1/3: đúng hạn 1, muộn 0, trả lại 0, chưa nộp 2" in html
    assert ">Sở Y tế</a></td>" in html
    assert "✅ đã nộp" in html
    assert '<td class="num" data-label="Phiên bản">v1</td>' in html
    assert '<td class="num" data-label="Điểm được tính">102</td>' in html
    assert html.count("❌ chưa nộp") == 2

    xlsx = await client.get("/web/console/periods/1/xlsx")
    assert xlsx.status == 200
    assert xlsx.headers["Content-Disposition"] == 'attachment; filename="diem-thi-dua.xlsx"'
    assert (await xlsx.read())[:2] == b"PK"
    archive = await client.get("/web/console/periods/1/zip/1")
    assert archive.status == 200
    assert archive.headers["Content-Disposition"] == 'attachment; filename="bao-cao-phan-1.zip"'
    assert (await archive.read())[:2] == b"PK"
    assert (await client.get("/web/console/periods/1/zip/2")).status == 404


async def test_review_a_submission_side_by_side(
    client: Client, tg: Harness, services: Services
) -> None:
    await with_period(tg)
    await submitted(services, AN)
    await sign_in(client, tg, SECRETARY)
    page = await client.get("/web/console/periods/1/units/1")
    html = await page.text()
    assert page.status == 200
    assert "Báo cáo SYT.pdf" in html
    assert 'href="/web/console/periods/1/units/1/file"' in html
    assert 'name="item-1.2"' in html
    assert 'value="20"' in html  # the unit's own score, ready to confirm or change
    file = await client.get("/web/console/periods/1/units/1/file")
    assert file.status == 200
    assert await file.read() == b"%PDF-1.7 bao cao Y te"
    assert 'filename="01-SYT-v1.pdf"' in file.headers["Content-Disposition"]

    values = {f"item-{c}": format_points(v) for c, v in zip(CODES, SYT_VALUES, strict=True)}
    since = len(tg.bot.mock_session.requests)
    bad = await client.post(
        "/web/console/periods/1/units/1/review",
        data={"csrf": csrf_of(html), **values, "item-1.2": "25"},
    )
    assert bad.status == 400
    assert 'aria-invalid="true"' in await bad.text()
    landing = await redirected(
        client,
        "/web/console/periods/1/units/1/review",
        {"csrf": csrf_of(html), **values, "item-1.2": "15"},
    )
    assert landing == "/web/console/periods/1/units/1?done=reviewed"
    html = await page_text(client, landing)
    assert "✅ Đã lưu kết quả thẩm định <b>Sở Y tế</b>" in html
    assert f"({PERIOD_TITLE}, phiên bản 1): 97 điểm (đơn vị tự chấm 102)" in html
    latest = (await versions(services, "SYT"))[-1]
    assert latest.reviewed_total_cp == 9700
    assert (await entries(services, latest, "reviewed"))["1.2"] == 1500
    told = {person.id: told_in_chat(tg, person.id, since) for person in (AN, BINH)}
    for said in told.values():
        assert sum("Thường trực đã thẩm định" in s and "97 điểm" in s for s in said) == 1
    # A reload: the review as stored, said again; nothing saved or sent twice.
    again = await page_text(client, landing)
    assert ": 97 điểm (đơn vị tự chấm 102)" in again
    assert {person.id: told_in_chat(tg, person.id, since) for person in (AN, BINH)} == told
    assert [a for a, _ in await audit_trail(services) if a == "report.reviewed"] == [
        "report.reviewed"
    ]


async def test_return_asks_first_and_the_unit_is_told(
    client: Client, tg: Harness, services: Services
) -> None:
    await with_period(tg)
    await submitted(services, AN)
    await sign_in(client, tg, SECRETARY)
    confirm = await (await client.get("/web/console/periods/1/units/1/return")).text()
    assert "đơn vị được nộp lại (vẫn tính đúng hạn)" in confirm
    assert (await versions(services, "SYT"))[-1].returned_at is None  # a GET changes nothing
    since = len(tg.bot.mock_session.requests)
    comment = unicodedata.normalize("NFD", "Thiếu phụ lục số liệu") + " <b>gấp</b>"
    landing = await redirected(
        client,
        "/web/console/periods/1/units/1/return",
        {"csrf": csrf_of(confirm), "until": "2024-12-18T17:00", "comment": comment},
    )
    assert landing == "/web/console/periods/1/units/1?done=returned"
    html = await page_text(client, landing)
    assert "↩️ Đã trả lại báo cáo của <b>Sở Y tế</b> (phiên bản 1)" in html
    assert "được nộp lại đến 17:00 18/12/2024" in html
    assert "&lt;b&gt;gấp&lt;/b&gt;" in html
    latest = (await versions(services, "SYT"))[-1]
    assert latest.return_comment == "Thiếu phụ lục số liệu <b>gấp</b>"  # NFC, kept as text
    assert latest.resubmit_until is not None
    said = told_in_chat(tg, AN.id, since)
    assert sum("được trả lại để sửa" in s and "Thiếu phụ lục số liệu" in s for s in said) == 1
    # A reload: the return as stored, said again; the unit is not told a second time.
    again = await page_text(client, landing)
    assert "↩️ Đã trả lại báo cáo của <b>Sở Y tế</b> (phiên bản 1)" in again
    assert told_in_chat(tg, AN.id, since) == said
    assert (await versions(services, "SYT"))[-1] == latest
    assert [a for a, _ in await audit_trail(services) if a == "report.returned"] == [
        "report.returned"
    ]
    status = await (await client.get("/web/console/periods/1")).text()
    assert "↩️ trả lại để sửa" in status

    empty = await client.post(
        "/web/console/periods/1/units/1/return",
        data={"csrf": csrf_of(confirm), "until": "2024-12-18T17:00", "comment": "  "},
    )
    assert empty.status == 400


async def test_on_behalf_upload_of_a_paper_report(
    client: Client, tg: Harness, services: Services
) -> None:
    await with_period(tg)
    await sign_in(client, tg, SECRETARY)
    unit = "/web/console/periods/1/units/2"
    html = await (await client.get(unit)).text()
    assert "Sở Giáo dục và Đào tạo chưa nộp báo cáo kỳ này." in html
    page = await client.get(unit + "/behalf")
    html = await page.text()
    assert page.status == 200, html
    action = re.search(r'action="(/web/console/behalf/file\?[^"]+)"', html)
    assert action is not None
    path = action.group(1).replace("&amp;", "&")

    status, refused = await upload(client, unit + "/behalf", path, "scan.exe", b"MZ\x90\x00")
    assert status == 400
    assert "PDF, DOC, DOCX" in refused
    status, _ = await upload(client, unit + "/behalf", path, "scan.pdf", PDF, csrf=False)
    assert status == 403
    assert await versions(services, "SGDĐT") == []

    status, html = await upload(client, unit + "/behalf", path, "Báo cáo giấy.pdf", PDF)
    assert status == 200, html
    assert "Báo cáo giấy.pdf" in html
    values = {f"item-{c}": format_points(v) for c, v in zip(CODES, SYT_VALUES, strict=True)}
    draft = re.search(r'name="draft" value="(\d+)"', html)
    assert draft is not None
    since = len(tg.bot.mock_session.requests)
    landing = await redirected(
        client, unit + "/behalf", {"csrf": csrf_of(html), "draft": draft.group(1), **values}
    )
    assert landing == unit + "/behalf?done=submitted&n=1"
    html = await page_text(client, landing)
    assert "Biên nhận báo cáo" in html
    assert "Đơn vị: Sở Giáo dục và Đào tạo (thường trực nộp thay)" in html
    assert "Phiên bản: 1" in html
    rows = await versions(services, "SGDĐT")
    assert len(rows) == 1
    assert rows[0].on_behalf
    assert rows[0].file_name == "Báo cáo giấy.pdf"
    assert services.files.read(rows[0].file_sha256) == PDF
    said = told_in_chat(tg, CUONG.id, since)
    assert sum("đã nộp thay" in s and "Sở Giáo dục và Đào tạo" in s for s in said) == 1
    # A reload: the receipt read again; nothing submitted, the unit not told again.
    again = await page_text(client, landing)
    assert "Đơn vị: Sở Giáo dục và Đào tạo (thường trực nộp thay)" in again
    assert await versions(services, "SGDĐT") == rows
    assert told_in_chat(tg, CUONG.id, since) == said
    # The version named is re-read: another unit's, or one the unit submitted itself, is none.
    await submitted(services, AN)
    other = await client.get("/web/console/periods/1/units/1/behalf?done=submitted&n=1")
    assert other.status == 400
    assert "Biên nhận báo cáo" not in await other.text()


# --- who may, and the token --------------------------------------------------------------


async def test_a_representative_is_refused_on_every_route(
    client: Client, tg: Harness, services: Services
) -> None:
    await with_period(tg)
    await submitted(services, AN)
    home = await sign_in(client, tg, AN)
    token = csrf_of(home)
    unit = "/web/console/periods/1/units/1"
    for path in (
        "/web/console/table",
        "/web/console/periods",
        "/web/console/periods/1",
        "/web/console/periods/1/extend",
        "/web/console/periods/1/xlsx",
        "/web/console/periods/1/zip/1",
        unit,
        unit + "/file",
        unit + "/return",
        unit + "/behalf",
    ):
        page = await client.get(path)
        assert page.status == 403, path
    for path, data in (
        ("/web/console/table/confirm", {"ticket": "x.y"}),
        (
            "/web/console/periods",
            {"kind": "year_end", "title": "X", "deadline": "2024-12-30T08:00"},
        ),
        ("/web/console/periods/1/extend", {"deadline": "2024-12-30T08:00"}),
        (unit + "/review", {"item-1.1": "1"}),
        (unit + "/return", {"until": "2024-12-30T08:00", "comment": "x"}),
        (unit + "/behalf", {"draft": "1"}),
    ):
        forged = await client.post(path, data={"csrf": token, **data})
        assert forged.status == 403, path
    for path in ("/web/console/table/preview", "/web/console/behalf/file?period=1&unit=1"):
        form = FormData(quote_fields=False)
        form.add_field("csrf", token)
        form.add_field("file", io.BytesIO(TABLE_EXAMPLE.read_bytes()), filename="bang.yaml")
        assert (await client.post(path, data=form)).status == 403, path
    assert await table_versions(services) == [1]
    assert len(await periods(services)) == 1
    assert (await versions(services, "SYT"))[-1].returned_at is None


async def test_every_form_needs_the_csrf_token(
    client: Client, tg: Harness, services: Services
) -> None:
    await with_period(tg)
    await submitted(services, AN)
    await sign_in(client, tg, SECRETARY)
    unit = "/web/console/periods/1/units/1"
    for path, data in (
        (
            "/web/console/periods",
            {"kind": "year_end", "title": "X", "deadline": "2024-12-30T08:00"},
        ),
        ("/web/console/periods/1/extend", {"deadline": "2024-12-30T08:00"}),
        (unit + "/return", {"until": "2024-12-30T08:00", "comment": "x"}),
        ("/web/console/table/confirm", {"ticket": "x.y"}),
    ):
        assert (await client.post(path, data=data)).status == 403, path
        assert (await client.post(path, data={**data, "csrf": "x"})).status == 403, path
    status, _ = await upload(
        client,
        "/web/console/table",
        "/web/console/table/preview",
        "bang.yaml",
        TABLE_EXAMPLE.read_bytes(),
        csrf=False,
    )
    assert status == 403
    assert len(await periods(services)) == 1
    assert (await versions(services, "SYT"))[-1].returned_at is None
    assert await table_versions(services) == [1]


async def test_markup_and_decomposed_letters_are_stored_clean_and_shown_escaped(
    client: Client, tg: Harness, services: Services
) -> None:
    await with_members(tg)
    await tg.send_file(SECRETARY, "bang-cham-diem.yaml", TABLE_EXAMPLE.read_bytes(), "/criteria")
    await sign_in(client, tg, SECRETARY)
    html = await (await client.get("/web/console/periods")).text()
    title = unicodedata.normalize("NFD", "Báo cáo sơ kết") + "<script>x()</script>"
    done = await client.post(
        "/web/console/periods",
        data={
            "csrf": csrf_of(html),
            "kind": "mid_year",
            "title": title,
            "deadline": "2024-12-15T17:00",
            "policy": "accept",
            "max_mb": "20",
            "type-pdf": "on",
        },
        allow_redirects=False,
    )
    assert done.status == 303
    found = (await periods(services))[0]
    assert found.title == "Báo cáo sơ kết<script>x()</script>"
    assert found.title == unicodedata.normalize("NFC", found.title)
    for path in ("/web/console/periods", "/web/console/periods/1"):
        page = await (await client.get(path)).text()
        assert "<script>x()</script>" not in page
        assert "Báo cáo sơ kết&lt;script&gt;x()&lt;/script&gt;" in page

    # A table whose texts carry markup and decomposed letters: the preview shows them as text.
    marked = TABLE_EXAMPLE.read_text().replace(
        "title: Bảng chấm điểm", "title: <b>" + unicodedata.normalize("NFD", "Bảng") + "</b> chấm"
    )
    status, html = await upload(
        client,
        "/web/console/table",
        "/web/console/table/preview",
        "bang.yaml",
        marked.encode(),
    )
    assert status == 200, html
    assert "&lt;b&gt;Bảng&lt;/b&gt; chấm thi đua năm 2024" in html
    assert "<b>Bảng</b>" not in html
    saved = await client.post(
        "/web/console/table/confirm", data={"csrf": csrf_of(html), "ticket": ticket_of(html)}
    )
    assert saved.status == 200
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        latest = await uow.tables.latest(bloc.id, bloc.year)
    assert latest is not None
    assert latest[2].title.startswith("<b>Bảng</b> chấm thi đua")  # NFC, kept as text
    page = await saved.text()
    assert "<b>&lt;b&gt;Bảng&lt;/b&gt; chấm thi đua" in page  # the chat's bold, the title as text
