"""Check-in at the conference: its date and place, who is present, and for a representative
whose unit has not checked in a «Điểm danh» button (voting.check_in, as /checkin in chat)."""

from __future__ import annotations

from aiohttp import web

from bot.core.models import Role
from bot.services import voting as svc
from bot.services.outcomes import Reason, Rejected
from handlers.web.base import actor_of, go, page, refused, services_of


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/checkin", checkin_page)
    router.add_post("/checkin", checkin_post)


async def checkin_page(request: web.Request, problem: Rejected | None = None) -> web.Response:
    actor = actor_of(request)
    view = await svc.conference_view(services_of(request), actor)
    if isinstance(view, Rejected):
        return refused(request, view)
    membership = actor.membership(view.bloc.id)
    unit_id = (
        membership.unit_id
        if membership is not None and membership.has(Role.REPRESENTATIVE)
        else None
    )
    mine = next((u for u in (*view.present, *view.absent) if u.id == unit_id), None)
    present = mine is not None and mine in view.present
    # After «Điểm danh» (a redirect): said from the presence as stored, so a reload checks in
    # nothing (nor sends a code that may have changed since).
    word = "" if problem else request.query.get("done", "")
    done = (
        svc.CheckedIn(view, mine, first=word == "first")
        if mine is not None and present and word in DONE
        else None
    )
    return page(
        request, "checkin", view=view, mine=mine, present=present, done=done, problem=problem
    )


DONE = frozenset({"first", "before"})


async def checkin_post(request: web.Request) -> web.Response:
    code = (await request.post()).get("code")
    typed = code if isinstance(code, str) else ""
    done = await svc.check_in(services_of(request), actor_of(request), typed)
    if isinstance(done, Rejected):
        if done.reason in CODE_PROBLEMS:  # said beside the code's box, the form kept
            return await checkin_page(request, problem=done)
        return refused(request, done, back="/checkin")
    raise go(request, f"/checkin?done={'first' if done.first else 'before'}")


CODE_PROBLEMS = frozenset(
    {Reason.VENUE_CODE_NEEDED, Reason.VENUE_CODE_WRONG, Reason.LINK_RATE_LIMITED}
)
