"""ccfw.container: the board firmware container (layout, tamper detection, signatures, board check)."""

from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from ccfw import container as cf
from ccfw.errors import FirmwareError

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))  # fixed: reproducible signatures
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
PAYLOAD = bytes((i * 7 + 3) & 0xFF for i in range(5000))
ARGS = dict(board_model="CCB-4FXS", hw_rev_min=2, hw_rev_max=4, version=(1, 2, 3), load_address=0x0800_8000)
BUILD = 1_717_000_000


def packed(signed: bool = True, payload: bytes = PAYLOAD) -> bytes:
    return cf.pack(payload, build_time=BUILD, private_key=KEY if signed else None, **ARGS)  # type: ignore[arg-type]


def refix_header_crc(data: bytearray) -> bytearray:
    struct.pack_into("<I", data, 60, zlib.crc32(bytes(data[:60])))
    return data


# --------------------------------------------------------------------------- layout


def test_layout_matches_the_documented_table() -> None:
    data = packed()
    assert len(data) == 128 + len(PAYLOAD)
    assert data[0:4] == b"CCFW"
    assert struct.unpack_from("<HH", data, 4) == (1, 128)
    assert data[8:24] == b"CCB-4FXS" + bytes(8)
    assert struct.unpack_from("<HHHHHHQIIII", data, 24) == (
        2,
        4,
        1,
        2,
        3,
        cf.FLAG_SIGNED,
        BUILD,
        0x0800_8000,
        len(PAYLOAD),
        zlib.crc32(PAYLOAD),
        struct.unpack_from("<I", data, 56)[0],
    )
    raw_pub = KEY.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert data[56:60] == hashlib.sha256(raw_pub).digest()[:4]
    assert struct.unpack_from("<I", data, 60)[0] == zlib.crc32(data[:60])
    KEY.public_key().verify(data[64:128], data[:64] + data[128:])  # Ed25519 over the right bytes
    assert data[128:] == PAYLOAD
    doc = cf.__doc__ or ""
    for name in ("magic", "header_version", "board_model", "hw_rev_min", "payload_crc32", "signature"):
        assert name in doc


def test_unsigned_has_zero_key_id_and_signature() -> None:
    data = packed(signed=False)
    assert data[56:60] == bytes(4) and data[64:128] == bytes(64)
    assert struct.unpack_from("<H", data, 34)[0] == 0


def test_parse_round_trip() -> None:
    c = cf.parse(packed(), source="fw.ccfw")
    h = c.header
    assert (h.board_model, h.hw_rev_min, h.hw_rev_max, h.version) == ("CCB-4FXS", 2, 4, (1, 2, 3))
    assert (h.build_time, h.load_address, h.payload_length) == (BUILD, 0x0800_8000, len(PAYLOAD))
    assert h.signed and h.version_string == "1.2.3" and c.payload == PAYLOAD
    assert c.to_bytes() == packed()
    assert c.verify(KEY.public_key()) is True


def test_pack_is_reproducible_with_a_fixed_build_time() -> None:
    assert packed() == packed() and packed(False) == packed(False)


# --------------------------------------------------------------------------- tampering

# (what, offset, new bytes, fix the header CRC afterwards?, error class, field)
TAMPER = [
    ("magic", 0, b"X", False, cf.ContainerFormatError, "magic"),
    ("header_version", 4, b"\x02", False, cf.ContainerFormatError, "header_version"),
    ("header_size", 6, b"\x40", False, cf.ContainerFormatError, "header_size"),
    ("board_model (valid char)", 12, b"8", False, cf.HeaderCRCError, "header_crc32"),
    ("board_model (bad char)", 12, b"\x01", False, cf.ContainerFormatError, "board_model"),
    ("board_model (empty)", 8, bytes(16), False, cf.ContainerFormatError, "board_model"),
    ("hw_rev_min", 24, b"\x03", False, cf.HeaderCRCError, "header_crc32"),
    ("hw_rev_min > hw_rev_max", 24, b"\x09", False, cf.ContainerFormatError, "hw_rev_max"),
    ("hw_rev_max", 26, b"\x05", False, cf.HeaderCRCError, "header_crc32"),
    ("version_major", 28, b"\x09", False, cf.HeaderCRCError, "header_crc32"),
    ("version_patch", 32, b"\x09", False, cf.HeaderCRCError, "header_crc32"),
    ("flags reserved bit", 34, b"\x03", False, cf.ContainerFormatError, "flags"),
    ("build_time", 36, b"\x01", False, cf.HeaderCRCError, "header_crc32"),
    ("load_address", 46, b"\x09", False, cf.HeaderCRCError, "header_crc32"),
    ("payload_length", 48, b"\x01", False, cf.HeaderCRCError, "header_crc32"),
    ("payload_length, header CRC fixed", 48, b"\x01", True, cf.PayloadLengthError, "payload_length"),
    ("payload_crc32", 52, b"\x00", False, cf.HeaderCRCError, "header_crc32"),
    ("payload_crc32, header CRC fixed", 52, b"\x00", True, cf.PayloadCRCError, "payload_crc32"),
    ("header_crc32", 61, b"\x00", False, cf.HeaderCRCError, "header_crc32"),
    ("payload byte", 128 + 1000, b"\x00", False, cf.PayloadCRCError, "payload_crc32"),
    ("last payload byte", 128 + len(PAYLOAD) - 1, b"\x00", False, cf.PayloadCRCError, "payload_crc32"),
]


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
@pytest.mark.parametrize("case", TAMPER, ids=[t[0] for t in TAMPER])
def test_tampered_fields_are_detected_and_named(case: tuple, signed: bool) -> None:
    _, offset, new, fix, cls, field = case
    data = bytearray(packed(signed))
    assert data[offset : offset + len(new)] != new, "the tamper must change something"
    data[offset : offset + len(new)] = new
    if fix:
        refix_header_crc(data)
    with pytest.raises(cls) as e:
        cf.parse(bytes(data), source="fw.ccfw")
    assert e.value.field == field and str(e.value).startswith(f"fw.ccfw: {field}: ")


def test_key_id_tamper() -> None:
    data = bytearray(packed())
    data[56] ^= 0x5A
    with pytest.raises(cf.HeaderCRCError):
        cf.parse(bytes(data))
    with pytest.raises(cf.SignatureError) as e:
        cf.parse(bytes(refix_header_crc(data))).verify(KEY.public_key())
    assert e.value.field == "key_id"
    data = bytearray(packed(False))
    data[56] = 0x5A
    with pytest.raises(cf.ContainerFormatError) as e2:
        cf.parse(bytes(data))
    assert e2.value.field == "key_id"


def test_signature_tamper_is_caught_by_verify() -> None:
    data = bytearray(packed())
    data[100] ^= 0x01
    c = cf.parse(bytes(data))  # CRCs do not cover the signature
    with pytest.raises(cf.SignatureError) as e:
        c.verify(KEY.public_key())
    assert e.value.field == "signature"


def test_edit_with_both_crcs_recomputed_is_caught_only_by_the_signature() -> None:
    data = bytearray(packed())
    data[128 + 7] ^= 0xFF
    struct.pack_into("<I", data, 52, zlib.crc32(bytes(data[128:])))
    refix_header_crc(data)
    c = cf.parse(bytes(data))
    with pytest.raises(cf.SignatureError) as e:
        c.verify(KEY.public_key())
    assert e.value.field == "signature"
    # a board model edited the same way
    data = bytearray(packed())
    data[8:24] = b"CCB-8FXO" + bytes(8)
    c = cf.parse(bytes(refix_header_crc(data)))
    with pytest.raises(cf.SignatureError):
        c.verify(KEY.public_key())


def test_clearing_the_signed_flag_is_caught() -> None:
    data = bytearray(packed())
    data[34] = 0
    with pytest.raises(cf.ContainerFormatError) as e:
        cf.parse(bytes(refix_header_crc(data)))
    assert e.value.field == "key_id"
    data[56:60] = bytes(4)
    with pytest.raises(cf.ContainerFormatError) as e:
        cf.parse(bytes(refix_header_crc(data)))
    assert e.value.field == "signature"


@pytest.mark.parametrize("signed", [True, False])
def test_every_single_byte_change_is_detected(signed: bool) -> None:
    # exhaustive over the header, sampled over the payload; each byte replaced by its complement
    good = packed(signed, payload=PAYLOAD[:300])
    for i in list(range(128)) + list(range(128, len(good), 7)):
        data = bytearray(good)
        data[i] ^= 0xFF
        with pytest.raises(cf.ContainerError):
            cf.parse(bytes(data)).verify(KEY.public_key() if signed else None)


@pytest.mark.parametrize("cut", [0, 3, 4, 7, 8, 64, 127, 128, 129, 128 + len(PAYLOAD) - 1])
def test_truncated_files(cut: int) -> None:
    with pytest.raises(cf.ContainerError) as e:
        cf.parse(packed()[:cut])
    assert e.value.field in ("header", "payload_length")


def test_trailing_bytes() -> None:
    with pytest.raises(cf.PayloadLengthError) as e:
        cf.parse(packed() + b"\x00")
    assert "holds 5001" in str(e.value)


def test_not_a_container() -> None:
    with pytest.raises(cf.ContainerFormatError) as e:
        cf.parse(b":10000000" + bytes(200), source="app.hex")
    assert e.value.field == "magic" and "app.hex" in str(e.value)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_container_or_container_error(data: bytes) -> None:
    try:
        cf.parse(data)
    except cf.ContainerError as e:
        assert isinstance(e, FirmwareError) and e.field


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=200), st.integers(0, 127), st.binary(min_size=1, max_size=8))
def test_junk_in_the_header_gives_container_or_container_error(payload: bytes, at: int, junk: bytes) -> None:
    data = bytearray(packed(True, payload))
    data[at : at + len(junk)] = junk
    try:
        cf.parse(bytes(data)).verify(KEY.public_key())
    except cf.ContainerError:
        pass


# --------------------------------------------------------------------------- signatures


def test_signature_states() -> None:
    signed, unsigned = cf.parse(packed()), cf.parse(packed(False))
    assert signed.verify(KEY.public_key()) is True
    assert signed.verify() is False  # signed, not checked
    assert unsigned.verify() is False
    with pytest.raises(cf.SignatureError) as e:
        signed.verify(OTHER.public_key())
    assert e.value.field == "key_id"
    with pytest.raises(cf.SignatureMissingError) as e2:
        unsigned.verify(KEY.public_key())
    assert e2.value.field == "signature"
    with pytest.raises(cf.SignatureMissingError):
        unsigned.verify(require_signature=True)
    with pytest.raises(cf.SignatureError):
        signed.verify(require_signature=True)


def test_same_key_id_other_key_still_fails() -> None:
    # forge the key id of OTHER into a container signed by KEY: the signature check must catch it
    data = bytearray(packed())
    data[56:60] = cf.key_id(OTHER.public_key())
    c = cf.parse(bytes(refix_header_crc(data)))
    with pytest.raises(cf.SignatureError) as e:
        c.verify(OTHER.public_key())
    assert e.value.field == "signature"


# --------------------------------------------------------------------------- board check


def test_check_compatible() -> None:
    c = cf.parse(packed(), source="fw.ccfw")
    for rev in (2, 3, 4):
        c.check_compatible("CCB-4FXS", rev)
    cases = [
        ("CCB-8FXO", 3, cf.BoardMismatchError, "board_model"),
        ("ccb-4fxs", 3, cf.BoardMismatchError, "board_model"),
        ("CCB-4FXS", 1, cf.HardwareRevisionError, "hw_rev_min"),
        ("CCB-4FXS", 5, cf.HardwareRevisionError, "hw_rev_max"),
    ]
    for board, rev, cls, field in cases:
        with pytest.raises(cls) as e:
            c.check_compatible(board, rev)
        assert e.value.field == field and isinstance(e.value, cf.CompatibilityError)
        assert str(e.value).startswith(f"fw.ccfw: {field}: ")


# --------------------------------------------------------------------------- pack arguments and keys


@pytest.mark.parametrize(
    "override,field",
    [
        ({"board_model": ""}, "board_model"),
        ({"board_model": "x" * 17}, "board_model"),
        ({"board_model": "CCB 4"}, "board_model"),
        ({"board_model": "CCB-é"}, "board_model"),
        ({"hw_rev_min": 5}, "hw_rev_max"),
        ({"hw_rev_max": 70000}, "hw_rev_max"),
        ({"version": (1, 2, 70000)}, "version"),
        ({"load_address": 0xFFFF_FF00}, "load_address"),
    ],
)
def test_pack_refuses_bad_fields(override: dict, field: str) -> None:
    with pytest.raises(cf.ContainerFormatError) as e:
        cf.pack(PAYLOAD, **{**ARGS, **override})  # type: ignore[arg-type]
    assert e.value.field == field


def test_parse_version() -> None:
    assert cf.parse_version(" 10.0.65535 ") == (10, 0, 65535)
    for bad in ("1.2", "1.2.3.4", "a.b.c", "1.2.65536", "-1.2.3"):
        with pytest.raises(cf.ContainerFormatError):
            cf.parse_version(bad)


def test_key_files(tmp_path: Path) -> None:
    key = cf.generate_key()
    priv, pub = tmp_path / "k.pem", tmp_path / "k.pub"
    priv.write_bytes(cf.private_key_pem(key))
    pub.write_bytes(cf.public_key_pem(key.public_key()))
    assert cf.key_id(cf.load_public_key(str(pub))) == cf.key_id(key.public_key())
    assert cf.key_id(cf.load_public_key(str(priv))) == cf.key_id(
        key.public_key()
    )  # public half of a private key
    data = cf.pack(PAYLOAD, private_key=cf.load_private_key(str(priv)), **ARGS)  # type: ignore[arg-type]
    assert cf.parse(data).verify(cf.load_public_key(str(pub)))
    ecfile = tmp_path / "ec.pem"
    ecfile.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    garbage = tmp_path / "junk.pem"
    garbage.write_bytes(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    for loader, path in [
        (cf.load_private_key, ecfile),
        (cf.load_public_key, ecfile),
        (cf.load_private_key, garbage),
        (cf.load_public_key, garbage),
        (cf.load_private_key, tmp_path / "missing.pem"),
        (cf.load_private_key, pub),
    ]:
        with pytest.raises(cf.KeyFileError) as e:
            loader(str(path))
        assert str(path) in str(e.value)
