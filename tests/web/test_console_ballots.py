"""The console's ballots: the same services as `/ballot …` in chat (same checks, audit,
notices), each outcome in the chat's words; closing and cancelling ask for a confirm first;
representatives are refused on every route."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

from aiogram.methods import SendMessage

from bot.services.app import Services
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BINH,
    BLOC_CODE,
    CUONG,
    DUNG,
    GIANG,
    REPORT,
    audit_trail,
    ballot_ids,
    bloc_by_code,
    cast,
    conference_setup,
    voted,
)
from tests.handlers.test_voting_results import stored_result, with_scores
from tests.web.support import Client, csrf_of, sign_in


async def statuses(services: Services) -> list[str]:
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        return [b.ballot.status.value for b in await uow.votes.ballots(bloc.id)]


async def _console(client: Client, tg: Harness) -> str:
    await sign_in(client, tg, SECRETARY)
    page = await client.get("/web/console/ballots")
    assert page.status == 200
    return await page.text()


async def test_defaults_open_written_vote_close_and_record(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg, checked_in=(AN, CUONG, DUNG), defaults=False)
    html = await _console(client, tg)
    assert "Chưa có nội dung biểu quyết nào." in html
    done = await client.post("/web/console/ballots/defaults", data={"csrf": csrf_of(html)})
    html = await done.text()
    assert done.status == 200
    assert 'role="status"' in html
    assert f"1. {REPORT}" in html
    assert await statuses(services) == ["draft"] * 7

    since = len(tg.bot.mock_session.requests)
    opened = await client.post("/web/console/ballots/1/open", data={"csrf": csrf_of(html)})
    html = await opened.text()
    # Post, redirect, get: a reload of the page shows the list again, never opens twice.
    assert opened.history[0].status == 303
    assert opened.url.path_qs == "/web/console/ballots?done=open&n=1"
    assert "✅ Đã mở biểu quyết số 1; đại diện các đơn vị đã nhận phiếu." in html
    assert await statuses(services) == ["open"] + ["draft"] * 6
    # The representatives got the ballot in chat, as after /ballot open.
    told = {r.chat_id for r in tg.bot.mock_session.requests[since:] if hasattr(r, "chat_id")}
    assert {AN.id, CUONG.id, DUNG.id} <= told

    await cast(tg, AN, (await ballot_ids(services))[0], 0)
    written = await client.post(
        "/web/console/ballots/1/written",
        data={"csrf": csrf_of(html), "unit": "SVHTTDL", "choice": "1"},
    )
    html = await written.text()
    assert written.status == 200, html
    assert "2/4 đơn vị đã bỏ phiếu" in html

    confirm = await client.get("/web/console/ballots/1/close")
    page = await confirm.text()
    assert "Sau khi kết thúc, không đơn vị nào bỏ phiếu được nữa" in page
    assert await statuses(services) == ["open"] + ["draft"] * 6  # a GET changes nothing
    closed = await client.post("/web/console/ballots/1/close", data={"csrf": csrf_of(page)})
    html = await closed.text()
    assert f"📊 <b>Kết quả: {REPORT}</b>" in html
    assert "hợp lệ: 2" in html
    assert await statuses(services) == ["closed"] + ["draft"] * 6
    record = await client.get("/web/console/ballots/1/record")
    assert record.status == 200
    assert record.headers["Content-Disposition"].startswith("attachment; filename=")
    assert (await record.read())[:2] == b"PK"


async def test_a_tie_left_to_the_secretariat_is_decided_on_the_console(
    client: Client, tg: Harness, services: Services
) -> None:
    """Still tied after the run-off and the score totals: the counted ballot's card offers the
    tied units and records the secretariat's choice — `/ballot decide` was Telegram's only,
    and the result told the secretariat to type it."""
    await conference_setup(tg)
    await with_scores(tg, services)
    everyone = ((AN, [1, 2, 3]), (CUONG, [0, 2, 3]), (DUNG, [0, 1, 3]), (GIANG, [0, 1, 2]))
    chair = (await ballot_ids(services))[4]
    await tg.say(SECRETARY, "/ballot open 5")
    for user, choice in everyone:
        await voted(services, user, chair, choice)
    await tg.say(SECRETARY, "/ballot close 5")
    await tg.say(SECRETARY, "/ballot open 8")
    runoff = (await ballot_ids(services))[7]
    for user, choice in everyone:
        await voted(services, user, runoff, choice)
    await sign_in(client, tg, SECRETARY)
    page = await (await client.get("/web/console/ballots/8/close")).text()
    closed = await client.post("/web/console/ballots/8/close", data={"csrf": csrf_of(page)})
    html = await closed.text()
    assert (
        "Vẫn hòa sau khi so tổng điểm thi đua: Sở Văn hóa, Thể thao và Du lịch, Sở Thông tin và "
        'Truyền thông. Thường trực quyết định ở <a href="/web/console/ballots">Biểu quyết, bầu '
        "cử</a>."
    ) in html
    assert "/ballot decide" not in html
    # The card offers the two tied units, and only them.
    card = html[html.index('id="ballot-8"') :]
    card = card[: card.index("</li>")]
    assert 'action="/web/console/ballots/8/decide"' in card
    assert card.count("<option ") == 2
    assert '<option value="SVHTTDL">' in card
    assert '<option value="STTTT">' in card

    decided = await client.post(
        "/web/console/ballots/8/decide", data={"csrf": csrf_of(html), "unit": "STTTT"}
    )
    html = await decided.text()
    assert decided.url.path_qs == "/web/console/ballots?done=decide&n=8"
    assert "✅ Đã ghi quyết định của thường trực cho nội dung số 8." in html
    assert await stored_result(services, runoff) == (
        ["SYT", "SGDĐT", "STTTT"],
        "secretariat",
        [],
    )
    assert 'action="/web/console/ballots/8/decide"' not in html  # decided: nothing to pick
    again = await client.post(
        "/web/console/ballots/8/decide", data={"csrf": csrf_of(html), "unit": "SVHTTDL"}
    )
    assert again.status == 400
    assert "Nội dung số 8 không có kết quả hòa nào chờ thường trực quyết định." in (
        await again.text()
    )


async def test_a_refusal_is_said_above_the_list(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg, checked_in=(AN,))
    html = await _console(client, tg)
    refused = await client.post("/web/console/ballots/1/open", data={"csrf": csrf_of(html)})
    assert refused.status == 400
    page = await refused.text()
    assert 'role="alert"' in page
    assert "Chưa đủ đơn vị có mặt để biểu quyết: 1/4, còn thiếu 2 đơn vị" in page
    assert await statuses(services) == ["draft"] * 7


async def test_secrecy_schedule_and_cancel_with_a_confirm(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg, checked_in=(AN, CUONG, DUNG))
    html = await _console(client, tg)
    made = await client.post(
        "/web/console/ballots/1/secret", data={"csrf": csrf_of(html), "secret": "on"}
    )
    assert made.status == 200
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        first = (await uow.votes.ballots(bloc.id))[0]
    assert first.ballot.rules.secret

    scheduled = await client.post(
        "/web/console/ballots/2/schedule",
        data={"csrf": csrf_of(html), "opens": "2024-12-20T09:00", "closes": "2024-12-20T09:30"},
    )
    page = await scheduled.text()
    assert scheduled.status == 200, page
    assert "09:00" in page
    async with services.db.uow() as uow:
        second = (await uow.votes.ballots(bloc.id))[1]
    assert second.ballot.opens_at is not None

    confirm = await (await client.get("/web/console/ballots/3/cancel")).text()
    assert "Nội dung bị hủy không mở lại được" in confirm
    assert 'name="reason"' in confirm
    cancelled = await client.post(
        "/web/console/ballots/3/cancel",
        data={"csrf": csrf_of(confirm), "reason": "Khối không đủ điều kiện đề nghị"},
    )
    assert cancelled.status == 200
    assert (await statuses(services))[2] == "cancelled"


async def test_extend_moves_the_closing_time_and_tells_the_voters(
    client: Client, tg: Harness, services: Services
) -> None:
    """«Gia hạn» on an open ballot: the closing time moves, every representative is told as
    after /ballot extend, the audit has it; a time not later than the current one is refused
    above the list and changes nothing."""
    await conference_setup(tg)
    await tg.say(SECRETARY, "/ballot open 1; 25/11/2024 09:00")
    html = await _console(client, tg)
    assert 'action="/web/console/ballots/1/extend"' in html

    since = len(tg.bot.mock_session.requests)
    extended = await client.post(
        "/web/console/ballots/1/extend",
        data={"csrf": csrf_of(html), "closes": "2024-11-25T10:30"},
    )
    html = await extended.text()
    assert extended.history[0].status == 303
    assert extended.url.path_qs == "/web/console/ballots?done=extend&n=1"
    assert "✅ Đã gia hạn nội dung số 1; các đơn vị được báo." in html
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        first = (await uow.votes.ballots(bloc.id))[0]
    assert first.ballot.closes_at == datetime(2024, 11, 25, 3, 30, tzinfo=UTC)  # 10:30 Hà Nội
    notice = f"🗳 <b>{REPORT}</b> được gia hạn đến 10:30 25/11/2024."
    for user in (AN, BINH, CUONG, DUNG, GIANG):
        assert _sent(tg, since, user.id) == [notice], user.first_name
    extensions = [d for a, d in await audit_trail(services) if a == "ballot.extended"]
    assert [d["closes_at"] for d in extensions] == ["2024-11-25T03:30:00+00:00"]

    since = len(tg.bot.mock_session.requests)
    earlier = await client.post(
        "/web/console/ballots/1/extend",
        data={"csrf": csrf_of(html), "closes": "2024-11-25T09:30"},
    )
    page = await earlier.text()
    assert "Thời hạn «25/11/2024 09:30» đã qua hoặc không muộn hơn hạn hiện tại." in page
    async with services.db.uow() as uow:
        again = (await uow.votes.ballots(bloc.id))[0]
    assert again.ballot.closes_at == datetime(2024, 11, 25, 3, 30, tzinfo=UTC)
    assert _sent(tg, since, AN.id) == []
    assert len([a for a, _ in await audit_trail(services) if a == "ballot.extended"]) == 1


async def test_a_representative_is_refused_on_every_ballot_route(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg, checked_in=(AN, CUONG, DUNG))
    home = await sign_in(client, tg, AN)
    for path in (
        "/web/console/ballots",
        "/web/console/ballots/1/close",
        "/web/console/ballots/2/candidates",
    ):
        page = await client.get(path)
        assert page.status == 403, path
    for action in ("open", "close", "cancel", "secret", "candidates"):
        forged = await client.post(
            f"/web/console/ballots/1/{action}", data={"csrf": csrf_of(home), "reason": "x"}
        )
        assert forged.status == 403, action
    assert (await client.get("/web/console/ballots/1/record")).status == 403
    assert await statuses(services) == ["draft"] * 7


def _marked(text: str) -> str:
    """Markup around Vietnamese typed in decomposed letters (NFD)."""
    return unicodedata.normalize("NFD", f"<b>{text}</b><script>x()</script>")


def _sent(tg: Harness, since: int, chat_id: int) -> list[str]:
    return [
        r.text
        for r in tg.bot.mock_session.requests[since:]
        if isinstance(r, SendMessage) and int(r.chat_id) == chat_id
    ]


async def test_markup_and_decomposed_letters_are_stored_clean_and_shown_as_text(
    client: Client, tg: Harness, services: Services
) -> None:
    """The question's title, the written vote's choice and the cancel reason, typed with markup
    and decomposed letters: stored composed as the chat stores them, shown and sent as text."""
    await conference_setup(tg, checked_in=(AN, CUONG, DUNG), defaults=False)
    html = await _console(client, tg)
    escaped = "&lt;b&gt;Biểu dương Sở Y tế&lt;/b&gt;&lt;script&gt;x()&lt;/script&gt;"
    title = _marked("Biểu dương Sở Y tế")
    made = await client.post(
        "/web/console/ballots/new", data={"csrf": csrf_of(html), "title": f"  {title} "}
    )
    html = await made.text()
    assert made.status == 200, html
    assert "<script>x()</script>" not in html
    assert escaped in html
    await tg.say(SECRETARY, f"/ballot new {title}")  # the same title typed in chat
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        web, chat = await uow.votes.ballots(bloc.id)
    assert web.title == chat.title == "<b>Biểu dương Sở Y tế</b><script>x()</script>"
    assert web.title == unicodedata.normalize("NFC", web.title)

    # Opened: the representatives get the question as text, never as markup.
    since = len(tg.bot.mock_session.requests)
    opened = await client.post("/web/console/ballots/1/open", data={"csrf": csrf_of(html)})
    assert opened.status == 200
    ballot = [t for t in _sent(tg, since, AN.id) if "Biểu dương" in t]
    assert ballot
    assert all("<script>" not in t and escaped in t for t in ballot)

    # A written vote typed "phiếu trắng" in decomposed letters is a blank vote; markup as the
    # choice is refused, and what was typed is said back as text.
    html = await opened.text()
    refused = await client.post(
        "/web/console/ballots/1/written",
        data={"csrf": csrf_of(html), "unit": "SVHTTDL", "choice": _marked("một")},
    )
    page = await refused.text()
    assert refused.status == 400
    assert "<script>x()</script>" not in page
    assert "&lt;b&gt;một&lt;/b&gt;&lt;script&gt;x()&lt;/script&gt;" in page
    blank = unicodedata.normalize("NFD", "Phiếu trắng")
    written = await client.post(
        "/web/console/ballots/1/written",
        data={"csrf": csrf_of(html), "unit": "SVHTTDL", "choice": blank},
    )
    assert written.status == 200, await written.text()
    assert "1/4 đơn vị đã bỏ phiếu" in await written.text()

    # Cancelled with a reason: stored composed, shown and told as text.
    confirm = await (await client.get("/web/console/ballots/1/cancel")).text()
    assert "<script>x()</script>" not in confirm
    assert escaped in confirm
    since = len(tg.bot.mock_session.requests)
    reason = _marked("Khối không đủ điều kiện")
    cancelled = await client.post(
        "/web/console/ballots/1/cancel", data={"csrf": csrf_of(confirm), "reason": reason}
    )
    page = await cancelled.text()
    assert cancelled.status == 200, page
    assert "<script>x()</script>" not in page
    async with services.db.uow() as uow:
        first = (await uow.votes.ballots(bloc.id))[0]
    assert first.cancelled_reason == "<b>Khối không đủ điều kiện</b><script>x()</script>"
    told = [t for t in _sent(tg, since, AN.id) if "Khối không đủ" in t]
    assert told
    assert all(
        "<script>" not in t and "&lt;b&gt;Khối không đủ điều kiện&lt;/b&gt;" in t for t in told
    )


async def test_candidates_are_chosen_before_opening_and_fixed_after(
    client: Client, tg: Harness, services: Services
) -> None:
    """Issue 19: the secretariat ticks a ballot's candidate units before it opens; the ballot
    then puts only those to the representatives; once open, the candidates are fixed."""
    await conference_setup(tg, checked_in=(AN, CUONG, DUNG))
    html = await _console(client, tg)
    card = html[html.index('id="ballot-2"') :]
    assert 'href="/web/console/ballots/2/candidates"' in card[: card.index("</li>")]
    report = html[html.index('id="ballot-1"') :]
    assert "/candidates" not in report[: report.index("</li>")]  # agree/disagree: no units

    form = await (await client.get("/web/console/ballots/2/candidates")).text()
    assert form.count('type="checkbox"') == 4
    assert form.count(" checked>") == 4  # the default: every unit
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        units = {u.short_name: u.id for u in await uow.blocs.units(bloc.id)}
    chosen = [str(units["SVHTTDL"]), str(units["STTTT"])]
    before = len(await audit_trail(services))
    saved = await client.post(
        "/web/console/ballots/2/candidates", data={"csrf": csrf_of(form), "unit": chosen}
    )
    html = await saved.text()
    assert saved.url.path_qs == "/web/console/ballots?done=candidates&n=2"
    assert (
        "✅ Đã lưu 2 đơn vị ứng cử của nội dung số 2: Sở Văn hóa, Thể thao và Du lịch, "
        "Sở Thông tin và Truyền thông."
    ) in html
    async with services.db.uow() as uow:
        award = (await uow.votes.ballots(bloc.id))[1]
    assert [(o.index, o.unit_id) for o in award.ballot.options] == [
        (0, units["SVHTTDL"]),
        (1, units["STTTT"]),
    ]
    trail = await audit_trail(services)
    assert len(trail) == before + 1
    assert trail[-1] == (
        "ballot.candidates",
        {"ballot": award.ballot.id, "units": [units["SVHTTDL"], units["STTTT"]]},
    )
    form = await (await client.get("/web/console/ballots/2/candidates")).text()
    assert form.count(" checked>") == 2

    # Opened: the representatives' ballot lists only the two.
    opened = await client.post("/web/console/ballots/2/open", data={"csrf": csrf_of(html)})
    assert opened.status == 200, await opened.text()
    await sign_in(client, tg, AN)
    ballot = await (await client.get(f"/web/ballots/{award.ballot.id}")).text()
    assert "Sở Văn hóa, Thể thao và Du lịch" in ballot
    assert "Sở Thông tin và Truyền thông" in ballot
    assert "Sở Giáo dục và Đào tạo" not in ballot

    # Open now: the candidates page refuses, and a forged post changes nothing.
    await sign_in(client, tg, SECRETARY)
    refused = await (await client.get("/web/console/ballots/2/candidates")).text()
    assert "Nội dung số 2 đã được mở hoặc đã kết thúc." in refused
    assert 'type="checkbox"' not in refused
    before = len(await audit_trail(services))
    late = await client.post(
        "/web/console/ballots/2/candidates",
        data={"csrf": csrf_of(refused), "unit": [str(u) for u in units.values()]},
    )
    assert late.status == 400
    assert "Nội dung số 2 đã được mở hoặc đã kết thúc." in await late.text()
    async with services.db.uow() as uow:
        after = (await uow.votes.ballots(bloc.id))[1]
    assert [o.unit_id for o in after.ballot.options] == [units["SVHTTDL"], units["STTTT"]]
    assert len(await audit_trail(services)) == before


async def test_fewer_candidates_than_choices_are_refused(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg, checked_in=(AN, CUONG, DUNG))
    await sign_in(client, tg, SECRETARY)
    form = await (await client.get("/web/console/ballots/5/candidates")).text()
    assert "ít nhất 3" in form  # the chair's certificate: three may be chosen
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        units = [u.id for u in await uow.blocs.units(bloc.id)]
        options = (await uow.votes.ballots(bloc.id))[4].ballot.options
    for picked in ([str(units[0]), str(units[1])], []):
        refused = await client.post(
            "/web/console/ballots/5/candidates", data={"csrf": csrf_of(form), "unit": picked}
        )
        assert refused.status == 400
        said = f"Nội dung số 5 cần ít nhất 3 đơn vị ứng cử (đã chọn {len(picked)})."
        assert said in await refused.text()
    async with services.db.uow() as uow:
        assert (await uow.votes.ballots(bloc.id))[4].ballot.options == options
    assert all(a != "ballot.candidates" for a, _ in await audit_trail(services))
