"""The sim's R2 and E&M far ends under random line signals from our side, scripted calls and
clears, and time (hypothesis): nothing but BoardError from the script, and once our side goes
idle and the exchange's parties hang up, every circuit of the far end is idle again."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ccboard.board import open_board
from ccboard.board.sim import em_farend, r2_farend
from ccboard.errors import BoardError

POS = (1, 2)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("bits"), st.sampled_from(POS), st.integers(0, 15)),
        st.tuples(st.just("call"), st.sampled_from((None, *POS))),
        st.tuples(st.just("hangup"), st.sampled_from(POS)),
        st.tuples(st.just("run"), st.sampled_from([1, 5, 30, 150, 400, 2500])),
    ),
    max_size=25,
)


def play(b: Any, far: Any, idle_bits: int, script: list[tuple[Any, ...]]) -> None:
    fe = b.far_ends[1]
    for step in script:
        k = step[0]
        if k == "bits":
            b.set_tx_bits(b.span(1).channels[step[1] - 1].channo, step[2])
        elif k == "run":
            for _ in range(step[1]):
                b.tick()
        else:
            try:
                far.call("1234", "5678", chanpos=step[1]) if k == "call" else far.hangup(step[1])
            except BoardError as e:
                assert f"span {far.span}" in str(e)
    for pos in POS:
        b.set_tx_bits(b.span(1).channels[pos - 1].channo, idle_bits)
    for _ in range(100):
        b.tick()
    for pos in POS:
        if far.state(pos) != "idle":
            try:
                far.hangup(pos)
            except BoardError:
                pass  # mid-register: the cycle timer ends it
    for _ in range(7000):
        b.tick()
        if all(far.state(p) == "idle" for p in POS):
            break
    assert [far.state(p) for p in POS] == ["idle", "idle"], fe.seen


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["itu", "cn"]), steps)
def test_r2_far_end_random(name: str, script: list[tuple[Any, ...]]) -> None:
    b: Any = open_board("sim://?e1=1&fxs=0&fxo=0")
    far = r2_farend.attach(b, name)[1]
    play(b, far, (0b10 << 2) | far.v.cd, script)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["wink", "immediate"]), st.sampled_from(["dtmf", "mf"]), steps)
def test_em_far_end_random(start: str, address: str, script: list[tuple[Any, ...]]) -> None:
    b: Any = open_board("sim://?t1=1&fxs=0&fxo=0")
    far = em_farend.attach(b, start=start, address=address)[1]
    play(b, far, 0b0000, script)
