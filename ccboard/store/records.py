"""Storage records: what the store keeps, independent of the queue layer that fills it.

Times are seconds since the Unix epoch (UTC, float); durations are seconds. The queue layer
converts its own events to these rows; the store never imports ccboard.queue.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, fields
from typing import Any, Final, TypeVar

# Row states shared by every claimable table (callbacks, campaign attempts, SMS outbox).
PENDING: Final = "pending"
CLAIMED: Final = "claimed"
DONE: Final = "done"
FAILED: Final = "failed"
CANCELLED: Final = "cancelled"
TAKEN: Final = "taken"  # an overflow offer another site will answer
VOID: Final = "void"  # a taken overflow offer whose caller was served at home first

# Callback modes (Callback.mode).
AT_TIME: Final = "at_time"
KEEP_PLACE: Final = "keep_place"

# CDR dispositions, as Asterisk's cdr.conf names them.
ANSWERED: Final = "ANSWERED"
NO_ANSWER: Final = "NO ANSWER"
BUSY: Final = "BUSY"
FAILED_CALL: Final = "FAILED"


def new_uid() -> str:
    """A fresh idempotency key (32 hex digits); retrying a write with the same key is a no-op."""
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    """One call or queue event, as a row of Asterisk's queue_log (time|callid|queue|agent|event|data1..5).

    `uid` makes the write idempotent: appending the same uid twice stores one row.
    `id` is the store's sequence number (0 before it is written).
    """

    time: float
    callid: str
    queue: str
    agent: str
    event: str
    data1: str = ""
    data2: str = ""
    data3: str = ""
    data4: str = ""
    data5: str = ""
    server: str = ""
    uid: str = field(default_factory=new_uid)
    id: int = 0

    @property
    def data(self) -> tuple[str, str, str, str, str]:
        return (self.data1, self.data2, self.data3, self.data4, self.data5)


@dataclass(frozen=True, slots=True)
class Cdr:
    """A call detail record (Asterisk's CDR fields that a board server fills); one per `uniqueid`.

    Times in s since the epoch; `answer_time` is None for a call never answered.
    """

    uniqueid: str
    start_time: float
    end_time: float
    answer_time: float | None = None
    src: str = ""
    dst: str = ""
    clid: str = ""
    channel: str = ""
    dstchannel: str = ""
    queue: str = ""
    agent: str = ""
    disposition: str = NO_ANSWER
    server: str = ""

    @property
    def duration(self) -> float:
        """Seconds from start to end."""
        return self.end_time - self.start_time

    @property
    def billsec(self) -> float:
        """Seconds from answer to end (0 if never answered)."""
        return 0.0 if self.answer_time is None else self.end_time - self.answer_time


@dataclass(frozen=True, slots=True)
class Callback:
    """A promised call back to a caller who left the queue.

    mode: "keep_place" (due when their virtual place reaches an agent) or "at_time" (due at `due`).
    A kept place is written claimed by the engine whose line keeps it, with `due` = the time its
    caller entered the line and `priority` = the caller's priority there (its virtual place): if
    that engine dies, its lease lapses and another engine takes the row over, oldest place first.
    `claim_seq` counts claims; completing needs the claim_seq the worker was handed, so a worker
    whose claim expired and was taken over cannot record a second outcome.
    """

    id: str
    callid: str
    queue: str
    number: str
    due: float
    created: float
    mode: str = "at_time"
    state: str = PENDING
    attempts: int = 0
    max_attempts: int = 3
    outcome: str = ""
    context: str = ""
    sms: str = ""  # confirmation text queued in the outbox with it ("" = none)
    claimed_by: str = ""
    claim_until: float = 0.0
    claim_seq: int = 0
    finished: float = 0.0
    priority: int = 0  # in line (a kept place's, or 0: the engine's callback priority)


@dataclass(frozen=True, slots=True)
class CampaignAttempt:
    """One dial attempt of an outbound campaign contact; attempt numbers are 1, 2, ... per contact."""

    campaign: str
    contact: str
    attempt: int
    number: str
    due: float
    created: float
    state: str = PENDING
    outcome: str = ""
    claimed_by: str = ""
    claim_until: float = 0.0
    claim_seq: int = 0
    finished: float = 0.0

    @property
    def id(self) -> str:
        return attempt_id(self.campaign, self.contact, self.attempt)


def attempt_id(campaign: str, contact: str, attempt: int) -> str:
    """The key of an attempt row: campaign/contact/attempt."""
    return f"{campaign}/{contact}/{attempt}"


@dataclass(frozen=True, slots=True)
class AgentState:
    """An agent's shared state (every board server of a centre sees the same row).

    state: logged_out, available, ringing, on_call, wrap_up, paused. `version` grows by one on
    every change, for compare-and-set from several servers.
    """

    agent: str
    state: str
    since: float
    reason: str = ""
    server: str = ""
    callid: str = ""
    calls_taken: int = 0
    last_call_end: float = 0.0
    version: int = 0


@dataclass(frozen=True, slots=True)
class QueueMember:
    """An agent's membership of a queue, shared by every server."""

    queue: str
    agent: str
    penalty: int = 0
    paused: bool = False
    reason: str = ""
    server: str = ""


@dataclass(frozen=True, slots=True)
class SmsMessage:
    """An SMS waiting in (or sent from) the outbox; `message_id` is the gateway's id once sent."""

    id: str
    number: str
    body: str
    created: float
    not_before: float = 0.0
    state: str = PENDING
    attempts: int = 0
    max_attempts: int = 5
    message_id: str = ""
    error: str = ""
    claimed_by: str = ""
    claim_until: float = 0.0
    claim_seq: int = 0
    finished: float = 0.0
    ref: str = ""  # what it confirms, e.g. a callback id


@dataclass(frozen=True, slots=True)
class OverflowOffer:
    """A caller waiting at one site, offered to the others because its queue's live service level
    fell or its wait grew too long (ccboard.queue.overflow).

    States: pending (offered) -> claimed (a site with a free agent looks at it) -> taken (that
    site, `taken_by`, will answer it: the offering site sends the caller over) -> done (sent) or
    void (the caller was answered or hung up at home first); pending -> cancelled (withdrawn).
    """

    id: str  # the caller's call id at the offering site
    site: str  # the offering site
    queue: str
    callerid: str
    offered: float  # shared clock, s
    waited: float  # s in line when offered
    state: str = PENDING
    taken_by: str = ""
    claimed_by: str = ""
    claim_until: float = 0.0
    claim_seq: int = 0
    finished: float = 0.0


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One input a server's queue engine fed to one of its sans-IO cores, kept so that a restarted
    engine can replay them into fresh cores and carry on where it died.

    seq: 1, 2, ... per server; kind: "event" (body = the event, JSON) or "timeout" (body "");
    time: the "now" it was fed with (s since the epoch).
    """

    server: str
    seq: int
    time: float
    core: str
    kind: str
    body: str = ""


@dataclass(frozen=True, slots=True)
class JournalSnapshot:
    """A server's queue cores as they were after its journal entry `seq` (so a restart replays only
    the entries after it); the journal itself is kept whole.

    time: that entry's "now" (s since the epoch); config: a fingerprint of the cores'
    configuration (a snapshot of another configuration is not used); body: the state, base64 text.
    """

    server: str
    seq: int
    time: float
    config: str
    body: str


R = TypeVar("R")


def columns(cls: type[Any]) -> tuple[str, ...]:
    """The stored columns of a record class, in field order."""
    return tuple(f.name for f in fields(cls))


_FLOATS: dict[type[Any], tuple[bool, ...]] = {}


def from_row(cls: type[R], row: tuple[Any, ...] | list[Any]) -> R:
    """Build a record from a row selected with columns(cls).

    Float columns are made floats: SQLite hands back a whole-number REAL as int via RETURNING.
    """
    flags = _FLOATS.get(cls)
    if flags is None:
        flags = _FLOATS[cls] = tuple(f.type in ("float", "float | None") for f in fields(cls))  # type: ignore[arg-type]
    return cls(*(float(v) if fl and v is not None else v for v, fl in zip(row, flags, strict=True)))
