"""The IVR script that passes on the sim (tests/test_dahdi_vm.py::test_ivr_script_on_the_sim)
answers a call on the real driver: our FXS port on span 1 (channel 3, fxoks) rings the FXO port
it is cabled to on span 2 (channel 27, fxsks), where the IvrRunner's loop-start machine offers
the call to the script; once answered (the FXS port sees the loop closed), the caller keys the
account number with our DTMF generator; the script collects it, hangs up, and the caller sees
the loop open."""

from __future__ import annotations

import asyncio
import gc
import select
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest

from ccboard.board import open_board
from ccboard.board.dahdi import DahdiBoard
from ccboard.dsp import dtmf
from ccboard.ivr import IvrRunner
from ccboard.signalling.loopstart import FxoLoopStart
from tests.vm.guest.conftest import PACE_TIMEOUT_S, PEER_OFFSET, conf_with
from tests.vm.guest.ivr_account import ACCOUNT, KEYED, account_script

CALLER, IVR = 3, 3 + PEER_OFFSET
RING_ON_MS, RING_OFF_MS = 1000, 2000
KEY_AFTER_MS = 1000  # after the answer: the script is collecting by then
LIMIT_MS = 20000
# Octets per read/write (16 ms), 32 buffers each way: 256 ms queued to send, 512 ms to receive.
# One tick per block (tick=BLOCK/8 ms): the IVR runner takes board time from the board, so the
# board, the loop-start machine, the runner and asyncio's yield run once per 16 ms, not per ms
# (with 1 ms ticks the TCG guest ran up to 1.62x slower than real time while digits were keyed,
# the transmit queue ran dry and digits were cut).
BLOCK = 128
TICK_MS = BLOCK // 8


class DriverClock:
    """The runner's clock paced by the driver: a tick that reads a block first waits for it. The
    runner waits once per ms (tick_ms times per board tick): only a board tick's first ms polls."""

    def __init__(self, board: DahdiBoard, channo: int) -> None:
        self.board = board
        self.poll = select.poll()
        self.poll.register(board.fileno(channo), select.POLLIN | select.POLLPRI)
        self.per_tick = board.rx.shape[1] // 8  # ms per board tick
        self._tick = 0

    @property
    def tick(self) -> int:
        return self._tick

    def wait_next(self) -> int:
        self._tick += 1
        if (self._tick - 1) % self.per_tick:
            return 0  # a later ms of the same board tick
        if self.board.next_tick_reads and not self.poll.poll(0):
            if not self.poll.poll(PACE_TIMEOUT_S * 1000):
                raise AssertionError(f"no block from the driver in {PACE_TIMEOUT_S} s: the span stopped")
        return 0


class Caller:
    """The calling side on our FXS port, run as a tick hook: ring with a cadence until the FXO
    port answers, key the digits, then watch for the hang-up."""

    def __init__(self, board: DahdiBoard) -> None:
        self.board = board
        self.port = board.channel(CALLER)
        self.tx = board.tx[self.port.index]  # a view: what we send on the next tick
        self.gen = dtmf.DtmfGenerator(on_ms=80, off_ms=100)
        self.answered_at: int | None = None
        self.cleared_at: int | None = None
        self.ringing = False
        self.keying = False
        self.keyed = False  # the digits were queued to the generator
        self.ivr_rx = board.rx[board.channel(IVR).index]  # a view
        self.peak = 0  # loudest sample the IVR's port heard in the first second of keying
        self.wall0 = self.wall_s = 0.0  # wall time of that second of line time

    def __call__(self, runner: IvrRunner) -> None:
        # every tick of the IVR's loop pays for this hook: the TCG guest runs it ~50x slower
        # than the host, so it does only what the tick needs. runner.ms moves a tick (16 ms) at a
        # time: times are compared with >=
        ms = runner.ms
        offhook = self.port.offhook  # the FXO port's loop, through the event stream
        if self.answered_at is None:
            ring = ms % (RING_ON_MS + RING_OFF_MS) < RING_ON_MS
            if offhook:
                self.answered_at, ring = ms, False
            if ring != self.ringing:
                self.board.set_ring(CALLER, ring)
                self.ringing = ring
            return
        key_at = self.answered_at + KEY_AFTER_MS
        if ms >= key_at and not self.keyed:
            self.gen.put(KEYED)
            self.wall0 = time.monotonic()
            self.keying = self.keyed = True
        if self.keying:
            self.gen.generate(self.tx.shape[0], out=self.tx)  # the last call after the '#' writes silence
            self.keying = self.gen.pending > 0
            if ms < key_at + 1000:
                # what the IVR's port hears while the caller keys (peak, linear)
                self.peak = max(self.peak, int(np.abs(self.ivr_rx.astype(np.int32)).max()))
        if ms >= key_at + 1000 and self.keyed and not self.wall_s:
            self.wall_s = time.monotonic() - self.wall0
        if not offhook and self.cleared_at is None:
            self.cleared_at = ms


@dataclass
class Outcome:
    """One call through the IVR on the real driver."""

    caller: Caller
    runner: IvrRunner


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcome]:
    conf = conf_with(tmp_path_factory.mktemp("ivr"), f"fxoks={CALLER}", f"fxsks={IVR}")
    board = open_board(f"dahdi://{conf}?block={BLOCK}&tick={TICK_MS}")
    try:
        assert isinstance(board, DahdiBoard)
        caller = Caller(board)
        runner = IvrRunner(
            board,
            account_script,
            {},
            machines={IVR: FxoLoopStart(IVR)},
            inbound=[IVR],
            clock=DriverClock(board, IVR),
            tick_hooks=[caller],
        )
        # Under TCG a full collection of pytest's heap stalls the loop for tens of ms (conftest.Paced)
        gc.collect()
        gc.freeze()
        asyncio.run(
            runner.run(
                until_ms=LIMIT_MS, stop=lambda: bool(runner.finished) and caller.cleared_at is not None
            )
        )
        board.set_ring(CALLER, False)
        print(
            f"answered at {caller.answered_at} ms, cleared at {caller.cleared_at} ms, "
            f"{runner.stats.ticks} ticks of {runner.tick_ms} ms; "
            f"while keying: peak {caller.peak} on {IVR}, 1 s of line time in {caller.wall_s:.2f} s"
        )
        yield Outcome(caller, runner)
    finally:
        board.close()


def test_ivr_answers_and_clears_a_call_on_the_real_driver(outcome: Outcome) -> None:
    caller, runner = outcome.caller, outcome.runner
    m = runner.machines[IVR]
    assert isinstance(m, FxoLoopStart)
    seen = f"FXO machine {m._state}, rings {m.rings}, cadence {m.cadence}, calls {list(runner.calls)}"
    assert caller.answered_at is not None, f"the FXO port never answered the ringing ({seen})"
    assert [c.channel for c in runner.finished] == [IVR]
    assert runner.finished[0].tags.get("_outcome") == "completed", runner.finished[0].tags
    assert caller.cleared_at is not None, "the caller never saw the IVR hang up"


def test_ivr_collects_the_digits_on_the_real_driver(outcome: Outcome) -> None:
    tags = outcome.runner.finished[0].tags if outcome.runner.finished else {}
    assert (tags.get("account"), tags.get("reason")) == (ACCOUNT, "TERMDIGIT"), tags
