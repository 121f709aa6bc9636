"""IVR dial-out on an ISDN PRI B-channel (issue 8): a script's call.dial goes out as a Q.931 SETUP
through libpri on the sim's E1 span, the sim's PRI far end (libpri as the network) answers, and the
outgoing leg carries audio both ways: the far party hears our prompt and keys digits that
get_digits collects; our clearing reaches the exchange with its cause."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from ccboard.board import open_board
from ccboard.board.sim import pri_farend
from ccboard.dsp import g711
from ccboard.ivr import IvrCall, IvrError, IvrRunner
from ccboard.signalling.pri import PriStack, spans_of
from tests.ivr.helpers import prompts

CALLED = "5551234"
KEYED = "729"


@dataclass
class Pri:
    """A sim board with one E1 PRI span, the network's far end on it, and our runner."""

    board: Any
    far: pri_farend.PriFarEnd
    seen: dict[str, Any] = field(default_factory=dict)
    loud: dict[int, int] = field(default_factory=dict)  # chanpos -> ticks the far end heard us

    def ear(self, t: int) -> None:
        """The far end's ear on every B-channel: ticks in which our octets were above -40 dBm0."""
        x = g711.alaw_decode(self.board.txl[1:32]).astype(np.int32)
        for pos in np.flatnonzero((x * x).sum(axis=1) > 8 * 230**2):
            self.loud[int(pos) + 1] = self.loud.get(int(pos) + 1, 0) + 1


def make(**far: Any) -> Pri:
    b: Any = open_board("sim://?e1=1&ccs=1&fxo=0&fxs=0")
    p = Pri(b, pri_farend.attach(b, PriStack, **far)[1])
    b.line_taps.append(p.ear)
    return p


def run(p: Pri, script: Any, until_ms: int = 20_000) -> IvrRunner:
    spans = spans_of(p.board)
    inbound = [c for s in spans for c in s.pos_of]
    called = [False]

    def exchange(r: IvrRunner) -> None:
        """The network places one call to us once the D-channels are up, then keys digits on
        the leg we place, 600 ms after it answered."""
        if not called[0] and p.far.up and all(s.state == "up" and not s.restarting for s in spans):
            called[0] = True
            p.far.call("4000", "13800138000")
        for c in p.far.calls.values():
            if c.direction == "in" and c.state == "connected" and "keyed" not in p.seen:
                if r.ms >= c.times["connected"] + 600:
                    p.seen["keyed"] = c.chanpos
                    p.board.far_ends[1].dtmf(c.chanpos, KEYED)

    r = IvrRunner(p.board, script, prompts(), machines={}, inbound=inbound, pri=spans, tick_hooks=[exchange])
    asyncio.run(r.run(until_ms=until_ms, stop=lambda: bool(r.finished)))
    return r


def test_script_dials_out_on_a_pri_b_channel_talks_and_clears() -> None:
    p = make()
    far_calls: list[pri_farend.FarCall] = []

    async def script(call: IvrCall) -> None:
        await call.answer()
        leg = await call.dial(CALLED, span=1, timeout=10.0)
        far_calls.extend(c for c in p.far.calls.values() if c.direction == "in")
        p.seen["leg_channel"] = leg.channel
        p.seen["state_at_answer"] = far_calls[0].state if far_calls else None
        played = await leg.play("menu", barge_in=False)
        p.seen["played_ms"] = played.played_ms
        got = await leg.get_digits(3, "", first_digit_timeout=5.0, inter_digit_timeout=3.0)
        p.seen["digits"] = str(got.digits)
        await leg.hangup()
        await call.sleep(0.5)
        await call.hangup()

    r = run(p, script)
    assert r.stats.failed == 0 and r.stats.completed == 1, r.stats.failures
    inc, out = r.finished[0], far_calls[0]
    # our SETUP: the called number, a B-channel hunted from the top (CPE), not the incoming one's
    assert out.called == CALLED and p.seen["state_at_answer"] == "connected"
    assert p.seen["leg_channel"] == p.board.channel(p.seen["leg_channel"]).chanpos == out.chanpos
    assert out.chanpos == 31 and inc.channel == 1
    # audio both ways on the leg: the exchange heard the prompt, the script got the far party's keys
    assert p.seen["played_ms"] > 1000 and p.loud.get(out.chanpos, 0) > 500
    assert p.seen["keyed"] == out.chanpos and p.seen["digits"] == KEYED
    # our clearing reached the exchange as normal clearing, and the channel is free again
    assert out.state == "released" and out.cause == 16
    assert p.far.state(out.chanpos) == "idle" and not r._outgoing and not r._pri_out


def test_dial_on_a_named_b_channel_and_a_busy_number() -> None:
    p = make()
    p.far.routes["999"] = "busy"

    async def script(call: IvrCall) -> None:
        await call.answer()
        with pytest.raises(IvrError, match=r"released \(cause 17\)"):
            await call.dial("999", span=1, timeout=5.0)
        with pytest.raises(IvrError, match="not a PRI B-channel/span"):
            await call.dial("1", span=7)
        leg = await call.dial("777", channel=5, timeout=5.0)
        p.seen["named"] = leg.channel, p.far.by_pos[5].called
        await leg.hangup()
        await call.hangup()

    r = run(p, script)
    assert r.stats.failed == 0 and r.stats.completed == 1, r.stats.failures
    assert p.seen["named"] == (5, "777")


def test_far_party_clearing_ends_the_leg_only() -> None:
    p = make(answer_ms=100.0)

    async def script(call: IvrCall) -> None:
        await call.answer()
        leg = await call.dial(CALLED, timeout=5.0)  # no line is free: the PRI span is hunted
        pos = p.board.channel(leg.channel).chanpos
        p.board.at(p.board.t / 8 + 300, p.far.hangup, pos)
        await leg.wait_released()
        p.seen["leg_cause"] = leg._core.cause
        await call.sleep(0.2)
        p.seen["caller_still_up"] = not call.released
        await call.hangup()

    r = run(p, script)
    assert r.stats.failed == 0, r.stats.failures
    assert p.seen["leg_cause"] == 16 and p.seen["caller_still_up"]


def test_glare_the_network_moves_our_call_to_another_b_channel() -> None:
    """The exchange seizes B-channel 31 for a call to us just as we dial out (CPE hunting gives us
    31 too): its exclusive SETUP wins the channel, our preferred one is moved to the channel the
    network names in CALL PROCEEDING, and the leg works there."""
    p = make()

    async def script(call: IvrCall) -> None:
        await call.answer()
        if call.dnis != "4000":  # the exchange's second call, the one that won channel 31
            p.seen["glare_call"] = call.channel
            await call.wait_released()
            return
        p.far.call("4001", "1", chanpos=31)
        leg = await call.dial(CALLED, span=1, timeout=5.0)
        p.seen["moved_to"] = leg.channel
        p.seen["far"] = next(c.chanpos for c in p.far.calls.values() if c.called == CALLED)
        played = await leg.play(np.full(800, 6000, np.int16), barge_in=False)
        p.seen["played"] = played.played_ms
        await leg.hangup()
        p.far.hangup(31)
        await call.sleep(0.5)
        await call.hangup()

    r = run(p, script)
    assert r.stats.failed == 0, r.stats.failures
    assert p.seen["glare_call"] == 31
    # our SETUP asked for 31 (the network saw it there) and was moved
    assert (31, CALLED) in [(ch, d) for _, k, ch, d in p.far.log if k == "ring"]
    assert p.seen["moved_to"] == p.seen["far"] != 31
    assert p.seen["played"] == 100 and p.loud.get(p.seen["moved_to"], 0) >= 90
