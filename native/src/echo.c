/*
 * Line echo canceller: see ccboard/echo.h for what it does and the figures it meets.
 *
 * Signals. x = Rin after the DC blocker (the reference), s = Sin after the same DC blocker.
 * The blocker is linear and time-invariant, so s = h * x + (filtered near end): the echo path
 * seen between the filtered signals is the true one. History holds x, oldest first; the
 * coefficients w[0..L-1] pair with x[i-L+1..i], so w[L-1] is the zero-delay tap and every
 * filter output is a plain forward dot product.
 *
 * Chunk of 8 samples starting at history index b (block LMS):
 *   y[n] = sum_j w[j] x[b+n-L+1+j]                      n = 0..7, w of the chunk start
 *   e[n] = s[n] - y[n]
 *   w[j] += g[j] * sum_n c[n] x[b+n-L+1+j],  c[n] = mu e[n] / (P[n] + delta)
 * where P[n] = sum of x^2 over the L samples ending at n (the NLMS normaliser) and g[j] is the
 * IPNLMS gain (Benesty and Gay, ICASSP 2002)
 *   g[j] = (1 - alpha)/2 + (1 + alpha) L |w[j]| / (2 |w|_1 + eps)
 * whose mean over j is 1, so P stays the right normaliser (x'Gx ~ P for mean(g) = 1).
 * |w|_1 comes from the previous update (summed in the same loop), so one pass does it all.
 *
 * Sums are kept in 16 lanes (lane l takes taps j = l mod 16), then the lanes are added in a fixed
 * order: gcc vectorises these loops without -ffast-math, and within one build a sample filtered
 * alone (fir1) gets the same bits as one filtered in a chunk (fir8). So any split of the input
 * gives bit-identical output. 16 lanes fill one AVX-512 register or two AVX2 ones; those two
 * builds use fused multiply-adds, the baseline does not, so builds differ by rounding (below).
 *
 * Levels: int16-scale mean squares; 0 dBm0 is a sine of peak 22767 (spandsp's 3.14 dB
 * reference), power 22767^2/2.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/private/echo.h"
#include "echo_tables.h"

#define B CC_ECHO_BLOCK
#define LANES 16
#define NHB (CC_ECHO_HIST / CC_ECHO_BLOCK)
#define GROUP CC_ECHO_GROUP
#define NGROUP (CC_ECHO_MAX_TAPS / CC_ECHO_GROUP)

/* The tap loops (filter, update) are built three times, the same expression in each, and one
 * build is picked at run time per call:
 *  - wide: AVX-512F with FMA; the 16 lanes as one zmm register, and all 8 outputs of a chunk
 *    filtered in one pass (8 accumulators of 32 registers); when the state's place allows, the
 *    history windows come from aligned blocks (fir8_blocks, update8_blocks below);
 *  - avx2: AVX2 with FMA; the 16 lanes as two unrolled loops of 8 (two ymm registers; one
 *    loop of 16 would keep the accumulators in memory), 4 outputs per pass;
 *  - base: the x86-64 baseline (SSE2), walked as avx2.
 * MADD(a, b, c) = a*b + c is fmaf() in the FMA builds (one rounding: one vfmadd231ps per tap
 * and output, half the arithmetic of a multiply and an add) and a multiply then an add in the
 * base build (C99 mode keeps fp-contract off). So outputs differ between builds by rounding
 * only; within one build every path does the same operations in the same order, which is
 * what makes any split of the input give bit-identical output. gcc 12, -O2
 * -fvect-cost-model=dynamic (setup.py): the inner loops compile to vfmadd231ps on zmm (wide)
 * and ymm (avx2), vmulps/vaddps on xmm (base), with no scalar remainder. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) \
    && !defined(CC_NO_CLONES)
#define HAVE_CLONES 1
#define ATTR_WIDE __attribute__((target("avx512f,fma")))
#define ATTR_AVX2 __attribute__((target("avx2,fma")))
/* 2: wide, 1: avx2, 0: base */
static int isa(void)
{
    if (!__builtin_cpu_supports("fma"))
        return 0;
    return __builtin_cpu_supports("avx512f") ? 2 : __builtin_cpu_supports("avx2") ? 1 : 0;
}
#else
#define HAVE_CLONES 0
#define isa() 0
#endif
#define ATTR_BASE
#define MADD_FMA(a, b, c) fmaf((a), (b), (c))
#define MADD_BASE(a, b, c) ((a) * (b) + (c))
#define LANES_WIDE for (int l = 0; l < LANES; l++)
#define LANES_NARROW _Pragma("GCC unroll 2") for (int h = 0; h < LANES; h += 8) for (int l = h; l < h + 8; l++)

static const float DBM0_POWER = 22767.0f * 22767.0f / 2.0f;
#define DBM0(db) (DBM0_POWER * powf(10.0f, (db) / 10.0f))

/* DC blocker pole: 1 - 1/64, about 20 Hz (-3 dB): removes DC and hum, keeps the voice band. */
#define HP_POLE 0.984375f
/* Geigel threshold: 3 dB by default, not the classic 6. With the G.168 paths scaled to 6 dB ERL
 * on the CSS, the echo's peaks exceed max|Rin| - 6 dB once per CSS half period (measured: 17-35
 * false onsets in 6 s, costing up to 10 dB of ERLE at 1 s); the two-path guard catches the
 * divergence a quieter near end could cause. */
#define DT_HANGOVER 240         /* 30 ms of double talk after the last Geigel hit */
#define EVAL_EVERY 8            /* the foreground is checked on one chunk in eight */
#define EVAL_SPAN 4             /* evaluated chunks summed per decision */
#define TRANSFER_RUNS 2         /* decisions in a row where the background is better */
#define ROLLBACK_RUNS 1         /* decisions where it is 6 dB worse */
#define QUIET_RELEASE 2000      /* 250 ms of silence re-enables after the tone disabler */
#define TONE_MIN_RUN 15         /* 150 ms of 2100 Hz before a reversal counts */
#define LAG_EVERY 8             /* chunks between refreshes of the projection's shape */
#define APA_REG 0.03f           /* projection regularisation, relative to the normaliser */
#define SMOOTH (1.0f / 32.0f)   /* level meters: 32 chunks = 32 ms */
#define SLOW (1.0f / 256.0f)    /* ERL and ERLE: 256 ms, longer than the echo delay and a syllable */

static float far_threshold(void) { return DBM0(-45.0f); }    /* mean power over the tail */
static float quiet_threshold(void) { return DBM0(-36.0f); }  /* tone-disable hold level */
static float tone_threshold(void) { return DBM0(-36.0f); }   /* 2100 Hz level */

void cc_echo_config_default(cc_echo_config_t *cfg)
{
    cfg->taps = CC_ECHO_MAX_TAPS;
    cfg->flags = CC_ECHO_DEFAULT;
    cfg->mu = 0.5f;
    cfg->alpha = 0.0f;
    cfg->geigel_db = 3.0f;
}

static int config_ok(const cc_echo_config_t *c)
{
    /* written so that NaN fails */
    return c->taps >= CC_ECHO_MIN_TAPS && c->taps <= CC_ECHO_MAX_TAPS && c->taps % CC_ECHO_GROUP == 0
        && (c->flags & ~(uint32_t)CC_ECHO_DEFAULT) == 0 && c->mu > 0.0f && c->mu <= 1.0f
        && c->alpha >= -1.0f && c->alpha <= 1.0f && c->geigel_db >= 0.0f && c->geigel_db <= 30.0f;
}

static void tone_clear(cc_echo_tone_t *d) { memset(d, 0, sizeof(*d)); }

cc_echo_t *cc_echo_init(cc_echo_t *s, const cc_echo_config_t *cfg)
{
    cc_echo_config_t def;
    if (cfg == NULL) {
        cc_echo_config_default(&def);
        cfg = &def;
    }
    if (!config_ok(cfg))
        return NULL;
    if (s == NULL && (s = malloc(sizeof(*s))) == NULL)
        return NULL;
    memset(s, 0, sizeof(*s));
    s->magic = CC_ECHO_MAGIC;
    s->cfg = *cfg;
    s->hpos = cfg->taps;
    s->noise = -1.0f; /* no estimate yet: the first quiet chunk sets it */
    s->cng_seed = 0x2545F491u;
    s->geigel = powf(10.0f, -cfg->geigel_db / 20.0f);
    tone_clear(&s->tone[0]);
    tone_clear(&s->tone[1]);
    return s;
}

static int valid(const cc_echo_t *s) { return s != NULL && s->magic == CC_ECHO_MAGIC; }

int cc_echo_reset(cc_echo_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    cc_echo_config_t cfg = s->cfg;
    cc_echo_init(s, &cfg);
    return CC_OK;
}

int cc_echo_release(cc_echo_t *s) { return valid(s) ? CC_OK : CC_ERR_ARG; }

int cc_echo_free(cc_echo_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    s->magic = 0;
    free(s);
    return CC_OK;
}

size_t cc_echo_state_size(void) { return sizeof(cc_echo_t); }

static int all_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

int cc_echo_restore(cc_echo_t *s, const void *saved, size_t len)
{
    if (s == NULL || saved == NULL)
        return CC_ERR_ARG;
    if (len != sizeof(cc_echo_t))
        return CC_ERR_STATE;
    cc_echo_t *t = malloc(sizeof(*t));
    if (t == NULL)
        return CC_ERR_NOMEM;
    memcpy(t, saved, sizeof(*t));
    memset(t->hist + CC_ECHO_HIST, 0, CC_ECHO_HIST_PAD * sizeof(float)); /* read, never used */
    int L = t->cfg.taps;
    int ok = t->magic == CC_ECHO_MAGIC && config_ok(&t->cfg) && t->pos >= 0 && t->pos < B
        && t->hpos >= L && t->hpos + B <= CC_ECHO_HIST && t->t >= 0 && t->dt_hang >= 0 && t->dt_hang <= DT_HANGOVER && t->quiet >= 0
        && t->better >= 0 && t->worse >= 0 && t->acc_n >= 0 && t->acc_n < EVAL_SPAN && t->lag_age >= 0 && t->win_power >= 0.0
        && (t->pos == 0 || t->hpos + t->pos <= CC_ECHO_HIST)
        && all_finite(t->w, CC_ECHO_MAX_TAPS) && all_finite(t->fg, CC_ECHO_MAX_TAPS)
        && all_finite(t->hist, CC_ECHO_HIST) && all_finite(t->bmax, NHB)
        && all_finite(t->benergy, NHB) && all_finite(t->err, B) && all_finite(t->sinf, B)
        && all_finite(&t->rin_blk, 4) && all_finite(t->gnorm, NGROUP) && all_finite(&t->hp_rx1, 4)
        && all_finite(&t->p_rin, 12) && all_finite(&t->acc_e, 3) && all_finite(t->rho, B) && isfinite(t->geigel) && t->tone_ph >= 0 && t->tone_ph < CC_ECHO_TONE_WIN && t->tone_ph % B == 0 && all_finite(&t->tone[0].zr, 9) && all_finite(&t->tone[1].zr, 9);
    if (ok)
        memcpy(s, t, sizeof(*t));
    free(t);
    return ok ? CC_OK : CC_ERR_STATE;
}

int cc_echo_set_bypass(cc_echo_t *s, int on)
{
    if (!valid(s))
        return CC_ERR_ARG;
    s->bypass = on != 0;
    return CC_OK;
}

static float to_dbm0(float p) { return p > 0.0f ? 10.0f * log10f(p / DBM0_POWER) : -200.0f; }
static float ratio_db(float a, float b) { return (a > 0.0f && b > 0.0f) ? 10.0f * log10f(a / b) : 0.0f; }

int cc_echo_get_stats(const cc_echo_t *s, cc_echo_stats_t *st)
{
    if (!valid(s) || st == NULL)
        return CC_ERR_ARG;
    memset(st, 0, sizeof(*st));
    st->samples = s->t;
    st->erl_db = ratio_db(s->s_rin, s->s_sin);
    st->erle_db = ratio_db(s->s_sin, s->s_res);
    st->rin_dbm0 = to_dbm0(s->p_rin);
    st->sin_dbm0 = to_dbm0(s->p_sin);
    st->residual_dbm0 = to_dbm0(s->p_res);
    st->noise_dbm0 = to_dbm0(s->noise);
    st->double_talk_count = s->dt_count;
    st->transfers = s->transfers;
    st->rollbacks = s->rollbacks;
    st->tone_disables = s->tone_disables;
    st->double_talk = s->dt_hang > 0;
    st->nlp = (uint8_t)s->nlp_on;
    st->tone_disabled = (uint8_t)s->tone_disabled;
    st->bypass = (uint8_t)s->bypass;
    return CC_OK;
}

int cc_echo_get_config(const cc_echo_t *s, cc_echo_config_t *cfg)
{
    if (!valid(s) || cfg == NULL)
        return CC_ERR_ARG;
    *cfg = s->cfg;
    return CC_OK;
}

/* ---- the vectorised loops ---- */

/* always inlined: a call from a wider build to these baseline copies would cost an SSE/AVX
 * transition per call */
static inline __attribute__((always_inline)) float hsum8(const float *a) { return ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7])); }

static inline __attribute__((always_inline)) float hsum16(const float *a)
{
    float h[8];
    for (int l = 0; l < 8; l++)
        h[l] = a[l] + a[l + 8];
    return hsum8(h);
}

/* One output: y = sum_j w[j] x[j], in 16 lanes (for a partial chunk: not hot). */
#define FIR1(NAME, ATTR, MADD)                                                                \
    ATTR static float NAME(const float *restrict w, const float *restrict x, int L)           \
    {                                                                                         \
        float a[LANES] = {0};                                                                 \
        for (int j = 0; j < L; j += LANES)                                                    \
            for (int l = 0; l < LANES; l++)                                                   \
                a[l] = MADD(w[j + l], x[j + l], a[l]);                                        \
        return hsum16(a);                                                                     \
    }

/* K outputs y[n] = sum_j w[j] x[j + n], n = 0..K-1 (K = 4 or 8): each w[j] is loaded once for
 * them. Lane l of output n does the same operations in the same order as FIR1 on x + n. */
#define FIR_STEP(MADD, A, N) A[l] = MADD(c, xj[l + (N)], A[l])
#define FIR4_BODY(MADD)                                                                       \
    FIR_STEP(MADD, a0, 0);                                                                    \
    FIR_STEP(MADD, a1, 1);                                                                    \
    FIR_STEP(MADD, a2, 2);                                                                    \
    FIR_STEP(MADD, a3, 3)
#define FIR8_BODY(MADD)                                                                       \
    FIR4_BODY(MADD);                                                                          \
    FIR_STEP(MADD, a4, 4);                                                                    \
    FIR_STEP(MADD, a5, 5);                                                                    \
    FIR_STEP(MADD, a6, 6);                                                                    \
    FIR_STEP(MADD, a7, 7)
#define FIRK(NAME, ATTR, MADD, K, LANE_LOOP, BODY)                                            \
    ATTR static void NAME(const float *restrict w, const float *restrict x, int L, float *restrict y) \
    {                                                                                         \
        float a0[LANES] = {0}, a1[LANES] = {0}, a2[LANES] = {0}, a3[LANES] = {0};             \
        float a4[LANES] = {0}, a5[LANES] = {0}, a6[LANES] = {0}, a7[LANES] = {0};             \
        for (int j = 0; j < L; j += LANES) {                                                  \
            const float *xj = x + j;                                                          \
            const float *wj = w + j;                                                          \
            LANE_LOOP {                                                                       \
                float c = wj[l];                                                              \
                BODY(MADD);                                                                   \
            }                                                                                 \
        }                                                                                     \
        y[0] = hsum16(a0);                                                                    \
        y[1] = hsum16(a1);                                                                    \
        y[2] = hsum16(a2);                                                                    \
        y[3] = hsum16(a3);                                                                    \
        if ((K) == 8) {                                                                       \
            y[4] = hsum16(a4);                                                                \
            y[5] = hsum16(a5);                                                                \
            y[6] = hsum16(a6);                                                                \
            y[7] = hsum16(a7);                                                                \
        }                                                                                     \
    }

/* IPNLMS chunk update, gains per group of 32 taps: w[j] += gain[j/32] sum_n c[n] x[j + n], the
 * sum as a chain of MADDs (9 per tap with the gain). Writes each group's new sum |w| to gnorm,
 * its 16 lanes added after the tap loop, where the reductions do not stall it. */
#define UPDATE8(NAME, ATTR, MADD, LANE_LOOP)                                                  \
    ATTR static void NAME(float *restrict w, const float *restrict x, int L, const float *restrict c, \
                          const float *restrict gain, float *restrict gnorm)                  \
    {                                                                                         \
        const float c0 = c[0], c1 = c[1], c2 = c[2], c3 = c[3];                               \
        const float c4 = c[4], c5 = c[5], c6 = c[6], c7 = c[7];                               \
        float lanes[NGROUP][LANES];                                                           \
        for (int g = 0; g < L / GROUP; g++) {                                                 \
            const float gg = gain[g];                                                         \
            float norm[LANES] = {0};                                                          \
            for (int j = g * GROUP; j < (g + 1) * GROUP; j += LANES) {                        \
                const float *xj = x + j;                                                      \
                float *wj = w + j;                                                            \
                LANE_LOOP {                                                                   \
                    float grad = c0 * xj[l];                                                  \
                    grad = MADD(c1, xj[l + 1], grad);                                         \
                    grad = MADD(c2, xj[l + 2], grad);                                         \
                    grad = MADD(c3, xj[l + 3], grad);                                         \
                    grad = MADD(c4, xj[l + 4], grad);                                         \
                    grad = MADD(c5, xj[l + 5], grad);                                         \
                    grad = MADD(c6, xj[l + 6], grad);                                         \
                    grad = MADD(c7, xj[l + 7], grad);                                         \
                    float v = MADD(gg, grad, wj[l]);                                          \
                    wj[l] = v;                                                                \
                    norm[l] += fabsf(v);                                                      \
                }                                                                             \
            }                                                                                 \
            for (int l = 0; l < LANES; l++)                                                   \
                lanes[g][l] = norm[l];                                                        \
        }                                                                                     \
        for (int g = 0; g < L / GROUP; g++)                                                   \
            gnorm[g] = hsum16(lanes[g]);                                                      \
    }

FIR1(fir1_base, ATTR_BASE, MADD_BASE)
FIRK(fir4_base, ATTR_BASE, MADD_BASE, 4, LANES_NARROW, FIR4_BODY)
UPDATE8(update8_base, ATTR_BASE, MADD_BASE, LANES_NARROW)
#if HAVE_CLONES
FIR1(fir1_avx2, ATTR_AVX2, MADD_FMA)
FIRK(fir4_avx2, ATTR_AVX2, MADD_FMA, 4, LANES_NARROW, FIR4_BODY)
UPDATE8(update8_avx2, ATTR_AVX2, MADD_FMA, LANES_NARROW)
FIR1(fir1_wide, ATTR_WIDE, MADD_FMA)
FIRK(fir8_wide, ATTR_WIDE, MADD_FMA, 8, LANES_WIDE, FIR8_BODY)
UPDATE8(update8_wide, ATTR_WIDE, MADD_FMA, LANES_WIDE)
#endif

#if HAVE_CLONES
/* AVX-512 with the windows built from aligned blocks. The chunk's output n reads the history
 * window x + n; loaded as it is, each such 64-byte vector is unaligned and so straddles two
 * cache lines (a split load: two of the two load slots a cycle), which made the loops above
 * load-bound at about half the FMA rate. Here x = xa + sh with xa 64-byte aligned, the blocks
 * xa + j are loaded once each, and a window that lies within two neighbouring blocks (sh + n
 * <= 16) is picked out of them by one two-source permute (vpermt2ps). The permute takes the
 * port the second 512-bit FMA uses, so only some windows are built this way and the rest are
 * still loaded: 5 of 8 in the filter, 2 of 8 in the update (whose loop has two more vector
 * operations per block on those ports), the fewest cycles of the splits measured. The
 * arithmetic per lane is the loops' above in the same order (gcc 12 turns the lane loops into
 * vfmadd231ps on zmm), so the outputs are bit-identical to theirs. Measured (128 channels,
 * 1024 taps, 64-byte aligned states, rdtsc per 1 ms batch, 10th percentile): 277 -> 211
 * reference cycles per sample with hsum16x16 below, 24 % fewer. */
typedef char tap_arrays_on_cache_lines[(offsetof(cc_echo_t, hist) % 64 == 0
                                        && offsetof(cc_echo_t, w) % 64 == 0) ? 1 : -1];
typedef float v16sf __attribute__((vector_size(64)));
typedef int32_t v16si __attribute__((vector_size(64)));
typedef float v16sf_u __attribute__((vector_size(64), aligned(4))); /* any float boundary */
#define SHUF_FIR 5 /* windows 0..4 of the filter are permuted: needs sh + 4 <= 16 */
static const v16si LANE_INDEX = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

ATTR_WIDE static void fir8_blocks(const float *restrict w, const float *restrict xa, int sh, int L,
                                  float *restrict y)
{
    const v16si i0 = LANE_INDEX + sh, i1 = i0 + 1, i2 = i0 + 2, i3 = i0 + 3, i4 = i0 + 4;
    const float *restrict x = xa + sh;
    v16sf a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};
    v16sf lo = *(const v16sf *)xa;
    for (int j = 0; j < L; j += LANES) {
        const v16sf hi = *(const v16sf *)(xa + j + LANES);
        const v16sf c = *(const v16sf_u *)(w + j);
        const v16sf x0 = __builtin_shuffle(lo, hi, i0), x1 = __builtin_shuffle(lo, hi, i1);
        const v16sf x2 = __builtin_shuffle(lo, hi, i2), x3 = __builtin_shuffle(lo, hi, i3);
        const v16sf x4 = __builtin_shuffle(lo, hi, i4), x5 = *(const v16sf_u *)(x + j + 5);
        const v16sf x6 = *(const v16sf_u *)(x + j + 6), x7 = *(const v16sf_u *)(x + j + 7);
        for (int l = 0; l < LANES; l++) {
            a0[l] = MADD_FMA(c[l], x0[l], a0[l]);
            a1[l] = MADD_FMA(c[l], x1[l], a1[l]);
            a2[l] = MADD_FMA(c[l], x2[l], a2[l]);
            a3[l] = MADD_FMA(c[l], x3[l], a3[l]);
            a4[l] = MADD_FMA(c[l], x4[l], a4[l]);
            a5[l] = MADD_FMA(c[l], x5[l], a5[l]);
            a6[l] = MADD_FMA(c[l], x6[l], a6[l]);
            a7[l] = MADD_FMA(c[l], x7[l], a7[l]);
        }
        lo = hi;
    }
    const v16sf a[B] = {a0, a1, a2, a3, a4, a5, a6, a7};
    for (int n = 0; n < B; n++) {
        float t[LANES];
        memcpy(t, &a[n], sizeof(t));
        y[n] = hsum16(t);
    }
}

/* hsum16 of 16 vectors at once, the same additions in the same order: halves, quarters, then
 * neighbours twice, each level pairing two vectors by two permutes and an add. 45 vector
 * operations where 16 hsum16 take about 300 scalar ones (the update's per-group norms). */
ATTR_WIDE static inline __attribute__((always_inline)) v16sf pair_add(v16sf a, v16sf b, v16si lo, v16si hi)
{
    return __builtin_shuffle(a, b, lo) + __builtin_shuffle(a, b, hi);
}

ATTR_WIDE static void hsum16x16(const v16sf *restrict v, float *restrict out)
{
    const v16si h0 = {0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23};
    const v16si h1 = h0 + 8;
    const v16si q0 = {0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27};
    const v16si q1 = q0 + 4;
    const v16si e0 = LANE_INDEX * 2, e1 = e0 + 1;
    v16sf z[8], q[4], u[2];
    for (int k = 0; k < 8; k++)
        z[k] = pair_add(v[2 * k], v[2 * k + 1], h0, h1); /* a[l] + a[l + 8] of two vectors */
    for (int k = 0; k < 4; k++)
        q[k] = pair_add(z[2 * k], z[2 * k + 1], q0, q1); /* h[l] + h[l + 4], four vectors */
    for (int k = 0; k < 2; k++)
        u[k] = pair_add(q[2 * k], q[2 * k + 1], e0, e1);
    const v16sf r = pair_add(u[0], u[1], e0, e1);
    memcpy(out, &r, sizeof(r));
}

ATTR_WIDE static void update8_blocks(float *restrict w, const float *restrict xa, int sh, int L,
                                     const float *restrict c, const float *restrict gain,
                                     float *restrict gnorm)
{
    const float c0 = c[0], c1 = c[1], c2 = c[2], c3 = c[3];
    const float c4 = c[4], c5 = c[5], c6 = c[6], c7 = c[7];
    const v16si i0 = LANE_INDEX + sh, i1 = i0 + 1;
    const float *restrict x = xa + sh;
    v16sf norms[NGROUP];
    v16sf lo = *(const v16sf *)xa;
    for (int g = 0; g < L / GROUP; g++) {
        const float gg = gain[g];
        v16sf norm = {0};
        for (int j = g * GROUP; j < (g + 1) * GROUP; j += LANES) {
            const v16sf hi = *(const v16sf *)(xa + j + LANES);
            const v16sf x0 = __builtin_shuffle(lo, hi, i0), x1 = __builtin_shuffle(lo, hi, i1);
            const v16sf x2 = *(const v16sf_u *)(x + j + 2);
            const v16sf x3 = *(const v16sf_u *)(x + j + 3), x4 = *(const v16sf_u *)(x + j + 4);
            const v16sf x5 = *(const v16sf_u *)(x + j + 5), x6 = *(const v16sf_u *)(x + j + 6);
            const v16sf x7 = *(const v16sf_u *)(x + j + 7);
            v16sf wj = *(const v16sf_u *)(w + j);
            for (int l = 0; l < LANES; l++) {
                float grad = c0 * x0[l];
                grad = MADD_FMA(c1, x1[l], grad);
                grad = MADD_FMA(c2, x2[l], grad);
                grad = MADD_FMA(c3, x3[l], grad);
                grad = MADD_FMA(c4, x4[l], grad);
                grad = MADD_FMA(c5, x5[l], grad);
                grad = MADD_FMA(c6, x6[l], grad);
                grad = MADD_FMA(c7, x7[l], grad);
                float v = MADD_FMA(gg, grad, wj[l]);
                wj[l] = v;
                norm[l] += fabsf(v);
            }
            *(v16sf_u *)(w + j) = wj;
            lo = hi;
        }
        norms[g] = norm;
    }
    int g = 0;
    for (; g + LANES <= L / GROUP; g += LANES)
        hsum16x16(norms + g, gnorm + g);
    for (; g < L / GROUP; g++) {
        float t[LANES];
        memcpy(t, &norms[g], sizeof(t));
        gnorm[g] = hsum16(t);
    }
}
#endif

/* Where the history window x of the chunk's first output lies in its 64-byte block (sh floats
 * in), if the block loops can read every block they need (from x - sh to x - sh + L + 15) inside
 * the history and its pad; else -1 (the loops that load every window are used). */
static int window_shift(const cc_echo_t *s, const float *x)
{
#if HAVE_CLONES
    const int sh = (int)(((uintptr_t)x / sizeof(float)) % LANES);
    const ptrdiff_t a = (x - s->hist) - sh; /* history index of the first block */
    if ((uintptr_t)x % sizeof(float) == 0 && sh + SHUF_FIR - 1 <= LANES && a >= 0
        && a + s->cfg.taps + LANES <= CC_ECHO_HIST + CC_ECHO_HIST_PAD)
        return sh;
#else
    (void)s;
    (void)x;
#endif
    return -1;
}

/* One output, in the build the chunk's outputs use. */
static float fir1(const float *restrict w, const float *restrict x, int L)
{
#if HAVE_CLONES
    switch (isa()) {
    case 2:
        return fir1_wide(w, x, L);
    case 1:
        return fir1_avx2(w, x, L);
    }
#endif
    return fir1_base(w, x, L);
}

/* The chunk's eight outputs; sh from window_shift(). */
static void fir8(const float *restrict w, const float *restrict x, int sh, int L, float *restrict y)
{
#if HAVE_CLONES
    switch (isa()) {
    case 2:
        if (sh >= 0)
            fir8_blocks(w, x - sh, sh, L, y);
        else
            fir8_wide(w, x, L, y);
        return;
    case 1:
        fir4_avx2(w, x, L, y);
        fir4_avx2(w, x + 4, L, y + 4);
        return;
    }
#else
    (void)sh; /* only the AVX-512 build reads blocks */
#endif
    fir4_base(w, x, L, y);
    fir4_base(w, x + 4, L, y + 4);
}

static void update8(float *restrict w, const float *restrict x, int sh, int L, const float *restrict c,
                    const float *restrict gain, float *restrict gnorm)
{
#if HAVE_CLONES
    switch (isa()) {
    case 2:
        if (sh >= 0)
            update8_blocks(w, x - sh, sh, L, c, gain, gnorm);
        else
            update8_wide(w, x, L, c, gain, gnorm);
        return;
    case 1:
        update8_avx2(w, x, L, c, gain, gnorm);
        return;
    }
#else
    (void)sh;
#endif
    update8_base(w, x, L, c, gain, gnorm);
}
/* Gain-weighted lag products of the chunk's regressors, r[k] = sum_j gain[j/32] x[j] x[j+k],
 * k = 0..7: the Toeplitz model of the 8x8 matrix X G X' the affine projection inverts. 8 lanes:
 * its 16 accumulators fill the AVX2 registers. */
CC_HOT static void lag_products(const float *restrict x, int L, const float *restrict gain, float *restrict r)
{
    float t0[8] = {0}, t1[8] = {0}, t2[8] = {0}, t3[8] = {0};
    float t4[8] = {0}, t5[8] = {0}, t6[8] = {0}, t7[8] = {0};
    for (int g = 0; g < L / GROUP; g++) {
        float a0[8] = {0}, a1[8] = {0}, a2[8] = {0}, a3[8] = {0};
        float a4[8] = {0}, a5[8] = {0}, a6[8] = {0}, a7[8] = {0};
        for (int j = g * GROUP; j < (g + 1) * GROUP; j += 8)
            for (int l = 0; l < 8; l++) {
                float v = x[j + l];
                a0[l] += v * v;
                a1[l] += v * x[j + l + 1];
                a2[l] += v * x[j + l + 2];
                a3[l] += v * x[j + l + 3];
                a4[l] += v * x[j + l + 4];
                a5[l] += v * x[j + l + 5];
                a6[l] += v * x[j + l + 6];
                a7[l] += v * x[j + l + 7];
            }
        const float gg = gain[g];
        for (int l = 0; l < 8; l++) {
            t0[l] += gg * a0[l];
            t1[l] += gg * a1[l];
            t2[l] += gg * a2[l];
            t3[l] += gg * a3[l];
            t4[l] += gg * a4[l];
            t5[l] += gg * a5[l];
            t6[l] += gg * a6[l];
            t7[l] += gg * a7[l];
        }
    }
    r[0] = hsum8(t0);
    r[1] = hsum8(t1);
    r[2] = hsum8(t2);
    r[3] = hsum8(t3);
    r[4] = hsum8(t4);
    r[5] = hsum8(t5);
    r[6] = hsum8(t6);
    r[7] = hsum8(t7);
}

/* Solve (q T + d I) c = e for the symmetric Toeplitz T[m][n] = rho[|m - n|] by Levinson's
 * recursion (Golub and Van Loan, algorithm 4.7.2), in double, on the system scaled to a unit
 * diagonal: O(8^2) where Cholesky is O(8^3). The projection's step coefficients. Returns 0 if
 * the matrix is not positive definite (a reflection coefficient reaches 1). One channel's. */
static int apa_solve1(const float *rho, double q, double d, const float *e, double *c)
{
    const double t0 = q * rho[0] + d;
    if (!(t0 > 0.0))
        return 0;
    /* divisions are the recursion's critical path: one per order, as reciprocals */
    const double it0 = 1.0 / t0;
    double r[B], y[B];
    for (int k = 1; k < B; k++)
        r[k] = q * rho[k] * it0;
    /* c is the book's x (the solution so far), y the Yule-Walker solution of the same order */
    double alpha = -r[1], beta = 1.0;
    y[0] = -r[1];
    c[0] = e[0] * it0;
    for (int k = 1; k < B; k++) {
        beta *= (1.0 - alpha) * (1.0 + alpha);
        if (!(beta > 0.0))
            return 0;
        const double ib = 1.0 / beta;
        double v = e[k] * it0;
#pragma GCC unroll 7
        for (int i = 0; i < k; i++)
            v -= r[i + 1] * c[k - 1 - i];
        const double mu = v * ib;
#pragma GCC unroll 7
        for (int i = 0; i < k; i++)
            c[i] += mu * y[k - 1 - i];
        c[k] = mu;
        if (k < B - 1) {
            double a = -r[k + 1];
#pragma GCC unroll 7
            for (int i = 0; i < k; i++)
                a -= r[i + 1] * y[k - 1 - i];
            alpha = a * ib;
            /* y[i] += alpha y[k-1-i] for all i at once: in pairs from both ends */
            for (int i = 0, j = k - 1; i <= j; i++, j--) {
                double yi = y[i], yj = y[j];
                y[i] = yi + alpha * yj;
                if (i < j)
                    y[j] = yj + alpha * yi;
            }
            y[k] = alpha;
        }
    }
    return 1;
}

/* The same recursion for up to 4 channels at once, channel k in lane k (the batch call). Its
 * divisions and short sums are one long dependency chain (about 26 of the ~205 cycles a sample
 * at 1024 taps, measured), which 4 lanes share. Each lane does apa_solve1's operations in its
 * order, with no contraction (C99 mode), so its bits are apa_solve1's: a channel's output does
 * not depend on the call. 4 lanes of double, not 8: a 512-bit division takes about twice the
 * latency of a 256-bit one, and 4 channels' taps and history still fit in L1 between their
 * filter and update passes (8 lanes measured slower). Bit k of the result is set where lane k's
 * matrix is positive definite; other lanes' c are not to be used. */
typedef double v4df __attribute__((vector_size(32)));
typedef int64_t v4di __attribute__((vector_size(32)));
#define SOLVE_LANES 4

#define APA_SOLVE(NAME, ATTR)                                                                 \
    ATTR static unsigned NAME(const v4df *restrict rho, const v4df *restrict qd,              \
                              const v4df *restrict e, v4df *restrict c)                       \
    {                                                                                         \
        const v4df q = qd[0], d = qd[1];                                                      \
        const v4df one = {1.0, 1.0, 1.0, 1.0};                                                \
        const v4df t0 = q * rho[0] + d;                                                       \
        v4di ok = t0 > 0.0;                                                                   \
        const v4df it0 = one / t0;                                                            \
        v4df r[B], y[B];                                                                      \
        for (int k = 1; k < B; k++)                                                           \
            r[k] = q * rho[k] * it0;                                                          \
        v4df alpha = -r[1], beta = one;                                                       \
        y[0] = -r[1];                                                                         \
        c[0] = e[0] * it0;                                                                    \
        for (int k = 1; k < B; k++) {                                                         \
            beta *= (one - alpha) * (one + alpha);                                            \
            ok &= beta > 0.0;                                                                 \
            const v4df ib = one / beta;                                                       \
            v4df v = e[k] * it0;                                                              \
            for (int i = 0; i < k; i++)                                                       \
                v -= r[i + 1] * c[k - 1 - i];                                                 \
            const v4df mu = v * ib;                                                           \
            for (int i = 0; i < k; i++)                                                       \
                c[i] += mu * y[k - 1 - i];                                                    \
            c[k] = mu;                                                                        \
            if (k < B - 1) {                                                                  \
                v4df a = -r[k + 1];                                                           \
                for (int i = 0; i < k; i++)                                                   \
                    a -= r[i + 1] * y[k - 1 - i];                                             \
                alpha = a * ib;                                                               \
                v4df t[B];                                                                    \
                for (int i = 0; i < k; i++)                                                   \
                    t[i] = y[i] + alpha * y[k - 1 - i];                                       \
                for (int i = 0; i < k; i++)                                                   \
                    y[i] = t[i];                                                              \
                y[k] = alpha;                                                                 \
            }                                                                                 \
        }                                                                                     \
        unsigned bits = 0;                                                                    \
        for (int l = 0; l < SOLVE_LANES; l++)                                                 \
            bits |= (ok[l] != 0) << l;                                                        \
        return bits;                                                                          \
    }
APA_SOLVE(apa_solve_base, ATTR_BASE)
#if HAVE_CLONES /* the ymm build: one instruction per operation, where the base build takes two */
APA_SOLVE(apa_solve_avx2, ATTR_AVX2)
#endif
static unsigned apa_solve(const v4df *rho, const v4df *qd, const v4df *e, v4df *c)
{
#if HAVE_CLONES
    if (isa() >= 1)
        return apa_solve_avx2(rho, qd, e, c);
#endif
    return apa_solve_base(rho, qd, e, c);
}

/* sum of n values in 4 running sums (n >= 0, any): short dependency chains, a fixed order */
static float sum4(const float *x, int n)
{
    float a[4] = {0};
    int j = 0;
    for (; j + 4 <= n; j += 4)
        for (int l = 0; l < 4; l++)
            a[l] += x[j + l];
    for (; j < n; j++)
        a[0] += x[j];
    return (a[0] + a[2]) + (a[1] + a[3]);
}

/* max of n >= 0 values >= 0, n a multiple of 4 */
static float max_abs4(const float *restrict x, int n)
{
    float m[4] = {0};
    for (int j = 0; j < n; j += 4)
        for (int l = 0; l < 4; l++)
            m[l] = x[j + l] > m[l] ? x[j + l] : m[l];
    float a = m[0] > m[1] ? m[0] : m[1], b = m[2] > m[3] ? m[2] : m[3];
    return a > b ? a : b;
}

/* ---- tone disabler: 2100 Hz with phase reversals ---- */

/* A window ends: is it 2100 Hz, and has the phase turned by 180 degrees against the window
 * two back, net of the steady rotation that a frequency offset gives (measured on the two
 * windows before)? Returns 1 on a reversal inside a tone long enough to count. */
CC_COLD static int tone_window(cc_echo_tone_t *d)
{
    const float n = (float)CC_ECHO_TONE_WIN;
    float z2 = d->zr * d->zr + d->zi * d->zi;
    float tone_power = 2.0f * z2 / (n * n);           /* a sine of peak A: A^2/2 */
    int present = d->energy > 0.0f && tone_power >= tone_threshold() && 2.0f * z2 >= 0.7f * n * d->energy;
    int reversal = 0;
    if (present) {
        d->tone_run++;
        d->misses = 0;
        /* X = z0 conj(z-2); R = (z-2 conj(z-3))^2 (two steps of the steady rotation); in double:
         * |X| |R| reaches 1e43 for a loud tone */
        double xr = (double)d->zr * d->hr[1] + (double)d->zi * d->hi[1];
        double xi = (double)d->zi * d->hr[1] - (double)d->zr * d->hi[1];
        double dr = (double)d->hr[1] * d->hr[2] + (double)d->hi[1] * d->hi[2];
        double di = (double)d->hi[1] * d->hr[2] - (double)d->hr[1] * d->hi[2];
        double rr = dr * dr - di * di, ri = 2.0 * dr * di;
        double dot = xr * rr + xi * ri;
        double mag = sqrt(xr * xr + xi * xi) * sqrt(rr * rr + ri * ri);
        if (d->refractory > 0)
            d->refractory--;
        else if (mag > 0.0 && dot < -0.5 * mag && d->tone_run >= 4) {
            d->refractory = 5;
            if (d->tone_run >= TONE_MIN_RUN)
                reversal = 1;
            d->reversals++;
        }
    } else if (++d->misses > 1) {
        /* one missed window is the one a reversal falls in */
        d->tone_run = 0;
        d->reversals = 0;
        d->refractory = 0;
    }
    d->hr[2] = d->hr[1];
    d->hi[2] = d->hi[1];
    d->hr[1] = d->hr[0];
    d->hi[1] = d->hi[0];
    d->hr[0] = d->zr;
    d->hi[0] = d->zi;
    d->zr = d->zi = d->energy = 0.0f;
    return reversal;
}

/* ---- one chunk's end: adaptation, guard, meters, decisions for the next chunk ---- */

CC_COLD static void shift_history(cc_echo_t *s)
{
    const int L = s->cfg.taps, b0 = (s->hpos - L) / B;
    memmove(s->hist, s->hist + s->hpos - L, (size_t)L * sizeof(float));
    memmove(s->benergy, s->benergy + b0, (size_t)(L / B) * sizeof(float));
    memmove(s->bmax, s->bmax + b0, (size_t)(L / B) * sizeof(float));
    s->hpos = L;
    float p[4] = {0};
    for (int j = 0; j < L / B; j += 4)
        for (int l = 0; l < 4; l++)
            p[l] += s->benergy[j + l];
    s->win_power = (p[0] + p[2]) + (p[1] + p[3]);
}

static void restore_fg(cc_echo_t *s)
{
    const int L = s->cfg.taps;
    memcpy(s->w, s->fg, (size_t)L * sizeof(float));
    for (int g = 0; g < L / GROUP; g++) {
        s->gnorm[g] = 0.0f;
        for (int j = g * GROUP; j < (g + 1) * GROUP; j++)
            s->gnorm[g] += fabsf(s->w[j]);
    }
}

/* A chunk's end is done in two parts around the projection's solve, so that the batch call can
 * solve several channels' systems at once: chunk_begin() up to the system, chunk_finish() from
 * its solution. This is what passes between them. */
typedef struct {
    const float *xw;     /* history window of the chunk's first output */
    int sh;              /* its window_shift() */
    int active, adapt;   /* cancelling; adapting this chunk (then the system below is posed) */
    float e2, s2;        /* the chunk's residual and Sin' energies */
    float delta;         /* the normaliser's floor */
    double q, d;         /* the system: (q T + d I) c = e, T from s->rho */
    float gain[NGROUP];  /* IPNLMS gain per group of taps */
} chunk_job_t;

static void chunk_begin(cc_echo_t *s, chunk_job_t *j)
{
    const int L = s->cfg.taps;
    const float *xw = s->hist + s->hpos - L + 1; /* window of the chunk's first output */
    const int sh = window_shift(s, xw);
    j->xw = xw;
    j->sh = sh;
    /* tone disabler: both directions, raw samples; its 80-sample windows end on chunk ends */
    if (s->cfg.flags & CC_ECHO_TONE_DISABLE) {
        /* the sums in locals: the stores to the state could alias the tables and would force a
         * reload per sample */
        const int ph = s->tone_ph;
        float rzr = s->tone[0].zr, rzi = s->tone[0].zi, ren = s->tone[0].energy;
        float szr = s->tone[1].zr, szi = s->tone[1].zi, sen = s->tone[1].energy;
        for (int n = 0; n < B; n++) {
            float cr = cc_echo_tone_cos[ph + n], ci = cc_echo_tone_sin[ph + n];
            float a = s->rraw[n], b = s->sraw[n];
            rzr += a * cr;
            rzi += a * ci;
            ren += a * a;
            szr += b * cr;
            szi += b * ci;
            sen += b * b;
        }
        s->tone[0].zr = rzr;
        s->tone[0].zi = rzi;
        s->tone[0].energy = ren;
        s->tone[1].zr = szr;
        s->tone[1].zi = szi;
        s->tone[1].energy = sen;
        s->tone_ph = ph + B;
        if (s->tone_ph == CC_ECHO_TONE_WIN) {
            s->tone_ph = 0;
            int r0 = tone_window(&s->tone[0]);
            int r1 = tone_window(&s->tone[1]);
            if ((r0 || r1) && !s->tone_disabled) {
                s->tone_disabled = 1;
                s->quiet = 0;
                s->tone_disables++;
            }
        }
    }
    int active = !s->bypass && !s->tone_disabled;
    int adapt = active && (s->cfg.flags & CC_ECHO_ADAPT) && s->far_active && !s->dt_block;
    float e2 = 0.0f, s2 = 0.0f;
    for (int n = 0; n < B; n++) {
        e2 += s->err[n] * s->err[n];
        s2 += s->sinf[n] * s->sinf[n];
    }
    s->benergy[s->hpos / B] = s->rin_blk;
    s->bmax[s->hpos / B] = s->cur_max;

    /* two-path guard: foreground against background on the same chunk */
    if (adapt && (s->t / B) % EVAL_EVERY == 0) {
        float yf[B], f2 = 0.0f;
        fir8(s->fg, xw, sh, L, yf);
        for (int n = 0; n < B; n++)
            f2 += (s->sinf[n] - yf[n]) * (s->sinf[n] - yf[n]);
        s->acc_e += e2;
        s->acc_f += f2;
        s->acc_s += s2;
        if (++s->acc_n == EVAL_SPAN) {
            /* over 4 evaluated chunks (32 ms of echo path): better, or 6 dB worse (diverged) */
            s->better = (s->acc_e < 0.8f * s->acc_f && 8.0f * s->acc_e < s->acc_s) ? s->better + 1 : 0;
            s->worse = (4.0f * s->acc_f < s->acc_e && 8.0f * s->acc_f < s->acc_s) ? s->worse + 1 : 0;
            s->acc_e = s->acc_f = s->acc_s = 0.0f;
            s->acc_n = 0;
        }
        if (s->better >= TRANSFER_RUNS) {
            memcpy(s->fg, s->w, (size_t)L * sizeof(float));
            s->transfers++;
            s->better = s->worse = 0;
        } else if (s->worse >= ROLLBACK_RUNS) {
            restore_fg(s);
            s->rollbacks++;
            s->better = s->worse = 0;
            adapt = 0; /* this chunk's errors belong to the discarded coefficients */
        }
    }

    if (adapt) {
        /* IPNLMS with the gain shared by each group of 32 taps (block-sparse): the normaliser
         * x'Gx = sum_g gain[g] E_g then costs a few operations per group, where per-tap gains
         * would need another full filter pass; without it a few dominant taps make the step
         * unstable at speech onsets. E_g, the Rin' energy under group g, is the sum of 4 of
         * the per-chunk energies kept beside the history, for the windows ending at the
         * previous chunk's last sample (q0) and at this chunk's last (q8). */
        const int ng = L / GROUP;
        const float alpha = s->cfg.alpha;
        const float delta = (float)L * DBM0(-60.0f);
        float *gain = j->gain;
        const float prop = 0.5f * (1.0f + alpha) * (float)ng / (sum4(s->gnorm, ng) + 1e-6f);
        for (int g = 0; g < ng; g++)
            gain[g] = 0.5f * (1.0f - alpha) + prop * s->gnorm[g];
        const float *be = s->benergy + (s->hpos - L) / B;
        float e0[NGROUP] = {0}, e8[NGROUP] = {0}; /* all read: gcc cannot see that ng >= 1 */
        for (int g = 0; g < ng; g++) {
            const float *e = be + 4 * g;
            float mid = (e[1] + e[2]) + e[3];
            e0[g] = gain[g] * (e[0] + mid);
            e8[g] = gain[g] * (mid + e[4]);
        }
        const float q0 = sum4(e0, ng), q8 = sum4(e8, ng);
        /* Affine projection of order 8 (the chunk's 8 regressors), the partial-rank form:
         * c = mu (X G X' + d I)^-1 e with e the chunk's errors, all computed with the same w,
         * which is what the projection needs. Plain block NLMS would apply 8 nearly equal
         * corrections on coloured input (speech, the CSS voiced part) and overshoot; the
         * projection removes that and decorrelates the input. X G X' is modelled as Toeplitz:
         * its diagonal is the exact normaliser (the larger of the two chunk ends), its shape
         * rho comes from the lag products, refreshed every LAG_EVERY chunks. */
        if (s->lag_age <= 0) {
            float r[B];
            lag_products(xw, L, gain, r);
            for (int k = 0; k < B; k++)
                s->rho[k] = r[0] > 0.0f ? r[k] / r[0] : (float)(k == 0);
            s->lag_age = LAG_EVERY;
        }
        s->lag_age--;
        j->q = q0 > q8 ? q0 : q8;
        j->d = APA_REG * j->q + delta;
        j->delta = delta;
    }
    j->active = active;
    j->adapt = adapt;
    j->e2 = e2;
    j->s2 = s2;
}

/* cd: the system's solution, if ok (else the chunk's step is plain block NLMS) */
static void chunk_finish(cc_echo_t *s, const chunk_job_t *j, const double *cd, int ok)
{
    const int L = s->cfg.taps;
    const int active = j->active;
    const float e2 = j->e2, s2 = j->s2;
    if (j->adapt) {
        float c[B];
        if (ok)
            for (int n = 0; n < B; n++)
                c[n] = s->cfg.mu * (float)cd[n];
        else
            for (int n = 0; n < B; n++)
                c[n] = s->cfg.mu * s->err[n] / (float)(B * j->q + j->delta);
        update8(s->w, j->xw, j->sh, L, c, j->gain, s->gnorm);
        if (!isfinite(sum4(s->gnorm, L / GROUP)))
            restore_fg(s); /* cannot happen with finite input; never let it stick */
    }

    /* meters */
    float pr = s->rin_blk / B, ps = s2 / B, pe = e2 / B;
    s->p_rin += (pr - s->p_rin) * SMOOTH;
    s->p_sin += (ps - s->p_sin) * SMOOTH;
    s->p_res += (pe - s->p_res) * SMOOTH;
    if (active && s->far_active && !s->dt_block) {
        s->s_rin += (pr - s->s_rin) * SLOW;
        s->s_sin += (ps - s->s_sin) * SLOW;
        s->s_res += (pe - s->s_res) * SLOW;
    }
    /* background: the residual when the far end is quiet (no echo in it); falls fast, rises
     * in ~0.25 s, so near-end speech pauses pull it back to the floor */
    if (!s->far_active) {
        if (s->noise < 0.0f)
            s->noise = pe;
        else
            s->noise += (pe - s->noise) * (pe < s->noise ? 0.125f : 1.0f / 256.0f);
        if (pe <= 2.0f * s->noise) {
            float r0 = 0.0f, r1 = 0.0f;
            for (int n = 0; n < B; n++)
                r0 += s->err[n] * s->err[n];
            for (int n = 1; n < B; n++)
                r1 += s->err[n] * s->err[n - 1];
            s->r0 += (r0 / B - s->r0) * SMOOTH;
            s->r1 += (r1 / (B - 1) - s->r1) * SMOOTH;
        }
    }

    /* tone disabler release: 250 ms with both directions quiet */
    if (s->tone_disabled) {
        s->quiet = (pr < quiet_threshold() && ps < quiet_threshold()) ? s->quiet + B : 0;
        if (s->quiet >= QUIET_RELEASE) {
            s->tone_disabled = 0;
            s->quiet = 0;
            tone_clear(&s->tone[0]);
            tone_clear(&s->tone[1]);
        }
    }

    /* next chunk: history room, Geigel window, far-end activity, NLP. The tail's energy is a
     * running sum over its last L/8 chunks, made exact again at each history shift. */
    {
        /* the window loses block b0 and gains this chunk's; the loudest sample is searched
         * again only when the block leaving held it */
        const int b0 = (s->hpos - L) / B;
        s->win_power += s->rin_blk - s->benergy[b0];
        s->win_power = s->win_power > 0.0f ? s->win_power : 0.0f;
        if (s->cur_max >= s->win_max)
            s->win_max = s->cur_max;
        else if (s->bmax[b0] >= s->win_max)
            s->win_max = max_abs4(s->bmax + b0 + 1, L / B);
    }
    s->hpos += B;
    if (s->hpos + B > CC_ECHO_HIST)
        shift_history(s);
    s->far_active = s->win_power >= far_threshold() * (float)L;
    s->nlp_on = (s->cfg.flags & CC_ECHO_NLP) && active && s->far_active && s->dt_hang == 0;
    if (s->nlp_on) {
        /* comfort noise: a 1-pole filter on uniform noise (variance 1/3), power gain
         * 1/(1 - a^2), with a = r1/r0 of the background: its level and tilt */
        float a = s->r0 > 0.0f ? s->r1 / s->r0 : 0.0f;
        a = a > 0.9f ? 0.9f : a < -0.9f ? -0.9f : a;
        s->cng_a = a;
        s->cng_g = sqrtf(3.0f * (s->noise > 0.0f ? s->noise : 0.0f) * (1.0f - a * a));
    }
    s->dt_block = 0;
    s->rin_blk = 0.0f;
    s->cur_max = 0.0f;
}

/* ---- per sample ---- */

/* Round half away from zero, saturate. Written with selects, not branches: the sign of the
 * residual and of the comfort noise is a coin toss each sample, which a branch mispredicts. */
static int16_t clip16(float v)
{
    v += copysignf(0.5f, v);
    v = v < 32767.0f ? v : 32767.0f;
    v = v > -32768.0f ? v : -32768.0f;
    return (int16_t)(int32_t)v;
}

/* One sample of comfort noise; its state in locals of the caller's loop */
static float comfort_noise(uint32_t *seed, float *y, float a, float g)
{
    *seed = *seed * 1664525u + 1013904223u;
    float u = (float)(int32_t)*seed * (1.0f / 2147483648.0f);
    *y = a * *y + g * u;
    return *y;
}

/* Samples pos..pos+k-1 of the current chunk (k <= 8 - pos); returns 1 when the chunk is full
 * (its end is then the caller's). The per-sample state lives in locals for the loops (the stores
 * to the float history could otherwise alias it and force a reload per sample), with the same
 * arithmetic in the same order. */
static int run(cc_echo_t *s, const int16_t *rin, const int16_t *sin, int16_t *sout, int k)
{
    const int L = s->cfg.taps;
    const int hpf = (s->cfg.flags & CC_ECHO_HPF) != 0;
    const int active = !s->bypass && !s->tone_disabled;
    const float geigel = s->geigel, win_max = s->win_max;
    const int far_active = s->far_active;
    int16_t raw[B];
    int dt[B];
    float y[B];
    const int p0 = s->pos;
    float *restrict hist = s->hist + s->hpos + p0;
    float *restrict sinf = s->sinf + p0;
    float hp_rx1 = s->hp_rx1, hp_ry1 = s->hp_ry1, hp_sx1 = s->hp_sx1, hp_sy1 = s->hp_sy1;
    float rin_blk = s->rin_blk, cur_max = s->cur_max;
    int32_t dt_hang = s->dt_hang, dt_block = s->dt_block;
    uint32_t dt_count = s->dt_count;

    for (int m = 0; m < k; m++) {
        float x = rin[m], v = sin[m];
        raw[m] = sin[m];
        if (hpf) {
            float hx = x - hp_rx1 + HP_POLE * hp_ry1;
            hp_rx1 = x;
            hp_ry1 = hx;
            float hv = v - hp_sx1 + HP_POLE * hp_sy1;
            hp_sx1 = v;
            hp_sy1 = hv;
            x = hx;
            v = hv;
        }
        hist[m] = x;
        sinf[m] = v;
        rin_blk += x * x;
        float ax = fabsf(x);
        cur_max = ax > cur_max ? ax : cur_max;
        /* Geigel: near-end speech when Sin is louder than the loudest Rin over the tail (up to
         * this sample) would make it through a hybrid with the assumed ERL */
        float mx = win_max > cur_max ? win_max : cur_max;
        if (fabsf(v) > geigel * mx) {
            if (dt_hang == 0 && far_active)
                dt_count++;
            dt_hang = DT_HANGOVER;
            dt_block = 1;
        } else if (dt_hang > 0) {
            dt_hang--;
            dt_block |= dt_hang > 0;
        }
        dt[m] = dt_hang > 0;
        s->rraw[p0 + m] = rin[m]; /* for the tone disabler, at the chunk's end */
        s->sraw[p0 + m] = sin[m];
    }
    s->hp_rx1 = hp_rx1;
    s->hp_ry1 = hp_ry1;
    s->hp_sx1 = hp_sx1;
    s->hp_sy1 = hp_sy1;
    s->rin_blk = rin_blk;
    s->cur_max = cur_max;
    s->dt_hang = dt_hang;
    s->dt_block = dt_block;
    s->dt_count = dt_count;
    s->t += k;

    if (active) {
        const float *xw = s->hist + s->hpos - L + 1;
        if (k == B)
            fir8(s->w, xw, window_shift(s, xw), L, y);
        else
            for (int m = 0; m < k; m++)
                y[m] = fir1(s->w, xw + p0 + m, L);
    } else {
        for (int m = 0; m < k; m++)
            y[m] = 0.0f;
    }

    float *restrict err = s->err + p0;
    if (!active) {
        for (int m = 0; m < k; m++) {
            err[m] = sinf[m] - y[m];
            sout[m] = raw[m];
        }
    } else if (!s->nlp_on) {
        for (int m = 0; m < k; m++) {
            err[m] = sinf[m] - y[m];
            sout[m] = clip16(err[m]);
        }
    } else {
        const int cng = (s->cfg.flags & CC_ECHO_CNG) != 0;
        const float cng_a = s->cng_a, cng_g = s->cng_g;
        uint32_t seed = s->cng_seed;
        float cng_y = s->cng_y;
        for (int m = 0; m < k; m++) {
            float e = sinf[m] - y[m];
            err[m] = e;
            if (dt[m])
                sout[m] = clip16(e);
            else
                sout[m] = cng ? clip16(comfort_noise(&seed, &cng_y, cng_a, cng_g)) : 0;
        }
        s->cng_seed = seed;
        s->cng_y = cng_y;
    }
    s->pos = p0 + k;
    if (s->pos < B)
        return 0;
    s->pos = 0;
    return 1;
}

/* The ends of the chunks of up to SOLVE_LANES channels, their systems solved together.
 * Measured (harness: 128 channels, 1024 taps, 64-byte aligned states, rdtsc per 1 ms batch,
 * 10th percentile, median of 12 rounds alternating builds): 207 -> 193 reference cycles per
 * sample with the grouped solve (about 4 %), clip16 without branches and the comfort noise and
 * tone sums in locals (about 3 %); the outputs are bit-identical to the one-at-a-time code. */
static void chunk_end(cc_echo_t *const *s, int nch)
{
    chunk_job_t job[SOLVE_LANES];
    if (nch == 1) {
        double cd[B];
        chunk_begin(s[0], &job[0]);
        const int ok = job[0].adapt && apa_solve1(s[0]->rho, job[0].q, job[0].d, s[0]->err, cd);
        chunk_finish(s[0], &job[0], cd, ok);
        return;
    }
    const v4df unit = {1.0, 1.0, 1.0, 1.0};
    v4df rho[B], e[B], c[B], qd[2] = {unit, unit}; /* unused lanes: the identity, e = 0 */
    for (int k = 0; k < B; k++) {
        rho[k] = k == 0 ? unit : unit - unit;
        e[k] = unit - unit;
    }
    int posed = 0;
    for (int ch = 0; ch < nch; ch++) {
        chunk_begin(s[ch], &job[ch]);
        if (job[ch].adapt) {
            posed = 1;
            qd[0][ch] = job[ch].q;
            qd[1][ch] = job[ch].d;
            for (int k = 0; k < B; k++) {
                rho[k][ch] = s[ch]->rho[k];
                e[k][ch] = s[ch]->err[k];
            }
        }
    }
    const unsigned ok = posed ? apa_solve(rho, qd, e, c) : 0;
    for (int ch = 0; ch < nch; ch++) {
        double cd[B];
        for (int k = 0; k < B; k++)
            cd[k] = c[k][ch];
        chunk_finish(s[ch], &job[ch], cd, (ok >> ch) & 1);
    }
}

static void process_one(cc_echo_t *s, const int16_t *rin, const int16_t *sin, int16_t *sout, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t k = (size_t)(B - s->pos);
        if (k > n - i)
            k = n - i;
        if (run(s, rin + i, sin + i, sout + i, (int)k))
            chunk_end(&s, 1);
        i += k;
    }
}

int cc_echo_process(cc_echo_t *s, const int16_t *rin, const int16_t *sin, int16_t *sout, size_t n)
{
    if (!valid(s) || n > (size_t)INT32_MAX || (n > 0 && (rin == NULL || sin == NULL || sout == NULL)))
        return CC_ERR_ARG;
    process_one(s, rin, sin, sout, n);
    return (int)n;
}

int cc_echo_process_batch(cc_echo_t *const *s, size_t nch, const int16_t *rin, const int16_t *sin,
                          int16_t *sout, size_t stride, size_t n)
{
    if (s == NULL || n > (size_t)INT32_MAX
        || (n > 0 && nch > 0 && (rin == NULL || sin == NULL || sout == NULL)))
        return CC_ERR_ARG;
    if (nch > 1 && stride < n)
        return CC_ERR_ARG; /* rows of sout would overlap */
    for (size_t c = 0; c < nch; c++)
        if (!valid(s[c]))
            return CC_ERR_ARG;
    /* Chunk by chunk across the channels, their chunk ends in groups (see apa_solve) when all
     * are at the same place in their chunk, as a bank's are; else channel by channel. Either way
     * each channel does the same operations as alone. */
    int same = 1;
    for (size_t c = 1; c < nch; c++)
        same &= s[c]->pos == s[0]->pos;
    if (!same || nch < 2) {
        for (size_t c = 0; c < nch; c++)
            process_one(s[c], rin + c * stride, sin + c * stride, sout + c * stride, n);
        return (int)n;
    }
    size_t i = 0;
    while (i < n) {
        size_t k = (size_t)(B - s[0]->pos);
        if (k > n - i)
            k = n - i;
        for (size_t c0 = 0; c0 < nch; c0 += SOLVE_LANES) {
            const size_t m = nch - c0 < SOLVE_LANES ? nch - c0 : SOLVE_LANES;
            int full = 0;
            for (size_t c = c0; c < c0 + m; c++)
                full = run(s[c], rin + c * stride + i, sin + c * stride + i, sout + c * stride + i, (int)k);
            if (full)
                chunk_end(s + c0, (int)m);
        }
        i += k;
    }
    return (int)n;
}
