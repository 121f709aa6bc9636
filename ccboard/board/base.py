"""The board: spans and channels, and the 1 ms tick that moves all their audio at once.

One tick (8 samples per channel) does, for the whole board:
  1. encode what the layers above wrote to `tx` (int16, one row per channel) to the line law;
  2. the backend's `_exchange`: send the tx octets, fetch 8 rx octets per channel, and report
     the line events of that millisecond (alarms, hook, ring, CAS bits, HDLC frames);
  3. decode rx to `rx` (int16) and run the batch DSP kernels once over all voice channels
     (today the DTMF receiver), turning their output into events.
Rows are ordered A-law voice channels, then mu-law voice channels, then the rest, so each group
is one contiguous slice and the batch kernels work on views, never copies.

Backends (`sim`, `dahdi`) subclass Board and implement `_exchange` and the line controls; code
above this layer uses only what is defined here, so it cannot tell them apart.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from types import TracebackType

import numpy as np
import numpy.typing as npt

from ccboard.board.channel import Channel
from ccboard.board.clock import SAMPLES_PER_TICK, Clock, per_tick
from ccboard.board.events import (
    AlarmChanged,
    BitsChanged,
    ChannelAlarm,
    Digit,
    Event,
    HookChanged,
    Overrun,
    RingChanged,
)
from ccboard.board.span import Span
from ccboard.dsp import dtmf, g711
from ccboard.errors import BoardError

IDLE_OCTET = {"alaw": 0xD5, "ulaw": 0xFF}
# the DTMF receiver's event record, in order (the tick unpacks it as tuples)
_DTMF_FIELDS = ("channel", "digit", "kind", "duration_ms", "start", "end", "at", "level_low", "level_high")


class Board(ABC):
    """A board's spans and channels, its audio arrays and its tick."""

    def __init__(self, spans: Sequence[Span]) -> None:
        self.spans = list(spans)
        voice_a = [c for s in self.spans for c in s.channels if c.signalling.is_voice and c.law == "alaw"]
        voice_u = [c for s in self.spans for c in s.channels if c.signalling.is_voice and c.law == "ulaw"]
        rest = [c for s in self.spans for c in s.channels if not c.signalling.is_voice]
        self.channels: list[Channel] = voice_a + voice_u + rest
        for i, ch in enumerate(self.channels):
            ch.index = i
        self._by_channo = {c.channo: c for c in self.channels}
        if len(self._by_channo) != len(self.channels):
            raise BoardError("two channels share a channel number")
        self._alaw = slice(0, len(voice_a))
        self._ulaw = slice(len(voice_a), len(voice_a) + len(voice_u))
        self._voice = slice(0, len(voice_a) + len(voice_u))
        n = len(self.channels)
        self.t = 0  # samples since the board started
        self.rx: npt.NDArray[np.int16] = np.zeros((n, SAMPLES_PER_TICK), np.int16)
        self.tx: npt.NDArray[np.int16] = np.zeros((n, SAMPLES_PER_TICK), np.int16)
        self.rx_line: npt.NDArray[np.uint8] = np.zeros((n, SAMPLES_PER_TICK), np.uint8)
        self.tx_line: npt.NDArray[np.uint8] = np.zeros((n, SAMPLES_PER_TICK), np.uint8)
        for ch in self.channels:
            self.tx_line[ch.index] = IDLE_OCTET.get(ch.law, 0xFF)
        ids = np.array([c.channo for c in self.channels[self._voice]], dtype=np.int64)
        self._dtmf = dtmf.DtmfReceiverBank(len(ids), "linear", channel_ids=ids) if len(ids) else None
        self._dtmf_on = int(dtmf.ON)
        if dtmf.EVENT_DTYPE.names != _DTMF_FIELDS:
            raise BoardError(f"DTMF event fields {dtmf.EVENT_DTYPE.names} are not {_DTMF_FIELDS}")

    # -- lookup -------------------------------------------------------------------------------

    def channel(self, channo: int) -> Channel:
        """The channel with DAHDI number channo."""
        try:
            return self._by_channo[channo]
        except KeyError:
            raise BoardError(f"channel {channo}: no such channel on this board") from None

    def span(self, number: int) -> Span:
        """The span with DAHDI number `number` (from 1)."""
        for s in self.spans:
            if s.number == number:
                return s
        raise BoardError(f"span {number}: no such span on this board")

    # -- the tick -----------------------------------------------------------------------------

    def tick(self) -> list[Event]:
        """Move one millisecond of audio for every channel; return what happened in it."""
        if self._alaw.stop > self._alaw.start:
            g711.alaw_encode(self.tx[self._alaw], self.tx_line[self._alaw])
        if self._ulaw.stop > self._ulaw.start:
            g711.ulaw_encode(self.tx[self._ulaw], self.tx_line[self._ulaw])
        events = self._exchange(self.tx_line, self.rx_line)
        for ev in events:
            self._apply(ev)
        if self._alaw.stop > self._alaw.start:
            g711.alaw_decode(self.rx_line[self._alaw], self.rx[self._alaw])
        if self._ulaw.stop > self._ulaw.start:
            g711.ulaw_decode(self.rx_line[self._ulaw], self.rx[self._ulaw])
        self.t += self.rx.shape[1]  # 8 samples, or a whole driver block (dahdi.py's tick=)
        if self._dtmf is not None:
            found = self._dtmf.process(self.rx[self._voice])
            # tolist(): one tuple per event in EVENT_DTYPE's field order; indexing a numpy record
            # by field name costs microseconds (it tries the name as an integer index first)
            for channel, digit, kind, _ms, start, end, at, low, high in found.tolist() if len(found) else ():
                events.append(
                    Digit(
                        t=at,
                        channel=channel,
                        digit=digit.decode(),
                        kind="on" if kind == self._dtmf_on else "off",
                        start=start,
                        end=end,
                        level_low=low,
                        level_high=high,
                    )
                )
        return events

    @property
    def tick_ms(self) -> int:
        """Board ms per tick: 1, or a whole driver block on the DAHDI backend's `tick=N`."""
        return int(self.rx.shape[1]) // SAMPLES_PER_TICK

    def run(self, clock: Clock, handler: Callable[[list[Event]], None], ticks: int | None = None) -> None:
        """Tick on the beat of `clock` (1 ms ticks; a tick of N ms waits N of them), handing each
        tick's events to handler (which must not block)."""
        wait = per_tick(clock, self.tick_ms).wait_next
        done = 0
        while ticks is None or done < ticks:
            missed = wait()
            events = self.tick()
            if missed:
                events.insert(0, Overrun(t=self.t, missed=missed))
            handler(events)
            done += 1

    def _apply(self, ev: Event) -> None:
        """Keep the model's line state in step with what the backend reported."""
        if isinstance(ev, AlarmChanged):
            self.span(ev.span).alarms = ev.alarms
        elif isinstance(ev, HookChanged):
            self.channel(ev.channel).offhook = ev.offhook
        elif isinstance(ev, RingChanged):
            self.channel(ev.channel).ringing = ev.ringing
        elif isinstance(ev, BitsChanged):
            self.channel(ev.channel).rx_bits = ev.bits
        elif isinstance(ev, ChannelAlarm):
            self.channel(ev.channel).alarms = ev.alarms

    # -- the backend --------------------------------------------------------------------------

    @abstractmethod
    def _exchange(self, tx_line: npt.NDArray[np.uint8], rx_line: npt.NDArray[np.uint8]) -> list[Event]:
        """Send tx_line's octets (one row of 8 per channel), fill rx_line with the next 8
        received, and return the line events of this millisecond (t = self.t + 8)."""

    @abstractmethod
    def set_tx_bits(self, channo: int, bits: int) -> None:
        """Send CAS bits ABCD (low 4 bits, A = 8) on a CAS channel."""

    @abstractmethod
    def set_hook(self, channo: int, offhook: bool) -> None:
        """FXO port: seize/answer (True) or release (False) the line."""

    @abstractmethod
    def set_ring(self, channo: int, ringing: bool) -> None:
        """FXS port: apply (True) or remove ringing voltage; the cadence is the caller's."""

    @abstractmethod
    def send_frame(self, channo: int, data: bytes) -> None:
        """Queue an HDLC frame on a D-channel (the FCS is added on the way out)."""

    @abstractmethod
    def close(self) -> None:
        """Release the backend's resources (files, threads); the board is unusable after."""

    def __enter__(self) -> Board:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
