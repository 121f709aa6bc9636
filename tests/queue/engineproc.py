"""The queue engine on the sim as a process that the test kills: `python -m tests.queue.engineproc
MODE URL`.

first: two callers ring a one-agent queue; A is answered and talks 30 s, B presses 2, keys its
number, keeps its place and hangs up (tests/queue/centre.py). Prints "booked <call id>" once B's
promise is written (A is still talking), then runs on until killed.
resume: a new process and a new board on the same store: the engine replays its journal
(resume=True) from the journal's last time on, so A's lost call is ended and B is called back on
a spare line and connected to the agent. Prints "done <json>" once idle.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from ccboard.queue.callback import CallbackCore
from ccboard.store import open_store
from tests.queue.centre import one_agent_centre
from tests.queue.test_engine import EPOCH

SERVER = "bank-1"


def main(mode: str, url: str) -> None:
    store = open_store(url)
    resume = mode == "resume"
    epoch = EPOCH
    if resume:  # the restarted server's board clock starts at 0: carry on after the journal's end
        epoch = store.journal(SERVER, after=store.journal_seq(SERVER) - 1)[-1].time + 1.0
    c = one_agent_centre(
        store,
        seed=4 if resume else 3,
        agent="agent1",
        talk_s=30.0,
        people_seed=1,
        callbacks=CallbackCore(),
        epoch=epoch,
        server=SERVER,
        resume=resume,
    )
    if not resume:
        c.ring_both()

    def finished() -> bool:
        return resume and c.runner.ms > 2000 and c.engine.idle() and not c.runner.calls

    asyncio.run(c.runner.run(until_ms=int(sys.argv[3]) if len(sys.argv) > 3 else 600_000, stop=finished))
    out: dict[str, Any] = {
        "errors": c.engine.errors,
        "ms": c.runner.ms,
        "replayed": c.engine.durable.replayed,
        "emitted": [f"{e.callid} {e.EVENT}" for e in c.engine.emitted],
        "played": c.engine.played,
        "keyed": c.callers.keyed,
    }
    print("done " + json.dumps(out), flush=True)
    store.close()
    c.board.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
