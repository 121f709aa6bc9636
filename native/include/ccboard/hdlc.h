/*
 * HDLC framing for D-channels (ISDN PRI/BRI, Q.921 LAPD at 64 or 16 kb/s).
 *
 * What: the bit-level layer of Q.921 section 2 / ISO 13239: flags (0x7E) open and close
 * frames, a 0 is inserted after five 1s in a row inside a frame (bit stuffing), seven or
 * more 1s in a row abort a frame, the channel idles as flags or as all 1s (mark idle), and
 * each frame ends in a 16-bit FCS (CRC-16/X.25: x^16 + x^12 + x^5 + 1, preset 0xFFFF, sent
 * complemented, low octet first; a good frame leaves the residue 0xF0B8).
 *
 * Line format: octets as a DAHDI D-channel hands them over (8 per 1 ms tick at 64 kb/s),
 * bit 0 (the least significant bit) of each octet first on the line. The *_bits entries
 * take and give any number of bits packed the same way, so a stream can be cut anywhere.
 *
 * Receiver. How: an octet whose bits are all data (no stuffed 0, flag or abort, given the
 * 1s in a row before it; a 2 KiB table says so) is appended to the frame in one step;
 * other octets go bit by bit. The FCS is updated one octet at a time from a table. A frame
 * closes on a flag; it is delivered with a status: OK, BAD_FCS, NON_OCTET (bits between
 * the flags not a whole number of octets), TOO_SHORT (< min_len + 2 octets between the
 * flags), TOO_LONG (more than max_len + 2 octets: the receiver then hunts for a flag) or
 * ABORT (seven 1s after data). Flags shared between frames (one flag closes a frame and
 * opens the next), flags sharing their 0 bits, and 1s after a closing flag (mark idle) are
 * not events. Every decision is in the state, with the bit position since init or reset:
 * any split of the stream gives the same frames at the same positions.
 *
 * Transmitter. What: a queue of frames (whole, or written progressively with more=1),
 * at least min_flags flags between frames (1 = shared flag), idle as flags or mark, an
 * abort (eight 1s) when a frame in progress runs out of queued data (underrun) or on
 * request. How: each data octet is stuffed in one table step (the 1s in a row before it
 * select the row), FCS by table, bits gathered in a 64-bit word and written as octets.
 *
 * Meets (tests/dsp/test_hdlc.py writes build/conformance/hdlc.md and asserts each row): any
 * payload round-trips (0x7E and 0xFF payloads included), shared and multiple flags, abort
 * detection, minimum length, FCS check, stuffing after five 1s; byte-identical frames both
 * ways with libspandsp 0.0.6 hdlc_tx/hdlc_rx.
 */
#ifndef CCBOARD_HDLC_H
#define CCBOARD_HDLC_H

#include "ccboard/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest max_len either side accepts, in octets without the FCS (Q.921 N201 is 260 + 4 header). */
#define CC_HDLC_MAX_FRAME 2048
/** Default max_len: Q.921 address (2) + control (2) + N201 (260) octets. */
#define CC_HDLC_Q921_MAX 264
/** Default min_len: Q.921 address (2) + control (1), so 5 octets between flags with the FCS. */
#define CC_HDLC_Q921_MIN 3
/** Transmit queue: octets of frame data and frames held at once. */
#define CC_HDLC_TX_RING 4096
#define CC_HDLC_TX_FRAMES 32

/** Frame status. */
enum {
    CC_HDLC_OK = 0,
    CC_HDLC_BAD_FCS = 1,
    CC_HDLC_ABORT = 2,
    CC_HDLC_TOO_LONG = 3,
    CC_HDLC_TOO_SHORT = 4,
    CC_HDLC_NON_OCTET = 5,
};

/** Idle pattern between frames. */
enum { CC_HDLC_IDLE_FLAGS = 0, CC_HDLC_IDLE_MARK = 1 };

/** One received frame; 24 bytes, no padding, mirrored by a numpy structured dtype. */
typedef struct {
    int32_t channel;   /**< channel id given at init */
    uint8_t status;    /**< CC_HDLC_OK ... CC_HDLC_NON_OCTET */
    uint8_t reserved[3];
    int64_t position;  /**< bit index (since init/reset) of the bit that decided it: the closing
                            flag's last bit, the 7th 1 of an abort, the first octet too many */
    uint32_t offset;   /**< its octets start at data + offset */
    uint32_t length;   /**< octets: OK/BAD_FCS without the FCS; others every whole octet received */
} cc_hdlc_frame_t;

typedef struct {
    int32_t min_len;    /**< octets without FCS, at least; default CC_HDLC_Q921_MIN, 0..max_len */
    int32_t max_len;    /**< octets without FCS, at most; default CC_HDLC_Q921_MAX, 1..CC_HDLC_MAX_FRAME */
    int32_t report_bad; /**< 1: bad frames are delivered too (with their status); 0: counted only */
} cc_hdlc_rx_config_t;

typedef struct {
    uint64_t good;      /**< frames with a good FCS */
    uint64_t bad_fcs;
    uint64_t aborts;
    uint64_t too_long;
    uint64_t too_short;
    uint64_t non_octet;
    uint64_t octets;    /**< in good frames, without the FCS */
} cc_hdlc_rx_stats_t;

typedef struct cc_hdlc_rx_s cc_hdlc_rx_t;

void cc_hdlc_rx_config_default(cc_hdlc_rx_config_t *cfg);
/** Initialise s (or allocate one when s is NULL). cfg NULL = defaults. NULL on bad cfg or no memory. */
cc_hdlc_rx_t *cc_hdlc_rx_init(cc_hdlc_rx_t *s, const cc_hdlc_rx_config_t *cfg, int32_t channel);
/** Back to the state after init: hunting for a flag, bit position 0, statistics 0. */
int cc_hdlc_rx_reset(cc_hdlc_rx_t *s);
int cc_hdlc_rx_release(cc_hdlc_rx_t *s);
int cc_hdlc_rx_free(cc_hdlc_rx_t *s);
/** sizeof the state (it holds no pointers, so it can be copied as bytes). */
size_t cc_hdlc_rx_state_size(void);
/** Load a saved state; CC_ERR_STATE, s unchanged, if the bytes are not a receiver state. */
int cc_hdlc_rx_restore(cc_hdlc_rx_t *s, const void *saved, size_t len);
int cc_hdlc_rx_stats(const cc_hdlc_rx_t *s, cc_hdlc_rx_stats_t *out);
int32_t cc_hdlc_rx_channel(const cc_hdlc_rx_t *s);
/** Bits consumed since init/reset. */
int64_t cc_hdlc_rx_position(const cc_hdlc_rx_t *s);

/** The most frames one call over nbits bits can deliver. */
size_t cc_hdlc_rx_max_frames(size_t nbits);
/** The most octets of frame data one call over nbits bits can deliver for s's settings. */
size_t cc_hdlc_rx_max_data(const cc_hdlc_rx_t *s, size_t nbits);

/**
 * Feed nbits bits (x[0] bit 0 first). Frames go to fr, their octets to data. Returns the
 * number of frames, CC_ERR_SPACE (nothing consumed) if max_fr < cc_hdlc_rx_max_frames(nbits)
 * or max_data < cc_hdlc_rx_max_data(s, nbits), CC_ERR_ARG on a bad argument.
 */
int cc_hdlc_rx_process_bits(cc_hdlc_rx_t *s, const uint8_t *x, size_t nbits, cc_hdlc_frame_t *fr,
                            size_t max_fr, uint8_t *data, size_t max_data);
/** Feed n octets: cc_hdlc_rx_process_bits over 8 n bits. */
int cc_hdlc_rx_process(cc_hdlc_rx_t *s, const uint8_t *x, size_t n, cc_hdlc_frame_t *fr, size_t max_fr,
                       uint8_t *data, size_t max_data);
/**
 * Batch: nch receivers; channel c's n octets start at x + c * stride. Frames of all channels
 * in channel order, offsets into the one data buffer. max_fr and max_data must cover the sum
 * of each channel's bounds for 8 n bits.
 */
int cc_hdlc_rx_process_batch(cc_hdlc_rx_t *const *s, size_t nch, const uint8_t *x, size_t stride, size_t n,
                             cc_hdlc_frame_t *fr, size_t max_fr, uint8_t *data, size_t max_data);

/* ---- transmitter ---- */

typedef struct {
    int32_t min_flags; /**< flags from one frame's FCS to the next frame, 1..255; default 1 (shared) */
    int32_t idle;      /**< CC_HDLC_IDLE_FLAGS (default, Q.921) or CC_HDLC_IDLE_MARK */
    int32_t max_len;   /**< octets without FCS; default CC_HDLC_Q921_MAX, 1..CC_HDLC_MAX_FRAME */
} cc_hdlc_tx_config_t;

typedef struct {
    uint64_t frames;    /**< closed with FCS and flag */
    uint64_t aborts;    /**< all aborts, underruns included */
    uint64_t underruns; /**< frames in progress that ran out of data */
    uint64_t octets;    /**< payload octets of closed frames */
} cc_hdlc_tx_stats_t;

typedef struct cc_hdlc_tx_s cc_hdlc_tx_t;

void cc_hdlc_tx_config_default(cc_hdlc_tx_config_t *cfg);
cc_hdlc_tx_t *cc_hdlc_tx_init(cc_hdlc_tx_t *s, const cc_hdlc_tx_config_t *cfg);
/** Back to the state after init: queue empty, bit position 0, statistics 0. */
int cc_hdlc_tx_reset(cc_hdlc_tx_t *s);
int cc_hdlc_tx_release(cc_hdlc_tx_t *s);
int cc_hdlc_tx_free(cc_hdlc_tx_t *s);
size_t cc_hdlc_tx_state_size(void);
int cc_hdlc_tx_restore(cc_hdlc_tx_t *s, const void *saved, size_t len);
int cc_hdlc_tx_stats(const cc_hdlc_tx_t *s, cc_hdlc_tx_stats_t *out);
/** Bits generated since init/reset. */
int64_t cc_hdlc_tx_position(const cc_hdlc_tx_t *s);

/**
 * Queue n octets of a frame. more = 0 closes the frame (its FCS follows its last octet);
 * more = 1 leaves it open for the next put (the frame starts when it has an octet; if it
 * runs dry while being sent it is aborted, and its remaining octets are dropped up to the
 * put that closes it). Returns n, or CC_ERR_ARG (frame longer than max_len), CC_ERR_SPACE
 * (queue full), nothing queued on error.
 */
int cc_hdlc_tx_put(cc_hdlc_tx_t *s, const uint8_t *frame, size_t n, int more);
/** Abort the frame being sent, if any (returns 1), else 0. Queued frames after it are kept. */
int cc_hdlc_tx_abort(cc_hdlc_tx_t *s);
/** Frames queued, the one being sent included. */
size_t cc_hdlc_tx_pending(const cc_hdlc_tx_t *s);
/** Free octets in the queue. */
size_t cc_hdlc_tx_space(const cc_hdlc_tx_t *s);

/** Write nbits bits (out[0] bit 0 first; unused high bits of the last octet are 0). */
int cc_hdlc_tx_generate_bits(cc_hdlc_tx_t *s, uint8_t *out, size_t nbits);
/** Write n octets. */
int cc_hdlc_tx_generate(cc_hdlc_tx_t *s, uint8_t *out, size_t n);
/** Batch: nch transmitters; channel c's n octets go to out + c * stride. */
int cc_hdlc_tx_generate_batch(cc_hdlc_tx_t *const *s, size_t nch, uint8_t *out, size_t stride, size_t n);

#ifdef __cplusplus
}
#endif
#endif
