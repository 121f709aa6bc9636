"""Line echo canceller (G.168) over numpy buffers: one channel, or a bank fed one 1 ms chunk per call.

See echo.pyi for the API and native/include/ccboard/echo.h for the method and its figures.
Arguments are checked in Python; the C calls run without the GIL on validated pointers.
"""

cimport numpy as cnp
from libc.stdint cimport int16_t, int32_t, int64_t, uint32_t, uintptr_t
from libc.stdlib cimport calloc, free

import numpy as np

from ccboard.dsp cimport c_common as CC
from ccboard.dsp cimport c_echo as C
from ccboard.dsp._fast cimport fast_rows_ok
from ccboard.dsp._args import check_array, check_out, check_sample_rate
from ccboard.errors import DSPArgumentError, DSPError

cdef extern from "ccboard/private/echo.h":
    pass

cnp.import_array()

BLOCK = C.CC_ECHO_BLOCK
MAX_TAPS = C.CC_ECHO_MAX_TAPS
MIN_TAPS = C.CC_ECHO_MIN_TAPS
GROUP = C.CC_ECHO_GROUP
_I16 = np.dtype(np.int16)
_I16_NUM = _I16.num


cdef int _check(int rc, str op) except -1:
    """Every native return code passes here; the exception keeps the code."""
    if rc < 0:
        raise DSPError(f"echo {op}: {CC.cc_strerror(rc).decode()} (cc_err {rc})", rc)
    return rc


cdef C.cc_echo_config_t _config(taps, bint adapt, bint nlp, bint cng, bint hpf, bint tone_disable,
                                mu, alpha, geigel_db) except *:
    cdef C.cc_echo_config_t cfg
    if not isinstance(taps, int) or not C.CC_ECHO_MIN_TAPS <= taps <= C.CC_ECHO_MAX_TAPS \
            or taps % C.CC_ECHO_GROUP:
        raise DSPArgumentError(
            f"taps: {taps!r} is not a multiple of {C.CC_ECHO_GROUP} in {C.CC_ECHO_MIN_TAPS}..{C.CC_ECHO_MAX_TAPS}"
            " (8 taps per ms: 256 = 32 ms, 512 = 64 ms, 1024 = 128 ms)")
    for name, value, lo, hi, lo_open in (("mu", mu, 0.0, 1.0, True), ("alpha", alpha, -1.0, 1.0, False),
                                         ("geigel_db", geigel_db, 0.0, 30.0, False)):
        if not isinstance(value, (int, float)) or not (lo < value <= hi if lo_open else lo <= value <= hi):
            raise DSPArgumentError(f"{name}: {value!r} is outside {lo}..{hi}")
    cfg.taps = taps
    cfg.flags = ((C.CC_ECHO_ADAPT if adapt else 0) | (C.CC_ECHO_NLP if nlp else 0) | (C.CC_ECHO_CNG if cng else 0)
                 | (C.CC_ECHO_HPF if hpf else 0) | (C.CC_ECHO_TONE_DISABLE if tone_disable else 0))
    cfg.mu = mu
    cfg.alpha = alpha
    cfg.geigel_db = geigel_db
    return cfg


cdef dict _stats(const C.cc_echo_t *s):
    cdef C.cc_echo_stats_t st
    _check(C.cc_echo_get_stats(s, &st), "stats")
    return {
        "samples": st.samples,
        "erl_db": st.erl_db,
        "erle_db": st.erle_db,
        "rin_dbm0": st.rin_dbm0,
        "sin_dbm0": st.sin_dbm0,
        "residual_dbm0": st.residual_dbm0,
        "noise_dbm0": st.noise_dbm0,
        "double_talk_count": st.double_talk_count,
        "transfers": st.transfers,
        "rollbacks": st.rollbacks,
        "tone_disables": st.tone_disables,
        "double_talk": bool(st.double_talk),
        "nlp": bool(st.nlp),
        "tone_disabled": bool(st.tone_disabled),
        "bypass": bool(st.bypass),
    }


cdef bytes _get_state(C.cc_echo_t *s):
    return (<char *>s)[:C.cc_echo_state_size()]


cdef _set_state(C.cc_echo_t *s, state):
    if not isinstance(state, (bytes, bytearray, memoryview)):
        raise DSPArgumentError(f"state: expected bytes from get_state(), got {type(state).__name__}")
    cdef const unsigned char[::1] view = bytes(state)
    cdef size_t size = C.cc_echo_state_size()
    if <size_t>view.shape[0] != size:
        raise DSPArgumentError(f"state: {view.shape[0]} bytes, a canceller state has {size}")
    if C.cc_echo_restore(s, &view[0], size) < 0:
        raise DSPArgumentError("state: not a saved echo canceller state (magic, settings, position or values invalid)")


cdef class EchoCanceller:
    """One channel's canceller; the C state is embedded in the object."""

    cdef C.cc_echo_t _s

    def __init__(self, taps=1024, sample_rate=8000, *, adapt=True, nlp=True, cng=True, hpf=True,
                 tone_disable=True, mu=0.5, alpha=0.0, geigel_db=3.0):
        check_sample_rate(sample_rate)
        cdef C.cc_echo_config_t cfg = _config(taps, adapt, nlp, cng, hpf, tone_disable, mu, alpha, geigel_db)
        if C.cc_echo_init(&self._s, &cfg) == NULL:
            raise DSPArgumentError("echo canceller: settings refused by the native kernel")

    @property
    def taps(self):
        cdef C.cc_echo_config_t cfg
        C.cc_echo_get_config(&self._s, &cfg)
        return cfg.taps

    @property
    def samples(self):
        return self.stats()["samples"]

    @property
    def bypass(self):
        return self.stats()["bypass"]

    @bypass.setter
    def bypass(self, on):
        _check(C.cc_echo_set_bypass(&self._s, 1 if on else 0), "set_bypass")

    def process(self, rin, sin, out=None):
        if not fast_rows_ok(rin, _I16_NUM, 1, False):
            rin = check_array("rin", rin, _I16, 1)
        if not fast_rows_ok(sin, _I16_NUM, 1, False):
            sin = check_array("sin", sin, _I16, 1)
        cdef size_t n = cnp.PyArray_DIMS(<cnp.ndarray>rin)[0]
        if <size_t>cnp.PyArray_DIMS(<cnp.ndarray>sin)[0] != n:
            raise DSPArgumentError(f"sin: {sin.shape[0]} samples, rin has {n}")
        if out is None or not fast_rows_ok(out, _I16_NUM, 1, True) or <size_t>out.shape[0] != n:
            out = check_out("out", out, _I16, (n,))
        if n and np.shares_memory(out, rin):
            raise DSPArgumentError("out: must not overlap rin (it may be sin itself)")
        cdef const int16_t *rp = <const int16_t *>cnp.PyArray_DATA(<cnp.ndarray>rin)
        cdef const int16_t *sp = <const int16_t *>cnp.PyArray_DATA(<cnp.ndarray>sin)
        cdef int16_t *op = <int16_t *>cnp.PyArray_DATA(<cnp.ndarray>out)
        cdef int rc
        with nogil:
            rc = C.cc_echo_process(&self._s, rp, sp, op, n)
        _check(rc, "process")
        return out

    def reset(self):
        _check(C.cc_echo_reset(&self._s), "reset")

    def stats(self):
        return _stats(&self._s)

    def get_state(self):
        return _get_state(&self._s)

    def set_state(self, state):
        _set_state(&self._s, state)

    def __reduce__(self):
        return (_restore_canceller, (self.get_state(),))


def _restore_canceller(state):
    c = EchoCanceller()
    c.set_state(state)
    return c


cdef class EchoCancellerBank:
    """Cancellers for many channels, fed (channels x samples) buffers, one call per 1 ms chunk."""

    cdef void *_mem
    cdef C.cc_echo_t **_ptrs
    cdef size_t _n

    def __cinit__(self, *args, **kwargs):
        self._mem = NULL
        self._ptrs = NULL
        self._n = 0

    def __init__(self, channels, taps=1024, sample_rate=8000, *, adapt=True, nlp=True, cng=True, hpf=True,
                 tone_disable=True, mu=0.5, alpha=0.0, geigel_db=3.0):
        if not isinstance(channels, int) or not 1 <= channels <= 1 << 16:
            raise DSPArgumentError(f"channels: {channels!r} is not a channel count 1..{1 << 16}")
        check_sample_rate(sample_rate)
        cdef C.cc_echo_config_t cfg = _config(taps, adapt, nlp, cng, hpf, tone_disable, mu, alpha, geigel_db)
        # states on 64-byte boundaries: the AVX-512 loops then read the tap arrays and the
        # history in aligned blocks (native/src/echo.c, window_shift); any other place works too
        # (slower)
        cdef size_t stride = (C.cc_echo_state_size() + 63) // 64 * 64
        self._mem = calloc(channels * stride + 63, 1)
        self._ptrs = <C.cc_echo_t **>calloc(channels, sizeof(C.cc_echo_t *))
        if self._mem == NULL or self._ptrs == NULL:
            raise MemoryError(f"channels: cannot allocate {channels} cancellers")
        cdef char *base = <char *>((<uintptr_t>self._mem + 63) // 64 * 64)
        cdef size_t c
        for c in range(channels):
            self._ptrs[c] = C.cc_echo_init(<C.cc_echo_t *>(base + c * stride), &cfg)
        self._n = channels

    def __dealloc__(self):
        free(self._ptrs)
        free(self._mem)

    @property
    def channels(self):
        return self._n

    def process(self, rin, sin, out=None):
        if not fast_rows_ok(rin, _I16_NUM, 2, False):
            rin = check_array("rin", rin, _I16, 2)
        if not fast_rows_ok(sin, _I16_NUM, 2, False):
            sin = check_array("sin", sin, _I16, 2)
        cdef cnp.ndarray r = <cnp.ndarray>rin
        cdef cnp.ndarray s = <cnp.ndarray>sin
        if r.shape[0] != <Py_ssize_t>self._n:
            raise DSPArgumentError(f"rin: {r.shape[0]} rows for a bank of {self._n} channels")
        if s.shape[0] != r.shape[0] or s.shape[1] != r.shape[1]:
            raise DSPArgumentError(f"sin: shape {tuple(sin.shape)} is not rin's {tuple(rin.shape)}")
        cdef size_t n = r.shape[1]
        # one stride for all three: compact rows (the common case) or copies that make them so
        if n and self._n > 1 and (r.strides[0] != <Py_ssize_t>(2 * n) or s.strides[0] != <Py_ssize_t>(2 * n)):
            rin = r = np.ascontiguousarray(rin)
            sin = s = np.ascontiguousarray(sin)
        if out is None:
            out = np.empty((self._n, n), dtype=_I16)
        else:
            out = check_out("out", out, _I16, (self._n, n))
            if n and self._n > 1 and (<cnp.ndarray>out).strides[0] != <Py_ssize_t>(2 * n):
                raise DSPArgumentError("out: rows must be contiguous and packed (C order)")
            if n and np.shares_memory(out, rin):
                raise DSPArgumentError("out: must not overlap rin (it may be sin itself)")
            if n and not (out is sin) and np.shares_memory(out, sin):
                raise DSPArgumentError("out: must be sin itself or not overlap it")
        cdef const int16_t *rp = <const int16_t *>cnp.PyArray_DATA(r)
        cdef const int16_t *sp = <const int16_t *>cnp.PyArray_DATA(s)
        cdef int16_t *op = <int16_t *>cnp.PyArray_DATA(<cnp.ndarray>out)
        cdef int rc
        with nogil:
            rc = C.cc_echo_process_batch(self._ptrs, self._n, rp, sp, op, n, n)
        _check(rc, "process_batch")
        return out

    cdef size_t _channel(self, channel) except? 0:
        if not isinstance(channel, int) or not 0 <= channel < <long long>self._n:
            raise DSPArgumentError(f"channel: {channel!r} is not a row index 0..{self._n - 1}")
        return channel

    def reset(self, channel=None):
        cdef size_t c
        if channel is None:
            for c in range(self._n):
                _check(C.cc_echo_reset(self._ptrs[c]), "reset")
        else:
            _check(C.cc_echo_reset(self._ptrs[self._channel(channel)]), "reset")

    def set_bypass(self, channel, on):
        _check(C.cc_echo_set_bypass(self._ptrs[self._channel(channel)], 1 if on else 0), "set_bypass")

    def stats(self, channel):
        return _stats(self._ptrs[self._channel(channel)])

    def get_state(self, channel):
        return _get_state(self._ptrs[self._channel(channel)])

    def set_state(self, channel, state):
        _set_state(self._ptrs[self._channel(channel)], state)
