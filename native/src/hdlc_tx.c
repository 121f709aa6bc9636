/*
 * HDLC transmitter: see ccboard/hdlc.h for what it does.
 *
 * Line bits gather in a 64-bit word (bit 0 first) and leave it as octets. When fewer than 8
 * are left, step() adds the next unit: in DATA, as many stuffed octets as fit (each one
 * table step: <= 10 bits, the 1s in a row carried between octets); in FCS, the two FCS
 * octets, stuffed; then the closing flag; in IDLE, a flag (idle flags, or the flags still
 * owed before a waiting frame) or eight 1s (mark idle). Flags and aborts are not stuffed.
 * A frame starts once min_flags flags in a row have gone out, so with min_flags = 1 the
 * closing flag of one frame opens the next.
 */
#include <stdlib.h>
#include <string.h>

#include "ccboard/private/hdlc.h"

#define FLAG 0x7Eu
#define MAX_BITS ((size_t)1 << 33)

void cc_hdlc_tx_config_default(cc_hdlc_tx_config_t *cfg)
{
    cfg->min_flags = 1;
    cfg->idle = CC_HDLC_IDLE_FLAGS;
    cfg->max_len = CC_HDLC_Q921_MAX;
}

static int config_ok(const cc_hdlc_tx_config_t *c)
{
    return c->min_flags >= 1 && c->min_flags <= 255 && (c->idle == CC_HDLC_IDLE_FLAGS || c->idle == CC_HDLC_IDLE_MARK)
        && c->max_len >= 1 && c->max_len <= CC_HDLC_MAX_FRAME;
}

cc_hdlc_tx_t *cc_hdlc_tx_init(cc_hdlc_tx_t *s, const cc_hdlc_tx_config_t *cfg)
{
    cc_hdlc_tx_config_t def;
    if (cfg == NULL) {
        cc_hdlc_tx_config_default(&def);
        cfg = &def;
    }
    if (!config_ok(cfg))
        return NULL;
    if (s == NULL && (s = malloc(sizeof(*s))) == NULL)
        return NULL;
    memset(s, 0, sizeof(*s));
    s->magic = CC_HDLC_TX_MAGIC;
    s->cfg = *cfg;
    s->crc = 0xFFFF;
    s->phase = CC_HDLC_TX_IDLE;
    return s;
}

static int valid(const cc_hdlc_tx_t *s) { return s != NULL && s->magic == CC_HDLC_TX_MAGIC; }

int cc_hdlc_tx_reset(cc_hdlc_tx_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    cc_hdlc_tx_config_t cfg = s->cfg;
    cc_hdlc_tx_init(s, &cfg);
    return CC_OK;
}

int cc_hdlc_tx_release(cc_hdlc_tx_t *s) { return valid(s) ? CC_OK : CC_ERR_ARG; }

int cc_hdlc_tx_free(cc_hdlc_tx_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    s->magic = 0;
    free(s);
    return CC_OK;
}

size_t cc_hdlc_tx_state_size(void) { return sizeof(cc_hdlc_tx_t); }

static uint32_t front_len(const cc_hdlc_tx_t *s) { return s->flen[s->fhead]; }

int cc_hdlc_tx_restore(cc_hdlc_tx_t *s, const void *saved, size_t len)
{
    cc_hdlc_tx_t t;
    uint64_t queued = 0;
    if (s == NULL || saved == NULL)
        return CC_ERR_ARG;
    if (len != sizeof(t))
        return CC_ERR_STATE;
    memcpy(&t, saved, sizeof(t));
    if (t.magic != CC_HDLC_TX_MAGIC || !config_ok(&t.cfg) || t.pos < 0 || t.nacc < 0 || t.nacc > 64
        || (t.nacc < 64 && (t.acc >> t.nacc) != 0) || t.phase < CC_HDLC_TX_IDLE || t.phase > CC_HDLC_TX_FCS
        || t.head >= CC_HDLC_TX_RING || t.count > CC_HDLC_TX_RING || t.fhead >= CC_HDLC_TX_FRAMES
        || t.fcount > CC_HDLC_TX_FRAMES || t.ones > 4 || t.open > 1 || t.discard > 1 || (t.open && t.discard)
        || (t.open && t.fcount == 0))
        return CC_ERR_STATE;
    for (uint32_t i = 0; i < t.fcount; i++) {
        uint32_t l = t.flen[(t.fhead + i) % CC_HDLC_TX_FRAMES];
        if (l > (uint32_t)t.cfg.max_len)
            return CC_ERR_STATE;
        queued += l;
    }
    if (t.phase == CC_HDLC_TX_IDLE && t.sent != 0)
        return CC_ERR_STATE;
    if (t.phase != CC_HDLC_TX_IDLE && t.fcount == 0)
        return CC_ERR_STATE;
    if (t.phase == CC_HDLC_TX_DATA && t.sent > t.flen[t.fhead])
        return CC_ERR_STATE;
    if (t.phase == CC_HDLC_TX_FCS && (t.sent > 1 || (t.open && t.fcount == 1)))
        return CC_ERR_STATE;
    /* octets not yet sent = every queued frame's octets less those of the front frame already out */
    if (queued - (t.phase == CC_HDLC_TX_DATA ? t.sent : t.phase == CC_HDLC_TX_FCS ? t.flen[t.fhead] : 0)
        != t.count)
        return CC_ERR_STATE;
    memcpy(s, &t, sizeof(t));
    return CC_OK;
}

int cc_hdlc_tx_stats(const cc_hdlc_tx_t *s, cc_hdlc_tx_stats_t *out)
{
    if (!valid(s) || out == NULL)
        return CC_ERR_ARG;
    *out = s->stats;
    return CC_OK;
}

int64_t cc_hdlc_tx_position(const cc_hdlc_tx_t *s) { return valid(s) ? s->pos : 0; }
size_t cc_hdlc_tx_pending(const cc_hdlc_tx_t *s) { return valid(s) ? s->fcount : 0; }
size_t cc_hdlc_tx_space(const cc_hdlc_tx_t *s) { return valid(s) ? CC_HDLC_TX_RING - s->count : 0; }

int cc_hdlc_tx_put(cc_hdlc_tx_t *s, const uint8_t *frame, size_t n, int more)
{
    if (!valid(s) || (n && frame == NULL) || (more != 0 && more != 1))
        return CC_ERR_ARG;
    if (s->discard) {
        /* the rest of a frame that was aborted while open */
        if (!more)
            s->discard = 0;
        return (int)(n < (size_t)0x7FFFFFFF ? n : 0x7FFFFFFF);
    }
    uint32_t slot;
    size_t have = 0;
    if (s->open) {
        slot = (s->fhead + s->fcount - 1) % CC_HDLC_TX_FRAMES;
        have = s->flen[slot];
    } else {
        if (s->fcount == CC_HDLC_TX_FRAMES)
            return CC_ERR_SPACE;
        slot = (s->fhead + s->fcount) % CC_HDLC_TX_FRAMES;
    }
    if (n > (size_t)s->cfg.max_len - have)
        return CC_ERR_ARG;
    if (n > (size_t)(CC_HDLC_TX_RING - s->count))
        return CC_ERR_SPACE;
    uint32_t tail = (s->head + s->count) % CC_HDLC_TX_RING;
    size_t first = n < (size_t)(CC_HDLC_TX_RING - tail) ? n : (size_t)(CC_HDLC_TX_RING - tail);
    if (n) {
        memcpy(s->ring + tail, frame, first);
        memcpy(s->ring, frame + first, n - first);
    }
    s->count += (uint32_t)n;
    s->flen[slot] = (uint32_t)(have + n);
    if (!s->open)
        s->fcount++;
    s->open = (uint8_t)more;
    return (int)n;
}

static void push_raw(cc_hdlc_tx_t *s, uint32_t bits, int n)
{
    s->acc |= (uint64_t)bits << s->nacc;
    s->nacc += n;
}

/* Drop the front frame's unsent octets and the frame; an open one keeps dropping later puts. */
static void drop_front(cc_hdlc_tx_t *s)
{
    uint32_t left = s->phase == CC_HDLC_TX_DATA ? front_len(s) - s->sent : 0;
    s->head = (s->head + left) % CC_HDLC_TX_RING;
    s->count -= left;
    if (s->open && s->fcount == 1) {
        s->open = 0;
        s->discard = 1;
    }
    s->fhead = (s->fhead + 1) % CC_HDLC_TX_FRAMES;
    s->fcount--;
    s->sent = 0;
    s->phase = CC_HDLC_TX_IDLE;
}

CC_COLD static void abort_frame(cc_hdlc_tx_t *s)
{
    drop_front(s);
    push_raw(s, 0xFFu, 8); /* with up to four 1s before it: >= 7 in a row */
    s->ones = 0;
    s->flags = 0;
    s->stats.aborts++;
}

int cc_hdlc_tx_abort(cc_hdlc_tx_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    if (s->phase == CC_HDLC_TX_IDLE)
        return 0;
    abort_frame(s);
    return 1;
}

/* Add at least one unit of line bits; needs nacc <= 54. */
static void step(cc_hdlc_tx_t *restrict s)
{
    switch (s->phase) {
    case CC_HDLC_TX_DATA: {
        uint32_t len = front_len(s);
        if (s->sent == len) {
            if (s->open && s->fcount == 1) {
                s->stats.underruns++;
                abort_frame(s);
            } else {
                s->phase = CC_HDLC_TX_FCS;
                s->sent = 0;
                s->crc ^= 0xFFFF;
            }
            return;
        }
        /* as many octets as fit in acc, each stuffed in one table step */
        uint32_t end = len - s->sent;
        uint32_t room = (uint32_t)(64 - s->nacc) / 10;
        if (end > room)
            end = room;
        uint32_t head = s->head, ones = s->ones, nacc = (uint32_t)s->nacc;
        uint16_t crc = s->crc;
        uint64_t acc = s->acc;
        for (uint32_t i = 0; i < end; i++) {
            uint8_t b = s->ring[head];
            head = (head + 1) % CC_HDLC_TX_RING;
            crc = cc_hdlc_fcs_byte(crc, b);
            uint32_t t = cc_hdlc_tx_stuff[ones][b];
            acc |= (uint64_t)(t & 0xFFFFu) << nacc;
            nacc += (t >> 16) & 0xFu;
            ones = t >> 24;
        }
        s->head = head;
        s->count -= end;
        s->sent += end;
        s->ones = (uint8_t)ones;
        s->nacc = (int32_t)nacc;
        s->crc = crc;
        s->acc = acc;
        return;
    }
    case CC_HDLC_TX_FCS: {
        /* crc holds the complemented FCS; low octet first */
        uint8_t b = (uint8_t)(s->sent == 0 ? s->crc : s->crc >> 8);
        uint32_t t = cc_hdlc_tx_stuff[s->ones][b];
        push_raw(s, t & 0xFFFFu, (int)((t >> 16) & 0xFu));
        s->ones = (uint8_t)(t >> 24);
        if (++s->sent == 2) {
            push_raw(s, FLAG, 8);
            s->ones = 0;
            s->flags = 1;
            s->stats.frames++;
            s->stats.octets += front_len(s);
            drop_front(s);
        }
        return;
    }
    default:
        break;
    }
    /* IDLE: start the front frame once it has an octet (or is closed) and enough flags went out */
    int waiting = s->fcount > 0 && (front_len(s) > 0 || !(s->open && s->fcount == 1));
    if (waiting && s->flags >= s->cfg.min_flags) {
        s->phase = CC_HDLC_TX_DATA;
        s->sent = 0;
        s->crc = 0xFFFF;
        s->ones = 0;
        step(s);
        return;
    }
    if (waiting || s->cfg.idle == CC_HDLC_IDLE_FLAGS) {
        push_raw(s, FLAG, 8);
        if (s->flags < 255)
            s->flags++;
    } else {
        push_raw(s, 0xFFu, 8);
        s->flags = 0;
    }
}

CC_HOT static void run(cc_hdlc_tx_t *restrict s, uint8_t *restrict out, size_t nbits)
{
    size_t n = nbits / 8;
    for (size_t i = 0; i < n; i++) {
        while (s->nacc < 8)
            step(s);
        out[i] = (uint8_t)s->acc;
        s->acc >>= 8;
        s->nacc -= 8;
    }
    int r = (int)(nbits % 8);
    if (r) {
        while (s->nacc < r)
            step(s);
        out[n] = (uint8_t)(s->acc & ((1u << r) - 1u));
        s->acc >>= r;
        s->nacc -= r;
    }
    s->pos += (int64_t)nbits;
}

int cc_hdlc_tx_generate_bits(cc_hdlc_tx_t *s, uint8_t *out, size_t nbits)
{
    if (!valid(s) || (nbits && out == NULL) || nbits > MAX_BITS)
        return CC_ERR_ARG;
    run(s, out, nbits);
    return CC_OK;
}

int cc_hdlc_tx_generate(cc_hdlc_tx_t *s, uint8_t *out, size_t n)
{
    if (n > MAX_BITS / 8)
        return CC_ERR_ARG;
    return cc_hdlc_tx_generate_bits(s, out, 8 * n);
}

int cc_hdlc_tx_generate_batch(cc_hdlc_tx_t *const *s, size_t nch, uint8_t *out, size_t stride, size_t n)
{
    if (s == NULL || (nch && n && out == NULL) || n > MAX_BITS / 8 || (nch > 1 && stride < n))
        return CC_ERR_ARG;
    for (size_t c = 0; c < nch; c++)
        if (!valid(s[c]))
            return CC_ERR_ARG;
    for (size_t c = 0; c < nch; c++)
        run(s[c], out + c * stride, 8 * n);
    return CC_OK;
}
