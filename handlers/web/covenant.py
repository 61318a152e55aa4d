"""The covenant: read it (the text's SHA-256 shown) and, for a representative whose unit has
not signed, sign it with a confirm — the same service, refusals and audit as chat."""

from __future__ import annotations

from aiohttp import web

from bot.services import covenant as svc
from bot.services.outcomes import Rejected
from handlers.web.base import actor_of, form_id, go, page, refused, services_of


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/covenant", covenant_page)
    router.add_post("/covenant/confirm", confirm_post)
    router.add_post("/covenant/sign", sign_post)


async def covenant_page(request: web.Request) -> web.Response:
    done = request.query.get("done", "")
    # After «Ký»: the covenant signed (its id re-read by the service, which checks it is this
    # person's bloc's), and the unit's signature as stored, so a reload signs nothing.
    named = (form_id(request.query.get("n")) or None) if done in SIGNED else None
    view = await svc.covenant_view(services_of(request), actor_of(request), covenant_id=named)
    if isinstance(view, Rejected):
        return refused(request, view)
    signed = view.signed(first=done == "signed") if done in SIGNED else None
    if signed is not None:
        return page(request, "covenant_signed", done=signed)
    digest = svc.text_hash(view.covenant.text) if view.covenant else ""
    return page(request, "covenant", view=view, sha256=digest)


SIGNED = frozenset({"signed", "signed_before"})


async def confirm_post(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    covenant_id = form_id(form.get("covenant_id"))
    view = await svc.covenant_view(
        services_of(request), actor_of(request), covenant_id=covenant_id
    )
    if isinstance(view, Rejected):
        return refused(request, view, back="/covenant")
    if view.covenant is None or view.unit is None or view.mine is not None:
        raise go(request, "/covenant")  # nothing to confirm: the page says where things stand
    seen = form.get("hash")
    return page(request, "covenant_confirm", view=view, seen=seen if isinstance(seen, str) else "")


async def sign_post(request: web.Request) -> web.Response:
    form = await request.post()
    seen = form.get("hash")
    covenant_id = form_id(form.get("covenant_id"))
    done = await svc.sign(
        services_of(request),
        actor_of(request),
        covenant_id=covenant_id,
        seen_hash=seen if isinstance(seen, str) else "",
    )
    if isinstance(done, Rejected):
        return refused(request, done, back="/covenant")
    word = "signed" if done.first else "signed_before"
    raise go(request, f"/covenant?done={word}&n={covenant_id}")
