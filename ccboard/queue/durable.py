"""Crash recovery for sans-IO cores: every input journalled write-ahead, replayed on restart.

The queue cores (``Acd``, ``CallbackCore``, ``Campaign``) are deterministic: the same inputs with
the same "now" give the same state. So a host need not snapshot them; it writes each input it
feeds (an event, or "your deadline passed" at time t) to the store's journal *in the same
transaction* as the ledger events and SMS that input implies, and only then carries out the other
actions. After a crash (SIGKILL of the engine or of the whole server) a new process builds fresh
cores from the same configuration and replays its journal into them, discarding their actions
(already written or carried out). They are then exactly as they were at the last committed
decision: waiting kept-place callbacks in their places, scheduled callbacks armed, campaign
contacts with their attempt counts and retry times, agents logged in, paused or in wrap-up.

Replaying a long journal from its start costs time at every restart, so a host may save
*snapshots* of the cores (``save_snapshot``, or ``snapshot_every`` entries): the whole state,
pickled, after a journal entry; ``replay`` restores the latest one taken under the same
configuration into the cores (in place) and replays only the entries after it. Unpickling a
snapshot builds nothing but the cores' own classes (a restricted unpickler), as it is read from
a store other servers share. The journal itself is never cut.

What died with the process is the I/O: every live leg. ``recover`` ends those in the cores as a
restart would see them, and that too is journalled: callers on the line hung up (ABANDON or
COMPLETECALLER), agents ringing did not answer, a callback or campaign dial in flight ended with
outcome ``lost`` and is retried by the usual rules with the next attempt number. An attempt once
recorded (CALLBACKATTEMPT, CAMPAIGNATTEMPT) is never dialled again under that number, and nothing
committed is written twice (ledger uids are server/seq/index of the journal entry).

Actions that are really inputs of another core (a booked kept place goes back to the ACD as
CallerToVirtual; a scheduled callback coming due enters the queue as CallArrives) are fed within
the same decision (``derive``), so their journal entries commit with it: a crash never leaves a
callback booked in one core and missing from the other. Likewise a shared kept place: the row
written for it (``ShareCallback``, claimed by this server) is fed to the shared core as
``SharedKept`` in the same decision.
"""

from __future__ import annotations

import base64
import collections
import enum
import hashlib
import io
import itertools
import json
import pickle
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Protocol

from ccboard.queue import events as ev
from ccboard.queue.acd import CONNECTED, DIALING, RINGING, Acd
from ccboard.queue.callback import CallbackCore, CallbackOutcome, ShareCallback
from ccboard.queue.campaign import Campaign, Contact, DialOutcome
from ccboard.queue.events import Action, Outcome, QueueError
from ccboard.queue.shared import FinishShared, SharedCallbacks, SharedKept
from ccboard.queue.strategies import strategy
from ccboard.store.records import CLAIMED, KEEP_PLACE, Callback, JournalEntry, JournalSnapshot, SmsMessage
from ccboard.store.records import LedgerEvent as LedgerRow

__all__ = ["Core", "Decision", "Durable", "decode", "default_derive", "encode"]


class Core(Protocol):
    """A sans-IO core: handle(event, now), next_deadline(), on_timeout(now)."""

    def handle(self, event: ev.Event, now: float) -> list[Action]: ...

    def next_deadline(self) -> float | None: ...

    def on_timeout(self, now: float) -> list[Action]: ...


# ---------------------------------------------------------------- the journal's JSON codec


def _subclasses(cls: type[Any]) -> list[type[Any]]:
    out = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_subclasses(sub))
    return out


_TYPES: dict[str, type[Any]] = {c.__name__: c for c in (*_subclasses(ev.Event), Contact, Callback)}
_ENUMS: dict[str, type[enum.Enum]] = {c.__name__: c for c in (Outcome, ev.AgentState)}


def _enc(v: Any) -> Any:
    if isinstance(v, enum.Enum):
        return {"$e": type(v).__name__, "v": v.value}
    if is_dataclass(v) and not isinstance(v, type):
        return {"$": type(v).__name__, **{f.name: _enc(getattr(v, f.name)) for f in fields(v)}}
    if isinstance(v, tuple | list):
        return [_enc(x) for x in v]
    if isinstance(v, frozenset | set):
        return {"$set": sorted(_enc(x) for x in v)}
    return v


def _dec(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_dec(x) for x in v)
    if isinstance(v, dict):
        if "$e" in v:
            return _ENUMS[v["$e"]](v["v"])
        if "$set" in v:
            return frozenset(_dec(x) for x in v["$set"])
        cls = _TYPES.get(v.get("$", ""))
        if cls is None:
            raise QueueError(f"journal: unknown event type {v.get('$')!r}")
        return cls(**{k: _dec(x) for k, x in v.items() if k != "$"})
    return v


def encode(event: ev.Event) -> str:
    """An event as the journal's JSON text (type name and fields; enums by value)."""
    if type(event).__name__ not in _TYPES:
        raise QueueError(f"journal: cannot encode {type(event).__name__} (not a known event type)")
    return json.dumps(_enc(event), separators=(",", ":"), ensure_ascii=False)


def decode(text: str) -> ev.Event:
    """The event a journal body holds; QueueError naming the type if it is unknown."""
    try:
        got = _dec(json.loads(text))
    except (ValueError, TypeError, KeyError) as exc:
        raise QueueError(f"journal: bad entry {text[:80]!r}: {exc}") from exc
    if not isinstance(got, ev.Event):
        raise QueueError(f"journal: entry {text[:80]!r} is not an event")
    return got


# ---------------------------------------------------------------- snapshots of the cores

# Globals a snapshot may name besides the classes of ccboard.queue and ccboard.store.records: a
# snapshot is read from the shared store, so unpickling may build these and nothing else (no
# functions, no modules: the pickle docs' "restricting globals").
_SNAPSHOT_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "deque"): collections.deque,
    ("itertools", "count"): itertools.count,
    ("random", "Random"): random.Random,
    ("ccboard.queue.strategies", "strategy"): strategy,
}


class _SnapshotUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _SNAPSHOT_GLOBALS:
            return _SNAPSHOT_GLOBALS[(module, name)]
        if module.startswith("ccboard.queue.") or module == "ccboard.store.records":
            obj = super().find_class(module, name)
            if isinstance(obj, type) and obj.__module__ == module:
                return obj
        raise pickle.UnpicklingError(f"{module}.{name} may not appear in a snapshot")


def dump_cores(cores: Mapping[str, Core]) -> str:
    """The cores' whole state as text (pickle, base64) for a journal snapshot."""
    return base64.b64encode(pickle.dumps(dict(cores), protocol=5)).decode("ascii")


def load_cores(body: str) -> dict[str, Any]:
    """Cores from dump_cores' text; QueueError if it is not one (or names a forbidden global)."""
    try:
        got = _SnapshotUnpickler(io.BytesIO(base64.b64decode(body, validate=True))).load()
    except (pickle.UnpicklingError, ValueError, TypeError, EOFError, AttributeError) as exc:
        raise QueueError(f"snapshot: bad body: {exc}") from exc
    if not isinstance(got, dict):
        raise QueueError(f"snapshot: body is a {type(got).__name__}, not the cores")
    return got


def config_print(cores: Mapping[str, Core]) -> str:
    """A fingerprint of the cores' configuration (their ``cfg``, an ACD's queue configs): a
    snapshot taken under another configuration is not restored."""
    conf: dict[str, Any] = {}
    for name, c in sorted(cores.items()):
        if isinstance(c, Acd):
            conf[name] = [type(c).__name__, [_enc(q.cfg) for q in c.queues.values()]]
        else:
            conf[name] = [type(c).__name__, _enc(getattr(c, "cfg", None))]
    text = json.dumps(conf, sort_keys=True, default=repr, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------- decisions


def default_derive(a: Action) -> tuple[str, ev.Event] | None:
    """Actions of the callback core that are inputs of the ACD (core "acd")."""
    if isinstance(a, ev.KeepPlace):
        return "acd", ev.CallerToVirtual(a.callid, a.number, a.promised)
    if isinstance(a, ev.LeaveForCallback):
        return "acd", ev.CallerBooked(a.callid)
    if isinstance(a, ev.EnqueueCallback):
        return "acd", ev.CallArrives(a.callid, a.queuename, priority=a.priority, number=a.number)
    return None


@dataclass
class Decision:
    """What one fed input gave, once written: its ledger events (in order) and the other actions."""

    ledger: list[ev.LedgerEvent]
    actions: list[Action]
    lost_claims: int = 0  # shared callbacks finished here whose claim had expired (another has it)
    lost_dials: list[str] = field(default_factory=list)  # shared stints not to dial: claim lost


def to_row(e: ev.LedgerEvent, uid: str, server: str = "") -> LedgerRow:
    """A core's ledger event as the store's row."""
    r = e.row()
    d1, d2, d3, d4, d5 = r[5:10]
    return LedgerRow(e.time, r[1], r[2], r[3], r[4], d1, d2, d3, d4, d5, server=server, uid=uid)


class Durable:
    """Feeds named cores through the store's journal (see the module docstring).

    store: a Repository; server: this engine's name (its journal is its own, the key of its uids).
    derive: which actions are inputs of another core (default: ``default_derive``).
    clock: the shared clock (wall s) that stamps rows of the shared callbacks table (their due
    retries and finish times; ccboard.queue.shared); None: the decision's "now".
    lease: s of the shared clock a held row's claim is renewed for when a decision dials it (the
    claim is re-checked in that decision's transaction; see ``Decision.lost_dials``).
    snapshots: let ``replay`` start from the latest journal snapshot of this configuration.
    snapshot_every: save a snapshot after every decision that ends this many entries (or more)
    after the last one (0: only when ``save_snapshot`` is called).
    """

    def __init__(
        self,
        store: Any,
        server: str,
        cores: Mapping[str, Core],
        derive: Callable[[Action], tuple[str, ev.Event] | None] = default_derive,
        clock: Callable[[], float] | None = None,
        lease: float = 60.0,
        snapshots: bool = True,
        snapshot_every: int = 0,
    ) -> None:
        if not server:
            raise QueueError("durable: the server name is empty")
        self.store = store
        self.server = server
        self.cores = dict(cores)
        shared_cb = [n for n, c in self.cores.items() if isinstance(c, CallbackCore) and c.cfg.shared]
        if shared_cb and not any(isinstance(c, SharedCallbacks) for c in self.cores.values()):
            raise QueueError(
                f"durable: core {shared_cb[0]!r} shares its callbacks but no SharedCallbacks core is given"
            )
        self.derive = derive
        self.clock = clock
        self.lease = lease
        self.seq = 0  # last journal seq written
        self.replayed = 0
        self.last_time = float("-inf")  # "now" of the last entry replayed or written
        self.snapshots = snapshots
        self.config = config_print(self.cores)  # of the cores as configured (before any input)
        self.restored = 0  # seq of the snapshot the last replay started from (0: none)
        self.snapshot_every = snapshot_every
        self._snapped = 0  # seq of the last snapshot saved or restored

    # ------------------------------------------------------------ feeding

    def feed(self, core: str, event: ev.Event, now: float) -> Decision:
        """Feed one event to one core (and what it derives), write it all, return the decision."""
        return self._decide([(core, "event", event)], now)

    def feed_many(self, inputs: Sequence[tuple[str, ev.Event]], now: float) -> Decision:
        """Feed several (core, event) in one decision: written together or not at all (e.g. a
        callback's dial result to the ACD and its outcome to the callback core)."""
        return self._decide([(core, "event", e) for core, e in inputs], now)

    def timeouts(self, now: float) -> Decision:
        """Fire every core whose deadline has come (each journalled as a timeout)."""
        due = [
            (name, "timeout", None)
            for name, c in self.cores.items()
            if (d := c.next_deadline()) is not None and d <= now
        ]
        return self._decide(due, now) if due else Decision([], [])

    def _decide(self, inputs: Sequence[tuple[str, str, ev.Event | None]], now: float) -> Decision:
        entries: list[JournalEntry] = []
        ledger: list[ev.LedgerEvent] = []
        actions: list[Action] = []
        shares: list[Callback] = []
        shared_now = self.clock() if self.clock is not None else now

        def run(core: str, kind: str, event: ev.Event | None) -> None:
            c = self.cores.get(core)
            if c is None:
                raise QueueError(f"durable: no core {core!r} (have {', '.join(self.cores)})")
            body = encode(event) if event is not None else ""
            entries.append(JournalEntry(self.server, self.seq + len(entries) + 1, now, core, kind, body))
            out = c.handle(event, now) if event is not None else c.on_timeout(now)
            for a in out:
                if isinstance(a, ev.LedgerEvent):
                    ledger.append(a)
                    continue
                actions.append(a)
                if isinstance(a, ShareCallback):
                    shares.append(self._share_row(a, now, shared_now))
                    if a.mode == KEEP_PLACE:  # held here: the shared core learns it in this decision
                        run(self._shared_core(), "event", SharedKept(shares[-1]))
                    continue
                sub = self.derive(a)
                if sub is not None:
                    run(sub[0], "event", sub[1])

        for core, kind, event in inputs:
            run(core, kind, event)
        first = self.seq + 1
        rows = [to_row(e, f"{self.server}/{first}/{i}", self.server) for i, e in enumerate(ledger)]
        sms = [
            SmsMessage(f"sms-{a.ref or f'{self.server}-{first}-{i}'}", a.number, a.text, now, ref=a.ref)
            for i, a in enumerate(actions)
            if isinstance(a, ev.SendSms)
        ]
        finishes = [
            (a.callback, a.outcome, None if a.retry_in is None else shared_now + a.retry_in)
            for a in actions
            if isinstance(a, FinishShared)
        ]
        # held shared rows this decision dials: their claims are re-checked (and renewed) in its
        # transaction, so an engine whose claim expired and was taken over never dials them
        stints = {
            a.callid: c.held[a.callid]
            for a in actions
            if isinstance(a, ev.DialCallback)
            for c in self.cores.values()
            if isinstance(c, SharedCallbacks) and a.callid in c.held
        }
        # write-ahead: the inputs, their ledger rows, SMS, shared callbacks and their outcomes
        # commit together before any action runs
        lost: list[str] = []
        if stints:
            held, lost_ids = self.store.record_dialling(
                list(stints.values()), shared_now + self.lease, events=rows, sms=sms, journal=entries,
                callbacks=shares, finishes=finishes, finished_at=shared_now,
            )  # fmt: skip
            lost = [sid for sid, cb in stints.items() if cb.id in lost_ids]
        else:
            held = self.store.record(
                events=rows,
                sms=sms,
                journal=entries,
                callbacks=shares,
                finishes=finishes,
                finished_at=shared_now,
            )
        self.seq += len(entries)
        if entries:
            self.last_time = now
            if self.snapshot_every and self.seq - self._snapped >= self.snapshot_every:
                self.save_snapshot()
        written = (ev.SendSms, ShareCallback, FinishShared)
        kept = [a for a in actions if not isinstance(a, written)]
        return Decision(ledger, kept, len(finishes) - held, lost)

    def _share_row(self, a: ShareCallback, now: float, shared_now: float) -> Callback:
        """The shared table's row for a ShareCallback: a booked time pending at its due time; a
        kept place claimed by this engine for `lease` s, due = when its caller entered the line
        (converted to the shared clock), with its priority."""
        if a.mode != KEEP_PLACE:
            return Callback(a.callid, a.callid, a.queuename, a.number, a.due, shared_now,
                            max_attempts=a.max_attempts, sms=a.sms)  # fmt: skip
        return Callback(a.callid, a.callid, a.queuename, a.number, shared_now - (now - a.due), shared_now,
                        mode=KEEP_PLACE, state=CLAIMED, max_attempts=a.max_attempts, sms=a.sms,
                        claimed_by=self.server, claim_until=shared_now + self.lease, claim_seq=1,
                        priority=a.priority)  # fmt: skip

    def _shared_core(self) -> str:
        """The name of the SharedCallbacks core (one is there: checked in __init__)."""
        return next(n for n, c in self.cores.items() if isinstance(c, SharedCallbacks))

    # ------------------------------------------------------------ restart

    def start_fresh(self) -> None:
        """Do not resume: new entries follow whatever this server's journal holds (uids stay unique)."""
        self.seq = self.store.journal_seq(self.server)

    def save_snapshot(self) -> JournalSnapshot:
        """Store the cores as they are now, after journal entry ``seq``: a restart (``replay``)
        then starts from it and replays only the entries after it. The journal stays whole (the
        ledger's uids and an audit replay still need it). Take one between decisions, e.g. every
        few thousand entries or on a quiet tick."""
        if self.seq == 0:
            raise QueueError(f"journal {self.server}: nothing written or replayed yet to snapshot")
        snap = JournalSnapshot(self.server, self.seq, self.last_time, self.config, dump_cores(self.cores))
        self.store.save_snapshot(snap)
        self._snapped = self.seq
        return snap

    def _restore(self, snap: JournalSnapshot) -> None:
        got = load_cores(snap.body)
        where = f"snapshot {self.server}#{snap.seq}"
        if set(got) != set(self.cores):
            raise QueueError(f"{where}: cores {sorted(got)}, configured now {sorted(self.cores)}")
        for name, core in self.cores.items():
            if type(got[name]) is not type(core):
                raise QueueError(
                    f"{where}: core {name!r} is a {type(got[name]).__name__}, not a {type(core).__name__}"
                )
            # in place: the host keeps references to its cores
            vars(core).clear()
            vars(core).update(vars(got[name]))
        self.seq, self.last_time, self.restored = snap.seq, snap.time, snap.seq
        self._snapped = snap.seq

    def replay(self, upto: int | None = None) -> int:
        """Replay this server's journal into the (fresh) cores, from its latest snapshot taken
        under this configuration if there is one (``snapshots``), up to entry `upto` (None: the
        end); returns the entries replayed."""
        self.restored = 0
        if self.snapshots and self.seq == 0 and self.replayed == 0:
            snap = self.store.latest_snapshot(self.server, self.config, upto)
            if snap is not None:
                self._restore(snap)
        n = 0
        for j in self.store.journal(self.server, after=self.seq):
            if upto is not None and j.seq > upto:
                break
            c = self.cores.get(j.core)
            if c is None:
                raise QueueError(f"journal {self.server}#{j.seq}: no core {j.core!r} configured now")
            if j.kind == "event":
                try:
                    event = decode(j.body)
                except QueueError as exc:
                    raise QueueError(f"journal {self.server}#{j.seq}: {exc}") from exc
                c.handle(event, j.time)
            elif j.kind == "timeout":
                c.on_timeout(j.time)
            else:
                raise QueueError(f"journal {self.server}#{j.seq}: unknown kind {j.kind!r}")
            self.seq = j.seq
            self.last_time = j.time
            n += 1
        self.replayed += n
        return n

    def recover(self, now: float) -> Decision:
        """Replay the journal, then end in the cores every leg that died with the old process.

        Returns what that ending decided (written like any decision): the host carries out its
        actions (e.g. rings the next agent for a kept place that is now at the head of the line).
        """
        self.replay()
        if now < self.last_time:
            raise QueueError(
                f"journal {self.server}: it ends at {self.last_time!r} s, after the restart's now"
                f" {now!r} s; the restarted clock must start after it"
            )
        inputs: list[tuple[str, str, ev.Event | None]] = []
        for name, c in self.cores.items():
            if isinstance(c, Acd):
                inputs += [(name, "event", e) for e in _acd_lost(c)]
            elif isinstance(c, CallbackCore):
                c.menus.clear()  # menus belong to live calls: none survived
            elif isinstance(c, Campaign):
                inputs += [(name, "event", DialOutcome(cid, Outcome.LOST)) for cid in list(c.in_flight)]
                inputs += [(name, "event", ev.CallerHangup(cid)) for cid in list(c.talking)]
        # a lost callback dial: the ACD ends the stint, then the callback core books the retry
        lost_dials = [e.callid for _, _, e in inputs if isinstance(e, ev.CallbackDialResult)]
        for name, c in self.cores.items():
            if isinstance(c, CallbackCore):
                inputs += [
                    (name, "event", CallbackOutcome(cid, Outcome.LOST))
                    for cid in lost_dials
                    if cid in c.requests and not c.requests[cid].done
                ]
            elif isinstance(c, SharedCallbacks):  # recorded only if the claim still holds
                lost = [cid for cid in lost_dials if cid in c.held]
                inputs += [(name, "event", CallbackOutcome(cid, Outcome.LOST)) for cid in lost]
        return self._decide(inputs, now) if inputs else Decision([], [])


def _acd_lost(acd: Acd) -> list[ev.Event]:
    """Events that end, in the ACD, every call whose leg was lost with the process."""
    out: list[ev.Event] = []
    for c in list(acd.calls.values()):
        if c.state == DIALING:
            out.append(ev.CallbackDialResult(c.callid, Outcome.LOST))
        elif c.state == CONNECTED:
            out.append(ev.CallEnded(c.callid, "caller"))
        elif not c.virtual:
            out.append(ev.CallerHangup(c.callid))
        elif c.state == RINGING:
            out += [ev.AgentRejected(c.callid, m.agent.name) for m in c.ringing]
    return out
