"""Write the sample images shipped next to this script: sample.hex, sample.s19, sample.bin.

The records are formatted here by hand (not by ccfw, intelhex or bincopy), so the tests can check
ccfw's readers against figures computed independently: see ``SEGMENTS`` and ``figures()``.
Run ``python make_samples.py [DIR]`` to regenerate; the output is deterministic.
"""

from __future__ import annotations

import random
import sys
import zlib
from pathlib import Path

START = 0x0800_E901  # entry point (Thumb bit set, as a Cortex-M reset vector would be)
_rng = random.Random(20240610)
SEGMENTS: list[tuple[int, bytes]] = [
    (0x0800_E800, _rng.randbytes(3072)),  # vectors and code
    (0x0800_F800, _rng.randbytes(1024)),  # after a 1 KiB gap
    (0x0800_FFE0, _rng.randbytes(64)),  # crosses the 64 KiB boundary at 0x08010000
]


def figures() -> dict[str, object]:
    """The figures ``ccfw info`` must report, computed straight from SEGMENTS."""
    crc = 0
    for _, data in SEGMENTS:
        crc = zlib.crc32(data, crc)
    lo, hi = SEGMENTS[0][0], SEGMENTS[-1][0] + len(SEGMENTS[-1][1])
    flat = bytearray(b"\xff" * (hi - lo))
    for a, d in SEGMENTS:
        flat[a - lo : a - lo + len(d)] = d
    return {
        "ranges": [(a, a + len(d)) for a, d in SEGMENTS],
        "gaps": [(a + len(d), b) for (a, d), (b, _) in zip(SEGMENTS, SEGMENTS[1:], strict=False)],
        "size": sum(len(d) for _, d in SEGMENTS),
        "span": hi - lo,
        "crc32": crc,
        "crc32_filled": zlib.crc32(bytes(flat)),
        "start": START,
        "flat": bytes(flat),
    }


def _ihex_record(rtype: int, address: int, data: bytes) -> str:
    body = bytes([len(data), address >> 8 & 0xFF, address & 0xFF, rtype]) + data
    return ":" + (body + bytes([-sum(body) & 0xFF])).hex().upper()


def ihex_text() -> str:
    """Intel HEX: 16-byte records, split at 64 KiB boundaries, type 04 + 05 records."""
    lines = [_ihex_record(5, 0, START.to_bytes(4, "big"))]
    upper = None
    for address, data in SEGMENTS:
        pos = 0
        while pos < len(data):
            a = address + pos
            n = min(16, len(data) - pos, 0x10000 - (a & 0xFFFF))
            if a >> 16 != upper:
                upper = a >> 16
                lines.append(_ihex_record(4, 0, upper.to_bytes(2, "big")))
            lines.append(_ihex_record(0, a & 0xFFFF, data[pos : pos + n]))
            pos += n
    lines.append(_ihex_record(1, 0, b""))
    return "\r\n".join(lines) + "\r\n"  # CRLF, as most toolchains on Windows write it


def _srec(rtype: str, address: int, width: int, data: bytes) -> str:
    body = bytes([width + len(data) + 1]) + address.to_bytes(width, "big") + data
    return f"S{rtype}" + (body + bytes([0xFF - (sum(body) & 0xFF)])).hex().upper()


def srec_text() -> str:
    """S-records: S0 header, S3 data in 32-byte records, S5 count, S7 entry."""
    lines = [_srec("0", 0, 2, b"ccfw sample")]
    count = 0
    for address, data in SEGMENTS:
        for pos in range(0, len(data), 32):
            lines.append(_srec("3", address + pos, 4, data[pos : pos + 32]))
            count += 1
    lines.append(_srec("5", count, 2, b""))
    lines.append(_srec("7", START, 4, b""))
    return "\n".join(lines) + "\n"


def write(directory: Path) -> None:
    """Write the three samples into ``directory``."""
    (directory / "sample.hex").write_bytes(ihex_text().encode("ascii"))
    (directory / "sample.s19").write_bytes(srec_text().encode("ascii"))
    (directory / "sample.bin").write_bytes(figures()["flat"])  # type: ignore[arg-type]


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)
