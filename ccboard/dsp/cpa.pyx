"""Call progress analysis over numpy buffers, for any libtonezone zone (see cpa.pyi).

The zone's tones are read through ccboard.dsp.tonezone and handed to C as segments; the C state
(which holds no pointers) is embedded in the object.
"""

cimport numpy as cnp
from libc.stdint cimport int32_t
from libc.stdlib cimport calloc, free

import numpy as np

from ccboard.dsp cimport c_common as CC
from ccboard.dsp cimport c_cpa as C
from ccboard.dsp cimport c_tone as T
from ccboard.dsp._bind cimport (
    bank_stride, check_channel_count, check_channel_id, check_rc, event_buffer, frozen_empty, row_index, state_bytes
)
from ccboard.dsp._fast cimport fast_rows_ok
from ccboard.dsp._args import LAW_DTYPES, check_array, check_law, check_sample_rate
from ccboard.dsp.tone cimport fill_segments
from ccboard.dsp.tone import segments_of
from ccboard.dsp.tonezone import zone as _zone
from ccboard.errors import DSPArgumentError

cdef extern from "ccboard/private/cpa.h":
    pass

cnp.import_array()

BLOCK = C.CC_CPA_BLOCK
DIAL, RINGBACK, BUSY, CONGESTION, SIT, NO_ANSWER, VOICE, FAX = range(1, 9)
KIND_NAMES = {DIAL: "dial", RINGBACK: "ringback", BUSY: "busy", CONGESTION: "congestion", SIT: "sit",
              NO_ANSWER: "no_answer", VOICE: "voice", FAX: "fax"}
SIT_NAMES = {0: "unknown", 1: "IC", 2: "VC", 3: "RO", 4: "RO2", 5: "NC", 6: "NC2", 7: "IO", 8: "FU", 9: "zone"}
LEARNT = C.CC_CPA_LEARNT
# Zone tones the analyser uses, in cc_cpa_config_t.tone order.
ZONE_TONES = ("dial", "busy", "ringback", "congestion", "info")


cdef object _event_dtype():
    cdef C.cc_cpa_event_t ev
    cdef char *b = <char *>&ev
    return np.dtype({
        "names": ["channel", "kind", "code", "count", "start", "at", "on_ms", "off_ms", "level_dbm0", "freq_hz"],
        "formats": ["<i4", "u1", "u1", "<u2", "<i8", "<i8", "<f4", "<f4", "<f4", "<f4"],
        "offsets": [<char *>&ev.channel - b, <char *>&ev.kind - b, <char *>&ev.code - b, <char *>&ev.count - b,
                    <char *>&ev.start - b, <char *>&ev.at - b, <char *>&ev.on_ms - b, <char *>&ev.off_ms - b,
                    <char *>&ev.level_dbm0 - b, <char *>&ev.freq_hz - b],
        "itemsize": sizeof(C.cc_cpa_event_t),
    })


EVENT_DTYPE = _event_dtype()
_NO_EVENTS = frozen_empty(EVENT_DTYPE)


cdef inline int _check(int rc, str op) except -1:
    return check_rc(rc, "cpa", op)


cdef int _config(C.cc_cpa_config_t *cfg, zone, tones, min_level_dbm0, voice_level_dbm0, jitter_pct, dial_ms,
                 voice_ms, fax_ms, no_answer_ms, learn) except -1:
    C.cc_cpa_config_default(cfg)
    if zone is not None:
        z = _zone(zone)
        descs = {name: z.tones[name] for name in ZONE_TONES if name in z.tones}
    else:
        descs = {}
    if tones is not None:
        if not isinstance(tones, dict):
            raise DSPArgumentError(f"tones: expected a dict of tone name -> description, got {type(tones).__name__}")
        for name in tones:
            if name not in ZONE_TONES:
                raise DSPArgumentError(f"tones: {name!r} is not one of {ZONE_TONES}")
        descs.update(tones)
    for k, name in enumerate(ZONE_TONES):
        if name in descs:
            segs = segments_of(descs[name])
            fill_segments(cfg.tone[k], segs)
            cfg.nseg[k] = len(segs)
    for name, value, lo, hi in (("min_level_dbm0", min_level_dbm0, -60.0, 0.0),
                                ("voice_level_dbm0", voice_level_dbm0, -70.0, 0.0),
                                ("jitter_pct", jitter_pct, 0.0, 30.0)):
        if not isinstance(value, (int, float)) or not lo <= value <= hi:
            raise DSPArgumentError(f"{name}: {value!r} is outside {lo}..{hi}")
    for name, value, lo, hi in (("dial_ms", dial_ms, 100, 60000), ("voice_ms", voice_ms, 50, 10000),
                                ("fax_ms", fax_ms, 100, 10000), ("no_answer_ms", no_answer_ms, 0, 3600000)):
        if not isinstance(value, int) or not lo <= value <= hi:
            raise DSPArgumentError(f"{name}: {value!r} is not a whole number of ms in {lo}..{hi}")
    cfg.min_level_dbm0 = min_level_dbm0
    cfg.voice_level_dbm0 = voice_level_dbm0
    cfg.jitter_pct = jitter_pct
    cfg.dial_ms = dial_ms
    cfg.voice_ms = voice_ms
    cfg.fax_ms = fax_ms
    cfg.no_answer_ms = no_answer_ms
    cfg.learn = 1 if learn else 0
    return 0


cdef class CallProgress:
    """One channel's call progress analyser for a libtonezone zone (or explicit tone descriptions)."""

    cdef C.cc_cpa_t _s
    cdef CC.cc_law _law
    cdef object _dtype
    cdef int _typenum
    cdef object _ev

    def __init__(self, zone="us", law="linear", sample_rate=8000, channel=0, *, tones=None,
                 min_level_dbm0=-36.0, voice_level_dbm0=-42.0, jitter_pct=10.0, dial_ms=1000, voice_ms=300,
                 fax_ms=500, no_answer_ms=30000, learn=True):
        check_sample_rate(sample_rate)
        self._law = check_law(law)
        self._dtype = LAW_DTYPES[law]
        self._typenum = self._dtype.num
        check_channel_id(channel)
        cdef C.cc_cpa_config_t *cfg = <C.cc_cpa_config_t *>calloc(1, sizeof(C.cc_cpa_config_t))
        if cfg == NULL:
            raise MemoryError()
        try:
            _config(cfg, zone, tones, min_level_dbm0, voice_level_dbm0, jitter_pct, dial_ms, voice_ms, fax_ms,
                    no_answer_ms, learn)
            if C.cc_cpa_init(&self._s, cfg, channel) == NULL:
                raise DSPArgumentError(f"zone: {zone!r} tones refused by the native kernel (too many frequencies?)")
        finally:
            free(cfg)
        self._ev = np.empty(C.cc_cpa_max_events(160), dtype=EVENT_DTYPE)

    @property
    def samples(self):
        return C.cc_cpa_samples(&self._s)

    @property
    def rings(self):
        return C.cc_cpa_rings(&self._s)

    def process(self, x):
        if not fast_rows_ok(x, self._typenum, 1, False):
            x = check_array("x", x, self._dtype, 1)
        cdef size_t n = cnp.PyArray_DIMS(<cnp.ndarray>x)[0]
        cdef size_t cap = C.cc_cpa_max_events(n)
        self._ev = event_buffer(self._ev, cap, EVENT_DTYPE)
        cdef void *xp = cnp.PyArray_DATA(<cnp.ndarray>x)
        cdef C.cc_cpa_event_t *evp = <C.cc_cpa_event_t *>cnp.PyArray_DATA(<cnp.ndarray>self._ev)
        cdef int rc
        with nogil:
            rc = C.cc_cpa_process(&self._s, self._law, xp, n, evp, cap)
        return self._ev[:_check(rc, "process")].copy() if rc else _NO_EVENTS

    def reset(self):
        _check(C.cc_cpa_reset(&self._s), "reset")

    def get_state(self):
        return (<char *>&self._s)[:sizeof(self._s)]

    def set_state(self, state):
        cdef const unsigned char[::1] view = state_bytes(state, sizeof(self._s), "an analyser state")
        if C.cc_cpa_restore(&self._s, &view[0], view.shape[0]) < 0:
            raise DSPArgumentError("state: not a saved call progress state")


cdef class CallProgressBank:
    """Analysers for many channels (one zone) fed by one (channels x samples) buffer per call."""

    cdef C.cc_cpa_t *_states
    cdef C.cc_cpa_t **_ptrs
    cdef size_t _n
    cdef CC.cc_law _law
    cdef object _dtype
    cdef int _typenum
    cdef object _ev

    def __cinit__(self, *args, **kwargs):
        self._states = NULL
        self._ptrs = NULL

    def __init__(self, channels, zone="us", law="linear", sample_rate=8000, *, tones=None,
                 min_level_dbm0=-36.0, voice_level_dbm0=-42.0, jitter_pct=10.0, dial_ms=1000, voice_ms=300,
                 fax_ms=500, no_answer_ms=30000, learn=True):
        check_channel_count(channels)
        check_sample_rate(sample_rate)
        self._law = check_law(law)
        self._dtype = LAW_DTYPES[law]
        self._typenum = self._dtype.num
        self._states = <C.cc_cpa_t *>calloc(channels, sizeof(C.cc_cpa_t))
        self._ptrs = <C.cc_cpa_t **>calloc(channels, sizeof(C.cc_cpa_t *))
        cdef C.cc_cpa_config_t *cfg = <C.cc_cpa_config_t *>calloc(1, sizeof(C.cc_cpa_config_t))
        if self._states == NULL or self._ptrs == NULL or cfg == NULL:
            free(cfg)
            raise MemoryError(f"channels: cannot allocate {channels} analysers")
        cdef size_t c
        try:
            _config(cfg, zone, tones, min_level_dbm0, voice_level_dbm0, jitter_pct, dial_ms, voice_ms, fax_ms,
                    no_answer_ms, learn)
            for c in range(channels):
                self._ptrs[c] = C.cc_cpa_init(&self._states[c], cfg, <int32_t>c)
                if self._ptrs[c] == NULL:
                    raise DSPArgumentError(f"zone: {zone!r} tones refused by the native kernel")
        finally:
            free(cfg)
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
        cdef size_t cap = self._n * C.cc_cpa_max_events(n)
        self._ev = event_buffer(self._ev, cap, EVENT_DTYPE)
        cdef void *xp = cnp.PyArray_DATA(a)
        cdef C.cc_cpa_event_t *evp = <C.cc_cpa_event_t *>cnp.PyArray_DATA(<cnp.ndarray>self._ev)
        cdef int rc
        with nogil:
            rc = C.cc_cpa_process_batch(self._ptrs, self._n, self._law, xp, stride, n, evp, cap)
        return self._ev[:_check(rc, "process_batch")].copy() if rc else _NO_EVENTS

    def reset(self, channel=None):
        cdef size_t c
        if channel is None:
            for c in range(self._n):
                _check(C.cc_cpa_reset(self._ptrs[c]), "reset")
        else:
            _check(C.cc_cpa_reset(self._ptrs[row_index(channel, self._n)]), "reset")
