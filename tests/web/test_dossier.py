"""The award dossier on the web: the console's summary page asks the proposed units for their
achievement reports and downloads the dossier ZIP (the same services as `/minutes collect` and
`/minutes dossier`); a proposed unit's representative uploads the report on the report page
with nothing to score; a unit not proposed is refused; a representative gets no console."""

from __future__ import annotations

import io
import re
import zipfile

from aiohttp import FormData

from bot.services.app import Services
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import AN, BINH, CUONG, DUNG, GIANG
from tests.handlers.test_dossier import TITLE, ZIP_NAMES, achievement_period, proposals
from tests.web.support import Client, csrf_of, page_text, redirected, sign_in
from tests.web.test_console_docs import told
from tests.web.test_report import field

SYT = "Sở Y tế"


async def test_the_console_collects_the_reports_and_downloads_the_dossier(
    client: Client, tg: Harness, services: Services
) -> None:
    await proposals(tg, services)
    await sign_in(client, tg, SECRETARY)
    html = await page_text(client, "/web/console/summary")
    assert "Thu báo cáo thành tích" in html
    assert 'href="/web/console/dossier"' in html

    since = len(tg.bot.mock_session.requests)
    landing = await redirected(
        client,
        "/web/console/dossier/collect",
        {"csrf": csrf_of(html), "deadline": "2024-12-27T17:00"},
    )
    assert landing == "/web/console/summary?done=collecting"
    page = await page_text(client, landing)
    assert (
        f"Đang thu báo cáo thành tích: kỳ số 2 «{TITLE}», hạn 17:00 27/12/2024; đã nộp 0/3 đơn vị."
    ) in page
    assert 'href="/web/console/periods/2"' in page
    assert 'action="/web/console/dossier/collect"' not in page  # asked once
    assert set(told(tg, since)) == {AN.id, BINH.id, CUONG.id, GIANG.id}  # not Dung's unit

    # A second post (a reload of an old form) opens nothing more, and says why.
    again = await client.post(
        "/web/console/dossier/collect",
        data={"csrf": csrf_of(html), "deadline": "2024-12-28T17:00"},
    )
    assert f"Đã mở thu báo cáo thành tích: kỳ số 2 «{TITLE}»." in await again.text()

    got = await client.get("/web/console/dossier")
    assert got.status == 200
    assert got.headers["Content-Type"] == "application/zip"
    assert got.headers["Content-Disposition"] == (
        'attachment; filename="Ho_so_khen_thuong_KTDVHXH_2024.zip"'
    )
    archive = zipfile.ZipFile(io.BytesIO(await got.read()))
    assert archive.namelist() == ZIP_NAMES
    contents = archive.read("00_Muc_luc.txt").decode("utf-8-sig")
    assert contents.count("CHƯA NỘP") == 3
    english = zipfile.ZipFile(
        io.BytesIO(await (await client.get("/web/console/dossier?lang=en")).read())
    )
    assert english.read("00_Muc_luc.txt").decode("utf-8-sig").count("NOT SENT") == 3


async def test_a_representative_uploads_the_report_and_others_are_refused(
    client: Client, tg: Harness, services: Services
) -> None:
    await proposals(tg, services)
    await tg.say(SECRETARY, "/minutes collect 27/12/2024 17:00")
    period = await achievement_period(services)

    # A representative gets no console: neither the dossier nor the collection.
    await sign_in(client, tg, AN)
    assert (await client.get("/web/console/dossier")).status == 403
    home = await page_text(client, "/web/")
    denied = await client.post(
        "/web/console/dossier/collect",
        data={"csrf": csrf_of(home), "deadline": "2024-12-27T17:00"},
    )
    assert denied.status == 403

    # Sở Y tế's page: the file only, no score inputs; submitted as in chat.
    html = await page_text(client, f"/web/report?period={period}")
    assert "Nộp báo cáo thành tích" in html
    assert 'name="item-' not in html
    action = re.search(r'action="(/web/report/file\?[^"]+)"', html)
    assert action is not None
    form = FormData(quote_fields=False)
    form.add_field("csrf", csrf_of(html))
    form.add_field("file", io.BytesIO(b"%PDF-1.7 thanh tich"), filename="BCTT.pdf")
    uploaded = await client.post(action.group(1).replace("&amp;", "&"), data=form)
    html = await uploaded.text()
    assert uploaded.status == 200, html
    fields = {
        "csrf": csrf_of(html),
        "draft": str(field(html, "draft")),
        "period": str(period),
        "version": "1",
    }
    landing = await redirected(client, "/web/report/submit", fields)
    receipt = await page_text(client, landing)
    assert "Biên nhận báo cáo" in receipt
    assert "BCTT.pdf" in receipt
    assert "điểm tự chấm" not in receipt.lower()

    # Dung's unit was proposed for nothing: refused, saying so.
    await sign_in(client, tg, DUNG)
    refused = await client.get(f"/web/report?period={period}")
    assert "không có trong danh sách đề nghị nên không phải nộp báo cáo thành tích" in (
        await refused.text()
    )
    # The secretariat's console now counts Sở Y tế's report.
    await sign_in(client, tg, SECRETARY)
    page = await page_text(client, "/web/console/summary")
    assert "đã nộp 1/3 đơn vị" in page
    # The period's own page lists the proposed units only.
    status = await page_text(client, "/web/console/periods/2")
    assert TITLE in status
    assert "Sở Giáo dục và Đào tạo" in status
    assert "Sở Văn hóa" not in status
