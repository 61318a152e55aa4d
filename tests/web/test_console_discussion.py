"""The console's summary page: the discussion of each agenda item for the minutes — a box per
item the conference's agenda has, saved by one form through the chat's service (post/
redirect/get), composed and shown as text, written into the downloaded minutes; too long:
refused beside the form with the limit, what was typed kept, nothing saved; a representative
refused (403) and nothing saved."""

from __future__ import annotations

import io
import unicodedata

from docx import Document

from bot.services.app import Services
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import AN, BLOC_CODE, audit_trail, bloc_by_code, conference_setup
from tests.handlers.test_minutes import lines_of
from tests.web.support import Client, csrf_of, page_text, redirected, sign_in

REVIEW = "1. Tổng kết công tác thi đua, khen thưởng năm 2024."
HOSTILE = "<b>Sở & Ban</b><script>x()</script>"


async def _stored(services: Services) -> dict[str, str]:
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        conference = await uow.votes.conference(bloc.id, bloc.year)
    assert conference is not None
    return dict(conference.discussion)


async def test_the_discussion_round_trips_into_the_minutes(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg, defaults=False)
    await sign_in(client, tg, SECRETARY)
    html = await page_text(client, "/web/console/summary")
    assert '<h2 id="discussion">Ý kiến thảo luận (ghi vào biên bản)</h2>' in html
    assert f'<label for="discussion-report">{REVIEW}</label>' in html
    assert "Mỗi mục tối đa 4.000 ký tự" in html  # the limit stated, no maxlength
    assert 'name="discussion_awards"' not in html  # no award ballot counted: not on the agenda
    assert "maxlength" not in html.split('id="discussion"')[1].split("</section>")[0]

    typed = unicodedata.normalize("NFD", "Ý kiến của ") + HOSTILE + "\r\n\r\n  Dòng   hai\r\n"
    landing = await redirected(
        client,
        "/web/console/summary/discussion",
        {"csrf": csrf_of(html), "discussion_report": typed},
    )
    assert landing == "/web/console/summary?done=discussed#discussion"
    page = await page_text(client, landing)
    assert "Đã lưu ý kiến thảo luận" in page
    composed = f"Ý kiến của {HOSTILE}\nDòng hai"
    assert await _stored(services) == {"report": composed}
    assert (
        "Ý kiến của &lt;b&gt;Sở &amp; Ban&lt;/b&gt;&lt;script&gt;x()&lt;/script&gt;\nDòng hai"
        "</textarea>"
    ) in page
    assert "<script>x()" not in page
    # Saved again as it stands (the browser's CRLF): nothing changed, nothing logged.
    await redirected(
        client,
        "/web/console/summary/discussion",
        {"csrf": csrf_of(page), "discussion_report": composed.replace("\n", "\r\n")},
    )
    assert [a for a, _ in await audit_trail(services)].count("minutes.discussion") == 1

    answer = await client.get("/web/console/minutes/minutes")
    assert answer.status == 200
    lines = lines_of(Document(io.BytesIO(await answer.read())))
    start = lines.index("III. NỘI DUNG HỘI NGHỊ")
    assert lines[start + 1 : start + 5] == [
        REVIEW,
        "Ý kiến thảo luận:",
        f"Ý kiến của {HOSTILE}",
        "Dòng hai",
    ]

    # Too long: refused beside the form with the limit, what was typed kept, nothing saved.
    long = "x" * 4001
    refused = await client.post(
        "/web/console/summary/discussion",
        data={"csrf": csrf_of(page), "discussion_report": long},
    )
    shown = await refused.text()
    assert refused.status == 400
    section = shown.split('id="discussion"')[1].split("</section>")[0]
    assert "Ý kiến thảo luận quá dài: 4.001 ký tự, tối đa 4.000 ký tự." in section
    assert f">{long}</textarea>" in section
    assert await _stored(services) == {"report": composed}


async def test_a_representative_cannot_write_the_discussion(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg, defaults=False)
    await tg.say(SECRETARY, "/minutes discussion baocao Nhất trí.")
    home = await sign_in(client, tg, AN)
    refused = await client.post(
        "/web/console/summary/discussion",
        data={"csrf": csrf_of(home), "discussion_report": "Không nhất trí."},
    )
    assert refused.status == 403
    assert "Chỉ thường trực khối mới dùng được lệnh này." in await refused.text()
    assert await _stored(services) == {"report": "Nhất trí."}
