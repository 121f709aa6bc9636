/*
 * E1 framer and deframer: see native/include/ccboard/e1.h for what and how.
 *
 * CRC-4 masks. The remainder of an SMF M(x) is M(x) x^4 mod g(x), g = x^4 + x + 1. Bit b
 * (0 = MSB, first on the wire) of the octet of frame f, timeslot t sits at wire position
 * p = 256 f + 8 t + b of the 2048-bit SMF, so it contributes x^(2047 - p + 4) mod g. Bit i of
 * that residue decides whether the bit belongs to mask[i][t], at bit 8 f + 7 - b of the
 * timeslot's little-endian word (octet f of the row is byte f of the word).
 *
 * Receiver. Every rule runs per span on the tick's bits, in the order G.706 gives them:
 * framing (four FAS/NFAS pairs), RAI, CRC-4 multiframe, CAS multiframe. Nothing is skipped on
 * a clean line: the work per span is a few dozen branches, and the CRC is the masked parity.
 */
#include <stdlib.h>
#include <string.h>

#include "ccboard/private/e1.h"

#define FAS 0x1Bu          /* x0011011 */
#define NFAS_BIT2 0x40u
#define A_BIT 0x20u
#define SA_BITS 0x1Fu
#define MFAS_FRAME0 0x0Bu  /* 0000 x y x x with x = 1, y = 0 */
#define CRC4_POLY 0x3u     /* x^4 + x + 1 without x^4 */
#define SMF_BITS (CC_E1_TICK_OCTETS * 8)
#define LFA_BAD_FAS 3      /* G.706 4.1.1 */
#define MF_SEARCH_TICKS 8  /* G.706 4.2: 8 ms to find the CRC-4 multiframe */
#define MF_LOSE 2          /* consecutive bad multiframe patterns that lose alignment */
#define CAS_MF_ERRORS 2    /* consecutive MFAS errors that lose CAS alignment (G.732 5.2) */
#define AIS_WINDOW 64      /* octets: 512 bits */
#define AIS_MAX_ZEROS 2
#define ABCD_IDLE 0x9u

static const uint8_t SMF1_MBITS[4] = {0, 0, 1, 0};

static void crc4_masks(uint64_t mask[CC_E1_CRC_BITS][CC_E1_TIMESLOTS])
{
    /* x^k mod g for k = 0 .. SMF_BITS + 3 */
    static const int top = 1 << CC_E1_CRC_BITS;
    uint8_t pw[SMF_BITS + CC_E1_CRC_BITS];
    unsigned r = 1;
    for (int k = 0; k < SMF_BITS + CC_E1_CRC_BITS; k++) {
        pw[k] = (uint8_t)r;
        r <<= 1;
        if (r & (unsigned)top)
            r ^= (unsigned)top | CRC4_POLY;
    }
    memset(mask, 0, sizeof(uint64_t) * CC_E1_CRC_BITS * CC_E1_TIMESLOTS);
    for (int f = 0; f < CC_E1_FRAMES; f++)
        for (int t = 0; t < CC_E1_TIMESLOTS; t++)
            for (int b = 0; b < 8; b++) {
                if (t == 0 && (f & 1) == 0 && b == 0)
                    continue; /* a C bit: counted as zero */
                int p = 256 * f + 8 * t + b;
                unsigned c = pw[SMF_BITS - 1 - p + CC_E1_CRC_BITS];
                for (int i = 0; i < CC_E1_CRC_BITS; i++)
                    if ((c >> i) & 1u)
                        mask[i][t] |= (uint64_t)1 << (8 * f + 7 - b);
            }
}

/* CRC-4 of one span's tick (32 x 8 octets): per CRC bit, an XOR-reduction of 32 masked words
 * (a loop the compiler vectorises) and one parity. */
static inline uint8_t crc4_tick(const uint64_t mask[CC_E1_CRC_BITS][CC_E1_TIMESLOTS], const uint8_t *restrict x)
{
    uint64_t w[CC_E1_TIMESLOTS];
    memcpy(w, x, sizeof(w));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (int t = 0; t < CC_E1_TIMESLOTS; t++)
        w[t] = __builtin_bswap64(w[t]);
#endif
    unsigned crc = 0;
    for (int i = 0; i < CC_E1_CRC_BITS; i++) {
        uint64_t acc = 0;
        for (int t = 0; t < CC_E1_TIMESLOTS; t++)
            acc ^= w[t] & mask[i][t];
        crc |= (unsigned)__builtin_parityll(acc) << i;
    }
    return (uint8_t)crc;
}

int cc_e1_crc4(const uint8_t *frames, size_t n, uint8_t *crc)
{
    if ((frames == NULL || crc == NULL) && n > 0)
        return CC_ERR_ARG;
    uint64_t mask[CC_E1_CRC_BITS][CC_E1_TIMESLOTS];
    crc4_masks(mask);
    for (size_t i = 0; i < n; i++)
        crc[i] = crc4_tick((const uint64_t(*)[CC_E1_TIMESLOTS])mask, frames + i * CC_E1_TICK_OCTETS);
    return CC_OK;
}

/* ---- transmitter ---- */

size_t cc_e1_tx_state_size(uint32_t spans)
{
    if (spans < 1 || spans > CC_E1_MAX_SPANS)
        return 0;
    return sizeof(cc_e1_tx_t) + spans * sizeof(cc_e1_tx_span_t);
}

static void tx_ts16(cc_e1_tx_span_t *sp)
{
    const uint8_t *b = sp->bits;
    sp->ts16[0][0] = MFAS_FRAME0;
    for (int j = 1; j < 8; j++)
        sp->ts16[0][j] = (uint8_t)((b[j] << 4) | b[j + 16]);
    for (int j = 0; j < 8; j++)
        sp->ts16[1][j] = (uint8_t)((b[j + 8] << 4) | b[j + 24]);
}

cc_e1_tx_t *cc_e1_tx_init(void *mem, uint32_t spans, const uint8_t *crc4, const uint8_t *cas, int phase)
{
    size_t size = cc_e1_tx_state_size(spans);
    if (size == 0 || crc4 == NULL || cas == NULL)
        return NULL;
    cc_e1_tx_t *s = mem != NULL ? mem : malloc(size);
    if (s == NULL)
        return NULL;
    memset(s, 0, size);
    s->magic = CC_E1_TX_MAGIC;
    s->spans = spans;
    s->phase = (uint32_t)(phase & 1);
    s->half = s->phase;
    crc4_masks(s->mask);
    for (uint32_t i = 0; i < spans; i++) {
        cc_e1_tx_span_t *sp = &s->span[i];
        sp->crc4 = crc4[i] != 0;
        sp->cas = cas[i] != 0;
        sp->crc_prev = sp->crc4 ? 0 : 16;
        memset(sp->bits, ABCD_IDLE, sizeof(sp->bits));
        tx_ts16(sp);
    }
    return s;
}

static int tx_valid(const cc_e1_tx_t *s) { return s != NULL && s->magic == CC_E1_TX_MAGIC; }

int cc_e1_tx_reset(cc_e1_tx_t *s)
{
    if (!tx_valid(s))
        return CC_ERR_ARG;
    for (uint32_t i = 0; i < s->spans; i++) {
        cc_e1_tx_span_t *sp = &s->span[i];
        sp->ais = 0;
        sp->crc_prev = sp->crc4 ? 0 : 16;
        memset(sp->bits, ABCD_IDLE, sizeof(sp->bits));
        tx_ts16(sp);
    }
    s->half = s->phase;
    return CC_OK;
}

int cc_e1_tx_release(cc_e1_tx_t *s) { return tx_valid(s) ? CC_OK : CC_ERR_ARG; }

int cc_e1_tx_free(cc_e1_tx_t *s)
{
    if (!tx_valid(s))
        return CC_ERR_ARG;
    s->magic = 0;
    free(s);
    return CC_OK;
}

size_t cc_e1_tx_size(const cc_e1_tx_t *s) { return tx_valid(s) ? cc_e1_tx_state_size(s->spans) : 0; }

int cc_e1_tx_restore(cc_e1_tx_t *s, const void *saved, size_t len)
{
    const cc_e1_tx_t *v = saved;
    if (!tx_valid(s) || saved == NULL || len != cc_e1_tx_size(s) || v->magic != CC_E1_TX_MAGIC
        || v->spans != s->spans)
        return CC_ERR_STATE;
    memcpy(s, saved, len);
    return CC_OK;
}

uint32_t cc_e1_tx_spans(const cc_e1_tx_t *s) { return tx_valid(s) ? s->spans : 0; }

int cc_e1_tx_set_bits(cc_e1_tx_t *s, uint32_t span, uint32_t ts, uint8_t bits)
{
    if (!tx_valid(s) || span >= s->spans || ts >= CC_E1_TIMESLOTS)
        return CC_ERR_ARG;
    s->span[span].bits[ts] = bits & 0xFu;
    tx_ts16(&s->span[span]);
    return CC_OK;
}

int cc_e1_tx_get_bits(const cc_e1_tx_t *s, uint32_t span, uint32_t ts)
{
    if (!tx_valid(s) || span >= s->spans || ts >= CC_E1_TIMESLOTS)
        return CC_ERR_ARG;
    return s->span[span].bits[ts];
}

int cc_e1_tx_set_ais(cc_e1_tx_t *s, uint32_t span, int on)
{
    if (!tx_valid(s) || span >= s->spans)
        return CC_ERR_ARG;
    s->span[span].ais = on != 0;
    return CC_OK;
}

int cc_e1_tx_get_ais(const cc_e1_tx_t *s, uint32_t span)
{
    if (!tx_valid(s) || span >= s->spans)
        return CC_ERR_ARG;
    return s->span[span].ais;
}

CC_HOT int cc_e1_tx_process(cc_e1_tx_t *s, uint8_t *frames, const cc_e1_rx_t *rx, const uint8_t *rai)
{
    if (!tx_valid(s) || frames == NULL || (rx != NULL && (rx->magic != CC_E1_RX_MAGIC || rx->spans != s->spans)))
        return CC_ERR_ARG;
    const unsigned half = s->half;
    for (uint32_t i = 0; i < s->spans; i++) {
        cc_e1_tx_span_t *sp = &s->span[i];
        uint8_t *x = frames + (size_t)i * CC_E1_TICK_OCTETS;
        const cc_e1_rx_status_t *st = rx != NULL ? &rx->status[i] : NULL;
        unsigned a = (st != NULL && st->red) || (rai != NULL && rai[i]);
        unsigned e1 = st != NULL ? st->e_out[0] & 1u : 1u, e2 = st != NULL ? st->e_out[1] & 1u : 1u;
        unsigned crc = sp->crc_prev;
        for (int k = 0; k < 4; k++) {
            unsigned c, m;
            if (crc == 16) {
                c = 1;
                m = 1;
            } else {
                c = (crc >> (3 - k)) & 1u;
                m = half == 0 ? SMF1_MBITS[k] : (k == 0 || k == 1) ? 1u : k == 2 ? e1 : e2;
            }
            x[2 * k] = (uint8_t)((c << 7) | FAS);
            x[2 * k + 1] = (uint8_t)((m << 7) | NFAS_BIT2 | (a << 5) | SA_BITS);
        }
        if (sp->cas)
            memcpy(x + 16 * CC_E1_FRAMES, sp->ts16[half], CC_E1_FRAMES);
        if (sp->crc4)
            sp->crc_prev = crc4_tick((const uint64_t(*)[CC_E1_TIMESLOTS])s->mask, x);
        if (sp->ais)
            memset(x, 0xFF, CC_E1_TICK_OCTETS);
    }
    s->half = half ^ 1u;
    return CC_OK;
}

/* ---- receiver ---- */

size_t cc_e1_rx_state_size(uint32_t spans)
{
    if (spans < 1 || spans > CC_E1_MAX_SPANS)
        return 0;
    return sizeof(cc_e1_rx_t) + spans * (sizeof(cc_e1_rx_status_t) + sizeof(cc_e1_rx_span_t));
}

static cc_e1_rx_span_t *rx_spans(cc_e1_rx_t *s) { return (cc_e1_rx_span_t *)(void *)(s->status + s->spans); }

static void rx_clear(cc_e1_rx_t *s)
{
    cc_e1_rx_span_t *sp = rx_spans(s);
    for (uint32_t i = 0; i < s->spans; i++) {
        uint8_t crc4 = sp[i].crc4, cas = sp[i].cas;
        memset(&sp[i], 0, sizeof(sp[i]));
        memset(&s->status[i], 0, sizeof(s->status[i]));
        sp[i].crc4 = crc4;
        sp[i].cas = cas;
        s->status[i].red = 1; /* out of frame until alignment is found from the bits */
        s->status[i].e_out[0] = s->status[i].e_out[1] = 1;
        memset(s->status[i].rx_bits, ABCD_IDLE, CC_E1_TIMESLOTS);
        memset(s->status[i].raw_bits, ABCD_IDLE, CC_E1_TIMESLOTS);
        memset(sp[i].pending, ABCD_IDLE, CC_E1_TIMESLOTS);
    }
    s->dirty = 1;
    s->quiet = 0;
}

cc_e1_rx_t *cc_e1_rx_init(void *mem, uint32_t spans, const uint8_t *crc4, const uint8_t *cas)
{
    size_t size = cc_e1_rx_state_size(spans);
    if (size == 0 || crc4 == NULL || cas == NULL)
        return NULL;
    cc_e1_rx_t *s = mem != NULL ? mem : malloc(size);
    if (s == NULL)
        return NULL;
    memset(s, 0, size);
    s->magic = CC_E1_RX_MAGIC;
    s->spans = spans;
    crc4_masks(s->mask);
    cc_e1_rx_span_t *sp = rx_spans(s);
    for (uint32_t i = 0; i < spans; i++) {
        sp[i].crc4 = crc4[i] != 0;
        sp[i].cas = cas[i] != 0;
    }
    rx_clear(s);
    return s;
}

static int rx_valid(const cc_e1_rx_t *s) { return s != NULL && s->magic == CC_E1_RX_MAGIC; }

int cc_e1_rx_reset(cc_e1_rx_t *s)
{
    if (!rx_valid(s))
        return CC_ERR_ARG;
    rx_clear(s);
    return CC_OK;
}

int cc_e1_rx_release(cc_e1_rx_t *s) { return rx_valid(s) ? CC_OK : CC_ERR_ARG; }

int cc_e1_rx_free(cc_e1_rx_t *s)
{
    if (!rx_valid(s))
        return CC_ERR_ARG;
    s->magic = 0;
    free(s);
    return CC_OK;
}

size_t cc_e1_rx_size(const cc_e1_rx_t *s) { return rx_valid(s) ? cc_e1_rx_state_size(s->spans) : 0; }

int cc_e1_rx_restore(cc_e1_rx_t *s, const void *saved, size_t len)
{
    const cc_e1_rx_t *v = saved;
    if (!rx_valid(s) || saved == NULL || len != cc_e1_rx_size(s) || v->magic != CC_E1_RX_MAGIC
        || v->spans != s->spans)
        return CC_ERR_STATE;
    memcpy(s, saved, len);
    return CC_OK;
}

uint32_t cc_e1_rx_spans(const cc_e1_rx_t *s) { return rx_valid(s) ? s->spans : 0; }

const cc_e1_rx_status_t *cc_e1_rx_status(const cc_e1_rx_t *s) { return rx_valid(s) ? s->status : NULL; }

int cc_e1_rx_quiet(const cc_e1_rx_t *s) { return rx_valid(s) ? (int)s->quiet : CC_ERR_ARG; }

int cc_e1_rx_take_dirty(cc_e1_rx_t *s)
{
    if (!rx_valid(s))
        return CC_ERR_ARG;
    int d = (int)s->dirty;
    s->dirty = 0;
    return d;
}

/* LOS and AIS of a tick whose FAS words failed (G.775): no pulse at all; at most 2 zeros in
 * every 512-bit window (windows of 64 octets in [timeslot][frame] order). */
CC_COLD static void los_ais(cc_e1_rx_status_t *st, const uint8_t *x)
{
    unsigned any = 0, ais = 1;
    for (int w = 0; w < CC_E1_TICK_OCTETS / AIS_WINDOW; w++) {
        unsigned zeros = 0;
        for (int j = 0; j < AIS_WINDOW; j++) {
            uint8_t o = x[w * AIS_WINDOW + j];
            any |= o;
            zeros += 8u - (unsigned)__builtin_popcount(o);
        }
        ais &= zeros <= AIS_MAX_ZEROS;
    }
    st->los = any == 0;
    st->ais = (uint8_t)ais;
}

/* Frame alignment over the tick's four FAS/NFAS pairs (G.706 4.1). Returns 1 if a counter moved. */
static int framing(cc_e1_rx_status_t *st, cc_e1_rx_span_t *sp, const uint8_t *x)
{
    const uint8_t *ts0 = x;
    unsigned fas_ok[4], nfas_ok[4], all = 1;
    for (int k = 0; k < 4; k++) {
        fas_ok[k] = (ts0[2 * k] & 0x7Fu) == FAS;
        nfas_ok[k] = (ts0[2 * k + 1] & NFAS_BIT2) != 0;
        all &= fas_ok[k];
    }
    if (all) {
        st->los = st->ais = 0;
        if (st->in_frame) {
            sp->bad_fas = 0;
            sp->search = 0;
            return 0;
        }
    } else {
        los_ais(st, x);
    }
    int moved = 0;
    for (int k = 0; k < 4; k++) {
        unsigned f = fas_ok[k], n = nfas_ok[k], inf = st->in_frame, s = sp->search;
        if (inf && !f) {
            st->fas_errors++;
            sp->bad_fas++;
            moved = 1;
        } else if (inf) {
            sp->bad_fas = 0;
        }
        unsigned lost = inf && sp->bad_fas >= LFA_BAD_FAS;
        unsigned gained = !inf && s == 2 && f;
        if (!inf) {
            /* FAS (n), NFAS bit 2 (n+1), FAS (n+2) regains alignment */
            if (s == 2 && !f)
                s = 0;
            if (s == 0 && f)
                s = 1;
            if (s == 1 && !f)
                s = 0;
            if (s == 1)
                s = f && n ? 2 : f ? 0 : s;
        }
        st->in_frame = (uint8_t)((inf && !lost) || gained);
        if (gained || lost)
            sp->bad_fas = 0;
        if (st->in_frame)
            s = 0;
        sp->search = (uint8_t)s;
        if (lost) {
            st->mf_aligned = 0;
            st->cas_aligned = 0;
            sp->crc_valid = 0;
            sp->mf_wait = 0;
        }
    }
    st->in_frame = st->in_frame && !st->los && !st->ais;
    return moved;
}

/* CRC-4 multiframe (G.706 4.2), CRC-4 errors and E bits (G.704 2.3.3.4). */
static int crc4_rx(cc_e1_rx_status_t *st, cc_e1_rx_span_t *sp, const uint8_t *x, uint8_t crc)
{
    const uint8_t *ts0 = x;
    unsigned use = st->in_frame;
    unsigned mb[4];
    for (int k = 0; k < 4; k++)
        mb[k] = ts0[2 * k + 1] >> 7;
    unsigned smf1 = mb[0] == 0 && mb[1] == 0 && mb[2] == 1 && mb[3] == 0;
    unsigned smf2 = mb[0] == 1 && mb[1] == 1;
    unsigned al = st->mf_aligned && use;
    unsigned found = use && !al && sp->mf_cand && smf2;
    sp->mf_cand = (uint8_t)(use && smf1);
    al = al || found;
    st->mf_aligned = (uint8_t)al;
    if (found)
        sp->mf_half = 1; /* this tick was SMF II */
    sp->mf_wait = use && !al ? sp->mf_wait + 1 : 0;
    st->lmfa = use && !al && sp->mf_wait > MF_SEARCH_TICKS;
    unsigned check = al, h = sp->mf_half;
    unsigned bad_pattern = check && !(h == 0 ? smf1 : smf2);
    if (bad_pattern)
        sp->mf_bad++;
    else if (check)
        sp->mf_bad = 0;
    if (sp->mf_bad >= MF_LOSE) {
        st->mf_aligned = 0;
        check = 0;
    }
    int moved = 0;
    if (check) {
        unsigned c_rx = (unsigned)(((ts0[0] >> 7) << 3) | ((ts0[2] >> 7) << 2) | ((ts0[4] >> 7) << 1) | (ts0[6] >> 7));
        unsigned err = sp->crc_valid && c_rx != sp->crc_prev;
        if (err) {
            st->crc_errors++;
            moved = 1;
        }
        st->e_out[1 - h] = (uint8_t)!err;
        if (h == 1) {
            /* frames 13 and 15 of the multiframe = 5 and 7 of SMF II */
            unsigned zeros = (unsigned)!(ts0[5] >> 7) + (unsigned)!(ts0[7] >> 7);
            if (zeros) {
                st->ebit_errors += zeros;
                moved = 1;
            }
        }
    }
    sp->crc_prev = crc;
    sp->crc_valid = (uint8_t)check;
    sp->mf_half = (uint8_t)(h ^ 1u);
    return moved;
}

/* TS16 CAS multiframe (G.732 5.2) and ABCD per timeslot. */
static size_t cas_rx(cc_e1_rx_status_t *st, cc_e1_rx_span_t *sp, const uint8_t *x, int32_t span,
                     cc_e1_change_t *changes)
{
    const uint8_t *ts16 = x + 16 * CC_E1_FRAMES;
    unsigned use = st->in_frame;
    unsigned mfas = (ts16[0] & 0xF0u) == 0;
    unsigned al = st->cas_aligned && use, h = sp->cas_half;
    unsigned expect0 = al && h == 0;
    if (expect0 && !mfas)
        sp->cas_bad++;
    else if (expect0)
        sp->cas_bad = 0;
    unsigned lose = sp->cas_bad >= CAS_MF_ERRORS;
    unsigned found = use && !al && mfas && sp->ts16_last != 0;
    al = (al && !lose) || found;
    st->cas_aligned = (uint8_t)al;
    if (found)
        h = 0;
    if (lose || found)
        sp->cas_bad = 0;
    sp->ts16_last = ts16[7];
    size_t nc = 0;
    uint8_t *raw = st->raw_bits;
    if (al && h == 0) {
        for (int j = 1; j < 8; j++) {
            raw[j] = ts16[j] >> 4;
            raw[j + 16] = ts16[j] & 0xFu;
        }
    } else if (al) {
        for (int j = 0; j < 8; j++) {
            raw[j + 8] = ts16[j] >> 4;
            raw[j + 24] = ts16[j] & 0xFu;
        }
        /* a multiframe completed: a change counts once it reads the same twice running */
        for (int t = 0; t < CC_E1_TIMESLOTS; t++) {
            if (raw[t] != st->rx_bits[t] && raw[t] == sp->pending[t]) {
                st->rx_bits[t] = raw[t];
                changes[nc].span = span;
                changes[nc].timeslot = t;
                nc++;
            }
            sp->pending[t] = raw[t];
        }
    }
    sp->cas_half = (uint8_t)(h ^ 1u);
    return nc;
}

CC_HOT int cc_e1_rx_process(cc_e1_rx_t *s, const uint8_t *frames, cc_e1_change_t *changes, size_t max_changes)
{
    if (!rx_valid(s) || frames == NULL || changes == NULL)
        return CC_ERR_ARG;
    if (max_changes < (size_t)30 * s->spans)
        return CC_ERR_SPACE;
    cc_e1_rx_span_t *spans = rx_spans(s);
    size_t nc = 0;
    unsigned quiet = 1;
    for (uint32_t i = 0; i < s->spans; i++) {
        cc_e1_rx_status_t *st = &s->status[i];
        cc_e1_rx_span_t *sp = &spans[i];
        const uint8_t *x = frames + (size_t)i * CC_E1_TICK_OCTETS;
        int moved = framing(st, sp, x);
        unsigned acnt = 0;
        for (int k = 0; k < 4; k++)
            acnt += (x[2 * k + 1] & A_BIT) != 0;
        st->yellow = (uint8_t)((st->in_frame && acnt >= 3) || (!st->in_frame && st->yellow && !st->los && !st->ais));
        if (sp->crc4)
            moved |= crc4_rx(st, sp, x, crc4_tick((const uint64_t(*)[CC_E1_TIMESLOTS])s->mask, x));
        if (sp->cas)
            nc += cas_rx(st, sp, x, (int32_t)i, changes + nc);
        st->red = st->los || !st->in_frame;
        quiet &= st->in_frame && !st->yellow && !st->lmfa && !st->los && !st->ais;
        if (moved)
            s->dirty = 1;
    }
    s->quiet = quiet;
    return (int)nc;
}
