"""Member units: add in chat, import from a file, list with representatives, remove members,
remove a unit nothing refers to."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.models import Identity, Membership, Role, Unit
from bot.core.reports import extension
from bot.core.text import clean, name_key
from bot.core.units import (
    BadRow,
    ImportCheck,
    RowProblem,
    UnitTie,
    UnitTies,
    check_one,
    check_rows,
)
from bot.core.voting import BallotStatus
from bot.services.actors import Actor, secretariat_bloc
from bot.services.app import Services
from bot.services.audit import last_done, record
from bot.services.filecheck import ContentRefused, parse_checked, parse_problem
from bot.services.notify import queue_notices
from bot.services.outcomes import Notice, Reason, Rejected, pick_unit
from bot.services.tabular import MAX_FILE_BYTES, TABLE_KINDS, Unreadable, read_table
from storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class UnitAdded:
    unit: Unit
    number: int


@dataclass(frozen=True, slots=True)
class UnitRefused:
    problem: RowProblem


async def add_unit(
    services: Services, actor: Actor, *, name: str, short_name: str, contact: str = ""
) -> UnitAdded | UnitRefused | Rejected:
    """Add one member unit typed in chat."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        units = await uow.blocs.units(bloc_id)
        checked = check_one(
            name,
            short_name,
            contact,
            existing_names={name_key(u.name) for u in units},
            existing_shorts={name_key(u.short_name) for u in units},
        )
        if isinstance(checked, RowProblem):
            return UnitRefused(checked)
        (unit,) = await uow.blocs.add_units(bloc_id, [checked], services.clock.now())
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            unit_id=unit.id,
            action="unit.added",
            name=unit.name,
            short_name=unit.short_name,
        )
        await uow.commit()
    return UnitAdded(unit, len(units) + 1)


@dataclass(frozen=True, slots=True)
class UnitUpdated:
    unit: Unit
    changed: bool  # False: the form said what the unit already was (nothing recorded)


async def update_unit(
    services: Services,
    actor: Actor,
    *,
    unit_id: int,
    name: str,
    short_name: str,
    contact: str = "",
) -> UnitUpdated | UnitRefused | Rejected:
    """Correct a unit's name, short name or contact: the same checks as adding one (against
    the bloc's other units); the unit keeps its id, so its reports and votes stay its own."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        units = await uow.blocs.units(bloc_id)
        unit = next((u for u in units if u.id == unit_id), None)
        if unit is None:
            return Rejected(Reason.UNKNOWN_UNIT, {"value": str(unit_id)})
        others = [u for u in units if u.id != unit_id]
        checked = check_one(
            name,
            short_name,
            contact,
            existing_names={name_key(u.name) for u in others},
            existing_shorts={name_key(u.short_name) for u in others},
        )
        if isinstance(checked, RowProblem):
            return UnitRefused(checked)
        if (checked.name, checked.short_name, checked.contact) == (
            unit.name,
            unit.short_name,
            unit.contact,
        ):
            return UnitUpdated(unit, changed=False)
        updated = await uow.blocs.update_unit(unit_id, checked)
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            unit_id=unit_id,
            action="unit.updated",
            name=updated.name,
            short_name=updated.short_name,
            was_name=unit.name,
            was_short_name=unit.short_name,
            contact_changed=updated.contact != unit.contact,
        )
        await uow.commit()
    return UnitUpdated(updated, changed=True)


@dataclass(frozen=True, slots=True)
class Imported:
    units: tuple[Unit, ...]
    total: int


@dataclass(frozen=True, slots=True)
class ImportRefused:
    bad_rows: tuple[BadRow, ...] = ()
    unreadable: str | None = None  # tabular.Unreadable's vocabulary, or "content" (`file`)
    too_many: bool = False
    file: ContentRefused | None = None


Rows = tuple[tuple[int, tuple[str, ...]], ...]


@dataclass(frozen=True, slots=True)
class ImportPreview:
    """A file read and checked, nothing saved: the units it would add (`check.units`), or its
    bad rows. `rows` is the file as read (cells cleaned, trailing empty cells dropped, blank
    lines kept so line numbers and the header stay where they were): what `save_import`
    checks again and saves."""

    filename: str
    rows: Rows
    check: ImportCheck
    existing: int  # units the bloc has already (the new ones are numbered after them)


def carried_rows(rows: list[tuple[int, list[str]]]) -> Rows:
    """The rows in the form `check_rows` reads identically: each cell cleaned, the trailing
    empty ones dropped (both as `check_rows` does itself)."""
    carried: list[tuple[int, tuple[str, ...]]] = []
    for line, raw in rows:
        cells = [clean(c) for c in raw]
        while cells and not cells[-1]:
            cells.pop()
        carried.append((line, tuple(cells)))
    return tuple(carried)


async def _read_import(filename: str, data: bytes) -> Rows | ImportRefused:
    """The file's rows (parsed in the sandbox after the content check), or why not."""
    kind = extension(filename)
    if kind not in TABLE_KINDS:
        return ImportRefused(unreadable="type")
    if len(data) > MAX_FILE_BYTES:
        return ImportRefused(unreadable="size")
    rows = await parse_checked(kind, data, read_table, filename, data)
    if isinstance(rows, Unreadable):
        rows = parse_problem(kind, rows.why) or rows
    if isinstance(rows, ContentRefused):
        return ImportRefused(unreadable="content", file=rows)
    if isinstance(rows, Unreadable):
        return ImportRefused(unreadable=rows.why)
    return carried_rows(rows)


def _check(rows: Rows, units: list[Unit]) -> ImportCheck:
    return check_rows(
        [(line, list(cells)) for line, cells in rows],
        existing_names={name_key(u.name) for u in units},
        existing_shorts={name_key(u.short_name) for u in units},
    )


async def import_units(
    services: Services, actor: Actor, *, filename: str, data: bytes
) -> Imported | ImportRefused | Rejected:
    """Import units from CSV/XLSX: every row good, or nothing is imported."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    rows = await _read_import(filename, data)
    if isinstance(rows, ImportRefused):
        return rows
    return await save_import(services, actor, filename=filename, rows=rows)


async def preview_import(
    services: Services, actor: Actor, *, filename: str, data: bytes
) -> ImportPreview | ImportRefused | Rejected:
    """The web's first step: the file read and checked as `import_units` would, nothing
    saved (a file with bad rows is a preview too: the rows and what is wrong with each)."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    rows = await _read_import(filename, data)
    if isinstance(rows, ImportRefused):
        return rows
    async with services.db.uow() as uow:
        units = await uow.blocs.units(bloc_id)
    check = _check(rows, units)
    if not check.units and not check.bad_rows:
        return ImportRefused(unreadable="empty")
    return ImportPreview(filename, rows, check, len(units))


async def save_import(
    services: Services, actor: Actor, *, filename: str, rows: Rows
) -> Imported | ImportRefused | Rejected:
    """Check the rows against the bloc as it is now and save them all, or none."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        units = await uow.blocs.units(bloc_id)
        check = _check(rows, units)
        if not check.ok:
            if not check.units and not check.bad_rows:
                return ImportRefused(unreadable="empty")
            return ImportRefused(bad_rows=check.bad_rows, too_many=check.too_many)
        added = await uow.blocs.add_units(bloc_id, list(check.units), services.clock.now())
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action="units.imported",
            filename=filename[:100],
            count=len(added),
            unit_ids=[u.id for u in added],
        )
        await uow.commit()
    return Imported(tuple(added), len(units) + len(added))


@dataclass(frozen=True, slots=True)
class MemberView:
    identity: Identity
    roles: frozenset[Role]


@dataclass(frozen=True, slots=True)
class UnitView:
    number: int
    unit: Unit
    representatives: tuple[Identity, ...]
    open_invites: int


@dataclass(frozen=True, slots=True)
class UnitsView:
    bloc_name: str
    units: tuple[UnitView, ...]
    staff: tuple[MemberView, ...]  # secretariat and observers without a unit


async def list_units(services: Services, actor: Actor) -> UnitsView | Rejected:
    """Every unit with its joined representatives, for the secretariat."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        bloc = await uow.blocs.get(bloc_id)
        units = await uow.blocs.units(bloc_id)
        members = await uow.identities.members_of_bloc(bloc_id)
        invites = await uow.invites.active(bloc_id, services.clock.now())
    assert bloc is not None
    views = tuple(
        UnitView(
            number=i + 1,
            unit=u,
            representatives=tuple(
                ident for m, ident in members if m.unit_id == u.id and m.has(Role.REPRESENTATIVE)
            ),
            open_invites=sum(1 for inv in invites if inv.unit_id == u.id),
        )
        for i, u in enumerate(units)
    )
    staff = tuple(MemberView(ident, m.roles) for m, ident in members if m.unit_id is None)
    return UnitsView(bloc.name, views, staff)


async def unit_detail(services: Services, actor: Actor, ref: str) -> UnitView | Rejected:
    listing = await list_units(services, actor)
    if isinstance(listing, Rejected):
        return listing
    unit = pick_unit([v.unit for v in listing.units], ref)
    if isinstance(unit, Rejected):
        return unit
    return next(v for v in listing.units if v.unit.id == unit.id)


@dataclass(frozen=True, slots=True)
class MemberRemoved:
    identity: Identity
    unit: Unit | None


async def remove_member(
    services: Services, actor: Actor, *, bloc_id: int, unit_id: int, identity_id: int
) -> MemberRemoved | Rejected:
    """The secretariat takes a representative off a unit; other roles in the bloc stay.

    The bloc and unit come from the card the button was on, so a stale button acts on the
    bloc it was shown for, never on the actor's current bloc.
    """
    allowed = secretariat_bloc(actor, bloc_id)
    if isinstance(allowed, Rejected):
        return allowed
    async with services.db.uow() as uow:
        membership = await uow.identities.membership(identity_id, bloc_id)
        if (
            membership is None
            or membership.unit_id != unit_id
            or not membership.has(Role.REPRESENTATIVE)
        ):
            return Rejected(Reason.UNKNOWN_MEMBER)
        bloc = await uow.blocs.get(bloc_id)
        assert bloc is not None
        unit = await uow.blocs.unit(unit_id)
        person = await uow.identities.get(identity_id)
        remaining = membership.roles - {Role.REPRESENTATIVE}
        if remaining:
            await uow.identities.put_membership(
                Membership(identity_id, bloc_id, None, remaining), services.clock.now()
            )
        else:
            await uow.identities.remove_membership(identity_id, bloc_id)
        audit = await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            unit_id=unit_id,
            action="member.removed",
            identity=identity_id,
            kept_roles=sorted(r.value for r in remaining),
        )
        notice = Notice(
            (identity_id,),
            "member_removed_you",
            {"bloc": bloc.name, "unit": unit.name if unit else None},
        )
        now = services.clock.now()
        await queue_notices(uow, services, [notice], audit=audit, bloc_id=bloc_id, now=now)
        await uow.commit()
    await services.outbox_flush()
    return MemberRemoved(person, unit)


@dataclass(frozen=True, slots=True)
class RemovalPlan:
    """A unit that may be removed, and what its removal does: its open invites revoked."""

    unit: Unit
    open_invites: int


@dataclass(frozen=True, slots=True)
class UnitRemoved:
    unit: Unit
    invites_revoked: int


def _kept(unit: Unit, ties: UnitTies, *, ballot_open: bool) -> Rejected | None:
    """Why a unit stays: the records naming it (kept whatever is done) and a ballot open now
    (its base counts every member: removed, the count would change under the voters), else
    its members (taken off first, each told, as the console and /units N do)."""
    records = [*ties.records, *((UnitTie.BALLOT_OPEN,) if ballot_open else ())]
    if records:
        return Rejected(
            Reason.UNIT_KEPT,
            {"unit": unit.name, "unit_id": unit.id, "ties": [t.value for t in records]},
        )
    if ties.members:
        return Rejected(
            Reason.UNIT_HAS_MEMBERS,
            {"unit": unit.name, "unit_id": unit.id, "members": ties.members},
        )
    return None


async def _ballot_open(uow: UnitOfWork, bloc_id: int) -> bool:
    return any(b.ballot.status is BallotStatus.OPEN for b in await uow.votes.ballots(bloc_id))


async def _unit_of(uow: UnitOfWork, bloc_id: int, unit_id: int) -> Unit | Rejected:
    unit = await uow.blocs.unit(unit_id)
    if unit is None or unit.bloc_id != bloc_id:
        return Rejected(Reason.UNKNOWN_UNIT, {"value": str(unit_id)})
    return unit


async def removal_plan(
    services: Services, actor: Actor, *, unit_id: int
) -> RemovalPlan | Rejected:
    """What removing a unit would do, or why it may not be removed (nothing is changed): the
    confirm step, in chat and on the console."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        unit = await _unit_of(uow, bloc_id, unit_id)
        if isinstance(unit, Rejected):
            return unit
        kept = _kept(
            unit, await uow.blocs.unit_ties(unit.id), ballot_open=await _ballot_open(uow, bloc_id)
        )
        if kept is not None:
            return kept
        invites = await uow.invites.active(bloc_id, services.clock.now())
    return RemovalPlan(unit, sum(1 for i in invites if i.unit_id == unit.id))


async def remove_unit(services: Services, actor: Actor, *, unit_id: int) -> UnitRemoved | Rejected:
    """The secretariat removes a unit of its bloc entered by mistake: only while nothing
    refers to it (no report, vote, check-in, signature, acknowledgement, ballot choice or
    office; no member). A unit renamed or merged is corrected instead, keeping its records.
    Its open invites are revoked with it."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    now = services.clock.now()
    async with services.db.uow() as uow:
        unit = await _unit_of(uow, bloc_id, unit_id)
        if isinstance(unit, Rejected):
            return unit
        kept = _kept(
            unit,
            await uow.blocs.unit_ties(unit.id, lock=True),
            ballot_open=await _ballot_open(uow, bloc_id),
        )
        if kept is not None:
            return kept
        revoked = await uow.blocs.remove_unit(unit.id, now)
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            unit_id=unit.id,
            action="unit.removed",
            unit=unit.id,
            name=unit.name,
            short_name=unit.short_name,
            invites_revoked=revoked,
        )
        await uow.commit()
    return UnitRemoved(unit, revoked)


async def removed_unit_name(services: Services, actor: Actor, unit_id: int) -> str | None:
    """The name of a unit this bloc removed (from its audit row), for the page that says so;
    None for any other id."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return None
    async with services.db.uow() as uow:
        entry = await last_done(uow, bloc_id, "unit.removed", unit=unit_id)
    return None if entry is None else str(entry.details.get("name", ""))
