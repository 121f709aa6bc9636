"""Interop with peers: digits made by libspandsp's dtmf_tx and by `sox synth` are found by our
receiver; our DtmfGenerator's digits are found by spandsp's receiver and ours; the generator's
levels (dBm0 per tone, measured by FFT) and timings (samples) are what was asked."""

from __future__ import annotations

import numpy as np
import pytest

from ccboard.dsp.dtmf import BLOCK, OFF, ON, DtmfGenerator, DtmfReceiver, digits
from tests.dsp import signals as sig
from tests.peers.spandsp import load

ALL = sig.DIGITS


def our_events(x: np.ndarray) -> np.ndarray:
    return DtmfReceiver().process(np.ascontiguousarray(x, dtype=np.int16))


def generate_all(gen: DtmfGenerator, extra: int = 800) -> np.ndarray:
    """Everything the generator has queued, then `extra` samples of what follows (silence)."""
    parts = []
    while gen.pending:
        parts.append(gen.generate(160))
    parts.append(gen.generate(extra))
    return np.concatenate(parts)


# ---------------------------------------------------------------- peers' digits, our receiver


@pytest.mark.parametrize(
    ("on_ms", "off_ms", "level", "twist"),
    [
        (50, 55, -10, 0),
        (40, 40, -20, 0),
        (100, 100, -30, 0),
        (60, 50, -8, 2),
        (60, 50, -8, -4),
        (45, 45, -3, 0),
    ],
)
def test_spandsp_tx_digits_found_by_ours(on_ms: int, off_ms: int, level: int, twist: int) -> None:
    sent = ALL + "9876543210#*DCBA"
    x = np.concatenate(
        [np.zeros(123, np.int16), load().dtmf_tx(sent, on_ms, off_ms, level, twist), np.zeros(800, np.int16)]
    )
    ev = our_events(x)
    assert digits(ev) == sent, f"spandsp dtmf_tx {on_ms}/{off_ms} ms, {level} dBm0, twist {twist} dB"
    assert np.count_nonzero(ev["kind"] == OFF) == len(sent)


@pytest.mark.parametrize(("on_ms", "off_ms", "level"), [(50, 50, -10.0), (40, 45, -20.0), (70, 60, -30.0)])
def test_sox_digits_found_by_ours(on_ms: int, off_ms: int, level: float) -> None:
    x, bursts = sig.sox_digits(ALL, on_ms, off_ms, level, lead_ms=77)
    assert [b.end - b.start for b in bursts] == [sig.ms(on_ms)] * len(ALL)  # sox made what we asked
    ev = our_events(x)
    assert digits(ev) == ALL, f"sox synth {on_ms}/{off_ms} ms at {level} dBm0 per tone"
    on = ev[ev["kind"] == ON]
    # onsets land within one analysis block of where sox put the tones
    assert np.all(np.abs(on["start"] - np.array([b.start for b in bursts])) <= BLOCK), on["start"]


# ---------------------------------------------------------------- our generator, both receivers


@pytest.mark.parametrize(
    ("on_ms", "off_ms", "low", "high"), [(50, 55, -10.0, -10.0), (40, 40, -25.0, -23.0), (80, 50, -6.0, -9.0)]
)
def test_our_generator_found_by_both(on_ms: int, off_ms: int, low: float, high: float) -> None:
    gen = DtmfGenerator(level_low_dbm0=low, level_high_dbm0=high, on_ms=on_ms, off_ms=off_ms)
    sent = ALL + "5" * 4 + "#0*"
    gen.put(sent)
    x = np.concatenate([np.zeros(321, np.int16), generate_all(gen)])
    theirs = "".join(d for d, _ in load().dtmf_rx(x))
    ev = our_events(x)
    assert digits(ev) == sent, "ours"
    assert theirs == sent, "spandsp"
    on = ev[ev["kind"] == ON]
    off = ev[ev["kind"] == OFF]
    period = sig.ms(on_ms + off_ms)
    true_start = 321 + period * np.arange(len(sent))
    assert np.all(np.abs(on["start"] - true_start) <= BLOCK), on["start"] - true_start
    assert np.all(np.abs(off["end"] - (true_start + sig.ms(on_ms))) <= BLOCK), off["end"] - true_start


# ---------------------------------------------------------------- generator levels and timing


def tone_power_dbm0(x: np.ndarray, freq: float) -> tuple[float, float]:
    """(power in dBm0, peak frequency in Hz) of the component within +-2% of freq, by FFT."""
    n = len(x)
    spec = np.abs(np.fft.rfft(x.astype(np.float64))) ** 2 * 2.0 / n**2
    f = np.fft.rfftfreq(n, 1.0 / sig.FS)
    band = np.abs(f - freq) <= 0.02 * freq
    p = float(np.sum(spec[band]))
    return 10.0 * np.log10(p / (sig.DBM0_PEAK**2 / 2.0)), float(f[band][np.argmax(spec[band])])


@pytest.mark.parametrize(
    ("low", "high"),
    [
        (-10.0, -10.0),
        (-3.0, -3.0),
        (-20.0, -20.0),
        (-35.0, -35.0),
        (-11.0, -9.0),
        (-9.0, -11.0),
        (-6.5, -4.5),
    ],
)
@pytest.mark.parametrize("digit", ["1", "5", "9", "D", "0"])
def test_generator_level_per_tone(digit: str, low: float, high: float) -> None:
    gen = DtmfGenerator(level_low_dbm0=low, level_high_dbm0=high, on_ms=1000, off_ms=50)
    gen.put(digit)
    x = gen.generate(8000)  # exactly the 1 s tone: 1 Hz bins, the DTMF frequencies fall on bins
    flo, fhi = sig.digit_freqs(digit)
    (plo, pk_lo), (phi, pk_hi) = tone_power_dbm0(x, flo), tone_power_dbm0(x, fhi)
    assert abs(plo - low) <= 0.5, f"low tone {flo} Hz: {plo:.2f} dBm0, asked {low}"
    assert abs(phi - high) <= 0.5, f"high tone {fhi} Hz: {phi:.2f} dBm0, asked {high}"
    assert abs(pk_lo - flo) <= 0.015 * flo and abs(pk_hi - fhi) <= 0.015 * fhi, (pk_lo, pk_hi)


def expected_windows(plan: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """(digit, first sample, one past last) of each tone for (digit, on_ms, off_ms) in order."""
    out, pos = [], 0
    for d, on_ms, off_ms in plan:
        out.append((d, pos, pos + sig.ms(on_ms)))
        pos += sig.ms(on_ms) + sig.ms(off_ms)
    return out


def fit_residual(seg: np.ndarray, digit: str) -> np.ndarray:
    """seg minus its least-squares fit by the digit's two nominal tones (free amplitude and phase)."""
    t = np.arange(len(seg))
    cols = []
    for f in sig.digit_freqs(digit):
        w = 2.0 * np.pi * f / sig.FS
        cols += [np.sin(w * t), np.cos(w * t)]
    a = np.stack(cols, axis=1)
    coef, *_ = np.linalg.lstsq(a, seg.astype(np.float64), rcond=None)
    return seg - a @ coef


@pytest.mark.parametrize("chunk", [1, 8, 37, 160, 10_000])
def test_generator_timing_exact_to_the_sample(chunk: int) -> None:
    gen = DtmfGenerator(on_ms=50, off_ms=55)
    gen.put("159D")
    gen.put("*0", on_ms=70, off_ms=30)
    gen.put("#", on_ms=41, off_ms=43, level_low_dbm0=-20.0, level_high_dbm0=-18.0)
    plan = [(d, 50, 55) for d in "159D"] + [(d, 70, 30) for d in "*0"] + [("#", 41, 43)]
    windows = expected_windows(plan)
    total = windows[-1][2] + sig.ms(43)
    assert gen.pending == len(plan)
    parts, made = [], 0
    while made < total + 400:
        n = min(chunk, total + 400 - made)
        parts.append(gen.generate(n))
        made += n
        if made == total - 1:
            assert gen.pending == 1, "the last off time still counts as pending"
        if made == total:
            assert gen.pending == 0, f"idle exactly after {total} samples"
    x = np.concatenate(parts)
    assert x.dtype == np.int16 and len(x) == total + 400
    on_mask = np.zeros(len(x), bool)
    for d, a, b in windows:
        on_mask[a:b] = True
        r = fit_residual(x[a:b], d)
        amp = float(np.max(np.abs(x[a:b])))
        # a tone starting or ending one sample early/late leaves a residual of the order of amp at an edge
        assert np.max(np.abs(r)) <= 0.01 * amp + 2.0, (
            f"digit {d} [{a}, {b}): residual {np.max(np.abs(r)):.1f}"
        )
        assert np.max(np.abs(r[:2])) <= 0.01 * amp + 2.0 and np.max(np.abs(r[-2:])) <= 0.01 * amp + 2.0
    assert not np.any(x[~on_mask]), f"non-zero samples in the off time at {np.flatnonzero(x * ~on_mask)[:5]}"


def test_generator_out_argument_and_idle_silence() -> None:
    gen = DtmfGenerator()
    buf = np.full(500, 7, np.int16)
    assert np.shares_memory(gen.generate(500, out=buf), buf)
    assert not np.any(buf), "an idle generator writes silence"
    gen.put("7")
    y = gen.generate(400, out=buf[:400])
    assert np.shares_memory(y, buf) and np.any(buf[:400])
