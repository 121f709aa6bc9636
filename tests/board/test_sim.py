"""The sim board: layout by URL, E1/T1 framing (CRC-4, CRC-6, CAS, robbed bits), the audio path
with hybrid echo, analog port timing, and configuration from system.conf / TOML."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccboard.board import open_board
from ccboard.board.channel import Signalling
from ccboard.board.events import Alarm, BitsChanged, HookChanged, HookFlash, RingChanged
from ccboard.board.sim import e1, t1
from ccboard.board.sim.crc import crc_bitwise
from ccboard.board.span import SpanKind
from ccboard.errors import BoardError, ConfigError
from tests.board.helpers import of, run


def test_default_url_is_one_e1_cas_and_an_analog_group() -> None:
    b = open_board("sim://")
    assert [s.kind for s in b.spans] == [SpanKind.E1, SpanKind.ANALOG]
    e1span, analog = b.spans
    assert [c.chanpos for c in e1span.channels] == [*range(1, 16), *range(17, 32)]
    assert e1span.channels[0].channo == 1 and e1span.channels[-1].channo == 31
    assert e1span.crc4 and all(c.signalling == Signalling.CAS and c.law == "alaw" for c in e1span.channels)
    assert sum(c.signalling.is_fxs_port for c in analog.channels) == 4
    assert sum(c.signalling.is_fxo_port for c in analog.channels) == 4
    assert analog.channels[0].channo == 32


def test_url_query_and_errors() -> None:
    b = open_board("sim://?e1=2&t1=1")
    assert [s.kind for s in b.spans] == [SpanKind.E1, SpanKind.E1, SpanKind.T1]
    assert b.spans[2].channels[0].channo == 63  # DAHDI numbering: 31 per E1
    with pytest.raises(BoardError, match="unknown parameter 'bogus'"):
        open_board("sim://?bogus=1")
    with pytest.raises(BoardError, match="at least one span"):
        open_board("sim://?e1=0")


def test_lines_align_from_the_bits_and_stay_clean() -> None:
    b = open_board("sim://?e1=2&t1=2")
    ev = run(b, 40)
    assert all(s.alarms == Alarm.NONE for s in b.spans)
    run(b, 500)
    for s in b.spans:
        assert (s.counters.crc_errors, s.counters.framing_errors, s.counters.slips) == (0, 0, 0)
    assert not of(ev, BitsChanged)


def _bits(v: int) -> list[int]:
    return [(v >> (7 - k)) & 1 for k in range(8)]


@settings(max_examples=25, deadline=None)
@given(st.binary(min_size=256, max_size=256))
def test_crc4_matches_bit_serial_g704(data: bytes) -> None:
    frames = np.frombuffer(data, np.uint8).reshape(1, 32, 8)
    bits: list[int] = []
    for f in range(8):
        for ts in range(32):
            v = int(frames[0, ts, f]) & (0x7F if ts == 0 and f % 2 == 0 else 0xFF)
            bits += _bits(v)
    assert int(e1.crc4(frames)[0]) == crc_bitwise(bits, 0x3, 4)


@settings(max_examples=10, deadline=None)
@given(st.binary(min_size=3 * 192, max_size=3 * 192))
def test_crc6_matches_bit_serial_with_f_bits_as_ones(data: bytes) -> None:
    oc = np.frombuffer(data, np.uint8).reshape(3, 1, 24, 8)
    total = t1.crc6_part(oc[0], 0) ^ t1.crc6_part(oc[1], 1) ^ t1.crc6_part(oc[2], 2) ^ t1.CRC6_F_ONES
    bits: list[int] = []
    for g in range(24):
        p, fr = divmod(g, 8)
        bits.append(1)
        for ch in range(24):
            bits += _bits(int(oc[p, 0, ch, fr]))
    assert int(total[0]) == crc_bitwise(bits, 0x3, 6)


@pytest.mark.parametrize("url,channo,chanpos", [("sim://?e1=2", 40, 9), ("sim://?t1=2", 30, 6)])
def test_cas_bits_both_ways_on_exactly_one_channel(url: str, channo: int, chanpos: int) -> None:
    b = open_board(url)
    run(b, 30)
    fe = b.far_ends[2]
    fe.set_bits(chanpos, 0b0001)
    ev = of(run(b, 30), BitsChanged)
    assert [(e.channel, e.bits) for e in ev] == [(channo, 0b0001)]
    assert b.channel(channo).rx_bits == 0b0001
    b.set_tx_bits(channo, 0b1101)
    run(b, 30)
    assert fe.seen == {chanpos: 0b1101}


def test_far_end_tone_reaches_rx_and_echo_has_the_chosen_erl_and_delay() -> None:
    b = open_board("sim://?e1=1&fxs=0&fxo=0")
    fe = b.far_ends[1]
    fe.noise(None)
    fe.echo(10.0, delay_ms=12, chanpos=3)
    ch = b.channel(3)
    rx = np.zeros(0, np.int16)
    t = np.arange(8)
    for k in range(300):
        if 100 <= k < 200:
            b.tx[ch.index] = np.round(8000 * np.sin(2 * np.pi * 1000 * (8 * k + t) / 8000)).astype(np.int16)
        else:
            b.tx[ch.index] = 0
        b.tick()
        rx = np.concatenate([rx, b.rx[ch.index]])
    onset = int(np.argmax(np.abs(rx) > 500)) / 8  # ms
    assert 100 + 12 <= onset <= 100 + 12 + 1.5  # store delay 0.5 ms
    seg = rx[(130 * 8) : (190 * 8)].astype(float)
    erl = 20 * np.log10((8000 / np.sqrt(2)) / np.sqrt(np.mean(seg**2)))
    assert erl == pytest.approx(10.0, abs=0.3)
    assert not np.any(b.rx[b.channel(4).index] != b.rx[b.channel(4).index][0])  # no echo elsewhere


def test_same_seed_same_audio() -> None:
    a, c = open_board("sim://?e1=1&seed=7"), open_board("sim://?e1=1&seed=7")
    for _ in range(100):
        a.tick()
        c.tick()
        assert np.array_equal(a.rx, c.rx)


@settings(max_examples=12, deadline=None)
@given(st.integers(min_value=20, max_value=1200))
def test_fxs_break_is_bounce_flash_or_hangup_by_its_length(break_ms: int) -> None:
    b = open_board("sim://?fxs=1")
    fe = b.far_ends[1]
    fe.offhook(1)
    assert of(run(b, 5), HookChanged)[0].offhook
    fe.onhook(1)
    b.at(b.t / 8 + break_ms, fe.offhook, 1)
    ev = run(b, break_ms + 900)
    flashes, hooks = of(ev, HookFlash), of(ev, HookChanged)
    if break_ms < 100:
        assert not flashes and not hooks
    elif break_ms < 700:
        assert len(flashes) == 1 and not hooks
    else:
        assert not flashes and [h.offhook for h in hooks] == [False, True]


def test_fxo_ring_cadence_follows_the_zone_and_ring_trip() -> None:
    b = open_board("sim://?fxo=1&zone=uk")
    fe = b.far_ends[1]
    fe.ring(1)
    ev = of(run(b, 3000), RingChanged)
    edges = [(e.t // 8, e.ringing) for e in ev]
    t0 = edges[0][0]
    assert [(t - t0, on) for t, on in edges] == [
        (0, True),
        (400, False),
        (600, True),
        (1000, False),
        (3000, True),
    ][: len(edges)] and len(edges) == 4
    b.set_hook(1, True)
    assert [(type(e).__name__, getattr(e, "offhook", None)) for e in run(b, 2)] == [("HookChanged", True)]
    fe.disconnect(1)
    hooks = of(run(b, 700), HookChanged)
    assert [h.offhook for h in hooks] == [False, True]  # kewl start: battery drops ~600 ms


def test_phone_answers_after_rings() -> None:
    b = open_board("sim://?fxs=1")
    b.far_ends[1].answer_after(1, 2, delay_ms=300)
    b.set_ring(1, True)
    run(b, 100)
    b.set_ring(1, False)
    assert not of(run(b, 100), HookChanged)
    b.set_ring(1, True)
    ev = of(run(b, 400), HookChanged)
    assert len(ev) == 1 and ev[0].offhook
    assert not b.channel(1).ringing or b.fxs[1].ringing is False


def test_line_controls_refuse_the_wrong_channel() -> None:
    b = open_board("sim://")
    with pytest.raises(BoardError, match="FXO port"):
        b.set_hook(1, True)
    with pytest.raises(BoardError, match="FXS port"):
        b.set_ring(1, True)
    with pytest.raises(BoardError, match="not a CAS channel"):
        b.set_tx_bits(32, 1)
    with pytest.raises(BoardError, match="no action"):
        b.far_ends[1].at(10, "explode")


SYSTEM_CONF = """
span=1,1,0,cas,hdb3,crc4
cas=1-15,17-31:1101
span=2,0,0,esf,b8zs
bchan=32-54
dchan=55
fxoks=56-57
fxsks=58-59
defaultzone=de
"""


def test_sim_from_system_conf(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "system.conf"
    p.write_text(SYSTEM_CONF)
    b = open_board(f"sim://{p}")
    assert [s.kind for s in b.spans][:2] == [SpanKind.E1, SpanKind.T1]
    run(b, 60)
    assert b.spans[0].ok and b.spans[1].ok
    assert b.channel(1).rx_bits == 0b1101  # cas idle bits from the file, sent by the far end
    assert b.channel(55).signalling == Signalling.DCHAN


def test_sim_from_toml_with_scheduled_fault(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "board.toml"
    p.write_text(
        '[board]\nseed = 3\n[[span]]\nkind = "E1"\ncount = 2\n'
        '[[fault]]\nspan = 2\nkind = "los"\nat_s = 0.1\nduration_s = 0.05\n'
    )
    b = open_board(f"sim://{p}")
    ev = run(b, 200)
    alarms = [(e.span, e.alarms) for e in ev if type(e).__name__ == "AlarmChanged"]
    assert alarms == [(2, Alarm.RED | Alarm.LOS), (2, Alarm.NONE)]
    p.write_text("[board]\nseed = -1\n")
    with pytest.raises(ConfigError):
        open_board(f"sim://{p}")


@pytest.mark.parametrize("url,dchan,chanpos", [("sim://?e1=1&ccs=1", 16, 16), ("sim://?t1=1&ccs=1", 24, 24)])
def test_d_channel_frames_both_ways_and_bit_errors_break_the_fcs(url: str, dchan: int, chanpos: int) -> None:
    from ccboard.board.events import FrameReceived

    b = open_board(url)
    run(b, 30)
    fe = b.far_ends[1]
    b.send_frame(dchan, b"\x00\x01\x7f\x7e\xff SETUP")
    run(b, 10)
    assert fe.frames == [(chanpos, b"\x00\x01\x7f\x7e\xff SETUP", True)]
    fe.send_frame(chanpos, b"\x02\x01\x03 CONNECT")
    ev = of(run(b, 10), FrameReceived)
    assert [(e.channel, e.data, e.ok) for e in ev] == [(dchan, b"\x02\x01\x03 CONNECT", True)]
    b.faults.bit_errors(1, 0.02, "rx")
    for _ in range(5):
        fe.send_frame(chanpos, bytes(range(60)))
    ev = of(run(b, 60), FrameReceived)
    assert not any(e.ok and e.data == bytes(range(60)) for e in ev)
    with pytest.raises(BoardError, match="not a D-channel"):
        b.send_frame(1, b"x")
