/*
 * MF R1 (Bell, Q.320-Q.323) and MFC/R2 (Q.441, forward and backward) receiver and generator.
 *
 * One kernel with a mode: CC_MF_R1 (700..1700 Hz in 200 Hz steps), CC_MF_R2_FWD
 * (1380..1980 Hz in 120 Hz steps), CC_MF_R2_BWD (1140..540 Hz). A signal is one pair of the
 * mode's 6 tones, numbered 1..15 as in Q.441 (1 = f0+f1, 2 = f0+f2, 3 = f1+f2, 4 = f0+f3, ...,
 * 15 = f4+f5); for R1 the symbols are "1234567890CA*B#" (KP = '*' = 1100+1700, ST = '#' =
 * 1500+1700, ST' = 'A', ST'' = 'B', ST''' = 'C', as spandsp), for R2 "1234567890BCDEF"
 * (signal 10 = '0', as spandsp 0.0.6).
 *
 * Receiver. What: reports each signal twice, ON when it is recognised and OFF when it has
 * stopped, each with the sample index where the tone pair began and (OFF) ended, and the
 * sample index at which the event was decided: what a compelled R2 cycle needs ("forward
 * signal n started at t", "stopped at t"). How: audio is cut into 10 ms blocks (80 samples);
 * at each block end the 6 tones' cos/sin components are int32 dot products with a Q10 basis
 * (exact, vectorised, built for AVX2 and a portable baseline) and a least-squares fit on all
 * 6 tones gives each tone's power free of the others' leakage (R2 tones are only 1.2 DFT bins
 * apart over 10 ms). A block is a hit for signal n when its two strongest tones are above the
 * level limit (minus a margin), within the twist limit (separate limits for adjacent and
 * non-adjacent tones), the third strongest tone is well below the weaker of the two
 * (two-and-only-two), and the pair carries almost all of the block's power. A signal is
 * recognised after 2 hits in a row, once the onset check passes: each tone's frequency from
 * the phase its fit turns through between the two blocks (exact limits in Hz and %), and the
 * exact level and twist limits; R1 signals must also have lasted their minimum time (KP 55 ms,
 * others 30 ms). A signal ends after 3 blocks in a row without it, so an interruption of up to
 * 7 ms is bridged, and start/end are located inside their blocks from the partial blocks'
 * power. Everything is deterministic and kept in the state: any split of the input into
 * blocks gives the same events.
 * Meets (asserted by tests/dsp/test_mf_conformance.py; figures in REFERENCE.md "MF R1" and
 * "MFC/R2"): R2 +-10 Hz accepted, -5..-35 dBm0 accepted, twist 5 dB adjacent / 7 dB
 * non-adjacent accepted, 20 dB rejected, no detection under 7 ms, operate + release <= 80 ms,
 * interruptions <= 7 ms bridged; R1 +-1.5% +-10 Hz accepted, twist 6 dB, KP 55 ms / others
 * 30 ms minimum; a third tone rejects; see the generated table for the measured figures.
 *
 * Generator. What: R1 queued signals with durations (KP 100 ms, others 68 ms, gap 68 ms by
 * default) and R2 compelled signals started and stopped on command with no fixed duration
 * (cc_mf_tx_start / cc_mf_tx_stop), exact to the sample; both tones of a pair start and stop
 * on the same sample. Levels and timings come from a variant row (cc_mf_variant_get).
 */
#ifndef CCBOARD_MF_H
#define CCBOARD_MF_H

#include "ccboard/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Samples per analysis block (10 ms). */
#define CC_MF_BLOCK 80

/** Modes: which 6 tones. */
typedef enum { CC_MF_R1 = 0, CC_MF_R2_FWD = 1, CC_MF_R2_BWD = 2 } cc_mf_mode;

/** Event kinds. */
enum { CC_MF_ON = 1, CC_MF_OFF = 2 };

/** One signal event; 40 bytes with no padding, mirrored by a numpy structured dtype. */
typedef struct {
    int32_t channel;    /**< channel id given at init (batch: the state's id) */
    uint8_t signal;     /**< 1..15 (Q.441 numbering of the tone pair) */
    uint8_t symbol;     /**< ASCII: R1 "1234567890CA*B#", R2 "1234567890BCDEF" for signals 1..15 */
    uint8_t kind;       /**< CC_MF_ON or CC_MF_OFF */
    uint8_t mode;       /**< cc_mf_mode of the receiver */
    float level_low;    /**< level of the pair's lower-frequency tone, dBm0 (measured at onset) */
    float level_high;   /**< level of the higher-frequency tone, dBm0 */
    int64_t start;      /**< sample index where the tone pair began (samples since init/reset) */
    int64_t end;        /**< sample index one past its end; -1 on ON events */
    int64_t at;         /**< sample index at which the event was decided */
} cc_mf_event_t;

/** Receiver settings; cc_mf_rx_config_default() fills the defaults of a mode. */
typedef struct {
    float min_level_dbm0;        /**< per tone; R1 -30, R2 -38 dBm0 */
    float max_level_dbm0;        /**< per tone; 3 dBm0 (nothing louder fits int16) */
    float twist_adjacent_db;     /**< tones next to each other may differ by at most; R1 9, R2 9 dB */
    float twist_db;              /**< other pairs; R1 9, R2 11 dB */
    float third_tone_db;         /**< third strongest tone vs the weaker of the pair, at most; R1 -8, R2 -12 dB */
    float freq_tolerance_hz;     /**< estimated frequency within +-(hz + pct), at most 90 Hz; R1 14, R2 18 Hz */
    float freq_tolerance_pct;    /**< R1 2 %, R2 0 % */
    float min_tone_fraction_db;  /**< pair power vs block power, at least; R1 -3, R2 -1 dB */
    int32_t min_on_ms;           /**< a signal must have lasted this long to be recognised; R1 34, R2 0 */
    int32_t min_on_kp_ms;        /**< the same for R1 KP (signal 13); R1 59 ms */
} cc_mf_rx_config_t;

typedef struct cc_mf_rx_s cc_mf_rx_t;

/** Defaults of mode; CC_ERR_ARG on a bad mode. */
int cc_mf_rx_config_default(cc_mf_rx_config_t *cfg, cc_mf_mode mode);

/** Initialise s (or allocate one when s is NULL). cfg NULL = the mode's defaults. NULL on bad args. */
cc_mf_rx_t *cc_mf_rx_init(cc_mf_rx_t *s, cc_mf_mode mode, const cc_mf_rx_config_t *cfg, int32_t channel);
/** Back to the state just after init: sample count 0, no signal. */
int cc_mf_rx_reset(cc_mf_rx_t *s);
/** Release what init acquired (nothing today; kept for the shape). */
int cc_mf_rx_release(cc_mf_rx_t *s);
/** Free a state that init allocated. */
int cc_mf_rx_free(cc_mf_rx_t *s);
/** sizeof the state, for callers that embed or copy it (it holds no pointers). */
size_t cc_mf_rx_state_size(void);
/** Load a state saved as bytes: CC_ERR_STATE, and s unchanged, if it is not a receiver state. */
int cc_mf_rx_restore(cc_mf_rx_t *s, const void *saved, size_t len);
/** The most events one call over n samples can return for one channel. */
size_t cc_mf_rx_max_events(size_t n);
/** The signal in progress (1..15), 0 if none. */
int cc_mf_rx_current(const cc_mf_rx_t *s);
int32_t cc_mf_rx_channel(const cc_mf_rx_t *s);
int cc_mf_rx_mode(const cc_mf_rx_t *s);
/** Samples consumed since init/reset. */
int64_t cc_mf_rx_samples(const cc_mf_rx_t *s);

/**
 * Feed n samples coded as law. Writes events to ev; returns their count, or CC_ERR_SPACE
 * (nothing consumed) when max_ev < cc_mf_rx_max_events(n), CC_ERR_ARG on a bad argument.
 */
int cc_mf_rx_process(cc_mf_rx_t *s, cc_law law, const void *x, size_t n, cc_mf_event_t *ev, size_t max_ev);

/**
 * Batch: nch channels (any mix of modes); channel c's n samples start at x + c*stride (elements
 * of law's size). Events of all channels, in channel order; max_ev >= nch * cc_mf_rx_max_events(n).
 */
int cc_mf_rx_process_batch(cc_mf_rx_t *const *s, size_t nch, cc_law law, const void *x, size_t stride,
                           size_t n, cc_mf_event_t *ev, size_t max_ev);

/** The symbol of signal 1..15 in mode, '\0' if out of range. */
int cc_mf_symbol(cc_mf_mode mode, int signal);
/** The signal 1..15 of a symbol in mode (lower case accepted), 0 if it is not one. */
int cc_mf_signal(cc_mf_mode mode, int symbol);
/** Frequencies in Hz of signal 1..15's tones (lower, higher); CC_ERR_ARG if out of range. */
int cc_mf_freqs(cc_mf_mode mode, int signal, float *low_hz, float *high_hz);

/* ---- variants: levels and timings as rows of data ---- */

/** Variant ids. */
typedef enum {
    CC_MF_VARIANT_R1 = 0,        /**< Bell MF: -7 dBm0, KP 100 ms, others 68 ms, gap 68 ms */
    CC_MF_VARIANT_R2_ITU = 1,    /**< Q.441: -11.5 dBm0, compelled */
    CC_MF_VARIANT_R2_CHINA = 2,  /**< China No.1: -8 dBm0 (libtonezone cn mfr2_level), compelled */
    CC_MF_VARIANT_COUNT = 3
} cc_mf_variant_id;

typedef struct {
    char name[16];          /**< "r1", "r2_itu", "r2_china" */
    int32_t r2;             /**< 0 = R1 (queued), 1 = R2 (compelled: start/stop) */
    float level_dbm0;       /**< per tone, sent */
    int32_t on_ms;          /**< R1 signal length; R2: length of a pulse sent with cc_mf_tx_put */
    int32_t kp_ms;          /**< R1 KP length (= on_ms for R2) */
    int32_t off_ms;         /**< gap after each queued signal */
    const char *source;     /**< where the figures come from */
} cc_mf_variant_t;

/** The row of a variant, NULL if id is out of range. */
const cc_mf_variant_t *cc_mf_variant_get(int id);

/* ---- generator ---- */

typedef struct {
    float level_low_dbm0;   /**< lower-frequency tone */
    float level_high_dbm0;  /**< higher-frequency tone */
    int32_t on_ms;          /**< queued signals other than KP */
    int32_t kp_ms;          /**< queued R1 KP */
    int32_t off_ms;         /**< gap after each queued signal */
} cc_mf_tx_config_t;

/** Signals the generator can queue. */
#define CC_MF_TX_QUEUE 64

typedef struct cc_mf_tx_s cc_mf_tx_t;

/** The config of a variant row (levels both tones, timings); CC_ERR_ARG on a bad id. */
int cc_mf_tx_config_variant(cc_mf_tx_config_t *cfg, int variant);
/** mode: CC_MF_R1 or an R2 direction; cfg NULL = the variant row R1 / R2_ITU. NULL on bad args. */
cc_mf_tx_t *cc_mf_tx_init(cc_mf_tx_t *s, cc_mf_mode mode, const cc_mf_tx_config_t *cfg);
int cc_mf_tx_reset(cc_mf_tx_t *s);
int cc_mf_tx_release(cc_mf_tx_t *s);
int cc_mf_tx_free(cc_mf_tx_t *s);
size_t cc_mf_tx_state_size(void);
/** Load a state saved as bytes (CC_ERR_STATE if it is not a generator state). */
int cc_mf_tx_restore(cc_mf_tx_t *s, const void *saved, size_t len);

/**
 * Queue n symbols (timings and levels from cfg, NULL = init's). Returns n, or CC_ERR_ARG
 * (nothing queued) on a bad symbol/setting or while a started signal sounds, CC_ERR_SPACE if
 * they do not fit.
 */
int cc_mf_tx_put(cc_mf_tx_t *s, const char *symbols, size_t n, const cc_mf_tx_config_t *cfg);
/**
 * Compelled use: from the next generated sample, sound signal 1..15 until cc_mf_tx_stop (the
 * queue is dropped; a signal already sounding is replaced with no gap). levels NULL = init's.
 */
int cc_mf_tx_start(cc_mf_tx_t *s, int signal, const cc_mf_tx_config_t *cfg);
/** Silence from the next generated sample; drops the queue. */
int cc_mf_tx_stop(cc_mf_tx_t *s);
/** The signal sounding (1..15), 0 if silent. */
int cc_mf_tx_current(const cc_mf_tx_t *s);
/** The generator's cc_mf_mode. */
int cc_mf_tx_mode(const cc_mf_tx_t *s);
/** Signals queued or sounding (a started signal counts as 1). */
size_t cc_mf_tx_pending(const cc_mf_tx_t *s);
/** Samples generated since init/reset. */
int64_t cc_mf_tx_samples(const cc_mf_tx_t *s);
/**
 * Write n samples (int16). Returns the number written before the generator went idle (n while
 * busy or a started signal sounds).
 */
size_t cc_mf_tx_generate(cc_mf_tx_t *s, int16_t *out, size_t n);

#ifdef __cplusplus
}
#endif
#endif
