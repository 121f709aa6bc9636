"""G.168 test signals for the echo canceller: the composite source signal (CSS), the hybrid echo
path models D.2-D.9, and helpers to build Sin and to measure levels.

Data source: the CSS voiced segments (tables C.1 and C.3 of G.168, samples at 44.1 kHz) and the
echo path model coefficients (G.168 Annex D, models D.2-D.9) are ITU data as shipped in Debian's
libspandsp-dev, /usr/include/spandsp/g168models.h (`css_c1`, `line_model_d2_coeffs`, ...). They
are parsed from that header at test time, never copied here. The CSS layout (voiced 48.62 ms =
16 periods of C.1, pseudo-noise 200 ms, pause 101.38 ms, then the same with the sign inverted,
700 ms in all) and the pseudo-noise spectrum breakpoints are G.168 clause C facts as restated in
spandsp's make_g168_css.c; the noise here is our own Gaussian noise given that spectrum.

Levels in dBm0: a 0 dBm0 sine has peak 22767 (power 22767**2 / 2). Times in s, delays in samples
(8000 Hz).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.signal import resample_poly

FS = 8000
DBM0_POWER = 22767.0**2 / 2.0
MODELS_H = Path("/usr/include/spandsp/g168models.h")
APT_HINT = "apt-get install -y libspandsp-dev"
MODELS = ("d2", "d3", "d4", "d5", "d6", "d7", "d8", "d9")
# G.168 CSS pseudo-noise spectrum: (Hz, dB) breakpoints, linear in between, -60 dB outside
NOISE_SHAPE = (
    (50.0, -25.8), (100.0, -12.8), (200.0, 17.4), (215.0, 17.8), (500.0, 12.2),
    (1000.0, 7.2), (2850.0, 0.0), (3600.0, -2.0), (3660.0, -20.0), (3680.0, -30.0),
)  # fmt: skip

Float = npt.NDArray[np.float64]


@functools.cache
def _header() -> str:
    if not MODELS_H.exists():
        raise AssertionError(f"{MODELS_H} is missing: install it with `{APT_HINT}` (the tests never skip it)")
    return MODELS_H.read_text()


def table(name: str) -> Float:
    """One const array of g168models.h, e.g. 'css_c1' or 'line_model_d2_coeffs'."""
    m = re.search(rf"\b{name}\[\]\s*=\s*\{{([^}}]*)\}}", _header())
    if m is None:
        raise AssertionError(f"{name} not found in {MODELS_H}")
    return np.array([float(v) for v in m.group(1).replace("\n", " ").split(",") if v.strip()])


def power(x: npt.ArrayLike) -> float:
    """Mean square, int16 scale."""
    a = np.asarray(x, dtype=np.float64)
    return float(np.mean(a * a)) if a.size else 0.0


def dbm0(x: npt.ArrayLike) -> float:
    """Level of x in dBm0."""
    p = power(x)
    return 10.0 * np.log10(p / DBM0_POWER) if p > 0 else -200.0


def gain_for(dbm0_level: float) -> float:
    """RMS on the int16 scale of a signal at dbm0_level."""
    return float(np.sqrt(DBM0_POWER * 10.0 ** (dbm0_level / 10.0)))


def to_int16(x: npt.ArrayLike) -> npt.NDArray[np.int16]:
    return np.clip(np.rint(np.asarray(x, dtype=np.float64)), -32768, 32767).astype(np.int16)


def _shaped_noise(n: int, rng: np.random.Generator) -> Float:
    nfft = 1 << int(np.ceil(np.log2(n)))
    f = np.fft.rfftfreq(nfft, 1.0 / FS)
    pts = np.array(NOISE_SHAPE)
    db = np.interp(f, pts[:, 0], pts[:, 1])
    db[(f < pts[0, 0]) | (f > pts[-1, 0])] = -60.0
    spec = np.fft.rfft(rng.standard_normal(nfft)) * 10.0 ** (db / 20.0)
    return np.fft.irfft(spec, nfft)[:n]


def css_period(table_name: str = "css_c1", seed: int = 168) -> Float:
    """One 700 ms CSS period at unit RMS over its active (voiced + noise) part."""
    rng = np.random.default_rng(seed)
    voiced44 = np.tile(table(table_name), 16)  # 16 pitch periods at 44.1 kHz
    voiced = resample_poly(voiced44, 80, 441)
    noise = _shaped_noise(int(0.2 * FS), rng)
    voiced /= np.sqrt(np.mean(voiced**2))
    noise /= np.sqrt(np.mean(noise**2))
    pause = np.zeros(int(round((0.35 - voiced.size / FS - 0.2) * FS)))
    half = np.concatenate([voiced, noise, pause])
    return np.concatenate([half, -half])


def css(seconds: float, level_dbm0: float = -10.0, table_name: str = "css_c1") -> Float:
    """The composite source signal, repeated; level_dbm0 is that of its active parts."""
    p = css_period(table_name)
    n = int(seconds * FS)
    reps = n // p.size + 1
    return np.tile(p, reps)[:n] * gain_for(level_dbm0)


def white(seconds: float, level_dbm0: float, seed: int) -> Float:
    return np.random.default_rng(seed).standard_normal(int(seconds * FS)) * gain_for(level_dbm0)


def tone(seconds: float, hz: float, level_dbm0: float, reversal_ms: float = 0.0, phase: float = 0.0) -> Float:
    """A sine at level_dbm0 (peak 22767 at 0 dBm0); with reversal_ms, its phase flips by 180
    degrees every reversal_ms (V.25 ANSam: 2100 Hz, every 450 ms)."""
    t = np.arange(int(seconds * FS)) / FS
    ph = 2 * np.pi * hz * t + phase
    if reversal_ms > 0:
        ph = ph + np.pi * np.floor(t * 1000.0 / reversal_ms)
    return 22767.0 * 10.0 ** (level_dbm0 / 20.0) * np.cos(ph)


def echo_path(
    model: str, erl_db: float = 6.0, delay: int = 320, taps: int = 1024, ref: npt.ArrayLike | None = None
) -> Float:
    """Impulse response of G.168 model (d2..d9) after a pure delay, zero-padded to taps, scaled to
    the given ERL: measured with the signal ref (level of ref over level of its echo) when given,
    else for white noise (1 / sum h^2). The models differ in spectral shape, so with the CSS (most
    of its power below 1 kHz) the white-noise scaling can leave an echo louder than Rin - 6 dB."""
    h = table(f"line_model_{model}_coeffs")
    if delay + h.size > taps:
        raise ValueError(f"delay: {delay} + {h.size} taps does not fit a {taps}-tap tail")
    if ref is None:
        h = h * np.sqrt(10.0 ** (-erl_db / 10.0) / np.sum(h * h))
    else:
        r = np.asarray(ref, dtype=np.float64)
        h = h * np.sqrt(10.0 ** (-erl_db / 10.0) * power(r) / power(np.convolve(r, h)[: r.size]))
    out = np.zeros(taps)
    out[delay : delay + h.size] = h
    return out


def echo(far: npt.ArrayLike, h: Float) -> Float:
    """The echo of far through h (float, unclipped)."""
    x = np.asarray(far, dtype=np.float64)
    return np.convolve(x, h)[: x.size]


def erle_curve(
    sin: npt.ArrayLike, out: npt.ArrayLike, times: tuple[float, ...], win: float = 0.25
) -> list[float]:
    """ERLE in dB over the win-second window ending at each time: P(sin) / P(out)."""
    s, o = np.asarray(sin, dtype=np.float64), np.asarray(out, dtype=np.float64)
    res = []
    for t in times:
        b = int(t * FS)
        a = b - int(win * FS)
        res.append(10.0 * np.log10((power(s[a:b]) + 1e-9) / (power(o[a:b]) + 1e-9)))
    return res
