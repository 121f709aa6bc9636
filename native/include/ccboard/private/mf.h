/* MF R1 / MFC-R2 state layouts. Private: only the kernel and bindings that embed a state include
 * it. Neither struct holds a pointer, so a state can be saved and restored as bytes. */
#ifndef CCBOARD_PRIVATE_MF_H
#define CCBOARD_PRIVATE_MF_H

#include "ccboard/mf.h"

#define CC_MF_RX_MAGIC 0x3152464Du /* "MFR1": tells a saved state from stray bytes */
#define CC_MF_TX_MAGIC 0x3154464Du /* "MFT1" */

struct cc_mf_rx_s {
    uint32_t magic;
    int32_t channel;
    int32_t mode;           /* cc_mf_mode */
    cc_mf_rx_config_t cfg;
    /* cfg turned into power ratios and int16-scale mean-square powers */
    float min_power;
    float max_power;
    float twist_adj;
    float twist;
    float third;
    float min_fraction;
    float freq_tol_hz[6];   /* per tone: hz + pct of the tone */
    int32_t min_on;         /* samples */
    int32_t min_on_kp;
    int64_t t;              /* samples consumed */
    int64_t run_start;      /* first sample of the current run of hit blocks */
    int64_t sig_start;      /* of the signal in progress */
    int64_t sig_end;        /* one past its last hit block */
    float level_low;        /* of the signal in progress, dBm0 (measured at onset) */
    float level_high;
    float prev_power[6];    /* the previous block's tone powers (least squares) */
    float prev_coef[12];    /* and its cos/sin coefficients, for the onset frequency check */
    int32_t run_lead;       /* samples of tone before the run, seen in the block before it */
    int32_t fill;           /* samples in the block being filled */
    uint8_t run_sig;        /* signal of the current run of hit blocks; 0 after a miss */
    uint8_t run_len;        /* blocks in that run (saturates) */
    uint8_t sig;            /* signal in progress, 0 if none */
    uint8_t misses;         /* blocks in a row without it */
    uint8_t reserved[4];
    int16_t buf[CC_MF_BLOCK]; /* the block being filled */
};

typedef struct {
    uint8_t signal;         /* 1..15 */
    uint8_t reserved[3];
    int32_t on_samples;     /* -1: until cc_mf_tx_stop */
    int32_t off_samples;
    float amp_low;          /* peak, int16 scale */
    float amp_high;
} cc_mf_tx_item_t;

struct cc_mf_tx_s {
    uint32_t magic;
    int32_t mode;
    cc_mf_tx_config_t cfg;
    cc_mf_tx_item_t queue[CC_MF_TX_QUEUE];
    uint32_t head;          /* next item to sound */
    uint32_t count;         /* items queued, including the one sounding */
    int32_t pos;            /* samples into the current item (on then off) */
    int32_t active;         /* the head item's oscillators are running */
    int64_t t;              /* samples generated */
    double osc_low[2];      /* resonator state y[n-1], y[n-2] */
    double osc_high[2];
    double coeff_low;       /* 2 cos(w) */
    double coeff_high;
};

#endif
