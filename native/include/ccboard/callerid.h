/*
 * Caller ID (CLASS / CLIP) generator and receiver: FSK (Bell 202, V.23) and DTMF.
 *
 * What. The receiver finds caller-ID messages in 8 kHz audio (int16 linear or G.711 octets):
 * FSK messages of any type (SDMF 0x04, MDMF 0x80, message waiting 0x06/0x82, ETSI 0x86/0x89 ...)
 * framed as on the line (channel seizure 0101..., mark, then 1200 baud async octets: start bit,
 * 8 data bits LSB first, stop bit; type, length, body, checksum = two's complement of the sum),
 * reported only when the checksum holds; or DTMF caller ID strings (A<number>C, D<number>C,
 * <number>#, D1#, A...B00C ...) ended by 'C' or '#', or by dtmf_timeout_ms without a digit
 * (then flagged CC_CID_UNTERMINATED). Each message is one event with its octets or digits;
 * field parsing (number, name, date/time, reasons for absence) is left to the caller: it is
 * rare work.
 * How (FSK). Four 7-tap complex correlators (mark and space, in phase and quadrature; one bit
 * is 6.67 samples) give per sample d = |mark|^2 - |space|^2 and e = |mark|^2 + |space|^2,
 * computed over whole blocks in a loop the compiler vectorises (AVX2 clone). The slicer only
 * looks at d: while hunting, for the first space sample after mark with e above the level
 * floor; the start edge is placed by interpolating d's zero crossing, and each of the 10 bits
 * is then read once, from d at its centre (sign only, so the level and the mark/space twist do
 * not move the decision). A message is collected only after at least 10 bit times of steady
 * mark (the receiver ignores the seizure octets) and a framing error drops it.
 * How (DTMF). The DTMF receiver of ccboard/dtmf.h, embedded in the state.
 * Any split of the input into blocks gives the same events. No allocation after init.
 * Meets (tests/dsp/test_callerid.py): levels -40..0 dBm0; mark/space +-2 %; 1200 baud +-2 %;
 * twist +-10 dB; white noise at 15 dB S/N (over 0-4 kHz); peers: spandsp 0.0.6 adsi_tx/rx.
 *
 * Generator. What: one message at a time: FSK with seizure/mark/postamble bit counts,
 * continuous phase, exact bit timing (20 samples per 3 bits); or DTMF digits.
 */
#ifndef CCBOARD_CALLERID_H
#define CCBOARD_CALLERID_H

#include "ccboard/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CC_CID_BELL202 = 1, /**< Bell 202: mark 1200 Hz, space 2200 Hz (CLASS, GR-30) */
    CC_CID_V23 = 2,     /**< V.23: mark 1300 Hz, space 2100 Hz (ETSI ETS 300 659-1 CLIP) */
    CC_CID_DTMF = 3,    /**< DTMF caller ID (ETSI DTMF CLIP variants, China) */
} cc_cid_standard;

/** Message octets kept per event: type, length, 255 body octets (or up to 258 DTMF digits). */
#define CC_CID_MSG_MAX 258

/** Event status. */
enum { CC_CID_OK = 0, CC_CID_UNTERMINATED = 1 };

/** One message; 288 bytes with no padding, mirrored by a numpy structured dtype. */
typedef struct {
    int32_t channel;      /**< channel id given at init */
    uint8_t standard;     /**< cc_cid_standard */
    uint8_t status;       /**< CC_CID_OK, or CC_CID_UNTERMINATED (DTMF ended by the timeout) */
    uint16_t len;         /**< octets in data */
    int64_t start;        /**< sample where its first start bit (FSK) or first digit began */
    int64_t at;           /**< sample at which it was decided */
    float level_dbm0;     /**< FSK: mark/space tone level; DTMF: the first digit's low tone */
    uint8_t data[CC_CID_MSG_MAX + 2]; /**< FSK: type, length, body (checksum checked, dropped);
                                          DTMF: the ASCII digits, terminator included */
} cc_cid_msg_t;

typedef struct {
    int32_t standard;         /**< cc_cid_standard */
    float min_level_dbm0;     /**< FSK carrier floor; default -45 dBm0 */
    int32_t dtmf_timeout_ms;  /**< DTMF: a message without terminator ends after; default 1000 */
} cc_cid_rx_config_t;

typedef struct cc_cid_rx_s cc_cid_rx_t;

void cc_cid_rx_config_default(cc_cid_rx_config_t *cfg, cc_cid_standard standard);
cc_cid_rx_t *cc_cid_rx_init(cc_cid_rx_t *s, const cc_cid_rx_config_t *cfg, int32_t channel);
int cc_cid_rx_reset(cc_cid_rx_t *s);
int cc_cid_rx_release(cc_cid_rx_t *s);
int cc_cid_rx_free(cc_cid_rx_t *s);
size_t cc_cid_rx_state_size(void);
/** Load saved bytes of another state; CC_ERR_STATE (s unchanged) if they are not one. */
int cc_cid_rx_restore(cc_cid_rx_t *s, const void *saved, size_t len);
/** The most messages one call over n samples can return for one channel. */
size_t cc_cid_rx_max_events(size_t n);
int64_t cc_cid_rx_samples(const cc_cid_rx_t *s);
/** Octets (FSK, checksum excluded) or digits (DTMF) of the message being received. */
int cc_cid_rx_pending(const cc_cid_rx_t *s);
/** Framing errors seen (stop bit found as space) since init/reset. */
int64_t cc_cid_rx_framing_errors(const cc_cid_rx_t *s);
/** Messages whose checksum failed since init/reset. */
int64_t cc_cid_rx_checksum_errors(const cc_cid_rx_t *s);

/** Feed n samples; messages to ev. Returns their count, CC_ERR_SPACE (nothing consumed) if
 * max_ev < cc_cid_rx_max_events(n), CC_ERR_ARG on a bad argument. */
int cc_cid_rx_process(cc_cid_rx_t *s, cc_law law, const void *x, size_t n, cc_cid_msg_t *ev, size_t max_ev);
/** Batch over nch channels; channel c's samples at x + c*stride elements. */
int cc_cid_rx_process_batch(cc_cid_rx_t *const *s, size_t nch, cc_law law, const void *x, size_t stride,
                            size_t n, cc_cid_msg_t *ev, size_t max_ev);

/* ---- generator ---- */

typedef struct {
    int32_t standard;        /**< cc_cid_standard */
    float level_dbm0;        /**< FSK level; default -13.5 dBm0. DTMF: per tone; default -10 */
    int32_t seizure_bits;    /**< alternating 0101...; default 300 (0 for CID on call waiting) */
    int32_t mark_bits;       /**< mark before the first octet; default 180 */
    int32_t stop_bits;       /**< per octet, 1..8; default 1 */
    int32_t postamble_bits;  /**< mark after the checksum; default 5 */
    int32_t dtmf_on_ms;      /**< default 60 */
    int32_t dtmf_off_ms;     /**< default 60 */
    float baud_error_pct;    /**< test aid: bit rate off by this (-10..10); default 0 */
    float freq_error_pct;    /**< test aid: mark and space off by this (-10..10); default 0 */
    float twist_db;          /**< test aid: space louder than mark by this (-20..20); default 0 */
} cc_cid_tx_config_t;

typedef struct cc_cid_tx_s cc_cid_tx_t;

void cc_cid_tx_config_default(cc_cid_tx_config_t *cfg, cc_cid_standard standard);
cc_cid_tx_t *cc_cid_tx_init(cc_cid_tx_t *s, const cc_cid_tx_config_t *cfg);
int cc_cid_tx_reset(cc_cid_tx_t *s);
int cc_cid_tx_release(cc_cid_tx_t *s);
int cc_cid_tx_free(cc_cid_tx_t *s);
size_t cc_cid_tx_state_size(void);
/**
 * Queue one message. FSK: msg = type, length, body with length == n - 2 (the checksum is
 * added); DTMF: the digits (0-9 * # A-D), n <= CC_CID_MSG_MAX. Returns n, CC_ERR_SPACE while
 * a message is still sounding, CC_ERR_ARG if it is malformed.
 */
int cc_cid_tx_put(cc_cid_tx_t *s, const uint8_t *msg, size_t n);
/** Samples still to come for the queued message (FSK: exact; DTMF: exact). */
int64_t cc_cid_tx_remaining(const cc_cid_tx_t *s);
/** Write n samples (silence once idle); returns how many were written before it went idle. */
size_t cc_cid_tx_generate(cc_cid_tx_t *s, int16_t *out, size_t n);

#ifdef __cplusplus
}
#endif
#endif
