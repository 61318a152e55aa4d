"""The console's ballots: create the conference's defaults or a question, set secrecy, open,
schedule, extend, record a written vote, close and count, cancel, download the vote-count
record — the same services as `/ballot …` in chat. Each outcome is shown in the chat's own
words above the list; closing and cancelling first ask for a confirm naming what happens."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from bot.services import voting as svc
from bot.services.outcomes import Reason, Rejected
from handlers.web.base import actor_of, locale_of, page, refused, services_of

_LOCAL = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}:\d{2})$")
ACTIONS = ("open", "schedule", "extend", "secret", "written", "close", "cancel")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/console/ballots", ballots_page)
    router.add_post("/console/ballots/defaults", defaults_post)
    router.add_post("/console/ballots/new", new_post)
    router.add_get(r"/console/ballots/{number:\d{1,4}}/{action:close|cancel}", confirm_page)
    router.add_post(r"/console/ballots/{number:\d{1,4}}/{action}", action_post)
    router.add_get(r"/console/ballots/{number:\d{1,4}}/record", record_download)


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


async def ballots_page(
    request: web.Request,
    *,
    outcome: tuple[str, dict[str, Any]] | None = None,
    problem: Rejected | None = None,
) -> web.Response:
    view = await svc.conference_view(services_of(request), actor_of(request))
    if isinstance(view, Rejected):
        return refused(request, view)
    if not actor_of(request).is_secretariat(view.bloc.id):
        return refused(request, Rejected(Reason.NOT_SECRETARIAT), status=403)
    return page(
        request,
        "console_ballots",
        status=400 if problem else 200,
        nav="console",
        view=view,
        outcome=outcome,
        problem=problem,
    )


async def _shown(request: web.Request, done: Any, template: str, **context: Any) -> web.Response:
    """The list again, with the outcome in the chat's words (or the refusal)."""
    if isinstance(done, Rejected):
        if done.reason is Reason.NOT_SECRETARIAT:
            return refused(request, done, status=403)
        return await ballots_page(request, problem=done)
    return await ballots_page(request, outcome=(template, context))


async def defaults_post(request: web.Request) -> web.Response:
    created = await svc.create_conference_ballots(services_of(request), actor_of(request))
    view = None if isinstance(created, Rejected) else created.view
    return await _shown(request, created, "ballots_created", view=view)


async def new_post(request: web.Request) -> web.Response:
    title = (await _form(request)).get("title", "")
    line = await svc.create_custom_ballot(services_of(request), actor_of(request), title=title)
    number = None if isinstance(line, Rejected) else line.number
    return await _shown(request, line, "ballot_created", number=number)


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


async def action_post(request: web.Request) -> web.Response:
    action = request.match_info["action"]
    if action not in ACTIONS:
        raise web.HTTPNotFound()
    ref, form = request.match_info["number"], await _form(request)
    services, actor = services_of(request), actor_of(request)
    if action == "open":
        opened = await svc.open_ballot(
            services, actor, ref=ref, closes_text=chat_time(form.get("closes", ""))
        )
        if isinstance(opened, Rejected):
            return await _shown(request, opened, "")
        return await _shown(
            request, opened, "ballot_opened", ballot=opened.ballot, units=opened.units
        )
    if action == "schedule":
        scheduled = await svc.schedule_ballot(
            services,
            actor,
            ref=ref,
            # «Bỏ hẹn giờ» clears it, as «tắt» does in chat.
            opens_text="tắt" if form.get("clear") else chat_time(form.get("opens", "")),
            closes_text=chat_time(form.get("closes", "")),
        )
        if isinstance(scheduled, Rejected):
            return await _shown(request, scheduled, "")
        return await _shown(
            request,
            scheduled,
            "ballot_scheduled",
            ballot=scheduled.ballot,
            opens_at=scheduled.opens_at,
            closes_at=scheduled.closes_at,
            tz=scheduled.tz,
        )
    if action == "extend":
        changed = await svc.extend_ballot(
            services, actor, ref=ref, closes_text=chat_time(form.get("closes", ""))
        )
        return await _changed(request, changed, "ballot_extended")
    if action == "cancel":
        changed = await svc.cancel_ballot(services, actor, ref=ref, reason=form.get("reason", ""))
        return await _changed(request, changed, "ballot_cancelled")
    if action == "secret":
        marked = await svc.set_secret(services, actor, ref=ref, secret=form.get("secret") == "on")
        return await _shown(request, marked, "ballot_secret_set", ballot=marked)
    if action == "written":
        written = await svc.written_vote(
            services,
            actor,
            ref=ref,
            unit_ref=form.get("unit", ""),
            choice_text=form.get("choice", ""),
        )
        if isinstance(written, Rejected):
            return await _shown(request, written, "")
        return await _shown(
            request, written, "vote_written", view=written.view, replaced=written.replaced
        )
    closed = await svc.close_ballot(services, actor, ref=ref)
    if isinstance(closed, Rejected):
        return await _shown(request, closed, "")
    return await _shown(request, closed, "ballot_result", **closed.group_text_context)


async def _changed(
    request: web.Request, changed: svc.BallotChanged | Rejected, template: str
) -> web.Response:
    if isinstance(changed, Rejected):
        return await _shown(request, changed, "")
    return await _shown(request, changed, template, ballot=changed.ballot)


async def record_download(request: web.Request) -> web.StreamResponse:
    out = await svc.vote_record(
        services_of(request),
        actor_of(request),
        ref=request.match_info["number"],
        locale=locale_of(request).value,
    )
    if isinstance(out, Rejected):
        status = 403 if out.reason is Reason.NOT_SECRETARIAT else 200
        return refused(request, out, status=status, back="/console/ballots")
    return web.Response(
        body=out.docx,
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        headers={"Content-Disposition": f'attachment; filename="{out.filename}"'},
    )
