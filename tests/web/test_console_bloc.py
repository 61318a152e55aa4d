"""The console's bloc: leader and deputy, rotation, the receipts policy (asked first), a new
bloc (a past year asked first) — the services of `/bloc …`; representatives refused."""

from __future__ import annotations

import unicodedata

from bot.core.models import Platform
from bot.services.app import Services
from tests.handlers.conftest import GROUP, SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BLOC_CODE,
    STRANGER,
    VOTE_UNITS,
    bloc_by_code,
    join,
    units_of,
)
from tests.web.support import Client, csrf_of, sign_in


async def test_officers_and_rotation(client: Client, tg: Harness, services: Services) -> None:
    await tg.admin_setup(units=VOTE_UNITS)
    await sign_in(client, tg, SECRETARY)
    page = await client.get("/web/console/bloc")
    assert page.status == 200
    html = await page.text()
    assert "Đơn vị thành viên: 4; đã có đại diện: 0/4" in html

    done = await client.post(
        "/web/console/bloc/officers",
        data={"csrf": csrf_of(html), "leader": "SYT", "deputy": "SGDĐT"},
    )
    html = await done.text()
    assert done.status == 200
    assert "Trưởng khối: Sở Y tế" in html
    bloc = await bloc_by_code(services, BLOC_CODE)
    units = {u.short_name: u.id for u in await units_of(services, bloc)}
    assert (bloc.leader_unit_id, bloc.deputy_unit_id) == (units["SYT"], units["SGDĐT"])

    same = await client.post(
        "/web/console/bloc/officers",
        data={"csrf": csrf_of(html), "leader": "SVHTTDL", "deputy": "SVHTTDL"},
    )
    assert same.status == 400
    assert 'role="alert"' in await same.text()
    bloc = await bloc_by_code(services, BLOC_CODE)
    assert bloc.leader_unit_id == units["SYT"]

    turns = await client.post(
        "/web/console/bloc/rotation",
        data={"csrf": csrf_of(html), "rotation": "STTTT\r\nSYT\r\n\r\nSGDĐT\r\nSVHTTDL"},
    )
    assert turns.status == 200
    ordered = sorted(
        (u for u in await units_of(services, bloc) if u.rotation_order is not None),
        key=lambda u: u.rotation_order or 0,
    )
    assert [u.short_name for u in ordered] == ["STTTT", "SYT", "SGDĐT", "SVHTTDL"]


async def test_the_group_line_says_what_to_do_on_the_bots_channels(
    client: Client, tg: Harness, services: Services
) -> None:
    """The Telegram command to link the group is shown only where the bot runs Telegram; a
    bot on Zalo alone says a bloc there needs no group (the summary goes to each member)."""
    await tg.admin_setup(units=VOTE_UNITS)
    await sign_in(client, tg, SECRETARY)
    services.channels = frozenset({Platform.TELEGRAM})
    html = await (await client.get("/web/console/bloc")).text()
    assert "Nhóm của khối: chưa liên kết (gửi /bloc link trong nhóm)\n" in html

    services.bot_username, services.channels = "", frozenset({Platform.ZALO})
    html = await (await client.get("/web/console/bloc")).text()
    assert (
        "Nhóm của khối: không cần — khối trên Zalo không cần nhóm: bài tổng kết được gửi "
        "riêng cho từng thành viên\nPhiếu kín:"
    ) in html
    assert "/bloc link" not in html
    assert "Telegram" not in html

    services.channels = frozenset({Platform.TELEGRAM, Platform.ZALO})
    await tg.say(SECRETARY, "/bloc link", chat=GROUP)
    html = await (await client.get("/web/console/bloc")).text()
    assert "Nhóm của khối: đã liên kết" in html
    assert "/bloc link" not in html


async def test_publishing_receipts_is_asked_first(
    client: Client, tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=VOTE_UNITS)
    await sign_in(client, tg, SECRETARY)
    confirm = await (await client.get("/web/console/bloc/receipts")).text()
    assert "Công bố mã biên nhận kèm lựa chọn?" in confirm
    assert not (await bloc_by_code(services, BLOC_CODE)).publish_receipts  # a GET changes nothing
    on = await client.post(
        "/web/console/bloc/receipts", data={"csrf": csrf_of(confirm), "publish": "on"}
    )
    assert "Đã bật" in await on.text()
    assert (await bloc_by_code(services, BLOC_CODE)).publish_receipts
    off = await client.post(
        "/web/console/bloc/receipts", data={"csrf": csrf_of(confirm), "publish": "off"}
    )
    assert "Đã tắt công bố mã biên nhận" in await off.text()
    assert not (await bloc_by_code(services, BLOC_CODE)).publish_receipts


async def test_an_admin_with_no_bloc_is_shown_the_way_to_the_console(
    client: Client, tg: Harness
) -> None:
    """Before any bloc exists, a bootstrap admin who signs in on the web (from Zalo, say) has
    the «Thường trực» tab and is asked to create the first bloc — not told to send an invite
    code; the sign-in message says where the console is. Anyone else is told to join."""
    where = "thường trực điều hành khối ở mục «Thường trực»"
    assert where in (await tg.say(SECRETARY, "/web"))[-1].text
    home = await sign_in(client, tg, SECRETARY)
    assert 'href="/web/console"' in home
    assert "Hãy tạo khối thi đua đầu tiên" in home
    assert '<a class="button primary" href="/web/console/blocs/new">Tạo khối, cụm mới</a>' in home
    assert "Hãy gửi mã mời" not in home

    assert where not in (await tg.say(STRANGER, "/web"))[-1].text
    home = await sign_in(client, tg, STRANGER)
    assert "Bạn chưa tham gia khối thi đua nào. Hãy gửi mã mời của đơn vị bạn." in home
    assert 'href="/web/console"' not in home
    assert "/console/blocs/new" not in home


async def test_an_admin_creates_the_first_bloc_a_past_year_asked_first(
    client: Client, tg: Harness, services: Services
) -> None:
    await sign_in(client, tg, SECRETARY)  # a bootstrap admin, no bloc yet
    first = await client.get("/web/console", allow_redirects=False)
    assert first.status == 303
    assert first.headers["Location"] == "/web/console/blocs/new"
    html = await (await client.get("/web/console/blocs/new")).text()
    form = {
        "csrf": csrf_of(html),
        "name": "Cụm thi đua các tỉnh Tây Bắc",
        "kind": "Cụm",
        "year": "2023",
        "code": "CTB",
        "timezone": "",
    }
    asked = await client.post("/web/console/blocs/new", data=form)
    page = await asked.text()
    assert "Năm 2023 đã qua" in page
    assert 'name="past" value="2023"' in page
    async with services.db.uow() as uow:
        assert await uow.blocs.all() == []
    done = await client.post(
        "/web/console/blocs/new", data={**form, "past": "2023"}, allow_redirects=False
    )
    assert done.status == 303
    bloc = await bloc_by_code(services, "CTB")
    assert (bloc.name, bloc.kind.value, bloc.year) == ("Cụm thi đua các tỉnh Tây Bắc", "cum", 2023)
    html = await (await client.get("/web/console")).text()
    assert "Cụm thi đua các tỉnh Tây Bắc" in html

    bad = await client.post("/web/console/blocs/new", data={**form, "code": "C T B!"})
    assert bad.status == 400
    assert "Cụm thi đua các tỉnh Tây Bắc" in await bad.text()  # what was typed stays


async def test_a_representative_is_refused_on_every_bloc_route(
    client: Client, tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=VOTE_UNITS)
    await join(tg, AN, "1")
    home = await sign_in(client, tg, AN)
    for path in ("/web/console/bloc", "/web/console/bloc/receipts", "/web/console/blocs/new"):
        assert (await client.get(path)).status == 403, path
    for path, data in (
        ("/web/console/bloc/officers", {"leader": "SYT"}),
        ("/web/console/bloc/rotation", {"rotation": "SYT"}),
        ("/web/console/bloc/receipts", {"publish": "on"}),
        ("/web/console/blocs/new", {"name": "X", "kind": "Khối", "year": "2024", "code": "X"}),
    ):
        forged = await client.post(path, data={"csrf": csrf_of(home), **data})
        assert forged.status == 403, path
    bloc = await bloc_by_code(services, BLOC_CODE)
    assert bloc.leader_unit_id is None
    assert not bloc.publish_receipts
    async with services.db.uow() as uow:
        assert len(await uow.blocs.all()) == 1


def _marked(text: str) -> str:
    """Markup around Vietnamese typed in decomposed letters (NFD)."""
    return unicodedata.normalize("NFD", f"<b>{text}</b><script>x()</script>")


async def test_markup_and_decomposed_letters_are_stored_clean_and_shown_as_text(
    client: Client, tg: Harness, services: Services
) -> None:
    """A new bloc's name, kind and code and the rotation typed with markup and decomposed
    letters: stored composed as `/bloc new` stores them, shown as text, refusals included."""
    await sign_in(client, tg, SECRETARY)
    html = await (await client.get("/web/console/blocs/new")).text()
    name = _marked("Cụm thi đua Tây Bắc")
    escaped = "&lt;b&gt;Cụm thi đua Tây Bắc&lt;/b&gt;&lt;script&gt;x()&lt;/script&gt;"
    form = {
        "csrf": csrf_of(html),
        "name": name,
        "kind": unicodedata.normalize("NFD", "Cụm"),
        "year": "2024",
        "code": _marked("TB"),
        "timezone": "",
    }
    bad = await client.post("/web/console/blocs/new", data=form)
    page = await bad.text()
    assert bad.status == 400
    assert "<script>x()</script>" not in page
    assert escaped in page  # what was typed stays, as text
    assert "&lt;B&gt;TB&lt;/B&gt;&lt;SCRIPT&gt;X()&lt;/SCRIPT&gt;" in page  # the refused code
    async with services.db.uow() as uow:
        assert await uow.blocs.all() == []

    code = unicodedata.normalize("NFD", "TÂYBẮC")
    done = await client.post(
        "/web/console/blocs/new", data={**form, "code": code}, allow_redirects=False
    )
    assert done.status == 303
    await tg.say(SECRETARY, f"/bloc new {name}; Cụm; 2024; CHAT")  # the same name in chat
    web, chat = await bloc_by_code(services, "TÂYBẮC"), await bloc_by_code(services, "CHAT")
    assert web.name == chat.name == "<b>Cụm thi đua Tây Bắc</b><script>x()</script>"
    assert web.code == unicodedata.normalize("NFC", "TÂYBẮC")
    assert web.kind.value == "cum"
    for path in ("/web/console", "/web/console/bloc"):
        page = await (await client.get(path)).text()
        assert "<script>x()</script>" not in page, path
        assert escaped in page, path


async def test_a_rotation_typed_in_decomposed_letters_names_the_units(
    client: Client, tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=VOTE_UNITS)
    await sign_in(client, tg, SECRETARY)
    html = await (await client.get("/web/console/bloc")).text()
    names = ("Sở Thông tin và Truyền thông", "Sở Y tế", "SGDĐT", "Sở Văn hóa, Thể thao và Du lịch")
    typed = unicodedata.normalize("NFD", "\r\n".join(names))
    turns = await client.post(
        "/web/console/bloc/rotation", data={"csrf": csrf_of(html), "rotation": typed}
    )
    assert turns.status == 200, await turns.text()
    bloc = await bloc_by_code(services, BLOC_CODE)
    ordered = sorted(
        (u for u in await units_of(services, bloc) if u.rotation_order is not None),
        key=lambda u: u.rotation_order or 0,
    )
    assert [u.short_name for u in ordered] == ["STTTT", "SYT", "SGDĐT", "SVHTTDL"]

    refused = await client.post(
        "/web/console/bloc/rotation",
        data={"csrf": csrf_of(html), "rotation": _marked("Sở Nội vụ")},
    )
    page = await refused.text()
    assert refused.status == 400
    assert "<script>x()</script>" not in page
    assert "&lt;b&gt;Sở Nội vụ&lt;/b&gt;&lt;script&gt;x()&lt;/script&gt;" in page
