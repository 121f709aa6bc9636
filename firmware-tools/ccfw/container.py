"""The board firmware container: a fixed 128-byte little-endian header, then the payload.

The payload is the flat bytes the bootloader writes at ``load_address``. The header says which
boards may take it and lets the bootloader (and ``ccfw verify``) check it before flashing.

======  ====  ==================  ==========================================================
offset  size  field               meaning
======  ====  ==================  ==========================================================
0       4     magic               ``b"CCFW"``
4       2     header_version      1
6       2     header_size         128 (bytes, header only)
8       16    board_model         ASCII id ``[A-Za-z0-9._-]``, 1..16 chars, NUL padded
24      2     hw_rev_min          lowest hardware revision the image runs on (inclusive)
26      2     hw_rev_max          highest hardware revision (inclusive), >= hw_rev_min
28      2     version_major       firmware version major.minor.patch
30      2     version_minor
32      2     version_patch
34      2     flags               bit 0: signed; bits 1..15 reserved, must be 0
36      8     build_time          UTC seconds since 1970-01-01
44      4     load_address        where the payload goes in flash (bytes)
48      4     payload_length      bytes after the header; the file holds exactly that many
52      4     payload_crc32       CRC-32 (IEEE 802.3, zlib) of the payload
56      4     key_id              first 4 bytes of SHA-256(raw Ed25519 public key); 0 if unsigned
60      4     header_crc32        CRC-32 of header bytes 0..59
64      64    signature           Ed25519 over header bytes 0..63 + payload; 0 if unsigned
======  ====  ==================  ==========================================================

All integers are unsigned little-endian. Checks run in this order and the first failure raises
a :class:`ContainerError` naming its field: length, magic, header_version, header_size,
board_model, hw_rev range, flags, key_id/signature zero when unsigned, header_crc32,
payload_length, payload_crc32; then :meth:`Container.verify` checks key_id and signature, and
:meth:`Container.check_compatible` the board and hardware revision.

The CRCs catch corruption; only the signature catches a deliberate edit (someone who changes
``board_model`` can recompute both CRCs, but not the signature).
"""

from __future__ import annotations

import hashlib
import re
import struct
import time
import zlib
from dataclasses import dataclass, replace

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ccfw.errors import FirmwareError

MAGIC = b"CCFW"
HEADER_VERSION = 1
HEADER_SIZE = 128
FLAG_SIGNED = 0x0001
_KNOWN_FLAGS = FLAG_SIGNED
_FIELDS = struct.Struct("<4sHH16sHHHHHHQIIIII")  # bytes 0..63
_SIGNED_PART = 64  # the signature covers header[:64] + payload
_CRC_PART = 60  # header_crc32 covers header[:60]
_BOARD_RE = re.compile(r"[A-Za-z0-9._-]{1,16}")
MAX_PAYLOAD = (1 << 32) - 1

assert _FIELDS.size == _SIGNED_PART


# --------------------------------------------------------------------------- errors


class ContainerError(FirmwareError):
    """A container is malformed, corrupted, unsigned/badly signed or not for this board."""

    def __init__(self, detail: str, *, file: str, field: str) -> None:
        self.detail = detail
        self.file = file
        self.field = field
        super().__init__(f"{file}: {field}: {detail}")


class ContainerFormatError(ContainerError):
    """Not a container, an unknown header version, or a field outside its allowed values."""


class HeaderCRCError(ContainerError):
    """The header CRC does not match: the header was corrupted or edited."""


class PayloadLengthError(ContainerError):
    """The file holds more or fewer payload bytes than the header says."""


class PayloadCRCError(ContainerError):
    """The payload CRC does not match: the payload was corrupted or edited."""


class SignatureError(ContainerError):
    """The signature is invalid, or was made by another key."""


class SignatureMissingError(SignatureError):
    """A signature is required and the container has none."""


class KeyFileError(ContainerError):
    """A key file is missing or is not an Ed25519 PEM key."""


class CompatibilityError(ContainerError):
    """The image is not for this board (flashing refuses it)."""


class BoardMismatchError(CompatibilityError):
    """The image names another board model."""


class HardwareRevisionError(CompatibilityError):
    """The board's hardware revision lies outside the image's range."""


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Header:
    """The decoded header; see the module docstring for the layout."""

    board_model: str
    hw_rev_min: int
    hw_rev_max: int
    version: tuple[int, int, int]
    build_time: int  # UTC seconds since the epoch
    load_address: int  # bytes
    payload_length: int  # bytes
    payload_crc32: int
    flags: int = 0
    key_id: bytes = bytes(4)
    header_crc32: int = 0
    signature: bytes = bytes(64)
    header_version: int = HEADER_VERSION

    @property
    def signed(self) -> bool:
        """True if the signed flag is set."""
        return bool(self.flags & FLAG_SIGNED)

    @property
    def version_string(self) -> str:
        """'major.minor.patch'."""
        return ".".join(map(str, self.version))

    def signed_part(self) -> bytes:
        """Header bytes 0..63 (everything but the signature), header CRC filled in."""
        return self._fields(self.header_crc32)

    def _fields(self, header_crc: int) -> bytes:
        return _FIELDS.pack(
            MAGIC,
            self.header_version,
            HEADER_SIZE,
            self.board_model.encode("ascii"),
            self.hw_rev_min,
            self.hw_rev_max,
            *self.version,
            self.flags,
            self.build_time,
            self.load_address,
            self.payload_length,
            self.payload_crc32,
            int.from_bytes(self.key_id, "little"),
            header_crc,
        )

    def with_header_crc(self) -> Header:
        """A copy with header_crc32 computed over bytes 0..59."""
        return replace(self, header_crc32=zlib.crc32(self._fields(0)[:_CRC_PART]))

    def to_bytes(self) -> bytes:
        """The 128 header bytes as stored."""
        return self.signed_part() + self.signature


@dataclass(frozen=True)
class Container:
    """A parsed container: header plus payload; ``source`` names it in errors."""

    header: Header
    payload: bytes
    source: str = "<container>"

    def to_bytes(self) -> bytes:
        """Header followed by payload."""
        return self.header.to_bytes() + self.payload

    def verify(self, public_key: Ed25519PublicKey | None = None, *, require_signature: bool = False) -> bool:
        """Check key id and signature. Returns True if a signature was checked, False if the
        container is signed but no key was given (CRCs were already checked by :func:`parse`).

        A given key or ``require_signature`` makes an unsigned container an error."""
        h = self.header
        if not h.signed:
            if public_key is not None or require_signature:
                raise SignatureMissingError(
                    "the image is not signed and a signature is required", file=self.source, field="signature"
                )
            return False
        if public_key is None:
            if require_signature:
                raise SignatureError(
                    "signed, but no public key was given to check it", file=self.source, field="signature"
                )
            return False
        want = key_id(public_key)
        if h.key_id != want:
            raise SignatureError(
                f"signed by key {h.key_id.hex()}, not by the given key {want.hex()}",
                file=self.source,
                field="key_id",
            )
        try:
            public_key.verify(h.signature, h.signed_part() + self.payload)
        except InvalidSignature:
            raise SignatureError(
                "Ed25519 signature does not match the header and payload", file=self.source, field="signature"
            ) from None
        return True

    def check_compatible(self, board_model: str, hw_rev: int) -> None:
        """Refuse (raise) unless the image is for ``board_model`` at hardware revision ``hw_rev``."""
        h = self.header
        if board_model != h.board_model:
            raise BoardMismatchError(
                f"the image is for board {h.board_model!r}, this board is {board_model!r}",
                file=self.source,
                field="board_model",
            )
        if hw_rev < h.hw_rev_min:
            raise HardwareRevisionError(
                f"the image needs hardware revision >= {h.hw_rev_min}, this board is revision {hw_rev}",
                file=self.source,
                field="hw_rev_min",
            )
        if hw_rev > h.hw_rev_max:
            raise HardwareRevisionError(
                f"the image needs hardware revision <= {h.hw_rev_max}, this board is revision {hw_rev}",
                file=self.source,
                field="hw_rev_max",
            )


# --------------------------------------------------------------------------- keys


def key_id(public_key: Ed25519PublicKey) -> bytes:
    """First 4 bytes of SHA-256 over the raw 32-byte public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).digest()[:4]


def generate_key() -> Ed25519PrivateKey:
    """A new Ed25519 signing key."""
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    """PKCS#8 PEM, unencrypted (protect the file by its permissions)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM."""
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_private_key(path: str) -> Ed25519PrivateKey:
    """Read an unencrypted Ed25519 private key (PEM)."""
    data = _read_key(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as e:
        raise KeyFileError(f"not an unencrypted PEM private key ({e})", file=path, field="key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"a {type(key).__name__}, not an Ed25519 key", file=path, field="key")
    return key


def load_public_key(path: str) -> Ed25519PublicKey:
    """Read an Ed25519 public key (PEM); a private key file gives its public half."""
    data = _read_key(path)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return load_private_key(path).public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"a {type(key).__name__}, not an Ed25519 key", file=path, field="key")
    return key


def _read_key(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise KeyFileError(e.strerror or str(e), file=path, field="key") from None


# --------------------------------------------------------------------------- pack / parse


def parse_version(text: str) -> tuple[int, int, int]:
    """'1.2.3' -> (1, 2, 3); each part 0..65535."""
    m = re.fullmatch(r"(\d{1,5})\.(\d{1,5})\.(\d{1,5})", text.strip())
    if not m or any(int(p) > 0xFFFF for p in m.groups()):
        raise ContainerFormatError(
            f"{text!r} is not major.minor.patch with parts 0..65535", file="<arguments>", field="version"
        )
    return int(m[1]), int(m[2]), int(m[3])


def pack(
    payload: bytes,
    *,
    board_model: str,
    hw_rev_min: int,
    hw_rev_max: int,
    version: tuple[int, int, int],
    load_address: int = 0,
    build_time: int | None = None,
    private_key: Ed25519PrivateKey | None = None,
) -> bytes:
    """Container bytes for ``payload``; signed when ``private_key`` is given.

    ``build_time`` defaults to now (UTC seconds); pass it for reproducible builds."""
    src = "<arguments>"
    _check_board(board_model, src)
    for name, value in (("hw_rev_min", hw_rev_min), ("hw_rev_max", hw_rev_max)):
        if not 0 <= value <= 0xFFFF:
            raise ContainerFormatError(f"{value} is not in 0..65535", file=src, field=name)
    if hw_rev_min > hw_rev_max:
        raise ContainerFormatError(f"range {hw_rev_min}..{hw_rev_max} is empty", file=src, field="hw_rev_max")
    if len(version) != 3 or not all(0 <= v <= 0xFFFF for v in version):
        raise ContainerFormatError(f"{version} is not three parts 0..65535", file=src, field="version")
    when = int(time.time()) if build_time is None else build_time
    if not 0 <= when < 1 << 64:
        raise ContainerFormatError(f"{when} is not a UTC epoch time", file=src, field="build_time")
    if not 0 <= load_address < 1 << 32 or load_address + len(payload) > 1 << 32:
        raise ContainerFormatError(
            f"0x{load_address:X} + {len(payload)} bytes leaves the 32-bit space",
            file=src,
            field="load_address",
        )
    header = Header(
        board_model=board_model,
        hw_rev_min=hw_rev_min,
        hw_rev_max=hw_rev_max,
        version=(version[0], version[1], version[2]),
        build_time=when,
        load_address=load_address,
        payload_length=len(payload),
        payload_crc32=zlib.crc32(payload),
        flags=FLAG_SIGNED if private_key is not None else 0,
        key_id=key_id(private_key.public_key()) if private_key is not None else bytes(4),
    ).with_header_crc()
    if private_key is not None:
        header = replace(header, signature=private_key.sign(header.signed_part() + payload))
    return header.to_bytes() + payload


def is_container(data: bytes) -> bool:
    """True if ``data`` starts with the container magic."""
    return data[:4] == MAGIC


def parse(data: bytes, *, source: str = "<container>") -> Container:
    """Decode and check structure, header CRC, payload length and payload CRC (not the signature)."""
    if len(data) < 8 or not is_container(data):
        if len(data) >= 4 and not is_container(data):
            raise ContainerFormatError(
                f"is {data[:4]!r}, expected {MAGIC!r}: not a ccfw container", file=source, field="magic"
            )
        raise ContainerFormatError(
            f"the file is {len(data)} bytes, a header is {HEADER_SIZE}", file=source, field="header"
        )
    version, size = struct.unpack_from("<HH", data, 4)
    if version != HEADER_VERSION:
        raise ContainerFormatError(
            f"header version {version}, this tool reads version {HEADER_VERSION}",
            file=source,
            field="header_version",
        )
    if size != HEADER_SIZE:
        raise ContainerFormatError(
            f"{size}, version 1 headers are {HEADER_SIZE} bytes", file=source, field="header_size"
        )
    if len(data) < HEADER_SIZE:
        raise ContainerFormatError(
            f"the file is {len(data)} bytes, a header is {HEADER_SIZE}", file=source, field="header"
        )
    (_, _, _, board_raw, hw_min, hw_max, major, minor, patch, flags, built, load, length, pcrc, kid, hcrc) = (
        _FIELDS.unpack_from(data)
    )
    board = board_raw.rstrip(b"\0")
    if b"\0" in board or not _BOARD_RE.fullmatch(board.decode("latin-1")):
        raise ContainerFormatError(
            f"{board_raw!r} is not 1..16 characters of [A-Za-z0-9._-], NUL padded",
            file=source,
            field="board_model",
        )
    if hw_min > hw_max:
        raise ContainerFormatError(f"range {hw_min}..{hw_max} is empty", file=source, field="hw_rev_max")
    if flags & ~_KNOWN_FLAGS:
        raise ContainerFormatError(f"0x{flags:04X} sets reserved bits", file=source, field="flags")
    signature = bytes(data[_SIGNED_PART:HEADER_SIZE])
    kid_bytes = kid.to_bytes(4, "little")
    if not flags & FLAG_SIGNED:
        if kid:
            raise ContainerFormatError("non-zero in an unsigned image", file=source, field="key_id")
        if any(signature):
            raise ContainerFormatError("non-zero in an unsigned image", file=source, field="signature")
    want_hcrc = zlib.crc32(data[:_CRC_PART])
    if hcrc != want_hcrc:
        raise HeaderCRCError(
            f"is 0x{hcrc:08X}, the header bytes give 0x{want_hcrc:08X}: the header was corrupted or edited",
            file=source,
            field="header_crc32",
        )
    have = len(data) - HEADER_SIZE
    if have != length:
        raise PayloadLengthError(
            f"the header says {length} bytes, the file holds {have} after the header",
            file=source,
            field="payload_length",
        )
    payload = bytes(data[HEADER_SIZE:])
    want_pcrc = zlib.crc32(payload)
    if pcrc != want_pcrc:
        raise PayloadCRCError(
            f"is 0x{pcrc:08X}, the payload gives 0x{want_pcrc:08X}: the payload was corrupted or edited",
            file=source,
            field="payload_crc32",
        )
    header = Header(
        board_model=board.decode("ascii"),
        hw_rev_min=hw_min,
        hw_rev_max=hw_max,
        version=(major, minor, patch),
        build_time=built,
        load_address=load,
        payload_length=length,
        payload_crc32=pcrc,
        flags=flags,
        key_id=kid_bytes,
        header_crc32=hcrc,
        signature=signature,
        header_version=version,
    )
    return Container(header, payload, source)


def load(path: str) -> Container:
    """Read and :func:`parse` a container file."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ContainerFormatError(e.strerror or str(e), file=path, field="file") from None
    return parse(data, source=path)


def _check_board(board_model: str, src: str) -> None:
    if not _BOARD_RE.fullmatch(board_model):
        raise ContainerFormatError(
            f"{board_model!r} is not 1..16 characters of [A-Za-z0-9._-]", file=src, field="board_model"
        )
