"""ccfw.image: Intel HEX / S-record / binary readers, writers and operations.

Figures are checked against tests/data/make_samples.py, which formats records by hand, and
against GNU objcopy (binutils) as a peer that shares no code with intelhex or bincopy."""

from __future__ import annotations

import importlib.util
import subprocess
import zlib
from pathlib import Path

import bincopy
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ccfw import image as im
from ccfw.errors import FirmwareError

DATA = Path(__file__).parent / "data"
_spec = importlib.util.spec_from_file_location("make_samples", DATA / "make_samples.py")
assert _spec and _spec.loader
samples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(samples)
FIG = samples.figures()
BASE = samples.SEGMENTS[0][0]


def ihex_rec(rtype: int, address: int, data: bytes, count: int | None = None, csum: int | None = None) -> str:
    body = bytes([len(data) if count is None else count, address >> 8 & 0xFF, address & 0xFF, rtype]) + data
    return ":" + (body + bytes([(-sum(body) & 0xFF) if csum is None else csum])).hex().upper()


def srec_rec(rtype: str, address: int, data: bytes, width: int = 2, count: int | None = None) -> str:
    n = width + len(data) + 1 if count is None else count
    body = bytes([n]) + address.to_bytes(width, "big") + data
    return f"S{rtype}" + (body + bytes([0xFF - (sum(body) & 0xFF)])).hex().upper()


def lines(*recs: str) -> bytes:
    return ("\n".join(recs) + "\n").encode()


# --------------------------------------------------------------------------- shipped samples


def test_shipped_samples_are_what_the_script_writes(tmp_path: Path) -> None:
    samples.write(tmp_path)
    for name in ("sample.hex", "sample.s19", "sample.bin"):
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name


@pytest.mark.parametrize("name", ["sample.hex", "sample.s19"])
def test_info_matches_independent_figures(name: str) -> None:
    info = im.load(DATA / name).info()
    assert [list(r) for r in info.ranges] == [list(r) for r in FIG["ranges"]]
    assert [list(g) for g in info.gaps] == [list(g) for g in FIG["gaps"]]
    assert info.size == FIG["size"] == 4160
    assert info.span == FIG["span"] == 6176
    assert info.crc32 == FIG["crc32"]
    assert info.crc32_filled == FIG["crc32_filled"]
    assert info.start_address == FIG["start"]


def test_segments_hold_the_generated_bytes() -> None:
    img = im.load(DATA / "sample.hex")
    assert [(s.address, s.data) for s in img.segments] == samples.SEGMENTS
    assert img.format == "ihex"
    srec = im.load(DATA / "sample.s19")
    assert srec.header == b"ccfw sample" and srec.format == "srec"


def test_binary_loads_at_base_and_crc_is_zlib() -> None:
    img = im.load(DATA / "sample.bin", base=BASE)
    assert img.segments[0].address == BASE and img.to_bytes() == FIG["flat"]
    assert img.crc32() == zlib.crc32(FIG["flat"]) == FIG["crc32_filled"]
    assert img.start_address is None


def test_crc32_filled_with_other_fill_byte() -> None:
    img = im.load(DATA / "sample.hex")
    flat = bytearray(FIG["flat"])
    for a, b in FIG["gaps"]:
        flat[a - BASE : b - BASE] = b"\x00" * (b - a)
    assert img.crc32_filled(0x00) == zlib.crc32(bytes(flat))


def test_bincopy_reads_the_same_data() -> None:
    bf = bincopy.BinFile(str(DATA / "sample.hex"))
    assert bf.as_binary(padding=b"\xff") == im.load(DATA / "sample.s19").to_bytes()


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("src", ["sample.hex", "sample.s19"])
@pytest.mark.parametrize("fmt", ["ihex", "srec"])
def test_round_trip_text_formats(src: str, fmt: str) -> None:
    img = im.load(DATA / src)
    back = im.loads(im.dumps(img, fmt), fmt)
    assert back.segments == img.segments and back.start_address == img.start_address


def test_bin_output_is_the_flat_span() -> None:
    assert im.dumps(im.load(DATA / "sample.hex"), "bin") == FIG["flat"]
    assert im.dumps(im.load(DATA / "sample.hex"), "bin", fill=0x00).count(0) >= 2016


def test_ihex_records_split_at_64k() -> None:
    text = im.dumps(im.load(DATA / "sample.s19"), "ihex").decode()
    for rec in text.split():
        raw = bytes.fromhex(rec[1:])
        if raw[3] == 0:
            assert (raw[1] << 8 | raw[2]) + raw[0] <= 0x10000, rec


@pytest.mark.parametrize("fmt,objfmt,ext", [("ihex", "ihex", "hex"), ("srec", "srec", "s19")])
def test_objcopy_reads_our_output(tmp_path: Path, fmt: str, objfmt: str, ext: str) -> None:
    src = tmp_path / f"ours.{ext}"
    src.write_bytes(im.dumps(im.load(DATA / "sample.hex"), fmt))
    out = tmp_path / "flat.bin"
    subprocess.run(
        ["objcopy", "-I", objfmt, "-O", "binary", "--gap-fill", "0xff", str(src), str(out)],
        check=True,
        timeout=30,
    )
    assert out.read_bytes() == FIG["flat"]


@pytest.mark.parametrize("objfmt,ext", [("ihex", "hex"), ("srec", "s19")])
def test_we_read_objcopy_output(tmp_path: Path, objfmt: str, ext: str) -> None:
    out = tmp_path / f"peer.{ext}"
    subprocess.run(
        ["objcopy", "-I", "ihex", "-O", objfmt, str(DATA / "sample.hex"), str(out)], check=True, timeout=30
    )
    img = im.load(out)
    assert [(s.address, s.data) for s in img.segments] == samples.SEGMENTS


def test_small_addresses_use_s1_and_s9() -> None:
    img = im.Image.from_segments([(0x100, b"\x01\x02\x03")], start_address=0x100)
    text = im.dumps(img, "srec").decode().split()
    assert [r[:2] for r in text] == ["S1", "S5", "S9"]
    assert im.loads(im.dumps(img, "srec"), "srec").segments == img.segments


segments_st = st.lists(
    st.tuples(st.integers(0, 0xFFFF_F000), st.binary(min_size=1, max_size=300)), min_size=0, max_size=6
)


def _disjoint(segs: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    out: list[tuple[int, bytes]] = []
    for a, d in sorted(segs):
        if out and a <= out[-1][0] + len(out[-1][1]):
            continue
        out.append((a, d))
    return out


@settings(max_examples=60, deadline=None)
@given(
    segments_st,
    st.one_of(st.none(), st.integers(0, 0xFFFF_FFFF)),
    st.sampled_from(["ihex", "srec"]),
    st.integers(1, 64),
)
def test_round_trip_arbitrary_images(
    segs: list[tuple[int, bytes]], start: int | None, fmt: str, record_size: int
) -> None:
    img = im.Image.from_segments(_disjoint(segs), start_address=start)
    back = im.loads(im.dumps(img, fmt, record_size=record_size), fmt)
    assert back.segments == img.segments
    assert back.start_address == start


def test_ihex_segment_records_and_cs_ip_start() -> None:
    data = lines(
        ihex_rec(2, 0, b"\x10\x00"),  # segment base 0x1000 * 16 = 0x10000
        ihex_rec(0, 0x0010, b"\xaa\xbb"),
        ihex_rec(3, 0, b"\x12\x34\x00\x10"),  # CS:IP = 1234:0010
        ihex_rec(1, 0, b""),
    )
    img = im.loads(data, "ihex")
    assert [(s.address, s.data) for s in img.segments] == [(0x10010, b"\xaa\xbb")]
    assert img.start_address == 0x12340 + 0x10


def test_whitespace_crlf_and_blank_lines_are_tolerated() -> None:
    text = (
        b"\r\n  " + ihex_rec(0, 0, b"\x01").encode() + b"  \r\n\r\n" + ihex_rec(1, 0, b"").encode() + b"\r\n"
    )
    assert im.loads(text, "ihex").segments == (im.Segment(0, b"\x01"),)


# --------------------------------------------------------------------------- malformed input

GOOD_IHEX = [ihex_rec(0, 0, bytes(range(16))), ihex_rec(0, 0x10, bytes(range(16, 32))), ihex_rec(1, 0, b"")]
GOOD_SREC = [
    srec_rec("0", 0, b"hdr"),
    srec_rec("1", 0, bytes(range(16))),
    srec_rec("1", 0x10, bytes(range(16, 32))),
    srec_rec("5", 2, b""),
    srec_rec("9", 0, b""),
]


def _bad_csum(rec: str) -> str:
    return rec[:-2] + f"{(int(rec[-2:], 16) + 1) & 0xFF:02X}"


IHEX_CASES = [
    # (name, lines, error class, line, field)
    (
        "checksum",
        [GOOD_IHEX[0], _bad_csum(GOOD_IHEX[1]), GOOD_IHEX[2]],
        im.RecordChecksumError,
        2,
        "checksum",
    ),
    (
        "record type",
        [GOOD_IHEX[0], ihex_rec(7, 0, b"\x00\x00"), GOOD_IHEX[2]],
        im.RecordTypeError,
        2,
        "record type",
    ),
    ("byte count", [ihex_rec(0, 0, bytes(8), count=16), GOOD_IHEX[2]], im.RecordLengthError, 1, "byte count"),
    ("too short", [":0000", GOOD_IHEX[2]], im.RecordLengthError, 1, "byte count"),
    (
        "non-hex",
        [GOOD_IHEX[0], GOOD_IHEX[1][:11] + "G" + GOOD_IHEX[1][12:], GOOD_IHEX[2]],
        im.NonHexCharacterError,
        2,
        "hex digits",
    ),
    ("odd digits", [GOOD_IHEX[0] + "0", GOOD_IHEX[2]], im.NonHexCharacterError, 1, "hex digits"),
    ("start code", [GOOD_IHEX[0], GOOD_IHEX[1][1:], GOOD_IHEX[2]], im.StartCodeError, 2, "start code"),
    ("overlap", [GOOD_IHEX[0], ihex_rec(0, 0x08, b"\x00"), GOOD_IHEX[2]], im.OverlapError, 2, "address"),
    ("ela length", [ihex_rec(4, 0, b"\x00\x01\x02"), GOOD_IHEX[2]], im.RecordLengthError, 1, "byte count"),
    ("ela address", [ihex_rec(4, 0x10, b"\x00\x01"), GOOD_IHEX[2]], im.RecordFieldError, 1, "address"),
    ("eof with data", [GOOD_IHEX[0], ihex_rec(1, 0, b"\x00")], im.RecordLengthError, 2, "byte count"),
    ("eof address", [GOOD_IHEX[0], ihex_rec(1, 0x1234, b"")], im.RecordFieldError, 2, "address"),
    (
        "two starts",
        [ihex_rec(5, 0, bytes(4)), ihex_rec(5, 0, bytes(4)), GOOD_IHEX[2]],
        im.DuplicateStartAddressError,
        2,
        "record type",
    ),
    ("missing eof", GOOD_IHEX[:2], im.EndRecordError, 2, "record type"),
    ("after eof", [*GOOD_IHEX, GOOD_IHEX[0]], im.EndRecordError, 4, "record type"),
]


@pytest.mark.parametrize("case", IHEX_CASES, ids=[c[0] for c in IHEX_CASES])
def test_ihex_defects_name_line_and_field(case: tuple) -> None:
    _, recs, cls, line, field = case
    with pytest.raises(cls) as e:
        im.loads(lines(*recs), "ihex", name="fw.hex")
    assert (e.value.file, e.value.line, e.value.field) == ("fw.hex", line, field)
    assert str(e.value).startswith(f"fw.hex:{line}: {field}: ")


def test_ihex_non_hex_names_the_column() -> None:
    with pytest.raises(im.NonHexCharacterError) as e:
        im.loads(lines(GOOD_IHEX[0][:11] + "G" + GOOD_IHEX[0][12:], GOOD_IHEX[2]), "ihex")
    assert e.value.column == 12 and "'G' at column 12" in str(e.value)


def test_non_ascii_byte_names_line_and_column() -> None:
    data = lines(GOOD_IHEX[0]) + b":10\xe9" + b"\n"
    with pytest.raises(im.NonHexCharacterError) as e:
        im.loads(data, "ihex", name="x.hex")
    assert (e.value.line, e.value.column) == (2, 4) and "0xE9" in str(e.value)


def test_ihex_overlap_names_address() -> None:
    with pytest.raises(im.OverlapError) as e:
        im.loads(lines(GOOD_IHEX[0], ihex_rec(0, 0x0F, b"\x01\x02"), GOOD_IHEX[2]), "ihex")
    assert e.value.address == 0x0F and "0x0000000F" in str(e.value)


SREC_CASES = [
    (
        "checksum",
        [GOOD_SREC[0], _bad_csum(GOOD_SREC[1]), *GOOD_SREC[2:]],
        im.RecordChecksumError,
        2,
        "checksum",
    ),
    ("type S4", [GOOD_SREC[0], "S4" + GOOD_SREC[1][2:]], im.RecordTypeError, 2, "record type"),
    ("type SX", ["SX030000FC"], im.RecordTypeError, 1, "record type"),
    ("byte count", [srec_rec("1", 0, bytes(8), count=20)], im.RecordLengthError, 1, "byte count"),
    ("count below address", [srec_rec("3", 0, b"", width=4, count=2)], im.RecordLengthError, 1, "byte count"),
    (
        "non-hex",
        [GOOD_SREC[0], GOOD_SREC[1][:9] + "z" + GOOD_SREC[1][10:]],
        im.NonHexCharacterError,
        2,
        "hex digits",
    ),
    ("inner space", [GOOD_SREC[1][:8] + " " + GOOD_SREC[1][8:]], im.NonHexCharacterError, 1, "hex digits"),
    ("odd digits", [GOOD_SREC[1] + "F"], im.NonHexCharacterError, 1, "hex digits"),
    ("start code", ["X" + GOOD_SREC[1][1:]], im.StartCodeError, 1, "start code"),
    (
        "overlap",
        [GOOD_SREC[1], GOOD_SREC[2], srec_rec("1", 0x1F, b"\x00\x00")],
        im.OverlapError,
        3,
        "address",
    ),
    (
        "record count",
        [GOOD_SREC[1], GOOD_SREC[2], srec_rec("5", 3, b"")],
        im.RecordCountError,
        3,
        "record count",
    ),
    ("S9 with data", [GOOD_SREC[1], srec_rec("9", 0, b"\x01")], im.RecordLengthError, 2, "byte count"),
    ("after S9", [GOOD_SREC[1], GOOD_SREC[4], GOOD_SREC[2]], im.EndRecordError, 3, "record type"),
]


@pytest.mark.parametrize("case", SREC_CASES, ids=[c[0] for c in SREC_CASES])
def test_srec_defects_name_line_and_field(case: tuple) -> None:
    _, recs, cls, line, field = case
    with pytest.raises(cls) as e:
        im.loads(lines(*recs), "srec", name="fw.s19")
    assert (e.value.file, e.value.line, e.value.field) == ("fw.s19", line, field)
    assert str(e.value).startswith(f"fw.s19:{line}: {field}: ")


def test_srec_overlap_names_both_lines() -> None:
    # out of order on purpose: the later line (3) overlaps the record of line 1
    with pytest.raises(im.OverlapError) as e:
        im.loads(lines(GOOD_SREC[2], GOOD_SREC[1], srec_rec("1", 0x1E, b"\x00\x00\x00")), "srec")
    assert e.value.line == 3 and "line 1" in str(e.value) and e.value.address == 0x1E


def test_file_and_format_errors(tmp_path: Path) -> None:
    with pytest.raises(im.ImageFileError) as e:
        im.load(tmp_path / "missing.hex")
    assert "missing.hex" in str(e.value)
    with pytest.raises(im.UnknownFormatError):
        im.loads(b"", "elf")
    with pytest.raises(im.UnknownFormatError):
        im.dump(im.Image(), tmp_path / "out.xyz")
    with pytest.raises(im.EmptyImageError):
        im.dumps(im.Image(), "bin")
    with pytest.raises(im.AddressRangeError):
        im.loads(b"\x00" * 16, "bin", base=0xFFFF_FFF8)


def test_guess_format() -> None:
    assert im.guess_format("a.HEX", b"") == "ihex"
    assert im.guess_format("a.s19", b"") == "srec"
    assert im.guess_format("a.bin", b":00000001FF") == "bin"  # the extension wins
    assert im.guess_format("a", b"\n" + GOOD_IHEX[0].encode()) == "ihex"
    assert im.guess_format("a", GOOD_SREC[0].encode()) == "srec"
    assert im.guess_format("a", b"\x7fELF") == "bin"


# hypothesis: no input makes a parser raise anything but an ImageError

text_st = st.text(alphabet=":S0123456789ABCDEFabcdefG \r\n\t\x00", max_size=400)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(st.binary(max_size=400), text_st.map(str.encode)),
    st.sampled_from([None, "ihex", "srec", "bin"]),
)
def test_arbitrary_input_gives_image_or_image_error(data: bytes, fmt: str | None) -> None:
    try:
        img = im.loads(data, fmt, name="fuzz")
    except im.ImageError as e:
        assert isinstance(e, FirmwareError) and str(e).startswith("fuzz")
    else:
        assert all(s.data for s in img.segments)


def _records_st(draw: st.DrawFn, fmt: str) -> bytes:
    src = (DATA / ("sample.hex" if fmt == "ihex" else "sample.s19")).read_bytes()[:1500]
    pos = draw(st.integers(0, len(src) - 1))
    op = draw(st.sampled_from(["flip", "insert", "delete", "cut"]))
    if op == "flip":
        return src[:pos] + bytes([src[pos] ^ (1 << draw(st.integers(0, 7)))]) + src[pos + 1 :]
    if op == "insert":
        return src[:pos] + draw(st.binary(min_size=1, max_size=3)) + src[pos:]
    if op == "delete":
        return src[:pos] + src[pos + 1 :]
    return src[:pos]


@settings(max_examples=300, deadline=None)
@given(st.data(), st.sampled_from(["ihex", "srec"]))
def test_mutated_records_give_image_or_image_error(data: st.DataObject, fmt: str) -> None:
    blob = _records_st(data.draw, fmt)
    try:
        im.loads(blob, fmt, name="mut")
    except im.ImageError as e:
        assert e.file == "mut"


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_a_flipped_bit_in_a_data_record_is_caught(data: st.DataObject) -> None:
    # sample.hex lines 3.. are data records: a single flipped bit there must not pass
    src = (DATA / "sample.hex").read_bytes()
    lines_ = src.split(b"\r\n")
    n = data.draw(st.integers(2, 40))
    line = lines_[n]
    col = data.draw(st.integers(0, len(line) - 1))
    bit = data.draw(st.integers(0, 6))
    flipped = line[col] ^ (1 << bit)
    assume(chr(flipped).upper() != chr(line[col]).upper())  # 'A' -> 'a' is the same digit
    lines_[n] = line[:col] + bytes([flipped]) + line[col + 1 :]
    with pytest.raises(im.ImageError) as e:
        im.loads(b"\r\n".join(lines_), "ihex")
    assert e.value.line == n + 1


# --------------------------------------------------------------------------- merge / fill / diff


def _sample() -> im.Image:
    return im.load(DATA / "sample.hex")


def test_merge_of_parts_is_the_whole() -> None:
    s = samples.SEGMENTS
    a = im.Image.from_segments([s[0], s[2]], start_address=samples.START, name="a.hex")
    b = im.Image.from_segments(
        [s[1], (s[0][0] + 100, s[0][1][100:200])], name="b.hex"
    )  # overlaps, same bytes
    merged = im.merge([a, b])
    assert merged.segments == _sample().segments and merged.start_address == samples.START


def test_merge_conflict_names_both_files_and_address() -> None:
    a = im.Image.from_segments([(0x1000, bytes(32))], name="boot.hex")
    b = im.Image.from_segments([(0x1010, bytes(5) + b"\x07" + bytes(4))], name="app.hex")
    with pytest.raises(im.MergeConflictError) as e:
        im.merge([a, b])
    assert e.value.address == 0x1015 and e.value.file == "boot.hex" and e.value.other == "app.hex"
    assert "0x00001015" in str(e.value) and "boot.hex" in str(e.value) and "app.hex" in str(e.value)


def test_merge_conflict_inside_a_segment_already_covered_twice() -> None:
    a = im.Image.from_segments([(0, bytes(10))], name="a")
    b = im.Image.from_segments([(2, bytes(18))], name="b")
    c = im.Image.from_segments([(5, b"\x00\x01\x00")], name="c")
    with pytest.raises(im.MergeConflictError) as e:
        im.merge([a, b, c])
    assert e.value.address == 6 and e.value.other == "c"


def test_merge_entry_address_conflict() -> None:
    a = im.Image.from_segments([(0, b"\x01")], start_address=0x100, name="a")
    b = im.Image.from_segments([(8, b"\x01")], start_address=0x200, name="b")
    with pytest.raises(im.MergeConflictError) as e:
        im.merge([a, b])
    assert e.value.field == "start address"
    assert im.merge([a, im.Image.from_segments([(8, b"\x01")], name="c")]).start_address == 0x100


@settings(max_examples=80, deadline=None)
@given(
    st.binary(min_size=1, max_size=600),
    st.lists(st.tuples(st.integers(0, 599), st.integers(1, 200)), max_size=8),
)
def test_merge_of_overlapping_slices_rebuilds_the_image(blob: bytes, cuts: list[tuple[int, int]]) -> None:
    base = 0x2000
    parts = [im.Image.from_segments([(base, blob)], name="whole")]
    parts += [
        im.Image.from_segments([(base + a, blob[a : a + n])], name=f"p{i}")
        for i, (a, n) in enumerate(cuts)
        if a < len(blob)
    ]
    assert im.merge(parts[::-1]).segments == parts[0].segments


def test_fill_gaps_and_margins() -> None:
    filled = im.fill(_sample())
    assert len(filled.segments) == 1 and filled.segments[0].data == FIG["flat"]
    wide = im.fill(_sample(), 0x00, BASE - 16, BASE + 0x2000)
    d = wide.segments[0].data
    assert wide.segments[0].address == BASE - 16 and len(d) == 0x2010
    assert d[:16] == bytes(16) and d[16 : 16 + 3072] == samples.SEGMENTS[0][1] and d[-16:] == bytes(16)
    assert wide.start_address == samples.START


def test_fill_refuses_data_outside_the_range() -> None:
    with pytest.raises(im.AddressRangeError) as e:
        im.fill(_sample(), 0xFF, BASE + 4, BASE + 0x2000)
    assert e.value.field == "fill range" and e.value.address == BASE
    with pytest.raises(im.AddressRangeError):
        im.fill(_sample(), 0x100)
    with pytest.raises(im.EmptyImageError):
        im.fill(im.Image())
    assert im.fill(im.Image(), 0xAA, 0, 4).segments == (im.Segment(0, b"\xaa" * 4),)


def test_diff_identical_and_changed() -> None:
    a = _sample()
    assert im.diff(a, im.load(DATA / "sample.s19")) == []
    blob = bytearray(samples.SEGMENTS[0][1])
    blob[10] ^= 1
    blob[11] ^= 1
    blob[20] ^= 1
    b = im.Image.from_segments([(BASE, bytes(blob)), *samples.SEGMENTS[1:]])
    assert im.diff(a, b) == [
        im.DiffRange(BASE + 10, BASE + 12, "changed"),
        im.DiffRange(BASE + 20, BASE + 21, "changed"),
    ]


def test_diff_only_in_one() -> None:
    a = _sample()
    b = im.load(DATA / "sample.bin", base=BASE)
    assert im.diff(a, b) == [im.DiffRange(a, b, "only_b") for a, b in FIG["gaps"]]
    assert im.diff(b, a) == [im.DiffRange(a, b, "only_a") for a, b in FIG["gaps"]]


def _as_map(img: im.Image) -> dict[int, int]:
    return {s.address + i: v for s in img.segments for i, v in enumerate(s.data)}


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2000), st.binary(min_size=1, max_size=700)), max_size=4),
    st.lists(st.tuples(st.integers(0, 2000), st.binary(min_size=1, max_size=700)), max_size=4),
)
def test_diff_agrees_with_a_byte_map(sa: list[tuple[int, bytes]], sb: list[tuple[int, bytes]]) -> None:
    a, b = im.Image.from_segments(_disjoint(sa)), im.Image.from_segments(_disjoint(sb))
    ma, mb = _as_map(a), _as_map(b)
    want = {}
    for k in ma.keys() | mb.keys():
        if k not in mb:
            want[k] = "only_a"
        elif k not in ma:
            want[k] = "only_b"
        elif ma[k] != mb[k]:
            want[k] = "changed"
    got = {k: r.kind for r in im.diff(a, b) for k in range(r.start, r.end)}
    assert got == want
    ranges = im.diff(a, b)
    assert all(x.end < y.start or x.kind != y.kind for x, y in zip(ranges, ranges[1:], strict=False))


def test_empty_image_info() -> None:
    info = im.Image().info()
    assert (info.size, info.span, info.crc32, info.ranges) == (0, 0, 0, ())
    with pytest.raises(im.EmptyImageError):
        _ = im.Image().min_address


def test_span_limit_keeps_memory_bounded() -> None:
    img = im.Image.from_segments([(0, b"\x01"), (0xF000_0000, b"\x02")])
    with pytest.raises(im.AddressRangeError) as e:
        im.dumps(img, "bin")
    assert e.value.field == "span"
    assert img.info().crc32_filled is None and img.info().crc32 == zlib.crc32(b"\x01\x02")
