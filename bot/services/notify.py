"""Delivering notices: each recipient gets the text in their own locale on each account."""

from __future__ import annotations

import logging
from typing import Any

from bot.core.models import Bloc, Locale, Platform
from bot.core.ports import Button, OutgoingMessage
from bot.services.app import Services
from bot.services.outcomes import Notice

log = logging.getLogger(__name__)


async def post_to_group(services: Services, bloc: Bloc, template: str, **context: Any) -> bool:
    """A public message (turnout, results) in the bloc's linked group, in Vietnamese."""
    if bloc.group_chat_id is None:
        return False
    text = services.renderer.render(Locale.VI, template, **context)
    return await services.notifier.send(
        OutgoingMessage(Platform.TELEGRAM, str(bloc.group_chat_id), text)
    )


async def deliver(services: Services, notices: list[Notice]) -> int:
    """Send every notice; returns how many messages went out. Unreachable accounts are marked."""
    sent = 0
    for notice in notices:
        async with services.db.uow() as uow:
            recipients = await uow.identities.many(notice.identity_ids)
            targets = [
                (ident, await uow.identities.reachable_accounts(ident.id)) for ident in recipients
            ]
        for ident, accounts in targets:
            text = services.renderer.render(ident.locale, notice.template, **notice.context)
            buttons = tuple(
                (
                    Button(
                        services.renderer.t(ident.locale, label[2:])
                        if label.startswith("t:")
                        else label,
                        callback_data=data,
                    ),
                )
                for label, data in notice.buttons
            )
            for account in accounts:
                ok = await services.notifier.send(
                    OutgoingMessage(account.platform, account.external_id, text, buttons)
                )
                if ok:
                    sent += 1
                    continue
                log.info("notice %s: account unreachable", notice.template)
                async with services.db.uow() as uow:
                    await uow.identities.mark_unreachable(account.platform, account.external_id)
                    await uow.commit()
    return sent
