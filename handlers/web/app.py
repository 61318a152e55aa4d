"""The web companion as an aiohttp application, mounted under WEB__URL's path on the bot's
own server (beside the webhooks): security headers, sessions, CSRF, then the thin routes."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from aiohttp import web

from bot.render import TEMPLATES_DIR
from bot.services.app import Services
from bot.services.web import session_actor
from handlers.web import (
    ballots,
    conference,
    console,
    console_audit,
    console_ballots,
    console_bloc,
    console_deadlines,
    console_docs,
    console_reports,
    console_units,
    covenant,
    home,
    receipt,
    report,
    screen,
    signin,
    standings,
)
from handlers.web.base import (
    CLOSING,
    CONFIG,
    COOKIE,
    CSRF_FIELD,
    SERVICES,
    SIGNED_IN,
    Handler,
    WebConfig,
    config_of,
    csrf_ok,
    page,
    route_of,
    services_of,
    signed_in,
)

log = logging.getLogger(__name__)

STATIC_DIR: Path = TEMPLATES_DIR / "web" / "static"
TELEGRAM_WEB = "https://web.telegram.org"
# Uploads are streamed by their route, which checks the form's first part (`csrf`) itself
# with `upload_parts`; every other POST, url-encoded or multipart, is checked here.
STREAMED_UPLOADS = frozenset(
    {
        "/report/file",
        "/console/units/import",
        "/console/covenant/file",
        console_reports.TABLE_UPLOAD,
        console_reports.BEHALF_UPLOAD,
    }
)


def _relative(request: web.Request) -> str:
    return request.path.removeprefix(config_of(request).prefix) or "/"


def _public(relative: str) -> bool:
    """Pages anyone may open: the sign-in steps, the page that says how to get a link, the
    static files, the hall screen (its link is the capability)."""
    return relative in ("/signin", "/tma", "/signed-out") or relative.startswith(
        ("/signin/", "/static/", "/screen/")
    )


def _csp(frame_ancestors: str) -> str:
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'; form-action 'self'; base-uri 'none'; "
        f"frame-ancestors {frame_ancestors}"
    )


def _secure_headers(request: web.Request, response: web.StreamResponse) -> None:
    found = signed_in(request)
    relative = _relative(request)
    # Framed only by Telegram's web client, and only for the Mini App.
    mini_app = relative == "/tma" or (found is not None and found.mini_app)
    response.headers["Content-Security-Policy"] = _csp(TELEGRAM_WEB if mini_app else "'none'")
    if mini_app:
        response.headers.pop("X-Frame-Options", None)
    else:
        response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if not relative.startswith("/static/"):
        # Ballots, receipts and drafts are never kept by a browser or a proxy.
        response.headers["Cache-Control"] = "no-store"


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status == 404 and exc.content_type != "text/html":
            response = page(request, "not_found", status=404)
        elif exc.status >= 400 and exc.content_type != "text/html":
            response = page(request, "error", status=exc.status, code=exc.status)
        else:
            # A redirect (a route raises `go(...)`) answered as a plain response: aiohttp
            # would keep the exception as its response, and the exception's traceback holds
            # every frame of the request, so each POST left a cycle of a few hundred objects
            # for the garbage collector (bench/web.py: full collections of 30–95 ms).
            response = web.Response(
                status=exc.status, reason=exc.reason, body=exc.body, headers=exc.headers
            )
            response.cookies.update(exc.cookies)  # a sign-in's session cookie
    except Exception:
        # The route's pattern, never the path (a sign-in link's token is in its path).
        log.exception("web: %s %s failed", request.method, route_of(request))
        response = page(request, "error", status=500, code=500)
    _secure_headers(request, response)
    return response


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    token = request.cookies.get(COOKIE)
    if token:
        found = await session_actor(services_of(request), token)
        if found is not None:
            request[SIGNED_IN] = found
    if signed_in(request) is None and not _public(_relative(request)):
        response = page(request, "signed_out", status=401)
        if token:  # an ended session: the browser forgets it
            response.del_cookie(COOKIE, path=config_of(request).prefix or "/")
        return response
    return await handler(request)


def _cross_site(request: web.Request, config: WebConfig) -> bool:
    """A request another site made the browser send. With Referrer-Policy no-referrer a
    browser sends `Origin: null` on our own form posts, so a null Origin passes here (the
    CSRF token decides); Sec-Fetch-Site, where the browser sends it, is exact."""
    origin = request.headers.get("Origin")
    if origin is not None and origin not in (config.origin, "null"):
        return True
    return request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none")


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every state change is a POST carrying the session's token; a form posted from another
    site is refused before it is read. The sign-in forms (no session yet) carry a token of
    their own, doubled in a cookie; a streamed upload checks its first part itself."""
    if request.method in ("GET", "HEAD"):
        return await handler(request)
    if request.method != "POST":
        raise web.HTTPMethodNotAllowed(request.method, ["GET", "POST"])
    config = config_of(request)
    if _cross_site(request, config):
        log.warning("web: %s refused: posted from another site", route_of(request))
        return page(request, "error", status=403, code=403)
    relative = _relative(request)
    if _public(relative):  # the sign-in forms check their own token
        return await handler(request)
    if relative in STREAMED_UPLOADS and request.content_type.startswith("multipart/"):
        return await handler(request)
    found = signed_in(request)
    # Url-encoded or multipart alike (a form's enctype is the poster's choice): the token
    # is read before the route sees anything; any other body has no token and is refused.
    form = await request.post()
    given = form.get(CSRF_FIELD)
    if found is None or not csrf_ok(found.csrf, given if isinstance(given, str) else None):
        log.warning("web: %s refused: missing or wrong CSRF token", route_of(request))
        return page(request, "error", status=403, code=403)
    return await handler(request)


def make_web_app(services: Services, config: WebConfig) -> web.Application:
    app = web.Application(middlewares=[headers_middleware, session_middleware, csrf_middleware])
    app[SERVICES] = services
    app[CONFIG] = config
    app[CLOSING] = asyncio.Event()
    app[screen.SHARED_PARTS] = screen.SharedParts()
    modules = (
        signin,
        home,
        report,
        ballots,
        receipt,
        covenant,
        conference,
        standings,
        screen,
        console,
        console_ballots,
        console_bloc,
        console_units,
        console_deadlines,
        console_docs,
        console_audit,
        console_reports,
    )
    for module in modules:
        module.add_routes(app.router)
    app.on_shutdown.append(_closing)
    app.router.add_static("/static/", STATIC_DIR, append_version=True)
    return app


async def _closing(app: web.Application) -> None:
    app[CLOSING].set()


def mount_web(root: web.Application, services: Services, config: WebConfig) -> None:
    """The companion's pages under WEB__URL's path, on the server that takes the webhooks."""
    root.add_subapp(config.prefix, make_web_app(services, config))
    log.info("web companion at %s", config.base_url)
