"""Text normalisation shared by every input path (chat, files)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

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


def capitalize_first(text: str) -> str:
    """A generated sentence starts with a capital whatever case a name was typed in: the first
    letter upper-cased, the rest kept ("huyện Châu Thành" -> "Huyện Châu Thành",
    "đơn vị" -> "Đơn vị"); opening quotes are passed over; text starting with anything else
    (a digit, "<b>" typed as part of a name) stays as it is."""
    index = 0
    while index < len(text) and text[index] in _OPENING:
        index += 1
    if index == len(text) or not text[index].isalpha() or len(text[index].upper()) != 1:
        return text
    return text[:index] + text[index].upper() + text[index + 1 :]


_OPENING = "«“‘\"'("


# A person's name may be typed with its honorific; matched without case or diacritics.
_HONORIFICS = {
    "ong": "ông",
    "ba": "bà",
    "dong chi": "đồng chí",
    "d/c": "đồng chí",
    "d/c.": "đồng chí",
    "d.c": "đồng chí",
    "dc": "đồng chí",
}


def split_honorific(name: str) -> tuple[str, str]:
    """ "Ông Trần Văn Bình" -> ("ông", "Trần Văn Bình"); "Đ/c Lò Thị Hương" -> ("đồng chí",
    "Lò Thị Hương"); a name without one -> ("", name). A lone word is a name, never a title."""
    words = clean(name).split(" ")
    for count in (2, 1):
        head = fold_diacritics(" ".join(words[:count]))
        if len(words) > count and head in _HONORIFICS:
            return _HONORIFICS[head], " ".join(words[count:])
    return "", clean(name)


def addressed(name: str, default: str = "đồng chí") -> str:
    """The name with one honorific: the one typed ("ông", "bà", "đồng chí"), else `default`;
    never "đồng chí Ông …". Lower case: a sentence's start capitalises it."""
    honorific, bare = split_honorific(name)
    return f"{honorific or default} {bare}" if bare else ""


def person_and_title(text: str) -> tuple[str, str]:
    """«Nguyễn Văn Thành, Giám đốc Sở Y tế» as the name and the title: split at the first
    comma (a name holds none; a title may: «Phó Chủ tịch, Trưởng ban»)."""
    name, _, title = clean(text).partition(",")
    return name.strip(), title.strip()


def with_title(name: str, title: str) -> str:
    """The other way round, as the chat's one-line form and its echo write a person."""
    return f"{name}, {title}" if name and title else name or title


def list_items(text: str) -> tuple[str, ...]:
    """A typed list (guests, delegations): one item per line or between «;»."""
    return tuple(item for part in re.split(r"[;\n]", nfc(text)) if (item := clean(part)))


def bare_name(name: str) -> str:
    """The name without a typed honorific (signatures, English text)."""
    return split_honorific(name)[1]


# Every free text a person types, and its limit in characters. A text over its limit is
# refused with the limit stated, never cut (docs/commands.md lists them all in one table).
TEXT_LIMITS: dict[str, int] = {
    "bloc_name": 200,
    "reports_to": 300,  # the body the memo goes to (its "Kính gửi")
    "regulation": 1000,  # the bloc's own regulation, the memo's legal bases, a line each
    "conference_place": 300,
    "conference_chair": 200,
    "conference_secretary": 200,
    "person_title": 200,
    "delegations": 2000,
    "counting_board": 1000,
    "guests": 4000,
    "locality": 100,
    "paragraph": 2000,
    "covenant": 3500,
    "announcement": 3500,
    "comment": 1000,
    "period_title": 300,
    "deadline_title": 300,
    "ballot_title": 300,
    "cancel_reason": 1000,
    "other_opinion": 1000,
    "award_by": 200,
    "award_form": 200,
    "award_names": 2000,
    "launch": 2000,
    "discussion": 4000,  # one agenda item's discussion in the minutes
}


@dataclass(frozen=True, slots=True)
class TooLong:
    """A free text over its limit: which field, its limit, how long it was."""

    field: str  # a key of TEXT_LIMITS (its name is `field.<key>` in strings.toml)
    limit: int
    length: int


def too_long(field: str, text: str) -> TooLong | None:
    """The one rule for free text: longer than the field's limit is refused, never cut."""
    limit = TEXT_LIMITS[field]
    return TooLong(field, limit, len(text)) if len(text) > limit else None


MAX_MESSAGE = 4096  # Telegram's limit per message, in UTF-16 code units
MAX_CAPTION = 1024  # … and per caption of a file


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
