"""Where the board's time comes from: one 1 ms tick per 8 samples.

RealClock follows time.monotonic_ns() and sleeps until each tick is due (service);
VirtualClock jumps straight to the next tick (tests, soaks, benchmarks: as fast as the CPU
goes). Both count ticks from 0; the sample index of tick k is 8k.
"""

from __future__ import annotations

import time
from typing import Protocol

TICK_NS = 1_000_000
SAMPLES_PER_TICK = 8


class Clock(Protocol):
    """A source of ticks."""

    def wait_next(self) -> int:
        """Block until the next tick is due; return how many ticks were skipped (0 on time)."""
        ...

    @property
    def tick(self) -> int:
        """Ticks elapsed so far."""
        ...


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


class RealClock:
    """Ticks at 1 ms of time.monotonic_ns(); reports ticks missed when the caller was late."""

    def __init__(self, late_ticks: int = 2) -> None:
        self._tick = 0
        self._start = time.monotonic_ns()
        self._late = late_ticks

    @property
    def tick(self) -> int:
        return self._tick

    def wait_next(self) -> int:
        self._tick += 1
        due = self._start + self._tick * TICK_NS
        now = time.monotonic_ns()
        if now < due:
            time.sleep((due - now) / 1e9)
            return 0
        behind = (now - due) // TICK_NS
        if behind >= self._late:
            self._tick += int(behind)  # resynchronise: those ticks are lost
            return int(behind)
        return 0
