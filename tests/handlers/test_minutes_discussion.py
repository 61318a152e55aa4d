"""The discussion of each agenda item in the minutes (issue 20, 6): `/minutes discussion KEY
TEXT` writes it (secretariat only, refused before what was typed is looked at), the text's
lines kept as paragraphs, composed, within its limit (refused with the limit, never cut), «-»
or nothing clears it; the minutes write it under its agenda item, in Vietnamese and English,
markup as text; the agenda is unchanged when nothing is entered; `/conference new` again keeps
it."""

from __future__ import annotations

import io
import unicodedata
from dataclasses import replace

from docx import Document
from teremok import MockMessageText

from bot.services import minutes
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
from tests.handlers.test_minutes import MINUTES_UNITS, _vote, lines_of

HOSTILE = "<b>Sở & Ban</b>"
ESCAPED = "&lt;b&gt;Sở &amp; Ban&lt;/b&gt;"
REPORT = (
    "1. Thông qua dự thảo Báo cáo tổng kết công tác thi đua, khen thưởng năm 2024, phương "
    "hướng, nhiệm vụ năm 2025."
)
AWARDS = "2. Bình xét, suy tôn, đề nghị khen thưởng năm 2024."
REVIEW = "1. Tổng kết công tác thi đua, khen thưởng năm 2024."
ONLY = "Chỉ thường trực khối mới dùng được lệnh này."


async def _stored(services: Services) -> dict[str, str]:
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        conference = await uow.votes.conference(bloc.id, bloc.year)
    assert conference is not None
    return dict(conference.discussion)


async def _agenda(tg: Harness, command: str = "/minutes") -> list[str]:
    """The minutes' section III as sent: every line between its heading and section IV."""
    sent = documents(await dispatch(tg, MockMessageText(command, user=SECRETARY)))
    lines = lines_of(Document(io.BytesIO(sent[0].data)))
    start = next(i for i, line in enumerate(lines) if line.startswith("III. "))
    end = next(i for i, line in enumerate(lines) if line.startswith("IV. "))
    return lines[start + 1 : end]


async def test_discussion_is_entered_listed_and_written_under_its_agenda_item(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg, units=MINUTES_UNITS)
    await _vote(services, tg, 1, {})  # the report approved
    await _vote(services, tg, 2, {"SYT": "SGD", "SVH": "SGD", "SB": "SGD"})  # an award
    assert await _agenda(tg) == [REPORT, AWARDS]  # nothing entered: the agenda as before

    listed = await tg.say(SECRETARY, "/minutes discussion")
    usage = (
        "Ghi: <code>/minutes discussion MỤC nội dung</code> (nội dung có thể viết tiếp ở các "
        "dòng dưới, mỗi dòng một đoạn; tối đa 4.000 ký tự). Xóa: <code>/minutes discussion "
        "MỤC -</code>"
    )
    assert [r.text for r in listed] == [
        "📝 <b>Ý kiến thảo luận ghi vào biên bản hội nghị năm 2024</b>\n"
        "\n"
        f"{REPORT} (<code>baocao</code>)\n"
        "(chưa ghi)\n"
        "\n"
        f"{AWARDS} (<code>khenthuong</code>)\n"
        "(chưa ghi)\n"
        "\n" + usage
    ]
    # The text goes on over the following lines; blank lines and runs of spaces tidied.
    written = await tg.say(
        SECRETARY,
        "/minutes discussion báo cáo\nĐồng chí Lò Văn A (Sở Y tế):   nhất trí với dự thảo.\n\n"
        "  Đồng chí Trần Thị B đề nghị bổ sung số liệu phong trào.  ",
    )
    assert written[0].text.startswith("Cách dùng:")  # «báo cáo» is two words: not an item
    written = await tg.say(
        SECRETARY,
        "/minutes discussion baocao Đồng chí Lò Văn A (Sở Y tế):   nhất trí với dự thảo.\n\n"
        "  Đồng chí Trần Thị B đề nghị bổ sung số liệu phong trào.  ",
    )
    assert [r.text for r in written] == [
        "📝 <b>Ý kiến thảo luận ghi vào biên bản hội nghị năm 2024</b>\n"
        "\n"
        f"{REPORT} (<code>baocao</code>)\n"
        "Đồng chí Lò Văn A (Sở Y tế): nhất trí với dự thảo.\n"
        "Đồng chí Trần Thị B đề nghị bổ sung số liệu phong trào.\n"
        "\n"
        f"{AWARDS} (<code>khenthuong</code>)\n"
        "(chưa ghi)\n"
        "\n" + usage
    ]
    first = (
        "Đồng chí Lò Văn A (Sở Y tế): nhất trí với dự thảo.\n"
        "Đồng chí Trần Thị B đề nghị bổ sung số liệu phong trào."
    )
    assert await _stored(services) == {"report": first}
    await tg.say(SECRETARY, "/minutes discussion awards Các đại biểu nhất trí danh sách.")
    assert await _agenda(tg) == [
        REPORT,
        "Ý kiến thảo luận:",
        "Đồng chí Lò Văn A (Sở Y tế): nhất trí với dự thảo.",
        "Đồng chí Trần Thị B đề nghị bổ sung số liệu phong trào.",
        AWARDS,
        "Ý kiến thảo luận:",
        "Các đại biểu nhất trí danh sách.",
    ]
    assert await _agenda(tg, "/minutes en") == [
        "1. Approval of the draft 2024 review report and the directions for 2025.",
        "Discussion:",
        "Đồng chí Lò Văn A (Sở Y tế): nhất trí với dự thảo.",
        "Đồng chí Trần Thị B đề nghị bổ sung số liệu phong trào.",
        "2. Review and vote on the 2024 award proposals.",
        "Discussion:",
        "Các đại biểu nhất trí danh sách.",
    ]
    # An item the agenda does not have (no officers' ballot counted): refused, nothing saved.
    refused = await tg.say(SECRETARY, "/minutes discussion bau Nhất trí.")
    assert refused[-1].text == (
        "Nội dung hội nghị trong biên bản chưa có mục này: mục bầu trưởng, phó và mục khen "
        "thưởng có khi đã kiểm phiếu cuộc bỏ phiếu tương ứng, mục giao ước khi đã có đơn vị "
        "ký. Chưa có gì được lưu."
    )
    assert set(await _stored(services)) == {"report", "awards"}
    # «-» clears one, nothing after the item clears the other: the agenda as before.
    await tg.say(SECRETARY, "/minutes discussion baocao -")
    await tg.say(SECRETARY, "/minutes discussion khenthuong")
    assert await _stored(services) == {}
    assert await _agenda(tg) == [REPORT, AWARDS]
    trail = [d for action, d in await audit_trail(services) if action == "minutes.discussion"]
    assert [(d["item"], d["characters"]) for d in trail] == [
        ("report", len(first)),
        ("awards", len("Các đại biểu nhất trí danh sách.")),
        ("report", 0),
        ("awards", 0),
    ]


async def test_discussion_is_for_the_secretariat_within_its_limit(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg, defaults=False)
    # Nothing counted: the report's review is the only item.
    assert (await tg.say(SECRETARY, "/minutes discussion"))[0].text.startswith(
        "📝 <b>Ý kiến thảo luận ghi vào biên bản hội nghị năm 2024</b>\n\n"
        f"{REVIEW} (<code>baocao</code>)\n(chưa ghi)\n\n"
    )
    assert (await tg.say(AN, "/minutes discussion baocao Nhất trí."))[-1].text == ONLY
    assert (await tg.say(AN, "/minutes discussion baocao " + "x" * 4001))[-1].text == ONLY
    assert (await tg.say(AN, "/minutes discussion"))[-1].text == ONLY
    assert (await tg.say(SECRETARY, "/minutes discussion baocao " + "x" * 4001))[-1].text == (
        "Ý kiến thảo luận quá dài: 4.001 ký tự, tối đa 4.000 ký tự. Chưa có gì được lưu: hãy "
        "rút gọn rồi gửi lại."
    )
    assert await _stored(services) == {}
    whole = "\n".join(["y" * 1000] * 3) + "\n" + "z" * 997  # the line breaks count: kept whole
    assert len(whole) == 4000
    await tg.say(SECRETARY, f"/minutes discussion report {whole}")
    assert await _stored(services) == {"report": whole}
    assert (await tg.say(SECRETARY, "/minutes discussion motion Nhất trí."))[-1].text.startswith(
        "Cách dùng: <code>/minutes</code>"
    )
    assert (
        "<code>/minutes discussion MỤC nội dung</code>"
        in (await tg.say(SECRETARY, "/minutes help"))[-1].text
    )


async def test_hostile_discussion_is_stored_composed_and_written_as_text(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg, defaults=False)
    actor = await actor_of(services, SECRETARY)
    typed = unicodedata.normalize("NFD", "Ý kiến của ") + HOSTILE + "\n<script>x()</script>"
    said = await minutes.set_discussion(services, actor, "report", typed)
    assert isinstance(said, minutes.Discussion)
    composed = f"Ý kiến của {HOSTILE}\n<script>x()</script>"
    assert await _stored(services) == {"report": composed}
    assert [(i.key, i.line, i.text) for i in said.items] == [("report", REVIEW, composed)]
    listed = (await tg.say(SECRETARY, "/minutes discussion"))[0].text
    assert f"Ý kiến của {ESCAPED}\n&lt;script&gt;x()&lt;/script&gt;\n" in listed
    assert "<script>" not in listed
    assert await _agenda(tg) == [
        REVIEW,
        "Ý kiến thảo luận:",
        f"Ý kiến của {HOSTILE}",
        "<script>x()</script>",
    ]
    # The representative is refused before the text is looked at.
    refused = await minutes.set_discussion(
        services, await actor_of(services, AN), "report", "x" * 5000
    )
    assert isinstance(refused, Rejected)
    assert refused.reason is Reason.NOT_SECRETARIAT


async def test_the_conference_form_again_keeps_the_discussion(
    tg: Harness, services: Services
) -> None:
    """`/conference new` again rewrites the form's columns; the discussion has its own
    command and stays (and the discussion's save never touches the form's columns)."""
    await conference_setup(tg, defaults=False)
    await tg.say(SECRETARY, "/minutes discussion baocao Nhất trí.")
    corrected = await tg.say(SECRETARY, CONFERENCE.replace("Hà Nội", "Hải Phòng"))
    assert corrected[0].text.startswith("<b>Hội nghị tổng kết năm 2024</b>"), corrected[0].text
    assert [a for a, _ in await audit_trail(services)][-1] == "conference.updated"
    assert await _stored(services) == {"report": "Nhất trí."}
    await tg.say(SECRETARY, "/minutes discussion baocao Nhất trí, bổ sung.")
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        conference = await uow.votes.conference(bloc.id, bloc.year)
    assert conference is not None
    assert conference.locality == "Hải Phòng"
    assert dict(conference.discussion) == {"report": "Nhất trí, bổ sung."}
    assert await _agenda(tg) == [REVIEW, "Ý kiến thảo luận:", "Nhất trí, bổ sung."]


async def test_a_form_saved_from_an_earlier_read_keeps_the_discussion(
    tg: Harness, services: Services
) -> None:
    """The form's save writes the conference as it read it, its columns changed; the
    discussion entered meanwhile (another secretary) is not among them and stays."""
    await conference_setup(tg, defaults=False)
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        stale = await uow.votes.conference(bloc.id, bloc.year)
    assert stale is not None
    await tg.say(SECRETARY, "/minutes discussion baocao Nhất trí.")
    async with services.db.uow() as uow:
        await uow.votes.update_conference(replace(stale, locality="Hải Phòng"))
        await uow.commit()
    assert await _stored(services) == {"report": "Nhất trí."}
