"""The Zalo channel (design decision 2): updates from long polling or the webhook, each once
(the platform has no offset: a message id seen lately is dropped), onto the same services and
templates as Telegram, answered in plain text.

Private chats and text only: a group gets nothing, an image or sticker gets "text only".
Commands are the Telegram words, with or without the slash and the diacritics
(`/start CODE`, a bare invite code, `help`, `tro giup`, `/me`, `xep hang` …).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import web

from bot.core.invites import code_in_message
from bot.core.models import Platform
from bot.core.text import clean, fold_diacritics
from bot.services.actors import Actor, resolve_actor
from bot.services.app import Services
from bot.services.deadlines import deadlines_view
from bot.services.invites import Joined, MoveNeeded, join
from bot.services.notify import deliver
from bot.services.outcomes import Rejected
from bot.services.standings import standings
from handlers.texts import Ui, join_text, me_text, to_plain
from handlers.zalo.client import ZaloClient, ZaloError, ZaloUpdate, parse_update

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/zalo"  # beside Telegram's webhook, on the same server when both run
SEEN = 10_000  # message ids remembered against duplicate deliveries


class ZaloBot:
    def __init__(self, services: Services, client: ZaloClient) -> None:
        self.services = services
        self.client = client
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = asyncio.Lock()

    # --- intake ------------------------------------------------------------------------------

    def _first_time(self, message_id: str) -> bool:
        if message_id in self._seen:
            return False
        self._seen[message_id] = None
        if len(self._seen) > SEEN:
            self._seen.popitem(last=False)
        return True

    async def handle(self, update: ZaloUpdate) -> bool:
        """Act on one update; False when it was a duplicate or not for the bot."""
        if not self._first_time(update.message.message_id):
            log.info("Zalo update %s delivered again: ignored", update.message.message_id)
            return False
        if not update.is_private or update.message.sender.is_bot:
            return False  # bots live in private chats; a group gets no ballot content
        actor = await resolve_actor(
            self.services,
            platform=Platform.ZALO,
            external_id=update.message.sender.id,
            display_name=update.message.sender.display_name,
            username=None,
        )
        ui = Ui(self.services.renderer, actor.identity.locale)
        if not update.is_text:
            await self.say(update, ui.text("zalo_text_only"))
            return True
        try:
            await self._route(update, actor, ui)
        except ZaloError:
            raise
        except Exception:
            log.exception("Zalo update %s failed", update.message.message_id)
            await self.say(update, ui.text("internal_error"))
        return True

    async def poll(self, stop: asyncio.Event, *, poll_seconds: int = 30) -> None:
        """Long polling until `stop` is set; an idle poll (408) is not an error."""
        while not stop.is_set():
            try:
                update = await self.client.get_update(poll_seconds)
            except ZaloError as exc:
                log.warning("Zalo getUpdates failed (%s); retrying", exc.code)
                await asyncio.sleep(1.0)
                continue
            if update is None:
                continue
            try:
                await self.handle(update)
            except Exception:  # a reply that could not be sent: log it, keep polling
                log.exception("Zalo update %s not answered", update.message.message_id)

    def webhook_app(self, secret: str, path: str = WEBHOOK_PATH) -> web.Application:
        """The webhook endpoint on an application of its own."""
        app = web.Application()
        app.router.add_post(path, self.webhook_handler(secret))
        return app

    def webhook_handler(
        self, secret: str
    ) -> Callable[[web.Request], Coroutine[Any, Any, web.Response]]:
        """The webhook endpoint: the secret header checked in constant time; a body that is
        not an update gets 400 and changes nothing."""

        async def receive(request: web.Request) -> web.Response:
            given = request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), secret.encode()):
                return web.json_response({"ok": False}, status=401)
            try:
                body = await request.json()
            except ValueError:
                return web.json_response({"ok": False}, status=400)
            update = parse_update(body)
            if update is None:
                return web.json_response({"ok": False}, status=400)
            await self.handle(update)
            return web.json_response({"ok": True})

        return receive

    # --- answering ---------------------------------------------------------------------------

    async def say(self, update: ZaloUpdate, html_text: str) -> None:
        await self.client.send_text(update.message.chat.id, to_plain(html_text))

    # --- commands ----------------------------------------------------------------------------

    async def _route(self, update: ZaloUpdate, actor: Actor, ui: Ui) -> None:
        text = clean(update.message.text)
        word, _, rest = text.partition(" ")
        key = fold_diacritics(word.lstrip("/")).replace("_", "")
        two = fold_diacritics(" ".join(text.split()[:2]))
        if key == "start":
            if rest.strip():
                await self._join(update, actor, ui, rest)
            else:
                await self.say(update, ui.text("zalo_welcome", name=actor.identity.display_name))
            return
        code = code_in_message(text) if not text.startswith("/") else None
        if code is not None:
            await self._join(update, actor, ui, code)
            return
        if key in {"help", "trogiup", "huongdan"} or two in {"tro giup", "huong dan"}:
            await self.say(update, ui.text("zalo_help"))
            return
        if key in {"standings", "xephang"} or two == "xep hang":
            view = await standings(self.services, actor)
            await self.say(
                update,
                ui.refusal(view)
                if isinstance(view, Rejected)
                else ui.text("standings_view", view=view),
            )
            return
        if key in {"me", "toi"}:
            await self.say(update, await me_text(ui, self.services, actor))
            return
        if key in {"deadlines", "hanchot"} or two == "han chot":
            deadlines = await deadlines_view(self.services, actor)
            await self.say(
                update,
                ui.refusal(deadlines)
                if isinstance(deadlines, Rejected)
                else ui.text("deadlines_view", view=deadlines),
            )
            return
        phrase = fold_diacritics(text)
        if key in {"report", "baocao"} or phrase.startswith(("bao cao", "nop bao cao")):
            await self.say(update, ui.text("zalo_report_elsewhere"))
            return
        await self.say(update, ui.text("zalo_unknown"))

    async def _join(self, update: ZaloUpdate, actor: Actor, ui: Ui, code: str) -> None:
        outcome = await join(self.services, actor, code)
        if isinstance(outcome, MoveNeeded):
            await self.say(update, ui.text("zalo_move_elsewhere", target=outcome.target.name))
            return
        await self.say(update, join_text(ui, outcome))
        if isinstance(outcome, Joined):
            await deliver(self.services, list(outcome.notices))
