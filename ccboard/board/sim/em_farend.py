"""The sim's E&M far end: the switch on the far side of a T1 robbed-bit span, wink start or
immediate start, DTMF or MF R1 addresses, both directions.

Its own implementation from the line facts (not our signalling layer, which the board layer may
not import): E&M on the A bit of the robbed ABCD bits, DAHDI's codes (on hook 0000, off hook
1111); a wink is an off-hook pulse of 140-290 ms (Bellcore/Telcordia GR-506) -- this end sends
200 ms, 100 ms after the seizure, and takes 100-300 ms pulses as winks (DAHDI's rxwinktime is
300 ms). Addresses: MF R1 "KP digits ST" (KP '*', ST '#'), with `ani` "KP ANI ST KP DNIS ST";
DTMF "DNIS#", with `ani` "*ANI*DNIS#".

Audio is live (SimBoard.line_taps, as in r2_farend): our address tones are heard from the octets
we send in each tick by our own DTMF / MF R1 receivers, and its address tones are generated 8
samples a tick into the channel's far-end octets.

Behaviour per span: `incoming` / `routes` as for the R2 far end ('answer' after answer_ms, 'ring',
'busy' -- busy tone in band, the caller clears); call() seizes towards us, hangup() clears.
Calls are FarEmCall with the board time (ms) of each step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ccboard.board.channel import Signalling
from ccboard.board.sim.farend import MS
from ccboard.board.sim.r2_farend import LineAudio, loud
from ccboard.board.span import SpanKind
from ccboard.dsp import dtmf, mf
from ccboard.errors import BoardError

ONHOOK, OFFHOOK = 0b0000, 0b1111
A_BIT = 0b1000
PREWINK_MS = 100  # seizure seen -> wink
WINK_MS = 200  # the wink sent (GR-506: 140-290 ms)
RX_WINK_MS = (100, 300)  # off-hook pulses taken as a wink
POST_WINK_MS = 100  # wink over -> first address tone
IMMEDIATE_MS = 150  # immediate start: seizure -> first address tone
WINK_WAIT_MS = 5000  # seizure sent, no wink: give up
R1_SYMBOLS = "1234567890CA*B#"
NORMAL_CLEARING = 16
USER_BUSY = 17


@dataclass
class FarEmCall:
    """A call as the switch sees it: direction 'in' (from us) or 'out' (towards us)."""

    chanpos: int
    direction: str
    called: str = ""
    calling: str = ""
    # in: seized, collecting, alerting, connected | busy; out: seized, wink, winked, sending,
    # waiting, connected; then clearing, released
    state: str = "seized"
    cause: int | None = None
    times: dict[str, float] = field(default_factory=dict)
    heard_ms: int = 0  # connected ticks in which our audio was above -40 dBm0 (audio path)


class _Chan:
    def __init__(self, chanpos: int, audio: LineAudio) -> None:
        self.pos = chanpos
        self.audio = audio
        self.rx_off = False  # our A bit: off hook
        self.rx_since = 0.0
        self.tx_off = False
        self.call: FarEmCall | None = None
        self.seq = 0  # bumps on every state change: scheduled steps of an older state are stale
        self.rx: Any = None  # DTMF or MF R1 receiver while collecting
        self.gen: Any = None  # DTMF or MF R1 generator while sending
        self.got = ""
        self.groups: list[str] = []
        self.open = False  # MF: KP seen


class EmFarEnd:
    """The switch behind one T1 span's robbed-bit channels, speaking E&M."""

    def __init__(
        self,
        board: Any,
        span: int,
        start: str = "wink",
        address: str = "dtmf",
        ani: bool = False,
        incoming: str | int = "answer",
        answer_ms: float = 300.0,
    ) -> None:
        sp = board.span(span)
        if sp.kind != SpanKind.T1:
            raise BoardError(f"span {span}: E&M needs a T1 span (this one is {sp.kind.value})")
        if start not in ("wink", "immediate") or address not in ("dtmf", "mf"):
            raise BoardError(f"span {span}: E&M far end start={start!r} address={address!r} not known")
        cas = [c for c in sp.channels if c.signalling in (Signalling.CAS, Signalling.EM)]
        if not cas:
            raise BoardError(f"span {span}: no robbed-bit channels for an E&M far end")
        self.board = board
        self.span = span
        self.start = start
        self.address = address
        self.ani = ani
        self.incoming: str | int = incoming
        self.routes: dict[str, str | int] = {}
        self.answer_ms = answer_ms
        self.fe = board.far_ends[span]
        self.calls: list[FarEmCall] = []
        self.chans = {
            c.chanpos: _Chan(c.chanpos, LineAudio(board, board.row_of[c.channo], c.law)) for c in cas
        }
        self._active: set[int] = set()
        for pos in self.chans:
            self.fe.set_bits(pos, ONHOOK)
        self.fe.on_bits = self._on_bits
        board.line_taps.append(self._tap)

    # -- helpers -------------------------------------------------------------------------------

    def _now(self) -> float:
        return float(self.board.t / MS)

    def _hook(self, ch: _Chan, off: bool) -> None:
        ch.tx_off = off
        self.fe.set_bits(ch.pos, OFFHOOK if off else ONHOOK)

    def _set(self, c: FarEmCall, state: str) -> None:
        c.state = state
        c.times[state] = self._now()

    def _later(self, ch: _Chan, ms: float, fn: Any) -> None:
        """Run fn(ch) after ms unless the channel's state moves on first."""
        ch.seq += 1
        self.board.at(self._now() + ms, self._due, ch, ch.seq, fn)

    def _due(self, ch: _Chan, seq: int, fn: Any) -> None:
        if ch.seq == seq and ch.call is not None:
            fn(ch)

    def _gone(self, ch: _Chan, cause: int) -> None:
        c = ch.call
        if c is not None:
            if c.cause is None:
                c.cause = cause
            self._set(c, "released")
        ch.call = None
        ch.rx = ch.gen = None
        ch.seq += 1
        self._active.discard(ch.pos)
        self.fe.silence(ch.pos)

    # -- line ------------------------------------------------------------------------------------

    def _on_bits(self, pos: int, bits: int) -> None:
        ch = self.chans.get(pos)
        if ch is None:
            return
        off = bool(bits & A_BIT)
        if off == ch.rx_off:
            return
        now = self._now()
        held = now - ch.rx_since
        ch.rx_off, ch.rx_since = off, now
        c = ch.call
        if c is None:
            if off:
                self._seized(ch)
            return
        if not off:
            if c.direction == "out" and c.state == "wink":
                if RX_WINK_MS[0] <= held <= RX_WINK_MS[1]:
                    self._set(c, "winked")
                    self._later(ch, POST_WINK_MS, self._send_address)
                else:
                    self._set(c, "seized")
                return
            # we went on hook: the call is over (we cleared, or we follow the far party's clear)
            if ch.tx_off:
                self._hook(ch, False)
            self._gone(ch, NORMAL_CLEARING)
            return
        if c.direction == "out":
            if c.state == "seized" and self.start == "wink":
                self._set(c, "wink")
            elif c.state == "waiting":  # (while "sending": the tap connects when the address is out)
                self._set(c, "connected")
                self._active.add(ch.pos)

    def _seized(self, ch: _Chan) -> None:
        c = FarEmCall(ch.pos, "in")
        c.times["seized"] = self._now()
        self.calls.append(c)
        ch.call = c
        if self.start == "wink":
            self._later(ch, PREWINK_MS, self._wink)
        else:
            self._collect(ch)

    def _wink(self, ch: _Chan) -> None:
        self._hook(ch, True)
        self._later(ch, WINK_MS, self._wink_end)

    def _wink_end(self, ch: _Chan) -> None:
        self._hook(ch, False)
        self._collect(ch)

    def _collect(self, ch: _Chan) -> None:
        assert ch.call is not None
        self._set(ch.call, "collecting")
        law: Any = ch.audio.law
        ch.rx = mf.MfReceiver("r1", law=law) if self.address == "mf" else dtmf.DtmfReceiver(law=law)
        ch.got, ch.groups, ch.open = "", [], False
        self._active.add(ch.pos)

    # -- audio -----------------------------------------------------------------------------------

    def _tap(self, t: int) -> None:
        if not self._active:
            return
        talking: list[FarEmCall] = []
        audios: list[LineAudio] = []
        for pos in list(self._active):
            ch = self.chans[pos]
            c = ch.call
            if c is None:
                self._active.discard(pos)
            elif ch.rx is not None:
                for e in ch.rx.process(ch.audio.heard()):
                    if int(e["kind"]) != 1 or ch.rx is None:  # ON events (dtmf.ON == mf.ON == 1)
                        continue
                    if self.address == "mf":
                        self._symbol(ch, R1_SYMBOLS[int(e["signal"]) - 1])
                    else:
                        self._symbol(ch, e["digit"].decode())
            elif ch.gen is not None:
                ch.audio.say(ch.gen.generate(8))
                if ch.gen.pending == 0:
                    ch.gen = None
                    self._set(c, "waiting")
                    if ch.rx_off:  # answered while the address was going out
                        self._set(c, "connected")
                    else:
                        self._active.discard(pos)
            elif c.state == "connected":
                talking.append(c)
                audios.append(ch.audio)
        if talking:
            for c, yes in zip(talking, loud(self.board, audios), strict=True):
                c.heard_ms += int(yes)

    def _symbol(self, ch: _Chan, s: str) -> None:
        if self.address == "mf":
            if s == "*":
                ch.open, ch.got = True, ""
            elif ch.open and s in "#ABC":
                ch.open = False
                ch.groups.append(ch.got)
                if len(ch.groups) == (2 if self.ani else 1):
                    self._complete(ch)
            elif ch.open and s.isdigit():
                ch.got += s
            return
        if self.ani and s == "*":
            if ch.got:
                ch.groups.append(ch.got)
            ch.got = ""
        elif s == "#":
            ch.groups.append(ch.got)
            self._complete(ch)
        else:
            ch.got += s

    def _complete(self, ch: _Chan) -> None:
        c = ch.call
        assert c is not None
        ch.rx = None
        if self.ani and len(ch.groups) >= 2:
            c.calling = ch.groups[-2]
        c.called = ch.groups[-1] if ch.groups else ""
        how = self.routes.get(c.called, self.incoming)
        if how == "answer":
            self._set(c, "alerting")
            self._later(ch, self.answer_ms, self._answer)
        elif how == "ring":
            self._set(c, "alerting")
        else:
            c.cause = USER_BUSY if how == "busy" else int(how)
            self._set(c, "busy")
            self.fe.tone(ch.pos, "busy" if c.cause == USER_BUSY else "congestion")

    def _answer(self, ch: _Chan) -> None:
        assert ch.call is not None
        self._hook(ch, True)
        self._set(ch.call, "connected")
        self._active.add(ch.pos)

    # -- calls towards us --------------------------------------------------------------------------

    def _send_address(self, ch: _Chan) -> None:
        c = ch.call
        assert c is not None
        self._set(c, "sending")
        g: Any
        if self.address == "mf":
            g = mf.MfGenerator("r1", variant="r1")
            g.put(("*" + c.calling + "#" if self.ani else "") + "*" + c.called + "#")
        else:
            g = dtmf.DtmfGenerator(on_ms=80, off_ms=80)
            g.put(("*" + c.calling + "*" if self.ani else "") + c.called + "#")
        ch.gen = g
        self._active.add(ch.pos)

    def _no_wink(self, ch: _Chan) -> None:
        assert ch.call is not None
        if ch.call.state in ("seized", "wink"):
            self._hook(ch, False)
            self._gone(ch, 102)

    def call(self, called: str, calling: str = "", chanpos: int | None = None) -> FarEmCall:
        """Seize a trunk towards us (None: the lowest idle one) and send the address."""
        if chanpos is None:
            free = [p for p, ch in sorted(self.chans.items()) if ch.call is None and not ch.rx_off]
            if not free:
                raise BoardError(f"span {self.span}: the E&M far end has no idle trunk")
            chanpos = free[0]
        ch = self.chans.get(chanpos)
        if ch is None or ch.call is not None or ch.rx_off:
            raise BoardError(f"span {self.span}/{chanpos}: not an idle E&M trunk")
        c = FarEmCall(chanpos, "out", called, calling)
        c.times["seized"] = self._now()
        self.calls.append(c)
        ch.call = c
        self._hook(ch, True)
        if self.start == "wink":
            self._later(ch, WINK_WAIT_MS, self._no_wink)
        else:
            self._later(ch, IMMEDIATE_MS, self._send_address)
        return c

    def hangup(self, chanpos: int, cause: int = NORMAL_CLEARING) -> None:
        """The far party goes on hook; the call is over once we are on hook too."""
        ch = self.chans.get(chanpos)
        if ch is None or ch.call is None:
            raise BoardError(f"span {self.span}/{chanpos}: no call to clear")
        c = ch.call
        c.cause = cause
        self._set(c, "clearing")
        ch.rx = ch.gen = None
        ch.seq += 1
        self.fe.silence(ch.pos)
        if ch.tx_off:
            self._hook(ch, False)
        if not ch.rx_off:
            self._gone(ch, cause)

    def at(self, ms: float, action: str, *args: Any, **kwargs: Any) -> None:
        """Run one of the script's actions (call, hangup) at `ms` of board time."""
        if action not in ("call", "hangup"):
            raise BoardError(f"span {self.span}: the E&M far end has no action {action!r}")
        self.board.at(ms, getattr(self, action), *args, **kwargs)

    def state(self, chanpos: int) -> str:
        c = self.chans[chanpos].call
        return "idle" if c is None else c.state


def attach(board: Any, **kw: Any) -> dict[int, EmFarEnd]:
    """An E&M far end on every T1 span of `board` with robbed-bit channels, by span number."""
    out = {}
    for s in board.spans:
        if s.kind == SpanKind.T1 and any(c.signalling in (Signalling.CAS, Signalling.EM) for c in s.channels):
            out[s.number] = EmFarEnd(board, s.number, **kw)
    return out
