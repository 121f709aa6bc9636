"""TDM switch (time-slot interchange) over numpy planes.

Slots are numbered 0..slots-1 in one flat space; each has a law fixed at construction:
'alaw' / 'ulaw' (uint8 G.711 octets as on the line) or 'linear' (int16). Audio comes in two
(slots, samples) planes: `octets` (uint8 rows used by the G.711 slots) and `linear` (int16 rows
used by the linear slots); a plane's other rows are ignored on input and left as they are
(zeros in a freshly allocated output) on output. 8000 Hz.

Latency is exactly one chunk (`chunk` samples, 8 = 1 ms): what a slot reads in chunk k is
written in chunk k+1. connect / disconnect / set_gain are queued, O(1) each, and applied
together at the next chunk boundary; a gain change on a kept connection ramps across that
chunk. A destination with no source carries silence (0, A-law 0xD5, mu-law 0xFF). Octets move
untouched between slots of one law at 0 dB; otherwise they are transcoded (G.711 Tables 3/4),
decoded, encoded, or decoded-scaled-encoded with float32 gain, rounding half to even and
saturating at int16.
"""

from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

Law = Literal["linear", "alaw", "ulaw"]

MAX_SLOTS: int
MAX_CHUNK: int
MIN_GAIN_DB: float
MAX_GAIN_DB: float

def gain_factor(gain_db: float) -> float:
    """The linear factor applied for gain_db (computed in float32 by the native kernel)."""

class TdmSwitch:
    """A time-slot interchange over len(laws) slots (1..MAX_SLOTS)."""

    def __init__(self, laws: Sequence[Law], chunk: int = 8, sample_rate: int = 8000) -> None: ...
    @property
    def slots(self) -> int: ...
    @property
    def chunk(self) -> int:
        """Samples per chunk: the latency, and the granularity of changes."""
    @property
    def laws(self) -> tuple[Law, ...]: ...
    @property
    def connections(self) -> int:
        """Connections in the map in use (a two-way connection counts twice)."""
    @property
    def pending(self) -> int:
        """Destinations with a change (or a gain ramp) waiting for the next chunk boundary."""
    @property
    def samples(self) -> int:
        """Samples processed since construction or reset."""
    def connect(self, src: int, dst: int, gain_db: float = 0.0, *, two_way: bool = False) -> None:
        """From the next chunk dst hears src at gain_db (dB); two_way: src hears dst too."""
    def disconnect(self, dst: int, *, two_way: bool = False) -> None:
        """From the next chunk dst hears nothing; two_way: its source stops hearing dst too."""
    def set_gain(self, dst: int, gain_db: float) -> None:
        """New gain (dB) on dst's connection, ramped over the next chunk."""
    def disconnect_all(self) -> None: ...
    def source(self, dst: int, pending: bool = False) -> int | None:
        """dst's source in the map in use (pending: after the queued changes), None if none."""
    def gain_db(self, dst: int, pending: bool = False) -> float: ...
    def routes(self, pending: bool = False) -> npt.NDArray[np.int32]:
        """The source of every slot, -1 where none."""
    def process(
        self,
        octets: npt.NDArray[np.uint8] | None = None,
        linear: npt.NDArray[np.int16] | None = None,
        *,
        out_octets: npt.NDArray[np.uint8] | None = None,
        out_linear: npt.NDArray[np.int16] | None = None,
    ) -> tuple[npt.NDArray[np.uint8] | None, npt.NDArray[np.int16] | None]:
        """Switch one block: planes of shape (slots, samples), rows C-contiguous; outputs must not
        overlap inputs. A plane is required when some slot uses it. Returns (out_octets, out_linear)."""
    def reset(self) -> None: ...
    def get_state(self) -> bytes: ...
    def set_state(self, state: bytes) -> None: ...
