"""Repositories and column types on both backends ([sqlite] and [postgresql])."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import col, select, update

from bot.core.audit import GENESIS
from bot.core.invites import hash_code
from bot.core.models import (
    Account,
    Bloc,
    BlocKind,
    Identity,
    Invite,
    Locale,
    Membership,
    Platform,
    Role,
    Unit,
)
from bot.core.units import UnitDraft
from bot.services.audit import verify_all
from storage.tables import AuditHeadRow, AuditRow, FailedCodeRow, IdentityRow, InviteRow
from storage.uow import Database, UnitOfWork

KEY = b"storage-test-audit-key-012345678"
NOW = datetime(2024, 11, 25, 1, 0, tzinfo=UTC)
HANOI = timezone(timedelta(hours=7))
TG = Platform.TELEGRAM


async def new_bloc(uow: UnitOfWork, code: str = "VHXH") -> Bloc:
    return await uow.blocs.create(
        name=f"Khối {code}",
        kind=BlocKind.KHOI,
        year=2024,
        code=code,
        timezone="Asia/Ho_Chi_Minh",
        now=NOW,
    )


async def new_identity(uow: UnitOfWork, external_id: str, name: str = "Lan") -> Identity:
    return await uow.identities.create(
        platform=TG,
        external_id=external_id,
        display_name=name,
        username=f"user{external_id}",
        locale=Locale.VI,
        now=NOW,
    )


# --- UtcDateTime ------------------------------------------------------------------------


async def test_aware_time_round_trips_as_the_same_instant_in_utc(db: Database) -> None:
    local = datetime(2024, 11, 25, 8, 30, 15, 123456, tzinfo=HANOI)
    async with db.uow() as uow:
        ident = await new_identity(uow, "1")
        row = await uow.session.get_one(IdentityRow, ident.id)
        row.created_at = local
        await uow.invites.add_failure(TG, "1", local)
        await uow.commit()
    async with db.uow() as uow:
        stored = (
            await uow.session.exec(
                select(IdentityRow.created_at).where(IdentityRow.id == ident.id)
            )
        ).one()
        failures = await uow.invites.failures_since(TG, "1", local - timedelta(seconds=1))
    for value in (stored, *failures):
        assert value == local
        assert value.utcoffset() == timedelta(0)
        assert value.tzinfo is UTC
        assert value == datetime(2024, 11, 25, 1, 30, 15, 123456, tzinfo=UTC)


async def test_naive_datetime_is_refused(db: Database) -> None:
    naive = datetime(2024, 11, 25, 1, 0)  # noqa: DTZ001 (the point of the test)
    async with db.uow() as uow:
        with pytest.raises(StatementError, match="naive datetime refused") as info:
            await uow.invites.add_failure(TG, "1", naive)
        assert isinstance(info.value.orig, ValueError)


async def test_comparisons_use_the_instant_not_the_wall_clock(db: Database) -> None:
    async with db.uow() as uow:
        for minutes in (11, 10, 5, 1):
            await uow.invites.add_failure(TG, "9", NOW - timedelta(minutes=minutes))
        await uow.commit()
    since = (NOW - timedelta(minutes=10)).astimezone(HANOI)
    async with db.uow() as uow:
        found = await uow.invites.failures_since(TG, "9", since)
    assert sorted(found) == [NOW - timedelta(minutes=5), NOW - timedelta(minutes=1)]


# --- identities, accounts, memberships ----------------------------------------------------


async def test_identity_and_account_round_trip(db: Database) -> None:
    async with db.uow() as uow:
        created = await new_identity(uow, "42", "Nguyễn Thị Lan")
        await uow.commit()
    assert created.display_name == "Nguyễn Thị Lan"
    assert created.locale is Locale.VI
    assert created.current_bloc_id is None
    assert created.accounts == (Account(TG, "42"),)
    async with db.uow() as uow:
        assert await uow.identities.by_account(TG, "42") == created
        assert await uow.identities.by_account(Platform.ZALO, "42") is None
        assert await uow.identities.by_account(TG, "43") is None
        assert await uow.identities.get(created.id) == created


async def test_account_is_unique_per_platform(db: Database) -> None:
    async with db.uow() as uow:
        await new_identity(uow, "42")
        await uow.commit()
    async with db.uow() as uow:
        with pytest.raises(IntegrityError):
            await new_identity(uow, "42", "Someone else")
    async with db.uow() as uow:
        other = await uow.identities.create(
            platform=Platform.ZALO,
            external_id="42",
            display_name="Zalo Lan",
            username=None,
            locale=Locale.EN,
            now=NOW,
        )
        await uow.commit()
    assert other.accounts == (Account(Platform.ZALO, "42"),)


async def test_profile_locale_current_bloc_and_reachability(db: Database) -> None:
    async with db.uow() as uow:
        bloc = await new_bloc(uow)
        ident = await new_identity(uow, "42")
        await uow.identities.mark_unreachable(TG, "42")
        await uow.identities.mark_unreachable(TG, "unknown")  # no such account: no error
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.identities.reachable_accounts(ident.id) == []
        await uow.identities.refresh_profile(TG, "42", "Lan Nguyễn", "lan_n")
        await uow.identities.set_locale(ident.id, Locale.EN)
        await uow.identities.set_current_bloc(ident.id, bloc.id)
        await uow.commit()
    async with db.uow() as uow:
        again = await uow.identities.get(ident.id)
        assert again.display_name == "Lan Nguyễn"
        assert again.locale is Locale.EN
        assert again.current_bloc_id == bloc.id
        assert await uow.identities.reachable_accounts(ident.id) == [Account(TG, "42")]
        assert [i.id for i in await uow.identities.many([ident.id, ident.id])] == [ident.id]


async def test_membership_put_replace_list_and_remove(db: Database) -> None:
    async with db.uow() as uow:
        bloc = await new_bloc(uow)
        other_bloc = await new_bloc(uow, "KT")
        (unit,) = await uow.blocs.add_units(bloc.id, [UnitDraft("Sở Y tế", "SYT")], NOW)
        lan = await new_identity(uow, "1", "Lan")
        minh = await new_identity(uow, "2", "Minh")
        await uow.identities.put_membership(
            Membership(lan.id, bloc.id, None, frozenset({Role.SECRETARIAT})), NOW
        )
        await uow.identities.put_membership(
            Membership(minh.id, bloc.id, unit.id, frozenset({Role.REPRESENTATIVE})),
            NOW + timedelta(minutes=1),
        )
        await uow.identities.put_membership(
            Membership(lan.id, other_bloc.id, None, frozenset({Role.OBSERVER})), NOW
        )
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.identities.membership(lan.id, bloc.id) == Membership(
            lan.id, bloc.id, None, frozenset({Role.SECRETARIAT})
        )
        assert [m.bloc_id for m in await uow.identities.memberships(lan.id)] == [
            bloc.id,
            other_bloc.id,
        ]
        members = await uow.identities.members_of_bloc(bloc.id)
        assert [(m.identity_id, i.display_name) for m, i in members] == [
            (lan.id, "Lan"),
            (minh.id, "Minh"),
        ]
        # Replacing keeps one row per identity and bloc.
        both = frozenset({Role.SECRETARIAT, Role.REPRESENTATIVE})
        await uow.identities.put_membership(Membership(lan.id, bloc.id, unit.id, both), NOW)
        await uow.commit()
    async with db.uow() as uow:
        replaced = await uow.identities.membership(lan.id, bloc.id)
        assert replaced == Membership(lan.id, bloc.id, unit.id, both)
        assert len(await uow.identities.members_of_bloc(bloc.id)) == 2
        await uow.identities.remove_membership(lan.id, bloc.id)
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.identities.membership(lan.id, bloc.id) is None
        assert [m.bloc_id for m in await uow.identities.memberships(lan.id)] == [other_bloc.id]


# --- blocs and units ----------------------------------------------------------------------


async def test_bloc_round_trip(db: Database) -> None:
    async with db.uow() as uow:
        bloc = await new_bloc(uow)
        await uow.blocs.set_group(bloc.id, -1001234567890)
        await uow.commit()
    async with db.uow() as uow:
        fetched = await uow.blocs.get(bloc.id)
        assert fetched is not None
        assert fetched.name == "Khối VHXH"
        assert fetched.kind is BlocKind.KHOI
        assert fetched.group_chat_id == -1001234567890  # beyond 32 bits
        assert await uow.blocs.by_group_chat(-1001234567890) == fetched
        assert await uow.blocs.get(bloc.id + 1000) is None


async def test_unit_names_are_unique_per_bloc(db: Database) -> None:
    async with db.uow() as uow:
        bloc = await new_bloc(uow)
        other = await new_bloc(uow, "KT")
        units = await uow.blocs.add_units(
            bloc.id, [UnitDraft("Sở Y tế", "SYT"), UnitDraft("Sở Tài chính", "STC")], NOW
        )
        # The same names in another bloc are fine.
        await uow.blocs.add_units(other.id, [UnitDraft("Sở Y tế", "SYT")], NOW)
        await uow.commit()
    assert [u.short_name for u in units] == ["SYT", "STC"]
    async with db.uow() as uow:
        with pytest.raises(IntegrityError):
            await uow.blocs.add_units(bloc.id, [UnitDraft("SỞ  Y TẾ", "SYT2")], NOW)
    async with db.uow() as uow:
        with pytest.raises(IntegrityError):
            await uow.blocs.add_units(bloc.id, [UnitDraft("Sở Y tế 2", "syt")], NOW)
    async with db.uow() as uow:
        assert await uow.blocs.units(bloc.id) == units
        assert len(await uow.blocs.units(other.id)) == 1
        await uow.blocs.set_rotation(bloc.id, [units[1].id, units[0].id])
        await uow.commit()
    async with db.uow() as uow:
        by_id = {u.id: u for u in await uow.blocs.units(bloc.id)}
        assert by_id[units[1].id].rotation_order == 1
        assert by_id[units[0].id].rotation_order == 2
        assert await uow.blocs.unit(units[0].id) == Unit(
            units[0].id, bloc.id, "Sở Y tế", "SYT", rotation_order=2
        )


# --- invites, failed codes, pending joins -------------------------------------------------


async def add_invite(
    uow: UnitOfWork, bloc: Bloc, code: str, *, expires_at: datetime, max_uses: int = 1
) -> Invite:
    return await uow.invites.add(
        bloc_id=bloc.id,
        unit_id=None,
        role=Role.REPRESENTATIVE,
        code_hash=hash_code(code),
        max_uses=max_uses,
        created_by=None,
        now=NOW,
        expires_at=expires_at,
    )


async def test_invite_by_hash_use_revoke_and_active(db: Database) -> None:
    later = NOW + timedelta(days=14)
    async with db.uow() as uow:
        bloc = await new_bloc(uow)
        other = await new_bloc(uow, "KT")
        ok = await add_invite(uow, bloc, "A" * 16, expires_at=later)
        used = await add_invite(uow, bloc, "B" * 16, expires_at=later)
        revoked = await add_invite(uow, bloc, "C" * 16, expires_at=later)
        expired = await add_invite(uow, bloc, "D" * 16, expires_at=NOW)
        multi = await add_invite(uow, bloc, "E" * 16, expires_at=later, max_uses=2)
        await add_invite(uow, other, "F" * 16, expires_at=later)
        await uow.commit()
    async with db.uow() as uow:
        found = await uow.invites.by_hash(hash_code("A" * 16))
        assert found == ok
        assert found.expires_at == later
        assert await uow.invites.by_hash(hash_code("Z" * 16)) is None
        assert await uow.invites.get(used.id) == used
        await uow.invites.use(used.id)
        await uow.invites.use(multi.id)
        await uow.invites.revoke(revoked.id, NOW, "manual")
        await uow.commit()
    async with db.uow() as uow:
        await uow.invites.revoke(revoked.id, NOW + timedelta(hours=1), "again")  # keeps the first
        await uow.commit()
    async with db.uow() as uow:
        again = await uow.invites.get(revoked.id)
        assert again is not None
        assert again.revoked_at == NOW
        reason = (
            await uow.session.exec(
                select(InviteRow.revoked_reason).where(InviteRow.id == revoked.id)
            )
        ).one()
        assert reason == "manual"
        used_again = await uow.invites.by_hash(hash_code("B" * 16))
        assert used_again is not None
        assert used_again.uses == 1
        active = await uow.invites.active(bloc.id, NOW)
        assert [i.id for i in active] == [ok.id, multi.id]
        assert active[1].uses == 1
        assert expired.id not in {i.id for i in active}
        assert await uow.invites.active(bloc.id, later) == []


async def test_invite_code_hash_is_unique(db: Database) -> None:
    async with db.uow() as uow:
        bloc = await new_bloc(uow)
        await add_invite(uow, bloc, "A" * 16, expires_at=NOW + timedelta(days=1))
        await uow.commit()
    async with db.uow() as uow:
        with pytest.raises(IntegrityError):
            await add_invite(uow, bloc, "A" * 16, expires_at=NOW + timedelta(days=1))


async def test_failed_code_rows_and_failures_since(db: Database) -> None:
    async with db.uow() as uow:
        for minutes in (30, 10, 9, 2):
            await uow.invites.add_failure(TG, "42", NOW - timedelta(minutes=minutes))
        await uow.invites.add_failure(TG, "43", NOW)
        await uow.invites.add_failure(Platform.ZALO, "42", NOW)
        await uow.commit()
    async with db.uow() as uow:
        recent = await uow.invites.failures_since(TG, "42", NOW - timedelta(minutes=10))
        everything = await uow.invites.failures_since(TG, "42", NOW - timedelta(days=1))
        rows = (await uow.session.exec(select(FailedCodeRow))).all()
    # Strictly after `since`: the one exactly ten minutes old is out.
    assert sorted(recent) == [NOW - timedelta(minutes=9), NOW - timedelta(minutes=2)]
    assert len(everything) == 4
    assert len(rows) == 6


async def test_pending_join_set_replace_and_pop(db: Database) -> None:
    later = NOW + timedelta(days=1)
    async with db.uow() as uow:
        bloc = await new_bloc(uow)
        ident = await new_identity(uow, "42")
        first = await add_invite(uow, bloc, "A" * 16, expires_at=later)
        second = await add_invite(uow, bloc, "B" * 16, expires_at=later)
        assert await uow.invites.pop_pending(ident.id) is None
        await uow.invites.set_pending(ident.id, first.id, NOW)
        await uow.commit()
    async with db.uow() as uow:
        await uow.invites.set_pending(ident.id, second.id, NOW + timedelta(minutes=1))
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.invites.pop_pending(ident.id) == second.id
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.invites.pop_pending(ident.id) is None


# --- audit log ----------------------------------------------------------------------------


async def append(uow: UnitOfWork, bloc_id: int, action: str, at: datetime = NOW) -> str:
    return await uow.audit.append(
        KEY,
        bloc_id=bloc_id,
        at=at,
        actor_identity_id=7,
        unit_id=None,
        action=action,
        details={"note": "Khối VHXH", "n": [1, 2], "nested": {"b": 1, "a": None}},
    )


async def test_audit_append_builds_a_chain_that_verifies(db: Database) -> None:
    async with db.uow() as uow:
        bloc = await new_bloc(uow)
        other = await new_bloc(uow, "KT")
        assert await uow.audit.head(bloc.id) == (0, GENESIS)
        first = await append(uow, bloc.id, "bloc.created")
        await append(uow, other.id, "bloc.created")
        await uow.commit()
    async with db.uow() as uow:
        await append(uow, bloc.id, "unit.added", NOW + timedelta(minutes=1))
        # Any aware time is accepted and verifies after the UTC round trip.
        last = await append(
            uow, bloc.id, "unit.added", (NOW + timedelta(minutes=2)).astimezone(HANOI)
        )
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.audit.head(bloc.id) == (3, last)
        assert await uow.audit.count(bloc.id) == 3
        assert await uow.audit.bloc_ids() == [bloc.id, other.id]
        chain = await uow.audit.chain(bloc.id)
    assert [(e.seq, e.action) for e, _, _ in chain] == [
        (1, "bloc.created"),
        (2, "unit.added"),
        (3, "unit.added"),
    ]
    assert chain[0][1] == GENESIS
    assert chain[0][2] == first
    assert chain[1][1] == first
    assert chain[2][0].at == NOW + timedelta(minutes=2)
    assert chain[0][0].details == {"note": "Khối VHXH", "n": [1, 2], "nested": {"a": None, "b": 1}}

    reports = await verify_all(db, KEY)
    assert [(r.bloc_id, r.rows, r.broken) for r in reports] == [
        (bloc.id, 3, None),
        (other.id, 1, None),
    ]
    assert reports[0].head == last

    wrong = await verify_all(db, b"another-key-another-key-another!")
    assert [(r.broken.seq, r.broken.reason) for r in wrong if r.broken] == [
        (1, "hash"),
        (1, "hash"),
    ]


async def test_audit_rolled_back_append_leaves_no_trace(db: Database) -> None:
    async with db.uow() as uow:
        bloc = await new_bloc(uow)
        await append(uow, bloc.id, "bloc.created")
        await uow.commit()
    async with db.uow() as uow:
        await append(uow, bloc.id, "unit.added")  # never committed
    async with db.uow() as uow:
        assert (await uow.audit.head(bloc.id))[0] == 1
        second = await append(uow, bloc.id, "unit.added")
        await uow.commit()
    (report,) = await verify_all(db, KEY)
    assert (report.rows, report.head, report.broken) == (2, second, None)


async def test_verify_all_detects_tampering_in_the_database(db: Database) -> None:
    async with db.uow() as uow:
        bloc = await new_bloc(uow)
        other = await new_bloc(uow, "KT")
        for action in ("a", "b", "c"):
            await append(uow, bloc.id, action)
            await append(uow, other.id, action)
        await uow.commit()
    async with db.uow() as uow:
        await uow.session.exec(
            update(AuditRow)
            .where(col(AuditRow.bloc_id) == bloc.id, col(AuditRow.seq) == 2)
            .values(details='{"note":"forged"}')
        )
        await uow.commit()
    reports = await verify_all(db, KEY)
    assert [(r.bloc_id, r.broken) for r in reports] == [
        (bloc.id, reports[0].broken),
        (other.id, None),
    ]
    assert reports[0].broken is not None
    assert (reports[0].broken.seq, reports[0].broken.reason) == (2, "hash")


async def test_verify_all_detects_a_truncated_tail(db: Database) -> None:
    async with db.uow() as uow:
        bloc = await new_bloc(uow)
        for action in ("a", "b", "c"):
            await append(uow, bloc.id, action)
        await uow.commit()
    async with db.uow() as uow:
        row = (await uow.session.exec(select(AuditRow).where(AuditRow.seq == 3))).one()
        await uow.session.delete(row)
        await uow.commit()
    (report,) = await verify_all(db, KEY)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.reason) == (2, "head")


async def test_verify_all_detects_a_bloc_log_deleted_whole(db: Database) -> None:
    async with db.uow() as uow:
        bloc = await new_bloc(uow)
        await append(uow, bloc.id, "a")
        await append(uow, bloc.id, "b")
        await uow.commit()
    async with db.uow() as uow:
        for row in (await uow.session.exec(select(AuditRow))).all():
            await uow.session.delete(row)
        await uow.commit()
    (report,) = await verify_all(db, KEY)
    assert report.rows == 0
    assert report.broken is not None
    assert report.broken.reason == "head"


async def test_verify_all_checks_rows_whose_head_was_deleted(db: Database) -> None:
    async with db.uow() as uow:
        bloc = await new_bloc(uow)
        await append(uow, bloc.id, "a")
        await append(uow, bloc.id, "b")
        await uow.commit()
    async with db.uow() as uow:
        head = await uow.session.get_one(AuditHeadRow, bloc.id)
        await uow.session.delete(head)
        await uow.commit()
    (report,) = await verify_all(db, KEY)
    assert report.bloc_id == bloc.id
    assert report.rows == 2
    assert report.broken is not None
    assert report.broken.reason == "head"
