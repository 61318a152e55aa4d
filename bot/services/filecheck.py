"""Checking an uploaded file's content against the type its name declares, for every upload
path (report files, the covenant file, unit and scoring-table imports).

The rules are `bot.core.files`; this module reads the facts they judge: what puremagic (a
pure-Python file-type detector with a large signature database) recognises at the file's
start, and the ZIP central directory as declared, read without inflating anything. It is
cheap and bounded (the first 64 KB for the signature; the directory only once its entry
count is within the limit), so it runs before any parser touches the file.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import puremagic

from bot.core.files import (
    MAX_CELLS_PER_ROW,
    MAX_PARAGRAPHS,
    ODF_MIMETYPES,
    PARSE_MEMORY,
    PARSE_SECONDS,
    PARSED_LIMITS,
    SIGNED_KINDS,
    TEXT_KINDS,
    ZIP_PARTS,
    ArchiveLimits,
    ContentProblem,
    Member,
    check_archive,
    check_signature,
    zip_entry_count,
)
from bot.services.sandbox import OverLimit, run_limited

HEAD_BYTES = 64 * 1024
T = TypeVar("T")
# What a parser in the child process reports about the content ("wide", "long"), as problems.
_WELL_KNOWN = frozenset(
    {".exe", ".pdf", ".zip", ".docx", ".doc", ".png", ".jpg", ".jpeg", ".rar", ".7z", ".gz"}
)
_PARSE_PROBLEMS = {"wide": ContentProblem.WIDE, "long": ContentProblem.LONG}


_MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ContentRefused:
    """Why a file's content was refused; `looks_like` names what it seems to be instead.
    The limits it was held to are shown with the refusal."""

    problem: ContentProblem
    kind: str  # the declared type, e.g. "docx"
    looks_like: str = ""
    limits: ArchiveLimits = PARSED_LIMITS

    @property
    def total_mb(self) -> int:
        return self.limits.total_bytes // _MB

    @property
    def members(self) -> int:
        return self.limits.members

    @property
    def ratio(self) -> int:
        return self.limits.ratio

    @property
    def cells(self) -> int:
        return MAX_CELLS_PER_ROW

    @property
    def paragraphs(self) -> int:
        return MAX_PARAGRAPHS

    @property
    def seconds(self) -> int:
        return PARSE_SECONDS

    @property
    def memory_mb(self) -> int:
        return PARSE_MEMORY // _MB


def detect(data: bytes) -> list[tuple[str, str]]:
    """(extension, name) of what the file's first bytes look like, best guesses first."""
    try:
        return [(m.extension, m.name) for m in puremagic.magic_string(data[:HEAD_BYTES])]
    except (puremagic.PureError, ValueError):
        return []


def check_content(kind: str, data: bytes, limits: ArchiveLimits) -> ContentRefused | None:
    """The content of a file declared as `kind` (its lower-case extension) is that kind, one
    kind only, whole, and no decompression bomb. Unknown kinds are not judged here."""
    if kind not in ZIP_PARTS and kind not in SIGNED_KINDS and kind not in TEXT_KINDS:
        return None
    head = data[:HEAD_BYTES]
    found = detect(data)
    problem = check_signature(kind, head, (ext.lower() for ext, _ in found))
    if problem is None and kind in ZIP_PARTS:
        problem = _check_zip(kind, data, limits)
    elif problem is None and kind in SIGNED_KINDS and _is_zip(data):
        problem = ContentProblem.POLYGLOT
    if problem is None:
        return None
    looks = _best_name(found) if problem is ContentProblem.MISMATCH else ""
    return ContentRefused(problem, kind, looks, limits)


def _best_name(found: list[tuple[str, str]]) -> str:
    """The name to show for what a file looks like: a well-known kind among the guesses
    (a Windows program matches dozens of rarer MZ formats before "Windows Executable")."""
    for extension, name in found:
        if extension.lower() in _WELL_KNOWN:
            return name
    return found[0][1] if found else ""


def _check_zip(kind: str, data: bytes, limits: ArchiveLimits) -> ContentProblem | None:
    entries = zip_entry_count(data)
    if entries is None:
        return ContentProblem.BROKEN
    if entries > limits.members:
        return ContentProblem.BOMB
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            members = [Member(i.filename, i.compress_size, i.file_size) for i in infos]
            problem = check_archive(kind, len(data), members, limits)
            # The declared sizes are within the limits: reading "mimetype" is bounded.
            odf = kind in ODF_MIMETYPES and problem is None
            if odf and archive.read("mimetype").strip() != ODF_MIMETYPES[kind]:
                return ContentProblem.MISMATCH
            return problem
    except Exception:  # zipfile fails on a damaged directory in many ways: all are "broken"
        return ContentProblem.BROKEN


def _is_zip(data: bytes) -> bool:
    """A ZIP archive with at least one entry can be read from this file (a polyglot)."""
    if zip_entry_count(data) is None:
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return bool(archive.namelist())
    except Exception:  # no readable archive in it, whatever zipfile's complaint
        return False


async def parse_checked(
    kind: str, data: bytes, parse: Callable[..., T], *args: Any
) -> T | ContentRefused:
    """The content check first (nothing is parsed if it fails), then `parse(*args)` in a
    child process under the time and memory limits."""
    refused = check_content(kind, data, PARSED_LIMITS)
    if refused is not None:
        return refused
    parsed = await run_limited(parse, *args)
    if isinstance(parsed, OverLimit):
        return ContentRefused(ContentProblem.OVER_LIMITS, kind)
    return parsed


def parse_problem(kind: str, why: str) -> ContentRefused | None:
    """A parser's "wide" (a row of too many cells) or "long" (too many paragraphs) as a
    content refusal naming its limit; None for its other reasons."""
    problem = _PARSE_PROBLEMS.get(why)
    return None if problem is None else ContentRefused(problem, kind)
