"""What a board tick costs in this guest (TCG: no hardware virtualisation), paced by the real
driver: the board alone (two clear channels) and with the signalling driver running an idle
R2 machine, 1 ms per tick; and that R2 step with one tick per 8 ms driver block (block=64,
tick=8), as vm_r2.py and vm_check.py run it. Busy time is per 1 ms of line time. The figures go
to $CCBOARD_VM_RUN/tick.json for the host side to report."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from ccboard.board.base import Board
from ccboard.signalling.driver import BoardDriver
from ccboard.signalling.r2 import R2Channel, variant
from tests.vm.guest.conftest import PEER_OFFSET, Paced

TICKS = 2000  # 2 s of line time


def _measure(pace: Paced, step: Callable[[], object], ms_per_tick: int = 1) -> dict[str, float]:
    """Busy time per 1 ms of line time (the step alone) and wall time over line time (1.0 =
    real time), over TICKS ms of line time."""
    busy = 0.0
    t0 = time.perf_counter()
    for _ in range(TICKS // ms_per_tick):
        pace.wait()
        t1 = time.perf_counter()
        step()
        busy += time.perf_counter() - t1
    wall = time.perf_counter() - t0
    return {"busy_us_per_ms": busy / TICKS * 1e6, "wall_over_line": wall / (TICKS / 1000)}


def test_tick_cost(board_factory: Callable[..., Board]) -> None:
    figures = {}
    board = board_factory("bchan=1", f"bchan={1 + PEER_OFFSET}")
    figures["board_tick_2_clear"] = _measure(Paced(board, 1 + PEER_OFFSET), board.tick)
    board.close()
    ours = 4 + PEER_OFFSET
    board = board_factory(f"cas={ours}:1101")
    drv = BoardDriver(board, {ours: R2Channel(variant("itu"), ours)}, mf_variant="r2_itu")
    figures["r2_step_idle"] = _measure(Paced(board, ours), drv.step)
    board.close()
    board = board_factory(f"cas={ours}:1101", block=64, tick=8)
    drv = BoardDriver(board, {ours: R2Channel(variant("itu"), ours)}, mf_variant="r2_itu")
    figures["r2_step_idle_8ms_ticks"] = _measure(Paced(board, ours), drv.step, ms_per_tick=8)
    print(json.dumps(figures, indent=1))
    run = os.environ.get("CCBOARD_VM_RUN")
    if run:
        (Path(run) / "tick.json").write_text(json.dumps(figures))
    for f in figures.values():
        assert 0 < f["busy_us_per_ms"] < 1e5 and f["wall_over_line"] > 0.5
