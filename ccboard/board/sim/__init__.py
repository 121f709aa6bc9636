"""The simulated board (sim://): real E1/T1 framing and analog port timing against simulated far
ends, with faults on demand. Everything above the board layer is tested on it.

URLs:
  sim://                          one E1 span (CAS, CRC-4) and one analog span (4 FXS, 4 FXO)
  sim://?e1=32&t1=0&fxs=0&fxo=0   that many spans/ports (also crc4=0, ccs=1 for D-channels,
                                  seed=N, zone=uk, echo=ERL dB, delay=echo delay ms)
  sim:///path/board.toml          a sim description (ccboard.board.config.read_sim_config)
  sim:///etc/dahdi/system.conf    the spans of a system.conf (any path not ending in .toml),
                                  with default far ends
"""

from __future__ import annotations

from urllib.parse import ParseResult, parse_qs

from ccboard.board.channel import Channel, Signalling
from ccboard.board.sim.board import FarEnd, FarEndSettings, SimBoard
from ccboard.board.span import Framing, LineCode, Span, SpanKind
from ccboard.errors import BoardError

__all__ = ["FarEnd", "FarEndSettings", "SimBoard", "default_spans", "open_sim"]


def default_spans(
    e1: int = 1, t1: int = 0, fxs: int = 4, fxo: int = 4, crc4: bool = True, ccs: bool = False
) -> list[Span]:
    """Spans numbered like DAHDI: E1 spans (31 channels; TS16 CAS or D-channel), T1 ESF spans (24),
    then one analog span with fxs FXS ports (fxoks) and fxo FXO ports (fxsks)."""
    spans: list[Span] = []
    channo = 1
    for kind, count in ((SpanKind.E1, e1), (SpanKind.T1, t1)):
        for _ in range(count):
            n = len(spans) + 1
            e = kind == SpanKind.E1
            sp = Span(
                number=n,
                name=f"{kind.value}/{n}",
                kind=kind,
                framing=(Framing.CCS if ccs else Framing.CAS) if e else Framing.ESF,
                linecode=LineCode.HDB3 if e else LineCode.B8ZS,
                crc4=crc4 and e,
                timing=1 if n == 1 else 0,
            )
            size = 31 if e else 24
            dpos = 16 if e else 24
            for pos in range(1, size + 1):
                if ccs:
                    sig = Signalling.DCHAN if pos == dpos else Signalling.CLEAR
                elif e and pos == 16:
                    channo += 1  # TS16 carries the CAS multiframe: no channel
                    continue
                else:
                    sig = Signalling.CAS
                law = "alaw" if e else "ulaw"
                sp.channels.append(Channel(channo, n, pos, sig, law, name=f"{sp.name}/{pos}"))
                channo += 1
            spans.append(sp)
    if fxs or fxo:
        n = len(spans) + 1
        sp = Span(number=n, name=f"analog/{n}", kind=SpanKind.ANALOG)
        for pos in range(1, fxs + fxo + 1):
            sig = Signalling.FXOKS if pos <= fxs else Signalling.FXSKS
            sp.channels.append(Channel(channo, n, pos, sig, "ulaw", name=f"{sp.name}/{pos}"))
            channo += 1
        spans.append(sp)
    return spans


def _int(q: dict[str, list[str]], key: str, default: int) -> int:
    try:
        return int(q.get(key, [str(default)])[-1])
    except ValueError:
        raise BoardError(f"sim URL: {key}={q[key][-1]!r} is not a number") from None


def open_sim(parsed: ParseResult) -> SimBoard:
    """Open a sim board from a parsed sim:// URL (see the module docstring)."""
    path = parsed.path
    if path and path != "/":
        if path.endswith(".toml"):
            return from_sim_config(path)
        from ccboard.board.config import read_system_conf

        conf = read_system_conf(path)
        zone = conf.defaultzone or "us"
        settings = {s.number: FarEndSettings(zone=zone) for s in conf.spans}
        return SimBoard(conf.spans, settings, cas_idle=conf.cas_idle, name=f"sim:{path}")
    q = parse_qs(parsed.query)
    known = {"e1", "t1", "fxs", "fxo", "crc4", "ccs", "seed", "zone", "echo", "delay"}
    for key in q:
        if key not in known:
            raise BoardError(f"sim URL: unknown parameter {key!r} (known: {', '.join(sorted(known))})")
    if q:
        spans = default_spans(
            _int(q, "e1", 0),
            _int(q, "t1", 0),
            _int(q, "fxs", 0),
            _int(q, "fxo", 0),
            bool(_int(q, "crc4", 1)),
            bool(_int(q, "ccs", 0)),
        )
    else:
        spans = default_spans()
    if not spans:
        raise BoardError("sim URL: a board needs at least one span")
    zone = q.get("zone", ["us"])[-1]
    echo = q.get("echo", [None])[-1]
    st = FarEndSettings(
        zone=zone,
        echo_erl_db=None if echo is None else float(echo),
        echo_delay_ms=float(q.get("delay", ["8"])[-1]),
    )
    return SimBoard(spans, {s.number: st for s in spans}, seed=_int(q, "seed", 1), name="sim")


def from_sim_config(path: str) -> SimBoard:
    """A SimBoard from a sim description (TOML) read by ccboard.board.config."""
    from ccboard.board.config import read_sim_config

    cfg = read_sim_config(path)
    zone = (cfg.system.defaultzone if cfg.system is not None else None) or "us"
    settings = {
        n: FarEndSettings(
            noise_dbm0=fe.noise_dbm0,
            loss_db=fe.loss_db,
            echo_erl_db=fe.echo_erl_db,
            echo_delay_ms=fe.echo_delay_ms,
            zone=zone,
        )
        for n, fe in cfg.far_ends.items()
    }
    board = SimBoard(cfg.spans, settings, seed=cfg.seed, cas_idle=cfg.cas_idle, name=cfg.name)
    for f in cfg.faults:
        board.at(f.at_s * 1000.0, board.faults.apply, f.kind, f.span, True, f.rate)
        if f.duration_s > 0 and f.kind != "slip":
            board.at((f.at_s + f.duration_s) * 1000.0, board.faults.apply, f.kind, f.span, False, f.rate)
    return board
