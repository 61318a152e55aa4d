"""The console's summary page: the awards handed out at the conference listed, added and
removed, the launch of next year's movement set — through the chat's service, post/redirect/
get, the preview saying them; a wrong count refused with the limit and what was typed kept; a
representative refused (403) and nothing saved."""

from __future__ import annotations

import re
import unicodedata

from bot.core.models import HandedOut
from bot.services.app import Services
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import AN, BLOC_CODE, audit_trail, bloc_by_code, conference_setup
from tests.web.support import Client, csrf_of, page_text, redirected, sign_in

SENTENCE = (
    "Nhân dịp này, Chủ tịch UBND tỉnh đã tặng Bằng khen cho 7 tập thể, 7 cá nhân (Sở Y tế, "
    "Ông Lò Văn A)."
)
LAUNCH = "Thi đua hoàn thành xuất sắc nhiệm vụ chính trị năm 2025."


async def _stored(services: Services) -> tuple[tuple[HandedOut, ...], str]:
    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        conference = await uow.votes.conference(bloc.id, bloc.year)
    assert conference is not None
    return conference.handed_out, conference.launch


async def test_awards_handed_out_and_the_launch_round_trip(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg, defaults=False)
    await sign_in(client, tg, SECRETARY)
    html = await page_text(client, "/web/console/summary")
    assert "Chưa nhập khen thưởng nào trao tại hội nghị." in html
    assert "Nhân dịp này" not in html
    award = {
        "csrf": csrf_of(html),
        "by": "Chủ tịch UBND tỉnh",
        "form": "Bằng khen",
        "collectives": "7",
        "individuals": "7",
        "households": "",
        "names": "Sở Y tế\r\nÔng Lò Văn A\r\n",
    }
    landing = await redirected(client, "/web/console/summary/handed-out", award)
    assert landing == "/web/console/summary?done=added#handed-out"
    page = await page_text(client, landing)
    assert "✅ Đã thêm khen thưởng trao tại hội nghị." in page
    assert "Bằng khen — Chủ tịch UBND tỉnh: 7 tập thể, 7 cá nhân (Sở Y tế, Ông Lò Văn A)" in page
    assert SENTENCE in page  # the Vietnamese preview
    assert (
        "On this occasion, Chủ tịch UBND tỉnh presented Bằng khen to 7 collectives and 7 "
        "individuals (Sở Y tế, Ông Lò Văn A)." in page
    )
    assert await _stored(services) == (
        (HandedOut("Chủ tịch UBND tỉnh", "Bằng khen", 7, 7, 0, ("Sở Y tế", "Ông Lò Văn A")),),
        "",
    )

    # The launch, with the paragraphs' form: unchanged paragraphs are not saved again.
    landing = await redirected(
        client,
        "/web/console/summary",
        {"csrf": csrf_of(page), "movements": "", "closing": "", "launch": LAUNCH},
    )
    page = await page_text(client, landing)
    assert f"Hội nghị đã phát động phong trào thi đua năm 2025: {LAUNCH}" in page
    assert f"The conference launched the 2025 emulation movement: {LAUNCH}" in page
    assert (await _stored(services))[1] == LAUNCH
    trail = [action for action, _ in await audit_trail(services)]
    assert trail.count("summary.launch") == 1
    assert "summary.paragraph" not in trail

    # A wrong count: refused with the limit, nothing saved, what was typed still there.
    wrong = await client.post(
        "/web/console/summary/handed-out",
        data={**award, "csrf": csrf_of(page), "form": "Giấy khen", "individuals": "12000"},
    )
    shown = await wrong.text()
    assert wrong.status == 400
    assert "«12000» không phải số lượng hợp lệ: nhập một số nguyên từ 0 đến 9.999" in shown
    assert 'value="Giấy khen"' in shown
    assert len((await _stored(services))[0]) == 1

    # Removed by its number and its fingerprint: a list changed meanwhile (another secretary
    # removed or added one) removes nothing rather than the wrong one.
    (key,) = re.findall(r'name="key" value="([0-9a-f]{16})"', page)
    stale = await client.post(
        "/web/console/summary/handed-out/remove",
        data={"csrf": csrf_of(page), "number": "1", "key": "0" * 16},
    )
    assert stale.status == 400
    assert "vừa được thay đổi" in await stale.text()
    assert len((await _stored(services))[0]) == 1
    landing = await redirected(
        client,
        "/web/console/summary/handed-out/remove",
        {"csrf": csrf_of(page), "number": "1", "key": key},
    )
    assert landing == "/web/console/summary?done=removed#handed-out"
    page = await page_text(client, landing)
    assert "✅ Đã xóa khen thưởng." in page
    assert "Nhân dịp này" not in page
    assert await _stored(services) == ((), LAUNCH)
    gone = await client.post(
        "/web/console/summary/handed-out/remove",
        data={"csrf": csrf_of(page), "number": "1", "key": key},
    )
    assert gone.status == 400
    assert "Không có khen thưởng trao tại hội nghị số 1 (chưa nhập khen thưởng nào)." in (
        await gone.text()
    )


async def test_hostile_text_in_the_forms_is_stored_composed_and_shown_as_text(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg, defaults=False)
    await sign_in(client, tg, SECRETARY)
    html = await page_text(client, "/web/console/summary")

    def marked(text: str) -> str:
        return unicodedata.normalize("NFD", f"<b>{text}</b><script>x()</script>")

    await redirected(
        client,
        "/web/console/summary/handed-out",
        {
            "csrf": csrf_of(html),
            "by": marked("Chủ tịch"),
            "form": marked("Bằng khen"),
            "collectives": "1",
            "names": marked("Sở Y tế"),
        },
    )
    await redirected(
        client,
        "/web/console/summary",
        {"csrf": csrf_of(html), "movements": "", "closing": "", "launch": marked("Phát động")},
    )
    (award,), launch = await _stored(services)
    composed = unicodedata.normalize("NFC", marked("Chủ tịch"))
    assert award.by == composed
    assert award.form == unicodedata.normalize("NFC", marked("Bằng khen"))
    assert award.names == (unicodedata.normalize("NFC", marked("Sở Y tế")),)
    assert launch == unicodedata.normalize("NFC", marked("Phát động"))
    page = await page_text(client, "/web/console/summary")
    assert "<script>x()</script>" not in page
    assert "<b>Chủ" not in page
    assert "&lt;b&gt;Chủ tịch&lt;/b&gt;&lt;script&gt;x()&lt;/script&gt; đã tặng" in page


async def test_a_representative_cannot_add_or_remove_awards_or_set_the_launch(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg, defaults=False)
    await tg.say(SECRETARY, "/summary awards Chủ tịch UBND tỉnh; Bằng khen; 7; 7")
    home = await sign_in(client, tg, AN)
    for path, data in (
        ("/web/console/summary/handed-out", {"by": "X", "form": "Y", "collectives": "-1"}),
        ("/web/console/summary/handed-out/remove", {"number": "1"}),
        ("/web/console/summary", {"launch": LAUNCH}),
    ):
        refused = await client.post(path, data={"csrf": csrf_of(home), **data})
        assert refused.status == 403, path
        assert "Chỉ thường trực khối mới dùng được lệnh này." in await refused.text()
    assert await _stored(services) == ((HandedOut("Chủ tịch UBND tỉnh", "Bằng khen", 7, 7),), "")
