"""Conversation state in Redis (the production FSM storage) survives a restart of the bot."""

from __future__ import annotations

from aiogram.fsm.storage.redis import RedisStorage
from teremok import MockBot

from bot.services.app import Services
from handlers.telegram import create_dispatcher
from tests.handlers.conftest import SECRETARY, Harness


async def test_wizard_resumes_on_a_new_dispatcher(services: Services, redis_url: str) -> None:
    first_storage = RedisStorage.from_url(redis_url)
    first = Harness(MockBot(create_dispatcher(services, storage=first_storage)), services)
    asked = await first.say(SECRETARY, "/bloc new")
    assert asked[0].text.startswith("Tạo khối mới (bước 1/4).")
    await first.say(SECRETARY, "Khối thi đua Văn hóa - Xã hội")
    await first_storage.close()

    # A restarted worker: new storage client, new dispatcher, same Redis.
    second_storage = RedisStorage.from_url(redis_url)
    second = Harness(MockBot(create_dispatcher(services, storage=second_storage)), services)
    try:
        replies = await second.say(SECRETARY, "Khối")
        assert replies[0].text == "Bước 3/4. Năm thi đua? (ví dụ 2024)"
        await second.say(SECRETARY, "2024")
        done = await second.say(SECRETARY, "KTĐVHXH")
        assert done[0].text.startswith(
            "✅ Đã tạo <b>Khối thi đua Văn hóa - Xã hội</b> (Khối, năm 2024"
        )
    finally:
        await second_storage.close()
