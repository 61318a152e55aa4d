"""/minutes and /ballot record with a PDF beside each DOCX, for digital signing: the DOCX go
first with their captions, then each one's PDF; where LibreOffice is not installed (the
DOCS__SOFFICE setting pointing at nothing) every DOCX still goes and the bot says why there is
no PDF; a conversion that fails loses nothing and is named. One test runs the real
LibreOffice through the chat."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from aiogram.methods import SendDocument, SendMessage, TelegramMethod
from aiogram.types import BufferedInputFile
from teremok import MockMessageText

from bot.config import load_settings
from bot.services.app import Services
from bot.services.pdf import PdfConverter, find_soffice
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BLOC_CODE,
    CUONG,
    DUNG,
    NO_PDF,
    ballot_ids,
    conference_setup,
    dispatch,
    voted,
)
from tests.rendered import soffice_path

CAPTION = "✍️ Bản PDF để ký số (phông chữ đã nhúng sẵn)."


class FakePdf(PdfConverter):
    """A converter whose "PDF" names the DOCX it came from; `failing`: DOCX it cannot do."""

    def __init__(self, failing: tuple[bytes, ...] = ()) -> None:
        super().__init__("soffice")
        self.failing = failing

    async def convert(self, docx: bytes) -> bytes | None:
        if docx in self.failing:
            return None
        return b"%PDF " + hashlib.sha256(docx).hexdigest().encode()


def said(requests: list[TelegramMethod[Any]]) -> list[tuple[str, str]]:
    """What the secretary received, in order: ("file", name) and ("text", text)."""
    out = []
    for m in requests:
        if isinstance(m, SendDocument):
            assert isinstance(m.document, BufferedInputFile)
            out.append(("file", m.document.filename or ""))
        elif isinstance(m, SendMessage):
            out.append(("text", m.text))
    return out


def files(requests: list[TelegramMethod[Any]]) -> dict[str, tuple[bytes, str]]:
    found = {}
    for m in requests:
        if isinstance(m, SendDocument):
            assert isinstance(m.document, BufferedInputFile)
            found[m.document.filename or ""] = (m.document.data, m.caption or "")
    return found


async def counted(tg: Harness, services: Services) -> None:
    """A conference whose first ballot is counted: minutes, records and memo to send."""
    await conference_setup(tg)
    ballot = (await ballot_ids(services))[0]
    await tg.say(SECRETARY, "/ballot open 1")
    for user in (AN, CUONG, DUNG):
        await voted(services, user, ballot, 0)
    await tg.say(SECRETARY, "/ballot close 1")


async def test_minutes_send_each_docx_then_its_pdf(tg: Harness, services: Services) -> None:
    await counted(tg, services)
    services.pdf = FakePdf()
    requests = await dispatch(tg, MockMessageText("/minutes", user=SECRETARY))
    docx = ["bien-ban-hoi-nghi.docx", "bien-ban-kiem-phieu.docx", "to-trinh.docx"]
    pdfs = ["bien-ban-hoi-nghi.pdf", "bien-ban-kiem-phieu.pdf", "to-trinh.pdf"]
    assert said(requests) == [("file", name) for name in docx + pdfs]  # no note: all made
    sent = files(requests)
    for word, pdf in zip(docx, pdfs, strict=True):
        data, caption = sent[pdf]
        assert data == b"%PDF " + hashlib.sha256(sent[word][0]).hexdigest().encode()
        assert caption == CAPTION
    assert sent["to-trinh.docx"][1].startswith(f"📨 Tờ trình số 01/TTr-{BLOC_CODE}")


async def test_without_libreoffice_the_docx_go_and_the_bot_says_why(
    tg: Harness, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DOCS__SOFFICE pointing at a program that is not there: no PDF, said once (in the
    secretary's language, whatever the documents' language); every DOCX still sent."""
    await counted(tg, services)
    monkeypatch.setenv("DOCS__SOFFICE", "/opt/nowhere/soffice")
    services.pdf = PdfConverter(find_soffice(load_settings().docs.soffice))
    requests = await dispatch(tg, MockMessageText("/minutes", user=SECRETARY))
    assert said(requests) == [
        ("file", "bien-ban-hoi-nghi.docx"),
        ("file", "bien-ban-kiem-phieu.docx"),
        ("file", "to-trinh.docx"),
        ("text", NO_PDF),
    ]
    english_documents = said(await dispatch(tg, MockMessageText("/minutes en", user=SECRETARY)))
    assert english_documents[-1] == ("text", NO_PDF)
    record = said(await dispatch(tg, MockMessageText("/ballot record 1", user=SECRETARY)))
    assert record[1:] == [("file", "bien-ban-kiem-phieu-01.docx"), ("text", NO_PDF)]


async def test_a_pdf_that_cannot_be_made_is_named_and_its_docx_still_goes(
    tg: Harness, services: Services
) -> None:
    await counted(tg, services)
    services.pdf = FakePdf()
    memo = files(await dispatch(tg, MockMessageText("/minutes", user=SECRETARY)))["to-trinh.docx"]
    services.pdf = FakePdf(failing=(memo[0],))
    requests = await dispatch(tg, MockMessageText("/minutes", user=SECRETARY))
    assert said(requests) == [
        ("file", "bien-ban-hoi-nghi.docx"),
        ("file", "bien-ban-kiem-phieu.docx"),
        ("file", "to-trinh.docx"),
        ("file", "bien-ban-hoi-nghi.pdf"),
        ("file", "bien-ban-kiem-phieu.pdf"),
        (
            "text",
            "⚠️ Không tạo được bản PDF của to-trinh.docx (LibreOffice báo lỗi hoặc quá thời "
            "gian); tệp Word (DOCX) vẫn đầy đủ. Vui lòng thử lại sau ít phút.",
        ),
    ]


async def test_the_vote_count_record_through_the_real_libreoffice(
    tg: Harness, services: Services
) -> None:
    services.pdf = PdfConverter(soffice_path())
    await counted(tg, services)
    requests = await dispatch(tg, MockMessageText("/ballot record 1", user=SECRETARY))
    assert said(requests)[1:] == [
        ("file", "bien-ban-kiem-phieu-01.docx"),
        ("file", "bien-ban-kiem-phieu-01.pdf"),
    ]
    pdf, caption = files(requests)["bien-ban-kiem-phieu-01.pdf"]
    assert pdf.startswith(b"%PDF")
    assert caption == CAPTION
