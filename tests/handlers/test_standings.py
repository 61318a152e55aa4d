"""/standings: ranks with ties, the total that counts (and which), report status, the
user's unit highlighted; public in the bloc's group."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from teremok import MockMessageText

from bot.services.app import Services
from tests.handlers.conftest import GROUP, SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BLOC,
    CUONG,
    STRANGER,
    SYT_VALUES,
    dispatch,
    documents,
    raw_say,
    raw_tap,
    report_setup,
    submitted,
)

HEAD = f"📊 <b>Bảng xếp hạng</b> — {BLOC}\nBáo cáo tổng kết năm 2024 (hạn 17:00 15/12/2024)\n\n"
FOOT = (
    "Hạng bằng nhau khi tổng điểm bằng nhau; điểm thẩm định thay cho điểm tự chấm khi "
    "thường trực đã thẩm định."
)


async def test_ranks_ties_and_the_users_unit(tg: Harness, services: Services) -> None:
    await report_setup(tg)
    await submitted(services, AN)
    await submitted(services, CUONG)  # the same values: a tie at 102
    assert (await tg.say(AN, "/standings"))[-1].text == (
        HEAD + "▶ <b>1. Sở Y tế: 102 điểm (tự chấm)</b>\n"
        "1. Sở Giáo dục và Đào tạo: 102 điểm (tự chấm)\n"
        "– Sở Văn hóa, Thể thao và Du lịch — chưa nộp\n" + FOOT
    )
    await submitted(services, CUONG, values=(*SYT_VALUES[:10], 0, 0, 0, 0))  # 98 now
    text = (await tg.say(CUONG, "/standings"))[-1].text
    assert text.splitlines()[3:6] == [
        "1. Sở Y tế: 102 điểm (tự chấm)",
        "▶ <b>2. Sở Giáo dục và Đào tạo: 98 điểm (tự chấm)</b>",
        "– Sở Văn hóa, Thể thao và Du lịch — chưa nộp",
    ]
    # The secretariat and the group see the same table, nobody highlighted.
    assert "▶" not in (await tg.say(SECRETARY, "/standings"))[-1].text
    await tg.say(SECRETARY, "/bloc link", chat=GROUP)
    in_group = await tg.say(AN, "/standings", chat=GROUP)
    assert in_group[-1].chat_id == GROUP.id
    assert in_group[-1].text.splitlines()[3] == "1. Sở Y tế: 102 điểm (tự chấm)"
    assert (await tg.say(STRANGER, "/standings"))[-1].text.startswith("Bạn chưa")


async def test_the_standings_as_a_spreadsheet(tg: Harness, services: Services) -> None:
    await report_setup(tg)
    await submitted(services, AN)
    requests = await dispatch(tg, MockMessageText("/standings xlsx", user=AN))
    sent = documents(requests)
    assert [(d.name, d.caption) for d in sent] == [
        (
            "xep-hang.xlsx",
            f"📊 Bảng xếp hạng — {BLOC}, Báo cáo tổng kết năm 2024 (chi tiết từng tiêu chí: "
            "/export).",
        )
    ]
    sheet = load_workbook(io.BytesIO(sent[0].data)).active
    assert sheet is not None
    rows = [tuple(c.value for c in row) for row in sheet.iter_rows(min_row=3)]
    assert rows == [
        ("Xếp hạng", "Đơn vị", "Tên viết tắt", "Tổng điểm tính", "Điểm tính theo", "Trạng thái"),
        (1, "Sở Y tế", "SYT", 102, "tự chấm", "đã nộp"),
        (None, "Sở Giáo dục và Đào tạo", "SGDĐT", None, None, "chưa nộp"),
        (None, "Sở Văn hóa, Thể thao và Du lịch", "SVHTTDL", None, None, "chưa nộp"),
    ]


async def test_the_chart_by_button_by_word_and_in_the_group(
    tg: Harness, services: Services
) -> None:
    await report_setup(tg)
    await submitted(services, AN)
    reply = (await tg.say(AN, "/standings"))[-1]
    assert reply.buttons == [["📊 Biểu đồ", "📥 Excel"]]
    assert reply.callback_data == [["st:png", "st:xlsx"]]

    chart = documents(await raw_tap(tg, AN, "st:png"))
    caption = f"📊 Bảng xếp hạng — {BLOC}, Báo cáo tổng kết năm 2024 (đơn vị của bạn tô đỏ)."
    assert [(d.chat_id, d.name, d.caption) for d in chart] == [(AN.id, "xep-hang.png", caption)]
    assert chart[0].data.startswith(b"\x89PNG")
    typed = documents(await raw_say(tg, AN, "/standings biểu đồ"))
    assert [d.data for d in typed] == [chart[0].data]  # the same standings, the same image
    sheet = documents(await raw_tap(tg, AN, "st:xlsx"))
    assert [d.name for d in sheet] == ["xep-hang.xlsx"]

    # The secretariat's chart highlights nobody; a word the command does not know: usage.
    plain = documents(await raw_say(tg, SECRETARY, "/standings chart"))
    assert plain[0].caption == f"📊 Bảng xếp hạng — {BLOC}, Báo cáo tổng kết năm 2024."
    assert plain[0].data != chart[0].data
    assert (await tg.say(AN, "/standings pdf"))[-1].text.startswith("Cách dùng: <code>/standings")
    assert (await tg.say(STRANGER, "/standings chart"))[-1].text.startswith("Bạn chưa")
    assert documents(await raw_tap(tg, STRANGER, "st:png")) == []

    # In the group: the table, then the chart with nobody highlighted.
    await tg.say(SECRETARY, "/bloc link", chat=GROUP)
    requests = await dispatch(tg, MockMessageText("/standings", user=AN, chat=GROUP))
    in_group = documents(requests)
    assert [(d.chat_id, d.caption) for d in in_group] == [
        (GROUP.id, f"📊 Bảng xếp hạng — {BLOC}, Báo cáo tổng kết năm 2024.")
    ]
    assert in_group[0].data == plain[0].data
