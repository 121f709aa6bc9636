# Mirror of native/include/ccboard/tone.h: declarations only, all nogil.
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t


cdef extern from "ccboard/tone.h" nogil:
    int CC_TONE_MAX_SEGMENTS
    ctypedef struct cc_tone_segment_t:
        float f1_hz
        float f2_hz
        float level1_dbm0
        float level2_dbm0
        int32_t ms
        uint8_t modulate
        uint8_t once
    ctypedef struct cc_tone_tx_t:
        pass
    cc_tone_tx_t *cc_tone_tx_init(cc_tone_tx_t *s, const cc_tone_segment_t *seg, size_t n)
    int cc_tone_tx_reset(cc_tone_tx_t *s)
    int cc_tone_tx_release(cc_tone_tx_t *s)
    int cc_tone_tx_free(cc_tone_tx_t *s)
    size_t cc_tone_tx_state_size()
    int cc_tone_tx_restore(cc_tone_tx_t *s, const void *saved, size_t len)
    int64_t cc_tone_tx_samples(const cc_tone_tx_t *s)
    int cc_tone_tx_segment(const cc_tone_tx_t *s)
    int cc_tone_tx_generate(cc_tone_tx_t *s, int16_t *out, size_t n)
    int cc_tone_tx_generate_batch(cc_tone_tx_t **s, size_t nch, int16_t *out, size_t stride, size_t n)
