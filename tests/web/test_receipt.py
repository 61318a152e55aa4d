"""The receipt check page: a secret ballot's receipt → in the box, then counted after the
close, or not found — in the chat's words; the code is kept nowhere, not even in a log line."""

from __future__ import annotations

import logging
import re
from html import unescape

import pytest

from bot.services.app import Services
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BLOC,
    CUONG,
    DUNG,
    GIANG,
    LEADER,
    ballot_ids,
    cast,
    conference_setup,
)
from tests.web.support import Client, csrf_of, sign_in

_HELD = re.compile(r'name="held" value="([^"]*)"')
_RECEIPT = re.compile(r'<div class="receipt">([^<]*)</div>')
BAD_RECEIPT = (
    "Mã biên nhận gồm 12 ký tự, dạng <code>XXXX-XXXX-XXXX</code> (chữ và số, không phân biệt "
    "hoa thường). Vui lòng kiểm tra và gửi lại."
)


async def check(client: Client, typed: str, *, csrf: bool = True) -> tuple[int, str]:
    fields = {"receipt": typed}
    if csrf:
        fields["csrf"] = csrf_of(await (await client.get("/web/receipt")).text())
    response = await client.post("/web/receipt", data=fields)
    return response.status, await response.text()


async def web_cast(client: Client, ballot: int, index: int) -> str:
    """A single choice cast on the web; the receipt the page showed."""
    token = csrf_of(await (await client.get(f"/web/ballots/{ballot}")).text())
    confirm = await client.post(
        f"/web/ballots/{ballot}/preview", data={"csrf": token, "choice": str(index)}
    )
    held = _HELD.search(await confirm.text())
    assert held is not None
    done = await client.post(
        f"/web/ballots/{ballot}/cast", data={"csrf": token, "held": unescape(held.group(1))}
    )
    found = _RECEIPT.search(await done.text())
    assert found is not None
    return found.group(1)


async def test_a_receipt_is_in_the_box_then_counted_after_the_close(
    client: Client, tg: Harness, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await conference_setup(tg)
    leader = (await ballot_ids(services))[5]
    await tg.say(SECRETARY, "/ballot open 6")
    await sign_in(client, tg, AN)
    receipt = await web_cast(client, leader, 1)

    response = await client.get("/web/receipt")
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = await response.text()
    assert '<label for="receipt">Mã biên nhận</label>' in html
    assert 'name="receipt"' in html

    # Typed as people type it: lower case, spaces instead of dashes.
    status, html = await check(client, receipt.lower().replace("-", " "))
    assert status == 200
    assert (
        f"📥 Phiếu có mã <code>{receipt}</code> đang nằm trong hòm phiếu của «{LEADER}». "
        "Phiếu sẽ được kiểm khi kết thúc bỏ phiếu; khi đó hãy kiểm tra lại."
    ) in html

    for user, choice in ((CUONG, None), (DUNG, 3), (GIANG, 1)):
        await cast(tg, user, leader, choice)
    await tg.say(SECRETARY, "/ballot close 6")
    status, html = await check(client, receipt)
    assert status == 200
    assert f"✅ Phiếu có mã <code>{receipt}</code> đã được kiểm trong «{LEADER}»." in html
    assert "Lựa chọn được kiểm" not in html  # the bloc publishes no receipt → choice

    # No log line (the access log included) carries the code.
    assert any(r.name == "aiohttp.access" for r in caplog.records)
    assert all(receipt not in r.getMessage() for r in caplog.records)
    assert all(receipt.lower() not in r.getMessage().lower() for r in caplog.records)


async def test_a_malformed_or_unknown_code_and_a_post_without_csrf(
    client: Client, tg: Harness
) -> None:
    await conference_setup(tg)
    await tg.say(SECRETARY, "/ballot open 6")
    await sign_in(client, tg, AN)

    status, html = await check(client, "abc")
    assert (status, BAD_RECEIPT in html) == (400, True)
    assert 'name="receipt"' in html
    status, html = await check(client, "<b>ABCD</b>")
    assert status == 400
    assert "<b>ABCD" not in html
    status, html = await check(client, "ABCD-EFGH-JKMN")
    assert status == 200
    assert (
        "❔ Không tìm thấy phiếu nào có mã <code>ABCD-EFGH-JKMN</code> trong các cuộc bỏ phiếu "
        f"kín đang mở hoặc đã kiểm của {BLOC}."
    ) in html
    status, html = await check(client, "ABCD-EFGH-JKMN", csrf=False)
    assert status == 403
    assert "ABCD-EFGH-JKMN" not in html
