# Mirror of native/include/ccboard/faxtone.h: declarations only, all nogil.
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint16_t
from ccboard.dsp.c_common cimport cc_law


cdef extern from "ccboard/faxtone.h" nogil:
    int CC_FAXTONE_BLOCK
    int CC_FAXTONE_NONE
    int CC_FAXTONE_CNG
    int CC_FAXTONE_ANS
    int CC_FAXTONE_ANS_PR
    int CC_FAXTONE_ANSAM
    int CC_FAXTONE_ANSAM_PR
    int CC_FAXTONE_EV_TONE
    int CC_FAXTONE_EV_REVERSAL
    int CC_FAXTONE_EV_EC_DISABLE
    int CC_FAXTONE_EV_END
    ctypedef struct cc_faxtone_event_t:
        int32_t channel
        uint8_t kind
        uint8_t tone
        uint16_t reversals
        int64_t start
        int64_t at
        float freq_hz
        float level_dbm0
        float am_depth
        float duration_ms
    ctypedef struct cc_faxtone_rx_config_t:
        float min_level_dbm0
        float cng_tolerance_hz
        float ans_tolerance_hz
        int32_t cng_min_ms
        int32_t ans_min_ms
        float min_am_depth
    ctypedef struct cc_faxtone_rx_t:
        pass
    ctypedef struct cc_faxtone_tx_t:
        pass
    void cc_faxtone_rx_config_default(cc_faxtone_rx_config_t *cfg)
    cc_faxtone_rx_t *cc_faxtone_rx_init(cc_faxtone_rx_t *s, const cc_faxtone_rx_config_t *cfg, int32_t channel)
    int cc_faxtone_rx_reset(cc_faxtone_rx_t *s)
    int cc_faxtone_rx_release(cc_faxtone_rx_t *s)
    int cc_faxtone_rx_free(cc_faxtone_rx_t *s)
    size_t cc_faxtone_rx_state_size()
    int cc_faxtone_rx_restore(cc_faxtone_rx_t *s, const void *saved, size_t len)
    size_t cc_faxtone_rx_max_events(size_t n)
    int64_t cc_faxtone_rx_samples(const cc_faxtone_rx_t *s)
    int cc_faxtone_rx_process(cc_faxtone_rx_t *s, cc_law law, const void *x, size_t n,
                              cc_faxtone_event_t *ev, size_t max_ev)
    int cc_faxtone_rx_process_batch(cc_faxtone_rx_t **s, size_t nch, cc_law law, const void *x,
                                    size_t stride, size_t n, cc_faxtone_event_t *ev, size_t max_ev)
    cc_faxtone_tx_t *cc_faxtone_tx_init(cc_faxtone_tx_t *s, int tone, float level_dbm0, int32_t duration_ms)
    int cc_faxtone_tx_reset(cc_faxtone_tx_t *s)
    int cc_faxtone_tx_free(cc_faxtone_tx_t *s)
    size_t cc_faxtone_tx_state_size()
    int cc_faxtone_tx_generate(cc_faxtone_tx_t *s, int16_t *out, size_t n)
