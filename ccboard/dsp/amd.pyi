"""Answering-machine detection after answer (Asterisk app_amd's rules and defaults) and the beep
at the end of a greeting.

Audio is 8000 Hz: int16 linear, or uint8 G.711 octets. Events are numpy structured arrays of
EVENT_DTYPE: channel (int32), kind (RESULT=1 / BEEP=2), result (index into RESULTS), cause (index
into CAUSES), words, at (sample decided, from answer), start (BEEP: onset sample; RESULT: first
voice sample or -1), total_ms, voice_ms, silence_ms, freq_hz and level_dbm0 (BEEP).
Settings (keyword, ms unless stated): initial_silence_ms=2500, greeting_ms=1500,
after_greeting_silence_ms=800, total_analysis_ms=5000, min_word_ms=100, between_words_silence_ms=50,
max_words=2, silence_threshold=256 (mean |x|, int16 scale), max_word_ms=5000, frame_ms=20,
detect_beep=True, beep_min_ms=100, beep_min_hz=400.0, beep_max_hz=2000.0,
beep_min_level_dbm0=-40.0, beep_purity_db=-10.0, beep_max_wait_ms=60000.
"""

from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Law = Literal["linear", "alaw", "ulaw"]

RESULT: int
BEEP: int
RESULTS: tuple[str, ...]
CAUSES: tuple[str, ...]
SETTINGS: tuple[tuple[str, Any, Any, Any, bool], ...]
EVENT_DTYPE: np.dtype[Any]

class AnsweringMachineDetector:
    """One call's detector, created (or reset) at answer."""

    def __init__(
        self, law: Law = "linear", sample_rate: int = 8000, channel: int = 0, **settings: Any
    ) -> None: ...
    @property
    def law(self) -> Law: ...
    @property
    def samples(self) -> int: ...
    @property
    def result(self) -> str:
        """'' until decided, then 'HUMAN', 'MACHINE' or 'NOTSURE'."""
    def process(self, x: npt.NDArray[np.int16] | npt.NDArray[np.uint8]) -> npt.NDArray[np.void]: ...
    def reset(self) -> None: ...
    def get_state(self) -> bytes: ...
    def set_state(self, state: bytes) -> None: ...

class AnsweringMachineDetectorBank:
    """Detectors for many calls; x: (channels, samples), rows C-contiguous; GIL released."""

    def __init__(
        self, channels: int, law: Law = "linear", sample_rate: int = 8000, **settings: Any
    ) -> None: ...
    @property
    def channels(self) -> int: ...
    def process(self, x: npt.NDArray[np.int16] | npt.NDArray[np.uint8]) -> npt.NDArray[np.void]: ...
    def reset(self, channel: int | None = None) -> None: ...

def describe(event: np.void) -> str:
    """A one-line description of one event row."""
