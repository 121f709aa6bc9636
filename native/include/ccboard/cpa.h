/*
 * Call progress analysis: what the far end does after dialling.
 *
 * What: from the tones of one libtonezone zone (passed in as tone descriptions, see tone.h)
 * it reports dial tone, ringback (each ring, counted), busy, congestion/reorder, SIT (which
 * one), no answer (a deadline), answered by voice and answered by fax/modem, each as an
 * event with the sample at which it was decided and where its evidence began. Cadences are
 * the zone's, or learnt from a repeating on/off pattern the zone does not list.
 * How: per 10 ms block (80 samples) the bins of every frequency the zone uses, plus the
 * SIT frequencies (913.8, 985.2, 1370.6, 1428.5, 1776.7 Hz) and 1100/2100 Hz, as Q9 integer
 * dot products (vectorised). Over the last 20 ms, each tone class (one frequency, or a
 * pair summed; f1*f2 counts as its carrier f1) is fitted by least squares on its sinusoids
 * (exact for pairs 40 Hz apart, like 440+480); the block is that class's when its fit holds
 * at least 70 % of the window's power, its level is over min_level and a pair's twist is
 * under 10 dB. Otherwise the block is off, and "voice" when it is 9 dB over the tracked
 * noise floor. Labels are debounced (2 blocks), giving on/off segments that are matched,
 * with +-(1.5 jitter + 40 ms) per segment, against the zone's cadences: busy and congestion
 * after two cycles (at least 4 segments), a ring after each ring group, SIT on its three
 * segments (frequency low/high and duration short/long give its code), dial tone after
 * dial_ms of steady tone (longer than any cadenced tone of the same class), fax after
 * fax_ms of 1100 or 2100 Hz, voice after voice_ms of voice blocks. Speech carries its
 * power in many harmonics and formants, so it never fits one or two sinusoids at 70 % for
 * the 4 segments a busy decision needs.
 * Meets (tests/dsp/test_cpa.py): accuracy per class on every zone's tones with +-10 %
 * cadence jitter, 20 dB S/N and 6 dB twist (floors asserted there); busy on speech: 0.
 */
#ifndef CCBOARD_CPA_H
#define CCBOARD_CPA_H

#include "ccboard/common.h"
#include "ccboard/tone.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CC_CPA_BLOCK 80
#define CC_CPA_MAX_FREQS 24
#define CC_CPA_MAX_CLASSES 24

/** Zone tones given to the analyser (indexes of cc_cpa_config_t.tone). */
enum {
    CC_CPA_TONE_DIAL = 0,
    CC_CPA_TONE_BUSY = 1,
    CC_CPA_TONE_RINGBACK = 2,
    CC_CPA_TONE_CONGESTION = 3,
    CC_CPA_TONE_INFO = 4,
    CC_CPA_TONES = 5,
};

/** Event kinds. */
enum {
    CC_CPA_DIAL = 1,
    CC_CPA_RINGBACK = 2,   /**< one ring; count = rings so far */
    CC_CPA_BUSY = 3,
    CC_CPA_CONGESTION = 4,
    CC_CPA_SIT = 5,        /**< code = CC_CPA_SIT_* */
    CC_CPA_NO_ANSWER = 6,  /**< the deadline passed with no answer or failure */
    CC_CPA_VOICE = 7,      /**< answered by voice */
    CC_CPA_FAX = 8,        /**< answered by fax/modem; code 1 = 1100 Hz (CNG), 2 = 2100 Hz (CED/ANS) */
};

/** SIT codes (Telcordia: first two frequencies low/high, durations short 274 / long 380 ms). */
enum {
    CC_CPA_SIT_UNKNOWN = 0, /**< three SIT segments in no listed pattern */
    CC_CPA_SIT_IC = 1,      /**< intercept: SSL, LLL */
    CC_CPA_SIT_VC = 2,      /**< vacant code: LSL, HLL */
    CC_CPA_SIT_RO = 3,      /**< reorder: SLL, LHL */
    CC_CPA_SIT_RO2 = 4,     /**< reorder, inter-LATA: SLL, HLL */
    CC_CPA_SIT_NC = 5,      /**< no circuit: LLL, LLL */
    CC_CPA_SIT_NC2 = 6,     /**< no circuit, inter-LATA: LLL, HHL */
    CC_CPA_SIT_IO = 7,      /**< ineffective other: LSS, LHL */
    CC_CPA_SIT_FU = 8,      /**< reserved: SSL, HHL */
    CC_CPA_SIT_ZONE = 9,    /**< the zone's own information tone (e.g. 950/1400/1800 Hz) */
};

/** Flags in the code field of BUSY, CONGESTION and RINGBACK events. */
#define CC_CPA_LEARNT 0x80

/** One event; 40 bytes, no padding. */
typedef struct {
    int32_t channel;
    uint8_t kind;
    uint8_t code;        /**< SIT code, fax tone, or CC_CPA_LEARNT */
    uint16_t count;      /**< RINGBACK: rings so far */
    int64_t start;       /**< sample where the evidence began */
    int64_t at;          /**< sample at which it was decided */
    float on_ms;         /**< last tone segment measured (SIT: the three durations' mean) */
    float off_ms;        /**< last off segment measured */
    float level_dbm0;    /**< tone or voice level */
    float freq_hz;       /**< the tone class's first frequency */
} cc_cpa_event_t;

/** Settings; cc_cpa_config_default() fills everything but the tones (empty). */
typedef struct {
    cc_tone_segment_t tone[CC_CPA_TONES][CC_TONE_MAX_SEGMENTS];
    int32_t nseg[CC_CPA_TONES];       /**< segments per zone tone; 0 = the zone has none */
    float min_level_dbm0;             /**< per tone class; default -36 dBm0 */
    float voice_level_dbm0;           /**< voice blocks are over this; default -42 dBm0 */
    float jitter_pct;                 /**< cadence tolerance; default 10 % */
    int32_t dial_ms;                  /**< steady tone for DIAL, at least; default 1000 */
    int32_t voice_ms;                 /**< voice for VOICE; default 300 */
    int32_t fax_ms;                   /**< 1100/2100 Hz for FAX; default 500 */
    int32_t no_answer_ms;             /**< NO_ANSWER deadline; 0 = none; default 30000 */
    int32_t learn;                    /**< learn unlisted cadences; default 1 */
} cc_cpa_config_t;

typedef struct cc_cpa_s cc_cpa_t;

void cc_cpa_config_default(cc_cpa_config_t *cfg);
/** NULL on a bad setting, a tone that does not parse as a cadence, or too many frequencies. */
cc_cpa_t *cc_cpa_init(cc_cpa_t *s, const cc_cpa_config_t *cfg, int32_t channel);
int cc_cpa_reset(cc_cpa_t *s);
int cc_cpa_release(cc_cpa_t *s);
int cc_cpa_free(cc_cpa_t *s);
size_t cc_cpa_state_size(void);
int cc_cpa_restore(cc_cpa_t *s, const void *saved, size_t len);
size_t cc_cpa_max_events(size_t n);
int64_t cc_cpa_samples(const cc_cpa_t *s);
/** Rings counted so far. */
int cc_cpa_rings(const cc_cpa_t *s);
int cc_cpa_process(cc_cpa_t *s, cc_law law, const void *x, size_t n, cc_cpa_event_t *ev, size_t max_ev);
int cc_cpa_process_batch(cc_cpa_t *const *s, size_t nch, cc_law law, const void *x, size_t stride, size_t n,
                         cc_cpa_event_t *ev, size_t max_ev);

#ifdef __cplusplus
}
#endif
#endif
