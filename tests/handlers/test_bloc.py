"""/bloc: creating a bloc (one line and wizard), the bloc view, officers, rotation, /bloc use."""

from __future__ import annotations

from bot.core.models import BlocKind, Role, Unit
from bot.services.app import Services
from handlers.telegram.ui import KindCb
from tests.handlers.conftest import SECRETARY, Harness, Reply
from tests.handlers.support import (
    AN,
    BLOC,
    BLOC_CODE,
    NOT_SECRETARIAT,
    STALE,
    STRANGER,
    UNITS,
    bloc_by_code,
    identity,
    join,
    membership,
    plain,
    units_of,
)

S = SECRETARY.id
CREATED = (
    f"✅ Đã tạo <b>{BLOC}</b> (Khối, năm 2024, ký hiệu {BLOC_CODE}, múi giờ Asia/Ho_Chi_Minh).\n"
    "Bạn là thường trực của khối. Bước tiếp theo: thêm đơn vị bằng /units import "
    "(tệp CSV/XLSX) hoặc /units add."
)
USAGE = (
    "Cách dùng: /bloc, /bloc new, /bloc use MÃ, /bloc leader ĐƠN_VỊ, /bloc deputy ĐƠN_VỊ, "
    "/bloc rotation A, B, C, /bloc link (trong nhóm), "
    "/bloc receipts bật|tắt (công bố mã biên nhận phiếu kín), /bloc level trung ương|bộ|tỉnh|xã "
    "(cấp của khối: các hình thức khen thưởng, nơi nhận tờ trình), /bloc addressee CƠ_QUAN, "
    "/bloc regulation QUY_CHẾ, /bloc newyear (kết thúc năm)."
)
NO_GROUP = "Nhóm của khối: chưa liên kết (gửi /bloc link trong nhóm)"
SECRET_LINE = "Phiếu kín: mỗi đơn vị tự kiểm tra mã biên nhận; không công bố lựa chọn"


async def blocs(services: Services) -> list[str]:
    async with services.db.uow() as uow:
        return [b.code for b in await uow.blocs.all()]


async def test_one_line_bloc_new_makes_the_creator_its_secretariat(
    tg: Harness, services: Services
) -> None:
    replies = await tg.say(SECRETARY, f"/bloc new {BLOC}; Khối; 2024; {BLOC_CODE}")

    assert plain(replies) == [(S, CREATED)]
    bloc = await bloc_by_code(services, BLOC_CODE)
    assert (bloc.name, bloc.kind, bloc.year, bloc.timezone) == (
        BLOC,
        BlocKind.KHOI,
        2024,
        "Asia/Ho_Chi_Minh",
    )
    mine = await membership(services, SECRETARY, bloc)
    assert mine is not None
    assert (mine.unit_id, mine.roles) == (None, frozenset({Role.SECRETARIAT}))
    assert (await identity(services, SECRETARY)).current_bloc_id == bloc.id


async def test_wizard_asks_step_by_step_with_kind_buttons(tg: Harness, services: Services) -> None:
    assert plain(await tg.say(SECRETARY, "/bloc new")) == [
        (
            S,
            "Tạo khối mới (bước 1/4). Tên khối/cụm thi đua là gì?\n"
            "Ví dụ: Khối thi đua Văn hóa - Xã hội",
        )
    ]
    assert await tg.say(SECRETARY, "Cụm thi đua các huyện phía Bắc") == [
        Reply(
            S,
            "Bước 2/4. Đây là Khối hay Cụm thi đua?",
            buttons=[["Khối", "Cụm"]],
            callback_data=[["kind:khoi", "kind:cum"]],
        )
    ]
    assert plain(await tg.tap(SECRETARY, KindCb(kind="cum").pack())) == [
        (S, "Loại: Cụm"),  # the question is edited into the answer
        (S, "Bước 3/4. Năm thi đua? (ví dụ 2024)"),
    ]
    assert plain(await tg.say(SECRETARY, "2027")) == [
        (S, "Năm «2027» không hợp lệ: nhập một năm từ 2000 đến 2025.")
    ]
    assert plain(await tg.say(SECRETARY, "2025")) == [
        (
            S,
            "Bước 4/4. Ký hiệu viết tắt dùng trong số văn bản "
            "(ví dụ KTĐVHXH trong «Số: 01/BB-KTĐVHXH»)?",
        )
    ]
    assert plain(await tg.say(SECRETARY, "CTĐ-1")) == [
        (
            S,
            "Ký hiệu «CTĐ-1» không hợp lệ: 2–20 chữ cái in hoa hoặc chữ số, "
            "không dấu cách (ví dụ KTĐVHXH).",
        )
    ]
    assert await blocs(services) == []
    assert plain(await tg.say(SECRETARY, "ctđpb")) == [
        (
            S,
            "✅ Đã tạo <b>Cụm thi đua các huyện phía Bắc</b> (Cụm, năm 2025, ký hiệu CTĐPB, "
            "múi giờ Asia/Ho_Chi_Minh).\n"
            "Bạn là thường trực của khối. Bước tiếp theo: thêm đơn vị bằng /units import "
            "(tệp CSV/XLSX) hoặc /units add.",
        )
    ]
    bloc = await bloc_by_code(services, "CTĐPB")
    assert (bloc.kind, bloc.year) == (BlocKind.CUM, 2025)
    # The wizard is over: plain text is no longer taken as an answer.
    assert plain(await tg.say(SECRETARY, "2025")) == [
        (S, "Bot chưa hiểu tin nhắn này. Gõ /help để xem các lệnh, hoặc gửi mã mời để tham gia.")
    ]


async def test_wizard_takes_a_typed_kind_and_a_command_cancels_it(
    tg: Harness, services: Services
) -> None:
    await tg.say(SECRETARY, "/bloc new")
    await tg.say(SECRETARY, "Khối thi đua Kinh tế")
    assert plain(await tg.say(SECRETARY, "nhóm")) == [
        (S, "«nhóm» không phải Khối hay Cụm. Gõ «Khối» hoặc «Cụm».")
    ]
    assert plain(await tg.say(SECRETARY, "khoi")) == [(S, "Bước 3/4. Năm thi đua? (ví dụ 2024)")]

    await tg.say(SECRETARY, "/bloc new")
    assert plain(await tg.say(SECRETARY, "/units")) == [(S, "Đã hủy thao tác đang làm.")]
    assert await blocs(services) == []


async def test_a_forged_kind_button_is_stale_and_the_wizard_waits(
    tg: Harness, services: Services
) -> None:
    await tg.say(SECRETARY, "/bloc new")
    await tg.say(SECRETARY, "Khối thi đua Kinh tế")

    assert await tg.tap(SECRETARY, KindCb(kind="nhom").pack()) == []
    assert tg.alerts == [STALE]
    assert plain(await tg.tap(SECRETARY, KindCb(kind="khoi").pack()))[0] == (S, "Loại: Khối")
    assert await blocs(services) == []


async def test_one_line_bloc_new_refusals_create_nothing(tg: Harness, services: Services) -> None:
    cases = {
        "/bloc new Khối A; Khối": (
            "Cách tạo nhanh: <code>/bloc new Tên khối; Khối hoặc Cụm; Năm; Ký hiệu[; Múi giờ]"
            "</code>\n"
            "Ví dụ: <code>/bloc new Khối thi đua Văn hóa - Xã hội; Khối; 2024; KTĐVHXH</code>\n"
            "Hoặc gõ /bloc new rồi trả lời từng câu hỏi."
        ),
        "/bloc new Khối A; Nhóm; 2024; KA": (
            "«Nhóm» không phải Khối hay Cụm. Gõ «Khối» hoặc «Cụm»."
        ),
        "/bloc new Khối A; Khối; 2030; KA": (
            "Năm «2030» không hợp lệ: nhập một năm từ 2000 đến 2025."
        ),
        "/bloc new Khối A; Khối; 1999; KA": (
            "Năm «1999» không hợp lệ: nhập một năm từ 2000 đến 2025."
        ),
        "/bloc new Khối A; Khối; 2024; K": (
            "Ký hiệu «K» không hợp lệ: 2–20 chữ cái in hoa hoặc chữ số, không dấu cách "
            "(ví dụ KTĐVHXH)."
        ),
        "/bloc new Khối A; Khối; 2024; KA; Mars/Base": (
            "Múi giờ «Mars/Base» không hợp lệ. Ví dụ: Asia/Ho_Chi_Minh"
        ),
        "/bloc new ; Khối; 2024; KA": "Tên không được để trống.",
        f"/bloc new {'Khối ' * 41}; Khối; 2024; KA": (
            "Tên khối quá dài: 204 ký tự, tối đa 200 ký tự. Chưa có gì được lưu: "
            "hãy rút gọn rồi gửi lại."
        ),
    }
    for command, refusal in cases.items():
        assert plain(await tg.say(SECRETARY, command)) == [(S, refusal)], command
    assert await blocs(services) == []


PAST = (
    "Năm {year} đã qua (năm nay là 2024). Tạo <b>Khối A</b> cho năm {year} "
    "để ghi lại hội nghị đã diễn ra?"
)


async def test_a_past_year_bloc_is_created_after_a_confirm(
    tg: Harness, services: Services
) -> None:
    # Issue 17, item 15: a board records last year's conference after the fact.
    assert await tg.say(SECRETARY, "/bloc new Khối A; Khối; 2021; KA") == [
        Reply(
            S,
            PAST.format(year=2021),
            buttons=[["✅ Tạo cho năm 2021", "✖ Hủy"]],
            callback_data=[["bpy:1", "bpy:0"]],
        )
    ]
    assert await blocs(services) == []
    replies = plain(await tg.tap(SECRETARY, "bpy:1"))
    assert replies[-1] == (
        S,
        "✅ Đã tạo <b>Khối A</b> (Khối, năm 2021, ký hiệu KA, múi giờ Asia/Ho_Chi_Minh).\n"
        "Bạn là thường trực của khối. Bước tiếp theo: thêm đơn vị bằng /units import "
        "(tệp CSV/XLSX) hoặc /units add.",
    )
    assert (await bloc_by_code(services, "KA")).year == 2021
    assert await tg.tap(SECRETARY, "bpy:1") == []  # a second tap creates nothing more
    assert await blocs(services) == ["KA"]


async def test_the_wizard_takes_a_past_year_and_a_cancel_creates_nothing(
    tg: Harness, services: Services
) -> None:
    await tg.say(SECRETARY, "/bloc new")
    await tg.say(SECRETARY, "Khối A")
    await tg.say(SECRETARY, "Khối")
    assert plain(await tg.say(SECRETARY, "2000"))[0][1].startswith("Bước 4/4.")
    assert (await tg.say(SECRETARY, "KA"))[0].text == PAST.format(year=2000)
    assert plain(await tg.tap(SECRETARY, "bpy:0"))[-1] == (S, "Đã hủy thao tác đang làm.")
    assert await blocs(services) == []


async def test_only_admins_and_secretariats_create_blocs(tg: Harness, services: Services) -> None:
    refusal = (
        "Chỉ quản trị viên hoặc thường trực của một khối mới tạo được khối mới.\n"
        "Mã tài khoản của bạn: <code>telegram:3001</code> — người quản trị máy chủ thêm mã này "
        "vào ADMIN_IDS để bạn tạo được khối."
    )
    assert plain(await tg.say(STRANGER, f"/bloc new {BLOC}; Khối; 2024; {BLOC_CODE}")) == [
        (STRANGER.id, refusal)
    ]
    assert plain(await tg.say(STRANGER, "/bloc new")) == [(STRANGER.id, refusal)]
    assert plain(await tg.say(STRANGER, "Khối thi đua Kinh tế")) == [
        (
            STRANGER.id,
            "Bot chưa hiểu tin nhắn này. Gõ /help để xem các lệnh, hoặc gửi mã mời để tham gia.",
        )
    ]
    assert await blocs(services) == []


async def test_an_admin_without_a_bloc_is_told_to_create_one(tg: Harness) -> None:
    none_yet = "Bạn chưa có khối nào. Gõ /bloc new để tạo khối thi đua đầu tiên."
    for command in ("/bloc", "/units", "/invite 1", "/bloc leader 1", "/units import"):
        assert plain(await tg.say(SECRETARY, command)) == [(S, none_yet)], command


async def test_bloc_view_for_the_secretariat_and_a_representative(tg: Harness) -> None:
    await tg.admin_setup(units=UNITS)
    header = f"<b>{BLOC}</b> — Khối năm 2024 [{BLOC_CODE}]"
    assert plain(await tg.say(SECRETARY, "/bloc")) == [
        (
            S,
            f"{header}\n"
            "Đơn vị thành viên: 3; đã có đại diện: 0/3 (0 người)\n"
            "Trưởng khối: chưa xác định\n"
            "Phó trưởng khối: chưa xác định\n"
            f"{NO_GROUP}\n{SECRET_LINE}",
        )
    ]

    await join(tg, AN, "1")
    await tg.say(SECRETARY, "/bloc leader SYT")
    await tg.say(SECRETARY, "/bloc deputy 2")
    await tg.say(SECRETARY, "/bloc rotation SYT, SGDĐT, SVHTTDL")
    view = (
        f"{header}\n"
        "Đơn vị thành viên: 3; đã có đại diện: 1/3 (1 người)\n"
        "Trưởng khối: Sở Y tế\n"
        "Phó trưởng khối: Sở Giáo dục và Đào tạo\n"
        "Luân phiên: SYT → SGDĐT → SVHTTDL; "
        "đề xuất trưởng khối năm sau: Sở Giáo dục và Đào tạo\n"
        f"{NO_GROUP}\n{SECRET_LINE}"
    )
    assert plain(await tg.say(SECRETARY, "/bloc")) == [(S, view)]
    assert plain(await tg.say(AN, "/bloc")) == [(AN.id, view)]
    assert plain(await tg.say(STRANGER, "/bloc")) == [
        (STRANGER.id, "Bạn chưa tham gia khối thi đua nào. Hãy gửi mã mời của đơn vị bạn.")
    ]
    assert plain(await tg.say(SECRETARY, "/bloc bogus")) == [(S, USAGE)]


async def test_leader_and_deputy(tg: Harness, services: Services) -> None:
    await tg.admin_setup(units=UNITS)
    unit_ids = {u.short_name: u.id for u in await _units(services)}

    assert plain(await tg.say(SECRETARY, "/bloc leader Sở Y tế")) == [
        (S, f"Đã cập nhật {BLOC}:\nTrưởng khối: Sở Y tế\nPhó trưởng khối: chưa xác định")
    ]
    assert plain(await tg.say(SECRETARY, "/bloc deputy so giao duc va dao tao")) == [
        (S, f"Đã cập nhật {BLOC}:\nTrưởng khối: Sở Y tế\nPhó trưởng khối: Sở Giáo dục và Đào tạo")
    ]
    refusals = {
        "/bloc deputy SYT": "Trưởng khối và phó trưởng khối phải là hai đơn vị khác nhau.",
        "/bloc leader Sở Công Thương": (
            "Không tìm thấy đơn vị «Sở Công Thương» trong khối. Xem danh sách: /units"
        ),
        "/bloc leader 4": "Không tìm thấy đơn vị «4» trong khối. Xem danh sách: /units",
        "/bloc leader": USAGE,
    }
    for command, refusal in refusals.items():
        assert plain(await tg.say(SECRETARY, command)) == [(S, refusal)], command
    bloc = await bloc_by_code(services, BLOC_CODE)
    assert (bloc.leader_unit_id, bloc.deputy_unit_id) == (unit_ids["SYT"], unit_ids["SGDĐT"])


async def test_rotation(tg: Harness, services: Services) -> None:
    await tg.admin_setup(units=UNITS)
    assert plain(await tg.say(SECRETARY, "/bloc rotation SYT")) == [
        (S, "Thứ tự luân phiên phải gồm mọi đơn vị. Còn thiếu: SGDĐT, SVHTTDL.")
    ]
    assert [u.rotation_order for u in await _units(services)] == [None, None, None]

    assert plain(await tg.say(SECRETARY, "/bloc rotation 3; SYT, Sở Giáo dục và Đào tạo")) == [
        (
            S,
            "Thứ tự luân phiên trưởng khối:\n"
            "1. Sở Văn hóa, Thể thao và Du lịch\n"
            "2. Sở Y tế\n"
            "3. Sở Giáo dục và Đào tạo",
        )
    ]
    assert [(u.short_name, u.rotation_order) for u in await _units(services)] == [
        ("SYT", 2),
        ("SGDĐT", 3),
        ("SVHTTDL", 1),
    ]


async def test_bloc_use_switches_between_ones_own_blocs(tg: Harness, services: Services) -> None:
    await tg.say(SECRETARY, "/bloc new Cụm thi đua các huyện; Cụm; 2024; CTĐH")
    await tg.admin_setup(units=UNITS)  # the newest bloc is the current one
    cum = await bloc_by_code(services, "CTĐH")
    khoi = await bloc_by_code(services, BLOC_CODE)
    assert (await identity(services, SECRETARY)).current_bloc_id == khoi.id
    assert plain(await tg.say(SECRETARY, "/bloc"))[0][1].endswith(
        "\nBạn còn tham gia 1 khối khác (/bloc use MÃ để chuyển)."
    )

    assert plain(await tg.say(SECRETARY, "/bloc use ctđh")) == [
        (S, "Đang làm việc với <b>Cụm thi đua các huyện</b> [CTĐH].")
    ]
    assert (await identity(services, SECRETARY)).current_bloc_id == cum.id
    assert plain(await tg.say(SECRETARY, "/units")) == [
        (
            S,
            "<b>Cụm thi đua các huyện</b> — 0 đơn vị thành viên\n"
            "Chưa có đơn vị nào. Dùng /units import hoặc /units add.\n"
            "Thường trực, theo dõi: Nguyễn Thị Lan\n"
            "Xem chi tiết, cấp mã hoặc xóa thành viên: /units SỐ",
        )
    ]
    assert plain(await tg.say(SECRETARY, "/bloc use 2")) == [
        (S, f"Đang làm việc với <b>{BLOC}</b> [{BLOC_CODE}].")
    ]
    assert plain(await tg.say(SECRETARY, "/bloc use KTĐXYZ")) == [
        (S, "Không tìm thấy khối «KTĐXYZ» trong các khối của bạn.")
    ]
    assert (await identity(services, SECRETARY)).current_bloc_id == khoi.id

    # With no bloc chosen (e.g. removed from the one chosen), /bloc lists them to pick from.
    me = await identity(services, SECRETARY)
    async with services.db.uow() as uow:
        await uow.identities.set_current_bloc(me.id, None)
        await uow.commit()
    assert plain(await tg.say(SECRETARY, "/bloc")) == [
        (
            S,
            "Bạn tham gia nhiều khối. Chọn khối làm việc bằng /bloc use MÃ:\n"
            "1. Cụm thi đua các huyện [CTĐH]\n"
            f"2. {BLOC} [{BLOC_CODE}]",
        )
    ]
    assert plain(await tg.say(SECRETARY, "/units")) == [
        (S, "Bạn tham gia nhiều khối: hãy chọn khối làm việc bằng /bloc use MÃ (xem /me).")
    ]


async def test_representatives_and_strangers_cannot_set_officers(
    tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    for user in (AN, STRANGER):
        for command in ("/bloc leader 1", "/bloc deputy 2", "/bloc rotation 1, 2, 3"):
            assert plain(await tg.say(user, command)) == [(user.id, NOT_SECRETARIAT)], command
    bloc = await bloc_by_code(services, BLOC_CODE)
    assert (bloc.leader_unit_id, bloc.deputy_unit_id) == (None, None)
    assert [u.rotation_order for u in await _units(services)] == [None, None, None]


async def _units(services: Services) -> list[Unit]:
    return await units_of(services, await bloc_by_code(services, BLOC_CODE))
