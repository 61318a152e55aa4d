"""Standings: the table (the person's unit highlighted) and the chart; while a ballot is open
only its turnout, never a partial result (the service's view holds nothing more)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.services import standings as svc
from bot.services.charts import standings_png
from bot.services.outcomes import Rejected
from handlers.web.base import actor_of, locale_of, page, refused, services_of


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/standings", standings_page)
    router.add_get("/standings.png", standings_chart)


async def standings_page(request: web.Request) -> web.Response:
    view = await svc.standings(services_of(request), actor_of(request))
    if isinstance(view, Rejected):
        return refused(request, view)
    return page(request, "standings", view=view)


async def standings_chart(request: web.Request) -> web.Response:
    view = await svc.standings(services_of(request), actor_of(request))
    if isinstance(view, Rejected):
        return refused(request, view, status=403)
    # matplotlib takes a while: not on the event loop.
    data = await asyncio.to_thread(standings_png, view, locale=locale_of(request).value)
    return web.Response(body=data, content_type="image/png")
