"""MFC/R2 call setups over 960 back-to-back channel pairs (32 E1 spans' worth), virtual time.

Each pair is two R2Channel machines on ChannelDrivers facing each other over the test Wire
(tests/signalling/helpers.py): CAS bits 2 ms late (one E1 multiframe), MF audio through the real
MF generator and receiver kernels (ccboard.dsp.mf) in 10 ms blocks. All 960 forward ends dial at
t = 0 (DNIS 4 digits, ANI 8 digits, category); every backward end answers as soon as it is
offered. One round: until all 960 calls are answered on both ends.
extra_info: virtual seconds until all were answered (goal < 5 s), wall seconds, CPU ms per call
(process time / 960), setups per virtual second.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from bench.conftest import record

PAIRS = 960
GOAL_VIRTUAL_S = 5.0


def _setup_all(name: str) -> dict[str, float]:
    from ccboard.signalling.r2 import R2Channel, variant
    from tests.signalling.helpers import Net

    v = variant(name)
    net = Net(step_ms=10)
    answered = [0]

    def on_offer(d: Any) -> Any:
        def cb(e: Any) -> None:
            if e.kind == "offered":
                d.do("answer", net.now)
            elif e.kind == "answered" and e.call.direction.value == "outgoing":
                answered[0] += 1

        return cb

    drivers = []
    for ch in range(1, PAIRS + 1):
        a, b = net.add_pair(
            ch,
            R2Channel(v, f"A{ch}"),
            R2Channel(v, f"B{ch}"),
            mf_variant="r2_china" if name == "cn" else "r2_itu",
        )
        a.on_event = on_offer(a)
        b.on_event = on_offer(b)
        drivers.append(a)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for a in drivers:
        a.do("dial", 0, "4321", ani="88776655", category="national_subscriber")
    net.run_until(lambda: answered[0] == PAIRS, 60000)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {
        "virtual_s": net.now / 1000.0,
        "wall_s": wall,
        "cpu_ms_per_call": cpu * 1000.0 / PAIRS,
        "setups_per_virtual_s": PAIRS / (net.now / 1000.0),
        "goal_virtual_s": GOAL_VIRTUAL_S,
    }


@pytest.mark.parametrize("name", ["itu", "cn"])
def test_r2_960_setups(benchmark: Any, name: str) -> None:
    out: dict[str, float] = {}

    def run() -> None:
        out.update(_setup_all(name))

    benchmark.pedantic(run, rounds=1, iterations=1)
    record(benchmark, "ours", f"r2 setup 960 pairs {name}", PAIRS, per=PAIRS, unit="call", **out)
    assert out["virtual_s"] < GOAL_VIRTUAL_S
