"""My unit: the open deadlines of the person's bloc, what the unit has done, a link to each
action (and «Đã nhận» for the secretariat's own deadlines); the bloc chooser for a person in
several blocs; the language."""

from __future__ import annotations

from aiohttp import web

from bot.core.models import Locale
from bot.services.actors import set_locale
from bot.services.blocs import my_memberships, use_bloc
from bot.services.deadlines import Acknowledged, acknowledge, deadlines_view
from bot.services.outcomes import Rejected
from handlers.web.base import actor_of, form_id, go, page, refused, services_of


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/", home_page)
    router.add_post("/deadlines/{deadline_id}/ack", ack_post)
    router.add_get("/blocs", blocs_page)
    router.add_post("/blocs", blocs_post)
    router.add_post("/lang", lang_post)


async def _home(request: web.Request, acked: Acknowledged | None = None) -> web.Response:
    services, actor = services_of(request), actor_of(request)
    memberships = await my_memberships(services, actor)
    if actor.current_bloc_id is None and len(memberships) > 1:
        raise go(request, "/blocs")
    view = await deadlines_view(services, actor)
    if isinstance(view, Rejected):
        return page(request, "home", view=None, rejected=view, memberships=memberships, acked=None)
    return page(request, "home", view=view, rejected=None, memberships=memberships, acked=acked)


async def home_page(request: web.Request) -> web.Response:
    return await _home(request)


async def ack_post(request: web.Request) -> web.Response:
    deadline_id = form_id(request.match_info["deadline_id"])
    done = await acknowledge(services_of(request), actor_of(request), deadline_id=deadline_id)
    if isinstance(done, Rejected):
        return refused(request, done)
    return await _home(request, done)


async def blocs_page(request: web.Request) -> web.Response:
    memberships = await my_memberships(services_of(request), actor_of(request))
    return page(request, "blocs", memberships=memberships)


async def blocs_post(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    code = form.get("bloc")
    chosen = await use_bloc(services_of(request), actor_of(request), str(code or ""))
    if isinstance(chosen, Rejected):
        return refused(request, chosen, status=400, back="/blocs")
    raise go(request, "/")


async def lang_post(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    wanted = form.get("lang")
    if wanted in (Locale.VI.value, Locale.EN.value):
        await set_locale(services_of(request), actor_of(request), Locale(str(wanted)))
    back = str(form.get("back") or "/")
    # Only a page of ours (never "//elsewhere"): the form is ours, the field could be forged.
    raise go(request, back if back.startswith("/") and not back.startswith("//") else "/")
