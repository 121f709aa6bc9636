# Mirror of native/include/ccboard/hdlc.h: declarations only, all nogil.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t


cdef extern from "ccboard/hdlc.h" nogil:
    int CC_HDLC_MAX_FRAME
    int CC_HDLC_Q921_MAX
    int CC_HDLC_Q921_MIN
    int CC_HDLC_TX_RING
    int CC_HDLC_TX_FRAMES
    int CC_HDLC_OK
    int CC_HDLC_BAD_FCS
    int CC_HDLC_ABORT
    int CC_HDLC_TOO_LONG
    int CC_HDLC_TOO_SHORT
    int CC_HDLC_NON_OCTET
    int CC_HDLC_IDLE_FLAGS
    int CC_HDLC_IDLE_MARK
    ctypedef struct cc_hdlc_frame_t:
        int32_t channel
        uint8_t status
        int64_t position
        uint32_t offset
        uint32_t length
    ctypedef struct cc_hdlc_rx_config_t:
        int32_t min_len
        int32_t max_len
        int32_t report_bad
    ctypedef struct cc_hdlc_rx_stats_t:
        uint64_t good
        uint64_t bad_fcs
        uint64_t aborts
        uint64_t too_long
        uint64_t too_short
        uint64_t non_octet
        uint64_t octets
    ctypedef struct cc_hdlc_rx_t:
        pass
    void cc_hdlc_rx_config_default(cc_hdlc_rx_config_t *cfg)
    cc_hdlc_rx_t *cc_hdlc_rx_init(cc_hdlc_rx_t *s, const cc_hdlc_rx_config_t *cfg, int32_t channel)
    int cc_hdlc_rx_reset(cc_hdlc_rx_t *s)
    int cc_hdlc_rx_release(cc_hdlc_rx_t *s)
    int cc_hdlc_rx_free(cc_hdlc_rx_t *s)
    size_t cc_hdlc_rx_state_size()
    int cc_hdlc_rx_restore(cc_hdlc_rx_t *s, const void *saved, size_t len)
    int cc_hdlc_rx_stats(const cc_hdlc_rx_t *s, cc_hdlc_rx_stats_t *out)
    int32_t cc_hdlc_rx_channel(const cc_hdlc_rx_t *s)
    int64_t cc_hdlc_rx_position(const cc_hdlc_rx_t *s)
    size_t cc_hdlc_rx_max_frames(size_t nbits)
    size_t cc_hdlc_rx_max_data(const cc_hdlc_rx_t *s, size_t nbits)
    int cc_hdlc_rx_process_bits(cc_hdlc_rx_t *s, const uint8_t *x, size_t nbits, cc_hdlc_frame_t *fr,
                                size_t max_fr, uint8_t *data, size_t max_data)
    int cc_hdlc_rx_process(cc_hdlc_rx_t *s, const uint8_t *x, size_t n, cc_hdlc_frame_t *fr, size_t max_fr,
                           uint8_t *data, size_t max_data)
    int cc_hdlc_rx_process_batch(cc_hdlc_rx_t **s, size_t nch, const uint8_t *x, size_t stride, size_t n,
                                 cc_hdlc_frame_t *fr, size_t max_fr, uint8_t *data, size_t max_data)

    ctypedef struct cc_hdlc_tx_config_t:
        int32_t min_flags
        int32_t idle
        int32_t max_len
    ctypedef struct cc_hdlc_tx_stats_t:
        uint64_t frames
        uint64_t aborts
        uint64_t underruns
        uint64_t octets
    ctypedef struct cc_hdlc_tx_t:
        pass
    void cc_hdlc_tx_config_default(cc_hdlc_tx_config_t *cfg)
    cc_hdlc_tx_t *cc_hdlc_tx_init(cc_hdlc_tx_t *s, const cc_hdlc_tx_config_t *cfg)
    int cc_hdlc_tx_reset(cc_hdlc_tx_t *s)
    int cc_hdlc_tx_release(cc_hdlc_tx_t *s)
    int cc_hdlc_tx_free(cc_hdlc_tx_t *s)
    size_t cc_hdlc_tx_state_size()
    int cc_hdlc_tx_restore(cc_hdlc_tx_t *s, const void *saved, size_t len)
    int cc_hdlc_tx_stats(const cc_hdlc_tx_t *s, cc_hdlc_tx_stats_t *out)
    int64_t cc_hdlc_tx_position(const cc_hdlc_tx_t *s)
    int cc_hdlc_tx_put(cc_hdlc_tx_t *s, const uint8_t *frame, size_t n, int more)
    int cc_hdlc_tx_abort(cc_hdlc_tx_t *s)
    size_t cc_hdlc_tx_pending(const cc_hdlc_tx_t *s)
    size_t cc_hdlc_tx_space(const cc_hdlc_tx_t *s)
    int cc_hdlc_tx_generate_bits(cc_hdlc_tx_t *s, uint8_t *out, size_t nbits)
    int cc_hdlc_tx_generate(cc_hdlc_tx_t *s, uint8_t *out, size_t n)
    int cc_hdlc_tx_generate_batch(cc_hdlc_tx_t **s, size_t nch, uint8_t *out, size_t stride, size_t n)
