"""ISDN PRI over libpri (Q.921 + Q.931), sans-IO: frames and "now" in, frames and call events out.

Three levels:
  PriStack   one libpri controller (cffi over ccboard.signalling._libpri). Frames in (feed),
             frames out (pop_frames), timers by the caller's clock (next_deadline / run), and the
             Q.931 operations on opaque call keys. libpri's clock reads go to a virtual clock set
             from `now` before every call into it (see _libpri_build.py), so the caller owns time.
  PriSpan    one span's signalling: the stack plus the B-channels, channel selection, glare,
             restart, span alarms, and our Call model (ccboard.signalling.call). handle(event,
             now) takes the board's FrameReceived (its D-channel) and AlarmChanged (its span) and
             returns actions: SendFrame for the D-channel and CallEvents for the application.
             Calls are named by the board channel number of their B-channel (Call.channel).
  PriDriver  binds PriSpans to a Board: one step() per tick.

Q.931 on libpri's terms (as Asterisk's sig_pri uses it): an incoming SETUP is PRI_EVENT_RING; we
answer with pri_proceeding (CALL PROCEEDING), pri_acknowledge (ALERTING), pri_answer (CONNECT).
The far end's DISCONNECT is PRI_EVENT_HANGUP_REQ: we reply pri_hangup (RELEASE). RELEASE or
RELEASE COMPLETE is PRI_EVENT_HANGUP (we call pri_hangup once more so libpri frees the record)
or PRI_EVENT_HANGUP_ACK once our own clearing completed (libpri already freed it).

Channel selection: the network side offers calls on an exclusive channel hunted from the lowest
free B-channel up; the user side (CPE) asks for a preferred channel hunted from the highest down,
so the two ends meet last (Q.931 5.1.2, the usual opposite-end hunting). Glare (both ends take
the same channel at once): the network's exclusive SETUP wins; our own SETUP was only
"preferred", so the network moves it to another channel in its CALL PROCEEDING (or clears it with
cause 44 if we had asked for the channel exclusively).

Span alarm: every call on the span is cleared at once with cause 38 (network out of order) and
libpri forgets it; when the alarm clears (and the D-channel is up) every B-channel is restarted
(RESTART, one channel at a time as libpri wants), so both ends agree they are idle.

Extra CallEvent kinds (call None, detail names the span): 'dchan-up', 'dchan-down',
'restart' (the far end restarted `detail`'s channel), 'restart-ack', 'protocol-error'.

What libpri does not let us do sans-IO: its clock is process-global (one virtual clock for every
instance; set before each call), its message/error hooks are process-global, and libpri 1.6 has
no destructor for a controller (a PriStack's memory stays until the process ends).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ccboard.board.events import Alarm, AlarmChanged, Event, FrameReceived
from ccboard.errors import LocalProtocolError, ProtocolError
from ccboard.signalling.actions import Action, CallEvent
from ccboard.signalling.call import Call, CallMachine, CallState, Cause, Direction

try:
    from ccboard.signalling._libpri import ffi, lib  # type: ignore[import-not-found]
except ImportError as exc:  # pragma: no cover - a build problem, said plainly
    raise ImportError(
        "ccboard.signalling._libpri is not built: apt-get install libpri-dev, then "
        "python setup.py build_ext --inplace (or python ccboard/signalling/_libpri_build.py)"
    ) from exc

NODES = {"cpe": lib.PRI_CPE, "network": lib.PRI_NETWORK}
SWITCHES = {
    "euroisdn_e1": lib.PRI_SWITCH_EUROISDN_E1,
    "euroisdn_t1": lib.PRI_SWITCH_EUROISDN_T1,
    "ni2": lib.PRI_SWITCH_NI2,
    "ni1": lib.PRI_SWITCH_NI1,
    "dms100": lib.PRI_SWITCH_DMS100,
    "5ess": lib.PRI_SWITCH_LUCENT5E,
    "4ess": lib.PRI_SWITCH_ATT4ESS,
    "qsig": lib.PRI_SWITCH_QSIG,
}
# libpri's timers by their Q.921/Q.931 names (values in ms; N200 is a count)
TIMERS = {
    "T200": lib.PRI_TIMER_T200,
    "T203": lib.PRI_TIMER_T203,
    "N200": lib.PRI_TIMER_N200,
    "T303": lib.PRI_TIMER_T303,
    "T305": lib.PRI_TIMER_T305,
    "T308": lib.PRI_TIMER_T308,
    "T309": lib.PRI_TIMER_T309,
    "T310": lib.PRI_TIMER_T310,
    "T313": lib.PRI_TIMER_T313,
    "T316": lib.PRI_TIMER_T316,
}
EVENT_NAMES = {
    lib.PRI_EVENT_DCHAN_UP: "dchan_up",
    lib.PRI_EVENT_DCHAN_DOWN: "dchan_down",
    lib.PRI_EVENT_RESTART: "restart",
    lib.PRI_EVENT_CONFIG_ERR: "config_err",
    lib.PRI_EVENT_RING: "ring",
    lib.PRI_EVENT_HANGUP: "hangup",
    lib.PRI_EVENT_RINGING: "ringing",
    lib.PRI_EVENT_ANSWER: "answer",
    lib.PRI_EVENT_HANGUP_ACK: "hangup_ack",
    lib.PRI_EVENT_RESTART_ACK: "restart_ack",
    lib.PRI_EVENT_FACILITY: "facility",
    lib.PRI_EVENT_INFO_RECEIVED: "info_received",
    lib.PRI_EVENT_PROCEEDING: "proceeding",
    lib.PRI_EVENT_SETUP_ACK: "setup_ack",
    lib.PRI_EVENT_HANGUP_REQ: "hangup_req",
    lib.PRI_EVENT_NOTIFY: "notify",
    lib.PRI_EVENT_PROGRESS: "progress",
    lib.PRI_EVENT_KEYPAD_DIGIT: "keypad_digit",
    lib.PRI_EVENT_SERVICE: "service",
    lib.PRI_EVENT_SERVICE_ACK: "service_ack",
    lib.PRI_EVENT_CONNECT_ACK: "connect_ack",
}
# causes libpri (legacy hangup) answers a fresh SETUP with RELEASE COMPLETE (q931.c __q931_hangup)
RELEASE_COMPLETE_CAUSES = frozenset({1, 34, 44, 81, 82})
FRAME_MAX = 1024  # octets: libpri's own receive buffer
_ALARMS = Alarm.RED | Alarm.BLUE | Alarm.YELLOW | Alarm.LOS | Alarm.LFA | Alarm.LMFA | Alarm.NOTOPEN


def cause_name(cause: int) -> str:
    """libpri's text for a Q.850 cause value."""
    return str(ffi.string(lib.pri_cause2str(cause)).decode())


@dataclass(frozen=True, slots=True)
class SendFrame(Action):
    """Send one Q.921 frame on the D-channel `channel` (board channel number; FCS added below)."""

    channel: int
    data: bytes


@dataclass(frozen=True, slots=True)
class PriEvent:
    """One libpri event, copied out of libpri's buffer. `channel` is the B-channel number as the
    Channel ID IE gives it (E1: the timeslot, T1: 1-23), -1 if none; `call` the call's key."""

    kind: str  # EVENT_NAMES value
    channel: int = -1
    call: int = 0
    cause: int = 0
    cref: int = 0
    called: str = ""
    calling: str = ""
    name: str = ""
    redirecting: str = ""
    restricted: bool = False
    flexible: bool = False
    complete: bool = True
    progress: int = 0
    text: str = ""


def _s(chars: Any) -> str:
    return str(ffi.string(chars).decode("latin-1"))


def _chan(v: int) -> int:
    return -1 if v < 0 else v & 0xFF


class PriStack:
    """One libpri D-channel controller (node 'cpe' or 'network', a SWITCHES switch type)."""

    def __init__(
        self,
        node: str,
        switch: str,
        name: str = "pri",
        timers: dict[str, int] | None = None,
        now: float = 0.0,
    ) -> None:
        if node not in NODES:
            raise LocalProtocolError(f"node {node!r}: expected one of {sorted(NODES)}", name, "new", "node")
        if switch not in SWITCHES:
            raise LocalProtocolError(
                f"switch {switch!r}: expected one of {sorted(SWITCHES)}", name, "new", "switch"
            )
        self.name = name
        self.node = node
        self.switch = switch
        self._clock(now)
        p = lib.ccb_pri_new(NODES[node], SWITCHES[switch])
        if p == ffi.NULL:
            raise ProtocolError("libpri could not make a controller (pri_new_cb)", name, "new", "pri_new_cb")
        self._p = p
        self._ctrl = p.ctrl
        self._buf = ffi.new("unsigned char[]", FRAME_MAX)
        self._calls: dict[int, Any] = {}  # key -> q931_call*
        for t, ms in (timers or {}).items():
            if t not in TIMERS:
                raise LocalProtocolError(
                    f"timer {t!r}: expected one of {sorted(TIMERS)}", name, "new", "timers"
                )
            self._check(lib.pri_set_timer(self._ctrl, TIMERS[t], int(ms)), f"pri_set_timer {t}")

    def __del__(self) -> None:
        p = getattr(self, "_p", None)
        if p is not None:
            lib.ccb_pri_free(p)

    # -- plumbing ---------------------------------------------------------------------------------

    @staticmethod
    def _clock(now: float) -> None:
        lib.ccb_set_now(int(round(now * 1000.0)))

    def _check(self, rc: int, op: str, state: str = "", channel: int | str = "") -> int:
        """Every libpri return code goes through here: negative is an error naming the op."""
        if rc < 0:
            err = _s(self._p.last_error).strip()
            raise ProtocolError(
                f"libpri {op} failed (rc {rc}{': ' + err if err else ''})",
                channel or self.name,
                state or self.node,
                op,
            )
        return rc

    def _call(self, key: int, op: str) -> Any:
        c = self._calls.get(key)
        if c is None:
            raise LocalProtocolError(f"no call {key:#x} in libpri", self.name, self.node, op)
        return c

    def _key(self, c: Any) -> int:
        if c == ffi.NULL:
            return 0
        k = int(ffi.cast("uintptr_t", c))
        self._calls[k] = c
        return k

    def _event(self, e: Any) -> PriEvent | None:
        if e == ffi.NULL:
            return None
        kind = EVENT_NAMES.get(e.e, f"event_{e.e}")
        t = e.e
        if t == lib.PRI_EVENT_RING:
            r = e.ring
            return PriEvent(
                kind,
                _chan(r.channel),
                self._key(r.call),
                cref=r.cref,
                called=_s(r.callednum),
                calling=_s(r.callingnum),
                name=_s(r.callingname),
                redirecting=_s(r.redirectingnum),
                restricted=(r.callingpres & lib.PRI_PRES_RESTRICTION) != lib.PRI_PRES_ALLOWED,
                flexible=bool(r.flexible),
                complete=bool(r.complete),
            )
        if t in (lib.PRI_EVENT_HANGUP, lib.PRI_EVENT_HANGUP_ACK, lib.PRI_EVENT_HANGUP_REQ):
            h = e.hangup
            ev = PriEvent(kind, _chan(h.channel), self._key(h.call), cause=h.cause, cref=h.cref)
            if t == lib.PRI_EVENT_HANGUP_ACK:
                self._calls.pop(ev.call, None)  # libpri has freed it
            return ev
        if t == lib.PRI_EVENT_RINGING:
            g = e.ringing
            return PriEvent(kind, _chan(g.channel), self._key(g.call), cref=g.cref, progress=g.progress)
        if t == lib.PRI_EVENT_ANSWER:
            a = e.answer
            return PriEvent(kind, _chan(a.channel), self._key(a.call), cref=a.cref, progress=a.progress)
        if t in (lib.PRI_EVENT_PROCEEDING, lib.PRI_EVENT_PROGRESS):
            p = e.proceeding
            return PriEvent(kind, _chan(p.channel), self._key(p.call), cause=p.cause, cref=p.cref)
        if t == lib.PRI_EVENT_SETUP_ACK:
            return PriEvent(kind, _chan(e.setup_ack.channel), self._key(e.setup_ack.call))
        if t in (lib.PRI_EVENT_RESTART, lib.PRI_EVENT_RESTART_ACK):
            return PriEvent(kind, _chan(e.restart.channel))
        if t in (lib.PRI_EVENT_KEYPAD_DIGIT, lib.PRI_EVENT_INFO_RECEIVED):
            d = e.digit
            return PriEvent(kind, _chan(d.channel), self._key(d.call), text=_s(d.digits))
        if t == lib.PRI_EVENT_CONNECT_ACK:
            return PriEvent(kind, _chan(e.connect_ack.channel), self._key(e.connect_ack.call))
        if t == lib.PRI_EVENT_CONFIG_ERR:
            return PriEvent(kind, text=_s(e.err.err))
        return PriEvent(kind)

    # -- I/O and time -----------------------------------------------------------------------------

    def feed(self, data: bytes, now: float) -> list[PriEvent]:
        """One received Q.921 frame (no FCS) at `now` (ms): the event it caused, if any."""
        self._clock(now)
        ev = self._event(lib.ccb_pri_feed(self._p, data, len(data)))
        return [] if ev is None else [ev]

    def next_deadline(self) -> float | None:
        """When libpri's next timer (T200, T203, T303, ...) runs out, in ms; None if none runs."""
        us = lib.ccb_pri_next_us(self._p)
        return None if us < 0 else us / 1000.0

    def run(self, now: float) -> list[PriEvent]:
        """Run the timers due at `now` (ms); the events they caused."""
        self._clock(now)
        out: list[PriEvent] = []
        while True:
            ev = self._event(lib.pri_schedule_run(self._ctrl))
            if ev is None:
                return out
            out.append(ev)

    def pop_frames(self) -> list[bytes]:
        """The frames libpri sent since the last pop (no FCS), oldest first."""
        out: list[bytes] = []
        while lib.ccb_pri_pending(self._p):
            n = self._check(lib.ccb_pri_pop(self._p, self._buf, FRAME_MAX), "pop frame")
            out.append(bytes(ffi.buffer(self._buf, n)))
        return out

    @property
    def errors(self) -> tuple[int, str]:
        """How many errors libpri reported, and the last one's text."""
        return int(self._p.errors), _s(self._p.last_error).strip()

    def debug(self, on: bool) -> None:
        """libpri's Q.921/Q.931 state tracing (to libpri's message hook, which drops it)."""
        lib.pri_set_debug(self._ctrl, (lib.PRI_DEBUG_Q931_STATE | lib.PRI_DEBUG_Q921_STATE) if on else 0)

    # -- Q.931 operations ---------------------------------------------------------------------------

    def setup(
        self,
        now: float,
        channel: int,
        called: str,
        calling: str = "",
        name: str = "",
        restricted: bool = False,
        exclusive: bool = False,
        law: str = "alaw",
    ) -> int:
        """Send SETUP for a new call on B-channel `channel`; returns the call's key."""
        self._clock(now)
        c = lib.pri_new_call(self._ctrl)
        if c == ffi.NULL:
            raise ProtocolError("libpri has no call reference left", self.name, self.node, "pri_new_call")
        key = self._key(c)
        sr = lib.pri_sr_new()
        try:
            self._check(
                lib.pri_sr_set_channel(sr, channel, int(exclusive), 0), "pri_sr_set_channel", channel=channel
            )
            l1 = lib.PRI_LAYER_1_ALAW if law == "alaw" else lib.PRI_LAYER_1_ULAW
            self._check(lib.pri_sr_set_bearer(sr, lib.PRI_TRANS_CAP_SPEECH, l1), "pri_sr_set_bearer")
            self._check(lib.pri_sr_set_called(sr, called.encode(), lib.PRI_UNKNOWN, 1), "pri_sr_set_called")
            pres = lib.PRI_PRES_RESTRICTED if restricted else lib.PRI_PRES_ALLOWED
            if calling or name:
                self._check(
                    lib.pri_sr_set_caller(sr, calling.encode(), name.encode(), lib.PRI_UNKNOWN, pres),
                    "pri_sr_set_caller",
                )
            self._check(lib.pri_setup(self._ctrl, c, sr), "pri_setup", channel=channel)
        except ProtocolError:
            self._calls.pop(key, None)
            lib.pri_destroycall(self._ctrl, c)
            raise
        finally:
            lib.pri_sr_free(sr)
        return key

    def proceeding(self, key: int, channel: int, now: float) -> None:
        """CALL PROCEEDING on an incoming call, naming the B-channel chosen."""
        self._clock(now)
        self._check(
            lib.pri_proceeding(self._ctrl, self._call(key, "proceeding"), channel, 0), "pri_proceeding"
        )

    def alerting(self, key: int, channel: int, now: float) -> None:
        """ALERTING on an incoming call (in-band ringback is available)."""
        self._clock(now)
        self._check(
            lib.pri_acknowledge(self._ctrl, self._call(key, "alerting"), channel, 1), "pri_acknowledge"
        )

    def answer(self, key: int, channel: int, now: float) -> None:
        """CONNECT on an incoming call."""
        self._clock(now)
        self._check(lib.pri_answer(self._ctrl, self._call(key, "answer"), channel, 0), "pri_answer")

    def hangup(self, key: int, cause: int, now: float) -> None:
        """Clear (DISCONNECT / RELEASE / RELEASE COMPLETE, as the call's state wants) or free."""
        self._clock(now)
        c = self._call(key, "hangup")
        self._check(lib.pri_hangup(self._ctrl, c, cause), "pri_hangup")

    def reject(self, key: int, channel: int, cause: int, now: float) -> None:
        """Refuse an incoming call we have not answered yet with a Q.850 cause.

        libpri sends RELEASE COMPLETE at once only for causes 1, 34, 44, 81 and 82; for any
        other cause it waits for a response we have sent (a call it does not yet count as
        "alive" gets no DISCONNECT), so CALL PROCEEDING goes first, then DISCONNECT."""
        if cause not in RELEASE_COMPLETE_CAUSES:
            self.proceeding(key, channel, now)
        self.hangup(key, cause, now)

    def forget(self, key: int) -> None:
        """Drop our handle of a call libpri freed itself (after the final pri_hangup)."""
        self._calls.pop(key, None)

    def destroy(self, key: int, now: float) -> None:
        """Free a call's record without a message (the link is gone)."""
        self._clock(now)
        c = self._calls.pop(key, None)
        if c is not None:
            lib.pri_destroycall(self._ctrl, c)

    def reset(self, channel: int, now: float) -> None:
        """Send RESTART for one B-channel (the far end answers RESTART ACKNOWLEDGE)."""
        self._clock(now)
        self._check(lib.pri_reset(self._ctrl, channel), "pri_reset", channel=channel)


# ---- the span controller ---------------------------------------------------------------------


@dataclass
class _Rec:
    """One call as the span controller tracks it."""

    call: Call
    key: int
    pos: int | None  # B-channel (chanpos); None while glare moved our SETUP off its channel
    exclusive: bool = False
    cleared: bool = False  # we have sent our clearing (pri_hangup)
    responded: bool = False  # incoming: we have sent CALL PROCEEDING / ALERTING / CONNECT


class PriSpan:
    """One PRI span's signalling (sans-IO): its D-channel, its B-channels and their calls.

    `bchans` maps B-channel number (chanpos: E1 timeslot, T1 channel) to board channel number.
    """

    def __init__(
        self,
        span: int,
        dchan: int,
        bchans: dict[int, int],
        node: str = "cpe",
        switch: str = "euroisdn_e1",
        law: str = "alaw",
        timers: dict[str, int] | None = None,
        now: float = 0.0,
        stack_factory: Callable[..., PriStack] = PriStack,
    ) -> None:
        self.span = span
        self.dchan = dchan
        self.bchans = dict(bchans)
        self.pos_of = {channo: pos for pos, channo in self.bchans.items()}
        self.node = node
        self.law = law
        self.name = f"pri span {span}"
        self.stack = stack_factory(node, switch, name=self.name, timers=timers, now=now)
        self.up = False
        self.alarm = False
        self.ever_up = False
        self.by_key: dict[int, _Rec] = {}
        self.by_pos: dict[int, _Rec] = {}
        self.restarting: list[int] = []  # B-channels still to restart, the first one in flight
        self._restart_after_up = False
        self.unknown_events = 0

    # -- naming ----------------------------------------------------------------------------------

    @property
    def state(self) -> str:
        """'alarm', 'up' or 'down' (the D-channel's layer 2)."""
        return "alarm" if self.alarm else ("up" if self.up else "down")

    def _where(self, pos: int | None) -> str:
        return f"{self.span}/{pos if pos is not None else '?'}"

    def _refuse(self, msg: str, pos: int | None, op: str, state: str | None = None) -> LocalProtocolError:
        return LocalProtocolError(msg, self._where(pos), state or self.state, op)

    # -- sans-IO interface ---------------------------------------------------------------------

    def start(self, now: float) -> list[Action]:
        """The frames libpri sent when it was made (Q.921 SABME from both ends)."""
        return self._flush([])

    def handle(self, event: Event | object, now: float) -> list[Action]:
        """Feed a board event at `now` (ms): FrameReceived on our D-channel, AlarmChanged of our span."""
        out: list[Action] = []
        if isinstance(event, FrameReceived):
            if event.channel != self.dchan or not event.ok or self.alarm:
                return out  # a bad FCS is Q.921's business: the frame is simply lost
            for ev in self.stack.feed(event.data, now):
                self._on(ev, now, out)
        elif isinstance(event, AlarmChanged):
            if event.span == self.span:
                self._on_alarm(event.alarms, now, out)
        return self._flush(out)

    def next_deadline(self) -> float | None:
        return self.stack.next_deadline()

    def on_timeout(self, now: float) -> list[Action]:
        out: list[Action] = []
        for ev in self.stack.run(now):
            self._on(ev, now, out)
        return self._flush(out)

    def _flush(self, out: list[Action]) -> list[Action]:
        frames = self.stack.pop_frames()
        if self.alarm:
            return out  # the line is down: nothing gets through (Q.921 retransmits later)
        return [SendFrame(self.dchan, f) for f in frames] + out

    # -- calls ---------------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        return [r.call for r in self.by_key.values()]

    def call_on(self, channo: int) -> Call | None:
        r = self.by_pos.get(self.pos_of.get(channo, -1))
        return None if r is None else r.call

    def free_channels(self) -> list[int]:
        """Idle B-channels (chanpos) in hunting order: CPE from the top down, network bottom up."""
        busy = set(self.by_pos) | set(self.restarting)
        free = [p for p in sorted(self.bchans) if p not in busy]
        return free[::-1] if self.node == "cpe" else free

    def _rec_of(self, channo: int, op: str) -> _Rec:
        pos = self.pos_of.get(channo)
        if pos is None:
            raise self._refuse(f"channel {channo} is not a B-channel of this span", None, op)
        r = self.by_pos.get(pos)
        if r is None:
            raise self._refuse("no call on this channel", pos, op, "idle")
        return r

    def _emit(
        self, out: list[Action], kind: str, r: _Rec | None, cause: int | None = None, detail: str = ""
    ) -> None:
        out.append(CallEvent(kind, r.call if r else None, cause, detail))

    def _move(self, r: _Rec, pos: int | None) -> None:
        if r.pos is not None and self.by_pos.get(r.pos) is r:
            del self.by_pos[r.pos]
        r.pos = pos
        if pos is not None:
            self.by_pos[pos] = r
            r.call.channel = self.bchans[pos]

    def _drop(self, r: _Rec) -> None:
        self.by_key.pop(r.key, None)
        self._move(r, None)

    def _released(self, r: _Rec, cause: int, now: float, out: list[Action], detail: str, event: str) -> None:
        if r.call.state != CallState.RELEASED:
            r.call.release(cause, now, final=True, event=event)
            self._emit(out, "released", r, r.call.cause, detail)
        self._drop(r)

    # -- libpri events -------------------------------------------------------------------------

    def _on(self, ev: PriEvent, now: float, out: list[Action]) -> None:
        k = ev.kind
        r = self.by_key.get(ev.call) if ev.call else None
        if k == "ring":
            self._on_ring(ev, now, out)
        elif k == "dchan_up":
            self.up = True
            self.ever_up = True
            self._emit(out, "dchan-up", None, detail=self.name)
            if self._restart_after_up:
                self._restart_after_up = False
                self._restart_all(now)
        elif k == "dchan_down":
            self.up = False
            self._emit(out, "dchan-down", None, detail=self.name)
        elif k == "restart":
            self._on_restart(ev.channel, now, out)
        elif k == "restart_ack":
            self._emit(out, "restart-ack", None, detail=f"{self.name}/{ev.channel}")
            if self.restarting and (ev.channel < 0 or self.restarting[0] == ev.channel):
                self.restarting.pop(0)
                self._next_restart(now)
        elif k == "config_err":
            self._emit(out, "protocol-error", None, detail=f"{self.name}: {ev.text}")
        elif r is None:
            if k == "hangup" and ev.call:
                self.stack.hangup(ev.call, ev.cause or Cause.NORMAL_CLEARING, now)  # free a stray record
                self.stack.forget(ev.call)
            elif k == "hangup_req" and ev.call:
                self.stack.hangup(ev.call, ev.cause or Cause.NORMAL_CLEARING, now)
            self.unknown_events += 1
        else:
            self._on_call(r, ev, now, out)

    def _on_call(self, r: _Rec, ev: PriEvent, now: float, out: list[Action]) -> None:
        k, c = ev.kind, r.call
        try:
            if k in ("proceeding", "setup_ack", "ringing", "answer") and ev.channel > 0:
                self._channel_named(r, ev.channel, now, out, k)
                if r.call.state == CallState.RELEASED:
                    return
            if k == "proceeding" and c.state == CallState.SEIZED:
                c.to(CallState.PROCEEDING, now, k)
                self._emit(out, "proceeding", r)
            elif k == "setup_ack" and c.state == CallState.SEIZED:
                c.to(CallState.COLLECTING, now, k)
            elif k == "ringing" and c.state in (CallState.SEIZED, CallState.COLLECTING, CallState.PROCEEDING):
                c.to(CallState.ALERTING, now, k)
                self._emit(out, "alerting", r)
            elif k == "answer" and c.state not in (CallState.ANSWERED, CallState.RELEASING):
                c.to(CallState.ANSWERED, now, k)
                self._emit(out, "answered", r)
            elif k == "hangup_req":
                cause = ev.cause or Cause.NORMAL_UNSPECIFIED
                if c.state != CallState.RELEASING:
                    c.release(cause, now, event=k)
                    self._emit(out, "releasing", r, c.cause, "far end cleared (DISCONNECT)")
                if not r.cleared:
                    r.cleared = True
                    self.stack.hangup(r.key, cause, now)
            elif k == "hangup":
                self.stack.hangup(r.key, ev.cause or Cause.NORMAL_CLEARING, now)  # lets libpri free it
                self.stack.forget(r.key)
                self._released(r, ev.cause or Cause.NORMAL_UNSPECIFIED, now, out, "RELEASE", k)
            elif k == "hangup_ack":
                self._released(r, ev.cause or Cause.NORMAL_CLEARING, now, out, "clearing complete", k)
            elif k in ("keypad_digit", "info_received") and ev.text:
                self._emit(out, "digits", r, detail=ev.text)
        except ProtocolError as e:
            # the far end did something our call model does not allow: clear, say so
            self._emit(out, "protocol-error", r, Cause.PROTOCOL_ERROR, str(e))
            self._clear(r, Cause.PROTOCOL_ERROR, now, out, "protocol error")

    def _channel_named(self, r: _Rec, chan: int, now: float, out: list[Action], event: str) -> None:
        """The far end named the B-channel of our outgoing call (glare may have moved it)."""
        if r.pos == chan:
            return
        other = self.by_pos.get(chan)
        if chan not in self.bchans or (other is not None and other is not r):
            self._emit(
                out, "protocol-error", r, Cause.CHANNEL_UNAVAILABLE, f"far end named busy channel {chan}"
            )
            self._clear(r, Cause.CHANNEL_UNAVAILABLE, now, out, "channel unacceptable")
            return
        self._move(r, chan)

    def _on_ring(self, ev: PriEvent, now: float, out: list[Action]) -> None:
        pos = ev.channel
        holder = self.by_pos.get(pos)
        if (
            self.node == "cpe"
            and holder is not None
            and holder.call.direction == Direction.OUTGOING
            and holder.call.state == CallState.SEIZED
        ):
            # glare: the network's SETUP wins the channel; ours waits for the channel the network gives it
            self._move(holder, None)
            holder = None
        if pos not in self.bchans or holder is not None or pos in self.restarting:
            free = self.free_channels()
            if not ev.flexible or not free or self.alarm:
                self.stack.hangup(ev.call, Cause.CHANNEL_UNAVAILABLE, now)
                self.stack.forget(ev.call)
                return
            pos = free[0]
        call = Call(
            channel=self.bchans[pos],
            direction=Direction.INCOMING,
            ani=ev.calling,
            dnis=ev.called,
            name=ev.name,
            redirecting=ev.redirecting,
            ani_restricted=ev.restricted,
        )
        r = _Rec(call, ev.call, None)
        self.by_key[ev.call] = r
        self._move(r, pos)
        # CALL PROCEEDING at once, naming the channel (as sig_pri does): libpri counts a call
        # as alive only once we answered its SETUP, and drops a DISCONNECT that comes before
        self.stack.proceeding(r.key, pos, now)
        r.responded = True
        call.to(CallState.SEIZED, now, "ring")
        self._emit(out, "seized", r)
        call.to(CallState.OFFERED, now, "ring")
        self._emit(out, "offered", r)

    def _on_restart(self, chan: int, now: float, out: list[Action]) -> None:
        """The far end restarted a B-channel (-1: the whole interface): its calls are gone."""
        recs = list(self.by_key.values()) if chan < 0 else [r for r in self.by_key.values() if r.pos == chan]
        for r in recs:
            self.stack.destroy(r.key, now)
            self._released(r, Cause.TEMPORARY_FAILURE, now, out, "far end restarted the channel", "restart")
        self._emit(out, "restart", None, detail=f"{self.name}/{chan}")

    def _on_alarm(self, alarms: Alarm, now: float, out: list[Action]) -> None:
        bad = bool(alarms & _ALARMS)
        if bad and not self.alarm:
            self.alarm = True
            for r in list(self.by_key.values()):
                self.stack.destroy(r.key, now)
                self._released(r, Cause.NETWORK_OUT_OF_ORDER, now, out, "span alarm", "alarm")
        elif not bad and self.alarm:
            self.alarm = False
            if self.up:
                self._restart_all(now)
            else:
                self._restart_after_up = True

    def _restart_all(self, now: float) -> None:
        busy = set(self.by_pos)
        self.restarting = [p for p in sorted(self.bchans) if p not in busy]
        self._next_restart(now)

    def _next_restart(self, now: float) -> None:
        if self.restarting:
            self.stack.reset(self.restarting[0], now)

    def _clear(self, r: _Rec, cause: int, now: float, out: list[Action], detail: str) -> None:
        if r.call.state not in (CallState.RELEASING, CallState.RELEASED):
            r.call.release(cause, now, event=detail)
            self._emit(out, "releasing", r, r.call.cause, detail)
        if not r.cleared:
            r.cleared = True
            if r.call.direction == Direction.INCOMING and not r.responded:
                self.stack.reject(r.key, r.pos or 0, cause, now)
            else:
                self.stack.hangup(r.key, cause, now)

    # -- operations (by board channel number) ------------------------------------------------------

    def _ready(self, op: str, pos: int | None) -> None:
        if self.alarm:
            raise self._refuse("the span is in alarm", pos, op)
        if not self.up:
            raise self._refuse("the D-channel is not up", pos, op)

    def dial(
        self,
        number: str,
        now: float,
        ani: str = "",
        category: str = "",
        channo: int | None = None,
        exclusive: bool = False,
        name: str = "",
        restricted: bool = False,
    ) -> list[Action]:
        """Place a call to `number` on `channo` (None: hunt a free B-channel). The call is in
        CallEvent('seized'); its channel may change when the network picks another."""
        if channo is None:
            free = self.free_channels()
            if not free:
                raise self._refuse("no free B-channel", None, "dial")
            pos = free[0]
        else:
            if channo not in self.pos_of:
                raise self._refuse(f"channel {channo} is not a B-channel of this span", None, "dial")
            pos = self.pos_of[channo]
            if pos in self.by_pos or pos in self.restarting:
                raise self._refuse(
                    "the channel is busy",
                    pos,
                    "dial",
                    self.by_pos[pos].call.state.value if pos in self.by_pos else "restarting",
                )
        self._ready("dial", pos)
        if not number:
            raise self._refuse("no number to dial", pos, "dial")
        call = Call(
            channel=self.bchans[pos],
            direction=Direction.OUTGOING,
            ani=ani,
            dnis=number,
            category=category,
            name=name,
            ani_restricted=restricted,
        )
        key = self.stack.setup(now, pos, number, ani, name, restricted, exclusive, self.law)
        r = _Rec(call, key, None, exclusive)
        self.by_key[key] = r
        self._move(r, pos)
        call.to(CallState.SEIZED, now, "dial")
        return self._flush([CallEvent("seized", call)])

    def accept(self, channo: int, now: float) -> list[Action]:
        """Take the offered call (CALL PROCEEDING already went out when the SETUP came)."""
        r = self._rec_of(channo, "accept")
        self._need(r, (CallState.OFFERED,), "accept")
        r.call.to(CallState.PROCEEDING, now, "accept")
        return self._flush([CallEvent("proceeding", r.call)])

    def alert(self, channo: int, now: float) -> list[Action]:
        """ALERTING on the offered (or accepted) call."""
        r = self._rec_of(channo, "alert")
        self._need(r, (CallState.OFFERED, CallState.PROCEEDING), "alert")
        self.stack.alerting(r.key, r.pos or 0, now)
        r.responded = True
        r.call.to(CallState.ALERTING, now, "alert")
        return self._flush([CallEvent("alerting", r.call)])

    def answer(self, channo: int, now: float) -> list[Action]:
        """CONNECT on the incoming call."""
        r = self._rec_of(channo, "answer")
        self._need(r, (CallState.OFFERED, CallState.PROCEEDING, CallState.ALERTING), "answer")
        self.stack.answer(r.key, r.pos or 0, now)
        r.responded = True
        r.call.to(CallState.ANSWERED, now, "answer")
        return self._flush([CallEvent("answered", r.call)])

    def reject(self, channo: int, cause: int, now: float) -> list[Action]:
        """Refuse the offered call with a Q.850 cause (RELEASE COMPLETE or DISCONNECT)."""
        r = self._rec_of(channo, "reject")
        self._need(r, (CallState.OFFERED, CallState.PROCEEDING, CallState.ALERTING), "reject")
        return self.hangup(channo, now, cause)

    def hangup(self, channo: int, now: float, cause: int = Cause.NORMAL_CLEARING) -> list[Action]:
        """Clear the call on `channo` from our side with a Q.850 cause."""
        r = self._rec_of(channo, "hangup")
        if r.cleared:
            raise self._refuse("the call is already being cleared", r.pos, "hangup", r.call.state.value)
        out: list[Action] = []
        self._clear(r, cause, now, out, "we cleared")
        return self._flush(out)

    def restart(self, now: float, channo: int | None = None) -> list[Action]:
        """RESTART idle B-channels (one, or every idle one), one at a time."""
        self._ready("restart", None)
        if channo is None:
            self._restart_all(now)
        else:
            pos = self.pos_of.get(channo)
            if pos is None or pos in self.by_pos:
                raise self._refuse(f"channel {channo} is not an idle B-channel", pos, "restart")
            was_idle = not self.restarting
            self.restarting.append(pos)
            if was_idle:
                self._next_restart(now)
        return self._flush([])

    def _need(self, r: _Rec, states: tuple[CallState, ...], op: str) -> None:
        if r.call.state not in states or r.cleared:
            raise self._refuse(
                f"{op} needs the call in {'/'.join(s.value for s in states)}", r.pos, op, r.call.state.value
            )

    def channel(self, channo: int) -> PriChannel:
        """The CallMachine view of one B-channel (the same operations as every protocol)."""
        return PriChannel(self, channo)


class PriChannel(CallMachine):
    """One B-channel of a PriSpan as a CallMachine: its operations go to the span's controller.

    Actions from its operations include SendFrame for the span's D-channel; frames and timers
    are the span's (PriDriver runs them), so handle() and on_timeout() do nothing here.
    """

    def __init__(self, span: PriSpan, channo: int) -> None:
        if channo not in span.pos_of:
            raise LocalProtocolError(f"channel {channo} is not a B-channel", span.name, span.state, "channel")
        self.span = span
        super().__init__(channo)

    @property
    def call(self) -> Call | None:
        return self.span.call_on(int(self.channel))

    @call.setter
    def call(self, value: Call | None) -> None:
        pass  # the span owns the calls

    @property
    def state(self) -> str:
        c = self.call
        return c.state.value if c is not None else ("idle" if self.span.state == "up" else self.span.state)

    def handle(self, event: object, now: float) -> list[Action]:
        return []

    def next_deadline(self) -> float | None:
        return None

    def on_timeout(self, now: float) -> list[Action]:
        return []

    def accept(self, now: float) -> list[Action]:
        return self.span.accept(int(self.channel), now)

    def alert(self, now: float) -> list[Action]:
        return self.span.alert(int(self.channel), now)

    def answer(self, now: float) -> list[Action]:
        return self.span.answer(int(self.channel), now)

    def reject(self, cause: int, now: float) -> list[Action]:
        return self.span.reject(int(self.channel), cause, now)

    def hangup(self, now: float, cause: int = Cause.NORMAL_CLEARING) -> list[Action]:
        return self.span.hangup(int(self.channel), now, cause)

    def dial(self, number: str, now: float, ani: str = "", category: str = "") -> list[Action]:
        return self.span.dial(
            number, now, ani=ani, category=category, channo=int(self.channel), exclusive=True
        )


# ---- binding to a board ----------------------------------------------------------------------


def spans_of(board: Any, node: str = "cpe", switch: str | None = None, **kw: Any) -> list[PriSpan]:
    """A PriSpan for every span of `board` that has a D-channel (E1: EuroISDN, T1: NI2 unless
    `switch` says otherwise); B-channels are the span's clear channels."""
    from ccboard.board.channel import Signalling
    from ccboard.board.span import SpanKind

    out = []
    for s in board.spans:
        d = [c for c in s.channels if c.signalling == Signalling.DCHAN]
        if not d:
            continue
        b = {c.chanpos: c.channo for c in s.channels if c.signalling == Signalling.CLEAR}
        sw = switch or ("euroisdn_e1" if s.kind == SpanKind.E1 else "ni2")
        law = "alaw" if s.kind == SpanKind.E1 else "ulaw"
        out.append(PriSpan(s.number, d[0].channo, b, node=node, switch=sw, law=law, now=board.t / 8, **kw))
    return out


class PriDriver:
    """PriSpans on a Board: feeds them the board's D-channel frames and span alarms each tick,
    sends their frames, runs their timers, and collects their CallEvents (inbox or on_event)."""

    def __init__(
        self, board: Any, spans: list[PriSpan], on_event: Callable[[CallEvent], None] | None = None
    ) -> None:
        self.board = board
        self.spans = spans
        self.by_dchan = {s.dchan: s for s in spans}
        self.by_span = {s.span: s for s in spans}
        self.by_channo = {c: s for s in spans for c in s.pos_of}
        self.on_event = on_event
        self.inbox: list[CallEvent] = []
        self.frames_sent = 0
        self.deadline: dict[int, float | None] = {}
        now = board.t / 8
        for s in spans:
            self.execute(s, s.start(now))

    def execute(self, s: PriSpan, actions: list[Action]) -> None:
        for a in actions:
            if isinstance(a, SendFrame):
                self.board.send_frame(a.channel, a.data)
                self.frames_sent += 1
            elif isinstance(a, CallEvent):
                if self.on_event is not None:
                    self.on_event(a)
                else:
                    self.inbox.append(a)
        self.deadline[s.span] = s.next_deadline()

    def do(self, op: str, channo: int, now: float | None = None, *args: Any, **kw: Any) -> None:
        """Run a call operation (accept, alert, answer, reject, hangup) on the call of `channo`."""
        s = self.by_channo.get(channo)
        if s is None:
            raise LocalProtocolError(f"channel {channo} is not a PRI B-channel", channo, "", op)
        t = self.board.t / 8 if now is None else now
        self.execute(s, getattr(s, op)(channo, t, *args, **kw))

    def dial(self, span: int, number: str, now: float | None = None, **kw: Any) -> Call:
        """Place a call on `span` (see PriSpan.dial); the new call."""
        s = self.by_span[span]
        t = self.board.t / 8 if now is None else now
        acts = s.dial(number, t, **kw)
        self.execute(s, acts)
        ev = next(a for a in acts if isinstance(a, CallEvent))
        assert ev.call is not None
        return ev.call

    def step(self) -> list[Event]:
        """Tick the board once; feed, time and drive every span. Returns the tick's events."""
        events: list[Event] = self.board.tick()
        self.feed(events, self.board.t / 8)
        return events

    def feed(self, events: list[Event], now: float) -> None:
        """A tick's events (the board has ticked): D-channel frames and span alarms to their
        spans, then the spans' timers due by `now` (ms)."""
        for ev in events:
            if isinstance(ev, FrameReceived):
                s = self.by_dchan.get(ev.channel)
            elif isinstance(ev, AlarmChanged):
                s = self.by_span.get(ev.span)
            else:
                continue
            if s is not None:
                self.execute(s, s.handle(ev, ev.t / 8))
        for s in self.spans:
            d = self.deadline.get(s.span)
            if d is not None and d <= now:
                self.execute(s, s.on_timeout(now))

    def run(self, ms: int) -> None:
        for _ in range(ms):
            self.step()

    def run_until(self, cond: Callable[[], bool], limit_ms: int = 60000) -> float:
        """Tick until cond() holds; the virtual ms it took (AssertionError past limit_ms)."""
        t0 = self.board.t / 8
        while not cond():
            if self.board.t / 8 - t0 > limit_ms:
                raise AssertionError(f"not reached within {limit_ms} ms")
            self.step()
        return float(self.board.t / 8 - t0)

    def take(self) -> list[CallEvent]:
        out, self.inbox = self.inbox, []
        return out
