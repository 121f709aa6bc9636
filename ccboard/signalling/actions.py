"""What signalling machines return (actions for the driver to carry out on the channel) and the
few inputs they take that are not board events (MF signals, progress tones, caller ID).

Actions carry no channel: a machine belongs to one channel and its driver knows which.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ccboard.signalling.call import Call

# -- actions -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Action:
    """Base of every action."""


@dataclass(frozen=True, slots=True)
class SetBits(Action):
    """Send CAS bits ABCD (low 4 bits, A = 8)."""

    bits: int


@dataclass(frozen=True, slots=True)
class StartTone(Action):
    """Start sounding MF R2 signal 1..15 (forward or backward set, by `mode`) until StopTone."""

    signal: int
    mode: str  # 'r2_fwd' or 'r2_bwd'


@dataclass(frozen=True, slots=True)
class StopTone(Action):
    """Stop the MF signal sounding (silence from the next sample)."""


@dataclass(frozen=True, slots=True)
class ListenMf(Action):
    """Start (mode 'r2_fwd' / 'r2_bwd') or stop (mode '') feeding MF signals to the machine."""

    mode: str


@dataclass(frozen=True, slots=True)
class SetHook(Action):
    """FXO port: close (True) or open the loop."""

    offhook: bool


@dataclass(frozen=True, slots=True)
class Ring(Action):
    """FXS port: ringing voltage on or off (the machine keeps the cadence)."""

    on: bool


@dataclass(frozen=True, slots=True)
class PlayDigits(Action):
    """Send DTMF digits (tone on_ms, gap off_ms)."""

    digits: str
    on_ms: int = 80
    off_ms: int = 80


@dataclass(frozen=True, slots=True)
class PlayProgress(Action):
    """Play a call progress tone of the zone ('dial', 'busy', 'congestion', 'ringback'), or stop
    ('') -- the media layer's tone generator, reached through the driver's on_progress seam."""

    kind: str


@dataclass(frozen=True, slots=True)
class SendCallerId(Action):
    """FXS port: send caller ID (number, name) now, between rings."""

    number: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class CallEvent(Action):
    """Tell the application: `kind` is a CallState value ('seized', 'offered', 'answered',
    'released', ...) or one of 'digits', 'flash', 'blocked', 'unblocked', 'protocol-error';
    `detail` says why (for a release: what happened on the line)."""

    kind: str
    call: Call | None
    cause: int | None = None
    detail: str = ""


# -- inputs that are not board events ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MfSignal:
    """An MF R2 signal 1..15 started (on=True) or ended, from the channel's receiver."""

    signal: int
    on: bool


@dataclass(frozen=True, slots=True)
class ProgressTone:
    """The tone engine heard call progress: kind 'dial', 'busy', 'congestion', 'ringback'."""

    kind: str
    on: bool = True


@dataclass(frozen=True, slots=True)
class CallerIdReceived:
    """A caller ID message decoded on an FXO port (between rings)."""

    number: str
    name: str = ""
    redirecting: str = ""
    restricted: bool = False


@dataclass(frozen=True, slots=True)
class DigitsDone:
    """The driver finished playing the digits of a PlayDigits."""
