"""Queue layer: ACD, ring strategies, caller callbacks, outbound campaigns, Erlang C and KPIs.

Every core here is sans-IO (``handle(event, now) -> list[Action]``, ``next_deadline()``,
``on_timeout(now)``): no clock reads, no I/O, no board and no storage. The ledger events each
decision implies come back as actions (``ccboard.queue.events``) for the store to write first.
"""

from ccboard.queue.acd import Acd, PenaltyRule, QueueConfig
from ccboard.queue.events import AgentState, LedgerEvent, Outcome, QueueError
from ccboard.queue.strategies import STRATEGIES

__all__ = [
    "Acd",
    "AgentState",
    "LedgerEvent",
    "Outcome",
    "PenaltyRule",
    "QueueConfig",
    "QueueError",
    "STRATEGIES",
]
