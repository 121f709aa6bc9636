/*
 * DTMF receiver: see ccboard/dtmf.h for what it does and the figures it meets.
 *
 * Per block of 80 samples (10 ms):
 *   1. the 8 tone bins as int32 dot products with a Q10 cos/sin basis (exact, so the
 *      vectorised sum is the same in any order and on any machine), and the block power;
 *   2. a hit when the strongest row and column pass loose level and twist limits and carry
 *      at least min_fraction of the block's power. A block only partly filled with tone
 *      carries that fraction of it, so 3 hits in a row need about 26 ms of tone;
 *   3. on the third hit of a run, the onset check over the last two blocks (Blackman
 *      window): each tone's frequency by parabolic interpolation of ln|X|^2 at f(1-d), f,
 *      f(1+d), its peak power, and the exact level, twist and fraction limits.
 * A digit ends after 3 blocks in a row without it.
 *
 * Powers are int16-scale mean squares: a sine of peak A has power A^2/2, and 0 dBm0 is a
 * sine of peak 22767 (the 3.14 dB reference of spandsp and libtonezone).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/g711.h"
#include "ccboard/private/dtmf.h"
#include "dtmf_tables.h"

#define BLOCK CC_DTMF_BLOCK
#define HITS_TO_START 3
#define MISSES_TO_END 3
/* Per-block limits are looser than the onset check's: a block's bins see up to 1.5 dB of
 * scalloping for a tone 1.5% off, which the onset check's interpolation removes. */
#define BLOCK_LEVEL_MARGIN 0.5f   /* power ratio, -3 dB */
#define BLOCK_TWIST_MARGIN 2.0f   /* power ratio, +3 dB */

static const float DBM0_POWER = 22767.0f * 22767.0f / 2.0f;
static const char KEYPAD[4][4] = {
    {'1', '2', '3', 'A'}, {'4', '5', '6', 'B'}, {'7', '8', '9', 'C'}, {'*', '0', '#', 'D'}};

static float db_to_ratio(float db) { return powf(10.0f, db / 10.0f); }
static float power_to_dbm0(float p) { return p > 0.0f ? 10.0f * log10f(p / DBM0_POWER) : -200.0f; }

void cc_dtmf_rx_config_default(cc_dtmf_rx_config_t *cfg)
{
    cfg->min_level_dbm0 = -40.0f;
    cfg->normal_twist_db = 9.0f;
    cfg->reverse_twist_db = 5.0f;
    cfg->freq_tolerance_pct = 2.3f;
    cfg->min_tone_fraction_db = -1.0f;
}

static int config_ok(const cc_dtmf_rx_config_t *c)
{
    /* written so that NaN fails every test */
    return c->min_level_dbm0 >= -90.0f && c->min_level_dbm0 <= 3.0f
        && c->normal_twist_db >= 0.0f && c->normal_twist_db <= 30.0f
        && c->reverse_twist_db >= 0.0f && c->reverse_twist_db <= 30.0f
        && c->freq_tolerance_pct > 0.0f && c->freq_tolerance_pct <= 100.0f * cc_dtmf_probe_delta
        && c->min_tone_fraction_db <= 0.0f && c->min_tone_fraction_db >= -20.0f;
}

cc_dtmf_rx_t *cc_dtmf_rx_init(cc_dtmf_rx_t *s, const cc_dtmf_rx_config_t *cfg, int32_t channel)
{
    cc_dtmf_rx_config_t def;
    if (cfg == NULL) {
        cc_dtmf_rx_config_default(&def);
        cfg = &def;
    }
    if (!config_ok(cfg))
        return NULL;
    if (s == NULL && (s = malloc(sizeof(*s))) == NULL)
        return NULL;
    memset(s, 0, sizeof(*s));
    s->magic = CC_DTMF_RX_MAGIC;
    s->channel = channel;
    s->cfg = *cfg;
    s->min_power = DBM0_POWER * db_to_ratio(cfg->min_level_dbm0);
    s->normal_twist = db_to_ratio(cfg->normal_twist_db);
    s->reverse_twist = db_to_ratio(cfg->reverse_twist_db);
    s->freq_tol = cfg->freq_tolerance_pct / 100.0f;
    s->min_fraction = db_to_ratio(cfg->min_tone_fraction_db);
    return s;
}

static int valid(const cc_dtmf_rx_t *s) { return s != NULL && s->magic == CC_DTMF_RX_MAGIC; }

int cc_dtmf_rx_reset(cc_dtmf_rx_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    cc_dtmf_rx_config_t cfg = s->cfg;
    cc_dtmf_rx_init(s, &cfg, s->channel);
    return CC_OK;
}

int cc_dtmf_rx_release(cc_dtmf_rx_t *s) { return valid(s) ? CC_OK : CC_ERR_ARG; }

int cc_dtmf_rx_free(cc_dtmf_rx_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    s->magic = 0;
    free(s);
    return CC_OK;
}

size_t cc_dtmf_rx_state_size(void) { return sizeof(cc_dtmf_rx_t); }

static int digit_ok(uint8_t d) { return d == 0 || (d != '\0' && strchr("123A456B789C*0#D", d) != NULL); }

int cc_dtmf_rx_restore(cc_dtmf_rx_t *s, const void *saved, size_t len)
{
    cc_dtmf_rx_t t;
    if (s == NULL || saved == NULL)
        return CC_ERR_ARG;
    if (len != sizeof(t))
        return CC_ERR_STATE;
    memcpy(&t, saved, sizeof(t));
    if (t.magic != CC_DTMF_RX_MAGIC || !config_ok(&t.cfg) || t.fill < 0 || t.fill >= BLOCK || t.t < 0
        || !digit_ok(t.digit) || !digit_ok(t.run_digit) || t.misses >= MISSES_TO_END || t.digit_row > 3
        || t.digit_col < 4 || t.digit_col > 7 || t.run_lead < 0 || t.run_lead >= BLOCK)
        return CC_ERR_STATE;
    /* the derived limits are recomputed, never trusted */
    cc_dtmf_rx_init(s, &t.cfg, t.channel);
    memcpy(s->buf, t.buf, sizeof(t.buf));
    s->t = t.t;
    s->run_start = t.run_start;
    s->digit_start = t.digit_start;
    s->digit_end = t.digit_end;
    s->level_low = t.level_low;
    s->level_high = t.level_high;
    s->fill = t.fill;
    s->run_digit = t.run_digit;
    s->run_len = t.run_len;
    s->digit = t.digit;
    s->misses = t.misses;
    s->digit_row = t.digit_row;
    s->digit_col = t.digit_col;
    s->run_lead = t.run_lead;
    memcpy(s->prev_power, t.prev_power, sizeof(t.prev_power));
    return CC_OK;
}
size_t cc_dtmf_rx_max_events(size_t n) { return 2 * (n / BLOCK + 1); }
int cc_dtmf_rx_current(const cc_dtmf_rx_t *s) { return valid(s) ? s->digit : 0; }
int32_t cc_dtmf_rx_channel(const cc_dtmf_rx_t *s) { return valid(s) ? s->channel : 0; }
int64_t cc_dtmf_rx_samples(const cc_dtmf_rx_t *s) { return valid(s) ? s->t : 0; }

/* The 8 bins of one block: cos sums then sin sums. */
CC_HOT static void block_bins(const int16_t *restrict x, int32_t *restrict bins)
{
    for (int k = 0; k < 16; k++) {
        int32_t acc = 0;
        /* unrolled, the 5 pmaddwd steps of a bin have no loop overhead: half the instructions */
#pragma GCC unroll 8
        for (int n = 0; n < BLOCK; n++)
            acc += (int32_t)x[n] * cc_dtmf_basis[k][n];
        bins[k] = acc;
    }
}

/* Mean square of one block, summed in 8 fixed lanes so the order never changes. */
CC_HOT static float block_power(const int16_t *restrict x)
{
    float lane[8] = {0};
#pragma GCC unroll 10
    for (int n = 0; n < BLOCK; n += 8)
        for (int j = 0; j < 8; j++)
            lane[j] += (float)x[n + j] * (float)x[n + j];
    float e = 0.0f;
    for (int j = 0; j < 8; j++)
        e += lane[j];
    return e / BLOCK;
}

/* |X|^2 at one frequency of the windowed signal y (Goertzel). */
static float goertzel_power(const float *y, int n, float coeff)
{
    float s1 = 0.0f, s2 = 0.0f;
    for (int i = 0; i < n; i++) {
        float s0 = y[i] + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

/* Onset check of one tone: its power at the interpolated peak, or -1 if its frequency is
 * not within the tolerance. */
static float tone_peak_power(const cc_dtmf_rx_t *s, const float *y, int tone)
{
    const float *c = cc_dtmf_probe_coeff[tone];
    float lo = goertzel_power(y, 2 * BLOCK, c[0]);
    float mid = goertzel_power(y, 2 * BLOCK, c[1]);
    float hi = goertzel_power(y, 2 * BLOCK, c[2]);
    if (!(lo > 0.0f && mid > 0.0f && hi > 0.0f))
        return -1.0f;
    float a = logf(lo), b = logf(mid), d = logf(hi);
    float curve = a - 2.0f * b + d;
    if (!(curve < 0.0f))
        return -1.0f;                       /* no peak between the probes */
    float p = 0.5f * (a - d) / curve;       /* peak offset in units of the probe step */
    if (!(fabsf(p * cc_dtmf_probe_delta) <= s->freq_tol))
        return -1.0f;
    float peak = expf(b - 0.25f * (a - d) * p);
    return 2.0f * peak / (cc_dtmf_window_sum * cc_dtmf_window_sum);
}

/* Exact checks over the last two blocks; on success the tone levels in dBm0. */
static int onset_ok(const cc_dtmf_rx_t *s, int row, int col, float *lvl_row, float *lvl_col)
{
    float y[2 * BLOCK];
    float energy = 0.0f;
    for (int i = 0; i < 2 * BLOCK; i++) {
        y[i] = cc_dtmf_window[i] * (float)s->buf[i];
        energy += y[i] * y[i];
    }
    float pr = tone_peak_power(s, y, row);
    float pc = tone_peak_power(s, y, col);
    if (pr < s->min_power || pc < s->min_power)
        return 0;
    if (pr > s->normal_twist * pc || pc > s->reverse_twist * pr)
        return 0;
    if (pr + pc < s->min_fraction * energy / cc_dtmf_window_sum_sq)
        return 0;
    *lvl_row = power_to_dbm0(pr);
    *lvl_col = power_to_dbm0(pc);
    return 1;
}

/* Classify the block in buf[BLOCK..]: a digit or 0; its 8 tone powers in p. */
static int block_hit(const cc_dtmf_rx_t *s, float *p, int *row, int *col)
{
    int32_t bins[16];
    float power = block_power(s->buf + BLOCK);
    float min_p = s->min_power * BLOCK_LEVEL_MARGIN;
    *row = 0;
    *col = 4;
    /* A bin's power is at most 2x the block's (Cauchy-Schwarz; 2.01 covers the Q10 basis):
     * below that no tone can pass, and silence costs no dot products. */
    if (2.01f * power < min_p) {
        memset(p, 0, 8 * sizeof(*p));
        return 0;
    }
    block_bins(s->buf + BLOCK, bins);
    const float scale = 2.0f / ((cc_dtmf_basis_one * BLOCK) * (cc_dtmf_basis_one * BLOCK));
    for (int k = 0; k < 8; k++) {
        float re = (float)bins[k], im = (float)bins[k + 8];
        p[k] = scale * (re * re + im * im);
    }
    int r = 0, c = 4;
    for (int k = 1; k < 4; k++) {
        if (p[k] > p[r])
            r = k;
        if (p[k + 4] > p[c])
            c = k + 4;
    }
    *row = r;
    *col = c;
    if (p[r] < min_p || p[c] < min_p)
        return 0;
    if (p[r] > BLOCK_TWIST_MARGIN * s->normal_twist * p[c] || p[c] > BLOCK_TWIST_MARGIN * s->reverse_twist * p[r])
        return 0;
    if (p[r] + p[c] < s->min_fraction * power)
        return 0;
    return KEYPAD[r][c - 4];
}

static void put_event(cc_dtmf_event_t *ev, const cc_dtmf_rx_t *s, int kind)
{
    memset(ev, 0, sizeof(*ev));
    ev->channel = s->channel;
    ev->digit = s->digit;
    ev->kind = (uint8_t)kind;
    ev->start = s->digit_start;
    ev->end = kind == CC_DTMF_OFF ? s->digit_end : -1;
    ev->at = s->t;
    ev->level_low = s->level_low;
    ev->level_high = s->level_high;
}

/* A block is complete in buf[BLOCK..]: classify it and update the digit. */
/* Samples of tone in a block whose bins show a fraction of a full block's tone power:
 * a tone over L of N samples gives bins (L/N)^2 as strong. */
static int32_t partial_len(const float *p, int row, int col, const float *full)
{
    float num = p[row] + p[col], den = full[row] + full[col];
    if (!(den > 0.0f) || !(num > 0.0f))
        return 0;
    float len = BLOCK * sqrtf(num / den);
    return len >= BLOCK - 1 ? BLOCK - 1 : (int32_t)(len + 0.5f);
}

static int block_end(cc_dtmf_rx_t *s, cc_dtmf_event_t *ev)
{
    int nev = 0, row, col;
    float p[8];
    int hit = block_hit(s, p, &row, &col);
    int64_t block_start = s->t - BLOCK;

    if (hit && hit == s->run_digit) {
        if (s->run_len < UINT8_MAX)
            s->run_len++;
    } else {
        s->run_digit = (uint8_t)hit;
        s->run_len = hit ? 1 : 0;
        s->run_start = block_start;
        s->run_lead = hit ? partial_len(s->prev_power, row, col, p) : 0;
    }
    if (s->digit) {
        if (hit == s->digit) {
            s->misses = 0;
            s->digit_end = s->t;
        } else if (++s->misses == 1) {
            /* the previous block was the last hit: its tail may reach into this one */
            s->digit_end += partial_len(p, s->digit_row, s->digit_col, s->prev_power);
        } else if (s->misses >= MISSES_TO_END) {
            put_event(&ev[nev++], s, CC_DTMF_OFF);
            s->digit = 0;
            s->misses = 0;
        }
    }
    if (!s->digit && hit && s->run_len >= HITS_TO_START && onset_ok(s, row, col, &s->level_low, &s->level_high)) {
        s->digit = (uint8_t)hit;
        s->digit_row = (uint8_t)row;
        s->digit_col = (uint8_t)col;
        s->digit_start = s->run_start - s->run_lead;
        s->digit_end = s->t;
        s->misses = 0;
        put_event(&ev[nev++], s, CC_DTMF_ON);
    }
    memcpy(s->prev_power, p, sizeof(s->prev_power));
    memcpy(s->buf, s->buf + BLOCK, sizeof(s->buf[0]) * BLOCK);
    return nev;
}

static void copy_samples(int16_t *restrict dst, const int16_t *restrict src, size_t n)
{
    for (size_t k = 0; k < n; k++)
        dst[k] = src[k];
}

static int feed(cc_dtmf_rx_t *s, cc_law law, const void *x, size_t n, cc_dtmf_event_t *ev)
{
    int nev = 0;
    size_t i = 0;
    while (i < n) {
        size_t take = (size_t)(BLOCK - s->fill);
        if (take > n - i)
            take = n - i;
        int16_t *dst = s->buf + BLOCK + s->fill;
        if (law == CC_LAW_LINEAR)
            copy_samples(dst, (const int16_t *)x + i, take); /* 1 ms chunks: no libc call */
        else if (law == CC_LAW_ALAW)
            cc_g711_alaw_decode(dst, (const uint8_t *)x + i, take);
        else
            cc_g711_ulaw_decode(dst, (const uint8_t *)x + i, take);
        s->fill += (int32_t)take;
        s->t += (int64_t)take;
        i += take;
        if (s->fill == BLOCK) {
            nev += block_end(s, ev + nev);
            s->fill = 0;
        }
    }
    return nev;
}

static int law_ok(cc_law law) { return law == CC_LAW_LINEAR || law == CC_LAW_ALAW || law == CC_LAW_ULAW; }

int cc_dtmf_rx_process(cc_dtmf_rx_t *s, cc_law law, const void *x, size_t n, cc_dtmf_event_t *ev,
                       size_t max_ev)
{
    if (!valid(s) || !law_ok(law) || (n > 0 && x == NULL) || ev == NULL || n > (size_t)INT32_MAX)
        return CC_ERR_ARG;
    if (max_ev < cc_dtmf_rx_max_events(n))
        return CC_ERR_SPACE;
    return feed(s, law, x, n, ev);
}

int cc_dtmf_rx_process_batch(cc_dtmf_rx_t *const *s, size_t nch, cc_law law, const void *x, size_t stride,
                             size_t n, cc_dtmf_event_t *ev, size_t max_ev)
{
    if (s == NULL || !law_ok(law) || (n > 0 && nch > 0 && x == NULL) || ev == NULL || n > (size_t)INT32_MAX
        || (nch > 1 && stride < n))
        return CC_ERR_ARG;
    for (size_t c = 0; c < nch; c++)
        if (!valid(s[c]))
            return CC_ERR_ARG;
    if (nch > 0 && max_ev / nch < cc_dtmf_rx_max_events(n))
        return CC_ERR_SPACE;
    size_t size = law == CC_LAW_LINEAR ? sizeof(int16_t) : sizeof(uint8_t);
    int nev = 0;
    for (size_t c = 0; c < nch; c++)
        nev += feed(s[c], law, (const char *)x + c * stride * size, n, ev + nev);
    return nev;
}
