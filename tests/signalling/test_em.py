"""T1 E&M back to back (wink and immediate start, DTMF and MF R1 addresses) in virtual time: robbed
bits 6 ms late (two ESFs of debounce), address tones through the real DTMF / MF R1 kernels.
GR-506 / DAHDI timing figures are checked on the bits each side sends."""

from __future__ import annotations

from typing import Any

import pytest

from ccboard.board.events import Alarm, BitsChanged, ChannelAlarm
from ccboard.errors import LocalProtocolError
from ccboard.signalling.actions import ListenMf, PlayDigits, SetBits
from ccboard.signalling.call import CallState, Cause, Direction
from ccboard.signalling.em import OFFHOOK_BITS, ONHOOK_BITS, EmChannel, EmTimers, PlayMf
from tests.signalling.helpers import Net

KINDS = [(s, a) for s in ("wink", "immediate") for a in ("dtmf", "mf")]


def pair(start: str, address: str, ani: bool = True, **kw: Any) -> tuple[Net, Any, Any]:
    net = Net(step_ms=1, bit_delay_ms=6, dtmf=True)
    a, b = net.add_pair(
        3,
        EmChannel("A3", start=start, address=address, ani=ani, **kw),
        EmChannel("B3", start=start, address=address, ani=ani, **kw),
    )
    return net, a, b


@pytest.mark.parametrize(("caller", "callee"), [(0, 1), (1, 0)])
@pytest.mark.parametrize(("start", "address"), KINDS)
def test_call_both_ways_numbers_answer_and_clear_by_either_side(
    start: str, address: str, caller: int, callee: int
) -> None:
    net, *d = pair(start, address)
    d[caller].do("dial", net.now, "5551234", ani="2125550000")
    net.run_until(lambda: "offered" in net.kinds(callee), 10000)
    inc = net.last(callee, "offered").call
    assert inc is not None and (inc.direction, inc.dnis, inc.ani) == (
        Direction.INCOMING,
        "5551234",
        "2125550000",
    )
    d[callee].do("alert", net.now)
    d[callee].do("answer", net.now)
    net.run_until(lambda: "answered" in net.kinds(caller), 1000)
    out = net.last(caller, "answered").call
    assert out is not None and out.state == CallState.ANSWERED
    assert net.kinds(caller) == ["seized", "proceeding", "answered"]
    assert net.kinds(callee) == ["seized", "offered", "answered"]
    # the caller clears when side 0 called, the callee when side 1 did: both ends clear both ways
    clearer = d[caller] if caller == 0 else d[callee]
    clearer.do("hangup", net.now)
    net.run_until(lambda: "released" in net.kinds(0) and "released" in net.kinds(1), 2000)
    for c in (inc, out):
        assert c.state == CallState.RELEASED and c.cause == Cause.NORMAL_CLEARING
        t = [c.times[s] for s in (CallState.SEIZED, CallState.ANSWERED, CallState.RELEASED)]
        assert t == sorted(t)
    assert d[0].machine.state == d[1].machine.state == "guard"
    net.run(800)
    assert d[0].machine.idle and d[1].machine.idle


def test_wink_is_sent_after_prewink_for_winktime_and_the_address_follows_it() -> None:
    m = EmChannel(1, start="wink", address="mf")
    m.start()
    acts = m.handle(BitsChanged(0, 1, OFFHOOK_BITS), 1000.0)
    assert [a.kind for a in acts if hasattr(a, "kind")] == ["seized"] and m.state == "prewink"
    assert m.next_deadline() == 1050.0  # DAHDI prewinktime 50 ms
    assert m.on_timeout(1050.0) == [SetBits(OFFHOOK_BITS)]
    assert m.next_deadline() == 1200.0  # DAHDI winktime 150 ms, inside GR-506's 140-290
    assert m.on_timeout(1200.0) == [SetBits(ONHOOK_BITS), ListenMf("r1")]
    assert m.state == "collecting"
    # outgoing: the address goes out post_wink after a wink of 140-290 ms ends, not before
    o = EmChannel(2, start="wink", address="mf", ani=True)
    o.start()
    o.dial("5551234", 0.0, ani="2125550000")
    o.handle(BitsChanged(0, 2, OFFHOOK_BITS), 300.0)
    o.handle(BitsChanged(0, 2, ONHOOK_BITS), 500.0)
    assert o.state == "pre-dial" and o.next_deadline() == 600.0
    assert o.on_timeout(600.0) == [PlayMf("*2125550000#*5551234#")]


@pytest.mark.parametrize("held", [20, 99])
def test_a_short_hit_is_not_a_wink(held: int) -> None:
    o = EmChannel(2, start="wink", address="dtmf")
    o.dial("12", 0.0)
    o.handle(BitsChanged(0, 2, OFFHOOK_BITS), 300.0)
    o.handle(BitsChanged(0, 2, ONHOOK_BITS), 300.0 + held)
    assert o.state == "seizing"


def test_no_wink_releases_with_cause_102_and_glare_with_44() -> None:
    o = EmChannel(2, start="wink", address="dtmf")
    o.dial("12", 0.0)
    acts = o.on_timeout(5000.0)  # wink_wait
    rel = [a for a in acts if getattr(a, "kind", "") == "released"]
    assert rel and rel[0].cause == Cause.RECOVERY_ON_TIMER_EXPIRY and SetBits(ONHOOK_BITS) in acts
    g = EmChannel(3, start="wink", address="dtmf")
    g.dial("12", 0.0)
    g.handle(BitsChanged(0, 3, OFFHOOK_BITS), 10.0)  # the far end seized at the same time
    acts = g.on_timeout(310.0)  # longer than rxwinktime: not a wink
    assert any(getattr(a, "cause", None) == Cause.CHANNEL_UNAVAILABLE for a in acts)
    assert g.state == "clearing"
    acts = g.handle(BitsChanged(0, 3, ONHOOK_BITS), 400.0)
    assert [a.kind for a in acts if hasattr(a, "kind")] == ["released"] and g.state == "guard"


def test_glare_back_to_back_both_sides_give_up_and_the_line_returns_idle() -> None:
    net, a, b = pair("wink", "dtmf")
    a.do("dial", 0.0, "1")
    b.do("dial", 0.0, "2")
    net.run(2000)
    for side in (0, 1):
        assert net.last(side, "released").cause == Cause.CHANNEL_UNAVAILABLE
    assert a.machine.idle and b.machine.idle


def test_reject_plays_busy_and_the_caller_clears_with_the_cause_kept() -> None:
    net, a, b = pair("wink", "dtmf", ani=False)
    a.do("dial", 0.0, "777")
    net.run_until(lambda: "offered" in net.kinds(1), 10000)
    b.do("reject", net.now, Cause.USER_BUSY)
    inc = net.last(1, "releasing").call
    assert inc is not None and inc.cause == Cause.USER_BUSY and b.machine.state == "rejecting"
    a.do("hangup", net.now)
    net.run_until(lambda: "released" in net.kinds(1), 1000)
    assert net.last(1, "released").cause == Cause.USER_BUSY
    assert net.last(0, "released").cause == Cause.NORMAL_CLEARING


def test_dtmf_address_ends_on_interdigit_timer_or_max_digits() -> None:
    t = EmTimers(interdigit=500)
    m = EmChannel(1, start="immediate", address="dtmf", timers=t)
    m.handle(BitsChanged(0, 1, OFFHOOK_BITS), 0.0)
    from ccboard.board.events import Digit

    for i, dg in enumerate("123"):
        m.handle(Digit(0, 1, dg, "on", 0, -1, -10.0, -10.0), 100.0 + i * 150)
    acts = m.on_timeout(900.0)
    assert [a.kind for a in acts if hasattr(a, "kind")] == ["offered"] and m.call is not None
    assert m.call.dnis == "123"
    n = EmChannel(1, start="immediate", address="dtmf", max_digits=4)
    n.handle(BitsChanged(0, 1, OFFHOOK_BITS), 0.0)
    for dg in "4567":
        acts = n.handle(Digit(0, 1, dg, "on", 0, -1, -10.0, -10.0), 50.0)
    assert n.state == "offered" and n.call is not None and n.call.dnis == "4567"


def test_alarm_clears_the_call_with_cause_38_and_the_line_comes_back() -> None:
    net, a, b = pair("immediate", "dtmf")
    a.do("dial", 0.0, "55")
    net.run_until(lambda: "offered" in net.kinds(1), 10000)
    b.do("answer", net.now)
    net.run(100)
    for d in (a, b):
        d.feed(ChannelAlarm(0, 3, Alarm.RED), net.now)
    assert net.last(0, "released").cause == net.last(1, "released").cause == Cause.NETWORK_OUT_OF_ORDER
    with pytest.raises(LocalProtocolError, match="A3"):
        a.do("dial", net.now, "1")
    for d in (a, b):
        d.feed(ChannelAlarm(0, 3, Alarm.NONE), net.now)
    net.run(800)
    assert net.kinds(0)[-1] == net.kinds(1)[-1] == "released"  # no phantom seizure
    assert a.machine.idle and b.machine.idle


def test_operations_refused_name_channel_state_and_operation() -> None:
    m = EmChannel("T1/1/5", address="mf")
    with pytest.raises(LocalProtocolError) as e:
        m.answer(0.0)
    assert e.value.channel == "T1/1/5" and e.value.state == "idle" and e.value.event == "answer"
    with pytest.raises(LocalProtocolError, match="cannot carry"):
        m.dial("12#", 0.0)
    with pytest.raises(LocalProtocolError):
        m.flash(0.0)
    with pytest.raises(ValueError, match="start"):
        EmChannel(1, start="delay")
    with pytest.raises(ValueError, match="address"):
        EmChannel(1, address="pulse")
    d = EmChannel(1, address="dtmf")
    assert d.dial("12", 0.0)[0] == SetBits(OFFHOOK_BITS)
    assert d.hangup(1.0)[-1].kind == "released"  # type: ignore[attr-defined]
    assert [a for a in d.on_timeout(1000.0)] == [] and d.idle
    i = EmChannel(1, start="immediate", address="dtmf")
    i.dial("99", 0.0)
    assert i.on_timeout(150.0) == [PlayDigits("99#")]


def test_a_far_end_stuck_off_hook_after_our_clear_locks_the_trunk_out_not_a_new_seizure() -> None:
    m = EmChannel(1, start="wink", address="dtmf")
    m.handle(BitsChanged(0, 1, OFFHOOK_BITS), 0.0)  # seized
    m.hangup(10.0)  # we refuse at once; the far end never lets go
    acts = m.on_timeout(10.0 + m.t.disconnect_wait)
    assert [a.kind for a in acts if hasattr(a, "kind")] == ["released"] and m.state == "lockout"
    assert m.on_timeout(100000.0) == [] and m.call is None and not m.idle
    m.handle(BitsChanged(0, 1, ONHOOK_BITS), 100000.0)
    assert m.state == "guard"
    m.on_timeout(100000.0 + m.t.guard)
    assert m.idle
