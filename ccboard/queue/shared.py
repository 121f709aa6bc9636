"""Callbacks shared by several engines on one store, sans-IO: claimed, dialled and finished once.

A scheduled ("call me at 18:00") callback booked on any server is a row of the store's shared
``callbacks`` table (``CallbackCore(shared=True)`` emits ``ShareCallback``; ``Durable`` writes it
with the booking). Each engine claims due rows with ``FOR UPDATE SKIP LOCKED`` (a lease) only when
it has free agents for them (``want``), feeds the claimed rows here (``SharedClaimed``), and this
core puts each into the ACD as a virtual caller (``EnqueueCallback``) under a stint id of its own
(``<id>.<attempt>``), so a retry never meets an older stint. The dial's outcome
(``CallbackOutcome``) gives ``FinishShared``, which ``Durable`` writes in the same transaction as
the journal entry and the CALLBACKRESULT row: an outcome is recorded once, and only while this
engine's claim still holds. A claim whose engine died expires and another engine takes it.

**Kept places** ("press 2, then 1: keep my place"; ``CallbackConfig(shared=True)``) are rows too,
so that a promise outlives its server. The booking writes the row already claimed by this engine
(``ShareCallback`` mode "keep_place", lease ``Durable.lease``), with the place it keeps: ``due`` =
when the caller entered the line (shared clock), ``priority`` = its priority there; ``Durable``
feeds the row here as ``SharedKept`` in the same decision, so the journal holds it and the ACD's
virtual caller (the call id itself is the stint) is dialled, re-checked and finished like any
claimed row. While the place waits in this engine's line the host renews the claim
(``Repository.renew_callbacks``). If the engine dies, the lease lapses and another engine claims
the row like a due booked time (``due`` is in the past: due at once; oldest place first) and
puts it in its own line at ``max(priority, cfg.priority)``. We hand it over as due at once rather
than rebuild its place in the other engine's line because that line is another set of callers
whose places were never compared with it: the caller already waited their turn once, was promised
a time by SMS, and the line that kept their place is gone with its server, so the fair choice is
to serve them next at callback priority. A retry after no answer is a pending row due later, as
for a booked time.

Before a held row is dialled, ``Durable`` re-checks its claim in the transaction that records the
dial (CALLBACKATTEMPT) and renews it for the dial; if it no longer holds (this engine stalled or
was restarted under its name after the lease expired, and another engine took the row), the
host does not dial: it ends the stint in the ACD and feeds ``SharedLost``, which drops the row
here without recording an outcome (the row is the other engine's now).

Time: the rows' ``due`` and the leases are in the shared clock (wall s since the epoch, the one
clock every server agrees on); this core passes retry *delays* and the host stamps them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ccboard.queue import events as ev
from ccboard.queue.callback import CallbackConfig, CallbackOutcome
from ccboard.queue.events import NONE, Action, Outcome, QueueError
from ccboard.store.records import Callback

__all__ = ["FinishShared", "SharedCallbacks", "SharedClaimed", "SharedKept", "SharedLost", "stint_id"]


@dataclass(frozen=True, slots=True)
class SharedClaimed(ev.Event):
    """Rows this engine has just claimed from the shared table (as the store returned them)."""

    callbacks: tuple[Callback, ...]


@dataclass(frozen=True, slots=True)
class SharedKept(ev.Event):
    """A kept place booked here, written to the shared table claimed by this engine (the row as
    written); its stint is the caller's own call id, already a virtual caller in this ACD."""

    callback: Callback


@dataclass(frozen=True, slots=True)
class SharedLost(ev.Event):
    """A held stint's claim no longer holds (found when it was about to be dialled): forget it."""

    callid: str


@dataclass(frozen=True, slots=True)
class FinishShared(Action):
    """Record a claimed row's dial outcome in the shared table; retry after `retry_in` s (None:
    no retry; the store marks it failed once its attempts are spent)."""

    callback: Callback
    outcome: str
    retry_in: float | None


def stint_id(cb: Callback) -> str:
    """The ACD call id of one claim of `cb`: unique per dial attempt."""
    return f"{cb.id}.{cb.attempts + 1}"


class SharedCallbacks:
    """The claimed shared callbacks this engine holds, from claim to outcome."""

    def __init__(self, cfg: CallbackConfig | None = None) -> None:
        self.cfg = cfg or CallbackConfig()
        self.held: dict[str, Callback] = {}  # stint id -> row as claimed

    def want(self, free_agents: int, waiting: int) -> int:
        """How many rows to claim now: one per free agent that no waiting call will take."""
        return max(0, free_agents - waiting)

    def handle(self, event: ev.Event, now: float) -> list[Action]:
        out: list[Action] = []
        if isinstance(event, SharedClaimed):
            for cb in event.callbacks:
                sid = stint_id(cb)
                if sid in self.held:
                    raise QueueError(f"shared callback {cb.id}: stint {sid} claimed twice")
                self.held[sid] = cb
                prio = max(cb.priority, self.cfg.priority)  # a kept place taken over: served next
                out.append(ev.EnqueueCallback(sid, cb.queue, cb.number, prio))
        elif isinstance(event, SharedKept):
            cb = event.callback
            if cb.callid in self.held:
                raise QueueError(f"shared callback {cb.id}: kept place {cb.callid} held twice")
            self.held[cb.callid] = cb
        elif isinstance(event, SharedLost):
            if self.held.pop(event.callid, None) is None:
                raise QueueError(f"shared callback stint {event.callid}: not held here")
        elif isinstance(event, CallbackOutcome):
            if event.callid not in self.held:
                raise QueueError(f"shared callback stint {event.callid}: not held here")
            cb = self.held.pop(event.callid)
            attempt = cb.attempts + 1
            o = event.outcome
            final = o in (Outcome.ANSWERED, Outcome.INVALID) or attempt >= cb.max_attempts
            # the store turns a retry into "failed" once max_attempts are spent
            ended = o in (Outcome.ANSWERED, Outcome.INVALID)
            retry = None if ended else dict(self.cfg.retry_delay).get(o, self.cfg.default_retry)
            nxt = "" if final or retry is None else f"+{retry!r}"
            out.append(ev.CallbackResult(now, cb.id, cb.queue, NONE, o.value, attempt, int(final), nxt))
            out.append(FinishShared(cb, o.value, retry))
        else:
            raise QueueError(f"shared callbacks: no handler for event {type(event).__name__}")
        return out

    def next_deadline(self) -> float | None:
        return None

    def on_timeout(self, now: float) -> list[Action]:
        return []
