"""Tone generator over numpy buffers: plays a libtonezone tone description (see tone.pyi).

The C state is embedded in the object; descriptions are parsed in Python (ccboard.dsp.tonezone),
checked, and handed to C as an array of cc_tone_segment_t.
"""

cimport numpy as cnp
from libc.stdint cimport int16_t
from libc.stdlib cimport calloc, free

from ccboard.dsp._bind cimport check_rc, state_bytes

import numpy as np

from ccboard.dsp cimport c_common as CC
from ccboard.dsp cimport c_tone as C
from ccboard.dsp._args import check_out, check_sample_rate
from ccboard.dsp.tonezone import Segment, parse
from ccboard.errors import DSPArgumentError

cdef extern from "ccboard/private/tone.h":
    pass

cnp.import_array()

MAX_SEGMENTS = C.CC_TONE_MAX_SEGMENTS


cdef inline int _check(int rc, str op) except -1:
    return check_rc(rc, "tone", op)


def segments_of(description):
    """A description string or a sequence of Segment, as a checked tuple of Segment."""
    if isinstance(description, str):
        segs = parse(description)
    else:
        try:
            segs = tuple(description)
        except TypeError:
            raise DSPArgumentError(
                f"description: expected a tone description str or Segments, got {type(description).__name__}"
            ) from None
    if not 1 <= len(segs) <= C.CC_TONE_MAX_SEGMENTS:
        raise DSPArgumentError(f"description: {len(segs)} segments, 1..{C.CC_TONE_MAX_SEGMENTS} allowed")
    for i, g in enumerate(segs):
        if not isinstance(g, Segment):
            raise DSPArgumentError(f"description: item {i} is {type(g).__name__}, not Segment")
        if not (0 <= g.f1_hz < 4000 and 0 <= g.f2_hz < 4000):
            raise DSPArgumentError(f"description: segment {i}: frequencies must be 0..3999 Hz")
        if not (-90 <= g.level1_dbm0 <= 3 and -90 <= g.level2_dbm0 <= 3):
            raise DSPArgumentError(f"description: segment {i}: levels must be -90..3 dBm0")
        if not (isinstance(g.ms, int) and 0 <= g.ms <= 600000):
            raise DSPArgumentError(f"description: segment {i}: ms {g.ms!r} is not 0..600000")
    if all(g.once and g.ms > 0 for g in segs):
        raise DSPArgumentError("description: every segment is '!' and timed, so nothing loops")
    return segs


cdef int fill_segments(C.cc_tone_segment_t *out, segs) except -1:
    cdef int i
    for i, g in enumerate(segs):
        out[i].f1_hz = g.f1_hz
        out[i].f2_hz = g.f2_hz
        out[i].level1_dbm0 = g.level1_dbm0
        out[i].level2_dbm0 = g.level2_dbm0
        out[i].ms = g.ms
        out[i].modulate = 1 if g.modulate else 0
        out[i].once = 1 if g.once else 0
    return 0


cdef class ToneGenerator:
    """Plays one tone description for ever (looping as libtonezone does)."""

    cdef C.cc_tone_tx_t _s
    cdef object _segs

    def __init__(self, description, sample_rate=8000):
        check_sample_rate(sample_rate)
        self._segs = segments_of(description)
        cdef C.cc_tone_segment_t segs[32]
        fill_segments(segs, self._segs)
        if C.cc_tone_tx_init(&self._s, segs, len(self._segs)) == NULL:
            raise DSPArgumentError("description: refused by the native kernel")

    @property
    def segments(self):
        return self._segs

    @property
    def samples(self):
        return C.cc_tone_tx_samples(&self._s)

    @property
    def segment(self):
        return C.cc_tone_tx_segment(&self._s)

    def generate(self, n, out=None):
        if not isinstance(n, int) or n < 0:
            raise DSPArgumentError(f"n: {n!r} is not a sample count")
        out = check_out("out", out, np.dtype(np.int16), (n,))
        cdef int16_t *op = <int16_t *>cnp.PyArray_DATA(out)
        cdef size_t count = n
        cdef int rc
        with nogil:
            rc = C.cc_tone_tx_generate(&self._s, op, count)
        _check(rc, "generate")
        return out

    def reset(self):
        _check(C.cc_tone_tx_reset(&self._s), "reset")

    def get_state(self):
        return (<char *>&self._s)[:sizeof(self._s)]

    def set_state(self, state):
        cdef const unsigned char[::1] view = state_bytes(state, sizeof(self._s), "a generator state")
        if C.cc_tone_tx_restore(&self._s, &view[0], view.shape[0]) < 0:
            raise DSPArgumentError("state: not a saved tone generator state")


cdef class ToneGeneratorBank:
    """One description per channel, generated into one (channels x samples) buffer per call."""

    cdef C.cc_tone_tx_t *_states
    cdef C.cc_tone_tx_t **_ptrs
    cdef size_t _n

    def __cinit__(self, *args, **kwargs):
        self._states = NULL
        self._ptrs = NULL

    def __init__(self, descriptions, sample_rate=8000):
        check_sample_rate(sample_rate)
        descs = list(descriptions)
        if not 1 <= len(descs) <= 1 << 20:
            raise DSPArgumentError(f"descriptions: {len(descs)} channels, 1..{1 << 20} allowed")
        self._states = <C.cc_tone_tx_t *>calloc(len(descs), sizeof(C.cc_tone_tx_t))
        self._ptrs = <C.cc_tone_tx_t **>calloc(len(descs), sizeof(C.cc_tone_tx_t *))
        if self._states == NULL or self._ptrs == NULL:
            raise MemoryError("descriptions: cannot allocate the generators")
        cdef C.cc_tone_segment_t segs[32]
        cdef size_t c
        for c in range(len(descs)):
            sg = segments_of(descs[c])
            fill_segments(segs, sg)
            self._ptrs[c] = C.cc_tone_tx_init(&self._states[c], segs, len(sg))
            if self._ptrs[c] == NULL:
                raise DSPArgumentError(f"descriptions: item {c} refused by the native kernel")
        self._n = len(descs)

    def __dealloc__(self):
        free(self._ptrs)
        free(self._states)

    @property
    def channels(self):
        return self._n

    def generate(self, n, out=None):
        if not isinstance(n, int) or n < 0:
            raise DSPArgumentError(f"n: {n!r} is not a sample count")
        out = check_out("out", out, np.dtype(np.int16), (self._n, n))
        if not out.flags.c_contiguous:
            raise DSPArgumentError("out: must be C-contiguous")
        cdef int16_t *op = <int16_t *>cnp.PyArray_DATA(out)
        cdef size_t count = n
        cdef int rc
        with nogil:
            rc = C.cc_tone_tx_generate_batch(self._ptrs, self._n, op, count, count)
        _check(rc, "generate_batch")
        return out
