"""The year report on the web: the file and the self-score on one page, on the same draft as
the chat walk, then the chat's own receipt; hostile uploads, CSRF, limits, other people's ids."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from aiohttp import FormData
from sqlmodel import col, select

from bot.core.scoring import format_points
from bot.fakes.clock import FakeClock
from bot.services.app import Services
from handlers.web.base import Limiter, WebConfig
from storage.tables import UnitRow
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BINH,
    CUONG,
    ITEMS,
    SYT_TOTAL,
    SYT_VALUES,
    draft_id,
    report_setup,
    stored_files,
    versions,
)
from tests.handlers.test_reports import receipt, told
from tests.hostile.files import ELF
from tests.hostile.test_files import CASES as HOSTILE_CASES
from tests.web.support import Client, csrf_of, page_text, redirected, sign_in

PDF = b"%PDF-1.7 bao cao Y te"
NAME = "Báo cáo SYT.pdf"
CODES = [code for code, *_ in ITEMS]
ALL_SCORES = {f"item-{code}": format_points(v) for code, v in zip(CODES, SYT_VALUES, strict=True)}


def field(html: str, name: str) -> int:
    found = re.search(rf'name="{name}" value="(\d+)"', html)
    assert found is not None, f"no {name} on the page"
    return int(found.group(1))


def told_in_chat(tg: Harness, chat_id: int) -> list[str]:
    """What the bot sent to a chat (the outbox drained after a web submission)."""
    return [
        str(getattr(r, "text", ""))
        for r in tg.bot.mock_session.requests
        if getattr(r, "chat_id", None) == chat_id
    ]


def value_of(html: str, code: str) -> str:
    found = re.search(rf'name="item-{re.escape(code)}"\s+value="([^"]*)"', html)
    assert found is not None, f"no input for {code}"
    return found.group(1)


async def report_page(client: Client, query: str = "") -> str:
    page = await client.get(f"/web/report{query}")
    assert page.status == 200, await page.text()
    return await page.text()


async def upload(
    client: Client, name: str, data: bytes, *, csrf: str | None = "", first: bool = True
) -> tuple[int, str]:
    """The page's upload form: csrf first, then the file (or a forged variant)."""
    html = await report_page(client)
    action = re.search(r'action="(/web/report/file\?[^"]+)"', html)
    assert action is not None
    form = FormData(quote_fields=False)  # as a browser sends it: the name in UTF-8
    token = csrf_of(html) if csrf == "" else csrf
    if token is not None and first:
        form.add_field("csrf", token)
    form.add_field(
        "file", io.BytesIO(data), filename=name, content_type="application/octet-stream"
    )
    if token is not None and not first:
        form.add_field("csrf", token)
    done = await client.post(action.group(1).replace("&amp;", "&"), data=form)
    return done.status, await done.text()


async def post(client: Client, path: str, data: dict[str, str], **headers: str) -> tuple[int, str]:
    """A url-encoded form of the report page, with the page's draft, period and token."""
    html = await report_page(client)
    fields = {
        "csrf": csrf_of(html),
        "draft": str(field(html, "draft")),
        "period": str(field(html, "period")),
        "version": str(field(html, "version")),
        **data,
    }
    done = await client.post(path, data=fields, headers=headers)
    return done.status, await done.text()


async def draft_values(services: Services, draft: int) -> dict[str, int] | None:
    async with services.db.uow() as uow:
        found = await uow.reports.draft_by_id(draft)
    return None if found is None else found.values


async def test_upload_score_and_submit_give_the_chats_receipt(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    await sign_in(client, tg, AN)
    html = await report_page(client)
    assert "Báo cáo tổng kết năm 2024" in html
    assert "Hạn chót: 17:00 15/12/2024" in html
    assert "Nhận tệp PDF, DOC, DOCX, XLS, XLSX, ODT, tối đa 20 MB." in html
    # The upload form: the token first, then the file.
    upload_form = html[html.index('enctype="multipart/form-data"') :]
    assert upload_form.index('name="csrf"') < upload_form.index('name="file"')
    assert 'data-autosave="/web/report/scores"' in html
    # Every item with its maximum, the groups, bonus and penalty with their caps.
    assert "I. Công tác chỉ đạo, điều hành và thực hiện nhiệm vụ chính trị" in html
    assert "Điểm thưởng (tối đa 5)" in html
    assert "Điểm trừ (tối đa 10)" in html
    for code, _title, top, _group in ITEMS:
        assert f'name="item-{code}"' in html
        assert f"tối đa {top}" in html
    status, html = await upload(client, NAME, PDF)
    assert status == 200
    assert f"Tệp hiện tại: <b>{NAME}</b> ({len(PDF)} byte)" in html
    status, html = await post(client, "/web/report/scores", ALL_SCORES)
    assert status == 200
    assert f"Tổng: {SYT_TOTAL}/105 điểm" in html
    status, html = await post(client, "/web/report/submit", {})
    assert status == 200
    assert receipt(1, NAME, PDF, SYT_TOTAL) in html
    [v1] = await versions(services, "SYT")
    assert (v1.version, v1.file_name, v1.file_sha256, v1.self_total_cp, v1.late) == (
        1,
        NAME,
        hashlib.sha256(PDF).hexdigest(),
        10200,
        False,
    )
    # The unit's other representative is told in chat, as after a submission there.
    assert told_in_chat(tg, BINH.id)[-1] == told("Trần Văn An", 1, SYT_TOTAL)


async def test_a_repeated_submit_shows_the_same_receipt_and_a_resubmission_is_version_2(
    client: Client, tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg)
    await sign_in(client, tg, AN)
    await upload(client, NAME, PDF)
    html = await report_page(client)
    fields = {
        "csrf": csrf_of(html),
        "draft": str(field(html, "draft")),
        "period": str(field(html, "period")),
        "version": str(field(html, "version")),
    }
    await post(client, "/web/report/scores", ALL_SCORES)
    landing = await redirected(client, "/web/report/submit", fields)
    assert landing == f"/web/report/receipt?period={fields['period']}&version=1"
    assert receipt(1, NAME, PDF, SYT_TOTAL) in await page_text(client, landing)
    colleague = told_in_chat(tg, BINH.id)
    assert colleague[-1] == told("Trần Văn An", 1, SYT_TOTAL)
    # A reload of the receipt: read again; nothing submitted, the colleague not told again.
    assert receipt(1, NAME, PDF, SYT_TOTAL) in await page_text(client, landing)
    assert len(await versions(services, "SYT")) == 1
    assert told_in_chat(tg, BINH.id) == colleague
    # The version named is re-read: one that is not this person's is no receipt.
    other = await client.get(f"/web/report/receipt?period={fields['period']}&version=2")
    assert other.status == 404
    assert "Biên nhận" not in await other.text()
    # The same form posted again (a reload): the same receipt, nothing more is stored. (Two
    # posts at once, a double click, race in the service: tests/storage covers that.)
    again = await redirected(client, "/web/report/submit", {**fields, **ALL_SCORES})
    assert again == landing
    assert receipt(1, NAME, PDF, SYT_TOTAL) in await page_text(client, again)
    assert len(await versions(services, "SYT")) == 1
    assert told_in_chat(tg, BINH.id) == colleague
    clock.advance(timedelta(days=2, hours=3))
    await sign_in(client, tg, AN)  # the session's idle time is over
    html = await report_page(client)
    assert "Đã nộp: phiên bản 1 lúc 08:00 25/11/2024, 102 điểm." in html
    assert "Bản nộp mới sẽ là phiên bản 2." in html
    assert "Chưa có tệp báo cáo." in html
    fixed = b"%PDF-1.7 bao cao Y te, ban sua"
    await upload(client, "Báo cáo SYT (sửa).pdf", fixed)
    scores = {**ALL_SCORES, "item-1.2": "18"}
    status, html = await post(client, "/web/report/submit", scores)
    assert status == 200
    assert receipt(2, "Báo cáo SYT (sửa).pdf", fixed, "100", at="11:00 27/11/2024") in html
    assert [v.version for v in await versions(services, "SYT")] == [1, 2]


async def test_a_late_submission_is_marked_late(
    client: Client, tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg)
    clock.advance(timedelta(days=20, hours=9, minutes=1))  # 17:01 on 15/12/2024
    await sign_in(client, tg, AN)
    html = await report_page(client)
    assert "Đã quá hạn: báo cáo vẫn được nhận nhưng sẽ được ghi là nộp muộn." in html
    await upload(client, NAME, PDF)
    status, html = await post(client, "/web/report/submit", ALL_SCORES)
    assert status == 200
    assert receipt(1, NAME, PDF, SYT_TOTAL, at="17:01 15/12/2024", late=True) in html
    [v1] = await versions(services, "SYT")
    assert v1.late
    assert told_in_chat(tg, BINH.id)[-1] == told("Trần Văn An", 1, SYT_TOTAL, late=True)


async def test_bad_values_are_shown_beside_their_rows_and_the_good_ones_saved(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    await sign_in(client, tg, AN)
    draft = field(await report_page(client), "draft")
    status, html = await post(
        client,
        "/web/report/scores",
        {"item-1.1": "11", "item-1.2": "hai mươi", "item-2.1": "9,5", "item-2.2": "8.25"},
    )
    assert status == 400
    assert "Một số điểm chưa được lưu: xem lỗi bên cạnh từng mục." in html
    over = html.index("⚠️ Điểm vượt quá mức tối đa (tối đa 10)")
    text = html.index("⚠️ Hãy nhập một số, ví dụ 18 hoặc 9,5")
    assert html.index('name="item-1.1"') < over < html.index('name="item-1.2"') < text
    assert text < html.index('name="item-2.1"')
    # What was typed stays in its box; the good values (comma and point) are saved.
    assert 'value="hai mươi"' in html
    assert await draft_values(services, draft) == {"2.1": 950, "2.2": 825}
    html = await report_page(client)
    assert (value_of(html, "2.1"), value_of(html, "2.2"), value_of(html, "1.1")) == (
        "9,5",
        "8,25",
        "",
    )
    # Scoring before the file is allowed; submitting says what is missing.
    status, html = await post(client, "/web/report/submit", {})
    assert status == 400
    assert "Chưa nộp được: còn thiếu tệp báo cáo." in html
    assert "Chưa nộp được: còn 12 mục chưa chấm (1.1, 1.2, 2.3," in html
    assert await versions(services, "SYT") == []


async def test_the_autosave_answers_the_script_with_the_new_total(
    client: Client, tg: Harness
) -> None:
    await report_setup(tg)
    await sign_in(client, tg, AN)
    status, body = await post(
        client, "/web/report/scores", {"item-1.1": "9,5"}, **{"X-Requested-With": "fetch"}
    )
    assert (status, body) == (200, "Tổng: 9,5/105 điểm")
    status, body = await post(
        client, "/web/report/scores", {"item-1.2": "25"}, **{"X-Requested-With": "fetch"}
    )
    assert (status, body) == (422, "Tổng: 9,5/105 điểm")
    # Without the script: back to the page (303).
    html = await report_page(client)
    done = await client.post(
        "/web/report/scores",
        data={"csrf": csrf_of(html), "draft": str(field(html, "draft")), "item-1.2": "20"},
        allow_redirects=False,
    )
    assert done.status == 303
    assert done.headers["Location"].startswith("/web/report?period=")


async def test_a_draft_begun_in_telegram_is_finished_on_the_web(
    client: Client, tg: Harness
) -> None:
    await report_setup(tg)
    await sign_in(client, tg, AN)
    draft = draft_id(await tg.say(AN, "/report"))
    await tg.send_file(AN, NAME, PDF)
    await tg.tap(AN, f"sc:{draft}:0:1000")
    await tg.tap(AN, f"sc:{draft}:1:2000")
    html = await report_page(client)
    assert field(html, "draft") == draft
    assert f"<b>{NAME}</b>" in html
    assert (value_of(html, "1.1"), value_of(html, "1.2"), value_of(html, "2.1")) == (
        "10",
        "20",
        "",
    )
    # A corrected file replaces the one sent in chat; the scores stay.
    fixed = b"%PDF-1.7 ban sua"
    status, html = await upload(client, "Bản sửa.pdf", fixed)
    assert status == 200
    assert f"Tệp hiện tại: <b>Bản sửa.pdf</b> ({len(fixed)} byte)" in html
    assert value_of(html, "1.2") == "20"
    status, html = await post(client, "/web/report/submit", ALL_SCORES)
    assert status == 200
    assert receipt(1, "Bản sửa.pdf", fixed, SYT_TOTAL) in html


async def test_the_secretariat_without_a_unit_sees_the_refusal(
    client: Client, tg: Harness
) -> None:
    await report_setup(tg)
    await sign_in(client, tg, SECRETARY)
    html = await report_page(client)
    assert "Chỉ đại diện của đơn vị mới nộp được báo cáo." in html
    assert 'name="file"' not in html


async def test_a_draft_begun_on_the_web_is_finished_in_telegram(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    await sign_in(client, tg, AN)
    draft = field(await report_page(client), "draft")
    await upload(client, NAME, PDF)
    first = {k: v for k, v in ALL_SCORES.items() if k not in ("item-P1", "item-P2")}
    await post(client, "/web/report/scores", first)
    replies = await tg.say(AN, "/report")
    assert draft_id(replies) == draft
    assert "Mục 13/14" in replies[-1].text  # resumes at the first unanswered item: P1
    await tg.tap(AN, f"sc:{draft}:12:0")
    replies = await tg.tap(AN, f"sc:{draft}:13:100")
    replies = await tg.tap(AN, f"wk:{draft}:confirm:0")
    [v1] = await versions(services, "SYT")
    assert (v1.version, v1.self_total_cp, v1.file_name) == (1, 10200, NAME)


async def test_a_file_over_the_limit_is_refused_with_the_limit_and_nothing_stored(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg, policy="accept; 1")  # the period takes files up to 1 MB
    await sign_in(client, tg, AN)
    assert "tối đa 1 MB" in await report_page(client)
    status, html = await upload(client, NAME, b"%PDF-1.7 " + bytes(1024 * 1024 + 100_000))
    assert status == 400
    assert "Tệp quá lớn: tối đa 1 MB." in html
    assert "Chưa có tệp báo cáo." in html
    assert stored_files(services) == []


async def test_a_renamed_program_is_refused_through_the_web_upload(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    await sign_in(client, tg, AN)
    status, html = await upload(client, "Báo cáo SYT.docx", ELF)
    assert status == 400
    assert (
        "Nội dung tệp không phải là DOCX (nhận ra: ELF executable); đổi tên tệp không làm "
        "đổi loại tệp." in html
    )
    assert stored_files(services) == []
    status, html = await upload(client, "Báo cáo SYT.exe", PDF)
    assert status == 400
    assert "Loại tệp này không được nhận. Hãy gửi tệp PDF, DOC, DOCX, XLS, XLSX, ODT." in html


async def test_an_upload_without_the_right_token_is_refused_and_nothing_stored(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    await sign_in(client, tg, AN)
    assert (await upload(client, NAME, PDF, csrf=None))[0] == 403
    assert (await upload(client, NAME, PDF, csrf="x" * 43))[0] == 403
    assert (await upload(client, NAME, PDF, first=False))[0] == 403  # the token after the file
    assert stored_files(services) == []
    # The url-encoded forms too.
    html = await report_page(client)
    for path in ("/web/report/scores", "/web/report/submit"):
        done = await client.post(
            path, data={"draft": str(field(html, "draft")), "item-1.1": "5", "csrf": "nope"}
        )
        assert done.status == 403
    assert await draft_values(services, field(html, "draft")) == {}


async def test_uploads_are_rate_limited(
    client: Client, tg: Harness, services: Services, web_config: WebConfig
) -> None:
    web_config.uploads = Limiter(2, 600)
    await report_setup(tg)
    await sign_in(client, tg, AN)
    assert (await upload(client, NAME, PDF))[0] == 200
    assert (await upload(client, NAME, PDF))[0] == 200
    status, html = await upload(client, "Báo cáo 3.pdf", b"%PDF-1.7 thu ba")
    assert status == 429
    assert "Vui lòng thử lại sau 10 phút." in html
    assert len(stored_files(services)) == 1


async def test_another_persons_draft_cannot_be_touched(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    theirs = draft_id(await tg.say(AN, "/report"))
    await sign_in(client, tg, CUONG)
    html = await report_page(client)
    mine = field(html, "draft")
    assert mine != theirs
    token = csrf_of(html)
    scored = await client.post(
        "/web/report/scores", data={"csrf": token, "draft": str(theirs), "item-1.1": "10"}
    )
    assert scored.status == 400
    assert "Bản nháp này không còn hoặc không phải của bạn." in await scored.text()
    submitted = await client.post("/web/report/submit", data={"csrf": token, "draft": str(theirs)})
    assert submitted.status == 400
    form = FormData(quote_fields=False)
    form.add_field("csrf", token)
    form.add_field("file", PDF, filename=NAME, content_type="application/pdf")
    uploaded = await client.post(f"/web/report/file?draft={theirs}", data=form)
    assert uploaded.status == 400
    assert await draft_values(services, theirs) == {}
    assert stored_files(services) == []
    assert await versions(services, "SYT") == []


async def test_an_observer_sees_the_refusal(client: Client, tg: Harness) -> None:
    await report_setup(tg, observer=CUONG)
    await sign_in(client, tg, CUONG)
    html = await report_page(client)
    assert "Thành viên theo dõi được xem tình hình của khối, không nộp báo cáo." in html
    assert 'name="file"' not in html


async def test_a_unit_name_with_markup_is_shown_literally(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    async with services.db.uow() as uow:
        row = (
            await uow.session.exec(select(UnitRow).where(col(UnitRow.short_name) == "SYT"))
        ).one()
        row.name = "<b>x</b>"
        uow.session.add(row)
        await uow.commit()
    await sign_in(client, tg, AN)
    html = await report_page(client)
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert "<b>x</b>" not in html
    await upload(client, NAME, PDF)
    _, html = await post(client, "/web/report/submit", ALL_SCORES)
    assert "Đơn vị: &lt;b&gt;x&lt;/b&gt;" in html
    assert "<b>x</b>" not in html


async def test_several_periods_are_chosen_by_a_link(client: Client, tg: Harness) -> None:
    await report_setup(tg)
    await tg.say(SECRETARY, "/period new sơ kết; Báo cáo sơ kết 6 tháng; 20/12/2024 17:00")
    await sign_in(client, tg, AN)
    html = await report_page(client)
    assert "Chọn kỳ báo cáo cho <b>Sở Y tế</b>" in html
    links = re.findall(r'href="/web/report\?period=(\d+)">([^<]+)<', html)
    assert [title for _, title in links] == ["Báo cáo tổng kết năm 2024", "Báo cáo sơ kết 6 tháng"]
    html = await report_page(client, f"?period={links[1][0]}")
    assert "<h1>Báo cáo sơ kết 6 tháng</h1>" in html
    page = await client.get("/web/report?period=999999")
    assert page.status == 200
    assert 'name="file"' not in await page.text()


async def test_the_page_in_english(client: Client, tg: Harness) -> None:
    await report_setup(tg)
    await sign_in(client, tg, AN)
    html = await report_page(client)
    await client.post("/web/lang", data={"csrf": csrf_of(html), "lang": "en", "back": "/report"})
    html = await report_page(client)
    assert "2. Self-score" in html
    assert "Accepted: PDF, DOC, DOCX, XLS, XLSX, ODT, at most 20 MB." in html
    assert "Bonus (at most 5)" in html
    status, html = await post(client, "/web/report/scores", {"item-1.1": "9.5", "item-1.2": "x"})
    assert status == 400
    assert "Total: 9.5/105 points" in html
    assert value_of(html, "1.1") == "9.5"


async def test_a_draft_cancelled_in_chat_is_not_taken_for_an_earlier_version(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    await sign_in(client, tg, AN)
    await upload(client, NAME, PDF)
    await post(client, "/web/report/submit", ALL_SCORES)
    html = await report_page(client)  # a new draft, for version 2
    assert field(html, "version") == 2
    await tg.tap(AN, f"wk:{field(html, 'draft')}:cancel:0")
    done = await client.post(
        "/web/report/submit",
        data={
            "csrf": csrf_of(html),
            "draft": str(field(html, "draft")),
            "period": str(field(html, "period")),
            "version": "2",
        },
    )
    assert done.status == 400
    text = await done.text()
    assert "Bản nháp này không còn hoặc không phải của bạn." in text
    assert "Biên nhận" not in text
    assert [v.version for v in await versions(services, "SYT")] == [1]


@pytest.mark.parametrize(
    "case",
    [c for c in HOSTILE_CASES if c[0].startswith("report:")],
    ids=lambda c: c[0],
)
async def test_the_hostile_files_of_the_hardening_issue_are_refused_through_the_web(
    client: Client,
    tg: Harness,
    services: Services,
    case: tuple[str, str, str, str | None, Callable[[], bytes], str],
) -> None:
    """The report files of tests/hostile (a DOCX bomb, a program named .pdf, a PDF that is
    also a ZIP), at the period's limit, through the web upload: refused in words as in chat,
    nothing stored."""
    _, _, name, _, make, refusal = case
    await report_setup(tg)
    await sign_in(client, tg, AN)
    status, html = await upload(client, name, make())
    assert status == 400
    assert refusal in html
    assert "Chưa có tệp báo cáo." in html
    assert stored_files(services) == []
