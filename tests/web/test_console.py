"""The secretariat's console: the year at a glance and the conference as a form — the same
services as `/conference new` and `/conference checkin` (same checks, audit and refusals);
representatives are refused on every console route."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

from bot.services.app import Services
from bot.services.covenant import text_hash
from handlers.web.app import STREAMED_UPLOADS, make_web_app
from handlers.web.base import WebConfig
from storage.vote_repos import Conference
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BLOC_CODE,
    CONFERENCE,
    CUONG,
    DUNG,
    GIANG,
    OPEN_PERIOD,
    TABLE_EXAMPLE,
    VOTE_UNITS,
    audit_trail,
    bloc_by_code,
    conference_setup,
    hall_code,
    join,
    submitted,
)
from tests.web.support import WEB_URL, Client, csrf_of, sign_in

FORM = {
    "date": "2024-12-20",
    "hour": "08:30",
    "place": "Hội trường Sở Y tế",
    "locality": "Hà Nội",
    "chair_unit": "SYT",
    "chair": "Nguyễn Văn Thành",
    "chair_title": "Giám đốc Sở Y tế",
    "secretary": "Lò Thị Hương",
    "counting_board": "Quàng Thị Mai\r\n  Trần Đức Long  \r\n\r\n",
    "guests": "Lãnh đạo UBND tỉnh\r\nĐại diện Ban Thi đua - Khen thưởng tỉnh",
    "delegations": "Lãnh đạo Văn phòng UBND các huyện\r\n\r\nPhòng Nội vụ các huyện",
    "signer": "Trần Văn Bình",
    "signer_title": "Giám đốc Sở Y tế, Khối trưởng",
    "deputy": "Lê Văn Hùng",
    "deputy_title": "Phó Giám đốc Sở Giáo dục và Đào tạo",
    "ended": "",
    "venue": "auto",
}


async def conference(services: Services) -> Conference | None:
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        return await uow.votes.conference(bloc.id, bloc.year)


async def test_the_overview_shows_the_year_and_what_to_do_next(
    client: Client, tg: Harness
) -> None:
    await tg.admin_setup(units=VOTE_UNITS)
    # The sign-in message tells the secretariat where the console is, not a representative.
    where = "thường trực điều hành khối ở mục «Thường trực»"
    assert where in (await tg.say(SECRETARY, "/web"))[-1].text
    await join(tg, AN, "1")
    assert where not in (await tg.say(AN, "/web"))[-1].text
    home = await sign_in(client, tg, SECRETARY)
    assert 'href="/web/console"' in home  # the secretariat's tab
    page = await client.get("/web/console")
    assert page.status == 200
    html = await page.text()
    assert "Bảng điều hành của thường trực" in html
    assert "Mở kỳ báo cáo" in html
    assert "Thiết lập hội nghị tổng kết" in html
    assert "Chưa thiết lập hội nghị năm nay." in html
    # Each next step links the console page that does it (the console is the web: a Zalo
    # secretariat has no Telegram command to type).
    assert "Telegram" not in html
    assert (
        "<li>Nhập bảng chấm điểm của năm (tệp YAML, CSV hoặc Excel): xem trước rồi mới lưu. — "
        '<a href="/web/console/table">Bảng chấm điểm</a></li>'
    ) in html
    assert (
        "<li>Mở kỳ báo cáo: tiêu đề, hạn chót; đại diện các đơn vị được báo ngay. — "
        '<a href="/web/console/periods">Kỳ báo cáo</a></li>'
    ) in html

    await tg.say(SECRETARY, CONFERENCE)
    await tg.say(AN, f"/checkin {await hall_code(tg.services)}")
    html = await (await client.get("/web/console")).text()
    assert "Hội trường Sở Y tế" in html
    assert "Có mặt: 1/4 đơn vị — còn thiếu 2 đơn vị" in html
    assert "Điểm danh tại hội trường, bằng mã trên màn hình hội trường." in html
    assert (
        "<li>Tạo các nội dung biểu quyết của hội nghị (theo mặc định của khối). — "
        '<a href="/web/console/ballots">Biểu quyết, bầu cử</a></li>'
    ) in html
    assert "Thiết lập hội nghị tổng kết" not in html
    assert "Telegram" not in html

    # The deadlines: each with how many units have done it, and which have not.
    assert '<h2 id="covenant">Giao ước thi đua năm 2025</h2>' in html
    assert '<p id="covenant-count">Chưa có giao ước thi đua năm 2025.</p>' in html
    await tg.say(SECRETARY, "/deadlines add Nộp danh sách khen thưởng; 10/12/2024 17:00")
    bloc = await bloc_by_code(tg.services, BLOC_CODE)
    async with tg.services.db.uow() as uow:
        (deadline,) = await uow.deadlines.of_bloc(bloc.id)
    await tg.tap(AN, f"dl:{deadline.id}:ack")
    # Next year's covenant: set, and who has signed (n of N, the others named).
    await tg.say(SECRETARY, "/covenant set 17:00 20/12/2024; Các đơn vị cam kết thi đua.")
    async with tg.services.db.uow() as uow:
        covenant = await uow.covenants.of_year(bloc.id, 2025)
    assert covenant is not None
    await tg.tap(AN, f"cv:{covenant.id}:ok:{text_hash(covenant.text)[:16]}")
    html = await (await client.get("/web/console")).text()
    card = html[html.index("Nộp danh sách khen thưởng") :]
    card = card[: card.index("</li>")]
    assert '<div class="state">1/4 đơn vị đã thực hiện</div>' in card
    assert "<summary>3 đơn vị chưa thực hiện</summary>" in card
    assert (
        "<p>Sở Giáo dục và Đào tạo, Sở Văn hóa, Thể thao và Du lịch, "
        "Sở Thông tin và Truyền thông</p>"
    ) in card
    assert (
        '<p id="covenant-count">Đã có nội dung. Đã ký: 1/4 đơn vị. '
        "Hạn ký: 17:00 thứ Sáu, 20/12/2024.</p>"
    ) in html
    assert "<summary>3 đơn vị chưa ký</summary>" in html
    signed = html[html.index('id="covenant"') :]
    assert (
        "<p>Sở Giáo dục và Đào tạo, Sở Văn hóa, Thể thao và Du lịch, "
        "Sở Thông tin và Truyền thông</p>"
    ) in signed
    link = '<a class="button" href="/web/console/covenant">Nội dung giao ước, các đơn vị đã ký</a>'
    assert link in signed


async def test_the_conference_form_sets_it_up_and_edits_it(
    client: Client, tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=VOTE_UNITS)
    await sign_in(client, tg, SECRETARY)
    page = await client.get("/web/console/conference")
    assert page.status == 200
    html = await page.text()
    for label in (
        "Ngày",
        "Giờ",
        "Địa điểm",
        "Chủ tọa: họ tên",
        "Chức vụ của chủ tọa",
        "Khách mời",
        "Người ký tờ trình thay mặt khối: họ tên",
        "Chức vụ của người ký",
        "Thành phần đại biểu ngoài các đơn vị thành viên",
        "Giờ kết thúc",
    ):
        assert f">{label}</label>" in html, label
    assert 'value="auto" checked' in html

    saved = await client.post(
        "/web/console/conference",
        data={"csrf": csrf_of(html), **FORM},
        allow_redirects=False,
    )
    assert saved.status == 303
    assert saved.headers["Location"] == "/web/console/conference?saved=1"
    found = await conference(services)
    assert found is not None
    assert found.held_at == datetime(2024, 12, 20, 1, 30, tzinfo=UTC)  # 08:30 in Hà Nội
    assert found.place == "Hội trường Sở Y tế"
    # The signers are persons: names and titles apart (issue 20, 4).
    assert (found.chair, found.chair_title) == ("Nguyễn Văn Thành", "Giám đốc Sở Y tế")
    assert (found.signer, found.signer_title) == ("Trần Văn Bình", "Giám đốc Sở Y tế, Khối trưởng")
    assert found.delegations == "Lãnh đạo Văn phòng UBND các huyện; Phòng Nội vụ các huyện"
    assert (found.deputy, found.deputy_title) == (
        "Lê Văn Hùng",
        "Phó Giám đốc Sở Giáo dục và Đào tạo",
    )
    assert found.ended_at is None
    assert found.counting_board == ("Quàng Thị Mai", "Trần Đức Long")
    assert found.guests == "Lãnh đạo UBND tỉnh; Đại diện Ban Thi đua - Khen thưởng tỉnh"
    assert found.locality == "Hà Nội"
    assert found.venue_checkin is None
    assert [a for a, _ in await audit_trail(services) if a.startswith("conference.")] == [
        "conference.set_up"
    ]

    html = await (await client.get("/web/console/conference?saved=1")).text()
    assert "✅ Đã lưu thông tin hội nghị." in html
    assert 'name="date" value="2024-12-20"' in html
    assert 'name="hour" value="08:30"' in html
    assert '<option value="SYT" selected>' in html
    assert ">Quàng Thị Mai\nTrần Đức Long</textarea>" in html
    assert ">Lãnh đạo UBND tỉnh\nĐại diện Ban Thi đua - Khen thưởng tỉnh</textarea>" in html
    assert ">Lãnh đạo Văn phòng UBND các huyện\nPhòng Nội vụ các huyện</textarea>" in html
    assert 'name="signer_title" value="Giám đốc Sở Y tế, Khối trưởng"' in html

    # Edited: check-in self-declared; the conference keeps its id (its check-ins stay).
    edited = await client.post(
        "/web/console/conference",
        data={"csrf": csrf_of(html), **FORM, "hour": "14:00", "venue": "off"},
        allow_redirects=False,
    )
    assert edited.status == 303
    again = await conference(services)
    assert again is not None
    assert again.id == found.id
    assert again.held_at == datetime(2024, 12, 20, 7, 0, tzinfo=UTC)
    assert again.venue_checkin is False
    actions = [a for a, _ in await audit_trail(services) if a.startswith("conference.")]
    assert actions == ["conference.set_up", "conference.updated", "conference.venue_checkin"]
    html = await (await client.get("/web/console/conference")).text()
    assert 'value="off" checked' in html

    # The end time, typed on the conference's day: the minutes end there.
    ended = await client.post(
        "/web/console/conference",
        data={"csrf": csrf_of(html), **FORM, "hour": "14:00", "venue": "off", "ended": "16:45"},
        allow_redirects=False,
    )
    assert ended.status == 303
    last = await conference(services)
    assert last is not None
    assert last.ended_at == datetime(2024, 12, 20, 9, 45, tzinfo=UTC)
    html = await (await client.get("/web/console/conference")).text()
    assert 'name="ended" value="16:45"' in html


async def test_the_conference_page_lists_who_checked_in_and_who_not_yet(
    client: Client, tg: Harness
) -> None:
    """Below the form: present/total, the quorum, and which units are present and which
    are not yet — what the chat's /conference says, kept up as units check in."""
    await tg.admin_setup(units=VOTE_UNITS)
    await sign_in(client, tg, SECRETARY)
    html = await (await client.get("/web/console/conference")).text()
    assert 'id="checkins"' not in html  # nothing to check in to before the set-up

    for user, unit in ((AN, "1"), (CUONG, "2"), (DUNG, "3"), (GIANG, "4")):
        await join(tg, user, unit)
    await tg.say(SECRETARY, CONFERENCE)
    for user in (AN, CUONG):
        await tg.say(user, f"/checkin {await hall_code(tg.services)}")
    html = await (await client.get("/web/console/conference")).text()
    assert '<h2 id="checkins">Điểm danh</h2>' in html
    assert "Có mặt: 2/4 đơn vị — còn thiếu 1 đơn vị" in html
    assert "<h3>Đã điểm danh (2)</h3>" in html
    assert (
        '<ul class="names" id="checkins-present"><li>Sở Y tế <span class="hint">(SYT)</span>'
        '</li><li>Sở Giáo dục và Đào tạo <span class="hint">(SGDĐT)</span></li></ul>'
    ) in html
    assert "<h3>Chưa điểm danh (2)</h3>" in html
    assert (
        '<ul class="names" id="checkins-absent"><li>Sở Văn hóa, Thể thao và Du lịch '
        '<span class="hint">(SVHTTDL)</span></li><li>Sở Thông tin và Truyền thông '
        '<span class="hint">(STTTT)</span></li></ul>'
    ) in html
    assert html.index('id="checkins"') > html.index("</form>")  # below the form
    # The chat says the same of who is missing.
    chat = (await tg.say(SECRETARY, "/conference"))[0].text
    assert "Chưa điểm danh: SVHTTDL, STTTT" in chat

    await tg.say(DUNG, f"/checkin {await hall_code(tg.services)}")
    await tg.say(GIANG, f"/checkin {await hall_code(tg.services)}")
    html = await (await client.get("/web/console/conference")).text()
    assert "Có mặt: 4/4 đơn vị — đủ điều kiện biểu quyết" in html
    assert "<h3>Chưa điểm danh (0)</h3>" in html
    assert "Tất cả đơn vị đã điểm danh." in html
    assert 'id="checkins-absent"' not in html


async def test_a_bad_field_is_said_and_nothing_typed_is_lost(
    client: Client, tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=VOTE_UNITS)
    await sign_in(client, tg, SECRETARY)
    html = await (await client.get("/web/console/conference")).text()
    for change, said in (
        ({"date": "31/02/2024"}, "Không hiểu thời hạn «31/02/2024 08:30»"),
        ({"place": "   "}, None),
        ({"chair": "x" * 201}, "200"),
        ({"chair_title": "x" * 201}, "Chức vụ quá dài: 201 ký tự, tối đa 200 ký tự"),
        ({"ended": "07:00"}, "Giờ kết thúc «07:00» không sau giờ khai mạc hội nghị"),
        ({"ended": "25:99"}, "Không hiểu thời hạn «25:99»"),
    ):
        refused = await client.post(
            "/web/console/conference", data={"csrf": csrf_of(html), **FORM, **change}
        )
        assert refused.status == 400
        page = await refused.text()
        assert 'role="alert"' in page
        if said:
            assert said in page
        # What was typed is still in the form.
        assert 'value="Nguyễn Văn Thành"' in page or "x" * 201 in page
        assert ">Quàng Thị Mai\r\n  Trần Đức Long</textarea>" in page
    assert await conference(services) is None


async def test_markup_and_decomposed_letters_are_stored_clean_and_shown_as_text(
    client: Client, tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=VOTE_UNITS)
    await sign_in(client, tg, SECRETARY)
    html = await (await client.get("/web/console/conference")).text()
    nfd = {
        name: unicodedata.normalize("NFD", value)
        for name, value in FORM.items()
        if name not in {"date", "hour", "chair_unit", "venue", "ended"}
    }
    marked = {name: f"<b>{value}</b><script>x()</script>" for name, value in nfd.items()}
    data = {**FORM, **marked, "locality": "<i>Hà Nội</i>"}
    done = await client.post(
        "/web/console/conference", data={"csrf": csrf_of(html), **data}, allow_redirects=False
    )
    assert done.status == 303
    found = await conference(services)
    assert found is not None
    for stored in (
        found.place,
        found.chair,
        found.chair_title,
        found.signer,
        found.signer_title,
        found.deputy,
        found.deputy_title,
        found.delegations,
        found.guests,
    ):
        assert stored == unicodedata.normalize("NFC", stored)
        assert stored.startswith("<b>"), stored  # kept as typed, shown as text
    assert "Hội trường Sở Y tế" in found.place
    assert "Giám đốc Sở Y tế" in found.chair_title
    page = await (await client.get("/web/console/conference")).text()
    assert "<script>x()</script>" not in page
    assert "&lt;script&gt;x()&lt;/script&gt;" in page


async def test_a_representative_is_refused_on_every_console_route(
    client: Client, tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=VOTE_UNITS)
    await join(tg, AN, "1")
    home = await sign_in(client, tg, AN)
    assert 'href="/web/console"' not in home
    for path in ("/web/console", "/web/console/conference"):
        page = await client.get(path)
        assert page.status == 403, path
        assert "Chỉ thường trực khối mới dùng được lệnh này." in await page.text()
    forged = await client.post(
        "/web/console/conference", data={"csrf": csrf_of(home), **FORM}, allow_redirects=False
    )
    assert forged.status == 403
    assert await conference(services) is None


async def test_the_conference_form_needs_the_csrf_token(
    client: Client, tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=VOTE_UNITS)
    await sign_in(client, tg, SECRETARY)
    assert (await client.post("/web/console/conference", data=FORM)).status == 403
    forged = await client.post("/web/console/conference", data={**FORM, "csrf": "x"})
    assert forged.status == 403
    assert await conference(services) is None


async def test_the_hall_screen_link_from_the_console(
    client: Client, tg: Harness, services: Services
) -> None:
    """A secretariat on Zalo has no `/conference screen`: the console issues the link (shown
    once, with its QR code), counts the links in force, and revokes them behind a confirm."""
    await tg.admin_setup(units=VOTE_UNITS)
    await sign_in(client, tg, SECRETARY)
    early = await (await client.get("/web/console/screen")).text()
    assert "Khối chưa thiết lập hội nghị năm nay." in early
    await tg.say(SECRETARY, CONFERENCE)
    overview = await (await client.get("/web/console")).text()
    assert 'href="/web/console/screen"' in overview
    page = await client.get("/web/console/screen")
    html = await page.text()
    assert page.status == 200
    assert "Đường dẫn đang hiệu lực: 0." in html
    assert "Đường dẫn có hiệu lực đến 00:00 thứ Bảy, 21/12/2024 (hết ngày hội nghị)." in html
    issued = await client.post("/web/console/screen", data={"csrf": csrf_of(html)})
    assert issued.status == 200
    assert issued.headers["Cache-Control"] == "no-store"
    shown = await issued.text()
    link = re.search(r"http://127\.0\.0\.1/web(/screen/[A-Za-z0-9_-]{43})", shown)
    assert link is not None
    assert "<svg" in shown  # its QR code
    assert "Đường dẫn chỉ hiện một lần trên trang này" in shown
    screen = await client.get(f"/web{link.group(1)}")
    assert screen.status == 200
    assert "Hội nghị tổng kết năm 2024" in await screen.text()
    html = await (await client.get("/web/console/screen")).text()
    assert "Đường dẫn đang hiệu lực: 1." in html
    assert link.group(1) not in html  # never shown again

    confirm = await (await client.get("/web/console/screen/revoke")).text()
    assert "1 đường dẫn đang hiệu lực sẽ ngừng hiển thị ngay" in confirm
    done = await client.post(
        "/web/console/screen/revoke", data={"csrf": csrf_of(confirm)}, allow_redirects=False
    )
    assert done.status == 303
    assert done.headers["Location"] == "/web/console/screen?revoked=1"
    html = await (await client.get(done.headers["Location"])).text()
    assert "✅ Đã thu hồi mọi đường dẫn màn hình." in html
    assert "Đường dẫn đang hiệu lực: 0." in html
    assert (await client.get(f"/web{link.group(1)}")).status == 410
    actions = [action for action, _ in await audit_trail(services)]
    assert actions[-2:] == ["screen.issued", "screen.revoked"]


async def test_a_representative_gets_no_screen_link(client: Client, tg: Harness) -> None:
    await tg.admin_setup(units=VOTE_UNITS)
    await tg.say(SECRETARY, CONFERENCE)
    await join(tg, AN, "1")
    home = await sign_in(client, tg, AN)
    for path in ("/web/console/screen", "/web/console/screen/revoke"):
        assert (await client.get(path)).status == 403, path
    forged = await client.post("/web/console/screen", data={"csrf": csrf_of(home)})
    assert forged.status == 403
    assert "/screen/" not in await forged.text()


_PARAMS = {"number": "1", "unit": "1", "member": "1", "action": "close", "doc": "minutes"}


def _console_routes() -> list[tuple[str, str]]:
    """Every console route of the real app (a route added later is covered by itself), its
    parameters filled with ones that exist in the world below."""
    app = make_web_app(services=None, config=WebConfig(WEB_URL))  # type: ignore[arg-type]
    found = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = str(info.get("path") or info.get("formatter") or "")
        if route.method in ("GET", "POST") and path.startswith("/console"):
            found.append(
                (route.method, re.sub(r"\{(\w+)\}", lambda m: _PARAMS.get(m[1], "1"), path))
            )
    return found


async def test_a_representative_is_refused_on_every_route_of_the_app(
    client: Client, tg: Harness, services: Services
) -> None:
    """Every console route, read from the app's router: a representative's GET and POST (with
    a valid CSRF token, and fields) are refused 403, and nothing is written."""
    await conference_setup(tg)
    await tg.send_file(SECRETARY, "bang.yaml", TABLE_EXAMPLE.read_bytes(), "/criteria")
    await tg.say(SECRETARY, OPEN_PERIOD)
    await submitted(services, AN)
    await tg.say(SECRETARY, "/ballot open 1")
    home = await sign_in(client, tg, CUONG)
    before = len(await audit_trail(services))
    routes = _console_routes()
    assert len(routes) > 60, routes
    fields = {"csrf": csrf_of(home), **FORM, "year": "2024", "comment": "x", "text": "x"}
    for method, path in routes:
        if method == "GET":
            answer = await client.get(f"/web{path}", allow_redirects=False)
        else:
            answer = await client.post(f"/web{path}", data=fields, allow_redirects=False)
        assert answer.status == 403, (method, path, answer.status)
        said = ["Chỉ thường trực khối mới dùng được lệnh này."]
        if path.startswith("/console/blocs/new"):
            said = ["Chỉ quản trị viên hoặc thường trực của một khối mới tạo được khối mới."]
        elif method == "POST" and path in STREAMED_UPLOADS:  # a plain form where a file goes
            said.append("Biểu mẫu đã cũ hoặc không đến từ trang này.")
        html = await answer.text()
        assert any(words in html for words in said), path
    assert len(await audit_trail(services)) == before
