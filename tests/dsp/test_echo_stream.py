"""Streaming properties of the echo canceller (hypothesis): any split of the input into calls gives
the same output as one call; a bank equals N single cancellers, also in place; a saved state
continues identically; bad arguments and stray state bytes raise errors that name them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccboard.dsp.echo import BLOCK, EchoCanceller, EchoCancellerBank
from ccboard.errors import DSPArgumentError, DSPTypeError
from tests.dsp import g168

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
N = 4000  # 0.5 s
TAPS = 256


def signals(seed: int, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    """CSS far end (random level and start), its echo through a random G.168 path, near-end
    noise and a burst of near-end speech-like noise (double talk): (rin, sin) int16."""
    rng = np.random.default_rng(seed)
    far = np.roll(g168.css(n / g168.FS, float(rng.uniform(-25, -5))), int(rng.integers(0, 5600)))
    h = g168.echo_path(
        g168.MODELS[int(rng.integers(0, 8))], float(rng.uniform(6, 20)), int(rng.integers(0, 100)), TAPS
    )
    sin = g168.echo(far, h) + rng.standard_normal(n) * g168.gain_for(-60)
    a = int(rng.integers(0, n))
    sin[a : a + 800] += rng.standard_normal(min(800, n - a)) * g168.gain_for(-20)
    return g168.to_int16(far), g168.to_int16(sin)


@SETTINGS
@given(seed=st.integers(0, 2**31), cuts=st.lists(st.integers(0, N), max_size=12))
def test_any_split_equals_one_call(seed: int, cuts: list[int]) -> None:
    rin, sin = signals(seed)
    ref = EchoCanceller(TAPS).process(rin, sin)
    ec = EchoCanceller(TAPS)
    bounds = [0, *sorted(cuts), N]
    out = np.concatenate(
        [ec.process(rin[a:b], sin[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    )
    np.testing.assert_array_equal(out, ref)
    assert ec.samples == N


# up to 9 channels: the batch solves its channels' chunk ends 4 at a time (full and partial groups)
@SETTINGS
@given(seed=st.integers(0, 2**31), channels=st.integers(1, 9), chunk=st.sampled_from([1, 5, BLOCK, 24, 160]))
def test_bank_equals_singles(seed: int, channels: int, chunk: int) -> None:
    pairs = [signals(seed + c) for c in range(channels)]
    rin = np.stack([p[0] for p in pairs])
    sin = np.stack([p[1] for p in pairs])
    bank = EchoCancellerBank(channels, TAPS)
    work = sin.copy()
    for a in range(0, N, chunk):
        # in place: out is sin itself, as a board's tick buffer would be
        bank.process(
            np.ascontiguousarray(rin[:, a : a + chunk]), s := np.ascontiguousarray(work[:, a : a + chunk]), s
        )
        work[:, a : a + chunk] = s
    for c in range(channels):
        np.testing.assert_array_equal(work[c], EchoCanceller(TAPS).process(rin[c], sin[c]))
        assert bank.stats(c)["samples"] == N


@SETTINGS
@given(seed=st.integers(0, 2**31), at=st.integers(0, N))
def test_saved_state_continues(seed: int, at: int) -> None:
    rin, sin = signals(seed)
    ec = EchoCanceller(TAPS)
    ref = ec.process(rin, sin)
    first = EchoCanceller(TAPS)
    first.process(rin[:at], sin[:at])
    second = EchoCanceller(TAPS)
    second.set_state(first.get_state())
    np.testing.assert_array_equal(second.process(rin[at:], sin[at:]), ref[at:])
    assert second.stats() == ec.stats()


@SETTINGS
@given(blob=st.binary(max_size=64))
def test_stray_bytes_refused(blob: bytes) -> None:
    with pytest.raises(DSPArgumentError, match="state"):
        EchoCanceller().set_state(blob)


def test_corrupted_state_refused() -> None:
    state = bytearray(EchoCanceller().get_state())
    state[0] ^= 0xFF  # the magic
    with pytest.raises(DSPArgumentError, match="not a saved echo canceller state"):
        EchoCanceller().set_state(bytes(state))
    state = bytearray(EchoCanceller().get_state())
    state[4:8] = np.int32(100).tobytes()  # cfg.taps, right after the magic: not a multiple of 32
    with pytest.raises(DSPArgumentError, match="not a saved echo canceller state"):
        EchoCanceller().set_state(bytes(state))


def test_state_size_within_budget() -> None:
    """At 128 ms a channel's whole state fits 16 KiB (960 channels: 13.1 MiB)."""
    assert len(EchoCanceller(1024).get_state()) <= 16 * 1024


def test_bypass_is_exact() -> None:
    rin, sin = signals(7)
    ec = EchoCanceller(TAPS)
    ec.bypass = True
    np.testing.assert_array_equal(ec.process(rin, sin), sin)
    assert ec.stats()["bypass"]


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"taps": 100}, "taps"), ({"taps": 2048}, "taps"), ({"taps": 512.0}, "taps"), ({"mu": 0.0}, "mu"),
     ({"mu": 1.5}, "mu"), ({"alpha": 2.0}, "alpha"), ({"geigel_db": -1.0}, "geigel_db"),
     ({"sample_rate": 16000}, "sample_rate")],
)  # fmt: skip
def test_bad_settings_named(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(DSPArgumentError, match=name):
        EchoCanceller(**kwargs)  # type: ignore[arg-type]


def test_bad_buffers_named() -> None:
    ec = EchoCanceller(TAPS)
    x = np.zeros(16, np.int16)
    with pytest.raises(DSPTypeError, match="rin"):
        ec.process(x.astype(np.float32), x)
    with pytest.raises(DSPArgumentError, match="sin"):
        ec.process(x, x[:8])
    with pytest.raises(DSPArgumentError, match="out"):
        ec.process(x, x, np.zeros(8, np.int16))
    with pytest.raises(DSPArgumentError, match="out"):
        ec.process(x, x.copy(), x)
    bank = EchoCancellerBank(2, TAPS)
    with pytest.raises(DSPArgumentError, match="rin"):
        bank.process(np.zeros((3, 8), np.int16), np.zeros((3, 8), np.int16))
    with pytest.raises(DSPArgumentError, match="channel"):
        bank.stats(2)
