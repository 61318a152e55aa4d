"""Bloc set-up: create, choose, show, officers and rotation, link the group."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.core.levels import default_tiers, level_defaults, level_key, regulation_lines
from bot.core.models import Bloc, BlocKind, BlocLevel, Membership, Role, Unit
from bot.core.text import clean, fold_diacritics, name_key, nfc
from bot.core.units import rotation_proposal
from bot.services.actors import Actor, secretariat_bloc
from bot.services.app import Services
from bot.services.audit import record
from bot.services.outcomes import Reason, Rejected, pick_unit, refuse_long

FIRST_YEAR = 2000  # a bloc may be created for any year since, to record a past conference
_CODE_RE = re.compile(r"^[0-9A-ZĐÀ-Ỹ]{2,20}$")
_KIND_WORDS = {
    "khoi": BlocKind.KHOI,
    "cum": BlocKind.CUM,
    "bloc": BlocKind.KHOI,
    "cluster": BlocKind.CUM,
}


@dataclass(frozen=True, slots=True)
class BlocDraft:
    name: str
    kind: BlocKind
    year: int
    code: str
    timezone: str


def parse_kind(text: str) -> BlocKind | None:
    """ "Khối"/"khoi"/"bloc" or "Cụm"/"cum"/"cluster"."""
    return _KIND_WORDS.get(fold_diacritics(text))


def check_name(text: str) -> str | Rejected:
    """A bloc's name: not empty, within its limit."""
    name = clean(text)
    if not name:
        return Rejected(Reason.NAME_MISSING)
    return refuse_long("bloc_name", name) or name


def check_year(text: str, *, current_year: int) -> int | Rejected:
    """Any year from 2000 to next year: a board may record a past year's conference after the
    fact (the chat asks for a confirm, `is_past`)."""
    year = clean(text)
    if not year.isdecimal() or not FIRST_YEAR <= int(year) <= current_year + 1:
        return Rejected(
            Reason.BAD_YEAR, {"value": year, "first": FIRST_YEAR, "last": current_year + 1}
        )
    return int(year)


def is_past(draft: BlocDraft, *, current_year: int) -> bool:
    """A bloc for a year already over is created only after a confirm."""
    return draft.year < current_year


def check_draft(
    name: str, kind: str, year: str, code: str, timezone: str, *, current_year: int
) -> BlocDraft | Rejected:
    """Validate the fields of a new bloc as typed in chat."""
    checked_name = check_name(name)
    if isinstance(checked_name, Rejected):
        return checked_name
    parsed_kind = parse_kind(kind)
    if parsed_kind is None:
        return Rejected(Reason.BAD_KIND, {"value": clean(kind)})
    checked_year = check_year(year, current_year=current_year)
    if isinstance(checked_year, Rejected):
        return checked_year
    code = clean(code).upper().replace(" ", "")
    if not _CODE_RE.match(code):
        return Rejected(Reason.BAD_CODE, {"value": code})
    tz = clean(timezone) or "Asia/Ho_Chi_Minh"
    if not _valid_tz(tz):
        return Rejected(Reason.BAD_TIMEZONE, {"value": tz})
    return BlocDraft(checked_name, parsed_kind, checked_year, code, tz)


def _valid_tz(tz: str) -> bool:
    if tz not in available_timezones():
        return False
    try:
        ZoneInfo(tz)
    except ZoneInfoNotFoundError:
        return False
    return True


async def has_blocs(services: Services) -> bool:
    """Whether any bloc exists (with no ADMIN_IDS and none, nobody could create one)."""
    async with services.db.uow(read_only=True) as uow:
        return bool(await uow.blocs.all())


async def create_bloc(services: Services, actor: Actor, draft: BlocDraft) -> Bloc | Rejected:
    """A secretariat member (or bootstrap admin) creates a bloc and joins its secretariat."""
    if not actor.can_create_blocs:
        return Rejected(Reason.NOT_ALLOWED_CREATE, {"account": actor.account.spelled})
    now = services.clock.now()
    async with services.db.uow() as uow:
        bloc = await uow.blocs.create(
            name=draft.name,
            kind=draft.kind,
            year=draft.year,
            code=draft.code,
            timezone=draft.timezone,
            now=now,
        )
        await uow.identities.put_membership(
            Membership(actor.identity.id, bloc.id, None, frozenset({Role.SECRETARIAT})), now
        )
        await uow.identities.set_current_bloc(actor.identity.id, bloc.id)
        await record(
            uow,
            services,
            bloc_id=bloc.id,
            actor_identity_id=actor.identity.id,
            action="bloc.created",
            name=bloc.name,
            kind=bloc.kind.value,
            year=bloc.year,
            code=bloc.code,
            timezone=bloc.timezone,
        )
        await uow.commit()
    return bloc


@dataclass(frozen=True, slots=True)
class BlocView:
    bloc: Bloc
    units: tuple[Unit, ...]
    leader: Unit | None
    deputy: Unit | None
    rotation: tuple[Unit, ...]
    next_leader: Unit | None
    representatives: int
    units_with_representative: int
    is_secretariat: bool
    covenant: tuple[int, int] | None = None  # this year's covenant: units signed, of how many


async def bloc_view(
    services: Services, actor: Actor, bloc_id: int | None = None
) -> BlocView | Rejected:
    """The bloc as its members see it: officers, rotation, how many units have joined."""
    target = bloc_id if bloc_id is not None else actor.current_bloc_id
    if target is None:
        return Rejected(Reason.NO_BLOC if actor.memberships else Reason.NOT_MEMBER)
    if actor.membership(target) is None:
        return Rejected(Reason.NOT_MEMBER)
    async with services.db.uow() as uow:
        bloc = await uow.blocs.get(target)
        if bloc is None:
            return Rejected(Reason.UNKNOWN_BLOC)
        units = await uow.blocs.units(target)
        members = await uow.identities.members_of_bloc(target)
        covenant = await uow.covenants.of_year(target, bloc.year)
        signed = len(await uow.covenants.signatures(covenant.id)) if covenant else 0
    by_id = {u.id: u for u in units}
    reps = [m for m, _ in members if m.has(Role.REPRESENTATIVE) and m.unit_id is not None]
    rotation = tuple(
        sorted(
            (u for u in units if u.rotation_order is not None), key=lambda u: u.rotation_order or 0
        )
    )
    return BlocView(
        bloc=bloc,
        units=tuple(units),
        leader=by_id.get(bloc.leader_unit_id or -1),
        deputy=by_id.get(bloc.deputy_unit_id or -1),
        rotation=rotation,
        next_leader=rotation_proposal(units, bloc.leader_unit_id),
        representatives=len(reps),
        units_with_representative=len({m.unit_id for m in reps}),
        is_secretariat=actor.is_secretariat(target),
        covenant=(signed, len(units)) if covenant else None,
    )


async def my_blocs(services: Services, actor: Actor) -> list[Bloc]:
    async with services.db.uow() as uow:
        return await uow.blocs.many([m.bloc_id for m in actor.memberships])


@dataclass(frozen=True, slots=True)
class MembershipView:
    bloc: Bloc
    unit: Unit | None
    roles: tuple[Role, ...]
    current: bool


async def my_memberships(services: Services, actor: Actor) -> list[MembershipView]:
    """/me: every bloc the person belongs to, with their unit and roles."""
    async with services.db.uow() as uow:
        blocs = {b.id: b for b in await uow.blocs.many([m.bloc_id for m in actor.memberships])}
        return [
            MembershipView(
                bloc=blocs[m.bloc_id],
                unit=await uow.blocs.unit(m.unit_id) if m.unit_id else None,
                roles=tuple(sorted(m.roles)),
                current=m.bloc_id == actor.current_bloc_id,
            )
            for m in actor.memberships
        ]


async def use_bloc(services: Services, actor: Actor, ref: str) -> Bloc | Rejected:
    """Choose which of one's blocs the commands act on (by code or number in /bloc list)."""
    blocs = await my_blocs(services, actor)
    ref = clean(ref)
    chosen: Bloc | None = None
    if ref.isdecimal() and 1 <= int(ref) <= len(blocs):
        chosen = blocs[int(ref) - 1]
    else:
        chosen = next((b for b in blocs if b.code.casefold() == ref.casefold()), None)
    if chosen is None:
        return Rejected(Reason.UNKNOWN_BLOC, {"value": ref})
    async with services.db.uow() as uow:
        await uow.identities.set_current_bloc(actor.identity.id, chosen.id)
        await uow.commit()
    return chosen


@dataclass(frozen=True, slots=True)
class OfficersSet:
    bloc: Bloc
    leader: Unit | None
    deputy: Unit | None


async def set_officers(
    services: Services, actor: Actor, *, leader_ref: str | None, deputy_ref: str | None
) -> OfficersSet | Rejected:
    """Record this year's leader (Trưởng khối) and deputy (Phó trưởng khối) units."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        bloc = await uow.blocs.get(bloc_id)
        if bloc is None:
            return Rejected(Reason.UNKNOWN_BLOC)
        units = await uow.blocs.units(bloc_id)
        leader = _resolve(units, leader_ref, bloc.leader_unit_id)
        if isinstance(leader, Rejected):
            return leader
        deputy = _resolve(units, deputy_ref, bloc.deputy_unit_id)
        if isinstance(deputy, Rejected):
            return deputy
        if leader is not None and deputy is not None and leader.id == deputy.id:
            return Rejected(Reason.LEADER_IS_DEPUTY)
        await uow.blocs.set_officers(
            bloc_id,
            leader_unit_id=leader.id if leader else None,
            deputy_unit_id=deputy.id if deputy else None,
        )
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action="bloc.officers",
            leader=leader.id if leader else None,
            deputy=deputy.id if deputy else None,
        )
        await uow.commit()
        bloc = await uow.blocs.get(bloc_id)
    assert bloc is not None
    return OfficersSet(bloc, leader, deputy)


def _resolve(units: list[Unit], ref: str | None, current: int | None) -> Unit | Rejected | None:
    if ref is None:
        return next((u for u in units if u.id == current), None)
    return pick_unit(units, ref)


@dataclass(frozen=True, slots=True)
class RotationSet:
    kind: BlocKind
    units: tuple[Unit, ...]


async def set_rotation(
    services: Services, actor: Actor, refs: list[str]
) -> RotationSet | Rejected:
    """The order in which units take their turn as leader (luân phiên)."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        units = await uow.blocs.units(bloc_id)
        if not units:
            return Rejected(Reason.NO_UNITS)
        current = await uow.blocs.get(bloc_id)
        kind = current.kind if current else BlocKind.KHOI
        ordered: list[Unit] = []
        for ref in refs:
            unit = pick_unit(units, ref)
            if isinstance(unit, Rejected):
                return unit
            if unit not in ordered:
                ordered.append(unit)
        if len(ordered) != len(units):
            missing = [u.short_name for u in units if u not in ordered]
            return Rejected(Reason.ROTATION_INCOMPLETE, {"missing": missing})
        await uow.blocs.set_rotation(bloc_id, [u.id for u in ordered])
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action="bloc.rotation",
            order=[u.id for u in ordered],
        )
        await uow.commit()
    return RotationSet(kind, tuple(ordered))


async def link_group(
    services: Services, actor: Actor, *, chat_id: int, is_group: bool
) -> Bloc | Rejected:
    """`/bloc link` sent in a group by a secretariat member makes it the bloc's group."""
    if not is_group:
        return Rejected(Reason.GROUP_ONLY)
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        other = await uow.blocs.by_group_chat(chat_id)
        if other is not None and other.id != bloc_id:
            return Rejected(Reason.GROUP_TAKEN, {"bloc": other.name})
        await uow.blocs.set_group(bloc_id, chat_id)
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action="bloc.group_linked",
            chat_id=chat_id,
        )
        await uow.commit()
        bloc = await uow.blocs.get(bloc_id)
    assert bloc is not None
    return bloc


async def group_bloc(services: Services, chat_id: int) -> Bloc | None:
    async with services.db.uow() as uow:
        return await uow.blocs.by_group_chat(chat_id)


async def set_publish_receipts(services: Services, actor: Actor, publish: bool) -> Bloc | Rejected:
    """Opt in (or out) of publishing receipt code -> choice after each secret ballot's count.
    Publishing makes votes provable; the chat warns before turning it on."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow() as uow:
        await uow.blocs.set_publish_receipts(bloc_id, publish)
        await record(
            uow,
            services,
            bloc_id=bloc_id,
            actor_identity_id=actor.identity.id,
            action="bloc.publish_receipts",
            publish=publish,
        )
        bloc = await uow.blocs.require(bloc_id)
        await uow.commit()
    return bloc


# --- the bloc's level, the body it reports to, its regulation ---------------------------

_LEVEL_WORDS: dict[str, BlocLevel | None] = {
    **dict.fromkeys(("national", "trung uong", "trunguong", "tw", "quoc gia"), BlocLevel.NATIONAL),
    **dict.fromkeys(("ministry", "bo", "nganh", "bo nganh"), BlocLevel.MINISTRY),
    **dict.fromkeys(("province", "tinh", "thanh pho", "tinh thanh pho"), BlocLevel.PROVINCE),
    **dict.fromkeys(("commune", "xa", "phuong", "xa phuong"), BlocLevel.COMMUNE),
    **dict.fromkeys(("", "none", "-", "khong", "chua chon", "mac dinh", "default"), None),
}
CLEAR = "-"  # typed for the body or the regulation: back to the level's default, or none


def parse_level(text: str) -> BlocLevel | Rejected | None:
    """A level as typed ("tỉnh", "trung ương", "province", …) or as the console's list sends
    it ("province"); "không", "-" or nothing: no level."""
    words = fold_diacritics(text.replace("_", " ").replace(",", " "))
    if words not in _LEVEL_WORDS:
        return Rejected(Reason.BAD_LEVEL, {"value": clean(text)})
    return _LEVEL_WORDS[words]


def _regulation(text: str) -> str:
    """Each line composed and trimmed, empty lines dropped (each line is one legal basis)."""
    lines = [clean(line) for line in nfc(text).splitlines()]
    return "\n".join(line for line in lines if line)


def memo_to(bloc: Bloc, t: Callable[[str], str]) -> tuple[str, tuple[str, ...]]:
    """Whom the bloc's memo is addressed to — the body it reports to, else its level's council
    — and the standing board copied under "Nơi nhận" when its level sends through one (not
    when the memo is addressed to that board itself). `t`: the catalog in a locale."""
    key = level_key(bloc.level)
    body = bloc.reports_to or t(f"level_body.{key}")
    if not level_defaults(bloc.level).through_board:
        return body, ()
    board = t(f"level_board.{key}")
    return body, () if name_key(board) == name_key(body) else (board,)


@dataclass(frozen=True, slots=True)
class LevelView:
    """The bloc's level and what it decides now: the tiers `/ballot defaults` would create
    (key, quota for the bloc's units) and the memo's addressee (`memo_to`)."""

    bloc: Bloc
    tiers: tuple[tuple[str, int], ...]
    changed: tuple[str, ...] = ()  # what this call changed: level, reports_to, regulation

    @property
    def level(self) -> str:
        return level_key(self.bloc.level)

    @property
    def regulation(self) -> tuple[str, ...]:
        """The regulation as the memo cites it, a legal basis a line."""
        return regulation_lines(self.bloc.regulation)

    def memo_to(self, t: Callable[[str], str]) -> tuple[str, tuple[str, ...]]:
        return memo_to(self.bloc, t)


async def level_view(services: Services, actor: Actor) -> LevelView | Rejected:
    """The secretariat's bloc's level, the body its memo goes to and its regulation."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    async with services.db.uow(read_only=True) as uow:
        bloc = await uow.blocs.require(bloc_id)
        units = await uow.blocs.units(bloc_id)
    return _level_view(bloc, len(units))


def _level_view(bloc: Bloc, units: int, changed: tuple[str, ...] = ()) -> LevelView:
    return LevelView(bloc, default_tiers(bloc.level, units), changed)


async def set_level(
    services: Services,
    actor: Actor,
    *,
    level: str | None = None,
    reports_to: str | None = None,
    regulation: str | None = None,
) -> LevelView | Rejected:
    """Set the bloc's level (which award tiers `/ballot defaults` creates, which body its memo
    goes to), the body it reports to ("-" or empty: the level's) and its regulation (the
    memo's legal bases; "-" or empty: none). None leaves a setting as it is; a refusal of any
    one changes nothing."""
    bloc_id = secretariat_bloc(actor)
    if isinstance(bloc_id, Rejected):
        return bloc_id
    new_level = parse_level(level) if level is not None else None
    if isinstance(new_level, Rejected):
        return new_level
    body = None if reports_to is None else clean(reports_to)
    rules = None if regulation is None else _regulation(regulation)
    for field, value in (("reports_to", body), ("regulation", rules)):
        refused = refuse_long(field, value) if value is not None else None
        if refused is not None:
            return refused
    async with services.db.uow() as uow:
        bloc = await uow.blocs.require(bloc_id)
        after = replace(
            bloc,
            level=new_level if level is not None else bloc.level,
            reports_to=bloc.reports_to if body is None else "" if body == CLEAR else body,
            regulation=bloc.regulation if rules is None else "" if rules == CLEAR else rules,
        )
        changed = tuple(
            name
            for name in ("level", "reports_to", "regulation")
            if getattr(after, name) != getattr(bloc, name)
        )
        if changed:
            await uow.blocs.set_level(
                bloc_id,
                level=after.level,
                reports_to=after.reports_to,
                regulation=after.regulation,
            )
            await record(
                uow,
                services,
                bloc_id=bloc_id,
                actor_identity_id=actor.identity.id,
                action="bloc.level",
                changed=list(changed),
                level=level_key(after.level),
                reports_to=after.reports_to,
                regulation=after.regulation,
            )
        units = await uow.blocs.units(bloc_id)
        await uow.commit()
    return _level_view(after, len(units), changed)
