/* Fax/modem tone states. No pointers: states save and restore as bytes. */
#ifndef CCBOARD_PRIVATE_FAXTONE_H
#define CCBOARD_PRIVATE_FAXTONE_H

#include "ccboard/faxtone.h"

#define CC_FAXTONE_RX_MAGIC 0x31524146u /* "FAR1" */
#define CC_FAXTONE_TX_MAGIC 0x31544146u /* "FAT1" */
#define CC_FAXTONE_AM_BLOCKS 20           /* 200 ms: exactly 3 periods of 15 Hz */

/* one tone (0: 1100 Hz, 1: 2100 Hz) being tracked */
typedef struct {
    int64_t start;          /* first sample of the run */
    int64_t end;            /* one past its last hit block */
    int64_t last_rev;       /* sample of the last reversal, -1 if none */
    double freq_sum;        /* sum of per-block frequency offsets (Hz) */
    double level_sum;       /* sum of per-block tone powers */
    float prev_re, prev_im; /* the last hit block's bin */
    float prev_mag;
    float ref_mag;          /* magnitude of a clean block */
    float env[CC_FAXTONE_AM_BLOCKS]; /* envelope of the last blocks, ring */
    float am_depth;
    int32_t hits;           /* blocks in the run */
    int32_t misses;         /* blocks in a row without it */
    int32_t freq_n;
    int32_t reversals;
    uint8_t active;         /* a run is open */
    uint8_t reported;       /* TONE event sent */
    uint8_t ec_sent;
    uint8_t tone;           /* the tone reported */
} cc_faxtone_track_t;

struct cc_faxtone_rx_s {
    uint32_t magic;
    int32_t channel;
    cc_faxtone_rx_config_t cfg;
    float min_power;
    int32_t fill;
    int64_t t;
    cc_faxtone_track_t tr[2];
    int16_t buf[CC_FAXTONE_BLOCK];
};

struct cc_faxtone_tx_s {
    uint32_t magic;
    int32_t tone;
    float level_dbm0;
    int32_t duration;       /* samples, 0 = for ever */
    int64_t pos;
};

#endif
