"""The console's PDFs for digital signing: a "PDF" link beside each DOCX download (the minutes,
the records, the memo, a ballot's vote-count record) when LibreOffice is installed, the PDF of
exactly that DOCX behind it; without LibreOffice the page says why there is none and the PDF
address says so too; a conversion that fails says so and the DOCX still downloads."""

from __future__ import annotations

from bot.services.app import Services
from bot.services.pdf import PdfConverter
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.test_minutes_pdf import FakePdf, counted
from tests.web.support import Client, page_text, sign_in

NOT_INSTALLED = (
    "ℹ️ Máy chủ này không tạo bản PDF (để ký số) vì chưa cài LibreOffice; các tệp Word (DOCX) "
    "vẫn đầy đủ. Người quản trị máy chủ cài LibreOffice (gói libreoffice-writer) thì bot gửi "
    "kèm bản PDF."
)
FAILED = (
    "⚠️ Không tạo được bản PDF (LibreOffice báo lỗi hoặc quá thời gian); tệp Word (DOCX) vẫn "
    "tải được. Vui lòng thử lại sau ít phút."
)


async def _counted(client: Client, tg: Harness, services: Services) -> None:
    await counted(tg, services)
    await sign_in(client, tg, SECRETARY)


async def test_each_download_has_its_pdf_beside_it(
    client: Client, tg: Harness, services: Services
) -> None:
    services.pdf = FakePdf()
    await _counted(client, tg, services)
    html = await page_text(client, "/web/console/summary")
    assert NOT_INSTALLED not in html
    for doc in ("minutes", "records", "memo"):
        assert f'<a href="/web/console/minutes/{doc}/pdf">PDF để ký số</a>' in html
        assert f'<a href="/web/console/minutes/{doc}/pdf?lang=en" hreflang="en">' in html
    for doc, name in (("memo", "to-trinh"), ("records", "bien-ban-kiem-phieu")):
        docx = await (await client.get(f"/web/console/minutes/{doc}")).read()
        pdf = await client.get(f"/web/console/minutes/{doc}/pdf")
        assert pdf.status == 200
        assert pdf.headers["Content-Type"] == "application/pdf"
        assert pdf.headers["Content-Disposition"] == f'attachment; filename="{name}.pdf"'
        assert await pdf.read() == await FakePdf().convert(docx)  # the PDF of that very DOCX
    english = await client.get("/web/console/minutes/memo/pdf?lang=en")
    assert english.headers["Content-Disposition"] == 'attachment; filename="award-proposal.pdf"'

    ballots = await page_text(client, "/web/console/ballots")
    assert '<a class="button" href="/web/console/ballots/1/record/pdf">PDF để ký số</a>' in ballots
    record = await client.get("/web/console/ballots/1/record/pdf")
    assert record.status == 200
    assert record.headers["Content-Disposition"] == (
        'attachment; filename="bien-ban-kiem-phieu-01.pdf"'
    )
    docx = await (await client.get("/web/console/ballots/1/record")).read()
    assert await record.read() == await FakePdf().convert(docx)


async def test_without_libreoffice_the_console_says_why_there_is_no_pdf(
    client: Client, tg: Harness, services: Services
) -> None:
    services.pdf = PdfConverter(None)  # LibreOffice not installed (or DOCS__SOFFICE=off)
    await _counted(client, tg, services)
    html = await page_text(client, "/web/console/summary")
    assert NOT_INSTALLED in html
    assert "/pdf" not in html
    assert '<a href="/web/console/minutes/memo">' in html  # the DOCX still there
    for path in ("/web/console/minutes/memo/pdf", "/web/console/ballots/1/record/pdf"):
        answer = await client.get(path)
        assert answer.status == 404, path
        assert NOT_INSTALLED in await answer.text(), path
    assert "/record/pdf" not in await page_text(client, "/web/console/ballots")


async def test_a_failed_conversion_says_so_and_the_docx_still_downloads(
    client: Client, tg: Harness, services: Services
) -> None:
    services.pdf = FakePdf()
    await _counted(client, tg, services)
    memo = await (await client.get("/web/console/minutes/memo")).read()
    services.pdf = FakePdf(failing=(memo,))
    failed = await client.get("/web/console/minutes/memo/pdf")
    assert failed.status == 503
    assert FAILED in await failed.text()
    again = await client.get("/web/console/minutes/memo")
    assert again.status == 200
    assert await again.read() == memo
