"""The console's bloc: its details, the leader and deputy units, the rotation, the bloc's
level with the body its memo goes to and its regulation, the receipts
policy (turning publication on asks first, as chat does), and a new bloc — for whoever may
create one (admins, secretariat members) — the same services as `/bloc …` in chat."""

from __future__ import annotations

from aiohttp import web

from bot.core.models import Platform
from bot.core.text import TEXT_LIMITS
from bot.services.blocs import (
    bloc_view,
    check_draft,
    create_bloc,
    is_past,
    level_view,
    set_level,
    set_officers,
    set_publish_receipts,
    set_rotation,
)
from bot.services.outcomes import Reason, Rejected
from handlers.web.base import actor_of, go, page, refused, services_of, typed_form


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/console/bloc", bloc_page)
    router.add_post("/console/bloc/officers", officers_post)
    router.add_post("/console/bloc/rotation", rotation_post)
    router.add_post("/console/bloc/level", level_post)
    router.add_get("/console/bloc/receipts", receipts_confirm)
    router.add_post("/console/bloc/receipts", receipts_post)
    router.add_get("/console/blocs/new", new_bloc_page)
    router.add_post("/console/blocs/new", new_bloc_post)


def _status(rejected: Rejected) -> int:
    return 403 if rejected.reason in {Reason.NOT_SECRETARIAT, Reason.NOT_ALLOWED_CREATE} else 400


async def bloc_page(
    request: web.Request,
    *,
    problem: Rejected | None = None,
    typed: dict[str, str] | None = None,
) -> web.Response:
    view = await bloc_view(services_of(request), actor_of(request))
    if isinstance(view, Rejected):
        return refused(request, view)
    if not view.is_secretariat:
        return refused(request, Rejected(Reason.NOT_SECRETARIAT), status=403)
    level = await level_view(services_of(request), actor_of(request))
    if isinstance(level, Rejected):
        return refused(request, level)
    done = request.query.get("done", "")
    return page(
        request,
        "console_bloc",
        status=_status(problem) if problem else 200,
        nav="console",
        view=view,
        level=level,
        limits=TEXT_LIMITS,
        # A group is linked in Telegram (/bloc link): said only where the bot runs there.
        telegram=Platform.TELEGRAM in services_of(request).channels,
        done=done if done in DONE else "",
        problem=problem,
        typed=typed or {},
    )


DONE = frozenset({"officers", "rotation", "level", "receipts_on", "receipts_off"})


async def _after(
    request: web.Request, outcome: object, done: str, typed: dict[str, str]
) -> web.Response:
    """Back to the page (303: a reload never does it twice), told what was done; a refusal
    changed nothing and is said at once, with what was typed."""
    if isinstance(outcome, Rejected):
        if outcome.reason is Reason.NOT_SECRETARIAT:
            return refused(request, outcome, status=403)
        return await bloc_page(request, problem=outcome, typed=typed)
    raise go(request, f"/console/bloc?done={done}")


async def officers_post(request: web.Request) -> web.Response:
    form = await typed_form(request)
    done = await set_officers(
        services_of(request),
        actor_of(request),
        leader_ref=form.get("leader") or None,
        deputy_ref=form.get("deputy") or None,
    )
    return await _after(request, done, "officers", form)


async def rotation_post(request: web.Request) -> web.Response:
    form = await typed_form(request)
    refs = [line.strip() for line in form.get("rotation", "").splitlines() if line.strip()]
    done = await set_rotation(services_of(request), actor_of(request), refs)
    return await _after(request, done, "rotation", form)


async def level_post(request: web.Request) -> web.Response:
    """The level, the body the memo goes to (empty: the level's) and the regulation (empty:
    none), all three as the form has them; a refusal of one saves none."""
    form = await typed_form(request)
    done = await set_level(
        services_of(request),
        actor_of(request),
        level=form.get("level", ""),
        reports_to=form.get("reports_to", ""),
        regulation=form.get("regulation", ""),
    )
    return await _after(request, done, "level", form)


async def receipts_confirm(request: web.Request) -> web.Response:
    """Publishing receipt codes with choices makes votes provable: said before it is done."""
    view = await bloc_view(services_of(request), actor_of(request))
    if isinstance(view, Rejected):
        return refused(request, view)
    if not view.is_secretariat:
        return refused(request, Rejected(Reason.NOT_SECRETARIAT), status=403)
    return page(request, "console_receipts", nav="console", view=view)


async def receipts_post(request: web.Request) -> web.Response:
    publish = (await typed_form(request)).get("publish") == "on"
    done = await set_publish_receipts(services_of(request), actor_of(request), publish)
    return await _after(request, done, "receipts_on" if publish else "receipts_off", {})


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
    form = await typed_form(request)
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
