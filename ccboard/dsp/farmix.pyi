"""Far-end line mixer for the simulated board: far-end audio plus hybrid echo, G.711-coded.

Each line row (an E1/T1 timeslot or an analog port) sends, per 1 ms tick of 8 samples,
law(sat16(far + (tx[t - delay] * q15) >> 15)): the far end's own audio plus the echo of our tx
as the far end's hybrid returns it, `delay` ticks late and scaled by a Q15 factor (the echo
return loss; 0 = no echo), saturated to int16 and coded with the row's G.711 law. The mixer
keeps `hist_ticks` ticks of our tx per row in a ring; put_tx gives this tick's (a row not
given keeps what its slot held, hist_ticks ago: silence at first).
See native/include/ccboard/farmix.h.
"""

from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

TICK: int
MAX_ROWS: int
MAX_HIST: int
Q15_ONE: int

class FarMixer:
    def __init__(self, laws: Sequence[Literal["alaw", "ulaw"]], hist_ticks: int = 256) -> None: ...
    @property
    def rows(self) -> int: ...
    @property
    def hist_ticks(self) -> int: ...
    @property
    def ticks(self) -> int:
        """Ticks processed since construction or reset."""
    def set_echo(self, q15: npt.ArrayLike, delay: npt.ArrayLike) -> None:
        """Echo factor (Q15, 0..Q15_ONE) and delay (ticks, 1..hist_ticks-1) of every row."""
    def put_tx(self, tx: npt.NDArray[np.int16], rows: npt.NDArray[np.int64]) -> None:
        """Our tx of this tick: tx (n, 8), row i heard on line row rows[i]. Call before process()."""
    def process(self, far: npt.NDArray[np.int16], out: npt.NDArray[np.uint8]) -> None:
        """One tick: out (rows, 8) = the coded line octets; far (rows, 8); both packed."""
    def reset(self) -> None: ...
    def get_state(self) -> bytes: ...
    def set_state(self, state: bytes) -> None: ...
