from __future__ import annotations
import json
from bot.services.app import Services
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import (AN, BINH, CUONG, DUNG, GIANG, ballot_ids, cast, conference_setup,
    open_votes, plain, raw_tap, bloc_by_code, actor_of)
from bot.services import voting as svc


async def _decided(services, b):
    async with services.db.uow() as uow:
        r = await uow.votes.result(b)
        return r[1] if r else None


async def test_tier_exclusion_when_higher_open(tg: Harness, services: Services) -> None:
    await conference_setup(tg)
    ids = await ballot_ids(services)
    await tg.say(SECRETARY, "/ballot open 2")
    await tg.say(SECRETARY, "/ballot open 3")
    for b in (ids[1], ids[2]):
        for u in (AN, DUNG, GIANG):
            await cast(tg, u, b, 1)  # option 1 = SGD
        await cast(tg, CUONG, b, 0)
    await tg.say(SECRETARY, "/ballot close 2")
    await tg.say(SECRETARY, "/ballot close 3")
    print("DECIDED", await _decided(services, ids[1]), await _decided(services, ids[2]))
    assert not (set(await _decided(services, ids[1])) & set(await _decided(services, ids[2])))


async def test_leader_deputy_both_open(tg: Harness, services: Services) -> None:
    await conference_setup(tg)
    ids = await ballot_ids(services)
    r = await tg.say(SECRETARY, "/ballot open 6")
    r = await tg.say(SECRETARY, "/ballot open 7")
    async with services.db.uow() as uow:
        lead = await uow.votes.ballot(ids[5]); dep = await uow.votes.ballot(ids[6])
    print("LEADER OPTS", lead.ballot.options, "DEP OPTS", dep.ballot.options)
    cand = lead.ballot.options[0].unit_id
    di = next(o.index for o in dep.ballot.options if o.unit_id == cand)
    for u in (AN, CUONG, DUNG, GIANG):
        await tg.tap(u, f"vt:{ids[5]}:pick:0"); await tg.tap(u, f"vt:{ids[5]}:ok:0")
        await tg.tap(u, f"vt:{ids[6]}:pick:{di}"); await tg.tap(u, f"vt:{ids[6]}:ok:{di}")
    await tg.say(SECRETARY, "/ballot close 6")
    await tg.say(SECRETARY, "/ballot close 7")
    print("DECIDED", await _decided(services, ids[5]), await _decided(services, ids[6]))
    assert not (set(await _decided(services, ids[5])) & set(await _decided(services, ids[6])))


async def test_stale_confirm_multi(tg: Harness, services: Services) -> None:
    await conference_setup(tg)
    b = (await ballot_ids(services))[4]
    await tg.say(SECRETARY, "/ballot open 5")
    await tg.tap(AN, f"vt:{b}:tog:1")
    rv = await tg.tap(AN, f"vt:{b}:review:-2")
    print("CONFIRM SHOWN", [r.text for r in rv])
    await tg.tap(AN, f"vt:{b}:tog:2")  # from a second copy of the ballot
    await tg.tap(AN, f"vt:{b}:tog:3")
    await tg.tap(AN, f"vt:{b}:ok:-2")
    votes = await open_votes(services, b)
    print("STORED", votes)
    assert votes[0].choice == [1]


async def test_forged_huge_ballot_id(tg: Harness, services: Services) -> None:
    await conference_setup(tg)
    out = await raw_tap(tg, AN, "vt:99999999999999999999:show:0")
    print("OUT", out, tg.alerts)


async def test_removed_rep_stale_button(tg: Harness, services: Services) -> None:
    await conference_setup(tg)
    b = (await ballot_ids(services))[0]
    await tg.say(SECRETARY, "/ballot open 1")
    bloc = await bloc_by_code(services, "KT")  if False else None
