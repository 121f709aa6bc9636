/*
 * Fax/modem tones: see ccboard/faxtone.h for what and the figures met.
 *
 * Per 10 ms block, for f in {1100, 2100} Hz: Xa, Xb = the bins of the two 5 ms halves with
 * one continuous basis exp(-i w n), n = 0..79 (so for a tone on f they share a phase). Then
 *   tone power  2 |Xa + Xb|^2 / 80^2 (int16-scale mean square), corrected for the sinc loss
 *               of the measured offset;
 *   offset      df = arg(Xb conj(Xa)) / (2 pi 5 ms), unambiguous within +-100 Hz;
 *   reversal    arg(X conj(X_prev)) against the advance 2 pi df dt: off by more than pi/2.
 * 1100 and 2100 Hz make whole cycles in 10 ms, so a tone exactly on f keeps its phase from
 * block to block.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/g711.h"
#include "ccboard/private/faxtone.h"

#define BLOCK CC_FAXTONE_BLOCK
#define HALF (BLOCK / 2)
#define AMB CC_FAXTONE_AM_BLOCKS
#define MISSES_TO_END 3
#define CORRUPT_RATIO 0.7f /* a block below this share of the clean magnitude held a reversal */

static const float DBM0_POWER = 22827.0f * 22827.0f / 2.0f; /* 32768 * 10^(-3.14/20) peak */
static const double PI = 3.141592653589793;
static const float FREQ[2] = {1100.0f, 2100.0f};

/* cos, sin of 2 pi f n / 8000 for f = 1100, 2100 Hz, n < 80 (both repeat every 80 samples);
 * written out by hand-run python: cos/sin(2 pi ((f / 100) n mod 80) / 80). */
static const float BASIS[4][BLOCK] = {
    {
        1.000000000f, 0.649448048f, -0.156434465f, -0.852640164f, -0.951056516f, -0.382683432f, 0.453990500f,
        0.972369920f, 0.809016994f, 0.078459096f, -0.707106781f, -0.996917334f, -0.587785252f, 0.233445364f,
        0.891006524f, 0.923879533f, 0.309016994f, -0.522498565f, -0.987688341f, -0.760405966f, -0.000000000f,
        0.760405966f, 0.987688341f, 0.522498565f, -0.309016994f, -0.923879533f, -0.891006524f, -0.233445364f,
        0.587785252f, 0.996917334f, 0.707106781f, -0.078459096f, -0.809016994f, -0.972369920f, -0.453990500f,
        0.382683432f, 0.951056516f, 0.852640164f, 0.156434465f, -0.649448048f, -1.000000000f, -0.649448048f,
        0.156434465f, 0.852640164f, 0.951056516f, 0.382683432f, -0.453990500f, -0.972369920f, -0.809016994f,
        -0.078459096f, 0.707106781f, 0.996917334f, 0.587785252f, -0.233445364f, -0.891006524f, -0.923879533f,
        -0.309016994f, 0.522498565f, 0.987688341f, 0.760405966f, 0.000000000f, -0.760405966f, -0.987688341f,
        -0.522498565f, 0.309016994f, 0.923879533f, 0.891006524f, 0.233445364f, -0.587785252f, -0.996917334f,
        -0.707106781f, 0.078459096f, 0.809016994f, 0.972369920f, 0.453990500f, -0.382683432f, -0.951056516f,
        -0.852640164f, -0.156434465f, 0.649448048f},
    {
        0.000000000f, 0.760405966f, 0.987688341f, 0.522498565f, -0.309016994f, -0.923879533f, -0.891006524f,
        -0.233445364f, 0.587785252f, 0.996917334f, 0.707106781f, -0.078459096f, -0.809016994f, -0.972369920f,
        -0.453990500f, 0.382683432f, 0.951056516f, 0.852640164f, 0.156434465f, -0.649448048f, -1.000000000f,
        -0.649448048f, 0.156434465f, 0.852640164f, 0.951056516f, 0.382683432f, -0.453990500f, -0.972369920f,
        -0.809016994f, -0.078459096f, 0.707106781f, 0.996917334f, 0.587785252f, -0.233445364f, -0.891006524f,
        -0.923879533f, -0.309016994f, 0.522498565f, 0.987688341f, 0.760405966f, 0.000000000f, -0.760405966f,
        -0.987688341f, -0.522498565f, 0.309016994f, 0.923879533f, 0.891006524f, 0.233445364f, -0.587785252f,
        -0.996917334f, -0.707106781f, 0.078459096f, 0.809016994f, 0.972369920f, 0.453990500f, -0.382683432f,
        -0.951056516f, -0.852640164f, -0.156434465f, 0.649448048f, 1.000000000f, 0.649448048f, -0.156434465f,
        -0.852640164f, -0.951056516f, -0.382683432f, 0.453990500f, 0.972369920f, 0.809016994f, 0.078459096f,
        -0.707106781f, -0.996917334f, -0.587785252f, 0.233445364f, 0.891006524f, 0.923879533f, 0.309016994f,
        -0.522498565f, -0.987688341f, -0.760405966f},
    {
        1.000000000f, -0.078459096f, -0.987688341f, 0.233445364f, 0.951056516f, -0.382683432f, -0.891006524f,
        0.522498565f, 0.809016994f, -0.649448048f, -0.707106781f, 0.760405966f, 0.587785252f, -0.852640164f,
        -0.453990500f, 0.923879533f, 0.309016994f, -0.972369920f, -0.156434465f, 0.996917334f, 0.000000000f,
        -0.996917334f, 0.156434465f, 0.972369920f, -0.309016994f, -0.923879533f, 0.453990500f, 0.852640164f,
        -0.587785252f, -0.760405966f, 0.707106781f, 0.649448048f, -0.809016994f, -0.522498565f, 0.891006524f,
        0.382683432f, -0.951056516f, -0.233445364f, 0.987688341f, 0.078459096f, -1.000000000f, 0.078459096f,
        0.987688341f, -0.233445364f, -0.951056516f, 0.382683432f, 0.891006524f, -0.522498565f, -0.809016994f,
        0.649448048f, 0.707106781f, -0.760405966f, -0.587785252f, 0.852640164f, 0.453990500f, -0.923879533f,
        -0.309016994f, 0.972369920f, 0.156434465f, -0.996917334f, -0.000000000f, 0.996917334f, -0.156434465f,
        -0.972369920f, 0.309016994f, 0.923879533f, -0.453990500f, -0.852640164f, 0.587785252f, 0.760405966f,
        -0.707106781f, -0.649448048f, 0.809016994f, 0.522498565f, -0.891006524f, -0.382683432f, 0.951056516f,
        0.233445364f, -0.987688341f, -0.078459096f},
    {
        0.000000000f, 0.996917334f, -0.156434465f, -0.972369920f, 0.309016994f, 0.923879533f, -0.453990500f,
        -0.852640164f, 0.587785252f, 0.760405966f, -0.707106781f, -0.649448048f, 0.809016994f, 0.522498565f,
        -0.891006524f, -0.382683432f, 0.951056516f, 0.233445364f, -0.987688341f, -0.078459096f, 1.000000000f,
        -0.078459096f, -0.987688341f, 0.233445364f, 0.951056516f, -0.382683432f, -0.891006524f, 0.522498565f,
        0.809016994f, -0.649448048f, -0.707106781f, 0.760405966f, 0.587785252f, -0.852640164f, -0.453990500f,
        0.923879533f, 0.309016994f, -0.972369920f, -0.156434465f, 0.996917334f, 0.000000000f, -0.996917334f,
        0.156434465f, 0.972369920f, -0.309016994f, -0.923879533f, 0.453990500f, 0.852640164f, -0.587785252f,
        -0.760405966f, 0.707106781f, 0.649448048f, -0.809016994f, -0.522498565f, 0.891006524f, 0.382683432f,
        -0.951056516f, -0.233445364f, 0.987688341f, 0.078459096f, -1.000000000f, 0.078459096f, 0.987688341f,
        -0.233445364f, -0.951056516f, 0.382683432f, 0.891006524f, -0.522498565f, -0.809016994f, 0.649448048f,
        0.707106781f, -0.760405966f, -0.587785252f, 0.852640164f, 0.453990500f, -0.923879533f, -0.309016994f,
        0.972369920f, 0.156434465f, -0.996917334f},
};

void cc_faxtone_rx_config_default(cc_faxtone_rx_config_t *cfg)
{
    cfg->min_level_dbm0 = -46.0f;
    cfg->cng_tolerance_hz = 38.0f;
    cfg->ans_tolerance_hz = 15.0f;
    cfg->cng_min_ms = 400;
    cfg->ans_min_ms = 400;
    cfg->min_am_depth = 0.1f;
}

static int config_ok(const cc_faxtone_rx_config_t *c)
{
    return c->min_level_dbm0 >= -70.0f && c->min_level_dbm0 <= 0.0f && c->cng_tolerance_hz > 0.0f
        && c->cng_tolerance_hz <= 60.0f && c->ans_tolerance_hz > 0.0f && c->ans_tolerance_hz <= 60.0f
        && c->cng_min_ms >= 100 && c->cng_min_ms <= 10000 && c->ans_min_ms >= AMB * 10
        && c->ans_min_ms <= 10000 && c->min_am_depth > 0.0f && c->min_am_depth < 1.0f;
}

static void track_clear(cc_faxtone_track_t *tr)
{
    memset(tr, 0, sizeof(*tr));
    tr->last_rev = -1;
}

cc_faxtone_rx_t *cc_faxtone_rx_init(cc_faxtone_rx_t *s, const cc_faxtone_rx_config_t *cfg, int32_t channel)
{
    cc_faxtone_rx_config_t def;
    if (cfg == NULL) {
        cc_faxtone_rx_config_default(&def);
        cfg = &def;
    }
    if (!config_ok(cfg))
        return NULL;
    if (s == NULL && (s = malloc(sizeof(*s))) == NULL)
        return NULL;
    memset(s, 0, sizeof(*s));
    s->magic = CC_FAXTONE_RX_MAGIC;
    s->channel = channel;
    s->cfg = *cfg;
    s->min_power = DBM0_POWER * powf(10.0f, cfg->min_level_dbm0 / 10.0f);
    track_clear(&s->tr[0]);
    track_clear(&s->tr[1]);
    return s;
}

static int valid(const cc_faxtone_rx_t *s) { return s != NULL && s->magic == CC_FAXTONE_RX_MAGIC; }

int cc_faxtone_rx_reset(cc_faxtone_rx_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    cc_faxtone_rx_config_t cfg = s->cfg;
    cc_faxtone_rx_init(s, &cfg, s->channel);
    return CC_OK;
}

int cc_faxtone_rx_release(cc_faxtone_rx_t *s) { return valid(s) ? CC_OK : CC_ERR_ARG; }

int cc_faxtone_rx_free(cc_faxtone_rx_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    s->magic = 0;
    free(s);
    return CC_OK;
}

size_t cc_faxtone_rx_state_size(void) { return sizeof(cc_faxtone_rx_t); }

int cc_faxtone_rx_restore(cc_faxtone_rx_t *s, const void *saved, size_t len)
{
    cc_faxtone_rx_t t;
    if (s == NULL || saved == NULL)
        return CC_ERR_ARG;
    if (len != sizeof(t))
        return CC_ERR_STATE;
    memcpy(&t, saved, sizeof(t));
    if (t.magic != CC_FAXTONE_RX_MAGIC || !config_ok(&t.cfg) || t.fill < 0 || t.fill >= BLOCK || t.t < 0)
        return CC_ERR_STATE;
    for (int k = 0; k < 2; k++) {
        const cc_faxtone_track_t *r = &t.tr[k];
        if (r->active > 1 || r->reported > 1 || r->ec_sent > 1 || r->hits < 0 || r->misses < 0
            || r->misses >= MISSES_TO_END || r->freq_n < 0 || r->reversals < 0 || r->tone > CC_FAXTONE_ANSAM_PR
            || !isfinite(r->freq_sum) || !isfinite(r->level_sum) || !isfinite(r->prev_re)
            || !isfinite(r->prev_im) || !isfinite(r->prev_mag) || !isfinite(r->ref_mag))
            return CC_ERR_STATE;
        for (int i = 0; i < AMB; i++)
            if (!isfinite(r->env[i]))
                return CC_ERR_STATE;
    }
    cc_faxtone_rx_init(s, &t.cfg, t.channel);
    s->fill = t.fill;
    s->t = t.t;
    memcpy(s->tr, t.tr, sizeof(t.tr));
    memcpy(s->buf, t.buf, sizeof(t.buf));
    return CC_OK;
}

size_t cc_faxtone_rx_max_events(size_t n) { return 4 * (n / BLOCK + 1); }
int64_t cc_faxtone_rx_samples(const cc_faxtone_rx_t *s) { return valid(s) ? s->t : 0; }

/* The two half-block bins at both frequencies: re/im of Xa then Xb, per frequency. */
CC_HOT static void half_bins(const int16_t *restrict x, const float (*restrict b)[BLOCK], float *restrict out)
{
    for (int k = 0; k < 2; k++) {
        for (int h = 0; h < 2; h++) {
            float re = 0.0f, im = 0.0f;
            for (int n = h * HALF; n < (h + 1) * HALF; n++) {
                re += (float)x[n] * b[2 * k][n];
                im -= (float)x[n] * b[2 * k + 1][n];
            }
            out[4 * k + 2 * h] = re;
            out[4 * k + 2 * h + 1] = im;
        }
    }
}

static float wrap(float a)
{
    while (a > (float)PI)
        a -= 2.0f * (float)PI;
    while (a < -(float)PI)
        a += 2.0f * (float)PI;
    return a;
}

static float sincf_pi(float x)
{
    float a = (float)PI * x;
    return fabsf(a) < 1e-6f ? 1.0f : sinf(a) / a;
}

static void put(cc_faxtone_event_t *ev, const cc_faxtone_rx_t *s, const cc_faxtone_track_t *tr, int kind,
                int64_t start)
{
    memset(ev, 0, sizeof(*ev));
    ev->channel = s->channel;
    ev->kind = (uint8_t)kind;
    ev->tone = tr->tone;
    ev->reversals = (uint16_t)(tr->reversals > 65535 ? 65535 : tr->reversals);
    ev->start = start;
    ev->at = s->t;
    ev->freq_hz = (float)(FREQ[tr == &s->tr[0] ? 0 : 1] + (tr->freq_n ? tr->freq_sum / tr->freq_n : 0.0));
    float lvl = tr->hits ? (float)(tr->level_sum / tr->hits) : 0.0f;
    ev->level_dbm0 = lvl > 0.0f ? 10.0f * log10f(lvl / DBM0_POWER) : -200.0f;
    ev->am_depth = tr->am_depth;
    ev->duration_ms = (float)(tr->end - tr->start) * 1000.0f / CC_SAMPLE_RATE;
}

/* 15 Hz depth of the envelope ring (20 blocks = 3 periods, no leakage from the mean). */
static float am_depth(const cc_faxtone_track_t *tr)
{
    double re = 0.0, im = 0.0, sum = 0.0;
    for (int i = 0; i < AMB; i++) {
        /* ring index = block number mod AMB, so the phase of i is consistent */
        double a = 2.0 * PI * 15.0 * i / 100.0;
        re += tr->env[i] * cos(a);
        im -= tr->env[i] * sin(a);
        sum += tr->env[i];
    }
    if (!(sum > 0.0))
        return 0.0f;
    /* a 10 ms mean of the envelope keeps sinc(0.15) = 0.963 of a 15 Hz swing */
    return (float)(2.0 * sqrt(re * re + im * im) / sum / 0.9634);
}

CC_COLD static int block_end(cc_faxtone_rx_t *s, const float (*b)[BLOCK], cc_faxtone_event_t *ev)
{
    float bins[8];
    int nev = 0;
    int64_t bstart = s->t - BLOCK;
    double e = 0.0;
    for (int n = 0; n < BLOCK; n++)
        e += (double)s->buf[n] * s->buf[n];
    float power = (float)(e / BLOCK);
    if (power >= 0.5f * s->min_power)
        half_bins(s->buf, b, bins);
    else
        memset(bins, 0, sizeof(bins));
    for (int k = 0; k < 2; k++) {
        cc_faxtone_track_t *tr = &s->tr[k];
        float ar = bins[4 * k], ai = bins[4 * k + 1], br = bins[4 * k + 2], bi = bins[4 * k + 3];
        float re = ar + br, im = ai + bi;
        float mag = sqrtf(re * re + im * im);
        float pw = 2.0f * mag * mag / (float)(BLOCK * BLOCK);
        /* Xb conj(Xa) */
        float cr = br * ar + bi * ai, ci = bi * ar - br * ai;
        float df = (cr == 0.0f && ci == 0.0f) ? 0.0f : atan2f(ci, cr) * CC_SAMPLE_RATE / (2.0f * (float)PI * HALF);
        float tol = k == 0 ? s->cfg.cng_tolerance_hz : s->cfg.ans_tolerance_hz;
        float g = sincf_pi(df * BLOCK / CC_SAMPLE_RATE);
        g = g * g < 0.3f ? 0.3f : g * g;
        float pc = pw / g;
        int hit = pc >= s->min_power && pc >= 0.5f * power && fabsf(df) <= tol + 25.0f;
        int clean = hit && (tr->ref_mag <= 0.0f || mag >= CORRUPT_RATIO * tr->ref_mag);

        if (tr->active && tr->hits >= 3 && tr->prev_mag > 0.0f && mag > 0.0f && (hit || mag > 0.2f * tr->ref_mag)) {
            /* phase turn since the last block against the advance of the mean offset */
            double mean_df = tr->freq_n ? tr->freq_sum / tr->freq_n : 0.0;
            float adv = (float)(2.0 * PI * mean_df * BLOCK / CC_SAMPLE_RATE);
            float turn = wrap(atan2f(im * tr->prev_re - re * tr->prev_im, re * tr->prev_re + im * tr->prev_im) - adv);
            if (fabsf(turn) > 0.5f * (float)PI) {
                /* A reversal at fraction u of a block leaves it |1 - 2u| of its magnitude, with the
                 * phase of the larger part: the turn shows in the block after the midpoint. */
                float rp = tr->ref_mag > 0.0f ? tr->prev_mag / tr->ref_mag : 1.0f;
                float rc = tr->ref_mag > 0.0f ? mag / tr->ref_mag : 1.0f;
                int64_t where;
                if (rp < 0.95f && rp <= rc)
                    where = bstart - BLOCK + (int64_t)lrintf(0.5f * (1.0f + (rp > 1.0f ? 1.0f : rp)) * BLOCK);
                else
                    where = bstart + (int64_t)lrintf(0.5f * (1.0f - (rc > 1.0f ? 1.0f : rc)) * BLOCK);
                int64_t prev = tr->last_rev;
                tr->reversals++;
                tr->last_rev = where;
                if (k == 1) {
                    if (tr->tone == CC_FAXTONE_ANS)
                        tr->tone = CC_FAXTONE_ANS_PR;
                    else if (tr->tone == CC_FAXTONE_ANSAM)
                        tr->tone = CC_FAXTONE_ANSAM_PR;
                    put(&ev[nev++], s, tr, CC_FAXTONE_EV_REVERSAL, where);
                    int64_t gap = where - prev;
                    if (prev >= 0 && !tr->ec_sent && gap >= 420 * 8 && gap <= 480 * 8) {
                        tr->ec_sent = 1;
                        put(&ev[nev++], s, tr, CC_FAXTONE_EV_EC_DISABLE, tr->start);
                    }
                }
            }
        }
        if (hit) {
            if (!tr->active) {
                track_clear(tr);
                tr->active = 1;
                tr->start = bstart;
            }
            int64_t blk = bstart / BLOCK;
            tr->misses = 0;
            tr->hits++;
            tr->end = s->t;
            tr->level_sum += pc;
            if (clean) {
                tr->freq_sum += df;
                tr->freq_n++;
                tr->env[blk % AMB] = mag;
                float sum = 0.0f;
                int cnt = 0;
                for (int i = 0; i < AMB; i++)
                    if (tr->env[i] > 0.0f) {
                        sum += tr->env[i];
                        cnt++;
                    }
                tr->ref_mag = sum / (float)cnt;
            } else {
                /* a reversal block: keep the envelope's last clean value */
                tr->env[blk % AMB] = tr->env[(blk + AMB - 1) % AMB];
            }
            tr->prev_re = re;
            tr->prev_im = im;
            tr->prev_mag = mag;
            int64_t dur = tr->end - tr->start;
            int32_t need = (k == 0 ? s->cfg.cng_min_ms : s->cfg.ans_min_ms) * (CC_SAMPLE_RATE / 1000);
            if (!tr->reported && dur >= need && tr->freq_n > 0
                && fabs(tr->freq_sum / tr->freq_n) <= tol + 3.0) {
                tr->reported = 1;
                if (k == 0) {
                    tr->tone = CC_FAXTONE_CNG;
                } else {
                    tr->am_depth = am_depth(tr);
                    int am = tr->am_depth >= s->cfg.min_am_depth;
                    tr->tone = (uint8_t)(am ? (tr->reversals ? CC_FAXTONE_ANSAM_PR : CC_FAXTONE_ANSAM)
                                            : (tr->reversals ? CC_FAXTONE_ANS_PR : CC_FAXTONE_ANS));
                }
                put(&ev[nev++], s, tr, CC_FAXTONE_EV_TONE, tr->start);
            }
        } else if (tr->active) {
            if (mag > 0.0f) {
                /* a deep reversal block: its phase still tells the turn */
                tr->prev_re = re;
                tr->prev_im = im;
                tr->prev_mag = mag;
            }
            if (++tr->misses >= MISSES_TO_END) {
                if (tr->reported)
                    put(&ev[nev++], s, tr, CC_FAXTONE_EV_END, tr->start);
                track_clear(tr);
            }
        }
    }
    return nev;
}

static int feed(cc_faxtone_rx_t *s, const float (*b)[BLOCK], cc_law law, const void *x, size_t n,
                cc_faxtone_event_t *ev)
{
    int nev = 0;
    size_t i = 0;
    while (i < n) {
        size_t take = (size_t)(BLOCK - s->fill);
        if (take > n - i)
            take = n - i;
        int16_t *dst = s->buf + s->fill;
        if (law == CC_LAW_LINEAR)
            memcpy(dst, (const int16_t *)x + i, take * sizeof(*dst));
        else if (law == CC_LAW_ALAW)
            cc_g711_alaw_decode(dst, (const uint8_t *)x + i, take);
        else
            cc_g711_ulaw_decode(dst, (const uint8_t *)x + i, take);
        s->fill += (int32_t)take;
        s->t += (int64_t)take;
        i += take;
        if (s->fill == BLOCK) {
            nev += block_end(s, b, ev + nev);
            s->fill = 0;
        }
    }
    return nev;
}

static int law_ok(cc_law law) { return law == CC_LAW_LINEAR || law == CC_LAW_ALAW || law == CC_LAW_ULAW; }

int cc_faxtone_rx_process(cc_faxtone_rx_t *s, cc_law law, const void *x, size_t n, cc_faxtone_event_t *ev,
                          size_t max_ev)
{
    if (!valid(s) || !law_ok(law) || (n > 0 && x == NULL) || ev == NULL || n > (size_t)INT32_MAX)
        return CC_ERR_ARG;
    if (max_ev < cc_faxtone_rx_max_events(n))
        return CC_ERR_SPACE;
    return feed(s, BASIS, law, x, n, ev);
}

int cc_faxtone_rx_process_batch(cc_faxtone_rx_t *const *s, size_t nch, cc_law law, const void *x,
                                size_t stride, size_t n, cc_faxtone_event_t *ev, size_t max_ev)
{
    if (s == NULL || !law_ok(law) || (n > 0 && nch > 0 && x == NULL) || ev == NULL || n > (size_t)INT32_MAX)
        return CC_ERR_ARG;
    for (size_t c = 0; c < nch; c++)
        if (!valid(s[c]))
            return CC_ERR_ARG;
    if (nch > 0 && max_ev / nch < cc_faxtone_rx_max_events(n))
        return CC_ERR_SPACE;
    size_t size = law == CC_LAW_LINEAR ? sizeof(int16_t) : sizeof(uint8_t);
    int nev = 0;
    for (size_t c = 0; c < nch; c++)
        nev += feed(s[c], BASIS, law, (const char *)x + c * stride * size, n, ev + nev);
    return nev;
}

/* ---- generator ---- */

cc_faxtone_tx_t *cc_faxtone_tx_init(cc_faxtone_tx_t *s, int tone, float level_dbm0, int32_t duration_ms)
{
    if (tone < CC_FAXTONE_CNG || tone > CC_FAXTONE_ANSAM_PR || !(level_dbm0 >= -60.0f && level_dbm0 <= 3.0f)
        || duration_ms < 0 || duration_ms > 3600000)
        return NULL;
    if (s == NULL && (s = malloc(sizeof(*s))) == NULL)
        return NULL;
    memset(s, 0, sizeof(*s));
    s->magic = CC_FAXTONE_TX_MAGIC;
    s->tone = tone;
    s->level_dbm0 = level_dbm0;
    s->duration = duration_ms * (CC_SAMPLE_RATE / 1000);
    return s;
}

int cc_faxtone_tx_reset(cc_faxtone_tx_t *s)
{
    if (s == NULL || s->magic != CC_FAXTONE_TX_MAGIC)
        return CC_ERR_ARG;
    s->pos = 0;
    return CC_OK;
}

int cc_faxtone_tx_free(cc_faxtone_tx_t *s)
{
    if (s == NULL || s->magic != CC_FAXTONE_TX_MAGIC)
        return CC_ERR_ARG;
    s->magic = 0;
    free(s);
    return CC_OK;
}

size_t cc_faxtone_tx_state_size(void) { return sizeof(cc_faxtone_tx_t); }

int cc_faxtone_tx_generate(cc_faxtone_tx_t *s, int16_t *out, size_t n)
{
    if (s == NULL || s->magic != CC_FAXTONE_TX_MAGIC || (n > 0 && out == NULL) || n > (size_t)INT32_MAX)
        return CC_ERR_ARG;
    double amp = 32768.0 * pow(10.0, (s->level_dbm0 - 3.14) / 20.0);
    int cng = s->tone == CC_FAXTONE_CNG;
    int pr = s->tone == CC_FAXTONE_ANS_PR || s->tone == CC_FAXTONE_ANSAM_PR;
    int am = s->tone == CC_FAXTONE_ANSAM || s->tone == CC_FAXTONE_ANSAM_PR;
    int f = cng ? 1100 : 2100;
    int playing = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t p = s->pos + (int64_t)i;
        double y = 0.0;
        if (s->duration == 0 || p < s->duration) {
            playing++;
            /* phase in cycles from integers: exact, the same for any block split */
            double cyc = (double)((p * f) % CC_SAMPLE_RATE) / CC_SAMPLE_RATE;
            if (pr && (p / (450 * 8)) % 2)
                cyc += 0.5;                        /* a reversal every 450 ms */
            double a = amp;
            if (am)
                a *= 1.0 + 0.2 * sin(2.0 * PI * (double)(p % 1600) * 15.0 / CC_SAMPLE_RATE);
            if (cng && p % 28000 >= 4000)
                a = 0.0;                           /* 0.5 s on, 3 s off */
            y = a * sin(2.0 * PI * cyc);
        }
        out[i] = (int16_t)lrint(y > 32767.0 ? 32767.0 : (y < -32768.0 ? -32768.0 : y));
    }
    s->pos += (int64_t)n;
    return playing;
}
