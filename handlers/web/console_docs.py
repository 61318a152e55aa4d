"""The console's covenant, summary and minutes, and the new year: set the covenant's text
(typed, or from a .txt/.docx file with the chat's checks; its SHA-256 shown) and see who has
signed; write the summary's two paragraphs and the launch of next year's movement, list, add
and remove the awards handed out at the conference, preview it in Vietnamese and English, post
it to the group or, without one, to each member (a confirm first); download the minutes, the
vote-count records and the memo (the DOCX files /minutes sends, each with its PDF for signing
when LibreOffice is installed); collect the proposed units' achievement reports and download
the award dossier (ZIP); start the new year (a confirm naming what happens first). The same
services as `/covenant set`, `/summary`, `/minutes` (`collect`, `dossier`) and `/bloc newyear`
in chat."""

from __future__ import annotations

from aiohttp import BodyPartReader, web
from markupsafe import Markup

from bot.core.models import Locale
from bot.core.text import TEXT_LIMITS, nfc
from bot.services import covenant as cov
from bot.services import dossier, hall_record, minutes, newyear
from bot.services import summary as svc
from bot.services.actors import secretariat_bloc
from bot.services.outcomes import Reason, Rejected
from handlers.telegram.covenant import MAX_FILE
from handlers.web.base import (
    DOCX,
    actor_of,
    attachment,
    client_address,
    config_of,
    form_id,
    go,
    locale_of,
    page,
    pdf_attachment,
    refused,
    services_of,
    typed_form,
    upload_parts,
)
from handlers.web.console_ballots import chat_time
from handlers.web.console_deadlines import forbidden

PARAGRAPHS = ("movements", "closing")
HANDED_OUT_FIELDS = ("by", "form", "collectives", "individuals", "households", "names")
CHUNK = 64 * 1024


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/console/covenant", covenant_page)
    router.add_post("/console/covenant", covenant_post)
    router.add_post("/console/covenant/file", covenant_file_post)
    router.add_get("/console/summary", summary_page)
    router.add_post("/console/summary", summary_post)
    router.add_post("/console/summary/handed-out", handed_out_post)
    router.add_post("/console/summary/discussion", discussion_post)
    router.add_post("/console/summary/handed-out/remove", handed_out_remove_post)
    router.add_get("/console/summary/post", post_page)
    router.add_post("/console/summary/post", post_post)
    router.add_get(r"/console/minutes/{doc:minutes|records|memo}", minutes_download)
    router.add_get("/console/dossier", dossier_download)
    router.add_post("/console/dossier/collect", collect_post)
    router.add_get(r"/console/minutes/{doc:minutes|records|memo}/pdf", minutes_pdf)
    router.add_get("/console/newyear", newyear_page)
    router.add_post("/console/newyear", newyear_post)


def _refused(request: web.Request, rejected: Rejected, back: str = "/console") -> web.Response:
    return forbidden(request, rejected) or refused(request, rejected, back=back)


# --- the covenant ------------------------------------------------------------------------------


async def covenant_page(
    request: web.Request,
    *,
    problem: Rejected | None = None,
    typed: dict[str, str] | None = None,
) -> web.Response:
    services, actor = services_of(request), actor_of(request)
    allowed = secretariat_bloc(actor)
    if isinstance(allowed, Rejected):
        return _refused(request, allowed)
    view = await cov.covenant_view(services, actor)
    if isinstance(view, Rejected):
        return _refused(request, view)
    outcome = None
    if not problem and request.query.get("done") == "set":
        # Read again (how many were told, from the audit log): a reload never tells twice.
        done = await cov.last_set(services, actor)
        outcome = None if done is None else ("covenant_set", {"done": done})
    return page(
        request,
        "console_covenant",
        status=400 if problem else 200,
        nav="console",
        view=view,
        sha256=cov.text_hash(view.covenant.text) if view.covenant else "",
        outcome=outcome,
        problem=problem,
        typed=typed or {},
    )


async def _covenant_set(
    request: web.Request, text: str | Rejected, typed: dict[str, str]
) -> web.Response:
    services = services_of(request)
    done = (
        text
        if isinstance(text, Rejected)
        else await cov.set_covenant(
            services, actor_of(request), text=text, due_text=chat_time(typed.get("due", ""))
        )
    )
    if isinstance(done, Rejected):
        return forbidden(request, done) or await covenant_page(request, problem=done, typed=typed)
    await services.outbox_flush()
    raise go(request, "/console/covenant?done=set")


async def covenant_post(request: web.Request) -> web.Response:
    form = await typed_form(request)
    return await _covenant_set(request, form.get("text", ""), form)


async def covenant_file_post(request: web.Request) -> web.Response:
    """A .txt or .docx whose text is the covenant, read as it streams (csrf first, then the
    date to sign by, then the file): the chat's size limit — the first byte over is enough —
    and the chat's file checks."""
    allowed = secretariat_bloc(actor_of(request))  # a representative's file is never read
    if isinstance(allowed, Rejected):
        return _refused(request, allowed)
    reader = await upload_parts(request)
    if reader is None:
        return page(request, "error", status=403, code=403)
    config = config_of(request)
    keys = (f"person:{actor_of(request).identity.id}", f"addr:{client_address(request)}")
    if any(config.uploads.full(key) for key in keys):
        return page(request, "too_many", status=429, minutes=config.uploads.wait_minutes())
    for key in keys:
        config.uploads.record(key)
    typed = {"due": ""}
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            break
        if part.name == "due":
            raw = await part.read_chunk(256)  # a date and a time: a few bytes
            typed["due"] = nfc(raw.decode("utf-8", "replace")).strip()
            continue
        if part.name != "file" or not part.filename:
            break
        data = bytearray()
        while chunk := await part.read_chunk(CHUNK):
            data += chunk
            if len(data) > MAX_FILE:
                return await _covenant_set(
                    request, Rejected(Reason.COVENANT_FILE_UNREADABLE), typed
                )
        if not data:
            break
        text = await cov.text_from_file(part.filename, bytes(data))
        return await _covenant_set(request, text, typed)
    return await _covenant_set(request, Rejected(Reason.EMPTY_FILE), typed)


# --- the summary and the minutes ---------------------------------------------------------------


async def summary_page(
    request: web.Request,
    *,
    problem: Rejected | None = None,
    typed: dict[str, str] | None = None,
    problem_at: str = "",
) -> web.Response:
    services = services_of(request)
    data = await svc.summary(services, actor_of(request))
    if isinstance(data, Rejected):
        return _refused(request, data)
    # The chat's message in each language: an autoescaped template (its own markup only).
    previews = {
        locale.value: Markup(svc.render_summary(services, data, locale))
        for locale in (Locale.VI, Locale.EN)
    }
    values = {
        "movements": data.conference.summary_movements,
        "closing": data.conference.summary_closing,
        "launch": data.conference.launch,
        **(typed or {}),
    }
    done = "" if problem else request.query.get("done", "")
    collecting = await dossier.collection(services, actor_of(request))
    said = await minutes.discussion(services, actor_of(request), locale=locale_of(request))
    outcome: tuple[str, dict[str, int]] | None = None
    if done == "posted":
        outcome = ("summary_posted", {"members": 0})
    elif done == "sent":
        members = await svc.last_sent(services, data.bloc.id)
        outcome = None if members is None else ("summary_posted", {"members": members})
    return page(
        request,
        "console_summary",
        status=400 if problem else 200,
        nav="console",
        data=data,
        previews=previews,
        values=values,
        outcome=outcome,
        saved=done == "saved",
        handed_out=done if done in {"added", "removed"} else "",
        discussion=None if isinstance(said, Rejected) else said,
        discussion_saved=done == "discussed",
        limits=TEXT_LIMITS,
        keys=[hall_record.handed_out_key(a) for a in data.conference.handed_out],
        problem=problem,
        problem_at=problem_at,
        collecting=None if isinstance(collecting, Rejected) else collecting,
        collect_opened=done == "collecting",
        pdf_made=services.pdf.available,
    )


async def summary_post(request: web.Request) -> web.Response:
    form = await typed_form(request)
    services, actor = services_of(request), actor_of(request)
    current = await svc.summary(services, actor)
    if isinstance(current, Rejected):
        return _refused(request, current)
    stored = {
        "movements": current.conference.summary_movements,
        "closing": current.conference.summary_closing,
    }
    typed = {which: form.get(which, "") for which in (*PARAGRAPHS, "launch")}
    for which in PARAGRAPHS:
        if typed[which] == stored[which]:
            continue  # unchanged: nothing saved, nothing audited
        changed = await svc.set_paragraph(services, actor, which=which, text=typed[which])
        if isinstance(changed, Rejected):
            return forbidden(request, changed) or await summary_page(
                request, problem=changed, typed=typed
            )
    if "launch" in form and typed["launch"] != current.conference.launch:
        launched = await hall_record.set_launch(services, actor, typed["launch"])
        if isinstance(launched, Rejected):
            return forbidden(request, launched) or await summary_page(
                request, problem=launched, typed=typed
            )
    raise go(request, "/console/summary?done=saved")


async def handed_out_post(request: web.Request) -> web.Response:
    """Add an award handed out at the conference (the chat's `/summary awards …`)."""
    form = await typed_form(request)
    typed = {name: form.get(name, "") for name in HANDED_OUT_FIELDS}
    added = await hall_record.add_handed_out(services_of(request), actor_of(request), **typed)
    if isinstance(added, Rejected):
        return forbidden(request, added) or await summary_page(request, problem=added, typed=typed)
    raise go(request, "/console/summary?done=added#handed-out")


async def discussion_post(request: web.Request) -> web.Response:
    """The discussion of each agenda item, for the minutes (the chat's `/minutes discussion`):
    each item whose text changed is saved; a refusal keeps what was typed."""
    services, actor = services_of(request), actor_of(request)
    allowed = await minutes.discussion(services, actor, locale=locale_of(request))
    if isinstance(allowed, Rejected):  # refused before the form is read, whatever it holds
        return _refused(request, allowed)
    form = await typed_form(request)
    typed = {
        f"discussion_{key}": form[f"discussion_{key}"]
        for key in minutes.AGENDA_KEYS
        if f"discussion_{key}" in form
    }
    for name, text in typed.items():
        key = name.removeprefix("discussion_")
        said = await minutes.set_discussion(services, actor, key, text, locale=locale_of(request))
        if isinstance(said, Rejected):
            return forbidden(request, said) or await summary_page(
                request, problem=said, typed=typed, problem_at="discussion"
            )
    raise go(request, "/console/summary?done=discussed#discussion")


async def handed_out_remove_post(request: web.Request) -> web.Response:
    form = await typed_form(request)
    removed = await hall_record.remove_handed_out(
        services_of(request),
        actor_of(request),
        form_id(form.get("number")),
        key=form.get("key", ""),
    )
    if isinstance(removed, Rejected):
        return forbidden(request, removed) or await summary_page(request, problem=removed)
    raise go(request, "/console/summary?done=removed#handed-out")


async def post_page(request: web.Request) -> web.Response:
    data = await svc.summary(services_of(request), actor_of(request))
    if isinstance(data, Rejected):
        return _refused(request, data, back="/console/summary")
    return page(request, "console_summary_post", nav="console", data=data)


async def post_post(request: web.Request) -> web.Response:
    services = services_of(request)
    posted = await svc.post_summary(services, actor_of(request))
    if isinstance(posted, Rejected):
        return _refused(request, posted, back="/console/summary")
    await services.outbox_flush()
    # To the group, or (no group linked) to each member: the page says which, read back.
    raise go(request, "/console/summary?done=" + ("sent" if posted.members else "posted"))


async def _paperwork_file(request: web.Request) -> tuple[str, bytes] | web.Response:
    """One of the three files /minutes sends (`?lang=en`: in English, as `/minutes en`;
    `?year=2024`: an earlier year's, as `/minutes 2024` after the new year), or the page
    that says why not."""
    locale = "en" if request.query.get("lang") == "en" else "vi"
    year_text = request.query.get("year", "")
    year = int(year_text) if year_text.isdecimal() and len(year_text) == 4 else None
    done = await minutes.paperwork(
        services_of(request), actor_of(request), locale=locale, year=year
    )
    if isinstance(done, Rejected):
        return _refused(request, done, back="/console/summary")
    t = services_of(request).renderer.t
    files = {
        "minutes": (t(locale, "minutes.filename"), done.minutes),
        "records": (t(locale, "minutes.records_filename"), done.records),
        "memo": (t(locale, "memo.filename"), done.memo),
    }
    name, data = files[request.match_info["doc"]]
    if data is None:  # no ballot counted yet: no records to attach
        return page(request, "console_note", status=404, note="web.console_no_records")
    return name, data


async def minutes_download(request: web.Request) -> web.StreamResponse:
    """The minutes, the vote-count records or the memo, as DOCX."""
    found = await _paperwork_file(request)
    if isinstance(found, web.Response):
        return found
    name, data = found
    return attachment(data, DOCX, name)


async def minutes_pdf(request: web.Request) -> web.StreamResponse:
    """The same file as PDF, for digital signing (LibreOffice, fonts embedded); a page that
    says so when LibreOffice is not installed or the conversion failed (the DOCX link stays)."""
    found = await _paperwork_file(request)
    if isinstance(found, web.Response):
        return found
    name, data = found
    return await pdf_attachment(request, name, data)


async def collect_post(request: web.Request) -> web.Response:
    """Ask the proposed units for their achievement reports by the date typed (as `/minutes
    collect`); the summary page then shows the collection, read from what is stored."""
    form = await typed_form(request)
    services = services_of(request)
    opened = await dossier.open_collection(
        services, actor_of(request), deadline_text=chat_time(form.get("deadline", ""))
    )
    if isinstance(opened, Rejected):
        return forbidden(request, opened) or await summary_page(request, problem=opened)
    await services.outbox_flush()
    raise go(request, "/console/summary?done=collecting")


async def dossier_download(request: web.Request) -> web.StreamResponse:
    """The award dossier as /minutes dossier sends it (`?lang=en`, `?year=2024` as there)."""
    locale = "en" if request.query.get("lang") == "en" else "vi"
    year_text = request.query.get("year", "")
    year = int(year_text) if year_text.isdecimal() and len(year_text) == 4 else None
    done = await dossier.dossier(services_of(request), actor_of(request), locale=locale, year=year)
    if isinstance(done, Rejected):
        return _refused(request, done, back="/console/summary")
    return web.Response(
        body=done.data,
        content_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{done.name}"'},
    )


# --- the new year ------------------------------------------------------------------------------


async def newyear_page(request: web.Request) -> web.Response:
    if request.query.get("done") == "started":
        # The year moved on: said from the audit log, so a reload moves nothing.
        started = await newyear.year_started(services_of(request), actor_of(request))
        if started is not None:
            return page(request, "console_newyear_done", nav="console", plan=started)
    plan = await newyear.plan_new_year(services_of(request), actor_of(request))
    if isinstance(plan, Rejected):
        return _refused(request, plan, back="/console/summary")
    return page(request, "console_newyear", nav="console", plan=plan)


async def newyear_post(request: web.Request) -> web.Response:
    form = await typed_form(request)
    done = await newyear.start_new_year(
        services_of(request), actor_of(request), year=form_id(form.get("year"))
    )
    if isinstance(done, Rejected):
        return _refused(request, done, back="/console/summary")
    raise go(request, "/console/newyear?done=started")
