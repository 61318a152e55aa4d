"""What the hall saw (issue 20): the awards handed out at the conference and the launch of next
year's movement, entered with `/summary awards` and `/summary launch`, said by the summary (vi
and en) and the minutes from the data only; refused with the reason and the limit when wrong,
hostile text stored composed and shown as text; `/conference new` again keeps them."""

from __future__ import annotations

import io
import unicodedata

from docx import Document
from teremok import MockMessageText

from bot.core.models import HandedOut, Locale
from bot.services import hall_record
from bot.services import summary as summary_svc
from bot.services.app import Services
from bot.services.outcomes import Reason, Rejected
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BLOC_CODE,
    CONFERENCE,
    actor_of,
    audit_trail,
    bloc_by_code,
    conference_setup,
    dispatch,
    documents,
)
from tests.handlers.test_minutes import lines_of

HOSTILE = "<b>Sở & Ban</b>"
ESCAPED = "&lt;b&gt;Sở &amp; Ban&lt;/b&gt;"
SENTENCE = "Nhân dịp này, Chủ tịch UBND tỉnh đã tặng Bằng khen cho 7 tập thể, 7 cá nhân."
LAUNCH = "Thi đua hoàn thành xuất sắc nhiệm vụ chính trị năm 2025."


async def _stored(services: Services) -> tuple[tuple[HandedOut, ...], str]:
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        conference = await uow.votes.conference(bloc.id, bloc.year)
    assert conference is not None
    return conference.handed_out, conference.launch


async def _summary(services: Services, locale: Locale) -> str:
    data = await summary_svc.summary(services, await actor_of(services, SECRETARY))
    assert isinstance(data, summary_svc.SummaryData)
    return summary_svc.render_summary(services, data, locale)


async def test_awards_handed_out_are_listed_and_said_as_the_articles_say_them(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg, defaults=False)
    before = await _summary(services, Locale.VI)
    assert "Nhân dịp này" not in before  # nothing entered: nothing said
    assert "phát động" not in before
    replies = await tg.say(SECRETARY, "/summary awards Chủ tịch UBND tỉnh; Bằng khen; 7; 7")
    assert [r.text for r in replies] == [
        "🏅 <b>Khen thưởng trao tại hội nghị năm 2024</b>\n"
        "1. Bằng khen — Chủ tịch UBND tỉnh: 7 tập thể, 7 cá nhân\n"
        "\n"
        f"Bài tổng kết và biên bản ghi: «{SENTENCE}»\n"
        "\n"
        "Thêm: <code>/summary awards Cấp trao; Hình thức; số tập thể; số cá nhân; số hộ gia "
        "đình; tên; tên…</code>\n"
        "Xóa: <code>/summary awards remove 1</code>"
    ]
    # Names on the lines below, households, no individuals.
    await tg.say(
        SECRETARY,
        "/summary awards Ủy ban nhân dân tỉnh; Cờ thi đua; 1; ; 2\nSở Y tế\nÔng Lò Văn A, "
        "Giám đốc",
    )
    await tg.say(SECRETARY, f"/summary launch {LAUNCH}")
    article = (await tg.say(SECRETARY, "/summary"))[0].text
    both = (
        "Nhân dịp này, Chủ tịch UBND tỉnh đã tặng Bằng khen cho 7 tập thể, 7 cá nhân; Ủy ban "
        "nhân dân tỉnh đã tặng Cờ thi đua cho 1 tập thể, 2 hộ gia đình (Sở Y tế, Ông Lò Văn A, "
        "Giám đốc)."
    )
    assert f"\n\nHội nghị đã phát động phong trào thi đua năm 2025: {LAUNCH}\n\n" in article
    assert f"\n\n{both}" in article
    english = (await tg.say(SECRETARY, "/summary en"))[0].text
    assert (
        "On this occasion, Chủ tịch UBND tỉnh presented Bằng khen to 7 collectives and 7 "
        "individuals; Ủy ban nhân dân tỉnh presented Cờ thi đua to 1 collective and 2 "
        "households (Sở Y tế, Ông Lò Văn A, Giám đốc)."
    ) in english
    assert f"The conference launched the 2025 emulation movement: {LAUNCH}" in english

    removed = await tg.say(SECRETARY, "/summary awards xóa 1")
    assert removed[0].text.startswith(
        "🏅 <b>Khen thưởng trao tại hội nghị năm 2024</b>\n1. Cờ thi đua — Ủy ban nhân dân tỉnh: "
        "1 tập thể, 2 hộ gia đình (Sở Y tế, Ông Lò Văn A, Giám đốc)\n"
    )
    assert (await tg.say(SECRETARY, "/summary awards remove 5"))[0].text == (
        "Không có khen thưởng trao tại hội nghị số 5 (danh sách có 1 khen thưởng)."
    )
    await tg.say(SECRETARY, "/summary launch")  # empty: removed
    awards, launch = await _stored(services)
    assert [a.by for a in awards] == ["Ủy ban nhân dân tỉnh"]
    assert launch == ""
    assert "phát động" not in (await tg.say(SECRETARY, "/summary"))[0].text
    trail = [action for action, _ in await audit_trail(services)]
    assert trail.count("summary.handed_out_added") == 2
    assert trail.count("summary.handed_out_removed") == 1
    assert trail.count("summary.launch") == 2


async def test_wrong_awards_and_launches_are_refused_and_nothing_is_saved(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg, defaults=False)
    refusals = {
        "; Bằng khen; 7": "Thiếu «Cấp trao khen thưởng»: khen thưởng trao tại hội nghị cần ghi "
        "cấp trao (ví dụ Chủ tịch UBND tỉnh) và hình thức (ví dụ Bằng khen). Chưa có gì được lưu.",
        "Chủ tịch UBND tỉnh": "Thiếu «Hình thức khen thưởng»: khen thưởng trao tại hội nghị cần "
        "ghi cấp trao (ví dụ Chủ tịch UBND tỉnh) và hình thức (ví dụ Bằng khen). Chưa có gì "
        "được lưu.",
        "Chủ tịch UBND tỉnh; Bằng khen; 0; -": "Cần ít nhất một số lượng (tập thể, cá nhân hoặc "
        "hộ gia đình) hoặc tên người, đơn vị được khen. Chưa có gì được lưu.",
        "Chủ tịch UBND tỉnh; Bằng khen; -3": "«-3» không phải số lượng hợp lệ: nhập một số "
        "nguyên từ 0 đến 9.999 (để trống hoặc «-» nếu không có). Chưa có gì được lưu.",
        "Chủ tịch UBND tỉnh; Bằng khen; 7; 10000": "«10000» không phải số lượng hợp lệ: nhập "
        "một số nguyên từ 0 đến 9.999 (để trống hoặc «-» nếu không có). Chưa có gì được lưu.",
        "Chủ tịch UBND tỉnh; Bằng khen; 2,5": "«2,5» không phải số lượng hợp lệ: nhập một số "
        "nguyên từ 0 đến 9.999 (để trống hoặc «-» nếu không có). Chưa có gì được lưu.",
        "x" * 201 + "; Bằng khen; 1": "Cấp trao khen thưởng quá dài: 201 ký tự, tối đa 200 ký "
        "tự. Chưa có gì được lưu: hãy rút gọn rồi gửi lại.",
        "Chủ tịch UBND tỉnh; " + "y" * 201 + "; 1": "Hình thức khen thưởng quá dài: 201 ký tự, "
        "tối đa 200 ký tự. Chưa có gì được lưu: hãy rút gọn rồi gửi lại.",
        "Chủ tịch UBND tỉnh; Bằng khen; 1; 1; 1; " + "z" * 2001: "Danh sách được khen quá dài: "
        "2.001 ký tự, tối đa 2.000 ký tự. Chưa có gì được lưu: hãy rút gọn rồi gửi lại.",
    }
    for typed, refusal in refusals.items():
        assert (await tg.say(SECRETARY, f"/summary awards {typed}"))[-1].text == refusal, typed
    assert (await tg.say(SECRETARY, "/summary launch " + "w" * 2001))[-1].text == (
        "Nội dung phát động thi đua quá dài: 2.001 ký tự, tối đa 2.000 ký tự. Chưa có gì được "
        "lưu: hãy rút gọn rồi gửi lại."
    )
    # A representative may do neither.
    only = "Chỉ thường trực khối mới dùng được lệnh này."
    assert (await tg.say(AN, "/summary awards Chủ tịch UBND tỉnh; Bằng khen; 7"))[-1].text == only
    assert (await tg.say(AN, f"/summary launch {LAUNCH}"))[-1].text == only
    assert (await tg.say(AN, "/summary awards ; ; -1"))[-1].text == only  # who before what
    assert await _stored(services) == ((), "")
    # At most 20 at one conference: the 21st is refused with the limit.
    for n in range(20):
        await tg.say(SECRETARY, f"/summary awards Chủ tịch UBND tỉnh; Bằng khen; {n + 1}")
    assert (await tg.say(SECRETARY, "/summary awards Chủ tịch UBND tỉnh; Giấy khen; 1"))[
        -1
    ].text == (
        "Hội nghị đã có 20 khen thưởng trao tại hội nghị, tối đa là 20: xóa bớt trước khi "
        "thêm. Chưa có gì được lưu."
    )
    assert len((await _stored(services))[0]) == 20


async def test_hostile_text_is_stored_composed_and_shown_as_text(
    tg: Harness, services: Services
) -> None:
    """Markup and decomposed letters in every new field: stored composed, as typed; the chat
    shows the markup as text; the documents carry it literally."""
    await conference_setup(tg, defaults=False)
    actor = await actor_of(services, SECRETARY)
    nfd = unicodedata.normalize("NFD", "Chủ tịch UBND tỉnh")
    added = await hall_record.add_handed_out(
        services,
        actor,
        by=nfd + " " + HOSTILE,
        form=unicodedata.normalize("NFD", "Bằng khen") + "<i>",
        collectives=" 3 ",
        names=f"{HOSTILE}; {unicodedata.normalize('NFD', 'Sở Y tế')}\n\n<script>x()</script>",
    )
    assert isinstance(added, summary_svc.SummaryData)
    launched = await hall_record.set_launch(
        services, actor, unicodedata.normalize("NFD", "Phát động ") + HOSTILE + "\n\nDòng hai"
    )
    assert isinstance(launched, summary_svc.SummaryData)
    (award,), launch = await _stored(services)
    assert award == HandedOut(
        f"Chủ tịch UBND tỉnh {HOSTILE}",
        "Bằng khen<i>",
        3,
        0,
        0,
        (HOSTILE, "Sở Y tế", "<script>x()</script>"),
    )
    assert launch == f"Phát động {HOSTILE}\n\nDòng hai"
    article = (await tg.say(SECRETARY, "/summary"))[0].text  # the message as sent
    assert article == await _summary(services, Locale.VI)
    assert "<b>Sở" not in article
    assert "<script>" not in article
    assert f"Chủ tịch UBND tỉnh {ESCAPED} đã tặng Bằng khen&lt;i&gt; cho 3 tập thể" in article
    assert f"({ESCAPED}, Sở Y tế, &lt;script&gt;x()&lt;/script&gt;)." in article
    assert f"năm 2025: Phát động {ESCAPED}\n\nDòng hai" in article
    english = await _summary(services, Locale.EN)
    assert (
        f"Chủ tịch UBND tỉnh {ESCAPED} presented Bằng khen&lt;i&gt; to 3 collectives (" in english
    )
    listed = (await tg.say(SECRETARY, "/summary awards"))[0].text
    assert f"1. Bằng khen&lt;i&gt; — Chủ tịch UBND tỉnh {ESCAPED}: 3 tập thể (" in listed
    # A count in other digits, or a number too long for a count, is not a count.
    for typed in ("٣", "1" * 5000):
        refused = await hall_record.add_handed_out(
            services, actor, by="A", form="B", individuals=typed
        )
        assert isinstance(refused, Rejected)
        assert refused.reason is Reason.BAD_COUNT

    sent = documents(await dispatch(tg, MockMessageText("/minutes", user=SECRETARY)))
    minutes = next(f for f in sent if f.name == "bien-ban-hoi-nghi.docx")
    lines = lines_of(Document(io.BytesIO(minutes.data)))
    assert f"Hội nghị đã phát động phong trào thi đua năm 2025: Phát động {HOSTILE}" in lines
    assert "Dòng hai" in lines
    assert (
        f"Nhân dịp này, Chủ tịch UBND tỉnh {HOSTILE} đã tặng Bằng khen<i> cho 3 tập thể "
        f"({HOSTILE}, Sở Y tế, <script>x()</script>)."
    ) in lines


async def test_the_minutes_record_them_in_both_languages(tg: Harness) -> None:
    await conference_setup(tg)
    await tg.say(SECRETARY, "/summary awards Chủ tịch UBND tỉnh; Bằng khen; 7; 7")
    await tg.say(SECRETARY, f"/summary launch {LAUNCH}")
    for command, expected in (
        (
            "/minutes",
            [f"Hội nghị đã phát động phong trào thi đua năm 2025: {LAUNCH}", SENTENCE],
        ),
        (
            "/minutes en",
            [
                f"The conference launched the 2025 emulation movement: {LAUNCH}",
                "On this occasion, Chủ tịch UBND tỉnh presented Bằng khen to 7 collectives and "
                "7 individuals.",
            ],
        ),
    ):
        sent = documents(await dispatch(tg, MockMessageText(command, user=SECRETARY)))
        lines = lines_of(Document(io.BytesIO(sent[0].data)))
        conclusions = lines[lines.index(next(x for x in lines if x.startswith("V. "))) :]
        assert all(line in conclusions for line in expected), (command, conclusions)


async def test_the_conference_form_again_keeps_what_the_hall_saw(
    tg: Harness, services: Services
) -> None:
    """`/conference new` again corrects the conference; the awards handed out and the launch
    have their own commands and stay."""
    await conference_setup(tg, defaults=False)
    await tg.say(SECRETARY, "/summary awards Chủ tịch UBND tỉnh; Bằng khen; 7; 7")
    await tg.say(SECRETARY, f"/summary launch {LAUNCH}")
    corrected = await tg.say(SECRETARY, CONFERENCE)
    assert corrected[0].text.startswith("<b>Hội nghị tổng kết năm 2024</b>"), corrected[0].text
    assert [a for a, _ in await audit_trail(services)][-1] == "conference.updated"
    awards, launch = await _stored(services)
    assert awards == (HandedOut("Chủ tịch UBND tỉnh", "Bằng khen", 7, 7),)
    assert launch == LAUNCH
