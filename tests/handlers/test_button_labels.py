"""Button labels are plain text (Telegram never parses them): a unit or ballot name with
`&`, `<` or `>` reads exactly as typed on every keyboard, and is cut by its own length."""

from __future__ import annotations

from bot.services.app import Services
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import (
    AN,
    CUONG,
    ballot_ids,
    conference_setup,
)

HOSTILE_UNITS = [
    ("Sở Y tế", "SYT"),
    ("Sở Văn hóa, Thể thao & Du lịch", "SVHTTDL"),
    ("Sở <b>Nội vụ</b>", "SNV"),
    # 59 characters as typed, 69 once HTML-escaped: it fits a 60-character label whole.
    ("Trung tâm Xúc tiến Đầu tư, Thương mại & Du lịch <Điện Biên>", "TTXT"),
]
SVH, SNV, TTXT = (name for name, _ in HOSTILE_UNITS[1:])


async def test_unit_names_read_as_typed_on_a_secret_award_ballot(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg, units=HOSTILE_UNITS)
    ids = await ballot_ids(services)
    gov, chair = ids[1], ids[4]
    await tg.say(SECRETARY, "/ballot open 2")
    shown = await tg.tap(AN, f"vt:{gov}:show:0")
    assert shown[0].buttons == [[SVH], [SNV], [TTXT], ["Phiếu trắng"]]

    # The multi-choice ballot: ticks and the review button beside the same plain names.
    await tg.say(SECRETARY, "/ballot close 2")
    for number in (3, 4):  # the higher tiers are decided first (nobody proposed)
        await tg.say(SECRETARY, f"/ballot open {number}")
        await tg.say(SECRETARY, f"/ballot close {number}")
    await tg.say(SECRETARY, "/ballot open 5")
    await tg.tap(CUONG, f"vt:{chair}:show:0")
    ticked = await tg.tap(CUONG, f"vt:{chair}:tog:2")
    assert ticked[0].buttons == [
        ["Sở Y tế"],
        [f"✅ {SNV}"],
        [TTXT],
        ["Phiếu trắng"],
        ["Xác nhận (1/3)"],
    ]


async def test_ballot_titles_read_as_typed_in_the_vote_list(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg, units=HOSTILE_UNITS)
    await tg.say(SECRETARY, "/ballot new Thông qua quy chế <sửa đổi> & bổ sung")
    await tg.say(SECRETARY, "/ballot open 8")
    listed = await tg.say(AN, "/vote")
    assert listed[0].buttons == [["🗳 8. Thông qua quy chế <sửa đổi> & bổ sung"]]
    assert listed[0].callback_data == [[f"vt:{(await ballot_ids(services))[7]}:show:0"]]
