/*
 * Tone generator: see ccboard/tone.h.
 *
 * Sample n of a segment is A sin(w n). Computing sin() per sample is slow and a running
 * resonator drifts with the block split's rounding history; instead the phase is exact at
 * every anchor (multiples of CC_TONE_ANCHOR samples into the segment, one sincos) and in
 * between it is the anchor phasor times a table exp(i w k), so each sample depends only on
 * (segment, position): any block split gives the same output.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/private/tone.h"

#define ANCHOR CC_TONE_ANCHOR
static const double TWO_PI = 6.283185307179586;
/* peak of a 0 dBm0 sine, int16 scale */
static const double DBM0_PEAK = 32768.0 * 0.6966265141; /* 10^(-3.14/20) */

static int seg_ok(const cc_tone_segment_t *g)
{
    return g->f1_hz >= 0.0f && g->f1_hz < 4000.0f && g->f2_hz >= 0.0f && g->f2_hz < 4000.0f
        && g->level1_dbm0 >= -90.0f && g->level1_dbm0 <= 3.0f && g->level2_dbm0 >= -90.0f
        && g->level2_dbm0 <= 3.0f && g->ms >= 0 && g->ms <= 600000 && g->modulate <= 1 && g->once <= 1;
}

static int defs_ok(const cc_tone_segment_t *seg, size_t n)
{
    if (seg == NULL || n == 0 || n > CC_TONE_MAX_SEGMENTS)
        return 0;
    int looping = 0;
    for (size_t i = 0; i < n; i++) {
        if (!seg_ok(&seg[i]))
            return 0;
        if (!seg[i].once || seg[i].ms == 0)
            looping = 1;
    }
    return looping;
}

static double peak(float dbm0) { return DBM0_PEAK * pow(10.0, dbm0 / 20.0); }

/* The derived fields of the segment sounding. */
static void enter_segment(cc_tone_tx_t *s)
{
    const cc_tone_segment_t *g = &s->def[s->seg];
    const double f[2] = {g->f1_hz, g->f2_hz};
    s->amp[0] = g->f1_hz > 0.0f ? peak(g->level1_dbm0) : 0.0;
    s->amp[1] = g->f2_hz > 0.0f ? peak(g->level2_dbm0) : 0.0;
    s->depth = 0.0;
    if (g->modulate) {
        /* DAHDI: carrier * 0.9 * (32768 - modulator) / 32768 */
        s->depth = s->amp[1] / 32768.0;
        s->amp[0] *= 0.9;
    }
    for (int j = 0; j < 2; j++) {
        double w = TWO_PI * f[j] / CC_SAMPLE_RATE;
        for (int k = 0; k < ANCHOR; k++) {
            s->rot[j][k][0] = cos(w * k);
            s->rot[j][k][1] = sin(w * k);
        }
    }
}

static void init_defs(cc_tone_tx_t *s, const cc_tone_segment_t *seg, size_t n)
{
    memset(s, 0, sizeof(*s));
    s->magic = CC_TONE_TX_MAGIC;
    s->nseg = (int32_t)n;
    memcpy(s->def, seg, n * sizeof(*seg));
    s->loop_start = 0;
    while (s->loop_start < s->nseg && s->def[s->loop_start].once && s->def[s->loop_start].ms > 0)
        s->loop_start++;
    enter_segment(s);
}

cc_tone_tx_t *cc_tone_tx_init(cc_tone_tx_t *s, const cc_tone_segment_t *seg, size_t n)
{
    if (!defs_ok(seg, n))
        return NULL;
    if (s == NULL && (s = malloc(sizeof(*s))) == NULL)
        return NULL;
    init_defs(s, seg, n);
    return s;
}

static int valid(const cc_tone_tx_t *s) { return s != NULL && s->magic == CC_TONE_TX_MAGIC; }

int cc_tone_tx_reset(cc_tone_tx_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    cc_tone_segment_t def[CC_TONE_MAX_SEGMENTS];
    size_t n = (size_t)s->nseg;
    memcpy(def, s->def, sizeof(def));
    init_defs(s, def, n);
    return CC_OK;
}

int cc_tone_tx_release(cc_tone_tx_t *s) { return valid(s) ? CC_OK : CC_ERR_ARG; }

int cc_tone_tx_free(cc_tone_tx_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    s->magic = 0;
    free(s);
    return CC_OK;
}

size_t cc_tone_tx_state_size(void) { return sizeof(cc_tone_tx_t); }

int cc_tone_tx_restore(cc_tone_tx_t *s, const void *saved, size_t len)
{
    cc_tone_tx_t t;
    if (s == NULL || saved == NULL)
        return CC_ERR_ARG;
    if (len != sizeof(t))
        return CC_ERR_STATE;
    memcpy(&t, saved, sizeof(t));
    if (t.magic != CC_TONE_TX_MAGIC || t.nseg < 1 || t.nseg > CC_TONE_MAX_SEGMENTS
        || !defs_ok(t.def, (size_t)t.nseg) || t.seg < 0 || t.seg >= t.nseg || t.pos < 0 || t.t < 0
        || (t.def[t.seg].ms > 0 && t.pos >= (int64_t)t.def[t.seg].ms * (CC_SAMPLE_RATE / 1000)))
        return CC_ERR_STATE;
    init_defs(s, t.def, (size_t)t.nseg);
    s->seg = t.seg;
    s->pos = t.pos;
    s->t = t.t;
    enter_segment(s); /* derived fields are recomputed, never trusted */
    return CC_OK;
}

int64_t cc_tone_tx_samples(const cc_tone_tx_t *s) { return valid(s) ? s->t : 0; }
int cc_tone_tx_segment(const cc_tone_tx_t *s) { return valid(s) ? s->seg : CC_ERR_ARG; }

/* n samples of the segment sounding, from s->pos; n never crosses an anchor. */
static void run(const cc_tone_tx_t *restrict s, int16_t *restrict out, int n)
{
    const cc_tone_segment_t *g = &s->def[s->seg];
    double w1 = TWO_PI * g->f1_hz / CC_SAMPLE_RATE, w2 = TWO_PI * g->f2_hz / CC_SAMPLE_RATE;
    int64_t anchor = s->pos - s->pos % ANCHOR;
    int k0 = (int)(s->pos - anchor);
    /* the anchor phase reduced mod 2 pi in double before sin/cos: exact enough for 600 s */
    double p1 = fmod(w1 * (double)anchor, TWO_PI), p2 = fmod(w2 * (double)anchor, TWO_PI);
    double c1 = cos(p1), s1 = sin(p1), c2 = cos(p2), s2 = sin(p2);
    double a1 = s->amp[0], a2 = s->amp[1], m = s->depth;
    for (int i = 0; i < n; i++) {
        const double *r1 = s->rot[0][k0 + i], *r2 = s->rot[1][k0 + i];
        double v1 = s1 * r1[0] + c1 * r1[1]; /* Im(exp(i p1) exp(i w1 k)) */
        double v2 = s2 * r2[0] + c2 * r2[1];
        double y = g->modulate ? a1 * v1 * (1.0 - m * v2) : a1 * v1 + a2 * v2;
        y = y > 32767.0 ? 32767.0 : (y < -32768.0 ? -32768.0 : y);
        out[i] = (int16_t)lrint(y);
    }
}

static void generate(cc_tone_tx_t *s, int16_t *out, size_t n)
{
    size_t i = 0;
    while (i < n) {
        const cc_tone_segment_t *g = &s->def[s->seg];
        int64_t left = g->ms > 0 ? (int64_t)g->ms * (CC_SAMPLE_RATE / 1000) - s->pos : INT64_MAX;
        int64_t to_anchor = ANCHOR - s->pos % ANCHOR;
        int64_t take = (int64_t)(n - i);
        if (take > left)
            take = left;
        if (take > to_anchor)
            take = to_anchor;
        run(s, out + i, (int)take);
        i += (size_t)take;
        s->pos += take;
        s->t += take;
        if (take == left) {
            s->seg = s->seg + 1 < s->nseg ? s->seg + 1 : s->loop_start;
            s->pos = 0;
            enter_segment(s);
        }
    }
}

int cc_tone_tx_generate(cc_tone_tx_t *s, int16_t *out, size_t n)
{
    if (!valid(s) || (n > 0 && out == NULL) || n > (size_t)INT32_MAX)
        return CC_ERR_ARG;
    generate(s, out, n);
    return (int)n;
}

int cc_tone_tx_generate_batch(cc_tone_tx_t *const *s, size_t nch, int16_t *out, size_t stride, size_t n)
{
    if (s == NULL || (n > 0 && nch > 0 && out == NULL) || n > (size_t)INT32_MAX || (nch > 1 && stride < n))
        return CC_ERR_ARG;
    for (size_t c = 0; c < nch; c++)
        if (!valid(s[c]))
            return CC_ERR_ARG;
    for (size_t c = 0; c < nch; c++)
        generate(s[c], out + c * stride, n);
    return (int)n;
}
