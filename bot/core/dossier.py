"""The award dossier (hồ sơ đề nghị khen thưởng): what it holds, in which order, under which
names, and what is still missing.

The leader unit sends it up after the conference: a list of contents first, then the memo
(tờ trình), the minutes (biên bản), the vote-count records, the score table, and each
proposed unit's achievement report (báo cáo thành tích) in the memo's order. Every part has a
number that names its files (``NN_<Name>.<ext>``); a part not collected keeps its number, so
the contents list says exactly what is missing and the numbering never shifts as reports
arrive.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass


class Part(enum.StrEnum):
    CONTENTS = "contents"  # mục lục
    MEMO = "memo"  # tờ trình
    MINUTES = "minutes"  # biên bản hội nghị
    RECORDS = "records"  # biên bản kiểm phiếu
    SCORES = "scores"  # bảng điểm
    ACHIEVEMENT = "achievement"  # báo cáo thành tích of one proposed unit


ORDER = tuple(Part)  # the order of a dossier, as offices file it
STEMS = {
    Part.CONTENTS: "Muc_luc",
    Part.MEMO: "To_trinh",
    Part.MINUTES: "Bien_ban_hoi_nghi",
    Part.RECORDS: "Bien_ban_kiem_phieu",
    Part.SCORES: "Bang_diem",
    Part.ACHIEVEMENT: "Bao_cao_thanh_tich",
}


@dataclass(frozen=True, slots=True)
class Wanted:
    """A part the dossier should hold, with the extensions of the files there are for it
    (none: not collected). A document may come as several files — the DOCX, and later its
    PDF for digital signing — which share the part's number and name."""

    part: Part
    extensions: tuple[str, ...]
    unit: str = ""  # an achievement report: the unit's name, as typed
    slug: str = ""  # … and its short name in ASCII, for the file's name
    tier: str = ""  # … and the award it is proposed for (a catalog key's last word)


@dataclass(frozen=True, slots=True)
class Entry:
    number: int
    wanted: Wanted

    @property
    def part(self) -> Part:
        return self.wanted.part

    @property
    def present(self) -> bool:
        return bool(self.wanted.extensions)

    @property
    def stem(self) -> str:
        base = f"{self.number:02d}_{STEMS[self.part]}"
        return f"{base}_{self.wanted.slug}" if self.wanted.slug else base

    @property
    def names(self) -> tuple[str, ...]:
        """The part's file names in the ZIP (none when it is missing)."""
        return tuple(f"{self.stem}.{ext}" if ext else self.stem for ext in self.wanted.extensions)


def plan(wanted: Sequence[Wanted]) -> tuple[Entry, ...]:
    """The dossier's entries: the contents list first (number 00), then the parts in the
    order offices file them, each kind in the order given (the proposed units in the memo's
    order), numbered 01, 02, … whether collected or not."""
    ordered = sorted(
        (w for w in wanted if w.part is not Part.CONTENTS), key=lambda w: ORDER.index(w.part)
    )
    contents = Entry(0, Wanted(Part.CONTENTS, ("txt",)))
    return (contents, *(Entry(n, w) for n, w in enumerate(ordered, start=1)))


def missing(entries: Sequence[Entry]) -> tuple[Entry, ...]:
    """The parts not collected yet, in the dossier's order."""
    return tuple(e for e in entries if not e.present)
