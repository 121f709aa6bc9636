"""Prompts: audio read from WAV (PCM 8/16/24/32-bit, float, A-law, mu-law; any rate, converted to
8 kHz with scipy's polyphase resampler) or raw G.711, held as int16 linear at 8 kHz, and grouped
in prompt sets per language.

A Prompt is immutable audio; a PromptSet maps names ('welcome', 'one', '千') to prompts and joins
fragments into one utterance with short gaps.
"""

from __future__ import annotations

import struct
import wave
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from math import gcd
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from ccboard.dsp import g711
from ccboard.media import PromptFormatError, PromptNotFound

RATE = 8000  # samples per second
MS = RATE // 1000  # samples per ms
Law = Literal["alaw", "ulaw"]

# WAVE format tags (RFC 2361)
WAVE_PCM = 0x0001
WAVE_FLOAT = 0x0003
WAVE_ALAW = 0x0006
WAVE_MULAW = 0x0007
WAVE_EXTENSIBLE = 0xFFFE


@dataclass(frozen=True)
class Prompt:
    """Audio to play: int16 linear samples at 8 kHz (read-only)."""

    name: str
    samples: npt.NDArray[np.int16] = field(repr=False)

    def __post_init__(self) -> None:
        s = np.ascontiguousarray(self.samples, dtype=np.int16)
        s.setflags(write=False)
        object.__setattr__(self, "samples", s)

    @property
    def duration_ms(self) -> float:
        """Length in ms."""
        return self.samples.size / MS


def resample(x: npt.NDArray[np.float64], rate: int) -> npt.NDArray[np.float64]:
    """x at `rate` Hz to 8 kHz with scipy.signal.resample_poly (Kaiser-windowed FIR, anti-aliased)."""
    if rate == RATE:
        return x
    from scipy.signal import resample_poly  # type: ignore[import-untyped]

    g = gcd(int(rate), RATE)
    return np.asarray(resample_poly(x, RATE // g, int(rate) // g), np.float64)


def _to_int16(x: npt.NDArray[np.float64]) -> npt.NDArray[np.int16]:
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16)


def decode_g711(data: bytes | npt.NDArray[np.uint8], law: Law) -> npt.NDArray[np.int16]:
    """G.711 octets as sent on the line to int16 linear."""
    if law not in ("alaw", "ulaw"):
        raise PromptFormatError(f"law: {law!r} is not 'alaw' or 'ulaw'")
    octets = np.frombuffer(bytes(data), np.uint8) if isinstance(data, bytes | bytearray) else data
    octets = np.ascontiguousarray(octets, np.uint8)
    return (g711.alaw_decode if law == "alaw" else g711.ulaw_decode)(octets)


def encode_g711(x: npt.NDArray[np.int16], law: Law) -> npt.NDArray[np.uint8]:
    """int16 linear to G.711 octets."""
    x = np.ascontiguousarray(x, np.int16)
    return (g711.alaw_encode if law == "alaw" else g711.ulaw_encode)(x)


def read_raw_g711(path: str | Path, law: Law, name: str | None = None) -> Prompt:
    """A headerless file of 8 kHz G.711 octets (.alaw / .ulaw / .al / .ul) as a Prompt."""
    p = Path(path)
    return Prompt(name or p.stem, decode_g711(p.read_bytes(), law))


def _chunks(path: str, data: bytes) -> dict[bytes, bytes]:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise PromptFormatError(f"{path}: not a RIFF/WAVE file (header {data[:12]!r})")
    out: dict[bytes, bytes] = {}
    pos = 12
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = data[pos + 8 : pos + 8 + size]
        if cid == b"data" and len(body) < size:
            # a streamed WAV often leaves the size at 0xFFFFFFFF: take what is there
            body = data[pos + 8 :]
        out.setdefault(cid, body)
        pos += 8 + size + (size & 1)
    for need in (b"fmt ", b"data"):
        if need not in out:
            raise PromptFormatError(f"{path}: no {need.decode().strip()!r} chunk")
    return out


def read_wav(path: str | Path) -> npt.NDArray[np.int16]:
    """A WAV file as 8 kHz mono int16 (channels averaged, other rates resampled)."""
    p = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise PromptFormatError(f"{p}: {e.strerror}") from e
    ch = _chunks(p, data)
    fmt = ch[b"fmt "]
    if len(fmt) < 16:
        raise PromptFormatError(f"{p}: fmt chunk is {len(fmt)} bytes (16 at least)")
    tag, nch, rate, _, align, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == WAVE_EXTENSIBLE:
        if len(fmt) < 40:
            raise PromptFormatError(f"{p}: WAVE_FORMAT_EXTENSIBLE fmt chunk is {len(fmt)} bytes (40)")
        tag = struct.unpack_from("<H", fmt, 24)[0]  # first two bytes of the subformat GUID
    if nch < 1 or rate < 1:
        raise PromptFormatError(f"{p}: fmt says {nch} channels at {rate} Hz")
    raw = ch[b"data"]
    width = max(1, bits // 8) if tag in (WAVE_PCM, WAVE_FLOAT) else 1
    n = len(raw) // (width * nch)
    raw = raw[: n * width * nch]
    x: npt.NDArray[np.float64]
    if tag == WAVE_PCM and bits == 8:
        x = (np.frombuffer(raw, np.uint8).astype(np.float64) - 128.0) * 256.0
    elif tag == WAVE_PCM and bits == 16:
        x = np.frombuffer(raw, "<i2").astype(np.float64)
    elif tag == WAVE_PCM and bits == 24:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        x = v.astype(np.float64) / 256.0
    elif tag == WAVE_PCM and bits == 32:
        x = np.frombuffer(raw, "<i4").astype(np.float64) / 65536.0
    elif tag == WAVE_FLOAT and bits in (32, 64):
        x = np.frombuffer(raw, "<f4" if bits == 32 else "<f8").astype(np.float64) * 32768.0
    elif tag in (WAVE_ALAW, WAVE_MULAW) and bits == 8:
        octets = np.frombuffer(raw, np.uint8)
        x = decode_g711(octets, "alaw" if tag == WAVE_ALAW else "ulaw").astype(np.float64)
    else:
        raise PromptFormatError(f"{p}: format tag 0x{tag:04x} with {bits} bits per sample is not supported")
    if nch > 1:
        x = x.reshape(-1, nch).mean(axis=1)
    del align
    return _to_int16(resample(x, rate))


def write_wav(
    path: str | Path, samples: npt.NDArray[np.int16], coding: Literal["pcm16", Law] = "pcm16"
) -> None:
    """8 kHz mono WAV: PCM16 (wave module) or G.711 (format tag 6/7 with a fact chunk)."""
    x = np.ascontiguousarray(samples, np.int16)
    if coding == "pcm16":
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(x.astype("<i2").tobytes())
        return
    body = encode_g711(x, coding).tobytes()
    tag = WAVE_ALAW if coding == "alaw" else WAVE_MULAW
    fmt = struct.pack("<HHIIHHH", tag, 1, RATE, RATE, 1, 8, 0)
    fact = struct.pack("<I", len(body))
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"fact" + struct.pack("<I", 4) + fact
    chunks += b"data" + struct.pack("<I", len(body)) + body + (b"\0" if len(body) & 1 else b"")
    Path(path).write_bytes(b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks)


def load_prompt(path: str | Path, name: str | None = None) -> Prompt:
    """A prompt from a WAV file or a raw G.711 file (by extension: .alaw/.al, .ulaw/.ul/.mulaw)."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext in (".alaw", ".al"):
        return read_raw_g711(p, "alaw", name)
    if ext in (".ulaw", ".ul", ".mulaw", ".mu"):
        return read_raw_g711(p, "ulaw", name)
    return Prompt(name or p.stem, read_wav(p))


def trim_silence(x: npt.NDArray[np.int16], threshold: int = 300, keep_ms: int = 20) -> npt.NDArray[np.int16]:
    """x without leading/trailing samples below `threshold` (int16 scale), keeping keep_ms either side."""
    loud = np.flatnonzero(np.abs(x.astype(np.int32)) > threshold)
    if loud.size == 0:
        return x[:0]
    a = max(0, int(loud[0]) - keep_ms * MS)
    b = min(x.size, int(loud[-1]) + 1 + keep_ms * MS)
    return x[a:b]


class PromptSet:
    """The prompts of one language, by name; `utterance` joins fragments into one Prompt."""

    def __init__(self, language: str, prompts: Mapping[str, Prompt] | None = None, gap_ms: int = 40) -> None:
        self.language = language
        self.prompts: dict[str, Prompt] = dict(prompts or {})
        self.gap_ms = gap_ms

    @classmethod
    def from_dir(cls, language: str, folder: str | Path) -> PromptSet:
        """Every .wav / .alaw / .ulaw file of a folder, named by its stem."""
        d = Path(folder)
        if not d.is_dir():
            raise PromptFormatError(f"{d}: no such prompt folder for language {language!r}")
        out = cls(language)
        for f in sorted(d.iterdir()):
            if f.suffix.lower() in (".wav", ".alaw", ".al", ".ulaw", ".ul", ".mulaw"):
                out.add(load_prompt(f))
        return out

    def add(self, prompt: Prompt) -> None:
        self.prompts[prompt.name] = prompt

    def __contains__(self, key: object) -> bool:
        return key in self.prompts

    def __len__(self) -> int:
        return len(self.prompts)

    def get(self, key: str) -> Prompt:
        try:
            return self.prompts[key]
        except KeyError:
            raise PromptNotFound(f"prompt set {self.language!r}: no prompt {key!r}") from None

    def utterance(self, keys: Iterable[str], name: str = "", gap_ms: int | None = None) -> Prompt:
        """The named fragments one after the other, gap_ms of silence between them."""
        keys = list(keys)
        gap = np.zeros((self.gap_ms if gap_ms is None else gap_ms) * MS, np.int16)
        parts: list[npt.NDArray[np.int16]] = []
        for i, k in enumerate(keys):
            if i:
                parts.append(gap)
            parts.append(self.get(k).samples)
        x = np.concatenate(parts) if parts else np.zeros(0, np.int16)
        return Prompt(name or " ".join(keys), x)
