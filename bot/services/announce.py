"""/announce: the secretariat's message to every member of the bloc, or only to the
representatives of the units that have not acted on one open deadline, through the outbox
(`announce:{bloc}:{chat}:{message}:{identity}`: a tap repeated, the same update twice or a
restart never sends it twice)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.models import Bloc, Role
from bot.core.text import TEXT_LIMITS, clean, utf16_len
from bot.services.actors import Actor, secretariat_bloc
from bot.services.app import Services
from bot.services.audit import last_done, record
from bot.services.deadlines import DeadlineLine, deadline_lines, open_deadlines
from bot.services.outbox import notice_rows
from bot.services.outcomes import Notice, Reason, Rejected
from storage.uow import UnitOfWork

MAX_ANNOUNCEMENT = TEXT_LIMITS["announcement"]  # the header and footer fit in one message
EVERYONE = "all"


@dataclass(frozen=True, slots=True)
class Targets:
    """What the secretariat may send to: everyone, or the laggards of each open deadline."""

    members: int  # people other than the sender
    lines: tuple[DeadlineLine, ...]
    text: str


async def targets(services: Services, actor: Actor, *, text: str) -> Targets | Rejected:
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    body = _body(text)
    if isinstance(body, Rejected):
        return body
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        members = await uow.identities.members_of_bloc(bloc_id)
        lines = await deadline_lines(uow, bloc, services.clock.now(), None)
    others = {i.id for _, i in members} - {actor.identity.id}
    return Targets(len(others), tuple(lines), body)


def _body(text: str) -> str | Rejected:
    body = "\n".join(line.rstrip() for line in text.strip().splitlines()).strip()
    if not clean(body):
        return Rejected(Reason.ANNOUNCE_EMPTY)
    if utf16_len(body) > MAX_ANNOUNCEMENT:
        return Rejected(Reason.ANNOUNCE_TOO_LONG, {"limit": MAX_ANNOUNCEMENT})
    return body


async def _recipients(
    uow: UnitOfWork, bloc: Bloc, actor: Actor, target: str, now: datetime
) -> tuple[set[int], set[int], DeadlineLine | None] | Rejected:
    """Who an announcement to `target` reaches: people (identity ids, never the sender),
    their units, and the deadline whose laggards they are (None: everyone)."""
    members = await uow.identities.members_of_bloc(bloc.id)
    units = {u.id for u in await uow.blocs.units(bloc.id)}
    if target == EVERYONE:
        people = {i.id for _, i in members} - {actor.identity.id}
        return people, {m.unit_id for m, i in members if i.id in people and m.unit_id}, None
    lines = await deadline_lines(uow, bloc, now, None)
    ref = clean(target).lstrip("#")
    line = next(
        (x for x in lines if x.key == ref or (ref.isdecimal() and x.number == int(ref))),
        None,
    )
    if line is None:
        return Rejected(Reason.UNKNOWN_DEADLINE_NUMBER, {"value": ref})
    source, deadline = next(
        (s, d) for s, d in await open_deadlines(uow, bloc, now) if d.key == line.key
    )
    pending = await source.pending(uow, deadline) & units
    people = {i.id for m, i in members if m.unit_id in pending and m.has(Role.REPRESENTATIVE)} - {
        actor.identity.id
    }
    return people, pending, line


def _context(bloc: Bloc, body: str, actor: Actor, line: DeadlineLine | None) -> dict[str, object]:
    """What the `announcement` message is rendered with, for each person it reaches."""
    return {
        "bloc": bloc.name,
        "text": body,
        "sender": actor.identity.display_name,
        "line": line,
        "tz": bloc.timezone,
    }


@dataclass(frozen=True, slots=True)
class Preview:
    """An announcement before it goes: the message as members get it (`announcement`
    rendered with `context`) and how many people and units it reaches."""

    text: str
    target: str
    people: int
    units: int
    line: DeadlineLine | None
    context: dict[str, object]


async def preview(
    services: Services, actor: Actor, *, text: str, target: str
) -> Preview | Rejected:
    """What `announce` would send to `target`, and to how many, sending nothing."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    body = _body(text)
    if isinstance(body, Rejected):
        return body
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        found = await _recipients(uow, bloc, actor, target, services.clock.now())
    if isinstance(found, Rejected):
        return found
    people, units, line = found
    return Preview(
        body,
        EVERYONE if line is None else line.key,
        len(people),
        len(units),
        line,
        _context(bloc, body, actor, line),
    )


@dataclass(frozen=True, slots=True)
class Announced:
    people: int
    units: int
    everyone: bool
    line: DeadlineLine | None  # the deadline whose laggards were told


async def announce(
    services: Services, actor: Actor, *, text: str, target: str, ref: str
) -> Announced | Rejected:
    """Queue the announcement. `target` is EVERYONE, a deadline key ("period:3") from the
    buttons, or a /deadlines number typed. `ref` names the message it comes from (chat and
    message id): a second tap, or the same update delivered twice, sends nothing more."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    body = _body(text)
    if isinstance(body, Rejected):
        return body
    now = services.clock.now()
    key = f"announce:{bloc_id}:{ref}:"
    async with services.db.uow() as uow:
        if await uow.outbox.exists_prefix(key):
            return Rejected(Reason.ANNOUNCE_SENT)
        bloc = await uow.blocs.require(bloc_id)
        found = await _recipients(uow, bloc, actor, target, now)
        if isinstance(found, Rejected):
            return found
        people, reached_units, line = found
        notice = Notice(
            tuple(sorted(people)),
            "announcement",
            _context(bloc, body, actor, line),
        )
        rows = await notice_rows(
            uow,
            services.renderer,
            notice,
            key=key + "{identity}",
            bloc_id=bloc_id,
            now=now,
            web_url=services.web_url,
        )
        await uow.outbox.enqueue(rows, now)
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action="announce.sent",
            target=EVERYONE if line is None else line.key,
            people=len(people),
            units=len(reached_units),
            text=body,
            ref=ref,
        )
        await uow.commit()
    return Announced(len(people), len(reached_units), line is None, line)


async def announced(services: Services, actor: Actor, *, ref: str) -> Announced | None:
    """The announcement `ref` names as :func:`announce` answered, from its audit row (the
    deadline it went to named again while that deadline is open): the page after «Gửi», and
    every reload of it, which sends nothing."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return None
    async with services.db.uow(read_only=True) as uow:
        entry = await last_done(uow, bloc_id, "announce.sent", ref=ref)
        if entry is None:
            return None
        target = entry.details.get("target")
        line = None
        if target != EVERYONE:
            bloc = await uow.blocs.require(bloc_id)
            lines = await deadline_lines(uow, bloc, services.clock.now(), None)
            line = next((x for x in lines if x.key == target), None)
            if line is None:
                return None
    return Announced(entry.details["people"], entry.details["units"], target == EVERYONE, line)
