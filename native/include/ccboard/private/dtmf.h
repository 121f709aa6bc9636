/* DTMF state layouts. Private: only the kernel and bindings that embed a state include it.
 * Neither struct holds a pointer, so a state can be saved and restored as bytes. */
#ifndef CCBOARD_PRIVATE_DTMF_H
#define CCBOARD_PRIVATE_DTMF_H

#include "ccboard/dtmf.h"

#define CC_DTMF_RX_MAGIC 0x31525444u /* "DTR1": tells a saved state from stray bytes */
#define CC_DTMF_TX_MAGIC 0x31545444u /* "DTT1" */

struct cc_dtmf_rx_s {
    uint32_t magic;
    int32_t channel;
    cc_dtmf_rx_config_t cfg;
    /* cfg turned into power ratios and int16-scale mean-square powers */
    float min_power;
    float normal_twist;
    float reverse_twist;
    float freq_tol;
    float min_fraction;
    float max_harmonic;
    int64_t t;              /* samples consumed */
    int64_t run_start;      /* first sample of the current run of hit blocks */
    int64_t digit_start;    /* of the digit in progress */
    int64_t digit_end;      /* one past its last hit block */
    float level_low;        /* of the digit in progress, dBm0 (measured at onset) */
    float level_high;
    float prev_power[8];    /* the previous block's tone bin powers */
    int32_t run_lead;       /* samples of tone before the run, seen in the block before it */
    int32_t fill;           /* samples in the block being filled */
    uint8_t run_digit;      /* digit of the current run of hit blocks; 0 after a miss */
    uint8_t run_len;        /* blocks in that run (saturates) */
    uint8_t digit;          /* digit in progress, 0 if none */
    uint8_t misses;         /* blocks in a row without the digit in progress */
    uint8_t digit_row;      /* its tone bins: 0..3 */
    uint8_t digit_col;      /* 4..7 */
    uint8_t reserved[2];
    int16_t buf[2 * CC_DTMF_BLOCK]; /* the previous block, then the block being filled */
};

typedef struct {
    uint8_t digit;
    uint8_t reserved[3];
    int32_t on_samples;
    int32_t off_samples;
    float amp_low;          /* peak, int16 scale */
    float amp_high;
} cc_dtmf_tx_item_t;

struct cc_dtmf_tx_s {
    uint32_t magic;
    cc_dtmf_tx_config_t cfg;
    cc_dtmf_tx_item_t queue[CC_DTMF_TX_QUEUE];
    uint32_t head;          /* next item to sound */
    uint32_t count;         /* items queued, including the one sounding */
    int32_t pos;            /* samples into the current item (on then off) */
    int32_t active;         /* an item is sounding */
    double osc_low[2];      /* resonator state y[n-1], y[n-2] */
    double osc_high[2];
    double coeff_low;       /* 2 cos(w) */
    double coeff_high;
};

#endif
