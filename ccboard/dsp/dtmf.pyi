"""DTMF receiver (single channel and bank) and generator over numpy buffers.

Audio is 8000 Hz: int16 linear, or uint8 G.711 octets ('alaw' / 'ulaw') as on the line.
Events are numpy structured arrays of EVENT_DTYPE, one row per event:
  channel (int32), digit (S1: b'0'..b'9', b'*', b'#', b'A'..b'D'), kind (uint8: ON=1, OFF=2),
  duration_ms (uint16, OFF events: end - start in ms; 0 on ON),
  start (int64, sample where the tone began), end (int64, one past its end; -1 on ON),
  at (int64, sample at which the event was decided), level_low / level_high (float32, dBm0).
Sample indices count from the receiver's init or last reset.
"""

from typing import Literal

import numpy as np
import numpy.typing as npt

Law = Literal["linear", "alaw", "ulaw"]

ON: int
OFF: int
BLOCK: int
EVENT_DTYPE: np.dtype

class DtmfReceiver:
    """One channel's receiver. Keyword settings as cc_dtmf_rx_config_t (dB, dBm0, %)."""

    def __init__(
        self,
        law: Law = "linear",
        sample_rate: int = 8000,
        channel: int = 0,
        *,
        min_level_dbm0: float = -40.0,
        normal_twist_db: float = 9.0,
        reverse_twist_db: float = 5.0,
        freq_tolerance_pct: float = 2.3,
        min_tone_fraction_db: float = -1.0,
        max_harmonic_db: float = -15.0,
    ) -> None: ...
    @property
    def law(self) -> Law: ...
    @property
    def channel(self) -> int: ...
    @property
    def samples(self) -> int:
        """Samples consumed since init/reset."""
    @property
    def current(self) -> str:
        """The digit in progress, or ''."""
    def process(self, x: npt.NDArray[np.int16] | npt.NDArray[np.uint8]) -> npt.NDArray[np.void]:
        """Feed a 1-D C-contiguous block (int16 for 'linear', uint8 otherwise); return its events."""
    def reset(self) -> None: ...
    def get_state(self) -> bytes: ...
    def set_state(self, state: bytes) -> None: ...

class DtmfReceiverBank:
    """Receivers for many channels fed by one (channels x samples) buffer per call; the GIL is
    released for the whole batch. Channel ids are 0..channels-1 unless channel_ids is given."""

    def __init__(
        self,
        channels: int,
        law: Law = "linear",
        sample_rate: int = 8000,
        *,
        channel_ids: npt.ArrayLike | None = None,
        min_level_dbm0: float = -40.0,
        normal_twist_db: float = 9.0,
        reverse_twist_db: float = 5.0,
        freq_tolerance_pct: float = 2.3,
        min_tone_fraction_db: float = -1.0,
        max_harmonic_db: float = -15.0,
    ) -> None: ...
    @property
    def channels(self) -> int: ...
    @property
    def law(self) -> Law: ...
    def process(self, x: npt.NDArray[np.int16] | npt.NDArray[np.uint8]) -> npt.NDArray[np.void]:
        """x: shape (channels, samples), rows C-contiguous. Events of all channels, by channel."""
    def reset(self, channel: int | None = None) -> None: ...
    def current(self, channel: int) -> str: ...

class DtmfGenerator:
    """Queued digits to tone pairs. Levels in dBm0 per tone, times in ms."""

    def __init__(
        self,
        sample_rate: int = 8000,
        *,
        level_low_dbm0: float = -10.0,
        level_high_dbm0: float = -10.0,
        on_ms: int = 50,
        off_ms: int = 55,
    ) -> None: ...
    @property
    def pending(self) -> int:
        """Digits queued or still sounding (their off time included)."""
    def put(
        self,
        digits: str,
        *,
        on_ms: int | None = None,
        off_ms: int | None = None,
        level_low_dbm0: float | None = None,
        level_high_dbm0: float | None = None,
    ) -> None:
        """Queue digits; ValueError naming the bad digit or setting, nothing queued then."""
    def generate(self, n: int, out: npt.NDArray[np.int16] | None = None) -> npt.NDArray[np.int16]:
        """The next n samples (silence when idle)."""
    def reset(self) -> None: ...

def digits(events: npt.NDArray[np.void]) -> str:
    """The digits of the ON events, in order."""
