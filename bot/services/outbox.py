"""Addressing outbox rows: a rendered text to a person, on the chats that can reach them."""

from __future__ import annotations

from datetime import datetime

from bot.core.models import Platform
from bot.core.ports import Button, OutgoingMessage
from storage.outbox_repos import Queued
from storage.uow import UnitOfWork


async def to_person(
    uow: UnitOfWork,
    identity_id: int,
    text: str,
    *,
    key: str,
    bloc_id: int,
    now: datetime,
    buttons: tuple[tuple[Button, ...], ...] = (),
) -> list[Queued]:
    """One row per reachable Telegram chat of the person (a member who blocked the bot is
    skipped; Zalo delivery comes with the Zalo channel). `key` is the producer's dedup key."""
    return [
        Queued(
            dedup_key=key,
            message=OutgoingMessage(account.platform, account.external_id, text, buttons),
            not_before=now,
            bloc_id=bloc_id,
            identity_id=identity_id,
        )
        for account in await uow.identities.reachable_accounts(identity_id)
        if account.platform is Platform.TELEGRAM
    ]
