"""Reports: the scoring table, periods, and a representative's whole submission walk."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from teremok import MockMessagePhoto

from bot.core.models import Bloc, BlocKind, Locale, Unit
from bot.core.reports import Draft, LatePolicy, Period, PeriodKind
from bot.core.scoring import Item, ItemKind, ScoringTable, totals
from bot.fakes.clock import FakeClock
from bot.render import Renderer
from bot.services import reports as svc
from bot.services.app import Services
from bot.services.reports import WalkContext
from handlers.telegram.reports import SUMMARY_FORMS
from handlers.telegram.ui import MemberCb, MoveCb, Ui
from tests.conftest import START
from tests.handlers.conftest import SECRETARY, Harness, Reply
from tests.handlers.support import (
    ABOVE_MAX,
    AN,
    BINH,
    BLOC,
    BLOC_CODE,
    CUONG,
    G1,
    G2,
    G3,
    G4,
    ITEMS,
    OPEN_PERIOD,
    PERIOD_TITLE,
    STRANGER,
    SYT_TOTAL,
    SYT_VALUES,
    TABLE_EXAMPLE,
    UNITS,
    bloc_by_code,
    csv_bytes,
    dispatch,
    docx_bytes,
    downloads,
    draft_count,
    draft_id,
    entries,
    identity,
    join,
    limit_line,
    plain,
    problem_line,
    replies_of,
    report_setup,
    restarted,
    score_all,
    send_sized,
    stored_files,
    submitted,
    unit_ids,
    versions,
    xlsx_bytes,
)

S = SECRETARY.id
TABLE_TITLE = "Bảng chấm điểm thi đua năm 2024 - Khối thi đua các sở, ban, ngành tỉnh"
# The value buttons of each item, in hundredths: a criterion offers its maximum, half of it
# and 0; a bonus or penalty item 0 and its maximum.
CHOICES = [
    (1000, 500, 0),
    (2000, 1000, 0),
    (1000, 500, 0),
    (1000, 500, 0),
    (500, 250, 0),
    (1000, 500, 0),
    (1000, 500, 0),
    (1000, 500, 0),
    (1000, 500, 0),
    (500, 250, 0),
    (0, 300),
    (0, 250),
    (0, 600),
    (0, 500),
]


def pts(cp: int) -> str:
    whole, frac = divmod(cp, 100)
    return f"{whole}" if frac == 0 else f"{whole},{frac:02d}".rstrip("0")


def ask(index: int, *, problem: str | None = None, current: str | None = None) -> str:
    """The exact question for item `index` of the example table."""
    code, title, top, group = ITEMS[index]
    text = problem_line(problem, top)
    text += f"Mục {index + 1}/14" + (f" · {group}" if group else "")
    text += f"\n<b>{code}</b> {title}\n{limit_line(code, top)}\n"
    if current is not None:
        text += f"Đã nhập: {current}\n"
    return text + "Chọn hoặc gõ số điểm (ví dụ 9,5):"


def ask_buttons(draft: int, index: int) -> tuple[list[list[str]], list[list[str]]]:
    """(labels, callback data) of an item's keyboard: its values, then back (after the
    first item) and cancel."""
    values = CHOICES[index]
    labels = [[pts(v) for v in values], ["✖ Hủy"]]
    data = [[f"sc:{draft}:{index}:{v}" for v in values], [f"wk:{draft}:cancel:0"]]
    if index > 0:
        labels[1].insert(0, "◀ Quay lại")
        data[1].insert(0, f"wk:{draft}:back:{index}")
    return labels, data


def asked(replies: list[Reply], draft: int, index: int, **kwargs: str) -> None:
    """The replies are exactly item `index`'s question with its keyboard."""
    assert [r.text for r in replies] == [ask(index, **kwargs)]
    labels, data = ask_buttons(draft, index)
    assert replies[0].buttons == labels
    assert replies[0].callback_data == data


def ask_file(*, late: bool = False, before: str = "", on_behalf: bool = False) -> str:
    unit = "Sở Giáo dục và Đào tạo (thường trực nộp thay)" if on_behalf else "Sở Y tế"
    text = f"📋 <b>{PERIOD_TITLE}</b> — {unit}\nHạn chót: 17:00 15/12/2024\n"
    text += before or "Đơn vị chưa nộp báo cáo kỳ này.\n"
    if late:
        text += "⏰ Đã quá hạn: báo cáo vẫn được nhận nhưng sẽ được ghi là nộp muộn.\n"
    return text + (
        "Bước 1: gửi tệp báo cáo (PDF, DOC, DOCX, XLS, XLSX, ODT, tối đa 20 MB) dưới dạng tệp "
        "đính kèm.\nBước 2: tự chấm điểm theo 14 mục của bảng chấm điểm."
    )


SYT_SUMMARY_LINES = (
    "1.1. Ban hành kịp thời chương trình, kế hoạch công...: 10\n"
    "1.2. Thực hiện nhiệm vụ chuyên môn: hoàn thành và...: 20\n"
    "2.1. Công tác cải cách hành chính; kết quả Chỉ số...: 10\n"
    "2.2. Giải quyết thủ tục hành chính đúng hạn; tiếp...: 8\n"
    "2.3. Ứng dụng công nghệ thông tin, chuyển đổi số và...: 5\n"
    "3.1. Tổ chức phát động, triển khai các phong trào...: 10\n"
    "3.2. Tham gia đầy đủ các hoạt động của Khối; thực...: 10\n"
    "4.1. Xây dựng tổ chức Đảng trong sạch, vững mạnh;...: 10\n"
    "4.2. Thực hành tiết kiệm, chống lãng phí; phòng,...: 10\n"
    "4.3. Thực hiện quy chế dân chủ ở cơ sở; chăm lo đời...: 5\n"
    "T1. Có sáng kiến, mô hình mới, cách làm hay được...: 3 (thưởng)\n"
    "T2. Được Thủ tướng Chính phủ, bộ, ngành Trung ương...: 2,5 (thưởng)\n"
    "P1. Có cán bộ, công chức, viên chức bị xử lý kỷ...: 0 (trừ)\n"
    "P2. Chậm gửi hoặc không gửi báo cáo, hồ sơ theo...: 1 (trừ)\n"
)
SYT_SUMMARY = (
    f"Kiểm tra lại trước khi nộp — <b>Sở Y tế</b>, {PERIOD_TITLE}\n"
    "Tệp: Báo cáo SYT.pdf\n" + SYT_SUMMARY_LINES + "Tiêu chí: 98; thưởng: 5; trừ: 1\n"
    "<b>Tổng: 102/105 điểm</b>\n"
    "Bấm «Xác nhận nộp» để gửi; sau khi nộp vẫn có thể nộp lại trước hạn (phiên bản mới)."
)


def summary_buttons(draft: int) -> tuple[list[list[str]], list[list[str]]]:
    return (
        [["✅ Xác nhận nộp"], ["◀ Quay lại", "✖ Hủy"]],
        [[f"wk:{draft}:confirm:0"], [f"wk:{draft}:back:14", f"wk:{draft}:cancel:0"]],
    )


def receipt(
    version: int,
    name: str,
    data: bytes,
    total: str,
    *,
    at: str = "08:00 25/11/2024",
    late: bool = False,
    unit: str = "Sở Y tế",
) -> str:
    return (
        "✅ <b>Biên nhận báo cáo</b>\n"
        f"Kỳ: {PERIOD_TITLE}\n"
        f"Đơn vị: {unit}\n"
        f"Phiên bản: {version}\n"
        f"Tệp: {name} ({f'{len(data):,}'.replace(',', '.')} byte)\n"
        f"SHA-256: <code>{hashlib.sha256(data).hexdigest()}</code>\n"
        f"Tổng điểm tự chấm: {total}/105\n"
        f"Thời gian: {at}" + (" — <b>nộp muộn</b>" if late else "")
    )


def told(person: str, version: int, total: str, *, late: bool = False) -> str:
    """What the unit's (other) representatives are told about a submission."""
    unit, verb = "Sở Y tế", "nộp"
    if person == "Nguyễn Thị Lan":  # the secretariat, on Sở GD&ĐT's behalf
        unit, verb = "Sở Giáo dục và Đào tạo", "nộp thay"
    return (
        f"📋 {person} đã {verb} «{PERIOD_TITLE}» của <b>{unit}</b>: phiên bản {version}, "
        f"tự chấm {total} điểm" + (" (nộp muộn)" if late else "") + "."
    )


LATE_REFUSED = (
    f"Kỳ <b>{PERIOD_TITLE}</b> đã hết hạn lúc 17:00 15/12/2024 và không nhận báo cáo muộn. "
    "Hãy liên hệ thường trực khối."
)
NOT_YOUR_DRAFT = "Bản nháp này không còn hoặc không phải của bạn. Gõ /report để bắt đầu lại."
NOT_MEMBER = "Bạn chưa tham gia khối thi đua nào. Hãy gửi mã mời của đơn vị bạn."
OBSERVER = "Thành viên theo dõi được xem tình hình của khối, không nộp báo cáo."
WRONG_TYPE = "Loại tệp này không được nhận. Hãy gửi tệp PDF, DOC, DOCX, XLS, XLSX, ODT."
TOO_LARGE = "Tệp quá lớn: tối đa 20 MB. Hãy nén hoặc giảm dung lượng rồi gửi lại."
PHOTO = (
    "Ảnh chụp không được nhận làm báo cáo. Hãy gửi báo cáo dưới dạng <b>tệp</b> "
    "(PDF, DOC, DOCX, XLS, XLSX, ODT): bấm 📎 → Tệp."
)
NEED_FILE = "Bot đang chờ tệp báo cáo. Gửi tệp đính kèm, hoặc gõ một lệnh để tạm dừng."
UNKNOWN_MESSAGE = (
    "Bot chưa hiểu tin nhắn này. Gõ /help để xem các lệnh, hoặc gửi mã mời để tham gia."
)
PAUSED = "Đã tạm dừng. Các mục đã nhập được lưu; gõ /report để tiếp tục từ mục còn thiếu."

# --- the scoring table -----------------------------------------------------------------------

TABLE_BODY = (
    f"<b>{TABLE_TITLE}</b> — năm 2024, phiên bản 1\n"
    "Thang điểm: 100 điểm (10 tiêu chí); điểm thưởng tối đa 5\n"
    f"\n<b>{G1}</b>\n"
    f"1.1. {ITEMS[0][1]} — 10 điểm\n"
    f"1.2. {ITEMS[1][1]} — 20 điểm\n"
    f"\n<b>{G2}</b>\n"
    f"2.1. {ITEMS[2][1]} — 10 điểm\n"
    f"2.2. {ITEMS[3][1]} — 10 điểm\n"
    f"2.3. {ITEMS[4][1]} — 5 điểm\n"
    f"\n<b>{G3}</b>\n"
    f"3.1. {ITEMS[5][1]} — 10 điểm\n"
    f"3.2. {ITEMS[6][1]} — 10 điểm\n"
    f"\n<b>{G4}</b>\n"
    f"4.1. {ITEMS[7][1]} — 10 điểm\n"
    f"4.2. {ITEMS[8][1]} — 10 điểm\n"
    f"4.3. {ITEMS[9][1]} — 5 điểm\n"
    "\n<b>Điểm thưởng</b> (tối đa 5)\n"
    f"T1. {ITEMS[10][1]} — đến 3 điểm\n"
    f"T2. {ITEMS[11][1]} — đến 2,5 điểm\n"
    "\n<b>Điểm trừ</b> (tối đa 10)\n"
    f"P1. {ITEMS[12][1]} — đến 6 điểm\n"
    f"P2. {ITEMS[13][1]} — đến 5 điểm"
)
HEADER = ["Loại", "Nhóm", "Mã", "Nội dung", "Điểm tối đa"]
SMALL_TABLE = [
    ["Tiêu đề", "Bảng chấm điểm rút gọn"],
    HEADER,
    ["tiêu chí", "I. Nhiệm vụ chính trị", "1.1", "Công tác chỉ đạo, điều hành", "40"],
    ["tiêu chí", "I. Nhiệm vụ chính trị", "1.2", "Nhiệm vụ chuyên môn", "50"],
    ["tiêu chí", "II. Cải cách hành chính", "2.1", "Thủ tục hành chính", "10"],
    ["điểm thưởng", "", "T1", "Sáng kiến", "3"],
    ["điểm trừ", "", "P1", "Kỷ luật", "5"],
    ["trần điểm thưởng", "", "", "", "2,5"],
]


def small_imported(version: int) -> str:
    return (
        "✅ Đã nhập bảng chấm điểm.\n\n"
        f"<b>Bảng chấm điểm rút gọn</b> — năm 2024, phiên bản {version}\n"
        "Thang điểm: 100 điểm (3 tiêu chí); điểm thưởng tối đa 2,5\n"
        "\n<b>I. Nhiệm vụ chính trị</b>\n"
        "1.1. Công tác chỉ đạo, điều hành — 40 điểm\n"
        "1.2. Nhiệm vụ chuyên môn — 50 điểm\n"
        "\n<b>II. Cải cách hành chính</b>\n"
        "2.1. Thủ tục hành chính — 10 điểm\n"
        "\n<b>Điểm thưởng</b> (tối đa 2,5)\n"
        "T1. Sáng kiến — đến 3 điểm\n"
        "\n<b>Điểm trừ</b> (tối đa 5)\n"
        "P1. Kỷ luật — đến 5 điểm\n"
        "\nKỳ báo cáo mở sau đây sẽ dùng phiên bản này: /period new"
    )


async def latest_table(services: Services) -> tuple[int, int] | None:
    """(version, number of items) of the bloc's newest scoring table."""
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        latest = await uow.tables.latest(bloc.id, 2024)
    return None if latest is None else (latest[1], len(latest[2].items))


async def test_the_example_yaml_table_is_imported_and_shown(
    tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    assert plain(await tg.say(AN, "/criteria")) == [
        (
            AN.id,
            "Khối chưa có bảng chấm điểm cho năm nay. Thường trực gửi tệp bảng với chú thích "
            "/criteria (xem /criteria import).",
        )
    ]

    replies = await tg.send_file(
        SECRETARY, "bang-cham-diem.yaml", TABLE_EXAMPLE.read_bytes(), "/criteria"
    )

    assert plain(replies) == [
        (
            S,
            f"✅ Đã nhập bảng chấm điểm.\n\n{TABLE_BODY}\n\n"
            "Kỳ báo cáo mở sau đây sẽ dùng phiên bản này: /period new",
        )
    ]
    assert await latest_table(services) == (1, 14)
    # Every member sees the table the units score themselves against.
    assert plain(await tg.say(AN, "/criteria")) == [(AN.id, TABLE_BODY)]


async def test_csv_and_xlsx_tables_make_new_versions(tg: Harness, services: Services) -> None:
    await tg.admin_setup(units=UNITS)

    replies = await tg.send_file(SECRETARY, "bang.csv", csv_bytes(SMALL_TABLE), "/criteria")
    assert plain(replies) == [(S, small_imported(1))]

    assert plain(await tg.say(SECRETARY, "/criteria import")) == [
        (
            S,
            "Gửi tệp bảng chấm điểm (YAML, CSV hoặc XLSX).\n"
            "CSV/XLSX: các cột <b>Loại</b> (tiêu chí / điểm thưởng / điểm trừ / trần điểm "
            "thưởng / trần điểm trừ), <b>Nhóm</b>, <b>Mã</b>, <b>Nội dung</b>, "
            "<b>Điểm tối đa</b>.\n"
            "Nếu có dòng sai, cả bảng sẽ không được nhập và bot sẽ chỉ ra từng dòng.",
        )
    ]
    replies = await tg.send_file(SECRETARY, "Bảng điểm.xlsx", xlsx_bytes(SMALL_TABLE))
    assert plain(replies) == [(S, small_imported(2))]
    assert await latest_table(services) == (2, 5)


async def test_a_bad_table_is_refused_whole_naming_each_row(
    tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    bad = [
        HEADER,
        ["tiêu chí", "I", "1.1", "Công tác chỉ đạo", "20"],
        ["tiêu chí", "I", "", "Thiếu mã", "10"],
        ["tiêu chí", "I", "1.1", "Trùng mã", "10"],
        ["tiêu chí", "I", "1.3", "Điểm sai", "mười"],
        ["điểm cộng", "", "T1", "Sáng kiến", "3"],
        ["điểm thưởng", "", "T2", "", "2"],
        ["tiêu chí", "I", "1.4", "Quá nhiều số lẻ", "9,555"],
        ["trần điểm trừ", "", "", "", "abc"],
    ]

    replies = await tg.send_file(SECRETARY, "bang.csv", csv_bytes(bad), "/criteria")

    assert plain(replies) == [
        (
            S,
            "❌ Bảng chấm điểm không được nhập vì 7 lỗi:\n"
            "• Dòng 3: thiếu mã mục — «tiêu chí | I | Thiếu mã | 10»\n"
            "• Dòng 4: mã mục trùng với một dòng trước — «tiêu chí | I | 1.1 | Trùng mã | 10»\n"
            "• Dòng 5: điểm tối đa không hợp lệ (số dương, tối đa 2 chữ số thập phân) — "
            "«tiêu chí | I | 1.3 | Điểm sai | mười»\n"
            "• Dòng 6: loại mục không rõ (tiêu chí / điểm thưởng / điểm trừ / trần điểm thưởng "
            "/ trần điểm trừ) — «điểm cộng | T1 | Sáng kiến | 3»\n"
            "• Dòng 7: thiếu nội dung — «điểm thưởng | T2 | 2»\n"
            "• Dòng 8: điểm tối đa không hợp lệ (số dương, tối đa 2 chữ số thập phân) — "
            "«tiêu chí | I | 1.4 | Quá nhiều số lẻ | 9,555»\n"
            "• Dòng 9: mức trần không hợp lệ — «trần điểm trừ | abc»\n"
            "Sửa tệp rồi gửi lại.",
        )
    ]
    assert await latest_table(services) is None

    broken_yaml = b"title: [unclosed\ngroups: -"
    replies = await tg.send_file(SECRETARY, "bang.yaml", broken_yaml, "/criteria")
    assert plain(replies) == [(S, "Tệp YAML sai cú pháp. Bảng chấm điểm chưa được nhập.")]
    replies = await tg.send_file(SECRETARY, "bang.pdf", b"%PDF", "/criteria")
    assert plain(replies) == [
        (S, "Chỉ nhận tệp .yaml, .csv hoặc .xlsx. Bảng chấm điểm chưa được nhập.")
    ]
    assert await latest_table(services) is None

    # Only the secretariat imports a table.
    not_secretariat = "Chỉ thường trực khối mới dùng được lệnh này."
    assert plain(await tg.say(AN, "/criteria import")) == [(AN.id, not_secretariat)]
    replies = await tg.send_file(AN, "bang.yaml", TABLE_EXAMPLE.read_bytes(), "/criteria")
    assert plain(replies) == [(AN.id, not_secretariat)]
    assert await latest_table(services) is None


# --- periods ---------------------------------------------------------------------------------

OPENED_NOTICE = (
    f"📋 {BLOC} đã mở kỳ «{PERIOD_TITLE}». Hạn chót: 17:00 15/12/2024.\n"
    "Gõ /report để gửi báo cáo và tự chấm điểm cho đơn vị."
)


async def periods(services: Services) -> list[tuple[str, str, str, str, int]]:
    """(kind, title, deadline in UTC, late policy, table version) of each period."""
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        found = await uow.reports.periods(bloc.id)
        return [
            (
                p.kind.value,
                p.title,
                p.deadline.isoformat(),
                p.late_policy.value,
                (await uow.tables.get(p.table_id))[0],
            )
            for p in found
        ]


async def test_opening_a_period_tells_every_representative(
    tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    await join(tg, BINH, "1")
    await join(tg, CUONG, "2")
    await tg.send_file(SECRETARY, "bang.yaml", TABLE_EXAMPLE.read_bytes(), "/criteria")

    replies = await tg.say(SECRETARY, OPEN_PERIOD)

    assert plain(replies) == [
        (
            S,
            f"✅ Đã mở kỳ báo cáo số 1: <b>{PERIOD_TITLE}</b> (tổng kết năm)\n"
            "Hạn chót: 17:00 15/12/2024; nộp muộn: vẫn nhận, ghi là nộp muộn\n"
            "Bảng chấm điểm: phiên bản 1. Tệp nhận: PDF, DOC, DOCX, XLS, XLSX, ODT, "
            "tối đa 20 MB.\nCác đại diện đơn vị đã được thông báo.",
        ),
        (AN.id, OPENED_NOTICE),
        (BINH.id, OPENED_NOTICE),
        (CUONG.id, OPENED_NOTICE),
    ]
    # 17:00 in Hà Nội is 10:00 UTC.
    assert await periods(services) == [
        ("year_end", PERIOD_TITLE, "2024-12-15T10:00:00+00:00", "accept", 1)
    ]

    replies = await tg.say(
        SECRETARY, "/period new sơ kết; Sơ kết 6 tháng đầu năm 2025; 17h 10/06/2025; từ chối"
    )
    assert replies[0].text == (
        "✅ Đã mở kỳ báo cáo số 2: <b>Sơ kết 6 tháng đầu năm 2025</b> (sơ kết 6 tháng)\n"
        "Hạn chót: 17:00 10/06/2025; nộp muộn: không nhận\n"
        "Bảng chấm điểm: phiên bản 1. Tệp nhận: PDF, DOC, DOCX, XLS, XLSX, ODT, tối đa 20 MB.\n"
        "Các đại diện đơn vị đã được thông báo."
    )
    assert [r.chat_id for r in replies] == [S, AN.id, BINH.id, CUONG.id]
    assert plain(await tg.say(SECRETARY, "/period")) == [
        (
            S,
            f"1. <b>{PERIOD_TITLE}</b> — hạn 17:00 15/12/2024; đã nộp 0/3 đơn vị\n"
            "2. <b>Sơ kết 6 tháng đầu năm 2025</b> — hạn 17:00 10/06/2025; đã nộp 0/3 đơn vị",
        )
    ]


async def test_period_refusals(tg: Harness, services: Services) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    assert plain(await tg.say(SECRETARY, OPEN_PERIOD)) == [
        (
            S,
            "Khối chưa có bảng chấm điểm cho năm nay. Thường trực gửi tệp bảng với chú thích "
            "/criteria (xem /criteria import).",
        )
    ]
    assert plain(await tg.say(SECRETARY, "/period")) == [
        (S, "Chưa có kỳ báo cáo nào. Mở kỳ mới: /period new")
    ]
    await tg.send_file(SECRETARY, "bang.yaml", TABLE_EXAMPLE.read_bytes(), "/criteria")
    usage = (
        "Cách dùng:\n"
        "<code>/period new Loại; Tiêu đề; Hạn chót[; nhận muộn|từ chối[; Dung lượng tối đa"
        "[; Loại tệp]]]</code>\n"
        "Loại: «tổng kết» (cuối năm) hoặc «sơ kết» (6 tháng). Hạn chót theo giờ của khối, "
        "ví dụ 15/12/2022 17:00. Mặc định: nhận muộn, tối đa 20 MB, tệp PDF, DOC, DOCX, XLS, "
        "XLSX, ODT.\n"
        "Ví dụ: <code>/period new tổng kết; Báo cáo tổng kết năm 2022; 15/12/2022 17:00</code>\n"
        "<code>/period extend SỐ; Hạn mới</code> — gia hạn, ví dụ "
        "<code>/period extend 1; 20/12/2022 17:00</code>\n"
        "/period — danh sách kỳ báo cáo"
    )
    cases = {
        f"/period new tổng kết; {PERIOD_TITLE}; 31/11/2024 17:00": (
            "Không hiểu thời hạn «31/11/2024 17:00». Nhập theo dạng 15/12/2022 17:00."
        ),
        f"/period new tổng kết; {PERIOD_TITLE}; ngày mai": (
            "Không hiểu thời hạn «ngày mai». Nhập theo dạng 15/12/2022 17:00."
        ),
        # Year 1 would overflow when moved to UTC; years run from 2000 to 2100.
        f"/period new tổng kết; {PERIOD_TITLE}; 01/01/0001 00:00": (
            "Không hiểu thời hạn «01/01/0001 00:00». Nhập theo dạng 15/12/2022 17:00."
        ),
        f"/period new tổng kết; {PERIOD_TITLE}; 31/12/9999 23:59": (
            "Không hiểu thời hạn «31/12/9999 23:59». Nhập theo dạng 15/12/2022 17:00."
        ),
        # Now is 08:00 on 25/11/2024 in Hà Nội: earlier that morning is already past.
        f"/period new tổng kết; {PERIOD_TITLE}; 25/11/2024 07:59": (
            "Thời hạn «25/11/2024 07:59» đã qua hoặc không muộn hơn hạn hiện tại."
        ),
        f"/period new cả năm; {PERIOD_TITLE}; 15/12/2024": (
            "«cả năm» không phải loại kỳ báo cáo. Gõ «tổng kết» hoặc «sơ kết»."
        ),
        f"/period new tổng kết; {PERIOD_TITLE}; 15/12/2024; có lẽ": (
            "«có lẽ» không hợp lệ: gõ «nhận muộn» hoặc «từ chối»."
        ),
        f"/period new tổng kết; {PERIOD_TITLE}; 15/12/2024; nhận muộn; 25 MB": (
            "Dung lượng tối đa «25 MB» không hợp lệ: nhập số MB từ 1 đến 20, ví dụ 10 MB."
        ),
        f"/period new tổng kết; {PERIOD_TITLE}; 15/12/2024; nhận muộn; 10; pdf, exe": (
            "Loại tệp «pdf, exe» không hợp lệ. Chọn trong: pdf, doc, docx, xls, xlsx, odt, ods, "
            "zip, rar, jpg, png."
        ),
        f"/period new tổng kết; {PERIOD_TITLE}": usage,
        "/period close 1": usage,
        "/period extend 1; 10/12/2024 17:00": ("Không có kỳ báo cáo «1». Xem danh sách: /period"),
    }
    for command, refusal in cases.items():
        assert plain(await tg.say(SECRETARY, command)) == [(S, refusal)], command
    assert plain(await tg.say(AN, OPEN_PERIOD)) == [
        (AN.id, "Chỉ thường trực khối mới dùng được lệnh này.")
    ]
    assert await periods(services) == []


async def test_extending_a_period_tells_the_representatives(
    tg: Harness, services: Services
) -> None:
    await report_setup(tg)

    replies = await tg.say(SECRETARY, "/period extend 1; 22/12/2024 17:00")

    notice = f"📋 Kỳ «{PERIOD_TITLE}» ({BLOC}) được gia hạn đến 17:00 22/12/2024."
    assert plain(replies) == [
        (
            S,
            f"✅ Đã gia hạn kỳ <b>{PERIOD_TITLE}</b>: từ 17:00 15/12/2024 đến 17:00 22/12/2024. "
            "Các đại diện đơn vị đã được thông báo.",
        ),
        (AN.id, notice),
        (BINH.id, notice),
        (CUONG.id, notice),
    ]
    assert (await periods(services))[0][2] == "2024-12-22T10:00:00+00:00"
    # A deadline no later than the current one, or an unknown period, is refused.
    assert plain(await tg.say(SECRETARY, "/period extend 1; 20/12/2024 17:00")) == [
        (S, "Thời hạn «20/12/2024 17:00» đã qua hoặc không muộn hơn hạn hiện tại.")
    ]
    assert plain(await tg.say(SECRETARY, "/period extend 2; 30/12/2024 17:00")) == [
        (S, "Không có kỳ báo cáo «2». Xem danh sách: /period")
    ]
    assert plain(await tg.say(AN, "/period extend 1; 30/12/2024 17:00")) == [
        (AN.id, "Chỉ thường trực khối mới dùng được lệnh này.")
    ]
    assert (await periods(services))[0][2] == "2024-12-22T10:00:00+00:00"


# --- the submission walk -------------------------------------------------------------------


async def test_the_whole_submission_walk(tg: Harness, services: Services) -> None:
    await report_setup(tg)

    replies = await tg.say(AN, "/report")
    draft = draft_id(replies)
    assert [r.text for r in replies] == [ask_file()]
    assert replies[0].buttons == [["✖ Hủy"]]
    assert replies[0].callback_data == [[f"wk:{draft}:cancel:0"]]

    data = b"%PDF-1.7 bao cao tong ket nam 2024 cua So Y te"
    asked(await tg.send_file(AN, "Báo cáo SYT.pdf", data), draft, 0)

    # A bad value gets a clear message and the same question again.
    bad = {
        "mười": "Hãy nhập một số, ví dụ 18 hoặc 9,5",
        "9,555": "Chỉ nhập tối đa 2 chữ số thập phân",
        "-1": "Điểm không được âm",
        "10,5": ABOVE_MAX,
    }
    for text, problem in bad.items():
        asked(await tg.say(AN, text), draft, 0, problem=problem)
    # Typed with a decimal comma; the walk moves on.
    asked(await tg.say(AN, "9,5"), draft, 1)
    # Back shows the first item with its answer; a button then changes it.
    asked(await tg.tap(AN, f"wk:{draft}:back:1"), draft, 0, current="9,5")
    asked(await tg.tap(AN, f"sc:{draft}:0:1000"), draft, 1)
    # An older message's button for a later item is taken; the walk goes on from there and
    # later comes back to the skipped items.
    asked(await tg.tap(AN, f"sc:{draft}:3:800"), draft, 4)
    asked(await tg.tap(AN, f"sc:{draft}:1:2000"), draft, 2)
    asked(await tg.tap(AN, f"sc:{draft}:2:1000"), draft, 4)
    for index in range(4, 13):
        await tg.tap(AN, f"sc:{draft}:{index}:{SYT_VALUES[index]}")
    replies = await tg.say(AN, "1")  # P2, typed

    assert [r.text for r in replies] == [SYT_SUMMARY]
    assert (replies[0].buttons, replies[0].callback_data) == summary_buttons(draft)
    # Back from the summary: the last item, with its answer.
    asked(await tg.tap(AN, f"wk:{draft}:back:14"), draft, 13, current="1")
    replies = await tg.tap(AN, f"sc:{draft}:13:100")
    assert [r.text for r in replies] == [SYT_SUMMARY]
    assert not await versions(services, "SYT")

    replies = await tg.tap(AN, f"wk:{draft}:confirm:0")

    assert plain(replies) == [
        (AN.id, receipt(1, "Báo cáo SYT.pdf", data, SYT_TOTAL)),
        (BINH.id, told("Trần Văn An", 1, SYT_TOTAL)),
    ]
    (v1,) = await versions(services, "SYT")
    an = await identity(services, AN)
    assert (v1.version, v1.file_name, v1.file_size, v1.late, v1.on_behalf) == (
        1,
        "Báo cáo SYT.pdf",
        len(data),
        False,
        False,
    )
    assert (v1.submitted_by, v1.uploaded_by, v1.self_total_cp) == (an.id, an.id, 10200)
    assert v1.file_sha256 == hashlib.sha256(data).hexdigest()
    assert services.files.read(v1.file_sha256) == data
    assert await entries(services, v1, "self") == {
        code: value for (code, *_), value in zip(ITEMS, SYT_VALUES, strict=True)
    }
    assert await draft_count(services) == 0
    # The receipt's buttons are gone: a second confirm finds no draft.
    assert plain(await tg.tap(AN, f"wk:{draft}:confirm:0")) == [(AN.id, NOT_YOUR_DRAFT)]
    assert len(await versions(services, "SYT")) == 1
    # A new walk gets a new draft: the first walk's messages (the file question still shows
    # its cancel button) cannot act on it, on SQLite too, where ids of deleted rows came back.
    second = draft_id(await tg.say(AN, "/report"))
    assert second != draft
    assert plain(await tg.tap(AN, f"wk:{draft}:cancel:0")) == [
        (AN.id, "Nút này không còn dùng được. Hãy gửi lại lệnh.")
    ]
    assert plain(await tg.tap(AN, f"sc:{draft}:0:0")) == [(AN.id, NOT_YOUR_DRAFT)]
    assert await draft_count(services) == 1


async def test_a_paused_walk_resumes_after_a_restart(tg: Harness) -> None:
    await report_setup(tg)
    draft = draft_id(await tg.say(AN, "/report"))
    data = b"%PDF-1.7 tam dung"
    await tg.send_file(AN, "Báo cáo SYT.pdf", data)
    await tg.say(AN, "10")
    await tg.tap(AN, f"sc:{draft}:1:2000")
    await tg.say(AN, "9,75")

    after = restarted(tg)  # the conversation state is gone; the draft is in the database
    assert plain(await after.say(AN, "8")) == [
        (
            AN.id,
            "Bot chưa hiểu tin nhắn này. Gõ /help để xem các lệnh, hoặc gửi mã mời để tham gia.",
        )
    ]
    asked(await after.say(AN, "/report"), draft, 3)
    # Earlier answers are kept: going back shows them.
    asked(await after.tap(AN, f"wk:{draft}:back:3"), draft, 2, current="9,75")
    asked(await after.say(AN, "10"), draft, 3)
    await score_all(after, AN, draft, SYT_VALUES)

    replies = await after.tap(AN, f"wk:{draft}:confirm:0")

    assert plain(replies) == [
        (AN.id, receipt(1, "Báo cáo SYT.pdf", data, SYT_TOTAL)),
        (BINH.id, told("Trần Văn An", 1, SYT_TOTAL)),
    ]

    # A command typed mid-walk pauses it; /report picks it up again.
    second = restarted(after)
    draft = draft_id(await second.say(AN, "/report"))
    await second.send_file(AN, "Báo cáo SYT v2.pdf", b"%PDF v2")
    await second.say(AN, "5")
    assert plain(await second.say(AN, "/tamdung")) == [(AN.id, PAUSED)]
    assert plain(await second.say(AN, "5")) == [
        (
            AN.id,
            "Bot chưa hiểu tin nhắn này. Gõ /help để xem các lệnh, hoặc gửi mã mời để tham gia.",
        )
    ]
    asked(await second.say(AN, "/report"), draft, 1)


async def test_a_resubmission_is_version_2_and_the_latest_counts(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg)
    first = b"%PDF-1.7 phien ban 1"
    await submitted(services, AN, data=first)
    clock.advance(timedelta(days=2, hours=3))

    replies = await tg.say(BINH, "/report")  # the unit's other representative
    draft = draft_id(replies)
    assert [r.text for r in replies] == [
        ask_file(
            before="Đã nộp: phiên bản 1 lúc 08:00 25/11/2024, 102 điểm. "
            "Bản nộp mới sẽ là phiên bản 2.\n"
        )
    ]
    second = b"%PDF-1.7 phien ban 2, bo sung so lieu"
    await tg.send_file(BINH, "Báo cáo SYT (bổ sung).pdf", second)
    values = (1000, 2000, 1000, 1000, 500, 1000, 1000, 1000, 1000, 500, 0, 0, 0, 0)
    await score_all(tg, BINH, draft, values)

    replies = await tg.tap(BINH, f"wk:{draft}:confirm:0")

    assert plain(replies) == [
        (
            BINH.id,
            receipt(2, "Báo cáo SYT (bổ sung).pdf", second, "100", at="11:00 27/11/2024"),
        ),
        (AN.id, told("Lê Thị Bình", 2, "100")),
    ]
    v1, v2 = await versions(services, "SYT")
    assert (v1.version, v1.file_sha256, v1.self_total_cp) == (
        1,
        hashlib.sha256(first).hexdigest(),
        10200,
    )
    assert (v2.version, v2.file_sha256, v2.self_total_cp) == (
        2,
        hashlib.sha256(second).hexdigest(),
        10000,
    )
    assert v2.submitted_by == (await identity(services, BINH)).id
    assert services.files.read(v1.file_sha256) == first  # the old version is kept
    assert (await entries(services, v1, "self"))["2.2"] == 800
    assert (await entries(services, v2, "self"))["2.2"] == 1000
    status = (await tg.say(SECRETARY, "/status"))[0].text
    assert status.splitlines()[1:3] == [
        "Đã nộp 1/3: đúng hạn 1, muộn 0, trả lại 0, chưa nộp 2",
        "1. SYT — ✅ v2, 100 điểm",
    ]


async def test_late_under_accept_is_taken_and_marked(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg)
    clock.advance(timedelta(days=20, hours=9, minutes=1))  # 17:01 on 15/12/2024

    replies = await tg.say(AN, "/report")

    assert [r.text for r in replies] == [ask_file(late=True)]
    draft = draft_id(replies)
    data = b"%PDF-1.7 nop muon"
    await tg.send_file(AN, "Báo cáo SYT.pdf", data)
    await score_all(tg, AN, draft)
    replies = await tg.tap(AN, f"wk:{draft}:confirm:0")
    assert plain(replies) == [
        (AN.id, receipt(1, "Báo cáo SYT.pdf", data, SYT_TOTAL, at="17:01 15/12/2024", late=True)),
        (BINH.id, told("Trần Văn An", 1, SYT_TOTAL, late=True)),
    ]
    (v1,) = await versions(services, "SYT")
    assert v1.late
    assert (await tg.say(SECRETARY, "/status"))[0].text == (
        f"<b>{PERIOD_TITLE}</b> — hạn 17:00 15/12/2024\n"
        "Đã nộp 1/3: đúng hạn 0, muộn 1, trả lại 0, chưa nộp 2\n"
        "1. SYT — ⏰ muộn v1, 102 điểm\n"
        "2. SGDĐT — ❌ chưa nộp\n"
        "3. SVHTTDL — ❌ chưa nộp"
    )


async def test_late_under_refuse_is_refused_and_nothing_is_stored(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg, policy="từ chối")
    # Bình starts before the deadline and confirms after it.
    draft = draft_id(await tg.say(BINH, "/report"))
    await tg.send_file(BINH, "Báo cáo SYT.pdf", b"%PDF-1.7 Binh")
    await score_all(tg, BINH, draft)
    clock.advance(timedelta(days=20, hours=9))  # 17:00 on 15/12/2024: the deadline itself
    files_before = stored_files(services)

    assert plain(await tg.say(AN, "/report")) == [(AN.id, LATE_REFUSED)]
    assert plain(await tg.send_file(AN, "Báo cáo SYT.pdf", b"%PDF-1.7 An")) == [
        (AN.id, LATE_REFUSED)
    ]
    assert plain(await tg.tap(BINH, f"wk:{draft}:confirm:0")) == [(BINH.id, LATE_REFUSED)]

    assert await versions(services, "SYT") == []
    # Bình's draft is gone and his walk is over: a number typed now is no answer. (The file
    # may stay in the store, which is shared by content.)
    assert await draft_count(services) == 0
    assert stored_files(services) == files_before
    assert plain(await tg.say(BINH, "10")) == [(BINH.id, UNKNOWN_MESSAGE)]
    # Extended: the old button finds no draft; Bình starts again.
    await tg.say(SECRETARY, "/period extend 1; 20/12/2024 17:00")
    assert plain(await tg.tap(BINH, f"wk:{draft}:confirm:0")) == [(BINH.id, NOT_YOUR_DRAFT)]
    draft = draft_id(await tg.say(BINH, "/report"))
    await tg.send_file(BINH, "Báo cáo SYT.pdf", b"%PDF-1.7 Binh")
    await score_all(tg, BINH, draft)
    replies = await tg.tap(BINH, f"wk:{draft}:confirm:0")
    assert replies[0].text.startswith("✅ <b>Biên nhận báo cáo</b>")
    assert [v.late for v in await versions(services, "SYT")] == [False]


async def test_wrong_type_oversized_empty_and_photo_are_refused(
    tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    draft = draft_id(await tg.say(AN, "/report"))

    requests = await send_sized(tg, AN, "chuong-trinh.exe", 4096, b"MZ")
    assert plain(replies_of(requests)) == [(AN.id, WRONG_TYPE)]
    assert downloads(requests) == []
    requests = await send_sized(tg, AN, "Báo cáo SYT.pdf", 25 * 1024 * 1024, b"%PDF big")
    assert plain(replies_of(requests)) == [(AN.id, TOO_LARGE)]
    assert downloads(requests) == []  # refused before any download
    requests = await send_sized(tg, AN, "Báo cáo SYT.pdf", 20 * 1024 * 1024 + 1, b"%PDF")
    assert plain(replies_of(requests)) == [(AN.id, TOO_LARGE)]
    assert downloads(requests) == []
    assert plain(await tg.send_file(AN, "Báo cáo SYT.pdf", b"")) == [
        (AN.id, "Tệp rỗng. Hãy kiểm tra và gửi lại.")
    ]
    assert plain(replies_of(await dispatch(tg, MockMessagePhoto(user=AN)))) == [(AN.id, PHOTO)]
    assert plain(await tg.say(AN, "gửi rồi mà")) == [(AN.id, NEED_FILE)]
    assert stored_files(services) == []
    async with services.db.uow() as uow:
        stored = await uow.reports.draft_by_id(draft)
    assert stored is not None
    assert stored.file_sha256 is None

    # Still waiting: the right file goes through.
    asked(await tg.send_file(AN, "BÁO CÁO.DOCX", docx_bytes("Báo cáo")), draft, 0)
    # A photo without any walk gets the same advice.
    assert plain(replies_of(await dispatch(tg, MockMessagePhoto(user=CUONG)))) == [
        (CUONG.id, PHOTO)
    ]


async def test_a_file_sent_without_report_starts_the_walk(tg: Harness, services: Services) -> None:
    await report_setup(tg)

    replies = await tg.send_file(AN, "Báo cáo SYT.pdf", b"%PDF-1.7 thang")

    assert len(replies) == 1
    draft = draft_id(replies)
    asked(replies, draft, 0)
    async with services.db.uow() as uow:
        stored = await uow.reports.draft_by_id(draft)
    assert stored is not None
    assert (stored.file_name, stored.file_sha256) == (
        "Báo cáo SYT.pdf",
        hashlib.sha256(b"%PDF-1.7 thang").hexdigest(),
    )
    # A wrong file sent the same way is refused without starting anything stored.
    assert plain(await tg.send_file(CUONG, "anh.exe", b"MZ")) == [(CUONG.id, WRONG_TYPE)]
    assert stored_files(services) == [hashlib.sha256(b"%PDF-1.7 thang").hexdigest()]


async def test_another_units_member_cannot_touch_a_draft(tg: Harness, services: Services) -> None:
    await report_setup(tg)
    draft = draft_id(await tg.say(AN, "/report"))
    await tg.send_file(AN, "Báo cáo SYT.pdf", b"%PDF-1.7 An")
    await score_all(tg, AN, draft, SYT_VALUES[:13])

    # Cường (Sở GD&ĐT) and even Bình (the same unit, his own walk) forge An's draft id.
    for intruder in (CUONG, BINH):
        for data in (
            f"sc:{draft}:13:500",
            f"sc:{draft}:0:0",
            f"wk:{draft}:back:5",
            f"wk:{draft}:confirm:0",
        ):
            assert plain(await tg.tap(intruder, data)) == [(intruder.id, NOT_YOUR_DRAFT)], data
        assert plain(await tg.tap(intruder, f"wk:{draft}:cancel:0")) == [
            (intruder.id, "Nút này không còn dùng được. Hãy gửi lại lệnh.")
        ]
    assert await versions(services, "SYT") == []
    async with services.db.uow() as uow:
        stored = await uow.reports.draft_by_id(draft)
    assert stored is not None
    assert stored.values == {
        code: value for (code, *_), value in zip(ITEMS[:13], SYT_VALUES[:13], strict=True)
    }
    # An's own walk is intact.
    replies = await tg.tap(AN, f"sc:{draft}:13:100")
    assert replies[0].text == SYT_SUMMARY
    # Cancelling is An's to do.
    assert plain(await tg.tap(AN, f"wk:{draft}:cancel:0")) == [
        (AN.id, "Đã hủy bản nháp. Không có gì được nộp.")
    ]
    assert await draft_count(services) == 0
    assert await versions(services, "SYT") == []


async def test_observers_strangers_and_the_secretariat_without_a_unit(
    tg: Harness, services: Services
) -> None:
    await report_setup(tg, observer=CUONG)

    assert plain(await tg.say(CUONG, "/report")) == [(CUONG.id, OBSERVER)]
    assert plain(await tg.send_file(CUONG, "Báo cáo.pdf", b"%PDF")) == [(CUONG.id, OBSERVER)]
    assert plain(await tg.say(STRANGER, "/report")) == [(STRANGER.id, NOT_MEMBER)]
    assert plain(await tg.send_file(STRANGER, "Báo cáo.pdf", b"%PDF")) == [
        (STRANGER.id, NOT_MEMBER)
    ]
    assert plain(await tg.say(SECRETARY, "/report")) == [
        (
            S,
            "Chỉ đại diện của đơn vị mới nộp được báo cáo. Thường trực nộp thay một đơn vị "
            "bằng /report ĐƠN_VỊ.",
        )
    ]
    assert plain(await tg.say(AN, "/report SGDĐT")) == [
        (AN.id, "Chỉ thường trực khối mới dùng được lệnh này.")
    ]
    assert plain(await tg.say(SECRETARY, "/report Sở Nội vụ")) == [
        (S, "Không tìm thấy đơn vị «Sở Nội vụ» trong khối. Xem danh sách: /units")
    ]
    assert await draft_count(services) == 0
    assert stored_files(services) == []


async def test_before_any_period(tg: Harness) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    no_period = "Khối chưa mở kỳ báo cáo nào."
    assert plain(await tg.say(AN, "/report")) == [(AN.id, no_period)]
    for command in ("/status", "/export", "/review SYT", "/return SYT; 20/12/2024; Thiếu"):
        assert plain(await tg.say(SECRETARY, command)) == [(S, no_period)], command


async def test_with_two_periods_report_asks_which(tg: Harness) -> None:
    await report_setup(tg)
    await tg.say(SECRETARY, "/period new sơ kết; Sơ kết 6 tháng đầu năm 2025; 10/06/2025")
    async with tg.services.db.uow() as uow:
        bloc = await bloc_by_code(tg.services, BLOC_CODE)
        first, second = await uow.reports.periods(bloc.id)

    replies = await tg.say(AN, "/report")

    assert replies[0].text == "Chọn kỳ báo cáo cho <b>Sở Y tế</b>:"
    assert replies[0].buttons == [[PERIOD_TITLE], ["Sơ kết 6 tháng đầu năm 2025"]]
    assert replies[0].callback_data == [[f"rp:{first.id}:0"], [f"rp:{second.id}:0"]]
    replies = await tg.tap(AN, f"rp:{first.id}:0")
    assert [r.text for r in replies] == [ask_file()]


async def test_the_secretariat_submits_on_a_units_behalf(tg: Harness, services: Services) -> None:
    await report_setup(tg)

    replies = await tg.say(SECRETARY, "/report SGDĐT")

    assert [r.text for r in replies] == [ask_file(on_behalf=True)]
    draft = draft_id(replies)
    data = docx_bytes("Báo cáo giấy của Sở GD&ĐT, bản quét")
    asked(await tg.send_file(SECRETARY, "BC SGDĐT (bản giấy).docx", data), draft, 0)
    values = (800, 1500, 800, 800, 400, 800, 800, 800, 800, 400, 0, 0, 200, 0)
    replies = await score_all(tg, SECRETARY, draft, values)
    assert replies[0].text.startswith(
        f"Kiểm tra lại trước khi nộp — <b>Sở Giáo dục và Đào tạo</b>, {PERIOD_TITLE}\n"
        "Tệp: BC SGDĐT (bản giấy).docx\n"
    )
    assert replies[0].text.endswith(
        "Tiêu chí: 79; thưởng: 0; trừ: 2\n<b>Tổng: 77/105 điểm</b>\n"
        "Bấm «Xác nhận nộp» để gửi; sau khi nộp vẫn có thể nộp lại trước hạn (phiên bản mới)."
    )

    replies = await tg.tap(SECRETARY, f"wk:{draft}:confirm:0")

    unit = "Sở Giáo dục và Đào tạo"
    assert plain(replies) == [
        (
            S,
            receipt(
                1, "BC SGDĐT (bản giấy).docx", data, "77", unit=f"{unit} (thường trực nộp thay)"
            ),
        ),
        (CUONG.id, told("Nguyễn Thị Lan", 1, "77")),
    ]
    (v1,) = await versions(services, "SGDĐT")
    secretary = await identity(services, SECRETARY)
    assert (v1.on_behalf, v1.uploaded_by, v1.submitted_by, v1.late) == (
        True,
        secretary.id,
        secretary.id,
        False,
    )
    assert (await tg.say(SECRETARY, "/status"))[0].text.splitlines()[3] == (
        "2. SGDĐT — ✅ v1, 77 điểm (nộp thay)"
    )


async def test_on_behalf_continues_the_units_draft(tg: Harness, services: Services) -> None:
    """A secretary's submit-on-behalf started an empty draft: the scores the unit had typed
    had to be typed again. It now starts from a copy of the unit's draft (file and scores);
    the representative's draft stays theirs."""
    await report_setup(tg)
    theirs = draft_id(await tg.say(CUONG, "/report"))
    data = docx_bytes("Báo cáo của Sở GD&ĐT")
    asked(await tg.send_file(CUONG, "BC SGDĐT.docx", data), theirs, 0)
    typed = (800, 1500, 800, 800, 400)
    asked(await score_all(tg, CUONG, theirs, typed), theirs, 5)

    replies = await tg.say(SECRETARY, "/report SGDĐT")

    assert [r.text for r in replies] == [
        "📝 Tiếp tục bản nháp của đơn vị: đã giữ 5 điểm tự chấm và tệp «BC SGDĐT.docx» mà "
        "Phạm Văn Cường đã nhập, không cần nhập lại. Bản nháp của Phạm Văn Cường vẫn giữ "
        "nguyên; bản nào được nộp trước sẽ là phiên bản tiếp theo của đơn vị.",
        ask(5),
    ]
    ours = draft_id(replies)
    assert ours != theirs
    rest = (800, 800, 800, 800, 400, 0, 0, 200, 0)
    for index, value in enumerate(rest, start=5):
        replies = await tg.tap(SECRETARY, f"sc:{ours}:{index}:{value}")
    assert replies[0].text.startswith(
        f"Kiểm tra lại trước khi nộp — <b>Sở Giáo dục và Đào tạo</b>, {PERIOD_TITLE}\n"
        "Tệp: BC SGDĐT.docx\n"
    )
    replies = await tg.tap(SECRETARY, f"wk:{ours}:confirm:0")
    unit = "Sở Giáo dục và Đào tạo (thường trực nộp thay)"
    assert plain(replies)[0] == (S, receipt(1, "BC SGDĐT.docx", data, "77", unit=unit))
    (v1,) = await versions(services, "SGDĐT")
    assert v1.on_behalf
    stored = await entries(services, v1, "self")
    assert [stored[code] for code, *_ in ITEMS[:5]] == list(typed)
    # The representative's own draft is untouched: /report shows where they stopped.
    assert [r.text for r in await tg.say(CUONG, "/report")] == [ask(5)]


async def test_on_behalf_after_a_refuse_deadline_is_taken_and_marked_late(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg, policy="từ chối")
    clock.advance(timedelta(days=21))
    assert plain(await tg.say(CUONG, "/report")) == [(CUONG.id, LATE_REFUSED)]

    replies = await tg.say(SECRETARY, "/report SGDĐT")

    assert [r.text for r in replies] == [ask_file(on_behalf=True, late=True)]
    draft = draft_id(replies)
    data = b"%PDF-1.7 ban giay nop muon"
    await tg.send_file(SECRETARY, "sgddt.pdf", data)
    await score_all(tg, SECRETARY, draft)
    replies = await tg.tap(SECRETARY, f"wk:{draft}:confirm:0")
    unit = "Sở Giáo dục và Đào tạo"
    assert plain(replies) == [
        (
            S,
            receipt(
                1,
                "sgddt.pdf",
                data,
                SYT_TOTAL,
                at="08:00 16/12/2024",
                late=True,
                unit=f"{unit} (thường trực nộp thay)",
            ),
        ),
        (CUONG.id, told("Nguyễn Thị Lan", 1, SYT_TOTAL, late=True)),
    ]
    assert [(v.late, v.on_behalf) for v in await versions(services, "SGDĐT")] == [(True, True)]


async def test_in_english_points_are_written_with_a_decimal_point(tg: Harness) -> None:
    await report_setup(tg)
    assert plain(await tg.tap(AN, "lang:en")) == [(AN.id, "Language set to English.")]
    draft = draft_id(await tg.send_file(AN, "report.pdf", b"%PDF-1.7 in English"))
    for index in range(3):
        await tg.tap(AN, f"sc:{draft}:{index}:{SYT_VALUES[index]}")

    replies = await tg.say(AN, "7.25")  # 2.2, typed with a decimal point

    assert [r.text for r in replies] == [
        f"Item 5/14 · {G2}\n<b>2.3</b> {ITEMS[4][1]}\nMaximum: 5\n"
        "Choose or type the points (e.g. 9.5):"
    ]
    assert replies[0].buttons == [["5", "2.5", "0"], ["◀ Back", "✖ Cancel"]]
    assert replies[0].callback_data[0] == [
        f"sc:{draft}:4:500",
        f"sc:{draft}:4:250",
        f"sc:{draft}:4:0",
    ]
    async with tg.services.db.uow() as uow:
        stored = await uow.reports.draft_by_id(draft)
    assert stored is not None
    assert stored.values["2.2"] == 725


async def test_a_period_with_its_own_size_and_types(tg: Harness) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    await tg.send_file(SECRETARY, "bang.yaml", TABLE_EXAMPLE.read_bytes(), "/criteria")
    opened = await tg.say(
        SECRETARY, f"/period new tổng kết; {PERIOD_TITLE}; 15/12/2024 17:00; từ chối; 5 MB; pdf"
    )
    assert opened[0].text.split("\n")[1:3] == [
        "Hạn chót: 17:00 15/12/2024; nộp muộn: không nhận",
        "Bảng chấm điểm: phiên bản 1. Tệp nhận: PDF, tối đa 5 MB.",
    ]
    await tg.say(AN, "/report")
    assert plain(await tg.send_file(AN, "bao-cao.docx", b"PK docx")) == [
        (AN.id, "Loại tệp này không được nhận. Hãy gửi tệp PDF.")
    ]
    # A photo gets the period's own types, in the walk and outside it.
    photo = (
        "Ảnh chụp không được nhận làm báo cáo. Hãy gửi báo cáo dưới dạng <b>tệp</b> (PDF): "
        "bấm 📎 → Tệp."
    )
    assert plain(replies_of(await dispatch(tg, MockMessagePhoto(user=AN)))) == [(AN.id, photo)]
    await tg.say(AN, "/tamdung")
    assert plain(replies_of(await dispatch(tg, MockMessagePhoto(user=AN)))) == [(AN.id, photo)]


# --- review fixes ------------------------------------------------------------------------------


async def test_a_removed_representative_can_no_longer_finish_a_draft(
    tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    an_draft = draft_id(await tg.say(AN, "/report"))  # waiting for the file
    binh_draft = draft_id(await tg.say(BINH, "/report"))
    await tg.send_file(BINH, "Báo cáo SYT.pdf", b"%PDF-1.7 Binh")
    await score_all(tg, BINH, binh_draft)  # at the summary
    bloc = await bloc_by_code(services, BLOC_CODE)
    syt = (await unit_ids(services))["SYT"]
    for user in (AN, BINH):
        person = await identity(services, user)
        remove = MemberCb(action="rmok", identity_id=person.id, unit_id=syt, bloc_id=bloc.id)
        await tg.tap(SECRETARY, remove.pack())
    files_before = stored_files(services)

    # Their old messages' buttons and the file An was asked for are refused.
    assert plain(await tg.tap(BINH, f"wk:{binh_draft}:confirm:0")) == [(BINH.id, NOT_MEMBER)]
    assert plain(await tg.tap(BINH, f"sc:{binh_draft}:0:0")) == [(BINH.id, NOT_MEMBER)]
    assert plain(await tg.tap(BINH, f"wk:{binh_draft}:back:14")) == [(BINH.id, NOT_MEMBER)]
    assert plain(await tg.send_file(AN, "Báo cáo SYT.pdf", b"%PDF-1.7 An")) == [
        (AN.id, NOT_MEMBER)
    ]
    assert plain(await tg.tap(AN, f"sc:{an_draft}:0:0")) == [(AN.id, NOT_MEMBER)]
    # The walk is over: a number typed now is no answer.
    assert plain(await tg.say(BINH, "10")) == [(BINH.id, UNKNOWN_MESSAGE)]

    assert await versions(services, "SYT") == []
    assert stored_files(services) == files_before
    # Moved to another unit: the draft for the old unit is not theirs to submit either.
    await join(tg, STRANGER, "1")
    moved = draft_id(await tg.say(STRANGER, "/report"))
    await tg.send_file(STRANGER, "Báo cáo SYT.pdf", b"%PDF-1.7 Minh")
    await score_all(tg, STRANGER, moved)
    code = await tg.invite_code("2")
    await tg.say(STRANGER, f"/start {code}")
    await tg.tap(STRANGER, MoveCb(accept=True).pack())  # yes, move to Sở GD&ĐT
    assert plain(await tg.tap(STRANGER, f"wk:{moved}:confirm:0")) == [
        (STRANGER.id, "Chỉ đại diện của đơn vị mới nộp được báo cáo.")
    ]
    assert await versions(services, "SYT") == []


async def test_a_corrected_file_replaces_the_drafts_file(tg: Harness, services: Services) -> None:
    await report_setup(tg)
    draft = draft_id(await tg.say(AN, "/report"))
    await tg.send_file(AN, "Báo cáo SYT.pdf", b"%PDF-1.7 ban dau")
    for index in range(3):
        await tg.tap(AN, f"sc:{draft}:{index}:{SYT_VALUES[index]}")

    # Mid-walk, a corrected file: it replaces the first, the answers stay, the walk goes on.
    replies = await tg.send_file(AN, "Báo cáo SYT (sửa).pdf", b"%PDF-1.7 da sua")

    assert [r.text for r in replies] == [
        "📎 Đã thay tệp báo cáo: «Báo cáo SYT.pdf» → «Báo cáo SYT (sửa).pdf». "
        "Các điểm đã nhập được giữ nguyên.",
        ask(3),
    ]
    assert replies[1].callback_data == ask_buttons(draft, 3)[1]
    async with services.db.uow() as uow:
        stored = await uow.reports.draft_by_id(draft)
    assert stored is not None
    assert (stored.file_name, stored.file_sha256) == (
        "Báo cáo SYT (sửa).pdf",
        hashlib.sha256(b"%PDF-1.7 da sua").hexdigest(),
    )
    assert stored.values == {"1.1": 1000, "1.2": 2000, "2.1": 1000}

    # After a pause, a file sent without /report replaces it again.
    assert plain(await tg.say(AN, "/tamdung")) == [(AN.id, PAUSED)]
    data = b"%PDF-1.7 ban cuoi"
    replies = await tg.send_file(AN, "Báo cáo SYT (bản cuối).pdf", data)
    assert [r.text for r in replies] == [
        "📎 Đã thay tệp báo cáo: «Báo cáo SYT (sửa).pdf» → «Báo cáo SYT (bản cuối).pdf». "
        "Các điểm đã nhập được giữ nguyên.",
        ask(3),
    ]
    await score_all(tg, AN, draft)
    # At the summary, a file replaces it too and the summary shows again.
    replies = await tg.send_file(AN, "Báo cáo SYT.pdf", b"%PDF-1.7 ban dau")
    assert [r.text for r in replies][1] == SYT_SUMMARY
    replies = await tg.send_file(AN, "Báo cáo SYT (bản cuối).pdf", data)
    assert replies[1].callback_data == summary_buttons(draft)[1]
    replies = await tg.tap(AN, f"wk:{draft}:confirm:0")
    assert replies[0].text == receipt(1, "Báo cáo SYT (bản cuối).pdf", data, SYT_TOTAL)
    # The review walk takes no file.
    draft = draft_id(await tg.say(SECRETARY, "/review SYT"))
    assert plain(await tg.send_file(SECRETARY, "bc.pdf", b"%PDF")) == [
        (
            S,
            "Chỉ đại diện của đơn vị mới nộp được báo cáo. Thường trực nộp thay một đơn vị "
            "bằng /report ĐƠN_VỊ.",
        )
    ]
    assert [v.file_name for v in await versions(services, "SYT")] == ["Báo cáo SYT (bản cuối).pdf"]


async def test_text_typed_at_the_summary_shows_the_summary_again(tg: Harness) -> None:
    await report_setup(tg)
    draft = draft_id(await tg.say(AN, "/report"))
    await tg.send_file(AN, "Báo cáo SYT.pdf", b"%PDF-1.7 tom tat")
    await score_all(tg, AN, draft)

    replies = await tg.say(AN, "xong rồi")

    assert [r.text for r in replies] == [SYT_SUMMARY]
    assert (replies[0].buttons, replies[0].callback_data) == summary_buttons(draft)


async def test_help_me_and_lang_mid_walk_leave_it_resumable(tg: Harness) -> None:
    await report_setup(tg)
    draft = draft_id(await tg.say(AN, "/report"))
    await tg.send_file(AN, "Báo cáo SYT.pdf", b"%PDF-1.7 giua chung")
    await tg.tap(AN, f"sc:{draft}:0:1000")

    assert (await tg.say(AN, "/help"))[0].text.startswith("<b>Các lệnh của bạn</b>")
    assert (await tg.say(AN, "/me"))[0].text.startswith("<b>Trần Văn An</b>")
    assert [r.text for r in await tg.say(AN, "/lang")] == ["Chọn ngôn ngữ:"]

    # The walk goes on where it was: the next value answers item 2.
    asked(await tg.say(AN, "20"), draft, 2)


LONG_TITLE = "Nội dung tiêu chí thi đua được mô tả khá dài để kiểm tra độ dài tin nhắn tổng hợp"


def long_table(items: int, *, groups: int = 4, code: str = "{n}") -> bytes:
    rows = [["Tiêu đề", "Bảng dài"], ["Loại", "Nhóm", "Mã", "Nội dung", "Điểm tối đa"]]
    rows += [
        ["tiêu chí", f"Nhóm {n % groups + 1}", code.format(n=n), f"{LONG_TITLE} {n}", "1"]
        for n in range(1, items + 1)
    ]
    return csv_bytes(rows)


async def test_a_long_table_is_summed_up_in_one_message(tg: Harness) -> None:
    """80 items: the summary item by item would pass Telegram's 4096 characters; it is given
    as codes and values, with its buttons, and the unit can confirm."""
    await report_setup(tg)
    await tg.send_file(SECRETARY, "bang-dai.csv", long_table(80), "/criteria")
    await tg.say(SECRETARY, "/period new sơ kết; Sơ kết 6 tháng; 10/06/2025")
    periods_ = await tg.say(AN, "/report")
    second = periods_[0].callback_data[1][0]
    draft = draft_id(await tg.tap(AN, second))
    await tg.send_file(AN, "Báo cáo.pdf", b"%PDF-1.7 dai")
    for index in range(79):
        await tg.tap(AN, f"sc:{draft}:{index}:100")

    replies = await tg.say(AN, "0")  # the last item

    text = replies[0].text
    assert len(text) <= 4096
    assert text.splitlines()[:5] == [
        "Kiểm tra lại trước khi nộp — <b>Sở Y tế</b>, Sơ kết 6 tháng",
        "Tệp: Báo cáo.pdf",
        "Bảng có 80 mục, chỉ ghi mã mục và điểm (xem lại từng mục: «Quay lại»):",
        "1: 1",
        "2: 1",
    ]
    assert text.splitlines()[-4:] == [
        "80: 0",
        "Tiêu chí: 79; thưởng: 0; trừ: 0",
        "<b>Tổng: 79/80 điểm</b>",
        "Bấm «Xác nhận nộp» để gửi; sau khi nộp vẫn có thể nộp lại trước hạn (phiên bản mới).",
    ]
    assert replies[0].callback_data[0] == [f"wk:{draft}:confirm:0"]
    replies = await tg.tap(AN, f"wk:{draft}:confirm:0")
    assert replies[0].text.startswith("✅ <b>Biên nhận báo cáo</b>")


def test_the_summary_of_any_table_fits_one_message() -> None:
    """Longer still: per group, and for 1000 groups the totals only, which always fit (names,
    titles and file names are capped)."""
    ui = Ui(Renderer(), Locale.VI)
    unit = Unit(1, 1, "U" * 200, "S")
    period = Period(1, 1, PeriodKind.YEAR_END, "P" * 300, START, LatePolicy.ACCEPT, 1, ("pdf",), 1)
    bloc = Bloc(1, "B" * 200, BlocKind.KHOI, 2024, "B", "Asia/Ho_Chi_Minh")

    def summary(groups: int) -> str:
        items = tuple(
            Item(f"{n:040d}", "T" * 500, 100, ItemKind.CRITERION, f"{n % groups:0300d}")
            for n in range(1000)
        )
        table = ScoringTable("T" * 300, items)
        values = {i.code: 100 for i in items}
        draft = Draft(1, 1, 1, 1, "submit", False, None, "0" * 64, "F" * 255, 1, values)
        ctx = WalkContext(bloc, period, unit, table, 1, draft, None, {})
        step = svc.Summary(ctx, totals(table, values))
        return ui.fitting(
            "report_summary",
            SUMMARY_FORMS,
            ctx=ctx,
            totals=step.totals,
            groups=step.groups,
            review=False,
        )

    by_group = summary(10)
    assert len(by_group) <= 4096
    assert "chỉ ghi điểm từng nhóm" in by_group
    assert by_group.count(": 100/100\n") == 10
    only_totals = summary(1000)
    assert len(only_totals) <= 4096
    assert "Bảng có 1000 mục, chỉ ghi tổng" in only_totals


async def test_overlong_codes_titles_and_table_titles_are_refused_at_import(
    tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=UNITS)
    rows = [
        ["Tiêu đề", "Bảng " * 61],
        HEADER,
        ["tiêu chí", "I", "1." + "1" * 39, "Mã dài 41 ký tự", "10"],
        ["tiêu chí", "I", "1.2", "Nội dung " * 500, "10"],
        ["tiêu chí", "I", "1.3", "Đủ ngắn", "10"],
    ]

    replies = await tg.send_file(SECRETARY, "bang.csv", csv_bytes(rows), "/criteria")

    assert plain(replies) == [
        (
            S,
            "❌ Bảng chấm điểm không được nhập vì 3 lỗi:\n"
            "• tiêu đề bảng quá dài (tối đa 300 ký tự) — «Bảng Bảng Bảng Bảng Bảng Bảng Bảng "
            "Bảng Bảng Bảng Bảng...»\n"
            "• Dòng 3: mã mục quá dài (tối đa 40 ký tự) — «tiêu chí | I | 1.11111111111111111"
            "1111111111111111111111...»\n"
            "• Dòng 4: nội dung quá dài (tối đa 500 ký tự) — «tiêu chí | I | 1.2 | Nội dung "
            "Nội dung Nội dung Nội dung...»\n"
            "Sửa tệp rồi gửi lại.",
        )
    ]
    assert await latest_table(services) is None
