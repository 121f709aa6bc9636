"""ACD routing decisions with 10,000 callers waiting and 1,000 agents (issue 9: p99 <= 1 ms).

Setup: one queue, strategy leastrecent, callers of priority 0 or 5 needing English or German
(level >= 1), 1,000 agents with English (80 %) and/or German (50 %) at levels 1-5 and penalties
0-2, all on calls, 10,000 callers in line (seeded). One decision = `Acd.handle(CallEnded)`: the
agent's call ends (no wrap-up), the ACD picks the best caller this agent may take (lane heads,
skills, penalty window) and rings the agent. Untimed between decisions: the agent answers and a
new caller arrives, so the line stays at 10,000. Also measured: an arrival decision with every
agent busy (`CallArrives`: position, ledger row, no agent). extra_info: median/p99 in us per
decision (`route_*`, `arrive_*`) from perf_counter_ns around each call, decisions per second.
"""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

from ccboard.queue import events as ev
from ccboard.queue.acd import Acd, QueueConfig

CALLS = 10_000
AGENTS = 1_000
ROUNDS = 5_000


def _build() -> tuple[Acd, random.Random, list[str]]:
    rng = random.Random(9)
    acd = Acd([QueueConfig("q", strategy="leastrecent", ring_timeout=30)])
    names = [f"a{i}" for i in range(AGENTS)]
    for n in names:
        skills = {}
        if rng.random() < 0.8:
            skills["en"] = rng.randint(1, 5)
        if rng.random() < 0.5 or not skills:
            skills["de"] = rng.randint(1, 5)
        acd.define_agent(n, skills)
        acd.handle(ev.AddMember(n, "q", penalty=rng.randint(0, 2)), 0.0)
    t = 1.0
    # every agent takes a call, then the line fills up
    for n in names:
        acd.handle(ev.AgentLogin(n), t)
        acd.handle(ev.CallArrives(f"busy-{n}", "q", skills=()), t)
        acd.handle(ev.AgentAnswered(f"busy-{n}", n), t)
    for i in range(CALLS):
        _arrive(acd, rng, f"w{i}", t + i * 0.01)
    return acd, rng, names


def _arrive(acd: Acd, rng: random.Random, cid: str, now: float) -> None:
    lang = "en" if rng.random() < 0.7 else "de"
    acd.handle(ev.CallArrives(cid, "q", priority=5 if rng.random() < 0.1 else 0, skills=((lang, 1),)), now)


def _pct(xs: list[int], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(p * len(s)))] / 1000.0


def test_queue_route_10000x1000(benchmark: Any) -> None:
    acd, rng, _ = _build()
    now = [1000.0]
    route_ns: list[int] = []
    arrive_ns: list[int] = []
    seq = [0]

    on_call = [c.callid for c in acd.calls.values() if c.agent is not None]

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        cid = on_call.pop(rng.randrange(len(on_call)))
        now[0] += 0.05
        return (ev.CallEnded(cid, "agent"), now[0]), {}

    def decide(e: ev.CallEnded, t: float) -> None:
        t0 = time.perf_counter_ns()
        out = acd.handle(e, t)
        route_ns.append(time.perf_counter_ns() - t0)
        rings = [a for a in out if isinstance(a, ev.RingAgent)]
        assert len(rings) == 1, out
        acd.handle(ev.AgentAnswered(rings[0].callid, rings[0].agent), t)
        on_call.append(rings[0].callid)
        seq[0] += 1
        t1 = time.perf_counter_ns()
        _arrive(acd, rng, f"n{seq[0]}", t)
        arrive_ns.append(time.perf_counter_ns() - t1)
        assert acd.waiting("q") == CALLS

    benchmark.pedantic(decide, setup=setup, rounds=ROUNDS, iterations=1)
    med, p99 = _pct(route_ns, 0.5), _pct(route_ns, 0.99)
    benchmark.group = "queue route 10000x1000"
    benchmark.extra_info.update(
        impl="ours",
        kernel="queue route 10000x1000",
        per=1,
        unit="decision",
        route_median_us=round(med, 1),
        route_p99_us=round(p99, 1),
        route_max_us=round(max(route_ns) / 1000, 1),
        arrive_median_us=round(_pct(arrive_ns, 0.5), 1),
        arrive_p99_us=round(_pct(arrive_ns, 0.99), 1),
        decisions_per_s=round(1e6 / statistics.mean(x / 1000 for x in route_ns)),
        goal="p99 <= 1000 us",
    )
    assert p99 <= 1000.0, f"routing p99 {p99:.1f} us > 1 ms"
