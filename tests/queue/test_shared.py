"""Callbacks shared by several queue engines on one store (ccboard.queue.shared).

Booked times go to the shared callbacks table with the booking (both backends); the sans-IO core
turns claims into virtual callers and outcomes into finishes; an engine restarted under its name
after its lease expired does not dial a row another engine took (the claim is re-checked in the
dialling decision's transaction, on two store connections); and two engine processes, each with
its own sim board, on one PostgreSQL dial every callback exactly once to an answer, one of them
SIGKILLed mid-run, the other taking over its claims when their lease expires.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import pytest

from ccboard.queue import events as ev
from ccboard.queue.acd import Acd, QueueConfig
from ccboard.queue.callback import CallbackConfig, CallbackCore, CallbackOffer, CallbackOutcome
from ccboard.queue.durable import Core, Durable, decode, encode
from ccboard.queue.events import Outcome, QueueError
from ccboard.queue.shared import FinishShared, SharedCallbacks, SharedClaimed, SharedLost
from ccboard.store import open_store
from ccboard.store.records import DONE, FAILED, PENDING, Callback
from tests.queue import keptproc
from tests.queue.conftest import BACKENDS, store_url_for
from tests.store.pgserver import PgServer

ROOT = Path(__file__).resolve().parents[2]
TZ = "Europe/Berlin"
T0 = dt.datetime(2024, 3, 5, 10, 0, tzinfo=ZoneInfo(TZ)).timestamp()  # 10:00 in Berlin
WALL = 1_900_000_000.0  # the shared clock in these tests


def _cb(i: int, attempts: int = 0, seq: int = 1) -> Callback:
    return Callback(f"cb{i}", f"cb{i}", "bank", f"555{i:04d}", 0.0, 0.0, attempts=attempts, claim_seq=seq,
                    state="claimed", claimed_by="a")  # fmt: skip


def test_core_puts_claims_in_line_and_finishes_each_once() -> None:
    core = SharedCallbacks(CallbackConfig(retry_delay=((Outcome.NO_ANSWER, 30.0),), max_attempts=3))
    claimed = SharedClaimed((_cb(1), _cb(2, attempts=1)))
    assert decode(encode(claimed)) == claimed  # journalled and replayed with the rows as claimed
    assert core.want(free_agents=3, waiting=1) == 2 and core.want(1, 4) == 0
    out = core.handle(SharedClaimed((_cb(1), _cb(2, attempts=1))), T0)
    assert out == [
        ev.EnqueueCallback("cb1.1", "bank", "5550001", core.cfg.priority),
        ev.EnqueueCallback("cb2.2", "bank", "5550002", core.cfg.priority),
    ]
    out = core.handle(CallbackOutcome("cb1.1", Outcome.NO_ANSWER), T0 + 5)
    assert out[1] == FinishShared(_cb(1), Outcome.NO_ANSWER.value, 30.0)
    res = out[0]
    assert isinstance(res, ev.CallbackResult) and (res.callid, res.attempt, res.final) == ("cb1", 1, 0)
    out = core.handle(CallbackOutcome("cb2.2", Outcome.ANSWERED), T0 + 6)
    assert out[1] == FinishShared(_cb(2, attempts=1), "answered", None)
    assert core.held == {}
    with pytest.raises(QueueError, match=r"cb1\.1: not held"):
        core.handle(CallbackOutcome("cb1.1", Outcome.ANSWERED), T0 + 7)


@pytest.mark.parametrize("backend", BACKENDS)
def test_booked_time_goes_to_the_shared_table_with_the_booking(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A caller books 18:00 through the durable engine's cores: the row, its CALLBACKREQUEST and the
    SMS commit together; the booking engine arms no timer of its own; a claim elsewhere takes it
    only once due, and its outcome is recorded once, with a retry in the shared clock."""
    store = open_store(store_url_for(backend, tmp_path, request, "sharedbook"))
    cbcore = CallbackCore(CallbackConfig(tz=TZ, shared=True))
    shared = SharedCallbacks(cbcore.cfg)
    # no ACD here: what the claims put in line is the engine's part (the two-process test)
    d = Durable(store, "site-a", {"callback": cbcore, "shared": shared}, derive=lambda a: None,
                clock=lambda: WALL)  # fmt: skip
    d.feed("callback", CallbackOffer("c1", "bank", "5551000", 3, 0.01, 120.0, 2), T0)
    for k in "21218001":  # callback, this number, choose a time, 18:00, confirm
        d.feed("callback", ev.CallerKey("c1", k), T0)
    at = dt.datetime(2024, 3, 5, 18, 0, tzinfo=ZoneInfo(TZ)).timestamp()
    rows = store.callbacks()
    got_rows = [(r.id, r.number, r.due, r.state, r.created) for r in rows]
    assert got_rows == [("c1", "5551000", at, PENDING, WALL)]
    assert "18:00" in rows[0].sms
    assert [e.event for e in store.ledger()] == ["CALLBACKREQUEST"]
    assert len(store.sms_messages()) == 1
    assert cbcore.next_deadline() is None and cbcore.pending() == []
    assert store.claim_callbacks("site-b", at - 1.0) == []  # not due yet
    assert store.claim_callbacks("site-b", at, queues=["other"]) == []  # not a queue it serves
    got = store.claim_callbacks("site-b", at, lease=60.0, queues=["bank"])
    assert [g.id for g in got] == ["c1"]
    assert store.claim_callbacks("site-a", at) == []  # claimed: nobody else gets it
    d.feed("shared", SharedClaimed(tuple(got)), at)  # say site-a's engine had claimed it
    dec = d.feed("shared", CallbackOutcome("c1.1", Outcome.NO_ANSWER), at + 10)
    assert dec.lost_claims == 0
    row = store.callback("c1")
    assert (row.state, row.attempts, row.outcome) == (PENDING, 1, Outcome.NO_ANSWER.value)
    assert row.due == WALL + 600.0  # the retry in the shared clock
    again = store.claim_callbacks("site-b", WALL + 600.0)
    assert [(g.id, g.claim_seq) for g in again] == [("c1", 2)]
    # the old claim (seq 1) no longer holds: recording through it is skipped, not an error
    d.feed("shared", SharedClaimed(tuple(got)), at + 20)
    dec = d.feed("shared", CallbackOutcome("c1.1", Outcome.ANSWERED), at + 30)
    assert dec.lost_claims == 1
    assert store.callback("c1").state == "claimed"
    store.finish_callback(again[0], "answered", WALL + 700.0)
    assert store.callback("c1").state == DONE
    store.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_engine_restarted_after_its_lease_does_not_dial_a_stint_taken_over(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Engine A claims a due shared callback; it waits in A's line (no agent yet) while A stalls
    past its lease, and engine B, on its own store connection, takes the row over and dials it
    (the dialling decision renews B's claim). A is restarted under its name and replays its
    journal: the stint is back in line and reaches A's agent, but the decision that would dial it
    re-checks the claim in its own transaction and finds B's, so A does not dial it; the stint
    ends in A's ACD and A records no outcome for a row that is B's."""
    url = store_url_for(backend, tmp_path, request, "sharedlost")
    sa, sb = open_store(url), open_store(url)
    wall = [WALL]  # the shared clock

    def engine(store: Any, name: str) -> tuple[Durable, Acd, SharedCallbacks]:
        acd, shared = Acd([QueueConfig("bank")]), SharedCallbacks(CallbackConfig(tz=TZ))
        d = Durable(store, name, {"acd": acd, "shared": shared}, clock=lambda: wall[0], lease=60.0)
        return d, acd, shared

    sa.add_callback(Callback("cb1", "cb1", "bank", "5551234", WALL, WALL))
    da, _, _ = engine(sa, "A")
    da.start_fresh()
    da.feed("acd", ev.AddMember("ann", "bank"), T0)
    got = sa.claim_callbacks("A", WALL, lease=60.0, queues=["bank"])
    assert [(g.id, g.claim_seq) for g in got] == [("cb1", 1)]
    da.feed("shared", SharedClaimed(tuple(got)), T0)  # in line: nobody logged in to take it
    # A stalls; its lease runs out and B takes the row and dials it
    wall[0] = WALL + 61.0
    taken = sb.claim_callbacks("B", wall[0], lease=60.0, queues=["bank"])
    assert [(g.id, g.claimed_by, g.claim_seq) for g in taken] == [("cb1", "B", 2)]
    db_, _, b_shared = engine(sb, "B")
    db_.start_fresh()
    for e in (ev.AddMember("bob", "bank"), ev.AgentLogin("bob")):
        db_.feed("acd", e, T0 + 61)
    db_.feed("shared", SharedClaimed(tuple(taken)), T0 + 61)
    wall[0] = WALL + 70.0
    dec = db_.feed("acd", ev.AgentAnswered("cb1.1", "bob"), T0 + 70)
    assert [a.callid for a in dec.actions if isinstance(a, ev.DialCallback)] == ["cb1.1"]
    assert dec.lost_dials == [] and sb.callback("cb1").claim_until == WALL + 70.0 + 60.0  # renewed
    # A restarted under its name: the journal puts the stint back in its line
    sa.close()
    sa = open_store(url)
    da, acd, a_shared = engine(sa, "A")
    da.recover(T0 + 75)
    assert "cb1.1" in a_shared.held and "cb1.1" in acd.calls
    da.feed("acd", ev.AgentLogin("ann"), T0 + 76)  # rings ann for the stint
    dec = da.feed("acd", ev.AgentAnswered("cb1.1", "ann"), T0 + 77)
    assert [a.callid for a in dec.actions if isinstance(a, ev.DialCallback)] == ["cb1.1"]
    assert dec.lost_dials == ["cb1.1"]  # not to be dialled: B holds the row
    row = sa.callback("cb1")
    assert (row.state, row.claimed_by, row.claim_seq, row.claim_until) == ("claimed", "B", 2, WALL + 130.0)
    # what A's engine does then (QueueEngine._claim_lost): end the stint, forget the row
    lost = [("acd", ev.CallbackDialResult("cb1.1", Outcome.LOST)), ("shared", SharedLost("cb1.1"))]
    dec = da.feed_many(lost, T0 + 78)
    assert [e.event for e in dec.ledger] == ["EXITCALLBACK"] and dec.lost_claims == 0
    assert a_shared.held == {} and acd.agent_state("ann") is not ev.AgentState.ON_CALL
    # B's answer is the one outcome recorded
    dec = db_.feed_many(
        [
            ("acd", ev.CallbackDialResult("cb1.1", Outcome.ANSWERED)),
            ("shared", CallbackOutcome("cb1.1", Outcome.ANSWERED)),
        ],
        T0 + 80,
    )
    assert dec.lost_claims == 0 and b_shared.held == {}
    assert (sa.callback("cb1").state, sa.callback("cb1").outcome) == (DONE, "answered")
    results = [(r.server, r.data1) for r in sa.ledger() if r.event == "CALLBACKRESULT"]
    assert results == [("B", "answered")]
    sa.close()
    sb.close()


# ------------------------------------------------------------------ two processes, one PostgreSQL

N = 14


def _spawn(url: str, server: str, seed: int) -> tuple[subprocess.Popen[str], list[str], list[str]]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.queue.sharedproc", url, server, str(seed)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: list[str] = []
    errs: list[str] = []

    def read(pipe: IO[str] | None, into: list[str]) -> None:
        assert pipe is not None
        for line in pipe:
            into.append(line.rstrip())

    threading.Thread(target=read, args=(proc.stdout, lines), daemon=True).start()
    threading.Thread(target=read, args=(proc.stderr, errs), daemon=True).start()
    return proc, lines, errs


def test_two_engines_dial_each_shared_callback_once_one_sigkilled(pg: PgServer) -> None:
    url = pg.create_db("shared")
    store = open_store(url)
    store.record(callbacks=[Callback(f"cb{i:02d}", f"cb{i:02d}", "bank", f"55500{i:02d}", 0.0, 0.0)
                            for i in range(N)])  # fmt: skip
    a, a_out, a_err = _spawn(url, "site-a", 11)
    b, b_out, b_err = _spawn(url, "site-b", 12)
    try:
        deadline = time.monotonic() + 60
        while sum(x.startswith("dial") for x in a_out) < 3 and a.poll() is None:
            assert time.monotonic() < deadline, "site-a made no 3 dials in 60 s"
            time.sleep(0.02)
        assert a.poll() is None, f"site-a ended early: {a_out} {a_err[-20:]}"
        a.send_signal(signal.SIGKILL)
        a.wait(10)
        held_by_a = {c.id for c in store.callbacks(state="claimed") if c.claimed_by == "site-a"}
        b.wait(240)
        time.sleep(0.2)  # the readers take the last lines
    finally:
        for p in (a, b):
            if p.poll() is None:
                p.kill()
                p.wait()
    assert b.returncode == 0, "\n".join(b_err[-40:])
    done = json.loads(next(x for x in b_out if x.startswith("done "))[5:])
    assert done["errors"] == [] and done["lost_claims"] == 0

    rows = store.callbacks()
    assert len(rows) == N
    assert all((r.state, r.outcome) == (DONE, "answered") for r in rows), [(r.id, r.state) for r in rows]
    assert not any(r.state == FAILED for r in rows)
    ledger = store.ledger()
    answered = Counter(e.callid for e in ledger if e.event == "CALLBACKRESULT" and e.data1 == "answered")
    assert answered == Counter({r.id: 1 for r in rows})  # every callback answered exactly once
    assert not [e for e in ledger if e.event == "CALLBACKRESULT" and e.data1 != "answered"]
    # dials: one per callback, plus the ones in flight on site-a when it was killed, which site-b
    # dialled again after their lease expired (and nothing site-a held was lost)
    dials = Counter(e.callid.split(".")[0] for e in ledger if e.event == "CALLBACKATTEMPT")
    by_server = {(e.callid.split(".")[0], e.server) for e in ledger if e.event == "CALLBACKRESULT"}
    assert held_by_a  # the kill left site-a holding claims (its dial in flight at least)
    twice = {cid for cid, n in dials.items() if n > 1}
    assert all(n <= 2 for n in dials.values()) and set(dials) == {r.id for r in rows}
    assert twice <= held_by_a
    assert all((cid, "site-b") in by_server for cid in held_by_a)
    assert any(s == "site-a" for _, s in by_server) and any(s == "site-b" for _, s in by_server)
    retaken = {r.id for r in rows if r.claim_seq > 1}
    assert held_by_a <= retaken
    store.close()


# ------------------------------------------------------------------ kept places outlive their server


def _kept_engine(
    store: Any, name: str, wall: list[float]
) -> tuple[Durable, Acd, CallbackCore, SharedCallbacks]:
    acd, cbcore = Acd([QueueConfig("bank")]), CallbackCore(CallbackConfig(tz=TZ, shared=True))
    shared = SharedCallbacks(cbcore.cfg)
    cores: dict[str, Core] = {"acd": acd, "callback": cbcore, "shared": shared}
    return Durable(store, name, cores, clock=lambda: wall[0], lease=60.0), acd, cbcore, shared


def _keep_place(d: Durable, callid: str, prio: int, at: float, entered: float, arrive: bool = True) -> None:
    """A caller of priority `prio` (arrived at `entered`) is offered the menu at `at` and keeps its
    place (2: callback, 1: this number, 1: keep my place), then hangs up."""
    if arrive:
        d.feed("acd", ev.CallArrives(callid, "bank", callerid="5551000", priority=prio), entered)
    d.feed("callback", CallbackOffer(callid, "bank", "5551000", 1, 0.01, 120.0, 1, entered, prio), at)
    for k in "211":
        d.feed("callback", ev.CallerKey(callid, k), at)
    d.feed("acd", ev.CallerHangup(callid), at + 1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_kept_place_is_a_row_held_by_its_engine_and_dialled_there(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A shared kept place is written claimed by the engine that keeps it, with its place (entry
    time in the shared clock, priority), in the booking's transaction; the journal rebuilds it
    exactly; the engine renews its claim, dials it when the place reaches its agent (the claim is
    re-checked there) and records the outcome once; a retry is a pending row any engine claims."""
    url = store_url_for(backend, tmp_path, request, "keptown")
    store = open_store(url)
    wall = [WALL]
    d, acd, cbcore, shared = _kept_engine(store, "A", wall)
    d.start_fresh()
    d.feed("acd", ev.AddMember("ann", "bank"), T0)  # not logged in: the place waits
    _keep_place(d, "k1", 2, T0 + 40, entered=T0)
    row = store.callback("k1")
    assert (row.mode, row.state, row.claimed_by, row.claim_seq) == ("keep_place", "claimed", "A", 1)
    assert (row.due, row.priority, row.claim_until, row.created) == (WALL - 40.0, 2, WALL + 60.0, WALL)
    assert [e.event for e in store.ledger()][-2:] == ["ENTERQUEUE", "CALLBACKREQUEST"]
    assert cbcore.pending() == [] and list(shared.held) == ["k1"] and acd.calls["k1"].virtual
    # the journal alone rebuilds the same held row and virtual caller
    d2, acd2, _, shared2 = _kept_engine(open_store(url), "A", wall)
    d2.replay()
    assert shared2.held == shared.held and acd2.position("k1") == 1 and acd2.calls["k1"].virtual
    d2.store.close()
    wall[0] = WALL + 50.0
    assert store.renew_callbacks(list(shared.held.values()), wall[0] + 60.0) == []
    assert store.claim_callbacks("B", WALL + 61.0, queues=["bank"]) == []  # renewed: nobody takes it
    d.feed("acd", ev.AgentLogin("ann"), T0 + 60)
    dec = d.feed("acd", ev.AgentAnswered("k1", "ann"), T0 + 61)
    assert [a.callid for a in dec.actions if isinstance(a, ev.DialCallback)] == ["k1"]
    assert dec.lost_dials == []
    inputs = [
        ("acd", ev.CallbackDialResult("k1", Outcome.NO_ANSWER)),
        ("shared", CallbackOutcome("k1", Outcome.NO_ANSWER)),
    ]
    wall[0] = WALL + 70.0
    dec = d.feed_many(inputs, T0 + 70)
    assert dec.lost_claims == 0 and shared.held == {}
    row = store.callback("k1")
    assert (row.state, row.attempts, row.outcome, row.due) == (
        PENDING,
        1,
        Outcome.NO_ANSWER.value,
        WALL + 670.0,
    )
    assert [(g.id, g.claim_seq) for g in store.claim_callbacks("B", WALL + 670.0)] == [("k1", 2)]
    res = [(e.callid, e.server, e.data1, e.data2) for e in store.ledger() if e.event == "CALLBACKRESULT"]
    assert res == [("k1", "A", Outcome.NO_ANSWER.value, "1")]
    store.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_kept_place_of_a_dead_engine_is_taken_over_after_its_lease(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Engine A keeps two places and stops (dies): nobody may take them while A's lease holds;
    then engine B claims them oldest place first, puts them in its line at callback priority
    (ahead of its own callers), dials and answers them once; A, restarted under its name, finds
    the claims gone at its dial's re-check and dials nothing."""
    url = store_url_for(backend, tmp_path, request, "kepttake")
    sa, sb = open_store(url), open_store(url)
    wall = [WALL]
    da, _, _, _ = _kept_engine(sa, "A", wall)
    da.start_fresh()
    da.feed("acd", ev.AddMember("ann", "bank"), T0)
    for callid, at in (("zed", T0 + 1), ("amy", T0 + 20)):  # zed has the older place
        da.feed("acd", ev.CallArrives(callid, "bank", callerid="5551000"), at)
    _keep_place(da, "amy", 0, T0 + 30, entered=T0 + 20, arrive=False)
    _keep_place(da, "zed", 0, T0 + 31, entered=T0 + 1, arrive=False)
    assert [(r.id, r.claimed_by, r.due) for r in sa.callbacks()] == [
        ("zed", "A", WALL - 30),
        ("amy", "A", WALL - 10),
    ]
    # A dies here. Its lease (60 s from the bookings) still holds: B takes nothing
    assert sb.claim_callbacks("B", WALL + 59.0, limit=5, queues=["bank"]) == []
    db_, bacd, _, bshared = _kept_engine(sb, "B", wall)
    db_.start_fresh()
    for e in (ev.AddMember("bob", "bank"), ev.CallArrives("own", "bank", callerid="5559999")):
        db_.feed("acd", e, T0 + 50)  # B's own caller, waiting since before the takeover
    wall[0] = WALL + 61.0
    taken = sb.claim_callbacks("B", wall[0], limit=5, queues=["bank"])
    assert [(g.id, g.mode, g.claim_seq) for g in taken] == [
        ("zed", "keep_place", 1 + 1),
        ("amy", "keep_place", 2),
    ]
    dec = db_.feed("shared", SharedClaimed(tuple(taken)), T0 + 61)
    assert [(a.callid, a.priority) for a in dec.actions if isinstance(a, ev.EnqueueCallback)] == [
        ("zed.1", 5),
        ("amy.1", 5),
    ]
    assert [bacd.position(c) for c in ("zed.1", "amy.1", "own")] == [1, 2, 3]
    db_.feed("acd", ev.AgentLogin("bob"), T0 + 62)
    for n, stint in enumerate(("zed.1", "amy.1")):
        t = T0 + 63 + 10 * n
        dec = db_.feed("acd", ev.AgentAnswered(stint, "bob"), t)
        assert [a.callid for a in dec.actions if isinstance(a, ev.DialCallback)] == [stint]
        assert dec.lost_dials == []
        dec = db_.feed_many([("acd", ev.CallbackDialResult(stint, Outcome.ANSWERED)),
                             ("shared", CallbackOutcome(stint, Outcome.ANSWERED))], t + 1)  # fmt: skip
        assert dec.lost_claims == 0
        db_.feed("acd", ev.CallEnded(stint, "caller"), t + 5)
    assert bshared.held == {}
    assert [(r.id, r.state, r.outcome) for r in sb.callbacks()] == [
        ("zed", DONE, "answered"),
        ("amy", DONE, "answered"),
    ]
    # A restarted under its name: its places are back in its line, but not its to dial
    sa.close()
    sa = open_store(url)
    da, aacd, _, ashared = _kept_engine(sa, "A", wall)
    da.recover(T0 + 100)
    assert set(ashared.held) == {"zed", "amy"} and aacd.calls["zed"].virtual
    da.feed("acd", ev.AgentLogin("ann"), T0 + 101)
    dec = da.feed("acd", ev.AgentAnswered("zed", "ann"), T0 + 102)
    assert dec.lost_dials == ["zed"]
    rows = sa.ledger()
    results = Counter((e.callid, e.server, e.data1) for e in rows if e.event == "CALLBACKRESULT")
    assert results == Counter({("zed", "B", "answered"): 1, ("amy", "B", "answered"): 1})
    sa.close()
    sb.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_engine_on_the_sim_keeps_a_shared_place_and_calls_it_back_itself(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The queue engine bound to the IVR on the sim, nobody else sharing its store: a caller keeps
    its place and hangs up; the row is held by this engine, which dials it itself once its agent
    is free (claim re-checked, still its own) and records one answered result in the row and the
    ledger."""
    url = store_url_for(backend, tmp_path, request, "keptsim")
    with contextlib.redirect_stdout(io.StringIO()) as out:
        engine = keptproc.main(url, "site-a", 60.0, talk_s=40.0, until_done=True)
    assert engine.errors == [] and engine.lost_dials == 0 and engine.lost_claims == 0
    callid = out.getvalue().split()[1]
    store = open_store(url)
    row = store.callback(callid)
    assert (row.mode, row.state, row.outcome, row.attempts, row.claim_seq) == (
        "keep_place",
        DONE,
        "answered",
        1,
        1,
    )
    assert [d[0] for d in engine.dialled] == [callid]
    ledger = store.ledger()
    assert [(e.callid, e.server) for e in ledger if e.event == "CALLBACKATTEMPT"] == [(callid, "site-a")]
    results = [(e.callid, e.data1, e.data2, e.data3) for e in ledger if e.event == "CALLBACKRESULT"]
    assert results == [(callid, "answered", "1", "1")]
    store.close()


def test_two_engines_a_kept_place_of_the_sigkilled_one_is_dialled_once_by_the_other(
    pg: PgServer, tmp_path: Path
) -> None:
    """Engine A (its own sim board) books a kept place for a caller who hangs up, and is SIGKILLed
    while its agent is still busy. Engine B, on another sim board and the same PostgreSQL, claims
    the row only after A's lease lapsed, dials it once, the customer answers, and the ledger has
    one attempt and one answered result for it, both B's; A never dialled it."""
    lease = 6.0
    url = pg.create_db("kept")
    store = open_store(url)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    a_err = (tmp_path / "site-a.err").open("w+")
    a = subprocess.Popen(
        [sys.executable, "-m", "tests.queue.keptproc", url, "site-a", repr(lease)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=a_err, text=True,
    )  # fmt: skip
    b: subprocess.Popen[str] | None = None
    try:
        assert a.stdout is not None
        line = a.stdout.readline()  # blocks until the booking is committed (or A dies)
        assert line.startswith("booked "), f"site-a: {line!r} {(tmp_path / 'site-a.err').read_text()}"
        callid = line.split()[1]
        a.send_signal(signal.SIGKILL)
        a.wait(10)
        row = store.callback(callid)
        assert (row.mode, row.state, row.claimed_by, row.claim_seq) == ("keep_place", "claimed", "site-a", 1)
        lapse = row.claim_until  # the last renewal's lease: nobody may dial it before then
        b, b_out, b_err = _spawn(url, "site-b", 13)
        b.wait(240)
        time.sleep(0.2)
    finally:
        for p in (a, b):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        a_err.close()
    assert b.returncode == 0, "\n".join(b_err[-40:])
    done = json.loads(next(x for x in b_out if x.startswith("done "))[5:])
    assert done["errors"] == [] and done["lost_claims"] == 0
    dials = [x.split() for x in b_out if x.startswith("dial ")]
    assert [(d[1], d[2]) for d in dials] == [(f"{callid}.1", row.number)]
    assert float(dials[0][3]) >= lapse
    row = store.callback(callid)
    assert (row.state, row.outcome, row.attempts, row.claim_seq) == (DONE, "answered", 1, 2)
    ledger = store.ledger()
    attempts = [(e.callid, e.server) for e in ledger if e.event == "CALLBACKATTEMPT"]
    assert attempts == [(f"{callid}.1", "site-b")]
    results = [(e.callid, e.server, e.data1) for e in ledger if e.event == "CALLBACKRESULT"]
    assert results == [(callid, "site-b", "answered")]
    store.close()
