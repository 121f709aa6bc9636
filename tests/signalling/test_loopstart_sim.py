"""Loop start end to end on the sim's analog ports, both directions on each side: FXS (we feed the
agent's phone: we ring it / it calls us and keys the number) and FXO (the exchange rings us / we
seize and dial out with DTMF). Each: number delivered, answered, audio path both ways, cleared by
either side, with the Q.850 cause and the timestamps of every step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ccboard.board import open_board
from ccboard.board.events import Digit
from ccboard.dsp import dtmf
from ccboard.signalling.call import Call, CallState, Cause, Direction
from ccboard.signalling.driver import BoardDriver
from ccboard.signalling.loopstart import FxoLoopStart, FxsLoopStart

TONE = (7000 * np.sin(2 * np.pi * 1000 * np.arange(8000) / 8000)).astype(np.int16)


class Rig:
    def __init__(self) -> None:
        self.b: Any = open_board("sim://?e1=0&fxs=1&fxo=1")
        self.s = next(c for c in self.b.channels if c.signalling.is_fxs_port)
        self.o = next(c for c in self.b.channels if c.signalling.is_fxo_port)
        self.fe = self.b.far_ends[self.s.span]
        self.drv = BoardDriver(
            self.b, {self.s.channo: FxsLoopStart(self.s.channo), self.o.channo: FxoLoopStart(self.o.channo)}
        )
        self.digits: list[tuple[int, str]] = []
        # what the far side hears from us: a DTMF receiver on our sent octets, in each tick
        self.far_rx = {c.channo: dtmf.DtmfReceiver(law=c.law) for c in (self.s, self.o)}
        self.far_digits: dict[int, str] = {self.s.channo: "", self.o.channo: ""}
        self.far_loud: dict[int, int] = {self.s.channo: 0, self.o.channo: 0}
        self.b.line_taps.append(self._tap)

    def _tap(self, t: int) -> None:
        for channo, rx in self.far_rx.items():
            octets = self.b.txl[self.b.row_of[channo]]
            self.far_digits[channo] += dtmf.digits(rx.process(octets))
            lin = self.b.tx[self.b.channel(channo).index].astype(np.int32)
            self.far_loud[channo] += int((lin * lin).sum() > 8 * 230**2)

    @property
    def now(self) -> float:
        return float(self.b.t / 8)

    def step(self, ms: int = 1, talk: int | None = None) -> None:
        for _ in range(ms):
            if talk is not None:
                k = (self.b.t // 8) % 1000
                self.b.tx[self.b.channel(talk).index] = TONE[k * 8 : k * 8 + 8]
            for e in self.drv.step():
                if isinstance(e, Digit) and e.kind == "on":
                    self.digits.append((e.channel, e.digit))

    def until(self, cond: Callable[[], bool], ms: int) -> None:
        for _ in range(ms):
            if cond():
                return
            self.step()
        raise AssertionError(f"not reached within {ms} ms")

    def wait(self, kind: str, ms: int = 15000) -> Call:
        got: list[Call] = []

        def seen() -> bool:
            got.extend(e.call for e in self.drv.inbox() if e.kind == kind and e.call is not None)
            return bool(got)

        self.until(seen, ms)
        return got[0]

    def audio_path(self, channo: int, pos: int) -> None:
        self.fe.dtmf(pos, "9")
        before = self.far_loud[channo]
        self.step(300, talk=channo)
        assert self.far_loud[channo] - before > 250
        self.b.tx[self.b.channel(channo).index] = 0
        self.step(1000)
        assert (channo, "9") in self.digits


def in_order(c: Call, *states: CallState) -> None:
    t = [c.times[s] for s in states]
    assert t == sorted(t)


def test_fxs_we_ring_the_phone_it_answers_audio_we_hang_up_then_it_calls_and_hangs_up() -> None:
    r = Rig()
    pos = r.s.chanpos
    r.fe.answer_after(pos, rings=1, delay_ms=300)
    r.drv.drivers[r.s.channo].do("dial", r.now, "201", ani="5551234")
    c = r.wait("answered", 9000)
    assert c.direction == Direction.OUTGOING and c.dnis == "201"
    r.audio_path(r.s.channo, pos)
    r.drv.drivers[r.s.channo].do("hangup", r.now)
    c2 = r.wait("released", 100)
    assert c2 is c and c.cause == Cause.NORMAL_CLEARING
    in_order(c, CallState.SEIZED, CallState.ALERTING, CallState.ANSWERED, CallState.RELEASED)
    r.fe.onhook(pos)  # the phone, given busy tone, hangs up
    r.step(1000)
    # the phone calls us: off hook, keys the extension, we answer; the phone hangs up
    r.fe.offhook(pos)
    r.step(300)
    r.fe.dtmf(pos, "4711#")
    inc = r.wait("offered", 5000)
    assert inc.direction == Direction.INCOMING and inc.dnis == "4711"
    r.drv.drivers[r.s.channo].do("answer", r.now)
    r.audio_path(r.s.channo, pos)
    r.fe.onhook(pos)
    rel = r.wait("released", 2000)
    assert rel is inc and inc.cause == Cause.NORMAL_CLEARING
    in_order(
        inc, CallState.SEIZED, CallState.COLLECTING, CallState.OFFERED, CallState.ANSWERED, CallState.RELEASED
    )


def test_fxo_the_exchange_rings_us_audio_it_clears_then_we_dial_out_and_clear() -> None:
    r = Rig()
    pos = r.o.chanpos
    r.fe.ring(pos)
    inc = r.wait("offered", 9000)
    r.drv.drivers[r.o.channo].do("answer", r.now)
    r.wait("answered", 500)
    r.audio_path(r.o.channo, pos)
    r.fe.disconnect(pos)  # kewl start: battery drops
    rel = r.wait("released", 2000)
    assert rel is inc and inc.cause == Cause.NORMAL_CLEARING
    in_order(inc, CallState.SEIZED, CallState.OFFERED, CallState.ANSWERED, CallState.RELEASED)
    r.step(1000)
    # we seize the line and dial (blind after the dial tone timer: the sim's exchange is silent)
    r.drv.drivers[r.o.channo].do("dial", r.now, "95551212")
    out = r.wait("answered", 8000)
    assert r.far_digits[r.o.channo] == "95551212"  # the exchange heard our DTMF on the line
    r.audio_path(r.o.channo, pos)
    r.drv.drivers[r.o.channo].do("hangup", r.now)
    assert out.state == CallState.RELEASED and out.cause == Cause.NORMAL_CLEARING
    in_order(out, CallState.SEIZED, CallState.COLLECTING, CallState.ANSWERED, CallState.RELEASED)
