"""`ccboard demo` (callcentre mode) end to end in virtual time: callers on the R2 China and the PRI
span, every flow, 100 % digit accuracy, each caller's number delivered to the script and the CDR."""

from __future__ import annotations

import io
import re
import sqlite3
from pathlib import Path

import pytest
from rich.console import Console

from ccboard.cli.callcentre import run_callcentre
from ccboard.cli.main import main
from tests.ivr.helpers import prompt_cache


def test_callcentre_demo_runs_to_its_summary(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CCBOARD_PROMPT_CACHE", str(prompt_cache()))
    db = tmp_path / "bank.db"
    argv = [
        "demo",
        "--virtual",
        "--callers",
        "40",
        "--circuits",
        "8",
        "--lines",
        "3",
        "--agents",
        "3",
        "--seed",
        "3",
    ]
    status = main([*argv, "--db", str(db)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "virtual time" in out
    # both spans carried calls, every answered caller's number reached the script
    spans = re.search(
        r"R2 China \(span 1\) offered (\d+), answered (\d+).*PRI \(span 2\) offered (\d+), answered (\d+)"
        r".*\(ANI\) delivered (\d+)/(\d+)",
        out,
    )
    assert spans, out
    r2_off, r2_ans, pri_off, pri_ans, ani_ok, answered = map(int, spans.groups())
    assert r2_ans >= 10 and pri_ans >= 10 and r2_off + pri_off == 40
    assert ani_ok == answered == r2_ans + pri_ans
    # and the CDRs: the inbound calls are on the E1 channels with the callers' mobile numbers
    cdr = sqlite3.connect(db.with_suffix(".cdr.db"))
    rows = cdr.execute("SELECT src, channel FROM cdr WHERE uniqueid LIKE 'c%'").fetchall()
    assert len(rows) == answered
    assert all(re.fullmatch(r"13\d{8}", src) for src, _ in rows), rows
    assert {"/".join(ch.split("/")[:2]) for _, ch in rows} == {"E1/1", "E1/2"}, rows
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
    status = run_callcentre(callers=6, lines=2, agents=1, seed=2, live=True, console=console)
    drawn = screen.getvalue()
    assert status == 0
    for part in (
        "calls",
        "queue 'agents'",
        "agents",
        "KPIs",
        "pin change",
        "SL (20 s)",
        "board time",
        "on R2 China",
        "on PRI",
    ):
        assert part in drawn, part
    assert re.search(r"agent\d+ ", drawn)  # the agent's row (named after its FXS channel)
    last = drawn.split("Demo Bank")[-1]  # the last frame (drawn as the run ends): every caller done
    assert re.search(r"done +6/6", last), last


def test_real_time_is_the_default_and_virtual_a_flag() -> None:
    from ccboard.cli.main import build_parser

    p = build_parser()
    assert not p.parse_args(["demo"]).virtual
    assert p.parse_args(["demo", "--virtual"]).virtual
    assert not p.parse_args(["demo", "--realtime"]).virtual  # the old flag is still accepted
    with pytest.raises(SystemExit):
        p.parse_args(["demo", "--realtime", "--virtual"])


def test_dtmf_mode_is_still_there(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--mode", "dtmf", "--channels", "4", "--seconds", "6"]) == 0
    assert "channels" in capsys.readouterr().out
