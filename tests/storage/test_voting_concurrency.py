"""Casting under concurrent requests, committed for real on both backends: one ballot per unit
per vote (a unique row), and a correct count when many units cast at once. A secret ballot
keeps one register row and one sealed box row per unit, and one sealed draft per unit while
its representatives choose."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import select

from bot.core.models import BlocKind, Membership, Platform, Role
from bot.core.sealing import ballot_keys, open_choice, open_draft, receipt_mac
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
from bot.render import Renderer
from bot.services import voting as svc
from bot.services.actors import Actor, load_actor, resolve_actor
from bot.services.app import Services
from bot.services.audit import verify_all
from bot.services.outcomes import Reason, Rejected
from bot.services.secret_ballots import ReceiptFound
from storage.files import FileStore
from storage.tables import (
    BallotBoxRow,
    CountedReceiptRow,
    OpenVoteRow,
    SealedDraftRow,
    SecretRegisterRow,
    VoteDraftRow,
)
from storage.uow import Database, UnitOfWork
from storage.vote_repos import Conference
from tests.conftest import AUDIT_KEY, BALLOT_SECRET, START

AGREE, DISAGREE = 0, 1


def _services(db: Database, tmp_path: Path) -> Services:
    return Services(
        db=db,
        clock=FakeClock(START),
        renderer=Renderer(),
        audit_key=AUDIT_KEY,
        ballot_secret=BALLOT_SECRET,
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


@dataclass(frozen=True)
class Setup:
    """A bloc ready to vote: its first ballot, the representatives by unit, the secretariat."""

    ballot: int
    reps: list[list[Actor]]
    secretary: Actor
    bloc_id: int
    conference_id: int
    units: list[int]  # unit ids, in the order of the ballot's candidates


async def make_bloc(
    services: Services,
    *,
    units: int,
    reps_per_unit: int,
    secret: bool = False,
    quota: int = 1,
    opened: bool = True,
    ballot: bool = True,
) -> Setup:
    """A bloc of `units` units with their representatives, the secretariat, a conference
    every unit checked in to, and one open ballot: the report's approval, or (`secret`) an
    award tier with every unit a candidate and up to `quota` choices, opened by the
    secretariat as in chat (which seals it under BALLOT_SECRET; left a draft unless
    `opened`). Without `ballot`, none is created (Setup.ballot is 0)."""
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
        ballot_id = 0
        if not ballot:
            pass
        elif secret:
            ballot_id = await add_award_ballot(
                uow, bloc.id, conference.id, [u.id for u in made], secretary, quota, now
            )
        else:
            info = await uow.votes.add_ballot(
                bloc_id=bloc.id,
                conference_id=conference.id,
                kind=BallotKind.APPROVE_REPORT,
                title="",
                rules=default_rules(BallotKind.APPROVE_REPORT),
                options=[
                    Option(0, OptionKind.AGREE),
                    Option(1, OptionKind.DISAGREE),
                    Option(2, OptionKind.OTHER),
                ],
                tier=None,
                tier_order=0,
                quota=1,
                runoff_of=None,
                closes_at=None,
                created_by=secretary.identity.id,
                now=now,
            )
            ballot_id = info.ballot.id
            await uow.votes.set_status(ballot_id, BallotStatus.OPEN, now=now)
        await uow.commit()
    async with services.db.uow() as uow:  # the actors again, now with their memberships
        reps = [[await load_actor(uow, services, p.account) for p in people] for people in reps]
        secretary = await load_actor(uow, services, secretary.account)
    if ballot and secret and opened:
        done = await svc.open_ballot(services, secretary, ref="1")
        assert isinstance(done, svc.Opened), done
    return Setup(ballot_id, reps, secretary, bloc.id, conference.id, [u.id for u in made])


async def add_award_ballot(
    uow: UnitOfWork,
    bloc_id: int,
    conference_id: int,
    unit_ids: list[int],
    secretary: Actor,
    quota: int,
    now: datetime,
) -> int:
    """A secret award tier (a draft) with every unit a candidate; returns its id."""
    info = await uow.votes.add_ballot(
        bloc_id=bloc_id,
        conference_id=conference_id,
        kind=BallotKind.AWARD,
        title="",
        rules=default_rules(BallotKind.AWARD, quota=quota),
        options=[Option(i, OptionKind.UNIT, u) for i, u in enumerate(unit_ids)],
        tier="gov_flag",
        tier_order=1,
        quota=quota,
        runoff_of=None,
        closes_at=None,
        created_by=secretary.identity.id,
        now=now,
    )
    return info.ballot.id


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
    setup = await make_bloc(services, units=3, reps_per_unit=5)
    ballot, reps = setup.ballot, setup.reps
    unit_reps = reps[0]
    choices = [Choice((AGREE,)), Choice((DISAGREE,)), Choice(blank=True)]
    outcomes = await asyncio.gather(
        *(
            svc.cast_vote(services, unit_reps[i % 5], ballot_id=ballot, choice=choices[i % 3])
            for i in range(50)
        )
    )
    # An open ballot: every cast is accepted, one of them first, the last one counts; a cast
    # of the choice already recorded (the one just before it) changes nothing.
    assert all(isinstance(o, svc.Accepted) for o in outcomes)
    kinds = Counter(
        "unchanged" if o.unchanged else "replaced" if o.replaced else "first"
        for o in outcomes
        if isinstance(o, svc.Accepted)
    )
    assert kinds["first"] == 1
    assert kinds["replaced"] + kinds["unchanged"] == 49
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
    assert actions == Counter({"vote.cast": 1, "vote.recast": kinds["replaced"]})
    await _chains_hold(services)


async def test_forty_units_casting_at_once_are_all_counted(
    committed_db: Database, tmp_path: Path
) -> None:
    services = _services(committed_db, tmp_path)
    setup = await make_bloc(services, units=40, reps_per_unit=1)
    ballot, reps, secretary = setup.ballot, setup.reps, setup.secretary
    # 25 agree, 10 disagree, 5 blank ballots.
    plan = [Choice((AGREE,))] * 25 + [Choice((DISAGREE,))] * 10 + [Choice(blank=True)] * 5
    outcomes = await asyncio.gather(
        *(
            svc.cast_vote(services, people[0], ballot_id=ballot, choice=choice)
            for people, choice in zip(reps, plan, strict=True)
        )
    )
    assert [type(o) for o in outcomes] == [svc.Accepted] * 40
    # Each unit is told the turnout at its own commit: the casts commit one after another
    # (the bloc's audit chain), so the numbers shown are 1 to 40, each once.
    assert sorted(o.view.turnout for o in outcomes if isinstance(o, svc.Accepted)) == list(
        range(1, 41)
    )
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
    setup = await make_bloc(services, units=20, reps_per_unit=1)
    ballot, reps, secretary = setup.ballot, setup.reps, setup.secretary

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


# --- secret ballots: the register and the box ---------------------------------------------


@dataclass(frozen=True)
class Sealed:
    """What the database holds for a secret ballot, row by row."""

    register: list[int]  # unit ids
    box: list[tuple[str, bytes]]  # receipt HMAC, sealed choice
    drafts: dict[int, tuple[bytes, int]]  # unit id -> sealed selection, version
    counted: list[str]  # receipt HMACs
    open_votes: int
    vote_drafts: int


async def sealed_rows(services: Services, ballot: int) -> Sealed:
    async with services.db.uow() as uow:
        s = uow.session
        register = await s.exec(
            select(SecretRegisterRow).where(SecretRegisterRow.ballot_id == ballot)
        )
        box = await s.exec(select(BallotBoxRow).where(BallotBoxRow.ballot_id == ballot))
        drafts = await s.exec(select(SealedDraftRow).where(SealedDraftRow.ballot_id == ballot))
        counted = await s.exec(
            select(CountedReceiptRow).where(CountedReceiptRow.ballot_id == ballot)
        )
        open_votes = await s.exec(select(OpenVoteRow).where(OpenVoteRow.ballot_id == ballot))
        vote_drafts = await s.exec(select(VoteDraftRow).where(VoteDraftRow.ballot_id == ballot))
        return Sealed(
            register=sorted(r.unit_id for r in register.all()),
            box=[(r.receipt_mac, r.sealed) for r in box.all()],
            drafts={r.unit_id: (r.sealed, r.version) for r in drafts.all()},
            counted=[r.receipt_mac for r in counted.all()],
            open_votes=len(open_votes.all()),
            vote_drafts=len(vote_drafts.all()),
        )


def _opened(ballot: int, box: list[tuple[str, bytes]], options: int) -> list[tuple[Choice, str]]:
    """The box opened with the ballot key (what the count does in memory)."""
    keys = ballot_keys(BALLOT_SECRET, ballot)
    return [open_choice(keys, sealed, options) for _, sealed in box]


async def _check(services: Services, actor: Actor, receipt: str) -> ReceiptFound | None:
    checked = await svc.check_receipt(services, actor, typed=receipt)
    assert isinstance(checked, svc.ReceiptOut), checked
    return checked.found


async def test_fifty_concurrent_casts_for_one_unit_on_a_secret_ballot_leave_one_paper(
    committed_db: Database, tmp_path: Path
) -> None:
    services = _services(committed_db, tmp_path)
    setup = await make_bloc(services, units=3, reps_per_unit=5, secret=True)
    ballot, unit_reps = setup.ballot, setup.reps[0]
    outcomes = await asyncio.gather(
        *(
            svc.cast_vote(
                services, unit_reps[i % 5], ballot_id=ballot, choice=Choice((1 + i % 2,))
            )
            for i in range(50)
        )
    )
    accepted = [o for o in outcomes if isinstance(o, svc.Accepted)]
    refused = [o for o in outcomes if isinstance(o, Rejected)]
    # A secret ballot is locked by its first cast: one paper, the other 49 refused.
    assert len(accepted) == 1
    assert len(refused) == 49
    assert {(r.reason, r.detail["why"]) for r in refused} == {
        (Reason.CAST, CastRejection.ALREADY_VOTED.value)
    }
    receipt = accepted[0].receipt
    assert receipt is not None
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", receipt)
    assert accepted[0].replaced is False
    assert accepted[0].view.voted
    rows = await sealed_rows(services, ballot)
    assert rows.register == [setup.units[0]]
    assert len(rows.box) == 1
    assert (rows.open_votes, rows.vote_drafts, rows.drafts, rows.counted) == (0, 0, {}, [])
    [(choice, inside)] = _opened(ballot, rows.box, 3)
    assert choice in (Choice((1,)), Choice((2,)))
    assert inside == receipt.replace("-", "")
    async with services.db.uow() as uow:
        actions = Counter(
            e.action
            for e, _, _ in await uow.audit.chain(setup.bloc_id)
            if e.action.startswith("vote.")
        )
    assert actions == {"vote.cast_secret": 1}
    found = await _check(services, unit_reps[0], receipt)
    assert found is not None
    assert (found.ballot_id, found.counted) == (ballot, False)

    closed = await svc.close_ballot(services, setup.secretary, ref="1")
    assert isinstance(closed, svc.Closed), closed
    assert closed.result.returned == 1
    assert [o.votes for o in closed.result.options] == [
        0,
        int(choice == Choice((1,))),
        int(choice == Choice((2,))),
    ]
    await _chains_hold(services)


async def test_forty_units_casting_at_once_on_a_secret_ballot_are_all_counted(
    committed_db: Database, tmp_path: Path
) -> None:
    services = _services(committed_db, tmp_path)
    setup = await make_bloc(services, units=40, reps_per_unit=1, secret=True)
    ballot = setup.ballot
    # 30 units propose unit 1 (the first candidate), 6 propose unit 2 (unit 1 among them:
    # nobody votes for itself), 4 cast a blank ballot.
    plan = [Choice((1,))] + [Choice((0,))] * 30 + [Choice((1,))] * 5 + [Choice(blank=True)] * 4
    outcomes = await asyncio.gather(
        *(
            svc.cast_vote(services, people[0], ballot_id=ballot, choice=choice)
            for people, choice in zip(setup.reps, plan, strict=True)
        )
    )
    assert [type(o) for o in outcomes] == [svc.Accepted] * 40
    receipts = [o.receipt for o in outcomes if isinstance(o, svc.Accepted)]
    assert len({r for r in receipts if r is not None}) == 40

    rows = await sealed_rows(services, ballot)
    assert rows.register == sorted(setup.units)
    assert len(rows.box) == 40
    # Every sealed paper has the same size, whatever it holds.
    assert len({len(sealed) for _, sealed in rows.box}) == 1
    assert (rows.open_votes, rows.vote_drafts, rows.drafts, rows.counted) == (0, 0, {}, [])
    assert Counter(c for c, _ in _opened(ballot, rows.box, 40)) == Counter(plan)

    closed = await svc.close_ballot(services, setup.secretary, ref="1")
    assert isinstance(closed, svc.Closed), closed
    r = closed.result
    assert (r.issued, r.returned, r.valid, r.invalid, r.blank, r.base_count) == (
        40,
        40,
        36,
        4,
        4,
        40,
    )
    # 30 of 40 propose unit 1: 75%, at least 70%; unit 2's 6 votes are 15%.
    assert [(o.votes, o.percent_tenths, o.passes) for o in r.options[:2]] == [
        (30, 750, True),
        (6, 150, False),
    ]
    assert all(o.votes == 0 for o in r.options[2:])
    assert [o.unit_id for o in r.winners] == [setup.units[0]]

    # Only who voted and the counted receipts remain; the sealed papers are gone.
    rows = await sealed_rows(services, ballot)
    assert rows.register == sorted(setup.units)
    assert (rows.box, rows.drafts) == ([], {})
    assert len(rows.counted) == len(set(rows.counted)) == 40
    keys = ballot_keys(BALLOT_SECRET, ballot)
    assert sorted(rows.counted) == sorted(
        receipt_mac(keys, r.replace("-", "")) for r in receipts if r is not None
    )
    for people, receipt in zip(setup.reps, receipts, strict=True):
        assert receipt is not None
        found = await _check(services, people[0], receipt)
        assert found is not None
        assert (found.ballot_id, found.counted, found.published) == (ballot, True, None)
    await _chains_hold(services)


async def test_secret_casts_racing_the_close_are_counted_or_refused(
    committed_db: Database, tmp_path: Path
) -> None:
    services = _services(committed_db, tmp_path)
    setup = await make_bloc(services, units=20, reps_per_unit=1, secret=True)

    async def close() -> svc.Closed | Rejected:
        await asyncio.sleep(0)  # let some casts start first
        return await svc.close_ballot(services, setup.secretary, ref="1")

    casts = [
        svc.cast_vote(services, people[0], ballot_id=setup.ballot, choice=Choice((0 if u else 1,)))
        for u, people in enumerate(setup.reps)
    ]
    results = await asyncio.gather(*casts[:10], close(), *casts[10:])
    closed, outcomes = results[10], results[:10] + results[10 + 1 :]
    assert isinstance(closed, svc.Closed)
    accepted = [o for o in outcomes if isinstance(o, svc.Accepted)]
    refused = [o for o in outcomes if isinstance(o, Rejected)]
    assert {r.detail["why"] for r in refused} <= {CastRejection.CLOSED.value}
    # Every paper in the register was counted, and no paper is left in the box.
    rows = await sealed_rows(services, setup.ballot)
    assert len(rows.register) == len(rows.counted) == len(accepted) == closed.result.returned
    assert (rows.box, rows.drafts) == ([], {})
    assert sum(o.votes for o in closed.result.options) == len(accepted)


async def test_two_representatives_toggling_one_stale_keyboard_keep_both_selections(
    committed_db: Database, tmp_path: Path
) -> None:
    services = _services(committed_db, tmp_path)
    setup = await make_bloc(services, units=6, reps_per_unit=2, secret=True, quota=4)
    ballot = setup.ballot
    first, second = setup.reps[0]
    other = setup.reps[1][0]
    # Both phones of unit 1 show the same (empty) keyboard and tap different candidates at
    # once, while unit 2 builds its own selection.
    taps = await asyncio.gather(
        svc.toggle(services, first, ballot_id=ballot, index=1),
        svc.toggle(services, second, ballot_id=ballot, index=2),
        svc.toggle(services, other, ballot_id=ballot, index=0),
        svc.toggle(services, first, ballot_id=ballot, index=3),
        svc.toggle(services, second, ballot_id=ballot, index=4),
        svc.toggle(services, other, ballot_id=ballot, index=5),
    )
    assert all(isinstance(t, svc.VoteView) for t in taps), taps
    rows = await sealed_rows(services, ballot)
    unit, colleague_unit = setup.units[0], setup.units[1]
    assert sorted(rows.drafts) == [unit, colleague_unit]
    keys = ballot_keys(BALLOT_SECRET, ballot)
    selections = {u: open_draft(keys, u, sealed, 6) for u, (sealed, _) in rows.drafts.items()}
    assert selections == {unit: (1, 2, 3, 4), colleague_unit: (0, 5)}
    version = rows.drafts[unit][1]  # random (a count of taps would leak the parity)
    assert len({len(sealed) for sealed, _ in rows.drafts.values()}) == 1
    assert (rows.register, rows.box, rows.open_votes, rows.vote_drafts) == ([], [], 0, 0)

    # Either phone sees the unit's whole selection; a confirm shown for an older version is
    # refused, the current one is cast and the draft goes with the cast.
    view = await svc.vote_view(services, second, ballot_id=ballot)
    assert isinstance(view, svc.VoteView)
    assert (view.selection, view.version) == ((1, 2, 3, 4), version)
    older = next(
        t.version
        for t in taps
        if isinstance(t, svc.VoteView) and t.unit.id == unit and t.version != version
    )
    stale = await svc.cast_vote(services, first, ballot_id=ballot, choice=None, version=older)
    assert stale == Rejected(Reason.SELECTION_CHANGED)
    done = await svc.cast_vote(services, first, ballot_id=ballot, choice=None, version=version)
    assert isinstance(done, svc.Accepted), done
    rows = await sealed_rows(services, ballot)
    assert rows.register == [unit]
    assert list(rows.drafts) == [colleague_unit]
    assert [c for c, _ in _opened(ballot, rows.box, 6)] == [Choice((1, 2, 3, 4))]
