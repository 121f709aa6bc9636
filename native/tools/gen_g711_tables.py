#!/usr/bin/env python3
"""Write native/src/g711_tables.c: the read-only tables of the G.711 kernel.

Run from the repository root:  python native/tools/gen_g711_tables.py [--check G191_DIR]
With --check, every table is also compared with the ITU-T G.191 vectors before writing.

Encode/decode follow the ITU-T G.191 STL reference algorithms (alaw_compress, alaw_expand,
ulaw_compress, ulaw_expand), re-derived here from what they compute:
  * A-law keeps the top 12 bits of the word: an 11-bit 1's complement magnitude (x >> 4,
    or ~x >> 4 when x < 0, so 0 and -1 fall in the same step) and the sign; the code is
    sign(1) seg(3) mantissa(4) with the even bits inverted (XOR 0x55), sign bit 1 = positive.
  * mu-law keeps the top 14 bits the same way (x >> 2) and adds 33 (the 132 bias in 16-bit
    units, / 4), clipped at 8191; the code is sign(1) seg(3) mantissa(4) with every bit
    inverted, so sign bit 1 = positive and 0 encodes to 0xFF.
  * Decoders return the middle of the step, left-justified in 16 bits: A-law up to 32256,
    mu-law up to 32124.
Encoding depends only on x >> 4 (A) or x >> 2 (mu), so the encode tables have 4096 and
16384 entries indexed by (uint16_t)x >> 4 and >> 2; build() asserts that every input in a
step gives the same code.

Transcoding follows ITU-T G.711 (11/88) Table 3 (mu -> A) and Table 4 (A -> mu). Both are
stated on "decoder output value numbers": mu-law 0..127 (0 = code 0xFF/0x7F, the smallest
magnitude) and A-law 1..128 (1 = code 0xD5/0x55). Sign is kept. (The G.191 STL has no
transcoding functions; these are the Recommendation's tables.)
  * Table 3 is written below as runs of (first mu number, last mu number, A number of the
    first, slope). build() checks it against a rule: every entry but one is the A value
    nearest to the mu value when both laws are put on one scale (A-law 4096 = mu-law 8159
    x 10^(0.03/20), from Tmax = +3.14 / +3.17 dBm0). The exception is mu 80 -> A 81, as
    G.711 prints it; Sun's 1994 "corrected" tables, and spandsp which copies them, use A 80
    there, which breaks Note 2 of Table 4.
  * Table 4 is derived from Table 3: an A number that Table 3 reaches maps back to the
    largest mu number reaching it; an A number Table 3 never reaches (26, 28, 30, 32, 45,
    47, 63, 80) maps like its neighbour that differs only in the least significant bit.
  * build() asserts G.711's Notes 2 to both tables: mu-A-mu changes only mu numbers 0, 2,
    ..., 14 (each + 1); A-mu-A changes only A numbers 26, 28, 30, 32, 45, 47, 63, 80; in
    both cases only bit 8 (the LSB) of the octet changes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "native" / "src" / "g711_tables.c"

ALAW_AMI = 0x55  # even-bit inversion of A-law octets on the line


# --- G.191 STL reference algorithms, one sample at a time ------------------------------------


def alaw_compress(x: int) -> int:
    """A-law octet (as on the line) of a 16-bit linear sample."""
    mag = (~x if x < 0 else x) >> 4  # 1's complement magnitude, 0..2047
    if mag > 15:
        seg = mag.bit_length() - 4  # 1..7: position of the leading 1 above bit 3
        mag = (seg << 4) | ((mag >> (seg - 1)) & 0x0F)
    if x >= 0:
        mag |= 0x80
    return mag ^ ALAW_AMI


def alaw_expand(code: int) -> int:
    """16-bit linear value (middle of the step) of an A-law octet."""
    t = (code ^ ALAW_AMI) & 0x7F
    seg, mant = t >> 4, t & 0x0F
    val = ((mant if seg == 0 else mant + 16) << 4) + 8
    if seg > 1:
        val <<= seg - 1
    return val if code & 0x80 else -val


def ulaw_compress(x: int) -> int:
    """mu-law octet (as on the line) of a 16-bit linear sample."""
    mag = min(((~x if x < 0 else x) >> 2) + 33, 0x1FFF)  # 14-bit magnitude + bias 33
    seg = (mag >> 6).bit_length()  # 0..7
    code = ((7 - seg) << 4) | (15 - ((mag >> (seg + 1)) & 0x0F))
    return code | 0x80 if x >= 0 else code


def ulaw_expand(code: int) -> int:
    """16-bit linear value (middle of the step) of a mu-law octet."""
    t = ~code & 0x7F
    exp, mant = t >> 4, t & 0x0F
    step = 8 << exp
    val = (128 << exp) + step * mant + step // 2 - 132
    return val if code & 0x80 else -val


# --- G.711 Tables 3 and 4 --------------------------------------------------------------------

# Table 3, mu number -> A number, as runs: (first mu, last mu, A of the first mu, A steps per
# mu step as a fraction); inside a run A = a_first + (mu - first) * num // den.
TABLE3_RUNS = (
    (0, 15, 1, (1, 2)),  # two mu values per A value
    (16, 32, 9, (1, 1)),
    (33, 36, 27, (2, 1)),  # A 26, 28, 30, 32 are skipped
    (37, 47, 34, (1, 1)),
    (48, 48, 46, (1, 1)),  # A 45 skipped
    (49, 63, 48, (1, 1)),  # A 47 skipped
    (64, 79, 64, (1, 1)),  # A 63 skipped
    (80, 127, 81, (1, 1)),  # A 80 skipped
)
# mu-law 16-bit value -> A-law 16-bit value on one dBm0 scale: A-law's overload point 4096
# (x 8) is +3.14 dBm0, mu-law's 8159 (x 4) is +3.17 dBm0.
MU_TO_A_SCALE = (4096 * 8) / (8159 * 4) * 10 ** ((3.17 - 3.14) / 20)
TABLE3_OFF_NEAREST = {80: 81}  # the entries G.711 prints off the nearest-value rule
NOTE2_MU_CHANGED = {0, 2, 4, 6, 8, 10, 12, 14}
NOTE2_A_CHANGED = {26, 28, 30, 32, 45, 47, 63, 80}


def mu_number(code: int) -> int:
    return ~code & 0x7F


def a_number(code: int) -> int:
    return ((code ^ ALAW_AMI) & 0x7F) + 1


def mu_code(number: int, positive: bool) -> int:
    return (0x80 if positive else 0) | (0x7F - number)


def a_code(number: int, positive: bool) -> int:
    return ((0x80 if positive else 0) | (number - 1)) ^ ALAW_AMI


def table3() -> list[int]:
    """mu decoder output value number (0..127) -> A number (1..128)."""
    t: list[int] = []
    for first, last, a_first, (num, den) in TABLE3_RUNS:
        assert first == len(t)
        t.extend(a_first + (mu - first) * num // den for mu in range(first, last + 1))
    assert len(t) == 128 and t == sorted(t) and t[-1] == 128
    return t


def table4(t3: list[int]) -> list[int]:
    """A number (1..128) -> mu number (0..127), index A - 1; derived from Table 3."""
    reach: dict[int, int] = {}
    for mu, a in enumerate(t3):
        reach[a] = mu  # ascending mu: the largest wins
    t4 = []
    for a in range(1, 129):
        if a not in reach:
            a = ((a - 1) ^ 1) + 1  # the neighbour differing only in the LSB of the code
        t4.append(reach[a])
    return t4


def check_table3(t3: list[int]) -> None:
    """Table 3 is nearest-value on a common dBm0 scale except TABLE3_OFF_NEAREST."""
    a_vals = [alaw_expand(a_code(a, True)) for a in range(1, 129)]
    for mu in range(128):
        v = ulaw_expand(mu_code(mu, True)) * MU_TO_A_SCALE
        nearest = 1 + min(range(128), key=lambda i: abs(a_vals[i] - v))
        expect = TABLE3_OFF_NEAREST.get(mu, nearest)
        assert t3[mu] == expect, (mu, t3[mu], nearest)


def check_note2(t3: list[int], t4: list[int]) -> None:
    mu_changed = {mu for mu in range(128) if t4[t3[mu] - 1] != mu}
    a_changed = {a for a in range(1, 129) if t3[t4[a - 1]] != a}
    assert mu_changed == NOTE2_MU_CHANGED, sorted(mu_changed)
    assert a_changed == NOTE2_A_CHANGED, sorted(a_changed)
    assert all(t4[t3[mu] - 1] == mu + 1 for mu in mu_changed)


# --- tables in C order ----------------------------------------------------------------------


def build() -> dict[str, list[int]]:
    t3 = table3()
    check_table3(t3)
    t4 = table4(t3)
    check_note2(t3, t4)

    alaw_enc = []
    for i in range(4096):
        codes = {alaw_compress(((i << 4) | j) - (65536 if i >= 2048 else 0)) for j in range(16)}
        assert len(codes) == 1, i
        alaw_enc.append(codes.pop())
    ulaw_enc = []
    for i in range(16384):
        codes = {ulaw_compress(((i << 2) | j) - (65536 if i >= 8192 else 0)) for j in range(4)}
        assert len(codes) == 1, i
        ulaw_enc.append(codes.pop())

    a2u = [mu_code(t4[a_number(c) - 1], bool(c & 0x80)) for c in range(256)]
    u2a = [a_code(t3[mu_number(c)], bool(c & 0x80)) for c in range(256)]
    # Note 2: a double conversion changes at most bit 8 (the LSB) of the octet.
    assert all(a2u[u2a[c]] ^ c in (0, 1) and u2a[a2u[c]] ^ c in (0, 1) for c in range(256))
    return {
        "alaw_enc": alaw_enc,
        "ulaw_enc": ulaw_enc,
        "alaw_dec": [alaw_expand(c) for c in range(256)],
        "ulaw_dec": [ulaw_expand(c) for c in range(256)],
        "a2u": a2u,
        "u2a": u2a,
    }


def check_vectors(tables: dict[str, list[int]], folder: Path) -> None:
    """Compare with the G.191 files (65,536 little-endian 16-bit words each)."""

    def words(name: str) -> list[int]:
        raw = (folder / name).read_bytes()
        assert len(raw) == 131072, name
        return [int.from_bytes(raw[i : i + 2], "little", signed=True) for i in range(0, len(raw), 2)]

    src = words("sweep.src")
    assert src == list(range(-32768, 32768))
    for law, shift in (("a", 4), ("u", 2)):
        enc = tables[f"{law}law_enc"]
        dec = tables[f"{law}law_dec"]
        codes = [enc[(x & 0xFFFF) >> shift] for x in src]
        assert codes == [w & 0xFF for w in words(f"sweep-r.{law}")], law
        assert [dec[c] for c in codes] == words(f"sweep-r.re{law}") == words(f"sweep-r.{law}-{law}"), law


def c_array(ctype: str, name: str, values: list[int], per_line: int, fmt: str) -> str:
    lines = [
        ", ".join(fmt.format(v) for v in values[i : i + per_line]) for i in range(0, len(values), per_line)
    ]
    body = ",\n    ".join(lines)
    return f"const {ctype} {name}[{len(values)}] = {{\n    {body}\n}};\n"


def render(t: dict[str, list[int]]) -> str:
    parts = [
        "/*\n"
        " * Generated by native/tools/gen_g711_tables.py; do not edit.\n"
        " * Regenerate from the repository root: python native/tools/gen_g711_tables.py\n"
        " * (add --check ../shared/itu-g191 to compare with the G.191 vectors first).\n"
        " * Encode/decode: the G.191 STL algorithms; transcoding: G.711 Tables 3 and 4.\n"
        " */\n"
        '#include "ccboard/g711.h"\n',
        "/* index (uint16_t)x >> 4 */\n"
        + c_array("uint8_t", "cc_g711_alaw_enc_table", t["alaw_enc"], 16, "0x{:02X}"),
        "/* index (uint16_t)x >> 2 */\n"
        + c_array("uint8_t", "cc_g711_ulaw_enc_table", t["ulaw_enc"], 16, "0x{:02X}"),
        c_array("int16_t", "cc_g711_alaw_dec_table", t["alaw_dec"], 8, "{:6d}"),
        c_array("int16_t", "cc_g711_ulaw_dec_table", t["ulaw_dec"], 8, "{:6d}"),
        "/* G.711 Table 4 on octets as on the line */\n"
        + c_array("uint8_t", "cc_g711_alaw_to_ulaw_table", t["a2u"], 16, "0x{:02X}"),
        "/* G.711 Table 3 on octets as on the line */\n"
        + c_array("uint8_t", "cc_g711_ulaw_to_alaw_table", t["u2a"], 16, "0x{:02X}"),
    ]
    return "\n".join(parts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", type=Path, metavar="G191_DIR", help="compare with the G.191 vectors first")
    ap.add_argument("--output", type=Path, default=OUT)
    args = ap.parse_args()
    tables = build()
    if args.check:
        check_vectors(tables, args.check)
    args.output.write_text(render(tables))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
