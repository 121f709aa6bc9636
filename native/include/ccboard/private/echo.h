/* Echo canceller state layout. Private: only the kernel and bindings that embed a state include
 * it. No pointers, so a state can be saved and restored as bytes. Sized for the longest tail,
 * so every channel's state has the same size (15,248 bytes). */
#ifndef CCBOARD_PRIVATE_ECHO_H
#define CCBOARD_PRIVATE_ECHO_H

#include "ccboard/echo.h"

#define CC_ECHO_MAGIC 0x32434345u /* "ECC2" */
/* history: the tail plus room for 32 chunks before it is shifted down */
#define CC_ECHO_HIST (CC_ECHO_MAX_TAPS + 32 * CC_ECHO_BLOCK)
/* 16 floats after the history that the AVX-512 loops may read (aligned blocks) but never use */
#define CC_ECHO_HIST_PAD 16
#define CC_ECHO_TONE_WIN 80 /* 2100 Hz is exactly 21 periods in 80 samples (10 ms) */

typedef struct {
    float zr, zi;          /* running 2100 Hz correlation over the window */
    float energy;          /* running energy over the window */
    float hr[3], hi[3];    /* the last three windows' correlations, newest first */
    int32_t tone_run;      /* windows in a row with the tone (one miss bridged) */
    int32_t misses;        /* windows in a row without it */
    int32_t refractory;    /* windows to wait after a reversal */
    int32_t reversals;     /* counted in the current tone */
} cc_echo_tone_t;

struct cc_echo_s {
    /* a 64-byte head, then the tap arrays, each a multiple of 64 bytes: in a 64-byte aligned
     * state (the bank's) they all start on a cache line (echo.c asserts the offsets) */
    uint32_t magic;
    cc_echo_config_t cfg;
    int32_t pos;            /* samples in the chunk being filled, 0..7 */
    int32_t hpos;           /* history index of the chunk's first sample */
    int64_t t;              /* samples consumed */
    uint8_t head_pad[24];
    float hist[CC_ECHO_HIST + CC_ECHO_HIST_PAD]; /* Rin' history, oldest first; then a pad */
    float w[CC_ECHO_MAX_TAPS];       /* background (adapting) coefficients, oldest tap first */
    float fg[CC_ECHO_MAX_TAPS];      /* foreground copy */
    /* per-sample values of the chunk being filled */
    float err[CC_ECHO_BLOCK];    /* Sin' - y: the cancelled residual */
    float sinf[CC_ECHO_BLOCK];   /* Sin after the high-pass */
    int16_t rraw[CC_ECHO_BLOCK]; /* Rin and Sin as received (the tone disabler's input) */
    int16_t sraw[CC_ECHO_BLOCK];
    float rin_blk;          /* sum of Rin'^2 over the chunk */
    float cur_max;          /* max |Rin'| in the chunk */
    float win_max;          /* max |Rin'| over the tail, as of the chunk's start */
    float win_power;        /* sum of Rin'^2 over the tail, as of the chunk's start (running) */
    int32_t dt_hang;        /* samples of double-talk hangover left */
    int32_t dt_block;       /* double talk seen in this chunk */
    int32_t far_active;     /* Rin over the tail loud enough to adapt and to run the NLP */
    int32_t nlp_on;         /* decided at chunk start */
    int32_t tone_disabled;
    int32_t quiet;          /* samples of silence while disabled */
    int32_t bypass;
    int32_t tone_ph;        /* index mod 80 of the chunk's first sample */
    float geigel;           /* 10^(-geigel_db/20) */
    int32_t better, worse;  /* two-path guard decision counters */
    int32_t acc_n;          /* evaluated chunks in the sums below */
    float acc_e, acc_f, acc_s; /* background error, foreground error, Sin energies */
    int32_t lag_age;        /* chunks until the projection's shape is refreshed */
    float rho[CC_ECHO_BLOCK]; /* normalised lag products of the regressors */
    /* high-pass state (DC blocker), Rin and Sin */
    float hp_rx1, hp_ry1, hp_sx1, hp_sy1;
    /* smoothed powers (per chunk, mean square) */
    float p_rin, p_sin, p_res;       /* any time */
    float s_rin, s_sin, s_res;       /* far-end single talk only: ERL, ERLE */
    float noise, r0, r1;             /* background power and lag-0/1 correlation (comfort noise) */
    float cng_y;                     /* comfort-noise filter state */
    float cng_a, cng_g;              /* its pole and gain, set at chunk start */
    uint32_t cng_seed;
    uint32_t dt_count, transfers, rollbacks, tone_disables;
    cc_echo_tone_t tone[2];          /* Rin, Sin */
    float gnorm[CC_ECHO_MAX_TAPS / CC_ECHO_GROUP]; /* sum |w| per group of taps */
    /* per chunk of history (index = history index / 8): sum of Rin'^2 and max |Rin'| */
    float benergy[CC_ECHO_HIST / CC_ECHO_BLOCK];
    float bmax[CC_ECHO_HIST / CC_ECHO_BLOCK];
};

#endif
