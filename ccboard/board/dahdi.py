"""The DAHDI backend: a Board over the real driver's channel files.

open_dahdi reads system.conf (the channels dahdi_cfg configured), opens /dev/dahdi/channel once
per channel with DAHDI_SPECIFY, and takes each channel's span, position and law from the
driver (DAHDI_GET_PARAMS) and each span's type, alarms and counters from DAHDI_SPANSTAT, so
the model is the driver's, not system.conf's guess. Voice channels get blocks of `block` octets
(default 16; the driver refuses fewer than 16, in DAHDI_SET_BLOCKSIZE and DAHDI_SET_BUFINFO
alike): one block per channel serves block/8 ticks of 1 ms (the default), read at the first and
written at the last; the DSP takes the audio one tick (8 samples) at a time. A larger block
means fewer system calls per tick (one read and one write per channel per block) and more delay.

Ticks longer than 1 ms (`tick=N` ms, N * 8 dividing the block): `rx`/`tx` hold N ms (8N samples)
per channel and one tick runs the G.711 codec and the DTMF receiver over all of it in one call
each, so the per-tick cost in Python is paid once per N ms. A slow machine keeps up with the
driver that way (measured in the DAHDI VM stage's TCG guest, tests/vm/README.md: with 1 ms
ticks it fell behind real time and the driver dropped audio). Events keep their sample-exact
times (the kernels stream over any block size); line events are reported at the end of the tick
that saw them, and a machine fed `now` once per tick steps every N ms. The signalling drivers,
`ccboard check`, the board commands and the IVR runner all take board time from `t`, so they
work at any tick length.

Buffers (DAHDI_SET_BUFINFO): `buffers` blocks each way (default 32, the driver's maximum: 64 ms
with 16-octet blocks). DAHDI's default of 2 blocks overruns: the driver's core timer moves audio
in bursts of one kernel tick (4 ms at HZ=250), and a tick that is late by a few ms loses a block;
measured in the VM, a loop that kept up on average still got only half the audio. Transmission
uses DAHDI_POLICY_HALF_FULL: after an underrun (and at the start) the driver waits until half
the buffers are written, so a late tick is absorbed by that cushion (buffers * block / 16 ms of
delay) instead of chopping the outgoing audio.

Events: DAHDI makes read()/write() fail with ELAST while a channel has an event pending, so a
tick costs no ioctl until something happens; then DAHDI_GETEVENT is drained and mapped
(map_event) to the board's events, and the read/write retried.

D-channels (dchan=, hardhdlc=) are HDLC in the driver: a read returns one frame followed by its
2 FCS octets, and a write takes the frame plus 2 octets of room the driver fills with the FCS.

URL: dahdi:///etc/dahdi/system.conf (the default path), ?device=/dev/dahdi/channel,
?buffers=N (2..32 blocks each way per voice channel), ?block=N (octets, a multiple of 8 from 16),
?tick=N (ms per tick, default 1; N * 8 must divide the block).
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import Any
from urllib.parse import ParseResult, parse_qs

import numpy as np
import numpy.typing as npt

from ccboard.board.base import IDLE_OCTET, Board
from ccboard.board.channel import Channel, Signalling
from ccboard.board.clock import SAMPLES_PER_TICK
from ccboard.board.config import SystemConf, read_system_conf
from ccboard.board.events import (
    Alarm,
    AlarmChanged,
    BitsChanged,
    Event,
    FrameReceived,
    HookChanged,
    HookFlash,
    Overrun,
    RingChanged,
)
from ccboard.board.span import Span, SpanKind
from ccboard.dahdi._dahdi import lib
from ccboard.dahdi.ioctl import CHANNEL_DEVICE, ELAST, ChannelDevice, SpanInfo
from ccboard.errors import BoardError, DeviceError

DEFAULT_CONF = "/etc/dahdi/system.conf"
HDLC_MRU = 1024  # largest D-channel frame read at once, octets (Q.921 N201 is 260)
HDLC_BUFFERS = 16  # D-channel frames queued each way (16 * 1026 octets < DAHDI_MAX_BUF_SPACE)
FCS_OCTETS = 2
BLOCK = 16  # DAHDI_SET_BLOCKSIZE refuses less than 16 octets (2 ms): two ticks per block
BUFFERS = 32  # blocks each way (DAHDI_MAX_NUM_BUFS): 64 ms of slack for a late tick

# Events whose meaning does not depend on the channel's signalling.
ALARM_EVENTS = (lib.DAHDI_EVENT_ALARM, lib.DAHDI_EVENT_NOALARM, lib.DAHDI_EVENT_REMOVED)
SPAN_KINDS = {"E1": SpanKind.E1, "T1": SpanKind.T1, "J1": SpanKind.T1}

Opener = Callable[[int, str], ChannelDevice]


def map_event(code: int, ch: Channel, t: int, rx_bits: Callable[[], int]) -> list[Event]:
    """One DAHDI_EVENT_* on channel ch -> the board's events (alarms are handled by the caller).

    On an FXO port (fxs* signalling) RINGBEGIN is the start of a ring and RINGOFFHOOK its end
    (DAHDI sends it once the ring has been gone for its 50 ms trailer); a RINGOFFHOOK with no ring
    under way is taken as a ring seen (DAHDI holds RINGBEGIN back for 2 s after an on-hook).
    Elsewhere RINGOFFHOOK means "off hook" (the phone on an FXS port, the far end of an E&M/CAS
    line). RINGERON/RINGEROFF report the ringing
    we apply on an FXS port (ignored: set_ring already knows); on an FXO port RINGEROFF is taken
    as the end of the ring. DTMF/pulse digits, dial and hook completion are ignored: the board's
    own DSP reports digits.
    """
    sig = ch.signalling
    if code == lib.DAHDI_EVENT_ONHOOK:
        return [HookChanged(t=t, channel=ch.channo, offhook=False)]
    if code in (lib.DAHDI_EVENT_RINGOFFHOOK, lib.DAHDI_EVENT_RINGBEGIN):
        if sig.is_fxo_port:
            ringing = code == lib.DAHDI_EVENT_RINGBEGIN or not ch.ringing
            return [RingChanged(t=t, channel=ch.channo, ringing=ringing)]
        if code == lib.DAHDI_EVENT_RINGBEGIN:
            return []
        return [HookChanged(t=t, channel=ch.channo, offhook=True)]
    if code == lib.DAHDI_EVENT_RINGEROFF and sig.is_fxo_port:
        return [RingChanged(t=t, channel=ch.channo, ringing=False)]
    if code == lib.DAHDI_EVENT_WINKFLASH:
        return [HookFlash(t=t, channel=ch.channo)]
    if code == lib.DAHDI_EVENT_BITSCHANGED:
        return [BitsChanged(t=t, channel=ch.channo, bits=rx_bits() & 0xF)]
    if code in (lib.DAHDI_EVENT_ABORT, lib.DAHDI_EVENT_BADFCS):
        return [FrameReceived(t=t, channel=ch.channo, data=b"", ok=False)]
    if code in (lib.DAHDI_EVENT_OVERRUN, lib.DAHDI_EVENT_READ_OVERRUN, lib.DAHDI_EVENT_WRITE_UNDERRUN):
        return [Overrun(t=t, missed=1)]
    return []


def _law(curlaw: int, fallback: str) -> str:
    if curlaw == lib.DAHDI_LAW_ALAW:
        return "alaw"
    if curlaw == lib.DAHDI_LAW_MULAW:
        return "ulaw"
    return fallback


class DahdiBoard(Board):
    """A Board whose channels are DAHDI channel files."""

    def __init__(
        self,
        conf: SystemConf,
        device: str = CHANNEL_DEVICE,
        opener: Opener | None = None,
        buffers: int = BUFFERS,
        block: int = BLOCK,
        tick: int = 1,
    ) -> None:
        if not 2 <= buffers <= lib.DAHDI_MAX_NUM_BUFS:
            raise BoardError(f"dahdi: buffers={buffers} out of range (2..{lib.DAHDI_MAX_NUM_BUFS} blocks)")
        if block % SAMPLES_PER_TICK or not BLOCK <= block <= lib.DAHDI_MAX_BLOCKSIZE:
            raise BoardError(
                f"dahdi: block={block} octets: a multiple of {SAMPLES_PER_TICK} "
                f"from {BLOCK} to {lib.DAHDI_MAX_BLOCKSIZE}"
            )
        if buffers * block > lib.DAHDI_MAX_BUF_SPACE:
            raise BoardError(
                f"dahdi: buffers={buffers} of block={block} octets exceed the driver's "
                f"{lib.DAHDI_MAX_BUF_SPACE} octets"
            )
        if tick < 1 or block % (tick * SAMPLES_PER_TICK):
            raise BoardError(
                f"dahdi: tick={tick} ms: {tick * SAMPLES_PER_TICK} samples must divide block={block}"
            )
        self.conf = conf
        self.device = device
        self.buffers = buffers
        self.block = block
        open_ = opener or (lambda channo, path: ChannelDevice.open(channo, path))
        self._dev: dict[int, ChannelDevice] = {}
        try:
            spans = self._discover(open_)
            super().__init__(spans)
        except BaseException:
            self.close()
            raise
        self._rows = [(ch, self._dev[ch.channo]) for ch in self.channels if ch.signalling.is_voice]
        self._hdlc = [(ch, self._dev[ch.channo]) for ch in self.channels if ch.signalling == Signalling.DCHAN]
        self._frame = bytearray(HDLC_MRU + FCS_OCTETS)
        # Board puts the voice channels first: rows 0..nvoice-1 are the ones with audio files.
        self._nvoice = len(self._rows)
        self._rxblk = np.zeros((self._nvoice, block), np.uint8)
        self._txblk = np.zeros((self._nvoice, block), np.uint8)
        self._tick_samples = ts = tick * SAMPLES_PER_TICK
        self._ticks_per_block = block // ts
        if ts != SAMPLES_PER_TICK:  # the base board's arrays hold one tick: N ms per row
            n = len(self.channels)
            self.rx = np.zeros((n, ts), np.int16)
            self.tx = np.zeros((n, ts), np.int16)
            self.rx_line = np.zeros((n, ts), np.uint8)
            self.tx_line = np.array([[IDLE_OCTET.get(c.law, 0xFF)] * ts for c in self.channels], np.uint8)
        self._phase = 0  # the tick's place in the block: 0 reads, the last one writes
        self._pending: list[Event] = []

    # -- set-up -------------------------------------------------------------------------------

    def _discover(self, open_: Opener) -> list[Span]:
        """Open every configured channel and rebuild the span model from the driver's answers."""
        by_number = {s.number: s for s in self.conf.spans}
        spans: dict[int, Span] = {}
        for ch in self.conf.channels:
            dev = open_(ch.channo, self.device)
            self._dev[ch.channo] = dev
            p = dev.get_params()
            if ch.signalling.is_voice:
                dev.set_bufinfo(self.buffers, self.block, lib.DAHDI_POLICY_HALF_FULL)
            elif ch.signalling == Signalling.DCHAN:
                # one frame per buffer; the driver's default of 2 overflows when Q.921 sends a
                # few frames in one tick (seen on the real driver: RELEASE after DISCONNECT)
                dev.set_bufinfo(HDLC_BUFFERS, HDLC_MRU + FCS_OCTETS, lib.DAHDI_POLICY_IMMEDIATE)
            span = spans.get(p.spanno)
            if span is None:
                info = dev.spanstat(p.spanno)
                span = self._span_from(info, by_number.get(p.spanno))
                spans[p.spanno] = span
            model = Channel(
                channo=ch.channo,
                span=p.spanno,
                chanpos=p.chanpos,
                signalling=ch.signalling,
                law=_law(p.curlaw, ch.law),
                offhook=p.rxisoffhook,
                rx_bits=p.rxbits & 0xF if ch.signalling in (Signalling.CAS, Signalling.EM) else 0,
                tx_bits=p.txbits & 0xF if ch.signalling in (Signalling.CAS, Signalling.EM) else 0,
                name=p.name or ch.name,
            )
            span.channels.append(model)
        return [spans[n] for n in sorted(spans)]

    @staticmethod
    def _span_from(info: SpanInfo, conf: Span | None) -> Span:
        kind = SPAN_KINDS.get(info.spantype.strip().upper(), conf.kind if conf else SpanKind.ANALOG)
        span = Span(
            number=info.spanno,
            name=info.name or (conf.name if conf else f"span {info.spanno}"),
            kind=kind,
            alarms=Alarm(info.alarms & _ALARM_MASK),
        )
        if conf is not None:
            span.framing, span.linecode, span.crc4, span.timing = (
                conf.framing,
                conf.linecode,
                conf.crc4,
                conf.timing,
            )
        _set_counters(span, info)
        return span

    # -- the tick -----------------------------------------------------------------------------

    def _exchange(self, tx_line: npt.NDArray[np.uint8], rx_line: npt.NDArray[np.uint8]) -> list[Event]:
        ts = self._tick_samples
        t = self.t + ts
        events, self._pending = self._pending, []
        nv, phase = self._nvoice, self._phase
        part = slice(phase * ts, (phase + 1) * ts)
        if phase == 0:
            for ch, dev in self._rows:
                got = self._io(ch, dev, t, events, dev.readinto, self._rxblk[ch.index])
                if got < self.block:
                    self._rxblk[ch.index, got:] = IDLE_OCTET.get(ch.law, 0xFF)
        # whole-board copies: one numpy call each, whatever the channel count
        self._txblk[:, part] = tx_line[:nv]
        rx_line[:nv] = self._rxblk[:, part]
        if phase == self._ticks_per_block - 1:
            for ch, dev in self._rows:
                self._io(ch, dev, t, events, dev.write, self._txblk[ch.index])
            phase = -1
        self._phase = phase + 1
        for ch, dev in self._hdlc:
            while True:
                n = self._io(ch, dev, t, events, dev.readinto, self._frame)
                if n <= 0:
                    break
                data = bytes(self._frame[: max(n - FCS_OCTETS, 0)])
                events.append(FrameReceived(t=t, channel=ch.channo, data=data, ok=True))
        return events

    def _io(
        self,
        ch: Channel,
        dev: ChannelDevice,
        t: int,
        events: list[Event],
        op: Callable[[Any], int],
        buf: Any,
    ) -> int:
        """Run a read/write; on ELAST drain the channel's events, then retry once."""
        try:
            return op(buf)
        except DeviceError as exc:
            if exc.errno != ELAST:
                raise
        self._drain(ch, dev, t, events)
        return op(buf)

    def _drain(self, ch: Channel, dev: ChannelDevice, t: int, events: list[Event]) -> None:
        while True:
            code = dev.get_event()
            if code == lib.DAHDI_EVENT_NONE:
                return
            if code in ALARM_EVENTS:
                self._refresh_span(ch.span, dev, t, events)
            else:
                events.extend(map_event(code, ch, t, dev.get_rx_bits))

    def _refresh_span(self, number: int, dev: ChannelDevice, t: int, events: list[Event]) -> None:
        """Re-read a span's alarms/counters; one AlarmChanged when its alarm set changed."""
        span = self.span(number)
        info = dev.spanstat(number)
        _set_counters(span, info)
        new = Alarm(info.alarms & _ALARM_MASK)
        # Several channels of one span report the same alarm: compare with what this tick said.
        old = span.alarms
        for ev in events:
            if isinstance(ev, AlarmChanged) and ev.span == number:
                old = ev.alarms
        if new != old:
            events.append(AlarmChanged(t=t, span=number, alarms=new, raised=new & ~old, cleared=old & ~new))

    @property
    def next_tick_reads(self) -> bool:
        """The next tick reads a block: a caller pacing itself on the driver polls before it."""
        return self._phase == 0

    def fileno(self, channo: int) -> int:
        """The channel file's descriptor: a caller pacing itself on the driver polls it."""
        return self._device(channo)[1].fd

    # -- line controls ------------------------------------------------------------------------

    def _device(self, channo: int) -> tuple[Channel, ChannelDevice]:
        ch = self.channel(channo)
        return ch, self._dev[channo]

    def set_tx_bits(self, channo: int, bits: int) -> None:
        ch, dev = self._device(channo)
        if not 0 <= bits <= 0xF:
            raise BoardError(f"{ch}: CAS bits {bits:#x} out of range (ABCD, 0..0xF)")
        dev.set_tx_bits(bits)
        ch.tx_bits = bits

    def set_hook(self, channo: int, offhook: bool) -> None:
        ch, dev = self._device(channo)
        if ch.signalling.is_fxs_port:
            raise BoardError(f"{ch}: set_hook is for FXO ports and trunks; an FXS port rings (set_ring)")
        dev.hook(lib.DAHDI_OFFHOOK if offhook else lib.DAHDI_ONHOOK)

    def set_ring(self, channo: int, ringing: bool) -> None:
        ch, dev = self._device(channo)
        if not ch.signalling.is_fxs_port:
            raise BoardError(f"{ch}: set_ring needs an FXS port (fxoks/fxols signalling)")
        if not ringing and ch.offhook:
            # The phone answered and the driver tripped the ringing itself; DAHDI_RINGOFF now
            # would put the port on hook (DAHDI_TXSIG_ONHOOK) and cut the call.
            ch.ringing = False
            return
        try:
            dev.hook(lib.DAHDI_RING if ringing else lib.DAHDI_RINGOFF)
        except DeviceError as e:
            # the driver starts ringing asynchronously and says so (as chan_dahdi accepts it)
            if e.errno != errno.EINPROGRESS:
                raise
        ch.ringing = ringing

    def send_frame(self, channo: int, data: bytes) -> None:
        ch, dev = self._device(channo)
        if ch.signalling != Signalling.DCHAN:
            raise BoardError(f"{ch}: not a D-channel")
        if not 0 < len(data) <= HDLC_MRU:
            raise BoardError(f"{ch}: frame of {len(data)} octets (1..{HDLC_MRU})")
        events: list[Event] = []
        n = self._io(ch, dev, self.t, events, dev.write, bytes(data) + b"\0" * FCS_OCTETS)
        self._pending.extend(events)
        if n == 0:
            raise BoardError(f"{ch}: driver's transmit buffers are full; frame dropped")

    def close(self) -> None:
        devs, self._dev = getattr(self, "_dev", {}), {}
        for dev in devs.values():
            dev.close()


_ALARM_MASK = int(
    lib.DAHDI_ALARM_RECOVER
    | lib.DAHDI_ALARM_LOOPBACK
    | lib.DAHDI_ALARM_YELLOW
    | lib.DAHDI_ALARM_RED
    | lib.DAHDI_ALARM_BLUE
    | lib.DAHDI_ALARM_NOTOPEN
    | lib.DAHDI_ALARM_LOS
    | lib.DAHDI_ALARM_LFA
    | lib.DAHDI_ALARM_LMFA
)


def _set_counters(span: Span, info: SpanInfo) -> None:
    c = span.counters
    c.crc_errors, c.framing_errors, c.bpv, c.ebits = (
        info.crc4count,
        info.fascount,
        info.bpvcount,
        info.ebitcount,
    )
    c.slips = info.irqmisses  # DAHDI reports no slip counter; missed interrupts are the nearest


def open_dahdi(parsed: ParseResult) -> DahdiBoard:
    """Open the DAHDI board described by a dahdi:// URL (see the module docstring)."""
    if parsed.netloc:
        raise BoardError(f"dahdi://{parsed.netloc}{parsed.path}: no host part (dahdi:///path/system.conf)")
    query = parse_qs(parsed.query)
    unknown = set(query) - {"device", "buffers", "block", "tick"}
    if unknown:
        raise BoardError(
            f"dahdi URL: unknown parameter(s) {', '.join(sorted(unknown))} (device=, buffers=, block=, tick=)"
        )
    device = query.get("device", [CHANNEL_DEVICE])[-1]
    buffers, block, tick = (
        _whole(query, key, default) for key, default in (("buffers", BUFFERS), ("block", BLOCK), ("tick", 1))
    )
    conf = read_system_conf(parsed.path or DEFAULT_CONF)
    return DahdiBoard(conf, device, buffers=buffers, block=block, tick=tick)


def _whole(query: dict[str, list[str]], key: str, default: int) -> int:
    text = query.get(key, [str(default)])[-1]
    if not text.isdigit():
        raise BoardError(f"dahdi URL: {key}={text!r} is not a whole number")
    return int(text)
