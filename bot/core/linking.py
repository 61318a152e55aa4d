"""Link codes: one person's Telegram and Zalo accounts joined into one identity.

A code is 8 Crockford base32 characters (40 random bits) shown as ``XXXX-XXXX``, valid for
ten minutes and once; only its SHA-256 is stored. Wrong codes count against the sender like
wrong invite codes (five in ten minutes lock them out), so guessing one in its ten minutes
is out of reach.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

LINK_LENGTH = 8
LINK_BYTES = 5  # 40 bits
LINK_TTL = timedelta(minutes=10)
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
_TYPO_MAP = str.maketrans({"O": "0", "I": "1", "L": "1"})
_LINK_RE = re.compile(rf"^[{_ALPHABET}]{{{LINK_LENGTH}}}$")


def encode_link_code(random_bytes: bytes) -> str:
    if len(random_bytes) != LINK_BYTES:
        raise ValueError("a link code needs exactly 5 random bytes")
    number = int.from_bytes(random_bytes, "big")
    chars = []
    for _ in range(LINK_LENGTH):
        number, digit = divmod(number, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def display_link_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def normalise_link_code(typed: str) -> str | None:
    """The canonical code for what someone typed (dashes, spaces, case, O/0 and I/L/1
    forgiven), or None when it cannot be a link code."""
    squeezed = re.sub(r"[\s\-_.]", "", typed).upper().translate(_TYPO_MAP)
    return squeezed if _LINK_RE.match(squeezed) else None


def hash_link_code(code: str) -> str:
    return hashlib.sha256(b"link:" + code.encode("ascii")).hexdigest()
