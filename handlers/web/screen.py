"""The conference hall's screen: a read-only page for the projector, opened by its link (no
sign-in, no cookie), its changing part as a fragment, and an event stream that says when to
fetch it again (Server-Sent Events: ids only; the page re-reads through the service)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from aiohttp import web
from markupsafe import Markup

from bot.core.ports import Subscription
from bot.core.screen import ScreenProblem
from bot.services import hall
from bot.services.app import Services
from bot.services.live import hall_topic
from handlers.web.base import CLOSING, config_of, qr_svg, services_of

log = logging.getLogger(__name__)

SCREEN = r"/screen/{token:[A-Za-z0-9_-]{1,64}}"
RETRY_MS = 3000  # how soon a browser reconnects after the stream breaks


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get(SCREEN, screen_page)
    router.add_get(SCREEN + "/live", screen_part)
    router.add_get(SCREEN + "/events", screen_events)


def _render(
    request: web.Request, name: str, *, status: int = 200, locale: str = "vi", **context: object
) -> web.Response:
    """A page in the bloc's language (not the browser's: the hall reads it)."""
    body = services_of(request).renderer.page(
        locale, name, base=config_of(request).prefix, **context
    )
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def _gone(request: web.Request, problem: ScreenProblem) -> web.Response:
    """The same plain page whatever the reason: it says nothing of the conference."""
    status = 404 if problem is ScreenProblem.UNKNOWN else 410
    return _render(request, "screen_gone", status=status)


async def screen_page(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    view = await hall.screen_view(services_of(request), token)
    if isinstance(view, ScreenProblem):
        return _gone(request, view)
    return _render(
        request,
        "screen",
        view=view,
        token=token,
        locale=view.locale.value,
        qr=_checkin_qr(request),
    )


async def screen_part(request: web.Request) -> web.Response:
    view = await hall.screen_view(services_of(request), request.match_info["token"])
    if isinstance(view, ScreenProblem):
        return _gone(request, view)
    return _render(
        request, "screen_live", view=view, locale=view.locale.value, qr=_checkin_qr(request)
    )


def _checkin_qr(request: web.Request) -> Markup:
    """The QR beside the check-in code: it opens the check-in page on a phone."""
    return qr_svg(f"{config_of(request).base_url}/checkin")


def _event(name: str, data: str) -> bytes:
    return f"event: {name}\ndata: {data}\n\n".encode()


async def screen_events(request: web.Request) -> web.StreamResponse:
    """`update` when something the screen shows changed (its data: what, by ids), `gone`
    when the link ends; a comment after `keep_alive` quiet seconds, when the link is also
    checked (so an expired link ends its stream)."""
    services = services_of(request)
    token = request.match_info["token"]
    bloc_id = await hall.screen_bloc(services, token)
    if isinstance(bloc_id, ScreenProblem):
        return _gone(request, bloc_id)
    closing, quiet = request.app[CLOSING], config_of(request).keep_alive
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
            "X-Frame-Options": "DENY",
            "X-Accel-Buffering": "no",  # nginx: pass each event on at once
        }
    )
    async with services.broadcast.subscribe(hall_topic(bloc_id)) as subscription:
        await response.prepare(request)
        with contextlib.suppress(ConnectionResetError):  # the screen went away: that is all
            await response.write(f"retry: {RETRY_MS}\n\n".encode())
            await _relay(response, subscription, services, token, closing, quiet)
    return response


async def _relay(
    response: web.StreamResponse,
    subscription: Subscription,
    services: Services,
    token: str,
    closing: asyncio.Event,
    quiet: float,
) -> None:
    while not closing.is_set():
        message = await _next(subscription, closing, quiet)
        if message is None:  # quiet: keep the connection alive, and the link checked
            if not await _still_valid(services, token):
                await response.write(_event("gone", "{}"))
                break
            await response.write(b": keep-alive\n\n")
            continue
        if json.loads(message).get("kind") == "screen" and not await _still_valid(services, token):
            await response.write(_event("gone", "{}"))
            break
        await response.write(_event("update", message))


async def _next(subscription: Subscription, closing: asyncio.Event, quiet: float) -> str | None:
    """The next message, or None after `quiet` seconds or when the server stops."""
    task = asyncio.ensure_future(subscription.get())
    stop = asyncio.ensure_future(closing.wait())
    try:
        done, _ = await asyncio.wait(
            {task, stop}, timeout=quiet, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        for pending in (task, stop):
            if not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pending
    return task.result() if task in done else None


async def _still_valid(services: Services, token: str) -> bool:
    return not isinstance(await hall.screen_bloc(services, token), ScreenProblem)
