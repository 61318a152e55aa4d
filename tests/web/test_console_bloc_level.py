"""The console's bloc page sets the bloc's level, the body its memo goes to and its regulation
(the service of `/bloc level`): saved composed and shown as text, a too-long value refused with
its limit and nothing saved, a representative refused."""

from __future__ import annotations

import unicodedata

from bot.core.models import BlocLevel
from bot.services.app import Services
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import AN, BLOC_CODE, VOTE_UNITS, bloc_by_code, join
from tests.web.support import Client, csrf_of, page_text, redirected, sign_in

PAGE = "/web/console/bloc"
POST = "/web/console/bloc/level"


async def _stored(services: Services) -> tuple[BlocLevel | None, str, str]:
    bloc = await bloc_by_code(services, BLOC_CODE)
    return bloc.level, bloc.reports_to, bloc.regulation


async def test_the_level_addressee_and_regulation_from_the_console(
    client: Client, tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=VOTE_UNITS)
    await sign_in(client, tg, SECRETARY)
    html = await page_text(client, PAGE)
    assert '<h2 id="level">Cấp của khối, nơi nhận tờ trình, quy chế</h2>' in html
    assert "Kính gửi: Hội đồng Thi đua - Khen thưởng tỉnh (theo cấp của khối)" in html
    assert "/bloc level" not in html  # the page has the form, not the chat's commands
    assert '<option value="" selected>chưa chọn</option>' in html
    assert "Để trống: theo cấp của khối. Tối đa 300 ký tự." in html
    assert "Tối đa 1.000 ký tự." in html

    body = "Hội đồng Thi đua - Khen thưởng <b>Trung ương</b>"
    form = {
        "csrf": csrf_of(html),
        "level": "national",
        "reports_to": unicodedata.normalize("NFD", body),
        "regulation": unicodedata.normalize(
            "NFD", "Căn cứ Quy chế của Cụm <script>x()</script>;\r\n\r\nHướng dẫn số 01/HD"
        ),
    }
    location = await redirected(client, POST, form)
    assert location == "/web/console/bloc?done=level"
    assert await _stored(services) == (
        BlocLevel.NATIONAL,
        body,
        "Căn cứ Quy chế của Cụm <script>x()</script>;\nHướng dẫn số 01/HD",
    )
    html = await page_text(client, location)
    assert "✅ Đã lưu cấp của khối, nơi nhận tờ trình và quy chế." in html
    assert "<script>x()" not in html
    assert "<b>Trung" not in html
    assert "Kính gửi: Hội đồng Thi đua - Khen thưởng &lt;b&gt;Trung ương&lt;/b&gt;\n" in html
    assert "• Căn cứ Quy chế của Cụm &lt;script&gt;x()&lt;/script&gt;;" in html
    assert "1. Cờ thi đua của Chính phủ — tối đa 1 đơn vị" in html
    assert "2. Bằng khen của Thủ tướng Chính phủ — tối đa 1 đơn vị" in html
    assert "Cờ thi đua của UBND tỉnh" not in html
    assert '<option value="national" selected>' in html
    # The fields show what is stored, composed and escaped, to be edited again.
    assert 'value="Hội đồng Thi đua - Khen thưởng &lt;b&gt;Trung ương&lt;/b&gt;"' in html

    # Too long: refused with the limit, the form as typed, nothing saved (the level neither).
    long_body = "Hội đồng " + "x" * 292
    refused = await client.post(
        POST,
        data={"csrf": csrf_of(html), "level": "commune", "reports_to": long_body},
    )
    text = await refused.text()
    assert refused.status == 400
    assert (
        "Cơ quan nhận tờ trình (Kính gửi) quá dài: 301 ký tự, tối đa 300 ký tự. Chưa có gì "
        "được lưu: hãy rút gọn rồi gửi lại." in text
    )
    assert f'value="{long_body}"' in text
    assert '<option value="commune" selected>' in text
    assert (await _stored(services))[:2] == (BlocLevel.NATIONAL, body)

    forged = await client.post(POST, data={"csrf": csrf_of(html), "level": "moon"})
    assert forged.status == 400
    assert "«moon» không phải một cấp của khối." in await forged.text()

    # Emptied fields: the level's own body, no regulation, no level.
    cleared = {"csrf": csrf_of(html), "level": "", "reports_to": "", "regulation": ""}
    await redirected(client, POST, cleared)
    assert await _stored(services) == (None, "", "")


async def test_a_representative_cannot_set_the_level(
    client: Client, tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=VOTE_UNITS)
    await join(tg, AN, "1")
    home = await sign_in(client, tg, AN)
    assert (await client.get(PAGE)).status == 403
    forged = await client.post(
        POST,
        data={"csrf": csrf_of(home), "level": "province", "reports_to": "X", "regulation": "Y"},
        allow_redirects=False,
    )
    assert forged.status == 403
    assert "Chỉ thường trực khối mới dùng được lệnh này." in await forged.text()
    assert await _stored(services) == (None, "", "")
