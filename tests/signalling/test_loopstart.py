"""Analog loop start: FXS <-> FXO back to back (ring, answer, clear; dial with dial tone and real
DTMF through ccboard.dsp.dtmf), and unit checks of cadence, disconnect and flash handling."""

from __future__ import annotations

import pytest

from ccboard.board.events import HookChanged, HookFlash, RingChanged
from ccboard.errors import LocalProtocolError
from ccboard.signalling.actions import CallerIdReceived, CallEvent, PlayDigits, ProgressTone, Ring, SetHook
from ccboard.signalling.call import CallState, Cause
from ccboard.signalling.loopstart import RING_CADENCES_MS, FxoLoopStart, FxsLoopStart
from tests.signalling.helpers import Net


def analog_pair(cid: bool = False, zone: str = "us") -> tuple[Net, object, object]:
    net = Net(step_ms=8, dtmf=True)
    fxs, fxo = net.add_pair(1, FxsLoopStart("S1", zone=zone), FxoLoopStart("O1", callerid=cid))
    return net, fxs, fxo


@pytest.mark.parametrize("zone", ["us", "uk", "cn"])
def test_fxs_rings_fxo_answers_fxo_hangs_up(zone: str) -> None:
    net, fxs, fxo = analog_pair(zone=zone)
    fxs.do("dial", 0, "201", ani="5551234")
    net.run_until(lambda: "offered" in net.kinds(1), 10000)
    net.run(sum(RING_CADENCES_MS[zone]) + 100)
    # the FXO measured the zone's cadence (on times, to the harness' 1 ms hook/ring latency)
    assert abs(fxo.machine.cadence[0] - RING_CADENCES_MS[zone][0]) <= 16
    fxo.do("answer", net.now)
    net.run_until(lambda: "answered" in net.kinds(0), 1000)
    assert not fxs.machine.ringing
    fxo.do("hangup", net.now)
    net.run_until(lambda: "released" in net.kinds(0), 1000)
    assert net.last(0, "released").cause == Cause.NORMAL_CLEARING
    assert fxs.machine.state == "idle" and fxo.machine.state == "idle"


def test_fxo_with_callerid_offers_after_cid_or_second_ring() -> None:
    net, fxs, fxo = analog_pair(cid=True)
    fxs.do("dial", 0, "201", ani="5551234")
    net.run(2100)  # first ring over, no caller ID codec: the offer waits for the second ring
    assert "offered" not in net.kinds(1)
    assert fxs.dropped == 1  # SendCallerId had no codec to go through
    net.run_until(lambda: "offered" in net.kinds(1), 6000)
    assert net.now >= 6000
    m = FxoLoopStart("O2", callerid=True)
    m.handle(RingChanged(0, 2, True), 0)
    assert [a.kind for a in m.handle(RingChanged(0, 2, False), 2000) if isinstance(a, CallEvent)] == [
        "seized"
    ]
    acts = m.handle(CallerIdReceived("5550000", "BOB"), 2600)
    assert [a.kind for a in acts if isinstance(a, CallEvent)] == ["offered"]
    assert (m.call.ani, m.call.name) == ("5550000", "BOB")  # type: ignore[union-attr]


def test_fxo_dials_after_dial_tone_fxs_collects_dtmf() -> None:
    net, fxs, fxo = analog_pair()
    fxo.do("dial", 0, "4711")
    net.run_until(lambda: "offered" in net.kinds(0), 15000)
    got = net.last(0, "offered").call
    assert got.dnis == "4711"
    assert "answered" in net.kinds(1)  # loop start: answered once dialled
    fxs.do("answer", net.now)
    fxs.do("hangup", net.now)  # busy tone to the phone: the FXO's tone engine hears it
    net.run_until(lambda: "released" in net.kinds(1), 2000)
    assert net.last(1, "released").cause == Cause.NORMAL_CLEARING
    net.run_until(lambda: fxs.machine.state == "idle", 2000)


def test_fxo_busy_while_dialling_is_user_busy() -> None:
    m = FxoLoopStart(3)
    m.dial("12", 0)
    acts = m.handle(ProgressTone("dial"), 300)
    assert acts == [PlayDigits("12")]
    acts = m.handle(ProgressTone("busy"), 900)
    assert acts[0] == SetHook(False)
    assert acts[1].cause == Cause.USER_BUSY  # type: ignore[attr-defined]


def test_fxo_blind_dial_and_no_dialtone() -> None:
    m = FxoLoopStart(3, dialtone_timeout_ms=2000)
    m.dial("9", 0)
    assert m.next_deadline() == 2000
    assert m.on_timeout(2000) == [PlayDigits("9")]
    m2 = FxoLoopStart(4, blind_dial=False)
    m2.dial("9", 0)
    acts = m2.on_timeout(3000)
    assert acts[0] == SetHook(False) and acts[1].cause == Cause.NO_CIRCUIT_AVAILABLE  # type: ignore[attr-defined]


def test_fxo_disconnect_by_loop_current_drop_is_debounced() -> None:
    m = FxoLoopStart(3, disconnect_ms=250)
    m.handle(RingChanged(0, 3, True), 0)
    m.handle(RingChanged(0, 3, False), 2000)
    m.answer(2100)
    m.handle(HookChanged(0, 3, True), 2101)
    m.handle(HookChanged(0, 3, False), 3000)
    m.handle(HookChanged(0, 3, True), 3100)  # a 100 ms break: not a disconnect
    assert m.on_timeout(3300) == [] and m.call is not None
    m.handle(HookChanged(0, 3, False), 4000)
    acts = m.on_timeout(4250)
    assert acts[0] == SetHook(False) and m.call is None


def test_fxo_short_ring_burst_is_not_a_call_and_ring_stop_abandons() -> None:
    m = FxoLoopStart(3, ring_timeout_ms=8000)
    m.handle(RingChanged(0, 3, True), 0)
    assert m.handle(RingChanged(0, 3, False), 50) == []
    assert m.call is None
    m.handle(RingChanged(0, 3, True), 100)
    m.handle(RingChanged(0, 3, False), 2100)
    assert m.call is not None and m.call.state == CallState.OFFERED
    acts = m.on_timeout(10100)
    assert isinstance(acts[0], CallEvent) and acts[0].kind == "released" and m.state == "idle"


def test_fxo_flash_and_transfer() -> None:
    m = FxoLoopStart(3, flash_ms=250, transfer_wait_ms=500)
    m.handle(RingChanged(0, 3, True), 0)
    m.handle(RingChanged(0, 3, False), 2000)
    m.answer(2000)
    assert m.transfer("200", 3000) == [SetHook(False)]
    m.handle(HookChanged(0, 3, False), 3001)  # our own break: no disconnect timer
    assert m.on_timeout(3250) == [SetHook(True)]
    assert m.on_timeout(3750) == [PlayDigits("200")]
    from ccboard.signalling.actions import DigitsDone

    acts = m.handle(DigitsDone(), 4500)
    assert acts[0] == SetHook(False) and m.call is None


def test_fxs_flash_and_hangup_and_refusals() -> None:
    m = FxsLoopStart(9)
    m.dial("100", 0, ani="1")
    assert m.handle(HookChanged(0, 9, True), 500)[0] == Ring(False)
    assert [a.kind for a in m.handle(HookFlash(0, 9), 900)] == ["flash"]  # type: ignore[attr-defined]
    with pytest.raises(LocalProtocolError) as e:
        m.flash(1000)
    assert "channel 9" in str(e.value) and "answered" in str(e.value) and "flash" in str(e.value)
    acts = m.handle(HookChanged(0, 9, False), 2000)
    assert acts[-1].kind == "released" and m.state == "idle"  # type: ignore[attr-defined]


def test_fxs_no_digits_gives_congestion_until_on_hook() -> None:
    m = FxsLoopStart(9, first_digit_ms=10000)
    m.handle(HookChanged(0, 9, True), 0)
    acts = m.on_timeout(10000)
    assert m.state == "lockout" and acts[-1].cause == Cause.INVALID_NUMBER_FORMAT  # type: ignore[attr-defined]
    m.handle(HookChanged(0, 9, False), 12000)
    assert m.state == "idle"
