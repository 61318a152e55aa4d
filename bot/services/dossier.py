"""The award dossier (hồ sơ đề nghị khen thưởng, issue 20): after the count the secretariat
collects each proposed unit's achievement report (báo cáo thành tích), then sends the whole
dossier up as one ZIP — a list of contents, the memo, the minutes, the vote-count records, the
score table and the achievement reports, named and ordered as `bot/core/dossier.py` says.

The collection is a report period of its own kind (`PeriodKind.ACHIEVEMENT`) owed only by the
units the counted award ballots proposed (`period_target`): the representatives upload their
file in chat or on the web through the report walk (file checks, receipts, late marking,
on-behalf upload by the secretariat, returns), with no self-scoring; the deadline planner
reminds the proposed units that have not sent one.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.dossier import Entry, Part, Wanted, missing, plan
from bot.core.models import Bloc, Role, Unit
from bot.core.reports import DEFAULT_MAX_BYTES, DEFAULT_TYPES, LatePolicy, PeriodKind
from bot.core.text import clean
from bot.services import minutes
from bot.services.actors import Actor, secretariat_bloc
from bot.services.app import Services
from bot.services.audit import record
from bot.services.exports import (
    ZIP_PART_LIMIT,
    ScoreSheet,
    ascii_short,
    build_zip,
    file_extension,
    score_xlsx,
    zip_bound,
)
from bot.services.notify import queue_notices
from bot.services.outcomes import Notice, Reason, Rejected
from bot.services.reports import PeriodView, local_to_utc, score_sheet
from bot.services.summary import conference_of_year
from storage.uow import UnitOfWork
from storage.vote_repos import Conference

# The dossier goes out as one ZIP, in chat too: Telegram takes a bot's upload up to 50 MB.
# Achievement reports are at most 20 MB each (the period's limit), so a dossier of many large
# reports can pass this; it is then refused with both sizes stated, and the reports come as
# the period's own ZIP parts (/export N).
DOSSIER_LIMIT = ZIP_PART_LIMIT
MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class CollectionOpened:
    """The achievement period opened: the units told to send their report."""

    view: PeriodView
    units: tuple[str, ...]
    year: int


async def _proposed(
    uow: UnitOfWork, services: Services, bloc: Bloc, conference: Conference
) -> list[tuple[str, Unit]]:
    """(tier, unit) of every unit the conference proposed for an award, in the memo's order;
    a unit proposed for two awards owes one report, listed under the first."""
    by_name = {u.name: u for u in await uow.blocs.units(bloc.id)}  # names are unique per bloc
    found: list[tuple[str, Unit]] = []
    for tier, names in await minutes.proposed_units(uow, services, bloc, conference):
        for name in names:
            unit = by_name.get(name)
            if unit is not None and all(u.id != unit.id for _, u in found):
                found.append((tier, unit))
    return found


async def open_collection(
    services: Services, actor: Actor, *, deadline_text: str, year: int | None = None
) -> CollectionOpened | Rejected:
    """Ask each unit proposed for an award at the conference for its achievement report by a
    deadline: a report period owed by those units only, with no scoring; they are told."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    now = services.clock.now()
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        conference = await conference_of_year(uow, bloc, year)
        if isinstance(conference, Rejected):
            return conference
        deadline = local_to_utc(deadline_text, bloc.timezone)
        if deadline is None:
            return Rejected(Reason.BAD_DATE, {"value": clean(deadline_text)})
        if deadline <= now:
            return Rejected(Reason.DEADLINE_PAST, {"value": clean(deadline_text)})
        proposed = await _proposed(uow, services, bloc, conference)
        if not proposed:
            return Rejected(Reason.NO_PROPOSALS, {"year": conference.year})
        periods = await uow.reports.periods(bloc_id)
        existing = await uow.reports.of_conference(conference.id)
        if existing is not None:
            return Rejected(
                Reason.ACHIEVEMENT_OPEN,
                {"number": periods.index(existing) + 1, "title": existing.title},
            )
        # A period keeps a scoring table (the schema's); an achievement period never uses it.
        table = await uow.tables.latest(bloc_id, conference.year) or await uow.tables.latest(
            bloc_id, bloc.year
        )
        if table is None:
            return Rejected(Reason.NO_TABLE)
        table_id, version, _ = table
        title = services.renderer.t(actor.locale, "dossier.period_title").format(
            year=conference.year
        )
        period = await uow.reports.add_period(
            bloc_id=bloc_id,
            kind=PeriodKind.ACHIEVEMENT,
            title=title,
            deadline=deadline,
            late_policy=LatePolicy.ACCEPT,
            max_bytes=DEFAULT_MAX_BYTES,
            accepted_types=DEFAULT_TYPES,
            table_id=table_id,
            created_by=actor.identity.id,
            now=now,
            conference_id=conference.id,
        )
        targets = {unit.id for _, unit in proposed}
        await uow.reports.set_targets(period.id, targets)
        audit = await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action="period.opened",
            period=period.id,
            kind=period.kind.value,
            title=title,
            deadline=deadline.isoformat(),
            late_policy=period.late_policy.value,
            table=table_id,
            conference=conference.id,
            units=sorted(targets),
        )
        members = await uow.identities.members_of_bloc(bloc_id)
        told = tuple(
            ident.id for m, ident in members if m.has(Role.REPRESENTATIVE) and m.unit_id in targets
        )
        notice = Notice(
            told,
            "achievement_opened_notice",
            {
                "bloc": bloc.name,
                "title": title,
                "year": conference.year,
                "deadline": deadline,
                "tz": bloc.timezone,
            },
        )
        await queue_notices(uow, services, [notice], audit=audit, bloc_id=bloc_id, now=now)
        await uow.commit()
    await services.outbox_flush()
    view = PeriodView(period, len(periods) + 1, version, bloc.timezone, 0, len(targets))
    return CollectionOpened(view, tuple(u.name for _, u in proposed), conference.year)


@dataclass(frozen=True, slots=True)
class Dossier:
    """The ZIP and what its contents list says."""

    name: str
    data: bytes
    entries: tuple[Entry, ...]
    year: int
    period: int | None  # the achievement period's number in /period (None: not opened yet)

    @property
    def missing(self) -> tuple[Entry, ...]:
        return missing(self.entries)

    @property
    def parts(self) -> int:
        """How many parts the contents list names (the list itself not counted)."""
        return len(self.entries) - 1


async def _year_end_number(uow: UnitOfWork, bloc_id: int, year: int) -> int | None:
    """The number (in /period) of the conference year's year-end period: its score table."""
    periods = await uow.reports.periods(bloc_id)
    for number in range(len(periods), 0, -1):
        period = periods[number - 1]
        if (
            period.kind is PeriodKind.YEAR_END
            and await uow.tables.year_of(period.table_id) == year
        ):
            return number
    return None


async def dossier(
    services: Services, actor: Actor, *, locale: str = "vi", year: int | None = None
) -> Dossier | Rejected:
    """The award dossier of this year's conference (or an earlier year's) as one ZIP: what was
    collected, in the dossier's order, and a contents list that marks what is missing."""
    papers = await minutes.paperwork(services, actor, locale=locale, year=year)
    if isinstance(papers, Rejected):
        return papers
    bloc, conference = papers.bloc, papers.conference
    async with services.db.uow(read_only=True) as uow:
        proposed = await _proposed(uow, services, bloc, conference)
        period = await uow.reports.of_conference(conference.id)
        latest = await uow.reports.latest_by_unit(period.id) if period else {}
        periods = await uow.reports.periods(bloc.id)
        scores_number = await _year_end_number(uow, bloc.id, conference.year)
    sheet = (
        await score_sheet(services, actor, period_ref=str(scores_number))
        if scores_number is not None
        else None
    )
    scores = score_xlsx(sheet, locale=locale) if isinstance(sheet, ScoreSheet) else None

    # What each part holds, as (extension, content) files: each document's DOCX, and beside
    # it its PDF for digital signing when LibreOffice made one (issue 20, point 9) — same
    # number, same name; a PDF that could not be made leaves the DOCX alone.
    held: dict[Wanted, list[tuple[str, bytes | Path]]] = {}

    def want(part: Part, files: list[tuple[str, bytes | Path]], **unit: str) -> None:
        held[Wanted(part, tuple(ext for ext, _ in files), **unit)] = files

    async def signed(docx: bytes | None) -> list[tuple[str, bytes | Path]]:
        if docx is None:
            return []
        pdf = await services.pdf.convert(docx)
        return [("docx", docx), *((("pdf", pdf),) if pdf is not None else ())]

    memo, minutes_files, records = await asyncio.gather(
        signed(papers.memo), signed(papers.minutes), signed(papers.records)
    )
    want(Part.MEMO, memo)
    want(Part.MINUTES, minutes_files)
    want(Part.RECORDS, records)
    want(Part.SCORES, [("xlsx", scores)] if scores is not None else [])
    for tier, unit in proposed:
        sent = latest.get(unit.id)
        files: list[tuple[str, bytes | Path]] = (
            [(file_extension(sent.file_name), services.files.path(sent.file_sha256))]
            if sent is not None
            else []
        )
        want(Part.ACHIEVEMENT, files, unit=unit.name, slug=ascii_short(unit.short_name), tier=tier)
    entries = plan(list(held))

    text = services.renderer.plain(
        locale,
        "dossier_contents",
        bloc=bloc,
        conference=conference,
        entries=entries,
        sent={u.name: latest[u.id] for _, u in proposed if u.id in latest},
        tz=bloc.timezone,
    )
    # A BOM and CRLF: Windows' Notepad shows the Vietnamese letters and the lines as typed.
    members: list[tuple[str, bytes | Path]] = [
        (entries[0].names[0], "\ufeff".encode() + text.replace("\n", "\r\n").encode())
    ]
    for entry in entries[1:]:
        members += [
            (name, content)
            for name, (_, content) in zip(entry.names, held[entry.wanted], strict=True)
        ]
    sizes = [
        (name, len(content) if isinstance(content, bytes) else content.stat().st_size)
        for name, content in members
    ]
    bound = zip_bound(sizes)
    number = periods.index(period) + 1 if period is not None else None
    if bound >= DOSSIER_LIMIT:
        return Rejected(
            Reason.DOSSIER_TOO_LARGE,
            {
                "max_mb": DOSSIER_LIMIT // MB,
                "size_mb": math.ceil(sum(size for _, size in sizes) / MB),
                "number": number,
            },
        )
    stamp = services.clock.now().astimezone(ZoneInfo(bloc.timezone))
    data = await asyncio.to_thread(build_zip, members, when=stamp)
    name = f"Ho_so_khen_thuong_{ascii_short(bloc.code)}_{conference.year}.zip"
    return Dossier(name, data, entries, conference.year, number)


async def collection(
    services: Services, actor: Actor, *, year: int | None = None
) -> PeriodView | Rejected | None:
    """The conference's achievement period with how many of its units have sent their report
    (None: not opened yet)."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow(read_only=True) as uow:
        bloc = await uow.blocs.require(bloc_id)
        conference = await conference_of_year(uow, bloc, year)
        if isinstance(conference, Rejected):
            return conference
        period = await uow.reports.of_conference(conference.id)
        if period is None:
            return None
        number = (await uow.reports.periods(bloc_id)).index(period) + 1
        version, _ = await uow.tables.get(period.table_id)
        sent = await uow.reports.latest_by_unit(period.id)
        targets = await uow.reports.targets(period.id) or set()
    submitted = len(set(sent) & targets)
    return PeriodView(period, number, version, bloc.timezone, submitted, len(targets))
