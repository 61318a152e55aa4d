"""Reports in storage on both backends: versions kept, the latest counts, reviewed scores
override self scores, and two representatives confirming at the same moment."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.core.models import Account, BlocKind, Locale, Membership, Platform, Role
from bot.core.units import UnitDraft
from bot.fakes.clock import FakeClock
from bot.render import Renderer
from bot.services import reports as svc
from bot.services.actors import Actor, load_actor
from bot.services.app import Services
from bot.services.outcomes import Reason, Rejected
from storage.files import FileStore
from storage.tables import OutboxRow, SubmissionRow
from storage.uow import Database
from tests.conftest import AUDIT_KEY, BALLOT_SECRET, START

TABLE = Path(__file__).resolve().parents[2] / "templates" / "scoring-table-example.yaml"
# The example table's 14 items, in the order of the walk.
CODES: tuple[str, ...] = ("1.1", "1.2", "2.1", "2.2", "2.3", "3.1", "3.2", "4.1", "4.2", "4.3")
CODES += ("T1", "T2", "P1", "P2")
# Criteria 98, bonus 5,5 capped at 5, penalty 1: 102.
AN_VALUES = (1000, 2000, 1000, 800, 500, 1000, 1000, 1000, 1000, 500, 300, 250, 0, 100)
# Criteria 90, bonus 0, penalty 2: 88.
BINH_VALUES = (900, 1800, 900, 900, 400, 900, 900, 900, 900, 500, 0, 0, 200, 0)


@dataclass(frozen=True)
class World:
    secretary: Actor
    an: Actor  # Sở Y tế
    binh: Actor  # Sở Y tế
    cuong: Actor  # Sở Giáo dục và Đào tạo
    syt: int
    sgddt: int
    period: int


async def world(services: Services) -> World:
    """A bloc with two units, their representatives, the example table and an open period."""
    now = services.clock.now()
    async with services.db.uow() as uow:
        bloc = await uow.blocs.create(
            name="Khối VHXH",
            kind=BlocKind.KHOI,
            year=2024,
            code="VHXH",
            timezone="Asia/Ho_Chi_Minh",
            now=now,
        )
        syt, sgddt = await uow.blocs.add_units(
            bloc.id,
            [UnitDraft("Sở Y tế", "SYT"), UnitDraft("Sở Giáo dục và Đào tạo", "SGDĐT")],
            now,
        )
        people = [
            ("1000", "Nguyễn Thị Lan", None, Role.SECRETARIAT),
            ("2001", "Trần Văn An", syt.id, Role.REPRESENTATIVE),
            ("2002", "Lê Thị Bình", syt.id, Role.REPRESENTATIVE),
            ("2003", "Phạm Văn Cường", sgddt.id, Role.REPRESENTATIVE),
        ]
        for external_id, name, unit_id, role in people:
            ident = await uow.identities.create(
                platform=Platform.TELEGRAM,
                external_id=external_id,
                display_name=name,
                username=None,
                locale=Locale.VI,
                now=now,
            )
            await uow.identities.put_membership(
                Membership(ident.id, bloc.id, unit_id, frozenset({role})), now
            )
        actors = [
            await load_actor(uow, services, Account(Platform.TELEGRAM, p[0])) for p in people
        ]
        await uow.commit()
    secretary = actors[0]
    imported = await svc.import_table(
        services, secretary, filename=TABLE.name, data=TABLE.read_bytes()
    )
    assert isinstance(imported, svc.TableImported)
    opened = await svc.open_period(
        services,
        secretary,
        kind_text="tổng kết",
        title="Báo cáo tổng kết năm 2024",
        deadline_text="15/12/2024 17:00",
    )
    assert isinstance(opened, svc.PeriodOpened)
    return World(
        secretary=actors[0],
        an=actors[1],
        binh=actors[2],
        cuong=actors[3],
        syt=syt.id,
        sgddt=sgddt.id,
        period=opened.view.period.id,
    )


async def prepare(
    services: Services, actor: Actor, data: bytes, values: tuple[int, ...], unit: str = ""
) -> int:
    """A complete draft (file and every item answered) ready to confirm; returns its id."""
    step = await svc.start_report(services, actor, unit_ref=unit)
    assert isinstance(step, svc.AskFile), step
    draft = step.ctx.draft.id
    step2 = await svc.attach_file(services, actor, draft_id=draft, filename="bc.pdf", data=data)
    assert isinstance(step2, svc.AskItem), step2
    for index, value in enumerate(values):
        text = f"{value // 100},{value % 100:02d}"
        answered = await svc.answer(services, actor, draft_id=draft, index=index, text=text)
        assert not isinstance(answered, Rejected), answered
    return draft


async def submit(
    services: Services, actor: Actor, data: bytes, values: tuple[int, ...], unit: str = ""
) -> svc.Receipt:
    draft = await prepare(services, actor, data, values, unit)
    receipt = await svc.confirm(services, actor, draft_id=draft)
    assert isinstance(receipt, svc.Receipt), receipt
    return receipt


async def review(services: Services, actor: Actor, unit: str, values: tuple[int, ...]) -> None:
    step = await svc.start_review(services, actor, unit_ref=unit)
    assert isinstance(step, svc.AskItem), step
    for index, value in enumerate(values):
        await svc.answer(
            services, actor, draft_id=step.ctx.draft.id, index=index, text=str(value / 100)
        )
    done = await svc.confirm(services, actor, draft_id=step.ctx.draft.id)
    assert isinstance(done, svc.Reviewed), done


def as_entries(values: tuple[int, ...]) -> dict[str, int]:
    return dict(zip(CODES, values, strict=True))


async def test_versions_are_kept_and_the_latest_counts(services: Services) -> None:
    w = await world(services)
    first = await submit(services, w.an, b"%PDF phien ban 1", AN_VALUES)
    second = await submit(services, w.binh, b"%PDF phien ban 2", BINH_VALUES)
    other = await submit(services, w.cuong, b"%PDF-1.7 so giao duc", AN_VALUES)

    assert (first.submission.version, second.submission.version) == (1, 2)
    assert other.submission.version == 1  # versions count per unit
    async with services.db.uow() as uow:
        kept = await uow.reports.versions(w.period, w.syt)
        latest = await uow.reports.latest_by_unit(w.period)
        v1_entries = await uow.reports.entries(kept[0].id, "self")
        v2_entries = await uow.reports.entries(kept[1].id, "self")
    assert [(v.version, v.self_total_cp, v.submitted_by) for v in kept] == [
        (1, 10200, w.an.identity.id),
        (2, 8800, w.binh.identity.id),
    ]
    assert [v.file_sha256 for v in kept] == [
        hashlib.sha256(b"%PDF phien ban 1").hexdigest(),
        hashlib.sha256(b"%PDF phien ban 2").hexdigest(),
    ]
    assert services.files.read(kept[0].file_sha256) == b"%PDF phien ban 1"
    assert (v1_entries, v2_entries) == (as_entries(AN_VALUES), as_entries(BINH_VALUES))
    assert {unit: s.version for unit, s in latest.items()} == {w.syt: 2, w.sgddt: 1}
    assert latest[w.syt].total_cp == 8800  # the latest counts, even though it is lower

    status = await svc.period_status(services, w.secretary)
    assert not isinstance(status, Rejected)
    assert [
        (line.unit.short_name, line.latest and line.latest.version) for line in status.lines
    ] == [
        ("SYT", 2),
        ("SGDĐT", 1),
    ]
    # A version number is taken once per unit and period.
    async with services.db.uow() as uow:
        uow.session.add(
            SubmissionRow(
                period_id=w.period,
                unit_id=w.syt,
                version=2,
                submitted_by=w.an.identity.id,
                uploaded_by=w.an.identity.id,
                file_sha256=kept[0].file_sha256,
                file_name="trung.pdf",
                file_size=1,
                submitted_at=START,
                self_total_cp=0,
            )
        )
        with pytest.raises(IntegrityError):
            await uow.session.flush()


async def test_a_reviewed_score_overrides_the_self_score(services: Services) -> None:
    w = await world(services)
    await submit(services, w.an, b"%PDF syt", AN_VALUES)  # 102
    await submit(services, w.cuong, b"%PDF sgddt", BINH_VALUES)  # 88
    # The secretariat finds Sở Y tế's 1.2 worth 5 points less and its initiative (T1) unproven.
    reviewed = list(AN_VALUES)
    reviewed[1], reviewed[10] = 1500, 0
    await review(services, w.secretary, "SYT", tuple(reviewed))  # criteria 93, bonus 2,5: 94,5

    status = await svc.period_status(services, w.secretary)
    assert not isinstance(status, Rejected)
    syt = status.lines[0].latest
    assert syt is not None
    assert (syt.self_total_cp, syt.reviewed_total_cp, syt.total_cp) == (10200, 9450, 9450)
    sheet = await svc.score_sheet(services, w.secretary)
    assert not isinstance(sheet, Rejected)
    assert [(r.short_name, r.total_cp, r.rank) for r in sheet.rows] == [
        ("SYT", 9450, 1),
        ("SGDĐT", 8800, 2),
    ]
    assert sheet.rows[0].self_values == as_entries(AN_VALUES)
    assert sheet.rows[0].reviewed_values == as_entries(tuple(reviewed))

    # A second review replaces the first (no duplicate entries), and can drop below another unit.
    lower = list(reviewed)
    lower[1] = 500
    await review(services, w.secretary, "SYT", tuple(lower))  # 84,5
    sheet = await svc.score_sheet(services, w.secretary)
    assert not isinstance(sheet, Rejected)
    assert [(r.short_name, r.total_cp, r.rank) for r in sheet.rows] == [
        ("SYT", 8450, 2),
        ("SGDĐT", 8800, 1),
    ]
    assert sheet.rows[0].reviewed_values["1.2"] == 500
    assert len(sheet.rows[0].reviewed_values) == 14

    # A new version has no review yet: its own score counts again.
    await submit(services, w.binh, b"%PDF syt v2", BINH_VALUES)
    sheet = await svc.score_sheet(services, w.secretary)
    assert not isinstance(sheet, Rejected)
    assert [(r.short_name, r.version, r.total_cp, r.rank) for r in sheet.rows] == [
        ("SYT", 2, 8800, 1),
        ("SGDĐT", 1, 8800, 1),
    ]
    assert sheet.rows[0].reviewed_values == {}


async def test_drafts_keep_each_answer_until_confirmed(services: Services) -> None:
    w = await world(services)
    step = await svc.start_report(services, w.an)
    assert isinstance(step, svc.AskFile)
    draft = step.ctx.draft.id
    await svc.attach_file(services, w.an, draft_id=draft, filename="bc.pdf", data=b"%PDF")
    await svc.answer(services, w.an, draft_id=draft, index=0, text="9,5")
    await svc.answer(services, w.an, draft_id=draft, index=0, text="10")  # changed, not doubled
    await svc.answer(services, w.an, draft_id=draft, index=2, text="7,25")

    resumed = await svc.start_report(services, w.an)  # a restart: found again by its owner

    assert isinstance(resumed, svc.AskItem)
    assert (resumed.ctx.draft.id, resumed.index) == (draft, 1)
    assert resumed.ctx.draft.values == {"1.1": 1000, "2.1": 725}
    assert resumed.ctx.draft.file_sha256 == hashlib.sha256(b"%PDF").hexdigest()
    # Bình has a draft of his own for the same unit.
    other = await svc.start_report(services, w.binh)
    assert isinstance(other, svc.AskFile)
    assert other.ctx.draft.id != draft
    # Cancelling removes the draft and its answers.
    assert await svc.cancel_draft(services, w.an, draft_id=draft)
    async with services.db.uow() as uow:
        assert await uow.reports.draft_by_id(draft) is None
        assert [d.id for d in await uow.reports.drafts_of(w.binh.identity.id)] == [
            other.ctx.draft.id
        ]


def committed_services(db: Database, tmp_path: Path) -> Services:
    return Services(
        db=db,
        clock=FakeClock(START),
        renderer=Renderer(),
        audit_key=AUDIT_KEY,
        ballot_secret=BALLOT_SECRET,
        files=FileStore(tmp_path / "files"),
        admins=frozenset(),
    )


async def test_two_representatives_confirming_at_once_make_two_intact_versions(
    committed_db: Database, tmp_path: Path
) -> None:
    services = committed_services(committed_db, tmp_path)
    w = await world(services)
    files = {w.an.identity.id: b"%PDF cua An", w.binh.identity.id: b"%PDF cua Binh"}
    scores = {w.an.identity.id: AN_VALUES, w.binh.identity.id: BINH_VALUES}

    for round_ in range(2):
        drafts = [
            await prepare(services, actor, files[actor.identity.id], scores[actor.identity.id])
            for actor in (w.an, w.binh)
        ]

        outcomes = await asyncio.gather(
            svc.confirm(services, w.an, draft_id=drafts[0]),
            svc.confirm(services, w.binh, draft_id=drafts[1]),
        )

        receipts = [o for o in outcomes if isinstance(o, svc.Receipt)]
        assert len(receipts) == 2, outcomes
        assert sorted(r.submission.version for r in receipts) == [2 * round_ + 1, 2 * round_ + 2]

    async with services.db.uow() as uow:
        kept = await uow.reports.versions(w.period, w.syt)
        self_entries = [await uow.reports.entries(v.id, "self") for v in kept]
        leftover = await uow.reports.drafts_of(w.an.identity.id)
        leftover += await uow.reports.drafts_of(w.binh.identity.id)
    assert [v.version for v in kept] == [1, 2, 3, 4]
    for version, entries in zip(kept, self_entries, strict=True):
        who = version.submitted_by
        assert entries == as_entries(scores[who]), version.version
        assert version.file_sha256 == hashlib.sha256(files[who]).hexdigest()
        assert version.self_total_cp == {w.an.identity.id: 10200, w.binh.identity.id: 8800}[who]
        assert services.files.read(version.file_sha256) == files[who]
    assert sorted(v.submitted_by for v in kept) == sorted(
        [w.an.identity.id, w.binh.identity.id] * 2
    )
    assert leftover == []


async def test_a_double_tap_on_confirm_stores_one_version(
    committed_db: Database, tmp_path: Path
) -> None:
    """Two confirms of the same draft at once (a double tap): one version, one receipt shown
    twice, and no draft left."""
    services = committed_services(committed_db, tmp_path)
    w = await world(services)
    draft = await prepare(services, w.an, b"%PDF mot lan", AN_VALUES)

    outcomes = await asyncio.gather(
        svc.confirm(services, w.an, draft_id=draft),
        svc.confirm(services, w.an, draft_id=draft),
    )

    async with services.db.uow() as uow:
        kept = await uow.reports.versions(w.period, w.syt)
        leftover = await uow.reports.drafts_of(w.an.identity.id)
    assert [(v.version, v.self_total_cp) for v in kept] == [(1, 10200)]
    assert leftover == []
    fresh = [o for o in outcomes if isinstance(o, svc.Receipt) and not o.repeated]
    assert len(fresh) == 1, outcomes
    async with services.db.uow() as uow:
        told = await uow.session.exec(
            select(OutboxRow.chat_id).where(
                col(OutboxRow.dedup_key).startswith("notice:report_submitted_notice:")
            )
        )
        assert list(told.all()) == ["2002"]  # Bình is told once
    # The other tap either saw the version made by the first (PostgreSQL: it waited on the
    # unit's lock) or found the draft gone (SQLite: it waited to begin).
    (other,) = [o for o in outcomes if o is not fresh[0]]
    if isinstance(other, svc.Receipt):
        assert other.repeated
        assert other.submission.id == fresh[0].submission.id
    else:
        assert other == Rejected(Reason.NOT_YOUR_DRAFT)
