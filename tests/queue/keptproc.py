"""A queue engine whose kept-place promises are shared, as a process that the test kills:
`python -m tests.queue.keptproc URL SERVER LEASE`.

Its own sim board, queue "bank" with one agent. Two callers ring: the first is answered and talks
for hours (board time), the second hears its position, presses 2, keys its number, keeps its
place and hangs up. With ``CallbackConfig(shared=True)`` that kept place is a row of the shared
callbacks table claimed by SERVER (lease LEASE wall s, renewed while the engine runs). Prints
"booked <call id>" once the booking is committed, then runs on (the agent still talking) until
killed. Called in-process with a short `talk_s` and `until_done`, it runs until the promise is
kept here (its own agent frees up, it dials the kept place itself) and returns the engine.
"""

from __future__ import annotations

import asyncio
import sys

import numpy as np

from ccboard.board import open_board
from ccboard.ivr import IvrCall, IvrRunner
from ccboard.media.tts import build_prompt_set
from ccboard.queue.acd import Acd, QueueConfig
from ccboard.queue.callback import CallbackConfig, CallbackCore
from ccboard.queue.engine import PHRASES, QueueEngine, SimAgents
from ccboard.queue.hook import QueueHook
from ccboard.queue.shared import SharedCallbacks
from ccboard.store import open_store
from tests.ivr.helpers import prompt_cache
from tests.queue.test_engine import EPOCH, NUMBER, Callers

TALK_S = 36_000.0  # board s: the agent stays busy until the process is killed


def main(
    url: str, server: str, lease: float, talk_s: float = TALK_S, until_done: bool = False
) -> QueueEngine:
    store = open_store(url)
    board = open_board("sim://?e1=0&fxo=4&fxs=1&zone=cn&seed=5")
    lines = [c.channo for c in board.channels if c.signalling.is_fxo_port]
    agent_port = next(c.channo for c in board.channels if c.signalling.is_fxs_port)
    prompts = {
        lang: build_prompt_set(lang, {**PHRASES[lang], "hold": "Please hold."}, folder=prompt_cache())
        for lang in ("en", "cmn")
    }
    q = QueueConfig(
        "bank", ring_timeout=15.0, retry=2.0, wrapup=1.0, announce_frequency=5.0, announce_holdtime="yes"
    )
    cfg = CallbackConfig(shared=True)
    free_lines = [lines[3]]
    engine = QueueEngine(
        store,
        Acd([q]),
        {f"{server}-agent1": agent_port},
        callbacks=CallbackCore(cfg),
        epoch=EPOCH,
        lines=lambda: free_lines.pop() if free_lines else None,
        release_line=free_lines.append,
        people=SimAgents(board, np.random.default_rng(5), answer_ms=(400.0, 600.0), talk_s=(talk_s, talk_s)),
        menu_timeout=4.0,
        server=server,
        shared=SharedCallbacks(cfg),
        claim_every=0.2,
        claim_lease=lease,
    )

    async def script(call: IvrCall) -> None:
        await call.answer()
        await call.transfer("bank")
        await call.hangup()

    callers = Callers({lines[0]: [], lines[1]: ["2", NUMBER + "#", "1", "1"]}, board)
    said: list[bool] = []

    def booked(runner: IvrRunner) -> None:
        if not said:
            for e in engine.emitted:
                if e.EVENT == "CALLBACKREQUEST":
                    said.append(True)
                    print(f"booked {e.callid}", flush=True)

    runner = IvrRunner(
        board,
        script,
        prompts,
        inbound=lines[:2],
        transfer_hook=QueueHook(engine),
        tick_hooks=[callers, booked],
    )
    engine.bind(runner, ["bank"])
    for i, at in ((0, 0.0), (1, 500.0)):
        ch = board.channel(lines[i])
        board.at(at, board.far_ends[ch.span].ring, ch.chanpos)  # type: ignore[attr-defined]

    def done() -> bool:
        return until_done and bool(said) and engine.idle() and not runner.calls

    asyncio.run(runner.run(until_ms=int((talk_s + 600.0) * 1000), stop=done))
    if not until_done:
        print("ended: the test should have killed this process", flush=True)
    store.close()
    board.close()
    return engine


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
