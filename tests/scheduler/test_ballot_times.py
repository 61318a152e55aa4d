"""Ballots that open and close at their times: the tick opens a scheduled ballot only with
the quorum (else the secretariat is told, once, and it opens when the quorum arrives),
closes it at its closing time through the same count as /ballot close, and sends the result
to the secretariat and the group through the outbox."""

from __future__ import annotations

import pytest

from bot.core.voting import BallotStatus
from bot.fakes.clock import FakeClock
from bot.services.app import Services
from tests.handlers.conftest import GROUP, SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BINH,
    CUONG,
    DUNG,
    GIANG,
    REPORT,
    audit_line,
    audit_trail,
    ballot_ids,
    cast,
    conference_setup,
    hall_code,
    opened_notice,
    result,
)
from tests.scheduler.test_reminders import Recording, local, ticker

S, G = SECRETARY.id, GROUP.id
RULES = "Thông qua khi đạt &gt;50% tổng số đơn vị thành viên; biểu quyết công khai"


def buttons(sent: Recording, chat: int) -> list[list[tuple[str, str | None]]]:
    message = next(m for m in sent.sent if int(m.chat_id) == chat)
    return [[(b.text, b.callback_data) for b in row] for row in message.buttons]


def everything(sent: Recording) -> list[tuple[int, str]]:
    out = [(int(m.chat_id), m.text) for m in sent.sent]
    sent.sent.clear()
    return out


async def status(services: Services, ballot_id: int) -> BallotStatus:
    async with services.db.uow() as uow:
        info = await uow.votes.ballot(ballot_id)
    assert info is not None
    return info.ballot.status


async def test_a_scheduled_ballot_opens_on_time_and_closes_with_its_result(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await conference_setup(tg)
    await tg.say(SECRETARY, "/bloc link", chat=GROUP)
    b = (await ballot_ids(services))[0]
    clock.set(local(20, 7))
    replies = await tg.say(SECRETARY, "/ballot schedule 1; 20/12/2024 08:30; 20/12/2024 09:00")
    assert replies[-1].text == (
        f"⏰ {REPORT} sẽ tự mở lúc 08:30 thứ Sáu, 20/12/2024 nếu đủ số đơn vị có mặt (nếu "
        "chưa đủ, thường trực được báo và phiếu mở ngay khi đủ).\n"
        "Tự đóng và kiểm phiếu lúc 09:00 thứ Sáu, 20/12/2024; kết quả gửi thường trực và "
        "nhóm của khối."
    )
    listing = (await tg.say(SECRETARY, "/ballot"))[-1].text
    assert (
        f"1. {REPORT} — chưa mở, tự mở lúc 08:30 20/12/2024, tự đóng lúc 09:00 20/12/2024"
        in listing
    )

    sent = Recording()
    tick = ticker(services, sent)
    clock.set(local(20, 8, 29))
    await tick.tick()
    assert everything(sent) == []
    assert await status(services, b) is BallotStatus.DRAFT

    clock.set(local(20, 8, 30))
    await tick.tick()
    assert buttons(sent, AN.id) == [[("🗳 Biểu quyết", f"vt:{b}:show:0")]]
    out = everything(sent)
    notice = opened_notice(REPORT, RULES, "09:00 20/12/2024")
    assert sorted(chat for chat, text in out if text == notice) == sorted(
        u.id for u in (AN, BINH, CUONG, DUNG, GIANG)
    )
    assert (
        S,
        (
            f"⏰ Đúng giờ hẹn, đã mở nội dung số 1: <b>{REPORT}</b>\n"
            f"{RULES}; tự đóng và kiểm phiếu lúc 09:00 20/12/2024.\n"
            "Đã gửi phiếu đến đại diện của 4 đơn vị. Theo dõi: /ballot"
        ),
    ) in out
    assert (
        G,
        (
            f"🗳 Bắt đầu biểu quyết: <b>{REPORT}</b> ({RULES}). Đại diện các đơn vị biểu quyết "
            "trong tin nhắn riêng với bot."
        ),
    ) in out
    # … and, the ballot being an open deadline from 08:00, the secretariat's digest.
    assert len(out) == 8
    assert sum(text.startswith("📋") for _, text in out) == 1
    assert await status(services, b) is BallotStatus.OPEN

    for user in (AN, CUONG, DUNG):
        await cast(tg, user, b, 0)
    clock.set(local(20, 8, 59))
    await tick.tick()
    assert await status(services, b) is BallotStatus.OPEN
    everything(sent)  # the 10-minute reminder to Nhà văn hóa's unit

    clock.set(local(20, 9, 0))
    await tick.tick()
    text = result(
        REPORT,
        (4, 3, 3, 0, 0),
        [
            ("Đồng ý", 3, "75,0", True),
            ("Không đồng ý", 0, "0,0", False),
            ("Ý kiến khác", 0, "0,0", False),
        ],
        "Kết luận: thông qua.",
        await audit_line(services),
        rule="ngưỡng &gt;50%",
    )
    assert sorted(everything(sent)) == sorted([(S, text), (G, text)])
    assert await status(services, b) is BallotStatus.CLOSED
    closed = [(a, d["decided"]) for a, d in await audit_trail(services) if a == "ballot.closed"]
    assert len(closed) == 1

    await tick.tick()
    assert everything(sent) == []


async def test_without_the_quorum_the_secretariat_is_told_once_and_it_opens_when_it_arrives(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await conference_setup(tg, checked_in=(AN,))
    b = (await ballot_ids(services))[0]
    clock.set(local(20, 7))
    await tg.say(SECRETARY, "/ballot schedule 1; 20/12/2024 08:30; 20/12/2024 09:00")
    sent = Recording()
    tick = ticker(services, sent)
    clock.set(local(20, 8, 30))
    await tick.tick()
    assert everything(sent) == [
        (
            S,
            f"⏰ Đến giờ hẹn nhưng chưa mở được nội dung số 1: <b>{REPORT}</b>\n"
            "Chưa đủ đơn vị có mặt để biểu quyết: 1/4, còn thiếu 2 đơn vị điểm danh (/checkin).\n"
            "Bot sẽ tự mở ngay khi đủ điều kiện (trước 09:00 20/12/2024). Mở tay: /ballot open 1 "
            "· Bỏ hẹn giờ: /ballot schedule 1; tắt",
        )
    ]
    assert await status(services, b) is BallotStatus.DRAFT
    clock.set(local(20, 8, 31))
    await tick.tick()
    assert everything(sent) == []  # told once

    await tg.say(CUONG, f"/checkin {await hall_code(services)}")
    await tg.say(DUNG, f"/checkin {await hall_code(services)}")
    clock.set(local(20, 8, 40))
    await tick.tick()
    assert await status(services, b) is BallotStatus.OPEN
    out = everything(sent)
    # The voters, the secretariat told it opened, and its digest (an open ballot from 08:00).
    assert sorted(chat for chat, _ in out) == sorted(
        [AN.id, BINH.id, CUONG.id, DUNG.id, GIANG.id, S, S]
    )


async def test_a_ballot_never_quorate_is_unscheduled_at_its_closing_time(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await conference_setup(tg, checked_in=(AN,))
    b = (await ballot_ids(services))[0]
    clock.set(local(20, 7))
    await tg.say(SECRETARY, "/ballot schedule 1; 20/12/2024 08:30; 20/12/2024 09:00")
    sent = Recording()
    tick = ticker(services, sent)
    clock.set(local(20, 8, 30))
    await tick.tick()
    everything(sent)
    clock.set(local(20, 9, 0))
    await tick.tick()
    assert everything(sent) == [
        (
            S,
            f"⚠️ Nội dung số 1 (<b>{REPORT}</b>) đã đến giờ đóng mà chưa mở được, nên không "
            "còn hẹn giờ. Đặt lại: /ballot schedule 1; giờ mở; giờ đóng, hoặc mở tay: "
            "/ballot open 1; giờ đóng",
        )
    ]
    async with services.db.uow() as uow:
        info = await uow.votes.ballot(b)
    assert info is not None
    assert (info.ballot.status, info.ballot.opens_at, info.ballot.closes_at) == (
        BallotStatus.DRAFT,
        None,
        None,
    )
    clock.set(local(20, 9, 30))
    await tick.tick()
    assert everything(sent) == []


async def test_a_ballot_closed_by_hand_before_its_time_is_counted_once(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await conference_setup(tg)
    b = (await ballot_ids(services))[0]
    clock.set(local(20, 8))
    await tg.say(SECRETARY, "/ballot open 1; 20/12/2024 09:00")
    await cast(tg, AN, b, 0)
    await tg.say(SECRETARY, "/ballot close 1")
    sent = Recording()
    clock.set(local(20, 9, 5))
    await ticker(services, sent).tick()
    assert [chat for chat, _ in everything(sent)] == []
    closed = [a for a, _ in await audit_trail(services) if a == "ballot.closed"]
    assert closed == ["ballot.closed"]


async def test_scheduling_refuses_what_cannot_work_and_can_be_cleared(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await conference_setup(tg)
    clock.set(local(20, 8))

    async def say(text: str) -> str:
        return (await tg.say(SECRETARY, text))[-1].text

    assert await say("/ballot schedule 1; 20/12/2024 07:00") == (
        "Thời hạn «20/12/2024 07:00» đã qua hoặc không muộn hơn hạn hiện tại."
    )
    assert await say("/ballot schedule 1; mai nhé") == await say("/ballot open 1; mai nhé")
    assert await say("/ballot schedule 1; 20/12/2024 09:00; 20/12/2024 08:59") == (
        "Giờ đóng «20/12/2024 08:59» phải sau giờ mở."
    )
    assert (await say("/ballot schedule 9; 20/12/2024 09:00")).startswith("Không có")
    assert (await say("/ballot schedule 1; 20/12/2024 09:00")).startswith("⏰")
    assert await say("/ballot schedule 1; tắt") == (
        f"Đã bỏ hẹn giờ của {REPORT}: mở bằng /ballot open 1."
    )
    sent = Recording()
    clock.set(local(20, 9, 1))
    await ticker(services, sent).tick()
    assert await status(services, (await ballot_ids(services))[0]) is BallotStatus.DRAFT
    await tg.say(SECRETARY, "/ballot open 1")
    assert (await say("/ballot schedule 1; 20/12/2024 10:00")).startswith("Nội dung số 1"), (
        "an open ballot cannot be scheduled"
    )
    # Only the secretariat schedules.
    assert (await tg.say(AN, "/ballot schedule 2; 20/12/2024 10:00"))[-1].text == (
        "Chỉ thường trực khối mới dùng được lệnh này."
    )


async def test_a_scheduled_ballot_opened_by_hand_is_left_alone(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await conference_setup(tg)
    b = (await ballot_ids(services))[0]
    clock.set(local(20, 7))
    await tg.say(SECRETARY, "/ballot schedule 1; 20/12/2024 08:30; 20/12/2024 09:00")
    clock.set(local(20, 8, 10))
    await tg.say(SECRETARY, "/ballot open 1")  # earlier than planned; it keeps its closing time
    sent = Recording()
    tick = ticker(services, sent)
    clock.set(local(20, 8, 30))
    await tick.tick()
    assert [text for _, text in everything(sent) if not text.startswith("📋")] == []
    clock.set(local(20, 9, 0))
    await tick.tick()
    assert await status(services, b) is BallotStatus.CLOSED
    assert [chat for chat, _ in everything(sent)] == [S]


async def test_one_failing_step_does_not_stop_sending(
    tg: Harness, services: Services, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await conference_setup(tg)
    clock.set(local(20, 8))
    await tg.say(SECRETARY, "/ballot open 1; 20/12/2024 09:00")

    async def broken(*_: object) -> None:
        raise RuntimeError("a bug in one step")

    monkeypatch.setattr("scheduler.tick.run_ballot_times", broken)
    sent = Recording()
    clock.set(local(20, 8, 50))  # the 10-minute reminder is due
    report = await ticker(services, sent).tick()
    assert report.ballots is None
    assert sorted(chat for chat, _ in everything(sent) if chat != S) == sorted(
        u.id for u in (AN, BINH, CUONG, DUNG, GIANG)
    )
