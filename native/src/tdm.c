/*
 * TDM switch (time-slot interchange): see native/include/ccboard/tdm.h for what and how.
 *
 * Latency. The state keeps the last chunk of every slot's input in a ring indexed by
 * (sample index mod chunk), so the ring position of the sample one chunk back is the
 * position of the sample being written: output sample t of a call reads the ring while
 * t < chunk, and the call's own input (t - chunk) after that. The ring is refreshed only
 * after every output of the call is written, so any block split gives the same output.
 *
 * Changes. connect/disconnect/set_gain write the pending map entry of the destination and
 * list it once in the dirty list; at each chunk boundary the dirty list is applied and
 * emptied (a gain ramp keeps its entry listed one more chunk, to end the ramp). The move
 * itself is a gather over the applied map: one row per destination, the kind of move chosen
 * per row, never per sample.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/g711.h"
#include "ccboard/private/tdm.h"

/* Samples converted per pass on the gain path (stack buffer). */
#define GAIN_PIECE 64
/* 1.5 * 2^23: adding and subtracting it rounds a float of magnitude < 2^22 to the nearest
 * integer, ties to even (the default rounding mode), in a form the compiler vectorises. A
 * scaled sample is at most 32768 * 10^(24/20) < 2^20; it is rounded first and clipped as an
 * integer (the same result as clipping first: the limits are integers), because gcc will not
 * if-convert float compares without -ffinite-math-only. */
#define ROUND_MAGIC 12582912.0f

typedef struct {
    uint8_t *law;
    cc_tdm_conn_t *conn;
    cc_tdm_next_t *next;
    uint32_t *dirty;
    uint8_t *hist8;
    int16_t *hist16;
} view_t;

static view_t view_of(cc_tdm_t *s)
{
    cc_tdm_layout_t l = cc_tdm_layout_(s->slots, s->chunk);
    char *base = (char *)s;
    view_t v;
    v.law = (uint8_t *)(base + l.law);
    v.conn = (cc_tdm_conn_t *)(base + l.conn);
    v.next = (cc_tdm_next_t *)(base + l.next);
    v.dirty = (uint32_t *)(base + l.dirty);
    v.hist8 = (uint8_t *)(base + l.hist8);
    v.hist16 = (int16_t *)(base + l.hist16);
    return v;
}

static int config_ok(const cc_tdm_config_t *cfg)
{
    return cfg != NULL && cfg->slots >= 1 && cfg->slots <= CC_TDM_MAX_SLOTS && cfg->chunk >= 1
           && cfg->chunk <= CC_TDM_MAX_CHUNK;
}

static int valid(const cc_tdm_t *s) { return s != NULL && s->magic == CC_TDM_MAGIC; }

static uint8_t idle_code(uint8_t law) { return law == CC_LAW_ALAW ? 0xD5 : law == CC_LAW_ULAW ? 0xFF : 0; }

static int gain_db_ok(float db) { return db >= CC_TDM_MIN_GAIN_DB && db <= CC_TDM_MAX_GAIN_DB; }

float cc_tdm_gain_factor(float gain_db) { return powf(10.0f, gain_db / 20.0f); }

static int32_t kind_of(const uint8_t *law, int32_t src, uint32_t dst, float g0, float g1)
{
    if (src < 0)
        return CC_TDM_IDLE;
    uint8_t ls = law[src], ld = law[dst];
    if (g0 != 1.0f || g1 != 1.0f)
        return CC_TDM_GAIN;
    if (ls == ld)
        return ls == CC_LAW_LINEAR ? CC_TDM_COPY16 : CC_TDM_COPY8;
    if (ls == CC_LAW_LINEAR)
        return CC_TDM_ENC;
    if (ld == CC_LAW_LINEAR)
        return CC_TDM_DEC;
    return ls == CC_LAW_ALAW ? CC_TDM_A2U : CC_TDM_U2A;
}

size_t cc_tdm_state_size(const cc_tdm_config_t *cfg)
{
    return config_ok(cfg) ? cc_tdm_layout_(cfg->slots, cfg->chunk).size : 0;
}

static void clear(cc_tdm_t *s)
{
    view_t v = view_of(s);
    s->pos = 0;
    s->t = 0;
    s->ndirty = 0;
    s->nconn = 0;
    for (uint32_t i = 0; i < s->slots; i++) {
        v.conn[i].src = -1;
        v.conn[i].g0 = v.conn[i].g1 = 1.0f;
        v.conn[i].gain_db = 0.0f;
        v.conn[i].kind = CC_TDM_IDLE;
        v.next[i].src = -1;
        v.next[i].gain = 1.0f;
        v.next[i].gain_db = 0.0f;
        v.next[i].dirty = 0;
        v.dirty[i] = 0;
        memset(v.hist8 + (size_t)i * s->chunk, idle_code(v.law[i]), s->chunk);
    }
    memset(v.hist16, 0, (size_t)s->slots * s->chunk * sizeof(int16_t));
}

cc_tdm_t *cc_tdm_init(void *mem, const cc_tdm_config_t *cfg, const uint8_t *laws)
{
    if (!config_ok(cfg) || laws == NULL)
        return NULL;
    for (uint32_t i = 0; i < cfg->slots; i++)
        if (laws[i] > CC_LAW_ULAW)
            return NULL;
    size_t size = cc_tdm_state_size(cfg);
    cc_tdm_t *s = mem != NULL ? (cc_tdm_t *)mem : (cc_tdm_t *)calloc(1, size);
    if (s == NULL)
        return NULL;
    memset(s, 0, size);
    s->magic = CC_TDM_MAGIC;
    s->slots = cfg->slots;
    s->chunk = cfg->chunk;
    s->size = size;
    s->allocated = mem == NULL;
    memcpy(view_of(s).law, laws, cfg->slots);
    for (uint32_t i = 0; i < cfg->slots; i++)
        s->n8 += laws[i] != CC_LAW_LINEAR;
    clear(s);
    return s;
}

int cc_tdm_reset(cc_tdm_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    clear(s);
    return CC_OK;
}

int cc_tdm_release(cc_tdm_t *s) { return valid(s) ? CC_OK : CC_ERR_ARG; }

int cc_tdm_free(cc_tdm_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    if (s->allocated) {
        s->magic = 0;
        free(s);
    }
    return CC_OK;
}

size_t cc_tdm_size(const cc_tdm_t *s) { return valid(s) ? (size_t)s->size : 0; }

/* ---- queued changes: O(1) each ---- */

static void mark(cc_tdm_t *s, view_t *v, uint32_t dst)
{
    if (!v->next[dst].dirty) {
        v->next[dst].dirty = 1;
        v->dirty[s->ndirty++] = dst;
    }
}

int cc_tdm_connect(cc_tdm_t *s, uint32_t src, uint32_t dst, float gain_db)
{
    if (!valid(s) || src >= s->slots || dst >= s->slots || !gain_db_ok(gain_db))
        return CC_ERR_ARG;
    view_t v = view_of(s);
    v.next[dst].src = (int32_t)src;
    v.next[dst].gain = cc_tdm_gain_factor(gain_db);
    v.next[dst].gain_db = gain_db;
    mark(s, &v, dst);
    return CC_OK;
}

int cc_tdm_disconnect(cc_tdm_t *s, uint32_t dst)
{
    if (!valid(s) || dst >= s->slots)
        return CC_ERR_ARG;
    view_t v = view_of(s);
    v.next[dst].src = -1;
    v.next[dst].gain = 1.0f;
    v.next[dst].gain_db = 0.0f;
    mark(s, &v, dst);
    return CC_OK;
}

int cc_tdm_set_gain(cc_tdm_t *s, uint32_t dst, float gain_db)
{
    if (!valid(s) || dst >= s->slots || !gain_db_ok(gain_db))
        return CC_ERR_ARG;
    view_t v = view_of(s);
    if (v.next[dst].src < 0)
        return CC_ERR_ARG;
    v.next[dst].gain = cc_tdm_gain_factor(gain_db);
    v.next[dst].gain_db = gain_db;
    mark(s, &v, dst);
    return CC_OK;
}

int cc_tdm_disconnect_all(cc_tdm_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    view_t v = view_of(s);
    for (uint32_t d = 0; d < s->slots; d++)
        if (v.next[d].src >= 0 || v.conn[d].src >= 0)
            cc_tdm_disconnect(s, d);
    return CC_OK;
}

int32_t cc_tdm_source(const cc_tdm_t *s, uint32_t dst, int pending)
{
    if (!valid(s) || dst >= s->slots)
        return -1;
    view_t v = view_of((cc_tdm_t *)s);
    return pending ? v.next[dst].src : v.conn[dst].src;
}

float cc_tdm_gain_db(const cc_tdm_t *s, uint32_t dst, int pending)
{
    if (!valid(s) || dst >= s->slots)
        return 0.0f;
    view_t v = view_of((cc_tdm_t *)s);
    if (pending)
        return v.next[dst].src >= 0 ? v.next[dst].gain_db : 0.0f;
    return v.conn[dst].src >= 0 ? v.conn[dst].gain_db : 0.0f;
}

uint32_t cc_tdm_connections(const cc_tdm_t *s) { return valid(s) ? s->nconn : 0; }
uint32_t cc_tdm_pending(const cc_tdm_t *s) { return valid(s) ? s->ndirty : 0; }
int64_t cc_tdm_samples(const cc_tdm_t *s) { return valid(s) ? s->t : 0; }

cc_law cc_tdm_law(const cc_tdm_t *s, uint32_t slot)
{
    if (!valid(s) || slot >= s->slots)
        return CC_LAW_LINEAR;
    return (cc_law)view_of((cc_tdm_t *)s).law[slot];
}

/* At a chunk boundary: the dirty list into the applied map, O(entries listed). */
static void apply_pending(cc_tdm_t *s, view_t *v)
{
    uint32_t keep = 0;
    for (uint32_t q = 0; q < s->ndirty; q++) {
        uint32_t d = v->dirty[q];
        cc_tdm_next_t *nx = &v->next[d];
        cc_tdm_conn_t *c = &v->conn[d];
        int ramp = 0;
        if (nx->src != c->src) {
            s->nconn += (uint32_t)(nx->src >= 0) - (uint32_t)(c->src >= 0);
            c->src = nx->src;
            c->g0 = c->g1 = nx->gain;
        } else if (nx->src >= 0 && nx->gain != c->g1) {
            c->g0 = c->g1;
            c->g1 = nx->gain;
            ramp = 1;
        } else {
            c->g0 = c->g1;
        }
        c->gain_db = nx->gain_db;
        c->kind = kind_of(v->law, c->src, d, c->g0, c->g1);
        if (ramp)
            v->dirty[keep++] = d; /* listed again at the next boundary, which ends the ramp */
        else
            nx->dirty = 0;
    }
    s->ndirty = keep;
}

/* ---- the move ---- */

/* Scale m samples by a constant gain, round half to even, saturate. A 1 ms chunk (8) takes a
 * fixed-count loop the compiler turns into straight vector code; rows are too short for a
 * target clone's call to pay off. */
static inline void scale(const int16_t *restrict lin, size_t m, float g, int16_t *restrict out)
{
    if (m == 8) {
        for (size_t k = 0; k < 8; k++) {
            int32_t r = (int32_t)(((float)lin[k] * g + ROUND_MAGIC) - ROUND_MAGIC);
            r = r < -32768 ? -32768 : r;
            out[k] = (int16_t)(r > 32767 ? 32767 : r);
        }
        return;
    }
    for (size_t k = 0; k < m; k++) {
        int32_t r = (int32_t)(((float)lin[k] * g + ROUND_MAGIC) - ROUND_MAGIC);
        r = r < -32768 ? -32768 : r;
        out[k] = (int16_t)(r > 32767 ? 32767 : r);
    }
}

/* The same with the gain ramped: position j of the chunk gets g0 + step * (j + 1). */
static void scale_ramp(const int16_t *restrict lin, size_t m, float g0, float step, uint32_t j0,
                       int16_t *restrict out)
{
    for (size_t k = 0; k < m; k++) {
        float g = g0 + step * (float)(j0 + (uint32_t)k + 1u);
        int32_t r = (int32_t)(((float)lin[k] * g + ROUND_MAGIC) - ROUND_MAGIC);
        r = r < -32768 ? -32768 : r;
        out[k] = (int16_t)(r > 32767 ? 32767 : r);
    }
}

static void move_gain(const cc_tdm_conn_t *c, uint8_t ls, uint8_t ld, uint32_t chunk, uint32_t j0,
                      const uint8_t *restrict s8, const int16_t *restrict s16, uint8_t *restrict d8,
                      int16_t *restrict d16, size_t m)
{
    int16_t lin[GAIN_PIECE], y[GAIN_PIECE];
    const int ramp = c->g0 != c->g1;
    const float step = (c->g1 - c->g0) / (float)chunk;
    for (size_t p = 0; p < m; p += GAIN_PIECE) {
        size_t k = m - p < GAIN_PIECE ? m - p : GAIN_PIECE;
        const int16_t *in = lin;
        if (ls == CC_LAW_LINEAR)
            in = s16 + p;
        else if (ls == CC_LAW_ALAW)
            cc_g711_alaw_decode(lin, s8 + p, k);
        else
            cc_g711_ulaw_decode(lin, s8 + p, k);
        int16_t *out = ld == CC_LAW_LINEAR ? d16 + p : y;
        if (ramp)
            scale_ramp(in, k, c->g0, step, j0 + (uint32_t)p, out);
        else
            scale(in, k, c->g0, out);
        if (ld == CC_LAW_ALAW)
            cc_g711_alaw_encode(d8 + p, y, k);
        else if (ld == CC_LAW_ULAW)
            cc_g711_ulaw_encode(d8 + p, y, k);
    }
}

/* Row copies: the 1 ms chunk (8 samples) as fixed-size moves the compiler inlines. */
static inline void copy_bytes(uint8_t *restrict d, const uint8_t *restrict s, size_t m)
{
    if (m == 8) {
        uint64_t u;
        memcpy(&u, s, 8);
        memcpy(d, &u, 8);
    } else {
        memcpy(d, s, m);
    }
}

static inline void copy_words(int16_t *restrict d, const int16_t *restrict s, size_t m)
{
    if (m == 8) {
        uint64_t u[2];
        memcpy(u, s, 16);
        memcpy(d, u, 16);
    } else {
        memcpy(d, s, m * sizeof(int16_t));
    }
}

/* Samples [a, a+m) of the call, all inside one chunk starting at chunk position j0. Sources
 * come from the ring (a < chunk) or from the call's input one chunk back. */
static void route(cc_tdm_t *s, view_t *v, const uint8_t *x8, size_t x8s, const int16_t *x16, size_t x16s,
                  uint8_t *y8, size_t y8s, int16_t *y16, size_t y16s, size_t a, size_t m, uint32_t j0)
{
    const uint32_t chunk = s->chunk;
    const int ring = a < chunk;
    for (uint32_t d = 0; d < s->slots; d++) {
        const cc_tdm_conn_t *c = &v->conn[d];
        uint8_t ld = v->law[d];
        uint8_t *d8 = ld != CC_LAW_LINEAR ? y8 + d * y8s + a : NULL;
        int16_t *d16 = ld == CC_LAW_LINEAR ? y16 + d * y16s + a : NULL;
        if (c->kind == CC_TDM_IDLE) {
            if (d8 != NULL)
                memset(d8, idle_code(ld), m);
            else
                memset(d16, 0, m * sizeof(int16_t));
            continue;
        }
        size_t src = (size_t)c->src;
        uint8_t ls = v->law[src];
        const uint8_t *s8 = NULL;
        const int16_t *s16 = NULL;
        if (ls != CC_LAW_LINEAR)
            s8 = ring ? v->hist8 + src * chunk + j0 : x8 + src * x8s + (a - chunk);
        else
            s16 = ring ? v->hist16 + src * chunk + j0 : x16 + src * x16s + (a - chunk);
        switch (c->kind) {
        case CC_TDM_COPY8:
            copy_bytes(d8, s8, m);
            break;
        case CC_TDM_COPY16:
            copy_words(d16, s16, m);
            break;
        case CC_TDM_A2U:
            cc_g711_alaw_to_ulaw(d8, s8, m);
            break;
        case CC_TDM_U2A:
            cc_g711_ulaw_to_alaw(d8, s8, m);
            break;
        case CC_TDM_DEC:
            if (ls == CC_LAW_ALAW)
                cc_g711_alaw_decode(d16, s8, m);
            else
                cc_g711_ulaw_decode(d16, s8, m);
            break;
        case CC_TDM_ENC:
            if (ld == CC_LAW_ALAW)
                cc_g711_alaw_encode(d8, s16, m);
            else
                cc_g711_ulaw_encode(d8, s16, m);
            break;
        default:
            move_gain(c, ls, ld, chunk, j0, s8, s16, d8, d16, m);
            break;
        }
    }
}

/* After the outputs: keep the call's last min(n, chunk) input samples in the ring. */
static void keep_history(cc_tdm_t *s, view_t *v, const uint8_t *x8, size_t x8s, const int16_t *x16,
                         size_t x16s, uint32_t pos0, size_t n)
{
    const uint32_t chunk = s->chunk;
    size_t k = n < chunk ? n : chunk;
    size_t r = (pos0 + (n - k)) % chunk;        /* ring position of the first kept sample */
    size_t first = chunk - r < k ? chunk - r : k; /* up to the ring's end, then from 0 */
    if (k == chunk && r == 0 && (x8 == NULL || x8s == chunk) && (x16 == NULL || x16s == chunk)) {
        /* packed rows, ring aligned: each plane is one block copy (rows of the other law
         * are copied too and never read) */
        if (s->n8 > 0)
            memcpy(v->hist8, x8 + (n - k), (size_t)s->slots * chunk);
        if (s->n8 < s->slots)
            memcpy(v->hist16, x16 + (n - k), (size_t)s->slots * chunk * sizeof(int16_t));
        return;
    }
    for (uint32_t i = 0; i < s->slots; i++) {
        if (v->law[i] != CC_LAW_LINEAR) {
            const uint8_t *in = x8 + i * x8s + (n - k);
            uint8_t *h = v->hist8 + (size_t)i * chunk;
            memcpy(h + r, in, first);
            memcpy(h, in + first, k - first);
        } else {
            const int16_t *in = x16 + i * x16s + (n - k);
            int16_t *h = v->hist16 + (size_t)i * chunk;
            memcpy(h + r, in, first * sizeof(int16_t));
            memcpy(h, in + first, (k - first) * sizeof(int16_t));
        }
    }
}

int cc_tdm_process(cc_tdm_t *s, const uint8_t *x8, size_t x8_stride, const int16_t *x16,
                   size_t x16_stride, uint8_t *y8, size_t y8_stride, int16_t *y16, size_t y16_stride,
                   size_t n)
{
    if (!valid(s))
        return CC_ERR_ARG;
    if (n == 0)
        return CC_OK;
    view_t v = view_of(s);
    const int any8 = s->n8 > 0, any16 = s->n8 < s->slots;
    if ((any8 && (x8 == NULL || y8 == NULL)) || (any16 && (x16 == NULL || y16 == NULL)))
        return CC_ERR_ARG;
    if (s->slots > 1 && ((any8 && (x8_stride < n || y8_stride < n)) || (any16 && (x16_stride < n || y16_stride < n))))
        return CC_ERR_ARG;
    const uint32_t chunk = s->chunk;
    const uint32_t pos0 = s->pos;
    size_t t = 0;
    while (t < n) {
        if (s->pos == 0 && s->ndirty)
            apply_pending(s, &v);
        size_t m = chunk - s->pos;
        m = m < n - t ? m : n - t;
        /* the source switches from the ring to the input at call sample `chunk` */
        size_t split = t < chunk && t + m > chunk ? chunk - t : m;
        route(s, &v, x8, x8_stride, x16, x16_stride, y8, y8_stride, y16, y16_stride, t, split, s->pos);
        if (split < m)
            route(s, &v, x8, x8_stride, x16, x16_stride, y8, y8_stride, y16, y16_stride, t + split, m - split,
                  s->pos + (uint32_t)split);
        s->pos = (uint32_t)((s->pos + m) % chunk);
        t += m;
    }
    keep_history(s, &v, x8, x8_stride, x16, x16_stride, pos0, n);
    s->t += (int64_t)n;
    return CC_OK;
}

/* ---- save / restore ---- */

int cc_tdm_restore(cc_tdm_t *s, const void *saved, size_t len)
{
    if (!valid(s) || saved == NULL)
        return CC_ERR_ARG;
    struct cc_tdm_s h;
    if (len != s->size || len < sizeof(h))
        return CC_ERR_STATE;
    memcpy(&h, saved, sizeof(h));
    if (h.magic != CC_TDM_MAGIC || h.slots != s->slots || h.chunk != s->chunk || h.size != s->size || h.t < 0
        || h.pos != (uint32_t)(h.t % (int64_t)h.chunk) || h.ndirty > h.slots || h.nconn > h.slots)
        return CC_ERR_STATE;
    /* check the arrays in a view of the saved bytes before touching s */
    cc_tdm_layout_t l = cc_tdm_layout_(h.slots, h.chunk);
    const char *b = (const char *)saved;
    uint32_t nconn = 0, nflag = 0;
    float gmax = cc_tdm_gain_factor(CC_TDM_MAX_GAIN_DB) * 1.001f;
    for (uint32_t d = 0; d < h.slots; d++) {
        uint8_t law;
        cc_tdm_conn_t c;
        cc_tdm_next_t nx;
        memcpy(&law, b + l.law + d, 1);
        memcpy(&c, b + l.conn + d * sizeof(c), sizeof(c));
        memcpy(&nx, b + l.next + d * sizeof(nx), sizeof(nx));
        if (law > CC_LAW_ULAW || c.src < -1 || c.src >= (int32_t)h.slots || nx.src < -1
            || nx.src >= (int32_t)h.slots || !(c.g0 >= 0.0f && c.g0 <= gmax) || !(c.g1 >= 0.0f && c.g1 <= gmax)
            || !(nx.gain >= 0.0f && nx.gain <= gmax) || !gain_db_ok(c.gain_db) || !gain_db_ok(nx.gain_db)
            || (nx.dirty != 0 && nx.dirty != 1))
            return CC_ERR_STATE;
        nconn += c.src >= 0;
        nflag += (uint32_t)nx.dirty;
    }
    uint32_t n8 = 0;
    for (uint32_t d = 0; d < h.slots; d++)
        n8 += ((const uint8_t *)b)[l.law + d] != CC_LAW_LINEAR;
    if (nconn != h.nconn || nflag != h.ndirty || n8 != h.n8)
        return CC_ERR_STATE;
    /* every listed entry is in range, flagged and listed once: with the flag count equal to
     * the list length, that makes the list exactly the flagged entries */
    uint8_t seen[CC_TDM_MAX_SLOTS / 8] = {0};
    for (uint32_t q = 0; q < h.ndirty; q++) {
        uint32_t d;
        cc_tdm_next_t nx;
        memcpy(&d, b + l.dirty + q * sizeof(d), sizeof(d));
        if (d >= h.slots || (seen[d >> 3] >> (d & 7)) & 1u)
            return CC_ERR_STATE;
        seen[d >> 3] |= (uint8_t)(1u << (d & 7));
        memcpy(&nx, b + l.next + d * sizeof(nx), sizeof(nx));
        if (!nx.dirty)
            return CC_ERR_STATE;
    }
    uint32_t allocated = s->allocated;
    memcpy(s, saved, len);
    s->allocated = allocated;
    view_t v = view_of(s);
    for (uint32_t d = 0; d < s->slots; d++)
        v.conn[d].kind = kind_of(v.law, v.conn[d].src, d, v.conn[d].g0, v.conn[d].g1);
    return CC_OK;
}
