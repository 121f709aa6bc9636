"""A channel: one timeslot or analog port, numbered like DAHDI (channo from 1, board-wide)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ccboard.board.events import Alarm


class Signalling(Enum):
    """How the channel signals, with system.conf's names. DAHDI names analog signalling by the
    device at the other end: fxs* signalling runs on an FXO port (it talks to an exchange's FXS),
    fxo* signalling on an FXS port (it feeds a phone)."""

    FXSLS = "fxsls"  # FXO port, loop start
    FXSKS = "fxsks"  # FXO port, kewl start
    FXOLS = "fxols"  # FXS port, loop start
    FXOKS = "fxoks"  # FXS port, kewl start
    CAS = "cas"  # E1/T1 channel-associated signalling (ABCD bits): MFC/R2, E&M
    EM = "e&m"  # T1 E&M wink/immediate
    CLEAR = "clear"  # bearer with no in-band signalling (ISDN B-channel): bchan=
    DCHAN = "dchan"  # HDLC D-channel: dchan= / hardhdlc=
    UNUSED = "unused"

    @property
    def is_voice(self) -> bool:
        """Carries audio (and so gets the DSP: DTMF, ...)."""
        return self not in (Signalling.DCHAN, Signalling.UNUSED)

    @property
    def is_fxo_port(self) -> bool:
        return self in (Signalling.FXSLS, Signalling.FXSKS)

    @property
    def is_fxs_port(self) -> bool:
        return self in (Signalling.FXOLS, Signalling.FXOKS)


@dataclass
class Channel:
    """A channel's identity and its line state as last reported by the board.

    `index` is the channel's row in the board's audio arrays (rx/tx, shape channels x 8).
    """

    channo: int
    span: int
    chanpos: int
    signalling: Signalling
    law: str  # 'alaw' or 'ulaw'
    index: int = 0
    offhook: bool = False  # FXS port: the phone is off hook; FXO port: we hold the line
    ringing: bool = False  # FXS port: we ring the phone; FXO port: ringing voltage seen
    rx_bits: int = 0  # CAS ABCD received
    tx_bits: int = 0  # CAS ABCD sent
    alarms: Alarm = Alarm.NONE  # the channel's own view of its span's (or port's) alarms
    name: str = ""

    def __str__(self) -> str:
        return self.name or f"channel {self.channo} (span {self.span}/{self.chanpos})"
