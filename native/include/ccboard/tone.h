/*
 * Tone generator that plays a call progress tone description (libtonezone's zone data).
 *
 * What: a description is a list of segments, each one or two frequencies summed (f1+f2) or
 * f1 amplitude-modulated by f2 (f1*f2), with a level per frequency in dBm0 and a duration.
 * Segments play in order; the ones marked once ('!' in zone data) play only the first time
 * round, the sequence then loops back to the first segment not so marked, and a segment of
 * duration 0 sounds for ever (libtonezone's rules). How: each segment restarts its
 * oscillators at phase 0 (as DAHDI does), computed in double precision from the sample
 * index within the segment, so durations are exact to the sample and any split of the
 * output into blocks gives the same samples. Modulation is DAHDI's: the carrier times
 * 0.9 (1 - m sin(w2 n)) with m the modulator's peak over full scale.
 * Levels: 0 dBm0 is a sine of peak 32768 * 10^(-3.14/20) (spandsp's and libtonezone's
 * reference); libtonezone's tones are -10 dBm0 per frequency, '@' 10.46 dB lower.
 * Meets (tests/dsp/test_tonezone.py): every segment boundary within 0 samples of the
 * description, each frequency's level within 0.1 dB.
 */
#ifndef CCBOARD_TONE_H
#define CCBOARD_TONE_H

#include "ccboard/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Most segments one description can hold (libtonezone's longest has 19). */
#define CC_TONE_MAX_SEGMENTS 32

/** One segment of a description; 24 bytes, no padding. */
typedef struct {
    float f1_hz;        /**< first frequency; 0 with f2_hz 0 = silence */
    float f2_hz;        /**< second frequency, or 0 */
    float level1_dbm0;  /**< level of f1 (the carrier when modulated) */
    float level2_dbm0;  /**< level of f2 (sets the modulation depth when modulated) */
    int32_t ms;         /**< duration in ms; 0 = for ever */
    uint8_t modulate;   /**< 1: f1*f2 (f1 modulated by f2); 0: f1+f2 */
    uint8_t once;       /**< 1: '!' segment, not part of the loop */
    uint8_t reserved[2];
} cc_tone_segment_t;

typedef struct cc_tone_tx_s cc_tone_tx_t;

/**
 * Initialise s (or allocate one when s is NULL) to play n segments. NULL when n is 0 or over
 * CC_TONE_MAX_SEGMENTS, a frequency is outside 0..3999 Hz, a level outside -90..+3 dBm0, a
 * duration outside 0..600000 ms, or every segment is once and timed (nothing would loop).
 */
cc_tone_tx_t *cc_tone_tx_init(cc_tone_tx_t *s, const cc_tone_segment_t *seg, size_t n);
/** Back to the first sample of the first segment. */
int cc_tone_tx_reset(cc_tone_tx_t *s);
int cc_tone_tx_release(cc_tone_tx_t *s);
int cc_tone_tx_free(cc_tone_tx_t *s);
size_t cc_tone_tx_state_size(void);
/** Load a saved state (the bytes of another); CC_ERR_STATE and s unchanged if it is not one. */
int cc_tone_tx_restore(cc_tone_tx_t *s, const void *saved, size_t len);
/** Samples generated since init/reset. */
int64_t cc_tone_tx_samples(const cc_tone_tx_t *s);
/** Index of the segment sounding now. */
int cc_tone_tx_segment(const cc_tone_tx_t *s);

/** Write n int16 samples. Returns n, or CC_ERR_ARG. */
int cc_tone_tx_generate(cc_tone_tx_t *s, int16_t *out, size_t n);
/** Batch: channel c's n samples go to out + c*stride. Returns n, or CC_ERR_ARG. */
int cc_tone_tx_generate_batch(cc_tone_tx_t *const *s, size_t nch, int16_t *out, size_t stride, size_t n);

#ifdef __cplusplus
}
#endif
#endif
