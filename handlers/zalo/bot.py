"""The Zalo channel (design decision 2): updates from long polling or the webhook, each once
(the platform has no offset: a message id seen lately is dropped), onto the same services and
templates as Telegram, answered in plain text.

Private chats and text only: a group gets nothing, an image or sticker gets "text only".
Commands are the Telegram words, with or without the slash and the diacritics
(`/start CODE`, a bare invite code, `help`, `tro giup`, `/me`, `xep hang`, `bo phieu 3 2` …,
see `commands.py`); menus are numbered and answered by number (`flows.py`).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiohttp import web

from bot.core.invites import code_in_message
from bot.core.models import Platform
from bot.core.sealing import RECEIPT_SHAPE
from bot.core.text import clean
from bot.logcontext import UPDATE
from bot.services.actors import Actor, resolve_actor
from bot.services.app import Services
from bot.services.charts import standings_png
from bot.services.deadlines import deadlines_view
from bot.services.invites import JoinRefused, MoveNeeded, join
from bot.services.outcomes import Rejected
from bot.services.reports import current_table
from bot.services.standings import standings
from handlers.texts import Ui, join_text, me_text, to_plain, web_text
from handlers.zalo import flows
from handlers.zalo.charts import CHARTS_PATH, ChartShelf
from handlers.zalo.client import MAX_TEXT, ZaloClient, ZaloError, ZaloUpdate, parse_update
from handlers.zalo.commands import (
    Command,
    is_confirm,
    is_no,
    is_yes,
    parse_command,
    parse_numbers,
)
from handlers.zalo.conversation import Conversation
from handlers.zalo.flows import Chat
from storage.ledger import MemoryLedger, UpdateLedger

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/zalo"  # beside Telegram's webhook, on the same server when both run
SEEN = 10_000  # message ids remembered against duplicate deliveries
STRANGER_ANSWERS = 10  # answers per window to someone in no bloc (enough to join)
STRANGER_WINDOW = 3600.0  # seconds


class ZaloBot:
    def __init__(
        self,
        services: Services,
        client: ZaloClient,
        storage: BaseStorage | None = None,
        charts: ChartShelf | None = None,
        ledger: UpdateLedger | None = None,
    ) -> None:
        self.services = services
        self.client = client
        self.charts = charts  # where chart images are served from (ZALO__FILES_URL)
        # Where each conversation stands (shared with Telegram's FSM storage: Redis when
        # several workers serve the bot, else this process's memory).
        self.storage = storage or MemoryStorage()
        # Message ids handled lately (Redis when several workers share the bot): a message
        # delivered again is dropped.
        self.ledger = ledger or MemoryLedger(SEEN)
        # One person's messages are answered one at a time ("1" typed twice confirms once).
        self._locks: dict[str, asyncio.Lock] = {}
        # Answers to people who belong to no bloc, per sender: the monthly quota is not
        # spent on strangers (they get a few answers, then one notice and silence until the
        # window frees an answer; an invite or link code is read whatever the budget).
        self._strangers: dict[str, deque[float]] = {}
        self._told: set[str] = set()  # strangers told the bot goes quiet, this window

    # --- intake ------------------------------------------------------------------------------

    async def handle(self, update: ZaloUpdate) -> bool:
        """Act on one update; False when it was a duplicate or not for the bot."""
        token = UPDATE.set(f"zalo:{update.message.message_id}")
        try:
            if not await self.ledger.first(f"zalo:{update.message.message_id}"):
                log.info("Zalo update delivered again: ignored")
                return False
            if not update.is_private or update.message.sender.is_bot:
                return False  # bots live in private chats; a group gets no ballot content
            sender = update.message.sender.id
            lock = self._locks.setdefault(sender, asyncio.Lock())
            try:
                async with lock:  # one person's messages one at a time, in order
                    await self._handle(update, sender)
            finally:
                if not lock.locked() and len(self._locks) > SEEN:
                    self._locks.pop(sender, None)
            return True
        finally:
            UPDATE.reset(token)

    async def _handle(self, update: ZaloUpdate, sender: str) -> None:
        actor = await resolve_actor(
            self.services,
            platform=Platform.ZALO,
            external_id=sender,
            display_name=update.message.sender.display_name,
            username=None,
        )
        ui = Ui(
            self.services.renderer,
            actor.identity.locale,
            text_only=True,
            web_url=self.services.web_url,
        )
        if not update.is_text:
            if not await self._over_budget(update, actor, ui):
                await self.say(update, ui.text("zalo_text_only"))
            return
        try:
            await self._route(update, actor, ui)
        except ZaloError:
            raise
        except Exception:
            log.exception("Zalo update %s failed", update.message.message_id)
            await self.say(update, ui.text("internal_error"))

    async def _over_budget(self, update: ZaloUpdate, actor: Actor, ui: Ui) -> bool:
        """Whether this message of someone in no bloc goes unanswered: past the answers of the
        window they are told once that the bot goes quiet, then nothing (never silently)."""
        if actor.memberships:
            return False
        sender = update.message.sender.id
        now = time.monotonic()
        answered = self._strangers.setdefault(sender, deque())
        while answered and now - answered[0] > STRANGER_WINDOW:
            answered.popleft()
        if len(self._strangers) > SEEN:
            self._strangers.pop(next(iter(self._strangers)))
        if len(answered) < STRANGER_ANSWERS:
            answered.append(now)
            self._told.discard(sender)
            return False
        if sender not in self._told:
            if len(self._told) > SEEN:
                self._told.clear()
            self._told.add(sender)
            minutes = max(1, -(-int(STRANGER_WINDOW - (now - answered[0])) // 60))
            await self.say(update, ui.text("zalo_stranger_quiet", minutes=minutes))
        log.info("Zalo sender without a bloc over its answer budget: not answered")
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
        self.mount(app, secret, path)
        return app

    def mount(self, app: web.Application, secret: str, path: str = WEBHOOK_PATH) -> None:
        """The webhook endpoint, and the charts Zalo fetches, on an existing application."""
        app.router.add_post(path, self.webhook_handler(secret))
        if self.charts is not None:
            app.router.add_get(CHARTS_PATH, self.charts.handler())

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
            except (ValueError, LookupError, RecursionError):
                # Not UTF-8 or not JSON; a charset nobody knows; nested deeper than the
                # parser goes (these two were a 500 and a logged traceback).
                return web.json_response({"ok": False}, status=400)
            update = parse_update(body)
            if update is None:
                return web.json_response({"ok": False}, status=400)
            try:
                await self.handle(update)
            except ZaloError as exc:
                # Received and recorded as handled, but the answer could not be sent: a 500
                # would only make Zalo post it again, to be ignored as a duplicate.
                log.warning("Zalo update %s not answered: %s", update.message.message_id, exc)
            return web.json_response({"ok": True})

        return receive

    # --- answering ---------------------------------------------------------------------------

    async def say(self, update: ZaloUpdate, html_text: str) -> None:
        await self.client.send_text(update.message.chat.id, to_plain(html_text))

    # --- commands ----------------------------------------------------------------------------

    async def _route(self, update: ZaloUpdate, actor: Actor, ui: Ui) -> None:
        text = clean(update.message.text)
        conv = Conversation(self.storage, actor.identity.id, self.services.clock)

        # A vote left waiting for its confirmation is never dropped silently: the first answer
        # to whatever dropped it starts by saying it was not cast.
        dropped: list[str] = []

        async def say(html_text: str) -> None:
            if dropped:
                html_text = f"{dropped.pop()}\n\n{html_text}"
            await self.say(update, html_text)

        chat = Chat(self.services, actor, ui, conv, say)
        try:
            await self._read(update, chat, text, dropped)
        finally:
            if dropped:
                await self.say(update, dropped.pop())

    async def _read(self, update: ZaloUpdate, chat: Chat, text: str, dropped: list[str]) -> None:
        actor, ui, conv, say = chat.actor, chat.ui, chat.conv, chat.say
        state, expired = await conv.get()
        command = parse_command(text)
        menu = state.get("menu")
        # An invite or link code is read before any budget: a valid one must never wait.
        reads_code = (
            code_in_message(text) is not None
            or (command is not None and command.name in {"start", "link"} and command.rest)
            or menu == "link"
        )
        if not reads_code and await self._over_budget(update, actor, ui):
            return
        if (
            expired
            and command is None
            and (parse_numbers(text) or is_yes(text) or is_confirm(text) or is_no(text))
        ):
            # "1" long after the menu: it confirms nothing (a vote above all).
            await say(ui.text("zalo_menu_expired"))
            return
        if (note := flows.not_cast(ui, expired or {})) is not None:
            dropped.append(note)  # the confirmation expired unanswered
        if menu is not None:
            # A menu is waiting: its answer first. Where any text is an answer (an opinion,
            # a receipt code) only a "/" command or «huy» interrupts it; elsewhere a command,
            # an invite code or a receipt code does.
            if menu in flows.FREE_TEXT:
                interrupts = command is not None and (command.slash or command.name == "cancel")
            else:
                interrupts = command is not None or self._code_like(text)
            if not interrupts and await flows.answer(chat, state, text):
                return
            if command is None and not self._code_like(text):
                # Not an answer and not a command: the menu stays, and says what it expects.
                await say(ui.text("zalo_pick_number", typed=text, choices=[]))
                return
            if (note := flows.not_cast(ui, state)) is not None:
                dropped.append(note)
            await conv.clear()
        if command is not None:
            await self._command(update, chat, command)
            return
        code = code_in_message(text)
        if code is not None:
            await self._join(update, chat, code)
            return
        if RECEIPT_SHAPE.match(text):
            await flows.check(chat, text)
            return
        await say(ui.text("zalo_unknown"))

    @staticmethod
    def _code_like(text: str) -> bool:
        """An invite or a receipt code: read as such even while a menu waits."""
        return code_in_message(text) is not None or RECEIPT_SHAPE.match(text) is not None

    async def _command(self, update: ZaloUpdate, chat: Chat, command: Command) -> None:
        actor, ui, name, rest = chat.actor, chat.ui, command.name, command.rest
        if name == "start":
            if rest.strip():
                await self._join(update, chat, rest)
            else:
                await chat.say(ui.text("zalo_welcome", name=actor.identity.display_name))
        elif name == "help":
            await chat.say(ui.text("zalo_help"))
        elif name == "cancel":
            await chat.say(ui.text("wizard_cancelled"))
        elif name == "standings":
            view = await standings(self.services, actor)
            if isinstance(view, Rejected):
                await chat.say(ui.refusal(view))
                return
            await chat.say(ui.text("standings_view", view=view))
            if self.charts is not None and view.rows:
                png = await asyncio.to_thread(standings_png, view, locale=ui.locale.value)
                caption = to_plain(ui.text("standings_chart", view=view))
                url = self.charts.put(png)
                await self.client.send_photo(update.message.chat.id, url, caption[:MAX_TEXT])
        elif name == "me":
            await chat.say(await me_text(ui, self.services, actor))
        elif name == "web":
            await chat.say((await web_text(ui, self.services, actor, rest))[0])
        elif name == "criteria":
            current = await current_table(self.services, actor)
            await chat.say(
                ui.refusal(current)
                if isinstance(current, Rejected)
                else ui.text(
                    "criteria_view",
                    table=current.table,
                    version=current.version,
                    year=current.year,
                )
            )
        elif name == "deadlines":
            deadlines = await deadlines_view(self.services, actor)
            await chat.say(
                ui.refusal(deadlines)
                if isinstance(deadlines, Rejected)
                else ui.text("deadlines_view", view=deadlines)
            )
        elif name == "report":
            await chat.say(ui.text("zalo_report_elsewhere", web=self.services.web_url is not None))
        elif name == "score":
            await flows.score(chat)
        elif name == "vote":
            await flows.vote(chat, rest)
        elif name == "check":
            await flows.check(chat, rest)
        elif name == "covenant":
            await flows.covenant(chat, rest)
        elif name == "checkin":
            await flows.checkin(chat, rest)
        elif name == "link":
            await flows.link_command(chat, rest)
        elif name == "lang":
            await flows.lang(chat, rest)
        elif name == "ack":
            await flows.ack(chat, rest)
        elif name == "bloc":
            await flows.choose_bloc(chat, rest)
        elif name == "telegram_only":
            web = self.services.web_url is not None
            await chat.say(ui.text("zalo_telegram_only", command=rest, web=web))
        else:  # a command word of Telegram's with no Zalo flow
            await chat.say(ui.text("zalo_unknown"))

    async def _join(self, update: ZaloUpdate, chat: Chat, code: str) -> None:
        actor, ui = chat.actor, chat.ui
        outcome = await join(self.services, actor, code)
        if isinstance(outcome, JoinRefused) and await self._over_budget(update, actor, ui):
            return  # read before the budget, but a wrong code is answered within it
        if isinstance(outcome, MoveNeeded):
            # The choice waits on the server (pending_join): «1» moves, «2» stays.
            await chat.conv.set("move")
            await chat.say(
                ui.text(
                    "join_move_confirm",
                    current=outcome.current.name,
                    target=outcome.target.name,
                    bloc=outcome.bloc.name,
                )
            )
            return
        await chat.say(join_text(ui, outcome))
