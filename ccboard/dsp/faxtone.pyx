"""Fax/modem tone receiver (single channel and bank) and generator over numpy buffers (see faxtone.pyi).

Arguments are checked in Python; the C calls run without the GIL on validated pointers.
"""

cimport numpy as cnp
from libc.stdint cimport int16_t, int32_t
from libc.stdlib cimport calloc, free

import numpy as np

from ccboard.dsp cimport c_common as CC
from ccboard.dsp cimport c_faxtone as C
from ccboard.dsp._bind cimport (
    bank_stride, check_channel_count, check_channel_id, check_rc, event_buffer, frozen_empty, state_bytes
)
from ccboard.dsp._fast cimport fast_rows_ok
from ccboard.dsp._args import LAW_DTYPES, check_array, check_law, check_out, check_sample_rate
from ccboard.errors import DSPArgumentError

cdef extern from "ccboard/private/faxtone.h":
    pass

cnp.import_array()

BLOCK = C.CC_FAXTONE_BLOCK
CNG = C.CC_FAXTONE_CNG
ANS = C.CC_FAXTONE_ANS
ANS_PR = C.CC_FAXTONE_ANS_PR
ANSAM = C.CC_FAXTONE_ANSAM
ANSAM_PR = C.CC_FAXTONE_ANSAM_PR
TONE = C.CC_FAXTONE_EV_TONE
REVERSAL = C.CC_FAXTONE_EV_REVERSAL
EC_DISABLE = C.CC_FAXTONE_EV_EC_DISABLE
END = C.CC_FAXTONE_EV_END
TONE_NAMES = {CNG: "CNG", ANS: "ANS", ANS_PR: "ANS/", ANSAM: "ANSam", ANSAM_PR: "ANSam/"}


cdef object _event_dtype():
    cdef C.cc_faxtone_event_t ev
    cdef char *b = <char *>&ev
    return np.dtype({
        "names": ["channel", "kind", "tone", "reversals", "start", "at", "freq_hz", "level_dbm0",
                  "am_depth", "duration_ms"],
        "formats": ["<i4", "u1", "u1", "<u2", "<i8", "<i8", "<f4", "<f4", "<f4", "<f4"],
        "offsets": [<char *>&ev.channel - b, <char *>&ev.kind - b, <char *>&ev.tone - b,
                    <char *>&ev.reversals - b, <char *>&ev.start - b, <char *>&ev.at - b,
                    <char *>&ev.freq_hz - b, <char *>&ev.level_dbm0 - b, <char *>&ev.am_depth - b,
                    <char *>&ev.duration_ms - b],
        "itemsize": sizeof(C.cc_faxtone_event_t),
    })


EVENT_DTYPE = _event_dtype()
_NO_EVENTS = frozen_empty(EVENT_DTYPE)


cdef inline int _check(int rc, str op) except -1:
    return check_rc(rc, "faxtone", op)


cdef C.cc_faxtone_rx_config_t _config(min_level_dbm0, cng_tolerance_hz, ans_tolerance_hz, cng_min_ms,
                                      ans_min_ms, min_am_depth) except *:
    cdef C.cc_faxtone_rx_config_t cfg
    for name, value, lo, hi in (("min_level_dbm0", min_level_dbm0, -70.0, 0.0),
                                ("cng_tolerance_hz", cng_tolerance_hz, 1.0, 60.0),
                                ("ans_tolerance_hz", ans_tolerance_hz, 1.0, 60.0),
                                ("min_am_depth", min_am_depth, 0.01, 0.99)):
        if not isinstance(value, (int, float)) or not lo <= value <= hi:
            raise DSPArgumentError(f"{name}: {value!r} is outside {lo}..{hi}")
    for name, value, lo in (("cng_min_ms", cng_min_ms, 100), ("ans_min_ms", ans_min_ms, 200)):
        if not isinstance(value, int) or not lo <= value <= 10000:
            raise DSPArgumentError(f"{name}: {value!r} is not a whole number of ms in {lo}..10000")
    cfg.min_level_dbm0 = min_level_dbm0
    cfg.cng_tolerance_hz = cng_tolerance_hz
    cfg.ans_tolerance_hz = ans_tolerance_hz
    cfg.cng_min_ms = cng_min_ms
    cfg.ans_min_ms = ans_min_ms
    cfg.min_am_depth = min_am_depth
    return cfg


cdef class FaxToneReceiver:
    """One channel's CNG / ANS / ANSam detector with phase-reversal (echo canceller disable) events."""

    cdef C.cc_faxtone_rx_t _s
    cdef CC.cc_law _law
    cdef object _dtype
    cdef int _typenum
    cdef object _ev

    def __init__(self, law="linear", sample_rate=8000, channel=0, *, min_level_dbm0=-46.0,
                 cng_tolerance_hz=38.0, ans_tolerance_hz=15.0, cng_min_ms=400, ans_min_ms=400,
                 min_am_depth=0.1):
        check_sample_rate(sample_rate)
        self._law = check_law(law)
        self._dtype = LAW_DTYPES[law]
        self._typenum = self._dtype.num
        check_channel_id(channel)
        cdef C.cc_faxtone_rx_config_t cfg = _config(min_level_dbm0, cng_tolerance_hz, ans_tolerance_hz,
                                                    cng_min_ms, ans_min_ms, min_am_depth)
        if C.cc_faxtone_rx_init(&self._s, &cfg, channel) == NULL:
            raise DSPArgumentError("faxtone receiver: settings refused by the native kernel")
        self._ev = np.empty(C.cc_faxtone_rx_max_events(160), dtype=EVENT_DTYPE)

    @property
    def samples(self):
        return C.cc_faxtone_rx_samples(&self._s)

    def process(self, x):
        if not fast_rows_ok(x, self._typenum, 1, False):
            x = check_array("x", x, self._dtype, 1)
        cdef size_t n = cnp.PyArray_DIMS(<cnp.ndarray>x)[0]
        cdef size_t cap = C.cc_faxtone_rx_max_events(n)
        self._ev = event_buffer(self._ev, cap, EVENT_DTYPE)
        cdef void *xp = cnp.PyArray_DATA(<cnp.ndarray>x)
        cdef C.cc_faxtone_event_t *evp = <C.cc_faxtone_event_t *>cnp.PyArray_DATA(<cnp.ndarray>self._ev)
        cdef int rc
        with nogil:
            rc = C.cc_faxtone_rx_process(&self._s, self._law, xp, n, evp, cap)
        return self._ev[:_check(rc, "process")].copy() if rc else _NO_EVENTS

    def reset(self):
        _check(C.cc_faxtone_rx_reset(&self._s), "reset")

    def get_state(self):
        return (<char *>&self._s)[:sizeof(self._s)]

    def set_state(self, state):
        cdef const unsigned char[::1] view = state_bytes(state, sizeof(self._s), "a receiver state")
        if C.cc_faxtone_rx_restore(&self._s, &view[0], view.shape[0]) < 0:
            raise DSPArgumentError("state: not a saved fax tone receiver state")


cdef class FaxToneReceiverBank:
    """Receivers for many channels fed by one (channels x samples) buffer per call."""

    cdef C.cc_faxtone_rx_t *_states
    cdef C.cc_faxtone_rx_t **_ptrs
    cdef size_t _n
    cdef CC.cc_law _law
    cdef object _dtype
    cdef int _typenum
    cdef object _ev

    def __cinit__(self, *args, **kwargs):
        self._states = NULL
        self._ptrs = NULL

    def __init__(self, channels, law="linear", sample_rate=8000, *, min_level_dbm0=-46.0,
                 cng_tolerance_hz=38.0, ans_tolerance_hz=15.0, cng_min_ms=400, ans_min_ms=400,
                 min_am_depth=0.1):
        check_channel_count(channels)
        check_sample_rate(sample_rate)
        self._law = check_law(law)
        self._dtype = LAW_DTYPES[law]
        self._typenum = self._dtype.num
        cdef C.cc_faxtone_rx_config_t cfg = _config(min_level_dbm0, cng_tolerance_hz, ans_tolerance_hz,
                                                    cng_min_ms, ans_min_ms, min_am_depth)
        self._states = <C.cc_faxtone_rx_t *>calloc(channels, sizeof(C.cc_faxtone_rx_t))
        self._ptrs = <C.cc_faxtone_rx_t **>calloc(channels, sizeof(C.cc_faxtone_rx_t *))
        if self._states == NULL or self._ptrs == NULL:
            raise MemoryError(f"channels: cannot allocate {channels} receivers")
        cdef size_t c
        for c in range(channels):
            self._ptrs[c] = C.cc_faxtone_rx_init(&self._states[c], &cfg, <int32_t>c)
        self._n = channels
        self._ev = np.empty(0, dtype=EVENT_DTYPE)

    def __dealloc__(self):
        free(self._ptrs)
        free(self._states)

    @property
    def channels(self):
        return self._n

    def process(self, x):
        if not fast_rows_ok(x, self._typenum, 2, False):
            x = check_array("x", x, self._dtype, 2)
        cdef cnp.ndarray a = <cnp.ndarray>x
        cdef size_t stride = bank_stride(a, self._n)
        cdef size_t n = a.shape[1]
        cdef size_t cap = self._n * C.cc_faxtone_rx_max_events(n)
        self._ev = event_buffer(self._ev, cap, EVENT_DTYPE)
        cdef void *xp = cnp.PyArray_DATA(a)
        cdef C.cc_faxtone_event_t *evp = <C.cc_faxtone_event_t *>cnp.PyArray_DATA(<cnp.ndarray>self._ev)
        cdef int rc
        with nogil:
            rc = C.cc_faxtone_rx_process_batch(self._ptrs, self._n, self._law, xp, stride, n, evp, cap)
        return self._ev[:_check(rc, "process_batch")].copy() if rc else _NO_EVENTS


cdef class FaxToneGenerator:
    """CNG, ANS, ANS/, ANSam or ANSam/ at a level (dBm0) for duration_ms (0 = for ever)."""

    cdef C.cc_faxtone_tx_t _s

    def __init__(self, tone, level_dbm0=-12.0, duration_ms=0, sample_rate=8000):
        check_sample_rate(sample_rate)
        if tone not in TONE_NAMES:
            raise DSPArgumentError(f"tone: {tone!r} is not one of {sorted(TONE_NAMES)} ({TONE_NAMES})")
        if not isinstance(level_dbm0, (int, float)) or not -60.0 <= level_dbm0 <= 3.0:
            raise DSPArgumentError(f"level_dbm0: {level_dbm0!r} is outside -60..3 dBm0")
        if not isinstance(duration_ms, int) or not 0 <= duration_ms <= 3600000:
            raise DSPArgumentError(f"duration_ms: {duration_ms!r} is not 0..3600000 ms")
        if C.cc_faxtone_tx_init(&self._s, tone, level_dbm0, duration_ms) == NULL:
            raise DSPArgumentError("faxtone generator: refused by the native kernel")

    def generate(self, n, out=None):
        if not isinstance(n, int) or n < 0:
            raise DSPArgumentError(f"n: {n!r} is not a sample count")
        out = check_out("out", out, np.dtype(np.int16), (n,))
        cdef int16_t *op = <int16_t *>cnp.PyArray_DATA(out)
        cdef size_t count = n
        cdef int rc
        with nogil:
            rc = C.cc_faxtone_tx_generate(&self._s, op, count)
        _check(rc, "generate")
        return out

    def reset(self):
        _check(C.cc_faxtone_tx_reset(&self._s), "reset")
