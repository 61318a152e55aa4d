"""Invites and joining: issuing, revoking, joining by link or typed code, refusals, moving."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

from bot.core.models import Role
from bot.fakes.clock import FakeClock
from bot.services.app import Services
from handlers.telegram.ui import MoveCb
from tests.handlers.conftest import SECRETARY, Harness, Reply
from tests.handlers.support import (
    AN,
    BINH,
    BLOC,
    BLOC_CODE,
    CUONG,
    STRANGER,
    UNITS,
    bloc_by_code,
    invite,
    issued,
    join,
    joined_text,
    members,
    membership,
    plain,
    units_of,
)

S = SECRETARY.id
EXPIRED = "Mã mời này đã hết hạn. Hãy xin thường trực khối cấp mã mới."
REVOKED = "Mã mời này đã bị thu hồi. Hãy xin thường trực khối cấp mã mới."
USED = (
    "Mã mời này đã được sử dụng. Mỗi mã chỉ dùng được số lần thường trực đã định; "
    "hãy xin mã mới nếu cần."
)
UNKNOWN = (
    "Không tìm thấy mã mời này. Hãy kiểm tra lại từng ký tự hoặc xin thường trực khối cấp mã mới."
)
MALFORMED = (
    "Đây không phải là một mã mời hợp lệ. Mã mời gồm 16 ký tự, ví dụ "
    "<code>ABCD-EFGH-JKMN-PQRS</code>. Hãy kiểm tra lại tin nhắn của thường trực khối."
)


def limited(minutes: int) -> str:
    return f"Bạn đã nhập sai mã quá nhiều lần. Vui lòng thử lại sau {minutes} phút."


def to_secretariat(person: str, unit: str, moved_from: str | None = None) -> tuple[int, str]:
    text = f"👤 {person} đã tham gia <b>{BLOC}</b>: đại diện {unit}."
    if moved_from:
        text += f" (chuyển từ {moved_from})"
    return (S, text)


async def unit_ids(services: Services) -> dict[str, int]:
    bloc = await bloc_by_code(services, BLOC_CODE)
    return {u.short_name: u.id for u in await units_of(services, bloc)}


# --- issuing ---------------------------------------------------------------------------


async def test_invite_for_a_unit_by_number_or_name(tg: Harness, services: Services) -> None:
    await tg.admin_setup(units=UNITS)

    assert plain(await tg.say(SECRETARY, "/invite 1")) == [
        (
            S,
            "🔑 Mã mời đại diện <b>Sở Y tế</b>\n"
            "Liên kết: https://t.me/thidua_test_bot?start=0000000000000001\n"
            "Mã: <code>0000-0000-0000-0001</code>\n"
            "Hết hạn: 08:00 09/12/2024; dùng được 1 lần.",
        )
    ]
    # Re-issuing replaces the unit's open code; a count sets how many may use the new one.
    assert plain(await tg.say(SECRETARY, "/invite SYT 3")) == [
        (S, issued("đại diện <b>Sở Y tế</b>", 2, uses=3, replaced=1))
    ]
    assert (await invite(services, "0000000000000001")).revoked_at is not None
    assert plain(await tg.say(SECRETARY, "/invite so van hoa, the thao va du lich")) == [
        (S, issued("đại diện <b>Sở Văn hóa, Thể thao và Du lịch</b>", 3))
    ]


async def test_invite_refusals(tg: Harness, services: Services) -> None:
    await tg.say(SECRETARY, f"/bloc new {BLOC}; Khối; 2024; {BLOC_CODE}")
    assert plain(await tg.say(SECRETARY, "/invite all")) == [
        (S, "Khối chưa có đơn vị nào. Dùng /units import hoặc /units add.")
    ]
    await tg.say(SECRETARY, "/units add Sở Y tế; SYT")
    cases = {
        "/invite": (
            "Cách dùng:\n"
            "/invite ĐƠN_VỊ [số lần dùng] — mã mời đại diện (số thứ tự, tên viết tắt hoặc "
            "tên đơn vị)\n"
            "/invite all — mã mời cho mọi đơn vị chưa có đại diện\n"
            "/invite secretariat — mời thêm thường trực (48 giờ)\n"
            "/invite observer — mời thành viên theo dõi (48 giờ)\n"
            "/invite revoke ĐƠN_VỊ — thu hồi mã mời của đơn vị"
        ),
        "/invite 2": "Không tìm thấy đơn vị «2» trong khối. Xem danh sách: /units",
        "/invite Sở Nội vụ": "Không tìm thấy đơn vị «Sở Nội vụ» trong khối. Xem danh sách: /units",
        "/invite 1 21": "Số lần dùng phải từ 1 đến 20.",
        "/invite 1 0": "Số lần dùng phải từ 1 đến 20.",
        "/invite revoke 5": "Không tìm thấy đơn vị «5» trong khối. Xem danh sách: /units",
    }
    for command, refusal in cases.items():
        assert plain(await tg.say(SECRETARY, command)) == [(S, refusal)], command
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        assert await uow.invites.active(bloc.id, services.clock.now()) == []


async def test_invite_all_skips_units_that_have_a_representative(tg: Harness) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")  # code 1

    replies = await tg.say(SECRETARY, "/invite all")

    assert plain(replies) == [
        (
            S,
            "Cấp 2 mã mời cho các đơn vị chưa có đại diện. Chuyển từng tin dưới đây cho đơn vị "
            "tương ứng (qua tin nhắn riêng, không gửi vào nhóm).",
        ),
        (S, issued("đại diện <b>Sở Giáo dục và Đào tạo</b>", 2)),
        (S, issued("đại diện <b>Sở Văn hóa, Thể thao và Du lịch</b>", 3)),
    ]
    assert plain(await tg.say(BINH, "0000-0000-0000-0003")) == [
        (BINH.id, joined_text("Sở Văn hóa, Thể thao và Du lịch")),
        to_secretariat("Lê Thị Bình", "Sở Văn hóa, Thể thao và Du lịch"),
    ]


async def test_staff_invites_for_secretariat_and_observer(tg: Harness, services: Services) -> None:
    await tg.admin_setup(units=UNITS)
    bloc = await bloc_by_code(services, BLOC_CODE)
    staff_expiry = "08:00 27/11/2024"  # 48 hours

    assert plain(await tg.say(SECRETARY, "/invite secretariat")) == [
        (S, issued("thường trực", 1, expires=staff_expiry))
    ]
    assert plain(await tg.say(SECRETARY, "/invite observer")) == [
        (S, issued("thành viên theo dõi", 2, expires=staff_expiry))
    ]
    assert plain(await tg.say(CUONG, "/start 0000000000000001")) == [
        (
            CUONG.id,
            f"✅ Bạn đã tham gia <b>{BLOC}</b> với vai trò thường trực.\n"
            "Gõ /help để xem các lệnh.",
        ),
        (S, f"👤 Phạm Văn Cường đã tham gia <b>{BLOC}</b>: thường trực."),
    ]
    # The observer's arrival is told to both secretariat members.
    assert plain(await tg.say(STRANGER, "/start 0000000000000002")) == [
        (
            STRANGER.id,
            f"✅ Bạn đã tham gia <b>{BLOC}</b> với vai trò thành viên theo dõi.\n"
            "Gõ /help để xem các lệnh.",
        ),
        (S, f"👤 Hoàng Minh đã tham gia <b>{BLOC}</b>: thành viên theo dõi."),
        (CUONG.id, f"👤 Hoàng Minh đã tham gia <b>{BLOC}</b>: thành viên theo dõi."),
    ]
    assert await members(services, bloc) == [
        ("Nguyễn Thị Lan", None, ["secretariat"]),
        ("Phạm Văn Cường", None, ["secretariat"]),
        ("Hoàng Minh", None, ["observer"]),
    ]
    # A second secretariat code for someone who already is one stays unused.
    code = await tg.invite_code("secretariat")
    assert plain(await tg.say(CUONG, code)) == [
        (CUONG.id, f"Bạn đã là thường trực trong <b>{BLOC}</b>. Mã mời chưa được sử dụng.")
    ]
    assert (await invite(services, code)).uses == 0


async def test_invite_revoke(tg: Harness, services: Services) -> None:
    await tg.admin_setup(units=UNITS)
    code = await tg.invite_code("1")

    assert plain(await tg.say(SECRETARY, "/invite revoke 1")) == [
        (S, "Đã thu hồi 1 mã mời của Sở Y tế.")
    ]
    assert plain(await tg.say(SECRETARY, "/invite revoke SYT")) == [
        (S, "Đã thu hồi 0 mã mời của Sở Y tế.")
    ]
    assert plain(await tg.say(AN, f"/start {code}")) == [(AN.id, REVOKED)]
    assert await membership(services, AN, await bloc_by_code(services, BLOC_CODE)) is None


async def test_a_decomposed_unit_name_finds_the_unit(tg: Harness) -> None:
    await tg.admin_setup(units=UNITS)
    nfd = unicodedata.normalize("NFD", "Sở Y tế")
    assert nfd != "Sở Y tế"
    assert plain(await tg.say(SECRETARY, f"/invite {nfd}")) == [
        (S, issued("đại diện <b>Sở Y tế</b>", 1))
    ]
    nfd_other = unicodedata.normalize("NFD", "Sở Văn hóa, Thể thao và Du lịch")
    assert plain(await tg.say(SECRETARY, f"/invite revoke {nfd_other}")) == [
        (S, "Đã thu hồi 0 mã mời của Sở Văn hóa, Thể thao và Du lịch.")
    ]


# --- joining -----------------------------------------------------------------------------


async def test_joining_tells_the_units_representatives_and_the_secretariat(
    tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=UNITS)
    bloc = await bloc_by_code(services, BLOC_CODE)
    services.token_bytes = lambda _n: bytes.fromhex("5a3c9e71d2b84f06ac1d")
    assert plain(await tg.say(SECRETARY, "/invite 1 2"))[0][1].startswith(
        "🔑 Mã mời đại diện <b>Sở Y tế</b>\n"
        "Liên kết: https://t.me/thidua_test_bot?start=B8Y9WWEJQ17GDB0X\n"
        "Mã: <code>B8Y9-WWEJ-Q17G-DB0X</code>\n"
    )

    # Through the deep link: the secretariat hears of it.
    assert plain(await tg.say(AN, "/start B8Y9WWEJQ17GDB0X")) == [
        (AN.id, joined_text("Sở Y tế")),
        to_secretariat("Trần Văn An", "Sở Y tế"),
    ]
    # Typed by hand, lower case, with dashes and an O for a zero: the colleague hears too.
    assert plain(await tg.say(BINH, "b8y9-wwej-q17g-dbox")) == [
        (BINH.id, joined_text("Sở Y tế")),
        (AN.id, f"👤 Lê Thị Bình vừa tham gia làm đại diện của <b>Sở Y tế</b> ({BLOC})."),
        to_secretariat("Lê Thị Bình", "Sở Y tế"),
    ]
    syt = (await unit_ids(services))["SYT"]
    assert await members(services, bloc) == [
        ("Nguyễn Thị Lan", None, ["secretariat"]),
        ("Trần Văn An", syt, ["representative"]),
        ("Lê Thị Bình", syt, ["representative"]),
    ]
    assert (await invite(services, "B8Y9WWEJQ17GDB0X")).uses == 2
    assert plain(await tg.say(AN, "/me")) == [
        (
            AN.id,
            "<b>Trần Văn An</b>\nMã tài khoản: <code>telegram:2001</code>\n"
            f"• {BLOC} [{BLOC_CODE}] ← đang làm việc\n"
            "   Đơn vị: Sở Y tế; Vai trò: đại diện đơn vị",
        )
    ]


async def test_start_without_a_code_greets(tg: Harness) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    assert plain(await tg.say(STRANGER, "/start")) == [
        (
            STRANGER.id,
            "Xin chào Hoàng Minh! Đây là trợ lý công tác thi đua của Khối/Cụm thi đua.\n"
            "Để tham gia, hãy mở liên kết mời mà thường trực khối gửi cho đơn vị bạn, hoặc gửi "
            "mã mời (ví dụ <code>ABCD-EFGH-JKMN-PQRS</code>).",
        )
    ]
    assert plain(await tg.say(AN, "/start")) == [
        (
            AN.id,
            "Xin chào Trần Văn An! Đây là trợ lý công tác thi đua của Khối/Cụm thi đua.\n"
            "Gõ /help để xem các lệnh của bạn.",
        )
    ]


async def test_an_expired_code(tg: Harness, services: Services, clock: FakeClock) -> None:
    await tg.admin_setup(units=UNITS)
    code = await tg.invite_code("1")
    clock.advance(timedelta(days=14) - timedelta(seconds=1))
    assert (await tg.say(SECRETARY, "/units 1"))[0].text.endswith("Mã mời còn hiệu lực: 1")
    clock.advance(timedelta(seconds=1))  # exactly 14 days after it was issued
    assert (await tg.say(SECRETARY, "/units 1"))[0].text.endswith("Mã mời còn hiệu lực: 0")

    assert plain(await tg.say(AN, f"/start {code}")) == [(AN.id, EXPIRED)]
    clock.advance(timedelta(days=3))
    assert plain(await tg.say(AN, code)) == [(AN.id, EXPIRED)]
    assert await membership(services, AN, await bloc_by_code(services, BLOC_CODE)) is None
    assert (await invite(services, code)).uses == 0


async def test_a_single_use_code_used_twice(tg: Harness, services: Services) -> None:
    await tg.admin_setup(units=UNITS)
    code = await tg.invite_code("1")
    await tg.say(AN, f"/start {code}")

    assert plain(await tg.say(BINH, f"/start {code}")) == [(BINH.id, USED)]
    assert await membership(services, BINH, await bloc_by_code(services, BLOC_CODE)) is None
    assert (await invite(services, code)).uses == 1


async def test_unknown_and_malformed_codes(tg: Harness, services: Services) -> None:
    await tg.admin_setup(units=UNITS)
    await tg.invite_code("1")
    bloc = await bloc_by_code(services, BLOC_CODE)

    assert plain(await tg.say(AN, "/start ZZZZ-ZZZZ-ZZZZ-ZZZZ")) == [(AN.id, UNKNOWN)]
    assert plain(await tg.say(AN, "0000-0000-0000-0009")) == [(AN.id, UNKNOWN)]
    assert plain(await tg.say(AN, "/start xin-chao")) == [(AN.id, MALFORMED)]
    assert plain(await tg.say(AN, "UUUU-UUUU-UUUU-UUUU")) == [(AN.id, MALFORMED)]  # no U in codes
    assert await membership(services, AN, bloc) is None
    assert (await invite(services, "0000000000000001")).uses == 0


async def test_five_wrong_codes_lock_the_sender_out_for_ten_minutes(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await tg.admin_setup(units=UNITS)
    code = await tg.invite_code("1")
    bloc = await bloc_by_code(services, BLOC_CODE)
    wrong = [
        "AAAA-AAAA-AAAA-AAAA",
        "/start BBBBBBBBBBBBBBBB",
        "/start hello",
        "CCCC-CCCC-CCCC-CCCC",
    ]
    for text, refusal in zip(wrong, [UNKNOWN, UNKNOWN, MALFORMED, UNKNOWN], strict=True):
        assert plain(await tg.say(AN, text)) == [(AN.id, refusal)]
    assert plain(await tg.say(AN, "DDDD-DDDD-DDDD-DDDD")) == [(AN.id, UNKNOWN)]  # the fifth

    # The sixth attempt is refused even with a good code, and the code is not spent.
    assert plain(await tg.say(AN, f"/start {code}")) == [(AN.id, limited(10))]
    clock.advance(timedelta(minutes=9, seconds=30))
    assert plain(await tg.say(AN, code)) == [(AN.id, limited(1))]
    assert await membership(services, AN, bloc) is None
    assert (await invite(services, code)).uses == 0
    # Others are not locked out by AN's mistakes.
    assert plain(await tg.say(BINH, "EEEE-EEEE-EEEE-EEEE")) == [(BINH.id, UNKNOWN)]

    clock.advance(timedelta(seconds=30))
    assert plain(await tg.say(AN, f"/start {code}")) == [
        (AN.id, joined_text("Sở Y tế")),
        to_secretariat("Trần Văn An", "Sở Y tế"),
    ]
    assert await membership(services, AN, bloc) is not None


async def test_a_representative_opening_another_units_code_is_asked_to_move(
    tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    code = await tg.invite_code("2")
    bloc = await bloc_by_code(services, BLOC_CODE)
    ids = await unit_ids(services)
    confirm = Reply(
        AN.id,
        f"Bạn đang là đại diện của <b>Sở Y tế</b> trong {BLOC}.\n"
        "Mã mời này dành cho <b>Sở Giáo dục và Đào tạo</b>. Mỗi người chỉ đại diện cho một đơn "
        "vị trong một khối. Chuyển sang Sở Giáo dục và Đào tạo?",
        buttons=[["Chuyển đơn vị", "Giữ đơn vị cũ"]],
        callback_data=[["mv:1", "mv:0"]],
    )

    assert await tg.say(AN, f"/start {code}") == [confirm]
    assert plain(await tg.tap(AN, MoveCb(accept=False).pack())) == [
        (AN.id, "Đã hủy. Bạn vẫn là đại diện của đơn vị cũ; mã mời chưa được sử dụng.")
    ]
    kept = await membership(services, AN, bloc)
    assert kept is not None
    assert kept.unit_id == ids["SYT"]
    assert (await invite(services, code)).uses == 0

    # The code still works: opened again, and this time the move is accepted.
    assert await tg.say(AN, code) == [confirm]
    assert plain(await tg.tap(AN, MoveCb(accept=True).pack())) == [
        (AN.id, joined_text("Sở Giáo dục và Đào tạo", moved_from="Sở Y tế")),
        to_secretariat("Trần Văn An", "Sở Giáo dục và Đào tạo", moved_from="Sở Y tế"),
    ]
    moved = await membership(services, AN, bloc)
    assert moved is not None
    assert (moved.unit_id, moved.roles) == (ids["SGDĐT"], frozenset({Role.REPRESENTATIVE}))
    assert (await invite(services, code)).uses == 1
    # An old confirmation pressed again finds nothing pending.
    assert plain(await tg.tap(AN, MoveCb(accept=True).pack())) == [
        (AN.id, "Không có yêu cầu nào đang chờ xác nhận.")
    ]


async def test_opening_ones_own_units_code_again(tg: Harness, services: Services) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    code = await tg.invite_code("1")
    assert plain(await tg.say(AN, code)) == [
        (
            AN.id,
            f"Bạn đã là đại diện của <b>Sở Y tế</b> trong <b>{BLOC}</b>. "
            "Mã mời chưa được sử dụng.",
        )
    ]
    assert (await invite(services, code)).uses == 0


async def test_a_unit_name_ending_in_a_number(tg: Harness, services: Services) -> None:
    """Wards are numbered ("Phường 12"): the number is part of the name, not a count of uses."""
    await tg.say(SECRETARY, "/bloc new Cụm thi đua các phường; Cụm; 2024; CTĐP")
    await tg.say(SECRETARY, "/units add Ủy ban nhân dân Phường 1; UBNDP1")
    await tg.say(SECRETARY, "/units add Ủy ban nhân dân Phường 12; UBNDP12")

    assert plain(await tg.say(SECRETARY, "/invite Ủy ban nhân dân Phường 12")) == [
        (S, issued("đại diện <b>Ủy ban nhân dân Phường 12</b>", 1))
    ]
    assert plain(await tg.say(SECRETARY, "/invite Ủy ban nhân dân Phường 1 12")) == [
        (S, issued("đại diện <b>Ủy ban nhân dân Phường 1</b>", 2, uses=12))
    ]
    # No "Phường 3": read as "Phường" with 3 uses, which names two wards — both offered.
    assert plain(await tg.say(SECRETARY, "/invite Ủy ban nhân dân Phường 3")) == [
        (
            S,
            "«Ủy ban nhân dân Phường» khớp với nhiều đơn vị trong khối:\n"
            "1. Ủy ban nhân dân Phường 1\n"
            "2. Ủy ban nhân dân Phường 12\n"
            "Hãy gõ tên đầy đủ hơn, tên viết tắt hoặc số thứ tự của đơn vị (danh sách: /units).",
        )
    ]
    bloc = await bloc_by_code(services, "CTĐP")
    async with services.db.uow() as uow:
        assert [i.max_uses for i in await uow.invites.active(bloc.id, services.clock.now())] == [
            1,
            12,
        ]
