"""Shared by the tests that run inside the VM (tests/vm/run_vm.py boots it and runs them).

They need the real driver: /dev/dahdi/* configured by dahdi_cfg from tests/vm/guest/system.conf
(two dahdi_dynamic_loc spans back to back: channel n on span 1 is channel n + 24 on span 2).
Outside the VM they are not collected (their files are vm_*.py, not test_*.py).

Time: the driver's spans run in real time; our ticks (1 ms, or a whole block with tick=) are
paced by the driver (a tick that reads a block runs when the channel has one), so board time
follows line time; the board's 32 driver buffers each way absorb the moments when the VM, under
TCG, is slower than real time.
"""

from __future__ import annotations

import gc
import os
import select
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ccboard.board import open_board
from ccboard.board.base import Board
from ccboard.board.dahdi import DahdiBoard
from ccboard.board.events import Event

GUEST = Path(__file__).resolve().parent
SYSTEM_CONF = Path(os.environ.get("CCBOARD_VM_CONF", GUEST / "system.conf"))
SPANS = "dynamic=loc,1:0,24,0\ndynamic=loc,1:1,24,0\n"
PEER_OFFSET = 24  # channel n on span 1 <-> n + 24 on span 2
PACE_TIMEOUT_S = 2.0  # no block for this long: the span stopped


@pytest.fixture(scope="session", autouse=True)
def _real_driver() -> None:
    """These tests mean the real driver: fail (not skip) anywhere else."""
    if not Path("/dev/dahdi/channel").exists():
        pytest.fail("no /dev/dahdi/channel: the VM tests run inside the VM (python -m tests.vm.run_vm)")


def conf_with(tmp_path: Path, *lines: str) -> Path:
    """A system.conf holding the VM's two spans and only `lines`: a board opens just those
    channels, leaving the others free for a peer (DAHDI lets one file hold a channel)."""
    p = tmp_path / "board.conf"
    p.write_text(SPANS + "\n".join(lines) + "\n")
    return p


class Paced:
    """A board ticked at the driver's pace: a tick that reads a block first waits for one on
    `channo` (poll for POLLIN, or POLLPRI for an event), so no audio is lost to a tick that came
    too early; the other ticks of the block run at once."""

    def __init__(self, board: Board, channo: int) -> None:
        assert isinstance(board, DahdiBoard)
        # Under TCG a full collection of pytest's heap stalls the loop for tens of ms: move what
        # exists now out of the collector's reach (the loop's own garbage is young and cheap).
        gc.collect()
        gc.freeze()
        self.board = board
        # DahdiBoard keeps its channel files private; the fd is only polled here.
        self.fd = board._dev[channo].fd
        self.poll = select.poll()
        self.poll.register(self.fd, select.POLLIN | select.POLLPRI)
        self.ticks = 0  # ticks run through wait()
        self.blocked = 0  # reads that had to wait for their block (0 = the loop is behind)
        self.wall_s = 0.0  # wall time spent in run_until

    def wait(self) -> None:
        self.ticks += 1
        if not self.board.next_tick_reads:
            return
        if self.poll.poll(0):
            return
        self.blocked += 1
        if not self.poll.poll(PACE_TIMEOUT_S * 1000):
            raise AssertionError(f"no block from the driver in {PACE_TIMEOUT_S} s: the span stopped")

    def tick(self) -> list[Event]:
        self.wait()
        return self.board.tick()

    def run_until(self, step: Callable[[], object], done: Callable[[], bool], limit_s: float) -> float:
        """Call step() once per tick until done() (asked once per block: it may cost a system
        call); the wall time it took."""
        t0 = time.monotonic()
        try:
            while not (self.board.next_tick_reads and done()):
                if time.monotonic() - t0 > limit_s:
                    raise AssertionError(f"not done within {limit_s} s")
                self.wait()
                step()
        finally:
            self.wall_s += time.monotonic() - t0
        return time.monotonic() - t0


@pytest.fixture
def board_factory(tmp_path: Path) -> Iterator[Callable[..., Board]]:
    """open(*system_conf_lines, **url_query) -> a DahdiBoard over those channels (e.g. block=64);
    closed after the test."""
    opened: list[Board] = []

    def open_(*lines: str, **query: int) -> Board:
        q = "&".join(f"{k}={v}" for k, v in query.items())
        b = open_board(f"dahdi://{conf_with(tmp_path, *lines)}" + (f"?{q}" if q else ""))
        opened.append(b)
        return b

    yield open_
    for b in opened:
        b.close()
