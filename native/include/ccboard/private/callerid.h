/* Caller ID state layouts. Private: only the kernel and bindings that embed a state include it.
 * No pointers inside, so states can be saved and restored as bytes. */
#ifndef CCBOARD_PRIVATE_CALLERID_H
#define CCBOARD_PRIVATE_CALLERID_H

#include "ccboard/callerid.h"
#include "ccboard/private/dtmf.h"

#define CC_CID_RX_MAGIC 0x31524943u /* "CIR1" */
#define CC_CID_TX_MAGIC 0x31544943u /* "CIT1" */
#define CC_CID_WIN 7                /* correlator taps: about one bit (6.67 samples) */

struct cc_cid_rx_s {
    uint32_t magic;
    int32_t channel;
    cc_cid_rx_config_t cfg;
    float coef[4][CC_CID_WIN]; /* mark cos, mark sin, space cos, space sin (oldest tap first) */
    float min_e;               /* e floor for the carrier, from min_level_dbm0 */
    float hist[CC_CID_WIN - 1];/* the last samples of the previous call */
    float prev_d;              /* d of the sample before the current call */
    int64_t t;                 /* samples consumed */
    /* FSK slicer */
    double next_bit;           /* sample time of the next bit centre (BITS) */
    int64_t edge_at;           /* sample of the current octet's start edge */
    int64_t msg_start;
    int64_t framing_errors;
    int64_t checksum_errors;
    int32_t state;             /* 0 hunt, 1 reading bits */
    int32_t bit;               /* next bit to read: 0 start .. 9 stop */
    int32_t octet;
    int32_t armed;             /* hunt: a mark sample has been seen since the last octet */
    int32_t mark_run;          /* samples of carrier mark in a row */
    int32_t gap;               /* samples without carrier in a row */
    int32_t ready;             /* >= 10 bits of mark seen: octets belong to a message */
    float level;               /* e at the first octet's stop bit */
    int32_t msg_len;
    /* DTMF */
    int64_t last_digit_at;
    cc_dtmf_rx_t dtmf;
    uint8_t msg[CC_CID_MSG_MAX + 2];
};

struct cc_cid_tx_s {
    uint32_t magic;
    cc_cid_tx_config_t cfg;
    double amp_mark;           /* peak, int16 scale */
    double amp_space;
    uint32_t phase;            /* FSK carrier phase, 2^32 = one turn */
    uint32_t inc_mark;
    uint32_t inc_space;
    int32_t bit_acc;           /* position inside the bit, in 1/bit_den samples */
    int32_t bit_num;           /* samples per bit numerator (bit_den units) */
    int32_t bit_den;
    int32_t active;
    int32_t cur_bit;           /* the bit sounding */
    int64_t bit_index;         /* bits sent of this message */
    int64_t total_bits;
    int64_t remaining;         /* samples */
    int32_t len;
    int32_t reserved;
    cc_dtmf_tx_t dtmf;
    uint8_t msg[CC_CID_MSG_MAX + 2];
};

#endif
