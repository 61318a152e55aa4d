"""Next year's emulation covenant (giao ước thi đua): the secretariat sets its text and the
date to sign by; each unit's representative reads it and signs it with a button — unit,
person, time and the SHA-256 of the text signed are recorded, and a signature is final. The
text can change only until the first unit signs. It is a deadline kind for the reminders
(`CovenantSource` in `bot/services/deadlines.py`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.files import PARSED_LIMITS, ContentProblem
from bot.core.models import Bloc, Role, Unit
from bot.core.text import TEXT_LIMITS, clean, nfc
from bot.services.actors import Actor, secretariat_bloc
from bot.services.app import Services
from bot.services.audit import last_done, record
from bot.services.filecheck import ContentRefused, check_content, parse_checked, parse_problem
from bot.services.outbox import notice_rows
from bot.services.outcomes import Notice, Reason, Rejected
from bot.services.reports import local_to_utc
from bot.services.tabular import Unreadable, document_text
from bot.services.voting import representatives
from storage.covenant_repos import Covenant, Signature
from storage.uow import UnitOfWork

MAX_COVENANT = TEXT_LIMITS["covenant"]  # the text and its buttons fit in one message


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _body(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines()).strip()


COVENANT_FILE_TYPES = (".txt", ".docx")


async def text_from_file(filename: str, data: bytes) -> str | Rejected:
    """The covenant's text from a file the secretariat sends: plain text (UTF-8, with or
    without a BOM, or UTF-16 with one) or a Word document (its paragraphs, one per line).

    The content must be what the name says; a Word document is checked for bombs, then read
    in a child process under limits (`filecheck.parse_checked`)."""
    suffix = filename.casefold().rpartition(".")[2]
    if f".{suffix}" not in COVENANT_FILE_TYPES:
        return Rejected(Reason.COVENANT_FILE_TYPE, {"types": ", ".join(COVENANT_FILE_TYPES)})
    if suffix == "txt":
        refused = check_content(suffix, data, PARSED_LIMITS)
        if refused is not None:
            return Rejected(Reason.FILE_CONTENT, {"file": refused})
        try:
            if data.startswith((b"\xff\xfe", b"\xfe\xff")):
                return nfc(data.decode("utf-16"))
            return nfc(data.decode("utf-8-sig"))
        except UnicodeDecodeError:
            return Rejected(Reason.COVENANT_FILE_UNREADABLE)
    text = await parse_checked(suffix, data, document_text, data)
    if isinstance(text, Unreadable):
        text = parse_problem(suffix, text.why) or ContentRefused(ContentProblem.BROKEN, suffix)
    if isinstance(text, ContentRefused):
        return Rejected(Reason.FILE_CONTENT, {"file": text})
    return nfc(text)


@dataclass(frozen=True, slots=True)
class CovenantSet:
    covenant: Covenant
    tz: str
    told: int  # representatives the notice is queued for


async def set_covenant(
    services: Services, actor: Actor, *, text: str, due_text: str = ""
) -> CovenantSet | Rejected:
    """The covenant of the bloc's next year: its text and (optionally) the date to sign by."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    body = _body(text)
    if not clean(body):
        return Rejected(Reason.COVENANT_EMPTY)
    if len(body) > MAX_COVENANT:
        return Rejected(Reason.COVENANT_TOO_LONG, {"limit": MAX_COVENANT})
    now = services.clock.now()
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        due: datetime | None = None
        if due_text.strip():
            due = local_to_utc(due_text, bloc.timezone)
            if due is None:
                return Rejected(Reason.BAD_DATE, {"value": clean(due_text)})
            if due <= now:
                return Rejected(Reason.DEADLINE_PAST, {"value": clean(due_text)})
        year = bloc.year + 1
        current = await uow.covenants.of_year(bloc_id, year, lock=True)
        if current is not None and await uow.covenants.signatures(current.id):
            return Rejected(Reason.COVENANT_LOCKED, {"year": year})
        covenant = await uow.covenants.put(bloc_id, year, body, due, by=actor.identity.id, now=now)
        digest = text_hash(body)
        reps = await representatives(uow, bloc_id)
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action="covenant.set",
            covenant=covenant.id,
            year=year,
            text_sha256=digest,
            due_at=due.isoformat() if due else None,
            told=len(reps),
        )
        notice = Notice(
            reps,
            "covenant_notice",
            {"bloc": bloc.name, "year": year, "due": due, "tz": bloc.timezone},
            buttons=(("t:button.read_covenant", f"cv:{covenant.id}:show"),),
        )
        rows = await notice_rows(
            uow,
            services.renderer,
            notice,
            key=f"covenant:{covenant.id}:{digest[:16]}:{{identity}}",
            bloc_id=bloc_id,
            now=now,
            web_url=services.web_url,
        )
        await uow.outbox.enqueue(rows, now)
        await uow.commit()
    return CovenantSet(covenant, bloc.timezone, len(reps))


async def last_set(services: Services, actor: Actor) -> CovenantSet | None:
    """Next year's covenant as :func:`set_covenant` answered (how many were told, from the
    audit row of its text): the console's page after «Lưu», and every reload of it."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return None
    async with services.db.uow(read_only=True) as uow:
        bloc = await uow.blocs.require(bloc_id)
        covenant = await uow.covenants.of_year(bloc_id, bloc.year + 1)
        if covenant is None:
            return None
        digest = text_hash(covenant.text)
        entry = await last_done(
            uow, bloc_id, "covenant.set", covenant=covenant.id, text_sha256=digest
        )
    told = entry.details.get("told") if entry is not None else None
    if not isinstance(told, int):
        return None
    return CovenantSet(covenant, bloc.timezone, told)


@dataclass(frozen=True, slots=True)
class CovenantView:
    bloc: Bloc
    year: int
    covenant: Covenant | None
    units: tuple[Unit, ...]
    signatures: dict[int, Signature]
    signers: dict[int, str]  # identity id -> display name
    unit: Unit | None  # the unit the actor represents
    secretariat: bool

    @property
    def mine(self) -> Signature | None:
        return self.signatures.get(self.unit.id) if self.unit is not None else None

    def signed(self, *, first: bool) -> Signed | None:
        """The unit's signature as :func:`sign` answered (`first`: this person's signing made
        it), read from the stored signature: the page after «Ký», and every reload of it."""
        mine, covenant = self.mine, self.covenant
        if mine is None or covenant is None or self.unit is None:
            return None
        by = self.signers.get(mine.identity_id, "")
        return Signed(covenant.year, self.unit.name, first, by, mine.at, self.bloc.timezone)

    @property
    def unsigned(self) -> list[str]:
        return [u.name for u in self.units if u.id not in self.signatures]

    @property
    def hash(self) -> str:
        return text_hash(self.covenant.text)[:16] if self.covenant else ""

    @property
    def due_local(self) -> str:
        """The date to sign by as the date-time picker takes it (the bloc's time), or "": a
        form that shows the stored text shows this too, so saving a corrected text keeps it."""
        if self.covenant is None or self.covenant.due_at is None:
            return ""
        return self.covenant.due_at.astimezone(ZoneInfo(self.bloc.timezone)).strftime(
            "%Y-%m-%dT%H:%M"
        )


async def _signable(uow: UnitOfWork, bloc: Bloc, covenant_id: int | None) -> Covenant | None:
    """The covenant a member sees: the one a button named if it is still signable, else next
    year's; after /bloc newyear, until next year's is set, this year's (units that had not
    signed still can)."""
    if covenant_id is not None:
        named = await uow.covenants.get(covenant_id)
        if named is not None and named.year in (bloc.year, bloc.year + 1):
            return named
    upcoming = await uow.covenants.of_year(bloc.id, bloc.year + 1)
    return upcoming or await uow.covenants.of_year(bloc.id, bloc.year)


async def covenant_view(
    services: Services, actor: Actor, *, covenant_id: int | None = None
) -> CovenantView | Rejected:
    """The covenant as the actor sees it: its text, whether the unit signed (by whom, when);
    for the secretariat, who has signed and who has not."""
    async with services.db.uow() as uow:
        if covenant_id is not None:
            found = await uow.covenants.get(covenant_id)
            if found is None:
                return Rejected(Reason.NO_COVENANT)
            bloc_id: int | Rejected = found.bloc_id
        elif actor.current_bloc_id is not None:
            bloc_id = actor.current_bloc_id
        else:
            bloc_id = Rejected(Reason.NO_BLOC if actor.memberships else Reason.NOT_MEMBER)
        if isinstance(bloc_id, Rejected):
            return bloc_id
        membership = actor.membership(bloc_id)
        if membership is None:
            return Rejected(Reason.NOT_MEMBER)
        bloc = await uow.blocs.require(bloc_id)
        covenant = await _signable(uow, bloc, covenant_id)
        units = tuple(await uow.blocs.units(bloc_id))
        signatures = await uow.covenants.signatures(covenant.id) if covenant else {}
        signers = {
            i.id: i.display_name
            for i in await uow.identities.many(s.identity_id for s in signatures.values())
        }
    unit = (
        next((u for u in units if u.id == membership.unit_id), None)
        if membership.has(Role.REPRESENTATIVE)
        else None
    )
    return CovenantView(
        bloc,
        covenant.year if covenant else bloc.year + 1,
        covenant,
        units,
        signatures,
        signers,
        unit,
        membership.has(Role.SECRETARIAT),
    )


@dataclass(frozen=True, slots=True)
class Signed:
    year: int
    unit: str
    first: bool  # False: the unit had signed before (by `by`, at `at`)
    by: str
    at: datetime
    tz: str


async def sign(
    services: Services, actor: Actor, *, covenant_id: int, seen_hash: str
) -> Signed | Rejected:
    """The representative signs for the unit the text they were shown (`seen_hash`: the
    first 16 hex digits of its SHA-256, carried by the button)."""
    now = services.clock.now()
    async with services.db.uow() as uow:
        covenant = await uow.covenants.get(covenant_id)
        if covenant is None:
            return Rejected(Reason.NO_COVENANT)
        membership = actor.membership(covenant.bloc_id)
        if (
            membership is None
            or membership.unit_id is None
            or not membership.has(Role.REPRESENTATIVE)
        ):
            return Rejected(Reason.NOT_REPRESENTATIVE if actor.memberships else Reason.NOT_MEMBER)
        bloc = await uow.blocs.require(covenant.bloc_id)
        if covenant.year not in (bloc.year, bloc.year + 1):
            return Rejected(Reason.NO_COVENANT)
        digest = text_hash(covenant.text)
        if digest[:16] != seen_hash:
            return Rejected(Reason.COVENANT_CHANGED)
        first = await uow.covenants.sign(
            covenant_id, membership.unit_id, actor.identity.id, digest, now
        )
        if first:
            await record(
                uow,
                services,
                bloc_id=covenant.bloc_id,
                actor_identity_id=actor.identity.id,
                unit_id=membership.unit_id,
                action="covenant.signed",
                covenant=covenant_id,
                text_sha256=digest,
            )
        signature = (await uow.covenants.signatures(covenant_id))[membership.unit_id]
        by = await uow.identities.get(signature.identity_id)
        unit = await uow.blocs.unit(membership.unit_id)
        await uow.commit()
    return Signed(
        covenant.year,
        unit.name if unit else "",
        first,
        by.display_name,
        signature.at,
        bloc.timezone,
    )
