"""Awards handed out added at the same moment (two secretaries at the console), committed for
real on both backends: each one is kept — the conference's list is changed one at a time."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.services import hall_record
from bot.services.summary import SummaryData
from storage.uow import Database
from tests.storage.test_voting_concurrency import _services, make_bloc


async def test_awards_added_at_once_are_all_kept(committed_db: Database, tmp_path: Path) -> None:
    services = _services(committed_db, tmp_path)
    setup = await make_bloc(services, units=2, reps_per_unit=1, ballot=False)
    done = await asyncio.gather(
        *(
            hall_record.add_handed_out(
                services, setup.secretary, by=f"Cấp {n}", form="Bằng khen", collectives="1"
            )
            for n in range(8)
        )
    )
    assert all(isinstance(d, SummaryData) for d in done)
    async with services.db.uow() as uow:
        conference = await uow.votes.conference(setup.bloc_id, 2024)
    assert conference is not None
    assert sorted(a.by for a in conference.handed_out) == [f"Cấp {n}" for n in range(8)]
