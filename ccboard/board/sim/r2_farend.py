"""The sim's MFC/R2 far end: the PSTN switch on the far side of an E1 CAS span, so our R2 end
talks to an exchange over the sim's real TS16 multiframe and real MF audio.

It calls us (seize, DNIS/ANI/category by compelled forward signals, waits for the answer,
clears forward) and takes our calls (seizure acknowledged, asks for DNIS, category and ANI with
group A signals, gives a group B signal, answers, clears back). It is its own implementation of
Q.421/Q.441 from a small table of facts (FAR_VARIANTS: ITU and China), not our signalling layer
(which the board layer may not import): the two ends check each other.

Audio is live, never rendered ahead. A line tap (SimBoard.line_taps) runs in every tick after the
far-end audio is coded: it feeds the octets we sent in that tick to the channel's MF receiver
(ccboard.dsp.mf, our kernel, reading G.711 directly) and, while the far end sounds a signal,
overwrites the channel's far-end octets with its MF generator's next 8 samples. So its tone
starts and stops in reaction to the tones it detects: the compelled cycle runs over the line.

Line signals go through the span's CAS bits (FarEnd.set_bits / FarEnd.on_bits), as ABCD with the
variant's static CD. Behaviour per span, changeable at any time (like PriFarEnd):
  incoming   what the exchange does with our calls: 'answer' (group B accept, answer signal
             after answer_ms), 'ring' (accept, never answer), 'busy' (group B busy), or an int
             Q.850 cause (1 unallocated, 17 busy, 34/42 congestion, 27 out of order).
  routes     called number -> one of these, wins over `incoming`.
  call()     the exchange places a call towards us; hangup() the far party clears.
Timers: a seizure not acknowledged in 2 s, or a compelled cycle with no MF change for 5 s, ends
the call with cause 102 (clear forward / clear back). Every call is a FarR2Call with its state,
cause and the board time (ms) of each step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ccboard.board.channel import Signalling
from ccboard.board.sim.farend import MS
from ccboard.board.span import SpanKind
from ccboard.dsp import g711, mf
from ccboard.errors import BoardError

NORMAL_CLEARING = 16
USER_BUSY = 17
# AB of the line signals (Q.421 digital version; REFERENCE.md "E1 CAS line signalling")
AB_IDLE, AB_SEIZE, AB_ACK, AB_ANSWER = 0b10, 0b00, 0b11, 0b01
AB_CLEAR_BACK, AB_CLEAR_FWD = 0b11, 0b10


@dataclass(frozen=True)
class FarR2Variant:
    """What the exchange needs of an R2 variant (Q.441 signal numbers, 10 = digit 0)."""

    name: str
    cd: int  # static C and D bits
    mf: str  # the MF kernel's level/timing row ('r2_itu', 'r2_china')
    next_dnis: int = 1
    next_ani: int = 5  # A-5 (also the first request for the category)
    category: int = 5
    change_to_b: int = 3  # address complete, group B follows
    congestion_a: int = 4
    accept: int = 6  # B-6 subscriber free, charge
    busy: int = 3
    congestion: int = 4
    unallocated: int = 5
    out_of_order: int = 8
    end_dnis: int = 15  # I-15 (0: the variant has none, the count or a timeout ends DNIS)
    end_ani: int = 15
    ani_restricted: int = 12
    max_ani: int = 10
    calling_category: int = 1  # II-1 national subscriber


FAR_VARIANTS: dict[str, FarR2Variant] = {
    "itu": FarR2Variant("itu", 0b01, "r2_itu"),
    # China No.1 (OpenR2 r2config_china, REFERENCE.md): CD = 11, A-1 next digit (ANI or DNIS),
    # A-6 category, B-1 accept, B-2 busy, no end-of-DNIS signal
    "cn": FarR2Variant("cn", 0b11, "r2_china", next_ani=1, category=6, accept=1, busy=2, end_dnis=0),
}
MF_SILENT_MS = 1500  # backward end: the forward end went quiet mid-DNIS -> pulsed A-3 (ITU Q.442)
PULSE_MS = 150  # a pulsed backward signal's length (Q.442: 150 +/- 50 ms)
DOUBLE_SEIZURE_HOLD_MS = 100  # both ends seized: keep ours on this long before clearing
SEIZE_ACK_MS = 2000  # seizure sent, not acknowledged: clear forward (OpenR2's r2_seize)
MF_CYCLE_MS = 5000  # no MF change for this long: the compelled cycle broke, give up (cause 102)


class LineAudio:
    """One channel's line as a far end hears and speaks it, within a tick (see line_taps)."""

    def __init__(self, board: Any, row: int, law: str) -> None:
        self.board = board
        self.row = row
        self.law = law
        self._encode = g711.alaw_encode if law == "alaw" else g711.ulaw_encode
        self.decode = g711.alaw_decode if law == "alaw" else g711.ulaw_decode

    def heard(self) -> npt.NDArray[np.uint8]:
        """The 8 octets we sent on this channel in the current tick."""
        out: npt.NDArray[np.uint8] = self.board.txl[self.row]
        return out

    def say(self, x: npt.NDArray[np.int16]) -> None:
        """Send 8 linear samples in place of the far end's audio of this tick."""
        self._encode(x, out=self.board.ftx[self.row])


LOUD = 8 * 230**2  # energy of a tick above about -40 dBm0 (int16 scale, 0 dBm0 peak 22767)


def loud(board: Any, audios: list[LineAudio]) -> npt.NDArray[np.bool_]:
    """Which of the channels carried our audio above -40 dBm0 in the current tick (one gather and
    one decode for all of them: a far end checks every connected call in every tick)."""
    rows = np.fromiter((a.row for a in audios), np.intp, len(audios))
    x = audios[0].decode(np.ascontiguousarray(board.txl[rows])).astype(np.int32)
    out: npt.NDArray[np.bool_] = np.einsum("ij,ij->i", x, x) > LOUD
    return out


@dataclass
class FarR2Call:
    """A call as the exchange sees it: direction 'in' (from us) or 'out' (towards us)."""

    chanpos: int
    direction: str
    called: str = ""
    calling: str = ""
    category: int = 0
    state: str = "seized"  # seized, register, alerting, connected, clearing, released
    cause: int | None = None
    times: dict[str, float] = field(default_factory=dict)
    heard_ms: int = 0  # connected ticks in which our audio was above -40 dBm0 (audio path)


class _Chan:
    """One channel's register (compelled MF) and line state."""

    def __init__(self, chanpos: int, audio: LineAudio) -> None:
        self.pos = chanpos
        self.audio = audio
        self.rx_ab = AB_IDLE  # what we (the board's side) send
        self.call: FarR2Call | None = None
        self.rx: mf.MfReceiver | None = None
        self.gen: mf.MfGenerator | None = None
        self.tone = 0  # signal the far end sounds
        self.heard = 0  # signal it hears (ON seen, OFF not yet)
        # forward register (call 'out')
        self.dnis_pos = 0
        self.ani_pos = 0
        self.mode = "dnis"
        self.group = "A"
        self.category_sent = False
        self.silent_since: float | None = None
        self.mf_at = 0.0  # board time (ms) of the register's last MF event
        # backward register (call 'in')
        self.asked = "dnis"
        self.final = 0
        self.ani_done = False
        self.dnis_done = False
        self.category_done = False
        self.pulse_end: float | None = None


class R2FarEnd:
    """The exchange behind one E1 CAS span of a SimBoard, speaking MFC/R2 (variant 'itu' or 'cn')."""

    def __init__(
        self,
        board: Any,
        span: int,
        variant: str = "itu",
        incoming: str | int = "answer",
        answer_ms: float = 300.0,
        max_dnis: int = 4,
    ) -> None:
        sp = board.span(span)
        if sp.kind != SpanKind.E1:
            raise BoardError(f"span {span}: MFC/R2 needs an E1 span (this one is {sp.kind.value})")
        cas = [c for c in sp.channels if c.signalling == Signalling.CAS]
        if not cas:
            raise BoardError(f"span {span}: no CAS channels (an R2 far end needs a CAS span)")
        if variant not in FAR_VARIANTS:
            raise BoardError(f"span {span}: R2 far end variant {variant!r} not in {sorted(FAR_VARIANTS)}")
        self.board = board
        self.span = span
        self.v = FAR_VARIANTS[variant]
        self.fe = board.far_ends[span]
        self.incoming: str | int = incoming
        self.routes: dict[str, str | int] = {}
        self.answer_ms = answer_ms
        self.max_dnis = max_dnis
        self.calls: list[FarR2Call] = []  # every call, oldest first
        self.chans = {
            c.chanpos: _Chan(c.chanpos, LineAudio(board, board.row_of[c.channo], c.law)) for c in cas
        }
        self._active: set[int] = set()  # chanpos whose register or audio path the tap runs
        for pos in self.chans:
            self.fe.set_bits(pos, self._bits(AB_IDLE))
        self.fe.on_bits = self._on_bits
        board.line_taps.append(self._tap)

    # -- helpers -------------------------------------------------------------------------------

    def _now(self) -> float:
        return float(self.board.t / MS)

    def _bits(self, ab: int) -> int:
        return (ab << 2) | self.v.cd

    def _send(self, ch: _Chan, ab: int) -> None:
        self.fe.set_bits(ch.pos, self._bits(ab))

    def _set(self, c: FarR2Call, state: str) -> None:
        c.state = state
        c.times[state] = self._now()

    def _start_register(self, ch: _Chan, listen: str, speak: str) -> None:
        ch.rx = mf.MfReceiver(listen, law=ch.audio.law)  # type: ignore[arg-type]
        ch.gen = mf.MfGenerator(speak, variant=self.v.mf)  # type: ignore[arg-type]
        ch.tone = ch.heard = 0
        ch.mf_at = self._now()
        self._active.add(ch.pos)

    def _stop_register(self, ch: _Chan) -> None:
        ch.rx = None
        ch.gen = None
        ch.tone = ch.heard = 0
        ch.pulse_end = ch.silent_since = None

    def _sound(self, ch: _Chan, signal: int) -> None:
        assert ch.gen is not None
        ch.tone = signal
        if signal:
            ch.gen.start(signal)
        else:
            ch.gen.stop()

    def _gone(self, ch: _Chan, cause: int) -> None:
        c = ch.call
        if c is not None:
            if c.cause is None:
                c.cause = cause
            self._set(c, "released")
        ch.call = None
        self._stop_register(ch)
        self._active.discard(ch.pos)

    def _route(self, called: str) -> str | int:
        return self.routes.get(called, self.incoming)

    # -- line signals ----------------------------------------------------------------------------

    def _on_bits(self, pos: int, bits: int) -> None:
        ch = self.chans.get(pos)
        if ch is None:
            return
        ab = (bits >> 2) & 0b11
        if ab == ch.rx_ab:
            return
        ch.rx_ab = ab
        c = ch.call
        if c is None:
            if ab == AB_SEIZE:
                self._seized(ch)
            return
        if c.direction == "in":  # we are the backward end: forward signals from the board
            if ab == AB_CLEAR_FWD:
                self._send(ch, AB_IDLE)  # release guard
                self._gone(ch, NORMAL_CLEARING)
            return
        # we are the forward end: backward signals
        if c.state == "seized" and ab == AB_ACK:
            self._set(c, "register")
            self._start_register(ch, "r2_bwd", "r2_fwd")
            self._next_dnis(ch)
        elif ab == AB_ANSWER and c.state in ("register", "alerting"):
            self._set(c, "connected")
        elif ab == AB_CLEAR_BACK and c.state == "connected":
            self._clear_forward(ch, NORMAL_CLEARING)
        elif ab == AB_IDLE and c.state == "clearing":
            self._gone(ch, NORMAL_CLEARING)
        elif ab == AB_IDLE and c.state != "seized":
            # idle without clear back: the circuit was lost under us (our end's span alarm)
            self._clear_forward(ch, 41)
        elif ab == AB_SEIZE and c.state == "seized":
            # double seizure: both ends seized the circuit. Hold ours long enough for the other
            # end to see it (CAS reads a change after two equal multiframes), then back off.
            self.board.at(self._now() + DOUBLE_SEIZURE_HOLD_MS, self._back_off, ch, c)

    def _seized(self, ch: _Chan) -> None:
        c = FarR2Call(ch.pos, "in")
        c.times["seized"] = self._now()
        self.calls.append(c)
        ch.call = c
        self._send(ch, AB_ACK)
        ch.asked, ch.final = "dnis", 0
        ch.ani_done = ch.dnis_done = ch.category_done = False
        self._set(c, "register")
        self._start_register(ch, "r2_fwd", "r2_bwd")

    def _clear_forward(self, ch: _Chan, cause: int) -> None:
        c = ch.call
        assert c is not None
        if c.cause is None:
            c.cause = cause
        self._set(c, "clearing")
        self._stop_register(ch)
        self._send(ch, AB_CLEAR_FWD)
        if ch.rx_ab == AB_IDLE:
            self._gone(ch, cause)

    def _no_ack(self, ch: _Chan, c: FarR2Call) -> None:
        if ch.call is c and c.state == "seized":
            self._clear_forward(ch, 102)

    def _back_off(self, ch: _Chan, c: FarR2Call) -> None:
        if ch.call is c and c.state == "seized":
            self._clear_forward(ch, 44)

    def _answer(self, pos: int) -> None:
        ch = self.chans[pos]
        c = ch.call
        if c is None or c.direction != "in" or c.state != "alerting":
            return
        self._send(ch, AB_ANSWER)
        self._set(c, "connected")

    # -- the tap: MF both ways, and the audio path ------------------------------------------------

    def _tap(self, t: int) -> None:
        if not self._active:
            return
        now = t / MS
        talking: list[FarR2Call] = []
        audios: list[LineAudio] = []
        for pos in list(self._active):
            ch = self.chans[pos]
            c = ch.call
            if c is None:
                self._active.discard(pos)
                continue
            if ch.rx is None:
                if c.state == "connected":
                    talking.append(c)
                    audios.append(ch.audio)
                continue
            rx = ch.rx
            for e in rx.process(ch.audio.heard()):
                if ch.rx is not rx:
                    break  # an earlier event of this tick ended the register
                if int(e["kind"]) == mf.ON:
                    ch.heard = int(e["signal"])
                    self._heard_on(ch, ch.heard, now)
                else:
                    sig, ch.heard = ch.heard, 0
                    self._heard_off(ch, sig, now)
            if ch.rx is not rx:
                continue
            self._timers(ch, now)
            if ch.gen is not None and ch.tone:
                ch.audio.say(ch.gen.generate(8))
        if talking:
            for c, yes in zip(talking, loud(self.board, audios), strict=True):
                c.heard_ms += int(yes)

    def _timers(self, ch: _Chan, now: float) -> None:
        if ch.pulse_end is not None and now >= ch.pulse_end:
            ch.pulse_end = None
            self._sound(ch, 0)
        c = ch.call
        if c is not None and now - ch.mf_at >= MF_CYCLE_MS:
            if c.direction == "out":
                self._clear_forward(ch, 102)
            else:
                c.cause = 102
                self._stop_register(ch)
                self._send(ch, AB_CLEAR_BACK)  # and wait for the clear forward
                self._set(c, "clearing")
            return
        if (
            c is not None
            and c.direction == "in"
            and ch.silent_since is not None
            and now - ch.silent_since >= MF_SILENT_MS
            and ch.asked == "dnis"
            and c.called
        ):
            # the forward end has no more digits and the variant no signal to say so
            ch.silent_since = None
            ch.dnis_done = True
            self._ask(ch)
            ch.pulse_end = now + PULSE_MS

    def _heard_on(self, ch: _Chan, sig: int, now: float) -> None:
        c = ch.call
        assert c is not None
        ch.silent_since = None
        ch.mf_at = now
        if c.direction == "out":
            self._sound(ch, 0)  # compelled: the backward signal stops ours
            return
        if ch.final:
            return
        self._take(ch, sig)
        self._ask(ch)

    def _heard_off(self, ch: _Chan, sig: int, now: float) -> None:
        c = ch.call
        assert c is not None
        ch.mf_at = now
        if c.direction == "in":
            if ch.pulse_end is None:
                self._sound(ch, 0)  # the forward signal ended: ours ends
            ch.silent_since = now
            if ch.final:
                self._register_done(ch)
            return
        if sig:
            self._respond(ch, sig)

    # -- backward register (our call to the exchange) --------------------------------------------

    def _take(self, ch: _Chan, sig: int) -> None:
        """A forward signal, read by what was asked."""
        c = ch.call
        v = self.v
        assert c is not None
        digit = "0" if sig == 10 else str(sig)
        if ch.asked == "dnis":
            if 1 <= sig <= 10:
                c.called += digit
                ch.dnis_done = len(c.called) >= self.max_dnis
            elif v.end_dnis and sig == v.end_dnis:
                ch.dnis_done = True
        elif ch.asked == "ani":
            if 1 <= sig <= 10:
                c.calling += digit
                ch.ani_done = len(c.calling) >= v.max_ani
            else:
                ch.ani_done = sig in (v.end_ani, v.ani_restricted)
        elif ch.asked == "category":
            c.category = sig
            ch.category_done = True
        elif ch.asked == "category_ii":
            c.category = sig
            how = self._route(c.called)
            ch.final = self._group_b(how)
            if ch.final == self.v.accept:
                self._set(c, "alerting")
                if how == "answer":
                    self.board.at(self._now() + self.answer_ms, self._answer, ch.pos)
            else:
                c.cause = USER_BUSY if how == "busy" else int(how)

    def _group_b(self, how: str | int) -> int:
        v = self.v
        if how in ("answer", "ring"):
            return v.accept
        return {
            1: v.unallocated,
            27: v.out_of_order,
            34: v.congestion,
            42: v.congestion,
        }.get(how if isinstance(how, int) else USER_BUSY, v.busy)

    def _ask(self, ch: _Chan) -> None:
        """Sound the next request (group A) or the group B answer."""
        v = self.v
        if ch.final:
            self._sound(ch, ch.final)
            return
        if ch.asked == "category_ii":
            return
        if not ch.category_done:
            ch.asked, sig = "category", v.category
        elif not ch.ani_done:
            ch.asked, sig = "ani", v.next_ani
        elif not ch.dnis_done:
            ch.asked, sig = "dnis", v.next_dnis
        else:
            ch.asked, sig = "category_ii", v.change_to_b
        self._sound(ch, sig)

    def _register_done(self, ch: _Chan) -> None:
        c = ch.call
        assert c is not None
        self._stop_register(ch)
        if c.state != "alerting":
            self._send(ch, AB_CLEAR_BACK)  # refused: wait for the clear forward
            self._set(c, "clearing")
            self._active.discard(ch.pos)

    # -- forward register (the exchange's call to us) --------------------------------------------

    def _next_dnis(self, ch: _Chan) -> None:
        c = ch.call
        assert c is not None
        ch.mode = "dnis"
        if ch.dnis_pos < len(c.called):
            d = c.called[ch.dnis_pos]
            ch.dnis_pos += 1
            self._sound(ch, 10 if d == "0" else int(d))
        elif self.v.end_dnis:
            self._sound(ch, self.v.end_dnis)
        # else: silence until the backward end's pulsed request

    def _next_ani(self, ch: _Chan) -> None:
        c = ch.call
        assert c is not None
        v = self.v
        if ch.ani_pos < min(len(c.calling), v.max_ani):
            d = c.calling[ch.ani_pos]
            ch.ani_pos += 1
            if ch.ani_pos >= v.max_ani:
                ch.mode = "dnis"
            self._sound(ch, 10 if d == "0" else int(d))
        else:
            ch.mode = "dnis"
            self._sound(ch, v.end_ani)

    def _respond(self, ch: _Chan, sig: int) -> None:
        """A backward signal ended: send what it asked for."""
        v = self.v
        c = ch.call
        assert c is not None
        if ch.group == "A":
            if sig == v.category and not ch.category_sent:
                ch.category_sent = True
                ch.mode = "ani"
                self._sound(ch, c.category or v.calling_category)
            elif sig == v.next_ani and (ch.mode == "ani" or v.next_ani != v.next_dnis):
                self._next_ani(ch)
            elif sig == v.next_dnis:
                self._next_dnis(ch)
            elif sig == v.change_to_b:
                ch.group = "B"
                self._sound(ch, c.category or v.calling_category)
            elif sig == v.congestion_a:
                self._clear_forward(ch, 42)
            else:
                self._clear_forward(ch, 111)
            return
        self._stop_register(ch)
        self._active.discard(ch.pos)
        if sig == v.accept:
            self._set(c, "alerting")
            self._active.add(ch.pos)  # the audio path, once connected
            return
        cause = {v.busy: USER_BUSY, v.unallocated: 1, v.congestion: 42, v.out_of_order: 27}.get(sig, 31)
        self._clear_forward(ch, cause)

    # -- the exchange's script ------------------------------------------------------------------

    def call(
        self, called: str, calling: str = "", chanpos: int | None = None, category: int = 0
    ) -> FarR2Call:
        """Seize a circuit towards us (None: the lowest idle one) and send the address when we
        acknowledge the seizure."""
        if chanpos is None:
            free = [p for p, ch in sorted(self.chans.items()) if ch.call is None and ch.rx_ab == AB_IDLE]
            if not free:
                raise BoardError(f"span {self.span}: the R2 far end has no idle circuit")
            chanpos = free[0]
        ch = self.chans.get(chanpos)
        if ch is None or ch.call is not None or ch.rx_ab != AB_IDLE:
            raise BoardError(f"span {self.span}/{chanpos}: not an idle R2 circuit")
        for d in called + calling:
            if not d.isdigit():
                raise BoardError(f"span {self.span}: R2 carries decimal digits only, not {d!r}")
        c = FarR2Call(chanpos, "out", called, calling, category)
        c.times["seized"] = self._now()
        self.calls.append(c)
        ch.call = c
        ch.dnis_pos = ch.ani_pos = 0
        ch.mode, ch.group, ch.category_sent = "dnis", "A", False
        self._send(ch, AB_SEIZE)
        self.board.at(self._now() + SEIZE_ACK_MS, self._no_ack, ch, c)
        return c

    def hangup(self, chanpos: int, cause: int = NORMAL_CLEARING) -> None:
        """The far party clears: clear forward on its calls, clear back on ours."""
        ch = self.chans.get(chanpos)
        if ch is None or ch.call is None:
            raise BoardError(f"span {self.span}/{chanpos}: no call to clear")
        c = ch.call
        if c.direction == "out":
            self._clear_forward(ch, cause)
            return
        if c.state not in ("alerting", "connected"):
            raise BoardError(f"span {self.span}/{chanpos}: the register is running, nothing to clear back")
        c.cause = cause
        self._set(c, "clearing")
        self._send(ch, AB_CLEAR_BACK)

    def at(self, ms: float, action: str, *args: Any, **kwargs: Any) -> None:
        """Run one of the script's actions (call, hangup) at `ms` of board time."""
        if action not in ("call", "hangup"):
            raise BoardError(f"span {self.span}: the R2 far end has no action {action!r}")
        self.board.at(ms, getattr(self, action), *args, **kwargs)

    def state(self, chanpos: int) -> str:
        """The exchange's state of the call on chanpos ('idle' if none)."""
        c = self.chans[chanpos].call
        return "idle" if c is None else c.state


def attach(board: Any, variant: str = "itu", **kw: Any) -> dict[int, R2FarEnd]:
    """An R2 far end on every E1 CAS span of `board`, by span number."""
    out = {}
    for s in board.spans:
        if s.kind == SpanKind.E1 and any(c.signalling == Signalling.CAS for c in s.channels):
            out[s.number] = R2FarEnd(board, s.number, variant, **kw)
    return out
