"""Repositories: queries over the tables, returning core values. They never commit."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Table, bindparam, func, text, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.audit import GENESIS, AuditEntry, chain_hash, head_mac
from bot.core.deadlines import ReminderSettings
from bot.core.models import (
    Account,
    Bloc,
    BlocKind,
    BlocLevel,
    Identity,
    Invite,
    Locale,
    Membership,
    Platform,
    Role,
    Unit,
)
from bot.core.text import name_key
from bot.core.units import UnitDraft, UnitTie, UnitTies
from storage.tables import (
    AccountRow,
    AttendanceRow,
    AuditHeadRow,
    AuditRow,
    BallotOptionRow,
    BlocRow,
    ConferenceRow,
    CovenantSignatureRow,
    DeadlineAckRow,
    FailedCodeRow,
    IdentityRow,
    InviteRow,
    LinkCodeRow,
    MembershipRow,
    OpenVoteRow,
    PendingJoinRow,
    PeriodTargetRow,
    ReportDraftRow,
    ScoreEntryRow,
    SealedDraftRow,
    SecretRegisterRow,
    SubmissionRow,
    UnitRow,
    VoteDraftRow,
)


def _id(value: int | None) -> int:
    if value is None:
        raise RuntimeError("row has no id yet: flush before reading it")
    return value


def _bloc(row: BlocRow) -> Bloc:
    return Bloc(
        id=_id(row.id),
        name=row.name,
        kind=BlocKind(row.kind),
        year=row.year,
        code=row.code,
        timezone=row.timezone,
        leader_unit_id=row.leader_unit_id,
        deputy_unit_id=row.deputy_unit_id,
        group_chat_id=row.group_chat_id,
        publish_receipts=row.publish_receipts,
        reminders=ReminderSettings.from_json(row.reminder_settings),
        level=BlocLevel(row.level) if row.level else None,
        reports_to=row.reports_to,
        regulation=row.regulation,
    )


def _unit(row: UnitRow) -> Unit:
    return Unit(
        id=_id(row.id),
        bloc_id=row.bloc_id,
        name=row.name,
        short_name=row.short_name,
        contact=row.contact,
        rotation_order=row.rotation_order,
    )


def _membership(row: MembershipRow | Row[*tuple[Any, ...]]) -> Membership:
    roles = {
        Role.SECRETARIAT: row.is_secretariat,
        Role.REPRESENTATIVE: row.is_representative,
        Role.OBSERVER: row.is_observer,
    }
    return Membership(
        identity_id=row.identity_id,
        bloc_id=row.bloc_id,
        unit_id=row.unit_id,
        roles=frozenset(r for r, on in roles.items() if on),
    )


def _invite(row: InviteRow) -> Invite:
    return Invite(
        id=_id(row.id),
        bloc_id=row.bloc_id,
        unit_id=row.unit_id,
        role=Role(row.role),
        max_uses=row.max_uses,
        uses=row.uses,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


IDENTITY: Table = IdentityRow.__table__  # type: ignore[attr-defined]
ACCOUNT: Table = AccountRow.__table__  # type: ignore[attr-defined]
MEMBERSHIP: Table = MembershipRow.__table__  # type: ignore[attr-defined]


class IdentityRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def by_account(self, platform: Platform, external_id: str) -> Identity | None:
        found = await self.sender(platform, external_id)
        return None if found is None else found[0]

    async def sender(
        self, platform: Platform, external_id: str
    ) -> tuple[Identity, str | None, bool, list[Membership]] | None:
        """The identity behind a chat account with all its accounts, this account's username
        and whether it is marked unreachable, and the identity's memberships (in bloc order),
        in one statement: every update's sender is resolved through it."""
        await self.s.flush()  # a Core query does not autoflush
        identity, account, member = IDENTITY.c, ACCOUNT.c, MEMBERSHIP.c
        owner = (
            sa_select(account.identity_id)
            .where(account.platform == platform.value, account.external_id == external_id)
            .scalar_subquery()
        )
        query = (
            sa_select(
                identity.id,
                identity.display_name,
                identity.locale,
                identity.current_bloc_id,
                account.id.label("account_id"),
                account.platform,
                account.external_id,
                account.username,
                account.unreachable,
                member.id.label("membership_id"),
                member.identity_id,
                member.bloc_id,
                member.unit_id,
                member.is_secretariat,
                member.is_representative,
                member.is_observer,
            )
            .join_from(IDENTITY, ACCOUNT, account.identity_id == identity.id)
            .outerjoin(MEMBERSHIP, member.identity_id == identity.id)
            .where(identity.id == owner)
            .order_by(account.id, member.bloc_id)
        )
        rows = (await (await self.s.connection()).execute(query)).all()
        if not rows:
            return None
        accounts: dict[int, Any] = {}
        memberships: dict[int, Membership] = {}
        for row in rows:
            accounts.setdefault(row.account_id, row)
            if row.membership_id is not None and row.membership_id not in memberships:
                memberships[row.membership_id] = _membership(row)
        first = rows[0]
        this = next(
            a
            for a in accounts.values()
            if a.platform == platform.value and a.external_id == external_id
        )
        found = Identity(
            id=first.id,
            display_name=first.display_name,
            locale=Locale(first.locale),
            current_bloc_id=first.current_bloc_id,
            accounts=tuple(
                Account(Platform(a.platform), a.external_id) for a in accounts.values()
            ),
        )
        by_bloc = sorted(memberships.values(), key=lambda m: m.bloc_id)
        return found, this.username, this.unreachable, by_bloc

    async def create(
        self,
        *,
        platform: Platform,
        external_id: str,
        display_name: str,
        username: str | None,
        locale: Locale,
        now: datetime,
    ) -> Identity:
        ident = IdentityRow(display_name=display_name, locale=locale.value, created_at=now)
        self.s.add(ident)
        await self.s.flush()
        self.s.add(
            AccountRow(
                identity_id=_id(ident.id),
                platform=platform.value,
                external_id=external_id,
                username=username,
            )
        )
        await self.s.flush()
        return await self.get(_id(ident.id))

    async def refresh_profile(
        self, platform: Platform, external_id: str, display_name: str, username: str | None
    ) -> None:
        acc = (
            await self.s.exec(
                select(AccountRow).where(
                    AccountRow.platform == platform.value,
                    AccountRow.external_id == external_id,
                )
            )
        ).one()
        ident = await self.s.get_one(IdentityRow, acc.identity_id)
        if ident.display_name != display_name:
            ident.display_name = display_name
        if acc.username != username:
            acc.username = username
        if acc.unreachable:
            acc.unreachable = False  # they wrote to us, so they can be reached again

    async def get(self, identity_id: int) -> Identity:
        row = await self.s.get_one(IdentityRow, identity_id)
        accounts = (
            await self.s.exec(
                select(AccountRow)
                .where(AccountRow.identity_id == identity_id)
                .order_by(col(AccountRow.id))
            )
        ).all()
        return Identity(
            id=identity_id,
            display_name=row.display_name,
            locale=Locale(row.locale),
            current_bloc_id=row.current_bloc_id,
            accounts=tuple(Account(Platform(a.platform), a.external_id) for a in accounts),
        )

    async def many(self, identity_ids: Iterable[int]) -> list[Identity]:
        found = await self._identities(set(identity_ids))
        return [found[i] for i in sorted(found)]

    async def _identities(self, identity_ids: set[int]) -> dict[int, Identity]:
        """Identities with their accounts, in two queries whatever their number."""
        if not identity_ids:
            return {}
        rows = (
            await self.s.exec(select(IdentityRow).where(col(IdentityRow.id).in_(identity_ids)))
        ).all()
        accounts: dict[int, list[Account]] = {}
        found = await self.s.exec(
            select(AccountRow)
            .where(col(AccountRow.identity_id).in_(identity_ids))
            .order_by(col(AccountRow.id))
        )
        for a in found.all():
            accounts.setdefault(a.identity_id, []).append(
                Account(Platform(a.platform), a.external_id)
            )
        return {
            row.id: Identity(
                id=row.id,
                display_name=row.display_name,
                locale=Locale(row.locale),
                current_bloc_id=row.current_bloc_id,
                accounts=tuple(accounts.get(row.id, ())),
            )
            for row in rows
            if row.id is not None
        }

    async def reachable_accounts(self, identity_id: int) -> list[Account]:
        rows = (
            await self.s.exec(
                select(AccountRow).where(
                    AccountRow.identity_id == identity_id,
                    col(AccountRow.unreachable).is_(False),
                )
            )
        ).all()
        return [Account(Platform(a.platform), a.external_id) for a in rows]

    async def mark_unreachable(self, platform: Platform, external_id: str) -> None:
        row = (
            await self.s.exec(
                select(AccountRow).where(
                    AccountRow.platform == platform.value,
                    AccountRow.external_id == external_id,
                )
            )
        ).first()
        if row is not None:
            row.unreachable = True

    async def set_locale(self, identity_id: int, locale: Locale) -> None:
        row = await self.s.get_one(IdentityRow, identity_id)
        row.locale = locale.value

    async def set_current_bloc(self, identity_id: int, bloc_id: int | None) -> None:
        row = await self.s.get_one(IdentityRow, identity_id)
        row.current_bloc_id = bloc_id

    async def memberships(self, identity_id: int) -> list[Membership]:
        rows = (
            await self.s.exec(
                select(MembershipRow)
                .where(MembershipRow.identity_id == identity_id)
                .order_by(col(MembershipRow.bloc_id))
            )
        ).all()
        return [_membership(r) for r in rows]

    async def membership(self, identity_id: int, bloc_id: int) -> Membership | None:
        row = await self._membership_row(identity_id, bloc_id)
        return None if row is None else _membership(row)

    async def _membership_row(self, identity_id: int, bloc_id: int) -> MembershipRow | None:
        return (
            await self.s.exec(
                select(MembershipRow).where(
                    MembershipRow.identity_id == identity_id, MembershipRow.bloc_id == bloc_id
                )
            )
        ).first()

    async def put_membership(self, membership: Membership, now: datetime) -> None:
        """Create or replace one identity's membership in a bloc."""
        row = await self._membership_row(membership.identity_id, membership.bloc_id)
        if row is None:
            row = MembershipRow(
                identity_id=membership.identity_id, bloc_id=membership.bloc_id, joined_at=now
            )
            self.s.add(row)
        row.unit_id = membership.unit_id
        row.is_secretariat = Role.SECRETARIAT in membership.roles
        row.is_representative = Role.REPRESENTATIVE in membership.roles
        row.is_observer = Role.OBSERVER in membership.roles
        await self.s.flush()

    async def remove_membership(self, identity_id: int, bloc_id: int) -> None:
        await self.s.exec(
            delete(MembershipRow).where(
                col(MembershipRow.identity_id) == identity_id,
                col(MembershipRow.bloc_id) == bloc_id,
            )
        )

    async def members_of_bloc(self, bloc_id: int) -> list[tuple[Membership, Identity]]:
        rows = (
            await self.s.exec(
                select(MembershipRow)
                .where(MembershipRow.bloc_id == bloc_id)
                .order_by(col(MembershipRow.joined_at), col(MembershipRow.id))
            )
        ).all()
        identities = await self._identities({r.identity_id for r in rows})
        return [(_membership(r), identities[r.identity_id]) for r in rows]

    async def representatives_of_unit(self, bloc_id: int, unit_id: int) -> list[int]:
        """The identities representing one unit of the bloc (in the order they joined)."""
        found = await self.s.exec(
            select(MembershipRow.identity_id)
            .where(
                MembershipRow.bloc_id == bloc_id,
                MembershipRow.unit_id == unit_id,
                col(MembershipRow.is_representative).is_(True),
            )
            .order_by(col(MembershipRow.joined_at), col(MembershipRow.id))
        )
        return list(found.all())

    # --- linking accounts (Telegram <-> Zalo) ----------------------------------------------

    async def put_link_code(
        self, identity_id: int, code_hash: str, now: datetime, expires_at: datetime
    ) -> None:
        """A new code for the identity; its earlier unused codes stop working."""
        await self.s.exec(
            delete(LinkCodeRow).where(
                col(LinkCodeRow.identity_id) == identity_id, col(LinkCodeRow.used_at).is_(None)
            )
        )
        self.s.add(
            LinkCodeRow(
                code_hash=code_hash, identity_id=identity_id, created_at=now, expires_at=expires_at
            )
        )
        await self.s.flush()

    async def live_link_code(self, code_hash: str, now: datetime) -> tuple[int, int] | None:
        """(code id, the identity that asked for it) of an unused, unexpired code."""
        row = (
            await self.s.exec(
                select(LinkCodeRow).where(
                    LinkCodeRow.code_hash == code_hash,
                    col(LinkCodeRow.used_at).is_(None),
                    col(LinkCodeRow.expires_at) > now,
                )
            )
        ).first()
        return None if row is None or row.id is None else (row.id, row.identity_id)

    async def spend_link_code(self, code_id: int, now: datetime) -> int | None:
        """Spend a code (once: a conditional update, so two redemptions racing cannot both
        win); the identity that asked for it, or None if used or expired meanwhile."""
        spent = await self.s.exec(
            update(LinkCodeRow)
            .where(
                col(LinkCodeRow.id) == code_id,
                col(LinkCodeRow.used_at).is_(None),
                col(LinkCodeRow.expires_at) > now,
            )
            .values(used_at=now)
        )
        if spent.rowcount != 1:
            return None
        row = await self.s.get(LinkCodeRow, code_id)
        return None if row is None else row.identity_id

    async def move_drafts(self, from_identity: int, to_identity: int) -> None:
        """Work in progress follows a linked account: report and vote drafts move to the
        identity it joins (where that identity has its own draft of the same thing, its own
        is kept); a pending unit move is dropped (asked again on the next invite)."""
        mine = (
            await self.s.exec(
                select(ReportDraftRow).where(ReportDraftRow.identity_id == from_identity)
            )
        ).all()
        theirs = {
            (d.period_id, d.unit_id, d.purpose)
            for d in (
                await self.s.exec(
                    select(ReportDraftRow).where(ReportDraftRow.identity_id == to_identity)
                )
            ).all()
        }
        for draft in mine:
            if (draft.period_id, draft.unit_id, draft.purpose) in theirs:
                await self.s.exec(
                    delete(ScoreEntryRow).where(col(ScoreEntryRow.draft_id) == draft.id)
                )
                await self.s.exec(delete(ReportDraftRow).where(col(ReportDraftRow.id) == draft.id))
            else:
                draft.identity_id = to_identity
        votes = (
            await self.s.exec(
                select(VoteDraftRow).where(VoteDraftRow.identity_id == from_identity)
            )
        ).all()
        taken = {
            (v.ballot_id, v.unit_id)
            for v in (
                await self.s.exec(
                    select(VoteDraftRow).where(VoteDraftRow.identity_id == to_identity)
                )
            ).all()
        }
        for vote in votes:
            if (vote.ballot_id, vote.unit_id) in taken:
                await self.s.exec(delete(VoteDraftRow).where(col(VoteDraftRow.id) == vote.id))
            else:
                vote.identity_id = to_identity
        await self.s.exec(
            delete(PendingJoinRow).where(col(PendingJoinRow.identity_id) == from_identity)
        )
        await self.s.flush()

    async def move_accounts(self, from_identity: int, to_identity: int) -> None:
        await self.s.exec(
            update(AccountRow)
            .where(col(AccountRow.identity_id) == from_identity)
            .values(identity_id=to_identity)
        )

    async def move_membership(self, from_identity: int, to_identity: int, bloc_id: int) -> None:
        await self.s.exec(
            update(MembershipRow)
            .where(
                col(MembershipRow.identity_id) == from_identity,
                col(MembershipRow.bloc_id) == bloc_id,
            )
            .values(identity_id=to_identity)
        )


# Every column that names a unit (a test reads the tables for any this misses): the records
# that keep a unit (BlocRepo.unit_ties), the unfinished drafts removed with it, and its
# invites, revoked and kept without it (BlocRepo.remove_unit); memberships are counted.
UNIT_TIES = {
    UnitTie.REPORTED: (col(SubmissionRow.unit_id),),
    UnitTie.VOTED: (col(OpenVoteRow.unit_id), col(SecretRegisterRow.unit_id)),
    UnitTie.CHECKED_IN: (col(AttendanceRow.unit_id),),
    UnitTie.SIGNED: (col(CovenantSignatureRow.unit_id),),
    UnitTie.ACKNOWLEDGED: (col(DeadlineAckRow.unit_id),),
    UnitTie.CANDIDATE: (col(BallotOptionRow.unit_id),),
    UnitTie.LEADER: (col(BlocRow.leader_unit_id),),
    UnitTie.DEPUTY: (col(BlocRow.deputy_unit_id),),
    UnitTie.CHAIR: (col(ConferenceRow.chair_unit_id),),
    UnitTie.ACHIEVEMENT: (col(PeriodTargetRow.unit_id),),
}
UNIT_DRAFTS = (ReportDraftRow, VoteDraftRow, SealedDraftRow)


class BlocRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def create(
        self, *, name: str, kind: BlocKind, year: int, code: str, timezone: str, now: datetime
    ) -> Bloc:
        row = BlocRow(
            name=name, kind=kind.value, year=year, code=code, timezone=timezone, created_at=now
        )
        self.s.add(row)
        await self.s.flush()
        return _bloc(row)

    async def get(self, bloc_id: int) -> Bloc | None:
        row = await self.s.get(BlocRow, bloc_id)
        return None if row is None else _bloc(row)

    async def require(self, bloc_id: int, *, lock: bool = False) -> Bloc:
        """A bloc that must exist (the caller's membership already proved it); `lock`: its
        row is locked until the transaction ends (read-modify-write of its settings, and
        ballot changes against /bloc newyear). FOR NO KEY UPDATE: lockers wait for each other,
        but rows that merely reference the bloc (votes, audit, outbox) are still written — a
        cast holding its ballot's lock while the close holds the bloc's would deadlock on a
        plain FOR UPDATE."""
        if lock:
            row = (
                await self.s.exec(
                    select(BlocRow)
                    .where(BlocRow.id == bloc_id)
                    .with_for_update(key_share=True)
                    .execution_options(populate_existing=True)
                )
            ).first()
            if row is None:
                raise LookupError(f"bloc {bloc_id} vanished")
            return _bloc(row)
        bloc = await self.get(bloc_id)
        if bloc is None:
            raise LookupError(f"bloc {bloc_id} vanished")
        return bloc

    async def by_group_chat(self, chat_id: int) -> Bloc | None:
        row = (await self.s.exec(select(BlocRow).where(BlocRow.group_chat_id == chat_id))).first()
        return None if row is None else _bloc(row)

    async def many(self, bloc_ids: Sequence[int]) -> list[Bloc]:
        rows = (
            await self.s.exec(
                select(BlocRow).where(col(BlocRow.id).in_(bloc_ids)).order_by(col(BlocRow.id))
            )
        ).all()
        return [_bloc(r) for r in rows]

    async def all(self) -> list[Bloc]:
        return [_bloc(r) for r in (await self.s.exec(select(BlocRow).order_by(col(BlocRow.id))))]

    async def set_group(self, bloc_id: int, chat_id: int | None) -> None:
        row = await self.s.get_one(BlocRow, bloc_id)
        row.group_chat_id = chat_id

    async def set_reminders(self, bloc_id: int, settings: ReminderSettings) -> None:
        row = await self.s.get_one(BlocRow, bloc_id)
        row.reminder_settings = settings.to_json()

    async def set_publish_receipts(self, bloc_id: int, publish: bool) -> None:
        row = await self.s.get_one(BlocRow, bloc_id)
        row.publish_receipts = publish

    async def set_level(
        self, bloc_id: int, *, level: BlocLevel | None, reports_to: str, regulation: str
    ) -> None:
        row = await self.s.get_one(BlocRow, bloc_id)
        row.level = level.value if level is not None else None
        row.reports_to = reports_to
        row.regulation = regulation

    async def set_officers(
        self, bloc_id: int, *, leader_unit_id: int | None, deputy_unit_id: int | None
    ) -> None:
        row = await self.s.get_one(BlocRow, bloc_id)
        row.leader_unit_id = leader_unit_id
        row.deputy_unit_id = deputy_unit_id

    async def set_year(self, bloc_id: int, year: int) -> None:
        row = await self.s.get_one(BlocRow, bloc_id)
        row.year = year

    async def units(self, bloc_id: int) -> list[Unit]:
        # Plain columns, not ORM rows: a bloc's units are read on many updates (a cast needs
        # their names), and building 40 tracked objects cost more than the query.
        await self.s.flush()  # a Core query does not autoflush: see this session's changes
        connection = await self.s.connection()  # within the session's transaction
        rows = await connection.execute(
            sa_select(
                col(UnitRow.id),
                col(UnitRow.bloc_id),
                col(UnitRow.name),
                col(UnitRow.short_name),
                col(UnitRow.contact),
                col(UnitRow.rotation_order),
            )
            .where(col(UnitRow.bloc_id) == bloc_id)
            .order_by(col(UnitRow.id))
        )
        return [
            Unit(
                id=_id(unit_id),
                bloc_id=bloc,
                name=name,
                short_name=short_name,
                contact=contact,
                rotation_order=rotation_order,
            )
            for unit_id, bloc, name, short_name, contact, rotation_order in rows.all()
        ]

    async def unit(self, unit_id: int) -> Unit | None:
        row = await self.s.get(UnitRow, unit_id)
        return None if row is None else _unit(row)

    async def add_units(
        self, bloc_id: int, drafts: Sequence[UnitDraft], now: datetime
    ) -> list[Unit]:
        rows = [
            UnitRow(
                bloc_id=bloc_id,
                name=d.name,
                name_key=name_key(d.name),
                short_name=d.short_name,
                short_key=name_key(d.short_name),
                contact=d.contact,
                created_at=now,
            )
            for d in drafts
        ]
        if self.s.get_bind().dialect.name == "sqlite":
            # SQLite gives a new row the highest id plus one, so a unit added after the newest
            # was removed would take its id — and the removed unit's audit rows and any old
            # button with it. Its ids continue past every unit removed (the audit log keeps
            # them); PostgreSQL's sequence never gives an id twice.
            units = (await self.s.exec(select(func.max(UnitRow.id)))).one()
            removed = (
                await self.s.exec(
                    select(func.max(AuditRow.unit_id)).where(AuditRow.action == "unit.removed")
                )
            ).one()
            start = max(units or 0, removed or 0) + 1
            for offset, row in enumerate(rows):
                row.id = start + offset
        self.s.add_all(rows)
        await self.s.flush()
        return [_unit(r) for r in rows]

    async def update_unit(self, unit_id: int, draft: UnitDraft) -> Unit:
        """A unit's name, short name and contact, as checked (its id, and so its reports,
        votes and memberships, stay)."""
        row = await self.s.get_one(UnitRow, unit_id)
        row.name, row.name_key = draft.name, name_key(draft.name)
        row.short_name, row.short_key = draft.short_name, name_key(draft.short_name)
        row.contact = draft.contact
        await self.s.flush()
        return _unit(row)

    async def unit_ties(self, unit_id: int, *, lock: bool = False) -> UnitTies:
        """What keeps a unit (the one check of its removal): every table whose rows name it,
        except its invites and unfinished drafts, which `remove_unit` clears with it. `lock`:
        the unit's row is locked first, so a row naming it cannot arrive between this check
        and the removal (it waits, then finds the unit gone)."""
        if lock:
            await self.s.exec(select(UnitRow.id).where(UnitRow.id == unit_id).with_for_update())
        records: list[UnitTie] = []
        for tie, columns in UNIT_TIES.items():
            for column in columns:
                found = await self.s.exec(select(column).where(column == unit_id).limit(1))
                if found.first() is not None:
                    records.append(tie)
                    break
        members = (
            await self.s.exec(
                select(func.count())
                .select_from(MembershipRow)
                .where(col(MembershipRow.unit_id) == unit_id)
            )
        ).one()
        return UnitTies(tuple(records), members)

    async def remove_unit(self, unit_id: int, now: datetime) -> int:
        """Delete a unit `unit_ties` found free, with its unfinished drafts; its invites are
        revoked (the open ones, reason «unit_removed») and kept without it, so a code still
        in someone's hands is refused as revoked. Returns how many were open."""
        draft_ids = select(ReportDraftRow.id).where(ReportDraftRow.unit_id == unit_id)
        await self.s.exec(delete(ScoreEntryRow).where(col(ScoreEntryRow.draft_id).in_(draft_ids)))
        for table in UNIT_DRAFTS:
            await self.s.exec(delete(table).where(col(table.unit_id) == unit_id))
        invites = (await self.s.exec(select(InviteRow).where(InviteRow.unit_id == unit_id))).all()
        opened = 0
        for row in invites:
            if row.revoked_at is None and row.expires_at > now and row.uses < row.max_uses:
                opened += 1
            if row.revoked_at is None:
                row.revoked_at, row.revoked_reason = now, "unit_removed"
            row.unit_id = None
        await self.s.flush()
        await self.s.exec(delete(UnitRow).where(col(UnitRow.id) == unit_id))
        return opened

    async def set_rotation(self, bloc_id: int, unit_ids: Sequence[int]) -> None:
        rows = (await self.s.exec(select(UnitRow).where(UnitRow.bloc_id == bloc_id))).all()
        order = {uid: i + 1 for i, uid in enumerate(unit_ids)}
        for row in rows:
            row.rotation_order = order.get(_id(row.id))


class InviteRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(
        self,
        *,
        bloc_id: int,
        unit_id: int | None,
        role: Role,
        code_hash: str,
        max_uses: int,
        created_by: int | None,
        now: datetime,
        expires_at: datetime,
    ) -> Invite:
        row = InviteRow(
            bloc_id=bloc_id,
            unit_id=unit_id,
            role=role.value,
            code_hash=code_hash,
            max_uses=max_uses,
            created_by=created_by,
            created_at=now,
            expires_at=expires_at,
        )
        self.s.add(row)
        await self.s.flush()
        return _invite(row)

    async def by_hash(self, code_hash: str) -> Invite | None:
        """The invite for a hash, locked for update so two joins cannot both use its last use."""
        row = (
            await self.s.exec(
                select(InviteRow).where(InviteRow.code_hash == code_hash).with_for_update()
            )
        ).first()
        return None if row is None else _invite(row)

    async def get(self, invite_id: int) -> Invite | None:
        row = (
            await self.s.exec(select(InviteRow).where(InviteRow.id == invite_id).with_for_update())
        ).first()
        return None if row is None else _invite(row)

    async def creator(self, invite_id: int) -> int | None:
        return (await self.s.get_one(InviteRow, invite_id)).created_by

    async def use(self, invite_id: int) -> None:
        row = await self.s.get_one(InviteRow, invite_id)
        row.uses += 1

    async def revoke(self, invite_id: int, now: datetime, reason: str) -> None:
        row = await self.s.get_one(InviteRow, invite_id)
        if row.revoked_at is None:
            row.revoked_at = now
            row.revoked_reason = reason

    async def active(self, bloc_id: int, now: datetime) -> list[Invite]:
        rows = (
            await self.s.exec(
                select(InviteRow)
                .where(
                    InviteRow.bloc_id == bloc_id,
                    col(InviteRow.revoked_at).is_(None),
                    col(InviteRow.expires_at) > now,
                    col(InviteRow.uses) < col(InviteRow.max_uses),
                )
                .order_by(col(InviteRow.id))
            )
        ).all()
        return [_invite(r) for r in rows]

    async def lock_sender(self, platform: Platform, external_id: str) -> None:
        """Serialise one sender's code attempts so concurrent guesses cannot pass the limit.

        SQLite already serialises every transaction (BEGIN IMMEDIATE).
        """
        if self.s.get_bind().dialect.name == "postgresql":
            await self.s.exec(
                text("SELECT pg_advisory_xact_lock(hashtext(:k))"),  # type: ignore[call-overload]
                params={"k": f"code:{platform.value}:{external_id}"},
            )

    async def add_failure(self, platform: Platform, external_id: str, now: datetime) -> None:
        self.s.add(FailedCodeRow(platform=platform.value, external_id=external_id, at=now))
        await self.s.flush()

    async def failures_since(
        self, platform: Platform, external_id: str, since: datetime
    ) -> list[datetime]:
        rows = (
            await self.s.exec(
                select(FailedCodeRow.at).where(
                    FailedCodeRow.platform == platform.value,
                    FailedCodeRow.external_id == external_id,
                    col(FailedCodeRow.at) > since,
                )
            )
        ).all()
        return list(rows)

    async def set_pending(self, identity_id: int, invite_id: int, now: datetime) -> None:
        row = await self.s.get(PendingJoinRow, identity_id)
        if row is None:
            self.s.add(
                PendingJoinRow(identity_id=identity_id, invite_id=invite_id, created_at=now)
            )
        else:
            row.invite_id = invite_id
            row.created_at = now
        await self.s.flush()

    async def pop_pending(self, identity_id: int) -> int | None:
        row = await self.s.get(PendingJoinRow, identity_id)
        if row is None:
            return None
        invite_id = row.invite_id
        await self.s.delete(row)
        await self.s.flush()
        return invite_id


_HEAD: Table = AuditHeadRow.__table__  # type: ignore[attr-defined]
_LOG: Table = AuditRow.__table__  # type: ignore[attr-defined]
# An append's writes, built once (statements built per call are objects in reference cycles,
# left for the garbage collector): the head moves, and the row goes in.
_MOVE_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.bloc_id == bindparam("new_bloc"))
    .values(seq=bindparam("new_seq"), head_hash=bindparam("new_hash"), mac=bindparam("new_mac"))
)
_LOG_COLUMNS = [c.name for c in _LOG.c if c.name != "id"]
_HEAD_MOVED = _MOVE_HEAD.returning(_HEAD.c.bloc_id).cte("head_moved")
# PostgreSQL: both in one statement (a data-modifying WITH); the row is inserted once per
# head moved, so never without it.
_APPEND = (
    _LOG.insert()
    .from_select(
        _LOG_COLUMNS,
        sa_select(
            *(
                _HEAD_MOVED.c.bloc_id
                if name == "bloc_id"
                else bindparam(f"row_{name}", type_=_LOG.c[name].type)
                for name in _LOG_COLUMNS
            )
        ),
    )
    .add_cte(_HEAD_MOVED)
)


class AuditRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def append(
        self,
        key: bytes,
        *,
        bloc_id: int,
        at: datetime,
        actor_identity_id: int | None,
        unit_id: int | None,
        action: str,
        details: dict[str, object],
    ) -> str:
        """Append one chained row under the bloc's head lock; returns the new head hash.

        Every change of a bloc appends here, so the lock is held for as few round trips as
        can be: the row is prepared before it is taken, and on PostgreSQL the head's move and
        the row's insert are one statement (bench/web.py: 50 casts a second of one bloc)."""
        canonical_details = json.loads(json.dumps(details, ensure_ascii=False, sort_keys=True))
        stored_details = json.dumps(canonical_details, ensure_ascii=False, sort_keys=True)
        await self.s.flush()  # what the session holds is written before the lock is taken
        head = await self._locked_head(bloc_id)
        if head is None:
            # Concurrent first appends would each find no row to lock and each INSERT one;
            # ON CONFLICT DO NOTHING waits for the other insert, then the lock is taken.
            insert = pg_insert if self._postgres else sqlite_insert
            await self.s.exec(
                insert(AuditHeadRow)
                .values(bloc_id=bloc_id, seq=0, head_hash=GENESIS)
                .on_conflict_do_nothing(index_elements=["bloc_id"])
            )
            head = await self._locked_head(bloc_id)
            if head is None:
                raise RuntimeError(f"audit head for bloc {bloc_id} vanished")
        seq, prev_hash = head
        entry = AuditEntry(
            bloc_id=bloc_id,
            seq=seq + 1,
            at=at,
            actor_identity_id=actor_identity_id,
            unit_id=unit_id,
            action=action,
            details=canonical_details,
        )
        row_hash = chain_hash(key, prev_hash, entry)
        moved = {
            "new_bloc": bloc_id,
            "new_seq": entry.seq,
            "new_hash": row_hash,
            "new_mac": head_mac(key, bloc_id, entry.seq, row_hash),
        }
        row = {
            "bloc_id": bloc_id,
            "seq": entry.seq,
            "at": at,
            "actor_identity_id": actor_identity_id,
            "unit_id": unit_id,
            "action": action,
            "details": stored_details,
            "prev_hash": prev_hash,
            "row_hash": row_hash,
        }
        connection = await self.s.connection()
        if self._postgres:  # one round trip: both, or neither
            await connection.execute(_APPEND, moved | {f"row_{k}": v for k, v in row.items()})
        else:
            await connection.execute(_MOVE_HEAD, moved)
            await connection.execute(_LOG.insert(), row)
        return row_hash

    @property
    def _postgres(self) -> bool:
        return self.s.get_bind().dialect.name == "postgresql"

    async def _locked_head(self, bloc_id: int) -> tuple[int, str] | None:
        """(seq, hash) of the head row, locked; read afresh once the lock is held."""
        query = (
            sa_select(_HEAD.c.seq, _HEAD.c.head_hash)
            .where(_HEAD.c.bloc_id == bloc_id)
            .with_for_update()
        )
        found = (await (await self.s.connection()).execute(query)).first()
        return None if found is None else (int(found[0]), str(found[1]))

    async def chain(self, bloc_id: int) -> list[tuple[AuditEntry, str, str]]:
        rows = (
            await self.s.exec(
                select(AuditRow).where(AuditRow.bloc_id == bloc_id).order_by(col(AuditRow.seq))
            )
        ).all()
        return [
            (
                AuditEntry(
                    bloc_id=r.bloc_id,
                    seq=r.seq,
                    at=r.at,
                    actor_identity_id=r.actor_identity_id,
                    unit_id=r.unit_id,
                    action=r.action,
                    details=json.loads(r.details),
                ),
                r.prev_hash,
                r.row_hash,
            )
            for r in rows
        ]

    async def head(self, bloc_id: int) -> tuple[int, str]:
        query = sa_select(_HEAD.c.seq, _HEAD.c.head_hash).where(_HEAD.c.bloc_id == bloc_id)
        found = (await (await self.s.connection()).execute(query)).first()
        return (0, GENESIS) if found is None else (int(found[0]), str(found[1]))

    async def head_mac(self, bloc_id: int) -> str | None:
        query = sa_select(_HEAD.c.mac).where(_HEAD.c.bloc_id == bloc_id)
        found = (await (await self.s.connection()).execute(query)).first()
        return None if found is None or found[0] is None else str(found[0])

    async def unsealed_heads(self) -> list[tuple[int, int, str]]:
        """(bloc, seq, hash) of heads without a MAC (written before it existed), locked."""
        rows = await self.s.exec(
            select(AuditHeadRow).where(col(AuditHeadRow.mac).is_(None)).with_for_update()
        )
        return [(r.bloc_id, r.seq, r.head_hash) for r in rows.all()]

    async def seal_head(self, bloc_id: int, seq: int, head_hash: str, mac: str) -> None:
        """Set the MAC of a head still at (seq, hash)."""
        await self.s.exec(
            update(AuditHeadRow)
            .where(
                col(AuditHeadRow.bloc_id) == bloc_id,
                col(AuditHeadRow.seq) == seq,
                col(AuditHeadRow.head_hash) == head_hash,
                col(AuditHeadRow.mac).is_(None),
            )
            .values(mac=mac)
        )

    async def last(self, bloc_id: int) -> tuple[AuditEntry, str, str] | None:
        """The bloc's newest row as (entry, prev, hash)."""
        row = (
            await self.s.exec(
                select(AuditRow)
                .where(AuditRow.bloc_id == bloc_id)
                .order_by(col(AuditRow.seq).desc())
                .limit(1)
            )
        ).first()
        if row is None:
            return None
        entry = AuditEntry(
            bloc_id=row.bloc_id,
            seq=row.seq,
            at=row.at,
            actor_identity_id=row.actor_identity_id,
            unit_id=row.unit_id,
            action=row.action,
            details=json.loads(row.details),
        )
        return entry, row.prev_hash, row.row_hash

    async def recent(
        self, bloc_id: int, limit: int, *, action: str | None = None
    ) -> list[AuditEntry]:
        """The bloc's newest rows (of one action only, when given), newest first."""
        query = select(AuditRow).where(AuditRow.bloc_id == bloc_id)
        if action is not None:
            query = query.where(AuditRow.action == action)
        rows = (await self.s.exec(query.order_by(col(AuditRow.seq).desc()).limit(limit))).all()
        return [
            AuditEntry(
                bloc_id=r.bloc_id,
                seq=r.seq,
                at=r.at,
                actor_identity_id=r.actor_identity_id,
                unit_id=r.unit_id,
                action=r.action,
                details=json.loads(r.details),
            )
            for r in rows
        ]

    async def bloc_ids_with_head(self) -> list[int]:
        return list((await self.s.exec(select(AuditHeadRow.bloc_id))).all())

    async def bloc_ids(self) -> list[int]:
        """Every bloc with a head or with rows: rows whose head was deleted are still checked."""
        heads = await self.s.exec(select(AuditHeadRow.bloc_id))
        logged = await self.s.exec(select(AuditRow.bloc_id).distinct())
        return sorted({*heads.all(), *logged.all()})

    async def count(self, bloc_id: int) -> int:
        result = await self.s.exec(
            select(func.count()).select_from(AuditRow).where(AuditRow.bloc_id == bloc_id)
        )
        return int(result.one())
