"""What a person types on Zalo, read as commands: the Telegram command words, with or without
the slash, with or without diacritics, Vietnamese or English (`/vote`, `bỏ phiếu`,
`bo phieu`, `bophieu`, `/bo_phieu` …), and the numbered answers of a menu ("1", "1, 3")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.text import clean, fold_diacritics

# Command -> the phrases that name it (folded: lower case, no diacritics, single spaces).
PHRASES: dict[str, tuple[str, ...]] = {
    "start": ("start", "bat dau"),
    "help": ("help", "tro giup", "huong dan", "menu", "lenh"),
    "standings": ("standings", "xep hang", "bang xep hang", "bang diem"),
    "me": ("me", "toi", "thong tin cua toi"),
    "deadlines": ("deadlines", "han chot", "han nop"),
    "report": ("report", "bao cao", "nop bao cao"),
    "score": ("score", "cham diem", "tu cham diem", "tu cham"),
    "vote": ("vote", "bieu quyet", "bo phieu"),
    "check": ("check", "kiem tra phieu", "kiem tra"),
    "covenant": ("covenant", "giao uoc", "ky giao uoc", "giao uoc thi dua"),
    "link": ("link", "lien ket"),
    "ack": ("ack", "da nhan", "got it"),
    "checkin": ("checkin", "check in", "diem danh"),
    "lang": ("lang", "ngon ngu", "language"),
    "cancel": ("cancel", "huy", "huy bo", "thoat", "dung lai"),
}
_BY_LENGTH = sorted(
    ((tuple(p.split()), name) for name, phrases in PHRASES.items() for p in phrases),
    key=lambda item: -len(item[0]),
)
_JOINED = {"".join(words): name for words, name in _BY_LENGTH if len(words) > 1}

YES = frozenset({"1", "co", "ok", "xac nhan", "dong y", "yes", "confirm", "ky", "sign"})
NO = frozenset({"2", "khong", "no", "chon lai", "back", "lai", "quay lai"})
BLANK = frozenset({"0", "trang", "phieu trang", "blank", "blank ballot"})
_NUMBERS = re.compile(r"^\d{1,4}(?:\s*[,;\s]\s*\d{1,4})*$")


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    rest: str  # what follows the command words, as typed (diacritics kept)
    slash: bool  # typed with a leading "/"


def folded(text: str) -> str:
    return fold_diacritics(text.replace("_", " "))


def parse_command(text: str) -> Command | None:
    """The command a message starts with, or None."""
    typed = clean(text)
    slash = typed.startswith("/")
    body = typed.lstrip("/").replace("_", " ")
    words = body.split()
    if not words:
        return None
    keys = fold_diacritics(body).split()
    if keys and "@" in keys[0]:  # "/vote@thidua_bot" pasted from Telegram
        keys[0] = keys[0].split("@", 1)[0]
    for phrase, name in _BY_LENGTH:
        if tuple(keys[: len(phrase)]) == phrase:
            return Command(name, " ".join(words[len(phrase) :]), slash)
    joined = _JOINED.get(keys[0])
    if joined is not None:
        return Command(joined, " ".join(words[1:]), slash)
    return None


def parse_numbers(text: str) -> list[int] | None:
    """ "2", "1, 3", "1 3", "1;3" -> [1, 3]; None when the text is not a list of numbers."""
    typed = clean(text)
    if not _NUMBERS.match(typed):
        return None
    return [int(n) for n in re.split(r"[,;\s]+", typed) if n]


def is_yes(text: str) -> bool:
    return folded(text).rstrip(".!") in YES


def is_no(text: str) -> bool:
    return folded(text).rstrip(".!") in NO


def is_blank(text: str) -> bool:
    return folded(text).rstrip(".!") in BLANK
