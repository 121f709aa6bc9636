"""Test-signal synthesis for the DTMF tests: tone pairs, digit sequences, noise, speech and music.

Levels are in dBm0 on the int16 scale of REFERENCE.md: a 0 dBm0 sine has peak 22767, i.e. a
power of 22767**2 / 2. Times are in ms or samples (8000 Hz). Float signals are returned unclipped;
to_int16() rounds and saturates. Speech comes from espeak-ng and is cached under
build/test-corpus/ (or $CCBOARD_CORPUS_DIR); sox synthesises peer digits.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

FS = 8000
DBM0_PEAK = 22767.0
ROWS = (697.0, 770.0, 852.0, 941.0)
COLS = (1209.0, 1336.0, 1477.0, 1633.0)
KEYPAD = "123A456B789C*0#D"
DIGITS = "0123456789*#ABCD"
ROOT = Path(__file__).resolve().parents[2]


def tool_missing(tool: str, package: str) -> str:
    """The message used when a command-line tool the tests need is absent."""
    return f"{tool} not found: install it with `apt-get install -y {package}` (the tests never skip it)"


def require_tool(tool: str, package: str) -> str:
    """Path of tool, or an AssertionError with the apt command."""
    path = shutil.which(tool)
    if path is None:
        raise AssertionError(tool_missing(tool, package))
    return path


def ms(t_ms: float) -> int:
    """Milliseconds to samples (rounded)."""
    return int(round(t_ms * FS / 1000.0))


def peak(level_dbm0: float) -> float:
    """Peak amplitude of a sine at level_dbm0."""
    return DBM0_PEAK * 10.0 ** (level_dbm0 / 20.0)


def rms_for(level_dbm0: float) -> float:
    """RMS amplitude of any signal whose power is level_dbm0."""
    return peak(level_dbm0) / np.sqrt(2.0)


def power_dbm0(x: np.ndarray) -> float:
    """Mean power of x in dBm0 (-inf for silence)."""
    p = float(np.mean(np.asarray(x, dtype=np.float64) ** 2))
    return 10.0 * np.log10(p / (DBM0_PEAK**2 / 2.0)) if p > 0 else float("-inf")


def to_int16(x: np.ndarray) -> np.ndarray:
    """Round and saturate a float signal to int16."""
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16)


def digit_freqs(digit: str) -> tuple[float, float]:
    """(row, column) frequencies in Hz of a DTMF digit."""
    i = KEYPAD.index(digit.upper())
    return ROWS[i // 4], COLS[i % 4]


def tone(n: int, freq_hz: float, level_dbm0: float, phase: float = 0.0) -> np.ndarray:
    """n samples of a sine at freq_hz and level_dbm0 starting at phase (radians)."""
    t = np.arange(n, dtype=np.float64)
    return peak(level_dbm0) * np.sin(2.0 * np.pi * freq_hz / FS * t + phase)


def tone_pair(
    digit: str,
    duration_ms: float,
    *,
    level_low_dbm0: float = -10.0,
    level_high_dbm0: float = -10.0,
    dev_low_pct: float = 0.0,
    dev_high_pct: float = 0.0,
    rng: np.random.Generator | None = None,
    n: int | None = None,
) -> np.ndarray:
    """One digit's tone pair (float), each tone offset by dev_*_pct percent; random phases if rng.

    n, when given, overrides duration_ms as an exact sample count."""
    lo, hi = digit_freqs(digit)
    count = ms(duration_ms) if n is None else n
    ph = rng.uniform(0.0, 2.0 * np.pi, 2) if rng is not None else (0.0, 0.0)
    return tone(count, lo * (1.0 + dev_low_pct / 100.0), level_low_dbm0, ph[0]) + tone(
        count, hi * (1.0 + dev_high_pct / 100.0), level_high_dbm0, ph[1]
    )


@dataclass(frozen=True)
class Burst:
    """Where a digit was placed in a synthesised sequence: samples [start, end)."""

    digit: str
    start: int
    end: int


def digit_sequence(
    digits: str,
    on_ms: float = 50.0,
    off_ms: float = 50.0,
    *,
    lead_ms: float = 100.0,
    tail_ms: float = 100.0,
    level_low_dbm0: float = -10.0,
    level_high_dbm0: float = -10.0,
    dev_low_pct: float = 0.0,
    dev_high_pct: float = 0.0,
    rng: np.random.Generator | None = None,
    lead_samples: int | None = None,
) -> tuple[np.ndarray, list[Burst]]:
    """Digits with the given on/off times (float signal) and where each one sits.

    lead_samples, when given, overrides lead_ms (to place the first tone at an exact alignment)."""
    lead = ms(lead_ms) if lead_samples is None else lead_samples
    on, off = ms(on_ms), ms(off_ms)
    parts: list[np.ndarray] = [np.zeros(lead)]
    bursts: list[Burst] = []
    pos = lead
    for i, d in enumerate(digits):
        parts.append(
            tone_pair(
                d,
                0,
                n=on,
                level_low_dbm0=level_low_dbm0,
                level_high_dbm0=level_high_dbm0,
                dev_low_pct=dev_low_pct,
                dev_high_pct=dev_high_pct,
                rng=rng,
            )
        )
        bursts.append(Burst(d, pos, pos + on))
        pos += on
        if i + 1 < len(digits):
            parts.append(np.zeros(off))
            pos += off
    parts.append(np.zeros(ms(tail_ms)))
    return np.concatenate(parts), bursts


def white_noise(n: int, level_dbm0: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian white noise with power level_dbm0 over the whole 0-4 kHz band."""
    return rng.standard_normal(n) * rms_for(level_dbm0)


def pink_noise(n: int, level_dbm0: float, rng: np.random.Generator) -> np.ndarray:
    """1/f (pink) noise, 20 Hz and up, with power level_dbm0."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / FS)
    spec *= 1.0 / np.sqrt(np.maximum(f, 20.0))
    x = np.fft.irfft(spec, n)
    return x / np.sqrt(np.mean(x**2)) * rms_for(level_dbm0)


def scale_to(x: np.ndarray, level_dbm0: float) -> np.ndarray:
    """x scaled so that its active level (mean power of its non-silent 20 ms frames) is level_dbm0."""
    x = np.asarray(x, dtype=np.float64)
    frames = x[: len(x) // 160 * 160].reshape(-1, 160)
    p = np.mean(frames**2, axis=1)
    active = p[p > np.max(p) * 1e-4] if np.any(p > 0) else p
    cur = np.sqrt(np.mean(active)) if active.size else 1.0
    return x * (rms_for(level_dbm0) / cur)


# ---- G.711 (independent numpy encoder, for feeding the receivers octets) ----


def _seg(mag: np.ndarray) -> np.ndarray:
    """G.711 segment of a magnitude: position of its top bit above bit 7, 0..8."""
    m = np.maximum(mag | 0xFF, 1)
    return np.floor(np.log2(m)).astype(np.int64) - 7


def lin2alaw(x: np.ndarray) -> np.ndarray:
    """int16 linear to A-law octets (even bits inverted, sign bit 1 = positive)."""
    v = np.asarray(x, dtype=np.int64)
    pos = v >= 0
    mag = np.where(pos, v, -v - 1)
    seg = _seg(mag)
    shift = np.where(seg == 0, 4, seg + 3)
    code = np.where(seg >= 8, 0x7F, (np.minimum(seg, 7) << 4) | ((mag >> np.minimum(shift, 15)) & 0x0F))
    mask = np.where(pos, 0xD5, 0x55)
    return (code ^ mask).astype(np.uint8)


def lin2ulaw(x: np.ndarray) -> np.ndarray:
    """int16 linear to mu-law octets (all bits inverted, bias 0x84)."""
    v = np.asarray(x, dtype=np.int64)
    pos = v >= 0
    mag = np.where(pos, 0x84 + v, 0x84 - v - 1)
    seg = _seg(mag)
    code = np.where(seg >= 8, 0x7F, (np.minimum(seg, 7) << 4) | ((mag >> (np.minimum(seg, 7) + 3)) & 0x0F))
    mask = np.where(pos, 0xFF, 0x7F)
    return (code ^ mask).astype(np.uint8)


# ---- sox ----


def sox_digits(
    digits: str, on_ms: int = 50, off_ms: int = 50, level_dbm0: float = -10.0, lead_ms: int = 100
) -> tuple[np.ndarray, list[Burst]]:
    """Digits synthesised by `sox -n ... synth` (two sine tones per digit, mixed to mono), int16.

    Each tone's level is level_dbm0; lead_ms of silence before the first and after the last."""
    sox = require_tool("sox", "sox")
    # synth makes one full-scale sine per channel; remix sums them with this gain each
    gain = peak(level_dbm0) / 32767.0
    parts: list[np.ndarray] = [np.zeros(ms(lead_ms), np.int16)]
    bursts: list[Burst] = []
    pos = ms(lead_ms)
    for i, d in enumerate(digits):
        lo, hi = digit_freqs(d)
        cmd = [sox, "-q", "-n", "-r", str(FS), "-b", "16", "-e", "signed-integer", "-t", "raw", "-"]
        cmd += ["synth", f"{on_ms / 1000.0:.4f}", "sine", f"{lo:g}", "sine", f"{hi:g}"]
        cmd += ["remix", f"1v{gain:.6f},2v{gain:.6f}"]
        out = subprocess.run(cmd, check=True, capture_output=True).stdout
        x = np.frombuffer(out, dtype="<i2").astype(np.int16)
        parts.append(x)
        bursts.append(Burst(d, pos, pos + len(x)))
        pos += len(x)
        gap = ms(off_ms) if i + 1 < len(digits) else ms(lead_ms)
        parts.append(np.zeros(gap, np.int16))
        pos += gap
    return np.concatenate(parts), bursts


# ---- speech corpus (espeak-ng) ----

ENGLISH_TEXT = [
    "Thank you for calling customer service. Your call is important to us. Please hold the line "
    "and one of our agents will be with you shortly. Calls may be recorded for training purposes.",
    "To hear your account balance, press one. For recent transactions, press two. To speak to an "
    "operator, stay on the line. Seven, eight, nine, zero, star, and hash are not valid here.",
    "She sells sea shells by the sea shore. The quick brown fox jumps over the lazy dog, while "
    "the early bird catches the worm and the rolling stone gathers no moss whatsoever.",
    "Hello? Yes, I'm calling about the invoice number four five six, dated the twenty third of "
    "March. I think there's a mistake with the amount, it should be three hundred and twelve.",
    "Whistling wind, singing kettles, and shrieking children make high pitched sounds. "
    "Mmm, hmm, oh, ah, eee, ooo, aaah, weeee, yeeees, nooooo, heeey.",
    "The meeting is scheduled for Tuesday morning at nine thirty, in the big conference room on "
    "the fourth floor. Please bring the quarterly figures and the draft of the new contract.",
]
MANDARIN_TEXT = [
    "您好，欢迎致电客户服务中心。您的来电对我们非常重要，请不要挂机，我们的客服人员将尽快为您服务。",
    "查询账户余额请按一，查询最近交易请按二，人工服务请按零。感谢您的耐心等待。",
    "今天天气很好，我们一起去公园散步吧。春天来了，花儿都开了，小鸟在树上唱歌。",
    "请问您的订单号码是多少？我这边查到您的包裹已经发货了，预计明天下午送达。",
    "妈妈骑马，马慢，妈妈骂马。四是四，十是十，十四是十四，四十是四十。",
]
# (voice, words per minute, pitch 0-99)
ENGLISH_VOICES = [
    ("en-us", 150, 50),
    ("en-gb", 190, 30),
    ("en-us+f3", 170, 80),
    ("en-gb-x-rp+m3", 130, 40),
    ("en-us+f4", 220, 99),
]
MANDARIN_VOICES = [("cmn", 150, 50), ("cmn+f3", 190, 80), ("cmn+m3", 130, 30), ("cmn+f4", 170, 99)]


@dataclass(frozen=True)
class Clip:
    """One synthesised utterance at 8 kHz (float, espeak's own scale)."""

    name: str
    language: str
    samples: np.ndarray


def corpus_dir() -> Path:
    """Where synthesised speech is cached."""
    return Path(os.environ.get("CCBOARD_CORPUS_DIR", ROOT / "build" / "test-corpus"))


def espeak_clip(text: str, voice: str, speed_wpm: int, pitch: int) -> np.ndarray:
    """text spoken by espeak-ng, resampled to 8 kHz, int16; cached on disk by its parameters."""
    key = hashlib.sha256(f"{voice}|{speed_wpm}|{pitch}|{text}".encode()).hexdigest()[:20]
    path = corpus_dir() / f"{voice.replace('+', '_')}-{speed_wpm}-{pitch}-{key}.npy"
    if path.exists():
        return np.load(path)
    espeak = require_tool("espeak-ng", "espeak-ng")
    cmd = [espeak, "-v", voice, "-s", str(speed_wpm), "-p", str(pitch), "--stdout", text]
    wav = subprocess.run(cmd, check=True, capture_output=True).stdout
    with wave.open(io.BytesIO(wav)) as w:
        rate = w.getframerate()
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
    g = np.gcd(FS, rate)
    y = to_int16(resample_poly(raw, FS // g, rate // g))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, y)
    os.replace(tmp, path)
    return y


def speech_corpus() -> list[Clip]:
    """English and Mandarin speech, several voices, speeds and pitches (a few minutes in all)."""
    clips: list[Clip] = []
    for lang, texts, voices in (
        ("en", ENGLISH_TEXT, ENGLISH_VOICES),
        ("cmn", MANDARIN_TEXT, MANDARIN_VOICES),
    ):
        for v, (voice, wpm, pitch) in enumerate(voices):
            for t, text in enumerate(texts):
                if (t + v) % 2:
                    continue  # each voice reads every other text: a few minutes in all
                y = espeak_clip(text, voice, wpm, pitch)
                clips.append(Clip(f"{lang}:{voice}:{wpm}wpm:p{pitch}:t{t}", lang, y.astype(np.float64)))
    return clips


# ---- music-like signals ----

NOTE_A4 = 440.0


def note_hz(semitones_from_a4: float) -> float:
    """Equal-tempered note frequency."""
    return NOTE_A4 * 2.0 ** (semitones_from_a4 / 12.0)


def harmonic_note(
    n: int,
    f0: float,
    rng: np.random.Generator,
    *,
    vibrato_hz: float = 5.0,
    vibrato_cents: float = 20.0,
    harmonics: int = 8,
    decay_s: float = 1.5,
) -> np.ndarray:
    """A note with 1/k harmonics (below 3.8 kHz), vibrato, attack and exponential decay; peak ~1."""
    t = np.arange(n) / FS
    depth = 2.0 ** (vibrato_cents / 1200.0) - 1.0
    inst = f0 * (1.0 + depth * np.sin(2 * np.pi * vibrato_hz * t + rng.uniform(0, 2 * np.pi)))
    phase = 2 * np.pi * np.cumsum(inst) / FS
    x = np.zeros(n)
    for k in range(1, harmonics + 1):
        if k * f0 * (1 + depth) > 3800.0:
            break
        x += rng.uniform(0.6, 1.0) / k * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
    env = np.minimum(t / 0.02, 1.0) * np.exp(-t / decay_s)
    return x * env


def chord(notes_hz: list[float], dur_s: float, rng: np.random.Generator, **kw: float) -> np.ndarray:
    """Notes sounded together."""
    n = int(dur_s * FS)
    return sum((harmonic_note(n, f, rng, **kw) for f in notes_hz), np.zeros(n))


def arpeggio(
    notes_hz: list[float], note_s: float, rng: np.random.Generator, overlap: float = 0.5
) -> np.ndarray:
    """Notes one after another, each ringing on under the next by overlap of its length."""
    step = int(note_s * FS)
    ring = int(step * (1.0 + overlap))
    x = np.zeros(step * len(notes_hz) + ring)
    for i, f in enumerate(notes_hz):
        x[i * step : i * step + ring] += harmonic_note(ring, f, rng, decay_s=note_s)
    return x


def sweep(f_start: float, f_end: float, dur_s: float, harmonics: int = 1) -> np.ndarray:
    """Exponential sweep from f_start to f_end Hz, with 1/k harmonics up to 3.8 kHz."""
    t = np.arange(int(dur_s * FS)) / FS
    k_rate = np.log(f_end / f_start) / dur_s
    inst = f_start * np.exp(k_rate * t)
    phase = 2 * np.pi * np.cumsum(inst) / FS
    x = np.zeros_like(t)
    for k in range(1, harmonics + 1):
        x += np.where(k * inst < 3800.0, np.sin(k * phase) / k, 0.0)
    return x


def music_signals(seed: int = 7) -> list[tuple[str, np.ndarray]]:
    """Music-like test signals (float, arbitrary scale): chords, arpeggios, sweeps, DTMF-near notes."""
    rng = np.random.default_rng(seed)
    out: list[tuple[str, np.ndarray]] = []
    # triads and sevenths across the octaves that overlap the DTMF bands
    for root in (-12, -5, 0, 3, 7, 12, 15, 19):
        out.append((f"major-chord-{root}", chord([note_hz(root + s) for s in (0, 4, 7)], 2.0, rng)))
        out.append((f"minor7-chord-{root}", chord([note_hz(root + s) for s in (0, 3, 7, 10)], 2.0, rng)))
    # notes within ~1.5% of a DTMF frequency: F5 698.5 (697), G5 784 (770, 1.8%), E6 1318.5 (1336),
    # F#6 1480 (1477), G#6 1661 (1633, 1.7%); paired row+column like a digit, but with harmonics
    near = {"F5": 8.0, "G5": 10.0, "A5": 12.0, "E6": 19.0, "F#6": 21.0, "G#6": 23.0, "D6": 17.0}
    pairs = [("F5", "E6"), ("F5", "F#6"), ("G5", "E6"), ("G5", "G#6"), ("A5", "F#6"), ("F5", "D6")]
    for a, b in pairs:
        for vib in (0.0, 15.0):
            sig = chord([note_hz(near[a]), note_hz(near[b])], 2.0, rng, vibrato_cents=vib, decay_s=4.0)
            out.append((f"near-dtmf-{a}+{b}-vib{vib:g}", sig))
    # arpeggios (broken chords) in fast and slow tempos, C major scale up and down
    scale = [note_hz(s) for s in (3, 5, 7, 8, 10, 12, 14, 15, 17, 19, 20, 22, 24)]
    out.append(("scale-fast", arpeggio(scale + scale[::-1], 0.09, rng)))
    out.append(("scale-slow", arpeggio(scale + scale[::-1], 0.25, rng)))
    for root in (0, 8, 12):
        notes = [note_hz(root + s) for s in (0, 4, 7, 12, 16, 19, 24)]
        out.append((f"arpeggio-{root}", arpeggio(notes * 3, 0.12, rng)))
    # sweeps: pure, harmonic-rich, and a sweep over a held harmonic note
    out.append(("sweep-sine", sweep(200.0, 3800.0, 4.0)))
    out.append(("sweep-harmonic", sweep(100.0, 2000.0, 4.0, harmonics=10)))
    held = harmonic_note(int(4.0 * FS), note_hz(8.0), rng, decay_s=10.0)
    out.append(("sweep-over-F5", held + 0.5 * sweep(900.0, 1800.0, 4.0, harmonics=3)))
    return out
