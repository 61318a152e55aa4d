"""Found in review: stale buttons, anonymous group posters, odd digits, group chatter."""

from __future__ import annotations

from aiogram.types import Chat, User
from sqlmodel import func, select
from teremok import MockMessageText

from bot.core.models import Role
from bot.services.app import Services
from handlers.telegram.ui import MemberCb
from storage.tables import IdentityRow
from tests.handlers.conftest import GROUP, SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BLOC,
    BLOC_CODE,
    CUONG,
    UNITS,
    bloc_by_code,
    invite,
    join,
    membership,
    plain,
    units_of,
)

S = SECRETARY.id
CUM = "Cụm thi đua các huyện vùng thấp"
ANON_ADMIN = User(id=1087968824, is_bot=True, first_name="Group", username="GroupAnonymousBot")
CHANNEL_BOT = User(id=136817688, is_bot=True, first_name="Channel", username="Channel_Bot")
REFUSED_IN_GROUP = (
    "⚠️ Mã mời không được gửi vào nhóm. Mã này đã bị thu hồi; thường trực khối sẽ cấp mã mới "
    "qua tin nhắn riêng."
)


async def test_a_stale_remove_button_acts_on_the_bloc_it_was_shown_for(
    tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    khoi = await bloc_by_code(services, BLOC_CODE)
    syt = (await units_of(services, khoi))[0]
    button = MemberCb(
        action="rmok",
        identity_id=(await membership_id(services, AN)),
        unit_id=syt.id,
        bloc_id=khoi.id,
    ).pack()
    # The secretary then opens a second bloc (now current) where An joins the secretariat.
    await tg.say(SECRETARY, f"/bloc new {CUM}; Cụm; 2024; CVT")
    await join(tg, AN, "secretariat")
    cum = await bloc_by_code(services, "CVT")

    replies = await tg.tap(SECRETARY, button)

    assert plain(replies)[0] == (S, "Đã đưa Trần Văn An ra khỏi danh sách đại diện của Sở Y tế.")
    assert await membership(services, AN, khoi) is None
    in_cum = await membership(services, AN, cum)
    assert in_cum is not None
    assert in_cum.roles == frozenset({Role.SECRETARIAT})


async def test_taking_a_representative_off_keeps_their_secretariat_role(
    tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, CUONG, "secretariat")
    await join(tg, CUONG, "2")
    khoi = await bloc_by_code(services, BLOC_CODE)
    sgd = (await units_of(services, khoi))[1]
    before = await membership(services, CUONG, khoi)
    assert before is not None
    assert before.roles == frozenset({Role.SECRETARIAT, Role.REPRESENTATIVE})

    button = MemberCb(
        action="rmok",
        identity_id=await membership_id(services, CUONG),
        unit_id=sgd.id,
        bloc_id=khoi.id,
    )
    await tg.tap(SECRETARY, button.pack())

    after = await membership(services, CUONG, khoi)
    assert after is not None
    assert after.roles == frozenset({Role.SECRETARIAT})
    assert after.unit_id is None
    # The bloc still has its secretariat: Cường can still manage it.
    assert (await tg.say(CUONG, "/units"))[0].text.startswith(f"<b>{BLOC}</b>")


async def test_codes_from_anonymous_admins_and_channels_are_revoked(
    tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=UNITS)
    for poster, sender_chat in (
        (ANON_ADMIN, GROUP),
        (CHANNEL_BOT, Chat(id=-1009876, type="channel", title="Kênh Sở Y tế")),
    ):
        code = await tg.invite_code("1")
        message = MockMessageText(
            f"Mã mời Sở Y tế: {code}", user=poster, chat=GROUP, sender_chat=sender_chat
        )
        texts = [r.text for r in Harness._replies(await tg.dispatch(message))]
        assert texts == [
            REFUSED_IN_GROUP,
            f"⚠️ Một mã mời của <b>{BLOC}</b> (Sở Y tế) bị gửi vào nhóm nên đã bị thu hồi. "
            "Hãy cấp mã mới và gửi riêng.",
        ]
        assert (await invite(services, code)).revoked_at is not None


async def test_writing_in_a_group_registers_nobody(tg: Harness, services: Services) -> None:
    await tg.admin_setup(units=UNITS)
    before = await identity_count(services)
    for uid in range(5001, 5011):
        stranger = User(id=uid, is_bot=False, first_name=f"Người {uid}")
        assert plain(await tg.say(stranger, "Chào cả nhóm!", chat=GROUP)) == []
    assert await identity_count(services) == before


async def test_superscript_and_other_digits_do_not_crash(tg: Harness) -> None:
    await tg.admin_setup(units=UNITS)
    assert plain(await tg.say(SECRETARY, "/units ²")) == [
        (S, "Không tìm thấy đơn vị «²» trong khối. Xem danh sách: /units")
    ]
    assert plain(await tg.say(SECRETARY, "/bloc use ²")) == [
        (S, "Không tìm thấy khối «²» trong các khối của bạn.")
    ]
    replies = await tg.say(SECRETARY, "/bloc new Khối B; Khối; ²⁰²⁴; KB")
    assert plain(replies) == [(S, "Năm «²⁰²⁴» không hợp lệ: nhập một năm từ 2000 đến 2025.")]


async def membership_id(services: Services, user: User) -> int:
    from tests.handlers.support import identity

    return (await identity(services, user)).id


async def identity_count(services: Services) -> int:
    async with services.db.uow() as uow:
        return int((await uow.session.exec(select(func.count()).select_from(IdentityRow))).one())
