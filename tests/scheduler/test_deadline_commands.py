"""/deadlines for a unit and for the secretariat, custom deadlines acknowledged with a button,
reminder settings per bloc, and /announce to everyone or to the units that have not acted —
each message delivered through the outbox by the tick."""

from __future__ import annotations

from bot.core.deadlines import DAY, HOUR
from bot.fakes.clock import FakeClock
from bot.services import announce as ann
from bot.services.app import Services
from bot.services.outcomes import Reason, Rejected
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BINH,
    BLOC,
    CUONG,
    NOT_SECRETARIAT,
    STALE,
    actor_of,
    audit_trail,
    bloc_by_code,
    report_setup,
    submitted,
)
from tests.scheduler.test_reminders import Recording, local, ticker

S = SECRETARY.id
REPORT_LINE = "1. Báo cáo «Báo cáo tổng kết năm 2024» — hạn 17:00 Chủ nhật, 15/12/2024"


def everything(sent: Recording) -> list[tuple[int, str]]:
    """What was sent since the last call, but the secretariat's daily digest."""
    out = sorted((int(m.chat_id), m.text) for m in sent.sent if not m.text.startswith("📋"))
    sent.sent.clear()
    return out


async def period_id(services: Services) -> int:
    async with services.db.uow() as uow:
        bloc = (await uow.blocs.all())[0]
        return (await uow.reports.periods(bloc.id))[0].id


async def test_a_representative_sees_the_units_deadlines_with_the_button_to_act(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg)
    clock.set(local(1, 9))
    reply = (await tg.say(AN, "/deadlines"))[-1]
    assert reply.text == (
        f"⏳ <b>Các hạn chót đang mở</b> — {BLOC} · Sở Y tế\n{REPORT_LINE}\n⏳ Đơn vị chưa nộp"
    )
    assert reply.buttons == [["1. 📄 Nộp báo cáo"]]
    assert reply.callback_data == [[f"rp:{await period_id(services)}:0"]]

    await submitted(services, AN)
    for user in (AN, BINH):  # the unit acted: both its representatives see it, no button
        reply = (await tg.say(user, "/deadlines"))[-1]
        assert reply.text.endswith(f"{REPORT_LINE}\n✅ Đơn vị đã nộp")
        assert reply.buttons == []

    clock.set(local(15, 17))  # the deadline has passed: nothing is open
    assert (await tg.say(CUONG, "/deadlines"))[-1].text == (
        f"⏳ <b>Các hạn chót đang mở</b> — {BLOC} · Sở Giáo dục và Đào tạo\n"
        "Không có hạn chót nào đang mở."
    )


async def test_the_secretariat_sees_who_is_missing_and_the_reminder_settings(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg)
    await submitted(services, AN)
    clock.set(local(1, 9))
    text = (await tg.say(SECRETARY, "/deadlines"))[-1].text
    assert text.startswith(
        f"⏳ <b>Các hạn chót đang mở</b> — {BLOC}\n{REPORT_LINE}\n"
        "1/3 đơn vị đã nộp; chưa: Sở Giáo dục và Đào tạo, Sở Văn hóa, Thể thao và Du lịch\n\n"
        "<b>Nhắc hạn</b> (gửi riêng cho đại diện các đơn vị chưa thực hiện):\n"
        "• Báo cáo: trước hạn 7 ngày, 3 ngày, 1 ngày, 2 giờ\n"
        "• Biểu quyết: trước hạn 10 phút\n"
        "• Giao ước: trước hạn 7 ngày, 3 ngày, 1 ngày, 2 giờ\n"
        "• Hạn do thường trực đặt: trước hạn 1 ngày, 2 giờ\n"
        "Giờ yên lặng: 21:00–07:00; tổng hợp gửi thường trực lúc 08:00."
    )
    assert (await tg.say(SECRETARY, "/deadlines xyz"))[-1].text.startswith("Cách dùng:")


async def test_a_custom_deadline_is_acknowledged_once_per_unit_and_laggards_reminded(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg)
    clock.set(local(2, 9))
    added = await tg.say(
        SECRETARY, "/deadlines add Nộp hồ sơ đề nghị khen thưởng; 10/12/2024 17:00"
    )
    assert added[0].text == (
        "✅ Đã thêm hạn chót số 1: <b>Nộp hồ sơ đề nghị khen thưởng</b> — hạn 17:00 thứ Ba, "
        "10/12/2024.\nĐã báo cho đại diện 3 người; đơn vị chưa bấm «Đã nhận» sẽ được nhắc "
        "trước hạn. Theo dõi: /deadlines"
    )
    notice = (
        f"📌 <b>Hạn chót mới</b> — {BLOC}\nNộp hồ sơ đề nghị khen thưởng\n"
        "Hạn: 17:00 thứ Ba, 10/12/2024.\n"
        "Bấm «Đã nhận» để thường trực biết đơn vị đã nắm được."
    )
    async with services.db.uow() as uow:
        deadline = (await uow.deadlines.of_bloc((await uow.blocs.all())[0].id))[0]
    # Through the outbox, sent as the command is answered: every representative, a button.
    assert [(r.chat_id, r.text, r.buttons, r.callback_data) for r in added[1:]] == [
        (u.id, notice, [["✅ Đã nhận"]], [[f"dl:{deadline.id}:ack"]]) for u in (AN, BINH, CUONG)
    ]
    sent = Recording()
    tick = ticker(services, sent)
    await tick.tick()
    assert everything(sent) == []  # sent once

    assert (await tg.tap(AN, f"dl:{deadline.id}:ack"))[-1].text == (
        "✅ Đã ghi nhận: Sở Y tế đã nhận «Nộp hồ sơ đề nghị khen thưởng» "
        "(hạn 17:00 thứ Ba, 10/12/2024)."
    )
    assert (await tg.tap(BINH, f"dl:{deadline.id}:ack"))[-1].text == (
        "Đơn vị Sở Y tế đã xác nhận «Nộp hồ sơ đề nghị khen thưởng» trước đó "
        "(Trần Văn An, 09:00 02/12/2024)."
    )
    acks = [d for a, d in await audit_trail(services) if a == "deadline.acknowledged"]
    assert acks == [{"deadline": deadline.id}]
    # The secretariat cannot acknowledge for a unit; a stranger's tap is refused too.
    await tg.tap(SECRETARY, f"dl:{deadline.id}:ack")
    assert tg.alerts[-1].startswith("Chỉ đại diện")

    # One day before: only Sở GD&ĐT (not acknowledged, has a representative) is reminded.
    clock.set(local(9, 17))
    await tick.tick()
    # (The report's 7-day reminder, missed since the 2nd, goes too: to every unit.)
    assert [m for m in everything(sent) if "hồ sơ" in m[1]] == [
        (
            CUONG.id,
            "⏰ <b>Nhắc hạn</b> — Sở Giáo dục và Đào tạo\n"
            "Nộp hồ sơ đề nghị khen thưởng: đơn vị chưa bấm «Đã nhận».\n"
            "Hạn chót: 17:00 thứ Ba, 10/12/2024 (còn 1 ngày).",
        )
    ]
    assert (await tg.say(SECRETARY, "/deadlines"))[-1].text.splitlines()[1:3] == [
        "1. Nộp hồ sơ đề nghị khen thưởng — hạn 17:00 thứ Ba, 10/12/2024",
        "1/3 đơn vị đã xác nhận; chưa: Sở Giáo dục và Đào tạo, Sở Văn hóa, Thể thao và Du lịch",
    ]

    # The report deadline is number 2: not one /deadlines cancel withdraws.
    assert (await tg.say(SECRETARY, "/deadlines cancel 2"))[-1].text.startswith(
        "Hạn chót số 2 không do thường trực thêm"
    )
    assert (await tg.say(SECRETARY, "/deadlines cancel 9"))[-1].text == (
        "Không có hạn chót đang mở số «9». Xem danh sách: /deadlines"
    )
    confirm = (await tg.say(SECRETARY, "/deadlines cancel 1"))[-1]
    assert confirm.text == (
        "Hủy hạn chót «Nộp hồ sơ đề nghị khen thưởng» (hạn 17:00 thứ Ba, 10/12/2024)? Các đơn "
        "vị sẽ không còn được nhắc; không hoàn tác được."
    )
    assert confirm.buttons == [["🗑 Hủy hạn chót", "Giữ lại"]]
    assert confirm.callback_data == [[f"dl:{deadline.id}:cx", f"dl:{deadline.id}:keep"]]
    assert (await tg.tap(SECRETARY, f"dl:{deadline.id}:keep"))[
        -1
    ].text == "Đã giữ nguyên hạn chót."
    # A representative's forged tap withdraws nothing.
    assert (await tg.tap(AN, f"dl:{deadline.id}:cx"))[-1].text == NOT_SECRETARIAT
    assert (await tg.tap(SECRETARY, f"dl:{deadline.id}:cx"))[-1].text == (
        "Đã hủy hạn chót «Nộp hồ sơ đề nghị khen thưởng»; các đơn vị không còn được nhắc."
    )
    assert (await tg.tap(SECRETARY, f"dl:{deadline.id}:cx"))[-1].text == (
        "Hạn chót này không còn (đã bị hủy). Xem các hạn đang mở: /deadlines"
    )
    assert [a for a, _ in await audit_trail(services) if a == "deadline.cancelled"] == [
        "deadline.cancelled"
    ]
    clock.set(local(10, 15))
    await tick.tick()
    assert everything(sent) == []
    await tg.tap(CUONG, f"dl:{deadline.id}:ack")
    assert tg.alerts[-1] == "Hạn chót này không còn (đã bị hủy). Xem các hạn đang mở: /deadlines"


async def test_adding_a_deadline_refuses_bad_input_and_other_members(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg)
    clock.set(local(2, 9))

    async def say(text: str) -> str:
        return (await tg.say(SECRETARY, text))[-1].text

    assert (await say("/deadlines add  ; 10/12/2024 17:00")).startswith("Thiếu nội dung hạn chót")
    assert await say("/deadlines add Hồ sơ; 1/12/2024 17:00") == (
        "Thời hạn «1/12/2024 17:00» đã qua hoặc không muộn hơn hạn hiện tại."
    )
    assert (await say("/deadlines add Hồ sơ; thứ sáu")).startswith("Không hiểu")
    assert (await tg.say(AN, "/deadlines add Hồ sơ; 10/12/2024 17:00"))[-1].text == (
        NOT_SECRETARIAT
    )
    async with services.db.uow() as uow:
        assert await uow.deadlines.of_bloc((await uow.blocs.all())[0].id) == []


async def test_the_secretariat_changes_offsets_and_quiet_hours(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg)
    clock.set(local(1, 9))
    assert (await tg.say(SECRETARY, "/deadlines remind báo cáo; 5d, 12h"))[-1].text == (
        "✅ Đã lưu lịch nhắc của khối.\n"
        "• Báo cáo: trước hạn 5 ngày, 12 giờ\n"
        "• Biểu quyết: trước hạn 10 phút\n"
        "• Giao ước: trước hạn 7 ngày, 3 ngày, 1 ngày, 2 giờ\n"
        "• Hạn do thường trực đặt: trước hạn 1 ngày, 2 giờ\n"
        "Giờ yên lặng: 21:00–07:00."
    )
    assert (await tg.say(SECRETARY, "/deadlines quiet 23h-5h"))[-1].text.endswith(
        "Giờ yên lặng: 23:00–05:00."
    )
    bloc = await bloc_by_code(services, "KTĐVHXH")
    assert bloc.reminders.offsets_for(bloc.reminders.offsets[0][0]) == (5 * DAY, 12 * HOUR)

    sent = Recording()
    tick = ticker(services, sent)
    clock.set(local(8, 17))  # the default 7-day reminder is gone
    await tick.tick()
    assert [c for c, _ in everything(sent) if c != S] == []
    clock.set(local(10, 17))
    await tick.tick()
    assert [c for c, _ in everything(sent) if c != S] == [AN.id, BINH.id, CUONG.id]
    clock.set(local(15, 5))  # 12 h before: inside the old quiet hours, outside the new
    await tick.tick()
    assert [c for c, _ in everything(sent) if c != S] == [AN.id, BINH.id, CUONG.id]

    for typed, answer in (
        ("/deadlines remind lễ hội; 1d", "Không rõ loại hạn «lễ hội»"),
        ("/deadlines remind báo_cáo; sớm", "Không hiểu lịch nhắc «sớm»"),
        ("/deadlines quiet tối", "Không hiểu giờ yên lặng «tối»"),
    ):
        assert (await tg.say(SECRETARY, typed))[-1].text.startswith(answer)
    assert (await tg.say(AN, "/deadlines quiet tắt"))[-1].text == NOT_SECRETARIAT
    assert (await tg.say(SECRETARY, "/deadlines remind báo_cáo; mặc định"))[-1].text.splitlines()[
        1
    ] == "• Báo cáo: trước hạn 7 ngày, 3 ngày, 1 ngày, 2 giờ"
    assert (await tg.say(SECRETARY, "/deadlines quiet tắt"))[-1].text.endswith(
        "Giờ yên lặng: không có."
    )


async def test_announce_to_everyone_then_to_the_units_that_have_not_submitted(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg)
    clock.set(local(2, 9))
    preview = (await tg.say(SECRETARY, "/announce Hội nghị tổng kết họp lúc 8h ngày 20/12."))[-1]
    assert preview.text == (
        "📢 <b>Gửi thông báo này đến ai?</b>\n\nHội nghị tổng kết họp lúc 8h ngày 20/12.\n\n"
        "Tất cả thành viên: 3 người. Hoặc chỉ đại diện các đơn vị chưa hoàn thành một hạn "
        "chót (nút bên dưới)."
    )
    assert preview.buttons == [
        ["📢 Tất cả thành viên"],
        ["1. Chưa nộp: Báo cáo «Báo cáo tổng kết năm 2024» (3 đơn vị)"],
        ["✖ Hủy"],
    ]
    tapped = await tg.tap(SECRETARY, preview.callback_data[0][0])
    assert tapped[0].text == (
        "✅ Đã xếp gửi thông báo đến 3 người (tất cả thành viên). "
        "Tin được gửi dần theo giới hạn của Telegram."
    )
    text = (
        f"📢 <b>Thông báo của thường trực</b> — {BLOC}\n\n"
        "Hội nghị tổng kết họp lúc 8h ngày 20/12.\n\n— Nguyễn Thị Lan"
    )
    assert [(r.chat_id, r.text) for r in tapped[1:]] == [
        (AN.id, text),
        (BINH.id, text),
        (CUONG.id, text),
    ]
    assert (await tg.tap(SECRETARY, preview.callback_data[0][0]))[-1].text == STALE
    sent = Recording()
    tick = ticker(services, sent)
    await tick.tick()
    assert everything(sent) == []  # sent once

    await submitted(services, AN)
    typed = await tg.say(SECRETARY, "/announce 1; Đề nghị nộp báo cáo trước 17h thứ Sáu.")
    assert typed[0].text == (
        "✅ Đã xếp gửi thông báo đến 1 người — đại diện 2 đơn vị chưa hoàn thành: "
        "Báo cáo «Báo cáo tổng kết năm 2024». Tin được gửi dần theo giới hạn của Telegram."
    )
    assert [(r.chat_id, r.text) for r in typed[1:]] == [
        (
            CUONG.id,
            f"📢 <b>Thông báo của thường trực</b> — {BLOC}\n\n"
            "Đề nghị nộp báo cáo trước 17h thứ Sáu.\n\n"
            "(Gửi các đơn vị chưa nộp: Báo cáo «Báo cáo tổng kết năm 2024», hạn 17:00 "
            "Chủ nhật, 15/12/2024.)\n— Nguyễn Thị Lan",
        )
    ]
    trail = [d for a, d in await audit_trail(services) if a == "announce.sent"]
    assert [(d["target"], d["people"], d["units"]) for d in trail] == [
        ("all", 3, 2),
        (f"period:{await period_id(services)}", 1, 2),
    ]


async def test_announce_refuses_and_can_be_cancelled(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg)
    clock.set(local(2, 9))
    assert (await tg.say(SECRETARY, "/announce"))[-1].text.startswith("Cách dùng:")
    assert (await tg.say(SECRETARY, "/announce 7; Xin chào"))[-1].text == (
        "Không có hạn chót đang mở số «7». Xem danh sách: /deadlines"
    )
    assert (await tg.say(SECRETARY, "/announce " + "dài " * 1000))[-1].text.startswith(
        "Thông báo quá dài: tối đa 3500 ký tự."
    )
    assert (await tg.say(AN, "/announce Xin chào"))[-1].text == NOT_SECRETARIAT
    preview = (await tg.say(SECRETARY, "/announce Xin chào"))[-1]
    assert (await tg.tap(SECRETARY, preview.callback_data[-1][0]))[-1].text == (
        "Đã hủy, thông báo không được gửi."
    )
    assert (await tg.tap(SECRETARY, preview.callback_data[0][0]))[-1].text == STALE
    sent = Recording()
    await ticker(services, sent).tick()
    assert everything(sent) == []


async def test_a_deadline_added_late_is_announced_not_reminded_at_once(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg)
    await submitted(services, AN)
    clock.set(local(12, 9))
    # Due at 17:00 today: its 1-day reminder time has passed already; only the 2-hour one goes.
    added = await tg.say(SECRETARY, "/deadlines add Gửi danh sách đại biểu; 12/12/2024 17:00")
    assert [r.chat_id for r in added[1:]] == [AN.id, BINH.id, CUONG.id]
    sent = Recording()
    tick = ticker(services, sent)
    await tick.tick()
    assert [m for m in everything(sent) if "đại biểu" in m[1]] == []
    clock.set(local(12, 15))
    await tick.tick()
    assert [c for c, m in everything(sent) if "đại biểu" in m] == [AN.id, BINH.id, CUONG.id]


async def test_each_preview_sends_its_own_text_once_and_blocks_nothing_else(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg)
    clock.set(local(2, 9))
    first = (await tg.say(SECRETARY, "/announce Thông báo thứ nhất"))[-1]
    second = (await tg.say(SECRETARY, "/announce Thông báo thứ hai"))[-1]
    # While previews wait, the secretary's other messages work as usual.
    assert (await tg.say(SECRETARY, "/deadlines"))[-1].text.startswith("⏳")
    sent = await tg.tap(SECRETARY, first.callback_data[0][0])
    assert [r.text.split("\n\n")[1] for r in sent[1:]] == ["Thông báo thứ nhất"] * 3
    sent = await tg.tap(SECRETARY, second.callback_data[0][0])
    assert [r.text.split("\n\n")[1] for r in sent[1:]] == ["Thông báo thứ hai"] * 3
    # The same message handled twice (a double tap racing, an update delivered again) sends
    # once: the second finds the rows of the first.
    secretary = await actor_of(services, SECRETARY)
    once = await ann.announce(services, secretary, text="Họp lúc 8h", target="all", ref="1:77")
    assert isinstance(once, ann.Announced)
    assert once.people == 3
    again = await ann.announce(services, secretary, text="Họp lúc 8h", target="all", ref="1:77")
    assert again == Rejected(Reason.ANNOUNCE_SENT)
    trail = [d for a, d in await audit_trail(services) if a == "announce.sent"]
    assert len(trail) == 3
