"""Invites and joining: issue, revoke, join by code, confirm a move, guard codes in groups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.invites import (
    CODE_BYTES,
    FAILED_ATTEMPTS_WINDOW,
    AttemptBudget,
    InviteRejection,
    attempt_budget,
    check_invite,
    display_code,
    encode_code,
    find_codes,
    hash_code,
    normalise_code,
    ttl_for,
)
from bot.core.models import Account, Bloc, Invite, Membership, Role, Unit
from bot.core.text import clean
from bot.services.actors import Actor, secretariat_bloc
from bot.services.app import Services
from bot.services.audit import record
from bot.services.notify import queue_notices
from bot.services.outcomes import Notice, Reason, Rejected, pick_unit
from storage.uow import UnitOfWork

MAX_USES_LIMIT = 20


@dataclass(frozen=True, slots=True)
class IssuedInvite:
    unit: Unit | None
    role: Role
    code: str
    expires_at: datetime
    max_uses: int
    revoked_before: int
    timezone: str

    @property
    def display(self) -> str:
        return display_code(self.code)


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


async def _issue(
    uow: UnitOfWork,
    services: Services,
    actor: Actor,
    *,
    bloc_id: int,
    unit: Unit | None,
    role: Role,
    max_uses: int,
) -> IssuedInvite:
    now = services.clock.now()
    revoked = 0
    if unit is not None:
        # Re-issuing replaces the unit's open invites: only the newest code works.
        for old in await uow.invites.active(bloc_id, now):
            if old.unit_id == unit.id:
                await uow.invites.revoke(old.id, now, "reissued")
                revoked += 1
    code = encode_code(services.token_bytes(CODE_BYTES))
    invite = await uow.invites.add(
        bloc_id=bloc_id,
        unit_id=unit.id if unit else None,
        role=role,
        code_hash=hash_code(code),
        max_uses=max_uses,
        created_by=actor.identity.id,
        now=now,
        expires_at=now + ttl_for(role),
    )
    await record(
        uow,
        services,
        bloc_id=bloc_id,
        actor_identity_id=actor.identity.id,
        unit_id=invite.unit_id,
        action="invite.issued",
        invite=invite.id,
        role=role.value,
        max_uses=max_uses,
        expires_at=invite.expires_at.isoformat(),
        replaced=revoked,
    )
    bloc = await uow.blocs.get(bloc_id)
    tz = bloc.timezone if bloc else "Asia/Ho_Chi_Minh"
    return IssuedInvite(unit, role, code, invite.expires_at, max_uses, revoked, tz)


async def issue_invite(
    services: Services, actor: Actor, *, target: str, max_uses: int = 1
) -> IssuedInvite | Rejected:
    """A representative invite for a unit, or a secretariat/observer invite for the bloc."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    if not 1 <= max_uses <= MAX_USES_LIMIT:
        return Rejected(Reason.BAD_MAX_USES, {"limit": MAX_USES_LIMIT})
    role = _staff_role(target)
    async with services.db.uow() as uow:
        unit: Unit | None = None
        if role is None:
            picked = pick_unit(await uow.blocs.units(bloc_id), target)
            if isinstance(picked, Rejected):
                return picked
            unit, role = picked, Role.REPRESENTATIVE
        issued = await _issue(
            uow, services, actor, bloc_id=bloc_id, unit=unit, role=role, max_uses=max_uses
        )
        await uow.commit()
    return issued


def _staff_role(target: str) -> Role | None:
    word = clean(target).casefold()
    if word in {"secretariat", "thuong truc", "thường trực", "thư ký", "thu ky"}:
        return Role.SECRETARIAT
    if word in {
        "observer",
        "quan sat",
        "quan sát",
        "giám sát",
        "giam sat",
        "theo dõi",
        "theo doi",
    }:
        return Role.OBSERVER
    return None


async def issue_missing_invites(services: Services, actor: Actor) -> list[IssuedInvite] | Rejected:
    """One invite for every unit that has no representative yet (the usual first mailing)."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        units = await uow.blocs.units(bloc_id)
        if not units:
            return Rejected(Reason.NO_UNITS)
        members = await uow.identities.members_of_bloc(bloc_id)
        covered = {m.unit_id for m, _ in members if m.has(Role.REPRESENTATIVE)}
        issued = [
            await _issue(
                uow,
                services,
                actor,
                bloc_id=bloc_id,
                unit=u,
                role=Role.REPRESENTATIVE,
                max_uses=1,
            )
            for u in units
            if u.id not in covered
        ]
        await uow.commit()
    return issued


@dataclass(frozen=True, slots=True)
class InvitesRevoked:
    unit: Unit
    count: int


async def revoke_unit_invites(
    services: Services, actor: Actor, *, target: str
) -> InvitesRevoked | Rejected:
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    now = services.clock.now()
    async with services.db.uow() as uow:
        unit = pick_unit(await uow.blocs.units(bloc_id), target)
        if isinstance(unit, Rejected):
            return unit
        count = 0
        for invite in await uow.invites.active(bloc_id, now):
            if invite.unit_id == unit.id:
                await uow.invites.revoke(invite.id, now, "revoked")
                count += 1
                await record(
                    uow,
                    services,
                    bloc_id=bloc_id,
                    actor_identity_id=actor.identity.id,
                    unit_id=unit.id,
                    action="invite.revoked",
                    invite=invite.id,
                )
        await uow.commit()
    return InvitesRevoked(unit, count)


# --- joining -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JoinRefused:
    reason: InviteRejection
    retry_after: timedelta = timedelta(0)


@dataclass(frozen=True, slots=True)
class Joined:
    bloc: Bloc
    unit: Unit | None
    role: Role
    moved_from: Unit | None


@dataclass(frozen=True, slots=True)
class AlreadyMember:
    bloc: Bloc
    unit: Unit | None
    role: Role


@dataclass(frozen=True, slots=True)
class MoveNeeded:
    bloc: Bloc
    current: Unit
    target: Unit


async def guess_budget(uow: UnitOfWork, account: Account, now: datetime) -> AttemptBudget:
    """Whether this chat account may try another code (invite or link): its wrong codes of
    the last ten minutes, counted under a lock on the sender."""
    await uow.invites.lock_sender(account.platform, account.external_id)
    failures = await uow.invites.failures_since(
        account.platform, account.external_id, now - FAILED_ATTEMPTS_WINDOW
    )
    return attempt_budget(failures, now)


async def join(
    services: Services, actor: Actor, code_text: str
) -> Joined | MoveNeeded | AlreadyMember | JoinRefused:
    """Use an invite code: join its unit (or the secretariat / observers) of its bloc."""
    now = services.clock.now()
    account = actor.account
    async with services.db.uow() as uow:
        budget = await guess_budget(uow, account, now)
        if not budget.allowed:
            return JoinRefused(InviteRejection.RATE_LIMITED, budget.retry_after)
        code = normalise_code(code_text)
        invite = await uow.invites.by_hash(hash_code(code)) if code else None
        if invite is None:
            await uow.invites.add_failure(account.platform, account.external_id, now)
            await uow.commit()
            reason = InviteRejection.UNKNOWN if code else InviteRejection.MALFORMED
            return JoinRefused(reason)
        problem = check_invite(invite, now)
        if problem is not None:
            await uow.invites.add_failure(account.platform, account.external_id, now)
            await uow.commit()
            return JoinRefused(problem)
        outcome = await _apply_invite(uow, services, actor, invite, confirmed=False)
        await uow.commit()
    if isinstance(outcome, Joined):
        await services.outbox_flush()
    return outcome


async def confirm_move(
    services: Services, actor: Actor, *, accept: bool
) -> Joined | JoinRefused | AlreadyMember | Rejected:
    """Answer to "you already represent another unit: move?"."""
    async with services.db.uow() as uow:
        invite_id = await uow.invites.pop_pending(actor.identity.id)
        if invite_id is None:
            return Rejected(Reason.NO_PENDING)
        if not accept:
            await uow.commit()
            return Rejected(Reason.NO_PENDING, {"cancelled": True})
        invite = await uow.invites.get(invite_id)
        problem = check_invite(invite, services.clock.now()) if invite else InviteRejection.UNKNOWN
        if invite is None or problem is not None:
            await uow.commit()
            return JoinRefused(problem or InviteRejection.UNKNOWN)
        outcome = await _apply_invite(uow, services, actor, invite, confirmed=True)
        await uow.commit()
    assert not isinstance(outcome, MoveNeeded)
    if isinstance(outcome, Joined):
        await services.outbox_flush()
    return outcome


async def _apply_invite(
    uow: UnitOfWork, services: Services, actor: Actor, invite: Invite, *, confirmed: bool
) -> Joined | MoveNeeded | AlreadyMember:
    now = services.clock.now()
    bloc = await uow.blocs.get(invite.bloc_id)
    assert bloc is not None
    unit = await uow.blocs.unit(invite.unit_id) if invite.unit_id else None
    current = await uow.identities.membership(actor.identity.id, bloc.id)
    current_unit = await uow.blocs.unit(current.unit_id) if current and current.unit_id else None
    if (
        current is not None
        and current.has(invite.role)
        and (unit is None or current.unit_id == invite.unit_id)
    ):
        return AlreadyMember(bloc, unit, invite.role)
    if (
        invite.role is Role.REPRESENTATIVE
        and current_unit is not None
        and unit is not None
        and current_unit.id != unit.id
        and not confirmed
    ):
        await uow.invites.set_pending(actor.identity.id, invite.id, now)
        return MoveNeeded(bloc, current_unit, unit)
    roles = set(current.roles) if current else set()
    roles.add(invite.role)
    new_unit_id = unit.id if unit is not None else (current.unit_id if current else None)
    moved_from = (
        current_unit if unit is not None and current_unit and current_unit != unit else None
    )
    await uow.identities.put_membership(
        Membership(actor.identity.id, bloc.id, new_unit_id, frozenset(roles)), now
    )
    await uow.invites.use(invite.id)
    await uow.identities.set_current_bloc(actor.identity.id, bloc.id)
    audit = await record(
        uow,
        services,
        bloc_id=bloc.id,
        actor_identity_id=actor.identity.id,
        unit_id=new_unit_id,
        action="member.moved" if moved_from else "member.joined",
        invite=invite.id,
        role=invite.role.value,
        from_unit=moved_from.id if moved_from else None,
    )
    notices = await _join_notices(uow, actor, bloc, unit, invite.role, moved_from)
    await queue_notices(uow, services, notices, audit=audit, bloc_id=bloc.id, now=now)
    return Joined(bloc, unit, invite.role, moved_from)


async def _join_notices(
    uow: UnitOfWork,
    actor: Actor,
    bloc: Bloc,
    unit: Unit | None,
    role: Role,
    moved_from: Unit | None,
) -> tuple[Notice, ...]:
    members = await uow.identities.members_of_bloc(bloc.id)
    me = actor.identity.id
    secretariat = tuple(
        ident.id for m, ident in members if m.has(Role.SECRETARIAT) and ident.id != me
    )
    colleagues = tuple(
        ident.id
        for m, ident in members
        if unit is not None
        and m.unit_id == unit.id
        and ident.id != me
        and ident.id not in secretariat
    )
    context = {
        "person": actor.identity.display_name,
        "bloc": bloc.name,
        "unit": unit.name if unit else None,
        "role": role.value,
        "moved_from": moved_from.name if moved_from else None,
    }
    notices = []
    if colleagues:
        notices.append(Notice(colleagues, "joined_colleague", context))
    if secretariat:
        notices.append(Notice(secretariat, "joined_secretariat", context))
    return tuple(notices)


async def _revoke_posted(uow: UnitOfWork, services: Services, poster: str, invite: Invite) -> str:
    await uow.invites.revoke(invite.id, services.clock.now(), "posted_in_group")
    return await record(
        uow,
        services,
        bloc_id=invite.bloc_id,
        actor_identity_id=None,
        unit_id=invite.unit_id,
        action="invite.revoked",
        invite=invite.id,
        reason="posted_in_group",
        posted_by=poster,
    )


@dataclass(frozen=True, slots=True)
class CodesLeaked:
    count: int


async def guard_group_text(services: Services, poster: str, text: str) -> CodesLeaked | None:
    """Any live invite code seen in a group is revoked; its issuer is told to re-issue.

    `poster` names the chat account that posted it (an anonymous admin or a channel too),
    for the audit log; no identity is created for people who merely write in a group.
    """
    candidates = find_codes(text)
    if not candidates:
        return None
    now = services.clock.now()
    leaked = 0
    async with services.db.uow() as uow:
        for code in sorted(candidates):
            invite = await uow.invites.by_hash(hash_code(code))
            if invite is None or check_invite(invite, now) is not None:
                continue
            audit = await _revoke_posted(uow, services, poster, invite)
            leaked += 1
            bloc = await uow.blocs.get(invite.bloc_id)
            assert bloc is not None
            unit = await uow.blocs.unit(invite.unit_id) if invite.unit_id else None
            creator = await uow.invites.creator(invite.id)
            notice = Notice(
                (creator,) if creator is not None else (),
                "invite_leaked",
                {
                    "bloc": bloc.name,
                    "unit": unit.name if unit else None,
                    "role": invite.role.value,
                },
            )
            await queue_notices(uow, services, [notice], audit=audit, bloc_id=bloc.id, now=now)
        await uow.commit()
    if not leaked:
        return None
    await services.outbox_flush()
    return CodesLeaked(leaked)
