"""Zalo's monthly send quota against the fake Zalo Bot API: every message sent on Zalo is
counted (answers and outbox deliveries, each part of a long text), the secretariat of every
bloc with a member on Zalo is warned once a month at 80% (on Zalo too), from 90% only urgent
messages go while digests and announcements are held — held, not lost: they go out when the
month changes or the quota is raised —, Telegram is never held, and a quota of 0 is
unlimited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from bot.core.models import BlocKind, Locale, Membership, Platform, Role
from bot.core.ports import OutgoingMessage, SendResult, SendStatus
from bot.core.sendquota import Usage
from bot.core.units import UnitDraft
from bot.fakes.clock import FakeClock
from bot.fakes.ratelimit import NoRateLimit
from bot.fakes.zalo import FakeZalo, ZaloUser
from bot.render import Renderer
from bot.services.app import Services
from bot.services.outbox import to_person
from bot.services.zalo_quota import ZaloQuota
from handlers.channels import Channels
from handlers.zalo.bot import ZaloBot
from handlers.zalo.client import MAX_TEXT, ZaloClient, ZaloError
from handlers.zalo.notifier import ZaloNotifier
from scheduler.sender import Sender
from storage.tables import ChannelUsageRow, OutboxRow
from storage.uow import Database
from tests.conftest import START
from tests.zalo.test_client import TOKEN

HOA = ZaloUser("8812345678901234567", "Lê Thị Hoa")  # representative of Sở Y tế, on Zalo
HUNG = ZaloUser("8812345678901234511", "Đỗ Văn Hùng")  # secretariat, on Zalo
TU = ZaloUser("8812345678901234522", "Hà Văn Tú")  # representative in Cụm 1, on Zalo
NOVEMBER = "2024-11"
DECEMBER = datetime(2024, 12, 1, 0, 0, tzinfo=UTC)

WARNING_VI = (
    "⚠️ <b>Sắp hết hạn mức tin nhắn Zalo</b>\n"
    "Trong tháng 11/2024, bot đã gửi 8/10 tin nhắn trên Zalo; còn lại 2 tin.\n"
    "\n"
    "Khi đã dùng từ 90% hạn mức, bot gửi trước nhắc hạn chót, thông báo mở biểu quyết và kết "
    "quả; bản tổng hợp hằng ngày, thông báo của thường trực và các tin khác trên Zalo có thể bị "
    "chậm lại. Khi hết hạn mức, tin Zalo chưa gửi được giữ lại và gửi khi sang tháng mới (hoặc "
    "khi hạn mức được nâng), không tin nào bị mất. Tin nhắn Telegram không bị ảnh hưởng."
)
WARNING_EN = (
    "⚠️ <b>The Zalo message quota is running low</b>\n"
    "In 11/2024 the bot has sent 8 of its 10 Zalo messages; 2 are left.\n"
    "\n"
    "From 90% of the quota, deadline reminders, ballot openings and results go first; daily "
    "digests, secretariat announcements and other messages on Zalo may be delayed. Once the "
    "quota is used up, unsent Zalo messages are kept and go out when the new month starts (or "
    "when the quota is raised): none is lost. Telegram messages are not affected."
)


class Recording:
    """The Telegram side: delivers everything and remembers it."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    async def transmit(self, message: OutgoingMessage) -> SendResult:
        self.sent.append(message)
        return SendResult(SendStatus.SENT)

    def texts_to(self, chat: str) -> list[str]:
        return [m.text for m in self.sent if m.chat_id == chat]


@dataclass
class World:
    """Khối VHXH (Lan on Telegram and Hùng on Zalo run it; Hoa on Zalo, An on Telegram
    represent units), Cụm 1 (Lan and Mai — who reads English — run it; Tú is on Zalo) and
    Cụm 2, all on Telegram (Bảo runs it)."""

    khoi: int
    lan: int
    hung: int
    hoa: int
    an: int
    mai: int


Joined = list[tuple[int, int | None, frozenset[Role]]]  # bloc, unit, roles of memberships


async def seed(db: Database) -> World:
    now = START
    async with db.uow() as uow:
        blocs = [
            await uow.blocs.create(
                name=name, kind=kind, year=2024, code=code, timezone="Asia/Hanoi", now=now
            )
            for name, kind, code in [
                ("Khối VHXH", BlocKind.KHOI, "VHXH"),
                ("Cụm 1", BlocKind.CUM, "C1"),
                ("Cụm 2", BlocKind.CUM, "C2"),
            ]
        ]
        khoi, cum1, cum2 = (b.id for b in blocs)
        (syt,) = await uow.blocs.add_units(khoi, [UnitDraft("Sở Y tế", "SYT")], now)
        secretariat, rep = frozenset({Role.SECRETARIAT}), frozenset({Role.REPRESENTATIVE})
        people: list[tuple[Platform, str, str, Locale, Joined]] = [
            (Platform.TELEGRAM, "1000", "Nguyễn Thị Lan", Locale.VI,
             [(khoi, None, secretariat), (cum1, None, secretariat)]),
            (Platform.ZALO, HUNG.id, HUNG.display_name, Locale.VI, [(khoi, None, secretariat)]),
            (Platform.ZALO, HOA.id, HOA.display_name, Locale.VI, [(khoi, syt.id, rep)]),
            (Platform.TELEGRAM, "2001", "Trần Văn An", Locale.VI, [(khoi, syt.id, rep)]),
            (Platform.TELEGRAM, "1900", "Vũ Thị Mai", Locale.EN, [(cum1, None, secretariat)]),
            (Platform.ZALO, TU.id, TU.display_name, Locale.VI, [(cum1, None, rep)]),
            (Platform.TELEGRAM, "1950", "Lý Văn Bảo", Locale.VI, [(cum2, None, secretariat)]),
        ]  # fmt: skip
        ids: list[int] = []
        for platform, external_id, name, locale, memberships in people:
            ident = await uow.identities.create(
                platform=platform,
                external_id=external_id,
                display_name=name,
                username=None,
                locale=locale,
                now=now,
            )
            ids.append(ident.id)
            for bloc_id, unit_id, roles in memberships:
                await uow.identities.put_membership(
                    Membership(ident.id, bloc_id, unit_id, roles), now
                )
        await uow.commit()
    lan, hung, hoa, an, mai, _, _ = ids
    return World(khoi, lan, hung, hoa, an, mai)


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    async with FakeZalo(TOKEN) as fake:
        yield fake


@dataclass
class Rig:
    """The Zalo client counting into `quota`, a bot answering on it, and a sender that
    delivers the outbox to Zalo through it and to Telegram into `telegram`."""

    quota: ZaloQuota
    client: ZaloClient
    zbot: ZaloBot
    sender: Sender
    telegram: Recording


@pytest.fixture
async def rig(zalo: FakeZalo, services: Services) -> AsyncIterator[Rig]:
    quota = ZaloQuota(services.db, services.clock, services.renderer, limit=10)
    client = ZaloClient(TOKEN, zalo.url, backoff=0.01, on_sent=quota.record)
    telegram = Recording()
    channels = Channels({Platform.TELEGRAM: telegram, Platform.ZALO: ZaloNotifier(client)})
    sender = Sender(
        services.db, channels, NoRateLimit(), services.clock, services.renderer, quota=quota
    )
    yield Rig(quota, client, ZaloBot(services, client), sender, telegram)
    await client.close()


def counted(zalo: FakeZalo) -> int:
    """Messages the fake Zalo accepted: what the quota must have counted."""
    return sum(1 for s in zalo.sent if s.method in {"sendMessage", "sendPhoto"})


async def usage(db: Database, month: str = NOVEMBER) -> Usage:
    async with db.uow() as uow:
        return await uow.usage.get(Platform.ZALO, month)


async def outbox(db: Database, prefix: str = "") -> dict[str, OutboxRow]:
    async with db.uow() as uow:
        found = (
            await uow.session.exec(
                select(OutboxRow)
                .where(col(OutboxRow.dedup_key).startswith(prefix))
                .order_by(col(OutboxRow.id))
            )
        ).all()
        uow.session.expunge_all()
    return {r.dedup_key: r for r in found}


async def queue(db: Database, identity: int, text: str, key: str, now: datetime) -> None:
    async with db.uow() as uow:
        rows = await to_person(uow, identity, text, key=key, bloc_id=None, now=now)
        await uow.outbox.enqueue(rows, now)
        await uow.commit()


async def test_every_message_sent_on_zalo_is_counted(
    services: Services, zalo: FakeZalo, rig: Rig
) -> None:
    """Answers and outbox deliveries, each part of a long text on its own, photos; never a
    chat action, a failed send, or a Telegram message."""
    world = await seed(services.db)
    await zalo.send_text(HOA, "tro giup")
    update = await rig.client.get_update(1)
    assert update is not None
    await rig.zbot.handle(update)
    assert zalo.texts_to(HOA)[0].startswith("Các lệnh trên Zalo")
    assert (await usage(services.db)).sent == counted(zalo) == 1

    long_answer = "\n".join(f"Dòng {i}: " + "x" * 90 for i in range(30))  # ~3,000 characters
    assert await rig.client.send_text(HOA.id, long_answer) == 2
    await rig.client.send_photo(HOA.id, "https://example.gov.vn/bang-xep-hang.png")
    await rig.client.typing(HOA.id)
    assert (await usage(services.db)).sent == counted(zalo) == 4

    # The outbox: a 2,500-character announcement is two Zalo messages; An's is on Telegram.
    notice = "📢 Thông báo\n" + "\n".join("Nội dung " + "y" * 120 for _ in range(20))
    assert 2 * MAX_TEXT > len(notice) > MAX_TEXT
    await queue(services.db, world.hoa, notice, f"announce:{world.khoi}:1:{world.hoa}", START)
    await queue(services.db, world.an, notice, f"announce:{world.khoi}:1:{world.an}", START)
    stats = await rig.sender.drain()
    assert stats.sent == 2
    assert "".join(zalo.texts_to(HOA)[-2:]).replace("\n", "") == notice.replace("\n", "")
    assert rig.telegram.texts_to("2001") == [notice]
    assert (await usage(services.db)).sent == counted(zalo) == 6

    zalo.fail_next(
        "sendMessage", 500, times=5
    )  # refused every time: nothing sent, nothing counted
    with pytest.raises(ZaloError, match="sendMessage"):
        await rig.client.send_text(HOA.id, "Tin không đến")
    assert (await usage(services.db)).sent == counted(zalo) == 6


async def test_a_broken_counter_never_makes_a_sent_message_look_unsent(
    zalo: FakeZalo, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(count: int) -> None:
        raise RuntimeError(f"database down ({count})")

    client = ZaloClient(TOKEN, zalo.url, backoff=0.01, on_sent=broken)
    try:
        assert await client.send_text(HOA.id, "Xin chào") == 1
    finally:
        await client.close()
    assert zalo.texts_to(HOA) == ["Xin chào"]
    assert "counting 1 sent Zalo message(s) failed" in caplog.text
    assert TOKEN not in caplog.text


async def test_at_80_percent_each_secretary_is_warned_once_a_month(
    services: Services, zalo: FakeZalo, rig: Rig, clock: FakeClock
) -> None:
    """Lan runs two blocs with Zalo members: one warning. Hùng reads it on Zalo (where it
    counts), Mai in English; Bảo's bloc has no one on Zalo: nothing. Crossing 80% again (the
    quota raised mid-month) warns no one; December starts from zero and warns again."""
    world = await seed(services.db)
    for i in range(7):
        await rig.client.send_text(HOA.id, f"Tin số {i + 1}")
    assert (await usage(services.db)).sent == 7
    assert await outbox(services.db, "zalo-quota:") == {}

    await rig.client.send_text(HOA.id, "Tin số 8")  # 8 of 10: 80%
    warned = await usage(services.db)
    assert warned.sent == 8
    assert warned.warned_at == START
    rows = await outbox(services.db, "zalo-quota:")
    assert sorted(rows) == sorted(
        [
            f"zalo-quota:{NOVEMBER}:{world.lan}",
            f"zalo-quota:{NOVEMBER}:{world.hung}@zalo",
            f"zalo-quota:{NOVEMBER}:{world.mai}",
        ]
    )
    assert {r.platform for r in rows.values()} == {"telegram", "zalo"}

    await rig.client.send_text(HOA.id, "Tin số 9")  # past 80% again: no second warning
    assert len(await outbox(services.db, "zalo-quota:")) == 3

    await rig.sender.drain()
    assert rig.telegram.texts_to("1000") == [WARNING_VI]
    assert rig.telegram.texts_to("1900") == [WARNING_EN]
    assert rig.telegram.texts_to("1950") == []
    hung_plain = WARNING_VI.replace("<b>", "").replace("</b>", "")
    assert zalo.texts_to(HUNG) == [hung_plain]
    assert all(r.sent_at is not None for r in (await outbox(services.db, "zalo-quota:")).values())
    assert (await usage(services.db)).sent == counted(zalo) == 10  # Hùng's warning counted

    # The quota raised mid-month to 20: 10 sent is 50%; reaching 80% (16) again warns no one.
    raised = ZaloQuota(services.db, clock, services.renderer, limit=20)
    rig.client.on_sent = raised.record
    for i in range(6):
        await rig.client.send_text(HOA.id, f"Tin thêm {i + 1}")
    assert (await usage(services.db)).sent == 16
    assert len(await outbox(services.db, "zalo-quota:")) == 3

    # A new month starts from zero: November's count stays, December's is its own.
    clock.set(DECEMBER)
    await rig.client.send_text(HOA.id, "Tin tháng 12")
    assert (await usage(services.db, "2024-12")).sent == 1
    assert (await usage(services.db)).sent == 16
    for i in range(15):
        await rig.client.send_text(HOA.id, f"Tin tháng 12 số {i + 2}")
    assert (await usage(services.db, "2024-12")).warned_at == DECEMBER
    december = await outbox(services.db, "zalo-quota:2024-12:")
    assert sorted(december) == sorted(
        [
            f"zalo-quota:2024-12:{world.lan}",
            f"zalo-quota:2024-12:{world.hung}@zalo",
            f"zalo-quota:2024-12:{world.mai}",
        ]
    )


async def test_when_low_reminders_go_first_and_nothing_held_is_lost(
    services: Services, zalo: FakeZalo, rig: Rig, clock: FakeClock
) -> None:
    """From 90% Zalo's digest and announcement wait while its reminder (and the quota warning)
    go; at 100% even a new reminder waits; Telegram never waits. When December comes, every
    held row goes out, in the order it was queued."""
    world = await seed(services.db)
    # Queued first, so without the quota they would go first.
    digest, announcement = "📋 Tình hình các hạn chót", "📢 Họp trực tuyến lúc 14:00 thứ Sáu"
    await queue(
        services.db, world.hung, digest, f"digest:{world.khoi}:2024-11-25:{world.hung}", START
    )
    await queue(
        services.db, world.hoa, announcement, f"announce:{world.khoi}:1:{world.hoa}", START
    )
    await queue(services.db, world.an, announcement, f"announce:{world.khoi}:1:{world.an}", START)
    reminder = "⏰ Nhắc hạn — Sở Y tế: báo cáo hạn 17:00 Chủ nhật, 15/12/2024"
    await queue(services.db, world.hoa, reminder, f"remind:period:1:{world.hoa}:604800", START)
    await rig.quota.record(9)  # 9 of 10: low (and 80% passed: the secretariat is warned)

    await rig.sender.drain()
    assert zalo.texts_to(HOA) == [reminder]
    assert zalo.texts_to(HUNG) == []  # his digest and his warning wait: 10 of 10 sent
    assert rig.telegram.texts_to("2001") == [announcement]  # Telegram is never held
    at_nine = WARNING_VI.replace("8/10", "9/10").replace("còn lại 2 tin", "còn lại 1 tin")
    assert rig.telegram.texts_to("1000") == [at_nine]
    assert (await usage(services.db)).sent == 10

    # Exhausted: a new reminder waits too; nothing is failed, nothing is dropped.
    later = "⏰ Nhắc hạn — Sở Y tế: còn 1 ngày"
    await queue(services.db, world.hoa, later, f"remind:period:1:{world.hoa}:86400", START)
    await rig.sender.drain()
    assert zalo.texts_to(HOA) == [reminder]
    held = {k: r for k, r in (await outbox(services.db)).items() if r.sent_at is None}
    assert sorted(held) == sorted(
        [
            f"digest:{world.khoi}:2024-11-25:{world.hung}@zalo",
            f"announce:{world.khoi}:1:{world.hoa}@zalo",
            f"zalo-quota:{NOVEMBER}:{world.hung}@zalo",
            f"remind:period:1:{world.hoa}:86400@zalo",
        ]
    )
    assert all(r.failed_at is None and r.attempts == 0 for r in held.values())

    clock.set(DECEMBER)
    await rig.sender.drain()
    assert zalo.texts_to(HOA) == [reminder, announcement, later]
    assert zalo.texts_to(HUNG)[0] == digest
    assert zalo.texts_to(HUNG)[1].startswith("⚠️ Sắp hết hạn mức tin nhắn Zalo\n")
    assert all(r.sent_at is not None for r in (await outbox(services.db)).values())
    assert (await usage(services.db, "2024-12")).sent == 4


async def test_raising_the_quota_releases_what_was_held(
    services: Services, zalo: FakeZalo, rig: Rig
) -> None:
    world = await seed(services.db)
    await rig.quota.record(10)
    announcement = "📢 Họp trực tuyến lúc 14:00 thứ Sáu"
    await queue(
        services.db, world.hoa, announcement, f"announce:{world.khoi}:1:{world.hoa}", START
    )
    await rig.sender.drain()
    assert zalo.texts_to(HOA) == []

    raised = ZaloQuota(services.db, services.clock, services.renderer, limit=100)
    rig.client.on_sent = raised.record
    rig.sender.quota = raised
    await rig.sender.drain()
    assert zalo.texts_to(HOA) == [announcement]


async def test_a_quota_of_zero_is_unlimited(services: Services, zalo: FakeZalo) -> None:
    world = await seed(services.db)
    quota = ZaloQuota(services.db, services.clock, services.renderer, limit=0)
    client = ZaloClient(TOKEN, zalo.url, backoff=0.01, on_sent=quota.record)
    channels = Channels({Platform.TELEGRAM: Recording(), Platform.ZALO: ZaloNotifier(client)})
    sender = Sender(
        services.db, channels, NoRateLimit(), services.clock, services.renderer, quota=quota
    )
    try:
        await quota.record(5000)
        digest = "📋 Tình hình các hạn chót"
        await queue(
            services.db, world.hung, digest, f"digest:{world.khoi}:2024-11-25:{world.hung}", START
        )
        await sender.drain()
        assert zalo.texts_to(HUNG) == [digest]
    finally:
        await client.close()
    assert (await usage(services.db)).sent == 5001  # still counted
    assert await outbox(services.db, "zalo-quota:") == {}


async def test_workers_counting_at_once_lose_nothing_and_warn_once(
    committed_db: Database, clock: FakeClock
) -> None:
    """Two processes count at once (a real commit each, PostgreSQL row locks or SQLite's
    write lock): every message is counted and each secretary is warned once."""
    world = await seed(committed_db)
    renderer = Renderer()
    workers = [ZaloQuota(committed_db, clock, renderer, limit=50) for _ in range(2)]
    await asyncio.gather(*(w.record(1) for _ in range(25) for w in workers))
    async with committed_db.uow() as uow:
        usage_row = await uow.session.get(ChannelUsageRow, ("zalo", NOVEMBER))
        assert usage_row is not None
        assert usage_row.sent == 50
    rows = await outbox(committed_db, "zalo-quota:")
    assert sorted(rows) == sorted(
        [
            f"zalo-quota:{NOVEMBER}:{world.lan}",
            f"zalo-quota:{NOVEMBER}:{world.hung}@zalo",
            f"zalo-quota:{NOVEMBER}:{world.mai}",
        ]
    )
