"""Addressing outbox rows: a rendered text to a person's reachable chats, or to a group.

A text longer than one Telegram message is cut between lines into parts, each its own row
(`key`, `key#1`, …, sent in order); buttons go on the last part. A text may be rendered per
platform: what to type or open on Zalo is not what to tap on Telegram.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.core.models import Locale, Platform
from bot.core.ports import Button, OutgoingMessage
from bot.core.text import split_message
from bot.render import Renderer
from bot.services.outcomes import Notice
from storage.outbox_repos import Queued
from storage.uow import UnitOfWork

# A text for every chat, or the text as read on each platform.
Text = str | Callable[[Platform], str]


def _parts(
    text: str, key: str, buttons: tuple[tuple[Button, ...], ...]
) -> list[tuple[str, str, tuple[tuple[Button, ...], ...]]]:
    parts = split_message(text)
    return [
        (f"{key}#{i}" if i else key, part, buttons if i == len(parts) - 1 else ())
        for i, part in enumerate(parts)
    ]


async def to_person(
    uow: UnitOfWork,
    identity_id: int,
    text: Text,
    *,
    key: str,
    bloc_id: int | None,
    now: datetime,
    buttons: tuple[tuple[Button, ...], ...] = (),
) -> list[Queued]:
    """Rows for each reachable chat of the person, on every platform they joined through (a
    member who blocked the bot is skipped). `key` is the producer's dedup key; a person on two
    platforms gets a row on each: Telegram's under the key itself (as it always was), another
    platform's under `key@platform`. `text` may be a function of the platform (`for_chat`)."""
    return [
        Queued(
            dedup_key=part_key
            if account.platform is Platform.TELEGRAM
            else f"{part_key}@{account.platform.value}",
            message=OutgoingMessage(account.platform, account.external_id, part, part_buttons),
            not_before=now,
            bloc_id=bloc_id,
            identity_id=identity_id,
        )
        for account in await uow.identities.reachable_accounts(identity_id)
        if account.platform in (Platform.TELEGRAM, Platform.ZALO)
        for part_key, part, part_buttons in _parts(
            text if isinstance(text, str) else text(account.platform), key, buttons
        )
    ]


def for_chat(
    renderer: Renderer,
    locale: Locale | str,
    template: str,
    *,
    web_url: str | None,
    **context: Any,
) -> Callable[[Platform], str]:
    """A template rendered for each platform it goes to (`Renderer.chat`): on Zalo what to type
    there, or the web page's address when the web companion is on (`web_url`)."""
    return lambda platform: renderer.chat(
        locale, template, platform, **{"web_url": web_url, **context}
    )


def to_group(
    group_chat_id: int | None, text: str, *, key: str, bloc_id: int, now: datetime
) -> list[Queued]:
    """Rows for the bloc's linked group (none when no group is linked)."""
    if group_chat_id is None:
        return []
    return [
        Queued(
            dedup_key=part_key,
            message=OutgoingMessage(Platform.TELEGRAM, str(group_chat_id), part),
            not_before=now,
            bloc_id=bloc_id,
            is_group=True,
        )
        for part_key, part, _ in _parts(text, key, ())
    ]


async def notice_rows(
    uow: UnitOfWork,
    renderer: Renderer,
    notice: Notice,
    *,
    key: str,
    bloc_id: int | None,
    now: datetime,
    web_url: str | None,
) -> list[Queued]:
    """A notice as outbox rows: rendered in each recipient's locale and for each platform
    (`web_url`: the web companion's, which a Zalo notice points to), buttons labelled from
    the catalog. `key` holds `{identity}`, filled per recipient."""
    rows: list[Queued] = []
    for ident in await uow.identities.many(notice.identity_ids):
        text = for_chat(renderer, ident.locale, notice.template, web_url=web_url, **notice.context)
        buttons = tuple(
            (
                Button(
                    renderer.t(ident.locale, label[2:]) if label.startswith("t:") else label,
                    callback_data=data,
                ),
            )
            for label, data in notice.buttons
        )
        rows += await to_person(
            uow,
            ident.id,
            text,
            key=key.format(identity=ident.id),
            bloc_id=bloc_id,
            now=now,
            buttons=buttons,
        )
    return rows
