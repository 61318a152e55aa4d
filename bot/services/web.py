"""The web companion's sign-in: one-time links asked for in chat, Telegram Mini App launch
data, sessions that every worker knows (rows in the database), sign-out here or everywhere."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.core.models import Account, Platform
from bot.core.text import clean, fold_diacritics
from bot.core.websignin import (
    SESSION_IDLE,
    SESSION_LIFETIME,
    SIGN_OUT_WORDS,
    SIGNIN_TTL,
    TOKEN_BYTES,
    TOUCH_EVERY,
    InitDataProblem,
    LinkProblem,
    check_init_data,
    encode_token,
    hash_token,
    link_problem,
    session_alive,
    well_formed,
)
from bot.services.actors import Actor
from bot.services.app import Services
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)


def wants_sign_out(rest: str) -> bool:
    """`/web đăng xuất` (or `web thoát` on Zalo): end every web session of the person."""
    return fold_diacritics(clean(rest)).strip(" .!") in SIGN_OUT_WORDS


@dataclass(frozen=True, slots=True)
class SignInIssued:
    token: str  # goes into the link only; never stored, never logged
    expires_at: datetime
    tz: str
    base_url: str

    @property
    def url(self) -> str:
        return f"{self.base_url}/signin/{self.token}"

    @property
    def mini_app_url(self) -> str | None:
        """Telegram opens Mini Apps from https addresses only."""
        return f"{self.base_url}/tma" if self.base_url.startswith("https://") else None


async def issue_signin(services: Services, actor: Actor) -> SignInIssued | None:
    """/web in chat: a link that signs this person in once, within ten minutes (None: the
    web companion is not turned on)."""
    if services.web_url is None:
        return None
    now = services.clock.now()
    # Not services.token_bytes (seeded in the demo): a link must never be predictable.
    token = encode_token(secrets.token_bytes(TOKEN_BYTES))
    expires_at = now + SIGNIN_TTL
    async with services.db.uow() as uow:
        await uow.web.add_signin(
            hash_token("signin", token), actor.identity.id, actor.account, now, expires_at
        )
        # Links dead for a day are not even worth an "expired" page.
        await uow.web.forget_signins(now - SESSION_LIFETIME)
        tz = "Asia/Ho_Chi_Minh"
        if actor.current_bloc_id is not None:
            tz = (await uow.blocs.require(actor.current_bloc_id)).timezone
        await uow.commit()
    return SignInIssued(token, expires_at, tz, services.web_url)


@dataclass(frozen=True, slots=True)
class SessionStarted:
    token: str  # the cookie's value
    csrf: str
    identity_id: int
    mini_app: bool


@dataclass(frozen=True, slots=True)
class Throttled:
    """The person signed in too often lately: nothing was spent, no session started."""

    identity_id: int


# Asked inside the sign-in transaction, once the person is known: may they start one more
# session now? (The per-person limit lives with the web routes; False rolls everything back,
# so the link stays usable once the wait is over.)
MayStart = Callable[[int], bool]


def _always(_identity_id: int) -> bool:
    return True


async def _start_session(
    uow: UnitOfWork,
    identity_id: int,
    account: Account,
    now: datetime,
    *,
    mini_app: bool,
    replacing: str | None,
) -> SessionStarted:
    """A new session, its cookie never seen before; the session the browser brought (another
    person's, or a stale one of this person) ends, so one browser holds one session."""
    token = encode_token(secrets.token_bytes(TOKEN_BYTES))
    csrf = encode_token(secrets.token_bytes(TOKEN_BYTES))
    if replacing is not None and well_formed(replacing):
        await uow.web.end_session(hash_token("session", replacing))
    await uow.web.add_session(
        hash_token("session", token), identity_id, account, csrf, now, mini_app=mini_app
    )
    await uow.web.end_stale(now - SESSION_IDLE, now - SESSION_LIFETIME)
    return SessionStarted(token, csrf, identity_id, mini_app)


async def signin_problem(services: Services, token: str) -> LinkProblem | None:
    """What the sign-in page says before the button is pressed (a GET changes nothing)."""
    if not well_formed(token):
        return LinkProblem.UNKNOWN
    async with services.db.uow(read_only=True) as uow:
        link = await uow.web.signin(hash_token("signin", token))
    return link_problem(
        found=link is not None,
        used_at=link.used_at if link else None,
        expires_at=link.expires_at if link else None,
        now=services.clock.now(),
    )


async def redeem(
    services: Services,
    token: str,
    *,
    may_start: MayStart = _always,
    replacing: str | None = None,
) -> SessionStarted | LinkProblem | Throttled:
    """The sign-in button: the link is used up and a fresh session starts, in one transaction
    (a new cookie every time: a session id planted before sign-in is never promoted)."""
    now = services.clock.now()
    if not well_formed(token):
        return LinkProblem.UNKNOWN
    async with services.db.uow() as uow:
        # One UPDATE … WHERE used_at IS NULL AND expires_at > now: of two presses, one wins.
        used = await uow.web.use_signin(hash_token("signin", token), now)
        if used is None:
            link = await uow.web.signin(hash_token("signin", token))
            return (
                link_problem(
                    found=link is not None,
                    used_at=link.used_at if link else None,
                    expires_at=link.expires_at if link else None,
                    now=now,
                )
                or LinkProblem.USED
            )
        if not may_start(used.identity_id):
            await uow.rollback()
            return Throttled(used.identity_id)
        started = await _start_session(
            uow, used.identity_id, used.account, now, mini_app=False, replacing=replacing
        )
        await uow.commit()
    log.info("web: identity %s signed in by a link", used.identity_id)
    return started


async def mini_app_signin(
    services: Services,
    init_data: str,
    bot_token: str,
    *,
    may_start: MayStart = _always,
    replacing: str | None = None,
) -> SessionStarted | InitDataProblem | Throttled | None:
    """The Telegram Mini App: its launch data, checked; None when the Telegram account has
    never spoken to the bot (nobody to sign in)."""
    now = services.clock.now()
    user = check_init_data(init_data, bot_token, now)
    if isinstance(user, InitDataProblem):
        return user
    account = Account(Platform.TELEGRAM, user.telegram_id)
    async with services.db.uow() as uow:
        identity = await uow.identities.by_account(account.platform, account.external_id)
        if identity is None:
            return None
        if not may_start(identity.id):
            return Throttled(identity.id)
        started = await _start_session(
            uow, identity.id, account, now, mini_app=True, replacing=replacing
        )
        await uow.commit()
    log.info("web: identity %s signed in from the Mini App", identity.id)
    return started


@dataclass(frozen=True, slots=True)
class SignedIn:
    actor: Actor
    csrf: str
    mini_app: bool


async def session_actor(services: Services, token: str) -> SignedIn | None:
    """The person behind a session cookie, or None (unknown, ended, idle too long)."""
    if not well_formed(token):
        return None
    now = services.clock.now()
    async with services.db.uow(read_only=True) as uow:
        session = await uow.web.session(hash_token("session", token))
        if session is None:
            return None
        if not session_alive(last_seen=session.last_seen, created_at=session.created_at, now=now):
            return None
        # The account, its identity and memberships in one statement (as every chat update).
        found = await uow.identities.sender(session.account.platform, session.account.external_id)
        if found is None or found[0].id != session.identity_id:
            return None  # the account is gone, or was linked to another identity since
        actor = Actor(
            found[0], session.account, tuple(found[3]), session.account in services.admins
        )
    if now - session.last_seen >= TOUCH_EVERY:
        async with services.db.uow() as uow:
            await uow.web.touch(session.id, now)
            await uow.commit()
    return SignedIn(actor, session.csrf, session.mini_app)


async def sign_out(services: Services, token: str) -> None:
    async with services.db.uow() as uow:
        await uow.web.end_session(hash_token("session", token))
        await uow.commit()


async def sign_out_everywhere(services: Services, actor: Actor) -> int:
    """From chat: every web session of this person ends now; returns how many there were."""
    async with services.db.uow() as uow:
        ended = await uow.web.end_sessions_of(actor.identity.id)
        await uow.commit()
    log.info("web: identity %s signed out everywhere (%d sessions)", actor.identity.id, ended)
    return ended
