"""Barge-in timing, menus as data, transfer and per-call isolation on the sim board."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np

from ccboard.board.events import Digit
from ccboard.ivr import Choice, IvrCall, IvrRunner, Menu, RunnerConfig, TransferResult, run_menu
from ccboard.media.player import PlayEnd
from tests.ivr.helpers import Harness


def test_barge_in_silences_the_prompt_within_one_tick_of_the_digit_on_event() -> None:
    h = Harness()
    h.key(0, 2500, "5")
    row = h.lines[0].index
    loud: list[tuple[int, bool]] = []
    out: dict[str, Any] = {}

    def watch(r: IvrRunner) -> None:
        loud.append((r.ms, bool(np.abs(r.board.tx[row]).max() > 0)))

    async def script(call: IvrCall) -> None:
        await call.answer()
        out["play"] = await call.play("long")
        out["digits"] = await call.get_digits(1, first_digit_timeout=1)

    ons: list[int] = []
    orig = h.board.tick

    def tick() -> list[Any]:
        evs = orig()
        ons.extend(e.t // 8 for e in evs if isinstance(e, Digit) and e.kind == "on")
        return evs

    h.board.tick = tick  # type: ignore[method-assign]
    h.ring(0)
    h.run(script, 6000, hooks=[watch], stop=lambda: "digits" in out)
    assert out["play"].end == PlayEnd.DIGIT and out["play"].digit == "5"
    assert out["digits"].digits == "5"  # the barge-in digit stays for get_digits
    on_ms = ons[0]
    assert 2500 < on_ms < 2560
    # tx written in the tick of the ON event is what goes out next: silent from then on
    after = [lo for ms, lo in loud if ms >= on_ms]
    before = [lo for ms, lo in loud if on_ms - 200 <= ms < on_ms]
    assert any(before) and not any(after[:200])


MAIN = Menu(
    "main",
    prompt="menu",
    choices=(
        Choice("1", "sales"),
        Choice("2", Menu("support", prompt="sub", choices=(Choice("1", "billing"),))),
    ),
    timeout=2.0,
)


def _menu_run(keys: list[tuple[int, str]], until: int = 40000) -> Any:
    h = Harness()
    for at, d in keys:
        h.key(0, at, d)
    out: dict[str, Any] = {}

    async def script(call: IvrCall) -> None:
        await call.answer()
        out["r"] = await run_menu(call, MAIN)

    h.ring(0)
    h.run(script, until, stop=lambda: "r" in out)
    return out["r"]


def test_menu_invalid_choice_then_valid() -> None:
    r = _menu_run([(2000, "7"), (7000, "1")])
    assert (r.kind, r.value, r.path, r.invalid) == ("choice", "sales", ("1",), 1)
    assert r.events == ["main:invalid", "main:sales"]


def test_menu_submenu_star_goes_back_then_zero_for_an_agent() -> None:
    r = _menu_run([(2000, "2"), (4000, "*"), (6500, "0")])
    assert r.kind == "agent" and r.events == ["main:support", "support:back", "main:agent"]


def test_menu_submenu_choice_path() -> None:
    r = _menu_run([(2000, "2"), (4000, "1")])
    assert (r.kind, r.value, r.path) == ("choice", "billing", ("2", "1"))


def test_menu_timeouts_exhaust_to_an_agent() -> None:
    r = _menu_run([], until=60000)
    assert r.kind == "agent" and r.invalid == 3 and r.events == ["main:timeout"] * 3


class _Pool:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def transfer(self, call: IvrCall, target: str) -> TransferResult:
        self.calls.append(f"{call.id}->{target}")
        return TransferResult(True, "ok", "agent1")


def test_transfer_to_a_queue_goes_through_the_hook() -> None:
    h = Harness()
    pool = _Pool()
    out: dict[str, Any] = {}

    async def script(call: IvrCall) -> None:
        await call.answer()
        out["r"] = await call.transfer("sales")

    h.ring(0)
    h.run(script, 5000, stop=lambda: "r" in out, transfer_hook=pool)
    assert out["r"].ok and pool.calls == ["c00001->sales"]


def test_transfer_to_a_channel_rings_it_and_bridges_the_audio() -> None:
    h = Harness(fxs=1)
    agent = h.fxs[0]
    fe_agent = h.board.far_ends[agent.span]  # type: ignore[attr-defined]
    fe_agent.answer_after(agent.chanpos, rings=1, delay_ms=300)
    out: dict[str, Any] = {}
    heard: list[int] = []

    async def script(call: IvrCall) -> None:
        await call.answer()
        out["r"] = await call.transfer(agent.channo)

    def listen(r: IvrRunner) -> None:
        if r._bridges:
            heard.append(int(np.abs(r.board.tx[agent.index]).max()))

    # the caller speaks (a tone) while bridged: the agent's tx carries it
    h.board.at(
        5000, h.fe(0).play, h.lines[0].chanpos, (8000 * np.sin(np.arange(16000) * 0.3)).astype(np.int16)
    )
    h.board.at(8000, fe_agent.onhook, agent.chanpos)
    h.ring(0)
    h.run(script, 12000, stop=lambda: "r" in out, hooks=[listen])
    assert out["r"].ok and out["r"].channel == agent.channo
    assert max(heard) > 3000


def test_a_failing_and_a_hanging_script_end_their_own_calls_while_others_complete() -> None:
    h = Harness(lines=3)
    for i in range(3):
        h.ring(i, at_ms=i * 100)
        h.key(i, 3000, f"{i + 1}{i + 1}")
    done: dict[str, Any] = {}
    apology: dict[int, int] = {0: 0, 1: 0, 2: 0}

    async def script(call: IvrCall) -> None:
        await call.answer()
        r = await call.get_digits(2, first_digit_timeout=5)
        if r.digits == "11":
            raise RuntimeError("bug in the script")
        if r.digits == "22":
            await asyncio.Event().wait()  # hangs for ever
        await call.play("menu")  # the healthy call keeps going
        done[call.id] = r.digits
        await call.hangup()

    rows = [c.index for c in h.lines]

    def watch(r: IvrRunner) -> None:
        for i, row in enumerate(rows):
            call = r.calls.get(h.lines[i].channo)
            if call is not None and call.tags.get("_outcome") in ("failed", "deadline"):
                apology[i] += int(np.abs(r.board.tx[row]).max() > 0)

    r = h.run(script, 30000, hooks=[watch], config=RunnerConfig(script_deadline=8.0))
    s = r.stats
    assert (s.calls, s.completed, s.failed, s.deadline) == (3, 1, 1, 1)
    assert list(done.values()) == ["33"]
    assert {w for _, w in s.failures} == {"error", "deadline"}
    assert apology[0] > 1000 and apology[1] > 1000  # each heard the sorry prompt (> 1 s of it)
    assert not r.calls and all(c.released for c in r.finished)
    assert all(not h.board.channel(c.channo).offhook for c in h.lines)  # every line released
