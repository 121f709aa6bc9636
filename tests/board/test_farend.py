"""The simulated far end: human DTMF, zone tones, WAV speech, loss and noise levels, the render-
ahead ring (a source starts at its exact sample wherever the renderer is), and the schedule."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.io import wavfile

from ccboard.board import open_board
from ccboard.board.events import Digit
from ccboard.board.sim.farend import CHUNK, GROUPS, Clip, Renderer, Schedule, dbm0_rms, human_dtmf
from ccboard.dsp import dtmf
from tests.board.helpers import of, run


def _record(b, channo: int, ms: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    ch = b.channel(channo)
    out = []
    for _ in range(ms):
        b.tick()
        out.append(b.rx[ch.index].copy())
    return np.concatenate(out).astype(np.float64)


def _level_dbm0(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(x**2)) / dbm0_rms(0.0)))


def test_human_dtmf_decodes_with_human_timing() -> None:
    rng = np.random.default_rng(5)
    x = human_dtmf("147*0#", rng, on_ms=(60, 120), gap_ms=(80, 400))
    ev = dtmf.DtmfReceiver().process(x)
    assert dtmf.digits(ev) == "147*0#"
    offs = ev[ev["kind"] == dtmf.OFF]
    assert ((offs["duration_ms"] >= 55) & (offs["duration_ms"] <= 125)).all()
    assert ((offs["level_low"] >= -13) & (offs["level_low"] <= -3)).all()


def test_digits_keyed_by_the_far_end_arrive_on_exactly_that_channel() -> None:
    b = open_board("sim://?e1=1&fxs=0&fxo=0")
    b.far_ends[1].dtmf(20, "5551234")
    ev = of(run(b, 4000), Digit)
    assert {e.channel for e in ev} == {20}
    assert "".join(e.digit for e in ev if e.kind == "on") == "5551234"


def test_busy_tone_cadence_and_level() -> None:
    b = open_board("sim://?e1=1&fxs=0&fxo=0")
    fe = b.far_ends[1]
    fe.noise(None)
    run(b, 600)
    fe.tone(2, "busy")
    x = _record(b, 2, 2000)
    env = np.sqrt(np.mean(x.reshape(-1, 80) ** 2, axis=1))  # 10 ms frames
    on = env > 100
    assert 0.45 < on.mean() < 0.55  # 500 on / 500 off
    assert on[1:49].all() and not on[51:99].any()  # (0.5 ms of elastic store delay)
    # 480 + 620 Hz each at -10 dBm0: -7 dBm0 together
    assert _level_dbm0(x[:4000]) == pytest.approx(-7.0, abs=0.5)


def test_wav_speech_is_resampled_and_loss_applies(tmp_path) -> None:  # type: ignore[no-untyped-def]
    t = np.arange(16000) / 16000
    wavfile.write(tmp_path / "s.wav", 16000, (8000 * np.sin(2 * np.pi * 700 * t)).astype(np.int16))
    levels = []
    for loss in (0.0, 6.0):
        b = open_board("sim://?e1=1&fxs=0&fxo=0")
        fe = b.far_ends[1]
        fe.noise(None)
        fe.loss(loss)
        run(b, 600)
        fe.speech(5, str(tmp_path / "s.wav"))
        x = _record(b, 5, 900)[800:]
        spec = np.abs(np.fft.rfft(x))
        assert abs(np.argmax(spec) * 8000 / x.size - 700) < 10
        levels.append(_level_dbm0(x))
    assert levels[0] - levels[1] == pytest.approx(6.0, abs=0.3)


def test_line_noise_level() -> None:
    b = open_board("sim://?e1=1&fxs=0&fxo=0")
    b.far_ends[1].noise(-40.0)
    run(b, 600)
    assert _level_dbm0(_record(b, 7, 500)) == pytest.approx(-40.0, abs=0.5)


@pytest.mark.parametrize("delay", [0, 3, CHUNK - 5, 3 * CHUNK + 1])
def test_a_source_starts_on_its_sample_wherever_the_renderer_is(delay: int) -> None:
    r = Renderer(rows=3 * GROUPS, seed=1)
    r.set_noise(np.arange(r.rows), None)
    for _ in range(GROUPS + 7):  # clear the noise rendered before set_noise
        r.advance()
    now = (GROUPS + 7) * 8
    clip = np.arange(1, 1001, dtype=np.float32)
    r.add(70, Clip(clip, now + delay), now)
    got = []
    for k in range(400):
        got.append(r.slice(now + 8 * k)[70].copy())
        r.advance()
    x = np.concatenate(got).astype(np.float32)
    assert (x[:delay] == 0).all()
    assert np.array_equal(x[delay : delay + 1000], clip)
    assert (x[delay + 1000 :] == 0).all()


def test_schedule_runs_in_time_order() -> None:
    s = Schedule()
    out: list[int] = []
    for t in (30, 10, 20, 10):
        s.at(t, out.append, t)
    s.run_due(21)
    assert out == [10, 10, 20]
    s.run_due(100)
    assert out == [10, 10, 20, 30]
