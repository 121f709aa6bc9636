"""Streaming properties of the MF receiver and generator (hypothesis): any split of the input into
blocks gives the events of one block; a bank equals N single receivers; G.711 octets give the
signals of the linear signal; saved state continues identically; our generators and spandsp's
receivers agree in both directions; bad arguments raise errors naming them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccboard.dsp.mf import (
    BLOCK,
    EVENT_DTYPE,
    OFF,
    ON,
    VARIANTS,
    MfGenerator,
    MfReceiver,
    MfReceiverBank,
    symbols,
)
from tests.dsp import signals as sig
from tests.peers.spandsp_mf import R1_SYMBOLS, R2_SYMBOLS, load

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MODES = ("r1", "r2_fwd", "r2_bwd")


def test_event_layout_has_no_padding() -> None:
    assert BLOCK == 80 and EVENT_DTYPE.itemsize == 40
    assert sum(EVENT_DTYPE[n].itemsize for n in EVENT_DTYPE.names) == EVENT_DTYPE.itemsize


def compelled(mode: str, seed: int, n: int = 6) -> tuple[np.ndarray, list[int], list[tuple[int, int]]]:
    """R2 (start/stop with random lengths) or R1 (queued) signals from our generator, plus noise."""
    rng = np.random.default_rng(seed)
    g = MfGenerator(mode)
    parts = [g.generate(int(rng.integers(0, 500)))]
    sent, bounds, pos = [], [], len(parts[0])
    for _ in range(n):
        s = int(rng.integers(1, 16))
        on = int(rng.integers(sig.ms(70), sig.ms(200)))
        off = int(rng.integers(sig.ms(60), sig.ms(150)))
        base = float(rng.uniform(-30, -6))  # twist within +-2.5 dB of it
        lv = (base + float(rng.uniform(-2.5, 2.5)), base + float(rng.uniform(-2.5, 2.5)))
        g.start(s, level_low_dbm0=lv[0], level_high_dbm0=lv[1])
        if mode == "r1":
            g.stop()
            g.put(
                R1_SYMBOLS[s - 1],
                on_ms=on // 8,
                kp_ms=on // 8,
                off_ms=0,
                level_low_dbm0=lv[0],
                level_high_dbm0=lv[1],
            )
            on = on // 8 * 8
        parts.append(g.generate(on))
        g.stop()
        parts.append(g.generate(off))
        sent.append(s)
        bounds.append((pos, pos + on))
        pos += on + off
    x = np.concatenate(parts + [np.zeros(800, np.int16)]).astype(np.float64)
    return sig.to_int16(x + sig.white_noise(len(x), -50.0, rng)), sent, bounds


def run_split(rx: MfReceiver | MfReceiverBank, x: np.ndarray, sizes: list[int]) -> np.ndarray:
    out, pos, i = [], 0, 0
    while pos < x.shape[-1]:
        k = sizes[i % len(sizes)]
        out.append(rx.process(np.ascontiguousarray(x[..., pos : pos + k])))
        pos += k
        i += 1
    return np.concatenate(out) if out else np.empty(0, EVENT_DTYPE)


@pytest.mark.parametrize("mode", MODES)
def test_generator_round_trip_timestamps(mode: str) -> None:
    """Every signal found once, start/end within 3 ms of the truth, decided within 30-70 ms."""
    x, sent, bounds = compelled(mode, 1, 8)
    ev = MfReceiver(mode).process(x)
    on, off = ev[ev["kind"] == ON], ev[ev["kind"] == OFF]
    assert list(on["signal"]) == sent and list(off["signal"]) == sent
    for (s, e), a, b in zip(bounds, on, off, strict=True):
        assert abs(int(a["start"]) - s) <= 24 and abs(int(b["end"]) - e) <= 24
        assert b["at"] - b["end"] <= sig.ms(40) and a["at"] - a["start"] <= sig.ms(70 if mode == "r1" else 30)


@SETTINGS
@given(
    mode=st.sampled_from(MODES),
    seed=st.integers(0, 2**32 - 1),
    sizes=st.lists(st.integers(1, 400), min_size=1, max_size=6),
)
def test_any_split_equals_one_block(mode: str, seed: int, sizes: list[int]) -> None:
    x, _, _ = compelled(mode, seed, 4)
    one = MfReceiver(mode).process(x)
    assert np.array_equal(run_split(MfReceiver(mode), x, sizes), one)
    assert np.array_equal(run_split(MfReceiver(mode), x, [1]), one) or len(x) > 20000


@SETTINGS
@given(mode=st.sampled_from(MODES), seed=st.integers(0, 2**32 - 1), tick=st.sampled_from([8, 80, 160, 333]))
def test_bank_equals_singles(mode: str, seed: int, tick: int) -> None:
    rows = [compelled(mode, seed + k, 3)[0] for k in range(4)]
    n = min(len(r) for r in rows)
    x = np.stack([r[:n] for r in rows])
    bank = run_split(MfReceiverBank(4, mode), x, [tick])
    singles = []
    for c in range(4):
        ev = MfReceiver(mode, channel=c).process(x[c])
        singles.append(ev)
    want = np.concatenate(singles)
    # the bank interleaves channels per call; compare per channel
    for c in range(4):
        assert np.array_equal(bank[bank["channel"] == c], want[want["channel"] == c])


def test_state_round_trip_and_bad_state() -> None:
    x, _, _ = compelled("r2_bwd", 7, 4)
    a = MfReceiver("r2_bwd")
    ev1 = a.process(x[:3001])
    b = MfReceiver("r2_fwd")
    b.set_state(a.get_state())
    assert b.mode == "r2_bwd"
    assert np.array_equal(a.process(x[3001:]), b.process(x[3001:]))
    assert len(ev1) >= 0
    with pytest.raises(ValueError, match="state"):
        b.set_state(b"\x00" * len(a.get_state()))
    with pytest.raises(ValueError, match="state"):
        b.set_state(b"short")


@SETTINGS
@given(blob=st.binary(min_size=0, max_size=2048))
def test_arbitrary_state_bytes_rejected_clearly(blob: bytes) -> None:
    rx = MfReceiver()
    size = len(rx.get_state())
    data = (blob * (size // max(len(blob), 1) + 1))[:size] if blob else b""
    try:
        rx.set_state(data)
    except ValueError as exc:
        assert "state" in str(exc)


def test_g711_gives_the_linear_signals() -> None:
    x, sent, _ = compelled("r2_fwd", 3, 6)
    assert [int(s) for s in MfReceiver("r2_fwd", "alaw").process(sig.lin2alaw(x))["signal"][::2]] == sent
    assert [int(s) for s in MfReceiver("r2_fwd", "ulaw").process(sig.lin2ulaw(x))["signal"][::2]] == sent


def test_generator_compelled_start_stop_exact() -> None:
    g = MfGenerator("r2_fwd", variant="r2_china")
    assert g.generate(10).any() is np.False_
    g.start(5)
    y = g.generate(1000)
    assert g.current == 5 and np.abs(y).max() > 0 and y[0] == 0  # phase 0 start
    g.stop()
    assert not g.generate(100).any() and g.current == 0
    # level of each tone = the China row
    lo = sig.power_dbm0(y) - 10 * np.log10(2)
    assert abs(lo - VARIANTS["r2_china"]["level_dbm0"]) < 0.1
    with pytest.raises(ValueError, match="variant"):
        MfGenerator("r1", variant="r2_itu")
    g.start(3)
    with pytest.raises(ValueError, match="stop"):
        g.put("1")


def test_generator_r1_timing() -> None:
    """KP 100 ms, others 68 ms, 68 ms gaps, exact to the sample."""
    g = MfGenerator("r1")
    g.put("*12#")
    y = g.generate(8000)
    idx = np.flatnonzero(y)
    cut = np.flatnonzero(np.diff(idx) > 10)  # a sine passes 0 now and then; gaps are 544 samples
    runs = [(int(a[0]), int(a[-1]) + 1) for a in np.split(idx, cut + 1)]
    lengths = [b - a for a, b in runs]
    assert [abs(n - want) <= 2 for n, want in zip(lengths, [800, 544, 544, 544], strict=True)] == [True] * 4
    assert all(abs((runs[k + 1][0] - runs[k][1]) - 544) <= 2 for k in range(3))
    with pytest.raises(ValueError, match="index 0"):
        g.put("Z")


def test_bad_arguments_name_themselves() -> None:
    with pytest.raises(ValueError, match="mode"):
        MfReceiver("r3")
    with pytest.raises(ValueError, match="twist_db"):
        MfReceiver("r1", twist_db=99.0)
    with pytest.raises(ValueError, match="x"):
        MfReceiverBank(2).process(np.zeros((3, 8), np.int16))
    with pytest.raises(ValueError, match="signal"):
        MfGenerator().start(16)


# ---- peers, both directions


@pytest.mark.parametrize("fwd", [True, False])
def test_spandsp_r2_generator_feeds_ours(fwd: bool) -> None:
    peer = load()
    items = [(s, 800 + 13 * s, 700) for s in range(1, 16)]
    x = np.concatenate([np.zeros(333, np.int16), peer.r2_tx(fwd, items)])
    ev = MfReceiver("r2_fwd" if fwd else "r2_bwd").process(x)
    assert list(ev["signal"][ev["kind"] == ON]) == list(range(1, 16))
    assert list(ev["signal"][ev["kind"] == OFF]) == list(range(1, 16))


@pytest.mark.parametrize("fwd", [True, False])
def test_ours_feeds_spandsp_r2_receiver(fwd: bool) -> None:
    peer = load()
    g = MfGenerator("r2_fwd" if fwd else "r2_bwd")
    parts = []
    for s in range(1, 16):
        g.start(s)
        parts.append(g.generate(800))
        g.stop()
        parts.append(g.generate(700))
    got = peer.r2_rx(fwd, np.concatenate(parts))
    assert [c for c, _ in got if c] == list(range(1, 16))
    assert [c for c, _ in got] == [v for s in range(1, 16) for v in (s, 0)]


def test_r1_peers_both_directions() -> None:
    peer = load()
    msg = "*1234567890#" + "ABC"
    ours_rx = MfReceiver("r1").process(peer.bell_tx(msg))
    assert symbols(ours_rx) == msg
    g = MfGenerator("r1")
    g.put(msg)
    assert "".join(d for d, _ in peer.bell_rx(g.generate(20000))) == msg


def test_r2_symbols_match_spandsp() -> None:
    assert R2_SYMBOLS == "1234567890BCDEF"
    x, sent, _ = compelled("r2_fwd", 9, 5)
    assert symbols(MfReceiver("r2_fwd").process(x)) == "".join(R2_SYMBOLS[s - 1] for s in sent)
