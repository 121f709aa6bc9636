"""Audio both ways through a channel pair on the real driver: our DTMF generator, G.711 and
the board's DTMF receiver. Digits keyed on span 1 (channel 1) are decoded on span 2 (channel
25), and at the same time the other way, one 1 ms tick at a time."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ccboard.board.base import Board
from ccboard.board.events import Digit
from ccboard.dsp import dtmf
from tests.vm.guest.conftest import PEER_OFFSET, Paced

A, B = 1, 1 + PEER_OFFSET
FORWARD = "0123456789*#ABCD"
BACKWARD = "97531#"
SECONDS_LIMIT = 30.0


def test_dtmf_both_ways_through_the_loc_spans(board_factory: Callable[..., Board]) -> None:
    board = board_factory(f"bchan={A}", f"bchan={B}")
    ch_a, ch_b = board.channel(A), board.channel(B)
    gen = {A: dtmf.DtmfGenerator(on_ms=60, off_ms=60), B: dtmf.DtmfGenerator(on_ms=60, off_ms=60)}
    gen[A].put(FORWARD)
    gen[B].put(BACKWARD)
    heard: dict[int, str] = {A: "", B: ""}
    pace = Paced(board, B)
    ticks = 0

    def step() -> None:
        nonlocal ticks
        for ch in (ch_a, ch_b):
            gen[ch.channo].generate(8, out=board.tx[ch.index])
        for ev in board.tick():
            if isinstance(ev, Digit) and ev.kind == "off":
                heard[ev.channel] += ev.digit
        ticks += 1

    def done() -> bool:
        return heard[B] == FORWARD and heard[A] == BACKWARD

    try:
        pace.run_until(step, done, SECONDS_LIMIT)
    finally:
        print(f"{ticks} ticks; heard on {B}: {heard[B]!r}, on {A}: {heard[A]!r}")
    assert (heard[B], heard[A]) == (FORWARD, BACKWARD)
    assert ticks < 4000  # 16 digits of 120 ms: about 2 s of line time


def test_silence_is_silence_and_no_digits(board_factory: Callable[..., Board]) -> None:
    board = board_factory(f"bchan={A}", f"bchan={B}")
    pace = Paced(board, B)
    digits = []
    rms = []
    for _ in range(500):
        digits += [ev for ev in pace.tick() if isinstance(ev, Digit)]
        rms.append(float(np.sqrt(np.mean(board.rx[board.channel(B).index].astype(np.float64) ** 2))))
    assert digits == []
    assert max(rms[100:]) < 10.0  # idle mu-law code 0xFF decodes to 0
