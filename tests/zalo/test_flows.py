"""Every representative flow on Zalo, by text: voting by numbers and by full commands (the
confirm step, Phiếu trắng, "ý kiến khác", a refused vote), secret-ballot receipts and their
check, check-in, self-scoring with the file sent from the linked Telegram account, the
covenant, the language, and linking a Telegram and a Zalo account."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path

import aiohttp
from aiohttp import web
from redis.asyncio import Redis
from sqlmodel import col, select

from bot.core.models import Platform
from bot.fakes.clock import FakeClock
from bot.fakes.ratelimit import NoRateLimit
from bot.fakes.zalo import FakeZalo, ZaloUser
from bot.services.app import Services
from bot.services.deadlines import plan_reminders
from handlers.channels import Channels
from handlers.telegram.notifier import TelegramNotifier
from handlers.zalo.bot import ZaloBot
from handlers.zalo.charts import ChartShelf
from handlers.zalo.client import ZaloClient, parse_update
from handlers.zalo.conversation import conversation_storage
from handlers.zalo.notifier import ZaloNotifier
from scheduler.sender import Sender
from storage.tables import CovenantSignatureRow, LinkCodeRow, OutboxRow
from tests.handlers.conftest import SECRETARY, Harness, person
from tests.handlers.support import (
    AN,
    CONFERENCE,
    CUONG,
    DUNG,
    SYT_VALUES,
    VOTE_UNITS,
    SecretRows,
    audit_trail,
    ballot_ids,
    hall_code,
    identity,
    join,
    open_votes,
    report_setup,
    secret_rows,
    versions,
)
from tests.handlers.test_reports import TABLE_BODY
from tests.zalo.helpers import TOKEN, Typist, typist, zalo, zbot

__all__ = ["typist", "zalo", "zbot"]

HOA = ZaloUser("8812345678901234567", "Lê Thị Hoa")  # Sở Thông tin và Truyền thông, on Zalo
HOA_TG = person(2500, "Lê", "Thị Hoa")  # the same person's Telegram account
LINH = ZaloUser("8812345678901234588", "Vũ Thị Linh")
UNKNOWN = "Bot chưa hiểu tin nhắn này. Gõ tro giup để xem các lệnh."
RECEIPT = re.compile(r"Mã biên nhận: (\w{4}-\w{4}-\w{4})")


async def mixed_conference(tg: Harness, typist: Typist) -> None:
    """Four units: Sở Y tế (An), Sở GD&ĐT (Cường), Sở VH-TT-DL (Dung) on Telegram, Sở TT&TT
    (Hoa) on Zalo; all checked in (Hoa by text), the default ballots created."""
    await tg.admin_setup(units=VOTE_UNITS)
    for user, unit in ((AN, "1"), (CUONG, "2"), (DUNG, "3")):
        await join(tg, user, unit)
    joined = await typist.say(HOA, await tg.invite_code("4"))
    assert joined == (
        "✅ Bạn đã tham gia Khối thi đua Văn hóa - Xã hội với tư cách đại diện của "
        "Sở Thông tin và Truyền thông.\nGõ tro giup để xem các lệnh."
    )
    await tg.say(SECRETARY, CONFERENCE)
    code = await hall_code(tg.services)
    for user in (AN, CUONG, DUNG):
        await tg.say(user, f"/checkin {code}")
    assert await typist.say(HOA, "điểm danh") == (
        "Điểm danh tại hội trường (Hội trường Sở Y tế): cần mã 6 chữ số đang hiện trên màn "
        "hình hội trường (mã đổi mỗi phút).\nGõ: diem danh và mã, ví dụ diem danh 123456."
    )
    # A sentence that starts with the words is not a check-in; a code read in groups is.
    assert await typist.say(HOA, "điểm danh xong rồi nhé") == UNKNOWN
    assert await typist.say(HOA, f"điểm danh {code[:3]} {code[3:]}") == (
        "✅ Đã điểm danh: Sở Thông tin và Truyền thông. Có mặt 4/4 đơn vị — đủ điều kiện "
        "biểu quyết."
    )
    await tg.say(SECRETARY, "/ballot defaults")


def confirm(name: str, choice: str, *, secret: bool) -> str:
    return (
        f"🗳 {name} — Sở Thông tin và Truyền thông\nLựa chọn của đơn vị: {choice}\n"
        "Xác nhận biểu quyết?"
        + (" Sau khi xác nhận không thể thay đổi." if secret else "")
        + "\nGõ «xác nhận» (hoặc «ok») để xác nhận, gõ số khác để chọn lại, «huy» để thôi."
    )


LEADER_MENU = (
    "🗳 Bầu Trưởng khối năm sau — Sở Thông tin và Truyền thông\n"
    "Thông qua khi đạt >50% tổng số đơn vị thành viên; không chọn đơn vị mình; bỏ phiếu kín.\n"
    "1. Sở Y tế\n2. Sở Giáo dục và Đào tạo\n3. Sở Văn hóa, Thể thao và Du lịch\n"
    "0. Phiếu trắng\n\nGõ số của lựa chọn; gõ 0 cho phiếu trắng. Gõ «huy» để thôi."
)


async def test_voting_by_numbers_and_by_full_commands(
    tg: Harness, services: Services, zbot: ZaloBot, typist: Typist
) -> None:
    await mixed_conference(tg, typist)
    assert await typist.say(HOA, "bo phieu") == "Hiện không có nội dung nào đang biểu quyết."
    for number in (1, 5, 6):
        await tg.say(SECRETARY, f"/ballot open {number}")
    ids = await ballot_ids(services)
    report, chair, leader = ids[0], ids[4], ids[5]

    # The list, then a ballot by its number, a choice by its number, the confirm step.
    assert await typist.say(HOA, "Biểu quyết") == (
        "Các nội dung đang biểu quyết — Sở Thông tin và Truyền thông:\n"
        "1. Thông qua dự thảo báo cáo tổng kết — chưa biểu quyết (0/4)\n"
        "5. Đề nghị tặng Bằng khen của Chủ tịch UBND tỉnh (tối đa 3 đơn vị) — chưa bỏ phiếu "
        "(0/4)\n"
        "6. Bầu Trưởng khối năm sau — chưa bỏ phiếu (0/4)\n\n"
        "Gõ số của nội dung (1, 5 hoặc 6) để xem và biểu quyết, hoặc gõ thẳng bo phieu 1 2 "
        "(nội dung 1, lựa chọn 2). Kiểm tra phiếu kín: kiem tra MÃ-BIÊN-NHẬN."
    )
    assert await typist.say(HOA, "1") == (
        "🗳 Thông qua dự thảo báo cáo tổng kết — Sở Thông tin và Truyền thông\n"
        "Thông qua khi đạt >50% tổng số đơn vị thành viên; biểu quyết công khai.\n"
        "1. Đồng ý\n2. Không đồng ý\n3. Ý kiến khác\n0. Phiếu trắng\n\n"
        "Gõ số của lựa chọn; gõ 0 cho phiếu trắng. Gõ «huy» để thôi."
    )
    # A typo keeps the menu and says what it expects.
    assert await typist.say(HOA, "dong yy") == (
        "Bot chưa hiểu «dong yy». Gõ số của lựa chọn, hoặc «huy» để thôi."
    )
    report_name = "Thông qua dự thảo báo cáo tổng kết"
    assert await typist.say(HOA, "1") == confirm(report_name, "Đồng ý", secret=False)
    assert await typist.say(HOA, "xác nhận") == (
        "✅ Đã ghi nhận biểu quyết của Sở Thông tin và Truyền thông: Đồng ý.\n"
        "Thông qua dự thảo báo cáo tổng kết: 1/4 đơn vị đã biểu quyết."
    )
    hoa = await zbot_identity(services)
    assert [(v.unit, v.choice, v.blank, v.by) for v in await open_votes(services, report)] == [
        ("STTTT", [0], False, hoa)
    ]

    # A full command; "ý kiến khác" asks for the text first; an open ballot can be re-cast.
    assert await typist.say(HOA, "/vote 1 3") == (
        "Hãy gõ ý kiến khác của đơn vị (một tin nhắn), hoặc gõ một lệnh để hủy."
    )
    assert await typist.say(HOA, "Đề nghị bổ sung số liệu chuyển đổi số") == confirm(
        report_name, "Ý kiến khác — «Đề nghị bổ sung số liệu chuyển đổi số»", secret=False
    )
    assert (await typist.say(HOA, "co")).startswith(
        "✅ Đã ghi nhận biểu quyết của Sở Thông tin và Truyền thông (thay cho lựa chọn trước)"
    )
    (stored,) = await open_votes(services, report)
    assert (stored.choice, stored.other_text) == ([2], "Đề nghị bổ sung số liệu chuyển đổi số")

    # Refused: the unit's own name (not even offered), a number beyond the ballot.
    assert await typist.say(HOA, "bo phieu 6 4") == (
        "«4»: Theo quy chế, không được chọn chính đơn vị mình. Gõ số khác trong danh sách, "
        "hoặc «huy» để thôi."
    )
    assert await typist.say(HOA, "bo phieu 9") == (
        "Không có nội dung biểu quyết số «9». Xem danh sách: bo phieu"
    )
    assert await secret_rows(services, leader) == SecretRows([], 0, 0, 0)

    # A secret ballot in one line; «chọn lại» goes back; Phiếu trắng by 0; the receipt once.
    assert await typist.say(HOA, "bỏ phiếu 6 2") == confirm(
        "Bầu Trưởng khối năm sau", "Sở Giáo dục và Đào tạo", secret=True
    )
    # Nothing but a sealed token waits in the conversation: no choice in clear (decision 4).
    (record,) = [r for r in zbot.storage.storage.values() if r.data]  # type: ignore[attr-defined]
    assert record.data["menu"] == "confirm"
    assert record.data["held"].startswith("s:")
    assert "Giáo dục" not in str(record.data)
    assert '"o"' not in str(record.data)
    assert await typist.say(HOA, "chon lai") == LEADER_MENU
    assert await typist.say(HOA, "0") == confirm(
        "Bầu Trưởng khối năm sau", "Phiếu trắng", secret=True
    )
    done = await typist.say(HOA, "dong y")
    receipt = RECEIPT.search(done)
    assert receipt is not None
    assert done == (
        "✅ Phiếu kín của Sở Thông tin và Truyền thông đã được bỏ vào hòm phiếu.\n"
        f"Mã biên nhận: {receipt.group(1)}\n\n"
        "Hãy lưu mã này ngay: bot không lưu mã và sẽ không hiển thị lại. Sau khi kiểm phiếu, "
        f"gõ kiem tra {receipt.group(1)} để xác nhận phiếu của đơn vị đã được kiểm. "
        "Phiếu kín không thể thay đổi.\n"
        "Bầu Trưởng khối năm sau: 1/4 đơn vị đã bỏ phiếu."
    )
    assert await secret_rows(services, leader) == SecretRows([("STTTT", hoa)], 1, 0, 0)
    assert await typist.say(HOA, "bo phieu 6 1") == (
        "Đơn vị đã bỏ phiếu; phiếu kín không thể thay đổi."
    )
    assert not any(r.data for r in zbot.storage.storage.values())  # type: ignore[attr-defined]

    # Several choices, too many refused (the menu stays), then two; English words work too.
    assert (await typist.say(HOA, "vote 5")).endswith(
        "Gõ số các đơn vị chọn (tối đa 3), cách nhau bởi dấu phẩy, ví dụ «1, 3»; gõ 0 cho "
        "phiếu trắng. Gõ «huy» để thôi."
    )
    assert await typist.say(HOA, "1, 2, 3, 4") == "Chọn quá số lượng cho phép (tối đa 3)"
    assert await typist.say(HOA, "1 2") == confirm(
        "Đề nghị tặng Bằng khen của Chủ tịch UBND tỉnh (tối đa 3 đơn vị)",
        "Sở Y tế, Sở Giáo dục và Đào tạo",
        secret=True,
    )
    assert await typist.say(HOA, "huy") == (
        "⚠️ Phiếu của đơn vị về nội dung 5 chưa được bỏ: lựa chọn đang chờ xác nhận đã bị bỏ "
        "qua. Gõ bo phieu 5 để biểu quyết lại.\n\nĐã hủy thao tác đang làm."
    )
    assert await secret_rows(services, chair) == SecretRows([], 0, 0, 0)
    assert await typist.say(HOA, "1") == UNKNOWN  # the menu is gone

    # The secretariat counts; the unit finds its receipt counted, typed or pasted.
    await tg.say(SECRETARY, "/ballot close 6")
    counted = f"✅ Phiếu có mã {receipt.group(1)} đã được kiểm trong «Bầu Trưởng khối năm sau»."
    assert await typist.say(HOA, f"kiem tra {receipt.group(1)}") == counted
    assert await typist.say(HOA, receipt.group(1).lower()) == counted
    assert await typist.say(HOA, "kiểm tra") == (
        "🔎 Gửi mã biên nhận đơn vị nhận được khi bỏ phiếu kín (dạng XXXX-XXXX-XXXX). "
        "Lúc nào cũng có thể dán mã vào tin nhắn riêng với bot để kiểm tra."
    )
    assert await typist.say(HOA, receipt.group(1)) == counted
    actions = [a for a, d in await audit_trail(services) if a.startswith("vote.")]
    assert actions == ["vote.cast", "vote.recast", "vote.cast_secret"]


async def zbot_identity(services: Services) -> int:
    async with services.db.uow() as uow:
        found = await uow.identities.by_account(Platform.ZALO, HOA.id)
    assert found is not None
    return found.id


NOT_CAST_6 = (
    "⚠️ Phiếu của đơn vị về nội dung 6 chưa được bỏ: lựa chọn đang chờ xác nhận đã bị bỏ qua. "
    "Gõ bo phieu 6 để biểu quyết lại."
)


async def test_realistic_mistakes_never_lose_a_vote_silently(
    tg: Harness, services: Services, typist: Typist, clock: FakeClock
) -> None:
    """After a refused choice «1» meant "confirm" but picked option 1, and the next command
    dropped that vote without a word (a ballot closed with 0 of 12 votes): now only a word
    confirms, a refusal names the wrong number, a unit's name works where a number is
    expected, and a dropped vote is said not cast."""
    await mixed_conference(tg, typist)
    for number in (1, 6):
        await tg.say(SECRETARY, f"/ballot open {number}")
    ids = await ballot_ids(services)
    report, leader = ids[0], ids[5]
    leader_name = "Bầu Trưởng khối năm sau"

    assert await typist.say(HOA, "bo phieu 6 4") == (
        "«4»: Theo quy chế, không được chọn chính đơn vị mình. Gõ số khác trong danh sách, "
        "hoặc «huy» để thôi."
    )
    assert await typist.say(HOA, "bo phieu 6 7") == (
        "«7»: Lựa chọn này không có trong phiếu. Gõ số khác trong danh sách, hoặc «huy» để thôi."
    )
    # «1» meant as "confirm" is a choice, shown for confirmation; typed again it casts nothing.
    assert await typist.say(HOA, "1") == confirm(leader_name, "Sở Y tế", secret=True)
    assert await typist.say(HOA, "1") == confirm(leader_name, "Sở Y tế", secret=True)
    assert await secret_rows(services, leader) == SecretRows([], 0, 0, 0)
    # The next command says the vote was not cast, in the same reply.
    assert (await typist.say(HOA, "bo phieu 1")) == (
        f"{NOT_CAST_6}\n\n"
        "🗳 Thông qua dự thảo báo cáo tổng kết — Sở Thông tin và Truyền thông\n"
        "Thông qua khi đạt >50% tổng số đơn vị thành viên; biểu quyết công khai.\n"
        "1. Đồng ý\n2. Không đồng ý\n3. Ý kiến khác\n0. Phiếu trắng\n\n"
        "Gõ số của lựa chọn; gõ 0 cho phiếu trắng. Gõ «huy» để thôi."
    )
    # «đồng ý» is a choice's name on this ballot, not a number: at the confirm step it confirms.
    assert await typist.say(HOA, "2") == confirm(
        "Thông qua dự thảo báo cáo tổng kết", "Không đồng ý", secret=False
    )
    assert (await typist.say(HOA, "Đồng ý")).startswith(
        "✅ Đã ghi nhận biểu quyết của Sở Thông tin và Truyền thông: Không đồng ý."
    )
    assert [v.choice for v in await open_votes(services, report)] == [[1]]

    # A unit's short name or name (diacritics optional) where a number is expected.
    assert await typist.say(HOA, "bo phieu 6 SGDĐT") == confirm(
        leader_name, "Sở Giáo dục và Đào tạo", secret=True
    )
    assert await typist.say(HOA, "so y te") == confirm(leader_name, "Sở Y tế", secret=True)
    assert await typist.say(HOA, "Sở Thông tin và Truyền thông") == (
        "«Sở Thông tin và Truyền thông»: Theo quy chế, không được chọn chính đơn vị mình. Gõ "
        "số khác trong danh sách, hoặc «huy» để thôi."
    )
    assert await typist.say(HOA, "sở văn hóa, thể thao và du lịch") == confirm(
        leader_name, "Sở Văn hóa, Thể thao và Du lịch", secret=True
    )
    # A confirmation left to expire is said not cast by the next command.
    clock.advance(timedelta(minutes=11))
    assert (await typist.say(HOA, "xep hang")).startswith(f"{NOT_CAST_6}\n\n📊 Bảng xếp hạng")
    assert await typist.say(HOA, "bo phieu 6 3") == confirm(
        leader_name, "Sở Văn hóa, Thể thao và Du lịch", secret=True
    )
    assert (await typist.say(HOA, "xác nhận")).startswith("✅ Phiếu kín của Sở Thông tin")
    assert await secret_rows(services, leader) == SecretRows(
        [("STTTT", await zbot_identity(services))], 1, 0, 0
    )


async def test_criteria_for_everyone_and_secretariat_forms_answered_on_zalo(
    tg: Harness, typist: Typist
) -> None:
    """/criteria was refused to representatives on Zalo although the command reference gives it to
    everyone; `/covenant set` and `/deadlines add` typed on Zalo were ignored without a word."""
    await report_setup(tg)
    await tg.say(SECRETARY, "/units add Sở Thông tin và Truyền thông; STTTT")
    await typist.say(HOA, await tg.invite_code("4"))

    def lines(text: str) -> list[str]:  # plain text on Zalo, in two messages of ≤ 2,000
        return [line for line in re.sub(r"</?b>", "", text).splitlines() if line]

    table = lines(TABLE_BODY)
    assert lines(await typist.say(HOA, "tieu chi")) == table
    assert lines(await typist.say(HOA, "/criteria")) == table
    hung = ZaloUser("8812345678901234511", "Đỗ Văn Hùng")  # a secretary with only Zalo
    await typist.say(hung, await tg.invite_code("secretariat"))
    assert lines(await typist.say(hung, "Bảng tiêu chí")) == table
    for typed, command in (
        ("/covenant set 17:00 20/12/2024; Các đơn vị cam kết thi đua.", "covenant set"),
        ("giao uoc dat 17:00 20/12/2024; Cam kết", "covenant set"),
        ("/deadlines add Gửi ảnh hoạt động; 17:00 19/12/2024", "deadlines add"),
        ("han chot them Gửi ảnh hoạt động; 17:00 19/12/2024", "deadlines add"),
        ("/criteria import", "criteria import"),
    ):
        assert await typist.say(hung, typed) == (
            f"Lệnh /{command} là lệnh của thường trực, chỉ dùng được trên Telegram (bot Zalo "
            "không có nút bấm, không nhận tệp). Hãy dùng tài khoản Telegram của bạn; gõ lien ket "
            "để liên kết hai tài khoản."
        )


async def test_self_scoring_on_zalo_and_the_file_from_the_linked_telegram_account(
    tg: Harness, services: Services, typist: Typist
) -> None:
    await report_setup(tg)  # Sở Y tế (An, Bình), Sở GD&ĐT (Cường), a period open
    await tg.say(SECRETARY, "/units add Sở Thông tin và Truyền thông; STTTT")
    await typist.say(HOA, await tg.invite_code("4"))
    assert (await typist.say(HOA, "báo cáo")).startswith(
        "Zalo không cho bot nhận tệp, nên tệp báo cáo năm không nộp được ở đây."
    )
    first = await typist.say(HOA, "cham diem")
    assert first.startswith("Mục 1/14 · I. Công tác chỉ đạo")
    assert first.endswith("Gõ số điểm (ví dụ 9,5); «lai» để quay lại mục trước, «huy» để thôi.")
    assert (await typist.say(HOA, "35")).startswith("⚠️ Điểm vượt quá mức tối đa (tối đa 10).")
    assert (await typist.say(HOA, "mười")).startswith("⚠️ Hãy nhập một số, ví dụ 18 hoặc 9,5.")
    summary = ""
    for value in SYT_VALUES:
        summary = await typist.say(HOA, f"{value / 100:g}".replace(".", ","))
    assert "Tổng: 102/105 điểm" in summary
    assert summary.endswith(
        "Điểm tự chấm đã được lưu. Còn thiếu tệp báo cáo, mà Zalo không gửi tệp cho bot được: "
        "hãy gửi tệp bằng Telegram (tài khoản đã liên kết, lệnh /report tiếp tục đúng bản "
        "này), hoặc gửi tệp cho thường trực để nộp thay đơn vị. Gõ «lai» để sửa mục cuối."
    )
    assert "Tệp: chưa có" in summary
    assert await versions(services, "STTTT") == []

    # Hoa links her Telegram account, sends the file there; the scores are already in.
    code = re.search(r"/link (\w{4}-\w{4})", await typist.say(HOA, "lien ket"))
    assert code is not None
    (offer,) = await tg.say(HOA_TG, f"/link {code.group(1)}")
    assert offer.text == (
        "🔗 Liên kết tài khoản này với <b>Lê Thị Hoa</b> (Zalo)?\n"
        "Sau khi liên kết, hai tài khoản là một người: mọi việc làm ở tài khoản này là của "
        "Lê Thị Hoa. Chỉ đồng ý nếu cả hai tài khoản đều là của chính bạn."
    )
    assert offer.buttons == [["✅ Đồng ý liên kết", "✖ Hủy"]]
    linked = [r for r in await tg.tap(HOA_TG, "lnk:ok") if r.text][-1]
    assert linked.text == (
        "✅ Đã liên kết: <b>Lê Thị Hoa</b> dùng Zalo và Telegram.\n"
        "Khối: Khối thi đua Văn hóa - Xã hội.\n"
        "Nhắc việc và kết quả sẽ gửi đến mọi tài khoản đã liên kết."
    )
    await tg.say(HOA_TG, "/report")
    replies = await tg.send_file(HOA_TG, "Báo cáo STTTT.pdf", b"%PDF-1.7 bao cao TTTT")
    assert "<b>Tổng: 102/105 điểm</b>" in replies[-1].text

    # Back on Zalo the same draft is ready to submit: "1" submits it.
    ready = await typist.say(HOA, "cham diem")
    assert "Tệp: Báo cáo STTTT.pdf" in ready
    assert ready.endswith(
        "Gõ 1 để xác nhận nộp, «lai» để sửa mục cuối, «huy» để thôi; sau khi nộp vẫn có thể "
        "nộp lại trước hạn (phiên bản mới)."
    )
    receipt = await typist.say(HOA, "1")
    assert receipt.startswith("✅ Biên nhận báo cáo\nKỳ: Báo cáo tổng kết năm 2024")
    (version,) = await versions(services, "STTTT")
    assert version.file_name == "Báo cáo STTTT.pdf"
    assert (version.self_total_cp, version.late) == (10200, False)
    assert version.submitted_by == (await identity(services, HOA_TG)).id


async def test_the_covenant_the_language_and_help_by_text(
    tg: Harness, services: Services, typist: Typist
) -> None:
    await mixed_conference(tg, typist)
    assert await typist.say(HOA, "giao uoc") == ("Khối chưa có giao ước thi đua năm 2025.")
    await tg.say(SECRETARY, "/covenant set 17:00 20/12/2024; Các đơn vị cam kết thi đua.")
    shown = await typist.say(HOA, "Giao ước")
    assert shown.startswith("📜 Giao ước thi đua năm 2025 — Khối thi đua Văn hóa - Xã hội")
    assert "Sở Thông tin và Truyền thông chưa ký. Đọc kỹ nội dung rồi gõ ky để ký;" in shown
    assert await typist.say(HOA, "ky") == (
        "Ký giao ước thi đua thay mặt đơn vị? Chữ ký được ghi lại kèm tên người ký và thời "
        "gian, không sửa được.\nGõ 1 để xác nhận ký, 2 để thôi."
    )
    assert await typist.say(HOA, "2") == "Chưa ký. Gõ giao uoc khi sẵn sàng."
    async with services.db.uow() as uow:
        assert (await uow.session.exec(select(CovenantSignatureRow))).all() == []
    await typist.say(HOA, "giao uoc")
    await typist.say(HOA, "ky")
    signed = await typist.say(HOA, "1")
    assert signed.startswith("✅ Sở Thông tin và Truyền thông đã ký giao ước thi đua năm 2025")
    async with services.db.uow() as uow:
        (row,) = (await uow.session.exec(select(CovenantSignatureRow))).all()
        signer = row.identity_id
    assert signer == await zbot_identity(services)
    assert "✅ Sở Thông tin và Truyền thông đã ký (Lê Thị Hoa" in await typist.say(HOA, "giao uoc")

    # English on request, and its words; back to Vietnamese.
    assert await typist.say(HOA, "ngon ngu en") == "Language set to English."
    assert (await typist.say(HOA, "help")).startswith("Commands on Zalo")
    assert (await typist.say(HOA, "vote")).startswith("Nothing is open for voting right now.")
    assert await typist.say(HOA, "lang vi") == "Đã chuyển sang Tiếng Việt."
    assert (await typist.say(HOA, "/tro_giup")).startswith("Các lệnh trên Zalo")

    # The secretariat's commands are named as Telegram's; a number with no menu is a hint.
    assert await typist.say(HOA, "/ballot open 1") == (
        "Lệnh /ballot là lệnh của thường trực, chỉ dùng được trên Telegram (bot Zalo không có "
        "nút bấm, không nhận tệp). Hãy dùng tài khoản Telegram của bạn; gõ lien ket để liên "
        "kết hai tài khoản."
    )
    assert await typist.say(HOA, "2") == UNKNOWN
    assert await typist.say(HOA, "tôi đồng ý với dự thảo") == UNKNOWN


async def test_linking_telegram_and_zalo(tg: Harness, services: Services, typist: Typist) -> None:
    await mixed_conference(tg, typist)

    # /me on Telegram offers the link; the code works once, on the other platform.
    (me,) = await tg.say(AN, "/me")
    assert me.buttons == [["🔗 Liên kết Zalo"]]
    assert me.text.endswith(
        "Dùng cả Zalo? Gõ /link (hoặc bấm nút dưới) để lấy mã liên kết hai tài khoản."
    )
    (issued,) = await tg.tap(AN, "lnk:new")
    code = re.search(r"lien ket (\w{4}-\w{4})", issued.text)
    assert code is not None
    assert issued.text.startswith(f"🔗 Mã liên kết: <code>{code.group(1)}</code>\n")
    assert await typist.say(LINH, f"lien ket {code.group(1).lower()}") == (
        "🔗 Liên kết tài khoản này với Trần Văn An (Telegram)?\n"
        "Sau khi liên kết, hai tài khoản là một người: mọi việc làm ở tài khoản này là của "
        "Trần Văn An. Chỉ đồng ý nếu cả hai tài khoản đều là của chính bạn.\n"
        "Gõ 1 để đồng ý, 2 để thôi."
    )
    assert await typist.say(LINH, "1") == (
        "✅ Đã liên kết: Trần Văn An dùng Telegram và Zalo.\n"
        "Khối: Khối thi đua Văn hóa - Xã hội.\n"
        "Nhắc việc và kết quả sẽ gửi đến mọi tài khoản đã liên kết."
    )
    an = await identity(services, AN)
    async with services.db.uow() as uow:
        on_zalo = await uow.identities.by_account(Platform.ZALO, LINH.id)
        codes = [
            (c.used_at is not None, c.code_hash)
            for c in await uow.session.exec(select(LinkCodeRow))
        ]
    assert on_zalo is not None
    assert on_zalo.id == an.id
    assert [used for used, _ in codes] == [True]
    assert code.group(1).replace("-", "") not in str(codes)  # only a hash is kept
    assert "Đơn vị: Sở Y tế" in await typist.say(LINH, "toi")
    assert [a for a, _ in await audit_trail(services) if a == "identity.linked"] == [
        "identity.linked"
    ]
    # Linh now acts for Sở Y tế on Zalo: her vote is An's unit's.
    await tg.say(SECRETARY, "/ballot open 1")
    await typist.say(LINH, "bo phieu 1 1")
    await typist.say(LINH, "ok")
    report = (await ballot_ids(services))[0]
    assert [(v.unit, v.by) for v in await open_votes(services, report)] == [("SYT", an.id)]

    # Used, wrong, own and conflicting codes are refused and change nothing.
    bad = (
        "Mã liên kết không đúng, đã dùng hoặc đã hết hạn. Mã gồm 8 ký tự, dạng XXXX-XXXX, "
        "dùng một lần trong 10 phút. Hãy lấy mã mới bằng /me ở tài khoản kia."
    )
    assert await typist.say(HOA, f"lien ket {code.group(1)}") == bad
    assert await typist.say(HOA, "link ABCD") == bad
    mine = re.search(r"/link (\w{4}-\w{4})", await typist.say(HOA, "lien ket"))
    assert mine is not None
    assert await typist.say(HOA, f"lien ket {mine.group(1)}") == (
        "Mã này được tạo từ chính tài khoản này. Hãy gửi mã ở nền tảng còn lại (Telegram ↔ Zalo)."
    )
    fresh = re.search(r"/link (\w{4}-\w{4})", await typist.say(HOA, "lien ket"))
    assert fresh is not None
    (refused,) = await tg.say(CUONG, f"/link {fresh.group(1)}")
    assert refused.text == (
        "Không thể liên kết: hai tài khoản đại diện cho hai đơn vị khác nhau trong "
        "Khối thi đua Văn hóa - Xã hội. Không có gì thay đổi."
    )
    cuong = await identity(services, CUONG)
    assert cuong.accounts[0].platform is Platform.TELEGRAM
    assert len(cuong.accounts) == 1

    # Guessing is stopped after five wrong codes.
    for _ in range(5):
        await tg.say(DUNG, "/link 0000-0000")
    (locked,) = await tg.say(DUNG, "/link 0000-0001")
    assert locked.text == "Bạn đã nhập sai mã quá nhiều lần. Vui lòng thử lại sau 10 phút."


async def test_a_vote_confirmed_while_a_link_offer_waits_keeps_the_offer(
    tg: Harness, services: Services, typist: Typist
) -> None:
    """The offer to link waits in the chat's conversation data; confirming a vote in between
    used to clear all of it, and «Đồng ý» then said the button was stale."""
    await mixed_conference(tg, typist)
    await tg.say(SECRETARY, "/ballot open 1")
    report = (await ballot_ids(services))[0]
    code = re.search(r"/link (\w{4}-\w{4})", await typist.say(LINH, "lien ket"))
    assert code is not None
    (offer,) = await tg.say(AN, f"/link {code.group(1)}")
    assert offer.buttons == [["✅ Đồng ý liên kết", "✖ Hủy"]]

    before = await identity(services, AN)
    await tg.tap(AN, f"vt:{report}:pick:0")
    (cast,) = await tg.tap(AN, f"vt:{report}:ok:0")
    assert cast.text == (
        "✅ Đã ghi nhận biểu quyết của <b>Sở Y tế</b>: Đồng ý.\n"
        "Thông qua dự thảo báo cáo tổng kết: 1/4 đơn vị đã biểu quyết."
    )

    (linked,) = await tg.tap(AN, "lnk:ok")
    assert linked.text == (
        "✅ Đã liên kết: <b>Vũ Thị Linh</b> dùng Telegram và Zalo.\n"
        "Khối: Khối thi đua Văn hóa - Xã hội.\n"
        "Nhắc việc và kết quả sẽ gửi đến mọi tài khoản đã liên kết."
    )
    an = await identity(services, AN)
    assert [a.platform for a in an.accounts] == [Platform.TELEGRAM, Platform.ZALO]
    assert [(v.unit, v.by) for v in await open_votes(services, report)] == [("SYT", before.id)]


async def test_a_zalo_menu_in_redis_is_answered_by_another_worker(
    tg: Harness, services: Services, zalo: FakeZalo, redis_url: str
) -> None:
    """Scaled out, the next message may reach another worker: the menu waits in Redis, and
    what waits there for a secret ballot is sealed (no choice in clear)."""
    first_storage = conversation_storage(redis_url)
    second_storage = conversation_storage(redis_url)
    client = ZaloClient(TOKEN, zalo.url, backoff=0.01)
    try:
        one = Typist(zalo, ZaloBot(services, client, first_storage))
        other = Typist(zalo, ZaloBot(services, client, second_storage))
        await mixed_conference(tg, one)
        await tg.say(SECRETARY, "/ballot open 6")
        assert await one.say(HOA, "bo phieu 6") == LEADER_MENU
        assert await other.say(HOA, "2") == confirm(
            "Bầu Trưởng khối năm sau", "Sở Giáo dục và Đào tạo", secret=True
        )
        redis = Redis.from_url(redis_url)
        keys = await redis.keys("zalo-fsm:*")  # the Zalo conversations, apart from Telegram's
        values = [await redis.get(k) for k in keys]
        stored = "".join(v.decode() if isinstance(v, bytes) else str(v) for v in values)
        await redis.aclose()
        assert '"menu": "confirm"' in stored
        assert '"held": "s:' in stored
        assert "Giáo dục" not in stored
        assert "Gi\\u00e1o" not in stored  # nor JSON-escaped
        assert (await one.say(HOA, "Xac nhan")).startswith("✅ Phiếu kín của Sở Thông tin")
        leader = (await ballot_ids(services))[5]
        assert (await secret_rows(services, leader)).box == 1
    finally:
        await first_storage.close()
        await second_storage.close()
        await client.close()


async def test_notices_say_what_to_type_and_da_nhan_acknowledges(
    tg: Harness, services: Services, zalo: FakeZalo, zbot: ZaloBot, typist: Typist
) -> None:
    """A notice's button becomes the words that do the same on Zalo; «da nhan» acknowledges
    the secretariat's deadline (the only one waiting, or the one picked by number)."""
    channels = Channels(
        {Platform.TELEGRAM: TelegramNotifier(tg.bot), Platform.ZALO: ZaloNotifier(zbot.client)}
    )
    sender = Sender(services.db, channels, NoRateLimit(), services.clock, services.renderer)
    tg.sender = sender
    await mixed_conference(tg, typist)
    assert await typist.say(HOA, "da nhan") == (
        "Đơn vị không có hạn chót nào đang chờ xác nhận «Đã nhận». Gõ han chot để xem các "
        "hạn chót."
    )
    await tg.say(SECRETARY, "/deadlines add Gửi ảnh hoạt động thi đua; 17:00 19/12/2024")
    notice = zalo.texts_to(HOA)[-1]
    assert notice.endswith(
        "Gõ da nhan để thường trực biết đơn vị đã nắm được.\n→ ✅ Đã nhận: da nhan"
    )
    await tg.say(SECRETARY, "/ballot open 1")
    assert zalo.texts_to(HOA)[-1].endswith(
        "Gõ bo phieu để biểu quyết cho đơn vị.\n→ 🗳 Biểu quyết: bo phieu"
    )
    assert await typist.say(HOA, "Đã nhận") == (
        "✅ Đã ghi nhận: Sở Thông tin và Truyền thông đã nhận «Gửi ảnh hoạt động thi đua» "
        "(hạn 17:00 thứ Năm, 19/12/2024)."
    )
    await tg.say(SECRETARY, "/deadlines add Gửi danh sách đại biểu; 17:00 18/12/2024")
    await tg.say(SECRETARY, "/deadlines add Gửi tham luận; 17:00 17/12/2024")
    menu = await typist.say(HOA, "da nhan")
    assert menu.startswith("Các hạn chót đang chờ đơn vị xác nhận «Đã nhận»:\n")
    assert menu.endswith("Gõ số của hạn chót đơn vị đã nhận.")
    number = re.search(r"^(\d+)\. Gửi tham luận", menu, re.MULTILINE)
    assert number is not None
    assert (await typist.say(HOA, number.group(1))).startswith(
        "✅ Đã ghi nhận: Sở Thông tin và Truyền thông đã nhận «Gửi tham luận»"
    )
    assert "Gửi tham luận" not in await typist.say(HOA, "da nhan")  # one is left: done at once


async def test_an_invite_of_another_unit_asks_to_move_on_zalo(tg: Harness, typist: Typist) -> None:
    """A representative sending another unit's code was told to use it on Telegram: Zalo now
    asks as Telegram does — «2» stays (the code is not used), «1» moves."""
    await tg.admin_setup(units=VOTE_UNITS)
    await typist.say(HOA, await tg.invite_code("4"))
    code = await tg.invite_code("3")
    asked = (
        "Bạn đang là đại diện của Sở Thông tin và Truyền thông trong Khối thi đua Văn hóa - Xã "
        "hội.\nMã mời này dành cho Sở Văn hóa, Thể thao và Du lịch. Mỗi người chỉ đại diện cho "
        "một đơn vị trong một khối. Chuyển sang Sở Văn hóa, Thể thao và Du lịch?\n"
        "Gõ 1 để chuyển, 2 để giữ như cũ."
    )
    assert await typist.say(HOA, code) == asked
    assert await typist.say(HOA, "2") == (
        "Đã hủy. Bạn vẫn là đại diện của đơn vị cũ; mã mời chưa được sử dụng."
    )
    assert await typist.say(HOA, code) == asked
    assert await typist.say(HOA, "1") == (
        "✅ Bạn đã tham gia Khối thi đua Văn hóa - Xã hội với tư cách đại diện của Sở Văn hóa, "
        "Thể thao và Du lịch.\nBạn không còn đại diện cho Sở Thông tin và Truyền thông.\n"
        "Gõ tro giup để xem các lệnh."
    )
    me = await typist.say(HOA, "toi")
    assert "Sở Văn hóa, Thể thao và Du lịch" in me
    assert "Sở Thông tin và Truyền thông" not in me


WEB = "https://thidua.example.vn/web"


async def test_each_platform_is_told_what_to_do_there(
    tg: Harness,
    services: Services,
    zalo: FakeZalo,
    zbot: ZaloBot,
    typist: Typist,
    clock: FakeClock,
) -> None:
    """A notice is rendered for the chat it goes to: Telegram names its command, Zalo the
    word typed there or, with the web companion on, the page's address — never a Telegram
    command a Zalo reader cannot use (a Zalo representative was told «Gõ /report»)."""
    channels = Channels(
        {Platform.TELEGRAM: TelegramNotifier(tg.bot), Platform.ZALO: ZaloNotifier(zbot.client)}
    )
    tg.sender = Sender(services.db, channels, NoRateLimit(), services.clock, services.renderer)
    await report_setup(tg)
    await tg.say(SECRETARY, "/units add Sở Thông tin và Truyền thông; STTTT")
    await typist.say(HOA, await tg.invite_code("4"))

    services.web_url = WEB
    told = await tg.say(SECRETARY, "/period new tổng kết; Báo cáo bổ sung; 20/12/2024 17:00")
    opened = (
        "📋 Khối thi đua Văn hóa - Xã hội đã mở kỳ «Báo cáo bổ sung». Hạn chót: 17:00 "
        "20/12/2024.\n"
    )
    assert zalo.texts_to(HOA)[-1] == (
        f"{opened}Mở {WEB}/report để gửi báo cáo và tự chấm điểm cho đơn vị."
    )
    # Telegram is told as before.
    assert [r.text for r in told if r.chat_id == AN.id] == [
        f"{opened}Gõ /report để gửi báo cáo và tự chấm điểm cho đơn vị."
    ]
    # Without the web companion, the Zalo word (which says how the file can come).
    services.web_url = None
    await tg.say(SECRETARY, "/period new tổng kết; Báo cáo quý IV; 21/12/2024 17:00")
    assert zalo.texts_to(HOA)[-1].splitlines()[1] == (
        "Gõ bao cao để gửi báo cáo và tự chấm điểm cho đơn vị."
    )

    services.web_url = WEB
    await tg.say(SECRETARY, "/covenant set 17:00 20/12/2024; Các đơn vị cam kết thi đua.")
    assert (
        zalo.texts_to(HOA)[-1]
        .splitlines()[0]
        .endswith(f"Gõ giao uoc để đọc và ký cho đơn vị (hoặc mở {WEB}/covenant).")
    )
    # What Hoa types on Zalo is answered with Zalo's words too.
    assert (await typist.say(HOA, "giao uoc")).startswith("📜")
    assert await typist.say(HOA, "1") == (
        "Ký giao ước thi đua thay mặt đơn vị? Chữ ký được ghi lại kèm tên người ký và thời "
        "gian, không sửa được.\nGõ 1 để xác nhận ký, 2 để thôi."
    )
    assert await typist.say(HOA, "2") == "Chưa ký. Gõ giao uoc khi sẵn sàng."

    # A week before the first period's deadline, the reminder on Zalo gives the report page.
    clock.advance(timedelta(days=14))
    await plan_reminders(services, clock.now())
    await tg.flush()
    reminder = zalo.texts_to(HOA)[-1]
    assert reminder.startswith("⏰ Nhắc hạn — Sở Thông tin và Truyền thông\nBáo cáo «")
    assert reminder.endswith(
        f"Nộp báo cáo và tự chấm điểm trên trang web: {WEB}/report\n→ 📄 Nộp báo cáo: bao cao"
    )


async def test_the_standings_chart_as_a_photo_when_a_files_url_is_set(
    tg: Harness, services: Services, zalo: FakeZalo, typist: Typist, tmp_path: Path
) -> None:
    """Zalo's sendPhoto takes a URL: the chart is stored by its hash and served on the bot's
    webhook server at /zalo/charts/; nothing else is served there."""
    client = ZaloClient(TOKEN, zalo.url, backoff=0.01)
    runner: web.AppRunner | None = None
    try:
        await mixed_conference(tg, typist)
        app = web.Application()
        runner = web.AppRunner(app)
        shelf = ChartShelf(tmp_path / "zalo-charts", "http://placeholder")
        charted = Typist(zalo, ZaloBot(services, client, charts=shelf))
        charted.zbot.mount(app, "webhook-secret-0123456789")
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}/zalo/charts"
        shelf.base_url = base

        answer = await charted.say(HOA, "xep hang")
        assert answer.startswith("📊 Bảng xếp hạng — Khối thi đua Văn hóa - Xã hội")
        (photo,) = [s for s in zalo.sent if s.method == "sendPhoto"]
        assert photo.chat_id == HOA.id
        assert re.fullmatch(rf"{base}/[0-9a-f]{{64}}\.png", photo.photo)
        assert photo.text.startswith("📊")
        async with aiohttp.ClientSession() as http:
            async with http.get(photo.photo) as reply:
                assert reply.status == 200
                assert reply.content_type == "image/png"
                assert (await reply.read())[:8] == b"\x89PNG\r\n\x1a\n"
            for wrong in ("x.png", "..%2F..%2Fetc%2Fpasswd", "0" * 64 + ".docx"):
                async with http.get(f"{base}/{wrong}") as reply:
                    assert reply.status == 404

        # Without the setting, the text alone.
        assert (await typist.say(HOA, "xep hang")).startswith("📊 Bảng xếp hạng")
        assert len([s for s in zalo.sent if s.method == "sendPhoto"]) == 1
    finally:
        if runner is not None:
            await runner.cleanup()
        await client.close()


async def test_what_the_review_found_stays_fixed(
    tg: Harness,
    services: Services,
    zalo: FakeZalo,
    zbot: ZaloBot,
    typist: Typist,
    clock: FakeClock,
) -> None:
    """A confirm typed long after its menu casts nothing; a receipt or a command typed while
    a menu waits is read as such; «ok» sent twice at once confirms once."""
    await mixed_conference(tg, typist)
    await tg.say(SECRETARY, "/ballot open 1")
    await tg.say(SECRETARY, "/ballot open 6")
    leader = (await ballot_ids(services))[5]
    report = (await ballot_ids(services))[0]

    await typist.say(HOA, "bo phieu 6 2")
    clock.advance(timedelta(minutes=11))
    assert await typist.say(HOA, "ok") == (
        "Lựa chọn trước đã hết hạn (sau 10 phút) nên không có gì được ghi nhận. Hãy gõ lại "
        "lệnh, ví dụ bo phieu."
    )
    assert await secret_rows(services, leader) == SecretRows([], 0, 0, 0)

    # A command while a menu waits is the command; so is a receipt code.
    await typist.say(HOA, "bo phieu 6")
    assert (await typist.say(HOA, "xep hang")).startswith("📊 Bảng xếp hạng")
    await typist.say(HOA, "bo phieu 6")
    assert (await typist.say(HOA, "ABCD-EFGH-JKMN")).startswith("❔ Không tìm thấy phiếu")

    # «ok» twice at once: one vote, one "nothing to confirm".
    await typist.say(HOA, "bo phieu 1 1")
    first, second = zalo.update(HOA, "ok"), zalo.update(HOA, "ok")
    first_update, second_update = parse_update(first), parse_update(second)
    assert first_update is not None
    assert second_update is not None
    await asyncio.gather(zbot.handle(first_update), zbot.handle(second_update))
    actions = [a for a, _ in await audit_trail(services) if a.startswith("vote.")]
    assert actions == ["vote.cast"]
    assert len(await open_votes(services, report)) == 1


QUIET = (
    "Bạn chưa tham gia khối thi đua nào nên bot tạm ngừng trả lời bạn trong khoảng 60 phút. "
    "Mã mời của đơn vị (hoặc mã liên kết: lien ket MÃ) vẫn được nhận bất cứ lúc nào."
)


async def test_a_stranger_past_the_answer_budget_is_told_once_and_a_code_still_joins(
    tg: Harness, typist: Typist
) -> None:
    """Someone in no bloc gets ten answers an hour (the quota is the bloc's), then is told
    once that the bot goes quiet; an invite code is read before any budget (a secretary's
    code was ignored for an hour)."""
    await tg.admin_setup(units=VOTE_UNITS)
    stranger = ZaloUser("8899000000000000001", "Người lạ")
    answers = [await typist.say(stranger, f"xin chào {i}") for i in range(13)]
    assert answers == [UNKNOWN] * 10 + [QUIET, "", ""]
    assert await typist.say(stranger, "ABCD-EFGH-JKMN-PQRS") == ""  # a wrong code: quiet too
    code = await tg.invite_code("secretariat")
    assert (await typist.say(stranger, code)).startswith("✅ Bạn đã tham gia")
    assert await typist.say(stranger, "xin chào") == UNKNOWN  # a member: answered again


async def test_linking_carries_work_in_progress_and_tells_the_code_owner(
    tg: Harness, services: Services, zbot: ZaloBot, typist: Typist
) -> None:
    channels = Channels(
        {Platform.TELEGRAM: TelegramNotifier(tg.bot), Platform.ZALO: ZaloNotifier(zbot.client)}
    )
    sender = Sender(services.db, channels, NoRateLimit(), services.clock, services.renderer)
    tg.sender = sender
    await report_setup(tg)
    await tg.say(SECRETARY, "/units add Sở Thông tin và Truyền thông; STTTT")
    await typist.say(HOA, await tg.invite_code("4"))
    await typist.say(HOA, "cham diem")
    for value in ("10", "20", "10", "8", "5"):
        await typist.say(HOA, value)
    # (still scoring: a command typed now is the command, not a bad score)

    # Hoa's Telegram account (new, in no bloc) issues the code; her Zalo account joins it.
    (issued,) = await tg.say(HOA_TG, "/link")
    code = re.search(r"lien ket (\w{4}-\w{4})", issued.text)
    assert code is not None
    assert (await typist.say(HOA, f"lien ket {code.group(1)}")).startswith("🔗 Liên kết")
    assert (await typist.say(HOA, "1")).startswith("✅ Đã liên kết: Lê Thị Hoa dùng Zalo và")
    async with services.db.uow() as uow:
        told = [
            (r.platform, r.chat_id, r.text)
            for r in await uow.session.exec(
                select(OutboxRow).where(col(OutboxRow.dedup_key).startswith("linked:"))
            )
        ]
    # The code's owner is told on the account they had, not on the one just linked.
    assert told == [
        (
            "telegram",
            str(HOA_TG.id),
            "🔗 Tài khoản Zalo «Lê Thị Hoa» vừa được liên kết với bạn: từ nay tài khoản đó hành "
            "động với tư cách của bạn. Nếu không phải bạn liên kết, hãy báo ngay thường trực "
            "khối.",
        )
    ]
    # The five scores typed on Zalo are still there: scoring goes on at item 6.
    assert (await typist.say(HOA, "cham diem")).startswith("Mục 6/14")

    # One account per platform: a second Telegram account cannot be linked into Hoa.
    other = person(2600, "Khác", "Người")
    (issued,) = await tg.say(other, "/link")
    code = re.search(r"lien ket (\w{4}-\w{4})", issued.text)
    assert code is not None
    assert await typist.say(HOA, f"lien ket {code.group(1)}") == (
        "Người tạo mã đã liên kết một tài khoản Telegram khác. Mỗi người chỉ liên kết một tài "
        "khoản trên mỗi nền tảng; nếu cần đổi, hãy liên hệ thường trực khối."
    )
