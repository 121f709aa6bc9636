"""Back-to-back pairs for the signalling tests and benchmarks, in virtual time.

Two ChannelDrivers face each other over a Wire: CAS bits arrive at the peer `bit_delay_ms`
later (an E1 CAS multiframe is 2 ms), audio a block later (one block = step_ms), so MF signals
go through the real MF generator and receiver kernels (ccboard.dsp.mf) as on a line.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ccboard.board.events import BitsChanged, Digit, HookChanged, RingChanged
from ccboard.dsp import dtmf
from ccboard.signalling.actions import CallEvent, ProgressTone
from ccboard.signalling.call import CallMachine
from ccboard.signalling.driver import SAMPLES_PER_MS, ChannelDriver


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    side: int = field(compare=False)
    event: Any = field(compare=False)


class Wire:
    """The line between two sides (0 and 1): a Port for each side's driver."""

    def __init__(self, net: Net, side: int) -> None:
        self.net = net
        self.side = side

    def set_tx_bits(self, channo: int, bits: int) -> None:
        n = self.net
        n.post(n.now + n.bit_delay_ms, 1 - self.side, channo, BitsChanged(0, channo, bits))

    def set_hook(self, channo: int, offhook: bool) -> None:
        # an FXO (side) closing the loop: the FXS peer sees off-hook, we see loop current
        n = self.net
        n.post(n.now + 1, 1 - self.side, channo, HookChanged(0, channo, offhook))
        n.post(n.now + 1, self.side, channo, HookChanged(0, channo, offhook))

    def set_ring(self, channo: int, ringing: bool) -> None:
        n = self.net
        n.post(n.now + 1, 1 - self.side, channo, RingChanged(0, channo, ringing))


class Net:
    """Pairs of drivers (side 0 and side 1 per pair index) and the virtual clock."""

    def __init__(self, step_ms: int = 10, bit_delay_ms: float = 2.0, dtmf: bool = False) -> None:
        self.dtmf: list[dict[int, Any]] | None = [{}, {}] if dtmf else None
        self.step_ms = step_ms
        self.bit_delay_ms = bit_delay_ms
        self.now = 0.0
        self.k = 0
        self.sides: list[dict[int, ChannelDriver]] = [{}, {}]
        self.queue: list[_Due] = []
        self.seq = 0
        self.n = step_ms * SAMPLES_PER_MS
        self.tx: list[dict[int, npt.NDArray[np.int16]]] = [{}, {}]
        self.prev: list[dict[int, npt.NDArray[np.int16]]] = [{}, {}]
        self.log: list[tuple[int, int, CallEvent]] = []  # (side, channel, event)
        self.silence = np.zeros(self.n, np.int16)

    def post(self, at: float, side: int, channo: int, event: Any) -> None:
        self.seq += 1
        heapq.heappush(self.queue, _Due(at, self.seq, side, (channo, event)))

    def add_pair(self, channo: int, m0: CallMachine, m1: CallMachine, **kw: Any) -> tuple[ChannelDriver, ...]:
        out = []
        for side, m in ((0, m0), (1, m1)):
            d = ChannelDriver(
                m,
                channo,
                Wire(self, side),
                on_event=lambda e, s=side, c=channo: self.log.append((s, c, e)),
                **kw,
            )
            d.on_progress = lambda kind, s=side, c=channo: self.post(
                self.now + 1, 1 - s, c, ProgressTone(kind or "busy", bool(kind))
            )
            self.sides[side][channo] = d
            self.tx[side][channo] = np.zeros(self.n, np.int16)
            self.prev[side][channo] = np.zeros(self.n, np.int16)
            if self.dtmf is not None:
                self.dtmf[side][channo] = dtmf.DtmfReceiver()
            start = getattr(m, "start", None)
            if start is not None:
                d.execute(start(), self.now)
            out.append(d)
        return tuple(out)

    def step(self) -> None:
        """Advance one block: deliver line events, run timers, exchange a block of audio."""
        self.k += 1
        t_end = self.k * self.step_ms
        t0 = (self.k - 1) * self.n
        while self.queue and self.queue[0].at <= t_end:
            due = heapq.heappop(self.queue)
            self.now = max(self.now, due.at)
            channo, ev = due.event
            d = self.sides[due.side].get(channo)
            if d is not None:
                d.feed(ev, self.now)
        self.now = float(t_end)
        for side in (0, 1):
            other = self.prev[1 - side]
            for channo, d in self.sides[side].items():
                d.poll(self.now)
                rx = other[channo]
                if self.dtmf is not None:
                    for e in self.dtmf[side][channo].process(rx):
                        if int(e["kind"]) == dtmf.ON:
                            ev = Digit(0, channo, e["digit"].decode(), "on", int(e["start"]), -1, 0.0, 0.0)
                            d.feed(ev, int(e["at"]) / SAMPLES_PER_MS)
                tx = self.tx[side][channo]
                tx[:] = 0
                if d.busy_audio or rx.any():
                    d.audio(rx, tx, t0)
        self.prev, self.tx = self.tx, self.prev

    def run(self, ms: float) -> None:
        end = self.now + ms
        while self.now < end:
            self.step()

    def run_until(self, cond: Any, limit_ms: float = 60000) -> float:
        """Step until cond() is true; the virtual time it took (AssertionError past limit_ms)."""
        start = self.now
        while not cond():
            if self.now - start > limit_ms:
                raise AssertionError(f"not reached within {limit_ms} ms")
            self.step()
        return self.now - start

    def kinds(self, side: int, channo: int | None = None) -> list[str]:
        return [e.kind for s, c, e in self.log if s == side and (channo is None or c == channo)]

    def last(self, side: int, kind: str, channo: int | None = None) -> CallEvent:
        for s, c, e in reversed(self.log):
            if s == side and e.kind == kind and (channo is None or c == channo):
                return e
        raise AssertionError(f"no {kind} event on side {side}")
