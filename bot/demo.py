"""The offline demo: the real bot, against the fake Bot API, on a fake clock, from a fixed seed.

It plays a secretariat and the representatives of a sample bloc modelled on the Khối thi đua
Văn hóa - Xã hội of Điện Biên province, and writes a readable transcript. Same seed, same
clock: the same transcript byte for byte on every run.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import html
import io
import logging
import random
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from bot.core.models import Account, Platform
from bot.fakes.clock import FakeClock
from bot.fakes.telegram import FakeTelegram, FakeUser, SentMessage
from bot.fakes.zalo import FakeZalo, ZaloSent, ZaloUser
from bot.render import Renderer
from bot.services.app import Services
from bot.services.pdf import PdfConverter, find_soffice
from storage.db import create_engine
from storage.files import FileStore
from storage.migrate import migrate
from storage.uow import Database

if TYPE_CHECKING:
    from bot.services.actors import Actor
    from handlers.zalo.bot import ZaloBot
    from scheduler.sender import Sender
    from scheduler.tick import Ticker

DEMO_TOKEN = "5000000001:AAHdemoDEMOdemo0demoDEMOdemo0demo12"
DEMO_ZALO_TOKEN = "3000000001:demo-zalo-token-not-for-production"
DEMO_AUDIT_KEY = b"demo-audit-key-not-for-production"
DEMO_BALLOT_SECRET = b"demo-ballot-secret-not-for-production"
SEED = 2022
START = datetime(2022, 11, 21, 1, 30, tzinfo=UTC)  # Monday 08:30 in Điện Biên
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
GROUP_ID = -1001500000001

SECRETARY = FakeUser(1001, "Lò Thị", "Hương", username="huong_skhcn")
UNITS: list[tuple[str, str, str]] = [
    ("Sở Khoa học và Công nghệ", "SKHCN", "Văn phòng Sở"),
    ("Đài Phát thanh - Truyền hình tỉnh", "ĐPTTH", "Phòng Tổ chức - Hành chính"),
    ("Sở Văn hóa, Thể thao và Du lịch", "SVHTTDL", ""),
    ("Sở Y tế", "SYT", ""),
    ("Sở Giáo dục và Đào tạo", "SGDĐT", ""),
    ("Sở Lao động - Thương binh và Xã hội", "SLĐTBXH", ""),
    ("Sở Thông tin và Truyền thông", "STTTT", ""),
    ("Báo Điện Biên Phủ", "BĐBP", ""),
    ("Trường Cao đẳng Y tế Điện Biên", "CĐYT", ""),
    ("Trường Cao đẳng Sư phạm Điện Biên", "CĐSP", ""),
]
REPRESENTATIVES: dict[str, FakeUser] = {
    "SKHCN": FakeUser(2001, "Nguyễn Văn", "Thành"),
    "ĐPTTH": FakeUser(2002, "Quàng Thị", "Mai"),
    "SVHTTDL": FakeUser(2003, "Trần Đức", "Long"),
    "SYT": FakeUser(2004, "Lê Thị", "Hoa"),
    "SGDĐT": FakeUser(2005, "Vì Văn", "Bình"),
    "SLĐTBXH": FakeUser(2006, "Phạm Thị", "Thu"),
    "STTTT": FakeUser(2007, "Hoàng Văn", "Nam"),
    "BĐBP": FakeUser(2008, "Đỗ Thị", "Yến"),
}
SECOND_SYT = FakeUser(2104, "Bùi Văn", "Khánh")
SCORING_TABLE = """\
title: Bảng chấm điểm thi đua năm 2022 - Khối thi đua Văn hóa - Xã hội
groups:
  - title: "I. Thực hiện nhiệm vụ chính trị được giao"
    criteria:
      - {code: "1.1", title: "Hoàn thành các chỉ tiêu, nhiệm vụ chuyên môn năm 2022", max: 40}
      - {code: "1.2", title: "Cải cách hành chính, chuyển đổi số", max: 15}
  - title: "II. Công tác thi đua, khen thưởng"
    criteria:
      - {code: "2.1", title: "Tổ chức phong trào thi đua, nhân rộng điển hình", max: 20}
      - {code: "2.2", title: "Tham gia hoạt động của Khối; báo cáo đúng hạn", max: 10}
  - title: "III. Xây dựng Đảng, đoàn thể"
    criteria:
      - {code: "3.1", title: "Xây dựng tổ chức Đảng, đoàn thể trong sạch, vững mạnh", max: 15}
bonus:
  cap: 5
  items:
    - {code: "T1", title: "Sáng kiến, mô hình mới được công nhận", max: 5}
penalty:
  cap: 5
  items:
    - {code: "P1", title: "Chậm gửi báo cáo, hồ sơ theo yêu cầu của Khối", max: 5}
"""
# Self-scores, item by item (1.1, 1.2, 2.1, 2.2, 3.1, T1, P1), as the units would type them.
SCORES: dict[str, list[str]] = {
    "SKHCN": ["39", "14,5", "19", "10", "15", "3", "0"],
    "ĐPTTH": ["40", "15", "19,5", "10", "15", "4", "0"],
    "SVHTTDL": ["38", "14", "19", "9,5", "14,5", "2", "0"],
    "SGDĐT": ["39,5", "14", "18,5", "10", "15", "3", "0"],
    "STTTT": ["37", "15", "18", "9", "14", "2,5", "1"],
    "BĐBP": ["38,5", "13,5", "19", "10", "14,5", "1", "0"],
    "SLĐTBXH": ["38", "14", "18", "9,5", "15", "2", "0"],
    "CĐSP": ["37,5", "13", "18,5", "9", "14", "0", "0"],
}
LATE_CDYT = FakeUser(2009, "Lường Văn", "Tú")


def _csv(rows: list[tuple[str, str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Tên đơn vị", "Tên viết tắt", "Liên hệ"])
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


_SIGNIN = re.compile(r"https?://\S+/signin/[A-Za-z0-9_-]{43}")
_SCREEN_LINK = re.compile(r"https?://\S+/screen/[A-Za-z0-9_-]{43}")


def _plain(text: str) -> str:
    """Chat HTML as a person reads it (a sign-in or screen link's secret part left out: the
    transcript is a file people pass around)."""
    bare = html.unescape(re.sub(r"</?(b|i|u|s|code|pre|a)( [^>]*)?>", "", text))
    bare = _SCREEN_LINK.sub("[đường dẫn màn hình hội trường]", bare)
    return _SIGNIN.sub("[đường dẫn đăng nhập, dùng một lần]", bare)


@dataclass
class Transcript:
    fake: FakeTelegram
    clock: FakeClock
    lines: list[str]
    names: dict[int, str]
    only: set[int] | None = None  # when set, only these chats' messages are written
    zalo_names: dict[str, str] | None = None  # Zalo chat id -> who reads it

    def zalo_messages(self, sent: list[ZaloSent]) -> None:
        """What the Zalo representative reads: plain text, split under 2,000 characters."""
        if self.only is not None and ZALO_CHAT not in self.only:
            return
        for m in sent:
            if m.method != "sendMessage":
                continue
            where = (self.zalo_names or {}).get(m.chat_id, m.chat_id)
            body = _SIGNIN.sub("[đường dẫn đăng nhập, dùng một lần]", m.text).replace(
                "\n", "\n        "
            )
            self.lines.append(f"[{self.when()}] bot → {where} (Zalo):\n        {body}")

    def when(self) -> str:
        return self.clock.now().astimezone(TZ).strftime("%H:%M %d/%m/%Y")

    def section(self, title: str) -> None:
        self.lines += ["", f"=== {title} ===", ""]

    def note(self, text: str) -> None:
        self.lines.append(f"    ({text})")

    def record(self, who: str, what: str) -> None:
        self.lines.append(f"[{self.when()}] {who}: {what}")

    def bot_messages(self, sent: list[SentMessage]) -> None:
        for m in sent:
            if self.only is not None and m.chat_id not in self.only:
                continue
            if m.kind == "callback_answer":
                if m.text:
                    where = self.names.get(m.chat_id, str(m.chat_id))
                    self.lines.append(f"[{self.when()}] bot → {where} (thông báo): {m.text}")
                continue
            where = self.names.get(m.chat_id, str(m.chat_id))
            label = "sửa tin" if m.kind == "edit" else "bot"
            body = _plain(m.text or "").replace("\n", "\n        ")
            if m.kind == "document":
                body = f"[tệp {m.filename}] {body}"
            elif m.kind == "photo":
                body = f"[ảnh] {body}"
            self.lines.append(f"[{self.when()}] {label} → {where}:\n        {body}")
            for row in m.buttons:
                self.lines.append("        " + " ".join(f"[{text}]" for text, _ in row))


class DemoRunner:
    def __init__(self, fake: FakeTelegram, transcript: Transcript) -> None:
        self.fake = fake
        self.t = transcript
        self.quiet = False  # steps still run through the bot; only the transcript skips them
        self.exports: dict[str, bytes] = {}  # files the bot sent that the demo writes out
        self.ticker: Ticker | None = None  # the scheduler's tick, run on the fake clock
        self.services: Services | None = None
        self.summaries: dict[str, bytes] = {}
        self.zalo: FakeZalo | None = None  # the Zalo Bot API the Zalo unit writes to
        self.zbot: ZaloBot | None = None
        self._zalo_seen = 0
        self.sender: Sender | None = None
        self.queued = False  # a use case queued messages in the outbox during this update
        self.screen: HallScreen | None = None  # the hall's projector, once its link is issued
        self.web_home = "http://127.0.0.1:8080/web"  # the pages' address under `demo --serve`

    async def flush(self) -> None:
        """`Services.outbox_flush`: the outbox is sent once the update is answered, as the
        running bot sends it in the background (a tick sends its own)."""
        self.queued = True

    async def _send_queued(self) -> None:
        while self.queued and self.sender is not None:
            self.queued = False
            await self.sender.drain()

    def _zalo_sent(self) -> None:
        """Messages the bot sent on Zalo since last looked (answers and notices)."""
        if self.zalo is None:
            return
        sent = self.zalo.sent[self._zalo_seen :]
        self._zalo_seen = len(self.zalo.sent)
        if not self.quiet:
            self.t.zalo_messages(sent)

    async def zsay(self, user: ZaloUser, text: str) -> str:
        """The Zalo representative types a message; the bot's answer, as they read it."""
        assert self.zalo is not None
        assert self.zbot is not None
        self._zalo_sent()
        if not self.quiet and (self.t.only is None or ZALO_CHAT in self.t.only):
            self.t.record(f"{user.display_name} (Zalo)", text)
        mark = len(self.zalo.sent)
        await self.zalo.send_text(user, text)
        update = await self.zbot.client.get_update(1)
        assert update is not None
        await self.zbot.handle(update)
        await self._send_queued()
        answer = "\n\n".join(
            m.text for m in self.zalo.sent[mark:] if m.chat_id == user.id and m.text
        )
        self._zalo_sent()
        return answer

    async def tick(self) -> list[SentMessage]:
        """One scheduler tick (plan what is due, send it) and what it sent."""
        assert self.ticker is not None
        mark = self.fake.mark()
        await self.ticker.tick()
        sent = self.fake.sent_since(mark)
        if not self.quiet:
            self.t.bot_messages(sent)
        self._zalo_sent()
        return sent

    async def _run(self, update_id: int) -> list[SentMessage]:
        mark = self.fake.mark()
        await self.fake.wait_processed(update_id, timeout=30)
        await self._send_queued()
        sent = self.fake.sent_since(mark)
        if not self.quiet:
            self.t.bot_messages(sent)
        self._zalo_sent()
        return sent

    async def say(self, user: FakeUser, text: str, *, group: bool = False) -> list[SentMessage]:
        where = " (trong nhóm)" if group else ""
        if not self.quiet:
            self.t.record(f"{self.t.names[user.id]}{where}", text)
        update = await self.fake.send_text(user, text, chat_id=GROUP_ID if group else None)
        return await self._run(update)

    async def upload(
        self, user: FakeUser, name: str, data: bytes, caption: str
    ) -> list[SentMessage]:
        if not self.quiet:
            self.t.record(self.t.names[user.id], f"[tệp {name}] {caption}".rstrip())
        update = await self.fake.send_document(user, name, data, caption=caption or None)
        return await self._run(update)

    async def tap(self, user: FakeUser, message: SentMessage, button: str) -> list[SentMessage]:
        if not self.quiet:
            self.t.record(self.t.names[user.id], f"[bấm «{button}»]")
        update = await self.fake.tap_button(user, message, button)
        return await self._run(update)


def _link_of(message: SentMessage) -> str:
    match = re.search(r"https://t\.me/\S+\?start=(\w+)", message.text or "")
    if match is None:
        raise RuntimeError(f"no invite link in: {message.text}")
    return match.group(1)


async def run_demo(
    out: Path, *, serve: bool = False, port: int = 8080, soffice: str | None = None
) -> Path:
    """Run the whole scripted demo; returns the transcript's path. The web companion is served
    on 127.0.0.1 throughout (a representative signs in from Zalo and votes there); `serve`
    keeps it open afterwards, with sign-in links printed, until Ctrl+C. `soffice`: the
    DOCS__SOFFICE setting (the documents' PDFs are written when LibreOffice is found)."""
    from aiohttp import web

    from bot.fakes.ratelimit import NoRateLimit
    from bot.runtime import make_bot
    from handlers.channels import Channels
    from handlers.telegram import create_dispatcher
    from handlers.telegram.menus import set_default_menus
    from handlers.telegram.notifier import TelegramNotifier
    from handlers.web.app import mount_web
    from handlers.web.base import WebConfig
    from handlers.zalo.bot import ZaloBot
    from handlers.zalo.client import ZaloClient
    from handlers.zalo.notifier import ZaloNotifier
    from scheduler.sender import Sender
    from scheduler.tick import Ticker

    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    clock = FakeClock(START)
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory(prefix="thidua-demo-") as tmp:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}")
        await migrate(engine)
        db = Database(engine)
        async with (
            FakeTelegram(DEMO_TOKEN, bot_username="thidua_demo_bot", now=clock.now) as fake,
            FakeZalo(DEMO_ZALO_TOKEN, bot_name="Thi đua VHXH Điện Biên") as zalo,
        ):
            fake.group(GROUP_ID, "Khối thi đua VHXH Điện Biên")
            bot = make_bot(DEMO_TOKEN, fake.url)
            zclient = ZaloClient(DEMO_ZALO_TOKEN, zalo.url, backoff=0.01)
            channels = Channels(
                {Platform.TELEGRAM: TelegramNotifier(bot), Platform.ZALO: ZaloNotifier(zclient)}
            )
            services = Services(
                db=db,
                clock=clock,
                renderer=Renderer(),
                audit_key=DEMO_AUDIT_KEY,
                ballot_secret=DEMO_BALLOT_SECRET,
                files=FileStore(Path(tmp) / "files"),
                admins=frozenset({Account(Platform.TELEGRAM, str(SECRETARY.id))}),
                token_bytes=rng.randbytes,
                channels=frozenset({Platform.TELEGRAM, Platform.ZALO}),
                pdf=PdfConverter(find_soffice(soffice)),
            )
            services.bot_username = (await bot.get_me()).username or ""
            # The web companion, as the bot serves it beside its webhooks (here on loopback).
            web_root = web.Application()
            web_runner = web.AppRunner(web_root, access_log=None)
            listen = port if serve else 0
            base = f"http://127.0.0.1:{listen}/web"
            config = WebConfig(base)
            mount_web(web_root, services, config)
            await web_runner.setup()
            await web.TCPSite(web_runner, "127.0.0.1", listen).start()
            if not serve:
                config.base_url = base = base.replace(":0/", f":{web_runner.addresses[0][1]}/", 1)
            services.web_url = base
            await set_default_menus(bot, services.renderer)
            dp = create_dispatcher(services)
            polling = asyncio.create_task(
                dp.start_polling(
                    bot,
                    handle_as_tasks=False,
                    polling_timeout=1,
                    handle_signals=False,
                    close_bot_session=False,
                )
            )
            names = {SECRETARY.id: "Thường trực (Lò Thị Hương)", GROUP_ID: "Nhóm của khối"}
            for user in [*REPRESENTATIVES.values(), SECOND_SYT, LATE_CDYT]:
                names[user.id] = f"{user.first_name} {user.last_name}"
            transcript = Transcript(
                fake, clock, [], names, zalo_names={CDSP.id: CDSP.display_name}
            )
            runner = DemoRunner(fake, transcript)
            runner.services = services
            runner.web_home = f"http://127.0.0.1:{port}/web"
            runner.zalo, runner.zbot = zalo, ZaloBot(services, zclient)
            runner.sender = Sender(db, channels, NoRateLimit(), clock, services.renderer)
            runner.ticker = Ticker(services, runner.sender)
            services.outbox_flush = runner.flush
            try:
                await _script(runner, clock)
                if serve:
                    await _serve(services, base)
            finally:
                await web_runner.cleanup()
                await dp.stop_polling()
                with contextlib.suppress(asyncio.CancelledError):
                    await polling
                await bot.session.close()
                await zclient.close()
        await db.dispose()
    path = out / "transcript.txt"
    header = [
        "thidua-bot — bản ghi hội thoại mô phỏng (demo ngoại tuyến)",
        "Khối thi đua Văn hóa - Xã hội tỉnh Điện Biên, năm 2022",
        f"Đồng hồ giả lập bắt đầu: {START.astimezone(TZ).strftime('%H:%M %d/%m/%Y')}",
    ]
    text = "\n".join(header + transcript.lines) + "\n"
    await asyncio.to_thread(path.write_text, text, encoding="utf-8")
    for name, data in {**runner.exports, **runner.summaries}.items():
        await asyncio.to_thread((out / name).write_bytes, data)
    return path


async def _script(run: DemoRunner, clock: FakeClock) -> None:
    t = run.t
    minute = timedelta(minutes=1)

    t.section("1. Thường trực tạo khối")
    await run.say(SECRETARY, "/start")
    clock.advance(minute)
    await run.say(SECRETARY, "/bloc new Khối thi đua Văn hóa - Xã hội; Khối; 2022; KTĐVHXH")

    t.section("2. Nhập danh sách đơn vị từ tệp CSV")
    bad = [*UNITS[:3], ("Sở Y tế", "", ""), UNITS[2]]
    clock.advance(minute)
    await run.upload(SECRETARY, "don-vi-khoi-vhxh.csv", _csv(bad), "/units import")
    t.note("tệp có dòng lỗi bị từ chối toàn bộ; thường trực sửa tệp và gửi lại")
    clock.advance(3 * minute)
    await run.upload(SECRETARY, "don-vi-khoi-vhxh.csv", _csv(UNITS), "/units import")
    clock.advance(minute)
    await run.say(SECRETARY, "/bloc leader SKHCN")
    await run.say(SECRETARY, "/bloc deputy ĐPTTH")
    await run.say(
        SECRETARY,
        "/bloc rotation SKHCN, ĐPTTH, SVHTTDL, SYT, SGDĐT, SLĐTBXH, STTTT, BĐBP, CĐYT, CĐSP",
    )

    t.section("3. Liên kết nhóm của khối")
    clock.advance(minute)
    await run.say(SECRETARY, "/bloc link", group=True)

    t.section("4. Cấp mã mời cho các đơn vị")
    clock.advance(minute)
    sent = await run.say(SECRETARY, "/invite all")
    codes = {}
    for message in sent[1:]:
        unit = next(s for n, s, _ in UNITS if n in (message.text or ""))
        codes[unit] = _link_of(message)

    t.section("5. Đại diện các đơn vị tham gia bằng liên kết mời")
    for short, user in REPRESENTATIVES.items():
        clock.advance(timedelta(minutes=7))
        await run.say(user, f"/start {codes[short]}")

    t.section("6. Mã mời bị gửi nhầm vào nhóm")
    clock.advance(timedelta(minutes=20))
    await run.say(REPRESENTATIVES["SYT"], f"Mã của trường CĐSP đây: {codes['CĐSP']}", group=True)
    clock.advance(timedelta(minutes=5))
    sent = await run.say(SECRETARY, "/invite CĐSP")
    codes["CĐSP"] = _link_of(sent[-1])

    t.section("7. Một đơn vị có hai đại diện")
    clock.advance(timedelta(hours=1))
    sent = await run.say(SECRETARY, "/invite SYT 2")
    clock.advance(timedelta(minutes=10))
    await run.say(SECOND_SYT, f"/start {_link_of(sent[-1])}")

    t.section("8. Mã mời hết hạn sau 14 ngày")
    clock.advance(timedelta(days=15))
    await run.say(LATE_CDYT, f"/start {codes['CĐYT']}")
    t.note("thường trực cấp lại mã mới cho đơn vị")
    clock.advance(timedelta(minutes=30))
    sent = await run.say(SECRETARY, "/invite CĐYT")
    clock.advance(timedelta(minutes=12))
    await run.say(LATE_CDYT, _link_of(sent[-1]))

    t.section("9. Tình hình của khối")
    clock.advance(minute)
    await run.say(SECRETARY, "/units")
    await run.say(SECRETARY, "/bloc")
    await run.say(REPRESENTATIVES["SYT"], "/me")

    await _reports(run, clock)


def _local(day: int, hour: int, minute: int) -> datetime:
    """A December 2022 wall-clock time in Điện Biên, as the UTC instant the clock holds."""
    return datetime(2022, 12, day, hour, minute, tzinfo=TZ).astimezone(UTC)


def _report_file(short: str, version: int = 1) -> tuple[str, bytes]:
    name = f"Bao cao tong ket 2022 - {short}.pdf"
    body = f"%PDF-1.4\n% Báo cáo tổng kết năm 2022 của {short}, bản {version}\n%%EOF\n"
    return name, body.encode()


async def _walk(run: DemoRunner, user: FakeUser, values: list[str]) -> list[SentMessage]:
    """Type one value per item, then confirm; returns the receipt."""
    sent: list[SentMessage] = []
    for value in values:
        sent = await run.say(user, value)
    summary = next(m for m in sent if m.chat_id == user.id)
    return await run.tap(user, summary, "✅ Xác nhận nộp")


async def _submit(
    run: DemoRunner, user: FakeUser, short: str, *, command: str = "/report", version: int = 1
) -> None:
    """A whole submission run through the bot; the transcript keeps the command and receipt."""
    run.t.record(run.t.names[user.id], f"{command} → gửi tệp, tự chấm {len(SCORES[short])} mục")
    run.quiet = True
    await run.say(user, command)
    await run.upload(user, *_report_file(short, version), "")
    receipt = await _walk(run, user, SCORES[short])
    run.quiet = False
    run.t.bot_messages(receipt)


async def _reports(run: DemoRunner, clock: FakeClock) -> None:
    t = run.t
    minute = timedelta(minutes=1)
    hoa = REPRESENTATIVES["SYT"]

    t.section("10. Bảng chấm điểm")
    clock.advance(timedelta(minutes=20))
    await run.upload(SECRETARY, "bang-cham-diem-2022.yaml", SCORING_TABLE.encode(), "/criteria")

    t.section("11. Mở kỳ báo cáo tổng kết năm")
    clock.advance(minute)
    await run.say(
        SECRETARY,
        "/period new tổng kết; Báo cáo tổng kết công tác thi đua, khen thưởng năm 2022; "
        "14/12/2022 17:00",
    )

    t.section("12. Sở Y tế nộp báo cáo và tự chấm điểm")
    clock.advance(timedelta(hours=2))
    await run.say(hoa, "/report")
    await run.upload(hoa, *_report_file("SYT"), "")
    await run.say(hoa, "39")
    await run.say(hoa, "16")
    t.note("điểm vượt mức tối đa: bot hỏi lại đúng mục đó")
    sent = await run.say(hoa, "15")
    sent = await run.tap(hoa, sent[-1], "◀ Quay lại")
    await run.say(hoa, "14,5")
    for value in ("19,5", "10", "15", "4", "0"):
        sent = await run.say(hoa, value)
    await run.tap(hoa, sent[-1], "✅ Xác nhận nộp")

    t.section("13. Các đơn vị khác nộp báo cáo")
    t.note("mỗi đơn vị gửi tệp và chấm từng mục như trên; bản ghi chỉ giữ biên nhận")
    office_hours = [  # when each unit sent its report, in Điện Biên time
        (7, 9, 15),
        (7, 10, 40),
        (7, 14, 20),
        (8, 8, 50),
        (8, 15, 5),
        (9, 9, 30),
    ]
    for short, (day, hour, minutes) in zip(
        ("SKHCN", "ĐPTTH", "SVHTTDL", "SGDĐT", "STTTT", "BĐBP"), office_hours, strict=True
    ):
        clock.set(_local(day, hour, minutes))
        await _submit(run, REPRESENTATIVES[short], short)

    t.section("14. Thường trực nộp thay Trường Cao đẳng Sư phạm (gửi bản giấy)")
    clock.set(_local(9, 16, 10))
    await _submit(run, SECRETARY, "CĐSP", command="/report CĐSP")

    t.section("15. Trả lại báo cáo để sửa, đơn vị nộp lại")
    clock.set(_local(12, 8, 45))
    await run.say(
        SECRETARY, "/return STTTT; 16/12/2022 17:00; Đề nghị bổ sung phụ lục số liệu năm 2022"
    )
    clock.set(_local(13, 10, 20))
    await _submit(run, REPRESENTATIVES["STTTT"], "STTTT", version=2)

    t.section("15b. Hạn chót, nhắc hạn tự động và thông báo")
    clock.set(_local(13, 15, 0))
    run.t.only = {SECRETARY.id, REPRESENTATIVES["SYT"].id}
    await run.say(
        SECRETARY,
        "/deadlines add Gửi hồ sơ đề nghị khen thưởng (bản giấy) về Sở Khoa học và Công nghệ; "
        "16/12/2022 17:00",
    )
    run.t.only = None
    t.note("thông báo hạn chót mới, kèm nút «Đã nhận», được gửi đến đại diện của mọi đơn vị")
    clock.advance(timedelta(minutes=12))
    await run.tap(REPRESENTATIVES["SYT"], _last_to(run, REPRESENTATIVES["SYT"]), "✅ Đã nhận")
    clock.advance(timedelta(minutes=20))
    await run.say(REPRESENTATIVES["SLĐTBXH"], "/deadlines")
    clock.advance(timedelta(minutes=30))
    await run.say(SECRETARY, "/deadlines")
    t.note("17:00 ngày 13/12, một ngày trước hạn: bot chỉ nhắc các đơn vị chưa nộp báo cáo")
    clock.set(_local(13, 17, 0))
    await run.tick()
    clock.advance(timedelta(minutes=5))
    await run.say(
        SECRETARY,
        "/announce 1; Đề nghị các đơn vị chưa nộp gửi báo cáo tổng kết trước 17:00 ngày "
        "14/12 để kịp tổng hợp.",
    )

    t.section("16. Nộp sau hạn chót")
    clock.set(_local(15, 9, 0))  # the morning after the deadline
    await _submit(run, REPRESENTATIVES["SLĐTBXH"], "SLĐTBXH")

    t.section("17. Thường trực thẩm định và xuất bảng điểm")
    clock.advance(timedelta(hours=1))
    run.t.record(run.t.names[SECRETARY.id], "/review SYT → giữ điểm tự chấm, sửa mục 1.2 thành 13")
    run.quiet = True
    sent = await run.say(SECRETARY, "/review SYT")
    sent = await run.tap(SECRETARY, sent[-1], "39")
    sent = await run.say(SECRETARY, "13")
    for _ in range(5):
        sent = await run.tap(SECRETARY, sent[-1], sent[-1].buttons[0][0][0])
    run.quiet = False
    done = await run.tap(SECRETARY, sent[-1], "✅ Lưu kết quả thẩm định")
    assert done, "the review was not saved"
    clock.advance(minute)
    await run.say(SECRETARY, "/status")
    sent = await run.say(SECRETARY, "/export")
    document = next(m for m in sent if m.kind == "document")
    run.exports["scores.xlsx"] = document.file_bytes or b""

    await _conference(run, clock)


# Trường Cao đẳng Sư phạm takes part through Zalo: its representative is not on Telegram.
CDSP = ZaloUser("7310000000000000010", "Cà Thị Ngọc")
ZALO_CHAT = 0  # in Transcript.only: show what the Zalo representative reads
VOTERS = ("SKHCN", "ĐPTTH", "SVHTTDL", "SYT", "SGDĐT", "SLĐTBXH", "STTTT", "BĐBP", "CĐYT", "CĐSP")
UNIT_NAMES = {short: name for name, short, _ in UNITS}


async def _summaries(run: DemoRunner) -> dict[str, bytes]:
    """The summary in both languages, as plain Markdown files for the bloc's website."""
    from bot.core.models import Locale
    from bot.services import summary as summary_svc
    from bot.services.actors import load_actor

    services = run.services
    assert services is not None
    async with services.db.uow() as uow:
        actor = await load_actor(uow, services, Account(Platform.TELEGRAM, str(SECRETARY.id)))
    data = await summary_svc.summary(services, actor)
    assert isinstance(data, summary_svc.SummaryData), data
    files = {}
    for locale, name in ((Locale.VI, "summary.vi.md"), (Locale.EN, "summary.en.md")):
        text = summary_svc.render_summary(services, data, locale)
        title, _, body = text.partition("\n")
        files[name] = (f"# {_plain(title).lstrip('📰 ')}\n{_plain(body)}\n").encode()
    return files


def _voter(short: str) -> FakeUser:
    """A unit's representative on Telegram (Trường CĐSP's is on Zalo: `_zvote`)."""
    return {"CĐYT": LATE_CDYT}.get(short) or REPRESENTATIVES[short]


async def _zvote(run: DemoRunner, number: int, names: list[str]) -> None:
    """Trường CĐSP votes on Zalo, by text: the ballot by its number, the choices by theirs
    (0 for Phiếu trắng), then «xác nhận» to confirm."""
    menu = await run.zsay(CDSP, f"bo phieu {number}")
    numbers = {name: n for n, name in re.findall(r"^(\d+)\. (.+)$", menu, re.MULTILINE)}
    await run.zsay(CDSP, ", ".join(numbers[name] for name in names) if names else "0")
    await run.zsay(CDSP, "xác nhận")


def _plan(
    targets: dict[str, int], seats: int, candidates: tuple[str, ...] = VOTERS
) -> dict[str, list[str]]:
    """Who ticks whom so each candidate gets its target count, nobody ticking its own unit and
    nobody more than `seats` names (deterministic: fullest candidates first, voters in order)."""
    picks: dict[str, list[str]] = {v: [] for v in VOTERS}
    for candidate, wanted in targets.items():
        assert candidate in candidates
        for voter in sorted(VOTERS, key=lambda v: (len(picks[v]), VOTERS.index(v))):
            if wanted == 0:
                break
            if voter != candidate and len(picks[voter]) < seats:
                picks[voter].append(candidate)
                wanted -= 1
        assert wanted == 0, f"cannot give {candidate} its votes"
    return picks


async def _vote(run: DemoRunner, user: FakeUser, names: list[str]) -> None:
    """One representative votes through the buttons: open the ballot, tick, confirm."""
    notice = _last_to(run, user)
    card = _mine(await run.tap(user, notice, "🗳 Biểu quyết"), user)
    multi = any(text.startswith("Xác nhận (") for row in card.buttons for text, _ in row)
    if not names:
        card = _mine(await run.tap(user, card, "Phiếu trắng"), user)
    for name in names:
        card = _mine(await run.tap(user, card, name), user)
    if multi and names:
        review = next(t for row in card.buttons for t, _ in row if t.startswith("Xác nhận ("))
        card = _mine(await run.tap(user, card, review), user)
    await run.tap(user, card, "✅ Xác nhận")


def _mine(sent: list[SentMessage], user: FakeUser) -> SentMessage:
    return next(m for m in reversed(sent) if m.chat_id == user.id)


def _last_to(run: DemoRunner, user: FakeUser) -> SentMessage:
    return run.fake.messages_to(user.id)[-1]


async def _ballot_round(
    run: DemoRunner,
    number: int,
    picks: dict[str, list[str]],
    *,
    shown: str | None = None,
    zalo_shown: bool = False,
    labels: bool = False,
    turnout: bool = False,
    closes_at: datetime | None = None,
    on_web: bool = False,
    screen: bool = False,
) -> None:
    """Open ballot `number`, let every unit vote as planned, then close and count it; a
    scheduled ballot (`closes_at`) is opened and counted by the scheduler's tick. `on_web`:
    Trường CĐSP votes on the web companion, signed in from its Zalo chat. `screen`: the hall
    screen is recorded while the units vote (its turnout) and after the count (the result)."""
    watched = {SECRETARY.id, GROUP_ID} | ({_voter(shown).id} if shown else set())
    run.t.only = watched
    if closes_at is None:
        await run.say(SECRETARY, f"/ballot open {number}")
    else:
        await run.tick()
    run.t.only = None
    run.t.note("phiếu được gửi đến đại diện của từng đơn vị")
    for short in VOTERS:
        detailed = short == shown or (short == "CĐSP" and zalo_shown)
        run.quiet = not detailed
        chosen = picks.get(short, [])
        names = chosen if labels else [UNIT_NAMES[c] for c in chosen]
        if short == "CĐSP" and on_web:
            run.quiet = False
            await _web_vote(run, number, names)
            continue
        if short == "CĐSP":
            if detailed:
                run.t.note(f"đại diện {UNIT_NAMES[short]} biểu quyết qua Zalo, bằng tin nhắn")
            await _zvote(run, number, names)
            continue
        if detailed:
            run.t.note(f"đại diện {UNIT_NAMES[short]} biểu quyết bằng các nút")
        await _vote(run, _voter(short), names)
        if screen and short == "SYT":
            run.t.note("màn hình hội trường cập nhật số đơn vị đã bỏ phiếu, chưa hiện kết quả")
            await _screen_state(run, "open")
    run.quiet = False
    run.t.note("các đơn vị khác biểu quyết tương tự")
    if turnout:
        # Anyone in the group may ask how the vote is going: turnout only, never a result.
        await run.say(_voter(shown or VOTERS[0]), "/vote", group=True)
    await run.say(SECRETARY, "/ballot")
    if closes_at is None:
        await run.say(SECRETARY, f"/ballot close {number}")
    else:
        run.t.clock.set(closes_at)
        run.t.note("đến giờ đóng: bot tự kiểm phiếu, gửi kết quả cho thường trực và nhóm của khối")
        await run.tick()
    if screen:
        run.t.note("kiểm phiếu xong: màn hình hội trường hiện kết quả, không mã biên nhận nào")
        await _screen_state(run, "result")


_FIELD = re.compile(r'name="(csrf|held)" value="([^"]*)"')
_OPTION = re.compile(r'<label[^>]*class="option[^"]*"[^>]*>(.*?)</label>', re.DOTALL)
_MSG = re.compile(r'<div class="(?:msg[^"]*|receipt)">(.*?)</div>', re.DOTALL)


def _field(page: str, name: str) -> str:
    found: str = next(value for key, value in _FIELD.findall(page) if key == name)
    return html.unescape(found)


def _words(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


async def _web_vote(run: DemoRunner, number: int, names: list[str]) -> None:
    """Trường CĐSP asks its Zalo chat for the web page (a one-time link), signs in, ticks its
    candidates on ballot `number` and confirms — the same services as a vote in chat."""
    import aiohttp

    from bot.services.actors import load_actor
    from bot.services.voting import ballot_by_number

    run.t.note("Trường Cao đẳng Sư phạm bỏ phiếu trên trang web, mở từ Zalo")
    answer = await run.zsay(CDSP, "web")
    link = re.search(r"(http://\S+/signin/[A-Za-z0-9_-]{43})", answer)
    assert link is not None, answer
    base, token = link.group(1).split("/signin/")
    assert run.services is not None
    async with run.services.db.uow() as uow:
        actor = await load_actor(uow, run.services, Account(Platform.ZALO, CDSP.id))
    ballot = await ballot_by_number(run.services, actor, str(number))
    assert isinstance(ballot, int), ballot
    who = f"{CDSP.display_name} (trang web)"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(link.group(1)) as response:
            page = await response.text()
        run.t.record(who, "[mở đường dẫn, bấm «Đăng nhập»]")
        signin = {"csrf": _field(page, "csrf"), "token": token}
        async with http.post(f"{base}/signin", data=signin) as response:
            assert response.status == 200, await response.text()
        async with http.get(f"{base}/ballots/{ballot}") as response:
            page = await response.text()
        options: dict[str, str] = {}
        for label in _OPTION.findall(page):
            value = re.search(r'name="choice"[^>]*value="(\d+)"', label)
            if value is not None:
                options[_words(label)] = value.group(1)
        chosen = [("choice", options[name]) for name in names]
        run.t.record(
            who, f"[phiếu số {number}: chọn {', '.join(names)}, bấm «Xem lại và xác nhận»]"
        )
        data = [("csrf", _field(page, "csrf")), *chosen]
        async with http.post(f"{base}/ballots/{ballot}/preview", data=data) as response:
            page = await response.text()
        run.t.record(who, "[bấm «Xác nhận»]")
        cast = {"csrf": _field(page, "csrf"), "held": _field(page, "held")}
        async with http.post(f"{base}/ballots/{ballot}/cast", data=cast) as response:
            page = await response.text()
            assert response.status == 200, page
    shown = " ".join(_words(m) for m in _MSG.findall(page))
    run.t.lines.append(f"[{run.t.when()}] trang web → {CDSP.display_name}:\n        {shown}")
    await run._send_queued()
    run._zalo_sent()


async def _console_conference(run: DemoRunner) -> None:
    """The secretary sets the conference up on the web console (opened from Telegram's /web)
    and creates its ballots there — the same services as /conference new and /ballot
    defaults."""
    import aiohttp

    run.t.note("thường trực thiết lập hội nghị trên bảng điều hành (trang web), mở từ /web")
    sent = await run.say(SECRETARY, "/web")
    link = re.search(r"(http://\S+/signin/[A-Za-z0-9_-]{43})", sent[-1].text or "")
    assert link is not None, sent[-1].text
    base, token = link.group(1).split("/signin/")
    who = f"{run.t.names[SECRETARY.id][:-1]}, trang web)"  # Thường trực (…, trang web)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(link.group(1)) as response:
            page = await response.text()
        run.t.record(who, "[mở đường dẫn, bấm «Đăng nhập», chọn «Thường trực»]")
        signin = {"csrf": _field(page, "csrf"), "token": token}
        async with http.post(f"{base}/signin", data=signin) as response:
            assert response.status == 200, await response.text()
        async with http.get(f"{base}/console/conference") as response:
            page = await response.text()
        form = {
            "csrf": _field(page, "csrf"),
            "date": "2022-12-20",
            "hour": "08:00",
            "place": "Hội trường Sở Khoa học và Công nghệ",
            "locality": "Điện Biên",
            "chair_unit": "SKHCN",
            "chair": "Nguyễn Văn Thành",
            "chair_title": "Giám đốc Sở Khoa học và Công nghệ",
            "secretary": "Lò Thị Hương",
            "counting_board": "Quàng Thị Mai\nTrần Đức Long\nĐỗ Thị Yến",
            "guests": "Đồng chí Vừ A Bằng - Tỉnh ủy viên, Phó Chủ tịch UBND tỉnh",
            "delegations": "Lãnh đạo Văn phòng UBND tỉnh, chuyên viên phòng Khoa giáo - Văn xã\n"
            "Đại diện lãnh đạo Ban Thi đua - Khen thưởng\n"
            "Đại diện lãnh đạo phòng và chuyên viên tham mưu công tác thi đua, khen thưởng "
            "các cơ quan, đơn vị trong Khối",
            "venue": "auto",
        }
        run.t.record(
            who,
            "[Sửa thông tin hội nghị: 08:00 20/12/2022; Hội trường Sở Khoa học và Công nghệ; "
            "chủ trì SKHCN; chủ tọa Nguyễn Văn Thành, Giám đốc Sở Khoa học và Công nghệ (ký tờ "
            "trình thay mặt khối); thư ký Lò Thị Hương; ban kiểm phiếu Quàng Thị Mai, Trần Đức "
            "Long, Đỗ Thị Yến; khách mời Đồng chí Vừ A Bằng - Tỉnh ủy viên, Phó Chủ tịch UBND "
            "tỉnh; thành phần đại biểu: lãnh đạo Văn phòng UBND tỉnh, Ban Thi đua - Khen thưởng, "
            "các cơ quan trong Khối; địa danh Điện Biên — bấm «Lưu thông tin hội nghị»]",
        )
        async with http.post(f"{base}/console/conference", data=form) as response:
            page = await response.text()
            assert response.status == 200, page
        _web_said(run, page)
        run.t.record(who, "[Biểu quyết, bầu cử: bấm «Tạo đủ các nội dung của hội nghị»]")
        async with http.get(f"{base}/console/ballots") as response:
            page = await response.text()
        defaults = {"csrf": _field(page, "csrf")}
        async with http.post(f"{base}/console/ballots/defaults", data=defaults) as response:
            page = await response.text()
            assert response.status == 200, page
        _web_said(run, page)
    await run._send_queued()


def _web_said(run: DemoRunner, page: str) -> None:
    """What a console page said after a change (its confirmation, in the transcript)."""
    shown = " ".join(_words(m) for m in _MSG.findall(page))
    name = run.t.names[SECRETARY.id]
    run.t.lines.append(f"[{run.t.when()}] trang web → {name}:\n        {shown}")


_STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)">')
_SCRIPT = re.compile(r"<script [^>]*></script>\n?")
_LIVE = re.compile(r'<main id="live"[^>]*>.*?</main>', re.DOTALL)
_PART = "<!-- the screen's live part -->"
# Where a line of the screen's text starts: each panel, heading, paragraph and table row.
_SCREEN_LINE = re.compile(
    r'(?=<(?:section|h2|p|tr|figure)\b|<div class="(?:presence|code|turnout)\b)'
)


@dataclass
class HallScreen:
    """The hall's projector: the screen link, opened on loopback as the hall's computer opens
    it. The link itself is never written out (it is the screen's only key), only what it
    shows."""

    link: str
    shell: str  # the page around its changing part: style sheet inlined, no script, no link
    qr: str  # the check-in page's QR code, for the address the pages have under --serve
    shown: int = 0


async def _open_screen(run: DemoRunner) -> None:
    """The secretary asks for the screen's link in chat (/conference screen) and opens it on
    the hall's computer; the saved states reuse the page with its style sheet inlined."""
    import aiohttp

    from handlers.web.base import qr_svg

    sent = await run.say(SECRETARY, "/conference screen")
    link = _SCREEN_LINK.search(sent[-1].text or "")
    assert link is not None, sent[-1].text
    async with aiohttp.ClientSession() as http:
        async with http.get(link.group(0)) as response:
            page = await response.text()
            assert response.status == 200, page
        sheet = _STYLESHEET.search(page)
        assert sheet is not None
        async with http.get(urljoin(link.group(0), html.unescape(sheet.group(1)))) as response:
            css = await response.text()
    # The saved page is opened from a folder, with no server behind it: no script to reach
    # one, and the live part's addresses (which carry the link's secret) left out.
    shell = _SCRIPT.sub("", page.replace(sheet.group(0), f"<style>\n{css}</style>"))
    shell = _LIVE.sub(f'<main id="live">{_PART}</main>', shell)
    run.screen = HallScreen(link.group(0), shell, str(qr_svg(f"{run.web_home}/checkin")))


async def _screen_state(run: DemoRunner, name: str) -> str:
    """What the hall screen shows now: its changing part, fetched as the page fetches it after
    every change, written in the transcript as text and saved as `screen-<n>-<name>.html`
    (the whole page, to open in a browser). Returns the part."""
    import aiohttp

    screen = run.screen
    assert screen is not None
    async with aiohttp.ClientSession() as http, http.get(f"{screen.link}/live") as response:
        part = await response.text()
        assert response.status == 200, part
    screen.shown += 1
    filename = f"screen-{screen.shown}-{name}.html"
    # The QR code drawn here holds this run's loopback port: the saved page has the one for
    # the address of `--serve`, so it is the same on every run, like the demo's other files.
    saved = re.sub(r"<svg\b.*?</svg>", lambda _: screen.qr, part, flags=re.DOTALL)
    run.exports[filename] = screen.shell.replace(_PART, saved).encode()
    # Read as a person reads it: no progress bar or QR code, a number's own span kept in line.
    text = re.sub(r"<(progress|svg)\b.*?</\1>", "", part, flags=re.DOTALL)
    text = re.sub(r"</?span\b[^>]*>", "", text)
    lines = [words for chunk in _SCREEN_LINE.split(text) if (words := _words(chunk))]
    shown = "\n        ".join(lines)
    run.t.lines.append(f"[{run.t.when()}] màn hình hội trường ({filename}):\n        {shown}")
    return part


async def _serve(services: Services, base: str) -> None:
    """`demo --serve`: the finished demo's web pages stay open on loopback; one-time links for
    a representative on Telegram, the one on Zalo, the secretariat (then its console) and an
    observer, and the hall screen of the demo's conference.

    Time stands still here as in the demo: the pages run on the demo's fake clock, stopped at
    its last step (16:00 on 31/12/2022, after the new year), so a sign-in link lasts as long
    as the session however long it waits. The conference was on 20/12 and its screen links
    ended with that day, so the screen's link is one for a conference already held, valid
    until the end of that stopped day: it shows presence and the last result."""
    import signal
    import sys

    from bot.services.actors import load_actor, resolve_actor
    from bot.services.hall import ScreenIssued, issue_past_screen
    from bot.services.invites import IssuedInvite, issue_invite, join
    from bot.services.web import issue_signin

    async def actor_of(platform: Platform, external_id: str) -> Actor:
        async with services.db.uow() as uow:
            return await load_actor(uow, services, Account(platform, external_id))

    secretary = await actor_of(Platform.TELEGRAM, str(SECRETARY.id))
    invite = await issue_invite(services, secretary, target="observer")
    assert isinstance(invite, IssuedInvite), invite
    observer = await resolve_actor(
        services,
        platform=Platform.TELEGRAM,
        external_id="1900",
        display_name="Quan sát viên Ban Thi đua - Khen thưởng",
        username=None,
    )
    await join(services, observer, invite.code)
    people = [
        ("đại diện Sở Y tế (Telegram)", await actor_of(Platform.TELEGRAM, str(_voter("SYT").id))),
        ("đại diện Trường CĐSP (Zalo)", await actor_of(Platform.ZALO, CDSP.id)),
        ("thường trực khối", secretary),
        ("quan sát viên", await actor_of(Platform.TELEGRAM, "1900")),
    ]
    lines = [f"demo: the web companion is open at {base}/ (Ctrl+C to stop)"]
    for label, actor in people:
        issued = await issue_signin(services, actor)
        assert issued is not None
        lines.append(f"  {label}: {issued.url}")
        if actor is secretary:
            lines.append(f"  bảng điều hành (signed in as thường trực khối): {base}/console")
    screen = await issue_past_screen(services, secretary, START.year)
    assert isinstance(screen, ScreenIssued), screen
    lines.append(f"  màn hình hội trường (hall screen, no sign-in): {screen.url}")
    lines.append("  (each sign-in link works once; run the demo again for fresh ones)")
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _check_receipt(run: DemoRunner, short: str) -> None:
    """The unit checks, with the receipt code it was given, that its ballot was counted."""
    user = _voter(short)
    receipt = next(
        line.split(":", 1)[1].strip()
        for m in reversed(run.fake.messages_to(user.id))
        for line in (m.text or "").splitlines()
        if line.startswith("Mã biên nhận:")
    )
    listing = _mine(await run.say(user, "/vote"), user)
    await run.tap(user, listing, "🔎 Kiểm tra phiếu")
    await run.say(user, receipt.replace("<code>", "").replace("</code>", ""))


async def _conference(run: DemoRunner, clock: FakeClock) -> None:
    t = run.t

    t.section("18. Thiết lập hội nghị tổng kết")
    clock.set(_local(16, 9, 0))
    sent = await run.say(SECRETARY, "/invite CĐSP")
    t.note("Trường Cao đẳng Sư phạm dùng Zalo: đại diện gửi mã mời cho bot Zalo của khối")
    code = re.search(r"Mã: <code>([\w-]+)</code>", sent[-1].text or "")
    assert code is not None
    clock.advance(timedelta(minutes=5))
    await run.zsay(CDSP, code.group(1))
    await run.zsay(CDSP, "tro giup")
    clock.advance(timedelta(minutes=30))
    await _console_conference(run)
    t.note("biểu quyết thông qua báo cáo được hẹn giờ: tự mở lúc 08:30 và tự đóng lúc 08:45")
    await run.say(SECRETARY, "/ballot schedule 1; 20/12/2022 08:30; 20/12/2022 08:45")

    t.section("19. Điểm danh tại hội nghị")
    clock.set(_local(20, 7, 45))
    t.note("thường trực mở màn hình hội trường trên máy tính nối với máy chiếu")
    await _open_screen(run)
    t.note(
        "hội nghị có địa điểm nên điểm danh tại hội trường: màn hình hội trường hiện mã 6 chữ "
        "số, đổi mỗi phút (ở ngoài hội trường không điểm danh được)"
    )
    shown = re.search(r"data-code>(\d{3}) (\d{3})<", await _screen_state(run, "checkin"))
    assert shown is not None
    hall = shown.group(1) + shown.group(2)
    await run.say(_voter(VOTERS[0]), "/checkin")
    for short in VOTERS[:2]:
        await run.say(_voter(short), f"/checkin {hall}")
    run.quiet = True
    for short in VOTERS[2:-1]:
        await run.say(_voter(short), f"/checkin {hall}")
    run.quiet = False
    t.note("7 đơn vị khác điểm danh tương tự; Trường Cao đẳng Sư phạm điểm danh qua Zalo")
    await run.zsay(CDSP, f"diem danh {hall}")
    await run.say(SECRETARY, "/conference")
    await _screen_state(run, "before")

    t.section("20. Biểu quyết thông qua dự thảo báo cáo tổng kết")
    clock.set(_local(20, 8, 30))
    report = {v: ["Đồng ý"] for v in VOTERS}
    t.note("08:30: đúng giờ hẹn, bot tự mở biểu quyết (đã đủ số đơn vị có mặt)")
    await _ballot_round(run, 1, report, shown="SYT", labels=True, closes_at=_local(20, 8, 45))

    t.section("21. Bình xét, suy tôn: đề nghị khen thưởng")
    clock.set(_local(20, 9, 15))
    t.note("bỏ phiếu kín: mỗi đơn vị nhận một mã biên nhận, lựa chọn được niêm phong")
    await _ballot_round(
        run, 2, _plan({"ĐPTTH": 9}, 1), shown="SYT", zalo_shown=True, turnout=True, screen=True
    )
    t.note("sau khi kiểm phiếu, Sở Y tế kiểm tra phiếu của đơn vị đã được kiểm")
    await _check_receipt(run, "SYT")
    t.note("Trường Cao đẳng Sư phạm kiểm tra trên Zalo")
    receipt = next(
        m.group(1)
        for text in reversed(run.zalo.texts_to(CDSP) if run.zalo else [])
        if (m := re.search(r"Mã biên nhận: (\w{4}-\w{4}-\w{4})", text))
    )
    await run.zsay(CDSP, f"kiem tra {receipt}")
    clock.advance(timedelta(minutes=15))
    await _ballot_round(run, 3, _plan({"SKHCN": 8, "SGDĐT": 7}, 2), on_web=True)
    clock.advance(timedelta(minutes=15))
    await _ballot_round(run, 4, _plan({"SVHTTDL": 8}, 1))
    clock.advance(timedelta(minutes=15))
    t.note("Bằng khen của Chủ tịch UBND tỉnh: ba đơn vị hòa phiếu ở vị trí cuối cùng")
    await _ballot_round(run, 5, _plan({"BĐBP": 8, "SYT": 7, "SLĐTBXH": 7, "STTTT": 7}, 3))

    t.section("22. Bỏ phiếu lại giữa các đơn vị hòa phiếu")
    clock.advance(timedelta(minutes=15))
    await _ballot_round(
        run, 8, _plan({"SYT": 8, "STTTT": 6, "SLĐTBXH": 5}, 2, ("SYT", "STTTT", "SLĐTBXH"))
    )
    await run.say(SECRETARY, "/ballot record 5")
    await run.say(SECRETARY, "/ballot record 8")

    t.section("23. Bầu Trưởng khối, Phó trưởng khối năm 2023")
    clock.advance(timedelta(minutes=20))
    leader = {v: (["ĐPTTH"] if v != "ĐPTTH" else []) for v in VOTERS}
    await _ballot_round(run, 6, leader)
    clock.advance(timedelta(minutes=10))
    await _ballot_round(run, 7, _plan({"SVHTTDL": 7, "SYT": 2}, 1), shown="SKHCN")

    t.section("24. Ký giao ước thi đua năm 2023")
    clock.advance(timedelta(minutes=15))
    run.t.only = {SECRETARY.id, _voter("SYT").id}
    await run.say(
        SECRETARY,
        "/covenant set 20/12/2022 17:00; Các cơ quan, đơn vị trong Khối thi đua Văn hóa - Xã "
        "hội cam kết: thực hiện tốt các phong trào thi đua yêu nước; hoàn thành xuất sắc nhiệm "
        "vụ chính trị năm 2023; đẩy mạnh cải cách thủ tục hành chính trong công tác thi đua, "
        "khen thưởng; phát hiện, bồi dưỡng và nhân rộng các điển hình tiên tiến.",
    )
    run.t.only = None
    t.note("đại diện các đơn vị nhận nội dung giao ước kèm nút đọc và ký")
    clock.advance(timedelta(minutes=1))
    user = _voter("SYT")
    sent = await run.tap(user, _last_to(run, user), "📜 Đọc và ký giao ước")
    sent = await run.tap(user, _mine(sent, user), "✍️ Ký giao ước")
    await run.tap(user, _mine(sent, user), "✅ Xác nhận ký")
    run.quiet = True
    for short in VOTERS:
        if short in ("SYT", "CĐSP"):
            continue
        voter = _voter(short)
        sent = await run.say(voter, "/covenant")
        sent = await run.tap(voter, _mine(sent, voter), "✍️ Ký giao ước")
        await run.tap(voter, _mine(sent, voter), "✅ Xác nhận ký")
    run.quiet = False
    t.note("8 đơn vị khác ký tương tự; Trường Cao đẳng Sư phạm ký trên Zalo, bằng tin nhắn")
    await run.zsay(CDSP, "giao uoc")
    await run.zsay(CDSP, "ky")
    await run.zsay(CDSP, "1")
    clock.advance(timedelta(minutes=1))
    await run.say(SECRETARY, "/covenant")

    t.section("25. Bảng xếp hạng")
    clock.advance(timedelta(minutes=5))
    user = _voter("SYT")
    sent = await run.say(user, "/standings")
    sent = await run.tap(user, _mine(sent, user), "📊 Biểu đồ")
    chart = next(m for m in sent if m.kind == "photo")
    run.exports["standings.png"] = chart.file_bytes or b""
    await run.say(_voter("SKHCN"), "/standings", group=True)
    sent = await run.say(SECRETARY, "/standings xlsx")
    document = next(m for m in sent if m.kind == "document")
    run.exports["standings.xlsx"] = document.file_bytes or b""

    t.section("26. Bài tổng kết hội nghị")
    clock.advance(timedelta(minutes=30))
    await run.say(
        SECRETARY,
        "/summary movements Năm 2022, các cơ quan, đơn vị trong Khối đã cụ thể hóa các phong "
        "trào thi đua yêu nước gắn với nhiệm vụ chính trị của ngành; nhiều mô hình hay, cách "
        "làm hiệu quả được nhân rộng.",
    )
    await run.say(
        SECRETARY,
        "/summary closing Khối thi đua Văn hóa - Xã hội trân trọng tiếp thu ý kiến chỉ đạo để "
        "phong trào thi đua năm 2023 tiếp tục đạt hiệu quả./.",
    )
    t.note("những gì hội trường đã thấy: phát động thi đua, khen thưởng trao tại hội nghị")
    await run.say(
        SECRETARY,
        "/summary launch Thi đua đoàn kết, sáng tạo, hoàn thành xuất sắc nhiệm vụ chính trị năm "
        "2023; đẩy mạnh cải cách thủ tục hành chính trong công tác thi đua, khen thưởng; phát "
        "hiện, bồi dưỡng và nhân rộng các điển hình tiên tiến.",
    )
    await run.say(
        SECRETARY,
        "/summary awards Ủy ban nhân dân tỉnh; Cờ thi đua; 1; -; -; Sở Văn hóa, Thể thao và Du "
        "lịch",
    )
    await run.say(SECRETARY, "/summary awards Chủ tịch UBND tỉnh; Bằng khen; 7; 7")
    await run.say(SECRETARY, "/summary post")
    run.summaries = await _summaries(run)

    t.section("27. Biên bản hội nghị, biên bản kiểm phiếu, tờ trình đề nghị khen thưởng")
    clock.advance(timedelta(minutes=30))
    sent = await run.say(SECRETARY, "/minutes")
    files = {m.filename: m.file_bytes or b"" for m in sent if m.kind == "document"}
    run.exports["bien-ban-hoi-nghi.docx"] = files["bien-ban-hoi-nghi.docx"]
    run.exports["bien-ban-kiem-phieu.docx"] = files["bien-ban-kiem-phieu.docx"]
    run.exports["to-trinh.docx"] = files["to-trinh.docx"]
    # Their PDFs for digital signing, when LibreOffice is installed (the transcript says if not).
    run.exports.update({n: d for n, d in files.items() if n is not None and n.endswith(".pdf")})

    t.section("28. Kết thúc năm 2022: Trưởng khối, Phó trưởng khối năm 2023 nhận nhiệm vụ")
    clock.set(_local(31, 16, 0))
    sent = await run.say(SECRETARY, "/bloc newyear")
    run.t.only = {SECRETARY.id, _voter("SYT").id, GROUP_ID}
    await run.tap(SECRETARY, _mine(sent, SECRETARY), "✅ Chuyển sang năm 2023")
    run.t.only = None
    t.note("mọi thành viên và nhóm của khối nhận cùng thông báo")
    await run.say(SECRETARY, "/bloc")
    await run.say(SECRETARY, "/summary 2022")
    t.note("hết bản ghi: khối bước sang năm thi đua 2023, dữ liệu năm 2022 vẫn xem được")
