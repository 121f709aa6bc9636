"""`ccboard scan|cfg|status|monitor|test`: the dahdi-tools a DAHDI user knows, on any board URL.

Every command takes a board URL (default `sim://`): `sim://...` runs the simulated board in this
process (in virtual time where the command allows it), `dahdi://...` the DAHDI driver. A board
may tick N ms at a time (`dahdi://...?block=64&tick=8`: rows of 8N samples); status, monitor and
test pace and size their work in board ms, so any tick works.
"""

from __future__ import annotations

import argparse
import time
import wave
from collections.abc import Callable
from typing import Any

import numpy as np

DEFAULT_URL = "sim://"
SETTLE_TICKS = 50  # let framing align before reporting (a real board has been running)
SAMPLES_PER_MS = 8


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def add_board_commands(sub: Any) -> None:
    """Register the board subcommands on main's subparsers."""
    p = sub.add_parser("scan", help="list spans and their settings, like dahdi_scan")
    p.add_argument("url", nargs="?", default=DEFAULT_URL, help="board URL (default sim://)")
    p = sub.add_parser("cfg", help="apply a system.conf, like dahdi_cfg (-vv: show the channel map)")
    p.add_argument("url", nargs="?", default=DEFAULT_URL, help="board URL (default sim://)")
    p.add_argument("-c", "--conf", default="/etc/dahdi/system.conf", help="system.conf to apply")
    p.add_argument("-v", "--verbose", action="count", default=0)
    p = sub.add_parser("status", help="spans, alarms and counters, like dahdi_tool / dahdi_maint")
    p.add_argument("url", nargs="?", default=DEFAULT_URL, help="board URL (default sim://)")
    p.add_argument("--live", action="store_true", help="keep the board running and refresh (rich)")
    p.add_argument("--seconds", type=_positive_float, default=None, help="with --live: stop after this")
    p = sub.add_parser("monitor", help="record a channel's rx and tx to a 2-channel WAV, like dahdi_monitor")
    p.add_argument("url", help="board URL")
    p.add_argument("channo", type=int, help="channel number")
    p.add_argument("out", help="WAV file to write (left = rx, right = tx; 8 kHz, 16 bit)")
    p.add_argument("--seconds", type=_positive_float, default=5.0, help="how long (default 5)")
    p = sub.add_parser("test", help="tick timing accuracy, like dahdi_test")
    p.add_argument("url", nargs="?", default=DEFAULT_URL, help="board URL (default sim://)")
    p.add_argument("--seconds", type=_positive_float, default=5.0, help="how long (default 5)")


BOARD_COMMANDS = ("scan", "cfg", "status", "monitor", "test")


def run_board_command(args: argparse.Namespace, out: Callable[[str], None] = print) -> int:
    """Run one of BOARD_COMMANDS; return the exit status."""
    from ccboard.errors import CCBoardError

    try:
        fn = {"scan": scan, "cfg": cfg, "status": status, "monitor": monitor, "test": tick_test}[args.command]
        return fn(args, out)
    except CCBoardError as exc:
        out(f"ccboard {args.command}: {exc}")
        return 2


def _open(url: str) -> Any:
    from ccboard.board import open_board

    return open_board(url)


def _settle(board: Any, ticks: int = SETTLE_TICKS) -> None:
    for _ in range(ticks):
        board.tick()


def _alarm_text(alarms: Any) -> str:
    from ccboard.board.events import Alarm

    if alarms == Alarm.NONE:
        return "OK"
    names = [a.name for a in Alarm if a != Alarm.NONE and a in alarms and a.name]
    return ",".join(names)


def scan(args: argparse.Namespace, out: Callable[[str], None]) -> int:
    """dahdi_scan's key=value blocks, one per span."""
    from ccboard.board.span import SpanKind

    with _open(args.url) as board:
        _settle(board)
        for sp in board.spans:
            chans = sorted(c.channo for c in sp.channels)
            out(f"[{sp.number}]")
            out("active=yes")
            out(f"alarms={_alarm_text(sp.alarms)}")
            out(f"description={sp.name} ({args.url})")
            out(f"name={sp.name}")
            out("manufacturer=ccboard")
            out(f"devicetype={'sim' if args.url.startswith('sim:') else 'dahdi'} {sp.kind.value}")
            out(f"basechan={chans[0] if chans else 0}")
            out(f"totchans={len(sp.channels)}")
            if sp.kind == SpanKind.ANALOG:
                out("type=analog")
                for c in sorted(sp.channels, key=lambda c: c.chanpos):
                    port = "FXS" if c.signalling.is_fxs_port else "FXO" if c.signalling.is_fxo_port else "-"
                    out(f"port={c.channo},{port}")
            else:
                out(f"type=digital-{sp.kind.value}")
                out(f"syncsrc={sp.timing}")
                out("lbo=0 db (0-133 feet)")
                e1 = sp.kind == SpanKind.E1
                out(f"coding_opts={'HDB3,AMI' if e1 else 'B8ZS,AMI'}")
                out(f"framing_opts={'CCS,CAS,CRC4' if e1 else 'ESF,D4'}")
                out(f"coding={sp.linecode.value.upper()}")
                out(f"framing={sp.framing.value.upper()}{'/CRC4' if sp.crc4 else ''}")
    return 0


def cfg(args: argparse.Namespace, out: Callable[[str], None]) -> int:
    """Read a system.conf and configure the board from it; -v shows the channel map like dahdi_cfg -vv."""
    from ccboard.board.config import read_system_conf

    conf = read_system_conf(args.conf)
    url = args.url
    if url.startswith("sim:"):
        # the sim takes its spans from the file itself: sim:///path/system.conf
        url = f"sim://{args.conf if args.conf.startswith('/') else '/' + args.conf}"
    with _open(url) as board:
        _settle(board)
        out(f"DAHDI-style configuration from {conf.path}")
        out("======================")
        for sp in board.spans:
            opts = f"{sp.framing.value.upper()}/{sp.linecode.value.upper()}{'/CRC4' if sp.crc4 else ''}"
            out(
                f"SPAN {sp.number}: {sp.name} {opts} Build-out: 0 db (-0 dB) (0-133 feet) "
                f"timing {sp.timing} alarms {_alarm_text(sp.alarms)}"
            )
        n = 0
        for sp in board.spans:
            for c in sorted(sp.channels, key=lambda c: c.channo):
                n += 1
                if args.verbose:
                    ec = conf.echocanceller.get(c.channo)
                    extra = f" (Echo Canceler: {ec})" if ec else ""
                    sig = c.signalling.value.upper()
                    out(f"Channel {c.channo:02d}: {sig} (Default) (Slaves: {c.channo:02d}){extra}")
        out(f"\n{n} channels to configure.")
        if conf.defaultzone:
            out(f"Default tone zone: {conf.defaultzone}")
    return 0


def _status_rows(board: Any) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for sp in board.spans:
        c = sp.counters
        rows.append(
            (
                str(sp.number),
                sp.name,
                sp.kind.value,
                _alarm_text(sp.alarms),
                str(c.slips),
                str(c.crc_errors),
                str(c.framing_errors),
                str(c.ebits),
                str(c.bpv),
                str(sum(1 for ch in sp.channels if ch.offhook)),
            )
        )
    return rows


STATUS_HEADER = ("span", "name", "kind", "alarms", "slips", "crc", "fas", "ebits", "bpv", "offhook")


def status(args: argparse.Namespace, out: Callable[[str], None]) -> int:
    """A table of spans, alarms and counters; --live keeps the board running and redraws it."""
    with _open(args.url) as board:
        _settle(board)
        if not args.live:
            rows = [STATUS_HEADER, *_status_rows(board)]
            widths = [max(len(r[i]) for r in rows) for i in range(len(STATUS_HEADER))]
            for r in rows:
                out("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
            return 0
        from rich.live import Live
        from rich.table import Table

        from ccboard.board.clock import RealClock

        def table() -> Table:
            t = Table(title=f"{args.url}  t={board.t / 8000:.1f} s")
            for h in STATUS_HEADER:
                t.add_column(h)
            for r in _status_rows(board):
                t.add_row(*r)
            return t

        n = board.tick_ms
        clock = RealClock()
        end = None if args.seconds is None else time.monotonic() + args.seconds
        with Live(table(), refresh_per_second=4) as live:
            try:
                while end is None or time.monotonic() < end:
                    board.run(clock, lambda ev: None, ticks=max(1, 250 // n))  # ~250 ms
                    live.update(table())
            except KeyboardInterrupt:
                pass
    return 0


def monitor(args: argparse.Namespace, out: Callable[[str], None]) -> int:
    """Record a channel's rx (left) and tx (right) for --seconds into a 16-bit 8 kHz WAV."""
    from ccboard.board.clock import RealClock, VirtualClock

    with _open(args.url) as board:
        ch = board.channel(args.channo)
        if not ch.signalling.is_voice:
            out(f"ccboard monitor: {ch} carries no audio ({ch.signalling.value})")
            return 2
        n = board.tick_ms
        ticks = -(-int(round(args.seconds * 1000)) // n)  # board ticks of n ms (the last one whole)
        buf = np.zeros((ticks, n * SAMPLES_PER_MS, 2), np.int16)
        k = 0

        def grab(events: list[Any]) -> None:
            nonlocal k
            buf[k, :, 0] = board.rx[ch.index]
            buf[k, :, 1] = board.tx[ch.index]
            k += 1

        clock: Any = VirtualClock() if args.url.startswith("sim:") else RealClock()
        board.run(clock, grab, ticks=ticks)
        with wave.open(args.out, "wb") as w:
            w.setnchannels(2)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(buf.reshape(-1, 2).astype("<i2").tobytes())
        rms = np.sqrt(np.mean(buf.astype(np.float64) ** 2, axis=(0, 1)))
        n_samples = buf.shape[0] * buf.shape[1]
        out(f"{ch}: {n_samples} samples to {args.out} (rx rms {rms[0]:.0f}, tx rms {rms[1]:.0f})")
    return 0


def tick_test(args: argparse.Namespace, out: Callable[[str], None]) -> int:
    """Tick on a real clock (one board tick every N ms: 1 ms, or the board's `tick=N`) for
    --seconds and report how well the ticks kept time.

    Per second (1000 ticks of 1 ms; 1000 // N of N ms), like dahdi_test: accuracy = 100 -
    |elapsed - expected| / expected in %. Over the run: % of ticks that started before the next one
    was due, the worst lateness and the tick cost."""
    with _open(args.url) as board:
        _settle(board)
        n = board.tick_ms
        tick_ns = n * 1_000_000
        ticks = max(2, int(round(args.seconds * 1000)) // n)
        per_s = max(2, 1000 // n)  # ticks in one report window (1 s, or just under)
        late = np.zeros(ticks, np.int64)
        cost = np.zeros(ticks, np.int64)
        starts = np.zeros(ticks, np.int64)
        t0 = time.monotonic_ns()
        for k in range(ticks):
            due = t0 + k * tick_ns
            now = time.monotonic_ns()
            if now < due:
                time.sleep((due - now) / 1e9)
                now = time.monotonic_ns()
            starts[k] = now
            late[k] = now - due
            board.tick()
            cost[k] = time.monotonic_ns() - now
        window_ns = per_s * tick_ns
        for s in range(per_s, ticks + 1, per_s):
            elapsed = (starts[s - 1] - starts[s - per_s]) * per_s / (per_s - 1)
            acc = 100.0 - abs(elapsed - window_ns) / window_ns * 100.0
            out(f"{window_ns // 125_000} samples in {elapsed / 1e9 * 8000:.0f} sample intervals {acc:.3f}%")
        on_time = float(np.mean(late < tick_ns) * 100.0)
        out(f"--- Results after {ticks} ticks ---")
        out(
            f"on time: {on_time:.3f}%  worst lateness: {late.max() / 1e6:.3f} ms  "
            f"tick cost median {np.median(cost) / 1e3:.1f} us, max {cost.max() / 1e3:.1f} us"
        )
    return 0
