"""The `ccboard` command: the demo end to end on a few channels, its scoring, and argument errors."""

from __future__ import annotations

import re

import numpy as np
import pytest

import ccboard
from ccboard.cli import demo
from ccboard.cli.main import main
from ccboard.dsp import dtmf


def _figure(pattern: str, text: str) -> float:
    m = re.search(pattern, text)
    assert m, f"{pattern!r} not in output:\n{text}"
    return float(m.group(1).replace(",", ""))


@pytest.mark.parametrize("law", ["alaw", "ulaw"])
def test_demo_decodes_every_digit(law: str, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["demo", "--channels", "6", "--seconds", "12", "--law", law, "--seed", "5", "--show", "3"])
    out = capsys.readouterr().out
    assert status == 0, out
    sent = _figure(r"digits: sent (\d+)", out)
    assert sent >= 6 * 12  # account number, menu choice and PIN on every channel at least
    assert _figure(r"found (\d+)", out) == sent
    assert _figure(r"wrong (\d+)", out) == 0
    assert _figure(r"missed (\d+)", out) == 0
    assert "result: PASS" in out
    # Latency: a digit is reported while its tone (>= 60 ms) is still on.
    assert 0 < _figure(r"ON latency .*median ([\d.]+) ms", out) <= 60
    assert _figure(r"tick \(8 samples x 6 channels, one call\): median ([\d.]+) us", out) > 0
    assert _figure(r"real-time factor ([\d.]+)", out) < 1
    # The listed channels show the same digits sent and decoded.
    rows = re.findall(r"^\s+(\d+)  (.+?)\s{2,}(\S+)$", out, flags=re.M)
    assert [int(r[0]) for r in rows] == [0, 1, 2]
    for _, sent_text, decoded in rows:
        assert sent_text.replace(" ", "") == decoded


def test_demo_is_reproducible(capsys: pytest.CaptureFixture[str]) -> None:
    def digits_of(seed: int) -> list[str]:
        assert main(["demo", "--channels", "3", "--seconds", "6", "--seed", str(seed)]) == 0
        out = capsys.readouterr().out
        return re.findall(r"^\s+\d+  .+?\s{2,}(\S+)$", out, flags=re.M)

    assert digits_of(11) == digits_of(11)
    assert digits_of(11) != digits_of(12)


def _events(rows: list[tuple[int, str, int, int, int]]) -> np.ndarray:
    ev = np.zeros(len(rows), dtype=dtmf.EVENT_DTYPE)
    for i, (channel, digit, kind, start, at) in enumerate(rows):
        ev[i]["channel"] = channel
        ev[i]["digit"] = digit.encode()
        ev[i]["kind"] = kind
        ev[i]["start"] = start
        ev[i]["at"] = at
    return ev


def test_score_counts_wrong_missed_and_false_digits() -> None:
    tones = [
        [demo.Tone("1", 1000, 1800, -10, -10), demo.Tone("2", 4000, 4800, -10, -10)],
        [demo.Tone("#", 2000, 2600, -10, -10)],
    ]
    events = _events(
        [
            (0, "1", dtmf.ON, 1000, 1240),  # right
            (0, "1", dtmf.OFF, 1000, 1900),  # OFF events are not scored
            (0, "5", dtmf.ON, 4000, 4240),  # wrong digit
            (0, "9", dtmf.ON, 9000, 9240),  # nothing was keyed then
            # channel 1's '#' never decoded: missed
        ]
    )
    s = demo.score(tones, events, channels=2)
    assert (s.sent, s.found, s.wrong, s.missed) == (3, 1, 2, 1)
    assert s.latency_ms == [30.0]
    assert s.decoded == ["159", ""]


def test_demo_fails_when_a_digit_is_missed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = demo.run_bank

    def drop_first_on(codes: np.ndarray, law: str) -> tuple[np.ndarray, np.ndarray]:
        events, cost = real(codes, law)
        first_on = int(np.flatnonzero(events["kind"] == dtmf.ON)[0])
        return np.delete(events, first_on), cost

    monkeypatch.setattr(demo, "run_bank", drop_first_on)
    assert main(["demo", "--channels", "2", "--seconds", "6"]) == 1
    out = capsys.readouterr().out
    assert "missed 1" in out and "result: FAIL" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"ccboard {ccboard.__version__}"


@pytest.mark.parametrize(
    "argv",
    [[], ["demo", "--channels", "0"], ["demo", "--seconds", "-1"], ["demo", "--law", "gsm"], ["dance"]],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "usage: ccboard" in capsys.readouterr().err


def test_too_short_a_call_is_refused() -> None:
    with pytest.raises(SystemExit, match="too short"):
        main(["demo", "--channels", "1", "--seconds", "1"])
