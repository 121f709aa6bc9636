"""Store throughput: ledger writes on SQLite and PostgreSQL, callback claims by 4 workers on PostgreSQL.

The PostgreSQL server is the tests' throwaway one (tests/store/pgserver.py: Debian's postgresql,
initdb in a temporary directory, unix socket, fsync and synchronous_commit on); SQLite is a WAL
file in a temporary directory with synchronous=FULL (the default URL). Nothing is relaxed: each
write is committed before the next starts, as the ledger requires (acknowledge after commit).

Rows (extra_info: impl "ours", kernel, per = operations per round, unit):
- `store ledger sqlite`, `store ledger postgres`: one round appends 200 ledger events, one
  transaction per event (append() of one event); ns/write = median / 200.
- `store claims postgres 4 workers`: 4 worker processes, one connection each, claim callbacks
  one at a time (claim_callbacks(limit=1), FOR UPDATE SKIP LOCKED) and finish each (outcome and a
  ledger event in one transaction) until 2,000 due callbacks are all done; ns/claim = median / 2000.
- `store claims postgres 4 workers batch 50`: the same, each worker claiming 50 due callbacks in one
  statement (claim_callbacks(limit=50)) and finishing them in one transaction (finish_callbacks:
  one UPDATE joined to a VALUES list of the 50 outcomes, one multi-row INSERT of the 50 ledger
  events), i.e. 4 round trips per 50 claims instead of 4 per claim.
  Issue 9's goal: >= 2,000 claims/s. Each round checks every callback was finished exactly once.
"""

from __future__ import annotations

import multiprocessing as mp
import tempfile
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pytest

from ccboard.store import Callback, LedgerEvent, Repository, open_store
from tests.store.pgserver import PgServer, PgUnavailable

WRITES = 200
CLAIMS = 2000
WORKERS = 4
T0 = 1_718_000_000.0
GOAL_CLAIMS_PER_S = 2000.0
BATCH = 50  # callbacks per claim in the batched row (a dialler with 50 free lines)


@pytest.fixture(scope="module")
def pg() -> Iterator[PgServer]:
    try:
        server = PgServer()
    except PgUnavailable as exc:
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        server.stop()


def _ledger_round(store: Repository, counter: list[int]) -> None:
    for _ in range(WRITES):
        counter[0] += 1
        i = counter[0]
        store.append(LedgerEvent(T0 + i, f"c{i}", "sales", "NONE", "ENTERQUEUE", "", "5551234", "1"))


def _record(benchmark: Any, kernel: str, per: int, unit: str, **extra: Any) -> None:
    benchmark.group = kernel
    benchmark.extra_info.update(impl="ours", kernel=kernel, per=per, unit=unit, **extra)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_ledger_writes(benchmark: Any, backend: str, request: pytest.FixtureRequest) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if backend == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        else:
            url = request.getfixturevalue("pg").create_db("bench_ledger")
        store = open_store(url)
        counter = [0]
        try:
            _record(benchmark, f"store ledger {backend}", WRITES, "write", synchronous="FULL/on")
            benchmark.pedantic(_ledger_round, args=(store, counter), rounds=15, iterations=1, warmup_rounds=1)
            assert store.count("ledger") == counter[0]
        finally:
            store.close()
        med = benchmark.stats.stats.median
        benchmark.extra_info["writes_per_s"] = round(WRITES / med, 1)


def _claim_worker(url: str, name: str, batch: int, conn: Connection) -> None:
    """Loop: wait for 'go', claim and finish callbacks `batch` at a time until none is due, report
    the count."""
    store = open_store(url, migrate=False)
    while conn.recv() == "go":
        n = 0
        now = T0 + 10_000
        while True:
            got = store.claim_callbacks(name, now, limit=batch)
            if not got:
                break
            evs = [
                LedgerEvent(now, c.callid, c.queue, name, "CALLBACK", "answered", uid=f"{c.id}#{name}")
                for c in got
            ]
            if batch == 1:
                store.finish_callback(got[0], "answered", now, events=evs)
            else:
                store.finish_callbacks([(c, "answered", None) for c in got], now, events=evs)
            n += len(got)
        conn.send(n)
    store.close()


@pytest.mark.parametrize("batch", [1, BATCH])
def test_claims_postgres_4_workers(benchmark: Any, pg: PgServer, batch: int) -> None:
    url = pg.create_db(f"bench_claims_{batch}")
    store = open_store(url)
    ctx = mp.get_context("spawn")
    pipes, procs = [], []
    for w in range(WORKERS):
        parent, child = ctx.Pipe()
        p = ctx.Process(target=_claim_worker, args=(url, f"w{w}", batch, child), daemon=True)
        p.start()
        pipes.append(parent)
        procs.append(p)
    rounds = [0]
    counts: list[list[int]] = []

    def setup() -> tuple[tuple[()], dict[str, Any]]:
        rounds[0] += 1
        r = rounds[0]
        store.record(
            callbacks=[Callback(f"r{r}cb{i}", f"r{r}c{i}", "sales", "+49", T0 + i, T0) for i in range(CLAIMS)]
        )
        return (), {}

    def run() -> None:
        for p in pipes:
            p.send("go")
        counts.append([p.recv() for p in pipes])

    try:
        _record(
            benchmark,
            f"store claims postgres {WORKERS} workers" + (f" batch {batch}" if batch > 1 else ""),
            CLAIMS,
            "claim",
            goal_per_s=GOAL_CLAIMS_PER_S,
            batch=batch,
        )
        benchmark.pedantic(run, setup=setup, rounds=5, iterations=1, warmup_rounds=1)
    finally:
        for p in pipes:
            p.send("stop")
        for p in procs:
            p.join(timeout=30)
    assert all(sum(c) == CLAIMS for c in counts), counts
    assert store.count("callbacks") == CLAIMS * rounds[0]
    assert store.event_counts() == {"CALLBACK": CLAIMS * rounds[0]}  # each finished exactly once
    assert all(c.state == "done" and c.attempts == 1 for c in store.callbacks())
    store.close()
    med = benchmark.stats.stats.median
    benchmark.extra_info["claims_per_s"] = round(CLAIMS / med, 1)
    benchmark.extra_info["per_worker_last_round"] = counts[-1]
