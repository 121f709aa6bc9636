"""MFC/R2 receive: ours (ccboard.dsp.mf) against spandsp 0.0.6's r2_mf_rx, same buffers, same run.

Workload: the 10 s speech-like noise of bench/conftest.py (-25 dBm0 bursts) with 40 forward R2
signals from spandsp's r2_mf_tx (-11 dBm0 per tone, 100 ms on, one every 250 ms), signals 1..15
in turn. Rows (kernel names):
- `r2_mf_rx linear 1x80000 one call`: the whole 10 s in one call on each side (spandsp's from the
  C shim, bound once before timing).
- `r2_mf_rx tick linear 960x8`: one 1 ms tick for 960 channels per call; ours is one
  MfReceiverBank.process, spandsp loops 960 r2_mf_rx states over 8 samples in C.
Each row records the tone-on reports expected and found.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from bench.conftest import RATE, TICK, TICK_CHANNELS, N, import_ours, record, speech_like
from tests.peers import spandsp_mf

SIGNALS = 40
PERIOD = RATE // 4  # one signal every 250 ms
ON = RATE // 10  # 100 ms


@pytest.fixture(scope="module")
def r2_workload() -> tuple[npt.NDArray[np.int16], list[int]]:
    """(10 s int16 signal, the forward signals embedded in order)."""
    peer = spandsp_mf.load()
    rng = np.random.default_rng(20240612)
    x = speech_like(N, rng)
    sent = [1 + k % 15 for k in range(SIGNALS)]
    tones = peer.r2_tx(True, [(s, ON, PERIOD - ON) for s in sent]).astype(np.float64)
    x[: tones.size] += tones
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16), sent


def _check(benchmark: Any, expected: int, found: int, *, exact: bool = True) -> None:
    """Signals found against signals sent; exact=False where the workload's rotation cuts a few
    signals at the wrap (the tick rows), so the count is recorded but not judged."""
    benchmark.extra_info.update(digits_expected=expected, digits_found=found)
    if exact:
        benchmark.extra_info["digits_match"] = found == expected


@pytest.mark.parametrize("impl", ["ours", "spandsp"])
def test_r2_mf_one_call(
    benchmark: Any, r2_workload: tuple[npt.NDArray[np.int16], list[int]], impl: str
) -> None:
    x, sent = r2_workload
    kernel = f"r2_mf_rx linear 1x{N} one call"
    if impl == "ours":
        mf = import_ours("ccboard.dsp.mf")
        rx = mf.MfReceiver("r2_fwd")
        record(benchmark, "ours", kernel, N, target=3.0)  # issue 4: >= 3x spandsp
        benchmark.pedantic(rx.process, args=(x,), rounds=60, iterations=1, warmup_rounds=1)
        ev = mf.MfReceiver("r2_fwd").process(x)
        found = [int(s) for s in ev["signal"][ev["kind"] == mf.ON]]
    else:
        peer = spandsp_mf.load()
        bank = peer.r2_bank(1, True)
        record(benchmark, "spandsp", kernel, N, target=3.0)
        benchmark.pedantic(bank.bind(x.reshape(1, N), N), rounds=60, iterations=1, warmup_rounds=1)
        found = [c for c, _ in peer.r2_rx(True, x, N) if c]
    _check(benchmark, len(sent), len(found) if found == sent else -len(found))


class _Ticks:
    """(channels x 8) ticks through the workload; channel c hears it rotated by 37 c samples."""

    def __init__(self, x: npt.NDArray[np.int16]) -> None:
        c = np.arange(TICK_CHANNELS)
        self.x = x
        self.base = (37 * c)[:, None] + np.arange(TICK)[None, :]
        self.buf = np.empty((TICK_CHANNELS, TICK), np.int16)
        self.t = 0

    def next(self) -> npt.NDArray[np.int16]:
        np.take(self.x, (self.base + TICK * self.t) % self.x.size, out=self.buf)
        self.t += 1
        return self.buf


@pytest.mark.parametrize("impl", ["ours", "spandsp"])
def test_r2_mf_tick(benchmark: Any, r2_workload: tuple[npt.NDArray[np.int16], list[int]], impl: str) -> None:
    x, sent = r2_workload
    src = _Ticks(x)
    rounds = N // TICK
    kernel = f"r2_mf_rx tick linear {TICK_CHANNELS}x{TICK}"
    record(benchmark, impl, kernel, TICK_CHANNELS * TICK, target=3.0)
    if impl == "ours":
        mf = import_ours("ccboard.dsp.mf")
        bank = mf.MfReceiverBank(TICK_CHANNELS, "r2_fwd")
        found = 0
        last: list[Any] = []

        def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
            nonlocal found
            if last:
                found += int(np.count_nonzero(last.pop()["kind"] == mf.ON))
            return (src.next(),), {}

        benchmark.pedantic(lambda b: last.append(bank.process(b)), setup=setup, rounds=rounds, iterations=1)
        if last:
            found += int(np.count_nonzero(last.pop()["kind"] == mf.ON))
    else:
        sbank = spandsp_mf.load().r2_bank(TICK_CHANNELS, True)
        run = sbank.bind(src.buf, TICK)

        def setup2() -> tuple[tuple[Any, ...], dict[str, Any]]:
            src.next()
            return (), {}

        benchmark.pedantic(run, setup=setup2, rounds=rounds, iterations=1)
        found = sbank.count
    # a signal cut by the rotation's wrap may be lost or split on some channels: record, do not assert
    _check(benchmark, TICK_CHANNELS * len(sent), found, exact=False)
