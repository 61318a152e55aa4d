"""Year report: the file and the self-score on one page, on the same draft as the chat walk
(start on Telegram, finish here, or the reverse), then the chat's own receipt."""

from __future__ import annotations

from aiohttp import BodyPartReader, web

from bot.services import reports as svc
from bot.services.outcomes import Reason, Rejected
from handlers.web.base import (
    actor_of,
    client_address,
    config_of,
    go,
    locale_of,
    page,
    refused,
    services_of,
    upload_parts,
)

ITEM = "item-"  # the score inputs: item-<code>
CHUNK = 64 * 1024


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/report", report_page)
    router.add_get("/report/receipt", receipt_page)
    router.add_post("/report/file", file_post)
    router.add_post("/report/scores", scores_post)
    router.add_post("/report/submit", submit_post)


def _int(text: object) -> int | None:
    return int(text) if isinstance(text, str) and text.isdecimal() and len(text) < 12 else None


def _show(
    request: web.Request,
    form: svc.ReportForm | svc.ChoosePeriod | svc.WalkClosed | Rejected,
    *,
    status: int = 200,
    **context: object,
) -> web.Response:
    """The report page for a form, the period chooser, or the service's refusal."""
    if isinstance(form, svc.WalkClosed):
        return refused(request, form.rejected, status=400, back="/report")
    if isinstance(form, Rejected):
        return refused(request, form, status=status, back="/")
    if isinstance(form, svc.ChoosePeriod):
        return page(request, "report_periods", choose=form)
    context.setdefault("typed", {})
    return page(request, "report", status=status, form=form, **context)


async def report_page(request: web.Request) -> web.Response:
    period = _int(request.query.get("period"))
    form = await svc.report_form(services_of(request), actor_of(request), period_id=period)
    return _show(request, form)


def _back(request: web.Request, period: int | None) -> web.HTTPSeeOther:
    return go(request, "/report" if period is None else f"/report?period={period}")


async def file_post(request: web.Request) -> web.StreamResponse:
    """Multipart (csrf first, then file), read as it streams: the limit is enforced while
    reading, so a file over it is refused whole, never stored and never cut."""
    services, actor, config = services_of(request), actor_of(request), config_of(request)
    draft, period = _int(request.query.get("draft")), _int(request.query.get("period"))
    reader = await upload_parts(request)  # the csrf part first, checked
    if reader is None:
        return page(request, "error", status=403, code=403)
    limiter = config.uploads
    keys = (f"person:{actor.identity.id}", f"addr:{client_address(request)}")
    if any(limiter.full(key) for key in keys):
        return page(request, "too_many", status=429, minutes=limiter.wait_minutes())
    for key in keys:
        limiter.record(key)
    part = await reader.next()
    if not isinstance(part, BodyPartReader) or part.name != "file" or not part.filename:
        return await _file_refused(request, period, None)
    name = part.filename
    checked = await svc.check_upload(
        services, actor, draft_id=draft or 0, filename=name, size=None
    )
    if not isinstance(checked, svc.FileCheck):
        return await _file_refused(request, period, checked)
    data = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        data += chunk
        if len(data) > checked.ctx.period.max_bytes:
            # The service says it, with the period's limit: the first byte over is enough.
            over = await svc.check_upload(
                services, actor, draft_id=checked.ctx.draft.id, filename=name, size=len(data)
            )
            return await _file_refused(request, period, over)
    step = await svc.attach_file(
        services, actor, draft_id=checked.ctx.draft.id, filename=name, data=bytes(data)
    )
    if isinstance(step, svc.WalkClosed | Rejected):
        return await _file_refused(request, period, step)
    shown = step.step if isinstance(step, svc.FileReplaced) else step
    raise _back(request, shown.ctx.period.id)


async def _file_refused(
    request: web.Request,
    period: int | None,
    why: svc.FileCheck | svc.WalkClosed | Rejected | None,
) -> web.Response:
    """The upload's refusal beside the upload form (or the service's refusal of the page)."""
    if isinstance(why, svc.WalkClosed):
        return refused(request, why.rejected, status=400, back="/report")
    form = await svc.report_form(services_of(request), actor_of(request), period_id=period)
    return _show(request, form, status=400, file_refused=why, no_file=why is None)


def _typed(form: dict[str, str]) -> dict[str, str]:
    return {k.removeprefix(ITEM): v for k, v in form.items() if k.startswith(ITEM)}


async def _fields(request: web.Request) -> dict[str, str]:
    """The posted text fields (their CSRF token already checked by the middleware, which
    checks every form but the streamed upload)."""
    posted = await request.post()
    return {k: v for k, v in posted.items() if isinstance(v, str)}


async def scores_post(request: web.Request) -> web.StreamResponse:
    fields = await _fields(request)
    typed = _typed(fields)
    form = await svc.answer_many(
        services_of(request),
        actor_of(request),
        draft_id=_int(fields.get("draft")) or 0,
        values=typed,
    )
    if request.headers.get("X-Requested-With") == "fetch":  # the page's autosave
        if isinstance(form, svc.ReportForm):  # the new total, for the page to show
            total = services_of(request).renderer.page(
                locale_of(request), "report_total", form=form
            )
            return web.Response(text=total, status=422 if form.problems else 200)
        return web.Response(status=409)
    if isinstance(form, svc.ReportForm) and not form.problems:
        raise _back(request, form.ctx.period.id)
    return _show(request, form, status=400, typed=typed)


async def receipt_page(request: web.Request) -> web.Response:
    """The receipt of a version this person submitted, read again from what is stored."""
    done = await svc.receipt_again(
        services_of(request),
        actor_of(request),
        period_id=_int(request.query.get("period")) or 0,
        version=_int(request.query.get("version")) or 0,
    )
    if isinstance(done, Rejected):
        return refused(request, done, status=404, back="/report")
    return page(request, "report_receipt", done=done)


async def submit_post(request: web.Request) -> web.StreamResponse:
    """Confirm: the values on the form are saved first (a page without the script), then the
    draft becomes the unit's next version and the chat's receipt is shown."""
    fields = await _fields(request)
    services, actor = services_of(request), actor_of(request)
    draft, period = _int(fields.get("draft")) or 0, _int(fields.get("period"))
    typed = _typed(fields)
    if typed:  # a refusal here (the draft gone) is confirm's to show, or a reload's receipt
        saved = await svc.answer_many(services, actor, draft_id=draft, values=typed)
        if isinstance(saved, svc.ReportForm) and saved.problems:
            return _show(request, saved, status=400, typed=typed)
    done = await svc.confirm(services, actor, draft_id=draft)
    version = _int(fields.get("version"))
    if isinstance(done, Rejected) and period is not None and version is not None:
        # The draft is gone: if it became that very version of ours (a reload), its receipt.
        again = await svc.receipt_again(services, actor, period_id=period, version=version)
        done = again if isinstance(again, svc.Receipt) else done
    if isinstance(done, svc.Receipt) and not done.ctx.draft.on_behalf:
        # To the receipt's own page (303): a reload shows it again and submits nothing.
        receipt = f"/report/receipt?period={done.ctx.period.id}&version={done.submission.version}"
        raise go(request, receipt)
    if isinstance(done, svc.Receipt | svc.Reviewed):  # a draft this page never offers
        return page(request, "report_receipt", done=done)
    if isinstance(done, svc.WalkClosed):
        return _show(request, done)
    if isinstance(done, Rejected) and done.reason is not Reason.NO_FILE_YET:
        return refused(request, done, status=400, back="/report")
    # Not complete yet (the file, or items not answered): the page says what is missing.
    form = await svc.report_form(services, actor, period_id=period)
    return _show(request, form, status=400, incomplete=True)
