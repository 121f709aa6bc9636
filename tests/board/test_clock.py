"""RealClock's driver buffer: a late loop catches up tick by tick within it, loses audio only past
it, and every tick's lateness is counted (late ticks, p50/p99/max)."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccboard.board import open_board
from ccboard.board.clock import (
    DRIVER_BUFFER_MS,
    SAMPLES_PER_TICK,
    TICK_NS,
    Lateness,
    RealClock,
    TickClock,
    VirtualClock,
    per_tick,
)
from ccboard.board.events import Event, Overrun


class FakeTime:
    """monotonic_ns and sleep for the clock: sleeping moves time exactly to the wake-up; work()
    moves it by what the loop spent."""

    def __init__(self) -> None:
        self.ns = 5_000_000_000
        self.slept = 0

    def now(self) -> int:
        return self.ns

    def sleep(self, s: float) -> None:
        self.slept += 1
        self.ns += round(s * 1e9)

    def work(self, ms: float) -> None:
        self.ns += round(ms * 1e6)


def clock(buffer_ms: float = DRIVER_BUFFER_MS) -> tuple[RealClock, FakeTime]:
    ft = FakeTime()
    return RealClock(buffer_ms, now_ns=ft.now, sleep=ft.sleep), ft


def test_default_buffer_is_the_dahdi_backends_transmit_cushion() -> None:
    from ccboard.board import dahdi

    assert DRIVER_BUFFER_MS == dahdi.BUFFERS * dahdi.BLOCK // SAMPLES_PER_TICK // 2
    assert RealClock().buffer_ms == DRIVER_BUFFER_MS


def test_on_time_loop_sleeps_and_is_never_late() -> None:
    c, ft = clock()
    for _ in range(100):
        assert c.wait_next() == 0
        ft.work(0.4)
    lat = c.lateness
    assert ft.slept == 100 and c.tick == 100
    assert (lat.ticks, lat.late, lat.lost, lat.overruns, lat.max_ns) == (100, 0, 0, 0, 0)


def test_late_within_the_buffer_catches_up_tick_by_tick_and_loses_nothing() -> None:
    c, ft = clock(32)
    assert c.wait_next() == 0
    ft.work(20.5)  # one stall of 20.5 ms: the next 20 ticks are already due
    missed = [c.wait_next() for _ in range(40)]
    assert missed == [0] * 40 and c.tick == 41  # every tick ran: no audio lost
    lat = c.lateness
    assert lat.late == 19  # ticks 2..21 started 19.5 .. 0.5 ms late, back to back (>= 1 ms: 19)
    assert lat.max_ms == pytest.approx(19.5)
    assert lat.lost == lat.overruns == 0
    assert ft.slept == 41 - 20  # no sleeping while catching up


def test_past_the_buffer_loses_only_the_ticks_that_did_not_fit() -> None:
    c, ft = clock(10)
    assert c.wait_next() == 0
    ft.work(15.2)  # tick 2 was due 1 ms after tick 1: 14.2 ms late, 4 ms past the buffer
    assert c.wait_next() == 4
    assert c.tick == 2 + 4
    assert (c.lateness.lost, c.lateness.overruns) == (4, 1)
    # it resumes at the buffer's edge and catches up from there without losing more
    assert [c.wait_next() for _ in range(30)] == [0] * 30
    assert c.lateness.lost == 4


def test_no_buffer_loses_every_whole_tick_late() -> None:
    c, ft = clock(0)
    c.wait_next()
    ft.work(3.5)
    assert c.wait_next() == 2  # 2.5 ms late: two ticks of audio gone
    assert c.wait_next() == 0


def test_board_run_reports_an_overrun_only_past_the_buffer() -> None:
    ft = FakeTime()
    c = RealClock(5, now_ns=ft.now, sleep=ft.sleep)
    board = open_board("sim://?e1=1&fxo=0&fxs=0")
    seen: list[Overrun] = []
    k = 0

    def handler(events: list[Event]) -> None:
        nonlocal k
        k += 1
        seen.extend(e for e in events if isinstance(e, Overrun))
        ft.work({10: 4.0, 20: 9.0}.get(k, 0.1))  # 3 ms late: buffered; 8 ms late: 3 lost

    board.run(c, handler, ticks=40)
    assert [e.missed for e in seen] == [3]
    assert c.lateness.late >= 8


def test_real_time_stall_within_the_buffer_is_late_not_lost() -> None:
    c = RealClock(32)
    c.wait_next()
    time.sleep(0.012)  # a 12 ms stall, as a GC pause or a noisy neighbour
    missed = sum(c.wait_next() for _ in range(30))
    assert missed == 0
    assert c.lateness.late >= 8 and c.lateness.max_ms >= 10.0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 3 * TICK_NS), min_size=1, max_size=300))
def test_lateness_percentiles_bracket_the_exact_ones(lates: list[int]) -> None:
    lat = Lateness(limit_ms=4)
    for x in lates:
        lat.note(x)
    s = sorted(lates)
    assert lat.ticks == len(lates) and lat.max_ns == max(lates)
    assert lat.late == sum(x >= TICK_NS for x in lates)
    for q in (50, 99, 100):
        exact = s[max(0, -(-q * len(s) // 100) - 1)]
        got = lat.percentile_ms(q) * 1e6
        assert exact <= got + 1e-3 and got <= exact + Lateness.BIN_NS  # one bin of resolution
    with pytest.raises(ValueError, match="percentile 101"):
        lat.percentile_ms(101)
    # two phases merged = one histogram of all the ticks
    a, b = Lateness(limit_ms=4), Lateness(limit_ms=4)
    for i, x in enumerate(lates):
        (a if i % 2 else b).note(x)
    both = a.merged(b)
    assert both.summary() == lat.summary()


def test_negative_buffer_is_refused() -> None:
    with pytest.raises(ValueError, match="buffer_ms=-1"):
        RealClock(-1)


class LosingClock:
    """A 1 ms clock that reports `lost` ms lost on its k-th wait."""

    def __init__(self, lost: dict[int, int]) -> None:
        self.lost = lost
        self.tick = 0

    def wait_next(self) -> int:
        self.tick += 1
        return self.lost.get(self.tick, 0)


def test_a_board_tick_of_n_ms_waits_n_clock_ticks_and_sums_the_ms_lost() -> None:
    base = LosingClock({3: 2, 6: 1})
    c = per_tick(base, 4)
    assert isinstance(c, TickClock)
    assert [c.wait_next(), c.wait_next()] == [2, 1]
    assert base.tick == 8 and c.tick == 2
    one = VirtualClock()
    assert per_tick(one, 1) is one
