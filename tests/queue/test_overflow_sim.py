"""Overflow between two sites end to end on the sim: two queue engines, each bound to its own sim
board and IVR runner, on one PostgreSQL, run side by side in one event loop (virtual time).

Site A has one agent; three callers come in; the first is answered, the other two wait. Their
wait passes A's limit, so A offers them; site B's two free agents take them (SKIP LOCKED), A
sends them over (EXITWITHTIMEOUT; the caller's transfer ends "OVERFLOW -> site-b") and its IVR
script hands each to B over the tie line -- modelled as a blind transfer: A's line is released
and B's exchange rings B's inbound line (the two sims carry no audio between them) -- where B's
queue answers it like any caller.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import numpy as np

from ccboard.board import open_board
from ccboard.ivr import IvrCall, IvrRunner
from ccboard.media.tts import build_prompt_set
from ccboard.queue.acd import Acd, QueueConfig
from ccboard.queue.engine import PHRASES, QueueEngine, SimAgents
from ccboard.queue.hook import QueueHook
from ccboard.queue.overflow import OverflowConfig, OverflowCore
from ccboard.store import open_store
from ccboard.store.records import DONE
from tests.ivr.helpers import prompt_cache
from tests.queue.test_engine import EPOCH
from tests.store.pgserver import PgServer


def _site(url: str, name: str, agents: int, talk_s: float, seed: int) -> dict[str, Any]:
    board = open_board(f"sim://?e1=0&fxo=4&fxs={agents}&zone=cn&seed={seed}")
    lines = [c.channo for c in board.channels if c.signalling.is_fxo_port]
    ports = [c.channo for c in board.channels if c.signalling.is_fxs_port]
    store = open_store(url)
    engine = QueueEngine(
        store,
        Acd([QueueConfig("bank", ring_timeout=15.0, retry=2.0, wrapup=1.0)]),
        {f"{name}-agent{i + 1}": p for i, p in enumerate(ports)},
        epoch=EPOCH,
        people=SimAgents(
            board, np.random.default_rng(seed), answer_ms=(300.0, 500.0), talk_s=(talk_s, talk_s)
        ),
        server=name,
        claim_every=0.5,
        claim_lease=30.0,
        overflow=OverflowCore(OverflowConfig("bank", max_wait=8.0, min_wait=2.0)),
    )
    return {"board": board, "lines": lines, "store": store, "engine": engine, "results": {}, "tied": []}


def test_a_waiting_caller_overflows_to_the_other_sites_free_agent(pg: PgServer) -> None:
    url = pg.create_db("ovsim")
    a = _site(url, "site-a", 1, 40.0, 21)
    b = _site(url, "site-b", 2, 5.0, 22)
    prompts = {
        lang: build_prompt_set(lang, {**PHRASES[lang], "hold": "Please hold."}, folder=prompt_cache())
        for lang in ("en", "cmn")
    }
    b_free = list(b["lines"])

    def tie(call: IvrCall) -> None:
        """A's blind transfer over the tie line: B's exchange rings B's next inbound line."""
        ch = b["board"].channel(b_free.pop(0))
        b["tied"].append((call.id, ch.channo))
        b["board"].far_ends[ch.span].ring(ch.chanpos)

    def script_for(site: dict[str, Any]) -> Any:
        async def script(call: IvrCall) -> None:
            await call.answer()
            r = await call.transfer("bank")
            site["results"][call.id] = r
            if "OVERFLOW -> site-b" in r.detail:
                tie(call)
            await call.hangup()

        return script

    runners = {}
    for s in (a, b):
        runners[id(s)] = IvrRunner(
            s["board"], script_for(s), prompts, inbound=s["lines"], transfer_hook=QueueHook(s["engine"])
        )
        s["engine"].bind(runners[id(s)], ["bank"])
    for i, at in enumerate((0.0, 500.0, 1000.0)):
        ch = a["board"].channel(a["lines"][i])
        a["board"].at(at, a["board"].far_ends[ch.span].ring, ch.chanpos)
    b_ended_at: list[int] = []

    def done_a() -> bool:
        ra = runners[id(a)]
        return ra.ms > 5_000 and a["engine"].idle() and not ra.calls

    def done_b() -> bool:
        rb = runners[id(b)]
        if len(b["results"]) == 2 and not rb.calls and b["engine"].idle():
            b_ended_at.append(rb.ms)
            return True
        return False

    async def both() -> None:
        await asyncio.gather(
            runners[id(a)].run(until_ms=180_000, stop=done_a),
            runners[id(b)].run(until_ms=180_000, stop=done_b),
        )

    asyncio.run(both())
    ea, eb = a["engine"], b["engine"]
    assert ea.errors == [] and eb.errors == []
    store = a["store"]
    ledger = store.ledger()
    a_rows = [r for r in ledger if r.server == "site-a"]
    b_rows = [r for r in ledger if r.server == "site-b"]
    # A: three callers in, one answered, two sent over by overflow; none abandoned
    assert Counter(r.event for r in a_rows if r.callid != "NONE")["ENTERQUEUE"] == 3
    assert len([r for r in a_rows if r.event == "CONNECT"]) == 1
    sent = sorted(r.callid for r in a_rows if r.event == "EXITWITHTIMEOUT")
    assert len(sent) == 2
    assert not [r for r in ledger if r.event == "ABANDON"]
    assert sorted(cid for cid, r in a["results"].items() if "OVERFLOW -> site-b" in r.detail) == sent
    offers = store.overflow_offers(site="site-a")
    assert sorted(o.id for o in offers) == sent
    assert all((o.state, o.taken_by) == (DONE, "site-b") for o in offers)
    assert all(o.waited >= 8.0 for o in offers)
    # B: the two tie-line callers answered by its agents, each once
    assert len(b["tied"]) == 2
    assert all(r.ok and r.agent.startswith("site-b-agent") for r in b["results"].values())
    assert Counter(r.event for r in b_rows)["CONNECT"] == 2
    assert b_ended_at and b_ended_at[0] < 180_000
    for s in (a, b):
        s["store"].close()
        s["board"].close()
