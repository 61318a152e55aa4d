"""A secret ballot against someone who reads the database (issue 5, acceptance points 1 and 2).

The reader holds a full dump taken while the ballot is open (every table, every column, with
`xmin`/`ctid` on PostgreSQL and `rowid` on SQLite), a full dump after the close and everything
published (result texts, the record, receipt -> choice when the bloc opted in). Not held: the
private chats, nor BALLOT_SECRET. The reader can tie a unit to its box row (same transaction,
same row order): the box row still names no choice. Given the secret, the same reader names
every unit's choice, which shows the attack would notice a leak.

After the close no table holds a sealed choice and the bytes are gone from the files: the
SQLite database and its WAL, and the PostgreSQL data files of the box and the drafts.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import sqlite3
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import URL, make_url, or_, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import col, select

from bot.core.sealing import (
    BallotKeys,
    SealError,
    ballot_keys,
    encode_choice,
    normalise_receipt,
    open_choice,
    open_draft,
    receipt_mac,
)
from bot.core.voting import Choice
from bot.fakes.clock import FakeClock
from bot.render import Renderer
from bot.services import voting as svc
from bot.services.actors import Actor
from bot.services.app import Services
from bot.services.blocs import set_publish_receipts
from bot.services.outcomes import Rejected
from storage.files import FileStore
from storage.migrate import migrate
from storage.tables import OutboxRow
from storage.uow import Database
from tests.conftest import AUDIT_KEY, BALLOT_SECRET, PG_URL, START, ensure_worker_database
from tests.storage.test_voting_concurrency import make_bloc

# These read PostgreSQL's files and depend on its vacuum horizon, which a parallel worker's
# sessions can hold back: they run on their own after the parallel run (make test).
pytestmark = pytest.mark.serial

Row = dict[str, Any]
Dump = dict[str, list[Row]]
ChoiceKey = tuple[tuple[int, ...], bool]  # chosen option indices, blank

RECEIPT = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
CHAIR = "5"  # /ballot defaults: 5 is the chair's certificate (up to 3 choices, secret)
LEADER = "6"  # 6 is the leader ballot (secret), left open as a control
UNITS = 9
# What each unit does on the chair's certificate ballot (option i is unit i; nobody may
# choose their own unit): cast a choice at once, or build it tap by tap then confirm, or
# (the last unit) leave a selection unconfirmed at the close. All eight casts differ.
PLAN: list[tuple[str, list[int]]] = [
    ("cast", []),  # unit 0: a blank ballot
    ("cast", [0]),
    ("taps", [0, 1]),
    ("taps", [1, 2]),
    ("taps", [0, 3, 2]),
    ("cast", [6]),
    ("taps", [5, 7]),
    ("taps", [0, 1, 3, 3, 2]),  # the 3 is tapped off again: (0, 1, 2)
    ("draft", [0, 1]),  # never confirmed
]


def _key(choice: Choice) -> ChoiceKey:
    return tuple(sorted(choice.options)), choice.blank


# --- the scene --------------------------------------------------------------------------------


@dataclass
class Scene:
    services: Services
    secretary: Actor
    unit_ids: list[int]
    ballot_id: int
    options: int
    leader_id: int
    truth: dict[int, ChoiceKey] = field(default_factory=dict)  # unit -> what it cast
    receipts: dict[int, str] = field(default_factory=dict)  # unit -> receipt in its chat
    sealed: set[bytes] = field(default_factory=set)  # every sealed value ever seen, chair
    leader_sealed: set[bytes] = field(default_factory=set)


def _services(db: Database, clock: FakeClock, tmp_path: Path) -> Services:
    # Real random receipts (the `services` fixture's counter would give them in cast order).
    return Services(
        db=db,
        clock=clock,
        renderer=Renderer(),
        audit_key=AUDIT_KEY,
        ballot_secret=BALLOT_SECRET,
        files=FileStore(tmp_path / "files"),
        admins=frozenset(),
    )


async def _sealed_rows(db: Database, ballot_id: int) -> set[bytes]:
    """The sealed values now stored for the ballot (box and drafts), read and let go."""
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT sealed FROM ballot_box WHERE ballot_id = :b "
                "UNION ALL SELECT sealed FROM sealed_draft WHERE ballot_id = :b"
            ),
            {"b": ballot_id},
        )
        return {bytes(r[0]) for r in rows}


async def _scene(db: Database, tmp_path: Path, *, publish: bool) -> Scene:
    """A bloc of nine units with a conference; the chair's certificate and the leader ballot
    open; every unit but the last casts a different choice on the first, the last leaves a
    selection; five units vote on the leader ballot, which stays open."""
    clock = FakeClock(START)
    services = _services(db, clock, tmp_path)
    setup = await make_bloc(services, units=UNITS, reps_per_unit=1, ballot=False)
    reps = [people[0] for people in setup.reps]
    secretary = setup.secretary
    if publish:
        assert not isinstance(await set_publish_receipts(services, secretary, True), Rejected)
    created = await svc.create_conference_ballots(services, secretary)
    assert isinstance(created, svc.BallotsCreated)
    opened = await svc.open_ballot(services, secretary, ref=CHAIR)
    assert isinstance(opened, svc.Opened), opened
    leader = await svc.open_ballot(services, secretary, ref=LEADER)
    assert isinstance(leader, svc.Opened), leader
    info = opened.line.info
    assert info.ballot.rules.secret
    assert info.ballot.rules.max_choices == 3
    # Option i is unit i: the plan above never has a unit choose itself.
    assert [o.unit_id for o in info.ballot.options] == setup.units
    scene = Scene(
        services,
        secretary,
        setup.units,
        info.ballot.id,
        len(info.ballot.options),
        leader.line.info.ballot.id,
    )

    async def seen() -> None:
        scene.sealed |= await _sealed_rows(db, scene.ballot_id)

    for n, (how, picks) in enumerate(PLAN):
        actor = reps[n]
        clock.advance(timedelta(minutes=1))  # casts minutes apart, as in a real room
        if how == "cast":
            choice = Choice(tuple(picks), blank=not picks)
            done = await svc.cast_vote(services, actor, ballot_id=scene.ballot_id, choice=choice)
        else:
            version = 0
            for index in picks:
                view = await svc.toggle(services, actor, ballot_id=scene.ballot_id, index=index)
                assert isinstance(view, svc.VoteView), view
                version = view.version
                await seen()  # every version of the sealed selection
            if how == "draft":
                continue
            done = await svc.cast_vote(
                services, actor, ballot_id=scene.ballot_id, choice=None, version=version
            )
        assert isinstance(done, svc.Accepted), done
        assert done.receipt is not None
        scene.receipts[scene.unit_ids[n]] = done.receipt
        chosen: set[int] = set()
        for index in picks:
            chosen ^= {index}  # a second tap takes a candidate off again
        scene.truth[scene.unit_ids[n]] = (tuple(sorted(chosen)), not picks)
        await seen()
    assert len(set(scene.truth.values())) == len(scene.truth) == UNITS - 1

    leader_options = leader.line.info.ballot.options
    for n in range(1, 6):
        mine = [o.index for o in leader_options if o.unit_id != scene.unit_ids[n]][:1]
        choice = Choice(tuple(mine), blank=not mine)
        done = await svc.cast_vote(services, reps[n], ballot_id=scene.leader_id, choice=choice)
        assert isinstance(done, svc.Accepted), done
    scene.leader_sealed = await _sealed_rows(db, scene.leader_id)
    assert len(scene.leader_sealed) == 5
    return scene


async def _close(scene: Scene) -> svc.Closed:
    closed = await svc.close_ballot(scene.services, scene.secretary, ref=CHAIR)
    assert isinstance(closed, svc.Closed), closed
    assert closed.result.returned == UNITS - 1
    return closed


# --- what a reader of the database holds --------------------------------------------------------


def _is_pg(db: Database) -> bool:
    return db.engine.dialect.name == "postgresql"


async def full_dump(db: Database) -> Dump:
    """Every table of the schema, every column; `_xmin` and `_ctid` (PostgreSQL) or `_rowid`
    (SQLite) besides. The connection's transaction ends before this returns."""
    async with db.engine.connect() as conn:
        if _is_pg(db):
            names = (
                await conn.execute(
                    text(
                        "SELECT table_name FROM information_schema.tables "
                        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
                    )
                )
            ).scalars()
            extra = 'xmin::text::bigint AS "_xmin", ctid::text AS "_ctid"'
        else:
            names = (
                await conn.execute(
                    text(
                        "SELECT name FROM sqlite_master "
                        "WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                    )
                )
            ).scalars()
            extra = 'rowid AS "_rowid"'
        dump: Dump = {}
        for name in sorted(names):
            rows = await conn.execute(text(f'SELECT {extra}, t.* FROM "{name}" t'))
            dump[name] = [dict(r._mapping) for r in rows]
    assert {"secret_register", "ballot_box", "sealed_draft", "audit_log"} <= set(dump)
    return dump


def _physical(row: Row) -> tuple[int, ...]:
    """Where a row sits: its ctid (page, item) on PostgreSQL, its rowid on SQLite."""
    if "_ctid" in row:
        page, item = row["_ctid"].strip("()").split(",")
        return int(page), int(item)
    return (int(row["_rowid"]),)


def _cells(dump: Dump) -> Iterator[tuple[str, Row, str, Any]]:
    for table, rows in dump.items():
        for row in rows:
            for column, value in row.items():
                yield table, row, column, value


@dataclass
class Evidence:
    ballot_id: int
    options: int
    open_dump: Dump
    closed_dump: Dump
    published: list[str]  # texts and contexts posted after the close
    private_receipts: dict[int, str]  # unit -> receipt, when the reader also holds those


def _published_receipts(ev: Evidence) -> dict[str, ChoiceKey]:
    """Receipt -> choice as the bloc published it (empty unless it opted in)."""
    found: dict[str, ChoiceKey] = {}
    for row in ev.closed_dump["ballot_result"]:
        if row["ballot_id"] != ev.ballot_id:
            continue
        for entry in json.loads(row["result"]).get("receipts", []):
            code = normalise_receipt(entry["receipt"])
            assert code is not None
            found[code] = (tuple(sorted(entry["options"])), bool(entry["blank"]))
    return found


def _guessed_keys(ev: Evidence, guesses: list[bytes]) -> list[BallotKeys]:
    keys = []
    for guess in guesses:
        keys.append(ballot_keys(guess, ev.ballot_id))
        if len(guess) == 32:  # a stored derived key, used as it is
            keys.append(BallotKeys(ev.ballot_id, guess, guess, ""))
    return keys


def every_value_as_a_secret(*dumps: Dump) -> list[bytes]:
    """Whatever the database holds, each tried as BALLOT_SECRET (and as a raw key)."""
    found: set[bytes] = {b"", BALLOT_SECRET + b"!", AUDIT_KEY}
    for dump in dumps:
        for _, _, _, value in _cells(dump):
            if isinstance(value, bytes | memoryview):
                found.add(bytes(value))
            elif isinstance(value, str):
                found.add(value.encode())
                with contextlib.suppress(ValueError):
                    found.add(bytes.fromhex(value))
    return sorted(found)


def attack(ev: Evidence, guesses: list[bytes]) -> dict[str, dict[int, ChoiceKey]]:
    """Every way the reader ties a unit to a choice: by strategy, unit -> choice named."""
    b = ev.ballot_id
    dump = ev.open_dump
    named: dict[str, dict[int, ChoiceKey]] = defaultdict(dict)
    published = _published_receipts(ev)
    shown = [*ev.private_receipts.values(), *(m for t in ev.published for m in RECEIPT.findall(t))]
    codes = set(published) | {c for r in shown if (c := normalise_receipt(r)) is not None}
    keysets = _guessed_keys(ev, guesses)

    def choice_of_box_row(row: Row) -> ChoiceKey | None:
        sealed = bytes(row["sealed"])
        for keys in keysets:  # open it
            try:
                choice, _ = open_choice(keys, sealed, ev.options)
            except SealError:
                continue
            return _key(choice)
        for code in codes:  # find its receipt, then the published choice of that receipt
            plain = code.encode() in sealed or code in str(row)
            if (plain or any(receipt_mac(k, code) == row["receipt_mac"] for k in keysets)) and (
                code in published
            ):
                return published[code]
        return None

    # 1. Unit -> box row, by every join there is; then the box row -> a choice.
    register = [r for r in dump["secret_register"] if r["ballot_id"] == b]
    box = [r for r in dump["ballot_box"] if r["ballot_id"] == b]
    audit = [
        r
        for r in dump["audit_log"]
        if r["action"] == "vote.cast_secret" and json.loads(r["details"]).get("ballot") == b
    ]
    assert len(register) == len(box) == len(audit) == UNITS - 1
    by_place = sorted(box, key=_physical)
    links: dict[str, list[tuple[int, Row]]] = {
        "row order": [
            (r["unit_id"], x)
            for r, x in zip(sorted(register, key=_physical), by_place, strict=True)
        ],
        "register id": [
            (r["unit_id"], x)
            for r, x in zip(sorted(register, key=lambda r: r["id"]), by_place, strict=True)
        ],
        "cast time": [
            (r["unit_id"], x)
            for r, x in zip(
                sorted(register, key=lambda r: (r["cast_at"], r["id"])), by_place, strict=True
            )
        ],
        "audit order": [
            (a["unit_id"], x)
            for a, x in zip(sorted(audit, key=lambda a: a["seq"]), by_place, strict=True)
        ],
        "box id order": [
            (r["unit_id"], x)
            for r, x in zip(
                sorted(register, key=lambda r: r["id"]),
                sorted(box, key=lambda x: x["id"]),
                strict=True,
            )
        ],
        "receipt hmac order": [
            (r["unit_id"], x)
            for r, x in zip(
                sorted(register, key=lambda r: r["id"]),
                sorted(box, key=lambda x: x["receipt_mac"]),
                strict=True,
            )
        ],
    }
    if "_xmin" in box[0]:  # PostgreSQL: the rows one transaction wrote share their xmin
        links["xmin"] = [
            (r["unit_id"], x) for r in register for x in box if x["_xmin"] == r["_xmin"]
        ]
        links["audit xmin"] = [
            (a["unit_id"], x) for a in audit for x in box if x["_xmin"] == a["_xmin"]
        ]
    for how, pairs in links.items():
        for unit, row in pairs:
            if (choice := choice_of_box_row(row)) is not None:
                named[how][unit] = choice
    # A selection not yet cast names its unit in clear: open it.
    for row in dump["sealed_draft"]:
        for keys in keysets:
            if row["ballot_id"] == b:
                with contextlib.suppress(SealError):
                    picked = open_draft(keys, row["unit_id"], bytes(row["sealed"]), ev.options)
                    named["draft"][row["unit_id"]] = (picked, False)

    # 2. Any row anywhere that names a unit (its unit_id, its identity's unit, or on
    # PostgreSQL the xmin of that unit's register row) and holds a receipt or a choice.
    unit_of_identity = {
        m["identity_id"]: m["unit_id"] for m in ev.closed_dump["membership"] if m["unit_id"]
    }
    unit_of_xmin = {r["_xmin"]: r["unit_id"] for r in register if "_xmin" in r}
    for current in (ev.open_dump, ev.closed_dump):
        for table, rows in current.items():
            for row in rows:
                named_units = [
                    row.get("unit_id"),
                    unit_of_identity.get(row.get("identity_id")),
                    unit_of_identity.get(row.get("actor_identity_id")),
                    unit_of_xmin.get(row.get("_xmin")),
                ]
                units = {int(u) for u in named_units if u is not None}
                if not units:
                    continue
                for value in row.values():
                    for choice in _choices_in(value, b, codes, published, row):
                        for who in units:
                            named[f"row of {table}"][who] = choice

    # 3. A receipt the unit holds, looked up in the published list.
    for unit, receipt in ev.private_receipts.items():
        held = normalise_receipt(receipt)
        if held is not None and held in published:
            named["receipt held"][unit] = published[held]
    return {how: found for how, found in named.items() if found}


def _choices_in(
    value: Any, ballot_id: int, codes: set[str], published: dict[str, ChoiceKey], row: Row
) -> Iterator[ChoiceKey]:
    """Choices a cell gives away: a known receipt in it (with its published choice), or a
    JSON choice/selection of this ballot."""
    if isinstance(value, bytes | memoryview):
        raw = bytes(value)
        for code in codes:
            if code.encode() in raw and code in published:
                yield published[code]
        return
    if not isinstance(value, str):
        return
    for code in codes:
        shown = f"{code[:4]}-{code[4:8]}-{code[8:]}"
        if (code in value or shown in value) and code in published:
            yield published[code]
    try:
        data = json.loads(value)
    except ValueError:
        return
    here = row.get("ballot_id") == ballot_id or (
        isinstance(data, dict) and data.get("ballot") == ballot_id
    )
    if not here:
        return
    lists = [data] if isinstance(data, list) else []
    if isinstance(data, dict):
        lists += [data[n] for n in ("choice", "options", "selection") if n in data]
    for found in lists:
        if isinstance(found, list) and all(isinstance(i, int) for i in found):
            blank = data.get("blank") if isinstance(data, dict) else row.get("blank")
            yield tuple(sorted(found)), bool(blank)


def candidates(
    named: dict[str, dict[int, ChoiceKey]], units: list[int], universe: set[ChoiceKey]
) -> dict[int, set[ChoiceKey]]:
    """What the reader can say of each unit: the choices some strategy named, or else any
    choice that was cast."""
    out: dict[int, set[ChoiceKey]] = {}
    for unit in units:
        said = {found[unit] for found in named.values() if unit in found}
        out[unit] = said or set(universe)
    return out


async def _published(scene: Scene, closed: svc.Closed) -> list[str]:
    render = scene.services.renderer
    out = await svc.vote_record(scene.services, scene.secretary, ref=CHAIR, locale="vi")
    assert isinstance(out, svc.RecordOut)
    texts = [
        render.render("vi", "ballot_result", **closed.group_text_context),
        render.render("vi", "ballot_result", **out.context),
        json.dumps(closed.group_text_context, default=str, ensure_ascii=False),
        json.dumps(out.context, default=str, ensure_ascii=False),
    ]
    async with scene.services.db.uow() as uow:
        sent = await uow.session.exec(
            select(OutboxRow.text).where(
                or_(
                    col(OutboxRow.dedup_key).startswith("notice:ballot_result:"),
                    col(OutboxRow.dedup_key).startswith("result:"),
                )
            )
        )
        texts += list(sent.all())  # the result as the secretariat and the group are told
    return texts


# --- 1. the reader cannot name a choice; with the secret it can ---------------------------------


@pytest.mark.parametrize("publish", [False, True], ids=["private", "receipts_published"])
async def test_a_database_reader_cannot_name_any_units_choice(
    committed_db: Database, tmp_path: Path, publish: bool
) -> None:
    scene = await _scene(committed_db, tmp_path, publish=publish)
    open_dump = await full_dump(committed_db)
    closed = await _close(scene)
    closed_dump = await full_dump(committed_db)
    published = await _published(scene, closed)
    voters = list(scene.truth)

    # The published count is right, and receipt -> choice is public only on the opt-in.
    votes = Counter(i for options, _ in scene.truth.values() for i in options)
    assert [r.votes for r in closed.result.options] == [votes[i] for i in range(scene.options)]
    assert closed.result.blank == 1
    ev = Evidence(
        scene.ballot_id,
        scene.options,
        open_dump,
        closed_dump,
        published,
        # Without publication the reader may even hold every unit's receipt: a receipt says
        # nothing of a choice. With publication a unit's own receipt names its choice, so the
        # reader has the database and the published list only (never the private chats).
        private_receipts={} if publish else dict(scene.receipts),
    )
    listed = _published_receipts(ev)
    result_text = published[0]
    if publish:
        assert sorted(listed.values()) == sorted(scene.truth.values())
        assert set(listed) == {normalise_receipt(r) for r in scene.receipts.values()}
        assert all(r in result_text for r in scene.receipts.values())
        universe = set(listed.values())
    else:
        assert listed == {}
        assert not any(RECEIPT.search(t) for t in published)
        universe = set(scene.truth.values())  # given away to the reader, for good measure
    assert len(universe) == UNITS - 1

    # The box and the drafts are opaque: one length, no plaintext, no receipt anywhere.
    box = [r for r in open_dump["ballot_box"] if r["ballot_id"] == scene.ballot_id]
    drafts = [r for r in open_dump["sealed_draft"] if r["ballot_id"] == scene.ballot_id]
    assert len(box) == UNITS - 1
    assert len(drafts) == 1
    assert len({len(bytes(r["sealed"])) for r in box + drafts}) == 1
    plaintexts = [
        encode_choice(
            Choice(opts, blank), scene.options, normalise_receipt(scene.receipts[u]) or ""
        )
        for u, (opts, blank) in scene.truth.items()
    ]
    receipts = {normalise_receipt(r) for r in scene.receipts.values()} | set(
        scene.receipts.values()
    )
    for table, _, column, value in _cells(open_dump):
        if isinstance(value, bytes | memoryview):
            assert not any(p in bytes(value) for p in plaintexts), (table, column)
        text_value = str(value)
        assert not any(r and r in text_value for r in receipts), (table, column)
        assert not any(p.hex() in text_value for p in plaintexts), (table, column)
    # The audit trail says who voted, never what.
    cast_rows = [r for r in closed_dump["audit_log"] if r["action"] == "vote.cast_secret"]
    assert len(cast_rows) == UNITS - 1 + 5
    assert all(set(json.loads(r["details"])) == {"ballot"} for r in cast_rows)

    # Every join the reader can make, every value of the database tried as the secret.
    guesses = every_value_as_a_secret(open_dump, closed_dump)
    assert BALLOT_SECRET not in guesses
    named = attack(ev, guesses)
    assert named == {}
    assert candidates(named, voters, universe) == dict.fromkeys(voters, universe)

    # The same reader given BALLOT_SECRET: register -> box row by xmin (PostgreSQL) or by
    # row order (SQLite), then the box row opened: every unit's choice, all of them right.
    with_secret = attack(ev, [BALLOT_SECRET])
    joined = "xmin" if _is_pg(committed_db) else "row order"
    assert with_secret[joined] == scene.truth
    keys = ballot_keys(BALLOT_SECRET, scene.ballot_id)
    for row in box:
        _, receipt = open_choice(keys, bytes(row["sealed"]), scene.options)
        assert row["receipt_mac"] == receipt_mac(keys, receipt)


# --- 2. after the close the sealed bytes are gone, from the tables and the files --------------


def _slices(sealed: bytes) -> list[bytes]:
    return [sealed, *(sealed[i : i + 16] for i in range(0, len(sealed) - 15, 4))]


def _found_in(blob: bytes, sealed: set[bytes]) -> set[bytes]:
    """The sealed values of which the whole, or any 16-byte slice, is in the bytes."""
    return {s for s in sealed if any(piece in blob for piece in _slices(s))}


def _in_dump(dump: Dump, sealed: set[bytes]) -> list[tuple[str, str]]:
    hits = []
    for table, _, column, value in _cells(dump):
        if isinstance(value, bytes | memoryview):
            if _found_in(bytes(value), sealed):
                hits.append((table, column))
        elif isinstance(value, str):
            lowered = value.lower()
            if any(s.hex() in lowered or base64.b64encode(s).decode() in value for s in sealed):
                hits.append((table, column))
    return hits


async def _files(db: Database) -> dict[str, bytes]:
    """The raw bytes where the box and the drafts are stored now (after a checkpoint)."""
    if not _is_pg(db):
        database = db.engine.url.database
        assert database is not None
        return _sqlite_files(Path(database))
    engine = db.engine.execution_options(isolation_level="AUTOCOMMIT")
    found = {}
    async with engine.connect() as conn:
        await conn.execute(text("CHECKPOINT"))
        for table in ("ballot_box", "sealed_draft"):
            path = (
                await conn.execute(text("SELECT pg_relation_filepath(:t)"), {"t": table})
            ).scalar_one()
            found[path] = await _pg_file(conn, path) or b""
    return found


def _sqlite_files(path: Path) -> dict[str, bytes]:
    """The database file and, where they exist, its WAL and shared-memory files."""
    found = {path.name: path.read_bytes()}
    for suffix in ("-wal", "-shm", "-journal"):
        other = path.with_name(path.name + suffix)
        if other.exists():
            found[other.name] = other.read_bytes()
    return found


async def _pg_file(conn: Any, path: str) -> bytes | None:
    """A file under the data directory, or None when it no longer exists."""
    size = (
        await conn.execute(text("SELECT size FROM pg_stat_file(:p, true)"), {"p": path})
    ).scalar_one_or_none()
    if size is None:
        return None
    data = (
        await conn.execute(
            text("SELECT pg_read_binary_file(:p, 0, :n, true)"), {"p": path, "n": size}
        )
    ).scalar_one_or_none()
    return None if data is None else bytes(data)


@pytest.mark.parametrize("end", ["close", "cancel"])
async def test_no_sealed_choice_outlives_the_count(
    committed_db: Database, tmp_path: Path, end: str
) -> None:
    scene = await _scene(committed_db, tmp_path, publish=False)
    captured = scene.sealed
    before_dump = await full_dump(committed_db)
    live_box = {
        bytes(r["sealed"]) for r in before_dump["ballot_box"] if r["ballot_id"] == scene.ballot_id
    }
    live_draft = {
        bytes(r["sealed"])
        for r in before_dump["sealed_draft"]
        if r["ballot_id"] == scene.ballot_id
    }
    live = live_box | live_draft
    # Eight box rows and the unconfirmed selection; every earlier selection too.
    assert len(live_box) == UNITS - 1
    assert len(live_draft) == 1
    assert live < captured

    # Before the count the searches find them: in the tables and in the stored bytes.
    assert {t for t, _ in _in_dump(before_dump, captured)} == {"ballot_box", "sealed_draft"}
    before = await _files(committed_db)
    assert _found_in(b"".join(before.values()), live) == live
    assert _found_in(b"".join(before.values()), scene.leader_sealed) == scene.leader_sealed
    if _is_pg(committed_db):
        box_file, draft_file = list(before)
        assert _found_in(before[box_file], live) == live_box
        assert _found_in(before[draft_file], live) == live_draft

    # The purge rewrites what no transaction can still see: this test's own connections
    # hold none during the close (another open transaction would keep the rows; see
    # storage/secret_repos.py purge_sealed_storage).

    if end == "close":
        await _close(scene)
    else:
        cancelled = await svc.cancel_ballot(
            scene.services, scene.secretary, ref=CHAIR, reason="Sai danh sách"
        )
        assert isinstance(cancelled, svc.BallotChanged), cancelled
    await committed_db.purged()  # the rewrite runs in the background after the count

    # No table holds a sealed choice of the ballot; nothing captured is in any column.
    after_dump = await full_dump(committed_db)
    assert [r for r in after_dump["ballot_box"] if r["ballot_id"] == scene.ballot_id] == []
    assert [r for r in after_dump["sealed_draft"] if r["ballot_id"] == scene.ballot_id] == []
    assert _in_dump(after_dump, captured) == []
    # The other ballot, still open, keeps its box.
    assert {
        bytes(r["sealed"]) for r in after_dump["ballot_box"] if r["ballot_id"] == scene.leader_id
    } == scene.leader_sealed

    # Nor in the files: neither the whole value nor a 16-byte piece of it.
    after = await _files(committed_db)
    for name, blob in after.items():
        assert _found_in(blob, captured) == set(), name
    # ... while the open ballot's box rows are there, in the same files.
    assert _found_in(b"".join(after.values()), scene.leader_sealed) == scene.leader_sealed
    if _is_pg(committed_db):
        # The files the rows lived in before were rewritten: gone or empty of them.
        assert set(after).isdisjoint(before)
        async with committed_db.engine.connect() as conn:
            for path in before:
                old = await _pg_file(conn, path)
                assert old is None or _found_in(old, captured) == set(), path


async def test_a_reader_older_than_the_count_does_not_keep_the_sealed_rows(
    committed_db: Database, tmp_path: Path
) -> None:
    """A transaction that began before the count could still see the deleted rows; the
    rewrite waits for it to end instead of copying them into the new file (PostgreSQL), or
    the checkpoint waits for it to leave the WAL (SQLite)."""
    scene = await _scene(committed_db, tmp_path, publish=False)
    captured = scene.sealed
    reader_started = asyncio.Event()
    release = asyncio.Event()

    async def older_reader() -> None:
        if _is_pg(committed_db):
            async with committed_db.engine.connect() as conn:
                await conn.execute(text("BEGIN ISOLATION LEVEL REPEATABLE READ"))
                # Another table: a lock on the box itself would hold VACUUM FULL back anyway.
                await conn.execute(text("SELECT count(*) FROM bloc"))
                reader_started.set()
                await release.wait()
                await conn.rollback()
            return
        # SQLite: a plain reader (deferred transaction) keeps a snapshot in the WAL.
        database = committed_db.engine.url.database
        assert database is not None
        raw = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
        try:
            raw.execute("BEGIN")
            raw.execute("SELECT count(*) FROM bloc").fetchall()
            reader_started.set()
            await release.wait()
            raw.execute("COMMIT")
        finally:
            raw.close()

    reader = asyncio.create_task(older_reader())
    await reader_started.wait()

    async def end_reader_soon() -> None:
        await asyncio.sleep(0.5)
        release.set()

    ender = asyncio.create_task(end_reader_soon())
    await _close(scene)  # answers at once; the purge waits for the reader, then rewrites
    await ender
    await reader
    await committed_db.purged()
    after = await _files(committed_db)
    for name, blob in after.items():
        assert _found_in(blob, captured) == set(), name
    assert _found_in(b"".join(after.values()), scene.leader_sealed) == scene.leader_sealed


@dataclass(frozen=True)
class Roles:
    """A schema owned by the bot's own (not superuser) role, and another role that reads it."""

    bot: Database  # connects as the owner, as a deployment would
    superuser: Database  # the same schema as the test's superuser: for reading data files
    reader_url: URL
    schema: str


@pytest.fixture(params=["postgresql"])
async def roles() -> AsyncIterator[Roles]:
    """PostgreSQL roles of their own: a reader's session is then one the bot's role may not
    inspect in full (pg_stat_activity hides xact_start of other roles' sessions)."""
    suffix = uuid.uuid4().hex[:10]
    bot_role, reader_role, schema = f"bot_{suffix}", f"reader_{suffix}", f"r_{suffix}"
    await ensure_worker_database()
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE ROLE "{bot_role}" LOGIN'))
        await conn.execute(text(f'CREATE ROLE "{reader_role}" LOGIN'))
        await conn.execute(text(f'CREATE SCHEMA "{schema}" AUTHORIZATION "{bot_role}"'))
    url = make_url(PG_URL)
    on_schema = {"server_settings": {"search_path": schema}}
    bot = Database(create_async_engine(url.set(username=bot_role), connect_args=on_schema))
    superuser = Database(create_async_engine(url, connect_args=on_schema))
    try:
        await migrate(bot.engine)
        async with bot.engine.begin() as conn:  # the owner lets the reader in
            await conn.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO "{reader_role}"'))
            await conn.execute(
                text(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{reader_role}"')
            )
        yield Roles(bot, superuser, url.set(username=reader_role), schema)
    finally:
        await bot.dispose()
        await superuser.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await conn.execute(text(f'DROP ROLE IF EXISTS "{reader_role}"'))
            await conn.execute(text(f'DROP ROLE IF EXISTS "{bot_role}"'))
        await admin.dispose()


async def test_a_reader_of_another_role_older_than_the_count_does_not_keep_the_sealed_rows(
    roles: Roles, tmp_path: Path
) -> None:
    """A backup or reporting user (another role, not a superuser) in a transaction that began
    before the count: the bot's role cannot see when that transaction started, but sees its
    snapshot (backend_xmin); the rewrite waits for it instead of copying the rows along."""
    db = roles.bot
    scene = await _scene(db, tmp_path, publish=False)
    captured = scene.sealed
    assert _found_in(b"".join((await _files(roles.superuser)).values()), captured)
    reader_started = asyncio.Event()
    release = asyncio.Event()
    reader_engine = create_async_engine(
        roles.reader_url, connect_args={"server_settings": {"search_path": roles.schema}}
    )

    async def older_reader() -> None:
        async with reader_engine.connect() as conn:
            await conn.execute(text("BEGIN ISOLATION LEVEL REPEATABLE READ"))
            # Another table: a lock on the box itself would hold VACUUM FULL back anyway.
            assert (await conn.execute(text("SELECT count(*) FROM bloc"))).scalar_one() == 1
            reader_started.set()
            await release.wait()
            await conn.rollback()

    async def end_reader_soon() -> None:
        await asyncio.sleep(0.5)
        release.set()

    try:
        reader = asyncio.create_task(older_reader())
        await reader_started.wait()
        ender = asyncio.create_task(end_reader_soon())
        await _close(scene)
        await ender
        await reader
        await db.purged()
    finally:
        await reader_engine.dispose()
    after = await _files(roles.superuser)
    for name, blob in after.items():
        assert _found_in(blob, captured) == set(), name
    assert _found_in(b"".join(after.values()), scene.leader_sealed) == scene.leader_sealed
