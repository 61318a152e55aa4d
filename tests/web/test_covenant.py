"""The covenant on the web: read it with its SHA-256, sign for the unit with a confirm; a text
changed in between is refused; observers read it and cannot sign; every POST needs CSRF."""

from __future__ import annotations

from sqlmodel import select

from bot.services.app import Services
from bot.services.covenant import text_hash
from storage.tables import CovenantRow, CovenantSignatureRow
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BINH,
    CUONG,
    audit_trail,
    identity,
    join,
    report_setup,
    unit_ids,
)
from tests.web.support import Client, csrf_of, page_text, redirected, sign_in

TEXT = (
    "Các đơn vị trong khối cam kết thi đua hoàn thành xuất sắc nhiệm vụ năm 2025.\n"
    "Thực hiện tốt cải cách hành chính & chuyển đổi số <b>không</b> phải thẻ HTML."
)
SET = f"/covenant set 17:00 20/12/2024; {TEXT}"


async def signatures(services: Services) -> list[tuple[int, int, str]]:
    async with services.db.uow() as uow:
        rows = (await uow.session.exec(select(CovenantSignatureRow))).all()
        return [(r.unit_id, r.identity_id, r.text_sha256) for r in rows]


async def open_covenant(client: Client) -> tuple[str, dict[str, str]]:
    """The covenant page and the fields of its «Ký giao ước» form."""
    page = await client.get("/web/covenant")
    assert page.status == 200
    html = await page.text()
    fields = {
        "csrf": csrf_of(html),
        "covenant_id": html.split('name="covenant_id" value="')[1].split('"')[0],
        "hash": html.split('name="hash" value="')[1].split('"')[0],
    }
    return html, fields


async def test_a_representative_reads_and_signs_the_covenant_on_the_web(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    await tg.say(SECRETARY, SET)
    await sign_in(client, tg, AN)
    html, fields = await open_covenant(client)
    assert "Giao ước thi đua năm 2025" in html
    # The text literally, one paragraph a line; the whole SHA-256 shown.
    assert "<p>Các đơn vị trong khối cam kết thi đua" in html
    assert "chuyển đổi số &lt;b&gt;không&lt;/b&gt; phải thẻ HTML.</p>" in html
    assert text_hash(TEXT) in html
    assert fields["hash"] == text_hash(TEXT)[:16]
    assert "Sở Y tế chưa ký." in html
    assert "✍️ Ký giao ước" in html
    assert "Đã ký: 0/3 đơn vị." in html

    confirm = await client.post("/web/covenant/confirm", data=fields)
    assert confirm.status == 200
    page = await confirm.text()
    assert "Ký giao ước thi đua thay mặt đơn vị?" in page  # the chat's own words
    assert "<strong>Sở Y tế</strong>" in page
    assert f"<code>{fields['hash']}</code>" in page
    assert "✅ Xác nhận ký" in page
    assert await signatures(services) == []  # a confirm page changes nothing

    since = len(tg.bot.mock_session.requests)
    landing = await redirected(client, "/web/covenant/sign", {**fields, "csrf": csrf_of(page)})
    assert landing == f"/web/covenant?done=signed&n={fields['covenant_id']}"
    signed = "✅ Sở Y tế đã ký giao ước thi đua năm 2025 (Trần Văn An, 08:00 25/11/2024)."
    assert signed in await page_text(client, landing)
    syt = (await unit_ids(services))["SYT"]
    an = await identity(services, AN)
    rows = await signatures(services)
    assert rows == [(syt, an.id, text_hash(TEXT))]
    trail = await audit_trail(services)
    assert trail[-1][0] == "covenant.signed"
    assert trail[-1][1]["text_sha256"] == text_hash(TEXT)
    # A reload: the signature as stored, said again; nothing signed, recorded or sent again.
    assert signed in await page_text(client, landing)
    assert await signatures(services) == rows
    assert await audit_trail(services) == trail
    assert len(tg.bot.mock_session.requests) == since

    # Signed: the page says by whom and when, and offers no button; chat agrees.
    html = await (await client.get("/web/covenant")).text()
    assert "Sở Y tế đã ký: Trần Văn An, lúc 08:00 25/11/2024." in html
    assert "✍️ Ký giao ước" not in html
    assert "/covenant/confirm" not in html
    assert "Đã ký: 1/3 đơn vị." in html
    replies = await tg.say(BINH, "/covenant")
    assert "✅ Sở Y tế đã ký (Trần Văn An, 08:00 25/11/2024)." in replies[-1].text
    # Signing again (an old form): the chat's answer, the signature unchanged.
    again = await redirected(client, "/web/covenant/sign", {**fields, "csrf": csrf_of(page)})
    assert again == f"/web/covenant?done=signed_before&n={fields['covenant_id']}"
    assert "Sở Y tế đã ký giao ước trước đó (Trần Văn An, 08:00 25/11/2024)" in (
        await page_text(client, again)
    )
    assert await signatures(services) == rows


async def test_a_text_changed_after_reading_is_refused(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    await tg.say(SECRETARY, SET)
    await sign_in(client, tg, AN)
    _, fields = await open_covenant(client)
    confirm = await (await client.post("/web/covenant/confirm", data=fields)).text()
    await tg.say(SECRETARY, "/covenant set 17:00 20/12/2024; Nội dung đã sửa.")
    done = await client.post("/web/covenant/sign", data={**fields, "csrf": csrf_of(confirm)})
    html = await done.text()
    assert "Nội dung giao ước đã được thường trực sửa sau khi bạn đọc." in html
    assert await signatures(services) == []
    # Read again: the new text and its hash.
    html, fresh = await open_covenant(client)
    assert "Nội dung đã sửa." in html
    assert fresh["hash"] == text_hash("Nội dung đã sửa.")[:16]


async def test_an_observer_reads_but_cannot_sign(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg, observer=CUONG)
    await tg.say(SECRETARY, SET)
    await sign_in(client, tg, CUONG)
    page = await client.get("/web/covenant")
    html = await page.text()
    assert "Giao ước thi đua năm 2025" in html
    assert text_hash(TEXT) in html
    assert "✍️ Ký giao ước" not in html
    assert "/covenant/confirm" not in html
    covenant_id = await _covenant_id(services)
    forged = {"csrf": csrf_of(html), "covenant_id": str(covenant_id), "hash": text_hash(TEXT)[:16]}
    # The confirm step has nothing to confirm for them; the sign step is refused by the service.
    confirm = await client.post("/web/covenant/confirm", data=forged)
    assert confirm.url.path == "/web/covenant"
    done = await client.post("/web/covenant/sign", data=forged)
    assert "Chỉ đại diện của đơn vị mới" in await done.text()
    assert await signatures(services) == []


async def _covenant_id(services: Services) -> int:
    async with services.db.uow() as uow:
        found = (await uow.session.exec(select(CovenantRow.id))).one()
    assert found is not None
    return found


async def test_signing_without_the_csrf_token_is_refused_and_changes_nothing(
    client: Client, tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    await tg.say(SECRETARY, SET)
    await sign_in(client, tg, AN)
    _, fields = await open_covenant(client)
    for data in ({k: v for k, v in fields.items() if k != "csrf"}, {**fields, "csrf": "x" * 43}):
        done = await client.post("/web/covenant/sign", data=data)
        assert done.status == 403
    assert await signatures(services) == []
    assert [a for a, _ in await audit_trail(services)].count("covenant.signed") == 0


async def test_names_and_text_with_markup_show_literally(
    client: Client, tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=[("<script>x</script>", "SX"), ("Sở Tư pháp", "STP")])
    await join(tg, AN, "1")
    await tg.say(SECRETARY, "/covenant set 17:00 20/12/2024; <script>alert(1)</script>")
    await sign_in(client, tg, AN)
    html, fields = await open_covenant(client)
    assert "<script>x" not in html
    assert "<script>alert" not in html
    assert "&lt;script&gt;x&lt;/script&gt; chưa ký." in html
    assert "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>" in html
    confirm = await (await client.post("/web/covenant/confirm", data=fields)).text()
    assert "<strong>&lt;script&gt;x&lt;/script&gt;</strong>" in confirm
    done = await (
        await client.post("/web/covenant/sign", data={**fields, "csrf": csrf_of(confirm)})
    ).text()
    assert "✅ &lt;script&gt;x&lt;/script&gt; đã ký giao ước" in done
    assert "<script>x" not in done
    assert len(await signatures(services)) == 1
