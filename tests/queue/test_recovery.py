"""Crash recovery of the journalled queue cores (ccboard.queue.durable), with real processes killed
by SIGKILL at random moments, on SQLite and on PostgreSQL.

The process (tests/queue/crashworld.py) runs a busy half hour of callers, kept-place and
scheduled callbacks and a follow-up campaign; it is killed several times and restarted on the
same store until it finishes. Then: the cores rebuilt from the journal equal the live ones;
every call that entered the queue left it exactly once per entry; no agent was ever booked for
two calls; every callback promise and every campaign contact reached a final result with
attempts numbered 1, 2, ... each dialled once (an attempt cut by a kill ends "lost" and is
retried under the next number); one SMS per promise; the KPIs recompute from the ledger.

The queue engine itself, bound to the IVR on the sim, is killed the same way right after a
kept-place promise (tests/queue/engineproc.py) and resumed by a new process.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from ccboard.queue import kpi
from ccboard.queue.campaign import AddContacts, Contact
from ccboard.queue.durable import Durable, decode, encode
from ccboard.queue.engine import queue_ledger
from ccboard.queue.events import CallArrives, CallbackDialResult, Outcome, QueueError
from ccboard.store import open_store
from ccboard.store.records import JournalEntry
from tests.queue import crashworld
from tests.queue.conftest import BACKENDS, store_url_for

ROOT = Path(__file__).resolve().parents[2]
KILLS = 4
HOLD = 300.0  # virtual s after a kill target at which the process waits for its kill
TERMINAL = {
    "COMPLETEAGENT",
    "COMPLETECALLER",
    "ABANDON",
    "EXITCALLBACK",
    "EXITWITHTIMEOUT",
    "EXITEMPTY",
    "EXITWITHKEY",
}


def _spawn(url: str, hold: float | None = None) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    extra = [] if hold is None else [str(hold)]
    return subprocess.Popen(
        [sys.executable, "-m", "tests.queue.crashworld", url, "centre-a", *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _reader(proc: subprocess.Popen[str], lines: list[str]) -> threading.Thread:
    def run() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.strip())

    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    got = store_url_for(request.param, tmp_path, request, "recovery")
    # a process kill (not a power cut) loses nothing committed in WAL mode with synchronous=normal
    return got + "?synchronous=normal" if request.param == "sqlite" else got


def test_sigkilled_engine_resumes_from_its_journal(url: str) -> None:
    rng = random.Random(9)
    # kill once the run has reached each of these virtual times, a random moment after; the process
    # holds HOLD virtual s after the target (CI once saw a loaded machine let a resumed run finish
    # before the kill landed), so every kill lands while arrivals remain
    targets = sorted(rng.uniform(60.0, crashworld.SPAN - 600.0) for _ in range(KILLS))
    open_store(url).close()
    kills, runs, final = 0, 0, ""
    recovered: list[str] = []
    log: list[tuple[int, int | None, list[str]]] = []  # per run: return code, its first lines
    while not final:
        runs += 1
        assert runs <= KILLS + 2, "the centre never finished"
        goal = crashworld.T0 + targets[kills] if kills < KILLS else None
        proc = _spawn(url, None if goal is None else goal + HOLD)
        lines: list[str] = []
        th = _reader(proc, lines)
        if goal is not None:
            t_end = time.monotonic() + 60
            while not any(x.startswith("t ") and float(x[2:]) >= goal for x in lines) and proc.poll() is None:
                assert time.monotonic() < t_end, "no progress"
                time.sleep(0.002)
            time.sleep(rng.uniform(0.0, 0.05))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=300)
        th.join(timeout=10)
        err = proc.stderr.read() if proc.stderr else ""
        recovered += [x for x in lines if x.startswith("recovered ")]
        log.append((runs, proc.returncode, lines[:2]))
        if proc.returncode == -signal.SIGKILL:
            kills += 1  # (even if it had printed its digest: the next start replays and ends)
        else:
            assert proc.returncode == 0, err
            final = next(x for x in lines if x.startswith("done "))[5:]
    assert kills == KILLS, log
    assert len(recovered) == KILLS, log
    # the kills cut live legs, which the restarts ended (callers hung up, dials lost, ...)
    assert any(len(x.split()) > 2 for x in recovered), recovered

    with open_store(url) as store:
        # the cores rebuilt from the journal equal the ones that finished the run
        d = Durable(store, "centre-a", crashworld.cores())
        assert d.replay() == store.journal_seq("centre-a")
        assert crashworld.digest(d) == json.loads(final)
        rows = store.ledger()
        sms = store.count("sms_outbox")
        k = kpi.compute(queue_ledger(store), queue="bank")

    by_call: dict[str, list[str]] = defaultdict(list)
    busy: dict[str, str] = {}
    for r in rows:
        by_call[r.callid].append(r.event)
        if r.event in ("CONNECT", "CALLBACKATTEMPT"):
            assert busy.get(r.agent, r.callid) == r.callid, f"{r.agent} booked twice: {r}"
            busy[r.agent] = r.callid
        elif r.event in ("COMPLETEAGENT", "COMPLETECALLER", "EXITCALLBACK"):
            assert busy.pop(r.agent) == r.callid
    assert not busy
    for cid, story in by_call.items():
        if story[0] == "ENTERQUEUE":
            assert story.count("ENTERQUEUE") == sum(e in TERMINAL for e in story), (cid, story)

    requests = [r for r in rows if r.event == "CALLBACKREQUEST"]
    assert {r.data2 for r in requests} == {"place", "time"} and sms == len(requests)
    for req in requests:
        results = [r for r in rows if r.event == "CALLBACKRESULT" and r.callid == req.callid]
        assert [int(r.data2) for r in results] == list(range(1, len(results) + 1)), req.callid
        assert results[-1].data3 == "1" and all(r.data3 == "0" for r in results[:-1])
        assert by_call[req.callid].count("CALLBACKATTEMPT") == len(results)

    attempts = Counter((r.data1, r.data3) for r in rows if r.event == "CAMPAIGNATTEMPT")
    results = [r for r in rows if r.event == "CAMPAIGNRESULT"]
    assert set(attempts.values()) == {1}, "a campaign attempt was dialled twice"
    assert Counter((r.data1, r.data3) for r in results) == attempts
    last = {r.data1: r.data4 for r in results}
    assert len(last) == crashworld.CONTACTS
    assert not {s for s in last.values() if s in ("RETRY", "DIALLING")}

    assert k.offered == sum(r.event == "ENTERQUEUE" for r in rows)
    assert k.answered == sum(r.event == "CONNECT" for r in rows)


def test_journal_codec_round_trips_and_names_bad_entries() -> None:
    for e in (
        CallArrives("c1", "bank", "555", 3, (("en", 2),), "777"),
        CallbackDialResult("c1", Outcome.LOST),
        AddContacts((Contact("k1", "666", "Asia/Shanghai"),)),
    ):
        assert decode(encode(e)) == e
    with pytest.raises(QueueError, match="unknown event type 'Nope'"):
        decode('{"$": "Nope"}')
    with pytest.raises(QueueError, match="bad entry"):
        decode("{not json")


def test_engine_on_the_sim_killed_after_a_callback_promise_calls_back_after_restart(url: str) -> None:
    """The queue engine bound to the IVR on the sim, SIGKILLed while caller A talks to the only
    agent and B has just booked a kept-place callback; a new process on the same store resumes:
    A's call (lost with the process) is completed, B is called back and connected to the agent."""
    first = subprocess.Popen(
        [sys.executable, "-m", "tests.queue.engineproc", "first", url],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    th = _reader(first, lines)
    t_end = time.monotonic() + 120
    while not any(x.startswith("booked ") for x in lines):
        assert first.poll() is None, (lines, first.stderr.read() if first.stderr else "")
        assert time.monotonic() < t_end, "no callback was booked"
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    th.join(timeout=10)
    with open_store(url) as s:
        # the last event of each call when it died
        before = {r.callid: r.event for r in s.ledger() if r.callid != "NONE"}
    assert sorted(before.values()) == ["CALLBACKREQUEST", "CONNECT"]

    second = subprocess.run(
        [sys.executable, "-m", "tests.queue.engineproc", "resume", url],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert second.returncode == 0, second.stderr
    out = json.loads(next(x for x in second.stdout.splitlines() if x.startswith("done "))[5:])
    assert out["errors"] == [] and out["replayed"] > 0
    with open_store(url) as s:
        rows = s.ledger()
        assert s.count("sms_outbox") == 1
    story: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        story[r.callid].append(r.event)
    a = next(c for c, e in before.items() if e == "CONNECT")
    b = next(c for c, e in before.items() if e == "CALLBACKREQUEST")
    assert story[a] == ["ENTERQUEUE", "CONNECT", "COMPLETECALLER"]
    assert story[b] == [
        "ENTERQUEUE", "CALLBACKREQUEST", "CALLBACKATTEMPT", "CONNECT", "CALLBACKRESULT", "COMPLETEAGENT",
    ]  # fmt: skip
    res = next(r for r in rows if r.event == "CALLBACKRESULT")
    assert (res.data1, res.data2, res.data3) == ("answered", "1", "1")


def test_recover_refuses_a_clock_before_the_journal_end(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'j.db'}") as s:
        d = Durable(s, "x", crashworld.cores())
        d.feed("acd", CallArrives("c1", "bank", "555"), crashworld.T0 + 10)
        again = Durable(s, "x", crashworld.cores())
        with pytest.raises(QueueError, match="restarted clock must start after it"):
            again.recover(crashworld.T0)
        s.record(journal=[JournalEntry("x", 2, crashworld.T0 + 11, "acd", "event", '{"$": "Nope"}')])
        with pytest.raises(QueueError, match=r"journal x#2: journal: unknown event type 'Nope'"):
            Durable(s, "x", crashworld.cores()).replay()
