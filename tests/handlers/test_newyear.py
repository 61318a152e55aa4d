"""/bloc newyear: the elected leader and deputy take office, the year moves on (the rotation
and the covenant with it), the old year stays readable, once and only when no ballot is open;
the new year's ballots are numbered from 1 and never reach the old year's."""

from __future__ import annotations

import io

from aiogram.types import User
from docx import Document
from teremok import MockMessageText

from bot.services.app import Services
from bot.services.covenant import text_hash
from tests.handlers.conftest import GROUP, SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BLOC_CODE,
    CUONG,
    DUNG,
    GIANG,
    STRANGER,
    audit_trail,
    ballot_ids,
    bloc_by_code,
    conference_setup,
    dispatch,
    documents,
    hall_code,
)
from tests.handlers.test_minutes import MINUTES_UNITS, _vote, lines_of

SB = "<b>Sở & Ban</b>"
PLAN = (
    "📅 <b>Kết thúc năm 2024, chuyển sang năm 2025</b> — Khối thi đua Văn hóa - Xã hội\n\n"
    "Trưởng khối năm 2025: <b>Sở Văn hóa, Thể thao và Du lịch</b> (được bầu tại hội nghị)\n"
    "Phó trưởng khối năm 2025: <b>Sở Giáo dục và Đào tạo</b> (được bầu tại hội nghị)\n\n"
    "Giao ước thi đua năm 2025: 02/04 đơn vị đã ký; trở thành giao ước của năm mới.\n\n"
    "Dữ liệu năm 2024 vẫn xem được: /summary 2024, /minutes 2024, /export. "
    "Việc này không hoàn tác được."
)


async def _sign(tg: Harness, services: Services, *users: User) -> None:
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        covenant = await uow.covenants.of_year(bloc.id, 2025)
    assert covenant is not None
    for user in users:
        await tg.tap(user, f"cv:{covenant.id}:ok:{text_hash(covenant.text)[:16]}")


async def test_the_new_year_hands_the_bloc_to_the_elected_units(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg, units=MINUTES_UNITS)
    await tg.say(SECRETARY, "/bloc link", chat=GROUP)
    await _vote(services, tg, 1, {})
    for number in (2, 3, 4, 5):
        await _vote(services, tg, number, {})
    await _vote(services, tg, 6, {"SYT": "SVH", "SGD": "SVH", "SB": "SVH"})  # leader
    await _vote(services, tg, 7, {"SYT": "SGD", "SVH": "SGD", "SB": "SGD"})  # deputy
    await tg.say(SECRETARY, "/covenant set Các đơn vị cam kết thi đua hoàn thành nhiệm vụ.")
    await _sign(tg, services, AN, CUONG)

    assert (await tg.say(AN, "/bloc newyear"))[-1].text == (
        "Chỉ thường trực khối mới dùng được lệnh này."
    )
    plan = (await tg.say(SECRETARY, "/bloc newyear"))[-1]
    assert plan.text == PLAN
    assert plan.buttons == [["✅ Chuyển sang năm 2025"], ["✖ Hủy"]]
    confirm, cancel = plan.callback_data[0][0], plan.callback_data[1][0]
    assert (await tg.tap(SECRETARY, cancel))[-1].text == "Đã giữ nguyên năm 2024."

    done = await tg.tap(SECRETARY, confirm)
    told = {r.chat_id: r.text for r in done[1:]}  # after the answer, as the outbox sends
    notice = (
        "🎉 Khối thi đua Văn hóa - Xã hội bước sang năm thi đua 2025.\n"
        "Trưởng khối: Sở Văn hóa, Thể thao và Du lịch; phó trưởng khối: Sở Giáo dục và Đào tạo."
        "\n\nGiao ước thi đua năm 2025: 02/04 đơn vị đã ký."
    )
    assert told[GROUP.id] == notice
    assert told[AN.id] == told[GIANG.id] == told[SECRETARY.id] == notice
    assert done[0].text.startswith("✅ Đã chuyển sang năm 2025.")
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        names = {u.id: u.name for u in await uow.blocs.units(bloc.id)}
    assert (bloc.year, names[bloc.leader_unit_id or 0], names[bloc.deputy_unit_id or 0]) == (
        2025,
        "Sở Văn hóa, Thể thao và Du lịch",
        "Sở Giáo dục và Đào tạo",
    )
    trail = await audit_trail(services)
    assert trail[-1][0] == "bloc.new_year"

    # Once: the same button again (or a stale one) changes nothing and tells no one.
    again = await tg.tap(SECRETARY, confirm)
    assert [r.text for r in again] == [
        "Năm 2024 đã kết thúc; khối đang ở năm 2025. Không có gì thay đổi."
    ]

    # The new year: the signed covenant is this year's; the old year stays readable.
    view = (await tg.say(SECRETARY, "/bloc"))[-1].text
    assert "— Khối năm 2025 [KTĐVHXH]" in view
    assert "Trưởng khối: Sở Văn hóa, Thể thao và Du lịch" in view
    assert "Giao ước thi đua năm 2025: 2/4 đơn vị đã ký" in view
    assert (await tg.say(SECRETARY, "/summary"))[-1].text.startswith(
        "Khối chưa thiết lập hội nghị"
    )
    old = (await tg.say(SECRETARY, "/summary 2024"))[0].text
    assert "Sở Văn hóa, Thể thao và Du lịch được bầu làm đơn vị Trưởng khối năm 2025" in old
    assert (await tg.say(SECRETARY, "/summary 2023"))[-1].text == (
        "Khối không có hội nghị năm 2023."
    )
    sent = documents(await dispatch(tg, MockMessageText("/minutes 2024", user=SECRETARY)))
    assert [d.name for d in sent] == [
        "bien-ban-hoi-nghi.docx",
        "bien-ban-kiem-phieu.docx",
        "to-trinh.docx",
    ]
    minutes = lines_of(Document(io.BytesIO(sent[0].data)))
    assert "Hội nghị tổng kết công tác thi đua, khen thưởng năm 2024" in minutes[2]

    # The 2025 conference numbers its ballots from 1; "/ballot open 1" is 2025's, never 2024's.
    created = await tg.say(
        SECRETARY,
        "/conference new 18/12/2025 08:00; Hội trường Sở Văn hóa; SVHTTDL; Trần Văn Nam; "
        "Lò Thị Hương; Quàng Thị Mai; ; Hà Nội",
    )
    assert created[-1].text.startswith("<b>Hội nghị tổng kết năm 2025</b>"), created[-1].text
    for user in (AN, CUONG, DUNG, GIANG):
        await tg.say(user, f"/checkin {await hall_code(services)}")
    await tg.say(SECRETARY, "/ballot defaults")
    ids = await ballot_ids(services)
    assert len(ids) == 14
    opened = await tg.say(SECRETARY, "/ballot open 1")
    assert opened[0].text.startswith("✅ Đã mở biểu quyết số 1"), opened[0].text
    async with services.db.uow() as uow:
        new = await uow.votes.ballot(ids[7])
        old_first = await uow.votes.ballot(ids[0])
    assert new is not None
    assert old_first is not None
    assert (new.ballot.status.value, old_first.ballot.status.value) == ("open", "closed")
    listing = (await tg.say(SECRETARY, "/ballot"))[-1].text
    assert "8." not in listing
    # Representatives see the same number (it said 8 here, counting the old year's ballots).
    listed = (await tg.say(AN, "/vote"))[-1]
    assert listed.buttons[0] == ["🗳 1. Thông qua dự thảo báo cáo tổng kết"]
    assert listed.text.splitlines()[1].startswith("1. Thông qua dự thảo báo cáo tổng kết")
    # A unit that had not signed the covenant before the new year still can: it is this
    # year's now.
    covenant = (await tg.say(DUNG, "/covenant"))[-1]
    assert "năm 2025" in covenant.text
    await _sign(tg, services, DUNG)
    assert (
        "Giao ước thi đua năm 2025: 3/4 đơn vị đã ký"
        in (await tg.say(SECRETARY, "/bloc"))[-1].text
    )
    # The new year is refused while one of its ballots is open.
    assert (await tg.say(SECRETARY, "/bloc newyear"))[-1].text == (
        "Chưa thể kết thúc năm: biểu quyết, bỏ phiếu số 1 còn đang mở hoặc đã hẹn giờ mở. "
        "Đóng (/ballot close SỐ) hoặc hủy (/ballot cancel SỐ) trước."
    )


async def test_without_an_election_the_rotation_proposes(tg: Harness) -> None:
    await conference_setup(tg, units=MINUTES_UNITS, defaults=False)
    await tg.say(SECRETARY, "/bloc rotation SYT, SGDĐT, SVHTTDL, SB")
    await tg.say(SECRETARY, "/bloc leader SYT")
    plan = (await tg.say(SECRETARY, "/bloc newyear"))[-1].text
    assert "Trưởng khối năm 2025: <b>Sở Giáo dục và Đào tạo</b> (theo thứ tự luân phiên)" in plan
    assert (
        "Phó trưởng khối năm 2025: <b>Sở Văn hóa, Thể thao và Du lịch</b> "
        "(theo thứ tự luân phiên)" in plan
    )
    assert "Chưa có giao ước thi đua năm 2025 (/covenant set)." in plan
    assert (await tg.say(STRANGER, "/bloc newyear"))[-1].text == (
        "Chỉ thường trực khối mới dùng được lệnh này."
    )


async def test_an_undecided_tie_holds_the_year_and_a_corrected_conference_keeps_its_ballots(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg, units=MINUTES_UNITS)
    # The secretariat corrects the conference: the check-ins and the ballots stay with it.
    corrected = await tg.say(
        SECRETARY,
        "/conference new 20/12/2024 14:00; Hội trường tầng 2; SYT; Nguyễn Văn Thành; "
        "Lò Thị Hương; Quàng Thị Mai; ; Hà Nội",
    )
    assert "Thời gian: 14:00 20/12/2024; địa điểm: Hội trường tầng 2" in corrected[-1].text
    assert "Có mặt: 4/4 đơn vị" in corrected[-1].text
    assert len(await ballot_ids(services)) == 7
    # The leader ballot ties: a run-off is created, not held yet.
    await _vote(services, tg, 6, {"SYT": "SGD", "SGD": "SVH", "SVH": "SGD", "SB": "SVH"})
    assert len(await ballot_ids(services)) == 8
    assert (await tg.say(SECRETARY, "/bloc newyear"))[-1].text == (
        "Chưa thể kết thúc năm: biểu quyết, bỏ phiếu số 8 còn đang mở hoặc đã hẹn giờ mở. "
        "Đóng (/ballot close SỐ) hoặc hủy (/ballot cancel SỐ) trước."
    )
