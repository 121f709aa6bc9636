"""HDLC framing for D-channels (Q.921 LAPD): flags, bit stuffing, aborts, FCS-16 (CRC-16/X.25).

Line octets are uint8 arrays as a DAHDI D-channel hands them over (8 per 1 ms tick at 64 kb/s),
bit 0 of each octet first on the line. Frames are given and returned as bytes without the FCS.
Positions count line bits from the receiver's or transmitter's init or last reset.
"""

from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

Idle = Literal["flags", "mark"]

OK: int
BAD_FCS: int
ABORT: int
TOO_LONG: int
TOO_SHORT: int
NON_OCTET: int
STATUS_NAMES: dict[int, str]
MAX_FRAME: int
Q921_MAX: int
Q921_MIN: int
TX_QUEUE_OCTETS: int
TX_QUEUE_FRAMES: int

class HdlcFrame(NamedTuple):
    """A received frame. data: octets (OK/BAD_FCS: without the FCS; else every whole octet received);
    status: OK ... NON_OCTET; position: line bit at which it was decided (closing flag's last bit)."""

    channel: int
    data: bytes
    status: int
    position: int

class HdlcRxStats(NamedTuple):
    good: int
    bad_fcs: int
    aborts: int
    too_long: int
    too_short: int
    non_octet: int
    octets: int
    """Octets in good frames, without the FCS."""

class HdlcTxStats(NamedTuple):
    frames: int
    aborts: int
    underruns: int
    octets: int

class HdlcReceiver:
    """One D-channel's receiver. min_len/max_len: octets without the FCS (Q.921: 3 and 264);
    report_bad=False counts bad frames without returning them."""

    def __init__(
        self, channel: int = 0, *, min_len: int = 3, max_len: int = 264, report_bad: bool = True
    ) -> None: ...
    @property
    def channel(self) -> int: ...
    @property
    def position(self) -> int:
        """Line bits consumed since init/reset."""
    @property
    def stats(self) -> HdlcRxStats: ...
    def process(self, x: npt.NDArray[np.uint8]) -> list[HdlcFrame]:
        """Feed 1-D C-contiguous line octets; return the frames they closed."""
    def process_bits(self, x: npt.NDArray[np.uint8], nbits: int) -> list[HdlcFrame]:
        """Feed the first nbits line bits of x (x[0] bit 0 first)."""
    def reset(self) -> None: ...
    def get_state(self) -> bytes: ...
    def set_state(self, state: bytes) -> None: ...

class HdlcReceiverBank:
    """Receivers for many D-channels fed by one (channels x octets) buffer per call, GIL released."""

    def __init__(
        self,
        channels: int,
        *,
        channel_ids: npt.ArrayLike | None = None,
        min_len: int = 3,
        max_len: int = 264,
        report_bad: bool = True,
    ) -> None: ...
    @property
    def channels(self) -> int: ...
    def process(self, x: npt.NDArray[np.uint8]) -> list[HdlcFrame]:
        """x: shape (channels, octets), rows C-contiguous. Frames of all channels, by channel."""
    def stats(self, channel: int) -> HdlcRxStats: ...
    def reset(self, channel: int | None = None) -> None: ...

class HdlcTransmitter:
    """One D-channel's transmitter: min_flags flags between frames (1 = shared flag), idle as
    flags or mark (all ones), frames up to max_len octets (without the FCS)."""

    def __init__(self, *, min_flags: int = 1, idle: Idle = "flags", max_len: int = 264) -> None: ...
    @property
    def pending(self) -> int:
        """Frames queued, the one being sent included."""
    @property
    def space(self) -> int:
        """Free octets in the queue."""
    @property
    def position(self) -> int:
        """Line bits generated since init/reset."""
    @property
    def stats(self) -> HdlcTxStats: ...
    def put(self, frame: bytes | bytearray | memoryview, *, more: bool = False) -> None:
        """Queue a frame (more=True: the next put continues it; if it runs dry on the line it is
        aborted). ValueError if longer than max_len; DSPError (code CC_ERR_SPACE) if the queue is full."""
    def abort(self) -> bool:
        """Abort the frame being sent; False if none was."""
    def generate(self, n: int, out: npt.NDArray[np.uint8] | None = None) -> npt.NDArray[np.uint8]:
        """The next n line octets."""
    def generate_bits(self, nbits: int) -> npt.NDArray[np.uint8]:
        """The next nbits line bits, packed bit 0 first ((nbits + 7) // 8 octets, unused bits 0)."""
    def reset(self) -> None: ...
    def get_state(self) -> bytes: ...
    def set_state(self, state: bytes) -> None: ...

class HdlcTransmitterBank:
    """Transmitters for many D-channels, generating one (channels x octets) buffer per call."""

    def __init__(
        self, channels: int, *, min_flags: int = 1, idle: Idle = "flags", max_len: int = 264
    ) -> None: ...
    @property
    def channels(self) -> int: ...
    def put(self, channel: int, frame: bytes | bytearray | memoryview, *, more: bool = False) -> None: ...
    def abort(self, channel: int) -> bool: ...
    def pending(self, channel: int) -> int: ...
    def stats(self, channel: int) -> HdlcTxStats: ...
    def generate(self, n: int, out: npt.NDArray[np.uint8] | None = None) -> npt.NDArray[np.uint8]:
        """The next n line octets of every channel, shape (channels, n)."""
    def reset(self, channel: int | None = None) -> None: ...
