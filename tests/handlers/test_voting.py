"""Conference voting in chat: the conference, check-in, ballots, casting in every kind, the
confirm step, re-casting, turnout, extension, cancellation, written votes and every refusal."""

from __future__ import annotations

from datetime import timedelta

from bot.core.models import BlocKind
from bot.core.voting import BallotKind, BallotStatus, Option, OptionKind, default_rules
from bot.fakes.clock import FakeClock
from bot.services.app import Services
from tests.handlers.conftest import SECRETARY, Harness, person
from tests.handlers.support import (
    ALREADY,
    AN,
    BINH,
    BLOC,
    BLOC_CODE,
    CHAIR,
    CHAIR_RULES,
    CHECK_BUTTON,
    CONFERENCE,
    CUONG,
    DEPUTY,
    DUNG,
    ELECT_RULES,
    GIANG,
    GOV,
    LEADER,
    LIST_FOOTER,
    NOBODY_ELECTED,
    NOT_SECRETARIAT,
    OPEN_RULES,
    PM,
    PROV,
    REPORT,
    SGD,
    STRANGER,
    STT,
    SVH,
    SYT,
    UNITS,
    VOTE_UNITS,
    SecretRows,
    StoredVote,
    all_open_votes,
    all_secret_rows,
    audit_line,
    audit_trail,
    ballot_ids,
    ballot_text,
    bloc_by_code,
    cast,
    conference_setup,
    confirm_buttons,
    confirm_text,
    done_text,
    draft_version,
    hall_code,
    identity,
    join,
    open_votes,
    opened_notice,
    opened_text,
    plain,
    result,
    sealed_done_text,
    secret_rows,
)

S = SECRETARY.id
OBSERVER = person(2101, "Ngô", "Thị Quan Sát")
REPS = (AN, BINH, CUONG, DUNG, GIANG)
NO_CONFERENCE = "Khối chưa thiết lập hội nghị năm nay. Thường trực dùng /conference new."
NOT_MEMBER = "Bạn chưa tham gia khối thi đua nào. Hãy gửi mã mời của đơn vị bạn."
NO_UNIT = "Bạn không đại diện cho đơn vị nào trong khối."
OBSERVER_NO_VOTE = "Thành viên theo dõi không tham gia biểu quyết."
CLOSED = "Đã hết thời gian biểu quyết nội dung này."
CANCELLED = "Nội dung này đã bị hủy."
NOT_A_CANDIDATE = "Lựa chọn này không có trong phiếu."
SELF_VOTE = "Theo quy chế, không được chọn chính đơn vị mình."
TOO_MANY = "Chọn quá số lượng cho phép (tối đa 3)"
NOT_ELIGIBLE = "Đơn vị của bạn không có quyền biểu quyết nội dung này."
REPORT_BUTTONS = [["Đồng ý"], ["Không đồng ý"], ["Ý kiến khác"], ["Phiếu trắng"]]
ONE_FIELD = (
    "Lệnh có 1 trường; /conference new cần ít nhất Thời gian và Địa điểm. Chưa có gì được "
    "lưu. Bot đã đọc:\n"
    "1. Thời gian: «20/12/2024»\n"
    "Thứ tự các trường: Thời gian; Địa điểm; Đơn vị chủ trì; Chủ tọa; Thư ký; Ban kiểm phiếu; "
    "Khách mời; Địa danh.\n"
    "Danh sách khách mời có dấu «;»? Gõ <code>/conference new</code> (không kèm nội dung) để "
    "nhập từng bước, hoặc dùng dấu phẩy."
)


VENUE_LINE = "Điểm danh: tại hội trường, bằng mã đang hiện trên màn hình hội trường."
SELF_LINE = "Điểm danh: tự khai báo bằng /checkin (không cần mã)."
CODE_NEEDED = (
    "Điểm danh tại hội trường (Hội trường Sở Y tế): cần mã 6 chữ số đang hiện trên màn hình "
    "hội trường (mã đổi mỗi phút).\nGửi: <code>/checkin</code> và mã, ví dụ "
    "<code>/checkin 123456</code>."
)
CODE_WRONG = (
    "Mã điểm danh không đúng hoặc đã hết hạn. Mã đổi mỗi phút: xem mã đang hiện trên màn hình "
    "hội trường (Hội trường Sở Y tế) rồi nhập lại. Nhập sai nhiều lần sẽ bị tạm khóa 10 phút."
)


def conference_text(
    present: int, quorum: str, absent: str, ballots: str, *, venue: bool = True
) -> str:
    return (
        f"<b>Hội nghị tổng kết năm 2024</b> — {BLOC}\n"
        "Thời gian: 08:00 20/12/2024; địa điểm: Hội trường Sở Y tế\n"
        f"Đơn vị chủ trì: {SYT}\n"
        "Chủ tọa: Nguyễn Văn Thành, Giám đốc Sở Y tế\n"
        "Thư ký: Lò Thị Hương\n"
        "Ban kiểm phiếu: Quàng Thị Mai, Trần Đức Long\n"
        "Khách mời: Lãnh đạo UBND tỉnh\n"
        "Dòng địa danh, ngày tháng của biên bản: «Hà Nội, ngày 20 tháng 12 năm 2024»\n"
        f"Có mặt: {present}/4 đơn vị — {quorum}\n"
        + (VENUE_LINE if venue else SELF_LINE)
        + "\n"
        + (f"Chưa điểm danh: {absent}\n" if absent else "")
        + "\n"
        + ballots
    )


async def present_units(services: Services) -> set[int]:
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        conference = await uow.votes.conference(bloc.id, bloc.year)
        assert conference is not None
        return await uow.votes.present(conference.id)


async def statuses(services: Services) -> list[str]:
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        return [b.ballot.status.value for b in await uow.votes.ballots(bloc.id)]


# --- the conference and check-in --------------------------------------------------------


async def test_conference_set_up_check_in_and_quorum(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await conference_setup(tg, checked_in=(), defaults=False)
    # conference_setup set the conference up; a second bloc member looks before checking in.
    no_ballots = "Chưa có cuộc biểu quyết nào: /ballot defaults tạo đủ các nội dung của hội nghị."
    assert plain(await tg.say(AN, "/conference")) == [
        (AN.id, conference_text(0, "còn thiếu 3 đơn vị", "SYT, SGDĐT, SVHTTDL, STTTT", no_ballots))
    ]

    # Check-in is at the venue (the conference has a place): the hall screen's code is needed.
    assert plain(await tg.say(AN, "/checkin")) == [(AN.id, CODE_NEEDED)]
    code = await hall_code(services)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert plain(await tg.say(AN, f"/checkin {wrong}")) == [(AN.id, CODE_WRONG)]
    assert await present_units(services) == set()
    first = await tg.say(AN, f"/checkin {code[:3]} {code[3:]}")  # read off the screen in groups
    assert plain(first) == [(AN.id, f"✅ Đã điểm danh: <b>{SYT}</b>. Có mặt 1/4 đơn vị.")]
    # The unit's other representative: already present (no code asked), nothing counted twice.
    assert plain(await tg.say(BINH, "/checkin")) == [
        (BINH.id, f"✅ Đơn vị đã điểm danh trước đó: <b>{SYT}</b>. Có mặt 1/4 đơn vị.")
    ]
    # The code changes every minute; the previous minute's is still taken, an older one not.
    clock.advance(timedelta(seconds=61))
    assert await hall_code(services) != code
    assert plain(await tg.say(CUONG, f"/checkin {code}")) == [
        (CUONG.id, f"✅ Đã điểm danh: <b>{SGD}</b>. Có mặt 2/4 đơn vị.")
    ]
    clock.advance(timedelta(seconds=60))
    assert plain(await tg.say(DUNG, f"/checkin {code}")) == [(DUNG.id, CODE_WRONG)]
    assert plain(await tg.say(SECRETARY, "/conference")) == [
        (S, conference_text(2, "còn thiếu 1 đơn vị", "SVHTTDL, STTTT", no_ballots))
    ]
    assert plain(await tg.say(DUNG, f"/checkin {await hall_code(services)}")) == [
        (
            DUNG.id,
            f"✅ Đã điểm danh: <b>{SVH}</b>. Có mặt 3/4 đơn vị — đủ điều kiện biểu quyết.",
        )
    ]
    assert plain(await tg.say(SECRETARY, "/conference")) == [
        (S, conference_text(3, "đủ điều kiện biểu quyết", "STTTT", no_ballots))
    ]
    # Nobody checks in without a unit: the secretariat, a stranger.
    assert plain(await tg.say(SECRETARY, "/checkin")) == [(S, NO_UNIT)]
    assert plain(await tg.say(STRANGER, "/checkin")) == [(STRANGER.id, NOT_MEMBER)]

    assert len(await present_units(services)) == 3
    actions = [a for a, _ in await audit_trail(services) if a.startswith("conference.")]
    assert actions == ["conference.set_up", *["conference.checked_in"] * 3]


async def test_venue_check_in_locks_out_guessing_and_can_be_turned_off(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg, checked_in=(), defaults=False)
    code = await hall_code(services)
    wrongs = [f"{(int(code) + n) % 1_000_000:06d}" for n in range(1, 6)]
    for wrong in wrongs:  # five wrong codes in ten minutes: the same lockout as invite codes
        assert plain(await tg.say(AN, f"/checkin {wrong}")) == [(AN.id, CODE_WRONG)]
    locked = "Bạn đã nhập sai mã quá nhiều lần. Vui lòng thử lại sau 10 phút."
    assert plain(await tg.say(AN, f"/checkin {code}")) == [(AN.id, locked)]
    assert await present_units(services) == set()
    # Only the secretariat sets it; a representative is refused, an unknown word explained.
    assert plain(await tg.say(CUONG, "/conference checkin off")) == [(CUONG.id, NOT_SECRETARIAT)]
    usage = (await tg.say(SECRETARY, "/conference checkin maybe"))[0].text
    assert "<code>/conference checkin on</code>" in usage
    replies = await tg.say(SECRETARY, "/conference điểm danh tắt")
    assert SELF_LINE in replies[0].text
    # Self-declared again: no code, and the lockout was about codes, not check-in.
    assert plain(await tg.say(AN, "/checkin")) == [
        (AN.id, f"✅ Đã điểm danh: <b>{SYT}</b>. Có mặt 1/4 đơn vị.")
    ]
    assert VENUE_LINE in (await tg.say(SECRETARY, "/conference checkin auto"))[0].text
    assert plain(await tg.say(CUONG, "/checkin")) == [(CUONG.id, CODE_NEEDED)]
    settings = [d for a, d in await audit_trail(services) if a == "conference.venue_checkin"]
    assert [d["setting"] for d in settings] == ["off", "auto"]


async def test_conference_commands_refused_or_explained(tg: Harness) -> None:
    await tg.admin_setup(units=VOTE_UNITS)
    await join(tg, AN, "1")
    assert plain(await tg.say(AN, "/conference")) == [(AN.id, NO_CONFERENCE)]
    assert plain(await tg.say(AN, "/checkin")) == [(AN.id, NO_CONFERENCE)]
    assert plain(await tg.say(SECRETARY, "/ballot defaults")) == [(S, NO_CONFERENCE)]
    assert plain(await tg.say(AN, CONFERENCE)) == [(AN.id, NOT_SECRETARIAT)]
    assert plain(await tg.say(SECRETARY, "/conference new 20/12/2024")) == [(S, ONE_FIELD)]
    assert plain(await tg.say(SECRETARY, "/conference new 32/12/2024; Hội trường")) == [
        (S, "Không hiểu thời hạn «32/12/2024». Nhập theo dạng 15/12/2022 17:00.")
    ]
    assert plain(await tg.say(STRANGER, "/conference")) == [(STRANGER.id, NOT_MEMBER)]


# --- creating ballots, quorum ------------------------------------------------------------


async def test_ballot_defaults_flag_unreachable_thresholds_in_a_small_bloc(
    tg: Harness, services: Services
) -> None:
    # Three units: with self-vote forbidden a unit gets at most 2 of 3 votes (66,7%), short
    # of the awards' ≥70%; the report and the elections can pass.
    await conference_setup(tg, units=UNITS, checked_in=(AN,), defaults=False)
    assert plain(await tg.say(AN, "/ballot defaults")) == [(AN.id, NOT_SECRETARIAT)]
    flag = " ⚠️ ngưỡng không thể đạt"

    def listing(kin: str) -> str:
        """The seven ballots; `kin` marks the secret ones (the secretariat's list does)."""
        return (
            f"1. {REPORT} — chưa mở\n"
            f"2. {GOV}{kin} — chưa mở{flag}\n"
            f"3. {PROV}{kin} — chưa mở{flag}\n"
            f"4. {PM}{kin} — chưa mở{flag}\n"
            f"5. {CHAIR}{kin} — chưa mở{flag}\n"
            f"6. {LEADER}{kin} — chưa mở\n"
            f"7. {DEPUTY}{kin} — chưa mở\n"
        )

    assert plain(await tg.say(SECRETARY, "/ballot defaults")) == [
        (
            S,
            "✅ Đã tạo các nội dung biểu quyết của hội nghị theo quy chế mặc định của khối:\n\n"
            + listing("")
            + "Mở từng nội dung khi đến lượt: /ballot open SỐ (cần đủ 2/3 đơn vị điểm danh).",
        )
    ]
    assert plain(await tg.say(SECRETARY, "/ballot")) == [
        (
            S,
            "<b>Các nội dung biểu quyết</b> — có mặt 1/3 đơn vị\n\n"
            + listing(" (kín)")
            + LIST_FOOTER,
        )
    ]
    assert plain(await tg.say(SECRETARY, "/ballot defaults")) == [
        (S, "Hội nghị đã có các nội dung biểu quyết (xem /ballot). Thêm nội dung: /ballot new.")
    ]
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        ballots = await uow.votes.ballots(bloc.id)
    assert [(b.ballot.kind.value, b.tier, b.quota, b.ballot.rules.secret) for b in ballots] == [
        ("approve_report", None, 1, False),
        ("award", "gov_flag", 1, True),
        ("award", "province_flag", 1, True),  # max(1, ⌊20% of 3⌋)
        ("award", "pm_cert", 1, True),
        ("award", "chair_cert", 3, True),
        ("leader", None, 1, True),
        ("deputy", None, 1, True),
    ]
    created = [d for a, d in await audit_trail(services) if a == "ballot.created"]
    assert [(d["kind"], d["threshold"]) for d in created] == [
        ("approve_report", ">50%"),
        *[("award", "≥70%")] * 4,
        ("leader", ">50%"),
        ("deputy", ">50%"),
    ]


async def test_a_ballot_does_not_open_without_quorum(tg: Harness, services: Services) -> None:
    await conference_setup(tg, checked_in=(AN,))
    # 2/3 of 4 units is 3 (8/3 rounded up): two more must check in; nobody is sent a ballot.
    missing_two = (
        "Chưa đủ đơn vị có mặt để biểu quyết: 1/4, còn thiếu 2 đơn vị điểm danh (/checkin)."
    )
    assert plain(await tg.say(SECRETARY, "/ballot open 1")) == [(S, missing_two)]
    await tg.say(CUONG, f"/checkin {await hall_code(services)}")
    assert plain(await tg.say(SECRETARY, "/ballot open 1")) == [
        (
            S,
            "Chưa đủ đơn vị có mặt để biểu quyết: 2/4, còn thiếu 1 đơn vị điểm danh (/checkin).",
        )
    ]
    assert await statuses(services) == ["draft"] * 7
    assert "ballot.opened" not in [a for a, _ in await audit_trail(services)]
    await tg.say(DUNG, f"/checkin {await hall_code(services)}")
    replies = await tg.say(SECRETARY, "/ballot open 1")
    assert replies[0].text == opened_text(1, REPORT, OPEN_RULES)
    assert await statuses(services) == ["open"] + ["draft"] * 6
    assert plain(await tg.say(SECRETARY, "/ballot open 1")) == [
        (S, "Nội dung số 1 đã được mở hoặc đã kết thúc.")
    ]
    assert plain(await tg.say(SECRETARY, "/ballot open 9")) == [
        (S, "Không có nội dung biểu quyết số «9». Xem danh sách: /ballot")
    ]


# --- casting: report approval (open ballot) ------------------------------------------------


async def test_report_approval_every_choice_confirm_and_recast(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    b = (await ballot_ids(services))[0]
    replies = await tg.say(SECRETARY, "/ballot open 1; 20/12/2024 10:00")
    closes = "10:00 20/12/2024"
    notice = opened_notice(REPORT, OPEN_RULES, closes)
    assert [(r.chat_id, r.text) for r in replies] == [
        (S, opened_text(1, REPORT, OPEN_RULES, closes=closes)),
        *[(user.id, notice) for user in REPS],
    ]
    for r in replies[1:]:
        assert r.buttons == [["🗳 Biểu quyết"]]
        assert r.callback_data == [[f"vt:{b}:show:0"]]

    # The button of the notice shows the ballot: every option, always with Phiếu trắng.
    shown = await tg.tap(AN, f"vt:{b}:show:0")
    assert [r.text for r in shown] == [ballot_text(REPORT, SYT, OPEN_RULES, closes=closes)]
    assert shown[0].buttons == [["Đồng ý"], ["Không đồng ý"], ["Ý kiến khác"], ["Phiếu trắng"]]
    assert shown[0].callback_data == [
        [f"vt:{b}:pick:0"],
        [f"vt:{b}:pick:1"],
        [f"vt:{b}:pick:2"],
        [f"vt:{b}:blank:-1"],
    ]

    # Agree: the confirm step shows the choice once more; nothing is recorded before it.
    confirm = await tg.tap(AN, f"vt:{b}:pick:0")
    assert [r.text for r in confirm] == [confirm_text(REPORT, SYT, "Đồng ý", secret=False)]
    assert (confirm[0].buttons, confirm[0].callback_data) == confirm_buttons(b, 0)
    assert await open_votes(services, b) == []
    done = await tg.tap(AN, f"vt:{b}:ok:0")
    assert plain(done) == [
        (AN.id, done_text(SYT, "Đồng ý", REPORT, 1)),
        (BINH.id, f"🗳 Trần Văn An đã biểu quyết cho <b>{SYT}</b> — {REPORT}: Đồng ý."),
    ]

    # Disagree, then "Chọn lại" back to the ballot, then another opinion with its text.
    confirm = await tg.tap(CUONG, f"vt:{b}:pick:1")
    assert [r.text for r in confirm] == [confirm_text(REPORT, SGD, "Không đồng ý", secret=False)]
    back = await tg.tap(CUONG, f"vt:{b}:back:0")
    assert [r.text for r in back] == [ballot_text(REPORT, SGD, OPEN_RULES, closes=closes)]
    assert back[0].buttons == REPORT_BUTTONS
    assert plain(await tg.tap(CUONG, f"vt:{b}:pick:2")) == [
        (CUONG.id, "Hãy gõ ý kiến khác của đơn vị (một tin nhắn), hoặc gõ một lệnh để hủy.")
    ]
    opinion = "Đề nghị bổ sung số liệu <xã hội hóa> & y tế cơ sở"
    typed = await tg.say(CUONG, opinion)
    escaped = "Đề nghị bổ sung số liệu &lt;xã hội hóa&gt; &amp; y tế cơ sở"
    assert [r.text for r in typed] == [
        confirm_text(REPORT, SGD, "Ý kiến khác", other=escaped, secret=False)
    ]
    assert (typed[0].buttons, typed[0].callback_data) == confirm_buttons(b, 2)
    assert plain(await tg.tap(CUONG, f"vt:{b}:ok:2")) == [
        (CUONG.id, done_text(SGD, "Ý kiến khác", REPORT, 2))
    ]

    # The blank ballot, after asking for another opinion and changing one's mind: the text
    # is no longer awaited (a later message is just a message).
    await tg.tap(DUNG, f"vt:{b}:pick:2")
    confirm = await tg.tap(DUNG, f"vt:{b}:blank:-1")
    assert [r.text for r in confirm] == [confirm_text(REPORT, SVH, "Phiếu trắng", secret=False)]
    assert (confirm[0].buttons, confirm[0].callback_data) == confirm_buttons(b, -1)
    assert plain(await tg.tap(DUNG, f"vt:{b}:ok:-1")) == [
        (DUNG.id, done_text(SVH, "phiếu trắng", REPORT, 3))
    ]
    assert plain(await tg.say(DUNG, "Cảm ơn")) == [
        (
            DUNG.id,
            "Bot chưa hiểu tin nhắn này. Gõ /help để xem các lệnh, hoặc gửi mã mời để tham gia.",
        )
    ]
    # A text typed for "ý kiến khác" stays with that choice: confirming another (a stale
    # confirm button) records no opinion text.
    await tg.tap(GIANG, f"vt:{b}:pick:2")
    await tg.say(GIANG, "Ý kiến bỏ dở")
    assert plain(await tg.tap(GIANG, f"vt:{b}:ok:0"))[0] == (
        GIANG.id,
        done_text(STT, "Đồng ý", REPORT, 4),
    )

    # Re-cast by the unit's other representative: the last choice counts, An is told.
    assert plain(await cast(tg, BINH, b, 1)) == [
        (BINH.id, done_text(SYT, "Không đồng ý", REPORT, 4, replaced=True)),
        (AN.id, f"🗳 Lê Thị Bình đã biểu quyết lại cho <b>{SYT}</b> — {REPORT}: Không đồng ý."),
    ]
    again = await tg.tap(AN, f"vt:{b}:show:0")
    assert [r.text for r in again] == [
        ballot_text(REPORT, SYT, OPEN_RULES, closes=closes, current="Không đồng ý")
    ]

    binh, cuong, dung, giang = [await identity(services, u) for u in (BINH, CUONG, DUNG, GIANG)]
    assert await open_votes(services, b) == [
        StoredVote("SYT", [1], False, "", False, binh.id),
        StoredVote("SGDĐT", [2], False, opinion, False, cuong.id),
        StoredVote("SVHTTDL", [], True, "", False, dung.id),
        StoredVote("STTTT", [0], False, "", False, giang.id),
    ]
    votes = [(a, d) for a, d in await audit_trail(services) if a.startswith("vote.")]
    assert votes == [
        ("vote.cast", {"ballot": b, "choice": [0], "blank": False}),
        ("vote.cast", {"ballot": b, "choice": [2], "blank": False}),
        ("vote.cast", {"ballot": b, "choice": [], "blank": True}),
        ("vote.cast", {"ballot": b, "choice": [0], "blank": False}),
        ("vote.recast", {"ballot": b, "choice": [1], "blank": False}),
    ]


async def test_turnout_in_ballot_list_and_vote(tg: Harness, services: Services) -> None:
    await conference_setup(tg)
    b = (await ballot_ids(services))[0]
    assert plain(await tg.say(AN, "/vote")) == [
        (AN.id, "Hiện không có nội dung nào đang biểu quyết.")
    ]
    await tg.say(SECRETARY, "/ballot open 1")
    await cast(tg, AN, b, 0)
    await cast(tg, BINH, b, 0)  # a re-cast: still one unit
    await cast(tg, CUONG, b, None)

    assert plain(await tg.say(SECRETARY, "/ballot")) == [
        (
            S,
            "<b>Các nội dung biểu quyết</b> — có mặt 4/4 đơn vị\n\n"
            f"1. {REPORT} — đang biểu quyết, 2/4 đơn vị đã biểu quyết\n"
            f"2. {GOV} (kín) — chưa mở\n"
            f"3. {PROV} (kín) — chưa mở\n"
            f"4. {PM} (kín) — chưa mở\n"
            f"5. {CHAIR} (kín) — chưa mở\n"
            f"6. {LEADER} (kín) — chưa mở\n"
            f"7. {DEPUTY} (kín) — chưa mở\n" + LIST_FOOTER,
        )
    ]
    mine = await tg.say(AN, "/vote")
    assert [r.text for r in mine] == [
        f"Các nội dung đang biểu quyết — {SYT}:\n1. {REPORT} — đơn vị đã biểu quyết (2/4)"
    ]
    assert mine[0].buttons == [[f"✅ 1. {REPORT}"]]
    assert mine[0].callback_data == [[f"vt:{b}:show:0"]]
    theirs = await tg.say(GIANG, "/vote")
    assert [r.text for r in theirs] == [
        f"Các nội dung đang biểu quyết — {STT}:\n1. {REPORT} — chưa biểu quyết (2/4)"
    ]
    assert theirs[0].buttons == [[f"🗳 1. {REPORT}"]]


# --- casting: award tier (multi-select, secret flag) ----------------------------------------


async def test_award_tier_multi_select_confirm_and_no_second_cast(
    tg: Harness, services: Services
) -> None:
    # Five units (Sở Tư pháp has nobody in the chat): four candidates for each voter, three
    # seats, so a fourth choice is one too many.
    await conference_setup(tg, units=[*VOTE_UNITS, ("Sở Tư pháp", "STP")])
    b = (await ballot_ids(services))[4]
    replies = await tg.say(SECRETARY, "/ballot open 5")
    assert replies[0].text == opened_text(5, CHAIR, CHAIR_RULES, units=5)

    def keyboard(chosen: set[int]) -> list[list[str]]:
        names = {1: SGD, 2: SVH, 3: STT, 4: "Sở Tư pháp"}
        return [
            *[[("✅ " if i in chosen else "") + n] for i, n in names.items()],
            ["Phiếu trắng"],
            [f"Xác nhận ({len(chosen)}/3)"],
        ]

    def view(chosen: int) -> str:
        return ballot_text(CHAIR, SYT, CHAIR_RULES, multi=3, chosen=chosen)

    # One's own unit is not offered when self-vote is forbidden.
    shown = await tg.tap(AN, f"vt:{b}:show:0")
    assert [r.text for r in shown] == [view(0)]
    assert shown[0].buttons == keyboard(set())
    assert shown[0].callback_data == [
        [f"vt:{b}:tog:1"],
        [f"vt:{b}:tog:2"],
        [f"vt:{b}:tog:3"],
        [f"vt:{b}:tog:4"],
        [f"vt:{b}:blank:-1"],
        [f"vt:{b}:review:-2"],
    ]
    on = await tg.tap(AN, f"vt:{b}:tog:1")
    assert ([r.text for r in on], on[0].buttons) == ([view(1)], keyboard({1}))
    off = await tg.tap(AN, f"vt:{b}:tog:1")
    assert ([r.text for r in off], off[0].buttons) == ([view(0)], keyboard(set()))
    for index in (2, 3):
        await tg.tap(AN, f"vt:{b}:tog:{index}")
    third = await tg.tap(AN, f"vt:{b}:tog:4")
    assert ([r.text for r in third], third[0].buttons) == ([view(3)], keyboard({2, 3, 4}))

    # A fourth: refused with an alert, the selection stays; so is a forged tap on one's own
    # unit and on an option the ballot does not have.
    assert await tg.tap(AN, f"vt:{b}:tog:1") == []
    assert await tg.tap(AN, f"vt:{b}:tog:0") == []
    assert await tg.tap(AN, f"vt:{b}:tog:9") == []
    assert tg.alerts == [TOO_MANY, SELF_VOTE, NOT_A_CANDIDATE]
    assert (await tg.tap(AN, f"vt:{b}:show:0"))[0].buttons == keyboard({2, 3, 4})

    review = await tg.tap(AN, f"vt:{b}:review:-2")
    assert [r.text for r in review] == [
        confirm_text(CHAIR, SYT, f"{SVH}, {STT}, Sở Tư pháp", secret=True)
    ]
    # The confirm carries the selection's version: random, not the number of taps (5).
    version = await draft_version(services, b)
    assert (review[0].buttons, review[0].callback_data) == confirm_buttons(b, -2, version)
    # Before the confirm only the unit's sealed selection is kept: nothing cast.
    assert await secret_rows(services, b) == SecretRows([], 0, 1, 0)
    done = await tg.tap(AN, f"vt:{b}:ok:-2")
    # The voter gets the receipt, once; the colleague is told that the unit voted, never how.
    assert [(r.chat_id, r.text) for r in done] == [
        (AN.id, sealed_done_text(SYT, CHAIR, 1, "0000-0000-0006", units=5)),
        (BINH.id, f"🗳 Trần Văn An đã bỏ phiếu kín cho <b>{SYT}</b> — {CHAIR}."),
    ]
    assert (done[0].buttons, done[0].callback_data) == CHECK_BUTTON
    assert done[1].buttons == []

    # A secret ballot is cast once: Bình sees that the unit voted (not how) and can neither
    # toggle, nor review, nor confirm again.
    shown = await tg.tap(BINH, f"vt:{b}:show:0")
    assert [r.text for r in shown] == [ballot_text(CHAIR, SYT, CHAIR_RULES, sealed=True)]
    assert (shown[0].buttons, shown[0].callback_data) == CHECK_BUTTON
    assert await tg.tap(BINH, f"vt:{b}:tog:1") == []
    assert await tg.tap(BINH, f"vt:{b}:blank:-1") == []
    assert plain(await tg.tap(BINH, f"vt:{b}:ok:-1")) == [(BINH.id, ALREADY)]
    assert tg.alerts[3:] == [ALREADY, ALREADY]
    an = await identity(services, AN)
    # The register names the unit and who cast; the box holds one sealed paper; the draft
    # is gone; no open_vote row.
    assert await secret_rows(services, b) == SecretRows([("SYT", an.id)], 1, 0, 0)
    assert await open_votes(services, b) == []
    votes = [(a, d) for a, d in await audit_trail(services) if a.startswith("vote.")]
    assert votes == [("vote.cast_secret", {"ballot": b})]


# --- casting: leader and deputy (single choice) ------------------------------------------


async def test_leader_and_deputy_single_choice(tg: Harness, services: Services) -> None:
    await conference_setup(tg, defaults=False)
    # This year's leader is Sở Y tế; the rotation proposes the next unit, Sở GD&ĐT.
    await tg.say(SECRETARY, "/bloc leader SYT")
    await tg.say(SECRETARY, "/bloc rotation SYT, SGDĐT, SVHTTDL, STTTT")
    await tg.say(SECRETARY, "/ballot defaults")
    ids = await ballot_ids(services)
    leader, deputy = ids[5], ids[6]
    replies = await tg.say(SECRETARY, "/ballot open 6")
    assert replies[0].text == opened_text(6, LEADER, ELECT_RULES)

    shown = await tg.tap(AN, f"vt:{leader}:show:0")
    assert [r.text for r in shown] == [ballot_text(LEADER, SYT, ELECT_RULES)]
    assert shown[0].buttons == [[SGD], ["Phiếu trắng"]]
    assert shown[0].callback_data == [[f"vt:{leader}:pick:0"], [f"vt:{leader}:blank:-1"]]
    confirm = await tg.tap(AN, f"vt:{leader}:pick:0")
    assert [r.text for r in confirm] == [confirm_text(LEADER, SYT, SGD, secret=True)]
    assert (confirm[0].buttons, confirm[0].callback_data) == confirm_buttons(leader, 0)
    done = await tg.tap(AN, f"vt:{leader}:ok:0")
    assert [(r.chat_id, r.text) for r in done] == [
        (AN.id, sealed_done_text(SYT, LEADER, 1, "0000-0000-0006")),
        (BINH.id, f"🗳 Trần Văn An đã bỏ phiếu kín cho <b>{SYT}</b> — {LEADER}."),
    ]
    assert (done[0].buttons, done[0].callback_data) == CHECK_BUTTON

    # The proposed unit's representative is offered only the blank ballot; a forged pick
    # of the unit itself is refused at once and at the confirm.
    own = await tg.tap(CUONG, f"vt:{leader}:show:0")
    assert own[0].buttons == [["Phiếu trắng"]]
    assert await tg.tap(CUONG, f"vt:{leader}:pick:0") == []
    assert tg.alerts == [SELF_VOTE]
    assert plain(await tg.tap(CUONG, f"vt:{leader}:ok:0")) == [(CUONG.id, SELF_VOTE)]
    an = await identity(services, AN)
    assert await secret_rows(services, leader) == SecretRows([("SYT", an.id)], 1, 0, 0)
    await cast(tg, CUONG, leader, None)
    await cast(tg, DUNG, leader, 0)
    await cast(tg, GIANG, leader, 0)
    closed = await tg.say(SECRETARY, "/ballot close 6")
    assert closed[0].text.endswith(f"Kết luận: {SGD} trúng cử.\n{await audit_line(services)}")

    # The elected leader leaves the deputy ballot: candidates are fixed when it opens.
    await tg.say(SECRETARY, "/ballot open 7")
    shown = await tg.tap(AN, f"vt:{deputy}:show:0")
    assert [r.text for r in shown] == [ballot_text(DEPUTY, SYT, ELECT_RULES)]
    assert shown[0].buttons == [[SVH], [STT], ["Phiếu trắng"]]
    assert shown[0].callback_data == [
        [f"vt:{deputy}:pick:1"],
        [f"vt:{deputy}:pick:2"],
        [f"vt:{deputy}:blank:-1"],
    ]
    confirm = await tg.tap(AN, f"vt:{deputy}:pick:2")
    assert [r.text for r in confirm] == [confirm_text(DEPUTY, SYT, STT, secret=True)]
    done = await tg.tap(AN, f"vt:{deputy}:ok:2")
    assert [(r.chat_id, r.text) for r in done] == [
        (AN.id, sealed_done_text(SYT, DEPUTY, 1, "0000-0000-000A")),
        (BINH.id, f"🗳 Trần Văn An đã bỏ phiếu kín cho <b>{SYT}</b> — {DEPUTY}."),
    ]
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        info = await uow.votes.ballot(deputy)
        units = {u.id: u.short_name for u in await uow.blocs.units(bloc.id)}
    assert info is not None
    assert [units[o.unit_id] for o in info.ballot.options if o.unit_id] == [
        "SYT",
        "SVHTTDL",
        "STTTT",
    ]
    # The sealed choice is the one confirmed: the count gives Sở TT&TT An's vote.
    assert plain(await tg.say(SECRETARY, "/ballot close 7")) == [
        (
            S,
            result(
                DEPUTY,
                (4, 1, 1, 0, 0),
                [(SYT, 0, "0,0", False), (SVH, 0, "0,0", False), (STT, 1, "25,0", False)],
                NOBODY_ELECTED,
                await audit_line(services),
                rule="ngưỡng &gt;50%",
            ),
        )
    ]
    assert await secret_rows(services, deputy) == SecretRows([("SYT", an.id)], 0, 0, 1)
    assert await open_votes(services, deputy) == []


# --- extension and cancellation -------------------------------------------------------------


async def test_extend_and_cancel_tell_the_voters(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await conference_setup(tg)
    b = (await ballot_ids(services))[0]
    await tg.say(SECRETARY, "/ballot open 1; 25/11/2024 09:00")
    await cast(tg, AN, b, 0)

    replies = await tg.say(SECRETARY, "/ballot extend 1; 25/11/2024 10:30")
    notice = f"🗳 <b>{REPORT}</b> được gia hạn đến 10:30 25/11/2024."
    assert plain(replies) == [
        (
            S,
            f"✅ Đã gia hạn <b>{REPORT}</b> đến 10:30 25/11/2024; các đại diện đã được thông báo.",
        ),
        *[(user.id, notice) for user in REPS],
    ]
    assert plain(await tg.say(SECRETARY, "/ballot extend 1; 25/11/2024 09:30")) == [
        (S, "Thời hạn «25/11/2024 09:30» đã qua hoặc không muộn hơn hạn hiện tại.")
    ]
    assert plain(await tg.say(SECRETARY, "/ballot extend 2; 25/11/2024 11:00")) == [
        (S, "Nội dung số 2 không đang mở.")
    ]
    # Past the first closing time, the extension keeps the ballot open.
    clock.advance(timedelta(hours=1, minutes=30))
    assert plain(await cast(tg, CUONG, b, 1))[0] == (
        CUONG.id,
        done_text(SGD, "Không đồng ý", REPORT, 2),
    )

    cancelled = await tg.say(SECRETARY, "/ballot cancel 1; Dự thảo còn thiếu số liệu")
    notice = (
        f"🗳 Cuộc biểu quyết <b>{REPORT}</b> đã bị hủy. Lý do: «Dự thảo còn thiếu số liệu». "
        "Các phiếu đã gửi không được tính."
    )
    assert plain(cancelled) == [
        (
            S,
            f"✅ Đã hủy <b>{REPORT}</b>. Lý do: «Dự thảo còn thiếu số liệu». "
            "Có thể tạo nội dung mới bằng /ballot new.",
        ),
        *[(user.id, notice) for user in REPS],
    ]
    # Stale buttons of the cancelled ballot: refused in the message, nothing recorded.
    assert plain(await tg.tap(DUNG, f"vt:{b}:pick:0")) == [(DUNG.id, CANCELLED)]
    assert plain(await tg.tap(DUNG, f"vt:{b}:ok:0")) == [(DUNG.id, CANCELLED)]
    assert tg.alerts == []
    assert [v.unit for v in await open_votes(services, b)] == ["SYT", "SGDĐT"]
    assert (await tg.say(SECRETARY, "/ballot"))[0].text.split("\n")[2] == f"1. {REPORT} — đã hủy"
    assert plain(await tg.say(SECRETARY, "/ballot cancel 1; lần nữa")) == [
        (S, "Nội dung số 1 không đang mở.")
    ]
    assert plain(await tg.say(SECRETARY, "/ballot close 1")) == [
        (S, "Nội dung số 1 không đang mở.")
    ]
    # A new question may be put instead.
    assert plain(await tg.say(SECRETARY, "/ballot new Thông qua dự thảo báo cáo (đã sửa)")) == [
        (S, "✅ Đã tạo nội dung biểu quyết số 8. Mở: /ballot open 8")
    ]
    trail = [(a, d) for a, d in await audit_trail(services) if a.startswith("ballot.")]
    assert trail[-3:-1] == [
        ("ballot.extended", {"ballot": b, "closes_at": "2024-11-25T03:30:00+00:00"}),
        ("ballot.cancelled", {"ballot": b, "reason": "Dự thảo còn thiếu số liệu"}),
    ]


# --- written votes --------------------------------------------------------------------------


async def test_written_vote_on_an_open_ballot_only(tg: Harness, services: Services) -> None:
    await conference_setup(tg)
    ids = await ballot_ids(services)
    await tg.say(SECRETARY, "/ballot open 1")
    await tg.say(SECRETARY, "/ballot open 2")

    assert plain(await tg.say(SECRETARY, "/ballot written 1; STTTT; 1")) == [
        (S, f"✅ Đã ghi phiếu bằng văn bản của <b>{STT}</b> cho «{REPORT}».")
    ]
    assert plain(await tg.say(SECRETARY, "/ballot written 1; STTTT; trắng")) == [
        (
            S,
            f"✅ Đã ghi phiếu bằng văn bản của <b>{STT}</b> cho «{REPORT}» "
            "(thay cho lựa chọn trước).",
        )
    ]
    assert plain(await tg.say(SECRETARY, "/ballot written 1; SYT; 1")) == [
        (S, f"✅ Đã ghi phiếu bằng văn bản của <b>{SYT}</b> cho «{REPORT}».")
    ]
    refusals = {
        "/ballot written 2; SYT; 2": "Bỏ phiếu kín không nhận phiếu ghi thay bằng văn bản.",
        "/ballot written 1; SYT; 1, 2": "Chọn quá số lượng cho phép (tối đa 1)",
        "/ballot written 1; SYT; 7": NOT_A_CANDIDATE,
        "/ballot written 1; Sở Công Thương; 1": (
            "Không tìm thấy đơn vị «Sở Công Thương» trong khối. Xem danh sách: /units"
        ),
    }
    for command, text in refusals.items():
        assert plain(await tg.say(SECRETARY, command)) == [(S, text)], command
    assert plain(await tg.say(AN, "/ballot written 1; SYT; 2")) == [(AN.id, NOT_SECRETARIAT)]

    secretary = await identity(services, SECRETARY)
    assert await open_votes(services, ids[0]) == [
        StoredVote("SYT", [0], False, "", True, secretary.id),
        StoredVote("STTTT", [], True, "", True, secretary.id),
    ]
    assert await open_votes(services, ids[1]) == []
    written = [d for a, d in await audit_trail(services) if a == "vote.written"]
    assert written == [
        {"ballot": ids[0], "choice": [0], "blank": False, "replaced": False},
        {"ballot": ids[0], "choice": [], "blank": True, "replaced": True},
        {"ballot": ids[0], "choice": [0], "blank": False, "replaced": False},
    ]
    # The unit's representative sees the written vote as the unit's.
    shown = await tg.tap(AN, f"vt:{ids[0]}:show:0")
    assert [r.text for r in shown] == [ballot_text(REPORT, SYT, OPEN_RULES, current="Đồng ý")]


# --- refusals: nothing recorded -----------------------------------------------------------


async def test_every_refusal_records_nothing(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await conference_setup(tg)
    await join(tg, OBSERVER, "observer")
    ids = await ballot_ids(services)
    report, chair = ids[0], ids[4]
    await tg.say(SECRETARY, "/ballot open 1; 25/11/2024 09:00")
    await tg.say(SECRETARY, "/ballot open 5")

    # A non-candidate (a forged option index), shown and confirmed.
    assert await tg.tap(AN, f"vt:{report}:pick:7") == []
    assert plain(await tg.tap(AN, f"vt:{report}:ok:7")) == [(AN.id, NOT_A_CANDIDATE)]
    # "Ý kiến khác" confirmed without its text.
    assert plain(await tg.tap(AN, f"vt:{report}:ok:2")) == [(AN.id, "Chưa chọn lựa chọn nào.")]
    # One's own unit forged straight into the confirm (too many choices never get that far:
    # the selection is kept on the server and capped at each tap).
    assert plain(await tg.tap(AN, f"vt:{chair}:ok:0")) == [(AN.id, SELF_VOTE)]
    # A member of no unit (the secretariat) and an observer.
    for user, text in ((SECRETARY, NO_UNIT), (OBSERVER, OBSERVER_NO_VOTE)):
        assert await tg.tap(user, f"vt:{report}:show:0") == []
        assert await tg.tap(user, f"vt:{report}:pick:0") == []
        assert plain(await tg.tap(user, f"vt:{report}:ok:0")) == [(user.id, text)]
        assert plain(await tg.say(user, "/vote")) == [(user.id, text)]
    # Somebody in no bloc at all.
    assert await tg.tap(STRANGER, f"vt:{report}:pick:0") == []
    assert plain(await tg.tap(STRANGER, f"vt:{report}:ok:0")) == [(STRANGER.id, NOT_MEMBER)]
    # A forged payload naming another bloc's open ballot.
    other = await other_blocs_ballot(services, (await identity(services, SECRETARY)).id)
    assert await tg.tap(AN, f"vt:{other}:show:0") == []
    assert await tg.tap(AN, f"vt:{other}:pick:0") == []
    assert plain(await tg.tap(AN, f"vt:{other}:ok:0")) == [(AN.id, NOT_ELIGIBLE)]
    assert plain(await tg.tap(AN, f"vt:{other}:tog:0")) == []
    # A ballot id that does not exist.
    assert plain(await tg.tap(AN, f"vt:{other + 100}:ok:0")) == [
        (AN.id, f"Không có nội dung biểu quyết số «{other + 100}». Xem danh sách: /ballot")
    ]
    assert tg.alerts == [
        NOT_A_CANDIDATE,
        NO_UNIT,
        NO_UNIT,
        OBSERVER_NO_VOTE,
        OBSERVER_NO_VOTE,
        NOT_MEMBER,
        NOT_ELIGIBLE,
        NOT_ELIGIBLE,
        NOT_ELIGIBLE,
    ]

    # After the closing time (09:00): the ballot is still open in the list, but refuses, in
    # the tapped message itself.
    clock.advance(timedelta(hours=1))
    assert plain(await tg.tap(CUONG, f"vt:{report}:pick:0")) == [(CUONG.id, CLOSED)]
    assert plain(await tg.tap(CUONG, f"vt:{report}:ok:0")) == [(CUONG.id, CLOSED)]
    assert plain(await tg.say(SECRETARY, "/ballot written 1; SGDĐT; 1")) == [(S, CLOSED)]
    # After /ballot close: the stale buttons of the closed ballot.
    await tg.say(SECRETARY, "/ballot close 5")
    assert plain(await tg.tap(DUNG, f"vt:{chair}:tog:1")) == [(DUNG.id, CLOSED)]
    assert plain(await tg.tap(DUNG, f"vt:{chair}:review:-2")) == [(DUNG.id, CLOSED)]
    assert plain(await tg.tap(DUNG, f"vt:{chair}:ok:-1")) == [(DUNG.id, CLOSED)]
    assert tg.alerts[9:] == []  # said in the message, not in a toast
    # Nothing open; the counted secret ballot still offers the receipt check.
    after = await tg.say(DUNG, "/vote")
    assert [(r.chat_id, r.text) for r in after] == [
        (DUNG.id, "Hiện không có nội dung nào đang biểu quyết.")
    ]
    assert (after[0].buttons, after[0].callback_data) == CHECK_BUTTON

    assert await all_open_votes(services) == 0
    assert await all_secret_rows(services) == 0
    assert [a for a, _ in await audit_trail(services) if a.startswith("vote.")] == []


async def other_blocs_ballot(services: Services, created_by: int) -> int:
    """An open ballot of another bloc, made straight in storage (nobody here belongs to it)."""
    now = services.clock.now()
    async with services.db.uow() as uow:
        bloc = await uow.blocs.create(
            name="Khối thi đua Kinh tế",
            kind=BlocKind.KHOI,
            year=2024,
            code="KTĐKT",
            timezone="Asia/Ho_Chi_Minh",
            now=now,
        )
        info = await uow.votes.add_ballot(
            bloc_id=bloc.id,
            conference_id=None,
            kind=BallotKind.APPROVE_REPORT,
            title="",
            rules=default_rules(BallotKind.APPROVE_REPORT),
            options=[Option(0, OptionKind.AGREE), Option(1, OptionKind.DISAGREE)],
            tier=None,
            tier_order=0,
            quota=1,
            runoff_of=None,
            closes_at=None,
            created_by=created_by,
            now=now,
        )
        await uow.votes.set_status(info.ballot.id, BallotStatus.OPEN, now=now)
        await uow.commit()
    return info.ballot.id
