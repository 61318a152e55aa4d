"""/bloc newyear (secretariat): close the emulation year. The leader and deputy units elected
at this year's conference take office (where a ballot did not decide, the rotation proposes:
the unit after the leader in the rotation order; without a rotation the office is kept), the
bloc's year moves on — so the rotation moves on, and the covenant signed for the new year is
now this year's — and everything of the old year stays readable (`/summary 2024`,
`/minutes 2024`, the archive, the audit log). Refused while a ballot of the year is open or
scheduled; asked once more before it happens; done once (the confirm carries the year)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.models import Bloc, Unit
from bot.core.units import rotation_proposal
from bot.core.voting import BallotKind, BallotStatus
from bot.services.actors import Actor, secretariat_bloc
from bot.services.app import Services
from bot.services.audit import last_done, record
from bot.services.outbox import notice_rows, to_group
from bot.services.outcomes import Notice, Reason, Rejected
from bot.services.voting import current_ballots
from storage.uow import UnitOfWork

ELECTED, ROTATION, KEPT = "elected", "rotation", "kept"


@dataclass(frozen=True, slots=True)
class NewYearPlan:
    bloc: Bloc
    year: int  # the year being closed
    leader: Unit | None
    leader_source: str  # elected | rotation | kept
    deputy: Unit | None
    deputy_source: str
    covenant: tuple[int, int] | None  # units signed, of how many (the new year's covenant)

    @property
    def next_year(self) -> int:
        return self.year + 1


async def _winner(uow: UnitOfWork, bloc: Bloc, kind: BallotKind) -> int | None:
    conference = await uow.votes.conference(bloc.id, bloc.year)
    if conference is None:
        return None
    winner = None
    for info in await uow.votes.ballots(bloc.id, conference.id):
        if info.ballot.kind is not kind or info.ballot.status is not BallotStatus.CLOSED:
            continue
        stored = await uow.votes.result(info.ballot.id)
        if stored is not None and stored[1]:
            winner = stored[1][0]  # a run-off comes later and decides
    return winner


async def _blocking(uow: UnitOfWork, bloc: Bloc) -> list[int]:
    """Numbers of this year's ballots not finished: open, drafts set to open by themselves,
    run-offs not held yet, ties the secretariat has still to decide. After the new year no
    number reaches them any more."""
    blocking = []
    for number, info in enumerate(await current_ballots(uow, bloc.id), start=1):
        status = info.ballot.status
        if (
            status is BallotStatus.OPEN
            or (status is BallotStatus.DRAFT and info.ballot.opens_at is not None)
            or (status is BallotStatus.DRAFT and info.runoff_of is not None)
        ):
            blocking.append(number)
        elif status is BallotStatus.CLOSED:
            stored = await uow.votes.result(info.ballot.id)
            if stored is not None and stored[2] == "pending":
                blocking.append(number)
    return blocking


async def _plan(uow: UnitOfWork, bloc: Bloc) -> NewYearPlan | Rejected:
    blocking = await _blocking(uow, bloc)
    if blocking:
        return Rejected(Reason.BALLOTS_STILL_OPEN, {"numbers": blocking})
    units = await uow.blocs.units(bloc.id)
    by_id = {u.id: u for u in units}
    leader: Unit | None
    deputy: Unit | None
    elected = await _winner(uow, bloc, BallotKind.LEADER)
    if elected in by_id:
        leader, leader_source = by_id[elected], ELECTED
    elif bloc.deputy_unit_id in by_id:  # domain.md: this year's deputy is proposed as leader
        leader, leader_source = by_id[bloc.deputy_unit_id], ROTATION
    else:
        proposed = rotation_proposal(units, bloc.leader_unit_id)
        leader = proposed if proposed is not None else by_id.get(bloc.leader_unit_id or 0)
        leader_source = ROTATION if proposed is not None else KEPT
    elected = await _winner(uow, bloc, BallotKind.DEPUTY)
    if elected in by_id and (leader is None or elected != leader.id):
        deputy, deputy_source = by_id[elected], ELECTED
    else:
        proposed = rotation_proposal(units, leader.id) if leader else None
        kept = by_id.get(bloc.deputy_unit_id or 0)
        deputy = proposed if proposed is not None else kept
        deputy_source = ROTATION if proposed is not None else KEPT
        if deputy is not None and leader is not None and deputy.id == leader.id:
            deputy = None
    covenant = await uow.covenants.of_year(bloc.id, bloc.year + 1)
    signed = len(await uow.covenants.signatures(covenant.id)) if covenant else 0
    return NewYearPlan(
        bloc,
        bloc.year,
        leader,
        leader_source,
        deputy,
        deputy_source,
        (signed, len(units)) if covenant else None,
    )


async def plan_new_year(services: Services, actor: Actor) -> NewYearPlan | Rejected:
    """What /bloc newyear would do (shown with a confirm button)."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        return await _plan(uow, await uow.blocs.require(bloc_id))


async def start_new_year(services: Services, actor: Actor, *, year: int) -> NewYearPlan | Rejected:
    """Close ``year`` (the confirm button's): officers take office, the bloc's year moves on,
    members and the group are told (through the outbox, once)."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    now = services.clock.now()
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id, lock=True)
        if bloc.year != year:
            return Rejected(Reason.YEAR_ALREADY_CLOSED, {"year": year, "current": bloc.year})
        plan = await _plan(uow, bloc)
        if isinstance(plan, Rejected):
            return plan
        await uow.blocs.set_officers(
            bloc_id,
            leader_unit_id=plan.leader.id if plan.leader else None,
            deputy_unit_id=plan.deputy.id if plan.deputy else None,
        )
        await uow.blocs.set_year(bloc_id, plan.next_year)
        table = await uow.tables.latest(bloc_id, year)
        if table is not None and await uow.tables.latest(bloc_id, plan.next_year) is None:
            # The scoring table carries over (the leader revises it with /criteria).
            await uow.tables.add(
                bloc_id=bloc_id,
                year=plan.next_year,
                table=table[2],
                created_by=actor.identity.id,
                now=now,
            )
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action="bloc.new_year",
            closed=year,
            year=plan.next_year,
            leader=plan.leader.id if plan.leader else None,
            leader_source=plan.leader_source,
            deputy=plan.deputy.id if plan.deputy else None,
            deputy_source=plan.deputy_source,
        )
        members = [ident.id for _, ident in await uow.identities.members_of_bloc(bloc_id)]
        key = f"newyear:{bloc_id}:{plan.next_year}"
        rows = await notice_rows(
            uow,
            services.renderer,
            Notice(tuple(dict.fromkeys(members)), "new_year_notice", {"plan": plan}),
            key=key + ":{identity}",
            bloc_id=bloc_id,
            now=now,
            web_url=services.web_url,
        )
        text = services.renderer.render("vi", "new_year_notice", plan=plan)
        rows += to_group(bloc.group_chat_id, text, key=key + ":group", bloc_id=bloc_id, now=now)
        await uow.outbox.enqueue(rows, now)
        await uow.commit()
    await services.outbox_flush()
    return plan


async def year_started(services: Services, actor: Actor) -> NewYearPlan | None:
    """The new year the bloc is in, as :func:`start_new_year` answered (the officers it put in
    office, from its audit row): the console's page after «Chuyển năm», and every reload of
    it, which closes nothing."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return None
    async with services.db.uow(read_only=True) as uow:
        bloc = await uow.blocs.require(bloc_id)
        entry = await last_done(uow, bloc_id, "bloc.new_year", year=bloc.year)
        units = {u.id: u for u in await uow.blocs.units(bloc_id)}
    if entry is None:
        return None
    details = entry.details
    return NewYearPlan(
        bloc,
        bloc.year - 1,
        units.get(details.get("leader") or 0),
        str(details.get("leader_source", KEPT)),
        units.get(details.get("deputy") or 0),
        str(details.get("deputy_source", KEPT)),
        None,
    )
