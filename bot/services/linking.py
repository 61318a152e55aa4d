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

from bot.core.linking import (
    LINK_BYTES,
    LINK_TTL,
    display_link_code,
    encode_link_code,
    hash_link_code,
    normalise_link_code,
)
from bot.core.models import DEFAULT_TIMEZONE, Identity, Membership, Platform
from bot.services.actors import Actor
from bot.services.app import Services
from bot.services.audit import record
from bot.services.invites import guess_budget
from bot.services.outbox import to_person
from bot.services.outcomes import Reason, Rejected
from storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class LinkCode:
    code: str  # display form XXXX-XXXX: shown once, only its hash is kept
    expires_at: datetime
    platform: Platform  # where it was asked for: it is to be sent on the other platform
    tz: str  # the current bloc's timezone, to say until when it is valid


@dataclass(frozen=True, slots=True)
class LinkOffer:
    """What linking would do, shown before it is done: whose identity this account joins and
    which of its memberships go along. The code is not spent yet."""

    code_id: int  # kept server-side (conversation state) until the answer, never shown
    name: str  # the identity that asked for the code
    platforms: tuple[Platform, ...]  # its accounts
    blocs: tuple[str, ...]  # this account's blocs, whose roles go to that identity


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


async def _refusal(uow: UnitOfWork, actor: Actor, target: Identity) -> Rejected | None:
    """Why this account may not join `target` (checked when offered and again when done)."""
    if target.id == actor.identity.id:
        return Rejected(Reason.LINK_SELF)
    mine = await uow.identities.get(actor.identity.id)
    taken = {a.platform for a in target.accounts}
    clash = next((a.platform for a in mine.accounts if a.platform in taken), None)
    if clash is not None:
        return Rejected(Reason.LINK_TAKEN, {"platform": clash.value})
    theirs = {m.bloc_id: m for m in await uow.identities.memberships(target.id)}
    for m in await uow.identities.memberships(actor.identity.id):
        other = theirs.get(m.bloc_id)
        if other and other.unit_id and m.unit_id and other.unit_id != m.unit_id:
            bloc = await uow.blocs.require(m.bloc_id)
            return Rejected(Reason.LINK_CONFLICT, {"bloc": bloc.name})
    return None


async def offer_link(services: Services, actor: Actor, typed: str) -> LinkOffer | Rejected:
    """A code typed on the other platform: what linking would do (asked to confirm first,
    so nobody is talked into handing their account to someone else's code)."""
    now = services.clock.now()
    account = actor.account
    async with services.db.uow() as uow:
        budget = await guess_budget(uow, account, now)
        if not budget.allowed:
            minutes = max(1, -(-int(budget.retry_after.total_seconds()) // 60))
            return Rejected(Reason.LINK_RATE_LIMITED, {"minutes": minutes})
        code = normalise_link_code(typed)
        found = await uow.identities.live_link_code(hash_link_code(code), now) if code else None
        if found is None:
            await uow.invites.add_failure(account.platform, account.external_id, now)
            await uow.commit()
            return Rejected(Reason.LINK_BAD)
        code_id, target_id = found
        target = await uow.identities.get(target_id)
        refused = await _refusal(uow, actor, target)
        if refused is not None:
            return refused
        blocs = [
            (await uow.blocs.require(m.bloc_id)).name
            for m in await uow.identities.memberships(actor.identity.id)
        ]
    return LinkOffer(
        code_id,
        target.display_name,
        tuple(dict.fromkeys(a.platform for a in target.accounts)),
        tuple(blocs),
    )


async def link(services: Services, actor: Actor, code_id: int) -> Linked | Rejected:
    """Confirmed: this account (and the identity's other accounts, memberships and work in
    progress) joins the identity that asked for the code; the code is spent."""
    now = services.clock.now()
    account = actor.account
    async with services.db.uow() as uow:
        target_id = await uow.identities.spend_link_code(code_id, now)
        if target_id is None:
            return Rejected(Reason.LINK_BAD)
        target = await uow.identities.get(target_id)
        refused = await _refusal(uow, actor, target)
        if refused is not None:
            await uow.rollback()  # nothing changes; the code stays usable
            return refused
        source_id = actor.identity.id
        theirs = {m.bloc_id: m for m in await uow.identities.memberships(target_id)}
        for m in await uow.identities.memberships(source_id):
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
        # The code's owner is told on the accounts they had (not on the one just linked),
        # queued with the change itself.
        told = services.renderer.render(
            target.locale,
            "link_notice",
            platform=account.platform.value,
            name=actor.identity.display_name,
        )
        await uow.outbox.enqueue(
            await to_person(uow, target_id, told, key=f"linked:{code_id}", bloc_id=None, now=now),
            now,
        )
        await uow.identities.move_drafts(source_id, target_id)
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
    await services.outbox_flush()
    return Linked(
        name=linked.display_name,
        platforms=tuple(dict.fromkeys(a.platform for a in linked.accounts)),
        blocs=tuple(blocs),
    )
