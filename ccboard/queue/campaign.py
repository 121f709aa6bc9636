"""Outbound follow-up campaigns (回访), sans-IO: who to dial, when, how many lines, what next.

**Contacts** come from the database (AddContacts); each has a number and an IANA time zone.
A contact is dialled only inside the calling window of *its* local time (``window`` hours,
``days`` weekdays, Monday = 0); outside it, it waits for the next opening. A number on the
do-not-call list (``dnc`` or AddDnc) is never dialled: it ends with status DNC.

**Recycling** (VICIdial's lead recycle rules as the model): after an outcome, the rule for that
outcome gives a delay before the next attempt and a cap on attempts *with that outcome*; when the
cap is reached the contact ends with the rule's final status (e.g. no answer 3 times ->
NA_MAX, "no answer after N attempts"). ``max_attempts`` caps all attempts (MAX_ATTEMPTS).
Fax, invalid number and refusal are final at once (FAX, INVALID, REFUSED; a refusal also adds
the number to the do-not-call list). Answered -> CONTACTED (SURVEYED after a survey).

**Pacing**, on every ``on_timeout`` tick (each ``tick`` s): lines = target - calls in flight,

- progressive: target = free agents (one line per free agent);
- predictive: target = floor(free agents x min(max_ratio, 1 / p)), p the answer rate so far
  (``initial_answer_rate`` until ``min_sample`` results), but progressive whenever the drop rate
  (drops / calls answered by a person, drops included) has reached ``drop_cap``.

A person who answers when no agent is free is *dropped* (Hangup with the drop prompt, outcome
"dropped", recycled like the others).

**Survey**: with ``survey`` questions, an answered call goes to an agent (ConnectToAgent) and,
when the agent is done (CallDone), the caller hears the questions (Prompt) and keys answers
(CallerKey; SURVEY rows). A key in a question's ``unsatisfied`` set escalates the contact to
``complaint_queue`` (ESCALATE + ConnectToAgent there). With ``agents=False`` the survey starts on
answer (an IVR-only follow-up).
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
from dataclasses import dataclass, field
from itertools import count
from zoneinfo import ZoneInfo

from ccboard.queue import events as ev
from ccboard.queue.events import Action, Outcome, QueueError


@dataclass(frozen=True, slots=True)
class Contact:
    id: str
    number: str
    tz: str = "UTC"


@dataclass(frozen=True, slots=True)
class RecycleRule:
    """After `outcome`, retry in `delay` s; after `max_attempts` such outcomes, end as `status`."""

    outcome: Outcome
    delay: float
    max_attempts: int
    status: str


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    prompt: str
    keys: str  # valid answers
    unsatisfied: str = ""  # answers that escalate to the complaint queue


@dataclass(frozen=True)
class CampaignConfig:
    name: str
    queue: str = ""  # where answered calls meet an agent
    pacing: str = "progressive"  # or "predictive"
    tick: float = 1.0
    window: tuple[float, float] = (9.0, 20.0)  # local hours [from, until)
    days: frozenset[int] = frozenset(range(7))
    max_attempts: int = 6
    recycle: tuple[RecycleRule, ...] = (
        RecycleRule(Outcome.NO_ANSWER, 1800.0, 3, "NA_MAX"),
        RecycleRule(Outcome.BUSY, 300.0, 5, "BUSY_MAX"),
        RecycleRule(Outcome.MACHINE, 3600.0, 2, "AM_MAX"),
        RecycleRule(Outcome.DROPPED, 600.0, 2, "DROP_MAX"),
        RecycleRule(Outcome.LOST, 60.0, 3, "LOST_MAX"),  # in flight when the engine died
    )
    drop_cap: float = 0.03
    max_ratio: float = 3.0
    initial_answer_rate: float = 0.5
    min_sample: int = 20
    survey: tuple[Question, ...] = ()
    complaint_queue: str = ""
    agents: bool = True
    dnc: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.pacing not in ("progressive", "predictive"):
            raise QueueError(f"campaign {self.name}: pacing {self.pacing!r}")


@dataclass(frozen=True, slots=True)
class AddContacts(ev.Event):
    contacts: tuple[Contact, ...]


@dataclass(frozen=True, slots=True)
class AddDnc(ev.Event):
    number: str


@dataclass(frozen=True, slots=True)
class AgentsFree(ev.Event):
    """How many of the campaign's agents are free now."""

    free: int


@dataclass(frozen=True, slots=True)
class DialOutcome(ev.Event):
    callid: str
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class CallDone(ev.Event):
    """The agent finished the conversation of an answered campaign call."""

    callid: str


FINAL = {Outcome.FAX: "FAX", Outcome.INVALID: "INVALID", Outcome.REFUSED: "REFUSED"}


@dataclass(slots=True, eq=False)
class _State:
    contact: Contact
    attempts: int = 0
    per_outcome: dict[Outcome, int] = field(default_factory=dict)
    status: str = "NEW"
    next_at: float = 0.0
    callid: str = ""
    question: int = 0


class Campaign:
    """One campaign's dialler core."""

    def __init__(self, cfg: CampaignConfig) -> None:
        self.cfg = cfg
        self.states: dict[str, _State] = {}
        self.dnc: set[str] = set(cfg.dnc)
        self._ready: list[tuple[float, int, str]] = []  # (not before, seq, contact id)
        self._seq = count()
        self.in_flight: dict[str, _State] = {}  # callid -> contact being dialled
        self.talking: dict[str, _State] = {}  # callid -> answered, with agent or in survey
        self.free = 0
        self.results = 0
        self.answered = 0  # by a person, drops included
        self.drops = 0
        self._next_tick: float | None = None
        self._calls = count(1)

    # ------------------------------------------------------------ figures

    @property
    def answer_rate(self) -> float:
        if self.results < self.cfg.min_sample:
            return self.cfg.initial_answer_rate
        return max(1e-3, self.answered / self.results)

    @property
    def drop_rate(self) -> float:
        return self.drops / self.answered if self.answered else 0.0

    def lines_wanted(self) -> int:
        """Lines to start now (see module docstring)."""
        free = self.free
        if self.cfg.pacing == "predictive" and self.drop_rate < self.cfg.drop_cap:
            target = math.floor(free * min(self.cfg.max_ratio, 1.0 / self.answer_rate))
        else:
            target = free
        return max(0, target - len(self.in_flight))

    def status(self, contact_id: str) -> str:
        return self.states[contact_id].status

    # ------------------------------------------------------------ windows

    def _window_open(self, c: Contact, now: float) -> float:
        """`now` if the contact's local time is inside the window, else the next opening (epoch s)."""
        tz = ZoneInfo(c.tz)
        lo, hi = self.cfg.window
        local = dt.datetime.fromtimestamp(now, tz)
        for d in range(0, 8):
            day = (local + dt.timedelta(days=d)).date()
            if day.weekday() not in self.cfg.days:
                continue
            start = dt.datetime(day.year, day.month, day.day, tzinfo=tz) + dt.timedelta(hours=lo)
            end = dt.datetime(day.year, day.month, day.day, tzinfo=tz) + dt.timedelta(hours=hi)
            if now < end.timestamp():
                return max(now, start.timestamp())
        raise QueueError(f"campaign {self.cfg.name}: contact {c.id} has no calling window within a week")

    # ------------------------------------------------------------ sans-IO interface

    def handle(self, event: ev.Event, now: float) -> list[Action]:
        out: list[Action] = []
        if isinstance(event, AddContacts):
            for c in event.contacts:
                if c.id in self.states:
                    raise QueueError(f"campaign {self.cfg.name}: contact {c.id} added twice")
                self.states[c.id] = _State(c)
                heapq.heappush(self._ready, (now, next(self._seq), c.id))
            self._wake(now)
        elif isinstance(event, AddDnc):
            self.dnc.add(event.number)
        elif isinstance(event, AgentsFree):
            self.free = max(0, event.free)
            self._wake(now)
        elif isinstance(event, DialOutcome):
            self._outcome(event, now, out)
        elif isinstance(event, CallDone):
            s = self.talking.get(event.callid)
            if s is None:
                raise QueueError(f"campaign {self.cfg.name}: call {event.callid} is not connected")
            if self.cfg.survey:
                self._ask(s, out)
            else:
                self._finish_talk(s, out)
        elif isinstance(event, ev.CallerKey):
            s = self.talking.get(event.callid)
            if s is not None and s.status == "SURVEY":
                self._survey_key(s, event.key, now, out)
        elif isinstance(event, ev.CallerHangup):
            s = self.talking.pop(event.callid, None)
            if s is not None and s.status == "SURVEY":
                s.status = "CONTACTED"
        else:
            raise QueueError(f"campaign {self.cfg.name}: no handler for {type(event).__name__}")
        return out

    def _wake(self, now: float) -> None:
        if not self._ready:
            return
        when = max(now, self._ready[0][0])
        if self._next_tick is None or self._next_tick > when:
            self._next_tick = when

    def next_deadline(self) -> float | None:
        return self._next_tick

    def on_timeout(self, now: float) -> list[Action]:
        out: list[Action] = []
        if self._next_tick is None or now < self._next_tick:
            return out
        self._next_tick = None
        want = self.lines_wanted()
        skipped: list[tuple[float, int, str]] = []
        while want > 0 and self._ready and self._ready[0][0] <= now:
            item = heapq.heappop(self._ready)
            s = self.states[item[2]]
            c = s.contact
            if c.number in self.dnc:
                s.status = "DNC"
                continue
            opens = self._window_open(c, now)
            if opens > now:
                skipped.append((opens, item[1], c.id))
                continue
            s.attempts += 1
            s.status = "DIALLING"
            s.callid = f"{self.cfg.name}-{c.id}-{s.attempts}"
            self.in_flight[s.callid] = s
            out.append(ev.CampaignAttempt(now, s.callid, self.cfg.name, ev.NONE, c.id, c.number, s.attempts))
            out.append(ev.Dial(s.callid, c.number, self.cfg.name, c.id))
            want -= 1
        for item in skipped:
            heapq.heappush(self._ready, item)
        if self._ready:
            head = self._ready[0][0]
            # a future retry or window opening wakes us; a ready contact waits for a free agent
            # or a finished call (AgentsFree / DialOutcome wake us)
            self._next_tick = head if head > now else (now + self.cfg.tick if self.lines_wanted() else None)
        return out

    # ------------------------------------------------------------ outcomes

    def _outcome(self, e: DialOutcome, now: float, out: list[Action]) -> None:
        s = self.in_flight.pop(e.callid, None)
        if s is None:
            raise QueueError(f"campaign {self.cfg.name}: no call {e.callid} in flight")
        c = s.contact
        outcome = e.outcome
        self.results += 1
        if outcome is Outcome.ANSWERED:
            self.answered += 1
            if self.cfg.agents and self.free <= 0:
                outcome = Outcome.DROPPED
                self.drops += 1
                out.append(ev.Hangup(e.callid, "campaign-drop"))
        s.per_outcome[outcome] = s.per_outcome.get(outcome, 0) + 1
        nxt = ""
        if outcome is Outcome.ANSWERED:
            s.status = "CONTACTED"
            self.talking[e.callid] = s
        elif outcome in FINAL:
            s.status = FINAL[outcome]
            if outcome is Outcome.REFUSED:
                self.dnc.add(c.number)
        else:
            rule = next((r for r in self.cfg.recycle if r.outcome is outcome), None)
            if rule is not None and s.per_outcome[outcome] >= rule.max_attempts:
                s.status = rule.status
            elif s.attempts >= self.cfg.max_attempts:
                s.status = "MAX_ATTEMPTS"
            else:
                delay = rule.delay if rule is not None else 3600.0
                s.status = "RETRY"
                s.next_at = now + delay
                nxt = repr(s.next_at)
                heapq.heappush(self._ready, (s.next_at, next(self._seq), c.id))
        out.append(
            ev.CampaignResult(
                now, e.callid, self.cfg.name, ev.NONE, c.id, outcome.value, s.attempts, s.status, nxt
            )
        )
        if outcome is Outcome.ANSWERED:
            if self.cfg.agents:
                self.free -= 1
                out.append(ev.ConnectToAgent(e.callid, self.cfg.queue, c.id))
            elif self.cfg.survey:
                self._ask(s, out)
            else:
                self._finish_talk(s, out)
        self._wake(now)

    def _finish_talk(self, s: _State, out: list[Action]) -> None:
        self.talking.pop(s.callid, None)
        out.append(ev.Hangup(s.callid, "campaign-thanks"))

    def _ask(self, s: _State, out: list[Action]) -> None:
        s.status = "SURVEY"
        q = self.cfg.survey[s.question]
        out.append(ev.Prompt(s.callid, q.prompt))

    def _survey_key(self, s: _State, key: str, now: float, out: list[Action]) -> None:
        q = self.cfg.survey[s.question]
        if key not in q.keys:
            out.append(ev.Prompt(s.callid, "survey-invalid"))
            out.append(ev.Prompt(s.callid, q.prompt))
            return
        out.append(ev.SurveyAnswer(now, s.callid, self.cfg.name, ev.NONE, s.contact.id, q.id, key))
        if key in q.unsatisfied and self.cfg.complaint_queue:
            s.status = "ESCALATED"
            self.talking.pop(s.callid, None)
            out.append(
                ev.Escalate(
                    now,
                    s.callid,
                    self.cfg.name,
                    ev.NONE,
                    s.contact.id,
                    self.cfg.complaint_queue,
                    f"{q.id}={key}",
                )
            )
            out.append(ev.ConnectToAgent(s.callid, self.cfg.complaint_queue, s.contact.id))
            return
        s.question += 1
        if s.question < len(self.cfg.survey):
            out.append(ev.Prompt(s.callid, self.cfg.survey[s.question].prompt))
        else:
            s.status = "SURVEYED"
            self._finish_talk(s, out)
