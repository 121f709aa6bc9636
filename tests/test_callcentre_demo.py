"""`ccboard demo` (callcentre mode) end to end in virtual time: every flow, 100 % digit accuracy."""

from __future__ import annotations

import pytest

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
    for flow in ("balance", "transfer", "card-loss", "agent"):
        assert f"{flow} " in out.split("flows:")[1].splitlines()[0], out
    assert "language:en" in out and "language:cmn" in out


def test_dtmf_mode_is_still_there(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--mode", "dtmf", "--channels", "4", "--seconds", "6"]) == 0
    assert "channels" in capsys.readouterr().out
