# Mirror of native/include/ccboard/callerid.h: declarations only, all nogil.
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint16_t
from ccboard.dsp.c_common cimport cc_law


cdef extern from "ccboard/callerid.h" nogil:
    ctypedef enum cc_cid_standard:
        CC_CID_BELL202
        CC_CID_V23
        CC_CID_DTMF
    int CC_CID_MSG_MAX
    int CC_CID_OK
    int CC_CID_UNTERMINATED
    ctypedef struct cc_cid_msg_t:
        int32_t channel
        uint8_t standard
        uint8_t status
        uint16_t len
        int64_t start
        int64_t at
        float level_dbm0
        uint8_t data[260]
    ctypedef struct cc_cid_rx_config_t:
        int32_t standard
        float min_level_dbm0
        int32_t dtmf_timeout_ms
    ctypedef struct cc_cid_rx_t:
        pass
    void cc_cid_rx_config_default(cc_cid_rx_config_t *cfg, cc_cid_standard standard)
    cc_cid_rx_t *cc_cid_rx_init(cc_cid_rx_t *s, const cc_cid_rx_config_t *cfg, int32_t channel)
    int cc_cid_rx_reset(cc_cid_rx_t *s)
    int cc_cid_rx_release(cc_cid_rx_t *s)
    int cc_cid_rx_free(cc_cid_rx_t *s)
    size_t cc_cid_rx_state_size()
    int cc_cid_rx_restore(cc_cid_rx_t *s, const void *saved, size_t len)
    size_t cc_cid_rx_max_events(size_t n)
    int64_t cc_cid_rx_samples(const cc_cid_rx_t *s)
    int cc_cid_rx_pending(const cc_cid_rx_t *s)
    int64_t cc_cid_rx_framing_errors(const cc_cid_rx_t *s)
    int64_t cc_cid_rx_checksum_errors(const cc_cid_rx_t *s)
    int cc_cid_rx_process(cc_cid_rx_t *s, cc_law law, const void *x, size_t n, cc_cid_msg_t *ev, size_t max_ev)
    int cc_cid_rx_process_batch(cc_cid_rx_t **s, size_t nch, cc_law law, const void *x, size_t stride,
                                size_t n, cc_cid_msg_t *ev, size_t max_ev)

    ctypedef struct cc_cid_tx_config_t:
        int32_t standard
        float level_dbm0
        int32_t seizure_bits
        int32_t mark_bits
        int32_t stop_bits
        int32_t postamble_bits
        int32_t dtmf_on_ms
        int32_t dtmf_off_ms
        float baud_error_pct
        float freq_error_pct
        float twist_db
    ctypedef struct cc_cid_tx_t:
        pass
    void cc_cid_tx_config_default(cc_cid_tx_config_t *cfg, cc_cid_standard standard)
    cc_cid_tx_t *cc_cid_tx_init(cc_cid_tx_t *s, const cc_cid_tx_config_t *cfg)
    int cc_cid_tx_reset(cc_cid_tx_t *s)
    int cc_cid_tx_release(cc_cid_tx_t *s)
    int cc_cid_tx_free(cc_cid_tx_t *s)
    size_t cc_cid_tx_state_size()
    int cc_cid_tx_put(cc_cid_tx_t *s, const uint8_t *msg, size_t n)
    int64_t cc_cid_tx_remaining(const cc_cid_tx_t *s)
    size_t cc_cid_tx_generate(cc_cid_tx_t *s, int16_t *out, size_t n)
