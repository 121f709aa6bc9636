"""MFC/R2 interop with OpenR2 on the real driver. Debian's libopenr2 drives span 1 (channel 4)
through its own DAHDI use; our R2Channel on span 2 (channel 28) runs on the DAHDI backend with
the signalling driver (CAS through DAHDI_SETTXBITS/BITSCHANGED, MF through our kernels over
the channel's audio). China first, then ITU; each both ways: OpenR2 calls us (we collect ANI
and DNIS, answer, the caller clears), and we call OpenR2 (it answers, we clear)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from ccboard.board.base import Board
from ccboard.signalling.driver import BoardDriver
from ccboard.signalling.r2 import R2Channel, variant
from tests.vm.guest.conftest import PEER_OFFSET, Paced
from tests.vm.guest.openr2peer import OpenR2Peer

THEIRS, OURS = 4, 4 + PEER_OFFSET
DNIS = "5678"
LIMIT_S = 30.0
# (our variant row, OpenR2 variant, our MF variant, ANI): China exchanges exactly max_ani digits
CASES = [("cn", "cn", "r2_china", "1234567890"), ("itu", "itu", "r2_itu", "7654321")]


@pytest.fixture(params=CASES, ids=[c[0] for c in CASES])
def trunk(
    request: pytest.FixtureRequest, board_factory: Callable[..., Board]
) -> Iterator[tuple[BoardDriver, OpenR2Peer, Paced, str]]:
    ours, theirs, mf_variant, ani = request.param
    v = variant(ours)
    peer = OpenR2Peer(theirs, [THEIRS], max_ani=v.max_ani, max_dnis=v.max_dnis)
    board = board_factory(f"cas={OURS}:1101")
    drv = BoardDriver(board, {OURS: R2Channel(v, OURS)}, mf_variant=mf_variant)
    pace = Paced(board, OURS)
    try:
        # both ends idle: OpenR2 sees our idle bits and we see its
        pace.run_until(drv.step, lambda: peer.cas(THEIRS)[1] == peer.cas(THEIRS)[0], 5.0)
        yield drv, peer, pace, ani
    finally:
        print(f"OpenR2 {theirs} log:\n" + "\n".join(peer.log[-40:]))
        print(f"OpenR2 call: {peer.calls[THEIRS]}")
        peer.close()


def _kinds(drv: BoardDriver, seen: list[object]) -> list[str]:
    seen.extend(drv.inbox())
    return [e.kind for e in seen]  # type: ignore[attr-defined]


def test_openr2_calls_us(trunk: tuple[BoardDriver, OpenR2Peer, Paced, str]) -> None:
    drv, peer, pace, ani = trunk
    seen: list[object] = []
    peer.make_call(THEIRS, ani, DNIS)
    pace.run_until(drv.step, lambda: "offered" in _kinds(drv, seen), LIMIT_S)
    call = next(e for e in seen if e.kind == "offered").call  # type: ignore[attr-defined]
    assert (call.ani, call.dnis) == (ani, DNIS)
    assert call.category == "national_subscriber"
    drv.drivers[OURS].do("answer", drv.board.t / 8)
    pace.run_until(drv.step, lambda: "answered" in peer.calls[THEIRS].events, LIMIT_S)
    assert "accepted" in peer.calls[THEIRS].events
    peer.hang_up(THEIRS)  # clear forward
    pace.run_until(drv.step, lambda: "released" in _kinds(drv, seen), LIMIT_S)
    pace.run_until(drv.step, lambda: "end" in peer.calls[THEIRS].events, LIMIT_S)
    assert peer.calls[THEIRS].errors == []
    assert drv.drivers[OURS].machine.idle


def test_we_call_openr2(trunk: tuple[BoardDriver, OpenR2Peer, Paced, str]) -> None:
    drv, peer, pace, ani = trunk
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
