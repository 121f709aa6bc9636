"""E1 framing (ITU-T G.704 section 2.3, G.706 section 4), vectorised over spans.

A tick (1 ms) is 8 frames of 32 timeslots, held as one (spans, 32, 8) uint8 array indexed
[span, timeslot, frame], so a timeslot's 8 octets are one row, as the board's audio arrays are.
One tick is exactly one CRC-4 sub-multiframe (SMF); two ticks are one CRC-4 multiframe and one
TS16 CAS multiframe.

TS0 (MSB = bit 1, first on the wire):
  even frames, FAS   C 0 0 1 1 0 1 1     C = CRC-4 bit C1..C4 of the previous SMF (1 without CRC-4)
  odd frames, NFAS   M 1 A 1 1 1 1 1     M = CRC-4 multiframe bit (SMF I: 0 0 1 0; SMF II: 1 1 E1 E2),
                                         A = remote alarm (RAI), Sa4-Sa8 = 1
TS16 CAS multiframe (16 frames): frame 0 = 0000 x y x x (MFAS), frame n = ABCD of TS n | ABCD of
TS n+16. A D-channel span leaves TS16 to the HDLC layer.

The receiver's alarms and counters come only from the bits it is given: LOS = no pulses (a tick of
zeros, G.775), AIS = fewer than 3 zeros in each 512 bits (G.775), loss of frame alignment = 3
consecutive bad FAS words (G.706 4.1.1), regained by FAS / NFAS bit 2 = 1 / FAS (4.1.2), CRC-4
multiframe alignment from the 001011 pattern (4.2), CRC-4 errors by comparing the received C bits
with the remainder of the previous received SMF, E bits from the far end (G.704 2.3.3.4), RAI
from the A bit, CAS multiframe alignment from the MFAS (G.732 5.2) and ABCD per channel.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ccboard.board.sim.crc import sliced_crc, sliced_masks

TIMESLOTS = 32
FRAMES = 8  # per tick: one SMF
FAS = 0x1B  # x0011011
NFAS_BIT2 = 0x40
A_BIT = 0x20
SA_BITS = 0x1F
MFAS_FRAME0 = 0x0B  # 0000 x y x x with x = 1, y = 0
SMF1_MBITS = np.array([0, 0, 1, 0], np.uint8)  # bit 1 of frames 1, 3, 5, 7
SMF2_MBITS = np.array([1, 1], np.uint8)  # bit 1 of frames 9, 11 (13, 15 carry E1, E2)
LFA_BAD_FAS = 3  # G.706 4.1.1
MF_SEARCH_TICKS = 8  # G.706 4.2: 8 ms to find the CRC-4 multiframe
CAS_MF_ERRORS = 2  # consecutive MFAS errors that lose CAS multiframe alignment (G.732 5.2)
CRC4_POLY = 0x3  # x^4 + x + 1
AIS_WINDOW_OCTETS = 64  # 512 bits
AIS_MAX_ZEROS = 2

_NO_CHANGES = np.zeros((0, 2), np.intp)
_C_WEIGHTS = np.array([8, 4, 2, 1], np.intp)
C_VALUE = np.arange(16, dtype=np.uint8)
_ZEROS = np.array([8 - bin(v).count("1") for v in range(256)], np.uint8)


def _crc4_masks() -> npt.NDArray[np.uint64]:
    ts, fr = np.meshgrid(np.arange(TIMESLOTS), np.arange(FRAMES), indexing="ij")
    offsets = (fr * 256 + ts * 8).reshape(-1).astype(np.int64)  # [ts, frame] order
    masks = np.full(TIMESLOTS * FRAMES, 0xFF, np.uint8)
    masks[[f for f in range(0, FRAMES, 2)]] = 0x7F  # C bits count as zero (ts 0, even frames)
    return sliced_masks(offsets, FRAMES * 256, CRC4_POLY, 4, masks)


CRC4_MASKS = _crc4_masks()


def crc4(frames: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """CRC-4 of each span's SMF (spans, 32, 8), C bits taken as zero: (spans,) values 0..15."""
    return sliced_crc(frames.reshape(frames.shape[0], -1).view(np.uint64), CRC4_MASKS)


def _ts0_table() -> npt.NDArray[np.uint8]:
    """TS0 octets of a tick by (SMF half, CRC-4 of the previous SMF or 16 = no CRC-4, A bit, E1E2)."""
    tab = np.zeros((2, 17, 2, 4, FRAMES), np.uint8)
    for half in range(2):
        for crc in range(17):
            for a in range(2):
                for e in range(4):
                    for k in range(4):
                        c = 1 if crc == 16 else (crc >> (3 - k)) & 1
                        tab[half, crc, a, e, 2 * k] = (c << 7) | FAS
                        if crc == 16:
                            m = 1
                        elif half == 0:
                            m = int(SMF1_MBITS[k])
                        else:
                            m = (1, 1, e >> 1, e & 1)[k]
                        tab[half, crc, a, e, 2 * k + 1] = (m << 7) | NFAS_BIT2 | (a << 5) | SA_BITS
    return tab.reshape(2, -1, FRAMES)


TS0_TABLE = _ts0_table()
# the same table indexed [half, crc, a, e1, e2] (one gather instead of building the key)
TS0_BY_BITS = TS0_TABLE.reshape(2, 17, 2, 2, 2, FRAMES)
_EXPECT_KEY = (np.arange(17) * 8 + 3).astype(np.intp)  # key of (crc, no RAI, E bits 1 1)


class _Crc4:
    """crc4() for a fixed number of spans with preallocated work arrays (same result)."""

    def __init__(self, spans: int) -> None:
        self.anded = np.empty((4, spans, TIMESLOTS), np.uint64)
        self.masks = np.ascontiguousarray(CRC4_MASKS[:, None, :])
        self.folded = np.empty((4, spans), np.uint64)
        self.bits = np.empty((4, spans), np.uint8)

    def __call__(self, frames: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        words = frames.reshape(frames.shape[0], -1).view(np.uint64)
        np.bitwise_and(words[None], self.masks, out=self.anded)
        np.bitwise_xor.reduce(self.anded, axis=2, out=self.folded)
        np.bitwise_count(self.folded, out=self.bits)
        np.bitwise_and(self.bits, 1, out=self.bits)
        out: npt.NDArray[np.uint8] = np.packbits(self.bits, axis=0, bitorder="little")[0]
        return out


class E1Framer:
    """The transmit side of `spans` E1 lines: writes TS0 (and TS16 CAS) around the payload and
    remembers each SMF's CRC-4 for the next one."""

    def __init__(self, spans: int, crc4: npt.ArrayLike, cas: npt.ArrayLike, phase: int = 0) -> None:
        self.spans = spans
        self.crc4 = np.asarray(crc4, bool).reshape(spans)
        self.cas = np.asarray(cas, bool).reshape(spans)
        self.half = phase & 1  # 0: this tick is SMF I (and CAS frames 0-7); 1: SMF II
        self.crc_prev = np.where(self.crc4, 0, 16).astype(np.intp)
        self._tx_bits = np.full((spans, TIMESLOTS), 0x9, np.uint8)  # ABCD per timeslot, 1001 idle
        self._ts16 = np.zeros((2, spans, FRAMES), np.uint8)
        self._ts16_dirty = True
        self.a_bit = np.zeros(spans, bool)  # RAI to send
        self.e_bits = np.ones((spans, 2), np.uint8)  # E1, E2 to send (1 = no error seen)
        self.ais = np.zeros(spans, bool)  # send unframed all ones instead
        self.last_crc = np.zeros(spans, np.uint8)
        self._any_crc4 = bool(self.crc4.any())
        self._any_cas = bool(self.cas.any())
        self._all_cas = bool(self.cas.all())
        self._all_crc4 = bool(self.crc4.all())
        self._crc4 = _Crc4(spans)

    @property
    def tx_bits(self) -> npt.NDArray[np.uint8]:
        """ABCD per (span, timeslot), read-only view: change them with set_bits."""
        v = self._tx_bits.view()
        v.flags.writeable = False
        return v

    def set_bits(self, span: int, ts: int, bits: int) -> None:
        """ABCD (low 4 bits) to send for timeslot ts of span index `span`."""
        self._tx_bits[span, ts] = bits & 0xF
        self._ts16_dirty = True

    def _build_ts16(self) -> None:
        b = self._tx_bits
        t = self._ts16
        t[0, :, 0] = MFAS_FRAME0
        t[0, :, 1:] = (b[:, 1:8] << 4) | b[:, 17:24]
        t[1] = (b[:, 8:16] << 4) | b[:, 24:32]
        self._ts16_dirty = False

    def build(self, frames: npt.NDArray[np.uint8]) -> None:
        """Write TS0/TS16 of this tick into frames (spans, 32, 8) around the payload already there."""
        half = self.half
        e = self.e_bits
        a = np.asarray(self.a_bit, bool).view(np.uint8)
        frames[:, 0, :] = TS0_BY_BITS[half][self.crc_prev, a, e[:, 0], e[:, 1]]
        if self._any_cas:
            if self._ts16_dirty:
                self._build_ts16()
            if self._all_cas:
                frames[:, 16, :] = self._ts16[half]
            else:
                frames[self.cas, 16, :] = self._ts16[half][self.cas]
        if self._any_crc4:
            self.last_crc = self._crc4(frames)
            self.crc_prev = (
                self.last_crc.astype(np.intp) if self._all_crc4 else np.where(self.crc4, self.last_crc, 16)
            )
        if self.ais.any():
            frames[self.ais] = 0xFF
        self.half ^= 1


class E1Deframer:
    """The receive side of `spans` E1 lines: framing, CRC-4, alarms, counters and CAS bits.

    process() takes the received tick and, optionally, the CRC-4 of each span's bits when the
    caller already knows it (the bits are exactly those a framer just computed it on)."""

    def __init__(self, spans: int, crc4: npt.ArrayLike, cas: npt.ArrayLike) -> None:
        self.spans = spans
        self.crc4 = np.asarray(crc4, bool).reshape(spans)
        self.cas = np.asarray(cas, bool).reshape(spans)
        z = np.zeros(spans, bool)
        self.los = z.copy()
        self.ais = z.copy()
        self.in_frame = z.copy()  # start out of frame: alignment is found from the bits
        self.yellow = z.copy()
        self.mf_aligned = z.copy()
        self.lmfa = z.copy()
        self.cas_aligned = z.copy()
        self._bad_fas = np.zeros(spans, np.int64)
        self._search = np.zeros(spans, np.int8)  # 0 look for FAS, 1 saw FAS, 2 saw NFAS
        self._mf_half = np.zeros(spans, np.int8)  # expected SMF of this tick when aligned
        self._mf_cand = z.copy()  # previous tick looked like SMF I
        self._mf_wait = np.zeros(spans, np.int64)  # ticks in frame without MF alignment
        self._mf_bad = np.zeros(spans, np.int64)
        self._cas_half = np.zeros(spans, np.int8)
        self._cas_bad = np.zeros(spans, np.int64)
        self._ts16_last = np.zeros(spans, np.uint8)  # TS16 of the previous tick's last frame
        self._crc_prev = np.zeros(spans, np.uint8)
        self._crc_valid = z.copy()
        self.e_out = np.ones((spans, 2), np.uint8)  # E bits to send back
        self.fas_errors = np.zeros(spans, np.int64)
        self.crc_errors = np.zeros(spans, np.int64)
        self.ebit_errors = np.zeros(spans, np.int64)
        self.raw_bits = np.full((spans, TIMESLOTS), 0x9, np.uint8)  # ABCD as last read
        self.rx_bits = np.full((spans, TIMESLOTS), 0x9, np.uint8)  # ABCD after debounce
        self._pending = self.rx_bits.copy()
        self.changed = _NO_CHANGES  # (span, timeslot) rows whose rx_bits changed this tick
        self._any_crc4 = bool(self.crc4.any())
        self._any_cas = bool(self.cas.any())
        self._all_crc4 = bool(self.crc4.all())
        self._all_cas = bool(self.cas.all())
        self._unsettled = True
        self._last16 = np.zeros((2, spans, FRAMES), np.uint8)
        self.dirty = True  # counters changed since the owner last looked
        self._steady = False  # aligned and error-free as of the last tick: TS0 is predictable
        self._expect_key = np.zeros(spans, np.intp)

    @property
    def red(self) -> npt.NDArray[np.bool_]:
        """Local loss of signal or frame (the far end should be told by RAI)."""
        return self.los | ~self.in_frame

    def process(self, frames: npt.NDArray[np.uint8], crc: npt.NDArray[np.uint8] | None = None) -> None:
        """Read one received tick (spans, 32, 8)."""
        ts0 = frames[:, 0, :]
        if self._steady:
            h0 = int(self._mf_half[0])
            if (ts0 == TS0_TABLE[h0][self._expect_key]).all():
                # TS0 is exactly what an aligned, error-free line sends now: FAS and NFAS words,
                # multiframe bits, C bits equal to our CRC-4 of the previous SMF, no RAI, no E-bit
                # errors; every check below would pass, so only the state moves on.
                self.e_out[:, 1 - h0] = 1
                self._crc_prev = crc4(frames) if crc is None else crc
                if self._all_crc4:
                    self._expect_key = _EXPECT_KEY[self._crc_prev]
                else:
                    self._expect_key = np.where(self.crc4, self._crc_prev, 16) * 8 + 3
                self._mf_half[:] = h0 ^ 1
                if self._any_cas:
                    self._cas(frames)
                return
        ts0 = ts0.copy()
        fas = (ts0[:, 0::2] & 0x7F) == FAS
        nfas = (ts0[:, 1::2] & NFAS_BIT2) != 0
        if self.in_frame.all() and fas.all():
            self._bad_fas[:] = 0
            self.los[:] = False
            self.ais[:] = False
        else:
            self._framing_slow(frames, fas, nfas)
        a = (ts0[:, 1::2] & A_BIT) != 0
        if a.any() or self.yellow.any():
            inf = self.in_frame
            self.yellow = inf & (a.sum(axis=1) >= 3) | (~inf & self.yellow & ~self.los & ~self.ais)
        if self._any_crc4:
            self._crc4(frames, ts0, crc)
        if self._any_cas:
            self._cas(frames)
        self._steady = bool(
            self.in_frame.all()
            and not self.yellow.any()
            and (self.mf_aligned | ~self.crc4).all()
            and (self._crc_valid | ~self.crc4).all()
            and (self._mf_half == self._mf_half[0]).all()
        )
        self._expect_key = np.where(self.crc4, self._crc_prev, 16) * 8 + 3

    def _framing_slow(
        self, frames: npt.NDArray[np.uint8], fas: npt.NDArray[np.bool_], nfas: npt.NDArray[np.bool_]
    ) -> None:
        # Only a tick whose FAS words fail can be LOS or AIS: a FAS word has both ones and zeros
        # (0011011), so a line carrying valid FAS words has pulses and more than 2 zeros per 512 bits.
        self.dirty = True
        bad = ~fas.all(axis=1)
        self.los[~bad] = False
        self.ais[~bad] = False
        if bad.any():
            sub = frames[bad].reshape(int(bad.sum()), -1)
            self.los[bad] = ~sub.any(axis=1)
            zeros = _ZEROS[sub].reshape(sub.shape[0], -1, AIS_WINDOW_OCTETS).sum(axis=2, dtype=np.int64)
            self.ais[bad] = (zeros <= AIS_MAX_ZEROS).all(axis=1)
        for k in range(4):
            f_ok, n_ok = fas[:, k], nfas[:, k]
            inf = self.in_frame
            self.fas_errors += inf & ~f_ok
            self._bad_fas = np.where(inf & ~f_ok, self._bad_fas + 1, np.where(inf, 0, self._bad_fas))
            lost = inf & (self._bad_fas >= LFA_BAD_FAS)
            s = self._search
            # out of frame: FAS (n), NFAS bit 2 (n+1), FAS (n+2) regains alignment
            gained = ~inf & (s == 2) & f_ok
            s = np.where(~inf & (s == 2) & ~f_ok, 0, s)
            s = np.where(~inf & (s == 0) & f_ok, 1, s)
            s = np.where(~inf & (s == 1) & ~f_ok, 0, s)  # no FAS where one was expected
            s = np.where(~inf & (s == 1) & f_ok & n_ok, 2, np.where(~inf & (s == 1) & f_ok & ~n_ok, 0, s))
            self.in_frame = (inf & ~lost) | gained
            self._bad_fas[gained | lost] = 0
            s[self.in_frame] = 0
            self._search = s.astype(np.int8)
            if lost.any():
                self.mf_aligned[lost] = False
                self.cas_aligned[lost] = False
                self._crc_valid[lost] = False
                self._mf_wait[lost] = 0
        self.in_frame &= ~self.los & ~self.ais

    def _crc4(
        self, frames: npt.NDArray[np.uint8], ts0: npt.NDArray[np.uint8], crc: npt.NDArray[np.uint8] | None
    ) -> None:
        use = self.crc4 & self.in_frame
        mbits = (ts0[:, 1::2] >> 7).astype(np.uint8)
        h0 = int(self._mf_half[0])
        steady = self._all_crc4 and self.mf_aligned.all() and use.all() and (self._mf_half == h0).all()
        if steady:
            ok = (mbits == SMF1_MBITS).all() if h0 == 0 else (mbits[:, :2] == SMF2_MBITS).all()
            steady = bool(ok)
        if not steady:
            self._crc4_slow(frames, ts0, crc, use, mbits)
            return
        c_rx = ((ts0[:, 0::2] >> 7) @ _C_WEIGHTS).astype(np.uint8)
        err = self._crc_valid & (c_rx != self._crc_prev)
        if err.any():
            self.crc_errors += err
            self.e_out[:, 1 - h0] = ~err
            self.dirty = True
        else:
            self.e_out[:, 1 - h0] = 1
        if h0 == 1:
            e_rx = ts0[:, 5:8:2] >> 7
            if not e_rx.all():
                self.ebit_errors += (e_rx == 0).sum(axis=1)
                self.dirty = True
        self._crc_prev = crc4(frames) if crc is None else crc
        self._crc_valid[:] = True
        self._mf_half[:] = h0 ^ 1

    def _crc4_slow(
        self,
        frames: npt.NDArray[np.uint8],
        ts0: npt.NDArray[np.uint8],
        crc: npt.NDArray[np.uint8] | None,
        use: npt.NDArray[np.bool_],
        mbits: npt.NDArray[np.uint8],
    ) -> None:
        self.dirty = True
        smf1 = (mbits == SMF1_MBITS).all(axis=1)
        smf2 = (mbits[:, :2] == SMF2_MBITS).all(axis=1)
        al = self.mf_aligned & use
        # search: the SMF I pattern, then the SMF II pattern on the next tick
        found = use & ~al & self._mf_cand & smf2
        self._mf_cand = use & smf1
        self.mf_aligned = al = al | found
        self._mf_half[found] = 1  # this tick was SMF II
        self._mf_wait = np.where(use & ~al, self._mf_wait + 1, 0)
        self.lmfa = use & ~al & (self._mf_wait > MF_SEARCH_TICKS)
        check = al.copy()
        h = self._mf_half
        bad_pattern = check & ~np.where(h == 0, smf1, smf2)
        self._mf_bad = np.where(bad_pattern, self._mf_bad + 1, np.where(check, 0, self._mf_bad))
        lose = self._mf_bad >= 2
        self.mf_aligned &= ~lose
        check &= ~lose
        c_rx = ((ts0[:, 0::2] >> 7) @ _C_WEIGHTS).astype(np.uint8)
        crc_err = check & self._crc_valid & (c_rx != self._crc_prev)
        self.crc_errors += crc_err
        rows = np.nonzero(check)[0]
        self.e_out[rows, 1 - h[rows]] = (~crc_err[rows]).astype(np.uint8)
        e_rx = ts0[:, 5:8:2] >> 7  # frames 13 and 15 of the multiframe = 5, 7 of SMF II
        self.ebit_errors += np.where(check & (h == 1), (e_rx == 0).sum(axis=1), 0)
        self._crc_prev = crc4(frames) if crc is None else crc
        self._crc_valid = check.copy()
        self._mf_half = (h ^ 1).astype(np.int8)

    def _cas(self, frames: npt.NDArray[np.uint8]) -> None:
        self.changed = _NO_CHANGES
        ts16 = frames[:, 16, :]
        h0 = int(self._cas_half[0])
        if (
            self._all_cas
            and not self._unsettled
            and self.cas_aligned.all()
            and self.in_frame.all()
            and (ts16 == self._last16[h0]).all()
        ):
            # the same TS16 as a multiframe ago, all aligned and settled: nothing can change
            self._cas_half[:] = h0 ^ 1
            self._ts16_last = ts16[:, 7]
            return
        self._last16[h0] = ts16
        use = self.cas & self.in_frame
        mfas = (ts16[:, 0] & 0xF0) == 0
        al = self.cas_aligned & use
        h = self._cas_half
        expect0 = al & (h == 0)
        miss = expect0 & ~mfas
        self._cas_bad = np.where(miss, self._cas_bad + 1, np.where(expect0, 0, self._cas_bad))
        lose = self._cas_bad >= CAS_MF_ERRORS
        found = use & ~al & mfas & (self._ts16_last != 0)
        self.cas_aligned = al = (al & ~lose) | found
        h = np.where(found, 0, h).astype(np.int8)
        self._cas_bad[lose | found] = 0
        self._ts16_last = ts16[:, 7].copy()
        rd = al & (h == 0)
        if rd.any():
            self.raw_bits[rd, 1:8] = ts16[rd, 1:8] >> 4
            self.raw_bits[rd, 17:24] = ts16[rd, 1:8] & 0xF
        rd2 = al & (h == 1)
        if rd2.any():
            self.raw_bits[rd2, 8:16] = ts16[rd2, :] >> 4
            self.raw_bits[rd2, 24:32] = ts16[rd2, :] & 0xF
            # a multiframe completed: a change counts once it reads the same twice running
            new = rd2[:, None] & (self.raw_bits != self.rx_bits) & (self.raw_bits == self._pending)
            self._pending[rd2] = self.raw_bits[rd2]
            if new.any():
                self.rx_bits[new] = self.raw_bits[new]
                self.changed = np.argwhere(new)
        self._unsettled = (
            bool((self.raw_bits[self.cas] != self.rx_bits[self.cas]).any()) or not al[self.cas].all()
        )
        self._cas_half = (h ^ 1).astype(np.int8)
