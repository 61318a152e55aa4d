"""The secretariat's console on the web: what its pages show, gathered from the services chat
uses (the same rules and refusals); every change goes through those services too."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.models import Bloc, Invite, Unit
from bot.core.reports import Period, Submission
from bot.core.scoring import ScoringTable, Totals, totals
from bot.core.text import list_items
from bot.core.venue import venue_checkin_on
from bot.services import covenant as covenant_svc
from bot.services import reports, voting
from bot.services import units as units_svc
from bot.services.actors import Actor, secretariat_bloc
from bot.services.app import Services
from bot.services.deadlines import DeadlinesView, deadlines_view
from bot.services.exports import ascii_short, file_extension
from bot.services.outcomes import Reason, Rejected, pick_unit
from storage.vote_repos import Conference


@dataclass(frozen=True, slots=True)
class Overview:
    """The bloc's year at a glance, and what to do next (strings.toml keys, in order)."""

    bloc: Bloc
    deadlines: DeadlinesView
    periods: tuple[reports.PeriodView, ...]
    conference: voting.ConferenceView | None
    next_steps: tuple[str, ...]
    covenant: covenant_svc.CovenantView | None = None  # next year's: set or not, who signed


def next_steps(
    *, units: int, table: bool, periods: int, conference: voting.ConferenceView | None
) -> tuple[str, ...]:
    """The secretariat's next moves through the year, the most pressing first (each one a
    page of the console: a period cannot open before the year has a scoring table)."""
    steps: list[str] = []
    if units == 0:
        steps.append("units")
    if not table:
        steps.append("table")
    if periods == 0:
        steps.append("period")
    if conference is None:
        steps.append("conference")
    elif not conference.ballots:
        steps.append("ballots")
    elif not conference.quorum_met:
        steps.append("checkin")
    return tuple(steps)


async def overview(services: Services, actor: Actor) -> Overview | Rejected:
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    deadlines = await deadlines_view(services, actor)
    periods = await reports.list_periods(services, actor)
    found = await voting.conference_view(services, actor)
    covenant = await covenant_svc.covenant_view(services, actor)
    if isinstance(deadlines, Rejected):
        return deadlines
    if isinstance(periods, Rejected):
        return periods
    conference: voting.ConferenceView | None = None
    if isinstance(found, Rejected):
        if found.reason is not Reason.NO_CONFERENCE:
            return found
    else:
        conference = found
    async with services.db.uow() as uow:
        units = len(await uow.blocs.units(bloc_id))
        table = await uow.tables.latest(bloc_id, deadlines.bloc.year) is not None
    return Overview(
        deadlines.bloc,
        deadlines,
        tuple(periods),
        conference,
        next_steps(units=units, table=table, periods=len(periods), conference=conference),
        None if isinstance(covenant, Rejected) else covenant,
    )


@dataclass(frozen=True, slots=True)
class ConferenceForm:
    """The conference form: the bloc's units (for the chairing unit) and the conference as it
    stands (None before it is set up), with its check-ins as the chat's /conference gives them
    (who is present, who not yet, the quorum)."""

    bloc: Bloc
    units: tuple[Unit, ...]
    conference: Conference | None
    minutes_at: datetime | None = None  # the minutes last produced (a change: produce again)
    checkins: voting.ConferenceView | None = None

    @property
    def venue_checkin(self) -> bool:
        c = self.conference
        return c is not None and venue_checkin_on(c.venue_checkin, c.place)

    def _ended(self, start: datetime) -> str:
        """The end as typed back: the time alone on the conference's day."""
        c = self.conference
        if c is None or c.ended_at is None:
            return ""
        end = c.ended_at.astimezone(ZoneInfo(self.bloc.timezone))
        return f"{end:%H:%M}" if end.date() == start.date() else f"{end:%d/%m/%Y %H:%M}"

    @property
    def values(self) -> dict[str, str]:
        """The form's fields as they stand (the date as the date picker takes it)."""
        c = self.conference
        if c is None:
            return dict.fromkeys(FORM_FIELDS, "") | {"venue": "auto"}
        local = c.held_at.astimezone(ZoneInfo(self.bloc.timezone))
        chair_unit = next((u.short_name for u in self.units if u.id == c.chair_unit_id), "")
        return {
            "date": local.strftime("%Y-%m-%d"),
            "hour": local.strftime("%H:%M"),
            "place": c.place,
            "chair_unit": chair_unit,
            "chair": c.chair,
            "chair_title": c.chair_title,
            "secretary": c.secretary,
            "board_lines": "\n".join(c.counting_board),
            "guest_lines": "\n".join(list_items(c.guests)),
            "locality": c.locality,
            "signer": c.signer,
            "signer_title": c.signer_title,
            "deputy": c.deputy,
            "deputy_title": c.deputy_title,
            "delegation_lines": "\n".join(list_items(c.delegations)),
            "ended": self._ended(local),
            "venue": {None: "auto", True: "on", False: "off"}[c.venue_checkin],
        }


FORM_FIELDS = (
    "date", "hour", "place", "chair_unit", "chair", "chair_title", "secretary", "board_lines",
    "guest_lines", "locality", "signer", "signer_title", "deputy", "deputy_title",
    "delegation_lines", "ended", "venue",
)  # fmt: skip


async def conference_form(services: Services, actor: Actor) -> ConferenceForm | Rejected:
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        units = await uow.blocs.units(bloc_id)
        conference = await uow.votes.conference(bloc_id, bloc.year)
        produced = await uow.audit.recent(bloc_id, 20, action="minutes.produced")
    minutes_at = next(
        (e.at for e in produced if conference and e.details.get("conference") == conference.id),
        None,
    )
    checkins = await voting.conference_view(services, actor) if conference else None
    if isinstance(checkins, Rejected):  # gone since (a new year): the form alone
        checkins = None
    return ConferenceForm(bloc, tuple(units), conference, minutes_at, checkins)


# --- units and invites ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitsPage:
    """The bloc's units (the chat's `/units` list) with each one's open invites (uses and
    expiry: a code itself is shown once, when issued), and the staff's open invites."""

    bloc: Bloc
    listing: units_svc.UnitsView
    invites: tuple[Invite, ...]  # open: not revoked, not expired, uses left

    def open_for(self, unit_id: int | None) -> tuple[Invite, ...]:
        return tuple(i for i in self.invites if i.unit_id == unit_id)

    def unit(self, unit_id: int) -> units_svc.UnitView | None:
        return next((v for v in self.listing.units if v.unit.id == unit_id), None)


async def units_page(services: Services, actor: Actor) -> UnitsPage | Rejected:
    listing = await units_svc.list_units(services, actor)
    if isinstance(listing, Rejected):
        return listing
    bloc_id = secretariat_bloc(actor)
    assert not isinstance(bloc_id, Rejected)  # list_units asked the same
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        invites = await uow.invites.active(bloc_id, services.clock.now())
    return UnitsPage(bloc, listing, tuple(invites))


@dataclass(frozen=True, slots=True)
class UnitPage:
    page: UnitsPage
    view: units_svc.UnitView

    @property
    def invites(self) -> tuple[Invite, ...]:
        return self.page.open_for(self.view.unit.id)


async def unit_page(services: Services, actor: Actor, unit_id: int) -> UnitPage | Rejected:
    """One unit of the actor's bloc (an id of another bloc's unit finds nothing)."""
    found = await units_page(services, actor)
    if isinstance(found, Rejected):
        return found
    view = found.unit(unit_id)
    if view is None:
        return Rejected(Reason.UNKNOWN_UNIT, {"value": str(unit_id)})
    return UnitPage(found, view)


# The import's preview and its confirmation are two requests: the checked rows travel in the
# confirm form, sealed (HMAC) to this session, person and bloc, for IMPORT_TTL; what arrives
# is checked again against the bloc as it is then (save_import), never trusted as checked.
IMPORT_TTL = timedelta(minutes=10)
_MAX_SEALED = 1_000_000


def _seal_key(services: Services) -> bytes:
    return hmac.new(services.audit_key, b"web:units-import", hashlib.sha256).digest()


def _mac(services: Services, session: str, body: str) -> str:
    message = f"{session}.{body}".encode()
    return hmac.new(_seal_key(services), message, hashlib.sha256).hexdigest()


def seal_import(
    services: Services, actor: Actor, session: str, preview: units_svc.ImportPreview
) -> str:
    """The preview's rows as a form field only this session can send back, within 10 min."""
    payload = {
        "b": actor.current_bloc_id,
        "i": actor.identity.id,
        "t": int(services.clock.now().timestamp()),
        "f": preview.filename,
        "r": [[line, list(cells)] for line, cells in preview.rows],
    }
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    body = base64.urlsafe_b64encode(raw).decode("ascii")
    return f"{body}.{_mac(services, session, body)}"


@dataclass(frozen=True, slots=True)
class SealBroken:
    """The confirm form came back too late, altered, or from another session."""


def _unseal(
    services: Services, actor: Actor, session: str, sealed: str
) -> tuple[str, units_svc.Rows] | SealBroken:
    body, _, mac = sealed.rpartition(".")
    if not body or len(sealed) > _MAX_SEALED or not session:
        return SealBroken()
    if not hmac.compare_digest(_mac(services, session, body), mac):
        return SealBroken()
    payload = json.loads(base64.urlsafe_b64decode(body.encode("ascii")))
    age = services.clock.now().timestamp() - payload["t"]
    if payload["b"] != actor.current_bloc_id or payload["i"] != actor.identity.id:
        return SealBroken()
    if not 0 <= age <= IMPORT_TTL.total_seconds():
        return SealBroken()
    rows = tuple((int(line), tuple(str(c) for c in cells)) for line, cells in payload["r"])
    return str(payload["f"]), rows


async def confirm_import(
    services: Services, actor: Actor, session: str, sealed: str
) -> units_svc.Imported | units_svc.ImportRefused | SealBroken | Rejected:
    """The web's second step: the previewed rows saved through the chat's own import."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    opened = _unseal(services, actor, session, sealed)
    if isinstance(opened, SealBroken):
        return opened
    filename, rows = opened
    return await units_svc.save_import(services, actor, filename=filename, rows=rows)


# --- report periods: one unit's submission ------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubmissionView:
    """One unit's report in a period, as the secretariat reviews it: its latest version (None
    before any), the unit's own scores and the reviewed ones item by item, the period's table."""

    status: reports.PeriodStatus
    line: reports.UnitLine
    table: ScoringTable
    self_values: dict[str, int]
    reviewed_values: dict[str, int]

    @property
    def unit(self) -> Unit:
        return self.line.unit

    @property
    def latest(self) -> Submission | None:
        return self.line.latest

    @property
    def period(self) -> Period:
        return self.status.view.period

    # What the page says after a review or a return, read from the stored version (the
    # redirect after the form, and every reload of it, show it again; nothing is sent again).

    @property
    def reviewed(self) -> Totals | None:
        """The reviewed totals of the latest version, once the secretariat has reviewed it."""
        latest = self.latest
        if latest is None or latest.reviewed_total_cp is None:
            return None
        return totals(self.table, self.reviewed_values)

    @property
    def returned(self) -> reports.Returned | None:
        """The latest version's return for correction, while it is the latest."""
        latest = self.latest
        if (
            latest is None
            or latest.returned_at is None
            or latest.resubmit_until is None
            or latest.return_comment is None
        ):
            return None
        return reports.Returned(
            self.unit,
            latest,
            latest.resubmit_until,
            self.status.view.timezone,
            latest.return_comment,
        )


async def submission_view(
    services: Services, actor: Actor, *, period_ref: str, unit_ref: str
) -> SubmissionView | Rejected:
    """A period (by its number in /period) and a unit (as /review names it), secretariat only."""
    status = await reports.period_status(services, actor, period_ref=period_ref)
    if isinstance(status, Rejected):
        return status
    unit = pick_unit([line.unit for line in status.lines], unit_ref)
    if isinstance(unit, Rejected):
        return unit
    line = next(line for line in status.lines if line.unit.id == unit.id)
    async with services.db.uow(read_only=True) as uow:
        _, table = await uow.tables.get(status.view.period.table_id)
        mine: dict[str, int] = {}
        theirs: dict[str, int] = {}
        if line.latest is not None:
            mine = await uow.reports.entries(line.latest.id, "self")
            theirs = await uow.reports.entries(line.latest.id, "reviewed")
    return SubmissionView(status, line, table, mine, theirs)


@dataclass(frozen=True, slots=True)
class SubmissionFile:
    name: str  # as the unit sent it
    download_name: str  # NN-SHORT-vV.ext, ASCII (what the archive calls it)
    data: bytes


async def submission_file(
    services: Services, actor: Actor, *, period_ref: str, unit_ref: str
) -> SubmissionFile | Rejected:
    """The file of a unit's latest version (the same file the ZIP archive holds)."""
    view = await submission_view(services, actor, period_ref=period_ref, unit_ref=unit_ref)
    if isinstance(view, Rejected):
        return view
    latest = view.latest
    if latest is None:
        return Rejected(Reason.NO_SUBMISSION, {"unit": view.unit.name})
    ext = file_extension(latest.file_name)
    name = f"{view.line.number:02d}-{ascii_short(view.unit.short_name)}-v{latest.version}"
    name += f".{ext}" if ext else ""
    return SubmissionFile(latest.file_name, name, services.files.read(latest.file_sha256))
