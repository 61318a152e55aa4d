"""Group chats: invite codes posted there are refused and revoked; only public commands work."""

from __future__ import annotations

from aiogram.methods import DeleteMessage
from teremok import MockMessagePhoto

from bot.services.app import Services
from tests.handlers.conftest import GROUP, SECRETARY, Harness, Reply
from tests.handlers.support import (
    AN,
    BINH,
    BLOC,
    BLOC_CODE,
    CUONG,
    UNITS,
    bloc_by_code,
    invite,
    join,
    membership,
    plain,
)

G = GROUP.id
S = SECRETARY.id
REFUSED_IN_GROUP = (
    "⚠️ Mã mời không được gửi vào nhóm. Mã này đã bị thu hồi; thường trực khối sẽ cấp mã mới "
    "qua tin nhắn riêng."
)
REVOKED = "Mã mời này đã bị thu hồi. Hãy xin thường trực khối cấp mã mới."
PRIVATE_ONLY = "Lệnh này chỉ dùng trong tin nhắn riêng với bot."


def leaked(unit: str) -> str:
    return (
        f"⚠️ Một mã mời của <b>{BLOC}</b> ({unit}) bị gửi vào nhóm nên đã bị thu hồi. "
        "Hãy cấp mã mới và gửi riêng."
    )


def deleted(tg: Harness) -> list[int]:
    """Chats in which the last update made the bot delete a message."""
    assert tg.bot.last is not None
    return [int(m.chat_id) for m in tg.bot.last.requests.all if isinstance(m, DeleteMessage)]


def shows(replies: list[Reply], code: str) -> bool:
    spaced = "-".join(code[i : i + 4] for i in range(0, 16, 4))
    return any(code in r.text or spaced in r.text for r in replies)


async def test_start_with_a_code_in_a_group_revokes_it(tg: Harness, services: Services) -> None:
    await tg.admin_setup(units=UNITS)
    code = await tg.invite_code("1")

    replies = await tg.say(AN, f"/start {code}", chat=GROUP)

    assert plain(replies) == [(G, REFUSED_IN_GROUP), (S, leaked("Sở Y tế"))]
    assert not shows(replies, code)
    assert deleted(tg) == [G]
    assert (await invite(services, code)).revoked_at is not None
    bloc = await bloc_by_code(services, BLOC_CODE)
    assert await membership(services, AN, bloc) is None

    assert plain(await tg.say(AN, f"/start {code}")) == [(AN.id, REVOKED)]
    assert await membership(services, AN, bloc) is None


async def test_a_code_pasted_in_group_text_is_revoked_and_its_issuer_told(
    tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, CUONG, "secretariat")
    code = (await tg.say(CUONG, "/invite 2"))[0].text.split("?start=")[1].split()[0]
    spaced = "-".join(code[i : i + 4] for i in range(0, 16, 4))

    replies = await tg.say(BINH, f"Mã của Sở Giáo dục đây: {spaced.lower()} nhé", chat=GROUP)

    # Only the secretariat member who issued the code is told, not the whole secretariat.
    assert plain(replies) == [(G, REFUSED_IN_GROUP), (CUONG.id, leaked("Sở Giáo dục và Đào tạo"))]
    assert not shows(replies, code)
    assert deleted(tg) == [G]
    assert (await invite(services, code)).revoked_at is not None
    assert plain(await tg.say(BINH, spaced)) == [(BINH.id, REVOKED)]
    assert await membership(services, BINH, await bloc_by_code(services, BLOC_CODE)) is None


async def test_staff_codes_in_a_photo_caption_or_a_group_command(
    tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=UNITS)
    secretariat = await tg.invite_code("secretariat")
    observer = await tg.invite_code("observer")

    photo = MockMessagePhoto(caption=f"ảnh chụp mã {secretariat}", user=AN, chat=GROUP)
    replies = tg._replies(await tg.dispatch(photo))
    assert plain(replies) == [(G, REFUSED_IN_GROUP), (S, leaked("thường trực"))]
    replies = await tg.say(AN, f"/help {observer}", chat=GROUP)
    assert plain(replies) == [(G, REFUSED_IN_GROUP), (S, leaked("thành viên theo dõi"))]
    assert (await invite(services, secretariat)).revoked_at is not None
    assert (await invite(services, observer)).revoked_at is not None


async def test_a_dead_or_unknown_code_in_a_group_is_refused_without_telling_which(
    tg: Harness,
) -> None:
    await tg.admin_setup(units=UNITS)
    code = await tg.invite_code("1")
    await tg.say(SECRETARY, "/invite revoke 1")

    assert plain(await tg.say(AN, f"/start {code}", chat=GROUP)) == [(G, REFUSED_IN_GROUP)]
    assert plain(await tg.say(AN, "/start ZZZZ-ZZZZ-ZZZZ-ZZZZ", chat=GROUP)) == [
        (G, REFUSED_IN_GROUP)
    ]
    assert plain(await tg.say(AN, "Mã cũ ZZZZ-ZZZZ-ZZZZ-ZZZZ", chat=GROUP)) == []


async def test_only_public_commands_answer_in_a_group(tg: Harness) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    assert plain(await tg.say(AN, "/me", chat=GROUP)) == [(G, PRIVATE_ONLY)]
    assert plain(await tg.say(SECRETARY, "/units", chat=GROUP)) == [(G, PRIVATE_ONLY)]
    assert plain(await tg.say(AN, "/start", chat=GROUP)) == [(G, PRIVATE_ONLY)]
    assert plain(await tg.say(AN, "/help", chat=GROUP)) == [
        (
            G,
            "Trong nhóm, bot chỉ trả lời các lệnh chung:\n"
            "/help — các lệnh\n"
            "/standings — bảng xếp hạng\n"
            "/vote — số đơn vị đã biểu quyết (không có kết quả từng phần)\n"
            "/bloc link — (thường trực) liên kết nhóm này với khối\n"
            "Các việc khác xin nhắn riêng cho bot.",
        )
    ]
    # Commands for other bots and ordinary conversation are left alone.
    assert await tg.say(AN, "/units@other_bot", chat=GROUP) == []
    assert await tg.say(AN, "Chào cả nhà, mai họp lúc 8 giờ nhé", chat=GROUP) == []
