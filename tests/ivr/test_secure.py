"""Secure digits: after many PIN entries through the phone bank -- logins, and PIN changes (old
PIN, new PIN twice, mismatches) --, no PIN digit is in any log line, CDR or ledger row, or in the
whole-call recordings (run through our DTMF receiver).

The bank's sample PINs use only the digits 6, 7 and 8, which nothing else a caller keys uses, so
any of them found anywhere is a leak."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pytest

from ccboard.cli.callcentre import PIN_DIGITS, run_callcentre
from ccboard.dsp import dtmf
from ccboard.ivr.secure import SecretDigits, require_plain
from ccboard.media.prompts import read_wav
from ccboard.store import open_store
from tests.ivr.helpers import prompt_cache


def test_secret_digits_refuse_to_be_written() -> None:
    s = SecretDigits("6786")
    assert str(s) == "****" and repr(s) == "SecretDigits('****')" and f"{s:>6}" == "  ****"
    for bad in (lambda: list(s), lambda: s[0], lambda: s + "1", lambda: "1" + s):  # type: ignore[operator,index]
        with pytest.raises(TypeError):
            bad()
    import json
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(s)
    with pytest.raises(TypeError):
        json.dumps(s)
    with pytest.raises(TypeError):
        require_plain(s, "cdr.src")
    assert s == SecretDigits("6786") and s != SecretDigits("6787") and s.matches("6786")


def test_no_pin_digit_in_logs_cdrs_or_recordings(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CCBOARD_PROMPT_CACHE", str(prompt_cache()))
    caplog.set_level(logging.DEBUG)
    rec = tmp_path / "rec"
    report: dict[str, object] = {}
    status = run_callcentre(
        callers=24,
        lines=2,
        agents=2,
        seed=11,
        db=str(tmp_path / "bank.db"),
        record_dir=str(rec),
        report=report,
    )
    out = capsys.readouterr().out
    assert status == 0, out
    counters = report["counters"]
    assert counters.pin_entries >= 24  # type: ignore[attr-defined]
    flows = counters.flows  # type: ignore[attr-defined]
    for flow in ("pin-change", "fx-quote", "bill-payment"):  # the run went through them
        assert flows.get(flow, 0) >= 1, flows
    assert counters.pin_mismatches >= 1  # type: ignore[attr-defined]
    # every secret entry keyed: PINs right and wrong, old and new, mistyped new ones
    pins = {s.digits for c in report["callers"] for s in c.plan if s.secret}  # type: ignore[attr-defined]
    assert len(pins) > len(report["bank"].pins)  # type: ignore[attr-defined]
    leak = re.compile(f"[{PIN_DIGITS}]{{4}}")
    lines = [r.getMessage() for r in caplog.records] + [r.exc_text or "" for r in caplog.records]
    assert any("digit" in m for m in lines)  # non-secret digits are logged, so the grep means something
    assert not [m for m in lines if leak.search(m) or any(p in m for p in pins)]
    assert not [m for m in out.splitlines() if any(p in m for p in pins)]
    store = open_store(f"sqlite:///{tmp_path / 'bank.cdr.db'}")
    buf = io.StringIO()
    assert store.export_csv("cdr", buf) >= 24
    store.export_queue_log(buf)
    store.close()
    # Each PIN keyed must not stand as a field or token of its own; digit runs inside the
    # epoch timestamps and ids of the export are not entries (a bare [678]{4} search hits them).
    exported = buf.getvalue()
    assert not [p for p in pins if re.search(rf"(?<!\d){p}(?!\d)", exported)]
    wavs = sorted(rec.glob("*.wav"))
    assert len(wavs) >= 24
    heard = ""
    for w in wavs:
        rx = dtmf.DtmfReceiver("linear")
        heard += dtmf.digits(rx.process(read_wav(w)))
    assert set("12345") & set(heard)  # the receiver does find the other digits in the recordings
    assert not set(PIN_DIGITS) & set(heard)
