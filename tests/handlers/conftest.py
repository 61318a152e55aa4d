"""Handler tests: the real Dispatcher with a mocked Bot session (teremok)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage
from aiogram.types import CallbackQuery, Chat, InlineKeyboardMarkup, Message, Update, User
from teremok import MockBot, MockCallbackQuery, MockMessageDocument, MockMessageText

from bot.fakes.ratelimit import NoRateLimit
from bot.services.app import Services
from handlers.telegram import create_dispatcher
from handlers.telegram.notifier import TelegramNotifier
from scheduler.sender import Sender

SECRETARY = User(id=1000, is_bot=False, first_name="Nguyễn Thị", last_name="Lan")
GROUP = Chat(id=-1001234, type="supergroup", title="Khối VHXH")


def person(uid: int, first: str, last: str | None = None) -> User:
    return User(id=uid, is_bot=False, first_name=first, last_name=last)


@dataclass
class Reply:
    chat_id: int
    text: str
    buttons: list[list[str]] = field(default_factory=list)
    callback_data: list[list[str]] = field(default_factory=list)


def _reply(method: Any) -> Reply:
    markup = getattr(method, "reply_markup", None)
    rows = markup.inline_keyboard if isinstance(markup, InlineKeyboardMarkup) else []
    chat_id = getattr(method, "chat_id", 0)
    return Reply(
        chat_id=int(chat_id) if chat_id is not None else 0,
        text=str(method.text),
        buttons=[[b.text for b in row] for row in rows],
        callback_data=[[b.callback_data or "" for b in row] for row in rows],
    )


class Harness:
    """Plays users against the real dispatcher and returns what each update made the bot say."""

    def __init__(self, bot: MockBot, services: Services, sender: Sender | None = None) -> None:
        self.bot = bot
        self.services = services
        self.alerts: list[str] = []
        # Sends what a use case queued in the outbox (a test may put another in its place).
        self.sender = sender
        self.handling = False
        self.queued = False
        self.standard_sender: Sender | None = None

    async def flush(self) -> None:
        """`Services.outbox_flush`: the running bot sends in the background, so the queued
        messages go out after the update's own answer — here, once the update is handled
        (at once for a service a test calls itself)."""
        if self.handling:
            self.queued = True
        elif self.sender is not None:
            await self.sender.drain()

    async def dispatch(self, obj: Update | Message | CallbackQuery) -> list[Any]:
        """Feed one update; the requests it made, then those of the outbox it filled."""
        start = len(self.bot.mock_session.requests)
        self.handling = True
        try:
            await self.bot.dispatch(obj)
        finally:
            self.handling = False
        while self.queued and self.sender is not None:
            self.queued = False
            await self.sender.drain()
        return list(self.bot.mock_session.requests[start:])

    async def say(self, user: User, text: str, chat: Chat | None = None) -> list[Reply]:
        kwargs: dict[str, Any] = {"user": user}
        if chat is not None:
            kwargs["chat"] = chat
        return self._replies(await self.dispatch(MockMessageText(text, **kwargs)))

    async def send_file(
        self, user: User, name: str, data: bytes, caption: str | None = None
    ) -> list[Reply]:
        file_id = f"f{len(self.bot.mock_session.files) + 1}"
        self.bot.add_file(file_id, data)
        msg = MockMessageDocument(file_id=file_id, file_name=name, caption=caption, user=user)
        return self._replies(await self.dispatch(msg))

    async def tap(self, user: User, data: str, message_text: str = "…") -> list[Reply]:
        bot_user = User(id=42, is_bot=True, first_name="Bot")
        msg = MockMessageText(message_text, user=bot_user, chat=Chat(id=user.id, type="private"))
        requests = await self.dispatch(MockCallbackQuery(data=data, user=user, message=msg))
        for m in requests:
            if isinstance(m, AnswerCallbackQuery) and m.text:
                self.alerts.append(m.text)
        return self._replies(requests)

    @staticmethod
    def _replies(requests: list[Any]) -> list[Reply]:
        return [_reply(m) for m in requests if isinstance(m, SendMessage | EditMessageText)]

    async def admin_setup(self, *, units: list[tuple[str, str]]) -> None:
        """A bloc with units, created by the bootstrap admin through the real commands."""
        await self.say(SECRETARY, "/bloc new Khối thi đua Văn hóa - Xã hội; Khối; 2024; KTĐVHXH")
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["Tên đơn vị", "Tên viết tắt"])
        writer.writerows(units)
        await self.send_file(SECRETARY, "units.csv", buffer.getvalue().encode(), "/units import")

    async def invite_code(self, target: str) -> str:
        replies = await self.say(SECRETARY, f"/invite {target}")
        text = replies[-1].text
        return text.split("?start=")[1].split()[0]


def make_harness(services: Services) -> Harness:
    """A Dispatcher on these services and a mock bot; what an update queued in the outbox is
    sent through that bot once the update is handled, as the running bot sends it at once."""
    dp = create_dispatcher(services)
    # As in production (bot/runtime.py): HTML, so teremok checks every reply's markup.
    bot = MockBot(dp, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    sender = Sender(
        services.db, TelegramNotifier(bot), NoRateLimit(), services.clock, services.renderer
    )
    harness = Harness(bot, services, sender)
    harness.standard_sender = sender  # a test may put another in its place (snapshots.py)
    services.outbox_flush = harness.flush
    return harness


@pytest.fixture
def tg(services: Services) -> Harness:
    return make_harness(services)


def texts(replies: list[Reply]) -> list[str]:
    return [r.text for r in replies]
