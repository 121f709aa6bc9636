"""Caller ID (FSK Bell 202 / V.23, DTMF) receiver, receiver bank and generator over numpy buffers.

Audio is 8000 Hz: int16 linear, or uint8 G.711 octets ('alaw' / 'ulaw') as on the line.
Standards: 'bell202' (CLASS, mark 1200 / space 2200 Hz), 'v23' (ETSI CLIP, 1300 / 2100 Hz),
'dtmf' (DTMF CLIP: A<number>C, D<number>C, <number>#, D1#, ...). FSK messages are octets as on
the line without the checksum: type, length, body. Sample positions count from init/reset.
"""

from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Law = Literal["linear", "alaw", "ulaw"]
Standard = Literal["bell202", "v23", "dtmf"]
Timing = Literal["between_rings", "before_first_ring"]

STANDARDS: dict[str, int]
MSG_MAX: int
MSG_DTYPE: np.dtype[Any]
SDMF_CALLERID: int
MDMF_CALLERID: int
SDMF_MSG_WAITING: int
MDMF_MSG_WAITING: int
PARAM_DATETIME: int
PARAM_NUMBER: int
PARAM_NUMBER_ABSENT: int
PARAM_NAME: int
PARAM_NAME_ABSENT: int
TIMINGS: dict[str, tuple[int, int]]
RING_GAP_AFTER_MS: int

class Message:
    """One received message. kind: 'sdmf', 'mdmf', 'sdmf-mwi', 'mdmf-mwi', 'other' or 'dtmf';
    when: 'MMDDHHMM'; number_absent / name_absent: 'P' (private) or 'O' (out of area/unavailable);
    start: sample of its first start bit or digit; at: sample where it was decided;
    level_dbm0: FSK tone level or the first digit's low tone; status: 'ok' or 'unterminated'."""

    channel: int
    standard: Standard
    status: Literal["ok", "unterminated"]
    start: int
    at: int
    level_dbm0: float
    data: bytes
    kind: str
    msg_type: int | None
    number: str | None
    name: str | None
    when: str | None
    number_absent: str | None
    name_absent: str | None
    fields: list[tuple[int, bytes]]
    def __init__(
        self, channel: int, standard: str, status: str, start: int, at: int, level_dbm0: float, data: bytes
    ) -> None: ...

def parse_fields(data: bytes) -> list[tuple[int, bytes]]:
    """FSK message octets -> [(parameter type, value)]; SDMF gives [(0, body)]."""

def sdmf(number: str = "", when: str = "", absent: str | None = None) -> bytes:
    """SDMF (0x04): MMDDHHMM then the number, or 'P'/'O' when absent."""

def mdmf(
    *,
    number: str | None = None,
    name: str | None = None,
    when: str | None = None,
    number_absent: str | None = None,
    name_absent: str | None = None,
    msg_type: int = ...,
) -> bytes:
    """MDMF (0x80 by default) with the given parameters."""

def dtmf_message(
    number: str | None = None, *, start: str = "A", end: str = "C", absent: str | None = None
) -> str:
    """A DTMF caller-ID string such as 'A8613800138C', '4015551234#', 'D1#', 'AB10C'."""

def schedule(timing: Timing, samples: int) -> tuple[int, int]:
    """(start, end) sample of a message on the line from the end of the first ring
    ('between_rings') or from the line reversal ('before_first_ring'); ValueError if it does not fit."""

class CallerIdReceiver:
    """One channel's receiver; messages come back as a tuple of Message (usually empty)."""

    def __init__(
        self,
        standard: Standard = "bell202",
        law: Law = "linear",
        sample_rate: int = 8000,
        channel: int = 0,
        *,
        min_level_dbm0: float = -45.0,
        dtmf_timeout_ms: int = 1000,
    ) -> None: ...
    @property
    def standard(self) -> Standard: ...
    @property
    def law(self) -> Law: ...
    @property
    def samples(self) -> int: ...
    @property
    def pending(self) -> int:
        """Octets or digits of the message being received."""
    @property
    def framing_errors(self) -> int: ...
    @property
    def checksum_errors(self) -> int: ...
    def process(self, x: npt.NDArray[np.int16] | npt.NDArray[np.uint8]) -> tuple[Message, ...]: ...
    def reset(self) -> None: ...
    def get_state(self) -> bytes: ...
    def set_state(self, state: bytes) -> None: ...

class CallerIdReceiverBank:
    """Receivers for many channels (ids 0..channels-1); x: (channels, samples), rows C-contiguous;
    the GIL is released for the whole batch."""

    def __init__(
        self,
        channels: int,
        standard: Standard = "bell202",
        law: Law = "linear",
        sample_rate: int = 8000,
        *,
        min_level_dbm0: float = -45.0,
        dtmf_timeout_ms: int = 1000,
    ) -> None: ...
    @property
    def channels(self) -> int: ...
    def process(self, x: npt.NDArray[np.int16] | npt.NDArray[np.uint8]) -> tuple[Message, ...]: ...
    def reset(self) -> None: ...

class CallerIdGenerator:
    """One message at a time as int16 line audio. Levels in dBm0; baud_error_pct, freq_error_pct
    and twist_db (space louder than mark, dB) are test aids."""

    def __init__(
        self,
        standard: Standard = "bell202",
        sample_rate: int = 8000,
        *,
        level_dbm0: float | None = None,
        seizure_bits: int = 300,
        mark_bits: int = 180,
        stop_bits: int = 1,
        postamble_bits: int = 5,
        dtmf_on_ms: int = 60,
        dtmf_off_ms: int = 60,
        baud_error_pct: float = 0.0,
        freq_error_pct: float = 0.0,
        twist_db: float = 0.0,
    ) -> None: ...
    @property
    def standard(self) -> Standard: ...
    @property
    def remaining(self) -> int:
        """Samples still to come for the queued message."""
    def put(self, message: bytes | str) -> None:
        """FSK: bytes (type, length, body); DTMF: the digits as str."""
    def generate(
        self, n: int | None = None, out: npt.NDArray[np.int16] | None = None
    ) -> npt.NDArray[np.int16]:
        """The next n samples (all that remain when n is None); silence once idle."""
    def reset(self) -> None: ...

def generate(message: bytes | str, standard: Standard = "bell202", **settings: Any) -> npt.NDArray[np.int16]:
    """The line audio of one message from a fresh generator with these settings."""
