"""Plain domain values: blocs, units, identities, memberships and invites.

Frozen dataclasses only; storage maps its rows onto these and nothing else leaves it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.deadlines import DEFAULT_SETTINGS, ReminderSettings


class Platform(enum.StrEnum):
    TELEGRAM = "telegram"
    ZALO = "zalo"


class Role(enum.StrEnum):
    """What a member may do in one bloc."""

    SECRETARIAT = "secretariat"
    REPRESENTATIVE = "representative"
    OBSERVER = "observer"


class BlocKind(enum.StrEnum):
    """Khối groups units of one kind; Cụm groups territorial units."""

    KHOI = "khoi"
    CUM = "cum"


class BlocLevel(enum.StrEnum):
    """Where the bloc sits: it decides the default award tiers, the memo's addressee and
    whose awards the summary names (issue 20). None on a bloc: not said (the old defaults)."""

    NATIONAL = "national"  # a cluster of provinces, a bloc of central bodies
    MINISTRY = "ministry"  # a ministry's or a central body's own bloc
    PROVINCE = "province"  # a province's bloc of departments or districts
    COMMUNE = "commune"  # a commune's or ward's bloc


@dataclass(frozen=True, slots=True)
class HandedOut:
    """An award handed out at the conference (already decided by an authority, not voted
    here): by whom, which form, to how many, optionally their names."""

    by: str  # "Chủ tịch UBND tỉnh", "Cụm thi đua"
    form: str  # "Bằng khen", "Cờ thi đua", "Giấy khen"
    collectives: int = 0
    individuals: int = 0
    households: int = 0
    names: tuple[str, ...] = ()


class Locale(enum.StrEnum):
    VI = "vi"
    EN = "en"


DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


@dataclass(frozen=True, slots=True)
class Bloc:
    id: int
    name: str
    kind: BlocKind
    year: int
    code: str
    timezone: str
    leader_unit_id: int | None = None
    deputy_unit_id: int | None = None
    group_chat_id: int | None = None
    publish_receipts: bool = False  # opt-in: receipt code -> choice published after a close
    reminders: ReminderSettings = DEFAULT_SETTINGS  # offsets per kind, quiet hours
    level: BlocLevel | None = None
    reports_to: str = ""  # the body it reports to (the memo's "Kính gửi"); "": the level's
    regulation: str = ""  # its own regulation, as the memo's legal basis cites it


@dataclass(frozen=True, slots=True)
class Unit:
    id: int
    bloc_id: int
    name: str
    short_name: str
    contact: str = ""
    rotation_order: int | None = None


@dataclass(frozen=True, slots=True)
class Account:
    platform: Platform
    external_id: str

    @property
    def spelled(self) -> str:
        """How ADMIN_IDS names this account (`telegram:123456`), shown to its owner."""
        return f"{self.platform.value}:{self.external_id}"


@dataclass(frozen=True, slots=True)
class Identity:
    id: int
    display_name: str
    locale: Locale
    current_bloc_id: int | None = None
    accounts: tuple[Account, ...] = ()


@dataclass(frozen=True, slots=True)
class Membership:
    identity_id: int
    bloc_id: int
    unit_id: int | None
    roles: frozenset[Role] = field(default_factory=frozenset)

    def has(self, role: Role) -> bool:
        """Whether this membership carries the role."""
        return role in self.roles


@dataclass(frozen=True, slots=True)
class Invite:
    id: int
    bloc_id: int
    unit_id: int | None
    role: Role
    max_uses: int
    uses: int
    expires_at: datetime
    revoked_at: datetime | None = None
