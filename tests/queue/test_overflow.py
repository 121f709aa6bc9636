"""Overflow between sites by live service level (ccboard.queue.overflow, the store's offers).

The core decides from the shared ledger's live SL and the line; the store hands each offer to one
site (SKIP LOCKED on PostgreSQL); and three sites, each with its own ACD fed through its own
journal on one store, move callers from an overloaded site to the free agents of the others:
every caller is connected exactly once, somewhere.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest

from ccboard.queue import events as ev
from ccboard.queue.acd import Acd, QueueConfig
from ccboard.queue.durable import Durable
from ccboard.queue.engine import from_row
from ccboard.queue.overflow import OverflowConfig, OverflowCore
from ccboard.store import Repository, open_store
from ccboard.store.records import CANCELLED, CLAIMED, DONE, PENDING, TAKEN, VOID, OverflowOffer
from tests.queue.conftest import BACKENDS, store_url_for

T0 = 1_767_607_200.0
Q = "bank"


def _connect(t: float, callid: str, hold: float) -> ev.LedgerEvent:
    return ev.Connect(T0 + t, callid, Q, "a1", hold, "x", 1.0)


def test_core_offers_when_live_sl_is_low_or_a_wait_too_long_each_caller_once() -> None:
    core = OverflowCore(OverflowConfig(Q, min_sl=0.8, sl_threshold=20.0, window=600.0, max_wait=90.0))
    ledger = [_connect(0, "old", 5.0), _connect(700, "c0", 10.0), _connect(710, "c1", 45.0)]
    now = T0 + 720
    assert core.live_sl(ledger, now) == 0.5  # "old" is outside the window
    line = [("c3", "100", now - 30), ("c2", "101", now - 40), ("c4", "102", now - 2)]
    assert core.to_offer(now, line, 0.5) == [("c2", "101", 40.0), ("c3", "100", 30.0)]  # c4: just came
    assert core.to_offer(now + 10, line, 0.5) == [("c4", "102", 12.0)]  # the others once only
    core2 = OverflowCore(OverflowConfig(Q, max_wait=90.0))
    assert core2.to_offer(now, line, 0.95) == []  # SL fine, nobody waited 90 s
    assert core2.to_offer(now + 50, line, None) == [("c2", "101", 90.0)]
    core2.settled("c2")
    assert [c for c, _, _ in core2.to_offer(now + 60, line, None)] == ["c2", "c3"]
    assert OverflowCore.take(3, 1) == 2 and OverflowCore.take(1, 2) == 0


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return store_url_for(request.param, tmp_path, request, "overflow")


def _offer(i: int, site: str = "A", t: float = 0.0) -> OverflowOffer:
    return OverflowOffer(f"c{i:03d}", site, Q, f"555{i:04d}", T0 + t, 30.0)


def test_offers_are_claimed_by_other_sites_taken_and_settled(url: str) -> None:
    with open_store(url) as s:
        assert s.offer_overflow(_offer(1)) and not s.offer_overflow(_offer(1))  # once
        s.offer_overflow(_offer(2, t=1.0))
        s.offer_overflow(_offer(3, t=2.0))
        assert s.claim_overflow("A", T0 + 10, limit=5) == []  # never one's own
        assert s.claim_overflow("B", T0 + 10, queues=["sales"]) == []
        got = s.claim_overflow("B", T0 + 10, limit=2, lease=5.0, queues=[Q])
        assert [(g.id, g.state, g.claimed_by) for g in got] == [(f"c00{i}", CLAIMED, "B") for i in (1, 2)]
        assert s.take_overflow(got[0], T0 + 11)
        # c002's claim expires: C claims it; B's take through the old claim no longer holds
        again = s.claim_overflow("C", T0 + 20, limit=5, queues=[Q])
        assert sorted(g.id for g in again) == ["c002", "c003"]
        assert not s.take_overflow(got[1], T0 + 21)
        assert s.take_overflow(again[0], T0 + 21)
        # home site settles: c001 sent to B, c002 answered at home first (void), c003 withdrawn
        assert s.settle_overflow("c001", T0 + 30, sent=True) == DONE
        assert s.settle_overflow("c002", T0 + 30, sent=False) == VOID
        assert s.settle_overflow("c003", T0 + 30, sent=False) == CANCELLED
        assert not s.take_overflow(again[1], T0 + 31)  # withdrawn meanwhile
        assert s.settle_overflow("c001", T0 + 40, sent=False) == ""  # settled already
        rows = {o.id: (o.state, o.taken_by) for o in s.overflow_offers(site="A")}
        assert rows == {"c001": (DONE, "B"), "c002": (VOID, "C"), "c003": (CANCELLED, "")}


def test_two_sites_claiming_at_once_take_each_offer_once(url: str) -> None:
    n = 120
    with open_store(url) as s:
        for i in range(n):
            s.offer_overflow(_offer(i, t=i * 0.01))
    taken: dict[str, list[str]] = {"B": [], "C": []}

    def site(name: str) -> None:
        with open_store(url) as s:
            while True:
                got = s.claim_overflow(name, T0 + 100, limit=3, lease=60.0, queues=[Q])
                if not got:
                    return
                taken[name] += [g.id for g in got if s.take_overflow(g, T0 + 100)]

    threads = [threading.Thread(target=site, args=(x,)) for x in taken]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not set(taken["B"]) & set(taken["C"])
    assert sorted(taken["B"] + taken["C"]) == [f"c{i:03d}" for i in range(n)]
    with open_store(url) as s:
        assert {o.state for o in s.overflow_offers()} == {TAKEN}
        assert Counter(o.taken_by for o in s.overflow_offers()) == Counter(
            {k: len(v) for k, v in taken.items()}
        )


class _Site:
    """One site: its ACD fed through its own journal on the shared store, agents that answer
    when rung, and what left its line for another site."""

    def __init__(self, store: Repository, name: str, agents: list[str]) -> None:
        self.name = name
        self.store = store
        self.acd = Acd([QueueConfig(Q, ring_timeout=15.0, wrapup=0.0)])
        self.durable = Durable(store, name, {"acd": self.acd}, clock=lambda: self.now)
        self.now = T0
        self.core = OverflowCore(OverflowConfig(Q, min_sl=0.8, sl_threshold=20.0, max_wait=120.0))
        self.sent: list[tuple[str, str]] = []  # (call id, site)
        self.rung: list[tuple[str, str]] = []
        self.durable.start_fresh()
        for a in agents:
            self.feed(ev.AgentLogin(a, a))
            self.feed(ev.AddMember(a, Q))

    def feed(self, e: ev.Event) -> None:
        d = self.durable.feed("acd", e, self.now)
        for a in d.actions:
            if isinstance(a, ev.RingAgent):
                self.rung.append((a.callid, a.agent))
            elif isinstance(a, ev.StopRinging) and (a.callid, a.agent) in self.rung:
                self.rung.remove((a.callid, a.agent))
            elif isinstance(a, ev.ExitQueue) and a.reason == "OVERFLOW":
                self.sent.append((a.callid, a.target))

    def answer_rung(self) -> None:
        """The first agent rung for each call answers (ring-all: the others are stopped)."""
        while self.rung:
            callid, agent = self.rung.pop(0)
            self.feed(ev.AgentAnswered(callid, agent))

    def free_agents(self) -> int:
        return sum(1 for a in self.acd.agents.values() if a.routable)


def test_an_overloaded_site_overflows_to_the_free_agents_of_two_others(url: str) -> None:
    store = open_store(url)
    a = _Site(store, "site-a", ["a1"])
    b = _Site(open_store(url), "site-b", ["b1"])
    c = _Site(open_store(url), "site-c", ["cc1", "cc2"])
    sites = (a, b, c)

    def at(t: float) -> None:
        for s in sites:
            s.now = T0 + t

    # site-a: its one agent answers c0 late (held 40 s > 20 s: live SL 0), then c1..c5 queue up
    at(0)
    a.feed(ev.CallArrives("c0", Q, callerid="5550"))
    at(40)
    a.answer_rung()
    for i in range(1, 6):
        at(40 + i)
        a.feed(ev.CallArrives(f"c{i}", Q, callerid=f"555{i}"))
    at(60)
    sl = a.core.live_sl([from_row(r) for r in store.ledger(queue=Q)], a.now)  # the shared ledger
    assert sl == 0.0
    offers = a.core.to_offer(a.now, a.acd.live_callers(Q), sl)
    assert [o[0] for o in offers] == ["c1", "c2", "c3", "c4", "c5"]
    for callid, callerid, waited in offers:
        assert store.offer_overflow(OverflowOffer(callid, a.name, Q, callerid, a.now, waited))
    # c1 is answered at home before anyone takes it (a1 is free again): its offer is withdrawn
    a.feed(ev.CallEnded("c0", "agent"))
    a.answer_rung()
    assert store.settle_overflow("c1", a.now, sent=False) == CANCELLED
    a.core.settled("c1")
    # the other sites take what their free agents can answer, each offer by one site
    at(61)
    for s in (b, c):
        n = s.core.take(s.free_agents(), s.acd.waiting(Q))
        for o in s.store.claim_overflow(s.name, s.now, limit=n, queues=[Q]):
            assert s.store.take_overflow(o, s.now)
    taken = {o.id: o.taken_by for o in store.overflow_offers(state=TAKEN)}
    assert sorted(taken) == ["c2", "c3", "c4"] and Counter(taken.values()) == {"site-b": 1, "site-c": 2}
    assert [o.id for o in store.overflow_offers(state=PENDING)] == ["c5"]  # no free agent left
    # site-a sends the taken callers over; each arrives on the tie line at its taker's queue
    at(62)
    for o in store.overflow_offers(site=a.name, state=TAKEN):
        a.feed(ev.CallerOverflow(o.id, o.taken_by))
        assert store.settle_overflow(o.id, a.now, sent=True) == DONE
        a.core.settled(o.id)
    assert sorted(a.sent) == sorted(taken.items())
    for callid, target in a.sent:
        dest = next(s for s in sites if s.name == target)
        dest.feed(ev.CallArrives(callid, Q, callerid="tie"))
    at(63)
    for s in sites:
        s.answer_rung()
    # c5: a1 frees up and answers it at home; its pending offer is withdrawn
    at(90)
    a.feed(ev.CallEnded("c1", "caller"))
    a.answer_rung()
    assert store.settle_overflow("c5", a.now, sent=False) == CANCELLED

    ledger = store.ledger()
    connects = Counter(r.callid for r in ledger if r.event == "CONNECT")
    assert connects == Counter({f"c{i}": 1 for i in range(6)})  # each caller answered once
    where = {r.callid: r.server for r in ledger if r.event == "CONNECT"}
    assert where == {"c0": "site-a", "c1": "site-a", "c5": "site-a", **taken}
    exits = {r.callid for r in ledger if r.event == "EXITWITHTIMEOUT" and r.server == "site-a"}
    assert exits == set(taken)
    assert not [r for r in ledger if r.event == "ABANDON"]
    assert {o.state for o in store.overflow_offers()} == {DONE, CANCELLED}
    assert not store.overflow_offers(state=PENDING)
    for s in (b, c):
        s.store.close()
    store.close()
