"""One E1 channel's MFC/R2 machine: Q.421 line signalling (R2Line) joined with the compelled
register (ForwardRegister when we call, BackwardRegister when called), for calls both ways.

Inputs: BitsChanged (ABCD), MfSignal (from the MF receiver the machine asked for with ListenMf),
ChannelAlarm. Outputs: SetBits, StartTone/StopTone, ListenMf, CallEvent.

The end of a received MF signal reaches the register only once it has lasted the variant's
mf_threshold: a compelled register acts on the other end's silence (the backward end stops its
answer, the forward end sends the next signal), so a dropout in the middle of one signal (a
stalled transmitter: its driver ran out of buffers) would otherwise count as that signal twice
and shift every later one.
"""

from __future__ import annotations

from ccboard.board.events import Alarm, BitsChanged, ChannelAlarm
from ccboard.errors import LocalProtocolError
from ccboard.signalling.actions import Action, CallEvent, ListenMf, MfSignal
from ccboard.signalling.call import Call, CallMachine, CallState, Cause, Direction
from ccboard.signalling.r2.line import LineState, R2Line
from ccboard.signalling.r2.register import (
    BWD,
    FWD,
    BackwardRegister,
    ForwardRegister,
    RegEvent,
    group_b_for_cause,
)
from ccboard.signalling.r2.variants import R2Variant

_FAIL_CAUSE = {"error": Cause.PROTOCOL_ERROR, "timeout": Cause.RECOVERY_ON_TIMER_EXPIRY}


class R2Channel(CallMachine):
    """MFC/R2 on one CAS channel, both directions, any variant row."""

    def __init__(self, variant: R2Variant, channel: int | str = "") -> None:
        super().__init__(channel)
        self.v = variant
        self.line = R2Line(variant, channel)
        self.fwd: ForwardRegister | None = None
        self.bwd: BackwardRegister | None = None
        self.answer_due: float | None = None  # outgoing: group B accepted, waiting answer
        self.answer_at: float | None = None  # incoming: send the answer signal then
        self.clear_due: float | None = None  # incoming: waiting for clear forward
        self.want_answer = False
        self.unexpected = 0  # line codes that made no sense (counted, not raised)
        self.mf_end: tuple[int, float] | None = None  # (signal, ms) of an MF end held back
        self.mf_bridged = 0  # MF dropouts bridged (a signal back within mf_threshold)

    @property
    def state(self) -> str:
        reg = self.fwd or self.bwd
        call = self.call.state.value if self.call else "idle"
        return f"{self.line.state.value}/{reg.state if reg else '-'}/{call}"

    def start(self) -> list[Action]:
        """Actions for start-up: idle on the line."""
        return self.line.start()

    # -- time ----------------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        reg = self.fwd or self.bwd
        ds = [
            self.line.next_deadline(),
            reg.next_deadline() if reg else None,
            self.answer_due,
            self.answer_at,
            self.clear_due,
            self.mf_end[1] + self.v.timers.mf_threshold if self.mf_end else None,
        ]
        known = [d for d in ds if d is not None]
        return min(known) if known else None

    def on_timeout(self, now: float) -> list[Action]:
        out: list[Action] = []
        if self.mf_end is not None and now >= self.mf_end[1] + self.v.timers.mf_threshold:
            out += self._mf_ended(now)
        acts, evs = self.line.on_timeout(now)
        out += acts
        out += self._line_events(evs, now)
        reg = self.fwd or self.bwd
        if reg is not None:
            racts, revs = reg.on_timeout(now)
            out += racts
            out += self._reg_events(revs, now)
        if self.answer_due is not None and now >= self.answer_due:
            self.answer_due = None
            out += self._fail(Cause.NO_ANSWER, now, "answer timer")
        if self.answer_at is not None and now >= self.answer_at:
            self.answer_at = None
            out += self._send_answer(now)
        if self.clear_due is not None and now >= self.clear_due:
            self.clear_due = None
            self.line.state = LineState.IDLE
            out += self.line.start()
            out += self._finish(now, "no clear forward (release guard timer)")
        return out

    # -- inputs ----------------------------------------------------------------------------------

    def handle(self, event: object, now: float) -> list[Action]:
        if isinstance(event, BitsChanged):
            acts, evs = self.line.on_bits(event.bits)
            return acts + self._line_events(evs, now)
        if isinstance(event, MfSignal):
            return self._mf(event.signal, event.on, now)
        if isinstance(event, ChannelAlarm):
            return self._alarm(event.alarms != Alarm.NONE, now)
        return []

    def _mf(self, signal: int, on: bool, now: float) -> list[Action]:
        """An MF edge from the receiver; an end is held back for mf_threshold (see above)."""
        if self.fwd is None and self.bwd is None:
            self.mf_end = None
            return []
        out: list[Action] = []
        hold = self.v.timers.mf_threshold
        if self.mf_end is not None:
            sig, at = self.mf_end
            if on and signal == sig and now - at < hold:
                self.mf_end = None  # the same signal back: a dropout, not an end
                self.mf_bridged += 1
                return []
            # a new edge after the end: the end stands, acted on when its hold ran out (or now)
            out += self._mf_ended(min(now, at + hold))
        reg = self.fwd or self.bwd
        if reg is None:
            return out
        if not on and hold > 0:
            self.mf_end = (signal, now)
            return out
        racts, revs = reg.on_signal(signal, on, now)
        return out + racts + self._reg_events(revs, now)

    def _mf_ended(self, now: float) -> list[Action]:
        """The held-back end of an MF signal stands: hand it to the register."""
        assert self.mf_end is not None
        sig, self.mf_end = self.mf_end[0], None
        reg = self.fwd or self.bwd
        if reg is None:
            return []
        racts, revs = reg.on_signal(sig, False, now)
        return racts + self._reg_events(revs, now)

    def _alarm(self, on: bool, now: float) -> list[Action]:
        out: list[Action] = []
        if on and self.call is not None:
            self.call.release(Cause.NETWORK_OUT_OF_ORDER, now, event="alarm")
            out += self._stop_register()
            acts, _ = self.line.alarm(True)
            return out + acts + self._finish(now, "span alarm")
        acts, evs = self.line.alarm(on)
        return out + acts + self._line_events(evs, now)

    def _line_events(self, evs: list[str], now: float) -> list[Action]:
        out: list[Action] = []
        for e in evs:
            out += self._line_event(e, now)
        return out

    def _line_event(self, e: str, now: float) -> list[Action]:
        call = self.call
        if e == "seize":
            if call is not None:  # cannot happen: the line refuses seizure when not idle
                return []
            self.call = Call(self.channel, Direction.INCOMING)
            self.call.to(CallState.SEIZED, now, e)
            self.bwd = BackwardRegister(self.v, self.channel)
            self.call.to(CallState.COLLECTING, now, e)
            return [*self.bwd.start(now), ListenMf(FWD), CallEvent("seized", self.call)]
        if e in ("blocked", "unblocked"):
            return [CallEvent(e, None)]
        if call is None:
            if e in ("idle", "release_guard_timeout", "clear_forward"):
                return []
            self.unexpected += 1
            return []
        if e == "seize_ack" and self.fwd is not None:
            call.to(CallState.COLLECTING, now, e)
            return [ListenMf(BWD), *self.fwd.start(now)]
        if e == "answer":
            if call.state == CallState.RELEASING:
                return []
            out = self._stop_register()
            self.answer_due = None
            call.to(CallState.ANSWERED, now, e)
            return [*out, CallEvent("answered", call)]
        if e in ("clear_back", "forced_release", "remote_idle", "double_seizure", "seize_ack_timeout"):
            cause = {
                "clear_back": Cause.NORMAL_CLEARING,
                "forced_release": Cause.NORMAL_CLEARING,
                "remote_idle": Cause.TEMPORARY_FAILURE,
                "double_seizure": Cause.CHANNEL_UNAVAILABLE,
                "seize_ack_timeout": Cause.RECOVERY_ON_TIMER_EXPIRY,
            }[e]
            return self._fail(cause, now, e.replace("_", " "))
        if e in ("idle", "release_guard_timeout"):
            return self._finish(now, e.replace("_", " "))
        if e == "clear_forward":
            if call.cause is None:
                call.release(Cause.NORMAL_CLEARING, now, event=e)
            return [*self._stop_register(), *self._finish(now, "clear forward")]
        if e == "unexpected":
            self.unexpected += 1
            return self._fail(Cause.PROTOCOL_ERROR, now, "unexpected line signal")
        return []

    def _reg_events(self, evs: list[RegEvent], now: float) -> list[Action]:
        out: list[Action] = []
        for kind, detail in evs:
            call = self.call
            if call is None or call.state == CallState.RELEASING and kind not in ("complete",):
                continue
            if kind == "offered" and self.bwd is not None:
                r = self.bwd
                call.dnis, call.ani = r.dnis, r.ani
                call.category = self.v.category_name(r.category)
                call.ani_restricted = r.ani_restricted
                call.to(CallState.OFFERED, now, kind)
                out.append(CallEvent("offered", call))
            elif kind == "accepted":
                self.fwd = None
                call.to(CallState.ALERTING, now, kind)
                self.answer_due = now + self.v.timers.answer
                out += [ListenMf(""), CallEvent("alerting", call, detail=detail)]
            elif kind == "rejected":
                out += self._fail(int(detail), now, "refused in group B")
            elif kind == "complete":
                self.bwd = None
                out.append(ListenMf(""))
                if detail == "accepted":
                    if self.want_answer:
                        self.answer_at = now + self.v.timers.answer_delay
                elif self.line.state == LineState.SEIZED_IN:
                    # refused: clear back and wait for the forward end's clear forward
                    out += self.line.clear_back()
                    self.clear_due = now + self.v.timers.release_guard
            else:
                out += self._fail(_FAIL_CAUSE.get(kind, Cause.PROTOCOL_ERROR), now, f"{kind}: {detail}")
        return out

    # -- ending calls ----------------------------------------------------------------------------

    def _stop_register(self) -> list[Action]:
        self.mf_end = None
        out: list[Action] = []
        reg = self.fwd or self.bwd
        if reg is not None:
            out += reg.stop()
            out.append(ListenMf(""))
        self.fwd = self.bwd = None
        return out

    def _fail(self, cause: int, now: float, detail: str) -> list[Action]:
        """Release the call from our side with `cause` (first cause wins)."""
        call = self.call
        if call is None:
            return []
        if call.state == CallState.RELEASING:
            return []
        call.release(cause, now, event=detail)
        out = self._stop_register()
        self.answer_due = self.answer_at = None
        out.append(CallEvent("releasing", call, call.cause, detail))
        line = self.line
        if line.outgoing:
            if line.state != LineState.CLEAR_FORWARD_SENT:
                out += line.clear_forward(now)
            if line.state == LineState.IDLE:
                out += self._finish(now, detail)
        elif line.state in (LineState.SEIZED_IN, LineState.ANSWERED_IN):
            out += line.clear_back()
            self.clear_due = now + self.v.timers.release_guard
        elif line.state in (LineState.CLEAR_BACK_SENT, LineState.FORCED_RELEASE_SENT):
            self.clear_due = self.clear_due or now + self.v.timers.release_guard
        else:
            out += self._finish(now, detail)
        return out

    def _finish(self, now: float, detail: str) -> list[Action]:
        """The line is idle again: the call is over."""
        call = self.call
        out = self._stop_register()
        self.answer_due = self.answer_at = self.clear_due = None
        self.want_answer = False
        self.call = None
        if call is None:
            return out
        call.release(Cause.NORMAL_CLEARING, now, final=True, event=detail)
        return [*out, CallEvent("released", call, call.cause, detail)]

    # -- operations --------------------------------------------------------------------------------

    def _need(self, op: str, *states: CallState) -> Call:
        if self.call is None or self.call.state not in states:
            raise self._refuse(op)
        return self.call

    def dial(self, number: str, now: float, ani: str = "", category: str = "") -> list[Action]:
        if self.call is not None:
            raise self._refuse("dial")
        for d in number + ani:
            if not d.isdigit():
                raise LocalProtocolError(
                    f"R2 carries decimal digits only, not {d!r}", self.channel, self.state, "dial"
                )
        acts = self.line.seize(now)
        self.call = Call(self.channel, Direction.OUTGOING, ani=ani, dnis=number, category=category)
        self.call.to(CallState.SEIZED, now, "dial")
        self.fwd = ForwardRegister(self.v, number, ani, category, channel=self.channel)
        return [*acts, CallEvent("seized", self.call)]

    def accept(self, now: float) -> list[Action]:
        call = self._need("accept", CallState.OFFERED)
        assert self.bwd is not None
        b = self.v.b
        sig = b.accept_no_charge if self.v.accept_signal == "accept_no_charge" else b.accept_charge
        call.to(CallState.PROCEEDING, now, "accept")
        return self.bwd.give(sig, now)

    def alert(self, now: float) -> list[Action]:
        call = self._need("alert", CallState.OFFERED, CallState.PROCEEDING)
        out = self.accept(now) if call.state == CallState.OFFERED else []
        call.to(CallState.ALERTING, now, "alert")
        return out

    def answer(self, now: float) -> list[Action]:
        call = self._need("answer", CallState.OFFERED, CallState.PROCEEDING, CallState.ALERTING)
        out = self.accept(now) if call.state == CallState.OFFERED else []
        if self.bwd is not None:
            self.want_answer = True  # after the group B cycle
            return out
        if self.answer_at is None:
            self.answer_at = now  # answer now (the B cycle is over)
        return out + self.on_timeout(now)

    def _send_answer(self, now: float) -> list[Action]:
        call = self.call
        if call is None or call.state == CallState.RELEASING or self.line.state != LineState.SEIZED_IN:
            return []
        call.to(CallState.ANSWERED, now, "answer")
        return [*self.line.answer(), CallEvent("answered", call)]

    def reject(self, cause: int, now: float) -> list[Action]:
        call = self._need("reject", CallState.OFFERED)
        assert self.bwd is not None
        call.release(cause, now, event="reject")
        return [*self.bwd.give(group_b_for_cause(self.v, cause), now), CallEvent("releasing", call, cause)]

    def hangup(self, now: float, cause: int = Cause.NORMAL_CLEARING) -> list[Action]:
        call = self.call
        if call is None:
            raise self._refuse("hangup")
        if call.state == CallState.RELEASING:
            return []
        if call.state == CallState.OFFERED:
            return self.reject(cause, now)
        return self._fail(cause, now, "hangup")

    def block(self, now: float) -> list[Action]:
        """Block the idle circuit (the far end must not seize it)."""
        if self.call is not None:
            raise self._refuse("block")
        return self.line.block()

    def unblock(self, now: float) -> list[Action]:
        return self.line.unblock()

    @property
    def idle(self) -> bool:
        return self.call is None and self.line.state == LineState.IDLE and not self.line.remote_blocked
