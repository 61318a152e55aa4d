"""Codes arrive however people paste them: forwarded invites, edited group messages."""

from __future__ import annotations

from aiogram.types import Update
from teremok import MockMessageText

from bot.core.units import MAX_UNITS_PER_BLOC
from bot.services.app import Services
from tests.handlers.conftest import GROUP, SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BLOC,
    BLOC_CODE,
    UNITS,
    bloc_by_code,
    invite,
    joined_text,
    membership,
    plain,
    units_of,
)

UNKNOWN_MESSAGE = (
    "Bot chưa hiểu tin nhắn này. Gõ /help để xem các lệnh, hoặc gửi mã mời để tham gia."
)


async def test_a_forwarded_invite_message_joins(tg: Harness, services: Services) -> None:
    await tg.admin_setup(units=UNITS)
    invite_message = (await tg.say(SECRETARY, "/invite SYT"))[0].text
    forwarded = invite_message.replace("<code>", "").replace("</code>", "")

    replies = await tg.say(AN, forwarded)

    assert plain(replies)[0] == (AN.id, joined_text("Sở Y tế"))
    bloc = await bloc_by_code(services, BLOC_CODE)
    member = await membership(services, AN, bloc)
    assert member is not None
    assert member.unit_id == (await units_of(services, bloc))[0].id


async def test_prose_with_a_long_word_is_not_a_wrong_code(tg: Harness) -> None:
    await tg.admin_setup(units=UNITS)
    for _ in range(6):
        assert plain(await tg.say(AN, "Internationalize giúp tôi mẫu báo cáo")) == [
            (AN.id, UNKNOWN_MESSAGE)
        ]
    # Six messages of prose did not count as failed codes: a real code still works.
    code = await tg.invite_code("SYT")
    assert plain(await tg.say(AN, code))[0] == (AN.id, joined_text("Sở Y tế"))


async def test_a_code_added_by_editing_a_group_message_is_revoked(
    tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=UNITS)
    code = await tg.invite_code("SYT")
    edited = MockMessageText(f"Mã của Sở Y tế: {code}", user=AN, chat=GROUP)
    requests = await tg.dispatch(Update(update_id=900_001, edited_message=edited))

    texts = [str(getattr(m, "text", "")) for m in requests]
    assert texts[-2].startswith("⚠️ Mã mời không được gửi vào nhóm.")
    assert texts[-1] == (
        f"⚠️ Một mã mời của <b>{BLOC}</b> (Sở Y tế) bị gửi vào nhóm nên đã bị thu hồi. "
        "Hãy cấp mã mới và gửi riêng."
    )
    assert (await invite(services, code)).revoked_at is not None


async def test_units_add_stops_at_the_bloc_limit(tg: Harness, services: Services) -> None:
    many = [(f"Xã số {i}", f"X{i}") for i in range(1, MAX_UNITS_PER_BLOC + 1)]
    await tg.admin_setup(units=many)
    replies = await tg.say(SECRETARY, "/units add Phường Mới; PM")
    assert plain(replies) == [(SECRETARY.id, "Không thêm được đơn vị: khối đã đủ 200 đơn vị.")]
    bloc = await bloc_by_code(services, BLOC_CODE)
    assert len(await units_of(services, bloc)) == MAX_UNITS_PER_BLOC
