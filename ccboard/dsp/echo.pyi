"""Line echo canceller (G.168) for 8000 Hz int16 linear audio.

rin is what was sent toward the line (the far end: the reference), sin what came back (echo plus
near end); process() returns sout, the send path with the echo removed. Tails are given in taps
(8 per ms): 256 = 32 ms, 512 = 64 ms, 1024 = 128 ms. Levels in dBm0 (0 dBm0 = a sine of peak 22767),
ratios in dB. Any split of the input into calls gives the same output, sample for sample.
"""

from typing import TypedDict

import numpy as np
import numpy.typing as npt

BLOCK: int
MAX_TAPS: int
MIN_TAPS: int
GROUP: int

class EchoStats(TypedDict):
    samples: int
    erl_db: float
    erle_db: float
    rin_dbm0: float
    sin_dbm0: float
    residual_dbm0: float
    noise_dbm0: float
    double_talk_count: int
    transfers: int
    rollbacks: int
    tone_disables: int
    double_talk: bool
    nlp: bool
    tone_disabled: bool
    bypass: bool

class EchoCanceller:
    """One channel. adapt/nlp/cng/hpf/tone_disable switch the features (all on by default);
    mu is the step (0 < mu <= 1), alpha the IPNLMS proportionality (-1 = NLMS .. 1), geigel_db the
    echo return loss the double-talk detector assumes (dB)."""

    def __init__(
        self,
        taps: int = 1024,
        sample_rate: int = 8000,
        *,
        adapt: bool = True,
        nlp: bool = True,
        cng: bool = True,
        hpf: bool = True,
        tone_disable: bool = True,
        mu: float = 0.5,
        alpha: float = 0.0,
        geigel_db: float = 3.0,
    ) -> None: ...
    @property
    def taps(self) -> int: ...
    @property
    def samples(self) -> int:
        """Samples consumed since init/reset."""
    @property
    def bypass(self) -> bool: ...
    @bypass.setter
    def bypass(self, on: bool) -> None: ...
    def process(
        self,
        rin: npt.NDArray[np.int16],
        sin: npt.NDArray[np.int16],
        out: npt.NDArray[np.int16] | None = None,
    ) -> npt.NDArray[np.int16]:
        """Cancel one block (1-D, C-contiguous, equal lengths); out may be sin itself."""
    def reset(self) -> None: ...
    def stats(self) -> EchoStats: ...
    def get_state(self) -> bytes: ...
    def set_state(self, state: bytes) -> None: ...

class EchoCancellerBank:
    """Cancellers for many channels: (channels x samples) buffers, one call per 1 ms chunk for a
    whole board; the GIL is released for the whole batch."""

    def __init__(
        self,
        channels: int,
        taps: int = 1024,
        sample_rate: int = 8000,
        *,
        adapt: bool = True,
        nlp: bool = True,
        cng: bool = True,
        hpf: bool = True,
        tone_disable: bool = True,
        mu: float = 0.5,
        alpha: float = 0.0,
        geigel_db: float = 3.0,
    ) -> None: ...
    @property
    def channels(self) -> int: ...
    def process(
        self,
        rin: npt.NDArray[np.int16],
        sin: npt.NDArray[np.int16],
        out: npt.NDArray[np.int16] | None = None,
    ) -> npt.NDArray[np.int16]:
        """Cancel one (channels x samples) block; out may be sin itself."""
    def reset(self, channel: int | None = None) -> None: ...
    def set_bypass(self, channel: int, on: bool) -> None: ...
    def stats(self, channel: int) -> EchoStats: ...
    def get_state(self, channel: int) -> bytes: ...
    def set_state(self, channel: int, state: bytes) -> None: ...
