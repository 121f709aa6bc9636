"""Board configuration: DAHDI's /etc/dahdi/system.conf, and a sim description in TOML.

Every error is a ConfigError naming the file, the line (from 1) and the key.

system.conf (dahdi_cfg's syntax; `#` starts a comment, keys are case-insensitive)
----------------------------------------------------------------------------------
    span=<n>,<timing>,<lbo>,<framing>,<coding>[,crc4][,yellow]
        framing cas|ccs -> E1 (31 channels, A-law), d4|esf -> T1 (24 channels, mu-law);
        coding hdb3|ami (E1), b8zs|ami (T1); crc4 is E1 only.
    dynamic=<driver>,<address>,<numchans>,<timing>     a dynamic span (31 channels = E1, else T1)
    bchan= clear= indclear=  <chans>        bearers with no in-band signalling (ISDN B)
    dchan= hardhdlc= rawhdlc= fcshdlc= nethdlc= mtp2= <chans>   HDLC D-channels
    cas=<chans>[:<ABCD idle bits>]           CAS (MFC/R2, ...), e.g. cas=1-15,17-31:1101
    e&m= e&me1= <chans>                      E&M (T1, E1)
    fxsls= fxsks= fxols= fxoks= <chans>      loop/kewl start (fxs* on FXO ports, fxo* on FXS ports)
    unused=<chans>
    echocanceller=<name>,<chans>             e.g. echocanceller=oslec,1-15,17-31
    alaw= mulaw= deflaw= <chans>             the channels' law (deflaw: the span's own); as in
                                             dahdi_cfg, ranges may cover unconfigured channels
    loadzone=<zone>   defaultzone=<zone>     tone zones (us, uk, de, ...)
<chans> is a list of channels and ranges: "1-15,17-31". Not supported (an error says so):
ground start (fxsgs/fxogs), dacs/dacsrbs, sf. dahdi_cfg has no `e1chan` keyword: E1 E&M is e&me1.

Numbering. The kernel, not system.conf, knows how many channels each span has; without a board
we lay them out the way DAHDI numbers them: spans 1..N in order, dynamic= spans first (from 1),
each digital span takes the next 31 (E1) or 24 (T1) channel numbers. A span number with no
span=/dynamic= line is an analog card: it holds the run of analog channels (fx*) that starts
there; analog channels after the last digital span form one more analog span. The DAHDI backend
replaces this guess with the driver's own spanno/chanpos. Only configured channels are modelled.
Analog signalling on a digital span is fine (channel banks signal FXS/FXO over CAS bits).

Sim description (TOML, read by the sim backend in ccboard/board/sim/)
---------------------------------------------------------------------
    [board]
    name = "callcentre"              # optional
    seed = 1                         # random seed for the far ends and faults
    system_conf = "system.conf"      # optional: take the spans from a system.conf (relative to
                                     # this file); [[span]] entries then only give `number` and
                                     # `far_end` overrides
    [far_end]                        # defaults for every span's far end (all optional)
    role = "pstn"                    # pstn: the exchange places calls to us / answers ours;
                                     # phone: an agent's phone on an FXS port
    calls_per_minute = 2.0           # per span, Poisson arrivals
    hold_time_s = [20.0, 180.0]      # uniform
    answer_after_s = [2.0, 8.0]      # how long the far end lets our calls ring
    digits = ["1", "2", "0#"]        # sequences a caller keys (one picked per call)
    digit_on_ms = [60.0, 120.0]      # human key timing
    digit_gap_ms = [80.0, 400.0]
    digit_level_dbm0 = [-12.0, -4.0] # per-tone level; twist comes from the two draws
    speech_dir = "speech"            # WAV files (8 kHz mono) played as caller speech; optional
    noise_dbm0 = -65.0               # line noise
    loss_db = 3.0                    # line loss
    echo_erl_db = 12.0               # hybrid echo return loss
    echo_delay_ms = 8.0              # echo path delay
    [[span]]                         # one table per group of identical spans
    kind = "E1"                      # E1 | T1 | analog
    framing = "cas"                  # E1: cas|ccs, T1: esf|d4 (default cas / esf)
    linecode = "hdb3"                # default hdb3 (E1) / b8zs (T1)
    crc4 = true                      # E1 only
    count = 2                        # this many spans
    signalling = "cas"               # bearers: cas|clear|e&m, analog ports: fxoks|fxsks|fxsls|fxols
    cas_idle = "1101"                # ABCD idle bits of cas channels
    ports = 8                        # analog only
    far_end = { calls_per_minute = 6.0 }   # overrides of [far_end] for these spans
    [[fault]]                        # faults on demand, in virtual time
    span = 1
    kind = "los"                     # los | ais | rai | slip | bit_errors | cable_pull
    at_s = 60.0
    duration_s = 5.0                 # 0 = stays
    rate = 1e-5                      # bit_errors: error ratio
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

from ccboard.board.channel import Channel, Signalling
from ccboard.board.span import Framing, LineCode, Span, SpanKind
from ccboard.errors import ConfigError

MAX_SPANS = 128  # DAHDI_MAX_SPANS
MAX_CHANNELS = 1024  # DAHDI_MAX_CHANNELS
E1_CHANNELS = 31
T1_CHANNELS = 24
E1_TS16 = 16  # E1 chanpos carrying CAS multiframe or the D-channel

_INT = re.compile(r"[0-9]{1,6}", re.ASCII)
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}", re.ASCII)
_ZONE = re.compile(r"[a-z]{2}[a-z0-9-]{0,14}", re.ASCII)
_BITS = re.compile(r"[01]{4}", re.ASCII)

SIGNALLING_KEYS: dict[str, Signalling] = {
    "fxsls": Signalling.FXSLS,
    "fxsks": Signalling.FXSKS,
    "fxols": Signalling.FXOLS,
    "fxoks": Signalling.FXOKS,
    "e&m": Signalling.EM,
    "e&me1": Signalling.EM,
    "cas": Signalling.CAS,
    "bchan": Signalling.CLEAR,
    "clear": Signalling.CLEAR,
    "indclear": Signalling.CLEAR,
    "dchan": Signalling.DCHAN,
    "hardhdlc": Signalling.DCHAN,
    "rawhdlc": Signalling.DCHAN,
    "fcshdlc": Signalling.DCHAN,
    "nethdlc": Signalling.DCHAN,
    "mtp2": Signalling.DCHAN,
    "unused": Signalling.UNUSED,
}
UNSUPPORTED_KEYS = {
    "fxsgs": "ground start is not supported (use fxsks/fxsls)",
    "fxogs": "ground start is not supported (use fxoks/fxols)",
    "dacs": "DACS cross-connects are not supported",
    "dacsrbs": "DACS cross-connects are not supported",
    "sf": "single-frequency signalling is not supported",
    "e1chan": "no such dahdi_cfg keyword (E1 E&M is e&me1=)",
}
LAW_KEYS: dict[str, str | None] = {"alaw": "alaw", "mulaw": "ulaw", "deflaw": None}
FRAMINGS = {"cas": Framing.CAS, "ccs": Framing.CCS, "d4": Framing.D4, "esf": Framing.ESF}
CODINGS = {"hdb3": LineCode.HDB3, "b8zs": LineCode.B8ZS, "ami": LineCode.AMI}
LAW = {SpanKind.E1: "alaw", SpanKind.T1: "ulaw", SpanKind.ANALOG: "ulaw"}


# -- system.conf ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpanLine:
    """A span= line (or dynamic= with the span's size)."""

    number: int
    timing: int
    lbo: int
    framing: Framing
    linecode: LineCode
    crc4: bool
    yellow: bool
    line: int


@dataclass(frozen=True)
class DynamicSpan:
    """A dynamic= line: a span provided by a software driver (loc, eth, ...)."""

    number: int
    driver: str
    address: str
    numchans: int
    timing: int
    line: int


@dataclass(frozen=True)
class ChannelLine:
    """Where a channel got its signalling: the key and the line."""

    channo: int
    signalling: Signalling
    key: str
    line: int


@dataclass
class SystemConf:
    """What a system.conf describes: spans with their channels, plus per-channel settings."""

    path: str
    spans: list[Span]
    cas_idle: dict[int, int] = field(default_factory=dict)  # channo -> ABCD idle bits
    echocanceller: dict[int, str] = field(default_factory=dict)  # channo -> canceller name
    loadzones: list[str] = field(default_factory=list)
    defaultzone: str | None = None
    dynamic: list[DynamicSpan] = field(default_factory=list)
    channel_lines: dict[int, ChannelLine] = field(default_factory=dict)

    @property
    def channels(self) -> list[Channel]:
        """Every configured channel, by channel number."""
        return sorted((c for s in self.spans for c in s.channels), key=lambda c: c.channo)


def read_system_conf(path: str = "/etc/dahdi/system.conf") -> SystemConf:
    """Read and check a system.conf file; raises ConfigError naming the file, line and key."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path=path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"not UTF-8 text (byte {exc.start})", path=path, line=line) from None
    return parse_system_conf(text, path)


def _err(msg: str, path: str, line: int, key: str) -> ConfigError:
    return ConfigError(f"{key}: {msg}" if key else msg, path=path, line=line, key=key)


def parse_channels(value: str, path: str = "", line: int = 0, key: str = "") -> list[int]:
    """Channel list "1-15,17-31" -> [1, ..., 15, 17, ..., 31] (each in 1..1024, no repeats)."""
    out: list[int] = []
    seen: set[int] = set()
    for part in value.split(","):
        part = part.strip()
        lo_s, dash, hi_s = part.partition("-")
        lo_s, hi_s = lo_s.strip(), hi_s.strip()
        if not _INT.fullmatch(lo_s) or (dash and not _INT.fullmatch(hi_s)):
            raise _err(f"bad channel or range {part!r} (expected N or N-M)", path, line, key)
        lo = int(lo_s)
        hi = int(hi_s) if dash else lo
        if not 1 <= lo <= MAX_CHANNELS or not 1 <= hi <= MAX_CHANNELS:
            raise _err(f"channel out of range in {part!r} (1..{MAX_CHANNELS})", path, line, key)
        if hi < lo:
            raise _err(f"range {part!r} runs backwards", path, line, key)
        for c in range(lo, hi + 1):
            if c in seen:
                raise _err(f"channel {c} listed twice", path, line, key)
            seen.add(c)
            out.append(c)
    return out


def _int_field(text: str, what: str, lo: int, hi: int, path: str, line: int, key: str) -> int:
    text = text.strip()
    if not _INT.fullmatch(text) or not lo <= int(text) <= hi:
        raise _err(f"{what} must be an integer {lo}..{hi}, not {text!r}", path, line, key)
    return int(text)


def _span_line(value: str, path: str, line: int) -> SpanLine:
    f = [x.strip().lower() for x in value.split(",")]
    if len(f) < 5:
        raise _err("expected span=<n>,<timing>,<lbo>,<framing>,<coding>[,crc4][,yellow]", path, line, "span")
    number = _int_field(f[0], "span number", 1, MAX_SPANS, path, line, "span")
    timing = _int_field(f[1], "timing", 0, MAX_SPANS, path, line, "span")
    lbo = _int_field(f[2], "line build-out", 0, 7, path, line, "span")
    if f[3] not in FRAMINGS:
        raise _err(f"unknown framing {f[3]!r} (cas, ccs, d4, esf)", path, line, "span")
    if f[4] not in CODINGS:
        raise _err(f"unknown coding {f[4]!r} (hdb3, b8zs, ami)", path, line, "span")
    framing, linecode = FRAMINGS[f[3]], CODINGS[f[4]]
    e1 = framing in (Framing.CAS, Framing.CCS)
    if e1 and linecode == LineCode.B8ZS:
        raise _err(f"b8zs is a T1 line code; E1 framing {f[3]} takes hdb3 or ami", path, line, "span")
    if not e1 and linecode == LineCode.HDB3:
        raise _err(f"hdb3 is an E1 line code; T1 framing {f[3]} takes b8zs or ami", path, line, "span")
    opts = f[5:]
    for o in opts:
        if o not in ("crc4", "yellow"):
            raise _err(f"unknown span option {o!r} (crc4, yellow)", path, line, "span")
    if len(set(opts)) != len(opts):
        raise _err("span option given twice", path, line, "span")
    if "crc4" in opts and not e1:
        raise _err(f"crc4 is E1 framing; T1 framing {f[3]} has no CRC-4", path, line, "span")
    return SpanLine(number, timing, lbo, framing, linecode, "crc4" in opts, "yellow" in opts, line)


def _dynamic_line(value: str, number: int, path: str, line: int) -> DynamicSpan:
    f = [x.strip() for x in value.split(",")]
    if len(f) != 4:
        raise _err("expected dynamic=<driver>,<address>,<numchans>,<timing>", path, line, "dynamic")
    driver = f[0].lower()
    if not _NAME.fullmatch(driver):
        raise _err(f"bad driver name {f[0]!r}", path, line, "dynamic")
    if not f[1] or not f[1].isprintable():
        raise _err("empty or unprintable address", path, line, "dynamic")
    numchans = _int_field(f[2], "numchans", 1, E1_CHANNELS, path, line, "dynamic")
    timing = _int_field(f[3], "timing", 0, MAX_SPANS, path, line, "dynamic")
    return DynamicSpan(number, driver, f[1], numchans, timing, line)


def parse_system_conf(text: str, path: str = "<system.conf>") -> SystemConf:
    """Parse system.conf text; see the module docstring for what is accepted."""
    span_lines: dict[int, SpanLine] = {}
    dynamic: list[DynamicSpan] = []
    chans: dict[int, ChannelLine] = {}
    cas_idle: dict[int, int] = {}
    echo: list[tuple[str, list[int], int]] = []
    laws: dict[int, str | None] = {}  # channo -> law; None = the span's default (later lines win)
    loadzones: list[str] = []
    defaultzone: str | None = None
    dz_line = 0

    for lineno, raw in enumerate(text.split("\n"), 1):
        stmt = raw.split("#", 1)[0].strip()
        if not stmt:
            continue
        key, eq, value = stmt.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not eq:
            raise _err(f"expected key=value, got {stmt[:40]!r}", path, lineno, "")
        if not key:
            raise _err("missing key before '='", path, lineno, "")
        if not value:
            raise _err("empty value", path, lineno, key)
        if key == "span":
            s = _span_line(value, path, lineno)
            if s.number in span_lines:
                prev = span_lines[s.number].line
                raise _err(f"span {s.number} already configured at line {prev}", path, lineno, key)
            span_lines[s.number] = s
        elif key == "dynamic":
            dynamic.append(_dynamic_line(value, len(dynamic) + 1, path, lineno))
        elif key in SIGNALLING_KEYS:
            idle: int | None = None
            if key == "cas":
                value, colon, bits = value.partition(":")
                if colon:
                    if not _BITS.fullmatch(bits.strip()):
                        raise _err(f"idle bits must be 4 binary digits ABCD, not {bits!r}", path, lineno, key)
                    idle = int(bits.strip(), 2)
            for c in parse_channels(value, path, lineno, key):
                if c in chans:
                    prev_ch = chans[c]
                    raise _err(
                        f"channel {c} already configured as {prev_ch.key} at line {prev_ch.line}",
                        path,
                        lineno,
                        key,
                    )
                chans[c] = ChannelLine(c, SIGNALLING_KEYS[key], key, lineno)
                if idle is not None:
                    cas_idle[c] = idle
        elif key in UNSUPPORTED_KEYS:
            raise _err(UNSUPPORTED_KEYS[key], path, lineno, key)
        elif key in LAW_KEYS:
            for c in parse_channels(value, path, lineno, key):
                laws[c] = LAW_KEYS[key]
        elif key == "echocanceller":
            name, comma, rest = value.partition(",")
            name = name.strip().lower()
            if not comma:
                raise _err("expected echocanceller=<name>,<channels>", path, lineno, key)
            if not _NAME.fullmatch(name):
                raise _err(f"bad echo canceller name {name!r}", path, lineno, key)
            echo.append((name, parse_channels(rest, path, lineno, key), lineno))
        elif key in ("loadzone", "defaultzone"):
            zone = value.lower()
            if not _ZONE.fullmatch(zone):
                raise _err(f"bad tone zone {value!r} (e.g. us, uk, de)", path, lineno, key)
            if key == "loadzone":
                if zone not in loadzones:
                    loadzones.append(zone)
            else:
                if defaultzone is not None:
                    raise _err(f"defaultzone already set at line {dz_line}", path, lineno, key)
                defaultzone, dz_line = zone, lineno
        else:
            raise _err(f"unknown key {key[:40]!r}", path, lineno, key[:40])

    spans = _layout(span_lines, dynamic, chans, path)
    configured = {c.channo: c for s in spans for c in s.channels}
    for sp in spans:
        for ch in sp.channels:
            if ch.channo in laws:
                ch.law = laws[ch.channo] or LAW[sp.kind]
    echocanceller: dict[int, str] = {}
    for name, chan_list, lineno in echo:
        for c in chan_list:
            if c not in configured:
                raise _err(f"channel {c} has no signalling configured", path, lineno, "echocanceller")
            if not configured[c].signalling.is_voice:
                raise _err(f"channel {c} carries no audio ({chans[c].key})", path, lineno, "echocanceller")
            if c in echocanceller:
                raise _err(f"channel {c} already has an echo canceller", path, lineno, "echocanceller")
            echocanceller[c] = name
    if defaultzone is not None and loadzones and defaultzone not in loadzones:
        raise _err(f"zone {defaultzone!r} is not loaded (loadzone=)", path, dz_line, "defaultzone")
    return SystemConf(
        path=path,
        spans=spans,
        cas_idle=cas_idle,
        echocanceller=echocanceller,
        loadzones=loadzones,
        defaultzone=defaultzone,
        dynamic=dynamic,
        channel_lines=chans,
    )


def _layout(
    span_lines: dict[int, SpanLine], dynamic: list[DynamicSpan], chans: dict[int, ChannelLine], path: str
) -> list[Span]:
    """Number the spans and give each its channels (see 'Numbering' in the module docstring)."""
    digital: dict[int, tuple[SpanKind, int, SpanLine | None, int]] = {}  # n -> kind, size, line, decl line
    for d in dynamic:
        s = span_lines.get(d.number)
        if s is not None:
            kind = SpanKind.E1 if s.framing in (Framing.CAS, Framing.CCS) else SpanKind.T1
        else:
            kind = SpanKind.E1 if d.numchans == E1_CHANNELS else SpanKind.T1
        digital[d.number] = (kind, d.numchans, s, d.line)
    for n, s in span_lines.items():
        if n not in digital:
            kind = SpanKind.E1 if s.framing in (Framing.CAS, Framing.CCS) else SpanKind.T1
            digital[n] = (kind, E1_CHANNELS if kind == SpanKind.E1 else T1_CHANNELS, s, s.line)

    spans: list[Span] = []
    base = 1
    analog_sigs = {Signalling.FXSLS, Signalling.FXSKS, Signalling.FXOLS, Signalling.FXOKS}
    ordered = sorted(chans)
    last = max(digital) if digital else 0
    for n in range(1, last + 1):
        if n in digital:
            kind, size, sl, decl = digital[n]
            if base + size - 1 > MAX_CHANNELS:
                raise _err(f"span {n} would end past channel {MAX_CHANNELS}", path, decl, "span")
            span = _digital_span(n, kind, sl)
            for c in range(base, base + size):
                if c in chans:
                    span.channels.append(_channel(chans[c], span, c - base + 1))
            _check_span(span, chans, path)
            spans.append(span)
            base += size
            continue
        run = []
        for c in ordered:
            if c < base:
                continue
            if chans[c].signalling not in analog_sigs:
                break
            run.append(c)
        if not run:
            nxt = min(k for k in digital if k > n)
            raise _err(
                f"span {n} is not declared (span= or dynamic=) and no analog channels fill it, "
                f"so the channel numbers of span {nxt} are unknown",
                path,
                digital[nxt][3],
                "span",
            )
        spans.append(_analog_span(n, base, run, chans))
        base = run[-1] + 1
    rest = [c for c in ordered if c >= base]
    for c in rest:
        if chans[c].signalling not in analog_sigs:
            where = f"span {last} ends at channel {base - 1}" if last else "no digital span is declared"
            raise _err(f"channel {c} is not on any span ({where})", path, chans[c].line, chans[c].key)
    if rest:
        spans.append(_analog_span(last + 1, base, rest, chans))
    return spans


def _digital_span(n: int, kind: SpanKind, sl: SpanLine | None) -> Span:
    if sl is None:
        return Span(number=n, name=f"{kind.value}/{n}", kind=kind)
    return Span(
        number=n,
        name=f"{kind.value}/{n}",
        kind=kind,
        framing=sl.framing,
        linecode=sl.linecode,
        crc4=sl.crc4,
        timing=sl.timing,
    )


def _analog_span(n: int, base: int, channos: list[int], chans: dict[int, ChannelLine]) -> Span:
    span = Span(number=n, name=f"analog/{n}", kind=SpanKind.ANALOG)
    span.channels = [_channel(chans[c], span, c - base + 1) for c in channos]
    return span


def _channel(cl: ChannelLine, span: Span, chanpos: int) -> Channel:
    return Channel(
        channo=cl.channo,
        span=span.number,
        chanpos=chanpos,
        signalling=cl.signalling,
        law=LAW[span.kind],
        name=f"{span.name}/{chanpos}",
    )


def _check_span(span: Span, chans: dict[int, ChannelLine], path: str) -> None:
    """What a span's framing rules out: TS16 on E1, D-channels on CAS E1, CAS on CCS E1."""
    if span.kind != SpanKind.E1 or span.framing == Framing.NONE:
        return
    for ch in span.channels:
        cl = chans[ch.channo]
        if span.framing == Framing.CAS:
            if ch.chanpos == E1_TS16 and cl.signalling != Signalling.UNUSED:
                raise _err(
                    f"channel {ch.channo} is TS16 of E1 span {span.number}, which carries the CAS multiframe",
                    path,
                    cl.line,
                    cl.key,
                )
            if cl.signalling == Signalling.DCHAN:
                raise _err(
                    f"channel {ch.channo}: E1 span {span.number} is CAS framed (span=...,cas): no D-channel",
                    path,
                    cl.line,
                    cl.key,
                )
        else:
            if cl.signalling in (Signalling.CAS, Signalling.EM):
                raise _err(
                    f"channel {ch.channo}: E1 span {span.number} is CCS framed: TS16 carries no CAS bits",
                    path,
                    cl.line,
                    cl.key,
                )
            if ch.chanpos == E1_TS16 and cl.signalling not in (Signalling.DCHAN, Signalling.UNUSED):
                raise _err(
                    f"channel {ch.channo} is TS16 of CCS E1 span {span.number}: it must be the D-channel",
                    path,
                    cl.line,
                    cl.key,
                )


# -- sim description (TOML) -------------------------------------------------------------------

FAR_END_ROLES = ("pstn", "phone")
FAULT_KINDS = ("los", "ais", "rai", "slip", "bit_errors", "cable_pull")


@dataclass(frozen=True)
class FarEndConfig:
    """How the simulated far end of a span behaves (times in s/ms, levels in dBm0, losses in dB)."""

    role: str = "pstn"
    calls_per_minute: float = 2.0
    hold_time_s: tuple[float, float] = (20.0, 180.0)
    answer_after_s: tuple[float, float] = (2.0, 8.0)
    digits: tuple[str, ...] = ("1", "2", "3", "0#")
    digit_on_ms: tuple[float, float] = (60.0, 120.0)
    digit_gap_ms: tuple[float, float] = (80.0, 400.0)
    digit_level_dbm0: tuple[float, float] = (-12.0, -4.0)
    speech_dir: str | None = None
    noise_dbm0: float = -65.0
    loss_db: float = 3.0
    echo_erl_db: float = 12.0
    echo_delay_ms: float = 8.0


@dataclass(frozen=True)
class SimSpanConfig:
    """One [[span]] table: `count` identical spans (or, with system_conf, the far end of span `number`)."""

    kind: SpanKind
    framing: Framing
    linecode: LineCode
    crc4: bool
    count: int
    signalling: Signalling
    cas_idle: int | None
    ports: int
    far_end: FarEndConfig
    number: int | None = None  # system_conf mode: which span this far end is for
    line: int = 0


@dataclass(frozen=True)
class FaultConfig:
    """A fault injected at at_s (virtual seconds) on a span, lasting duration_s (0 = stays)."""

    span: int
    kind: str
    at_s: float
    duration_s: float = 0.0
    rate: float = 0.0
    line: int = 0


@dataclass
class SimConfig:
    """A sim board: its spans (in DAHDI numbering), each span's far end, and the faults."""

    path: str
    name: str
    seed: int
    spans: list[Span]
    far_ends: dict[int, FarEndConfig]  # span number -> far end
    faults: list[FaultConfig]
    span_tables: list[SimSpanConfig]
    system: SystemConf | None = None
    cas_idle: dict[int, int] = field(default_factory=dict)


class _Locator:
    """Line numbers of TOML keys, by table path ("span", 0, "far_end", "loss_db"); best effort."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_.\"' -]+?)\s*=")

    def __init__(self, text: str) -> None:
        self.lines: dict[tuple[Any, ...], int] = {}
        counts: dict[tuple[Any, ...], int] = {}
        cur: tuple[Any, ...] = ()
        for lineno, raw in enumerate(text.split("\n"), 1):
            m = self._HEADER.match(raw)
            if m:
                parts = [p.strip().strip("\"'") for p in m.group(2).split(".")]
                path: list[Any] = []
                for i, p in enumerate(parts):
                    path.append(p)
                    last = i == len(parts) - 1
                    key = tuple(path)
                    if m.group(1) == "[[" and last:
                        self.lines.setdefault(key, lineno)
                        counts[key] = counts.get(key, -1) + 1
                        path.append(counts[key])
                    elif key in counts:
                        path.append(counts[key])
                cur = tuple(path)
                self.lines.setdefault(cur, lineno)
                continue
            k = self._KEY.match(raw)
            if k:
                keypath = cur + tuple(p.strip().strip("\"'") for p in k.group(1).split("."))
                self.lines.setdefault(keypath, lineno)

    def line(self, *path: Any) -> int:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return 0


class _Table:
    """Typed, checked access to one TOML table; every error names file, line and key."""

    def __init__(self, data: dict[str, Any], where: tuple[Any, ...], loc: _Locator, path: str) -> None:
        self.data = data
        self.where = where
        self.loc = loc
        self.path = path
        self.used: set[str] = set()

    def name(self, key: str) -> str:
        return ".".join(str(p) for p in (*self.where, key))

    def error(self, key: str, msg: str) -> ConfigError:
        return ConfigError(
            f"{self.name(key)}: {msg}", self.path, self.loc.line(*self.where, key), self.name(key)
        )

    def get(self, key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        self.used.add(key)
        if key not in self.data:
            return default
        v = self.data[key]
        if isinstance(v, bool) and kind is not bool and not (isinstance(kind, tuple) and bool in kind):
            raise self.error(key, f"expected {_kind_name(kind)}, got a boolean")
        if not isinstance(v, kind):
            raise self.error(key, f"expected {_kind_name(kind)}, got {type(v).__name__}")
        return v

    def number(self, key: str, default: float, lo: float, hi: float) -> float:
        v = float(self.get(key, (int, float), default))
        if not (math.isfinite(v) and lo <= v <= hi):
            raise self.error(key, f"must be within {lo}..{hi}, not {v}")
        return v

    def integer(self, key: str, default: int, lo: int, hi: int) -> int:
        v = self.get(key, int, default)
        if not lo <= v <= hi:
            raise self.error(key, f"must be within {lo}..{hi}, not {v}")
        return int(v)

    def pair(self, key: str, default: tuple[float, float], lo: float, hi: float) -> tuple[float, float]:
        v = self.get(key, list, list(default))
        if len(v) != 2 or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in v):
            raise self.error(key, "expected [low, high], two numbers")
        a, b = float(v[0]), float(v[1])
        if not (math.isfinite(a) and math.isfinite(b) and lo <= a <= b <= hi):
            raise self.error(key, f"expected {lo} <= low <= high <= {hi}, got [{a}, {b}]")
        return (a, b)

    def choice(self, key: str, default: str, choices: tuple[str, ...] | dict[str, Any]) -> str:
        v = self.get(key, str, default)
        if v.lower() not in choices:
            raise self.error(key, f"expected one of {', '.join(choices)}, not {v!r}")
        return str(v.lower())

    def table(self, key: str) -> dict[str, Any]:
        return dict(self.get(key, dict, {}))

    def done(self) -> None:
        for key in self.data:
            if key not in self.used:
                raise self.error(key, "unknown key")


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true/false", list: "an array"}
    names[dict] = "a table"
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind if k is not int or float not in kind)
    return names.get(kind, kind.__name__)


def _far_end(t: _Table, base: FarEndConfig) -> FarEndConfig:
    digits = t.get("digits", list, list(base.digits))
    for d in digits:
        if not isinstance(d, str) or not d or any(ch not in "0123456789*#ABCD" for ch in d):
            raise t.error("digits", f"each entry must be a non-empty string of 0-9 * # A-D, not {d!r}")
    speech = t.get("speech_dir", str, base.speech_dir)
    if speech is not None and not os.path.isabs(speech):
        speech = os.path.join(os.path.dirname(os.path.abspath(t.path)), speech)
    fe = FarEndConfig(
        role=t.choice("role", base.role, FAR_END_ROLES),
        calls_per_minute=t.number("calls_per_minute", base.calls_per_minute, 0.0, 6000.0),
        hold_time_s=t.pair("hold_time_s", base.hold_time_s, 0.0, 86400.0),
        answer_after_s=t.pair("answer_after_s", base.answer_after_s, 0.0, 600.0),
        digits=tuple(digits),
        digit_on_ms=t.pair("digit_on_ms", base.digit_on_ms, 1.0, 10000.0),
        digit_gap_ms=t.pair("digit_gap_ms", base.digit_gap_ms, 1.0, 60000.0),
        digit_level_dbm0=t.pair("digit_level_dbm0", base.digit_level_dbm0, -60.0, 3.0),
        speech_dir=speech,
        noise_dbm0=t.number("noise_dbm0", base.noise_dbm0, -120.0, 0.0),
        loss_db=t.number("loss_db", base.loss_db, 0.0, 60.0),
        echo_erl_db=t.number("echo_erl_db", base.echo_erl_db, 0.0, 100.0),
        echo_delay_ms=t.number("echo_delay_ms", base.echo_delay_ms, 0.0, 128.0),
    )
    t.done()
    return fe


_SIM_SIGNALLING = {
    "cas": Signalling.CAS,
    "clear": Signalling.CLEAR,
    "e&m": Signalling.EM,
    "fxoks": Signalling.FXOKS,
    "fxols": Signalling.FXOLS,
    "fxsks": Signalling.FXSKS,
    "fxsls": Signalling.FXSLS,
}
_SPAN_KINDS = {"e1": SpanKind.E1, "t1": SpanKind.T1, "analog": SpanKind.ANALOG}


def _sim_span(t: _Table, defaults: FarEndConfig, line: int) -> SimSpanConfig:
    kind = _SPAN_KINDS[t.choice("kind", "E1", _SPAN_KINDS)]
    if kind == SpanKind.ANALOG:
        framing, linecode, crc4 = Framing.NONE, LineCode.NONE, False
        sig = t.choice("signalling", "fxoks", ("fxoks", "fxols", "fxsks", "fxsls"))
        ports = t.integer("ports", 4, 1, 96)
    else:
        e1 = kind == SpanKind.E1
        framing = FRAMINGS[
            t.choice("framing", "cas" if e1 else "esf", ("cas", "ccs") if e1 else ("esf", "d4"))
        ]
        codes = ("hdb3", "ami") if e1 else ("b8zs", "ami")
        linecode = CODINGS[t.choice("linecode", codes[0], codes)]
        crc4 = bool(t.get("crc4", bool, e1))
        if crc4 and not e1:
            raise t.error("crc4", "CRC-4 is E1 framing; T1 ESF has CRC-6 built in")
        default_sig = "clear" if framing == Framing.CCS else "cas"
        sig = t.choice("signalling", default_sig, _SIM_SIGNALLING)
        if framing == Framing.CCS and e1 and sig in ("cas", "e&m"):
            raise t.error("signalling", "a CCS E1 span has no CAS bits: use clear (ISDN B-channels)")
        ports = 0
        if "ports" in t.data:
            raise t.error("ports", "only analog spans have ports")
    cas_idle: int | None = None
    bits = t.get("cas_idle", str, None)
    if bits is not None:
        if not _BITS.fullmatch(bits):
            raise t.error("cas_idle", f"expected 4 binary digits ABCD, not {bits!r}")
        cas_idle = int(bits, 2)
    count = t.integer("count", 1, 1, MAX_SPANS)
    fe = _far_end(_Table(t.table("far_end"), (*t.where, "far_end"), t.loc, t.path), defaults)
    t.done()
    return SimSpanConfig(
        kind, framing, linecode, crc4, count, _SIM_SIGNALLING[sig], cas_idle, ports, fe, None, line
    )


def build_sim_spans(tables: list[SimSpanConfig]) -> tuple[list[Span], dict[int, int]]:
    """Spans and channels for [[span]] tables, numbered like DAHDI; also channo -> CAS idle bits.

    E1: channels 1-15 and 17-31 of the span's 31 are bearers; TS16 (chanpos 16) is the D-channel
    on CCS spans and absent (it carries the CAS multiframe) on CAS spans. T1: 24 bearers, or 23
    plus the D-channel on chanpos 24 for a CCS-signalled (clear) span. Analog: `ports` ports.
    """
    spans: list[Span] = []
    idle: dict[int, int] = {}
    base = 1
    for tbl in tables:
        for _ in range(tbl.count):
            n = len(spans) + 1
            span = Span(
                number=n,
                name=f"{tbl.kind.value}/{n}",
                kind=tbl.kind,
                framing=tbl.framing,
                linecode=tbl.linecode,
                crc4=tbl.crc4,
                timing=1 if n == 1 else 0,
            )
            size = {SpanKind.E1: E1_CHANNELS, SpanKind.T1: T1_CHANNELS}.get(tbl.kind, tbl.ports)
            for pos in range(1, size + 1):
                sig = tbl.signalling
                if tbl.kind == SpanKind.E1 and pos == E1_TS16:
                    if tbl.framing != Framing.CCS:
                        continue
                    sig = Signalling.DCHAN
                if tbl.kind == SpanKind.T1 and pos == T1_CHANNELS and tbl.signalling == Signalling.CLEAR:
                    sig = Signalling.DCHAN
                c = base + pos - 1
                span.channels.append(
                    Channel(
                        channo=c,
                        span=n,
                        chanpos=pos,
                        signalling=sig,
                        law=LAW[tbl.kind],
                        name=f"{span.name}/{pos}",
                    )
                )
                if sig == Signalling.CAS and tbl.cas_idle is not None:
                    idle[c] = tbl.cas_idle
            base += size
            spans.append(span)
    if base - 1 > MAX_CHANNELS:
        raise ConfigError(f"{base - 1} channels: DAHDI numbers at most {MAX_CHANNELS}", key="span")
    return spans, idle


def read_sim_config(path: str) -> SimConfig:
    """Read and check a sim description (TOML); raises ConfigError naming file, line and key."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path=path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError("not UTF-8 text", path=path, line=raw[: exc.start].count(b"\n") + 1) from None
    return parse_sim_config(text, path)


_TOML_POS = re.compile(r"\(at line (\d+), column \d+\)")


def parse_sim_config(text: str, path: str = "<sim.toml>") -> SimConfig:
    """Parse a sim description; see the module docstring for the keys."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_POS.search(str(exc))
        msg = _TOML_POS.sub("", str(exc)).strip()
        raise ConfigError(f"TOML: {msg}", path=path, line=int(m.group(1)) if m else 0) from None
    loc = _Locator(text)
    top = _Table(data, (), loc, path)
    board = _Table(top.table("board"), ("board",), loc, path)
    name = board.get("name", str, os.path.splitext(os.path.basename(path))[0] or "sim")
    seed = board.integer("seed", 1, 0, 2**63 - 1)
    sysconf_path = board.get("system_conf", str, None)
    board.done()
    defaults = _far_end(_Table(top.table("far_end"), ("far_end",), loc, path), FarEndConfig())

    span_list = top.get("span", list, [])
    system: SystemConf | None = None
    tables: list[SimSpanConfig] = []
    far_ends: dict[int, FarEndConfig] = {}
    if sysconf_path is not None:
        if not os.path.isabs(sysconf_path):
            sysconf_path = os.path.join(os.path.dirname(os.path.abspath(path)), sysconf_path)
        system = read_system_conf(sysconf_path)
        spans, idle = system.spans, dict(system.cas_idle)
        far_ends = {s.number: defaults for s in spans}
        for i, entry in enumerate(span_list):
            t = _sim_entry(entry, i, loc, path)
            number = t.integer("number", 0, 1, MAX_SPANS)
            if number not in far_ends:
                raise t.error("number", f"span {number} is not in {sysconf_path}")
            far_ends[number] = _far_end(
                _Table(t.table("far_end"), (*t.where, "far_end"), loc, path), defaults
            )
            t.done()
    else:
        if not span_list:
            raise ConfigError(
                "no spans: give [[span]] tables or board.system_conf",
                path=path,
                line=loc.line("board"),
                key="span",
            )
        for i, entry in enumerate(span_list):
            tables.append(_sim_span(_sim_entry(entry, i, loc, path), defaults, loc.line("span", i)))
        try:
            spans, idle = build_sim_spans(tables)
        except ConfigError as exc:
            raise ConfigError(str(exc), path=path, line=loc.line("span"), key="span") from None
        n = 0
        for tbl in tables:
            for _ in range(tbl.count):
                n += 1
                far_ends[n] = tbl.far_end

    faults: list[FaultConfig] = []
    for i, entry in enumerate(top.get("fault", list, [])):
        t = _sim_entry(entry, i, loc, path, "fault")
        span_no = t.integer("span", 1, 1, MAX_SPANS)
        if span_no not in far_ends:
            raise t.error("span", f"no span {span_no} on this board")
        kind = t.choice("kind", "los", FAULT_KINDS)
        fault = FaultConfig(
            span=span_no,
            kind=kind,
            at_s=t.number("at_s", 0.0, 0.0, 1e9),
            duration_s=t.number("duration_s", 0.0, 0.0, 1e9),
            rate=t.number("rate", 1e-5 if kind == "bit_errors" else 0.0, 0.0, 1.0),
            line=loc.line("fault", i),
        )
        t.done()
        faults.append(fault)
    top.done()
    return SimConfig(path, name, seed, spans, far_ends, faults, tables, system, idle)


def _sim_entry(entry: Any, i: int, loc: _Locator, path: str, what: str = "span") -> _Table:
    if not isinstance(entry, dict):
        raise ConfigError(f"{what}[{i}]: expected a table ([[{what}]])", path, loc.line(what), what)
    return _Table(entry, (what, i), loc, path)


def replace_far_end(fe: FarEndConfig, **changes: Any) -> FarEndConfig:
    """A copy of fe with some fields changed (for tests and scripted scenarios)."""
    return dataclasses.replace(fe, **changes)
