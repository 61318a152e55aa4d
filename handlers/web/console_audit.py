"""The console's audit log: the bloc's recent entries in words, its head, and «verify» — the
same check as `python -m bot audit verify`, for this bloc's chain: OK, or where it breaks."""

from __future__ import annotations

from aiohttp import web

from bot.services import audit as svc
from bot.services.outcomes import Rejected
from handlers.web.base import actor_of, locale_of, page, refused, services_of
from handlers.web.console_deadlines import forbidden


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/console/audit", audit_page)
    router.add_post("/console/audit/verify", verify_post)


async def audit_page(
    request: web.Request, *, checked: svc.Verification | None = None
) -> web.Response:
    view = await svc.recent_entries(
        services_of(request), actor_of(request), locale=locale_of(request)
    )
    if isinstance(view, Rejected):
        return forbidden(request, view) or refused(request, view, back="/console")
    return page(
        request,
        "console_audit",
        nav="console",
        view=view,
        checked=checked,
        report=checked.reports[0] if checked and checked.reports else None,
    )


async def verify_post(request: web.Request) -> web.Response:
    checked = await svc.verify_bloc(services_of(request), actor_of(request))
    if isinstance(checked, Rejected):
        return forbidden(request, checked) or refused(request, checked, back="/console")
    return await audit_page(request, checked=checked)
