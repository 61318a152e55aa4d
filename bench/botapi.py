"""A minimal fake Bot API for load: it answers what a bot calls with plausible JSON and
records, per chat, when the bot's reply arrived.

`bot.fakes.telegram.FakeTelegram` is faithful (it keeps every message, checks HTML, edits
and callback ids, and delivers webhook updates one at a time); under a thousand requests a
second that bookkeeping is what would be measured. Here nothing is kept but counters, and a
client that posts an update awaits `expect(chat)`: the future is resolved with
`time.perf_counter()` when a message for that chat (sendMessage, editMessageText, a document
or photo) reaches the fake. Replies are matched to waiters of one chat in order.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter, deque
from types import TracebackType
from typing import Any, Self

from aiohttp import web

JSON = dict[str, Any]
REPLY_METHODS = frozenset(
    {"sendmessage", "editmessagetext", "senddocument", "sendphoto", "editmessagereplymarkup"}
)
_TRUE = json.dumps({"ok": True, "result": True})


class BotApi:
    def __init__(self, token: str, *, bot_id: int, username: str = "thidua_bench_bot") -> None:
        self.token, self.bot_id, self.username = token, bot_id, username
        self.calls: Counter[str] = Counter()  # method (lower case) -> calls
        self.unmatched = 0  # replies that no waiter expected (e.g. a second message)
        self.texts: Counter[str] = Counter()  # the start of each reply's text, to check them
        self.webhook: str | None = None
        self._waiters: dict[int, deque[asyncio.Future[float]]] = {}
        self._message_ids = itertools.count(1_000)
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._bot_user: JSON = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Thi đua bench",
            "username": username,
        }

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def replies(self) -> int:
        return sum(n for method, n in self.calls.items() if method in REPLY_METHODS)

    def expect(self, chat_id: int) -> asyncio.Future[float]:
        """A future resolved with the arrival time of the next reply to `chat_id`."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(chat_id, deque()).append(future)
        return future

    def forget(self, chat_id: int, future: asyncio.Future[float]) -> None:
        """Stop waiting (a timed-out update): a late reply then goes to no one."""
        waiting = self._waiters.get(chat_id)
        if waiting is not None and future in waiting:
            waiting.remove(future)

    def reset(self) -> None:
        self.calls.clear()
        self.texts.clear()
        self.unmatched = 0
        for waiting in self._waiters.values():
            for future in waiting:
                future.cancel()
        self._waiters.clear()

    def _arrived(self, chat_id: int) -> None:
        now = time.perf_counter()
        waiting = self._waiters.get(chat_id)
        while waiting:
            future = waiting.popleft()
            if not future.done():
                future.set_result(now)
                return
        self.unmatched += 1

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401}, status=401)
        method = request.match_info["method"].lower()
        self.calls[method] += 1
        params: dict[str, str] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                params.update({k: str(v) for k, v in (await request.json()).items()})
            else:
                params.update(
                    {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
                )
        result: object = True
        if method == "getme":
            result = {**self._bot_user, "can_join_groups": True}
        elif method == "setwebhook":
            self.webhook = params.get("url")
        elif method == "getwebhookinfo":
            result = {"url": self.webhook or "", "pending_update_count": 0}
        elif method in REPLY_METHODS:
            chat_id = int(params.get("chat_id", "0"))
            self._arrived(chat_id)
            self.texts[
                (params.get("text") or params.get("caption") or "").split("\n")[0][:40]
            ] += 1
            result = self._message(chat_id, params)
        elif method in {"getmycommands", "getupdates"}:
            result = []
        if result is True:
            return web.Response(text=_TRUE, content_type="application/json")
        return web.json_response({"ok": True, "result": result})

    def _message(self, chat_id: int, params: dict[str, str]) -> JSON:
        message_id = params.get("message_id")
        message: JSON = {
            "message_id": int(message_id) if message_id else next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Bench"},
            "from": self._bot_user,
            "text": params.get("text") or params.get("caption") or "…",
        }
        if "reply_markup" in params:
            message["reply_markup"] = json.loads(params["reply_markup"])
        return message
