"""The conference hall's screen: a read-only page for the projector, opened by its link (no
sign-in, no cookie), its changing part as a fragment, and an event stream that says when to
fetch it again (Server-Sent Events: ids only; the page re-reads through the service)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

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
_STAMP = re.compile(r"[0-9a-f]{1,32}")  # an event's stamp (bot.services.live.tell_screens)


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
    """The changing part. Fetched after an event with the event's stamp (`?v=`), it is
    rendered once for every screen asking with that stamp (see `SharedParts`); without one (the
    page's minute timer, a reconnection) it is rendered for this request."""
    token, stamp = request.match_info["token"], request.query.get("v", "")
    if not _STAMP.fullmatch(stamp):
        return await _part(request, token)
    parts = request.app[SHARED_PARTS]
    return await parts.get((token, stamp), lambda: _part(request, token))


async def _part(request: web.Request, token: str) -> web.Response:
    view = await hall.screen_view(services_of(request), token)
    if isinstance(view, ScreenProblem):
        return _gone(request, view)
    return _render(
        request, "screen_live", view=view, locale=view.locale.value, qr=_checkin_qr(request)
    )


class SharedParts:
    """The hall screens' part, rendered once per (link, event stamp) and shared by every
    screen that asks for it within `FRESH` seconds: a cast seen by a hundred open screens
    costs one rendering, not a hundred, and the casts that follow do not queue behind them.
    A stamp is made when the event is published, after its commit, so a part rendered for it
    shows that change; the screens asking at once wait for the one rendering in progress."""

    FRESH = 1.0  # seconds: the countdowns in a shared part are this much behind at most
    SIZE = 256

    def __init__(self) -> None:
        self._parts: OrderedDict[tuple[str, str], tuple[float, asyncio.Future[web.Response]]]
        self._parts = OrderedDict()

    async def get(
        self, key: tuple[str, str], render: Callable[[], Awaitable[web.Response]]
    ) -> web.Response:
        now = time.monotonic()
        found = self._parts.get(key)
        if found is None or now - found[0] > self.FRESH:
            future: asyncio.Future[web.Response] = asyncio.ensure_future(render())
            self._parts[key] = (now, future)
            self._parts.move_to_end(key)
            while len(self._parts) > self.SIZE:
                self._parts.popitem(last=False)
            found = (now, future)
        try:
            shown = await asyncio.shield(found[1])
        except Exception:
            self._parts.pop(key, None)  # the next screen tries again
            raise
        if shown.status != 200:
            self._parts.pop(key, None)
        # A response is sent once: each screen gets its own copy of the shared body.
        return web.Response(
            body=shown.body, status=shown.status, content_type="text/html", charset="utf-8"
        )


def _checkin_qr(request: web.Request) -> Markup:
    """The QR beside the check-in code: it opens the check-in page on a phone."""
    return qr_svg(f"{config_of(request).base_url}/checkin")


def _event(name: str, data: str) -> bytes:
    return f"event: {name}\ndata: {data}\n\n".encode()


SHARED_PARTS = web.AppKey("screen_parts", SharedParts)


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
