"""/standings: where each unit stands — rank (ties share it), the total that counts
(reviewed where the secretariat reviewed, else the self-score, marked which), the report's
status, and during the conference the turnout of the open ballots (never a partial result).
Anyone in the bloc may ask; in the bloc's group it is public."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core.models import Bloc, Role, Unit
from bot.core.reports import Period, PeriodKind, unit_status
from bot.core.standings import ranks
from bot.services.actors import Actor
from bot.services.app import Services
from bot.services.outcomes import Reason, Rejected
from bot.services.voting import open_turnout
from storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class StandingRow:
    rank: int | None
    unit: Unit
    total_cp: int | None
    reviewed: bool
    status: str  # UnitStatus value: submitted | late | returned | missing
    mine: bool


@dataclass(frozen=True, slots=True)
class StandingsView:
    bloc: Bloc
    period: Period | None
    rows: tuple[StandingRow, ...]
    turnout: list[dict[str, Any]]
    units: int


def _period(periods: list[Period]) -> Period | None:
    """The year-end period if there is one (the conference's), else the latest."""
    year_end = [p for p in periods if p.kind is PeriodKind.YEAR_END]
    chosen = year_end or [p for p in periods if p.kind.scored]
    return chosen[-1] if chosen else None


async def standings_of(
    uow: UnitOfWork, services: Services, bloc: Bloc, mine: int | None = None
) -> StandingsView:
    units = await uow.blocs.units(bloc.id)
    period = _period(await uow.reports.periods(bloc.id))
    latest = await uow.reports.latest_by_unit(period.id) if period else {}
    by_id = {u.id: u for u in units}
    totals = [(u.id, latest[u.id].total_cp if u.id in latest else None) for u in units]
    rows = tuple(
        StandingRow(
            rank,
            by_id[unit_id],
            latest[unit_id].total_cp if unit_id in latest else None,
            unit_id in latest and latest[unit_id].reviewed_total_cp is not None,
            unit_status(latest.get(unit_id)).value,
            unit_id == mine,
        )
        for unit_id, rank in ranks(totals)
    )
    turnout = await open_turnout(uow, bloc, services.clock.now())
    return StandingsView(bloc, period, rows, turnout, len(units))


async def standings(services: Services, actor: Actor) -> StandingsView | Rejected:
    bloc_id = actor.current_bloc_id
    if bloc_id is None:
        return Rejected(Reason.NO_BLOC if actor.memberships else Reason.NOT_MEMBER)
    membership = actor.membership(bloc_id)
    if membership is None:
        return Rejected(Reason.NOT_MEMBER)
    mine = membership.unit_id if membership.has(Role.REPRESENTATIVE) else None
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        return await standings_of(uow, services, bloc, mine)


async def group_standings(services: Services, chat_id: int) -> StandingsView | None:
    async with services.db.uow() as uow:
        bloc = await uow.blocs.by_group_chat(chat_id)
        if bloc is None:
            return None
        return await standings_of(uow, services, bloc, None)
