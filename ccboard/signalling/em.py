"""T1 robbed-bit E&M trunks, wink start and immediate start, DTMF or MF R1 addressing, as a
sans-IO machine (both directions on one channel).

Line signals ride the A bit of the robbed ABCD bits (DAHDI's E&M, dahdi-base.c: on-hook sends
ABCD 0000, off-hook 1111; A low is the idle state, dahdi_q_sig). Received A high = the far end is
off hook (seizing, winking, answering); A low = on hook.

Wink start (outgoing): we go off hook (seizure); the far end answers with a wink, an off-hook
pulse of 140-290 ms (Bellcore/Telcordia LSSGR, GR-506; DAHDI accepts received winks up to its
rxwinktime, 300 ms, and sends winktime = 150 ms after prewinktime = 50 ms: DAHDI_DEFAULT_* in
dahdi/kernel.h); after the wink we send the address; the far end's steady off-hook is the answer.
Incoming is the mirror image: a seizure is answered with our wink, then the address is collected.
Immediate start skips the wink: the address follows the seizure after a short delay.

Address signalling: DTMF (digits then the `end` digit, '#' by default) or MF R1 (KP digits ST,
KP = '*', ST = '#' in the MF kernel's R1 symbols). A trunk configured with `ani` carries the
calling number first, after Feature Group D (without its II digits): MF "KP ANI ST KP DNIS
ST", DTMF "*ANI*DNIS#".
Collection ends on the end signal, on `max_digits`, or on the inter-digit timer; chan_dahdi's
analog_ss_thread timers are the defaults (firstdigittimeout 16 s, gendigittimeout 8 s).

E&M carries no release cause: a far-end on-hook is normal clearing (Q.850 16); a refusal plays
busy in band and waits for the caller to clear; what the timers end carries cause 102, a span
alarm 38, glare (a seizure where a wink was expected that outlasts rxwinktime) 44; immediate
start cannot tell glare from an early answer (no wink to miss), as on real trunks. After a clear
the line stays in a guard time before a new seizure is taken or made; a far end that stays off
hook after we cleared (disconnect_wait) leaves the trunk locked out until it goes on hook.

Inputs: BitsChanged, ChannelAlarm, Digit (DTMF onsets from the board's receiver), MfSignal (from
the MF R1 receiver asked for with ListenMf('r1')), DigitsDone. Outputs: SetBits, PlayDigits,
PlayMf, ListenMf, PlayProgress, CallEvent. Times in ms.
"""

from __future__ import annotations

from dataclasses import dataclass

from ccboard.board.events import Alarm, BitsChanged, ChannelAlarm, Digit
from ccboard.errors import LocalProtocolError
from ccboard.signalling.actions import (
    Action,
    CallEvent,
    DigitsDone,
    ListenMf,
    MfSignal,
    PlayDigits,
    PlayProgress,
    SetBits,
)
from ccboard.signalling.call import Call, CallMachine, CallState, Cause, Direction

ONHOOK_BITS = 0b0000  # DAHDI E&M: ABCD on hook
OFFHOOK_BITS = 0b1111  # ABCD off hook
A_BIT = 0b1000
R1 = "r1"
# MF R1 symbols of signals 1..15 (ccboard.dsp.mf: "1234567890CA*B#"; KP '*', ST '#')
R1_SYMBOLS = "1234567890CA*B#"
KP, ST = "*", "#"


@dataclass(frozen=True, slots=True)
class PlayMf(Action):
    """Send MF R1 symbols (KP '*', ST '#', digits) with the kernel's R1 timing (68 ms tones,
    KP 100 ms, 68 ms gaps: REFERENCE.md "MF R1"); the driver answers DigitsDone when sent."""

    symbols: str


@dataclass(frozen=True)
class EmTimers:
    """Timer lengths in ms; the source of each figure in its comment."""

    prewink: int = 50  # seizure seen -> our wink starts (DAHDI_DEFAULT_PREWINKTIME)
    wink: int = 150  # our wink (DAHDI_DEFAULT_WINKTIME; GR-506 window 140-290)
    wink_min: int = 100  # shortest received off-hook pulse taken as a wink (GR-506 140 ms, less
    # the 6 ms robbed-bit debounce and the far end's timing slack)
    wink_max: int = 300  # longest received wink (DAHDI_DEFAULT_RXWINKTIME)
    wink_wait: int = 5000  # seizure sent, no wink: the far end is not taking it (our choice)
    post_wink: int = 100  # wink over -> first address digit (lets the far receiver attach; ours)
    immediate_delay: int = 150  # immediate start: seizure -> first digit (our choice)
    first_digit: int = 16000  # seized, no digit yet (chan_dahdi firstdigittimeout)
    interdigit: int = 8000  # between digits (chan_dahdi gendigittimeout)
    disconnect_wait: int = 5000  # we went on hook, the far end stays off hook (our choice)
    guard: int = 750  # both on hook -> line free again (release guard; our choice)
    answer: int = 0  # outgoing: address sent, no answer (0: wait for ever, E&M's default)


class EmChannel(CallMachine):
    """E&M on one T1 robbed-bit channel: start 'wink' or 'immediate', address 'dtmf' or 'mf'."""

    def __init__(
        self,
        channel: int | str = "",
        *,
        start: str = "wink",
        address: str = "dtmf",
        ani: bool = False,
        max_digits: int = 0,
        end: str = "#",
        timers: EmTimers | None = None,
    ) -> None:
        super().__init__(channel)
        if start not in ("wink", "immediate"):
            raise ValueError(f"E&M start must be 'wink' or 'immediate', not {start!r}")
        if address not in ("dtmf", "mf"):
            raise ValueError(f"E&M address signalling must be 'dtmf' or 'mf', not {address!r}")
        self.start_kind = start
        self.address = address
        self.ani = ani
        self.max_digits = max_digits
        self.end = end
        self.t = timers or EmTimers()
        self._state = "idle"
        self.remote_offhook = False
        self.remote_since = 0.0  # when the far end's A bit last changed
        self.offhook = False  # what we send
        self.alarm = False
        self.timers: dict[str, float] = {}
        self.got = ""  # address symbols collected (incoming)
        self.groups: list[str] = []  # MF: finished KP..ST groups
        self.mf_open = False  # MF: KP seen, ST not yet

    # -- machine interface -----------------------------------------------------------------------

    @property
    def state(self) -> str:
        return self._state

    @property
    def idle(self) -> bool:
        return self.call is None and self._state == "idle" and not self.remote_offhook

    def next_deadline(self) -> float | None:
        return min(self.timers.values()) if self.timers else None

    def start(self) -> list[Action]:
        """Actions for start-up: on hook on the line."""
        return self._hook(False)

    def _hook(self, offhook: bool) -> list[Action]:
        self.offhook = offhook
        return [SetBits(OFFHOOK_BITS if offhook else ONHOOK_BITS)]

    def _listen(self) -> list[Action]:
        return [ListenMf(R1)] if self.address == "mf" else []

    def _deaf(self) -> list[Action]:
        return [ListenMf("")] if self.address == "mf" else []

    # -- inputs ------------------------------------------------------------------------------------

    def handle(self, event: object, now: float) -> list[Action]:
        if isinstance(event, BitsChanged):
            off = bool(event.bits & A_BIT)
            if off == self.remote_offhook:
                return []
            self.remote_offhook = off
            held = now - self.remote_since
            self.remote_since = now
            if self.alarm:
                return []
            return self._remote(off, held, now)
        if isinstance(event, ChannelAlarm):
            return self._on_alarm(event.alarms != Alarm.NONE, now)
        if isinstance(event, Digit):
            if self.address == "dtmf" and event.kind == "on" and self._state == "collecting":
                return self._symbol(event.digit, now)
            return []
        if isinstance(event, MfSignal):
            if self.address == "mf" and event.on and self._state == "collecting" and 1 <= event.signal <= 15:
                return self._symbol(R1_SYMBOLS[event.signal - 1], now)
            return []
        if isinstance(event, DigitsDone) and self._state == "dialing":
            call = self.call
            assert call is not None
            self._state = "waiting-answer"
            call.to(CallState.PROCEEDING, now, "address sent")
            if self.t.answer:
                self.timers["answer"] = now + self.t.answer
            out: list[Action] = [CallEvent("proceeding", call)]
            if self.remote_offhook:  # answered while we were still sending
                out += self._answered(now)
            return out
        return []

    def _remote(self, off: bool, held: float, now: float) -> list[Action]:
        """The far end's hook changed; `held` ms is how long the previous state lasted."""
        s = self._state
        if s == "idle":
            if not off:
                return []
            return self._seized(now)
        if s == "guard":
            return []  # a seizure during the guard time is taken when the guard ends
        if s == "lockout":
            if not off:  # the far end let go of the old call at last
                self._state = "guard"
                self.timers["guard"] = now + self.t.guard
            return []
        if s == "seizing":  # wink start, outgoing: this is the wink beginning
            if off:
                self._state = "wink"
                self.timers.pop("wink_wait", None)
                self.timers["glare"] = now + self.t.wink_max
            return []
        if s == "wink":
            if off:
                return []
            self.timers.pop("glare", None)
            if held < self.t.wink_min:
                self._state = "seizing"  # a hit on the line, not a wink: keep waiting
                self.timers["wink_wait"] = now + self.t.wink_wait
                return []
            self._state = "pre-dial"
            self.timers["dial"] = now + self.t.post_wink
            return []
        if self.call is None:
            return []
        if off:
            if s == "waiting-answer":
                return self._answered(now)
            return []  # pre-dial / dialing: counted as the answer once the address is out
        if s == "clearing":
            return self._released(now, "cleared")
        return self._remote_clear(now, "far end on hook")

    def _seized(self, now: float) -> list[Action]:
        call = Call(self.channel, Direction.INCOMING)
        call.to(CallState.SEIZED, now, "seize")
        self.call = call
        self.got = ""
        self.groups = []
        self.mf_open = False
        out: list[Action] = [CallEvent("seized", call)]
        if self.start_kind == "wink":
            self._state = "prewink"
            self.timers["prewink"] = now + self.t.prewink
            return out
        return out + self._collect(now)

    def _collect(self, now: float) -> list[Action]:
        assert self.call is not None
        self._state = "collecting"
        self.call.to(CallState.COLLECTING, now, "collect")
        self.timers["digit"] = now + self.t.first_digit
        return self._listen()

    def _symbol(self, sym: str, now: float) -> list[Action]:
        """One address symbol received (DTMF digit or MF R1 symbol)."""
        self.timers["digit"] = now + self.t.interdigit
        if self.address == "mf":
            if sym == KP:
                self.mf_open = True
                self.got = ""
                return []
            if not self.mf_open:
                return []  # digits outside KP..ST are noise on the line
            if sym in (ST, "A", "B", "C"):  # ST and its variants ST' ST'' ST'''
                self.mf_open = False
                self.groups.append(self.got)
                self.got = ""
                if len(self.groups) == (2 if self.ani else 1):
                    return self._complete(now)
                return []
            if sym.isdigit():
                self.got += sym
            return []
        # DTMF: "*ANI*DNIS#" with ani, else "DNIS#"
        if self.ani and sym == "*":
            if self.got or self.groups:
                self.groups.append(self.got)
            self.got = ""
            return []
        if sym == self.end:
            self.groups.append(self.got)
            self.got = ""
            return self._complete(now)
        self.got += sym
        if self.max_digits and len(self.got) >= self.max_digits and (not self.ani or self.groups):
            self.groups.append(self.got)
            self.got = ""
            return self._complete(now)
        return []

    def _complete(self, now: float) -> list[Action]:
        call = self.call
        assert call is not None
        self.timers.pop("digit", None)
        groups = self.groups + ([self.got] if self.got else [])
        if self.ani and len(groups) >= 2:
            call.ani, call.dnis = groups[-2], groups[-1]
        elif groups:
            call.dnis = groups[-1]
        self._state = "offered"
        call.to(CallState.OFFERED, now, "address complete")
        return [*self._deaf(), CallEvent("offered", call)]

    def _answered(self, now: float) -> list[Action]:
        call = self.call
        assert call is not None
        self.timers.pop("answer", None)
        self._state = "answered"
        call.to(CallState.ANSWERED, now, "far end off hook")
        return [CallEvent("answered", call)]

    def _on_alarm(self, on: bool, now: float) -> list[Action]:
        if not on:
            if self.alarm:
                # a guard time first: the far end's bits of before the alarm may still be on their way
                self.alarm = False
                self._state = "guard"
                self.timers["guard"] = now + self.t.guard
            return []
        self.alarm = True
        out: list[Action] = self._deaf() if self._state == "collecting" else []
        out += self._hook(False) if self.offhook else []
        self.timers.clear()
        self._state = "alarm"
        call, self.call = self.call, None
        if call is None:
            return out
        call.release(Cause.NETWORK_OUT_OF_ORDER, now, final=True, event="alarm")
        return [*out, CallEvent("released", call, call.cause, "span alarm")]

    # -- timers ------------------------------------------------------------------------------------

    def on_timeout(self, now: float) -> list[Action]:
        out: list[Action] = []
        for k in sorted((k for k, t in self.timers.items() if t <= now), key=lambda k: self.timers[k]):
            if k not in self.timers or self.timers[k] > now:
                continue  # cleared or moved by an earlier timer of this round
            del self.timers[k]
            out += self._expire(k, now)
        return out

    def _expire(self, k: str, now: float) -> list[Action]:
        call = self.call
        if k == "guard":
            self._state = "idle"
            if self.remote_offhook:
                return self._seized(now)
            return []
        if call is None:
            return []
        if k == "prewink":
            self._state = "winking"
            self.timers["wink_end"] = now + self.t.wink
            return self._hook(True)
        if k == "wink_end":
            return [*self._hook(False), *self._collect(now)]
        if k == "wink_wait":
            return self._fail(Cause.RECOVERY_ON_TIMER_EXPIRY, now, "no wink")
        if k == "glare":
            return self._fail(Cause.CHANNEL_UNAVAILABLE, now, "glare: the far end seized too")
        if k == "dial":
            return self._send_address(now)
        if k == "digit":
            if self.got or self.groups:
                return self._complete(now)
            return [*self._deaf(), *self._fail(Cause.RECOVERY_ON_TIMER_EXPIRY, now, "no address")]
        if k == "answer":
            return self._fail(Cause.NO_ANSWER, now, "answer timer")
        if k == "disconnect":
            out = self._released(now, "far end stayed off hook")
            if self.remote_offhook:
                # locked out until the far end goes on hook: its off hook is the old call's, not
                # a new seizure
                self.timers.pop("guard", None)
                self._state = "lockout"
            return out
        return []

    def _send_address(self, now: float) -> list[Action]:
        call = self.call
        assert call is not None
        self._state = "dialing"
        call.to(CallState.COLLECTING, now, "address")
        if self.address == "mf":
            sym = (KP + call.ani + ST if self.ani else "") + KP + call.dnis + ST
            return [PlayMf(sym)]
        sym = ("*" + call.ani + "*" if self.ani else "") + call.dnis + self.end
        return [PlayDigits(sym)]

    # -- ending calls ------------------------------------------------------------------------------

    def _remote_clear(self, now: float, detail: str) -> list[Action]:
        """The far end went on hook during the call: we follow, the call is over."""
        call = self.call
        assert call is not None
        call.release(Cause.NORMAL_CLEARING, now, event=detail)
        return self._released(now, detail)

    def _fail(self, cause: int, now: float, detail: str) -> list[Action]:
        """We clear with `cause`: on hook, then wait for the far end's on hook."""
        call = self.call
        if call is None or call.state == CallState.RELEASING:
            return []
        out: list[Action] = self._deaf() if self._state == "collecting" else []
        call.release(cause, now, event=detail)
        out.append(CallEvent("releasing", call, call.cause, detail))
        for k in ("prewink", "wink_end", "wink_wait", "glare", "dial", "digit", "answer"):
            self.timers.pop(k, None)
        if self.offhook:
            out += self._hook(False)
        if not self.remote_offhook:
            return out + self._released(now, detail)
        self._state = "clearing"
        self.timers["disconnect"] = now + self.t.disconnect_wait
        return out

    def _released(self, now: float, detail: str) -> list[Action]:
        call, self.call = self.call, None
        out: list[Action] = self._hook(False) if self.offhook else []
        if self._state == "rejecting":
            out.append(PlayProgress(""))
        if self._state == "collecting":
            out += self._deaf()
        self.timers.clear()
        self._state = "guard"
        self.timers["guard"] = now + self.t.guard
        if call is None:
            return out
        call.release(Cause.NORMAL_CLEARING, now, final=True, event=detail)
        return [*out, CallEvent("released", call, call.cause, detail)]

    # -- operations --------------------------------------------------------------------------------

    def _need(self, op: str, *states: CallState) -> Call:
        """The incoming call, in one of `states`, for an operation of the called end."""
        c = self.call
        if (
            c is None
            or c.direction != Direction.INCOMING
            or c.state not in states
            or self._state == "clearing"
        ):
            raise self._refuse(op)
        return c

    def dial(self, number: str, now: float, ani: str = "", category: str = "") -> list[Action]:
        if not self.idle or self.alarm:
            raise self._refuse("dial")
        allowed = "0123456789" if self.address == "mf" else "0123456789ABCD"
        for d in number + ani:
            if d not in allowed:
                raise LocalProtocolError(
                    f"E&M {self.address} address cannot carry {d!r}", self.channel, self.state, "dial"
                )
        call = Call(
            self.channel, Direction.OUTGOING, ani=ani if self.ani else "", dnis=number, category=category
        )
        call.to(CallState.SEIZED, now, "dial")
        self.call = call
        if self.start_kind == "wink":
            self._state = "seizing"
            self.timers["wink_wait"] = now + self.t.wink_wait
        else:
            self._state = "pre-dial"
            self.timers["dial"] = now + self.t.immediate_delay
        return [*self._hook(True), CallEvent("seized", call)]

    def accept(self, now: float) -> list[Action]:
        call = self._need("accept", CallState.OFFERED)
        call.to(CallState.PROCEEDING, now, "accept")
        return []

    def alert(self, now: float) -> list[Action]:
        """E&M has no alerting signal: ringback goes in band."""
        call = self._need("alert", CallState.OFFERED, CallState.PROCEEDING)
        call.to(CallState.ALERTING, now, "alert")
        return [PlayProgress("ringback")]

    def answer(self, now: float) -> list[Action]:
        call = self._need("answer", CallState.OFFERED, CallState.PROCEEDING, CallState.ALERTING)
        out: list[Action] = [PlayProgress("")] if call.state == CallState.ALERTING else []
        call.to(CallState.ANSWERED, now, "answer")
        self._state = "answered"
        return [*out, *self._hook(True), CallEvent("answered", call)]

    def reject(self, cause: int, now: float) -> list[Action]:
        """Busy tone in band (E&M carries no cause); the caller clears."""
        call = self._need("reject", CallState.OFFERED, CallState.PROCEEDING, CallState.ALERTING)
        call.release(cause, now, event="reject")
        self._state = "rejecting"
        self.timers["disconnect"] = now + self.t.disconnect_wait
        return [
            PlayProgress("busy" if cause == Cause.USER_BUSY else "congestion"),
            CallEvent("releasing", call, cause),
        ]

    def hangup(self, now: float, cause: int = Cause.NORMAL_CLEARING) -> list[Action]:
        call = self.call
        if call is None:
            raise self._refuse("hangup")
        if call.state == CallState.RELEASING:
            return []
        return self._fail(cause, now, "hangup")
