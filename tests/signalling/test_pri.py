"""ISDN PRI (Q.921/Q.931 through libpri): our controller back to back against a libpri network
instance frame to frame (no board), then end to end on the sim over its HDLC D-channels against
the sim's PRI far end (libpri in network mode)."""

from __future__ import annotations

import heapq
from typing import Any
from urllib.parse import urlparse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccboard.board.events import FrameReceived
from ccboard.board.sim import open_sim
from ccboard.board.sim.pri_farend import PriFarEnd, attach
from ccboard.errors import LocalProtocolError, ProtocolError
from ccboard.signalling.actions import Action, CallEvent
from ccboard.signalling.call import Call, CallState, Cause, Direction
from ccboard.signalling.pri import PriDriver, PriSpan, PriStack, SendFrame, cause_name, spans_of

E1_B = {p: 100 + p for p in range(1, 32) if p != 16}  # chanpos -> channo
T1_B = {p: 200 + p for p in range(1, 24)}


class Pair:
    """Our span (side 0, CPE) and a network span (side 1) joined by a frame wire, virtual time.
    Frames take `delay_ms`; every CallEvent is logged as (ms, side, event)."""

    def __init__(
        self, switch: str = "euroisdn_e1", bchans: dict[int, int] | None = None, delay_ms: float = 2.0
    ):
        b = bchans or E1_B
        law = "alaw" if b is E1_B else "ulaw"
        self.sides = [
            PriSpan(1, 16, b, node="cpe", switch=switch, law=law),
            PriSpan(1, 16, b, node="network", switch=switch, law=law),
        ]
        self.delay = delay_ms
        self.now = 0.0
        self.q: list[tuple[float, int, int, bytes]] = []
        self.seq = 0
        self.log: list[tuple[float, int, CallEvent]] = []
        self.cut = False  # frames are lost (the wire is broken)
        for i, s in enumerate(self.sides):
            self.ex(i, s.start(0.0))
        self.run(50)

    def ex(self, side: int, acts: list[Action]) -> None:
        for a in acts:
            if isinstance(a, SendFrame):
                if not self.cut:
                    self.seq += 1
                    heapq.heappush(self.q, (self.now + self.delay, self.seq, 1 - side, a.data))
            elif isinstance(a, CallEvent):
                self.log.append((self.now, side, a))

    def do(self, side: int, op: str, *args: Any, **kw: Any) -> None:
        self.ex(side, getattr(self.sides[side], op)(*args, now=self.now, **kw))

    def run(self, ms: float) -> None:
        end = self.now + ms
        while True:
            t = [self.q[0][0]] if self.q else []
            t += [d for d in (s.next_deadline() for s in self.sides) if d is not None]
            if not t or min(t) > end:
                self.now = end
                return
            self.now = max(self.now, min(t))
            while self.q and self.q[0][0] <= self.now:
                _, _, side, data = heapq.heappop(self.q)
                self.ex(side, self.sides[side].handle(FrameReceived(0, 16, data, True), self.now))
            for i, s in enumerate(self.sides):
                d = s.next_deadline()
                if d is not None and d <= self.now:
                    self.ex(i, s.on_timeout(self.now))

    def events(self, side: int, kind: str | None = None) -> list[CallEvent]:
        return [e for _, s, e in self.log if s == side and (kind is None or e.kind == kind)]

    def call(self, side: int, kind: str = "offered") -> Call:
        c = self.events(side, kind)[-1].call
        assert c is not None
        return c


def kinds(evs: list[CallEvent]) -> list[str]:
    return [e.kind for e in evs]


# ---- back to back: our CPE against libpri in network mode ------------------------------------


@pytest.mark.parametrize(
    "switch,bchans", [("euroisdn_e1", E1_B), ("ni2", T1_B), ("dms100", T1_B), ("5ess", T1_B)]
)
def test_q931_call_user_to_network_numbers_alerting_connect_disconnect(
    switch: str, bchans: dict[int, int]
) -> None:
    p = Pair(switch, bchans)
    assert [s.state for s in p.sides] == ["up", "up"]
    p.do(0, "dial", "5551234", ani="88776655", name="Bank")
    ours = p.call(0, "seized")
    assert ours.channel == bchans[max(bchans)]  # the user side hunts from the top
    p.run(20)
    theirs = p.call(1)
    assert (theirs.dnis, theirs.ani, theirs.direction) == ("5551234", "88776655", Direction.INCOMING)
    assert theirs.channel == ours.channel
    p.do(1, "accept", theirs.channel)
    p.do(1, "alert", theirs.channel)
    p.run(20)
    assert ours.state == CallState.ALERTING
    p.do(1, "answer", theirs.channel)
    p.run(20)
    assert ours.state == theirs.state == CallState.ANSWERED
    p.do(0, "hangup", ours.channel, cause=Cause.NORMAL_CLEARING)
    p.run(50)
    assert ours.state == theirs.state == CallState.RELEASED
    assert ours.cause == theirs.cause == Cause.NORMAL_CLEARING
    assert kinds(p.events(0))[-6:] == [
        "seized",
        "proceeding",
        "alerting",
        "answered",
        "releasing",
        "released",
    ]
    assert not p.sides[0].by_key and not p.sides[1].by_key
    assert p.sides[0].stack.errors[0] == 0 and p.sides[1].stack.errors[0] == 0


@pytest.mark.parametrize(
    "cause",
    [
        Cause.UNALLOCATED_NUMBER,
        Cause.NORMAL_CLEARING,
        Cause.USER_BUSY,
        Cause.NO_ANSWER,
        Cause.CALL_REJECTED,
        Cause.NO_CIRCUIT_AVAILABLE,
        Cause.SWITCH_CONGESTION,
        Cause.CHANNEL_UNAVAILABLE,
    ],
)
def test_q850_causes_travel_both_ways(cause: int) -> None:
    p = Pair()
    # network rejects our call with the cause
    p.do(0, "dial", "1000")
    p.run(20)
    theirs = p.call(1)
    p.do(1, "reject", theirs.channel, cause)
    p.run(50)
    ours = p.call(0, "seized")
    assert ours.state == CallState.RELEASED and ours.cause == cause, cause_name(cause)
    # and the network's answered call cleared by us with the cause
    p.do(1, "dial", "2000", ani="3000")
    p.run(20)
    inc = p.call(0)
    p.do(0, "answer", inc.channel)
    p.run(20)
    p.do(0, "hangup", inc.channel, cause=cause)
    p.run(50)
    out = p.call(1, "seized")
    assert out.state == CallState.RELEASED and out.cause == cause


def test_network_calls_us_and_clears_with_cause() -> None:
    p = Pair()
    p.do(1, "dial", "4000", ani="13800138000", restricted=True)
    p.run(20)
    inc = p.call(0)
    assert inc.channel == E1_B[1]  # the network hunts from the bottom
    assert (inc.dnis, inc.ani, inc.ani_restricted) == ("4000", "13800138000", True)
    p.do(0, "alert", inc.channel)
    p.run(10)
    assert p.call(1, "seized").state == CallState.ALERTING
    p.do(0, "answer", inc.channel)
    p.run(10)
    p.do(1, "hangup", inc.channel, cause=Cause.NORMAL_CLEARING)
    p.run(50)
    assert inc.state == CallState.RELEASED and inc.cause == Cause.NORMAL_CLEARING
    assert kinds(p.events(0))[-4:] == ["alerting", "answered", "releasing", "released"]


def test_glare_the_networks_exclusive_setup_wins_and_ours_moves() -> None:
    p = Pair()
    ch = E1_B[5]
    p.do(0, "dial", "111", channo=ch)  # preferred
    p.do(1, "dial", "222", channo=ch, exclusive=True)
    p.run(50)
    ours, theirs = p.events(0, "seized")[0].call, p.call(0, "offered")
    assert ours is not None and ours.direction == Direction.OUTGOING
    assert theirs.channel == ch and theirs.direction == Direction.INCOMING
    net_in = p.call(1, "offered")
    assert net_in.channel != ch  # the network gave our SETUP another channel
    p.do(1, "accept", net_in.channel)
    p.run(20)
    assert ours.state == CallState.PROCEEDING and ours.channel == net_in.channel
    for side, c in ((1, net_in), (0, theirs)):
        p.do(side, "answer", c.channel)
    p.run(50)
    assert ours.state == theirs.state == CallState.ANSWERED


def test_glare_with_an_exclusive_request_loses_with_cause_44() -> None:
    p = Pair()
    ch = E1_B[7]
    p.do(0, "dial", "111", channo=ch, exclusive=True)
    p.do(1, "dial", "222", channo=ch, exclusive=True)
    p.run(50)
    ours = p.events(0, "seized")[0].call
    assert ours is not None and ours.state == CallState.RELEASED and ours.cause == Cause.CHANNEL_UNAVAILABLE
    assert p.call(0, "offered").channel == ch


def test_restart_from_the_network_clears_the_channel_and_is_acknowledged() -> None:
    p = Pair()
    p.do(1, "dial", "4000")
    p.run(20)
    inc = p.call(0)
    p.do(0, "answer", inc.channel)
    p.run(20)
    net = p.sides[1]
    pos = net.pos_of[inc.channel]
    net.stack.destroy(net.by_pos[pos].key, p.now)  # the exchange forgot the call: it restarts the channel
    net._drop(net.by_pos[pos])
    p.do(1, "restart", channo=inc.channel)
    p.run(50)
    assert inc.state == CallState.RELEASED and inc.cause == Cause.TEMPORARY_FAILURE
    assert "restart" in kinds(p.events(0)) and "restart-ack" in kinds(p.events(1))
    p.do(1, "dial", "4001", channo=inc.channel, exclusive=True)
    p.run(20)
    assert p.call(0).channel == inc.channel and p.call(0).state == CallState.OFFERED


def test_the_link_stays_up_idle_and_goes_down_when_the_wire_is_cut() -> None:
    p = Pair()
    p.run(60_000)  # T203 keep-alives (RR polls) every 10 s
    assert [s.state for s in p.sides] == ["up", "up"]
    p.do(1, "dial", "4000")
    p.run(20)
    inc = p.call(0)
    p.do(0, "answer", inc.channel)
    p.run(20)
    p.cut = True
    p.q.clear()
    p.run(30_000)  # T203 + N200 x T200, then T309 clears the call
    assert p.sides[0].state == "down" and "dchan-down" in kinds(p.events(0))
    assert inc.state == CallState.RELEASED
    with pytest.raises(LocalProtocolError, match="not up"):
        p.do(0, "dial", "1")


def test_local_errors_name_span_channel_state_and_operation() -> None:
    p = Pair()
    with pytest.raises(LocalProtocolError) as e:
        p.do(0, "answer", E1_B[3])
    assert (e.value.channel, e.value.state, e.value.event) == ("1/3", "idle", "answer")
    p.do(1, "dial", "4000")
    p.run(20)
    inc = p.call(0)
    p.do(0, "answer", inc.channel)
    with pytest.raises(LocalProtocolError) as e2:
        p.do(0, "alert", inc.channel)
    assert e2.value.state == "answered" and "1/1" in str(e2.value)
    with pytest.raises(LocalProtocolError, match="not a B-channel"):
        p.do(0, "dial", "1", channo=999)
    with pytest.raises(LocalProtocolError):
        PriSpan(1, 16, E1_B, switch="nope")


def test_pri_channel_is_a_call_machine() -> None:
    p = Pair()
    m = p.sides[0].channel(E1_B[30])
    assert m.idle and m.state == "idle"
    p.ex(0, m.dial("777", now=p.now, ani="1"))
    p.run(20)
    assert m.call is not None and m.call.dnis == "777"
    p.do(1, "answer", p.call(1).channel)
    p.run(20)
    assert m.state == "answered"
    p.ex(0, m.hangup(now=p.now))
    p.run(50)
    assert m.idle


_OPS = st.lists(
    st.tuples(
        st.sampled_from(["dial", "accept", "alert", "answer", "reject", "hangup", "run"]),
        st.integers(0, 1),
        st.sampled_from([1, 2, 30, 31]),
        st.sampled_from([1, 3, 17, 40, 250]),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_OPS)
def test_any_sequence_only_protocol_errors_and_always_back_to_idle(
    ops: list[tuple[str, int, int, int]],
) -> None:
    p = Pair()
    for op, side, pos, ms in ops:
        ch = E1_B[pos]
        try:
            if op == "dial":
                p.do(side, "dial", "123", channo=ch, exclusive=bool(ms & 1))
            elif op == "reject":
                p.do(side, "reject", ch, Cause.CALL_REJECTED)
            elif op == "run":
                p.run(ms)
            else:
                p.do(side, op, ch)
        except ProtocolError as e:
            assert e.channel and e.state and e.event
        p.run(1)
    for side, s in enumerate(p.sides):
        for c in s.calls:
            if c.state != CallState.RELEASING:
                p.do(side, "hangup", c.channel)
    p.run(40_000)  # every clearing completes (T305/T308 included)
    for s in p.sides:
        assert not s.by_key and not s.by_pos
    for side in (0, 1):
        for e in p.events(side, "released"):
            assert e.call is not None and e.call.cause is not None


# ---- end to end on the sim -------------------------------------------------------------------


def sim(url: str = "sim://?e1=2&ccs=1", **kw: Any) -> tuple[PriDriver, dict[int, PriFarEnd]]:
    b = open_sim(urlparse(url))
    fes = attach(b, PriStack, **kw)
    d = PriDriver(b, spans_of(b))
    # a span that starts in alarm (T1 framing takes a while) restarts its B-channels once up
    d.run_until(
        lambda: (
            all(s.state == "up" and not s.restarting for s in d.spans) and all(f.up for f in fes.values())
        ),
        3000,
    )
    return d, fes


def test_sim_calls_both_ways_with_numbers_alerting_connect_and_disconnect_causes() -> None:
    d, fes = sim()
    fe = fes[1]
    # we call out: the exchange alerts, answers after 200 ms; then it clears with cause 16
    c = d.dial(1, "5551234", ani="88776655")
    d.run_until(lambda: c.state == CallState.ANSWERED, 2000)
    assert {CallState.PROCEEDING, CallState.ALERTING} <= set(c.times)
    assert 190 <= c.times[CallState.ANSWERED] - c.times[CallState.ALERTING] <= 230
    far = fe.by_pos[d.by_span[1].pos_of[c.channel]]
    assert (far.called, far.calling, far.state) == ("5551234", "88776655", "connected")
    fe.hangup(far.chanpos, Cause.NORMAL_CLEARING)
    d.run_until(lambda: c.state == CallState.RELEASED, 1000)
    assert c.cause == Cause.NORMAL_CLEARING
    # the exchange calls us; we alert, answer, then clear with cause 31
    fc = fes[2].call("4000", "13800138000")
    d.run_until(lambda: any(e.kind == "offered" for e in d.inbox), 1000)
    inc = next(e.call for e in d.take() if e.kind == "offered")
    assert inc is not None and (inc.dnis, inc.ani) == ("4000", "13800138000")
    d.do("alert", inc.channel)
    d.run(20)
    assert fc.state == "alerting"
    d.do("answer", inc.channel)
    d.run(20)
    assert fc.state == "connected"
    d.do("hangup", inc.channel, None, Cause.NORMAL_UNSPECIFIED)
    d.run_until(lambda: fc.state == "released" and inc.state == CallState.RELEASED, 1000)
    assert fc.cause == inc.cause == Cause.NORMAL_UNSPECIFIED


def test_sim_busy_and_routes() -> None:
    d, fes = sim("sim://?e1=1&ccs=1")
    fes[1].routes["999"] = "busy"
    fes[1].routes["998"] = Cause.UNALLOCATED_NUMBER
    a = d.dial(1, "999")
    b = d.dial(1, "998")
    d.run_until(lambda: a.state == b.state == CallState.RELEASED, 1000)
    assert (a.cause, b.cause) == (Cause.USER_BUSY, Cause.UNALLOCATED_NUMBER)


def test_sim_t1_ni2_span() -> None:
    d, fes = sim("sim://?t1=1&ccs=1")
    assert d.spans[0].stack.switch == "ni2" and d.spans[0].law == "ulaw"
    c = d.dial(1, "2125551212", ani="7185550000")
    d.run_until(lambda: c.state == CallState.ANSWERED, 2000)
    assert fes[1].by_pos[23].called == "2125551212"


def test_sim_span_alarm_clears_its_calls_with_cause_38_and_the_other_span_goes_on() -> None:
    d, fes = sim()
    for fe in fes.values():
        fe.call("4000", "1")
        fe.call("4001", "2")
    d.run_until(lambda: sum(e.kind == "offered" for e in d.inbox) == 4, 1000)
    calls = [e.call for e in d.take() if e.kind == "offered"]
    for c in calls:
        assert c is not None
        d.do("answer", c.channel)
    d.run(50)
    assert all(c is not None and c.state == CallState.ANSWERED for c in calls)
    on1 = [c for c in calls if c is not None and d.by_channo[int(c.channel)].span == 1]
    on2 = [c for c in calls if c is not None and d.by_channo[int(c.channel)].span == 2]
    d.board.faults.los(1, True)
    d.run_until(lambda: all(c.state == CallState.RELEASED for c in on1), 100)
    assert all(c.cause == Cause.NETWORK_OUT_OF_ORDER for c in on1)
    with pytest.raises(LocalProtocolError, match="alarm"):
        d.dial(1, "1")
    d.run(3000)
    assert all(c.state == CallState.ANSWERED for c in on2)
    assert all(fes[2].state(p) == "connected" for p in (1, 2))
    d.board.faults.los(1, False)
    # the alarm clears: both channels are restarted, the exchange forgets its calls, calls work again
    d.run_until(lambda: d.by_span[1].state == "up" and not d.by_span[1].restarting, 30_000)
    assert fes[1].state(1) == fes[1].state(2) == "idle"
    c = d.dial(1, "5000")
    d.run_until(lambda: c.state == CallState.ANSWERED, 2000)
    assert all(x.state == CallState.ANSWERED for x in on2)


def test_sim_glare_on_one_channel() -> None:
    d, fes = sim("sim://?e1=1&ccs=1")
    ours = d.dial(1, "111", channo=5)  # preferred: channel 5 (channo 5 on span 1)
    theirs = fes[1].call("222", chanpos=5)  # exclusive, at the same moment
    d.run_until(lambda: any(e.kind == "offered" for e in d.inbox) and ours.state != CallState.SEIZED, 1000)
    inc = next(e.call for e in d.take() if e.kind == "offered")
    assert inc is not None and inc.channel == 5 and theirs.chanpos == 5
    assert ours.channel != 5 and ours.state in (CallState.PROCEEDING, CallState.ALERTING)
    d.do("answer", inc.channel)
    d.run_until(lambda: ours.state == CallState.ANSWERED and theirs.state == "connected", 2000)
