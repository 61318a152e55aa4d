"""Everyone's commands: /help per role, /me, /lang, and what the bot says to anything else."""

from __future__ import annotations

from bot.core.models import Locale
from bot.services.app import Services
from handlers.telegram.ui import LangCb
from tests.handlers.conftest import GROUP, SECRETARY, Harness, Reply
from tests.handlers.support import (
    AN,
    BINH,
    BLOC,
    BLOC_CODE,
    CUONG,
    NOT_SECRETARIAT,
    STALE,
    STRANGER,
    UNITS,
    identity,
    join,
    plain,
)

S = SECRETARY.id
HELP = (
    "<b>Các lệnh của bạn</b>\n"
    "/start — bắt đầu, tham gia bằng mã mời\n"
    "/me — tư cách thành viên và vai trò\n"
    "/lang — đổi ngôn ngữ (Tiếng Việt / English)\n"
    "/help — danh sách lệnh"
)
HELP_REPRESENTATIVE = (
    "\n\n<b>Đại diện đơn vị</b>\n"
    "/report — nộp báo cáo năm, tự chấm điểm; /criteria — bảng chấm điểm\n"
    "/deadlines — các hạn chót và tình trạng của đơn vị; /standings — bảng xếp hạng\n"
    "/covenant — đọc và ký giao ước thi đua năm sau\n"
    "/checkin — điểm danh tại hội nghị; /vote — biểu quyết, bỏ phiếu"
)
HELP_OBSERVER = (
    "\n\n<b>Thành viên theo dõi</b>\nBạn được xem tình hình của khối, không tham gia biểu quyết.\n"
    "/deadlines — các hạn chót đang mở; /standings — bảng xếp hạng; /criteria — bảng chấm điểm"
)
HELP_SECRETARIAT = (
    "\n\n<b>Thường trực khối</b>\n"
    "/bloc — thông tin khối; /bloc new — tạo khối mới\n"
    "/bloc use MÃ — chọn khối làm việc\n"
    "/bloc leader ĐƠN_VỊ, /bloc deputy ĐƠN_VỊ — trưởng khối, phó trưởng khối\n"
    "/bloc rotation A, B, C — thứ tự luân phiên\n"
    "/bloc level — cấp của khối: các hình thức khen thưởng, nơi nhận tờ trình, quy chế của khối\n"
    "/bloc link — gửi trong nhóm để liên kết nhóm của khối\n"
    "/units — danh sách đơn vị; /units SỐ — chi tiết một đơn vị\n"
    "/units add Tên; Tên viết tắt; Liên hệ — thêm đơn vị\n"
    "/units remove SỐ — xóa đơn vị nhập nhầm (chưa có hồ sơ)\n"
    "/units import — nhập đơn vị từ tệp CSV/XLSX\n"
    "/invite ĐƠN_VỊ [số lần] — cấp mã mời; /invite all — cho mọi đơn vị chưa có đại diện\n"
    "/invite secretariat, /invite observer — mời thường trực, thành viên theo dõi\n"
    "/invite revoke ĐƠN_VỊ — thu hồi mã mời\n"
    "/criteria — bảng chấm điểm; /period — kỳ báo cáo; /status — tình hình nộp; /review, "
    "/return, /export\n"
    "/conference, /ballot — hội nghị và biểu quyết; /ballot schedule — hẹn giờ mở, đóng\n"
    "/deadlines — hạn chót, lịch nhắc, giờ yên lặng; /deadlines add — thêm hạn chót\n"
    "/announce — gửi thông báo cho các thành viên hoặc các đơn vị chưa hoàn thành\n"
    "/covenant set — giao ước thi đua năm sau; /standings — bảng xếp hạng\n"
    "/summary — bài tổng kết hội nghị; /minutes — biên bản hội nghị, biên bản kiểm phiếu, "
    "tờ trình\n"
    "/bloc newyear — kết thúc năm: trưởng khối, phó trưởng khối mới nhận nhiệm vụ"
)
GROUP_HELP = (
    "Trong nhóm, bot chỉ trả lời các lệnh chung:\n"
    "/help — các lệnh\n"
    "/standings — bảng xếp hạng\n"
    "/vote — số đơn vị đã biểu quyết (không có kết quả từng phần)\n"
    "/bloc link — (thường trực) liên kết nhóm này với khối\n"
    "Các việc khác xin nhắn riêng cho bot."
)


async def test_help_depends_on_the_role(tg: Harness) -> None:
    assert plain(await tg.say(STRANGER, "/help")) == [(STRANGER.id, HELP)]
    assert plain(await tg.say(SECRETARY, "/help")) == [(S, HELP + HELP_SECRETARIAT)]  # admin

    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    await join(tg, BINH, "observer")
    await join(tg, CUONG, "secretariat")
    assert plain(await tg.say(AN, "/help")) == [(AN.id, HELP + HELP_REPRESENTATIVE)]
    assert plain(await tg.say(BINH, "/help")) == [(BINH.id, HELP + HELP_OBSERVER)]
    assert plain(await tg.say(CUONG, "/help")) == [(CUONG.id, HELP + HELP_SECRETARIAT)]
    assert plain(await tg.say(STRANGER, "/help")) == [(STRANGER.id, HELP)]
    for user in (STRANGER, AN, CUONG):
        assert plain(await tg.say(user, "/help", chat=GROUP)) == [(GROUP.id, GROUP_HELP)]


async def test_me_lists_memberships_and_roles(tg: Harness) -> None:
    assert plain(await tg.say(STRANGER, "/me")) == [
        (
            STRANGER.id,
            "<b>Hoàng Minh</b>\n"
            "Mã tài khoản: <code>telegram:3001</code>\n"
            "Bạn chưa tham gia khối thi đua nào. Hãy gửi mã mời của đơn vị bạn.",
        )
    ]
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    await join(tg, AN, "secretariat")  # a representative who also joins the secretariat
    await tg.say(SECRETARY, "/bloc new Cụm thi đua các huyện; Cụm; 2024; CTĐH")
    await join(tg, AN, "observer")

    assert plain(await tg.say(AN, "/me")) == [
        (
            AN.id,
            "<b>Trần Văn An</b>\n"
            "Mã tài khoản: <code>telegram:2001</code>\n"
            f"• {BLOC} [{BLOC_CODE}]\n"
            "   Đơn vị: Sở Y tế; Vai trò: đại diện đơn vị, thường trực\n"
            "• Cụm thi đua các huyện [CTĐH] ← đang làm việc\n"
            "   Vai trò: thành viên theo dõi",
        )
    ]
    assert plain(await tg.say(SECRETARY, "/me")) == [
        (
            S,
            "<b>Nguyễn Thị Lan</b> (quản trị)\n"
            "Mã tài khoản: <code>telegram:1000</code>\n"
            f"• {BLOC} [{BLOC_CODE}]\n"
            "   Vai trò: thường trực\n"
            "• Cụm thi đua các huyện [CTĐH] ← đang làm việc\n"
            "   Vai trò: thường trực",
        )
    ]
    assert plain(await tg.say(AN, "/me", chat=GROUP)) == [
        (GROUP.id, "Lệnh này chỉ dùng trong tin nhắn riêng với bot.")
    ]


async def test_lang_switches_the_next_replies_to_english(tg: Harness, services: Services) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    assert await tg.say(AN, "/lang") == [
        Reply(
            AN.id,
            "Chọn ngôn ngữ:",
            buttons=[["Tiếng Việt", "English"]],
            callback_data=[["lang:vi", "lang:en"]],
        )
    ]

    assert plain(await tg.tap(AN, LangCb(code="en").pack())) == [
        (AN.id, "Language set to English.")
    ]
    assert (await identity(services, AN)).locale is Locale.EN
    assert plain(await tg.say(AN, "/help")) == [
        (
            AN.id,
            "<b>Your commands</b>\n"
            "/start — start, join with an invite code\n"
            "/me — your memberships and roles\n"
            "/lang — change language (Tiếng Việt / English)\n"
            "/help — this list\n\n"
            "<b>Unit representatives</b>\n"
            "/report — submit the year-end report, self-score; /criteria — the scoring table\n"
            "/deadlines — open deadlines and your unit's status; /standings — where units stand\n"
            "/covenant — read and sign next year's emulation covenant\n"
            "/checkin — check in at the conference; /vote — vote",
        )
    ]
    assert plain(await tg.say(AN, "/units")) == [
        (AN.id, "Only the bloc's secretariat can use this command.")
    ]
    assert (await tg.say(AN, "/lang"))[0].buttons == [["Tiếng Việt", "English"]]
    # Someone else's language is their own.
    assert plain(await tg.say(BINH, "/help")) == [(BINH.id, HELP)]

    assert plain(await tg.tap(AN, LangCb(code="fr").pack())) == []
    assert tg.alerts == ["This button no longer works. Please send the command again."]
    assert plain(await tg.tap(AN, LangCb(code="vi").pack())) == [
        (AN.id, "Đã chuyển sang Tiếng Việt.")
    ]
    assert plain(await tg.say(AN, "/help")) == [(AN.id, HELP + HELP_REPRESENTATIVE)]


async def test_notices_reach_each_person_in_their_own_language(tg: Harness) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    await tg.say(AN, "/lang")
    await tg.tap(AN, LangCb(code="en").pack())
    code = await tg.invite_code("1")

    assert plain(await tg.say(BINH, code))[1:] == [
        (AN.id, f"👤 Lê Thị Bình has joined as a representative of <b>Sở Y tế</b> ({BLOC})."),
        (S, f"👤 Lê Thị Bình đã tham gia <b>{BLOC}</b>: đại diện Sở Y tế."),
    ]


async def test_anything_else_gets_a_pointer_to_help(tg: Harness) -> None:
    assert plain(await tg.say(STRANGER, "/baocao")) == [
        (STRANGER.id, "Bot không hiểu lệnh này. Gõ /help để xem các lệnh.")
    ]
    assert plain(await tg.say(STRANGER, "Xin chào, tôi là văn thư Sở Y tế")) == [
        (
            STRANGER.id,
            "Bot chưa hiểu tin nhắn này. Gõ /help để xem các lệnh, hoặc gửi mã mời để tham gia.",
        )
    ]
    assert plain(await tg.tap(STRANGER, "u:invite:1")) == [(STRANGER.id, NOT_SECRETARIAT)]
    assert plain(await tg.tap(STRANGER, "khong-ro")) == []
    assert tg.alerts == [STALE]


async def test_lang_takes_its_argument(tg: Harness, services: Services) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    assert plain(await tg.say(AN, "/lang en")) == [(AN.id, "Language set to English.")]
    assert (await identity(services, AN)).locale is Locale.EN
    assert plain(await tg.say(AN, "/lang EN")) == [(AN.id, "Language set to English.")]
    assert plain(await tg.say(AN, "/lang tiếng việt")) == [(AN.id, "Đã chuyển sang Tiếng Việt.")]
    assert (await identity(services, AN)).locale is Locale.VI
    assert plain(await tg.say(AN, "/lang english")) == [(AN.id, "Language set to English.")]
    assert plain(await tg.say(AN, "/lang vi")) == [(AN.id, "Đã chuyển sang Tiếng Việt.")]
    # A language the bot does not speak: the choice, with the buttons.
    assert await tg.say(AN, "/lang fr") == [
        Reply(
            AN.id,
            "Chọn ngôn ngữ:",
            buttons=[["Tiếng Việt", "English"]],
            callback_data=[["lang:vi", "lang:en"]],
        )
    ]
    assert (await identity(services, AN)).locale is Locale.VI
