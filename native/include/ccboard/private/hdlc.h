/* HDLC state layouts and tables. Private: only the kernel and bindings that embed a state include it.
 * Neither struct holds a pointer, so a state can be saved and restored as bytes. */
#ifndef CCBOARD_PRIVATE_HDLC_H
#define CCBOARD_PRIVATE_HDLC_H

#include "ccboard/hdlc.h"

#define CC_HDLC_RX_MAGIC 0x31524448u /* "HDR1" */
#define CC_HDLC_TX_MAGIC 0x31544448u /* "HDT1" */
#define CC_HDLC_FCS_GOOD 0xF0B8u     /* residue of a frame with a good FCS */

struct cc_hdlc_rx_s {
    uint32_t magic;
    int32_t channel;
    cc_hdlc_rx_config_t cfg;
    uint32_t acc;        /* unstuffed bits not yet in buf, bit 0 first; the last 6 are kept back
                            because they may be a flag's leading 0 and five 1s */
    int64_t pos;         /* bits consumed */
    cc_hdlc_rx_stats_t stats;
    int32_t nacc;        /* bits in acc: 0..13 */
    int32_t len;         /* octets in buf */
    uint16_t crc;        /* running FCS over buf */
    uint8_t ones;        /* 1s in a row on the line, saturating at 7 */
    uint8_t in_frame;    /* 1 after a flag; 0 while hunting */
    uint64_t same;       /* (octet, ones, in_frame, nacc, acc) of an octet seen to leave the state as
                            it found it, with no frame: idle flags at any bit offset, mark idle */
    uint8_t buf[CC_HDLC_MAX_FRAME + 4];
};

/* Transmitter phases. */
enum { CC_HDLC_TX_IDLE = 0, CC_HDLC_TX_DATA = 1, CC_HDLC_TX_FCS = 2 };

struct cc_hdlc_tx_s {
    uint32_t magic;
    cc_hdlc_tx_config_t cfg;
    int64_t pos;         /* bits generated */
    cc_hdlc_tx_stats_t stats;
    uint64_t acc;        /* stuffed line bits not yet written, bit 0 first */
    int32_t nacc;        /* bits in acc: 0..64 */
    int32_t phase;       /* CC_HDLC_TX_IDLE / DATA / FCS */
    uint32_t head;       /* ring index of the next octet to send */
    uint32_t count;      /* octets queued and not sent */
    uint32_t fhead;      /* flen index of the front frame */
    uint32_t fcount;     /* frames queued, the one being sent included */
    uint32_t sent;       /* octets of the front frame sent (DATA) or FCS octets sent (FCS) */
    uint32_t flen[CC_HDLC_TX_FRAMES]; /* octets of each queued frame (so far, for an open one) */
    uint16_t crc;        /* running FCS of the front frame */
    uint8_t ones;        /* 1s in a row at the end of acc, inside a frame: 0..4 */
    uint8_t flags;       /* flags in a row just sent, saturating at 255 */
    uint8_t open;        /* the last queued frame waits for more octets */
    uint8_t discard;     /* the open frame was aborted: drop its octets up to its closing put */
    uint8_t reserved[2];
    uint8_t ring[CC_HDLC_TX_RING];
};

extern const uint16_t cc_hdlc_fcs_table[256];
extern const uint32_t cc_hdlc_tx_stuff[5][256];
extern const uint8_t cc_hdlc_rx_plain[8][256];

static inline uint16_t cc_hdlc_fcs_byte(uint16_t crc, uint8_t b)
{
    return (uint16_t)((crc >> 8) ^ cc_hdlc_fcs_table[(crc ^ b) & 0xFF]);
}

#endif
