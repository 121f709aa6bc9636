"""Q.421 line signalling units: the ABCD codes per variant, and decoding by state."""

from __future__ import annotations

import pytest

from ccboard.signalling.r2.line import LineState, R2Line
from ccboard.signalling.r2.variants import variant


@pytest.mark.parametrize(
    ("name", "idle", "seize", "ack", "answer"),
    [("itu", 0b1001, 0b0001, 0b1101, 0b0101), ("cn", 0b1011, 0b0011, 0b1111, 0b0111)],
)
def test_codes_match_reference_table(name: str, idle: int, seize: int, ack: int, answer: int) -> None:
    v = variant(name)
    assert (v.bits("idle"), v.bits("seize"), v.bits("seize_ack"), v.bits("answer")) == (
        idle,
        seize,
        ack,
        answer,
    )
    assert v.bits("clear_back") == v.bits("blocked") == ack and v.bits("forced_release") == seize


def test_same_code_three_meanings() -> None:
    v = variant("itu")
    out = R2Line(v)
    out.seize(0)
    assert out.on_bits(0b1101)[1] == ["seize_ack"]
    assert out.on_bits(0b0101)[1] == ["answer"]
    assert out.on_bits(0b1101)[1] == ["clear_back"]
    idle = R2Line(v)
    assert idle.on_bits(0b1101)[1] == ["blocked"] and idle.remote_blocked
    assert idle.on_bits(0b1001)[1] == ["unblocked"]


def test_incoming_seize_ack_and_clear_forward_release_guard() -> None:
    v = variant("cn")
    ln = R2Line(v)
    acts, evs = ln.on_bits(0b0011)
    assert evs == ["seize"] and acts[0].bits == 0b1111  # type: ignore[attr-defined]
    acts, evs = ln.on_bits(0b1011)
    assert evs == ["clear_forward"] and acts[0].bits == 0b1011 and ln.state == LineState.IDLE  # type: ignore[attr-defined]


def test_release_guard_timer() -> None:
    v = variant("itu")
    ln = R2Line(v)
    ln.seize(0)
    ln.on_bits(0b1101)
    ln.clear_forward(100)
    assert ln.state == LineState.CLEAR_FORWARD_SENT and ln.next_deadline() == 100 + v.timers.release_guard
    assert ln.on_timeout(100 + v.timers.release_guard)[1][0] == "release_guard_timeout"
    assert ln.state == LineState.IDLE and ln.remote_blocked  # far end still shows 11: treat as blocked
