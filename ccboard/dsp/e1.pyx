"""E1 framing (G.704/G.706/G.732) for many spans per call, over numpy ticks.

See e1.pyi for the API and native/include/ccboard/e1.h for the method and its figures.
A tick is a uint8 array (spans, 32, 8) [span, timeslot, frame], C-contiguous. Arguments are
checked in Python; the C call runs without the GIL on validated pointers.
"""

cimport numpy as cnp
from libc.stdint cimport uint8_t, uint32_t
from libc.stdlib cimport calloc, free

import numpy as np

from ccboard.dsp cimport c_common as CC
from ccboard.dsp cimport c_e1 as C
from ccboard.errors import DSPArgumentError, DSPError, DSPTypeError

cdef extern from "ccboard/private/e1.h":
    pass

cnp.import_array()

TIMESLOTS = C.CC_E1_TIMESLOTS
FRAMES = C.CC_E1_FRAMES
MAX_SPANS = C.CC_E1_MAX_SPANS


cdef object _status_dtype():
    cdef C.cc_e1_rx_status_t st
    cdef char *b = <char *>&st
    return np.dtype({
        "names": ["los", "ais", "in_frame", "yellow", "lmfa", "mf_aligned", "cas_aligned", "red", "e_out",
                  "fas_errors", "crc_errors", "ebit_errors", "rx_bits", "raw_bits"],
        "formats": ["?", "?", "?", "?", "?", "?", "?", "?", ("u1", 2), "<i8", "<i8", "<i8",
                    ("u1", 32), ("u1", 32)],
        "offsets": [<char *>&st.los - b, <char *>&st.ais - b, <char *>&st.in_frame - b, <char *>&st.yellow - b,
                    <char *>&st.lmfa - b, <char *>&st.mf_aligned - b, <char *>&st.cas_aligned - b,
                    <char *>&st.red - b, <char *>&st.e_out[0] - b, <char *>&st.fas_errors - b,
                    <char *>&st.crc_errors - b, <char *>&st.ebit_errors - b, <char *>&st.rx_bits[0] - b,
                    <char *>&st.raw_bits[0] - b],
        "itemsize": sizeof(C.cc_e1_rx_status_t),
    })


STATUS_DTYPE = _status_dtype()
_NO_CHANGES = np.zeros((0, 2), np.intp)
_NO_CHANGES.flags.writeable = False


cdef int _check(int rc, str op) except -1:
    """Every native return code passes here; the exception keeps the code."""
    if rc < 0:
        raise DSPError(f"e1 {op}: {CC.cc_strerror(rc).decode()} (cc_err {rc})", rc)
    return rc


cdef bytes _flags(str name, object v, uint32_t spans):
    a = np.asarray(v)
    if a.shape != (spans,) or a.dtype.kind not in "biu":
        raise DSPArgumentError(f"{name}: expected {spans} booleans, one per span, got {a.dtype} of shape {a.shape}")
    return (a != 0).astype(np.uint8).tobytes()


cdef uint32_t _span_count(object spans) except 0:
    if not isinstance(spans, int) or isinstance(spans, bool) or not 1 <= spans <= C.CC_E1_MAX_SPANS:
        raise DSPArgumentError(f"spans: {spans!r} is not a span count 1..{C.CC_E1_MAX_SPANS}")
    return spans


cdef cnp.ndarray _tick(object frames, Py_ssize_t spans, bint writable):
    """frames as a C-contiguous uint8 (spans, 32, 8) array, or a clear error."""
    if not isinstance(frames, np.ndarray):
        raise DSPTypeError(f"frames: expected a numpy uint8 array, got {type(frames).__name__}")
    cdef cnp.ndarray a = <cnp.ndarray>frames
    if cnp.PyArray_TYPE(a) != cnp.NPY_UINT8:
        raise DSPTypeError(f"frames: dtype {frames.dtype} is not uint8")
    if cnp.PyArray_NDIM(a) != 3 or a.shape[0] != spans or a.shape[1] != 32 or a.shape[2] != 8:
        raise DSPArgumentError(f"frames: shape {frames.shape} is not ({spans}, 32, 8) (spans, timeslots, frames)")
    if not cnp.PyArray_IS_C_CONTIGUOUS(a):
        raise DSPArgumentError(f"frames: must be C-contiguous (got strides {frames.strides})")
    if writable and not cnp.PyArray_ISWRITEABLE(a):
        raise DSPArgumentError("frames: must be writable")
    return a


def crc4(frames):
    """CRC-4 (0..15, C1 = bit 3) of each span's tick (spans, 32, 8), C bits taken as zero."""
    if not isinstance(frames, np.ndarray):
        raise DSPTypeError(f"frames: expected a numpy uint8 array, got {type(frames).__name__}")
    cdef cnp.ndarray a = _tick(frames, frames.shape[0] if frames.ndim == 3 else -1, False)
    out = np.empty(a.shape[0], np.uint8)
    cdef uint8_t[::1] o = out
    if a.shape[0]:
        _check(C.cc_e1_crc4(<const uint8_t *>cnp.PyArray_DATA(a), a.shape[0], &o[0]), "crc4")
    return out


cdef class E1Deframer:
    """The receive side of `spans` E1 lines: framing, CRC-4, alarms, counters and CAS bits."""

    cdef C.cc_e1_rx_t *_s
    cdef object _mem
    cdef uint32_t _spans
    cdef C.cc_e1_change_t *_changes
    cdef size_t _max_changes
    cdef readonly object status
    cdef readonly object los, ais, in_frame, yellow, lmfa, mf_aligned, cas_aligned, red, e_out
    cdef readonly object fas_errors, crc_errors, ebit_errors, rx_bits, raw_bits
    cdef readonly object changed
    cdef public bint dirty

    def __cinit__(self, *args, **kwargs):
        self._s = NULL
        self._changes = NULL

    def __init__(self, spans, crc4, cas):
        cdef uint32_t n = _span_count(spans)
        cdef bytes c4 = _flags("crc4", crc4, n)
        cdef bytes cs = _flags("cas", cas, n)
        cdef size_t size = C.cc_e1_rx_state_size(n)
        # the state lives in a numpy buffer: the report views below keep it alive, without a
        # reference cycle through this object (numpy arrays are not tracked by the GC)
        self._mem = np.zeros(size, np.uint8)
        cdef void *mem = cnp.PyArray_DATA(<cnp.ndarray>self._mem)
        self._max_changes = 30 * <size_t>n
        self._changes = <C.cc_e1_change_t *>calloc(self._max_changes, sizeof(C.cc_e1_change_t))
        if self._changes == NULL:
            raise MemoryError(f"spans: cannot allocate a deframer of {n} spans ({size} bytes)")
        self._s = C.cc_e1_rx_init(mem, n, <const uint8_t *><char *>c4, <const uint8_t *><char *>cs)
        if self._s == NULL:
            raise DSPArgumentError("e1 deframer: settings refused by the native kernel")
        self._spans = n
        self._views()
        self.changed = _NO_CHANGES
        self.dirty = True

    cdef _views(self):
        # the reports stay in the C state: these arrays are read-only views of it, kept current
        # by every process() (no copies)
        cdef size_t off = <char *>C.cc_e1_rx_status(self._s) - <char *>self._s
        st = self._mem[off : off + self._spans * sizeof(C.cc_e1_rx_status_t)].view(STATUS_DTYPE)
        st.flags.writeable = False
        self.status = st
        self.los, self.ais, self.in_frame = st["los"], st["ais"], st["in_frame"]
        self.yellow, self.lmfa, self.mf_aligned = st["yellow"], st["lmfa"], st["mf_aligned"]
        self.cas_aligned, self.red, self.e_out = st["cas_aligned"], st["red"], st["e_out"]
        self.fas_errors, self.crc_errors, self.ebit_errors = st["fas_errors"], st["crc_errors"], st["ebit_errors"]
        self.rx_bits, self.raw_bits = st["rx_bits"], st["raw_bits"]

    def __dealloc__(self):
        if self._s != NULL:
            C.cc_e1_rx_release(self._s)  # the memory is self._mem's
        free(self._changes)

    @property
    def spans(self):
        return self._spans

    @property
    def quiet(self):
        """Every span in frame with no alarm (LOS, AIS, RAI, LMFA) after the last tick."""
        return C.cc_e1_rx_quiet(self._s) == 1

    def process(self, frames):
        """Read one received tick (spans, 32, 8); changed = (span, timeslot) rows whose ABCD changed."""
        cdef cnp.ndarray a = _tick(frames, self._spans, False)
        cdef const uint8_t *p = <const uint8_t *>cnp.PyArray_DATA(a)
        cdef int rc
        with nogil:
            rc = C.cc_e1_rx_process(self._s, p, self._changes, self._max_changes)
        _check(rc, "rx process")
        if C.cc_e1_rx_take_dirty(self._s):
            self.dirty = True
        if rc == 0:
            self.changed = _NO_CHANGES
            return
        out = np.empty((rc, 2), np.intp)
        cdef cnp.intp_t[:, ::1] o = out
        cdef Py_ssize_t i
        for i in range(rc):
            o[i, 0] = self._changes[i].span
            o[i, 1] = self._changes[i].timeslot
        self.changed = out

    def reset(self):
        _check(C.cc_e1_rx_reset(self._s), "rx reset")
        self.changed = _NO_CHANGES
        self.dirty = True

    def get_state(self):
        return (<char *>self._s)[:C.cc_e1_rx_size(self._s)]

    def set_state(self, state):
        if not isinstance(state, (bytes, bytearray, memoryview)):
            raise DSPArgumentError(f"state: expected bytes from get_state(), got {type(state).__name__}")
        cdef const unsigned char[::1] view = bytes(state)
        if view.shape[0] == 0 or C.cc_e1_rx_restore(self._s, &view[0], view.shape[0]) < 0:
            raise DSPArgumentError("state: not a saved E1 deframer state of this span count")
        self.dirty = True


cdef class E1Framer:
    """The transmit side of `spans` E1 lines: TS0 (FAS/NFAS, CRC-4, RAI, E bits) and TS16 CAS."""

    cdef C.cc_e1_tx_t *_s
    cdef uint32_t _spans

    def __cinit__(self, *args, **kwargs):
        self._s = NULL

    def __init__(self, spans, crc4, cas, phase=0):
        cdef uint32_t n = _span_count(spans)
        cdef bytes c4 = _flags("crc4", crc4, n)
        cdef bytes cs = _flags("cas", cas, n)
        if phase not in (0, 1):
            raise DSPArgumentError(f"phase: {phase!r} is not 0 (SMF I first) or 1 (SMF II first)")
        cdef size_t size = C.cc_e1_tx_state_size(n)
        cdef void *mem = calloc(1, size)
        if mem == NULL:
            raise MemoryError(f"spans: cannot allocate a framer of {n} spans ({size} bytes)")
        self._s = C.cc_e1_tx_init(mem, n, <const uint8_t *><char *>c4, <const uint8_t *><char *>cs, phase)
        if self._s == NULL:
            free(mem)
            raise DSPArgumentError("e1 framer: settings refused by the native kernel")
        self._spans = n

    def __dealloc__(self):
        if self._s != NULL:
            C.cc_e1_tx_release(self._s)
            free(self._s)

    @property
    def spans(self):
        return self._spans

    cdef uint32_t _span(self, span) except? 0:
        if not isinstance(span, (int, np.integer)) or isinstance(span, bool) or not 0 <= span < self._spans:
            raise DSPArgumentError(f"span: {span!r} is not a span index 0..{self._spans - 1}")
        return span

    def set_bits(self, span, ts, bits):
        """ABCD (low 4 bits) to send on timeslot ts of span index `span`, from the next tick."""
        if not isinstance(ts, (int, np.integer)) or not 0 <= ts < 32:
            raise DSPArgumentError(f"ts: {ts!r} is not a timeslot 0..31")
        _check(C.cc_e1_tx_set_bits(self._s, self._span(span), ts, int(bits) & 0xF), "set_bits")

    @property
    def tx_bits(self):
        """ABCD per (span, timeslot), a copy: change them with set_bits."""
        out = np.empty((self._spans, 32), np.uint8)
        cdef uint8_t[:, ::1] o = out
        cdef uint32_t i, t
        for i in range(self._spans):
            for t in range(32):
                o[i, t] = <uint8_t>C.cc_e1_tx_get_bits(self._s, i, t)
        return out

    def set_ais(self, span, on):
        """Send AIS (unframed all ones) on span from the next tick (or frames again)."""
        _check(C.cc_e1_tx_set_ais(self._s, self._span(span), 1 if on else 0), "set_ais")

    @property
    def ais(self):
        """Which spans send AIS, a copy: change it with set_ais."""
        return np.array([C.cc_e1_tx_get_ais(self._s, i) == 1 for i in range(self._spans)], bool)

    def build(self, frames, E1Deframer rx=None, rai=None):
        """Write TS0/TS16 of this tick into frames (spans, 32, 8) around the payload already there.
        rx: this end's deframer of the same spans (its red alarm -> our A bit, its E bits sent
        back); rai: optional booleans per span forcing RAI."""
        cdef cnp.ndarray a = _tick(frames, self._spans, True)
        cdef const C.cc_e1_rx_t *prx = NULL
        cdef const uint8_t *prai = NULL
        cdef cnp.ndarray r
        if rx is not None:
            if rx._spans != self._spans:
                raise DSPArgumentError(f"rx: a deframer of {rx._spans} spans for a framer of {self._spans}")
            prx = rx._s
        if rai is not None:
            if not (isinstance(rai, np.ndarray) and rai.dtype == np.bool_ and rai.flags.c_contiguous):
                rai = np.ascontiguousarray(rai, dtype=np.bool_)
            if rai.shape != (self._spans,):
                raise DSPArgumentError(f"rai: expected {self._spans} booleans, one per span, got shape {rai.shape}")
            r = <cnp.ndarray>rai
            prai = <const uint8_t *>cnp.PyArray_DATA(r)
        cdef uint8_t *p = <uint8_t *>cnp.PyArray_DATA(a)
        cdef int rc
        with nogil:
            rc = C.cc_e1_tx_process(self._s, p, prx, prai)
        _check(rc, "tx process")

    def reset(self):
        _check(C.cc_e1_tx_reset(self._s), "tx reset")

    def get_state(self):
        return (<char *>self._s)[:C.cc_e1_tx_size(self._s)]

    def set_state(self, state):
        if not isinstance(state, (bytes, bytearray, memoryview)):
            raise DSPArgumentError(f"state: expected bytes from get_state(), got {type(state).__name__}")
        cdef const unsigned char[::1] view = bytes(state)
        if view.shape[0] == 0 or C.cc_e1_tx_restore(self._s, &view[0], view.shape[0]) < 0:
            raise DSPArgumentError("state: not a saved E1 framer state of this span count")
