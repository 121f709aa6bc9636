"""One of several queue engines sharing a store's callbacks, as a process that the test may kill:
`python -m tests.queue.sharedproc URL SERVER SEED`.

Its own sim board (4 FXO lines out, 2 agents on FXS ports), queue "bank", and a
``SharedCallbacks`` core: it claims due rows of the shared callbacks table for its free agents,
dials each on a spare line and connects it to the agent. Board time is virtual; the leases are in
wall time (the clock the servers share). Prints "dial <stint> <number> <wall>" as each dial
starts (once its CALLBACKATTEMPT is written; <wall>: the shared clock then) and, once the table
has nothing pending or claimed and the engine is idle, "done <json>".
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import numpy as np

from ccboard.board import open_board
from ccboard.ivr import IvrCall, IvrRunner
from ccboard.media.tts import build_prompt_set
from ccboard.queue.acd import Acd, QueueConfig
from ccboard.queue.callback import CallbackConfig
from ccboard.queue.engine import PHRASES, QueueEngine, SimAgents
from ccboard.queue.events import Outcome
from ccboard.queue.hook import QueueHook
from ccboard.queue.shared import SharedCallbacks
from ccboard.store import open_store
from ccboard.store.records import CLAIMED, PENDING
from tests.ivr.helpers import prompt_cache
from tests.queue.test_engine import EPOCH

LEASE_S = 15.0  # wall s: well above one stint (ring, dial, talk: ~2 s wall) on a busy machine


def main(url: str, server: str, seed: int) -> None:
    store = open_store(url)
    board = open_board(f"sim://?e1=0&fxo=4&fxs=2&zone=cn&seed={seed}")
    lines = [c.channo for c in board.channels if c.signalling.is_fxo_port]
    ports = [c.channo for c in board.channels if c.signalling.is_fxs_port]
    prompts = {
        lang: build_prompt_set(lang, {**PHRASES[lang], "hold": "Please hold."}, folder=prompt_cache())
        for lang in ("en", "cmn")
    }
    free_lines = list(lines)
    shared = SharedCallbacks(CallbackConfig(retry_delay=((Outcome.NO_ANSWER, 1.0), (Outcome.LOST, 1.0))))
    engine = QueueEngine(
        store,
        Acd([QueueConfig("bank", ring_timeout=15.0, retry=2.0, wrapup=1.0)]),
        {f"{server}-agent{i + 1}": p for i, p in enumerate(ports)},
        epoch=EPOCH,
        lines=lambda: free_lines.pop() if free_lines else None,
        release_line=free_lines.append,
        people=SimAgents(board, np.random.default_rng(seed), answer_ms=(300.0, 600.0), talk_s=(2.0, 4.0)),
        server=server,
        shared=shared,
        claim_every=0.2,
        claim_lease=LEASE_S,
    )

    async def script(call: IvrCall) -> None:  # no inbound calls in this world
        await call.hangup()

    told = [0]

    def report(runner: IvrRunner) -> None:
        for e in engine.emitted[told[0] :]:
            if e.EVENT == "CALLBACKATTEMPT":
                print(f"dial {e.callid} {e.row()[5]} {time.time()!r}", flush=True)
        told[0] = len(engine.emitted)

    runner = IvrRunner(
        board, script, prompts, inbound=[], transfer_hook=QueueHook(engine), tick_hooks=[report]
    )
    engine.bind(runner, ["bank"])
    looked = [0, False]

    def finished() -> bool:
        if runner.ms - looked[0] >= 500:  # the table is looked at every 0.5 board s
            looked[0] = runner.ms
            open_rows = store.callbacks(state=PENDING) + store.callbacks(state=CLAIMED)
            looked[1] = not open_rows
        return bool(looked[1]) and engine.idle() and not runner.calls

    asyncio.run(runner.run(until_ms=3_600_000, stop=finished))
    out: dict[str, Any] = {"errors": engine.errors, "ms": runner.ms, "lost_claims": engine.lost_claims}
    print("done " + json.dumps(out), flush=True)
    store.close()
    board.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
