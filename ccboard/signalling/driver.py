"""Drivers: the only place where signalling machines meet a line.

ChannelDriver runs one machine on one channel: it hands the machine the channel's events and
`now` (ms), carries out the returned actions on a Port (the board's line controls: CAS bits,
hook, ring), runs the in-band parts (MF R2 receiver and generator, MF R1 receiver and queued
generator for E&M addresses, DTMF generator, caller ID through an optional seam) over the
channel's audio, and calls on_timeout when next_deadline() comes. BoardDriver does that for
every channel of a Board, once per 1 ms tick.

Caller ID: the machines only see CallerIdReceived / emit SendCallerId. The codec is a seam
(CallerIdCodec); by default none is used, so FXO calls carry no caller ID and SendCallerId is
dropped (counted in ChannelDriver.dropped).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from ccboard.board.events import BitsChanged, ChannelAlarm, Digit, Event, HookChanged, HookFlash, RingChanged
from ccboard.dsp import dtmf, mf
from ccboard.signalling.actions import (
    Action,
    CallerIdReceived,
    CallEvent,
    DigitsDone,
    ListenMf,
    MfSignal,
    PlayDigits,
    PlayProgress,
    Ring,
    SendCallerId,
    SetBits,
    SetHook,
    StartTone,
    StopTone,
)
from ccboard.signalling.call import CallMachine
from ccboard.signalling.em import PlayMf

SAMPLES_PER_MS = 8


class Port(Protocol):
    """The line controls a driver needs (Board has them)."""

    def set_tx_bits(self, channo: int, bits: int) -> None: ...
    def set_hook(self, channo: int, offhook: bool) -> None: ...
    def set_ring(self, channo: int, ringing: bool) -> None: ...


class CallerIdDecoder(Protocol):
    def process(self, x: npt.NDArray[np.int16]) -> list[CallerIdReceived]: ...


class CallerIdCodec(Protocol):
    """The caller ID seam: an encoder for FXS ports and decoders for FXO ports."""

    def encode(self, number: str, name: str) -> npt.NDArray[np.int16]: ...
    def decoder(self) -> CallerIdDecoder: ...


class ChannelDriver:
    """One machine on one channel. `inbox` collects the machine's CallEvents for the application
    (or `on_event` is called with each)."""

    def __init__(
        self,
        machine: CallMachine,
        channo: int,
        port: Port,
        *,
        mf_variant: str = "r2_itu",
        callerid: CallerIdCodec | None = None,
        on_event: Callable[[CallEvent], None] | None = None,
        on_progress: Callable[[str], None] | None = None,
    ) -> None:
        self.on_progress = on_progress
        self.machine = machine
        self.channo = channo
        self.port = port
        self.mf_variant = mf_variant
        self.callerid = callerid
        self.on_event = on_event
        self.inbox: list[CallEvent] = []
        self.mf_gen: mf.MfGenerator | None = None
        self.mf_rx: mf.MfReceiver | None = None
        self.mf_rx_t0 = 0  # board sample at which mf_rx was reset
        self.dtmf_gen: dtmf.DtmfGenerator | None = None
        self.r1_gen: mf.MfGenerator | None = None  # MF R1 address (E&M), queued symbols
        self.cid_tx: npt.NDArray[np.int16] | None = None  # caller ID samples still to send
        self.cid_rx: CallerIdDecoder | None = None
        self.dropped = 0
        self._wrote = False
        self.deadline = machine.next_deadline()

    # -- running the machine ---------------------------------------------------------------------

    def execute(self, actions: Iterable[Action], now: float) -> None:
        """Carry out a machine's actions at `now` (ms)."""
        for a in actions:
            if isinstance(a, SetBits):
                self.port.set_tx_bits(self.channo, a.bits)
            elif isinstance(a, StartTone):
                if self.mf_gen is None or self.mf_gen.mode != a.mode:
                    self.mf_gen = mf.MfGenerator(a.mode, variant=self.mf_variant)  # type: ignore[arg-type]
                self.mf_gen.start(a.signal)
            elif isinstance(a, StopTone):
                if self.mf_gen is not None:
                    self.mf_gen.stop()
            elif isinstance(a, ListenMf):
                if a.mode:
                    self.mf_rx = mf.MfReceiver(a.mode)  # type: ignore[arg-type]
                    self.mf_rx_t0 = -1  # set by the first block it hears
                else:
                    self.mf_rx = None
            elif isinstance(a, SetHook):
                self.port.set_hook(self.channo, a.offhook)
                if self.callerid is not None and not a.offhook:
                    self.cid_rx = self.callerid.decoder()
            elif isinstance(a, Ring):
                self.port.set_ring(self.channo, a.on)
            elif isinstance(a, PlayDigits):
                if self.dtmf_gen is None:
                    self.dtmf_gen = dtmf.DtmfGenerator()
                self.dtmf_gen.put(a.digits, on_ms=a.on_ms, off_ms=a.off_ms)
            elif isinstance(a, PlayMf):
                if self.r1_gen is None:
                    self.r1_gen = mf.MfGenerator("r1", variant="r1")
                self.r1_gen.put(a.symbols)
            elif isinstance(a, PlayProgress):
                if self.on_progress is None:
                    self.dropped += 1
                else:
                    self.on_progress(a.kind)
            elif isinstance(a, SendCallerId):
                if self.callerid is None:
                    self.dropped += 1
                else:
                    self.cid_tx = self.callerid.encode(a.number, a.name)
            elif isinstance(a, CallEvent):
                if self.on_event is not None:
                    self.on_event(a)
                else:
                    self.inbox.append(a)
        self.deadline = self.machine.next_deadline()

    def feed(self, event: object, now: float) -> None:
        """Hand one input to the machine and carry out what it returns."""
        self.execute(self.machine.handle(event, now), now)

    def do(self, op: str, now: float, *args: Any, **kwargs: Any) -> None:
        """Run a call operation (answer, dial, hangup, ...) and carry out its actions."""
        self.execute(getattr(self.machine, op)(*args, now=now, **kwargs), now)

    def poll(self, now: float) -> None:
        """Run the machine's timers if one is due."""
        while self.deadline is not None and self.deadline <= now:
            self.execute(self.machine.on_timeout(now), now)

    # -- audio -----------------------------------------------------------------------------------

    @property
    def busy_audio(self) -> bool:
        """The driver has in-band work on this channel (MF, DTMF, caller ID)."""
        return (
            self.mf_rx is not None
            or (self.mf_gen is not None and self.mf_gen.current != 0)
            or (self.dtmf_gen is not None and self.dtmf_gen.pending > 0)
            or (self.r1_gen is not None and self.r1_gen.pending > 0)
            or self.cid_tx is not None
            or self.cid_rx is not None
            or self._wrote
        )

    def audio(self, rx: npt.NDArray[np.int16], tx: npt.NDArray[np.int16], t0: int) -> None:
        """One block: rx heard from sample t0 (board samples); tx (same length) is overwritten
        when we send tones. MF and caller ID inputs are fed to the machine at their own times."""
        n = rx.shape[0]
        if self.mf_rx is not None:
            if self.mf_rx_t0 < 0:
                self.mf_rx_t0 = t0
            rx_ = self.mf_rx
            for e in rx_.process(np.ascontiguousarray(rx)):
                if self.mf_rx is not rx_:
                    break  # the machine stopped listening on an earlier event of this block
                at = (self.mf_rx_t0 + int(e["at"])) / SAMPLES_PER_MS
                self.feed(MfSignal(int(e["signal"]), int(e["kind"]) == mf.ON), at)
        if self.cid_rx is not None:
            for msg in self.cid_rx.process(rx):
                self.feed(msg, (t0 + n) / SAMPLES_PER_MS)
        wrote = True
        if self.mf_gen is not None and self.mf_gen.current != 0:
            self.mf_gen.generate(n, out=tx)
        elif self.dtmf_gen is not None and self.dtmf_gen.pending > 0:
            self.dtmf_gen.generate(n, out=tx)
            if self.dtmf_gen.pending == 0:
                self.feed(DigitsDone(), (t0 + n) / SAMPLES_PER_MS)
        elif self.r1_gen is not None and self.r1_gen.pending > 0:
            self.r1_gen.generate(n, out=tx)
            if self.r1_gen.pending == 0:
                self.feed(DigitsDone(), (t0 + n) / SAMPLES_PER_MS)
        elif self.cid_tx is not None:
            k = min(n, self.cid_tx.shape[0])
            tx[:k] = self.cid_tx[:k]
            tx[k:] = 0
            self.cid_tx = self.cid_tx[k:] if k < self.cid_tx.shape[0] else None
        else:
            wrote = False
            if self._wrote:
                tx[:] = 0  # the tone ended: silence, not the last block again
        self._wrote = wrote


_LINE_EVENTS = (BitsChanged, ChannelAlarm, HookChanged, HookFlash, RingChanged, Digit)


class BoardDriver:
    """Machines on a board's channels: one step() per board tick."""

    def __init__(
        self,
        board: Any,
        machines: dict[int, CallMachine],
        *,
        mf_variant: str = "r2_itu",
        callerid: CallerIdCodec | None = None,
    ) -> None:
        self.board = board
        self.drivers = {
            channo: ChannelDriver(m, channo, board, mf_variant=mf_variant, callerid=callerid)
            for channo, m in machines.items()
        }
        now = board.t / SAMPLES_PER_MS
        for d in self.drivers.values():
            start = getattr(d.machine, "start", None)
            if start is not None:
                d.execute(start(), now)

    def step(self) -> list[Event]:
        """Tick the board once; feed, time and sound every machine. Returns the tick's events."""
        b = self.board
        t0 = b.t
        events: list[Event] = b.tick()
        now = b.t / SAMPLES_PER_MS
        for ev in events:
            if isinstance(ev, _LINE_EVENTS):
                d = self.drivers.get(ev.channel)
                if d is not None:
                    d.feed(ev, ev.t / SAMPLES_PER_MS)
        for d in self.drivers.values():
            if d.busy_audio:
                row = b.channel(d.channo).index
                d.audio(b.rx[row], b.tx[row], t0)
            d.poll(now)
        return events

    def run(self, ms: int) -> None:
        for _ in range(ms):
            self.step()

    def inbox(self) -> list[CallEvent]:
        """All call events so far, across channels (and empties the inboxes)."""
        out: list[CallEvent] = []
        for d in self.drivers.values():
            out += d.inbox
            d.inbox.clear()
        return out
