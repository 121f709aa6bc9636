"""system.conf's law keys (alaw=, mulaw=, deflaw=), as dahdi_cfg takes them: they set the law of
configured channels, later lines win, ranges may cover unconfigured channels, and a bad channel
list is an error naming the file, line and key."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccboard.board.config import parse_system_conf
from ccboard.errors import ConfigError

T1 = "span=1,0,0,esf,b8zs\nbchan=1-23\ndchan=24\n"
E1 = "span=1,0,0,cas,hdb3\ncas=1-15,17-31:1101\n"


def _laws(text: str) -> dict[int, str]:
    return {c.channo: c.law for c in parse_system_conf(text).channels}


def test_alaw_on_a_t1_and_deflaw_back() -> None:
    laws = _laws(T1 + "alaw=1-24\ndeflaw=2\n")
    assert laws[1] == laws[23] == laws[24] == "alaw"
    assert laws[2] == "ulaw"  # deflaw: the T1's own law, the later line wins


def test_mulaw_on_an_e1_range_over_the_unconfigured_ts16() -> None:
    laws = _laws(E1 + "mulaw=1-31\n")
    assert set(laws.values()) == {"ulaw"} and 16 not in laws


def test_dynamic_spans_keep_their_law_unless_told() -> None:
    base = "dynamic=loc,1:0,24,0\ndynamic=loc,1:1,24,0\nbchan=1\nbchan=25\n"
    assert _laws(base) == {1: "ulaw", 25: "ulaw"}
    assert _laws(base + "ALAW = 25 # comment\n") == {1: "ulaw", 25: "alaw"}


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("alaw=", "empty value"),
        ("mulaw=1-x", "bad channel"),
        ("deflaw=5-2", "runs backwards"),
        ("alaw=0", "out of range"),
    ],
)
def test_bad_law_lines_name_line_and_key(line: str, words: str) -> None:
    with pytest.raises(ConfigError) as ei:
        parse_system_conf(T1 + line + "\n", "x.conf")
    assert str(ei.value).startswith(f"x.conf:4: {line.split('=')[0]}: ")
    assert words in str(ei.value)


@given(st.lists(st.tuples(st.sampled_from(["alaw", "mulaw", "deflaw"]), st.integers(1, 24)), max_size=8))
def test_the_last_law_line_for_a_channel_wins(lines: list[tuple[str, int]]) -> None:
    laws = _laws(T1 + "".join(f"{k}={c}\n" for k, c in lines))
    want = {c: "ulaw" for c in range(1, 25)}
    for k, c in lines:
        want[c] = {"alaw": "alaw", "mulaw": "ulaw", "deflaw": "ulaw"}[k]
    assert laws == want
