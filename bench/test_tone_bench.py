"""Tone detection: our call progress analyser (ccboard.dsp.cpa, zone 'us') against spandsp 0.0.6's
super_tone_rx with the three US cadences (busy, ringback, dial) of ../shared/peers/spandsp_bench.c,
same buffers, same run.

Workload: 16 channels x 10 s: US busy (480+620 Hz 500/500 ms, -10 dBm0 per tone, from our
generator) for 0-4 s, ringback (440+480 Hz 2 s / 4 s) for 4-7 s, then the speech-like noise of
bench/conftest.py (-25 dBm0 bursts) for 7-10 s; each channel's signal is rotated by a different
offset (up to 50 ms). Our analyser keeps analysing after its first decision, so the work per
sample does not drop once busy is found. Rows (kernel names):
- `tone detection us 16x80000 one call`: one call per side over all 16 channels; spandsp's shim
  feeds each state 160 samples at a time, channel after channel, in C; ours is one
  CallProgressBank.process over the (16, 80000) buffer.
- `tone detection us 16x160 tick`: one 20 ms tick of 16 channels per call from Python on both
  sides (spandsp's calls pre-bound), 500 calls per round: the bindings' per-call cost is in.
Each row records whether busy was found on every channel.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from bench.conftest import RATE, N, import_ours, record, speech_like
from tests.peers import spandsp_tone

CHANNELS = 16
BLOCK = 160
US_TONES = [
    [(480, 620, 400, 600), (0, 0, 400, 600)],
    [(440, 480, 1800, 2200), (0, 0, 3600, 4400)],
    [(350, 440, 900, 0)],
]


@pytest.fixture(scope="module")
def cpt_workload() -> npt.NDArray[np.int16]:
    tone = import_ours("ccboard.dsp.tone")
    tonezone = import_ours("ccboard.dsp.tonezone")
    rng = np.random.default_rng(20240613)
    us = tonezone.zone("us")
    x = speech_like(N, rng)
    x[: 4 * RATE] = tone.ToneGenerator(us.tones["busy"]).generate(4 * RATE)
    x[4 * RATE : 7 * RATE] = tone.ToneGenerator(us.tones["ringback"]).generate(3 * RATE)
    one = np.clip(np.rint(x), -32768, 32767).astype(np.int16)
    return np.stack([np.roll(one, 0 if c == 0 else int(rng.integers(0, 400))) for c in range(CHANNELS)])


def _busy_everywhere(benchmark: Any, found: int) -> None:
    benchmark.extra_info.update(digits_expected=CHANNELS, digits_found=found, digits_match=found == CHANNELS)


def _ours_busy(cpa: Any, ev: npt.NDArray[np.void]) -> int:
    return len({int(c) for c in ev["channel"][ev["kind"] == cpa.BUSY]})


@pytest.mark.parametrize("impl", ["ours", "spandsp"])
def test_tone_detection_one_call(benchmark: Any, cpt_workload: npt.NDArray[np.int16], impl: str) -> None:
    kernel = f"tone detection us {CHANNELS}x{N} one call"
    x = cpt_workload
    if impl == "ours":
        cpa = import_ours("ccboard.dsp.cpa")
        banks = [cpa.CallProgressBank(CHANNELS, "us") for _ in range(80)]
        it = iter(banks)
        record(benchmark, "ours", kernel, CHANNELS * N, target=3.0)  # issue 4: >= 3x spandsp
        benchmark.pedantic(lambda: next(it).process(x), rounds=60, iterations=1, warmup_rounds=1)
        _busy_everywhere(benchmark, _ours_busy(cpa, cpa.CallProgressBank(CHANNELS, "us").process(x)))
    else:
        peer = spandsp_tone.load()
        calls = [
            spandsp_tone.SpandspSuperToneBank(peer, CHANNELS, US_TONES).bind(x, BLOCK) for _ in range(80)
        ]
        it = iter(calls)
        record(benchmark, "spandsp", kernel, CHANNELS * N, target=3.0)
        benchmark.pedantic(lambda: next(it)(), rounds=60, iterations=1, warmup_rounds=1)
        bank = spandsp_tone.SpandspSuperToneBank(peer, CHANNELS, US_TONES)
        bank.bind(x, BLOCK)()
        _busy_everywhere(benchmark, sum(any(c == 0 for c, _ in bank.events(ch)) for ch in range(CHANNELS)))


@pytest.mark.parametrize("impl", ["ours", "spandsp"])
def test_tone_detection_tick(benchmark: Any, cpt_workload: npt.NDArray[np.int16], impl: str) -> None:
    kernel = f"tone detection us {CHANNELS}x{BLOCK} tick"
    x = cpt_workload
    views = [np.ascontiguousarray(x[:, i : i + BLOCK]) for i in range(0, N, BLOCK)]
    if impl == "ours":
        cpa = import_ours("ccboard.dsp.cpa")
        bank = cpa.CallProgressBank(CHANNELS, "us")
        process = bank.process

        def run() -> None:
            for v in views:
                process(v)

        record(benchmark, "ours", kernel, CHANNELS * N, target=None)
    else:
        peer = spandsp_tone.load()
        sbank = spandsp_tone.SpandspSuperToneBank(peer, CHANNELS, US_TONES)
        calls = [sbank.bind(v, BLOCK) for v in views]

        def run() -> None:
            for c in calls:
                c()

        record(benchmark, "spandsp", kernel, CHANNELS * N, target=None)
    benchmark.pedantic(run, rounds=15, iterations=1, warmup_rounds=1)
