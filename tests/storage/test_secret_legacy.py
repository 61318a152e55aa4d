"""Secret ballots whose votes were stored in clear (open_vote, vote_draft), as before sealing
existed, are sealed at start: an open one's votes move into the register and the box (with
receipts nobody saw), a counted or cancelled one's are dropped. Afterwards the open ballot
counts every vote once, knows who voted, and no secret ballot has a vote in clear."""

from __future__ import annotations

from collections import Counter

from sqlmodel import select

from bot.core.sealing import ballot_keys, open_choice
from bot.core.voting import BallotStatus, CastRejection, Choice
from bot.services import voting as svc
from bot.services.app import Services
from bot.services.outcomes import Reason, Rejected
from bot.services.secret_ballots import seal_legacy_votes
from storage.tables import OpenVoteRow, VoteDraftRow
from tests.conftest import BALLOT_SECRET, START
from tests.storage.test_voting_concurrency import add_award_ballot, make_bloc, sealed_rows

# What the four units had voted on the open ballot in clear (option i is unit i): unit 3
# had only a selection in progress.
LEGACY = [Choice((1,)), Choice((0, 2)), Choice(blank=True)]


async def _clear_votes(services: Services) -> tuple[int, int]:
    """Open votes and multi-select drafts of secret ballots, anywhere."""
    async with services.db.uow() as uow:
        counts = []
        for table in (OpenVoteRow, VoteDraftRow):
            rows = (await uow.session.exec(select(table.ballot_id))).all()
            secret = []
            for ballot_id in rows:
                info = await uow.votes.ballot(ballot_id)
                assert info is not None
                if info.ballot.rules.secret:
                    secret.append(ballot_id)
            counts.append(len(secret))
    return counts[0], counts[1]


async def test_votes_stored_in_clear_are_sealed_at_start_and_counted_once(
    services: Services,
) -> None:
    setup = await make_bloc(services, units=4, reps_per_unit=1, secret=True, quota=2, opened=False)
    ballot, units, reps = setup.ballot, setup.units, [people[0] for people in setup.reps]
    async with services.db.uow() as uow:
        # Opened as before sealing existed: no key check; the votes in open_vote.
        await uow.votes.set_status(ballot, BallotStatus.OPEN, now=START)
        for unit, person, choice in zip(units, reps, LEGACY, strict=False):
            await uow.votes.put_open_vote(ballot, unit, person.identity.id, choice, now=START)
        await uow.votes.put_draft(ballot, units[3], reps[3].identity.id, (0, 1), START)
        # A ballot counted back then: its result is stored, its votes in clear are not needed.
        counted = await add_award_ballot(
            uow, setup.bloc_id, setup.conference_id, units, setup.secretary, 1, START
        )
        await uow.votes.set_status(counted, BallotStatus.CLOSED, now=START)
        for unit, person in zip(units[:2], reps[:2], strict=True):
            await uow.votes.put_open_vote(
                counted, unit, person.identity.id, Choice((2,)), now=START
            )
        await uow.commit()
    assert await _clear_votes(services) == (5, 1)

    assert await seal_legacy_votes(services.db, BALLOT_SECRET, services.token_bytes) == 2
    assert await _clear_votes(services) == (0, 0)
    # Once is enough: a second start finds nothing to seal.
    assert await seal_legacy_votes(services.db, BALLOT_SECRET, services.token_bytes) == 0

    rows = await sealed_rows(services, ballot)
    assert rows.register == sorted(units[:3])
    assert (rows.open_votes, rows.vote_drafts, rows.drafts, rows.counted) == (0, 0, {}, [])
    keys = ballot_keys(BALLOT_SECRET, ballot)
    opened = [open_choice(keys, sealed, 4) for _, sealed in rows.box]
    assert Counter(choice for choice, _ in opened) == Counter(LEGACY)
    assert len({receipt for _, receipt in opened}) == 3  # each paper its own receipt
    async with services.db.uow() as uow:
        assert await uow.secret.ballot_key_check(ballot) == keys.check
    gone = await sealed_rows(services, counted)
    assert (gone.register, gone.box, gone.open_votes, gone.vote_drafts) == ([], [], 0, 0)

    # Who voted is known: the turnout counts each unit once and a unit votes only once.
    view = await svc.vote_view(services, reps[3], ballot_id=ballot)
    assert isinstance(view, svc.VoteView), view
    assert (view.turnout, view.voted, view.selection) == (3, False, ())
    again = await svc.cast_vote(services, reps[0], ballot_id=ballot, choice=Choice((2,)))
    assert again == Rejected(Reason.CAST, {"why": CastRejection.ALREADY_VOTED.value, "max": 2})
    done = await svc.cast_vote(services, reps[3], ballot_id=ballot, choice=Choice((1,)))
    assert isinstance(done, svc.Accepted), done
    assert done.view.turnout == 4

    closed = await svc.close_ballot(services, setup.secretary, ref="1")
    assert isinstance(closed, svc.Closed), closed
    r = closed.result
    assert (r.issued, r.returned, r.valid, r.blank) == (4, 4, 3, 1)
    assert [o.votes for o in r.options] == [1, 2, 1, 0]
    after = await sealed_rows(services, ballot)
    assert (after.register, after.box, len(after.counted)) == (sorted(units), [], 4)
