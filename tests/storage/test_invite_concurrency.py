"""Invites under concurrent use, committed for real: the last use and the guess limit hold."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

from bot.core.invites import CODE_BYTES, InviteRejection, encode_code, hash_code
from bot.core.models import Account, BlocKind, Platform, Role
from bot.core.units import UnitDraft
from bot.fakes.clock import FakeClock
from bot.render import Renderer
from bot.services.actors import resolve_actor
from bot.services.app import Services
from bot.services.invites import Joined, JoinRefused, join
from storage.files import FileStore
from storage.uow import Database
from tests.conftest import AUDIT_KEY, BALLOT_SECRET, START

CODE = encode_code(bytes(range(CODE_BYTES)))


def _services(db: Database, tmp_path: Path) -> Services:
    return Services(
        db=db,
        clock=FakeClock(START),
        renderer=Renderer(),
        audit_key=AUDIT_KEY,
        ballot_secret=BALLOT_SECRET,
        files=FileStore(tmp_path / "files"),
        admins=frozenset({Account(Platform.TELEGRAM, "1")}),
    )


async def _bloc_with_invite(services: Services, *, max_uses: int) -> None:
    now = services.clock.now()
    async with services.db.uow() as uow:
        bloc = await uow.blocs.create(
            name="Khối VHXH",
            kind=BlocKind.KHOI,
            year=2024,
            code="VHXH",
            timezone="Asia/Ho_Chi_Minh",
            now=now,
        )
        (unit,) = await uow.blocs.add_units(bloc.id, [UnitDraft("Sở Y tế", "SYT")], now)
        await uow.invites.add(
            bloc_id=bloc.id,
            unit_id=unit.id,
            role=Role.REPRESENTATIVE,
            code_hash=hash_code(CODE),
            max_uses=max_uses,
            created_by=None,
            now=now,
            expires_at=now.replace(year=2025),
        )
        await uow.commit()


async def test_the_last_use_of_an_invite_goes_to_exactly_one_person(
    committed_db: Database, tmp_path: Path
) -> None:
    services = _services(committed_db, tmp_path)
    await _bloc_with_invite(services, max_uses=1)
    actors = [
        await resolve_actor(
            services,
            platform=Platform.TELEGRAM,
            external_id=str(2000 + i),
            display_name=f"Người {i}",
            username=None,
        )
        for i in range(8)
    ]
    outcomes = await asyncio.gather(*(join(services, a, CODE) for a in actors))
    joined = [o for o in outcomes if isinstance(o, Joined)]
    refused = [o.reason for o in outcomes if isinstance(o, JoinRefused)]
    assert len(joined) == 1
    assert refused == [InviteRejection.USED] * 7
    async with services.db.uow() as uow:
        invite = await uow.invites.by_hash(hash_code(CODE))
    assert invite is not None
    assert invite.uses == 1


async def test_concurrent_wrong_codes_cannot_pass_the_guess_limit(
    committed_db: Database, tmp_path: Path
) -> None:
    services = _services(committed_db, tmp_path)
    await _bloc_with_invite(services, max_uses=1)
    guesser = await resolve_actor(
        services,
        platform=Platform.TELEGRAM,
        external_id="666",
        display_name="Đoán mò",
        username=None,
    )
    wrong = (encode_code(i.to_bytes(CODE_BYTES, "big")) for i in itertools.count(10_000))
    outcomes = await asyncio.gather(*(join(services, guesser, next(wrong)) for _ in range(20)))
    reasons = sorted(o.reason.value for o in outcomes if isinstance(o, JoinRefused))
    assert reasons.count(InviteRejection.UNKNOWN.value) == 5
    assert reasons.count(InviteRejection.RATE_LIMITED.value) == 15
    # Even the right code is refused while the sender is locked out.
    locked = await join(services, guesser, CODE)
    assert isinstance(locked, JoinRefused)
    assert locked.reason is InviteRejection.RATE_LIMITED
