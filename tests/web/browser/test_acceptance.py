"""Issue 18, acceptance 1, in Chromium at a phone's width: a representative signs in by the
link from a Zalo chat (the fake Zalo) and another from Telegram (the mocked Bot API); each
submits the report with its self-score, votes on a secret multi-choice ballot and gets the
receipt, checks it, and signs the covenant. A third unit does the same in the Telegram chat.
The database, the audit chain and the notices the units' colleagues get are the same."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiogram.methods import SendMessage
from aiogram.types import User
from playwright.async_api import Browser, FilePayload, Page, expect
from sqlmodel import col, select

from bot.core.models import Platform
from bot.fakes.zalo import FakeZalo, ZaloUser
from bot.services.audit import verify_log
from handlers.zalo.bot import ZaloBot
from handlers.zalo.client import ZaloClient
from storage.tables import (
    AuditRow,
    CovenantSignatureRow,
    SecretRegisterRow,
    SubmissionRow,
    UnitRow,
)
from tests.conftest import AUDIT_KEY
from tests.handlers.conftest import SECRETARY, person
from tests.handlers.support import (
    AN,
    BINH,
    DUNG,
    GIANG,
    OPEN_PERIOD,
    SGD,
    STT,
    SVH,
    SYT,
    SYT_VALUES,
    TABLE_EXAMPLE,
    ballot_ids,
    conference_setup,
    draft_id,
    join,
    score_all,
)
from tests.web.browser.conftest import PHONE, Live
from tests.zalo.helpers import TOKEN, Typist

HOA = ZaloUser("8812345678901234567", "Lê Thị Hoa")  # Sở Văn hóa's second representative
TWIN = person(2007, "Nông", "Thị Thu")  # Sở Thông tin's second representative
REPORT_NAME = "Bao cao tong ket.pdf"
REPORT_DATA = b"%PDF-1.7\n% bao cao tong ket nam 2024\n%%EOF\n"
COVENANT = "/covenant set 31/12/2024 17:00; Các đơn vị cam kết thi đua hoàn thành nhiệm vụ."


class LockedTypist(Typist):
    """Zalo messages handled one at a time with the live server's requests (one connection)."""

    def __init__(self, zalo: FakeZalo, zbot: ZaloBot, lock: asyncio.Lock) -> None:
        super().__init__(zalo, zbot)
        self.lock = lock

    async def say(self, user: ZaloUser, text: str) -> str:
        async with self.lock:
            return await super().say(user, text)


@dataclass
class World:
    live: Live
    typist: Typist
    chair: int  # ballot 5: the chairman's certificate, secret, up to three units


@pytest.fixture
async def world(live: Live) -> AsyncIterator[World]:
    async with FakeZalo(TOKEN) as zalo:
        client = ZaloClient(TOKEN, zalo.url, backoff=0.01)
        live.services.channels = frozenset({Platform.TELEGRAM, Platform.ZALO})
        typist = LockedTypist(zalo, ZaloBot(live.services, client), live.lock)
        tg = live.tg
        await conference_setup(tg)
        await join(tg, TWIN, "4")
        await typist.say(HOA, await tg.invite_code("3"))
        await tg.send_file(SECRETARY, "bang.yaml", TABLE_EXAMPLE.read_bytes(), "/criteria")
        await tg.say(SECRETARY, OPEN_PERIOD)
        await tg.say(SECRETARY, COVENANT)
        await tg.say(SECRETARY, "/ballot open 5")
        yield World(live, typist, (await ballot_ids(live.services))[4])
        await client.close()


def _points(hundredths: int) -> str:
    whole, part = divmod(hundredths, 100)
    return f"{whole},{part:02d}".rstrip("0").rstrip(",")


async def _on_the_web(page: Page, link: str, chair: int, choose: list[str]) -> None:
    """What a representative does on the web companion, as a person taps it."""
    await page.goto(link)
    await page.get_by_role("button", name="Đăng nhập").tap()
    await expect(page.get_by_role("heading", level=1)).to_be_visible()

    # The report: the file, then every criterion on one page, then submit.
    await page.get_by_role("navigation").get_by_role("link", name="Báo cáo").tap()
    upload: FilePayload = {
        "name": REPORT_NAME,
        "mimeType": "application/pdf",
        "buffer": REPORT_DATA,
    }
    await page.set_input_files("#report-file", files=upload)
    await page.get_by_role("button", name="⬆ Tải tệp lên").tap()
    await expect(page.locator("main")).to_contain_text(REPORT_NAME)
    inputs = page.locator("input[name^='item-']")
    assert await inputs.count() == len(SYT_VALUES)
    for index, value in enumerate(SYT_VALUES):
        await inputs.nth(index).fill(_points(value))
    await page.get_by_role("button", name="✅ Xác nhận nộp").tap()
    await expect(page.locator("main")).to_contain_text("✅ Biên nhận báo cáo")
    await expect(page.locator("main")).to_contain_text("Phiên bản: 1")

    # The secret ballot: tick the candidates, review, confirm; the receipt is shown once.
    await page.goto(page.url.split("/web/")[0] + f"/web/ballots/{chair}")
    for name in choose:
        await page.get_by_label(name, exact=True).check()
    await expect(page.locator("[data-counter]")).to_contain_text(f"{len(choose)} / 3")
    await page.get_by_role("button", name="Xem lại và xác nhận").tap()
    await page.get_by_role("button", name="✅ Xác nhận").tap()
    receipt = (await page.locator(".receipt").inner_text()).strip()
    assert re.fullmatch(r"\w{4}-\w{4}-\w{4}", receipt), receipt

    # The receipt check: in the box until the count.
    await page.get_by_role("link", name="🔎 Kiểm tra phiếu bầu kín").first.tap()
    await page.get_by_label("Mã biên nhận").fill(receipt.lower())
    await page.get_by_role("button", name="🔎 Kiểm tra").tap()
    await expect(page.locator("main")).to_contain_text(f"Phiếu có mã {receipt} đang nằm trong")

    # The covenant: read it with its hash, sign, confirm.
    await page.get_by_role("navigation").get_by_role("link", name="Giao ước").tap()
    await expect(page.locator("main")).to_contain_text("SHA-256")
    await page.get_by_role("button", name="✍️ Ký giao ước").tap()
    await page.get_by_role("button", name="✅ Xác nhận ký").tap()
    await expect(page.locator("main")).to_contain_text("đã ký giao ước thi đua năm")


async def _in_chat(world: World, user: User, choose: list[int]) -> None:
    """The same in the Telegram chat, through its buttons."""
    tg = world.live.tg
    await tg.say(user, "/report")
    replies = await tg.send_file(user, REPORT_NAME, REPORT_DATA)
    await score_all(tg, user, draft_id(replies))
    draft = draft_id(replies)
    confirmed = await tg.tap(user, f"wk:{draft}:confirm:0")
    assert "Biên nhận báo cáo" in confirmed[0].text, [r.text for r in replies + confirmed]
    for index in choose:
        await tg.tap(user, f"vt:{world.chair}:tog:{index}")
    await tg.tap(user, f"vt:{world.chair}:review:-2")
    done = await tg.tap(user, f"vt:{world.chair}:ok:-2")
    receipt = re.search(r"<code>(\w{4}-\w{4}-\w{4})</code>", done[0].text)
    assert receipt is not None, done[0].text
    checked = await tg.say(user, receipt.group(1))
    assert "đang nằm trong hòm phiếu" in checked[-1].text
    shown = await tg.say(user, "/covenant")
    sign = shown[-1].callback_data[0][0]
    confirm = await tg.tap(user, sign)
    await tg.tap(user, confirm[-1].callback_data[0][0])


def _told(world: World, user: User, since: int, names: dict[str, str]) -> list[str]:
    """What `user` was sent since request `since`, with the acting person's and unit's names
    put as <P> and <U> (the texts are the same whichever unit acted)."""
    texts = []
    for m in world.live.tg.bot.mock_session.requests[since:]:
        if isinstance(m, SendMessage) and str(m.chat_id) == str(user.id):
            text = str(m.text)
            for name, mark in names.items():
                text = text.replace(name, mark)
            texts.append(text)
    return texts


async def _new_phone(browser: Browser) -> Page:
    context = await browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="vi-VN"
    )
    return await context.new_page()


async def test_web_from_zalo_and_telegram_does_what_chat_does(
    world: World, browser: Browser, phone: Page
) -> None:
    live, tg, services = world.live, world.live.tg, world.live.services
    async with services.db.uow() as uow:
        marker = (
            await uow.session.exec(select(AuditRow.id).order_by(col(AuditRow.id).desc()))
        ).first()
        units = {u.name: u.id for u in (await uow.session.exec(select(UnitRow))).all()}
    start = len(tg.bot.mock_session.requests)

    # An, from Telegram: /web gives the link; the phone opens it.
    reply = await tg.say(AN, "/web")
    link = re.search(r"http://\S+/signin/[A-Za-z0-9_-]{43}", reply[-1].text)
    assert link is not None
    await _on_the_web(phone, link.group(0), world.chair, [SGD, STT])
    after_an = len(tg.bot.mock_session.requests)

    # Hoa, from Zalo: «web» gives the link (plain text); another phone opens it.
    said = await world.typist.say(HOA, "web")
    link = re.search(r"http://\S+/signin/[A-Za-z0-9_-]{43}", said)
    assert link is not None, said
    other = await _new_phone(browser)
    await _on_the_web(other, link.group(0), world.chair, [SYT, SGD])
    after_hoa = len(tg.bot.mock_session.requests)

    # Giang, in the Telegram chat: the same steps through the buttons.
    await _in_chat(world, GIANG, [0, 1])
    assert live.console == []

    # The database: one version each, the same total and file; sealed votes; signatures.
    async with services.db.uow() as uow:
        subs = (await uow.session.exec(select(SubmissionRow))).all()
        rows = {(s.unit_id, s.version, s.self_total_cp, s.file_sha256) for s in subs}
        registered = {r.unit_id for r in (await uow.session.exec(select(SecretRegisterRow))).all()}
        signed = {s.unit_id for s in (await uow.session.exec(select(CovenantSignatureRow))).all()}
        audit = (
            await uow.session.exec(select(AuditRow).where(col(AuditRow.id) > (marker or 0)))
        ).all()
        trail = [(a.unit_id, a.action) for a in audit]
    acting = {units[SYT], units[SVH], units[STT]}
    assert {(u, v) for u, v, _, _ in rows} == {(u, 1) for u in acting}
    assert len({(t, f) for _, _, t, f in rows}) == 1
    assert registered == acting
    assert signed == acting

    # The audit chain: each unit's actions in the same order, and the chain verifies.
    def actions(unit: str) -> list[str]:
        return [action for u, action in trail if u == units[unit]]

    assert actions(SYT) == actions(SVH) == actions(STT)
    assert actions(STT) == ["report.submitted", "vote.cast_secret", "covenant.signed"]
    assert (await verify_log(services.db, AUDIT_KEY)).ok

    # The colleagues: Bình (An's unit), Dung (Hoa's) and Thu (Giang's) are told the same.
    told_binh = _told(world, BINH, start, {"Trần Văn An": "<P>", SYT: "<U>"})
    told_dung = _told(world, DUNG, after_an, {"Lê Thị Hoa": "<P>", SVH: "<U>"})
    told_thu = _told(world, TWIN, after_hoa, {"Vũ Văn Giang": "<P>", STT: "<U>"})
    assert told_binh == told_dung == told_thu
    assert len(told_thu) >= 2
