"""The secretariat's console, units: the list, adding and correcting a unit, importing a file
(a preview first, saved only on a second «confirm»), invites (issued, revoked, printed with
their QR codes), taking a representative off a unit and removing a unit nothing refers to (a
page says what will happen, or why it cannot) — each through the service the chat's `/units`
and `/invite` use (same checks, audit and refusals). Representatives get 403.

An invite's code is stored hashed, as in chat: it exists only in the answer to the POST that
issued it, so that answer is the printable page itself (not a redirect to a page that could
no longer show it). A reload posts again and issues a fresh code, which replaces the unit's
previous one: the page shown always carries a code that works."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web
from markupsafe import Markup
from multidict import MultiDictProxy

from bot.core.models import Platform
from bot.services import console
from bot.services import invites as inv
from bot.services import units as svc
from bot.services.actors import secretariat_bloc
from bot.services.outcomes import Reason, Rejected
from bot.services.tabular import MAX_FILE_BYTES
from handlers.web.base import (
    actor_of,
    client_address,
    config_of,
    form_id,
    go,
    page,
    qr_svg,
    refused,
    services_of,
    signed_in,
    upload_parts,
)

CHUNK = 64 * 1024
STAFF_ROLES = ("secretariat", "observer")  # the words issue_invite reads as a staff role
UNITS = "/console/units"
# What the list page may say went wrong (each None unless a POST was refused).
LIST_PROBLEMS = (
    "add_problem", "import_refused", "import_missing", "import_expired", "staff_problem",
)  # fmt: skip


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get(UNITS, units_list)
    router.add_post(UNITS, add_post)
    router.add_post(f"{UNITS}/import", import_post)
    router.add_post(f"{UNITS}/import/confirm", import_confirm)
    router.add_post(f"{UNITS}/invites", staff_invite_post)
    router.add_post(f"{UNITS}/invites/missing", missing_invites_post)
    router.add_get(UNITS + r"/{unit:\d+}", unit_get)
    router.add_post(UNITS + r"/{unit:\d+}", edit_post)
    router.add_post(UNITS + r"/{unit:\d+}/invite", invite_post)
    router.add_get(UNITS + r"/{unit:\d+}/revoke", revoke_get)
    router.add_post(UNITS + r"/{unit:\d+}/revoke", revoke_post)
    router.add_get(UNITS + r"/{unit:\d+}/delete", delete_get)
    router.add_post(UNITS + r"/{unit:\d+}/delete", delete_post)
    router.add_get(UNITS + r"/{unit:\d+}/members/{member:\d+}", remove_get)
    router.add_post(UNITS + r"/{unit:\d+}/members/{member:\d+}", remove_post)


def _refused(request: web.Request, rejected: Rejected) -> web.Response:
    """The chat's refusal: 403 for a person who is not the secretariat, 404 for a unit or a
    member that is not (or no longer) in the bloc, 400 for anything else."""
    status = {
        Reason.NOT_SECRETARIAT: 403,
        Reason.UNKNOWN_UNIT: 404,
        Reason.UNKNOWN_MEMBER: 404,
        Reason.UNIT_KEPT: 409,
        Reason.UNIT_HAS_MEMBERS: 409,
    }.get(rejected.reason, 400)
    unit = rejected.detail.get("unit_id")
    return refused(request, rejected, status=status, back=f"{UNITS}/{unit}" if unit else UNITS)


def _text(form: MultiDictProxy[Any], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _unit_fields(form: MultiDictProxy[Any]) -> dict[str, str]:
    return {name: _text(form, name) for name in ("name", "short_name", "contact")}


def _uses(text: str) -> int:
    """The number of uses typed (1 when left empty; 0, which the service refuses, when it is
    not a number)."""
    text = text.strip()
    if not text:
        return 1
    return int(text) if text.isascii() and text.isdecimal() and len(text) <= 3 else 0


def _unit_id(request: web.Request) -> int:
    return form_id(request.match_info.get("unit"))


# --- the list, adding a unit ------------------------------------------------------------


async def units_list(
    request: web.Request,
    *,
    status: int = 200,
    **context: Any,
) -> web.Response:
    found = await console.units_page(services_of(request), actor_of(request))
    if isinstance(found, Rejected):
        return _refused(request, found)
    context.setdefault("typed", {})
    for name in LIST_PROBLEMS:
        context.setdefault(name, None)
    return page(
        request,
        "console_units",
        status=status,
        nav="console",
        view=found,
        added=form_id(request.query.get("added")),
        deleted=await svc.removed_unit_name(
            services_of(request), actor_of(request), form_id(request.query.get("deleted"))
        )
        if "deleted" in request.query
        else None,
        imported=form_id(request.query.get("imported")),
        max_uses=inv.MAX_USES_LIMIT,
        **context,
    )


async def add_post(request: web.Request) -> web.StreamResponse:
    typed = _unit_fields(await request.post())
    added = await svc.add_unit(services_of(request), actor_of(request), **typed)
    if isinstance(added, Rejected):
        return _refused(request, added)
    if isinstance(added, svc.UnitRefused):
        return await units_list(request, status=400, typed=typed, add_problem=added.problem)
    raise go(request, f"{UNITS}?added={added.number}")


# --- import: a preview, then «confirm» ---------------------------------------------------


async def import_post(request: web.Request) -> web.StreamResponse:
    """Multipart (csrf first, then the file), streamed: past the import's limit the file is
    refused whole, as in chat. Nothing is saved here."""
    services, actor, config = services_of(request), actor_of(request), config_of(request)
    reader = await upload_parts(request)
    if reader is None:
        return page(request, "error", status=403, code=403)
    allowed = secretariat_bloc(actor)  # before a byte of the file is read
    if isinstance(allowed, Rejected):
        return _refused(request, allowed)
    # The same budget as the report's uploads: each preview is a file parsed in the sandbox.
    keys = (f"person:{actor.identity.id}", f"addr:{client_address(request)}")
    if any(config.uploads.full(key) for key in keys):
        return page(request, "too_many", status=429, minutes=config.uploads.wait_minutes())
    for key in keys:
        config.uploads.record(key)
    part = await reader.next()
    if not isinstance(part, BodyPartReader) or part.name != "file" or not part.filename:
        return await units_list(request, status=400, import_missing=True)
    name, data = part.filename, bytearray()
    while chunk := await part.read_chunk(CHUNK):
        data += chunk
        if len(data) > MAX_FILE_BYTES:  # the first byte over is enough: the service says it
            break
    preview = await svc.preview_import(services, actor, filename=name, data=bytes(data))
    if isinstance(preview, Rejected):
        return _refused(request, preview)
    if isinstance(preview, svc.ImportRefused):
        return await units_list(request, status=400, import_refused=preview)
    found = signed_in(request)
    assert found is not None
    return page(
        request,
        "console_units_import",
        status=200 if preview.check.ok else 400,
        nav="console",
        preview=preview,
        sealed=console.seal_import(services, actor, found.csrf, preview)
        if preview.check.ok
        else "",
    )


async def import_confirm(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    found = signed_in(request)
    assert found is not None
    done = await console.confirm_import(
        services_of(request), actor_of(request), found.csrf, _text(form, "rows")
    )
    if isinstance(done, Rejected):
        return _refused(request, done)
    if isinstance(done, console.SealBroken):
        return await units_list(request, status=400, import_expired=True)
    if isinstance(done, svc.ImportRefused):  # the bloc changed since the preview
        return await units_list(request, status=400, import_refused=done)
    raise go(request, f"{UNITS}?imported={len(done.units)}")


# --- one unit: correct it, its invites, its representatives ------------------------------


async def unit_get(request: web.Request, *, status: int = 200, **context: Any) -> web.Response:
    found = await console.unit_page(services_of(request), actor_of(request), _unit_id(request))
    if isinstance(found, Rejected):
        return _refused(request, found)
    context.setdefault("typed", {})
    for name in ("edit_problem", "invite_problem"):
        context.setdefault(name, None)
    return page(
        request,
        "console_unit",
        status=status,
        nav="console",
        view=found,
        saved=request.query.get("saved") == "1",
        revoked=request.query.get("revoked"),
        removed=request.query.get("removed") == "1",
        max_uses=inv.MAX_USES_LIMIT,
        **context,
    )


async def edit_post(request: web.Request) -> web.StreamResponse:
    typed = _unit_fields(await request.post())
    unit_id = _unit_id(request)
    done = await svc.update_unit(services_of(request), actor_of(request), unit_id=unit_id, **typed)
    if isinstance(done, Rejected):
        return _refused(request, done)
    if isinstance(done, svc.UnitRefused):
        return await unit_get(request, status=400, typed=typed, edit_problem=done.problem)
    raise go(request, f"{UNITS}/{unit_id}?saved=1")


@dataclass(frozen=True, slots=True)
class Printed:
    """An issued invite as printed: its code and, where the bot runs on Telegram, the chat's
    deep link and that link's QR code (a bot on Zalo alone has no link: the code is typed)."""

    issued: inv.IssuedInvite
    link: str | None

    @property
    def qr(self) -> Markup:
        return qr_svg(self.link) if self.link else Markup()


def _printed(request: web.Request, issued: list[inv.IssuedInvite], **context: Any) -> web.Response:
    services = services_of(request)
    username = services.bot_username  # set once the bot runs on Telegram
    invites = [
        Printed(item, inv.deep_link(username, item.code) if username else None) for item in issued
    ]
    context.setdefault("missing", False)
    zalo = Platform.ZALO in services.channels
    return page(request, "console_invites", nav="console", invites=invites, zalo=zalo, **context)


async def invite_post(request: web.Request) -> web.StreamResponse:
    services, actor = services_of(request), actor_of(request)
    uses_typed = _text(await request.post(), "uses")
    found = await console.unit_page(services, actor, _unit_id(request))
    if isinstance(found, Rejected):
        return _refused(request, found)
    issued = await inv.issue_invite(
        services, actor, target=str(found.view.number), max_uses=_uses(uses_typed)
    )
    if isinstance(issued, Rejected):
        if issued.reason is Reason.BAD_MAX_USES:
            return await unit_get(
                request, status=400, invite_problem=issued, typed={"uses": uses_typed}
            )
        return _refused(request, issued)
    return _printed(request, [issued], back=f"{UNITS}/{found.view.unit.id}")


async def staff_invite_post(request: web.Request) -> web.StreamResponse:
    allowed = secretariat_bloc(actor_of(request))  # who asks, before what is asked
    if isinstance(allowed, Rejected):
        return _refused(request, allowed)
    form = await request.post()
    role, uses_typed = _text(form, "role"), _text(form, "uses")
    if role not in STAFF_ROLES:
        return page(request, "error", status=400, code=400)
    issued = await inv.issue_invite(
        services_of(request), actor_of(request), target=role, max_uses=_uses(uses_typed)
    )
    if isinstance(issued, Rejected):
        if issued.reason is Reason.BAD_MAX_USES:
            return await units_list(
                request,
                status=400,
                staff_problem=issued,
                typed={"role": role, "uses": uses_typed},
            )
        return _refused(request, issued)
    return _printed(request, [issued], back=UNITS)


async def missing_invites_post(request: web.Request) -> web.StreamResponse:
    issued = await inv.issue_missing_invites(services_of(request), actor_of(request))
    if isinstance(issued, Rejected):
        return _refused(request, issued)
    return _printed(request, issued, back=UNITS, missing=True)


async def revoke_get(request: web.Request) -> web.Response:
    found = await console.unit_page(services_of(request), actor_of(request), _unit_id(request))
    if isinstance(found, Rejected):
        return _refused(request, found)
    return page(request, "console_confirm", nav="console", view=found, what="revoke")


async def revoke_post(request: web.Request) -> web.StreamResponse:
    services, actor = services_of(request), actor_of(request)
    found = await console.unit_page(services, actor, _unit_id(request))
    if isinstance(found, Rejected):
        return _refused(request, found)
    done = await inv.revoke_unit_invites(services, actor, target=str(found.view.number))
    if isinstance(done, Rejected):
        return _refused(request, done)
    raise go(request, f"{UNITS}/{done.unit.id}?revoked={done.count}")


async def remove_get(request: web.Request) -> web.Response:
    found = await console.unit_page(services_of(request), actor_of(request), _unit_id(request))
    if isinstance(found, Rejected):
        return _refused(request, found)
    member_id = form_id(request.match_info.get("member"))
    person = next((r for r in found.view.representatives if r.id == member_id), None)
    if person is None:
        return _refused(request, Rejected(Reason.UNKNOWN_MEMBER))
    return page(
        request, "console_confirm", nav="console", view=found, what="remove", person=person
    )


async def remove_post(request: web.Request) -> web.StreamResponse:
    services, actor = services_of(request), actor_of(request)
    found = await console.unit_page(services, actor, _unit_id(request))
    if isinstance(found, Rejected):
        return _refused(request, found)
    unit = found.view.unit
    done = await svc.remove_member(
        services,
        actor,
        bloc_id=unit.bloc_id,
        unit_id=unit.id,
        identity_id=form_id(request.match_info.get("member")),
    )
    if isinstance(done, Rejected):
        return _refused(request, done)
    raise go(request, f"{UNITS}/{unit.id}?removed=1")


# --- removing a unit: a page that says what will happen (or why it cannot), then POST ----


async def delete_get(request: web.Request) -> web.Response:
    services, actor = services_of(request), actor_of(request)
    found = await console.unit_page(services, actor, _unit_id(request))
    if isinstance(found, Rejected):
        return _refused(request, found)
    plan = await svc.removal_plan(services, actor, unit_id=found.view.unit.id)
    if isinstance(plan, Rejected):
        return _refused(request, plan)
    return page(request, "console_confirm", nav="console", view=found, what="delete", plan=plan)


async def delete_post(request: web.Request) -> web.StreamResponse:
    done = await svc.remove_unit(
        services_of(request), actor_of(request), unit_id=_unit_id(request)
    )
    if isinstance(done, Rejected):
        return _refused(request, done)
    raise go(request, f"{UNITS}?deleted={done.unit.id}")
