"""Casting under concurrent requests, committed for real on both backends: one ballot per unit
per vote (a unique row), and a correct count when many units cast at once."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from bot.core.models import BlocKind, Membership, Platform, Role
from bot.core.units import UnitDraft
from bot.core.voting import (
    BallotKind,
    BallotStatus,
    CastRejection,
    Choice,
    Option,
    OptionKind,
    default_rules,
)
from bot.fakes.clock import FakeClock
from bot.fakes.notifier import RecordingNotifier
from bot.render import Renderer
from bot.services import voting as svc
from bot.services.actors import Actor, load_actor, resolve_actor
from bot.services.app import Services
from bot.services.audit import verify_all
from bot.services.outcomes import Reason, Rejected
from storage.files import FileStore
from storage.uow import Database
from storage.vote_repos import Conference
from tests.conftest import AUDIT_KEY, START

AGREE, DISAGREE = 0, 1


def _services(db: Database, tmp_path: Path) -> Services:
    return Services(
        db=db,
        clock=FakeClock(START),
        notifier=RecordingNotifier(),
        renderer=Renderer(),
        audit_key=AUDIT_KEY,
        files=FileStore(tmp_path / "files"),
        admins=frozenset(),
    )


async def _person(services: Services, external_id: int) -> Actor:
    return await resolve_actor(
        services,
        platform=Platform.TELEGRAM,
        external_id=str(external_id),
        display_name=f"Người {external_id}",
        username=None,
    )


async def _bloc(
    services: Services, *, units: int, reps_per_unit: int, secret: bool = False
) -> tuple[int, list[list[Actor]], Actor]:
    """A bloc of `units` units with their representatives, the secretariat, a conference
    every unit checked in to, and one open ballot (report approval, or an award tier when
    `secret`). Returns the ballot id, the representatives by unit, and the secretariat."""
    now = services.clock.now()
    reps = [
        [await _person(services, 5000 + 10 * u + r) for r in range(reps_per_unit)]
        for u in range(units)
    ]
    secretary = await _person(services, 4000)
    async with services.db.uow() as uow:
        bloc = await uow.blocs.create(
            name="Khối thi đua Văn hóa - Xã hội",
            kind=BlocKind.KHOI,
            year=2024,
            code="KTĐVHXH",
            timezone="Asia/Ho_Chi_Minh",
            now=now,
        )
        made = await uow.blocs.add_units(
            bloc.id, [UnitDraft(f"Đơn vị số {i + 1}", f"DV{i + 1}") for i in range(units)], now
        )
        for unit, people in zip(made, reps, strict=True):
            for person in people:
                await uow.identities.put_membership(
                    Membership(
                        person.identity.id, bloc.id, unit.id, frozenset({Role.REPRESENTATIVE})
                    ),
                    now,
                )
        await uow.identities.put_membership(
            Membership(secretary.identity.id, bloc.id, None, frozenset({Role.SECRETARIAT})), now
        )
        conference = await uow.votes.add_conference(
            Conference(
                id=0,
                bloc_id=bloc.id,
                year=2024,
                held_at=now,
                place="Hội trường",
                chair_unit_id=None,
                chair="",
                secretary="",
                counting_board=(),
                guests="",
            ),
            created_by=secretary.identity.id,
            now=now,
        )
        for unit in made:
            await uow.votes.check_in(conference.id, unit.id, secretary.identity.id, now)
        if secret:
            kind = BallotKind.AWARD
            options = [Option(i, OptionKind.UNIT, u.id) for i, u in enumerate(made)]
        else:
            kind = BallotKind.APPROVE_REPORT
            options = [
                Option(0, OptionKind.AGREE),
                Option(1, OptionKind.DISAGREE),
                Option(2, OptionKind.OTHER),
            ]
        info = await uow.votes.add_ballot(
            bloc_id=bloc.id,
            conference_id=conference.id,
            kind=kind,
            title="",
            rules=default_rules(kind),
            options=options,
            tier="gov_flag" if secret else None,
            tier_order=1 if secret else 0,
            quota=1,
            runoff_of=None,
            closes_at=None,
            created_by=secretary.identity.id,
            now=now,
        )
        await uow.votes.set_status(info.ballot.id, BallotStatus.OPEN, now=now)
        await uow.commit()
    async with services.db.uow() as uow:  # the actors again, now with their memberships
        reps = [[await load_actor(uow, services, p.account) for p in people] for people in reps]
        secretary = await load_actor(uow, services, secretary.account)
    return info.ballot.id, reps, secretary


async def _rows(services: Services, ballot: int) -> list[tuple[int, Choice]]:
    async with services.db.uow() as uow:
        return [(c.unit_id, c.choice) for c in await uow.votes.casts(ballot)]


async def _chains_hold(services: Services) -> None:
    reports = await verify_all(services.db, AUDIT_KEY)
    assert [r.broken for r in reports] == [None] * len(reports)


async def test_fifty_concurrent_casts_for_one_unit_leave_one_row(
    committed_db: Database, tmp_path: Path
) -> None:
    services = _services(committed_db, tmp_path)
    ballot, reps, _ = await _bloc(services, units=3, reps_per_unit=5)
    unit_reps = reps[0]
    choices = [Choice((AGREE,)), Choice((DISAGREE,)), Choice(blank=True)]
    outcomes = await asyncio.gather(
        *(
            svc.cast_vote(services, unit_reps[i % 5], ballot_id=ballot, choice=choices[i % 3])
            for i in range(50)
        )
    )
    # An open ballot: every cast is accepted, one of them first, the last one counts.
    assert all(isinstance(o, svc.Accepted) for o in outcomes)
    replaced = Counter(o.replaced for o in outcomes if isinstance(o, svc.Accepted))
    assert replaced == {False: 1, True: 49}
    rows = await _rows(services, ballot)
    assert len(rows) == 1
    assert rows[0][1] in choices
    async with services.db.uow() as uow:
        info = await uow.votes.ballot(ballot)
        assert info is not None
        bloc_id = info.bloc_id
        actions = Counter(
            e.action for e, _, _ in await uow.audit.chain(bloc_id) if e.action.startswith("vote.")
        )
    assert actions == {"vote.cast": 1, "vote.recast": 49}
    await _chains_hold(services)


async def test_fifty_concurrent_casts_on_a_secret_ballot_accept_only_the_first(
    committed_db: Database, tmp_path: Path
) -> None:
    services = _services(committed_db, tmp_path)
    ballot, reps, _ = await _bloc(services, units=3, reps_per_unit=5, secret=True)
    outcomes = await asyncio.gather(
        *(
            svc.cast_vote(services, reps[0][i % 5], ballot_id=ballot, choice=Choice((1 + i % 2,)))
            for i in range(50)
        )
    )
    accepted = [o for o in outcomes if isinstance(o, svc.Accepted)]
    refused = [o for o in outcomes if isinstance(o, Rejected)]
    assert len(accepted) == 1
    assert accepted[0].replaced is False
    assert {(r.reason, r.detail["why"]) for r in refused} == {
        (Reason.CAST, CastRejection.ALREADY_VOTED.value)
    }
    assert len(refused) == 49
    rows = await _rows(services, ballot)
    assert len(rows) == 1
    assert rows[0][1] == accepted[0].view.current


async def test_forty_units_casting_at_once_are_all_counted(
    committed_db: Database, tmp_path: Path
) -> None:
    services = _services(committed_db, tmp_path)
    ballot, reps, secretary = await _bloc(services, units=40, reps_per_unit=1)
    # 25 agree, 10 disagree, 5 blank ballots.
    plan = [Choice((AGREE,))] * 25 + [Choice((DISAGREE,))] * 10 + [Choice(blank=True)] * 5
    outcomes = await asyncio.gather(
        *(
            svc.cast_vote(services, people[0], ballot_id=ballot, choice=choice)
            for people, choice in zip(reps, plan, strict=True)
        )
    )
    assert [type(o) for o in outcomes] == [svc.Accepted] * 40
    rows = await _rows(services, ballot)
    assert len(rows) == 40
    assert len({unit for unit, _ in rows}) == 40
    assert Counter(
        "blank" if c.blank else ("agree" if c.options == (AGREE,) else "disagree") for _, c in rows
    ) == {"agree": 25, "disagree": 10, "blank": 5}

    closed = await svc.close_ballot(services, secretary, ref="1")
    assert isinstance(closed, svc.Closed)
    r = closed.result
    assert (r.issued, r.returned, r.valid, r.invalid, r.blank, r.base_count) == (
        40,
        40,
        35,
        5,
        5,
        40,
    )
    # 25 of 40 agree: 62,5% of all members, more than half.
    assert [(o.option.kind, o.votes, o.percent_tenths, o.passes) for o in r.options] == [
        (OptionKind.AGREE, 25, 625, True),
        (OptionKind.DISAGREE, 10, 250, False),
        (OptionKind.OTHER, 0, 0, False),
    ]
    assert [o.kind for o in r.winners] == [OptionKind.AGREE]
    await _chains_hold(services)


async def test_casts_racing_the_close_are_counted_or_refused(
    committed_db: Database, tmp_path: Path
) -> None:
    services = _services(committed_db, tmp_path)
    ballot, reps, secretary = await _bloc(services, units=20, reps_per_unit=1)

    async def close() -> svc.Closed | Rejected:
        await asyncio.sleep(0)  # let some casts start first
        return await svc.close_ballot(services, secretary, ref="1")

    casts = [
        svc.cast_vote(services, people[0], ballot_id=ballot, choice=Choice((AGREE,)))
        for people in reps
    ]
    results = await asyncio.gather(*casts[:10], close(), *casts[10:])
    closed, outcomes = results[10], results[:10] + results[10 + 1 :]
    assert isinstance(closed, svc.Closed)
    accepted = [o for o in outcomes if isinstance(o, svc.Accepted)]
    refused = [o for o in outcomes if isinstance(o, Rejected)]
    assert {r.detail["why"] for r in refused} <= {CastRejection.CLOSED.value}
    # No vote is stored after the count: what was stored is exactly what was counted.
    rows = await _rows(services, ballot)
    assert len(rows) == len(accepted) == closed.result.returned
    assert closed.result.options[0].votes == len(accepted)
