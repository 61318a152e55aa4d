"""A whole secret vote in chat leaves no receipt and no choice behind it: not in the logs
(every logger at DEBUG), not in the conversation storage, and a database dump taken while
units are still choosing shows only sealed drafts (decision 4). A changed BALLOT_SECRET is
refused in chat with a clear message, and changes nothing."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import User
from sqlmodel import SQLModel

from bot.core.sealing import ballot_keys, open_draft, plaintext_size
from bot.services.app import Services
from handlers.telegram.voting import ReceiptCheck
from tests.conftest import BALLOT_SECRET
from tests.handlers.conftest import SECRETARY, Harness, Reply
from tests.handlers.support import (
    AN,
    BINH,
    CHAIR,
    CUONG,
    DUNG,
    GIANG,
    SGD,
    STT,
    SVH,
    SYT,
    VOTE_UNITS,
    ballot_ids,
    conference_setup,
    plain,
    unit_ids,
)

RECEIPT = re.compile(r"<code>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</code>")
DRIVER_LOGGERS = ("sqlalchemy", "aiosqlite", "asyncpg")


@pytest.fixture(autouse=True)
def every_logger_at_debug(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every logger, known now or created later, at DEBUG and propagating to the capture.
    Autouse, so it runs before the database fixture connects: SQLAlchemy decides whether a
    connection logs its statements when it is opened."""
    caplog.set_level(logging.DEBUG)
    names = [*logging.root.manager.loggerDict, "aiogram", "aiogram.event", *DRIVER_LOGGERS]
    saved: list[tuple[logging.Logger, bool, bool]] = []
    for name in names:
        logger = logging.getLogger(name)
        caplog.set_level(logging.DEBUG, logger=name)
        saved.append((logger, logger.propagate, logger.disabled))
        logger.propagate = True
        logger.disabled = False
    yield
    for logger, propagate, disabled in saved:
        logger.propagate = propagate
        logger.disabled = disabled


def _record_text(record: logging.LogRecord) -> str:
    """All a log record carries: its message, its arguments, extras and any traceback."""
    parts = [str(record.msg), repr(record.args), repr(vars(record))]
    with contextlib.suppress(TypeError, ValueError):
        parts.append(record.getMessage())
    if record.exc_text:
        parts.append(record.exc_text)
    if record.exc_info and record.exc_info[1] is not None:
        parts.append("".join(traceback.format_exception(record.exc_info[1])))
    return "\n".join(parts)


def _fsm_holds_nothing(tg: Harness) -> None:
    """The conversation storage never keeps a selection, an option index or a receipt: no
    data at all, and no state but "waiting for a receipt code" (which holds no data)."""
    storage = tg.bot.dp.storage
    assert isinstance(storage, MemoryStorage)
    for key, record in storage.storage.items():
        assert record.data == {}, (key, record.data)
        assert record.state in (None, ReceiptCheck.code.state), (key, record.state)


async def _step(tg: Harness, replies: Any) -> list[Reply]:
    found: list[Reply] = await replies
    _fsm_holds_nothing(tg)
    return found


async def _dump(services: Services) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, as a database reader would see them."""
    out: dict[str, list[dict[str, Any]]] = {}
    async with services.db.uow() as uow:
        conn = await uow.session.connection()
        for table in SQLModel.metadata.sorted_tables:
            rows = await conn.execute(sa.select(table).order_by(*table.primary_key.columns))
            out[table.name] = [dict(r._mapping) for r in rows]
    return out


def _as_text(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("latin-1")
    return str(value)


async def test_a_whole_secret_vote_leaves_no_receipt_or_choice_in_logs_or_conversation(
    tg: Harness, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    await conference_setup(tg)
    b = (await ballot_ids(services))[4]  # the chair's certificate: secret, up to 3 units
    units = await unit_ids(services)
    opened_at = len(caplog.records)

    async def tap(user: User, data: str) -> list[Reply]:
        return await _step(tg, tg.tap(user, data))

    async def say(user: User, text: str) -> list[Reply]:
        return await _step(tg, tg.say(user, text))

    await say(SECRETARY, "/ballot open 5")
    await say(AN, "/vote")
    await tap(AN, f"vt:{b}:show:0")
    # Sở Y tế builds its selection from two phones on the same keyboard; Sở GD&ĐT and Sở
    # VHTT&DL are still choosing when the database is read.
    for user, index in ((AN, 1), (AN, 2), (BINH, 3), (CUONG, 0), (DUNG, 0), (DUNG, 1), (DUNG, 3)):
        await tap(user, f"vt:{b}:tog:{index}")

    # --- a database dump taken mid-selection ----------------------------------------------
    dump = await _dump(services)
    drafts = {row["unit_id"]: row for row in dump["sealed_draft"] if row["ballot_id"] == b}
    assert sorted(drafts) == sorted([units["SYT"], units["SGDĐT"], units["SVHTTDL"]])
    lengths = {len(row["sealed"]) for row in drafts.values()}
    # nonce ‖ the padded plaintext ‖ tag: one length for one choice and for three.
    assert lengths == {12 + plaintext_size(4) + 16}
    # Only the ballot key opens them (4 candidates: "ý kiến khác" is not on a secret ballot).
    keys = ballot_keys(BALLOT_SECRET, b)
    assert {u: open_draft(keys, u, row["sealed"], 4) for u, row in drafts.items()} == {
        units["SYT"]: (1, 2, 3),
        units["SGDĐT"]: (0,),
        units["SVHTTDL"]: (0, 1, 3),
    }
    for table in ("vote_draft", "open_vote", "secret_register", "ballot_box"):
        assert [r for r in dump[table] if r["ballot_id"] == b] == [], table
    opened = [r for r in dump["audit_log"] if json.loads(r["details"]).get("ballot") == b]
    assert [r["action"] for r in opened] == ["ballot.created", "ballot.opened"]
    everything = "\n".join(
        f"{name}: " + " ".join(_as_text(v) for v in row.values())
        for name, rows in dump.items()
        for row in rows
        if name != "sealed_draft"
    )
    for selection in ("[1, 2, 3]", "[1,2,3]", "[0, 1, 3]", "[0,1,3]"):
        assert selection not in everything

    # --- confirming: the receipt is shown once ------------------------------------------------
    receipts: dict[str, str] = {}
    for user, name in ((AN, "SYT"), (CUONG, "SGDĐT"), (DUNG, "SVHTTDL")):
        review = await tap(user, f"vt:{b}:review:-2")
        # The confirm carries the version of the selection: a random number the dump showed
        # (a count of taps would tell odd from even selections).
        version = drafts[units[name]]["version"]
        assert version not in (0, 1, 3)
        assert review[0].callback_data[0] == [f"vt:{b}:ok:-2:{version}"]
        done = await tap(user, review[0].callback_data[0][0])
        found = RECEIPT.findall(done[0].text)
        assert len(found) == 1, done[0].text
        receipts[name] = found[0]
    await tap(GIANG, f"vt:{b}:blank:-1")
    done = await tap(GIANG, f"vt:{b}:ok:-1")
    receipts["STTTT"] = RECEIPT.findall(done[0].text)[0]
    assert done[0].text == (
        f"✅ Phiếu kín của <b>{STT}</b> đã được bỏ vào hòm phiếu.\n"
        f"Mã biên nhận: <code>{receipts['STTTT']}</code>\n\n"
        "Hãy lưu mã này ngay: bot không lưu mã và sẽ không hiển thị lại. Sau khi kiểm phiếu, "
        "bấm /vote → «Kiểm tra phiếu» và gửi mã để xác nhận phiếu của đơn vị đã được kiểm. "
        "Phiếu kín không thể thay đổi.\n"
        f"{CHAIR}: 4/4 đơn vị đã bỏ phiếu."
    )
    assert (done[0].buttons, done[0].callback_data) == (
        [["🔎 Kiểm tra phiếu"]],
        [["vt:0:check:0"]],
    )
    assert len(set(receipts.values())) == 4

    # --- checking a receipt while the ballot is open, then after the count -----------------
    asked = await tap(AN, "vt:0:check:0")
    assert asked[0].text.startswith("🔎 Gửi mã biên nhận")
    storage = tg.bot.dp.storage
    assert isinstance(storage, MemoryStorage)
    assert [r.state for r in storage.storage.values() if r.state] == [ReceiptCheck.code.state]
    in_box = await say(AN, receipts["SYT"])
    assert in_box[0].text == (
        f"📥 Phiếu có mã <code>{receipts['SYT']}</code> đang nằm trong hòm phiếu của «{CHAIR}». "
        "Phiếu sẽ được kiểm khi kết thúc bỏ phiếu; khi đó hãy kiểm tra lại."
    )
    assert [r.state for r in storage.storage.values() if r.state] == []

    result = await say(SECRETARY, "/ballot close 5")
    assert result[0].text.startswith(f"📊 <b>Kết quả: {CHAIR}</b>")
    # What the sealed drafts held: SYT chose SGD, SVH, STT; SGD chose SYT; SVH chose SYT,
    # SGD, STT; STT cast a blank ballot.
    for name, votes in ((SYT, 2), (SGD, 2), (SVH, 1), (STT, 2)):
        assert f"• {name}: {votes} phiếu" in result[0].text
    counted = f"✅ Phiếu có mã <code>{{}}</code> đã được kiểm trong «{CHAIR}»."
    # Pasted grouped by spaces (the test's receipts are all digits: bare, they would read as
    # an ID number, not a receipt).
    pasted = await say(CUONG, receipts["SGDĐT"].replace("-", " ").lower())
    assert pasted[0].text == counted.format(receipts["SGDĐT"])
    typed = await say(DUNG, f"/vote check {receipts['SVHTTDL']}")
    assert typed[0].text == counted.format(receipts["SVHTTDL"])

    # --- what the logs hold ---------------------------------------------------------------
    records = caplog.records
    assert records, "nothing was captured: the capture is not working"
    # The dispatcher and the SQL statements with their parameters were logged too.
    assert any(r.name.startswith("aiogram.event") for r in records)
    assert any(r.name.startswith("sqlalchemy.engine") for r in records[opened_at:])
    forbidden = [
        *receipts.values(),
        *(code.replace("-", "") for code in receipts.values()),
        f"vt:{b}:tog",
        f"vt:{b}:ok",
        f"vt:{b}:pick",
        f"vt:{b}:blank",
        f"vt:{b}:review",
    ]
    names = [n for pair in VOTE_UNITS for n in pair]
    for record in records:
        text = _record_text(record)
        for value in forbidden:
            assert value not in text, (value, record.name, record.getMessage()[:300])
    for record in records[opened_at:]:
        if record.name.startswith(DRIVER_LOGGERS):
            continue  # rows read by every request; a choice or receipt is checked above
        text = _record_text(record)
        for name in names:
            assert name not in text, (name, record.name, record.getMessage()[:300])


# --- a changed BALLOT_SECRET, as the chat sees it ------------------------------------------

SECRET_CHANGED = (
    "Khóa bỏ phiếu kín (BALLOT_SECRET) của máy chủ khác với khóa cơ sở dữ liệu này đã dùng, "
    "nên không thể niêm phong hoặc kiểm phiếu kín. Không có gì bị thay đổi. Vui lòng báo quản "
    "trị hệ thống khôi phục đúng BALLOT_SECRET."
)


async def test_a_changed_ballot_secret_is_refused_in_chat_and_changes_nothing(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    ids = await ballot_ids(services)
    chair, leader = ids[4], ids[5]
    await tg.say(SECRETARY, "/ballot open 5")  # sealed under the secret it was opened with
    await tg.tap(AN, f"vt:{chair}:tog:1")
    review = await tg.tap(AN, f"vt:{chair}:review:-2")
    assert RECEIPT.findall((await tg.tap(AN, review[0].callback_data[0][0]))[0].text)
    before = await _dump(services)

    # The bot restarted with another BALLOT_SECRET (its start-up check bypassed).
    services.ballot_secret = b"another-ballot-secret-0123456789abcdef"
    assert plain(await tg.say(SECRETARY, "/ballot open 6")) == [(SECRETARY.id, SECRET_CHANGED)]
    assert plain(await tg.say(SECRETARY, "/ballot close 5")) == [(SECRETARY.id, SECRET_CHANGED)]
    assert await tg.tap(CUONG, f"vt:{chair}:tog:0") == []
    assert tg.alerts == [SECRET_CHANGED[:200]]
    await tg.tap(GIANG, f"vt:{chair}:blank:-1")
    assert plain(await tg.tap(GIANG, f"vt:{chair}:ok:-1")) == [(GIANG.id, SECRET_CHANGED)]

    after = await _dump(services)
    for table in ("ballot", "secret_register", "ballot_box", "sealed_draft", "counted_receipt"):
        assert after[table] == before[table], table
    assert [(r["id"], r["status"]) for r in after["ballot"] if r["id"] in (chair, leader)] == [
        (chair, "open"),
        (leader, "draft"),
    ]

    # The right secret back: the paper in the box is counted.
    services.ballot_secret = BALLOT_SECRET
    result = await tg.say(SECRETARY, "/ballot close 5")
    assert f"• {SGD}: 1 phiếu" in result[0].text
    assert "thu về: 1;" in result[0].text
