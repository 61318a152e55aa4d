"""Every message template renders in every locale; refusals are exhaustive; names are escaped."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.core.models import Bloc, BlocKind, Identity, Locale, Role, Unit
from bot.core.units import BadRow, RowProblem
from bot.render import LOCALES, Renderer
from bot.services.outcomes import Reason
from bot.services.units import UnitsView, UnitView

HOSTILE = "<b>Sở & Ban</b>"
UNIT = Unit(id=1, bloc_id=1, name=HOSTILE, short_name="S&B", contact="<i>x</i>")
BLOC = Bloc(
    id=1, name=HOSTILE, kind=BlocKind.KHOI, year=2024, code="KTĐ", timezone="Asia/Ho_Chi_Minh"
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

SAMPLES: dict[str, dict[str, Any]] = {
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
        "admin": True,
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
    "bloc_created": {"bloc": BLOC, "kind": "khoi"},
    "bloc_chosen": {"bloc": HOSTILE, "code": "KTĐ"},
    "bloc_pick": {"blocs": [(HOSTILE, "A"), ("B", "B")]},
    "bloc_view": {
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
        "others": 1,
    },
    "bloc_officers_set": {"bloc": HOSTILE, "leader": HOSTILE, "deputy": None},
    "bloc_rotation_set": {"units": [HOSTILE, "B"]},
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
    "refused_unknown_unit": {"value": HOSTILE},
    "refused_unknown_bloc": {"value": HOSTILE},
    "refused_bad_timezone": {"value": HOSTILE},
    "refused_bad_year": {"value": "1999", "year": 2024},
    "refused_bad_kind": {"value": HOSTILE},
    "refused_bad_code": {"value": HOSTILE},
    "refused_bad_max_uses": {"limit": 20},
    "refused_group_taken": {"bloc": HOSTILE},
    "refused_rotation_incomplete": {"missing": [HOSTILE]},
}

renderer = Renderer()


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", renderer.message_names())
def test_every_template_renders(name: str, locale: Locale) -> None:
    text = renderer.render(locale, name, **SAMPLES.get(name, {}))
    assert text.strip()
    assert "<b>Sở" not in text  # user text is escaped
    assert "<script>" not in text
    assert "\n\n\n" not in text


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


def test_hostile_name_is_escaped_exactly() -> None:
    text = renderer.render(Locale.VI, "bloc_linked", bloc=HOSTILE)
    assert text.startswith(
        "✅ Nhóm này đã được liên kết với <b>&lt;b&gt;Sở &amp; Ban&lt;/b&gt;</b>."
    )
