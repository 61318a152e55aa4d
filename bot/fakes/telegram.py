"""A small but faithful fake of the Telegram Bot API, served over real HTTP.

The real aiogram ``Bot`` talks to it through
``AiohttpSession(api=TelegramAPIServer.from_base(fake.url))``.  Tests and the offline demo
play users with :meth:`FakeTelegram.send_text`, :meth:`FakeTelegram.tap_button` & co. and
inspect what the bot did through :attr:`FakeTelegram.sent` and :attr:`FakeTelegram.requests`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import mimetypes
import ssl
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import PurePosixPath
from types import TracebackType
from typing import Any, Literal, Self

import aiohttp
from aiohttp import web

JSON = dict[str, Any]
Kind = Literal["message", "edit", "document", "photo", "callback_answer"]
MESSAGE_KINDS: frozenset[str] = frozenset({"message", "edit", "document", "photo"})


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Form values that are plain strings even when they look like JSON ("123", "true", "[x]").
_STR_KEYS = _words(
    "text caption title description url secret_token callback_query_id file_id parse_mode"
    " language_code action inline_message_id ip_address emoji query short_description name"
    " first_name last_name phone_number"
)
_SEND_METHODS = frozenset({"sendmessage", "senddocument", "sendphoto", "sendchataction"})
_MESSAGE_METHODS = frozenset({"sendmessage", "senddocument", "sendphoto"})  # count for limits
_HTML_TAGS = _words(
    "b strong i em u ins s strike del span tg-spoiler a code pre blockquote tg-emoji"
)
_ADMIN_FLAGS = _words(
    "can_be_edited is_anonymous can_delete_messages can_manage_video_chats can_restrict_members"
    " can_promote_members can_change_info can_post_stories can_edit_stories can_delete_stories"
    " can_send_welcome_messages"
)


@dataclass(frozen=True)
class FakeUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str = "vi"

    def to_api(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if (value := getattr(self, key)) is not None:
                data[key] = value
        return data


@dataclass(frozen=True)
class FakeChat:
    id: int
    type: str
    title: str


@dataclass
class RecordedRequest:
    method: str
    params: JSON
    time: datetime
    error_code: int | None = None  # filled in once answered; None = success / still running


@dataclass
class SentMessage:
    message_id: int
    chat_id: int
    text: str | None  # text, or caption of a document/photo, or the callback answer text
    parse_mode: str | None
    reply_markup: JSON | None
    buttons: list[list[tuple[str, str | None]]]  # (text, callback_data or url)
    kind: Kind
    filename: str | None = None
    file_bytes: bytes | None = None
    show_alert: bool = False
    raw: JSON = field(default_factory=dict, repr=False)  # Message JSON as returned to the bot


@dataclass(frozen=True)
class _Upload:
    filename: str
    data: bytes
    content_type: str | None = None


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    filename: str | None
    mime_type: str | None

    def to_api(self) -> JSON:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


@dataclass
class _Fault:
    method: str
    error_code: int
    description: str
    retry_after: int | None
    times: int
    chat_id: int | None


@dataclass
class Limits:
    """Telegram's flood limits, enforced by the fake when asked (see `enforce_limits`)."""

    overall: int = 30  # messages accepted in any one-second window, all chats together
    chat_interval: float = 1.0  # seconds between two messages to one chat
    clock: Callable[[], float] = time.monotonic
    accepted: deque[float] = field(default_factory=deque)  # times of the last accepted sends
    last: dict[int, float] = field(default_factory=dict)  # chat -> time of its last message

    def wait(self, chat_id: int) -> float:
        """Seconds until a message to `chat_id` fits both limits (0: it fits now)."""
        now = self.clock()
        while self.accepted and self.accepted[0] <= now - 1.0:
            self.accepted.popleft()
        wait = 0.0
        if len(self.accepted) >= self.overall:
            wait = self.accepted[-self.overall] + 1.0 - now
        if (previous := self.last.get(chat_id)) is not None:
            wait = max(wait, previous + self.chat_interval - now)
        return wait

    def accept(self, chat_id: int) -> float:
        now = self.clock()
        self.accepted.append(now)
        self.last[chat_id] = now
        return now


class _ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


class _Call:
    """One API call: decoded params plus uploaded files, with typed accessors."""

    def __init__(self, params: JSON, files: dict[str, _Upload]) -> None:
        self.params, self.files = params, files

    def opt_int(self, key: str) -> int | None:
        value = self.params.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise _ApiError(400, f"Bad Request: invalid {key} specified")
        try:
            return int(value)
        except ValueError:
            raise _ApiError(400, f"Bad Request: invalid {key} specified") from None

    def req_int(self, key: str) -> int:
        value = self.opt_int(key)
        if value is None:
            raise _ApiError(400, f"Bad Request: {key} is empty")
        return value

    def chat_id(self) -> int:
        if isinstance(self.params.get("chat_id"), str):  # "@channelusername"
            raise _ApiError(400, "Bad Request: chat not found")
        return self.req_int("chat_id")

    def string(self, key: str) -> str | None:
        value = self.params.get(key)
        return None if value is None else str(value)

    def obj(self, key: str) -> JSON | None:
        value = self.params.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, dict):
            raise _ApiError(400, f"Bad Request: can't parse {key} JSON object")
        return value

    def flag(self, key: str) -> bool:
        return self.params.get(key) in (True, "true", "True", 1, "1")

    def upload(self, key: str) -> _Upload | str | None:
        """An uploaded file (direct part or ``attach://name``), else the string (file_id)."""
        if key in self.files:
            return self.files[key]
        value = self.params.get(key)
        if isinstance(value, str) and value.startswith("attach://"):
            name = value.removeprefix("attach://")
            if name not in self.files:
                raise _ApiError(400, f"Bad Request: file {name!r} must be uploaded")
            return self.files[name]
        return None if value is None else str(value)


class _HtmlChecker(HTMLParser):
    """Rejects what Telegram rejects in parse_mode=HTML: unknown tags and bad nesting."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:  # noqa: ARG002
        if tag not in _HTML_TAGS:
            raise _ApiError(
                400, f'Bad Request: can\'t parse entities: Unsupported start tag "{tag}"'
            )
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            expected = f'"</{self.stack[-1]}>"' if self.stack else "nothing"
            raise _ApiError(
                400,
                f"Bad Request: can't parse entities: Unmatched end tag "
                f'"</{tag}>", expected {expected}',
            )
        self.stack.pop()


def _check_entities(text: str | None, parse_mode: str | None) -> None:
    if text is None or (parse_mode or "").upper() != "HTML":
        return
    checker = _HtmlChecker()
    checker.feed(text)
    checker.close()
    if checker.stack:
        raise _ApiError(
            400,
            "Bad Request: can't parse entities: Can't find end tag "
            f'corresponding to start tag "{checker.stack[-1]}"',
        )


def _decode(key: str, value: Any) -> Any:
    if not isinstance(value, str) or key in _STR_KEYS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _buttons(markup: JSON | None) -> list[list[tuple[str, str | None]]]:
    rows = (markup or {}).get("inline_keyboard") or (markup or {}).get("keyboard") or []
    return [
        [(str(b.get("text", "")), b.get("callback_data", b.get("url"))) for b in row]
        for row in rows
    ]


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _error(code: int, description: str, retry_after: int | None = None) -> web.Response:
    body: JSON = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=code)


async def _read_multipart(reader: aiohttp.MultipartReader) -> tuple[JSON, dict[str, _Upload]]:
    params: JSON = {}
    files: dict[str, _Upload] = {}
    async for part in reader:
        if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
            continue
        if part.filename is not None:
            data = await part.read(decode=True)
            files[part.name] = _Upload(part.filename, data, part.headers.get("Content-Type"))
        else:
            params[part.name] = _decode(part.name, await part.text())
    return params, files


class FakeTelegram:
    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        bot_username: str = "thidua_test_bot",
        bot_id: int = 123456,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.token, self.bot_username, self.bot_id = token, bot_username, bot_id
        self._now = now or (lambda: datetime.now(UTC))
        self.webhook_attempts = 3
        self.webhook_retry_delay = 0.05
        # How an https webhook's certificate is checked (a test's own CA for its proxy).
        self.webhook_ssl: ssl.SSLContext | bool = True
        self.requests: list[RecordedRequest] = []
        self.sent: list[SentMessage] = []
        self.deleted: list[tuple[int, int]] = []
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self._users: dict[int, FakeUser] = {}
        self._groups: dict[int, FakeChat] = {}
        self._members: dict[tuple[int, int], str] = {}
        self._messages: dict[tuple[int, int], JSON] = {}
        self._message_ids: dict[int, int] = {}
        self._files: dict[str, _StoredFile] = {}
        self._callbacks: dict[str, tuple[int, int]] = {}
        self._faults: list[_Fault] = []
        self._blocked: set[int] = set()
        self._stalled: dict[int, asyncio.Event] = {}
        self.limits: Limits | None = None
        self.http429 = 0  # 429s answered by the limits (not by fail_next)
        self.delivered: Counter[int] = Counter()  # chat -> messages, documents, photos sent
        self.delivery_times: list[float] = []  # limits clock at each accepted message
        self._updates: list[JSON] = []  # created but not yet confirmed/delivered
        self._processed: set[int] = set()
        self._allowed_updates: list[str] | None = None
        self._next_update_id = 1
        self._next_callback_id = 1
        self._next_file = 1
        self._mark = 0
        self._webhook: JSON | None = None
        self._webhook_error: tuple[int, str] | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._client: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._host, self._port = "127.0.0.1", 0
        self._closing = False
        self._tick = asyncio.Event()
        handlers: dict[str, Callable[[_Call], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_text,
            "editMessageReplyMarkup": self._edit_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback,
            "sendChatAction": self._send_chat_action,
            "setMyCommands": self._set_commands,
            "getMyCommands": self._get_commands,
            "deleteMyCommands": self._delete_commands,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "getFile": self._get_file,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
        }
        self._methods = {name.lower(): (name, h) for name, h in handlers.items()}

    # ------------------------------------------------------------------ lifecycle
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._closing = False
        self._runner = web.AppRunner(app, shutdown_timeout=2.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self._host, self._port = host, self._runner.addresses[0][1]

    async def stop(self) -> None:
        self._closing = True
        self._notify()
        for chat_id in list(self._stalled):
            self.unstall(chat_id)
        await self._stop_webhook_loop()
        if self._client is not None:
            await self._client.close()
            self._client = None
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
            raise RuntimeError("FakeTelegram is not started")
        return f"http://{self._host}:{self._port}"

    def reset(self) -> None:
        """Forget recorded requests/sent messages, queued faults and blocks."""
        self.requests.clear()
        self.sent.clear()
        self.deleted.clear()
        self._faults.clear()
        self._blocked.clear()
        self._mark = 0
        self.http429 = 0
        self.delivered.clear()
        self.delivery_times.clear()
        if self.limits is not None:
            self.limits.accepted.clear()
            self.limits.last.clear()

    # ------------------------------------------------------------------ configuration
    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        self._faults.append(
            _Fault(method.lower(), error_code, description, retry_after, times, chat_id)
        )

    def enforce_limits(
        self,
        *,
        overall: int = 30,
        chat_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> Limits:
        """Opt in to Telegram's flood limits for sendMessage/sendDocument/sendPhoto: beyond
        `overall` messages in any one-second window, or a second message to one chat within
        `chat_interval`, the call is answered 429 with an integer retry_after >= 1 and
        nothing is delivered. Off by default; `fake.limits = None` turns it off again."""
        self.limits = Limits(overall, chat_interval, clock)
        return self.limits

    def block(self, chat_id: int) -> None:
        self._blocked.add(chat_id)

    def stall(self, chat_id: int) -> None:
        """Hold every send to the chat (recorded, never answered) until `unstall`: a
        request in flight when its bot dies. Released requests fail (502): never delivered."""
        self._stalled.setdefault(chat_id, asyncio.Event())

    def unstall(self, chat_id: int) -> None:
        released = self._stalled.pop(chat_id, None)
        if released is not None:
            released.set()

    def unblock(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    def group(self, chat_id: int, title: str, *, chat_type: str = "supergroup") -> FakeChat:
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat = self._groups[chat_id] = FakeChat(chat_id, chat_type, title)
        return chat

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """status: member | administrator | creator | left | kicked."""
        self._members[(chat_id, user_id)] = status

    # ------------------------------------------------------------------ playing users
    async def send_text(self, user: FakeUser, text: str, *, chat_id: int | None = None) -> int:
        content: JSON = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        return self._user_message(user, chat_id, content)

    async def send_document(
        self,
        user: FakeUser,
        filename: str,
        data: bytes,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> int:
        mime = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        stored = self._store_file("documents", data, filename, mime)
        doc = {**stored.to_api(), "file_name": filename, "mime_type": mime}
        del doc["file_path"]
        return self._user_message(user, chat_id, {"document": doc, "caption": caption})

    async def send_photo(
        self,
        user: FakeUser,
        data: bytes,
        *,
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> int:
        stored = self._store_file("photos", data, None, "image/jpeg")
        content = {"photo": self._photo(stored), "caption": caption}
        return self._user_message(user, chat_id, content)

    async def tap(self, user: FakeUser, message: SentMessage, callback_data: str) -> int:
        current = self._messages.get((message.chat_id, message.message_id))
        if current is None:
            raise AssertionError(
                f"message {message.message_id} in chat {message.chat_id} does not exist (deleted?)"
            )
        self._users.setdefault(user.id, user)
        query_id = str(self._next_callback_id)
        self._next_callback_id += 1
        self._callbacks[query_id] = (message.chat_id, message.message_id)
        return self._queue(
            "callback_query",
            {
                "id": query_id,
                "from": user.to_api(),
                "message": current,
                "chat_instance": str(message.chat_id),
                "data": callback_data,
            },
        )

    async def tap_button(self, user: FakeUser, message: SentMessage, text: str) -> int:
        current = self._messages.get((message.chat_id, message.message_id), message.raw)
        buttons = [
            b for row in current.get("reply_markup", {}).get("inline_keyboard", []) for b in row
        ]
        for button in buttons:
            if button.get("text") == text:
                if "callback_data" not in button:
                    raise AssertionError(f"button {text!r} has no callback_data: {button}")
                return await self.tap(user, message, str(button["callback_data"]))
        labels = [b.get("text") for b in buttons]
        raise AssertionError(
            f"no inline button {text!r} on message {message.message_id} "
            f"in chat {message.chat_id}; buttons: {labels}"
        )

    # ------------------------------------------------------------------ inspection / waiting
    def messages_to(self, chat_id: int) -> list[SentMessage]:
        return [m for m in self.sent if m.chat_id == chat_id and m.kind in MESSAGE_KINDS]

    def mark(self) -> int:
        self._mark = len(self.sent)
        return self._mark

    def sent_since(self, mark: int) -> list[SentMessage]:
        return self.sent[mark:]

    async def wait_processed(self, update_id: int, timeout: float = 10) -> None:  # noqa: ASYNC109
        await self._wait(
            lambda: update_id in self._processed,
            timeout,
            f"update {update_id} to be processed by the bot",
        )

    async def wait_for_messages(
        self,
        chat_id: int,
        count: int,
        timeout: float = 10,  # noqa: ASYNC109
        *,
        since: int | None = None,
        kinds: Collection[str] = MESSAGE_KINDS,
    ) -> list[SentMessage]:
        """Wait for ``count`` messages to ``chat_id`` after ``since`` (default: last mark())."""
        start = self._mark if since is None else since

        def found() -> list[SentMessage]:
            return [m for m in self.sent[start:] if m.chat_id == chat_id and m.kind in kinds]

        await self._wait(
            lambda: len(found()) >= count,
            timeout,
            f"{count} message(s) to chat {chat_id} (have {len(found())})",
        )
        return found()[:count]

    async def wait_webhook_set(self, timeout: float = 10) -> str:  # noqa: ASYNC109
        await self._wait(lambda: self._webhook is not None, timeout, "setWebhook")
        return str(self._webhook["url"]) if self._webhook else ""

    async def _wait(self, predicate: Callable[[], bool], seconds: float, what: str) -> None:
        if not await self._wait_until(predicate, seconds):
            raise TimeoutError(f"FakeTelegram: timed out after {seconds}s waiting for {what}")

    async def _wait_until(self, predicate: Callable[[], bool], seconds: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._tick.wait(), remaining)
        return True

    def _notify(self) -> None:
        self._tick.set()
        self._tick = asyncio.Event()

    # ------------------------------------------------------------------ HTTP layer
    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        params: JSON = {k: _decode(k, v) for k, v in request.query.items()}
        files: dict[str, _Upload] = {}
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                params.update({k: _decode(k, v) for k, v in dict(body).items()})
            elif request.content_type.startswith("multipart/"):
                form, files = await _read_multipart(await request.multipart())
                params.update(form)
            else:
                params.update(
                    {
                        k: _decode(k, v)
                        for k, v in (await request.post()).items()
                        if isinstance(v, str)
                    }
                )
        status, body = await self._execute(request.match_info["method"], params, files)
        return web.json_response(body, status=status)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        path = request.match_info["path"]
        for stored in self._files.values():
            if stored.file_path == path:
                return web.Response(
                    body=stored.data, content_type=stored.mime_type or "application/octet-stream"
                )
        return _error(404, "Not Found")

    async def _execute(
        self, method: str, params: JSON, files: dict[str, _Upload]
    ) -> tuple[int, JSON]:
        name, handler = self._methods.get(method.lower(), (method, None))
        record = RecordedRequest(name, params, self._now())
        self.requests.append(record)
        self._notify()
        try:
            if handler is None:
                raise _ApiError(404, "Not Found")
            self._check_faults(method.lower(), params)
            if method.lower() in _SEND_METHODS and params.get("chat_id") in self._blocked:
                raise _ApiError(403, "Forbidden: bot was blocked by the user")
            held = self._stalled.get(params.get("chat_id", 0))
            if method.lower() in _SEND_METHODS and held is not None:
                await held.wait()
                raise _ApiError(502, "Bad Gateway")
            limited = self.limits is not None and method.lower() in _MESSAGE_METHODS
            if limited:
                self._check_limits(params)
            try:
                result = await handler(_Call(params, files))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:  # malformed params
                raise _ApiError(400, f"Bad Request: {type(exc).__name__}: {exc}") from exc
            if limited and self.limits is not None and isinstance(result, dict):
                chat = int(result["chat"]["id"])
                self.delivery_times.append(self.limits.accept(chat))
        except _ApiError as exc:
            record.error_code = exc.code
            body: JSON = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
            return exc.code, body
        return 200, {"ok": True, "result": result}

    def _check_faults(self, method: str, params: JSON) -> None:
        for fault in self._faults:
            if fault.method == method and fault.chat_id in (None, params.get("chat_id")):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                raise _ApiError(fault.error_code, fault.description, fault.retry_after)

    def _check_limits(self, params: JSON) -> None:
        if self.limits is None:
            return
        chat = params.get("chat_id")
        if isinstance(chat, bool) or not isinstance(chat, int | str):
            return  # malformed: the handler answers 400
        try:
            chat_id = int(chat)
        except ValueError:
            return
        wait = self.limits.wait(chat_id)
        if wait > 0:
            self.http429 += 1
            retry_after = max(1, math.ceil(wait))
            raise _ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    # ------------------------------------------------------------------ helpers
    def _ts(self) -> int:
        return int(self._now().timestamp())

    def _bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Thi Đua Test Bot",
            "username": self.bot_username,
        }

    def _chat(self, chat_id: int) -> JSON:
        if chat_id < 0:
            group = self._groups.get(chat_id)
            if group is None:
                group = FakeChat(chat_id, "supergroup", f"Group {chat_id}")
            return {"id": chat_id, "type": group.type, "title": group.title}
        user = self._users.get(chat_id) or FakeUser(chat_id, f"User {chat_id}")
        chat = user.to_api()
        for key in ("is_bot", "language_code"):
            chat.pop(key, None)
        return {**chat, "type": "private"}

    def _store_file(
        self, folder: str, data: bytes, filename: str | None, mime: str | None
    ) -> _StoredFile:
        n = self._next_file
        self._next_file += 1
        suffix = PurePosixPath(filename).suffix if filename else ".jpg"
        stored = _StoredFile(
            f"FILE{n}", f"U{n}", f"{folder}/file_{n}{suffix}", data, filename, mime
        )
        self._files[stored.file_id] = stored
        return stored

    @staticmethod
    def _photo(stored: _StoredFile) -> list[JSON]:
        width = height = 0
        if stored.data[:8] == b"\x89PNG\r\n\x1a\n" and len(stored.data) >= 24:
            width = int.from_bytes(stored.data[16:20], "big")
            height = int.from_bytes(stored.data[20:24], "big")
        info = stored.to_api()
        del info["file_path"]
        return [{**info, "width": width, "height": height}]

    def _new_message(self, chat_id: int, sender: JSON, content: JSON) -> JSON:
        message_id = self._message_ids.get(chat_id, 0) + 1
        self._message_ids[chat_id] = message_id
        message = {
            "message_id": message_id,
            "date": self._ts(),
            "chat": self._chat(chat_id),
            "from": sender,
            **{k: v for k, v in content.items() if v is not None},
        }
        self._messages[(chat_id, message_id)] = message
        return message

    def _user_message(self, user: FakeUser, chat_id: int | None, content: JSON) -> int:
        self._users.setdefault(user.id, user)
        target = user.id if chat_id is None else chat_id
        message = self._new_message(target, user.to_api(), content)
        return self._queue("message", message)

    def _queue(self, kind: str, payload: JSON) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        if self._allowed_updates and kind not in self._allowed_updates:
            self._processed.add(update_id)  # Telegram never creates filtered updates
        else:
            self._updates.append({"update_id": update_id, kind: payload})
        self._notify()
        return update_id

    def _record(
        self,
        kind: Kind,
        message: JSON,
        parse_mode: str | None = None,
        upload: _StoredFile | None = None,
    ) -> None:
        markup = message.get("reply_markup")
        if kind != "edit":
            self.delivered[message["chat"]["id"]] += 1
        self.sent.append(
            SentMessage(
                message["message_id"],
                message["chat"]["id"],
                message.get("text", message.get("caption")),
                parse_mode,
                markup,
                _buttons(markup),
                kind,
                upload.filename if upload else None,
                upload.data if upload else None,
                raw=message,
            )
        )
        self._notify()

    def _reply_to(self, call: _Call, chat_id: int) -> JSON | None:
        reply = call.obj("reply_parameters") or {}
        reply_id = reply.get("message_id") or call.opt_int("reply_to_message_id")
        if reply_id is None:
            return None
        target = self._messages.get((int(reply.get("chat_id", chat_id)), int(reply_id)))
        if target is None and not (
            reply.get("allow_sending_without_reply") or call.flag("allow_sending_without_reply")
        ):
            raise _ApiError(400, "Bad Request: message to be replied not found")
        return target

    def _sent_content(self, call: _Call, chat_id: int, content: JSON) -> JSON:
        return {
            **content,
            "reply_markup": call.obj("reply_markup"),
            "reply_to_message": self._reply_to(call, chat_id),
            "link_preview_options": call.obj("link_preview_options"),
        }

    # ------------------------------------------------------------------ API methods
    async def _get_me(self, _call: _Call) -> JSON:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _get_updates(self, call: _Call) -> list[JSON]:
        if self._webhook is not None:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is "
                "active; use deleteWebhook to delete the webhook first",
            )
        if isinstance(allowed := call.params.get("allowed_updates"), list):
            self._allowed_updates = [str(a) for a in allowed] or None
        offset = call.opt_int("offset")
        if offset is not None:
            if offset < 0:  # "the last -offset updates; all previous ones are forgotten"
                keep = self._updates[offset:]
                offset = keep[0]["update_id"] if keep else self._next_update_id
            confirmed = [u for u in self._updates if u["update_id"] < offset]
            self._processed.update(u["update_id"] for u in confirmed)
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self._notify()
        limit = max(1, min(100, call.opt_int("limit") or 100))
        timeout = max(0, call.opt_int("timeout") or 0)
        await self._wait_until(
            lambda: bool(self._updates) or self._closing or self._webhook is not None, timeout
        )
        return [] if self._webhook is not None else self._updates[:limit]

    async def _set_webhook(self, call: _Call) -> bool:
        url = call.string("url") or ""
        if not url:
            return await self._delete_webhook(call)
        if call.flag("drop_pending_updates"):
            self._drop_pending()
        allowed = call.params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(a) for a in allowed] or None
        await self._stop_webhook_loop()
        self._webhook = {"url": url, "secret_token": call.string("secret_token")}
        self._webhook_task = asyncio.create_task(self._webhook_loop())
        self._notify()
        return True

    async def _delete_webhook(self, call: _Call) -> bool:
        await self._stop_webhook_loop()
        self._webhook = None
        if call.flag("drop_pending_updates"):
            self._drop_pending()
        self._notify()
        return True

    async def _get_webhook_info(self, _call: _Call) -> JSON:
        info: JSON = {
            "url": self._webhook["url"] if self._webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook and self._webhook_error:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        if self._allowed_updates:
            info["allowed_updates"] = self._allowed_updates
        return info

    async def _send_message(self, call: _Call) -> JSON:
        chat_id, text = call.chat_id(), call.string("text") or ""
        if not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if _utf16_len(text) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        _check_entities(text, call.string("parse_mode"))
        content = self._sent_content(call, chat_id, {"text": text})
        message = self._new_message(chat_id, self._bot_user(), content)
        self._record("message", message, call.string("parse_mode"))
        return message

    def _editable(self, call: _Call) -> JSON:
        if call.params.get("inline_message_id"):
            raise _ApiError(400, "Bad Request: inline messages are not supported by the fake")
        key = (call.chat_id(), call.req_int("message_id"))
        message = self._messages.get(key)
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise _ApiError(400, "Bad Request: message can't be edited")
        return message

    def _apply_edit(self, call: _Call, message: JSON, changes: JSON) -> JSON:
        new = {**message, **changes, "edit_date": self._ts()}
        new.pop("reply_markup", None)
        if (markup := call.obj("reply_markup")) is not None:
            new["reply_markup"] = markup
        strip = ("edit_date",)
        if {k: v for k, v in new.items() if k not in strip} == {
            k: v for k, v in message.items() if k not in strip
        }:
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message "
                "content and reply markup are exactly the same as a current "
                "content and reply markup of the message",
            )
        self._messages[(new["chat"]["id"], new["message_id"])] = new
        self._record("edit", new, call.string("parse_mode"))
        return new

    async def _edit_text(self, call: _Call) -> JSON:
        message = self._editable(call)
        if "text" not in message:
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        text = call.string("text") or ""
        if not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        _check_entities(text, call.string("parse_mode"))
        return self._apply_edit(call, message, {"text": text})

    async def _edit_markup(self, call: _Call) -> JSON:
        return self._apply_edit(call, self._editable(call), {})

    async def _delete_message(self, call: _Call) -> bool:
        key = (call.chat_id(), call.req_int("message_id"))
        if self._messages.pop(key, None) is None:
            raise _ApiError(400, "Bad Request: message to delete not found")
        self.deleted.append(key)
        return True

    async def _answer_callback(self, call: _Call) -> bool:
        target = self._callbacks.pop(call.string("callback_query_id") or "", None)
        if target is None:
            raise _ApiError(
                400,
                "Bad Request: query is too old and response timeout expired "
                "or query ID is invalid",
            )
        self.sent.append(
            SentMessage(
                target[1],
                target[0],
                call.string("text"),
                None,
                None,
                [],
                "callback_answer",
                show_alert=call.flag("show_alert"),
            )
        )
        self._notify()
        return True

    async def _send_chat_action(self, call: _Call) -> bool:
        call.chat_id()
        return True

    @staticmethod
    def _scope_key(call: _Call) -> tuple[str, str]:
        scope = call.obj("scope") or {"type": "default"}
        parts = [str(scope.get(k)) for k in ("type", "chat_id", "user_id") if k in scope]
        return ":".join(parts), call.string("language_code") or ""

    async def _set_commands(self, call: _Call) -> bool:
        commands = call.params.get("commands")
        if not isinstance(commands, list):
            raise _ApiError(400, "Bad Request: can't parse commands JSON object")
        self.commands[self._scope_key(call)] = commands
        return True

    async def _get_commands(self, call: _Call) -> list[JSON]:
        return self.commands.get(self._scope_key(call), [])

    async def _delete_commands(self, call: _Call) -> bool:
        self.commands.pop(self._scope_key(call), None)
        return True

    def _resolve_upload(self, call: _Call, key: str, folder: str) -> _StoredFile:
        upload = call.upload(key)
        if isinstance(upload, _Upload):
            mime = upload.content_type or mimetypes.guess_type(upload.filename)[0]
            return self._store_file(folder, upload.data, upload.filename, mime)
        if upload is not None and upload in self._files:
            return self._files[upload]
        raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _media_content(self, call: _Call) -> JSON:
        caption = call.string("caption")
        if caption is not None and _utf16_len(caption) > 1024:
            raise _ApiError(400, "Bad Request: message caption is too long")
        _check_entities(caption, call.string("parse_mode"))
        return {"caption": caption}

    async def _send_document(self, call: _Call) -> JSON:
        chat_id, content = call.chat_id(), self._media_content(call)
        stored = self._resolve_upload(call, "document", "documents")
        doc = {**stored.to_api(), "file_name": stored.filename, "mime_type": stored.mime_type}
        del doc["file_path"]
        content["document"] = {k: v for k, v in doc.items() if v is not None}
        message = self._new_message(
            chat_id, self._bot_user(), self._sent_content(call, chat_id, content)
        )
        self._record("document", message, call.string("parse_mode"), stored)
        return message

    async def _send_photo(self, call: _Call) -> JSON:
        chat_id, content = call.chat_id(), self._media_content(call)
        stored = self._resolve_upload(call, "photo", "photos")
        content["photo"] = self._photo(stored)
        message = self._new_message(
            chat_id, self._bot_user(), self._sent_content(call, chat_id, content)
        )
        self._record("photo", message, call.string("parse_mode"), stored)
        return message

    async def _get_file(self, call: _Call) -> JSON:
        stored = self._files.get(call.string("file_id") or "")
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        return stored.to_api()

    async def _get_chat(self, call: _Call) -> JSON:
        kinds = (
            "unlimited_gifts limited_gifts unique_gifts premium_subscription gifts_from_channels"
        )
        gifts = dict.fromkeys(_words(kinds), True)
        return {
            **self._chat(call.chat_id()),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }

    async def _get_chat_member(self, call: _Call) -> JSON:
        chat_id, user_id = call.chat_id(), call.req_int("user_id")
        status = self._members.get((chat_id, user_id), "member")
        user = (self._users.get(user_id) or FakeUser(user_id, f"User {user_id}")).to_api()
        member: JSON = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(dict.fromkeys(_ADMIN_FLAGS, False))
            member.update(can_manage_chat=True, can_invite_users=True)
        elif status == "kicked":
            member["until_date"] = 0
        return member

    # ------------------------------------------------------------------ webhook delivery
    def _drop_pending(self) -> None:
        self._processed.update(u["update_id"] for u in self._updates)
        self._updates.clear()

    async def _stop_webhook_loop(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _webhook_loop(self) -> None:
        while not self._closing and self._webhook is not None:
            if not self._updates:
                await self._tick.wait()
                continue
            update = self._updates[0]
            await self._deliver(self._webhook, update)
            if self._updates and self._updates[0] is update:
                self._updates.pop(0)
            self._processed.add(update["update_id"])
            self._notify()

    async def _deliver(self, webhook: JSON, update: JSON) -> None:
        if self._client is None:
            self._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        headers = {}
        if webhook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = str(webhook["secret_token"])
        for attempt in range(self.webhook_attempts):
            if attempt:
                await asyncio.sleep(self.webhook_retry_delay)
            try:
                posted = self._client.post(
                    webhook["url"], json=update, headers=headers, ssl=self.webhook_ssl
                )
                async with posted as resp:
                    if 200 <= resp.status < 300:
                        await self._webhook_reply(resp)
                        self._webhook_error = None
                        return
                    error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                error = f"Connection failed: {type(exc).__name__}: {exc}"
            self._webhook_error = (self._ts(), error)
        # Telegram would keep retrying for hours; the fake gives up and moves on.

    async def _webhook_reply(self, resp: aiohttp.ClientResponse) -> None:
        """Execute aiogram's "reply into webhook" (JSON object or multipart with a method)."""
        files: dict[str, _Upload] = {}
        if resp.content_type == "application/json":
            body = await resp.json()
            params = {k: _decode(k, v) for k, v in body.items()} if isinstance(body, dict) else {}
        elif resp.content_type.startswith("multipart/"):
            reader = aiohttp.MultipartReader(resp.headers, resp.content)
            params, files = await _read_multipart(reader)
        else:
            return
        method = params.pop("method", None)
        if isinstance(method, str):
            await self._execute(method, params, files)
