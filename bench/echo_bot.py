"""A bare aiogram echo bot behind a webhook: the framework's ceiling in bench/throughput.py.

    .venv/bin/python bench/echo_bot.py --api-url URL --listen 127.0.0.1:PORT --secret S
        [--reuse-port]

One router, one handler (`message.answer(message.text)`), the same webhook handler, Bot
session and logging level as the real bot; nothing else. With --reuse-port several copies
share one port, as the bot's workers do. GET /healthz answers {"pid"}.
"""

from __future__ import annotations

import argparse
import logging
import os

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web


async def echo(message: Message) -> None:
    await message.answer(message.text or "…")


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"ok": True, "pid": os.getpid()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--listen", required=True, help="host:port")
    parser.add_argument("--secret", required=True)
    parser.add_argument("--path", default="/tg/webhook")
    parser.add_argument("--reuse-port", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)  # as the bot: one INFO line per handled update
    router = Router(name="echo")
    router.message.register(echo)
    dp = Dispatcher()
    dp.include_router(router)
    bot = Bot(
        args.token,
        session=AiohttpSession(api=TelegramAPIServer.from_base(args.api_url)),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    app = web.Application()
    SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token=args.secret).register(
        app, path=args.path
    )
    setup_application(app, dp, bot=bot)
    app.router.add_get("/healthz", healthz)
    host, _, port = str(args.listen).rpartition(":")
    web.run_app(
        app,
        host=host,
        port=int(port),
        reuse_port=bool(args.reuse_port),
        access_log=None,
        print=None,
    )


if __name__ == "__main__":
    main()
