"""The call model every protocol shares: a Call (who, what number, which state, why it ended) and
CallMachine, the interface of every channel's signalling machine.

Times are milliseconds on the caller's clock (`now`, as handed to the machine); machines never
read a clock. Release causes are Q.850 cause values.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from ccboard.errors import LocalProtocolError, ProtocolError

if TYPE_CHECKING:
    from ccboard.signalling.actions import Action


class CallState(Enum):
    """Where a call is; the same names on every protocol."""

    IDLE = "idle"
    SEIZED = "seized"  # the line is taken, nothing known yet
    COLLECTING = "collecting"  # address digits are coming in (incoming) or going out (outgoing)
    OFFERED = "offered"  # incoming: complete, waiting for the application to accept/reject
    PROCEEDING = "proceeding"  # the call goes on: incoming accepted / outgoing address complete
    ALERTING = "alerting"  # the called party is being rung
    ANSWERED = "answered"
    RELEASING = "releasing"  # a clear was sent or received; the line is not idle yet
    RELEASED = "released"


class Direction(Enum):
    INCOMING = "incoming"  # the far end called us
    OUTGOING = "outgoing"  # we called


class Cause:
    """Q.850 cause values used by the machines."""

    UNALLOCATED_NUMBER = 1
    NORMAL_CLEARING = 16
    USER_BUSY = 17
    NO_USER_RESPONSE = 18
    NO_ANSWER = 19
    CALL_REJECTED = 21
    NUMBER_CHANGED = 22
    DESTINATION_OUT_OF_ORDER = 27
    INVALID_NUMBER_FORMAT = 28
    NORMAL_UNSPECIFIED = 31
    NO_CIRCUIT_AVAILABLE = 34
    NETWORK_OUT_OF_ORDER = 38
    TEMPORARY_FAILURE = 41
    SWITCH_CONGESTION = 42
    CHANNEL_UNAVAILABLE = 44  # also: double seizure lost
    PROTOCOL_ERROR = 111
    RECOVERY_ON_TIMER_EXPIRY = 102


# Allowed call state changes (h11 style: a table, checked on every step). RELEASING and RELEASED
# are reachable from everywhere: a clear or a fault can come at any moment.
_NEXT: dict[CallState, frozenset[CallState]] = {
    CallState.IDLE: frozenset({CallState.SEIZED}),
    CallState.SEIZED: frozenset(
        {
            CallState.COLLECTING,
            CallState.OFFERED,
            CallState.ALERTING,
            CallState.PROCEEDING,
            CallState.ANSWERED,
        }
    ),
    CallState.COLLECTING: frozenset(
        {CallState.OFFERED, CallState.PROCEEDING, CallState.ALERTING, CallState.ANSWERED}
    ),
    CallState.OFFERED: frozenset({CallState.PROCEEDING, CallState.ALERTING, CallState.ANSWERED}),
    CallState.PROCEEDING: frozenset({CallState.ALERTING, CallState.ANSWERED}),
    CallState.ALERTING: frozenset({CallState.ANSWERED}),
    CallState.ANSWERED: frozenset(),
    CallState.RELEASING: frozenset({CallState.RELEASED}),
    CallState.RELEASED: frozenset(),
}


@dataclass
class Call:
    """One call on one channel. `times` holds the `now` (ms) at which each state was entered."""

    channel: int | str
    direction: Direction
    ani: str = ""  # calling number
    dnis: str = ""  # called number
    category: str = ""  # calling party category (R2 group II name; '' if unknown)
    redirecting: str = ""  # redirecting number where the line tells it
    name: str = ""  # calling name (caller ID)
    ani_restricted: bool = False
    state: CallState = CallState.IDLE
    cause: int | None = None  # Q.850 cause once releasing/released
    times: dict[CallState, float] = field(default_factory=dict)

    def to(self, state: CallState, now: float, event: str = "") -> None:
        """Move to `state` at `now` (ms); ProtocolError if the table does not allow it."""
        if state == self.state:
            return
        ok = state in _NEXT[self.state] or (
            state in (CallState.RELEASING, CallState.RELEASED) and self.state != CallState.RELEASED
        )
        if not ok:
            raise ProtocolError(
                f"call cannot go from {self.state.value} to {state.value}",
                self.channel,
                self.state.value,
                event,
            )
        self.state = state
        self.times[state] = now

    def release(self, cause: int, now: float, final: bool = False, event: str = "") -> None:
        """Enter releasing (or released when `final`), keeping the first cause given."""
        if self.cause is None:
            self.cause = cause
        self.to(CallState.RELEASED if final else CallState.RELEASING, now, event)

    @property
    def active(self) -> bool:
        """Not yet released."""
        return self.state not in (CallState.IDLE, CallState.RELEASED)


class CallMachine(ABC):
    """A channel's signalling machine (sans-IO): fed events and `now`, returns actions.

    Every protocol offers the same operations; one the line cannot do raises LocalProtocolError,
    as does one the current state does not allow. handle() never raises for what the far end
    does: a protocol violation becomes a release with a cause, reported in a CallEvent.
    """

    def __init__(self, channel: int | str) -> None:
        self.channel = channel
        self.call: Call | None = None

    # -- what every machine implements ---------------------------------------------------------

    @property
    @abstractmethod
    def state(self) -> str:
        """The machine's own state name (the spec's where it has one)."""

    @abstractmethod
    def handle(self, event: object, now: float) -> list[Action]:
        """Feed one input (a board event or a signalling input) that happened at `now` (ms)."""

    @abstractmethod
    def next_deadline(self) -> float | None:
        """The earliest `now` (ms) at which on_timeout must be called, None if no timer runs."""

    @abstractmethod
    def on_timeout(self, now: float) -> list[Action]:
        """Run the timers due at `now` (calling it early is harmless)."""

    @property
    def idle(self) -> bool:
        """The line is idle and free for a new call."""
        return self.call is None

    # -- call operations (defaults refuse) -----------------------------------------------------

    def _refuse(self, op: str) -> LocalProtocolError:
        return LocalProtocolError(f"{op} is not possible here", self.channel, self.state, op)

    def accept(self, now: float) -> list[Action]:
        """Incoming: take the offered call (it proceeds; the far end may be told to ring)."""
        raise self._refuse("accept")

    def alert(self, now: float) -> list[Action]:
        """Incoming: tell the far end the called party is being alerted."""
        raise self._refuse("alert")

    def answer(self, now: float) -> list[Action]:
        """Incoming: answer (start the conversation)."""
        raise self._refuse("answer")

    def reject(self, cause: int, now: float) -> list[Action]:
        """Incoming: refuse the offered call with a Q.850 cause."""
        raise self._refuse("reject")

    def hangup(self, now: float, cause: int = Cause.NORMAL_CLEARING) -> list[Action]:
        """Clear the call from our side."""
        raise self._refuse("hangup")

    def dial(self, number: str, now: float, ani: str = "", category: str = "") -> list[Action]:
        """Outgoing: seize the line and send `number` (ani and category where the line carries them)."""
        raise self._refuse("dial")

    def flash(self, now: float) -> list[Action]:
        """Hook flash (analog lines)."""
        raise self._refuse("flash")

    def transfer(self, number: str, now: float) -> list[Action]:
        """Blind transfer where the line supports it (analog: flash, dial)."""
        raise self._refuse("transfer")
