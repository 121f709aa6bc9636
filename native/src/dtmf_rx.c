/*
 * DTMF receiver: see ccboard/dtmf.h for what it does and the figures it meets.
 *
 * Per block of 80 samples (10 ms):
 *   1. the 8 tone bins as int32 dot products with a Q10 cos/sin basis (exact, so the
 *      vectorised sum is the same in any order and on any machine), and the block power;
 *   2. a hit when the least-squares fit of the strongest row and column tones passes loose
 *      level and twist limits and carries at least min_fraction of the block's power. A
 *      block only partly filled with tone carries that fraction of it, so 3 hits in a row
 *      need about 26 ms of tone;
 *   3. on the third hit of a run, the onset check over the last two blocks (Blackman
 *      window): each tone's frequency by parabolic interpolation of ln|X|^2 at f(1-d), f,
 *      f(1+d), its peak power, the exact level, twist and fraction limits, and the harmonic
 *      limit (3rd of the row tone, 2nd of the column tone).
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
    cfg->max_harmonic_db = -15.0f;
}

static int config_ok(const cc_dtmf_rx_config_t *c)
{
    /* written so that NaN fails every test */
    return c->min_level_dbm0 >= -90.0f && c->min_level_dbm0 <= 3.0f
        && c->normal_twist_db >= 0.0f && c->normal_twist_db <= 30.0f
        && c->reverse_twist_db >= 0.0f && c->reverse_twist_db <= 30.0f
        && c->freq_tolerance_pct > 0.0f && c->freq_tolerance_pct <= 100.0f * cc_dtmf_probe_delta
        && c->min_tone_fraction_db <= 0.0f && c->min_tone_fraction_db >= -20.0f
        && c->max_harmonic_db <= 0.0f && c->max_harmonic_db >= -60.0f;
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
    s->max_harmonic = db_to_ratio(cfg->max_harmonic_db);
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
        || !digit_ok(t.digit) || !digit_ok(t.run_digit) || t.misses >= MISSES_TO_END || t.run_lead < 0
        || t.run_lead >= BLOCK || (t.digit && (t.digit_row > 3 || t.digit_col < 4 || t.digit_col > 7)))
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

/* Mean square of one block, estimated from x>>1 so the squares sum exactly in uint32 lanes:
 * each of the 8 lanes takes 10 squares of at most 2^28, so it stays below 2^32, and the lanes
 * are added in 64 bits. |x| <= |2h| + 1 bounds the true value by (sqrt(estimate) + 1)^2. */
CC_HOT static float block_power(const int16_t *restrict x)
{
    uint32_t lane[8] = {0};
#pragma GCC unroll 10
    for (int n = 0; n < BLOCK; n += 8)
        for (int j = 0; j < 8; j++) {
            int32_t h = x[n + j] >> 1;
            lane[j] += (uint32_t)(h * h);
        }
    uint64_t acc = 0;
    for (int j = 0; j < 8; j++)
        acc += lane[j];
    return 4.0f * (float)acc / BLOCK;
}

/* |X|^2 of the windowed 2-block signal y at 8 probes. The Goertzel recurrences run over 4
 * segments at once (32 independent chains instead of 8, so the latency of each chain
 * overlaps), and the segments' results are joined by rotating each to its offset. */
CC_HOT static void goertzel8(const float *restrict y, const float *restrict coeff, const float (*trig)[3],
                             float *restrict power)
{
    enum { SEGS = 2 * BLOCK / CC_DTMF_SEGMENT };
    float s1[SEGS][8] = {{0}}, s2[SEGS][8] = {{0}};
    for (int n = 0; n < CC_DTMF_SEGMENT; n++) {
        for (int g = 0; g < SEGS; g++) {
            float v = y[g * CC_DTMF_SEGMENT + n];
            for (int k = 0; k < 8; k++) {
                float s0 = (v - s2[g][k]) + coeff[k] * s1[g][k]; /* y - s2 is off the critical path */
                s2[g][k] = s1[g][k];
                s1[g][k] = s0;
            }
        }
    }
    for (int k = 0; k < 8; k++) {
        /* segment g: A = s1 - exp(-iw) s2; X = sum_g exp(-iw g SEGMENT) A_g (Horner from the last) */
        float cw = 0.5f * coeff[k], sw = trig[k][0], cr = trig[k][1], sr = trig[k][2];
        float re = 0.0f, im = 0.0f;
        for (int g = SEGS - 1; g >= 0; g--) {
            float r2 = re * cr + im * sr, i2 = im * cr - re * sr; /* times exp(-i w SEGMENT) */
            re = r2 + (s1[g][k] - cw * s2[g][k]);
            im = i2 + sw * s2[g][k];
        }
        power[k] = re * re + im * im;
    }
}

/* One tone of the onset check, from its |X|^2 at f(1-d), f, f(1+d): the power at the
 * interpolated peak (int16-scale mean square), or -1 if the frequency is off by more than
 * the tolerance. */
static float tone_peak_power(const cc_dtmf_rx_t *s, const float *probe)
{
    float lo = probe[0], mid = probe[1], hi = probe[2];
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
    float lane[8] = {0};
    for (int i = 0; i < 2 * BLOCK; i += 8) {
        for (int j = 0; j < 8; j++) {
            y[i + j] = cc_dtmf_window[i + j] * (float)s->buf[i + j];
            lane[j] += y[i + j] * y[i + j];
        }
    }
    float energy = 0.0f;
    for (int j = 0; j < 8; j++)
        energy += lane[j];
    const float coeff[8] = {
        cc_dtmf_probe_coeff[row][0], cc_dtmf_probe_coeff[row][1], cc_dtmf_probe_coeff[row][2],
        cc_dtmf_probe_coeff[col][0], cc_dtmf_probe_coeff[col][1], cc_dtmf_probe_coeff[col][2],
        cc_dtmf_harmonic_coeff[row], cc_dtmf_harmonic_coeff[col]};
    const float *t = &cc_dtmf_probe_trig[0][0];
    const float trig[8][3] = {
        {t[9 * row], t[9 * row + 1], t[9 * row + 2]}, {t[9 * row + 3], t[9 * row + 4], t[9 * row + 5]},
        {t[9 * row + 6], t[9 * row + 7], t[9 * row + 8]}, {t[9 * col], t[9 * col + 1], t[9 * col + 2]},
        {t[9 * col + 3], t[9 * col + 4], t[9 * col + 5]}, {t[9 * col + 6], t[9 * col + 7], t[9 * col + 8]},
        {t[72 + 3 * row], t[72 + 3 * row + 1], t[72 + 3 * row + 2]},
        {t[72 + 3 * col], t[72 + 3 * col + 1], t[72 + 3 * col + 2]}};
    float g[8];
    goertzel8(y, coeff, trig, g);
    float pr = tone_peak_power(s, g);
    float pc = tone_peak_power(s, g + 3);
    if (pr < s->min_power || pc < s->min_power)
        return 0;
    if (pr > s->normal_twist * pc || pc > s->reverse_twist * pr)
        return 0;
    if (pr + pc < s->min_fraction * energy / cc_dtmf_window_sum_sq)
        return 0;
    /* Music and voiced speech come with harmonics; DTMF senders keep them 20 dB down. */
    const float to_power = 2.0f / (cc_dtmf_window_sum * cc_dtmf_window_sum);
    if (to_power * g[6] > s->max_harmonic * pr || to_power * g[7] > s->max_harmonic * pc)
        return 0;
    *lvl_row = power_to_dbm0(pr);
    *lvl_col = power_to_dbm0(pc);
    return 1;
}

/* Least squares of the block on the digit's two sinusoids (nominal frequencies): each tone's
 * power and the power of the fit. Unlike single bins, this is not fooled by one tone leaking
 * into the other's bin (up to 1.2 dB for 941 + 1209 Hz over 10 ms). */
static void pair_fit(const int32_t *bins, int row, int col, float *p_row, float *p_col, float *p_fit)
{
    const float *g = cc_dtmf_pair_ginv[row * 4 + (col - 4)];
    float b[4] = {(float)bins[row], (float)bins[row + 8], (float)bins[col], (float)bins[col + 8]};
    float a[4];
    for (int i = 0; i < 4; i++)
        a[i] = g[4 * i] * b[0] + g[4 * i + 1] * b[1] + g[4 * i + 2] * b[2] + g[4 * i + 3] * b[3];
    const float amp2 = cc_dtmf_basis_one * cc_dtmf_basis_one / 2.0f; /* coefficient^2 -> power */
    *p_row = amp2 * (a[0] * a[0] + a[1] * a[1]);
    *p_col = amp2 * (a[2] * a[2] + a[3] * a[3]);
    *p_fit = (a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3]) / BLOCK;
}

/* Classify the block in buf[BLOCK..]: a digit or 0; its 8 bin powers in p. */
static int block_hit(const cc_dtmf_rx_t *s, float *p, int *row, int *col)
{
    int32_t bins[16];
    float power = block_power(s->buf + BLOCK);
    float min_p = s->min_power * BLOCK_LEVEL_MARGIN;
    *row = 0;
    *col = 4;
    /* A bin's power is at most 2x the block's (Cauchy-Schwarz; 2.01 covers the Q10 basis,
     * the root bounds the estimate's error): below that no tone can pass, and silence costs
     * no dot products. */
    float bound = sqrtf(power) + 1.0f;
    if (2.01f * bound * bound < min_p) {
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
    float pr, pc, fit;
    pair_fit(bins, r, c, &pr, &pc, &fit);
    if (pr < min_p || pc < min_p)
        return 0;
    if (pr > BLOCK_TWIST_MARGIN * s->normal_twist * pc || pc > BLOCK_TWIST_MARGIN * s->reverse_twist * pr)
        return 0;
    if (fit < s->min_fraction * power)
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
    if (kind == CC_DTMF_OFF) {
        int64_t ms = (s->digit_end - s->digit_start) / (CC_SAMPLE_RATE / 1000);
        ev->duration_ms = (uint16_t)(ms > UINT16_MAX ? UINT16_MAX : ms);
    }
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

CC_COLD static int block_end(cc_dtmf_rx_t *s, cc_dtmf_event_t *ev)
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
    if (n == 8)
        memcpy(dst, src, 8 * sizeof(*dst)); /* a DAHDI chunk: one 16-byte move, inline */
    else
        memcpy(dst, src, n * sizeof(*dst));
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
            copy_samples(dst, (const int16_t *)x + i, take);
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
    /* any stride, 0 included: rows are only read */
    if (s == NULL || !law_ok(law) || (n > 0 && nch > 0 && x == NULL) || ev == NULL || n > (size_t)INT32_MAX)
        return CC_ERR_ARG;
    for (size_t c = 0; c < nch; c++)
        if (!valid(s[c]))
            return CC_ERR_ARG;
    if (nch > 0 && max_ev / nch < cc_dtmf_rx_max_events(n))
        return CC_ERR_SPACE;
    size_t size = law == CC_LAW_LINEAR ? sizeof(int16_t) : sizeof(uint8_t);
    int nev = 0;
    for (size_t c = 0; c < nch; c++) {
        cc_dtmf_rx_t *st = s[c];
        const char *row = (const char *)x + c * stride * size;
        if (law == CC_LAW_LINEAR && (size_t)st->fill + n < BLOCK) {
            /* most 1 ms ticks: no block ends, only the copy (the per-call cost dominates here) */
            copy_samples(st->buf + BLOCK + st->fill, (const int16_t *)row, n);
            st->fill += (int32_t)n;
            st->t += (int64_t)n;
        } else {
            nev += feed(st, law, row, n, ev + nev);
        }
    }
    return nev;
}
