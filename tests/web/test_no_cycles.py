"""A cast through the web leaves nothing for the garbage collector: every object the POST
makes is freed as soon as it is done with. Objects in reference cycles wait for a collection,
and at 50 casts a second the full collections they brought paused the worker for 30-95 ms
(bench/web.py). The causes found: a redirect raised as an exception (aiohttp kept it as the
response, its traceback holding every frame of the request), and an alias of the ballot table
and the turnout's count query built anew for each cast. (A cast whose unit has other
representatives also renders their notice: its templates' imports `with context` still leave
a few cycles, as every rendered message does.)"""

from __future__ import annotations

import gc
from collections import Counter
from html import unescape

from bot.services.app import Services
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import CUONG, ballot_ids, conference_setup
from tests.web.support import Client, csrf_of, sign_in


async def _confirm(client: Client, ballot: int, choice: str) -> dict[str, str]:
    """Pick and confirm: the cast form's fields."""
    page = await (await client.get(f"/web/ballots/{ballot}")).text()
    preview = await client.post(
        f"/web/ballots/{ballot}/preview", data={"csrf": csrf_of(page), "choice": choice}
    )
    html = await preview.text()
    held = unescape(html.split('name="held" value="', 1)[1].split('"', 1)[0])
    return {"csrf": csrf_of(html), "held": held}


async def _cast(client: Client, ballot: int, fields: dict[str, str]) -> str:
    done = await client.post(f"/web/ballots/{ballot}/cast", data=fields, allow_redirects=False)
    assert done.status == 303, await done.text()
    await done.read()  # read to the end: the connection serves the next request
    return done.headers["Location"]


async def test_a_cast_on_the_web_leaves_no_reference_cycles(
    client: Client, tg: Harness, services: Services
) -> None:
    await conference_setup(tg)
    ballot = (await ballot_ids(services))[0]
    await tg.say(SECRETARY, "/ballot open 1")
    await sign_in(client, tg, CUONG)  # the only representative of his unit
    for choice in ("0", "1"):  # caches filled, statements compiled
        await _cast(client, ballot, await _confirm(client, ballot, choice))
    fields = await _confirm(client, ballot, "0")
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        landing = await _cast(client, ballot, fields)  # a re-cast, as the benchmark's
        again = await _cast(client, ballot, fields)  # a double tap: the same choice again
        # The next request on the connection: the server lets go of the cast's response.
        assert (await client.get("/web/static/app.css")).status == 200
        gc.collect()
        left = Counter(type(o).__qualname__ for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert landing == f"/web/ballots/{ballot}?done=recast"
    assert again == f"/web/ballots/{ballot}?done=unchanged"
    assert not left, left.most_common(20)
