"""Tone generator: plays a libtonezone tone description (str, or Segments from tonezone.parse).

Output is int16 linear at 8000 Hz. Durations are exact to the sample; levels are dBm0 per
frequency (0 dBm0 = a sine of peak 32768 * 10^(-3.14/20)).
"""

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ccboard.dsp.tonezone import Segment

MAX_SEGMENTS: int

def segments_of(description: str | Sequence[Segment]) -> tuple[Segment, ...]:
    """A description as a checked tuple of Segment; ValueError naming what is wrong."""

class ToneGenerator:
    """Plays one description for ever, looping as libtonezone does."""

    def __init__(self, description: str | Sequence[Segment], sample_rate: int = 8000) -> None: ...
    @property
    def segments(self) -> tuple[Segment, ...]: ...
    @property
    def samples(self) -> int:
        """Samples generated since init/reset."""
    @property
    def segment(self) -> int:
        """Index of the segment sounding."""
    def generate(self, n: int, out: npt.NDArray[np.int16] | None = None) -> npt.NDArray[np.int16]: ...
    def reset(self) -> None: ...
    def get_state(self) -> bytes: ...
    def set_state(self, state: bytes) -> None: ...

class ToneGeneratorBank:
    """One description per channel; generate() fills a (channels, n) int16 array."""

    def __init__(self, descriptions: Sequence[str | Sequence[Segment]], sample_rate: int = 8000) -> None: ...
    @property
    def channels(self) -> int: ...
    def generate(self, n: int, out: npt.NDArray[np.int16] | None = None) -> npt.NDArray[np.int16]: ...
