"""Notices go through the outbox (design decision 10): rendered in each recipient's locale,
one row per reachable chat, then flushed — sent at once within the rate budget, retried,
a member who blocked the bot marked unreachable and the secretariat told. Receipts of
secret ballots are never notices."""

from __future__ import annotations

import secrets
from typing import Any

from bot.core.models import Bloc, Locale
from bot.services.app import Services
from bot.services.outbox import notice_rows, to_group
from bot.services.outcomes import Notice


async def post_to_group(services: Services, bloc: Bloc, template: str, **context: Any) -> bool:
    """A public message (turnout, results) in the bloc's linked group, in Vietnamese."""
    if bloc.group_chat_id is None:
        return False
    now = services.clock.now()
    text = services.renderer.render(Locale.VI, template, **context)
    async with services.db.uow() as uow:
        rows = to_group(
            bloc.group_chat_id, text, key=f"group:{secrets.token_hex(8)}", bloc_id=bloc.id, now=now
        )
        await uow.outbox.enqueue(rows, now)
        await uow.commit()
    await services.outbox_flush()
    return True


async def deliver(services: Services, notices: list[Notice], *, bloc_id: int | None = None) -> int:
    """Queue every notice for its recipients and flush; returns how many rows were queued."""
    if not notices:
        return 0
    now = services.clock.now()
    queued = 0
    async with services.db.uow() as uow:
        for notice in notices:
            rows = await notice_rows(
                uow,
                services.renderer,
                notice,
                key=f"notice:{notice.template}:{secrets.token_hex(8)}:{{identity}}",
                bloc_id=bloc_id,
                now=now,
            )
            queued += await uow.outbox.enqueue(rows, now)
        await uow.commit()
    await services.outbox_flush()
    return queued
