/*
 * Answering-machine detection (AMD) and greeting-beep detection, after answer.
 *
 * What. Classifies the answering party as HUMAN, MACHINE or NOTSURE with the cause, the way
 * Asterisk's app_amd does and with its parameters and defaults (initial silence 2500 ms,
 * greeting 1500, after-greeting silence 800, total analysis time 5000, minimum word length
 * 100, between-words silence 50, maximum number of words 2, silence threshold 256 (mean |x|
 * of a frame, 0..32767), maximum word length 5000; causes INITIALSILENCE, HUMAN, LONGGREETING,
 * MAXWORDLENGTH, MAXWORDS, TOOLONG). Then, once speech has been heard, finds the beep at the
 * end of a greeting, a steady tone of 400-2000 Hz lasting beep_min_ms (default 100), so a
 * message can be left after it; the beep is reported with its onset, frequency and level.
 * How. Frames of frame_ms (default 20, Asterisk's frame) are voice or silence by their mean
 * magnitude; app_amd's word/silence state machine runs on them. The beep detector fits each
 * 5 ms block with a two-tap linear predictor, x[n] + x[n-2] = a x[n-1] (exact for one
 * sinusoid of frequency acos(a/2) fs / 2pi), over 10 ms windows hopped by 5 ms: a window is
 * tonal when the fit leaves at most beep_purity_db of its power, its level is above
 * beep_min_level_dbm0 and its frequency (a corrected for the noise the residual shows) is in
 * range; a beep is a run of tonal windows within 1.5 % and 3 dB of the run's means (one
 * window's drop-out bridged), reported beep_min_ms after its onset, which is placed by walking
 * back over the samples while they still fit the tone.
 * All sums are over whole blocks, vectorised; any split of the input gives the same events.
 * Meets (tests/dsp/test_amd.py): the accuracy floors per class on espeak-ng English and
 * Mandarin answers and greetings with noise and levels varied; beeps reported no later than
 * beep_min_ms + 5 ms after they start (one 5 ms block), onset within 10 ms.
 */
#ifndef CCBOARD_AMD_H
#define CCBOARD_AMD_H

#include "ccboard/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { CC_AMD_UNDECIDED = 0, CC_AMD_HUMAN = 1, CC_AMD_MACHINE = 2, CC_AMD_NOTSURE = 3 } cc_amd_result;

typedef enum {
    CC_AMD_CAUSE_NONE = 0,
    CC_AMD_CAUSE_INITIALSILENCE = 1,
    CC_AMD_CAUSE_HUMAN = 2,
    CC_AMD_CAUSE_LONGGREETING = 3,
    CC_AMD_CAUSE_MAXWORDLENGTH = 4,
    CC_AMD_CAUSE_MAXWORDS = 5,
    CC_AMD_CAUSE_TOOLONG = 6,
} cc_amd_cause;

/** Event kinds. */
enum { CC_AMD_EV_RESULT = 1, CC_AMD_EV_BEEP = 2 };

/** One event; 48 bytes with no padding, mirrored by a numpy structured dtype. */
typedef struct {
    int32_t channel;
    uint8_t kind;         /**< CC_AMD_EV_RESULT or CC_AMD_EV_BEEP */
    uint8_t result;       /**< cc_amd_result (RESULT events) */
    uint8_t cause;        /**< cc_amd_cause (RESULT events) */
    uint8_t words;        /**< words counted when decided */
    int64_t at;           /**< sample at which it was decided (since init/reset = answer) */
    int64_t start;        /**< BEEP: estimated onset sample; RESULT: first voice frame or -1 */
    int32_t total_ms;     /**< analysis time when decided */
    int32_t voice_ms;     /**< voice heard when decided */
    int32_t silence_ms;   /**< silence in a row when decided */
    float freq_hz;        /**< BEEP: mean frequency */
    float level_dbm0;     /**< BEEP: level */
    uint32_t reserved;
} cc_amd_event_t;

/** Settings; cc_amd_config_default() gives app_amd's. Times in ms. */
typedef struct {
    int32_t initial_silence_ms;
    int32_t greeting_ms;
    int32_t after_greeting_silence_ms;
    int32_t total_analysis_ms;
    int32_t min_word_ms;
    int32_t between_words_silence_ms;
    int32_t max_words;
    int32_t silence_threshold;  /**< mean |x| of a frame below this is silence (int16 scale) */
    int32_t max_word_ms;
    int32_t frame_ms;           /**< analysis frame, 10..40 in steps of 5; default 20 */
    int32_t detect_beep;        /**< 1: look for the beep after speech; default 1 */
    int32_t beep_min_ms;        /**< default 100 */
    float beep_min_hz;          /**< default 400 */
    float beep_max_hz;          /**< default 2000 */
    float beep_min_level_dbm0;  /**< default -40 */
    float beep_purity_db;       /**< predictor residual vs block power, at most; default -10 */
    int32_t beep_max_wait_ms;   /**< stop looking this long after answer; default 60000 */
} cc_amd_config_t;

typedef struct cc_amd_s cc_amd_t;

void cc_amd_config_default(cc_amd_config_t *cfg);
cc_amd_t *cc_amd_init(cc_amd_t *s, const cc_amd_config_t *cfg, int32_t channel);
int cc_amd_reset(cc_amd_t *s);
int cc_amd_release(cc_amd_t *s);
int cc_amd_free(cc_amd_t *s);
size_t cc_amd_state_size(void);
int cc_amd_restore(cc_amd_t *s, const void *saved, size_t len);
size_t cc_amd_max_events(size_t n);
/** cc_amd_result so far (CC_AMD_UNDECIDED until decided). */
int cc_amd_result_of(const cc_amd_t *s);
int64_t cc_amd_samples(const cc_amd_t *s);
/** A static name: "HUMAN", "MACHINE", "NOTSURE", "" / "INITIALSILENCE", ... */
const char *cc_amd_result_name(int result);
const char *cc_amd_cause_name(int cause);

int cc_amd_process(cc_amd_t *s, cc_law law, const void *x, size_t n, cc_amd_event_t *ev, size_t max_ev);
int cc_amd_process_batch(cc_amd_t *const *s, size_t nch, cc_law law, const void *x, size_t stride, size_t n,
                         cc_amd_event_t *ev, size_t max_ev);

#ifdef __cplusplus
}
#endif
#endif
