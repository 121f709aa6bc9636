"""G.711 encode / decode / transcode: ours (ccboard.dsp.g711) against spandsp 0.0.6's inline codecs.

Shapes:
- `1x80000`: one channel of 80,000 samples (the 10 s workload), the same buffer every round,
  5 calls per timed round.
- `tick 960x8`: 960 channels x 8 samples, one 1 ms tick of 32 E1 spans; a round is 10
  consecutive ticks of the workload (TickSource), one call each, so the timer's own cost does
  not weigh on a 2-20 us call.
Both sides write into preallocated output, one call per buffer. Ours goes through its public
function (argument checks included); spandsp's shim call is bound once, its checks before timing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from bench.conftest import TICK, TICK_CHANNELS, TickSource, Workload, import_ours, record
from tests.peers import spandsp

OPS: list[spandsp.G711Op] = [
    "alaw_encode",
    "alaw_decode",
    "ulaw_encode",
    "ulaw_decode",
    "alaw_to_ulaw",
    "ulaw_to_alaw",
]
SHAPES = ["1x80000", f"tick {TICK_CHANNELS}x{TICK}"]
ROUNDS, ITERATIONS = 200, 5  # 1x80000: 40-350 us per call
# Ticks: each round is 10 consecutive ticks of the workload (one call each), so the timer's own
# cost (~0.1 us against a 2-20 us call) does not weigh on the per-call figure.
TICK_ROUNDS, TICKS_PER_ROUND = 400, 10


def _source(op: str, w: Workload) -> npt.NDArray[Any]:
    if op.endswith("encode"):
        return w.linear
    return w.alaw if op.startswith("alaw") else w.ulaw


def _out(op: str, shape: tuple[int, ...]) -> npt.NDArray[Any]:
    return np.empty(shape, dtype=np.int16 if op.endswith("decode") else np.uint8)


def _time(benchmark: Any, call: Callable[[], None], ticks: bool) -> None:
    if ticks:
        benchmark.pedantic(call, rounds=TICK_ROUNDS, iterations=1, warmup_rounds=3)
    else:
        benchmark.pedantic(call, rounds=ROUNDS, iterations=ITERATIONS, warmup_rounds=3)


@pytest.mark.parametrize("impl", ["ours", "spandsp"])  # the top one varies fastest: pairs run back to back
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("op", OPS)
def test_g711(
    benchmark: Any, workload: Workload, peer: spandsp.SpandspPeer, op: spandsp.G711Op, shape: str, impl: str
) -> None:
    ticks = shape.startswith("tick")
    if ticks:
        src = TickSource(_source(op, workload))
        xs = []
        for _ in range(TICKS_PER_ROUND):
            src.next()
            xs.append(src.buf.copy())
    else:
        xs = [_source(op, workload)]
    outs = [_out(op, x.shape) for x in xs]
    record(benchmark, impl, f"g711 {op} {shape}", sum(x.size for x in xs), calls_per_round=len(xs))
    if impl == "spandsp":
        calls = [peer.g711_bind(op, x, out) for x, out in zip(xs, outs, strict=True)]

        def run_peer() -> None:
            for c in calls:
                c()

        _time(benchmark, run_peer, ticks)
        assert all(np.array_equal(out, getattr(peer, op)(x)) for x, out in zip(xs, outs, strict=True))
        return
    fn = getattr(import_ours("ccboard.dsp.g711"), op)
    pairs = list(zip(xs, outs, strict=True))

    def call() -> None:
        for x, out in pairs:
            fn(x, out=out)

    _time(benchmark, call, ticks)
    # Recorded, not asserted: spandsp is not the reference (it differs from G.191 on 127 mu-law codes).
    diff = sum(int(np.count_nonzero(out != getattr(peer, op)(x))) for x, out in pairs)
    benchmark.extra_info["differs_from_spandsp"] = diff
