# Mirror of native/include/ccboard/e1.h: declarations only, all nogil.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t


cdef extern from "ccboard/e1.h" nogil:
    int CC_E1_TIMESLOTS
    int CC_E1_FRAMES
    int CC_E1_TICK_OCTETS
    int CC_E1_MAX_SPANS
    ctypedef struct cc_e1_rx_status_t:
        uint8_t los
        uint8_t ais
        uint8_t in_frame
        uint8_t yellow
        uint8_t lmfa
        uint8_t mf_aligned
        uint8_t cas_aligned
        uint8_t red
        uint8_t e_out[2]
        int64_t fas_errors
        int64_t crc_errors
        int64_t ebit_errors
        uint8_t rx_bits[32]
        uint8_t raw_bits[32]
    ctypedef struct cc_e1_change_t:
        int32_t span
        int32_t timeslot
    ctypedef struct cc_e1_tx_t:
        pass
    ctypedef struct cc_e1_rx_t:
        pass
    int cc_e1_crc4(const uint8_t *frames, size_t n, uint8_t *crc)
    size_t cc_e1_tx_state_size(uint32_t spans)
    cc_e1_tx_t *cc_e1_tx_init(void *mem, uint32_t spans, const uint8_t *crc4, const uint8_t *cas, int phase)
    int cc_e1_tx_reset(cc_e1_tx_t *s)
    int cc_e1_tx_release(cc_e1_tx_t *s)
    int cc_e1_tx_free(cc_e1_tx_t *s)
    size_t cc_e1_tx_size(const cc_e1_tx_t *s)
    int cc_e1_tx_restore(cc_e1_tx_t *s, const void *saved, size_t len)
    uint32_t cc_e1_tx_spans(const cc_e1_tx_t *s)
    int cc_e1_tx_set_bits(cc_e1_tx_t *s, uint32_t span, uint32_t ts, uint8_t bits)
    int cc_e1_tx_get_bits(const cc_e1_tx_t *s, uint32_t span, uint32_t ts)
    int cc_e1_tx_set_ais(cc_e1_tx_t *s, uint32_t span, int on)
    int cc_e1_tx_get_ais(const cc_e1_tx_t *s, uint32_t span)
    int cc_e1_tx_process(cc_e1_tx_t *s, uint8_t *frames, const cc_e1_rx_t *rx, const uint8_t *rai)
    size_t cc_e1_rx_state_size(uint32_t spans)
    cc_e1_rx_t *cc_e1_rx_init(void *mem, uint32_t spans, const uint8_t *crc4, const uint8_t *cas)
    int cc_e1_rx_reset(cc_e1_rx_t *s)
    int cc_e1_rx_release(cc_e1_rx_t *s)
    int cc_e1_rx_free(cc_e1_rx_t *s)
    size_t cc_e1_rx_size(const cc_e1_rx_t *s)
    int cc_e1_rx_restore(cc_e1_rx_t *s, const void *saved, size_t len)
    uint32_t cc_e1_rx_spans(const cc_e1_rx_t *s)
    const cc_e1_rx_status_t *cc_e1_rx_status(const cc_e1_rx_t *s)
    int cc_e1_rx_quiet(const cc_e1_rx_t *s)
    int cc_e1_rx_take_dirty(cc_e1_rx_t *s)
    int cc_e1_rx_process(cc_e1_rx_t *s, const uint8_t *frames, cc_e1_change_t *changes, size_t max_changes)
