# Mirror of native/include/ccboard/conf.h: declarations only, all nogil.
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint32_t
from ccboard.dsp.c_common cimport cc_law


cdef extern from "ccboard/conf.h" nogil:
    int CC_CONF_MAX_MEMBERS
    int CC_CONF_MAX_CONFERENCES
    int CC_CONF_BLOCK
    int CC_CONF_POWER_BLOCK
    int CC_CONF_NONE
    int CC_CONF_PARTY
    int CC_CONF_LISTEN
    int CC_CONF_WHISPER
    ctypedef struct cc_conf_event_t:
        int32_t conference
        int32_t member
        int32_t previous
        float level_dbm0
        int64_t at
    ctypedef struct cc_conf_config_t:
        uint32_t members
        uint32_t conferences
        float loudest_tau_ms
        float loudest_floor_dbm0
        float loudest_hysteresis_db
    ctypedef struct cc_conf_t:
        pass
    void cc_conf_config_default(cc_conf_config_t *cfg)
    size_t cc_conf_state_size(const cc_conf_config_t *cfg)
    cc_conf_t *cc_conf_init(void *mem, const cc_conf_config_t *cfg)
    int cc_conf_reset(cc_conf_t *s)
    int cc_conf_release(cc_conf_t *s)
    int cc_conf_free(cc_conf_t *s)
    size_t cc_conf_size(const cc_conf_t *s)
    int cc_conf_restore(cc_conf_t *s, const void *saved, size_t len)
    int cc_conf_set(cc_conf_t *s, uint32_t member, uint32_t conference, int role, int32_t target)
    int cc_conf_leave(cc_conf_t *s, uint32_t member)
    int32_t cc_conf_conference(const cc_conf_t *s, uint32_t member)
    int cc_conf_role(const cc_conf_t *s, uint32_t member)
    int32_t cc_conf_target(const cc_conf_t *s, uint32_t member)
    int32_t cc_conf_loudest(const cc_conf_t *s, uint32_t conference)
    float cc_conf_power_dbm0(const cc_conf_t *s, uint32_t member)
    int64_t cc_conf_samples(const cc_conf_t *s)
    size_t cc_conf_max_events(const cc_conf_t *s, size_t n)
    int cc_conf_process(cc_conf_t *s, cc_law law, const void *x, size_t x_stride, void *y, size_t y_stride,
                        size_t n, cc_conf_event_t *ev, size_t max_ev)
