"""Audit log use cases: append inside a use case's transaction; verify every chain."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.audit import (
    GENESIS,
    AuditEntry,
    ChainBreak,
    chain_hash,
    head_mac,
    key_check,
    verify_chain,
)
from bot.core.models import Bloc, Locale
from bot.render import Renderer
from bot.services.actors import Actor, secretariat_bloc
from bot.services.app import Services
from bot.services.outcomes import Rejected
from storage.secret_repos import AUDIT_KEY_CHECK
from storage.uow import Database, UnitOfWork


async def record(
    uow: UnitOfWork,
    services: Services,
    *,
    bloc_id: int,
    actor_identity_id: int | None,
    action: str,
    unit_id: int | None = None,
    **details: Any,
) -> str:
    """Append one audit row for a change of state (never a secret choice)."""
    return await uow.audit.append(
        services.audit_key,
        bloc_id=bloc_id,
        at=services.clock.now(),
        actor_identity_id=actor_identity_id,
        unit_id=unit_id,
        action=action,
        details=details,
    )


RECALL = 20  # the newest rows of one action searched for the one a page names


async def last_done(
    uow: UnitOfWork, bloc_id: int, action: str, **match: object
) -> AuditEntry | None:
    """The newest row of `action` whose details hold `match`, among the bloc's last RECALL
    rows of it: what a change recorded, for the page that says it was done (reached by a
    redirect after the form, and by every reload of it)."""
    for entry in await uow.audit.recent(bloc_id, RECALL, action=action):
        if all(entry.details.get(k) == v for k, v in match.items()):
            return entry
    return None


class AuditKeyChangedError(Exception):
    """AUDIT_KEY is not the one this database's audit log was written with."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"AUDIT_KEY {reason}: rows chained with another key would never verify beside "
            "the old ones. Restore the original AUDIT_KEY (or, on SQLite, the key file under "
            "KEYS_DIR)."
        )


async def ensure_audit_key(db: Database, key: bytes, now: datetime) -> None:
    """At start: remember AUDIT_KEY's key-check value, or refuse a different key. The first
    time (a log written before the check existed), the newest row of every bloc must verify
    under the key, and heads written before head MACs existed get theirs."""
    async with db.uow() as uow:
        stored = await uow.secret.key_check(AUDIT_KEY_CHECK)
        if stored is None:
            for bloc_id in await uow.audit.bloc_ids():
                last = await uow.audit.last(bloc_id)
                if last is not None:
                    entry, prev_hash, row_hash = last
                    if not hmac.compare_digest(chain_hash(key, prev_hash, entry), row_hash):
                        raise AuditKeyChangedError(
                            f"does not verify the newest audit row of bloc {bloc_id} (seq="
                            f"{entry.seq}; if that row was altered, `python -m bot audit "
                            "verify` says so)"
                        )
            await _seal_old_heads(uow, key)
            # A second worker starting at the same moment may store it first: then compare.
            await uow.secret.put_key_check(AUDIT_KEY_CHECK, key_check(key), now)
            stored = await uow.secret.key_check(AUDIT_KEY_CHECK)
            assert stored is not None
        if stored.value != key_check(key):
            raise AuditKeyChangedError(
                "does not match the key-check value stored in this database (first used "
                f"{stored.created_at:%Y-%m-%d %H:%M} UTC)"
            )
        await uow.commit()


async def _seal_old_heads(uow: UnitOfWork, key: bytes) -> None:
    """Heads from before head MACs get one, if none has one yet (a log written since has
    them all: a missing one then was removed, and verify reports it) and only where the head
    is its chain's last row."""
    unsealed = await uow.audit.unsealed_heads()
    if len(unsealed) != len(await uow.audit.bloc_ids_with_head()):
        return
    for bloc_id, seq, head in unsealed:
        last = await uow.audit.last(bloc_id)
        last_seq, last_hash = (last[0].seq, last[2]) if last else (0, GENESIS)
        if (seq, head) == (last_seq, last_hash):
            await uow.audit.seal_head(bloc_id, seq, head, head_mac(key, bloc_id, seq, head))


@dataclass(frozen=True, slots=True)
class ChainReport:
    bloc_id: int
    rows: int
    head: str
    broken: ChainBreak | None
    head_seq: int = 0


@dataclass(frozen=True, slots=True)
class HeadFound:
    """A head known from outside (a document) and where the chain holds it (None: nowhere)."""

    head: str
    bloc_id: int | None = None
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class Verification:
    reports: list[ChainReport]
    heads: list[HeadFound]
    key_changed: bool  # AUDIT_KEY is not the key the database's check value was made with

    @property
    def ok(self) -> bool:
        return (
            not self.key_changed
            and all(r.broken is None for r in self.reports)
            and all(h.bloc_id is not None for h in self.heads)
        )


async def verify_log(
    db: Database, key: bytes, heads: list[str] | None = None, *, bloc_id: int | None = None
) -> Verification:
    """Check every bloc's chain and head with the key (a row altered or re-chained without
    it fails; a head moved back over deleted rows fails its MAC), and that every head known
    from outside is still a row of some chain (a cut tail is caught even with the key).
    `bloc_id`: that bloc's chain only (the console's «verify»)."""
    wanted = [h.lower() for h in heads or []]
    found: dict[str, HeadFound] = {}
    reports: list[ChainReport] = []
    async with db.uow() as uow:
        stored = await uow.secret.key_check(AUDIT_KEY_CHECK)
        key_changed = stored is not None and stored.value != key_check(key)
        chains = await uow.audit.bloc_ids()
        for chain_id in chains if bloc_id is None else [b for b in chains if b == bloc_id]:
            rows = await uow.audit.chain(chain_id)
            seq, head = await uow.audit.head(chain_id)
            mac = await uow.audit.head_mac(chain_id)
            broken = verify_chain(key, rows)
            last_seq, last_hash = (rows[-1][0].seq, rows[-1][2]) if rows else (0, GENESIS)
            if broken is None and (last_seq != seq or last_hash != head):
                broken = ChainBreak(chain_id, last_seq, "head")
            if broken is None and (
                mac is None or not hmac.compare_digest(mac, head_mac(key, chain_id, seq, head))
            ):
                broken = ChainBreak(chain_id, seq, "head mac")
            reports.append(ChainReport(chain_id, len(rows), head, broken, seq))
            for entry, _prev, row_hash in rows:
                for h in wanted:
                    if h not in found and row_hash.startswith(h):
                        found[h] = HeadFound(h, chain_id, entry.seq)
    return Verification(
        reports, [found.get(h, HeadFound(h)) for h in dict.fromkeys(wanted)], key_changed
    )


async def verify_all(db: Database, key: bytes) -> list[ChainReport]:
    """Check every bloc's chain with the key; a row altered or re-chained without it fails."""
    return (await verify_log(db, key)).reports


async def verify_bloc(services: Services, actor: Actor) -> Verification | Rejected:
    """`python -m bot audit verify` for the secretariat's own bloc (its chain and head)."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    return await verify_log(services.db, services.audit_key, bloc_id=bloc_id)


@dataclass(frozen=True, slots=True)
class AuditLine:
    """One audit row in words: when, who (and for which unit), what was done."""

    seq: int
    at: datetime
    actor: str
    unit: str
    action: str
    words: str


@dataclass(frozen=True, slots=True)
class AuditPage:
    bloc: Bloc
    head_seq: int
    head: str
    lines: tuple[AuditLine, ...]  # newest first


RECENT = 50
_FACTS = (
    "title",
    "year",
    "closed",
    "name",
    "short_name",
    "count",
    "members",
    "which",
    "kind",
    "reason",
    "by",  # an award handed out at the conference: who gave it, its form, its number
    "form",
    "number",
    "item",  # an agenda item of the minutes (its discussion)
)


def describe(renderer: Renderer, locale: Locale, action: str, details: dict[str, Any]) -> str:
    """An audit action in words (strings.toml `web.action.*`, with the few facts it names);
    an action the catalog does not know reads as its code."""
    try:
        words = renderer.t(locale, f"web.action.{action}")
    except KeyError:
        return action
    facts = {k: str(details.get(k, "")) for k in _FACTS}
    if details.get("which") in ("movements", "closing"):
        facts["which"] = renderer.t(locale, f"web.action_paragraph_{details['which']}")
    if details.get("item") in ("report", "awards", "officers", "covenant"):
        facts["item"] = renderer.t(locale, f"web.action_item_{details['item']}")
    return words.format_map(facts)


async def recent_entries(
    services: Services, actor: Actor, *, locale: Locale, limit: int = RECENT
) -> AuditPage | Rejected:
    """The secretariat's bloc's newest audit rows in words, and its head."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        entries = await uow.audit.recent(bloc_id, limit)
        seq, head = await uow.audit.head(bloc_id)
        names = {
            i.id: i.display_name
            for i in await uow.identities.many(
                {e.actor_identity_id for e in entries if e.actor_identity_id is not None}
            )
        }
        units = {u.id: u.name for u in await uow.blocs.units(bloc_id)}
    return AuditPage(
        bloc,
        seq,
        head,
        tuple(
            AuditLine(
                e.seq,
                e.at,
                names.get(e.actor_identity_id or 0, ""),
                units.get(e.unit_id or 0, ""),
                e.action,
                describe(services.renderer, locale, e.action, e.details),
            )
            for e in entries
        ),
    )
