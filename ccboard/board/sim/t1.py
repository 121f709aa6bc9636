"""T1 extended superframe framing (ANSI T1.403 / ITU-T G.704 section 2.1), vectorised over spans.

A frame is an F bit and 24 octets (193 bits); a tick (1 ms) is 8 frames, held as a (spans, 24, 8)
uint8 array [span, channel - 1, frame] plus the F bits (spans, 8). An ESF is 24 frames = 3 ticks.
F bits of ESF frame n (1..24): n % 4 == 0 framing pattern (FPS) 0 0 1 0 1 1; n % 4 == 2 CRC-6 bits
C1..C6 of the previous ESF (x^6 + x + 1, computed with the F bits taken as 1); odd n the 4 kb/s
data link (FDL), idle ones, or the yellow alarm (RAI) pattern 1111111100000000. Robbed-bit
signalling takes the LSB of every channel in frames 6, 12, 18, 24 for A, B, C, D.

The receiver: LOS = a tick without pulses; AIS = an unframed signal with at most 2 zeros per
tick; loss of frame = 2 FPS errors among 4 consecutive FPS bits; reframe = the FPS pattern seen
over a whole ESF; CRC-6 errors against the remainder of the previous received ESF; RAI from the
FDL pattern; ABCD read per ESF and taken after two equal ESFs.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ccboard.board.sim.crc import crc_bitwise, linear_crc_table, xor_fold

CHANNELS = 24
FRAMES = 8
TICKS_PER_ESF = 3
ESF_BITS = 24 * 193
CRC6_POLY = 0x3  # x^6 + x + 1
FPS = (0, 0, 1, 0, 1, 1)
# FPS bit pair (frames 4,8 / 12,16 / 20,24) read as 2*first + second, per ESF tick phase
FPS_CODE = (0, 2, 3)
_CODE_PHASE = np.array([0, -1, 1, 2], np.int8)
RAI_PATTERN = 0xFF00
ROBBED = ((5, 3), (3, 2), (1, 1), (7, 0))  # (frame in tick, ABCD bit) for phases 0, 1, 2, 2
_ROBBED_BY_PHASE: tuple[tuple[tuple[int, int], ...], ...] = (
    (ROBBED[0],),
    (ROBBED[1],),
    (ROBBED[2], ROBBED[3]),
)
_NO_CHANGES = np.zeros((0, 2), np.intp)


def _tables() -> tuple[npt.NDArray[np.uint8], int]:
    p, ch, fr = np.meshgrid(np.arange(TICKS_PER_ESF), np.arange(CHANNELS), np.arange(FRAMES), indexing="ij")
    offsets = ((p * FRAMES + fr) * 193 + 1 + ch * 8).reshape(-1).astype(np.int64)
    table = linear_crc_table(offsets, ESF_BITS, CRC6_POLY, 6, np.full(offsets.size, 0xFF, np.uint8))
    fbits = [0] * ESF_BITS
    for g in range(24):
        fbits[g * 193] = 1
    return table, crc_bitwise(fbits, CRC6_POLY, 6)


CRC6_TABLE, CRC6_F_ONES = _tables()
_CRC6_FLAT = CRC6_TABLE.reshape(-1)
_CRC6_BASE = (np.arange(TICKS_PER_ESF * CHANNELS * FRAMES, dtype=np.intp) * 256).reshape(
    TICKS_PER_ESF, CHANNELS, FRAMES
)
_RAI_ROT = np.zeros(1 << 16, bool)
for _r in range(16):
    _RAI_ROT[((RAI_PATTERN << _r) | (RAI_PATTERN >> (16 - _r))) & 0xFFFF] = True


def crc6_part(octets: npt.NDArray[np.uint8], phase: int) -> npt.NDArray[np.uint8]:
    """This tick's share (spans,) of its ESF's CRC-6, for ESF tick `phase` (0..2)."""
    idx = _CRC6_BASE[phase][None, :, :] + octets
    return xor_fold(np.take(_CRC6_FLAT, idx).reshape(octets.shape[0], -1))


def esf_frame_bits(
    crc_prev: npt.NDArray[np.uint8], phase: int, fdl: npt.NDArray[np.uint8]
) -> npt.NDArray[np.uint8]:
    """F bits (spans, 8) of one tick: FPS, CRC-6 bits of the previous ESF, FDL bits (spans, 4)."""
    f = np.empty((crc_prev.shape[0], FRAMES), np.uint8)
    for k in range(FRAMES):
        g = phase * FRAMES + k
        if g % 4 == 3:
            f[:, k] = FPS[g // 4]
        elif g % 4 == 1:
            f[:, k] = (crc_prev >> (5 - g // 4)) & 1
        else:
            f[:, k] = fdl[:, k // 2]
    return f


class T1Framer:
    """The transmit side of `spans` T1 ESF lines: F bits, robbed bits, CRC-6."""

    def __init__(self, spans: int, cas: npt.ArrayLike, phase: int = 0) -> None:
        self.spans = spans
        self.cas = np.asarray(cas, bool).reshape(spans)
        self.phase = phase % TICKS_PER_ESF
        self.tx_bits = np.zeros((spans, CHANNELS), np.uint8)
        self.rai = np.zeros(spans, bool)
        self.ais = np.zeros(spans, bool)
        self.crc_prev = np.zeros(spans, np.uint8)
        self._acc = np.zeros(spans, np.uint8)
        self._fdl_pos = 0
        self.last_part = np.zeros(spans, np.uint8)
        self._any_cas = bool(self.cas.any())

    def set_bits(self, span: int, ch: int, bits: int) -> None:
        """ABCD (low 4 bits) to rob into channel index ch (0..23) of span index `span`."""
        self.tx_bits[span, ch] = bits & 0xF

    def build(self, octets: npt.NDArray[np.uint8], fbits: npt.NDArray[np.uint8]) -> None:
        """Rob the signalling bits from the payload in octets (spans, 24, 8) and write fbits (spans, 8)."""
        p = self.phase
        if self._any_cas:
            cas = self.cas
            for frame, bit in _ROBBED_BY_PHASE[p]:
                octets[cas, :, frame] = (octets[cas, :, frame] & 0xFE) | ((self.tx_bits[cas] >> bit) & 1)
        pos = (self._fdl_pos + np.arange(4)) % 16
        rai_bits = ((RAI_PATTERN >> (15 - pos)) & 1).astype(np.uint8)
        fdl = np.where(self.rai[:, None], rai_bits[None, :], np.uint8(1)).astype(np.uint8)
        self._fdl_pos = (self._fdl_pos + 4) % 16
        fbits[:] = esf_frame_bits(self.crc_prev, p, fdl)
        self.last_part = crc6_part(octets, p)
        self._acc ^= self.last_part
        if p == TICKS_PER_ESF - 1:
            self.crc_prev = self._acc ^ np.uint8(CRC6_F_ONES)
            self._acc[:] = 0
        if self.ais.any():
            octets[self.ais] = 0xFF
            fbits[self.ais] = 1
        self.phase = (p + 1) % TICKS_PER_ESF


class T1Deframer:
    """The receive side of `spans` T1 ESF lines: framing, CRC-6, alarms, counters, robbed bits."""

    def __init__(self, spans: int, cas: npt.ArrayLike) -> None:
        self.spans = spans
        self.cas = np.asarray(cas, bool).reshape(spans)
        z = np.zeros(spans, bool)
        self.los = z.copy()
        self.ais = z.copy()
        self.in_frame = z.copy()
        self.yellow = z.copy()
        self._phase = np.zeros(spans, np.int8)
        self._fps_err = np.zeros(spans, np.uint8)  # last 4 FPS bits, 1 = error
        self._codes = np.full((spans, 3), -1, np.int8)  # phases of the last 3 ticks' FPS pairs
        self._fdl = np.zeros(spans, np.uint16)
        self._acc = np.zeros(spans, np.uint8)
        self._crc_calc = np.zeros(spans, np.uint8)
        self._crc_rx = np.zeros(spans, np.uint8)
        self._crc_valid = z.copy()
        self._esf_whole = z.copy()
        self.fas_errors = np.zeros(spans, np.int64)
        self.crc_errors = np.zeros(spans, np.int64)
        self.raw_bits = np.zeros((spans, CHANNELS), np.uint8)
        self.rx_bits = np.zeros((spans, CHANNELS), np.uint8)
        self._pending = self.rx_bits.copy()
        self.changed = _NO_CHANGES
        self._any_cas = bool(self.cas.any())
        self.dirty = True  # counters changed since the owner last looked

    @property
    def red(self) -> npt.NDArray[np.bool_]:
        return self.los | ~self.in_frame

    def process(
        self,
        octets: npt.NDArray[np.uint8],
        fbits: npt.NDArray[np.uint8],
        part: npt.NDArray[np.uint8] | None = None,
    ) -> None:
        """Read one received tick; part = its CRC-6 share when the caller already has it."""
        self.changed = _NO_CHANGES
        ph = self._phase
        code = (fbits[:, 3].astype(np.int8) << 1) | fbits[:, 7].astype(np.int8)
        got = _CODE_PHASE[code]
        fps_ok_a = np.where(ph == 0, fbits[:, 3] == 0, fbits[:, 3] == 1)
        fps_ok_b = np.where(ph == 2, fbits[:, 7] == 1, fbits[:, 7] == 0)
        if self.in_frame.all() and fps_ok_a.all() and fps_ok_b.all():
            self._fps_err[:] = 0
            self.los[:] = False
            self.ais[:] = False
            p_all = int(ph[0]) if (ph == ph[0]).all() else -1
        else:
            self._framing_slow(octets, fbits, fps_ok_a, fps_ok_b, got)
            p_all = -1
        inf = self.in_frame
        ph = self._phase
        # FDL bits (even ESF frames = frames 0, 2, 4, 6 of every tick)
        fdl = fbits[:, 0::2].astype(np.uint16)
        self._fdl = (
            (self._fdl << 4) | (fdl[:, 0] << 3) | (fdl[:, 1] << 2) | (fdl[:, 2] << 1) | fdl[:, 3]
        ).astype(np.uint16)
        self.yellow = inf & _RAI_ROT[self._fdl]
        # CRC-6: accumulate this ESF's remainder; collect the C bits it carries for the previous one
        if p_all >= 0:
            share = crc6_part(octets, p_all) if part is None else part
        else:
            share = np.zeros(self.spans, np.uint8)
            for p in range(TICKS_PER_ESF):
                rows = ph == p
                if rows.any():
                    share[rows] = crc6_part(octets[rows], p)
        self._acc ^= share
        c_here = (fbits[:, 1] << 1) | fbits[:, 5]
        shift = (2 * (2 - ph)).astype(np.uint8)
        self._crc_rx |= (c_here << shift).astype(np.uint8)
        whole = self._esf_whole = np.where(ph == 0, inf, self._esf_whole & inf)
        end = ph == 2
        if end.any():
            # the C bits of this ESF check the previous one: both must have been read in frame
            err = end & whole & self._crc_valid & (self._crc_rx != self._crc_calc)
            self.crc_errors += err
            if err.any():
                self.dirty = True
            self._crc_calc = np.where(end, self._acc ^ np.uint8(CRC6_F_ONES), self._crc_calc).astype(np.uint8)
            self._crc_valid = np.where(end, whole, self._crc_valid)
            self._acc[end] = 0
            self._crc_rx[end] = 0
        if self._any_cas:
            self._robbed(octets, inf)
        self._phase = ((ph + 1) % TICKS_PER_ESF).astype(np.int8)

    def _framing_slow(
        self,
        octets: npt.NDArray[np.uint8],
        fbits: npt.NDArray[np.uint8],
        ok_a: npt.NDArray[np.bool_],
        ok_b: npt.NDArray[np.bool_],
        got: npt.NDArray[np.int8],
    ) -> None:
        self.dirty = True
        inf = self.in_frame
        bad = ~(ok_a & ok_b) | ~inf
        self.los[~bad] = False
        self.ais[~bad] = False
        if bad.any():
            sub = octets[bad].reshape(int(bad.sum()), -1)
            fb = fbits[bad]
            pulses = sub.any(axis=1) | fb.any(axis=1)
            self.los[bad] = ~pulses
            ones = np.unpackbits(sub, axis=1).sum(axis=1, dtype=np.int64)
            zeros = sub.shape[1] * 8 - ones + (fb == 0).sum(axis=1)
            self.ais[bad] = zeros <= 2
        errs = (~ok_a).astype(np.uint8) * 2 + (~ok_b).astype(np.uint8)
        self.fas_errors += inf * ((~ok_a).astype(np.int64) + (~ok_b))
        self._fps_err = (((self._fps_err << 2) | errs) & 0xF).astype(np.uint8)
        n_err = (
            (self._fps_err & 1)
            + ((self._fps_err >> 1) & 1)
            + ((self._fps_err >> 2) & 1)
            + (self._fps_err >> 3)
        )
        lost = inf & (n_err >= 2)
        # reframe: the FPS pairs of three ticks in a row read as phases p, p+1, p+2
        codes = np.roll(self._codes, -1, axis=1)
        codes[:, 2] = got
        self._codes = codes
        seq = (
            (codes >= 0).all(axis=1)
            & (codes[:, 1] == (codes[:, 0] + 1) % 3)
            & (codes[:, 2] == (codes[:, 1] + 1) % 3)
        )
        gained = ~inf & seq & ~self.los & ~self.ais
        self.in_frame = ((inf & ~lost) | gained) & ~self.los & ~self.ais
        self._phase = np.where(gained, codes[:, 2], self._phase).astype(np.int8)
        self._fps_err[gained] = 0
        fresh = gained | lost
        if fresh.any():
            self._acc[fresh] = 0
            self._crc_rx[fresh] = 0
            self._crc_valid[fresh] = False
            self._esf_whole[fresh] = False

    def _robbed(self, octets: npt.NDArray[np.uint8], inf: npt.NDArray[np.bool_]) -> None:
        use = self.cas & inf
        ph = self._phase
        for p, spots in enumerate(_ROBBED_BY_PHASE):
            rows = use & (ph == p)
            if not rows.any():
                continue
            for frame, bit in spots:
                mask = np.uint8(~(1 << bit) & 0xF)
                self.raw_bits[rows] = (self.raw_bits[rows] & mask) | ((octets[rows, :, frame] & 1) << bit)
            if p == 2:
                new = rows[:, None] & (self.raw_bits != self.rx_bits) & (self.raw_bits == self._pending)
                self._pending[rows] = self.raw_bits[rows]
                if new.any():
                    self.rx_bits[new] = self.raw_bits[new]
                    self.changed = np.argwhere(new)
