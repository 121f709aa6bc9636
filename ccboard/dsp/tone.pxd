# What other extensions cimport from tone.pyx.
from ccboard.dsp.c_tone cimport cc_tone_segment_t


cdef int fill_segments(cc_tone_segment_t *out, segs) except -1
