/*
 * Line echo canceller (G.168) for 2-wire hybrids seen through E1/T1 and analog ports.
 *
 * What: removes the echo of the far-end signal Rin that the hybrid returns in Sin, for echo
 * paths (tails) of 32, 64 or 128 ms (256, 512, 1024 taps at 8 kHz; any multiple of 32 in
 * 32..1024), and returns Sout. Also: a non-linear processor (NLP) that replaces the residual
 * echo with comfort noise matched in level and tilt to the near-end background; DC / high-pass
 * removal on both inputs; a 2100 Hz tone disabler that goes transparent on a tone with phase
 * reversals (V.8 / V.25 ANSam, G.165 / G.168 section 7) and re-enables after 250 ms of silence;
 * per-channel bypass, reset and statistics (ERL, ERLE, double talk, NLP state).
 *
 * How (see native/src/echo.c for the derivations):
 *  - IPNLMS (improved proportionate NLMS, Benesty and Gay 2002) with gains per group of 32
 *    taps, inside an affine projection of order 8 (the chunk's 8 regressors): each tap's step
 *    is a mix of a uniform part and a part proportional to its group's magnitude. Hybrid echo paths are sparse (a
 *    few ms of response somewhere in a 128 ms window), so the active taps converge at a rate
 *    set by their own count, not by the full 1024, while the uniform part keeps the idle taps
 *    tracking a path change. The projection decorrelates coloured input (speech, the CSS),
 *    where plain NLMS is slow and plain block NLMS overshoots.
 *  - Block processing over the 8-sample chunk (1 ms, DAHDI's): the 8 outputs of a chunk are
 *    filtered with the coefficients of its start and the coefficients are updated once at its
 *    end with the 8 errors (partial-rank affine projection). Each coefficient is then loaded once per chunk, not
 *    8 times, and both loops vectorise (16 lanes of partial sums: one AVX-512 register or two
 *    AVX2 ones, each build with fused multiply-add, or the x86-64 baseline with a separate
 *    multiply and add; the build is picked at run time). Builds therefore differ by rounding
 *    only (one rounding per fused multiply-add against two): outputs are NOT bit-identical
 *    between machines or builds. Within one build any split of the input gives bit-identical
 *    output: a partial chunk is filtered sample by sample with the same arithmetic. The step's normaliser comes from per-chunk Rin
 *    energies kept beside the history (a few operations per 32 taps), the 8x8 projection is
 *    solved by Levinson's recursion, and its shape is refreshed every 8 chunks.
 *  - Double talk: a Geigel detector (|Sin| > 0.7 max|Rin| over the tail, 30 ms hangover)
 *    freezes adaptation; behind it, a two-path guard: a foreground copy of the coefficients
 *    is compared with the adapting (background) set on one chunk in eight. The foreground
 *    takes the background after it is better twice in a row (each over 4 checked chunks); the
 *    background is rolled back to the foreground when it is 6 dB worse (divergence the Geigel missed).
 *  - State holds no pointers; 14.9 KiB (15,248 bytes) per channel at 1024 taps (cc_echo_state_size()).
 *    Any 8-byte aligned place works; on a 64-byte boundary (EchoCancellerBank's) the AVX-512
 *    build reads the tap arrays and the history in whole cache lines, about 20 % fewer cycles.
 * Meets (asserted by tests/dsp/test_echo_g168.py, table in build/conformance/echo.md; G.168
 * limits there are marked [U] in REFERENCE.md): on the CSS at -10 dBm0 through each G.168 model
 * D.2-D.9 (40 ms delay, ERL 6 dB, 1024 taps, NLP off) ERLE 22.1-26.3 dB at 1 s and 35.6-44.4 dB
 * at 5 s; NLP on: Sout <= -65 dBm0 after 1 s; comfort noise within 0.4 dB of the background;
 * no divergence in double talk; no leak over 120 s; tone disabler in 0.46 s, released after 250 ms.
 */
#ifndef CCBOARD_ECHO_H
#define CCBOARD_ECHO_H

#include "ccboard/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Samples per processing chunk (1 ms). */
#define CC_ECHO_BLOCK 8
/** Longest tail, in taps (128 ms). */
#define CC_ECHO_MAX_TAPS 1024
#define CC_ECHO_MIN_TAPS 32
/** Taps per IPNLMS gain group (4 ms); the tail is a multiple of it. */
#define CC_ECHO_GROUP 32

/** Feature flags (cc_echo_config_t.flags). */
enum {
    CC_ECHO_ADAPT = 1 << 0,        /**< adapt the filter (off: frozen) */
    CC_ECHO_NLP = 1 << 1,          /**< non-linear processor on residual echo */
    CC_ECHO_CNG = 1 << 2,          /**< the NLP outputs comfort noise (else silence) */
    CC_ECHO_HPF = 1 << 3,          /**< DC / high-pass removal on Rin and Sin */
    CC_ECHO_TONE_DISABLE = 1 << 4, /**< 2100 Hz with phase reversals makes it transparent */
    CC_ECHO_DEFAULT = 0x1f,
};

/** Settings; cc_echo_config_default() fills the defaults shown. */
typedef struct {
    int32_t taps;     /**< tail in taps, multiple of 32 in 32..1024; default 1024 (128 ms) */
    uint32_t flags;   /**< CC_ECHO_*; default CC_ECHO_DEFAULT (all) */
    float mu;         /**< step size, 0 < mu <= 1; default 0.5 */
    float alpha;      /**< IPNLMS proportionality, -1 (= NLMS) .. 1; default 0 */
    float geigel_db;  /**< double talk when |Sin| > max|Rin| - this; default 3 dB (see echo.c) */
} cc_echo_config_t;

/** What the canceller measured; levels smoothed over ~32 ms (dBm0), ERL and ERLE over ~256 ms. */
typedef struct {
    int64_t samples;           /**< consumed since init/reset */
    float erl_db;              /**< echo return loss, Rin over Sin, in far-end single talk */
    float erle_db;             /**< enhancement, Sin over the cancelled residual (before NLP) */
    float rin_dbm0;            /**< far-end level */
    float sin_dbm0;            /**< send-in level (echo plus near end) */
    float residual_dbm0;       /**< after cancellation, before the NLP */
    float noise_dbm0;          /**< near-end background estimate (the comfort noise level) */
    uint32_t double_talk_count; /**< double-talk onsets */
    uint32_t transfers;        /**< background copied to foreground */
    uint32_t rollbacks;        /**< background restored from foreground (divergence caught) */
    uint32_t tone_disables;    /**< times the 2100 Hz disabler went transparent */
    uint8_t double_talk;       /**< in double talk now (hangover included) */
    uint8_t nlp;               /**< NLP is replacing the residual now */
    uint8_t tone_disabled;     /**< transparent because of a 2100 Hz tone with reversals */
    uint8_t bypass;            /**< bypassed by the caller */
} cc_echo_stats_t;

typedef struct cc_echo_s cc_echo_t;

void cc_echo_config_default(cc_echo_config_t *cfg);
/** Initialise s (or allocate one when s is NULL). cfg NULL = defaults. NULL on bad cfg or no memory. */
cc_echo_t *cc_echo_init(cc_echo_t *s, const cc_echo_config_t *cfg);
/** Back to the state just after init (coefficients zero, statistics cleared, bypass kept off). */
int cc_echo_reset(cc_echo_t *s);
/** Release what init acquired (nothing today; kept for the shape). */
int cc_echo_release(cc_echo_t *s);
/** Free a state that init allocated. */
int cc_echo_free(cc_echo_t *s);
/** sizeof the state, for callers that embed or copy it (it holds no pointers). */
size_t cc_echo_state_size(void);
/** Load a state saved as bytes; CC_ERR_STATE (s unchanged) if it is not a valid canceller state. */
int cc_echo_restore(cc_echo_t *s, const void *saved, size_t len);
/** Bypass on (Sout = Sin exactly, no adaptation) or off. */
int cc_echo_set_bypass(cc_echo_t *s, int on);
/** Fill st with the current measurements. */
int cc_echo_get_stats(const cc_echo_t *s, cc_echo_stats_t *st);
/** The settings given at init. */
int cc_echo_get_config(const cc_echo_t *s, cc_echo_config_t *cfg);

/**
 * Cancel n samples: rin is what was sent to the line (far end), sin what came back (echo plus
 * near end); writes n samples to sout, which may be sin itself (in place) but must not overlap
 * rin. Returns n, or CC_ERR_ARG.
 */
int cc_echo_process(cc_echo_t *s, const int16_t *rin, const int16_t *sin, int16_t *sout, size_t n);

/**
 * Batch: nch channels; channel c's n samples start at rin + c*stride, sin + c*stride and
 * sout + c*stride (int16 elements). One call per 1 ms chunk covers a whole board. Returns n.
 * When all channels are at the same place in their 8-sample chunks (a bank's are), it runs
 * chunk by chunk across them and solves their projections 4 channels at a time (about 4 %
 * fewer cycles at 1024 taps); each channel's output is bit-identical to cc_echo_process().
 */
int cc_echo_process_batch(cc_echo_t *const *s, size_t nch, const int16_t *rin, const int16_t *sin,
                          int16_t *sout, size_t stride, size_t n);

#ifdef __cplusplus
}
#endif
#endif
