"""The ACD: queues of waiting callers matched to agents, sans-IO.

``Acd.handle(event, now) -> list[Action]``, ``next_deadline()``, ``on_timeout(now)``; times are
epoch seconds handed in by the host. Every decision returns its ledger events first (see
``ccboard.queue.events``), then the actions that carry it out.

**Order in a queue**: by caller priority (higher first, VIP), then by arrival. A queue keeps one
*lane* per (priority, required skills); a lane is a FIFO of fresh callers plus a heap of callers
that came back (after a ring with no answer), both ordered by arrival sequence, with lazy
deletion. Routing looks only at lane heads: eligibility only widens with waiting time (penalty
rules may only raise the maximum and lower the minimum, tiers only open), so if a lane's oldest
caller cannot take an agent, no younger one in that lane can. A routing decision therefore costs
O(lanes x available agents + log n), not O(waiting callers).

**Eligibility** of member m for caller c after waiting w seconds: the agent has every skill c
requires at the required level; ``min_penalty(w) <= m.penalty <= max_penalty(w)``, where the
window starts at the queue's (min_penalty, max_penalty) and each ``PenaltyRule(after, +max,
+min)`` with ``after <= w`` is applied cumulatively (Asterisk queuerules.conf penaltychange with
relative values); with tier rules on, tier level L opens after ``(L-1) x tier_wait`` s (or
``L x tier_wait`` with tier_multiply; level 1 at once), and with tier_no_agent_no_wait the levels
without a staffed member are skipped when counting L (mod_callcenter's tier rules).

**Agent choice**: the queue's strategy (``ccboard.queue.strategies``) among available, eligible
members. A rung agent is reserved (RINGING) until it answers, rejects or ``ring_timeout`` passes;
then RINGNOANSWER, the agent is paused with reason "autopause" if the queue says so, and the
caller rests ``retry`` s before being offered again (keeping its place).

**Announcements** every ``announce_frequency`` s (the first after ``announce_first`` s of waiting
when set: app_queue says the position as soon as a caller has to wait), position ("yes";
"limit": only when within ``announce_position_limit``; "more": "more than limit" beyond it;
``announce_position_only_up``: only when the position improved since the last one) and estimated
hold time ("yes" / "once").
Periodic prompts every ``periodic_announce_frequency`` s, cycling. The estimate is live:
``wait(k) = k x AHT / N`` for the caller at position k, where N is the number of staffed members
(logged in, not paused) and AHT an exponential average (weight 1/4, as app_queue's holdtime) of
talk + wrap-up time of the queue's completed calls (``default_aht`` until the first one); with
nobody staffed there is no estimate (None).

**Empty queues**: ``joinempty`` / ``leavewhenempty`` are sets of member conditions ("paused",
"unavailable" = logged out, "inuse", "ringing", "wrapup") that make a member unusable; a caller
may not join (JOINEMPTY) / is made to leave (EXITEMPTY) when no member is usable. The empty set
means "always join" / "never leave". ``maxlen`` > 0 refuses callers beyond it (FULL).

**Virtual callers** (kept-place callbacks): a caller who chose a callback stays in line without a
channel; when it reaches an agent, the agent is rung with a whisper, and on answer the ACD emits
DialCallback and CALLBACKATTEMPT; CallbackDialResult answered connects (CONNECT), anything else
ends the stint (EXITCALLBACK) and frees the agent; retries belong to ``ccboard.queue.callback``.
"""

from __future__ import annotations

import heapq
import random
from bisect import bisect_right
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from ccboard.queue import events as ev
from ccboard.queue.agents import Activity, Agent, Member
from ccboard.queue.events import NONE, Action, AgentState, Outcome, QueueError
from ccboard.queue.strategies import Rotation, strategy

UNLIMITED = 1 << 30
ARRIVAL_WINDOW = 900.0  # s of arrivals kept for the live arrival rate
_COND = {
    AgentState.LOGGED_OUT: "unavailable",
    AgentState.PAUSED: "paused",
    AgentState.ON_CALL: "inuse",
    AgentState.RINGING: "ringing",
    AgentState.WRAP_UP: "wrapup",
}


@dataclass(frozen=True, slots=True)
class PenaltyRule:
    """After `after` s of waiting, add max_change to the max penalty and min_change to the min."""

    after: float
    max_change: int = 0
    min_change: int = 0


@dataclass(frozen=True)
class QueueConfig:
    """One queue, with app_queue's option names where it has one. Times in s."""

    name: str
    strategy: str = "ringall"
    ring_timeout: float = 15.0  # app_queue "timeout"
    retry: float = 5.0
    wrapup: float = 0.0  # app_queue "wrapuptime"
    autopause: bool = False
    maxlen: int = 0  # 0: no limit
    joinempty: frozenset[str] = frozenset()
    leavewhenempty: frozenset[str] = frozenset()
    timeout: float = 0.0  # longest wait before EXITWITHTIMEOUT; 0: none
    overflow: str = ""  # where a timed-out caller goes
    exit_keys: tuple[tuple[str, str], ...] = ()  # key -> target (app_queue's context exits)
    weight: int = 0
    min_penalty: int = 0
    max_penalty: int = UNLIMITED
    rules: tuple[PenaltyRule, ...] = ()
    tier_rules: bool = False
    tier_wait: float = 0.0
    tier_multiply: bool = False
    tier_no_agent_no_wait: bool = False
    announce_frequency: float = 0.0  # 0: no position/hold-time announcements
    announce_first: float = 0.0  # s of waiting before the first one; 0: announce_frequency
    announce_position: str = "yes"  # yes / no / limit / more
    announce_position_limit: int = 5
    announce_position_only_up: bool = False
    announce_holdtime: str = "no"  # yes / no / once
    periodic_announce: tuple[str, ...] = ()
    periodic_announce_frequency: float = 0.0
    default_aht: float = 180.0
    seed: int = 0

    def __post_init__(self) -> None:
        strategy(self.strategy)
        bad = (self.joinempty | self.leavewhenempty) - set(_COND.values())
        if bad:
            raise QueueError(f"queue {self.name}: unknown empty-queue conditions {sorted(bad)}")
        last = -1.0
        for r in self.rules:
            if r.after < last or r.max_change < 0 or r.min_change > 0:
                raise QueueError(
                    f"queue {self.name}: penalty rules must be in time order and only widen the window "
                    f"(max_change >= 0, min_change <= 0): {r}"
                )
            last = r.after
        if self.announce_position not in ("yes", "no", "limit", "more"):
            raise QueueError(f"queue {self.name}: announce_position {self.announce_position!r}")
        if self.announce_first < 0:
            raise QueueError(f"queue {self.name}: announce_first {self.announce_first} s < 0")
        if self.announce_holdtime not in ("yes", "no", "once"):
            raise QueueError(f"queue {self.name}: announce_holdtime {self.announce_holdtime!r}")


class _Fenwick:
    """Growable Fenwick tree of 0/1 over arrival indices: how many are still in line up to i."""

    __slots__ = ("t",)

    def __init__(self) -> None:
        self.t = [0]

    def append(self, v: int) -> int:
        t = self.t
        i = len(t)
        low = i & -i
        # t[i] covers (i - low, i]: v plus the sum of (i - low, i - 1]
        t.append(v + self._prefix(i - 1) - self._prefix(i - low))
        return i

    def _prefix(self, i: int) -> int:
        t = self.t
        s = 0
        while i > 0:
            s += t[i]
            i -= i & -i
        return s

    def add(self, i: int, v: int) -> None:
        t = self.t
        n = len(t)
        while i < n:
            t[i] += v
            i += i & -i

    def prefix(self, i: int) -> int:
        return self._prefix(i)


WAITING, RINGING, RESTING, CONNECTED, DIALING, GONE = range(6)


@dataclass(slots=True, eq=False)
class _Call:
    callid: str
    q: _Queue
    callerid: str
    priority: int
    skills: tuple[tuple[str, int], ...]
    number: str  # virtual when set
    enter: float
    seq: int
    fen: int
    origposition: int
    state: int = WAITING
    gen: int = 0  # which lane slot is valid
    ringing: list[Member] = field(default_factory=list)
    ring_start: float = 0.0
    agent: Agent | None = None
    connect: float = 0.0
    last_pos: int = 0  # last announced position (only-up)
    announced_wait: bool = False
    periodic_i: int = 0
    timers: dict[str, int] = field(default_factory=dict)

    @property
    def virtual(self) -> bool:
        return bool(self.number)


class _Lane:
    """Callers of one (priority, skills) in arrival order: fresh FIFO + heap of returners."""

    __slots__ = ("priority", "skills", "fresh", "back")

    def __init__(self, priority: int, skills: tuple[tuple[str, int], ...]) -> None:
        self.priority = priority
        self.skills = skills
        self.fresh: deque[tuple[int, int, _Call]] = deque()
        self.back: list[tuple[int, int, _Call]] = []

    @staticmethod
    def _ok(item: tuple[int, int, _Call]) -> bool:
        c = item[2]
        return c.state == WAITING and c.gen == item[1]

    def head(self) -> _Call | None:
        f, b = self.fresh, self.back
        while f and not self._ok(f[0]):
            f.popleft()
        while b and not self._ok(b[0]):
            heapq.heappop(b)
        if f and (not b or f[0][0] < b[0][0]):
            return f[0][2]
        return b[0][2] if b else None

    def pop(self) -> None:
        f, b = self.fresh, self.back
        if f and (not b or f[0][0] < b[0][0]):
            f.popleft()
        else:
            heapq.heappop(b)


class _Queue:
    def __init__(self, cfg: QueueConfig) -> None:
        self.cfg = cfg
        self.strategy = strategy(cfg.strategy)
        self.rot = Rotation(rng=random.Random(cfg.seed))
        self.members: dict[str, Member] = {}
        self.available: dict[str, Member] = {}
        self.staffed = 0
        self.staffed_by_level: dict[int, int] = {}
        self.lanes: dict[tuple[int, tuple[tuple[str, int], ...]], _Lane] = {}
        self.fen: dict[int, _Fenwick] = {}
        self.count_by_prio: dict[int, int] = {}
        self.waiting = 0
        self.aht = cfg.default_aht
        self.aht_seen = False
        self.arrivals: deque[float] = deque()
        self.ordinal = count()
        self.afters = [r.after for r in cfg.rules]
        windows = []
        lo, hi = cfg.min_penalty, cfg.max_penalty
        for r in cfg.rules:
            lo, hi = lo + r.min_change, min(UNLIMITED, hi + r.max_change)
            windows.append((lo, hi))
        self.windows = [(cfg.min_penalty, cfg.max_penalty), *windows]

    def window(self, wait: float) -> tuple[int, int]:
        return self.windows[bisect_right(self.afters, wait)]

    def level_open(self, level: int, wait: float) -> bool:
        cfg = self.cfg
        if not cfg.tier_rules or level <= 1:
            return True
        eff = level
        if cfg.tier_no_agent_no_wait:
            eff = 1 + sum(1 for lv, n in self.staffed_by_level.items() if n > 0 and lv < level)
            if eff <= 1:
                return True
        need = cfg.tier_wait * (eff if cfg.tier_multiply else eff - 1)
        return wait >= need

    def position(self, c: _Call) -> int:
        ahead = 0
        for p, n in self.count_by_prio.items():
            if p > c.priority:
                ahead += n
        return ahead + self.fen[c.priority].prefix(c.fen)

    def estimate(self, position: int) -> float | None:
        if self.staffed <= 0:
            return None
        return position * self.aht / self.staffed

    def empty_for(self, conds: frozenset[str]) -> bool:
        for m in self.members.values():
            if _COND.get(m.agent.state) not in conds:
                return False
        return True


class Acd:
    """The ACD core. Configure with queues and agents, then feed events; see the module docstring."""

    def __init__(self, queues: Iterable[QueueConfig] = ()) -> None:
        self.queues: dict[str, _Queue] = {}
        self.agents: dict[str, Agent] = {}
        self.calls: dict[str, _Call] = {}
        self._seq = count()
        self._tseq = count()
        self._timers: list[tuple[float, int, str, Any, int]] = []
        for q in queues:
            self.add_queue(q)

    # ------------------------------------------------------------ configuration

    def add_queue(self, cfg: QueueConfig) -> None:
        if cfg.name in self.queues:
            raise QueueError(f"queue {cfg.name} defined twice")
        self.queues[cfg.name] = _Queue(cfg)

    def define_agent(self, name: str, skills: dict[str, int] | None = None) -> Agent:
        """Create (or update the skills of) an agent; skills: name -> level."""
        a = self.agents.get(name)
        if a is None:
            a = self.agents[name] = Agent(name)
        if skills is not None:
            a.skills = dict(skills)
        return a

    # ------------------------------------------------------------ queries

    def agent_state(self, name: str) -> AgentState:
        return self._agent(name).state

    def position(self, callid: str) -> int:
        """1-based place in line of a caller still waiting (ringing and resting included)."""
        c = self._call(callid)
        if c.state in (CONNECTED, GONE):
            raise QueueError(f"call {callid}: not in line")
        return c.q.position(c)

    def waiting(self, queuename: str) -> int:
        return self._queue(queuename).waiting

    def live_callers(self, queuename: str) -> list[tuple[str, str, float]]:
        """(call id, caller id, entered at) of the live callers still in line (not virtual),
        longest waiting first."""
        got = [
            (c.callid, c.callerid, c.enter)
            for c in self.calls.values()
            if c.q.cfg.name == queuename and not c.virtual and c.state not in (CONNECTED, GONE, DIALING)
        ]
        return sorted(got, key=lambda g: g[2])

    def estimated_wait(self, queuename: str, position: int) -> float | None:
        """Live estimate in s for the caller at `position` (see module docstring)."""
        return self._queue(queuename).estimate(position)

    def live_rates(self, queuename: str, now: float) -> tuple[float, float, int]:
        """(arrivals per s over the last ARRIVAL_WINDOW s, AHT in s, staffed members)."""
        q = self._queue(queuename)
        self._trim_arrivals(q, now)
        span = min(ARRIVAL_WINDOW, max(1.0, now - q.arrivals[0])) if q.arrivals else ARRIVAL_WINDOW
        return len(q.arrivals) / span, q.aht, q.staffed

    # ------------------------------------------------------------ the sans-IO interface

    def handle(self, event: ev.Event, now: float) -> list[Action]:
        out: list[Action] = []
        h = _HANDLERS.get(type(event))
        if h is None:
            raise QueueError(f"ACD: no handler for event {type(event).__name__}")
        h(self, event, now, out)
        return out

    def next_deadline(self) -> float | None:
        t = self._timers
        while t:
            when, _, kind, obj, token = t[0]
            if obj.timers.get(kind) == token:
                return when
            heapq.heappop(t)
        return None

    def on_timeout(self, now: float) -> list[Action]:
        out: list[Action] = []
        t = self._timers
        while t and t[0][0] <= now:
            when, _, kind, obj, token = heapq.heappop(t)
            if obj.timers.get(kind) != token:
                continue
            del obj.timers[kind]
            _TIMERS[kind](self, obj, now, out)
        return out

    # ------------------------------------------------------------ helpers

    def _queue(self, name: str) -> _Queue:
        q = self.queues.get(name)
        if q is None:
            raise QueueError(f"unknown queue {name!r}")
        return q

    def _agent(self, name: str) -> Agent:
        a = self.agents.get(name)
        if a is None:
            raise QueueError(f"unknown agent {name!r}")
        return a

    def _call(self, callid: str) -> _Call:
        c = self.calls.get(callid)
        if c is None:
            raise QueueError(f"unknown call {callid!r}")
        return c

    def _arm(self, obj: Any, kind: str, when: float) -> None:
        token = next(self._tseq)
        obj.timers[kind] = token
        heapq.heappush(self._timers, (when, token, kind, obj, token))

    @staticmethod
    def _disarm(obj: Any, *kinds: str) -> None:
        for k in kinds:
            obj.timers.pop(k, None)

    def _trim_arrivals(self, q: _Queue, now: float) -> None:
        a = q.arrivals
        while a and a[0] < now - ARRIVAL_WINDOW:
            a.popleft()

    # agent state bookkeeping: every change goes through here so the sets and counters stay true
    def _agent_change(self, a: Agent, now: float, out: list[Action], **changes: Any) -> None:
        was_routable, was_staffed, was_state = a.routable, a.staffed, a.state
        for k, v in changes.items():
            setattr(a, k, v)
        if a.routable != was_routable:
            for m in a.members.values():
                q = self.queues[m.queuename]
                if a.routable:
                    q.available[a.name] = m
                else:
                    q.available.pop(a.name, None)
        if a.staffed != was_staffed:
            d = 1 if a.staffed else -1
            for m in a.members.values():
                q = self.queues[m.queuename]
                q.staffed += d
                q.staffed_by_level[m.level] = q.staffed_by_level.get(m.level, 0) + d
        if a.state != was_state:
            if a.activity is Activity.IDLE and was_state in (AgentState.ON_CALL, AgentState.WRAP_UP):
                a.idle_since = now  # longest-idle-agent counts from the end of the last call
            out.append(ev.AgentStateChanged(a.name, a.state, a.pause_reason if a.paused else ""))
            for m in a.members.values():
                q = self.queues[m.queuename]
                if q.cfg.leavewhenempty and q.waiting and q.empty_for(q.cfg.leavewhenempty):
                    self._empty_out(q, now, out)

    def _empty_out(self, q: _Queue, now: float, out: list[Action]) -> None:
        for c in [c for c in self.calls.values() if c.q is q and c.state in (WAITING, RESTING)]:
            if c.virtual:
                continue
            pos = q.position(c)
            out.append(ev.ExitEmpty(now, c.callid, q.cfg.name, NONE, pos, c.origposition, now - c.enter))
            out.append(ev.ExitQueue(c.callid, q.cfg.name, "EXITEMPTY"))
            self._leave(c)

    def _leave(self, c: _Call) -> None:
        """Take a caller out of line (connected or gone): counters, position tree, timers."""
        q = c.q
        q.waiting -= 1
        q.count_by_prio[c.priority] -= 1
        q.fen[c.priority].add(c.fen, -1)
        self._disarm(c, "ring", "rest", "timeout", "announce", "periodic", "relax")
        c.gen += 1
        if c.state != CONNECTED:
            c.state = GONE
            self.calls.pop(c.callid, None)

    def _to_lane(self, c: _Call, fresh: bool) -> None:
        q = c.q
        key = (c.priority, c.skills)
        lane = q.lanes.get(key)
        if lane is None:
            lane = q.lanes[key] = _Lane(c.priority, c.skills)
        c.state = WAITING
        c.gen += 1
        item = (c.seq, c.gen, c)
        if fresh:
            lane.fresh.append(item)
        else:
            heapq.heappush(lane.back, item)

    def _eligible(self, q: _Queue, c: _Call, now: float) -> list[Member]:
        wait = now - c.enter
        lo, hi = q.window(wait)
        skills = c.skills
        tiers = q.cfg.tier_rules
        out = []
        for m in q.available.values():
            if m.penalty < lo or m.penalty > hi:
                continue
            if skills and not m.agent.has_skills(skills):
                continue
            if tiers and not q.level_open(m.level, wait):
                continue
            out.append(m)
        return out

    def _dispatch(self, q: _Queue, now: float, out: list[Action]) -> None:
        while q.available and q.waiting:
            heads = []
            for lane in q.lanes.values():
                c = lane.head()
                if c is not None:
                    heads.append((-lane.priority, c.seq, c, lane))
            if not heads:
                return
            heads.sort(key=lambda h: (h[0], h[1]))
            for _, _, c, lane in heads:
                cands = self._eligible(q, c, now)
                if cands:
                    lane.pop()
                    chosen = q.strategy.pick(cands, q.rot)
                    if c.virtual:
                        chosen = chosen[:1]
                    self._offer(c, chosen, now, out)
                    break
            else:
                return

    def _dispatch_agent(self, a: Agent, now: float, out: list[Action]) -> None:
        """An agent became free: try its queues, heaviest first, then the one with the oldest head."""
        order = []
        for m in a.members.values():
            q = self.queues[m.queuename]
            if q.waiting:
                oldest = min(
                    (c.seq for lane in q.lanes.values() if (c := lane.head()) is not None), default=-1
                )
                if oldest >= 0:
                    order.append((-q.cfg.weight, oldest, q))
        order.sort(key=lambda o: (o[0], o[1]))
        for _, _, q in order:
            if not a.routable:
                return
            self._dispatch(q, now, out)

    def _offer(self, c: _Call, chosen: list[Member], now: float, out: list[Action]) -> None:
        q = c.q
        c.state = RINGING
        c.ringing = chosen
        c.ring_start = now
        whisper = f"callback {c.number}" if c.virtual else ""
        for m in chosen:
            self._agent_change(m.agent, now, out, activity=Activity.RINGING, callid=c.callid, busy_since=now)
            out.append(ev.RingAgent(c.callid, m.agent.name, q.cfg.ring_timeout, whisper))
        self._arm(c, "ring", now + q.cfg.ring_timeout)

    def _release(self, a: Agent, now: float, out: list[Action]) -> None:
        self._agent_change(a, now, out, activity=Activity.IDLE, callid="")

    def _stop_ringing(
        self, c: _Call, now: float, out: list[Action], cancel: bool, keep: Agent | None = None
    ) -> list[Agent]:
        freed = []
        for m in c.ringing:
            a = m.agent
            if a is keep:
                continue
            if cancel:
                ms = int(round((now - c.ring_start) * 1000))
                out.append(ev.RingCanceled(now, c.callid, c.q.cfg.name, a.name, ms))
            out.append(ev.StopRinging(c.callid, a.name))
            self._release(a, now, out)
            freed.append(a)
        c.ringing = []
        self._disarm(c, "ring")
        return freed

    def _redispatch(self, agents: Iterable[Agent], now: float, out: list[Action]) -> None:
        for a in agents:
            if a.routable:
                self._dispatch_agent(a, now, out)

    def _arm_relax(self, c: _Call, now: float) -> None:
        """Wake the queue when this caller's eligibility next widens (penalty rule or tier)."""
        q = c.q
        wait = now - c.enter
        nxt = [a for a in q.afters if a > wait]
        if q.cfg.tier_rules and q.cfg.tier_wait > 0:
            k = int(wait // q.cfg.tier_wait) + 1
            if k <= 64:
                nxt.append(k * q.cfg.tier_wait)
        if nxt:
            self._arm(c, "relax", c.enter + min(nxt))

    # ------------------------------------------------------------ event handlers

    def _on_arrive(self, e: ev.CallArrives, now: float, out: list[Action]) -> None:
        q = self._queue(e.queuename)
        cfg = q.cfg
        if e.callid in self.calls:
            raise QueueError(f"call {e.callid}: already in queue {self.calls[e.callid].q.cfg.name}")
        if cfg.maxlen and q.waiting >= cfg.maxlen:
            out.append(ev.Full(now, e.callid, cfg.name, NONE))
            out.append(ev.ExitQueue(e.callid, cfg.name, "FULL", cfg.overflow))
            return
        if cfg.joinempty and not e.number and q.empty_for(cfg.joinempty):
            out.append(ev.JoinEmpty(now, e.callid, cfg.name, NONE))
            out.append(ev.ExitQueue(e.callid, cfg.name, "JOINEMPTY", cfg.overflow))
            return
        fen = q.fen.get(e.priority)
        if fen is None:
            fen = q.fen[e.priority] = _Fenwick()
            q.count_by_prio[e.priority] = 0
        idx = fen.append(1)
        q.count_by_prio[e.priority] += 1
        q.waiting += 1
        skills = tuple(sorted(e.skills))
        c = _Call(e.callid, q, e.callerid, e.priority, skills, e.number, now, next(self._seq), idx, 0)
        c.origposition = q.position(c)
        self.calls[e.callid] = c
        q.arrivals.append(now)
        self._trim_arrivals(q, now)
        url = "callback" if e.number else ""
        out.append(
            ev.EnterQueue(
                now, e.callid, cfg.name, NONE, url, e.callerid or e.number, c.origposition, e.priority
            )
        )
        self._to_lane(c, fresh=True)
        if not c.virtual:
            if cfg.timeout > 0:
                self._arm(c, "timeout", now + cfg.timeout)
            if cfg.announce_frequency > 0:
                self._arm(c, "announce", now + (cfg.announce_first or cfg.announce_frequency))
            if cfg.periodic_announce and cfg.periodic_announce_frequency > 0:
                self._arm(c, "periodic", now + cfg.periodic_announce_frequency)
        if cfg.rules or cfg.tier_rules:
            self._arm_relax(c, now)
        self._dispatch(q, now, out)

    def _on_hangup(self, e: ev.CallerHangup, now: float, out: list[Action]) -> None:
        c = self.calls.get(e.callid)
        if c is None:
            return  # already gone (a race with a timeout or exit): nothing to do
        if c.state == CONNECTED:
            self._complete(c, "caller", now, out)
            return
        if c.virtual:
            return  # no channel to hang up: the callback keeps its place
        q = c.q
        pos = q.position(c)
        freed = self._stop_ringing(c, now, out, cancel=True) if c.state == RINGING else []
        out.append(ev.Abandon(now, c.callid, q.cfg.name, NONE, pos, c.origposition, now - c.enter))
        self._leave(c)
        self._redispatch(freed, now, out)

    def _on_overflow(self, e: ev.CallerOverflow, now: float, out: list[Action]) -> None:
        c = self.calls.get(e.callid)
        if c is None or c.state in (CONNECTED, GONE, DIALING) or c.virtual:
            return
        q = c.q
        pos = q.position(c)
        out.append(ev.ExitWithTimeout(now, c.callid, q.cfg.name, NONE, pos, c.origposition, now - c.enter))
        out.append(ev.ExitQueue(c.callid, q.cfg.name, "OVERFLOW", e.target))
        freed = self._stop_ringing(c, now, out, cancel=True) if c.state == RINGING else []
        self._leave(c)
        self._redispatch(freed, now, out)

    def _on_booked(self, e: ev.CallerBooked, now: float, out: list[Action]) -> None:
        c = self.calls.get(e.callid)
        if c is None or c.state in (CONNECTED, GONE, DIALING) or c.virtual:
            return  # an agent got there first, or it left meanwhile
        q = c.q
        pos = q.position(c)
        out.append(ev.ExitWithKey(now, c.callid, q.cfg.name, NONE, "2", pos, c.origposition, now - c.enter))
        freed = self._stop_ringing(c, now, out, cancel=True) if c.state == RINGING else []
        self._leave(c)
        self._redispatch(freed, now, out)

    def _on_key(self, e: ev.CallerKey, now: float, out: list[Action]) -> None:
        c = self.calls.get(e.callid)
        if c is None or c.state in (CONNECTED, GONE) or c.virtual:
            return
        target = dict(c.q.cfg.exit_keys).get(e.key)
        if target is None:
            return
        q = c.q
        pos = q.position(c)
        out.append(ev.ExitWithKey(now, c.callid, q.cfg.name, NONE, e.key, pos, c.origposition, now - c.enter))
        out.append(ev.ExitQueue(c.callid, q.cfg.name, "KEY", target))
        freed = self._stop_ringing(c, now, out, cancel=True) if c.state == RINGING else []
        self._leave(c)
        self._redispatch(freed, now, out)

    def _on_virtual(self, e: ev.CallerToVirtual, now: float, out: list[Action]) -> None:
        c = self._call(e.callid)
        if c.state in (CONNECTED, GONE, DIALING) or c.virtual:
            raise QueueError(f"call {e.callid}: cannot keep a place (state {c.state}, virtual {c.virtual})")
        c.number = e.number or c.callerid
        if not c.number:
            raise QueueError(f"call {e.callid}: no number to call back")
        self._disarm(c, "timeout", "announce", "periodic")
        if c.state == RINGING:
            freed = self._stop_ringing(c, now, out, cancel=True)
            self._to_lane(c, fresh=False)
            self._redispatch(freed, now, out)

    def _on_answer(self, e: ev.AgentAnswered, now: float, out: list[Action]) -> None:
        c = self.calls.get(e.callid)
        a = self._agent(e.agent)
        if c is None or c.state != RINGING or a.callid != e.callid or a.activity is not Activity.RINGING:
            out.append(ev.StopRinging(e.callid, e.agent))  # a late answer: the host drops the agent leg
            return
        q = c.q
        freed = self._stop_ringing(c, now, out, cancel=False, keep=a)
        if c.virtual:
            c.state = DIALING
            c.agent = a
            c.ringing = []
            out.append(ev.CallbackAttempt(now, c.callid, q.cfg.name, a.name, c.number, 1))
            out.append(ev.DialCallback(c.callid, c.number, a.name, f"callback {c.number}"))
            self._disarm(c, "relax")
            self._agent_change(a, now, out, activity=Activity.ON_CALL)
        else:
            self._connect(c, a, now, out)
        self._redispatch(freed, now, out)

    def _connect(self, c: _Call, a: Agent, now: float, out: list[Action]) -> None:
        q = c.q
        ringtime = now - c.ring_start
        out.append(ev.Connect(now, c.callid, q.cfg.name, a.name, now - c.enter, a.name, ringtime))
        c.state = CONNECTED
        c.agent = a
        c.connect = now
        c.ringing = []
        self._leave(c)
        self._agent_change(a, now, out, activity=Activity.ON_CALL, callid=c.callid)
        out.append(ev.Bridge(c.callid, a.name))

    def _on_dial_result(self, e: ev.CallbackDialResult, now: float, out: list[Action]) -> None:
        c = self._call(e.callid)
        if c.state != DIALING or c.agent is None:
            raise QueueError(f"call {e.callid}: no callback being dialled")
        a = c.agent
        if e.outcome is Outcome.ANSWERED:
            self._connect(c, a, now, out)
            return
        q = c.q
        pos = q.position(c)
        out.append(
            ev.ExitCallback(
                now, c.callid, q.cfg.name, a.name, e.outcome.value, pos, c.origposition, now - c.enter
            )
        )
        c.state = GONE
        self._leave(c)
        self._release(a, now, out)
        self._redispatch([a], now, out)

    def _on_reject(self, e: ev.AgentRejected, now: float, out: list[Action]) -> None:
        c = self.calls.get(e.callid)
        a = self._agent(e.agent)
        if c is None or c.state != RINGING or a.callid != e.callid:
            return
        self._no_answer(c, [m for m in c.ringing if m.agent is a], now, out)

    def _no_answer(self, c: _Call, members: list[Member], now: float, out: list[Action]) -> None:
        q = c.q
        ms = int(round((now - c.ring_start) * 1000))
        freed = []
        for m in members:
            a = m.agent
            out.append(ev.RingNoAnswer(now, c.callid, q.cfg.name, a.name, ms))
            out.append(ev.StopRinging(c.callid, a.name))
            c.ringing.remove(m)
            if q.cfg.autopause:
                out.append(ev.Pause(now, NONE, q.cfg.name, a.name, "autopause"))
                self._agent_change(
                    a, now, out, activity=Activity.IDLE, callid="", paused=True, pause_reason="autopause"
                )
            else:
                self._release(a, now, out)
            freed.append(a)
        if not c.ringing:
            self._disarm(c, "ring")
            c.state = RESTING
            c.gen += 1
            if q.cfg.retry > 0:
                self._arm(c, "rest", now + q.cfg.retry)
            else:
                self._to_lane(c, fresh=False)
        # the freed agents may take other callers now; this caller rests first
        self._redispatch(freed, now, out)
        if c.state == WAITING:
            self._dispatch(q, now, out)

    def _on_end(self, e: ev.CallEnded, now: float, out: list[Action]) -> None:
        c = self.calls.get(e.callid)
        if c is None or c.state != CONNECTED:
            raise QueueError(f"call {e.callid}: not connected, cannot end")
        if e.by not in ("agent", "caller"):
            raise QueueError(f"call {e.callid}: ended by {e.by!r}, expected 'agent' or 'caller'")
        self._complete(c, e.by, now, out)

    def _complete(self, c: _Call, by: str, now: float, out: list[Action]) -> None:
        q = c.q
        a = c.agent
        assert a is not None
        calltime = now - c.connect
        holdtime = c.connect - c.enter
        cls = ev.CompleteAgent if by == "agent" else ev.CompleteCaller
        out.append(cls(now, c.callid, q.cfg.name, a.name, holdtime, calltime, c.origposition))
        self.calls.pop(c.callid, None)
        c.state = GONE
        a.calls += 1
        a.talk_time += calltime
        m = a.members.get(q.cfg.name)
        if m is not None:
            m.calls += 1
            m.last_call = now
        handle = calltime + q.cfg.wrapup
        q.aht = handle if not q.aht_seen else (3 * q.aht + handle) / 4
        q.aht_seen = True
        if q.cfg.wrapup > 0:
            self._agent_change(a, now, out, activity=Activity.WRAP_UP, busy_since=now)
            a.wrapup_queue = q.cfg.name
            self._arm(a, "wrapup", now + q.cfg.wrapup)
        else:
            self._release(a, now, out)
            self._redispatch([a], now, out)

    def _on_login(self, e: ev.AgentLogin, now: float, out: list[Action]) -> None:
        a = self.define_agent(e.agent)
        if a.logged_in:
            return
        out.append(ev.AgentLoginLog(now, NONE, NONE, a.name, e.channel or a.name))
        self._agent_change(a, now, out, logged_in=True, channel=e.channel, login_time=now, idle_since=now)
        self._redispatch([a], now, out)

    def _on_logout(self, e: ev.AgentLogout, now: float, out: list[Action]) -> None:
        a = self._agent(e.agent)
        if not a.logged_in:
            return
        if a.activity is not Activity.IDLE:
            raise QueueError(f"agent {a.name}: cannot log out while {a.state.value} (call {a.callid})")
        out.append(ev.AgentLogoffLog(now, NONE, NONE, a.name, a.channel or a.name, now - a.login_time))
        self._agent_change(a, now, out, logged_in=False, paused=False, pause_reason="")

    def _on_pause(self, e: ev.AgentPause, now: float, out: list[Action]) -> None:
        a = self._agent(e.agent)
        if not a.logged_in:
            raise QueueError(f"agent {a.name}: cannot pause while logged out")
        if a.paused:
            return
        out.append(ev.Pause(now, NONE, NONE, a.name, e.reason))
        self._agent_change(a, now, out, paused=True, pause_reason=e.reason)

    def _on_unpause(self, e: ev.AgentUnpause, now: float, out: list[Action]) -> None:
        a = self._agent(e.agent)
        if not a.paused:
            return
        out.append(ev.Unpause(now, NONE, NONE, a.name, e.reason))
        self._agent_change(a, now, out, paused=False, pause_reason="")
        self._redispatch([a], now, out)

    def _on_add_member(self, e: ev.AddMember, now: float, out: list[Action]) -> None:
        q = self._queue(e.queuename)
        a = self.define_agent(e.agent)
        if e.queuename in a.members:
            raise QueueError(f"agent {a.name}: already a member of {e.queuename}")
        m = Member(q.cfg.name, a, e.penalty, e.level, e.position, next(q.ordinal))
        a.members[q.cfg.name] = m
        q.members[a.name] = m
        if a.staffed:
            q.staffed += 1
            q.staffed_by_level[m.level] = q.staffed_by_level.get(m.level, 0) + 1
        if a.routable:
            q.available[a.name] = m
        out.append(ev.AddMemberLog(now, NONE, q.cfg.name, a.name, e.penalty))
        self._dispatch(q, now, out)

    def _on_remove_member(self, e: ev.RemoveMember, now: float, out: list[Action]) -> None:
        q = self._queue(e.queuename)
        a = self._agent(e.agent)
        m = a.members.pop(q.cfg.name, None)
        if m is None:
            raise QueueError(f"agent {a.name}: not a member of {e.queuename}")
        q.members.pop(a.name, None)
        q.available.pop(a.name, None)
        if a.staffed:
            q.staffed -= 1
            q.staffed_by_level[m.level] -= 1
        out.append(ev.RemoveMemberLog(now, NONE, q.cfg.name, a.name))

    # ------------------------------------------------------------ timers

    def _t_ring(self, c: _Call, now: float, out: list[Action]) -> None:
        if c.state == RINGING:
            self._no_answer(c, list(c.ringing), now, out)

    def _t_rest(self, c: _Call, now: float, out: list[Action]) -> None:
        if c.state == RESTING:
            self._to_lane(c, fresh=False)
            self._dispatch(c.q, now, out)

    def _t_timeout(self, c: _Call, now: float, out: list[Action]) -> None:
        if c.state in (CONNECTED, GONE, DIALING):
            return
        q = c.q
        pos = q.position(c)
        out.append(ev.ExitWithTimeout(now, c.callid, q.cfg.name, NONE, pos, c.origposition, now - c.enter))
        out.append(ev.ExitQueue(c.callid, q.cfg.name, "TIMEOUT", q.cfg.overflow))
        freed = self._stop_ringing(c, now, out, cancel=True) if c.state == RINGING else []
        self._leave(c)
        self._redispatch(freed, now, out)

    def _t_announce(self, c: _Call, now: float, out: list[Action]) -> None:
        if c.state in (CONNECTED, GONE, DIALING) or c.virtual:
            return
        q = c.q
        cfg = q.cfg
        pos = q.position(c)
        say_pos: int | None = None
        more = False
        if cfg.announce_position != "no":
            improved = c.last_pos == 0 or pos < c.last_pos
            if not cfg.announce_position_only_up or improved:
                lim = cfg.announce_position_limit
                if cfg.announce_position == "yes" or pos <= lim:
                    say_pos = pos
                elif cfg.announce_position == "more":
                    say_pos, more = lim, True
        wait = None
        if cfg.announce_holdtime == "yes" or (cfg.announce_holdtime == "once" and not c.announced_wait):
            wait = q.estimate(pos)
            if wait is not None:
                c.announced_wait = True
        if say_pos is not None:
            c.last_pos = pos
        if say_pos is not None or wait is not None:
            out.append(ev.Announce(c.callid, cfg.name, say_pos, more, wait))
        self._arm(c, "announce", now + cfg.announce_frequency)

    def _t_periodic(self, c: _Call, now: float, out: list[Action]) -> None:
        if c.state in (CONNECTED, GONE, DIALING) or c.virtual:
            return
        cfg = c.q.cfg
        prompt = cfg.periodic_announce[c.periodic_i % len(cfg.periodic_announce)]
        c.periodic_i += 1
        out.append(ev.Announce(c.callid, cfg.name, prompt=prompt))
        self._arm(c, "periodic", now + cfg.periodic_announce_frequency)

    def _t_relax(self, c: _Call, now: float, out: list[Action]) -> None:
        if c.state in (CONNECTED, GONE, DIALING):
            return
        self._arm_relax(c, now)
        self._dispatch(c.q, now, out)

    def _t_wrapup(self, a: Agent, now: float, out: list[Action]) -> None:
        if a.activity is not Activity.WRAP_UP:
            return
        out.append(ev.Wrapup(now, NONE, a.wrapup_queue or NONE, a.name, now - a.busy_since))
        self._release(a, now, out)
        self._redispatch([a], now, out)


_HANDLERS: dict[type, Any] = {
    ev.CallArrives: Acd._on_arrive,
    ev.CallerHangup: Acd._on_hangup,
    ev.CallerKey: Acd._on_key,
    ev.CallerOverflow: Acd._on_overflow,
    ev.CallerToVirtual: Acd._on_virtual,
    ev.CallerBooked: Acd._on_booked,
    ev.CallbackDialResult: Acd._on_dial_result,
    ev.AgentAnswered: Acd._on_answer,
    ev.AgentRejected: Acd._on_reject,
    ev.CallEnded: Acd._on_end,
    ev.AgentLogin: Acd._on_login,
    ev.AgentLogout: Acd._on_logout,
    ev.AgentPause: Acd._on_pause,
    ev.AgentUnpause: Acd._on_unpause,
    ev.AddMember: Acd._on_add_member,
    ev.RemoveMember: Acd._on_remove_member,
}

_TIMERS: dict[str, Any] = {
    "ring": Acd._t_ring,
    "rest": Acd._t_rest,
    "timeout": Acd._t_timeout,
    "announce": Acd._t_announce,
    "periodic": Acd._t_periodic,
    "relax": Acd._t_relax,
    "wrapup": Acd._t_wrapup,
}
