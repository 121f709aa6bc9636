"""`ccboard check URL --loop A:B` on the sim, whose far ends make the loop: what A sends is heard
on B, CAS bits sent on A are read on B, our FXS port's ringing rings the FXO port and the FXO
port's loop is the FXS port's hook switch. The same command runs on the real driver in the VM
(tests/vm/guest/vm_check.py)."""

from __future__ import annotations

import pytest

from ccboard.board import open_board
from ccboard.board.sim import SimBoard
from ccboard.cli.check import run_checks
from ccboard.cli.main import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    rc = main(["check", *argv])
    return rc, capsys.readouterr().out


def test_cas_loop_with_r2_passes_every_check(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = _run(capsys, "sim://", "--loop", "1:2", "--r2", "itu")
    assert rc == 0, out
    assert "5 passed, 0 failed, 0 skipped" in out
    assert "'0123456789*#ABCD' keyed on channel 1, heard on channel 2: '0123456789*#ABCD'" in out
    assert "'97531#' keyed on channel 2, heard on channel 1: '97531#'" in out
    assert "DNIS 5678 ANI 7654321 collected, answered and cleared" in out


def test_china_r2_exchanges_exactly_max_ani() -> None:
    with open_board("sim://") as board:
        results = run_checks(board, [(17, 18)], r2="cn")
    r2 = results[-1]
    assert (r2.name, r2.ok) == ("R2 call (cn)", True), r2.message
    assert "ANI 1234567890" in r2.message


def test_analog_fxs_to_fxo_loop_rings_answers_and_hangs_up(capsys: pytest.CaptureFixture[str]) -> None:
    # either order of the ports: the FXS port rings, the FXO port answers
    rc, out = _run(capsys, "sim://?e1=0&fxs=1&fxo=1", "--loop", "2:1")
    assert rc == 0, out
    assert "hook and ring" in out and "4 passed, 0 failed, 0 skipped" in out


def test_a_lossy_direction_fails_naming_the_channels() -> None:
    with open_board("sim://") as board:
        assert isinstance(board, SimBoard)
        board.far_ends[1].loss(60.0, chanpos=2)  # what channel 1 sends arrives 60 dB down on 2
        results = run_checks(board, [(1, 2)])
    by = {(r.name, r.channels): r for r in results}
    fwd, back = by[("DTMF audio", "1->2")], by[("DTMF audio", "2->1")]
    assert fwd.ok is False and "heard on channel 2: ''" in fwd.message
    assert back.ok is True
    assert by[("CAS bits", "1<->2")].ok is True


def test_a_span_in_alarm_fails_and_its_loop_is_not_tried(capsys: pytest.CaptureFixture[str]) -> None:
    with open_board("sim://") as board:
        assert isinstance(board, SimBoard)
        board.faults.los(1)
        results = run_checks(board, [(1, 2)])
    assert len(results) == 1
    assert results[0].ok is False and "span 1 in alarm" in results[0].message


def test_cas_looped_to_analog_skips_line_signalling(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = _run(capsys, "sim://", "--loop", "1:32", "--r2", "itu")
    assert rc == 0, out
    assert "neither two CAS channels nor FXS to FXO" in out
    assert "R2 needs two CAS channels" in out
    assert "3 passed, 0 failed, 2 skipped" in out


def test_an_unknown_channel_is_a_board_error(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = _run(capsys, "sim://", "--loop", "1:99")
    assert rc == 2
    assert "channel 99: no such channel" in out


@pytest.mark.parametrize("loop", ["1:1", "1", "a:b", "0:2"])
def test_a_bad_loop_argument_is_refused(loop: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ei:
        main(["check", "sim://", "--loop", loop])
    assert ei.value.code == 2
    assert f"--loop {loop!r}" in capsys.readouterr().err
