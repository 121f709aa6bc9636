/*
 * Far-end line mixer: see native/include/ccboard/farmix.h for what and how.
 *
 * Layout: header, then laws[rows] (padded to 8), q15[rows], delay[rows] (int32), then the tx
 * history, hist_ticks blocks of rows x 8 int16. The mix runs in pieces of PIECE rows: first the
 * integer sums into a stack block (a loop over whole 8-sample rows that the compiler
 * vectorises), then the piece is coded row by row with the row's law table.
 */
#include <stdlib.h>
#include <string.h>

#include "ccboard/farmix.h"
#include "ccboard/g711.h"

#define CC_FARMIX_MAGIC 0x3158494Du /* "MIX1" */
#define PIECE 64

struct cc_farmix_s {
    uint32_t magic;
    uint32_t rows;
    uint32_t hist_ticks;
    uint32_t reserved;
    int64_t tick;
    uint64_t laws_off, q15_off, delay_off, hist_off, size;
};

typedef struct {
    uint8_t *laws;
    int32_t *q15;
    int32_t *delay;
    int16_t *hist;
} view_t;

static size_t round8(size_t n) { return (n + 7u) & ~(size_t)7u; }

static int args_ok(uint32_t rows, uint32_t hist_ticks)
{
    return rows >= 1 && rows <= CC_FARMIX_MAX_ROWS && hist_ticks >= 2 && hist_ticks <= CC_FARMIX_MAX_HIST;
}

size_t cc_farmix_state_size(uint32_t rows, uint32_t hist_ticks)
{
    if (!args_ok(rows, hist_ticks))
        return 0;
    return sizeof(cc_farmix_t) + round8(rows) + 2 * round8((size_t)rows * 4)
           + (size_t)hist_ticks * rows * CC_FARMIX_TICK * sizeof(int16_t);
}

static view_t view_of(cc_farmix_t *s)
{
    char *b = (char *)s;
    view_t v;
    v.laws = (uint8_t *)(b + s->laws_off);
    v.q15 = (int32_t *)(void *)(b + s->q15_off);
    v.delay = (int32_t *)(void *)(b + s->delay_off);
    v.hist = (int16_t *)(void *)(b + s->hist_off);
    return v;
}

static int valid(const cc_farmix_t *s) { return s != NULL && s->magic == CC_FARMIX_MAGIC; }

static void clear(cc_farmix_t *s)
{
    view_t v = view_of(s);
    for (uint32_t r = 0; r < s->rows; r++) {
        v.q15[r] = 0;
        v.delay[r] = 1;
    }
    memset(v.hist, 0, (size_t)s->hist_ticks * s->rows * CC_FARMIX_TICK * sizeof(int16_t));
    s->tick = 0;
}

cc_farmix_t *cc_farmix_init(void *mem, uint32_t rows, uint32_t hist_ticks, const uint8_t *laws)
{
    size_t size = cc_farmix_state_size(rows, hist_ticks);
    if (size == 0 || laws == NULL)
        return NULL;
    for (uint32_t r = 0; r < rows; r++)
        if (laws[r] != CC_LAW_ALAW && laws[r] != CC_LAW_ULAW)
            return NULL;
    cc_farmix_t *s = mem != NULL ? mem : malloc(size);
    if (s == NULL)
        return NULL;
    memset(s, 0, sizeof(*s));
    s->magic = CC_FARMIX_MAGIC;
    s->rows = rows;
    s->hist_ticks = hist_ticks;
    s->laws_off = sizeof(cc_farmix_t);
    s->q15_off = s->laws_off + round8(rows);
    s->delay_off = s->q15_off + round8((size_t)rows * 4);
    s->hist_off = s->delay_off + round8((size_t)rows * 4);
    s->size = size;
    memcpy(view_of(s).laws, laws, rows);
    clear(s);
    return s;
}

int cc_farmix_reset(cc_farmix_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    clear(s);
    return CC_OK;
}

int cc_farmix_release(cc_farmix_t *s) { return valid(s) ? CC_OK : CC_ERR_ARG; }

int cc_farmix_free(cc_farmix_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    s->magic = 0;
    free(s);
    return CC_OK;
}

size_t cc_farmix_size(const cc_farmix_t *s) { return valid(s) ? (size_t)s->size : 0; }

int cc_farmix_restore(cc_farmix_t *s, const void *saved, size_t len)
{
    const cc_farmix_t *v = saved;
    if (!valid(s) || saved == NULL || len != s->size || v->magic != CC_FARMIX_MAGIC || v->rows != s->rows
        || v->hist_ticks != s->hist_ticks || v->size != s->size || v->laws_off != s->laws_off
        || v->hist_off != s->hist_off)
        return CC_ERR_STATE;
    memcpy(s, saved, len);
    return CC_OK;
}

int64_t cc_farmix_ticks(const cc_farmix_t *s) { return valid(s) ? s->tick : CC_ERR_ARG; }

int cc_farmix_set_echo(cc_farmix_t *s, uint32_t row, int32_t q15, uint32_t delay)
{
    if (!valid(s) || row >= s->rows || q15 < 0 || q15 > CC_FARMIX_Q15_ONE || delay < 1 || delay >= s->hist_ticks)
        return CC_ERR_ARG;
    view_t v = view_of(s);
    v.q15[row] = q15;
    v.delay[row] = (int32_t)delay;
    return CC_OK;
}

int cc_farmix_put_tx(cc_farmix_t *s, const int16_t *tx, size_t tx_stride, const int64_t *rows, size_t n)
{
    if (!valid(s) || (n > 0 && (tx == NULL || rows == NULL)))
        return CC_ERR_ARG;
    for (size_t i = 0; i < n; i++)
        if (rows[i] < 0 || rows[i] >= (int64_t)s->rows)
            return CC_ERR_ARG;
    view_t v = view_of(s);
    int16_t *block = v.hist + (size_t)(s->tick % s->hist_ticks) * s->rows * CC_FARMIX_TICK;
    for (size_t i = 0; i < n; i++)
        memcpy(block + (size_t)rows[i] * CC_FARMIX_TICK, tx + i * tx_stride, CC_FARMIX_TICK * sizeof(int16_t));
    return CC_OK;
}

/* sum[k][j] = sat16(far + (echo * q) >> 15) for PIECE rows or fewer */
static inline void mix_piece(int16_t (*restrict sum)[CC_FARMIX_TICK], const int16_t *restrict far,
                             const int16_t *restrict hist, uint32_t rows, int64_t now, uint32_t hist_ticks,
                             const int32_t *restrict q15, const int32_t *restrict delay, uint32_t r0, uint32_t n)
{
    for (uint32_t k = 0; k < n; k++) {
        uint32_t r = r0 + k;
        int64_t back = now - delay[r]; /* now = tick mod hist_ticks; 1 <= delay < hist_ticks */
        if (back < 0)
            back += hist_ticks;
        const int16_t *e = hist + ((size_t)back * rows + r) * CC_FARMIX_TICK;
        const int16_t *f = far + (size_t)r * CC_FARMIX_TICK;
        int32_t q = q15[r];
        for (int j = 0; j < CC_FARMIX_TICK; j++) {
            /* arithmetic shift: the echo rounds towards minus infinity, as numpy's >> does */
            int32_t x = (int32_t)f[j] + (((int32_t)e[j] * q) >> 15);
            x = x < -32768 ? -32768 : x > 32767 ? 32767 : x;
            sum[k][j] = (int16_t)x;
        }
    }
}

CC_HOT int cc_farmix_process(cc_farmix_t *s, const int16_t *far, uint8_t *out)
{
    if (!valid(s) || far == NULL || out == NULL)
        return CC_ERR_ARG;
    view_t v = view_of(s);
    int16_t sum[PIECE][CC_FARMIX_TICK];
    const int64_t now = s->tick % s->hist_ticks;
    for (uint32_t r0 = 0; r0 < s->rows; r0 += PIECE) {
        uint32_t n = s->rows - r0 < PIECE ? s->rows - r0 : PIECE;
        mix_piece(sum, far, v.hist, s->rows, now, s->hist_ticks, v.q15, v.delay, r0, n);
        for (uint32_t k = 0; k < n;) {
            /* a run of rows with one law is one encoder call */
            uint8_t law = v.laws[r0 + k];
            uint32_t end = k + 1;
            while (end < n && v.laws[r0 + end] == law)
                end++;
            uint8_t *o = out + (size_t)(r0 + k) * CC_FARMIX_TICK;
            size_t m = (size_t)(end - k) * CC_FARMIX_TICK;
            if (law == CC_LAW_ALAW)
                cc_g711_alaw_encode(o, sum[k], m);
            else
                cc_g711_ulaw_encode(o, sum[k], m);
            k = end;
        }
    }
    s->tick++;
    return CC_OK;
}
