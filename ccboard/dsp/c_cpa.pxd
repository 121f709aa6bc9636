# Mirror of native/include/ccboard/cpa.h: declarations only, all nogil.
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint16_t
from ccboard.dsp.c_common cimport cc_law
from ccboard.dsp.c_tone cimport cc_tone_segment_t


cdef extern from "ccboard/cpa.h" nogil:
    int CC_CPA_BLOCK
    int CC_CPA_TONES
    int CC_CPA_TONE_DIAL
    int CC_CPA_TONE_BUSY
    int CC_CPA_TONE_RINGBACK
    int CC_CPA_TONE_CONGESTION
    int CC_CPA_TONE_INFO
    int CC_CPA_LEARNT
    ctypedef struct cc_cpa_event_t:
        int32_t channel
        uint8_t kind
        uint8_t code
        uint16_t count
        int64_t start
        int64_t at
        float on_ms
        float off_ms
        float level_dbm0
        float freq_hz
    ctypedef struct cc_cpa_config_t:
        cc_tone_segment_t tone[5][32]
        int32_t nseg[5]
        float min_level_dbm0
        float voice_level_dbm0
        float jitter_pct
        int32_t dial_ms
        int32_t voice_ms
        int32_t fax_ms
        int32_t no_answer_ms
        int32_t learn
    ctypedef struct cc_cpa_t:
        pass
    void cc_cpa_config_default(cc_cpa_config_t *cfg)
    cc_cpa_t *cc_cpa_init(cc_cpa_t *s, const cc_cpa_config_t *cfg, int32_t channel)
    int cc_cpa_reset(cc_cpa_t *s)
    int cc_cpa_release(cc_cpa_t *s)
    int cc_cpa_free(cc_cpa_t *s)
    size_t cc_cpa_state_size()
    int cc_cpa_restore(cc_cpa_t *s, const void *saved, size_t len)
    size_t cc_cpa_max_events(size_t n)
    int64_t cc_cpa_samples(const cc_cpa_t *s)
    int cc_cpa_rings(const cc_cpa_t *s)
    int cc_cpa_process(cc_cpa_t *s, cc_law law, const void *x, size_t n, cc_cpa_event_t *ev, size_t max_ev)
    int cc_cpa_process_batch(cc_cpa_t **s, size_t nch, cc_law law, const void *x, size_t stride, size_t n,
                             cc_cpa_event_t *ev, size_t max_ev)
