"""G.711 encode / decode / transcode: ours (ccboard.dsp.g711) against spandsp 0.0.6's inline codecs.

Shapes:
- `1x80000`: one channel of 80,000 samples (the 10 s workload), the same buffer every round,
  5 calls per timed round.
- `tick 960x8`: 960 channels x 8 samples, one 1 ms tick of 32 E1 spans, a new tick every round
  (TickSource walks the workload), so no round replays data the branch predictors have seen.
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
TICK_ROUNDS = 2000  # 2 s of ticks, each 5-20 us


def _source(op: str, w: Workload) -> npt.NDArray[Any]:
    if op.endswith("encode"):
        return w.linear
    return w.alaw if op.startswith("alaw") else w.ulaw


def _out(op: str, shape: tuple[int, ...]) -> npt.NDArray[Any]:
    return np.empty(shape, dtype=np.int16 if op.endswith("decode") else np.uint8)


def _time(benchmark: Any, call: Callable[[], None], src: TickSource | None) -> None:
    if src is None:
        benchmark.pedantic(call, rounds=ROUNDS, iterations=ITERATIONS, warmup_rounds=3)
        return

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        src.next()  # refills src.buf in place
        return (), {}

    benchmark.pedantic(call, setup=setup, rounds=TICK_ROUNDS, iterations=1)


@pytest.mark.parametrize("impl", ["ours", "spandsp"])  # the top one varies fastest: pairs run back to back
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("op", OPS)
def test_g711(
    benchmark: Any, workload: Workload, peer: spandsp.SpandspPeer, op: spandsp.G711Op, shape: str, impl: str
) -> None:
    src = TickSource(_source(op, workload)) if shape.startswith("tick") else None
    x = src.buf if src is not None else _source(op, workload)
    out = _out(op, x.shape)
    record(benchmark, impl, f"g711 {op} {shape}", x.size)
    if impl == "spandsp":
        _time(benchmark, peer.g711_bind(op, x, out), src)
        assert np.array_equal(out, getattr(peer, op)(x))
        return
    fn = getattr(import_ours("ccboard.dsp.g711"), op)

    def call() -> None:
        fn(x, out=out)

    _time(benchmark, call, src)
    # Recorded, not asserted: spandsp is not the reference (it differs from G.191 on 127 mu-law codes).
    benchmark.extra_info["differs_from_spandsp"] = int(np.count_nonzero(out != getattr(peer, op)(x)))
