"""Secret ballots in chat: the receipt shown once, a second cast refused, checking a receipt
(in the box, counted, published by a bloc's opt-in), turnout-only views in the group and for
the secretariat, /ballot secret, and cancelling an open secret ballot."""

from __future__ import annotations

import re

from aiogram.methods import EditMessageReplyMarkup, EditMessageText, SendMessage
from aiogram.types import Chat, InaccessibleMessage
from teremok import MockCallbackQuery

from bot.services.app import Services
from tests.handlers.conftest import GROUP, SECRETARY, Harness, Reply, person
from tests.handlers.support import (
    ALREADY,
    AN,
    BINH,
    BLOC,
    BLOC_CODE,
    CHAIR,
    CHAIR_RULES,
    CHECK_BUTTON,
    CUONG,
    DEPUTY,
    DUNG,
    ELECT_RULES,
    GIANG,
    GOV,
    LAN2,
    LEADER,
    LIST_FOOTER,
    NOBODY_ELECTED,
    NOT_SECRETARIAT,
    PM,
    PROV,
    REPORT,
    SGD,
    STRANGER,
    STT,
    SVH,
    SYT,
    SecretRows,
    audit_line,
    audit_trail,
    ballot_ids,
    ballot_text,
    bloc_by_code,
    cast,
    conference_setup,
    confirm_buttons,
    confirm_text,
    dispatch,
    done_text,
    draft_version,
    identity,
    join,
    open_votes,
    opened_text,
    plain,
    raw_tap,
    receipt_of,
    replies_of,
    result,
    sealed_done_text,
    secret_rows,
)
from tests.handlers.test_group import deleted

S = SECRETARY.id
G = GROUP.id
REPS = (AN, BINH, CUONG, DUNG, GIANG)
OUTSIDER = person(2301, "Mai", "Văn Ngoài")  # represents a unit of another bloc
CHECK_STATE = "ReceiptCheck:code"
ASK = (
    "🔎 Gửi mã biên nhận đơn vị nhận được khi bỏ phiếu kín (dạng <code>XXXX-XXXX-XXXX</code>). "
    "Lúc nào cũng có thể dán mã vào tin nhắn riêng với bot để kiểm tra."
)
BAD_RECEIPT = (
    "Mã biên nhận gồm 12 ký tự, dạng <code>XXXX-XXXX-XXXX</code> (chữ và số, không phân biệt "
    "hoa thường). Vui lòng kiểm tra và gửi lại."
)
NOT_MEMBER = "Bạn chưa tham gia khối thi đua nào. Hãy gửi mã mời của đơn vị bạn."
NOT_A_CANDIDATE = "Lựa chọn này không có trong phiếu."
CANCELLED = "Nội dung này đã bị hủy."
NOTHING_OPEN = "Hiện không có nội dung nào đang biểu quyết."


def warning(now: str = "không công bố") -> str:
    """/bloc receipts: the warning, with the setting in force ("đang công bố" when on)."""
    return (
        "⚠️ <b>Công bố mã biên nhận kèm lựa chọn?</b>\n"
        "Sau khi kiểm mỗi cuộc bỏ phiếu kín, bot sẽ công bố danh sách «mã biên nhận → lựa chọn». "
        "Khi đó đơn vị nào giữ mã của mình đều chứng minh được mình đã bầu ai — điều này có thể "
        "dẫn đến mua bán, ép buộc phiếu bầu. Chỉ bật khi quy chế của khối yêu cầu.\n"
        f"Hiện tại: {now}. Mặc định (tắt): mỗi đơn vị chỉ kiểm tra được phiếu của mình đã được "
        "kiểm, không ai thấy lựa chọn."
    )


WARNING = warning()
PUBLISHING = (
    "Đã bật: sau khi kiểm phiếu kín, bot công bố «mã biên nhận → lựa chọn» "
    "(áp dụng cho các cuộc bỏ phiếu đóng từ bây giờ)."
)
NOT_PUBLISHING = (
    "Đã tắt công bố mã biên nhận: mỗi đơn vị chỉ kiểm tra được phiếu của mình đã được kiểm."
)
SECRET_REPORT_RULES = "Thông qua khi đạt &gt;50% tổng số đơn vị thành viên; bỏ phiếu kín"
OPEN_LEADER_RULES = (
    "Thông qua khi đạt &gt;50% tổng số đơn vị thành viên; không chọn đơn vị mình; "
    "biểu quyết công khai"
)
# A count as the result shows it ("• Sở Y tế: 2 phiếu (50,0%)"): never seen before the close.
COUNT = re.compile(r"•|\d+ phiếu \(")


def in_box(code: str, name: str) -> str:
    return (
        f"📥 Phiếu có mã <code>{code}</code> đang nằm trong hòm phiếu của «{name}». "
        "Phiếu sẽ được kiểm khi kết thúc bỏ phiếu; khi đó hãy kiểm tra lại."
    )


def counted(code: str, name: str, choice: str = "") -> str:
    text = f"✅ Phiếu có mã <code>{code}</code> đã được kiểm trong «{name}»."
    return text + (f" Lựa chọn được kiểm: {choice}." if choice else "")


def not_found(code: str, bloc: str = BLOC) -> str:
    return (
        f"❔ Không tìm thấy phiếu nào có mã <code>{code}</code> trong các cuộc bỏ phiếu kín "
        f"đang mở hoặc đã kiểm của {bloc}. Kiểm tra lại mã; phiếu của cuộc bỏ phiếu đã bị hủy "
        "không được giữ lại."
    )


def colleague(name: str) -> str:
    """What Bình is told when An votes for Sở Y tế in a secret ballot: not the choice."""
    return f"🗳 Trần Văn An đã bỏ phiếu kín cho <b>{SYT}</b> — {name}."


def vote_list(*lines: str) -> str:
    return f"Các nội dung đang biểu quyết — {SYT}:\n" + "\n".join(lines)


def turnout(*rows: str) -> str:
    """The group's /vote: the open ballots and how many units voted, nothing else."""
    return (
        f"🗳 <b>Đang bỏ phiếu</b> — {BLOC}\n"
        + "".join(f"{row}\n" for row in rows)
        + "Chỉ hiển thị số đơn vị đã bỏ phiếu; kết quả công bố khi kiểm phiếu xong. Đại diện "
        "đơn vị bỏ phiếu trong tin nhắn riêng với bot: https://t.me/thidua_test_bot."
    )


# --- casting: the receipt once, then nothing to change ------------------------------------


async def test_single_choice_secret_ballot_shows_the_receipt_once_and_refuses_a_second_cast(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    leader = (await ballot_ids(services))[5]
    await tg.say(SECRETARY, "/ballot open 6")

    shown = await tg.tap(AN, f"vt:{leader}:show:0")
    assert [r.text for r in shown] == [ballot_text(LEADER, SYT, ELECT_RULES)]
    assert shown[0].buttons == [[SGD], [SVH], [STT], ["Phiếu trắng"]]
    confirm = await tg.tap(AN, f"vt:{leader}:pick:1")
    assert [r.text for r in confirm] == [confirm_text(LEADER, SYT, SGD, secret=True)]
    assert (confirm[0].buttons, confirm[0].callback_data) == confirm_buttons(leader, 1)

    done = await tg.tap(AN, f"vt:{leader}:ok:1")
    receipt = "0000-0000-0006"  # the test's token source counts on from the five invites
    assert [(r.chat_id, r.text) for r in done] == [
        (AN.id, sealed_done_text(SYT, LEADER, 1, receipt)),
        (BINH.id, colleague(LEADER)),
    ]
    assert (done[0].buttons, done[0].callback_data) == CHECK_BUTTON
    assert done[1].buttons == []
    assert all(SGD not in r.text for r in done)  # the choice is not repeated

    # Later views say that the unit voted; never the receipt, never the choice.
    later: list[Reply] = []
    for user in (AN, BINH):
        mine = await tg.say(user, "/vote")
        assert [r.text for r in mine] == [vote_list(f"6. {LEADER} — đơn vị đã bỏ phiếu (1/4)")]
        assert mine[0].buttons == [[f"✅ 6. {LEADER}"], ["🔎 Kiểm tra phiếu"]]
        assert mine[0].callback_data == [[f"vt:{leader}:show:0"], ["vt:0:check:0"]]
        shown = await tg.tap(user, f"vt:{leader}:show:0")
        assert [r.text for r in shown] == [ballot_text(LEADER, SYT, ELECT_RULES, sealed=True)]
        assert (shown[0].buttons, shown[0].callback_data) == CHECK_BUTTON
        later += mine + shown

    # A second cast: An's old confirm button; Bình's pick, blank ballot and confirm.
    later += await tg.tap(AN, f"vt:{leader}:ok:1")
    assert plain(later[-1:]) == [(AN.id, ALREADY)]
    assert await tg.tap(BINH, f"vt:{leader}:pick:2") == []
    assert await tg.tap(BINH, f"vt:{leader}:blank:-1") == []
    later += await tg.tap(BINH, f"vt:{leader}:ok:2")
    assert plain(later[-1:]) == [(BINH.id, ALREADY)]
    assert tg.alerts == [ALREADY, ALREADY]
    assert not [r.text for r in later if receipt in r.text or SGD in r.text]

    an = await identity(services, AN)
    assert await secret_rows(services, leader) == SecretRows([("SYT", an.id)], 1, 0, 0)
    assert await open_votes(services, leader) == []
    votes = [(a, d) for a, d in await audit_trail(services) if a.startswith("vote.")]
    assert votes == [("vote.cast_secret", {"ballot": leader})]

    # Another unit votes as usual, with its own receipt.
    theirs = await cast(tg, CUONG, leader, 2)
    assert [(r.chat_id, r.text) for r in theirs] == [
        (CUONG.id, sealed_done_text(SGD, LEADER, 2, "0000-0000-0007"))
    ]


async def test_multi_choice_secret_ballot_keeps_the_unit_selection_sealed_and_casts_once(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    chair = (await ballot_ids(services))[4]
    await tg.say(SECRETARY, "/ballot open 5")

    # The selection is the unit's: An's tap shows in Bình's ballot, and the other way round.
    await tg.tap(AN, f"vt:{chair}:tog:2")
    shown = await tg.tap(BINH, f"vt:{chair}:show:0")
    assert [r.text for r in shown] == [ballot_text(CHAIR, SYT, CHAIR_RULES, multi=3, chosen=1)]
    assert shown[0].buttons == [
        [SGD],
        [f"✅ {SVH}"],
        [STT],
        ["Phiếu trắng"],
        ["Xác nhận (1/3)"],
    ]
    await tg.tap(BINH, f"vt:{chair}:tog:3")
    review = await tg.tap(AN, f"vt:{chair}:review:-2")
    assert [r.text for r in review] == [confirm_text(CHAIR, SYT, f"{SVH}, {STT}", secret=True)]
    # The confirm carries the selection's version: random, not the number of taps (2).
    version = await draft_version(services, chair)
    assert version != 2
    assert (review[0].buttons, review[0].callback_data) == confirm_buttons(chair, -2, version)
    assert await secret_rows(services, chair) == SecretRows([], 0, 1, 0)

    done = await tg.tap(AN, f"vt:{chair}:ok:-2:{version}")
    assert [(r.chat_id, r.text) for r in done] == [
        (AN.id, sealed_done_text(SYT, CHAIR, 1, "0000-0000-0006")),
        (BINH.id, colleague(CHAIR)),
    ]
    assert (done[0].buttons, done[0].callback_data) == CHECK_BUTTON
    assert all(SVH not in r.text and STT not in r.text for r in done)

    # Toggling after the cast, reviewing, confirming again: refused; the ballot is locked.
    assert await tg.tap(AN, f"vt:{chair}:tog:1") == []
    assert await tg.tap(BINH, f"vt:{chair}:review:-2") == []
    assert plain(await tg.tap(BINH, f"vt:{chair}:ok:-2")) == [(BINH.id, ALREADY)]
    assert tg.alerts == [ALREADY, ALREADY]
    shown = await tg.tap(BINH, f"vt:{chair}:show:0")
    assert [r.text for r in shown] == [ballot_text(CHAIR, SYT, CHAIR_RULES, sealed=True)]
    assert (shown[0].buttons, shown[0].callback_data) == CHECK_BUTTON
    an = await identity(services, AN)
    assert await secret_rows(services, chair) == SecretRows([("SYT", an.id)], 1, 0, 0)

    # The count opens what An confirmed: Sở VHTTDL and Sở TT&TT.
    await cast(tg, CUONG, chair, [2, 3])
    await cast(tg, DUNG, chair, [1])
    await cast(tg, GIANG, chair, None)
    assert plain(await tg.say(SECRETARY, "/ballot close 5")) == [
        (
            S,
            result(
                CHAIR,
                (4, 4, 3, 1, 1),
                [
                    (SYT, 0, "0,0", False),
                    (SGD, 1, "25,0", False),
                    (SVH, 2, "50,0", False),
                    (STT, 2, "50,0", False),
                ],
                "Số đơn vị đạt ngưỡng ít hơn chỉ tiêu (3); không tổ chức vòng tiếp theo.",
                await audit_line(services),
            ),
        )
    ]
    rows = await secret_rows(services, chair)
    assert (len(rows.registered), rows.box, rows.drafts, rows.counted) == (4, 0, 0, 4)


# --- checking a receipt ----------------------------------------------------------------------


async def test_receipt_check_in_the_box_then_counted(tg: Harness, services: Services) -> None:
    # Another bloc first (its invite comes first): its representative checks codes there.
    await tg.say(SECRETARY, "/bloc new Cụm thi đua các huyện; Cụm; 2024; CTĐH")
    await tg.say(SECRETARY, "/units add Ủy ban nhân dân huyện Đông Anh; UBNDĐA")
    await join(tg, OUTSIDER, "1")
    await conference_setup(tg)  # the newest bloc is the secretariat's current one
    leader = (await ballot_ids(services))[5]
    await tg.say(SECRETARY, "/ballot open 6")
    mine = receipt_of((await cast(tg, AN, leader, 1))[0])
    theirs = receipt_of((await cast(tg, CUONG, leader, 2))[0])
    assert (mine, theirs) == ("0000-0000-0007", "0000-0000-0008")

    # /vote → "Kiểm tra phiếu" → the code. Nothing but the state is kept meanwhile.
    listed = await tg.say(AN, "/vote")
    assert (listed[0].buttons[-1], listed[0].callback_data[-1]) == (
        ["🔎 Kiểm tra phiếu"],
        ["vt:0:check:0"],
    )
    assert plain(await tg.tap(AN, "vt:0:check:0")) == [(AN.id, ASK)]
    assert await tg.bot.get_state(AN.id) == CHECK_STATE
    # A malformed code is refused and the code is still awaited: the next good one works.
    assert plain(await tg.say(AN, "0000-0000-007")) == [(AN.id, BAD_RECEIPT)]
    assert await tg.bot.get_state(AN.id) == CHECK_STATE
    assert plain(await tg.say(AN, mine)) == [(AN.id, in_box(mine, LEADER))]
    assert await tg.bot.get_state(AN.id) is None
    assert await tg.bot.get_data(AN.id) == {}

    # Typed loosely (lowercase, no dashes, spaces, O for 0), by command or pasted bare.
    assert plain(await tg.say(AN, "/vote check 000000000007")) == [(AN.id, in_box(mine, LEADER))]
    assert plain(await tg.say(BINH, "oooo oooo ooo7")) == [(BINH.id, in_box(mine, LEADER))]
    assert plain(await tg.say(CUONG, "/vote check")) == [(CUONG.id, ASK)]
    assert plain(await tg.say(CUONG, "0000-OOOO-0008")) == [(CUONG.id, in_box(theirs, LEADER))]
    # An unknown code, a malformed one after /vote check (nothing left awaited).
    assert plain(await tg.say(AN, "/vote check 0000-0000-0zzz")) == [
        (AN.id, not_found("0000-0000-0ZZZ"))
    ]
    assert plain(await tg.say(AN, "/vote check 1234")) == [(AN.id, BAD_RECEIPT)]
    assert await tg.bot.get_state(AN.id) is None
    # Somebody of another bloc, somebody of none: not theirs to find.
    assert plain(await tg.say(OUTSIDER, mine)) == [
        (OUTSIDER.id, not_found(mine, "Cụm thi đua các huyện"))
    ]
    assert plain(await tg.say(STRANGER, mine)) == [(STRANGER.id, NOT_MEMBER)]
    assert plain(await tg.say(STRANGER, f"/vote check {mine}")) == [(STRANGER.id, NOT_MEMBER)]

    # After the count: counted, and still no choice (the bloc does not publish receipts).
    await tg.say(SECRETARY, "/ballot close 6")
    assert plain(await tg.say(AN, mine)) == [(AN.id, counted(mine, LEADER))]
    assert plain(await tg.say(CUONG, f"/vote check {theirs.lower()}")) == [
        (CUONG.id, counted(theirs, LEADER))
    ]
    after = await tg.say(AN, "/vote")
    assert [(r.chat_id, r.text) for r in after] == [(AN.id, NOTHING_OPEN)]
    assert (after[0].buttons, after[0].callback_data) == CHECK_BUTTON
    assert plain(await tg.tap(AN, "vt:0:check:0")) == [(AN.id, ASK)]
    assert plain(await tg.say(AN, mine.replace("-", " "))) == [(AN.id, counted(mine, LEADER))]
    rows = await secret_rows(services, leader)
    assert (rows.box, rows.drafts, rows.counted) == (0, 0, 2)


async def test_published_receipts_show_the_choice_after_a_warning(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    leader = (await ballot_ids(services))[5]

    # Only the secretariat decides.
    assert plain(await tg.say(AN, "/bloc receipts off")) == [(AN.id, NOT_SECRETARIAT)]
    assert plain(await tg.tap(AN, "rcp:1")) == [(AN.id, NOT_SECRETARIAT)]
    assert not (await bloc_by_code(services, BLOC_CODE)).publish_receipts

    # Turning it on is warned about; "Giữ bí mật" keeps it off; the buttons go away.
    warned = await tg.say(SECRETARY, "/bloc receipts")
    assert [(r.chat_id, r.text) for r in warned] == [(S, WARNING)]
    assert warned[0].buttons == [["⚠️ Tôi hiểu, công bố"], ["Giữ bí mật"]]
    assert warned[0].callback_data == [["rcp:1"], ["rcp:0"]]
    kept = await raw_tap(tg, SECRETARY, "rcp:0")
    assert plain(replies_of(kept)) == [(S, NOT_PUBLISHING)]
    assert [m.reply_markup for m in kept if isinstance(m, EditMessageReplyMarkup)] == [None]
    assert not (await bloc_by_code(services, BLOC_CODE)).publish_receipts

    warned = await tg.say(SECRETARY, "/bloc receipts on")
    assert [(r.text, r.buttons) for r in warned] == [
        (WARNING, [["⚠️ Tôi hiểu, công bố"], ["Giữ bí mật"]])
    ]
    agreed = await raw_tap(tg, SECRETARY, "rcp:1")
    assert plain(replies_of(agreed)) == [(S, PUBLISHING)]
    assert [m.reply_markup for m in agreed if isinstance(m, EditMessageReplyMarkup)] == [None]
    assert (await bloc_by_code(services, BLOC_CODE)).publish_receipts
    assert (await tg.say(SECRETARY, "/bloc"))[0].text.endswith(
        "\nPhiếu kín: công bố «mã biên nhận → lựa chọn» sau khi kiểm"
    )

    # While open, nothing is published: the check says "in the box", without a choice.
    await tg.say(SECRETARY, "/ballot open 6")
    receipts = [
        receipt_of((await cast(tg, user, leader, choice))[0])
        for user, choice in ((AN, 1), (CUONG, None), (DUNG, 3), (GIANG, 1))
    ]
    assert receipts == [f"0000-0000-000{n}" for n in (6, 7, 8, 9)]
    assert plain(await tg.say(AN, receipts[0])) == [(AN.id, in_box(receipts[0], LEADER))]

    # The result lists receipt → choice (in code order), and a check shows the choice.
    closed = plain(await tg.say(SECRETARY, "/ballot close 6"))
    text = result(
        LEADER,
        (4, 4, 3, 1, 1),
        [
            (SYT, 0, "0,0", False),
            (SGD, 2, "50,0", False),
            (SVH, 0, "0,0", False),
            (STT, 1, "25,0", False),
        ],
        "Mã biên nhận và lựa chọn (khối công bố theo quy chế):",
        f"<code>{receipts[0]}</code>: {SGD}",
        f"<code>{receipts[1]}</code>: phiếu trắng",
        f"<code>{receipts[2]}</code>: {STT}",
        f"<code>{receipts[3]}</code>: {SGD}",
        NOBODY_ELECTED,
        await audit_line(services),
        rule="ngưỡng &gt;50%",
    )
    assert closed == [(S, text)]
    assert plain(await tg.say(AN, receipts[0])) == [(AN.id, counted(receipts[0], LEADER, SGD))]
    assert plain(await tg.say(CUONG, f"/vote check {receipts[1]}")) == [
        (CUONG.id, counted(receipts[1], LEADER, "phiếu trắng"))
    ]

    # Off again, at once (no warning needed).
    assert plain(await tg.say(SECRETARY, "/bloc receipts off")) == [(S, NOT_PUBLISHING)]
    assert not (await bloc_by_code(services, BLOC_CODE)).publish_receipts
    trail = [d for a, d in await audit_trail(services) if a == "bloc.publish_receipts"]
    assert trail == [{"publish": False}, {"publish": True}, {"publish": False}]


# --- turnout only, while a ballot is open ----------------------------------------------------


async def test_secretariat_and_group_see_turnout_only_until_the_close(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    await join(tg, LAN2, "secretariat")
    await tg.say(SECRETARY, "/bloc link", chat=GROUP)
    ids = await ballot_ids(services)
    report, leader = ids[0], ids[5]
    # Everything the secretariat and the group are sent while the ballots are open.
    seen: list[Reply] = []
    seen += await tg.say(SECRETARY, "/ballot open 1")
    seen += await tg.say(SECRETARY, "/ballot open 6")
    seen += await tg.say(STRANGER, "/vote", chat=GROUP)
    assert plain(seen[-1:]) == [
        (
            G,
            turnout(
                f"1. {REPORT}: 0/4 đơn vị đã biểu quyết",
                f"6. {LEADER} (bỏ phiếu kín): 0/4 đơn vị đã bỏ phiếu",
            ),
        )
    ]

    for user, choice in ((AN, 1), (CUONG, 0), (DUNG, 1)):
        cast_replies = await cast(tg, user, leader, choice)
        assert {r.chat_id for r in cast_replies} <= {user.id, BINH.id}  # nobody else is told
        seen += cast_replies
    seen += await cast(tg, AN, report, 0)

    listing = await tg.say(LAN2, "/ballot")
    assert plain(listing) == [
        (
            LAN2.id,
            "<b>Các nội dung biểu quyết</b> — có mặt 4/4 đơn vị\n\n"
            f"1. {REPORT} — đang biểu quyết, 1/4 đơn vị đã biểu quyết\n"
            f"2. {GOV} (kín) — chưa mở\n"
            f"3. {PROV} (kín) — chưa mở\n"
            f"4. {PM} (kín) — chưa mở\n"
            f"5. {CHAIR} (kín) — chưa mở\n"
            f"6. {LEADER} (kín) — đang biểu quyết, 3/4 đơn vị đã bỏ phiếu\n"
            f"7. {DEPUTY} (kín) — chưa mở\n" + LIST_FOOTER,
        )
    ]
    group = await tg.say(AN, "/vote", chat=GROUP)
    assert plain(group) == [
        (
            G,
            turnout(
                f"1. {REPORT}: 1/4 đơn vị đã biểu quyết",
                f"6. {LEADER} (bỏ phiếu kín): 3/4 đơn vị đã bỏ phiếu",
            ),
        )
    ]
    conference = await tg.say(SECRETARY, "/conference")
    assert f"\n6. {LEADER} — đang biểu quyết, 3/4 đơn vị đã biểu quyết\n" in conference[0].text
    seen += listing + group + conference
    watchers = {S, LAN2.id, G}
    assert [r.text for r in seen if r.chat_id in watchers and COUNT.search(r.text)] == []
    # A group that is not the bloc's learns nothing.
    other = Chat(id=-1009999, type="supergroup", title="Nhóm khác")
    assert plain(await tg.say(AN, "/vote", chat=other)) == [
        (other.id, "Lệnh này chỉ dùng trong tin nhắn riêng với bot.")
    ]

    # The close: the result goes to the secretariat and the group; turnout moves on.
    closed = plain(await tg.say(SECRETARY, "/ballot close 6"))
    text = result(
        LEADER,
        (4, 3, 3, 0, 0),
        [
            (SYT, 1, "25,0", False),
            (SGD, 2, "50,0", False),
            (SVH, 0, "0,0", False),
            (STT, 0, "0,0", False),
        ],
        NOBODY_ELECTED,
        await audit_line(services),
        rule="ngưỡng &gt;50%",
    )
    assert COUNT.search(text)  # what the watchers were never shown above
    assert closed == [
        (S, text),
        (LAN2.id, text),
        (G, text),
    ]
    assert plain(await tg.say(AN, "/vote", chat=GROUP)) == [
        (G, turnout(f"1. {REPORT}: 1/4 đơn vị đã biểu quyết"))
    ]
    await tg.say(SECRETARY, "/ballot close 1")
    assert plain(await tg.say(AN, "/vote", chat=GROUP)) == [
        (G, f"Hiện {BLOC} không có nội dung nào đang bỏ phiếu.")
    ]


# --- /ballot secret --------------------------------------------------------------------------


async def test_ballot_secret_switches_a_ballot_before_it_opens(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    ids = await ballot_ids(services)
    report, leader = ids[0], ids[5]
    assert plain(await tg.say(AN, "/ballot secret 1; on")) == [(AN.id, NOT_SECRETARIAT)]

    # The report approval (open by default) becomes secret: no "Ý kiến khác" once opened.
    assert plain(await tg.say(SECRETARY, "/ballot secret 1; on")) == [
        (
            S,
            f"Nội dung số 1 «{REPORT}»: bỏ phiếu kín — lựa chọn được niêm phong, chỉ công bố "
            "kết quả; mỗi đơn vị nhận mã biên nhận để kiểm tra.",
        )
    ]
    assert (await tg.say(SECRETARY, "/ballot"))[0].text.split("\n")[2] == (
        f"1. {REPORT} (kín) — chưa mở"
    )
    opened = await tg.say(SECRETARY, "/ballot open 1")
    assert opened[0].text == opened_text(1, REPORT, SECRET_REPORT_RULES)
    shown = await tg.tap(AN, f"vt:{report}:show:0")
    assert [r.text for r in shown] == [ballot_text(REPORT, SYT, SECRET_REPORT_RULES)]
    assert shown[0].buttons == [["Đồng ý"], ["Không đồng ý"], ["Phiếu trắng"]]
    assert shown[0].callback_data == [
        [f"vt:{report}:pick:0"],
        [f"vt:{report}:pick:1"],
        [f"vt:{report}:blank:-1"],
    ]
    assert await tg.tap(AN, f"vt:{report}:pick:2") == []
    assert tg.alerts == [NOT_A_CANDIDATE]
    assert plain(await tg.say(SECRETARY, "/ballot written 1; STTTT; 1")) == [
        (S, "Bỏ phiếu kín không nhận phiếu ghi thay bằng văn bản.")
    ]
    done = await cast(tg, AN, report, 0)
    assert done[0].text == sealed_done_text(SYT, REPORT, 1, "0000-0000-0006")

    # Opened: it stays secret.
    assert plain(await tg.say(SECRETARY, "/ballot secret 1; off")) == [
        (S, "Nội dung số 1 đã được mở hoặc đã kết thúc.")
    ]
    assert (await tg.tap(AN, f"vt:{report}:show:0"))[0].text == ballot_text(
        REPORT, SYT, SECRET_REPORT_RULES, sealed=True
    )

    # The leader election (secret by default) becomes open before it opens.
    assert plain(await tg.say(SECRETARY, "/ballot secret 6; off")) == [
        (
            S,
            f"Nội dung số 6 «{LEADER}»: biểu quyết công khai — lựa chọn của từng đơn vị được "
            "ghi nhận và có thể chọn lại đến khi đóng.",
        )
    ]
    opened = await tg.say(SECRETARY, "/ballot open 6")
    assert opened[0].text == opened_text(6, LEADER, OPEN_LEADER_RULES)
    assert plain(await cast(tg, AN, leader, 1)) == [
        (AN.id, done_text(SYT, SGD, LEADER, 1)),
        (BINH.id, f"🗳 Trần Văn An đã biểu quyết cho <b>{SYT}</b> — {LEADER}: {SGD}."),
    ]
    assert [v.unit for v in await open_votes(services, leader)] == ["SYT"]
    assert plain(await tg.say(SECRETARY, "/ballot secret 6; on")) == [
        (S, "Nội dung số 6 đã được mở hoặc đã kết thúc.")
    ]

    usage = plain(await tg.say(SECRETARY, "/ballot secret 2; maybe"))
    assert usage[0][1].startswith("Cách dùng:\n")
    assert usage[0][1].endswith(
        "\n<code>/ballot secret SỐ; kín|công khai</code> — bỏ phiếu kín hoặc công khai "
        "(trước khi mở; mặc định kín cho khen thưởng và bầu trưởng, phó khối)"
    )
    assert plain(await tg.say(SECRETARY, "/ballot secret 9; on")) == [
        (S, "Không có nội dung biểu quyết số «9». Xem danh sách: /ballot")
    ]
    marked = [d for a, d in await audit_trail(services) if a == "ballot.secret_set"]
    assert marked == [{"ballot": report, "secret": True}, {"ballot": leader, "secret": False}]


# --- cancelling an open secret ballot ---------------------------------------------------------


async def test_cancelling_an_open_secret_ballot_empties_its_box(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    ids = await ballot_ids(services)
    chair, leader = ids[4], ids[5]
    await tg.say(SECRETARY, "/ballot open 6")
    await tg.say(SECRETARY, "/ballot open 5")
    mine = receipt_of((await cast(tg, AN, leader, 1))[0])
    await cast(tg, CUONG, leader, 2)
    await tg.tap(AN, f"vt:{chair}:tog:2")  # a sealed selection, never cast
    assert (await secret_rows(services, leader)).box == 2
    assert (await secret_rows(services, chair)).drafts == 1

    cancelled = await tg.say(SECRETARY, "/ballot cancel 6; Danh sách ứng viên chưa đúng")
    notice = (
        f"🗳 Cuộc biểu quyết <b>{LEADER}</b> đã bị hủy. Lý do: «Danh sách ứng viên chưa đúng». "
        "Các phiếu đã gửi không được tính."
    )
    assert plain(cancelled) == [
        (
            S,
            f"✅ Đã hủy <b>{LEADER}</b>. Lý do: «Danh sách ứng viên chưa đúng». "
            "Có thể tạo nội dung mới bằng /ballot new.",
        ),
        *[(user.id, notice) for user in REPS],
    ]
    rows = await secret_rows(services, leader)
    assert (rows.box, rows.drafts, rows.counted) == (0, 0, 0)
    # The receipt names nothing any more; stale buttons are refused.
    assert plain(await tg.say(AN, mine)) == [(AN.id, not_found(mine))]
    assert plain(await tg.tap(DUNG, f"vt:{leader}:pick:1")) == [(DUNG.id, CANCELLED)]
    assert plain(await tg.tap(DUNG, f"vt:{leader}:ok:1")) == [(DUNG.id, CANCELLED)]
    assert tg.alerts == []

    # The award ballot: its sealed selection goes with it.
    await tg.say(SECRETARY, "/ballot cancel 5; Chưa đủ hồ sơ")
    assert await secret_rows(services, chair) == SecretRows([], 0, 0, 0)
    # No open or counted secret ballot: /vote offers no check any more.
    assert plain(await tg.say(AN, "/vote")) == [(AN.id, NOTHING_OPEN)]
    trail = [d for a, d in await audit_trail(services) if a == "ballot.cancelled"]
    assert trail == [
        {"ballot": leader, "reason": "Danh sách ứng viên chưa đúng"},
        {"ballot": chair, "reason": "Chưa đủ hồ sơ"},
    ]


# --- regressions ---------------------------------------------------------------------------


async def test_an_old_confirm_button_after_the_cast_or_the_close_says_why(
    tg: Harness, services: Services
) -> None:
    """A multi-choice confirm carries its selection version; once the unit has cast (or the
    ballot closed) the draft is gone, and the answer must be "already voted" / "closed",
    not "the selection changed"."""
    await conference_setup(tg)
    chair = (await ballot_ids(services))[4]
    await tg.say(SECRETARY, "/ballot open 5")
    await tg.tap(AN, f"vt:{chair}:tog:2")
    confirm = (await tg.tap(AN, f"vt:{chair}:review:-2"))[0].callback_data[0][0]
    await tg.tap(AN, confirm)
    assert plain(await tg.tap(AN, confirm)) == [(AN.id, ALREADY)]

    await tg.tap(CUONG, f"vt:{chair}:tog:1")
    await tg.tap(CUONG, f"vt:{chair}:review:-2")
    await tg.say(SECRETARY, "/ballot close 5")
    closed = "Đã hết thời gian biểu quyết nội dung này."
    assert plain(await tg.tap(CUONG, f"vt:{chair}:ok:-2:1")) == [(CUONG.id, closed)]


async def test_a_representative_asking_to_publish_receipts_is_refused_at_once(tg: Harness) -> None:
    await conference_setup(tg)
    for words in ("/bloc receipts", "/bloc receipts on"):
        replies = await tg.say(AN, words)
        assert plain(replies) == [(AN.id, NOT_SECRETARIAT)]
        assert replies[0].buttons == []


async def test_ordinary_text_or_a_command_ends_the_wait_for_a_receipt(tg: Harness) -> None:
    await conference_setup(tg)
    await tg.say(SECRETARY, "/ballot open 6")
    await tg.tap(AN, "vt:0:check:0")
    assert await tg.bot.get_state(AN.id) == CHECK_STATE
    # Prose is not a mistyped code: refused once, and the wait ends.
    assert plain(await tg.say(AN, "Cảm ơn, tôi sẽ tìm lại mã sau nhé!")) == [(AN.id, BAD_RECEIPT)]
    assert await tg.bot.get_state(AN.id) is None
    # /vote ends the wait too (the list is shown as usual).
    await tg.tap(AN, "vt:0:check:0")
    listed = await tg.say(AN, "/vote")
    assert listed[0].text.startswith("Các nội dung đang biểu quyết")
    assert await tg.bot.get_state(AN.id) is None


# --- review fixes --------------------------------------------------------------------------

PUBLISHED_NOTE = (
    "Theo quy chế của khối, sau khi kiểm phiếu bot công bố danh sách «mã biên nhận → lựa chọn»."
)
ANY_RECEIPT = re.compile(r"\w{4}-\w{4}-\w{4}")
RECEIPTS_TAIL = "Mã biên nhận và lựa chọn (khối công bố theo quy chế):"
RECEIPT_IN_GROUP = (
    "🔒 Mã biên nhận phiếu kín chỉ kiểm tra trong tin nhắn riêng với bot (gửi /vote check MÃ "
    "cho bot), không gửi vào nhóm. Bot đã ẩn tin nhắn nếu được quyền xóa tin."
)
UNKNOWN_MESSAGE = (
    "Bot chưa hiểu tin nhắn này. Gõ /help để xem các lệnh, hoặc gửi mã mời để tham gia."
)


def plain_with_buttons(
    replies: list[Reply],
) -> list[tuple[int, str, tuple[list[list[str]], list[list[str]]]]]:
    return [(r.chat_id, r.text, (r.buttons, r.callback_data)) for r in replies]


def with_note(text: str, before: str) -> str:
    """`text` with the published-receipts note as a line of its own before `before`."""
    assert text.count(before) == 1, (text, before)
    return text.replace(before, f"{PUBLISHED_NOTE}\n{before}")


async def test_the_receipt_policy_is_the_one_in_force_when_the_ballot_opened(
    tg: Harness, services: Services
) -> None:
    """Voters are told at the open whether receipts will be published: turning publication
    on while a ballot is open does not publish that ballot's receipts; the next ballot,
    opened with publication on, says so on the ballot and on the receipt, and publishes."""
    await conference_setup(tg)
    ids = await ballot_ids(services)
    leader, deputy = ids[5], ids[6]
    await tg.say(SECRETARY, "/ballot open 6")
    mine = receipt_of((await cast(tg, AN, leader, 1))[0])
    for user, choice in ((CUONG, 0), (DUNG, 1)):
        await cast(tg, user, leader, choice)

    # Publication turned on while ballot 6 is open; the warning says what is in force.
    warned = await tg.say(SECRETARY, "/bloc receipts bật")
    assert [(r.chat_id, r.text) for r in warned] == [(S, WARNING)]
    assert plain(replies_of(await raw_tap(tg, SECRETARY, "rcp:1"))) == [(S, PUBLISHING)]
    warned = await tg.say(SECRETARY, "/bloc receipts")
    assert [(r.chat_id, r.text) for r in warned] == [(S, warning("đang công bố"))]

    # Ballot 6 keeps what its voters were told: no note, and nothing published at the close.
    shown = await tg.tap(GIANG, f"vt:{leader}:show:0")
    assert [r.text for r in shown] == [ballot_text(LEADER, STT, ELECT_RULES)]
    late = await cast(tg, GIANG, leader, 1)
    assert late[0].text == sealed_done_text(STT, LEADER, 4, receipt_of(late[0]))
    closed = plain(await tg.say(SECRETARY, "/ballot close 6"))
    assert closed[0][1].startswith(f"📊 <b>Kết quả: {LEADER}</b>")
    assert [t for _, t in closed if RECEIPTS_TAIL in t or ANY_RECEIPT.search(t)] == []
    assert plain(await tg.say(AN, mine)) == [(AN.id, counted(mine, LEADER))]

    # Ballot 7 opens with publication on: the ballot and the receipt say so; it publishes.
    await tg.say(SECRETARY, "/ballot open 7")
    shown = await tg.tap(AN, f"vt:{deputy}:show:0")
    assert shown[0].text.count(PUBLISHED_NOTE) == 1
    assert shown[0].text.split("\n")[2] == PUBLISHED_NOTE  # under the rules line
    candidate = next(int(d.split(":")[-1]) for [d] in shown[0].callback_data if ":pick:" in d)
    done = await cast(tg, AN, deputy, candidate)
    theirs = receipt_of(done[0])
    assert done[0].text == with_note(
        sealed_done_text(SYT, DEPUTY, 1, theirs), f"{DEPUTY}: 1/4 đơn vị đã bỏ phiếu."
    )
    counted_7 = plain(await tg.say(SECRETARY, "/ballot close 7"))
    assert RECEIPTS_TAIL in counted_7[0][1]
    assert f"<code>{theirs}</code>: " in counted_7[0][1]


async def test_the_receipt_arrives_when_the_confirm_message_cannot_be_edited(
    tg: Harness, services: Services
) -> None:
    """The receipt is shown once and kept nowhere: when the confirm message cannot be edited
    (too old, deleted, inaccessible), the reply is sent as a new message instead."""
    await conference_setup(tg)
    leader = (await ballot_ids(services))[5]
    await tg.say(SECRETARY, "/ballot open 6")

    await tg.tap(AN, f"vt:{leader}:pick:1")
    tg.bot.add_result(
        EditMessageText, ok=False, description="Bad Request: message can't be edited"
    )
    requests = await raw_tap(tg, AN, f"vt:{leader}:ok:1")
    edits = [m for m in requests if isinstance(m, EditMessageText)]
    assert len(edits) == 1  # tried first, refused by Telegram
    sent = replies_of([m for m in requests if isinstance(m, SendMessage)])
    assert plain_with_buttons(sent) == [
        (AN.id, sealed_done_text(SYT, LEADER, 1, "0000-0000-0006"), CHECK_BUTTON),
        (BINH.id, colleague(LEADER), ([], [])),
    ]

    # The confirm message is no longer accessible at all (Telegram sends no message then).
    await tg.tap(CUONG, f"vt:{leader}:pick:2")
    gone = InaccessibleMessage(chat=Chat(id=CUONG.id, type="private"), message_id=7, date=0)
    tap = MockCallbackQuery(data=f"vt:{leader}:ok:2", user=CUONG)
    requests = await dispatch(tg, tap.model_copy(update={"message": gone}))
    assert [m for m in requests if isinstance(m, EditMessageText)] == []
    sent = replies_of([m for m in requests if isinstance(m, SendMessage)])
    assert plain_with_buttons(sent) == [
        (CUONG.id, sealed_done_text(SGD, LEADER, 2, "0000-0000-0007"), CHECK_BUTTON)
    ]
    assert len((await secret_rows(services, leader)).registered) == 2


async def test_a_receipt_of_another_bloc_of_the_person_is_found_there(
    tg: Harness, services: Services
) -> None:
    """A receipt names no bloc: every bloc of the person is searched, the current one first."""
    await tg.say(SECRETARY, "/bloc new Cụm thi đua các huyện; Cụm; 2024; CTĐH")
    await tg.say(SECRETARY, "/units add Ủy ban nhân dân huyện Đông Anh; UBNDĐA")
    await join(tg, OUTSIDER, "1")
    await conference_setup(tg)
    leader = (await ballot_ids(services))[5]
    await tg.say(SECRETARY, "/ballot open 6")
    mine = receipt_of((await cast(tg, AN, leader, 1))[0])

    # An also represents a unit of the Cụm, which becomes An's current bloc.
    await tg.say(SECRETARY, "/bloc use CTĐH")
    await join(tg, AN, "1")
    assert plain(await tg.say(AN, "/vote check 7KQ2-M9XD-4HTR")) == [
        (AN.id, not_found("7KQ2-M9XD-4HTR", "Cụm thi đua các huyện"))
    ]
    assert plain(await tg.say(AN, mine)) == [(AN.id, in_box(mine, LEADER))]
    await tg.say(SECRETARY, f"/bloc use {BLOC_CODE}")
    await tg.say(SECRETARY, "/ballot close 6")
    assert plain(await tg.say(AN, f"/vote check {mine}")) == [(AN.id, counted(mine, LEADER))]
    # Somebody of the Cụm only still finds nothing.
    assert plain(await tg.say(OUTSIDER, mine)) == [
        (OUTSIDER.id, not_found(mine, "Cụm thi đua các huyện"))
    ]


async def test_a_receipt_posted_in_the_group_is_hidden_and_pointed_to_the_private_chat(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    await tg.say(SECRETARY, "/bloc link", chat=GROUP)
    leader = (await ballot_ids(services))[5]
    await tg.say(SECRETARY, "/ballot open 6")
    mine = receipt_of((await cast(tg, AN, leader, 1))[0])
    checked = await secret_rows(services, leader)

    for posted in (
        mine,
        mine.replace("-", " ").lower(),
        f"/vote check {mine}",
        "7KQ2M9XD4HTR",
        "/vote check ABCDEFGHJKMN",  # any spelling after /vote check, letters only too
        "/vote check",  # alone: pointed to the private chat as well
    ):
        replies = await tg.say(AN, posted, chat=GROUP)
        assert plain(replies) == [(G, RECEIPT_IN_GROUP)], posted
        assert deleted(tg) == [G], posted
    # Ordinary chatter, and numbers that are not receipts, are left alone.
    for chatter in ("Chào cả nhà, 8 giờ họp nhé", "001203004567", "Số phòng 1203"):
        assert plain(await tg.say(AN, chatter, chat=GROUP)) == [], chatter
        assert deleted(tg) == []
    # /vote in the group still shows the turnout.
    turnout_reply = plain(await tg.say(AN, "/vote", chat=GROUP))
    assert turnout_reply[0][1].startswith(f"🗳 <b>Đang bỏ phiếu</b> — {BLOC}\n")
    assert await secret_rows(services, leader) == checked


async def test_ballot_secret_and_bloc_receipts_take_the_words_people_type(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    secret = (
        f"Nội dung số 2 «{GOV}»: bỏ phiếu kín — lựa chọn được niêm phong, chỉ công bố "
        "kết quả; mỗi đơn vị nhận mã biên nhận để kiểm tra."
    )
    public = (
        f"Nội dung số 2 «{GOV}»: biểu quyết công khai — lựa chọn của từng đơn vị được "
        "ghi nhận và có thể chọn lại đến khi đóng."
    )
    for word, said in (
        ("công khai", public),
        ("kín", secret),
        ("Cong Khai", public),
        ("KÍN", secret),
        ("tắt", public),
        ("bật", secret),
        ("cong_khai", public),
        ("bo phieu kin", secret),
    ):
        assert plain(await tg.say(SECRETARY, f"/ballot secret 2; {word}")) == [(S, said)], word
    usage = plain(await tg.say(SECRETARY, "/ballot secret 2; có lẽ"))
    assert usage[0][1].startswith("Cách dùng:\n")

    assert plain(await tg.say(SECRETARY, "/bloc receipts không")) == [(S, NOT_PUBLISHING)]
    warned = await tg.say(SECRETARY, "/bloc receipts bật")
    assert [(r.text, r.buttons) for r in warned] == [
        (WARNING, [["⚠️ Tôi hiểu, công bố"], ["Giữ bí mật"]])
    ]
    assert not (await bloc_by_code(services, BLOC_CODE)).publish_receipts


async def test_an_id_number_is_not_taken_for_a_receipt(tg: Harness) -> None:
    """Twelve digits (a citizen ID, "CCCD") or twelve letters are not receipts; a mix is."""
    await conference_setup(tg)
    await tg.say(SECRETARY, "/ballot open 6")
    for typed in ("001203004567", "123456789012"):
        assert plain(await tg.say(AN, typed)) == [(AN.id, UNKNOWN_MESSAGE)], typed
    assert plain(await tg.say(AN, "7kq2m9xd4htr")) == [(AN.id, not_found("7KQ2-M9XD-4HTR"))]
    # Grouped, or asked for, an all-digit code is still checked.
    assert plain(await tg.say(AN, "/vote check 001203004567")) == [
        (AN.id, not_found("0012-0300-4567"))
    ]


async def test_vote_check_without_a_bloc_is_refused_before_waiting_for_a_code(
    tg: Harness,
) -> None:
    await conference_setup(tg)
    assert plain(await tg.say(STRANGER, "/vote check")) == [(STRANGER.id, NOT_MEMBER)]
    assert await tg.bot.get_state(STRANGER.id) is None
    # What the stranger types next is not read as a code.
    assert plain(await tg.say(STRANGER, "0000-0000-0001")) == [(STRANGER.id, NOT_MEMBER)]
