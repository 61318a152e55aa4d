"""The conference hall's screen: a read-only link for the projector (issued and revoked by
the secretariat, in chat now and from the web console later) and what the screen shows —
the conference, presence and quorum, the ballot open now with its turnout, the last counted
result, and the venue check-in code. No person's name, no receipt, never a partial result."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.models import Bloc, Locale
from bot.core.screen import SCREEN_KIND, ScreenProblem, screen_expires_at, screen_problem
from bot.core.venue import code_valid_until, venue_checkin_on, venue_code, venue_key
from bot.core.websignin import TOKEN_BYTES, encode_token, hash_token, well_formed
from bot.services import voting
from bot.services.actors import Actor, secretariat_bloc
from bot.services.app import Services
from bot.services.audit import record
from bot.services.live import tell_screens
from bot.services.outcomes import Reason, Rejected
from storage.vote_repos import Conference

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ScreenIssued:
    token: str  # goes into the link only; never stored, never logged
    expires_at: datetime
    tz: str
    base_url: str

    @property
    def url(self) -> str:
        return f"{self.base_url}/screen/{self.token}"


@dataclass(frozen=True, slots=True)
class ScreenRevoked:
    count: int


async def issue_screen(services: Services, actor: Actor) -> ScreenIssued | Rejected:
    """`/conference screen`: a link for the hall's projector, valid until the end of the
    conference day in the bloc's timezone. Earlier links stay valid (a second projector may
    show one); `revoke_screens` ends them all."""
    return await _issue(services, actor, year=None)


async def issue_past_screen(
    services: Services, actor: Actor, year: int
) -> ScreenIssued | Rejected:
    """A link to the screen of `year`'s conference, also once its day is over (its presence
    and last counted result, read-only), valid until the end of the conference day or of
    today in the bloc's timezone, whichever is later: `demo --serve` shows the finished demo
    this way, its clock standing after the conference day and the new year."""
    return await _issue(services, actor, year=year)


async def _issue(services: Services, actor: Actor, *, year: int | None) -> ScreenIssued | Rejected:
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    if services.web_url is None:
        return Rejected(Reason.WEB_OFF)
    now = services.clock.now()
    # Not services.token_bytes (seeded in the demo): a link must never be predictable.
    token = encode_token(secrets.token_bytes(TOKEN_BYTES))
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        conference = await uow.votes.conference(bloc_id, bloc.year if year is None else year)
        if conference is None:
            return Rejected(Reason.NO_CONFERENCE)
        expires_at = screen_expires_at(conference.held_at, bloc.timezone)
        if year is not None:  # a conference already held: today, whatever its day was
            expires_at = max(expires_at, screen_expires_at(now, bloc.timezone))
        if now >= expires_at:
            return Rejected(Reason.CONFERENCE_OVER)
        await uow.web.add_screen(
            hash_token(SCREEN_KIND, token),
            bloc_id=bloc_id,
            conference_id=conference.id,
            created_by=actor.identity.id,
            now=now,
            expires_at=expires_at,
        )
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action="screen.issued",
            conference=conference.id,
            expires_at=expires_at.isoformat(),
        )
        await uow.commit()
    log.info("hall screen link issued for conference %s", conference.id)
    return ScreenIssued(token, expires_at, bloc.timezone, services.web_url)


@dataclass(frozen=True, slots=True)
class ScreenLinks:
    """The console's view of the hall screen: the conference, how many links show it now,
    and until when a link issued now would."""

    conference: Conference
    live: int
    expires_at: datetime
    tz: str
    over: bool  # the conference day has ended: no link can be issued


async def screen_links(services: Services, actor: Actor) -> ScreenLinks | Rejected:
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    if services.web_url is None:
        return Rejected(Reason.WEB_OFF)
    now = services.clock.now()
    async with services.db.uow(read_only=True) as uow:
        bloc = await uow.blocs.require(bloc_id)
        conference = await uow.votes.conference(bloc_id, bloc.year)
        if conference is None:
            return Rejected(Reason.NO_CONFERENCE)
        live = await uow.web.live_screens(conference.id, now)
    expires_at = screen_expires_at(conference.held_at, bloc.timezone)
    return ScreenLinks(conference, live, expires_at, bloc.timezone, now >= expires_at)


async def revoke_screens(services: Services, actor: Actor) -> ScreenRevoked | Rejected:
    """`/conference screen off`: every screen link of the conference stops showing anything
    (an open screen says so within a second)."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    now = services.clock.now()
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        conference = await uow.votes.conference(bloc_id, bloc.year)
        if conference is None:
            return Rejected(Reason.NO_CONFERENCE)
        count = await uow.web.revoke_screens(conference.id, now)
        if count:
            await record(
                uow,
                services,
                bloc_id=bloc_id,
                actor_identity_id=actor.identity.id,
                action="screen.revoked",
                conference=conference.id,
                links=count,
            )
        await uow.commit()
    if count:
        await tell_screens(services, bloc_id, "screen", conference=conference.id)
    return ScreenRevoked(count)


@dataclass(frozen=True, slots=True)
class ScreenBallot:
    ballot: dict[str, Any]  # as the templates describe a ballot (voting.ballot_line_context)
    cast: int
    units: int
    seconds_left: int | None  # to its closing time, when it has one

    @property
    def percent(self) -> int:
        return 0 if not self.units else self.cast * 100 // self.units


@dataclass(frozen=True, slots=True)
class HallView:
    locale: Locale
    bloc: Bloc
    conference: Conference
    present: int
    units: int
    quorum_met: bool
    missing: int
    open: tuple[ScreenBallot, ...]
    counted: dict[str, Any] | None  # the last counted ballot (no receipts, no opinions)
    code: str | None  # the venue check-in code, when check-in needs it
    code_seconds: int  # until the code changes
    now: datetime


def screen_locale(_bloc: Bloc) -> Locale:
    """The bloc's language: a bloc has no setting of its own yet, so Vietnamese (as its
    group's messages)."""
    return Locale.VI


async def screen_bloc(services: Services, token: str) -> int | ScreenProblem:
    """The bloc a live link shows, or why it shows nothing."""
    if not well_formed(token):
        return ScreenProblem.UNKNOWN
    async with services.db.uow(read_only=True) as uow:
        link = await uow.web.screen(hash_token(SCREEN_KIND, token))
    problem = screen_problem(
        found=link is not None,
        revoked_at=link.revoked_at if link else None,
        expires_at=link.expires_at if link else None,
        now=services.clock.now(),
    )
    if problem is not None or link is None:
        return problem or ScreenProblem.UNKNOWN
    return link.bloc_id


async def screen_view(services: Services, token: str) -> HallView | ScreenProblem:
    """What the hall's screen shows now, read afresh (every event only says "re-read")."""
    if not well_formed(token):
        return ScreenProblem.UNKNOWN
    now = services.clock.now()
    async with services.db.uow(read_only=True) as uow:
        link = await uow.web.screen(hash_token(SCREEN_KIND, token))
        problem = screen_problem(
            found=link is not None,
            revoked_at=link.revoked_at if link else None,
            expires_at=link.expires_at if link else None,
            now=now,
        )
        if problem is not None or link is None:
            return problem or ScreenProblem.UNKNOWN
        conference = await uow.votes.conference_by_id(link.conference_id)
        if conference is None:
            return ScreenProblem.UNKNOWN
        bloc = await uow.blocs.require(link.bloc_id)
        state = await voting.screen_state(uow, bloc, conference, now)
    view = state.view
    names = {u.id: u.name for u in (*view.present, *view.absent)}
    open_now = tuple(
        ScreenBallot(
            voting.ballot_line_context(line.info, line.number, names, bloc),
            line.cast,
            view.units,
            _seconds(line.info.ballot.closes_at, now),
        )
        for line in state.open
    )
    counted = (
        None
        if state.counted is None
        else {**state.counted, "receipts": [], "other_opinions": []}  # never on a screen
    )
    code: str | None = None
    if venue_checkin_on(conference.venue_checkin, conference.place):
        code = venue_code(venue_key(services.ballot_secret), conference.id, now)
    return HallView(
        locale=screen_locale(bloc),
        bloc=bloc,
        conference=conference,
        present=len(view.present),
        units=view.units,
        quorum_met=view.quorum_met,
        missing=view.missing,
        open=open_now,
        counted=counted,
        code=code,
        code_seconds=_seconds(code_valid_until(now), now) or 0,
        now=now,
    )


def _seconds(until: datetime | None, now: datetime) -> int | None:
    if until is None:
        return None
    return max(0, int((until - now).total_seconds()))
