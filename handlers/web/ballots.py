"""Ballots: the unit's open ballots, a ballot page (radio buttons, or checkboxes with the
quota counter), the confirm step and the cast — a secret ballot's receipt shown once. The
rules, refusals and notices are the chat's (bot.services.voting); the choice being confirmed
travels in a form field as the chat keeps it (`hold_choice`: sealed for a secret ballot)."""

from __future__ import annotations

from aiohttp import web
from markupsafe import Markup
from multidict import MultiDictProxy

from bot.core.text import nfc
from bot.core.voting import CastRejection, Choice
from bot.services import voting as svc
from bot.services.outcomes import Reason, Rejected
from handlers.texts import Ui, cast_text
from handlers.web.base import actor_of, go, locale_of, page, refused, services_of

BALLOT = r"/ballots/{id:\d{1,9}}"  # a database id; anything longer is no ballot of ours
FormData = MultiDictProxy[str | bytes | bytearray | web.FileField]


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/ballots", ballots_page)
    router.add_get(BALLOT, ballot_page)
    router.add_post(BALLOT + "/preview", preview_post)
    router.add_post(BALLOT + "/cast", cast_post)


async def ballots_page(request: web.Request) -> web.Response:
    services, actor = services_of(request), actor_of(request)
    views = await svc.open_ballots_for(services, actor)
    if isinstance(views, Rejected):
        # Not a voter here (an observer, the secretariat): the turnout, read-only.
        turnout = await svc.bloc_turnout(services, actor)
        if isinstance(turnout, Rejected):
            return refused(request, views)
        return page(request, "ballots", views=[], turnout=turnout, why=views, check=False)
    check = await svc.has_secret_ballots(services, actor)
    return page(request, "ballots", views=views, turnout=None, why=None, check=check)


async def ballot_page(request: web.Request) -> web.Response:
    ballot_id = int(request.match_info["id"])
    view = await svc.vote_view(services_of(request), actor_of(request), ballot_id=ballot_id)
    if isinstance(view, Rejected):
        return refused(request, view, status=_status(view, post=False), back="/ballots")
    # After an open ballot's cast (a redirect): the unit's vote as stored, so a reload casts
    # nothing (a stale choice never replaces a colleague's later one).
    done = svc.cast_again(view, request.query.get("done", ""))
    if done is not None:
        return _done(request, done)
    return _form(request, view)


async def preview_post(request: web.Request) -> web.Response:
    services, actor = services_of(request), actor_of(request)
    ballot_id = int(request.match_info["id"])
    choice = _choice_of(await request.post())
    shown = (
        Rejected(Reason.CAST, {"why": CastRejection.NOT_A_CANDIDATE.value})
        if choice is None
        else await svc.preview(services, actor, ballot_id=ballot_id, choice=choice)
    )
    if isinstance(shown, Rejected):
        # The form again with the refusal, as chosen; or only the refusal when the ballot
        # itself is out of reach (closed, another bloc's).
        view = await svc.vote_view(services, actor, ballot_id=ballot_id)
        if isinstance(view, Rejected):
            return refused(request, shown, status=_status(shown, post=True), back="/ballots")
        chosen = choice or Choice()
        return _form(request, view, chosen=chosen, rejected=shown, status=400)
    pending = shown.pending or Choice()
    held = await svc.hold_choice(services, actor, ballot_id=ballot_id, choice=pending)
    if isinstance(held, Rejected):
        return refused(request, held, status=400, back=f"/ballots/{ballot_id}")
    return page(request, "ballot_confirm", nav="ballots", view=shown, held=held)


async def cast_post(request: web.Request) -> web.StreamResponse:
    services, actor = services_of(request), actor_of(request)
    ballot_id = int(request.match_info["id"])
    back = f"/ballots/{ballot_id}"
    token = (await request.post()).get("held")
    done = await svc.cast_vote(
        services,
        actor,
        ballot_id=ballot_id,
        choice=None,
        held=token if isinstance(token, str) else "",
    )
    if isinstance(done, Rejected):
        return refused(request, done, status=_status(done, post=True), back=back)
    if done.receipt:
        # A secret ballot's receipt is in this answer only (never stored; the page is
        # no-store): it cannot be shown after a redirect. A reload is refused (cast once).
        return _done(request, done)
    answer = "unchanged" if done.unchanged else "recast" if done.replaced else "cast"
    raise go(request, f"{back}?done={answer}")


def _done(request: web.Request, done: svc.Accepted) -> web.Response:
    ui = Ui(services_of(request).renderer, locale_of(request))
    text = "" if done.receipt else cast_text(ui, done)
    return page(request, "ballot_done", done=done, text=Markup(text))


def _form(
    request: web.Request,
    view: svc.VoteView,
    *,
    chosen: Choice | None = None,
    rejected: Rejected | None = None,
    status: int = 200,
) -> web.Response:
    """The ballot's form, filled with what was chosen: the unit's multi-select draft (shared
    with chat) or its current open vote, or what was just posted."""
    if chosen is None:
        chosen = Choice(view.selection) if view.selection else view.current or Choice()
    return page(
        request,
        "ballot",
        status=status,
        view=view,
        chosen=chosen,
        rejected=rejected,
        back_path=f"/ballots/{view.info.ballot.id}",
    )


def _choice_of(form: FormData) -> Choice | None:
    """choice=<index> (repeated), blank=1 (the «Phiếu trắng» button), other=<text>; None when
    an index is not a number (a forged form)."""
    if form.get("blank") == "1":
        return Choice(blank=True)
    try:
        options = tuple(int(str(value)) for value in form.getall("choice", []))
    except ValueError:
        return None
    other = form.get("other")
    return Choice(options, other_text=nfc(other).strip() if isinstance(other, str) else "")


def _status(rejected: Rejected, *, post: bool) -> int:
    if rejected.reason is Reason.UNKNOWN_BALLOT:
        return 404
    if rejected.detail.get("why") == CastRejection.NOT_ELIGIBLE.value:
        return 403  # another bloc's ballot
    return 400 if post else 200
