"""Typed inputs and outputs of the queue cores, and the ledger events they imply.

Every core is sans-IO: ``handle(event, now) -> list[Action]``, ``next_deadline()`` and
``on_timeout(now) -> list[Action]``. ``now`` and every time below are seconds since the Unix
epoch (UTC, float), handed in by the caller; durations are seconds unless a field says ms.

**Ledger events** are actions too: the list one decision returns mixes the ledger events it
implies (in the order they happened) with the actions that carry it out. The storage layer writes
every ``LedgerEvent`` of the list, in list order, in one transaction, and only then performs
(acknowledges) the other actions. Each is a plain frozen dataclass with Asterisk queue_log's
fields: ``time | callid | queuename | agent | event | data1 .. data5``; ``row()`` gives that
row as strings (data fields in the order below, "" for absent ones) and ``ledger_from_row()``
parses one back (the inverse for every event, tested). ``callid`` and ``agent`` are "NONE"
where queue_log writes NONE.

queue_log events (Asterisk's names and data fields):

=================  ==============================================================
ENTERQUEUE         url, callerid, position (ours), priority (ours)
CONNECT            holdtime (s), bridgedchanneluniqueid, ringtime (s)
COMPLETEAGENT      holdtime (s), calltime (s), origposition
COMPLETECALLER     holdtime (s), calltime (s), origposition
ABANDON            position, origposition, waittime (s)
EXITWITHTIMEOUT    position, origposition, waittime (s)
EXITWITHKEY        key, position, origposition, waittime (s)
EXITEMPTY          position, origposition, waittime (s)
FULL               (none): not joined, queue at maxlen
JOINEMPTY          (none): not joined, no usable member
RINGNOANSWER       ringtime (ms)
RINGCANCELED       ringtime (ms)
PAUSE / UNPAUSE    reason
ADDMEMBER          penalty (ours)
REMOVEMEMBER       (none)
AGENTLOGIN         channel
AGENTLOGOFF        channel, logintime (s)
=================  ==============================================================

Our own events, in the same row shape:

=================  ==============================================================
WRAPUP             wrapuptime (s): the agent's after-call work ended
EXITCALLBACK       outcome, position, origposition, waittime (s): a kept-place
                   callback stint ended without a connection
CALLBACKREQUEST    number, mode ("place" / "time"), promised (epoch s), position
CALLBACKATTEMPT    number, attempt
CALLBACKRESULT     outcome, attempt, final (1 / 0), next (epoch s or "")
CAMPAIGNATTEMPT    contact, number, attempt            (queuename = campaign)
CAMPAIGNRESULT     contact, outcome, attempt, status, next (epoch s or "")
SURVEY             contact, question, answer           (queuename = campaign)
ESCALATE           contact, target, reason             (queuename = campaign)
=================  ==============================================================
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from ccboard.errors import CCBoardError

NONE = "NONE"


class QueueError(CCBoardError):
    """A queue core was handed something it cannot accept; names the call, agent, queue or event."""


class AgentState(enum.Enum):
    """What an agent is doing, as a supervisor sees it."""

    LOGGED_OUT = "logged out"
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on call"
    WRAP_UP = "wrap-up"
    PAUSED = "paused"


class Outcome(enum.Enum):
    """Result of one outbound attempt (call progress analysis)."""

    ANSWERED = "answered"
    NO_ANSWER = "no answer"
    BUSY = "busy"
    MACHINE = "machine"
    FAX = "fax"
    INVALID = "invalid"
    REFUSED = "refused"
    DROPPED = "dropped"  # answered by a person, no agent free in time (predictive dialling)
    LOST = "lost"  # the dial was in flight when the engine died (ccboard.queue.durable)


# ---------------------------------------------------------------- actions and ledger events


@dataclass(frozen=True, slots=True)
class Action:
    """Base of everything a core asks its host to do (or to record)."""


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return repr(round(v, 6)) if v != int(v) else str(int(v))
    return str(v)


@dataclass(frozen=True, slots=True)
class LedgerEvent(Action):
    """One queue_log row; subclasses add the data fields (at most 5) in queue_log order."""

    time: float
    callid: str
    queuename: str
    agent: str

    EVENT: ClassVar[str] = ""

    @property
    def event(self) -> str:
        return self.EVENT

    def data(self) -> tuple[Any, ...]:
        """The data fields, typed, in queue_log order."""
        return tuple(getattr(self, f.name) for f in fields(self)[4:])

    def row(self) -> tuple[str, ...]:
        """(time, callid, queuename, agent, event, data1..data5) as strings."""
        d = [_fmt(v) for v in self.data()]
        d += [""] * (5 - len(d))
        return (_fmt(self.time), self.callid, self.queuename, self.agent, self.EVENT, *d)


_LEDGER: dict[str, type[LedgerEvent]] = {}


def _ledger(name: str) -> Any:
    def deco(cls: type[LedgerEvent]) -> type[LedgerEvent]:
        cls.EVENT = name
        _LEDGER[name] = cls
        return cls

    return deco


@_ledger("ENTERQUEUE")
@dataclass(frozen=True, slots=True)
class EnterQueue(LedgerEvent):
    url: str
    callerid: str
    position: int
    priority: int


@_ledger("CONNECT")
@dataclass(frozen=True, slots=True)
class Connect(LedgerEvent):
    holdtime: float
    bridgedchanneluniqueid: str
    ringtime: float


@_ledger("COMPLETEAGENT")
@dataclass(frozen=True, slots=True)
class CompleteAgent(LedgerEvent):
    holdtime: float
    calltime: float
    origposition: int


@_ledger("COMPLETECALLER")
@dataclass(frozen=True, slots=True)
class CompleteCaller(LedgerEvent):
    holdtime: float
    calltime: float
    origposition: int


@_ledger("ABANDON")
@dataclass(frozen=True, slots=True)
class Abandon(LedgerEvent):
    position: int
    origposition: int
    waittime: float


@_ledger("EXITWITHTIMEOUT")
@dataclass(frozen=True, slots=True)
class ExitWithTimeout(LedgerEvent):
    position: int
    origposition: int
    waittime: float


@_ledger("EXITWITHKEY")
@dataclass(frozen=True, slots=True)
class ExitWithKey(LedgerEvent):
    key: str
    position: int
    origposition: int
    waittime: float


@_ledger("EXITEMPTY")
@dataclass(frozen=True, slots=True)
class ExitEmpty(LedgerEvent):
    position: int
    origposition: int
    waittime: float


@_ledger("EXITCALLBACK")
@dataclass(frozen=True, slots=True)
class ExitCallback(LedgerEvent):
    outcome: str
    position: int
    origposition: int
    waittime: float


@_ledger("FULL")
@dataclass(frozen=True, slots=True)
class Full(LedgerEvent):
    pass


@_ledger("JOINEMPTY")
@dataclass(frozen=True, slots=True)
class JoinEmpty(LedgerEvent):
    pass


@_ledger("RINGNOANSWER")
@dataclass(frozen=True, slots=True)
class RingNoAnswer(LedgerEvent):
    ringtime: int  # ms, as Asterisk


@_ledger("RINGCANCELED")
@dataclass(frozen=True, slots=True)
class RingCanceled(LedgerEvent):
    ringtime: int  # ms


@_ledger("PAUSE")
@dataclass(frozen=True, slots=True)
class Pause(LedgerEvent):
    reason: str


@_ledger("UNPAUSE")
@dataclass(frozen=True, slots=True)
class Unpause(LedgerEvent):
    reason: str


@_ledger("ADDMEMBER")
@dataclass(frozen=True, slots=True)
class AddMemberLog(LedgerEvent):
    penalty: int


@_ledger("REMOVEMEMBER")
@dataclass(frozen=True, slots=True)
class RemoveMemberLog(LedgerEvent):
    pass


@_ledger("AGENTLOGIN")
@dataclass(frozen=True, slots=True)
class AgentLoginLog(LedgerEvent):
    channel: str


@_ledger("AGENTLOGOFF")
@dataclass(frozen=True, slots=True)
class AgentLogoffLog(LedgerEvent):
    channel: str
    logintime: float


@_ledger("WRAPUP")
@dataclass(frozen=True, slots=True)
class Wrapup(LedgerEvent):
    wrapuptime: float


@_ledger("CALLBACKREQUEST")
@dataclass(frozen=True, slots=True)
class CallbackRequest(LedgerEvent):
    number: str
    mode: str
    promised: float
    position: int


@_ledger("CALLBACKATTEMPT")
@dataclass(frozen=True, slots=True)
class CallbackAttempt(LedgerEvent):
    number: str
    attempt: int


@_ledger("CALLBACKRESULT")
@dataclass(frozen=True, slots=True)
class CallbackResult(LedgerEvent):
    outcome: str
    attempt: int
    final: int
    next: str  # epoch s of the retry, "" when final


@_ledger("CAMPAIGNATTEMPT")
@dataclass(frozen=True, slots=True)
class CampaignAttempt(LedgerEvent):
    contact: str
    number: str
    attempt: int


@_ledger("CAMPAIGNRESULT")
@dataclass(frozen=True, slots=True)
class CampaignResult(LedgerEvent):
    contact: str
    outcome: str
    attempt: int
    status: str
    next: str


@_ledger("SURVEY")
@dataclass(frozen=True, slots=True)
class SurveyAnswer(LedgerEvent):
    contact: str
    question: str
    answer: str


@_ledger("ESCALATE")
@dataclass(frozen=True, slots=True)
class Escalate(LedgerEvent):
    contact: str
    target: str
    reason: str


LEDGER_EVENTS: dict[str, type[LedgerEvent]] = dict(_LEDGER)

_CONVERT: dict[str, Any] = {"int": int, "float": float, "str": str}


def ledger_from_row(row: tuple[str, ...] | list[str]) -> LedgerEvent:
    """Parse (time, callid, queuename, agent, event, data1..data5) back into its dataclass."""
    if len(row) < 5:
        raise QueueError(f"ledger row has {len(row)} fields, needs at least 5: {row!r}")
    name = row[4]
    cls = LEDGER_EVENTS.get(name)
    if cls is None:
        raise QueueError(f"ledger row: unknown event {name!r}")
    extra = fields(cls)[4:]
    data = list(row[5:]) + [""] * 5
    args = [_CONVERT[str(f.type)](data[i]) for i, f in enumerate(extra)]
    return cls(float(row[0]), row[1], row[2], row[3], *args)


# ---------------------------------------------------------------- other actions


@dataclass(frozen=True, slots=True)
class RingAgent(Action):
    """Ring the agent's phone for this call; `whisper` is spoken to the agent on answer."""

    callid: str
    agent: str
    timeout: float  # s
    whisper: str = ""


@dataclass(frozen=True, slots=True)
class StopRinging(Action):
    callid: str
    agent: str


@dataclass(frozen=True, slots=True)
class Bridge(Action):
    """Connect the caller to the agent (the agent has answered)."""

    callid: str
    agent: str


@dataclass(frozen=True, slots=True)
class Announce(Action):
    """Play to a waiting caller: position (None = not this time; more_than: "more than N"),
    estimated wait in s (None = not this time) and/or a periodic prompt, over music on hold."""

    callid: str
    queuename: str
    position: int | None = None
    more_than: bool = False
    wait: float | None = None
    prompt: str = ""


@dataclass(frozen=True, slots=True)
class ExitQueue(Action):
    """The call leaves the queue unanswered; continue at `target` ("" = next dialplan step)."""

    callid: str
    queuename: str
    reason: str  # FULL, JOINEMPTY, EXITEMPTY, TIMEOUT, KEY
    target: str = ""


@dataclass(frozen=True, slots=True)
class AgentStateChanged(Action):
    agent: str
    state: AgentState
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DialCallback(Action):
    """Dial the customer of a kept-place callback; an agent is reserved for it."""

    callid: str
    number: str
    agent: str
    whisper: str = ""


@dataclass(frozen=True, slots=True)
class Dial(Action):
    """Originate an outbound call with call progress analysis (callback retry, campaign)."""

    callid: str
    number: str
    purpose: str  # "callback" / campaign name
    contact: str = ""


@dataclass(frozen=True, slots=True)
class EnqueueCallback(Action):
    """A scheduled callback is due: put it in `queuename` as a virtual caller (CallArrives with
    number set), to be dialled when it reaches an agent."""

    callid: str
    queuename: str
    number: str
    priority: int


@dataclass(frozen=True, slots=True)
class LeaveForCallback(Action):
    """The waiting caller booked a callback at a time and leaves the line (feed CallerBooked)."""

    callid: str


@dataclass(frozen=True, slots=True)
class KeepPlace(Action):
    """Turn the waiting call into a virtual one that keeps its place (feed CallerToVirtual)."""

    callid: str
    number: str
    promised: float


@dataclass(frozen=True, slots=True)
class Prompt(Action):
    """Play a prompt (name) to a call; `say` is text/digits to read back after it."""

    callid: str
    prompt: str
    say: str = ""


@dataclass(frozen=True, slots=True)
class SendSms(Action):
    """Queue a text in the SMS outbox (drained by a gateway adapter)."""

    number: str
    text: str
    ref: str = ""


@dataclass(frozen=True, slots=True)
class ConnectToAgent(Action):
    """Put an answered outbound call (campaign) into a queue or straight to a free agent."""

    callid: str
    queuename: str
    contact: str


@dataclass(frozen=True, slots=True)
class Hangup(Action):
    callid: str
    prompt: str = ""


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every input to a queue core."""


@dataclass(frozen=True, slots=True)
class CallArrives(Event):
    """A call asks to join a queue. `skills` = required skill -> minimum level.
    With `number` set the caller is virtual (a callback due): dialled when it reaches an agent."""

    callid: str
    queuename: str
    callerid: str = ""
    priority: int = 0
    skills: tuple[tuple[str, int], ...] = ()
    number: str = ""


@dataclass(frozen=True, slots=True)
class CallerHangup(Event):
    callid: str


@dataclass(frozen=True, slots=True)
class CallerOverflow(Event):
    """Another site will answer this waiting caller (ccboard.queue.overflow): it leaves the queue
    as app_queue's overflow does (EXITWITHTIMEOUT, then ExitQueue "OVERFLOW" to `target`). Ignored
    once the caller is connected, dialling or gone (the home site won the race)."""

    callid: str
    target: str


@dataclass(frozen=True, slots=True)
class CallerKey(Event):
    callid: str
    key: str


@dataclass(frozen=True, slots=True)
class CallerBooked(Event):
    """The caller booked a callback at a time (key 2 of the offer) and leaves the queue: logged as
    EXITWITHKEY "2"; no ExitQueue, the callback core ends the call. The callback later enters the
    queue anew (CallArrives with the number) under the same call id."""

    callid: str


@dataclass(frozen=True, slots=True)
class CallerToVirtual(Event):
    """The caller hangs up but keeps the place in line; dial `number` when it reaches an agent."""

    callid: str
    number: str
    promised: float = 0.0


@dataclass(frozen=True, slots=True)
class CallbackDialResult(Event):
    """Outcome of dialling a virtual caller (DialCallback)."""

    callid: str
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class AgentAnswered(Event):
    callid: str
    agent: str


@dataclass(frozen=True, slots=True)
class AgentRejected(Event):
    """The agent's phone was busy or the agent declined: handled as a ring with no answer."""

    callid: str
    agent: str


@dataclass(frozen=True, slots=True)
class CallEnded(Event):
    """A connected call ended; by = "agent" or "caller"."""

    callid: str
    by: str


@dataclass(frozen=True, slots=True)
class AgentLogin(Event):
    agent: str
    channel: str = ""


@dataclass(frozen=True, slots=True)
class AgentLogout(Event):
    agent: str


@dataclass(frozen=True, slots=True)
class AgentPause(Event):
    agent: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AgentUnpause(Event):
    agent: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AddMember(Event):
    """Make an agent a member of a queue: penalty (Asterisk), tier level and position
    (mod_callcenter); both default to the simplest case."""

    agent: str
    queuename: str
    penalty: int = 0
    level: int = 1
    position: int = 1


@dataclass(frozen=True, slots=True)
class RemoveMember(Event):
    agent: str
    queuename: str
