"""Sealing secret ballots (design decision 4): keys, receipt codes and sealed choices.

The ballot key is derived from BALLOT_SECRET (never stored) and the ballot id; two subkeys
come from it, one to seal choices with AES-GCM and one to HMAC receipt codes, so neither use
weakens the other. A choice is encoded to the same length for every voter of a ballot (a
bitmap over its options plus a receipt field, zero padded), so the size of a sealed row says
nothing either. Without the secret a database reader holds only random-looking bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.core.voting import Choice

FORMAT = 1  # first byte of every plaintext: the layout below
RECEIPT_LENGTH = 12  # Crockford base32 characters: 60 random bits
RECEIPT_BYTES = 8  # drawn, of which 60 bits are used
_NONCE = 12
_BLOCK = 16
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
_TYPO_MAP = str.maketrans({"O": "0", "I": "1", "L": "1"})
_RECEIPT_RE = re.compile(rf"^[{_ALPHABET}]{{{RECEIPT_LENGTH}}}$")
# What a pasted receipt looks like: three groups of four (never an invite's four groups), or
# twelve characters mixing letters and digits (not a long word, not an ID or phone number).
RECEIPT_SHAPE = re.compile(
    r"^\s*(?:[0-9A-Za-z]{4}[-\s][0-9A-Za-z]{4}[-\s][0-9A-Za-z]{4}"
    r"|(?=[A-Za-z]*[0-9])(?=[0-9]*[A-Za-z])[0-9A-Za-z]{12})\s*$"
)


class SealError(Exception):
    """A sealed value could not be opened: another secret, another ballot, or tampering."""


@dataclass(frozen=True, slots=True)
class BallotKeys:
    ballot_id: int
    seal: bytes  # AES-256-GCM key for choices and drafts
    mac: bytes  # HMAC-SHA256 key for receipt codes
    check: str  # key-check value of this ballot's key, stored on the ballot row


def _hkdf(secret: bytes, *, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(secret)


def master_check(secret: bytes) -> str:
    """The key-check value of BALLOT_SECRET, kept in the database to notice a changed secret
    before a ballot opens. It reveals nothing usable: a one-way value of a derived key."""
    key = _hkdf(secret, salt=b"thidua-bot", info=b"ballot-secret key check v1")
    return hmac.new(key, b"key check", hashlib.sha256).hexdigest()[:32]


def ballot_keys(secret: bytes, ballot_id: int) -> BallotKeys:
    ballot_key = _hkdf(
        secret, salt=b"thidua-bot ballot key v1", info=f"ballot:{ballot_id}".encode()
    )
    return BallotKeys(
        ballot_id=ballot_id,
        seal=_hkdf(ballot_key, salt=b"", info=b"seal"),
        mac=_hkdf(ballot_key, salt=b"", info=b"receipt"),
        check=hmac.new(ballot_key, b"key check", hashlib.sha256).hexdigest()[:32],
    )


# --- receipt codes ----------------------------------------------------------------------------


def new_receipt(random_bytes: bytes) -> str:
    """A 12-character receipt code from 8 random bytes (60 bits used)."""
    if len(random_bytes) != RECEIPT_BYTES:
        raise ValueError("a receipt code needs exactly 8 random bytes")
    number = int.from_bytes(random_bytes, "big") & ((1 << 5 * RECEIPT_LENGTH) - 1)
    chars = []
    for _ in range(RECEIPT_LENGTH):
        number, digit = divmod(number, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def display_receipt(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalise_receipt(typed: str) -> str | None:
    """The canonical receipt for what someone typed (dashes, spaces, case, O/0 and I/L/1 are
    forgiven), or None when it cannot be a receipt code."""
    squeezed = re.sub(r"[\s\-_.]", "", typed).upper().translate(_TYPO_MAP)
    return squeezed if _RECEIPT_RE.match(squeezed) else None


def receipt_mac(keys: BallotKeys, code: str) -> str:
    return hmac.new(keys.mac, code.encode(), hashlib.sha256).hexdigest()


# --- sealed choices ---------------------------------------------------------------------------


def plaintext_size(options: int) -> int:
    """Bytes of every plaintext of a ballot with `options` options (a multiple of 16)."""
    raw = 2 + (options + 7) // 8 + RECEIPT_LENGTH
    return -(-raw // _BLOCK) * _BLOCK


def encode_choice(choice: Choice, options: int, receipt: str = "") -> bytes:
    """format ‖ flags (bit 0 blank) ‖ bitmap of chosen options ‖ receipt ‖ zero padding."""
    if any(not 0 <= i < options for i in choice.options):
        raise ValueError("a chosen option is outside the ballot")
    bitmap = bytearray((options + 7) // 8)
    for index in choice.options:
        bitmap[index // 8] |= 1 << (index % 8)
    field = receipt.encode().ljust(RECEIPT_LENGTH, b"\0")
    if len(field) != RECEIPT_LENGTH:
        raise ValueError("a receipt code has 12 characters")
    body = bytes([FORMAT, 1 if choice.blank else 0]) + bytes(bitmap) + field
    return body.ljust(plaintext_size(options), b"\0")


def decode_choice(plain: bytes, options: int) -> tuple[Choice, str]:
    if len(plain) != plaintext_size(options) or plain[0] != FORMAT:
        raise SealError("unexpected plaintext layout")
    size = (options + 7) // 8
    bitmap = plain[2 : 2 + size]
    chosen = tuple(i for i in range(options) if bitmap[i // 8] >> (i % 8) & 1)
    receipt = plain[2 + size : 2 + size + RECEIPT_LENGTH].rstrip(b"\0").decode()
    return Choice(chosen, blank=bool(plain[1] & 1)), receipt


def seal(keys: BallotKeys, plain: bytes, context: str) -> bytes:
    """nonce ‖ AES-GCM(ciphertext ‖ tag); `context` is authenticated, not stored."""
    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(keys.seal).encrypt(nonce, plain, context.encode())


def unseal(keys: BallotKeys, sealed: bytes, context: str) -> bytes:
    try:
        return AESGCM(keys.seal).decrypt(sealed[:_NONCE], sealed[_NONCE:], context.encode())
    except (InvalidTag, ValueError) as exc:
        raise SealError("cannot open a sealed value with this key") from exc


def box_context(ballot_id: int) -> str:
    # The box row is bound to its ballot only: nothing in it may point at a unit.
    return f"box:{ballot_id}"


def draft_context(ballot_id: int, unit_id: int) -> str:
    # A draft is bound to its unit, so one unit's draft cannot be moved to another.
    return f"draft:{ballot_id}:{unit_id}"


def seal_choice(keys: BallotKeys, choice: Choice, options: int, receipt: str) -> bytes:
    return seal(keys, encode_choice(choice, options, receipt), box_context(keys.ballot_id))


def open_choice(keys: BallotKeys, sealed: bytes, options: int) -> tuple[Choice, str]:
    return decode_choice(unseal(keys, sealed, box_context(keys.ballot_id)), options)


def seal_draft(keys: BallotKeys, unit_id: int, selection: tuple[int, ...], options: int) -> bytes:
    plain = encode_choice(Choice(tuple(sorted(selection))), options)
    return seal(keys, plain, draft_context(keys.ballot_id, unit_id))


def open_draft(keys: BallotKeys, unit_id: int, sealed: bytes, options: int) -> tuple[int, ...]:
    choice, _ = decode_choice(
        unseal(keys, sealed, draft_context(keys.ballot_id, unit_id)), options
    )
    return choice.options


def draft_version(previous: int) -> int:
    """A new random version of a sealed draft, never 0 ("no version shown") nor the previous
    one. A counter would count the taps, and its parity would tell whether the selection
    holds an odd or even number of candidates. Fits callback data's 32-bit ids; compared for
    equality only."""
    while True:
        version = 1 + int.from_bytes(os.urandom(4), "big") % (2**31 - 1)
        if version != previous:
            return version


def pending_context(ballot_id: int, identity_id: int) -> str:
    # A choice shown for confirmation (text chats keep it between two messages): bound to
    # the ballot and the person, so it cannot be replayed elsewhere.
    return f"pending:{ballot_id}:{identity_id}"


def seal_pending(keys: BallotKeys, identity_id: int, choice: Choice, options: int) -> bytes:
    plain = encode_choice(Choice(tuple(sorted(choice.options)), blank=choice.blank), options)
    return seal(keys, plain, pending_context(keys.ballot_id, identity_id))


def open_pending(keys: BallotKeys, identity_id: int, sealed: bytes, options: int) -> Choice:
    choice, _ = decode_choice(
        unseal(keys, sealed, pending_context(keys.ballot_id, identity_id)), options
    )
    return choice
