"""get_digits termination conditions on the sim board (digits are DTMF on the line, decoded by
the board's receiver), one reason per test, with the board-time instant it ended."""

from __future__ import annotations

from typing import Any

import pytest

from ccboard.ivr import IvrCall, SecretDigits, Term
from tests.ivr.helpers import Harness

ANSWER_MS = 1000  # China ring cadence: the first ring lasts 1 s, then the call is offered


def _one(h: Harness, until: int, **get: Any) -> tuple[Any, int, int]:
    out: dict[str, Any] = {}

    async def script(call: IvrCall) -> None:
        await call.answer()
        out["t0"] = call._core.now
        out["r"] = await call.get_digits(**get)
        out["t1"] = call._core.now

    h.ring(0)
    h.run(script, until, stop=lambda: "r" in out)
    return out["r"], out["t0"], out["t1"]


def test_maxdtmf() -> None:
    h = Harness()
    h.key(0, 2000, "12345")
    r, _, t1 = _one(h, 8000, max_digits=3, first_digit_timeout=5)
    assert (r.digits, r.reason, r.terminator) == ("123", Term.MAXDTMF, "")
    assert 2000 + 2 * 180 < t1 < 2000 + 3 * 180 + 60  # the third tone's onset (+ detection)


def test_termdigit_is_not_in_the_digits() -> None:
    h = Harness()
    h.key(0, 2000, "42#")
    r, _, _ = _one(h, 8000, max_digits=10, terminators="#*")
    assert (r.digits, r.reason, r.terminator) == ("42", Term.TERMDIGIT, "#")


def test_first_digit_timeout() -> None:
    h = Harness()
    r, t0, t1 = _one(h, 8000, max_digits=4, first_digit_timeout=2.5)
    assert (r.digits, r.reason) == ("", Term.FIRSTDIGIT)
    assert t1 - t0 == pytest.approx(2500, abs=2)


def test_inter_digit_timeout_runs_from_the_last_digit() -> None:
    h = Harness()
    h.key(0, 2000, "12")
    r, _, t1 = _one(h, 9000, max_digits=6, first_digit_timeout=5, inter_digit_timeout=1.5)
    assert (r.digits, r.reason) == ("12", Term.IDDTIME)
    assert 2000 + 180 + 1500 <= t1 <= 2000 + 180 + 1500 + 60


def test_total_timeout_while_digits_keep_coming() -> None:
    h = Harness()
    h.key(0, 1500, "1111111111", gap_ms=300)
    r, t0, t1 = _one(h, 9000, max_digits=20, first_digit_timeout=5, inter_digit_timeout=2, total_timeout=2.0)
    assert r.reason == Term.MAXTIME and 3 <= len(r.digits) <= 6
    assert t1 - t0 == pytest.approx(2000, abs=2)


def test_hangup_ends_the_collection() -> None:
    h = Harness()
    h.key(0, 2000, "9")
    h.hang_up(0, 3000)
    r, _, t1 = _one(h, 9000, max_digits=4, first_digit_timeout=5, inter_digit_timeout=4)
    assert (r.digits, r.reason) == ("9", Term.HANGUP)
    assert 3000 < t1 < 4200  # kewl start open (600 ms) + the machine's 250 ms disconnect timer


def test_type_ahead_digits_are_used_first() -> None:
    h = Harness()
    h.key(0, 1500, "77")
    out: dict[str, Any] = {}

    async def script(call: IvrCall) -> None:
        await call.answer()
        await call.sleep(1.5)  # the caller keys before being asked
        out["a"] = await call.get_digits(1, first_digit_timeout=1)
        out["b"] = await call.get_digits(1, first_digit_timeout=1)
        out["c"] = await call.get_digits(1, first_digit_timeout=1)

    h.ring(0)
    h.run(script, 9000, stop=lambda: "c" in out)
    assert [out[k].digits for k in "abc"] == ["7", "7", ""]
    assert out["c"].reason == Term.FIRSTDIGIT


def test_secret_result_is_masked() -> None:
    h = Harness()
    h.key(0, 2000, "8642")
    r, _, _ = _one(h, 8000, max_digits=4, secret=True)
    assert isinstance(r.digits, SecretDigits) and r.reason == Term.MAXDTMF
    assert str(r.digits) == "****" and "8642" not in repr(r) and "8642" not in f"{r.digits}"
    assert r.digits.matches("8642") and not r.digits.matches("8643")
    with pytest.raises(TypeError):
        list(r.digits)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        r.digits + "x"  # type: ignore[operator]
