"""End to end on the sim, both directions, for the CAS signalling types whose far end speaks in
band: T1 E&M (wink / immediate start, DTMF / MF R1 addresses; em_farend) and E1 MFC/R2 (ITU and
China; r2_farend, compelled MF through our kernels as live audio). Each case: a call placed each
way, numbers delivered, answered, the audio path checked both ways, cleared by either side, with
the Q.850 cause and the timestamps of every step. (Loop start: test_loopstart_sim.py; PRI:
test_pri.py's sim tests.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from ccboard.board import open_board
from ccboard.board.events import Digit
from ccboard.board.sim import em_farend, r2_farend
from ccboard.signalling.call import Call, CallState, Cause, Direction
from ccboard.signalling.driver import BoardDriver
from ccboard.signalling.em import EmChannel
from ccboard.signalling.r2 import R2Channel, variant

TONE = (7000 * np.sin(2 * np.pi * 1000 * np.arange(8000) / 8000)).astype(np.int16)  # ~ -10 dBm0


class Rig:
    """A sim board, our machines on one span's channels under a BoardDriver, the far end."""

    def __init__(self, url: str, far: Any, machine: Callable[[int], Any], mf_variant: str = "r2_itu") -> None:
        self.b: Any = open_board(url)
        self.far = far(self.b)
        self.chans = [c for c in self.b.channels if c.span == 1]
        self.drv = BoardDriver(
            self.b, {c.channo: machine(c.channo) for c in self.chans}, mf_variant=mf_variant
        )
        self.digits: list[tuple[int, str]] = []
        # the spans come up (framing, then E&M's guard time after the start-up alarm)
        self.step(100)
        self.until(lambda: all(d.machine.idle for d in self.drv.drivers.values()), 3000)
        self.drv.inbox()

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

    def event(self, kind: str) -> Call:
        for e in self.drv.inbox():
            if e.kind == kind and e.call is not None:
                return e.call
        raise AssertionError(f"no {kind} event")


def em_rig(start: str, address: str) -> Rig:
    return Rig(
        "sim://?t1=1&fxs=0&fxo=0",
        lambda b: em_farend.attach(b, start=start, address=address, ani=True)[1],
        lambda ch: EmChannel(ch, start=start, address=address, ani=True),
    )


def r2_rig(name: str) -> Rig:
    return Rig(
        "sim://?e1=1&fxs=0&fxo=0",
        lambda b: r2_farend.attach(b, name, max_dnis=4)[1],
        lambda ch: R2Channel(variant(name), ch),
        mf_variant="r2_china" if name == "cn" else "r2_itu",
    )


RIGS = {
    "em-wink-dtmf": lambda: em_rig("wink", "dtmf"),
    "em-wink-mf": lambda: em_rig("wink", "mf"),
    "em-immediate-dtmf": lambda: em_rig("immediate", "dtmf"),
    "em-immediate-mf": lambda: em_rig("immediate", "mf"),
    "r2-itu": lambda: r2_rig("itu"),
    "r2-cn": lambda: r2_rig("cn"),
}
ANI_OUT, ANI_IN = "88776655", "1380013800"


def steps_in_order(c: Call, *states: CallState) -> None:
    t = [c.times[s] for s in states]
    assert t == sorted(t), {s.value: c.times[s] for s in states}


def audio_path(r: Rig, channo: int, fc: Any) -> None:
    """Far end -> us: a keyed digit reaches our DTMF receiver; us -> far end: our tone is heard."""
    r.far.fe.dtmf(r.b.channel(channo).chanpos, "7")
    before = fc.heard_ms
    r.step(300, talk=channo)
    assert fc.heard_ms - before > 250
    r.b.tx[r.b.channel(channo).index] = 0
    r.step(100)
    quiet = fc.heard_ms
    r.step(900)
    assert fc.heard_ms == quiet  # silence is silence: the path carries what we send
    assert (channo, "7") in r.digits


@pytest.mark.parametrize("kind", sorted(RIGS))
def test_we_call_the_exchange_it_answers_then_clears(kind: str) -> None:
    r = RIGS[kind]()
    ch = r.chans[0].channo
    r.drv.drivers[ch].do("dial", r.now, "4321", ani=ANI_OUT, category="national_subscriber")
    r.until(lambda: bool(r.far.calls) and r.far.calls[-1].state == "connected", 10000)
    fc = r.far.calls[-1]
    assert (fc.direction, fc.called, fc.calling) == ("in", "4321", ANI_OUT)
    r.step(30)
    ours = r.event("answered")
    assert ours.direction == Direction.OUTGOING and ours.state == CallState.ANSWERED
    audio_path(r, ch, fc)
    r.far.hangup(r.b.channel(ch).chanpos, Cause.NORMAL_CLEARING)
    r.until(lambda: ours.state == CallState.RELEASED and fc.state == "released", 2000)
    assert ours.cause == fc.cause == Cause.NORMAL_CLEARING
    steps_in_order(ours, CallState.SEIZED, CallState.COLLECTING, CallState.ANSWERED, CallState.RELEASED)
    assert fc.times["seized"] <= fc.times["connected"] <= fc.times["released"]


@pytest.mark.parametrize("kind", sorted(RIGS))
def test_the_exchange_calls_us_we_answer_then_clear(kind: str) -> None:
    r = RIGS[kind]()
    fc = r.far.call("4000", ANI_IN)
    r.until(lambda: any(e.kind == "offered" for d in r.drv.drivers.values() for e in d.inbox), 10000)
    inc = r.event("offered")
    assert (inc.direction, inc.dnis, inc.ani) == (Direction.INCOMING, "4000", ANI_IN)
    if kind.startswith("r2"):
        assert inc.category == "national_subscriber"
    ch = int(inc.channel)
    r.drv.drivers[ch].do("answer", r.now)
    r.until(lambda: fc.state == "connected", 2000)
    assert inc.state == CallState.ANSWERED
    audio_path(r, ch, fc)
    r.drv.drivers[ch].do("hangup", r.now)
    r.until(lambda: inc.state == CallState.RELEASED and fc.state == "released", 2000)
    assert inc.cause == fc.cause == Cause.NORMAL_CLEARING
    steps_in_order(
        inc, CallState.SEIZED, CallState.COLLECTING, CallState.OFFERED, CallState.ANSWERED, CallState.RELEASED
    )
    # and the circuit is free for the next call both ways
    r.step(1000)
    assert r.far.state(fc.chanpos) == "idle" and r.drv.drivers[ch].machine.idle


@pytest.mark.parametrize("kind", sorted(RIGS))
def test_the_exchange_calls_us_and_its_caller_hangs_up(kind: str) -> None:
    r = RIGS[kind]()
    fc = r.far.call("4000", ANI_IN)
    r.until(lambda: any(e.kind == "offered" for d in r.drv.drivers.values() for e in d.inbox), 10000)
    inc = r.event("offered")
    r.drv.drivers[int(inc.channel)].do("answer", r.now)
    r.until(lambda: fc.state == "connected", 2000)
    r.far.hangup(fc.chanpos)
    r.until(lambda: inc.state == CallState.RELEASED and fc.state == "released", 2000)
    assert inc.cause == fc.cause == Cause.NORMAL_CLEARING


@pytest.mark.parametrize("name", ["itu", "cn"])
def test_r2_exchange_refuses_a_busy_number_in_group_b_with_cause_17(name: str) -> None:
    r = r2_rig(name)
    r.far.routes["4444"] = "busy"
    ch = r.chans[0].channo
    r.drv.drivers[ch].do("dial", r.now, "4444", ani=ANI_OUT)
    r.until(lambda: r.drv.drivers[ch].machine.idle and bool(r.far.calls), 10000)
    ev = [e for e in r.drv.inbox() if e.kind == "released"]
    assert ev and ev[0].cause == Cause.USER_BUSY
    r.until(lambda: r.far.calls[-1].state == "released", 1000)
    assert r.far.calls[-1].cause == Cause.USER_BUSY


def test_r2_the_exchange_reads_a_short_china_dnis_by_its_pulsed_request() -> None:
    r = r2_rig("cn")  # China has no end-of-DNIS signal: the exchange waits, then pulses A-3
    ch = r.chans[0].channo
    r.drv.drivers[ch].do("dial", r.now, "12", ani=ANI_OUT)
    r.until(lambda: bool(r.far.calls) and r.far.calls[-1].state == "connected", 10000)
    assert r.far.calls[-1].called == "12"


def test_r2_compelled_tones_are_live_on_the_line_not_rendered_ahead() -> None:
    r = r2_rig("itu")
    ch = r.chans[0].channo
    r.drv.drivers[ch].do("dial", r.now, "4321", ani=ANI_OUT)
    rx = r.b.rx[r.b.channel(ch).index]
    loud = 0
    for _ in range(600):
        r.step()
        loud += int(np.abs(rx.astype(np.int32)).max() > 1500)
    assert 100 < loud < 600  # backward tones come and go with the cycle
    ring = r.b.renderer.ring[:, r.b.row_of[ch]].astype(np.int32)
    assert np.abs(ring).max() < 1500  # the renderer only ever held line noise on this row


def test_r2_span_alarm_clears_its_calls_with_cause_38_and_the_other_span_goes_on() -> None:
    b: Any = open_board("sim://?e1=2&fxs=0&fxo=0")
    fes = r2_farend.attach(b, "itu")
    drv = BoardDriver(b, {c.channo: R2Channel(variant("itu"), c.channo) for c in b.channels})
    drv.run(100)
    far = [fes[1].call("1000", "1"), fes[2].call("2000", "2")]
    offered: list[Call] = []
    for _ in range(5000):
        drv.step()
        for e in drv.inbox():
            if e.kind == "offered" and e.call is not None:
                offered.append(e.call)
                drv.drivers[int(e.call.channel)].do("answer", b.t / 8)
        if all(f.state == "connected" for f in far):
            break
    on1, on2 = sorted(offered, key=lambda c: b.channel(int(c.channel)).span)
    assert on1.state == on2.state == CallState.ANSWERED
    b.faults.los(1, True)
    drv.run(100)
    assert on1.state == CallState.RELEASED and on1.cause == Cause.NETWORK_OUT_OF_ORDER
    drv.run(2000)
    assert on2.state == CallState.ANSWERED and far[1].state == "connected"
    b.faults.los(1, False)
    drv.run(3000)
    assert far[0].state == "released"  # the exchange saw the circuit come back idle
    assert drv.drivers[int(on1.channel)].machine.idle
    again = fes[1].call("1001", "3", chanpos=far[0].chanpos)
    for _ in range(5000):
        drv.step()
        for e in drv.inbox():
            if e.kind == "offered" and e.call is not None:
                drv.drivers[int(e.call.channel)].do("answer", b.t / 8)
        if again.state == "connected":
            break
    assert again.state == "connected" and on2.state == CallState.ANSWERED


def test_r2_double_seizure_on_the_sim_both_ends_back_off_and_the_circuit_works_after() -> None:
    r = r2_rig("itu")
    ch = r.chans[0]
    r.drv.drivers[ch.channo].do("dial", r.now, "4321", ani=ANI_OUT)
    fc = r.far.call("4000", ANI_IN, chanpos=ch.chanpos)  # the same circuit, the same moment
    r.step(3000)
    assert fc.cause == Cause.CHANNEL_UNAVAILABLE and fc.state == "released"
    ev = [e for e in r.drv.inbox() if e.kind == "released"]
    assert ev and ev[0].cause == Cause.CHANNEL_UNAVAILABLE
    assert r.drv.drivers[ch.channo].machine.idle
    r.drv.drivers[ch.channo].do("dial", r.now, "4321", ani=ANI_OUT)
    r.until(lambda: r.far.calls[-1].state == "connected", 10000)


def test_em_span_alarm_clears_its_calls_with_cause_38_and_the_other_span_goes_on() -> None:
    b: Any = open_board("sim://?t1=2&fxs=0&fxo=0")
    fes = em_farend.attach(b, start="wink", address="mf")
    drv = BoardDriver(b, {c.channo: EmChannel(c.channo, start="wink", address="mf") for c in b.channels})
    drv.run(100)
    while not all(d.machine.idle for d in drv.drivers.values()):
        drv.step()
    far = [fes[1].call("1000"), fes[2].call("2000")]
    offered: list[Call] = []
    for _ in range(5000):
        drv.step()
        for e in drv.inbox():
            if e.kind == "offered" and e.call is not None:
                offered.append(e.call)
                drv.drivers[int(e.call.channel)].do("answer", b.t / 8)
        if all(f.state == "connected" for f in far):
            break
    on1, on2 = sorted(offered, key=lambda c: b.channel(int(c.channel)).span)
    assert on1.state == on2.state == CallState.ANSWERED and on1.dnis == "1000"
    b.faults.los(1, True)
    drv.run(100)
    assert on1.state == CallState.RELEASED and on1.cause == Cause.NETWORK_OUT_OF_ORDER
    assert far[0].state == "released"  # our on hook still reaches the exchange
    drv.run(2000)
    assert on2.state == CallState.ANSWERED and far[1].state == "connected"
    b.faults.los(1, False)
    drv.run(2000)
    assert drv.drivers[int(on1.channel)].machine.idle
