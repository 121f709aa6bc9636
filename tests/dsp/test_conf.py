"""Conference mixer against a float reference: out = clip(H @ x), H[i, k] = 1 when member i hears k.

H is built from the documented rules alone (parties hear the other parties of their conference,
listen-only members and whisperers hear all parties, an agent also hears the whisperers coaching
it, nobody hears a listen-only member, members in no conference hear nothing); the product is
done in float64, then clipped to int16. Also: supervisor modes on a call-centre call, saturation,
G.711 in/out, loudest-talker events, block-split invariance, state save/restore, bad arguments.
"""

from __future__ import annotations

import pickle

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccboard.dsp import conf, g711
from ccboard.errors import DSPArgumentError, DSPTypeError


def hear_matrix(m: conf.ConferenceMixer) -> npt.NDArray[np.float64]:
    n = m.members
    h = np.zeros((n, n))
    for i in range(n):
        ci = m.conference(i)
        if ci is None:
            continue
        for k in range(n):
            if k == i or m.conference(k) != ci:
                continue
            if m.role(k) == "party" or (m.role(k) == "whisper" and m.target(k) == i):
                h[i, k] = 1.0
    return h


def reference(m: conf.ConferenceMixer, x: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    y = hear_matrix(m) @ x.astype(np.float64)
    return np.clip(y, -32768, 32767).astype(np.int16)


ops = st.one_of(
    st.tuples(st.just("join"), st.integers(0, 11), st.integers(0, 3), st.booleans()),
    st.tuples(st.just("leave"), st.integers(0, 11), st.just(0), st.just(False)),
    st.tuples(
        st.sampled_from(["monitor", "whisper", "barge"]),
        st.integers(0, 11),
        st.integers(0, 11),
        st.just(False),
    ),
)


def apply(m: conf.ConferenceMixer, op: tuple[str, int, int, bool]) -> None:
    kind, a, b, flag = op
    if kind == "join":
        m.join(a, b, listen_only=flag)
    elif kind == "leave":
        m.leave(a)
    else:
        try:
            m.supervise(a, b, kind)
        except DSPArgumentError:
            pass  # agent not in a conference, itself whispering, or the supervisor itself


@settings(max_examples=120, deadline=None)
@given(
    st.lists(st.lists(ops, max_size=6), min_size=1, max_size=6),
    st.integers(1, 40),
    st.sampled_from([1000, 12000, 32767]),
    st.integers(0, 2**32 - 1),
)
def test_random_conferences_match_the_float_reference(
    rounds: list[list[tuple[str, int, int, bool]]], n: int, amp: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    m = conf.ConferenceMixer(12, 4)
    for batch in rounds:
        for op in batch:
            apply(m, op)
        x = rng.integers(-amp - 1, amp + 1, (12, n)).clip(-32768, 32767).astype(np.int16)
        y, _ = m.process(x)
        want = reference(m, x)
        bad = np.argwhere(y != want)
        assert bad.size == 0, (
            f"member {bad[0][0]} sample {bad[0][1]}: {y[tuple(bad[0])]} != {want[tuple(bad[0])]}"
        )


def test_saturation_clips_instead_of_wrapping() -> None:
    m = conf.ConferenceMixer(6, 1)
    for i in range(6):
        m.join(i, 0)
    x = np.full((6, 16), 32767, np.int16)
    x[:, 8:] = -32768
    y, _ = m.process(x)
    assert (y[:, :8] == 32767).all() and (y[:, 8:] == -32768).all()
    # total minus own, exact: 0 hears -32769 (clipped), 1 hears 32766, 4 hears -2
    x = np.array([[32767] * 4, [-32768] * 4, [32767] * 4, [-32768] * 4, [0] * 4, [0] * 4], np.int16)
    y, _ = m.process(x)
    assert y[4].tolist() == [-2] * 4 and y[0].tolist() == [-32768] * 4 and y[1].tolist() == [32766] * 4


def test_call_centre_supervisor_modes() -> None:
    """Caller 0 and agent 1 in conference 3; supervisor 2 monitors, then whispers, then barges."""
    m = conf.ConferenceMixer(4, 8)
    m.join(0, 3)
    m.join(1, 3)
    x = np.zeros((4, 8), np.int16)
    x[0], x[1], x[2], x[3] = 100, 20, 3, 7000  # member 3 is in no conference
    heard = {}
    for mode in ("monitor", "whisper", "barge"):
        m.supervise(2, 1, mode)
        y, _ = m.process(x)
        heard[mode] = y[:, 0].tolist()
    # caller hears agent only until barge; agent hears supervisor when whispered to or barged
    assert heard["monitor"] == [20, 100, 120, 0]
    assert heard["whisper"] == [20, 103, 120, 0]
    assert heard["barge"] == [23, 103, 120, 0]
    assert m.role(2) == "party"
    # whisper, then the agent hangs up: the supervisor is left listening
    m.supervise(2, 1, "whisper")
    m.leave(1)
    assert m.role(2) == "listen" and m.target(2) is None
    y, _ = m.process(x)
    assert y[:, 0].tolist() == [0, 0, 100, 0]


def test_g711_in_and_out() -> None:
    rng = np.random.default_rng(5)
    for law, dec, enc in (
        ("alaw", g711.alaw_decode, g711.alaw_encode),
        ("ulaw", g711.ulaw_decode, g711.ulaw_encode),
    ):
        m8 = conf.ConferenceMixer(9, 3, law)
        m16 = conf.ConferenceMixer(9, 3)
        for mm in (m8, m16):
            for i in range(8):
                mm.join(i, i % 3, listen_only=i == 7)
        x8 = rng.integers(0, 256, (9, 80), dtype=np.uint8)
        y8, _ = m8.process(x8)
        lin = dec(x8.reshape(-1)).reshape(9, 80)
        y16, _ = m16.process(lin)
        want = enc(y16.reshape(-1)).reshape(9, 80)
        want[8] = 0xD5 if law == "alaw" else 0xFF  # member 8 is in no conference: idle code
        assert np.array_equal(y8, want)


def _talk(level_dbm0: float, n: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    return rng.standard_normal(n) * 22767.0 / np.sqrt(2.0) * 10 ** (level_dbm0 / 20)


def test_loudest_talker_events() -> None:
    rng = np.random.default_rng(1)
    m = conf.ConferenceMixer(5, 2)
    for i in range(4):
        m.join(i, 1)
    m.join(4, 1, listen_only=True)
    n = 8000 * 4
    x = np.zeros((5, n))
    x[0, :8000] = _talk(-20, 8000, rng)  # 0 talks for 1 s
    x[2, 8000:16000] = _talk(-10, 8000, rng)  # then 2, louder
    x[1, 8000:] = _talk(-30, n - 8000, rng)  # 1 mumbles under 2, then alone
    x[4] = _talk(0, n, rng)  # a loud listen-only member is never the loudest
    xs = np.clip(np.rint(x), -32768, 32767).astype(np.int16)
    events = []
    for t in range(0, n, 8):
        _, ev = m.process(xs[:, t : t + 8])
        events.extend(ev.tolist())
    seq = [(e[1], e[2]) for e in events]
    assert seq == [(0, -1), (2, 0), (1, 2)], seq
    at = [e[4] for e in events]
    assert at[0] <= 160 * 2 and 8000 < at[1] < 8000 + 1600
    # after 2 stops, its smoothed power falls 10/ln(10) dB per tau (300 ms): 1 (-30 dBm0) takes
    # over once 2 has fallen below -33 dBm0, i.e. 23 dB later = tau * ln(10^2.3) = 1.59 s
    assert at[2] == pytest.approx(16000 + 0.3 * np.log(10**2.3) * 8000, abs=0.15 * 8000)
    assert all(e[0] == 1 for e in events) and all(a % conf.POWER_BLOCK == 0 for a in at)
    # 2 takes over while its smoothed power is still rising towards -10 (0's is falling from -20)
    assert -20.0 < events[1][3] < -10.0
    assert m.loudest(1) == 1 and m.loudest(0) is None
    assert m.power_dbm0(1) == pytest.approx(-30, abs=1.5) and m.power_dbm0(4) == -200.0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 400), min_size=1, max_size=12), st.integers(0, 2**32 - 1))
def test_any_block_split_gives_the_same_output_and_events(cuts: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 2000
    x = (rng.standard_normal((10, n)) * rng.uniform(100, 8000, (10, 1))).astype(np.int16)

    def mixer() -> conf.ConferenceMixer:
        m = conf.ConferenceMixer(10, 3, loudest_tau_ms=40.0, loudest_hysteresis_db=1.0)
        for i in range(9):
            m.join(i, i % 3)
        m.supervise(9, 4, "whisper")
        return m

    a, b = mixer(), mixer()
    ya, ea = a.process(x)
    yb = np.empty_like(x)
    eb = []
    t = 0
    for c in cuts * 10:
        if t >= n:
            break
        _, ev = b.process(x[:, t : t + c], out=yb[:, t : t + c])
        eb.extend(ev.tolist())
        t += c
    if t < n:
        _, ev = b.process(x[:, t:], out=yb[:, t:])
        eb.extend(ev.tolist())
    assert np.array_equal(ya, yb) and ea.tolist() == eb


def test_state_roundtrip_continues_identically() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(-5000, 5000, (8, 800)).astype(np.int16)
    a = conf.ConferenceMixer(8, 2)
    for i in range(6):
        a.join(i, i % 2)
    a.supervise(6, 2, "whisper")
    a.supervise(7, 3, "monitor")
    a.process(x[:, :333])
    b = conf.ConferenceMixer(8, 2)
    b.set_state(a.get_state())
    assert [b.role(i) for i in range(8)] == [a.role(i) for i in range(8)] and b.target(6) == 2
    ya, ea = a.process(x[:, 333:])
    yb, eb = b.process(x[:, 333:])
    assert np.array_equal(ya, yb) and ea.tolist() == eb.tolist()
    c = pickle.loads(pickle.dumps(a))
    assert c.get_state() == a.get_state()


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400), st.integers(0, 1000))
def test_arbitrary_bytes_to_set_state_raise_value_error(blob: bytes, at: int) -> None:
    m = conf.ConferenceMixer(4, 2)
    m.join(0, 1)
    good = m.get_state()
    for data in (blob, good[:at] + blob + good[at + len(blob) :]):
        data = data[: len(good)]
        try:
            m.set_state(data)
        except ValueError as exc:
            assert "state" in str(exc)
        else:
            m.process(np.zeros((4, 8), np.int16))


def test_bad_arguments_name_the_argument() -> None:
    with pytest.raises(DSPArgumentError, match="members"):
        conf.ConferenceMixer(0)
    with pytest.raises(DSPArgumentError, match="conferences"):
        conf.ConferenceMixer(4, conf.MAX_CONFERENCES + 1)
    with pytest.raises(DSPArgumentError, match="law"):
        conf.ConferenceMixer(4, 2, "gsm")
    with pytest.raises(DSPArgumentError, match="loudest_tau_ms"):
        conf.ConferenceMixer(4, 2, loudest_tau_ms=1.0)
    with pytest.raises(DSPArgumentError, match="sample_rate"):
        conf.ConferenceMixer(4, 2, "linear", 16000)
    m = conf.ConferenceMixer(4, 2)
    with pytest.raises(DSPArgumentError, match="member"):
        m.join(4, 0)
    with pytest.raises(DSPArgumentError, match="conference"):
        m.join(0, 2)
    with pytest.raises(DSPArgumentError, match="agent"):
        m.supervise(1, 0, "whisper")
    m.join(0, 1)
    with pytest.raises(DSPArgumentError, match="mode"):
        m.supervise(1, 0, "shout")
    with pytest.raises(DSPArgumentError, match="supervisor"):
        m.supervise(0, 0, "monitor")
    with pytest.raises(DSPArgumentError, match="x"):
        m.process(np.zeros((3, 8), np.int16))
    with pytest.raises(DSPTypeError, match="x"):
        m.process(np.zeros((4, 8), np.uint8))
    with pytest.raises(DSPTypeError, match="x"):
        m.process([[0] * 8] * 4)
    x = np.zeros((4, 8), np.int16)
    with pytest.raises(DSPArgumentError, match="out"):
        m.process(x, out=np.zeros((4, 9), np.int16))
    with pytest.raises(DSPArgumentError, match="out"):
        m.process(x, out=x)
    with pytest.raises(DSPArgumentError, match="state"):
        m.set_state(b"\0" * 10)
    assert m.samples == 0 and m.conference(0) == 1 and m.conference(1) is None
