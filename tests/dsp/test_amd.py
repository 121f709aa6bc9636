"""Answering-machine detection: accuracy on a labelled set synthesised with espeak-ng, app_amd's
causes, greeting beeps, block splits, batch and state.

The labelled set: HUMAN answers are a short "hello?" (English) or "喂？" (Mandarin)
after 0.2-0.8 s of line silence, then silence (the caller is expected to speak);
MACHINE answers are a 3-6 s greeting (the corpus texts of tests/dsp/signals.py, several voices)
followed by 0.3-0.6 s of silence and a beep (400-2000 Hz, 0.3-1 s). Each clip is played at an
active level of -12, -22 or -30 dBm0 with white or pink noise at -50 or -45 dBm0. The confusion
matrix is printed and written to build/conformance/amd.md (+ .json); a floor is asserted per
class, and for every machine the beep must be found once, its onset within 10 ms and the event
no later than 105 ms after the beep starts (beep_min_ms 100 plus one 5 ms analysis block);
no beep may be reported on a human answer.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccboard.dsp import amd
from tests.dsp import signals as sig

OUT_DIR = sig.ROOT / "build" / "conformance"
HUMAN_FLOOR = 0.90
MACHINE_FLOOR = 0.90
BEEP_FLOOR = 0.95
HUMAN_TEXT = {"en": ["hello?", "hello?"], "cmn": ["喂？", "喂？"]}
VOICES = {"en": sig.ENGLISH_VOICES[:4], "cmn": sig.MANDARIN_VOICES[:4]}
GREETING_TEXT = {"en": sig.ENGLISH_TEXT[:2], "cmn": sig.MANDARIN_TEXT[:2]}
CONDITIONS = [(-12.0, "white", -50.0), (-22.0, "pink", -45.0), (-30.0, "white", -50.0)]


def _noise(kind: str, n: int, level: float, rng: np.random.Generator) -> np.ndarray:
    return sig.white_noise(n, level, rng) if kind == "white" else sig.pink_noise(n, level, rng)


def labelled_set() -> list[dict[str, Any]]:
    """Every case: label, name, signal (int16) and, for machines, the beep's first sample."""
    rng = np.random.default_rng(2024)
    cases: list[dict[str, Any]] = []
    for lang in ("en", "cmn"):
        for v, (voice, wpm, pitch) in enumerate(VOICES[lang]):
            for c, (level, kind, noise) in enumerate(CONDITIONS):
                text = HUMAN_TEXT[lang][(v + c) % 2]
                clip = sig.scale_to(sig.espeak_clip(text, voice, wpm, pitch).astype(np.float64), level)
                lead = np.zeros(sig.ms(rng.uniform(200, 800)))
                x = np.concatenate([lead, clip, np.zeros(sig.ms(4000))])
                x = x + _noise(kind, x.size, noise, rng)
                cases.append(
                    {
                        "label": "HUMAN",
                        "name": f"{lang}:{voice}:{text}:{level:g}dBm0:{kind}",
                        "x": sig.to_int16(x),
                        "beep": None,
                    }
                )
                g = sig.espeak_clip(GREETING_TEXT[lang][(v + c) % 2], voice, wpm, pitch).astype(np.float64)
                g = sig.scale_to(g[: sig.ms(rng.uniform(3000, 6000))], level)
                gap = np.zeros(sig.ms(rng.uniform(300, 600)))
                f = float(rng.uniform(400, 2000))
                beep = sig.tone(sig.ms(rng.uniform(300, 1000)), f, level + 3.0, rng.uniform(0, 6.28))
                lead = np.zeros(sig.ms(rng.uniform(200, 800)))
                x = np.concatenate([lead, g, gap, beep, np.zeros(sig.ms(1500))])
                x = x + _noise(kind, x.size, noise, rng)
                at = lead.size + g.size + gap.size
                cases.append(
                    {
                        "label": "MACHINE",
                        "name": f"{lang}:{voice}:greeting:{level:g}dBm0:{kind}:{f:.0f}Hz",
                        "x": sig.to_int16(x),
                        "beep": at,
                        "beep_hz": f,
                    }
                )
    return cases


@pytest.fixture(scope="module")
def cases() -> list[dict[str, Any]]:
    return labelled_set()


def classify(x: np.ndarray) -> tuple[str, str, list[tuple[int, int, float]]]:
    """(result, cause, [(beep onset, decided at, Hz)]) of a fresh detector over x."""
    ev = amd.AnsweringMachineDetector().process(x)
    res = ev[ev["kind"] == amd.RESULT]
    beeps = ev[ev["kind"] == amd.BEEP]
    result = amd.RESULTS[int(res["result"][0])] if res.size else "NONE"
    cause = amd.CAUSES[int(res["cause"][0])] if res.size else ""
    return result, cause, [(int(b["start"]), int(b["at"]), float(b["freq_hz"])) for b in beeps]


def test_accuracy_table(cases: list[dict[str, Any]]) -> None:
    labels = ["HUMAN", "MACHINE"]
    cols = ["HUMAN", "MACHINE", "NOTSURE", "NONE"]
    matrix = {a: dict.fromkeys(cols, 0) for a in labels}
    beep_ok, beep_bad, false_beeps, causes, misses = 0, [], 0, {}, []
    latencies = []
    for case in cases:
        result, cause, beeps = classify(case["x"])
        matrix[case["label"]][result] += 1
        causes[(case["label"], cause)] = causes.get((case["label"], cause), 0) + 1
        if result != case["label"]:
            misses.append(f"{case['name']}: {result}/{cause}")
        if case["beep"] is None:
            false_beeps += len(beeps)
            continue
        good = [
            b
            for b in beeps
            if abs(b[0] - case["beep"]) <= 80
            and b[1] - case["beep"] <= 105 * 8
            and abs(b[2] - case["beep_hz"]) <= 0.01 * case["beep_hz"]
        ]
        if len(beeps) == 1 and good:
            beep_ok += 1
            latencies.append((good[0][1] - case["beep"]) / 8.0)
        else:
            beep_bad.append(f"{case['name']}: beep at {case['beep']}, found {beeps}")
    n = {a: sum(matrix[a].values()) for a in labels}
    rate = {a: matrix[a][a] / n[a] for a in labels}
    machines = n["MACHINE"]
    lines = [
        "# Answering-machine detection accuracy (ours, app_amd defaults)",
        "",
        f"Labelled set: {n['HUMAN']} human answers, {n['MACHINE']} machine greetings with a beep "
        "(espeak-ng English and Mandarin; levels -12/-22/-30 dBm0; white/pink noise -50/-45 dBm0).",
        "",
        "| truth \\ decided | " + " | ".join(cols) + " | correct | floor |",
        "|---" * (len(cols) + 3) + "|",
    ]
    floors = {"HUMAN": HUMAN_FLOOR, "MACHINE": MACHINE_FLOOR}
    for a in labels:
        lines.append(
            f"| {a} | "
            + " | ".join(str(matrix[a][c]) for c in cols)
            + f" | {100 * rate[a]:.1f} % | {100 * floors[a]:.0f} % |"
        )
    lines += [
        "",
        f"Beeps found (once, onset within 10 ms, frequency within 1 %, decided <= 105 ms after onset): "
        f"{beep_ok}/{machines} (floor {100 * BEEP_FLOOR:.0f} %); latency median "
        f"{np.median(latencies) if latencies else float('nan'):.1f} ms, max "
        f"{max(latencies) if latencies else float('nan'):.1f} ms; "
        f"beeps reported on human answers: {false_beeps}.",
        "",
        "Causes: " + ", ".join(f"{k[0]}->{k[1] or '-'}: {v}" for k, v in sorted(causes.items())),
    ]
    if misses or beep_bad:
        lines += ["", "Misclassified / beep misses:"] + [f"- {m}" for m in misses + beep_bad]
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "amd.md").write_text(text)
    (OUT_DIR / "amd.json").write_text(
        json.dumps(
            {
                "matrix": matrix,
                "rates": rate,
                "floors": floors,
                "beeps_found": beep_ok,
                "machines": machines,
                "beep_floor": BEEP_FLOOR,
                "false_beeps": false_beeps,
                "beep_latency_ms": latencies,
            },
            indent=1,
        )
    )
    assert rate["HUMAN"] >= HUMAN_FLOOR, text
    assert rate["MACHINE"] >= MACHINE_FLOOR, text
    assert beep_ok >= BEEP_FLOOR * machines, text
    assert false_beeps == 0, text


@pytest.mark.parametrize("frame", [10, 20])
def test_app_amd_causes(frame: int) -> None:
    """Each cause at the frame app_amd decides it (noise bursts as words, frames of `frame` ms)."""
    rng = np.random.default_rng(3)

    def burst(ms: int) -> np.ndarray:
        return rng.uniform(-3000, 3000, sig.ms(ms))

    def quiet(ms: int) -> np.ndarray:
        return rng.uniform(-20, 20, sig.ms(ms))

    table = [
        ([quiet(3000)], "MACHINE", "INITIALSILENCE", 2500, {}),
        ([quiet(500), burst(400), quiet(1500)], "HUMAN", "HUMAN", 1700, {}),
        ([quiet(300), burst(2000), quiet(1000)], "MACHINE", "LONGGREETING", 1800, {}),
        ([quiet(300), burst(300), quiet(200), burst(300)], "MACHINE", "MAXWORDS", 900, {}),
        (
            [quiet(300), burst(1200)],
            "MACHINE",
            "MAXWORDLENGTH",
            1300,
            {"max_word_ms": 1000, "greeting_ms": 3000},
        ),
        ([np.tile(np.concatenate([burst(40), quiet(140)]), 30)], "NOTSURE", "TOOLONG", 5000, {}),
    ]
    for parts, result, cause, at_ms, kw in table:
        x = sig.to_int16(np.concatenate(parts))
        ev = amd.AnsweringMachineDetector(frame_ms=frame, **kw).process(x)
        res = ev[ev["kind"] == amd.RESULT]
        assert res.size == 1, (cause, ev)
        assert (amd.RESULTS[res["result"][0]], amd.CAUSES[res["cause"][0]]) == (result, cause)
        assert int(res["at"][0]) == at_ms * 8, (cause, int(res["at"][0]) / 8)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), cuts=st.lists(st.integers(1, 900), min_size=1, max_size=30))
def test_any_split_identical(seed: int, cuts: list[int]) -> None:
    rng = np.random.default_rng(seed)
    parts = [np.zeros(sig.ms(rng.uniform(100, 600)))]
    for _ in range(int(rng.integers(1, 5))):
        parts += [
            rng.uniform(-4000, 4000, sig.ms(rng.uniform(50, 900))),
            np.zeros(sig.ms(rng.uniform(30, 700))),
        ]
    parts.append(sig.tone(sig.ms(300), float(rng.uniform(400, 2000)), -15.0))
    x = sig.to_int16(np.concatenate(parts + [np.zeros(800)]))
    one = amd.AnsweringMachineDetector().process(x)
    d = amd.AnsweringMachineDetector()
    got, i, k = [], 0, 0
    while i < x.size:
        got.append(d.process(x[i : i + cuts[k % len(cuts)]]))
        i += cuts[k % len(cuts)]
        k += 1
    assert np.concatenate(got).tobytes() == one.tobytes()


def test_bank_laws_and_state() -> None:
    rng = np.random.default_rng(9)
    rows = [
        np.concatenate(
            [np.zeros(sig.ms(300 + 100 * c)), rng.uniform(-3000, 3000, sig.ms(400)), np.zeros(sig.ms(2400))]
        )
        for c in range(4)
    ]
    x = np.stack([sig.to_int16(r[: sig.ms(3000)]) for r in rows])
    bank = amd.AnsweringMachineDetectorBank(4)
    ev = np.concatenate([bank.process(x[:, i : i + 8]) for i in range(0, x.shape[1], 8)])
    singles = np.concatenate([amd.AnsweringMachineDetector(channel=c).process(x[c]) for c in range(4)])
    key = np.argsort(ev["channel"], kind="stable")
    assert ev[key].tobytes() == singles.tobytes()
    assert list(amd.RESULTS[r] for r in ev["result"]) == ["HUMAN"] * 4
    for law, enc in (("alaw", sig.lin2alaw), ("ulaw", sig.lin2ulaw)):
        e = amd.AnsweringMachineDetector(law).process(enc(x[1]))
        assert e.size == 1 and amd.RESULTS[e["result"][0]] == "HUMAN"
    d = amd.AnsweringMachineDetector()
    d.process(x[0, :4000])
    blob = d.get_state()
    d2 = amd.AnsweringMachineDetector()
    d2.set_state(blob)
    assert d2.process(x[0, 4000:]).tobytes() == d.process(x[0, 4000:]).tobytes()
    for junk in (b"", bytes(len(blob)), blob[:-3]):
        with pytest.raises(ValueError, match="state"):
            d2.set_state(junk)
    for bad in ({"max_words": 0}, {"frame_ms": 12}, {"beep_min_hz": 3000.0}, {"greting_ms": 1}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            amd.AnsweringMachineDetector(**bad)
    assert amd.describe(ev[0]).startswith("HUMAN/HUMAN at")
