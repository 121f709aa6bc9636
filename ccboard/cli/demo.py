"""`ccboard demo`: many simulated callers keying digits, decoded in 1 ms ticks.

Each channel is a caller who keys an account number, a menu choice and a PIN (then more menu
choices while the call lasts) with human timing: tone 60-150 ms, gap 80-400 ms, levels -4 to
-20 dBm0 per tone with up to +-3 dB twist, over line noise (about -50 dBm0) with bursts of
speech-like noise in the pauses. The audio is G.711-coded as on an E1/T1 line and fed to one
DtmfReceiverBank 8 samples per channel at a time, as DAHDI hands a board's channels over every
millisecond. The summary gives digits sent / found / wrong / missed, the cost of a tick, the
real-time factor and the detection latency of the ON events.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal, cast

import numpy as np
import numpy.typing as npt

from ccboard.dsp import dtmf, g711

Law = Literal["linear", "alaw", "ulaw"]

RATE = 8000  # samples per second
TICK = 8  # samples per channel per tick (1 ms)
MS = RATE // 1000  # samples per millisecond
SINE_0DBM0_RMS = 22767 / np.sqrt(2.0)  # 0 dBm0 sine peak 22767 (Tmax +3.14 dBm0), as rms
LINE_NOISE_DBM0 = -50.0
SPEECH_DBM0 = (-30.0, -15.0)  # rms level range of the speech-like bursts
LEVEL_DBM0 = (-20.0, -4.0)  # per-tone level range
TWIST_DB = 3.0  # high tone minus low tone, at most this either way
TAIL_MS = 400  # quiet at the end of each channel so every digit's end is decided
OFF_GRACE_MS = 60  # an ON decided this long after the tone's end still belongs to it


@dataclass
class Tone:
    """One keyed digit: sample bounds in its channel, levels in dBm0."""

    digit: str
    start: int
    end: int
    level_low: float
    level_high: float


@dataclass
class Score:
    """Sent tones matched against decoded ON events."""

    sent: int = 0
    found: int = 0
    wrong: int = 0  # decoded as another digit, or a digit where none was keyed
    missed: int = 0
    latency_ms: list[float] = field(default_factory=list)  # tone start to the ON event's `at`
    decoded: list[str] = field(default_factory=list)  # ON digits per channel


def _dbm0_to_rms(dbm0: float) -> float:
    return float(SINE_0DBM0_RMS * 10.0 ** (dbm0 / 20.0))


def _speech_like(rng: np.random.Generator, n: int) -> npt.NDArray[np.float64]:
    """Noise with a speech-like spectrum (low-pass tilt) and syllabic envelope (~4 Hz), rms 1."""
    taps = np.array([0.5, 1.2, 1.8, 1.6, 1.0, 0.4])
    w = np.convolve(rng.standard_normal(n + len(taps) - 1), taps, mode="valid")
    t = np.arange(n) / RATE
    rate = rng.uniform(3.0, 6.0)  # syllables per second
    env = np.sin(np.pi * np.arange(n) / n) ** 2 * (
        0.6 + 0.4 * np.sin(2 * np.pi * rate * t + rng.uniform(0, 6.3))
    )
    y = w * env
    rms = float(np.sqrt(np.mean(y * y))) or 1.0
    return y / rms


def _caller_script(rng: np.random.Generator) -> list[str]:
    """The phrases one caller keys: account number, menu choice, PIN, then more menu choices."""
    account = "".join(rng.choice(list("0123456789"), size=int(rng.integers(6, 11)))) + "#"
    pin = "".join(rng.choice(list("0123456789"), size=4)) + "#"
    phrases = [account, str(rng.choice(list("1234"))), pin]
    phrases += [str(rng.choice(list("1234567890*#"))) for _ in range(20)]
    return phrases


def make_channel(
    rng: np.random.Generator, n: int
) -> tuple[npt.NDArray[np.int16], list[Tone], list[list[Tone]]]:
    """One caller's n samples of int16 audio and the tones keyed in it (grouped by phrase)."""
    tones_pcm = np.zeros(n, dtype=np.int16)
    extra = rng.standard_normal(n) * _dbm0_to_rms(LINE_NOISE_DBM0)
    base_level = rng.uniform(LEVEL_DBM0[0] + 1.0, LEVEL_DBM0[1] - 1.0)
    twist = rng.uniform(-TWIST_DB, TWIST_DB)
    gen = dtmf.DtmfGenerator()
    tones: list[Tone] = []
    phrases: list[list[Tone]] = []
    pos = int(rng.integers(100, 1500)) * MS  # callers connect at different moments
    limit = n - TAIL_MS * MS
    for phrase in _caller_script(rng):
        timing = [(int(rng.integers(60, 151)), int(rng.integers(80, 401))) for _ in phrase]
        length = sum(on + off for on, off in timing) * MS
        if pos + length > limit:
            break
        keyed: list[Tone] = []
        at = pos
        for d, (on, off) in zip(phrase, timing, strict=True):
            lo = float(np.clip(base_level + rng.uniform(-1.0, 1.0), *LEVEL_DBM0))
            hi = float(np.clip(lo + twist, *LEVEL_DBM0))
            gen.put(d, on_ms=on, off_ms=off, level_low_dbm0=lo, level_high_dbm0=hi)
            keyed.append(Tone(d, at, at + on * MS, lo, hi))
            at += (on + off) * MS
        gen.generate(length, out=tones_pcm[pos : pos + length])
        tones += keyed
        phrases.append(keyed)
        pos += length
        # The pause before the next phrase: the caller listens to a prompt, maybe talks over it.
        pause = int(rng.integers(800, 2500)) * MS
        burst = int(rng.integers(150, 700)) * MS
        b0 = pos + int(rng.integers(100, 300)) * MS
        if b0 + burst < min(pos + pause - 200 * MS, limit):
            extra[b0 : b0 + burst] += _speech_like(rng, burst) * _dbm0_to_rms(rng.uniform(*SPEECH_DBM0))
        pos += pause
    mixed = np.clip(tones_pcm + extra, -32768, 32767)
    return np.rint(mixed).astype(np.int16), tones, phrases


def encode(x: npt.NDArray[np.int16], law: str, out: npt.NDArray[np.uint8]) -> None:
    """Code one channel's int16 audio as G.711 octets into out."""
    if law == "alaw":
        g711.alaw_encode(x, out=out)
    else:
        g711.ulaw_encode(x, out=out)


def score(tones: list[list[Tone]], events: npt.NDArray[np.void], channels: int) -> Score:
    """Match each channel's ON events to the tones keyed on it (by the time they were decided)."""
    result = Score(sent=sum(len(t) for t in tones))
    on = events[events["kind"] == dtmf.ON]
    order = np.argsort(on["channel"], kind="stable")
    on = on[order]
    bounds = np.searchsorted(on["channel"], np.arange(channels + 1))
    grace = OFF_GRACE_MS * MS
    for ch in range(channels):
        evs = on[bounds[ch] : bounds[ch + 1]]
        chan_tones = tones[ch]
        starts = np.array([t.start for t in chan_tones], dtype=np.int64)
        matched = [False] * len(chan_tones)
        decoded = []
        for ev in evs:
            digit = bytes(ev["digit"]).decode("ascii")
            decoded.append(digit)
            at = int(ev["at"])
            k = int(np.searchsorted(starts, at, side="right")) - 1
            if k < 0 or matched[k] or at > chan_tones[k].end + grace:
                result.wrong += 1  # a digit where none was keyed
                continue
            matched[k] = True
            if digit == chan_tones[k].digit:
                result.found += 1
                result.latency_ms.append((at - chan_tones[k].start) / MS)
            else:
                result.wrong += 1
        result.missed += matched.count(False)
        result.decoded.append("".join(decoded))
    return result


def run_bank(
    codes: npt.NDArray[np.uint8] | npt.NDArray[np.int16], law: str
) -> tuple[npt.NDArray[np.void], npt.NDArray[np.int64]]:
    """Feed (channels x samples) through one DtmfReceiverBank in 1 ms ticks.

    Returns all events and each tick's wall time in ns.
    """
    channels, n = codes.shape
    bank = dtmf.DtmfReceiverBank(channels, law=cast(Law, law))
    ticks = n // TICK
    cost = np.empty(ticks, dtype=np.int64)
    found: list[npt.NDArray[np.void]] = []
    clock = time.perf_counter_ns
    for i in range(ticks):
        block = codes[:, i * TICK : (i + 1) * TICK]  # a strided view: rows stay contiguous, no copy
        t0 = clock()
        ev = bank.process(block)
        cost[i] = clock() - t0
        if len(ev):
            found.append(ev)
    events = np.concatenate(found) if found else np.empty(0, dtype=dtmf.EVENT_DTYPE)
    return events, cost


def run_demo(
    channels: int = 960,
    seconds: float = 20.0,
    law: str = "alaw",
    seed: int = 1,
    show: int = 4,
) -> int:
    """Generate, decode and report; 0 if every digit was found and none was wrong, else 1."""
    n = round(seconds * RATE) // TICK * TICK
    if n < (TAIL_MS + 1600) * MS:
        raise SystemExit(f"ccboard demo: --seconds {seconds} is too short for a caller (at least 2 s)")
    coding = {"alaw": "A-law", "ulaw": "mu-law", "linear": "int16 linear"}[law]
    print(f"ccboard demo: {channels} channels x {n / RATE:.1f} s, {coding}, seed {seed}")

    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    dtype = np.int16 if law == "linear" else np.uint8
    codes = np.empty((channels, n), dtype=dtype)
    tones: list[list[Tone]] = []
    phrases: list[list[list[Tone]]] = []
    for ch in range(channels):
        pcm, keyed, grouped = make_channel(rng, n)
        if law == "linear":
            codes[ch] = pcm
        else:
            encode(pcm, law, codes[ch])
        tones.append(keyed)
        phrases.append(grouped)
    sent = sum(len(t) for t in tones)
    print(f"generated {sent} digits on {channels} channels in {time.perf_counter() - t0:.1f} s")

    t1 = time.perf_counter()
    events, cost = run_bank(codes, law)
    wall = time.perf_counter() - t1
    result = score(tones, events, channels)

    shown = [" ".join("".join(t.digit for t in p) for p in phrases[c]) for c in range(min(show, channels))]
    width = max([24, *map(len, shown)])
    print(f"\n{'channel':>7}  {'sent (phrases)':<{width}}  decoded")
    for c, sent_text in enumerate(shown):
        print(f"{c:>7}  {sent_text:<{width}}  {result.decoded[c]}")

    us = cost / 1000.0
    audio_s = n / RATE
    busy_s = float(cost.sum()) / 1e9
    median_us = float(np.median(us))
    print(f"\ndigits: sent {result.sent}, found {result.found}, wrong {result.wrong}, missed {result.missed}")
    print(
        f"tick ({TICK} samples x {channels} channels, one call): median {median_us:.1f} us, "
        f"mean {float(us.mean()):.1f} us, p99 {float(np.percentile(us, 99)):.1f} us, "
        f"max {float(us.max()):.1f} us over {len(cost)} ticks"
    )
    print(
        f"  (every {dtmf.BLOCK // TICK}th tick completes a {dtmf.BLOCK // MS} ms block and runs its analysis)"
    )
    print(
        f"per sample: {float(us.mean()) * 1000.0 / (TICK * channels):.2f} ns on average; one core keeps up "
        f"with about {channels * 1000.0 / float(us.mean()):,.0f} channels at the mean tick"
    )
    print(
        f"real time: {audio_s:.1f} s of audio decoded in {busy_s:.2f} s of ticks ({wall:.2f} s wall): "
        f"real-time factor {busy_s / audio_s:.4f} ({audio_s / busy_s:.0f}x faster than real time)"
    )
    if result.latency_ms:
        lat = np.array(result.latency_ms)
        print(
            f"ON latency (tone start to event): median {float(np.median(lat)):.1f} ms, "
            f"p99 {float(np.percentile(lat, 99)):.1f} ms, max {float(lat.max()):.1f} ms"
        )
    ok = result.wrong == 0 and result.missed == 0 and result.sent > 0
    print(f"result: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1
