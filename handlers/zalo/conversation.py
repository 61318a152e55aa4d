"""Where a Zalo conversation stands between two messages (the menu last shown, so "1" or
"2" can be read): aiogram's FSM storage — in memory on one process, Redis when scaled out —
under keys of its own, per identity. It never holds a secret ballot's choice in clear
(`bot.services.voting.hold_choice` seals it), a receipt code or a link code.

A menu lasts `MENU_TTL`: a "1" typed an hour later confirms nothing (it is told the menu
expired). In Redis the record itself expires soon after, so a sealed choice awaiting its
confirmation does not outlive its use.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage

from bot.core.ports import Clock
from storage.redis_client import redis_options

ZALO_BOT_ID = 0
KEY_PREFIX = "zalo-fsm"  # Redis keys of their own: an identity id never meets a Telegram id
MENU_TTL = timedelta(minutes=10)
RECORD_TTL = timedelta(minutes=30)  # Redis drops the record itself after this


def conversation_storage(redis_url: str | None) -> BaseStorage:
    """Where Zalo conversations wait: Redis when several workers serve the bot, else memory."""
    if redis_url:
        return RedisStorage.from_url(
            redis_url,
            connection_kwargs=redis_options(),
            key_builder=DefaultKeyBuilder(prefix=KEY_PREFIX),
            data_ttl=RECORD_TTL,
        )
    return MemoryStorage()


class Conversation:
    def __init__(self, storage: BaseStorage, identity_id: int, clock: Clock) -> None:
        self.storage = storage
        self.clock = clock
        self.key = StorageKey(bot_id=ZALO_BOT_ID, chat_id=identity_id, user_id=identity_id)

    async def get(self) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The menu waiting for an answer (empty if none), and the one that just expired (what
        it held, so a vote left unconfirmed can be told as not cast), if any."""
        data = dict(await self.storage.get_data(self.key))
        if not data:
            return {}, None
        at = data.get("at")
        if not isinstance(at, str) or self.clock.now() - datetime.fromisoformat(at) > MENU_TTL:
            await self.clear()
            return {}, data
        return data, None

    async def set(self, menu: str, **data: Any) -> None:
        at = self.clock.now().isoformat()
        await self.storage.set_data(self.key, {"menu": menu, "at": at, **data})

    async def clear(self) -> None:
        await self.storage.set_data(self.key, {})
