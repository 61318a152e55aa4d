"""The fake Telegram server, proven against the real aiogram stack (no project code)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import Command
from aiogram.methods import SendMessage
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.fakes.telegram import FakeTelegram, FakeUser

TOKEN = "123456:TEST-TOKEN"
ALICE = FakeUser(1001, "Alice", username="alice")
BOB = FakeUser(1002, "Bình", last_name="Trần")
FIXED_NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def build_dispatcher() -> Dispatcher:
    router = Router()

    @router.message(Command("start"))
    async def start(message: Message) -> None:
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(text="Đồng ý", callback_data="vote:yes"),
                    InlineKeyboardButton(text="Không", callback_data="vote:no"),
                ]
            ]
        )
        await message.answer("<b>Bỏ phiếu?</b>", parse_mode="HTML", reply_markup=keyboard)

    @router.callback_query(F.data.startswith("vote:"))
    async def vote(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        choice = (query.data or "").removeprefix("vote:")
        await query.message.edit_text(f"Đã chọn: {choice}")
        await query.answer("Cảm ơn")

    @router.message(Command("ping"))
    async def ping(message: Message) -> SendMessage:
        return message.answer("pong")  # returned, not awaited: "reply into webhook"

    @router.message(Command("report"))
    async def report(message: Message) -> None:
        csv = BufferedInputFile(b"unit,score\nA,10\n", filename="report.csv")
        await message.answer_document(csv, caption="Báo cáo")

    @router.message(F.document)
    async def document(message: Message, bot: Bot) -> None:
        assert message.document is not None
        data = await bot.download(message.document)
        assert data is not None
        await message.answer(f"size={len(data.read())}")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    dp = Dispatcher()
    dp.include_router(router)
    return dp


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN, now=lambda: FIXED_NOW) as server:
        yield server


def make_bot(fake: FakeTelegram, token: str = TOKEN) -> Bot:
    return Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.url)))


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    bot = make_bot(fake)
    yield bot
    await bot.session.close()


@contextlib.asynccontextmanager
async def polling(dp: Dispatcher, bot: Bot) -> AsyncIterator[None]:
    task = asyncio.create_task(
        dp.start_polling(bot, handle_as_tasks=False, polling_timeout=1, handle_signals=False)
    )
    try:
        yield
    finally:
        with contextlib.suppress(RuntimeError):  # "Polling is not started"
            await dp.stop_polling()
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_polling_conversation(fake: FakeTelegram, bot: Bot) -> None:
    async with polling(build_dispatcher(), bot):
        mark = fake.mark()
        update_id = await fake.send_text(ALICE, "xin chào")
        await fake.wait_processed(update_id)
        [echo] = fake.sent_since(mark)
        assert (echo.chat_id, echo.text, echo.kind) == (ALICE.id, "xin chào", "message")
        assert echo.raw["date"] == int(FIXED_NOW.timestamp())

        await fake.wait_processed(await fake.send_text(ALICE, "/start"))
        menu = fake.messages_to(ALICE.id)[-1]
        assert menu.parse_mode == "HTML"
        assert menu.buttons == [[("Đồng ý", "vote:yes"), ("Không", "vote:no")]]

        mark = fake.mark()
        await fake.wait_processed(await fake.tap_button(ALICE, menu, "Đồng ý"))
        edit, answer = fake.sent_since(mark)
        assert (edit.kind, edit.message_id, edit.text) == ("edit", menu.message_id, "Đã chọn: yes")
        assert edit.reply_markup is None  # editMessageText without markup drops the keyboard
        assert (answer.kind, answer.text) == ("callback_answer", "Cảm ơn")
        with pytest.raises(AssertionError, match="Đồng ý"):
            await fake.tap_button(ALICE, menu, "Đồng ý")  # keyboard is gone now

        fake.mark()
        await fake.send_document(BOB, "data.xlsx", b"x" * 1234, caption="số liệu")
        [reply] = await fake.wait_for_messages(BOB.id, 1)
        assert reply.text == "size=1234"

        await fake.wait_processed(await fake.send_text(BOB, "/report"))
        doc = fake.messages_to(BOB.id)[-1]
        assert (doc.kind, doc.filename, doc.text) == ("document", "report.csv", "Báo cáo")
        assert doc.file_bytes == b"unit,score\nA,10\n"

        await fake.wait_processed(await fake.send_text(BOB, "/ping"))
        assert fake.messages_to(BOB.id)[-1].text == "pong"

        group = fake.group(-100123, "Cụm thi đua 1")
        await fake.wait_processed(await fake.send_text(ALICE, "chào nhóm", chat_id=group.id))
        assert fake.messages_to(group.id)[-1].raw["chat"]["type"] == "supergroup"

    with pytest.raises(TimeoutError, match="update 999"):
        await fake.wait_processed(999, timeout=0.05)


async def test_webhook_delivery(fake: FakeTelegram, bot: Bot) -> None:
    dp = build_dispatcher()
    app = web.Application()
    handler = SimpleRequestHandler(dp, bot, secret_token="s3cret", handle_in_background=False)
    handler.register(app, path="/webhook")
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/webhook"
    try:
        assert await bot.set_webhook(url, secret_token="s3cret", drop_pending_updates=True)
        assert await fake.wait_webhook_set(1) == url
        info = await bot.get_webhook_info()
        assert info.url == url

        with pytest.raises(TelegramConflictError):
            await bot.get_updates()

        await fake.wait_processed(await fake.send_text(ALICE, "qua webhook"))
        assert fake.messages_to(ALICE.id)[-1].text == "qua webhook"

        # The handler returns the method; aiogram writes it into the webhook response.
        await fake.wait_processed(await fake.send_text(ALICE, "/ping"))
        assert fake.messages_to(ALICE.id)[-1].text == "pong"
        assert fake.requests[-1].method == "sendMessage"

        async with aiohttp.ClientSession() as client:
            headers = {"X-Telegram-Bot-Api-Secret-Token": "wrong"}
            async with client.post(url, json={"update_id": 1}, headers=headers) as resp:
                assert resp.status == 401

        assert await bot.delete_webhook()
        assert await bot.get_updates(timeout=0) == []
    finally:
        await runner.cleanup()


async def test_webhook_retry_and_json_reply(fake: FakeTelegram, bot: Bot) -> None:
    calls: list[tuple[str, int]] = []

    async def flaky(request: web.Request) -> web.Response:
        update = await request.json()
        calls.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""), update["update_id"])
        )
        if len(calls) == 1:
            return web.Response(status=500)
        chat_id = update["message"]["chat"]["id"]
        return web.json_response({"method": "sendMessage", "chat_id": chat_id, "text": "json"})

    app = web.Application()
    app.router.add_post("/hook", flaky)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
        await bot.set_webhook(url, secret_token="abc")
        update_id = await fake.send_text(ALICE, "hi")
        await fake.wait_processed(update_id, timeout=5)
        assert calls == [("abc", update_id), ("abc", update_id)]
        assert fake.messages_to(ALICE.id)[-1].text == "json"
    finally:
        await runner.cleanup()

    # Unreachable webhook: a few attempts, then the update is given up on.
    update_id = await fake.send_text(ALICE, "lost")
    await fake.wait_processed(update_id, timeout=5)
    info = await bot.get_webhook_info()
    assert info.last_error_message is not None
    assert info.pending_update_count == 0


async def test_faults_and_blocking(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 7",
        retry_after=7,
    )
    with pytest.raises(TelegramRetryAfter) as excinfo:
        await bot.send_message(ALICE.id, "a")
    assert excinfo.value.retry_after == 7
    assert (await bot.send_message(ALICE.id, "b")).text == "b"

    fake.fail_next(
        "sendMessage",
        error_code=400,
        description="Bad Request: chat not found",
        chat_id=BOB.id,
        times=2,
    )
    assert (await bot.send_message(ALICE.id, "c")).message_id > 0
    for _ in range(2):
        with pytest.raises(TelegramBadRequest, match="chat not found"):
            await bot.send_message(BOB.id, "d")
    await bot.send_message(BOB.id, "e")

    fake.block(BOB.id)
    with pytest.raises(TelegramForbiddenError, match="blocked by the user"):
        await bot.send_message(BOB.id, "f")
    assert [r.error_code for r in fake.requests] == [429, None, None, 400, 400, None, 403]
    assert [m.text for m in fake.messages_to(BOB.id)] == ["e"]

    with pytest.raises(TelegramBadRequest, match="Unsupported start tag"):
        await bot.send_message(ALICE.id, "a <br> b", parse_mode="HTML")
    sent = await bot.send_message(ALICE.id, "same")
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("same", chat_id=ALICE.id, message_id=sent.message_id)

    wrong = make_bot(fake, "999:WRONG")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await wrong.get_me()
    finally:
        await wrong.session.close()


async def test_commands_files_and_raw_http(fake: FakeTelegram, bot: Bot) -> None:
    commands = [BotCommand(command="start", description="Bắt đầu")]
    assert await bot.set_my_commands(
        commands, scope=BotCommandScopeAllPrivateChats(), language_code="vi"
    )
    request = fake.requests[-1]
    assert request.method == "setMyCommands"
    assert request.params["commands"] == [{"command": "start", "description": "Bắt đầu"}]
    assert fake.commands[("all_private_chats", "vi")] == request.params["commands"]
    got = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="vi")
    assert [(c.command, c.description) for c in got] == [("start", "Bắt đầu")]
    assert await bot.get_my_commands() == []

    png = b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + (3).to_bytes(4, "big") + (2).to_bytes(4, "big")
    photo = await bot.send_photo(ALICE.id, BufferedInputFile(png, filename="p.png"))
    assert photo.photo is not None
    assert (photo.photo[-1].width, photo.photo[-1].height) == (3, 2)
    assert fake.sent[-1].kind == "photo"
    assert fake.sent[-1].file_bytes == png
    file = await bot.get_file(photo.photo[-1].file_id)
    assert file.file_path is not None
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None
    assert downloaded.read() == png

    await fake.send_photo(BOB, b"jpeg-bytes")
    [update] = await bot.get_updates(timeout=0)
    assert update.message is not None
    assert update.message.photo is not None
    user_file = await bot.get_file(update.message.photo[0].file_id)
    assert user_file.file_size == len(b"jpeg-bytes")

    me = await bot.get_me()
    assert (me.id, me.username) == (123456, "thidua_test_bot")
    member = await bot.get_chat_member(-100, ALICE.id)
    assert member.status == "member"

    async with aiohttp.ClientSession() as client:
        async with client.get(f"{fake.url}/bot{TOKEN}/getme") as resp:
            assert (await resp.json())["result"]["is_bot"] is True
        async with client.post(f"{fake.url}/bot{TOKEN}/fooBar") as resp:
            body = await resp.json()
            assert (resp.status, body) == (
                404,
                {"ok": False, "error_code": 404, "description": "Not Found"},
            )
        payload = {"chat_id": 5, "text": "123", "reply_markup": '{"inline_keyboard": []}'}
        async with client.post(f"{fake.url}/bot{TOKEN}/sendMessage", json=payload) as resp:
            assert (await resp.json())["result"]["text"] == "123"
        async with client.post(
            f"{fake.url}/bot{TOKEN}/sendMessage", data={"chat_id": "6", "text": "form"}
        ) as resp:
            assert resp.status == 200
    assert fake.requests[-2].params["reply_markup"] == {"inline_keyboard": []}
    assert fake.requests[-1].params == {"chat_id": 6, "text": "form"}
