"""Notices go through the outbox (design decision 10), written by the use case itself in its
own transaction: a crash after its commit cannot lose them, and no handler or route has a
delivery to remember. The sender sends them within the rate budget, retries, marks a member
who blocked the bot unreachable and tells the secretariat. Receipts of secret ballots are
never notices."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bot.core.models import Bloc, Locale
from bot.services.app import Services
from bot.services.outbox import notice_rows, to_group
from bot.services.outcomes import Notice
from storage.uow import UnitOfWork


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


async def queue_notices(
    uow: UnitOfWork,
    services: Services,
    notices: Iterable[Notice],
    *,
    audit: str,
    bloc_id: int | None,
    now: datetime,
) -> int:
    """Queue a use case's notices in its transaction, rendered in each recipient's locale,
    one row per reachable chat, under `notice:{template}:{event}:{identity}`; the event is
    the change's audit row (`audit`: the head hash `record` returned), so the key is the
    same however often it is built. Returns how many rows are new; the use case flushes
    (`Services.outbox_flush`) after its commit when there are any."""
    event = audit[:16]
    rows = []
    for notice in notices:
        rows += await notice_rows(
            uow,
            services.renderer,
            notice,
            key=f"notice:{notice.template}:{event}:{{identity}}",
            bloc_id=bloc_id,
            now=now,
            web_url=services.web_url,
        )
    return await uow.outbox.enqueue(rows, now)
