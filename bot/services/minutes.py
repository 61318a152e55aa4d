"""/minutes: the conference's paperwork from the data — the minutes (biên bản hội nghị,
`Số: 01/BB-<code>`), the vote-count records of every counted ballot in one file (attached to
the minutes), and the proposal memo (tờ trình đề nghị khen thưởng, `Số: 01/TTr-<code>`)
listing the proposed units per award. NĐ 30/2020 layout (bot/services/documents.py); words
from the catalog (`[minutes]`, `[memo]`) and plain-text templates, names exactly as typed."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.levels import regulation_lines
from bot.core.models import Bloc, Locale
from bot.core.reports import PeriodKind
from bot.core.text import (
    addressed,
    bare_name,
    capitalize_first,
    clean,
    list_items,
    nfc,
    with_title,
)
from bot.core.voting import BallotKind, BallotStatus
from bot.render import Renderer, long_date, pad2, points
from bot.services.actors import Actor, secretariat_bloc
from bot.services.app import Services
from bot.services.audit import record
from bot.services.blocs import memo_to
from bot.services.documents import (
    Block,
    OfficialDocument,
    VoteRecord,
    date_line,
    official_docx,
    vote_records_docx,
)
from bot.services.outcomes import Reason, Rejected, refuse_long
from bot.services.summary import SummaryData, conference_of_year, summary_of
from bot.services.voting import in_minutes_order, numbered, record_parts, record_sequence
from storage.uow import UnitOfWork
from storage.vote_repos import BallotInfo, Conference


@dataclass(frozen=True, slots=True)
class Counted:
    """A counted ballot of the conference: its number in /ballot, the chat's result context
    and its vote-count record."""

    number: int
    info: BallotInfo
    context: dict[str, Any]
    record: VoteRecord
    stored: tuple[dict[str, Any], list[int], str]  # the count as stored: result, decided, by


@dataclass(frozen=True, slots=True)
class Proposed:
    """A unit proposed for an award: its score, its votes in the round where it passed the
    threshold, and — when a run-off among tied units decided its seat — the run-off's (which
    has no threshold: listed alone, 2 of 4 would read as failing a 70% threshold)."""

    unit: str
    total_cp: int | None
    votes: int
    percent_tenths: int
    runoff: tuple[int, int] | None = None  # votes, tenths of a percent in the run-off


@dataclass(frozen=True, slots=True)
class Paperwork:
    """The three files and what a caption says of them."""

    bloc: Bloc
    conference: Conference
    minutes: bytes
    records: bytes | None  # None when no ballot was counted yet
    memo: bytes
    counted: int
    present: int
    units: int
    proposed: int
    audit_head: str


@dataclass(frozen=True, slots=True)
class _Facts:
    bloc: Bloc
    conference: Conference
    attendance: tuple[tuple[str, bool], ...]  # every unit in the bloc's order, present?
    counted: tuple[Counted, ...]
    proposals: tuple[tuple[str, tuple[Proposed, ...]], ...]  # tier, units (tier order)
    summary: SummaryData
    head: str
    signed: tuple[datetime, ...] = ()  # when next year's covenant was signed, by each unit
    # What the dossier holds besides the minutes and records: the year-end score table, and
    # how many proposed units have sent their achievement report (the memo's "Kèm theo").
    scored: bool = False
    reports: int = 0
    deputy_unit: str = ""  # the year's deputy unit, whose representative the minutes name

    @property
    def present(self) -> int:
        return sum(1 for _, here in self.attendance if here)


async def _facts(
    uow: UnitOfWork, services: Services, bloc: Bloc, conference: Conference, locale: str
) -> _Facts:
    units = await uow.blocs.units(bloc.id)
    names = {u.id: u.name for u in units}
    present_ids = await uow.votes.present(conference.id)
    _, head = await uow.audit.head(bloc.id)
    every = await numbered(uow, bloc.id)
    counted: list[Counted] = []
    for number, info in in_minutes_order(every):  # a run-off right after its ballot
        if info.conference_id != conference.id or info.ballot.status is not BallotStatus.CLOSED:
            continue
        stored = await uow.votes.result(info.ballot.id)
        if stored is None:
            continue
        runoff = next((n for n, o in every if o.runoff_of == info.ballot.id), None)
        context, vote_record = record_parts(
            services.renderer,
            locale,
            bloc=bloc,
            conference=conference,
            info=info,
            number=number,
            stored=stored,
            names=names,
            head=head,
            runoff_number=runoff,
            now=services.clock.now(),
            record_number=record_sequence(every, conference.id, info.ballot.id),
        )
        counted.append(Counted(number, info, context, vote_record, stored))
    scores = await _scores_of_year(uow, bloc.id, conference.year)
    by_tier: dict[str, list[Proposed]] = {}
    summary = await summary_of(uow, bloc, conference)
    by_ballot = {item.info.ballot.id: item for item in counted}
    for item in counted:
        if item.info.ballot.kind is not BallotKind.AWARD or not item.info.tier:
            continue
        _, decided, _ = item.stored
        votes = _unit_votes(item)
        first = by_ballot.get(item.info.runoff_of or 0)
        first_votes = _unit_votes(first) if first is not None else votes
        listed = by_tier.setdefault(item.info.tier, [])
        for unit_id in decided:
            if unit_id in names and all(p.unit != names[unit_id] for p in listed):
                row = first_votes.get(unit_id, (0, 0))
                listed.append(
                    Proposed(
                        names[unit_id],
                        scores.get(unit_id),
                        *row,
                        runoff=votes.get(unit_id, (0, 0)) if first is not None else None,
                    )
                )
    tiers = tuple((a.tier, tuple(by_tier.get(a.tier, ()))) for a in summary.awards)
    covenant = await uow.covenants.of_year(bloc.id, conference.year + 1)
    zone = ZoneInfo(bloc.timezone)
    day = conference.held_at.astimezone(zone).date()
    signed = tuple(
        sig.at
        for sig in (await uow.covenants.signatures(covenant.id) if covenant else {}).values()
        if sig.at >= conference.held_at and sig.at.astimezone(zone).date() == day
    )
    collected = await uow.reports.of_conference(conference.id)
    reports = len(await uow.reports.latest_by_unit(collected.id)) if collected else 0
    return _Facts(
        bloc,
        conference,
        tuple((u.name, u.id in present_ids) for u in units),
        tuple(counted),
        tiers,
        summary,
        head,
        signed,
        scored=bool(scores),
        reports=reports,
        deputy_unit=(
            names.get(bloc.deputy_unit_id or 0, "") if conference.year == bloc.year else ""
        ),
    )


def _enclosed(t: Callable[[str], str], facts: _Facts, minutes_no: str) -> str:
    """«Hồ sơ kèm theo»: what the dossier holds, counted — never a part not collected."""
    parts = [t("memo.enclosed_minutes").format(number=minutes_no)]
    if facts.counted:
        parts.append(t("memo.enclosed_records").format(count=pad2(len(facts.counted))))
    if facts.scored:
        parts.append(t("memo.enclosed_scores"))
    if facts.reports:
        parts.append(t("memo.enclosed_reports").format(count=pad2(facts.reports)))
    return t("memo.enclosed").format(parts="; ".join(parts))


def _unit_votes(item: Counted) -> dict[int, tuple[int, int]]:
    """Each candidate unit's votes and share (tenths of a percent) in one counted ballot."""
    data = item.stored[0]
    return {
        o.unit_id: (int(r["votes"]), int(r["percent_tenths"]))
        for r in data["options"]
        for o in item.info.ballot.options
        if o.index == r["index"] and o.unit_id
    }


async def _scores_of_year(uow: UnitOfWork, bloc_id: int, year: int) -> dict[int, int | None]:
    """Each unit's total in the conference year's year-end period (a period scored with that
    year's table), so a later year's scores never reach an old year's memo."""
    periods = [p for p in await uow.reports.periods(bloc_id) if p.kind is PeriodKind.YEAR_END]
    for period in reversed(periods):
        table = await uow.tables.year_of(period.table_id)
        if table == year:
            latest = await uow.reports.latest_by_unit(period.id)
            return {unit_id: s.total_cp for unit_id, s in latest.items()}
    return {}


def _count(value: int, locale: str) -> str:
    """Counts as Vietnamese documents write them (01, 02, …); plain digits in English."""
    return pad2(value) if locale == "vi" else str(value)


def _percent(tenths: int, locale: str) -> str:
    sep = "," if locale == "vi" else "."
    return f"{tenths // 10}{sep}{tenths % 10}%"


def _clock(when: datetime, tz: str, locale: str) -> str:
    local = when.astimezone(ZoneInfo(tz))
    return f"{local:%H} giờ {local:%M}" if locale == "vi" else f"{local:%H:%M}"


AGENDA_KEYS = ("report", "awards", "officers", "covenant")


def agenda_keys(kinds: Collection[BallotKind], summary: SummaryData) -> list[str]:
    """The minutes' agenda items, in order: the year's report always (its approval when an
    approval ballot was counted, else its review: one item either way), the award proposals
    when an award ballot was counted, the officers' election when a leader or deputy ballot
    was, next year's covenant once a unit has signed it."""
    keys = ["report"]
    if BallotKind.AWARD in kinds:
        keys.append("awards")
    if BallotKind.LEADER in kinds or BallotKind.DEPUTY in kinds:
        keys.append("officers")
    if summary.covenant:
        keys.append("covenant")
    return keys


def agenda_lines(
    render: Renderer,
    locale: str,
    keys: Sequence[str],
    kinds: Collection[BallotKind],
    summary: SummaryData,
    bloc_kind: str,
) -> list[tuple[str, str]]:
    """Each agenda item's key with its numbered line as the minutes write it."""
    text = render.plain(
        locale,
        "minutes_agenda",
        keys=keys,
        approval=BallotKind.APPROVE_REPORT in kinds,
        s=summary,
        bloc_kind=bloc_kind,
    )
    return list(zip(keys, [line for line in text.splitlines() if line.strip()], strict=True))


def minutes_document(render: Renderer, locale: str, facts: _Facts) -> OfficialDocument:
    """The biên bản hội nghị: time and place, attendance, agenda, each vote's result,
    conclusions, signatures, "Nơi nhận", the audit head."""

    def t(key: str) -> str:
        return render.t(locale, key)

    bloc, c, s = facts.bloc, facts.conference, facts.summary
    tz = bloc.timezone
    kind = bloc.kind.value
    body: list[Block] = [
        Block(t("minutes.when_where"), "h"),
        Block(
            t("minutes.time").format(
                time=_clock(c.held_at, tz, locale), date=long_date(c.held_at, tz, locale)
            )
        ),
        Block(t("minutes.place").format(place=c.place)),
        Block(t("minutes.attendance"), "h"),
    ]
    # One honorific: the one typed with the name ("Ông …"), else "đồng chí" (vi only).
    person = addressed if locale == "vi" else bare_name
    if c.chair:
        typed = f"{c.chair} {c.chair_title}"
        unit = f" ({s.chair_unit})" if s.chair_unit and s.chair_unit not in typed else ""
        name = with_title(person(c.chair), c.chair_title)
        body.append(Block(t("minutes.chair").format(name=name, unit=unit)))
    if c.deputy:  # the deputy unit's representative, named with the role (issue 20)
        unit = f" ({facts.deputy_unit})" if facts.deputy_unit else ""
        body.append(
            Block(
                t("minutes.deputy").format(
                    role=t(f"officer.deputy_{kind}"),
                    unit=unit,
                    name=with_title(person(c.deputy), c.deputy_title),
                )
            )
        )
    if c.secretary:
        body.append(Block(t("minutes.secretary").format(name=person(c.secretary))))
    # Guests and delegations as lists, one line each (issue 20, 6).
    for key, typed_list in (("minutes.guests", c.guests), ("minutes.delegations", c.delegations)):
        if items := list_items(typed_list):
            body.append(Block(t(key)))
            body += [Block(f"- {item}", "li") for item in items]
    absent = [name for name, here in facts.attendance if not here]
    body.append(
        Block(
            t("minutes.present").format(
                present=_count(facts.present, locale),
                units=_count(len(facts.attendance), locale),
            )
            + (t("minutes.absent").format(names=", ".join(absent)) if absent else "")
        )
    )
    rows = [(t("record.col_no"), t("minutes.col_unit"), t("minutes.col_present"))]
    rows += [
        (str(i), name, t("minutes.yes" if here else "minutes.no"))
        for i, (name, here) in enumerate(facts.attendance, start=1)
    ]
    body.append(Block(table=tuple(rows), widths_mm=(15, 115, 35)))
    if c.counting_board:
        body.append(Block(t("minutes.board").format(names=", ".join(c.counting_board))))
    body.append(Block(t("minutes.agenda"), "h"))
    kinds = {item.info.ballot.kind for item in facts.counted}
    said = dict(c.discussion)
    for key, line in agenda_lines(render, locale, agenda_keys(kinds, s), kinds, s, kind):
        body.append(Block(line, "li"))
        if text := said.get(key):  # the secretary's words under their item (issue 20, 6)
            body.append(Block(t("minutes.discussion")))
            body += [Block(paragraph) for paragraph in text.splitlines()]
    body.append(Block(t("minutes.results"), "h"))
    if not facts.counted:
        body.append(Block(t("minutes.no_results"), "i"))
    for index, item in enumerate(facts.counted, start=1):
        r = item.record
        name = render.plain(locale, "minutes_ballot", ballot=item.context["ballot"])
        body.append(Block(f"{index}. {name}", "li"))
        body.append(
            Block(
                t("record.counts").format(
                    issued=r.issued,
                    returned=r.returned,
                    valid=r.valid,
                    invalid=r.invalid,
                    blank=r.blank,
                )
                + " "
                + t("record.base").format(
                    base=r.base_label, count=r.base_count, threshold=r.threshold
                )
            )
        )
        table = [
            (
                t("record.col_no"),
                t("record.col_option"),
                t("record.col_votes"),
                t("record.col_percent"),
            )
        ]
        table += [
            (str(i), row.name, str(row.votes), _percent(row.percent_tenths, locale))
            for i, row in enumerate(r.rows, start=1)
        ]
        body.append(Block(table=tuple(table), widths_mm=(15, 95, 25, 30)))
        body.append(Block(r.conclusion + " " + t("minutes.see_record").format(number=r.number)))
    body.append(Block(t("minutes.conclusions"), "h"))
    conclusions = render.plain(locale, "minutes_conclusions", s=s, bloc_kind=kind)
    body += [Block(line) for line in conclusions.splitlines() if line.strip()]
    last = c.ended_at or max(
        # Unless the secretary entered it, the meeting's last event: a ballot's count, or the
        # covenant signed after the last ballot (part of the meeting when signed the same day).
        [
            *(i.info.ballot.closes_at for i in facts.counted if i.info.ballot.closes_at),
            *facts.signed,
        ],
        default=None,
    )
    held = c.held_at.astimezone(ZoneInfo(tz))
    same_day = (
        last is not None
        and last >= c.held_at
        and last.astimezone(ZoneInfo(tz)).date() == held.date()
    )
    ending = (
        t("minutes.ended").format(time=_clock(last, tz, locale))
        if last is not None and same_day
        else t("minutes.ended_no_time")
    )
    body.append(Block(ending + " " + t("minutes.read_back")))
    if facts.counted:
        body.append(
            Block(t("minutes.attached").format(count=_count(len(facts.counted), locale)), "i")
        )
    return OfficialDocument(
        issuer=bloc.name,
        number=f"01/BB-{bloc.code}",
        dated=date_line(c.locality, c.held_at, tz) if locale == "vi" else _en_date(c, tz),
        title=t("record.title") if locale == "vi" else t("minutes.title"),
        subject=render.plain(locale, "minutes_subject", s=s),
        body=tuple(body),
        sign_left=(t("minutes.sign_secretary"), "", "", "", bare_name(c.secretary)),
        sign_right=(t("minutes.sign_chair"), "", "", "", bare_name(c.chair)),
        recipients_title=t("minutes.recipients"),
        recipients=(t("minutes.to_board"), t("minutes.to_units"), t("minutes.to_archive")),
        footer=t("record.audit").format(head=facts.head),
    )


def _en_date(c: Conference, tz: str) -> str:
    text = long_date(c.held_at, tz, "en")
    return f"{c.locality}, {text}" if c.locality else text


def memo_document(render: Renderer, locale: str, facts: _Facts) -> OfficialDocument:
    """The tờ trình đề nghị khen thưởng: the proposed units per award, with their scores and
    votes, addressed to the emulation council, signed for the bloc by its leader unit."""

    def t(key: str) -> str:
        return render.t(locale, key)

    bloc, c = facts.bloc, facts.conference
    tz = bloc.timezone
    body_name, boards = memo_to(bloc, t)
    issued = c.held_at  # every document of the conference is dated with it (issue 20, 7)
    minutes_no = f"01/BB-{bloc.code}"
    body = [Block(t("memo.law")), Block(t("memo.decree"))]
    # The bloc's own regulation (its Quy chế: per bloc), after the national texts.
    body += [Block(t("memo.regulation").format(text=r)) for r in regulation_lines(bloc.regulation)]
    body += [
        Block(
            t("memo.basis").format(
                year=c.year,
                bloc=bloc.name,
                date=long_date(c.held_at, tz, locale),
                number=minutes_no,
            )
        ),
        Block(capitalize_first(t("memo.request").format(bloc=bloc.name, body=body_name))),
    ]
    if not facts.proposals:
        body.append(Block(t("memo.none"), "i"))
    for index, (tier, units) in enumerate(facts.proposals, start=1):
        body.append(
            Block(
                t("memo.tier").format(
                    number=index, tier=t(f"tier.{tier}"), count=_count(len(units), locale)
                ),
                "h",
            )
        )
        table = [
            (t("record.col_no"), t("minutes.col_unit"), t("memo.col_score"), t("memo.col_votes"))
        ]
        table += [
            (
                str(i),
                p.unit,
                points(p.total_cp, locale) if p.total_cp is not None else "—",
                f"{p.votes} ({_percent(p.percent_tenths, locale)})"
                + (
                    t("memo.runoff_votes").format(
                        votes=p.runoff[0], percent=_percent(p.runoff[1], locale)
                    )
                    if p.runoff
                    else ""
                ),
            )
            for i, p in enumerate(units, start=1)
        ]
        body.append(Block(table=tuple(table), widths_mm=(12, 66, 26, 61)))
    body.append(Block(_enclosed(t, facts, minutes_no)))
    body.append(Block(t("memo.closing").format(body=body_name)))
    leader = t(f"officer.leader_{bloc.kind.value}").upper()
    # Signed for the bloc by a person — the leader unit's head, by title and name (issue 20,
    # 4): the signer entered with the conference, else its chair; the agency title under
    # the office (in its own case: a capitalised agency title overran the column). Nobody
    # entered: room to write the name.
    signer, title = (c.signer, c.signer_title) if c.signer else (c.chair, c.chair_title)
    return OfficialDocument(
        issuer=bloc.name,
        number=f"01/TTr-{bloc.code}",
        dated=date_line(c.locality, issued, tz)
        if locale == "vi"
        else (f"{c.locality}, " if c.locality else "") + long_date(issued, tz, "en"),
        title=t("memo.title"),
        subject=t("memo.subject").format(year=c.year),
        addressee=t("memo.addressee").format(body=body_name),
        body=tuple(body),
        sign_left=(),
        sign_right=(
            t("memo.on_behalf").format(bloc=bloc.name.upper()),
            leader,
            *((title,) if title else ()),
            "",
            "",
            "",
            bare_name(signer),
        ),
        recipients_title=t("minutes.recipients"),
        recipients=(
            t("memo.to_above"),
            *(t("memo.to_board").format(board=board) for board in boards),
            t("minutes.to_archive"),
        ),
    )


async def paperwork(
    services: Services, actor: Actor, *, locale: str = "vi", year: int | None = None
) -> Paperwork | Rejected:
    """The minutes, the vote-count records and the memo of this year's conference (or of an
    earlier year's: `/minutes 2024` after the new year)."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        conference = await conference_of_year(uow, bloc, year)
        if isinstance(conference, Rejected):
            return conference
        # Who produced the documents, when (the console's conference form then says that a
        # change made afterwards needs them produced again): once until something else is
        # logged, so the documents produced again from the same data — the DOCX and its PDF,
        # the dossier — carry the same head, this row included.
        last = await uow.audit.last(bloc_id)
        if last is None or (last[0].action, last[0].details.get("conference")) != (
            "minutes.produced",
            conference.id,
        ):
            await record(
                uow,
                services,
                bloc_id=bloc_id,
                actor_identity_id=actor.identity.id,
                action="minutes.produced",
                conference=conference.id,
                year=conference.year,
            )
        facts = await _facts(uow, services, bloc, conference, locale)
        await uow.commit()
    render = services.renderer

    lang = Locale(locale).value

    def t(key: str) -> str:
        return render.t(locale, key)

    return Paperwork(
        bloc,
        conference,
        official_docx(minutes_document(render, locale, facts), t, locale=lang),
        (
            vote_records_docx([i.record for i in facts.counted], t, locale=lang)
            if facts.counted
            else None
        ),
        official_docx(memo_document(render, locale, facts), t, locale=lang),
        len(facts.counted),
        facts.present,
        len(facts.attendance),
        sum(len(units) for _, units in facts.proposals),
        facts.head,
    )


async def proposed_units(
    uow: UnitOfWork, services: Services, bloc: Bloc, conference: Conference
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The units proposed for an award at the conference's counted ballots, by name, per tier
    in the memo's order: who owes an achievement report for the award dossier."""
    facts = await _facts(uow, services, bloc, conference, "vi")
    return tuple((tier, tuple(p.unit for p in units)) for tier, units in facts.proposals)


# --- the discussion of each agenda item (issue 20, 6) ------------------------------------------

CLEAR = "-"


@dataclass(frozen=True, slots=True)
class DiscussionItem:
    """An agenda item of the minutes and the discussion the secretary entered for it."""

    key: str  # one of AGENDA_KEYS
    line: str  # the item as the minutes' agenda writes it ("1. Thông qua …")
    text: str  # "" when nothing is entered; otherwise paragraphs, one per line


@dataclass(frozen=True, slots=True)
class Discussion:
    """This year's agenda items, each with its discussion."""

    year: int
    items: tuple[DiscussionItem, ...]


def discussion_text(typed: str) -> str:
    """The discussion as stored: composed (NFC), each line tidied, a paragraph per non-empty
    line; «-» or nothing clears it."""
    body = "\n".join(p for p in (clean(line) for line in nfc(typed).splitlines()) if p)
    return "" if body == CLEAR else body


async def _agenda(
    uow: UnitOfWork, render: Renderer, locale: str, bloc: Bloc, conference: Conference
) -> list[tuple[str, str]]:
    """The conference's agenda items (keys and lines) from its counted ballots, as the
    minutes would write them now."""
    kinds = set()
    for info in await uow.votes.ballots(bloc.id, conference.id):
        if info.ballot.status is BallotStatus.CLOSED and await uow.votes.result(info.ballot.id):
            kinds.add(info.ballot.kind)
    summary = await summary_of(uow, bloc, conference)
    keys = agenda_keys(kinds, summary)
    return agenda_lines(render, locale, keys, kinds, summary, bloc.kind.value)


def _discussion(conference: Conference, agenda: list[tuple[str, str]]) -> Discussion:
    said = dict(conference.discussion)
    return Discussion(
        conference.year,
        tuple(DiscussionItem(key, line, said.get(key, "")) for key, line in agenda),
    )


async def discussion(
    services: Services, actor: Actor, *, locale: str = "vi"
) -> Discussion | Rejected:
    """This year's agenda items with the discussion entered for each (secretariat)."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        conference = await uow.votes.conference(bloc_id, bloc.year)
        if conference is None:
            return Rejected(Reason.NO_CONFERENCE)
        agenda = await _agenda(uow, services.renderer, locale, bloc, conference)
    return _discussion(conference, agenda)


async def set_discussion(
    services: Services, actor: Actor, key: str, text: str, *, locale: str = "vi"
) -> Discussion | Rejected:
    """Write the discussion of one agenda item of this year's minutes (secretariat): an item
    the agenda has, within its limit (refused, never cut); «-» or nothing clears it. Only
    that column is written, so the conference's form and this never undo each other."""
    bloc_id = secretariat_bloc(actor)  # who may comes before what was typed
    if isinstance(bloc_id, Rejected):
        return bloc_id
    body = discussion_text(text)
    if (long := refuse_long("discussion", body)) is not None:
        return long
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        conference = await uow.votes.conference(bloc_id, bloc.year, lock=True)
        if conference is None:
            return Rejected(Reason.NO_CONFERENCE)
        agenda = await _agenda(uow, services.renderer, locale, bloc, conference)
        said = dict(conference.discussion)
        if body and key not in dict(agenda):
            return Rejected(Reason.NOT_ON_AGENDA)
        if said.get(key, "") == body:  # the same again (a form saved as it was): nothing to log
            return _discussion(conference, agenda)
        said.pop(key, None)
        if body:
            said[key] = body
        ordered = tuple((k, said[k]) for k in AGENDA_KEYS if k in said)
        await uow.votes.set_discussion(conference.id, ordered)
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action="minutes.discussion",
            conference=conference.id,
            item=key,
            characters=len(body),
        )
        await uow.commit()
    return _discussion(replace(conference, discussion=ordered), agenda)
