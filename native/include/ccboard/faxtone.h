/*
 * Fax and modem tones: CNG, CED/ANS, ANS/ (phase reversals), ANSam, ANSam/ (V.25, V.8,
 * T.30), detection and generation.
 *
 * Receiver. What: reports CNG (1100 Hz), ANS (2100 Hz, also fax CED) and ANSam (2100 Hz
 * amplitude-modulated at 15 Hz), each phase reversal of a 2100 Hz tone, and, when two
 * reversals come 450 +-25 ms apart, the event an echo canceller must act on (G.168/G.165
 * tone disabler: disable on 2100 Hz with reversals). How: per 10 ms block (80 samples) the
 * 1100 and 2100 Hz bins of each 5 ms half block; the tone's share of the block power, its
 * frequency from the phase turn between the halves (unambiguous within +-100 Hz), its
 * envelope per block (for the 15 Hz AM depth, a 20-block DFT) and its phase against the
 * previous block (a reversal turns it by pi; the block where it lands loses magnitude, which
 * places it within the block). A tone starts on its first block and ends after 3 blocks
 * without it; CNG is decided after cng_min_ms of tone, ANS/ANSam after ans_min_ms, each with
 * the mean frequency within the tolerance. Any block split gives the same events.
 * Meets (tests/dsp/test_faxtone.py, REFERENCE.md): CNG 1100 +-38 Hz accepted, +-60 rejected;
 * ANS 2100 +-15 Hz accepted, +-30 rejected; CNG bursts of 425 ms accepted, 300 ms rejected;
 * ANS of 500 ms accepted, 250 ms rejected; ANSam depth 20 +-5 % told from ANS; reversals
 * located within 5 ms; -43 dBm0 at 10 dB S/N.
 *
 * Generator. What: CNG (0.5 s on, 3 s off), ANS, ANS/, ANSam, ANSam/ at a level in dBm0,
 * reversals every 450 ms, 15 Hz AM of depth 0.2, exact to the sample.
 */
#ifndef CCBOARD_FAXTONE_H
#define CCBOARD_FAXTONE_H

#include "ccboard/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CC_FAXTONE_BLOCK 80

/** Tones (generator kinds and the tone field of events). */
enum {
    CC_FAXTONE_NONE = 0,
    CC_FAXTONE_CNG = 1,      /**< 1100 Hz, 0.5 s on / 3 s off */
    CC_FAXTONE_ANS = 2,      /**< 2100 Hz (fax CED, V.25 ANS) */
    CC_FAXTONE_ANS_PR = 3,   /**< ANS with phase reversals every 450 ms */
    CC_FAXTONE_ANSAM = 4,    /**< 2100 Hz with 15 Hz AM, depth 0.2 */
    CC_FAXTONE_ANSAM_PR = 5, /**< ANSam with phase reversals */
};

/** Event kinds. */
enum {
    CC_FAXTONE_EV_TONE = 1,       /**< a tone was recognised (tone = CNG, ANS or ANSAM) */
    CC_FAXTONE_EV_REVERSAL = 2,   /**< a phase reversal of the 2100 Hz tone (start = where) */
    CC_FAXTONE_EV_EC_DISABLE = 3, /**< two reversals 450 +-25 ms apart: disable the echo canceller */
    CC_FAXTONE_EV_END = 4,        /**< the recognised tone stopped (duration_ms) */
};

/** One event; 40 bytes, no padding. */
typedef struct {
    int32_t channel;
    uint8_t kind;        /**< CC_FAXTONE_EV_* */
    uint8_t tone;        /**< CC_FAXTONE_CNG / ANS / ANSAM (ANS_PR, ANSAM_PR once reversals seen) */
    uint16_t reversals;  /**< reversals seen in this tone so far */
    int64_t start;       /**< sample where the tone began (REVERSAL: where the reversal is) */
    int64_t at;          /**< sample at which the event was decided */
    float freq_hz;       /**< mean measured frequency */
    float level_dbm0;    /**< mean tone level */
    float am_depth;      /**< measured 15 Hz modulation depth, 0..1 */
    float duration_ms;   /**< END: tone duration; others: tone so far */
} cc_faxtone_event_t;

typedef struct {
    float min_level_dbm0;    /**< default -46 dBm0 (3 dB under the -43 dBm0 required) */
    float cng_tolerance_hz;  /**< default 38 Hz */
    float ans_tolerance_hz;  /**< default 15 Hz */
    int32_t cng_min_ms;      /**< default 400 ms */
    int32_t ans_min_ms;      /**< default 400 ms */
    float min_am_depth;      /**< ANSam when the 15 Hz depth is at least; default 0.1 */
} cc_faxtone_rx_config_t;

typedef struct cc_faxtone_rx_s cc_faxtone_rx_t;

void cc_faxtone_rx_config_default(cc_faxtone_rx_config_t *cfg);
cc_faxtone_rx_t *cc_faxtone_rx_init(cc_faxtone_rx_t *s, const cc_faxtone_rx_config_t *cfg, int32_t channel);
int cc_faxtone_rx_reset(cc_faxtone_rx_t *s);
int cc_faxtone_rx_release(cc_faxtone_rx_t *s);
int cc_faxtone_rx_free(cc_faxtone_rx_t *s);
size_t cc_faxtone_rx_state_size(void);
int cc_faxtone_rx_restore(cc_faxtone_rx_t *s, const void *saved, size_t len);
size_t cc_faxtone_rx_max_events(size_t n);
int64_t cc_faxtone_rx_samples(const cc_faxtone_rx_t *s);
/** Feed n samples; events to ev. Returns the count, CC_ERR_SPACE or CC_ERR_ARG. */
int cc_faxtone_rx_process(cc_faxtone_rx_t *s, cc_law law, const void *x, size_t n, cc_faxtone_event_t *ev,
                          size_t max_ev);
int cc_faxtone_rx_process_batch(cc_faxtone_rx_t *const *s, size_t nch, cc_law law, const void *x,
                                size_t stride, size_t n, cc_faxtone_event_t *ev, size_t max_ev);

typedef struct cc_faxtone_tx_s cc_faxtone_tx_t;

/** tone: CC_FAXTONE_CNG..ANSAM_PR; level per tone in dBm0; duration_ms 0 = for ever. */
cc_faxtone_tx_t *cc_faxtone_tx_init(cc_faxtone_tx_t *s, int tone, float level_dbm0, int32_t duration_ms);
int cc_faxtone_tx_reset(cc_faxtone_tx_t *s);
int cc_faxtone_tx_free(cc_faxtone_tx_t *s);
size_t cc_faxtone_tx_state_size(void);
/** Write n samples (silence once the duration is over). Returns samples of tone time left
 *  in this call (n while still playing). */
int cc_faxtone_tx_generate(cc_faxtone_tx_t *s, int16_t *out, size_t n);

#ifdef __cplusplus
}
#endif
#endif
