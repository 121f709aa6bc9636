"""Zone data from Debian's libtonezone (through cffi) and the tone generator that plays it.

The zone list and descriptions come from the library, and are checked against the dump made with
../shared/peers/tonezone_dump.c; every description of every zone parses; the generator's cadence is
exact to the sample and each frequency's level within 0.1 dB of the description; any block split
gives the same samples; spandsp's super_tone_rx recognises our tones and our analyser recognises
spandsp's super_tone_tx.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccboard.dsp import cpa, tonezone
from ccboard.dsp.tone import ToneGenerator, ToneGeneratorBank
from ccboard.errors import DSPArgumentError
from tests.dsp import signals as sig
from tests.peers.spandsp_tone import SpandspSuperToneBank, load

DUMP = sig.ROOT.parent / "shared" / "peers" / "tonezone_dump.txt"
DUMP_NAMES = {
    "Dialtone": "dial",
    "Busy": "busy",
    "Ringtone": "ringback",
    "Congestion": "congestion",
    "Call Waiting": "callwait",
    "Dial Recall": "dialrecall",
    "Record Tone": "record",
    "Special Information": "info",
    "Stutter Dialtone": "stutter",
}


def test_zone_list_and_reference_dump() -> None:
    codes = tonezone.zones()
    assert len(codes) >= 40 and {"us", "uk", "de", "cn"} <= set(codes)
    zone = None
    for line in DUMP.read_text().splitlines():
        if not line.startswith(" "):
            code = line.split()[0]
            zone = tonezone.zone(code)
            assert list(zone.ring_cadence_ms) == [
                int(v) for v in line.split("ring cadence:")[1].split("dtmf")[0].split()
            ]
            continue
        assert zone is not None
        name, data = next(
            (n, line.strip()[len(n) :].strip()) for n in DUMP_NAMES if line.strip().startswith(n + " ")
        )
        assert zone.tones[DUMP_NAMES[name]] == data


def test_every_description_parses() -> None:
    n = 0
    for code in tonezone.zones():
        z = tonezone.zone(code)
        for name in z.tones:
            segs = z.segments(name)
            assert segs and all(0 <= g.f1_hz < 4000 and 0 <= g.f2_hz < 4000 for g in segs)
            n += 1
    assert n > 300
    with pytest.raises(DSPArgumentError, match="segment 1"):
        tonezone.parse("425/100,x")
    with pytest.raises(DSPArgumentError, match="code"):
        tonezone.zone("zz")


def expected_schedule(segs: tuple[tonezone.Segment, ...], n: int) -> list[tuple[int, int, tonezone.Segment]]:
    """(start, end, segment) as libtonezone plays them, over n samples."""
    out, t, i = [], 0, 0
    loop = next(k for k, g in enumerate(segs) if not (g.once and g.ms > 0))
    while t < n:
        g = segs[i]
        end = n if g.ms == 0 else t + g.ms * 8
        out.append((t, min(end, n), g))
        t = end
        i = i + 1 if i + 1 < len(segs) else loop
    return out


def level_dbm0(x: np.ndarray, f: float) -> float:
    """Level of the component at f (least squares on cos/sin), dBm0."""
    n = np.arange(len(x))
    a = np.stack([np.cos(2 * np.pi * f * n / 8000), np.sin(2 * np.pi * f * n / 8000)], axis=1)
    coef = np.linalg.lstsq(a, x.astype(np.float64), rcond=None)[0]
    return 20 * np.log10(np.hypot(*coef) / sig.peak(0.0))


@pytest.mark.parametrize("code", ["us", "uk", "de", "cn", "au", "jp", "fr", "in"])
def test_cadence_exact_and_levels(code: str) -> None:
    z = tonezone.zone(code)
    for name in ("dial", "busy", "ringback", "congestion", "info", "callwait"):
        if name not in z.tones:
            continue
        segs = z.segments(name)
        n = 12 * sig.FS
        x = ToneGenerator(segs).generate(n)
        for start, end, g in expected_schedule(segs, n):
            part = x[start:end]
            if g.f1_hz == 0:
                assert not np.any(part), f"{code}:{name}: silence at {start}..{end} is not silent"
                continue
            # exact edges: the first sample of a segment is sin(0) = 0, the next is not
            if end - start > 2:
                assert part[1] != 0, f"{code}:{name}: tone at {start} starts late"
            if not g.modulate and end - start >= 800:
                assert abs(level_dbm0(part, g.f1_hz) - g.level1_dbm0) < 0.1
                if g.f2_hz:
                    assert abs(level_dbm0(part, g.f2_hz) - g.level2_dbm0) < 0.1


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 5000), min_size=1, max_size=30))
def test_any_block_split_gives_the_same_samples(cuts: list[int]) -> None:
    desc = tonezone.zone("uk").tones["ringback"]
    whole = ToneGenerator(desc).generate(sum(cuts))
    g = ToneGenerator(desc)
    assert np.array_equal(np.concatenate([g.generate(c) for c in cuts]), whole)


def test_bank_and_state() -> None:
    descs = [tonezone.zone(c).tones["busy"] for c in ("us", "uk", "de", "cn")]
    out = ToneGeneratorBank(descs).generate(20000)
    for c, d in enumerate(descs):
        assert np.array_equal(out[c], ToneGenerator(d).generate(20000))
    a = ToneGenerator(descs[1])
    a.generate(12345)
    b = ToneGenerator(descs[1])
    b.set_state(a.get_state())
    assert np.array_equal(a.generate(9999), b.generate(9999))
    with pytest.raises(DSPArgumentError):
        b.set_state(b"\x01" * len(a.get_state()))
    with pytest.raises(DSPArgumentError, match="nothing loops"):
        ToneGenerator("!425/100,!0/100")


def test_spandsp_super_tone_both_ways() -> None:
    """Our US busy and ringback through super_tone_rx; spandsp's super_tone_tx through our analyser."""
    peer = load()
    us = tonezone.zone("us")
    rows = np.stack(
        [
            ToneGenerator(us.tones["busy"]).generate(14 * sig.FS),
            ToneGenerator(us.tones["ringback"]).generate(14 * sig.FS),
        ]
    )
    for row, elements in (
        (0, [(480, 620, 400, 600), (0, 0, 400, 600)]),
        (1, [(440, 480, 1800, 2200), (0, 0, 3600, 4400)]),
    ):
        bank = SpandspSuperToneBank(peer, 1, [elements])
        bank.bind(np.ascontiguousarray(rows[row : row + 1]), 160)()
        assert [c for c, _ in bank.events(0) if c >= 0][:1] == [0]
    busy = peer.super_tone_tx([(480, 620, -10, 500), (0, 0, -10, 500)], 6 * sig.FS)
    ring = peer.super_tone_tx([(440, 480, -10, 2000), (0, 0, -10, 4000)], 14 * sig.FS)
    assert int(cpa.CallProgress("us").process(busy)["kind"][0]) == cpa.BUSY
    ev = cpa.CallProgress("us").process(ring)
    assert list(ev["kind"]) == [cpa.RINGBACK, cpa.RINGBACK]
