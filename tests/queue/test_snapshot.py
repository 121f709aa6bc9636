"""Journal snapshots (ccboard.queue.durable): recovery from a snapshot plus the journal's tail
equals a replay of the whole journal, on SQLite and on PostgreSQL.

The journal is a real one: the crash world (tests/queue/crashworld.py) runs its busy half hour of
callers, kept-place and scheduled callbacks and a campaign in this process, saving a snapshot
every EVERY entries; more are taken at cut points by replaying the journal up to them. A fresh
engine then restarts from the latest one (or the latest before a given entry) and must hold
exactly the cores a full replay builds: the same digest, the same state object by object, the
same decisions on the next inputs. A snapshot of another configuration is not used, and a body
that names anything but the cores' own classes is refused.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import enum
import io
import itertools
import os
import pickle
import random
from pathlib import Path
from typing import Any

import pytest

from ccboard.queue import events as ev
from ccboard.queue.callback import CallbackConfig, CallbackCore
from ccboard.queue.durable import Durable, dump_cores, load_cores
from ccboard.queue.events import QueueError
from ccboard.store import open_store
from ccboard.store.records import JournalSnapshot
from tests.queue import crashworld
from tests.queue.conftest import BACKENDS, store_url_for

SERVER = "centre-s"
EVERY = 100  # journal entries between the snapshots the run takes itself


@pytest.fixture(scope="module", params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store holding the crash world's whole journal (one uninterrupted run)."""
    u = store_url_for(request.param, tmp_path_factory.mktemp("snap"), request, "snapshots")
    with contextlib.redirect_stdout(io.StringIO()):
        crashworld.main(u, SERVER, snapshot_every=EVERY)
    return u


def _canon(x: Any, seen: dict[int, int]) -> Any:
    """An object graph as plain data that compares equal iff the two graphs hold the same state
    (a shared mutable object is a reference to where it was first met; sets sorted)."""
    if x is None or isinstance(x, str | int | float | bool):
        return x
    if isinstance(x, enum.Enum):
        return repr(x)
    if isinstance(x, random.Random):
        return ("Random", x.getstate())
    if isinstance(x, itertools.count):
        return repr(x)
    if callable(x) and not hasattr(x, "__dict__") and not hasattr(x, "__slots__") or isinstance(x, type):
        return ("fn", getattr(x, "__qualname__", repr(x)))
    if isinstance(x, tuple):
        return ("tuple", [_canon(v, seen) for v in x])
    if isinstance(x, frozenset | set):
        return ("set", sorted(repr(_canon(v, {})) for v in x))
    params = getattr(type(x), "__dataclass_params__", None)  # frozen dataclasses compare by value
    frozen = params is not None and params.frozen
    if not frozen:
        if id(x) in seen:
            return ("ref", seen[id(x)])
        seen[id(x)] = len(seen)
    if isinstance(x, list | collections.deque):
        return (type(x).__name__, [_canon(v, seen) for v in x])
    if isinstance(x, dict):
        return ("dict", [(_canon(k, seen), _canon(v, seen)) for k, v in x.items()])
    slots = [n for c in type(x).__mro__ for n in getattr(c, "__slots__", ())]
    names = sorted({*getattr(x, "__dict__", {}), *slots})  # attribute order does not matter
    return (type(x).__qualname__, [(n, _canon(getattr(x, n), seen)) for n in names if hasattr(x, n)])


def _state(d: Durable) -> Any:
    return _canon(d.cores, {})


def _replayed(store: Any, upto: int | None = None, snapshots: bool = True) -> Durable:
    d = Durable(store, SERVER, crashworld.cores(), snapshots=snapshots)
    d.replay(upto)
    return d


def _next_decisions(d: Durable, now: float) -> list[list[ev.Action]]:
    """What the cores decide on the same next inputs (fed to them directly, nothing written)."""
    acd, cb = d.cores["acd"], d.cores["callback"]
    return [
        acd.handle(ev.CallArrives("probe", "bank", callerid="5550000"), now),
        acd.handle(ev.AgentPause("ann", "lunch"), now + 1),
        acd.on_timeout(now + 3600),
        cb.on_timeout(now + 3600),
    ]


def test_recovery_from_snapshot_and_tail_equals_a_full_replay(url: str) -> None:
    store = open_store(url)
    total = store.journal_seq(SERVER)
    assert total > 300
    full = _replayed(store, snapshots=False)
    assert (full.replayed, full.restored) == (total, 0)
    # the run's own snapshots, taken live between its decisions
    # (equal in what they decide: a live run's timer heaps have had their stale heads dropped by
    # next_deadline, which a replay never asks)
    live, ref = _replayed(store), _replayed(store, snapshots=False)
    assert 0 < total - live.restored < EVERY + 20 and live.replayed == total - live.restored
    assert crashworld.digest(live) == crashworld.digest(ref)
    assert [c.next_deadline() for c in live.cores.values()] == [c.next_deadline() for c in ref.cores.values()]
    assert _next_decisions(live, ref.last_time) == _next_decisions(ref, ref.last_time)
    cuts = (1, total // 3 + 3, total - 1)
    for k in cuts:  # and snapshots between the live ones, the last after every live one
        d = _replayed(store, upto=k, snapshots=False)
        snap = d.save_snapshot()
        assert (snap.seq, snap.time) == (k, store.journal(SERVER, after=k - 1)[0].time)
    # a restart starts from the latest snapshot and replays only the tail
    fast = _replayed(store)
    assert (fast.restored, fast.replayed, fast.seq) == (cuts[-1], total - cuts[-1], total)
    assert fast.last_time == full.last_time
    assert crashworld.digest(fast) == crashworld.digest(full)
    assert _state(fast) == _state(full)
    assert _next_decisions(fast, full.last_time) == _next_decisions(full, full.last_time)
    # up to an earlier entry: the snapshot before it, then the entries up to it
    mid = cuts[1] + 25
    part, ref = _replayed(store, upto=mid), _replayed(store, upto=mid, snapshots=False)
    assert cuts[1] <= part.restored < mid and part.restored + part.replayed == part.seq == mid
    assert crashworld.digest(part) == crashworld.digest(ref)
    assert _state(part) == _state(ref)
    # the journal stays whole: replaying it from the start still gives the same cores
    assert len(store.journal(SERVER)) == total
    store.close()


def test_snapshot_of_another_configuration_is_not_used(url: str) -> None:
    store = open_store(url)
    total = store.journal_seq(SERVER)
    _replayed(store, upto=total // 2, snapshots=False).save_snapshot()
    cores = crashworld.cores()
    cores["callback"] = CallbackCore(CallbackConfig(max_attempts=4, open_from=0.0, open_until=24.0))
    d = Durable(store, SERVER, cores)
    d.replay()
    assert (d.restored, d.replayed) == (0, total)  # whole journal: the snapshot is of another set-up
    store.close()


def test_snapshot_body_may_name_only_the_cores_classes(tmp_path: Path) -> None:
    evil = base64.b64encode(pickle.dumps({"acd": os.getcwd})).decode()
    with pytest.raises(QueueError, match=r"posix\.getcwd may not appear in a snapshot"):
        load_cores(evil)
    with pytest.raises(QueueError, match="bad body"):
        load_cores("not base64!")
    with pytest.raises(QueueError, match="body is a list"):
        load_cores(base64.b64encode(pickle.dumps([1])).decode())
    store = open_store(f"sqlite:///{tmp_path / 'bad.db'}")
    d = Durable(store, "x", crashworld.cores())
    with pytest.raises(QueueError, match="nothing written or replayed yet"):
        d.save_snapshot()
    d.feed("acd", ev.AddMember("ann", "bank"), crashworld.T0)
    other = {**crashworld.cores(), "campaign": CallbackCore()}
    store.save_snapshot(JournalSnapshot("x", 1, crashworld.T0, d.config, dump_cores(other)))
    with pytest.raises(QueueError, match=r"snapshot x#1: core 'campaign' is a CallbackCore, not a Campaign"):
        Durable(store, "x", crashworld.cores()).replay()
    store.close()
