"""Closing and counting in chat: the result text, who passes, fewer than the quota, tier
exclusion, ties and run-offs (then score totals, then the secretariat), where results go,
and the vote-count record as a document."""

from __future__ import annotations

import io

from docx import Document

from bot.services.app import Services
from tests.handlers.conftest import GROUP, SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BLOC_CODE,
    CHAIR,
    CUONG,
    DEPUTY,
    DUNG,
    GIANG,
    GOV,
    LAN2,
    LEADER,
    LIST_FOOTER,
    NO_PDF,
    OPEN_PERIOD,
    PROV,
    REPORT,
    SGD,
    STT,
    SVH,
    SYT,
    SYT_VALUES,
    TABLE_EXAMPLE,
    audit_line,
    audit_trail,
    ballot_ids,
    bloc_by_code,
    cast,
    conference_setup,
    documents,
    join,
    plain,
    raw_say,
    replies_of,
    result,
    submitted,
    unit_ids,
    voted,
)

S = SECRETARY.id
G = GROUP.id
# Sở GD&ĐT's self-score: the criteria as Sở Y tế's, no bonus and no penalty: 98 against 102.
SGD_VALUES = (*SYT_VALUES[:10], 0, 0, 0, 0)
RUNOFF_RULES = (
    "Bỏ phiếu lại giữa các đơn vị hòa phiếu, đơn vị nhiều phiếu hơn được chọn; "
    "không chọn đơn vị mình; bỏ phiếu kín"
)


async def stored_result(services: Services, ballot: int) -> tuple[list[str], str, list[str]]:
    """(decided units, decided_by, awaiting units) as stored for a counted ballot."""
    short = {v: k for k, v in (await unit_ids(services)).items()}
    async with services.db.uow() as uow:
        found = await uow.votes.result(ballot)
    assert found is not None
    data, decided, by = found
    return [short[u] for u in decided], by, [short[int(u)] for u in data["awaiting"]]


async def with_scores(tg: Harness, services: Services) -> None:
    """A report period in which Sở Y tế (102) and Sở GD&ĐT (98) submitted; the other two
    units have no score."""
    await tg.send_file(SECRETARY, "bang-cham-diem.yaml", TABLE_EXAMPLE.read_bytes(), "/criteria")
    await tg.say(SECRETARY, OPEN_PERIOD)
    await submitted(services, AN)
    await submitted(services, CUONG, values=SGD_VALUES)


# --- the closing result and where it goes ------------------------------------------------


async def test_report_result_goes_to_the_secretariat_and_the_group(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    await join(tg, LAN2, "secretariat")
    linked = await tg.say(SECRETARY, "/bloc link", chat=GROUP)
    assert linked[0].chat_id == G
    b = (await ballot_ids(services))[0]
    opened = await tg.say(SECRETARY, "/ballot open 1")
    assert (opened[-1].chat_id, opened[-1].text) == (
        G,
        f"🗳 Bắt đầu biểu quyết: <b>{REPORT}</b> (Thông qua khi đạt &gt;50% tổng số đơn vị "
        "thành viên; biểu quyết công khai). Đại diện các đơn vị biểu quyết trong tin nhắn "
        "riêng với bot.",
    )
    await cast(tg, AN, b, 0)
    await cast(tg, CUONG, b, 0)
    await tg.tap(DUNG, f"vt:{b}:pick:2")
    await tg.say(DUNG, "Cần bổ sung phần đánh giá hạn chế")
    await tg.tap(DUNG, f"vt:{b}:ok:2")
    await cast(tg, GIANG, b, None)

    # Two of four agree: 50% is not more than half, the report is not approved.
    results = plain(await tg.say(SECRETARY, "/ballot close 1"))
    text = result(
        REPORT,
        (4, 4, 3, 1, 1),
        [
            ("Đồng ý", 2, "50,0", False),
            ("Không đồng ý", 0, "0,0", False),
            ("Ý kiến khác", 1, "25,0", False),
        ],
        "Ý kiến khác:\n"
        "- Sở Văn hóa, Thể thao và Du lịch: «Cần bổ sung phần đánh giá hạn chế»\n"
        "Kết luận: không thông qua.",
        await audit_line(services),
        rule="ngưỡng &gt;50%",
    )
    assert results == [
        (S, text),
        (LAN2.id, text),
        (G, text),
    ]
    assert await stored_result(services, b) == ([], "vote", [])
    closed = [d for a, d in await audit_trail(services) if a == "ballot.closed"]
    assert closed == [
        {
            "ballot": b,
            "issued": 4,
            "returned": 4,
            "valid": 3,
            "invalid": 1,
            "decided": [],
            "decided_by": "vote",
        }
    ]
    # The 16 digits shown begin the ballot.closed row's hash: the head shown is the real one.
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        chain = await uow.audit.chain(bloc.id)
    (closed_hash,) = [h for entry, _, h in chain if entry.action == "ballot.closed"]
    assert f"<code>{closed_hash[:16]}</code>…" in results[0][1]
    assert plain(await tg.say(SECRETARY, "/ballot close 1")) == [
        (S, "Nội dung số 1 không đang mở.")
    ]


# --- award tiers: who passes, fewer than the quota, exclusion across tiers ----------------


async def test_award_tiers_fewer_than_quota_and_higher_tier_exclusion(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    ids = await ballot_ids(services)
    gov, prov, chair = ids[1], ids[2], ids[4]

    # Government flag: Sở GD&ĐT with 3 of 4 (75% ≥ 70%).
    await tg.say(SECRETARY, "/ballot open 2")
    await voted(services, AN, gov, 1)
    await voted(services, CUONG, gov, 2)
    await voted(services, DUNG, gov, 1)
    await voted(services, GIANG, gov, 1)
    assert plain(await tg.say(SECRETARY, "/ballot close 2")) == [
        (
            S,
            result(
                GOV,
                (4, 4, 4, 0, 0),
                [
                    (SYT, 0, "0,0", False),
                    (SGD, 3, "75,0", True),
                    (SVH, 1, "25,0", False),
                    (STT, 0, "0,0", False),
                ],
                f"Kết luận: đề nghị {SGD}.",
                await audit_line(services),
            ),
        )
    ]

    # The provincial flag opens without Sở GD&ĐT: proposed at a higher tier.
    await tg.say(SECRETARY, "/ballot open 3")
    shown = await tg.tap(AN, f"vt:{prov}:show:0")
    assert shown[0].buttons == [[SVH], [STT], ["Phiếu trắng"]]
    own = await tg.tap(CUONG, f"vt:{prov}:show:0")
    assert own[0].buttons == [[SYT], [SVH], [STT], ["Phiếu trắng"]]
    await voted(services, AN, prov, 1)
    await voted(services, CUONG, prov, 1)
    await voted(services, DUNG, prov, 2)
    await voted(services, GIANG, prov, None)
    # Nobody reaches 70%: fewer than the quota, said once, no further round.
    assert plain(await tg.say(SECRETARY, "/ballot close 3")) == [
        (
            S,
            result(
                PROV,
                (4, 4, 3, 1, 1),
                [(SYT, 0, "0,0", False), (SVH, 2, "50,0", False), (STT, 1, "25,0", False)],
                "Số đơn vị đạt ngưỡng ít hơn chỉ tiêu (1); không tổ chức vòng tiếp theo.",
                await audit_line(services),
            ),
        )
    ]

    # The chair's certificate (3 seats) among the three left: two pass.
    await tg.say(SECRETARY, "/ballot open 5")
    await voted(services, AN, chair, [1, 2])
    await voted(services, CUONG, chair, [0, 1, 2])
    await voted(services, DUNG, chair, [0, 2])
    await voted(services, GIANG, chair, [1])
    assert plain(await tg.say(SECRETARY, "/ballot close 5")) == [
        (
            S,
            result(
                CHAIR,
                (4, 4, 4, 0, 0),
                [(SYT, 2, "50,0", False), (SVH, 3, "75,0", True), (STT, 3, "75,0", True)],
                f"Kết luận: đề nghị {SVH}, {STT}.",
                "Số đơn vị đạt ngưỡng ít hơn chỉ tiêu (3); không tổ chức vòng tiếp theo.",
                await audit_line(services),
            ),
        )
    ]
    assert await stored_result(services, gov) == (["SGDĐT"], "vote", [])
    assert await stored_result(services, prov) == ([], "vote", [])
    assert await stored_result(services, chair) == (["SVHTTDL", "STTTT"], "vote", [])
    opened = [d["candidates"] for a, d in await audit_trail(services) if a == "ballot.opened"]
    assert opened == [4, 3, 3]


# --- ties: run-off, then score totals, then the secretariat --------------------------------


async def test_award_tie_runs_off_then_score_then_the_secretariat_decides(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    await with_scores(tg, services)
    await tg.say(SECRETARY, "/bloc link", chat=GROUP)
    chair = (await ballot_ids(services))[4]
    await tg.say(SECRETARY, "/ballot open 5")
    # Everyone chooses the three others: four units tied at 3 votes (75%) for 3 seats.
    await voted(services, AN, chair, [1, 2, 3])
    await voted(services, CUONG, chair, [0, 2, 3])
    await voted(services, DUNG, chair, [0, 1, 3])
    await voted(services, GIANG, chair, [0, 1, 2])
    all_tied = [(u, 3, "75,0", True) for u in (SYT, SGD, SVH, STT)]
    tie_text = result(
        CHAIR,
        (4, 4, 4, 0, 0),
        all_tied,
        f"Hòa phiếu giữa {SYT}, {SGD}, {SVH}, {STT}: đã tạo cuộc bỏ phiếu lại số 8 "
        "(thường trực mở bằng /ballot open 8).",
    )
    closed = plain(await tg.say(SECRETARY, "/ballot close 5"))
    expected = f"{tie_text}\n{await audit_line(services)}"
    assert closed == [(S, expected), (G, expected)]
    listing = (await tg.say(SECRETARY, "/ballot"))[0].text
    assert listing.endswith(f"\n8. {CHAIR} — bỏ phiếu lại (kín) — chưa mở\n{LIST_FOOTER}")
    runoff = (await ballot_ids(services))[7]

    # The run-off: same candidates, same seats, no threshold; votes only rank.
    opened = await tg.say(SECRETARY, "/ballot open 8")
    assert opened[0].text == (
        f"✅ Đã mở biểu quyết số 8: <b>{CHAIR} — bỏ phiếu lại</b>\n"
        f"{RUNOFF_RULES.replace('; không', '; chọn tối đa 3 đơn vị; không')}.\n"
        "Đã gửi phiếu đến đại diện của 4 đơn vị. Theo dõi: /ballot · "
        "Đóng và kiểm phiếu: /ballot close 8"
    )
    shown = await tg.tap(AN, f"vt:{runoff}:show:0")
    assert shown[0].buttons == [[SGD], [SVH], [STT], ["Phiếu trắng"], ["Xác nhận (0/3)"]]
    # Tied again: the score totals rank Sở Y tế (102) and Sở GD&ĐT (98); the two units with
    # no score are still tied for the last seat, which the secretariat decides.
    await voted(services, AN, runoff, [1, 2, 3])
    await voted(services, CUONG, runoff, [0, 2, 3])
    await voted(services, DUNG, runoff, [0, 1, 3])
    await voted(services, GIANG, runoff, [0, 1, 2])
    runoff_text = result(
        f"{CHAIR} — bỏ phiếu lại",
        (4, 4, 4, 0, 0),
        [(u, 3, "75,0", False) for u in (SYT, SGD, SVH, STT)],
        f"Kết luận: đề nghị {SYT}, {SGD}.",
        f"Vẫn hòa sau khi so tổng điểm thi đua: {SVH}, {STT}. "
        "Thường trực quyết định bằng /ballot decide 8; ĐƠN_VỊ.",
        rule="bỏ phiếu lại, xếp theo số phiếu",
    )
    closed = plain(await tg.say(SECRETARY, "/ballot close 8"))
    expected = f"{runoff_text}\n{await audit_line(services)}"
    assert closed == [(S, expected), (G, expected)]
    assert await stored_result(services, runoff) == (
        ["SYT", "SGDĐT"],
        "pending",
        ["SVHTTDL", "STTTT"],
    )

    refusals = {
        "/ballot decide 8; SYT": "«SYT» không nằm trong các đơn vị đang hòa phiếu.",
        "/ballot decide 5; STTTT": (
            "Nội dung số 5 không có kết quả hòa nào chờ thường trực quyết định."
        ),
    }
    for command, text in refusals.items():
        assert plain(await tg.say(SECRETARY, command)) == [(S, text)], command
    assert plain(await tg.say(AN, "/ballot decide 8; STTTT")) == [
        (AN.id, "Chỉ thường trực khối mới dùng được lệnh này.")
    ]
    assert plain(await tg.say(SECRETARY, "/ballot decide 8; STTTT")) == [
        (
            S,
            f"✅ Thường trực quyết định: <b>{STT}</b> ({CHAIR} — bỏ phiếu lại). "
            "Đã ghi vào nhật ký và biên bản.",
        )
    ]
    assert plain(await tg.say(SECRETARY, "/ballot decide 8; SVHTTDL")) == [
        (S, "Nội dung số 8 không có kết quả hòa nào chờ thường trực quyết định.")
    ]
    assert await stored_result(services, runoff) == (
        ["SYT", "SGDĐT", "STTTT"],
        "secretariat",
        [],
    )

    # Every step is in the audit chain, with the units by id.
    ids = await unit_ids(services)
    every = [ids[u] for u in ("SYT", "SGDĐT", "SVHTTDL", "STTTT")]
    steps = [
        (a, d)
        for a, d in await audit_trail(services)
        if a in {"ballot.runoff_created", "ballot.tie_by_score", "ballot.decided_by_secretariat"}
    ]
    assert steps == [
        ("ballot.runoff_created", {"ballot": runoff, "of": chair, "tied": every, "seats": 3}),
        (
            "ballot.tie_by_score",
            {
                "ballot": runoff,
                "tied": every,
                "chosen": [ids["SYT"], ids["SGDĐT"]],
                "still_tied": [ids["SVHTTDL"], ids["STTTT"]],
            },
        ),
        ("ballot.decided_by_secretariat", {"ballot": runoff, "tied": every[2:]}),
    ]

    # The records: the first ballot names its run-off; the run-off the secretariat's choice.
    first = plain(replies_of(await raw_say(tg, SECRETARY, "/ballot record 5")))
    assert first == [(S, tie_text), (S, NO_PDF)]
    requests = await raw_say(tg, SECRETARY, "/ballot record 8")
    [sent] = documents(requests)
    paragraphs = [p.text for p in Document(io.BytesIO(sent.data)).paragraphs]
    assert (
        "Tỷ lệ tính trên 4 (tổng số đơn vị thành viên); "
        "ngưỡng thông qua: không áp dụng (bỏ phiếu lại, xếp theo số phiếu)."
    ) in paragraphs
    assert (
        f"Kết quả: đề nghị {SYT}, {SGD}, {STT} (thường trực quyết định sau khi vẫn hòa)."
    ) in paragraphs
    second = plain(replies_of(requests))
    assert second == [
        (
            S,
            result(
                f"{CHAIR} — bỏ phiếu lại",
                (4, 4, 4, 0, 0),
                [(u, 3, "75,0", False) for u in (SYT, SGD, SVH, STT)],
                f"Kết luận: đề nghị {SYT}, {SGD}, {STT} (thường trực quyết định).",
                rule="bỏ phiếu lại, xếp theo số phiếu",
            ),
        ),
        (S, NO_PDF),
    ]


async def test_leader_tie_runs_off_and_the_score_decides_then_deputy_runoff_by_votes(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    await with_scores(tg, services)
    ids = await ballot_ids(services)
    leader, deputy = ids[5], ids[6]
    await tg.say(SECRETARY, "/ballot open 6")
    await voted(services, AN, leader, 1)
    await voted(services, CUONG, leader, 0)
    await voted(services, DUNG, leader, 0)
    await voted(services, GIANG, leader, 1)
    # 2 of 4 each: nobody has more than half, two share the most votes: a run-off.
    assert plain(await tg.say(SECRETARY, "/ballot close 6")) == [
        (
            S,
            result(
                LEADER,
                (4, 4, 4, 0, 0),
                [
                    (SYT, 2, "50,0", False),
                    (SGD, 2, "50,0", False),
                    (SVH, 0, "0,0", False),
                    (STT, 0, "0,0", False),
                ],
                f"Hòa phiếu giữa {SYT}, {SGD}: đã tạo cuộc bỏ phiếu lại số 8 "
                "(thường trực mở bằng /ballot open 8).",
                await audit_line(services),
                rule="ngưỡng &gt;50%",
            ),
        )
    ]
    runoff = (await ballot_ids(services))[7]
    await tg.say(SECRETARY, "/ballot open 8")
    assert (await tg.tap(AN, f"vt:{runoff}:show:0"))[0].buttons == [[SGD], ["Phiếu trắng"]]
    await voted(services, AN, runoff, 1)
    await voted(services, CUONG, runoff, 0)
    await voted(services, DUNG, runoff, 0)
    await voted(services, GIANG, runoff, 1)
    assert plain(await tg.say(SECRETARY, "/ballot close 8")) == [
        (
            S,
            result(
                f"{LEADER} — bỏ phiếu lại",
                (4, 4, 4, 0, 0),
                [(SYT, 2, "50,0", False), (SGD, 2, "50,0", False)],
                f"Kết luận: {SYT} trúng cử (bằng phiếu, xếp theo tổng điểm thi đua).",
                await audit_line(services),
                rule="bỏ phiếu lại, xếp theo số phiếu",
            ),
        )
    ]
    assert await stored_result(services, runoff) == (["SYT"], "score", [])
    units = await unit_ids(services)
    by_score = [d for a, d in await audit_trail(services) if a == "ballot.tie_by_score"]
    assert by_score == [
        {
            "ballot": runoff,
            "tied": [units["SYT"], units["SGDĐT"]],
            "chosen": [units["SYT"]],
            "still_tied": [],
        }
    ]

    # The deputy ballot opens without the leader elected in the run-off; its own tie runs
    # off, and this time the run-off's votes decide.
    await tg.say(SECRETARY, "/ballot open 7")
    assert (await tg.tap(CUONG, f"vt:{deputy}:show:0"))[0].buttons == [
        [SVH],
        [STT],
        ["Phiếu trắng"],
    ]
    await voted(services, AN, deputy, 0)
    await voted(services, CUONG, deputy, 1)
    await voted(services, DUNG, deputy, 0)
    await voted(services, GIANG, deputy, 1)
    closed = await tg.say(SECRETARY, "/ballot close 7")
    assert closed[0].text.endswith(
        f"Hòa phiếu giữa {SGD}, {SVH}: đã tạo cuộc bỏ phiếu lại số 9 "
        "(thường trực mở bằng /ballot open 9).\n" + await audit_line(services)
    )
    second = (await ballot_ids(services))[8]
    await tg.say(SECRETARY, "/ballot open 9")
    await voted(services, AN, second, 0)
    await voted(services, CUONG, second, 1)
    await voted(services, DUNG, second, 0)
    await voted(services, GIANG, second, 0)
    assert plain(await tg.say(SECRETARY, "/ballot close 9")) == [
        (
            S,
            result(
                f"{DEPUTY} — bỏ phiếu lại",
                (4, 4, 4, 0, 0),
                [(SGD, 3, "75,0", False), (SVH, 1, "25,0", False)],
                f"Kết luận: {SGD} trúng cử.",
                await audit_line(services),
                rule="bỏ phiếu lại, xếp theo số phiếu",
            ),
        )
    ]
    assert await stored_result(services, second) == (["SGDĐT"], "runoff", [])
    assert await stored_result(services, deputy) == ([], "vote", [])


# --- the vote-count record through the chat ---------------------------------------------------


async def test_ballot_record_sends_the_text_and_the_docx(tg: Harness, services: Services) -> None:
    await conference_setup(tg)
    b = (await ballot_ids(services))[0]
    assert plain(await tg.say(SECRETARY, "/ballot record 1")) == [
        (S, "Nội dung số 1 chưa kiểm phiếu; đóng trước bằng /ballot close 1.")
    ]
    await tg.say(SECRETARY, "/ballot open 1")
    for user in (AN, CUONG, DUNG):
        await voted(services, user, b, 0)
    await tg.say(SECRETARY, "/ballot close 1")

    requests = await raw_say(tg, SECRETARY, "/ballot record 1")
    text = result(
        REPORT,
        (4, 3, 3, 0, 0),
        [
            ("Đồng ý", 3, "75,0", True),
            ("Không đồng ý", 0, "0,0", False),
            ("Ý kiến khác", 0, "0,0", False),
        ],
        "Kết luận: thông qua.",
        rule="ngưỡng &gt;50%",
    )
    assert plain(replies_of(requests)) == [(S, text), (S, NO_PDF)]  # the DOCX still goes
    [sent] = documents(requests)
    assert (sent.chat_id, sent.name, sent.caption) == (
        S,
        "bien-ban-kiem-phieu-01.docx",
        f"Biên bản kiểm phiếu: {REPORT}",
    )
    doc = Document(io.BytesIO(sent.data))
    words = "\n".join(
        [p.text for p in doc.paragraphs]
        + [c.text for t in doc.tables for row in t.rows for c in row.cells]
    )
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "KHỐI THI ĐUA VĂN HÓA - XÃ HỘI",
        "Số: 01/BBKP-KTĐVHXH",
        "Hà Nội, ngày 20 tháng 12 năm 2024",  # the conference's date
        f"Kiểm phiếu: {REPORT}",
        "Số phiếu phát ra: 4; số phiếu thu về: 3; số phiếu hợp lệ: 3; "
        "số phiếu không hợp lệ: 0 (trong đó phiếu trắng: 0).",
        "Kết quả: thông qua.",
        "Quàng Thị Mai",
        "Nguyễn Văn Thành",  # the conference's chair signs beside the board's head
    ):
        assert expected in words, expected
    assert [[c.text for c in row.cells] for row in doc.tables[1].rows] == [
        ["STT", "Nội dung / Đơn vị", "Số phiếu", "Tỷ lệ"],
        ["1", "Đồng ý", "3", "75,0%"],
        ["2", "Không đồng ý", "0", "0,0%"],
        ["3", "Ý kiến khác", "0", "0,0%"],
    ]
    assert plain(await tg.say(AN, "/ballot record 1")) == [
        (AN.id, "Chỉ thường trực khối mới dùng được lệnh này.")
    ]


async def test_this_years_deputy_is_the_leader_proposal(tg: Harness, services: Services) -> None:
    """Rotation by domain.md: the deputy of this year is proposed as next year's leader."""
    await conference_setup(tg, defaults=False)
    await tg.say(SECRETARY, "/bloc leader 1")
    await tg.say(SECRETARY, "/bloc deputy 3")
    await tg.say(SECRETARY, "/ballot defaults")
    leader = (await ballot_ids(services))[5]
    async with services.db.uow() as uow:
        info = await uow.votes.ballot(leader)
        units = await uow.blocs.units(info.bloc_id if info else 0)
    assert info is not None
    assert [o.unit_id for o in info.ballot.options] == [units[2].id]
