"""`ccboard scan` and `ccboard cfg` on the VM's system.conf, on the real driver: the spans,
channels and alarms the driver reports are the ones the sim builds from the same file."""

from __future__ import annotations

import pytest

from ccboard.board import open_board
from ccboard.board.events import Alarm
from ccboard.cli.main import main
from tests.vm.guest.conftest import PEER_OFFSET, SYSTEM_CONF

# Lines that name the backend or the span's driver rather than describe the line.
BACKEND_KEYS = ("description=", "devicetype=", "name=")


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    rc = main(list(argv))
    out = capsys.readouterr().out.splitlines()
    assert rc == 0, "\n".join(out)
    return out


def test_scan_matches_the_sim(capsys: pytest.CaptureFixture[str]) -> None:
    real = _cli(capsys, "scan", f"dahdi://{SYSTEM_CONF}")
    sim = _cli(capsys, "scan", f"sim://{SYSTEM_CONF}")
    keep = [ln for ln in real if not ln.startswith(BACKEND_KEYS)]
    assert keep == [ln for ln in sim if not ln.startswith(BACKEND_KEYS)]
    assert keep.count("alarms=OK") == 2 and "[1]" in keep and "[2]" in keep
    assert "basechan=1" in keep and f"basechan={1 + PEER_OFFSET}" in keep
    assert "name=DYN/loc/1:0" in real and "name=DYN/loc/1:1" in real  # the driver's span names


def test_cfg_matches_the_sim(capsys: pytest.CaptureFixture[str]) -> None:
    real = _cli(capsys, "cfg", f"dahdi://{SYSTEM_CONF}", "-c", str(SYSTEM_CONF), "-v")
    sim = _cli(capsys, "cfg", "sim://", "-c", str(SYSTEM_CONF), "-v")

    def body(lines: list[str]) -> list[str]:
        # SPAN lines carry the span's name; the rest (channel map, count, zone) must match
        return [ln for ln in lines if not ln.startswith("SPAN ")]

    assert body(real) == body(sim)
    spans = [ln for ln in real if ln.startswith("SPAN ")]
    assert len(spans) == 2 and all("timing 0 alarms OK" in ln for ln in spans)
    assert "10 channels to configure." in real


def test_driver_model_channels_spans_and_law() -> None:
    with open_board(f"dahdi://{SYSTEM_CONF}") as b:
        assert [s.number for s in b.spans] == [1, 2]
        assert all(s.alarms == Alarm.NONE for s in b.spans)
        for ch in b.channels:
            # the driver's own numbering: span 2 starts at 25, positions from 1 on each span
            assert (ch.span, ch.chanpos) == (
                (1, ch.channo) if ch.channo <= PEER_OFFSET else (2, ch.channo - 24)
            )
            assert ch.law == "ulaw"  # dahdi_dynamic spans are mu-law
            assert ch.name == f"DYN/loc/1:{ch.span - 1}/{ch.chanpos}"
