"""ISDN PRI over the VM's software spans: a D-channel on each loc span (channel 24 on span 1,
48 on span 2) with DAHDI's own HDLC (`dchan=`: "HDLC with FCS check"), libpri's network side
(our PriSpan in network mode) on span 1 against our user side on span 2, through the DAHDI
backend: the D-channel comes up, the network calls us on B-channel 1 <-> 25, we answer, the
network clears.

`hardhdlc=` is refused on these spans (dahdi_dynamic has no hardware HDLC): measured,
DAHDI_CHANCONFIG fails with EINVAL, which the first test pins down.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ccboard.board.base import Board
from ccboard.signalling.call import CallState
from ccboard.signalling.pri import PriDriver, PriSpan
from tests.vm.guest.conftest import SPANS, SYSTEM_CONF, Paced

NET_D, CPE_D = 24, 48
NET_B, CPE_B = 1, 25  # bchan=1 and bchan=25 in system.conf: position 1 of each span
DCHANS = f"dchan={NET_D}\ndchan={CPE_D}\n"
LIMIT_S = 20.0


def _dahdi_cfg(conf: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["/usr/sbin/dahdi_cfg", "-c", str(conf)], capture_output=True, text=True)


@pytest.fixture
def dchan_conf(tmp_path: Path) -> Iterator[None]:
    """The VM's configuration plus the two D-channels, applied with dahdi_cfg; re-applied at
    the end so that the later guest tests find what they expect."""
    conf = tmp_path / "pri.conf"
    conf.write_text(SYSTEM_CONF.read_text() + DCHANS)
    r = _dahdi_cfg(conf)
    assert r.returncode == 0, f"dahdi_cfg with {DCHANS!r}: {r.stdout}{r.stderr}"
    yield
    _dahdi_cfg(conf)


def test_hardhdlc_is_refused_on_loc_spans(tmp_path: Path) -> None:
    conf = tmp_path / "hard.conf"
    conf.write_text(SPANS + f"hardhdlc={NET_D}\n")
    r = _dahdi_cfg(conf)
    restored = _dahdi_cfg(SYSTEM_CONF)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert r.returncode == 1
    assert f"DAHDI_CHANCONFIG failed on channel {NET_D}: Invalid argument (22)" in r.stdout + r.stderr
    assert "Selected signaling not supported" in r.stdout + r.stderr


def test_pri_call_network_to_user(dchan_conf: None, board_factory: Callable[..., Board]) -> None:
    board = board_factory(f"bchan={NET_B}", f"dchan={NET_D}", f"bchan={CPE_B}", f"dchan={CPE_D}", block=32)
    net = PriSpan(1, NET_D, {1: NET_B}, node="network", switch="ni2", law="ulaw")
    cpe = PriSpan(2, CPE_D, {1: CPE_B}, node="cpe", switch="ni2", law="ulaw")
    drv = PriDriver(board, [net, cpe])
    pace = Paced(board, NET_B)
    seen: list[str] = []

    def kinds() -> list[str]:
        seen.extend(f"{e.kind}" + (f"@{e.call.channel}" if e.call else "") for e in drv.inbox)
        drv.inbox.clear()
        return seen

    try:
        pace.run_until(drv.step, lambda: net.state == "up" and cpe.state == "up", LIMIT_S)
        call = drv.dial(1, "4000", ani="5551234")
        pace.run_until(drv.step, lambda: f"offered@{CPE_B}" in kinds(), LIMIT_S)
        drv.do("answer", CPE_B)
        pace.run_until(drv.step, lambda: call.state == CallState.ANSWERED, LIMIT_S)
        drv.do("hangup", NET_B)
        pace.run_until(drv.step, lambda: kinds().count("released@" + str(CPE_B)) >= 1, LIMIT_S)
    finally:
        print(
            f"D-channels: network {net.state}, user {cpe.state}; frames sent {drv.frames_sent}; events {seen}"
        )
    assert call.channel == NET_B
