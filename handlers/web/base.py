"""What every web route shares: the configuration, the signed-in person, rendering a page
with the security headers, the per-session CSRF token, and the limits per person/address."""

from __future__ import annotations

import asyncio
import hmac
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlparse

import segno
from aiohttp import BodyPartReader, MultipartReader, web
from markupsafe import Markup

from bot.core.models import Locale
from bot.core.text import nfc
from bot.services.actors import Actor
from bot.services.app import Services
from bot.services.outcomes import Rejected
from bot.services.pdf import PDF_MIME, pdf_name
from bot.services.web import SignedIn

COOKIE = "thidua_s"  # the session
PRE_COOKIE = "thidua_pre"  # the double-submit token of the sign-in forms (no session yet)
CSRF_FIELD = "csrf"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Limiter:
    """At most `limit` events per key within `window` seconds, counted in this process: under
    `run --workers N` each worker counts its own, so a limit is up to N times looser. (What
    makes a link or a cookie unguessable is its 256 random bits; the limits only stop waste.)"""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._seen: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        now = time.monotonic()
        seen = self._seen.setdefault(key, deque())
        while seen and now - seen[0] >= self.window:
            seen.popleft()
        return seen

    def full(self, key: str) -> bool:
        """Whether the key has used its budget (nothing is counted)."""
        return len(self._recent(key)) >= self.limit

    def record(self, key: str) -> None:
        now = time.monotonic()
        self._recent(key).append(now)
        if len(self._seen) > 10_000:  # forget the quiet keys (a scan of addresses)
            for stale in [k for k, v in self._seen.items() if not v or now - v[-1] > self.window]:
                del self._seen[stale]

    def allow(self, key: str) -> bool:
        """Count one event, unless the budget is used up (then False, nothing counted)."""
        if self.full(key):
            return False
        self.record(key)
        return True

    def wait_minutes(self) -> int:
        return max(1, int(self.window // 60))


@dataclass
class WebConfig:
    base_url: str  # WEB__URL, normalised: scheme://host/path, no trailing slash
    telegram_token: str | None = None  # validates Mini App launch data
    behind_proxy: bool = False
    # Failed sign-in links per address, sign-ins per person, uploads per person and address.
    signin_failures: Limiter = field(default_factory=lambda: Limiter(20, 600))
    signins: Limiter = field(default_factory=lambda: Limiter(10, 600))
    uploads: Limiter = field(default_factory=lambda: Limiter(10, 600))
    # The hall screen's event stream: a comment after this many quiet seconds (a proxy closes
    # a silent connection), when the link is checked again too.
    keep_alive: float = 15.0

    @property
    def prefix(self) -> str:
        return urlparse(self.base_url).path

    @property
    def secure(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def origin(self) -> str:
        parsed = urlparse(self.base_url)
        return f"{parsed.scheme}://{parsed.netloc}"

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


SERVICES = web.AppKey("services", Services)
CONFIG = web.AppKey("web_config", WebConfig)
SIGNED_IN = web.RequestKey("signed_in", SignedIn)
PRE_CSRF = web.RequestKey("pre_csrf", str)
# Set when the server stops: the hall screens' event streams end instead of holding it up.
CLOSING = web.AppKey("closing", asyncio.Event)  # the sign-in forms' token, before any session


def services_of(request: web.Request) -> Services:
    return request.app[SERVICES]


def config_of(request: web.Request) -> WebConfig:
    return request.app[CONFIG]


def signed_in(request: web.Request) -> SignedIn | None:
    return request.get(SIGNED_IN)


def actor_of(request: web.Request) -> Actor:
    """The signed-in person (routes behind `requires_session` only)."""
    found = signed_in(request)
    assert found is not None
    return found.actor


def locale_of(request: web.Request) -> Locale:
    found = signed_in(request)
    if found is not None:
        return found.actor.locale
    # Before sign-in: the browser's preference, Vietnamese unless it asks for English first.
    accept = request.headers.get("Accept-Language", "").strip().lower()
    return Locale.EN if accept.startswith("en") else Locale.VI


def client_address(request: web.Request) -> str:
    if config_of(request).behind_proxy:
        forwarded = request.headers.get("X-Forwarded-For", "")
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return request.remote or "?"


def page(request: web.Request, name: str, /, *, status: int = 200, **context: Any) -> web.Response:
    """A whole page in the person's locale (pages are never cached: they show votes)."""
    services, config = services_of(request), config_of(request)
    found = signed_in(request)
    body = services.renderer.page(
        locale_of(request),
        name,
        base=config.prefix,
        me=found.actor if found else None,
        csrf=found.csrf if found else "",
        # The sign-in forms' own token (a signed-in person may open another link).
        pre_csrf=request.get(PRE_CSRF, ""),
        mini_app=bool(found and found.mini_app),
        **context,
    )
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def refused(
    request: web.Request, rejected: Rejected, *, status: int = 200, back: str = ""
) -> web.Response:
    """A refusal in the person's words: the chat's own message, on a page with a way back."""
    return page(request, "refused", status=status, rejected=rejected, back=back)


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def attachment(data: bytes, content_type: str, name: str, original: str = "") -> web.Response:
    """A file to download under `name` (ours, ASCII); `original`: the name as sent, for
    browsers that take it (RFC 6266)."""
    disposition = f'attachment; filename="{name}"'
    if original:
        disposition += f"; filename*=UTF-8''{quote(original, safe='')}"
    return web.Response(
        body=data, content_type=content_type, headers={"Content-Disposition": disposition}
    )


async def pdf_attachment(request: web.Request, docx_name: str, docx: bytes) -> web.Response:
    """The PDF of a DOCX we serve, for digital signing; a page saying why there is none when
    LibreOffice is not installed (404) or the conversion failed (503): the DOCX link stays."""
    converter = services_of(request).pdf
    if not converter.available:
        return page(request, "console_note", status=404, note="pdf.not_installed")
    made = await converter.convert(docx)
    if made is None:
        return page(request, "console_note", status=503, note="pdf.failed_one")
    return attachment(made, PDF_MIME, pdf_name(docx_name))


def go(request: web.Request, path: str) -> web.HTTPSeeOther:
    """After a POST: to a page of ours (303, so a reload never posts twice)."""
    return web.HTTPSeeOther(f"{config_of(request).prefix}{path}")


def csrf_ok(expected: str, given: str | None) -> bool:
    """The form's token is the session's (compared in constant time; any text may arrive)."""
    if not expected or given is None:
        return False
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


async def upload_parts(request: web.Request) -> MultipartReader | None:
    """A multipart form (an upload, streamed: not read by the CSRF middleware) whose first
    part must be `csrf` with the session's token; returns the reader at the next part, or None
    (refuse with 403: nothing of the form was used)."""
    found = signed_in(request)
    if found is None or not request.content_type.startswith("multipart/"):
        return None
    reader = await request.multipart()
    first = await reader.next()
    if not isinstance(first, BodyPartReader) or first.name != CSRF_FIELD:
        return None
    given = b""
    while len(given) <= 256:  # a token is 43 characters: a huge first part is not read in
        chunk = await first.read_chunk(256)
        if not chunk:
            break
        given += chunk
    return reader if csrf_ok(found.csrf, given.decode("utf-8", "replace")) else None


def route_of(request: web.Request) -> str:
    """The route's pattern (`/signin/{token}`), for log lines: a path can carry a token."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "?"


async def typed_form(request: web.Request) -> dict[str, str]:
    """The form's text fields as typed, in composed letters (as the chat's middleware makes
    every message), outer spaces trimmed."""
    return {k: nfc(v).strip() for k, v in (await request.post()).items() if isinstance(v, str)}


def form_id(value: object) -> int:
    """A database id from a form field or a URL part; 0 when it is not one (the service then
    finds nothing and says so; an id never grants anything by itself)."""
    text = value if isinstance(value, str) else ""
    return int(text) if text.isascii() and text.isdecimal() and len(text) <= 9 else 0


def qr_svg(link: str) -> Markup:
    """A QR code of a link of ours, as inline SVG (segno writes it from the link alone: markup
    of its own, nothing typed by anyone in it); it scales with its box."""
    return Markup(segno.make(link, error="m").svg_inline(scale=4, omitsize=True))
