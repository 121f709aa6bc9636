"""Random remote bits, digits, MF signals, alarms, timeouts and operations against the E&M
machine, every start x address x ANI setting (hypothesis), with the invariants of
test_machines_hypothesis: only ProtocolError naming channel, state and event; never a call left
half-open; every released call carries a Q.850 cause; the line ends on hook."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ccboard.board.events import Alarm, BitsChanged, ChannelAlarm
from ccboard.errors import ProtocolError
from ccboard.signalling.call import CallMachine, Direction
from ccboard.signalling.em import EmChannel, EmTimers
from tests.signalling.helpers import Net
from tests.signalling.test_machines_hypothesis import CH, drive, remote

# the A bit toggles far more often than other codes: winks, answers and clears are A changes
em_remote = st.one_of(
    remote,
    st.tuples(st.just("bits"), st.sampled_from([0b0000, 0b1111])),
    st.tuples(st.just("wait"), st.sampled_from([6, 50, 100, 160, 250, 320, 800, 5000, 17000])),
)


def em_clear(m: CallMachine, now: float) -> float:
    assert isinstance(m, EmChannel)
    m.handle(ChannelAlarm(0, CH, Alarm.NONE), now)
    if m.call is not None:
        try:
            m.hangup(now)
        except ProtocolError:
            pass
    m.handle(BitsChanged(0, CH, 0b0000), now + 6)  # the far end goes on hook
    return now + 6


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(["wink", "immediate"]),
    st.sampled_from(["dtmf", "mf"]),
    st.booleans(),
    st.lists(em_remote, max_size=60),
)
def test_em_random(start: str, address: str, ani: bool, steps: list[tuple[Any, ...]]) -> None:
    m = EmChannel(CH, start=start, address=address, ani=ani)
    m.start()
    drive(m, steps, em_clear)
    assert not m.offhook and m.state == "idle" and m.idle


ops = st.lists(
    st.tuples(
        st.integers(0, 1),
        st.sampled_from(["dial", "answer", "alert", "reject", "hangup", "wait"]),
        st.sampled_from([1, 10, 60, 170, 400, 1500]),
    ),
    max_size=12,
)


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(["wink", "immediate"]), st.sampled_from(["dtmf", "mf"]), ops)
def test_em_back_to_back_random_operations(
    start: str, address: str, script: list[tuple[int, str, int]]
) -> None:
    """Two E&M ends over the line (bits 6 ms late, tones through the kernels), random operations
    at random moments on either side (glare included): both end idle with every call released,
    and (wink start) our answer supervision never reports an answer the far end did not give."""
    net = Net(step_ms=1, bit_delay_ms=6, dtmf=True)
    t = EmTimers(wink_wait=1500, first_digit=2000, interdigit=1000, disconnect_wait=800)
    d = net.add_pair(
        4,
        EmChannel("A4", start=start, address=address, timers=t),
        EmChannel("B4", start=start, address=address, timers=t),
    )
    for side, op, ms in script:
        m = d[side]
        try:
            if op == "dial":
                m.do("dial", net.now, "123")
            elif op == "reject":
                m.do("reject", net.now, 17)
            elif op != "wait":
                m.do(op, net.now)
        except ProtocolError as e:
            assert e.channel in ("A4", "B4") and e.state and e.event
        net.run(ms)
    for m in d:
        if m.machine.call is not None:
            try:
                m.do("hangup", net.now)
            except ProtocolError:
                pass
    net.run(2000)  # disconnect_wait, then the guard time
    assert d[0].machine.idle and d[1].machine.idle
    for side in (0, 1):
        for s, _, e in net.log:
            if s == side and e.kind == "released":
                assert e.call is not None and e.call.cause is not None
    if start == "wink":  # (immediate start cannot tell glare from an answer: both ends "answer")

        def answered(side: int, direction: Direction) -> int:
            return sum(
                1
                for s, _, e in net.log
                if s == side and e.kind == "answered" and e.call is not None and e.call.direction == direction
            )

        for side in (0, 1):
            assert answered(side, Direction.OUTGOING) <= answered(1 - side, Direction.INCOMING)
