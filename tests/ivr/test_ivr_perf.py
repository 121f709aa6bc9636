"""The IVR's per-tick path at scale (issue 8's 960 calls on one core): every call's prompt is
played by one PlayerBank step, get_digits' timers are board-time timers, and only calls with
per-tick work (music on hold, recorders, a secure tail, silencing tx) run their core each tick.
These tests check that the batched path plays exactly what a lone Player plays, and that an idle
call costs nothing per tick while its timers still end it on the same tick."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccboard.ivr import IvrCall, IvrRunner, Term
from ccboard.media.moh import MusicOnHold
from ccboard.media.player import TICK, PlayEnd, Player, PlayerBank
from tests.ivr.helpers import Harness

_SOURCES = [np.arange(1, 1 + n, dtype=np.int16) * (k + 1) for k, n in enumerate((5, 8, 20, 37, 64))]

_op = st.one_of(
    st.tuples(st.just("start"), st.integers(0, 3), st.integers(0, len(_SOURCES) - 1), st.booleans()),
    st.tuples(st.just("fresh"), st.integers(0, 3), st.integers(1, 40), st.booleans()),
    st.tuples(st.just("stop"), st.integers(0, 3), st.just(0), st.just(False)),
    st.tuples(st.just("digit"), st.integers(0, 3), st.just(0), st.just(False)),
    st.tuples(st.just("tick"), st.just(0), st.integers(1, 6), st.just(False)),
)


@settings(max_examples=150, deadline=None)
@given(ops=st.lists(_op, max_size=60), arena=st.sampled_from([16, 64, 4096]))
def test_bank_plays_what_lone_players_play(ops: list[tuple[str, int, int, bool]], arena: int) -> None:
    """Arbitrary starts (shared and fresh sources), stops, barge-ins and ticks, with an arena so
    small it compacts and grows: the bank's rows, ends and positions match lone Players'."""
    bank = PlayerBank(capacity=1, arena=arena)
    idle: list[int] = []
    banked = [Player(bank, row, lambda r=row: idle.append(r)) for row in range(4)]  # type: ignore[misc]
    lone = [Player() for _ in range(4)]
    tx = np.full((4, TICK), 7777, np.int16)
    for op, who, arg, flag in ops:
        if op == "start":
            for p in (banked[who], lone[who]):
                p.start(_SOURCES[arg], barge_in=flag)
        elif op == "fresh":  # a new array each time, as say_number builds
            x = np.arange(arg, dtype=np.int16) - 500
            banked[who].start(x.copy(), barge_in=flag)
            lone[who].start(x, barge_in=flag)
        elif op == "stop":
            banked[who].stop()
            lone[who].stop()
        elif op == "digit":
            assert banked[who].on_digit("5") == lone[who].on_digit("5")
        else:
            for _ in range(arg):
                playing = [p.playing for p in lone]
                want = np.zeros((4, TICK), np.int16)
                for row, p in enumerate(lone):
                    p.fill(want[row])
                bank.fill(tx)
                for row in range(4):
                    if playing[row]:
                        assert np.array_equal(tx[row], want[row]), (row, tx[row], want[row])
        for b, p in zip(banked, lone, strict=True):
            assert (b.playing, b.end, b.position_ms, b.digit) == (p.playing, p.end, p.position_ms, p.digit)
        assert len(bank) == sum(p.playing for p in lone)


def test_a_banked_player_reports_each_end_once_and_refuses_fill() -> None:
    bank = PlayerBank()
    ends: list[PlayEnd | None] = []
    p = Player(bank, 0, lambda: ends.append(p.end))
    tx = np.zeros((1, TICK), np.int16)
    p.start(np.arange(1, 13, dtype=np.int16))
    bank.fill(tx)
    assert list(tx[0]) == list(range(1, 9)) and len(bank) == 1 and not ends
    with pytest.raises(RuntimeError, match="PlayerBank"):
        p.fill(tx[0])
    bank.fill(tx)
    assert list(tx[0]) == [9, 10, 11, 12, 0, 0, 0, 0] and ends == [PlayEnd.DONE] and len(bank) == 0
    p.start(np.ones(100, np.int16))
    p.start(np.ones(100, np.int16))  # replaces the first: that one ends STOPPED
    assert p.on_digit("1") and ends == [PlayEnd.DONE, PlayEnd.STOPPED, PlayEnd.DIGIT] and len(bank) == 0


def test_idle_calls_cost_nothing_per_tick_and_time_out_on_the_tick() -> None:
    """Calls waiting in get_digits behind a prompt: no core is in the runner's hot set while they
    wait (the bank plays the prompts), and each first-digit timeout ends exactly on time."""
    h = Harness(lines=6)
    samples: list[tuple[int, int, int]] = []  # (board ms, hot cores, banked players)
    out: dict[int, tuple[Any, int, int]] = {}

    async def script(call: IvrCall) -> None:
        await call.answer()
        prompt = np.full(800, 1000, np.int16)  # 100 ms
        t0 = call._core.now
        r = await call.get_digits(2, first_digit_timeout=1.0, prompt=prompt)
        out[call.channel] = (r, t0, call._core.now)

    def hook(runner: IvrRunner) -> None:
        samples.append((runner.ms, len(runner.hot), len(runner.players)))

    for i in range(6):
        h.ring(i, 10.0 * i)
    h.run(script, 4000, hooks=[hook], stop=lambda: len(out) == 6)
    assert len(out) == 6
    for r, t0, t1 in out.values():
        assert r.reason is Term.FIRSTDIGIT and r.digits == ""
        assert t1 - t0 == 100 + 1000  # the prompt's 100 ticks, then the 1 s timer from its end
    waiting = [(hot, banked) for ms, hot, banked in samples if 1300 <= ms <= 2000]
    assert waiting and max(hot for hot, _ in waiting) == 0
    assert max(banked for _, _, banked in samples) == 6


def test_prompt_end_and_barge_in_silence_the_line() -> None:
    """After a prompt runs out the next tick is silent; after a barge-in the digit's own tick is
    silent; the hot set is empty again afterwards."""
    h = Harness(lines=1)
    h.key(0, 1600, "7")
    rows: list[tuple[int, bool, int]] = []  # (peak |tx|, playing, hot cores), one per tick
    got: dict[str, Any] = {}

    async def script(call: IvrCall) -> None:
        await call.answer()
        got["row"] = call._core.row
        got["done"] = await call.play(np.full(160, 900, np.int16))  # 20 ms, runs out
        await call.sleep(0.05)
        got["barged"] = await call.play(np.full(40_000, 900, np.int16))
        got["r"] = await call.get_digits(1, first_digit_timeout=0.3)

    def hook(runner: IvrRunner) -> None:
        if "row" in got:
            call = next(iter(runner.calls.values()), None)
            playing = bool(call is not None and call._core.player.playing)
            rows.append((int(np.abs(runner.board.tx[got["row"]]).max()), playing, len(runner.hot)))

    h.ring(0)
    h.run(script, 4000, hooks=[hook], stop=lambda: "r" in got)
    assert got["done"].end is PlayEnd.DONE and got["barged"].end is PlayEnd.DIGIT
    assert got["barged"].digit == "7" and str(got["r"].digits) == "7"
    ends = [i for i in range(1, len(rows)) if rows[i - 1][1] and not rows[i][1]]
    assert len(ends) == 2
    done, barge = ends
    assert rows[done][0] == 900 and rows[done + 1][0] == 0  # the last chunk, then silence
    assert rows[barge][0] == 0  # stopped before this tick's fill
    assert rows[-1][2] == 0  # silenced on the barge-in tick, so no core needs the next one


def test_music_on_hold_is_played_by_the_bank_for_every_listener() -> None:
    """Three calls on hold to one MusicOnHold: each row carries the source at board sample t (one
    shared stream), no core is hot for it; a prompt played on hold wins over the music, which
    comes back after it; stopping the music silences the row on the next tick."""
    h = Harness(lines=3)
    moh = MusicOnHold((np.arange(1, 801) % 200 + 300).astype(np.int16))  # 100 ms, never silent
    got: dict[str, Any] = {}
    row_of: dict[int, int] = {}  # channel -> tx row
    rows: list[tuple[int, dict[int, Any], int]] = []  # (board sample the fill used, row -> tx, hot)

    async def script(call: IvrCall) -> None:
        await call.answer()
        call.start_moh(moh)
        row_of[call.channel] = call._core.row
        await call.sleep(0.5)
        if call.channel == h.lines[0].channo:
            got["prompt"] = await call.play(np.full(400, -5000, np.int16), barge_in=False)  # 50 ms
            await call.sleep(0.2)
        call.stop_moh()
        await call.sleep(0.1)
        got[f"done{call.channel}"] = True

    def hook(runner: IvrRunner) -> None:
        if len(row_of) == 3:
            tx = runner.board.tx
            rows.append((runner.board.t, {r: tx[r].copy() for r in row_of.values()}, len(runner.hot)))

    for i in range(3):
        h.ring(i, 5.0 * i)
    h.run(script, 6000, hooks=[hook], stop=lambda: sum(k.startswith("done") for k in got) == 3)
    assert got["prompt"].end is PlayEnd.DONE
    first = row_of[h.lines[0].channo]
    held = prompt = silent = 0
    for t, tx, hot in rows:
        want = moh.samples[t % moh.period : t % moh.period + TICK]
        for row, x in tx.items():
            if np.array_equal(x, want):
                held += 1
            elif row == first and (x == -5000).all():
                prompt += 1
            else:
                assert not x.any(), (t, row, x)  # otherwise silence (before hold, after stop_moh)
                silent += 1
        assert hot <= 3  # only the ticks that silence a row
    assert held > 3 * 400 and prompt == 50 and silent > 3 * 50
    assert sum(hot for *_, hot in rows) <= 3 * 3  # the music itself never makes a core hot
