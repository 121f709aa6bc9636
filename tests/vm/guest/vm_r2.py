"""MFC/R2 interop with OpenR2 on the real driver. Debian's libopenr2 drives span 1 (channel 4)
through its own DAHDI use; our R2Channel on span 2 (channel 28) runs on the DAHDI backend with
the signalling driver (CAS through DAHDI_SETTXBITS/BITSCHANGED, MF through our kernels over
the channel's audio). China first, then ITU; each both ways: OpenR2 calls us (we collect ANI
and DNIS, answer, the caller clears), and we call OpenR2 (it answers, we clear).

OpenR2 runs in its own process (OpenR2Process) with its MF/CAS trace on and an mf_threshold of
40 ms, as our R2 (a dropout of an MF signal shorter than that is not its end); our board ticks
once per 8 ms driver block (block=64, tick=8) with 32 driver buffers each way."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from ccboard.board.base import Board
from ccboard.signalling.driver import BoardDriver
from ccboard.signalling.r2 import R2Channel, variant
from tests.vm.guest.conftest import PEER_OFFSET, Paced
from tests.vm.guest.openr2peer import OpenR2Process

THEIRS, OURS = 4, 4 + PEER_OFFSET
DNIS = "5678"
LIMIT_S = 25.0  # a call takes 6-11 s of line time (8 ms blocks, mf_threshold 40 ms on both ends)
BLOCK = 64  # octets per read/write and per tick (8 ms): 32 buffers, 128 ms queued to send
# (our variant row, OpenR2 variant, our MF variant, ANI, ANI we hear when OpenR2 calls): China
# exchanges exactly max_ani digits; OpenR2 1.3.3 (Debian's) answers every China A-1 with a DNIS
# digit before an ANI one, so when it calls in China no ANI reaches us (tests/signalling/
# test_r2_china_sequence.py replays its sequence)
CASES = [("cn", "cn", "r2_china", "1234567890", ""), ("itu", "itu", "r2_itu", "7654321", "7654321")]


@pytest.fixture(params=CASES, ids=[c[0] for c in CASES])
def trunk(
    request: pytest.FixtureRequest, board_factory: Callable[..., Board]
) -> Iterator[tuple[BoardDriver, OpenR2Process, Paced, str, str]]:
    ours, theirs, mf_variant, ani, heard = request.param
    v = variant(ours)
    peer = OpenR2Process(theirs, [THEIRS], max_ani=v.max_ani, max_dnis=v.max_dnis, debug=True)
    board = board_factory(f"cas={OURS}:1101", block=BLOCK, tick=BLOCK // 8)
    drv = BoardDriver(board, {OURS: R2Channel(v, OURS)}, mf_variant=mf_variant)
    pace = Paced(board, OURS)
    try:
        # both ends idle: OpenR2 sees our idle bits and we see its
        pace.run_until(drv.step, lambda: peer.cas(THEIRS)[1] == peer.cas(THEIRS)[0], 5.0)
        yield drv, peer, pace, ani, heard
    finally:
        print(f"OpenR2 {theirs} log:\n" + "\n".join(peer.log[-40:]))
        print(f"OpenR2 call: {peer.calls[THEIRS]}")
        print(f"our loop: {pace.ticks} ticks in {pace.wall_s:.1f} s, {pace.blocked} blocking waits")
        m = drv.drivers[OURS].machine
        print(
            f"our R2: state {m.state}, unexpected line codes {m.unexpected}, "
            f"MF dropouts bridged {getattr(m, 'mf_bridged', '?')}"
        )
        peer.close()


def _kinds(drv: BoardDriver, seen: list[object]) -> list[str]:
    seen.extend(drv.inbox())
    return [e.kind for e in seen]  # type: ignore[attr-defined]


def test_openr2_calls_us(trunk: tuple[BoardDriver, OpenR2Process, Paced, str, str]) -> None:
    drv, peer, pace, ani, heard = trunk
    seen: list[object] = []
    peer.make_call(THEIRS, ani, DNIS)
    pace.run_until(drv.step, lambda: "offered" in _kinds(drv, seen), LIMIT_S)
    call = next(e for e in seen if e.kind == "offered").call  # type: ignore[attr-defined]
    assert (call.ani, call.dnis) == (heard, DNIS)
    assert call.category == "national_subscriber"
    drv.drivers[OURS].do("answer", drv.board.t / 8)
    pace.run_until(drv.step, lambda: "answered" in peer.calls[THEIRS].events, LIMIT_S)
    assert "accepted" in peer.calls[THEIRS].events
    peer.hang_up(THEIRS)  # clear forward
    pace.run_until(drv.step, lambda: "released" in _kinds(drv, seen), LIMIT_S)
    pace.run_until(drv.step, lambda: "end" in peer.calls[THEIRS].events, LIMIT_S)
    assert peer.calls[THEIRS].errors == []
    assert drv.drivers[OURS].machine.idle


def test_we_call_openr2(trunk: tuple[BoardDriver, OpenR2Process, Paced, str, str]) -> None:
    drv, peer, pace, ani, _ = trunk
    seen: list[object] = []
    drv.drivers[OURS].do("dial", drv.board.t / 8, DNIS, ani=ani, category="national_subscriber")
    pace.run_until(drv.step, lambda: "answered" in _kinds(drv, seen), LIMIT_S)
    theirs = peer.calls[THEIRS]
    assert "offered" in theirs.events
    assert (theirs.ani, theirs.dnis) == (ani, DNIS)
    drv.drivers[OURS].do("hangup", drv.board.t / 8)  # clear forward
    pace.run_until(drv.step, lambda: "released" in _kinds(drv, seen), LIMIT_S)
    pace.run_until(drv.step, lambda: "end" in peer.calls[THEIRS].events, LIMIT_S)
    assert theirs.errors == []
    assert drv.drivers[OURS].machine.idle
