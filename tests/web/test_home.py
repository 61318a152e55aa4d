"""My unit: each open deadline with done / not done for the unit and a link to its action;
«Đã nhận» for the secretariat's own deadlines; the bloc chooser; names shown literally."""

from __future__ import annotations

from sqlmodel import select

from bot.services.app import Services
from storage.tables import CustomDeadlineRow, DeadlineAckRow
from tests.handlers.conftest import SECRETARY, Harness, person
from tests.handlers.support import (
    AN,
    OPEN_PERIOD,
    TABLE_EXAMPLE,
    ballot_ids,
    bloc_by_code,
    conference_setup,
    identity,
    join,
    submitted,
    unit_ids,
)
from tests.web.support import Client, csrf_of, sign_in

OBSERVER = person(2301, "Đinh", "Thị Hoa")
CUSTOM = "Gửi ảnh hoạt động thi đua"


async def every_kind(tg: Harness) -> None:
    """A report period, a ballot with a closing time, the covenant, a deadline of one's own."""
    await conference_setup(tg)
    await tg.send_file(SECRETARY, "bang-cham-diem.yaml", TABLE_EXAMPLE.read_bytes(), "/criteria")
    await tg.say(SECRETARY, OPEN_PERIOD)
    await tg.say(SECRETARY, "/ballot open 1; 20/12/2024 10:00")
    await tg.say(SECRETARY, "/covenant set 17:00 20/12/2024; Các đơn vị cam kết thi đua.")
    await tg.say(SECRETARY, f"/deadlines add {CUSTOM}; 17:00 19/12/2024")


async def custom_id(services: Services) -> int:
    async with services.db.uow() as uow:
        found = (await uow.session.exec(select(CustomDeadlineRow.id))).one()
    assert found is not None
    return found


async def acks(services: Services) -> list[tuple[int, int]]:
    async with services.db.uow() as uow:
        rows = (await uow.session.exec(select(DeadlineAckRow))).all()
        return [(r.unit_id, r.identity_id) for r in rows]


def card(html: str, key: str) -> str:
    return html.split(f'data-deadline="{key}">')[1].split("</li>")[0]


async def test_my_unit_lists_each_deadline_with_its_action(
    client: Client, tg: Harness, services: Services
) -> None:
    await every_kind(tg)
    await submitted(services, AN)
    ballot, deadline = (await ballot_ids(services))[0], await custom_id(services)
    await sign_in(client, tg, AN)
    page = await client.get("/web/")
    assert page.status == 200
    html = await page.text()
    assert "<h1>Sở Y tế</h1>" in html
    cards = html.count('<li class="card')
    assert cards == 4
    report = next(c for c in html.split("<li ")[1:] if "Báo cáo «Báo cáo tổng kết" in c)
    assert "✅ Đơn vị đã thực hiện" in report
    assert 'href="/web/report"' in report
    vote = card(html, f"ballot:{ballot}")
    assert "Biểu quyết: Thông qua dự thảo báo cáo tổng kết" in vote
    assert "10:00 thứ Sáu, 20/12/2024" in vote
    assert "⏳ Đơn vị chưa thực hiện" in vote
    assert f'href="/web/ballots/{ballot}"' in vote
    covenant = next(c for c in html.split("<li ")[1:] if "Ký giao ước thi đua năm 2025" in c)
    assert 'href="/web/covenant"' in covenant
    custom = card(html, f"custom:{deadline}")
    assert CUSTOM in custom
    assert f'action="/web/deadlines/{deadline}/ack"' in custom
    assert "✅ Đã nhận" in custom
    for link in ("/web/receipt", "/web/checkin", "/web/standings"):
        assert f'href="{link}"' in html

    done = await client.post(f"/web/deadlines/{deadline}/ack", data={"csrf": csrf_of(html)})
    assert done.status == 200
    html = await done.text()
    assert f"✅ Đã ghi nhận: Sở Y tế đã nhận «{CUSTOM}» (hạn 17:00 thứ Năm, 19/12/2024)." in html
    custom = card(html, f"custom:{deadline}")
    assert "✅ Đơn vị đã thực hiện" in custom
    assert "/ack" not in custom
    syt, an = (await unit_ids(services))["SYT"], (await identity(services, AN)).id
    assert await acks(services) == [(syt, an)]


async def test_an_observer_sees_the_deadlines_without_actions(
    client: Client, tg: Harness, services: Services
) -> None:
    await every_kind(tg)
    await join(tg, OBSERVER, "observer")
    deadline = await custom_id(services)
    await sign_in(client, tg, OBSERVER)
    html = await (await client.get("/web/")).text()
    assert html.count('<li class="card') == 4
    assert CUSTOM in html
    assert "/ack" not in html
    assert 'class="button" href="/web/ballots/' not in html
    assert "Đơn vị chưa thực hiện" not in html
    forged = await client.post(f"/web/deadlines/{deadline}/ack", data={"csrf": csrf_of(html)})
    assert "Chỉ đại diện của đơn vị mới" in await forged.text()
    assert await acks(services) == []


async def test_acknowledging_without_the_csrf_token_is_refused(
    client: Client, tg: Harness, services: Services
) -> None:
    await every_kind(tg)
    deadline = await custom_id(services)
    await sign_in(client, tg, AN)
    assert (await client.post(f"/web/deadlines/{deadline}/ack", data={})).status == 403
    assert (await client.post(f"/web/deadlines/{deadline}/ack")).status == 403
    assert await acks(services) == []
    # An id that names nothing is the service's refusal, not an error.
    html = await (await client.get("/web/")).text()
    for bad in ("999999", "abc", "99999999999999999999"):
        page = await client.post(f"/web/deadlines/{bad}/ack", data={"csrf": csrf_of(html)})
        assert page.status == 200
        assert "Hạn chót này không còn (đã bị hủy)." in await page.text()
    assert await acks(services) == []


async def test_the_bloc_chooser_switches_the_current_bloc(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg, checked_in=(), defaults=False)
    await tg.say(SECRETARY, "/bloc new <script>x</script>; Cụm; 2024; CUMXSS")
    await tg.say(SECRETARY, "/units add <b>Ủy ban</b> huyện Đông Anh; UBNDĐA")
    await join(tg, AN, "1")
    khoi, cum = (
        await bloc_by_code(services, "KTĐVHXH"),
        await bloc_by_code(services, "CUMXSS"),
    )
    await sign_in(client, tg, AN)
    html = await (await client.get("/web/")).text()
    # Joined last: the new bloc is the current one; its names show literally.
    assert "<h1>&lt;b&gt;Ủy ban&lt;/b&gt; huyện Đông Anh</h1>" in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert "<script>x" not in html
    assert 'href="/web/blocs"' in html
    chooser = await (await client.get("/web/blocs")).text()
    assert "Khối thi đua Văn hóa - Xã hội" in chooser
    assert "<strong>&lt;script&gt;x&lt;/script&gt;</strong>" in chooser
    done = await client.post("/web/blocs", data={"csrf": csrf_of(chooser), "bloc": khoi.code})
    assert done.status == 200
    html = await done.text()
    assert "<h1>Sở Y tế</h1>" in html
    assert (await identity(services, AN)).current_bloc_id == khoi.id
    # Chat follows the same choice.
    replies = await tg.say(AN, "/deadlines")
    assert "Khối thi đua Văn hóa - Xã hội" in replies[-1].text
    # Without the token nothing changes.
    assert (await client.post("/web/blocs", data={"bloc": cum.code})).status == 403
    assert (await identity(services, AN)).current_bloc_id == khoi.id
