# Mirror of native/include/ccboard/amd.h: declarations only, all nogil.
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint32_t
from ccboard.dsp.c_common cimport cc_law


cdef extern from "ccboard/amd.h" nogil:
    int CC_AMD_EV_RESULT
    int CC_AMD_EV_BEEP
    ctypedef struct cc_amd_event_t:
        int32_t channel
        uint8_t kind
        uint8_t result
        uint8_t cause
        uint8_t words
        int64_t at
        int64_t start
        int32_t total_ms
        int32_t voice_ms
        int32_t silence_ms
        float freq_hz
        float level_dbm0
        uint32_t reserved
    ctypedef struct cc_amd_config_t:
        int32_t initial_silence_ms
        int32_t greeting_ms
        int32_t after_greeting_silence_ms
        int32_t total_analysis_ms
        int32_t min_word_ms
        int32_t between_words_silence_ms
        int32_t max_words
        int32_t silence_threshold
        int32_t max_word_ms
        int32_t frame_ms
        int32_t detect_beep
        int32_t beep_min_ms
        float beep_min_hz
        float beep_max_hz
        float beep_min_level_dbm0
        float beep_purity_db
        int32_t beep_max_wait_ms
    ctypedef struct cc_amd_t:
        pass
    void cc_amd_config_default(cc_amd_config_t *cfg)
    cc_amd_t *cc_amd_init(cc_amd_t *s, const cc_amd_config_t *cfg, int32_t channel)
    int cc_amd_reset(cc_amd_t *s)
    int cc_amd_release(cc_amd_t *s)
    int cc_amd_free(cc_amd_t *s)
    size_t cc_amd_state_size()
    int cc_amd_restore(cc_amd_t *s, const void *saved, size_t len)
    size_t cc_amd_max_events(size_t n)
    int cc_amd_result_of(const cc_amd_t *s)
    int64_t cc_amd_samples(const cc_amd_t *s)
    const char *cc_amd_result_name(int result)
    const char *cc_amd_cause_name(int cause)
    int cc_amd_process(cc_amd_t *s, cc_law law, const void *x, size_t n, cc_amd_event_t *ev, size_t max_ev)
    int cc_amd_process_batch(cc_amd_t **s, size_t nch, cc_law law, const void *x, size_t stride, size_t n,
                             cc_amd_event_t *ev, size_t max_ev)
