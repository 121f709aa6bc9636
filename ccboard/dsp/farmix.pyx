"""Far-end line mixer for the simulated board: far-end audio plus hybrid echo, G.711-coded.

See farmix.pyi for the API and native/include/ccboard/farmix.h for the method.
Arguments are checked in Python; the C call runs without the GIL on validated pointers.
"""

cimport numpy as cnp
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint32_t
from libc.stdlib cimport calloc, free

import numpy as np

from ccboard.dsp cimport c_common as CC
from ccboard.dsp cimport c_farmix as C
from ccboard.dsp._fast cimport fast_rows_ok
from ccboard.dsp._args import LAWS, check_array
from ccboard.errors import DSPArgumentError, DSPError

cnp.import_array()

TICK = C.CC_FARMIX_TICK
MAX_ROWS = C.CC_FARMIX_MAX_ROWS
MAX_HIST = C.CC_FARMIX_MAX_HIST
Q15_ONE = C.CC_FARMIX_Q15_ONE
_I16 = np.dtype(np.int16)
_U8 = np.dtype(np.uint8)
_I64 = np.dtype(np.int64)


cdef int _check(int rc, str op) except -1:
    """Every native return code passes here; the exception keeps the code."""
    if rc < 0:
        raise DSPError(f"farmix {op}: {CC.cc_strerror(rc).decode()} (cc_err {rc})", rc)
    return rc


cdef class FarMixer:
    """The far-end line mixer of `len(laws)` line rows ('alaw' / 'ulaw' each), with `hist_ticks`
    ticks of our tx kept for the echo paths."""

    cdef C.cc_farmix_t *_s
    cdef uint32_t _rows
    cdef uint32_t _hist

    def __cinit__(self, *args, **kwargs):
        self._s = NULL

    def __init__(self, laws, hist_ticks=256):
        if isinstance(laws, str) or not hasattr(laws, "__len__"):
            raise DSPArgumentError(f"laws: expected a sequence of 'alaw'/'ulaw', one per row, got {laws!r}")
        if not 1 <= len(laws) <= C.CC_FARMIX_MAX_ROWS:
            raise DSPArgumentError(f"laws: {len(laws)} rows, the mixer takes 1..{C.CC_FARMIX_MAX_ROWS}")
        if not isinstance(hist_ticks, int) or not 2 <= hist_ticks <= C.CC_FARMIX_MAX_HIST:
            raise DSPArgumentError(f"hist_ticks: {hist_ticks!r} is not 2..{C.CC_FARMIX_MAX_HIST}")
        codes = bytearray(len(laws))
        for i, law in enumerate(laws):
            if law not in ("alaw", "ulaw"):
                raise DSPArgumentError(f"laws: {law!r} at row {i} is not 'alaw' or 'ulaw'")
            codes[i] = LAWS[law]
        cdef size_t size = C.cc_farmix_state_size(len(laws), hist_ticks)
        cdef void *mem = calloc(1, size)
        if mem == NULL:
            raise MemoryError(f"laws: cannot allocate a mixer of {len(laws)} rows ({size} bytes)")
        cdef const unsigned char[::1] cv = codes
        self._s = C.cc_farmix_init(mem, len(laws), hist_ticks, &cv[0])
        if self._s == NULL:
            free(mem)
            raise DSPArgumentError("farmix: settings refused by the native kernel")
        self._rows = len(laws)
        self._hist = hist_ticks

    def __dealloc__(self):
        if self._s != NULL:
            C.cc_farmix_release(self._s)
            free(self._s)

    @property
    def rows(self):
        return self._rows

    @property
    def hist_ticks(self):
        return self._hist

    @property
    def ticks(self):
        return C.cc_farmix_ticks(self._s)

    def set_echo(self, q15, delay):
        """Echo factor (Q15, 0..32768, 0 = none) and delay in ticks (1..hist_ticks-1) of every row."""
        q = np.asarray(q15)
        d = np.asarray(delay)
        if q.shape != (self._rows,) or d.shape != (self._rows,) or q.dtype.kind not in "iu" or d.dtype.kind not in "iu":
            raise DSPArgumentError(f"q15, delay: expected {self._rows} integers each, got {q.shape} and {d.shape}")
        if (q < 0).any() or (q > C.CC_FARMIX_Q15_ONE).any():
            raise DSPArgumentError(f"q15: row {int(np.argmax((q < 0) | (q > C.CC_FARMIX_Q15_ONE)))} is outside 0..32768")
        if (d < 1).any() or (d >= self._hist).any():
            raise DSPArgumentError(f"delay: row {int(np.argmax((d < 1) | (d >= self._hist)))} is outside 1..{self._hist - 1} ticks")
        cdef int32_t[::1] qv = np.ascontiguousarray(q, np.int32)
        cdef int32_t[::1] dv = np.ascontiguousarray(d, np.int32)
        cdef uint32_t r
        for r in range(self._rows):
            _check(C.cc_farmix_set_echo(self._s, r, qv[r], <uint32_t>dv[r]), "set_echo")

    def put_tx(self, tx, rows):
        """Our tx of this tick: tx (n, 8) int16, row i heard on line row rows[i] (int64)."""
        if not fast_rows_ok(tx, cnp.NPY_INT16, 2, False):
            tx = check_array("tx", tx, _I16, 2)
        if not fast_rows_ok(rows, cnp.NPY_INT64, 1, False):
            rows = check_array("rows", rows, _I64, 1)
        cdef cnp.ndarray x = <cnp.ndarray>tx
        cdef cnp.ndarray r = <cnp.ndarray>rows
        if x.shape[1] != C.CC_FARMIX_TICK or x.shape[0] != r.shape[0]:
            raise DSPArgumentError(f"tx: shape {tx.shape} is not ({r.shape[0]}, 8) (one tick per row given)")
        cdef size_t n = x.shape[0]
        cdef size_t stride = x.strides[0] // 2 if n > 1 else 8
        cdef int rc = C.cc_farmix_put_tx(self._s, <const int16_t *>cnp.PyArray_DATA(x), stride,
                                         <const int64_t *>cnp.PyArray_DATA(r), n)
        if rc == CC.CC_ERR_ARG:  # checked in C, once per row, rather than by two numpy passes here
            raise DSPArgumentError(f"put_tx: rows: a row outside 0..{self._rows - 1}")
        _check(rc, "put_tx")

    def process(self, far, out):
        """One tick: out (rows, 8) uint8 = law(sat16(far + echo)); far (rows, 8) int16; both packed."""
        cdef cnp.ndarray f = self._packed("far", far, cnp.NPY_INT16, _I16, False)
        cdef cnp.ndarray o = self._packed("out", out, cnp.NPY_UINT8, _U8, True)
        cdef const int16_t *pf = <const int16_t *>cnp.PyArray_DATA(f)
        cdef uint8_t *po = <uint8_t *>cnp.PyArray_DATA(o)
        cdef int rc
        with nogil:
            rc = C.cc_farmix_process(self._s, pf, po)
        _check(rc, "process")

    cdef cnp.ndarray _packed(self, str name, object x, int typenum, object dtype, bint writable):
        if not fast_rows_ok(x, typenum, 2, writable):
            x = check_array(name, x, dtype, 2, writable=writable)
        cdef cnp.ndarray a = <cnp.ndarray>x
        if a.shape[0] != self._rows or a.shape[1] != C.CC_FARMIX_TICK or not cnp.PyArray_IS_C_CONTIGUOUS(a):
            raise DSPArgumentError(f"{name}: expected a packed ({self._rows}, 8) array, got shape {x.shape} strides {x.strides}")
        return a

    def reset(self):
        _check(C.cc_farmix_reset(self._s), "reset")

    def get_state(self):
        return (<char *>self._s)[:C.cc_farmix_size(self._s)]

    def set_state(self, state):
        if not isinstance(state, (bytes, bytearray, memoryview)):
            raise DSPArgumentError(f"state: expected bytes from get_state(), got {type(state).__name__}")
        cdef const unsigned char[::1] view = bytes(state)
        if view.shape[0] == 0 or C.cc_farmix_restore(self._s, &view[0], view.shape[0]) < 0:
            raise DSPArgumentError("state: not a saved far-end mixer state of these rows")
