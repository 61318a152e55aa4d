"""The secretariat's console: the year at a glance, and the conference as a real form (the same
services as `/conference new` and `/conference checkin` in chat: same checks, audit, refusals).
A representative's session is refused here, as the services refuse them in chat."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from bot.core.venue import parse_venue_setting
from bot.services import console, hall
from bot.services import voting as svc
from bot.services.outcomes import Reason, Rejected
from handlers.web.base import actor_of, go, page, qr_svg, refused, services_of

_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/console", overview_page)
    router.add_get("/console/conference", conference_page)
    router.add_post("/console/conference", conference_post)
    router.add_get("/console/screen", screen_page)
    router.add_post("/console/screen", screen_issue)
    router.add_get("/console/screen/revoke", screen_revoke_confirm)
    router.add_post("/console/screen/revoke", screen_revoke)


def _refused(request: web.Request, rejected: Rejected) -> web.Response:
    status = 403 if rejected.reason is Reason.NOT_SECRETARIAT else 200
    return refused(request, rejected, status=status)


async def overview_page(request: web.Request) -> web.Response:
    view = await console.overview(services_of(request), actor_of(request))
    if isinstance(view, Rejected):
        if view.reason is Reason.NO_BLOC_YET:  # an admin before the first bloc: create it
            raise go(request, "/console/blocs/new")
        return _refused(request, view)
    return page(request, "console", nav="console", view=view)


async def conference_page(
    request: web.Request,
    *,
    problem: Rejected | None = None,
    typed: dict[str, str] | None = None,
) -> web.Response:
    form = await console.conference_form(services_of(request), actor_of(request))
    if isinstance(form, Rejected):
        return _refused(request, form)
    return page(
        request,
        "console_conference",
        status=400 if problem else 200,
        nav="console",
        form=form,
        problem=problem,
        typed=typed,
        saved=request.query.get("saved") == "1",
    )


def conference_fields(form: MultiDictProxy[Any]) -> dict[str, str]:
    """The form as typed, each field a string (a date from the date picker in the chat's
    day/month/year; one name per line for the lists)."""

    def text(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    day = text("date")
    if iso := _ISO_DATE.match(day):
        day = f"{iso.group(3)}/{iso.group(2)}/{iso.group(1)}"

    def lines(name: str) -> list[str]:
        return [line.strip() for line in text(name).splitlines() if line.strip()]

    return {
        "date": text("date"),
        "time": f"{day} {text('hour')}".strip(),
        "hour": text("hour"),
        "place": text("place"),
        "chair_unit": text("chair_unit"),
        "chair": text("chair"),
        "chair_title": text("chair_title"),
        "secretary": text("secretary"),
        "board_lines": text("counting_board"),
        "guest_lines": text("guests"),
        "locality": text("locality"),
        "signer": text("signer"),
        "signer_title": text("signer_title"),
        "deputy": text("deputy"),
        "deputy_title": text("deputy_title"),
        "delegation_lines": text("delegations"),
        "ended": text("ended"),
        "venue": text("venue"),
    }


def conference_input(typed: dict[str, str]) -> svc.ConferenceInput:
    return svc.ConferenceInput(
        time=typed["time"],
        place=typed["place"],
        chair_unit=typed["chair_unit"],
        chair=typed["chair"],
        chair_title=typed["chair_title"],
        secretary=typed["secretary"],
        counting_board=typed["board_lines"],
        guests=typed["guest_lines"],
        locality=typed["locality"],
        signer=typed["signer"],
        signer_title=typed["signer_title"],
        deputy=typed["deputy"],
        deputy_title=typed["deputy_title"],
        delegations=typed["delegation_lines"],
        ended=typed["ended"],
    )


async def conference_post(request: web.Request) -> web.StreamResponse:
    typed = conference_fields(await request.post())
    services, actor = services_of(request), actor_of(request)
    saved = await svc.save_conference(services, actor, conference_input(typed))
    if isinstance(saved, Rejected):
        if saved.reason is Reason.NOT_SECRETARIAT:
            return _refused(request, saved)
        return await conference_page(request, problem=saved, typed=typed)
    setting = parse_venue_setting(typed["venue"])
    if setting is not None and setting.stored != saved.conference.venue_checkin:
        changed = await svc.set_venue_checkin(services, actor, setting.stored)
        if isinstance(changed, Rejected):
            return _refused(request, changed)
    raise go(request, "/console/conference?saved=1")


# --- the hall screen's links (as /conference screen [off] in chat) ---------------------------


async def screen_page(request: web.Request) -> web.Response:
    links = await hall.screen_links(services_of(request), actor_of(request))
    if isinstance(links, Rejected):
        return _refused(request, links)
    revoked = request.query.get("revoked") == "1"
    return page(request, "console_screen", nav="console", links=links, revoked=revoked)


async def screen_issue(request: web.Request) -> web.Response:
    """A new link, shown once on this page (it is stored only as a hash): to open on the
    hall's computer, or to carry there by its QR code."""
    issued = await hall.issue_screen(services_of(request), actor_of(request))
    if isinstance(issued, Rejected):
        return _refused(request, issued)
    return page(
        request, "console_screen_issued", nav="console", issued=issued, qr=qr_svg(issued.url)
    )


async def screen_revoke_confirm(request: web.Request) -> web.Response:
    links = await hall.screen_links(services_of(request), actor_of(request))
    if isinstance(links, Rejected):
        return _refused(request, links)
    return page(request, "console_screen_revoke", nav="console", links=links)


async def screen_revoke(request: web.Request) -> web.Response:
    revoked = await hall.revoke_screens(services_of(request), actor_of(request))
    if isinstance(revoked, Rejected):
        return _refused(request, revoked)
    raise go(request, "/console/screen?revoked=1")
