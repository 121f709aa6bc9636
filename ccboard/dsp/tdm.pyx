"""TDM switch (time-slot interchange) over numpy planes.

See tdm.pyi for the API and native/include/ccboard/tdm.h for the method and its figures.
Arguments are checked in Python; the C call runs without the GIL on validated pointers.
"""

cimport numpy as cnp
from libc.stdint cimport int16_t, int32_t, uint8_t, uint32_t
from libc.stdlib cimport calloc, free

import numpy as np

from ccboard.dsp cimport c_common as CC
from ccboard.dsp cimport c_tdm as C
from ccboard.dsp._fast cimport fast_rows_ok
from ccboard.dsp._args import LAWS, check_array, check_sample_rate
from ccboard.errors import DSPArgumentError, DSPError

cdef extern from "ccboard/private/tdm.h":
    pass

cnp.import_array()

MAX_SLOTS = C.CC_TDM_MAX_SLOTS
MAX_CHUNK = C.CC_TDM_MAX_CHUNK
MIN_GAIN_DB = float(C.CC_TDM_MIN_GAIN_DB)
MAX_GAIN_DB = float(C.CC_TDM_MAX_GAIN_DB)
_LAW_NAMES = {code: name for name, code in LAWS.items()}
_U8 = np.dtype(np.uint8)
_I16 = np.dtype(np.int16)


cdef int _check(int rc, str op) except -1:
    """Every native return code passes here; the exception keeps the code."""
    if rc < 0:
        raise DSPError(f"tdm {op}: {CC.cc_strerror(rc).decode()} (cc_err {rc})", rc)
    return rc


def gain_factor(gain_db):
    """The linear factor the switch multiplies by for a gain in dB (float32 maths, as in C)."""
    return float(C.cc_tdm_gain_factor(gain_db))


cdef bint _overlap(cnp.ndarray a, cnp.ndarray b):
    """Whether two 2-D arrays' byte ranges intersect (outputs must not alias inputs)."""
    cdef cnp.npy_intp *da = cnp.PyArray_DIMS(a)
    cdef cnp.npy_intp *db = cnp.PyArray_DIMS(b)
    if da[0] == 0 or da[1] == 0 or db[0] == 0 or db[1] == 0:
        return False
    cdef char *a0 = <char *>cnp.PyArray_DATA(a)
    cdef char *b0 = <char *>cnp.PyArray_DATA(b)
    cdef char *a1 = a0 + (da[0] - 1) * cnp.PyArray_STRIDES(a)[0] + da[1] * cnp.PyArray_ITEMSIZE(a)
    cdef char *b1 = b0 + (db[0] - 1) * cnp.PyArray_STRIDES(b)[0] + db[1] * cnp.PyArray_ITEMSIZE(b)
    return a0 < b1 and b0 < a1


cdef class TdmSwitch:
    """A time-slot interchange over `len(laws)` slots; the C state is owned by the object."""

    cdef C.cc_tdm_t *_s
    cdef size_t _slots
    cdef uint32_t _chunk
    cdef tuple _laws
    cdef bint _any8
    cdef bint _any16

    def __cinit__(self, *args, **kwargs):
        self._s = NULL

    def __init__(self, laws, chunk=8, sample_rate=8000):
        check_sample_rate(sample_rate)
        if isinstance(laws, str) or not hasattr(laws, "__len__"):
            raise DSPArgumentError(f"laws: expected a sequence of law names, one per slot, got {laws!r}")
        if not 1 <= len(laws) <= C.CC_TDM_MAX_SLOTS:
            raise DSPArgumentError(f"laws: {len(laws)} slots, the switch takes 1..{C.CC_TDM_MAX_SLOTS}")
        if not isinstance(chunk, int) or not 1 <= chunk <= C.CC_TDM_MAX_CHUNK:
            raise DSPArgumentError(f"chunk: {chunk!r} is not a sample count 1..{C.CC_TDM_MAX_CHUNK}")
        codes = bytearray(len(laws))
        for i, law in enumerate(laws):
            if law not in LAWS:
                raise DSPArgumentError(f"laws: {law!r} at slot {i} is not one of {sorted(LAWS)}")
            codes[i] = LAWS[law]
        cdef C.cc_tdm_config_t cfg
        cfg.slots = len(laws)
        cfg.chunk = chunk
        cdef size_t size = C.cc_tdm_state_size(&cfg)
        cdef void *mem = calloc(1, size)
        if mem == NULL:
            raise MemoryError(f"laws: cannot allocate a switch of {len(laws)} slots ({size} bytes)")
        cdef const unsigned char[::1] cv = codes
        self._s = C.cc_tdm_init(mem, &cfg, &cv[0])
        if self._s == NULL:
            free(mem)
            raise DSPArgumentError("tdm switch: settings refused by the native kernel")
        self._slots = len(laws)
        self._chunk = chunk
        self._set_laws()

    cdef _set_laws(self):
        self._laws = tuple([_LAW_NAMES[C.cc_tdm_law(self._s, i)] for i in range(self._slots)])
        self._any8 = any(law != "linear" for law in self._laws)
        self._any16 = "linear" in self._laws

    def __dealloc__(self):
        if self._s != NULL:
            C.cc_tdm_release(self._s)
            free(self._s)

    @property
    def slots(self):
        return self._slots

    @property
    def chunk(self):
        return self._chunk

    @property
    def laws(self):
        return self._laws

    @property
    def connections(self):
        return C.cc_tdm_connections(self._s)

    @property
    def pending(self):
        return C.cc_tdm_pending(self._s)

    @property
    def samples(self):
        return C.cc_tdm_samples(self._s)

    cdef uint32_t _slot(self, name, value) except? 0:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < <long long>self._slots:
            raise DSPArgumentError(f"{name}: {value!r} is not a slot index 0..{self._slots - 1}")
        return value

    cdef float _gain(self, gain_db) except? -1000.0:
        if not isinstance(gain_db, (int, float)) or not MIN_GAIN_DB <= gain_db <= MAX_GAIN_DB:
            raise DSPArgumentError(f"gain_db: {gain_db!r} is outside {MIN_GAIN_DB}..{MAX_GAIN_DB} dB")
        return gain_db

    def connect(self, src, dst, gain_db=0.0, *, two_way=False):
        cdef uint32_t s = self._slot("src", src)
        cdef uint32_t d = self._slot("dst", dst)
        cdef float g = self._gain(gain_db)
        _check(C.cc_tdm_connect(self._s, s, d, g), "connect")
        if two_way:
            _check(C.cc_tdm_connect(self._s, d, s, g), "connect")

    def disconnect(self, dst, *, two_way=False):
        cdef uint32_t d = self._slot("dst", dst)
        cdef int32_t s = C.cc_tdm_source(self._s, d, 1)
        _check(C.cc_tdm_disconnect(self._s, d), "disconnect")
        if two_way and s >= 0 and C.cc_tdm_source(self._s, s, 1) == <int32_t>d:
            _check(C.cc_tdm_disconnect(self._s, s), "disconnect")

    def set_gain(self, dst, gain_db):
        cdef uint32_t d = self._slot("dst", dst)
        cdef float g = self._gain(gain_db)
        if C.cc_tdm_source(self._s, d, 1) < 0:
            raise DSPArgumentError(f"dst: slot {dst} has no connection to set a gain on")
        _check(C.cc_tdm_set_gain(self._s, d, g), "set_gain")

    def disconnect_all(self):
        _check(C.cc_tdm_disconnect_all(self._s), "disconnect_all")

    def source(self, dst, pending=False):
        cdef int32_t s = C.cc_tdm_source(self._s, self._slot("dst", dst), 1 if pending else 0)
        return None if s < 0 else s

    def gain_db(self, dst, pending=False):
        return float(C.cc_tdm_gain_db(self._s, self._slot("dst", dst), 1 if pending else 0))

    def routes(self, pending=False):
        """The map as an int32 array: source of each slot, -1 where none."""
        out = np.empty(self._slots, dtype=np.int32)
        cdef int32_t[::1] o = out
        cdef uint32_t d
        cdef int p = 1 if pending else 0
        for d in range(self._slots):
            o[d] = C.cc_tdm_source(self._s, d, p)
        return out

    cdef cnp.ndarray _plane(self, str name, object x, object dtype, int typenum):
        if not fast_rows_ok(x, typenum, 2, False):
            x = check_array(name, x, dtype, 2)
        cdef cnp.ndarray a = <cnp.ndarray>x
        if a.shape[0] != <Py_ssize_t>self._slots:
            raise DSPArgumentError(f"{name}: {a.shape[0]} rows for a switch of {self._slots} slots")
        return a

    cdef cnp.ndarray _out(self, str name, object out, object dtype, int typenum, Py_ssize_t n):
        if out is None:
            # with mixed laws a plane has rows the switch never writes: give them zeros
            mixed = self._any8 and self._any16
            return (np.zeros if mixed else np.empty)((self._slots, n), dtype=dtype)
        if not fast_rows_ok(out, typenum, 2, True):
            out = check_array(name, out, dtype, 2, writable=True)
        cdef cnp.ndarray a = <cnp.ndarray>out
        if a.shape[0] != <Py_ssize_t>self._slots or a.shape[1] != n:
            raise DSPArgumentError(f"{name}: shape {(a.shape[0], a.shape[1])} is not {(self._slots, n)}")
        return a

    def process(self, octets=None, linear=None, *, out_octets=None, out_linear=None):
        cdef cnp.ndarray x8 = None, x16 = None, y8 = None, y16 = None
        if octets is None and self._any8:
            raise DSPArgumentError("octets: required, some slots are G.711 (a uint8 (slots, samples) array)")
        if linear is None and self._any16:
            raise DSPArgumentError("linear: required, some slots are linear (an int16 (slots, samples) array)")
        if octets is not None:
            x8 = self._plane("octets", octets, _U8, cnp.NPY_UINT8)
        if linear is not None:
            x16 = self._plane("linear", linear, _I16, cnp.NPY_INT16)
        if x8 is not None and x16 is not None and x8.shape[1] != x16.shape[1]:
            raise DSPArgumentError(f"linear: {x16.shape[1]} samples, octets has {x8.shape[1]}")
        cdef Py_ssize_t n = x8.shape[1] if x8 is not None else x16.shape[1]
        if x8 is not None:
            y8 = self._out("out_octets", out_octets, _U8, cnp.NPY_UINT8, n)
            if _overlap(x8, y8):
                raise DSPArgumentError("out_octets: must not overlap the input")
        if x16 is not None:
            y16 = self._out("out_linear", out_linear, _I16, cnp.NPY_INT16, n)
            if _overlap(x16, y16):
                raise DSPArgumentError("out_linear: must not overlap the input")
        cdef const uint8_t *px8 = NULL
        cdef const int16_t *px16 = NULL
        cdef uint8_t *py8 = NULL
        cdef int16_t *py16 = NULL
        cdef size_t s8 = n, s16 = n, t8 = n, t16 = n
        if x8 is not None:
            px8 = <const uint8_t *>cnp.PyArray_DATA(x8)
            py8 = <uint8_t *>cnp.PyArray_DATA(y8)
            if self._slots > 1:
                s8 = x8.strides[0]
                t8 = y8.strides[0]
        if x16 is not None:
            px16 = <const int16_t *>cnp.PyArray_DATA(x16)
            py16 = <int16_t *>cnp.PyArray_DATA(y16)
            if self._slots > 1:
                s16 = x16.strides[0] // 2
                t16 = y16.strides[0] // 2
        cdef int rc
        with nogil:
            rc = C.cc_tdm_process(self._s, px8, s8, px16, s16, py8, t8, py16, t16, n)
        _check(rc, "process")
        return y8, y16

    def reset(self):
        _check(C.cc_tdm_reset(self._s), "reset")

    def get_state(self):
        return (<char *>self._s)[:C.cc_tdm_size(self._s)]

    def set_state(self, state):
        if not isinstance(state, (bytes, bytearray, memoryview)):
            raise DSPArgumentError(f"state: expected bytes from get_state(), got {type(state).__name__}")
        cdef const unsigned char[::1] view = bytes(state)
        cdef size_t size = C.cc_tdm_size(self._s)
        if <size_t>view.shape[0] != size:
            raise DSPArgumentError(f"state: {view.shape[0]} bytes, this switch's state has {size}")
        if C.cc_tdm_restore(self._s, &view[0], size) < 0:
            raise DSPArgumentError("state: not a saved state of a switch with these slots and chunk")
        self._set_laws()  # the laws travel with the state

    def __reduce__(self):
        return (_restore_switch, (self._laws, self.chunk, self.get_state()))


def _restore_switch(laws, chunk, state):
    s = TdmSwitch(laws, chunk)
    s.set_state(state)
    return s
