"""Telegram handlers: one Router per feature, gathered here onto a Dispatcher."""

from __future__ import annotations

from aiogram import Dispatcher, Router
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage

from bot.services.app import Services
from handlers.telegram import (
    bloc,
    common,
    conference,
    covenant,
    deadlines,
    errors,
    fallback,
    group,
    minutes,
    reports,
    standings,
    start,
    summary,
    units,
    voting,
    web,
)
from handlers.telegram.middlewares import ActorMiddleware, NfcMiddleware, UpdateOnceMiddleware
from storage.ledger import MemoryLedger, UpdateLedger


def make_routers() -> list[Router]:
    """Fresh routers (a Router attaches to one Dispatcher only); the fallback comes last."""
    return [
        group.make_guard_router(),
        start.make_router(),
        common.make_router(),
        bloc.make_router(),
        units.make_router(),
        reports.make_router(),
        voting.make_router(),
        conference.make_router(),
        deadlines.make_router(),
        covenant.make_router(),
        standings.make_router(),
        summary.make_router(),
        minutes.make_router(),
        web.make_router(),
        group.make_router(),
        fallback.make_router(),
    ]


def create_dispatcher(
    services: Services, storage: BaseStorage | None = None, ledger: UpdateLedger | None = None
) -> Dispatcher:
    dp = Dispatcher(storage=storage or MemoryStorage(), services=services)
    dp.update.outer_middleware(UpdateOnceMiddleware(ledger or MemoryLedger()))
    dp.update.outer_middleware(NfcMiddleware())
    actor = ActorMiddleware(services)
    dp.message.outer_middleware(actor)
    dp.edited_message.outer_middleware(actor)
    dp.callback_query.outer_middleware(actor)
    dp.include_routers(*make_routers(), errors.make_router(services))
    return dp
