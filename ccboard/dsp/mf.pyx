"""MF R1 and MFC/R2 receiver (single channel and bank) and generator over numpy buffers.

See mf.pyi for the API and native/include/ccboard/mf.h for the method and its figures.
Arguments are checked in Python; the C calls run without the GIL on validated pointers.
"""

cimport numpy as cnp
from libc.stdint cimport int16_t, int32_t
from libc.stdlib cimport calloc, free

import numpy as np

from ccboard.dsp cimport c_common as CC
from ccboard.dsp cimport c_mf as C
from ccboard.dsp._bind cimport (
    bank_stride, check_channel_count, check_channel_id, check_channel_ids, check_rc, event_buffer,
    frozen_empty, row_index, state_bytes
)
from ccboard.dsp._fast cimport fast_rows_ok
from ccboard.dsp._args import LAW_DTYPES, check_array, check_law, check_out, check_sample_rate
from ccboard.errors import DSPArgumentError

cdef extern from "ccboard/private/mf.h":
    pass

cnp.import_array()

ON = C.CC_MF_ON
OFF = C.CC_MF_OFF
BLOCK = C.CC_MF_BLOCK
MODES = {"r1": C.CC_MF_R1, "r2_fwd": C.CC_MF_R2_FWD, "r2_bwd": C.CC_MF_R2_BWD}
_MODE_NAMES = {v: k for k, v in MODES.items()}


cdef object _event_dtype():
    cdef C.cc_mf_event_t ev
    cdef char *base = <char *>&ev
    return np.dtype({
        "names": ["channel", "signal", "symbol", "kind", "mode", "level_low", "level_high", "start", "end", "at"],
        "formats": ["<i4", "u1", "S1", "u1", "u1", "<f4", "<f4", "<i8", "<i8", "<i8"],
        "offsets": [<char *>&ev.channel - base, <char *>&ev.signal - base, <char *>&ev.symbol - base,
                    <char *>&ev.kind - base, <char *>&ev.mode - base, <char *>&ev.level_low - base,
                    <char *>&ev.level_high - base, <char *>&ev.start - base, <char *>&ev.end - base,
                    <char *>&ev.at - base],
        "itemsize": sizeof(C.cc_mf_event_t),
    })


EVENT_DTYPE = _event_dtype()
_NO_EVENTS = frozen_empty(EVENT_DTYPE)


def _variants():
    out = {}
    cdef const C.cc_mf_variant_t *v
    for i in range(C.CC_MF_VARIANT_COUNT):
        v = C.cc_mf_variant_get(i)
        name = <const char *>&v.name[0]
        out[name.decode()] = {
            "id": i, "r2": bool(v.r2), "level_dbm0": float(v.level_dbm0), "on_ms": int(v.on_ms),
            "kp_ms": int(v.kp_ms), "off_ms": int(v.off_ms), "source": v.source.decode(),
        }
    return out


VARIANTS = _variants()


cdef inline int _check(int rc, str op) except -1:
    return check_rc(rc, "mf", op)


cdef C.cc_mf_mode _mode(mode) except *:
    try:
        return MODES[mode]
    except (KeyError, TypeError):
        raise DSPArgumentError(f"mode: {mode!r} is not one of {sorted(MODES)}") from None


def symbol(mode, int signal):
    """The symbol of signal 1..15 in mode ('' if out of range)."""
    cdef int c = C.cc_mf_symbol(_mode(mode), signal)
    return chr(c) if c else ""


def freqs(mode, int signal):
    """(lower, higher) tone frequencies in Hz of signal 1..15."""
    cdef float lo, hi
    if C.cc_mf_freqs(_mode(mode), signal, &lo, &hi) < 0:
        raise DSPArgumentError(f"signal: {signal!r} is not 1..15")
    return (float(lo), float(hi))


_RX_LIMITS = (
    ("min_level_dbm0", -90.0, 3.0),
    ("max_level_dbm0", -90.0, 10.0),
    ("twist_adjacent_db", 0.0, 30.0),
    ("twist_db", 0.0, 30.0),
    ("third_tone_db", -60.0, 0.0),
    ("freq_tolerance_hz", 0.0, 90.0),
    ("freq_tolerance_pct", 0.0, 3.0),
    ("min_tone_fraction_db", -20.0, 0.0),
    ("min_on_ms", 0, 1000),
    ("min_on_kp_ms", 0, 1000),
)


cdef C.cc_mf_rx_config_t _rx_config(C.cc_mf_mode mode, dict kw) except *:
    cdef C.cc_mf_rx_config_t cfg
    C.cc_mf_rx_config_default(&cfg, mode)
    values = dict(cfg)
    for name, lo, hi in _RX_LIMITS:
        value = kw.pop(name, None)
        if value is None:
            continue
        if isinstance(lo, int) and not isinstance(value, int):
            raise DSPArgumentError(f"{name}: {value!r} is not a whole number of ms")
        if not isinstance(value, (int, float)) or not lo <= value <= hi:
            raise DSPArgumentError(f"{name}: {value!r} is outside {lo}..{hi}")
        values[name] = value
    if kw:
        raise TypeError(f"unexpected keyword argument {next(iter(kw))!r}")
    if values["max_level_dbm0"] < values["min_level_dbm0"]:
        raise DSPArgumentError("max_level_dbm0: below min_level_dbm0")
    cfg = values
    return cfg


cdef class MfReceiver:
    """One channel's MF receiver; the C state is embedded in the object."""

    cdef C.cc_mf_rx_t _s
    cdef CC.cc_law _law
    cdef str _law_name
    cdef object _dtype
    cdef int _typenum
    cdef object _ev

    def __init__(self, mode="r2_fwd", law="linear", sample_rate=8000, channel=0, **settings):
        cdef C.cc_mf_mode m = _mode(mode)
        check_sample_rate(sample_rate)
        self._law = check_law(law)
        self._law_name = law
        self._dtype = LAW_DTYPES[law]
        self._typenum = self._dtype.num
        self._ev = np.empty(C.cc_mf_rx_max_events(C.CC_MF_BLOCK), dtype=EVENT_DTYPE)
        check_channel_id(channel)
        cdef C.cc_mf_rx_config_t cfg = _rx_config(m, dict(settings))
        if C.cc_mf_rx_init(&self._s, m, &cfg, channel) == NULL:
            raise DSPArgumentError("mf receiver: settings refused by the native kernel (frequency tolerance?)")

    @property
    def mode(self):
        return _MODE_NAMES[C.cc_mf_rx_mode(&self._s)]

    @property
    def law(self):
        return self._law_name

    @property
    def channel(self):
        return C.cc_mf_rx_channel(&self._s)

    @property
    def samples(self):
        return C.cc_mf_rx_samples(&self._s)

    @property
    def current(self):
        return C.cc_mf_rx_current(&self._s)

    def process(self, x):
        if not fast_rows_ok(x, self._typenum, 1, False):
            x = check_array("x", x, self._dtype, 1)
        cdef size_t n = cnp.PyArray_DIMS(<cnp.ndarray>x)[0]
        cdef size_t cap = C.cc_mf_rx_max_events(n)
        self._ev = event_buffer(self._ev, cap, EVENT_DTYPE)
        cdef void *xp = cnp.PyArray_DATA(<cnp.ndarray>x)
        cdef C.cc_mf_event_t *evp = <C.cc_mf_event_t *>cnp.PyArray_DATA(<cnp.ndarray>self._ev)
        cdef int rc
        with nogil:
            rc = C.cc_mf_rx_process(&self._s, self._law, xp, n, evp, cap)
        return self._ev[:_check(rc, "process")].copy() if rc else _NO_EVENTS

    def reset(self):
        _check(C.cc_mf_rx_reset(&self._s), "reset")

    def get_state(self):
        return (<char *>&self._s)[:sizeof(self._s)]

    def set_state(self, state):
        cdef const unsigned char[::1] view = state_bytes(state, sizeof(self._s), "a receiver state")
        if C.cc_mf_rx_restore(&self._s, &view[0], view.shape[0]) < 0:
            raise DSPArgumentError("state: not a saved MF receiver state (magic, settings or position invalid)")

    def __reduce__(self):
        return (_restore_receiver, (self._law_name, self.get_state()))


def _restore_receiver(law, state):
    r = MfReceiver("r2_fwd", law)
    r.set_state(state)
    return r


cdef class MfReceiverBank:
    """MF receivers for many channels, fed by one (channels x samples) buffer per call."""

    cdef C.cc_mf_rx_t *_states
    cdef C.cc_mf_rx_t **_ptrs
    cdef size_t _n
    cdef CC.cc_law _law
    cdef str _law_name
    cdef object _dtype
    cdef int _typenum
    cdef object _ev

    def __cinit__(self, *args, **kwargs):
        self._states = NULL
        self._ptrs = NULL

    def __init__(self, channels, mode="r2_fwd", law="linear", sample_rate=8000, *, channel_ids=None,
                 **settings):
        check_channel_count(channels)
        cdef C.cc_mf_mode m = _mode(mode)
        check_sample_rate(sample_rate)
        self._law = check_law(law)
        self._law_name = law
        self._dtype = LAW_DTYPES[law]
        self._typenum = self._dtype.num
        ids = check_channel_ids(channels, channel_ids)
        cdef C.cc_mf_rx_config_t cfg = _rx_config(m, dict(settings))
        self._states = <C.cc_mf_rx_t *>calloc(channels, sizeof(C.cc_mf_rx_t))
        self._ptrs = <C.cc_mf_rx_t **>calloc(channels, sizeof(C.cc_mf_rx_t *))
        if self._states == NULL or self._ptrs == NULL:
            raise MemoryError(f"channels: cannot allocate {channels} receivers")
        cdef size_t c
        for c in range(channels):
            self._ptrs[c] = C.cc_mf_rx_init(&self._states[c], m, &cfg, <int32_t>ids[c])
            if self._ptrs[c] == NULL:
                raise DSPArgumentError("mf receiver: settings refused by the native kernel")
        self._n = channels
        self._ev = np.empty(channels * C.cc_mf_rx_max_events(C.CC_MF_BLOCK), dtype=EVENT_DTYPE)

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
        cdef size_t cap = self._n * C.cc_mf_rx_max_events(n)
        self._ev = event_buffer(self._ev, cap, EVENT_DTYPE)
        cdef void *xp = cnp.PyArray_DATA(a)
        cdef C.cc_mf_event_t *evp = <C.cc_mf_event_t *>cnp.PyArray_DATA(<cnp.ndarray>self._ev)
        cdef int rc
        with nogil:
            rc = C.cc_mf_rx_process_batch(self._ptrs, self._n, self._law, xp, stride, n, evp, cap)
        return self._ev[:_check(rc, "process_batch")].copy() if rc else _NO_EVENTS

    def reset(self, channel=None):
        cdef size_t c
        if channel is None:
            for c in range(self._n):
                _check(C.cc_mf_rx_reset(self._ptrs[c]), "reset")
        else:
            _check(C.cc_mf_rx_reset(self._ptrs[row_index(channel, self._n)]), "reset")

    def current(self, channel):
        return C.cc_mf_rx_current(self._ptrs[row_index(channel, self._n)])


cdef C.cc_mf_tx_config_t _tx_config(C.cc_mf_tx_config_t base, level_low_dbm0, level_high_dbm0, on_ms, kp_ms,
                                    off_ms) except *:
    cdef C.cc_mf_tx_config_t cfg = base
    for name, value in (("level_low_dbm0", level_low_dbm0), ("level_high_dbm0", level_high_dbm0)):
        if value is not None and (not isinstance(value, (int, float)) or not -90.0 <= value <= 3.0):
            raise DSPArgumentError(f"{name}: {value!r} is outside -90..3 dBm0")
    for name, value, lo in (("on_ms", on_ms, 1), ("kp_ms", kp_ms, 1), ("off_ms", off_ms, 0)):
        if value is not None and (not isinstance(value, int) or not lo <= value <= 60000):
            raise DSPArgumentError(f"{name}: {value!r} is not a whole number of ms in {lo}..60000")
    if level_low_dbm0 is not None:
        cfg.level_low_dbm0 = level_low_dbm0
    if level_high_dbm0 is not None:
        cfg.level_high_dbm0 = level_high_dbm0
    if on_ms is not None:
        cfg.on_ms = on_ms
    if kp_ms is not None:
        cfg.kp_ms = kp_ms
    if off_ms is not None:
        cfg.off_ms = off_ms
    return cfg


cdef class MfGenerator:
    """R1 queued signals and R2 compelled signals; the C state is embedded in the object."""

    cdef C.cc_mf_tx_t _s
    cdef C.cc_mf_tx_config_t _cfg
    cdef C.cc_mf_mode _m

    def __init__(self, mode="r2_fwd", sample_rate=8000, *, variant=None, level_low_dbm0=None,
                 level_high_dbm0=None, on_ms=None, kp_ms=None, off_ms=None):
        self._m = _mode(mode)
        check_sample_rate(sample_rate)
        if variant is None:
            variant = "r1" if self._m == C.CC_MF_R1 else "r2_itu"
        if variant not in VARIANTS:
            raise DSPArgumentError(f"variant: {variant!r} is not one of {sorted(VARIANTS)}")
        if VARIANTS[variant]["r2"] != (self._m != C.CC_MF_R1):
            raise DSPArgumentError(f"variant: {variant!r} does not fit mode {mode!r}")
        cdef C.cc_mf_tx_config_t base
        C.cc_mf_tx_config_variant(&base, VARIANTS[variant]["id"])
        self._cfg = _tx_config(base, level_low_dbm0, level_high_dbm0, on_ms, kp_ms, off_ms)
        if C.cc_mf_tx_init(&self._s, self._m, &self._cfg) == NULL:
            raise DSPArgumentError("mf generator: settings refused by the native kernel")

    @property
    def mode(self):
        return _MODE_NAMES[self._m]

    @property
    def pending(self):
        return C.cc_mf_tx_pending(&self._s)

    @property
    def current(self):
        return C.cc_mf_tx_current(&self._s)

    @property
    def samples(self):
        return C.cc_mf_tx_samples(&self._s)

    def put(self, symbols, *, on_ms=None, kp_ms=None, off_ms=None, level_low_dbm0=None, level_high_dbm0=None):
        if not isinstance(symbols, str):
            raise DSPArgumentError(f"symbols: expected str, got {type(symbols).__name__}")
        for i, d in enumerate(symbols):
            if len(d.encode("utf-8")) != 1 or C.cc_mf_signal(self._m, ord(d)) == 0:
                raise DSPArgumentError(f"symbols: {d!r} at index {i} is not an MF symbol of mode {self.mode}")
        cdef C.cc_mf_tx_config_t cfg = _tx_config(self._cfg, level_low_dbm0, level_high_dbm0, on_ms, kp_ms, off_ms)
        raw = symbols.encode("ascii")
        rc = C.cc_mf_tx_put(&self._s, raw, len(raw), &cfg)
        if rc == CC.CC_ERR_SPACE:
            raise DSPArgumentError(
                f"symbols: {len(raw)} more do not fit the queue ({self.pending} of {C.CC_MF_TX_QUEUE} used)")
        if rc == CC.CC_ERR_ARG:
            raise DSPArgumentError("symbols: a started signal is sounding; stop() it first")
        _check(rc, "put")

    def start(self, signal, *, level_low_dbm0=None, level_high_dbm0=None):
        if not isinstance(signal, int) or not 1 <= signal <= 15:
            raise DSPArgumentError(f"signal: {signal!r} is not 1..15")
        cdef C.cc_mf_tx_config_t cfg = _tx_config(self._cfg, level_low_dbm0, level_high_dbm0, None, None, None)
        _check(C.cc_mf_tx_start(&self._s, signal, &cfg), "start")

    def stop(self):
        _check(C.cc_mf_tx_stop(&self._s), "stop")

    def generate(self, n, out=None):
        if not isinstance(n, int) or n < 0:
            raise DSPArgumentError(f"n: {n!r} is not a sample count")
        out = check_out("out", out, np.dtype(np.int16), (n,))
        cdef int16_t *op = <int16_t *>cnp.PyArray_DATA(out)
        cdef size_t count = n
        with nogil:
            C.cc_mf_tx_generate(&self._s, op, count)
        return out

    def reset(self):
        _check(C.cc_mf_tx_reset(&self._s), "reset")

    def get_state(self):
        return (<char *>&self._s)[:sizeof(self._s)]

    def set_state(self, state):
        cdef const unsigned char[::1] view = state_bytes(state, sizeof(self._s), "a generator state")
        if C.cc_mf_tx_restore(&self._s, &view[0], view.shape[0]) < 0:
            raise DSPArgumentError("state: not a saved MF generator state")
        self._m = <C.cc_mf_mode>C.cc_mf_tx_mode(&self._s)


def symbols(events):
    """The symbols of the ON events, in order."""
    ev = np.asarray(events)
    if ev.dtype != EVENT_DTYPE:
        raise DSPArgumentError(f"events: dtype {ev.dtype} is not EVENT_DTYPE")
    return b"".join(ev["symbol"][ev["kind"] == ON]).decode("ascii")
