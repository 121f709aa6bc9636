"""ISDN PRI on the sim: the B-channel audio path of a call, both ways, in both call directions,
with the timestamps and the Q.850 cause of each end (the signalling cases are test_pri.py's)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ccboard.board.events import Digit
from ccboard.dsp import g711
from ccboard.signalling.call import Call, CallState, Cause, Direction
from ccboard.signalling.pri import PriDriver
from tests.signalling.test_pri import sim

TONE = (7000 * np.sin(2 * np.pi * 1000 * np.arange(8000) / 8000)).astype(np.int16)


class Ear:
    """The far side's ear on one channel: ticks in which our octets carried more than -40 dBm0."""

    def __init__(self, d: PriDriver, channo: int) -> None:
        self.b: Any = d.board
        self.row = self.b.row_of[channo]
        law = self.b.channel(channo).law
        self.decode = g711.alaw_decode if law == "alaw" else g711.ulaw_decode
        self.loud = 0
        self.b.line_taps.append(self.tap)

    def tap(self, t: int) -> None:
        x = self.decode(self.b.txl[self.row]).astype(np.int32)
        self.loud += int((x * x).sum() > 8 * 230**2)


def talk_both_ways(d: PriDriver, fe: Any, c: Call) -> None:
    channo = int(c.channel)
    b: Any = d.board
    ear = Ear(d, channo)
    fe.fe.dtmf(b.channel(channo).chanpos, "3")
    digits = []
    for _ in range(300):
        k = (b.t // 8) % 1000
        b.tx[b.channel(channo).index] = TONE[k * 8 : k * 8 + 8]
        digits += [
            e.digit for e in d.step() if isinstance(e, Digit) and e.channel == channo and e.kind == "on"
        ]
    assert ear.loud > 250
    b.tx[b.channel(channo).index] = 0
    for _ in range(700):
        digits += [
            e.digit for e in d.step() if isinstance(e, Digit) and e.channel == channo and e.kind == "on"
        ]
    assert "3" in digits


def test_pri_audio_path_on_our_call_and_on_the_networks_call() -> None:
    d, fes = sim("sim://?e1=1&ccs=1")
    fe = fes[1]
    c = d.dial(1, "5551234", ani="88776655")
    d.run_until(lambda: c.state == CallState.ANSWERED, 2000)
    talk_both_ways(d, fe, c)
    d.do("hangup", int(c.channel))
    d.run_until(lambda: c.state == CallState.RELEASED, 1000)
    assert c.cause == Cause.NORMAL_CLEARING
    t = [c.times[s] for s in (CallState.SEIZED, CallState.PROCEEDING, CallState.ANSWERED, CallState.RELEASED)]
    assert t == sorted(t)
    fc = fe.call("4000", "13800138000")
    d.run_until(lambda: any(e.kind == "offered" for e in d.inbox), 1000)
    inc = next(e.call for e in d.take() if e.kind == "offered")
    assert inc is not None and inc.direction == Direction.INCOMING
    d.do("answer", int(inc.channel))
    d.run_until(lambda: fc.state == "connected", 1000)
    talk_both_ways(d, fe, inc)
    fe.hangup(fc.chanpos, Cause.NORMAL_CLEARING)
    d.run_until(lambda: inc.state == CallState.RELEASED, 1000)
    assert inc.cause == Cause.NORMAL_CLEARING
