# Mirror of native/include/ccboard/tdm.h: declarations only, all nogil.
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint32_t
from ccboard.dsp.c_common cimport cc_law


cdef extern from "ccboard/tdm.h" nogil:
    int CC_TDM_MAX_SLOTS
    int CC_TDM_MAX_CHUNK
    float CC_TDM_MIN_GAIN_DB
    float CC_TDM_MAX_GAIN_DB
    ctypedef struct cc_tdm_config_t:
        uint32_t slots
        uint32_t chunk
    ctypedef struct cc_tdm_t:
        pass
    size_t cc_tdm_state_size(const cc_tdm_config_t *cfg)
    cc_tdm_t *cc_tdm_init(void *mem, const cc_tdm_config_t *cfg, const uint8_t *laws)
    int cc_tdm_reset(cc_tdm_t *s)
    int cc_tdm_release(cc_tdm_t *s)
    int cc_tdm_free(cc_tdm_t *s)
    size_t cc_tdm_size(const cc_tdm_t *s)
    int cc_tdm_restore(cc_tdm_t *s, const void *saved, size_t len)
    float cc_tdm_gain_factor(float gain_db)
    int cc_tdm_connect(cc_tdm_t *s, uint32_t src, uint32_t dst, float gain_db)
    int cc_tdm_disconnect(cc_tdm_t *s, uint32_t dst)
    int cc_tdm_set_gain(cc_tdm_t *s, uint32_t dst, float gain_db)
    int cc_tdm_disconnect_all(cc_tdm_t *s)
    int32_t cc_tdm_source(const cc_tdm_t *s, uint32_t dst, int pending)
    float cc_tdm_gain_db(const cc_tdm_t *s, uint32_t dst, int pending)
    uint32_t cc_tdm_connections(const cc_tdm_t *s)
    uint32_t cc_tdm_pending(const cc_tdm_t *s)
    int64_t cc_tdm_samples(const cc_tdm_t *s)
    cc_law cc_tdm_law(const cc_tdm_t *s, uint32_t slot)
    int cc_tdm_process(cc_tdm_t *s, const uint8_t *x8, size_t x8_stride, const int16_t *x16,
                       size_t x16_stride, uint8_t *y8, size_t y8_stride, int16_t *y16, size_t y16_stride,
                       size_t n)
