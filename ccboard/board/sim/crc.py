"""CRC tables for the T1 framer: a CRC is linear over GF(2), so the remainder of a whole
(sub)multiframe is the XOR of each octet's own contribution, looked up by (position, value).

This turns the bit-serial CRC-6 (G.704 2.1.3.1.3) into one gather and one XOR-reduction over all
spans at once (E1's CRC-4 is in the native kernel, native/src/e1.c, on the same principle).
crc_bitwise is the bit-serial reference the tests check both against.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def linear_crc_table(
    bit_offsets: npt.NDArray[np.int64], total_bits: int, poly: int, width: int, masks: npt.NDArray[np.uint8]
) -> npt.NDArray[np.uint8]:
    """Table (positions x 256) of each octet's share of the CRC remainder.

    The CRC is the remainder of M(x) * x^width divided by poly (given without its x^width term),
    first transmitted bit = highest power. bit_offsets[i] is where octet i's first (MSB) bit
    sits in the message; masks[i] the bits of the octet the CRC covers (others count as zero).
    """
    top = 1 << width
    # x^k mod g for k = 0 .. total_bits - 1 + width
    n = total_bits + width
    powers = np.empty(n, np.int64)
    r = 1
    for k in range(n):
        powers[k] = r
        r <<= 1
        if r & top:
            r ^= top | poly
    # single-bit contributions: bit b (0 = MSB) of octet i is at exponent total-1-(off+b)+width
    b = np.arange(8)
    exps = total_bits - 1 - (bit_offsets[:, None] + b[None, :]) + width
    contrib = powers[exps].astype(np.uint8)  # (positions, 8)
    values = np.arange(256)[None, :, None] & masks[:, None, None].astype(np.int64)
    bits = (values >> (7 - b)[None, None, :]) & 1  # (positions, 256, 8)
    table = np.bitwise_xor.reduce(np.where(bits == 1, contrib[:, None, :], 0).astype(np.uint8), axis=2)
    out: npt.NDArray[np.uint8] = np.ascontiguousarray(table, dtype=np.uint8)
    return out


def xor_fold(values: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """XOR together each row of a (rows, k*8) uint8 array: (rows,) uint8."""
    w = np.bitwise_xor.reduce(values.view(np.uint64), axis=1)
    w ^= w >> np.uint64(32)
    w ^= w >> np.uint64(16)
    w ^= w >> np.uint64(8)
    out: npt.NDArray[np.uint8] = (w & np.uint64(0xFF)).astype(np.uint8)
    return out


def crc_bitwise(bits: list[int], poly: int, width: int) -> int:
    """Reference bit-serial CRC (for tests): remainder of bits * x^width mod (x^width + poly)."""
    top = 1 << width
    r = 0
    for bit in [*bits, *([0] * width)]:
        r = (r << 1) | bit
        if r & top:
            r ^= top | poly
    return r
