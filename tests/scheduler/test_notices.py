"""Notices of use cases (a ballot opened, a colleague's vote, a join…) go through the outbox:
a member who blocked the bot is marked unreachable and the secretariat is told, once."""

from __future__ import annotations

from bot.core.models import Platform
from bot.core.ports import OutgoingMessage, SendResult, SendStatus
from bot.fakes.ratelimit import NoRateLimit
from bot.services.app import Services
from handlers.telegram.notifier import TelegramNotifier
from scheduler.sender import Sender
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import AN, BINH, CUONG, DUNG, GIANG, conference_setup

BLOCKED = (
    "⚠️ Không gửi được tin nhắn đến Lê Thị Bình (Sở Y tế): người này đã chặn bot hoặc xóa "
    "cuộc trò chuyện. Nhắc nhở và thông báo sẽ không đến được cho đến khi họ nhắn lại cho "
    "bot; vui lòng liên hệ trực tiếp."
)


class BlockedBy:
    """The mock bot, except that one chat answers 403 (the user blocked the bot)."""

    def __init__(self, inner: TelegramNotifier, chat: int) -> None:
        self.inner = inner
        self.chat = str(chat)

    async def transmit(self, message: OutgoingMessage) -> SendResult:
        if message.chat_id == self.chat:
            return SendResult(SendStatus.UNREACHABLE, error="Forbidden: bot was blocked")
        return await self.inner.transmit(message)


async def test_a_notice_to_a_member_who_blocked_the_bot_tells_the_secretariat_once(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    sender = Sender(
        services.db,
        BlockedBy(TelegramNotifier(tg.bot), BINH.id),
        NoRateLimit(),
        services.clock,
        services.renderer,
    )
    tg.sender = sender
    opened = await tg.say(SECRETARY, "/ballot open 1")
    chats = [r.chat_id for r in opened]
    assert chats == [SECRETARY.id, AN.id, CUONG.id, DUNG.id, GIANG.id, SECRETARY.id]
    assert opened[-1].text == BLOCKED
    async with services.db.uow() as uow:
        assert await uow.identities.reachable_accounts(await _identity(services, BINH.id)) == []

    # Bình is now skipped: the next notices neither go to Bình nor tell the secretariat again.
    again = await tg.say(SECRETARY, "/ballot open 2")
    assert [r.chat_id for r in again] == [SECRETARY.id, AN.id, CUONG.id, DUNG.id, GIANG.id]
    assert BLOCKED not in [r.text for r in again]


async def _identity(services: Services, telegram_id: int) -> int:
    async with services.db.uow() as uow:
        found = await uow.identities.by_account(Platform.TELEGRAM, str(telegram_id))
    assert found is not None
    return found.id
