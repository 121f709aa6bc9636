"""The call progress tones of every zone Debian's libtonezone ships, read through cffi (never retyped).

`zones()` lists the country codes in libtonezone's `builtin_zones[]`; `zone(code)` gives one zone's
description, ring cadence and tone descriptions; `parse(text)` turns a description into segments for
the generator (ccboard.dsp.tone) and the call progress analyser (ccboard.dsp.cpa).

Description syntax (libtonezone tonezone.c): comma-separated segments `[!]f1[+f2|*f2][@][/ms]`;
`f1+f2` sums two tones, `f1*f2` modulates f1 by f2, `@` plays it about 10.5 dB lower (gain 0.3),
`/ms` is the duration (none = for ever), `!` = played once, not part of the loop. Every tone is built
at -10 dBm0 per frequency (libtonezone's LEVEL with the 3.14 dB reference).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from ccboard.errors import DSPArgumentError

# libtonezone tonezone.c: LEVEL -10 (dBm0 per tone), '@' multiplies the gain by 0.3.
LEVEL_DBM0 = -10.0
QUIET_DB = 20.0 * math.log10(0.3)

# Our names for DAHDI_TONE_* ids (values come from dahdi/user.h through the cffi module).
TONE_NAMES = {
    "dial": "DAHDI_TONE_DIALTONE",
    "busy": "DAHDI_TONE_BUSY",
    "ringback": "DAHDI_TONE_RINGTONE",
    "congestion": "DAHDI_TONE_CONGESTION",
    "callwait": "DAHDI_TONE_CALLWAIT",
    "dialrecall": "DAHDI_TONE_DIALRECALL",
    "record": "DAHDI_TONE_RECORDTONE",
    "info": "DAHDI_TONE_INFO",
    "stutter": "DAHDI_TONE_STUTTER",
}

# Anchored at the start only: libtonezone reads each segment with sscanf, which ignores what
# follows a match (one zone ships "!400/100!0/100", a missing comma, read as "!400/100").
_SEGMENT = re.compile(r"^(!?)(\d+)(?:([+*])(\d+))?(@*)(?:/(\d+))?")


@dataclass(frozen=True)
class Segment:
    """One segment: frequencies in Hz (0 = none), levels in dBm0, duration in ms (0 = for ever)."""

    f1_hz: float
    f2_hz: float
    level1_dbm0: float
    level2_dbm0: float
    ms: int
    modulate: bool
    once: bool


@dataclass(frozen=True)
class Zone:
    """One libtonezone zone: tones as description strings by our name (missing = not defined)."""

    code: str
    number: int
    description: str
    ring_cadence_ms: tuple[int, ...]
    tones: dict[str, str]
    dtmf_high_dbm0: int
    dtmf_low_dbm0: int
    mfr1_dbm0: int
    mfr2_dbm0: int

    def segments(self, tone: str) -> tuple[Segment, ...]:
        """The parsed description of one tone; KeyError-free: unknown or absent names raise ValueError."""
        if tone not in TONE_NAMES:
            raise DSPArgumentError(f"tone: {tone!r} is not one of {sorted(TONE_NAMES)}")
        if tone not in self.tones:
            raise DSPArgumentError(f"tone: zone {self.code!r} defines no {tone!r} tone")
        return parse(self.tones[tone])


def _lib() -> tuple[Any, Any]:
    """The cffi module built by _tonezone_build.py (ffi, lib)."""
    from ccboard.dsp._tonezone import ffi, lib  # type: ignore[import-not-found]

    return ffi, lib


def _alias(f: float) -> float:
    """The frequency an 8 kHz oscillator set to f plays (th ships '10000/400': DAHDI plays 2000 Hz)."""
    f = f % 8000.0
    return 8000.0 - f if f > 4000.0 else f


def parse(text: str) -> tuple[Segment, ...]:
    """Parse a tone description; ValueError naming the segment that does not parse."""
    if not isinstance(text, str) or not text:
        raise DSPArgumentError(f"text: {text!r} is not a tone description")
    out = []
    for i, part in enumerate(text.split(",")):
        m = _SEGMENT.match(part.strip())
        if m is None:
            raise DSPArgumentError(f"text: segment {i} {part!r} of {text!r} does not parse")
        bang, f1, op, f2, quiet, ms = m.groups()
        level = LEVEL_DBM0 + (QUIET_DB if quiet else 0.0)
        f1v, f2v = _alias(float(f1)), _alias(float(f2)) if f2 else 0.0
        out.append(Segment(f1v, f2v, level, level, int(ms) if ms else 0, op == "*", bool(bang)))
    return tuple(out)


@cache
def zones() -> tuple[str, ...]:
    """Country codes of every zone libtonezone ships, in its order."""
    ffi, lib = _lib()
    codes = []
    i = 0
    while lib.builtin_zones[i].zone != -1:
        codes.append(ffi.string(lib.builtin_zones[i].country).decode())
        i += 1
    return tuple(codes)


@cache
def zone(code: str) -> Zone:
    """One zone by country code ('us', 'de', 'uk', 'cn', ...); ValueError if libtonezone lacks it."""
    if not isinstance(code, str) or code not in zones():
        raise DSPArgumentError(f"code: {code!r} is not a libtonezone zone ({', '.join(zones())})")
    ffi, lib = _lib()
    z = lib.tone_zone_find(code.encode())
    by_id = {getattr(lib, macro): name for name, macro in TONE_NAMES.items()}
    tones = {}
    for i in range(lib.DAHDI_TONE_MAX):
        sound = z.tones[i]
        data = ffi.string(sound.data).decode()
        if data and sound.toneid in by_id:
            tones[by_id[sound.toneid]] = data
    cadence = tuple(int(v) for v in z.ringcadence if v)
    return Zone(
        code=ffi.string(z.country).decode(),
        number=int(z.zone),
        description=ffi.string(z.description).decode(),
        ring_cadence_ms=cadence,
        tones=tones,
        dtmf_high_dbm0=int(z.dtmf_high_level),
        dtmf_low_dbm0=int(z.dtmf_low_level),
        mfr1_dbm0=int(z.mfr1_level),
        mfr2_dbm0=int(z.mfr2_level),
    )
