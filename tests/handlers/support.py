"""What the handler tests share: the standard bloc, people, files, and database look-ups."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from aiogram.types import User
from openpyxl import Workbook

from bot.core.invites import hash_code, normalise_code
from bot.core.models import Bloc, Identity, Invite, Membership, Platform, Unit
from bot.services.app import Services
from tests.handlers.conftest import Harness, Reply, person

BLOC = "Khối thi đua Văn hóa - Xã hội"
BLOC_CODE = "KTĐVHXH"
UNITS = [
    ("Sở Y tế", "SYT"),
    ("Sở Giáo dục và Đào tạo", "SGDĐT"),
    ("Sở Văn hóa, Thể thao và Du lịch", "SVHTTDL"),
]

AN = person(2001, "Trần", "Văn An")  # will represent Sở Y tế
BINH = person(2002, "Lê", "Thị Bình")  # a second representative
CUONG = person(2003, "Phạm", "Văn Cường")
STRANGER = person(3001, "Hoàng", "Minh")

NOT_SECRETARIAT = "Chỉ thường trực khối mới dùng được lệnh này."
STALE = "Nút này không còn dùng được. Hãy gửi lại lệnh."


def issued(
    what: str, n: int, *, expires: str = "08:00 09/12/2024", uses: int = 1, replaced: int = 0
) -> str:
    """The exact invite message for the n-th code of a test (codes are deterministic)."""
    code = f"{n:016d}"
    text = (
        f"🔑 Mã mời {what}\n"
        f"Liên kết: https://t.me/thidua_test_bot?start={code}\n"
        f"Mã: <code>{code[:4]}-{code[4:8]}-{code[8:12]}-{code[12:]}</code>\n"
        f"Hết hạn: {expires}; dùng được {uses} lần."
    )
    if replaced:
        text += f"\n({replaced} mã cũ của đơn vị đã bị thu hồi.)"
    return text


def joined_text(unit: str, moved_from: str | None = None) -> str:
    text = f"✅ Bạn đã tham gia <b>{BLOC}</b> với tư cách đại diện của <b>{unit}</b>.\n"
    if moved_from:
        text += f"Bạn không còn đại diện cho {moved_from}.\n"
    return text + "Gõ /help để xem các lệnh."


def csv_bytes(rows: Sequence[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def xlsx_bytes(rows: Sequence[Sequence[str | None]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def plain(replies: list[Reply]) -> list[tuple[int, str]]:
    """Chat and text of each reply, for messages that carry no buttons."""
    for r in replies:
        assert r.buttons == [], f"unexpected buttons on {r.text!r}: {r.buttons}"
    return [(r.chat_id, r.text) for r in replies]


async def join(tg: Harness, user: User, target: str) -> None:
    """`user` joins through a fresh invite for `target` (a unit number or a staff role)."""
    code = await tg.invite_code(target)
    replies = await tg.say(user, f"/start {code}")
    assert replies[0].text.startswith("✅ Bạn đã tham gia"), replies[0].text


# --- the database, read after the fact ----------------------------------------------


async def identity(services: Services, user: User) -> Identity:
    async with services.db.uow() as uow:
        found = await uow.identities.by_account(Platform.TELEGRAM, str(user.id))
    assert found is not None, f"{user.full_name} never wrote to the bot"
    return found


async def membership(services: Services, user: User, bloc: Bloc) -> Membership | None:
    ident = await identity(services, user)
    async with services.db.uow() as uow:
        return await uow.identities.membership(ident.id, bloc.id)


async def bloc_by_code(services: Services, code: str) -> Bloc:
    async with services.db.uow() as uow:
        blocs = await uow.blocs.all()
    return next(b for b in blocs if b.code == code)


async def units_of(services: Services, bloc: Bloc) -> list[Unit]:
    async with services.db.uow() as uow:
        return await uow.blocs.units(bloc.id)


async def unit_names(services: Services, bloc: Bloc) -> list[str]:
    return [u.name for u in await units_of(services, bloc)]


async def invite(services: Services, code: str) -> Invite:
    bare = normalise_code(code)
    assert bare is not None
    async with services.db.uow() as uow:
        found = await uow.invites.by_hash(hash_code(bare))
    assert found is not None
    return found


async def members(services: Services, bloc: Bloc) -> list[tuple[str, int | None, list[str]]]:
    """(name, unit id, roles) of every member of a bloc, in joining order."""
    async with services.db.uow() as uow:
        rows = await uow.identities.members_of_bloc(bloc.id)
    return [(ident.display_name, m.unit_id, sorted(r.value for r in m.roles)) for m, ident in rows]
