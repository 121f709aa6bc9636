"""TDM switch: random connection graphs against a numpy model of the switch, sample by sample.

The model (`Model`) is written from the contract in tdm.pyi, not from the C: output at sample t
of destination d is its source's input at t - chunk (the law's idle code before the stream
began), moved as octets, transcoded, decoded/encoded or scaled in float32; changes queued at
sample p take effect at the first chunk boundary >= p; a gain change on a kept connection ramps
linearly across that chunk. Everything else carries the idle code: nothing lands elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccboard.dsp import g711, tdm
from ccboard.errors import DSPArgumentError, DSPTypeError

LAWS = ("linear", "alaw", "ulaw")
IDLE = {"linear": 0, "alaw": 0xD5, "ulaw": 0xFF}
F32 = np.float32


def decode(law: str, x: npt.NDArray[np.uint8]) -> npt.NDArray[np.int16]:
    return (
        g711.alaw_decode(np.ascontiguousarray(x))
        if law == "alaw"
        else g711.ulaw_decode(np.ascontiguousarray(x))
    )


def encode(law: str, x: npt.NDArray[np.int16]) -> npt.NDArray[np.uint8]:
    return (
        g711.alaw_encode(np.ascontiguousarray(x))
        if law == "alaw"
        else g711.ulaw_encode(np.ascontiguousarray(x))
    )


@dataclass
class Model:
    """What the switch must output, from the documented rules alone."""

    laws: list[str]
    chunk: int
    src: list[int] = field(default_factory=list)
    g0: list[float] = field(default_factory=list)
    g1: list[float] = field(default_factory=list)
    next_src: list[int] = field(default_factory=list)
    next_gain: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.laws)
        self.src, self.next_src = [-1] * n, [-1] * n
        self.g0, self.g1, self.next_gain = [1.0] * n, [1.0] * n, [1.0] * n

    def connect(self, s: int, d: int, db: float) -> None:
        self.next_src[d], self.next_gain[d] = s, tdm.gain_factor(db)

    def disconnect(self, d: int) -> None:
        self.next_src[d], self.next_gain[d] = -1, 1.0

    def set_gain(self, d: int, db: float) -> None:
        self.next_gain[d] = tdm.gain_factor(db)

    def boundary(self) -> None:
        for d in range(len(self.laws)):
            if self.next_src[d] != self.src[d]:
                self.src[d] = self.next_src[d]
                self.g0[d] = self.g1[d] = self.next_gain[d]
            elif self.src[d] >= 0 and self.next_gain[d] != self.g1[d]:
                self.g0[d], self.g1[d] = self.g1[d], self.next_gain[d]
            else:
                self.g0[d] = self.g1[d]

    def chunk_out(
        self, d: int, xin8: npt.NDArray[np.uint8], xin16: npt.NDArray[np.int16], t0: int
    ) -> npt.NDArray[np.int64]:
        """Destination d's samples for the chunk starting at t0; x arrays are prefixed by one idle chunk."""
        c, ld, s = self.chunk, self.laws[d], self.src[d]
        if s < 0:
            return np.full(c, IDLE[ld], dtype=np.int64)
        ls = self.laws[s]
        if ls == "linear":
            lin = xin16[s, t0 : t0 + c]
        else:
            oct_ = xin8[s, t0 : t0 + c]
            if self.g0[d] == 1.0 and self.g1[d] == 1.0 and ld == ls:
                return oct_.astype(np.int64)
            if self.g0[d] == 1.0 and self.g1[d] == 1.0 and ld != "linear":
                return (
                    g711.alaw_to_ulaw(oct_.copy()) if ls == "alaw" else g711.ulaw_to_alaw(oct_.copy())
                ).astype(np.int64)
            lin = decode(ls, oct_)
        if self.g0[d] != 1.0 or self.g1[d] != 1.0:
            step = (F32(self.g1[d]) - F32(self.g0[d])) / F32(c)
            g = F32(self.g0[d]) + step * np.arange(1, c + 1, dtype=F32)
            y = np.clip(lin.astype(F32) * g, F32(-32768), F32(32767))
            lin = np.rint(y).astype(np.int16)
        if ld == "linear":
            return lin.astype(np.int64)
        return encode(ld, lin.astype(np.int16)).astype(np.int64)


def run_model(
    laws: list[str],
    chunk: int,
    x8: npt.NDArray[np.uint8],
    x16: npt.NDArray[np.int16],
    changes: dict[int, list[tuple[str, int, int, float]]],
) -> npt.NDArray[np.int64]:
    """The expected output of every slot (as int64: octets or linear by the slot's law)."""
    m = Model(laws, chunk)
    nslots, n = x16.shape
    idle8 = np.array([IDLE[law] for law in laws], dtype=np.uint8)[:, None].repeat(chunk, 1)
    xin8 = np.concatenate([idle8, x8], axis=1)
    xin16 = np.concatenate([np.zeros((nslots, chunk), np.int16), x16], axis=1)
    out = np.zeros((nslots, n), dtype=np.int64)
    ops = {"connect": m.connect, "disconnect": m.disconnect, "set_gain": m.set_gain}
    # a change queued at sample p applies at the first boundary >= p
    due: dict[int, list[tuple[str, int, int, float]]] = {}
    for p, batch in sorted(changes.items()):
        due.setdefault(-(-p // chunk) * chunk, []).extend(batch)
    for t0 in range(0, n, chunk):
        for op, s, d, db in due.get(t0, []):
            if op == "connect":
                m.connect(s, d, db)
            elif op == "disconnect":
                m.disconnect(d)
            else:
                ops[op](d, db)  # type: ignore[operator]
        m.boundary()
        for d in range(nslots):
            out[d, t0 : t0 + chunk] = m.chunk_out(d, xin8, xin16, t0)[: n - t0]
    return out


def run_switch(
    laws: list[str],
    chunk: int,
    x8: npt.NDArray[np.uint8],
    x16: npt.NDArray[np.int16],
    changes: dict[int, list[tuple[str, int, int, float]]],
    cuts: list[int],
) -> npt.NDArray[np.int64]:
    """The switch fed in blocks cut at `cuts` and at every change position."""
    sw = tdm.TdmSwitch(laws, chunk)
    n = x16.shape[1]
    bounds = sorted({0, n, *[c for c in cuts if 0 < c < n], *[p for p in changes if 0 < p < n]})
    y8 = np.zeros_like(x8)
    y16 = np.zeros_like(x16)
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        for op, s, d, db in changes.get(a, []):
            if op == "connect":
                sw.connect(s, d, db)
            elif op == "disconnect":
                sw.disconnect(d)
            elif sw.source(d, pending=True) is not None:
                sw.set_gain(d, db)
        sw.process(x8[:, a:b], x16[:, a:b], out_octets=y8[:, a:b], out_linear=y16[:, a:b])
    g = np.array([law != "linear" for law in laws])[:, None]
    return np.where(g, y8.astype(np.int64), y16.astype(np.int64))


@st.composite
def scenarios(
    draw: st.DrawFn,
) -> tuple[list[str], int, int, dict[int, list[tuple[str, int, int, float]]], list[int], int]:
    slots = draw(st.integers(1, 10))
    laws = draw(st.lists(st.sampled_from(LAWS), min_size=slots, max_size=slots))
    chunk = draw(st.integers(1, 12))
    n = draw(st.integers(1, 8 * chunk + 20))
    op = st.tuples(
        st.sampled_from(["connect", "connect", "disconnect", "set_gain"]),
        st.integers(0, slots - 1),
        st.integers(0, slots - 1),
        st.sampled_from([0.0, 0.0, -6.0, 3.5, -20.0, 12.0]),
    )
    changes = draw(st.dictionaries(st.integers(0, n - 1), st.lists(op, min_size=1, max_size=4), max_size=6))
    cuts = draw(st.lists(st.integers(1, max(1, n - 1)), max_size=5))
    seed = draw(st.integers(0, 2**32 - 1))
    return laws, chunk, n, changes, cuts, seed


def _inputs(slots: int, n: int, seed: int) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int16]]:
    rng = np.random.default_rng(seed)
    x8 = rng.integers(0, 256, (slots, n), dtype=np.uint8)
    # full-scale linear, so +dB gains saturate
    x16 = rng.integers(-32768, 32768, (slots, n), dtype=np.int16)
    return x8, x16


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_random_graphs_every_sample_lands_where_the_map_says(
    sc: tuple[list[str], int, int, dict[int, list[tuple[str, int, int, float]]], list[int], int],
) -> None:
    laws, chunk, n, changes, cuts, seed = sc
    # set_gain on a destination without a (pending) connection is refused by the switch; the
    # model mirrors that by dropping it, tracked here on the pending map
    pending = [-1] * len(laws)
    kept: dict[int, list[tuple[str, int, int, float]]] = {}
    for p in sorted(changes):
        for op, s, d, db in changes[p]:
            if op == "set_gain" and pending[d] < 0:
                continue
            pending[d] = s if op == "connect" else (-1 if op == "disconnect" else pending[d])
            kept.setdefault(p, []).append((op, s, d, db))
    x8, x16 = _inputs(len(laws), n, seed)
    want = run_model(laws, chunk, x8, x16, kept)
    got = run_switch(laws, chunk, x8, x16, kept, cuts)
    bad = np.argwhere(want != got)
    assert bad.size == 0, (
        f"mismatch at (slot, sample) {tuple(bad[0])}: got {got[tuple(bad[0])]}, want {want[tuple(bad[0])]}"
    )


def test_latency_is_exactly_one_chunk() -> None:
    """An impulse on slot 0 appears on slot 1 exactly `chunk` samples later, for several chunks."""
    for chunk in (1, 8, 80):
        sw = tdm.TdmSwitch(["linear", "linear"], chunk)
        sw.connect(0, 1)
        x = np.zeros((2, 4 * chunk), np.int16)
        x[0, chunk + 3 % chunk] = 1000
        _, y = sw.process(None, x)
        assert y is not None
        assert np.flatnonzero(y[1]).tolist() == [chunk + 3 % chunk + chunk]
        assert not y[0].any()


def test_change_mid_chunk_takes_effect_at_the_next_boundary() -> None:
    sw = tdm.TdmSwitch(["alaw"] * 3, 8)
    x = np.arange(3 * 40, dtype=np.uint8).reshape(3, 40)
    out = np.empty_like(x)
    sw.process(x[:, :13], out_octets=out[:, :13])
    sw.connect(0, 2)
    assert sw.source(2) is None and sw.source(2, pending=True) == 0 and sw.pending == 1
    sw.process(x[:, 13:], out_octets=out[:, 13:])
    assert (out[2, :16] == 0xD5).all()
    assert (out[2, 16:] == x[0, 8:32]).all()  # octets moved untouched, one chunk late
    assert sw.connections == 1 and sw.pending == 0


def test_two_way_and_disconnect() -> None:
    sw = tdm.TdmSwitch(["ulaw", "alaw", "linear"], 8)
    sw.connect(0, 1, two_way=True)
    assert sw.routes(pending=True).tolist() == [1, 0, -1]
    sw.process(np.zeros((3, 8), np.uint8), np.zeros((3, 8), np.int16))
    assert sw.routes().tolist() == [1, 0, -1] and sw.connections == 2
    sw.disconnect(1, two_way=True)
    sw.process(np.zeros((3, 8), np.uint8), np.zeros((3, 8), np.int16))
    assert sw.routes().tolist() == [-1, -1, -1] and sw.connections == 0


def test_gain_ramp_has_no_step() -> None:
    """A 0 -> -20 dB change on a tone: one chunk of linear ramp, no sample jumps past the ramp's slope."""
    sw = tdm.TdmSwitch(["linear", "linear"], 8)
    sw.connect(0, 1)
    x = np.zeros((2, 160), np.int16)
    x[0] = 10000
    _, y1 = sw.process(None, x[:, :80])
    sw.set_gain(1, -20.0)
    _, y2 = sw.process(None, x[:, 80:])
    assert y1 is not None and y2 is not None
    y = np.concatenate([y1[1], y2[1]]).astype(float)
    assert (y[8:80] == 10000).all() and (y[88:] == 1000).all()
    ramp = y[80:88]
    assert np.all(np.diff(np.concatenate([[10000.0], ramp])) < 0)
    assert np.max(np.abs(np.diff(ramp))) <= 9000 / 8 + 1  # evenly spread over the chunk


def test_state_roundtrip_continues_identically() -> None:
    laws = ["alaw", "ulaw", "linear", "linear", "alaw"]
    x8, x16 = _inputs(5, 200, 7)
    a = tdm.TdmSwitch(laws, 8)
    for s, d, db in ((0, 1, 0.0), (1, 0, -6.0), (2, 3, 3.0), (4, 2, 0.0), (3, 4, 0.0)):
        a.connect(s, d, db)
    a.process(x8[:, :77], x16[:, :77])
    a.set_gain(3, -12.0)
    b = tdm.TdmSwitch(laws, 8)
    b.set_state(a.get_state())
    assert b.pending == a.pending and b.routes(pending=True).tolist() == a.routes(pending=True).tolist()
    ya = a.process(x8[:, 77:], x16[:, 77:])
    yb = b.process(x8[:, 77:], x16[:, 77:])
    for p, q in zip(ya, yb, strict=True):
        assert p is not None and q is not None and np.array_equal(p, q)
    import pickle

    c = pickle.loads(pickle.dumps(a))
    assert c.get_state() == a.get_state()


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_to_set_state_raise_value_error(blob: bytes) -> None:
    sw = tdm.TdmSwitch(["alaw", "linear"], 8)
    size = len(sw.get_state())
    for data in (
        blob,
        blob[:size].ljust(size, b"\0"),
        sw.get_state()[:64] + blob[: size - 64].ljust(size - 64, b"\x07"),
    ):
        try:
            sw.set_state(data)
        except ValueError as exc:
            assert "state" in str(exc)
        else:
            sw.process(np.zeros((2, 8), np.uint8), np.zeros((2, 8), np.int16))


def test_bad_arguments_name_the_argument() -> None:
    with pytest.raises(DSPArgumentError, match="laws"):
        tdm.TdmSwitch("alaw")
    with pytest.raises(DSPArgumentError, match="laws"):
        tdm.TdmSwitch(["alaw", "gsm"])
    with pytest.raises(DSPArgumentError, match="laws"):
        tdm.TdmSwitch(["alaw"] * (tdm.MAX_SLOTS + 1))
    with pytest.raises(DSPArgumentError, match="chunk"):
        tdm.TdmSwitch(["alaw"], 0)
    with pytest.raises(DSPArgumentError, match="sample_rate"):
        tdm.TdmSwitch(["alaw"], 8, 16000)
    sw = tdm.TdmSwitch(["alaw", "alaw", "linear"], 8)
    with pytest.raises(DSPArgumentError, match="src"):
        sw.connect(3, 0)
    with pytest.raises(DSPArgumentError, match="dst"):
        sw.connect(0, -1)
    with pytest.raises(DSPArgumentError, match="gain_db"):
        sw.connect(0, 1, 40.0)
    with pytest.raises(DSPArgumentError, match="dst"):
        sw.set_gain(1, -3.0)
    with pytest.raises(DSPArgumentError, match="octets"):
        sw.process(None, np.zeros((3, 8), np.int16))
    with pytest.raises(DSPArgumentError, match="linear"):
        sw.process(np.zeros((3, 8), np.uint8))
    with pytest.raises(DSPTypeError, match="octets"):
        sw.process(np.zeros((3, 8), np.int16), np.zeros((3, 8), np.int16))
    with pytest.raises(DSPArgumentError, match="octets"):
        sw.process(np.zeros((2, 8), np.uint8), np.zeros((3, 8), np.int16))
    with pytest.raises(DSPArgumentError, match="linear"):
        sw.process(np.zeros((3, 8), np.uint8), np.zeros((3, 9), np.int16))
    x8 = np.zeros((3, 8), np.uint8)
    with pytest.raises(DSPArgumentError, match="out_octets"):
        sw.process(x8, np.zeros((3, 8), np.int16), out_octets=x8)
    with pytest.raises(DSPArgumentError, match="out_linear"):
        sw.process(x8, np.zeros((3, 8), np.int16), out_linear=np.zeros((3, 7), np.int16))
    with pytest.raises(DSPArgumentError, match="state"):
        sw.set_state("nope")
    assert sw.connections == 0 and sw.pending == 0 and sw.samples == 0
