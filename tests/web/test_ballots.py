"""The Ballots pages: the open ballots, a ballot's form (radio buttons, or checkboxes with the
quota counter), the confirm step and the cast — the same rules, refusals, audit and notices
as chat; a secret ballot's receipt shown once and kept nowhere (not even in a log line)."""

from __future__ import annotations

import logging
import re
from html import unescape

import pytest
from aiogram.methods import SendMessage

from bot.services.app import Services
from tests.handlers.conftest import SECRETARY, Harness, Reply, person
from tests.handlers.support import (
    ALREADY,
    AN,
    BINH,
    CHAIR,
    CHAIR_RULES,
    OPEN_RULES,
    REPORT,
    SGD,
    STT,
    SVH,
    SYT,
    VOTE_UNITS,
    SecretRows,
    StoredVote,
    ballot_ids,
    cast,
    conference_setup,
    done_text,
    identity,
    join,
    open_votes,
    secret_rows,
)
from tests.web.support import Client, csrf_of, page_text, redirected, sign_in

OUTSIDER = person(2301, "Mai", "Văn Ngoài")  # represents a unit of another bloc
_HELD = re.compile(r'name="held" value="([^"]*)"')
_RECEIPT = re.compile(r'<div class="receipt">([^<]*)</div>')
SELF_VOTE = "Theo quy chế, không được chọn chính đơn vị mình."
NOT_ELIGIBLE = "Đơn vị của bạn không có quyền biểu quyết nội dung này."
CLOSED = "Đã hết thời gian biểu quyết nội dung này."
SELECTION_CHANGED = (
    "Lựa chọn đã thay đổi sau khi hiển thị để xác nhận. Hãy xem lại và bấm «Xác nhận» một lần nữa."
)


def sent_since(tg: Harness, start: int) -> list[Reply]:
    """What the bot sent (the outbox's notices) since `start` requests."""
    return Harness._replies(
        [m for m in tg.bot.mock_session.requests[start:] if isinstance(m, SendMessage)]
    )


def held_of(html: str) -> str:
    found = _HELD.search(html)
    assert found is not None, "no confirm form on the page"
    return unescape(found.group(1))  # as a browser posts it back


async def page(client: Client, path: str) -> tuple[int, str]:
    response = await client.get(path)
    return response.status, await response.text()


async def post(
    client: Client, path: str, fields: list[tuple[str, str]], *, csrf: bool = True
) -> tuple[int, str]:
    """A form of ours posted (its CSRF token read from the ballots page)."""
    if csrf:
        token = csrf_of(await (await client.get("/web/ballots")).text())
        fields = [("csrf", token), *fields]
    response = await client.post(path, data=fields)
    return response.status, await response.text()


async def confirm(client: Client, ballot: int, fields: list[tuple[str, str]]) -> str:
    """The confirm page of a choice; its held choice."""
    status, html = await post(client, f"/web/ballots/{ballot}/preview", fields)
    assert status == 200, html
    return held_of(html)


# --- an open ballot ---------------------------------------------------------------------------


async def test_open_single_choice_vote_then_recast_and_the_colleague_is_told(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    b = (await ballot_ids(services))[0]
    await tg.say(SECRETARY, "/ballot open 1")
    await sign_in(client, tg, AN)

    status, html = await page(client, "/web/ballots")
    assert status == 200
    assert f"1. {REPORT}" in html
    assert "⏳ Đơn vị chưa biểu quyết · 0/4 đơn vị đã biểu quyết" in html
    assert f'href="/web/ballots/{b}"' in html

    status, html = await page(client, f"/web/ballots/{b}")
    assert status == 200
    assert f"{OPEN_RULES}." in html
    assert html.count('type="radio" name="choice"') == 3  # Đồng ý, Không đồng ý, Ý kiến khác
    assert '<textarea id="other" name="other">' in html
    assert 'name="blank" value="1">Phiếu trắng</button>' in html
    assert "data-quota" not in html
    assert 'type="search"' not in html  # a short list

    # Agree: the confirm page shows the choice; nothing is recorded before the confirm.
    status, html = await post(client, f"/web/ballots/{b}/preview", [("choice", "0")])
    assert status == 200
    assert "Lựa chọn của đơn vị: <b>Đồng ý</b>" in html
    assert f'href="/web/ballots/{b}">↩ Chọn lại</a>' in html
    assert await open_votes(services, b) == []
    start = len(tg.bot.mock_session.requests)
    held = held_of(html)
    landing = await redirected(
        client, f"/web/ballots/{b}/cast", {"csrf": csrf_of(html), "held": held}
    )
    assert landing == f"/web/ballots/{b}?done=cast"
    assert done_text(SYT, "Đồng ý", REPORT, 1) in await page_text(client, landing)
    told = [(r.chat_id, r.text) for r in sent_since(tg, start)]
    assert told == [(BINH.id, f"🗳 Trần Văn An đã biểu quyết cho <b>{SYT}</b> — {REPORT}: Đồng ý.")]
    an = await identity(services, AN)
    assert await open_votes(services, b) == [StoredVote("SYT", [0], False, "", False, an.id)]
    # A reload: the unit's vote as stored, said again; nothing cast, Bình not told again.
    assert done_text(SYT, "Đồng ý", REPORT, 1) in await page_text(client, landing)
    assert [(r.chat_id, r.text) for r in sent_since(tg, start)] == told
    assert await open_votes(services, b) == [StoredVote("SYT", [0], False, "", False, an.id)]

    # The ballot shows the unit's choice (checked) and may be cast again.
    status, html = await page(client, f"/web/ballots/{b}")
    assert "Đơn vị đã biểu quyết: <strong>Đồng ý</strong>. Có thể chọn lại đến khi đóng." in html
    assert 'value="0" data-candidate checked>' in html
    status, html = await page(client, "/web/ballots")
    assert "✅ Đơn vị đã biểu quyết (có thể chọn lại đến khi đóng) · 1/4" in html

    # Re-cast with another opinion, its text shown literally; Bình is told.
    opinion = "Bổ sung <b>số liệu</b> & y tế"
    held = await confirm(client, b, [("choice", "2"), ("other", opinion)])
    start = len(tg.bot.mock_session.requests)
    token = csrf_of(await page_text(client, "/web/ballots"))
    landing = await redirected(client, f"/web/ballots/{b}/cast", {"csrf": token, "held": held})
    assert landing == f"/web/ballots/{b}?done=recast"
    html = await page_text(client, landing)
    assert done_text(SYT, "Ý kiến khác", REPORT, 1, replaced=True) in html, html
    assert [(r.chat_id, r.text) for r in sent_since(tg, start)] == [
        (BINH.id, f"🗳 Trần Văn An đã biểu quyết lại cho <b>{SYT}</b> — {REPORT}: Ý kiến khác.")
    ]
    assert await open_votes(services, b) == [StoredVote("SYT", [2], False, opinion, False, an.id)]
    status, html = await page(client, f"/web/ballots/{b}")
    assert "«Bổ sung &lt;b&gt;số liệu&lt;/b&gt; &amp; y tế»" in html
    assert "<b>số liệu</b>" not in html


async def test_an_opinion_typed_for_another_choice_is_not_kept(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    b = (await ballot_ids(services))[0]
    await tg.say(SECRETARY, "/ballot open 1")
    await sign_in(client, tg, AN)
    status, html = await post(
        client, f"/web/ballots/{b}/preview", [("choice", "1"), ("other", "bỏ dở")]
    )
    assert status == 200
    assert "Lựa chọn của đơn vị: <b>Không đồng ý</b>" in html
    assert "bỏ dở" not in html
    await post(client, f"/web/ballots/{b}/cast", [("held", held_of(html))])
    an = await identity(services, AN)
    assert await open_votes(services, b) == [StoredVote("SYT", [1], False, "", False, an.id)]


# --- a secret multi-choice ballot ------------------------------------------------------------


async def test_secret_multi_choice_ballot_shows_the_receipt_once_and_keeps_nothing(
    client: Client, tg: Harness, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await conference_setup(tg)
    chair = (await ballot_ids(services))[4]
    await tg.say(SECRETARY, "/ballot open 5")
    # Bình starts in chat: the unit's selection is shared with the page.
    await tg.tap(BINH, f"vt:{chair}:tog:2")
    await sign_in(client, tg, AN)

    status, html = await page(client, f"/web/ballots/{chair}")
    assert status == 200
    assert f"{CHAIR_RULES}." in html
    assert '<fieldset class="stack" data-quota="3">' in html
    assert 'data-counter data-template="{n} / {max} đã chọn"' in html
    assert ">1 / 3 đã chọn</p>" in html
    assert html.count('type="checkbox" name="choice"') == 4
    assert html.count("data-candidate") == 3
    # Its own unit: shown, disabled, with the reason.
    assert 'value="0" disabled>' in html
    assert f'<span>{SYT} <small class="hint">— {SELF_VOTE}</small></span>' in html
    assert 'value="2" data-candidate checked>' in html
    assert 'value="3" data-candidate>' in html

    # Too many, and one's own unit: refused on the form, as chosen, nothing kept.
    status, html = await post(
        client, f"/web/ballots/{chair}/preview", [("choice", i) for i in "0123"]
    )
    assert status == 400
    assert "Chọn quá số lượng cho phép (tối đa 3)" in html
    assert 'value="1" data-candidate checked>' in html
    status, html = await post(client, f"/web/ballots/{chair}/preview", [("choice", "0")])
    assert status == 400
    assert SELF_VOTE in html

    # Two of three: the confirm, then the cast with its receipt, once.
    status, html = await post(
        client, f"/web/ballots/{chair}/preview", [("choice", "2"), ("choice", "3")]
    )
    assert status == 200
    assert f"Lựa chọn của đơn vị: <b>{SVH}, {STT}</b>" in html
    assert "Sau khi xác nhận không thể thay đổi." in html
    held = held_of(html)
    assert held.startswith("s:")
    start = len(tg.bot.mock_session.requests)
    status, html = await post(client, f"/web/ballots/{chair}/cast", [("held", held)])
    assert status == 200
    receipts = _RECEIPT.findall(html)
    assert len(receipts) == 1
    receipt = receipts[0]
    assert re.fullmatch(r"\w{4}-\w{4}-\w{4}", receipt)
    assert html.count(receipt) == 1
    assert f"✅ Phiếu kín của {SYT} đã được bỏ vào hòm phiếu." in html
    assert "hệ thống không lưu mã và sẽ không hiển thị lại" in html
    assert f"{CHAIR}: 1/4 đơn vị đã bỏ phiếu." in html
    assert SVH not in html
    assert STT not in html
    assert [(r.chat_id, r.text) for r in sent_since(tg, start)] == [
        (BINH.id, f"🗳 Trần Văn An đã bỏ phiếu kín cho <b>{SYT}</b> — {CHAIR}.")
    ]
    an = await identity(services, AN)
    assert await secret_rows(services, chair) == SecretRows([("SYT", an.id)], 1, 0, 0)

    # Afterwards: voted, sealed; no receipt, no choice, no form.
    status, html = await page(client, "/web/ballots")
    assert "✅ Đơn vị đã bỏ phiếu · 1/4 đơn vị đã bỏ phiếu" in html
    assert receipt not in html
    assert all(name not in html for name in (SGD, SVH, STT))
    status, html = await page(client, f"/web/ballots/{chair}")
    assert "Đơn vị đã bỏ phiếu kín. Phiếu không thể thay đổi" in html
    assert receipt not in html
    assert '<form method="post" action="/web/ballots' not in html
    assert "checked" not in html

    # The cast form submitted again: already voted; nothing more stored.
    status, html = await post(client, f"/web/ballots/{chair}/cast", [("held", held)])
    assert status == 400
    assert ALREADY in html
    assert receipt not in html
    assert await secret_rows(services, chair) == SecretRows([("SYT", an.id)], 1, 0, 0)

    # No log line (the access log included) carries the receipt or the held choice.
    assert any(r.name == "aiohttp.access" for r in caplog.records)
    assert all(receipt not in r.getMessage() for r in caplog.records)
    assert all(held[2:20] not in r.getMessage() for r in caplog.records)


# --- refusals --------------------------------------------------------------------------------


async def test_another_bloc_s_ballot_is_refused_everywhere(
    client: Client, tg: Harness, services: Services
) -> None:
    await tg.say(SECRETARY, "/bloc new Cụm thi đua các huyện; Cụm; 2024; CTĐH")
    await tg.say(SECRETARY, "/units add Ủy ban nhân dân huyện Đông Anh; UBNDĐA")
    await join(tg, OUTSIDER, "1")
    await conference_setup(tg)
    report, leader = (await ballot_ids(services))[0], (await ballot_ids(services))[5]
    await tg.say(SECRETARY, "/ballot open 1")
    await tg.say(SECRETARY, "/ballot open 6")
    await sign_in(client, tg, OUTSIDER)

    status, html = await page(client, "/web/ballots")
    assert status == 200
    assert REPORT not in html
    for b in (report, leader):
        status, html = await page(client, f"/web/ballots/{b}")
        assert (status, NOT_ELIGIBLE in html) == (403, True)
        assert 'name="choice"' not in html
        status, html = await post(client, f"/web/ballots/{b}/preview", [("choice", "1")])
        assert (status, NOT_ELIGIBLE in html) == (403, True)
    forged = 'o:{"o": [0], "b": false, "t": ""}'
    status, html = await post(client, f"/web/ballots/{report}/cast", [("held", forged)])
    assert (status, NOT_ELIGIBLE in html) == (403, True)
    assert await open_votes(services, report) == []
    assert await secret_rows(services, leader) == SecretRows([], 0, 0, 0)
    status, html = await page(client, "/web/ballots/999999")
    assert status == 404


async def test_a_closed_ballot_is_refused_even_from_an_earlier_confirm_page(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    b = (await ballot_ids(services))[0]
    await tg.say(SECRETARY, "/ballot open 1")
    await sign_in(client, tg, AN)
    held = await confirm(client, b, [("choice", "0")])
    await tg.say(SECRETARY, "/ballot close 1")

    status, html = await post(client, f"/web/ballots/{b}/cast", [("held", held)])
    assert (status, CLOSED in html) == (400, True)
    assert await open_votes(services, b) == []
    status, html = await page(client, f"/web/ballots/{b}")
    assert (status, CLOSED in html) == (200, True)
    assert 'name="choice"' not in html
    status, html = await post(client, f"/web/ballots/{b}/preview", [("choice", "0")])
    assert (status, CLOSED in html) == (400, True)
    status, html = await page(client, "/web/ballots")
    assert REPORT not in html
    assert "Hiện không có nội dung nào đang biểu quyết." in html


async def test_forged_choices_and_a_missing_csrf_token_cast_nothing(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    report, leader = (await ballot_ids(services))[0], (await ballot_ids(services))[5]
    await tg.say(SECRETARY, "/ballot open 1")
    await tg.say(SECRETARY, "/ballot open 6")
    await sign_in(client, tg, AN)

    # An index that is no number, or no option of the ballot: the form again, with why.
    status, html = await post(client, f"/web/ballots/{report}/preview", [("choice", "x")])
    assert (status, "Lựa chọn này không có trong phiếu." in html) == (400, True)
    assert 'type="radio" name="choice"' in html
    status, html = await post(client, f"/web/ballots/{report}/preview", [("choice", "9")])
    assert (status, "Lựa chọn này không có trong phiếu." in html) == (400, True)
    status, html = await post(client, f"/web/ballots/{report}/preview", [])
    assert (status, "Chưa chọn lựa chọn nào." in html) == (400, True)
    status, html = await post(
        client, f"/web/ballots/{report}/preview", [("choice", "0"), ("choice", "1")]
    )
    assert (status, "Chọn quá số lượng cho phép (tối đa 1)" in html) == (400, True)

    # A held choice that was not made here: refused as a changed selection.
    for b, forged in (
        (leader, "s:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        (report, "o:{"),
        (leader, ""),
    ):
        status, html = await post(client, f"/web/ballots/{b}/cast", [("held", forged)])
        assert (status, SELECTION_CHANGED in html) == (400, True)

    # Without the CSRF token: 403, nothing cast.
    held = await confirm(client, report, [("choice", "0")])
    status, html = await post(client, f"/web/ballots/{report}/cast", [("held", held)], csrf=False)
    assert status == 403
    held = await confirm(client, leader, [("choice", "1")])
    status, html = await post(client, f"/web/ballots/{leader}/cast", [("held", held)], csrf=False)
    assert status == 403
    assert 'class="receipt"' not in html
    assert await open_votes(services, report) == []
    assert await secret_rows(services, leader) == SecretRows([], 0, 0, 0)


async def test_a_long_list_has_a_search_box_and_names_are_shown_literally(
    client: Client, tg: Harness, services: Services
) -> None:
    marked = "<script>alert(1)</script> Sở & <b>TT</b>"
    more = [("Sở Tài chính", "STC"), (marked, "SMK")]  # six candidates: a long list
    await conference_setup(tg, units=[*VOTE_UNITS, *more])
    chair = (await ballot_ids(services))[4]
    await tg.say(SECRETARY, "/ballot open 5")
    await sign_in(client, tg, AN)
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; Sở &amp; &lt;b&gt;TT&lt;/b&gt;"

    status, html = await page(client, f"/web/ballots/{chair}")
    assert status == 200
    assert '<label for="filter">' in html
    assert '<input type="search" id="filter" data-filter=".option"' in html
    assert html.count('<label class="option') == 6
    assert f"<span>{escaped}</span>" in html
    assert "<script>alert" not in html
    status, html = await post(client, f"/web/ballots/{chair}/preview", [("choice", "5")])
    assert status == 200
    assert f"<b>{escaped}</b>" in html
    assert "<script>alert" not in html
    status, html = await post(client, f"/web/ballots/{chair}/cast", [("held", held_of(html))])
    assert status == 200
    assert "<script>alert" not in html


async def test_an_observer_sees_the_turnout_only_and_cannot_vote(
    client: Client, tg: Harness, services: Services
) -> None:
    watcher = person(2401, "Ngô", "Thị Xem")
    await conference_setup(tg)
    await join(tg, watcher, "observer")
    b = (await ballot_ids(services))[0]
    await tg.say(SECRETARY, "/ballot open 1")
    await cast(tg, AN, b, 0)
    await sign_in(client, tg, watcher)

    status, html = await page(client, "/web/ballots")
    assert status == 200
    assert "Thành viên theo dõi không tham gia biểu quyết." in html
    assert f"1. {REPORT}" in html
    assert "1/4 đơn vị đã biểu quyết" in html
    assert "Đồng ý" not in html  # turnout, never a partial result
    assert f'href="/web/ballots/{b}"' not in html
    status, html = await page(client, f"/web/ballots/{b}")
    assert "Thành viên theo dõi không tham gia biểu quyết." in html
    assert 'name="choice"' not in html
    status, html = await post(client, f"/web/ballots/{b}/preview", [("choice", "1")])
    assert status == 400
    an = await identity(services, AN)
    assert await open_votes(services, b) == [StoredVote("SYT", [0], False, "", False, an.id)]


async def test_the_pages_in_english(client: Client, tg: Harness, services: Services) -> None:
    await conference_setup(tg)
    chair = (await ballot_ids(services))[4]
    await tg.say(SECRETARY, "/ballot open 5")
    await sign_in(client, tg, AN)
    status, _ = await post(client, "/web/lang", [("lang", "en"), ("back", "/ballots")])
    assert status == 200
    status, html = await page(client, "/web/ballots")
    assert (
        status,
        "⏳ Your unit has not voted yet · 0/4 units have cast their ballot" in html,
    ) == (200, True)
    status, html = await page(client, f"/web/ballots/{chair}")
    assert (status, 'data-template="{n} / {max} chosen"' in html) == (200, True)
    assert "Choose up to 3 units" in html
    held = await confirm(client, chair, [("choice", "1")])
    status, html = await post(client, f"/web/ballots/{chair}/cast", [("held", held)])
    assert (status, f"✅ The secret ballot of {SYT} is in the box." in html) == (200, True)
    assert "Save this code now" in html
    status, html = await page(client, "/web/receipt")
    assert (status, "Check a secret ballot receipt" in html) == (200, True)
