"""Faults on demand: alarms mid-call on exactly the affected span and channels, the RAI / E-bit
loop back from the far end, bit errors counted by CRC, slips that keep the DSP in step, a cable
pulled mid-call, and random fault sequences that never break the board."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccboard.board import open_board
from ccboard.board.events import Alarm, AlarmChanged, ChannelAlarm, HookChanged
from tests.board.helpers import digits_by_channel, of, run

CALLER = "0123456789*#"


def _key_everywhere(board, spans: list[int]) -> None:  # type: ignore[no-untyped-def]
    for s in spans:
        for pos in (1, 9, 17, 31):
            board.far_ends[s].dtmf(pos, CALLER, gap_ms=(90.0, 150.0))


def test_los_mid_call_alarms_exactly_the_affected_span_and_channels() -> None:
    b = open_board("sim://?e1=3&fxs=0&fxo=0")
    run(b, 30)
    _key_everywhere(b, [1, 2, 3])
    b.at(b.t / 8 + 600, b.faults.los, 2)
    b.at(b.t / 8 + 900, b.faults.los, 2, False)
    ev = run(b, 4000)
    alarms = of(ev, AlarmChanged)
    assert [(a.span, a.alarms) for a in alarms] == [(2, Alarm.RED | Alarm.LOS), (2, Alarm.NONE)]
    chan = of(ev, ChannelAlarm)
    span2 = {c.channo for c in b.span(2).channels}
    assert {c.channel for c in chan} == span2 and len(chan) == 2 * len(span2)
    assert all(b.channel(c).alarms == Alarm.NONE for c in span2)
    got = digits_by_channel(ev)
    for s in (1, 3):  # untouched spans hear every digit
        for pos in (1, 9, 17, 31):
            assert got[b.far_ends[s]._channo(pos)] == CALLER
    # on span 2 the digits keyed during the 300 ms outage are lost, the others still decode
    for pos in (1, 9, 17, 31):
        heard = got.get(b.far_ends[2]._channo(pos), "")
        assert 0 < len(heard) < len(CALLER)


def test_ais_is_blue_and_rai_is_yellow() -> None:
    b = open_board("sim://?e1=1&t1=1&fxs=0&fxo=0")
    run(b, 30)
    for span in (1, 2):
        b.faults.ais(span)
        assert [a.alarms for a in of(run(b, 10), AlarmChanged)] == [Alarm.BLUE]
        b.faults.ais(span, False)
        run(b, 30)
        assert b.span(span).ok
        b.faults.rai(span)
        assert [a.alarms for a in of(run(b, 30), AlarmChanged)] == [Alarm.YELLOW]
        b.faults.rai(span, False)
        run(b, 30)
        assert b.span(span).ok


@pytest.mark.parametrize("url", ["sim://?e1=1&fxs=0&fxo=0", "sim://?t1=1&fxs=0&fxo=0"])
def test_our_tx_lost_makes_the_far_end_send_rai(url: str) -> None:
    b = open_board(url)
    run(b, 30)
    b.faults.los(1, True, "tx")
    assert [a.alarms for a in of(run(b, 30), AlarmChanged)] == [Alarm.YELLOW]
    b.faults.los(1, False, "tx")
    assert [a.alarms for a in of(run(b, 40), AlarmChanged)] == [Alarm.NONE]


def test_bit_errors_are_counted_by_crc4_and_reported_back_in_e_bits() -> None:
    b = open_board("sim://?e1=1&fxs=0&fxo=0")
    run(b, 30)
    ber = 1e-4
    b.faults.bit_errors(1, ber, "rx")
    run(b, 2000)
    b.faults.bit_errors(1, 0.0, "rx")
    run(b, 10)
    c = b.span(1).counters
    p = 1 - (1 - ber) ** 2048  # an SMF (1 ms) with at least one error
    assert abs(c.crc_errors - 2000 * p) < 5 * np.sqrt(2000 * p)
    assert c.ebits == 0
    b.faults.bit_errors(1, ber, "tx")
    run(b, 2000)
    assert abs(b.span(1).counters.ebits - 2000 * p) < 5 * np.sqrt(2000 * p)
    assert b.span(1).counters.crc_errors == c.crc_errors


def test_t1_bit_errors_are_counted_by_crc6() -> None:
    b = open_board("sim://?t1=1&fxs=0&fxo=0")
    run(b, 30)
    b.faults.bit_errors(1, 1e-4, "rx")
    run(b, 3000)
    p = 1 - (1 - 1e-4) ** 4632  # per 3 ms ESF
    assert abs(b.span(1).counters.crc_errors - 1000 * p) < 5 * np.sqrt(1000 * p)


@pytest.mark.parametrize("kind,shift", [("delete", 1), ("repeat", -1)])
def test_a_slip_moves_the_audio_one_sample_and_the_dsp_stays_in_step(kind: str, shift: int) -> None:
    a, c = open_board("sim://?e1=2&fxs=0&fxo=0"), open_board("sim://?e1=2&fxs=0&fxo=0")
    for b in (a, c):
        run(b, 30)
        _key_everywhere(b, [1, 2])
    ea, ec = run(a, 500), run(c, 500)
    a.faults.slip(1, kind)
    ra, rc = [], []
    for _ in range(3500):
        ea += a.tick()
        ec += c.tick()
        ra.append(a.rx.copy())
        rc.append(c.rx.copy())
    x, y = np.concatenate(ra, axis=1), np.concatenate(rc, axis=1)
    s1 = [ch.index for ch in a.span(1).channels]
    s2 = [ch.index for ch in a.span(2).channels]
    assert np.array_equal(x[s2], y[s2])  # the other span did not slip
    assert np.array_equal(x[s1, 100:-100], y[s1, 100 + shift : x.shape[1] - 100 + shift])
    assert a.span(1).counters.slips == 1 and a.span(2).counters.slips == 0
    assert digits_by_channel(ea) == digits_by_channel(ec)  # every digit still decoded
    assert all(v == CALLER for v in digits_by_channel(ea).values())


def test_cable_pulled_mid_call_on_analog_ports() -> None:
    b = open_board("sim://?fxs=2&fxo=2")
    fe = b.far_ends[1]
    fe.offhook(1)
    fe.ring(3)
    run(b, 100)
    b.set_hook(3, True)
    run(b, 10)
    b.faults.cable_pull(1)
    ev = run(b, 800)
    assert {(e.channel, e.alarms) for e in of(ev, ChannelAlarm)} == {(3, Alarm.RED), (4, Alarm.RED)}
    assert [(e.channel, e.offhook) for e in of(ev, HookChanged)] == [(3, False), (1, False)]
    b.faults.cable_pull(1, False)
    ev = run(b, 10)
    assert {(e.channel, e.alarms) for e in of(ev, ChannelAlarm)} == {(3, Alarm.NONE), (4, Alarm.NONE)}
    assert b.channel(1).alarms == Alarm.NONE


FAULT = st.sampled_from(["los", "ais", "rai", "slip", "bit_errors", "cable_pull"])


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(FAULT, st.integers(1, 2), st.integers(1, 60), st.booleans()), max_size=8))
def test_any_fault_sequence_keeps_the_board_running_and_clears(
    plan: list[tuple[str, int, int, bool]],
) -> None:
    b = open_board("sim://?e1=1&t1=1&fxs=0&fxo=0")
    run(b, 30)
    for kind, span, ms, on in plan:
        b.faults.apply(kind, span, on, 1e-3)
        run(b, ms)
        assert b.rx.shape == (b.rx.shape[0], 8)
    for kind in ("los", "ais", "rai", "bit_errors", "cable_pull"):
        for span in (1, 2):
            b.faults.apply(kind, span, False)
    run(b, 60)
    assert all(s.ok for s in b.spans)
