"""`ccboard demo` (callcentre mode) end to end in virtual time: callers on the R2 China and the PRI
span, every flow, 100 % digit accuracy, each caller's number delivered to the script and the CDR."""

from __future__ import annotations

import io
import re
import sqlite3
from pathlib import Path

import pytest
from rich.console import Console

from ccboard.cli.callcentre import PROMISE_GRACE_S, run_callcentre
from ccboard.cli.main import main
from ccboard.queue import kpi
from ccboard.queue.engine import queue_ledger
from ccboard.store import open_store
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


def test_default_demo_callers_take_callbacks_that_are_honoured(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`ccboard demo` as shipped (seed 1, 30 callers on the E1 spans, 4 agents, 4 FXO lines), in
    virtual time: some callers waiting in the queue press 2 and keep their place, on the number
    their span delivered or on one they key, or choose a time (they leave the line: EXITWITHKEY);
    each is dialled out on an FXO line when its place reaches an agent or its time comes, and
    connected to that agent; the summary's figures are the ledger's."""
    monkeypatch.setenv("CCBOARD_PROMPT_CACHE", str(prompt_cache()))
    db = tmp_path / "bank.db"
    report: dict[str, object] = {}
    assert run_callcentre(db=str(db), live=False, report=report) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    line = re.search(
        r"callbacks: requested (\d+) \(kept place (\d+), at a chosen time (\d+)\), dialled (\d+), "
        r"answered (\d+); promises kept (\d+)/(\d+) due",
        out,
    )
    assert line, out
    requested, places, times, dialled, answered, kept, due = map(int, line.groups())
    assert requested >= 3 and answered >= 3 and places >= 2 and times >= 1, out

    # the ledger, read back from the store's file
    led = sqlite3.connect(db.with_suffix(".cdr.db"))
    rows = led.execute(
        "SELECT callid, agent, event, data1, data2 FROM ledger WHERE queue = 'agents' ORDER BY id"
    ).fetchall()
    by_call: dict[str, list[tuple[str, str, str, str]]] = {}
    for callid, agent, event, d1, d2 in rows:
        by_call.setdefault(callid, []).append((agent, event, d1, d2))
    requests: dict[str, str] = {}  # callid -> the number to call back
    modes: dict[str, str] = {}  # callid -> place / time
    anis: dict[str, str] = {}  # callid -> the caller's number when it first entered the queue
    for c, evs in by_call.items():
        for _, event, d1, d2 in evs:
            if event == "CALLBACKREQUEST":
                requests[c], modes[c] = d1, d2
            elif event == "ENTERQUEUE":
                anis.setdefault(c, d2)
    assert len(requests) == requested and sorted(modes.values()).count("time") == times
    for c in (c for c, m in modes.items() if m == "time"):  # left the line, came back when due
        story = [e[1:3] for e in by_call[c] if e[1] in ("ENTERQUEUE", "CALLBACKREQUEST", "EXITWITHKEY")]
        assert story == [
            ("ENTERQUEUE", ""),
            ("CALLBACKREQUEST", requests[c]),
            ("EXITWITHKEY", "2"),
            ("ENTERQUEUE", "callback"),
        ], by_call[c]
    assert all(re.fullmatch(r"13\d{8}", anis[c]) for c in requests), anis  # the E1 callers' ANI
    assert any(n == anis[c] for c, n in requests.items()), "no caller kept its own number"
    assert any(n != anis[c] for c, n in requests.items()), "no caller keyed another number"
    honoured = 0
    for c in requests:
        evs = by_call[c]
        if ("NONE", "CALLBACKRESULT", "answered") not in [e[:3] for e in evs]:
            continue
        attempt = next(i for i, e in enumerate(evs) if e[1] == "CALLBACKATTEMPT")
        agent = evs[attempt][0]
        # dialled for the agent its place reached, answered, then connected to that agent
        after = [e[:2] for e in evs[attempt:]]
        assert (agent, "CONNECT") in after and (agent, "COMPLETEAGENT") in after, evs
        honoured += 1
    assert honoured == answered >= 2
    engine = report["engine"]
    fxo = set(report["fxo"])  # type: ignore[call-overload]
    dials = engine.dialled  # type: ignore[attr-defined]
    assert len(dials) == dialled and {cid for cid, _, _ in dials} == set(requests)
    assert all(line in fxo and number == requests[cid] for cid, number, line in dials), dials
    assert kept == due == requested  # every promise due in the run was kept
    # the agents in the briefing at the start, back when it ended
    pauses = [e for (e,) in led.execute("SELECT event FROM ledger WHERE data1 = 'briefing'")]
    assert pauses.count("PAUSE") == pauses.count("UNPAUSE") == 3

    # the summary's queue KPIs are the ledger's: recomputed here from the store
    store = open_store(f"sqlite:///{db.with_suffix('.cdr.db')}")
    try:
        k = kpi.compute(queue_ledger(store), queue="agents", grace=PROMISE_GRACE_S)
    finally:
        store.close()
    events = [e for evs in by_call.values() for _, e, _, _ in evs]
    assert k.offered == events.count("ENTERQUEUE") and k.answered == events.count("CONNECT")
    summary = re.search(
        r"queue \(KPIs from the ledger, (\d+) rows\): offered (\d+), answered (\d+), abandoned (\d+) "
        r"\(short (\d+)\), ASA ([\d.]+) s, SL\(20 s\) ([\d.]+) %, SL2 ([\d.]+) %, AHT ([\d.]+) s",
        out,
    )
    assert summary, out
    _, offered, ans, abandoned, short, asa, sl, sl2, aht = summary.groups()
    assert (int(offered), int(ans), int(abandoned), int(short)) == (
        k.offered,
        k.answered,
        k.abandoned,
        k.short_abandoned,
    )
    assert k.asa is not None and k.sl is not None and k.sl2 is not None and k.aht is not None
    assert (asa, sl, sl2, aht) == (f"{k.asa:.1f}", f"{100 * k.sl:.1f}", f"{100 * k.sl2:.1f}", f"{k.aht:.1f}")
    assert k.callback_kept == kept and k.callback_requests_due == due
    assert k.asa > 20.0  # the briefing made callers wait


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
