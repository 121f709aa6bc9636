/*
 * E1 framing (ITU-T G.704 section 2.3, G.706 section 4, G.732 section 5) for many spans at once.
 *
 * What: the transmit framer writes TS0 (FAS/NFAS words, CRC-4 C bits, multiframe M bits, RAI
 * A bit, E bits) and TS16 (CAS multiframe: MFAS, then ABCD of two channels per frame) around
 * the payload of a tick; the receive deframer reads a tick's bits and keeps, per span, frame
 * alignment, CRC-4 multiframe alignment, CAS multiframe alignment, the alarms (LOS, AIS, loss
 * of frame, RAI, loss of CRC-4 multiframe), the counters (FAS errors, CRC-4 errors, E-bit
 * errors) and the ABCD bits of every timeslot. A tick is 1 ms: 8 frames of 32 timeslots, held
 * as one (spans x 32 x 8) octet array [span][timeslot][frame], so a timeslot's 8 octets are one
 * row as in the board's audio arrays. One tick is exactly one CRC-4 sub-multiframe (SMF); two
 * ticks are a CRC-4 multiframe and a TS16 CAS multiframe. Spans are independent; one call
 * handles all of them (the batch form).
 *
 * TS0 (MSB = bit 1, first on the wire):
 *   even frames, FAS   C 0 0 1 1 0 1 1   C = CRC-4 bit C1..C4 of the previous SMF (1 without CRC-4)
 *   odd frames, NFAS   M 1 A 1 1 1 1 1   M = multiframe bit (SMF I: 0 0 1 0; SMF II: 1 1 E1 E2),
 *                                        A = remote alarm (RAI), Sa4..Sa8 = 1
 * TS16 (CAS spans): frame 0 = 0000 1011 (MFAS), frame n = ABCD of TS n | ABCD of TS n+16.
 *
 * How. CRC-4 is linear over GF(2): each CRC bit is the parity of the SMF's bits under a fixed
 * mask. The 8 octets of a timeslot are read as one little-endian 64-bit word, so bit i of the
 * CRC is the parity of the XOR over 32 words of (word AND mask[i][timeslot]): 128 ANDs and XORs
 * and 4 parities per span instead of 2048 serial bit steps. The masks are built at init from
 * x^k mod (x^4 + x + 1), with the C bits (TS0 MSB of even frames) counted as zero (G.704 2.3.3.5).
 *
 * Receiver rules: LOS = a tick with no pulse (all zero, G.775); AIS = every 512-bit window of a
 * tick with at most 2 zeros (G.775); both only looked for in a tick whose FAS words fail. Loss of
 * frame alignment after 3 consecutive bad FAS words (G.706 4.1.1); regained by FAS, NFAS bit 2 =
 * 1, FAS (4.1.2). CRC-4 multiframe alignment from the SMF I pattern 0010 then SMF II's 11 on the
 * next tick (4.2), lost after 2 consecutive bad patterns, loss reported after 8 ms of search;
 * CRC-4 errors compare the received C bits with the remainder of the previous received SMF and
 * are sent back in E1/E2; E-bit errors count the far end's reports. RAI = A bit set in at least 3
 * of the tick's 4 NFAS words while in frame. CAS multiframe alignment: MFAS (0000 in the high
 * nibble) after a non-zero TS16 octet, lost after 2 consecutive MFAS errors (G.732 5.2); an ABCD
 * change counts once it reads the same on two multiframes running.
 *
 * Meets (native/tests/test_e1.c, tests/board/test_e1_kernel.py): CRC-4 equal to the bit-serial
 * G.704 remainder for any SMF; framer -> deframer aligns (frame, CRC-4, CAS) from any phase and
 * reports no error on a clean line; each injected error is counted once and echoed in the E
 * bits; ABCD changes reach the far end; LOS/AIS/RAI follow the line.
 */
#ifndef CCBOARD_E1_H
#define CCBOARD_E1_H

#include "ccboard/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Timeslots per frame and frames per tick (1 ms). */
#define CC_E1_TIMESLOTS 32
#define CC_E1_FRAMES 8
/** Octets of one span's tick. */
#define CC_E1_TICK_OCTETS (CC_E1_TIMESLOTS * CC_E1_FRAMES)
/** Spans one state handles, at most. */
#define CC_E1_MAX_SPANS 1024

/** What the receiver reports per span; 104 bytes, no padding, mirrored by a numpy dtype. */
typedef struct {
    uint8_t los;         /**< no pulses in the last tick */
    uint8_t ais;         /**< all ones (AIS, blue) */
    uint8_t in_frame;    /**< frame alignment held */
    uint8_t yellow;      /**< RAI received (the far end lost our signal) */
    uint8_t lmfa;        /**< CRC-4 multiframe alignment not found for more than 8 ms */
    uint8_t mf_aligned;  /**< CRC-4 multiframe alignment held */
    uint8_t cas_aligned; /**< TS16 CAS multiframe alignment held */
    uint8_t red;         /**< los or not in_frame: what our RAI tells the far end */
    uint8_t e_out[2];    /**< E1, E2 to send back (1 = no CRC-4 error seen in that SMF) */
    uint8_t reserved[6];
    int64_t fas_errors;  /**< bad FAS words while in frame */
    int64_t crc_errors;  /**< SMFs whose C bits differ from our remainder */
    int64_t ebit_errors; /**< E bits = 0 received (the far end's CRC-4 errors) */
    uint8_t rx_bits[CC_E1_TIMESLOTS];  /**< ABCD per timeslot, after the two-multiframe check */
    uint8_t raw_bits[CC_E1_TIMESLOTS]; /**< ABCD per timeslot as last read */
} cc_e1_rx_status_t;

/** One ABCD change found by the receiver. */
typedef struct {
    int32_t span;
    int32_t timeslot;
} cc_e1_change_t;

typedef struct cc_e1_tx_s cc_e1_tx_t;
typedef struct cc_e1_rx_s cc_e1_rx_t;

/** The CRC-4 (0..15, C1 = bit 3) of each of n spans' ticks, C bits taken as zero. */
int cc_e1_crc4(const uint8_t *frames, size_t n, uint8_t *crc);

/* ---- transmitter ---- */

/** Bytes of a framer state for `spans` spans (0 if out of range). */
size_t cc_e1_tx_state_size(uint32_t spans);
/**
 * Initialise a framer in mem (cc_e1_tx_state_size bytes, 8-byte aligned) or allocate one when
 * mem is NULL. crc4[i], cas[i]: 1 if span i sends CRC-4 / TS16 CAS (else TS16 is payload, e.g.
 * a D-channel). phase 1 starts on SMF II (a far end out of step with us). ABCD idle 1001.
 */
cc_e1_tx_t *cc_e1_tx_init(void *mem, uint32_t spans, const uint8_t *crc4, const uint8_t *cas, int phase);
/** Back to the state after init (same spans and phase). */
int cc_e1_tx_reset(cc_e1_tx_t *s);
int cc_e1_tx_release(cc_e1_tx_t *s);
/** Free a state that init allocated. */
int cc_e1_tx_free(cc_e1_tx_t *s);
/** Bytes of this state (what a save holds; it contains no pointer). */
size_t cc_e1_tx_size(const cc_e1_tx_t *s);
/** Load a saved state of the same span count; CC_ERR_STATE, s unchanged, if it is not one. */
int cc_e1_tx_restore(cc_e1_tx_t *s, const void *saved, size_t len);
uint32_t cc_e1_tx_spans(const cc_e1_tx_t *s);
/** ABCD (low 4 bits) to send on timeslot ts (1..31, not 16) of span; from the next tick. */
int cc_e1_tx_set_bits(cc_e1_tx_t *s, uint32_t span, uint32_t ts, uint8_t bits);
int cc_e1_tx_get_bits(const cc_e1_tx_t *s, uint32_t span, uint32_t ts);
/** Send AIS (unframed all ones) on span instead of the frames (on = 1), or frames again. */
int cc_e1_tx_set_ais(cc_e1_tx_t *s, uint32_t span, int on);
int cc_e1_tx_get_ais(const cc_e1_tx_t *s, uint32_t span);
/**
 * Frame one tick: write TS0 (and TS16 on CAS spans) of frames (spans x 32 x 8, the payload
 * already in place), remember each SMF's CRC-4 for the next tick's C bits, then overwrite AIS
 * spans with ones. rx: the receiver of the same spans at this end, or NULL; like a framer chip,
 * its red alarm sets our A bit (RAI) and its E bits are sent back. rai: NULL or spans octets,
 * non-zero forces RAI on that span.
 */
int cc_e1_tx_process(cc_e1_tx_t *s, uint8_t *frames, const cc_e1_rx_t *rx, const uint8_t *rai);

/* ---- receiver ---- */

size_t cc_e1_rx_state_size(uint32_t spans);
/** Initialise a deframer (mem or NULL as for the framer); starts out of frame, ABCD 1001. */
cc_e1_rx_t *cc_e1_rx_init(void *mem, uint32_t spans, const uint8_t *crc4, const uint8_t *cas);
int cc_e1_rx_reset(cc_e1_rx_t *s);
int cc_e1_rx_release(cc_e1_rx_t *s);
int cc_e1_rx_free(cc_e1_rx_t *s);
size_t cc_e1_rx_size(const cc_e1_rx_t *s);
int cc_e1_rx_restore(cc_e1_rx_t *s, const void *saved, size_t len);
uint32_t cc_e1_rx_spans(const cc_e1_rx_t *s);
/** The spans' reports (an array of cc_e1_rx_spans() entries inside the state). */
const cc_e1_rx_status_t *cc_e1_rx_status(const cc_e1_rx_t *s);
/** 1 if, after the last tick, every span is in frame with no alarm (LOS, AIS, RAI, LMFA). */
int cc_e1_rx_quiet(const cc_e1_rx_t *s);
/** 1 if a counter changed since the last call of this function (which clears it). */
int cc_e1_rx_take_dirty(cc_e1_rx_t *s);
/**
 * Read one tick (spans x 32 x 8). ABCD changes go to changes (span order, then timeslot);
 * returns their number, or CC_ERR_SPACE (nothing read) if max_changes < 30 * spans.
 */
int cc_e1_rx_process(cc_e1_rx_t *s, const uint8_t *frames, cc_e1_change_t *changes, size_t max_changes);

#ifdef __cplusplus
}
#endif
#endif
