"""A thin async client for the Zalo Bot API (httpx; the PyPI SDKs are not usable).

`https://bot-api.zaloplatforms.com/bot<TOKEN>/<method>` (the base is `ZALO__API_URL`), POST
JSON, `{"ok": true, "result": …}`. The token sits in the URL path, so it is never logged:
httpx's own request lines go through `redact_token` and our messages name methods only.
`getUpdates` returns one update or ends an idle poll with HTTP 408 (not an error: None);
429 and 5xx are retried with backoff; texts longer than 2,000 characters are split at line
boundaries (bot/core/text.split_message). Each message the platform accepts (`sendMessage`,
`sendPhoto`) is reported to the `on_sent` hook — the monthly quota's counter — whoever sent
it: a direct answer, or the outbox. The client itself keeps no count and touches no database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.core.text import split_message

log = logging.getLogger(__name__)

MAX_TEXT = 2000
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
COUNTED = frozenset({"sendMessage", "sendPhoto"})  # what the monthly quota counts

SentHook = Callable[[int], Awaitable[None]]


class ZaloChat(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    chat_type: str = "PRIVATE"


class ZaloFrom(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    id: str
    display_name: str = ""
    is_bot: bool = False


class ZaloMessage(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    message_id: str
    date: int = 0
    text: str = ""
    chat: ZaloChat
    sender: ZaloFrom = Field(alias="from")


class ZaloUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    event_name: str
    message: ZaloMessage

    @property
    def is_text(self) -> bool:
        return self.event_name == "message.text.received"

    @property
    def is_private(self) -> bool:
        return self.message.chat.chat_type.upper() == "PRIVATE"


def parse_update(body: Any) -> ZaloUpdate | None:
    """An update as the platform sends it: bare, or wrapped in `result`; None if it is not
    one (the webhook answers 400 and nothing else happens)."""
    if (
        isinstance(body, dict)
        and "event_name" not in body
        and isinstance(body.get("result"), dict)
    ):
        body = body["result"]
    try:
        return ZaloUpdate.model_validate(body)
    except ValidationError:
        return None


class ZaloError(Exception):
    def __init__(self, method: str, code: int, description: str) -> None:
        super().__init__(f"Zalo {method} failed: {code} {description}")
        self.method, self.code, self.description = method, code, description


class _RedactToken(logging.Filter):
    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token and self.token in record.getMessage():
            record.msg = record.getMessage().replace(self.token, "<ZALO_TOKEN>")
            record.args = ()
        return True


def redact_token(token: str) -> None:
    """httpx and httpcore log request URLs (which hold the token): rewrite those lines."""
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactToken) and f.token == token for f in logger.filters):
            logger.addFilter(_RedactToken(token))


class ZaloClient:
    def __init__(
        self,
        token: str,
        base_url: str,
        *,
        http: httpx.AsyncClient | None = None,
        attempts: int = 5,
        backoff: float = 0.5,
        on_sent: SentHook | None = None,
    ) -> None:
        self._token = token
        self._base = base_url.rstrip("/")
        self._http = http or httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=70.0))
        self._own_http = http is None
        self.attempts = attempts
        self.backoff = backoff
        self.on_sent = on_sent  # called with how many messages were just sent
        redact_token(token)

    def __repr__(self) -> str:  # never the token
        return f"ZaloClient({self._base!r})"

    async def close(self) -> None:
        if self._own_http:
            await self._http.aclose()

    async def call(
        self, method: str, payload: dict[str, Any] | None = None, *, attempts: int | None = None
    ) -> Any:
        """One API call: the result, or ZaloError; 429/5xx and network errors retried
        (`attempts=1`: the outbox sender, which keeps its own schedule and budget)."""
        url = f"{self._base}/bot{self._token}/{method}"
        delay = self.backoff
        tries = self.attempts if attempts is None else attempts
        for attempt in range(1, tries + 1):
            try:
                reply = await self._http.post(url, json=payload or {})
            except httpx.TransportError as exc:
                if attempt == tries:
                    raise ZaloError(method, 0, type(exc).__name__) from None
                log.warning("Zalo %s: %s, retrying", method, type(exc).__name__)
                await asyncio.sleep(delay)
                delay *= 2
                continue
            if reply.status_code == 408 and method == "getUpdates":
                return None  # an idle poll: nothing arrived
            try:
                body = reply.json()
            except ValueError:
                body = {}
            if reply.status_code == 200 and isinstance(body, dict) and body.get("ok"):
                if method in COUNTED:
                    await self._sent(1)
                return body.get("result")
            code = int(body.get("error_code", reply.status_code)) if isinstance(body, dict) else 0
            description = str(body.get("description", "")) if isinstance(body, dict) else ""
            if reply.status_code in RETRY_STATUSES and attempt < tries:
                log.warning("Zalo %s: %s, retrying in %.1f s", method, code, delay)
                await asyncio.sleep(delay)
                delay *= 2
                continue
            raise ZaloError(method, code or reply.status_code, description)
        raise AssertionError("unreachable")

    async def _sent(self, count: int) -> None:
        # The message is out: a failing counter must not make it look unsent (the outbox
        # would send it again, and spend the quota twice).
        if self.on_sent is None:
            return
        try:
            await self.on_sent(count)
        except Exception:
            log.exception("counting %d sent Zalo message(s) failed", count)

    async def get_me(self) -> dict[str, Any]:
        result = await self.call("getMe")
        return result if isinstance(result, dict) else {}

    async def get_update(self, poll_seconds: int = 30) -> ZaloUpdate | None:
        """The next update (ONE, the platform keeps no offset), or None after an idle poll."""
        result = await self.call("getUpdates", {"timeout": poll_seconds})
        return None if result is None else parse_update(result)

    async def send_text(self, chat_id: str, text: str) -> int:
        """Send a text in as many messages as it needs (each ≤ 2,000 characters, cut at line
        boundaries); returns how many were sent."""
        parts = [p for p in split_message(text, MAX_TEXT) if p.strip()]
        for part in parts:
            await self.call("sendMessage", {"chat_id": chat_id, "text": part})
        return len(parts)

    async def send_photo(self, chat_id: str, url: str, caption: str = "") -> None:
        await self.call("sendPhoto", {"chat_id": chat_id, "photo": url, "caption": caption})

    async def typing(self, chat_id: str) -> None:
        action: Literal["typing"] = "typing"
        await self.call("sendChatAction", {"chat_id": chat_id, "action": action})

    async def set_webhook(self, url: str, secret: str) -> None:
        await self.call("setWebhook", {"url": url, "secret_token": secret})

    async def delete_webhook(self) -> None:
        await self.call("deleteWebhook")
