"""Every message template renders in every locale; refusals are exhaustive; names are escaped."""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import fields, is_dataclass, replace
from datetime import UTC, datetime, time
from typing import Any

import pytest

from bot.core.deadlines import QuietHours, ReminderSettings
from bot.core.dossier import Part, Wanted, plan
from bot.core.files import STORED_LIMITS, ContentProblem
from bot.core.models import (
    Bloc,
    BlocKind,
    BlocLevel,
    HandedOut,
    Identity,
    Locale,
    Platform,
    Role,
    Unit,
)
from bot.core.reports import Draft, LatePolicy, Period, PeriodKind, Submission, UnitStatus
from bot.core.scoring import (
    GroupTotal,
    Item,
    ItemKind,
    ScoringTable,
    TableProblem,
    TableRowProblem,
    Totals,
    ValueProblem,
)
from bot.core.units import BadRow, RowProblem, UnitTie
from bot.core.voting import (
    Ballot,
    BallotKind,
    BallotStatus,
    CastRejection,
    Choice,
    Option,
    OptionKind,
    default_rules,
)
from bot.render import LOCALES, Renderer
from bot.services.announce import Announced, Targets
from bot.services.blocs import LevelView
from bot.services.covenant import CovenantSet, CovenantView, Signed
from bot.services.deadlines import Acknowledged, DeadlineLine, DeadlinesView, ToCancel
from bot.services.dossier import CollectionOpened, Dossier
from bot.services.exports import ScoreSheet
from bot.services.filecheck import ContentRefused
from bot.services.minutes import Discussion, DiscussionItem, Paperwork
from bot.services.newyear import NewYearPlan
from bot.services.outcomes import Reason
from bot.services.reports import (
    AskItem,
    ChoosePeriod,
    KeptDraft,
    PeriodStatus,
    PeriodView,
    Returned,
    UnitLine,
    WalkContext,
)
from bot.services.secret_ballots import ReceiptFound
from bot.services.standings import StandingRow, StandingsView
from bot.services.summary import AwardLine, SummaryData
from bot.services.units import UnitsView, UnitView
from bot.services.voting import BallotLine, CheckedIn, ConferenceView, Decided, VoteView
from handlers.texts import to_plain
from storage.covenant_repos import Covenant, Signature
from storage.vote_repos import BallotInfo, Conference

HOSTILE = "<b>Sở & Ban</b>"
UNIT = Unit(id=1, bloc_id=1, name=HOSTILE, short_name="S&B", contact="<i>x</i>")
BLOC = Bloc(
    id=1, name=HOSTILE, kind=BlocKind.KHOI, year=2024, code="KTĐ", timezone="Asia/Ho_Chi_Minh"
)
# A provincial bloc with its own addressee and regulation (two legal bases), just changed.
LEVEL = LevelView(
    replace(
        BLOC,
        level=BlocLevel.PROVINCE,
        reports_to=HOSTILE,
        regulation=f"Quy chế {HOSTILE}\nHướng dẫn số 01/HD-BTĐKT",
    ),
    (("gov_flag", 1), ("province_flag", 2), ("pm_cert", 1), ("chair_cert", 3)),
    ("level", "reports_to"),
)
PERSON = Identity(id=1, display_name="<script>alert(1)</script>", locale=Locale.VI)
UNIT_VIEW = UnitView(number=1, unit=UNIT, representatives=(PERSON,), open_invites=1)
JOIN = {
    "person": HOSTILE,
    "bloc": HOSTILE,
    "unit": HOSTILE,
    "role": "representative",
    "moved_from": HOSTILE,
}

TABLE = ScoringTable(
    title=HOSTILE,
    items=(
        Item("1.1", HOSTILE, 2000, ItemKind.CRITERION, HOSTILE),
        Item("T1", "Thưởng", 300, ItemKind.BONUS),
        Item("P1", "Trừ", 500, ItemKind.PENALTY),
    ),
    bonus_cap_cp=200,
    penalty_cap_cp=500,
)
WHEN = datetime(2022, 12, 15, 10, 0, tzinfo=UTC)
PERIOD = Period(
    1, 1, PeriodKind.YEAR_END, HOSTILE, WHEN, LatePolicy.ACCEPT, 20 * 1048576, ("pdf", "docx"), 1
)
PVIEW = PeriodView(PERIOD, 1, 2, "Asia/Ho_Chi_Minh", 3, 10)
SUBMISSION = Submission(
    1, 1, 1, 2, 1, 1, True, "ab" * 32, HOSTILE, 123456, True, WHEN, 9550, 9000, WHEN, HOSTILE, WHEN
)
DRAFT = Draft(
    1, 1, 1, 1, "submit", True, None, "ab" * 32, HOSTILE, 10, {"1.1": 1950, "T1": 300, "P1": 100}
)
CTX = WalkContext(BLOC, PERIOD, UNIT, TABLE, 2, DRAFT, SUBMISSION, {"1.1": 2000})
SUMS = Totals(1950, 200, 100, 2050, True)
STATUS = PeriodStatus(
    PVIEW,
    (UnitLine(1, UNIT, UnitStatus.LATE, SUBMISSION), UnitLine(2, UNIT, UnitStatus.MISSING, None)),
)
TZ = "Asia/Ho_Chi_Minh"

UNIT2 = Unit(id=2, bloc_id=1, name="Sở Y tế", short_name="SYT")
OPTIONS = (Option(0, OptionKind.UNIT, 1), Option(1, OptionKind.UNIT, 2))
BALLOT = Ballot(
    1,
    BallotKind.AWARD,
    OPTIONS,
    default_rules(BallotKind.AWARD, quota=2),
    WHEN,
    WHEN,
    BallotStatus.OPEN,
)
INFO = BallotInfo(BALLOT, 1, 1, "", "chair_cert", 4, 2, None, None)
CONFERENCE = Conference(
    1,
    1,
    2024,
    WHEN,
    HOSTILE,
    1,
    HOSTILE,
    HOSTILE,
    (HOSTILE,),
    HOSTILE,
    chair_title=HOSTILE,
    signer=HOSTILE,
    signer_title=HOSTILE,
    deputy=HOSTILE,
    deputy_title=HOSTILE,
    delegations=HOSTILE,
    ended_at=WHEN,
)
CONF_VIEW = ConferenceView(
    BLOC, CONFERENCE, UNIT, (UNIT,), (UNIT2,), False, 1, (BallotLine(INFO, 1, 1, False),)
)
NAMES = {1: HOSTILE, 2: "Sở Y tế"}
VOTE_VIEW = VoteView(
    INFO, 1, BLOC, UNIT, NAMES, (0,), 1, Choice((1,)), 1, 2, Choice((0,), other_text=HOSTILE)
)
BALLOT_CTX = {**VOTE_VIEW.context, "reason": HOSTILE}
RESULT = {
    "ballot": VOTE_VIEW.context,
    "issued": 12,
    "returned": 11,
    "valid": 10,
    "invalid": 1,
    "blank": 1,
    "base_count": 12,
    "rows": [
        {
            "index": 0,
            "kind": "unit",
            "unit": HOSTILE,
            "label": "",
            "votes": 9,
            "percent_tenths": 750,
            "passes": True,
        }
    ],
    "decided": [HOSTILE],
    "decided_by": "score",
    "fewer_than_quota": True,
    "quota": 2,
    "approved": False,
    "tie": [HOSTILE, "B"],
    "tie_votes": 3,
    "tie_percent": 750,
    "seats_left": 1,
    "runoff_number": 8,
    "awaiting": [HOSTILE],
    "other_opinions": [{"unit": HOSTILE, "text": HOSTILE}],
    "receipts": [],
}

# Secret ballots. The unit of VOTE_VIEW chose "Sở Y tế" (option 1): a secret ballot's views
# never show it; the open one's do.
CHOSEN = "Sở Y tế"
RECEIPT = "0000-0000-00A6"
SEALED_VIEW = replace(VOTE_VIEW, selection=(), current=None, pending=None, voted=True)
# A secret ballot opened while the bloc published receipts: its voters are told so.
PUBLISHING_INFO = replace(INFO, publish_receipts=True)
PUBLISHING_VIEW = replace(SEALED_VIEW, info=PUBLISHING_INFO)
OPEN_INFO = replace(
    PUBLISHING_INFO, ballot=replace(BALLOT, rules=replace(BALLOT.rules, secret=False))
)
PUBLISHED_NOTE = {
    Locale.VI: "\nTheo quy chế của khối, sau khi kiểm phiếu bot công bố danh sách "
    "«mã biên nhận → lựa chọn».\n",
    Locale.EN: '\nBy the bloc\'s rules, the list "receipt code → choice" is published after '
    "the count.\n",
}
OPEN_CTX = {**BALLOT_CTX, "number": 2, "secret": False, "closes_at": None}
PUBLISHED = [
    {"receipt": "0000-0000-0007", "blank": True, "options": []},
    {"receipt": RECEIPT, "blank": False, "options": VOTE_VIEW.context["options"]},
]
COUNTED = ReceiptFound(1, True, None)
CHECKED = {"receipt": RECEIPT, "bloc": HOSTILE, "ballot": BALLOT_CTX}

TZ = "Asia/Ho_Chi_Minh"
DEADLINE_LINES = tuple(
    DeadlineLine(
        number=n,
        key=f"{kind}:{n}",
        kind=kind,
        title=HOSTILE,
        ballot=BALLOT_CTX if kind == "ballot" else None,
        due=WHEN,
        done=1,
        total=3,
        missing=(HOSTILE, "Sở Y tế"),
        acted=n % 2 == 0,
        action=None,
    )
    for n, kind in enumerate(("report", "ballot", "custom", "covenant"), start=1)
)
DEADLINES_VIEW = DeadlinesView(
    replace(BLOC, reminders=ReminderSettings(quiet=QuietHours(time(22), time(6)))),
    DEADLINE_LINES,
    True,
    HOSTILE,
)
COVENANT = Covenant(4, 1, 2025, HOSTILE + "\n" + HOSTILE, WHEN, WHEN, WHEN)
COVENANT_VIEW = CovenantView(
    BLOC,
    2025,
    COVENANT,
    (UNIT, replace(UNIT, id=UNIT.id + 1, name="Sở Y tế")),
    {UNIT.id: Signature(UNIT.id, 7, "0" * 64, WHEN)},
    {7: HOSTILE},
    UNIT,
    True,
)
STANDINGS = StandingsView(
    BLOC,
    PERIOD,
    (
        StandingRow(1, UNIT, 10200, True, "submitted", True),
        StandingRow(1, UNIT, 10200, False, "late", False),
        StandingRow(None, UNIT, None, False, "missing", False),
    ),
    [{**BALLOT_CTX, "cast": 3}],
    12,
)
HANDED_OUT = (
    HandedOut(HOSTILE, HOSTILE, 7, 1, 0, (HOSTILE, "Sở Y tế")),
    HandedOut("Ủy ban nhân dân tỉnh", "Cờ thi đua", names=(HOSTILE,)),
)
SUMMARY = SummaryData(
    BLOC,
    replace(
        CONFERENCE,
        summary_movements=HOSTILE,
        summary_closing=HOSTILE,
        launch=HOSTILE,
        handed_out=HANDED_OUT,
    ),
    HOSTILE,
    9,
    12,
    True,
    (AwardLine("gov_flag", (HOSTILE,)), AwardLine("chair_cert", (HOSTILE, "Sở Y tế"))),
    HOSTILE,
    HOSTILE,
    (11, 12),
)
NEW_YEAR = NewYearPlan(
    BLOC, 2024, UNIT, "elected", replace(UNIT2, name="Ban Dân tộc"), "rotation", (11, 12)
)
PAPERWORK = Paperwork(BLOC, CONFERENCE, b"", b"", b"", 7, 9, 12, 6, "ab" * 32)
ACK = Acknowledged(HOSTILE, WHEN, TZ, HOSTILE, False, HOSTILE, WHEN)
ACHIEVEMENT = replace(PERIOD, kind=PeriodKind.ACHIEVEMENT, conference_id=1)
ACH_CTX = replace(CTX, period=ACHIEVEMENT, table=ScoringTable(HOSTILE, ()))
DOSSIER_ENTRIES = plan(
    [
        Wanted(Part.MEMO, ("docx",)),
        Wanted(Part.MINUTES, ("docx",)),
        Wanted(Part.RECORDS, ("docx",)),
        Wanted(Part.SCORES, ()),
        Wanted(Part.ACHIEVEMENT, ("pdf",), unit=HOSTILE, slug="SGD", tier="chair_cert"),
        Wanted(Part.ACHIEVEMENT, (), unit="Sở Y tế", slug="SYT", tier="gov_flag"),
    ]
)
DOSSIER = Dossier("Ho_so.zip", b"", DOSSIER_ENTRIES, 2024, 3)

SAMPLES: dict[str, dict[str, Any]] = {
    "achievement_opened": {
        "opened": CollectionOpened(replace(PVIEW, period=ACHIEVEMENT), (HOSTILE, "Sở Y tế"), 2024)
    },
    "achievement_opened_notice": {
        "bloc": HOSTILE,
        "title": HOSTILE,
        "year": 2024,
        "deadline": WHEN,
        "tz": TZ,
    },
    "dossier_caption": {"d": DOSSIER, "form": "names"},
    "dossier_contents": {
        "bloc": BLOC,
        "conference": CONFERENCE,
        "entries": DOSSIER_ENTRIES,
        "sent": {HOSTILE: SUBMISSION},
        "tz": TZ,
    },
    "refused_not_proposed": {"unit": HOSTILE, "title": HOSTILE},
    "refused_no_proposals": {"year": 2024},
    "refused_achievement_open": {"number": 3, "title": HOSTILE},
    "refused_dossier_too_large": {"max_mb": 45, "size_mb": 61, "number": 3},
    "conference_view": {"view": CONF_VIEW},
    "ballot_list": {"view": CONF_VIEW},
    "ballots_created": {"view": CONF_VIEW},
    "ballot_created": {"number": 8},
    "ballot_opened": {"ballot": BALLOT_CTX, "units": 12},
    "ballot_opened_notice": {"ballot": BALLOT_CTX},
    "ballot_group_opened": {"ballot": BALLOT_CTX, "units": 12},
    "ballot_result": {**RESULT, "receipts": PUBLISHED},
    "ballot_group_turnout": {
        "bloc": HOSTILE,
        "rows": [{**BALLOT_CTX, "cast": 3}, {**OPEN_CTX, "cast": 12}],
        "units": 12,
        "bot_username": "thidua_bot",
    },
    "ballot_secret_set": {"ballot": BALLOT_CTX},
    "bloc_receipts_set": {"publish": True},
    "bloc_receipts_warning": {"publish": False},
    "receipt_result": {**CHECKED, "found": COUNTED, "choice": PUBLISHED[1]},
    "ballot_extended": {"ballot": BALLOT_CTX},
    "ballot_scheduled": {
        "ballot": BALLOT_CTX,
        "opens_at": WHEN,
        "closes_at": WHEN,
        "tz": "Asia/Ho_Chi_Minh",
    },
    "ballot_auto_opened": {"ballot": BALLOT_CTX, "units": 12},
    "ballot_auto_waiting": {
        "ballot": BALLOT_CTX,
        "reason": "no_quorum",
        "missing": 2,
        "present": 6,
        "units": 12,
    },
    "ballot_auto_missed": {"ballot": BALLOT_CTX},
    "ballot_extended_notice": {"ballot": BALLOT_CTX},
    "ballot_cancelled": {"ballot": BALLOT_CTX},
    "ballot_cancelled_notice": {"ballot": BALLOT_CTX, "reason": HOSTILE},
    "ballot_decided": {"decided": Decided(BALLOT_CTX, UNIT)},
    "vote_written": {"view": VOTE_VIEW, "replaced": True},
    "vote_list": {"views": [VOTE_VIEW]},
    "vote_list_button": {"view": VOTE_VIEW},
    "vote_ballot": {"view": VOTE_VIEW},
    "vote_option_label": {"option": VOTE_VIEW.context["options"][0], "chosen": True},
    "vote_review_button": {"count": 1, "max": 2},
    "vote_confirm": {"view": VOTE_VIEW},
    "vote_done": {"view": SEALED_VIEW, "replaced": False, "receipt": RECEIPT},
    "vote_unchanged": {"view": VOTE_VIEW},
    "reminder": {
        "kind": "report",
        "title": "Báo cáo tổng kết năm 2024",
        "ballot": None,
        "unit": "Sở Y tế",
        "due": datetime(2024, 12, 20, 10, tzinfo=UTC),
        "tz": "Asia/Ho_Chi_Minh",
        "days": 2,
        "hours": 3,
        "minutes": 5,
    },
    "member_unreachable": {"person": "Trần Văn An", "unit": "Sở Y tế"},
    "digest": {
        "bloc": "Khối thi đua Văn hóa - Xã hội",
        "day": datetime(2024, 12, 9, tzinfo=UTC).date(),
        "tz": "Asia/Ho_Chi_Minh",
        "rows": [
            {
                "kind": "report",
                "title": "Báo cáo tổng kết năm 2024",
                "ballot": None,
                "due": datetime(2024, 12, 15, 10, tzinfo=UTC),
                "done": 1,
                "total": 3,
                "missing": ["Sở Giáo dục và Đào tạo", "Sở Văn hóa, Thể thao và Du lịch"],
            }
        ],
    },
    "deadlines_view": {"view": DEADLINES_VIEW},
    "covenant_view": {"view": COVENANT_VIEW},
    "standings_view": {"view": STANDINGS},
    "standings_caption": {"view": STANDINGS},
    "standings_chart": {"view": STANDINGS},
    "summary": {"s": SUMMARY},
    "summary_posted": {"members": 0},
    "handed_out_list": {"s": SUMMARY},
    "discussion_list": {
        "d": Discussion(
            2024,
            (
                DiscussionItem("report", "1. Tổng kết công tác thi đua.", f"{HOSTILE}\nÝ kiến 2"),
                DiscussionItem("awards", "2. Bình xét, đề nghị khen thưởng.", ""),
            ),
        ),
        "limit": 4000,
    },
    "refused_handed_out_incomplete": {"missing": "award_form"},
    "refused_bad_count": {"text": HOSTILE, "max": 9999},
    "refused_too_many_handed_out": {"limit": 20},
    "refused_unknown_handed_out": {"number": 3, "count": 2},
    "minutes_subject": {"s": SUMMARY},
    "zalo_welcome": {"name": HOSTILE},
    "zalo_pick_number": {"typed": HOSTILE, "choices": ["1", "2", "0"]},
    "zalo_pick_ack": {"view": DEADLINES_VIEW, "numbers": [1, 2]},
    "zalo_telegram_only": {"command": "ballot", "web": True},
    "zalo_report_elsewhere": {"web": True},
    "zalo_stranger_quiet": {"minutes": 42},
    "vote_not_cast": {"number": 6},
    "report_unit_draft_kept": {"kept": KeptDraft(HOSTILE, 5, HOSTILE)},
    "link_code": {
        "code": "ABCD-EFGH",
        "minutes": 10,
        "expires_at": WHEN,
        "tz": "Asia/Ho_Chi_Minh",
        "platform": "telegram",
    },
    "web_link": {
        "url": "https://thidua.example.vn/web/signin/" + "x" * 43,
        "expires_at": WHEN,
        "tz": "Asia/Ho_Chi_Minh",
        "secretariat": True,
    },
    "web_signed_out": {"count": 2},
    "screen_link": {
        "url": "https://thidua.example.vn/web/screen/" + "x" * 43,
        "expires_at": WHEN,
        "tz": "Asia/Ho_Chi_Minh",
    },
    "screen_revoked": {"count": 2},
    "linked": {"name": HOSTILE, "platforms": ["telegram", "zalo"], "blocs": [HOSTILE]},
    "link_offer": {"name": HOSTILE, "platforms": ["telegram"], "blocs": [HOSTILE]},
    "link_notice": {"platform": "zalo", "name": HOSTILE},
    "refused_not_allowed_create": {"account": "telegram:" + HOSTILE},
    "refused_link_taken": {"platform": "zalo"},
    "refused_link_conflict": {"bloc": HOSTILE},
    "refused_link_rate_limited": {"minutes": 7},
    "refused_venue_code_needed": {"place": HOSTILE},
    "refused_venue_code_wrong": {"place": HOSTILE},
    "zalo_quota_warning": {
        "sent": 2400,
        "quota": 3000,
        "left": 600,
        "low": 90,
        "month": 11,
        "year": 2024,
    },
    "new_year_plan": {"plan": NEW_YEAR},
    "new_year_notice": {"plan": NEW_YEAR},
    "new_year_done": {"plan": NEW_YEAR},
    "new_year_kept": {"year": 2024},
    "refused_ballots_still_open": {"numbers": [1, 3]},
    "refused_covenant_file_type": {"types": ".txt, .docx"},
    "refused_year_already_closed": {"year": 2024, "current": 2025},
    "refused_no_such_year": {"year": 2023},
    "minutes_caption": {"p": PAPERWORK},
    "records_caption": {"p": PAPERWORK},
    "pdf_note": {"note": "pdf_failed", "names": ["to-trinh.docx", "<b>x</b>.docx"]},
    "memo_caption": {"p": PAPERWORK},
    "minutes_agenda": {
        "s": SUMMARY,
        "keys": ["report", "awards", "officers", "covenant"],
        "approval": True,
        "bloc_kind": "khoi",
    },
    "minutes_ballot": {"ballot": BALLOT_CTX},
    "minutes_conclusions": {"s": SUMMARY, "bloc_kind": "khoi"},
    "covenant_set": {"done": CovenantSet(COVENANT, TZ, 9)},
    "covenant_notice": {"bloc": HOSTILE, "year": 2025, "due": WHEN, "tz": TZ},
    "covenant_signed": {"done": Signed(2025, HOSTILE, True, HOSTILE, WHEN, TZ)},
    "deadline_added": {"number": 2, "title": HOSTILE, "due": WHEN, "tz": TZ, "told": 7},
    "deadline_added_notice": {"title": HOSTILE, "due": WHEN, "tz": TZ, "bloc": HOSTILE},
    "deadline_acknowledged": {"ack": ACK},
    "deadline_cancelled": {"title": HOSTILE},
    "deadline_cancel_confirm": {"deadline": ToCancel(3, HOSTILE, WHEN, TZ)},
    "reminders_set": {
        "rows": DEADLINES_VIEW.offsets,
        "quiet": DEADLINES_VIEW.settings.quiet,
    },
    "announcement": {
        "bloc": HOSTILE,
        "text": HOSTILE,
        "sender": HOSTILE,
        "line": DEADLINE_LINES[2],
        "tz": TZ,
    },
    "announce_preview": {"targets": Targets(12, DEADLINE_LINES, HOSTILE)},
    "announce_sent": {"done": Announced(5, 2, False, DEADLINE_LINES[0])},
    "announce_target": {"line": DEADLINE_LINES[1]},
    "vote_cast_colleague": {
        "ballot": BALLOT_CTX,
        "person": HOSTILE,
        "unit": HOSTILE,
        "replaced": True,
        "choice": VOTE_VIEW.context["options"],
    },
    "checked_in": {"done": CheckedIn(CONF_VIEW, UNIT, True)},
    "refused_unknown_ballot": {"value": HOSTILE},
    "refused_ambiguous_unit": {
        "value": HOSTILE,
        "candidates": [(2, HOSTILE), (5, "Sở Y tế")],
        "more": 3,
    },
    "refused_ballot_not_draft": {"number": 3},
    "refused_ballot_not_open": {"number": 3},
    "refused_no_quorum": {"missing": 2, "present": 6, "units": 12},
    "refused_no_candidates": {"number": 3},
    "refused_too_few_candidates": {"number": 3, "count": 1, "least": 2},
    "refused_not_unit_ballot": {"number": 1},
    "refused_cast": {"why": "too_many_choices", "max": 2},
    "refused_nothing_to_decide": {"number": 3},
    "refused_not_tied": {"value": HOSTILE},
    "refused_bad_choice": {"value": HOSTILE},
    "refused_ballot_not_closed": {"number": 3},
    "refused_decide_first": {"number": 3, "first": 2},
    "refused_unit_voted_in_chat": {"unit": HOSTILE},
    "record_caption": {"ballot": BALLOT_CTX},
    "record_subject": {"ballot": BALLOT_CTX},
    "record_conclusion": RESULT,
    "criteria_view": {"table": TABLE, "version": 2, "year": 2022},
    "table_imported": {"table": TABLE, "version": 2, "year": 2022},
    "table_unreadable": {"why": "yaml"},
    "table_refused": {"problems": [TableRowProblem(3, TableProblem.MAX_INVALID, HOSTILE)] * 22},
    "period_opened": {"view": PVIEW},
    "period_extended": {"view": PVIEW, "old": WHEN},
    "period_list": {"views": [PVIEW]},
    "period_opened_notice": {"bloc": HOSTILE, "title": HOSTILE, "deadline": WHEN, "tz": TZ},
    "period_extended_notice": {"bloc": HOSTILE, "title": HOSTILE, "deadline": WHEN, "tz": TZ},
    "report_choose_period": {"choose": ChoosePeriod((PVIEW,), UNIT, True)},
    "report_ask_file": {"ctx": CTX, "timing": "late", "tz": TZ},
    "report_ask_item": {
        "step": AskItem(CTX, 0, ValueProblem.ABOVE_MAX),
        "item": TABLE.items[0],
        "total": 3,
        "current": 1950,
        "self_value": 2000,
        "review": True,
        "problem": "above_max",
    },
    "report_summary": {
        "ctx": CTX,
        "totals": SUMS,
        "groups": (GroupTotal(HOSTILE, 1950, 2000), GroupTotal("", 0, 100)),
        "review": False,
        "form": "groups",
    },
    "report_file_replaced": {"old": HOSTILE, "new": HOSTILE},
    "report_photo": {"types": ("pdf", "docx")},
    "refused_comment_too_long": {"max": 1000, "length": 1200},
    "report_receipt": {"ctx": CTX, "submission": SUBMISSION, "totals": SUMS, "tz": TZ},
    "review_saved": {"ctx": CTX, "totals": SUMS},
    "report_submitted_notice": {
        "person": HOSTILE,
        "unit": HOSTILE,
        "title": HOSTILE,
        "version": 2,
        "total_cp": 9550,
        "late": True,
        "on_behalf": True,
    },
    "report_reviewed_notice": {
        "unit": HOSTILE,
        "title": HOSTILE,
        "version": 2,
        "self_cp": 9550,
        "reviewed_cp": 9000,
    },
    "report_returned_notice": {
        "unit": HOSTILE,
        "title": HOSTILE,
        "version": 2,
        "comment": HOSTILE,
        "until": WHEN,
        "tz": TZ,
    },
    "report_returned": {"done": Returned(UNIT, SUBMISSION, WHEN, TZ, HOSTILE)},
    "status_view": {"status": STATUS, "tz": TZ},
    "archive_caption": {"part": 1, "parts": 2, "files": 9},
    "export_caption": {"sheet": ScoreSheet(HOSTILE, HOSTILE, TABLE, ())},
    "refused_unknown_period": {"value": HOSTILE},
    "refused_bad_date": {"value": HOSTILE},
    "refused_end_before_start": {"value": HOSTILE},
    "refused_deadline_past": {"value": HOSTILE},
    "refused_closes_before_opens": {"value": HOSTILE},
    "refused_not_scheduled": {"number": 3},
    "refused_covenant_too_long": {"limit": 3500},
    "refused_covenant_locked": {"year": 2025},
    "refused_paragraph_too_long": {"limit": 2000},
    "refused_bad_field_count": {
        "count": 9,
        "typed": ["20/12/2024 08:00", "Hội trường", "SYT", "A", "B", "C", "D", "E", "Hà Nội"],
        "fields": [
            "time",
            "place",
            "chair_unit",
            "chair",
            "secretary",
            "counting_board",
            "guests",
            "locality",
        ],
    },
    "conference_new_ask": {"step": 1, "total": 8, "field": "time", "optional": False},
    "refused_too_long": {"field": "guests", "limit": 4000, "length": 4012},
    "refused_unknown_deadline_number": {"value": HOSTILE},
    "refused_not_custom_deadline": {"number": HOSTILE},
    "refused_bad_deadline_kind": {"value": HOSTILE},
    "refused_bad_offsets": {"value": HOSTILE},
    "refused_bad_quiet": {"value": HOSTILE},
    "refused_announce_too_long": {"limit": 3500},
    "refused_bad_period_kind": {"value": HOSTILE},
    "refused_bad_policy": {"value": HOSTILE},
    "refused_bad_max_size": {"value": HOSTILE},
    "refused_bad_types": {"value": HOSTILE, "known": ("pdf", "docx")},
    "refused_late_refused": {"deadline": WHEN, "tz": TZ, "title": HOSTILE},
    "refused_wrong_type": {"types": "PDF, DOCX", "max_mb": 20},
    "refused_too_large": {"types": "PDF, DOCX", "max_mb": 20},
    "refused_file_content": {"file": ContentRefused(ContentProblem.MISMATCH, "docx", HOSTILE)},
    "welcome": {"name": HOSTILE, "member": False},
    "joined": {"bloc": HOSTILE, "unit": HOSTILE, "role": "representative", "moved_from": HOSTILE},
    "join_already": {"bloc": HOSTILE, "unit": None, "role": "observer"},
    "join_move_confirm": {"current": HOSTILE, "target": HOSTILE, "bloc": HOSTILE},
    "join_rate_limited": {"minutes": 7},
    "joined_colleague": JOIN,
    "joined_secretariat": JOIN,
    "member_removed_you": {"bloc": HOSTILE, "unit": HOSTILE},
    "invite_leaked": {"bloc": HOSTILE, "unit": None, "role": "secretariat"},
    "help": {
        "in_group": False,
        "secretariat": True,
        "representative": True,
        "observer": True,
        "admin": True,
    },
    "me": {
        "name": HOSTILE,
        "account": "zalo:" + HOSTILE,
        "admin": True,
        "platform": "zalo",
        "memberships": [
            {
                "bloc": HOSTILE,
                "code": "KTĐ",
                "current": True,
                "unit": HOSTILE,
                "roles": ["representative", "secretariat"],
            }
        ],
    },
    "bloc_new_kind_chosen": {"kind": "cum"},
    "bloc_new_ask_year": {"year": 2024},
    "bloc_new_past_year": {"year": 2021, "current": 2024, "name": "Khối A"},
    "bloc_created": {"bloc": BLOC, "kind": "khoi"},
    "bloc_chosen": {"bloc": HOSTILE, "code": "KTĐ"},
    "bloc_pick": {"blocs": [(HOSTILE, "A"), ("B", "B")]},
    "bloc_view": {
        "telegram": True,
        "bloc": BLOC,
        "kind": "khoi",
        "units": 3,
        "leader": HOSTILE,
        "deputy": None,
        "rotation": ["A", "B"],
        "next_leader": HOSTILE,
        "representatives": 2,
        "joined_units": 2,
        "group_linked": True,
        "secretariat": True,
        "covenant": (3, 3),
        "others": 1,
    },
    "bloc_officers_set": {"bloc": HOSTILE, "leader": HOSTILE, "deputy": None, "kind": "cum"},
    "bloc_rotation_set": {"units": [HOSTILE, "B"], "kind": "khoi"},
    "bloc_linked": {"bloc": HOSTILE},
    "units_list": {"view": UnitsView(HOSTILE, (UNIT_VIEW,), ())},
    "unit_detail": {"view": UNIT_VIEW},
    "unit_added": {"unit": UNIT, "number": 4},
    "unit_refused": {"problem": "already_in_bloc"},
    "units_import_unreadable": {"why": "encoding"},
    "units_import_refused": {
        "rows": [BadRow(3, RowProblem.SHORT_MISSING, HOSTILE)],
        "too_many": True,
    },
    "units_imported": {"units": [HOSTILE], "total": 11},
    "invites_all_header": {"count": 3},
    "invite_issued": {
        "unit": HOSTILE,
        "role": "representative",
        "code": "ABCD-EFGH-JKMN-PQRS",
        "link": "https://t.me/b?start=X",
        "max_uses": 2,
        "replaced": 1,
        "expires_at": datetime(2024, 12, 9, 1, 0, tzinfo=UTC),
        "tz": "Asia/Ho_Chi_Minh",
        "bloc_id": 1,
    },
    "invites_revoked": {"unit": HOSTILE, "count": 2},
    "member_removed": {"person": HOSTILE, "unit": HOSTILE},
    "unit_remove_confirm": {"unit": HOSTILE, "invites": 2},
    "unit_removed": {"unit": HOSTILE, "invites": 1},
    "refused_unit_kept": {
        "unit": HOSTILE,
        "unit_id": 4,
        "ties": [tie.value for tie in UnitTie],  # every one, in both languages
    },
    "refused_unit_has_members": {"unit": HOSTILE, "unit_id": 4, "members": 2},
    "refused_unknown_unit": {"value": HOSTILE},
    "refused_unknown_bloc": {"value": HOSTILE},
    "refused_bad_timezone": {"value": HOSTILE},
    "refused_bad_year": {"value": "1999", "first": 2000, "last": 2025},
    "refused_bad_kind": {"value": HOSTILE},
    "refused_bad_level": {"value": HOSTILE},
    "bloc_level": {"v": LEVEL},
    "refused_bad_code": {"value": HOSTILE},
    "refused_bad_max_uses": {"limit": 20},
    "refused_group_taken": {"bloc": HOSTILE},
    "refused_rotation_incomplete": {"missing": [HOSTILE]},
}

NO_ROTATION = {**SAMPLES["bloc_view"], "rotation": [], "next_leader": None}
UNSET = LevelView(BLOC, (("gov_flag", 1), ("province_flag", 1), ("pm_cert", 1)))
# Other branches of the templates above: (template, context, shown, hidden) — a text the
# rendering must contain, and one it must not (a secret ballot's choice, above all).
VARIANTS: list[tuple[str, dict[str, Any], str, str]] = [
    # An achievement report: the file only, never a score.
    (
        "report_receipt",
        {"ctx": ACH_CTX, "submission": SUBMISSION, "totals": SUMS, "tz": TZ},
        "SHA-256",
        "/22",
    ),
    ("report_ask_file", {"ctx": ACH_CTX, "timing": "on_time", "tz": TZ}, "MB", "90 "),
    (
        "dossier_caption",
        {"d": replace(DOSSIER, entries=DOSSIER_ENTRIES[:4]), "form": "names"},
        "2024",
        "05",
    ),
    ("dossier_caption", {"d": DOSSIER, "form": "count"}, "2024", "06"),
    ("vote_done", SAMPLES["vote_done"], RECEIPT, CHOSEN),
    ("vote_done", {"view": VOTE_VIEW, "replaced": True, "receipt": None}, CHOSEN, "<code>"),
    ("vote_ballot", {"view": SEALED_VIEW}, "🗳", CHOSEN),
    ("vote_list", {"views": [SEALED_VIEW, replace(VOTE_VIEW, voted=False)]}, "(1/2)", CHOSEN),
    ("vote_list_button", {"view": SEALED_VIEW}, "✅ 1.", CHOSEN),
    ("ballot_result", SAMPLES["ballot_result"], f"<code>{RECEIPT}</code>: &lt;b&gt;", "\n\n\n"),
    ("ballot_result", RESULT, "📊", "<code>"),
    ("ballot_group_turnout", SAMPLES["ballot_group_turnout"], "3/12", CHOSEN),
    ("ballot_group_turnout", {**SAMPLES["ballot_group_turnout"], "rows": []}, "&lt;b&gt;", "🗳"),
    ("ballot_secret_set", {"ballot": OPEN_CTX}, "2 ", "\n"),
    ("bloc_receipts_set", {"publish": False}, ":", "→"),
    ("bloc_receipts_warning", {"publish": True}, "⚠️", "not published"),
    ("receipt_result", SAMPLES["receipt_result"], CHOSEN, "❔"),
    ("receipt_result", {**CHECKED, "found": COUNTED, "choice": None}, RECEIPT, CHOSEN),
    ("receipt_result", {**CHECKED, "found": COUNTED, "choice": PUBLISHED[0]}, "✅", CHOSEN),
    (
        "receipt_result",
        {**CHECKED, "found": ReceiptFound(1, False, None), "choice": None},
        "📥",
        CHOSEN,
    ),
    ("receipt_result", {**CHECKED, "found": None, "choice": None}, "❔", CHOSEN),
    # No award handed out entered yet: the list says so and how to add one.
    (
        "handed_out_list",
        {"s": replace(SUMMARY, conference=CONFERENCE)},
        "/summary awards",
        "1. ",
    ),
    ("refused_unknown_handed_out", {"number": 1, "count": 0}, " 1 ", " 0 "),
    # A bloc without a group (on Zalo): the summary went to each member in private.
    ("summary_posted", {"members": 6}, " 6 ", "lên nhóm"),
    # Without a rotation the only arrow is the published "receipt → choice".
    ("bloc_view", {**NO_ROTATION, "bloc": replace(BLOC, publish_receipts=True)}, "→", "\n\n"),
    ("bloc_view", NO_ROTATION, "\n", "→"),
    # Nothing changed (the settings as they are): no «saved», no regulation, the level's body.
    ("bloc_level", {"v": UNSET}, "3. ", "✅"),
    # A typed choice refused on Zalo names what was typed (escaped).
    ("refused_cast", {"why": "self_vote", "typed": HOSTILE}, "«&lt;b&gt;", "<b>"),
    ("report_unit_draft_kept", {"kept": KeptDraft("Lan", 0, None)}, " 0 ", "«"),
    *(
        ("refused_file_content", {"file": refused}, shown, "&lt;b&gt;")
        for refused, shown in (
            (ContentRefused(ContentProblem.MISMATCH, "docx"), "DOCX"),
            (ContentRefused(ContentProblem.POLYGLOT, "pdf"), "PDF"),
            (ContentRefused(ContentProblem.BOMB, "zip", limits=STORED_LIMITS), "256 MB"),
            (ContentRefused(ContentProblem.BROKEN, "xlsx"), "XLSX"),
            (ContentRefused(ContentProblem.WIDE, "csv"), "100"),
            (ContentRefused(ContentProblem.LONG, "docx"), "2000"),
            (ContentRefused(ContentProblem.OVER_LIMITS, "xlsx"), "512 MB"),
        )
    ),
    (
        "units_import_unreadable",
        {"why": "content", "file": ContentRefused(ContentProblem.BOMB, "xlsx")},
        "16 MB",
        "UTF-8",
    ),
    (
        "table_unreadable",
        {"why": "content", "file": ContentRefused(ContentProblem.WIDE, "xlsx")},
        "100",
        "YAML",
    ),
]

renderer = Renderer()


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", renderer.message_names())
def test_every_template_renders(name: str, locale: Locale) -> None:
    text = renderer.render(locale, name, **SAMPLES.get(name, {}))
    assert text.strip()
    assert "<b>Sở" not in text  # user text is escaped
    assert "<script>" not in text
    assert "\n\n\n" not in text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("name", "context", "shown", "hidden"), VARIANTS)
def test_template_branches(
    name: str, context: dict[str, Any], shown: str, hidden: str, locale: Locale
) -> None:
    text = renderer.render(locale, name, **context)
    assert "<b>Sở" not in text
    assert "\n\n\n" not in text
    if context is not SAMPLES[name]:
        assert text != renderer.render(locale, name, **SAMPLES[name])  # another branch
    assert shown in text
    assert hidden not in text


@pytest.mark.parametrize("locale", LOCALES)
def test_voters_are_told_when_the_ballot_publishes_receipts(locale: Locale) -> None:
    """The policy frozen at the open is on the ballot and on the receipt; never on a ballot
    opened without it, nor on an open (not secret) ballot."""
    note = PUBLISHED_NOTE[locale]
    told = [
        renderer.render(locale, "vote_ballot", view=replace(VOTE_VIEW, info=PUBLISHING_INFO)),
        renderer.render(locale, "vote_done", **{**SAMPLES["vote_done"], "view": PUBLISHING_VIEW}),
    ]
    assert [text.count(note) for text in told] == [1, 1]
    assert all("\n\n\n" not in text for text in told)
    assert CHOSEN not in told[1]  # the receipt reply never repeats a secret choice
    untold = [
        renderer.render(locale, "vote_ballot", view=VOTE_VIEW),
        renderer.render(locale, "vote_done", **SAMPLES["vote_done"]),
        renderer.render(locale, "vote_ballot", view=replace(VOTE_VIEW, info=OPEN_INFO)),
    ]
    assert [note.strip() in text for text in untold] == [False, False, False]
    assert told[0].replace(note, "\n") == untold[0]


def test_both_locales_have_the_same_templates() -> None:
    vi = {p.name for p in (renderer._dir / "vi").iterdir()}
    en = {p.name for p in (renderer._dir / "en").iterdir()}
    assert vi == en


@pytest.mark.parametrize("reason", list(Reason))
def test_every_refusal_has_a_message(reason: Reason) -> None:
    assert f"refused_{reason.value}" in renderer.message_names()


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_names_every_role_kind_and_problem(locale: Locale) -> None:
    for role in Role:
        assert renderer.t(locale, f"role.{role.value}")
    for kind in BlocKind:
        assert renderer.t(locale, f"kind.{kind.value}")
    for problem in RowProblem:
        assert renderer.t(locale, f"problem.{problem.value}")
    for table_problem in TableProblem:
        assert renderer.t(locale, f"table_problem.{table_problem.value}")
    for value_problem in ValueProblem:
        assert renderer.t(locale, f"value_problem.{value_problem.value}")
    for period_kind in PeriodKind:
        assert renderer.t(locale, f"period_kind.{period_kind.value}")
    for policy in LatePolicy:
        assert renderer.t(locale, f"late_policy.{policy.value}")
    for rejection in CastRejection:
        assert renderer.t(locale, f"cast_rejection.{rejection.value}")
    for status in BallotStatus:
        assert renderer.t(locale, f"ballot_status.{status.value}")
    for option_kind in OptionKind:
        assert renderer.t(locale, f"option.{option_kind.value}")


def test_hostile_name_is_escaped_exactly() -> None:
    text = renderer.render(Locale.VI, "bloc_linked", bloc=HOSTILE)
    assert text.startswith(
        "✅ Nhóm này đã được liên kết với <b>&lt;b&gt;Sở &amp; Ban&lt;/b&gt;</b>."
    )


# --- hostile names: every template, every locale, each kind of name a secretariat may type ----

LONG = "Sở " + "Văn hóa, Thể thao và Du lịch " * 20
HOSTILE_NAMES = {
    "html": HOSTILE,
    "long": LONG.strip(),
    "emoji": "Sở Y tế 🏥👩‍⚕️",
    "nfd": unicodedata.normalize("NFD", "Sở Ngoại vụ Điện Biên"),
}


def swap(value: Any, new: str) -> Any:
    """``value`` with every HOSTILE inside it (strings, dataclasses, dicts, sequences) made
    ``new``: the same samples, another name."""
    if isinstance(value, enum.Enum):
        return value  # StrEnum members are strings too: never names
    if isinstance(value, str):
        return value.replace(HOSTILE, new)
    if is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: swap(getattr(value, f.name), new) for f in fields(value) if f.init}
        return replace(value, **changes)
    if isinstance(value, dict):
        return {k: swap(v, new) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(swap(v, new) for v in value)
    return value


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", list(HOSTILE_NAMES))
def test_every_template_renders_hostile_names(kind: str, locale: Locale) -> None:
    name = HOSTILE_NAMES[kind]
    shown = 0
    for template in renderer.message_names():
        context = swap(SAMPLES.get(template, {}), name)
        text = renderer.render(locale, template, **context)
        assert text.strip(), template
        assert "\n\n\n" not in text, template
        assert kind != "html" or "<b>Sở" not in text, template
        shown += name in text or "&lt;b&gt;Sở &amp; Ban&lt;/b&gt;" in text
    assert shown > 60  # the name is really in the samples, kept as typed (escaped if HTML)


@pytest.mark.parametrize("kind", list(HOSTILE_NAMES))
def test_document_templates_keep_names_literally(kind: str) -> None:
    """Documents (DOCX) take plain text: the name as typed, never HTML-escaped."""
    name = HOSTILE_NAMES[kind]
    s = swap(SUMMARY, name)
    assert renderer.plain(Locale.VI, "minutes_subject", s=s) == (
        "Hội nghị tổng kết công tác thi đua, khen thưởng năm 2024 "
        "và ký kết giao ước thi đua năm 2025"
    )
    assert renderer.plain(
        Locale.VI, "minutes_conclusions", s=s, bloc_kind="khoi"
    ).splitlines() == [
        "Hội nghị đã thông qua Báo cáo tổng kết công tác thi đua, khen thưởng năm 2024, "
        "phương hướng, nhiệm vụ năm 2025.",
        f"Hội nghị đã bình xét, suy tôn, đề nghị 01 đơn vị được nhận Cờ thi đua của Chính phủ "
        f"({name}); 02 đơn vị được tặng Bằng khen của Chủ tịch UBND tỉnh ({name}, Sở Y tế).",
        f"{name} được bầu làm đơn vị Trưởng khối năm 2025; {name} được bầu làm đơn vị "
        "Phó trưởng khối.",
        f"Hội nghị đã phát động phong trào thi đua năm 2025: {name}",
        "Các cơ quan, đơn vị trong Khối ký kết giao ước thi đua năm 2025 (11/12 đơn vị đã ký).",
        f"Nhân dịp này, {name} đã tặng {name} cho 7 tập thể, 1 cá nhân ({name}, Sở Y tế); "
        f"Ủy ban nhân dân tỉnh đã tặng Cờ thi đua cho {name}.",
    ]
    agenda = renderer.plain(
        Locale.VI,
        "minutes_agenda",
        s=s,
        keys=["report", "awards", "covenant"],
        approval=False,
        bloc_kind="cum",
    )
    assert agenda.splitlines() == [
        "1. Tổng kết công tác thi đua, khen thưởng năm 2024.",
        "2. Bình xét, suy tôn, đề nghị khen thưởng năm 2024.",
        "3. Ký kết giao ước thi đua năm 2025.",
    ]
    ballot = swap(BALLOT_CTX, name)
    assert renderer.plain(Locale.VI, "minutes_ballot", ballot=ballot) == (
        "Đề nghị tặng Bằng khen của Chủ tịch UBND tỉnh (tối đa 2 đơn vị) (bỏ phiếu kín)"
    )
    conclusion = renderer.plain(Locale.VI, "record_conclusion", **swap(RESULT, name))
    assert conclusion.startswith(f"Kết quả: đề nghị {name} (xếp theo tổng điểm")


# --- what each channel says to type or open (design decision 2) -------------------------------

WEB = "https://thidua.example.vn/web"
# A Telegram command as a person would type it (not a path inside an address).
TELEGRAM_COMMAND = re.compile(
    r"(?<![\w/.])/(?:start|help|me|lang|deadlines|standings|report|score|vote|covenant|checkin"
    r"|bloc|units|invite|criteria|period|conference|ballot|status|review|return|announce"
    r"|summary|minutes|export|link|web)\b"
)
SECRETARIAT_DEADLINES = replace(DEADLINES_VIEW, secretariat=True)
NO_COVENANT = replace(COVENANT_VIEW, covenant=None, secretariat=True)
REMINDERS = [
    {**SAMPLES["reminder"], "kind": kind, "ballot": BALLOT_CTX if kind == "ballot" else None}
    for kind in ("report", "ballot", "covenant", "custom")
]
NO_FILE = {
    **SAMPLES["report_summary"],
    "ctx": replace(CTX, draft=replace(CTX.draft, file_name=None)),
}
# What a representative may read on Zalo: notices and the answers to what they type there.
READ_BY_REPRESENTATIVES: list[tuple[str, dict[str, Any]]] = [
    *((name, SAMPLES[name]) for name in (
        "period_opened_notice", "report_returned_notice", "ballot_opened_notice",
        "covenant_notice", "deadline_added_notice", "joined", "refused_unknown_deadline_number",
        "report_reviewed_notice", "ballot_extended_notice", "period_extended_notice",
        "vote_done", "vote_list", "vote_ballot", "vote_confirm", "covenant_view",
    )),
    *(("reminder", r) for r in REMINDERS),
    *((name, {}) for name in (
        "refused_incomplete", "refused_not_your_draft", "refused_no_file_yet",
        "refused_covenant_changed", "covenant_not_signed", "refused_no_covenant",
        "internal_error", "refused_unknown_deadline",
    )),
]  # fmt: skip
# Without the web companion a report's file has no way on Zalo: these say Telegram's (or the
# secretariat's) then, and only then.
FILE_ON_THE_WEB: list[tuple[str, dict[str, Any]]] = [
    ("report_summary", NO_FILE),
    ("zalo_report_elsewhere", {"web": True}),
]
# What the secretariat may read on Zalo: the notices of the tick and of its colleagues, and
# the answers to what a secretary types there.
READ_BY_SECRETARIAT: list[tuple[str, dict[str, Any]]] = [
    *((name, SAMPLES[name]) for name in (
        "ballot_auto_opened", "ballot_auto_waiting", "ballot_auto_missed", "ballot_result",
        "joined_secretariat", "digest", "member_unreachable", "refused_no_quorum",
    )),
    ("refused_not_representative", {"secretariat": True}),
    ("refused_no_table", {}),
    ("covenant_view", {"view": NO_COVENANT}),
    ("deadlines_view", {"view": SECRETARIAT_DEADLINES}),
]  # fmt: skip


def on_zalo(locale: Locale, name: str, context: dict[str, Any], web: str | None) -> str:
    """A message as the Zalo chat shows it (plain text), the web companion on or off."""
    return to_plain(renderer.chat(locale, name, Platform.ZALO, web_url=web, **context))


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("name", "context"), READ_BY_REPRESENTATIVES + READ_BY_SECRETARIAT + FILE_ON_THE_WEB
)
def test_zalo_readers_are_never_sent_to_telegram_when_the_web_is_on(
    name: str, context: dict[str, Any], locale: Locale
) -> None:
    text = on_zalo(locale, name, context, WEB)
    assert TELEGRAM_COMMAND.search(text) is None, text
    assert "Telegram" not in text, text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("name", "context"), READ_BY_REPRESENTATIVES)
def test_representatives_on_zalo_type_zalo_words_even_without_the_web(
    name: str, context: dict[str, Any], locale: Locale
) -> None:
    """Without the web companion a representative is still told the Zalo word (the report's
    file alone has no way on Zalo: «bao cao» says which ways there are)."""
    text = on_zalo(locale, name, context, None)
    assert TELEGRAM_COMMAND.search(text) is None, text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("name", "context"), READ_BY_SECRETARIAT)
def test_without_the_web_a_secretariat_command_on_zalo_says_it_is_telegrams(
    name: str, context: dict[str, Any], locale: Locale
) -> None:
    text = on_zalo(locale, name, context, None)
    on_telegram = " trên Telegram" if locale is Locale.VI else " on Telegram"
    for found in TELEGRAM_COMMAND.finditer(text):
        assert on_telegram in text[found.end() :].split("\n", 1)[0], text


ZALO_TEXTS = {
    # (template, web companion) -> the line that says what to do, in Vietnamese
    ("period_opened_notice", WEB): f"Mở {WEB}/report để gửi báo cáo và tự chấm điểm cho đơn vị.",
    ("period_opened_notice", None): "Gõ bao cao để gửi báo cáo và tự chấm điểm cho đơn vị.",
    ("report_returned_notice", WEB): f"Đơn vị nộp lại trước 17:00 15/12/2022: mở {WEB}/report.",
    ("report_returned_notice", None): "Đơn vị nộp lại trước 17:00 15/12/2022: gõ bao cao.",
    ("ballot_opened_notice", WEB): (
        f"Gõ bo phieu để biểu quyết cho đơn vị (hoặc mở {WEB}/ballots)."
    ),
    ("ballot_opened_notice", None): "Gõ bo phieu để biểu quyết cho đơn vị.",
    ("covenant_notice", WEB): f"Gõ giao uoc để đọc và ký cho đơn vị (hoặc mở {WEB}/covenant).",
    ("deadline_added_notice", None): "Gõ da nhan để thường trực biết đơn vị đã nắm được.",
    ("joined", None): "Gõ tro giup để xem các lệnh.",
    ("refused_incomplete", WEB): "Còn mục chưa chấm điểm. Gõ cham diem để tiếp tục.",
    ("refused_no_file_yet", WEB): f"Chưa có tệp báo cáo. Mở {WEB}/report và gửi tệp trước.",
    ("refused_covenant_changed", None): (
        "Nội dung giao ước đã được thường trực sửa sau khi bạn đọc. Gõ giao uoc để đọc lại rồi ký."
    ),
    ("ballot_auto_opened", WEB): f"Theo dõi: {WEB}/console/ballots",
    ("ballot_auto_opened", None): "Theo dõi: /ballot trên Telegram",
    ("refused_no_table", WEB): (
        "Khối chưa có bảng chấm điểm cho năm nay. Thường trực nhập bảng ở bảng điều hành: "
        f"{WEB}/console/table."
    ),
}


@pytest.mark.parametrize(("name", "web"), list(ZALO_TEXTS))
def test_what_zalo_says_to_do(name: str, web: str | None) -> None:
    context = SAMPLES.get(name, {})
    assert ZALO_TEXTS[name, web] in on_zalo(Locale.VI, name, context, web)


TELEGRAM_TEXTS = {
    "period_opened_notice": "Gõ /report để gửi báo cáo và tự chấm điểm cho đơn vị.",
    "report_returned_notice": "Đơn vị nộp lại trước 17:00 15/12/2022 bằng lệnh /report.",
    "ballot_opened_notice": "Bấm nút dưới đây (hoặc gõ /vote) để biểu quyết cho đơn vị.",
    "joined": "Gõ /help để xem các lệnh.",
    "ballot_auto_opened": "Đã gửi phiếu đến đại diện của 12 đơn vị. Theo dõi: /ballot",
}


@pytest.mark.parametrize("name", list(TELEGRAM_TEXTS))
def test_telegram_still_names_its_commands(name: str) -> None:
    text = renderer.chat(Locale.VI, name, Platform.TELEGRAM, web_url=WEB, **SAMPLES[name])
    assert TELEGRAM_TEXTS[name] in text
    assert text == renderer.render(Locale.VI, name, **SAMPLES[name])  # as before


# What the console shows in the chat's words, and the page each names.
SHOWN_ON_THE_CONSOLE: list[tuple[str, dict[str, Any], str]] = [
    ("table_imported", SAMPLES["table_imported"], "/console/periods"),
    ("ballot_result", SAMPLES["ballot_result"], "/console/ballots"),
    ("new_year_plan", SAMPLES["new_year_plan"], "/console/minutes/minutes?year=2024"),
    ("new_year_done", SAMPLES["new_year_done"], "/console/conference"),
    ("covenant_set", SAMPLES["covenant_set"], "/console/covenant"),
    ("deadline_added", SAMPLES["deadline_added"], "/console"),
    ("refused_no_table", {}, "/console/table"),
    ("refused_no_units", {}, "/console/units"),
    ("refused_no_conference", {}, "/console/conference"),
    ("refused_ballots_exist", {}, "/console/ballots"),
    ("refused_ballots_still_open", SAMPLES["refused_ballots_still_open"], "/console/ballots"),
    ("refused_ballot_not_closed", SAMPLES["refused_ballot_not_closed"], "/console/ballots"),
    ("refused_unknown_period", SAMPLES["refused_unknown_period"], "/console/periods"),
    ("refused_unknown_unit", SAMPLES["refused_unknown_unit"], "/console/units"),
    ("refused_ambiguous_unit", SAMPLES["refused_ambiguous_unit"], "/console/units"),
    ("refused_not_custom_deadline", SAMPLES["refused_not_custom_deadline"], "/console/periods"),
    ("refused_no_submission", {"newer": True}, "/console/periods"),
    ("refused_unknown_deadline", {}, "/console/deadlines"),
    ("refused_not_representative", {"secretariat": True}, "/console/periods"),
    ("covenant_view", {"view": NO_COVENANT}, "/console/covenant"),
    ("refused_incomplete", {}, "/report"),
    ("refused_covenant_changed", {}, "/covenant"),
]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("name", "context", "path"), SHOWN_ON_THE_CONSOLE)
def test_on_a_web_page_a_message_links_the_page_instead_of_a_command(
    name: str, context: dict[str, Any], path: str, locale: Locale
) -> None:
    html = renderer.on_page(locale, name, "/web", **context)
    assert f'<a href="/web{path}">' in html.replace("&amp;", "&")
    assert TELEGRAM_COMMAND.search(to_plain(html)) is None, html
    assert "Telegram" not in html
