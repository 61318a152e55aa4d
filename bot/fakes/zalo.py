"""A fake Zalo Bot API server with the platform's quirks (design decision 2, zalo-api notes):
POST JSON to `/bot<TOKEN>/<method>`, replies `{"ok": true, "result": …}` or `{"ok": false,
"error_code", "description"}`; `getUpdates` returns ONE update (no list, no offset) and ends
an idle poll with HTTP 408; every id is a string; `sendMessage` takes 1–2,000 characters;
no buttons, no edits, no documents; `setWebhook` makes the server POST each update to the
URL with the header `X-Bot-Api-Secret-Token`, bare or wrapped in `result`.

Tests and the demo drive it: `send_text` as a user, `fail_next` for a 429 or a 5xx, `sent`
for what the bot said, `deliver_again` for a duplicate delivery.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web

JSON = dict[str, Any]
MAX_TEXT = 2000


@dataclass(frozen=True, slots=True)
class ZaloUser:
    id: str
    display_name: str


@dataclass(frozen=True, slots=True)
class ZaloSent:
    """One thing the bot sent: a text, a photo (by URL) or a chat action."""

    method: str
    chat_id: str
    text: str = ""
    photo: str = ""


@dataclass
class _Failure:
    status: int
    description: str
    times: int


@dataclass
class FakeZalo:
    token: str
    bot_name: str = "Thi Đua Bot"
    wrap_webhook: bool = False  # deliver webhook bodies as {"result": update}
    sent: list[ZaloSent] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)  # every method called, in order

    def __post_init__(self) -> None:
        self._updates: deque[JSON] = deque()
        self._arrived = asyncio.Event()
        self._ids = itertools.count(1)
        self._failures: dict[str, list[_Failure]] = {}
        self._webhook: tuple[str, str] | None = None
        self._runner: web.AppRunner | None = None
        self._port = 0
        self.webhook_replies: list[int] = []  # HTTP status of each webhook delivery

    # --- server ------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

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
        if self._runner is None:
            raise RuntimeError("FakeZalo is not started")
        return f"http://127.0.0.1:{self._port}"

    # --- what tests do -----------------------------------------------------------------------

    def fail_next(
        self, method: str, status: int, *, times: int = 1, description: str = ""
    ) -> None:
        """The next `times` calls of `method` answer `status` (429, 500, …)."""
        text = description or {429: "Too Many Requests"}.get(status, "Internal Server Error")
        self._failures.setdefault(method, []).append(_Failure(status, text, times))

    def update(self, user: ZaloUser, text: str, *, event: str = "message.text.received") -> JSON:
        message_id = f"m{next(self._ids)}"
        return {
            "event_name": event,
            "message": {
                "message_id": message_id,
                "date": 1_700_000_000_000 + int(message_id[1:]),
                "text": text,
                "chat": {"id": user.id, "chat_type": "PRIVATE"},
                "from": {"id": user.id, "display_name": user.display_name, "is_bot": False},
            },
        }

    async def send_text(self, user: ZaloUser, text: str) -> JSON:
        """A user writes to the bot: queued for getUpdates, or POSTed to the webhook."""
        return await self.deliver(self.update(user, text))

    async def deliver(self, update: JSON) -> JSON:
        if self._webhook is None:
            self._updates.append(update)
            self._arrived.set()
            return update
        url, secret = self._webhook
        body = {"ok": True, "result": update} if self.wrap_webhook else update
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, json=body, headers={"X-Bot-Api-Secret-Token": secret}) as reply,
        ):
            self.webhook_replies.append(reply.status)
        return update

    async def deliver_again(self, update: JSON) -> None:
        """The platform delivers the same update twice (it has no offset to acknowledge)."""
        await self.deliver(update)

    def texts_to(self, user: ZaloUser) -> list[str]:
        return [s.text for s in self.sent if s.chat_id == user.id and s.method == "sendMessage"]

    # --- the API -----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.calls.append(method)
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        failures = self._failures.get(method)
        if failures:
            failure = failures[0]
            failure.times -= 1
            if failure.times <= 0:
                failures.pop(0)
            return _error(failure.status, failure.description)
        try:
            payload = await request.json() if request.can_read_body else {}
        except ValueError:
            return _error(400, "Bad Request: body is not JSON")
        if not isinstance(payload, dict):
            return _error(400, "Bad Request: body is not an object")
        handler = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendChatAction": self._send_chat_action,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
        }.get(method)
        if handler is None:
            return _error(404, f"Not Found: method {method}")
        return await handler(payload)

    async def _get_me(self, _: JSON) -> web.Response:
        return _ok({"id": "bot1", "account_name": "thidua_bot", "display_name": self.bot_name})

    async def _get_updates(self, payload: JSON) -> web.Response:
        if self._webhook is not None:
            return _error(409, "Conflict: a webhook is set")
        timeout = min(float(payload.get("timeout", 30) or 0), 60.0)
        if not self._updates:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), timeout)
            except TimeoutError:
                return _error(408, "Request Timeout")
        if not self._updates:
            return _error(408, "Request Timeout")
        return _ok(self._updates.popleft())  # ONE update, not a list

    async def _send_message(self, payload: JSON) -> web.Response:
        chat_id, text = payload.get("chat_id"), payload.get("text")
        if not isinstance(chat_id, str) or not chat_id:
            return _error(400, "Bad Request: chat_id must be a string")
        if not isinstance(text, str) or not 1 <= len(text) <= MAX_TEXT:
            return _error(400, f"Bad Request: text must be 1-{MAX_TEXT} characters")
        self.sent.append(ZaloSent("sendMessage", chat_id, text=text))
        return _ok({"message_id": f"b{next(self._ids)}", "date": 1_700_000_000_000})

    async def _send_photo(self, payload: JSON) -> web.Response:
        chat_id, photo = payload.get("chat_id"), payload.get("photo")
        if not isinstance(chat_id, str) or not isinstance(photo, str) or not photo:
            return _error(400, "Bad Request: chat_id and photo (a URL) are required")
        caption = payload.get("caption") or ""
        self.sent.append(ZaloSent("sendPhoto", chat_id, text=str(caption), photo=photo))
        return _ok({"message_id": f"b{next(self._ids)}"})

    async def _send_chat_action(self, payload: JSON) -> web.Response:
        self.sent.append(ZaloSent("sendChatAction", str(payload.get("chat_id", ""))))
        return _ok(True)

    async def _set_webhook(self, payload: JSON) -> web.Response:
        url, secret = payload.get("url"), payload.get("secret_token")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return _error(400, "Bad Request: url")
        if not isinstance(secret, str) or not 8 <= len(secret) <= 256:
            return _error(400, "Bad Request: secret_token must be 8-256 characters")
        self._webhook = (url, secret)
        return _ok({"url": url})

    @property
    def webhook_url(self) -> str | None:
        """The URL updates are POSTed to, once setWebhook has been answered (None: polled)."""
        return None if self._webhook is None else self._webhook[0]

    async def _delete_webhook(self, _: JSON) -> web.Response:
        self._webhook = None
        return _ok(True)

    async def _get_webhook_info(self, _: JSON) -> web.Response:
        if self._webhook is None:
            return _error(404, "Not Found: no webhook")
        return _ok({"url": self._webhook[0]})


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": status, "description": description}, status=status
    )
