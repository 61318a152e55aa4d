"""Text normalisation shared by every input path (chat, files)."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def nfc(text: str) -> str:
    """Vietnamese typed in decomposed form (NFD) must equal its composed form; a NUL
    character (which PostgreSQL cannot store in text) is dropped."""
    return unicodedata.normalize("NFC", text).replace("\x00", "")


def clean(text: str) -> str:
    """NFC, trimmed, inner runs of white space folded to one space."""
    return _SPACES.sub(" ", nfc(text)).strip()


def name_key(text: str) -> str:
    """Key under which two unit names count as the same (case and spacing ignored)."""
    return clean(text).casefold()


def fold_diacritics(text: str) -> str:
    """Lower-case text without Vietnamese diacritics, for lenient matching of typed words."""
    decomposed = unicodedata.normalize("NFD", clean(text).casefold())
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return stripped.replace("đ", "d")


MAX_MESSAGE = 4096  # Telegram's limit per message, in UTF-16 code units


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (markup included, so an upper bound)."""
    return len(text.encode("utf-16-le")) // 2


def split_message(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Cut a long text (a bloc of 200 units) between lines into parts Telegram accepts; a
    single line longer than a message (200 missing units in one list) is cut between words.

    No template opens a tag on one line and closes it on another, so every part is valid HTML
    (long lines are lists of names, outside any tag).
    """
    parts: list[str] = []
    current = ""
    for line in _short_lines(text, limit):
        candidate = f"{current}\n{line}" if current else line
        if current and utf16_len(candidate) > limit:
            parts.append(current)
            candidate = line
        current = candidate
    parts.append(current)
    return parts


def _short_lines(text: str, limit: int) -> list[str]:
    lines: list[str] = []
    for line in text.split("\n"):
        while utf16_len(line) > limit:
            cut = limit
            while utf16_len(line[:cut]) > limit:
                cut -= 1
            space = line.rfind(" ", 0, cut)
            if space > 0:
                cut = space
            else:
                # No space: never cut inside an HTML entity ("&lt;") or a tag ("<b>").
                amp, lt = line.rfind("&", 0, cut), line.rfind("<", 0, cut)
                if amp > 0 and ";" not in line[amp:cut]:
                    cut = amp
                if lt > 0 and ">" not in line[lt:cut]:
                    cut = min(cut, lt)
            lines.append(line[:cut])
            line = line[cut:].lstrip(" ")
        lines.append(line)
    return lines
