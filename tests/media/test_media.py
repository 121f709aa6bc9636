"""Media: WAV/G.711 reading (sox as the peer writer), resampling, saying numbers/money/dates/times,
the player, music on hold, the recorder, and the espeak-ng prompt cache."""

from __future__ import annotations

import datetime as dt
import subprocess
import wave
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from ccboard.dsp import g711
from ccboard.media import PromptFormatError, PromptNotFound, tts
from ccboard.media.moh import MusicOnHold
from ccboard.media.player import PlayEnd, Player
from ccboard.media.prompts import PromptSet, load_prompt, read_wav, write_wav
from ccboard.media.recorder import RecordEnd, Recorder
from ccboard.media.say import say_date, say_digits, say_money, say_number, say_time, text


def _sine(f: float, n: int, rate: int = 8000, amp: float = 8000.0) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * f * np.arange(n) / rate)).astype(np.int16)


def _peak_hz(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x.astype(np.float64) * np.hanning(x.size)))
    return float(np.argmax(spec) * 8000 / x.size)


@pytest.mark.parametrize("coding", ["pcm16", "alaw", "ulaw"])
def test_wav_round_trip(tmp_path: Path, coding: str) -> None:
    x = _sine(1000, 8000)
    write_wav(tmp_path / "a.wav", x, coding)  # type: ignore[arg-type]
    y = read_wav(tmp_path / "a.wav")
    if coding == "pcm16":
        assert np.array_equal(x, y)
    else:
        enc = (g711.alaw_encode if coding == "alaw" else g711.ulaw_encode)(x)
        assert np.array_equal(y, (g711.alaw_decode if coding == "alaw" else g711.ulaw_decode)(enc))


@pytest.mark.parametrize(("enc", "law"), [("a-law", "alaw"), ("u-law", "ulaw")])
def test_g711_wav_written_by_sox(tmp_path: Path, enc: str, law: str) -> None:
    x = _sine(700, 4000)
    write_wav(tmp_path / "in.wav", x)
    subprocess.run(["sox", "-D", str(tmp_path / "in.wav"), "-e", enc, str(tmp_path / "out.wav")], check=True)
    subprocess.run(
        ["sox", "-D", str(tmp_path / "in.wav"), "-e", enc, "-t", "raw", str(tmp_path / f"out.{law}")],
        check=True,
    )
    y = read_wav(tmp_path / "out.wav")
    z = load_prompt(tmp_path / f"out.{law}").samples
    assert np.array_equal(y, z)
    assert np.max(np.abs(y.astype(int) - x)) < 400  # G.711 quantisation at this level


@pytest.mark.parametrize("rate", [16000, 22050, 44100, 11025])
def test_other_rates_are_resampled(tmp_path: Path, rate: int) -> None:
    n = rate  # 1 s
    x = (8000 * np.sin(2 * np.pi * 1000 * np.arange(n) / rate)).astype(np.int16)
    with wave.open(str(tmp_path / "x.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(x.tobytes())
    y = read_wav(tmp_path / "x.wav")
    assert abs(y.size - 8000) <= 2
    assert _peak_hz(y) == pytest.approx(1000, abs=2)


def test_stereo_float_and_bad_files(tmp_path: Path) -> None:
    subprocess.run(["sox", "-n", "-r", "48000", "-c", "2", "-e", "floating-point", "-b", "32",
                    str(tmp_path / "f.wav"), "synth", "0.5", "sine", "440"], check=True)  # fmt: skip
    y = read_wav(tmp_path / "f.wav")
    assert abs(y.size - 4000) <= 2 and _peak_hz(y) == pytest.approx(440, abs=3)
    (tmp_path / "bad.wav").write_bytes(b"RIFX0000WAVE")
    with pytest.raises(PromptFormatError, match="bad.wav"):
        read_wav(tmp_path / "bad.wav")
    with pytest.raises(PromptNotFound, match="'nope'"):
        PromptSet("en").get("nope")


@pytest.mark.parametrize(
    ("n", "en", "cmn"),
    [
        (0, "zero", "零"),
        (7, "seven", "七"),
        (10, "ten", "十"),
        (15, "fifteen", "十五"),
        (110, "one hundred and ten", "一百一十"),
        (1005, "one thousand and five", "一千零五"),
        (1050, "one thousand and fifty", "一千零五十"),
        (1234, "one thousand two hundred and thirty four", "一千二百三十四"),
        (2000, "two thousand", "两千"),
        (10005, "ten thousand and five", "一万零五"),
        (100000, "one hundred thousand", "十万"),
        (1000100, "one million one hundred", "一百万零一百"),
        (20304050, "twenty million three hundred and four thousand and fifty", "两千零三十万四千零五十"),
    ],
)
def test_say_number(n: int, en: str, cmn: str) -> None:
    assert text(say_number(n, "en"), "en") == en
    assert text(say_number(n, "cmn"), "cmn") == cmn


def test_say_money_date_time_digits() -> None:
    assert (
        text(say_money(Decimal("1234.50"), "en"), "en")
        == "one thousand two hundred and thirty four yuan fifty"
    )
    assert text(say_money(Decimal("1234.50"), "cmn"), "cmn") == "一千二百三十四元五角"
    assert text(say_money("1234.56", "cmn"), "cmn") == "一千二百三十四元五角六分"
    assert text(say_money("100.05", "cmn"), "cmn") == "一百元零五分"
    assert text(say_money("2", "cmn"), "cmn") == "两元"
    assert text(say_money("0.20", "cmn"), "cmn") == "两角"
    assert text(say_money("12.07", "en", "USD"), "en") == "twelve dollars and seven cents"
    assert text(say_date(dt.date(2025, 3, 5), "en"), "en") == "March fifth two thousand and twenty five"
    assert text(say_date(dt.date(1999, 12, 31), "en"), "en") == "December thirty first nineteen ninety nine"
    assert text(say_date(dt.date(2025, 3, 5), "cmn"), "cmn") == "二零二五年三月五日"
    assert text(say_time(dt.time(14, 5), "en"), "en") == "two oh five P M"
    assert text(say_time(dt.time(9, 0), "en"), "en") == "nine o'clock A M"
    assert text(say_time(dt.time(14, 5), "cmn"), "cmn") == "下午两点零五分"
    assert text(say_time(dt.time(9, 30), "cmn"), "cmn") == "上午九点三十分"
    assert text(say_digits("10#", "cmn"), "cmn") == "一零井号"


def test_player_fills_8_samples_a_tick_and_barges_in() -> None:
    p = Player()
    x = np.arange(1, 21, dtype=np.int16)
    p.start(x)
    tx = np.zeros(8, np.int16)
    assert p.fill(tx) and list(tx) == list(range(1, 9))
    assert p.fill(tx) and p.fill(tx) and list(tx) == [17, 18, 19, 20, 0, 0, 0, 0]
    assert not p.fill(tx) and p.end == PlayEnd.DONE and not tx.any()
    p.start(x, barge_in=True)
    p.fill(tx)
    assert p.on_digit("3") and p.end == PlayEnd.DIGIT and not p.fill(tx) and not tx.any()
    p.start(x, barge_in=False)
    assert not p.on_digit("3") and p.playing


def test_music_on_hold_loops_seamlessly() -> None:
    x = np.arange(100, dtype=np.int16)
    m = MusicOnHold(x)
    out = np.concatenate([_fill(m, t) for t in range(0, 800, 8)])
    assert np.array_equal(out, np.tile(x, 8))


def _fill(m: MusicOnHold, t: int) -> np.ndarray:
    tx = np.zeros(8, np.int16)
    m.fill(tx, t)
    return tx


def test_recorder_terminations_and_blanking(tmp_path: Path) -> None:
    loud, quiet = _sine(500, 8), np.zeros(8, np.int16)
    r = Recorder(tmp_path / "r.wav", silence_ms=300, max_ms=5000)
    for _ in range(500):
        r.feed(loud)
    while r.feed(quiet):
        pass
    assert r.end == RecordEnd.MAXSIL and r.ms == 800
    assert read_wav(r.save() or "").size == 500 * 8  # trailing silence trimmed
    r = Recorder(None, max_ms=100, silence_ms=None)
    while r.feed(loud):
        pass
    assert r.end == RecordEnd.MAXTIME and r.ms == 100
    r = Recorder(None, terminators="#")
    r.feed(loud)
    assert not r.on_digit("5") and r.on_digit("#") and r.end == RecordEnd.DIGIT
    r = Recorder(None, initial_silence_ms=200, silence_ms=None)
    while r.feed(quiet):
        pass
    assert r.end == RecordEnd.NOSPEECH
    r = Recorder(None, silence_ms=None)
    r.feed(loud)
    r.blank(True)
    r.feed(loud)
    r.blank(False)
    r.feed(loud)
    s = r.samples()
    assert s[:8].any() and not s[8:16].any() and s[16:].any()


def test_espeak_prompts_are_cached_and_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCBOARD_PROMPT_CACHE", str(tmp_path))
    ps = tts.build_prompt_set("en", {"hi": "Hello there."}, fragments=False)
    files = sorted(tmp_path.glob("*.wav"))
    assert len(files) == len(ps) == len(tts.BASE_PHRASES["en"]) + 1
    hi = ps.get("hi")
    assert 400 < hi.duration_ms < 2000
    rms = np.sqrt(np.mean(hi.samples.astype(float) ** 2))
    assert 20 * np.log10(rms / (22767 / np.sqrt(2))) == pytest.approx(tts.NORM_DBM0, abs=0.5)

    def boom(*_: object) -> None:
        raise AssertionError("espeak-ng ran again")

    monkeypatch.setattr(tts, "synthesise", boom)
    again = tts.build_prompt_set("en", {"hi": "Hello there."}, fragments=False)
    assert np.array_equal(again.get("hi").samples, hi.samples)
