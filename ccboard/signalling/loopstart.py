"""Analog loop start, both sides, as sans-IO machines.

FxoLoopStart: our port is the phone on an exchange line. Ringing (RingChanged, with the cadence
measured), caller ID between rings (CallerIdReceived, when a decoder is plugged in), answer by
closing the loop; far-end disconnect by loop-current drop (HookChanged offhook=False lasting
disconnect_ms) or by a busy/congestion tone (ProgressTone from the tone engine); dial out after
dial tone (or blind after dialtone_timeout_ms) with DTMF; flash and blind transfer.
Loop start has no answer supervision: an outgoing call counts as answered once dialled.

FxsLoopStart: our port feeds an agent's phone. Rings it with the zone's cadence (Ring on/off),
caller ID after the first ring; sees off-hook, on-hook and flash (the board debounces those);
collects the digits the phone dials (Digit events) with first-digit and inter-digit timers.
Times in ms.
"""

from __future__ import annotations

from ccboard.board.events import Alarm, ChannelAlarm, Digit, HookChanged, HookFlash, RingChanged
from ccboard.signalling.actions import (
    Action,
    CallerIdReceived,
    CallEvent,
    DigitsDone,
    PlayDigits,
    PlayProgress,
    ProgressTone,
    Ring,
    SendCallerId,
    SetHook,
)
from ccboard.signalling.call import Call, CallMachine, CallState, Cause, Direction

# Ring cadences (on/off ms, repeating), libtonezone zonedata via REFERENCE.md.
RING_CADENCES_MS: dict[str, tuple[int, ...]] = {
    "us": (2000, 4000),
    "uk": (400, 200, 400, 2000),
    "de": (1000, 4000),
    "cn": (1000, 4000),
}


class _Base(CallMachine):
    def __init__(self, channel: int | str) -> None:
        super().__init__(channel)
        self._state = "idle"
        self.timers: dict[str, float] = {}

    @property
    def state(self) -> str:
        return self._state

    def next_deadline(self) -> float | None:
        return min(self.timers.values()) if self.timers else None

    def _due(self, now: float) -> list[str]:
        due = sorted((t, k) for k, t in self.timers.items() if t <= now)
        for _, k in due:
            del self.timers[k]
        return [k for _, k in due]

    def _end(self, cause: int, now: float, detail: str, state: str = "idle") -> list[Action]:
        """The call is over (released); the port goes to `state`."""
        call = self.call
        self.call = None
        self._state = state
        for k in list(self.timers):
            if k not in ("lockout", "ignore"):
                del self.timers[k]
        if call is None:
            return []
        call.release(cause, now, final=True, event=detail)
        return [CallEvent("released", call, call.cause, detail)]


class FxoLoopStart(_Base):
    """Loop start, FXO side (we are the phone)."""

    def __init__(
        self,
        channel: int | str = "",
        *,
        callerid: bool = False,
        min_ring_ms: float = 150,
        ring_timeout_ms: float = 8000,
        disconnect_ms: float = 250,
        dialtone_timeout_ms: float = 3000,
        blind_dial: bool = True,
        flash_ms: float = 250,
        transfer_wait_ms: float = 500,
    ) -> None:
        super().__init__(channel)
        self.callerid = callerid
        self.min_ring_ms = min_ring_ms
        self.ring_timeout_ms = ring_timeout_ms
        self.disconnect_ms = disconnect_ms
        self.dialtone_timeout_ms = dialtone_timeout_ms
        self.blind_dial = blind_dial
        self.flash_ms = flash_ms
        self.transfer_wait_ms = transfer_wait_ms
        self.ring_on_at: float | None = None
        self.rings = 0
        self.cadence: list[float] = []  # measured ring on/off durations (ms)
        self.current = False  # loop current seen
        self.pending_digits = ""  # dial after the dial tone / after a flash
        self._transfer = False
        self.alarm = False

    def on_timeout(self, now: float) -> list[Action]:
        out: list[Action] = []
        for k in self._due(now):
            if k == "ring" and self.call is not None:
                out += self._end(Cause.NORMAL_CLEARING, now, "ringing stopped before answer")
            elif k == "ignore":
                self._state = "idle"
            elif k == "disconnect" and self.call is not None:
                out += [SetHook(False), *self._end(Cause.NORMAL_CLEARING, now, "loop current dropped")]
            elif k == "dialtone" and self.call is not None:
                if self.blind_dial:
                    out += self._dial_now(now)
                else:
                    out += [SetHook(False), *self._end(Cause.NO_CIRCUIT_AVAILABLE, now, "no dial tone")]
            elif k == "flash":
                out.append(SetHook(True))
                self._state = "answered"
                if self._transfer:
                    self._transfer = False
                    self.timers["transfer"] = now + self.transfer_wait_ms
            elif k == "transfer" and self.call is not None:
                self._state = "transferring"
                out.append(PlayDigits(self.pending_digits))
                self.pending_digits = ""
        return out

    def handle(self, event: object, now: float) -> list[Action]:
        if isinstance(event, RingChanged):
            return self._ring(event.ringing, now)
        if isinstance(event, HookChanged):
            self.current = event.offhook
            if self._state in ("answered", "dialing", "waiting-dialtone", "transferring"):
                if event.offhook:
                    self.timers.pop("disconnect", None)
                else:
                    self.timers["disconnect"] = now + self.disconnect_ms
            return []
        if isinstance(event, CallerIdReceived):
            call = self.call
            if call is None or call.direction != Direction.INCOMING:
                return []
            call.ani, call.name = event.number, event.name
            call.redirecting, call.ani_restricted = event.redirecting, event.restricted
            if call.state == CallState.SEIZED:
                return self._offer(now)
            return []
        if isinstance(event, ProgressTone):
            return self._tone(event, now)
        if isinstance(event, DigitsDone):
            call = self.call
            if call is None:
                return []
            if self._state == "transferring":
                return [SetHook(False), *self._end(Cause.NORMAL_CLEARING, now, "transferred")]
            if self._state == "dialing":
                call.to(CallState.PROCEEDING, now, "digits sent")
                call.to(CallState.ANSWERED, now, "digits sent (no answer supervision)")
                self._state = "answered"
                return [CallEvent("answered", call)]
            return []
        if isinstance(event, ChannelAlarm):
            self.alarm = event.alarms != Alarm.NONE
            if self.alarm and self.call is not None:
                hook = [SetHook(False)] if self._state != "ringing" else []
                return hook + self._end(Cause.NETWORK_OUT_OF_ORDER, now, "line lost")
        return []

    def _ring(self, on: bool, now: float) -> list[Action]:
        if self._state not in ("idle", "ringing", "ignoring"):
            return []
        if on:
            self.ring_on_at = now
            if self._state == "ringing" and self.call is not None and self.call.state == CallState.SEIZED:
                return self._offer(now)  # the second ring: no caller ID came
            return []
        if self.ring_on_at is None:
            return []
        length = now - self.ring_on_at
        self.ring_on_at = None
        if length < self.min_ring_ms:
            return []  # too short: not a ring
        self.cadence.append(length)
        self.rings += 1
        if self._state == "ignoring":
            self.timers["ignore"] = now + self.ring_timeout_ms
            return []
        self.timers["ring"] = now + self.ring_timeout_ms
        if self._state == "idle":
            self._state = "ringing"
            self.call = Call(self.channel, Direction.INCOMING)
            self.call.to(CallState.SEIZED, now, "ring")
            self.rings = 1
            self.cadence = [length]
            if not self.callerid:
                return self._offer(now)
            return [CallEvent("seized", self.call)]
        return []

    def _offer(self, now: float) -> list[Action]:
        assert self.call is not None
        self.call.to(CallState.OFFERED, now, "ring")
        return [CallEvent("offered", self.call)]

    def _tone(self, ev: ProgressTone, now: float) -> list[Action]:
        call = self.call
        if call is None or not ev.on:
            return []
        if ev.kind == "dial" and self._state == "waiting-dialtone":
            self.timers.pop("dialtone", None)
            return self._dial_now(now)
        if ev.kind in ("busy", "congestion") and self._state in ("answered", "dialing", "waiting-dialtone"):
            if call.state == CallState.ANSWERED:
                cause = Cause.NORMAL_CLEARING
            else:
                cause = Cause.USER_BUSY if ev.kind == "busy" else Cause.SWITCH_CONGESTION
            return [SetHook(False), *self._end(cause, now, f"{ev.kind} tone")]
        if ev.kind == "ringback" and call.state == CallState.PROCEEDING:
            call.to(CallState.ALERTING, now, "ringback")
            return [CallEvent("alerting", call)]
        return []

    def _dial_now(self, now: float) -> list[Action]:
        self._state = "dialing"
        digits, self.pending_digits = self.pending_digits, ""
        return [PlayDigits(digits)]

    # -- operations --------------------------------------------------------------------------------

    def answer(self, now: float) -> list[Action]:
        call = self.call
        if call is None or call.state not in (CallState.SEIZED, CallState.OFFERED):
            raise self._refuse("answer")
        call.to(CallState.ANSWERED, now, "answer")
        self.timers.pop("ring", None)
        self._state = "answered"
        return [SetHook(True), CallEvent("answered", call)]

    def accept(self, now: float) -> list[Action]:
        if self.call is None or self.call.state != CallState.OFFERED:
            raise self._refuse("accept")
        return []  # nothing to tell an exchange before answering

    def alert(self, now: float) -> list[Action]:
        return self.accept(now)

    def reject(self, cause: int, now: float) -> list[Action]:
        """Let it ring: the exchange will give up; rings are ignored until then."""
        if self.call is None or self.call.state not in (CallState.SEIZED, CallState.OFFERED):
            raise self._refuse("reject")
        self.timers["ignore"] = now + self.ring_timeout_ms
        return self._end(cause, now, "rejected (not answered)", state="ignoring")

    def hangup(self, now: float, cause: int = Cause.NORMAL_CLEARING) -> list[Action]:
        if self.call is None:
            raise self._refuse("hangup")
        if self._state == "ringing":
            return self.reject(cause, now)
        return [SetHook(False), *self._end(cause, now, "hangup")]

    def dial(self, number: str, now: float, ani: str = "", category: str = "") -> list[Action]:
        if self.call is not None or self._state != "idle" or self.alarm:
            raise self._refuse("dial")
        for d in number:
            if d not in "0123456789*#ABCD":
                raise self._refuse(f"dial {d!r}")
        self.call = Call(self.channel, Direction.OUTGOING, dnis=number, ani=ani)
        self.call.to(CallState.SEIZED, now, "dial")
        self.call.to(CallState.COLLECTING, now, "dial")
        self.pending_digits = number
        self._state = "waiting-dialtone"
        self.timers["dialtone"] = now + self.dialtone_timeout_ms
        return [SetHook(True), CallEvent("seized", self.call)]

    def flash(self, now: float) -> list[Action]:
        if self.call is None or self._state != "answered":
            raise self._refuse("flash")
        self._state = "flash"
        self.timers.pop("disconnect", None)
        self.timers["flash"] = now + self.flash_ms
        return [SetHook(False)]

    def transfer(self, number: str, now: float) -> list[Action]:
        """Blind transfer: flash, wait transfer_wait_ms, dial, hang up."""
        out = self.flash(now)
        self._transfer = True
        self.pending_digits = number
        return out


class FxsLoopStart(_Base):
    """Loop start, FXS side (we feed the phone)."""

    def __init__(
        self,
        channel: int | str = "",
        *,
        zone: str = "us",
        callerid: bool = True,
        ring_timeout_ms: float = 60000,
        first_digit_ms: float = 10000,
        interdigit_ms: float = 4000,
        max_digits: int = 20,
    ) -> None:
        super().__init__(channel)
        self.cadence = RING_CADENCES_MS.get(zone, RING_CADENCES_MS["us"])
        self.callerid = callerid
        self.ring_timeout_ms = ring_timeout_ms
        self.first_digit_ms = first_digit_ms
        self.interdigit_ms = interdigit_ms
        self.max_digits = max_digits
        self.offhook = False
        self.ring_step = 0
        self.ringing = False
        self._cid_sent = False

    def on_timeout(self, now: float) -> list[Action]:
        out: list[Action] = []
        for k in self._due(now):
            call = self.call
            if k == "cadence" and call is not None and self._state == "ringing":
                out += self._cadence_step(now)
            elif k == "noanswer" and call is not None and self._state == "ringing":
                out += [Ring(False), *self._end(Cause.NO_ANSWER, now, "no answer")]
            elif k == "digits" and call is not None and self._state == "collecting":
                if call.dnis:
                    call.to(CallState.OFFERED, now, "inter-digit timer")
                    self._state = "offered"
                    out.append(CallEvent("offered", call))
                else:
                    out += [
                        PlayProgress("congestion"),
                        *self._end(Cause.INVALID_NUMBER_FORMAT, now, "no digits", state="lockout"),
                    ]
        return out

    def _cadence_step(self, now: float) -> list[Action]:
        self.ring_step = (self.ring_step + 1) % len(self.cadence)
        on = self.ring_step % 2 == 0
        self.ringing = on
        self.timers["cadence"] = now + self.cadence[self.ring_step]
        out: list[Action] = [Ring(on)]
        call = self.call
        if not on and not self._cid_sent and self.callerid and call is not None and (call.ani or call.name):
            self._cid_sent = True
            out.append(SendCallerId(call.ani, call.name))  # between the first and second ring
        return out

    def handle(self, event: object, now: float) -> list[Action]:
        if isinstance(event, HookChanged):
            self.offhook = event.offhook
            return self._hook(event.offhook, now)
        if isinstance(event, HookFlash):
            if self.call is not None and self.call.state == CallState.ANSWERED:
                return [CallEvent("flash", self.call)]
            return []
        if isinstance(event, Digit):
            call = self.call
            if event.kind != "on" or call is None or self._state != "collecting":
                return []
            out: list[Action] = [PlayProgress("")] if not call.dnis else []
            if event.digit == "#" and call.dnis:
                self.timers.pop("digits", None)
                call.to(CallState.OFFERED, now, "#")
                self._state = "offered"
                return [*out, CallEvent("offered", call)]
            call.dnis += event.digit
            if len(call.dnis) >= self.max_digits:
                self.timers.pop("digits", None)
                call.to(CallState.OFFERED, now, "max digits")
                self._state = "offered"
                return [*out, CallEvent("offered", call)]
            self.timers["digits"] = now + self.interdigit_ms
            return [*out, CallEvent("digits", call, detail=event.digit)]
        if isinstance(event, ChannelAlarm):
            if event.alarms != Alarm.NONE and self.call is not None:
                ring = [Ring(False)] if self._state == "ringing" else []
                return ring + self._end(Cause.DESTINATION_OUT_OF_ORDER, now, "port alarm")
        return []

    def _hook(self, offhook: bool, now: float) -> list[Action]:
        if offhook:
            if self._state == "idle":
                self.call = Call(self.channel, Direction.INCOMING)
                self.call.to(CallState.SEIZED, now, "off-hook")
                self.call.to(CallState.COLLECTING, now, "off-hook")
                self._state = "collecting"
                self.timers["digits"] = now + self.first_digit_ms
                return [PlayProgress("dial"), CallEvent("seized", self.call)]
            if self._state == "ringing" and self.call is not None:
                self.timers.pop("cadence", None)
                self.timers.pop("noanswer", None)
                self.call.to(CallState.ANSWERED, now, "off-hook")
                self._state = "answered"
                out: list[Action] = [Ring(False)] if self.ringing else []
                self.ringing = False
                return [*out, CallEvent("answered", self.call)]
            return []
        # on hook: whatever was going on is over
        if self._state == "lockout":
            self._state = "idle"
            return [PlayProgress("")]
        if self.call is not None:
            return [PlayProgress(""), *self._end(Cause.NORMAL_CLEARING, now, "on-hook")]
        return []

    # -- operations --------------------------------------------------------------------------------

    def dial(self, number: str, now: float, ani: str = "", category: str = "") -> list[Action]:
        """Ring the phone (number is the extension, kept in dnis); ani/name go out as caller ID."""
        if self.call is not None or self._state != "idle" or self.offhook:
            raise self._refuse("dial")
        self.call = Call(self.channel, Direction.OUTGOING, dnis=number, ani=ani)
        self.call.to(CallState.SEIZED, now, "ring")
        self.call.to(CallState.ALERTING, now, "ring")
        self._state = "ringing"
        self._cid_sent = False
        self.ring_step = 0
        self.ringing = True
        self.timers["cadence"] = now + self.cadence[0]
        self.timers["noanswer"] = now + self.ring_timeout_ms
        return [Ring(True), CallEvent("alerting", self.call)]

    def _need(self, op: str, *states: CallState) -> Call:
        if self.call is None or self.call.state not in states:
            raise self._refuse(op)
        return self.call

    def accept(self, now: float) -> list[Action]:
        call = self._need("accept", CallState.OFFERED)
        call.to(CallState.PROCEEDING, now, "accept")
        return []

    def alert(self, now: float) -> list[Action]:
        call = self._need("alert", CallState.OFFERED, CallState.PROCEEDING)
        call.to(CallState.ALERTING, now, "alert")
        return [PlayProgress("ringback")]

    def answer(self, now: float) -> list[Action]:
        call = self._need("answer", CallState.OFFERED, CallState.PROCEEDING, CallState.ALERTING)
        call.to(CallState.ANSWERED, now, "answer")
        self._state = "answered"
        return [PlayProgress(""), CallEvent("answered", call)]

    def reject(self, cause: int, now: float) -> list[Action]:
        self._need("reject", CallState.OFFERED, CallState.PROCEEDING)
        tone = "busy" if cause == Cause.USER_BUSY else "congestion"
        return [PlayProgress(tone), *self._end(cause, now, "rejected", state="lockout")]

    def hangup(self, now: float, cause: int = Cause.NORMAL_CLEARING) -> list[Action]:
        if self.call is None:
            raise self._refuse("hangup")
        if self._state == "ringing":
            return [Ring(False), *self._end(cause, now, "hangup while ringing")]
        # the phone is off hook: give it busy tone until it hangs up
        return [PlayProgress("busy"), *self._end(cause, now, "hangup", state="lockout")]
