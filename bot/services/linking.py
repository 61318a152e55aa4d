"""Linking a Telegram and a Zalo account into one identity (design decision 3: an identity
is reached through its chat accounts).

`/me` on one platform gives a one-time code; sending it to the bot on the other platform
moves that account onto the identity that asked for the code. Memberships of the account's
old identity move along (roles united where both were members of a bloc); an identity that
represents a different unit of the same bloc cannot be merged (refused, nothing changed).
The old identity keeps its history (votes, reports and audit rows name who acted then).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.invites import FAILED_ATTEMPTS_WINDOW, attempt_budget
from bot.core.linking import (
    LINK_BYTES,
    LINK_TTL,
    display_link_code,
    encode_link_code,
    hash_link_code,
    normalise_link_code,
)
from bot.core.models import DEFAULT_TIMEZONE, Membership, Platform
from bot.services.actors import Actor
from bot.services.app import Services
from bot.services.audit import record
from bot.services.outcomes import Reason, Rejected


@dataclass(frozen=True, slots=True)
class LinkCode:
    code: str  # display form XXXX-XXXX: shown once, only its hash is kept
    expires_at: datetime
    platform: Platform  # where it was asked for: it is to be sent on the other platform
    tz: str  # the current bloc's timezone, to say until when it is valid


@dataclass(frozen=True, slots=True)
class Linked:
    name: str  # the identity now acting on both
    platforms: tuple[Platform, ...]
    blocs: tuple[str, ...]


async def issue_link_code(services: Services, actor: Actor) -> LinkCode:
    now = services.clock.now()
    code = encode_link_code(services.token_bytes(LINK_BYTES))
    async with services.db.uow() as uow:
        await uow.identities.put_link_code(
            actor.identity.id, hash_link_code(code), now, now + LINK_TTL
        )
        bloc_id = actor.current_bloc_id
        bloc = await uow.blocs.get(bloc_id) if bloc_id is not None else None
        await uow.commit()
    tz = bloc.timezone if bloc is not None else DEFAULT_TIMEZONE
    return LinkCode(display_link_code(code), now + LINK_TTL, actor.account.platform, tz)


async def redeem_link_code(services: Services, actor: Actor, typed: str) -> Linked | Rejected:
    now = services.clock.now()
    account = actor.account
    async with services.db.uow() as uow:
        await uow.invites.lock_sender(account.platform, account.external_id)
        failures = await uow.invites.failures_since(
            account.platform, account.external_id, now - FAILED_ATTEMPTS_WINDOW
        )
        budget = attempt_budget(failures, now)
        if not budget.allowed:
            minutes = max(1, -(-int(budget.retry_after.total_seconds()) // 60))
            return Rejected(Reason.LINK_RATE_LIMITED, {"minutes": minutes})
        code = normalise_link_code(typed)
        target_id = await uow.identities.use_link_code(hash_link_code(code), now) if code else None
        if target_id is None:
            await uow.invites.add_failure(account.platform, account.external_id, now)
            await uow.commit()
            return Rejected(Reason.LINK_BAD)
        source_id = actor.identity.id
        if target_id == source_id:
            await uow.commit()  # the code is spent either way
            return Rejected(Reason.LINK_SELF)
        target = await uow.identities.get(target_id)
        if any(a.platform is account.platform for a in target.accounts):
            await uow.rollback()  # nothing changes; the code stays usable from the right chat
            return Rejected(Reason.LINK_TAKEN, {"platform": account.platform.value})
        theirs = {m.bloc_id: m for m in await uow.identities.memberships(target_id)}
        mine = await uow.identities.memberships(source_id)
        for m in mine:
            other = theirs.get(m.bloc_id)
            if other and other.unit_id and m.unit_id and other.unit_id != m.unit_id:
                bloc = await uow.blocs.require(m.bloc_id)
                await uow.rollback()
                return Rejected(Reason.LINK_CONFLICT, {"bloc": bloc.name})
        for m in mine:
            other = theirs.get(m.bloc_id)
            if other is None:
                await uow.identities.move_membership(source_id, target_id, m.bloc_id)
                continue
            await uow.identities.put_membership(
                Membership(
                    identity_id=target_id,
                    bloc_id=m.bloc_id,
                    unit_id=other.unit_id or m.unit_id,
                    roles=other.roles | m.roles,
                ),
                now,
            )
            await uow.identities.remove_membership(source_id, m.bloc_id)
        await uow.identities.move_accounts(source_id, target_id)
        if target.current_bloc_id is None and actor.identity.current_bloc_id is not None:
            await uow.identities.set_current_bloc(target_id, actor.identity.current_bloc_id)
        merged = await uow.identities.memberships(target_id)
        for m in merged:
            await record(
                uow,
                services,
                bloc_id=m.bloc_id,
                actor_identity_id=target_id,
                unit_id=m.unit_id,
                action="identity.linked",
                platform=account.platform.value,
                merged_identity=source_id,
            )
        blocs = [(await uow.blocs.require(m.bloc_id)).name for m in merged]
        linked = await uow.identities.get(target_id)
        await uow.commit()
    return Linked(
        name=linked.display_name,
        platforms=tuple(dict.fromkeys(a.platform for a in linked.accounts)),
        blocs=tuple(blocs),
    )
