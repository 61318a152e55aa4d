"""Where a Zalo conversation stands between two messages (the menu last shown, so "1" or
"2" can be read): aiogram's FSM storage — in memory on one process, Redis when scaled out —
under a key of its own per identity. It never holds a secret ballot's choice in clear
(`bot.services.voting.hold_choice` seals it), a receipt code or a link code."""

from __future__ import annotations

from typing import Any

from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage

ZALO_BOT_ID = 0
KEY_PREFIX = "zalo-fsm"  # Redis keys of their own: an identity id never meets a Telegram id


def conversation_storage(redis_url: str | None) -> BaseStorage:
    """Where Zalo conversations wait: Redis when several workers serve the bot, else memory."""
    if redis_url:
        return RedisStorage.from_url(redis_url, key_builder=DefaultKeyBuilder(prefix=KEY_PREFIX))
    return MemoryStorage()


class Conversation:
    def __init__(self, storage: BaseStorage, identity_id: int) -> None:
        self.storage = storage
        self.key = StorageKey(bot_id=ZALO_BOT_ID, chat_id=identity_id, user_id=identity_id)

    async def get(self) -> dict[str, Any]:
        return dict(await self.storage.get_data(self.key))

    async def set(self, menu: str, **data: Any) -> None:
        await self.storage.set_data(self.key, {"menu": menu, **data})

    async def clear(self) -> None:
        await self.storage.set_data(self.key, {})
