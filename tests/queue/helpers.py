"""A host for the ACD in tests: feeds events at a given time, keeps the ledger and the actions."""

from __future__ import annotations

from typing import Any

from ccboard.queue import events as ev
from ccboard.queue.acd import Acd, QueueConfig


class Host:
    def __init__(self, *queues: QueueConfig) -> None:
        self.acd = Acd(queues)
        self.now = 0.0
        self.ledger: list[ev.LedgerEvent] = []
        self.actions: list[ev.Action] = []

    def feed(self, event: ev.Event, at: float | None = None) -> list[ev.Action]:
        if at is not None:
            self.advance(at)
        out = self.acd.handle(event, self.now)
        self._take(out)
        return out

    def advance(self, to: float) -> list[ev.Action]:
        """Run timers up to `to` (each at its deadline), then set now = to."""
        got: list[ev.Action] = []
        while (d := self.acd.next_deadline()) is not None and d <= to:
            self.now = max(self.now, d)
            out = self.acd.on_timeout(self.now)
            self._take(out)
            got += out
        self.now = max(self.now, to)
        return got

    def _take(self, out: list[ev.Action]) -> None:
        # ledger rows come before the actions they record within one decision
        for a in out:
            (self.ledger if isinstance(a, ev.LedgerEvent) else self.actions).append(a)

    def agents(self, queue: str, names: str | list[str], **member: Any) -> None:
        for n in names:
            self.feed(ev.AddMember(n, queue, **member))
            self.feed(ev.AgentLogin(n))

    def rung(self, since: int = 0) -> list[tuple[str, str]]:
        return [(a.callid, a.agent) for a in self.actions[since:] if isinstance(a, ev.RingAgent)]

    def events(self, name: str) -> list[ev.LedgerEvent]:
        return [e for e in self.ledger if e.event == name]
