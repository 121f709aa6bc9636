"""Line events through the backend's event stream on the real driver: CAS bits both ways
(channel 2 <-> 26), and hook and ring between an FXS port (3, fxoks) and an FXO port (27,
fxsks) on the back-to-back spans."""

from __future__ import annotations

from collections.abc import Callable

from ccboard.board.base import Board
from ccboard.board.events import BitsChanged, Event, HookChanged, RingChanged
from tests.vm.guest.conftest import PEER_OFFSET, Paced

CAS_A, CAS_B = 2, 2 + PEER_OFFSET
FXS_PORT, FXO_PORT = 3, 3 + PEER_OFFSET
LIMIT_S = 10.0


def _wait_for(pace: Paced, match: Callable[[Event], bool], limit_s: float = LIMIT_S) -> Event:
    found: list[Event] = []

    def step() -> None:
        found.extend(ev for ev in pace.board.tick() if match(ev))

    pace.run_until(step, lambda: bool(found), limit_s)
    return found[0]


def test_cas_bits_both_ways(board_factory: Callable[..., Board]) -> None:
    board = board_factory(f"cas={CAS_A}:1101", f"cas={CAS_B}:1101")
    pace = Paced(board, CAS_B)
    for src, dst, bits in ((CAS_A, CAS_B, 0b0101), (CAS_B, CAS_A, 0b1010), (CAS_A, CAS_B, 0b0001)):
        board.set_tx_bits(src, bits)
        ev = _wait_for(
            pace, lambda e, d=dst, b=bits: isinstance(e, BitsChanged) and e.channel == d and e.bits == b
        )
        assert isinstance(ev, BitsChanged)
        assert board.channel(dst).rx_bits == bits  # the model follows the stream
        assert board.channel(src).tx_bits == bits


def test_ring_answer_and_hang_up(board_factory: Callable[..., Board]) -> None:
    board = board_factory(f"fxoks={FXS_PORT}", f"fxsks={FXO_PORT}")
    pace = Paced(board, FXO_PORT)
    board.set_ring(FXS_PORT, True)
    ev = _wait_for(pace, lambda e: isinstance(e, RingChanged) and e.channel == FXO_PORT)
    assert isinstance(ev, RingChanged) and ev.ringing
    assert board.channel(FXO_PORT).ringing
    board.set_hook(FXO_PORT, True)  # the FXO port answers: the FXS port sees the phone off hook
    ev = _wait_for(pace, lambda e: isinstance(e, HookChanged) and e.channel == FXS_PORT)
    assert isinstance(ev, HookChanged) and ev.offhook
    assert board.channel(FXS_PORT).offhook
    board.set_hook(FXO_PORT, False)  # on hook: reported once DAHDI's flash window has passed
    ev = _wait_for(pace, lambda e: isinstance(e, HookChanged) and e.channel == FXS_PORT)
    assert isinstance(ev, HookChanged) and not ev.offhook
    assert not board.channel(FXS_PORT).offhook
