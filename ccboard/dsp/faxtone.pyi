"""Fax/modem tones: CNG (1100 Hz), ANS/CED (2100 Hz), ANSam (15 Hz AM), with phase reversals.

Receiver events are numpy structured arrays of EVENT_DTYPE: channel (int32), kind (uint8: TONE,
REVERSAL, EC_DISABLE, END), tone (uint8: CNG, ANS, ANS_PR, ANSAM, ANSAM_PR), reversals (uint16),
start (int64: where the tone began; REVERSAL: where the reversal is), at (int64: decided),
freq_hz, level_dbm0, am_depth (0..1), duration_ms (float32). EC_DISABLE is the event an echo
canceller must act on (two reversals 450 +-25 ms apart). Audio is 8000 Hz int16 or G.711 octets.
"""

from typing import Literal

import numpy as np
import numpy.typing as npt

Law = Literal["linear", "alaw", "ulaw"]

BLOCK: int
CNG: int
ANS: int
ANS_PR: int
ANSAM: int
ANSAM_PR: int
TONE: int
REVERSAL: int
EC_DISABLE: int
END: int
TONE_NAMES: dict[int, str]
EVENT_DTYPE: np.dtype

class FaxToneReceiver:
    def __init__(
        self,
        law: Law = "linear",
        sample_rate: int = 8000,
        channel: int = 0,
        *,
        min_level_dbm0: float = -46.0,
        cng_tolerance_hz: float = 38.0,
        ans_tolerance_hz: float = 15.0,
        cng_min_ms: int = 400,
        ans_min_ms: int = 400,
        min_am_depth: float = 0.1,
    ) -> None: ...
    @property
    def samples(self) -> int: ...
    def process(self, x: npt.NDArray[np.int16] | npt.NDArray[np.uint8]) -> npt.NDArray[np.void]: ...
    def reset(self) -> None: ...
    def get_state(self) -> bytes: ...
    def set_state(self, state: bytes) -> None: ...

class FaxToneReceiverBank:
    def __init__(
        self,
        channels: int,
        law: Law = "linear",
        sample_rate: int = 8000,
        *,
        min_level_dbm0: float = -46.0,
        cng_tolerance_hz: float = 38.0,
        ans_tolerance_hz: float = 15.0,
        cng_min_ms: int = 400,
        ans_min_ms: int = 400,
        min_am_depth: float = 0.1,
    ) -> None: ...
    @property
    def channels(self) -> int: ...
    def process(self, x: npt.NDArray[np.int16] | npt.NDArray[np.uint8]) -> npt.NDArray[np.void]:
        """x: (channels, samples); events of all channels, by channel."""

class FaxToneGenerator:
    def __init__(
        self, tone: int, level_dbm0: float = -12.0, duration_ms: int = 0, sample_rate: int = 8000
    ) -> None: ...
    def generate(self, n: int, out: npt.NDArray[np.int16] | None = None) -> npt.NDArray[np.int16]: ...
    def reset(self) -> None: ...
