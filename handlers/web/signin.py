"""Signing in and out: the one-time link from chat (a GET shows a button, only the POST uses
the link up — a chat's link preview never spends it), the Telegram Mini App, sign-out."""

from __future__ import annotations

import logging
import secrets

from aiohttp import web

from bot.core.websignin import SESSION_LIFETIME, LinkProblem
from bot.services.web import SessionStarted, mini_app_signin, redeem, sign_out, signin_problem
from handlers.web.base import (
    COOKIE,
    CSRF_FIELD,
    PRE_COOKIE,
    PRE_CSRF,
    client_address,
    config_of,
    csrf_ok,
    go,
    page,
    services_of,
)

log = logging.getLogger(__name__)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/signin/{token}", signin_page)
    router.add_post("/signin", signin_post)
    router.add_get("/tma", mini_app_page)
    router.add_post("/tma", mini_app_post)
    router.add_post("/signout", signout_post)
    router.add_get("/signed-out", signed_out_page)


def _with_pre_token(request: web.Request, response: web.Response, token: str) -> web.Response:
    config = config_of(request)
    response.set_cookie(
        PRE_COOKIE,
        token,
        path=config.prefix or "/",
        httponly=True,
        secure=config.secure,
        samesite="Strict",
        max_age=1800,
    )
    return response


def _pre_token_ok(request: web.Request, given: object) -> bool:
    return csrf_ok(request.cookies.get(PRE_COOKIE, ""), given if isinstance(given, str) else None)


async def signin_page(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    problem = await signin_problem(services_of(request), token)
    if problem is not None:
        return page(request, "signin_problem", status=400, problem=problem.value)
    pre = secrets.token_urlsafe(24)
    request[PRE_CSRF] = pre
    return _with_pre_token(request, page(request, "signin", token=token), pre)


def _started(request: web.Request, started: SessionStarted) -> web.HTTPSeeOther:
    config = config_of(request)
    response = go(request, "/")
    # A new cookie at every sign-in (never one the browser brought), for this path only.
    response.set_cookie(
        COOKIE,
        started.token,
        path=config.prefix or "/",
        httponly=True,
        secure=config.secure,
        samesite="Lax",
        max_age=int(SESSION_LIFETIME.total_seconds()),
    )
    response.del_cookie(PRE_COOKIE, path=config.prefix or "/")
    return response


async def signin_post(request: web.Request) -> web.StreamResponse:
    config = config_of(request)
    form = await request.post()
    if not _pre_token_ok(request, form.get(CSRF_FIELD)):
        return page(request, "error", status=403, code=403)
    address = client_address(request)
    if config.signin_failures.full(address):  # too many bad links from this address
        return page(request, "too_many", status=429, minutes=config.signin_failures.wait_minutes())
    token = form.get("token")
    outcome = await redeem(services_of(request), token if isinstance(token, str) else "")
    if isinstance(outcome, LinkProblem):
        log.info("web: a sign-in link was refused (%s)", outcome.value)
        config.signin_failures.record(address)
        return page(request, "signin_problem", status=400, problem=outcome.value)
    if not config.signins.allow(f"person:{outcome.identity_id}"):
        return page(request, "too_many", status=429, minutes=config.signins.wait_minutes())
    raise _started(request, outcome)


async def mini_app_page(request: web.Request) -> web.Response:
    pre = secrets.token_urlsafe(24)
    request[PRE_CSRF] = pre
    return _with_pre_token(request, page(request, "mini_app"), pre)


async def mini_app_post(request: web.Request) -> web.StreamResponse:
    config = config_of(request)
    form = await request.post()
    if not _pre_token_ok(request, form.get(CSRF_FIELD)):
        return page(request, "error", status=403, code=403)
    address = client_address(request)
    if config.signin_failures.full(address):
        return page(request, "too_many", status=429, minutes=config.signin_failures.wait_minutes())
    init_data = form.get("init_data")
    if config.telegram_token is None or not isinstance(init_data, str):
        return page(request, "signin_problem", status=400, problem=LinkProblem.UNKNOWN.value)
    outcome = await mini_app_signin(services_of(request), init_data, config.telegram_token)
    if outcome is None:
        return page(request, "signin_problem", status=400, problem="stranger")
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
    response.del_cookie(COOKIE, path=config.prefix or "/")
    raise response


async def signed_out_page(request: web.Request) -> web.Response:
    return page(request, "signed_out")
