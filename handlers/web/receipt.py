"""Receipt check: a secret ballot's receipt code pasted → in the box, counted or not found,
in the chat's words. The code is never kept (it is in the answer to the POST only)."""

from __future__ import annotations

from aiohttp import web

from bot.services import voting as svc
from bot.services.outcomes import Rejected
from handlers.web.base import actor_of, page, services_of


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/receipt", receipt_page)
    router.add_post("/receipt", receipt_post)


async def receipt_page(request: web.Request) -> web.Response:
    return page(request, "receipt", out=None, rejected=None)


async def receipt_post(request: web.Request) -> web.Response:
    typed = (await request.post()).get("receipt")
    out = await svc.check_receipt(
        services_of(request), actor_of(request), typed=typed if isinstance(typed, str) else ""
    )
    if isinstance(out, Rejected):
        return page(request, "receipt", status=400, out=None, rejected=out)
    return page(request, "receipt", out=out, rejected=None)
