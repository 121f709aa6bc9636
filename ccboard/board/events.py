"""The board's typed event stream: what one tick reports to the layers above.

Every event carries `t`, the sample index (8 kHz, since the board started) at which it was
decided, and names the span or channel it concerns (DAHDI numbering: spans from 1, channels by
their global number `channo` from 1). Events are small frozen dataclasses; a tick returns them
in the order they happened, span/line events before DSP events of the same tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntFlag


class Alarm(IntFlag):
    """Span alarms, with DAHDI's bit values (DAHDI_ALARM_* in dahdi/user.h)."""

    NONE = 0
    RECOVER = 1 << 0
    LOOPBACK = 1 << 1
    YELLOW = 1 << 2  # RAI: the far end is in red alarm
    RED = 1 << 3  # local loss of frame or signal
    BLUE = 1 << 4  # AIS: all ones received
    NOTOPEN = 1 << 5
    LOS = 1 << 8  # no pulses at all
    LFA = 1 << 9  # loss of frame alignment
    LMFA = 1 << 10  # loss of multiframe alignment


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every board event; t is in samples since the board started."""

    t: int


@dataclass(frozen=True, slots=True)
class AlarmChanged(Event):
    """A span's alarm set changed: raised and cleared are the bits that appeared and went."""

    span: int
    alarms: Alarm
    raised: Alarm
    cleared: Alarm


@dataclass(frozen=True, slots=True)
class ChannelAlarm(Event):
    """A channel's alarms changed, as DAHDI's per-channel DAHDI_EVENT_ALARM / NOALARM: raised on
    every channel of a span that went into alarm, and on an analog port that lost its line."""

    channel: int
    alarms: Alarm


@dataclass(frozen=True, slots=True)
class HookChanged(Event):
    """Loop state seen on a channel: an FXS port sees the phone go off/on hook; an FXO port
    sees loop current appear/drop (offhook=True: loop closed / current flowing)."""

    channel: int
    offhook: bool


@dataclass(frozen=True, slots=True)
class HookFlash(Event):
    """A hook flash (on-hook for 100-700 ms) on an FXS port's phone."""

    channel: int


@dataclass(frozen=True, slots=True)
class RingChanged(Event):
    """Ringing voltage on an FXO port started (ringing=True) or stopped."""

    channel: int
    ringing: bool


@dataclass(frozen=True, slots=True)
class BitsChanged(Event):
    """CAS signalling bits received on a channel changed (ABCD in the low 4 bits, A = 8)."""

    channel: int
    bits: int


@dataclass(frozen=True, slots=True)
class Digit(Event):
    """A DTMF digit from the channel's receiver: kind 'on' (onset, for barge-in) or 'off' (end,
    with the duration); start/end are sample indices of the tone; levels in dBm0."""

    channel: int
    digit: str
    kind: str
    start: int
    end: int
    level_low: float
    level_high: float


@dataclass(frozen=True, slots=True)
class FrameReceived(Event):
    """An HDLC frame on a D-channel; ok=False when its FCS failed or it was aborted."""

    channel: int
    data: bytes
    ok: bool


@dataclass(frozen=True, slots=True)
class Overrun(Event):
    """The tick came late (real-time clock): `missed` ticks' worth of audio were lost or
    repeated on every channel of the board, which the DSP states see as a slip."""

    missed: int
