"""`ccboard scan|cfg|status|monitor|test` against the sim, and cfg from a system.conf."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from ccboard.cli.main import main

SYSTEM_CONF = "span=1,1,0,ccs,hdb3,crc4\nbchan=1-15,17-31\ndchan=16\nfxoks=32-33\nfxsks=34-35\n"


def test_scan_lists_spans_like_dahdi_scan(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "sim://?e1=2&t1=1&fxs=1&fxo=1"]) == 0
    out = capsys.readouterr().out
    assert out.count("active=yes") == 4
    assert "type=digital-E1" in out and "type=digital-T1" in out and "type=analog" in out
    assert "framing=CAS/CRC4" in out and "framing=ESF" in out
    assert "alarms=OK" in out and "port=87,FXS" in out and "port=88,FXO" in out


def test_cfg_applies_a_system_conf(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    conf = tmp_path / "system.conf"
    conf.write_text(SYSTEM_CONF)
    assert main(["cfg", "sim://", "-c", str(conf), "-v"]) == 0
    out = capsys.readouterr().out
    assert "SPAN 1: E1/1 CCS/HDB3/CRC4" in out and "alarms OK" in out
    assert "Channel 16: DCHAN" in out and "Channel 01: CLEAR" in out
    assert "35 channels to configure." in out


def test_cfg_names_the_bad_line(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    conf = tmp_path / "system.conf"
    conf.write_text("span=1,1,0,cas,hdb3\nbogus=1\n")
    assert main(["cfg", "sim://", "-c", str(conf)]) == 2
    assert "system.conf:2" in capsys.readouterr().out


def test_status_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "sim://?e1=2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "span",
        "name",
        "kind",
        "alarms",
        "slips",
        "crc",
        "fas",
        "ebits",
        "bpv",
        "offhook",
    ]
    assert [ln.split()[3] for ln in lines[1:]] == ["OK", "OK"]


def test_status_live_runs_for_the_given_time(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "sim://?e1=1", "--live", "--seconds", "0.5"]) == 0
    assert "E1/1" in capsys.readouterr().out


def test_monitor_records_rx_and_tx(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "m.wav"
    assert main(["monitor", "sim://?e1=1&fxs=0&fxo=0", "3", str(out), "--seconds", "0.5"]) == 0
    with wave.open(str(out)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (2, 2, 8000, 4000)
        x = np.frombuffer(w.readframes(4000), "<i2").reshape(-1, 2)
    assert np.std(x[200:, 0]) > 0  # line noise on rx
    assert (x[:, 1] == 0).all()  # nothing sent
    assert main(["monitor", "sim://?e1=1", "999", str(out)]) == 2


def test_tick_timing_test(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", "sim://?e1=1", "--seconds", "1"]) == 0
    out = capsys.readouterr().out
    assert "sample intervals" in out and "--- Results after 1000 ticks ---" in out and "on time:" in out
