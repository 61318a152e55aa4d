"""Who may do what: members who are not the secretariat, and secretariats of another bloc."""

from __future__ import annotations

from aiogram.types import User

from bot.core.models import Bloc
from bot.services.app import Services
from handlers.telegram.ui import MemberCb, UnitCb
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BINH,
    BLOC,
    BLOC_CODE,
    CUONG,
    NOT_SECRETARIAT,
    STALE,
    STRANGER,
    UNITS,
    bloc_by_code,
    csv_bytes,
    identity,
    invite,
    issued,
    join,
    members,
    plain,
    units_of,
)

DUNG = User(id=2004, is_bot=False, first_name="Vũ", last_name="Thị Dung")
CUM = "Cụm thi đua các huyện"
CUM_CODE = "CTĐH"


async def snapshot(services: Services, bloc: Bloc) -> tuple[object, ...]:
    """Everything a refused command could have changed in a bloc."""
    async with services.db.uow() as uow:
        current = await uow.blocs.get(bloc.id)
        invites = await uow.invites.active(bloc.id, services.clock.now())
    return (
        current,
        await units_of(services, bloc),
        await members(services, bloc),
        [(i.id, i.uses, i.revoked_at) for i in invites],
    )


async def test_members_who_are_not_the_secretariat_are_refused(
    tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    await join(tg, CUONG, "observer")
    code = await tg.invite_code("2")
    bloc = await bloc_by_code(services, BLOC_CODE)
    an = await identity(services, AN)
    syt = (await units_of(services, bloc))[0]
    before = await snapshot(services, bloc)

    for user in (AN, CUONG, STRANGER):
        for command in (
            "/units",
            "/units 1",
            "/units add Sở Nội vụ; SNV",
            "/units import",
            "/invite 1",
            "/invite all",
            "/invite secretariat",
            f"/invite revoke {code}",
            "/invite revoke 2",
            "/bloc leader 1",
            "/bloc deputy 2",
            "/bloc rotation 1, 2, 3",
        ):
            assert plain(await tg.say(user, command)) == [(user.id, NOT_SECRETARIAT)], command
        data = csv_bytes([["Sở Nội vụ", "SNV"]])
        assert plain(await tg.send_file(user, "u.csv", data, "/units import")) == [
            (user.id, NOT_SECRETARIAT)
        ]
        # Buttons copied from a secretariat's screen do not work for them either.
        for payload in (
            UnitCb(action="invite", unit_id=syt.id),
            UnitCb(action="revoke", unit_id=syt.id),
        ):
            assert plain(await tg.tap(user, payload.pack())) == [(user.id, NOT_SECRETARIAT)]
        rmok = MemberCb(action="rmok", identity_id=an.id, unit_id=syt.id, bloc_id=bloc.id).pack()
        assert plain(await tg.tap(user, rmok)) == [(user.id, NOT_SECRETARIAT)]

    assert await snapshot(services, bloc) == before
    assert (await invite(services, code)).revoked_at is None


async def test_a_secretariat_cannot_reach_into_another_bloc(
    tg: Harness, services: Services
) -> None:
    # Bloc A: the admin's, with Cường on its secretariat (and in no other bloc).
    await tg.admin_setup(units=UNITS)
    await join(tg, CUONG, "secretariat")
    # Bloc B: created by the admin too; Dũng runs it, Bình represents one of its units.
    await tg.say(SECRETARY, f"/bloc new {CUM}; Cụm; 2024; {CUM_CODE}")
    await tg.say(SECRETARY, "/units add Ủy ban nhân dân huyện Đông Anh; UBNDĐA")
    await tg.say(SECRETARY, "/units add Ủy ban nhân dân huyện Gia Lâm; UBNDGL")
    await join(tg, DUNG, "secretariat")
    await join(tg, BINH, "1")
    await tg.say(SECRETARY, "/invite 2")
    khoi, cum = await bloc_by_code(services, BLOC_CODE), await bloc_by_code(services, CUM_CODE)
    dong_anh, gia_lam = await units_of(services, cum)
    binh = await identity(services, BINH)
    before = await snapshot(services, cum)
    assert (await identity(services, CUONG)).current_bloc_id == khoi.id

    assert plain(await tg.say(CUONG, f"/bloc use {CUM_CODE}")) == [
        (CUONG.id, f"Không tìm thấy khối «{CUM_CODE}» trong các khối của bạn.")
    ]
    assert plain(await tg.say(CUONG, "/bloc use 2")) == [
        (CUONG.id, "Không tìm thấy khối «2» trong các khối của bạn.")
    ]
    assert (await identity(services, CUONG)).current_bloc_id == khoi.id
    rmok = MemberCb(action="rmok", identity_id=binh.id, unit_id=dong_anh.id, bloc_id=cum.id).pack()
    assert plain(await tg.tap(CUONG, rmok)) == [(CUONG.id, NOT_SECRETARIAT)]
    for payload in (
        UnitCb(action="invite", unit_id=dong_anh.id),
        UnitCb(action="revoke", unit_id=gia_lam.id),
    ):
        assert plain(await tg.tap(CUONG, payload.pack())) == [(CUONG.id, STALE)]
    assert plain(await tg.say(CUONG, "/invite Ủy ban nhân dân huyện Đông Anh")) == [
        (
            CUONG.id,
            "Không tìm thấy đơn vị «Ủy ban nhân dân huyện Đông Anh» trong khối. "
            "Xem danh sách: /units",
        )
    ]
    assert (await tg.say(CUONG, "/units"))[0].text.startswith(f"<b>{BLOC}</b> — 3 đơn vị")

    assert await snapshot(services, cum) == before
    assert await members(services, cum) == [
        ("Nguyễn Thị Lan", None, ["secretariat"]),
        ("Vũ Thị Dung", None, ["secretariat"]),
        ("Lê Thị Bình", dong_anh.id, ["representative"]),
    ]

    # The same buttons work for bloc B's own secretariat: the refusals were about who asked.
    assert plain(await tg.tap(DUNG, UnitCb(action="invite", unit_id=dong_anh.id).pack())) == [
        (DUNG.id, issued("đại diện <b>Ủy ban nhân dân huyện Đông Anh</b>", 5))
    ]
    assert plain(await tg.tap(DUNG, rmok)) == [
        (
            DUNG.id,
            "Đã đưa Lê Thị Bình ra khỏi danh sách đại diện của Ủy ban nhân dân huyện Đông Anh.",
        ),
        (
            BINH.id,
            "Thường trực đã đưa bạn ra khỏi danh sách đại diện của Ủy ban nhân dân huyện Đông Anh "
            f"({CUM}). Nếu có nhầm lẫn, hãy liên hệ thường trực khối.",
        ),
    ]
