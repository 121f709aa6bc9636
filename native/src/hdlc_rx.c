/*
 * HDLC receiver: see ccboard/hdlc.h for what it does and the figures it meets.
 *
 * Bits are taken in line order. Per line bit (bit-wise path):
 *   1: ones++; while ones <= 5 it is a data bit (appended); the 6th is not; the 7th
 *      aborts a frame that holds data, else it is mark idle after a flag.
 *   0: after five 1s it is a stuffed 0 (dropped); after six it ends a flag; after seven
 *      or more it ends an abort or idle; otherwise a data bit.
 * Data bits gather in acc; an octet moves to buf once 14 bits are there, so the last six
 * appended bits stay in acc: when a flag ends, they are its leading 0 and five 1s and the
 * frame has 8 len + nacc - 6 bits, a whole number of octets exactly when nacc == 6.
 * An octet that cc_hdlc_rx_plain marks as all data is appended in one step (fast path).
 */
#include <stdlib.h>
#include <string.h>

#include "ccboard/private/hdlc.h"

#define KEEP_BACK 6 /* a flag's leading 0 and five 1s */
#define FLUSH_AT (8 + KEEP_BACK)
#define MAX_BITS ((size_t)1 << 33) /* per call, so a frame count fits an int */

typedef struct {
    cc_hdlc_frame_t *fr;
    uint8_t *data;
    size_t nfr;
    size_t ndata;
} sink_t;

void cc_hdlc_rx_config_default(cc_hdlc_rx_config_t *cfg)
{
    cfg->min_len = CC_HDLC_Q921_MIN;
    cfg->max_len = CC_HDLC_Q921_MAX;
    cfg->report_bad = 1;
}

static int config_ok(const cc_hdlc_rx_config_t *c)
{
    return c->max_len >= 1 && c->max_len <= CC_HDLC_MAX_FRAME && c->min_len >= 0 && c->min_len <= c->max_len
        && (c->report_bad == 0 || c->report_bad == 1);
}

#define NO_SAME (~(uint64_t)0) /* ones = 15 never happens */

static void clear(cc_hdlc_rx_t *s)
{
    s->same = NO_SAME;
    s->acc = 0;
    s->nacc = 0;
    s->len = 0;
    s->crc = 0xFFFF;
    s->ones = 0;
    s->in_frame = 0;
}

cc_hdlc_rx_t *cc_hdlc_rx_init(cc_hdlc_rx_t *s, const cc_hdlc_rx_config_t *cfg, int32_t channel)
{
    cc_hdlc_rx_config_t def;
    if (cfg == NULL) {
        cc_hdlc_rx_config_default(&def);
        cfg = &def;
    }
    if (!config_ok(cfg))
        return NULL;
    if (s == NULL && (s = malloc(sizeof(*s))) == NULL)
        return NULL;
    memset(s, 0, sizeof(*s));
    s->magic = CC_HDLC_RX_MAGIC;
    s->channel = channel;
    s->cfg = *cfg;
    clear(s);
    return s;
}

static int valid(const cc_hdlc_rx_t *s) { return s != NULL && s->magic == CC_HDLC_RX_MAGIC; }

int cc_hdlc_rx_reset(cc_hdlc_rx_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    cc_hdlc_rx_config_t cfg = s->cfg;
    cc_hdlc_rx_init(s, &cfg, s->channel);
    return CC_OK;
}

int cc_hdlc_rx_release(cc_hdlc_rx_t *s) { return valid(s) ? CC_OK : CC_ERR_ARG; }

int cc_hdlc_rx_free(cc_hdlc_rx_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    s->magic = 0;
    free(s);
    return CC_OK;
}

size_t cc_hdlc_rx_state_size(void) { return sizeof(cc_hdlc_rx_t); }

int cc_hdlc_rx_restore(cc_hdlc_rx_t *s, const void *saved, size_t len)
{
    cc_hdlc_rx_t t;
    if (s == NULL || saved == NULL)
        return CC_ERR_ARG;
    if (len != sizeof(t))
        return CC_ERR_STATE;
    memcpy(&t, saved, sizeof(t));
    if (t.magic != CC_HDLC_RX_MAGIC || !config_ok(&t.cfg) || t.pos < 0 || t.nacc < 0 || t.nacc >= FLUSH_AT
        || (t.nacc < 32 && (t.acc >> t.nacc) != 0) || t.len < 0 || t.len > t.cfg.max_len + 2 || t.ones > 7
        || t.in_frame > 1 || (!t.in_frame && (t.len != 0 || t.nacc != 0)) || (t.len > 0 && t.nacc < KEEP_BACK))
        return CC_ERR_STATE;
    /* the FCS is recomputed from the octets, never trusted */
    t.crc = 0xFFFF;
    for (int32_t i = 0; i < t.len; i++)
        t.crc = cc_hdlc_fcs_byte(t.crc, t.buf[i]);
    t.same = NO_SAME;
    memcpy(s, &t, sizeof(t));
    return CC_OK;
}

int cc_hdlc_rx_stats(const cc_hdlc_rx_t *s, cc_hdlc_rx_stats_t *out)
{
    if (!valid(s) || out == NULL)
        return CC_ERR_ARG;
    *out = s->stats;
    return CC_OK;
}

int32_t cc_hdlc_rx_channel(const cc_hdlc_rx_t *s) { return valid(s) ? s->channel : 0; }
int64_t cc_hdlc_rx_position(const cc_hdlc_rx_t *s) { return valid(s) ? s->pos : 0; }

/* The first frame of a call may close on its first bit; each further one needs >= 9 bits
 * (a data bit and a flag sharing no 0 with the one before). */
size_t cc_hdlc_rx_max_frames(size_t nbits) { return nbits / 8 + 1; }

size_t cc_hdlc_rx_max_data(const cc_hdlc_rx_t *s, size_t nbits)
{
    int32_t max_len = valid(s) ? s->cfg.max_len : CC_HDLC_MAX_FRAME;
    return nbits / 8 + 1 + (size_t)max_len + 2;
}

/* Deliver (or only count) the frame in buf with a status; the caller resets the frame. */
CC_COLD static void emit(cc_hdlc_rx_t *s, sink_t *k, int status, int64_t position, int32_t length)
{
    switch (status) {
    case CC_HDLC_OK:
        s->stats.good++;
        s->stats.octets += (uint64_t)length;
        break;
    case CC_HDLC_BAD_FCS: s->stats.bad_fcs++; break;
    case CC_HDLC_ABORT: s->stats.aborts++; break;
    case CC_HDLC_TOO_LONG: s->stats.too_long++; break;
    case CC_HDLC_TOO_SHORT: s->stats.too_short++; break;
    default: s->stats.non_octet++; break;
    }
    if (status != CC_HDLC_OK && !s->cfg.report_bad)
        return;
    cc_hdlc_frame_t *f = &k->fr[k->nfr++];
    f->channel = s->channel;
    f->status = (uint8_t)status;
    memset(f->reserved, 0, sizeof(f->reserved));
    f->position = position;
    f->offset = (uint32_t)k->ndata;
    f->length = (uint32_t)length;
    memcpy(k->data + k->ndata, s->buf, (size_t)length);
    k->ndata += (size_t)length;
}

static void new_frame(cc_hdlc_rx_t *s)
{
    s->acc = 0;
    s->nacc = 0;
    s->len = 0;
    s->crc = 0xFFFF;
}

/* A flag ended at bit `position`: close the frame in progress, open the next. */
CC_COLD static void on_flag(cc_hdlc_rx_t *s, sink_t *k, int64_t position)
{
    if (s->in_frame) {
        int64_t bits = 8 * (int64_t)s->len + s->nacc - KEEP_BACK;
        if (bits > 0) {
            if (s->nacc != KEEP_BACK)
                emit(s, k, CC_HDLC_NON_OCTET, position, s->len);
            else if (s->len < s->cfg.min_len + 2)
                emit(s, k, CC_HDLC_TOO_SHORT, position, s->len);
            else if (s->crc != CC_HDLC_FCS_GOOD)
                emit(s, k, CC_HDLC_BAD_FCS, position, s->len - 2);
            else
                emit(s, k, CC_HDLC_OK, position, s->len - 2);
        }
    }
    new_frame(s);
    s->in_frame = 1;
}

/* The 7th 1 in a row at `position`: an abort if data came since the flag, else mark idle. */
CC_COLD static void on_abort(cc_hdlc_rx_t *s, sink_t *k, int64_t position)
{
    /* five of the six 1s before this one were appended */
    if (8 * (int64_t)s->len + s->nacc - 5 > 0)
        emit(s, k, CC_HDLC_ABORT, position, s->len);
    new_frame(s);
    s->in_frame = 0;
}

/* One octet from acc into buf; too long ends the frame and hunts for the next flag. */
static inline void flush(cc_hdlc_rx_t *s, sink_t *k, int64_t position)
{
    if (s->len >= s->cfg.max_len + 2) {
        emit(s, k, CC_HDLC_TOO_LONG, position, s->len);
        new_frame(s);
        s->in_frame = 0;
        return;
    }
    uint8_t b = (uint8_t)s->acc;
    s->buf[s->len++] = b;
    s->crc = cc_hdlc_fcs_byte(s->crc, b);
    s->acc >>= 8;
    s->nacc -= 8;
}

static inline void append(cc_hdlc_rx_t *s, sink_t *k, uint32_t bit, int64_t position)
{
    s->acc |= bit << s->nacc;
    if (++s->nacc >= FLUSH_AT)
        flush(s, k, position);
}

/* Bits [from, to) of v, bit-wise; base = the position of v's bit 0. */
CC_COLD static void slow_bits(cc_hdlc_rx_t *s, sink_t *k, uint32_t v, int from, int to, int64_t base)
{
    for (int i = from; i < to; i++) {
        uint32_t bit = (v >> i) & 1u;
        int64_t at = base + i;
        if (bit) {
            if (s->ones < 7)
                s->ones++;
            if (s->ones <= 5) {
                if (s->in_frame)
                    append(s, k, 1u, at);
            } else if (s->ones == 7 && s->in_frame) {
                on_abort(s, k, at);
            }
        } else {
            if (s->ones == 6)
                on_flag(s, k, at);
            else if (s->ones < 5 && s->in_frame)
                append(s, k, 0u, at);
            s->ones = 0;
        }
    }
}

static inline uint64_t signature(const cc_hdlc_rx_t *s, uint8_t v)
{
    return v | (uint64_t)s->ones << 8 | (uint64_t)s->in_frame << 12 | (uint64_t)s->nacc << 16
        | (uint64_t)s->acc << 32;
}

static uint64_t events(const cc_hdlc_rx_t *s)
{
    const cc_hdlc_rx_stats_t *t = &s->stats;
    return t->good + t->bad_fcs + t->aborts + t->too_long + t->too_short + t->non_octet;
}

/* An octet with a stuffed 0, flag or abort. One that leaves an empty frame's state unchanged
 * with no event (a flag at the same bit offset as the last, 1s while hunting) is remembered, so
 * idle lines skip the bit loop. */
CC_COLD static void slow_octet(cc_hdlc_rx_t *s, sink_t *k, uint8_t v, int64_t base)
{
    uint64_t sig = signature(s, v);
    uint64_t ev = events(s);
    int32_t len0 = s->len;
    slow_bits(s, k, v, 0, 8, base);
    if (len0 == 0 && s->len == 0 && signature(s, v) == sig && events(s) == ev)
        s->same = sig;
}

CC_HOT static void run(cc_hdlc_rx_t *restrict s, sink_t *restrict k, const uint8_t *restrict x, size_t nbits)
{
    size_t n = nbits / 8;
    int64_t base = s->pos;
    for (size_t i = 0; i < n; i++, base += 8) {
        uint8_t v = x[i];
        uint8_t after = cc_hdlc_rx_plain[s->ones][v];
        if (after != 0xFF) {
            /* eight data bits */
            if (s->in_frame) {
                s->acc |= (uint32_t)v << s->nacc;
                s->nacc += 8;
                if (s->nacc >= FLUSH_AT)
                    flush(s, k, base + 7);
            }
            s->ones = after;
        } else if (s->len != 0 || signature(s, v) != s->same) {
            slow_octet(s, k, v, base);
        }
    }
    if (nbits % 8)
        slow_bits(s, k, x[n], 0, (int)(nbits % 8), base);
    s->pos += (int64_t)nbits;
}

int cc_hdlc_rx_process_bits(cc_hdlc_rx_t *s, const uint8_t *x, size_t nbits, cc_hdlc_frame_t *fr,
                            size_t max_fr, uint8_t *data, size_t max_data)
{
    if (!valid(s) || (nbits && x == NULL) || fr == NULL || data == NULL || nbits > MAX_BITS)
        return CC_ERR_ARG;
    if (max_fr < cc_hdlc_rx_max_frames(nbits) || max_data < cc_hdlc_rx_max_data(s, nbits))
        return CC_ERR_SPACE;
    sink_t k = {fr, data, 0, 0};
    run(s, &k, x, nbits);
    return (int)k.nfr;
}

int cc_hdlc_rx_process(cc_hdlc_rx_t *s, const uint8_t *x, size_t n, cc_hdlc_frame_t *fr, size_t max_fr,
                       uint8_t *data, size_t max_data)
{
    if (n > MAX_BITS / 8)
        return CC_ERR_ARG;
    return cc_hdlc_rx_process_bits(s, x, 8 * n, fr, max_fr, data, max_data);
}

int cc_hdlc_rx_process_batch(cc_hdlc_rx_t *const *s, size_t nch, const uint8_t *x, size_t stride, size_t n,
                             cc_hdlc_frame_t *fr, size_t max_fr, uint8_t *data, size_t max_data)
{
    size_t need_fr = 0, need_data = 0;
    if (s == NULL || (nch && n && x == NULL) || fr == NULL || data == NULL || n > MAX_BITS / 8
        || (nch > 1 && stride < n))
        return CC_ERR_ARG;
    for (size_t c = 0; c < nch; c++) {
        if (!valid(s[c]))
            return CC_ERR_ARG;
        need_fr += cc_hdlc_rx_max_frames(8 * n);
        need_data += cc_hdlc_rx_max_data(s[c], 8 * n);
    }
    if (max_fr < need_fr || max_data < need_data)
        return CC_ERR_SPACE;
    sink_t k = {fr, data, 0, 0};
    for (size_t c = 0; c < nch; c++)
        run(s[c], &k, x + c * stride, 8 * n);
    return k.nfr > (size_t)0x7FFFFFFF ? CC_ERR_SPACE : (int)k.nfr;
}
