"""ISDN PRI call setups over 32 E1 CCS spans (960 B-channels busy at once), virtual time, on the sim.

The board is sim://?e1=32&ccs=1: every span's TS16 is a D-channel running our HDLC kernel both
ways; our side is 32 PriSpans (CPE, EuroISDN) under a PriDriver, the far end 32 libpri network
instances (ccboard.board.sim.pri_farend). One round, after every link is up:
  in   the exchange sends 30 SETUPs per span at t = 0 (960 in all); we answer each as soon as it
       is offered; done when the exchange has every call connected (CONNECT seen).
  out  we send 30 SETUPs per span at t = 0; the exchange answers each at once (CALL PROCEEDING,
       ALERTING, CONNECT); done when all 960 of ours are answered.
extra_info: virtual seconds (goal < 5 s), wall seconds, CPU ms per call (process time, board
ticks included, / 960), setups per virtual second, D-channel frames we sent.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlparse

import pytest

from bench.conftest import record

SPANS = 32
CALLS = SPANS * 30
GOAL_VIRTUAL_S = 5.0


def _round(direction: str) -> dict[str, float]:
    from ccboard.board.sim import open_sim
    from ccboard.board.sim.pri_farend import attach
    from ccboard.signalling.call import CallState
    from ccboard.signalling.pri import PriDriver, PriStack, spans_of

    board = open_sim(urlparse(f"sim://?e1={SPANS}&ccs=1"))
    fes = attach(board, PriStack, answer_ms=0.0)
    drv = PriDriver(board, spans_of(board))
    drv.run_until(
        lambda: (
            all(s.state == "up" and not s.restarting for s in drv.spans) and all(f.up for f in fes.values())
        ),
        5000,
    )
    drv.take()
    frames0 = drv.frames_sent

    def answer_offers(e: Any) -> None:
        if e.kind == "offered":
            drv.do("answer", e.call.channel)

    ours: list[Any] = []
    cpu0, wall0, t0 = time.process_time(), time.perf_counter(), board.t / 8
    if direction == "in":
        drv.on_event = answer_offers
        for fe in fes.values():
            for k in range(30):
                fe.call(f"4{k:03d}", f"1380013{k:04d}")

        def done() -> bool:
            return (
                all(c.state == "connected" for fe in fes.values() for c in fe.calls.values())
                and sum(len(fe.calls) for fe in fes.values()) == CALLS
            )

    else:
        for s in drv.spans:
            for k in range(30):
                ours.append(drv.dial(s.span, f"5{k:03d}", ani="88776655"))

        def done() -> bool:
            return all(c.state == CallState.ANSWERED for c in ours)

    drv.run_until(done, 60_000)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    virtual_s = (board.t / 8 - t0) / 1000.0
    errors = sum(s.stack.errors[0] for s in drv.spans) + sum(fe.stack.errors[0] for fe in fes.values())  # type: ignore[attr-defined]
    return {
        "virtual_s": virtual_s,
        "wall_s": wall,
        "cpu_ms_per_call": cpu * 1000.0 / CALLS,
        "setups_per_virtual_s": CALLS / virtual_s,
        "frames_sent": float(drv.frames_sent - frames0),
        "libpri_errors": float(errors),
        "goal_virtual_s": GOAL_VIRTUAL_S,
    }


@pytest.mark.parametrize("direction", ["in", "out"])
def test_pri_960_setups(benchmark: Any, direction: str) -> None:
    out: dict[str, float] = {}

    def run() -> None:
        out.update(_round(direction))

    benchmark.pedantic(run, rounds=1, iterations=1)
    record(benchmark, "ours", "signalling pri 960", CALLS, per=CALLS, unit="call", direction=direction, **out)
    assert out["libpri_errors"] == 0
    assert out["virtual_s"] < GOAL_VIRTUAL_S
