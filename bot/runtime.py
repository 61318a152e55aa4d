"""Composition helpers shared by `python -m bot run` and the demo: build, wire, serve."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from contextlib import suppress
from urllib.parse import urlparse

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from redis.asyncio import Redis

from bot.config import Settings
from bot.core.models import Platform
from bot.core.ports import Clock
from bot.render import Renderer
from bot.services.app import Services
from storage.files import FileStore
from storage.redis_client import redis_client
from storage.uow import Database

log = logging.getLogger(__name__)


def make_bot(token: str, api_url: str | None) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url)) if api_url else None
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def build_services(
    db: Database,
    clock: Clock,
    settings: Settings,
    audit_key: bytes,
    ballot_secret: bytes,
    *,
    renderer: Renderer | None = None,
) -> Services:
    return Services(
        db=db,
        clock=clock,
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


HEALTH_PATH = "/healthz"


def worker_index() -> int | None:
    """This process's number under `run --workers N` (None: the bot runs as one process)."""
    value = os.environ.get("THIDUA_WORKER", "")
    return int(value) if value.isdecimal() else None


def is_first_worker() -> bool:
    """Whether this process does what must happen once (set the webhook and the menus)."""
    return worker_index() in (None, 0)


def health_handler(
    db: Database, redis_url: str | None
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """GET /healthz: 200 when the database (and Redis, if configured) answer, else 503 with
    what failed — for the reverse proxy or the orchestrator; never a secret."""
    redis: Redis | None = redis_client(redis_url) if redis_url else None

    async def healthz(_: web.Request) -> web.Response:
        checks: dict[str, object] = {"worker": worker_index() or 0, "pid": os.getpid()}
        healthy = True
        try:
            async with asyncio.timeout(3):
                await db.ping()
            checks["database"] = "ok"
        except Exception as exc:  # reported, not raised: the probe must answer
            healthy, checks["database"] = False, f"error: {type(exc).__name__}"
        if redis is None:
            checks["redis"] = "not configured"
        else:
            try:
                async with asyncio.timeout(3):
                    await redis.ping()
                checks["redis"] = "ok"
            except Exception as exc:
                healthy, checks["redis"] = False, f"error: {type(exc).__name__}"
        return web.json_response({"ok": healthy, **checks}, status=200 if healthy else 503)

    return healthz


TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class UpdateWebhook(SimpleRequestHandler):
    """aiogram's webhook handler, except that a body which is not a Telegram update — not
    UTF-8 (or of an unknown charset), not JSON, nested deeper than the parser goes, JSON of
    another shape, or an update carrying no event (`{"update_id": 1}`) — is answered 400 at
    once, with one WARNING line that does not quote it (before: aiohttp answered 500 and
    logged a traceback, or aiogram answered 200 and its background task failed). A wrong or
    missing secret still gets 401 before the body is read; a body over aiohttp's
    `client_max_size` (1 MiB, its default) gets 413. A valid update goes on to aiogram's own
    handling unchanged (in the background), which parses the cached body once more (a few
    tens of microseconds)."""

    async def handle(self, request: web.Request) -> web.Response:
        bot = await self.resolve_bot(request)
        if self.verify_secret(request.headers.get(TELEGRAM_SECRET_HEADER, ""), bot):
            try:
                update = Update.model_validate(
                    await request.json(loads=bot.session.json_loads), context={"bot": bot}
                )
                update.event_type  # noqa: B018 (UpdateTypeLookupError: no event in it)
            except (ValueError, LookupError, RecursionError) as exc:
                # ValueError: UnicodeDecodeError, JSONDecodeError and pydantic's
                # ValidationError (whose text quotes the input: not logged); LookupError:
                # an unknown charset, or an update with none of the event kinds.
                log.warning("webhook: not a Telegram update (%s): 400", type(exc).__name__)
                return web.Response(text="Bad Request: not a Telegram update", status=400)
        return await super().handle(request)


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
    UpdateWebhook(dispatcher=dp, bot=bot, secret_token=secret).register(app, path=path)
    setup_application(app, dp, bot=bot)
    if mount is not None:
        mount(app)

    async def listening() -> None:
        if is_first_worker():  # the other workers share the same URL
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
    # Several workers listen on one port (the kernel spreads connections among them).
    await web.TCPSite(runner, host, port, reuse_port=worker_index() is not None).start()
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
