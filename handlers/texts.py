"""Texts every channel speaks (Telegram and Zalo): templates in the member's locale, the
join outcome in words, and chat HTML as plain text for platforms without markup."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.linking import LINK_TTL
from bot.core.models import Locale
from bot.core.text import MAX_MESSAGE, utf16_len
from bot.render import Renderer
from bot.services.actors import Actor
from bot.services.app import Services
from bot.services.blocs import my_memberships
from bot.services.invites import AlreadyMember, Joined, JoinRefused
from bot.services.linking import LinkCode, Linked, LinkOffer
from bot.services.outcomes import Rejected
from bot.services.voting import Accepted
from bot.services.web import issue_signin, sign_out_everywhere, wants_sign_out

_TAGS = re.compile(r"</?(b|i|u|s|code|pre|a|blockquote)( [^>]*)?>")


def to_plain(text: str) -> str:
    """Chat HTML as a person reads it (Zalo shows no markup): tags dropped, entities back."""
    return html.unescape(_TAGS.sub("", text))


@dataclass(frozen=True, slots=True)
class Ui:
    renderer: Renderer
    locale: Locale
    # A chat without buttons (Zalo): templates say what to type instead of what to tap.
    text_only: bool = False
    # The web companion's address (WEB__URL; None: off), which a Zalo text points to where
    # Telegram would name a command.
    web_url: str | None = None

    def text(self, template: str, /, **context: Any) -> str:
        context.setdefault("text_only", self.text_only)
        context.setdefault("web_url", self.web_url)
        return self.renderer.render(self.locale, template, **context)

    def label(self, template: str, /, **context: Any) -> str:
        """A button label: plain text, never HTML (Telegram shows labels as they are)."""
        context.setdefault("text_only", self.text_only)
        context.setdefault("web_url", self.web_url)
        return self.renderer.label(self.locale, template, **context)

    def t(self, key: str) -> str:
        return self.renderer.t(self.locale, key)

    def refusal(self, rejected: Rejected) -> str:
        return self.text(f"refused_{rejected.reason.value}", **rejected.detail)

    def fitting(
        self, template: str, forms: Sequence[str], /, *, fit: int = MAX_MESSAGE, **context: Any
    ) -> str:
        """The first of a template's forms (``form`` in it) that fits one message (or `fit`
        UTF-16 units: a file's caption), for a text that must not be split (it carries
        buttons, or goes with a file); the last form must always fit."""
        for form in forms[:-1]:
            text = self.text(template, form=form, **context)
            if utf16_len(text) <= fit:
                return text
        return self.text(template, form=forms[-1], **context)


def join_text(ui: Ui, outcome: Joined | JoinRefused | AlreadyMember | Rejected) -> str:
    if isinstance(outcome, Joined):
        return ui.text(
            "joined",
            bloc=outcome.bloc.name,
            unit=outcome.unit.name if outcome.unit else None,
            role=outcome.role.value,
            moved_from=outcome.moved_from.name if outcome.moved_from else None,
        )
    if isinstance(outcome, AlreadyMember):
        return ui.text(
            "join_already",
            bloc=outcome.bloc.name,
            unit=outcome.unit.name if outcome.unit else None,
            role=outcome.role.value,
        )
    if isinstance(outcome, JoinRefused):
        minutes = max(1, -(-int(outcome.retry_after.total_seconds()) // 60))
        return ui.text(f"join_{outcome.reason.value}", minutes=minutes)
    return ui.refusal(outcome)


async def me_text(ui: Ui, services: Services, actor: Actor) -> str:
    """/me: who the person is in each bloc (unit, roles, which bloc is current)."""
    rows = [
        {
            "bloc": view.bloc.name,
            "code": view.bloc.code,
            "current": view.current,
            "unit": view.unit.name if view.unit else None,
            "roles": [r.value for r in view.roles],
        }
        for view in await my_memberships(services, actor)
    ]
    return ui.text(
        "me",
        name=actor.identity.display_name,
        # What the administrator puts in ADMIN_IDS: how a person learns their own id.
        account=actor.account.spelled,
        memberships=rows,
        admin=actor.is_admin,
        # Linking is offered where the bot runs on both platforms.
        platform=actor.account.platform.value if len(services.channels) > 1 else None,
    )


def cast_text(ui: Ui, done: Accepted) -> str:
    """The reply to a confirmed vote: recorded (with a secret ballot's receipt, once), or,
    for the unit's very same choice again, that nothing changed."""
    if done.unchanged:
        return ui.text("vote_unchanged", view=done.view)
    return ui.text("vote_done", view=done.view, replaced=done.replaced, receipt=done.receipt)


def link_code_text(ui: Ui, code: LinkCode) -> str:
    minutes = int(LINK_TTL.total_seconds() // 60)
    return ui.text(
        "link_code",
        code=code.code,
        minutes=minutes,
        expires_at=code.expires_at,
        tz=code.tz,
        platform=code.platform.value,
    )


def link_offer_text(ui: Ui, offer: LinkOffer | Rejected) -> str:
    if isinstance(offer, Rejected):
        return ui.refusal(offer)
    return ui.text(
        "link_offer",
        name=offer.name,
        platforms=[p.value for p in offer.platforms],
        blocs=list(offer.blocs),
    )


def linked_text(ui: Ui, outcome: Linked | Rejected) -> str:
    if isinstance(outcome, Rejected):
        return ui.refusal(outcome)
    return ui.text(
        "linked",
        name=outcome.name,
        platforms=[p.value for p in outcome.platforms],
        blocs=list(outcome.blocs),
    )


async def web_text(ui: Ui, services: Services, actor: Actor, rest: str) -> tuple[str, str | None]:
    """/web (Zalo: «web»): a one-time sign-in link, or every web session ended
    (`/web đăng xuất`); returns the text and the link (for a button), if any."""
    if wants_sign_out(rest):
        return ui.text("web_signed_out", count=await sign_out_everywhere(services, actor)), None
    issued = await issue_signin(services, actor)
    if issued is None:
        return ui.text("web_off"), None
    bloc = actor.current_bloc_id
    secretariat = (bloc is not None and actor.is_secretariat(bloc)) or actor.first_bloc_pending
    text = ui.text(
        "web_link",
        url=issued.url,
        expires_at=issued.expires_at,
        tz=issued.tz,
        secretariat=secretariat,
    )
    return text, issued.url
