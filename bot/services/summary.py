"""/summary: the conference's summary article, written from the data the bot holds — when
and where, who attended, the report approved, the award proposals in the words the bloc's
articles use ("đề nghị 01 đơn vị được nhận Cờ thi đua của Chính phủ; …"), next year's
leader and deputy, the covenant signed — with two paragraphs the secretariat writes (the
year's movements, the closing). Preview in chat, post to the bloc's group — or, for a bloc
with no group (Zalo has none), send it to each member in private."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.models import Bloc, Locale
from bot.core.text import TEXT_LIMITS, clean
from bot.core.voting import BallotKind, BallotStatus
from bot.services.actors import Actor, secretariat_bloc
from bot.services.app import Services
from bot.services.audit import last_done, record
from bot.services.notify import post_to_group, queue_notices
from bot.services.outcomes import Notice, Reason, Rejected
from storage.uow import UnitOfWork
from storage.vote_repos import Conference

MAX_PARAGRAPH = TEXT_LIMITS["paragraph"]


@dataclass(frozen=True, slots=True)
class AwardLine:
    tier: str  # strings.toml [tier] key
    units: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SummaryData:
    bloc: Bloc
    conference: Conference
    chair_unit: str | None
    present: int
    units: int
    report: bool | None  # approved / not approved / not counted yet
    awards: tuple[AwardLine, ...]  # tiers with at least one unit proposed, in tier order
    leader: str | None
    deputy: str | None
    covenant: tuple[int, int] | None  # units signed, of how many (next year's covenant)

    @property
    def next_year(self) -> int:
        return self.conference.year + 1


@dataclass(frozen=True, slots=True)
class SummaryPosted:
    data: SummaryData
    members: int  # people it was sent to in private; 0 when it went to the group


async def summary_of(uow: UnitOfWork, bloc: Bloc, conference: Conference) -> SummaryData:
    units = await uow.blocs.units(bloc.id)
    names = {u.id: u.name for u in units}
    present = await uow.votes.present(conference.id)
    decided: dict[str, list[int]] = {}
    order: dict[str, int] = {}  # each tier's place among the bloc's tiers (its level's)
    report: bool | None = None
    leader: list[int] = []
    deputy: list[int] = []
    for info in await uow.votes.ballots(bloc.id, conference.id):
        if info.ballot.status is not BallotStatus.CLOSED:
            continue
        stored = await uow.votes.result(info.ballot.id)
        if stored is None:
            continue
        result, winners, _ = stored
        kind = info.ballot.kind
        if kind is BallotKind.APPROVE_REPORT and info.runoff_of is None:
            report = bool(result.get("winners"))
        elif kind is BallotKind.AWARD and info.tier:
            order.setdefault(info.tier, info.tier_order)
            decided.setdefault(info.tier, [])
            decided[info.tier] += [u for u in winners if u not in decided[info.tier]]
        elif kind is BallotKind.LEADER:
            leader += winners
        elif kind is BallotKind.DEPUTY:
            deputy += winners
    # The tiers the conference voted on, in their order: whichever body's awards the bloc's
    # level proposes (a cluster of provinces names no provincial award).
    awards = tuple(
        AwardLine(tier, tuple(names[u] for u in decided[tier] if u in names))
        for tier in sorted(decided, key=lambda tier: order[tier])
        if decided[tier]
    )
    covenant = await uow.covenants.of_year(bloc.id, conference.year + 1)
    signed = len(await uow.covenants.signatures(covenant.id)) if covenant else 0
    return SummaryData(
        bloc,
        conference,
        names.get(conference.chair_unit_id or 0),
        len(present),
        len(units),
        report,
        awards,
        names.get(leader[0]) if leader else None,
        names.get(deputy[0]) if deputy else None,
        (signed, len(units)) if covenant and signed else None,  # "signed" only once one has
    )


async def conference_of_year(
    uow: UnitOfWork, bloc: Bloc, year: int | None
) -> Conference | Rejected:
    """This year's conference (`year` None), or an earlier year's, or why there is none."""
    conference = await uow.votes.conference(bloc.id, bloc.year if year is None else year)
    if conference is not None:
        return conference
    if year is not None and year != bloc.year:
        return Rejected(Reason.NO_SUCH_YEAR, {"year": year})
    return Rejected(Reason.NO_CONFERENCE)


async def summary(
    services: Services, actor: Actor, *, year: int | None = None
) -> SummaryData | Rejected:
    """This year's summary, or an earlier year's (`/summary 2024`: still readable)."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        conference = await conference_of_year(uow, bloc, year)
        if isinstance(conference, Rejected):
            return conference
        return await summary_of(uow, bloc, conference)


async def set_paragraph(
    services: Services, actor: Actor, *, which: str, text: str
) -> SummaryData | Rejected:
    """The secretariat's own paragraph: `movements` (the year's movements) or `closing`;
    an empty text removes it."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    body = "\n".join(line.rstrip() for line in text.strip().splitlines()).strip()
    if len(body) > MAX_PARAGRAPH:
        return Rejected(Reason.PARAGRAPH_TOO_LONG, {"limit": MAX_PARAGRAPH})
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        conference = await uow.votes.conference(bloc_id, bloc.year)
        if conference is None:
            return Rejected(Reason.NO_CONFERENCE)
        if which == "movements":
            await uow.votes.set_summary_text(conference.id, movements=body)
        else:
            await uow.votes.set_summary_text(conference.id, closing=body)
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action="summary.paragraph",
            which=which,
            characters=len(clean(body)),
        )
        conference = await uow.votes.conference(bloc_id, bloc.year)
        assert conference is not None
        data = await summary_of(uow, bloc, conference)
        await uow.commit()
    return data


async def post_summary(services: Services, actor: Actor) -> SummaryPosted | Rejected:
    """Post the Vietnamese article to the bloc's linked group; a bloc with no group (a bloc
    on Zalo, which has no groups, never links one) gets it in each member's private chat, in
    their own language. Through the outbox either way."""
    data = await summary(services, actor)
    if isinstance(data, Rejected):
        return data
    if data.bloc.group_chat_id is not None:
        await post_to_group(services, data.bloc, "summary", s=data)
        async with services.db.uow() as uow:
            await record(
                uow,
                services,
                bloc_id=data.bloc.id,
                actor_identity_id=actor.identity.id,
                action="summary.posted",
                conference=data.conference.id,
            )
            await uow.commit()
        return SummaryPosted(data, 0)
    now = services.clock.now()
    async with services.db.uow() as uow:
        rows = await uow.identities.members_of_bloc(data.bloc.id)
        members = tuple(dict.fromkeys(ident.id for _, ident in rows))
        audit = await record(
            uow,
            services,
            bloc_id=data.bloc.id,
            actor_identity_id=actor.identity.id,
            action="summary.sent",
            conference=data.conference.id,
            members=len(members),
        )
        notice = Notice(members, "summary", {"s": data})
        await queue_notices(uow, services, [notice], audit=audit, bloc_id=data.bloc.id, now=now)
        await uow.commit()
    await services.outbox_flush()
    return SummaryPosted(data, len(members))


async def last_sent(services: Services, bloc_id: int) -> int | None:
    """How many members the newest private sending of the bloc's summary reached (the page
    after it says so, and every reload of that page)."""
    async with services.db.uow(read_only=True) as uow:
        entry = await last_done(uow, bloc_id, "summary.sent")
    return None if entry is None else int(entry.details.get("members", 0))


def render_summary(services: Services, data: SummaryData, locale: Locale) -> str:
    return services.renderer.render(locale, "summary", s=data)
