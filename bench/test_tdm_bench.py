"""TDM switch and conference mixer: ours against a straightforward numpy implementation.

There is no peer library for these in the same process (spandsp has neither a TSI nor a
mixer; DAHDI's are kernel code), so the comparison is with the obvious numpy code for the same
job on the same buffers, tagged impl "numpy", and each row checks both give identical output.

Rows (kernel names):
- `tdm switch alaw 1024x8 0 dB`: 1024 A-law slots in 512 two-way pairs (a random pairing),
  one 1 ms chunk (8 samples) per call: octets moved untouched, one chunk late. numpy: a gather
  `prev[src]` with an idle row for unconnected slots, then the input kept as `prev`.
- `tdm switch linear 1024x8 -6 dB`: the same map on int16 slots, every connection at -6 dB
  (float32 scale, round, saturate). numpy: the same arithmetic on the gathered rows.
- `tdm switch alaw 1024x8 1024 changes/chunk`: before every chunk (untimed setup) every
  destination is reconnected to a new random source; the timed call applies the 1024 queued
  changes and switches the chunk. Beside the 0 dB row it shows what changes cost.
- `conf mix linear 100 confs 3-10 parties 1ms`: 100 conferences of 3..10 parties (seeded),
  one 1 ms chunk of all members per call. numpy: members grouped by conference,
  `np.add.reduceat` for the totals in int32, total - own, clipped to int16.
samples per round = rows x 8, so "channels per core" reads as timeslots / members per core.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from bench.conftest import import_ours, record

SLOTS = 1024
CHUNK = 8
ROUNDS = 3000
NOTE = "no peer in the same process: numpy is the straightforward implementation of the same job"


def _pairs(rng: np.random.Generator) -> npt.NDArray[np.int64]:
    """src[d] for 512 random two-way pairs over 1024 slots."""
    perm = rng.permutation(SLOTS)
    src = np.empty(SLOTS, dtype=np.int64)
    src[perm[0::2]] = perm[1::2]
    src[perm[1::2]] = perm[0::2]
    return src


class NumpyTsi:
    """prev[src] gather, one chunk late; row SLOTS of prev is the idle row for unconnected slots."""

    def __init__(self, src: npt.NDArray[np.int64], dtype: Any, idle: int, gain: float | None) -> None:
        self.src = np.where(src < 0, SLOTS, src)
        self.prev = np.full((SLOTS + 1, CHUNK), idle, dtype=dtype)
        self.gain = None if gain is None else np.float32(gain)

    def process(self, x: npt.NDArray[Any], out: npt.NDArray[Any]) -> None:
        if self.gain is None:
            np.take(self.prev, self.src, axis=0, out=out)
        else:
            y = self.prev[self.src].astype(np.float32) * self.gain
            np.rint(np.clip(y, -32768, 32767), out=y)
            out[...] = y
        self.prev[:SLOTS] = x


def _frames(rng: np.random.Generator, dtype: Any, rounds: int) -> npt.NDArray[Any]:
    if dtype == np.uint8:
        return rng.integers(0, 256, (rounds, SLOTS, CHUNK), dtype=np.uint8)
    return (rng.standard_normal((rounds, SLOTS, CHUNK)) * 3000).astype(np.int16)


def _switch_rows(benchmark: Any, impl: str, law: str, gain_db: float, kernel: str) -> None:
    tdm = import_ours("ccboard.dsp.tdm")
    rng = np.random.default_rng(11)
    src = _pairs(rng)
    dtype = np.uint8 if law != "linear" else np.int16
    frames = _frames(rng, dtype, 64)
    out = np.empty((SLOTS, CHUNK), dtype=dtype)
    k = [0]
    if impl == "ours":
        sw = tdm.TdmSwitch([law] * SLOTS, CHUNK)
        for d in range(SLOTS):
            sw.connect(int(src[d]), d, gain_db)
        if law == "linear":

            def run() -> None:
                sw.process(None, frames[k[0] & 63], out_linear=out)
                k[0] += 1
        else:

            def run() -> None:
                sw.process(frames[k[0] & 63], out_octets=out)
                k[0] += 1
    else:
        idle = 0xD5 if law == "alaw" else 0
        ref = NumpyTsi(src, dtype, idle, None if gain_db == 0.0 else tdm.gain_factor(gain_db))

        def run() -> None:
            ref.process(frames[k[0] & 63], out)
            k[0] += 1

    record(benchmark, impl, kernel, SLOTS * CHUNK, note=NOTE)
    benchmark.pedantic(run, rounds=ROUNDS, iterations=1, warmup_rounds=10)
    benchmark.extra_info["outputs_match"] = _switch_matches(law, gain_db)


def _switch_matches(law: str, gain_db: float) -> bool:
    """Ours and numpy on the same 20 chunks give identical output."""
    tdm = import_ours("ccboard.dsp.tdm")
    rng = np.random.default_rng(12)
    src = _pairs(rng)
    dtype = np.uint8 if law != "linear" else np.int16
    frames = _frames(rng, dtype, 20)
    sw = tdm.TdmSwitch([law] * SLOTS, CHUNK)
    for d in range(SLOTS):
        sw.connect(int(src[d]), d, gain_db)
    ref = NumpyTsi(
        src, dtype, 0xD5 if law == "alaw" else 0, None if gain_db == 0.0 else tdm.gain_factor(gain_db)
    )
    a = np.empty((SLOTS, CHUNK), dtype=dtype)
    b = np.empty_like(a)
    ok = True
    for f in frames:
        if law == "linear":
            sw.process(None, f, out_linear=a)
        else:
            sw.process(f, out_octets=a)
        ref.process(f, b)
        ok &= bool(np.array_equal(a, b))
    return ok


def test_tdm_alaw_0db_ours(benchmark: Any) -> None:
    _switch_rows(benchmark, "ours", "alaw", 0.0, "tdm switch alaw 1024x8 0 dB")


def test_tdm_alaw_0db_numpy(benchmark: Any) -> None:
    _switch_rows(benchmark, "numpy", "alaw", 0.0, "tdm switch alaw 1024x8 0 dB")


def test_tdm_linear_gain_ours(benchmark: Any) -> None:
    _switch_rows(benchmark, "ours", "linear", -6.0, "tdm switch linear 1024x8 -6 dB")


def test_tdm_linear_gain_numpy(benchmark: Any) -> None:
    _switch_rows(benchmark, "numpy", "linear", -6.0, "tdm switch linear 1024x8 -6 dB")


def _changes_row(benchmark: Any, impl: str) -> None:
    tdm = import_ours("ccboard.dsp.tdm")
    rng = np.random.default_rng(13)
    frames = _frames(rng, np.uint8, 64)
    maps = [_pairs(rng) for _ in range(64)]
    out = np.empty((SLOTS, CHUNK), dtype=np.uint8)
    k = [0]
    kernel = "tdm switch alaw 1024x8 1024 changes/chunk"
    if impl == "ours":
        sw = tdm.TdmSwitch(["alaw"] * SLOTS, CHUNK)
        connect = sw.connect

        def setup() -> None:
            m = maps[k[0] & 63]
            for d in range(SLOTS):
                connect(int(m[d]), d)

        def run() -> None:
            sw.process(frames[k[0] & 63], out_octets=out)
            k[0] += 1
    else:
        ref = NumpyTsi(maps[0], np.uint8, 0xD5, None)

        def setup() -> None:
            ref.src = maps[k[0] & 63]

        def run() -> None:
            ref.process(frames[k[0] & 63], out)
            k[0] += 1

    record(benchmark, impl, kernel, SLOTS * CHUNK, note=NOTE)
    benchmark.pedantic(run, setup=setup, rounds=ROUNDS // 3, iterations=1, warmup_rounds=5)


def test_tdm_changes_ours(benchmark: Any) -> None:
    _changes_row(benchmark, "ours")


def test_tdm_changes_numpy(benchmark: Any) -> None:
    _changes_row(benchmark, "numpy")


# ---- conference mixer ----


def _conferences() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Conference of each member (grouped, 100 conferences of 3..10) and the group starts."""
    sizes = np.random.default_rng(21).integers(3, 11, 100)
    conf_of = np.repeat(np.arange(100), sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return conf_of, starts


def _numpy_mix(
    x: npt.NDArray[np.int16], conf_of: npt.NDArray[np.int64], starts: npt.NDArray[np.int64]
) -> Any:
    x32 = x.astype(np.int32)
    tot = np.add.reduceat(x32, starts, axis=0)
    return np.clip(tot[conf_of] - x32, -32768, 32767).astype(np.int16)


def _conf_row(benchmark: Any, impl: str) -> None:
    conf = import_ours("ccboard.dsp.conf")
    conf_of, starts = _conferences()
    members = conf_of.size
    rng = np.random.default_rng(22)
    frames = (rng.standard_normal((64, members, CHUNK)) * 6000).astype(np.int16)
    out = np.empty((members, CHUNK), dtype=np.int16)
    mixer = conf.ConferenceMixer(members, 100)
    for i, c in enumerate(conf_of):
        mixer.join(i, int(c))
    k = [0]
    if impl == "ours":

        def run() -> None:
            mixer.process(frames[k[0] & 63], out)
            k[0] += 1
    else:

        def run() -> None:
            out[...] = _numpy_mix(frames[k[0] & 63], conf_of, starts)
            k[0] += 1

    kernel = "conf mix linear 100 confs 3-10 parties 1ms"
    record(benchmark, impl, kernel, members * CHUNK, note=NOTE, members=members)
    benchmark.pedantic(run, rounds=ROUNDS, iterations=1, warmup_rounds=10)
    check = conf.ConferenceMixer(members, 100)
    for i, c in enumerate(conf_of):
        check.join(i, int(c))
    benchmark.extra_info["outputs_match"] = all(
        np.array_equal(check.process(f)[0], _numpy_mix(f, conf_of, starts)) for f in frames[:20]
    )


def test_conf_ours(benchmark: Any) -> None:
    _conf_row(benchmark, "ours")


def test_conf_numpy(benchmark: Any) -> None:
    _conf_row(benchmark, "numpy")
