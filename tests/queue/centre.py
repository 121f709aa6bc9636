"""The one-agent centre that the engine-process tests kill (engineproc.py, keptproc.py): its own
sim board (4 FXO lines, 1 FXS agent port), queue "bank", a script that answers and transfers to
the queue, and two callers: the first is answered by the agent, the second presses 2, keys its
number and keeps its place. Prints "booked <call id>" once that promise is committed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ccboard.board import open_board
from ccboard.board.sim import SimBoard
from ccboard.ivr import IvrCall, IvrRunner
from ccboard.media.tts import build_prompt_set
from ccboard.queue.acd import Acd, QueueConfig
from ccboard.queue.engine import PHRASES, QueueEngine, SimAgents
from ccboard.queue.hook import QueueHook
from ccboard.store.repository import Repository
from tests.ivr.helpers import prompt_cache
from tests.queue.test_engine import NUMBER, Callers


@dataclass
class Centre:
    board: SimBoard
    engine: QueueEngine
    runner: IvrRunner
    callers: Callers
    lines: list[int]  # the FXO lines: the two callers', then a spare one for the callback
    booked: list[str]  # the call id once the kept place is committed

    def ring_both(self) -> None:
        """The two callers ring: the first now, the second half a second later."""
        for i, at in ((0, 0.0), (1, 500.0)):
            ch = self.board.channel(self.lines[i])
            self.board.at(at, self.board.far_ends[ch.span].ring, ch.chanpos)


def one_agent_centre(
    store: Repository, *, seed: int, agent: str, talk_s: float, people_seed: int, **engine: Any
) -> Centre:
    """Build the centre on `store`; `engine` holds the QueueEngine options that differ."""
    board = open_board(f"sim://?e1=0&fxo=4&fxs=1&zone=cn&seed={seed}")
    assert isinstance(board, SimBoard)
    lines = [c.channo for c in board.channels if c.signalling.is_fxo_port]
    agent_port = next(c.channo for c in board.channels if c.signalling.is_fxs_port)
    prompts = {
        lang: build_prompt_set(lang, {**PHRASES[lang], "hold": "Please hold."}, folder=prompt_cache())
        for lang in ("en", "cmn")
    }
    q = QueueConfig(
        "bank", ring_timeout=15.0, retry=2.0, wrapup=1.0, announce_frequency=5.0, announce_holdtime="yes"
    )
    free_lines = [lines[3]]
    eng = QueueEngine(
        store,
        Acd([q]),
        {agent: agent_port},
        lines=lambda: free_lines.pop() if free_lines else None,
        release_line=free_lines.append,
        people=SimAgents(
            board, np.random.default_rng(people_seed), answer_ms=(400.0, 600.0), talk_s=(talk_s, talk_s)
        ),
        menu_timeout=4.0,
        **engine,
    )

    async def script(call: IvrCall) -> None:
        await call.answer()
        await call.transfer("bank")
        await call.hangup()

    callers = Callers({lines[0]: [], lines[1]: ["2", NUMBER + "#", "1", "1"]}, board)
    booked: list[str] = []

    def on_tick(runner: IvrRunner) -> None:
        if not booked:
            for e in eng.emitted:
                if e.EVENT == "CALLBACKREQUEST":
                    booked.append(e.callid)
                    print(f"booked {e.callid}", flush=True)
                    break

    runner = IvrRunner(
        board, script, prompts, inbound=lines[:2], transfer_hook=QueueHook(eng), tick_hooks=[callers, on_tick]
    )
    eng.bind(runner, ["bank"])
    return Centre(board, eng, runner, callers, lines, booked)
