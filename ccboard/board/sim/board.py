"""SimBoard: a board with no hardware, whose lines run real framing against simulated far ends.

Every timeslot and analog port is a *line row* (8 octets per tick): E1 spans 32 rows each (TS0..31),
T1 spans 24, analog ports 1, plus one idle row for channels without a line. A tick:
  1. scheduled actions (far-end scripts, faults) due in this tick run; analog ports step;
  2. our tx octets go into the tx line rows; our E1/T1 framers add framing, CAS/robbed bits and
     CRC; tx faults; the far ends' receivers read it (their alarms drive RAI / E bits back);
     E1 framing both ways is the native kernel (ccboard.dsp.e1), one call per group and side;
  3. the far-end audio (one slice of the Renderer's ring) plus hybrid echo of our tx (delay,
     ERL) is G.711-coded into the far ends' line rows by the native mixer (ccboard.dsp.farmix,
     which keeps our tx history); their framers frame it; rx faults; our
     receivers read the bits: alarms, counters, CAS bits; the elastic store (controlled slips)
     hands the payload to the board's rx_line; spans in alarm deliver the idle code;
  4. the Renderer renders the next chunk of one group of rows.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ccboard.board.base import IDLE_OCTET, Board
from ccboard.board.channel import Signalling
from ccboard.board.events import (
    Alarm,
    AlarmChanged,
    BitsChanged,
    ChannelAlarm,
    Event,
    FrameReceived,
)
from ccboard.board.sim import e1, t1
from ccboard.board.sim.analog import FxoPort, FxsPort, ring_cadence
from ccboard.board.sim.farend import (
    MS,
    TONES,
    Clip,
    Renderer,
    Schedule,
    Tone,
    human_dtmf,
    load_wav,
)
from ccboard.board.sim.faults import Faults
from ccboard.board.span import Framing, Span, SpanKind
from ccboard.dsp import farmix
from ccboard.errors import BoardError

HIST_TICKS = 256  # ticks of our tx kept per row for the hybrid echo (256 ms)
STORE_NOMINAL = 4  # elastic store delay, frames (0.5 ms)
NEVER = 1 << 62


@dataclass
class FarEndSettings:
    """The line and far-end settings the sim needs for one span (see config.FarEndConfig)."""

    noise_dbm0: float | None = -65.0
    loss_db: float = 0.0
    echo_erl_db: float | None = None  # None: no echo
    echo_delay_ms: float = 8.0
    zone: str = "us"


class _Digital:
    """One group of same-kind digital spans: line arrays, both ends' framers and receivers."""

    def __init__(self, kind: SpanKind, spans: list[Span], row0: int) -> None:
        self.kind = kind
        self.spans = spans
        self.numbers = [s.number for s in spans]
        self.index = {s.number: i for i, s in enumerate(spans)}
        self.slots = 32 if kind == SpanKind.E1 else 24
        self.row0 = row0
        self.row1 = row0 + self.slots * len(spans)
        n = len(spans)
        if kind == SpanKind.E1:
            crc4 = [s.crc4 for s in spans]
            cas = [s.framing != Framing.CCS for s in spans]
            self.near_tx: Any = e1.E1Framer(n, crc4, cas)
            self.far_rx: Any = e1.E1Deframer(n, crc4, cas)
            self.far_tx: Any = e1.E1Framer(n, crc4, cas, phase=1)
            self.near_rx: Any = e1.E1Deframer(n, crc4, cas)
            self.ftx_f = self.tx_f = None
        else:
            cas = [
                any(
                    c.signalling in (Signalling.CAS, Signalling.EM)
                    or c.signalling.is_fxo_port
                    or c.signalling.is_fxs_port
                    for c in s.channels
                )
                for s in spans
            ]
            self.near_tx = t1.T1Framer(n, cas)
            self.far_rx = t1.T1Deframer(n, cas)
            self.far_tx = t1.T1Framer(n, cas, phase=2)
            self.near_rx = t1.T1Deframer(n, cas)
            self.tx_f = np.zeros((n, 8), np.uint8)
            self.ftx_f = np.zeros((n, 8), np.uint8)
        self.prev = np.zeros((n, self.slots, 8), np.uint8)
        self.delay = np.full(n, STORE_NOMINAL, np.int64)
        self.alarms = [Alarm.NONE] * n
        self.far_red = np.zeros(n, bool)
        self.rai_forced = np.zeros(n, bool)
        self.steady = False  # no alarm on any span as of the last look
        self.slipped = False  # some span's elastic store is off its nominal delay

    def set_ais(self, span: int, on: bool) -> None:
        if self.kind == SpanKind.E1:
            self.far_tx.set_ais(self.index[span], on)
        else:
            self.far_tx.ais[self.index[span]] = on

    def set_rai(self, span: int, on: bool) -> None:
        self.rai_forced[self.index[span]] = on


class SimBoard(Board):
    """The simulated board (URL scheme sim://)."""

    def __init__(
        self,
        spans: Sequence[Span],
        settings: dict[int, FarEndSettings] | None = None,
        seed: int = 1,
        cas_idle: dict[int, int] | None = None,
        name: str = "sim",
    ) -> None:
        for s in spans:
            if s.kind == SpanKind.T1 and s.framing == Framing.D4:
                raise BoardError(f"span {s.number}: the sim models T1 ESF framing only (not D4)")
        super().__init__(spans)
        self.name = name
        self.seed = seed
        self.settings = {s.number: (settings or {}).get(s.number, FarEndSettings()) for s in self.spans}
        e1s = [s for s in self.spans if s.kind == SpanKind.E1]
        t1s = [s for s in self.spans if s.kind == SpanKind.T1]
        analog = [c for s in self.spans if s.kind == SpanKind.ANALOG for c in s.channels]
        self.groups: list[_Digital] = []
        row = 0
        for kind, group in ((SpanKind.E1, e1s), (SpanKind.T1, t1s)):
            if group:
                g = _Digital(kind, group, row)
                self.groups.append(g)
                row = g.row1
        self._analog0 = row
        self.rows = row + len(analog) + 1
        self.idle_row = self.rows - 1
        # line row of every channel, and the law of every row
        self.row_of: dict[int, int] = {}
        law = np.zeros(self.rows, np.int8)  # 0 alaw, 1 ulaw
        for g in self.groups:
            for i, s in enumerate(g.spans):
                law[g.row0 + i * g.slots : g.row0 + (i + 1) * g.slots] = 0 if g.kind == SpanKind.E1 else 1
                for c in s.channels:
                    self.row_of[c.channo] = (
                        g.row0 + i * g.slots + (c.chanpos if g.kind == SpanKind.E1 else c.chanpos - 1)
                    )
        for k, c in enumerate(analog):
            self.row_of[c.channo] = self._analog0 + k
            law[self._analog0 + k] = 0 if c.law == "alaw" else 1
        self.ftx = np.zeros((self.rows, 8), np.uint8)  # what the far ends send, on the wire
        self.txl = np.zeros((self.rows, 8), np.uint8)  # what we send, on the wire
        self.rxl = np.zeros((self.rows, 8), np.uint8)  # what reaches our rx_line (after the store)
        self.idle = np.where(law == 0, IDLE_OCTET["alaw"], IDLE_OCTET["ulaw"]).astype(np.uint8)
        self.rxl[:] = self.idle[:, None]
        for g in self.groups:  # the elastic store starts full of idle code
            g.prev[:] = self.idle[g.row0 : g.row1].reshape(len(g.spans), g.slots, 1)
        self._map = np.array([self.row_of.get(c.channo, self.idle_row) for c in self.channels], np.intp)
        voice = self.channels[self._voice]
        self._voice_rows = np.array([self.row_of.get(c.channo, self.idle_row) for c in voice], np.intp)
        # far ends
        self.renderer = Renderer(self.rows, seed)
        # the far ends' line mixer (native): far-end audio + hybrid echo of our tx, G.711-coded;
        # it keeps HIST_TICKS ticks of our tx per row for the echo paths
        self._mixer = farmix.FarMixer(["alaw" if v == 0 else "ulaw" for v in law], HIST_TICKS)
        self._voice_rows64 = self._voice_rows.astype(np.int64)
        self.echo_q15 = np.zeros(self.rows, np.int32)
        self.echo_ticks = np.full(self.rows, 8, np.intp)  # echo path delay in ticks (ms)
        self._echo_on = False  # some row has a live echo path (its history is kept)
        self.schedule = Schedule()
        self.faults = Faults(self, seed)
        self.fxs: dict[int, FxsPort] = {}
        self.fxo: dict[int, FxoPort] = {}
        for c in analog:
            zone = self.settings[c.span].zone
            if c.signalling.is_fxs_port:
                self.fxs[c.channo] = FxsPort(c.channo)
            elif c.signalling.is_fxo_port:
                self.fxo[c.channo] = FxoPort(c.channo, kewl=c.signalling == Signalling.FXSKS, zone=zone)
        self._ports: list[FxsPort | FxoPort] = [*self.fxs.values(), *self.fxo.values()]
        # only ports that were touched (hook, ring, cable) or whose own deadline falls in a tick
        # are stepped: 960 idle ports cost nothing, as on a real board
        self._port_index = {p.channo: i for i, p in enumerate(self._ports)}
        self._touched: set[int] = set(range(len(self._ports)))  # indices into _ports
        self._due: list[tuple[int, int]] = []  # heap of (deadline, port index), stale entries kept
        self._port_due = [NEVER] * len(self._ports)
        self._pending: list[Event] = []
        self.far_ends = {s.number: FarEnd(self, s) for s in self.spans}
        for s in self.spans:
            st = self.settings[s.number]
            fe = self.far_ends[s.number]
            fe.noise(st.noise_dbm0)
            fe.loss(st.loss_db)
            fe.echo(st.echo_erl_db, st.echo_delay_ms)
        for channo, bits in (cas_idle or {}).items():
            self._set_bits(channo, bits, far=True)
            self._set_bits(channo, bits, far=False)
        # D-channels: HDLC both ways (ours and the far end's), on the channel's line row
        self._dchans = [
            c for c in self.channels if c.signalling == Signalling.DCHAN and c.channo in self.row_of
        ]
        self._drows = np.array([self.row_of[c.channo] for c in self._dchans], np.intp)
        if self._dchans:
            from ccboard.dsp import hdlc

            ids = np.array([c.channo for c in self._dchans], np.int64)
            self._hdlc_tx = [hdlc.HdlcTransmitter() for _ in self._dchans]
            self._hdlc_far_tx = [hdlc.HdlcTransmitter() for _ in self._dchans]
            self._hdlc_rx = hdlc.HdlcReceiverBank(len(ids), channel_ids=ids)
            self._hdlc_far_rx = hdlc.HdlcReceiverBank(len(ids), channel_ids=ids)
            self._hdlc_ok = hdlc.OK
            self._dindex = {c.channo: i for i, c in enumerate(self._dchans)}
        self._closed = False
        # tap(t) after the far-end audio of tick t is coded: a tap may read txl (what we sent this
        # tick, framed) and overwrite ftx rows (what the far end sends, before its framing)
        self.line_taps: list[Callable[[int], None]] = []

    # -- lookups for the far ends and faults ----------------------------------------------------

    def _digital(self, span: int) -> tuple[_Digital, int]:
        for g in self.groups:
            if span in g.index:
                return g, g.index[span]
        raise BoardError(f"span {span}: not a digital span of this board")

    def _far_transmitter(self, span: int) -> _Digital:
        return self._digital(span)[0]

    def _analog_cable(self, span: int, connected: bool) -> None:
        for c in self.span(span).channels:
            port = self.fxs.get(c.channo) or self.fxo.get(c.channo)
            if port is not None:
                port.set_connected(self.t, connected)
                self._touch(port)

    def _set_bits(self, channo: int, bits: int, far: bool) -> None:
        ch = self.channel(channo)
        for g in self.groups:
            if ch.span in g.index:
                i = g.index[ch.span]
                slot = ch.chanpos if g.kind == SpanKind.E1 else ch.chanpos - 1
                (g.far_tx if far else g.near_tx).set_bits(i, slot, bits)
                return
        raise BoardError(f"{ch}: not a CAS channel (no ABCD bits on an analog port)")

    def at(self, ms: float, fn: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        """Run fn(*args, **kwargs) at the start of the tick holding time `ms` (since start)."""
        self.schedule.at(int(round(ms * MS)), fn, *args, **kwargs)

    # -- Board's line controls -----------------------------------------------------------------

    def set_tx_bits(self, channo: int, bits: int) -> None:
        self._set_bits(channo, bits, far=False)
        self.channel(channo).tx_bits = bits & 0xF

    def set_hook(self, channo: int, offhook: bool) -> None:
        port = self.fxo.get(channo)
        if port is None:
            raise BoardError(f"{self.channel(channo)}: set_hook needs an FXO port")
        port.set_hook(self.t, offhook)
        self._touch(port)

    def set_ring(self, channo: int, ringing: bool) -> None:
        port = self.fxs.get(channo)
        if port is None:
            raise BoardError(f"{self.channel(channo)}: set_ring needs an FXS port")
        port.set_ring(self.t, ringing)
        self.channel(channo).ringing = port.ringing
        self._touch(port)

    def send_frame(self, channo: int, data: bytes) -> None:
        ch = self.channel(channo)
        if ch.signalling != Signalling.DCHAN:
            raise BoardError(f"{ch}: not a D-channel")
        self._hdlc_tx[self._dindex[channo]].put(data)

    def close(self) -> None:
        self._closed = True

    # -- the tick -------------------------------------------------------------------------------

    def _exchange(self, tx_line: npt.NDArray[np.uint8], rx_line: npt.NDArray[np.uint8]) -> list[Event]:
        if self._closed:
            raise BoardError(f"{self.name}: the board is closed")
        t = self.t
        t_end = t + 8
        if self.schedule.next_time() < t_end:
            self.schedule.run_due(t_end)
        events = self._pending
        self._pending = []
        if self._touched or (self._due and self._due[0][0] < t_end):
            self._step_ports(t, t_end, events)
        self.txl.view(np.uint64)[self._map, 0] = tx_line.view(np.uint64)[:, 0]
        if self._echo_on:  # echo history: our linear tx as the far end's hybrid hears it
            self._mixer.put_tx(self.tx[self._voice], self._voice_rows64)
        for i, tx in enumerate(self._hdlc_tx if self._dchans else ()):
            self.txl[self._drows[i]] = tx.generate(8)
        for g in self.groups:
            self._tx_direction(g)
        self._far_audio(t)
        for tap in self.line_taps:  # far ends that hear our octets and speak in this very tick
            tap(t)
        if self._dchans:
            self._d_far(t)
        for g in self.groups:
            self._rx_direction(g, events)
        if self._dchans:
            for f in self._hdlc_rx.process(self.rxl[self._drows]):
                events.append(
                    FrameReceived(t=t_end, channel=f.channel, data=f.data, ok=f.status == self._hdlc_ok)
                )
        a0 = self._analog0
        self.rxl[a0 : self.idle_row] = self.ftx[a0 : self.idle_row]
        np.take(self.rxl.view(np.uint64)[:, 0], self._map, out=rx_line.view(np.uint64)[:, 0])
        self.renderer.advance()
        return events

    def _d_far(self, t: int) -> None:
        """The far ends' D-channels: read what we sent (after the tx line), send what they queued."""
        for f in self._hdlc_far_rx.process(self.txl[self._drows]):
            ch = self.channel(f.channel)
            self.far_ends[ch.span]._frame_seen(ch.chanpos, f.data, f.status == self._hdlc_ok)
        for i, tx in enumerate(self._hdlc_far_tx):
            self.ftx[self._drows[i]] = tx.generate(8)

    def _touch(self, port: FxsPort | FxoPort) -> None:
        """A line control or the far end changed `port`: step it in the next tick."""
        self._touched.add(self._port_index[port.channo])

    def _step_ports(self, t: int, t_end: int, events: list[Event]) -> None:
        todo = self._touched
        self._touched = set()
        due = self._due
        while due and due[0][0] < t_end:
            d, i = heapq.heappop(due)
            if self._port_due[i] == d:  # else a stale entry: the port's deadline moved
                todo.add(i)
        for i in sorted(todo):  # board order, as a real driver scans its ports
            p = self._ports[i]
            p.step(t)
            if p.events:
                events.extend(p.events)
                p.events.clear()
            d = p.next_deadline()
            if d != self._port_due[i]:
                self._port_due[i] = d
                if d != NEVER:
                    heapq.heappush(due, (d, i))

    def _far_audio(self, t: int) -> None:
        """The far ends' audio of this tick plus the echo of our tx, coded into their line rows."""
        self._mixer.process(self.renderer.slice(t), self.ftx)

    def _tx_direction(self, g: _Digital) -> None:
        n = len(g.spans)
        frames = self.txl[g.row0 : g.row1].reshape(n, g.slots, 8)
        if g.kind == SpanKind.E1:
            # RAI and E bits come from our receiver's state, as a framer chip sends them
            g.near_tx.build(frames, g.near_rx)
            self.faults.corrupt(g.numbers, "tx", frames)
            g.far_rx.process(frames)
        else:
            g.near_tx.rai = g.near_rx.red.copy()
            g.near_tx.build(frames, g.tx_f)
            changed = self.faults.corrupt(g.numbers, "tx", frames, g.tx_f)
            g.far_rx.process(frames, g.tx_f, None if changed.any() else g.near_tx.last_part)
        red = g.far_rx.red | g.far_rx.ais
        if (red != g.far_red).any():
            g.far_red = red.copy()
            self._update_echo_rows()
        if len(g.far_rx.changed):
            for i, slot in g.far_rx.changed:
                self.far_ends[g.numbers[i]]._bits_seen(int(slot))

    def _rx_direction(self, g: _Digital, events: list[Event]) -> None:
        n = len(g.spans)
        frames = self.ftx[g.row0 : g.row1].reshape(n, g.slots, 8)
        if g.kind == SpanKind.E1:
            g.far_tx.build(frames, g.far_rx, g.rai_forced)
            self.faults.corrupt(g.numbers, "rx", frames)
            g.near_rx.process(frames)
        else:
            g.far_tx.rai = g.far_rx.red | g.rai_forced
            g.far_tx.build(frames, g.ftx_f)
            changed = self.faults.corrupt(g.numbers, "rx", frames, g.ftx_f)
            g.near_rx.process(frames, g.ftx_f, None if changed.any() else g.far_tx.last_part)
        rx = g.near_rx
        # elastic store: nominal delay for every span, then the few that slipped
        out = self.rxl[g.row0 : g.row1].reshape(n, g.slots, 8)
        d0 = STORE_NOMINAL  # 4 frames: the halves of a slot's 8 octets are uint32 words
        out32, cur32, prev32 = out.view(np.uint32), frames.view(np.uint32), g.prev.view(np.uint32)
        out32[:, :, 0] = prev32[:, :, 1]
        out32[:, :, 1] = cur32[:, :, 0]
        if self.faults.slips:
            self._slips(g)
        if g.slipped:
            for i in np.nonzero(g.delay != d0)[0]:
                d = int(g.delay[i])
                out[i, :, :d] = g.prev[i, :, 8 - d :]
                out[i, :, d:] = frames[i, :, : 8 - d]
            g.prev[:] = frames
        else:
            prev32[:, :, 1] = cur32[:, :, 1]
        # alarms (E1: the kernel's quiet = every span in frame, no LOS/AIS/RAI/LMFA)
        quiet = rx.quiet if g.kind == SpanKind.E1 else rx.in_frame.all() and not rx.yellow.any()
        if not (g.steady and quiet):
            self._alarms(g, rx, out, events)
        if len(rx.changed):
            for i, slot in rx.changed:
                sp = g.spans[int(i)]
                pos = int(slot) if g.kind == SpanKind.E1 else int(slot) + 1
                ch = next((c for c in sp.channels if c.chanpos == pos), None)
                if ch is not None and ch.signalling != Signalling.DCHAN:
                    events.append(BitsChanged(t=self.t + 8, channel=ch.channo, bits=int(rx.rx_bits[i, slot])))
        if rx.dirty:
            rx.dirty = False
            self._counters(g)

    def _alarms(self, g: _Digital, rx: Any, out: npt.NDArray[np.uint8], events: list[Event]) -> None:
        blue = rx.ais
        red = (rx.los | ~rx.in_frame) & ~blue
        for i in range(len(g.spans)):
            a = Alarm.NONE
            if blue[i]:
                a |= Alarm.BLUE
            elif red[i]:
                a |= Alarm.RED | (Alarm.LOS if rx.los[i] else Alarm.LFA)
            if rx.yellow[i] and not red[i] and not blue[i]:
                a |= Alarm.YELLOW
            if g.kind == SpanKind.E1 and rx.lmfa[i] and not (red[i] or blue[i]):
                a |= Alarm.LMFA
            if a != g.alarms[i]:
                self._alarm(g, int(i), a, events)
            if a & (Alarm.RED | Alarm.BLUE):
                out[i, 1:] = self.idle[g.row0 + i * g.slots + 1 : g.row0 + (i + 1) * g.slots, None]
        g.steady = all(a == Alarm.NONE for a in g.alarms)

    def _alarm(self, g: _Digital, i: int, a: Alarm, events: list[Event]) -> None:
        old = g.alarms[i]
        g.alarms[i] = a
        sp = g.spans[i]
        t = self.t + 8
        events.append(AlarmChanged(t=t, span=sp.number, alarms=a, raised=a & ~old, cleared=old & ~a))
        for c in sp.channels:
            events.append(ChannelAlarm(t=t, channel=c.channo, alarms=a))

    def _slips(self, g: _Digital) -> None:
        for i, sp in enumerate(g.numbers):
            q = self.faults.slips.get(sp)
            if not q:
                continue
            step = q.pop(0)
            d = int(g.delay[i]) - step
            g.delay[i] = d if 0 <= d <= 8 else STORE_NOMINAL
            g.slipped = True
            g.spans[i].counters.slips += 1
            if not q:
                del self.faults.slips[sp]

    def _counters(self, g: _Digital) -> None:
        rx = g.near_rx
        for i, sp in enumerate(g.spans):
            c = sp.counters
            c.framing_errors = int(rx.fas_errors[i])
            c.crc_errors = int(rx.crc_errors[i])
            if g.kind == SpanKind.E1:
                c.ebits = int(rx.ebit_errors[i])

    def _update_echo_rows(self) -> None:
        """Hand the mixer each row's echo path: none on spans whose far end is in red alarm."""
        live = self.echo_q15 != 0
        for g in self.groups:
            for i in np.nonzero(g.far_red)[0]:
                live[g.row0 + i * g.slots : g.row0 + (i + 1) * g.slots] = False
        self._echo_on = bool(live.any())
        self._mixer.set_echo(np.where(live, self.echo_q15, 0), self.echo_ticks)


class FarEnd:
    """The far end of one span: the exchange, or the phones on an analog span's FXS ports.

    Every method acts now; `at(ms, name, ...)` runs one later ("at t do X"). Channels are named
    by chanpos within the span; None means every channel of the span.
    """

    def __init__(self, board: SimBoard, span: Span) -> None:
        self.board = board
        self.span = span
        self.rng = np.random.default_rng([board.seed, span.number])
        self.seen: dict[int, int] = {}  # chanpos -> ABCD the far end reads from us
        self.on_bits: Callable[[int, int], None] | None = None
        self.frames: list[tuple[int, bytes, bool]] = []  # HDLC frames the far end received from us
        self.on_frame: Callable[[int, bytes, bool], None] | None = None

    def _row(self, chanpos: int) -> int:
        for c in self.span.channels:
            if c.chanpos == chanpos:
                return self.board.row_of[c.channo]
        raise BoardError(f"span {self.span.number}: no channel at position {chanpos}")

    def _rows(self, chanpos: int | None) -> list[int]:
        if chanpos is None:
            return [self.board.row_of[c.channo] for c in self.span.channels if c.signalling.is_voice]
        return [self._row(chanpos)]

    def _channo(self, chanpos: int) -> int:
        for c in self.span.channels:
            if c.chanpos == chanpos:
                return c.channo
        raise BoardError(f"span {self.span.number}: no channel at position {chanpos}")

    def at(self, ms: float, action: str, *args: Any, **kwargs: Any) -> None:
        """Schedule one of this far end's actions by name at `ms` of board time."""
        fn = getattr(self, action, None)
        if fn is None or action.startswith("_") or action == "at":
            raise BoardError(f"span {self.span.number}: the far end has no action {action!r}")
        self.board.at(ms, fn, *args, **kwargs)

    # -- line conditions -------------------------------------------------------------------------

    def noise(self, dbm0: float | None, chanpos: int | None = None) -> None:
        self.board.renderer.set_noise(self._rows(chanpos), dbm0)

    def loss(self, db: float, chanpos: int | None = None) -> None:
        self.board.renderer.set_loss(self._rows(chanpos), db)

    def echo(self, erl_db: float | None, delay_ms: float = 8.0, chanpos: int | None = None) -> None:
        """Hybrid echo of our tx: attenuated by erl_db (None: no echo), delayed by delay_ms."""
        rows = self._rows(chanpos)
        q = 0 if erl_db is None else int(round(32768 * 10.0 ** (-erl_db / 20.0)))
        self.board.echo_q15[rows] = q
        # whole ms: the echo path is read a tick at a time (the bulk delay is what an EC must span)
        self.board.echo_ticks[rows] = max(1, min(HIST_TICKS - 1, int(round(delay_ms))))
        self.board._update_echo_rows()

    # -- audio -------------------------------------------------------------------------------

    def dtmf(self, chanpos: int, digits: str, **human: Any) -> None:
        """A person keys digits on the channel, starting now (human timing and levels)."""
        x = human_dtmf(digits, self.rng, **human)
        self.board.renderer.add(self._row(chanpos), Clip(x, self.board.t), self.board.t)

    def tone(self, chanpos: int, name: str, seconds: float | None = None, zone: str | None = None) -> None:
        """A call progress tone of the zone (dial, busy, ringback, congestion)."""
        z = zone or self.board.settings[self.span.number].zone
        steps = TONES.get(z, TONES["us"]).get(name)
        if steps is None:
            raise BoardError(f"span {self.span.number}: no tone {name!r} in zone {z!r}")
        t = self.board.t
        end = NEVER if seconds is None else t + int(seconds * 8000)
        self.board.renderer.add(self._row(chanpos), Tone(steps, t, end), t)

    def play(self, chanpos: int, samples: npt.ArrayLike, loop_s: float | None = None) -> None:
        """Play linear samples (int16 scale, 8 kHz) now, once or looped for loop_s."""
        t = self.board.t
        until = None if loop_s is None else t + int(loop_s * 8000)
        self.board.renderer.add(self._row(chanpos), Clip(np.asarray(samples), t, until), t)

    def speech(self, chanpos: int, path: str, loop_s: float | None = None) -> None:
        """Speech from a WAV file (resampled to 8 kHz)."""
        self.play(chanpos, load_wav(path), loop_s)

    def silence(self, chanpos: int | None = None) -> None:
        """Stop every sound on the channel(s) (line noise stays)."""
        for r in self._rows(chanpos):
            self.board.renderer.stop(r, self.board.t)

    # -- signalling ----------------------------------------------------------------------------

    def set_bits(self, chanpos: int, bits: int) -> None:
        """Send ABCD bits (E1 TS16 CAS / T1 robbed bits) on the channel."""
        self.board._set_bits(self._channo(chanpos), bits, far=True)

    def _bits_seen(self, slot: int) -> None:
        g, i = self.board._digital(self.span.number)
        pos = slot if g.kind == SpanKind.E1 else slot + 1
        bits = int(g.far_rx.rx_bits[i, slot])
        self.seen[pos] = bits
        if self.on_bits is not None:
            self.on_bits(pos, bits)

    def send_frame(self, chanpos: int, data: bytes) -> None:
        """Send an HDLC frame (Q.921) on the span's D-channel at chanpos."""
        channo = self._channo(chanpos)
        if channo not in getattr(self.board, "_dindex", {}):
            raise BoardError(f"span {self.span.number}/{chanpos}: not a D-channel")
        self.board._hdlc_far_tx[self.board._dindex[channo]].put(data)

    def _frame_seen(self, chanpos: int, data: bytes, ok: bool) -> None:
        self.frames.append((chanpos, data, ok))
        if self.on_frame is not None:
            self.on_frame(chanpos, data, ok)

    def _fxs(self, chanpos: int) -> FxsPort:
        p = self.board.fxs.get(self._channo(chanpos))
        if p is None:
            raise BoardError(f"span {self.span.number}/{chanpos}: not an FXS port (no phone on it)")
        self.board._touch(p)
        return p

    def _fxo(self, chanpos: int) -> FxoPort:
        p = self.board.fxo.get(self._channo(chanpos))
        if p is None:
            raise BoardError(f"span {self.span.number}/{chanpos}: not an FXO port (no exchange line)")
        self.board._touch(p)
        return p

    def offhook(self, chanpos: int) -> None:
        """The phone on our FXS port goes off hook."""
        self._fxs(chanpos).offhook(self.board.t)

    def onhook(self, chanpos: int) -> None:
        """The phone on our FXS port hangs up."""
        self._fxs(chanpos).onhook(self.board.t)

    def flash(self, chanpos: int, ms: float = 300.0) -> None:
        """The phone's user presses flash: on hook for ms, then off hook again."""
        self.onhook(chanpos)
        self.board.at(self.board.t / MS + ms, self.offhook, chanpos)

    def answer_after(self, chanpos: int, rings: int | None, delay_ms: int = 800) -> None:
        """The phone's user answers during this ring (None: never answers)."""
        p = self._fxs(chanpos)
        p.answer_after_rings = rings
        p.answer_delay_ms = delay_ms
        p.rings = 0

    def ring(self, chanpos: int) -> None:
        """The exchange rings our FXO port (zone cadence) until we answer or stop_ring."""
        self._fxo(chanpos).ring(self.board.t)

    def stop_ring(self, chanpos: int) -> None:
        self._fxo(chanpos).stop_ring(self.board.t)

    def disconnect(self, chanpos: int) -> None:
        """The far party hangs up (kewl start: battery drops)."""
        self._fxo(chanpos).disconnect(self.board.t)

    @property
    def ring_cadence_ms(self) -> tuple[int, ...]:
        return ring_cadence(self.board.settings[self.span.number].zone)
