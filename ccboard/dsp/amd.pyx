"""Answering-machine detection (app_amd's rules) and greeting-beep detection over numpy buffers.

See amd.pyi for the API and native/include/ccboard/amd.h for the method and its figures.
Arguments are checked in Python; the C calls run without the GIL on validated pointers.
"""

cimport numpy as cnp
from libc.stdint cimport int16_t, int32_t, int64_t
from libc.stdlib cimport calloc, free

import numpy as np

from ccboard.dsp cimport c_common as CC
from ccboard.dsp cimport c_amd as C
from ccboard.dsp._bind cimport (
    bank_stride, check_channel_count, check_channel_id, check_rc, event_buffer, frozen_empty, row_index,
    state_bytes
)
from ccboard.dsp._fast cimport fast_rows_ok
from ccboard.dsp._args import LAW_DTYPES, check_array, check_law, check_sample_rate
from ccboard.errors import DSPArgumentError

cdef extern from "ccboard/private/amd.h":
    pass

cnp.import_array()

RESULT = C.CC_AMD_EV_RESULT
BEEP = C.CC_AMD_EV_BEEP
RESULTS = ("", "HUMAN", "MACHINE", "NOTSURE")
CAUSES = ("", "INITIALSILENCE", "HUMAN", "LONGGREETING", "MAXWORDLENGTH", "MAXWORDS", "TOOLONG")

# (name, default, lo, hi, is_int): app_amd's parameters and defaults, then the beep detector's.
SETTINGS = (
    ("initial_silence_ms", 2500, 0, 600000, True),
    ("greeting_ms", 1500, 0, 600000, True),
    ("after_greeting_silence_ms", 800, 0, 600000, True),
    ("total_analysis_ms", 5000, 1, 600000, True),
    ("min_word_ms", 100, 0, 600000, True),
    ("between_words_silence_ms", 50, 0, 600000, True),
    ("max_words", 2, 1, 255, True),
    ("silence_threshold", 256, 0, 32767, True),
    ("max_word_ms", 5000, 0, 600000, True),
    ("frame_ms", 20, 10, 40, True),
    ("detect_beep", True, 0, 1, True),
    ("beep_min_ms", 100, 10, 10000, True),
    ("beep_min_hz", 400.0, 100.0, 3800.0, False),
    ("beep_max_hz", 2000.0, 100.0, 3800.0, False),
    ("beep_min_level_dbm0", -40.0, -90.0, 0.0, False),
    ("beep_purity_db", -10.0, -60.0, 0.0, False),
    ("beep_max_wait_ms", 60000, 0, 600000, True),
)


cdef object _event_dtype():
    cdef C.cc_amd_event_t ev
    cdef char *base = <char *>&ev
    return np.dtype({
        "names": ["channel", "kind", "result", "cause", "words", "at", "start", "total_ms", "voice_ms",
                  "silence_ms", "freq_hz", "level_dbm0", "reserved"],
        "formats": ["<i4", "u1", "u1", "u1", "u1", "<i8", "<i8", "<i4", "<i4", "<i4", "<f4", "<f4", "<u4"],
        "offsets": [<char *>&ev.channel - base, <char *>&ev.kind - base, <char *>&ev.result - base,
                    <char *>&ev.cause - base, <char *>&ev.words - base, <char *>&ev.at - base,
                    <char *>&ev.start - base, <char *>&ev.total_ms - base, <char *>&ev.voice_ms - base,
                    <char *>&ev.silence_ms - base, <char *>&ev.freq_hz - base, <char *>&ev.level_dbm0 - base,
                    <char *>&ev.reserved - base],
        "itemsize": sizeof(C.cc_amd_event_t),
    })


EVENT_DTYPE = _event_dtype()
_NO_EVENTS = frozen_empty(EVENT_DTYPE)


cdef inline int _check(int rc, str op) except -1:
    return check_rc(rc, "amd", op)


cdef C.cc_amd_config_t _config(dict kw) except *:
    cdef C.cc_amd_config_t cfg
    C.cc_amd_config_default(&cfg)
    unknown = set(kw) - {s[0] for s in SETTINGS}
    if unknown:
        raise DSPArgumentError(f"{sorted(unknown)[0]}: not an AMD setting")
    values = {}
    for name, default, lo, hi, is_int in SETTINGS:
        v = kw.get(name, default)
        if name == "detect_beep":
            v = int(bool(v))
        if is_int and (not isinstance(v, int) or isinstance(v, bool) and name != "detect_beep"):
            raise DSPArgumentError(f"{name}: {v!r} is not a whole number")
        if not isinstance(v, (int, float)) or not lo <= v <= hi:
            raise DSPArgumentError(f"{name}: {v!r} is outside {lo}..{hi}")
        values[name] = v
    if values["frame_ms"] % 5:
        raise DSPArgumentError(f"frame_ms: {values['frame_ms']!r} is not a multiple of 5")
    if values["beep_min_hz"] >= values["beep_max_hz"]:
        raise DSPArgumentError("beep_min_hz: must be below beep_max_hz")
    cfg.initial_silence_ms = values["initial_silence_ms"]
    cfg.greeting_ms = values["greeting_ms"]
    cfg.after_greeting_silence_ms = values["after_greeting_silence_ms"]
    cfg.total_analysis_ms = values["total_analysis_ms"]
    cfg.min_word_ms = values["min_word_ms"]
    cfg.between_words_silence_ms = values["between_words_silence_ms"]
    cfg.max_words = values["max_words"]
    cfg.silence_threshold = values["silence_threshold"]
    cfg.max_word_ms = values["max_word_ms"]
    cfg.frame_ms = values["frame_ms"]
    cfg.detect_beep = values["detect_beep"]
    cfg.beep_min_ms = values["beep_min_ms"]
    cfg.beep_min_hz = values["beep_min_hz"]
    cfg.beep_max_hz = values["beep_max_hz"]
    cfg.beep_min_level_dbm0 = values["beep_min_level_dbm0"]
    cfg.beep_purity_db = values["beep_purity_db"]
    cfg.beep_max_wait_ms = values["beep_max_wait_ms"]
    return cfg


cdef class AnsweringMachineDetector:
    """One call's AMD, started at answer; the C state is embedded in the object."""

    cdef C.cc_amd_t _s
    cdef CC.cc_law _law
    cdef str _law_name
    cdef object _dtype
    cdef int _typenum
    cdef object _ev

    def __init__(self, law="linear", sample_rate=8000, channel=0, **settings):
        check_sample_rate(sample_rate)
        self._law = check_law(law)
        self._law_name = law
        self._dtype = LAW_DTYPES[law]
        self._typenum = self._dtype.num
        check_channel_id(channel)
        cdef C.cc_amd_config_t cfg = _config(settings)
        if C.cc_amd_init(&self._s, &cfg, channel) == NULL:
            raise DSPArgumentError("amd: settings refused by the native kernel")
        self._ev = np.empty(C.cc_amd_max_events(160), dtype=EVENT_DTYPE)

    @property
    def law(self):
        return self._law_name

    @property
    def samples(self):
        return C.cc_amd_samples(&self._s)

    @property
    def result(self):
        return RESULTS[C.cc_amd_result_of(&self._s)]

    def process(self, x):
        if not fast_rows_ok(x, self._typenum, 1, False):
            x = check_array("x", x, self._dtype, 1)
        cdef size_t n = cnp.PyArray_DIMS(<cnp.ndarray>x)[0]
        cdef size_t cap = C.cc_amd_max_events(n)
        self._ev = event_buffer(self._ev, cap, EVENT_DTYPE)
        cdef void *xp = cnp.PyArray_DATA(<cnp.ndarray>x)
        cdef C.cc_amd_event_t *evp = <C.cc_amd_event_t *>cnp.PyArray_DATA(<cnp.ndarray>self._ev)
        cdef int rc
        with nogil:
            rc = C.cc_amd_process(&self._s, self._law, xp, n, evp, cap)
        return self._ev[:_check(rc, "process")].copy() if rc else _NO_EVENTS

    def reset(self):
        _check(C.cc_amd_reset(&self._s), "reset")

    def get_state(self):
        return (<char *>&self._s)[:sizeof(self._s)]

    def set_state(self, state):
        cdef const unsigned char[::1] view = state_bytes(state, sizeof(self._s), "an AMD state")
        if C.cc_amd_restore(&self._s, &view[0], view.shape[0]) < 0:
            raise DSPArgumentError("state: not a saved AMD state (magic, settings or position invalid)")


cdef class AnsweringMachineDetectorBank:
    """AMD for many calls fed by one (channels x samples) buffer per call; ids 0..channels-1."""

    cdef C.cc_amd_t *_states
    cdef C.cc_amd_t **_ptrs
    cdef size_t _n
    cdef CC.cc_law _law
    cdef object _dtype
    cdef int _typenum
    cdef object _ev

    def __cinit__(self, *args, **kwargs):
        self._states = NULL
        self._ptrs = NULL

    def __init__(self, channels, law="linear", sample_rate=8000, **settings):
        check_channel_count(channels)
        check_sample_rate(sample_rate)
        self._law = check_law(law)
        self._dtype = LAW_DTYPES[law]
        self._typenum = self._dtype.num
        cdef C.cc_amd_config_t cfg = _config(settings)
        self._states = <C.cc_amd_t *>calloc(channels, sizeof(C.cc_amd_t))
        self._ptrs = <C.cc_amd_t **>calloc(channels, sizeof(C.cc_amd_t *))
        if self._states == NULL or self._ptrs == NULL:
            raise MemoryError(f"channels: cannot allocate {channels} detectors")
        cdef size_t c
        for c in range(channels):
            self._ptrs[c] = C.cc_amd_init(&self._states[c], &cfg, <int32_t>c)
        self._n = channels
        self._ev = np.empty(channels * C.cc_amd_max_events(160), dtype=EVENT_DTYPE)

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
        cdef size_t cap = self._n * C.cc_amd_max_events(n)
        self._ev = event_buffer(self._ev, cap, EVENT_DTYPE)
        cdef void *xp = cnp.PyArray_DATA(a)
        cdef C.cc_amd_event_t *evp = <C.cc_amd_event_t *>cnp.PyArray_DATA(<cnp.ndarray>self._ev)
        cdef int rc
        with nogil:
            rc = C.cc_amd_process_batch(self._ptrs, self._n, self._law, xp, stride, n, evp, cap)
        return self._ev[:_check(rc, "process_batch")].copy() if rc else _NO_EVENTS

    def reset(self, channel=None):
        cdef size_t c
        if channel is None:
            for c in range(self._n):
                _check(C.cc_amd_reset(self._ptrs[c]), "reset")
        else:
            _check(C.cc_amd_reset(self._ptrs[row_index(channel, self._n)]), "reset")


def describe(event):
    """'MACHINE/LONGGREETING at 1.84 s' or 'BEEP 1000 Hz at 3.21 s' for one event row."""
    t = int(event["at"]) / 8000.0
    if int(event["kind"]) == BEEP:
        return f"BEEP {float(event['freq_hz']):.0f} Hz at {t:.2f} s"
    return f"{RESULTS[int(event['result'])]}/{CAUSES[int(event['cause'])]} at {t:.2f} s"
