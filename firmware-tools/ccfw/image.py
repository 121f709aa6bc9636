"""Firmware images: Intel HEX, Motorola S-record and raw binary.

An :class:`Image` is a set of non-overlapping data segments in a 32-bit address space (bytes,
addresses in bytes) plus an optional entry (start) address. Intel HEX goes through ``intelhex``
(its reader names the line of a bad record, its writer splits records at 64 KiB boundaries);
S-records go through ``bincopy``'s record codec, fed one line at a time so that every error
gets its line. The libraries say *that* a record is bad; :func:`_diagnose_ihex` and
:func:`_diagnose_srec` re-read the offending line to say *which field* is bad.

Every defect raises an :class:`ImageError` subclass carrying ``file``, ``line``, ``field`` (and
``column`` / ``address`` where they apply); the message reads ``file:line: field: detail``.

Conventions:
  * Intel HEX needs its end-of-file record (type 01): a file cut short is refused. A start
    segment address (type 03, CS:IP) is kept as the linear address CS*16+IP and written back
    as a start linear address record (type 05).
  * S-records: the record count (S5/S6) is checked when present; the termination record
    (S7/S8/S9) is optional, as many tools omit it.
  * Raw binary has no addresses: it loads at ``base`` (default 0) and is written from the
    image's lowest address, gaps filled with the fill byte (0xFF, erased flash).
"""

from __future__ import annotations

import binascii
import bisect
import io
import os
import re
import string
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import bincopy  # type: ignore[import-untyped, unused-ignore]
import intelhex  # type: ignore[import-untyped, unused-ignore]

from ccfw.errors import FirmwareError

Format = Literal["ihex", "srec", "bin"]
FORMATS: tuple[Format, ...] = ("ihex", "srec", "bin")
ADDRESS_LIMIT = 1 << 32  # bytes: every format here addresses at most 4 GiB
MAX_SPAN = 256 << 20  # bytes: largest contiguous output (raw binary, fill) we build in memory
ERASED = 0xFF  # fill byte of erased NOR flash

_EXTENSIONS: dict[str, Format] = {
    ".hex": "ihex",
    ".ihex": "ihex",
    ".ihx": "ihex",
    ".h86": "ihex",
    ".s19": "srec",
    ".s28": "srec",
    ".s37": "srec",
    ".srec": "srec",
    ".mot": "srec",
    ".mhx": "srec",
    ".sx": "srec",
    ".bin": "bin",
    ".img": "bin",
    ".raw": "bin",
}


# --------------------------------------------------------------------------- errors


class ImageError(FirmwareError):
    """A firmware image cannot be read, written or combined; names file, line and field."""

    def __init__(
        self,
        detail: str,
        *,
        file: str,
        line: int | None = None,
        field: str | None = None,
        column: int | None = None,
        address: int | None = None,
    ) -> None:
        self.detail = detail
        self.file = file
        self.line = line
        self.field = field
        self.column = column
        self.address = address
        where = file if line is None else f"{file}:{line}"
        super().__init__(f"{where}: {field}: {detail}" if field else f"{where}: {detail}")


class ImageFileError(ImageError):
    """The file cannot be opened, read or written (missing, a directory, no permission)."""


class UnknownFormatError(ImageError):
    """The format name is not one we know, or cannot be guessed."""


class RecordError(ImageError):
    """One record (line) of a HEX or S-record file is malformed."""


class StartCodeError(RecordError):
    """A record does not begin with ':' (Intel HEX) or 'S' (S-record)."""


class NonHexCharacterError(RecordError):
    """A record holds a character that is not a hex digit (or an odd number of digits)."""


class RecordLengthError(RecordError):
    """The byte count disagrees with the record, or the record is too short for its type."""


class RecordTypeError(RecordError):
    """The record type is not one the format defines."""


class RecordChecksumError(RecordError):
    """The record's checksum byte does not match its contents."""


class RecordFieldError(RecordError):
    """A field holds a value its record type forbids (e.g. a non-zero address in a type 04)."""


class RecordCountError(RecordError):
    """An S5/S6 record count disagrees with the number of data records before it."""


class DuplicateStartAddressError(RecordError):
    """A second start (entry) address record."""


class EndRecordError(RecordError):
    """The end-of-file record is missing, or records follow it."""


class OverlapError(ImageError):
    """Two records of one file write the same address."""


class AddressRangeError(ImageError):
    """An address or range lies outside the 32-bit space, or a range is empty or too large."""


class MergeConflictError(ImageError):
    """Two images to merge hold different data (or entry addresses) at the same address."""

    def __init__(self, detail: str, *, file: str, other: str, field: str, address: int | None) -> None:
        self.other = other
        super().__init__(detail, file=file, field=field, address=address)


class EmptyImageError(ImageError):
    """The operation needs data and the image has none."""


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Segment:
    """Contiguous data at ``address`` (bytes)."""

    address: int
    data: bytes

    @property
    def end(self) -> int:
        """One past the last address (exclusive)."""
        return self.address + len(self.data)


@dataclass(frozen=True)
class ImageInfo:
    """Figures of an image; addresses in bytes, ``end`` exclusive."""

    name: str
    format: str | None
    ranges: tuple[tuple[int, int], ...]
    gaps: tuple[tuple[int, int], ...]
    size: int  # data bytes
    span: int  # bytes from the lowest address to one past the highest
    crc32: int  # CRC-32 (zlib) of the data bytes in address order, gaps skipped
    crc32_filled: int | None  # CRC-32 of the span with gaps = fill byte (None if span > MAX_SPAN)
    fill: int
    start_address: int | None
    header: bytes | None


@dataclass(frozen=True)
class DiffRange:
    """A run of addresses [start, end) where two images differ."""

    start: int
    end: int
    kind: Literal["changed", "only_a", "only_b"]


@dataclass(frozen=True)
class Image:
    """Sorted, non-overlapping, non-adjacent segments plus an entry address."""

    segments: tuple[Segment, ...] = ()
    start_address: int | None = None
    name: str = "<image>"
    format: str | None = None
    header: bytes | None = None  # S0 record payload, kept for S-record output

    @classmethod
    def from_segments(
        cls,
        segments: Iterable[tuple[int, bytes]],
        *,
        start_address: int | None = None,
        name: str = "<image>",
        format: str | None = None,
        header: bytes | None = None,
    ) -> Image:
        """Build from (address, data) pairs, merging adjacent ones; overlap is an error."""
        merged: list[tuple[int, bytearray]] = []
        for address, data in sorted(((a, bytes(d)) for a, d in segments if d), key=lambda s: s[0]):
            _check_range(address, address + len(data), name)
            if merged and address < merged[-1][0] + len(merged[-1][1]):
                raise OverlapError(
                    f"data at 0x{address:08X} overlaps the segment at 0x{merged[-1][0]:08X}",
                    file=name,
                    field="address",
                    address=address,
                )
            if merged and address == merged[-1][0] + len(merged[-1][1]):
                merged[-1][1].extend(data)
            else:
                merged.append((address, bytearray(data)))
        if start_address is not None and not 0 <= start_address < ADDRESS_LIMIT:
            raise AddressRangeError(
                f"0x{start_address:X} is outside the 32-bit address space", file=name, field="start address"
            )
        return cls(
            tuple(Segment(a, bytes(d)) for a, d in merged),
            start_address,
            name,
            format,
            header,
        )

    @property
    def min_address(self) -> int:
        """Lowest address holding data (EmptyImageError if none)."""
        self._need_data("min_address")
        return self.segments[0].address

    @property
    def max_address(self) -> int:
        """One past the highest address holding data (exclusive)."""
        self._need_data("max_address")
        return self.segments[-1].end

    @property
    def size(self) -> int:
        """Data bytes, gaps not counted."""
        return sum(len(s.data) for s in self.segments)

    def gaps(self) -> list[tuple[int, int]]:
        """Holes [start, end) between segments."""
        return [(a.end, b.address) for a, b in zip(self.segments, self.segments[1:], strict=False)]

    def crc32(self) -> int:
        """CRC-32 (IEEE 802.3, as zlib) of the data bytes in address order, gaps skipped."""
        crc = 0
        for s in self.segments:
            crc = zlib.crc32(s.data, crc)
        return crc

    def crc32_filled(self, fill: int = ERASED) -> int:
        """CRC-32 of the whole span with gaps filled with ``fill`` (what flash would hold)."""
        _check_byte(fill, self.name)
        crc = 0
        chunk = bytes([fill]) * 65536
        prev_end: int | None = None
        for s in self.segments:
            if prev_end is not None:
                gap = s.address - prev_end
                while gap:
                    n = min(gap, len(chunk))
                    crc = zlib.crc32(chunk[:n], crc)
                    gap -= n
            crc = zlib.crc32(s.data, crc)
            prev_end = s.end
        return crc

    def to_bytes(self, fill: int = ERASED, start: int | None = None, end: int | None = None) -> bytes:
        """The bytes of [start, end) (default: the span), gaps and margins filled with ``fill``."""
        _check_byte(fill, self.name)
        if start is None or end is None:
            self._need_data("to_bytes")
        lo = self.min_address if start is None else start
        hi = self.max_address if end is None else end
        _check_range(lo, hi, self.name, what="output range")
        if hi - lo > MAX_SPAN:
            raise AddressRangeError(
                f"0x{lo:08X}..0x{hi:08X} is {hi - lo} bytes, more than the {MAX_SPAN} a raw image may span",
                file=self.name,
                field="span",
                address=lo,
            )
        out = bytearray([fill]) * (hi - lo)
        for s in self.segments:
            a, b = max(s.address, lo), min(s.end, hi)
            if a < b:
                out[a - lo : b - lo] = s.data[a - s.address : b - s.address]
        return bytes(out)

    def info(self, fill: int = ERASED) -> ImageInfo:
        """Address ranges, gaps, sizes, CRC-32s and entry address."""
        span = self.max_address - self.min_address if self.segments else 0
        return ImageInfo(
            name=self.name,
            format=self.format,
            ranges=tuple((s.address, s.end) for s in self.segments),
            gaps=tuple(self.gaps()),
            size=self.size,
            span=span,
            crc32=self.crc32(),
            crc32_filled=self.crc32_filled(fill) if span <= MAX_SPAN else None,
            fill=fill,
            start_address=self.start_address,
            header=self.header,
        )

    def _need_data(self, what: str) -> None:
        if not self.segments:
            raise EmptyImageError(f"{what} needs data and the image holds none", file=self.name, field="data")


def _check_byte(value: int, name: str) -> None:
    if not 0 <= value <= 0xFF:
        raise AddressRangeError(f"fill byte {value} is not in 0..255", file=name, field="fill")


def _check_range(lo: int, hi: int, name: str, what: str = "address") -> None:
    if not 0 <= lo <= hi <= ADDRESS_LIMIT:
        raise AddressRangeError(
            f"0x{lo:X}..0x{hi:X} is not a range inside the 32-bit address space",
            file=name,
            field=what,
            address=lo,
        )


# --------------------------------------------------------------------------- format guess


def guess_format(name: str, data: bytes) -> Format:
    """The format from the file name's extension, else from the first non-blank line."""
    ext = os.path.splitext(name)[1].lower()
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    head = data[:4096].lstrip(b" \t\r\n")
    first = head.split(b"\n", 1)[0].rstrip(b" \t\r")
    if re.fullmatch(rb":[0-9A-Fa-f]{10,}", first):
        return "ihex"
    if re.fullmatch(rb"S[0-9][0-9A-Fa-f]{6,}", first):
        return "srec"
    return "bin"


def _format_name(fmt: str | None, name: str) -> Format | None:
    if fmt is None:
        return None
    aliases = {"hex": "ihex", "ihex": "ihex", "intelhex": "ihex", "srec": "srec", "s19": "srec"}
    aliases |= {"mot": "srec", "s-record": "srec", "bin": "bin", "binary": "bin", "raw": "bin"}
    try:
        return aliases[fmt.lower()]  # type: ignore[return-value]
    except KeyError:
        raise UnknownFormatError(
            f"unknown format {fmt!r} (use ihex, srec or bin)", file=name, field="format"
        ) from None


# --------------------------------------------------------------------------- reading


def load(path: str | os.PathLike[str], format: str | None = None, *, base: int = 0) -> Image:
    """Read an image file; ``format`` is ihex/srec/bin or None to guess; ``base`` places a raw binary."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ImageFileError(e.strerror or str(e), file=name, field="file") from None
    return loads(data, format, name=name, base=base)


def loads(data: bytes, format: str | None = None, *, name: str = "<bytes>", base: int = 0) -> Image:
    """Parse image bytes; see :func:`load`."""
    fmt = _format_name(format, name) or guess_format(name, data)
    if fmt == "bin":
        _check_range(base, base + len(data), name, what="base")
        return Image.from_segments([(base, data)], name=name, format="bin")
    lines = _split_lines(data, name)
    if fmt == "ihex":
        return _load_ihex(lines, name)
    return _load_srec(lines, name)


def _split_lines(data: bytes, name: str) -> list[str]:
    """Lines (1-based index = position + 1) with surrounding white space removed; ASCII only."""
    lines = []
    for number, raw in enumerate(data.split(b"\n"), 1):
        text = raw.strip(b" \t\r\x00\x1a")  # NUL/^Z padding from old transfer tools
        bad = _NOT_PRINTABLE.search(text)
        if bad:
            column = bad.start() + 1
            raise NonHexCharacterError(
                f"byte 0x{text[bad.start()]:02X} at column {column} is not a printable ASCII character",
                file=name,
                line=number,
                field="hex digits",
                column=column,
            )
        lines.append(text.decode("ascii"))
    return lines


_HEX = frozenset(string.hexdigits)
_NOT_PRINTABLE = re.compile(rb"[^\x20-\x7e]")


def _hex_body(text: str, offset: int, name: str, line: int) -> bytes:
    """Decode text[offset:] as hex, naming the first bad column."""
    for i, ch in enumerate(text[offset:], offset + 1):
        if ch not in _HEX:
            raise NonHexCharacterError(
                f"{ch!r} at column {i} is not a hex digit", file=name, line=line, field="hex digits", column=i
            )
    if (len(text) - offset) % 2:
        raise NonHexCharacterError(
            f"odd number of hex digits ({len(text) - offset})", file=name, line=line, field="hex digits"
        )
    return binascii.unhexlify(text[offset:])


_IHEX_TYPES = {
    0: ("data", None),
    1: ("end-of-file", 0),
    2: ("extended segment address", 2),
    3: ("start segment address", 4),
    4: ("extended linear address", 2),
    5: ("start linear address", 4),
}


def _diagnose_ihex(text: str, name: str, line: int) -> RecordError | None:
    """The precise defect of one Intel HEX record, or None if it is well formed."""
    if not text.startswith(":"):
        return StartCodeError(
            f"record starts with {text[:1]!r}, expected ':'",
            file=name,
            line=line,
            field="start code",
            column=1,
        )
    try:
        raw = _hex_body(text, 1, name, line)
    except RecordError as e:
        return e
    if len(raw) < 5:
        return RecordLengthError(
            f"record has {len(raw)} bytes, the shortest (no data) has 5",
            file=name,
            line=line,
            field="byte count",
        )
    count, rtype = raw[0], raw[3]
    if len(raw) != count + 5:
        return RecordLengthError(
            f"byte count says {count} data bytes, the record holds {len(raw) - 5}",
            file=name,
            line=line,
            field="byte count",
        )
    if rtype not in _IHEX_TYPES:
        return RecordTypeError(
            f"record type 0x{rtype:02X} is not one of 00..05", file=name, line=line, field="record type"
        )
    if sum(raw) & 0xFF:
        expected = (-sum(raw[:-1])) & 0xFF
        return RecordChecksumError(
            f"checksum is 0x{raw[-1]:02X}, the record needs 0x{expected:02X}",
            file=name,
            line=line,
            field="checksum",
        )
    label, need = _IHEX_TYPES[rtype]
    if need is not None and count != need:
        return RecordLengthError(
            f"a {label} record (type {rtype:02X}) carries {need} data bytes, not {count}",
            file=name,
            line=line,
            field="byte count",
        )
    if rtype != 0 and (raw[1] or raw[2]):
        return RecordFieldError(
            f"a {label} record (type {rtype:02X}) needs address 0000, not {raw[1]:02X}{raw[2]:02X}",
            file=name,
            line=line,
            field="address",
        )
    return None


def _load_ihex(lines: list[str], name: str) -> Image:
    ih = intelhex.IntelHex()
    try:
        ih.loadhex(io.StringIO("\n".join(lines)))
    except intelhex.AddressOverlapError as e:
        raise OverlapError(
            f"0x{e.address:08X} is written by an earlier record too",
            file=name,
            line=e.line,
            field="address",
            address=e.address,
        ) from None
    except intelhex.DuplicateStartAddressRecordError as e:
        raise DuplicateStartAddressError(
            "a second start address record",
            file=name,
            line=e.line,
            field="record type",
        ) from None
    except intelhex.IntelHexError as e:
        line = getattr(e, "line", None)
        diagnosis = _diagnose_ihex(lines[line - 1], name, line) if line else None
        raise diagnosis or RecordError(str(e), file=name, line=line, field="record") from None
    except (ValueError, TypeError, IndexError) as e:  # library defects we have not mapped
        raise RecordError(f"unreadable record ({e})", file=name, field="record") from None
    # intelhex stops quietly at the first 01 record and accepts a file without one
    eof_line = next((i for i, t in enumerate(lines, 1) if t[7:9] == "01"), None)
    if eof_line is not None and (problem := _diagnose_ihex(lines[eof_line - 1], name, eof_line)):
        raise problem
    if eof_line is None:
        last = max((i for i, t in enumerate(lines, 1) if t), default=1)
        raise EndRecordError(
            "no end-of-file record (type 01): the file is cut short",
            file=name,
            line=last,
            field="record type",
        )
    trailing = next((i for i, t in enumerate(lines[eof_line:], eof_line + 1) if t), None)
    if trailing is not None:
        raise EndRecordError(
            f"a record follows the end-of-file record of line {eof_line}",
            file=name,
            line=trailing,
            field="record type",
        )
    start = ih.start_addr or {}
    entry = start.get("EIP", start["CS"] * 16 + start["IP"] if "CS" in start else None)
    segments = [(a, ih.tobinstr(a, b - 1)) for a, b in ih.segments()]
    return Image.from_segments(segments, start_address=entry, name=name, format="ihex")


_SREC_WIDTH = {"0": 2, "1": 2, "2": 3, "3": 4, "5": 2, "6": 3, "7": 4, "8": 3, "9": 2}
_SREC_OK = re.compile(r"S[0-9][0-9A-Fa-f]{6,}")


def _diagnose_srec(text: str, name: str, line: int) -> RecordError | None:
    """The precise defect of one S-record, or None if it is well formed."""
    if not text.startswith("S"):
        return StartCodeError(
            f"record starts with {text[:1]!r}, expected 'S'",
            file=name,
            line=line,
            field="start code",
            column=1,
        )
    if len(text) < 2 or text[1] not in _SREC_WIDTH:
        return RecordTypeError(
            f"record type {text[1:2]!r} is not one of S0..S3, S5..S9",
            file=name,
            line=line,
            field="record type",
            column=2,
        )
    try:
        raw = _hex_body(text, 2, name, line)
    except RecordError as e:
        return e
    width = _SREC_WIDTH[text[1]]
    if not raw or raw[0] != len(raw) - 1:
        return RecordLengthError(
            f"byte count says {raw[0] if raw else 'nothing'}, "
            f"the record holds {max(len(raw) - 1, 0)} bytes after it",
            file=name,
            line=line,
            field="byte count",
        )
    if raw[0] < width + 1:
        return RecordLengthError(
            f"an S{text[1]} record needs at least {width + 1} bytes (address and checksum), not {raw[0]}",
            file=name,
            line=line,
            field="byte count",
        )
    expected = 0xFF - (sum(raw[:-1]) & 0xFF)
    if raw[-1] != expected:
        return RecordChecksumError(
            f"checksum is 0x{raw[-1]:02X}, the record needs 0x{expected:02X}",
            file=name,
            line=line,
            field="checksum",
        )
    if text[1] in "56789" and raw[0] != width + 1:
        return RecordLengthError(
            f"an S{text[1]} record carries no data, yet its byte count is {raw[0]}",
            file=name,
            line=line,
            field="byte count",
        )
    return None


def _load_srec(lines: list[str], name: str) -> Image:
    records: list[tuple[int, bytes, int]] = []  # (address, data, line)
    header: bytes | None = None
    start: int | None = None
    end_line: int | None = None
    for number, text in enumerate(lines, 1):
        if not text:
            continue
        if end_line is not None:
            raise EndRecordError(
                f"a record follows the termination record of line {end_line}",
                file=name,
                line=number,
                field="record type",
            )
        problem = None if _SREC_OK.fullmatch(text) else _diagnose_srec(text, name, number)
        if problem is None:
            try:
                rtype, address, _size, data = bincopy.unpack_srec(text)
            except (bincopy.Error, ValueError, IndexError) as e:
                problem = _diagnose_srec(text, name, number) or RecordError(
                    str(e), file=name, line=number, field="record"
                )
        if problem is not None:
            raise problem
        # bincopy checks the checksum and the count; the per-type rules are ours
        extra = _diagnose_srec(text, name, number) if rtype in "56789" else None
        if extra is not None:
            raise extra
        if rtype == "0":
            header = bytes(data)
        elif rtype in "123":
            records.append((address, bytes(data), number))
        elif rtype in "56":
            if address != len(records):
                raise RecordCountError(
                    f"record count says {address} data records, {len(records)} precede it",
                    file=name,
                    line=number,
                    field="record count",
                )
        else:
            if start is not None:
                raise DuplicateStartAddressError(
                    "a second termination record", file=name, line=number, field="record type"
                )
            start, end_line = address, number
    records.sort(key=lambda r: r[0])
    for (a0, d0, l0), (a1, _d1, l1) in zip(records, records[1:], strict=False):
        if a1 < a0 + len(d0):
            first, second = sorted((l0, l1))
            raise OverlapError(
                f"0x{a1:08X} is written by line {first} too",
                file=name,
                line=second,
                field="address",
                address=a1,
            )
    return Image.from_segments(
        ((a, d) for a, d, _ in records), start_address=start, name=name, format="srec", header=header
    )


# --------------------------------------------------------------------------- writing


def dumps(image: Image, format: str, *, fill: int = ERASED, record_size: int = 16) -> bytes:
    """Serialise ``image`` as ihex, srec or bin (raw binary from the lowest address)."""
    fmt = _format_name(format, image.name)
    if not 1 <= record_size <= 250:
        raise AddressRangeError(
            f"record size {record_size} is not in 1..250", file=image.name, field="record size"
        )
    if fmt == "bin":
        return image.to_bytes(fill)
    if fmt == "ihex":
        ih = intelhex.IntelHex()
        for s in image.segments:
            ih.frombytes(s.data, offset=s.address)
        if image.start_address is not None:
            ih.start_addr = {"EIP": image.start_address}
        out = io.StringIO()
        ih.write_hex_file(out, byte_count=record_size, eolstyle="native")
        return out.getvalue().replace("\r\n", "\n").encode("ascii")
    bf = bincopy.BinFile(header_encoding=None)
    for s in image.segments:
        bf.add_binary(s.data, s.address)
    top = max([image.max_address - 1 if image.segments else 0, image.start_address or 0])
    bits = 16 if top <= 0xFFFF else 24 if top <= 0xFFFFFF else 32
    if image.header is not None:
        bf.header = image.header[:250]
    if image.start_address is not None:
        bf.execution_start_address = image.start_address
    text: str = bf.as_srec(number_of_data_bytes=record_size, address_length_bits=bits)
    return text.encode("ascii")


def dump(image: Image, path: str | os.PathLike[str], format: str | None = None, **kw: int) -> None:
    """Write ``image`` to ``path``; the format defaults to the one the extension names."""
    name = os.fspath(path)
    fmt = _format_name(format, name) or _EXTENSIONS.get(os.path.splitext(name)[1].lower())
    if fmt is None:
        raise UnknownFormatError(
            "cannot tell the output format from the extension: give it (ihex, srec or bin)",
            file=name,
            field="format",
        )
    data = dumps(image, fmt, **kw)
    try:
        with open(name, "wb") as f:
            f.write(data)
    except OSError as e:
        raise ImageFileError(e.strerror or str(e), file=name, field="file") from None


# --------------------------------------------------------------------------- operations


def merge(images: Sequence[Image], *, name: str = "<merged>") -> Image:
    """Union of the images; the same address may appear twice only with the same byte."""
    segs = sorted((s.address, s.end, s.data, img.name) for img in images for s in img.segments)
    pieces: list[tuple[int, bytes, str]] = []  # accepted, sorted, non-overlapping
    starts: list[int] = []
    reach = 0
    for a, e, d, who in segs:
        if pieces and a < reach:  # compare the shared part with every accepted piece it meets
            i = max(bisect.bisect_right(starts, a) - 1, 0)
            for pa, pd, pwho in pieces[i:]:
                lo, hi = max(a, pa), min(e, pa + len(pd))
                if lo >= hi:
                    if pa >= e:
                        break
                    continue
                ours, theirs = d[lo - a : hi - a], pd[lo - pa : hi - pa]
                if ours != theirs:
                    k = next(j for j, (x, y) in enumerate(zip(ours, theirs, strict=True)) if x != y)
                    raise MergeConflictError(
                        f"0x{lo + k:08X} holds 0x{theirs[k]:02X} in {pwho} and 0x{ours[k]:02X} in {who}",
                        file=pwho,
                        other=who,
                        field="data",
                        address=lo + k,
                    )
            if e <= reach:
                continue
            d, a = d[reach - a :], reach
        pieces.append((a, d, who))
        starts.append(a)
        reach = e
    start: int | None = None
    first = ""
    for img in images:
        if img.start_address is None:
            continue
        if start is None:
            start, first = img.start_address, img.name
        elif img.start_address != start:
            raise MergeConflictError(
                f"entry address 0x{start:08X} in {first}, 0x{img.start_address:08X} in {img.name}",
                file=first,
                other=img.name,
                field="start address",
                address=None,
            )
    header = next((img.header for img in images if img.header is not None), None)
    return Image.from_segments(((a, d) for a, d, _ in pieces), start_address=start, name=name, header=header)


def fill(image: Image, value: int = ERASED, start: int | None = None, end: int | None = None) -> Image:
    """One contiguous segment over [start, end) (default: the span), gaps set to ``value``.

    Data outside [start, end) is an error rather than silently dropped."""
    _check_byte(value, image.name)
    if start is None or end is None:
        image._need_data("fill")
    lo = image.min_address if start is None else start
    hi = image.max_address if end is None else end
    _check_range(lo, hi, image.name, what="fill range")
    for s in image.segments:
        if s.address < lo or s.end > hi:
            bad = s.address if s.address < lo else max(s.address, hi)
            raise AddressRangeError(
                f"data at 0x{bad:08X} lies outside the fill range 0x{lo:08X}..0x{hi:08X}",
                file=image.name,
                field="fill range",
                address=bad,
            )
    data = image.to_bytes(value, lo, hi)
    return Image.from_segments(
        [(lo, data)],
        start_address=image.start_address,
        name=image.name,
        format=image.format,
        header=image.header,
    )


def diff(a: Image, b: Image) -> list[DiffRange]:
    """Runs of addresses where the images differ: changed bytes, or data in only one of them."""
    bounds = sorted({x for img in (a, b) for s in img.segments for x in (s.address, s.end)})
    out: list[DiffRange] = []

    def emit(lo: int, hi: int, kind: Literal["changed", "only_a", "only_b"]) -> None:
        if out and out[-1].end == lo and out[-1].kind == kind:
            out[-1] = DiffRange(out[-1].start, hi, kind)
        else:
            out.append(DiffRange(lo, hi, kind))

    ia = ib = 0
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        while ia < len(a.segments) and a.segments[ia].end <= lo:
            ia += 1
        while ib < len(b.segments) and b.segments[ib].end <= lo:
            ib += 1
        sa = a.segments[ia] if ia < len(a.segments) and a.segments[ia].address <= lo else None
        sb = b.segments[ib] if ib < len(b.segments) and b.segments[ib].address <= lo else None
        if sa is None and sb is None:
            continue
        if sa is None or sb is None:
            emit(lo, hi, "only_b" if sa is None else "only_a")
            continue
        da = sa.data[lo - sa.address : hi - sa.address]
        db = sb.data[lo - sb.address : hi - sb.address]
        if da == db:
            continue
        # walk 256-byte blocks, bytes only inside blocks that differ
        for off in range(0, hi - lo, 256):
            ba, bb = da[off : off + 256], db[off : off + 256]
            if ba == bb:
                continue
            for i, (x, y) in enumerate(zip(ba, bb, strict=True)):
                if x != y:
                    emit(lo + off + i, lo + off + i + 1, "changed")
    return out
