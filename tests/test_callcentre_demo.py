"""`ccboard demo` (callcentre mode) end to end in virtual time: every flow, 100 % digit accuracy."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from ccboard.cli.callcentre import run_callcentre
from ccboard.cli.main import main
from tests.ivr.helpers import prompt_cache


def test_callcentre_demo_runs_to_its_summary(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CCBOARD_PROMPT_CACHE", str(prompt_cache()))
    status = main(["demo", "--callers", "40", "--lines", "16", "--agents", "3", "--seed", "3"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "digit accuracy" in out and "-> 100 %" in out
    assert "script failures 0" in out
    for flow in ("balance", "transfer", "card-loss", "agent", "pin-change", "fx-quote", "bill-payment"):
        assert f"{flow} " in out.split("flows:")[1].splitlines()[0], out
    assert "language:en" in out and "language:cmn" in out
    assert "PIN changes" in out
    assert "queue 'agents'" not in out  # stdout is not a terminal here: no live dashboard


def test_live_dashboard_is_drawn_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCBOARD_PROMPT_CACHE", str(prompt_cache()))
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, color_system=None, width=140, height=40)
    status = run_callcentre(callers=6, ports=4, agents=1, seed=2, live=True, console=console)
    drawn = screen.getvalue()
    assert status == 0
    for part in (
        "calls",
        "queue 'agents'",
        "agents",
        "KPIs",
        "pin change",
        "agent1",
        "SL (20 s)",
        "board time",
    ):
        assert part in drawn, part
    last = drawn.split("Demo Bank")[-1]  # the last frame (drawn as the run ends): every caller done
    assert re.search(r"done +6/6", last), last


def test_dtmf_mode_is_still_there(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--mode", "dtmf", "--channels", "4", "--seconds", "6"]) == 0
    assert "channels" in capsys.readouterr().out
