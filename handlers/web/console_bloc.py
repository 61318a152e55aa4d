"""The console's bloc: its details, the leader and deputy units, the rotation, the receipts
policy (turning publication on asks first, as chat does), and a new bloc — for whoever may
create one (admins, secretariat members) — the same services as `/bloc …` in chat."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.services.blocs import (
    OfficersSet,
    bloc_view,
    check_draft,
    create_bloc,
    is_past,
    set_officers,
    set_publish_receipts,
    set_rotation,
)
from bot.services.outcomes import Reason, Rejected
from handlers.web.base import actor_of, go, page, refused, services_of


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/console/bloc", bloc_page)
    router.add_post("/console/bloc/officers", officers_post)
    router.add_post("/console/bloc/rotation", rotation_post)
    router.add_get("/console/bloc/receipts", receipts_confirm)
    router.add_post("/console/bloc/receipts", receipts_post)
    router.add_get("/console/blocs/new", new_bloc_page)
    router.add_post("/console/blocs/new", new_bloc_post)


async def _form(request: web.Request) -> dict[str, str]:
    return {k: v.strip() for k, v in (await request.post()).items() if isinstance(v, str)}


def _status(rejected: Rejected) -> int:
    return 403 if rejected.reason in {Reason.NOT_SECRETARIAT, Reason.NOT_ALLOWED_CREATE} else 400


async def bloc_page(
    request: web.Request,
    *,
    outcome: tuple[str, dict[str, Any]] | None = None,
    problem: Rejected | None = None,
    typed: dict[str, str] | None = None,
) -> web.Response:
    view = await bloc_view(services_of(request), actor_of(request))
    if isinstance(view, Rejected):
        return refused(request, view)
    if not view.is_secretariat:
        return refused(request, Rejected(Reason.NOT_SECRETARIAT), status=403)
    return page(
        request,
        "console_bloc",
        status=_status(problem) if problem else 200,
        nav="console",
        view=view,
        outcome=outcome,
        problem=problem,
        typed=typed or {},
    )


async def _after(
    request: web.Request, done: Any, template: str, typed: dict[str, str], **context: Any
) -> web.Response:
    if isinstance(done, Rejected):
        if done.reason is Reason.NOT_SECRETARIAT:
            return refused(request, done, status=403)
        return await bloc_page(request, problem=done, typed=typed)
    return await bloc_page(request, outcome=(template, context))


async def officers_post(request: web.Request) -> web.Response:
    form = await _form(request)
    done = await set_officers(
        services_of(request),
        actor_of(request),
        leader_ref=form.get("leader") or None,
        deputy_ref=form.get("deputy") or None,
    )
    if not isinstance(done, OfficersSet):
        return await _after(request, done, "", form)
    return await _after(
        request,
        done,
        "bloc_officers_set",
        form,
        bloc=done.bloc.name,
        kind=done.bloc.kind.value,
        leader=done.leader.name if done.leader else None,
        deputy=done.deputy.name if done.deputy else None,
    )


async def rotation_post(request: web.Request) -> web.Response:
    form = await _form(request)
    refs = [line.strip() for line in form.get("rotation", "").splitlines() if line.strip()]
    done = await set_rotation(services_of(request), actor_of(request), refs)
    if isinstance(done, Rejected):
        return await _after(request, done, "", form)
    units = [u.name for u in done.units]
    return await _after(
        request, done, "bloc_rotation_set", form, units=units, kind=done.kind.value
    )


async def receipts_confirm(request: web.Request) -> web.Response:
    """Publishing receipt codes with choices makes votes provable: said before it is done."""
    view = await bloc_view(services_of(request), actor_of(request))
    if isinstance(view, Rejected):
        return refused(request, view)
    if not view.is_secretariat:
        return refused(request, Rejected(Reason.NOT_SECRETARIAT), status=403)
    return page(request, "console_receipts", nav="console", view=view)


async def receipts_post(request: web.Request) -> web.Response:
    publish = (await _form(request)).get("publish") == "on"
    done = await set_publish_receipts(services_of(request), actor_of(request), publish)
    if isinstance(done, Rejected):
        return await _after(request, done, "", {})
    return await bloc_page(request, outcome=("bloc_receipts_set", {"publish": publish}))


async def new_bloc_page(
    request: web.Request,
    *,
    problem: Rejected | None = None,
    typed: dict[str, str] | None = None,
    past: int | None = None,
) -> web.Response:
    actor = actor_of(request)
    if not actor.can_create_blocs:
        rejected = Rejected(Reason.NOT_ALLOWED_CREATE, {"account": actor.account.spelled})
        return refused(request, rejected, status=403)
    year = services_of(request).clock.now().year
    return page(
        request,
        "console_new_bloc",
        status=_status(problem) if problem else 200,
        nav="console",
        problem=problem,
        typed=typed or {"year": str(year), "timezone": "Asia/Ho_Chi_Minh", "kind": "Khối"},
        past=past,
        year=year,
    )


async def new_bloc_post(request: web.Request) -> web.StreamResponse:
    form = await _form(request)
    services, actor = services_of(request), actor_of(request)
    current = services.clock.now().year
    draft = check_draft(
        form.get("name", ""),
        form.get("kind", ""),
        form.get("year", ""),
        form.get("code", ""),
        form.get("timezone", ""),
        current_year=current,
    )
    if isinstance(draft, Rejected):
        return await new_bloc_page(request, problem=draft, typed=form)
    if is_past(draft, current_year=current) and form.get("past") != str(draft.year):
        # A year already over: the form comes back once more, asking to confirm that year.
        return await new_bloc_page(request, typed=form, past=draft.year)
    bloc = await create_bloc(services, actor, draft)
    if isinstance(bloc, Rejected):
        return await new_bloc_page(request, problem=bloc, typed=form)
    raise go(request, "/console")
