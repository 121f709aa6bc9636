"""DTMF receiver (single channel and bank) and generator over numpy buffers.

See dtmf.pyi for the API and native/include/ccboard/dtmf.h for the method and its figures.
Arguments are checked in Python; the C calls run without the GIL on validated pointers.
"""

cimport numpy as cnp
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t
from libc.stdlib cimport calloc, free
from libc.string cimport memcpy

import numpy as np

from ccboard.dsp cimport c_common as CC
from ccboard.dsp cimport c_dtmf as C
from ccboard.dsp._bind cimport (
    bank_stride, check_channel_count, check_channel_id, check_channel_ids, check_rc, event_buffer,
    frozen_empty, row_index, state_bytes
)
from ccboard.dsp._fast cimport fast_rows_ok
from ccboard.dsp._args import LAW_DTYPES, check_array, check_law, check_out, check_sample_rate
from ccboard.errors import DSPArgumentError

cdef extern from "ccboard/private/dtmf.h":
    pass

cnp.import_array()

ON = C.CC_DTMF_ON
OFF = C.CC_DTMF_OFF
BLOCK = C.CC_DTMF_BLOCK
_DIGITS = "0123456789*#ABCD"


cdef object _event_dtype():
    cdef C.cc_dtmf_event_t ev
    cdef char *base = <char *>&ev
    return np.dtype({
        "names": ["channel", "digit", "kind", "duration_ms", "start", "end", "at", "level_low", "level_high"],
        "formats": ["<i4", "S1", "u1", "<u2", "<i8", "<i8", "<i8", "<f4", "<f4"],
        "offsets": [<char *>&ev.channel - base, <char *>&ev.digit - base, <char *>&ev.kind - base,
                    <char *>&ev.duration_ms - base, <char *>&ev.start - base, <char *>&ev.end - base,
                    <char *>&ev.at - base, <char *>&ev.level_low - base, <char *>&ev.level_high - base],
        "itemsize": sizeof(C.cc_dtmf_event_t),
    })


EVENT_DTYPE = _event_dtype()
_NO_EVENTS = frozen_empty(EVENT_DTYPE)


cdef inline int _check(int rc, str op) except -1:
    return check_rc(rc, "dtmf", op)


cdef C.cc_dtmf_rx_config_t _rx_config(float min_level_dbm0, float normal_twist_db, float reverse_twist_db,
                                      float freq_tolerance_pct, float min_tone_fraction_db,
                                      float max_harmonic_db) except *:
    cdef C.cc_dtmf_rx_config_t cfg
    checks = (
        ("min_level_dbm0", min_level_dbm0, -90.0, 3.0),
        ("normal_twist_db", normal_twist_db, 0.0, 30.0),
        ("reverse_twist_db", reverse_twist_db, 0.0, 30.0),
        ("freq_tolerance_pct", freq_tolerance_pct, 0.01, 2.5),
        ("min_tone_fraction_db", min_tone_fraction_db, -20.0, 0.0),
        ("max_harmonic_db", max_harmonic_db, -60.0, 0.0),
    )
    for name, value, lo, hi in checks:
        if not lo <= value <= hi:
            raise DSPArgumentError(f"{name}: {value!r} is outside {lo}..{hi}")
    cfg.min_level_dbm0 = min_level_dbm0
    cfg.normal_twist_db = normal_twist_db
    cfg.reverse_twist_db = reverse_twist_db
    cfg.freq_tolerance_pct = freq_tolerance_pct
    cfg.min_tone_fraction_db = min_tone_fraction_db
    cfg.max_harmonic_db = max_harmonic_db
    return cfg


cdef class DtmfReceiver:
    """One channel's DTMF receiver; the C state is embedded in the object."""

    cdef C.cc_dtmf_rx_t _s
    cdef CC.cc_law _law
    cdef str _law_name
    cdef object _dtype
    cdef int _typenum
    cdef object _ev

    def __init__(self, law="linear", sample_rate=8000, channel=0, *, min_level_dbm0=-40.0,
                 normal_twist_db=9.0, reverse_twist_db=5.0, freq_tolerance_pct=2.3,
                 min_tone_fraction_db=-1.0, max_harmonic_db=-15.0):
        check_sample_rate(sample_rate)
        self._law = check_law(law)
        self._law_name = law
        self._dtype = LAW_DTYPES[law]
        self._typenum = self._dtype.num
        self._ev = np.empty(C.cc_dtmf_rx_max_events(C.CC_DTMF_BLOCK), dtype=EVENT_DTYPE)
        check_channel_id(channel)
        cdef C.cc_dtmf_rx_config_t cfg = _rx_config(min_level_dbm0, normal_twist_db, reverse_twist_db,
                                                    freq_tolerance_pct, min_tone_fraction_db, max_harmonic_db)
        if C.cc_dtmf_rx_init(&self._s, &cfg, channel) == NULL:
            raise DSPArgumentError("dtmf receiver: settings refused by the native kernel")

    @property
    def law(self):
        return self._law_name

    @property
    def channel(self):
        return C.cc_dtmf_rx_channel(&self._s)

    @property
    def samples(self):
        return C.cc_dtmf_rx_samples(&self._s)

    @property
    def current(self):
        cdef int d = C.cc_dtmf_rx_current(&self._s)
        return chr(d) if d else ""

    def process(self, x):
        if not fast_rows_ok(x, self._typenum, 1, False):
            x = check_array("x", x, self._dtype, 1)
        cdef size_t n = cnp.PyArray_DIMS(<cnp.ndarray>x)[0]
        cdef size_t cap = C.cc_dtmf_rx_max_events(n)
        self._ev = event_buffer(self._ev, cap, EVENT_DTYPE)
        cdef void *xp = cnp.PyArray_DATA(<cnp.ndarray>x)
        cdef C.cc_dtmf_event_t *evp = <C.cc_dtmf_event_t *>cnp.PyArray_DATA(<cnp.ndarray>self._ev)
        cdef int rc
        with nogil:
            rc = C.cc_dtmf_rx_process(&self._s, self._law, xp, n, evp, cap)
        return self._ev[:_check(rc, "process")].copy() if rc else _NO_EVENTS

    def reset(self):
        _check(C.cc_dtmf_rx_reset(&self._s), "reset")

    def get_state(self):
        return (<char *>&self._s)[:sizeof(self._s)]

    def set_state(self, state):
        cdef const unsigned char[::1] view = state_bytes(state, sizeof(self._s), "a receiver state")
        if C.cc_dtmf_rx_restore(&self._s, &view[0], view.shape[0]) < 0:
            raise DSPArgumentError("state: not a saved DTMF receiver state (magic, settings or position invalid)")

    def __reduce__(self):
        return (_restore_receiver, (self._law_name, self.get_state()))


def _restore_receiver(law, state):
    r = DtmfReceiver(law)
    r.set_state(state)
    return r


cdef class DtmfReceiverBank:
    """Receivers for many channels, fed by one (channels x samples) buffer per call."""

    cdef C.cc_dtmf_rx_t *_states
    cdef C.cc_dtmf_rx_t **_ptrs
    cdef size_t _n
    cdef CC.cc_law _law
    cdef str _law_name
    cdef object _dtype
    cdef int _typenum
    cdef object _ev

    def __cinit__(self, *args, **kwargs):
        self._states = NULL
        self._ptrs = NULL

    def __init__(self, channels, law="linear", sample_rate=8000, *, channel_ids=None, min_level_dbm0=-40.0,
                 normal_twist_db=9.0, reverse_twist_db=5.0, freq_tolerance_pct=2.3,
                 min_tone_fraction_db=-1.0, max_harmonic_db=-15.0):
        check_channel_count(channels)
        check_sample_rate(sample_rate)
        self._law = check_law(law)
        self._law_name = law
        self._dtype = LAW_DTYPES[law]
        self._typenum = self._dtype.num
        ids = check_channel_ids(channels, channel_ids)
        cdef C.cc_dtmf_rx_config_t cfg = _rx_config(min_level_dbm0, normal_twist_db, reverse_twist_db,
                                                    freq_tolerance_pct, min_tone_fraction_db, max_harmonic_db)
        self._states = <C.cc_dtmf_rx_t *>calloc(channels, sizeof(C.cc_dtmf_rx_t))
        self._ptrs = <C.cc_dtmf_rx_t **>calloc(channels, sizeof(C.cc_dtmf_rx_t *))
        if self._states == NULL or self._ptrs == NULL:
            raise MemoryError(f"channels: cannot allocate {channels} receivers")
        cdef size_t c
        for c in range(channels):
            self._ptrs[c] = C.cc_dtmf_rx_init(&self._states[c], &cfg, <int32_t>ids[c])
        self._n = channels
        self._ev = np.empty(channels * C.cc_dtmf_rx_max_events(C.CC_DTMF_BLOCK), dtype=EVENT_DTYPE)

    def __dealloc__(self):
        free(self._ptrs)
        free(self._states)

    @property
    def channels(self):
        return self._n

    @property
    def law(self):
        return self._law_name

    def process(self, x):
        if not fast_rows_ok(x, self._typenum, 2, False):
            x = check_array("x", x, self._dtype, 2)
        cdef cnp.ndarray a = <cnp.ndarray>x
        cdef size_t stride = bank_stride(a, self._n)
        cdef size_t n = a.shape[1]
        cdef size_t cap = self._n * C.cc_dtmf_rx_max_events(n)
        self._ev = event_buffer(self._ev, cap, EVENT_DTYPE)
        cdef void *xp = cnp.PyArray_DATA(a)
        cdef C.cc_dtmf_event_t *evp = <C.cc_dtmf_event_t *>cnp.PyArray_DATA(<cnp.ndarray>self._ev)
        cdef int rc
        with nogil:
            rc = C.cc_dtmf_rx_process_batch(self._ptrs, self._n, self._law, xp, stride, n, evp, cap)
        return self._ev[:_check(rc, "process_batch")].copy() if rc else _NO_EVENTS

    def reset(self, channel=None):
        cdef size_t c
        if channel is None:
            for c in range(self._n):
                _check(C.cc_dtmf_rx_reset(self._ptrs[c]), "reset")
        else:
            _check(C.cc_dtmf_rx_reset(self._ptrs[row_index(channel, self._n)]), "reset")

    def current(self, channel):
        cdef int d = C.cc_dtmf_rx_current(self._ptrs[row_index(channel, self._n)])
        return chr(d) if d else ""


cdef class DtmfGenerator:
    """Queued digits to tone pairs; the C state is embedded in the object."""

    cdef C.cc_dtmf_tx_t _s
    cdef C.cc_dtmf_tx_config_t _cfg

    def __init__(self, sample_rate=8000, *, level_low_dbm0=-10.0, level_high_dbm0=-10.0, on_ms=50, off_ms=55):
        check_sample_rate(sample_rate)
        self._cfg = _tx_config(level_low_dbm0, level_high_dbm0, on_ms, off_ms)
        if C.cc_dtmf_tx_init(&self._s, &self._cfg) == NULL:
            raise DSPArgumentError("dtmf generator: settings refused by the native kernel")

    @property
    def pending(self):
        return C.cc_dtmf_tx_pending(&self._s)

    def put(self, digits, *, on_ms=None, off_ms=None, level_low_dbm0=None, level_high_dbm0=None):
        if not isinstance(digits, str):
            raise DSPArgumentError(f"digits: expected str, got {type(digits).__name__}")
        for i, d in enumerate(digits):
            if d.upper() not in _DIGITS:
                raise DSPArgumentError(f"digits: {d!r} at index {i} is not a DTMF digit (0-9 * # A-D)")
        cdef C.cc_dtmf_tx_config_t cfg = _tx_config(
            self._cfg.level_low_dbm0 if level_low_dbm0 is None else level_low_dbm0,
            self._cfg.level_high_dbm0 if level_high_dbm0 is None else level_high_dbm0,
            self._cfg.on_ms if on_ms is None else on_ms,
            self._cfg.off_ms if off_ms is None else off_ms)
        raw = digits.encode("ascii")
        rc = C.cc_dtmf_tx_put(&self._s, raw, len(raw), &cfg)
        if rc == CC.CC_ERR_SPACE:
            raise DSPArgumentError(
                f"digits: {len(raw)} more do not fit the queue ({self.pending} of {C.CC_DTMF_TX_QUEUE} used)")
        _check(rc, "put")

    def generate(self, n, out=None):
        if not isinstance(n, int) or n < 0:
            raise DSPArgumentError(f"n: {n!r} is not a sample count")
        out = check_out("out", out, np.dtype(np.int16), (n,))
        cdef int16_t *op = <int16_t *>cnp.PyArray_DATA(out)
        cdef size_t count = n
        with nogil:
            C.cc_dtmf_tx_generate(&self._s, op, count)
        return out

    def reset(self):
        _check(C.cc_dtmf_tx_reset(&self._s), "reset")


cdef C.cc_dtmf_tx_config_t _tx_config(level_low_dbm0, level_high_dbm0, on_ms, off_ms) except *:
    cdef C.cc_dtmf_tx_config_t cfg
    for name, value in (("level_low_dbm0", level_low_dbm0), ("level_high_dbm0", level_high_dbm0)):
        if not isinstance(value, (int, float)) or not -90.0 <= value <= 3.0:
            raise DSPArgumentError(f"{name}: {value!r} is outside -90..3 dBm0")
    for name, value, lo in (("on_ms", on_ms, 1), ("off_ms", off_ms, 0)):
        if not isinstance(value, int) or not lo <= value <= 60000:
            raise DSPArgumentError(f"{name}: {value!r} is not a whole number of ms in {lo}..60000")
    cfg.level_low_dbm0 = level_low_dbm0
    cfg.level_high_dbm0 = level_high_dbm0
    cfg.on_ms = on_ms
    cfg.off_ms = off_ms
    return cfg


def digits(events):
    """The digits of the ON events, in order."""
    ev = np.asarray(events)
    if ev.dtype != EVENT_DTYPE:
        raise DSPArgumentError(f"events: dtype {ev.dtype} is not EVENT_DTYPE")
    return b"".join(ev["digit"][ev["kind"] == ON]).decode("ascii")
