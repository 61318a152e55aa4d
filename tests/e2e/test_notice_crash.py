"""A use case's notices are written with its change: the bot killed right after a join is
committed — its answer to the newcomer and everything to the secretary in flight, never
delivered — still tells the secretary after a restart (once the dead process's claim on the
outbox row has run out)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.fakes.telegram import FakeTelegram
from tests.e2e.test_run import (
    REP,
    SECRETARY,
    UNITS_CSV,
    _say,
    _start_bot,
    _stop,
    _wait_started,
    fake,
)

__all__ = ["fake"]

JOINED = "👤 Nguyễn Văn Thành đã tham gia <b>Khối thi đua Văn hóa - Xã hội</b>: đại diện Sở Y tế."


def _told(fake: FakeTelegram) -> list[str]:
    return [m.text or "" for m in fake.messages_to(SECRETARY.id) if m.text == JOINED]


async def test_a_notice_committed_before_a_kill_is_sent_after_the_restart(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    proc = await _start_bot(fake, tmp_path)
    try:
        await _wait_started(fake, proc)
        await _say(fake, SECRETARY, "/bloc new Khối thi đua Văn hóa - Xã hội; Khối; 2026; KTĐVHXH")
        mark = fake.mark()
        await fake.send_document(SECRETARY, "units.csv", UNITS_CSV, caption="/units import")
        await fake.wait_for_messages(SECRETARY.id, 1, timeout=20, since=mark)
        invite = (await _say(fake, SECRETARY, "/invite SYT"))[0]
        code = invite.split("?start=")[1].split()[0]

        # Sends to the newcomer and to the secretary hang: the answer to the join is sent
        # only after its commit, so once it is in flight the join is stored — kill then.
        fake.stall(REP.id)
        fake.stall(SECRETARY.id)
        start = len(fake.requests)
        await fake.send_text(REP, f"/start {code}")
        for _ in range(400):
            if any(
                r.method == "sendMessage" and r.params.get("chat_id") == REP.id
                for r in fake.requests[start:]
            ):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the bot never answered the join")
        proc.kill()
        await proc.wait()
    finally:
        await _stop(proc)
    fake.unstall(REP.id)
    fake.unstall(SECRETARY.id)
    assert _told(fake) == []  # nothing reached the secretary before the kill

    started = len(fake.requests)
    proc = await _start_bot(fake, tmp_path)
    try:
        await _wait_started(fake, proc, started)
        # The dead process's claim lasts 60 s, then a tick (every 30 s) sends the row.
        for _ in range(300):
            if _told(fake):
                break
            await asyncio.sleep(0.5)
    finally:
        err = await _stop(proc)
    assert proc.returncode == 0, err
    assert _told(fake) == [JOINED]
    assert fake.messages_to(REP.id) == []  # the answer itself was lost with the process
