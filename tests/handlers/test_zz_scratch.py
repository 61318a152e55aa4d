from __future__ import annotations

import io
import unicodedata
from datetime import timedelta

import pytest

from tests.handlers.conftest import SECRETARY, GROUP, Harness, person
from handlers.telegram.ui import LangCb, MemberCb, MoveCb, KindCb, UnitCb

UNITS = [("Sở Y tế", "SYT"), ("Sở Giáo dục và Đào tạo", "SGDĐT"), ("Sở Văn hóa, Thể thao và Du lịch", "SVHTTDL")]


def dump(label: str, replies: list) -> None:
    print(f"----- {label}")
    for r in replies:
        print(f"[chat {r.chat_id}] buttons={r.buttons} data={r.callback_data}")
        print(repr(r.text))


async def test_scratch(tg: Harness, request: pytest.FixtureRequest, clock) -> None:
    if "postgresql" in request.node.name:
        pytest.skip()
    dump("bloc none admin", await tg.say(SECRETARY, "/bloc"))
    dump("units none", await tg.say(SECRETARY, "/units"))
    dump("bloc new bad", await tg.say(SECRETARY, "/bloc new A; B"))
    dump("bloc new badkind", await tg.say(SECRETARY, "/bloc new A; Nhóm; 2024; AB"))
    dump("bloc new badyear", await tg.say(SECRETARY, "/bloc new A; Khối; 2030; AB"))
    dump("bloc new badcode", await tg.say(SECRETARY, "/bloc new A; Khối; 2024; a b-c"))
    dump("bloc new badtz", await tg.say(SECRETARY, "/bloc new A; Khối; 2024; AB; Mars/Base"))
    stranger = person(3001, "Phạm", "Minh")
    dump("stranger new", await tg.say(stranger, "/bloc new A; Khối; 2024; AB"))
    dump("stranger bloc", await tg.say(stranger, "/bloc"))
    dump("wizard", await tg.say(SECRETARY, "/bloc new"))
    dump("wizard name", await tg.say(SECRETARY, "Cụm thi đua các huyện"))
    dump("kind forged", await tg.tap(SECRETARY, KindCb(kind="xyz").pack()))
    dump("kind typed bad", await tg.say(SECRETARY, "nhóm"))
    dump("kind typed", await tg.say(SECRETARY, "cụm"))
    dump("year bad", await tg.say(SECRETARY, "2020"))
    dump("year", await tg.say(SECRETARY, "2024"))
    dump("code bad", await tg.say(SECRETARY, "c 1!"))
    dump("code", await tg.say(SECRETARY, "ctđh"))
    dump("wizard2", await tg.say(SECRETARY, "/bloc new"))
    dump("wizard2 cancel", await tg.say(SECRETARY, "/units"))
    await tg.admin_setup(units=UNITS)
    dump("pick", await tg.say(SECRETARY, "/bloc"))
    dump("use", await tg.say(SECRETARY, "/bloc use 1"))
    dump("use2", await tg.say(SECRETARY, "/bloc use ktđvhxh"))
    dump("deputy", await tg.say(SECRETARY, "/bloc deputy 2"))
    dump("leader same", await tg.say(SECRETARY, "/bloc leader SGDĐT"))
    dump("leader unk", await tg.say(SECRETARY, "/bloc leader Sở Công Thương"))
    dump("leader empty", await tg.say(SECRETARY, "/bloc leader"))
    dump("rot incomplete", await tg.say(SECRETARY, "/bloc rotation SYT"))
    dump("usage", await tg.say(SECRETARY, "/bloc xyz"))
    dump("invite sec", await tg.say(SECRETARY, "/invite secretariat"))
    dump("invite obs", await tg.say(SECRETARY, "/invite observer"))
    dump("invite usage", await tg.say(SECRETARY, "/invite"))
    dump("invite unk", await tg.say(SECRETARY, "/invite 9"))
    dump("invite 21", await tg.say(SECRETARY, "/invite 1 21"))
    c = await tg.invite_code("1")
    dump("reissue", await tg.say(SECRETARY, "/invite 1"))
    dump("revoke", await tg.say(SECRETARY, "/invite revoke 1"))
    dump("revoke0", await tg.say(SECRETARY, "/invite revoke 1"))
    c = await tg.invite_code("1")
    clock.advance(timedelta(days=14))
    dump("expired", await tg.say(stranger, c))
    clock.advance(timedelta(days=-14))
    sec = await tg.invite_code("secretariat")
    s2 = person(4001, "Đỗ", "Hải")
    dump("join sec", await tg.say(s2, sec))
    dump("again sec", await tg.say(s2, await tg.invite_code("secretariat")))
    obs = await tg.invite_code("observer")
    dump("join obs", await tg.say(stranger, obs))
    dump("units", await tg.say(SECRETARY, "/units"))
    dump("help obs", await tg.say(stranger, "/help"))
    dump("me obs", await tg.say(stranger, "/me"))
    dump("help sec", await tg.say(s2, "/help"))
    dump("group start noargs", await tg.say(s2, "/start", chat=GROUP))
    dump("start", await tg.say(s2, "/start"))
    dump("start stranger", await tg.say(person(5, "X"), "/start"))
    dump("group text", await tg.say(s2, "chào cả nhà", chat=GROUP))
    dump("group other bot", await tg.say(s2, "/units@other_bot", chat=GROUP))
