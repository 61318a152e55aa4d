"""Found in review: ballots opened out of order, stale confirms, forged ids, written votes."""

from __future__ import annotations

from aiogram.types import User
from sqlalchemy import event

from bot.core.models import Locale, Membership, Platform, Role
from bot.core.units import UnitDraft
from bot.services.app import Services
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BLOC_CODE,
    CUONG,
    DUNG,
    STALE,
    ballot_ids,
    bloc_by_code,
    conference_setup,
    open_votes,
    plain,
)

S = SECRETARY.id


async def test_a_lower_tier_waits_for_the_higher_tier_to_be_decided(tg: Harness) -> None:
    await conference_setup(tg)
    assert (await tg.say(SECRETARY, "/ballot open 2"))[0].text.startswith("✅ Đã mở")
    assert plain(await tg.say(SECRETARY, "/ballot open 3")) == [
        (
            S,
            "Hãy kết thúc (kiểm phiếu và quyết định xong) nội dung số 2 trước khi mở nội dung "
            "số 3: đơn vị đã được đề nghị ở hình thức cao hơn, hoặc đã trúng cử Trưởng khối, "
            "không còn là ứng viên.",
        )
    ]
    assert (await tg.say(SECRETARY, "/ballot open 6"))[0].text.startswith("✅ Đã mở")
    refused = plain(await tg.say(SECRETARY, "/ballot open 7"))
    assert refused[0][1].startswith("Hãy kết thúc (kiểm phiếu và quyết định xong) nội dung số 6")
    await tg.say(SECRETARY, "/ballot close 2")
    assert (await tg.say(SECRETARY, "/ballot open 3"))[0].text.startswith("✅ Đã mở")


async def test_a_confirm_shown_for_another_selection_is_refused(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    await tg.say(SECRETARY, "/ballot open 5")
    b = (await ballot_ids(services))[4]
    await tg.tap(AN, f"vt:{b}:tog:1")
    review = await tg.tap(AN, f"vt:{b}:review:-2")
    stale_ok = review[0].callback_data[0][0]
    await tg.tap(AN, f"vt:{b}:tog:2")  # from another keyboard, after the confirm was shown
    replies = await tg.tap(AN, stale_ok)
    assert [r.text for r in replies] == [
        "Lựa chọn đã thay đổi sau khi hiển thị để xác nhận. Hãy xem lại và bấm «Xác nhận» "
        "một lần nữa."
    ]
    assert await open_votes(services, b) == []


async def test_forged_ids_too_large_for_the_database_are_stale_buttons(tg: Harness) -> None:
    await conference_setup(tg)
    for data in ("vt:99999999999999999999:show:0", "sc:99999999999:0:100", "rp:3000000000:0"):
        await tg.tap(AN, data)
    assert tg.alerts == [STALE, STALE, STALE]


async def test_a_written_vote_does_not_replace_a_vote_cast_in_chat(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    await tg.say(SECRETARY, "/ballot open 1")
    b = (await ballot_ids(services))[0]
    await tg.tap(AN, f"vt:{b}:pick:0")
    await tg.tap(AN, f"vt:{b}:ok:0")
    before = await open_votes(services, b)
    assert plain(await tg.say(SECRETARY, "/ballot written 1; SYT; 2")) == [
        (
            S,
            "Sở Y tế đã tự biểu quyết trong chat; phiếu bằng văn bản chỉ dành cho đơn vị không "
            "biểu quyết được.",
        )
    ]
    assert await open_votes(services, b) == before


async def test_a_cast_costs_as_many_statements_in_a_large_bloc_as_in_a_small_one(
    tg: Harness, services: Services
) -> None:
    """On a conference morning every unit casts within minutes: a cast reads what it needs
    in a fixed number of statements (it once loaded every member and every ballot one by
    one: 148 statements in a bloc of 50)."""
    await conference_setup(tg)
    await tg.say(SECRETARY, "/ballot open 1")
    report = (await ballot_ids(services))[0]

    async def cast(user: User, option: int) -> tuple[str, int]:
        statements: list[str] = []

        def seen(_c: object, _cur: object, statement: str, *_: object) -> None:
            statements.append(statement)

        engine = services.db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", seen)
        try:
            (reply,) = await tg.tap(user, f"vt:{report}:ok:{option}")
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        return reply.text, len(statements)

    small = await cast(CUONG, 0)
    bloc = await bloc_by_code(services, BLOC_CODE)
    now = services.clock.now()
    async with services.db.uow() as uow:
        drafts = [UnitDraft(f"Phòng số {n}", f"P{n}") for n in range(40)]
        for n, unit in enumerate(await uow.blocs.add_units(bloc.id, drafts, now)):
            member = await uow.identities.create(
                platform=Platform.TELEGRAM,
                external_id=str(900_000 + n),
                display_name=f"Đại diện {n}",
                username=None,
                locale=Locale.VI,
                now=now,
            )
            roles = frozenset({Role.REPRESENTATIVE})
            membership = Membership(member.id, bloc.id, unit.id, roles)
            await uow.identities.put_membership(membership, now)
        await uow.commit()
    large = await cast(DUNG, 1)

    assert small[0] == (
        "✅ Đã ghi nhận biểu quyết của <b>Sở Giáo dục và Đào tạo</b>: Đồng ý.\n"
        "Thông qua dự thảo báo cáo tổng kết: 1/4 đơn vị đã biểu quyết."
    )
    assert large[0] == (
        "✅ Đã ghi nhận biểu quyết của <b>Sở Văn hóa, Thể thao và Du lịch</b>: Không đồng ý.\n"
        "Thông qua dự thảo báo cáo tổng kết: 2/44 đơn vị đã biểu quyết."
    )
    assert large[1] == small[1]
    assert small[1] <= 17  # 13, and here each unit of work's SAVEPOINT and RELEASE
