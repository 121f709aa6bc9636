"""MFC/R2 through MF dropouts: a transmitter that stalls (its driver out of buffers on a loaded
host) cuts a signal for tens of ms in the middle; the compelled cycle must still take it as one
signal (R2Channel holds an end back for the variant's mf_threshold), on both registers, in
virtual time through the real MF generator and receiver kernels (tests/signalling/helpers.Net)."""

from __future__ import annotations

from collections import deque
from dataclasses import replace

import numpy as np
import pytest

from ccboard.signalling.r2 import R2Channel, variant
from ccboard.signalling.r2.variants import R2Variant
from tests.signalling.helpers import Net

STEP_MS = 5
LATENCY_MS = 40  # each way
CUT_AFTER_MS = 60  # into each signal: the far receiver has reported it by then
DNIS, ANI = "5678", "7654321"


class CutNet(Net):
    """A Net with LATENCY_MS of audio delay each way (driver buffers, as in the DAHDI VM), whose
    side `side` goes silent for `cut_ms` in the middle of every MF signal it sends."""

    def __init__(self, side: int, cut_ms: int) -> None:
        super().__init__(step_ms=STEP_MS)
        self.side, self.cut_ms = side, cut_ms
        self.on_ms = 0  # how long the side's current signal has sounded
        self.cuts = 0
        silence = np.zeros(self.n, np.int16)
        self.line = [deque([silence] * (LATENCY_MS // STEP_MS)) for _ in (0, 1)]

    def step(self) -> None:
        super().step()
        d = self.sides[self.side][1]
        sounding = d.mf_gen is not None and d.mf_gen.current != 0
        self.on_ms = self.on_ms + STEP_MS if sounding else 0
        if CUT_AFTER_MS < self.on_ms <= CUT_AFTER_MS + self.cut_ms:
            self.prev[self.side][1][:] = 0  # the block just sent
            self.cuts += self.on_ms == CUT_AFTER_MS + STEP_MS
        for side in (0, 1):  # what each side sent reaches the other LATENCY_MS later
            self.line[side].append(self.prev[side][1].copy())
            self.prev[side][1][:] = self.line[side].popleft()


def _call(v: R2Variant, side: int, cut_ms: int) -> tuple[str, str, CutNet]:
    net = CutNet(side, cut_ms)
    a, b = net.add_pair(
        1, R2Channel(v, "A"), R2Channel(v, "B"), mf_variant="r2_china" if v.name == "cn" else "r2_itu"
    )
    ani = "1234567890" if v.force_max_ani else ANI
    a.do("dial", 0, DNIS, ani=ani, category="national_subscriber")
    net.run_until(lambda: "offered" in net.kinds(1) or "released" in net.kinds(1), 30000)
    call = net.last(1, "offered").call
    return call.dnis, call.ani, net


@pytest.mark.parametrize("name", ["itu", "cn"])
@pytest.mark.parametrize("side", [0, 1], ids=["forward-cut", "backward-cut"])
@pytest.mark.parametrize("cut_ms", [10, 20, 30])  # mf_threshold is 40
def test_a_dropout_in_a_signal_is_one_signal(name: str, side: int, cut_ms: int) -> None:
    v = variant(name)
    dnis, ani, net = _call(v, side, cut_ms)
    want_ani = "1234567890" if v.force_max_ani else ANI
    assert (dnis, ani) == (DNIS, want_ani)
    assert net.cuts >= 4  # every signal of that side was cut


def test_without_the_hold_a_dropout_repeats_or_drops_a_signal() -> None:
    """The same exchange with mf_threshold 0: the cut is taken as an end (so the hold matters)."""
    v = variant("itu")
    v0 = replace(v, timers=replace(v.timers, mf_threshold=0))
    results = set()
    for side in (0, 1):
        try:
            dnis, ani, _ = _call(v0, side, 30)
            results.add((dnis, ani))
        except AssertionError:
            results.add(("no call", ""))
    assert results != {(DNIS, ANI)}
