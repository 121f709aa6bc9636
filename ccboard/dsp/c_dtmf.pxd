# Mirror of native/include/ccboard/dtmf.h: declarations only, all nogil.
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint16_t
from ccboard.dsp.c_common cimport cc_law


cdef extern from "ccboard/dtmf.h" nogil:
    int CC_DTMF_BLOCK
    int CC_DTMF_ON
    int CC_DTMF_OFF
    int CC_DTMF_TX_QUEUE
    ctypedef struct cc_dtmf_event_t:
        int32_t channel
        uint8_t digit
        uint8_t kind
        uint16_t duration_ms
        int64_t start
        int64_t end
        int64_t at
        float level_low
        float level_high
    ctypedef struct cc_dtmf_rx_config_t:
        float min_level_dbm0
        float normal_twist_db
        float reverse_twist_db
        float freq_tolerance_pct
        float min_tone_fraction_db
        float max_harmonic_db
    ctypedef struct cc_dtmf_rx_t:
        pass
    void cc_dtmf_rx_config_default(cc_dtmf_rx_config_t *cfg)
    cc_dtmf_rx_t *cc_dtmf_rx_init(cc_dtmf_rx_t *s, const cc_dtmf_rx_config_t *cfg, int32_t channel)
    int cc_dtmf_rx_reset(cc_dtmf_rx_t *s)
    int cc_dtmf_rx_release(cc_dtmf_rx_t *s)
    int cc_dtmf_rx_free(cc_dtmf_rx_t *s)
    size_t cc_dtmf_rx_state_size()
    int cc_dtmf_rx_restore(cc_dtmf_rx_t *s, const void *saved, size_t len)
    size_t cc_dtmf_rx_max_events(size_t n)
    int cc_dtmf_rx_current(const cc_dtmf_rx_t *s)
    int32_t cc_dtmf_rx_channel(const cc_dtmf_rx_t *s)
    int64_t cc_dtmf_rx_samples(const cc_dtmf_rx_t *s)
    int cc_dtmf_rx_process(cc_dtmf_rx_t *s, cc_law law, const void *x, size_t n,
                           cc_dtmf_event_t *ev, size_t max_ev)
    int cc_dtmf_rx_process_batch(cc_dtmf_rx_t **s, size_t nch, cc_law law, const void *x,
                                 size_t stride, size_t n, cc_dtmf_event_t *ev, size_t max_ev)

    ctypedef struct cc_dtmf_tx_config_t:
        float level_low_dbm0
        float level_high_dbm0
        int32_t on_ms
        int32_t off_ms
    ctypedef struct cc_dtmf_tx_t:
        pass
    void cc_dtmf_tx_config_default(cc_dtmf_tx_config_t *cfg)
    cc_dtmf_tx_t *cc_dtmf_tx_init(cc_dtmf_tx_t *s, const cc_dtmf_tx_config_t *cfg)
    int cc_dtmf_tx_reset(cc_dtmf_tx_t *s)
    int cc_dtmf_tx_release(cc_dtmf_tx_t *s)
    int cc_dtmf_tx_free(cc_dtmf_tx_t *s)
    size_t cc_dtmf_tx_state_size()
    int cc_dtmf_tx_put(cc_dtmf_tx_t *s, const char *digits, size_t n, const cc_dtmf_tx_config_t *cfg)
    size_t cc_dtmf_tx_pending(const cc_dtmf_tx_t *s)
    size_t cc_dtmf_tx_generate(cc_dtmf_tx_t *s, int16_t *out, size_t n)
