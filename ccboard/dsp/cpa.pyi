"""Call progress analysis for any libtonezone zone: dial tone, ringback (counted), busy, congestion,
SIT (which one), no answer, answered by voice, answered by fax/modem.

Events are numpy structured arrays of EVENT_DTYPE: channel (int32), kind (uint8, KIND_NAMES),
code (uint8: SIT code (SIT_NAMES); FAX 1 = 1100 Hz, 2 = 2100 Hz; LEARNT bit for cadences the
zone does not list), count (uint16, rings so far), start (int64: where the evidence began),
at (int64: the sample at which it was decided), on_ms / off_ms (float32, last cadence segments
measured), level_dbm0, freq_hz. Audio is 8000 Hz int16 or G.711 octets.
"""

from typing import Literal

import numpy as np
import numpy.typing as npt

Law = Literal["linear", "alaw", "ulaw"]

BLOCK: int
DIAL: int
RINGBACK: int
BUSY: int
CONGESTION: int
SIT: int
NO_ANSWER: int
VOICE: int
FAX: int
LEARNT: int
KIND_NAMES: dict[int, str]
SIT_NAMES: dict[int, str]
ZONE_TONES: tuple[str, ...]
EVENT_DTYPE: np.dtype

class CallProgress:
    """zone: a libtonezone country code, or None with tones={name: description} (names from ZONE_TONES);
    tones also overrides a zone's. Levels in dBm0, times in ms, jitter in %."""

    def __init__(
        self,
        zone: str | None = "us",
        law: Law = "linear",
        sample_rate: int = 8000,
        channel: int = 0,
        *,
        tones: dict[str, str] | None = None,
        min_level_dbm0: float = -36.0,
        voice_level_dbm0: float = -42.0,
        jitter_pct: float = 10.0,
        dial_ms: int = 1000,
        voice_ms: int = 300,
        fax_ms: int = 500,
        no_answer_ms: int = 30000,
        learn: bool = True,
    ) -> None: ...
    @property
    def samples(self) -> int: ...
    @property
    def rings(self) -> int: ...
    def process(self, x: npt.NDArray[np.int16] | npt.NDArray[np.uint8]) -> npt.NDArray[np.void]: ...
    def reset(self) -> None: ...
    def get_state(self) -> bytes: ...
    def set_state(self, state: bytes) -> None: ...

class CallProgressBank:
    def __init__(
        self,
        channels: int,
        zone: str | None = "us",
        law: Law = "linear",
        sample_rate: int = 8000,
        *,
        tones: dict[str, str] | None = None,
        min_level_dbm0: float = -36.0,
        voice_level_dbm0: float = -42.0,
        jitter_pct: float = 10.0,
        dial_ms: int = 1000,
        voice_ms: int = 300,
        fax_ms: int = 500,
        no_answer_ms: int = 30000,
        learn: bool = True,
    ) -> None: ...
    @property
    def channels(self) -> int: ...
    def process(self, x: npt.NDArray[np.int16] | npt.NDArray[np.uint8]) -> npt.NDArray[np.void]:
        """x: (channels, samples); events of all channels, by channel."""
    def reset(self, channel: int | None = None) -> None: ...
