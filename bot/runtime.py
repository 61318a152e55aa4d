"""Composition helpers shared by `python -m bot run` and the demo: build, wire, serve."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from contextlib import suppress
from urllib.parse import urlparse

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.config import Settings
from bot.core.models import Platform
from bot.core.ports import Clock, Notifier
from bot.render import Renderer
from bot.services.app import Services
from storage.files import FileStore
from storage.uow import Database

log = logging.getLogger(__name__)


def make_bot(token: str, api_url: str | None) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url)) if api_url else None
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def build_services(
    db: Database,
    clock: Clock,
    notifier: Notifier,
    settings: Settings,
    audit_key: bytes,
    ballot_secret: bytes,
    *,
    renderer: Renderer | None = None,
) -> Services:
    return Services(
        db=db,
        clock=clock,
        notifier=notifier,
        renderer=renderer or Renderer(),
        audit_key=audit_key,
        ballot_secret=ballot_secret,
        files=FileStore(settings.files_dir),
        admins=settings.admins,
        channels=frozenset(
            platform
            for platform, token in (
                (Platform.TELEGRAM, settings.telegram.token),
                (Platform.ZALO, settings.zalo.token),
            )
            if token is not None
        ),
    )


Mount = Callable[[web.Application], None]
Started = Callable[[], Awaitable[None]]


async def serve_telegram(
    bot: Bot,
    dp: Dispatcher,
    settings: Settings,
    *,
    mount: Mount | None = None,
    started: Started | None = None,
) -> None:
    """Long polling, or a webhook server when WEBHOOK__URL is set (`mount` adds other routes
    to it — the Zalo webhook —, `started` runs once it listens); stops on SIGINT/SIGTERM."""
    if settings.webhook.url:
        await _serve_webhook(bot, dp, settings, mount=mount, started=started)
        return
    if started is not None:
        await started()
    await bot.delete_webhook(drop_pending_updates=False)
    await dp.start_polling(bot, handle_signals=True, close_bot_session=False)


async def _serve_webhook(
    bot: Bot,
    dp: Dispatcher,
    settings: Settings,
    *,
    mount: Mount | None = None,
    started: Started | None = None,
) -> None:
    url = settings.webhook.url or ""
    path = urlparse(url).path or "/webhook"
    secret = settings.webhook.secret.get_secret_value() if settings.webhook.secret else None
    app = web.Application()
    SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token=secret).register(app, path=path)
    setup_application(app, dp, bot=bot)
    if mount is not None:
        mount(app)

    async def listening() -> None:
        await bot.set_webhook(
            url, secret_token=secret, allowed_updates=dp.resolve_used_update_types()
        )
        if started is not None:
            await started()

    await _listen(app, settings, started=listening, name=path)


async def serve_app(app: web.Application, settings: Settings, started: Started) -> None:
    """A webhook server of our own (the Zalo webhook when Telegram is not configured)."""
    await _listen(app, settings, started=started, name="/zalo")


async def _listen(
    app: web.Application, settings: Settings, *, started: Started | None, name: str
) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    host, port = settings.webhook.host_port
    await web.TCPSite(runner, host, port).start()
    if started is not None:
        await started()
    log.info("webhook listening on %s:%s%s", host, port, name)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
