"""Delivering notices: each recipient gets the text in their own locale on each account."""

from __future__ import annotations

import logging

from bot.core.ports import OutgoingMessage
from bot.services.app import Services
from bot.services.outcomes import Notice

log = logging.getLogger(__name__)


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
            for account in accounts:
                ok = await services.notifier.send(
                    OutgoingMessage(account.platform, account.external_id, text)
                )
                if ok:
                    sent += 1
                    continue
                log.info("notice %s: account unreachable", notice.template)
                async with services.db.uow() as uow:
                    await uow.identities.mark_unreachable(account.platform, account.external_id)
                    await uow.commit()
    return sent
