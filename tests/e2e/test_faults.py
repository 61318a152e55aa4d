"""Faults on the production profile (`run --workers 2`, PostgreSQL, Redis): a worker
SIGKILLed while representatives are casting votes, and while the outbox is being sent.

After recovery: every vote the bot confirmed to someone is in the database, no unit is
counted twice, every announcement reaches every member (a duplicate only for rows in flight
at the kill), and the audit chain verifies. Only the test's own processes are killed."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.fakes.telegram import FakeTelegram, FakeUser
from tests.conftest import ADMIN_PG_URL
from tests.e2e.proxy import Proxy
from tests.e2e.test_run import ROOT, SECRETARY, _free_port, fake
from tests.e2e.test_workers import _health, _start

__all__ = ["fake"]

UNITS = 24
REPS = [FakeUser(3000 + i, "Đại diện", f"Đơn vị {i}") for i in range(1, UNITS + 1)]
CONFIRMED = "✅ Đã ghi nhận biểu quyết"
UNCHANGED = "ℹ️ Không có gì thay đổi: biểu quyết của"


async def _answer(fake: FakeTelegram, user: FakeUser, text: str, wanted: str) -> str:
    """Send `text`; the first answer to `user` containing `wanted` (notices of other
    updates, handled by the other worker, may arrive in between)."""
    mark = fake.mark()
    await fake.send_text(user, text)
    for _ in range(600):
        for m in fake.sent_since(mark):
            if m.chat_id == user.id and wanted in (m.text or ""):
                return m.text or ""
        await asyncio.sleep(0.05)
    raise AssertionError(f"no answer with {wanted!r} to {text!r}")


async def _world(
    fake: FakeTelegram, reps: list[FakeUser] = REPS, *, open_first: bool = True
) -> None:
    """A bloc of one unit per representative (DV1, DV2, …), each checked in; the default
    ballots created and ballot 1 (report approval, open voting) opened, unless `open_first`
    is False."""
    await _answer(fake, SECRETARY, "/bloc new Khối thi đua Kinh tế; Khối; 2026; KTĐKT", "✅")
    rows = "Tên đơn vị,Tên viết tắt\n" + "".join(
        f"Đơn vị {i},DV{i}\n" for i in range(1, len(reps) + 1)
    )
    mark = fake.mark()
    await fake.send_document(SECRETARY, "units.csv", rows.encode(), caption="/units import")
    await fake.wait_for_messages(SECRETARY.id, 1, timeout=60, since=mark)
    for i, rep in enumerate(reps, start=1):
        invite = await _answer(fake, SECRETARY, f"/invite DV{i}", "?start=")
        code = invite.split("?start=")[1].split()[0]
        await _answer(fake, rep, f"/start {code}", "Bạn đã tham gia")
    await _answer(
        fake,
        SECRETARY,
        "/conference new 20/12/2026 08:00; Hội trường; DV1; Chủ tọa; Thư ký; A, B; C; Hà Nội",
        "Hội nghị",
    )
    # Check-in self-declared: the hall screen's code is not what this test is about.
    await _answer(fake, SECRETARY, "/conference checkin off", "tự khai báo")
    for rep in reps:
        await _answer(fake, rep, "/checkin", "điểm danh")
    await _answer(fake, SECRETARY, "/ballot defaults", "Thông qua dự thảo báo cáo tổng kết")
    if open_first:
        await _answer(fake, SECRETARY, "/ballot open 1", "✅ Đã mở biểu quyết số 1")


async def _ballot_id(database_url: str) -> int:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            row = (await conn.execute(text("SELECT min(id) FROM ballot"))).first()
    finally:
        await engine.dispose()
    assert row is not None
    return int(row[0])


async def _terminate_sessions(database_url: str) -> int:
    """Terminate the bot's PostgreSQL sessions — only those named by its workers, only in
    this test's database."""
    name = make_url(database_url).database
    engine = create_async_engine(ADMIN_PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :db AND application_name LIKE 'thidua-bot-w%'"
                ),
                {"db": name},
            )
            return len(rows.all())
    finally:
        await engine.dispose()


async def _rows(database_url: str, query: str) -> list[tuple[object, ...]]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return [tuple(r) for r in await conn.execute(text(query))]
    finally:
        await engine.dispose()


async def _audit_verifies(database_url: str) -> str:
    env = {**os.environ, "DATABASE_URL": database_url, "AUDIT_KEY": "workers-audit-key-0123456789"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "audit", "verify",
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, (out + err).decode()[-2000:]
    return out.decode()


@pytest.mark.parametrize("fault", ["kill", "terminate", "outage"])
async def test_a_fault_while_votes_are_cast_loses_no_confirmed_vote(
    fault: str, fake: FakeTelegram, tmp_path: Path, pg_database: str, redis_url: str
) -> None:
    """`kill`: worker 1 SIGKILLed; `terminate`: every PostgreSQL session of the bot's workers
    (named `thidua-bot-w<n>`, in the test's own database — nobody else's) terminated;
    `outage`: PostgreSQL and Redis unreachable for three seconds (a TCP proxy in between
    cuts every connection and refuses new ones), /healthz saying so meanwhile."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/tg/webhook"
    pg, rd = make_url(pg_database), make_url(redis_url)
    pg_proxy = await Proxy(pg.host or "127.0.0.1", pg.port or 5432).start()
    redis_proxy = await Proxy(rd.host or "127.0.0.1", rd.port or 6379).start()
    database = pg.set(port=pg_proxy.port).render_as_string(hide_password=False)
    cache = rd.set(port=redis_proxy.port).render_as_string(hide_password=False)
    proc, log = await _start(fake, tmp_path, database, cache, port)
    try:
        assert await fake.wait_webhook_set(timeout=60) == url
        workers = await _health(port, want_pids=2)
        assert len(workers) == 2
        await _world(fake)
        ballot = await _ballot_id(pg_database)
        mark = fake.mark()

        # Every representative confirms «Đồng ý» (half of them twice: a re-cast), all queued
        # at once, while worker 1 is killed in the middle of it.
        cards = {rep.id: fake.messages_to(rep.id)[-1] for rep in REPS}
        queued = [
            await fake.tap(rep, cards[rep.id], f"vt:{ballot}:ok:0")
            for rep in REPS + REPS[: UNITS // 2]
        ]
        await asyncio.sleep(0.3)
        if fault == "kill":
            victim = next(pid for pid, body in workers.items() if body["worker"] == 1)
            os.kill(victim, signal.SIGKILL)
        elif fault == "terminate":
            dropped = await _terminate_sessions(pg_database)
            assert dropped >= 2  # at least one pooled connection per worker
        else:
            pg_proxy.down()
            redis_proxy.down()
            sick = await _health(port, want_pids=2, tries=40)
            assert {b["status"] for b in sick.values()} == {503}, sick
            await asyncio.sleep(3.0)
            pg_proxy.up()
            redis_proxy.up()
        for update in queued:
            await fake.wait_processed(update, timeout=60)
        # Delivered is not handled (a worker answers 200 first): wait until the answers stop.
        count, still = -1, 0
        for _ in range(240):
            now = sum(1 for m in fake.sent_since(mark) if (m.text or "").startswith(CONFIRMED))
            still = still + 1 if now == count else 0
            if still >= 10:
                break
            count = now
            await asyncio.sleep(0.5)
        confirmed = {
            m.chat_id for m in fake.sent_since(mark) if (m.text or "").startswith(CONFIRMED)
        }
        stored = await _rows(
            pg_database,
            "SELECT u.short_name, count(*) FROM open_vote v JOIN unit u ON u.id = v.unit_id"
            f" WHERE v.ballot_id = {ballot} GROUP BY u.short_name",
        )
        voted = {str(name) for name, _ in stored}
        assert all(int(str(n)) == 1 for _, n in stored)  # one row per unit, never two
        confirmed_units = {f"DV{rep.id - 3000}" for rep in REPS if rep.id in confirmed}
        assert confirmed_units <= voted, confirmed_units - voted  # no confirmed vote lost
        if fault != "outage":
            assert confirmed_units  # the other worker (or a fresh connection) kept answering

        # Whoever got no confirmation taps again (as people do): after the restart, every
        # unit has voted exactly once more or less, and is confirmed — or told that its vote
        # stands unchanged: a commit that reached the database just as the connection was
        # cut is stored though its sender only heard of an error.
        later = fake.mark()
        for rep in REPS:
            if rep.id not in confirmed:
                await fake.tap(rep, fake.messages_to(rep.id)[-1], f"vt:{ballot}:ok:0")
        answered: set[int] = set()
        for _ in range(240):
            answered = {
                m.chat_id
                for m in fake.sent_since(mark)
                if (m.text or "").startswith((CONFIRMED, UNCHANGED))
            }
            if answered >= {rep.id for rep in REPS}:
                break
            await asyncio.sleep(0.5)
        missing = {rep.id for rep in REPS} - answered
        told = [
            (m.chat_id, (m.text or "")[:80]) for m in fake.sent_since(mark) if m.chat_id in missing
        ]
        assert not missing, (missing, told, log.read_text(encoding="utf-8")[-6000:])
        unchanged = {
            f"DV{m.chat_id - 3000}"
            for m in fake.sent_since(later)
            if (m.text or "").startswith(UNCHANGED)
        }
        assert unchanged <= voted, unchanged - voted  # "unchanged" only where it was stored
        final = await _rows(
            pg_database, f"SELECT count(*), count(DISTINCT unit_id) FROM open_vote"
            f" WHERE ballot_id = {ballot}"
        )  # fmt: skip
        assert final == [(UNITS, UNITS)]
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 60)
        await pg_proxy.close()
        await redis_proxy.close()
    assert proc.returncode == 0, log.read_text(encoding="utf-8")[-3000:]
    if fault == "kill":
        assert "exited with -9" in log.read_text(encoding="utf-8")
    assert "rows OK, head" in await _audit_verifies(pg_database)


async def test_a_worker_killed_while_the_outbox_is_sent_loses_no_message(
    fake: FakeTelegram, tmp_path: Path, pg_database: str, redis_url: str
) -> None:
    port = _free_port()
    proc, log = await _start(fake, tmp_path, pg_database, redis_url, port)
    try:
        await fake.wait_webhook_set(timeout=60)
        workers = await _health(port, want_pids=2)
        await _world(fake)
        # The announcement is stored (the secretary is told), then both workers are killed
        # while its rows go out.
        # (the secretary's own answer, not a late notice of someone's join)
        await _answer(
            fake, SECRETARY, "/announce tất cả; Họp trực tuyến lúc 14:00 thứ Sáu.", "Đã xếp gửi"
        )
        for pid in list(workers):
            os.kill(pid, signal.SIGKILL)
            await asyncio.sleep(0.2)
        got: dict[int, int] = {}
        # The rows claimed by the killed workers wait for their lease (60 s) to end, then for
        # a restarted worker's tick (every 30 s): allow four minutes on a loaded machine.
        for _ in range(480):
            got = {
                rep.id: sum(
                    1
                    for m in fake.messages_to(rep.id)
                    if "Họp trực tuyến lúc 14:00 thứ Sáu." in (m.text or "")
                )
                for rep in REPS
            }
            if all(got.values()):
                break
            await asyncio.sleep(0.5)
        assert all(got.values()), {k: v for k, v in got.items() if not v}
        twice = [k for k, v in got.items() if v > 1]
        assert len(twice) <= 8, twice  # only rows in flight at a kill go twice
        unsent = await _rows(
            pg_database,
            "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL"
            " AND dedup_key LIKE 'announce:%'",
        )
        assert unsent == [(0,)]
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 60)
    assert proc.returncode == 0, log.read_text(encoding="utf-8")[-3000:]
    await _audit_verifies(pg_database)
