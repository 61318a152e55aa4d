"""Composition helpers shared by `python -m bot run` and the demo: build, wire, serve."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import resource
import signal
from collections import OrderedDict
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
from aiohttp.web_protocol import RequestHandler
from redis.asyncio import Redis

from bot.config import Settings
from bot.core.models import Platform
from bot.core.ports import Clock
from bot.render import Renderer
from bot.services.app import Services
from bot.services.pdf import PdfConverter, find_soffice
from storage.broadcast import LocalBroadcast
from storage.broadcast_workers import PostgresBroadcast, RedisBroadcast
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
        web_url=settings.web.url,
        pdf=PdfConverter(find_soffice(settings.docs.soffice), timeout=settings.docs.pdf_timeout),
        channels=frozenset(
            platform
            for platform, token in (
                (Platform.TELEGRAM, settings.telegram.token),
                (Platform.ZALO, settings.zalo.token),
            )
            if token is not None
        ),
    )


def hall_broadcast(
    settings: Settings, db: Database
) -> LocalBroadcast | RedisBroadcast | PostgresBroadcast:
    """How the services tell the hall screens: Redis pub/sub when Redis is configured, else
    PostgreSQL's LISTEN/NOTIFY, else (SQLite: one process) within this process; so a cast on
    any worker reaches every screen, and so does a close by the tick."""
    if settings.redis_url:
        return RedisBroadcast(settings.redis_url)
    if db.engine.dialect.name == "postgresql":
        return PostgresBroadcast(db.engine)
    return LocalBroadcast()


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


def settle_heap() -> None:
    """Everything start-up made (modules, templates, the dispatcher, the web routes, SQL
    compiled so far) moved out of the garbage collector's sight, just before serving: a full
    collection then walks only what requests leave behind. bench/web.py: the longest full
    collection fell from 224 ms to 10 ms, the p99 of every page with it."""
    gc.collect()
    gc.freeze()


async def serve_app(
    app: web.Application, settings: Settings, started: Started, *, name: str = "/zalo"
) -> None:
    """A server of our own: the Zalo webhook when Telegram is not configured, or the web
    companion when no webhook runs (polling)."""
    await _listen(app, settings, started=started, name=name)


# A client must send a request's head within HEAD_TIMEOUT of connecting (or of the previous
# response: idle keep-alive connections close then too), and its body within BODY_TIMEOUT of
# the head; otherwise the connection is closed. Telegram sends an update at once, in a few
# kilobytes.
HEAD_TIMEOUT = 10.0
BODY_TIMEOUT = 10.0
# Connections held at once: at most this, and at most half the open-file limit (the rest is
# for the database, Redis, the Bot API and files).
MAX_CONNECTIONS = 1000


def raise_open_files_limit() -> int:
    """The open-file soft limit raised to the hard one where allowed; returns the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = 1 << 20 if hard == resource.RLIM_INFINITY else hard
        with suppress(ValueError, OSError):  # not allowed (a container): keep the soft one
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    return soft


class ConnectionGuard:
    """Caps the connections held at once. Beyond the cap the oldest connection that is not
    handling a request (a half-sent head, an idle keep-alive) is closed to make room — so a
    crowd of connections that never finish their heads cannot lock Telegram, the proxy or
    the health check out; a new one is refused only when every connection is busy."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: OrderedDict[RequestHandler, None] = OrderedDict()
        self._busy: set[RequestHandler] = set()
        self.evicted = 0

    def admit(self, handler: RequestHandler) -> None:
        self._open[handler] = None
        if len(self._open) <= self.limit:
            return
        victim = next((h for h in self._open if h not in self._busy), handler)
        del self._open[victim]
        self.evicted += 1
        victim.force_close()

    def forget(self, handler: RequestHandler) -> None:
        self._open.pop(handler, None)
        self._busy.discard(handler)

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Marks the connection busy while its request is handled, and closes it when the
        body has not arrived in full within BODY_TIMEOUT of the head."""
        protocol = request.protocol
        assert isinstance(protocol, RequestHandler)
        self._busy.add(protocol)
        timer: asyncio.TimerHandle | None = None
        expired = False
        if request.body_exists:
            content = request.content

            def too_slow() -> None:
                nonlocal expired
                if not content.is_eof():
                    expired = True
                    protocol.force_close()  # the handler's read ends: "connection lost"

            timer = asyncio.get_running_loop().call_later(BODY_TIMEOUT, too_slow)
        try:
            return await handler(request)
        except ConnectionError:
            if not expired:
                raise
            log.warning("%s: body not received within %.0f s: closed", request.path, BODY_TIMEOUT)
            # Answered to nobody (the connection is gone): aiohttp only notes it, no traceback.
            raise web.HTTPRequestTimeout() from None
        finally:
            self._busy.discard(protocol)
            if timer is not None:
                timer.cancel()


class _Guarded(asyncio.Protocol):
    """aiohttp's protocol for one connection, admitted through the guard first."""

    def __init__(self, inner: RequestHandler, guard: ConnectionGuard) -> None:
        self.inner, self.guard = inner, guard

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.inner.connection_made(transport)
        self.guard.admit(self.inner)

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self) -> None:
        self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.forget(self.inner)
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


async def _listen(
    app: web.Application, settings: Settings, *, started: Started | None, name: str
) -> None:
    files = raise_open_files_limit()
    guard = ConnectionGuard(max(8, min(MAX_CONNECTIONS, files // 2)))
    app.middlewares.insert(0, guard.middleware)
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=HEAD_TIMEOUT)
    await runner.setup()
    host, port = settings.webhook.host_port
    server = runner.server
    assert server is not None
    loop = asyncio.get_running_loop()
    # Several workers listen on one port (the kernel spreads connections among them).
    listening = await loop.create_server(
        lambda: _Guarded(server(), guard),
        host,
        port,
        reuse_address=True,
        reuse_port=worker_index() is not None,
        backlog=128,
    )
    if started is not None:
        await started()
    log.info(
        "webhook listening on %s:%s%s (at most %d connections)", host, port, name, guard.limit
    )
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        listening.close()
        await runner.cleanup()
