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

from ccboard.queue.callback import CallbackConfig, CallbackCore
from ccboard.queue.engine import QueueEngine
from ccboard.queue.shared import SharedCallbacks
from ccboard.store import open_store
from tests.queue.centre import one_agent_centre
from tests.queue.test_engine import EPOCH

TALK_S = 36_000.0  # board s: the agent stays busy until the process is killed


def main(
    url: str, server: str, lease: float, talk_s: float = TALK_S, until_done: bool = False
) -> QueueEngine:
    store = open_store(url)
    cfg = CallbackConfig(shared=True)
    c = one_agent_centre(
        store,
        seed=5,
        agent=f"{server}-agent1",
        talk_s=talk_s,
        people_seed=5,
        callbacks=CallbackCore(cfg),
        epoch=EPOCH,
        server=server,
        shared=SharedCallbacks(cfg),
        claim_every=0.2,
        claim_lease=lease,
    )
    c.ring_both()

    def done() -> bool:
        return until_done and bool(c.booked) and c.engine.idle() and not c.runner.calls

    asyncio.run(c.runner.run(until_ms=int((talk_s + 600.0) * 1000), stop=done))
    if not until_done:
        print("ended: the test should have killed this process", flush=True)
    store.close()
    c.board.close()
    return c.engine


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
