"""A span: one E1 or T1 line, or a group of analog ports, as DAHDI presents it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from ccboard.board.channel import Channel
from ccboard.board.events import Alarm


class SpanKind(Enum):
    E1 = "E1"  # 2.048 Mb/s, 32 timeslots: TS0 framing, TS16 CAS or D-channel, 30 bearers
    T1 = "T1"  # 1.544 Mb/s, 24 channels, robbed-bit CAS or a D-channel on 24
    ANALOG = "analog"  # FXS/FXO ports


class Framing(Enum):
    CAS = "cas"  # E1 TS16 multiframe (ABCD per channel)
    CCS = "ccs"  # common channel: a D-channel (E1 TS16, T1 ch 24)
    D4 = "d4"  # T1 superframe, robbed bits A,B
    ESF = "esf"  # T1 extended superframe, robbed bits A,B,C,D, CRC-6
    NONE = "none"  # analog


class LineCode(Enum):
    HDB3 = "hdb3"
    B8ZS = "b8zs"
    AMI = "ami"
    NONE = "none"


@dataclass
class Counters:
    """Line error counters, as dahdi_spaninfo reports them (cumulative since the span started)."""

    slips: int = 0
    crc_errors: int = 0  # CRC-4 (E1) / CRC-6 (T1 ESF)
    framing_errors: int = 0  # FAS errors
    bpv: int = 0  # bipolar violations
    ebits: int = 0  # far-end CRC errors reported in E-bits (E1 CRC-4)


@dataclass
class Span:
    """A span and its channels. `number` counts from 1, like DAHDI's spans."""

    number: int
    name: str
    kind: SpanKind
    framing: Framing = Framing.NONE
    linecode: LineCode = LineCode.NONE
    crc4: bool = False
    timing: int = 0  # sync source priority from system.conf (0 = never a source)
    alarms: Alarm = Alarm.NONE
    counters: Counters = field(default_factory=Counters)
    channels: list[Channel] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the span is up: no alarm."""
        return self.alarms == Alarm.NONE
