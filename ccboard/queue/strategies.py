"""Ring strategies as data: each is a metric over candidate members (lowest wins) plus two flags.

Like Asterisk's app_queue (calc_metric), a strategy gives every available, eligible member a
metric; the lowest is rung. Penalty and tier level come first (a higher-penalty member is only
rung when no lower-penalty one is free), except for weighted random, where the penalty only
weights the draw. Ring-all rings every member that ties on (penalty, level).

==================== ============================================================================
name                 metric (lower rings first)
==================== ============================================================================
ringall              0 for all: rings every best member at once
leastrecent          when this member's last call from this queue ended (never = 0)
fewestcalls          calls this member took from this queue
random               uniform draw
rrmemory             join order, starting after the member rung last (round robin with memory)
rrordered            configured position order, starting after the member rung last
linear               configured position order, always from the first
wrandom              uniform draw x (1 + penalty); penalty does not dominate
longest-idle-agent   when the agent last became free, across queues (mod_callcenter)
top-down             tier position order, always from the first (mod_callcenter)
round-robin          tier position order, starting after the member rung last (mod_callcenter)
agent-with-least-talk-time  total talk time across queues (mod_callcenter)
agent-with-fewest-calls     calls across queues (mod_callcenter)
==================== ============================================================================
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ccboard.queue.agents import Member

_WRAP = 1 << 40  # pushes members at or before the round-robin pointer behind the others


@dataclass(slots=True)
class Rotation:
    """Per-queue strategy memory: the member rung last, and a seeded generator for the draws."""

    last_ordinal: int = -1
    last_position: tuple[int, int] = (-1, -1)
    rng: random.Random = field(default_factory=lambda: random.Random(0))  # seeded per queue by the ACD


Metric = Callable[[Member, Rotation], float]


def _rr_memory(m: Member, r: Rotation) -> float:
    return m.ordinal + (_WRAP if m.ordinal <= r.last_ordinal else 0)


def _rr_ordered(m: Member, r: Rotation) -> float:
    key = (m.position, m.ordinal)
    return m.position * 1e6 + m.ordinal % 1_000_000 + (_WRAP if key <= r.last_position else 0)


@dataclass(frozen=True, slots=True)
class Strategy:
    name: str
    metric: Metric
    ring_all: bool = False
    penalty_first: bool = True  # (penalty, level) dominate the metric

    def __reduce__(self) -> tuple[Callable[[str], Strategy], tuple[str]]:
        """Pickled by name (a journal snapshot): the metric is a function of this module."""
        return strategy, (self.name,)

    def pick(self, cands: Sequence[Member], rot: Rotation) -> list[Member]:
        """The member(s) to ring from the candidates (all available and eligible); [] if none."""
        if not cands:
            return []
        if self.ring_all:
            best = min((m.penalty, m.level) for m in cands)
            return [m for m in cands if (m.penalty, m.level) == best]
        metric = self.metric
        if self.penalty_first:
            chosen = min(cands, key=lambda m: (m.penalty, m.level, metric(m, rot)))
        else:
            chosen = min(cands, key=lambda m: metric(m, rot))
        rot.last_ordinal = chosen.ordinal
        rot.last_position = (chosen.position, chosen.ordinal)
        return [chosen]


STRATEGIES: dict[str, Strategy] = {
    s.name: s
    for s in (
        Strategy("ringall", lambda m, r: 0.0, ring_all=True),
        Strategy("leastrecent", lambda m, r: m.last_call),
        Strategy("fewestcalls", lambda m, r: float(m.calls)),
        Strategy("random", lambda m, r: r.rng.random()),
        Strategy("rrmemory", _rr_memory),
        Strategy("rrordered", _rr_ordered),
        Strategy("linear", lambda m, r: m.position * 1e6 + m.ordinal % 1_000_000),
        Strategy("wrandom", lambda m, r: r.rng.random() * (1 + m.penalty), penalty_first=False),
        Strategy("longest-idle-agent", lambda m, r: m.agent.idle_since),
        Strategy("top-down", lambda m, r: m.position * 1e6 + m.ordinal % 1_000_000),
        Strategy("round-robin", _rr_ordered),
        Strategy("agent-with-least-talk-time", lambda m, r: m.agent.talk_time),
        Strategy("agent-with-fewest-calls", lambda m, r: float(m.agent.calls)),
    )
}


def strategy(name: str) -> Strategy:
    """Look a strategy up by name (Asterisk's or mod_callcenter's spelling)."""
    try:
        return STRATEGIES[name]
    except KeyError:
        from ccboard.queue.events import QueueError

        raise QueueError(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}") from None
