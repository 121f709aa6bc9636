"""E1 framing (ITU-T G.704 2.3, G.706 4, G.732 5) for many spans per call.

A tick (1 ms) of `spans` E1 lines is a C-contiguous uint8 array (spans, 32, 8) indexed
[span, timeslot, frame]: 8 frames of 32 timeslots, one CRC-4 sub-multiframe. The framer writes
TS0 (FAS/NFAS, CRC-4 C bits, multiframe M bits, RAI A bit, E bits) and TS16 (CAS multiframe)
around the payload; the deframer reads a tick and keeps, per span, frame / CRC-4 multiframe /
CAS multiframe alignment, the alarms (LOS, AIS, out of frame, RAI, LMFA), the counters and the
ABCD bits. Its reports are read-only numpy views of the native state, current after every
process(). See native/include/ccboard/e1.h for the rules and figures.
"""

import numpy as np
import numpy.typing as npt

TIMESLOTS: int
FRAMES: int
MAX_SPANS: int
STATUS_DTYPE: np.dtype[np.void]
"""One span's report: los, ais, in_frame, yellow, lmfa, mf_aligned, cas_aligned, red (bool),
e_out (2 x uint8), fas_errors, crc_errors, ebit_errors (int64), rx_bits, raw_bits (32 x uint8)."""

def crc4(frames: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """CRC-4 (0..15, C1 = bit 3) of each span's tick (spans, 32, 8), C bits taken as zero."""

class E1Deframer:
    """The receive side of `spans` E1 lines. crc4 / cas: per span, whether it carries CRC-4 /
    TS16 CAS. Starts out of frame; alignment is found from the bits."""

    status: npt.NDArray[np.void]
    los: npt.NDArray[np.bool_]
    ais: npt.NDArray[np.bool_]
    in_frame: npt.NDArray[np.bool_]
    yellow: npt.NDArray[np.bool_]
    lmfa: npt.NDArray[np.bool_]
    mf_aligned: npt.NDArray[np.bool_]
    cas_aligned: npt.NDArray[np.bool_]
    red: npt.NDArray[np.bool_]
    """LOS or out of frame: what this end's framer reports as RAI."""
    e_out: npt.NDArray[np.uint8]
    """(spans, 2): E1, E2 this end's framer sends back (1 = that SMF had no CRC-4 error)."""
    fas_errors: npt.NDArray[np.int64]
    crc_errors: npt.NDArray[np.int64]
    ebit_errors: npt.NDArray[np.int64]
    rx_bits: npt.NDArray[np.uint8]
    """(spans, 32): ABCD per timeslot once read the same on two multiframes running."""
    raw_bits: npt.NDArray[np.uint8]
    changed: npt.NDArray[np.intp]
    """(k, 2) rows of (span, timeslot) whose rx_bits changed in the last tick."""
    dirty: bool
    """Set when a counter changed; the owner clears it after reading the counters."""

    def __init__(self, spans: int, crc4: npt.ArrayLike, cas: npt.ArrayLike) -> None: ...
    @property
    def spans(self) -> int: ...
    @property
    def quiet(self) -> bool:
        """Every span in frame with no alarm (LOS, AIS, RAI, LMFA) after the last tick."""
    def process(self, frames: npt.NDArray[np.uint8]) -> None:
        """Read one received tick (spans, 32, 8)."""
    def reset(self) -> None: ...
    def get_state(self) -> bytes: ...
    def set_state(self, state: bytes) -> None: ...

class E1Framer:
    """The transmit side of `spans` E1 lines; phase 1 starts on SMF II. ABCD idle 1001."""

    def __init__(self, spans: int, crc4: npt.ArrayLike, cas: npt.ArrayLike, phase: int = 0) -> None: ...
    @property
    def spans(self) -> int: ...
    def set_bits(self, span: int, ts: int, bits: int) -> None:
        """ABCD (low 4 bits) for timeslot ts of span index `span`, from the next tick."""
    @property
    def tx_bits(self) -> npt.NDArray[np.uint8]:
        """(spans, 32) ABCD being sent, a copy."""
    def set_ais(self, span: int, on: bool) -> None:
        """Send AIS (unframed all ones) on the span, or frames again."""
    @property
    def ais(self) -> npt.NDArray[np.bool_]: ...
    def build(
        self, frames: npt.NDArray[np.uint8], rx: E1Deframer | None = None, rai: npt.ArrayLike | None = None
    ) -> None:
        """Write TS0/TS16 of this tick into frames around the payload already there. rx: this
        end's deframer of the same spans (its red alarm -> our RAI, its E bits sent back);
        rai: per span, force RAI."""
    def reset(self) -> None: ...
    def get_state(self) -> bytes: ...
    def set_state(self, state: bytes) -> None: ...
