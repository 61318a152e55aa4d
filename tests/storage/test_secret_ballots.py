"""A changed BALLOT_SECRET is caught before it can do harm (decision 4): at start, before a
secret ballot opens, and before a cast, a tap or the count of a ballot sealed under the old
secret. Nothing changes when it is refused: the ballot, the register, the box and the drafts
stay as they were, and the right secret counts them afterwards."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.core.sealing import ballot_keys, master_check
from bot.core.voting import BallotStatus, Choice
from bot.services import voting as svc
from bot.services.app import Services
from bot.services.outcomes import Reason, Rejected
from bot.services.secret_ballots import BallotSecretChangedError, ensure_ballot_secret
from storage.secret_repos import BALLOT_SECRET_CHECK, KeyCheck
from storage.uow import Database
from tests.conftest import BALLOT_SECRET, START
from tests.storage.test_voting_concurrency import add_award_ballot, make_bloc, sealed_rows

OTHER_SECRET = b"another-ballot-secret-0123456789abcdef"
CHANGED = Rejected(Reason.BALLOT_SECRET_CHANGED)


async def _key_check(db: Database) -> KeyCheck | None:
    async with db.uow() as uow:
        return await uow.secret.key_check(BALLOT_SECRET_CHECK)


async def _ballot(services: Services, ballot: int) -> tuple[BallotStatus, str | None]:
    async with services.db.uow() as uow:
        info = await uow.votes.ballot(ballot)
        assert info is not None
        return info.ballot.status, await uow.secret.ballot_key_check(ballot)


async def _actions(services: Services, bloc_id: int) -> list[tuple[str, int | None]]:
    async with services.db.uow() as uow:
        return [(e.action, e.details.get("ballot")) for e, _, _ in await uow.audit.chain(bloc_id)]


async def test_the_first_start_stores_the_key_check_and_a_later_one_refuses_another_secret(
    db: Database,
) -> None:
    assert await _key_check(db) is None
    await ensure_ballot_secret(db, BALLOT_SECRET, START)
    stored = KeyCheck(master_check(BALLOT_SECRET), START)
    assert await _key_check(db) == stored
    assert stored.value != master_check(OTHER_SECRET)
    assert BALLOT_SECRET.decode() not in stored.value

    # The same secret again, a day later: accepted, the first date kept.
    await ensure_ballot_secret(db, BALLOT_SECRET, START + timedelta(days=1))
    assert await _key_check(db) == stored

    with pytest.raises(BallotSecretChangedError) as caught:
        await ensure_ballot_secret(db, OTHER_SECRET, START + timedelta(days=2))
    message = str(caught.value)
    assert message == (
        "BALLOT_SECRET does not match the key-check value stored in this database (first used "
        "2024-11-25 01:00 UTC): secret ballots sealed with the other secret could not be "
        "counted. Restore the original BALLOT_SECRET (or, on SQLite, the key file under "
        "KEYS_DIR)."
    )
    assert "\n" not in message
    assert OTHER_SECRET.decode() not in message
    assert BALLOT_SECRET.decode() not in message
    assert await _key_check(db) == stored


async def test_a_secret_ballot_does_not_open_under_a_secret_other_than_the_start_one(
    services: Services,
) -> None:
    await ensure_ballot_secret(services.db, BALLOT_SECRET, START)
    setup = await make_bloc(services, units=3, reps_per_unit=1, secret=True, opened=False)
    changed = replace(services, ballot_secret=OTHER_SECRET)

    assert await svc.open_ballot(changed, setup.secretary, ref="1") == CHANGED
    assert await _ballot(services, setup.ballot) == (BallotStatus.DRAFT, None)
    assert await _actions(services, setup.bloc_id) == []
    assert await _key_check(services.db) == KeyCheck(master_check(BALLOT_SECRET), START)

    # The right secret opens it, and the ballot remembers its own key's check.
    assert isinstance(await svc.open_ballot(services, setup.secretary, ref="1"), svc.Opened)
    assert await _ballot(services, setup.ballot) == (
        BallotStatus.OPEN,
        ballot_keys(BALLOT_SECRET, setup.ballot).check,
    )


async def test_a_secret_ballot_does_not_open_under_a_secret_other_than_an_earlier_ballots(
    services: Services,
) -> None:
    # No start-up check ran: the first secret ballot to open stores the key check.
    setup = await make_bloc(services, units=3, reps_per_unit=1, secret=True)
    assert await _key_check(services.db) == KeyCheck(master_check(BALLOT_SECRET), START)
    async with services.db.uow() as uow:
        second = await add_award_ballot(
            uow, setup.bloc_id, setup.conference_id, setup.units, setup.secretary, 1, START
        )
        await uow.commit()
    changed = replace(services, ballot_secret=OTHER_SECRET)

    assert await svc.open_ballot(changed, setup.secretary, ref="2") == CHANGED
    assert await _ballot(services, second) == (BallotStatus.DRAFT, None)
    assert ("ballot.opened", second) not in await _actions(services, setup.bloc_id)
    assert isinstance(await svc.open_ballot(services, setup.secretary, ref="2"), svc.Opened)


async def test_casts_taps_and_the_count_under_another_secret_are_refused_and_change_nothing(
    services: Services,
) -> None:
    setup = await make_bloc(services, units=4, reps_per_unit=1, secret=True, quota=2)
    ballot = setup.ballot
    first, second, third = (people[0] for people in setup.reps[:3])
    cast = await svc.cast_vote(services, first, ballot_id=ballot, choice=Choice((1, 2)))
    assert isinstance(cast, svc.Accepted)
    assert isinstance(await svc.toggle(services, second, ballot_id=ballot, index=0), svc.VoteView)
    before = await sealed_rows(services, ballot)
    assert (len(before.register), len(before.box), len(before.drafts)) == (1, 1, 1)

    changed = replace(services, ballot_secret=OTHER_SECRET)
    # A receipt check would find nothing under another secret: it says why instead.
    assert cast.receipt is not None
    assert await svc.check_receipt(changed, first, typed=cast.receipt) == CHANGED
    checked = await svc.check_receipt(services, first, typed=cast.receipt)
    assert isinstance(checked, svc.ReceiptOut)
    assert checked.found is not None
    assert not checked.found.counted
    assert await svc.cast_vote(changed, third, ballot_id=ballot, choice=Choice((0,))) == CHANGED
    # Before anything else: a unit that has voted is told the secret changed, not "voted".
    assert await svc.cast_vote(changed, first, ballot_id=ballot, choice=Choice((3,))) == CHANGED
    assert await svc.preview(changed, first, ballot_id=ballot, choice=Choice((3,))) == CHANGED
    assert await svc.toggle(changed, second, ballot_id=ballot, index=2) == CHANGED
    assert await svc.close_ballot(changed, setup.secretary, ref="1") == CHANGED

    assert await sealed_rows(services, ballot) == before
    assert (await _ballot(services, ballot))[0] is BallotStatus.OPEN
    actions = [a for a, b in await _actions(services, setup.bloc_id) if b == ballot]
    assert actions == ["ballot.opened", "vote.cast_secret"]

    # With the right secret back, the same papers and draft are cast and counted.
    done = await svc.cast_vote(services, second, ballot_id=ballot, choice=None)
    assert isinstance(done, svc.Accepted), done
    done = await svc.cast_vote(services, third, ballot_id=ballot, choice=Choice((0,)))
    assert isinstance(done, svc.Accepted), done
    closed = await svc.close_ballot(services, setup.secretary, ref="1")
    assert isinstance(closed, svc.Closed), closed
    assert closed.result.returned == 3
    assert [o.votes for o in closed.result.options] == [2, 1, 1, 0]
    after = await sealed_rows(services, ballot)
    assert (after.register, after.box, after.drafts) == (sorted(setup.units[:3]), [], {})
    assert len(after.counted) == 3


async def test_confirming_a_sealed_selection_under_another_secret_says_the_secret_changed(
    services: Services,
) -> None:
    """The multi-choice confirm (the selection kept sealed on the server) is refused for the
    changed secret too, not as an empty or changed selection: the draft is still there."""
    setup = await make_bloc(services, units=4, reps_per_unit=1, secret=True, quota=2)
    ballot, voter = setup.ballot, setup.reps[1][0]
    assert isinstance(await svc.toggle(services, voter, ballot_id=ballot, index=0), svc.VoteView)
    before = await sealed_rows(services, ballot)

    changed = replace(services, ballot_secret=OTHER_SECRET)
    assert await svc.preview(changed, voter, ballot_id=ballot, choice=None) == CHANGED
    # As in chat: the confirm button carries the version it was shown for.
    assert await svc.cast_vote(changed, voter, ballot_id=ballot, choice=None, version=1) == CHANGED
    assert await svc.cast_vote(changed, voter, ballot_id=ballot, choice=None) == CHANGED
    assert await sealed_rows(services, ballot) == before


async def test_a_sealed_drafts_version_is_random_and_says_nothing_about_the_taps(
    services: Services,
) -> None:
    """The version stored beside the unit once counted the taps: its parity told whether the
    unit's selection held an odd or even number of candidates. It is random now, compared for
    equality only (a confirm shown for another version is refused)."""
    setup = await make_bloc(services, units=4, reps_per_unit=1, secret=True, quota=3)
    ballot, voter, unit = setup.ballot, setup.reps[1][0], setup.units[1]
    stored: list[int] = []
    shown: list[int] = []
    selection: tuple[int, ...] = ()
    for index in (0, 2, 2, 3, 3, 3):  # on, on, off, on, off, on: two candidates, six taps
        view = await svc.toggle(services, voter, ballot_id=ballot, index=index)
        assert isinstance(view, svc.VoteView), view
        shown.append(view.version)
        selection = view.selection
        stored.append((await sealed_rows(services, ballot)).drafts[unit][1])
    assert selection == (0, 3)
    assert shown == stored
    assert stored != [1, 2, 3, 4, 5, 6]
    assert len(set(stored)) == len(stored)  # every tap a new version
    # Within callback data's 32-bit ids; 0 means "no version shown".
    assert all(0 < v <= 2**31 - 1 for v in stored)

    stale = await svc.cast_vote(services, voter, ballot_id=ballot, choice=None, version=shown[-2])
    assert stale == Rejected(Reason.SELECTION_CHANGED)
    done = await svc.cast_vote(services, voter, ballot_id=ballot, choice=None, version=shown[-1])
    assert isinstance(done, svc.Accepted), done
    assert (await sealed_rows(services, ballot)).drafts == {}
