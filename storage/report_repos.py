"""Repositories for scoring tables, periods, drafts, submissions and score entries."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.reports import Draft, LatePolicy, Period, PeriodKind, Submission
from bot.core.scoring import Item, ItemKind, ScoringTable
from storage.tables import (
    PeriodRow,
    PeriodTargetRow,
    ReportDraftRow,
    ScoreEntryRow,
    ScoringTableRow,
    SubmissionRow,
    UnitRow,
)


def _id(value: int | None) -> int:
    if value is None:
        raise RuntimeError("row has no id yet: flush before reading it")
    return value


def _table(row: ScoringTableRow) -> ScoringTable:
    items = tuple(
        Item(i["code"], i["title"], int(i["max_cp"]), ItemKind(i["kind"]), i.get("group", ""))
        for i in json.loads(row.items)
    )
    return ScoringTable(row.title, items, row.bonus_cap_cp, row.penalty_cap_cp)


def _period(row: PeriodRow) -> Period:
    return Period(
        id=_id(row.id),
        bloc_id=row.bloc_id,
        kind=PeriodKind(row.kind),
        title=row.title,
        deadline=row.deadline,
        late_policy=LatePolicy(row.late_policy),
        max_bytes=row.max_bytes,
        accepted_types=tuple(t for t in row.accepted_types.split(",") if t),
        table_id=row.table_id,
        created_at=row.created_at,
        conference_id=row.conference_id,
    )


def _submission(row: SubmissionRow) -> Submission:
    return Submission(
        id=_id(row.id),
        period_id=row.period_id,
        unit_id=row.unit_id,
        version=row.version,
        submitted_by=row.submitted_by,
        uploaded_by=row.uploaded_by,
        on_behalf=row.on_behalf,
        file_sha256=row.file_sha256,
        file_name=row.file_name,
        file_size=row.file_size,
        late=row.late,
        submitted_at=row.submitted_at,
        self_total_cp=row.self_total_cp,
        reviewed_total_cp=row.reviewed_total_cp,
        returned_at=row.returned_at,
        return_comment=row.return_comment,
        resubmit_until=row.resubmit_until,
    )


class ScoringRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(
        self, *, bloc_id: int, year: int, table: ScoringTable, created_by: int, now: datetime
    ) -> tuple[int, int]:
        """Store a new version of the bloc's table for the year; returns (id, version)."""
        latest = (
            await self.s.exec(
                select(func.max(ScoringTableRow.version)).where(
                    ScoringTableRow.bloc_id == bloc_id, ScoringTableRow.year == year
                )
            )
        ).one()
        version = (latest or 0) + 1
        items = [
            {
                "code": i.code,
                "title": i.title,
                "max_cp": i.max_cp,
                "kind": i.kind.value,
                "group": i.group,
            }
            for i in table.items
        ]
        row = ScoringTableRow(
            bloc_id=bloc_id,
            year=year,
            version=version,
            title=table.title,
            items=json.dumps(items, ensure_ascii=False),
            bonus_cap_cp=table.bonus_cap_cp,
            penalty_cap_cp=table.penalty_cap_cp,
            created_by=created_by,
            created_at=now,
        )
        self.s.add(row)
        await self.s.flush()
        return _id(row.id), version

    async def latest(self, bloc_id: int, year: int) -> tuple[int, int, ScoringTable] | None:
        row = (
            await self.s.exec(
                select(ScoringTableRow)
                .where(ScoringTableRow.bloc_id == bloc_id, ScoringTableRow.year == year)
                .order_by(col(ScoringTableRow.version).desc())
            )
        ).first()
        return None if row is None else (_id(row.id), row.version, _table(row))

    async def versions(self, bloc_id: int, year: int) -> list[tuple[int, ScoringTable, datetime]]:
        """Every version of the bloc's table for the year, the newest first."""
        rows = (
            await self.s.exec(
                select(ScoringTableRow)
                .where(ScoringTableRow.bloc_id == bloc_id, ScoringTableRow.year == year)
                .order_by(col(ScoringTableRow.version).desc())
            )
        ).all()
        return [(row.version, _table(row), row.created_at) for row in rows]

    async def year_of(self, table_id: int) -> int | None:
        row = await self.s.get(ScoringTableRow, table_id)
        return None if row is None else row.year

    async def get(self, table_id: int) -> tuple[int, ScoringTable]:
        row = await self.s.get_one(ScoringTableRow, table_id)
        return row.version, _table(row)


class ReportRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    # --- periods ------------------------------------------------------------------------

    async def add_period(
        self,
        *,
        bloc_id: int,
        kind: PeriodKind,
        title: str,
        deadline: datetime,
        late_policy: LatePolicy,
        max_bytes: int,
        accepted_types: tuple[str, ...],
        table_id: int,
        created_by: int,
        now: datetime,
        conference_id: int | None = None,
    ) -> Period:
        row = PeriodRow(
            bloc_id=bloc_id,
            kind=kind.value,
            title=title,
            deadline=deadline,
            late_policy=late_policy.value,
            max_bytes=max_bytes,
            accepted_types=",".join(accepted_types),
            table_id=table_id,
            created_by=created_by,
            created_at=now,
            conference_id=conference_id,
        )
        self.s.add(row)
        await self.s.flush()
        return _period(row)

    async def set_targets(self, period_id: int, unit_ids: set[int]) -> None:
        """The units that owe a report in the period (an achievement period's proposed units)."""
        for unit_id in sorted(unit_ids):
            self.s.add(PeriodTargetRow(period_id=period_id, unit_id=unit_id))
        await self.s.flush()

    async def targets(self, period_id: int) -> set[int] | None:
        """The units that owe a report in the period; None: every unit of the bloc."""
        rows = await self.s.exec(
            select(PeriodTargetRow.unit_id).where(PeriodTargetRow.period_id == period_id)
        )
        found = set(rows.all())
        return found or None

    async def of_conference(self, conference_id: int) -> Period | None:
        """The conference's achievement period (the latest, if it was opened twice)."""
        rows = await self.s.exec(
            select(PeriodRow)
            .where(PeriodRow.conference_id == conference_id)
            .order_by(col(PeriodRow.id).desc())
        )
        row = rows.first()
        return None if row is None else _period(row)

    async def period(self, period_id: int) -> Period | None:
        row = await self.s.get(PeriodRow, period_id)
        return None if row is None else _period(row)

    async def periods(self, bloc_id: int) -> list[Period]:
        rows = await self.s.exec(
            select(PeriodRow).where(PeriodRow.bloc_id == bloc_id).order_by(col(PeriodRow.id))
        )
        return [_period(r) for r in rows.all()]

    async def set_deadline(self, period_id: int, deadline: datetime) -> None:
        row = await self.s.get_one(PeriodRow, period_id)
        row.deadline = deadline

    # --- drafts -------------------------------------------------------------------------

    async def draft(
        self, *, period_id: int, unit_id: int, identity_id: int, purpose: str
    ) -> Draft | None:
        row = (
            await self.s.exec(
                select(ReportDraftRow).where(
                    ReportDraftRow.period_id == period_id,
                    ReportDraftRow.unit_id == unit_id,
                    ReportDraftRow.identity_id == identity_id,
                    ReportDraftRow.purpose == purpose,
                )
            )
        ).first()
        return None if row is None else await self._draft(row)

    async def representatives_draft(
        self, *, period_id: int, unit_id: int, purpose: str, other_than: int
    ) -> Draft | None:
        """The unit's own draft (not one on its behalf) touched last by someone else."""
        row = (
            await self.s.exec(
                select(ReportDraftRow)
                .where(
                    ReportDraftRow.period_id == period_id,
                    ReportDraftRow.unit_id == unit_id,
                    ReportDraftRow.purpose == purpose,
                    col(ReportDraftRow.on_behalf).is_(False),
                    ReportDraftRow.identity_id != other_than,
                )
                .order_by(col(ReportDraftRow.updated_at).desc(), col(ReportDraftRow.id).desc())
            )
        ).first()
        return None if row is None else await self._draft(row)

    async def draft_by_id(self, draft_id: int) -> Draft | None:
        row = await self.s.get(ReportDraftRow, draft_id)
        return None if row is None else await self._draft(row)

    async def drafts_of(self, identity_id: int) -> list[Draft]:
        rows = await self.s.exec(
            select(ReportDraftRow)
            .where(ReportDraftRow.identity_id == identity_id)
            .order_by(col(ReportDraftRow.updated_at).desc())
        )
        return [await self._draft(r) for r in rows.all()]

    async def _draft(self, row: ReportDraftRow) -> Draft:
        entries = await self.s.exec(select(ScoreEntryRow).where(ScoreEntryRow.draft_id == row.id))
        return Draft(
            id=_id(row.id),
            period_id=row.period_id,
            unit_id=row.unit_id,
            identity_id=row.identity_id,
            purpose=row.purpose,
            on_behalf=row.on_behalf,
            submission_id=row.submission_id,
            file_sha256=row.file_sha256,
            file_name=row.file_name,
            file_size=row.file_size,
            values={e.code: e.value_cp for e in entries.all()},
        )

    async def start_draft(
        self,
        *,
        period_id: int,
        unit_id: int,
        identity_id: int,
        purpose: str,
        on_behalf: bool,
        submission_id: int | None,
        now: datetime,
    ) -> Draft:
        row = ReportDraftRow(
            period_id=period_id,
            unit_id=unit_id,
            identity_id=identity_id,
            purpose=purpose,
            on_behalf=on_behalf,
            submission_id=submission_id,
            created_at=now,
            updated_at=now,
        )
        self.s.add(row)
        await self.s.flush()
        return await self._draft(row)

    async def set_draft_file(
        self, draft_id: int, *, sha256: str, name: str, size: int, now: datetime
    ) -> None:
        row = await self.s.get_one(ReportDraftRow, draft_id)
        row.file_sha256, row.file_name, row.file_size, row.updated_at = sha256, name, size, now

    async def set_draft_value(
        self, draft_id: int, code: str, value_cp: int, now: datetime
    ) -> None:
        entry = (
            await self.s.exec(
                select(ScoreEntryRow).where(
                    ScoreEntryRow.draft_id == draft_id, ScoreEntryRow.code == code
                )
            )
        ).first()
        if entry is None:
            self.s.add(
                ScoreEntryRow(draft_id=draft_id, kind="draft", code=code, value_cp=value_cp)
            )
        else:
            entry.value_cp = value_cp
        row = await self.s.get_one(ReportDraftRow, draft_id)
        row.updated_at = now
        await self.s.flush()

    async def clear_draft_value(self, draft_id: int, code: str) -> None:
        await self.s.exec(
            delete(ScoreEntryRow).where(
                col(ScoreEntryRow.draft_id) == draft_id, col(ScoreEntryRow.code) == code
            )
        )

    async def delete_draft(self, draft_id: int) -> None:
        await self.s.exec(delete(ScoreEntryRow).where(col(ScoreEntryRow.draft_id) == draft_id))
        await self.s.exec(delete(ReportDraftRow).where(col(ReportDraftRow.id) == draft_id))

    # --- submissions --------------------------------------------------------------------

    async def lock_unit(self, unit_id: int) -> None:
        """Serialise version numbering for one unit (two representatives confirming at once)."""
        await self.s.exec(select(UnitRow.id).where(UnitRow.id == unit_id).with_for_update())

    async def lock_draft(self, draft_id: int) -> bool:
        """Whether the draft still exists, read from the database (not the session's copy)
        and locked until the transaction ends: a second confirm of it finds it gone."""
        found = (
            await self.s.exec(
                select(ReportDraftRow.id).where(ReportDraftRow.id == draft_id).with_for_update()
            )
        ).first()
        return found is not None

    async def add_submission(
        self,
        *,
        period_id: int,
        unit_id: int,
        submitted_by: int,
        uploaded_by: int,
        on_behalf: bool,
        file_sha256: str,
        file_name: str,
        file_size: int,
        late: bool,
        now: datetime,
        values: dict[str, int],
        self_total_cp: int,
    ) -> Submission:
        latest = (
            await self.s.exec(
                select(func.max(SubmissionRow.version)).where(
                    SubmissionRow.period_id == period_id, SubmissionRow.unit_id == unit_id
                )
            )
        ).one()
        row = SubmissionRow(
            period_id=period_id,
            unit_id=unit_id,
            version=(latest or 0) + 1,
            submitted_by=submitted_by,
            uploaded_by=uploaded_by,
            on_behalf=on_behalf,
            file_sha256=file_sha256,
            file_name=file_name,
            file_size=file_size,
            late=late,
            submitted_at=now,
            self_total_cp=self_total_cp,
        )
        self.s.add(row)
        await self.s.flush()
        self.s.add_all(
            ScoreEntryRow(submission_id=_id(row.id), kind="self", code=code, value_cp=value)
            for code, value in sorted(values.items())
        )
        await self.s.flush()
        return _submission(row)

    async def submission(self, submission_id: int) -> Submission | None:
        row = await self.s.get(SubmissionRow, submission_id)
        return None if row is None else _submission(row)

    async def versions(self, period_id: int, unit_id: int) -> list[Submission]:
        rows = await self.s.exec(
            select(SubmissionRow)
            .where(SubmissionRow.period_id == period_id, SubmissionRow.unit_id == unit_id)
            .order_by(col(SubmissionRow.version))
        )
        return [_submission(r) for r in rows.all()]

    async def latest_by_unit(self, period_id: int) -> dict[int, Submission]:
        """The latest version of every unit that submitted (the one that counts)."""
        rows = await self.s.exec(
            select(SubmissionRow)
            .where(SubmissionRow.period_id == period_id)
            .order_by(col(SubmissionRow.unit_id), col(SubmissionRow.version))
        )
        latest: dict[int, Submission] = {}
        for row in rows.all():
            latest[row.unit_id] = _submission(row)
        return latest

    async def entries(self, submission_id: int, kind: str) -> dict[str, int]:
        rows = await self.s.exec(
            select(ScoreEntryRow).where(
                ScoreEntryRow.submission_id == submission_id, ScoreEntryRow.kind == kind
            )
        )
        return {r.code: r.value_cp for r in rows.all()}

    async def set_reviewed(
        self,
        submission_id: int,
        values: dict[str, int],
        *,
        total_cp: int,
        reviewer: int,
        now: datetime,
    ) -> None:
        await self.s.exec(
            delete(ScoreEntryRow).where(
                col(ScoreEntryRow.submission_id) == submission_id,
                col(ScoreEntryRow.kind) == "reviewed",
            )
        )
        self.s.add_all(
            ScoreEntryRow(submission_id=submission_id, kind="reviewed", code=c, value_cp=v)
            for c, v in sorted(values.items())
        )
        row = await self.s.get_one(SubmissionRow, submission_id)
        row.reviewed_total_cp, row.reviewed_by, row.reviewed_at = total_cp, reviewer, now
        await self.s.flush()

    async def set_returned(
        self, submission_id: int, *, comment: str, until: datetime, now: datetime
    ) -> None:
        row = await self.s.get_one(SubmissionRow, submission_id)
        row.returned_at, row.return_comment, row.resubmit_until = now, comment, until
