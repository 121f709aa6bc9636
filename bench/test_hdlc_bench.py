"""HDLC (D-channel framing): ours (ccboard.dsp.hdlc) against libspandsp 0.0.6 hdlc_rx/hdlc_tx, same run.

Workload: 10 s of a 64 kb/s D-channel = 80,000 line octets (bit 0 first, as DAHDI hands them over).
- busy: back-to-back frames, one shared flag between them, lengths 3..264 octets (uniform) with random
  octets plus every 8th frame all 0x7E or all 0xFF (worst-case stuffing); built by our transmitter.
- idle: flags only.
Rows (kernel names; `samples` = octets per round, so ns/octet = median / samples; channels per core
at 64 kb/s = 1e9 / (ns/octet * 8000)):
- `hdlc_rx {busy,idle} 1x80000 one call`: ours HdlcReceiver.process (frames returned as Python bytes);
  spandsp hdlc_rx_put over the same line with each octet bit-reversed (its octet interface takes the
  first line bit in bit 7; reversed outside the timing), frames collected by its callback in C.
- `hdlc_tx {busy,idle} 1x80000`: ours puts frames as the 4 KiB queue frees and generates 2048 octets
  per call (the puts are timed); spandsp's hdlc_tx_get makes 80,000 octets in one call, the next frame
  loaded from its underflow callback in C.
Each row checks the frames: rx rows record frames found vs sent; tx rows decode the output.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from bench.conftest import import_ours, record
from tests.peers import spandsp_hdlc

OCTETS = 80_000
ROUNDS = 30
TX_CHUNK = 2048


def _frames() -> list[bytes]:
    rng = np.random.default_rng(20240611)
    out, total = [], 0
    while total < OCTETS:
        n = int(rng.integers(3, 265))
        k = len(out) % 8
        f = b"\x7e" * n if k == 3 else b"\xff" * n if k == 7 else rng.integers(0, 256, n, np.uint8).tobytes()
        out.append(f)
        total += n + 2 + n // 5 // 8 + 1
    return out


@pytest.fixture(scope="module")
def hdlc() -> Any:
    return import_ours("ccboard.dsp.hdlc")


@pytest.fixture(scope="module")
def peer() -> spandsp_hdlc.SpandspHdlc:
    return spandsp_hdlc.load()


@pytest.fixture(scope="module")
def busy(hdlc: Any) -> tuple[list[bytes], npt.NDArray[np.uint8]]:
    """The frames and the first 80,000 line octets our transmitter makes of them."""
    frames = _frames()
    tx = hdlc.HdlcTransmitter()
    parts, i = [], 0
    while sum(p.size for p in parts) < OCTETS:
        while i < len(frames) and tx.space >= len(frames[i]) and tx.pending < hdlc.TX_QUEUE_FRAMES:
            tx.put(frames[i])
            i += 1
        parts.append(tx.generate(TX_CHUNK))
    return frames, np.concatenate(parts)[:OCTETS].copy()


def _line(kind: str, busy: tuple[list[bytes], npt.NDArray[np.uint8]]) -> npt.NDArray[np.uint8]:
    return busy[1] if kind == "busy" else np.full(OCTETS, 0x7E, dtype=np.uint8)


@pytest.mark.parametrize("kind", ["busy", "idle"])
def test_rx_ours(benchmark: Any, hdlc: Any, busy: Any, kind: str) -> None:
    x = _line(kind, busy)
    rx = hdlc.HdlcReceiver()
    record(benchmark, "ours", f"hdlc_rx {kind} 1x{OCTETS} one call", OCTETS)
    benchmark.pedantic(rx.process, args=(x,), rounds=ROUNDS, iterations=1, warmup_rounds=1)
    got = hdlc.HdlcReceiver().process(x)
    benchmark.extra_info.update(frames_found=len(got), frames_ok=sum(f.status == hdlc.OK for f in got))


@pytest.mark.parametrize("kind", ["busy", "idle"])
def test_rx_spandsp(benchmark: Any, peer: spandsp_hdlc.SpandspHdlc, busy: Any, kind: str) -> None:
    x = spandsp_hdlc.BIT_REVERSE[_line(kind, busy)]
    r = peer.rx(capacity=0)  # count only; storing frames is not part of spandsp's cost
    record(benchmark, "spandsp", f"hdlc_rx {kind} 1x{OCTETS} one call", OCTETS)
    benchmark.pedantic(r.bind(x, "octets", OCTETS), rounds=ROUNDS, iterations=1, warmup_rounds=1)
    check = peer.decode(x, "octets")
    benchmark.extra_info.update(frames_found=len(check), frames_ok=sum(ok for _, ok in check))


@pytest.mark.parametrize("kind", ["busy", "idle"])
def test_tx_ours(benchmark: Any, hdlc: Any, busy: Any, kind: str) -> None:
    frames = busy[0] if kind == "busy" else []
    out = np.empty(OCTETS + TX_CHUNK, dtype=np.uint8)
    views = [out[i : i + TX_CHUNK] for i in range(0, OCTETS, TX_CHUNK)]
    max_frames = hdlc.TX_QUEUE_FRAMES

    def run() -> None:
        tx = hdlc.HdlcTransmitter()
        put, gen = tx.put, tx.generate
        i = 0
        for v in views:
            while i < len(frames) and tx.space >= len(frames[i]) and tx.pending < max_frames:
                put(frames[i])
                i += 1
            gen(TX_CHUNK, v)

    record(benchmark, "ours", f"hdlc_tx {kind} 1x{OCTETS}", OCTETS, chunk=TX_CHUNK)
    benchmark.pedantic(run, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    got = hdlc.HdlcReceiver().process(out[:OCTETS])
    benchmark.extra_info.update(frames_decoded=sum(f.status == hdlc.OK for f in got))


@pytest.mark.parametrize("kind", ["busy", "idle"])
def test_tx_spandsp(benchmark: Any, peer: spandsp_hdlc.SpandspHdlc, busy: Any, kind: str) -> None:
    frames = busy[0] if kind == "busy" else []
    record(benchmark, "spandsp", f"hdlc_tx {kind} 1x{OCTETS}", OCTETS)

    def run() -> None:
        peer.tx(frames, OCTETS, mode="octets")

    benchmark.pedantic(run, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    x, _ = peer.tx(frames, OCTETS, mode="octets")
    got = import_ours("ccboard.dsp.hdlc").HdlcReceiver().process(spandsp_hdlc.BIT_REVERSE[x])
    benchmark.extra_info.update(frames_decoded=sum(f.status == 0 for f in got))
