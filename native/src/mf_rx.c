/*
 * MF R1 / MFC-R2 receiver: see ccboard/mf.h for what it does and the figures it meets.
 *
 * Per block of 80 samples (10 ms):
 *   1. the block power (8 float lanes: exact order, so both clones agree) and, unless it is too
 *      quiet for any tone to pass, the 6 tones' cos/sin components as int32 dot products with
 *      a Q10 basis (exact in any order);
 *   2. least squares on all 6 tones: a = Ginv b (Ginv generated), tone k's power from
 *      (a_k, a_k+6). R2 tones 120 Hz apart leak -16 dB into each other's bins over 10 ms; the
 *      fit removes that, so twist and the third-tone test see the true levels;
 *   3. a hit when the two strongest tones pass loose level and twist limits, the third is
 *      well below the weaker, and the pair's own least-squares fit carries min_fraction of the
 *      block's power (a block only partly filled with tone carries that fraction of it, so a
 *      hit needs ~8 ms of tone in the block);
 *   4. on the second hit of a run (R1: once the minimum time has passed too), the onset check:
 *      each tone's frequency from the phase its fit turned through since the previous block
 *      (a nominal tone turns w*80; a tone d Hz off turns 2*pi*d/100 more), and the exact
 *      level, twist and third-tone limits.
 * A signal ends after 3 blocks in a row without it.
 *
 * Powers are int16-scale mean squares: a sine of peak A has power A^2/2, and 0 dBm0 is a sine
 * of peak 22767 (the 3.14 dB reference of spandsp and libtonezone).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/g711.h"
#include "ccboard/private/mf.h"
#include "mf_tables.h"

#define BLOCK CC_MF_BLOCK
#define HITS_TO_START 2
#define MISSES_TO_END 3
/* Per-block limits are looser than the onset check's: a partial block or a tone off
 * frequency shows up to ~2 dB less in the fit, which the onset check's full block does not. */
#define BLOCK_LEVEL_MARGIN 0.5f /* power ratio, -3 dB */
#define BLOCK_TWIST_MARGIN 2.0f /* +3 dB */
#define BLOCK_THIRD_MARGIN 2.0f /* +3 dB */

static const float DBM0_POWER = 22767.0f * 22767.0f / 2.0f;
static const float PI_F = 3.14159265f;
static const char SYMBOLS[3][16] = {"1234567890CA*B#", "1234567890BCDEF", "1234567890BCDEF"};
/* Tone indices (i < j) of signals 1..15: Q.441's order. */
static const uint8_t PAIR_I[15] = {0, 0, 1, 0, 1, 2, 0, 1, 2, 3, 0, 1, 2, 3, 4};
static const uint8_t PAIR_J[15] = {1, 2, 2, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 5};
#define KP_SIGNAL 13 /* 1100 + 1700 Hz */

static float db_to_ratio(float db) { return powf(10.0f, db / 10.0f); }
static float power_to_dbm0(float p) { return p > 0.0f ? 10.0f * log10f(p / DBM0_POWER) : -200.0f; }
static int mode_ok(int mode) { return mode == CC_MF_R1 || mode == CC_MF_R2_FWD || mode == CC_MF_R2_BWD; }
static int signal_of(int i, int j) { return j * (j - 1) / 2 + i + 1; }

int cc_mf_symbol(cc_mf_mode mode, int signal)
{
    return mode_ok(mode) && signal >= 1 && signal <= 15 ? SYMBOLS[mode][signal - 1] : 0;
}

int cc_mf_signal(cc_mf_mode mode, int symbol)
{
    if (!mode_ok(mode) || symbol <= 0 || symbol > 127)
        return 0;
    if (symbol >= 'a' && symbol <= 'z')
        symbol -= 'a' - 'A';
    const char *p = strchr(SYMBOLS[mode], symbol);
    return p ? (int)(p - SYMBOLS[mode]) + 1 : 0;
}

int cc_mf_freqs(cc_mf_mode mode, int signal, float *low_hz, float *high_hz)
{
    if (!mode_ok(mode) || signal < 1 || signal > 15 || low_hz == NULL || high_hz == NULL)
        return CC_ERR_ARG;
    float a = cc_mf_freq[mode][PAIR_I[signal - 1]], b = cc_mf_freq[mode][PAIR_J[signal - 1]];
    *low_hz = a < b ? a : b;
    *high_hz = a < b ? b : a;
    return CC_OK;
}

int cc_mf_rx_config_default(cc_mf_rx_config_t *cfg, cc_mf_mode mode)
{
    if (cfg == NULL || !mode_ok(mode))
        return CC_ERR_ARG;
    int r1 = mode == CC_MF_R1;
    cfg->min_level_dbm0 = r1 ? -30.0f : -38.0f;
    cfg->max_level_dbm0 = 3.0f;
    cfg->twist_adjacent_db = 9.0f;
    cfg->twist_db = r1 ? 9.0f : 11.0f;
    cfg->third_tone_db = r1 ? -8.0f : -12.0f; /* R1 tones 30 Hz off spill -10 dB into neighbours */
    cfg->freq_tolerance_hz = r1 ? 14.0f : 18.0f;
    cfg->freq_tolerance_pct = r1 ? 2.0f : 0.0f;
    /* R1 accepts +-(1.5% + 10 Hz): a tone 35 Hz off fits 1.8 dB weaker over 10 ms */
    cfg->min_tone_fraction_db = r1 ? -3.0f : -1.0f;
    cfg->min_on_ms = r1 ? 34 : 0;
    cfg->min_on_kp_ms = r1 ? 59 : 0;
    return CC_OK;
}

static int config_ok(const cc_mf_rx_config_t *c, int mode)
{
    float top = mode == CC_MF_R2_FWD ? 1980.0f : mode == CC_MF_R1 ? 1700.0f : 1140.0f;
    /* written so that NaN fails every test; the half-block phase tells offsets up to +-100 Hz */
    return c->min_level_dbm0 >= -90.0f && c->min_level_dbm0 <= 3.0f && c->max_level_dbm0 >= c->min_level_dbm0
        && c->max_level_dbm0 <= 10.0f && c->twist_adjacent_db >= 0.0f && c->twist_adjacent_db <= 30.0f
        && c->twist_db >= 0.0f && c->twist_db <= 30.0f && c->third_tone_db <= 0.0f && c->third_tone_db >= -60.0f
        && c->freq_tolerance_hz >= 0.0f && c->freq_tolerance_pct >= 0.0f && c->freq_tolerance_pct <= 3.0f
        && c->freq_tolerance_hz + c->freq_tolerance_pct * 0.01f * top <= 90.0f
        && c->freq_tolerance_hz + c->freq_tolerance_pct > 0.0f && c->min_tone_fraction_db <= 0.0f
        && c->min_tone_fraction_db >= -20.0f && c->min_on_ms >= 0 && c->min_on_ms <= 1000 && c->min_on_kp_ms >= 0
        && c->min_on_kp_ms <= 1000;
}

cc_mf_rx_t *cc_mf_rx_init(cc_mf_rx_t *s, cc_mf_mode mode, const cc_mf_rx_config_t *cfg, int32_t channel)
{
    cc_mf_rx_config_t def;
    if (!mode_ok(mode))
        return NULL;
    if (cfg == NULL) {
        cc_mf_rx_config_default(&def, mode);
        cfg = &def;
    }
    if (!config_ok(cfg, mode))
        return NULL;
    if (s == NULL && (s = malloc(sizeof(*s))) == NULL)
        return NULL;
    memset(s, 0, sizeof(*s));
    s->magic = CC_MF_RX_MAGIC;
    s->channel = channel;
    s->mode = mode;
    s->cfg = *cfg;
    s->min_power = DBM0_POWER * db_to_ratio(cfg->min_level_dbm0);
    s->max_power = DBM0_POWER * db_to_ratio(cfg->max_level_dbm0);
    s->twist_adj = db_to_ratio(cfg->twist_adjacent_db);
    s->twist = db_to_ratio(cfg->twist_db);
    s->third = db_to_ratio(cfg->third_tone_db);
    s->min_fraction = db_to_ratio(cfg->min_tone_fraction_db);
    for (int k = 0; k < 6; k++)
        s->freq_tol_hz[k] = cfg->freq_tolerance_hz + cfg->freq_tolerance_pct * 0.01f * cc_mf_freq[mode][k];
    s->min_on = cfg->min_on_ms * (CC_SAMPLE_RATE / 1000);
    s->min_on_kp = cfg->min_on_kp_ms * (CC_SAMPLE_RATE / 1000);
    return s;
}

static int valid(const cc_mf_rx_t *s) { return s != NULL && s->magic == CC_MF_RX_MAGIC; }

int cc_mf_rx_reset(cc_mf_rx_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    cc_mf_rx_config_t cfg = s->cfg;
    cc_mf_rx_init(s, (cc_mf_mode)s->mode, &cfg, s->channel);
    return CC_OK;
}

int cc_mf_rx_release(cc_mf_rx_t *s) { return valid(s) ? CC_OK : CC_ERR_ARG; }

int cc_mf_rx_free(cc_mf_rx_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    s->magic = 0;
    free(s);
    return CC_OK;
}

size_t cc_mf_rx_state_size(void) { return sizeof(cc_mf_rx_t); }

static int finite_all(const float *v, int n)
{
    for (int i = 0; i < n; i++)
        if (!(v[i] >= -1e30f && v[i] <= 1e30f))
            return 0;
    return 1;
}

int cc_mf_rx_restore(cc_mf_rx_t *s, const void *saved, size_t len)
{
    cc_mf_rx_t t;
    if (s == NULL || saved == NULL)
        return CC_ERR_ARG;
    if (len != sizeof(t))
        return CC_ERR_STATE;
    memcpy(&t, saved, sizeof(t));
    if (t.magic != CC_MF_RX_MAGIC || !mode_ok(t.mode) || !config_ok(&t.cfg, t.mode) || t.fill < 0 || t.fill >= BLOCK
        || t.t < 0 || t.sig > 15 || t.run_sig > 15 || t.misses >= MISSES_TO_END || t.run_lead < 0
        || t.run_lead >= BLOCK || !finite_all(t.prev_power, 6) || !finite_all(t.prev_coef, 12)
        || !finite_all(&t.level_low, 1) || !finite_all(&t.level_high, 1))
        return CC_ERR_STATE;
    /* the derived limits are recomputed, never trusted */
    cc_mf_rx_init(s, (cc_mf_mode)t.mode, &t.cfg, t.channel);
    memcpy(s->buf, t.buf, sizeof(t.buf));
    memcpy(s->prev_power, t.prev_power, sizeof(t.prev_power));
    memcpy(s->prev_coef, t.prev_coef, sizeof(t.prev_coef));
    s->t = t.t;
    s->run_start = t.run_start;
    s->sig_start = t.sig_start;
    s->sig_end = t.sig_end;
    s->level_low = t.level_low;
    s->level_high = t.level_high;
    s->run_lead = t.run_lead;
    s->fill = t.fill;
    s->run_sig = t.run_sig;
    s->run_len = t.run_len;
    s->sig = t.sig;
    s->misses = t.misses;
    return CC_OK;
}

size_t cc_mf_rx_max_events(size_t n) { return 2 * (n / BLOCK + 1); }
int cc_mf_rx_current(const cc_mf_rx_t *s) { return valid(s) ? s->sig : 0; }
int32_t cc_mf_rx_channel(const cc_mf_rx_t *s) { return valid(s) ? s->channel : 0; }
int cc_mf_rx_mode(const cc_mf_rx_t *s) { return valid(s) ? s->mode : CC_ERR_ARG; }
int64_t cc_mf_rx_samples(const cc_mf_rx_t *s) { return valid(s) ? s->t : 0; }

/* The 12 dot products of one block: cos sums then sin sums. */
CC_HOT static void block_bins(const int16_t *restrict x, const int16_t (*restrict basis)[BLOCK],
                              int32_t *restrict bins)
{
    for (int k = 0; k < 12; k++) {
        int32_t acc = 0;
#pragma GCC unroll 8
        for (int n = 0; n < BLOCK; n++)
            acc += (int32_t)x[n] * basis[k][n];
        bins[k] = acc;
    }
}

/* Mean square of one block; 8 float lanes summed in a fixed order (same result in any clone). */
CC_HOT static float block_power(const int16_t *restrict x)
{
    float lane[8] = {0};
    for (int n = 0; n < BLOCK; n += 8)
        for (int j = 0; j < 8; j++) {
            float v = (float)x[n + j];
            lane[j] += v * v;
        }
    return ((lane[0] + lane[1]) + (lane[2] + lane[3]) + ((lane[4] + lane[5]) + (lane[6] + lane[7]))) / BLOCK;
}

/* a = Ginv b (Ginv symmetric: column c = row c), accumulated row-wise so it vectorises. */
static void ls_fit(const float *restrict g, const float *restrict b, float *restrict a)
{
    for (int r = 0; r < 12; r++)
        a[r] = 0.0f;
    for (int c = 0; c < 12; c++)
        for (int r = 0; r < 12; r++)
            a[r] += g[12 * c + r] * b[c];
}

/* Fit power of the pair (i, j) alone: a' b / N with a' the pair's least-squares coefficients. */
static float pair_fit(const float *b, int mode, int sig)
{
    const float *g = cc_mf_pair_ginv[mode][sig - 1];
    int i = PAIR_I[sig - 1], j = PAIR_J[sig - 1];
    float v[4] = {b[i], b[i + 6], b[j], b[j + 6]};
    float fit = 0.0f;
    for (int r = 0; r < 4; r++)
        fit += (g[4 * r] * v[0] + g[4 * r + 1] * v[1] + g[4 * r + 2] * v[2] + g[4 * r + 3] * v[3]) * v[r];
    return fit / BLOCK;
}

typedef struct {
    float p[6];     /* tone powers */
    float coef[12]; /* least-squares coefficients (Q10 units) */
    int i, j;       /* the two strongest tones, i < j */
    int third;      /* the strongest of the others */
} block_t;

/* Classify the block in buf: a signal or 0; its tone powers and coefficients in blk. */
static int block_hit(const cc_mf_rx_t *s, block_t *blk)
{
    float power = block_power(s->buf);
    float min_p = s->min_power * BLOCK_LEVEL_MARGIN;
    blk->i = 0;
    blk->j = 1;
    blk->third = 2;
    /* A tone's least-squares power is below 4x the block's (2x for one bin, times the Gram
     * matrix's condition number, < 1.91 for these tones): below that, no dot products. */
    if (4.0f * power < min_p) {
        memset(blk->p, 0, sizeof(blk->p));
        memset(blk->coef, 0, sizeof(blk->coef));
        return 0;
    }
    int32_t bins[12];
    float b[12];
    block_bins(s->buf, cc_mf_basis[s->mode], bins);
    for (int k = 0; k < 12; k++)
        b[k] = (float)bins[k];
    ls_fit(cc_mf_ginv[s->mode], b, blk->coef);
    const float amp2 = cc_mf_basis_one * cc_mf_basis_one / 2.0f;
    int m1 = 0, m2 = -1;
    for (int k = 0; k < 6; k++) {
        float c = blk->coef[k], d = blk->coef[k + 6];
        blk->p[k] = amp2 * (c * c + d * d);
    }
    for (int k = 1; k < 6; k++)
        if (blk->p[k] > blk->p[m1])
            m1 = k;
    for (int k = 0; k < 6; k++)
        if (k != m1 && (m2 < 0 || blk->p[k] > blk->p[m2]))
            m2 = k;
    int m3 = -1;
    for (int k = 0; k < 6; k++)
        if (k != m1 && k != m2 && (m3 < 0 || blk->p[k] > blk->p[m3]))
            m3 = k;
    blk->i = m1 < m2 ? m1 : m2;
    blk->j = m1 < m2 ? m2 : m1;
    blk->third = m3;
    float strong = blk->p[m1], weak = blk->p[m2];
    if (weak < min_p)
        return 0;
    float twist = blk->j - blk->i == 1 ? s->twist_adj : s->twist;
    if (strong > BLOCK_TWIST_MARGIN * twist * weak)
        return 0;
    if (blk->p[m3] > BLOCK_THIRD_MARGIN * s->third * weak)
        return 0;
    int sig = signal_of(blk->i, blk->j);
    if (pair_fit(b, s->mode, sig) < s->min_fraction * power)
        return 0;
    return sig;
}

/* Frequency offset (Hz) of tone k from the phase its fit turned through between two blocks. */
static float tone_offset_hz(const cc_mf_rx_t *s, const float *cur, const float *prev, int k)
{
    /* phasor c - i s of each block */
    float cr = cur[k], ci = -cur[k + 6], pr = prev[k], pi = -prev[k + 6];
    float qr = cr * pr + ci * pi, qi = ci * pr - cr * pi; /* cur * conj(prev) */
    float rr = cc_mf_rot[s->mode][2 * k], ri = cc_mf_rot[s->mode][2 * k + 1];
    float ur = qr * rr + qi * ri, ui = qi * rr - qr * ri; /* / the nominal turn */
    return atan2f(ui, ur) * (float)(CC_SAMPLE_RATE / BLOCK) / (2.0f * PI_F);
}

/* Coarse offsets (Hz, within +-100) of the pair's tones from the two halves of the block in buf:
 * least squares of each half on the pair with the block's basis, so only an offset turns them. */
static void half_offsets(const cc_mf_rx_t *s, int sig, float *d)
{
    int i = PAIR_I[sig - 1], j = PAIR_J[sig - 1];
    const int16_t(*basis)[BLOCK] = cc_mf_basis[s->mode];
    float z[2][4];
    for (int h = 0; h < 2; h++) {
        float b[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        for (int n = h * BLOCK / 2; n < (h + 1) * BLOCK / 2; n++) {
            float x = (float)s->buf[n];
            b[0] += x * basis[i][n];
            b[1] += x * basis[i + 6][n];
            b[2] += x * basis[j][n];
            b[3] += x * basis[j + 6][n];
        }
        const float *g = cc_mf_half_ginv[s->mode][2 * (sig - 1) + h];
        for (int r = 0; r < 4; r++)
            z[h][r] = g[4 * r] * b[0] + g[4 * r + 1] * b[1] + g[4 * r + 2] * b[2] + g[4 * r + 3] * b[3];
    }
    for (int t = 0; t < 2; t++) {
        float cr = z[1][2 * t], ci = -z[1][2 * t + 1], pr = z[0][2 * t], pi = -z[0][2 * t + 1];
        float qr = cr * pr + ci * pi, qi = ci * pr - cr * pi;
        d[t] = atan2f(qi, qr) * (float)(2 * CC_SAMPLE_RATE / BLOCK) / (2.0f * PI_F);
    }
}

/* The fine offset (+-50 Hz, ambiguous by 100 Hz) moved by the 100 Hz step nearest the coarse one. */
static float unwrap(float fine, float coarse)
{
    float best = fine;
    for (int k = -2; k <= 2; k++) {
        float c = fine + 100.0f * (float)k;
        if (fabsf(c - coarse) < fabsf(best - coarse))
            best = c;
    }
    return best;
}

/* Exact checks on the current block (and the previous one, for the frequencies). */
static int onset_ok(const cc_mf_rx_t *s, const block_t *blk, int prev_full)
{
    int i = blk->i, j = blk->j;
    float pi = blk->p[i], pj = blk->p[j];
    float weak = pi < pj ? pi : pj, strong = pi < pj ? pj : pi;
    if (weak < s->min_power || strong > s->max_power)
        return 0;
    if (strong > (j - i == 1 ? s->twist_adj : s->twist) * weak)
        return 0;
    if (blk->p[blk->third] > s->third * weak)
        return 0;
    float coarse[2];
    half_offsets(s, signal_of(i, j), coarse);
    /* A partial previous block turns less (its tone's centre is nearer): then the coarse one alone. */
    float di = prev_full ? unwrap(tone_offset_hz(s, blk->coef, s->prev_coef, i), coarse[0]) : coarse[0];
    float dj = prev_full ? unwrap(tone_offset_hz(s, blk->coef, s->prev_coef, j), coarse[1]) : coarse[1];
    return fabsf(di) <= s->freq_tol_hz[i] && fabsf(dj) <= s->freq_tol_hz[j];
}

/* Samples of tone in a block whose fit shows a fraction of a full block's tone power:
 * a tone over L of N samples fits (L/N)^2 as strong. */
static int32_t partial_len(const float *p, int i, int j, const float *full)
{
    float num = p[i] + p[j], den = full[i] + full[j];
    if (!(den > 0.0f) || !(num > 0.0f))
        return 0;
    float len = BLOCK * sqrtf(num / den);
    return len >= BLOCK - 1 ? BLOCK - 1 : (int32_t)(len + 0.5f);
}

static void put_event(cc_mf_event_t *ev, const cc_mf_rx_t *s, int kind)
{
    memset(ev, 0, sizeof(*ev));
    ev->channel = s->channel;
    ev->signal = s->sig;
    ev->symbol = (uint8_t)SYMBOLS[s->mode][s->sig - 1];
    ev->kind = (uint8_t)kind;
    ev->mode = (uint8_t)s->mode;
    ev->level_low = s->level_low;
    ev->level_high = s->level_high;
    ev->start = s->sig_start;
    ev->end = kind == CC_MF_OFF ? s->sig_end : -1;
    ev->at = s->t;
}

/* A block is complete in buf: classify it and update the signal. */
CC_COLD static int block_end(cc_mf_rx_t *s, cc_mf_event_t *ev)
{
    int nev = 0;
    block_t blk;
    int hit = block_hit(s, &blk);
    int64_t block_start = s->t - BLOCK;

    if (hit && hit == s->run_sig) {
        if (s->run_len < UINT8_MAX)
            s->run_len++;
        if (s->run_len == 2) {
            /* the run's first block may hold only a tail of tone: locate its start in it */
            int32_t first = partial_len(s->prev_power, blk.i, blk.j, blk.p);
            if (first < BLOCK - 1) {
                s->run_start += BLOCK - first;
                s->run_lead = 0;
            }
        }
    } else {
        s->run_sig = (uint8_t)hit;
        s->run_len = hit ? 1 : 0;
        s->run_start = block_start;
        s->run_lead = hit ? partial_len(s->prev_power, blk.i, blk.j, blk.p) : 0;
    }
    if (s->sig) {
        int i = PAIR_I[s->sig - 1], j = PAIR_J[s->sig - 1];
        if (hit == s->sig) {
            /* a hit block may be only partly tone (the signal ending in it) */
            int32_t cur = partial_len(blk.p, i, j, s->prev_power);
            s->misses = 0;
            s->sig_end = cur >= BLOCK - 1 ? s->t : block_start + cur;
        } else if (++s->misses == 1) {
            /* the previous block was the last hit; if it was full, the tail may reach into this one */
            if (s->sig_end == block_start)
                s->sig_end += partial_len(blk.p, i, j, s->prev_power);
        } else if (s->misses >= MISSES_TO_END) {
            put_event(&ev[nev++], s, CC_MF_OFF);
            s->sig = 0;
            s->misses = 0;
        }
    }
    if (!s->sig && hit && s->run_len >= HITS_TO_START) {
        int64_t start = s->run_start - s->run_lead;
        int32_t need = hit == KP_SIGNAL && s->mode == CC_MF_R1 ? s->min_on_kp : s->min_on;
        /* a block partly filled with tone still hits: the tone may have ended inside it */
        int32_t cur = partial_len(blk.p, blk.i, blk.j, s->prev_power);
        int64_t end = cur >= BLOCK - 1 ? s->t : block_start + cur;
        int prev_full = partial_len(s->prev_power, blk.i, blk.j, blk.p) >= BLOCK - 1;
        /* and a partial block's phases are biased: the onset check wants this block full */
        if (cur >= BLOCK - 1 && end - start >= need && onset_ok(s, &blk, prev_full)) {
            float lvl_i = power_to_dbm0(blk.p[blk.i]), lvl_j = power_to_dbm0(blk.p[blk.j]);
            int i_lower = cc_mf_freq[s->mode][blk.i] < cc_mf_freq[s->mode][blk.j];
            s->sig = (uint8_t)hit;
            s->sig_start = start;
            s->sig_end = s->t;
            s->misses = 0;
            s->level_low = i_lower ? lvl_i : lvl_j;
            s->level_high = i_lower ? lvl_j : lvl_i;
            put_event(&ev[nev++], s, CC_MF_ON);
        }
    }
    memcpy(s->prev_power, blk.p, sizeof(s->prev_power));
    memcpy(s->prev_coef, blk.coef, sizeof(s->prev_coef));
    return nev;
}

static void copy_samples(int16_t *restrict dst, const int16_t *restrict src, size_t n)
{
    if (n == 8)
        memcpy(dst, src, 8 * sizeof(*dst)); /* a DAHDI chunk: one 16-byte move, inline */
    else
        memcpy(dst, src, n * sizeof(*dst));
}

static int feed(cc_mf_rx_t *s, cc_law law, const void *x, size_t n, cc_mf_event_t *ev)
{
    int nev = 0;
    size_t i = 0;
    while (i < n) {
        size_t take = (size_t)(BLOCK - s->fill);
        if (take > n - i)
            take = n - i;
        int16_t *dst = s->buf + s->fill;
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

int cc_mf_rx_process(cc_mf_rx_t *s, cc_law law, const void *x, size_t n, cc_mf_event_t *ev, size_t max_ev)
{
    if (!valid(s) || !law_ok(law) || (n > 0 && x == NULL) || ev == NULL || n > (size_t)INT32_MAX)
        return CC_ERR_ARG;
    if (max_ev < cc_mf_rx_max_events(n))
        return CC_ERR_SPACE;
    return feed(s, law, x, n, ev);
}

int cc_mf_rx_process_batch(cc_mf_rx_t *const *s, size_t nch, cc_law law, const void *x, size_t stride,
                           size_t n, cc_mf_event_t *ev, size_t max_ev)
{
    /* any stride, 0 included: rows are only read */
    if (s == NULL || !law_ok(law) || (n > 0 && nch > 0 && x == NULL) || ev == NULL || n > (size_t)INT32_MAX)
        return CC_ERR_ARG;
    for (size_t c = 0; c < nch; c++)
        if (!valid(s[c]))
            return CC_ERR_ARG;
    if (nch > 0 && max_ev / nch < cc_mf_rx_max_events(n))
        return CC_ERR_SPACE;
    size_t size = law == CC_LAW_LINEAR ? sizeof(int16_t) : sizeof(uint8_t);
    int nev = 0;
    for (size_t c = 0; c < nch; c++) {
        cc_mf_rx_t *st = s[c];
        const char *row = (const char *)x + c * stride * size;
        if (law == CC_LAW_LINEAR && (size_t)st->fill + n < BLOCK) {
            /* most 1 ms ticks: no block ends, only the copy */
            copy_samples(st->buf + st->fill, (const int16_t *)row, n);
            st->fill += (int32_t)n;
            st->t += (int64_t)n;
        } else {
            nev += feed(st, law, row, n, ev + nev);
        }
    }
    return nev;
}
