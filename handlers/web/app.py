"""The web companion as an aiohttp application, mounted under WEB__URL's path on the bot's
own server (beside the webhooks): security headers, sessions, CSRF, then the thin routes."""

from __future__ import annotations

import logging
from pathlib import Path

from aiohttp import web

from bot.render import TEMPLATES_DIR
from bot.services.app import Services
from bot.services.web import session_actor
from handlers.web import (
    ballots,
    conference,
    covenant,
    home,
    receipt,
    report,
    signin,
    standings,
)
from handlers.web.base import (
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
    services_of,
    signed_in,
)

log = logging.getLogger(__name__)

STATIC_DIR: Path = TEMPLATES_DIR / "web" / "static"
# Pages anyone may open: the sign-in steps, the page that says how to get a link, the files.
PUBLIC = ("/signin", "/tma", "/static/", "/signed-out")
TELEGRAM_WEB = "https://web.telegram.org"


def _csp(frame_ancestors: str) -> str:
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'; form-action 'self'; base-uri 'none'; "
        f"frame-ancestors {frame_ancestors}"
    )


def _secure_headers(request: web.Request, response: web.StreamResponse) -> None:
    found = signed_in(request)
    # Framed only by Telegram's web client, and only for the Mini App.
    mini_app = request.path.startswith(f"{config_of(request).prefix}/tma") or (
        found is not None and found.mini_app
    )
    response.headers["Content-Security-Policy"] = _csp(TELEGRAM_WEB if mini_app else "'none'")
    if not mini_app:
        response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if not request.path.startswith(f"{config_of(request).prefix}/static/"):
        # Ballots, receipts and drafts are never kept by a browser or a proxy.
        response.headers["Cache-Control"] = "no-store"


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status == 404 and not exc.text:
            response = page(request, "not_found", status=404)
        elif exc.status >= 400 and exc.content_type != "text/html":
            response = page(request, "error", status=exc.status, code=exc.status)
        else:
            _secure_headers(request, exc)
            raise
    _secure_headers(request, response)
    return response


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    token = request.cookies.get(COOKIE)
    if token:
        found = await session_actor(services_of(request), token)
        if found is not None:
            request[SIGNED_IN] = found
    relative = request.path.removeprefix(config_of(request).prefix) or "/"
    if signed_in(request) is None and not relative.startswith(PUBLIC):
        response = page(request, "signed_out", status=401)
        if token:  # an ended session: the browser forgets it
            response.del_cookie(COOKIE, path=config_of(request).prefix or "/")
        return response
    return await handler(request)


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every state change is a POST carrying the session's token; a form posted from another
    site (its Origin) is refused before it is read. Multipart forms (uploads) are checked by
    their route as the first part arrives; the sign-in forms carry a token of their own."""
    if request.method == "GET" or request.method == "HEAD":
        return await handler(request)
    if request.method != "POST":
        raise web.HTTPMethodNotAllowed(request.method, ["GET", "POST"])
    config = config_of(request)
    origin = request.headers.get("Origin")
    if origin is not None and origin != config.origin and origin != "null":
        return page(request, "error", status=403, code=403)
    found = signed_in(request)
    relative = request.path.removeprefix(config.prefix) or "/"
    if relative.startswith(PUBLIC):  # the sign-in forms check a token of their own
        return await handler(request)
    if found is not None and request.content_type != "multipart/form-data":
        form = await request.post()
        given = form.get(CSRF_FIELD)
        if not csrf_ok(found.csrf, given if isinstance(given, str) else None):
            log.warning("web: %s refused: missing or wrong CSRF token", request.path)
            return page(request, "error", status=403, code=403)
    return await handler(request)


def make_web_app(services: Services, config: WebConfig) -> web.Application:
    app = web.Application(middlewares=[headers_middleware, session_middleware, csrf_middleware])
    app[SERVICES] = services
    app[CONFIG] = config
    for module in (signin, home, report, ballots, receipt, covenant, conference, standings):
        module.add_routes(app.router)
    app.router.add_static("/static/", STATIC_DIR, append_version=True)
    return app


def mount_web(root: web.Application, services: Services, config: WebConfig) -> None:
    """The companion's pages under WEB__URL's path, on the server that takes the webhooks."""
    root.add_subapp(config.prefix, make_web_app(services, config))
    log.info("web companion at %s", config.base_url)
