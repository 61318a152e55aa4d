"""The console's scoring table and report periods: the same services as `/criteria import`,
`/period`, `/status`, `/review`, `/return`, `/export` and `/report UNIT` in chat (same checks,
audit, notices and refusals), each outcome in the chat's own words.

A table file is previewed before it is saved: the preview keeps the checked file in the file
store and hands the page a ticket signed with a key derived from the server's secret (the
person, the bloc, the file's hash and name, 10 minutes); only a confirm carrying that ticket
saves it (bot/services/reports.py: preview_table, confirm_table)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import BodyPartReader, MultipartReader, web

from bot.core.reports import DEFAULT_TYPES, KNOWN_TYPES
from bot.services import console
from bot.services import reports as svc
from bot.services.exports import archive_plan, score_xlsx
from bot.services.outcomes import Reason, Rejected
from bot.services.scoring_files import TableRefused
from bot.services.tabular import MAX_FILE_BYTES
from handlers.web.base import (
    actor_of,
    attachment,
    client_address,
    config_of,
    form_id,
    go,
    locale_of,
    page,
    refused,
    services_of,
    typed_form,
    upload_parts,
)
from handlers.web.console_ballots import chat_time

ITEM = "item-"
CHUNK = 64 * 1024
PERIOD = r"/console/periods/{number:\d{1,4}}"
UNIT = PERIOD + r"/units/{unit:\d{1,4}}"
# Streamed multipart uploads (their csrf part is checked by the route: see app.py).
TABLE_UPLOAD = "/console/table/preview"
BEHALF_UPLOAD = "/console/behalf/file"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/console/table", table_page)
    router.add_post(TABLE_UPLOAD, table_preview)
    router.add_post("/console/table/confirm", table_confirm)
    router.add_get("/console/periods", periods_page)
    router.add_post("/console/periods", period_open)
    router.add_get(PERIOD, status_page)
    router.add_get(PERIOD + "/extend", extend_page)
    router.add_post(PERIOD + "/extend", extend_post)
    router.add_get(PERIOD + "/xlsx", xlsx_download)
    router.add_get(PERIOD + r"/zip/{part:\d{1,3}}", zip_download)
    router.add_get(UNIT, unit_page)
    router.add_get(UNIT + "/file", file_download)
    router.add_post(UNIT + "/review", review_post)
    router.add_get(UNIT + "/return", return_page)
    router.add_post(UNIT + "/return", return_post)
    router.add_get(UNIT + "/behalf", behalf_page)
    router.add_post(BEHALF_UPLOAD, behalf_file)
    router.add_post(UNIT + "/behalf", behalf_post)


def _refused(request: web.Request, rejected: Rejected, back: str = "/console") -> web.Response:
    status = 403 if rejected.reason is Reason.NOT_SECRETARIAT else 400
    return refused(request, rejected, status=status, back=back)


async def _form(request: web.Request) -> dict[str, str]:
    return await typed_form(request)  # composed letters: what a refused form shows back


def _typed(form: dict[str, str]) -> dict[str, str]:
    return {k.removeprefix(ITEM): v for k, v in form.items() if k.startswith(ITEM)}


def _why(outcome: object) -> Rejected:
    """The refusal in a service's answer (a closed walk carries its own)."""
    if isinstance(outcome, svc.WalkClosed):
        return outcome.rejected
    assert isinstance(outcome, Rejected), outcome
    return outcome


def _refs(request: web.Request) -> tuple[str, str]:
    return request.match_info["number"], request.match_info.get("unit", "")


def _digits(value: object) -> str:
    return value if isinstance(value, str) and value.isdecimal() and len(value) <= 9 else "0"


def _limited(request: web.Request) -> web.Response | None:
    """The upload budget per person and address (as the representative's upload)."""
    limiter = config_of(request).uploads
    keys = (f"person:{actor_of(request).identity.id}", f"addr:{client_address(request)}")
    if any(limiter.full(key) for key in keys):
        return page(request, "too_many", status=429, minutes=limiter.wait_minutes())
    for key in keys:
        limiter.record(key)
    return None


async def _read_file(part: BodyPartReader, limit: int) -> bytes | None:
    """The part's bytes as they stream, or None at the first byte over `limit`."""
    data = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        data += chunk
        if len(data) > limit:
            return None
    return bytes(data)


async def _file_part(reader: MultipartReader) -> BodyPartReader | None:
    part = await reader.next()
    if not isinstance(part, BodyPartReader) or part.name != "file" or not part.filename:
        return None
    return part


# --- the scoring table -----------------------------------------------------------------


async def table_page(
    request: web.Request,
    *,
    preview: svc.TablePreview | None = None,
    problem: TableRefused | Rejected | None = None,
    expired: bool = False,
) -> web.Response:
    services, actor = services_of(request), actor_of(request)
    versions = await svc.table_versions(services, actor)
    if isinstance(versions, Rejected):
        return _refused(request, versions)
    saved = request.query.get("saved", "")
    just_saved = bool(versions) and saved == str(versions[0].version)
    failed = preview is None and (problem is not None or expired)
    return page(
        request,
        "console_table",
        status=400 if failed else 200,
        nav="console",
        versions=versions,
        preview=preview,
        problem=problem,
        expired=expired,
        just_saved=just_saved,
    )


async def table_preview(request: web.Request) -> web.StreamResponse:
    """The table file (multipart, streamed: csrf first, then file) checked, nothing saved."""
    reader = await upload_parts(request)
    if reader is None:
        return page(request, "error", status=403, code=403)
    services, actor = services_of(request), actor_of(request)
    allowed = await svc.table_versions(services, actor)
    if isinstance(allowed, Rejected):
        return _refused(request, allowed)
    if (limited := _limited(request)) is not None:
        return limited
    part = await _file_part(reader)
    if part is None or part.filename is None:
        return await table_page(request, problem=TableRefused(unreadable="empty"))
    data = await _read_file(part, MAX_FILE_BYTES)
    if data is None:
        return await table_page(request, problem=TableRefused(unreadable="size"))
    checked = await svc.preview_table(services, actor, filename=part.filename, data=data)
    if isinstance(checked, svc.TablePreview):
        return await table_page(request, preview=checked)
    return await table_page(request, problem=checked)


async def table_confirm(request: web.Request) -> web.StreamResponse:
    ticket = (await _form(request)).get("ticket", "")
    done = await svc.confirm_table(services_of(request), actor_of(request), ticket=ticket)
    if isinstance(done, svc.PreviewExpired):
        return await table_page(request, expired=True)
    if isinstance(done, Rejected) and done.reason is Reason.NOT_SECRETARIAT:
        return _refused(request, done)
    if isinstance(done, TableRefused | Rejected):
        return await table_page(request, problem=done)
    raise go(request, f"/console/table?saved={done.version}")


# --- report periods --------------------------------------------------------------------


def period_fields(form: dict[str, str]) -> dict[str, str]:
    """The period form as chat's `/period new` takes it: the deadline from the date-and-time
    picker as day/month/year, the ticked file types as a list."""
    types = [t for t in KNOWN_TYPES if form.get(f"type-{t}") == "on"]
    return {
        "kind": form.get("kind", ""),
        "title": form.get("title", ""),
        "deadline": form.get("deadline", ""),
        "policy": form.get("policy", ""),
        "max_mb": form.get("max_mb", ""),
        "types": ", ".join(types),
    }


async def periods_page(
    request: web.Request,
    *,
    problem: Rejected | None = None,
    typed: dict[str, str] | None = None,
) -> web.Response:
    services, actor = services_of(request), actor_of(request)
    allowed = await svc.table_versions(services, actor)  # the secretariat's, and the table's
    if isinstance(allowed, Rejected):
        return _refused(request, allowed)
    views = await svc.list_periods(services, actor)
    if isinstance(views, Rejected):
        return _refused(request, views)
    return page(
        request,
        "console_periods",
        status=400 if problem else 200,
        nav="console",
        views=views,
        table=allowed[0] if allowed else None,
        known_types=KNOWN_TYPES,
        ticked=typed["types"].split(", ") if typed else DEFAULT_TYPES,
        problem=problem,
        typed=typed or period_fields({}),
    )


async def period_open(request: web.Request) -> web.StreamResponse:
    typed = period_fields(await _form(request))
    opened = await svc.open_period(
        services_of(request),
        actor_of(request),
        kind_text=typed["kind"],
        title=typed["title"],
        deadline_text=chat_time(typed["deadline"]),
        policy_text=typed["policy"],
        max_mb_text=typed["max_mb"],
        types_text=typed["types"] or "-",  # none ticked: refused, as an empty list in chat
    )
    if isinstance(opened, Rejected):
        if opened.reason is Reason.NOT_SECRETARIAT:
            return _refused(request, opened)
        return await periods_page(request, problem=opened, typed=typed)
    raise go(request, f"/console/periods/{opened.view.number}?opened=1")


async def status_page(request: web.Request) -> web.Response:
    services, actor = services_of(request), actor_of(request)
    number, _ = _refs(request)
    status = await svc.period_status(services, actor, period_ref=number)
    if isinstance(status, Rejected):
        return _refused(request, status, back="/console/periods")
    parts = len(archive_plan(svc.status_entries(services, status)))
    outcome: tuple[str, dict[str, Any]] | None = None
    if request.query.get("opened") == "1":
        outcome = ("period_opened", {"view": status.view})
    elif request.query.get("done") == "extended":
        # Read again from the audit log: a reload shows it, never extends (or tells) twice.
        extended = await svc.last_extension(services, status.view)
        if extended is not None:
            outcome = ("period_extended", {"view": extended.view, "old": extended.old_deadline})
    return page(
        request, "console_period", nav="console", period=status, parts=parts, outcome=outcome
    )


async def extend_page(
    request: web.Request, *, problem: Rejected | None = None, typed: str = ""
) -> web.Response:
    number, _ = _refs(request)
    status = await svc.period_status(services_of(request), actor_of(request), period_ref=number)
    if isinstance(status, Rejected):
        return _refused(request, status, back="/console/periods")
    return page(
        request,
        "console_period_extend",
        status=400 if problem else 200,
        nav="console",
        status_view=status,
        problem=problem,
        typed=typed,
    )


async def extend_post(request: web.Request) -> web.StreamResponse:
    number, _ = _refs(request)
    typed = (await _form(request)).get("deadline", "")
    extended = await svc.extend_period(
        services_of(request), actor_of(request), period_ref=number, deadline_text=chat_time(typed)
    )
    if isinstance(extended, Rejected):
        if extended.reason is Reason.NOT_SECRETARIAT:
            return _refused(request, extended)
        return await extend_page(request, problem=extended, typed=typed)
    raise go(request, f"/console/periods/{number}?done=extended")


async def xlsx_download(request: web.Request) -> web.StreamResponse:
    number, _ = _refs(request)
    sheet = await svc.score_sheet(services_of(request), actor_of(request), period_ref=number)
    if isinstance(sheet, Rejected):
        return _refused(request, sheet, back="/console/periods")
    locale = locale_of(request).value
    data = await asyncio.to_thread(score_xlsx, sheet, locale=locale)
    name = "diem-thi-dua.xlsx" if locale == "vi" else "scores.xlsx"
    return attachment(data, XLSX, name)


async def zip_download(request: web.Request) -> web.StreamResponse:
    """One part of the reports archive, exactly as chat sends it (parts under 45 MB)."""
    number, _ = _refs(request)
    entries = await svc.archive_entries(services_of(request), actor_of(request), period_ref=number)
    if isinstance(entries, Rejected):
        return _refused(request, entries, back="/console/periods")
    plan = archive_plan(entries)
    index = int(request.match_info["part"])
    if not 1 <= index <= len(plan):
        raise web.HTTPNotFound()
    part = plan[index - 1]
    data = await asyncio.to_thread(part.build)
    return attachment(data, "application/zip", part.name)


# --- one unit's submission: review, return, on its behalf --------------------------------


async def unit_page(
    request: web.Request,
    *,
    problems: dict[str, Any] | None = None,
    typed: dict[str, str] | None = None,
    missing: tuple[str, ...] = (),
    problem: Rejected | None = None,
) -> web.Response:
    number, unit = _refs(request)
    view = await console.submission_view(
        services_of(request), actor_of(request), period_ref=number, unit_ref=unit
    )
    if isinstance(view, Rejected):
        return _refused(request, view, back=f"/console/periods/{number}")
    failed = bool(problems or missing or problem)
    outcome = None if failed else _unit_outcome(request.query.get("done", ""), view)
    return page(
        request,
        "console_report_unit",
        status=400 if failed else 200,
        nav="console",
        view=view,
        outcome=outcome,
        problems=problems or {},
        typed=typed or {},
        missing=missing,
        problem=problem,
    )


def _unit_outcome(done: str, view: console.SubmissionView) -> tuple[str, dict[str, Any]] | None:
    """What the page says after a review or a return (the redirect after the form, and each
    reload of it): read from the stored version, so nothing is saved or sent again."""
    if done == "reviewed" and (reviewed := view.reviewed) is not None:
        return "review_saved", {"ctx": view, "totals": reviewed}
    if done == "returned" and (returned := view.returned) is not None:
        return "report_returned", {"done": returned}
    return None


async def file_download(request: web.Request) -> web.StreamResponse:
    number, unit = _refs(request)
    found = await console.submission_file(
        services_of(request), actor_of(request), period_ref=number, unit_ref=unit
    )
    if isinstance(found, Rejected):
        return _refused(request, found, back=f"/console/periods/{number}")
    return attachment(found.data, "application/octet-stream", found.download_name, found.name)


async def review_post(request: web.Request) -> web.StreamResponse:
    """/review on one page: the reviewed value of every item, then saved as chat saves it."""
    services, actor = services_of(request), actor_of(request)
    number, unit = _refs(request)
    typed = _typed(await _form(request))
    step = await svc.start_review(services, actor, unit_ref=unit, period_ref=number)
    if isinstance(step, Rejected):
        if step.reason is Reason.NOT_SECRETARIAT:
            return _refused(request, step)
        return await unit_page(request, problem=step, typed=typed)
    draft = step.ctx.draft.id
    form = await svc.answer_many(services, actor, draft_id=draft, values=typed)
    if isinstance(form, svc.WalkClosed):
        return await unit_page(request, problem=form.rejected, typed=typed)
    if isinstance(form, Rejected):
        return await unit_page(request, problem=form, typed=typed)
    if form.problems:
        return await unit_page(request, problems=form.problems, typed=typed)
    if form.missing:
        return await unit_page(request, missing=tuple(i.code for i in form.missing), typed=typed)
    done = await svc.confirm(services, actor, draft_id=draft)
    if isinstance(done, svc.Reviewed):
        raise go(request, f"/console/periods/{number}/units/{unit}?done=reviewed")
    problem = done.rejected if isinstance(done, svc.WalkClosed) else done
    if isinstance(problem, Rejected):
        return await unit_page(request, problem=problem, typed=typed)
    return await unit_page(request, typed=typed)


async def return_page(
    request: web.Request, *, problem: Rejected | None = None, typed: dict[str, str] | None = None
) -> web.Response:
    number, unit = _refs(request)
    view = await console.submission_view(
        services_of(request), actor_of(request), period_ref=number, unit_ref=unit
    )
    if isinstance(view, Rejected):
        return _refused(request, view, back=f"/console/periods/{number}")
    return page(
        request,
        "console_return",
        status=400 if problem else 200,
        nav="console",
        view=view,
        problem=problem,
        typed=typed or {},
    )


async def return_post(request: web.Request) -> web.StreamResponse:
    number, unit = _refs(request)
    typed = await _form(request)
    done = await svc.return_report(
        services_of(request),
        actor_of(request),
        unit_ref=unit,
        period_ref=number,
        until_text=chat_time(typed.get("until", "")),
        comment=typed.get("comment", ""),
    )
    if isinstance(done, Rejected):
        if done.reason is Reason.NOT_SECRETARIAT:
            return _refused(request, done)
        return await return_page(request, problem=done, typed=typed)
    raise go(request, f"/console/periods/{number}/units/{unit}?done=returned")


async def _behalf_form(
    request: web.Request, number: str, unit: str
) -> tuple[console.SubmissionView, svc.ReportForm] | web.Response:
    """The secretariat's draft on the unit's behalf (/report UNIT), as one form."""
    services, actor = services_of(request), actor_of(request)
    view = await console.submission_view(services, actor, period_ref=number, unit_ref=unit)
    if isinstance(view, Rejected):
        return _refused(request, view, back=f"/console/periods/{number}")
    form = await svc.report_form(
        services, actor, period_id=view.status.view.period.id, unit_id=view.unit.id
    )
    if isinstance(form, svc.ChoosePeriod | Rejected):
        rejected = form if isinstance(form, Rejected) else Rejected(Reason.UNKNOWN_PERIOD)
        return _refused(request, rejected, back=f"/console/periods/{number}")
    return view, form


async def behalf_page(
    request: web.Request,
    *,
    number: str = "",
    unit: str = "",
    status: int = 200,
    **context: Any,
) -> web.Response:
    if not number:
        number, unit = _refs(request)
        if request.query.get("done") == "submitted":
            return await _behalf_done(request, number, unit, request.query.get("n", ""))
    found = await _behalf_form(request, number, unit)
    if isinstance(found, web.Response):
        return found
    view, form = found
    context.setdefault("typed", {})
    context.setdefault("problems", form.problems)
    return page(
        request, "console_behalf", status=status, nav="console", view=view, form=form, **context
    )


async def _behalf_done(request: web.Request, number: str, unit: str, version: str) -> web.Response:
    """The receipt of a submission on the unit's behalf, read again from the stored version
    (the redirect after «Nộp thay», and every reload of it: nothing is submitted again)."""
    done = await svc.behalf_receipt(
        services_of(request),
        actor_of(request),
        period_ref=number,
        unit_ref=unit,
        version=form_id(version),
    )
    if isinstance(done, Rejected):
        return _refused(request, done, back=f"/console/periods/{number}")
    return page(request, "console_behalf_done", nav="console", done=done, number=number)


async def behalf_file(request: web.Request) -> web.StreamResponse:
    """The unit's paper report, scanned: streamed with the same checks as the
    representative's upload (the period's types and size, then the content)."""
    number, unit = _digits(request.query.get("period")), _digits(request.query.get("unit"))
    draft = int(_digits(request.query.get("draft")))
    reader = await upload_parts(request)
    if reader is None:
        return page(request, "error", status=403, code=403)
    services, actor = services_of(request), actor_of(request)
    view = await console.submission_view(services, actor, period_ref=number, unit_ref=unit)
    if isinstance(view, Rejected):
        return _refused(request, view)
    if (limited := _limited(request)) is not None:
        return limited
    part = await _file_part(reader)
    if part is None or part.filename is None:
        return await behalf_page(request, number=number, unit=unit, status=400, no_file=True)
    name = part.filename
    checked = await svc.check_upload(services, actor, draft_id=draft, filename=name, size=None)
    if isinstance(checked, svc.FileCheck) and checked.ctx.unit.id != view.unit.id:
        checked = Rejected(Reason.NOT_YOUR_DRAFT)  # a draft of this person's, another unit's
    if not isinstance(checked, svc.FileCheck):
        return await behalf_page(
            request, number=number, unit=unit, status=400, file_refused=_why(checked)
        )
    data = await _read_file(part, checked.ctx.period.max_bytes)
    if data is None:  # the service says it, with the period's limit
        size = checked.ctx.period.max_bytes + 1
        over = await svc.check_upload(services, actor, draft_id=draft, filename=name, size=size)
        return await behalf_page(
            request, number=number, unit=unit, status=400, file_refused=_why(over)
        )
    step = await svc.attach_file(services, actor, draft_id=draft, filename=name, data=data)
    if isinstance(step, svc.WalkClosed | Rejected):
        return await behalf_page(
            request, number=number, unit=unit, status=400, file_refused=_why(step)
        )
    raise go(request, f"/console/periods/{number}/units/{unit}/behalf")


async def behalf_post(request: web.Request) -> web.StreamResponse:
    """The unit's scores from its paper report, then submitted on its behalf (the chat's
    receipt; the unit's representatives are told, as after /report UNIT)."""
    services, actor = services_of(request), actor_of(request)
    number, unit = _refs(request)
    view = await console.submission_view(services, actor, period_ref=number, unit_ref=unit)
    if isinstance(view, Rejected):
        return _refused(request, view, back=f"/console/periods/{number}")
    fields = await _form(request)
    typed = _typed(fields)
    draft = int(_digits(fields.get("draft")))
    form = await svc.answer_many(services, actor, draft_id=draft, values=typed)
    if isinstance(form, svc.WalkClosed | Rejected):
        why = form.rejected if isinstance(form, svc.WalkClosed) else form
        if why.reason is Reason.NOT_SECRETARIAT:
            return _refused(request, why)
        return _refused(request, why, back="/console/periods")
    if form.problems:
        return await behalf_page(request, status=400, typed=typed, problems=form.problems)
    done = await svc.confirm(services, actor, draft_id=draft)
    if isinstance(done, svc.Receipt):
        receipt = f"/behalf?done=submitted&n={done.submission.version}"
        raise go(request, f"/console/periods/{number}/units/{unit}{receipt}")
    if isinstance(done, svc.WalkClosed) or (
        isinstance(done, Rejected) and done.reason is not Reason.NO_FILE_YET
    ):
        why = done.rejected if isinstance(done, svc.WalkClosed) else done
        assert isinstance(why, Rejected)
        return _refused(request, why, back="/console/periods")
    return await behalf_page(request, status=400, typed=typed, incomplete=True)
