"""`ccboard check URL --loop A:B`: prove a board on its own server, two ports looped together
(a loopback cable, or two ports cabled back to back), and report pass/fail per check.

For each loop A:B (channel numbers), on the board's own tick (1 ms, or a whole driver block with
`dahdi://...?block=N&tick=N/8`, which a slow machine needs to keep up with the line):
  - the spans of A and B: present, voice channels, no alarm;
  - audio both ways at once: DTMF from our generator on A, G.711-coded by the board, decoded by
    the board's DTMF receiver on B, and other digits from B to A;
  - line signalling where the channel types allow it: CAS bits both ways (two CAS channels), or
    ring, answer and hang-up (an FXS port, fxoks, looped to an FXO port, fxsks);
  - with --r2 VARIANT: an MFC/R2 call from A to B with our own R2 engine on both ends (ANI and
    DNIS collected, answered, cleared).
Exit status: 0 when every check passed (a check the channel types do not allow is skipped), 1
when one failed, 2 when the board or a channel could not be opened.

`dahdi://...` ticks at the driver's pace (each tick that reads a block first polls the channel
for it); `sim://...` runs in virtual time with the loop made of the sim's own far ends: what we
send on A is played by the far end of B and the CAS bits the far end reads on A are sent on B.
"""

from __future__ import annotations

import argparse
import gc
import io
import select
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ccboard.board.base import Board
from ccboard.board.channel import Channel, Signalling
from ccboard.board.events import Alarm, BitsChanged, Digit, Event, HookChanged, RingChanged

FORWARD = "0123456789*#ABCD"  # keyed on A, expected on B
BACKWARD = "97531#"  # keyed on B, expected on A
SETTLE_MS = 200  # framing and the driver's buffers settle before the first check
AUDIO_LIMIT_MS = 8000  # 16 digits of 120 ms take about 2 s of line time
LINE_LIMIT_MS = 3000  # one CAS change or hook/ring event
R2_LIMIT_MS = 20000  # an R2 call, both ends ours
PACE_TIMEOUT_S = 2.0  # no block from the driver for this long: the span stopped
SAMPLES_PER_MS = 8
DNIS, ANI = "5678", "7654321"

_T = TypeVar("_T")


@dataclass
class Result:
    """One check: ok None means skipped (the channel types do not allow it)."""

    name: str
    channels: str
    ok: bool | None
    message: str


class CheckFailed(Exception):
    """A check's expectation not met; the message names the channel."""


def _loop_pair(text: str) -> tuple[int, int]:
    try:
        a, b = (int(x) for x in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--loop {text!r}: expected A:B, two channel numbers") from None
    if a == b or a <= 0 or b <= 0:
        raise argparse.ArgumentTypeError(f"--loop {text!r}: two different positive channel numbers")
    return a, b


def add_check_command(sub: Any) -> None:
    """Register `check` on main's subparsers."""
    p = sub.add_parser(
        "check",
        help="pass/fail checks of a board with two ports looped together (spans, audio, CAS/hook/ring, R2)",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    p.add_argument("url", help="board URL (dahdi:///etc/dahdi/system.conf, sim://...)")
    p.add_argument(
        "--loop",
        type=_loop_pair,
        action="append",
        required=True,
        metavar="A:B",
        help="two channels cabled together (repeat for more pairs)",
    )
    p.add_argument("--r2", metavar="VARIANT", default=None, help="also an R2 call A->B (itu, cn, mx, br)")


class _Line:
    """Ticks the board at the line's pace: the driver's (polls the channel before a tick that
    reads a block) or, on the sim, virtual time with the loops made of the far ends."""

    def __init__(self, board: Board, loops: list[tuple[int, int]]) -> None:
        self.board = board
        self.loops = loops
        self.poll: Any = None
        fileno = getattr(board, "fileno", None)
        if fileno is not None:
            self.poll = select.poll()
            self.poll.register(fileno(loops[0][0]), select.POLLIN | select.POLLPRI)
        self._cable: list[tuple[Any, int, int]] = []  # (far end of B's span, B's chanpos, A's row)
        # sim analog loops: (FXS port, its far end, its chanpos, FXO port, its far end, its chanpos)
        self._analog: list[tuple[Any, Any, int, Any, Any, int]] = []
        self._state: dict[int, tuple[bool, bool]] = {}  # analog loop -> (ringing, answered) last seen
        far_ends = getattr(board, "far_ends", None)
        if far_ends is not None:
            ends: dict[tuple[int, int], tuple[int, int]] = {}
            for a, b in loops:
                ca, cb = board.channel(a), board.channel(b)
                for x, y in ((ca, cb), (cb, ca)):
                    ends[(x.span, x.chanpos)] = (y.span, y.chanpos)
                    if x.signalling.is_voice:
                        self._cable.append((far_ends[y.span], y.chanpos, x.index))

            def cas_through(span: int) -> Callable[[int, int], None]:
                def seen(chanpos: int, bits: int) -> None:
                    peer = ends.get((span, chanpos))
                    if peer is not None:
                        far_ends[peer[0]].set_bits(peer[1], bits)

                return seen

            for sp in {board.channel(c).span for pair in loops for c in pair}:
                far_ends[sp].on_bits = cas_through(sp)
            # analog: our FXS port's ringing rings the FXO port; the FXO port's loop is the
            # phone's hook switch on the FXS port
            fxs, fxo = getattr(board, "fxs", {}), getattr(board, "fxo", {})
            for pair in loops:
                s, o = (board.channel(c) for c in pair)
                if s.channo in fxo and o.channo in fxs:
                    s, o = o, s
                if s.channo in fxs and o.channo in fxo:
                    self._analog.append(
                        (
                            fxs[s.channo],
                            far_ends[s.span],
                            s.chanpos,
                            fxo[o.channo],
                            far_ends[o.span],
                            o.chanpos,
                        )
                    )

    def step(self, tick: Callable[[], _T]) -> _T:
        """One tick through `tick` (board.tick or a driver's step); what it returned."""
        b = self.board
        if self.poll is not None and getattr(b, "next_tick_reads", True) and not self.poll.poll(0):
            if not self.poll.poll(PACE_TIMEOUT_S * 1000):
                raise CheckFailed(f"no audio block from the driver in {PACE_TIMEOUT_S} s: the span stopped")
        for far, chanpos, row in self._cable:
            far.play(chanpos, b.tx[row].copy())  # what A sends in this tick, heard at B's far end
        for k, (sport, sfar, spos, oport, ofar, opos) in enumerate(self._analog):
            ringing, answered = sport.ringing, oport.offhook
            was = self._state.get(k, (False, False))
            if ringing != was[0]:
                (ofar.ring if ringing else ofar.stop_ring)(opos)
            if answered != was[1]:
                (sfar.offhook if answered else sfar.onhook)(spos)
            self._state[k] = (ringing, answered)
        return tick()

    def run(
        self, tick: Callable[[], list[Event]], done: Callable[[list[Event]], bool], limit_ms: int
    ) -> None:
        """Tick until done(events of the tick); CheckFailed after limit_ms of line time (a tick
        is 1 ms, or longer on a board that ticks per driver block: dahdi's tick=)."""
        wall = time.monotonic() + limit_ms / 1000 * 4  # a slow host: the line keeps its own time
        end = self.board.t + limit_ms * SAMPLES_PER_MS
        while self.board.t < end:
            if done(self.step(tick)):
                return
            if time.monotonic() > wall:
                break
        raise CheckFailed(f"not within {limit_ms} ms")

    def settle(self, tick: Callable[[], object]) -> None:
        """SETTLE_MS of line time through `tick`."""
        end = self.board.t + SETTLE_MS * SAMPLES_PER_MS
        while self.board.t < end:
            self.step(tick)


def _spans(board: Board, a: Channel, b: Channel) -> Result:
    bad = [
        f"span {n} in alarm {board.span(n).alarms!r}"
        for n in sorted({a.span, b.span})
        if board.span(n).alarms != Alarm.NONE
    ]
    for c in (a, b):
        if not c.signalling.is_voice:
            bad.append(f"channel {c.channo} carries no audio ({c.signalling.value})")
    spans = ", ".join(f"span {n}: {board.span(n).name}" for n in sorted({a.span, b.span}))
    return Result(
        "spans and alarms", f"{a.channo}:{b.channo}", not bad, "; ".join(bad) or f"{spans}, no alarm"
    )


def _audio(line: _Line, a: Channel, b: Channel) -> list[Result]:
    from ccboard.dsp import dtmf

    board = line.board
    gens = [(a, dtmf.DtmfGenerator(on_ms=60, off_ms=60)), (b, dtmf.DtmfGenerator(on_ms=60, off_ms=60))]
    gens[0][1].put(FORWARD)
    gens[1][1].put(BACKWARD)
    heard = {a.channo: "", b.channo: ""}
    want = {b.channo: FORWARD, a.channo: BACKWARD}

    def tick() -> list[Event]:
        evs = board.tick()
        for ch, g in gens:
            g.generate(board.tx.shape[1], out=board.tx[ch.index])  # sent on the next tick
        for ev in evs:
            if isinstance(ev, Digit) and ev.kind == "off" and ev.channel in heard:
                heard[ev.channel] += ev.digit
        return evs

    t0, w0 = board.t, time.monotonic()
    try:
        line.run(tick, lambda _: heard == want, AUDIO_LIMIT_MS)
        err = ""
    except CheckFailed as exc:
        err = str(exc)
    finally:
        board.tx[a.index] = 0
        board.tx[b.index] = 0
    took = f"{(board.t - t0) / SAMPLES_PER_MS:.0f} ms of line time in {time.monotonic() - w0:.1f} s"
    out = []
    for src, dst, sent in ((a, b, FORWARD), (b, a, BACKWARD)):
        ok = heard[dst.channo] == sent
        msg = f"{sent!r} keyed on channel {src.channo}, heard on channel {dst.channo}: {heard[dst.channo]!r}"
        why = f"{took}; {err}" if err else took
        out.append(Result("DTMF audio", f"{src.channo}->{dst.channo}", ok, f"{msg} ({why})"))
    return out


def _cas(line: _Line, a: Channel, b: Channel) -> Result:
    board = line.board
    idle = (a.tx_bits, b.tx_bits)
    steps = ((a, b, 0b0101), (b, a, 0b1010), (a, b, 0b0001))
    try:
        for src, dst, bits in steps:
            board.set_tx_bits(src.channo, bits)

            def arrived(evs: list[Event], want: tuple[int, int] = (dst.channo, bits)) -> bool:
                return any(isinstance(e, BitsChanged) and (e.channel, e.bits) == want for e in evs)

            try:
                line.run(board.tick, arrived, LINE_LIMIT_MS)
            except CheckFailed as exc:
                raise CheckFailed(
                    f"ABCD {bits:04b} sent on channel {src.channo}: channel {dst.channo} still reads "
                    f"{dst.rx_bits:04b} ({exc})"
                ) from None
    except CheckFailed as exc:
        return Result("CAS bits", f"{a.channo}<->{b.channo}", False, str(exc))
    finally:
        board.set_tx_bits(a.channo, idle[0])
        board.set_tx_bits(b.channo, idle[1])
    return Result(
        "CAS bits", f"{a.channo}<->{b.channo}", True, "ABCD 0101, 1010, 0001 seen on the far channel"
    )


def _hook_ring(line: _Line, fxs: Channel, fxo: Channel) -> Result:
    board = line.board
    chans = f"{fxs.channo}<->{fxo.channo}"

    def wait(kind: type, channo: int, value: bool, what: str) -> None:
        def done(evs: list[Event]) -> bool:
            for e in evs:
                if isinstance(e, kind) and getattr(e, "channel", None) == channo:
                    got = e.ringing if isinstance(e, RingChanged) else getattr(e, "offhook", None)
                    if got == value:
                        return True
            return False

        try:
            line.run(board.tick, done, LINE_LIMIT_MS)
        except CheckFailed as exc:
            raise CheckFailed(f"{what} ({exc})") from None

    try:
        board.set_ring(fxs.channo, True)
        wait(
            RingChanged, fxo.channo, True, f"ringing FXS port {fxs.channo}: FXO port {fxo.channo} saw no ring"
        )
        board.set_ring(fxs.channo, False)
        board.set_hook(fxo.channo, True)
        wait(
            HookChanged,
            fxs.channo,
            True,
            f"FXO port {fxo.channo} off hook: FXS port {fxs.channo} saw no answer",
        )
        board.set_hook(fxo.channo, False)
        wait(
            HookChanged,
            fxs.channo,
            False,
            f"FXO port {fxo.channo} on hook: FXS port {fxs.channo} saw no hang-up",
        )
    except CheckFailed as exc:
        board.set_ring(fxs.channo, False)
        board.set_hook(fxo.channo, False)
        return Result("hook and ring", chans, False, str(exc))
    return Result("hook and ring", chans, True, "ring, answer and hang-up seen through the event stream")


def _r2(line: _Line, a: Channel, b: Channel, name: str) -> Result:
    from ccboard.signalling.driver import BoardDriver
    from ccboard.signalling.r2 import R2Channel, variant

    chans = f"{a.channo}->{b.channo}"
    try:
        v = variant(name)
    except ValueError as exc:
        return Result(f"R2 call ({name})", chans, False, str(exc))
    board = line.board
    ends = {a.channo: R2Channel(v, a.channo), b.channo: R2Channel(v, b.channo)}
    drv = BoardDriver(
        board,
        dict(ends),
        mf_variant="r2_china" if v.name == "cn" else "r2_itu",
    )
    seen: dict[int, list[Any]] = {a.channo: [], b.channo: []}
    ani = "1234567890"[: v.max_ani] if v.force_max_ani else ANI  # China exchanges exactly max_ani

    def until(kind: str, channo: int, what: str) -> Any:
        def done(_: list[Event]) -> bool:
            for c, got in seen.items():
                got += drv.drivers[c].inbox
                drv.drivers[c].inbox.clear()
            return any(e.kind == kind for e in seen[channo])

        try:
            line.run(drv.step, done, R2_LIMIT_MS)
        except CheckFailed as exc:
            so_far = [
                f"{e.kind} on {c}" + (f" ({e.detail})" if e.detail else "")
                for c, evs in seen.items()
                for e in evs
            ]
            raise CheckFailed(f"{what} (events so far: {', '.join(so_far) or 'none'}; {exc})") from None
        return next(e for e in seen[channo] if e.kind == kind)

    try:
        line.settle(drv.step)  # both ends see each other's idle bits
        drv.drivers[a.channo].do(
            "dial", board.t / SAMPLES_PER_MS, DNIS, ani=ani, category="national_subscriber"
        )
        what = f"dialled {DNIS} on channel {a.channo}: no call offered on channel {b.channo}"
        call = until("offered", b.channo, what).call
        if (call.dnis, call.ani) != (DNIS, ani):
            raise CheckFailed(
                f"channel {b.channo} collected DNIS {call.dnis!r} ANI {call.ani!r}; "
                f"channel {a.channo} sent {DNIS!r} {ani!r}"
            )
        drv.drivers[b.channo].do("answer", board.t / SAMPLES_PER_MS)
        until("answered", a.channo, f"channel {b.channo} answered: channel {a.channo} saw no answer")
        drv.drivers[a.channo].do("hangup", board.t / SAMPLES_PER_MS)
        until("released", b.channo, f"channel {a.channo} cleared: channel {b.channo} was not released")
        until("released", a.channo, f"channel {a.channo} cleared: it was not released")
    except CheckFailed as exc:
        return Result(f"R2 call ({name})", chans, False, str(exc))
    bridged = sum(m.mf_bridged for m in ends.values())
    note = f" ({bridged} MF dropouts bridged)" if bridged else ""
    return Result(
        f"R2 call ({name})", chans, True, f"DNIS {DNIS} ANI {ani} collected, answered and cleared{note}"
    )


def run_checks(board: Board, loops: list[tuple[int, int]], r2: str | None = None) -> list[Result]:
    """Every check on every loop, in order; a failed check does not stop the next."""
    line = _Line(board, loops)
    # A full garbage collection of a big heap stalls the tick for tens of ms on a slow CPU: move
    # what exists now out of the collector's reach for the run (the checks' garbage is young).
    gc.collect()
    gc.freeze()
    try:
        return _all_checks(line, loops, r2)
    finally:
        gc.unfreeze()


def _all_checks(line: _Line, loops: list[tuple[int, int]], r2: str | None) -> list[Result]:
    board = line.board
    line.settle(board.tick)
    results: list[Result] = []
    for x, y in loops:
        a, b = board.channel(x), board.channel(y)
        spans = _spans(board, a, b)
        results.append(spans)
        if not spans.ok:
            continue
        results += _audio(line, a, b)
        sa, sb = a.signalling, b.signalling
        if sa == Signalling.CAS and sb == Signalling.CAS:
            results.append(_cas(line, a, b))
            if r2 is not None:
                results.append(_r2(line, a, b, r2))
            continue
        if sb.is_fxs_port and sa.is_fxo_port:
            a, b = b, a
        if a.signalling.is_fxs_port and b.signalling.is_fxo_port:
            results.append(_hook_ring(line, a, b))
        else:
            why = f"channels {x} ({sa.value}) and {y} ({sb.value}): neither two CAS channels nor FXS to FXO"
            results.append(Result("line signalling", f"{x}<->{y}", None, why))
        if r2 is not None:
            results.append(Result(f"R2 call ({r2})", f"{x}->{y}", None, "R2 needs two CAS channels"))
    return results


def render(url: str, results: list[Result]) -> str:
    """The pass/fail table (rich), as text."""
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"ccboard check {url}")
    for h in ("check", "channels", "result", "detail"):
        t.add_column(h)
    for r in results:
        verdict = "[green]PASS[/]" if r.ok else "[red]FAIL[/]" if r.ok is False else "[yellow]SKIP[/]"
        t.add_row(r.name, r.channels, verdict, r.message)
    buf = io.StringIO()
    Console(file=buf, width=160).print(t)
    failed = sum(r.ok is False for r in results)
    passed = sum(r.ok is True for r in results)
    return buf.getvalue() + f"{passed} passed, {failed} failed, {len(results) - passed - failed} skipped"


def run_check(args: argparse.Namespace, out: Callable[[str], None] = print) -> int:
    """`ccboard check`: 0 when every check passed, 1 when one failed, 2 on a board error."""
    from ccboard.board import open_board
    from ccboard.errors import CCBoardError

    try:
        with open_board(args.url) as board:
            for pair in args.loop:
                for c in pair:
                    board.channel(c)  # BoardError naming the channel
            results = run_checks(board, args.loop, args.r2)
    except CCBoardError as exc:
        out(f"ccboard check: {exc}")
        return 2
    except CheckFailed as exc:  # the driver stopped while settling
        out(f"ccboard check: {args.url}: {exc}")
        return 1
    out(render(args.url, results))
    return 1 if any(r.ok is False for r in results) else 0
