"""Running IVR scripts on a board: one asyncio task per call, each with its own TaskGroup, and
the board's tick in its own task that never awaits a script.

A tick is the board's: 1 ms on the sim, N ms on a board that ticks once per driver block (the
DAHDI backend's `tick=N`: rows of 8N samples). Board time is taken from the board (`board.t`,
advanced by the rows' length), never counted as 1 ms per tick: `ms`, timers, get_digits'
timeouts, digit times and the signalling machines' `now` are all board time. A timer fires at
the end of the tick it falls in (up to N - 1 ms late); a digit keeps its own ms (from its
sample-exact time), and a collector timer due before it ends the collection first, as it would
with 1 ms ticks.

The tick task, every board tick: clock.wait_next() once per ms of the tick (VirtualClock: at
once; RealClock: sleeps to the tick's end, or returns at once while catching up within the driver
buffer; a clock paced by the driver may wait only for the tick's first), BoardDriver.step()
(board tick + signalling machines; only the machines with line events, in-band audio or a due
timer are touched, the timers from a heap), hands Digit events and call events to the calls'
sync cores, plays every call's prompt and music on hold in one PlayerBank step, runs on_tick
only of the cores in the hot set (recorders, secure tails, silencing tx), fires board-time
timers (get_digits' timeouts among them), runs tick hooks (simulated callers), then yields to
the event loop once per board tick (sleep(0)) so woken scripts run before the next tick. An idle call costs no
Python work per tick. It never waits for a script: a slow script only finds its call's audio a
tick later.

Outgoing calls (dial, transfer to a channel): on a channel-associated line (loop start, R2: its
machine seizes and dials) or on an ISDN PRI span (a Q.931 SETUP through libpri on a B-channel the
span hunts or the script names; the network may move it to another B-channel before it answers).
An outgoing leg leaves the runner when its line reports it released.

Real time: RunnerStats.overruns counts ms of audio lost (the RealClock's 1 ms ticks past its
driver buffer, and the board's own Overrun events); RunnerStats.lateness is the RealClock's
Lateness (late ticks, p50/p99/max ms), so ticks that ran late but lost nothing are shown too.

Isolation: a script that raises, or is still running at its deadline (board time), is cancelled
and its call alone ends gracefully: the apology prompt is played, then the call is hung up (or
transferred, per RunnerConfig); the failure is logged with the call id. Other calls go on.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ccboard.board.base import Board
from ccboard.board.clock import SAMPLES_PER_TICK, Clock, Lateness, RealClock, VirtualClock, per_tick
from ccboard.board.events import (
    BitsChanged,
    ChannelAlarm,
    Digit,
    Event,
    HookChanged,
    HookFlash,
    Overrun,
    RingChanged,
)
from ccboard.errors import ProtocolError
from ccboard.ivr.call import CallCore, Hangup, IvrCall, IvrError, TransferHook, TransferResult
from ccboard.ivr.secure import require_plain
from ccboard.media.player import PlayerBank
from ccboard.media.prompts import PromptSet
from ccboard.signalling.actions import CallEvent
from ccboard.signalling.call import Call, CallMachine
from ccboard.signalling.driver import BoardDriver, ChannelDriver
from ccboard.signalling.loopstart import FxoLoopStart, FxsLoopStart
from ccboard.store.records import ANSWERED, FAILED_CALL, NO_ANSWER, Cdr, LedgerEvent

if TYPE_CHECKING:
    from ccboard.signalling.pri import PriDriver, PriSpan

log = logging.getLogger("ccboard.ivr")

_LINE_EVENTS = (BitsChanged, ChannelAlarm, HookChanged, HookFlash, RingChanged, Digit)

Script = Callable[[IvrCall], Awaitable[None]]


@dataclass
class RunnerConfig:
    """How calls are run. Times in seconds of board time."""

    script_deadline: float = 600.0  # a script still running after this ends its call
    apology: str = "sorry"  # prompt played when a script fails
    on_failure: Literal["hangup", "transfer"] = "hangup"
    failure_queue: str = "agents"  # where on_failure='transfer' sends the call
    language: str = "en"  # a new call's language
    record_calls: Path | None = None  # folder for whole-call recordings (call id.wav)
    answer_timeout: float = 5.0


@dataclass
class RunnerStats:
    calls: int = 0
    completed: int = 0
    hangups: int = 0  # the caller hung up during the script
    failed: int = 0  # the script raised
    deadline: int = 0  # the script hung past its deadline
    ticks: int = 0  # board ticks (of tick_ms each)
    overruns: int = 0  # ms of audio lost (past the clock's driver buffer, or the board's Overrun)
    lateness: Lateness | None = None  # how late the ticks ran (a RealClock's; None on virtual time)
    tick_ns: list[int] = field(default_factory=list)  # cost of each tick's work (sampled)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (call id, what)


class _Timer:
    __slots__ = ("at", "fn", "live")

    def __init__(self, at: int, fn: Callable[[], None]) -> None:
        self.at = at
        self.fn = fn
        self.live = True


class IvrRunner:
    """Scripts on a board's calls. prompts: one PromptSet per language."""

    def __init__(
        self,
        board: Board,
        script: Script,
        prompts: dict[str, PromptSet],
        *,
        inbound: list[int] | None = None,
        machines: dict[int, CallMachine] | None = None,
        clock: Clock | Literal["virtual", "real"] = "virtual",
        config: RunnerConfig | None = None,
        transfer_hook: TransferHook | None = None,
        store: Any = None,
        tick_hooks: list[Callable[[IvrRunner], None]] | None = None,
        mf_variant: str = "r2_itu",
        pri: list[PriSpan] | None = None,
    ) -> None:
        """machines: the channel-associated machines (default: loop start on the analog ports);
        mf_variant: the MF tone set of their R2 registers ('r2_china' for China R2); pri: ISDN PRI
        spans whose B-channels carry calls too (their calls are inbound if in `inbound`)."""
        self.board = board
        ts = board.tx.shape[1]
        if ts < SAMPLES_PER_TICK or ts % SAMPLES_PER_TICK:
            raise IvrError(f"IvrRunner: the board's rows of {ts} samples are not whole ms")
        self.tick_ms = board.tick_ms  # 1 on the sim
        self.script = script
        self.prompts = prompts
        self.config = config or RunnerConfig()
        self.transfer_hook = transfer_hook
        self.store = store
        self.tick_hooks = list(tick_hooks or [])
        if isinstance(clock, str):
            self.clock: Clock = VirtualClock() if clock == "virtual" else RealClock()
        else:
            self.clock = clock
        if machines is None:
            machines = {}
            for c in board.channels:
                if c.signalling.is_fxo_port:
                    machines[c.channo] = FxoLoopStart(c.channo)
                elif c.signalling.is_fxs_port:
                    machines[c.channo] = FxsLoopStart(c.channo)
        self.machines = machines
        self.inbound = set(
            inbound
            if inbound is not None
            else [c for c, m in machines.items() if isinstance(m, FxoLoopStart)]
        )
        self.driver = BoardDriver(board, machines, mf_variant=mf_variant)
        self._inband: set[ChannelDriver] = {d for d in self.driver.drivers.values() if d.busy_audio}
        # the machines' deadlines: (deadline ms, seq, driver); _due_at holds each one's live entry
        self._due: list[tuple[float, int, ChannelDriver]] = []
        self._due_at: dict[ChannelDriver, float] = {}
        self._due_seq = itertools.count()
        for d in self.driver.drivers.values():
            self._timed(d)
        self._call_events: list[tuple[int, CallEvent]] = []
        for channo, d in self.driver.drivers.items():
            d.on_event = self._collector(channo)
        self.pri: PriDriver | None = None
        if pri:
            from ccboard.signalling.pri import PriDriver  # libpri only when PRI spans are used

            self.pri = PriDriver(board, pri, on_event=self._pri_event)
        self.calls: dict[int, IvrCall] = {}  # live calls by channel
        self.finished: list[IvrCall] = []
        self.stats = RunnerStats()
        self.epoch = time.time()
        self.ms = 0  # board ms since the runner started ticking
        # every call's prompt player, filled in one step a tick (a tick's worth of samples)
        self.players = PlayerBank(tick=board.tx.shape[1])
        self.hot: set[CallCore] = set()  # cores with per-tick work besides playing (CallCore.busy)
        self._timers: list[tuple[int, int, _Timer]] = []
        self._seq = itertools.count()
        self._ids = itertools.count(1)
        self._tg: asyncio.TaskGroup | None = None
        self._bridges: dict[int, int] = {}  # channel -> channel whose rx it hears
        self._outgoing: dict[int, IvrCall] = {}
        self._pri_out: dict[int, tuple[Call, IvrCall]] = {}  # our PRI calls by id(Call), until released
        self._stop = False
        self.started_ns = 0

    def _collector(self, channo: int) -> Callable[[CallEvent], None]:
        def on_event(ev: CallEvent) -> None:
            self._call_events.append((channo, ev))

        return on_event

    def _pri_event(self, ev: CallEvent) -> None:
        c = ev.call
        if c is None:
            return
        ch = int(c.channel)  # a PRI call's channel is its B-channel's channo
        mine = self._pri_out.get(id(c))
        if mine is not None:
            if mine[1].channel != ch:  # the network put our call on another B-channel
                self._move_outgoing(mine[1], ch)
            if ev.kind == "released":
                del self._pri_out[id(c)]
        self._call_events.append((ch, ev))

    def _move_outgoing(self, call: IvrCall, channo: int) -> None:
        """An outgoing call not yet answered moves to another channel (no audio has flowed)."""
        core = call._core
        if self._outgoing.get(core.channel) is call:
            del self._outgoing[core.channel]
        core.channel = channo
        core.row = core.player.row = self.board.channel(channo).index
        self._outgoing[channo] = call

    # -- timers in board time -----------------------------------------------------------------------

    def call_later(self, ms: int, fn: Callable[[], None]) -> _Timer:
        """Run fn (sync, non-blocking) from the tick task `ms` board ms from now."""
        t = _Timer(self.ms + max(0, ms), fn)
        heapq.heappush(self._timers, (t.at, next(self._seq), t))
        return t

    def cancel_timer(self, handle: object) -> None:
        if isinstance(handle, _Timer):
            handle.live = False

    # -- the tick task ------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop ticking after the current tick; live calls are then cancelled and released."""
        self._stop = True

    async def run(
        self, *, until_ms: int | None = None, stop: Callable[[], bool] | None = None
    ) -> RunnerStats:
        """Tick until until_ms of board time, stop() is true, or self.stop(); then end live calls."""
        self.started_ns = time.perf_counter_ns()
        lateness = getattr(self.clock, "lateness", None)
        if isinstance(lateness, Lateness):
            self.stats.lateness = lateness
        async with asyncio.TaskGroup() as tg:
            self._tg = tg
            ticker = tg.create_task(self._ticker(until_ms, stop), name="board-tick")
            await ticker
            for call in list(self.calls.values()) + list(self._outgoing.values()):
                task = getattr(call, "_task", None)
                if task is not None:
                    task.cancel()
        self._tg = None
        return self.stats

    async def _ticker(self, until_ms: int | None, stop: Callable[[], bool] | None) -> None:
        sample_every = 16
        wait = per_tick(self.clock, self.tick_ms).wait_next
        while (
            not self._stop and (until_ms is None or self.ms < until_ms) and not (stop is not None and stop())
        ):
            missed = wait()
            t0 = time.perf_counter_ns()
            self._tick(missed)
            if self.stats.ticks % sample_every == 0:
                self.stats.tick_ns.append(time.perf_counter_ns() - t0)
            await asyncio.sleep(0)

    def _step(self) -> list[Event]:
        """BoardDriver.step, touching only the drivers with work: line events, due timers, and
        in-band audio (MF/DTMF/caller ID) -- which can only start from a machine's actions."""
        b = self.board
        t0 = b.t
        events: list[Event] = b.tick()
        now = b.t / SAMPLES_PER_TICK
        drivers = self.driver.drivers
        for ev in events:
            if isinstance(ev, _LINE_EVENTS):
                d = drivers.get(ev.channel)
                if d is not None:
                    d.feed(ev, ev.t / SAMPLES_PER_TICK)
                    self._check_inband(d)
        for d in list(self._inband):
            if d.busy_audio:
                row = b.channel(d.channo).index
                d.audio(b.rx[row], b.tx[row], t0)
                self._timed(d)
            if not d.busy_audio:
                self._inband.discard(d)
        due = self._due
        while due and due[0][0] <= now:
            at, _, d = heapq.heappop(due)
            if self._due_at.get(d) != at:
                continue  # superseded by a later entry of the same driver
            del self._due_at[d]
            d.poll(now)
            self._check_inband(d)
        if self.pri is not None:
            self.pri.feed(events, now)
        return events

    def _check_inband(self, d: ChannelDriver) -> None:
        """After anything that ran d's machine: in-band audio to run, and its next deadline."""
        if d.busy_audio:
            self._inband.add(d)
        self._timed(d)

    def _timed(self, d: ChannelDriver) -> None:
        """Keep d's machine deadline in the heap (one live entry per driver)."""
        dl = d.deadline
        if dl is not None and self._due_at.get(d) != dl:
            self._due_at[d] = dl
            heapq.heappush(self._due, (dl, next(self._due_seq), d))

    def _tick(self, missed: int) -> None:
        b = self.board
        t0 = b.t
        events = self._step()
        self.ms += (b.t - t0) // SAMPLES_PER_TICK
        self.stats.ticks += 1
        if missed:
            self.stats.overruns += missed
        now = self.ms
        for ev in events:
            if isinstance(ev, Digit):
                call = self.calls.get(ev.channel) or self._outgoing.get(ev.channel)
                if call is not None:
                    # the ms the digit's event fell in (this tick's last with 1 ms ticks)
                    at = max(now - (b.t - ev.t) // SAMPLES_PER_TICK, now - self.tick_ms + 1)
                    call._core.on_digit(ev.digit, ev.kind == "on", at)
            elif isinstance(ev, Overrun):
                self.stats.overruns += ev.missed
        if self._call_events:
            evs, self._call_events = self._call_events, []
            for channo, ce in evs:
                self._on_call_event(channo, ce)
        self.players.fill(b.tx, b.t)
        if self.hot:
            self._tick_hot(now)
        for dst, src in self._bridges.items():
            b.tx[b.channel(dst).index] = b.rx[b.channel(src).index]
        while self._timers and self._timers[0][0] <= now:
            _, _, tm = heapq.heappop(self._timers)
            if tm.live:
                tm.fn()
        for h in self.tick_hooks:
            h(self)

    def _tick_hot(self, now: int) -> None:
        """on_tick of the cores with per-tick work (of live calls only); the rest cost nothing."""
        b = self.board
        t = b.t
        for core in list(self.hot):
            call = self.calls.get(core.channel) or self._outgoing.get(core.channel)
            if call is None or call._core is not core:
                self.hot.discard(core)  # its call has finished
                continue
            core.on_tick(now, b.rx[core.row], b.tx[core.row], t)
            if not core.busy:
                self.hot.discard(core)

    # -- call events --------------------------------------------------------------------------------

    def _on_call_event(self, channo: int, ev: CallEvent) -> None:
        kind = ev.kind
        if kind == "offered" and channo in self.inbound:
            self._new_call(channo, ev)
        elif kind == "answered":
            call = self.calls.get(channo) or self._outgoing.get(channo)
            if call is not None:
                call._core.answered = True
                call._core.wake()
        elif kind == "released":
            call = self.calls.get(channo) or self._outgoing.get(channo)
            if call is not None:
                log.info("%s: released (cause %s, %s)", call.id, ev.cause, ev.detail)
                call._core.on_released(ev.cause, self.ms)
                if self._outgoing.get(channo) is call:
                    del self._outgoing[channo]  # an outgoing leg has no _finish: the line is free
            self._unbridge(channo)

    def _new_call(self, channo: int, ev: CallEvent) -> None:
        ch = self.board.channel(channo)
        cid = f"c{next(self._ids):05d}"
        core = CallCore(cid, channo, ch.index, self)
        c = ev.call
        call = IvrCall(
            self, core, ani=c.ani if c else "", dnis=c.dnis if c else "", language=self.config.language
        )
        call.offered_ms = self.ms  # type: ignore[attr-defined]
        if self.config.record_calls is not None:
            self.config.record_calls.mkdir(parents=True, exist_ok=True)
            call.record_call(self.config.record_calls / f"{cid}.wav")
        self.calls[channo] = call
        self.stats.calls += 1
        log.info("%s: offered on channel %d", cid, channo)
        assert self._tg is not None
        call._task = self._tg.create_task(self._call_main(call), name=cid)  # type: ignore[attr-defined]

    def do(self, call: IvrCall, op: str, *args: Any) -> None:
        """Run a signalling operation on the call's channel now."""
        if self.pri is not None and call.channel in self.pri.by_channo:
            try:
                self.pri.do(op, call.channel, self.board.t / SAMPLES_PER_TICK, *args)
            except Exception as e:  # the span refused (already cleared, ...)
                log.warning("%s: %s refused by the span: %s", call.id, op, e)
            return
        d = self.driver.drivers[call.channel]
        try:
            d.do(op, self.board.t / SAMPLES_PER_TICK, *args)
            self._check_inband(d)
        except Exception as e:  # the line refused (already released, ...)
            log.warning("%s: %s refused by the line: %s", call.id, op, e)

    # -- one call -----------------------------------------------------------------------------------

    async def _call_main(self, call: IvrCall) -> None:
        outcome = "completed"
        try:
            async with asyncio.TaskGroup() as tg:  # one group per call: the script and its helpers
                call.task_group = tg  # type: ignore[attr-defined]
                tg.create_task(self._guarded(call), name=f"{call.id}-script")
            outcome = call.tags.get("_outcome", "completed")
        except asyncio.CancelledError:
            outcome = "cancelled"
        finally:
            await self._finish(call, outcome)

    async def _guarded(self, call: IvrCall) -> None:
        to = call.timeout(self.config.script_deadline)
        try:
            async with to:
                await self.script(call)
            call.tags["_outcome"] = "completed"
            self.stats.completed += 1
        except Hangup:
            call.tags["_outcome"] = "hangup"
            self.stats.hangups += 1
        except TimeoutError:
            if not to.expired:
                await self._script_error(call)
                return
            log.error(
                "%s: script still running at its %.0f s deadline: ending the call",
                call.id,
                self.config.script_deadline,
            )
            self.stats.deadline += 1
            self.stats.failures.append((call.id, "deadline"))
            call.tags["_outcome"] = "deadline"
            await self._fail(call)
        except Exception:
            await self._script_error(call)

    async def _script_error(self, call: IvrCall) -> None:
        """Called inside the except block: logs the traceback with the call id."""
        log.exception("%s: script failed: ending the call", call.id)
        self.stats.failed += 1
        self.stats.failures.append((call.id, "error"))
        call.tags["_outcome"] = "failed"
        await self._fail(call)

    async def _fail(self, call: IvrCall) -> None:
        """The sorry prompt, then hang up or transfer (bounded in board time)."""
        core = call._core
        core.player.stop()
        core.collector = None
        core.moh = None
        if core.released:
            return
        try:
            async with call.timeout(30.0):
                if core.answered and self.config.apology in call.prompts:
                    await call.play(self.config.apology, barge_in=False)
                if self.config.on_failure == "transfer" and self.transfer_hook is not None:
                    res = await call.transfer(self.config.failure_queue)
                    if res.ok:
                        await call.wait_released()
                        return
        except (Hangup, TimeoutError):
            pass
        await call.hangup()

    async def _finish(self, call: IvrCall, outcome: str) -> None:
        core = call._core
        if not core.released:
            await call.hangup()
        self.calls.pop(call.channel, None)
        self._unbridge(call.channel)
        self.finished.append(call)
        if core.call_recorder is not None:
            core.call_recorder.stop()
            core.call_recorder.save()
        log.info("%s: finished (%s)", call.id, outcome)
        if self.store is not None:
            self._write_cdr(call, outcome)

    def _write_cdr(self, call: IvrCall, outcome: str) -> None:
        offered = getattr(call, "offered_ms", 0)
        start = self.epoch + offered / 1000
        end = self.epoch + self.ms / 1000
        answered = call._core.answered
        ch = self.board.channel(call.channel)
        disp = ANSWERED if answered else NO_ANSWER
        if outcome in ("failed", "deadline"):
            disp = FAILED_CALL
        cdr = Cdr(
            uniqueid=call.id,
            start_time=start,
            end_time=end,
            answer_time=start if answered else None,
            src=require_plain(call.ani, "cdr.src"),
            dst=require_plain(call.dnis, "cdr.dst"),
            channel=require_plain(str(ch), "cdr.channel"),
            dstchannel=require_plain(call.tags.get("dstchannel", ""), "cdr.dstchannel"),
            queue=require_plain(call.tags.get("queue", ""), "cdr.queue"),
            agent=require_plain(call.tags.get("agent", ""), "cdr.agent"),
            disposition=disp,
        )
        ev = LedgerEvent(
            end,
            call.id,
            "NONE",
            "NONE",
            "IVREND",
            require_plain(outcome, "ledger"),
            call.tags.get("flow", ""),
        )
        try:
            self.store.record(events=[ev], cdrs=[cdr])
        except Exception:
            log.exception("%s: CDR write failed", call.id)

    # -- transfers and outgoing calls ---------------------------------------------------------------

    def bridge(self, a: int, b: int) -> None:
        """Both channels hear each other from the next tick."""
        self._bridges[a] = b
        self._bridges[b] = a
        for ch in (a, b):
            call = self.calls.get(ch) or self._outgoing.get(ch)
            if call is not None:
                call._core.bridged_to = self._bridges[ch]
                call._core.moh = None
                call._core.player.stop()

    def _unbridge(self, channo: int) -> None:
        other = self._bridges.pop(channo, None)
        if other is not None:
            self._bridges.pop(other, None)
            self.board.tx[self.board.channel(other).index] = 0
            self.board.tx[self.board.channel(channo).index] = 0
            for ch in (channo, other):
                call = self.calls.get(ch) or self._outgoing.get(ch)
                if call is not None:
                    call._core.bridged_to = None

    def free_channel(self, want: type[CallMachine] | None = None) -> int | None:
        for channo, m in self.machines.items():
            if channo in self.calls or channo in self._outgoing:
                continue
            if want is not None and not isinstance(m, want):
                continue
            if m.idle and channo not in self.inbound:
                return channo
        return None

    async def dial(
        self,
        number: str,
        *,
        channel: int | None = None,
        span: int | None = None,
        timeout: float = 30.0,
        language: str = "en",
    ) -> IvrCall:
        """An outgoing call, answered; raises IvrError when no channel or no answer.

        channel: the channel to dial on (an analog or CAS line, or a PRI B-channel: the network may
        move the call to another B-channel in its CALL PROCEEDING); span: a PRI span to dial out on
        (the span hunts a free B-channel); neither: a free outbound line, else a B-channel of the
        first PRI span that is up and has one free."""
        pri = self.pri
        if channel is None and span is None:
            channel = self.free_channel()
            if channel is None and pri is not None:
                span = next((s.span for s in pri.spans if s.state == "up" and s.free_channels()), None)
        if span is not None or (channel is not None and pri is not None and channel in pri.by_channo):
            call = self._dial_pri(number, channel, span, language)
        elif channel is None:
            raise IvrError(f"dial {number}: no free channel")
        else:
            call = self._dial_line(number, channel, language)
        core = call._core
        try:
            async with call.timeout(timeout):
                await call._until(lambda: core.answered or core.released)
        except TimeoutError:
            await self.drop_outgoing(call)
            raise IvrError(f"dial {number} on channel {call.channel}: no answer in {timeout:.0f} s") from None
        if core.released:
            self._outgoing.pop(call.channel, None)
            raise IvrError(f"dial {number} on channel {call.channel}: released (cause {core.cause})")
        return call

    def _dial_line(self, number: str, ch: int, language: str) -> IvrCall:
        """Seize a channel-associated line (its machine dials)."""
        core = CallCore(f"o{next(self._ids):05d}", ch, self.board.channel(ch).index, self)
        call = IvrCall(self, core, dnis=number, language=language)
        self._outgoing[ch] = call
        try:
            d = self.driver.drivers[ch]
            d.do("dial", self.board.t / SAMPLES_PER_TICK, number)
            self._check_inband(d)
        except Exception as e:
            self._outgoing.pop(ch, None)
            raise IvrError(f"dial {number} on channel {ch}: {e}") from e
        return call

    def _dial_pri(self, number: str, channel: int | None, span: int | None, language: str) -> IvrCall:
        """SETUP on a PRI span (on `channel`, preferred, or a B-channel the span hunts)."""
        p = self.pri
        s = None
        if p is not None:
            s = p.by_channo.get(channel) if channel is not None else p.by_span.get(span or 0)
        if p is None or s is None or (span is not None and s.span != span):
            where = f"channel {channel}" if channel is not None else f"span {span}"
            raise IvrError(f"dial {number}: {where} is not a PRI B-channel/span of this runner")
        try:
            acts = s.dial(number, self.board.t / SAMPLES_PER_TICK, channo=channel)
        except ProtocolError as e:
            raise IvrError(f"dial {number} on PRI span {s.span}: {e}") from e
        c = next(a.call for a in acts if isinstance(a, CallEvent) and a.call is not None)
        ch = int(c.channel)
        core = CallCore(f"o{next(self._ids):05d}", ch, self.board.channel(ch).index, self)
        call = IvrCall(self, core, dnis=number, language=language)
        self._outgoing[ch] = call
        self._pri_out[id(c)] = (c, call)
        p.execute(s, acts)
        return call

    async def drop_outgoing(self, call: IvrCall) -> None:
        await call.hangup()
        self._outgoing.pop(call.channel, None)
        self._unbridge(call.channel)

    async def transfer_to_channel(self, call: IvrCall, channel: int) -> TransferResult:
        """Ring `channel`, bridge the caller to it once answered; the legs stay bridged until one
        side releases, then the other is released too (awaited here)."""
        try:
            leg = await self.dial("", channel=channel, language=call.language)
        except IvrError as e:
            return TransferResult(False, str(e), channel=channel)
        call.tag("dstchannel", str(self.board.channel(channel)))
        self.bridge(call.channel, channel)
        await self._until_either(call, leg)
        await self.drop_outgoing(leg)
        return TransferResult(True, "bridged", channel=channel)

    async def _until_either(self, a: IvrCall, b: IvrCall) -> None:
        while not (a.released or b.released):
            await a.sleep(0.05)
