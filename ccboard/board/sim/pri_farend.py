"""The sim's ISDN PRI far end: a network-side Q.921/Q.931 stack on the far side of a CCS span's
D-channel, so our PRI controller talks to a real protocol stack over the sim's HDLC.

Hooked through the far end's scripting API only: FarEnd.on_frame gives it every frame we send
(after our HDLC transmitter, the line and the far end's HDLC receiver), FarEnd.send_frame sends
its frames back the same way, and SimBoard.at runs its timers in board time (the caller owns
time: the stack is told "now" = board time in ms, and asked for its next deadline).

The stack itself is injected (`stack_factory`, e.g. ccboard.signalling.pri.PriStack): the board
layer does not import the signalling layer. What it needs of a stack is the Q931Stack protocol.

Behaviour, per span, changeable at any time:
  incoming   what the exchange does with our calls: 'answer' (CALL PROCEEDING and ALERTING at
             once, CONNECT after answer_ms), 'ring' (alert, never answer), 'busy' (cause 17),
             or an int: clear with that Q.850 cause. `routes` maps a called number to one of
             these and wins over `incoming`.
  call()     the exchange places a call towards us (exclusive channel, lowest free first).
  hangup()   the far party clears (DISCONNECT with a cause).
  restart()  RESTART one B-channel.
Everything the stack reports is kept in `log` as (ms, kind, chanpos, detail) for the tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ccboard.board.channel import Signalling
from ccboard.board.sim.farend import MS
from ccboard.board.span import SpanKind
from ccboard.errors import BoardError

NORMAL_CLEARING = 16
USER_BUSY = 17
CHANNEL_UNAVAILABLE = 44


class Q931Stack(Protocol):
    """What the far end needs of a network-side stack (PriStack has it)."""

    def feed(self, data: bytes, now: float) -> list[Any]: ...
    def run(self, now: float) -> list[Any]: ...
    def next_deadline(self) -> float | None: ...
    def pop_frames(self) -> list[bytes]: ...
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
    ) -> int: ...
    def proceeding(self, key: int, channel: int, now: float) -> None: ...
    def alerting(self, key: int, channel: int, now: float) -> None: ...
    def answer(self, key: int, channel: int, now: float) -> None: ...
    def hangup(self, key: int, cause: int, now: float) -> None: ...
    def reject(self, key: int, channel: int, cause: int, now: float) -> None: ...
    def forget(self, key: int) -> None: ...
    def destroy(self, key: int, now: float) -> None: ...
    def reset(self, channel: int, now: float) -> None: ...


@dataclass
class FarCall:
    """A call as the exchange sees it: direction 'in' (from us) or 'out' (towards us)."""

    key: int
    chanpos: int
    direction: str
    called: str = ""
    calling: str = ""
    state: str = "setup"  # setup, proceeding, alerting, connected, clearing, released
    cause: int | None = None
    times: dict[str, float] = field(default_factory=dict)


class PriFarEnd:
    """libpri (or any Q931Stack) in network mode behind one span's D-channel of a SimBoard."""

    def __init__(
        self,
        board: Any,
        span: int,
        stack_factory: Callable[..., Q931Stack],
        switch: str | None = None,
        incoming: str | int = "answer",
        answer_ms: float = 200.0,
        timers: dict[str, int] | None = None,
    ) -> None:
        sp = board.span(span)
        d = [c for c in sp.channels if c.signalling == Signalling.DCHAN]
        if not d:
            raise BoardError(f"span {span}: no D-channel (a PRI far end needs a CCS span)")
        self.board = board
        self.span = span
        self.fe = board.far_ends[span]
        self.dpos = d[0].chanpos
        self.bchans = sorted(c.chanpos for c in sp.channels if c.signalling == Signalling.CLEAR)
        self.law = "alaw" if sp.kind == SpanKind.E1 else "ulaw"
        sw = switch or ("euroisdn_e1" if sp.kind == SpanKind.E1 else "ni2")
        self.incoming: str | int = incoming
        self.routes: dict[str, str | int] = {}
        self.answer_ms = answer_ms
        self.calls: dict[int, FarCall] = {}  # key -> call
        self.by_pos: dict[int, FarCall] = {}
        self.log: list[tuple[float, str, int, Any]] = []
        self.up = False
        self._now: float = float(board.t / MS)
        self._armed: float | None = None
        self.stack = stack_factory("network", sw, name=f"far end span {span}", timers=timers, now=self._now)
        self.fe.on_frame = self._frame
        self._flush()

    # -- time and frames ---------------------------------------------------------------------------

    def _clock(self, at: float | None = None) -> float:
        self._now = float(max(self._now, self.board.t / MS, at if at is not None else 0.0))
        return self._now

    def _flush(self) -> None:
        for f in self.stack.pop_frames():
            self.fe.send_frame(self.dpos, f)
        d = self.stack.next_deadline()
        if d is not None and (self._armed is None or d < self._armed):
            self._armed = d
            self.board.at(d, self._wake, d)

    def _wake(self, d: float) -> None:
        if self._armed is not None and self._armed <= d:
            self._armed = None
        now = self._clock(d)
        for ev in self.stack.run(now):
            self._on(ev, now)
        self._flush()

    def _frame(self, chanpos: int, data: bytes, ok: bool) -> None:
        if chanpos != self.dpos or not ok:
            return
        now = self._clock()
        for ev in self.stack.feed(data, now):
            self._on(ev, now)
        self._flush()

    # -- the stack's events -----------------------------------------------------------------------

    def _set(self, c: FarCall, state: str, now: float) -> None:
        c.state = state
        c.times[state] = now

    def _gone(self, c: FarCall, cause: int, now: float) -> None:
        if c.cause is None:
            c.cause = cause
        self._set(c, "released", now)
        self.calls.pop(c.key, None)
        if self.by_pos.get(c.chanpos) is c:
            del self.by_pos[c.chanpos]

    def _free(self) -> list[int]:
        return [p for p in self.bchans if p not in self.by_pos]

    def _on(self, ev: Any, now: float) -> None:
        k = ev.kind
        self.log.append((now, k, ev.channel, ev.cause if k.startswith("hangup") else ev.called or ev.text))
        c = self.calls.get(ev.call) if ev.call else None
        if k == "dchan_up":
            self.up = True
        elif k == "dchan_down":
            self.up = False
        elif k == "ring":
            self._ring(ev, now)
        elif k == "restart":
            for x in list(self.calls.values()):
                if ev.channel < 0 or x.chanpos == ev.channel:
                    self.stack.destroy(x.key, now)
                    self._gone(x, 41, now)
        elif c is None:
            if k == "hangup" and ev.call:
                self.stack.hangup(ev.call, ev.cause or NORMAL_CLEARING, now)
                self.stack.forget(ev.call)
        elif k == "proceeding" and c.state == "setup":
            self._set(c, "proceeding", now)
        elif k == "ringing":
            self._set(c, "alerting", now)
        elif k == "answer":
            self._set(c, "connected", now)
        elif k == "hangup_req":
            if c.state != "clearing":
                c.cause = ev.cause
                self._set(c, "clearing", now)
                self.stack.hangup(c.key, ev.cause or NORMAL_CLEARING, now)
        elif k == "hangup":
            self.stack.hangup(c.key, ev.cause or NORMAL_CLEARING, now)
            self.stack.forget(c.key)
            self._gone(c, ev.cause, now)
        elif k == "hangup_ack":
            self._gone(c, ev.cause, now)

    def _ring(self, ev: Any, now: float) -> None:
        pos = ev.channel
        if pos not in self.bchans or pos in self.by_pos:
            free = self._free()
            if not ev.flexible or not free:
                self.stack.hangup(ev.call, CHANNEL_UNAVAILABLE, now)
                self.stack.forget(ev.call)
                self.log.append((now, "rejected", pos, CHANNEL_UNAVAILABLE))
                return
            pos = free[0]  # channel selection: the preferred one is taken, give the lowest free
        c = FarCall(ev.call, pos, "in", ev.called, ev.calling)
        c.times["setup"] = now
        self.calls[c.key] = c
        self.by_pos[pos] = c
        how = self.routes.get(ev.called, self.incoming)
        if isinstance(how, int) or how == "busy":
            cause = USER_BUSY if how == "busy" else int(how)
            self.stack.reject(c.key, pos, cause, now)
            c.cause = cause
            self._set(c, "clearing", now)
            return
        self.stack.proceeding(c.key, pos, now)
        self._set(c, "proceeding", now)
        self.stack.alerting(c.key, pos, now)
        self._set(c, "alerting", now)
        if how == "answer":
            self.board.at(now + self.answer_ms, self._answer, c.key)

    def _answer(self, key: int) -> None:
        c = self.calls.get(key)
        if c is None or c.state != "alerting":
            return
        now = self._clock()
        self.stack.answer(key, c.chanpos, now)
        self._set(c, "connected", now)
        self._flush()

    # -- the exchange's script ------------------------------------------------------------------

    def call(
        self,
        called: str,
        calling: str = "",
        chanpos: int | None = None,
        name: str = "",
        restricted: bool = False,
    ) -> FarCall:
        """Place a call towards us on `chanpos` (None: the lowest free B-channel), exclusive."""
        if not self.up:
            raise BoardError(f"span {self.span}: the far end's D-channel is not up")
        if chanpos is None:
            free = self._free()
            if not free:
                raise BoardError(f"span {self.span}: the far end has no free B-channel")
            chanpos = free[0]
        elif chanpos not in self.bchans or chanpos in self.by_pos:
            raise BoardError(f"span {self.span}/{chanpos}: not a free B-channel")
        now = self._clock()
        key = self.stack.setup(now, chanpos, called, calling, name, restricted, True, self.law)
        c = FarCall(key, chanpos, "out", called, calling)
        c.times["setup"] = now
        self.calls[key] = c
        self.by_pos[chanpos] = c
        self._flush()
        return c

    def hangup(self, chanpos: int, cause: int = NORMAL_CLEARING) -> None:
        """The far party clears the call on chanpos with a Q.850 cause."""
        c = self.by_pos.get(chanpos)
        if c is None:
            raise BoardError(f"span {self.span}/{chanpos}: no call to clear")
        now = self._clock()
        c.cause = cause
        self._set(c, "clearing", now)
        self.stack.hangup(c.key, cause, now)
        self._flush()

    def restart(self, chanpos: int) -> None:
        """Send RESTART for one B-channel (our side clears whatever it had on it)."""
        now = self._clock()
        c = self.by_pos.get(chanpos)
        if c is not None:
            self.stack.destroy(c.key, now)
            self._gone(c, 41, now)
        self.stack.reset(chanpos, now)
        self._flush()

    def at(self, ms: float, action: str, *args: Any, **kwargs: Any) -> None:
        """Run one of the script's actions (call, hangup, restart) at `ms` of board time."""
        if action not in ("call", "hangup", "restart"):
            raise BoardError(f"span {self.span}: the PRI far end has no action {action!r}")
        self.board.at(ms, getattr(self, action), *args, **kwargs)

    def state(self, chanpos: int) -> str:
        """The exchange's state of the call on chanpos ('idle' if none)."""
        c = self.by_pos.get(chanpos)
        return "idle" if c is None else c.state


def attach(board: Any, stack_factory: Callable[..., Q931Stack], **kw: Any) -> dict[int, PriFarEnd]:
    """A PRI far end on every span of `board` that has a D-channel, by span number."""
    out = {}
    for s in board.spans:
        if any(c.signalling == Signalling.DCHAN for c in s.channels):
            out[s.number] = PriFarEnd(board, s.number, stack_factory, **kw)
    return out
