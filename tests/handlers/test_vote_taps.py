"""Taps on a ballot's buttons after the close say so in the message itself (not in a toast
the user may miss), and an identical re-cast says that nothing changed."""

from __future__ import annotations

from bot.services.app import Services
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BINH,
    REPORT,
    SYT,
    StoredVote,
    audit_trail,
    ballot_ids,
    cast,
    conference_setup,
    done_text,
    identity,
    open_votes,
    plain,
)

CLOSED = "Đã hết thời gian biểu quyết nội dung này."
CANCELLED = "Nội dung này đã bị hủy."


async def test_buttons_of_a_closed_ballot_say_it_is_closed_in_the_message(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    b = (await ballot_ids(services))[0]
    await tg.say(SECRETARY, "/ballot open 1")
    await tg.tap(AN, f"vt:{b}:show:0")
    await tg.say(SECRETARY, "/ballot close 1")

    # Every button of the old ballot (and of the "ballot opened" notice) answers in place:
    # the message now says the ballot is closed and carries no buttons.
    for data in (f"vt:{b}:show:0", f"vt:{b}:pick:0", f"vt:{b}:blank:-1", f"vt:{b}:back:0"):
        assert plain(await tg.tap(AN, data)) == [(AN.id, CLOSED)], data
    assert plain(await tg.tap(AN, f"vt:{b}:ok:0")) == [(AN.id, CLOSED)]
    assert tg.alerts == []
    assert await open_votes(services, b) == []


async def test_buttons_of_a_cancelled_ballot_say_so_in_the_message(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    b = (await ballot_ids(services))[0]
    await tg.say(SECRETARY, "/ballot open 1")
    await tg.say(SECRETARY, "/ballot cancel 1; Dự thảo còn thiếu số liệu")
    assert plain(await tg.tap(AN, f"vt:{b}:show:0")) == [(AN.id, CANCELLED)]
    assert plain(await tg.tap(AN, f"vt:{b}:pick:1")) == [(AN.id, CANCELLED)]
    assert tg.alerts == []


async def test_an_identical_recast_changes_nothing_and_tells_nobody(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    b = (await ballot_ids(services))[0]
    await tg.say(SECRETARY, "/ballot open 1")
    first = await cast(tg, AN, b, 0)
    assert plain(first) == [
        (AN.id, done_text(SYT, "Đồng ý", REPORT, 1)),
        (BINH.id, f"🗳 Trần Văn An đã biểu quyết cho <b>{SYT}</b> — {REPORT}: Đồng ý."),
    ]
    unchanged = (
        f"ℹ️ Không có gì thay đổi: biểu quyết của <b>{SYT}</b> vẫn là: Đồng ý.\n"
        f"{REPORT}: 1/4 đơn vị đã biểu quyết."
    )
    # A double tap on «Xác nhận»: the same choice again, said to be unchanged.
    assert plain(await tg.tap(AN, f"vt:{b}:ok:0")) == [(AN.id, unchanged)]
    # The unit's other representative casting the same choice: unchanged too, An not told.
    assert plain(await cast(tg, BINH, b, 0)) == [(BINH.id, unchanged)]

    an = await identity(services, AN)
    assert await open_votes(services, b) == [StoredVote("SYT", [0], False, "", False, an.id)]
    votes = [(a, d) for a, d in await audit_trail(services) if a.startswith("vote.")]
    assert votes == [("vote.cast", {"ballot": b, "choice": [0], "blank": False})]

    # A different choice is still a re-cast, recorded and told.
    changed = await cast(tg, BINH, b, None)
    assert plain(changed) == [
        (BINH.id, done_text(SYT, "phiếu trắng", REPORT, 1, replaced=True)),
        (AN.id, f"🗳 Lê Thị Bình đã biểu quyết lại cho <b>{SYT}</b> — {REPORT}."),
    ]
