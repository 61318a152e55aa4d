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
    "bloc": ("khoi", "chon khoi", "doi khoi", "bloc use"),
    "checkin": ("checkin", "check in", "diem danh"),
    "lang": ("lang", "ngon ngu", "language"),
    "criteria": ("criteria", "tieu chi", "bang tieu chi"),
    "web": ("web", "trang web"),
    "cancel": ("cancel", "huy", "huy bo", "thoat", "dung lai"),
}
_BY_LENGTH = sorted(
    ((tuple(p.split()), name) for name, phrases in PHRASES.items() for p in phrases),
    key=lambda item: -len(item[0]),
)
_JOINED = {"".join(words): name for words, name in _BY_LENGTH if len(words) > 1}

NO_ARGS = frozenset({"help", "standings", "me", "deadlines", "score", "cancel", "criteria"})
# Commands whose words, when there are any, must look like this (a code read off the hall
# screen: digits, maybe grouped); otherwise the text is a sentence, not the command.
ARG_SHAPES = {"checkin": re.compile(r"^[0-9][0-9 .-]{0,19}$")}
# The secretariat's commands (and /report's file upload) need Telegram: said so, by name.
TELEGRAM_ONLY = frozenset(
    {
        "bloc", "units", "invite", "period", "status", "review", "return", "export",
        "ballot", "announce", "summary", "minutes", "conference",
    }
)  # fmt: skip
# Everyone's commands whose secretariat forms need Telegram (`/deadlines add`, `/covenant
# set`, `/criteria import`): said so by name, never read as the everyone's form.
SECRETARIAT_FORMS: dict[str, dict[str, str]] = {
    "deadlines": {
        "add": "add", "them": "add", "cancel": "cancel", "huy": "cancel",
        "remind": "remind", "nhac": "remind", "quiet": "quiet", "yenlang": "quiet",
        "gioyenlang": "quiet", "gio": "quiet",
    },
    "covenant": {"set": "set", "dat": "set"},
    "criteria": {"import": "import", "nhap": "import"},
}  # fmt: skip
YES = frozenset({"1", "co", "ok", "xac nhan", "dong y", "yes", "confirm", "ky", "sign"})
# What confirms a vote: words only, never a number a ballot could offer as a choice.
CONFIRM = frozenset({"xac nhan", "dong y", "ok", "okay", "confirm", "yes", "co"})
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
    first, _, after = typed.lstrip("/").partition(" ")
    first = first.split("@", 1)[0]  # "/vote@thidua_bot" pasted from Telegram
    body = f"{first.replace('_', ' ')} {after}".strip()
    words = body.split()
    if not words:
        return None
    keys = fold_diacritics(body).split()
    for phrase, name in _BY_LENGTH:
        if tuple(keys[: len(phrase)]) == phrase:
            return _command(name, " ".join(words[len(phrase) :]), slash)
    joined = _JOINED.get(keys[0])
    if joined is not None:
        return _command(joined, " ".join(words[1:]), slash)
    if slash and keys[0] in TELEGRAM_ONLY:
        return Command("telegram_only", keys[0], slash)
    return None


def _command(name: str, rest: str, slash: bool) -> Command | None:
    form = SECRETARIAT_FORMS.get(name, {}).get(folded(rest).split(" ", 1)[0])
    if form is not None:
        return Command("telegram_only", f"{name} {form}", slash)
    # A sentence that merely starts with a command word ("tôi đồng ý…") is not the command:
    # commands that take nothing must stand alone (or carry the slash).
    if rest and not slash and name in NO_ARGS:
        return None
    shape = ARG_SHAPES.get(name)
    if rest and not slash and shape is not None and not shape.match(rest):
        return None
    return Command(name, rest, slash)


def parse_numbers(text: str) -> list[int] | None:
    """ "2", "1, 3", "1 3", "1;3" -> [1, 3]; None when the text is not a list of numbers."""
    typed = clean(text)
    if not _NUMBERS.match(typed):
        return None
    return [int(n) for n in re.split(r"[,;\s]+", typed) if n]


def is_yes(text: str) -> bool:
    return folded(text).rstrip(".!") in YES


def is_confirm(text: str) -> bool:
    """The word that casts a vote being confirmed ("xác nhận", "xac nhan", "đồng ý", "ok")."""
    return folded(text).rstrip(".!") in CONFIRM


def is_no(text: str) -> bool:
    return folded(text).rstrip(".!") in NO


def is_blank(text: str) -> bool:
    return folded(text).rstrip(".!") in BLANK
