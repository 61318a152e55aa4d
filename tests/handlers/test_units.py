"""/units: adding and importing member units, the list, a unit's card, removing a member."""

from __future__ import annotations

import unicodedata

from bot.services.app import Services
from handlers.telegram.ui import MemberCb, UnitCb
from tests.handlers.conftest import SECRETARY, Harness, Reply
from tests.handlers.support import (
    AN,
    BINH,
    BLOC,
    BLOC_CODE,
    CUONG,
    DUNG,
    OPEN_PERIOD,
    TABLE_EXAMPLE,
    UNITS,
    ballot_ids,
    bloc_by_code,
    cast,
    conference_setup,
    csv_bytes,
    identity,
    issued,
    join,
    membership,
    plain,
    submitted,
    unit_names,
    units_of,
    xlsx_bytes,
)

S = SECRETARY.id
HEADER = ["Tên đơn vị", "Tên viết tắt"]
NAMES = [name for name, _ in UNITS]
ASK_FILE = (
    "Gửi tệp CSV hoặc XLSX danh sách đơn vị. Mỗi dòng một đơn vị, các cột: <b>Tên đơn vị</b>, "
    "<b>Tên viết tắt</b>, Liên hệ (không bắt buộc). Dòng tiêu đề được bỏ qua.\n"
    "Nếu có dòng sai, cả tệp sẽ không được nhập và bot sẽ chỉ ra từng dòng."
)
UNKNOWN_MESSAGE = (
    "Bot chưa hiểu tin nhắn này. Gõ /help để xem các lệnh, hoặc gửi mã mời để tham gia."
)
LIST_FOOTER = "Xem chi tiết, cấp mã hoặc xóa thành viên: /units SỐ"


async def new_bloc(tg: Harness) -> None:
    await tg.say(SECRETARY, f"/bloc new {BLOC}; Khối; 2024; {BLOC_CODE}")


async def names(services: Services) -> list[str]:
    return await unit_names(services, await bloc_by_code(services, BLOC_CODE))


async def test_units_import_then_a_csv_file(tg: Harness, services: Services) -> None:
    await new_bloc(tg)
    assert plain(await tg.say(SECRETARY, "/units import")) == [(S, ASK_FILE)]

    replies = await tg.send_file(SECRETARY, "don_vi.csv", csv_bytes([HEADER, *UNITS]))

    assert plain(replies) == [
        (
            S,
            "✅ Đã nhập 3 đơn vị (khối có 3 đơn vị):\n"
            "1. Sở Y tế\n"
            "2. Sở Giáo dục và Đào tạo\n"
            "3. Sở Văn hóa, Thể thao và Du lịch\n"
            "Cấp mã mời cho mọi đơn vị: /invite all",
        )
    ]
    units = await units_of(services, await bloc_by_code(services, BLOC_CODE))
    assert [(u.name, u.short_name, u.contact) for u in units] == [(*u, "") for u in UNITS]
    # The import is over: text is no longer taken as "not a file".
    assert plain(await tg.say(SECRETARY, "xong")) == [(S, UNKNOWN_MESSAGE)]


async def test_a_document_captioned_units_import(tg: Harness, services: Services) -> None:
    await new_bloc(tg)
    await tg.say(SECRETARY, "/units add Sở Tư pháp; STP")
    data = csv_bytes([["Sở Nội vụ", "SNV", "Văn phòng Sở, 0243 123 456"]])  # no header row

    replies = await tg.send_file(SECRETARY, "them.csv", data, "/units import")

    assert plain(replies) == [
        (
            S,
            "✅ Đã nhập 1 đơn vị (khối có 2 đơn vị):\n1. Sở Nội vụ\n"
            "Cấp mã mời cho mọi đơn vị: /invite all",
        )
    ]
    units = await units_of(services, await bloc_by_code(services, BLOC_CODE))
    assert units[-1].contact == "Văn phòng Sở, 0243 123 456"


async def test_an_xlsx_import(tg: Harness, services: Services) -> None:
    await new_bloc(tg)
    data = xlsx_bytes(
        [
            ["Tên đơn vị", "Tên viết tắt", "Liên hệ"],
            ["Sở Y tế", "SYT", "Chánh Văn phòng"],
            ["Sở Giáo dục và Đào tạo", "SGDĐT", None],
            ["Ủy ban nhân dân huyện Đông Anh", "UBNDĐA", "0243 883 1234"],
        ]
    )
    await tg.say(SECRETARY, "/units import")

    replies = await tg.send_file(SECRETARY, "Danh sách.XLSX", data)

    assert plain(replies) == [
        (
            S,
            "✅ Đã nhập 3 đơn vị (khối có 3 đơn vị):\n"
            "1. Sở Y tế\n"
            "2. Sở Giáo dục và Đào tạo\n"
            "3. Ủy ban nhân dân huyện Đông Anh\n"
            "Cấp mã mời cho mọi đơn vị: /invite all",
        )
    ]
    units = await units_of(services, await bloc_by_code(services, BLOC_CODE))
    assert [(u.short_name, u.contact) for u in units] == [
        ("SYT", "Chánh Văn phòng"),
        ("SGDĐT", ""),
        ("UBNDĐA", "0243 883 1234"),
    ]
    assert (await tg.say(SECRETARY, "/units 3"))[0].text == (
        "<b>3. Ủy ban nhân dân huyện Đông Anh</b> (UBNDĐA)\nLiên hệ: 0243 883 1234\n"
        "Đại diện: chưa có\nMã mời còn hiệu lực: 0"
    )


async def test_a_file_with_bad_rows_is_refused_whole(tg: Harness, services: Services) -> None:
    await tg.admin_setup(units=UNITS)
    bad = [
        HEADER,
        ["Sở Nội vụ", "SNV"],
        ["Sở Tài chính", ""],
        ["Sở Nội vụ", "SNV2"],
        ["Sở Y tế", "SYT9"],
        ["Sở Xây dựng", "SXD", "0243 111", "thừa"],
        ["Sở Công Thương", "SCT"],
    ]

    replies = await tg.send_file(SECRETARY, "don_vi.csv", csv_bytes(bad), "/units import")

    assert plain(replies) == [
        (
            S,
            "❌ Tệp không được nhập (không đơn vị nào được thêm) vì 4 dòng lỗi:\n"
            "• Dòng 3: thiếu tên viết tắt — «Sở Tài chính»\n"
            "• Dòng 4: tên đơn vị trùng với một dòng trước trong tệp — «Sở Nội vụ | SNV2»\n"
            "• Dòng 5: đơn vị đã có trong khối — «Sở Y tế | SYT9»\n"
            "• Dòng 6: nhiều hơn 3 cột (tên, tên viết tắt, liên hệ) — "
            "«Sở Xây dựng | SXD | 0243 111 | thừa»\n"
            "Sửa tệp rồi gửi lại.",
        )
    ]
    assert await names(services) == NAMES

    # After `/units import` the bot keeps waiting, so the corrected file can follow.
    await tg.say(SECRETARY, "/units import")
    assert (await tg.send_file(SECRETARY, "don_vi.csv", csv_bytes(bad)))[0].text.startswith(
        "❌ Tệp không được nhập"
    )
    fixed = [HEADER, ["Sở Nội vụ", "SNV"], ["Sở Tài chính", "STC"]]
    assert (await tg.send_file(SECRETARY, "don_vi.csv", csv_bytes(fixed)))[0].text.startswith(
        "✅ Đã nhập 2 đơn vị (khối có 5 đơn vị):"
    )
    assert await names(services) == [*NAMES, "Sở Nội vụ", "Sở Tài chính"]


async def test_files_that_cannot_be_read(tg: Harness, services: Services) -> None:
    await tg.admin_setup(units=UNITS)
    nothing = " Không có đơn vị nào được nhập."
    await tg.say(SECRETARY, "/units import")
    cases = [
        ("don_vi.pdf", b"%PDF-1.4", "Chỉ nhận tệp .csv hoặc .xlsx." + nothing),
        ("don_vi.docx", b"PK\x03\x04", "Chỉ nhận tệp .csv hoặc .xlsx." + nothing),
        (
            "don_vi.xlsx",
            b"not a workbook",
            "Nội dung tệp không phải là XLSX; đổi tên tệp không làm đổi loại tệp." + nothing,
        ),
        ("don_vi.csv", csv_bytes([HEADER]), "Tệp không có dòng đơn vị nào." + nothing),
        ("don_vi.csv", b"\n\n", "Tệp không có dòng đơn vị nào." + nothing),
    ]
    for name, data, refusal in cases:
        assert plain(await tg.send_file(SECRETARY, name, data)) == [(S, refusal)], name
    assert plain(await tg.say(SECRETARY, "đây là danh sách")) == [
        (S, "Bot đang chờ tệp CSV/XLSX danh sách đơn vị. Gửi tệp, hoặc gõ một lệnh để hủy.")
    ]
    assert plain(await tg.say(SECRETARY, "/units")) == [(S, "Đã hủy thao tác đang làm.")]
    assert await names(services) == NAMES


async def test_units_add(tg: Harness, services: Services) -> None:
    await tg.admin_setup(units=UNITS)

    assert plain(await tg.say(SECRETARY, "/units add Sở Tư pháp; STP; 0243 825 3333")) == [
        (S, "✅ Đã thêm đơn vị số 4: <b>Sở Tư pháp</b> (STP). Cấp mã mời: /invite 4")
    ]
    refusals = {
        "/units add Sở Nội vụ": (
            "Cách dùng: <code>/units add Tên đơn vị; Tên viết tắt; Liên hệ (không bắt buộc)</code>"
        ),
        "/units add Sở Nội vụ; ": "Không thêm được đơn vị: thiếu tên viết tắt.",
        "/units add  SỞ   TƯ PHÁP ; STP2": "Không thêm được đơn vị: đơn vị đã có trong khối.",
        "/units add Sở Nội vụ; stp": (
            "Không thêm được đơn vị: tên viết tắt đã được đơn vị khác trong khối sử dụng."
        ),
    }
    for command, refusal in refusals.items():
        assert plain(await tg.say(SECRETARY, command)) == [(S, refusal)], command
    assert await names(services) == [*NAMES, "Sở Tư pháp"]


async def test_a_decomposed_name_is_the_same_unit(tg: Harness, services: Services) -> None:
    """Vietnamese typed in NFD (some keyboards) must match the NFC name already stored."""
    await tg.admin_setup(units=UNITS)
    nfd = unicodedata.normalize("NFD", "Sở Y tế")
    assert nfd != "Sở Y tế"

    assert plain(await tg.say(SECRETARY, f"/units add {nfd}; SYT2")) == [
        (S, "Không thêm được đơn vị: đơn vị đã có trong khối.")
    ]
    nfd_new = unicodedata.normalize("NFD", "Sở Nội vụ")
    assert plain(await tg.say(SECRETARY, f"/units add {nfd_new}; SNV")) == [
        (S, "✅ Đã thêm đơn vị số 4: <b>Sở Nội vụ</b> (SNV). Cấp mã mời: /invite 4")
    ]
    assert await names(services) == [*NAMES, "Sở Nội vụ"]  # stored composed


async def test_the_list_shows_representatives_and_staff(tg: Harness) -> None:
    await tg.admin_setup(units=[*UNITS, ("Sở Lao động - Thương binh & Xã hội", "SLĐTB&XH")])
    await join(tg, AN, "1")
    await join(tg, BINH, "1")
    await tg.say(SECRETARY, "/invite 2")

    assert plain(await tg.say(SECRETARY, "/units")) == [
        (
            S,
            f"<b>{BLOC}</b> — 4 đơn vị thành viên\n"
            "1. Sở Y tế (SYT) — Trần Văn An, Lê Thị Bình\n"
            "2. Sở Giáo dục và Đào tạo (SGDĐT) — chưa có đại diện (đã gửi mã mời)\n"
            "3. Sở Văn hóa, Thể thao và Du lịch (SVHTTDL) — chưa có đại diện\n"
            "4. Sở Lao động - Thương binh &amp; Xã hội (SLĐTB&amp;XH) — chưa có đại diện\n"
            "Thường trực, theo dõi: Nguyễn Thị Lan\n"
            f"{LIST_FOOTER}",
        )
    ]


async def test_a_unit_card_and_its_buttons(tg: Harness, services: Services) -> None:
    await tg.admin_setup(units=UNITS)
    await tg.say(SECRETARY, "/units add Sở Tư pháp; STP; 0243 825 3333")
    await join(tg, AN, "1")
    await join(tg, BINH, "1")
    an, binh = await identity(services, AN), await identity(services, BINH)
    syt, *_ = await units_of(services, await bloc_by_code(services, BLOC_CODE))

    assert await tg.say(SECRETARY, "/units 1") == [
        Reply(
            S,
            "<b>1. Sở Y tế</b> (SYT)\nĐại diện: Trần Văn An, Lê Thị Bình\nMã mời còn hiệu lực: 0",
            buttons=[
                ["🔑 Cấp mã mời", "⛔ Thu hồi mã"],
                ["✖ Đưa ra khỏi đơn vị: Trần Văn An"],
                ["✖ Đưa ra khỏi đơn vị: Lê Thị Bình"],
            ],
            callback_data=[
                [f"u:invite:{syt.id}", f"u:revoke:{syt.id}"],
                [f"m:rm:{an.id}:{syt.id}:{syt.bloc_id}"],
                [f"m:rm:{binh.id}:{syt.id}:{syt.bloc_id}"],
            ],
        )
    ]
    stp = await tg.say(SECRETARY, "/units STP")
    assert [(r.text, r.buttons) for r in stp] == [
        (
            "<b>4. Sở Tư pháp</b> (STP)\nLiên hệ: 0243 825 3333\nĐại diện: chưa có\n"
            "Mã mời còn hiệu lực: 0",
            [["🔑 Cấp mã mời", "⛔ Thu hồi mã"]],
        )
    ]
    assert plain(await tg.say(SECRETARY, "/units 9")) == [
        (S, "Không tìm thấy đơn vị «9» trong khối. Xem danh sách: /units")
    ]

    # The card's buttons: issue a code for the unit, then revoke it.
    assert plain(await tg.tap(SECRETARY, UnitCb(action="invite", unit_id=syt.id).pack())) == [
        (S, issued("đại diện <b>Sở Y tế</b>", 3))
    ]
    assert (await tg.say(SECRETARY, "/units 1"))[0].text.endswith("Mã mời còn hiệu lực: 1")
    assert plain(await tg.tap(SECRETARY, UnitCb(action="revoke", unit_id=syt.id).pack())) == [
        (S, "Đã thu hồi 1 mã mời của Sở Y tế.")
    ]
    assert (await tg.say(SECRETARY, "/units 1"))[0].text.endswith("Mã mời còn hiệu lực: 0")


async def test_removing_a_member_with_the_buttons(tg: Harness, services: Services) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    await join(tg, BINH, "1")
    bloc = await bloc_by_code(services, BLOC_CODE)
    an = await identity(services, AN)
    syt = (await units_of(services, bloc))[0]
    rm = MemberCb(action="rm", identity_id=an.id, unit_id=syt.id, bloc_id=bloc.id)
    rmok = rm.model_copy(update={"action": "rmok"}).pack()

    assert await tg.tap(SECRETARY, rm.pack()) == [
        Reply(
            S,
            "Đưa người này ra khỏi danh sách đại diện của đơn vị? Đơn vị vẫn giữ nguyên; các "
            "vai trò khác của họ trong khối (nếu có) không thay đổi.",
            buttons=[["Xác nhận"]],
            callback_data=[[f"m:rmok:{an.id}:{syt.id}:{bloc.id}"]],
        )
    ]
    assert await membership(services, AN, bloc) is not None  # asking removes nobody

    replies = await tg.tap(SECRETARY, rmok)

    assert plain(replies) == [
        (S, "Đã đưa Trần Văn An ra khỏi danh sách đại diện của Sở Y tế."),
        (
            AN.id,
            f"Thường trực đã đưa bạn ra khỏi danh sách đại diện của Sở Y tế ({BLOC}). "
            "Nếu có nhầm lẫn, hãy liên hệ thường trực khối.",
        ),
    ]
    assert await membership(services, AN, bloc) is None
    assert await membership(services, BINH, bloc) is not None
    assert await unit_names(services, bloc) == NAMES  # the unit stays
    assert (await tg.say(SECRETARY, "/units"))[0].text.split("\n")[1] == (
        "1. Sở Y tế (SYT) — Lê Thị Bình"
    )
    assert plain(await tg.say(AN, "/units")) == [
        (AN.id, "Chỉ thường trực khối mới dùng được lệnh này.")
    ]
    # The same confirmation pressed again: nothing left to remove.
    assert plain(await tg.tap(SECRETARY, rmok)) == [
        (S, "Người này không còn là thành viên của khối.")
    ]


async def test_a_bloc_of_200_units_is_listed_in_several_messages(
    tg: Harness, services: Services
) -> None:
    """Telegram refuses messages over 4096 characters: long lists go out in parts."""
    await new_bloc(tg)
    rows = [[f"Ủy ban nhân dân xã Phú Xuân Thượng số {i}", f"UBNDX{i}"] for i in range(1, 201)]

    imported = await tg.send_file(SECRETARY, "xa.csv", csv_bytes(rows), "/units import")

    assert len(imported) > 1
    assert all(len(r.text) <= 4096 for r in imported)
    assert "\n".join(r.text for r in imported) == "\n".join(
        [
            "✅ Đã nhập 200 đơn vị (khối có 200 đơn vị):",
            *(f"{i}. Ủy ban nhân dân xã Phú Xuân Thượng số {i}" for i in range(1, 201)),
            "Cấp mã mời cho mọi đơn vị: /invite all",
        ]
    )
    assert len(await names(services)) == 200

    listing = await tg.say(SECRETARY, "/units")
    assert len(listing) > 1
    assert all(r.chat_id == S and len(r.text) <= 4096 for r in listing)
    assert "\n".join(r.text for r in listing) == "\n".join(
        [
            f"<b>{BLOC}</b> — 200 đơn vị thành viên",
            *(
                f"{i}. Ủy ban nhân dân xã Phú Xuân Thượng số {i} (UBNDX{i}) — chưa có đại diện"
                for i in range(1, 201)
            ),
            "Thường trực, theo dõi: Nguyễn Thị Lan",
            LIST_FOOTER,
        ]
    )

    order = ", ".join(str(i) for i in range(200, 0, -1))
    rotation = await tg.say(SECRETARY, f"/bloc rotation {order}")
    assert all(len(r.text) <= 4096 for r in rotation)
    assert "\n".join(r.text for r in rotation) == "\n".join(
        [
            "Thứ tự luân phiên trưởng khối:",
            *(f"{201 - i}. Ủy ban nhân dân xã Phú Xuân Thượng số {i}" for i in range(200, 0, -1)),
        ]
    )

    # Full: one more unit is refused, without counting "0 bad rows".
    more = csv_bytes([["Ủy ban nhân dân xã Tân Lập", "UBNDTL"]])
    assert plain(await tg.send_file(SECRETARY, "them.csv", more, "/units import")) == [
        (
            S,
            "❌ Tệp không được nhập (không đơn vị nào được thêm):\n"
            "• Khối sẽ vượt quá 200 đơn vị.\n"
            "Sửa tệp rồi gửi lại.",
        )
    ]
    assert len(await names(services)) == 200


async def test_a_wrong_spreadsheet_lists_its_first_20_bad_rows(
    tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=UNITS)
    rows = [[f"Nguyễn Văn {i}", f"NV{i}", "Chuyên viên", "Phòng Tổ chức"] for i in range(1, 301)]

    replies = await tg.send_file(SECRETARY, "nhan_su.csv", csv_bytes(rows), "/units import")

    assert plain(replies) == [
        (
            S,
            "\n".join(
                [
                    "❌ Tệp không được nhập (không đơn vị nào được thêm) vì 300 dòng lỗi:",
                    *(
                        f"• Dòng {i}: nhiều hơn 3 cột (tên, tên viết tắt, liên hệ) — "
                        f"«Nguyễn Văn {i} | NV{i} | Chuyên viên | Phòng Tổ chức»"
                        for i in range(1, 21)
                    ),
                    "• … và 280 dòng lỗi khác.",
                    "Sửa tệp rồi gửi lại.",
                ]
            ),
        )
    ]
    assert await names(services) == NAMES


BORDER = [
    ("Huyện Mường Nhé", "MN"),
    ("Thành phố Điện Biên Phủ", "TPĐBP"),
    ("Huyện Mường Chà", "MC"),
    ("Thị xã Mường Lay", "ML"),
]
MUONG = (
    "«Mường» khớp với nhiều đơn vị trong khối:\n"
    "1. Huyện Mường Nhé\n"
    "3. Huyện Mường Chà\n"
    "4. Thị xã Mường Lay\n"
    "Hãy gõ tên đầy đủ hơn, tên viết tắt hoặc số thứ tự của đơn vị (danh sách: /units)."
)


async def test_a_unit_named_by_some_of_its_words(tg: Harness) -> None:
    await tg.admin_setup(units=BORDER)
    # A word several names share: the candidates, with the numbers that name them.
    assert plain(await tg.say(SECRETARY, "/units Mường")) == [(S, MUONG)]
    assert plain(await tg.say(SECRETARY, "/invite Mường")) == [(S, MUONG)]
    # A run of one name's words, typed without diacritics: that unit.
    card = await tg.say(SECRETARY, "/units dien bien phu")
    assert [r.text for r in card] == [
        "<b>2. Thành phố Điện Biên Phủ</b> (TPĐBP)\nĐại diện: chưa có\nMã mời còn hiệu lực: 0"
    ]
    assert plain(await tg.say(SECRETARY, "/invite muong cha")) == [
        (S, issued("đại diện <b>Huyện Mường Chà</b>", 1))
    ]
    assert plain(await tg.say(SECRETARY, "/units Hà Giang")) == [
        (S, "Không tìm thấy đơn vị «Hà Giang» trong khối. Xem danh sách: /units")
    ]


async def test_a_unit_entered_by_mistake_is_removed_after_a_confirm(
    tg: Harness, services: Services
) -> None:
    """`/units remove N` says what will happen behind a button; the unit goes, its open
    invite is revoked (a code still in someone's hands is refused as revoked), audited."""
    await tg.admin_setup(units=UNITS)
    await tg.say(SECRETARY, "/units add Sở Tư pháp; STP")
    code = await tg.invite_code("STP")
    bloc = await bloc_by_code(services, BLOC_CODE)
    stp = (await units_of(services, bloc))[3]
    del_button = UnitCb(action="del", unit_id=stp.id).pack()

    assert await tg.say(SECRETARY, "/units remove 4") == [
        Reply(
            S,
            "Xóa đơn vị Sở Tư pháp khỏi danh sách của khối? 1 mã mời còn hiệu lực của đơn vị "
            "sẽ bị thu hồi. Không hoàn tác được; nếu cần, thêm lại đơn vị.",
            buttons=[["🗑 Xóa đơn vị"]],
            callback_data=[[del_button]],
        )
    ]
    assert await names(services) == [*NAMES, "Sở Tư pháp"]  # asking removes nothing
    assert plain(await tg.say(SECRETARY, "/units remove")) == [
        (
            S,
            "Cách dùng: <code>/units remove SỐ</code> (hoặc tên, tên viết tắt của đơn vị). "
            "Chỉ xóa được đơn vị nhập nhầm, chưa có người đại diện và chưa có hồ sơ nào.",
        )
    ]
    # A representative's forged button removes nothing.
    await join(tg, AN, "1")
    assert plain(await tg.tap(AN, del_button)) == [
        (AN.id, "Chỉ thường trực khối mới dùng được lệnh này.")
    ]
    assert plain(await tg.say(AN, "/units remove 4")) == [
        (AN.id, "Chỉ thường trực khối mới dùng được lệnh này.")
    ]

    assert plain(await tg.tap(SECRETARY, del_button)) == [
        (S, "Đã xóa đơn vị Sở Tư pháp. Đã thu hồi 1 mã mời của đơn vị.")
    ]
    assert await names(services) == NAMES
    assert plain(await tg.say(BINH, f"/start {code}")) == [
        (BINH.id, "Mã mời này đã bị thu hồi. Hãy xin thường trực khối cấp mã mới.")
    ]
    async with services.db.uow() as uow:
        trail = [(e.action, e.unit_id, e.details) for e, _, _ in await uow.audit.chain(bloc.id)]
    assert trail[-1] == (
        "unit.removed",
        stp.id,
        {"unit": stp.id, "name": "Sở Tư pháp", "short_name": "STP", "invites_revoked": 1},
    )
    assert plain(await tg.tap(SECRETARY, del_button)) == [
        (S, "Nút này không còn dùng được. Hãy gửi lại lệnh.")
    ]
    # The next unit added never takes the removed one's id (SQLite gave the highest id plus
    # one: the old button above would then have removed the new unit).
    await tg.say(SECRETARY, "/units add Sở Tài chính; STC")
    stc = (await units_of(services, bloc))[3]
    assert stc.name == "Sở Tài chính"
    assert stc.id > stp.id
    assert plain(await tg.tap(SECRETARY, del_button)) == [
        (S, "Nút này không còn dùng được. Hãy gửi lại lệnh.")
    ]
    assert await names(services) == [*NAMES, "Sở Tài chính"]
    await tg.say(SECRETARY, "/units remove STC")
    await tg.tap(SECRETARY, UnitCb(action="del", unit_id=stc.id).pack())
    # A unit with a representative: taken off first (each is told), then removed.
    assert plain(await tg.say(SECRETARY, "/units remove SYT")) == [
        (
            S,
            "Sở Y tế còn 1 người đại diện: chưa xóa được. Hãy đưa họ ra khỏi đơn vị trước "
            "(gõ /units Sở Y tế; mỗi người được báo tin), rồi xóa đơn vị.",
        )
    ]
    assert await names(services) == NAMES


async def test_a_unit_with_records_is_kept_and_says_why(tg: Harness, services: Services) -> None:
    """A unit that reported, voted, checked in, chairs, leads, or is on a ballot paper stays:
    its records are kept; the secretariat is told what keeps it, and to correct the name
    instead (records are said before members: taking them off would not help)."""
    await conference_setup(tg, checked_in=(AN, CUONG, DUNG))
    await tg.send_file(SECRETARY, "bang-cham-diem.yaml", TABLE_EXAMPLE.read_bytes(), "/criteria")
    await tg.say(SECRETARY, OPEN_PERIOD)
    await submitted(services, AN)
    ids = await ballot_ids(services)
    await tg.say(SECRETARY, "/ballot open 1")
    await cast(tg, AN, ids[0], 0)
    await tg.say(SECRETARY, "/bloc leader 2")
    await tg.say(SECRETARY, "/bloc deputy 3")
    kept = ": không xóa được, để giữ hồ sơ. Sửa tên đơn vị nếu đơn vị đổi tên/sáp nhập."
    # While a ballot is open every member counts in its base: no unit leaves then.
    assert plain(await tg.say(SECRETARY, "/units remove 4")) == [
        (S, "Sở Thông tin và Truyền thông có tên trên phiếu bầu và đang được tính vào số đơn "
            "vị của cuộc biểu quyết đang mở" + kept)
    ]  # fmt: skip
    await tg.say(SECRETARY, "/ballot close 1")
    said = [plain(await tg.say(SECRETARY, f"/units remove {n}")) for n in ("1", "2", "3", "4")]
    assert said == [
        [(S, "Sở Y tế đã nộp báo cáo, đã biểu quyết, đã điểm danh tại hội nghị, có tên trên "
             "phiếu bầu và là đơn vị chủ trì hội nghị" + kept)],
        [(S, "Sở Giáo dục và Đào tạo đã điểm danh tại hội nghị, có tên trên phiếu bầu và đang "
             "là trưởng khối" + kept)],
        [(S, "Sở Văn hóa, Thể thao và Du lịch đã điểm danh tại hội nghị, có tên trên phiếu "
             "bầu và đang là phó trưởng khối" + kept)],
        [(S, "Sở Thông tin và Truyền thông có tên trên phiếu bầu" + kept)],
    ]  # fmt: skip
    assert len(await units_of(services, await bloc_by_code(services, BLOC_CODE))) == 4
    en = await tg.say(SECRETARY, "/lang en")
    assert en
    assert plain(await tg.say(SECRETARY, "/units remove 4")) == [
        (
            S,
            "Sở Thông tin và Truyền thông is on a ballot paper: it cannot be removed, so that "
            "its records are kept. Correct the unit's name if it was renamed or merged.",
        )
    ]
