/* Call progress analyser state. No pointers: a state saves and restores as bytes; every
 * derived table is recomputed from cfg on restore. */
#ifndef CCBOARD_PRIVATE_CPA_H
#define CCBOARD_PRIVATE_CPA_H

#include "ccboard/cpa.h"

#define CC_CPA_MAGIC 0x31415043u /* "CPA1" */
#define CC_CPA_HISTORY 16
#define CC_CPA_MAX_PATTERN 16

typedef struct {
    int16_t label;          /* 0 = off, else class + 1 */
    int16_t reserved;
    int32_t dur;            /* samples; 0 = for ever (the last segment of a one-shot) */
} cc_cpa_seg_t;

typedef struct {
    int32_t n;              /* segments; 0 = none */
    int32_t looped;         /* the segments repeat */
    int32_t group;          /* ringback: segments in one ring (from the first tone to the last) */
    int32_t reserved;
    cc_cpa_seg_t seg[CC_CPA_MAX_PATTERN];
} cc_cpa_pattern_t;

typedef struct {
    int32_t nf;             /* 1 or 2 frequencies */
    int32_t fi[2];          /* indexes into freq[] */
    int32_t reserved;
    float ginv[4][4];       /* inverse Gram matrix of its sinusoids over the 160-sample window */
} cc_cpa_class_t;

struct cc_cpa_s {
    uint32_t magic;
    int32_t channel;
    cc_cpa_config_t cfg;
    /* derived from cfg */
    int32_t nfreq, nclass;
    int32_t dial_class;     /* label of dial tone, 0 if none */
    int32_t fax_class[2];   /* labels of 1100 and 2100 Hz */
    int32_t dial_samples;
    float freq[CC_CPA_MAX_FREQS];
    float rot[CC_CPA_MAX_FREQS][2];     /* exp(-i w 80): joins the two blocks of the window */
    int16_t basis[CC_CPA_MAX_FREQS][2][CC_CPA_BLOCK]; /* Q9 cos, sin */
    cc_cpa_class_t cls[CC_CPA_MAX_CLASSES];
    cc_cpa_pattern_t pat[CC_CPA_TONES];
    float min_power, voice_power;
    /* running */
    int64_t t;
    int32_t fill;
    int32_t have_prev;
    float prev_bins[CC_CPA_MAX_FREQS][2];
    float prev_energy;
    float floor;            /* noise floor, mean square */
    int32_t label;          /* debounced label */
    int32_t cand, cand_count;
    int64_t cand_start;
    int64_t seg_start;      /* of the open segment */
    double seg_level;       /* sum of fit powers over the open segment */
    int32_t seg_blocks;
    int32_t nhist;
    int64_t hist_start[CC_CPA_HISTORY];
    cc_cpa_seg_t hist[CC_CPA_HISTORY];
    float hist_level[CC_CPA_HISTORY];
    int32_t rings;
    int32_t learnt_on, learnt_off;      /* learnt ring cadence, samples; 0 = none */
    float voice_acc;        /* voice blocks, leaky */
    int64_t voice_start;
    double voice_level;
    uint32_t reported;      /* bit per event kind already sent */
    int32_t dial_done;      /* DIAL sent for the open segment */
    int32_t fax_done;
    int16_t buf[CC_CPA_BLOCK];
};

#endif
