"""The console's deadlines and announcements, covenant, summary and minutes, new year and audit
log: the same services as `/deadlines`, `/announce`, `/covenant set`, `/summary`, `/minutes`,
`/bloc newyear` and `audit verify` (same checks, audit, notices); destructive steps ask first;
representatives are refused on every route."""

from __future__ import annotations

import hashlib
import io
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram.methods import SendMessage
from aiohttp import FormData
from sqlmodel import col, update

from bot.core.deadlines import DeadlineKind
from bot.services.app import Services
from bot.services.covenant import text_hash
from storage.covenant_repos import Covenant
from storage.tables import AuditRow
from tests.handlers.conftest import GROUP, SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BINH,
    BLOC_CODE,
    CUONG,
    DUNG,
    GIANG,
    VOTE_UNITS,
    audit_trail,
    bloc_by_code,
    conference_setup,
    docx_bytes,
    join,
)
from tests.web.support import Client, csrf_of, page_text, redirected, sign_in

TITLE = "Nộp danh sách đề nghị khen thưởng"
COVENANT = "Các đơn vị cam kết thi đua hoàn thành xuất sắc nhiệm vụ năm 2025."


def upload(fields: dict[str, str], content: bytes, filename: str) -> FormData:
    """A multipart form with a file, as a browser posts it."""
    form = FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    form.add_field(
        "file", io.BytesIO(content), filename=filename, content_type="application/octet-stream"
    )
    return form


def told(tg: Harness, since: int) -> dict[int, list[str]]:
    """Messages sent in chat since `since`, per chat."""
    out: dict[int, list[str]] = {}
    for r in tg.bot.mock_session.requests[since:]:
        if isinstance(r, SendMessage):
            out.setdefault(int(r.chat_id), []).append(r.text)
    return out


async def _secretary(client: Client, tg: Harness, path: str) -> str:
    await sign_in(client, tg, SECRETARY)
    page = await client.get(path)
    assert page.status == 200, await page.text()
    return await page.text()


async def _bloc_with_two(tg: Harness) -> None:
    await tg.admin_setup(units=VOTE_UNITS)
    await join(tg, AN, "1")
    await join(tg, CUONG, "2")


async def actions(services: Services, action: str) -> int:
    """How many times the audit log recorded `action`."""
    return sum(1 for a, _ in await audit_trail(services) if a == action)


async def covenant_of(services: Services) -> Covenant | None:
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        return await uow.covenants.of_year(bloc.id, bloc.year + 1)


async def test_a_deadline_is_added_the_units_told_and_withdrawn_after_a_confirm(
    client: Client, tg: Harness, services: Services
) -> None:
    await _bloc_with_two(tg)
    html = await _secretary(client, tg, "/web/console/deadlines")
    assert "Hiện không có hạn chót nào đang mở." in html
    since = len(tg.bot.mock_session.requests)
    landing = await redirected(
        client,
        "/web/console/deadlines/add",
        {"csrf": csrf_of(html), "title": TITLE, "due": "2024-12-10T17:00"},
    )
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        (deadline,) = await uow.deadlines.of_bloc(bloc.id)
    assert landing == f"/web/console/deadlines?done=added&n={deadline.id}"
    html = await page_text(client, landing)
    assert f"✅ Đã thêm hạn chót số 1: <b>{TITLE}</b>" in html
    assert "Đã báo cho đại diện 2 người" in html
    assert deadline.title == TITLE
    assert not deadline.cancelled
    reached = told(tg, since)
    assert [TITLE in text for text in reached[AN.id]] == [True]
    assert [TITLE in text for text in reached[CUONG.id]] == [True]
    # A reload: the same words, read again; no second deadline, nobody told twice.
    again = await page_text(client, landing)
    assert f"✅ Đã thêm hạn chót số 1: <b>{TITLE}</b>" in again
    assert "Đã báo cho đại diện 2 người" in again
    async with services.db.uow() as uow:
        assert len(await uow.deadlines.of_bloc(bloc.id)) == 1
    assert told(tg, since) == reached
    assert "Đã thêm hạn chót" not in await page_text(client, "/web/console/deadlines")

    confirm = await client.get("/web/console/deadlines/1/cancel")
    page = await confirm.text()
    assert confirm.status == 200
    assert f"Hủy hạn chót «{TITLE}»" in page
    async with services.db.uow() as uow:
        assert not (await uow.deadlines.get(deadline.id)).cancelled  # type: ignore[union-attr]
    landing = await redirected(
        client,
        "/web/console/deadlines/cancel",
        {"csrf": csrf_of(page), "deadline_id": str(deadline.id)},
    )
    assert landing == f"/web/console/deadlines?done=cancelled&n={deadline.id}"
    for _ in range(2):  # the redirect, then a reload: said again, withdrawn once
        html = await page_text(client, landing)
        assert f"Đã hủy hạn chót «{TITLE}»; các đơn vị không còn được nhắc." in html
    async with services.db.uow() as uow:
        assert (await uow.deadlines.get(deadline.id)).cancelled  # type: ignore[union-attr]
    assert await actions(services, "deadline.cancelled") == 1
    gone = await (await client.get("/web/console/deadlines/1/cancel")).text()
    assert "Không có hạn chót đang mở số «1»." in gone


async def test_a_refused_deadline_keeps_what_was_typed(
    client: Client, tg: Harness, services: Services
) -> None:
    await _bloc_with_two(tg)
    html = await _secretary(client, tg, "/web/console/deadlines")
    refused = await client.post(
        "/web/console/deadlines/add",
        data={"csrf": csrf_of(html), "title": TITLE, "due": "2024-01-10T17:00"},
    )
    page = await refused.text()
    assert refused.status == 400
    assert 'role="alert"' in page
    assert f'value="{TITLE}"' in page
    assert 'value="2024-01-10T17:00"' in page
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        assert await uow.deadlines.of_bloc(bloc.id) == []


async def test_reminder_offsets_and_quiet_hours(
    client: Client, tg: Harness, services: Services
) -> None:
    await _bloc_with_two(tg)
    html = await _secretary(client, tg, "/web/console/deadlines")
    assert 'value="21:00"' in html
    assert 'value="07:00"' in html
    landing = await redirected(
        client,
        "/web/console/deadlines/remind",
        {"csrf": csrf_of(html), "kind": "custom", "offsets": "3d, 12h"},
    )
    assert landing == "/web/console/deadlines?done=reminders"
    before = await actions(services, "reminders.changed")
    for _ in range(2):  # the redirect, then a reload: the stored settings, saved once
        page = await page_text(client, landing)
        assert "✅ Đã lưu lịch nhắc của khối." in page
        assert "• Hạn do thường trực đặt: trước hạn 3 ngày, 12 giờ" in page
        assert 'value="3d, 12h"' in page
    assert await actions(services, "reminders.changed") == before
    bloc = await bloc_by_code(services, BLOC_CODE)
    assert bloc.reminders.offsets_for(DeadlineKind.CUSTOM) == (
        timedelta(days=3),
        timedelta(hours=12),
    )
    bad = await client.post(
        "/web/console/deadlines/remind",
        data={"csrf": csrf_of(html), "kind": "report", "offsets": "sớm"},
    )
    assert bad.status == 400
    assert 'value="sớm"' in await bad.text()
    quiet = await client.post(
        "/web/console/deadlines/quiet",
        data={"csrf": csrf_of(html), "start": "22:00", "end": "06:30"},
    )
    assert "Giờ yên lặng: 22:00–06:30." in await quiet.text()
    off = await client.post(
        "/web/console/deadlines/quiet",
        data={"csrf": csrf_of(html), "start": "22:00", "end": "06:30", "none": "1"},
    )
    assert "Giờ yên lặng: không có." in await off.text()
    bloc = await bloc_by_code(services, BLOC_CODE)
    assert bloc.reminders.quiet.start == bloc.reminders.quiet.end


async def test_an_announcement_is_previewed_then_sent_once(
    client: Client, tg: Harness, services: Services
) -> None:
    await _bloc_with_two(tg)
    html = await _secretary(client, tg, "/web/console/deadlines")
    since = len(tg.bot.mock_session.requests)
    text = "Các đơn vị gửi báo cáo trước 17 giờ thứ Sáu."
    shown = await client.post(
        "/web/console/announce/preview",
        data={"csrf": csrf_of(html), "text": text, "target": "all"},
    )
    page = await shown.text()
    assert shown.status == 200, page
    assert "Thông báo sẽ gửi đến 2 người (2 đơn vị). Chưa có gì được gửi." in page
    assert "📢 <b>Thông báo của thường trực</b> — Khối thi đua Văn hóa - Xã hội" in page
    assert text in page
    assert told(tg, since) == {}  # a preview sends nothing

    draft = page.split('name="draft" value="')[1][:16]
    landing = await redirected(
        client,
        "/web/console/announce/send",
        {"csrf": csrf_of(page), "draft": draft, "target": "all", "text": text},
    )
    assert landing == f"/web/console/deadlines?done=announced&n={draft}"
    html = await page_text(client, landing)
    assert "✅ Đã xếp gửi thông báo đến 2 người (tất cả thành viên)." in html
    reached = told(tg, since)
    assert set(reached) == {AN.id, CUONG.id}
    assert all([text in m for m in messages] == [True] for messages in reached.values())
    # A reload of that page: said again from the audit log, nothing sent again.
    reloaded = await page_text(client, landing)
    assert "✅ Đã xếp gửi thông báo đến 2 người (tất cả thành viên)." in reloaded
    assert told(tg, since) == reached
    assert await actions(services, "announce.sent") == 1
    # Another preview's name finds nothing to say.
    other = await page_text(client, "/web/console/deadlines?done=announced&n=" + "0" * 16)
    assert "Đã xếp gửi thông báo" not in other
    # The same preview's «Gửi» again (a double click, an old tab) sends nothing more.
    again = await client.post(
        "/web/console/announce/send",
        data={
            "csrf": csrf_of(page),
            "draft": page.split('name="draft" value="')[1][:16],
            "target": "all",
            "text": text,
        },
    )
    assert again.status == 400
    assert "Thông báo này đã được gửi rồi, không gửi lại." in await again.text()
    assert told(tg, since) == reached


async def test_an_announcement_to_the_units_not_done(
    client: Client, tg: Harness, services: Services
) -> None:
    await _bloc_with_two(tg)
    html = await _secretary(client, tg, "/web/console/deadlines")
    await client.post(
        "/web/console/deadlines/add",
        data={"csrf": csrf_of(html), "title": TITLE, "due": "2024-12-10T17:00"},
    )
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        (deadline,) = await uow.deadlines.of_bloc(bloc.id)
    await tg.tap(AN, f"dl:{deadline.id}:ack")
    html = await (await client.get("/web/console/deadlines")).text()
    assert f'value="custom:{deadline.id}"' in html
    shown = await client.post(
        "/web/console/announce/preview",
        data={"csrf": csrf_of(html), "text": "Nhắc lại", "target": f"custom:{deadline.id}"},
    )
    page = await shown.text()
    # Cường for Sở GD&ĐT; the two units without a representative are counted, reached by none.
    assert "Thông báo sẽ gửi đến 1 người (3 đơn vị)." in page
    assert f"(Gửi các đơn vị chưa hoàn thành: {TITLE}" in page
    since = len(tg.bot.mock_session.requests)
    sent = await client.post(
        "/web/console/announce/send",
        data={
            "csrf": csrf_of(page),
            "draft": page.split('name="draft" value="')[1][:16],
            "target": f"custom:{deadline.id}",
            "text": "Nhắc lại",
        },
    )
    assert "✅ Đã xếp gửi thông báo đến 1 người — đại diện 3 đơn vị chưa hoàn thành" in (
        await sent.text()
    )
    assert set(told(tg, since)) == {CUONG.id}


async def test_the_covenant_is_set_from_text_or_a_file_and_signatures_shown(
    client: Client, tg: Harness, services: Services
) -> None:
    await _bloc_with_two(tg)
    html = await _secretary(client, tg, "/web/console/covenant")
    assert "Chưa có giao ước thi đua năm 2025." in html
    since = len(tg.bot.mock_session.requests)
    landing = await redirected(
        client,
        "/web/console/covenant",
        {"csrf": csrf_of(html), "text": COVENANT, "due": "2024-12-20T17:00"},
    )
    assert landing == "/web/console/covenant?done=set"
    page = await page_text(client, landing)
    assert "✅ Đã lưu giao ước thi đua năm 2025, hạn ký" in page
    assert "Đã báo cho đại diện 2 người" in page
    found = await covenant_of(services)
    assert found is not None
    assert found.text == COVENANT
    assert hashlib.sha256(COVENANT.encode()).hexdigest() in page
    reached = told(tg, since)
    assert {AN.id, CUONG.id} <= set(reached)
    # A reload: the same words, read again; the covenant not saved, nobody told, again.
    again = await page_text(client, landing)
    assert "Đã báo cho đại diện 2 người" in again
    assert told(tg, since) == reached
    assert await actions(services, "covenant.set") == 1

    wrong = await client.post(
        "/web/console/covenant/file",
        data=upload({"csrf": csrf_of(page), "due": ""}, b"%PDF-1.4", "giao-uoc.pdf"),
    )
    assert wrong.status == 400
    assert "Giao ước nhận từ tệp .txt, .docx (văn bản hoặc Word)." in await wrong.text()
    huge = await client.post(
        "/web/console/covenant/file",
        data=upload({"csrf": csrf_of(page)}, b"a" * (1024 * 1024 + 1), "giao-uoc.txt"),
    )
    assert huge.status == 400
    assert "Không đọc được nội dung giao ước từ tệp này" in await huge.text()
    text = "Giao ước thi đua năm 2025\nCác đơn vị cam kết."
    landing = await redirected(
        client,
        "/web/console/covenant/file",
        upload({"csrf": csrf_of(page)}, docx_bytes(*text.split("\n")), "giao-uoc.docx"),
    )
    assert landing == "/web/console/covenant?done=set"
    page = await page_text(client, landing)
    assert "✅ Đã lưu giao ước thi đua năm 2025." in page
    found = await covenant_of(services)
    assert found is not None
    assert found.text == text
    assert text_hash(text) in page

    await tg.tap(AN, f"cv:{found.id}:ok:{text_hash(text)[:16]}")
    page = await (await client.get("/web/console/covenant")).text()
    assert "Đã ký: 1/4 đơn vị." in page
    assert "Trần Văn An" in page
    assert 'name="text"' not in page  # signed: the text is final


async def test_the_covenant_form_shows_the_date_to_sign_by_it_keeps(
    client: Client, tg: Harness, services: Services
) -> None:
    """The forms show the stored date to sign by, as they show the stored text: saving a
    corrected text (typed or from a file) keeps that date unless it is changed or emptied."""
    await _bloc_with_two(tg)
    html = await _secretary(client, tg, "/web/console/covenant")
    done = await client.post(
        "/web/console/covenant",
        data={"csrf": csrf_of(html), "text": COVENANT, "due": "2024-12-20T17:00"},
    )
    page = await done.text()
    assert page.count('name="due" value="2024-12-20T17:00"') == 2  # the text's form, the file's
    again = await (await client.get("/web/console/covenant")).text()
    assert again.count('name="due" value="2024-12-20T17:00"') == 2
    fixed = COVENANT.replace("2025.", "2025 (bản sửa).")
    await client.post(
        "/web/console/covenant",
        data={"csrf": csrf_of(page), "text": fixed, "due": "2024-12-20T17:00"},
    )
    found = await covenant_of(services)
    assert found is not None
    assert (found.text, found.due_at) == (fixed, datetime(2024, 12, 20, 10, 0, tzinfo=UTC))
    # Emptied, it is gone (as /covenant set without a date in chat).
    cleared = await client.post(
        "/web/console/covenant", data={"csrf": csrf_of(page), "text": fixed, "due": ""}
    )
    assert 'name="due" value=""' in await cleared.text()
    found = await covenant_of(services)
    assert found is not None
    assert found.due_at is None


async def test_the_summary_paragraphs_preview_in_both_languages_and_post(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg, defaults=False)
    await tg.say(SECRETARY, "/bloc link", chat=GROUP)
    html = await _secretary(client, tg, "/web/console/summary")
    assert "tổng kết công tác thi đua, khen thưởng năm 2024" in html
    assert "the 2024 emulation and commendation review" in html
    landing = await redirected(
        client,
        "/web/console/summary",
        {
            "csrf": csrf_of(html),
            "movements": "Năm 2024, các phong trào thi đua được triển khai sâu rộng.",
            "closing": "Xin trân trọng cảm ơn.",
        },
    )
    assert landing == "/web/console/summary?done=saved"
    page = await page_text(client, landing)
    assert "✅ Đã lưu các đoạn văn của bài tổng kết." in page
    assert page.count("Xin trân trọng cảm ơn.") >= 2  # the field and the Vietnamese preview
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        conference = await uow.votes.conference(bloc.id, bloc.year)
    assert conference is not None
    assert conference.summary_closing == "Xin trân trọng cảm ơn."
    assert conference.summary_movements.startswith("Năm 2024")

    confirm = await client.get("/web/console/summary/post")
    page = await confirm.text()
    assert "sẽ được đăng lên nhóm của khối" in page
    since = len(tg.bot.mock_session.requests)
    assert told(tg, since) == {}
    landing = await redirected(client, "/web/console/summary/post", {"csrf": csrf_of(page)})
    assert landing == "/web/console/summary?done=posted"
    html = await page_text(client, landing)
    assert "✅ Đã đăng bài tổng kết lên nhóm của khối." in html
    group = told(tg, since)[GROUP.id]
    assert len(group) == 1
    assert group[0].endswith("Xin trân trọng cảm ơn.")
    # A reload: said again; the group does not get the article a second time.
    assert "✅ Đã đăng bài tổng kết lên nhóm của khối." in await page_text(client, landing)
    assert told(tg, since)[GROUP.id] == group
    assert await actions(services, "summary.posted") == 1


async def test_without_a_group_the_summary_is_sent_to_each_member(
    client: Client, tg: Harness
) -> None:
    """A bloc with no linked group (a bloc on Zalo): the page says the article goes to each
    member in private, and it does, once confirmed."""
    await conference_setup(tg, defaults=False)
    summary = await _secretary(client, tg, "/web/console/summary")
    assert "Gửi bài tổng kết cho các thành viên" in summary
    assert "Đăng bài tổng kết lên nhóm" not in summary
    html = await (await client.get("/web/console/summary/post")).text()
    assert "sẽ được gửi riêng cho từng thành viên của khối" in html
    assert "✅ Gửi cho các thành viên" in html
    since = len(tg.bot.mock_session.requests)
    posted = await client.post("/web/console/summary/post", data={"csrf": csrf_of(html)})
    page = await posted.text()
    assert posted.status == 200, page
    assert (
        "✅ Khối chưa liên kết nhóm: đã gửi bài tổng kết riêng cho 6 thành viên của khối." in page
    )
    sent = told(tg, since)
    assert sorted(sent) == sorted(u.id for u in (SECRETARY, AN, BINH, CUONG, DUNG, GIANG))
    assert all(
        len(texts) == 1 and "tổng kết công tác thi đua, khen thưởng năm 2024" in texts[0]
        for texts in sent.values()
    )


async def test_the_minutes_records_and_memo_download(client: Client, tg: Harness) -> None:
    await conference_setup(tg)
    await sign_in(client, tg, SECRETARY)
    warning = "Biên bản, biên bản kiểm phiếu và tờ trình đã được lập lúc"
    assert warning not in await page_text(client, "/web/console/conference")
    for doc in ("minutes", "memo"):
        for query in ("", "?lang=en"):
            got = await client.get(f"/web/console/minutes/{doc}{query}")
            assert got.status == 200, doc
            assert got.headers["Content-Disposition"].startswith("attachment; filename=")
            assert (await got.read())[:2] == b"PK"
    none = await client.get("/web/console/minutes/records")
    assert none.status == 404
    assert "chưa có biên bản kiểm phiếu" in await none.text()
    await tg.say(SECRETARY, "/ballot open 1")
    await tg.say(SECRETARY, "/ballot close 1")
    records = await client.get("/web/console/minutes/records")
    assert records.status == 200
    assert 'filename="bien-ban-kiem-phieu.docx"' in records.headers["Content-Disposition"]
    assert (await records.read())[:2] == b"PK"
    # The conference stays editable, and its form says when the documents were produced: a
    # change made afterwards needs them produced again.
    assert f"{warning} 08:00 25/11/2024." in await page_text(client, "/web/console/conference")


async def test_the_new_year_asks_first_then_moves_on(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg, defaults=False)
    await sign_in(client, tg, SECRETARY)
    confirm = await client.get("/web/console/newyear")
    page = await confirm.text()
    assert confirm.status == 200
    assert "Kết thúc năm 2024, chuyển sang năm 2025" in page
    assert "Không hoàn tác được." in page
    assert (await bloc_by_code(services, BLOC_CODE)).year == 2024  # a GET changes nothing
    since = len(tg.bot.mock_session.requests)
    landing = await redirected(
        client, "/web/console/newyear", {"csrf": csrf_of(page), "year": "2024"}
    )
    assert landing == "/web/console/newyear?done=started"
    html = await page_text(client, landing)
    assert "✅ Đã chuyển sang năm 2025." in html
    assert (await bloc_by_code(services, BLOC_CODE)).year == 2025
    reached = told(tg, since)
    assert AN.id in reached
    # A reload: said again from the audit log; no year closed or announced twice.
    assert "✅ Đã chuyển sang năm 2025." in await page_text(client, landing)
    assert (await bloc_by_code(services, BLOC_CODE)).year == 2025
    assert told(tg, since) == reached
    assert await actions(services, "bloc.new_year") == 1
    # What comes next is linked, not named as Telegram commands; the closed year's documents
    # still download from here (`/minutes 2024` was Telegram's only).
    assert "/conference new" not in html
    assert "/minutes 2024" not in html
    assert 'Bước tiếp theo: <a href="/web/console/conference">hội nghị</a> năm 2025' in html
    assert '<a href="/web/console/minutes/memo?year=2024">tờ trình</a>' in html
    memo = await client.get("/web/console/minutes/memo?year=2024")
    assert memo.status == 200
    assert (await memo.read())[:2] == b"PK"
    this_year = await client.get("/web/console/minutes/memo")  # 2025 has no conference yet
    assert "Khối chưa thiết lập hội nghị năm nay." in await this_year.text()
    again = await client.post("/web/console/newyear", data={"csrf": csrf_of(page), "year": "2024"})
    assert (await bloc_by_code(services, BLOC_CODE)).year == 2025
    assert "Năm 2024 đã kết thúc; khối đang ở năm 2025. Không có gì thay đổi." in (
        await again.text()
    )


async def test_the_audit_log_in_words_and_its_verification(
    client: Client, tg: Harness, services: Services
) -> None:
    await _bloc_with_two(tg)
    html = await _secretary(client, tg, "/web/console/audit")
    assert "Lập khối «Khối thi đua Văn hóa - Xã hội», năm 2024" in html
    assert "Nhập danh sách 4 đơn vị" in html
    assert "Thành viên tham gia khối" in html
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        seq, head = await uow.audit.head(bloc.id)
    assert head in html
    assert f"dòng số {seq}" in html
    checked = await client.post("/web/console/audit/verify", data={"csrf": csrf_of(html)})
    page = await checked.text()
    assert checked.status == 200, page
    assert f"✅ Nhật ký của khối nguyên vẹn: {seq} dòng, mã đầu chuỗi {head}." in page

    async with services.db.uow() as uow:
        await uow.session.exec(
            update(AuditRow)
            .where(col(AuditRow.bloc_id) == bloc.id, col(AuditRow.seq) == 2)
            .values(details='{"count": 40}')
        )
        await uow.commit()
    broken = await client.post("/web/console/audit/verify", data={"csrf": csrf_of(html)})
    page = await broken.text()
    assert "⚠️ Chuỗi nhật ký bị đứt ở dòng số 2: nội dung dòng đã bị sửa." in page
    assert "nguyên vẹn" not in page


POSTS: dict[str, dict[str, Any]] = {
    "/web/console/deadlines/add": {"title": TITLE, "due": "2024-12-10T17:00"},
    "/web/console/deadlines/cancel": {"deadline_id": "1"},
    "/web/console/deadlines/remind": {"kind": "custom", "offsets": "1d"},
    "/web/console/deadlines/quiet": {"none": "1"},
    "/web/console/announce/preview": {"text": "x", "target": "all"},
    "/web/console/announce/send": {"text": "x", "target": "all", "draft": "0" * 16},
    "/web/console/covenant": {"text": COVENANT},
    "/web/console/summary": {"movements": "x", "closing": "y", "launch": "z"},
    "/web/console/summary/handed-out": {
        "by": "Chủ tịch UBND tỉnh",
        "form": "Bằng khen",
        "collectives": "7",
    },
    "/web/console/summary/handed-out/remove": {"number": "1"},
    "/web/console/summary/post": {},
    "/web/console/newyear": {"year": "2024"},
    "/web/console/audit/verify": {},
}
GETS = (
    "/web/console/deadlines",
    "/web/console/deadlines/1/cancel",
    "/web/console/covenant",
    "/web/console/summary",
    "/web/console/summary/post",
    "/web/console/minutes/minutes",
    "/web/console/minutes/records",
    "/web/console/minutes/memo",
    "/web/console/newyear",
    "/web/console/audit",
)


async def test_a_representative_is_refused_on_every_route(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg, defaults=False)
    await tg.say(SECRETARY, "/bloc link", chat=GROUP)
    await tg.say(SECRETARY, f"/deadlines add {TITLE}; 10/12/2024 17:00")
    home = await sign_in(client, tg, AN)
    for path in GETS:
        page = await client.get(path)
        assert page.status == 403, path
        assert "Chỉ thường trực khối mới dùng được lệnh này." in await page.text(), path
    since = len(tg.bot.mock_session.requests)
    for path, data in POSTS.items():
        forged = await client.post(path, data={"csrf": csrf_of(home), **data})
        assert forged.status == 403, path
    file = upload({"csrf": csrf_of(home)}, COVENANT.encode(), "giao-uoc.txt")
    assert (await client.post("/web/console/covenant/file", data=file)).status == 403
    assert told(tg, since) == {}
    bloc = await bloc_by_code(services, BLOC_CODE)
    assert bloc.year == 2024
    assert await covenant_of(services) is None
    async with services.db.uow() as uow:
        (deadline,) = await uow.deadlines.of_bloc(bloc.id)
        conference = await uow.votes.conference(bloc.id, bloc.year)
    assert not deadline.cancelled
    assert conference is not None
    assert conference.summary_movements == ""
    assert (conference.launch, conference.handed_out) == ("", ())


async def test_every_form_needs_the_csrf_token(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg, defaults=False)
    await sign_in(client, tg, SECRETARY)
    for path, data in POSTS.items():
        forged = await client.post(path, data=data)
        assert forged.status == 403, path
        wrong = await client.post(path, data={"csrf": "x" * 43, **data})
        assert wrong.status == 403, path
    for fields in ({}, {"csrf": "x" * 43}):
        file = upload(fields, COVENANT.encode(), "giao-uoc.txt")
        assert (await client.post("/web/console/covenant/file", data=file)).status == 403
    bloc = await bloc_by_code(services, BLOC_CODE)
    assert bloc.year == 2024
    assert await covenant_of(services) is None
    async with services.db.uow() as uow:
        assert await uow.deadlines.of_bloc(bloc.id) == []


async def test_markup_and_decomposed_letters_are_stored_clean_and_shown_as_text(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg, defaults=False)
    html = await _secretary(client, tg, "/web/console/deadlines")

    def marked(text: str) -> str:
        return unicodedata.normalize("NFD", f"<b>{text}</b><script>x()</script>")

    composed = unicodedata.normalize("NFC", marked(TITLE))
    escaped = "&lt;script&gt;x()&lt;/script&gt;"
    await client.post(
        "/web/console/deadlines/add",
        data={"csrf": csrf_of(html), "title": marked(TITLE), "due": "2024-12-10T17:00"},
    )
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        (deadline,) = await uow.deadlines.of_bloc(bloc.id)
    assert deadline.title == composed
    page = await (await client.get("/web/console/deadlines")).text()
    assert "<script>x()</script>" not in page
    assert escaped in page

    shown = await client.post(
        "/web/console/announce/preview",
        data={"csrf": csrf_of(html), "text": marked("Thông báo"), "target": "all"},
    )
    page = await shown.text()
    assert "<script>x()</script>" not in page
    assert escaped in page
    assert unicodedata.normalize("NFC", "Thông báo") in page

    await client.post(
        "/web/console/covenant", data={"csrf": csrf_of(html), "text": marked(COVENANT)}
    )
    found = await covenant_of(services)
    assert found is not None
    assert found.text == unicodedata.normalize("NFC", marked(COVENANT))
    page = await (await client.get("/web/console/covenant")).text()
    assert "<script>x()</script>" not in page
    assert escaped in page
    assert text_hash(found.text) in page

    await client.post(
        "/web/console/summary",
        data={"csrf": csrf_of(html), "movements": marked("Phong trào"), "closing": ""},
    )
    async with services.db.uow() as uow:
        conference = await uow.votes.conference(bloc.id, bloc.year)
    assert conference is not None
    assert conference.summary_movements == unicodedata.normalize("NFC", marked("Phong trào"))
    page = await (await client.get("/web/console/summary")).text()
    assert "<script>x()</script>" not in page
    assert escaped in page


async def test_markup_and_decomposed_letters_reach_the_members_as_text(
    client: Client, tg: Harness
) -> None:
    """A deadline's title and an announcement typed with markup and decomposed letters: the
    members are told in composed letters, the markup as text; the summary's closing paragraph
    is stored composed and shown as text."""
    await _bloc_with_two(tg)
    html = await _secretary(client, tg, "/web/console/deadlines")

    def marked(text: str) -> str:
        return unicodedata.normalize("NFD", f"<b>{text}</b><script>x()</script>")

    def escaped(text: str) -> str:
        return f"&lt;b&gt;{text}&lt;/b&gt;&lt;script&gt;x()&lt;/script&gt;"

    since = len(tg.bot.mock_session.requests)
    await client.post(
        "/web/console/deadlines/add",
        data={"csrf": csrf_of(html), "title": marked(TITLE), "due": "2024-12-10T17:00"},
    )
    reached = told(tg, since)
    assert set(reached) == {AN.id, CUONG.id}
    for messages in reached.values():
        assert [escaped(TITLE) in m and "<script>" not in m for m in messages] == [True]

    text = marked("Họp giao ban") + "\r\nLúc 8 giờ"
    shown = await client.post(
        "/web/console/announce/preview",
        data={"csrf": csrf_of(html), "text": text, "target": "all"},
    )
    page = await shown.text()
    since = len(tg.bot.mock_session.requests)
    sent = await client.post(
        "/web/console/announce/send",
        data={
            "csrf": csrf_of(page),
            "draft": page.split('name="draft" value="')[1][:16],
            "target": "all",
            "text": text,
        },
    )
    assert sent.status == 200, await sent.text()
    reached = told(tg, since)
    assert set(reached) == {AN.id, CUONG.id}
    for messages in reached.values():
        assert [escaped("Họp giao ban") in m and "<script>" not in m for m in messages] == [True]
        assert "Lúc 8 giờ" in messages[0]


async def test_the_summary_closing_paragraph_is_stored_clean_and_shown_as_text(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg, defaults=False)
    html = await _secretary(client, tg, "/web/console/summary")
    closing = unicodedata.normalize("NFD", "<b>Kết thúc hội nghị</b><script>x()</script>")
    await client.post(
        "/web/console/summary",
        data={"csrf": csrf_of(html), "movements": "", "closing": closing},
    )
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        conference = await uow.votes.conference(bloc.id, bloc.year)
    assert conference is not None
    assert conference.summary_closing == "<b>Kết thúc hội nghị</b><script>x()</script>"
    page = await (await client.get("/web/console/summary")).text()
    assert "<script>x()</script>" not in page
    escaped = "&lt;b&gt;Kết thúc hội nghị&lt;/b&gt;&lt;script&gt;x()&lt;/script&gt;"
    assert escaped in page
    since = len(tg.bot.mock_session.requests)
    post = await (await client.get("/web/console/summary/post")).text()
    assert "<script>x()</script>" not in post
    posted = await client.post("/web/console/summary/post", data={"csrf": csrf_of(post)})
    assert posted.status == 200, await posted.text()
    # No group linked: each member gets the article in private, the paragraph as text.
    sent = told(tg, since)
    assert AN.id in sent
    for texts in sent.values():
        assert [escaped in m and "<script>" not in m for m in texts] == [True]
