"""system.conf reader and sim description: real configurations, every error with its file,
line and key, and hypothesis: any text is either a valid config or a ConfigError."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccboard.board.channel import Signalling
from ccboard.board.config import (
    parse_channels,
    parse_sim_config,
    parse_system_conf,
    read_sim_config,
    read_system_conf,
)
from ccboard.board.span import Framing, LineCode, SpanKind
from ccboard.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]

E1_R2 = """\
# E1 MFC/R2 to the PSTN (Mexico variant), written by dahdi_genconf
span=1,1,0,cas,hdb3
cas=1-15:1101
cas=17-31:1101
echocanceller=mg2,1-15,17-31
loadzone=mx
defaultzone=mx
"""

E1_PRI = """\
span=1,1,0,ccs,hdb3,crc4
bchan=1-15,17-31
hardhdlc=16
echocanceller=oslec,1-15,17-31
span=2,0,0,ccs,hdb3,crc4
bchan=32-46,48-62
dchan=47
loadzone=de
defaultzone=de
"""

T1_PRI = """\
# T1 PRI, ESF/B8ZS; D-channel on 24
span=1,1,0,esf,b8zs
bchan=1-23
dchan=24
echocanceller=oslec,1-23
loadzone=us
defaultzone=us
"""

ANALOG = """\
# TDM800P: 4 FXS (agents' phones), 4 FXO (lines)
fxoks=1-4
fxsks=5-8
echocanceller=oslec,1-8
loadzone=us
defaultzone=us
"""


def test_e1_cas_r2() -> None:
    c = parse_system_conf(E1_R2, "r2.conf")
    (s,) = c.spans
    assert (s.kind, s.framing, s.linecode, s.crc4, s.timing) == (
        SpanKind.E1,
        Framing.CAS,
        LineCode.HDB3,
        False,
        1,
    )
    assert [ch.channo for ch in s.channels] == list(range(1, 16)) + list(range(17, 32))
    assert all(ch.signalling == Signalling.CAS and ch.law == "alaw" for ch in s.channels)
    assert c.cas_idle == {ch: 0b1101 for ch in list(range(1, 16)) + list(range(17, 32))}
    assert set(c.echocanceller.values()) == {"mg2"} and len(c.echocanceller) == 30
    assert (c.loadzones, c.defaultzone) == (["mx"], "mx")


def test_e1_pri_two_spans() -> None:
    c = parse_system_conf(E1_PRI)
    s1, s2 = c.spans
    assert s1.framing == Framing.CCS and s1.crc4 and s2.timing == 0
    assert s1.channels[15].channo == 16 and s1.channels[15].signalling == Signalling.DCHAN
    assert [ch.chanpos for ch in s2.channels][:3] == [1, 2, 3]
    d = next(ch for ch in s2.channels if ch.signalling == Signalling.DCHAN)
    assert (d.channo, d.span, d.chanpos) == (47, 2, 16)
    assert len(c.channels) == 62


def test_t1_esf_pri() -> None:
    (s,) = parse_system_conf(T1_PRI).spans
    assert (s.kind, s.framing, s.linecode) == (SpanKind.T1, Framing.ESF, LineCode.B8ZS)
    assert len(s.channels) == 24 and s.channels[-1].signalling == Signalling.DCHAN
    assert {ch.law for ch in s.channels} == {"ulaw"}


def test_analog_fxs_fxo_mix() -> None:
    (s,) = parse_system_conf(ANALOG).spans
    assert s.kind == SpanKind.ANALOG and s.number == 1
    assert [ch.signalling.is_fxs_port for ch in s.channels] == [True] * 4 + [False] * 4
    assert [ch.signalling.is_fxo_port for ch in s.channels] == [False] * 4 + [True] * 4


def test_analog_card_before_an_e1_fills_span_1() -> None:
    c = parse_system_conf("fxoks=1-4\nspan=2,1,0,ccs,hdb3,crc4\nbchan=5-19,21-35\ndchan=20\n")
    a, e1 = c.spans
    assert (a.number, a.kind, [ch.channo for ch in a.channels]) == (1, SpanKind.ANALOG, [1, 2, 3, 4])
    assert e1.number == 2 and e1.channels[0].channo == 5 and e1.channels[15].signalling == Signalling.DCHAN


def test_dynamic_spans_from_the_dahdi_vm() -> None:
    text = (ROOT / "examples" / "dahdi" / "system.conf").read_text()
    assert parse_system_conf(text).spans  # the shipped example parses
    c = parse_system_conf(
        "dynamic=loc,1:0,24,0\ndynamic=loc,1:1,24,0\nbchan=1\ncas=2:1101\nfxoks=3\n"
        "bchan=25\ncas=26:1101\nfxsks=27\nloadzone=us\ndefaultzone=us\n"
    )
    s1, s2 = c.spans
    assert (s1.kind, s2.kind) == (SpanKind.T1, SpanKind.T1)
    assert [ch.channo for ch in s2.channels] == [25, 26, 27]
    assert [ch.chanpos for ch in s2.channels] == [1, 2, 3]
    assert c.dynamic[1].address == "1:1" and c.cas_idle == {2: 13, 26: 13}


def test_comments_case_and_spaces() -> None:
    c = parse_system_conf(
        "  SPAN = 1, 1, 0, CCS, HDB3, CRC4   # pri\n\n# x=y\nBChan = 1 - 15 , 17-31\nDCHAN=16\n"
    )
    assert len(c.spans[0].channels) == 31


def test_shipped_examples_read() -> None:
    c = read_system_conf(str(ROOT / "examples" / "dahdi" / "system.conf"))
    assert [s.kind for s in c.spans] == [SpanKind.E1, SpanKind.E1, SpanKind.ANALOG]
    sim = read_sim_config(str(ROOT / "examples" / "sim" / "callcentre.toml"))
    assert [len(s.channels) for s in sim.spans] == [30, 30, 31, 8]
    assert sim.far_ends[4].role == "phone" and sim.far_ends[3].calls_per_minute == 8.0
    assert sim.far_ends[1].calls_per_minute == 4.0 and [f.kind for f in sim.faults] == ["los", "slip"]


def test_parse_channels() -> None:
    assert parse_channels("1-3, 7 ,9-10") == [1, 2, 3, 7, 9, 10]


# -- every error kind, with its line and key ---------------------------------------------------

ERRORS = [
    ("span=1,1,0,cas,hdb3\njunk\n", 2, "", "expected key=value"),
    ("=5\n", 1, "", "missing key"),
    ("bchan=\n", 1, "bchan", "empty value"),
    ("\nfoo=1\n", 2, "foo", "unknown key"),
    ("span=1,1,0,cas\n", 1, "span", "expected span="),
    ("span=0,1,0,cas,hdb3\n", 1, "span", "span number"),
    ("span=1,x,0,cas,hdb3\n", 1, "span", "timing"),
    ("span=1,1,9,cas,hdb3\n", 1, "span", "line build-out"),
    ("span=1,1,0,sf,hdb3\n", 1, "span", "unknown framing"),
    ("span=1,1,0,cas,nrz\n", 1, "span", "unknown coding"),
    ("span=1,1,0,cas,b8zs\n", 1, "span", "T1 line code"),
    ("span=1,1,0,esf,hdb3\n", 1, "span", "E1 line code"),
    ("span=1,1,0,esf,b8zs,crc4\n", 1, "span", "no CRC-4"),
    ("span=1,1,0,cas,hdb3,loud\n", 1, "span", "unknown span option"),
    ("span=1,1,0,cas,hdb3,crc4,crc4\n", 1, "span", "twice"),
    ("span=1,1,0,cas,hdb3\nspan=1,0,0,cas,hdb3\n", 2, "span", "already configured at line 1"),
    ("fxoks=1-x\n", 1, "fxoks", "bad channel"),
    ("fxoks=1,\n", 1, "fxoks", "bad channel"),
    ("fxoks=5-3\n", 1, "fxoks", "backwards"),
    ("fxoks=0\n", 1, "fxoks", "out of range"),
    ("fxoks=1025\n", 1, "fxoks", "out of range"),
    ("fxoks=1,1\n", 1, "fxoks", "listed twice"),
    ("fxoks=1-4\nfxsks=4\n", 2, "fxsks", "already configured as fxoks at line 1"),
    ("span=1,1,0,cas,hdb3\ncas=1-15:11\n", 2, "cas", "idle bits"),
    ("fxsgs=1\n", 1, "fxsgs", "ground start"),
    ("e1chan=1\n", 1, "e1chan", "e&me1"),
    ("dacs=1-24:25\n", 1, "dacs", "DACS"),
    ("fxoks=1\necho=oslec,1\n", 2, "echo", "unknown key"),
    ("fxoks=1\nechocanceller=oslec\n", 2, "echocanceller", "expected echocanceller"),
    ("fxoks=1\nechocanceller=OS LEC,1\n", 2, "echocanceller", "bad echo canceller name"),
    ("fxoks=1\n\nechocanceller=oslec,1-2\n", 3, "echocanceller", "channel 2 has no signalling"),
    ("span=1,1,0,ccs,hdb3\ndchan=16\nechocanceller=oslec,16\n", 3, "echocanceller", "carries no audio"),
    ("fxoks=1\nechocanceller=a,1\nechocanceller=b,1\n", 3, "echocanceller", "already has"),
    ("loadzone=u\n", 1, "loadzone", "bad tone zone"),
    ("defaultzone=us\ndefaultzone=uk\n", 2, "defaultzone", "already set at line 1"),
    ("loadzone=us\ndefaultzone=uk\n", 2, "defaultzone", "not loaded"),
    ("dynamic=loc,1:0\n", 1, "dynamic", "expected dynamic="),
    ("dynamic=loc,1:0,40,0\n", 1, "dynamic", "numchans"),
    ("dynamic=,1:0,24,0\n", 1, "dynamic", "bad driver"),
    ("bchan=1-23\n", 1, "bchan", "not on any span"),
    ("span=1,1,0,esf,b8zs\nbchan=1-23\ndchan=24\nbchan=25\n", 4, "bchan", "span 1 ends at channel 24"),
    ("span=2,1,0,esf,b8zs\nbchan=1-24\n", 1, "span", "span 1 is not declared"),
    ("span=1,1,0,cas,hdb3\ncas=1-16:1101\n", 2, "cas", "TS16"),
    ("span=1,1,0,cas,hdb3\ndchan=5\n", 2, "dchan", "no D-channel"),
    ("span=1,1,0,ccs,hdb3\ncas=1-15:1101\n", 2, "cas", "CCS framed"),
    ("span=1,1,0,ccs,hdb3\nbchan=1-16\n", 2, "bchan", "must be the D-channel"),
]


@pytest.mark.parametrize(("text", "line", "key", "words"), ERRORS)
def test_errors_name_file_line_and_key(text: str, line: int, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as ei:
        parse_system_conf(text, "/etc/dahdi/system.conf")
    e = ei.value
    assert (e.path, e.line, e.key) == ("/etc/dahdi/system.conf", line, key), str(e)
    assert words in str(e)
    assert str(e).startswith(f"/etc/dahdi/system.conf:{line}: ")


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as ei:
        read_system_conf(str(tmp_path / "missing.conf"))
    assert ei.value.path.endswith("missing.conf") and "cannot read" in str(ei.value)
    bad = tmp_path / "latin1.conf"
    bad.write_bytes(b"# ok\nloadzone=us\n# caf\xe9\n")
    with pytest.raises(ConfigError) as ei:
        read_system_conf(str(bad))
    assert ei.value.line == 3 and "UTF-8" in str(ei.value)


# -- hypothesis: any text is a config or a ConfigError with a line ------------------------------

KEYS = ["span", "bchan", "dchan", "hardhdlc", "cas", "fxoks", "fxsks", "fxsls", "fxols", "e&m", "unused"]
KEYS += ["echocanceller", "loadzone", "defaultzone", "dynamic", "e1chan", "fxsgs", "bogus", ""]
VALUE_PIECES = ["1", "2", "15", "16", "17", "24", "31", "1024", "0", "-", ",", ":", "1101", "cas", "ccs"]
VALUE_PIECES += ["esf", "d4", "hdb3", "b8zs", "ami", "crc4", "yellow", "oslec", "us", "loc", " ", "x", "\t"]


@st.composite
def conf_lines(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        if draw(st.booleans()):
            key = draw(st.sampled_from(KEYS))
            value = "".join(draw(st.lists(st.sampled_from(VALUE_PIECES), max_size=10)))
            sep = draw(st.sampled_from(["=", " = ", "", "=="]))
            comment = draw(st.sampled_from(["", " # c", "#"]))
            lines.append(f"{key}{sep}{value}{comment}")
        else:
            lines.append(draw(st.text(max_size=30)))
    return "\n".join(lines)


def _check_any(text: str) -> None:
    n_lines = text.count("\n") + 1
    try:
        conf = parse_system_conf(text, "fuzz.conf")
    except ConfigError as e:
        assert e.path == "fuzz.conf"
        assert 1 <= e.line <= n_lines, (e.line, str(e))
        assert str(e).startswith(f"fuzz.conf:{e.line}: ")
        return
    seen = set()
    for s in conf.spans:
        for ch in s.channels:
            assert ch.span == s.number and ch.chanpos >= 1 and ch.channo not in seen
            seen.add(ch.channo)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conf_lines())
def test_hypothesis_structured_text(text: str) -> None:
    _check_any(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_hypothesis_arbitrary_text(text: str) -> None:
    _check_any(text)


# -- the sim description ------------------------------------------------------------------------

SIM_ERRORS = [
    ("[board]\nseed = -1\n[[span]]\nkind='E1'\n", 2, "board.seed", "within"),
    ("[[span]]\nkind = 'E3'\n", 2, "span.0.kind", "expected one of"),
    ("[[span]]\nkind='E1'\n\n[[span]]\nkind = 'T1'\ncrc4 = true\n", 6, "span.1.crc4", "CRC-6"),
    ("[[span]]\nkind='E1'\nframing='ccs'\nsignalling='cas'\n", 4, "span.0.signalling", "no CAS"),
    ("[[span]]\nkind='E1'\nports = 3\n", 3, "span.0.ports", "only analog"),
    ("[[span]]\nkind='E1'\ncas_idle='12'\n", 3, "span.0.cas_idle", "binary"),
    ("[[span]]\nkind='E1'\ncolour='red'\n", 3, "span.0.colour", "unknown key"),
    ("[far_end]\nnoise_dbm0 = 'loud'\n[[span]]\n", 2, "far_end.noise_dbm0", "expected a number"),
    ("[far_end]\nhold_time_s = [9, 3]\n[[span]]\n", 2, "far_end.hold_time_s", "low <= high"),
    ("[far_end]\ndigits = ['12x']\n[[span]]\n", 2, "far_end.digits", "0-9"),
    ("[[span]]\n[span.far_end]\nrole = 'robot'\n", 3, "span.0.far_end.role", "pstn"),
    ("[[span]]\nfar_end = { loss_db = 99 }\n", 2, "span.0.far_end.loss_db", "within"),
    ("[[span]]\n[[fault]]\nspan = 3\n", 3, "fault.0.span", "no span 3"),
    ("[[span]]\n[[fault]]\nkind = 'fire'\n", 3, "fault.0.kind", "expected one of"),
    ("[board]\nname = 'x'\n", 1, "span", "no spans"),
    ("[[span]]\ncount = 40\n", 1, "span", "at most 1024"),
    ("[[span]]\nkind = 'E1'\nkind = 'T1'\n", 3, "", "TOML"),
    ("extra = 1\n[[span]]\n", 1, "extra", "unknown key"),
]


@pytest.mark.parametrize(("text", "line", "key", "words"), SIM_ERRORS)
def test_sim_errors_name_line_and_key(text: str, line: int, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as ei:
        parse_sim_config(text, "board.toml")
    assert (ei.value.path, ei.value.line, ei.value.key) == ("board.toml", line, key), str(ei.value)
    assert words in str(ei.value)


def test_sim_from_system_conf(tmp_path: Path) -> None:
    (tmp_path / "system.conf").write_text(E1_PRI)
    toml = tmp_path / "b.toml"
    toml.write_text(
        "[board]\nsystem_conf = 'system.conf'\n[far_end]\nloss_db = 6.0\n"
        "[[span]]\nnumber = 2\nfar_end = { role = 'pstn', echo_erl_db = 3.0 }\n"
    )
    sim = read_sim_config(str(toml))
    assert sim.system is not None and [s.number for s in sim.spans] == [1, 2]
    assert sim.far_ends[1].loss_db == 6.0 and sim.far_ends[2].echo_erl_db == 3.0
    assert sim.far_ends[2].loss_db == 6.0
    toml.write_text("[board]\nsystem_conf = 'system.conf'\n[[span]]\nnumber = 5\n")
    with pytest.raises(ConfigError) as ei:
        read_sim_config(str(toml))
    assert (ei.value.line, ei.value.key) == (4, "span.0.number")


def test_sim_t1_clear_span_has_d_channel_on_24() -> None:
    sim = parse_sim_config("[[span]]\nkind='T1'\nsignalling='clear'\ncount=2\n")
    assert [len(s.channels) for s in sim.spans] == [24, 24]
    assert sim.spans[1].channels[-1].channo == 48 and sim.spans[1].channels[-1].signalling == Signalling.DCHAN


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_sim_hypothesis_arbitrary_text(text: str) -> None:
    try:
        parse_sim_config(text, "f.toml")
    except ConfigError as e:
        assert e.path == "f.toml"
