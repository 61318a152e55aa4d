"""Signing in and out: the one-time link from chat (a GET shows a button, only the POST uses
the link up — a chat's link preview never spends it), the Telegram Mini App, sign-out."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

from aiohttp import web

from bot.core.websignin import SESSION_LIFETIME, LinkProblem
from bot.services.web import (
    SessionStarted,
    Throttled,
    mini_app_signin,
    redeem,
    sign_out,
    signin_problem,
)
from handlers.web.base import (
    COOKIE,
    CSRF_FIELD,
    PRE_COOKIE,
    PRE_CSRF,
    Limiter,
    WebConfig,
    client_address,
    config_of,
    csrf_ok,
    go,
    page,
    services_of,
    signed_in,
)

log = logging.getLogger(__name__)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/signin/{token}", signin_page)
    router.add_post("/signin", signin_post)
    router.add_get("/tma", mini_app_page)
    router.add_post("/tma", mini_app_post)
    router.add_post("/signout", signout_post)
    router.add_get("/signed-out", signed_out_page)


# A link pasted with the sentence around it: «…/signin/TOKEN.» (a token has none of these).
_TRAILING = ".,;:!?)]}>»\"'"


def _cookie_header(name: str, value: str, path: str, max_age: int) -> str:
    """A cookie the Mini App can use framed in Telegram's web client: a third-party context,
    so SameSite=None, Secure, and Partitioned (kept apart per top-level site). Python 3.11's
    cookie jar knows no Partitioned, hence the header by hand."""
    return (
        f"{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; Secure; SameSite=None; "
        "Partitioned"
    )


def _set_cookie(
    request: web.Request,
    response: web.StreamResponse,
    name: str,
    value: str,
    *,
    max_age: int,
    samesite: str,
    mini_app: bool,
) -> None:
    config = config_of(request)
    path = config.prefix or "/"
    if mini_app and config.secure:
        response.headers.add("Set-Cookie", _cookie_header(name, value, path, max_age))
        return
    response.set_cookie(
        name,
        value,
        path=path,
        httponly=True,
        secure=config.secure,
        samesite=samesite,
        max_age=max_age,
    )


def _with_pre_token(
    request: web.Request, response: web.Response, token: str, *, mini_app: bool = False
) -> web.Response:
    _set_cookie(
        request, response, PRE_COOKIE, token, max_age=1800, samesite="Strict", mini_app=mini_app
    )
    return response


def _pre_token_ok(request: web.Request, given: object) -> bool:
    return csrf_ok(request.cookies.get(PRE_COOKIE, ""), given if isinstance(given, str) else None)


def _too_many(request: web.Request, limiter: Limiter) -> web.Response:
    return page(request, "too_many", status=429, minutes=limiter.wait_minutes())


async def signin_page(request: web.Request) -> web.Response:
    config = config_of(request)
    address = client_address(request)
    if config.signin_failures.full(address):  # too many bad links from this address
        return _too_many(request, config.signin_failures)
    token = request.match_info["token"].rstrip(_TRAILING)
    problem = await signin_problem(services_of(request), token)
    if problem is not None:
        config.signin_failures.record(address)
        return page(request, "signin_problem", status=400, problem=problem.value)
    pre = secrets.token_urlsafe(32)
    request[PRE_CSRF] = pre
    return _with_pre_token(request, page(request, "signin", token=token), pre)


def _started(request: web.Request, started: SessionStarted) -> web.HTTPSeeOther:
    response = go(request, "/")
    # A new cookie at every sign-in (never one the browser brought), for this path only.
    _set_cookie(
        request,
        response,
        COOKIE,
        started.token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        samesite="Lax",
        mini_app=started.mini_app,
    )
    response.del_cookie(PRE_COOKIE, path=config_of(request).prefix or "/")
    return response


def _may_start(config: WebConfig) -> Callable[[int], bool]:
    """The per-person limit on sign-ins (asked once the link's owner is known)."""
    return lambda identity_id: config.signins.allow(f"person:{identity_id}")


async def signin_post(request: web.Request) -> web.StreamResponse:
    config = config_of(request)
    form = await request.post()
    if not _pre_token_ok(request, form.get(CSRF_FIELD)):
        return page(request, "error", status=403, code=403)
    address = client_address(request)
    if config.signin_failures.full(address):  # too many bad links from this address
        return _too_many(request, config.signin_failures)
    token = form.get("token")
    outcome = await redeem(
        services_of(request),
        token if isinstance(token, str) else "",
        may_start=_may_start(config),
        replacing=request.cookies.get(COOKIE),
    )
    if isinstance(outcome, LinkProblem):
        log.info("web: a sign-in link was refused (%s)", outcome.value)
        config.signin_failures.record(address)
        return page(request, "signin_problem", status=400, problem=outcome.value)
    if isinstance(outcome, Throttled):
        log.warning("web: identity %s signs in too often", outcome.identity_id)
        return _too_many(request, config.signins)
    raise _started(request, outcome)


async def mini_app_page(request: web.Request) -> web.Response:
    pre = secrets.token_urlsafe(32)
    request[PRE_CSRF] = pre
    return _with_pre_token(request, page(request, "mini_app"), pre, mini_app=True)


async def mini_app_post(request: web.Request) -> web.StreamResponse:
    config = config_of(request)
    form = await request.post()
    if not _pre_token_ok(request, form.get(CSRF_FIELD)):
        return page(request, "error", status=403, code=403)
    address = client_address(request)
    if config.signin_failures.full(address):
        return _too_many(request, config.signin_failures)
    init_data = form.get("init_data")
    if config.telegram_token is None or not isinstance(init_data, str):
        return page(request, "signin_problem", status=400, problem=LinkProblem.UNKNOWN.value)
    outcome = await mini_app_signin(
        services_of(request),
        init_data,
        config.telegram_token,
        may_start=_may_start(config),
        replacing=request.cookies.get(COOKIE),
    )
    if outcome is None:
        return page(request, "signin_problem", status=400, problem="stranger")
    if isinstance(outcome, Throttled):
        return _too_many(request, config.signins)
    if not isinstance(outcome, SessionStarted):
        config.signin_failures.record(address)
        log.info("web: Mini App launch data refused (%s)", outcome.value)
        return page(request, "signin_problem", status=400, problem=f"init_{outcome.value}")
    raise _started(request, outcome)


async def signout_post(request: web.Request) -> web.StreamResponse:
    config = config_of(request)
    token = request.cookies.get(COOKIE)
    if token:
        await sign_out(services_of(request), token)
    response = go(request, "/signed-out")
    found = signed_in(request)
    if found is not None and found.mini_app and config.secure:
        # A partitioned cookie is forgotten only by a Set-Cookie that is partitioned too.
        response.headers.add("Set-Cookie", _cookie_header(COOKIE, "", config.prefix or "/", 0))
    else:
        response.del_cookie(COOKIE, path=config.prefix or "/")
    raise response


async def signed_out_page(request: web.Request) -> web.Response:
    return page(request, "signed_out")
