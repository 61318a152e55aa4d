"""The one Jinja2 environment: message templates per locale, filters, and the string catalog.

Telegram messages are HTML (``*.html``, autoescaped); every value a user typed is escaped.
"""

from __future__ import annotations

import html
import tomllib
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup

from bot.core.models import Locale, Platform
from bot.core.scoring import format_points
from bot.core.text import addressed, bare_name, capitalize_first

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
LOCALES = (Locale.VI, Locale.EN)


def format_dt(value: datetime, tz: str = "Asia/Ho_Chi_Minh") -> str:
    """17:00 20/12/2024 in the bloc's timezone (the same digits in both locales)."""
    local = value.astimezone(ZoneInfo(tz))
    return local.strftime("%H:%M %d/%m/%Y")


_WEEKDAYS = {
    "vi": ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


def format_when(value: datetime, tz: str = "Asia/Ho_Chi_Minh", locale: str = "vi") -> str:
    """17:00 thứ Sáu, 20/12/2024 — a deadline with its weekday, in the bloc's timezone."""
    local = value.astimezone(ZoneInfo(tz))
    day = _WEEKDAYS.get(locale, _WEEKDAYS["vi"])[local.weekday()]
    return f"{local:%H:%M} {day}, {local:%d/%m/%Y}"


def format_date(value: datetime, tz: str = "Asia/Ho_Chi_Minh") -> str:
    return value.astimezone(ZoneInfo(tz)).strftime("%d/%m/%Y")


def long_date(value: datetime, tz: str = "Asia/Ho_Chi_Minh", locale: str = "vi") -> str:
    """ "ngày 05 tháng 3 năm 2024" (NĐ 30/2020: days below 10 and months 1–2 zero-padded);
    "5 March 2024" in English."""
    local = value.astimezone(ZoneInfo(tz))
    if locale != "vi":
        return f"{local.day} {local:%B %Y}"
    month = f"{local.month:02d}" if local.month <= 2 else str(local.month)
    return f"ngày {local.day:02d} tháng {month} năm {local.year}"


def day_part(value: datetime, tz: str = "Asia/Ho_Chi_Minh", locale: str = "vi") -> str:
    """Sáng / Chiều / Tối (morning / afternoon / evening) of a local time."""
    hour = value.astimezone(ZoneInfo(tz)).hour
    index = 0 if hour < 12 else 1 if hour < 18 else 2
    return (("Sáng", "Chiều", "Tối") if locale == "vi" else ("Morning", "Afternoon", "Evening"))[
        index
    ]


def part_and_day(value: datetime, tz: str = "Asia/Ho_Chi_Minh", locale: str = "vi") -> str:
    """ "Chiều 01/12" as the bloc's articles date a session (no year); "Afternoon 1/12"."""
    local = value.astimezone(ZoneInfo(tz))
    part = day_part(value, tz, locale)
    return f"{part} {local:%d/%m}" if locale == "vi" else f"{part} {local.day}/{local.month}"


def points(cp: int, locale: str = "vi") -> str:
    """Hundredths of a point as written: "9,5" in Vietnamese, "9.5" in English."""
    text = format_points(cp)
    return text if locale == "vi" else text.replace(",", ".")


def pad2(value: int) -> str:
    """Counts as the seeds write them: 01, 02, … 10."""
    return f"{value:02d}"


def thousands(value: int, locale: str = "vi") -> str:
    text = f"{value:,}"
    return text.replace(",", ".") if locale == "vi" else text


class Renderer:
    def __init__(self, templates_dir: Path = TEMPLATES_DIR) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates_dir)),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            # Templates ship with the code: no stat() of each file at every render.
            auto_reload=False,
        )
        self.env.filters.update(
            dt=format_dt,
            when=format_when,
            date=format_date,
            pad2=pad2,
            thousands=thousands,
            pts=points,
            long_date=long_date,
            day_part=day_part,
            part_and_day=part_and_day,
            capfirst=capitalize_first,
            addressed=addressed,
            bare_name=bare_name,
        )
        # A chat without buttons (Zalo) renders with text_only=True: what to type, not tap;
        # `check`: whether a receipt can be checked (the /vote list on Zalo names the command).
        # `on_web`: shown on a web page (the console), which links its pages instead of naming
        # commands; `web_url`: where the web companion is (None: off), for those links and for
        # the addresses a Zalo message gives (templates/*/_how.html).
        self.env.globals.update(text_only=False, check=False, on_web=False, web_url=None)
        # Button labels are never parsed by Telegram (nor by anything on Zalo): the same
        # templates, filters and globals, rendered without escaping.
        self._labels = self.env.overlay(autoescape=False)
        self._dir = templates_dir

    def render(self, locale: Locale | str, name: str, /, **context: Any) -> str:
        """Render ``templates/<locale>/<name>.html``; the text is trimmed of outer blank lines."""
        loc = Locale(locale)
        template = self.env.get_template(f"{loc.value}/{name}.html")
        return template.render(locale=loc.value, t=lambda key: self.t(loc, key), **context).strip()

    def chat(self, locale: Locale | str, name: str, platform: Platform, /, **context: Any) -> str:
        """A message as read on one chat platform: Telegram names its commands and buttons;
        Zalo, which has neither buttons nor Telegram's commands, the words typed there or the
        web page's address (give `web_url`, the web companion's, when it is on)."""
        return self.render(
            locale, name, **{"text_only": platform is not Platform.TELEGRAM, **context}
        )

    def plain(self, locale: Locale | str, name: str, /, **context: Any) -> str:
        """A template as plain text, for documents (DOCX, PNG): the HTML-escaped rendering
        turned back, so a unit called "<b>Sở & Ban</b>" reads exactly so. Only for templates
        that carry no markup of their own (record_subject, record_conclusion, minutes_*)."""
        return html.unescape(self.render(locale, name, **context))

    def label(self, locale: Locale | str, name: str, /, **context: Any) -> str:
        """A button label as plain text: a unit called "Sở <b>A</b> & B" reads exactly so,
        and `truncate` counts the characters a person sees, not their HTML entities. Only for
        label templates, which carry no markup of their own."""
        loc = Locale(locale)
        template = self._labels.get_template(f"{loc.value}/{name}.html")
        return template.render(locale=loc.value, t=lambda key: self.t(loc, key), **context).strip()

    def page(self, locale: Locale | str, name: str, /, **context: Any) -> str:
        """A web companion page, ``templates/web/<name>.html`` (HTML, autoescaped), in the
        person's locale: its words come from the catalog (``t("web.…")``) and from the chat
        message templates (``message(name, …)``), so chat and web say the same thing."""
        loc = Locale(locale)
        template = self.env.get_template(f"web/{name}.html")
        return template.render(
            locale=loc.value,
            t=lambda key: self.t(loc, key),
            message=lambda template_name, **kw: self.on_page(
                loc, template_name, context.get("base", ""), **kw
            ),
            **context,
        )

    def on_page(self, locale: Locale | str, name: str, base: str, /, **context: Any) -> Markup:
        """A chat message as a web page shows it: where chat names a command, the page that
        does it is linked (`base`: the web companion's path)."""
        return Markup(
            self.render(
                locale, name, **{"text_only": False, "on_web": True, "web_url": base, **context}
            )
        )

    def t(self, locale: Locale | str, key: str) -> str:
        """A short catalog string (button labels, role names) from ``strings.toml``."""
        catalog = _catalog(self._dir, Locale(locale).value)
        value: Any = catalog
        for part in key.split("."):
            value = value[part]
        if not isinstance(value, str):
            raise KeyError(key)
        return value

    def message_names(self) -> list[str]:
        """Every message template (for the test that renders them all in every locale)."""
        return sorted(
            p.stem
            for p in (self._dir / Locale.VI.value).glob("*.html")
            if not p.stem.startswith("_")  # macro files, imported by messages
        )


@cache
def _catalog(templates_dir: Path, locale: str) -> dict[str, Any]:
    with (templates_dir / locale / "strings.toml").open("rb") as fh:
        return tomllib.load(fh)
