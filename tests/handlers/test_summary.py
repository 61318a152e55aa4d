"""/summary: the conference article from the data — the date line, attendance, the report
approved, the award sentence with the right counts, leader and deputy, the covenant — against
a golden file; the secretariat's paragraphs; posting to the group, or to each member in
private when the bloc has no group (a bloc on Zalo)."""

from __future__ import annotations

import io
from pathlib import Path

from bot.core.models import Locale
from bot.services import summary as summary_svc
from bot.services.app import Services
from tests.handlers.conftest import GROUP, SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BINH,
    CUONG,
    DUNG,
    GIANG,
    actor_of,
    ballot_ids,
    conference_setup,
    voted,
)

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
VOTERS = {"SYT": AN, "SGD": CUONG, "SVH": DUNG, "STT": GIANG}
NAMES = {
    "SYT": "Sở Y tế",
    "SGD": "Sở Giáo dục và Đào tạo",
    "SVH": "Sở Văn hóa, Thể thao và Du lịch",
    "STT": "Sở Thông tin và Truyền thông",
}


async def index_of(services: Services, ballot: int, short: str) -> int:
    async with services.db.uow() as uow:
        info = await uow.votes.ballot(ballot)
        units = {u.id: u.name for u in await uow.blocs.units(info.bloc_id)} if info else {}
    assert info is not None
    return next(o.index for o in info.ballot.options if units.get(o.unit_id or 0) == NAMES[short])


async def round_(
    tg: Harness, services: Services, number: int, picks: dict[str, list[str]]
) -> None:
    """Open ballot `number`, every unit votes its picks (none: blank), close it."""
    ballot = (await ballot_ids(services))[number - 1]
    opened = await tg.say(SECRETARY, f"/ballot open {number}")
    assert opened[0].text.startswith("✅ Đã mở"), opened[0].text
    for short, user in VOTERS.items():
        chosen = picks.get(short, [])
        if number == 1:
            await voted(services, user, ballot, 0)
            continue
        indices = [await index_of(services, ballot, c) for c in chosen]
        choice = None if not indices else indices[0] if len(indices) == 1 else indices
        await voted(services, user, ballot, choice)
    closed = await tg.say(SECRETARY, f"/ballot close {number}")
    assert closed[0].text.startswith("📊"), closed[0].text


async def test_the_summary_reads_like_the_blocs_articles(tg: Harness, services: Services) -> None:
    await conference_setup(tg)
    await tg.say(SECRETARY, "/bloc link", chat=GROUP)
    await round_(tg, services, 1, {})
    await round_(tg, services, 2, {"SYT": ["SGD"], "SVH": ["SGD"], "STT": ["SGD"]})
    await round_(tg, services, 3, {})
    await round_(tg, services, 4, {})
    chair = {"SYT": ["STT"], "SGD": ["SYT", "STT"], "SVH": ["SYT", "STT"], "STT": ["SYT"]}
    await round_(tg, services, 5, chair)
    await round_(tg, services, 6, {"SYT": ["SVH"], "SGD": ["SVH"], "STT": ["SVH"]})
    await round_(tg, services, 7, {"SYT": ["STT"], "SGD": ["STT"], "SVH": ["STT"]})
    await tg.say(SECRETARY, "/covenant set Các đơn vị cam kết thi đua hoàn thành nhiệm vụ.")
    async with services.db.uow() as uow:
        bloc = (await uow.blocs.all())[0]
        covenant = await uow.covenants.of_year(bloc.id, 2025)
    assert covenant is not None
    from bot.services.covenant import text_hash

    await tg.tap(AN, f"cv:{covenant.id}:ok:{text_hash(covenant.text)[:16]}")
    await tg.say(
        SECRETARY,
        "/summary movements Năm 2024, các phong trào thi đua được triển khai sâu rộng, "
        "gắn với nhiệm vụ chính trị của từng cơ quan, đơn vị.",
    )
    replies = await tg.say(SECRETARY, "/summary")
    assert replies[0].text == (GOLDEN / "summary.vi.html").read_text().rstrip("\n")
    data = await summary_svc.summary(services, await actor_of(services, SECRETARY))
    assert isinstance(data, summary_svc.SummaryData)
    english = summary_svc.render_summary(services, data, Locale.EN)
    assert english == (GOLDEN / "summary.en.html").read_text().rstrip("\n")

    posted = await tg.say(SECRETARY, "/summary post")
    assert [(r.chat_id, r.text) for r in posted] == [
        (SECRETARY.id, "✅ Đã đăng bài tổng kết lên nhóm của khối."),
        (GROUP.id, replies[0].text),  # the outbox sends once the command is answered
    ]


async def test_without_a_group_the_summary_goes_to_each_member(tg: Harness) -> None:
    """A bloc with no group (Zalo has none) still gets its summary: each member in private,
    in their own language; the secretariat is told how many."""
    await conference_setup(tg, defaults=False)
    await tg.say(DUNG, "/lang en")
    article = (await tg.say(SECRETARY, "/summary"))[0].text
    english = (await tg.say(SECRETARY, "/summary en"))[0].text
    posted = await tg.say(SECRETARY, "/summary post")
    assert [(r.chat_id, r.text) for r in posted] == [
        (
            SECRETARY.id,
            "✅ Khối chưa liên kết nhóm: đã gửi bài tổng kết riêng cho 6 thành viên của khối.",
        ),
        *(
            (user.id, english if user is DUNG else article)
            for user in (SECRETARY, AN, BINH, CUONG, DUNG, GIANG)
        ),
    ]


async def test_the_summary_needs_a_conference_and_the_secretariat(tg: Harness) -> None:
    await conference_setup(tg, defaults=False)
    assert (await tg.say(AN, "/summary"))[
        -1
    ].text == "Chỉ thường trực khối mới dùng được lệnh này."
    assert (await tg.say(SECRETARY, "/summary closing " + "x" * 2001))[-1].text == (
        "Đoạn văn quá dài: tối đa 2000 ký tự."
    )
    text = (await tg.say(SECRETARY, "/summary closing Xin trân trọng cảm ơn."))[-1].text
    assert text.endswith("\n\nXin trân trọng cảm ơn.")
    assert (await tg.say(SECRETARY, "/summary xyz"))[-1].text.startswith("Cách dùng")


def _long(text: str, length: int) -> str:
    """`text` repeated to exactly `length` characters, ending on a whole word."""
    out = ""
    while len(out) < length:
        out += text + " "
    out = out[:length]
    return out[:-1] + "x" if out.endswith(" ") else out


def _conference(guests: str, place: str = "Hội trường Sở Y tế") -> str:
    return (
        f"/conference new 20/12/2024 08:00; {place}; SYT; Nguyễn Văn Thành; Lò Thị Hương; "
        f"Quàng Thị Mai, Trần Đức Long; {guests}; Hà Nội"
    )


REFUSED = (
    "{field} quá dài: {length} ký tự, tối đa {limit} ký tự. Chưa có gì được lưu: "
    "hãy rút gọn rồi gửi lại."
)


async def test_free_texts_over_their_limit_are_refused_and_never_cut(
    tg: Harness, services: Services
) -> None:
    # Issue 17, item 11: a 3,000-character guest list was cut at 2,000 mid-word in the summary
    # and the minutes. It is kept whole now; one over the limit is refused, the limit stated.
    from docx import Document

    from bot.services import minutes as minutes_svc
    from tests.handlers.test_minutes import lines_of

    await conference_setup(tg, defaults=False)
    guests = _long("đồng chí Giàng Thị Hoa, Phó Chủ tịch HĐND tỉnh, lãnh đạo Ban Thi đua,", 3000)
    replies = await tg.say(SECRETARY, _conference(guests))
    assert replies[0].text.startswith("<b>Hội nghị tổng kết năm 2024</b>")
    article = "\n".join(r.text for r in await tg.say(SECRETARY, "/summary"))
    assert f"Về dự Hội nghị có {guests}; đại diện lãnh đạo" in article
    paperwork = await minutes_svc.paperwork(services, await actor_of(services, SECRETARY))
    assert isinstance(paperwork, minutes_svc.Paperwork)
    minutes = lines_of(Document(io.BytesIO(paperwork.minutes)))
    assert minutes[minutes.index("Khách mời:") + 1] == f"- {guests}"  # one guest, kept whole

    cases = {
        _conference(_long("lãnh đạo", 4001)): REFUSED.format(
            field="Khách mời", length="4.001", limit="4.000"
        ),
        _conference("Lãnh đạo UBND tỉnh", place=_long("Hội trường", 301)): REFUSED.format(
            field="Địa điểm", length=301, limit=300
        ),
        "/deadlines add " + _long("Nộp hồ sơ", 301) + "; 17:00 20/12/2024": REFUSED.format(
            field="Nội dung hạn chót", length=301, limit=300
        ),
        "/ballot new " + _long("Thông qua", 301): REFUSED.format(
            field="Nội dung biểu quyết", length=301, limit=300
        ),
        "/period new tổng kết; " + _long("Báo cáo", 301) + "; 15/12/2024 17:00": (
            REFUSED.format(field="Tên kỳ báo cáo", length=301, limit=300)
        ),
    }
    for command, refusal in cases.items():
        assert [r.text for r in await tg.say(SECRETARY, command)] == [refusal], command[:40]
    async with services.db.uow() as uow:
        bloc = (await uow.blocs.all())[0]
        conference = await uow.votes.conference(bloc.id, 2024)
    assert conference is not None
    assert (conference.guests, conference.place) == (guests, "Hội trường Sở Y tế")

    await tg.say(SECRETARY, "/ballot new Thông qua quy chế")
    reason = _long("do nhầm danh sách", 1001)
    assert [r.text for r in await tg.say(SECRETARY, f"/ballot cancel 1; {reason}")] == [
        REFUSED.format(field="Lý do hủy", length="1.001", limit="1.000")
    ]


async def test_another_opinion_over_its_limit_is_refused_and_can_be_typed_again(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    ballot = (await ballot_ids(services))[0]
    await tg.say(SECRETARY, "/ballot open 1")
    await tg.tap(DUNG, f"vt:{ballot}:pick:2")
    opinion = _long("Đề nghị bổ sung số liệu", 1001)
    assert [r.text for r in await tg.say(DUNG, opinion)] == [
        REFUSED.format(field="Ý kiến khác", length="1.001", limit="1.000")
    ]
    again = await tg.say(DUNG, opinion[:1000])
    assert opinion[:40] in again[0].text
    assert again[0].callback_data[0][0] == f"vt:{ballot}:ok:2"
