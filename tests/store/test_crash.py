"""Crash safety and concurrent claims, on both backends, with real processes.

- A writer running a busy simulated hour is killed with SIGKILL at random moments and restarted
  until it finishes: every call it acknowledged is stored, and the end state (CDRs, callbacks with
  their attempts and outcomes, campaign attempts, ledger rows) equals the model exactly: nothing
  lost, nothing twice.
- Two writer processes claiming one callback at a time, and four claiming 25 at a time (finished
  in one batch), take the same callbacks at once: each is claimed and finished exactly once, and
  more than one worker got work.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ccboard.store import open_store
from ccboard.store.records import Callback
from tests.store import workers

ROOT = Path(__file__).resolve().parents[2]
CALLS = 360  # in the simulated hour: one every 10 s
KILLS = 8


def _spawn(*args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen(
        [sys.executable, "-m", "tests.store.workers", *args],
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


def test_sigkill_during_busy_hour_loses_and_duplicates_nothing(store_url: str) -> None:
    rng = random.Random(20240611)
    open_store(store_url).close()  # schema first, so every kill lands in the simulated hour
    acked: set[int] = set()
    kills, runs = 0, 0
    while True:
        runs += 1
        assert runs < 60, "writer never finished"
        proc = _spawn("crash", store_url, str(CALLS))
        lines: list[str] = []
        th = _reader(proc, lines)
        if kills < KILLS:
            # kill once it is busy: after its first ack, then at a random moment
            t_end = time.monotonic() + 30
            while not any(x.startswith("ack") for x in lines) and proc.poll() is None:
                assert time.monotonic() < t_end, "writer printed no ack"
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.25))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
        proc.wait(timeout=120)
        th.join(timeout=10)
        new = {int(x.split()[1]) for x in lines if x.startswith("ack")}
        acked |= new
        with open_store(store_url) as check:
            stored = {c.uniqueid for c in check.cdrs()}
        missing = {f"call{i}" for i in acked} - stored
        assert not missing, f"acknowledged but not stored after kill {kills}: {sorted(missing)[:5]}"
        if "done" in lines:
            assert proc.returncode == 0
            break
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
    assert kills == KILLS

    exp = workers.model(CALLS)
    with open_store(store_url) as s:
        cdrs = s.cdrs()
        assert len(cdrs) == len(exp.cdrs) and {c.uniqueid for c in cdrs} == exp.cdrs
        got_cb = {c.id: (c.state, c.attempts, c.outcome) for c in s.callbacks()}
        assert got_cb == exp.callbacks
        got_att = {a.id: a.outcome for a in s.attempts()}
        assert got_att == exp.attempts
        assert all(a.state == "done" for a in s.attempts())
        assert s.count("ledger") == exp.ledger
        counts = s.event_counts()
        assert counts["CALLBACK"] == sum(k for _, k, _ in exp.callbacks.values())
        assert counts["ATTEMPT"] == len(exp.attempts)
        assert s.count("sms_outbox") == len(exp.callbacks)


@pytest.mark.parametrize(("nproc", "batch"), [(2, 1), (4, 25)])
def test_writer_processes_claim_each_callback_once(store_url: str, nproc: int, batch: int) -> None:
    n = 300
    with open_store(store_url) as s:
        s.record(
            callbacks=[
                Callback(f"cb{i:03d}", f"call{i}", "sales", "+49", workers.T0 + i, workers.T0)
                for i in range(n)
            ]
        )
    names = [f"server-{chr(97 + w)}" for w in range(nproc)]
    start = time.time() + 1.5  # every process connected before any claims
    procs = [_spawn("claim", store_url, name, repr(start), str(batch)) for name in names]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert out.strip().endswith("done")
        outs.append([line.split()[1] for line in out.splitlines() if line.startswith("claimed")])
    every = [cid for o in outs for cid in o]
    assert len(every) == len(set(every)), "a callback was claimed twice"
    assert set(every) == {f"cb{i:03d}" for i in range(n)}
    assert sum(1 for o in outs if o) >= 2, "one worker got all: the test did not exercise concurrency"
    with open_store(store_url) as s:
        assert all(c.state == "done" and c.attempts == 1 for c in s.callbacks())
        assert s.event_counts() == {"CALLBACK": n}
        assert {e.agent for e in s.ledger()} <= set(names)
