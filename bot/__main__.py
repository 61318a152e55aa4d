"""Command line: run (polling | webhook), demo, migrate, audit verify. Nothing runs at import."""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Settings, SettingsError, load_settings, secret_key

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from bot.core.ports import Transport
    from bot.services.app import Services
    from scheduler.sender import Rationing
    from scheduler.tick import Ticker
    from storage.uow import Database

log = logging.getLogger("bot")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="thidua-bot")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the bot (the offline demo when no token is set)")
    run.add_argument(
        "--workers",
        type=int,
        default=1,
        help="webhook worker processes sharing WEBHOOK__LISTEN (PostgreSQL and Redis needed)",
    )
    demo = sub.add_parser("demo", help="the offline conference demo against a fake Bot API")
    demo.add_argument("--out", type=Path, default=Path("demo-out"))
    demo.add_argument(
        "--serve",
        action="store_true",
        help="keep the finished demo's web pages open on 127.0.0.1 and print sign-in links",
    )
    demo.add_argument("--port", type=int, default=8080, help="the web pages' port (--serve)")
    sub.add_parser("migrate", help="apply database migrations")
    audit = sub.add_parser("audit", help="audit log tools")
    audit.add_argument("action", choices=["verify"])
    audit.add_argument(
        "--head",
        action="append",
        default=[],
        metavar="HASH",
        help="a head printed on a record, minutes or result (16 to 64 hex digits): it must "
        "still be in the log; repeatable",
    )
    audit.add_argument(
        "--heads",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="a file of heads, one a line as printed on the documents (# comments)",
    )
    files = sub.add_parser(
        "export-files", help="copy the latest report of every unit of a period into DIR"
    )
    files.add_argument("--period", type=int, required=True, help="the period's id")
    files.add_argument("directory", type=Path)
    args = parser.parse_args(argv)

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"thidua-bot: {exc}", file=sys.stderr)  # noqa: T201 (the operator's one line)
        return 2
    from bot.startup import setup_logging

    setup_logging(settings)
    try:
        if args.command == "run":
            if not settings.has_token:
                log.info("no TELEGRAM__TOKEN or ZALO__TOKEN: running the offline demo")
                return _demo(Path("demo-out"), soffice=settings.docs.soffice)
            if args.workers > 1:
                from bot.supervisor import supervise

                return supervise(settings, args.workers)
            return asyncio.run(_run(settings))
        if args.command == "demo":
            return _demo(args.out, serve=args.serve, port=args.port, soffice=settings.docs.soffice)
        if args.command == "migrate":
            return asyncio.run(_migrate(settings))
        if args.command == "export-files":
            return asyncio.run(_export_files(settings, args.period, args.directory))
        return asyncio.run(_audit_verify(settings, args.head, args.heads))
    except SettingsError as exc:
        print(f"thidua-bot: {exc}", file=sys.stderr)  # noqa: T201
        return 2


def _demo(out: Path, *, serve: bool = False, port: int = 8080, soffice: str | None = None) -> int:
    from bot.demo import run_demo

    transcript = asyncio.run(run_demo(out, serve=serve, port=port, soffice=soffice))
    print(f"demo: transcript written to {transcript}")  # noqa: T201
    return 0


async def _run(settings: Settings) -> int:
    """Telegram, Zalo, or both — by which tokens are set — on one database, one outbox and
    one tick; stops on SIGINT/SIGTERM."""
    from urllib.parse import urlparse

    from aiogram.fsm.storage.base import BaseStorage
    from aiogram.fsm.storage.redis import RedisStorage
    from aiohttp import web

    from bot.core.models import Platform
    from bot.render import Renderer
    from bot.runtime import (
        HEALTH_PATH,
        build_services,
        hall_broadcast,
        health_handler,
        is_first_worker,
        make_bot,
        serve_app,
        serve_telegram,
        settle_heap,
        worker_index,
    )
    from bot.services.blocs import has_blocs
    from bot.services.clock import SystemClock
    from bot.services.secret_ballots import seal_legacy_votes
    from bot.services.zalo_quota import ZaloQuota
    from bot.startup import open_database
    from handlers.channels import Channels
    from handlers.telegram import create_dispatcher
    from handlers.telegram.menus import set_default_menus
    from handlers.telegram.notifier import TelegramNotifier
    from handlers.web.app import mount_web
    from handlers.web.base import WebConfig
    from handlers.zalo.bot import WEBHOOK_PATH, ZaloBot
    from handlers.zalo.charts import ChartShelf
    from handlers.zalo.client import ZaloClient
    from handlers.zalo.conversation import conversation_storage
    from handlers.zalo.notifier import ZaloNotifier
    from scheduler.tick import start_scheduler
    from storage.broadcast import LocalBroadcast
    from storage.broadcast_workers import PostgresBroadcast, RedisBroadcast
    from storage.ledger import MemoryLedger, RedisLedger, UpdateLedger
    from storage.redis_client import redis_client, redis_options

    audit_key = secret_key(settings, "audit_key")
    ballot_secret = secret_key(settings, "ballot_secret")
    # Under `run --workers N` the supervisor migrated before starting the workers.
    db = await open_database(settings, migrate=worker_index() is None)
    await _check_keys(db, ballot_secret, audit_key)
    if await seal_legacy_votes(db, ballot_secret, secrets.token_bytes):
        log.info("secret ballots stored before sealing existed are now sealed")
    tg_token, zalo_token = settings.telegram.token, settings.zalo.token
    bot = make_bot(tg_token.get_secret_value(), settings.telegram.api_url) if tg_token else None
    clock, renderer = SystemClock(), Renderer()
    # Every message sent on Zalo is counted against its monthly quota (the client's hook).
    quota = ZaloQuota(db, clock, renderer, limit=settings.zalo.monthly_quota)
    zalo = (
        ZaloClient(zalo_token.get_secret_value(), settings.zalo.api_url, on_sent=quota.record)
        if zalo_token
        else None
    )
    adapters: dict[Platform, Transport] = {}
    if bot is not None:
        adapters[Platform.TELEGRAM] = TelegramNotifier(bot)
    if zalo is not None:
        adapters[Platform.ZALO] = ZaloNotifier(zalo)
    channels = Channels(adapters)
    stop = asyncio.Event()
    storage: RedisStorage | None = None
    zalo_storage: BaseStorage | None = None
    broadcast: LocalBroadcast | RedisBroadcast | PostgresBroadcast = LocalBroadcast()
    try:
        if is_first_worker():
            db.purge_sealed()  # leftovers of a count stopped between its commit and rewrite
        services = build_services(db, clock, settings, audit_key, ballot_secret, renderer=renderer)
        broadcast = services.broadcast = hall_broadcast(settings, db)
        if is_first_worker() and not settings.admin_ids and not await has_blocs(services):
            log.warning(
                "ADMIN_IDS is empty and there is no bloc yet: nobody can create one. Send /me to "
                "the bot (or «toi» on Zalo) to see your account id, put it in ADMIN_IDS (e.g. "
                "ADMIN_IDS=telegram:123456789) and restart"
            )
        scheduler = start_scheduler(
            _ticker(services, channels, settings, quota if zalo is not None else None)
        )
        # Conversation state (Telegram's FSM, Zalo's menus): Redis when several workers serve
        # the bot, else this process's memory.
        storage = (
            RedisStorage.from_url(settings.redis_url, connection_kwargs=redis_options())
            if settings.redis_url
            else storage
        )
        zalo_storage = conversation_storage(settings.redis_url)
        # Updates handled once across workers: Redis when configured, else this process.
        ledger: UpdateLedger = (
            RedisLedger(redis_client(settings.redis_url)) if settings.redis_url else MemoryLedger()
        )
        healthz = health_handler(db, settings.redis_url)
        web_config = (
            WebConfig(
                settings.web.url,
                telegram_token=tg_token.get_secret_value() if tg_token else None,
                behind_proxy=settings.web.behind_proxy,
            )
            if settings.web.url
            else None
        )

        def with_web(app: web.Application) -> None:
            """The web companion on the server that takes the webhooks (WEB__URL set)."""
            if web_config is not None:
                mount_web(app, services, web_config)

        jobs: list[Awaitable[None]] = []
        if worker_index() is not None:  # under `run --workers N`: stop with the supervisor
            from bot.supervisor import watch_supervisor

            jobs.append(watch_supervisor())
        mount: Callable[[web.Application], None] | None = None
        zalo_hooked: Callable[[], Awaitable[None]] | None = None
        if zalo is not None:
            await zalo.get_me()  # a wrong token fails here, loudly
            files_url = settings.zalo.files_url
            charts = (
                ChartShelf(settings.files_dir / "zalo-charts", files_url) if files_url else None
            )
            zbot = ZaloBot(services, zalo, zalo_storage, charts, ledger)
            hook_secret = settings.zalo.webhook_secret
            if settings.webhook.url and hook_secret is not None:
                # The Zalo webhook beside Telegram's (same server), or on a server of its own.
                origin = urlparse(settings.webhook.url)
                hook_url = f"{origin.scheme}://{origin.netloc}{WEBHOOK_PATH}"
                secret_value = hook_secret.get_secret_value()

                async def zalo_hooked_now() -> None:
                    assert zalo is not None
                    if is_first_worker():  # one URL for every worker
                        await zalo.set_webhook(hook_url, secret_value)
                        log.info("Zalo webhook set")

                zalo_hooked = zalo_hooked_now
                if bot is not None:

                    def mount_zalo(app: web.Application) -> None:
                        zbot.mount(app, secret_value)
                        app.router.add_get(HEALTH_PATH, healthz)
                        with_web(app)

                    mount = mount_zalo
                else:
                    own = zbot.webhook_app(secret_value)
                    own.router.add_get(HEALTH_PATH, healthz)
                    with_web(own)
                    jobs.append(serve_app(own, settings, zalo_hooked_now))
                log.info("Zalo bot starting (webhook)")
            else:
                if is_first_worker():  # Zalo has no offset: one poller only
                    await zalo.delete_webhook()
                    jobs.append(zbot.poll(stop))
                if charts is not None:
                    log.warning(
                        "ZALO__FILES_URL is set but Zalo runs by long polling: no webhook server "
                        "serves %s; serve that directory at ZALO__FILES_URL yourself",
                        charts.directory,
                    )
                log.info("Zalo bot starting (long polling)")
        if bot is not None:
            me = await bot.get_me()
            services.bot_username = me.username or ""
            if is_first_worker():
                await set_default_menus(bot, services.renderer)
            dp = create_dispatcher(services, storage=storage, ledger=ledger)
            if mount is None:

                def mount_health(app: web.Application) -> None:
                    app.router.add_get(HEALTH_PATH, healthz)
                    with_web(app)

                mount = mount_health
            log.info("bot @%s starting", services.bot_username)

            async def telegram() -> None:
                try:  # handles the signals itself
                    await serve_telegram(bot, dp, settings, mount=mount, started=zalo_hooked)
                finally:
                    stop.set()

            jobs.append(telegram())
        elif zalo_hooked is None:
            _stop_on_signals(stop)
        webhook_server = bool(settings.webhook.url) and (
            bot is not None or zalo_hooked is not None
        )
        if web_config is not None and not webhook_server:
            # Polling: no webhook server runs, so the web companion gets one of its own.
            own_web = web.Application()
            own_web.router.add_get(HEALTH_PATH, healthz)
            with_web(own_web)
            jobs.append(serve_app(own_web, settings, _nothing, name=web_config.prefix))
        settle_heap()
        try:
            await _until_stopped(jobs, stop)
        finally:
            scheduler.shutdown(wait=False)
    finally:
        if bot is not None:
            await bot.session.close()
        if zalo is not None:
            await zalo.close()
        if storage is not None:
            await storage.close()
        if zalo_storage is not None:
            await zalo_storage.close()
        if not isinstance(broadcast, LocalBroadcast):
            await broadcast.close()
        await db.dispose()
    return 0


async def _nothing() -> None:
    return None


def _stop_on_signals(stop: asyncio.Event) -> None:
    import signal

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def _until_stopped(jobs: list[Awaitable[None]], stop: asyncio.Event) -> None:
    """Run the channels until `stop`; a long poll in flight is cancelled, not waited for."""
    tasks = [asyncio.ensure_future(job) for job in jobs]
    waiter = asyncio.ensure_future(stop.wait())
    try:
        done, _ = await asyncio.wait([*tasks, waiter], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not waiter and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        stop.set()
        for task in [*tasks, waiter]:
            task.cancel()
        await asyncio.gather(*tasks, waiter, return_exceptions=True)


def _ticker(
    services: Services, transport: Transport, settings: Settings, quota: Rationing | None
) -> Ticker:
    """The tick and its sender: the rate budget in Redis when configured (every worker may
    send), else in this process (only the tick-lock holder sends); Zalo's queue rationed by
    its monthly quota."""
    from scheduler.ratelimit import LocalRateLimiter, RateLimiter, RedisRateLimiter
    from scheduler.sender import Sender
    from storage.redis_client import redis_client

    limiter: RateLimiter = (
        RedisRateLimiter(redis_client(settings.redis_url))
        if settings.redis_url
        else LocalRateLimiter()
    )
    from scheduler.tick import Ticker

    sender = Sender(
        services.db, transport, limiter, services.clock, services.renderer, quota=quota
    )
    return Ticker(services, sender, shared_budget=settings.redis_url is not None)


async def _check_keys(db: Database, ballot_secret: bytes, audit_key: bytes) -> None:
    """BALLOT_SECRET and AUDIT_KEY against their key-check values in the database (stored on
    first start): another key is refused in one line naming the setting."""
    from bot.services.audit import AuditKeyChangedError, ensure_audit_key
    from bot.services.clock import SystemClock
    from bot.services.secret_ballots import BallotSecretChangedError, ensure_ballot_secret

    try:
        await ensure_ballot_secret(db, ballot_secret, SystemClock().now())
        await ensure_audit_key(db, audit_key, SystemClock().now())
    except (BallotSecretChangedError, AuditKeyChangedError) as exc:
        await db.dispose()
        raise SettingsError(str(exc)) from None


async def _preflight(settings: Settings) -> int:
    """What every worker would find wrong, found once by the supervisor before any starts:
    the keys, the database (reachable, then migrated) and the key checks of BALLOT_SECRET and
    AUDIT_KEY."""
    from bot.startup import open_database

    audit_key = secret_key(settings, "audit_key")
    ballot_secret = secret_key(settings, "ballot_secret")
    db = await open_database(settings)
    await _check_keys(db, ballot_secret, audit_key)
    await db.dispose()
    print("migrations applied")  # noqa: T201
    return 0


async def _migrate(settings: Settings) -> int:
    from bot.startup import open_database

    db = await open_database(settings)
    await db.dispose()
    print("migrations applied")  # noqa: T201
    return 0


async def _export_files(settings: Settings, period_id: int, directory: Path) -> int:
    from bot.render import Renderer
    from bot.services.app import Services
    from bot.services.clock import SystemClock
    from bot.services.exports import export_files
    from bot.services.outcomes import Rejected
    from bot.services.reports import archive_entries
    from bot.startup import open_database
    from storage.files import FileStore

    db = await open_database(settings)
    try:
        services = Services(
            db=db,
            clock=SystemClock(),
            renderer=Renderer(),
            audit_key=secret_key(settings, "audit_key"),
            ballot_secret=secret_key(settings, "ballot_secret"),
            files=FileStore(settings.files_dir),
        )
        entries = await archive_entries(services, None, period_id=period_id)
    finally:
        await db.dispose()
    if isinstance(entries, Rejected):
        print(f"no period with id {period_id}", file=sys.stderr)  # noqa: T201
        return 1
    written = await asyncio.to_thread(export_files, entries, directory)
    for path in written:
        print(path)  # noqa: T201
    print(f"{len(written)} files written to {directory}")  # noqa: T201
    return 0


async def _audit_verify(settings: Settings, given: list[str], files: list[Path]) -> int:
    from bot.core.audit import HEAD_MIN_DIGITS, heads_in
    from bot.services.audit import verify_log
    from bot.startup import open_database

    heads, unreadable = heads_in("\n".join(given))
    if unreadable:
        print(  # noqa: T201
            f"--head {given[unreadable[0] - 1]!r} is not an audit head "
            f"({HEAD_MIN_DIGITS} to 64 hexadecimal digits)",
            file=sys.stderr,
        )
        return 2
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"cannot read the heads file {file}: {exc}", file=sys.stderr)  # noqa: T201
            return 2
        found, unreadable = heads_in(text)
        if unreadable:
            lines = ", ".join(str(n) for n in unreadable)
            print(  # noqa: T201
                f"{file}: line(s) {lines} hold no audit head ({HEAD_MIN_DIGITS} to 64 "
                "hexadecimal digits); blank lines and lines starting with # are skipped",
                file=sys.stderr,
            )
            return 2
        heads += found
    db = await open_database(settings)
    try:
        result = await verify_log(db, secret_key(settings, "audit_key"), heads)
    finally:
        await db.dispose()
    if result.key_changed:
        print(  # noqa: T201
            "AUDIT_KEY is not the key this database's audit log was written with (its "
            "key-check value differs): every row would fail; restore the original AUDIT_KEY"
        )
        return 1
    for r in result.reports:
        if r.broken is None:
            print(f"bloc {r.bloc_id}: {r.rows} rows OK, head {r.head}")  # noqa: T201
        elif r.broken.reason == "head":
            print(  # noqa: T201
                f"bloc {r.bloc_id}: BROKEN: the head says row seq={r.head_seq} but the log "
                f"ends at row seq={r.broken.seq}: rows were cut from the end, or the head "
                "was moved"
            )
        elif r.broken.reason == "head mac":
            print(  # noqa: T201
                f"bloc {r.bloc_id}: BROKEN: the head (row seq={r.head_seq}) does not carry "
                "a valid MAC under AUDIT_KEY: the head was moved back or rewritten (a head "
                "written before head MACs existed gets one at the bot's first start after "
                "the upgrade)"
            )
        else:
            print(  # noqa: T201
                f"bloc {r.bloc_id}: BROKEN at row seq={r.broken.seq} ({r.broken.reason})"
            )
    for h in result.heads:
        if h.bloc_id is None:
            print(  # noqa: T201
                f"head {h.head} MISSING: no row of the audit log has it; the log was cut "
                "after it or replaced"
            )
        else:
            print(f"head {h.head} found: bloc {h.bloc_id}, row seq={h.seq}")  # noqa: T201
    if not result.reports:
        print("audit log empty: nothing to verify")  # noqa: T201
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
