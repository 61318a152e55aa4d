"""What the handler tests share: the standard bloc, people, files, and database look-ups."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiogram.methods import GetFile, SendDocument, SendPhoto, TelegramMethod
from aiogram.types import BufferedInputFile, CallbackQuery, Chat, Document, Message, User
from openpyxl import Workbook
from sqlmodel import col, func, select
from teremok import MockCallbackQuery, MockMessageDocument, MockMessageText

from bot.core.invites import hash_code, normalise_code
from bot.core.models import Account, Bloc, Identity, Invite, Membership, Platform, Unit
from bot.core.reports import Submission
from bot.core.scoring import Item
from bot.core.venue import venue_code, venue_key
from bot.core.voting import Choice
from bot.services import reports as svc
from bot.services import voting as voting_svc
from bot.services.actors import Actor, load_actor
from bot.services.app import Services
from storage.tables import (
    BallotBoxRow,
    CountedReceiptRow,
    OpenVoteRow,
    ReportDraftRow,
    SealedDraftRow,
    SecretRegisterRow,
)
from tests.handlers.conftest import SECRETARY, Harness, Reply, make_harness, person
from tests.handlers.snapshots import snapshotted

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


def docx_bytes(*paragraphs: str) -> bytes:
    """A real Word document of these paragraphs (the content check reads its parts)."""
    from docx import Document

    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
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


async def hall_code(services: Services, code: str = BLOC_CODE) -> str:
    """The check-in code the hall screen shows now, for the conference of the bloc's year."""
    bloc = await bloc_by_code(services, code)
    async with services.db.uow() as uow:
        conference = await uow.votes.conference(bloc.id, bloc.year)
    assert conference is not None
    return venue_code(venue_key(services.ballot_secret), conference.id, services.clock.now())


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


# --- reports: the scoring table, a period, the submission walk ------------------------

TABLE_EXAMPLE = Path(__file__).resolve().parents[2] / "templates" / "scoring-table-example.yaml"
PERIOD_TITLE = "Báo cáo tổng kết năm 2024"
OPEN_PERIOD = f"/period new tổng kết; {PERIOD_TITLE}; 15/12/2024 17:00"
# Sở Y tế's self-score, item by item (hundredths): criteria 98, bonus 5 (capped), penalty 1.
SYT_VALUES = (1000, 2000, 1000, 800, 500, 1000, 1000, 1000, 1000, 500, 300, 250, 0, 100)
SYT_TOTAL = "102"
G1 = "I. Công tác chỉ đạo, điều hành và thực hiện nhiệm vụ chính trị"
G2 = "II. Cải cách hành chính và chuyển đổi số"
G3 = "III. Công tác thi đua, khen thưởng"
G4 = "IV. Xây dựng Đảng, đoàn thể và công tác phòng, chống tham nhũng"
# The example table's 14 items in the order of the walk: code, title, maximum, group.
ITEMS = [
    (
        "1.1",
        "Ban hành kịp thời chương trình, kế hoạch công tác năm; chỉ đạo, điều hành thực hiện "
        "nghiêm các chỉ thị, nghị quyết của Tỉnh ủy, HĐND và UBND tỉnh",
        "10",
        G1,
    ),
    (
        "1.2",
        "Thực hiện nhiệm vụ chuyên môn: hoàn thành và vượt các chỉ tiêu, nhiệm vụ được UBND "
        "tỉnh giao trong năm",
        "20",
        G1,
    ),
    (
        "2.1",
        "Công tác cải cách hành chính; kết quả Chỉ số cải cách hành chính (PAR Index) của đơn vị",
        "10",
        G2,
    ),
    (
        "2.2",
        "Giải quyết thủ tục hành chính đúng hạn; tiếp nhận và trả kết quả qua Cổng dịch vụ công "
        "trực tuyến, không để hồ sơ quá hạn",
        "10",
        G2,
    ),
    (
        "2.3",
        "Ứng dụng công nghệ thông tin, chuyển đổi số và chữ ký số trong hoạt động của cơ quan",
        "5",
        G2,
    ),
    (
        "3.1",
        "Tổ chức phát động, triển khai các phong trào thi đua; sơ kết, tổng kết, phát hiện và "
        "nhân rộng điển hình tiên tiến",
        "10",
        G3,
    ),
    (
        "3.2",
        "Tham gia đầy đủ các hoạt động của Khối; thực hiện chế độ thông tin, báo cáo đúng "
        "thời hạn",
        "10",
        G3,
    ),
    (
        "4.1",
        "Xây dựng tổ chức Đảng trong sạch, vững mạnh; hoạt động của Công đoàn, Đoàn Thanh niên, "
        "Hội Cựu chiến binh cơ quan",
        "10",
        G4,
    ),
    ("4.2", "Thực hành tiết kiệm, chống lãng phí; phòng, chống tham nhũng, tiêu cực", "10", G4),
    (
        "4.3",
        "Thực hiện quy chế dân chủ ở cơ sở; chăm lo đời sống vật chất, tinh thần của cán bộ, "
        "công chức, viên chức và người lao động",
        "5",
        G4,
    ),
    (
        "T1",
        "Có sáng kiến, mô hình mới, cách làm hay được cấp có thẩm quyền công nhận và nhân rộng",
        "3",
        "",
    ),
    (
        "T2",
        "Được Thủ tướng Chính phủ, bộ, ngành Trung ương hoặc UBND tỉnh khen thưởng đột xuất "
        "trong năm",
        "2,5",
        "",
    ),
    (
        "P1",
        "Có cán bộ, công chức, viên chức bị xử lý kỷ luật từ hình thức khiển trách trở lên "
        "(trừ 2 điểm mỗi trường hợp)",
        "6",
        "",
    ),
    (
        "P2",
        "Chậm gửi hoặc không gửi báo cáo, hồ sơ theo yêu cầu của Khối (trừ 1 điểm mỗi lần)",
        "5",
        "",
    ),
]


ABOVE_MAX = "Điểm vượt quá mức tối đa"


def problem_line(problem: str | None, top: str) -> str:
    """A bad value's message; only a value above the maximum names the maximum."""
    if problem is None:
        return ""
    return f"⚠️ {problem}" + (f" (tối đa {top})" if problem == ABOVE_MAX else "") + ".\n"


def limit_line(code: str, top: str) -> str:
    """An item's maximum: a criterion's, a bonus item's, a penalty item's (points deducted)."""
    if code.startswith("T"):
        return f"Điểm thưởng (tối đa {top})"
    if code.startswith("P"):
        return f"Điểm trừ (tối đa {top}) — nhập số điểm bị trừ"
    return f"Điểm tối đa: {top}"


@snapshotted
async def report_setup(tg: Harness, *, policy: str = "", observer: User | None = None) -> None:
    """The bloc, An and Bình representing Sở Y tế, Cường Sở GD&ĐT, the example table, a period.

    `observer` (instead of Cường) joins as an observer; `policy` is the period's late policy.
    """
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    await join(tg, BINH, "1")
    if observer is not None:
        await join(tg, observer, "observer")
    else:
        await join(tg, CUONG, "2")
    await tg.send_file(SECRETARY, "bang-cham-diem.yaml", TABLE_EXAMPLE.read_bytes(), "/criteria")
    await tg.say(SECRETARY, OPEN_PERIOD + (f"; {policy}" if policy else ""))


def draft_id(replies: list[Reply]) -> int:
    """The draft id carried by the last reply's walk buttons (sc:D:… / wk:D:…)."""
    for row in reversed(replies[-1].callback_data):
        for data in row:
            prefix, _, rest = data.partition(":")
            if prefix in {"sc", "wk"}:
                return int(rest.split(":")[0])
    raise AssertionError(f"no walk button on {replies[-1].text!r}")


async def score_all(
    tg: Harness, user: User, draft: int, values: Sequence[int] = SYT_VALUES
) -> list[Reply]:
    """Tap one value per item, in order; returns what the last tap showed (the summary)."""
    replies: list[Reply] = []
    for index, value in enumerate(values):
        replies = await tg.tap(user, f"sc:{draft}:{index}:{value}")
    return replies


async def actor_of(services: Services, user: User) -> Actor:
    async with services.db.uow() as uow:
        return await load_actor(uow, services, Account(Platform.TELEGRAM, str(user.id)))


async def submitted(
    services: Services,
    user: User,
    name: str = "Báo cáo SYT.pdf",
    data: bytes = b"%PDF-1.7 bao cao Y te",
    values: Sequence[int] = SYT_VALUES,
    unit: str = "",
) -> Submission:
    """A submission made beforehand, straight through the services (no chat, no notices):
    for tests about what the secretariat does with it. The walk itself is tested in chat."""
    actor = await actor_of(services, user)
    step = await svc.start_report(services, actor, unit_ref=unit)
    assert isinstance(step, svc.AskFile), step
    draft = step.ctx.draft.id
    attached = await svc.attach_file(services, actor, draft_id=draft, filename=name, data=data)
    assert isinstance(attached, svc.AskItem), attached
    await _answer_all(services, draft, step.ctx.table.items, values)
    done = await svc.confirm(services, actor, draft_id=draft)
    assert isinstance(done, svc.Receipt), done
    return done.submission


async def _answer_all(
    services: Services, draft: int, items: Sequence[Item], values: Sequence[int]
) -> None:
    """Every item's answer written to the draft at once (the walk is tested in chat)."""
    async with services.db.uow() as uow:
        for item, value in zip(items, values, strict=True):
            await uow.reports.set_draft_value(draft, item.code, value, services.clock.now())
        await uow.commit()


async def reviewed(services: Services, user: User, unit: str, values: Sequence[int]) -> None:
    """A review saved beforehand through the services (the review walk is tested in chat)."""
    actor = await actor_of(services, user)
    step = await svc.start_review(services, actor, unit_ref=unit)
    assert isinstance(step, svc.AskItem), step
    await _answer_all(services, step.ctx.draft.id, step.ctx.table.items, values)
    done = await svc.confirm(services, actor, draft_id=step.ctx.draft.id)
    assert isinstance(done, svc.Reviewed), done


def restarted(tg: Harness) -> Harness:
    """The bot after a restart: a new Dispatcher (empty memory storage) on the same services."""
    return make_harness(tg.services)


async def dispatch(tg: Harness, update: Message | CallbackQuery) -> list[TelegramMethod[Any]]:
    """Every API request one update made (documents and file downloads included)."""
    return await tg.dispatch(update)


async def send_sized(
    tg: Harness, user: User, name: str, size: int, data: bytes = b""
) -> list[TelegramMethod[Any]]:
    """A document whose announced size is `size` (the Harness always says 2048 bytes)."""
    file_id = f"sized{len(tg.bot.mock_session.files) + 1}"
    tg.bot.add_file(file_id, data)
    message = MockMessageDocument(file_id=file_id, file_name=name, user=user)
    document = Document(
        file_id=file_id, file_unique_id=f"u_{file_id}", file_name=name, file_size=size
    )
    return await dispatch(tg, message.model_copy(update={"document": document}))


def replies_of(requests: list[TelegramMethod[Any]]) -> list[Reply]:
    """The texts among raw requests, as Harness.say returns them."""
    return Harness._replies(requests)


def downloads(requests: list[TelegramMethod[Any]]) -> list[GetFile]:
    return [m for m in requests if isinstance(m, GetFile)]


@dataclass(frozen=True)
class SentFile:
    chat_id: int
    name: str
    caption: str
    data: bytes


def documents(requests: list[TelegramMethod[Any]]) -> list[SentFile]:
    """The files and photos the bot sent (BufferedInputFile: the bytes are at hand)."""
    sent = []
    for m in requests:
        if isinstance(m, SendDocument | SendPhoto):
            file = m.document if isinstance(m, SendDocument) else m.photo
            assert isinstance(file, BufferedInputFile)
            sent.append(SentFile(int(m.chat_id), file.filename or "", m.caption or "", file.data))
    return sent


async def raw_tap(tg: Harness, user: User, data: str) -> list[TelegramMethod[Any]]:
    """Harness.tap, returning every request (documents too), not only the texts."""
    bot_user = User(id=42, is_bot=True, first_name="Bot")
    message = MockMessageText("…", user=bot_user, chat=Chat(id=user.id, type="private"))
    return await dispatch(tg, MockCallbackQuery(data=data, user=user, message=message))


async def raw_say(tg: Harness, user: User, text: str) -> list[TelegramMethod[Any]]:
    """Harness.say, returning every request (documents too), not only the texts."""
    return await dispatch(tg, MockMessageText(text, user=user))


async def unit_ids(services: Services) -> dict[str, int]:
    bloc = await bloc_by_code(services, BLOC_CODE)
    return {u.short_name: u.id for u in await units_of(services, bloc)}


async def versions(services: Services, short: str) -> list[Submission]:
    """Every stored version of a unit's report for the bloc's (first) period."""
    bloc = await bloc_by_code(services, BLOC_CODE)
    unit = (await unit_ids(services))[short]
    async with services.db.uow() as uow:
        periods = await uow.reports.periods(bloc.id)
        return await uow.reports.versions(periods[0].id, unit) if periods else []


async def entries(services: Services, submission: Submission, kind: str) -> dict[str, int]:
    async with services.db.uow() as uow:
        return await uow.reports.entries(submission.id, kind)


async def draft_count(services: Services) -> int:
    async with services.db.uow() as uow:
        return int(
            (await uow.session.exec(select(func.count()).select_from(ReportDraftRow))).one()
        )


def stored_files(services: Services) -> list[str]:
    """The content hashes in the file store (uploads in progress are dot-files)."""
    root = services.files.root
    return (
        sorted(p.name for p in root.iterdir() if not p.name.startswith("."))
        if root.exists()
        else []
    )


# --- conference voting: a bloc of four, the conference, ballots and casts ----------------

DUNG = person(2004, "Đỗ", "Thị Dung")  # will represent Sở Văn hóa, Thể thao và Du lịch
GIANG = person(2005, "Vũ", "Văn Giang")  # will represent Sở Thông tin và Truyền thông
LAN2 = person(2201, "Hà", "Văn Thư")  # a second secretariat member
VOTE_UNITS = [*UNITS, ("Sở Thông tin và Truyền thông", "STTTT")]
# When, where, chairing unit, chair (name, title), secretary, counting board, guests, locality.
CONFERENCE = (
    "/conference new 20/12/2024 08:00; Hội trường Sở Y tế; SYT; "
    "Nguyễn Văn Thành, Giám đốc Sở Y tế; Lò Thị Hương; Quàng Thị Mai, Trần Đức Long; "
    "Lãnh đạo UBND tỉnh; Hà Nội"
)


@snapshotted
async def conference_setup(
    tg: Harness,
    *,
    units: Sequence[tuple[str, str]] = VOTE_UNITS,
    checked_in: Sequence[User] = (AN, CUONG, DUNG, GIANG),
    defaults: bool = True,
) -> None:
    """The bloc (four units unless told), An and Bình for Sở Y tế, Cường, Dung and Giang for
    the next units, the conference, the check-ins and (unless told) the default ballots."""
    await tg.admin_setup(units=list(units))
    for user, unit in ((AN, "1"), (BINH, "1"), (CUONG, "2"), (DUNG, "3"), (GIANG, "4")):
        if int(unit) <= len(units):
            await join(tg, user, unit)
    await tg.say(SECRETARY, CONFERENCE)
    for user in checked_in:
        await tg.say(user, f"/checkin {await hall_code(tg.services)}")
    if defaults:
        await tg.say(SECRETARY, "/ballot defaults")


async def ballot_ids(services: Services) -> list[int]:
    """The database ids of the bloc's ballots, in their /ballot order (callback data)."""
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        return [b.ballot.id for b in await uow.votes.ballots(bloc.id)]


@dataclass(frozen=True)
class StoredVote:
    unit: str  # short name
    choice: list[int]
    blank: bool
    other_text: str
    written: bool
    by: int  # identity id


async def open_votes(services: Services, ballot_id: int) -> list[StoredVote]:
    """Every open_vote row of a ballot, by unit (what is recorded, nothing else)."""
    names = {v: k for k, v in (await unit_ids(services)).items()}
    async with services.db.uow() as uow:
        rows = (
            await uow.session.exec(
                select(OpenVoteRow)
                .where(OpenVoteRow.ballot_id == ballot_id)
                .order_by(col(OpenVoteRow.unit_id))
            )
        ).all()
        return [
            StoredVote(
                names[r.unit_id],
                json.loads(r.choice),
                r.blank,
                r.other_text,
                r.written,
                r.identity_id,
            )
            for r in rows
        ]


async def all_open_votes(services: Services) -> int:
    async with services.db.uow() as uow:
        return int((await uow.session.exec(select(func.count()).select_from(OpenVoteRow))).one())


@dataclass(frozen=True)
class SecretRows:
    """What storage holds of a secret ballot: who voted (unit short name, identity id, by
    unit) and how many sealed papers, sealed drafts and counted receipt HMACs — no choice."""

    registered: list[tuple[str, int]]
    box: int
    drafts: int
    counted: int


async def secret_rows(services: Services, ballot_id: int) -> SecretRows:
    names = {v: k for k, v in (await unit_ids(services)).items()}

    async def count(table: Any, column: Any) -> int:
        query = select(func.count()).select_from(table).where(column == ballot_id)
        return int((await uow.session.exec(query)).one())

    async with services.db.uow() as uow:
        register = (
            await uow.session.exec(
                select(SecretRegisterRow)
                .where(SecretRegisterRow.ballot_id == ballot_id)
                .order_by(col(SecretRegisterRow.unit_id))
            )
        ).all()
        return SecretRows(
            [(names[r.unit_id], r.identity_id) for r in register],
            await count(BallotBoxRow, BallotBoxRow.ballot_id),
            await count(SealedDraftRow, SealedDraftRow.ballot_id),
            await count(CountedReceiptRow, CountedReceiptRow.ballot_id),
        )


async def all_secret_rows(services: Services) -> int:
    """Rows of every secret-ballot table (register, box, sealed drafts, counted receipts)."""
    total = 0
    async with services.db.uow() as uow:
        for table in (SecretRegisterRow, BallotBoxRow, SealedDraftRow, CountedReceiptRow):
            total += int((await uow.session.exec(select(func.count()).select_from(table))).one())
    return total


_AUDIT_LINE = {
    "vi": "Mã kiểm chứng nhật ký: <code>{}</code>… "
    "(đối chiếu bằng <code>audit verify --head</code>)",
    "en": "Audit log check code: <code>{}</code>… (checked with <code>audit verify --head</code>)",
}


async def audit_line(services: Services, bloc_id: int | None = None, locale: str = "vi") -> str:
    """The line a ballot result ends with (ballot_result, as Telegram shows it; `to_plain` of it
    for Zalo): the first 16 hex digits of the bloc's audit head (the standard bloc unless
    `bloc_id`). Read it right after the close, before anything else is audited; in
    `assert closed == [... await audit_line(services) ...]` the right side runs after the left."""
    if bloc_id is None:
        bloc_id = (await bloc_by_code(services, BLOC_CODE)).id
    async with services.db.uow() as uow:
        _, head = await uow.audit.head(bloc_id)
    return _AUDIT_LINE[locale].format(head[:16])


async def draft_version(services: Services, ballot_id: int) -> int:
    """The version of the one sealed draft of the ballot (what its confirm button carries)."""
    async with services.db.uow() as uow:
        rows = await uow.session.exec(
            select(SealedDraftRow.version).where(SealedDraftRow.ballot_id == ballot_id)
        )
        (version,) = rows.all()
        return version


async def audit_trail(services: Services) -> list[tuple[str, dict[str, Any]]]:
    """(action, details) of the bloc's audit chain, in order."""
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        return [(entry.action, entry.details) for entry, _, _ in await uow.audit.chain(bloc.id)]


async def cast(
    tg: Harness, user: User, ballot: int, choice: int | list[int] | None
) -> list[Reply]:
    """Vote through the buttons: None the blank ballot, an index a single choice, a list the
    candidates of a multi-choice ballot (toggled, reviewed); returns what the confirm showed."""
    if choice is None:
        await tg.tap(user, f"vt:{ballot}:blank:-1")
        return await tg.tap(user, f"vt:{ballot}:ok:-1")
    if isinstance(choice, int):
        await tg.tap(user, f"vt:{ballot}:pick:{choice}")
        return await tg.tap(user, f"vt:{ballot}:ok:{choice}")
    for index in choice:
        await tg.tap(user, f"vt:{ballot}:tog:{index}")
    await tg.tap(user, f"vt:{ballot}:review:-2")
    return await tg.tap(user, f"vt:{ballot}:ok:-2")


SYT, SGD, SVH, STT = (name for name, _ in VOTE_UNITS)
# The default ballots as the chat names them, and their rules in one line.
REPORT = "Thông qua dự thảo báo cáo tổng kết"
GOV = "Đề nghị tặng Cờ thi đua của Chính phủ"
PROV = "Đề nghị tặng Cờ thi đua của UBND tỉnh"
PM = "Đề nghị tặng Bằng khen của Thủ tướng Chính phủ"
CHAIR = "Đề nghị tặng Bằng khen của Chủ tịch UBND tỉnh (tối đa 3 đơn vị)"
LEADER = "Bầu Trưởng khối năm sau"
DEPUTY = "Bầu Phó trưởng khối năm sau"
OPEN_RULES = "Thông qua khi đạt &gt;50% tổng số đơn vị thành viên; biểu quyết công khai"
AWARD_RULES = (
    "Thông qua khi đạt ≥70% tổng số đơn vị thành viên; không chọn đơn vị mình; bỏ phiếu kín"
)
CHAIR_RULES = (
    "Thông qua khi đạt ≥70% tổng số đơn vị thành viên; chọn tối đa 3 đơn vị; "
    "không chọn đơn vị mình; bỏ phiếu kín"
)
ELECT_RULES = (
    "Thông qua khi đạt &gt;50% tổng số đơn vị thành viên; không chọn đơn vị mình; bỏ phiếu kín"
)
CONFIRM = ["✅ Xác nhận"], ["↩ Chọn lại"]


def confirm_buttons(
    ballot: int, index: int, version: int = 0
) -> tuple[list[list[str]], list[list[str]]]:
    """(labels, callback data) of the confirm step; a multi-choice confirm carries the
    version of the selection it shows."""
    ok = f"vt:{ballot}:ok:{index}" + (f":{version}" if version else "")
    return [*CONFIRM], [[ok], [f"vt:{ballot}:back:0"]]


def confirm_text(name: str, unit: str, choice: str, *, other: str = "", secret: bool) -> str:
    text = f"🗳 <b>{name}</b> — {unit}\nLựa chọn của đơn vị: <b>{choice}</b>"
    if other:
        text += f" — «{other}»"
    text += "\nXác nhận biểu quyết?"
    return text + (" Sau khi xác nhận không thể thay đổi." if secret else "")


def ballot_text(
    name: str,
    unit: str,
    rules: str,
    *,
    closes: str = "",
    current: str = "",
    secret: bool = False,
    sealed: bool = False,
    multi: int = 0,
    chosen: int = 0,
) -> str:
    """What a representative sees of a ballot (vote_ballot); `sealed`: the unit has cast a
    secret ballot, whose choice is never shown again (nothing left to choose either)."""
    text = f"🗳 <b>{name}</b> — {unit}\n{rules}" + (f"; đóng lúc {closes}" if closes else "")
    text += ".\n"
    if sealed:
        return text + (
            "Đơn vị đã bỏ phiếu kín. Phiếu không thể thay đổi; lựa chọn được niêm phong, "
            "không ai đọc được trước khi kiểm phiếu."
        )
    if current:
        again = " Không thể thay đổi." if secret else " Có thể chọn lại đến khi đóng."
        text += f"Đơn vị đã biểu quyết: {current}.{again}\n"
    if multi:
        return text + f"Chọn tối đa {multi} đơn vị (đã chọn {chosen}), rồi bấm «Xác nhận»."
    return text + "Chọn một lựa chọn:"


def opened_notice(name: str, rules: str, closes: str = "") -> str:
    closing = f"; đóng lúc {closes}" if closes else ""
    return (
        f"🗳 <b>{name}</b>\n{rules}{closing}.\n"
        "Bấm nút dưới đây (hoặc gõ /vote) để biểu quyết cho đơn vị."
    )


def opened_text(number: int, name: str, rules: str, units: int = 4, closes: str = "") -> str:
    closing = f"; đóng lúc {closes}" if closes else ""
    return (
        f"✅ Đã mở biểu quyết số {number}: <b>{name}</b>\n{rules}{closing}.\n"
        f"Đã gửi phiếu đến đại diện của {units} đơn vị. Theo dõi: /ballot · "
        f"Đóng và kiểm phiếu: /ballot close {number}"
    )


def done_text(
    unit: str, choice: str, name: str, turnout: int, *, units: int = 4, replaced: bool = False
) -> str:
    again = " (thay cho lựa chọn trước)" if replaced else ""
    return (
        f"✅ Đã ghi nhận biểu quyết của <b>{unit}</b>{again}: {choice}.\n"
        f"{name}: {turnout}/{units} đơn vị đã biểu quyết."
    )


def result(
    name: str,
    counts: tuple[int, int, int, int, int],
    rows: list[tuple[str, int, str, bool]],
    *tail: str,
    rule: str = "ngưỡng ≥70%",
) -> str:
    """The closing text (ballot_result): counts, votes and % per option, then the tail."""
    issued, returned, valid, invalid, blank = counts
    lines = [
        f"📊 <b>Kết quả: {name}</b>",
        f"Số phiếu phát ra: {issued}; thu về: {returned}; hợp lệ: {valid}; "
        f"không hợp lệ: {invalid}" + (f" (phiếu trắng: {blank})" if blank else ""),
        f"Tỷ lệ tính trên {issued} (tổng số đơn vị thành viên); {rule}",
        *[f"• {o}: {v} phiếu ({p}%)" + (" ✔" if ok else "") for o, v, p, ok in rows],
        *tail,
    ]
    return "\n".join(lines)


NOBODY_ELECTED = "Kết luận: không đơn vị nào đạt ngưỡng; chưa có đơn vị trúng cử."

# --- secret ballots: the receipt, the check button, what the secretariat's list ends with ---

ALREADY = "Đơn vị đã bỏ phiếu; phiếu kín không thể thay đổi."
CHECK_BUTTON = ([["🔎 Kiểm tra phiếu"]], [["vt:0:check:0"]])  # labels, callback data
LIST_FOOTER = (
    "Mở: /ballot open SỐ · Hẹn giờ: /ballot schedule SỐ; giờ mở; giờ đóng · "
    "Đóng và kiểm phiếu: /ballot close SỐ · "
    "Kín/công khai (khi chưa mở): /ballot secret SỐ; kín|công khai\n"
    "Với phiếu kín chỉ hiển thị số đơn vị đã bỏ phiếu, không có kết quả từng phần."
)
_RECEIPT = re.compile(r"Mã biên nhận: <code>(\w{4}-\w{4}-\w{4})</code>")


def sealed_done_text(unit: str, name: str, turnout: int, receipt: str, *, units: int = 4) -> str:
    """The reply to a confirmed secret ballot: the receipt, once; never the choice."""
    return (
        f"✅ Phiếu kín của <b>{unit}</b> đã được bỏ vào hòm phiếu.\n"
        f"Mã biên nhận: <code>{receipt}</code>\n\n"
        "Hãy lưu mã này ngay: bot không lưu mã và sẽ không hiển thị lại. Sau khi kiểm phiếu, "
        "bấm /vote → «Kiểm tra phiếu» và gửi mã để xác nhận phiếu của đơn vị đã được kiểm. "
        "Phiếu kín không thể thay đổi.\n"
        f"{name}: {turnout}/{units} đơn vị đã bỏ phiếu."
    )


def receipt_of(reply: Reply) -> str:
    """The receipt code a confirmed secret ballot showed (display form)."""
    found = _RECEIPT.search(reply.text)
    assert found is not None, f"no receipt in {reply.text!r}"
    return found.group(1)


async def voted(
    services: Services, user: User, ballot: int, choice: int | list[int] | None
) -> None:
    """A vote cast beforehand, straight through the services (no chat, no notices): for tests
    about the count. Casting itself is tested in chat."""
    actor = await actor_of(services, user)
    if choice is None:
        marked = Choice(blank=True)
    else:
        marked = Choice((choice,) if isinstance(choice, int) else tuple(choice))
    done = await voting_svc.cast_vote(services, actor, ballot_id=ballot, choice=marked)
    assert isinstance(done, voting_svc.Accepted), done


# What the bot adds after the DOCX it sends where LibreOffice is not installed (the default of
# the tests' Services: no PDFs).
NO_PDF = (
    "ℹ️ Máy chủ này không tạo bản PDF (để ký số) vì chưa cài LibreOffice; các tệp Word (DOCX) "
    "vẫn đầy đủ. Người quản trị máy chủ cài LibreOffice (gói libreoffice-writer) thì bot gửi "
    "kèm bản PDF."
)
