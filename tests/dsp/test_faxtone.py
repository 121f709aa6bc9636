"""Fax/modem tones (V.25, V.8, T.30; figures from REFERENCE.md "Call progress tones"): a conformance
table (requirement, required, measured) for our receiver, written to build/conformance/faxtone.md
and .json and asserted row by row; libspandsp 0.0.6's modem_connect_tones as peer both ways;
chunk invariance, batch == singles, state save/restore.

Signals: pure tones at -20 dBm0 unless stated, random phase, 0.2 s of silence before; noise is
white over 0-4 kHz. "Detected" = a TONE event of the right tone; "rejected" = no TONE event.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccboard.dsp import faxtone as F
from ccboard.errors import DSPArgumentError
from tests.dsp import signals as sig
from tests.peers.spandsp_tone import load

OUT_DIR = sig.ROOT / "build" / "conformance"
RNG = np.random.default_rng(21)


def burst(freq: float, ms: int, level: float = -20.0, snr: float | None = None) -> np.ndarray:
    n = ms * 8
    x = np.concatenate([np.zeros(1600), sig.tone(n, freq, level, RNG.uniform(0, 2 * np.pi)), np.zeros(1600)])
    if snr is not None:
        x = x + sig.white_noise(len(x), level - snr, RNG)
    return sig.to_int16(x)


def tones(x: np.ndarray, **kw: object) -> list[int]:
    ev = F.FaxToneReceiver(**kw).process(x)  # type: ignore[arg-type]
    return [int(t) for t in ev["tone"][ev["kind"] == F.TONE]]


def detected(freq: float, ms: int, want: int, **kw: object) -> bool:
    return tones(burst(freq, ms, **kw)) == [want]  # type: ignore[arg-type]


def reversal_error_ms(tone: int) -> tuple[float, bool]:
    """Worst |found - true| reversal position (ms) over ANS/ and ANSam/, and whether EC_DISABLE came."""
    x = F.FaxToneGenerator(tone, -20.0, 3300).generate(4 * sig.FS)
    lead = int(RNG.integers(0, 800))
    y = sig.to_int16(np.concatenate([np.zeros(lead), x]) + sig.white_noise(len(x) + lead, -45.0, RNG))
    ev = F.FaxToneReceiver().process(y)
    rev = ev[ev["kind"] == F.REVERSAL]["start"] - lead
    truth = np.arange(1, 8) * 3600
    err = max(float(np.min(np.abs(truth - r))) for r in rev) / 8.0 if len(rev) else 1e9
    ec = bool(np.any(ev["kind"] == F.EC_DISABLE)) and len(rev) >= 6
    return err, ec


def rows() -> list[dict[str, object]]:
    out: list[dict[str, object]] = []

    def row(req: str, required: str, measured: str, ok: bool) -> None:
        out.append({"requirement": req, "required": required, "measured": measured, "pass": ok})

    for dev in (-38, 38):
        row(
            f"CNG 1100 {dev:+d} Hz",
            "detected",
            str(detected(1100 + dev, 500, F.CNG)),
            detected(1100 + dev, 500, F.CNG),
        )
    for dev in (-60, 60):
        ok = not detected(1100 + dev, 500, F.CNG)
        row(f"CNG 1100 {dev:+d} Hz", "rejected", "rejected" if ok else "detected", ok)
    for dev in (-15, 15):
        row(
            f"ANS 2100 {dev:+d} Hz",
            "detected",
            str(detected(2100 + dev, 1000, F.ANS)),
            detected(2100 + dev, 1000, F.ANS),
        )
    for dev in (-30, 30):
        ok = not detected(2100 + dev, 1000, F.ANS)
        row(f"ANS 2100 {dev:+d} Hz", "rejected", "rejected" if ok else "detected", ok)
    row(
        "CNG burst 425 ms (0.5 s -15 %)",
        "detected",
        str(detected(1100, 425, F.CNG)),
        detected(1100, 425, F.CNG),
    )
    row("CNG burst 300 ms", "rejected", str(not detected(1100, 300, F.CNG)), not detected(1100, 300, F.CNG))
    row("ANS 500 ms", "detected", str(detected(2100, 500, F.ANS)), detected(2100, 500, F.ANS))
    row("ANS 250 ms", "rejected", str(not detected(2100, 250, F.ANS)), not detected(2100, 250, F.ANS))
    for lvl in (-43.0, -3.0):
        ok = detected(2100, 1000, F.ANS, level=lvl) and detected(1100, 500, F.CNG, level=lvl)
        row(f"level {lvl:.0f} dBm0 (CNG and ANS)", "detected", str(ok), ok)
    ok = detected(2100, 1000, F.ANS, level=-35.0, snr=10.0) and detected(
        1100, 500, F.CNG, level=-35.0, snr=10.0
    )
    row("-35 dBm0 at S/N 10 dB", "detected", str(ok), ok)
    for depth_tone, want in ((F.ANSAM, F.ANSAM), (F.ANS, F.ANS)):
        got = tones(F.FaxToneGenerator(depth_tone, -20.0, 2000).generate(3 * sig.FS))
        row(
            f"{F.TONE_NAMES[depth_tone]} told apart (AM depth 0.2 vs 0)",
            F.TONE_NAMES[want],
            ",".join(F.TONE_NAMES[t] for t in got),
            got == [want],
        )
    for t in (F.ANS_PR, F.ANSAM_PR):
        err, ec = reversal_error_ms(t)
        row(f"{F.TONE_NAMES[t]} reversals located", "within 5 ms", f"{err:.1f} ms", err <= 5.0)
        row(f"{F.TONE_NAMES[t]} EC disable event", "after 2 reversals 450 +-25 ms", str(ec), ec)
    speech = sig.to_int16(np.concatenate([sig.scale_to(c.samples, -15.0) for c in sig.speech_corpus()]))
    ev = F.FaxToneReceiver().process(speech)
    n = int(np.sum(ev["kind"] == F.TONE)) + int(np.sum(ev["kind"] == F.EC_DISABLE))
    row(f"speech ({len(speech) / 8000:.0f} s, espeak-ng en/cmn)", "no tone, no EC disable", str(n), n == 0)
    return out


def test_conformance_table() -> None:
    table = rows()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    lines = ["| requirement | required | measured | pass |", "|---|---|---|---|"]
    lines += [
        f"| {r['requirement']} | {r['required']} | {r['measured']} | {'yes' if r['pass'] else 'NO'} |"
        for r in table
    ]
    (OUT_DIR / "faxtone.md").write_text(
        "# Fax/modem tones: conformance\n\nGenerated by tests/dsp/test_faxtone.py.\n\n"
        + "\n".join(lines)
        + "\n"
    )
    (OUT_DIR / "faxtone.json").write_text(json.dumps(table, indent=1))
    print("\n" + "\n".join(lines))
    assert [r["requirement"] for r in table if not r["pass"]] == []


@pytest.mark.parametrize("name", ["CNG", "ANS", "ANS_PR", "ANSAM", "ANSAM_PR"])
def test_spandsp_both_ways(name: str) -> None:
    """spandsp's generator -> our receiver, and ours -> spandsp's receiver, agree on the tone."""
    code = {"CNG": F.CNG, "ANS": F.ANS, "ANS_PR": F.ANS_PR, "ANSAM": F.ANSAM, "ANSAM_PR": F.ANSAM_PR}[name]
    peer = load()
    ev = F.FaxToneReceiver().process(peer.modem_tone_tx(name, 4 * sig.FS))
    # the last event names the tone as known by then (ANS becomes ANS/ at its first reversal)
    assert np.any(ev["kind"] == F.TONE) and int(ev["tone"][-1]) == code
    if name.endswith("_PR"):
        assert np.any(ev["kind"] == F.EC_DISABLE)
    ours = F.FaxToneGenerator(code, -12.0, 3300 if code != F.CNG else 0).generate(4 * sig.FS)
    reports = [c for c, _ in peer.modem_tone_rx(name, ours)]
    assert reports and reports[0] == {"CNG": 1, "ANS": 2, "ANS_PR": 3, "ANSAM": 4, "ANSAM_PR": 5}[name]


SIGNAL = sig.to_int16(
    np.concatenate(
        [
            F.FaxToneGenerator(F.CNG, -20.0, 0).generate(4 * sig.FS),
            F.FaxToneGenerator(F.ANSAM_PR, -15.0, 3300).generate(4 * sig.FS),
        ]
    ).astype(np.float64)
    + sig.white_noise(8 * sig.FS, -50.0, np.random.default_rng(4))
)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 3000), min_size=1, max_size=30))
def test_any_block_split_gives_the_same_events(cuts: list[int]) -> None:
    whole = F.FaxToneReceiver().process(SIGNAL)
    r = F.FaxToneReceiver()
    got, pos = [], 0
    for c in cuts + [len(SIGNAL)]:
        got.append(r.process(SIGNAL[pos : pos + c]))
        pos += c
        if pos >= len(SIGNAL):
            break
    assert np.array_equal(np.concatenate(got), whole)


def test_batch_equals_singles_and_state() -> None:
    rows_ = np.stack([np.roll(SIGNAL, k * 777) for k in range(3)])
    got = F.FaxToneReceiverBank(3).process(rows_)
    for c in range(3):
        assert np.array_equal(got[got["channel"] == c], F.FaxToneReceiver(channel=c).process(rows_[c]))
    a = F.FaxToneReceiver()
    a.process(SIGNAL[:33333])
    b = F.FaxToneReceiver()
    b.set_state(a.get_state())
    assert np.array_equal(a.process(SIGNAL[33333:]), b.process(SIGNAL[33333:]))
    with pytest.raises(DSPArgumentError):
        b.set_state(b"\x00" * 7)
    with pytest.raises(DSPArgumentError):
        b.set_state(bytes(len(a.get_state())))
