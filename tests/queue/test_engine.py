"""End to end on the sim in virtual time: callers queue for one agent on an FXS port, hear position
announcements and music on hold; one presses 2, keys a number, keeps the place and hangs up, and
is called back on another FXO line and connected to the agent; one abandons. The ledger read back
from the store has the queue_log events and its KPIs equal a recomputation. The whole run is made
once on SQLite and once on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from ccboard.board import open_board
from ccboard.ivr import IvrCall, IvrRunner
from ccboard.media.moh import MusicOnHold
from ccboard.media.tts import build_prompt_set
from ccboard.queue import kpi
from ccboard.queue.acd import Acd, QueueConfig
from ccboard.queue.callback import CallbackCore
from ccboard.queue.engine import PHRASES, QueueEngine, SimAgents, from_row
from ccboard.queue.hook import QueueHook
from ccboard.store import open_store
from tests.ivr.helpers import prompt_cache
from tests.queue.conftest import BACKENDS, store_url_for

EPOCH = 1_767_607_200.0  # 2026-01-05 10:00 UTC: inside the callback opening hours
NUMBER = "5551234"


class Callers:
    """Tick hook: each caller keys its next entry whenever the IVR arms a digit collection on its
    line (the queue's callback menu is the only one in this script); records what it heard."""

    def __init__(self, plans: dict[int, list[str]], board: Any) -> None:
        self.plans = {ch: list(p) for ch, p in plans.items()}
        self.board = board
        self.seen: dict[int, object] = {}  # the collector last keyed into (held: ids get reused)
        self.moh_ms: dict[int, int] = dict.fromkeys(plans, 0)
        self.keyed: dict[int, list[str]] = {ch: [] for ch in plans}

    def __call__(self, runner: IvrRunner) -> None:
        for ch in self.plans:
            call = runner.calls.get(ch)
            if call is None:
                continue
            core = call._core
            if core.moh is not None and np.abs(runner.board.tx[core.row]).max() > 200:
                self.moh_ms[ch] += 1
            c = core.collector
            if c is None or self.seen.get(ch) is c or not self.plans[ch]:
                continue
            self.seen[ch] = c
            digits = self.plans[ch].pop(0)
            chan = self.board.channel(ch)
            fe = self.board.far_ends[chan.span]
            fe.dtmf(chan.chanpos, digits, on_ms=(80.0, 80.0), gap_ms=(100.0, 100.0))
            self.keyed[ch].append(digits)


@pytest.fixture(scope="module", params=BACKENDS)
def run(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("engine")
    board = open_board("sim://?e1=0&fxo=4&fxs=1&zone=cn&seed=3")
    lines = [c.channo for c in board.channels if c.signalling.is_fxo_port]
    agent_port = next(c.channo for c in board.channels if c.signalling.is_fxs_port)
    prompts = {
        lang: build_prompt_set(lang, {**PHRASES[lang], "hold": "Please hold."}, folder=prompt_cache())
        for lang in ("en", "cmn")
    }
    store = open_store(store_url_for(request.param, tmp, request, "engine"))
    q = QueueConfig(
        "bank", ring_timeout=15.0, retry=2.0, wrapup=1.0, announce_frequency=5.0, announce_holdtime="yes"
    )
    t = np.arange(8000 * 4) / 8000.0
    moh = MusicOnHold((2500 * np.sin(2 * np.pi * 440 * t)).astype(np.int16))
    free_lines = [lines[3]]
    engine = QueueEngine(
        store,
        Acd([q]),
        {"agent1": agent_port},
        callbacks=CallbackCore(),
        moh=moh,
        epoch=EPOCH,
        lines=lambda: free_lines.pop() if free_lines else None,
        release_line=free_lines.append,
        people=SimAgents(board, np.random.default_rng(1), answer_ms=(400.0, 600.0), talk_s=(30.0, 30.0)),
        menu_timeout=4.0,
    )
    results: dict[str, Any] = {}

    async def script(call: IvrCall) -> None:
        await call.answer()
        results[call.id] = await call.transfer("bank")
        await call.hangup()

    # A is served at once; B takes a kept-place callback on its own number; C abandons
    callers = Callers({lines[0]: [], lines[1]: ["2", NUMBER + "#", "1", "1"], lines[2]: []}, board)
    runner = IvrRunner(
        board, script, prompts, inbound=lines[:3], transfer_hook=QueueHook(engine), tick_hooks=[callers]
    )
    engine.bind(runner, ["bank"])
    for i, at in ((0, 0.0), (1, 500.0), (2, 1000.0)):
        ch = board.channel(lines[i])
        board.at(at, board.far_ends[ch.span].ring, ch.chanpos)  # type: ignore[attr-defined]
    ch = board.channel(lines[2])
    board.at(19_000.0, board.far_ends[ch.span].disconnect, ch.chanpos)  # type: ignore[attr-defined]

    def finished() -> bool:
        return runner.ms > 20_000 and engine.idle() and not runner.calls

    asyncio.run(runner.run(until_ms=120_000, stop=finished))
    ledger = store.ledger()
    out = dict(
        engine=engine,
        runner=runner,
        callers=callers,
        results=results,
        ledger=ledger,
        lines=lines,
        store=store,
    )
    yield out
    store.close()
    board.close()


def _by_call(run: dict[str, Any]) -> dict[int, str]:
    return {f.channel: f.id for f in run["runner"].finished if f.channel in run["lines"][:3]}


def test_no_engine_errors_and_every_call_ends(run: dict[str, Any]) -> None:
    e = run["engine"]
    assert e.errors == []
    assert e.idle()
    assert run["runner"].ms < 120_000
    assert len(_by_call(run)) == 3


def test_waiting_callers_hear_announcements_and_music(run: dict[str, Any]) -> None:
    e, lines = run["engine"], run["lines"]
    ids = _by_call(run)
    for ch in lines[1:3]:
        said = [p for cid, p in e.played if cid == ids[ch]]
        assert "announce" in said and "callback_offer" in said
        assert run["callers"].moh_ms[ch] > 2000  # ms of audible hold music
    b = [p for cid, p in e.played if cid == ids[lines[1]]]
    assert b[-3:] == ["callback_confirm_number", "callback_when", "callback_booked"]
    assert run["callers"].keyed[lines[1]] == ["2", NUMBER + "#", "1", "1"]


def test_ledger_has_the_queue_log_story(run: dict[str, Any]) -> None:
    ids = _by_call(run)
    a, b, c = (ids[ch] for ch in run["lines"][:3])
    story: dict[str, list[str]] = {}
    for r in run["ledger"]:
        story.setdefault(r.callid, []).append(r.event)
    assert story[a] == ["ENTERQUEUE", "CONNECT", "COMPLETEAGENT"]
    assert story[b] == [
        "ENTERQUEUE",
        "CALLBACKREQUEST",
        "CALLBACKATTEMPT",
        "CONNECT",
        "CALLBACKRESULT",
        "COMPLETEAGENT",
    ]
    assert story[c] == ["ENTERQUEUE", "ABANDON"]
    req = next(r for r in run["ledger"] if r.event == "CALLBACKREQUEST")
    assert req.data1 == NUMBER and req.data2 == "place"
    res = next(r for r in run["ledger"] if r.event == "CALLBACKRESULT")
    assert res.data1 == "answered"
    assert run["results"][a].ok and run["results"][b].detail == "callback"
    assert not run["results"][c].ok
    # the ledger in the store is exactly what the cores emitted, in order
    stored = [(r.callid, r.agent, r.event, r.data) for r in run["ledger"]]
    emitted = [(e.callid, e.agent, e.EVENT, tuple(e.row()[5:])) for e in run["engine"].emitted]
    assert stored == emitted
    assert [r.time for r in run["ledger"]] == pytest.approx([e.time for e in run["engine"].emitted])
    assert run["store"].count("sms_outbox") == 1  # the confirmation, queued with its request


def test_kpis_equal_a_recomputation(run: dict[str, Any]) -> None:
    evs = [from_row(r) for r in run["ledger"]]
    k = kpi.compute(evs, queue="bank")
    rows = run["ledger"]
    connects = [r for r in rows if r.event == "CONNECT"]
    assert k.offered == sum(r.event == "ENTERQUEUE" for r in rows) == 3
    assert k.answered == len(connects) == 2
    assert k.abandoned == sum(r.event == "ABANDON" for r in rows) == 1
    assert k.asa == pytest.approx(sum(float(r.data1) for r in connects) / len(connects))
    done = [r for r in rows if r.event in ("COMPLETEAGENT", "COMPLETECALLER")]
    assert k.aht is not None and k.aht >= sum(float(r.data2) for r in done) / len(done)
    # the kept-place promise: due once its time has come, kept (dialled before it)
    req = next(e for e in evs if e.EVENT == "CALLBACKREQUEST")
    assert k.callback_requests_due == 0
    k2 = kpi.compute(evs, queue="bank", until=req.promised)  # type: ignore[attr-defined]
    first = min(e.time for e in evs if e.EVENT == "CALLBACKATTEMPT")
    assert k2.callback_requests_due == 1 and k2.callback_kept == int(first <= req.promised) == 1  # type: ignore[attr-defined]
    assert k2.offered == k.offered and k2.answered == k.answered
