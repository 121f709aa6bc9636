"""Drivers on the sim board: loop start machines on a real FXS and FXO port of sim://."""

from __future__ import annotations

from ccboard.board import open_board
from ccboard.signalling.call import Cause
from ccboard.signalling.driver import BoardDriver
from ccboard.signalling.loopstart import FxoLoopStart, FxsLoopStart


def _board() -> tuple[object, int, int, object]:
    b = open_board("sim://?e1=0&fxs=1&fxo=1")
    fxs = next(c for c in b.channels if c.signalling.is_fxs_port)
    fxo = next(c for c in b.channels if c.signalling.is_fxo_port)
    return b, fxs.channo, fxo.channo, b.far_ends[fxs.span]  # type: ignore[attr-defined]


def test_fxs_port_rings_the_phone_which_answers_then_hangs_up() -> None:
    b, s, _, fe = _board()
    drv = BoardDriver(b, {s: FxsLoopStart(s, zone="us")})
    pos = b.channel(s).chanpos  # type: ignore[attr-defined]
    fe.answer_after(pos, rings=2, delay_ms=500)
    drv.drivers[s].do("dial", b.t / 8, "201", ani="5551234")  # type: ignore[attr-defined]
    drv.run(9000)
    kinds = [e.kind for e in drv.inbox()]
    assert kinds == ["alerting", "answered"]
    fe.onhook(pos)
    drv.run(1000)
    ev = drv.inbox()
    assert [e.kind for e in ev] == ["released"] and ev[0].cause == Cause.NORMAL_CLEARING


def test_fxo_port_takes_a_call_from_the_exchange_and_sees_the_disconnect() -> None:
    b, _, o, fe = _board()
    drv = BoardDriver(b, {o: FxoLoopStart(o)})
    pos = b.channel(o).chanpos  # type: ignore[attr-defined]
    fe.ring(pos)
    drv.run(2500)
    assert [e.kind for e in drv.inbox()] == ["offered"]
    drv.drivers[o].do("answer", b.t / 8)  # type: ignore[attr-defined]
    drv.run(500)
    assert [e.kind for e in drv.inbox()] == ["answered"]
    assert b.channel(o).offhook  # type: ignore[attr-defined]
    fe.disconnect(pos)  # kewl start: battery drops for 600 ms
    drv.run(1000)
    ev = drv.inbox()
    assert [e.kind for e in ev] == ["released"] and ev[0].detail == "loop current dropped"
