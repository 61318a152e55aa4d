"""The console's ballots: create the conference's defaults or a question, set secrecy, choose
the candidate units before opening, open, schedule, extend, record a written vote, close and
count, cancel, decide a tie left to the secretariat, download the vote-count record — the same
services as `/ballot …` in chat. Each outcome is shown in the chat's own words above the list;
closing and cancelling first ask for a confirm naming what happens."""

from __future__ import annotations

import re

from aiohttp import web

from bot.services import voting as svc
from bot.services.outcomes import Reason, Rejected
from bot.services.voting import RecordOut
from handlers.web.base import (
    DOCX,
    actor_of,
    attachment,
    go,
    locale_of,
    page,
    pdf_attachment,
    refused,
    services_of,
)

_LOCAL = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}:\d{2})$")
ACTIONS = (
    "open",
    "schedule",
    "extend",
    "secret",
    "candidates",
    "written",
    "close",
    "cancel",
    "decide",
)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/console/ballots", ballots_page)
    router.add_post("/console/ballots/defaults", defaults_post)
    router.add_post("/console/ballots/new", new_post)
    router.add_get(r"/console/ballots/{number:\d{1,4}}/{action:close|cancel}", confirm_page)
    router.add_get(r"/console/ballots/{number:\d{1,4}}/candidates", candidates_page)
    router.add_post(r"/console/ballots/{number:\d{1,4}}/{action}", action_post)
    router.add_get(r"/console/ballots/{number:\d{1,4}}/record", record_download)
    router.add_get(r"/console/ballots/{number:\d{1,4}}/record/pdf", record_pdf)


def chat_time(text: str) -> str:
    """A browser's date-and-time field ("2024-12-20T08:30") as chat types it ("20/12/2024
    08:30"); anything else as typed (the service says what it could not read)."""
    found = _LOCAL.match(text.strip())
    if found is None:
        return text.strip()
    year, month, day, hour = found.groups()
    return f"{day}/{month}/{year} {hour}"


async def _form(request: web.Request) -> dict[str, str]:
    return {k: v.strip() for k, v in (await request.post()).items() if isinstance(v, str)}


async def ballots_page(request: web.Request, *, problem: Rejected | None = None) -> web.Response:
    services, actor = services_of(request), actor_of(request)
    view = await svc.conference_view(services, actor)
    if isinstance(view, Rejected):
        return refused(request, view)
    if not actor.is_secretariat(view.bloc.id):
        return refused(request, Rejected(Reason.NOT_SECRETARIAT), status=403)
    done, number = request.query.get("done", ""), request.query.get("n", "")
    result = None
    if done == "close" and number.isdecimal():
        # The count, in the chat's words, read again: a reload shows it, never re-closes.
        found = await svc.vote_record(services, actor, ref=number, locale=locale_of(request).value)
        result = None if isinstance(found, Rejected) else found.context
    return page(
        request,
        "console_ballots",
        status=400 if problem else 200,
        nav="console",
        view=view,
        done=done if done in DONE else "",
        number=number if number.isdecimal() else "",
        result=result,
        problem=problem,
        pdf_made=services.pdf.available,
    )


DONE = frozenset({"defaults", "new", *ACTIONS})


async def _refusal(request: web.Request, rejected: Rejected) -> web.Response:
    if rejected.reason is Reason.NOT_SECRETARIAT:
        return refused(request, rejected, status=403)
    return await ballots_page(request, problem=rejected)


async def defaults_post(request: web.Request) -> web.Response:
    created = await svc.create_conference_ballots(services_of(request), actor_of(request))
    if isinstance(created, Rejected):
        return await _refusal(request, created)
    raise go(request, "/console/ballots?done=defaults")


async def new_post(request: web.Request) -> web.Response:
    title = (await _form(request)).get("title", "")
    line = await svc.create_custom_ballot(services_of(request), actor_of(request), title=title)
    if isinstance(line, Rejected):
        return await _refusal(request, line)
    raise go(request, f"/console/ballots?done=new&n={line.number}")


async def confirm_page(request: web.Request) -> web.Response:
    view = await svc.conference_view(services_of(request), actor_of(request))
    if isinstance(view, Rejected):
        return refused(request, view)
    if not actor_of(request).is_secretariat(view.bloc.id):
        return refused(request, Rejected(Reason.NOT_SECRETARIAT), status=403)
    number = int(request.match_info["number"])
    row = next((r for r in view.rows if r["number"] == number), None)
    if row is None:
        refusal = Rejected(Reason.UNKNOWN_BALLOT, {"value": str(number)})
        return refused(request, refusal, back="/console/ballots")
    action = request.match_info["action"]
    return page(
        request, "console_ballot_confirm", nav="console", view=view, row=row, action=action
    )


async def candidates_page(request: web.Request) -> web.Response:
    """The units a ballot not yet opened may put to the vote, a checkbox each (saved by the
    "candidates" action)."""
    found = await svc.candidates(
        services_of(request), actor_of(request), ref=request.match_info["number"]
    )
    if isinstance(found, Rejected):
        status = 403 if found.reason is Reason.NOT_SECRETARIAT else 200
        return refused(request, found, status=status, back="/console/ballots")
    return page(request, "console_ballot_candidates", nav="console", found=found)


async def action_post(request: web.Request) -> web.Response:
    action = request.match_info["action"]
    if action not in ACTIONS:
        raise web.HTTPNotFound()
    ref, form = request.match_info["number"], await _form(request)
    done = await _act(request, action, ref, form)
    if isinstance(done, Rejected):
        return await _refusal(request, done)
    raise go(request, f"/console/ballots?done={action}&n={ref}")


async def _act(request: web.Request, action: str, ref: str, form: dict[str, str]) -> object:
    """The service the action names (the chat's `/ballot <action>`): its outcome."""
    services, actor = services_of(request), actor_of(request)
    if action == "open":
        closes = chat_time(form.get("closes", ""))
        return await svc.open_ballot(services, actor, ref=ref, closes_text=closes)
    if action == "schedule":
        return await svc.schedule_ballot(
            services,
            actor,
            ref=ref,
            # «Bỏ hẹn giờ» clears it, as «tắt» does in chat.
            opens_text="tắt" if form.get("clear") else chat_time(form.get("opens", "")),
            closes_text=chat_time(form.get("closes", "")),
        )
    if action == "extend":
        closes = chat_time(form.get("closes", ""))
        return await svc.extend_ballot(services, actor, ref=ref, closes_text=closes)
    if action == "cancel":
        return await svc.cancel_ballot(services, actor, ref=ref, reason=form.get("reason", ""))
    if action == "secret":
        return await svc.set_secret(services, actor, ref=ref, secret=form.get("secret") == "on")
    if action == "candidates":
        units = [u for u in (await request.post()).getall("unit", []) if isinstance(u, str)]
        return await svc.set_candidates(services, actor, ref=ref, unit_ids=units)
    if action == "written":
        return await svc.written_vote(
            services,
            actor,
            ref=ref,
            unit_ref=form.get("unit", ""),
            choice_text=form.get("choice", ""),
        )
    if action == "decide":
        return await svc.decide(services, actor, ref=ref, unit_ref=form.get("unit", ""))
    return await svc.close_ballot(services, actor, ref=ref)


async def _record(request: web.Request) -> RecordOut | web.Response:
    out = await svc.vote_record(
        services_of(request),
        actor_of(request),
        ref=request.match_info["number"],
        locale=locale_of(request).value,
    )
    if isinstance(out, Rejected):
        status = 403 if out.reason is Reason.NOT_SECRETARIAT else 200
        return refused(request, out, status=status, back="/console/ballots")
    return out


async def record_download(request: web.Request) -> web.StreamResponse:
    out = await _record(request)
    if isinstance(out, web.Response):
        return out
    return attachment(out.docx, DOCX, out.filename)


async def record_pdf(request: web.Request) -> web.StreamResponse:
    """The vote-count record as PDF, for digital signing (LibreOffice, fonts embedded); a page
    that says so when LibreOffice is not installed or the conversion failed."""
    out = await _record(request)
    if isinstance(out, web.Response):
        return out
    return await pdf_attachment(request, out.filename, out.docx)
