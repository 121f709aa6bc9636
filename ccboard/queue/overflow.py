"""Overflow between sites by live service level, sans-IO: which callers to offer, how many to take.

Several sites (board servers) share one store. A site whose queue's live service level falls
below ``min_sl`` (SL over the last ``window`` s of the shared ledger: CONNECTs whose holdtime is
within ``sl_threshold`` s / CONNECTs, as ``ccboard.queue.kpi``), or whose caller has waited
``max_wait`` s, offers its waiting callers (longest first, each once, none before ``min_wait``)
to the others: a row of the store's ``overflow_offers`` table. A site with free agents claims
offers (``FOR UPDATE SKIP LOCKED``: each by one site) for the agents that its own line does not
need (``take``) and takes them. The offering site then sends each taken caller over (its ACD
sees ``CallerOverflow``: EXITWITHTIMEOUT, ExitQueue "OVERFLOW" to the taking site, whose ACD
gets the caller as a new arrival), or, if the caller was answered or hung up at home first,
voids the offer. The host does the store I/O; this core is fed the ledger, the line and "now".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ccboard.queue import events as ev
from ccboard.queue import kpi

__all__ = ["OverflowConfig", "OverflowCore"]


@dataclass(frozen=True)
class OverflowConfig:
    queue: str
    min_sl: float = 0.8  # offer while the live SL is below this
    sl_threshold: float = 20.0  # s: "answered within"
    window: float = 900.0  # s of ledger the live SL looks at
    max_wait: float = 60.0  # s: offer a caller waiting this long whatever the SL
    min_wait: float = 5.0  # s: never offer a caller who has just come in


@dataclass
class OverflowCore:
    """One site's overflow decisions for one queue."""

    cfg: OverflowConfig
    offered: set[str] = field(default_factory=set)  # call ids offered and not yet settled

    def live_sl(self, ledger: Iterable[ev.LedgerEvent], now: float) -> float | None:
        """SL of the queue over the last `window` s of the (shared) ledger; None: nobody answered."""
        since = now - self.cfg.window
        recent = [e for e in ledger if since <= e.time <= now]
        return kpi.compute(recent, queue=self.cfg.queue, sl_threshold=self.cfg.sl_threshold, until=now).sl

    def to_offer(
        self, now: float, callers: Sequence[tuple[str, str, float]], sl: float | None
    ) -> list[tuple[str, str, float]]:
        """(call id, caller id, waited s) to offer now, from the line (call id, caller id, entered),
        longest waiting first; each caller once until ``settled``."""
        low = sl is not None and sl < self.cfg.min_sl
        out = []
        for callid, callerid, entered in sorted(callers, key=lambda c: c[2]):
            waited = now - entered
            if callid in self.offered or waited < self.cfg.min_wait:
                continue
            if low or waited >= self.cfg.max_wait:
                self.offered.add(callid)
                out.append((callid, callerid, waited))
        return out

    def settled(self, callid: str) -> None:
        """The caller's offer is over (sent, voided or withdrawn)."""
        self.offered.discard(callid)

    @staticmethod
    def take(free_agents: int, waiting_here: int) -> int:
        """How many offers of other sites to claim: the free agents this site's line leaves idle."""
        return max(0, free_agents - waiting_here)
