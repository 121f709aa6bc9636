"""The native E1 framer/deframer (ccboard.dsp.e1, G.704/G.706/G.732) through its binding.

A back-to-back pair of ends: our framer -> the far end's deframer, the far end's framer -> our
deframer, each framer sending its own receiver's RAI and E bits. The kernel works in whole
ticks (one CRC-4 SMF each), so the streaming property is tick-level: a state saved at any tick
and restored elsewhere continues identically.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccboard.board.sim.crc import crc_bitwise
from ccboard.dsp import e1
from ccboard.errors import DSPArgumentError, DSPTypeError

SPANS = 3
CRC4 = [True, True, False]
CAS = [True, False, True]
PAYLOAD_TS = [t for t in range(1, 32) if t != 16]


class Pair:
    def __init__(self, seed: int, far_phase: int = 1) -> None:
        self.near_tx = e1.E1Framer(SPANS, CRC4, CAS)
        self.far_rx = e1.E1Deframer(SPANS, CRC4, CAS)
        self.far_tx = e1.E1Framer(SPANS, CRC4, CAS, phase=far_phase)
        self.near_rx = e1.E1Deframer(SPANS, CRC4, CAS)
        self.rng = np.random.default_rng(seed)
        self.rai = np.zeros(SPANS, bool)

    def tick(self, flip_down: tuple[int, int, int, int] | None = None) -> None:
        """One tick both ways; flip_down = (span, ts, frame, bit) inverted on the way to us."""
        up = self.rng.integers(0, 256, (SPANS, 32, 8), dtype=np.uint8)
        down = self.rng.integers(0, 256, (SPANS, 32, 8), dtype=np.uint8)
        self.near_tx.build(up, self.near_rx)
        self.far_rx.process(up)
        self.far_tx.build(down, self.far_rx, self.rai)
        if flip_down is not None:
            s, t, f, b = flip_down
            down[s, t, f] ^= np.uint8(1 << b)
        self.near_rx.process(down)

    def align(self) -> None:
        for _ in range(20):
            self.tick()
        assert self.near_rx.quiet and self.far_rx.quiet


def bits_of(tick: npt.NDArray[np.uint8]) -> list[int]:
    """A span's tick in wire order (frame, timeslot, MSB first) with the C bits as zero."""
    out = []
    for f in range(8):
        for t in range(32):
            o = int(tick[t, f]) & (0x7F if t == 0 and f % 2 == 0 else 0xFF)
            out += [(o >> (7 - b)) & 1 for b in range(8)]
    return out


@settings(max_examples=30, deadline=None)
@given(st.binary(min_size=2 * 256, max_size=2 * 256))
def test_crc4_is_the_g704_remainder(data: bytes) -> None:
    frames = np.frombuffer(data, np.uint8).reshape(2, 32, 8).copy()
    crc = e1.crc4(frames)
    assert [int(c) for c in crc] == [crc_bitwise(bits_of(frames[s]), 0x3, 4) for s in range(2)]


@pytest.mark.parametrize("far_phase", [0, 1])
def test_a_clean_line_aligns_and_counts_nothing(far_phase: int) -> None:
    p = Pair(1, far_phase)
    p.align()
    for _ in range(300):
        p.tick()
    for rx in (p.near_rx, p.far_rx):
        assert rx.in_frame.all() and not rx.los.any() and not rx.ais.any() and not rx.yellow.any()
        assert list(rx.mf_aligned) == CRC4 and list(rx.cas_aligned) == CAS
        assert int(rx.fas_errors.sum() + rx.crc_errors.sum() + rx.ebit_errors.sum()) == 0
        assert len(rx.changed) == 0


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 1),
            st.sampled_from(PAYLOAD_TS),
            st.integers(0, 7),
            st.integers(0, 7),
            st.booleans(),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_each_payload_bit_error_is_one_crc4_error_here_and_one_e_bit_there(
    flips: list[tuple[int, int, int, int, bool]],
) -> None:
    p = Pair(7)
    p.align()
    want = np.zeros(SPANS, np.int64)
    for span, ts, frame, bit, gap in flips:
        p.tick((span, ts, frame, bit))
        want[span] += 1
        for _ in range(1 + int(gap)):
            p.tick()
    for _ in range(3):  # the last SMF's error is judged a tick later, echoed two ticks later
        p.tick()
    assert list(p.near_rx.crc_errors) == [want[0], want[1], 0]
    assert list(p.far_rx.ebit_errors) == [want[0], want[1], 0]
    assert int(p.near_rx.fas_errors.sum()) == 0 and p.near_rx.quiet


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from([0, 2]), st.sampled_from(PAYLOAD_TS), st.integers(0, 15)), max_size=10)
)
def test_abcd_bits_arrive_once_each(changes: list[tuple[int, int, int]]) -> None:
    p = Pair(3)
    p.align()
    want = np.full((SPANS, 32), 0x9, np.uint8)
    for span, ts, bits in changes:
        p.far_tx.set_bits(span, ts, bits)
        want[span, ts] = bits
    seen: dict[tuple[int, int], int] = {}
    for _ in range(8):
        p.tick()
        for s, t in p.near_rx.changed:
            seen[(int(s), int(t))] = seen.get((int(s), int(t)), 0) + 1
    assert np.array_equal(p.near_rx.rx_bits[[0, 2]][:, PAYLOAD_TS], want[[0, 2]][:, PAYLOAD_TS])
    moved = {(s, t) for s in (0, 2) for t in PAYLOAD_TS if want[s, t] != 0x9}
    assert seen == dict.fromkeys(moved, 1)
    assert np.array_equal(p.far_tx.tx_bits, want)


def test_los_ais_and_rai_follow_the_line() -> None:
    p = Pair(5)
    p.align()
    p.far_tx.set_ais(1, True)
    p.tick()
    assert list(p.near_rx.ais) == [False, True, False] and not p.near_rx.in_frame[1] and not p.near_rx.quiet
    p.tick()
    assert p.far_rx.yellow[1] and not p.far_rx.yellow[0]  # our red alarm goes back as RAI
    p.far_tx.set_ais(1, False)
    for _ in range(10):
        p.tick()
    assert p.near_rx.quiet and not p.far_rx.yellow.any()
    p.rai[2] = True
    p.tick()
    assert list(p.near_rx.yellow) == [False, False, True]
    zeros = np.zeros((SPANS, 32, 8), np.uint8)
    p.near_rx.process(zeros)
    assert p.near_rx.los.all() and p.near_rx.red.all()


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 40), st.integers(0, 2**32 - 1))
def test_a_saved_state_continues_identically(cut: int, seed: int) -> None:
    a = Pair(seed)
    for k in range(cut):
        a.tick((0, 5, 1, 2) if k == cut // 2 else None)
    b = Pair(seed)
    for x, y in ((a.near_tx, b.near_tx), (a.far_tx, b.far_tx), (a.near_rx, b.near_rx), (a.far_rx, b.far_rx)):
        y.set_state(x.get_state())
    # the same line from here on
    a.rng, b.rng = np.random.default_rng(seed + 1), np.random.default_rng(seed + 1)
    for k in range(30):
        flip = (2, 9, 3, 7) if k == 4 else None
        a.tick(flip)
        b.tick(flip)
    assert a.near_rx.get_state() == b.near_rx.get_state() and a.far_rx.get_state() == b.far_rx.get_state()
    assert a.near_tx.get_state() == b.near_tx.get_state()


def test_bad_arguments_name_the_argument() -> None:
    tx = e1.E1Framer(2, [1, 1], [1, 1])
    rx = e1.E1Deframer(2, [1, 1], [1, 1])
    with pytest.raises(DSPTypeError, match="frames"):
        rx.process(np.zeros((2, 32, 8), np.int16))
    with pytest.raises(DSPArgumentError, match=r"frames: shape \(3, 32, 8\)"):
        rx.process(np.zeros((3, 32, 8), np.uint8))
    with pytest.raises(DSPArgumentError, match="C-contiguous"):
        tx.build(np.zeros((2, 32, 16), np.uint8)[:, :, ::2])
    with pytest.raises(DSPArgumentError, match="writable"):
        ro = np.zeros((2, 32, 8), np.uint8)
        ro.flags.writeable = False
        tx.build(ro)
    with pytest.raises(DSPArgumentError, match="rx: a deframer of 1 spans"):
        tx.build(np.zeros((2, 32, 8), np.uint8), e1.E1Deframer(1, [1], [1]))
    with pytest.raises(DSPArgumentError, match="spans"):
        e1.E1Framer(0, [], [])
    with pytest.raises(DSPArgumentError, match="crc4"):
        e1.E1Deframer(2, [1], [1, 1])
    with pytest.raises(DSPArgumentError, match="span"):
        tx.set_bits(2, 1, 0)
    with pytest.raises(DSPArgumentError, match="state"):
        rx.set_state(b"junk")
    with pytest.raises(ValueError):
        rx.in_frame[0] = True  # the reports are read-only views of the native state
