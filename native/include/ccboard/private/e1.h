/* E1 framer/deframer state layouts. Private: only the kernel and bindings that embed a state
 * include it. Neither state holds a pointer, so a state can be saved and restored as bytes. */
#ifndef CCBOARD_PRIVATE_E1_H
#define CCBOARD_PRIVATE_E1_H

#include "ccboard/e1.h"

#define CC_E1_TX_MAGIC 0x31585445u /* "ETX1" */
#define CC_E1_RX_MAGIC 0x31585245u /* "ERX1" */
#define CC_E1_CRC_BITS 4

/* Per-span transmit state. */
typedef struct {
    uint8_t crc4;        /* sends CRC-4 */
    uint8_t cas;         /* sends TS16 CAS */
    uint8_t ais;         /* sends all ones */
    uint8_t crc_prev;    /* CRC-4 of the previous SMF: the C bits of this one */
    uint8_t ts16[2][CC_E1_FRAMES]; /* TS16 of SMF I and SMF II, from the ABCD bits */
    uint8_t bits[CC_E1_TIMESLOTS]; /* ABCD per timeslot */
} cc_e1_tx_span_t;

struct cc_e1_tx_s {
    uint32_t magic;
    uint32_t spans;
    uint32_t half;       /* 0: this tick is SMF I (CAS frames 0-7); 1: SMF II */
    uint32_t phase;      /* half at init */
    uint64_t mask[CC_E1_CRC_BITS][CC_E1_TIMESLOTS]; /* CRC-4 bit i = parity of sum(word & mask[i]) */
    cc_e1_tx_span_t span[];
};

/* Per-span receive state (besides the public report). */
typedef struct {
    uint8_t crc4, cas;
    uint8_t search;      /* out of frame: 0 look for FAS, 1 saw FAS, 2 saw NFAS bit 2 */
    uint8_t mf_half;     /* the SMF this tick is, when multiframe-aligned */
    uint8_t mf_cand;     /* the previous tick looked like SMF I */
    uint8_t crc_prev;    /* remainder of the previous received SMF */
    uint8_t crc_valid;   /* crc_prev belongs to an aligned SMF */
    uint8_t cas_half;    /* the CAS half-multiframe this tick is, when aligned */
    uint8_t ts16_last;   /* TS16 of the previous tick's last frame */
    uint8_t reserved[7];
    int32_t bad_fas;     /* consecutive bad FAS words in frame */
    int32_t mf_wait;     /* ticks in frame without multiframe alignment */
    int32_t mf_bad;      /* consecutive bad multiframe patterns */
    int32_t cas_bad;     /* consecutive MFAS errors */
    uint8_t pending[CC_E1_TIMESLOTS]; /* ABCD read on the previous multiframe */
} cc_e1_rx_span_t;

struct cc_e1_rx_s {
    uint32_t magic;
    uint32_t spans;
    uint32_t dirty;      /* a counter changed since cc_e1_rx_take_dirty */
    uint32_t quiet;      /* every span in frame, no alarm */
    uint64_t mask[CC_E1_CRC_BITS][CC_E1_TIMESLOTS];
    /* then spans cc_e1_rx_status_t, then spans cc_e1_rx_span_t */
    cc_e1_rx_status_t status[];
};

#endif
