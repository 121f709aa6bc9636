"""Streaming properties of the DTMF receiver (hypothesis): any split of the input into blocks gives
the same events as one block; a bank equals N single receivers; G.711 octets give the digits of
the linear signal; saved state continues identically; bad arguments raise errors naming them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccboard.dsp.dtmf import BLOCK, EVENT_DTYPE, ON, DtmfGenerator, DtmfReceiver, DtmfReceiverBank, digits
from tests.dsp import signals as sig

SIZE = len(DtmfReceiver().get_state())
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_event_layout_has_no_padding() -> None:
    """Every byte of the C event is a named field, so numpy keeps the dtype through concatenate."""
    assert BLOCK == 80 and EVENT_DTYPE.itemsize == 40
    assert sum(EVENT_DTYPE[name].itemsize for name in EVENT_DTYPE.names) == EVENT_DTYPE.itemsize
    ev = DtmfReceiver().process(DtmfGenerator().generate(0))
    assert np.concatenate([ev, ev]).dtype == EVENT_DTYPE


def make_signal(seed: int, n_digits: int = 6, noise_dbm0: float = -45.0) -> tuple[np.ndarray, str]:
    """Random digits with random timings (some near the 40 ms limits), levels and noise, int16."""
    rng = np.random.default_rng(seed)
    parts = [np.zeros(int(rng.integers(0, 500)))]
    sent = ""
    for _ in range(n_digits):
        d = sig.DIGITS[int(rng.integers(0, 16))]
        on = int(rng.integers(sig.ms(30), sig.ms(90)))
        parts.append(
            sig.tone_pair(
                d,
                0,
                n=on,
                level_low_dbm0=float(rng.uniform(-30, -5)),
                level_high_dbm0=float(rng.uniform(-30, -5)),
                rng=rng,
            )
        )
        parts.append(np.zeros(int(rng.integers(sig.ms(20), sig.ms(80)))))
        sent += d
    x = np.concatenate(parts + [np.zeros(800)])
    return sig.to_int16(x + sig.white_noise(len(x), noise_dbm0, rng)), sent


def cat(parts: list[np.ndarray]) -> np.ndarray:
    """Concatenate event arrays keeping EVENT_DTYPE (np.concatenate would drop its padding)."""
    out = np.zeros(sum(len(p) for p in parts), EVENT_DTYPE)
    pos = 0
    for p in parts:
        out[pos : pos + len(p)] = p
        pos += len(p)
    return out


def run_split(rx: DtmfReceiver | DtmfReceiverBank, x: np.ndarray, sizes: list[int]) -> np.ndarray:
    """Feed x (last axis = samples) cut at the given block sizes (cycled); concatenated events."""
    out, pos, i = [], 0, 0
    n = x.shape[-1]
    while pos < n:
        k = sizes[i % len(sizes)]
        out.append(rx.process(np.ascontiguousarray(x[..., pos : pos + k])))
        pos += k
        i += 1
    return cat(out)


def one_block(x: np.ndarray, law: str = "linear") -> np.ndarray:
    return DtmfReceiver(law).process(x)  # type: ignore[arg-type]


def test_one_block_finds_the_digits() -> None:
    x, _ = sig.digit_sequence("0123456789*#ABCD", 50, 50, rng=np.random.default_rng(1))
    ev = one_block(sig.to_int16(x))
    assert digits(ev) == "0123456789*#ABCD"
    assert ev.dtype == EVENT_DTYPE


@pytest.mark.parametrize("size", [1, 8, 79, 80, 81, 160])
def test_fixed_splits_equal_one_block(size: int) -> None:
    x, _ = make_signal(3)
    whole = one_block(x)
    assert len(whole) > 0
    split = run_split(DtmfReceiver(), x, [size])
    assert split.dtype == whole.dtype and np.array_equal(split, whole)


@SETTINGS
@given(seed=st.integers(0, 2**31), sizes=st.lists(st.integers(0, 700), min_size=1, max_size=20).filter(any))
def test_random_splits_equal_one_block(seed: int, sizes: list[int]) -> None:
    x, _ = make_signal(seed)
    sizes = [s for s in sizes if s > 0]
    assert np.array_equal(run_split(DtmfReceiver(), x, sizes), one_block(x))


@SETTINGS
@given(seed=st.integers(0, 2**31), sizes=st.lists(st.integers(1, 400), min_size=1, max_size=10))
def test_empty_blocks_change_nothing(seed: int, sizes: list[int]) -> None:
    x, _ = make_signal(seed, 3)
    rx = DtmfReceiver()
    out, pos = [], 0
    for k in sizes * 50:
        out.append(rx.process(x[pos : pos + k]))
        out.append(rx.process(x[:0]))
        pos += k
        if pos >= len(x):
            break
    out.append(rx.process(x[pos:]))
    assert np.array_equal(cat(out), one_block(x))
    assert rx.samples == len(x)


@SETTINGS
@given(
    seed=st.integers(0, 2**31),
    channels=st.integers(1, 9),
    sizes=st.lists(st.integers(1, 300), min_size=1, max_size=8),
)
def test_bank_equals_single_receivers(seed: int, channels: int, sizes: list[int]) -> None:
    sigs = [make_signal(seed + c, 4)[0] for c in range(channels)]
    n = min(len(s) for s in sigs)
    x = np.stack([s[:n] for s in sigs])
    singles = [DtmfReceiver(channel=c).process(np.ascontiguousarray(x[c])) for c in range(channels)]
    whole = DtmfReceiverBank(channels).process(x)
    assert np.array_equal(whole, cat(singles)), "one call: events by channel"
    split = run_split(DtmfReceiverBank(channels), x, sizes)
    for c in range(channels):
        assert np.array_equal(split[split["channel"] == c], singles[c])


def test_bank_channel_ids_and_strided_rows() -> None:
    x, _ = make_signal(11, 4)
    big = np.zeros((3, len(x) + 40), np.int16)
    big[1, 17 : 17 + len(x)] = x
    view = big[:, 17 : 17 + len(x)]  # rows contiguous, row stride > row length
    bank = DtmfReceiverBank(3, channel_ids=[100, 200, 300])
    ev = bank.process(view)
    ref = DtmfReceiver(channel=200).process(x)
    assert np.array_equal(ev, ref)
    assert set(ev["channel"]) == {200}


@pytest.mark.parametrize("law", ["alaw", "ulaw"])
@pytest.mark.parametrize("seed", range(6))
def test_g711_input_same_digits(law: str, seed: int) -> None:
    x, sent = make_signal(100 + seed, 8, noise_dbm0=-50.0)
    lin = one_block(x)
    octets = sig.lin2alaw(x) if law == "alaw" else sig.lin2ulaw(x)
    g = one_block(octets, law)
    assert digits(g) == digits(lin)
    on_l, on_g = lin[lin["kind"] == ON], g[g["kind"] == ON]
    assert np.all(np.abs(on_l["start"] - on_g["start"]) <= BLOCK)
    bank = DtmfReceiverBank(2, law).process(np.stack([octets, octets]))
    assert digits(bank[bank["channel"] == 1]) == digits(lin)


@SETTINGS
@given(seed=st.integers(0, 2**31), cut=st.integers(0, 4000))
def test_state_round_trip_continues_identically(seed: int, cut: int) -> None:
    x, _ = make_signal(seed, 4)
    cut = min(cut, len(x))
    rx = DtmfReceiver()
    first = rx.process(x[:cut])
    state = rx.get_state()
    assert isinstance(state, bytes)
    other = DtmfReceiver()
    other.process(make_signal(seed + 1, 2)[0])  # some unrelated history, overwritten by set_state
    other.set_state(state)
    assert other.samples == rx.samples == cut and other.current == rx.current
    rest_a = rx.process(x[cut:])
    rest_b = other.process(x[cut:])
    assert np.array_equal(rest_a, rest_b)
    assert np.array_equal(cat([first, rest_b]), one_block(x))


def test_reset_starts_over() -> None:
    x, _ = make_signal(5, 4)
    rx = DtmfReceiver()
    rx.process(x[:1234])
    rx.reset()
    assert rx.samples == 0 and rx.current == ""
    assert np.array_equal(rx.process(x), one_block(x))


# ---------------------------------------------------------------- bad input


def test_wrong_dtype_names_x() -> None:
    with pytest.raises(TypeError, match=r"\bx\b"):
        DtmfReceiver().process(np.zeros(80, np.float32))
    with pytest.raises(TypeError, match=r"\bx\b"):
        DtmfReceiver().process(np.zeros(80, np.uint8))  # octets to a linear receiver
    with pytest.raises(TypeError, match=r"\bx\b"):
        DtmfReceiver("alaw").process(np.zeros(80, np.int16))
    with pytest.raises(TypeError, match=r"\bx\b"):
        DtmfReceiver().process([0] * 80)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"\bx\b"):
        DtmfReceiverBank(2).process(np.zeros((2, 80), np.int32))


def test_wrong_shape_names_x() -> None:
    with pytest.raises(ValueError, match=r"\bx\b"):
        DtmfReceiver().process(np.zeros((2, 80), np.int16))
    with pytest.raises(ValueError, match=r"\bx\b"):
        DtmfReceiver().process(np.zeros(160, np.int16)[::2])  # not contiguous
    with pytest.raises(ValueError, match=r"\bx\b"):
        DtmfReceiverBank(4).process(np.zeros((3, 80), np.int16))
    with pytest.raises(ValueError, match=r"\bx\b"):
        DtmfReceiverBank(4).process(np.zeros(80, np.int16))
    with pytest.raises(ValueError, match=r"\bx\b"):
        DtmfReceiverBank(2).process(np.zeros((2, 160), np.int16)[:, ::2])


def test_bad_settings_name_the_argument() -> None:
    with pytest.raises(ValueError, match="sample_rate"):
        DtmfReceiver(sample_rate=16000)
    with pytest.raises(ValueError, match="sample_rate"):
        DtmfReceiverBank(2, sample_rate=16000)
    with pytest.raises(ValueError, match="sample_rate"):
        DtmfGenerator(sample_rate=16000)
    with pytest.raises(ValueError, match="law"):
        DtmfReceiver("slinear")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="law"):
        DtmfReceiverBank(2, "mulaw")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="channels"):
        DtmfReceiverBank(0)
    with pytest.raises(ValueError, match="channel_ids"):
        DtmfReceiverBank(3, channel_ids=[1, 2])
    with pytest.raises(ValueError, match="channel"):
        DtmfReceiverBank(3).reset(3)
    with pytest.raises(ValueError, match="channel"):
        DtmfReceiverBank(3).current(-1)


@pytest.mark.parametrize("bad", ["12X4", "e", "1 2", "٣"])
def test_generator_bad_digit_named_and_nothing_queued(bad: str) -> None:
    gen = DtmfGenerator()
    culprit = next(c for c in bad if c not in sig.DIGITS)
    with pytest.raises(ValueError, match=repr(culprit)[1:-1]):
        gen.put(bad)
    assert gen.pending == 0
    assert not np.any(gen.generate(800))


def test_generator_bad_times_and_levels_named() -> None:
    gen = DtmfGenerator()
    with pytest.raises(ValueError, match="on_ms"):
        gen.put("1", on_ms=-5)
    with pytest.raises(ValueError, match="off_ms"):
        gen.put("1", off_ms=-1)
    with pytest.raises(ValueError, match="level_low_dbm0"):
        gen.put("1", level_low_dbm0=20.0)
    with pytest.raises(TypeError, match="out"):
        gen.generate(10, out=np.zeros(10, np.float64))
    assert gen.pending == 0


def test_set_state_rejects_bad_state() -> None:
    rx = DtmfReceiver()
    good = rx.get_state()
    with pytest.raises(ValueError, match="state"):
        rx.set_state(good[:-1])
    with pytest.raises(ValueError, match="state"):
        rx.set_state(b"")
    with pytest.raises((TypeError, ValueError), match="state"):
        rx.set_state("not bytes")  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(
    blob=st.one_of(
        st.binary(max_size=4096), st.integers(0, 2**31).map(lambda k: np.random.default_rng(k).bytes(SIZE))
    )
)
def test_arbitrary_bytes_to_set_state_give_value_error(blob: bytes) -> None:
    with pytest.raises(ValueError, match="state"):
        DtmfReceiver().set_state(blob)


@settings(max_examples=200, deadline=None)
@given(pos=st.integers(0, 10**6), value=st.integers(0, 255))
def test_corrupted_state_is_refused_or_runs_sanely(pos: int, value: int) -> None:
    rx = DtmfReceiver()
    x, _ = make_signal(9, 2)
    rx.process(x[:1000])
    blob = bytearray(rx.get_state())
    blob[pos % len(blob)] = value
    other = DtmfReceiver()
    try:
        other.set_state(bytes(blob))
    except ValueError as e:
        assert "state" in str(e)
        return
    ev = other.process(x[1000:])  # accepted: it must carry on without crashing, events well formed
    assert other.samples >= len(x) - 1000
    assert set(ev["kind"]) <= {1, 2} and all(d in sig.DIGITS.encode() for d in ev["digit"])
