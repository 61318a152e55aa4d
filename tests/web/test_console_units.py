"""The console's units: the list, adding and correcting a unit, importing a file (a preview,
then «confirm»), invites issued (printed with the link and its QR code), revoked and used in
chat, a representative taken off a unit — through the chat's own services (same checks,
audit and refusals); a representative is refused (403) everywhere, and so is a missing
CSRF token."""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import timedelta

from aiohttp import ClientResponse, FormData

from bot.core.models import Platform, Role, Unit
from bot.fakes.clock import FakeClock
from bot.services.app import Services
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BINH,
    BLOC,
    BLOC_CODE,
    CUONG,
    UNITS,
    audit_trail,
    bloc_by_code,
    csv_bytes,
    invite,
    join,
    membership,
    units_of,
    xlsx_bytes,
)
from tests.web.support import Client, csrf_of, sign_in

PAGE = "/web/console/units"
NOT_SECRETARIAT = "Chỉ thường trực khối mới dùng được lệnh này."
_CODE = re.compile(r"\?start=([0-9A-Za-z_-]+)")
_SEALED = re.compile(r'name="rows" value="([^"]*)"')


async def units(services: Services) -> list[Unit]:
    return await units_of(services, await bloc_by_code(services, BLOC_CODE))


async def actions(services: Services, prefix: str) -> list[str]:
    return [a for a, _ in await audit_trail(services) if a.startswith(prefix)]


async def secretariat(client: Client, tg: Harness) -> str:
    """The bloc with its three units, the secretariat signed in; the units page's CSRF."""
    await tg.admin_setup(units=UNITS)
    await sign_in(client, tg, SECRETARY)
    page = await client.get(PAGE)
    assert page.status == 200
    return csrf_of(await page.text())


async def upload(client: Client, csrf: str | None, filename: str, data: bytes) -> ClientResponse:
    """The import form as a browser sends it: multipart, the token first, then the file."""
    form = FormData(quote_fields=False)  # as a browser sends it: the name in UTF-8
    if csrf is not None:
        form.add_field("csrf", csrf)
    form.add_field(
        "file", io.BytesIO(data), filename=filename, content_type="application/octet-stream"
    )
    return await client.post(f"{PAGE}/import", data=form, allow_redirects=False)


def code_on(html: str) -> str:
    found = _CODE.search(html)
    assert found is not None, "no invite link on the page"
    return found.group(1)


async def test_the_units_page_lists_adds_and_corrects_units(
    client: Client, tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    await sign_in(client, tg, SECRETARY)
    overview = await (await client.get("/web/console")).text()
    assert f'href="{PAGE}"' in overview  # «Đơn vị» from the console's overview
    html = await (await client.get(PAGE)).text()
    for label in ("Số", "Tên đơn vị", "Tên viết tắt", "Liên hệ", "Đại diện", "Mã mời đang mở"):
        assert f">{label}</th>" in html, label
    assert 'data-label="Đại diện">Trần Văn An</td>' in html
    assert "Sở Giáo dục và Đào tạo" in html
    assert "Chỉ xóa được đơn vị nhập nhầm" in html  # and how: on the unit's page
    assert "Nguyễn Thị Lan (thường trực)" in html  # the staff, without a unit

    added = await client.post(
        PAGE,
        data={
            "csrf": csrf_of(html),
            "name": " Sở Tư pháp ",
            "short_name": "STP",
            "contact": "0912 345 678",
        },
        allow_redirects=False,
    )
    assert added.status == 303
    assert added.headers["Location"] == f"{PAGE}?added=4"
    assert [(u.name, u.short_name, u.contact) for u in await units(services)][3] == (
        "Sở Tư pháp",
        "STP",
        "0912 345 678",
    )
    assert "✅ Đã thêm đơn vị số 4." in await (await client.get(f"{PAGE}?added=4")).text()

    # The chat's own refusal; what was typed stays in the form.
    twice = await client.post(
        PAGE, data={"csrf": csrf_of(html), "name": "Sở Tài chính", "short_name": "stp"}
    )
    assert twice.status == 400
    page = await twice.text()
    assert "Không thêm được đơn vị: tên viết tắt đã được đơn vị khác trong khối sử dụng." in page
    assert 'name="name" value="Sở Tài chính"' in page
    assert len(await units(services)) == 4

    # Corrected: the unit keeps its id (and so its representatives).
    syt = (await units(services))[0]
    form = await (await client.get(f"{PAGE}/{syt.id}")).text()
    assert 'name="short_name" value="SYT"' in form
    saved = await client.post(
        f"{PAGE}/{syt.id}",
        data={"csrf": csrf_of(form), "name": "Sở Y tế tỉnh", "short_name": "SYT", "contact": "x"},
        allow_redirects=False,
    )
    assert saved.status == 303
    assert saved.headers["Location"] == f"{PAGE}/{syt.id}?saved=1"
    fixed = (await units(services))[0]
    assert (fixed.id, fixed.name, fixed.contact) == (syt.id, "Sở Y tế tỉnh", "x")
    assert await actions(services, "unit.") == ["unit.added", "unit.updated"]
    same = await client.post(
        f"{PAGE}/{syt.id}",
        data={"csrf": csrf_of(form), "name": "Sở Y tế tỉnh", "short_name": "SYT", "contact": "x"},
        allow_redirects=False,
    )
    assert same.status == 303
    assert await actions(services, "unit.") == ["unit.added", "unit.updated"]  # nothing new
    bloc = await bloc_by_code(services, BLOC_CODE)
    kept = await membership(services, AN, bloc)
    assert kept is not None
    assert kept.unit_id == syt.id
    page = await (await client.get(f"{PAGE}/{syt.id}?saved=1")).text()
    assert "✅ Đã lưu thông tin đơn vị." in page

    clash = await client.post(
        f"{PAGE}/{syt.id}",
        data={"csrf": csrf_of(form), "name": "Sở Tư pháp", "short_name": "SYT"},
    )
    assert clash.status == 400
    page = await clash.text()
    assert "Không lưu được đơn vị: đơn vị đã có trong khối." in page
    assert 'name="name" value="Sở Tư pháp"' in page
    assert (await units(services))[0].name == "Sở Y tế tỉnh"
    assert (await client.get(f"{PAGE}/999999")).status == 404


async def test_an_import_is_previewed_then_saved_on_confirm(
    client: Client, tg: Harness, services: Services, clock: FakeClock
) -> None:
    csrf = await secretariat(client, tg)
    rows = [("Tên đơn vị", "Tên viết tắt", "Liên hệ"), ("Sở Tư pháp", "STP", "0912")]
    rows.append(("Sở Nội vụ", "SNV", ""))
    preview = await upload(client, csrf, "don-vi.xlsx", xlsx_bytes(rows))
    assert preview.status == 200
    html = await preview.text()
    assert "Sẽ thêm 2 đơn vị" in html
    assert 'data-label="Tên đơn vị">Sở Tư pháp</td>' in html
    assert 'data-label="Số">5</td>' in html  # numbered after the bloc's units
    assert "Xác nhận nhập 2 đơn vị" in html
    assert len(await units(services)) == 3  # nothing saved yet
    sealed = _SEALED.search(html)
    assert sealed is not None

    # Altered on the way: refused, nothing saved.
    body, _, mac = sealed.group(1).rpartition(".")
    forged = await client.post(
        f"{PAGE}/import/confirm", data={"csrf": csrf, "rows": f"{body}x.{mac}"}
    )
    assert forged.status == 400
    assert "Bản xem trước đã quá 10 phút" in await forged.text()
    assert len(await units(services)) == 3

    done = await client.post(
        f"{PAGE}/import/confirm",
        data={"csrf": csrf_of(html), "rows": sealed.group(1)},
        allow_redirects=False,
    )
    assert done.status == 303
    assert done.headers["Location"] == f"{PAGE}?imported=2"
    assert [(u.name, u.short_name, u.contact) for u in await units(services)][3:] == [
        ("Sở Tư pháp", "STP", "0912"),
        ("Sở Nội vụ", "SNV", ""),
    ]
    assert await actions(services, "units.") == ["units.imported", "units.imported"]
    assert "✅ Đã nhập 2 đơn vị." in await (await client.get(f"{PAGE}?imported=2")).text()

    # Sent again: checked again against the bloc as it is now — the chat's refusal.
    again = await client.post(
        f"{PAGE}/import/confirm", data={"csrf": csrf, "rows": sealed.group(1)}
    )
    assert again.status == 400
    assert "Dòng 2: đơn vị đã có trong khối" in await again.text()
    assert len(await units(services)) == 5

    # A preview is good for ten minutes.
    late = await upload(client, csrf, "moi.csv", csv_bytes([("Sở Ngoại vụ", "SNGV")]))
    late_sealed = _SEALED.search(await late.text())
    assert late_sealed is not None
    clock.advance(timedelta(minutes=11))
    expired = await client.post(
        f"{PAGE}/import/confirm", data={"csrf": csrf, "rows": late_sealed.group(1)}
    )
    assert expired.status == 400
    assert "Bản xem trước đã quá 10 phút" in await expired.text()
    assert len(await units(services)) == 5

    # Sealed to the session that previewed it: another session cannot send it.
    other = await upload(client, csrf, "moi.csv", csv_bytes([("Sở Ngoại vụ", "SNGV")]))
    other_sealed = _SEALED.search(await other.text())
    assert other_sealed is not None
    await sign_in(client, tg, SECRETARY)  # a new session, with its own token
    fresh = csrf_of(await (await client.get(PAGE)).text())
    elsewhere = await client.post(
        f"{PAGE}/import/confirm", data={"csrf": fresh, "rows": other_sealed.group(1)}
    )
    assert elsewhere.status == 400
    assert "Bản xem trước đã quá 10 phút" in await elsewhere.text()
    assert len(await units(services)) == 5


async def test_a_bad_file_shows_its_rows_and_saves_nothing(
    client: Client, tg: Harness, services: Services
) -> None:
    csrf = await secretariat(client, tg)
    bad = csv_bytes(
        [
            ("Tên đơn vị", "Tên viết tắt"),
            ("Sở Tư pháp", "STP"),
            ("Sở Nội vụ", ""),
            ("Sở Y tế", "SYT2"),
            ("Sở Tư Pháp", "STP3"),
        ]
    )
    refused = await upload(client, csrf, "don-vi.csv", bad)
    assert refused.status == 400
    html = await refused.text()
    assert "3 dòng lỗi: tệp chưa được nhập" in html
    assert 'data-label="Dòng">3</td>' in html
    assert ">thiếu tên viết tắt</td>" in html
    assert ">đơn vị đã có trong khối</td>" in html
    assert ">tên đơn vị trùng với một dòng trước trong tệp</td>" in html
    assert 'name="rows"' not in html  # no «confirm»: nothing can be saved from it
    assert "Không có đơn vị nào được lưu." in html

    for filename, data, said in (
        ("don-vi.pdf", b"%PDF-1.4", "Chỉ nhận tệp .csv hoặc .xlsx."),
        ("don-vi.csv", b"a" * (2 * 1024 * 1024 + 1), "Tệp quá lớn (tối đa 2 MB)."),
        ("don-vi.xlsx", b"PK\x03\x04 not a workbook", "Không có đơn vị nào được nhập."),
    ):
        answer = await upload(client, csrf, filename, data)
        assert answer.status == 400, filename
        assert said in await answer.text(), filename
    no_file = FormData(default_to_multipart=True)  # the form sent without a file chosen
    no_file.add_field("csrf", csrf)
    empty = await client.post(f"{PAGE}/import", data=no_file)
    assert empty.status == 400
    assert "Hãy chọn một tệp." in await empty.text()
    assert len(await units(services)) == 3
    assert await actions(services, "units.") == ["units.imported"]  # the setup's only


async def test_a_bot_on_zalo_alone_prints_invites_to_type_on_zalo(
    client: Client, tg: Harness, services: Services
) -> None:
    """Without Telegram the bot has no deep link: the printed invite carries the code and
    says to send it to the bot on Zalo — no link to Telegram, no QR code of one. With both
    platforms it has the link, its QR code and the Zalo line."""
    csrf = await secretariat(client, tg)
    syt = (await units(services))[0]
    services.bot_username, services.channels = "", frozenset({Platform.ZALO})
    page = await (await client.post(f"{PAGE}/{syt.id}/invite", data={"csrf": csrf})).text()
    assert "Trên Zalo: nhắn mã này cho bot thi đua của khối để tham gia." in page
    assert '<code class="code">0000-0000-0000-0001</code>' in page
    assert "t.me" not in page
    assert "<svg" not in page
    assert "Quét mã QR" not in page

    services.bot_username = "thidua_test_bot"
    services.channels = frozenset({Platform.TELEGRAM, Platform.ZALO})
    page = await (await client.post(f"{PAGE}/{syt.id}/invite", data={"csrf": csrf})).text()
    assert '<a href="https://t.me/thidua_test_bot?start=0000000000000002">' in page
    assert "<svg" in page
    assert "Trên Zalo: nhắn mã này cho bot thi đua của khối để tham gia." in page


async def test_invites_are_issued_printed_used_in_chat_and_revoked(
    client: Client, tg: Harness, services: Services
) -> None:
    await secretariat(client, tg)
    syt = (await units(services))[0]
    html = await (await client.get(f"{PAGE}/{syt.id}")).text()
    assert "Không có mã mời nào đang mở." in html

    printed = await client.post(
        f"{PAGE}/{syt.id}/invite", data={"csrf": csrf_of(html), "uses": "2"}
    )
    assert printed.status == 200
    page = await printed.text()
    code = code_on(page)
    assert f'<a href="https://t.me/thidua_test_bot?start={code}">' in page
    assert "Đại diện Sở Y tế" in page
    assert '<svg viewBox="0 0 ' in page
    assert 'class="segno"' in page
    assert "dùng được 2 lần" in page
    assert "Mã chỉ hiện một lần" in page
    # Inline SVG needs no change of the page's policy: still no inline script or style.
    policy = printed.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    found = await invite(services, code)
    assert (found.unit_id, found.role, found.max_uses, found.uses) == (
        syt.id,
        Role.REPRESENTATIVE,
        2,
        0,
    )

    # The printed link works: a person joins with it in chat.
    replies = await tg.say(BINH, f"/start {code}")
    assert replies[0].text.startswith("✅ Bạn đã tham gia"), replies[0].text
    bloc = await bloc_by_code(services, BLOC_CODE)
    joined = await membership(services, BINH, bloc)
    assert joined is not None
    assert joined.unit_id == syt.id
    html = await (await client.get(f"{PAGE}/{syt.id}")).text()
    assert "Đã dùng 1/2 lần; hết hạn" in html
    assert "Lê Thị Bình" in html

    # Revoking asks first, naming what will happen.
    confirm = await client.get(f"{PAGE}/{syt.id}/revoke")
    assert confirm.status == 200
    ask = await confirm.text()
    assert "1 mã mời đang mở của Sở Y tế sẽ không dùng được nữa." in ask
    assert (await invite(services, code)).revoked_at is None
    revoked = await client.post(
        f"{PAGE}/{syt.id}/revoke", data={"csrf": csrf_of(ask)}, allow_redirects=False
    )
    assert revoked.status == 303
    assert revoked.headers["Location"] == f"{PAGE}/{syt.id}?revoked=1"
    assert (await invite(services, code)).revoked_at is not None
    assert await actions(services, "invite.") == ["invite.issued", "invite.revoked"]
    late = await tg.say(AN, f"/start {code}")
    assert not late[0].text.startswith("✅"), late[0].text

    # The chat's limit on uses, said beside the form.
    wrong = await client.post(f"{PAGE}/{syt.id}/invite", data={"csrf": csrf_of(ask), "uses": "99"})
    assert wrong.status == 400
    assert "Số lần dùng phải từ 1 đến 20." in await wrong.text()

    # The secretariat's and observers' invites, and one per unit without a representative.
    staff = await client.post(
        f"{PAGE}/invites", data={"csrf": csrf_of(ask), "role": "observer", "uses": ""}
    )
    assert staff.status == 200
    page = await staff.text()
    assert "Thành viên theo dõi" in page
    assert (await invite(services, code_on(page))).role is Role.OBSERVER
    every = await client.post(f"{PAGE}/invites/missing", data={"csrf": csrf_of(ask)})
    assert every.status == 200
    page = await every.text()
    assert page.count('<article class="invite">') == 2  # SYT has its representative
    assert "Đại diện Sở Giáo dục và Đào tạo" in page
    assert page.count('class="segno"') == 2


async def test_a_secretariat_invite_from_the_console_is_used_in_chat(
    client: Client, tg: Harness, services: Services
) -> None:
    """A second member of the secretariat, invited from the console: the printed invite
    names the role, the person joins with it in chat, has no unit, and runs the console."""
    csrf = await secretariat(client, tg)
    printed = await client.post(
        f"{PAGE}/invites", data={"csrf": csrf, "role": "secretariat", "uses": ""}
    )
    assert printed.status == 200
    page = await printed.text()
    assert "<h2>Thường trực</h2>" in page  # the role, where a unit's invite names the unit
    code = code_on(page)
    assert f'<a href="https://t.me/thidua_test_bot?start={code}">' in page
    found = await invite(services, code)
    assert (found.unit_id, found.role, found.max_uses, found.uses) == (
        None,
        Role.SECRETARIAT,
        1,
        0,
    )
    assert await actions(services, "invite.issued") == ["invite.issued"]

    replies = await tg.say(CUONG, f"/start {code}")
    assert replies[0].text.startswith(
        f"✅ Bạn đã tham gia <b>{BLOC}</b> với vai trò thường trực."
    ), replies[0].text
    bloc = await bloc_by_code(services, BLOC_CODE)
    joined = await membership(services, CUONG, bloc)
    assert joined is not None
    assert (joined.unit_id, joined.roles) == (None, frozenset({Role.SECRETARIAT}))
    assert (await invite(services, code)).uses == 1
    html = await (await client.get(PAGE)).text()
    assert "Phạm Văn Cường (thường trực)" in html  # listed with the staff, without a unit
    # The code is spent: a second person is refused.
    late = await tg.say(BINH, f"/start {code}")
    assert not late[0].text.startswith("✅"), late[0].text
    assert await membership(services, BINH, bloc) is None

    # The new member runs the console in their own session.
    await sign_in(client, tg, CUONG)
    console = await client.get("/web/console/units")
    assert console.status == 200
    added = await client.post(
        PAGE,
        data={"csrf": csrf_of(await console.text()), "name": "Sở Tư pháp", "short_name": "STP"},
        allow_redirects=False,
    )
    assert added.status == 303
    assert [u.short_name for u in await units(services)][-1] == "STP"


async def test_a_representative_is_taken_off_after_a_confirm(
    client: Client, tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    await sign_in(client, tg, SECRETARY)
    syt = (await units(services))[0]
    an = await membership(services, AN, await bloc_by_code(services, BLOC_CODE))
    assert an is not None
    path = f"{PAGE}/{syt.id}/members/{an.identity_id}"
    html = await (await client.get(f"{PAGE}/{syt.id}")).text()
    assert f'href="{path}"' in html

    confirm = await client.get(path)
    assert confirm.status == 200
    ask = await confirm.text()
    assert "Trần Văn An sẽ không còn là đại diện của Sở Y tế" in ask
    assert "Đơn vị vẫn giữ nguyên" in ask  # the chat's own confirm text
    bloc = await bloc_by_code(services, BLOC_CODE)
    assert await membership(services, AN, bloc) is not None  # asking removed nobody

    done = await client.post(path, data={"csrf": csrf_of(ask)}, allow_redirects=False)
    assert done.status == 303
    assert done.headers["Location"] == f"{PAGE}/{syt.id}?removed=1"
    assert await membership(services, AN, bloc) is None
    assert await actions(services, "member.removed") == ["member.removed"]
    page = await (await client.get(f"{PAGE}/{syt.id}?removed=1")).text()
    assert "✅ Đã đưa người này ra khỏi danh sách đại diện của đơn vị." in page
    again = await client.post(path, data={"csrf": csrf_of(ask)})
    assert again.status == 404
    assert "Người này không còn là thành viên của khối." in await again.text()


async def test_markup_and_decomposed_letters_are_stored_clean_and_shown_as_text(
    client: Client, tg: Harness, services: Services
) -> None:
    csrf = await secretariat(client, tg)
    nfd = unicodedata.normalize("NFD", "Sở Tư pháp")
    name = f"<b>{nfd}</b><script>x()</script>"
    added = await client.post(
        PAGE,
        data={"csrf": csrf, "name": name, "short_name": "<i>STP</i>", "contact": "<u>Lê</u>"},
        allow_redirects=False,
    )
    assert added.status == 303
    unit = (await units(services))[3]
    assert unit.name == "<b>Sở Tư pháp</b><script>x()</script>"
    assert unicodedata.is_normalized("NFC", unit.name)
    for path in (PAGE, f"{PAGE}/{unit.id}"):
        page = await (await client.get(path)).text()
        assert "<script>x()</script>" not in page, path
        assert "<i>STP</i>" not in page, path
        assert "&lt;b&gt;Sở Tư pháp&lt;/b&gt;&lt;script&gt;x()&lt;/script&gt;" in page, path

    edited = await client.post(
        f"{PAGE}/{unit.id}",
        data={"csrf": csrf, "name": unicodedata.normalize("NFD", "<i>Sở Nội vụ</i>"),
              "short_name": "SNV", "contact": unicodedata.normalize("NFD", "Lò Thị Hương")},
        allow_redirects=False,
    )  # fmt: skip
    assert edited.status == 303
    unit = (await units(services))[3]
    assert (unit.name, unit.contact) == ("<i>Sở Nội vụ</i>", "Lò Thị Hương")

    rows = [(unicodedata.normalize("NFD", "<b>Sở Ngoại vụ</b>"), "SNGV", "<img src=x>")]
    preview = await upload(client, csrf, "don-vi.csv", csv_bytes(rows))
    html = await preview.text()
    assert "&lt;b&gt;Sở Ngoại vụ&lt;/b&gt;" in html
    assert "<img src=x>" not in html
    sealed = _SEALED.search(html)
    assert sealed is not None
    await client.post(f"{PAGE}/import/confirm", data={"csrf": csrf, "rows": sealed.group(1)})
    assert (await units(services))[4].name == "<b>Sở Ngoại vụ</b>"
    # The printed invite names the unit as text too.
    printed = await client.post(f"{PAGE}/{unit.id}/invite", data={"csrf": csrf})
    page = await printed.text()
    assert "Đại diện &lt;i&gt;Sở Nội vụ&lt;/i&gt;" in page
    assert "<i>Sở" not in page


async def test_a_representative_is_refused_on_every_units_route(
    client: Client, tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    home = await sign_in(client, tg, AN)
    csrf = csrf_of(home)
    syt = (await units(services))[0]
    an = await membership(services, AN, await bloc_by_code(services, BLOC_CODE))
    assert an is not None
    unit, member = f"{PAGE}/{syt.id}", f"{PAGE}/{syt.id}/members/{an.identity_id}"
    await tg.say(SECRETARY, "/units add Sở Tư pháp; STP")  # a unit nothing refers to
    stp = (await units(services))[3]
    for path in (PAGE, unit, f"{unit}/revoke", member, f"{PAGE}/{stp.id}/delete"):
        page = await client.get(path)
        assert page.status == 403, path
        assert NOT_SECRETARIAT in await page.text(), path
    form = {"name": "Sở Tư pháp", "short_name": "STP", "uses": "1", "role": "secretariat"}
    for path in (
        PAGE,
        unit,
        f"{unit}/invite",
        f"{unit}/revoke",
        member,
        f"{PAGE}/invites",
        f"{PAGE}/invites/missing",
        f"{PAGE}/import/confirm",
        f"{PAGE}/{stp.id}/delete",
    ):
        forged = await client.post(path, data={"csrf": csrf, **form, "rows": "x.y"})
        assert forged.status == 403, path
    preview = await upload(client, csrf, "don-vi.csv", csv_bytes([("Sở Tư pháp", "STP")]))
    assert preview.status == 403
    assert NOT_SECRETARIAT in await preview.text()
    assert len(await units(services)) == 4  # Sở Tư pháp was not removed
    assert await membership(services, AN, await bloc_by_code(services, BLOC_CODE)) is not None
    assert await actions(services, "invite.") == ["invite.issued"]  # the setup's join
    assert (await units(services))[0].name == "Sở Y tế"


async def test_every_units_form_needs_the_csrf_token(
    client: Client, tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    await sign_in(client, tg, SECRETARY)
    syt = (await units(services))[0]
    an = await membership(services, AN, await bloc_by_code(services, BLOC_CODE))
    assert an is not None
    unit = f"{PAGE}/{syt.id}"
    form = {"name": "Sở Tư pháp", "short_name": "STP", "uses": "1", "role": "secretariat"}
    for path in (
        PAGE,
        unit,
        f"{unit}/invite",
        f"{unit}/revoke",
        f"{unit}/members/{an.identity_id}",
        f"{PAGE}/invites",
        f"{PAGE}/invites/missing",
        f"{PAGE}/import/confirm",
        f"{PAGE}/{(await units(services))[2].id}/delete",  # a unit nothing refers to
    ):
        for token in ({}, {"csrf": "x"}):
            refused = await client.post(path, data={**form, **token})
            assert refused.status == 403, path
    for given in (None, "x"):
        upload_refused = await upload(client, given, "don-vi.csv", csv_bytes([("Sở A", "A")]))
        assert upload_refused.status == 403
    assert len(await units(services)) == 3
    assert await actions(services, "invite.") == ["invite.issued"]
    assert await actions(services, "member.removed") == []


async def test_a_unit_entered_by_mistake_is_removed_after_a_confirm(
    client: Client, tg: Harness, services: Services
) -> None:
    """«Xóa đơn vị» on the unit's page: a page that says what will happen (its open invites
    revoked), then the unit is gone, audited and said on the list; a printed code still in
    someone's hands is refused as revoked. A unit with a representative is refused until
    they are taken off; one with records is refused for good."""
    csrf = await secretariat(client, tg)
    await client.post(PAGE, data={"csrf": csrf, "name": "Sở Tư pháp", "short_name": "STP"})
    stp = (await units(services))[3]
    code = code_on(
        await (await client.post(f"{PAGE}/{stp.id}/invite", data={"csrf": csrf})).text()
    )
    path = f"{PAGE}/{stp.id}/delete"
    assert f'href="{path}"' in await (await client.get(f"{PAGE}/{stp.id}")).text()

    confirm = await client.get(path)
    assert confirm.status == 200
    ask = await confirm.text()
    assert "Xóa đơn vị Sở Tư pháp?" in ask
    assert (
        "Sở Tư pháp sẽ bị xóa khỏi danh sách đơn vị của khối. Không hoàn tác được; nếu cần, "
        "thêm lại đơn vị. 1 mã mời còn hiệu lực của đơn vị sẽ bị thu hồi."
    ) in ask
    assert ">Xóa STP</button>" in ask
    assert len(await units(services)) == 4  # asking removed nothing

    done = await client.post(path, data={"csrf": csrf_of(ask)}, allow_redirects=False)
    assert done.status == 303
    assert done.headers["Location"] == f"{PAGE}?deleted={stp.id}"
    assert [u.short_name for u in await units(services)] == ["SYT", "SGDĐT", "SVHTTDL"]
    listing = await (await client.get(done.headers["Location"])).text()
    assert "✅ Đã xóa đơn vị «Sở Tư pháp»." in listing
    assert "Đã xóa đơn vị" not in await (await client.get(f"{PAGE}?deleted=999")).text()
    gone = await invite(services, code)
    assert gone.revoked_at is not None
    assert gone.unit_id is None
    assert await actions(services, "unit.removed") == ["unit.removed"]
    audit = await (await client.get("/web/console/audit")).text()
    assert "Xóa đơn vị «Sở Tư pháp» (STP)" in audit
    replies = await tg.say(BINH, f"/start {code}")
    assert replies[0].text == "Mã mời này đã bị thu hồi. Hãy xin thường trực khối cấp mã mới."
    again = await client.post(path, data={"csrf": csrf_of(ask)})
    assert again.status == 404
    assert (await client.get(path)).status == 404

    # A representative first: the page says so, with the way to take them off.
    await join(tg, AN, "1")
    syt = (await units(services))[0]
    for kept in (
        await client.get(f"{PAGE}/{syt.id}/delete"),
        await client.post(f"{PAGE}/{syt.id}/delete", data={"csrf": csrf_of(ask)}),
    ):
        assert kept.status == 409
        page = await kept.text()
        assert (
            "Sở Y tế còn 1 người đại diện: chưa xóa được. Hãy đưa họ ra khỏi đơn vị trước "
            f'(mở trang <a href="/web/console/units/{syt.id}">Sở Y tế</a>; mỗi người được '
            "báo tin), rồi xóa đơn vị."
        ) in page
        assert '/delete"' not in page  # no form to remove it
    # Records: kept for good, and the page says why and where to correct the name.
    await tg.say(SECRETARY, "/bloc leader 2")
    sgd = (await units(services))[1]
    kept = await client.get(f"{PAGE}/{sgd.id}/delete")
    assert kept.status == 409
    assert (
        "Sở Giáo dục và Đào tạo đang là trưởng khối: không xóa được, để giữ hồ sơ. "
        f'<a href="/web/console/units/{sgd.id}">Sửa tên đơn vị</a> nếu đơn vị đổi '
        "tên/sáp nhập."
    ) in await kept.text()
    assert len(await units(services)) == 3
    assert await actions(services, "unit.removed") == ["unit.removed"]
