"""What the hall saw, entered by the secretariat (issue 20): the awards handed out at the
conference — already decided by an authority, not voted here: by whom, which form, to how
many collectives, individuals or households, optionally their names — and the launch of next
year's movement (phát động thi đua). The summary and the minutes say them; nothing else does.
The same service for `/summary awards`, `/summary launch` and the console's summary page."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bot.core.models import HandedOut
from bot.core.text import clean, nfc
from bot.services.actors import Actor, secretariat_bloc
from bot.services.app import Services
from bot.services.audit import record
from bot.services.outcomes import Reason, Rejected, refuse_long
from bot.services.summary import SummaryData, summary_of
from storage.uow import UnitOfWork
from storage.vote_repos import Conference, handed_out_json

MAX_COUNT = 9999  # collectives, individuals or households in one award handed out
MAX_HANDED_OUT = 20  # awards handed out at one conference
_NAME_BREAK = re.compile(r"[;\n]")


def _count(typed: str) -> int | Rejected:
    """A count as typed: empty or «-» is none; otherwise a whole number 0…MAX_COUNT."""
    text = clean(typed)
    if text in {"", "-"}:
        return 0
    if not (text.isascii() and text.isdecimal()) or len(text) > 6 or int(text) > MAX_COUNT:
        return Rejected(Reason.BAD_COUNT, {"text": text, "max": MAX_COUNT})
    return int(text)


def _names(typed: str) -> tuple[str, ...]:
    """Names one per line or separated by «;», each composed and trimmed."""
    return tuple(n for n in (clean(part) for part in _NAME_BREAK.split(typed)) if n)


def handed_out_from(
    *, by: str, form: str, collectives: str, individuals: str, households: str, names: str
) -> HandedOut | Rejected:
    """One award handed out, checked: who gave it and its form are required (each within its
    limit), counts are whole numbers from 0 to MAX_COUNT, and at least one count or a name
    says who received it."""
    who, what = clean(by), clean(form)
    for field, text in (("award_by", who), ("award_form", what)):
        if not text:
            return Rejected(Reason.HANDED_OUT_INCOMPLETE, {"missing": field})
        if (long := refuse_long(field, text)) is not None:
            return long
    counts: list[int] = []
    for typed in (collectives, individuals, households):
        count = _count(typed)
        if isinstance(count, Rejected):
            return count
        counts.append(count)
    listed = _names(names)
    if (long := refuse_long("award_names", "\n".join(listed))) is not None:
        return long
    if not any(counts) and not listed:
        return Rejected(Reason.HANDED_OUT_NO_RECIPIENT)
    return HandedOut(who, what, counts[0], counts[1], counts[2], listed)


def _handed_out_line(text: str) -> HandedOut | Rejected:
    """The chat's form: «by; form; collectives; individuals; households; name; name…» (names
    also on the lines below); counts left out or «-» are none."""
    first, _, below = nfc(text).strip().partition("\n")
    parts = [p.strip() for p in first.split(";")] + [""] * 5
    return handed_out_from(
        by=parts[0],
        form=parts[1],
        collectives=parts[2],
        individuals=parts[3],
        households=parts[4],
        names="\n".join([*parts[5:], below]),
    )


async def _change(
    services: Services,
    actor: Actor,
    change: Callable[[Conference], Conference | Rejected],
    *,
    action: str,
    **details: Any,
) -> SummaryData | Rejected:
    """This year's conference changed by `change`, stored, audited; the summary it makes."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        conference = await uow.votes.conference(bloc_id, bloc.year, lock=True)
        if conference is None:
            return Rejected(Reason.NO_CONFERENCE)
        changed = change(conference)
        if isinstance(changed, Rejected):
            return changed
        await uow.votes.set_hall_record(
            changed.id, handed_out=changed.handed_out, launch=changed.launch
        )
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action=action,
            conference=conference.id,
            **details,
        )
        data = await _summary(uow, bloc_id, bloc.year)
        await uow.commit()
    return data


async def _summary(uow: UnitOfWork, bloc_id: int, year: int) -> SummaryData:
    bloc = await uow.blocs.require(bloc_id)
    conference = await uow.votes.conference(bloc_id, year)
    assert conference is not None
    return await summary_of(uow, bloc, conference)


async def add_handed_out(
    services: Services,
    actor: Actor,
    *,
    by: str,
    form: str,
    collectives: str = "",
    individuals: str = "",
    households: str = "",
    names: str = "",
) -> SummaryData | Rejected:
    """Add an award handed out at this year's conference (secretariat; at most
    MAX_HANDED_OUT), from the console's fields."""
    allowed = secretariat_bloc(actor)  # who may comes before what was typed
    if isinstance(allowed, Rejected):
        return allowed
    award = handed_out_from(
        by=by,
        form=form,
        collectives=collectives,
        individuals=individuals,
        households=households,
        names=names,
    )
    return await _add(services, actor, award)


async def add_handed_out_line(
    services: Services, actor: Actor, text: str
) -> SummaryData | Rejected:
    """Add an award handed out from the chat's line (see `_handed_out_line`)."""
    allowed = secretariat_bloc(actor)
    if isinstance(allowed, Rejected):
        return allowed
    return await _add(services, actor, _handed_out_line(text))


async def _add(
    services: Services, actor: Actor, award: HandedOut | Rejected
) -> SummaryData | Rejected:
    if isinstance(award, Rejected):
        return award

    def add(c: Conference) -> Conference | Rejected:
        if len(c.handed_out) >= MAX_HANDED_OUT:
            return Rejected(Reason.TOO_MANY_HANDED_OUT, {"limit": MAX_HANDED_OUT})
        return replace(c, handed_out=(*c.handed_out, award))

    return await _change(
        services, actor, add, action="summary.handed_out_added", by=award.by, form=award.form
    )


def handed_out_key(award: HandedOut) -> str:
    """A short fingerprint of one award handed out: the console's remove button carries it,
    so a list changed meanwhile (another secretary) never loses the wrong one."""
    return hashlib.sha256(handed_out_json([award]).encode()).hexdigest()[:16]


async def remove_handed_out(
    services: Services, actor: Actor, number: int, *, key: str | None = None
) -> SummaryData | Rejected:
    """Remove the award handed out listed as `number` (1, 2, … as the list shows them); with
    `key`, only if it is still the one whose fingerprint that is."""

    def remove(c: Conference) -> Conference | Rejected:
        if not 1 <= number <= len(c.handed_out):
            return Rejected(
                Reason.UNKNOWN_HANDED_OUT, {"number": number, "count": len(c.handed_out)}
            )
        if key is not None and handed_out_key(c.handed_out[number - 1]) != key:
            return Rejected(Reason.HANDED_OUT_CHANGED)
        kept = c.handed_out[: number - 1] + c.handed_out[number:]
        return replace(c, handed_out=kept)

    return await _change(
        services, actor, remove, action="summary.handed_out_removed", number=number
    )


async def set_launch(services: Services, actor: Actor, text: str) -> SummaryData | Rejected:
    """The launch of next year's movement, as the secretariat words it (its lines kept);
    an empty text removes it."""
    body = "\n".join(clean(line) for line in nfc(text).strip().splitlines()).strip()
    body = re.sub(r"\n{3,}", "\n\n", body)
    if (long := refuse_long("launch", body)) is not None:
        return long
    return await _change(
        services,
        actor,
        lambda c: replace(c, launch=body),
        action="summary.launch",
        characters=len(body),
    )
