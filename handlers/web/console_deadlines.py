"""The console's deadlines and announcements: add a deadline, withdraw one (a confirm naming
it first), the reminder offsets per kind and the quiet hours, and an announcement to everyone
or to the units not done on one deadline — previewed as members will get it, with how many
it reaches, before a confirm sends it. The same services as `/deadlines …` and `/announce`."""

from __future__ import annotations

import re
import secrets
from dataclasses import asdict
from typing import Any

from aiohttp import web

from bot.core.deadlines import DeadlineKind
from bot.services import announce as ann
from bot.services import deadlines as svc
from bot.services.actors import secretariat_bloc
from bot.services.outcomes import Reason, Rejected
from handlers.web.base import (
    actor_of,
    form_id,
    go,
    page,
    refused,
    services_of,
    typed_form,
)
from handlers.web.console_ballots import chat_time

_DRAFT = re.compile(r"^[0-9a-f]{16}$")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/console/deadlines", deadlines_page)
    router.add_post("/console/deadlines/add", add_post)
    router.add_get(r"/console/deadlines/{number:\d{1,4}}/cancel", cancel_page)
    router.add_post("/console/deadlines/cancel", cancel_post)
    router.add_post("/console/deadlines/remind", remind_post)
    router.add_post("/console/deadlines/quiet", quiet_post)
    router.add_post("/console/announce/preview", preview_post)
    router.add_post("/console/announce/send", send_post)


def forbidden(request: web.Request, rejected: Rejected) -> web.Response | None:
    """A representative's session: 403 with the chat's refusal; None for anything else."""
    if rejected.reason is Reason.NOT_SECRETARIAT:
        return refused(request, rejected, status=403)
    return None


async def deadlines_page(
    request: web.Request,
    *,
    problem: Rejected | None = None,
    typed: dict[str, str] | None = None,
) -> web.Response:
    actor = actor_of(request)
    allowed = secretariat_bloc(actor)
    if isinstance(allowed, Rejected):
        return forbidden(request, allowed) or refused(request, allowed)
    view = await svc.deadlines_view(services_of(request), actor)
    if isinstance(view, Rejected):
        return forbidden(request, view) or refused(request, view)
    return page(
        request,
        "console_deadlines",
        status=400 if problem else 200,
        nav="console",
        view=view,
        kinds=[k.value for k in DeadlineKind],
        outcome=None if problem else await _outcome(request, view),
        problem=problem,
        typed=typed or {},
    )


async def _outcome(
    request: web.Request, view: svc.DeadlinesView
) -> tuple[str, dict[str, Any]] | None:
    """What was just done, in the chat's words (`?done=` after a form's redirect): read again
    from what is stored, so a reload shows it and neither adds, tells nor sends twice."""
    services, actor = services_of(request), actor_of(request)
    done, ref = request.query.get("done", ""), request.query.get("n", "")
    if done == "added":
        added = await svc.added_deadline(services, actor, deadline_id=form_id(ref))
        return None if added is None else ("deadline_added", asdict(added))
    if done == "cancelled":
        title = await svc.cancelled_deadline(services, actor, deadline_id=form_id(ref))
        return None if title is None else ("deadline_cancelled", {"title": title})
    if done == "reminders":
        return "reminders_set", {"rows": view.offsets, "quiet": view.settings.quiet}
    if done == "announced" and _DRAFT.match(ref):
        sent = await ann.announced(services, actor, ref=f"web:{ref}")
        return None if sent is None else ("announce_sent", {"done": sent})
    return None


async def _after(
    request: web.Request, result: object, done: str, typed: dict[str, str]
) -> web.Response:
    """Back to the page (303: a reload never does it twice), told what was done; a refusal
    changed nothing and is said at once, with the form as typed."""
    if isinstance(result, Rejected):
        return forbidden(request, result) or await deadlines_page(
            request, problem=result, typed=typed
        )
    raise go(request, f"/console/deadlines?done={done}")


async def add_post(request: web.Request) -> web.Response:
    form = await typed_form(request)
    services = services_of(request)
    added = await svc.add_deadline(
        services,
        actor_of(request),
        title=form.get("title", ""),
        due_text=chat_time(form.get("due", "")),
    )
    if isinstance(added, Rejected):
        return await _after(request, added, "", form)
    await services.outbox_flush()
    return await _after(request, added, f"added&n={added.deadline_id}", form)


async def cancel_page(request: web.Request) -> web.Response:
    found = await svc.deadline_to_cancel(
        services_of(request), actor_of(request), ref=request.match_info["number"]
    )
    if isinstance(found, Rejected):
        return forbidden(request, found) or refused(request, found, back="/console/deadlines")
    return page(request, "console_deadline_cancel", nav="console", found=found)


async def cancel_post(request: web.Request) -> web.Response:
    form = await typed_form(request)
    found = form_id(form.get("deadline_id"))
    done = await svc.cancel_deadline(services_of(request), actor_of(request), deadline_id=found)
    return await _after(request, done, f"cancelled&n={found}", form)


async def remind_post(request: web.Request) -> web.Response:
    form = await typed_form(request)
    changed = await svc.set_offsets(
        services_of(request),
        actor_of(request),
        kind_text=form.get("kind", ""),
        offsets_text=form.get("offsets", ""),
    )
    return await _after(request, changed, "reminders", form)


async def quiet_post(request: web.Request) -> web.Response:
    form = await typed_form(request)
    # «Không có giờ yên lặng» is «tắt» in chat; else the two times as chat types them.
    text = "tắt" if form.get("none") else f"{form.get('start', '')}-{form.get('end', '')}"
    changed = await svc.set_quiet(services_of(request), actor_of(request), text=text)
    return await _after(request, changed, "reminders", form)


async def preview_post(request: web.Request) -> web.Response:
    form = await typed_form(request)
    found = await ann.preview(
        services_of(request),
        actor_of(request),
        text=form.get("text", ""),
        target=form.get("target", ann.EVERYONE),
    )
    if isinstance(found, Rejected):
        return forbidden(request, found) or await deadlines_page(
            request, problem=found, typed=form
        )
    # The draft names this preview: a second «Gửi» of it sends nothing more (as a second tap).
    return page(
        request,
        "console_announce_preview",
        nav="console",
        preview=found,
        draft=secrets.token_hex(8),
    )


async def send_post(request: web.Request) -> web.Response:
    allowed = secretariat_bloc(actor_of(request))  # who asks, before what is asked
    if isinstance(allowed, Rejected):
        return forbidden(request, allowed) or refused(request, allowed, status=403)
    form = await typed_form(request)
    draft = form.get("draft", "")
    if not _DRAFT.match(draft):
        raise web.HTTPBadRequest()
    services = services_of(request)
    done = await ann.announce(
        services,
        actor_of(request),
        text=form.get("text", ""),
        target=form.get("target", ann.EVERYONE),
        ref=f"web:{draft}",
    )
    if isinstance(done, Rejected):
        return await _after(request, done, "", form)
    await services.outbox_flush()
    return await _after(request, done, f"announced&n={draft}", form)
