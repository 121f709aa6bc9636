"""The simulated far ends: what the exchange or an agent's phone sends us, rendered ahead.

Audio. One Renderer holds the far-end audio of every line row of the board (every timeslot and
analog port) in a ring buffer (rows x RING samples, int16 linear). It renders ahead, a chunk of
CHUNK samples for one group of rows per tick (staggered over GROUPS ticks), so a tick's audio is
one slice of the ring and its cost does not depend on what the far ends do. A chunk is line noise
plus, scaled by the line's loss, the sources active on each row: DTMF keyed with human timing
(DtmfGenerator), call progress tones of the zone, speech from WAV files, clips. A source that
starts inside the already rendered part is mixed in at once. Echo is not rendered ahead: the
board adds it each tick from what we sent (hybrid echo: our tx delayed and attenuated by the ERL).

Levels: 0 dBm0 is a sine of peak 22767 (G.711's +3.14 dBm0 full scale; REFERENCE.md).
Zone tones are libtonezone's (zonedata.c via REFERENCE.md), each frequency at -10 dBm0 as
libtonezone builds them.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ccboard.dsp import dtmf

RATE = 8000
MS = RATE // 1000
RING = 4096  # samples per row in the ring (512 ms)
GROUPS = 64  # rows are rendered in this many staggered groups
CHUNK = 8 * GROUPS  # samples rendered per group visit (64 ms)
SINE_0DBM0_PEAK = 22767.0
NOISE_TABLE = 1 << 20
# np.clip's ufunc without np.clip's Python wrapper (a few us per call at our sizes)
clip_ufunc: np.ufunc = getattr(getattr(np, "_core", np).umath, "clip", None) or np.clip  # type: ignore[assignment]
_F_MIN, _F_MAX = np.float32(-32768.0), np.float32(32767.0)

# libtonezone zonedata (REFERENCE.md): list of (frequencies Hz, ms) steps, repeating; ms 0 = steady
TONES: dict[str, dict[str, tuple[tuple[tuple[float, ...], int], ...]]] = {
    "us": {
        "dial": (((350.0, 440.0), 0),),
        "busy": (((480.0, 620.0), 500), ((), 500)),
        "ringback": (((440.0, 480.0), 2000), ((), 4000)),
        "congestion": (((480.0, 620.0), 250), ((), 250)),
    },
    "uk": {
        "dial": (((350.0, 440.0), 0),),
        "busy": (((400.0,), 375), ((), 375)),
        "ringback": (((400.0, 450.0), 400), ((), 200), ((400.0, 450.0), 400), ((), 2000)),
        "congestion": (((400.0,), 400), ((), 350), ((400.0,), 225), ((), 525)),
    },
    "de": {
        "dial": (((425.0,), 0),),
        "busy": (((425.0,), 480), ((), 480)),
        "ringback": (((425.0,), 1000), ((), 4000)),
        "congestion": (((425.0,), 240), ((), 240)),
    },
    "cn": {
        "dial": (((450.0,), 0),),
        "busy": (((450.0,), 350), ((), 350)),
        "ringback": (((450.0,), 1000), ((), 4000)),
        "congestion": (((450.0,), 700), ((), 700)),
    },
}
TONE_LEVEL_DBM0 = -10.0


def dbm0_peak(dbm0: float) -> float:
    """Peak of a sine at dbm0."""
    return float(SINE_0DBM0_PEAK * 10.0 ** (dbm0 / 20.0))


def dbm0_rms(dbm0: float) -> float:
    """RMS of any signal at dbm0."""
    return float(dbm0_peak(dbm0) / np.sqrt(2.0))


class Source:
    """Audio a far end sends on one row from sample `start` until `end` (exclusive)."""

    start: int
    end: int

    def render(self, t0: int, n: int) -> npt.NDArray[np.float32]:
        """Samples t0 .. t0+n-1 (the caller keeps within start .. end)."""
        raise NotImplementedError


class Clip(Source):
    """A finished waveform, played once (or looped until `end`)."""

    def __init__(self, samples: npt.NDArray[Any], start: int, loop_until: int | None = None) -> None:
        self.samples = np.asarray(samples, np.float32)
        self.start = start
        self.loop = loop_until is not None
        self.end = loop_until if loop_until is not None else start + self.samples.size

    def render(self, t0: int, n: int) -> npt.NDArray[np.float32]:
        i = t0 - self.start
        if not self.loop:
            return self.samples[i : i + n]
        idx = (np.arange(i, i + n)) % self.samples.size
        return self.samples[idx]


class Tone(Source):
    """A cadenced tone: steps of (frequencies, ms), repeating; one steady step never ends."""

    def __init__(
        self,
        steps: tuple[tuple[tuple[float, ...], int], ...],
        start: int,
        end: int,
        level_dbm0: float = TONE_LEVEL_DBM0,
    ) -> None:
        self.steps = steps
        self.start = start
        self.end = end
        self.amp = dbm0_peak(level_dbm0)
        self.period = sum(ms for _, ms in steps) * MS

    def render(self, t0: int, n: int) -> npt.NDArray[np.float32]:
        t = np.arange(t0 - self.start, t0 - self.start + n)
        out = np.zeros(n, np.float32)
        if self.period == 0:
            freqs = self.steps[0][0]
            for f in freqs:
                out += np.sin(2 * np.pi * f * t / RATE).astype(np.float32)
            return out * np.float32(self.amp)
        ph = t % self.period
        acc = 0
        for freqs, ms in self.steps:
            on = (ph >= acc) & (ph < acc + ms * MS)
            acc += ms * MS
            if freqs and on.any():
                for f in freqs:
                    out += np.where(on, np.sin(2 * np.pi * f * t / RATE), 0.0).astype(np.float32)
        return out * np.float32(self.amp)


def human_dtmf(
    digits: str,
    rng: np.random.Generator,
    on_ms: tuple[float, float] = (60.0, 120.0),
    gap_ms: tuple[float, float] = (80.0, 400.0),
    level_dbm0: tuple[float, float] = (-12.0, -4.0),
    twist_db: float = 3.0,
) -> npt.NDArray[np.int16]:
    """A person keying digits: each tone's length, the gap after it and the low tone's level drawn
    uniformly from the ranges, the high tone within +-twist_db of it (a phone's twist stays
    within the receiver's 5 dB reverse / 9 dB normal limits); keyed by ccboard's DtmfGenerator."""
    gen = dtmf.DtmfGenerator()
    n = len(digits)
    # one draw for the whole string, in the order a per-digit loop would draw (on, gap, low, twist)
    lo = np.array([on_ms[0], gap_ms[0], level_dbm0[0], -twist_db], np.float64)
    hi = np.array([on_ms[1], gap_ms[1], level_dbm0[1], twist_db], np.float64)
    draws = rng.uniform(np.tile(lo, n), np.tile(hi, n)).reshape(n, 4).tolist() if n else []
    total = 0
    for d, (on_f, off_f, low, tw) in zip(digits, draws, strict=True):
        on, off = int(on_f), int(off_f)
        gen.put(d, on_ms=on, off_ms=off, level_low_dbm0=low, level_high_dbm0=low + tw)
        total += (on + off) * MS
    return gen.generate(total)


def load_wav(path: str) -> npt.NDArray[np.float32]:
    """A WAV file as 8 kHz mono float samples on the int16 scale (resampled with scipy)."""
    from math import gcd

    from scipy.io import wavfile  # type: ignore[import-untyped]
    from scipy.signal import resample_poly  # type: ignore[import-untyped]

    rate, data = wavfile.read(path)
    x = np.asarray(data)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if x.dtype.kind == "f":
        y = x.astype(np.float64) * 32767.0
    elif x.dtype == np.uint8:
        y = (x.astype(np.float64) - 128.0) * 256.0
    elif x.dtype == np.int32:
        y = x.astype(np.float64) / 65536.0
    else:
        y = x.astype(np.float64)
    if rate != RATE:
        g = gcd(int(rate), RATE)
        y = resample_poly(y, RATE // g, int(rate) // g)
    return y.astype(np.float32)


class Renderer:
    """The far-end audio of `rows` line rows, rendered ahead into a ring buffer."""

    def __init__(self, rows: int, seed: int = 1) -> None:
        self.rows = rows
        self.rng = np.random.default_rng(seed)
        # tick-major: a tick's audio for every row is one contiguous (rows, 8) block
        self.ring = np.zeros((RING // 8, rows, 8), np.int16)
        self.noise = self.rng.standard_normal(NOISE_TABLE).astype(np.float32)
        self.noise_rms = np.zeros(rows, np.float32)  # line noise per row, int16 scale
        self.gain = np.ones(rows, np.float32)  # 1 / line loss per row
        self.sources: list[list[Source]] = [[] for _ in range(rows)]
        bounds = np.linspace(0, rows, GROUPS + 1).astype(int)
        self.groups = [(int(bounds[g]), int(bounds[g + 1])) for g in range(GROUPS)]
        self.busy: list[set[int]] = [set() for _ in range(GROUPS)]  # rows with sources, per group
        self.group_of = np.zeros(rows, np.intp)
        for g, (a, b) in enumerate(self.groups):
            self.group_of[a:b] = g
        self.horizon = np.zeros(GROUPS, np.int64)
        self._tables: dict[float, npt.NDArray[np.int16]] = {}
        self._uniform: list[float | None] = [0.0] * GROUPS
        self._unit_gain = True  # no loss on any row: clip * gain == clip
        self._zero_chunk = np.zeros(CHUNK, np.float32)
        self._clip_block: dict[tuple[int, ...], npt.NDArray[np.float32]] = {}
        self.tick = 0
        for g in range(GROUPS):
            self._render_group(g)
            self._render_group(g)

    def set_noise(self, rows: list[int] | npt.NDArray[np.intp], dbm0: float | None) -> None:
        """Line noise on rows from the next chunk on (None: none)."""
        self.noise_rms[rows] = 0.0 if dbm0 is None else dbm0_rms(dbm0)
        self._levels_changed()

    def set_loss(self, rows: list[int] | npt.NDArray[np.intp], db: float) -> None:
        """Line loss in dB on the far end's signal from the next chunk on."""
        self.gain[rows] = 10.0 ** (-db / 20.0)
        self._unit_gain = bool((self.gain == 1.0).all())

    def add(self, row: int, src: Source, now: int) -> None:
        """Play src on row; any part inside the rendered window is mixed in now."""
        g = int(self.group_of[row])
        h = int(self.horizon[g])
        a = max(src.start, now)
        if a < h and src.end > a:
            b = min(h, src.end)
            self._mix_now(row, a, src.render(a, b - a) * self.gain[row])
        if src.end > h:
            self.sources[row].append(src)
            self.busy[g].add(row)

    def stop(self, row: int, now: int) -> None:
        """End every source on row from now on (what is already rendered is cleared back to noise)."""
        self.sources[row].clear()
        self.busy[int(self.group_of[row])].discard(row)
        h = int(self.horizon[self.group_of[row]])
        if h > now:
            off = int(self.rng.integers(0, NOISE_TABLE - (h - now)))
            x = np.rint(self.noise[off : off + h - now] * self.noise_rms[row])
            self._put(row, now, np.clip(x, -32768, 32767).astype(np.int16))

    def _cells(self, row: int, a: int, n: int) -> tuple[npt.NDArray[np.intp], int, npt.NDArray[np.intp]]:
        s = np.arange(a, a + n)
        return (s // 8) % (RING // 8), row, s % 8

    def _put(self, row: int, a: int, x: npt.NDArray[np.int16]) -> None:
        k, r, j = self._cells(row, a, x.size)
        self.ring[k, r, j] = x

    def _mix_now(self, row: int, a: int, x: npt.NDArray[np.float32]) -> None:
        ticks = RING // 8
        if a % 8 == 0 and x.size % 8 == 0 and x.size // 8 <= ticks:
            # whole ticks (a source started by the board starts on a tick): at most two (k, 8)
            # views of the row instead of a gather/scatter of every sample; the same arithmetic
            m = x.size // 8
            k0 = (a // 8) % ticks
            first = min(m, ticks - k0)
            x2 = x.reshape(m, 8)
            for v, xs in (
                (self.ring[k0 : k0 + first, row], x2[:first]),
                (self.ring[: m - first, row], x2[first:]),
            ):
                if xs.size:
                    v[...] = np.clip(v + np.rint(xs), -32768, 32767).astype(np.int16)
            return
        k, r, j = self._cells(row, a, x.size)
        self.ring[k, r, j] = np.clip(self.ring[k, r, j] + np.rint(x), -32768, 32767).astype(np.int16)

    def _render_group(self, g: int) -> None:
        r0, r1 = self.groups[g]
        h = int(self.horizon[g])
        if r1 > r0:
            n = (r1 - r0) * CHUNK
            off = int(self.rng.integers(0, NOISE_TABLE - n))
            k0 = (h // 8) % (RING // 8)
            ticks = CHUNK // 8
            level = self._uniform[g]
            busy = self.busy[g]
            if level is not None and not busy:
                # the same noise level on every row and nothing else: slice the pre-scaled table
                noise = self._noise16(level)[off : off + n].reshape(r1 - r0, ticks, 8)
                self.ring[k0 : k0 + ticks, r0:r1, :] = noise.transpose(1, 0, 2)
            else:
                buf = self.noise[off : off + n].reshape(r1 - r0, CHUNK) * self.noise_rms[r0:r1, None]
                mixed = self._mix_clips(buf, r0, h)
                for row in [r for r in busy if r not in mixed] if mixed else list(busy):
                    keep = []
                    x = buf[row - r0]
                    gain = self.gain[row]
                    for src in self.sources[row]:
                        a, b = max(src.start, h), min(src.end, h + CHUNK)
                        if b > a:
                            seg = src.render(a, b - a)
                            x[a - h : b - h] += seg if gain == 1.0 else seg * gain
                        if src.end > h + CHUNK:
                            keep.append(src)
                    self.sources[row] = keep
                    if not keep:
                        busy.discard(row)
                clip_ufunc(buf, _F_MIN, _F_MAX, out=buf)
                self.ring[k0 : k0 + ticks, r0:r1, :] = buf.reshape(r1 - r0, ticks, 8).transpose(1, 0, 2)
        self.horizon[g] = h + CHUNK

    def _mix_clips(self, buf: npt.NDArray[np.float32], r0: int, h: int) -> set[int]:
        """Mix the rows of the group whose only source is a one-shot Clip (a keyed digit string,
        the common case) into buf: the clips that cover the whole chunk as one block add (zeros on
        the other rows, and x + 0 == x), the others row by row; drop the rows from busy when their
        clip ends in this chunk. The float32 sums are the ones the per-row loop makes
        (noise + clip * gain). Returns the rows it handled."""
        busy = self.busy[int(self.group_of[r0])]
        sources = self.sources
        gain = self.gain
        end_h = h + CHUNK
        zero = self._zero_chunk
        segs: list[npt.NDArray[np.float32]] = []
        done: list[int] = []
        handled: set[int] = set()
        full = 0
        for row in range(r0, r0 + buf.shape[0]):
            srcs = sources[row] if row in busy else None
            if not srcs or len(srcs) != 1:
                segs.append(zero)
                continue
            src = srcs[0]
            if src.__class__ is not Clip or src.loop:
                segs.append(zero)
                continue
            handled.add(row)
            s0, s1 = src.start, src.end
            if s0 <= h and s1 >= end_h:
                segs.append(src.samples[h - s0 : end_h - s0])
                full += 1
            else:
                segs.append(zero)
                lo = s0 if s0 > h else h
                hi = s1 if s1 < end_h else end_h
                if hi > lo:
                    seg = src.samples[lo - s0 : hi - s0]
                    g = gain[row]
                    buf[row - r0, lo - h : hi - h] += seg if g == 1.0 else seg * g
            if s1 <= end_h:
                done.append(row)
        for row in done:
            sources[row] = []
            busy.discard(row)
        if full:
            vals = self._clip_block.get(buf.shape)
            if vals is None:
                vals = self._clip_block[buf.shape] = np.empty(buf.shape, np.float32)
            np.concatenate(segs, out=vals.reshape(-1))
            if not self._unit_gain:
                vals *= gain[r0 : r0 + buf.shape[0], None]
            np.add(buf, vals, out=buf)
        return handled

    def _noise16(self, rms: float) -> npt.NDArray[np.int16]:
        t = self._tables.get(rms)
        if t is None:
            t = np.clip(np.rint(self.noise * rms), -32768, 32767).astype(np.int16)
            self._tables[rms] = t
        return t

    def _levels_changed(self) -> None:
        for g, (a, b) in enumerate(self.groups):
            v = self.noise_rms[a:b]
            self._uniform[g] = float(v[0]) if b > a and (v == v[0]).all() else None

    def advance(self) -> None:
        """Called once per tick after the tick's slice was read: render the next group's chunk."""
        self._render_group(self.tick % GROUPS)
        self.tick += 1

    def slice(self, t: int) -> npt.NDArray[np.int16]:
        """The (rows, 8) far-end audio of the tick starting at sample t (contiguous)."""
        out: npt.NDArray[np.int16] = self.ring[(t // 8) % (RING // 8)]
        return out


@dataclass(order=True)
class _Due:
    t: int
    seq: int
    fn: Callable[..., None] = field(compare=False)
    args: tuple[Any, ...] = field(compare=False, default=())
    kwargs: dict[str, Any] = field(compare=False, default_factory=dict)


class Schedule:
    """Actions at given sample times ("at t do X"), run by the board at the start of their tick."""

    def __init__(self) -> None:
        self._heap: list[_Due] = []
        self._seq = 0

    def at(self, t: int, fn: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, _Due(t, self._seq, fn, args, kwargs))

    def next_time(self) -> int:
        return self._heap[0].t if self._heap else 1 << 62

    def run_due(self, t_end: int) -> None:
        """Run every action due before t_end, in time order."""
        while self._heap and self._heap[0].t < t_end:
            d = heapq.heappop(self._heap)
            d.fn(*d.args, **d.kwargs)
