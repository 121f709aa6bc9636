"""The native far-end line mixer (ccboard.dsp.farmix) against a numpy model of its contract.

Model (from farmix.pyi, not from the C): at tick t, row r sends law_r(sat16(far[r] + (tx_r[t -
delay_r] * q15_r) >> 15)), where tx_r[k] is what put_tx gave row r at tick k (when not given:
what the ring held, tx_r[k - hist_ticks], silence at first) and >> is an arithmetic shift; G.711
coding is ccboard.dsp.g711's.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccboard.dsp import farmix, g711
from ccboard.errors import DSPArgumentError


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(1, 80),
    hist=st.integers(2, 20),
    ticks=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_mixer_is_the_integer_model(rows: int, hist: int, ticks: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    laws = ["alaw" if v else "ulaw" for v in rng.integers(0, 2, rows)]
    q15 = rng.integers(0, farmix.Q15_ONE + 1, rows).astype(np.int32)
    q15[rng.random(rows) < 0.3] = 0
    delay = rng.integers(1, hist, rows)
    m = farmix.FarMixer(laws, hist)
    m.set_echo(q15, delay)
    log = np.zeros((ticks, rows, 8), np.int64)
    out = np.empty((rows, 8), np.uint8)
    for t in range(ticks):
        far = rng.integers(-32768, 32768, (rows, 8)).astype(np.int16)
        given_rows = np.nonzero(rng.random(rows) < 0.7)[0].astype(np.int64)
        tx = rng.integers(-32768, 32768, (given_rows.size, 8)).astype(np.int16)
        if t >= hist:  # a row not given keeps what its slot of the ring held, hist ticks ago
            log[t] = log[t - hist]
        if t % 3 != 2:  # some ticks give no tx at all
            m.put_tx(tx, given_rows)
            log[t, given_rows] = tx
        m.process(far, out)
        echo = np.zeros((rows, 8), np.int64)
        back = t - delay
        ok = back >= 0
        echo[ok] = log[back[ok], np.nonzero(ok)[0]]
        want16 = np.clip(far.astype(np.int64) + ((echo * q15[:, None]) >> 15), -32768, 32767).astype(np.int16)
        for r in range(rows):
            enc = g711.alaw_encode if laws[r] == "alaw" else g711.ulaw_encode
            assert np.array_equal(out[r], enc(want16[r])), (t, r)
    assert m.ticks == ticks


def test_a_saved_state_continues_identically() -> None:
    rng = np.random.default_rng(3)
    a = farmix.FarMixer(["alaw", "ulaw", "alaw"], 8)
    a.set_echo(np.array([30000, 0, 12000]), np.array([1, 3, 7]))
    rows = np.arange(3, dtype=np.int64)
    out_a = np.empty((3, 8), np.uint8)
    out_b = np.empty((3, 8), np.uint8)
    for _ in range(10):
        a.put_tx(rng.integers(-9000, 9000, (3, 8)).astype(np.int16), rows)
        a.process(rng.integers(-9000, 9000, (3, 8)).astype(np.int16), out_a)
    b = farmix.FarMixer(["alaw", "ulaw", "alaw"], 8)
    b.set_state(a.get_state())
    for _ in range(10):
        tx = rng.integers(-9000, 9000, (3, 8)).astype(np.int16)
        far = rng.integers(-9000, 9000, (3, 8)).astype(np.int16)
        for m, o in ((a, out_a), (b, out_b)):
            m.put_tx(tx, rows)
            m.process(far, o)
        assert np.array_equal(out_a, out_b)


def test_bad_arguments_name_the_argument() -> None:
    with pytest.raises(DSPArgumentError, match="laws: 'linear' at row 1"):
        farmix.FarMixer(["alaw", "linear"])
    m = farmix.FarMixer(["alaw", "ulaw"], 4)
    with pytest.raises(DSPArgumentError, match="delay: row 1"):
        m.set_echo(np.array([1, 2]), np.array([1, 4]))
    with pytest.raises(DSPArgumentError, match="q15: row 0"):
        m.set_echo(np.array([-1, 2]), np.array([1, 1]))
    with pytest.raises(DSPArgumentError, match="far: expected a packed"):
        m.process(np.zeros((3, 8), np.int16), np.zeros((2, 8), np.uint8))
    with pytest.raises(DSPArgumentError, match="out: must be writable"):
        ro = np.zeros((2, 8), np.uint8)
        ro.flags.writeable = False
        m.process(np.zeros((2, 8), np.int16), ro)
    with pytest.raises(DSPArgumentError, match="put_tx"):
        m.put_tx(np.zeros((1, 8), np.int16), np.array([5], np.int64))
    with pytest.raises(DSPArgumentError, match="state"):
        m.set_state(b"junk")
