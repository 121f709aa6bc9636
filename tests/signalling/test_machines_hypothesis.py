"""Random remote events, bits, tones and timeouts against every machine (hypothesis).

Invariants: handle()/on_timeout() never raise; operations raise nothing but ProtocolError
(naming channel, state and event); after a clear the machine is idle again, with no call left
half-open; every released call carries a Q.850 cause.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ccboard.board.events import Alarm, BitsChanged, ChannelAlarm, Digit, HookChanged, HookFlash, RingChanged
from ccboard.errors import ProtocolError
from ccboard.signalling.actions import CallerIdReceived, CallEvent, DigitsDone, MfSignal, ProgressTone
from ccboard.signalling.call import CallMachine, CallState
from ccboard.signalling.loopstart import FxoLoopStart, FxsLoopStart
from ccboard.signalling.r2 import R2Channel, variant

CH = 7

remote = st.one_of(
    st.tuples(st.just("bits"), st.integers(0, 15)),
    st.tuples(st.just("mf"), st.integers(1, 15), st.booleans()),
    st.tuples(st.just("ring"), st.booleans()),
    st.tuples(st.just("hook"), st.booleans()),
    st.tuples(st.just("flash")),
    st.tuples(st.just("digit"), st.sampled_from("0123456789*#")),
    st.tuples(st.just("tone"), st.sampled_from(["dial", "busy", "congestion", "ringback"])),
    st.tuples(st.just("cid")),
    st.tuples(st.just("done")),
    st.tuples(st.just("alarm"), st.booleans()),
    st.tuples(st.just("wait"), st.sampled_from([1, 20, 150, 2100, 4000, 31000, 61000])),
    st.tuples(
        st.just("op"),
        st.sampled_from(
            ["accept", "alert", "answer", "reject", "hangup", "dial", "flash", "transfer", "block"]
        ),
    ),
)


def event_of(step: tuple[Any, ...]) -> object:
    k = step[0]
    if k == "bits":
        return BitsChanged(0, CH, step[1])
    if k == "mf":
        return MfSignal(step[1], step[2])
    if k == "ring":
        return RingChanged(0, CH, step[1])
    if k == "hook":
        return HookChanged(0, CH, step[1])
    if k == "flash":
        return HookFlash(0, CH)
    if k == "digit":
        return Digit(0, CH, step[1], "on", 0, -1, -10.0, -10.0)
    if k == "tone":
        return ProgressTone(step[1])
    if k == "cid":
        return CallerIdReceived("5551234", "ALICE")
    if k == "done":
        return DigitsDone()
    return ChannelAlarm(0, CH, Alarm.RED if step[1] else Alarm.NONE)


def drive(m: CallMachine, steps: list[tuple[Any, ...]], clear: Callable[[CallMachine, float], float]) -> None:
    now = 0.0
    released: list[CallEvent] = []

    def take(acts: list[Any]) -> None:
        released.extend(a for a in acts if isinstance(a, CallEvent) and a.kind == "released")

    for step in steps:
        if step[0] == "wait":
            now += step[1]
            while (d := m.next_deadline()) is not None and d <= now:
                take(m.on_timeout(now))
            continue
        if step[0] == "op":
            op = step[1]
            try:
                if op == "reject":
                    take(m.reject(17, now))
                elif op == "dial":
                    take(m.dial("1234", now, ani="5678"))
                elif op == "transfer":
                    take(m.transfer("200", now))
                elif op == "hangup":
                    take(m.hangup(now))
                elif op == "block":
                    take(m.block(now) if hasattr(m, "block") else m.flash(now))  # type: ignore[attr-defined]
                else:
                    take(getattr(m, op)(now))
            except ProtocolError as e:
                assert str(CH) in str(e) and e.state and e.event
            continue
        take(m.handle(event_of(step), now))
    now = clear(m, now)
    for _ in range(50):
        d = m.next_deadline()
        if d is None:
            break
        now = max(now, d)
        take(m.on_timeout(now))
    assert m.call is None, f"call left half-open in state {m.state}"
    for ev in released:
        assert ev.call is not None and ev.call.state == CallState.RELEASED and ev.call.cause is not None


def r2_clear(m: CallMachine, now: float) -> float:
    assert isinstance(m, R2Channel)
    m.handle(ChannelAlarm(0, CH, Alarm.NONE), now)
    if m.line.state.value == "blocked":
        m.unblock(now)
    if m.call is not None:
        try:
            m.hangup(now)
        except ProtocolError:
            pass
    m.handle(BitsChanged(0, CH, m.v.bits("idle")), now + 5)
    return now + 5


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["itu", "cn", "mx", "br"]), st.lists(remote, max_size=60))
def test_r2_random(name: str, steps: list[tuple[Any, ...]]) -> None:
    m = R2Channel(variant(name), CH)
    m.start()
    drive(m, steps, r2_clear)
    assert m.line.state.value == "idle"


def fxo_clear(m: CallMachine, now: float) -> float:
    m.handle(ChannelAlarm(0, CH, Alarm.NONE), now)
    if m.call is not None:
        try:
            m.hangup(now)
        except ProtocolError:
            pass
    return now


@settings(max_examples=300, deadline=None)
@given(st.booleans(), st.lists(remote, max_size=60))
def test_fxo_random(cid: bool, steps: list[tuple[Any, ...]]) -> None:
    drive(FxoLoopStart(CH, callerid=cid), steps, fxo_clear)


def fxs_clear(m: CallMachine, now: float) -> float:
    if m.call is not None:
        try:
            m.hangup(now)
        except ProtocolError:
            pass
    m.handle(HookChanged(0, CH, False), now + 1)
    return now + 1


@settings(max_examples=300, deadline=None)
@given(st.lists(remote, max_size=60))
def test_fxs_random(steps: list[tuple[Any, ...]]) -> None:
    m = FxsLoopStart(CH)
    drive(m, steps, fxs_clear)
    assert m.state == "idle"
