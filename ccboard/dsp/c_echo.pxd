# Mirror of native/include/ccboard/echo.h: declarations only, all nogil.
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint32_t


cdef extern from "ccboard/echo.h" nogil:
    int CC_ECHO_BLOCK
    int CC_ECHO_MAX_TAPS
    int CC_ECHO_MIN_TAPS
    int CC_ECHO_GROUP
    int CC_ECHO_ADAPT
    int CC_ECHO_NLP
    int CC_ECHO_CNG
    int CC_ECHO_HPF
    int CC_ECHO_TONE_DISABLE
    int CC_ECHO_DEFAULT
    ctypedef struct cc_echo_config_t:
        int32_t taps
        uint32_t flags
        float mu
        float alpha
        float geigel_db
    ctypedef struct cc_echo_stats_t:
        int64_t samples
        float erl_db
        float erle_db
        float rin_dbm0
        float sin_dbm0
        float residual_dbm0
        float noise_dbm0
        uint32_t double_talk_count
        uint32_t transfers
        uint32_t rollbacks
        uint32_t tone_disables
        uint8_t double_talk
        uint8_t nlp
        uint8_t tone_disabled
        uint8_t bypass
    ctypedef struct cc_echo_t:
        pass
    void cc_echo_config_default(cc_echo_config_t *cfg)
    cc_echo_t *cc_echo_init(cc_echo_t *s, const cc_echo_config_t *cfg)
    int cc_echo_reset(cc_echo_t *s)
    int cc_echo_release(cc_echo_t *s)
    int cc_echo_free(cc_echo_t *s)
    size_t cc_echo_state_size()
    int cc_echo_restore(cc_echo_t *s, const void *saved, size_t len)
    int cc_echo_set_bypass(cc_echo_t *s, int on)
    int cc_echo_get_stats(const cc_echo_t *s, cc_echo_stats_t *st)
    int cc_echo_get_config(const cc_echo_t *s, cc_echo_config_t *cfg)
    int cc_echo_process(cc_echo_t *s, const int16_t *rin, const int16_t *sin, int16_t *sout, size_t n)
    int cc_echo_process_batch(cc_echo_t **s, size_t nch, const int16_t *rin, const int16_t *sin,
                              int16_t *sout, size_t stride, size_t n)
