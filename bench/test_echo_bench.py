"""Line echo canceller: ours (ccboard.dsp.echo) against spandsp 0.0.6's echo_can and OSLEC, same
buffers, same run.

Rows (kernel names):
- `echo {taps} taps`: channels per core at 32/64/128 ms tails. Ours: an EchoCancellerBank of
  CHANNELS channels fed 1 ms ticks (CHANNELS x 8) from Python, NLP and comfort noise on (the
  production setting). Peers: PEER_CHANNELS cancellers looped sample by sample in C (their API
  is per sample), spandsp with ADAPTION|NLP|CNG|TX_HPF|RX_HPF and printf silenced, OSLEC with
  ADAPTION|NLP|CNG|CLIP|TX_HPF|RX_HPF built -O2 -march=x86-64. Signal: the G.168 CSS at
  -10 dBm0 through model D.2 (40 ms, ERL 6 dB), each channel at another offset.
- ERLE (not timed; recorded in the 1024-tap rows' extra_info and written to
  build/bench/echo_erle.md): ERLE at 0.5, 1 and 5 s on the CSS through every G.168 model, adaption
  only (NLP off) on all three, 1024 taps; and double talk (near-end CSS C.3 at 3-6 s).
OSLEC needs $CCBOARD_OSLEC_SRC (see tests/peers/oslec.py): without it the OSLEC rows fail, saying so.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest

from bench.conftest import ROOT, import_ours, record
from tests.dsp import g168
from tests.peers import oslec, spandsp_echo
from tests.peers.spandsp_echo import PeerUnavailable

TAPS = (256, 512, 1024)
CHANNELS = 128
PEER_CHANNELS = 8
SECONDS = 0.25
TICK = 8
FS = g168.FS


@functools.cache
def signals(channels: int) -> tuple[np.ndarray, np.ndarray]:
    """(rin, sin) int16 of shape (channels, SECONDS * 8000): CSS through D.2, per-channel offsets."""
    far = g168.css(8.0, -10.0)
    h = g168.echo_path("d2", 6.0, 320, 1024, ref=far)
    sin = g168.echo(far, h) + np.random.default_rng(3).standard_normal(far.size) * g168.gain_for(-70)
    n = int(SECONDS * FS)
    offs = (np.arange(channels) * 1777) % (far.size - n)
    rin = np.stack([far[o : o + n] for o in offs])
    return g168.to_int16(rin), g168.to_int16(np.stack([sin[o : o + n] for o in offs]))


def _peer(name: str) -> Any:
    try:
        return {"spandsp": spandsp_echo, "oslec": oslec}[name]
    except PeerUnavailable as exc:  # pragma: no cover - import never raises; load() does
        pytest.fail(str(exc))


@pytest.mark.parametrize("taps", TAPS)
def test_echo_ours(benchmark: Any, taps: int) -> None:
    echo = import_ours("ccboard.dsp.echo")
    rin, sin = signals(CHANNELS)
    ticks = [(np.ascontiguousarray(rin[:, a : a + TICK]), np.ascontiguousarray(sin[:, a : a + TICK]))
             for a in range(0, rin.shape[1], TICK)]  # fmt: skip
    out = np.empty((CHANNELS, TICK), np.int16)
    bank = echo.EchoCancellerBank(CHANNELS, taps)
    process = bank.process

    def run() -> None:
        for r, s in ticks:
            process(r, s, out)

    samples = rin.size
    record(benchmark, "ours", f"echo {taps} taps", samples, channels=CHANNELS, tick=TICK,
           state_bytes=len(bank.get_state(0)))  # fmt: skip
    benchmark.pedantic(run, rounds=7, iterations=1, warmup_rounds=1)
    if taps == 1024:
        benchmark.extra_info.update(erle=erle_table()["ours"])


@pytest.mark.parametrize("taps", TAPS)
@pytest.mark.parametrize("peer", ["spandsp", "oslec"])
def test_echo_peer(benchmark: Any, peer: str, taps: int) -> None:
    mod = _peer(peer)
    try:
        bank = mod.bank(PEER_CHANNELS, taps, "full")
    except PeerUnavailable as exc:
        pytest.fail(str(exc))
    rin, sin = signals(PEER_CHANNELS)
    out = np.empty_like(sin)
    record(benchmark, peer, f"echo {taps} taps", rin.size, channels=PEER_CHANNELS)
    benchmark.pedantic(bank.process, args=(rin, sin, out), rounds=5, iterations=1, warmup_rounds=1)
    if taps == 1024:
        benchmark.extra_info.update(erle=erle_table()[peer])


def _ours_adapt(rin: np.ndarray, sin: np.ndarray) -> np.ndarray:
    echo = import_ours("ccboard.dsp.echo")
    out: np.ndarray = echo.EchoCanceller(1024, nlp=False).process(rin, sin)
    return out


def _peer_adapt(mod: Any) -> Any:
    def run(rin: np.ndarray, sin: np.ndarray) -> np.ndarray:
        out: np.ndarray = mod.bank(1, 1024, "adapt").process(rin, sin)
        return out

    return run


@functools.cache
def erle_table() -> dict[str, dict[str, list[float]]]:
    """ERLE (dB) at 0.5, 1, 5 s per model and double-talk figures, per canceller; also written
    to build/bench/echo_erle.md."""
    try:
        runners = {"ours": _ours_adapt, "spandsp": _peer_adapt(spandsp_echo), "oslec": _peer_adapt(oslec)}
        oslec.load()
    except PeerUnavailable as exc:
        pytest.fail(str(exc))
    far = g168.css(6.0, -10.0)
    res: dict[str, dict[str, list[float]]] = {k: {} for k in runners}
    for i, m in enumerate(g168.MODELS):
        h = g168.echo_path(m, 6.0, 320, 1024, ref=far)
        sin = g168.to_int16(
            g168.echo(far, h) + np.random.default_rng(i).standard_normal(far.size) * g168.gain_for(-70)
        )
        for k, run in runners.items():
            out = run(g168.to_int16(far), sin)
            res[k][m] = [round(v, 1) for v in g168.erle_curve(sin, out, (0.5, 1.0, 5.0))]
    # double talk: near-end CSS C.3 at the far end's level over 3-6 s; D.2
    far9 = g168.css(9.0, -10.0)
    h = g168.echo_path("d2", 6.0, 320, 1024, ref=far9)
    echo = g168.echo(far9, h)
    near = np.zeros(far9.size)
    near[3 * FS : 6 * FS] = np.roll(g168.css(3.0, -10.0, "css_c3"), 2800)
    sin = g168.to_int16(
        echo + near + np.random.default_rng(99).standard_normal(far9.size) * g168.gain_for(-70)
    )
    for k, run in runners.items():
        out = run(g168.to_int16(far9), sin).astype(np.float64)
        a, b = 3 * FS + FS // 4, 6 * FS
        during = 10 * np.log10(g168.power(echo[a:b]) / g168.power(out[a:b] - near[a:b]))
        before, after = g168.erle_curve(sin, out, (3.0, 6.5))
        res[k]["double_talk"] = [round(before, 1), round(during, 1), round(after, 1)]
    lines = ["| model | ours 0.5 / 1 / 5 s | spandsp | OSLEC |", "|---|---|---|---|"]
    for m in (*g168.MODELS, "double_talk"):
        lines.append(
            f"| {m} | " + " | ".join(" / ".join(f"{v:.1f}" for v in res[k][m]) for k in runners) + " |"
        )
    out_dir = ROOT / "build" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "echo_erle.md").write_text(
        "ERLE in dB, adaption only, 1024 taps, CSS -10 dBm0 through each G.168 model (40 ms, ERL 6 dB).\n"
        "double_talk row: before (t=3 s) / during (echo over residual echo) / 0.5 s after.\n\n"
        + "\n".join(lines)
        + "\n"
    )
    return res
