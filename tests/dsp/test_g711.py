"""G.711 bindings: bit-exact with ITU-T G.191, G.711 Tables 3/4 properties, batch and chunking.

The G.191 vectors live in ../shared/itu-g191 beside the repository (CCBOARD_G191_DIR overrides);
they are part of the conformance suite, so a missing folder fails the run instead of skipping.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccboard.dsp import g711
from ccboard.errors import DSPArgumentError, DSPTypeError

G191_FILES = (
    "sweep.src",
    "sweep-r.a",
    "sweep-r.u",
    "sweep-r.rea",
    "sweep-r.reu",
    "sweep-r.a-a",
    "sweep-r.u-u",
)


def g191_dir() -> Path:
    env = os.environ.get("CCBOARD_G191_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "itu-g191"


@pytest.fixture(scope="module")
def g191() -> Vectors:
    """The seven G.191 G.711 files as int16 arrays of 65,536 little-endian words."""
    folder = g191_dir()
    missing = [name for name in G191_FILES if not (folder / name).is_file()]
    if missing:
        pytest.fail(
            f"ITU-T G.191 vectors not found: {', '.join(missing)} in {folder} "
            "(set CCBOARD_G191_DIR to the folder holding sweep.src, sweep-r.a, ...)",
            pytrace=False,
        )
    out = {}
    for name in G191_FILES:
        words = np.fromfile(folder / name, dtype="<i2")
        assert words.size == 65536, f"{name}: {words.size} words, expected 65536"
        out[name] = words.astype(np.int16)
    return out


@dataclass(frozen=True)
class Law:
    tag: str  # G.191 file suffix: "a" or "u"
    enc: Callable[..., npt.NDArray[np.uint8]]
    dec: Callable[..., npt.NDArray[np.int16]]
    silence: int  # octet that 0 encodes to
    peak: int  # largest decoded magnitude


LAWS = [
    pytest.param(Law("a", g711.alaw_encode, g711.alaw_decode, 0xD5, 32256), id="A-law"),
    pytest.param(Law("u", g711.ulaw_encode, g711.ulaw_decode, 0xFF, 32124), id="mu-law"),
]
Vectors = dict[str, npt.NDArray[np.int16]]

ALL_CODES = np.arange(256, dtype=np.uint8)


# --- G.191 reference vectors --------------------------------------------------------------------


def test_sweep_src_is_every_int16(g191: Vectors) -> None:
    assert np.array_equal(g191["sweep.src"], np.arange(-32768, 32768, dtype=np.int16))


@pytest.mark.parametrize("law", LAWS)
def test_encode_all_65536_inputs(g191: Vectors, law: Law) -> None:
    ref = g191[f"sweep-r.{law.tag}"]
    assert not (ref & ~0xFF).any()  # the code sits in the low byte
    codes = law.enc(g191["sweep.src"])
    assert codes.dtype == np.uint8 and codes.shape == (65536,)
    bad = np.flatnonzero(codes != ref.astype(np.uint8))
    assert bad.size == 0, f"{bad.size} codes differ, first at input {int(g191['sweep.src'][bad[0]])}"


@pytest.mark.parametrize("law", LAWS)
def test_decode_every_code(g191: Vectors, law: Law) -> None:
    codes = g191[f"sweep-r.{law.tag}"].astype(np.uint8)
    assert np.unique(codes).size == 256  # the reference decodes every one of the 256 codes
    assert np.array_equal(law.dec(codes), g191[f"sweep-r.re{law.tag}"])
    # All 256 codes directly: each decodes to the value the reference gives it.
    table = dict(zip(codes.tolist(), g191[f"sweep-r.re{law.tag}"].tolist(), strict=True))
    assert law.dec(ALL_CODES).tolist() == [table[c] for c in range(256)]


@pytest.mark.parametrize("law", LAWS)
def test_round_trip_matches_reference(g191: Vectors, law: Law) -> None:
    assert np.array_equal(law.dec(law.enc(g191["sweep.src"])), g191[f"sweep-r.{law.tag}-{law.tag}"])


@pytest.mark.parametrize("law", LAWS)
def test_silence_and_full_scale(law: Law) -> None:
    assert (law.enc(np.zeros(160, np.int16)) == law.silence).all()
    y = law.dec(ALL_CODES)
    assert int(y.max()) == law.peak and int(y.min()) == -law.peak
    # The largest magnitudes fall in the same top step as the decoded full scale.
    extremes = law.enc(np.array([32767, -32768], np.int16))
    assert np.array_equal(extremes, law.enc(np.array([law.peak, -law.peak], np.int16)))


@pytest.mark.parametrize("law", LAWS)
def test_decode_then_encode_is_identity(law: Law) -> None:
    back = law.enc(law.dec(ALL_CODES))
    changed = np.flatnonzero(back != ALL_CODES).tolist()
    # mu-law's negative zero (0x7F) decodes to 0, which encodes as positive zero (0xFF).
    assert changed == ([] if law.tag == "a" else [0x7F])
    assert law.tag == "a" or back[0x7F] == 0xFF


# --- digital milliwatt (REFERENCE.md, G.711) ------------------------------------------------------

Encoder = Callable[..., npt.NDArray[np.uint8]]
Decoder = Callable[..., npt.NDArray[np.int16]]
DMW = [
    pytest.param(g711.alaw_encode, g711.alaw_decode, "34 21 21 34 B4 A1 A1 B4", -0.001, id="A-law"),
    pytest.param(g711.ulaw_encode, g711.ulaw_decode, "1E 0B 0B 1E 9E 8B 8B 9E", -0.067, id="mu-law"),
]


def dbm0(x: npt.NDArray[np.int16]) -> float:
    """Level of x in dBm0 with a full-scale sine at +3.14 dBm0 (REFERENCE.md's rule)."""
    power = np.mean(x.astype(np.float64) ** 2)
    return float(10 * np.log10(power / (32768.0**2 / 2)) + 3.14)


@pytest.mark.parametrize(("enc", "dec", "octets", "level"), DMW)
def test_digital_milliwatt_decodes_to_0_dbm0(enc: Encoder, dec: Decoder, octets: str, level: float) -> None:
    dmw = np.array([int(o, 16) for o in octets.split()], np.uint8)
    y = dec(np.tile(dmw, 1000))
    assert dbm0(y) == pytest.approx(level, abs=0.0005)
    # A 1 kHz sine: each half period is the other negated.
    assert np.array_equal(y[:4], -y[4:8])


@pytest.mark.parametrize(("enc", "dec", "octets", "level"), DMW)
def test_digital_milliwatt_encodes_from_1khz_sine(
    enc: Encoder, dec: Decoder, octets: str, level: float
) -> None:
    # 1 kHz, phase 22.5 degrees, peak 0 dBm0 (22767); the octets come half a period shifted.
    n = np.arange(8000)
    peak = 32768 * 10 ** (-3.14 / 20)
    x = np.round(peak * np.sin(2 * np.pi * 1000 * n / 8000 + np.pi / 8)).astype(np.int16)
    dmw = np.array([int(o, 16) for o in octets.split()], np.uint8)
    assert np.array_equal(enc(x), np.tile(np.roll(dmw, 4), 1000))


# --- transcoding: G.711 Tables 3 and 4 ------------------------------------------------------------


def mu_number(c: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64]:
    """G.711 mu-law decoder output value number 0..127 (0 = the smallest magnitude)."""
    return (~c & 0x7F).astype(np.int64)


def a_number(c: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64]:
    """G.711 A-law decoder output value number 1..128."""
    return ((c ^ 0x55) & 0x7F).astype(np.int64) + 1


def test_mu_a_mu_changes_only_what_g711_note_says() -> None:
    # Table 3 Note 2: mu numbers 0, 2, ..., 14 come back increased by 1, only bit 8 changing.
    back = g711.alaw_to_ulaw(g711.ulaw_to_alaw(ALL_CODES))
    changed = back != ALL_CODES
    assert sorted(set(mu_number(ALL_CODES[changed]).tolist())) == [0, 2, 4, 6, 8, 10, 12, 14]
    assert (back[changed] == ALL_CODES[changed] ^ 1).all()
    assert (mu_number(back[changed]) == mu_number(ALL_CODES[changed]) + 1).all()


def test_a_mu_a_changes_only_what_g711_note_says() -> None:
    # Table 4 Note 2: A numbers 26, 28, 30, 32, 45, 47, 63, 80 change, again only bit 8.
    back = g711.ulaw_to_alaw(g711.alaw_to_ulaw(ALL_CODES))
    changed = back != ALL_CODES
    assert sorted(set(a_number(ALL_CODES[changed]).tolist())) == [26, 28, 30, 32, 45, 47, 63, 80]
    assert (back[changed] == ALL_CODES[changed] ^ 1).all()


def test_transcoding_keeps_sign_and_order() -> None:
    u2a = g711.ulaw_to_alaw(ALL_CODES)
    a2u = g711.alaw_to_ulaw(ALL_CODES)
    assert ((u2a & 0x80) == (ALL_CODES & 0x80)).all() and ((a2u & 0x80) == (ALL_CODES & 0x80)).all()
    for positive in (0x80, 0x00):
        mu_codes = (positive | (0x7F - np.arange(128))).astype(np.uint8)  # mu numbers 0..127
        a_codes = ((positive | np.arange(128)) ^ 0x55).astype(np.uint8)  # A numbers 1..128
        assert (np.diff(a_number(g711.ulaw_to_alaw(mu_codes))) >= 0).all()
        assert (np.diff(mu_number(g711.alaw_to_ulaw(a_codes))) >= 0).all()
        # The smallest and the largest magnitudes map to each other's.
        assert a_number(g711.ulaw_to_alaw(mu_codes[[0, 127]])).tolist() == [1, 128]
        assert mu_number(g711.alaw_to_ulaw(a_codes[[0, 127]])).tolist() == [1, 127]


def test_transcoding_follows_g711_as_printed_at_mu_80() -> None:
    # G.711 prints mu 80 -> A 81 and A 80 -> mu 79; Sun's 1994 "corrected" tables (and spandsp)
    # have mu 80 -> A 80 and A 81 -> mu 80, which breaks Note 2 of Table 4.
    mu80 = np.array([0x80 | (0x7F - 80), 0x7F - 80], np.uint8)
    a80 = np.array([(0x80 | 79) ^ 0x55, 79 ^ 0x55], np.uint8)
    assert a_number(g711.ulaw_to_alaw(mu80)).tolist() == [81, 81]
    assert mu_number(g711.alaw_to_ulaw(a80)).tolist() == [79, 79]


def test_transcoding_stays_close_to_the_decoded_value() -> None:
    # Transcoding moves the decoded level by less than one step of the coarser law.
    for conv, dec_in, dec_out in (
        (g711.ulaw_to_alaw, g711.ulaw_decode, g711.alaw_decode),
        (g711.alaw_to_ulaw, g711.alaw_decode, g711.ulaw_decode),
    ):
        a = dec_in(ALL_CODES).astype(np.int64)
        b = dec_out(conv(ALL_CODES)).astype(np.int64)
        assert (np.abs(b - a) <= np.maximum(np.abs(a) // 8, 16)).all()


# --- batch, strides, chunking ---------------------------------------------------------------------

Kernel = Callable[..., npt.NDArray[np.generic]]
FUNCS = [
    pytest.param(g711.alaw_encode, np.int16, np.uint8, id="alaw_encode"),
    pytest.param(g711.ulaw_encode, np.int16, np.uint8, id="ulaw_encode"),
    pytest.param(g711.alaw_decode, np.uint8, np.int16, id="alaw_decode"),
    pytest.param(g711.ulaw_decode, np.uint8, np.int16, id="ulaw_decode"),
    pytest.param(g711.alaw_to_ulaw, np.uint8, np.uint8, id="alaw_to_ulaw"),
    pytest.param(g711.ulaw_to_alaw, np.uint8, np.uint8, id="ulaw_to_alaw"),
]


def random_input(rng: np.random.Generator, shape: tuple[int, ...], dtype: type) -> npt.NDArray[np.generic]:
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)


@pytest.mark.parametrize(("func", "din", "dout"), FUNCS)
@settings(max_examples=40, deadline=None)
@given(
    nch=st.integers(0, 9),
    n=st.integers(0, 40),
    pad_in=st.integers(0, 7),
    pad_out=st.integers(0, 7),
    seed=st.integers(0, 2**32 - 1),
)
def test_batch_equals_per_row_single(
    func: Kernel, din: type, dout: type, nch: int, n: int, pad_in: int, pad_out: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    wide = random_input(rng, (nch, n + pad_in), din)
    x = wide[:, :n]  # rows contiguous, row stride n + pad_in
    out_wide: npt.NDArray[np.generic] = np.full((nch, n + pad_out), 0x5A, dtype=dout)
    out = out_wide[:, :n]
    got = func(x, out)
    assert got is out
    for c in range(nch):
        assert np.array_equal(out[c], func(np.ascontiguousarray(x[c])))
    assert (out_wide[:, n:] == 0x5A).all()  # padding between rows untouched
    assert np.array_equal(func(x), out)  # allocated out: same result


@pytest.mark.parametrize(("func", "din", "dout"), FUNCS)
@settings(max_examples=40, deadline=None)
@given(data=st.data(), n=st.integers(0, 600), seed=st.integers(0, 2**32 - 1))
def test_any_block_split_equals_one_shot(
    func: Kernel, din: type, dout: type, data: st.DataObject, n: int, seed: int
) -> None:
    x = random_input(np.random.default_rng(seed), (n,), din)
    whole = func(x)
    out: npt.NDArray[np.generic] = np.empty(n, dtype=dout)
    pos = 0
    while pos < n:
        size = data.draw(st.sampled_from([1, 8, 160]) | st.integers(1, n - pos), label="block")
        size = min(size, n - pos)
        func(x[pos : pos + size], out[pos : pos + size])
        pos += size
    assert np.array_equal(out, whole)


@pytest.mark.parametrize(("func", "din", "dout"), FUNCS)
def test_single_row_batch_and_odd_strides(func: Kernel, din: type, dout: type) -> None:
    rng = np.random.default_rng(7)
    x = random_input(rng, (4, 33), din)
    assert np.array_equal(func(x[1:2]), func(x[1])[None, :])  # one row: its stride is unused
    assert np.array_equal(func(x[::2]), np.stack([func(x[0]), func(x[2])]))  # every other row
    assert func(x[:, :0]).shape == (4, 0) and func(x[:0]).shape == (0, 33)


@pytest.mark.parametrize(("func", "din", "dout"), FUNCS)
def test_read_only_input_is_accepted(func: Kernel, din: type, dout: type) -> None:
    x = random_input(np.random.default_rng(3), (100,), din)
    ro: npt.NDArray[np.generic] = np.frombuffer(x.tobytes(), dtype=din)
    assert not ro.flags.writeable
    assert np.array_equal(func(ro), func(x))


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("func", "din", "dout"), FUNCS)
def test_bad_input_names_the_argument(func: Kernel, din: type, dout: type) -> None:
    wrong = np.uint16 if din is np.int16 else np.int8
    good: npt.NDArray[np.generic] = np.zeros(16, din)
    cases: list[tuple[object, object, type[Exception], str]] = [
        (list(range(16)), None, TypeError, "x:"),
        (np.zeros(16, wrong), None, TypeError, "x:"),
        (np.zeros(16, np.float64), None, TypeError, "x:"),
        (np.zeros((2, 3, 4), din), None, ValueError, "x:"),
        (np.zeros((), din), None, ValueError, "x:"),
        (np.zeros(32, din)[::2], None, ValueError, "x:"),
        (np.zeros((4, 8), din)[:, ::2], None, ValueError, "x:"),
        (np.zeros((4, 8), din)[::-1], None, ValueError, "x:"),
        (np.zeros((8, 4), din).T, None, ValueError, "x:"),
        (good, [0] * 16, TypeError, "out:"),
        (good, np.zeros(16, np.float32), TypeError, "out:"),
        (good, np.zeros(15, dout), ValueError, "out:"),
        (good, np.zeros((1, 16), dout), ValueError, "out:"),
        (good, np.zeros(32, dout)[::2], ValueError, "out:"),
    ]
    ro: npt.NDArray[np.generic] = np.zeros(16, dout)
    ro.flags.writeable = False
    cases.append((good, ro, ValueError, "out:"))
    for x, out, exc, name in cases:
        with pytest.raises(exc) as info:
            func(x, out)
        assert str(info.value).startswith(name), (x, out, str(info.value))
        assert isinstance(info.value, DSPTypeError if exc is TypeError else DSPArgumentError)


def test_out_sharing_memory_with_x_is_refused() -> None:
    buf = np.zeros(64, np.uint8)
    for x, out in ((buf[:32], buf[:32]), (buf[:32], buf[16:48]), (buf[16:48], buf[:32])):
        with pytest.raises(ValueError, match="^out:"):
            g711.alaw_to_ulaw(x, out)
    g711.alaw_to_ulaw(buf[:32], buf[32:])  # adjacent, not overlapping: fine
    raw = np.zeros(64, np.uint8)
    with pytest.raises(ValueError, match="^out:"):
        g711.alaw_decode(raw[:16], raw[8:40].view(np.int16))
