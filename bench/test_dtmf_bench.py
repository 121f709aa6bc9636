"""DTMF receive: ours (ccboard.dsp.dtmf) against spandsp 0.0.6's dtmf_rx, same buffers, same run.

Rows (kernel names):
- `dtmf_rx linear 1x80000 one call`: the 10 s workload in one call on each side.
- `dtmf_rx linear 1x80000 160-sample blocks` / `8-sample blocks`: one call per block from a
  Python loop on both sides, so each side's per-call binding cost is in. spandsp's shim calls are
  bound once before timing (its argument checks are not timed); ours go through the public API
  as a user's do.
- `dtmf_rx alaw 1x80000 one call`: A-law octets in. spandsp's dtmf_rx takes linear only, so the
  shim expands each 1024-sample block with spandsp's alaw_to_linear first (counted in its time).
- `dtmf_rx tick {linear,alaw} 960x8`: one 1 ms tick for 960 channels per call; ours is one
  DtmfReceiverBank.process, spandsp loops 960 states over 8 samples in C. 10,000 rounds = the
  whole 10 s on every channel, each round timed alone.
Every row checks what each detector found against the 80 digits embedded and records it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from bench.conftest import TICK, TICK_CHANNELS, N, TickSource, Workload, import_ours, record
from tests.peers import spandsp

BLOCKS = {"one call": N, "160-sample blocks": 160, "8-sample blocks": 8}
ROUNDS = {"one call": 60, "160-sample blocks": 40, "8-sample blocks": 10}
# spandsp's G.711 input path decodes into a stack buffer of at most this many samples per call.
SPANDSP_LAW_BLOCK = spandsp.MAX_CHUNK


def _ours_digits(dtmf: Any, events: list[npt.NDArray[np.void]]) -> str:
    return "".join(dtmf.digits(e) for e in events)


def _binding_rows(blocks: str) -> dict[str, Any]:
    """Rows that call per block weigh the bindings' per-call cost, not the kernels: no 4x target."""
    return {} if blocks == "one call" else {"target": None}


def _check(benchmark: Any, w: Workload, found: str) -> None:
    """Record what the detector found; the report flags any row where it is not all 80 in order."""
    benchmark.extra_info.update(
        digits_expected=w.expected,
        digits_found=len(found),
        digits_match=found == w.digits,
    )


def _ours_linear(benchmark: Any, workload: Workload, peer: spandsp.SpandspPeer, blocks: str) -> None:
    dtmf = import_ours("ccboard.dsp.dtmf")
    x = workload.linear
    views = [x[i : i + BLOCKS[blocks]] for i in range(0, N, BLOCKS[blocks])]
    rx = dtmf.DtmfReceiver("linear")
    process = rx.process

    def run() -> None:
        for v in views:
            process(v)

    record(benchmark, "ours", f"dtmf_rx linear 1x{N} {blocks}", N, **_binding_rows(blocks))
    benchmark.pedantic(run, rounds=ROUNDS[blocks], iterations=1, warmup_rounds=1)
    fresh = dtmf.DtmfReceiver("linear")
    _check(benchmark, workload, _ours_digits(dtmf, [fresh.process(v) for v in views]))


def _spandsp_linear(benchmark: Any, workload: Workload, peer: spandsp.SpandspPeer, blocks: str) -> None:
    x = workload.linear.reshape(1, N)
    bank = peer.dtmf_bank(1, capacity=0)
    size = BLOCKS[blocks]
    record(benchmark, "spandsp", f"dtmf_rx linear 1x{N} {blocks}", N, **_binding_rows(blocks))
    if size == N:
        run = bank.bind(x, size)
    else:
        # One Python-level call per block on both sides, as a caller that gets audio block by
        # block makes them; spandsp's calls are pre-bound (its argument checks are not timed).
        calls = [bank.bind(x[:, i : i + size], size) for i in range(0, N, size)]

        def run() -> None:
            for call in calls:
                call()

    benchmark.pedantic(run, rounds=ROUNDS[blocks], iterations=1, warmup_rounds=1)
    found = peer.dtmf_rx(workload.linear, BLOCKS[blocks])
    _check(benchmark, workload, "".join(d for d, _ in found))


def _ours_alaw(benchmark: Any, workload: Workload, peer: spandsp.SpandspPeer) -> None:
    dtmf = import_ours("ccboard.dsp.dtmf")
    rx = dtmf.DtmfReceiver("alaw")
    record(benchmark, "ours", f"dtmf_rx alaw 1x{N} one call", N)
    benchmark.pedantic(
        rx.process, args=(workload.alaw,), rounds=ROUNDS["one call"], iterations=1, warmup_rounds=1
    )
    _check(benchmark, workload, dtmf.digits(dtmf.DtmfReceiver("alaw").process(workload.alaw)))


def _spandsp_alaw(benchmark: Any, workload: Workload, peer: spandsp.SpandspPeer) -> None:
    bank = peer.dtmf_bank(1, capacity=0)
    x = workload.alaw.reshape(1, N)
    record(benchmark, "spandsp", f"dtmf_rx alaw 1x{N} one call", N, spandsp_decode_block=SPANDSP_LAW_BLOCK)
    run = bank.bind(x, SPANDSP_LAW_BLOCK, "alaw")
    benchmark.pedantic(run, rounds=ROUNDS["one call"], iterations=1, warmup_rounds=1)
    found = peer.dtmf_rx(workload.alaw, SPANDSP_LAW_BLOCK, law="alaw")
    _check(benchmark, workload, "".join(d for d, _ in found))


def _tick_check(benchmark: Any, w: Workload, found: int) -> None:
    expected = TICK_CHANNELS * w.expected
    benchmark.extra_info.update(digits_expected=expected, digits_found=found, digits_match=found == expected)


def _ours_tick(benchmark: Any, workload: Workload, peer: spandsp.SpandspPeer, law: spandsp.Law) -> None:
    dtmf = import_ours("ccboard.dsp.dtmf")
    src = TickSource(workload.linear if law == "linear" else workload.alaw)
    bank = dtmf.DtmfReceiverBank(TICK_CHANNELS, law)
    last: list[npt.NDArray[np.void]] = []
    found = 0

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        nonlocal found
        if last:
            found += int(np.count_nonzero(last.pop()["kind"] == dtmf.ON))
        return (src.next(),), {}

    def run(x: npt.NDArray[Any]) -> None:
        last.append(bank.process(x))

    record(benchmark, "ours", f"dtmf_rx tick {law} {TICK_CHANNELS}x{TICK}", TICK_CHANNELS * TICK)
    benchmark.pedantic(run, setup=setup, rounds=src.ticks, iterations=1)
    if last:
        found += int(np.count_nonzero(last.pop()["kind"] == dtmf.ON))
    _tick_check(benchmark, workload, found)


def _spandsp_tick(benchmark: Any, workload: Workload, peer: spandsp.SpandspPeer, law: spandsp.Law) -> None:
    src = TickSource(workload.linear if law == "linear" else workload.alaw)
    bank = peer.dtmf_bank(TICK_CHANNELS, capacity=0)
    run = bank.bind(src.buf, TICK, law)  # src.next() refills src.buf in place

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        src.next()
        return (), {}

    record(benchmark, "spandsp", f"dtmf_rx tick {law} {TICK_CHANNELS}x{TICK}", TICK_CHANNELS * TICK)
    benchmark.pedantic(run, setup=setup, rounds=src.ticks, iterations=1)
    _tick_check(benchmark, workload, int(bank.counts().sum()))


# One test per row with impl varying fastest, so ours and spandsp run back to back on each row.
IMPLS = ["ours", "spandsp"]


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("blocks", list(BLOCKS))
def test_dtmf_linear(
    benchmark: Any, workload: Workload, peer: spandsp.SpandspPeer, blocks: str, impl: str
) -> None:
    (_ours_linear if impl == "ours" else _spandsp_linear)(benchmark, workload, peer, blocks)


@pytest.mark.parametrize("impl", IMPLS)
def test_dtmf_alaw(benchmark: Any, workload: Workload, peer: spandsp.SpandspPeer, impl: str) -> None:
    (_ours_alaw if impl == "ours" else _spandsp_alaw)(benchmark, workload, peer)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("law", ["linear", "alaw"])
def test_dtmf_tick(
    benchmark: Any, workload: Workload, peer: spandsp.SpandspPeer, law: spandsp.Law, impl: str
) -> None:
    (_ours_tick if impl == "ours" else _spandsp_tick)(benchmark, workload, peer, law)
