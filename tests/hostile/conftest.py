"""The world the fuzz plays against, and what every one of its cases must respect.

The world (two blocs, representatives, an observer, a conference with open ballots, a report
period with a walk in progress, a linked group) is built once, through the real commands.
Each case then runs in a savepoint that is rolled back, with the conversation states put
back, so cases never see each other's leftovers and a failing case replays (and shrinks)
against the same world.

The generated cases run on SQLite only (`world`): thousands of cases on both backends would
double the time for little, the handlers being the same. `pg_world` is the same world on
PostgreSQL, for the sweeps of what only PostgreSQL refuses (32-bit integer columns, NUL
characters in text).

`zalo_side(world)` puts the same people on Zalo for one test (each Zalo account linked to
the Telegram identity through `/link` and `lien ket`, the stranger's too), with a `ZaloBot`
on the fake Zalo Bot API and the outbox sent to both platforms; its cases are checked by
`ZaloSide.check` and the same `World.check_storage`.
"""

from __future__ import annotations

import copy
import hashlib
import html
import itertools
import logging
import re
import traceback
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiogram import Bot
from aiogram.client.default import Default
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage, MemoryStorageRecord
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageText,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import Chat, Document, InlineKeyboardMarkup, Update, User
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from teremok import MockCallbackQuery, MockMessageDocument, MockMessageText
from teremok.builders import next_update_id
from teremok.validation import ApiRuleViolation, validate_html, validate_method

from bot.core.models import Locale, Platform
from bot.core.text import clean
from bot.fakes.clock import FakeClock
from bot.fakes.ratelimit import NoRateLimit
from bot.fakes.zalo import FakeZalo, ZaloSent, ZaloUser
from bot.render import Renderer
from bot.services.app import Services
from handlers.channels import Channels
from handlers.telegram.notifier import TelegramNotifier
from handlers.telegram.ui import Ui
from handlers.zalo.bot import ZaloBot
from handlers.zalo.client import MAX_TEXT, ZaloClient, parse_update
from handlers.zalo.notifier import ZaloNotifier
from scheduler.sender import Sender
from storage.db import create_engine
from storage.files import FileStore
from storage.migrate import migrate
from storage.uow import Database
from tests.conftest import ADMIN, AUDIT_KEY, BALLOT_SECRET, START, pg_engine
from tests.handlers.conftest import GROUP, SECRETARY, Harness, make_harness, person
from tests.handlers.support import (
    AN,
    BINH,
    BLOC_CODE,
    CUONG,
    DUNG,
    GIANG,
    OPEN_PERIOD,
    STRANGER,
    TABLE_EXAMPLE,
    bloc_by_code,
    conference_setup,
    csv_bytes,
    draft_id,
    identity,
    join,
    receipt_of,
    submitted,
    units_of,
)

OBSERVER = person(2301, "Đinh", "Thị Quan")
NEWCOMER = person(3002, "Mới", "Đến")  # joins through the spare invite in some cases
OTHER_CODE = "CVT"
# Everyone the fuzz writes as: each role of the bloc, and someone in no bloc at all.
ROLES: dict[str, User] = {
    "secretary": SECRETARY,
    "representative": AN,
    "co-representative": BINH,
    "other unit": CUONG,
    "observer": OBSERVER,
    "stranger": STRANGER,
}
BOT = User(id=42, is_bot=True, first_name="Bot")
# Only these tags are in the templates: any other tag in a reply came from a user's text.
TEMPLATE_TAGS = frozenset({"b", "code"})
_TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9-]*)")
# A bloc that opted in publishes "receipt -> choice" with the count: the one place a receipt
# is shown again, by design (bloc_receipts_warning).
PUBLISHED_RECEIPTS = ("Mã biên nhận và lựa chọn (khối công bố", "Receipt codes and choices (")


def who(user: User) -> str:
    """A sender as a case names it: the role, and the display name if it was changed."""
    for role, known in ROLES.items():
        if known.id == user.id:
            return role if known.full_name == user.full_name else f"{role} as {user.full_name!r}"
    return f"{user.id} {user.full_name!r}"


@dataclass(frozen=True)
class Say:
    """A text message (in the sender's private chat unless `chat` is given)."""

    user: User
    text: str
    chat: Chat | None = None
    edited: bool = False

    def __repr__(self) -> str:
        where = f", chat={self.chat.id}" if self.chat else ""
        return f"Say({who(self.user)}, {self.text!r}{where}{', edited' if self.edited else ''})"


@dataclass(frozen=True)
class Tap:
    """A button press carrying `data`, on a message of the bot in the sender's chat."""

    user: User
    data: str

    def __repr__(self) -> str:
        return f"Tap({who(self.user)}, {self.data!r})"


@dataclass(frozen=True)
class Upload:
    """A document; `size` is what Telegram announces (None: the real size)."""

    user: User
    name: str
    data: bytes
    caption: str | None = None
    size: int | None = None

    def __repr__(self) -> str:
        data = repr(self.data) if len(self.data) <= 500 else f"{self.data[:200]!r}…"
        return (
            f"Upload({who(self.user)}, {self.name!r}, {len(self.data)} bytes {data}, "
            f"caption={self.caption!r}, size={self.size})"
        )


Step = Say | Tap | Upload


class ErrorLog(logging.Handler):
    """Every record at ERROR or above: the errors router logs each exception it caught."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def describe(self) -> str:
        lines = []
        for r in self.records:
            lines.append(f"{r.name}: {r.getMessage()}")
            if r.exc_info and r.exc_info[1] is not None:
                lines.append("".join(traceback.format_exception(r.exc_info[1])))
        return "\n".join(lines)


@dataclass(frozen=True)
class Ids:
    """Database ids a forged payload may name: this bloc's and another bloc's."""

    ballots: tuple[int, ...]  # every ballot of both blocs
    open_ballot: int  # public, open, nobody has voted
    secret_ballot: int  # secret, open, An has cast Sở Y tế's paper
    other_ballot: int  # another bloc's ballot (nobody here represents a unit there)
    units: tuple[int, ...]
    other_units: tuple[int, ...]
    draft: int  # An's report draft, waiting for the file
    period: int  # the open report period
    blocs: tuple[int, ...]
    identities: tuple[int, ...]
    member: int  # Bình's identity: a representative the secretary may take off

    def all(self) -> list[int]:
        singles = (
            self.open_ballot,
            self.secret_ballot,
            self.other_ballot,
            self.draft,
            self.period,
        )
        return sorted(
            {*self.ballots, *self.units, *self.other_units, *self.blocs, *self.identities}
            | set(singles)
        )


def _said(method: TelegramMethod[Any]) -> str | None:
    if isinstance(method, SendMessage | EditMessageText):
        return method.text
    if isinstance(method, AnswerCallbackQuery):
        return method.text
    return None


def _texts(method: TelegramMethod[Any]) -> Iterable[str]:
    for name in ("text", "caption"):
        value = getattr(method, name, None)
        if isinstance(value, str):
            yield value
    markup = getattr(method, "reply_markup", None)
    if isinstance(markup, InlineKeyboardMarkup):
        for row in markup.inline_keyboard:
            for button in row:
                yield button.text
                yield button.callback_data or ""
                yield button.url or ""


def refusal(bot: Bot, method: TelegramMethod[Any]) -> str | None:
    """Why Telegram would refuse this request, or None: teremok's rules, except that lengths
    count characters after entity parsing, as Telegram does (teremok counts the raw HTML,
    so "&lt;" would count 4)."""
    mode = getattr(method, "parse_mode", None)
    as_html = isinstance(mode, Default) or (isinstance(mode, str) and mode.upper() == "HTML")
    shown: dict[str, Any] = {}
    try:
        for name in ("text", "caption"):
            value = getattr(method, name, None)
            if isinstance(value, str) and as_html:
                validate_html(value)
                shown[name] = html.unescape(re.sub(r"<[^>]*>", "", value))
        if "parse_mode" in type(method).model_fields:
            shown["parse_mode"] = None
        validate_method(bot, method.model_copy(update=shown))
    except ApiRuleViolation as refused:
        return refused.description
    return None


@dataclass
class World:
    """The world as built (ids, who may vote, what must never show) and its cases."""

    tg: Harness
    conn: AsyncConnection
    ids: Ids
    spare_code: str  # an unused representative invite for Sở Văn hóa (bare)
    receipt: str  # An's secret-ballot receipt, shown once at the cast
    voters: dict[int, int]  # identity id -> the unit it may vote for
    secretariat: frozenset[int]
    stranger: int  # the stranger's identity id
    errors: ErrorLog
    fsm: dict[StorageKey, MemoryStorageRecord] = field(default_factory=dict)
    internal_error: frozenset[str] = frozenset()
    steps: int = 0

    @property
    def storage(self) -> MemoryStorage:
        storage = self.tg.bot.dp.storage
        assert isinstance(storage, MemoryStorage)
        return storage

    def secrets(self) -> list[str]:
        bare = self.spare_code
        display = "-".join(bare[i : i + 4] for i in range(0, 16, 4))
        return [bare, display, AUDIT_KEY.decode(), BALLOT_SECRET.decode()]

    async def play(self, steps: Iterable[Step]) -> list[list[str]]:
        """One case: its steps against the world as built, then the world put back.
        Returns the texts each step got back (messages, then alerts)."""
        savepoint = await self.conn.begin_nested()
        self.storage.storage.clear()
        self.storage.storage.update(copy.deepcopy(self.fsm))
        answers: list[list[str]] = []
        try:
            for step in steps:
                self.errors.records.clear()
                requests = await self.send(step)
                self.steps += 1
                self.check(step, requests)
                answers.append([t for m in requests if (t := _said(m)) is not None])
            await self.check_storage()
        finally:
            await savepoint.rollback()
            self.tg.bot.mock_session.requests.clear()
        return answers

    async def send(self, step: Step) -> list[TelegramMethod[Any]]:
        bot = self.tg.bot
        if isinstance(step, Say):
            message = MockMessageText(step.text, user=step.user, chat=step.chat)
            if step.edited:
                edited = message.model_copy(update={"edit_date": 1})
                requests = await self.tg.dispatch(
                    Update(update_id=next_update_id(), edited_message=edited)
                )
            else:
                requests = await self.tg.dispatch(message)
        elif isinstance(step, Tap):
            shown = MockMessageText("…", user=BOT, chat=Chat(id=step.user.id, type="private"))
            requests = await self.tg.dispatch(
                MockCallbackQuery(data=step.data, user=step.user, message=shown)
            )
        else:
            file_id = f"h{len(bot.mock_session.files) + 1}"
            bot.add_file(file_id, step.data)
            size = len(step.data) if step.size is None else step.size
            document = Document(
                file_id=file_id, file_unique_id=f"u_{file_id}", file_name=step.name, file_size=size
            )
            message = MockMessageDocument(
                file_id=file_id, file_name=step.name, caption=step.caption, user=step.user
            ).model_copy(update={"document": document})
            requests = await self.tg.dispatch(message)
        return requests

    def check(self, step: Step, requests: list[TelegramMethod[Any]]) -> None:
        """No failure caught by the errors router; every request one Telegram would take."""
        assert not self.errors.records, f"{step!r} failed in the bot:\n{self.errors.describe()}"
        for method in requests:
            refused = refusal(self.tg.bot, method)
            assert refused is None, (
                f"{step!r}: Telegram refuses {type(method).__name__} ({refused}): "
                f"{getattr(method, 'text', None) or getattr(method, 'caption', None)!r}"
            )
            for text in _texts(method):
                for secret in self.secrets():
                    assert secret not in text, f"{step!r} leaked {secret!r}: {text!r}"
                if self.receipt in text:
                    assert any(p in text for p in PUBLISHED_RECEIPTS), (
                        f"{step!r} showed the receipt again: {text!r}"
                    )
            if isinstance(method, SendMessage | EditMessageText):
                assert method.text not in self.internal_error, f"{step!r}: internal error"
                tags = set(_TAG.findall(method.text or "")) - TEMPLATE_TAGS
                assert not tags, f"{step!r}: user markup {tags} reached a reply: {method.text!r}"
            if isinstance(method, AnswerCallbackQuery):
                assert method.text not in self.internal_error, f"{step!r}: internal error"
        if isinstance(step, Tap):
            assert any(isinstance(m, AnswerCallbackQuery) for m in requests), (
                f"{step!r} left the button spinning (no answerCallbackQuery)"
            )
        elif isinstance(step, Upload) or (step.chat is None and not step.edited):
            # Whatever one writes to the bot in private gets an answer (an edit is no request).
            shown = (SendMessage, SendDocument, SendPhoto, EditMessageText)
            assert any(isinstance(m, shown) for m in requests), f"{step!r} got no answer"

    async def check_storage(self) -> None:
        """Votes only for a unit by one of its representatives (or written in by the
        secretariat); the stranger still belongs to no bloc. One query: it runs per case."""
        rows = await self.conn.execute(
            sql(
                "SELECT 'vote', identity_id, unit_id, CAST(written AS INTEGER) FROM open_vote "
                "UNION ALL SELECT 'paper', identity_id, unit_id, 0 FROM secret_register "
                "UNION ALL SELECT 'member', identity_id, unit_id, 0 FROM membership "
                "WHERE identity_id = :stranger"
            ),
            {"stranger": self.stranger},
        )
        for kind, identity_id, unit_id, written in rows:
            if kind == "member":
                raise AssertionError(f"the stranger joined (unit {unit_id})")
            if written:  # a paper vote the secretariat typed in
                assert identity_id in self.secretariat, f"a written vote by {identity_id}"
            else:
                assert self.voters.get(identity_id) == unit_id, (
                    f"a {kind} for unit {unit_id} by identity {identity_id}"
                )


def _unguessable() -> Callable[[int], bytes]:
    """Deterministic but scattered codes: the default test counter makes codes such as
    0000-0000-0000-0007, which a generated guess could hit."""
    counter = itertools.count(1)
    return lambda n: hashlib.sha256(b"hostile-%d" % next(counter)).digest()[:n]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """The world on SQLite, built once for the module's tests (they play it on the module's
    event loop)."""
    root = tmp_path_factory.mktemp("hostile")
    engine = create_engine(f"sqlite+aiosqlite:///{root / 'hostile.db'}")
    await migrate(engine)
    async with _world_on(engine, root) as built:
        yield built
    await engine.dispose()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pg_world(
    pg_schema: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    """The same world on PostgreSQL (the session's migrated schema), for what only
    PostgreSQL refuses: 32-bit integer columns, NUL characters in text."""
    engine = pg_engine(pg_schema)
    async with _world_on(engine, tmp_path_factory.mktemp("hostile-pg")) as built:
        yield built
    await engine.dispose()


@asynccontextmanager
async def _world_on(engine: AsyncEngine, root: Path) -> AsyncIterator[World]:
    """Services made as tests/conftest.py makes them, in one outer transaction rolled back
    at the end; the world built on them; failures logged meanwhile are collected."""
    async with engine.connect() as conn:
        outer = await conn.begin()
        services = Services(
            db=Database(engine, bind=conn),
            clock=FakeClock(START),
            renderer=Renderer(),
            audit_key=AUDIT_KEY,
            ballot_secret=BALLOT_SECRET,
            files=FileStore(root / "files"),
            admins=frozenset({ADMIN}),
            bot_username="thidua_test_bot",
            token_bytes=_unguessable(),
        )
        built = await _build(services, conn)
        logs = logging.getLogger()
        logs.addHandler(built.errors)
        try:
            yield built
        finally:
            logs.removeHandler(built.errors)
            await outer.rollback()


async def _build(services: Services, conn: AsyncConnection) -> World:
    tg = make_harness(services)
    # Every request is checked after its update by World.check, with Telegram's length rule;
    # teremok's own check (raw HTML length) would turn an accepted reply into an error.
    tg.bot.mock_session.validate = False
    await conference_setup(tg)  # four units, An and Bình for Sở Y tế, the default ballots
    await join(tg, OBSERVER, "observer")
    await tg.send_file(SECRETARY, "bang-cham-diem.yaml", TABLE_EXAMPLE.read_bytes(), "/criteria")
    await tg.say(SECRETARY, OPEN_PERIOD)
    await tg.say(SECRETARY, "/deadlines add Nộp danh sách cá nhân tiêu biểu; 17:00 18/12/2024")
    await tg.say(SECRETARY, "/covenant set 17:00 20/12/2024; Các đơn vị cam kết thi đua năm 2025.")
    await tg.say(SECRETARY, "/bloc link", chat=GROUP)
    await submitted(services, CUONG)  # Sở GD&ĐT has reported: /review and /return have work
    await tg.say(SECRETARY, "/ballot open 1")  # approve the report: public
    await tg.say(SECRETARY, "/ballot open 6")  # elect the leader: secret
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        ballots = [b.ballot.id for b in await uow.votes.ballots(bloc.id)]
    await tg.tap(AN, f"vt:{ballots[5]}:pick:1")
    receipt = receipt_of((await tg.tap(AN, f"vt:{ballots[5]}:ok:1"))[0])
    draft = draft_id(await tg.say(AN, "/report"))

    # Another bloc of the same secretary, with a conference and ballots, then back.
    await tg.say(SECRETARY, f"/bloc new Cụm thi đua các huyện; Cụm; 2024; {OTHER_CODE}")
    units = csv_bytes([("Tên đơn vị", "Tên viết tắt"), ("Huyện A", "HA"), ("Huyện B", "HB")])
    await tg.send_file(SECRETARY, "units.csv", units, "/units import")
    await tg.say(
        SECRETARY, "/conference new 21/12/2024 08:00; Hội trường; HA; Lê Văn A; Lò Thị B; C, D; E"
    )
    await tg.say(SECRETARY, "/ballot defaults")
    await tg.say(SECRETARY, f"/bloc use {BLOC_CODE}")
    other = await bloc_by_code(services, OTHER_CODE)
    async with services.db.uow() as uow:
        others = [b.ballot.id for b in await uow.votes.ballots(other.id)]
        (period, *_) = await uow.reports.periods(bloc.id)
    spare = (await tg.invite_code("3")).replace("-", "")
    await tg.say(STRANGER, "/start")  # the stranger is known to the bot, in no bloc

    people = {u.id: await identity(services, u) for u in (*ROLES.values(), DUNG, GIANG)}
    unit_rows = await units_of(services, bloc)
    represents = ((AN, 0), (BINH, 0), (CUONG, 1), (DUNG, 2), (GIANG, 3))
    world = World(
        tg=tg,
        conn=conn,
        ids=Ids(
            ballots=(*ballots, *others),
            open_ballot=ballots[0],
            secret_ballot=ballots[5],
            other_ballot=others[0],
            units=tuple(u.id for u in unit_rows),
            other_units=tuple(u.id for u in await units_of(services, other)),
            draft=draft,
            period=period.id,
            blocs=(bloc.id, other.id),
            identities=tuple(i.id for i in people.values()),
            member=people[BINH.id].id,
        ),
        spare_code=spare,
        receipt=receipt,
        voters={people[u.id].id: unit_rows[n].id for u, n in represents},
        secretariat=frozenset({people[SECRETARY.id].id}),
        stranger=people[STRANGER.id].id,
        errors=ErrorLog(),
        internal_error=frozenset(
            Ui(services.renderer, locale).text("internal_error")
            for locale in (Locale.VI, Locale.EN)
        ),
    )
    world.fsm = copy.deepcopy(dict(world.storage.storage))
    tg.bot.mock_session.requests.clear()
    return world


# --- the same people on Zalo ----------------------------------------------------------------

ZALO_TOKEN = "1234567890:zalo-hostile-token-abcdefghijklmno"
# Each role's Zalo account, and the Telegram account whose identity it is linked to.
ZALO_ROLES: dict[str, tuple[ZaloUser, User]] = {
    "secretary": (ZaloUser("8810000000000000001", "Lò Thị Hương"), SECRETARY),
    "representative": (ZaloUser("8810000000000000002", "Nguyễn Văn An"), AN),
    "observer": (ZaloUser("8810000000000000003", "Đinh Thị Quan"), OBSERVER),
    "stranger": (ZaloUser("8810000000000000004", "Hoàng Minh"), STRANGER),
}
# Markup or an HTML entity in a text sent to Zalo, which shows plain text only: a template's
# tag (<b>, <code>) or an escape (&lt;) that `to_plain` left behind.
_MARKUP = re.compile(
    r"</?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?/?>|&(?:[a-zA-Z][a-zA-Z0-9]*|#[0-9]+|#[xX][0-9a-fA-F]+);"
)


# A covenant of some 3,400 characters in lines (plain: "&" and "<" are no markup).
LONG = "\n".join(
    f"Điều {n}. Đơn vị cam kết hoàn thành chỉ tiêu năm 2025 & giữ tỷ lệ sai sót < 1%."
    for n in range(1, 44)
)


def zalo_who(user: ZaloUser) -> str:
    for role, (known, _) in ZALO_ROLES.items():
        if known.id == user.id:
            return f"zalo {role}"
    return f"zalo {user.id} {user.display_name!r}"


@dataclass(frozen=True)
class ZaloSay:
    """A text typed on Zalo, in the sender's private chat."""

    user: ZaloUser
    text: str

    def __repr__(self) -> str:
        return f"ZaloSay({zalo_who(self.user)}, {self.text!r})"


@dataclass
class ZaloSide:
    """The world's people on Zalo: a `ZaloBot` on the fake Zalo Bot API, the same services."""

    world: World
    fake: FakeZalo
    bot: ZaloBot
    storage: MemoryStorage  # where Zalo conversations wait

    async def say(self, user: ZaloUser, text: str) -> list[ZaloSent]:
        """One message handled; everything the bot then sent on Zalo (to anyone)."""
        before = len(self.fake.sent)
        update = parse_update(self.fake.update(user, text))
        assert update is not None
        await self.bot.handle(update)
        return self.fake.sent[before:]

    async def play(self, steps: Iterable[ZaloSay]) -> list[list[str]]:
        """One case, as `World.play`: in a savepoint rolled back, the conversations (and the
        strangers' answer budget) as built. Returns the texts each step got back."""
        world = self.world
        savepoint = await world.conn.begin_nested()
        self.storage.storage.clear()
        world.storage.storage.clear()
        world.storage.storage.update(copy.deepcopy(world.fsm))
        self.bot._strangers.clear()
        requests = world.tg.bot.mock_session.requests
        answers: list[list[str]] = []
        try:
            for step in steps:
                world.errors.records.clear()
                telegram = len(requests)
                try:
                    sent = await self.say(step.user, step.text)
                except Exception as exc:  # a refused send (ZaloError) leaves the bot's hands
                    detail = "".join(traceback.format_exception(exc))
                    raise AssertionError(f"{step!r} raised:\n{detail}") from exc
                world.steps += 1
                self.check(step, sent, requests[telegram:])
                answers.append([s.text for s in sent if s.chat_id == step.user.id])
            await world.check_storage()
        finally:
            await savepoint.rollback()
            requests.clear()
        return answers

    def check(
        self, step: ZaloSay, sent: list[ZaloSent], telegram: list[TelegramMethod[Any]]
    ) -> None:
        """No failure logged; an answer to the sender; every text sent on Zalo (answers and
        notices) non-empty, within 2,000 characters, plain (no markup but what the sender
        typed), no secret; what the update sent on Telegram (notices) Telegram accepts."""
        world = self.world
        assert not world.errors.records, f"{step!r} failed in the bot:\n{world.errors.describe()}"
        assert any(s.chat_id == step.user.id and s.method == "sendMessage" for s in sent), (
            f"{step!r} got no answer"
        )
        # What the sender typed (their text, their display name) may come back as typed.
        name = step.user.display_name
        typed = "\n".join((step.text, clean(step.text), name, clean(name)))
        for message in sent:
            text = message.text
            assert text.strip(), f"{step!r}: an empty {message.method} to {message.chat_id}"
            assert len(text) <= MAX_TEXT, f"{step!r}: {len(text)} characters: {text[:200]!r}…"
            leaked = {m for m in _MARKUP.findall(text) if m not in typed}
            assert not leaked, f"{step!r}: markup {leaked} reached Zalo: {text!r}"
            for secret in world.secrets():
                assert secret not in text, f"{step!r} leaked {secret!r}: {text!r}"
            if world.receipt in text:
                assert any(p in text for p in PUBLISHED_RECEIPTS), (
                    f"{step!r} showed the receipt again: {text!r}"
                )
        for method in telegram:
            refused = refusal(world.tg.bot, method)
            assert refused is None, (
                f"{step!r}: Telegram refuses {type(method).__name__}: {refused}"
            )


@asynccontextmanager
async def zalo_side(world: World) -> AsyncIterator[ZaloSide]:
    """The world's secretary, representative (An), observer and stranger also on Zalo, for
    one test: linked in a savepoint rolled back at the end; meanwhile the outbox goes to both
    platforms (a Zalo member's notices reach Zalo) and the services offer linking."""
    services = world.tg.services
    saved = (world.tg.sender, services.channels)
    outer = await world.conn.begin_nested()
    async with FakeZalo(ZALO_TOKEN) as fake:
        client = ZaloClient(ZALO_TOKEN, fake.url, backoff=0.01)
        channels = Channels(
            {
                Platform.TELEGRAM: TelegramNotifier(world.tg.bot),
                Platform.ZALO: ZaloNotifier(client),
            }
        )
        sender = Sender(services.db, channels, NoRateLimit(), services.clock, services.renderer)
        world.tg.sender = sender
        services.channels = frozenset({Platform.TELEGRAM, Platform.ZALO})
        storage = MemoryStorage()
        side = ZaloSide(world, fake, ZaloBot(services, client, storage=storage), storage)
        try:
            for user, telegram in ZALO_ROLES.values():
                (issued,) = await world.tg.say(telegram, "/link")
                code = re.search(r"lien ket (\w{4}-\w{4})", issued.text)
                assert code is not None, issued.text
                await side.say(user, f"lien ket {code.group(1)}")
                (linked,) = await side.say(user, "1")
                assert linked.text.startswith("✅"), linked.text
            # A covenant near its limit: `giao uoc` answers it in two Zalo messages.
            covenant = await world.tg.say(SECRETARY, f"/covenant set 17:00 20/12/2024; {LONG}")
            assert covenant[0].text.startswith("✅"), covenant[0].text
            fake.sent.clear()
            world.tg.bot.mock_session.requests.clear()
            yield side
        finally:
            world.tg.sender, services.channels = saved
            await client.close()
            await outer.rollback()
            world.storage.storage.clear()
            world.storage.storage.update(copy.deepcopy(world.fsm))
            world.tg.bot.mock_session.requests.clear()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How many cases (and updates) each test played, for the closing note: generated by
    hypothesis, or every combination of a sweep."""
    _loop_lag(terminalreporter)
    rows: list[tuple[str, str, int, int]] = []
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "") != "call":
                continue
            for name, value in getattr(report, "user_properties", []):
                if name == "hostile" and isinstance(value, dict):
                    row = (str(value["how"]), str(value["kind"]), value["cases"], value["updates"])
                    rows.append((row[0], row[1], int(row[2]), int(row[3])))
    if not rows:
        return
    terminalreporter.section("hostile input")
    for how in ("generated", "all"):
        mine = sorted(r for r in rows if r[0] == how)
        for _, kind, cases, updates in mine:
            label = "generated" if how == "generated" else "every combination"
            terminalreporter.write_line(f"{kind}: {cases} cases ({label}), {updates} updates")
        if mine:
            cases, updates = sum(r[2] for r in mine), sum(r[3] for r in mine)
            label = "generated" if how == "generated" else "swept"
            terminalreporter.write_line(f"total {label}: {cases} cases, {updates} updates")


def _loop_lag(terminalreporter: pytest.TerminalReporter) -> None:
    """The event loop's worst lag while each hostile file was refused (test_files.py)."""
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            for name, value in getattr(report, "user_properties", []):
                if name != "loop lag" or not isinstance(value, dict):
                    continue
                terminalreporter.section("event-loop lag")
                for what, figures in value.items():
                    terminalreporter.write_line(
                        f"{what}: {figures['bytes']:,} bytes, worst lag "
                        f"{figures['worst lag ms']} ms, /help answered first: "
                        f"{figures['help answered first']}"
                    )
