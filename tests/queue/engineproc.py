"""The queue engine on the sim as a process that the test kills: `python -m tests.queue.engineproc
MODE URL`.

first: two callers ring a one-agent queue; A is answered and talks 30 s, B presses 2, keys its
number, keeps its place and hangs up. Prints "booked" once B's promise is written (A is still
talking), then runs on until killed.
resume: a new process and a new board on the same store: the engine replays its journal
(resume=True) from the journal's last time on, so A's lost call is ended and B is called back on
a spare line and connected to the agent. Prints "done <json>" once idle.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import numpy as np

from ccboard.board import open_board
from ccboard.ivr import IvrCall, IvrRunner
from ccboard.media.tts import build_prompt_set
from ccboard.queue.acd import Acd, QueueConfig
from ccboard.queue.callback import CallbackCore
from ccboard.queue.engine import PHRASES, QueueEngine, SimAgents
from ccboard.queue.hook import QueueHook
from ccboard.store import open_store
from tests.ivr.helpers import prompt_cache
from tests.queue.test_engine import EPOCH, NUMBER, Callers

SERVER = "bank-1"


def main(mode: str, url: str) -> None:
    store = open_store(url)
    resume = mode == "resume"
    epoch = EPOCH
    if resume:  # the restarted server's board clock starts at 0: carry on after the journal's end
        epoch = store.journal(SERVER, after=store.journal_seq(SERVER) - 1)[-1].time + 1.0
    board = open_board(f"sim://?e1=0&fxo=4&fxs=1&zone=cn&seed={4 if resume else 3}")
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
    engine = QueueEngine(
        store,
        Acd([q]),
        {"agent1": agent_port},
        callbacks=CallbackCore(),
        epoch=epoch,
        lines=lambda: free_lines.pop() if free_lines else None,
        release_line=free_lines.append,
        people=SimAgents(board, np.random.default_rng(1), answer_ms=(400.0, 600.0), talk_s=(30.0, 30.0)),
        menu_timeout=4.0,
        server=SERVER,
        resume=resume,
    )

    async def script(call: IvrCall) -> None:
        await call.answer()
        await call.transfer("bank")
        await call.hangup()

    callers = Callers({lines[0]: [], lines[1]: ["2", NUMBER + "#", "1", "1"]}, board)
    said: list[bool] = []

    def booked(runner: IvrRunner) -> None:
        if not said and any(e.EVENT == "CALLBACKREQUEST" for e in engine.emitted):
            said.append(True)
            print("booked", flush=True)

    runner = IvrRunner(
        board,
        script,
        prompts,
        inbound=lines[:2],
        transfer_hook=QueueHook(engine),
        tick_hooks=[callers, booked],
    )
    engine.bind(runner, ["bank"])
    if not resume:
        for i, at in ((0, 0.0), (1, 500.0)):
            ch = board.channel(lines[i])
            board.at(at, board.far_ends[ch.span].ring, ch.chanpos)  # type: ignore[attr-defined]

    def finished() -> bool:
        return resume and runner.ms > 2000 and engine.idle() and not runner.calls

    asyncio.run(runner.run(until_ms=int(sys.argv[3]) if len(sys.argv) > 3 else 600_000, stop=finished))
    out: dict[str, Any] = {
        "errors": engine.errors,
        "ms": runner.ms,
        "replayed": engine.durable.replayed,
        "emitted": [f"{e.callid} {e.EVENT}" for e in engine.emitted],
        "played": engine.played,
        "keyed": callers.keyed,
    }
    print("done " + json.dumps(out), flush=True)
    store.close()
    board.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
