"""A bloc with units on Telegram and on Zalo votes in one secret ballot: the tally is the one
an all-Telegram bloc gets for the same votes, and every unit finds its own receipt counted
(design decision 4 holds across platforms)."""

from __future__ import annotations

import re

import pytest

from bot.fakes.zalo import ZaloUser
from bot.services.app import Services
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import (
    AN,
    CONFERENCE,
    CUONG,
    DUNG,
    GIANG,
    NOBODY_ELECTED,
    VOTE_UNITS,
    audit_line,
    ballot_ids,
    cast,
    hall_code,
    join,
    receipt_of,
    result,
    secret_rows,
)
from tests.zalo.helpers import Typist, typist, zalo, zbot

__all__ = ["typist", "zalo", "zbot"]

HOA = ZaloUser("8812345678901234567", "Lê Thị Hoa")
RECEIPT = re.compile(r"Mã biên nhận: (\w{4}-\w{4}-\w{4})")
# The same votes in both runs: ballot 6 (leader, one choice), ballot 5 (up to three units).
LEADER_VOTES = {AN.id: 1, CUONG.id: 0, DUNG.id: 1}
CHAIR_VOTES = {AN.id: [1, 2], CUONG.id: [0, 2], DUNG.id: [0, 1]}
FOURTH_LEADER, FOURTH_CHAIR = 2, [0, 1, 2]  # Sở TT&TT: Telegram (Giang) or Zalo (Hoa)
# What the secretariat reads at the close, the same whichever platform Sở TT&TT voted on.
TALLY = [
    result(
        "Đề nghị tặng Bằng khen của Chủ tịch UBND tỉnh (tối đa 3 đơn vị)",
        (4, 4, 4, 0, 0),
        [
            ("Sở Y tế", 3, "75,0", True),
            ("Sở Giáo dục và Đào tạo", 3, "75,0", True),
            ("Sở Văn hóa, Thể thao và Du lịch", 3, "75,0", True),
            ("Sở Thông tin và Truyền thông", 0, "0,0", False),
        ],
        "Kết luận: đề nghị Sở Y tế, Sở Giáo dục và Đào tạo, Sở Văn hóa, Thể thao và Du lịch.",
    ),
    result(
        "Bầu Trưởng khối năm sau",
        (4, 4, 4, 0, 0),
        [
            ("Sở Y tế", 1, "25,0", False),
            ("Sở Giáo dục và Đào tạo", 2, "50,0", False),
            ("Sở Văn hóa, Thể thao và Du lịch", 1, "25,0", False),
            ("Sở Thông tin và Truyền thông", 0, "0,0", False),
        ],
        NOBODY_ELECTED,
        rule="ngưỡng &gt;50%",
    ),
]


@pytest.mark.parametrize("fourth", ["telegram", "zalo"])
async def test_a_mixed_bloc_counts_like_an_all_telegram_bloc(
    fourth: str, tg: Harness, services: Services, typist: Typist
) -> None:
    await tg.admin_setup(units=VOTE_UNITS)
    for user, unit in ((AN, "1"), (CUONG, "2"), (DUNG, "3")):
        await join(tg, user, unit)
    if fourth == "telegram":
        await join(tg, GIANG, "4")
    else:
        await typist.say(HOA, await tg.invite_code("4"))
    await tg.say(SECRETARY, CONFERENCE)
    code = await hall_code(services)
    for user in (AN, CUONG, DUNG):
        await tg.say(user, f"/checkin {code}")
    if fourth == "telegram":
        await tg.say(GIANG, f"/checkin {code}")
    else:
        await typist.say(HOA, f"diem danh {code}")
    await tg.say(SECRETARY, "/ballot defaults")
    await tg.say(SECRETARY, "/ballot open 5")
    await tg.say(SECRETARY, "/ballot open 6")
    ids = await ballot_ids(services)
    chair, leader = ids[4], ids[5]

    receipts: dict[str, list[str]] = {}
    for user in (AN, CUONG, DUNG):
        done = await cast(tg, user, leader, LEADER_VOTES[user.id])
        receipts.setdefault(user.first_name, []).append(receipt_of(done[0]))
        done = await cast(tg, user, chair, CHAIR_VOTES[user.id])
        receipts[user.first_name].append(receipt_of(done[0]))
    if fourth == "telegram":
        receipts["fourth"] = [
            receipt_of((await cast(tg, GIANG, leader, FOURTH_LEADER))[0]),
            receipt_of((await cast(tg, GIANG, chair, FOURTH_CHAIR))[0]),
        ]
    else:
        await typist.say(HOA, f"bo phieu 6 {FOURTH_LEADER + 1}")
        first = RECEIPT.search(await typist.say(HOA, "xác nhận"))
        await typist.say(HOA, "bo phieu 5 " + ", ".join(str(i + 1) for i in FOURTH_CHAIR))
        second = RECEIPT.search(await typist.say(HOA, "xác nhận"))
        assert first is not None
        assert second is not None
        receipts["fourth"] = [first.group(1), second.group(1)]
    assert (await secret_rows(services, leader)).box == 4

    results = []
    heads = []  # each result ends with the audit head right after its close
    for number in (5, 6):
        results += [r.text for r in await tg.say(SECRETARY, f"/ballot close {number}")]
        heads.append(await audit_line(services))
    for ballot in (leader, chair):
        rows = await secret_rows(services, ballot)
        assert (rows.box, rows.drafts, rows.counted) == (0, 0, 4)

    # Every unit checks its own receipts, on its own platform.
    for user in (AN, CUONG, DUNG):
        for code in receipts[user.first_name]:
            (found,) = await tg.say(user, f"/vote check {code}")
            assert found.text.startswith(f"✅ Phiếu có mã <code>{code}</code> đã được kiểm")
    for code in receipts["fourth"]:
        if fourth == "telegram":
            (found,) = await tg.say(GIANG, f"/vote check {code}")
            assert found.text.startswith(f"✅ Phiếu có mã <code>{code}</code> đã được kiểm")
        else:
            answer = await typist.say(HOA, f"kiem tra {code}")
            assert answer.startswith(f"✅ Phiếu có mã {code} đã được kiểm")
    assert results == [f"{tally}\n{head}" for tally, head in zip(TALLY, heads, strict=True)]
