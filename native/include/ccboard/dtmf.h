/*
 * DTMF (Q.23 / Q.24) receiver and generator.
 *
 * Receiver. What: finds the 16 DTMF digits in 8 kHz audio, int16 linear or G.711 octets,
 * and reports each digit twice: on onset (for barge-in) and on end (with its duration),
 * as spandsp and Dialogic do. How: audio is cut into 10 ms blocks (80 samples); at each
 * block end the 8 DTMF bins are computed as direct DFT dot products (vectorised, built for
 * AVX2 and a portable baseline) with the block energy. A block is a hit for a digit when the
 * strongest row and column tones are above the minimum level, within the twist limits,
 * their frequencies (estimated by parabolic interpolation of three bins) are within the
 * tolerance, and the two tones carry almost all the block's energy (talk-off guard).
 * A digit starts after 3 hits in a row and ends after 3 blocks in a row without it, so
 * a 40 ms tone or pause is always seen, a tone under ~25 ms never is, and a drop-out of
 * 10 ms is bridged. Everything is deterministic and kept in the state: any split of the
 * input into blocks gives the same events.
 * Meets (asserted by tests/dsp/test_dtmf_conformance.py, figures in REFERENCE.md):
 * +-1.5% frequency accepted, +-3.5% rejected; twist 8 dB normal / 4 dB reverse accepted;
 * 40 ms tone and 40 ms pause; S/N 15 dB.
 *
 * Generator. What: queued digits as tone pairs with per-digit on/off times and levels, any
 * output block size, exact to the sample.
 */
#ifndef CCBOARD_DTMF_H
#define CCBOARD_DTMF_H

#include "ccboard/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Samples per analysis block (10 ms). */
#define CC_DTMF_BLOCK 80

/** Event kinds. */
enum { CC_DTMF_ON = 1, CC_DTMF_OFF = 2 };

/** One digit event; 40 bytes with no padding, mirrored by a numpy structured dtype. */
typedef struct {
    int32_t channel;     /**< channel id given at init (batch: the state's id) */
    uint8_t digit;       /**< ASCII: '0'-'9', '*', '#', 'A'-'D' */
    uint8_t kind;        /**< CC_DTMF_ON or CC_DTMF_OFF */
    uint16_t duration_ms; /**< OFF events: (end - start) in ms, saturating; 0 on ON events */
    int64_t start;       /**< sample index where the tone began (samples since init/reset) */
    int64_t end;         /**< sample index one past the tone's end; -1 on ON events */
    int64_t at;          /**< sample index at which the event was decided */
    float level_low;     /**< row tone level, dBm0 */
    float level_high;    /**< column tone level, dBm0 */
} cc_dtmf_event_t;

/** Receiver settings; cc_dtmf_rx_config_default() fills the defaults shown. */
typedef struct {
    float min_level_dbm0;       /**< per tone; default -40 dBm0 */
    float normal_twist_db;      /**< low (row) tone louder by at most; default 9 dB */
    float reverse_twist_db;     /**< high (column) tone louder by at most; default 5 dB */
    float freq_tolerance_pct;   /**< estimated frequency within +-; default 2.3 % (max 2.5) */
    float min_tone_fraction_db; /**< row+column power vs block power, at least; default -1 dB */
    float max_harmonic_db;      /**< a tone's harmonic (3rd of a row, 2nd of a column) vs the tone,
                                     at most; default -15 dB */
} cc_dtmf_rx_config_t;

typedef struct cc_dtmf_rx_s cc_dtmf_rx_t;

void cc_dtmf_rx_config_default(cc_dtmf_rx_config_t *cfg);

/** Initialise s (or allocate one when s is NULL). cfg NULL = defaults. NULL on bad cfg or no memory. */
cc_dtmf_rx_t *cc_dtmf_rx_init(cc_dtmf_rx_t *s, const cc_dtmf_rx_config_t *cfg, int32_t channel);
/** Back to the state just after init: sample count 0, no digit. */
int cc_dtmf_rx_reset(cc_dtmf_rx_t *s);
/** Release what init acquired (nothing today; kept for the shape). */
int cc_dtmf_rx_release(cc_dtmf_rx_t *s);
/** Free a state that init allocated. */
int cc_dtmf_rx_free(cc_dtmf_rx_t *s);

/** sizeof the state, for callers that embed or copy it (it holds no pointers). */
size_t cc_dtmf_rx_state_size(void);
/**
 * Load a state saved as the bytes of another (cc_dtmf_rx_state_size() of them). Checks it
 * before taking it: CC_ERR_STATE, and s unchanged, if it is not a receiver state.
 */
int cc_dtmf_rx_restore(cc_dtmf_rx_t *s, const void *saved, size_t len);
/** The most events one call over n samples can return for one channel. */
size_t cc_dtmf_rx_max_events(size_t n);
/** The digit in progress ('\0' if none). */
int cc_dtmf_rx_current(const cc_dtmf_rx_t *s);
/** The channel id given at init. */
int32_t cc_dtmf_rx_channel(const cc_dtmf_rx_t *s);
/** Samples consumed since init/reset. */
int64_t cc_dtmf_rx_samples(const cc_dtmf_rx_t *s);

/**
 * Feed n samples coded as law. Writes events to ev; returns their count, or CC_ERR_SPACE
 * (nothing consumed) when max_ev < cc_dtmf_rx_max_events(n), CC_ERR_ARG on a bad argument.
 */
int cc_dtmf_rx_process(cc_dtmf_rx_t *s, cc_law law, const void *x, size_t n,
                       cc_dtmf_event_t *ev, size_t max_ev);

/**
 * Batch: nch channels; channel c's n samples start at x + c*stride (elements of law's size).
 * Events of all channels, in channel order. max_ev must be >= nch * cc_dtmf_rx_max_events(n).
 */
int cc_dtmf_rx_process_batch(cc_dtmf_rx_t *const *s, size_t nch, cc_law law, const void *x,
                             size_t stride, size_t n, cc_dtmf_event_t *ev, size_t max_ev);

/* ---- generator ---- */

/** Generator defaults: levels -10/-10 dBm0, 50 ms on, 55 ms off (spandsp's). */
typedef struct {
    float level_low_dbm0;
    float level_high_dbm0;
    int32_t on_ms;
    int32_t off_ms;
} cc_dtmf_tx_config_t;

/** Digits the generator can queue. */
#define CC_DTMF_TX_QUEUE 128

typedef struct cc_dtmf_tx_s cc_dtmf_tx_t;

void cc_dtmf_tx_config_default(cc_dtmf_tx_config_t *cfg);
cc_dtmf_tx_t *cc_dtmf_tx_init(cc_dtmf_tx_t *s, const cc_dtmf_tx_config_t *cfg);
int cc_dtmf_tx_reset(cc_dtmf_tx_t *s);
int cc_dtmf_tx_release(cc_dtmf_tx_t *s);
int cc_dtmf_tx_free(cc_dtmf_tx_t *s);
size_t cc_dtmf_tx_state_size(void);

/**
 * Queue n digits with the given timing and levels (NULL = the init config). Returns n, or
 * CC_ERR_ARG (nothing queued) if a digit is not DTMF or a time or level is out of range,
 * CC_ERR_SPACE if they do not fit the queue.
 */
int cc_dtmf_tx_put(cc_dtmf_tx_t *s, const char *digits, size_t n, const cc_dtmf_tx_config_t *cfg);
/** Digits queued or sounding (including the current off time). */
size_t cc_dtmf_tx_pending(const cc_dtmf_tx_t *s);
/**
 * Write n samples (int16) of tone and gaps; silence once the queue is empty. Returns the
 * number of samples written before the generator went idle (n if still busy).
 */
size_t cc_dtmf_tx_generate(cc_dtmf_tx_t *s, int16_t *out, size_t n);

#ifdef __cplusplus
}
#endif
#endif
