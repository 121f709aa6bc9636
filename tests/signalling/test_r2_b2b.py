"""MFC/R2 forward <-> backward back to back, every variant, MF through the real kernels
(ccboard.dsp.mf generator and receiver) in virtual time; CAS bits with a 2 ms multiframe delay."""

from __future__ import annotations

import pytest

from ccboard.board.events import Alarm, ChannelAlarm
from ccboard.errors import LocalProtocolError
from ccboard.signalling.call import CallState, Cause, Direction
from ccboard.signalling.r2 import VARIANTS, R2Channel, variant
from ccboard.signalling.r2.variants import R2Variant
from tests.signalling.helpers import Net

ALL = sorted(VARIANTS)


def pair(v: R2Variant, channo: int = 1) -> tuple[Net, object, object]:
    net = Net()
    a, b = net.add_pair(
        channo,
        R2Channel(v, f"A{channo}"),
        R2Channel(v, f"B{channo}"),
        mf_variant="r2_china" if v.name == "cn" else "r2_itu",
    )
    return net, a, b


def call_through(v: R2Variant, dnis: str, ani: str, category: str = "national_subscriber") -> tuple:
    net, a, b = pair(v)
    a.do("dial", 0, dnis, ani=ani, category=category)
    net.run_until(lambda: "offered" in net.kinds(1), 30000)
    return net, a, b


def one_way(v: R2Variant, caller: int, callee: int) -> None:
    net, *d = pair(v)
    d[caller].do("dial", 0, "4321", ani="88776655", category="national_subscriber")
    net.run_until(lambda: "offered" in net.kinds(callee), 30000)
    offered = net.last(callee, "offered").call
    assert offered.dnis == "4321"
    assert offered.ani == "88776655"
    assert offered.category == "national_subscriber"
    assert offered.direction == Direction.INCOMING
    d[callee].do("answer", net.now)
    net.run_until(lambda: "answered" in net.kinds(caller), 5000)
    assert net.kinds(caller) == ["seized", "alerting", "answered"]
    out = net.last(caller, "answered").call
    assert out.direction == Direction.OUTGOING
    assert out.times[CallState.SEIZED] < out.times[CallState.COLLECTING] < out.times[CallState.ALERTING]
    d[callee].do("hangup", net.now)  # clear back; the forward end clears forward
    net.run_until(lambda: "released" in net.kinds(0) and "released" in net.kinds(1), 10000)
    assert net.last(caller, "released").cause == Cause.NORMAL_CLEARING
    net.run(50)
    assert d[0].machine.idle and d[1].machine.idle
    assert d[0].machine.line.tx_bits == v.bits("idle") == d[1].machine.line.tx_bits


@pytest.mark.parametrize("name", ALL)
def test_call_both_ways_answer_and_clear(name: str) -> None:
    one_way(variant(name), 0, 1)
    one_way(variant(name), 1, 0)


@pytest.mark.parametrize("name", ALL)
def test_short_dnis_ends_by_signal_or_timeout(name: str) -> None:
    v = variant(name).with_counts(max_dnis=8)
    net, a, b = call_through(v, "77", "123")
    c = net.last(1, "offered").call
    assert (c.dnis, c.ani) == ("77", "123")
    if not v.i.no_more_dnis:  # the backward end had to time out and resume with a pulse
        assert c.times[CallState.OFFERED] > v.timers.mf_back_cycle


@pytest.mark.parametrize("name", ALL)
def test_busy_is_user_busy_on_the_caller(name: str) -> None:
    v = variant(name)
    net, a, b = call_through(v, "5555", "1")
    b.do("reject", net.now, Cause.USER_BUSY)
    net.run_until(lambda: "released" in net.kinds(0) and "released" in net.kinds(1), 10000)
    assert net.last(0, "released").cause == Cause.USER_BUSY
    assert net.last(1, "released").cause == Cause.USER_BUSY
    assert a.machine.idle and b.machine.idle


@pytest.mark.parametrize("name", ALL)
def test_caller_abandons_while_offered(name: str) -> None:
    net, a, b = call_through(variant(name), "1234", "99")
    a.do("hangup", net.now)
    net.run_until(lambda: "released" in net.kinds(1) and "released" in net.kinds(0), 10000)
    assert a.machine.idle and b.machine.idle


def test_ani_restricted() -> None:
    v = variant("itu")
    net, a, b = pair(v)
    a.execute(a.machine.dial("1234", 0, ani="555"), 0)
    a.machine.fwd.ani_restricted = True  # type: ignore[union-attr]
    net.run_until(lambda: "offered" in net.kinds(1), 30000)
    c = net.last(1, "offered").call
    assert c.ani_restricted and c.ani == "" and c.dnis == "1234"


def test_answer_timer_clears_forward() -> None:
    v = variant("itu")
    net, a, b = call_through(v, "1234", "1")
    b.do("accept", net.now)
    net.run_until(lambda: "released" in net.kinds(0), v.timers.answer + 5000)
    assert net.last(0, "released").cause == Cause.NO_ANSWER
    net.run_until(lambda: "released" in net.kinds(1), 5000)


def test_double_seizure_both_back_off_and_go_idle() -> None:
    net, a, b = pair(variant("itu"))
    a.do("dial", 0, "1", ani="1")
    b.do("dial", 0, "2", ani="2")
    net.run_until(lambda: "released" in net.kinds(0) and "released" in net.kinds(1), 10000)
    assert net.last(0, "released").cause == Cause.CHANNEL_UNAVAILABLE
    assert net.last(1, "released").cause == Cause.CHANNEL_UNAVAILABLE
    net.run(100)
    assert a.machine.idle and b.machine.idle
    a.do("dial", net.now, "1", ani="1")  # the circuit works again
    net.run_until(lambda: net.kinds(1).count("offered") == 1, 30000)


def test_no_seize_ack_times_out() -> None:
    v = variant("itu")
    net = Net()
    (a,) = net.add_pair(1, R2Channel(v, "A"), R2Channel(v, "B"))[:1]
    del net.sides[1][1]  # nobody at the far end
    a.do("dial", 0, "1", ani="1")
    net.run_until(lambda: "released" in net.kinds(0), v.timers.seize_ack + 100)
    assert net.last(0, "released").cause == Cause.RECOVERY_ON_TIMER_EXPIRY
    assert a.machine.line.tx_bits == v.bits("clear_forward")


def test_blocking() -> None:
    net, a, b = pair(variant("cn"))
    b.do("block", 0)
    net.run(20)
    assert net.kinds(0) == ["blocked"]
    with pytest.raises(LocalProtocolError) as e:
        a.machine.dial("1", net.now)
    assert "A1" in str(e.value) and "seize" in str(e.value)
    b.do("unblock", net.now)
    net.run(20)
    assert net.kinds(0) == ["blocked", "unblocked"]
    a.do("dial", net.now, "1234", ani="1")
    net.run_until(lambda: "offered" in net.kinds(1), 30000)


def test_span_alarm_mid_call_clears_with_network_out_of_order() -> None:
    net, a, b = call_through(variant("itu"), "1234", "1")
    b.do("answer", net.now)
    net.run_until(lambda: "answered" in net.kinds(0), 5000)
    a.feed(ChannelAlarm(0, 1, Alarm.RED), net.now)
    assert net.last(0, "released").cause == Cause.NETWORK_OUT_OF_ORDER
    assert a.machine.call is None
    a.feed(ChannelAlarm(0, 1, Alarm.NONE), net.now)  # far side still answered: it sees nothing
    assert a.machine.line.state.value == "idle"


def test_unexpected_bits_mid_call_release_with_protocol_error() -> None:
    from ccboard.board.events import BitsChanged

    v = variant("itu")
    net, a, b = call_through(v, "1234", "1")
    b.do("answer", net.now)
    net.run_until(lambda: "answered" in net.kinds(1), 5000)
    b.feed(BitsChanged(0, 1, 0b0101), net.now)  # 'answer' code arriving at the backward end
    assert net.last(1, "releasing").cause == Cause.PROTOCOL_ERROR
    net.run_until(lambda: "released" in net.kinds(1) and "released" in net.kinds(0), 10000)
    assert a.machine.idle and b.machine.idle


def test_dial_rejects_non_digits() -> None:
    m = R2Channel(variant("itu"), 5)
    with pytest.raises(LocalProtocolError) as e:
        m.dial("12*4", 0)
    assert "channel 5" in str(e.value) and "dial" in str(e.value)
