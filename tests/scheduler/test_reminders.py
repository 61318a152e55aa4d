"""Reminders on the fake clock: each offset reaches exactly the units that have not acted,
a unit that acts gets no more, quiet hours shift them, and restarts lose nothing and send
nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.models import Platform
from bot.core.ports import OutgoingMessage, SendResult, SendStatus
from bot.fakes.clock import FakeClock
from bot.services.app import Services
from scheduler.sender import Sender
from scheduler.tick import Ticker
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BINH,
    CUONG,
    DUNG,
    GIANG,
    TABLE_EXAMPLE,
    ballot_ids,
    cast,
    conference_setup,
    join,
    report_setup,
    submitted,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 12, day, hour, minute, tzinfo=TZ).astimezone(UTC)


class Recording:
    """A transport that delivers everything and remembers it."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    async def transmit(self, message: OutgoingMessage) -> SendResult:
        self.sent.append(message)
        return SendResult(SendStatus.SENT)

    def take(self, *, secretariat: bool = False) -> list[tuple[int, str]]:
        """What was sent since the last take: to representatives (reminders), or to the
        secretariat (digests) when asked."""
        out = [
            (int(m.chat_id), m.text)
            for m in self.sent
            if (int(m.chat_id) == SECRETARY.id) is secretariat
        ]
        self.sent.clear()
        return sorted(out)


class NoLimit:
    async def acquire(self, chat: str, *, group: bool) -> None:
        del chat, group

    async def pause(self, seconds: float) -> None:
        del seconds


def ticker(services: Services, transport: Recording | None) -> Ticker:
    sender = (
        Sender(services.db, transport, NoLimit(), services.clock, services.renderer)
        if transport is not None
        else None
    )
    return Ticker(services, sender)


def report_reminder(days: int, hours: int, unit: str) -> str:
    left = f"{days} ngày" + (f" {hours} giờ" if hours else "") if days else f"{hours} giờ"
    return (
        f"⏰ <b>Nhắc hạn</b> — {unit}\n"
        "Báo cáo «Báo cáo tổng kết năm 2024»: đơn vị chưa nộp.\n"
        f"Hạn chót: 17:00 Chủ nhật, 15/12/2024 (còn {left})."
    )


SYT, SGD = "Sở Y tế", "Sở Giáo dục và Đào tạo"


async def test_each_offset_reaches_the_units_that_have_not_submitted(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg)  # deadline 17:00 15/12/2024; An, Bình: SYT; Cường: SGD
    sent = Recording()
    tick = ticker(services, sent)

    clock.set(local(8, 16, 59))
    await tick.tick()
    assert sent.take() == []

    clock.set(local(8, 17))  # 7 days before
    await tick.tick()
    week = [
        (AN.id, report_reminder(7, 0, SYT)),
        (BINH.id, report_reminder(7, 0, SYT)),
        (CUONG.id, report_reminder(7, 0, SGD)),
    ]
    assert sent.take() == week
    await tick.tick()  # planned once: the next tick sends nothing again
    assert sent.take() == []

    # Sở Y tế submits between two offsets: from then on only Sở GD&ĐT is reminded.
    clock.set(local(10, 9))
    await submitted(services, AN)
    clock.set(local(12, 17))
    await tick.tick()
    assert sent.take() == [(CUONG.id, report_reminder(3, 0, SGD))]
    clock.set(local(15, 15))
    await tick.tick()
    assert sent.take() == [(CUONG.id, report_reminder(0, 2, SGD))]
    clock.set(local(15, 17))  # the deadline: no more reminders
    await tick.tick()
    assert sent.take() == []


async def test_the_time_left_is_said_as_people_would(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    # The tick runs every ~30 s, so the 2-hour reminder goes at 1 h 59 min 30 s: "còn 2 giờ",
    # not "còn 1 giờ" (issue 17, item 16); one sent late says hours and minutes.
    await report_setup(tg)
    sent = Recording()
    tick = ticker(services, sent)
    clock.set(local(15, 15) + timedelta(seconds=30))
    await tick.tick()
    assert sent.take()[2] == (CUONG.id, report_reminder(0, 2, SGD))


async def test_a_late_reminder_says_hours_and_minutes(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg)
    sent = Recording()
    clock.set(local(15, 15, 10))  # the 2-hour reminder, 10 minutes late (a restart)
    await ticker(services, sent).tick()
    assert sent.take()[2][1].endswith("(còn 1 giờ 50 phút).")


async def test_a_reminder_carries_the_button_that_opens_the_report(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg)
    sent = Recording()
    clock.set(local(8, 17))
    await ticker(services, sent).tick()
    message = next(m for m in sent.sent if m.chat_id == str(CUONG.id))
    async with services.db.uow() as uow:
        bloc = (await uow.blocs.all())[0]
        period = (await uow.reports.periods(bloc.id))[0]
    assert [[(b.text, b.callback_data) for b in row] for row in message.buttons] == [
        [("📄 Nộp báo cáo", f"rp:{period.id}:0")]
    ]


async def test_restarts_lose_nothing_and_send_nothing_twice(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg)
    # Planned, then the process stops before sending: the next process sends each once.
    clock.set(local(8, 17))
    await ticker(services, None).tick()
    sent = Recording()
    restarted = ticker(services, sent)
    await restarted.tick()
    assert len(sent.take()) == 3
    await restarted.tick()
    assert sent.take() == []

    # Down across the 3-day and 1-day offsets, deadline still ahead: one reminder each.
    clock.set(local(14, 18))
    await restarted.tick()
    assert sent.take() == [
        (AN.id, report_reminder(0, 23, SYT)),
        (BINH.id, report_reminder(0, 23, SYT)),
        (CUONG.id, report_reminder(0, 23, SGD)),
    ]

    # Down past the deadline: nothing at all.
    clock.set(local(15, 18))
    await restarted.tick()
    assert sent.take() == []


async def test_quiet_hours_move_a_reminder_to_their_end(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await tg.admin_setup(units=[("Sở Y tế", "SYT"), ("Sở Giáo dục và Đào tạo", "SGDĐT")])
    await join(tg, AN, "1")
    await tg.send_file(SECRETARY, "bang-cham-diem.yaml", TABLE_EXAMPLE.read_bytes(), "/criteria")
    # Due at 08:00: the 2-hour reminder (06:00) falls in the quiet hours and goes at 07:00.
    await tg.say(SECRETARY, "/period new tổng kết; Báo cáo quý; 20/12/2024 08:00")
    sent = Recording()
    tick = ticker(services, sent)
    clock.set(local(20, 6, 30))
    await tick.tick()
    assert [chat for chat, _ in sent.take()] == []
    clock.set(local(20, 7))
    await tick.tick()
    assert [chat for chat, _ in sent.take()] == [AN.id]


async def test_the_reminder_button_opens_the_report(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg)
    sent = Recording()
    clock.set(local(8, 17))
    await ticker(services, sent).tick()
    message = next(m for m in sent.sent if m.chat_id == str(CUONG.id))
    data = message.buttons[0][0].callback_data
    assert data is not None
    opened = await tg.tap(CUONG, data)
    assert opened, "the tap must answer"
    assert "Báo cáo tổng kết năm 2024" in opened[-1].text


async def test_a_ballot_reminder_ten_minutes_before_the_close_to_units_not_voted(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await conference_setup(tg)
    report = (await ballot_ids(services))[0]
    clock.set(local(20, 8, 30))
    await tg.say(SECRETARY, "/ballot open 1; 20/12/2024 10:30")
    await cast(tg, AN, report, 0)  # Sở Y tế has voted; the three other units have not
    sent = Recording()
    tick = ticker(services, sent)
    clock.set(local(20, 10, 19))
    await tick.tick()
    assert sent.take() == []
    clock.set(local(20, 10, 20))
    await tick.tick()
    reminded = sent.take()
    assert [chat for chat, _ in reminded] == [CUONG.id, DUNG.id, GIANG.id]
    assert reminded[0][1] == (
        "⏰ <b>Nhắc hạn</b> — Sở Giáo dục và Đào tạo\n"
        "Thông qua dự thảo báo cáo tổng kết: đơn vị chưa bỏ phiếu.\n"
        "Hạn chót: 10:30 thứ Sáu, 20/12/2024 (còn 10 phút)."
    )


async def test_a_member_who_blocked_the_bot_is_not_reminded(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg)
    async with services.db.uow() as uow:
        await uow.identities.mark_unreachable(Platform.TELEGRAM, str(BINH.id))
        await uow.commit()
    sent = Recording()
    clock.set(local(8, 17))
    await ticker(services, sent).tick()
    assert [chat for chat, _ in sent.take()] == [AN.id, CUONG.id]


async def test_the_secretariat_gets_one_digest_a_day_from_eight(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg)
    clock.set(local(9, 10))
    await submitted(services, AN)  # Sở Y tế has submitted; SGD and SVH have not
    sent = Recording()
    tick = ticker(services, sent)
    clock.set(local(10, 7, 59))
    await tick.tick()
    assert [chat for chat, _ in sent.take(secretariat=True)] == []
    clock.set(local(10, 8))
    await tick.tick()
    digest = [text for _, text in sent.take(secretariat=True)]
    assert digest == [
        "📋 <b>Tình hình các hạn chót</b> — Khối thi đua Văn hóa - Xã hội, ngày 10/12/2024\n"
        "• Báo cáo tổng kết năm 2024 — hạn 17:00 Chủ nhật, 15/12/2024: 1/3 đơn vị đã nộp. "
        "Chưa: Sở Giáo dục và Đào tạo, Sở Văn hóa, Thể thao và Du lịch."
    ]
    clock.set(local(10, 15))
    await tick.tick()  # once a day
    assert [chat for chat, _ in sent.take(secretariat=True)] == []
    clock.set(local(11, 8, 5))
    await tick.tick()
    assert [chat for chat, _ in sent.take(secretariat=True)] == [SECRETARY.id]
    clock.set(local(16, 8))  # the deadline has passed: no deadline open, no digest
    await tick.tick()
    assert [chat for chat, _ in sent.take(secretariat=True)] == []
