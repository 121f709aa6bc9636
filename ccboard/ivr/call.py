"""The call a script sees: IvrCall (async) over CallCore (sync, driven by the board's tick).

CallCore holds one call's media state -- the prompt player, the digit buffer (type-ahead), the
digit collector with Dialogic's termination conditions, recorders, secure mode -- and is fed by
the runner once per tick (on_tick) and per DTMF event (on_digit). It never blocks and never
awaits; when something a script waits for happens it calls `wake`. IvrCall is the thin async
wrapper: each operation starts work on the core and awaits the core's wake-up.

Times a script passes are seconds (board time: virtual in tests and the demo); the core keeps
board milliseconds. A tick may be longer than 1 ms (a board that ticks N ms at a time: rows of 8N
samples); on_tick is then fed N ms at once, digits keep their own ms, and timers fire at the end
of the tick they fall in.

Termination reasons of get_digits (Dialogic names; TM_ masks in parentheses):
  MAXDTMF (TM_MAXDTMF)    max_digits collected
  TERMDIGIT (TM_DIGIT)    a terminator digit (not included in the digits)
  FIRSTDIGIT              no first digit within first_digit_timeout
  IDDTIME (TM_IDDTIME)    no next digit within inter_digit_timeout
  MAXTIME (TM_MAXTIME)    total_timeout ran out
  HANGUP                  the caller hung up
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import logging
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from ccboard.errors import CCBoardError
from ccboard.ivr.secure import SecretDigits, require_plain
from ccboard.media import say as saying
from ccboard.media.moh import MusicOnHold
from ccboard.media.player import PlayEnd, Player, PlayerBank
from ccboard.media.prompts import Prompt, PromptSet
from ccboard.media.recorder import RecordEnd, Recorder

if TYPE_CHECKING:
    from ccboard.ivr.runner import IvrRunner

log = logging.getLogger("ccboard.ivr")

_MS = 8  # samples per ms
SECURE_TAIL_MS = 300  # after a secret entry: keep blanking until the line is this quiet
TYPEAHEAD_MAX = 32  # digits kept in the buffer between collections

Playable = str | Prompt | Sequence[str] | npt.NDArray[np.int16]


class IvrError(CCBoardError):
    """An IVR operation failed; the message names the call id and the operation."""


class Hangup(IvrError):
    """The call was released (by the caller or by us) while the script used it."""


class Term(enum.Enum):
    """Why get_digits ended."""

    MAXDTMF = "maxdtmf"
    TERMDIGIT = "termdigit"
    FIRSTDIGIT = "firstdigit"
    IDDTIME = "iddtime"
    MAXTIME = "maxtime"
    HANGUP = "hangup"


@dataclass(frozen=True)
class DigitsResult:
    """What get_digits collected and why it stopped; digits is SecretDigits for secret=True."""

    digits: str | SecretDigits
    reason: Term
    terminator: str = ""

    @property
    def timed_out(self) -> bool:
        return self.reason in (Term.FIRSTDIGIT, Term.IDDTIME, Term.MAXTIME)

    def __str__(self) -> str:
        return f"{self.digits}{self.terminator} ({self.reason.value})"


@dataclass(frozen=True)
class PlayResult:
    """How a play ended: DONE, DIGIT (barge-in, with the digit) or STOPPED."""

    end: PlayEnd
    digit: str = ""
    played_ms: float = 0.0


@dataclass(frozen=True)
class RecordResult:
    path: Path | None
    reason: RecordEnd
    duration_ms: int
    digit: str = ""


@dataclass(frozen=True)
class TransferResult:
    """Outcome of a transfer: ok when the call was handed over (to `agent` on `channel`)."""

    ok: bool
    detail: str = ""
    agent: str = ""
    channel: int | None = None


class TransferHook(Protocol):
    """What the queue layer (or the demo's agent pool) provides for transfer(queue_name)."""

    async def transfer(self, call: IvrCall, target: str) -> TransferResult: ...


class DigitCollector:
    """get_digits' state: digits so far and the three timers, in board ms."""

    def __init__(
        self,
        max_digits: int | None,
        terminators: str,
        first_ms: int | None,
        inter_ms: int | None,
        total_ms: int | None,
    ) -> None:
        self.max_digits = max_digits
        self.terminators = terminators
        self.first_ms = first_ms
        self.inter_ms = inter_ms
        self.total_ms = total_ms
        self.digits: list[str] = []
        self.reason: Term | None = None
        self.terminator = ""
        self.armed_at: int | None = None
        self.last_at = 0

    @property
    def done(self) -> bool:
        return self.reason is not None

    def due(self) -> int | None:
        """The board ms at which check() would end the collection (None: no timer runs)."""
        a = self.armed_at
        if self.reason is not None or a is None:
            return None
        at = [] if self.total_ms is None else [a + self.total_ms]
        if not self.digits and self.first_ms is not None:
            at.append(a + self.first_ms)
        elif self.digits and self.inter_ms is not None:
            at.append(max(a, self.last_at) + self.inter_ms)
        return min(at) if at else None

    def arm(self, now: int) -> None:
        """Start the timers (after the prompt, if any)."""
        if self.armed_at is None:
            self.armed_at = now

    def add(self, d: str, now: int) -> None:
        if self.reason is not None:
            return
        if d in self.terminators:
            self.reason, self.terminator = Term.TERMDIGIT, d
            return
        self.digits.append(d)
        self.last_at = now
        if self.max_digits is not None and len(self.digits) >= self.max_digits:
            self.reason = Term.MAXDTMF

    def ended_by(self, now: int) -> bool:
        """check(now); True if a timer ended the collection."""
        self.check(now)
        return self.reason is not None

    def check(self, now: int) -> None:
        a = self.armed_at
        if self.reason is not None or a is None:
            return
        if self.total_ms is not None and now >= a + self.total_ms:
            self.reason = Term.MAXTIME
        elif not self.digits and self.first_ms is not None and now >= a + self.first_ms:
            self.reason = Term.FIRSTDIGIT
        elif self.digits and self.inter_ms is not None and now >= max(a, self.last_at) + self.inter_ms:
            self.reason = Term.IDDTIME


class CallScheduler(Protocol):
    """What a runner lends its calls' cores so an idle call costs nothing per tick: the board
    clock, a player bank, a set of cores with per-tick work, and board-time timers."""

    ms: int  # board ms now
    hot: set[CallCore]  # cores whose on_tick must run each tick (see CallCore.busy)
    players: PlayerBank

    def call_later(self, ms: int, fn: Callable[[], None]) -> object: ...

    def cancel_timer(self, handle: object) -> None: ...


class CallCore:
    """One call's media state, fed by the runner's tick (sync; never awaits).

    Standalone, its owner calls on_tick every tick while busy. With a scheduler (the runner),
    the player and music on hold are played by the scheduler's bank, the collector's timers are
    scheduler timers, and the core joins the scheduler's hot set only while it has other per-tick
    work (recorders, a secure tail, silencing tx after a play or the music)."""

    def __init__(self, call_id: str, channel: int, row: int, sched: CallScheduler | None = None) -> None:
        self.id = call_id
        self.channel = channel
        self.row = row
        self._sched = sched
        self.player = Player(sched.players if sched else None, row, self._player_idle)
        self.buffer: deque[str] = deque(maxlen=TYPEAHEAD_MAX)
        self.secure_depth = 0
        self.digit_down = False
        self.dropped_secure = 0  # digits keyed in a secure tail, dropped unseen
        self.answered = False
        self.released = False
        self.cause: int | None = None
        self._now = 0  # board ms (without a scheduler)
        self.bridged_to: int | None = None  # channel whose rx we send (transfer to a channel)
        self.wake: Callable[[], None] = _nothing
        self._tx_dirty = False
        self._ended_at = -1  # board ms of the tick whose fill played a banked play's last chunk
        self._moh: MusicOnHold | None = None
        self._recorder: Recorder | None = None
        self._call_recorder: Recorder | None = None
        self._secure_tail_until: int | None = None
        self._collector: DigitCollector | None = None
        self._timer: object = None  # the scheduler timer of the collector's next deadline

    # -- state that decides the per-tick work (setting it puts the core in the hot set) ---------------

    @property
    def now(self) -> int:
        """Board ms."""
        return self._sched.ms if self._sched is not None else self._now

    @now.setter
    def now(self, ms: int) -> None:
        self._now = ms

    def _heat(self) -> None:
        if self._sched is not None:
            self._sched.hot.add(self)

    @property
    def moh(self) -> MusicOnHold | None:
        return self._moh

    @moh.setter
    def moh(self, m: MusicOnHold | None) -> None:
        if self._moh is not None:
            self._tx_dirty = True  # silence the row once the music stops
        self._moh = m
        if self._sched is not None:
            self._sched.players.hold(self.row, m)  # the bank plays it to every listener at once
        self._heat()

    @property
    def recorder(self) -> Recorder | None:
        """record(): a message."""
        return self._recorder

    @recorder.setter
    def recorder(self, r: Recorder | None) -> None:
        self._recorder = r
        self._heat()

    @property
    def call_recorder(self) -> Recorder | None:
        """The whole call (rx + tx)."""
        return self._call_recorder

    @call_recorder.setter
    def call_recorder(self, r: Recorder | None) -> None:
        self._call_recorder = r
        self._heat()

    @property
    def secure_tail_until(self) -> int | None:
        return self._secure_tail_until

    @secure_tail_until.setter
    def secure_tail_until(self, ms: int | None) -> None:
        self._secure_tail_until = ms
        self._heat()

    @property
    def collector(self) -> DigitCollector | None:
        return self._collector

    @collector.setter
    def collector(self, c: DigitCollector | None) -> None:
        self._collector = c
        self.timers_changed()

    def timers_changed(self) -> None:
        """The collector was armed or got a digit: (re)schedule its next deadline."""
        s = self._sched
        if s is None:
            return
        if self._timer is not None:
            s.cancel_timer(self._timer)
            self._timer = None
        c = self._collector
        at = None if c is None else c.due()
        if at is not None:
            self._timer = s.call_later(at - s.ms, self._on_due)

    def _on_due(self) -> None:
        self._timer = None
        c = self._collector
        if c is None or c.done:
            return
        c.check(self.now)
        if c.reason is not None:
            self.wake()
        else:
            self.timers_changed()

    def _player_idle(self) -> None:
        """A play ended (done, barge-in or stopped): silence tx from the next fill."""
        self._tx_dirty = True
        if self.player.end is PlayEnd.DONE and self.player.bank is not None:
            self._ended_at = self.now
            self.wake()
        self._heat()

    # -- secure mode ---------------------------------------------------------------------------------

    @property
    def secure(self) -> bool:
        """Digits are secret now (collection, its prompt, or the tail after it)."""
        return self.secure_depth > 0 or self.secure_tail_until is not None

    def enter_secure(self) -> None:
        self.secure_depth += 1
        self.secure_tail_until = None
        self.buffer.clear()  # digits keyed before the secret prompt are not part of the secret
        for r in (self.recorder, self.call_recorder):
            if r is not None:
                r.blank(True)

    def leave_secure(self) -> None:
        self.secure_depth = max(0, self.secure_depth - 1)
        if self.secure_depth == 0:
            self.secure_tail_until = self.now + SECURE_TAIL_MS

    def _end_tail(self) -> None:
        self.secure_tail_until = None
        for r in (self.recorder, self.call_recorder):
            if r is not None:
                r.blank(False)

    # -- inputs from the runner ----------------------------------------------------------------------

    def on_digit(self, digit: str, on: bool, now: int) -> None:
        """A DTMF event of this call's channel (ON at onset, OFF at the end)."""
        self.now = now
        if not on:
            self.digit_down = False
            if self.secure_tail_until is not None:
                self.secure_tail_until = max(self.secure_tail_until, now + SECURE_TAIL_MS)
            return
        self.digit_down = True
        if self.secure_depth == 0 and self.secure_tail_until is not None:
            self.secure_tail_until = max(self.secure_tail_until, now + SECURE_TAIL_MS)
            self.dropped_secure += 1
            return  # keyed right after a secret entry: most likely more of it; dropped unseen
        if self.secure_depth == 0:
            log.debug("%s: digit %s", self.id, digit)
        woke = self.player.on_digit(digit)
        if self.recorder is not None and self.recorder.on_digit(digit):
            woke = True
        c = self._collector
        # a timer due before this digit's ms ends the collection first (with ticks of N ms it has
        # not fired yet: timers run at the tick's end); the digit is then type-ahead
        if c is not None and not c.done and c.ended_by(now - 1):
            self.timers_changed()
            woke = True
        if c is not None and not c.done:
            c.add(digit, now)
            self.timers_changed()
            woke = True
        else:
            self.buffer.append(digit)
        if woke:
            self.wake()

    @property
    def busy(self) -> bool:
        """on_tick has work this tick (otherwise the runner skips it). With a scheduler, a play
        and the collector's timers are not per-tick work: the bank and the timers do them."""
        if self._sched is None and (self.player.playing or self._collector is not None):
            return True
        return (
            self._tx_dirty
            or (self._moh is not None and self._sched is None)
            or self._recorder is not None
            or self._call_recorder is not None
            or self._secure_tail_until is not None
        )

    def on_tick(self, now: int, rx: npt.NDArray[np.int16], tx: npt.NDArray[np.int16], t: int) -> None:
        """One tick (len(rx) / 8 ms): play into tx, record rx, run the collector's timers (now in
        board ms at the tick's end, t the board sample the tick's tx starts at)."""
        self.now = now
        wake = False
        if self.player.bank is not None and (self.player.playing or self._ended_at == now):
            self._tx_dirty = self._ended_at == now  # the bank filled tx; silence it after the end
        elif self.player.playing:
            self.player.fill(tx)
            self._tx_dirty = True
            wake = self.player.end is not None
        elif self._moh is not None:
            if self._sched is None:
                for k in range(0, tx.shape[0], _MS):  # MusicOnHold.fill writes 1 ms
                    self._moh.fill(tx[k : k + _MS], t + k)
            self._tx_dirty = self._sched is None  # banked: the bank writes the row each tick
        elif self._tx_dirty:
            if self.bridged_to is None:
                tx[:] = 0
            self._tx_dirty = False
        # the recorders count 1 ms per feed: a longer tick is fed 1 ms at a time
        recording = self.recorder is not None or self.call_recorder is not None
        for k in range(0, rx.shape[0], _MS) if recording else ():
            if self.recorder is not None and self.recorder.active:
                if not self.recorder.feed(rx[k : k + _MS], tx[k : k + _MS]):
                    wake = True
            if self.call_recorder is not None:
                self.call_recorder.feed(rx[k : k + _MS], tx[k : k + _MS])
        c = self.collector
        if c is not None and not c.done:
            c.check(now)
            wake = wake or c.reason is not None
        if self.secure_tail_until is not None and not self.digit_down and now >= self.secure_tail_until:
            self._end_tail()
        if wake:
            self.wake()

    def on_released(self, cause: int | None, now: int) -> None:
        self.now = now
        if self.released:
            return
        self.released = True
        self.cause = cause
        self.player.stop()
        self.moh = None
        if self.recorder is not None:
            self.recorder.stop(RecordEnd.HANGUP)
        if self.collector is not None and not self.collector.done:
            self.collector.reason = Term.HANGUP
        self.wake()


def _nothing() -> None:
    return None


class _CallTimeout:
    """async with call.timeout(s): cancel the block after s seconds of board time, then raise
    TimeoutError (asyncio.timeout's contract, on the board's clock)."""

    def __init__(self, runner: IvrRunner, seconds: float) -> None:
        self.runner = runner
        self.ms = max(0, int(round(seconds * 1000)))
        self.expired = False
        self._task: asyncio.Task[object] | None = None
        self._handle: object = None

    async def __aenter__(self) -> _CallTimeout:
        self._task = asyncio.current_task()
        self._handle = self.runner.call_later(self.ms, self._expire)
        return self

    def _expire(self) -> None:
        if self._task is not None and not self._task.done():
            self.expired = True
            self._task.cancel()

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> bool:
        self.runner.cancel_timer(self._handle)
        if self.expired and et is asyncio.CancelledError and self._task is not None:
            if self._task.uncancel() == 0:
                raise TimeoutError(f"board-time deadline of {self.ms} ms passed") from e
        return False


class IvrCall:
    """The script-facing call: every operation is a coroutine; durations are seconds."""

    def __init__(
        self, runner: IvrRunner, core: CallCore, ani: str = "", dnis: str = "", language: str = "en"
    ) -> None:
        self._runner = runner
        self._core = core
        self.ani = ani
        self.dnis = dnis
        self.language = language
        self.tags: dict[str, str] = {}  # what the script wants in the summary (plain text only)
        self.received: list[str] = []  # non-secret get_digits results (digits + terminator)
        self.secret_entries = 0
        self._waiter: asyncio.Future[None] | None = None
        core.wake = self._wake

    # -- identity ------------------------------------------------------------------------------------

    @property
    def id(self) -> str:
        return self._core.id

    @property
    def channel(self) -> int:
        return self._core.channel

    @property
    def released(self) -> bool:
        return self._core.released

    @property
    def prompts(self) -> PromptSet:
        return self._runner.prompts[self.language]

    def tag(self, key: str, value: object) -> None:
        """Note something for the summary/CDR (refuses secret digits)."""
        self.tags[key] = require_plain(value, f"{self.id}: tag {key!r}")

    def timeout(self, seconds: float) -> _CallTimeout:
        """A board-time timeout block: async with call.timeout(5): ... raises TimeoutError."""
        return _CallTimeout(self._runner, seconds)

    # -- waiting on the core -------------------------------------------------------------------------

    def _wake(self) -> None:
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    async def _until(self, cond: Callable[[], bool]) -> None:
        while not cond():
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def _live(self, op: str) -> None:
        if self._core.released:
            raise Hangup(f"{self.id}: {op}: the call is released")

    # -- operations ----------------------------------------------------------------------------------

    async def answer(self) -> None:
        """Answer the offered call."""
        self._live("answer")
        if not self._core.answered:
            self._runner.do(self, "answer")
            await self._until(lambda: self._core.answered or self._core.released)
        self._live("answer")

    def _audio(self, what: Playable) -> npt.NDArray[np.int16]:
        if isinstance(what, Prompt):
            return what.samples
        if isinstance(what, np.ndarray):
            return np.asarray(what, np.int16)
        if isinstance(what, str):
            return self.prompts.get(what).samples
        return self.prompts.utterance(list(what)).samples

    async def play(self, what: Playable, *, barge_in: bool = True) -> PlayResult:
        """Play a prompt (by name, a Prompt, fragment names, or samples). With barge_in a digit
        stops it within one tick and stays in the buffer for the next get_digits; a digit already
        in the buffer skips the prompt (type-ahead)."""
        self._live("play")
        core = self._core
        if barge_in and core.buffer:
            return PlayResult(PlayEnd.DIGIT, core.buffer[0], 0.0)
        core.player.start(self._audio(what), barge_in)
        try:
            await self._until(lambda: not core.player.playing or core.released)
        finally:
            core.player.stop()
        self._live("play")
        p = core.player
        return PlayResult(p.end or PlayEnd.DONE, p.digit, p.position_ms)

    async def say_number(self, n: int, *, barge_in: bool = True) -> PlayResult:
        return await self.play(saying.say_number(n, self.language), barge_in=barge_in)

    async def say_digits(self, s: str, *, barge_in: bool = True) -> PlayResult:
        return await self.play(
            saying.say_digits(require_plain(s, "say_digits"), self.language), barge_in=barge_in
        )

    async def say_money(self, amount: Decimal | int | str, *, barge_in: bool = True) -> PlayResult:
        return await self.play(saying.say_money(amount, self.language), barge_in=barge_in)

    async def say_date(self, d: dt.date, *, barge_in: bool = True) -> PlayResult:
        return await self.play(saying.say_date(d, self.language), barge_in=barge_in)

    async def say_time(self, t: dt.time, *, barge_in: bool = True) -> PlayResult:
        return await self.play(saying.say_time(t, self.language), barge_in=barge_in)

    def flush(self) -> None:
        """Forget type-ahead digits."""
        self._core.buffer.clear()

    async def get_digits(
        self,
        max_digits: int | None = 1,
        terminators: str = "#",
        first_digit_timeout: float | None = 5.0,
        inter_digit_timeout: float | None = 3.0,
        total_timeout: float | None = None,
        *,
        secret: bool = False,
        prompt: Playable | None = None,
        flush: bool = False,
    ) -> DigitsResult:
        """Collect digits (type-ahead first), optionally after a barge-in prompt; the timers start
        when the prompt ends. secret=True: the prompt and the collection run in secure mode (no
        digit logged, recordings blanked, type-ahead discarded) and the digits come back masked."""
        self._live("get_digits")
        core = self._core

        def ms(s: float | None) -> int | None:
            return None if s is None else int(round(s * 1000))

        c = DigitCollector(
            max_digits, terminators, ms(first_digit_timeout), ms(inter_digit_timeout), ms(total_timeout)
        )
        if secret:
            core.enter_secure()
        try:
            if flush:
                core.buffer.clear()
            while core.buffer and not c.done:
                c.add(core.buffer.popleft(), core.now)
            core.collector = c
            if prompt is not None and not c.done:
                core.player.start(self._audio(prompt), barge_in=True)
                await self._until(lambda: not core.player.playing or c.done or core.released)
                core.player.stop()
            c.arm(core.now)
            core.timers_changed()
            await self._until(lambda: c.done or core.released)
        finally:
            core.collector = None
            core.player.stop()
            if secret:
                core.leave_secure()
        if c.reason is None or core.released:
            c.reason = Term.HANGUP
        plain = "".join(c.digits)
        res = DigitsResult(SecretDigits(plain) if secret else plain, c.reason, c.terminator)
        if secret:
            self.secret_entries += 1
            log.info("%s: secret entry of %d digits (%s)", self.id, len(c.digits), c.reason.value)
        elif plain or c.terminator:
            self.received.append(plain + c.terminator)
            log.info("%s: got %r (%s)", self.id, plain + c.terminator, c.reason.value)
        return res

    async def record(
        self,
        path: str | Path | None,
        *,
        max_time: float = 60.0,
        silence: float | None = 3.0,
        initial_silence: float | None = 5.0,
        terminators: str = "#",
        beep: bool = True,
    ) -> RecordResult:
        """Record the caller to a WAV until silence, max_time, a terminator digit or hangup."""
        self._live("record")
        if beep and "beep" in self.prompts:
            await self.play("beep", barge_in=False)
        core = self._core
        r = Recorder(
            path,
            max_ms=int(max_time * 1000),
            silence_ms=None if silence is None else int(silence * 1000),
            initial_silence_ms=None if initial_silence is None else int(initial_silence * 1000),
            terminators=terminators,
        )
        if core.secure:
            r.blank(True)
        core.recorder = r
        try:
            await self._until(lambda: not r.active or core.released)
        finally:
            r.stop()
            core.recorder = None
        saved = r.save()
        return RecordResult(saved, r.end or RecordEnd.STOPPED, r.ms, r.digit)

    def record_call(self, path: str | Path) -> None:
        """Record the whole call (rx mixed with tx) to path, written when the call ends; blanked
        while digits are secure."""
        r = Recorder(path, max_ms=None, silence_ms=None, mix_tx=True, terminators="", trim_silence=False)
        if self._core.secure:
            r.blank(True)
        self._core.call_recorder = r

    def start_moh(self, moh: MusicOnHold) -> None:
        self._core.moh = moh

    def stop_moh(self) -> None:
        self._core.moh = None

    async def transfer(self, to: int | str) -> TransferResult:
        """Hand the call over: to a board channel (dial it and bridge) or to a queue by name
        through the runner's transfer hook (the queue layer's, or the demo's agent pool)."""
        self._live("transfer")
        if isinstance(to, int):
            return await self._runner.transfer_to_channel(self, to)
        hook = self._runner.transfer_hook
        if hook is None:
            return TransferResult(False, f"no transfer hook for queue {to!r}")
        return await hook.transfer(self, to)

    async def dial(
        self, number: str, *, channel: int | None = None, span: int | None = None, timeout: float = 30.0
    ) -> IvrCall:
        """Place an outgoing call on a free channel, on `channel` (a line or a PRI B-channel) or on
        PRI span `span`; the answered call's IvrCall (IvrError: no channel, refused, no answer)."""
        return await self._runner.dial(
            number, channel=channel, span=span, timeout=timeout, language=self.language
        )

    async def wait_released(self) -> None:
        """Until the call is released (while bridged, on hold, ...)."""
        await self._until(lambda: self._core.released)

    async def sleep(self, seconds: float) -> None:
        """Board-time sleep (ends early on hangup)."""
        done = False

        def fire() -> None:
            nonlocal done
            done = True
            self._wake()

        h = self._runner.call_later(int(seconds * 1000), fire)
        try:
            await self._until(lambda: done or self._core.released)
        finally:
            self._runner.cancel_timer(h)

    async def hangup(self) -> None:
        """Release the call (nothing happens if it is already released)."""
        if not self._core.released:
            self._runner.do(self, "hangup")
            self._core.on_released(None, self._core.now)


def fragments_text(keys: Iterable[str], lang: str) -> str:
    """Fragment names as readable text (for logs)."""
    return saying.text(list(keys), lang)
