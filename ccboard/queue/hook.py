"""The transfer hook the IVR calls: ``IvrCall.transfer("queue name")`` -> the queue engine.

The IVR declares the hook as a protocol (``ccboard.ivr.call.TransferHook``); this object
implements it, so the queue layer depends on the IVR and never the reverse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ccboard.ivr import IvrCall, TransferResult

if TYPE_CHECKING:
    from ccboard.queue.engine import QueueEngine


class QueueHook:
    """Transfers to a queue name go to the engine's ACD; other names are refused."""

    def __init__(self, engine: QueueEngine) -> None:
        self.engine = engine

    async def transfer(self, call: IvrCall, target: str) -> TransferResult:
        if target not in self.engine.acd.queues:
            return TransferResult(False, f"no queue {target!r}")
        return await self.engine.serve(call, target)
