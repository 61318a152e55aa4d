"""Secret ballots (bỏ phiếu kín) kept secret from whoever reads the database (decision 4).

A cast writes two rows in one transaction: the register (ballot, unit: who voted) and a box
row (random id, HMAC of the receipt code, the choice padded and sealed under the ballot key).
The receipt code is shown once in the reply and never stored. A multi-choice selection being
built is sealed the same way. At the close the box is opened in memory, only the counts and
the counted receipt HMACs (in random order) are kept, and the sealed rows are purged.
Nothing here logs, audits or notifies a choice or a receipt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.sealing import (
    BallotKeys,
    SealError,
    ballot_keys,
    display_receipt,
    master_check,
    new_receipt,
    normalise_receipt,
    open_choice,
    open_draft,
    receipt_mac,
    seal_choice,
    seal_draft,
)
from bot.core.voting import BallotStatus, Cast, Choice
from bot.services.app import Services
from bot.services.outcomes import Reason, Rejected
from storage.secret_repos import BALLOT_SECRET_CHECK
from storage.uow import Database, UnitOfWork
from storage.vote_repos import BallotInfo

log = logging.getLogger(__name__)


class BallotSecretChangedError(Exception):
    """BALLOT_SECRET is not the one this database was set up with."""

    def __init__(self, since: datetime) -> None:
        super().__init__(
            "BALLOT_SECRET does not match the key-check value stored in this database "
            f"(first used {since:%Y-%m-%d %H:%M} UTC): secret ballots sealed with the other "
            "secret could not be counted. Restore the original BALLOT_SECRET (or, on SQLite, "
            "the key file under KEYS_DIR)."
        )


async def ensure_ballot_secret(db: Database, secret: bytes, now: datetime) -> None:
    """At start: remember the secret's key-check value, or refuse a different secret."""
    async with db.uow() as uow:
        # A second worker starting at the same moment may store it first: then compare.
        await uow.secret.put_key_check(BALLOT_SECRET_CHECK, master_check(secret), now)
        stored = await uow.secret.key_check(BALLOT_SECRET_CHECK)
        assert stored is not None
        if stored.value != master_check(secret):
            raise BallotSecretChangedError(stored.created_at)
        await uow.commit()


async def seal_legacy_votes(
    db: Database, secret: bytes, token_bytes: Callable[[int], bytes]
) -> int:
    """At start, once: secret ballots whose votes were stored in clear (before sealing
    existed) get them sealed — an open ballot's into register and box (with receipts nobody
    was shown), a counted one's dropped (its result is stored). Returns the ballots fixed."""
    fixed = 0
    async with db.uow() as uow:
        # Only ballots that have clear votes at all are read: a cheap query at every start.
        for ballot_id in await uow.secret.ballots_with_clear_votes():
            info = await uow.votes.ballot(ballot_id)
            if info is None or not info.ballot.rules.secret:
                continue
            legacy = await uow.secret.legacy_votes(info.ballot.id)
            if not legacy:
                continue
            if info.ballot.status is BallotStatus.OPEN:
                keys = ballot_keys(secret, info.ballot.id)
                await uow.secret.seal_ballot(
                    info.ballot.id, keys.check, publish=info.publish_receipts
                )
                for unit_id, identity_id, cast_at, choice in legacy:
                    receipt = new_receipt(token_bytes(8))
                    await uow.secret.register(info.ballot.id, unit_id, identity_id, cast_at)
                    await uow.secret.drop_in_box(
                        info.ballot.id,
                        receipt_mac(keys, receipt),
                        seal_choice(keys, choice, len(info.ballot.options), receipt),
                    )
            await uow.secret.drop_legacy(info.ballot.id)
            fixed += 1
        await uow.commit()
    return fixed


async def secret_matches(uow: UnitOfWork, services: Services) -> bool:
    """Before a secret ballot opens: this process's secret is the database's one."""
    stored = await uow.secret.key_check(BALLOT_SECRET_CHECK)
    value = master_check(services.ballot_secret)
    if stored is None:
        await uow.secret.put_key_check(BALLOT_SECRET_CHECK, value, services.clock.now())
        return True
    return stored.value == value


async def seal_on_open(
    uow: UnitOfWork, services: Services, ballot_id: int, *, publish: bool
) -> Rejected | None:
    """Called as a secret ballot opens: check the secret, record the ballot key's check and
    the receipt policy in force (a later change of it applies to later ballots only)."""
    if not await secret_matches(uow, services):
        return Rejected(Reason.BALLOT_SECRET_CHANGED)
    keys = ballot_keys(services.ballot_secret, ballot_id)
    await uow.secret.seal_ballot(ballot_id, keys.check, publish=publish)
    return None


async def keys_for(uow: UnitOfWork, services: Services, ballot_id: int) -> BallotKeys | Rejected:
    """The ballot's keys, refused when this process's secret is not the one it opened with."""
    keys = ballot_keys(services.ballot_secret, ballot_id)
    stored = await uow.secret.ballot_key_check(ballot_id)
    if stored is not None and stored != keys.check:
        return Rejected(Reason.BALLOT_SECRET_CHANGED)
    return keys


# --- drafts and casts ------------------------------------------------------------------------


async def draft(
    uow: UnitOfWork, keys: BallotKeys, info: BallotInfo, unit_id: int, *, lock: bool = False
) -> tuple[tuple[int, ...], int]:
    sealed, version = await uow.secret.draft(info.ballot.id, unit_id, lock=lock)
    if sealed is None:
        return (), version
    return open_draft(keys, unit_id, sealed, len(info.ballot.options)), version


async def put_draft(
    uow: UnitOfWork, keys: BallotKeys, info: BallotInfo, unit_id: int, selection: tuple[int, ...]
) -> int:
    sealed = seal_draft(keys, unit_id, selection, len(info.ballot.options))
    return await uow.secret.put_draft(info.ballot.id, unit_id, sealed)


async def cast(
    uow: UnitOfWork,
    services: Services,
    keys: BallotKeys,
    info: BallotInfo,
    *,
    unit_id: int,
    identity_id: int,
    choice: Choice,
    now: datetime,
) -> str:
    """Register the unit and drop the sealed choice in the box; the receipt code (display
    form) goes back to the voter only."""
    receipt = new_receipt(services.token_bytes(8))
    while await uow.secret.in_box(info.ballot.id, receipt_mac(keys, receipt)):
        receipt = new_receipt(services.token_bytes(8))  # a receipt names one ballot paper
    await uow.secret.register(info.ballot.id, unit_id, identity_id, now)
    await uow.secret.drop_in_box(
        info.ballot.id,
        receipt_mac(keys, receipt),
        seal_choice(keys, choice, len(info.ballot.options), receipt),
    )
    await uow.secret.delete_draft(info.ballot.id, unit_id)
    return display_receipt(receipt)


# --- the count ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unsealed:
    casts: list[Cast]
    receipt_macs: list[str]
    published: list[dict[str, Any]]  # receipt -> choice, only when the bloc opted in


async def unseal_box(
    uow: UnitOfWork, keys: BallotKeys, info: BallotInfo, *, publish: bool
) -> Unsealed | Rejected:
    """Open every sealed choice in memory. Casts get distinct placeholder unit ids: the box
    does not know which unit cast what, and the tally only needs one cast per ballot paper."""
    casts: list[Cast] = []
    macs: list[str] = []
    published: list[dict[str, Any]] = []
    options = len(info.ballot.options)
    try:
        for n, (mac, sealed) in enumerate(await uow.secret.box(info.ballot.id), start=1):
            choice, receipt = open_choice(keys, sealed, options)
            casts.append(Cast(unit_id=-n, choice=choice))
            macs.append(mac)
            if publish:
                published.append(
                    {
                        "receipt": display_receipt(receipt),
                        "options": list(choice.options),
                        "blank": choice.blank,
                    }
                )
    except SealError:
        return Rejected(Reason.BALLOT_SECRET_CHANGED)
    registered = await uow.secret.register_count(info.ballot.id)
    if registered != len(casts):
        # Never expected (both rows are written in one transaction); counts only, no choice.
        log.error(
            "ballot %s: %s registered, %s in the box", info.ballot.id, registered, len(casts)
        )
    published.sort(key=lambda p: str(p["receipt"]))
    return Unsealed(casts, macs, published)


async def store_count(uow: UnitOfWork, ballot_id: int, unsealed: Unsealed) -> None:
    """Keep the counted receipt HMACs (random order) and delete every sealed row."""
    await uow.secret.put_counted(ballot_id, unsealed.receipt_macs)
    await uow.secret.empty_box(ballot_id)


# --- checking a receipt ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReceiptFound:
    ballot_id: int
    counted: bool  # False: still in the box of an open ballot
    published: dict[str, Any] | None  # the choice, when the bloc publishes receipts


@dataclass(frozen=True, slots=True)
class ReceiptCheck:
    receipt: str
    found: ReceiptFound | None


async def check_receipt(
    uow: UnitOfWork, services: Services, bloc_id: int, typed: str
) -> ReceiptCheck | Rejected:
    code = normalise_receipt(typed)
    if code is None:
        return Rejected(Reason.BAD_RECEIPT)
    for info in await uow.votes.ballots(bloc_id):
        if not info.ballot.rules.secret or info.ballot.status not in (
            BallotStatus.OPEN,
            BallotStatus.CLOSED,
        ):
            continue
        keys = await keys_for(uow, services, info.ballot.id)
        if isinstance(keys, Rejected):
            return keys  # under another secret every code would look unknown
        mac = receipt_mac(keys, code)
        if info.ballot.status is BallotStatus.OPEN:
            if await uow.secret.in_box(info.ballot.id, mac):
                return ReceiptCheck(
                    display_receipt(code), ReceiptFound(info.ballot.id, False, None)
                )
            continue
        if await uow.secret.counted(info.ballot.id, mac):
            stored = await uow.votes.result(info.ballot.id)
            published = None
            if stored is not None:
                published = next(
                    (
                        p
                        for p in stored[0].get("receipts", [])
                        if p.get("receipt") == display_receipt(code)
                    ),
                    None,
                )
            return ReceiptCheck(
                display_receipt(code), ReceiptFound(info.ballot.id, True, published)
            )
    return ReceiptCheck(display_receipt(code), None)
