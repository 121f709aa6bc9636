"""Caller callback, sans-IO: "press 1 to keep waiting, press 2 for a callback".

Menu per call (keys come in one at a time, CallerKey; ``handle(event, now)``):

    OFFERED   1: keep waiting (done)            2: -> NUMBER
    NUMBER    the caller ID is read back; 1: use it -> WHEN   2: -> ENTER_NUMBER
    ENTER_NUMBER  digits, '#' ends -> CONFIRM_NUMBER (read back)  1: -> WHEN   2: -> ENTER_NUMBER
    WHEN      1: keep my place in line          2: -> ENTER_TIME
    ENTER_TIME    HHMM (4 digits, local time in ``tz``) -> CONFIRM_TIME (read back) 1: book  2: again

Three wrong keys in a row leave the caller waiting in line. A time must fall inside
``open_from`` .. ``open_until`` (local, hours) and at least ``min_lead`` s ahead; the next such
occurrence of HH:MM is taken.

**Promise** for a kept place: now + max(place quantile, Erlang C wait quantile) at
``confidence``: the first is the time by which the callers ahead (position k) are served by the
N staffed agents (Erlang(k, N/AHT)); the second the Erlang C wait quantile on the live arrival
rate and AHT the host passes in (``CallbackOffer``), i.e. what a new caller would wait now.
A booked time promises itself.

**Booking** returns CALLBACKREQUEST, then KeepPlace (kept place: the ACD keeps the entry
virtual) or LeaveForCallback (booked time: the caller leaves the line, EXITWITHKEY "2"; this core
wakes at that time and emits EnqueueCallback with ``priority``; with ``shared`` set,
ShareCallback instead: a row of the store's shared table that any engine may claim, see
ccboard.queue.shared; a kept place with ``shared`` set is also a ShareCallback, a row this engine
holds while the place waits in its line, so that another engine takes it over if this one dies),
an SMS confirmation (SendSms, for the outbox)
and a goodbye prompt + Hangup.

**Outcomes** (CallbackOutcome, from the ACD's CONNECT / EXITCALLBACK): answered ends it;
invalid is final; no answer / busy / machine (or any other) retries after
``retry_delay[outcome]`` s until ``max_attempts`` attempts; each gives CALLBACKRESULT.
"""

from __future__ import annotations

import datetime as dt
import heapq
from dataclasses import dataclass, field
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

from ccboard.queue import erlang
from ccboard.queue import events as ev
from ccboard.queue.events import NONE, Action, Outcome, QueueError
from ccboard.store.records import AT_TIME, KEEP_PLACE


@dataclass(frozen=True, slots=True)
class CallbackOffer(ev.Event):
    """Offer the menu to a waiting caller; live figures from the ACD (Acd.position, live_rates)."""

    callid: str
    queuename: str
    callerid: str
    position: int
    arrival_rate: float  # calls per s
    aht: float  # s
    staffed: int
    entered: float | None = None  # epoch s the caller entered the line (None: now)
    priority: int = 0  # the caller's priority in line


@dataclass(frozen=True, slots=True)
class CallbackOutcome(ev.Event):
    callid: str
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class ShareCallback(Action):
    """Write a callback to the shared callbacks table. A booked time ("at_time") is pending and
    any engine may dial it at `due`; a kept place ("keep_place") is held by this engine while its
    virtual caller waits here, `due` being when the caller entered the line (epoch s, engine
    clock) and `priority` its priority there: another engine takes it over if this one dies."""

    callid: str
    queuename: str
    number: str
    due: float  # epoch s
    max_attempts: int
    sms: str
    mode: str = AT_TIME
    priority: int = 0


@dataclass(frozen=True)
class CallbackConfig:
    confidence: float = 0.8
    max_attempts: int = 3
    retry_delay: tuple[tuple[Outcome, float], ...] = (
        (Outcome.NO_ANSWER, 600.0),
        (Outcome.BUSY, 300.0),
        (Outcome.MACHINE, 900.0),
        (Outcome.LOST, 60.0),  # cut short by a restart: try again soon
    )
    default_retry: float = 600.0
    tz: str = "UTC"
    open_from: float = 8.0  # local hours
    open_until: float = 20.0
    min_lead: float = 300.0  # s
    priority: int = 5  # of a booked callback when it enters the queue
    max_digits: int = 15
    sms: str = "We will call you back at {time} on {number}. Ref {ref}."
    shared: bool = False  # callbacks go to the shared table (ccboard.queue.shared), not a timer


@dataclass(slots=True, eq=False)
class _Menu:
    callid: str
    queuename: str
    callerid: str
    position: int
    rate: float
    aht: float
    staffed: int
    entered: float
    priority: int
    state: str = "OFFERED"
    number: str = ""
    digits: str = ""
    when: float = 0.0
    wrong: int = 0


@dataclass(slots=True, eq=False)
class _Request:
    callid: str
    queuename: str
    number: str
    promised: float
    attempts: int = 0
    done: bool = False
    timers: dict[str, int] = field(default_factory=dict)


class CallbackCore:
    """Menus, promises, bookings and retries of callbacks."""

    def __init__(self, cfg: CallbackConfig | None = None) -> None:
        self.cfg = cfg or CallbackConfig()
        self.tz = ZoneInfo(self.cfg.tz)
        self.menus: dict[str, _Menu] = {}
        self.requests: dict[str, _Request] = {}
        self._timers: list[tuple[float, int, _Request, int]] = []
        self._tseq = count()

    def __getstate__(self) -> dict[str, Any]:
        """A journal snapshot's state: the time zone is rebuilt from the configuration."""
        state = dict(self.__dict__)
        del state["tz"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.tz = ZoneInfo(self.cfg.tz)

    # ------------------------------------------------------------ maths

    def promise(self, now: float, position: int, rate: float, aht: float, staffed: int) -> float:
        """Promised callback time (epoch s) for a kept place; see the module docstring."""
        q = self.cfg.confidence
        place = erlang.place_quantile(position, staffed, aht, q)
        stationary = erlang.wait_quantile(staffed, rate * aht, aht, q) if staffed > 0 else float("inf")
        wait = max(place, stationary)
        if wait == float("inf"):
            wait = position * aht  # nobody staffed or overloaded: one AHT per caller ahead
        return now + wait

    def _next_local(self, now: float, hhmm: str) -> float | None:
        h, m = int(hhmm[:2]), int(hhmm[2:])
        if h > 23 or m > 59:
            return None
        hours = h + m / 60
        if not (self.cfg.open_from <= hours < self.cfg.open_until):
            return None
        local = dt.datetime.fromtimestamp(now, self.tz)
        for days in range(0, 2):
            d = (local + dt.timedelta(days=days)).date()
            cand = dt.datetime(d.year, d.month, d.day, h, m, tzinfo=self.tz).timestamp()
            if cand >= now + self.cfg.min_lead:
                return cand
        return None

    def _fmt_time(self, t: float) -> str:
        return dt.datetime.fromtimestamp(t, self.tz).strftime("%H:%M")

    # ------------------------------------------------------------ sans-IO interface

    def handle(self, event: ev.Event, now: float) -> list[Action]:
        out: list[Action] = []
        if isinstance(event, CallbackOffer):
            self.menus[event.callid] = _Menu(
                event.callid,
                event.queuename,
                event.callerid,
                event.position,
                event.arrival_rate,
                event.aht,
                event.staffed,
                now if event.entered is None else event.entered,
                event.priority,
            )
            out.append(ev.Prompt(event.callid, "callback-offer"))
        elif isinstance(event, ev.CallerKey):
            m = self.menus.get(event.callid)
            if m is not None:
                self._key(m, event.key, now, out)
        elif isinstance(event, ev.CallerHangup):
            self.menus.pop(event.callid, None)
        elif isinstance(event, CallbackOutcome):
            self._outcome(event, now, out)
        else:
            raise QueueError(f"callback: no handler for event {type(event).__name__}")
        return out

    def next_deadline(self) -> float | None:
        t = self._timers
        while t:
            when, _, r, token = t[0]
            if r.timers.get("due") == token:
                return when
            heapq.heappop(t)
        return None

    def on_timeout(self, now: float) -> list[Action]:
        out: list[Action] = []
        while self._timers and self._timers[0][0] <= now:
            _, _, r, token = heapq.heappop(self._timers)
            if r.timers.get("due") != token or r.done:
                continue
            del r.timers["due"]
            out.append(ev.EnqueueCallback(r.callid, r.queuename, r.number, self.cfg.priority))
        return out

    # ------------------------------------------------------------ menu

    def _wrong(self, m: _Menu, out: list[Action]) -> None:
        m.wrong += 1
        if m.wrong >= 3:
            del self.menus[m.callid]
            out.append(ev.Prompt(m.callid, "callback-keep-waiting"))
        else:
            out.append(ev.Prompt(m.callid, "invalid-" + m.state.lower()))

    def _key(self, m: _Menu, key: str, now: float, out: list[Action]) -> None:
        s = m.state
        if s in ("ENTER_NUMBER", "ENTER_TIME"):
            if key == "#" or (s == "ENTER_TIME" and key.isdigit() and len(m.digits) == 3):
                if key != "#":
                    m.digits += key
                self._entered(m, now, out)
            elif key.isdigit() and len(m.digits) < self.cfg.max_digits:
                m.digits += key
            elif key == "*":
                m.digits = ""
            else:
                self._wrong(m, out)
            return
        choice = {
            ("OFFERED", "1"): "wait",
            ("OFFERED", "2"): "NUMBER",
            ("NUMBER", "1"): "WHEN",
            ("NUMBER", "2"): "ENTER_NUMBER",
            ("CONFIRM_NUMBER", "1"): "WHEN",
            ("CONFIRM_NUMBER", "2"): "ENTER_NUMBER",
            ("WHEN", "1"): "place",
            ("WHEN", "2"): "ENTER_TIME",
            ("CONFIRM_TIME", "1"): "book",
            ("CONFIRM_TIME", "2"): "ENTER_TIME",
        }.get((s, key))
        if choice is None:
            self._wrong(m, out)
            return
        m.wrong = 0
        if choice == "wait":
            del self.menus[m.callid]
            out.append(ev.Prompt(m.callid, "callback-keep-waiting"))
        elif choice == "NUMBER":
            if not m.callerid:
                m.state, m.digits = "ENTER_NUMBER", ""
                out.append(ev.Prompt(m.callid, "callback-enter-number"))
            else:
                m.state = "NUMBER"
                out.append(ev.Prompt(m.callid, "callback-number-is", say=m.callerid))
        elif choice == "WHEN":
            if s == "NUMBER":
                m.number = m.callerid
            m.state = "WHEN"
            out.append(ev.Prompt(m.callid, "callback-when"))
        elif choice in ("ENTER_NUMBER", "ENTER_TIME"):
            m.state, m.digits = choice, ""
            out.append(
                ev.Prompt(m.callid, "callback-enter-" + ("number" if choice == "ENTER_NUMBER" else "time"))
            )
        elif choice == "place":
            promised = self.promise(now, m.position, m.rate, m.aht, m.staffed)
            self._book(m, "place", promised, now, out)
        else:  # book
            self._book(m, "time", m.when, now, out)

    def _entered(self, m: _Menu, now: float, out: list[Action]) -> None:
        if m.state == "ENTER_NUMBER":
            if len(m.digits) < 3:
                m.digits = ""
                self._wrong(m, out)
                return
            m.number, m.state = m.digits, "CONFIRM_NUMBER"
            out.append(ev.Prompt(m.callid, "callback-confirm-number", say=m.number))
            return
        when = self._next_local(now, m.digits) if len(m.digits) == 4 else None
        m.digits = ""
        if when is None:
            self._wrong(m, out)
            return
        m.when, m.state = when, "CONFIRM_TIME"
        out.append(ev.Prompt(m.callid, "callback-confirm-time", say=self._fmt_time(when)))

    def _book(self, m: _Menu, mode: str, promised: float, now: float, out: list[Action]) -> None:
        del self.menus[m.callid]
        r = _Request(m.callid, m.queuename, m.number, promised)
        self.requests[m.callid] = r
        out.append(ev.CallbackRequest(now, m.callid, m.queuename, NONE, m.number, mode, promised, m.position))
        text = self.cfg.sms.format(time=self._fmt_time(promised), number=m.number, ref=m.callid)
        if mode == "place":
            out.append(ev.KeepPlace(m.callid, m.number, promised))
            if self.cfg.shared:  # the place stays in this engine's line; the row outlives it
                r.done = True  # its outcome is the shared core's (ccboard.queue.shared)
                out.append(
                    ShareCallback(m.callid, m.queuename, m.number, m.entered, self.cfg.max_attempts, text,
                                  KEEP_PLACE, m.priority)
                )  # fmt: skip
        else:
            out.append(ev.LeaveForCallback(m.callid))
            if self.cfg.shared:
                r.done = True  # the shared table has it now: whichever engine claims it dials it
                out.append(
                    ShareCallback(m.callid, m.queuename, m.number, promised, self.cfg.max_attempts, text)
                )
            else:
                self._arm(r, promised)
        out.append(ev.SendSms(m.number, text, m.callid))
        out.append(ev.Prompt(m.callid, "callback-booked", say=self._fmt_time(promised)))
        out.append(ev.Hangup(m.callid))

    def _arm(self, r: _Request, when: float) -> None:
        token = next(self._tseq)
        r.timers["due"] = token
        heapq.heappush(self._timers, (when, token, r, token))

    # ------------------------------------------------------------ outcomes and retries

    def _outcome(self, e: CallbackOutcome, now: float, out: list[Action]) -> None:
        r = self.requests.get(e.callid)
        if r is None or r.done:
            raise QueueError(f"callback {e.callid}: no pending request for outcome {e.outcome.value}")
        r.attempts += 1
        final = e.outcome in (Outcome.ANSWERED, Outcome.INVALID) or r.attempts >= self.cfg.max_attempts
        nxt = ""
        if final:
            r.done = True
        else:
            delay = dict(self.cfg.retry_delay).get(e.outcome, self.cfg.default_retry)
            when = now + delay
            nxt = repr(when)
            self._arm(r, when)
        out.append(
            ev.CallbackResult(now, r.callid, r.queuename, NONE, e.outcome.value, r.attempts, int(final), nxt)
        )

    def pending(self) -> list[str]:
        return [r.callid for r in self.requests.values() if not r.done]

    def snapshot(self) -> dict[str, Any]:
        return {cid: (r.number, r.promised, r.attempts, r.done) for cid, r in self.requests.items()}
