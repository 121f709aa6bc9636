# Mirror of native/include/ccboard/mf.h: declarations only, all nogil.
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t
from ccboard.dsp.c_common cimport cc_law


cdef extern from "ccboard/mf.h" nogil:
    int CC_MF_BLOCK
    int CC_MF_ON
    int CC_MF_OFF
    int CC_MF_TX_QUEUE
    ctypedef enum cc_mf_mode:
        CC_MF_R1
        CC_MF_R2_FWD
        CC_MF_R2_BWD
    ctypedef enum cc_mf_variant_id:
        CC_MF_VARIANT_R1
        CC_MF_VARIANT_R2_ITU
        CC_MF_VARIANT_R2_CHINA
        CC_MF_VARIANT_COUNT
    ctypedef struct cc_mf_event_t:
        int32_t channel
        uint8_t signal
        uint8_t symbol
        uint8_t kind
        uint8_t mode
        float level_low
        float level_high
        int64_t start
        int64_t end
        int64_t at
    ctypedef struct cc_mf_rx_config_t:
        float min_level_dbm0
        float max_level_dbm0
        float twist_adjacent_db
        float twist_db
        float third_tone_db
        float freq_tolerance_hz
        float freq_tolerance_pct
        float min_tone_fraction_db
        int32_t min_on_ms
        int32_t min_on_kp_ms
    ctypedef struct cc_mf_rx_t:
        pass
    int cc_mf_rx_config_default(cc_mf_rx_config_t *cfg, cc_mf_mode mode)
    cc_mf_rx_t *cc_mf_rx_init(cc_mf_rx_t *s, cc_mf_mode mode, const cc_mf_rx_config_t *cfg, int32_t channel)
    int cc_mf_rx_reset(cc_mf_rx_t *s)
    int cc_mf_rx_release(cc_mf_rx_t *s)
    int cc_mf_rx_free(cc_mf_rx_t *s)
    size_t cc_mf_rx_state_size()
    int cc_mf_rx_restore(cc_mf_rx_t *s, const void *saved, size_t len)
    size_t cc_mf_rx_max_events(size_t n)
    int cc_mf_rx_current(const cc_mf_rx_t *s)
    int32_t cc_mf_rx_channel(const cc_mf_rx_t *s)
    int cc_mf_rx_mode(const cc_mf_rx_t *s)
    int64_t cc_mf_rx_samples(const cc_mf_rx_t *s)
    int cc_mf_rx_process(cc_mf_rx_t *s, cc_law law, const void *x, size_t n, cc_mf_event_t *ev, size_t max_ev)
    int cc_mf_rx_process_batch(cc_mf_rx_t **s, size_t nch, cc_law law, const void *x, size_t stride,
                               size_t n, cc_mf_event_t *ev, size_t max_ev)
    int cc_mf_symbol(cc_mf_mode mode, int signal)
    int cc_mf_signal(cc_mf_mode mode, int symbol)
    int cc_mf_freqs(cc_mf_mode mode, int signal, float *low_hz, float *high_hz)

    ctypedef struct cc_mf_variant_t:
        char name[16]
        int32_t r2
        float level_dbm0
        int32_t on_ms
        int32_t kp_ms
        int32_t off_ms
        const char *source
    const cc_mf_variant_t *cc_mf_variant_get(int id)

    ctypedef struct cc_mf_tx_config_t:
        float level_low_dbm0
        float level_high_dbm0
        int32_t on_ms
        int32_t kp_ms
        int32_t off_ms
    ctypedef struct cc_mf_tx_t:
        pass
    int cc_mf_tx_config_variant(cc_mf_tx_config_t *cfg, int variant)
    cc_mf_tx_t *cc_mf_tx_init(cc_mf_tx_t *s, cc_mf_mode mode, const cc_mf_tx_config_t *cfg)
    int cc_mf_tx_reset(cc_mf_tx_t *s)
    int cc_mf_tx_release(cc_mf_tx_t *s)
    int cc_mf_tx_free(cc_mf_tx_t *s)
    size_t cc_mf_tx_state_size()
    int cc_mf_tx_restore(cc_mf_tx_t *s, const void *saved, size_t len)
    int cc_mf_tx_put(cc_mf_tx_t *s, const char *symbols, size_t n, const cc_mf_tx_config_t *cfg)
    int cc_mf_tx_start(cc_mf_tx_t *s, int signal, const cc_mf_tx_config_t *cfg)
    int cc_mf_tx_stop(cc_mf_tx_t *s)
    int cc_mf_tx_current(const cc_mf_tx_t *s)
    int cc_mf_tx_mode(const cc_mf_tx_t *s)
    size_t cc_mf_tx_pending(const cc_mf_tx_t *s)
    int64_t cc_mf_tx_samples(const cc_mf_tx_t *s)
    size_t cc_mf_tx_generate(cc_mf_tx_t *s, int16_t *out, size_t n)
