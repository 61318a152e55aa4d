"""Text normalisation shared by every input path (chat, files)."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def nfc(text: str) -> str:
    """Vietnamese typed in decomposed form (NFD) must equal its composed form."""
    return unicodedata.normalize("NFC", text)


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
