"""Where the board's time comes from: one 1 ms tick per 8 samples.

RealClock follows time.monotonic_ns() and sleeps until each tick is due (service);
VirtualClock jumps straight to the next tick (tests, soaks, benchmarks: as fast as the CPU
goes). Both count ticks from 0; the sample index of tick k is 8k.

Late ticks and lost audio, as on a real board. A DAHDI board does not lose audio when user
space is a few ms late: the driver queues blocks each way (our DAHDI backend asks for 32 blocks
of 16 octets, ccboard.board.dahdi: 64 ms of receive buffer; transmit starts half full
(DAHDI_POLICY_HALF_FULL), so 32 ms of queued audio cover a late writer). A loop that wakes up
late finds its blocks waiting and catches up tick by tick, back to back, and nothing is lost; it
loses audio only when it falls further behind than the buffer covers. RealClock models that
driver buffer (`buffer_ms`, default DRIVER_BUFFER_MS = the DAHDI backend's transmit cushion,
the smaller of the two directions): within it a late tick is only counted as late; beyond it the
ticks that did not fit are lost (an overrun, reported by wait_next as ticks missed). How late
every tick ran is kept apart in `Lateness` (late-tick count, p50/p99/max in ms), so an overrun
count of 0 never hides a loop that lived on its buffer.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Protocol

TICK_NS = 1_000_000
SAMPLES_PER_TICK = 8
# The DAHDI backend's cushion against a late loop, ms: BUFFERS (32) blocks of BLOCK (16) octets
# each way, transmit started half full, so the transmit queue holds 32 * 16 / 8 / 2 = 32 ms
# (receive holds 64 ms; audio is lost in whichever runs dry first). tests/board/test_clock.py
# checks this against ccboard.board.dahdi.
DRIVER_BUFFER_MS = 32


class Clock(Protocol):
    """A source of ticks."""

    def wait_next(self) -> int:
        """Block until the next tick is due; return how many ticks were lost (0: no audio lost)."""
        ...

    @property
    def tick(self) -> int:
        """Ticks elapsed so far."""
        ...


class TickClock:
    """A 1 ms clock paced per board tick of `n` ms (a DAHDI board's `tick=N`): each wait is n of
    its ticks, and returns the ms lost over them."""

    def __init__(self, clock: Clock, n: int) -> None:
        self.clock = clock
        self.n = n

    @property
    def tick(self) -> int:
        return self.clock.tick // self.n

    def wait_next(self) -> int:
        return sum(self.clock.wait_next() for _ in range(self.n))


def per_tick(clock: Clock, n: int) -> Clock:
    """`clock` paced for board ticks of `n` ms (itself when n is 1)."""
    return clock if n == 1 else TickClock(clock, n)


class VirtualClock:
    """Never waits: each wait_next() is the next tick."""

    def __init__(self) -> None:
        self._tick = 0

    @property
    def tick(self) -> int:
        return self._tick

    def wait_next(self) -> int:
        self._tick += 1
        return 0


class Lateness:
    """How late a real-time loop's ticks started, against when each was due.

    Every tick is noted (ns late, 0 when on time; after a sleep that is the sleep's overshoot).
    A tick is *late* when it started a whole tick (1 ms) or more after it was due: on a DAHDI
    board its block was already waiting in the driver's buffer. Ticks *lost* are those beyond
    the buffer (audio lost), in `overruns` events. Kept as a histogram of BIN_NS bins up to
    `limit_ms` (later ticks count in the last bin) plus the exact maximum, so a service running
    for months keeps constant memory; percentiles are the upper edge of their bin, in ms.
    """

    BIN_NS = 10_000  # 10 us

    def __init__(self, limit_ms: float = 4 * DRIVER_BUFFER_MS) -> None:
        self.limit_ms = limit_ms
        self._hist = [0] * (int(limit_ms * 1e6) // self.BIN_NS + 1)
        self._last = len(self._hist) - 1
        self.ticks = 0  # ticks noted
        self.late = 0  # ticks that started >= 1 tick after they were due
        self.lost = 0  # ticks lost past the buffer (audio lost)
        self.overruns = 0  # times the loop fell past the buffer
        self.max_ns = 0

    def note(self, late_ns: int) -> None:
        """One tick that started late_ns after it was due (negative counts as 0)."""
        self.ticks += 1
        if late_ns <= 0:
            self._hist[0] += 1
            return
        if late_ns >= TICK_NS:
            self.late += 1
        if late_ns > self.max_ns:
            self.max_ns = late_ns
        i = late_ns // self.BIN_NS
        self._hist[i if i < self._last else self._last] += 1

    def percentile_ms(self, q: float) -> float:
        """Lateness (ms) that q % of the ticks did not exceed (upper bin edge, at most the max)."""
        if not 0.0 <= q <= 100.0:
            raise ValueError(f"percentile {q}: not within 0..100")
        if self.ticks == 0:
            return 0.0
        want = max(1, math.ceil(q * self.ticks / 100.0 - 1e-9))  # nearest rank
        seen = 0
        for i, n in enumerate(self._hist):
            seen += n
            if n and seen >= want:
                return min((i + 1) * self.BIN_NS, self.max_ns) / 1e6
        return self.max_ns / 1e6

    def merged(self, other: Lateness) -> Lateness:
        """Both sets of ticks together (e.g. two phases of a run); same bins as self."""
        if len(other._hist) != len(self._hist):
            raise ValueError("Lateness.merged: the two histograms have different ranges")
        m = Lateness(self.limit_ms)
        m._hist = [a + b for a, b in zip(self._hist, other._hist, strict=True)]
        m.ticks, m.late = self.ticks + other.ticks, self.late + other.late
        m.lost, m.overruns = self.lost + other.lost, self.overruns + other.overruns
        m.max_ns = max(self.max_ns, other.max_ns)
        return m

    @property
    def max_ms(self) -> float:
        return self.max_ns / 1e6

    def summary(self) -> dict[str, float | int]:
        """The figures a report shows: ticks, late ticks, lost ticks, overruns, p50/p99/max ms."""
        return {
            "ticks": self.ticks,
            "late_ticks": self.late,
            "lost_ticks": self.lost,
            "overruns": self.overruns,
            "lateness_p50_ms": round(self.percentile_ms(50), 3),
            "lateness_p99_ms": round(self.percentile_ms(99), 3),
            "lateness_max_ms": round(self.max_ms, 3),
        }


class RealClock:
    """Ticks at 1 ms of time.monotonic_ns(), behind a driver buffer of `buffer_ms`.

    Tick k is due k ms after the first wait_next() call (so setting up between constructing the
    clock and running is not lateness). wait_next() sleeps until the next tick is due; when the
    caller is late it returns at once, so a late loop catches up tick by tick. Each tick's
    lateness goes to `lateness`. A tick due more
    than buffer_ms ago cannot be caught up losslessly: the ticks past the buffer are skipped (the
    loop resumes at the buffer's edge, as a driver that kept its full queue and dropped the rest)
    and their count is returned (ticks lost: audio lost, the board's Overrun). buffer_ms=0 is a
    board with no buffer: every tick a whole tick late loses audio.
    `now_ns`/`sleep` default to time.monotonic_ns/time.sleep (tests pass their own).
    """

    def __init__(
        self,
        buffer_ms: float = DRIVER_BUFFER_MS,
        *,
        now_ns: Callable[[], int] = time.monotonic_ns,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if buffer_ms < 0:
            raise ValueError(f"RealClock: buffer_ms={buffer_ms} is negative")
        self.buffer_ms = buffer_ms
        self._buffer_ticks = int(buffer_ms * 1e6) // TICK_NS
        self._now = now_ns
        self._sleep = sleep
        self._tick = 0
        self._start: int | None = None  # the time line starts at the first wait_next()
        self.lateness = Lateness(max(4 * buffer_ms, 8.0))

    @property
    def tick(self) -> int:
        return self._tick

    def wait_next(self) -> int:
        self._tick += 1
        now = self._now()
        if self._start is None:
            self._start = now
        due = self._start + self._tick * TICK_NS
        if now < due:
            self._sleep((due - now) / 1e9)
            now = self._now()
        late = now - due
        self.lateness.note(late)
        if late < TICK_NS:
            return 0
        lost = int(late // TICK_NS) - self._buffer_ticks
        if lost <= 0:
            return 0  # its block is in the driver's buffer: catch up, nothing lost
        self._tick += lost
        self.lateness.lost += lost
        self.lateness.overruns += 1
        return lost
