"""R2 line signalling on the ABCD bits (ITU-T Q.421, digital version; China's CD = 11).

Only A and B carry line signals; C and D are static (the variant's `cd`). The same AB code means
different things by direction and state (11 is seizure acknowledgement, clear-back or blocking),
so decoding is done here, in the state, and the result is a line event for the protocol:
  seize, seize_ack, answer, clear_back, clear_forward, idle (release guard seen: the line is
  idle again), blocked, unblocked, double_seizure, forced_release, remote_idle (the far end went
  idle without clearing), unexpected, seize_ack_timeout, release_guard_timeout.
"""

from __future__ import annotations

from enum import Enum

from ccboard.errors import LocalProtocolError
from ccboard.signalling.actions import Action, SetBits
from ccboard.signalling.r2.variants import R2Variant


class LineState(Enum):
    IDLE = "idle"
    BLOCKED = "blocked"  # we sent blocking (from idle)
    SEIZE_SENT = "seize-sent"  # outgoing: seizure sent, waiting for the acknowledgement
    SEIZE_ACKED = "seize-acked"  # outgoing: acknowledged; register phase, then waiting answer
    ANSWERED_OUT = "answered-out"  # outgoing: answer received
    CLEAR_BACK_RECEIVED = "clear-back-received"
    CLEAR_FORWARD_SENT = "clear-forward-sent"  # waiting for the release guard (backward idle)
    SEIZED_IN = "seized-in"  # incoming: seizure received, acknowledged
    ANSWERED_IN = "answered-in"  # incoming: answer sent
    CLEAR_BACK_SENT = "clear-back-sent"  # incoming: waiting for clear forward
    FORCED_RELEASE_SENT = "forced-release-sent"  # incoming: waiting for clear forward
    ALARM = "alarm"  # the span is in alarm: no signalling


_OUT = {
    LineState.SEIZE_SENT,
    LineState.SEIZE_ACKED,
    LineState.ANSWERED_OUT,
    LineState.CLEAR_BACK_RECEIVED,
    LineState.CLEAR_FORWARD_SENT,
}
_IN = {LineState.SEIZED_IN, LineState.ANSWERED_IN, LineState.CLEAR_BACK_SENT, LineState.FORCED_RELEASE_SENT}


class R2Line:
    """One channel's Q.421 line signalling. Methods return the actions to take; on_bits and
    on_timeout also return line events (strings, see the module docstring)."""

    def __init__(self, variant: R2Variant, channel: int | str = "") -> None:
        self.v = variant
        self.channel = channel
        self.state = LineState.IDLE
        self.rx_ab = 0b10  # what the far end sends, AB only; assume idle until told
        self.remote_blocked = False
        self.tx_bits = variant.bits("idle")
        self.seize_ack_due: float | None = None
        self.release_guard_due: float | None = None

    # -- helpers -------------------------------------------------------------------------------

    def _send(self, signal: str) -> list[Action]:
        self.tx_bits = self.v.bits(signal)
        return [SetBits(self.tx_bits)]

    def _refuse(self, op: str) -> LocalProtocolError:
        return LocalProtocolError(f"line signal {op} not allowed", self.channel, self.state.value, op)

    @property
    def outgoing(self) -> bool:
        return self.state in _OUT

    @property
    def incoming(self) -> bool:
        return self.state in _IN

    def next_deadline(self) -> float | None:
        ds = [d for d in (self.seize_ack_due, self.release_guard_due) if d is not None]
        return min(ds) if ds else None

    def start(self) -> list[Action]:
        """Put idle on the line (at start-up)."""
        return self._send("idle")

    # -- our signals ---------------------------------------------------------------------------

    def seize(self, now: float) -> list[Action]:
        if self.state != LineState.IDLE or self.remote_blocked or self.rx_ab != 0b10:
            raise self._refuse("seize")
        self.state = LineState.SEIZE_SENT
        self.seize_ack_due = now + self.v.timers.seize_ack
        return self._send("seize")

    def answer(self) -> list[Action]:
        if self.state != LineState.SEIZED_IN:
            raise self._refuse("answer")
        self.state = LineState.ANSWERED_IN
        return self._send("answer")

    def clear_back(self) -> list[Action]:
        """Incoming end clears (or refuses after the register phase)."""
        if self.state not in (LineState.SEIZED_IN, LineState.ANSWERED_IN):
            raise self._refuse("clear_back")
        self.state = LineState.CLEAR_BACK_SENT
        return self._send("clear_back")

    def forced_release(self) -> list[Action]:
        if self.state not in (LineState.SEIZED_IN, LineState.ANSWERED_IN, LineState.CLEAR_BACK_SENT):
            raise self._refuse("forced_release")
        self.state = LineState.FORCED_RELEASE_SENT
        return self._send("forced_release")

    def clear_forward(self, now: float) -> list[Action]:
        """Outgoing end clears; the line is idle once the far end sends idle (release guard)."""
        if self.state not in _OUT or self.state == LineState.CLEAR_FORWARD_SENT:
            raise self._refuse("clear_forward")
        self.seize_ack_due = None
        acts = self._send("clear_forward")
        if self.rx_ab == 0b10:
            self.state = LineState.IDLE  # the far end is idle already: nothing to wait for
        else:
            self.state = LineState.CLEAR_FORWARD_SENT
            self.release_guard_due = now + self.v.timers.release_guard
        return acts

    def block(self) -> list[Action]:
        if self.state != LineState.IDLE:
            raise self._refuse("block")
        self.state = LineState.BLOCKED
        return self._send("blocked")

    def unblock(self) -> list[Action]:
        if self.state != LineState.BLOCKED:
            raise self._refuse("unblock")
        self.state = LineState.IDLE
        acts = self._send("idle")
        return acts

    # -- the far end -----------------------------------------------------------------------------

    def alarm(self, on: bool) -> tuple[list[Action], list[str]]:
        """The span went into (on) or out of alarm: calls are lost; signalling resumes after."""
        if on:
            self.state = LineState.ALARM
            self.seize_ack_due = self.release_guard_due = None
            return self._send("idle"), []
        if self.state != LineState.ALARM:
            return [], []
        self.state = LineState.IDLE
        self.remote_blocked = False
        ab, self.rx_ab = self.rx_ab, 0b10
        return self._on_ab(ab)

    def on_bits(self, bits: int) -> tuple[list[Action], list[str]]:
        """ABCD received (low 4 bits)."""
        ab = (bits >> 2) & 0b11
        if ab == self.rx_ab:
            return [], []
        return self._on_ab(ab)

    def _on_ab(self, ab: int) -> tuple[list[Action], list[str]]:
        self.rx_ab = ab
        s = self.state
        S = LineState
        if s == S.ALARM:
            return [], []
        if s in (S.IDLE, S.BLOCKED):
            if ab == 0b00:
                if s == S.BLOCKED:
                    return [], ["unexpected"]  # seizing a circuit we block: ignore it
                self.remote_blocked = False
                self.state = S.SEIZED_IN
                return self._send("seize_ack"), ["seize"]
            if ab == 0b11:
                self.remote_blocked = True
                return [], ["blocked"]
            if ab == 0b10:
                if self.remote_blocked:
                    self.remote_blocked = False
                    return [], ["unblocked"]
                return [], []
            return [], ["unexpected"]
        if s == S.SEIZE_SENT:
            if ab == 0b11:
                self.state = S.SEIZE_ACKED
                self.seize_ack_due = None
                return [], ["seize_ack"]
            if ab == 0b00:
                return [], ["double_seizure"]
            if ab == 0b01:
                return [], ["unexpected"]
            return [], []
        if s in (S.SEIZE_ACKED, S.ANSWERED_OUT, S.CLEAR_BACK_RECEIVED):
            if ab == 0b01:
                if s == S.ANSWERED_OUT:
                    return [], []
                self.state = S.ANSWERED_OUT
                return [], ["answer"]
            if ab == 0b11:
                if s == S.ANSWERED_OUT:
                    self.state = S.CLEAR_BACK_RECEIVED
                    return [], ["clear_back"]
                return [], []
            if ab == 0b00:
                return [], ["forced_release"]
            return [], ["remote_idle"]
        if s == S.CLEAR_FORWARD_SENT:
            if ab == 0b10:
                self.state = S.IDLE
                self.release_guard_due = None
                return [], ["idle"]
            return [], []
        # incoming states: only idle (clear forward) and seize are forward line signals
        if ab == 0b10:
            self.state = S.IDLE
            return self._send("idle"), ["clear_forward"]
        if ab == 0b00:
            return [], []
        return [], ["unexpected"]

    def on_timeout(self, now: float) -> tuple[list[Action], list[str]]:
        if self.seize_ack_due is not None and now >= self.seize_ack_due:
            self.seize_ack_due = None
            return [], ["seize_ack_timeout"]
        if self.release_guard_due is not None and now >= self.release_guard_due:
            self.release_guard_due = None
            self.state = LineState.IDLE
            ab, self.rx_ab = self.rx_ab, 0b10
            acts, evs = self._on_ab(ab) if ab != 0b10 else ([], [])
            return acts, ["release_guard_timeout", *evs]
        return [], []
