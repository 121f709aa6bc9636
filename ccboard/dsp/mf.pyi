"""MF R1 and MFC/R2 receiver (single channel and bank) and generator over numpy buffers.

Modes: 'r1' (Bell MF, 700..1700 Hz), 'r2_fwd' (1380..1980 Hz), 'r2_bwd' (1140..540 Hz). Signals
are numbered 1..15 (Q.441 pair order); symbols: R1 "1234567890CA*B#" (KP '*', ST '#'), R2
"1234567890BCDEF". Audio is 8000 Hz: int16 linear, or uint8 G.711 octets ('alaw' / 'ulaw').
Events are numpy structured arrays of EVENT_DTYPE, one row per event:
  channel (int32), signal (uint8, 1..15), symbol (S1), kind (uint8: ON=1, OFF=2), mode (uint8),
  level_low / level_high (float32, dBm0 of the lower / higher tone, measured at onset),
  start (int64, sample where the pair began), end (int64, one past its end; -1 on ON),
  at (int64, sample at which the event was decided).
Sample indices count from the receiver's init or last reset.
"""

from typing import Literal, TypedDict

import numpy as np
import numpy.typing as npt

Law = Literal["linear", "alaw", "ulaw"]
Mode = Literal["r1", "r2_fwd", "r2_bwd"]

class Variant(TypedDict):
    id: int
    r2: bool
    level_dbm0: float
    on_ms: int
    kp_ms: int
    off_ms: int
    source: str

ON: int
OFF: int
BLOCK: int
MODES: dict[str, int]
EVENT_DTYPE: np.dtype
VARIANTS: dict[str, Variant]

def symbol(mode: Mode, signal: int) -> str:
    """The symbol of signal 1..15 ('' if out of range)."""

def freqs(mode: Mode, signal: int) -> tuple[float, float]:
    """(lower, higher) tone frequencies in Hz of signal 1..15."""

class MfReceiver:
    """One channel's receiver. Settings (None = the mode's default): min_level_dbm0,
    max_level_dbm0, twist_adjacent_db, twist_db, third_tone_db, freq_tolerance_hz,
    freq_tolerance_pct, min_tone_fraction_db (dB, dBm0, Hz, %), min_on_ms, min_on_kp_ms (ms)."""

    def __init__(
        self,
        mode: Mode = "r2_fwd",
        law: Law = "linear",
        sample_rate: int = 8000,
        channel: int = 0,
        **settings: float | int | None,
    ) -> None: ...
    @property
    def mode(self) -> Mode: ...
    @property
    def law(self) -> Law: ...
    @property
    def channel(self) -> int: ...
    @property
    def samples(self) -> int:
        """Samples consumed since init/reset."""
    @property
    def current(self) -> int:
        """The signal in progress (1..15), 0 if none."""
    def process(self, x: npt.NDArray[np.int16] | npt.NDArray[np.uint8]) -> npt.NDArray[np.void]:
        """Feed a 1-D C-contiguous block (int16 for 'linear', uint8 otherwise); return its events."""
    def reset(self) -> None: ...
    def get_state(self) -> bytes: ...
    def set_state(self, state: bytes) -> None: ...

class MfReceiverBank:
    """Receivers for many channels fed by one (channels x samples) buffer per call; the GIL is
    released for the whole batch. Channel ids are 0..channels-1 unless channel_ids is given."""

    def __init__(
        self,
        channels: int,
        mode: Mode = "r2_fwd",
        law: Law = "linear",
        sample_rate: int = 8000,
        *,
        channel_ids: npt.ArrayLike | None = None,
        **settings: float | int | None,
    ) -> None: ...
    @property
    def channels(self) -> int: ...
    @property
    def law(self) -> Law: ...
    def process(self, x: npt.NDArray[np.int16] | npt.NDArray[np.uint8]) -> npt.NDArray[np.void]:
        """x: shape (channels, samples), rows C-contiguous. Events of all channels, by channel."""
    def reset(self, channel: int | None = None) -> None: ...
    def current(self, channel: int) -> int: ...

class MfGenerator:
    """R1: queued symbols with durations (put). R2 compelled: start(signal) ... stop(), no fixed
    duration. Levels in dBm0 per tone (lower / higher frequency), times in ms; defaults from the
    variant row ('r1' for R1, 'r2_itu' for R2; 'r2_china' also available)."""

    def __init__(
        self,
        mode: Mode = "r2_fwd",
        sample_rate: int = 8000,
        *,
        variant: str | None = None,
        level_low_dbm0: float | None = None,
        level_high_dbm0: float | None = None,
        on_ms: int | None = None,
        kp_ms: int | None = None,
        off_ms: int | None = None,
    ) -> None: ...
    @property
    def mode(self) -> Mode: ...
    @property
    def pending(self) -> int:
        """Signals queued or sounding (a started signal counts as 1)."""
    @property
    def current(self) -> int:
        """The signal sounding (1..15), 0 if silent."""
    @property
    def samples(self) -> int:
        """Samples generated since init/reset."""
    def put(
        self,
        symbols: str,
        *,
        on_ms: int | None = None,
        kp_ms: int | None = None,
        off_ms: int | None = None,
        level_low_dbm0: float | None = None,
        level_high_dbm0: float | None = None,
    ) -> None:
        """Queue symbols; ValueError naming the bad symbol or setting, nothing queued then."""
    def start(
        self, signal: int, *, level_low_dbm0: float | None = None, level_high_dbm0: float | None = None
    ) -> None:
        """Sound signal 1..15 from the next generated sample until stop() (drops the queue)."""
    def stop(self) -> None:
        """Silence from the next generated sample (drops the queue)."""
    def generate(self, n: int, out: npt.NDArray[np.int16] | None = None) -> npt.NDArray[np.int16]:
        """The next n samples (silence when idle)."""
    def reset(self) -> None: ...
    def get_state(self) -> bytes: ...
    def set_state(self, state: bytes) -> None: ...

def symbols(events: npt.NDArray[np.void]) -> str:
    """The symbols of the ON events, in order."""
