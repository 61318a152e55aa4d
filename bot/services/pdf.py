"""PDF copies of the DOCX documents, for digital signing (ký số): LibreOffice headless converts
each file, fonts embedded, beside the DOCX. Where LibreOffice is not installed (or
`DOCS__SOFFICE=off`), no PDF is made and the bot says so; a failed or timed-out conversion
never loses the DOCX, it is delivered with a word that its PDF could not be made."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

log = logging.getLogger(__name__)

OFF = frozenset({"off", "no", "none", "false", "0", "disabled"})
# Fonts embedded, the PDF base-14 ones too (a signing tool or an archive may have no Times):
# LibreOffice's JSON filter options (7.4 and later).
EXPORT = 'pdf:writer_pdf_Export:{"EmbedStandardFonts":{"type":"boolean","value":"true"}}'
PDF_MIME = "application/pdf"


def find_soffice(setting: str | None) -> str | None:
    """The LibreOffice binary to run: the setting's path or command name, `off` for none, or
    unset for the `soffice` (else `libreoffice`) found on PATH; None when there is none."""
    value = (setting or "").strip()
    if value.lower() in OFF:
        return None
    if not value:
        found = shutil.which("soffice") or shutil.which("libreoffice")
        if found is None:
            log.info("LibreOffice (soffice) is not installed: documents go as DOCX, no PDF")
        return found
    found = shutil.which(value)
    if found is None:
        log.warning("DOCS__SOFFICE=%s: no such program; PDFs will not be made", value)
    return found


class PdfConverter:
    """DOCX bytes to PDF bytes with `soffice --headless --convert-to pdf`, at most `parallel`
    at a time in this process, each with a profile of its own (two soffice sharing one wait
    on each other or fail) and killed with its children after `timeout` seconds."""

    def __init__(self, soffice: str | None, *, timeout: float = 120.0, parallel: int = 2) -> None:
        self.soffice = soffice
        self.timeout = timeout
        self._slots = asyncio.Semaphore(parallel)

    @property
    def available(self) -> bool:
        return self.soffice is not None

    async def convert(self, docx: bytes) -> bytes | None:
        """The PDF, or None when LibreOffice is missing, fails or runs out of time."""
        if self.soffice is None:
            return None
        async with self._slots:
            with tempfile.TemporaryDirectory(prefix="thidua-pdf-") as tmp:
                return await self._run(self.soffice, Path(tmp), docx)

    async def _run(self, soffice: str, tmp: Path, docx: bytes) -> bytes | None:
        source, out = tmp / "document.docx", tmp / "out"
        await asyncio.to_thread(source.write_bytes, docx)
        try:
            proc = await asyncio.create_subprocess_exec(
                soffice,
                f"-env:UserInstallation={(tmp / 'profile').as_uri()}",
                "--headless",
                "--norestore",
                "--nolockcheck",
                "--convert-to",
                EXPORT,
                "--outdir",
                str(out),
                str(source),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,  # its own process group: a timeout kills it all
            )
        except OSError as exc:
            log.warning("PDF conversion could not start %s: %s", soffice, exc)
            return None
        try:
            _, stderr = await asyncio.wait_for(proc.communicate(), self.timeout)
        except TimeoutError:
            _kill(proc.pid)
            await proc.wait()
            log.warning("PDF conversion took over %s s: stopped", self.timeout)
            return None
        except asyncio.CancelledError:  # the delivery was abandoned: no soffice left behind
            _kill(proc.pid)
            raise
        pdf = out / "document.pdf"
        data = await asyncio.to_thread(_read, pdf)
        if proc.returncode != 0 or not data.startswith(b"%PDF"):
            tail = stderr.decode("utf-8", "replace").strip()[-300:]
            log.warning("PDF conversion failed (exit %s): %s", proc.returncode, tail)
            return None
        return data


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


class PdfNote(StrEnum):
    """What the person is told of the PDFs (catalog keys)."""

    NOT_INSTALLED = "pdf_not_installed"
    FAILED = "pdf_failed"


@dataclass(frozen=True, slots=True)
class Delivered:
    """A DOCX and, beside it, its PDF (None: not made)."""

    name: str
    docx: bytes
    pdf: bytes | None

    @property
    def pdf_name(self) -> str:
        return pdf_name(self.name)


def pdf_name(docx_name: str) -> str:
    return docx_name.removesuffix(".docx") + ".pdf"


async def beside(
    converter: PdfConverter, files: Sequence[tuple[str, bytes]]
) -> tuple[list[Delivered], PdfNote | None, list[str]]:
    """Each DOCX with its PDF when LibreOffice is here; the note to give (none when every
    PDF was made) and the names of the DOCX whose PDF failed."""
    if not converter.available:
        return [Delivered(name, data, None) for name, data in files], PdfNote.NOT_INSTALLED, []
    pdfs = await asyncio.gather(*(converter.convert(data) for _, data in files))
    delivered = [Delivered(name, data, pdf) for (name, data), pdf in zip(files, pdfs, strict=True)]
    failed = [d.name for d in delivered if d.pdf is None]
    return delivered, PdfNote.FAILED if failed else None, failed
