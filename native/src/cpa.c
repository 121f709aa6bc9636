/*
 * Call progress analysis: see ccboard/cpa.h for what it does and the figures it meets.
 *
 * Window fit. For a class with frequencies w_j, the model over the 160-sample window is
 * sum_j a_j cos(w_j n) + b_j sin(w_j n). With r = (sum x cos, sum x sin, ...) and G the Gram
 * matrix of those sinusoids, the least-squares fit holds r' G^-1 r of the window's energy,
 * and each frequency's power is (a_j^2 + b_j^2) / 2 with (a, b) = G^-1 r. G depends only on
 * the frequencies, so G^-1 is made at init. The window's sums come from the two blocks'
 * bins: X = X_prev + exp(-i w 80) X_cur, each block's bins as Q9 integer dot products.
 * Powers are int16-scale mean squares; 0 dBm0 = a sine of peak 22827 (power 2.6e8).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/g711.h"
#include "ccboard/private/cpa.h"

#define BLOCK CC_CPA_BLOCK
#define WIN (2 * BLOCK)
#define Q 512.0f                   /* basis scale, Q9: 80 products of |x| * 512 fit int32 */
#define MIN_FRACTION 0.7f
#define MAX_TWIST 10.0f            /* power ratio of a pair's tones, at most */
#define DEBOUNCE 2                 /* blocks a new label must hold */
#define GAP_SAMPLES 480            /* off segments under 60 ms between tones are dropped (mx: 30 ms
                                      gaps in its SIT, widened by the 20 ms window) */
#define SLACK_SAMPLES 320          /* +40 ms on every cadence tolerance (window and debounce) */
#define VOICE_OVER_FLOOR 8.0f      /* 9 dB */
#define VOICE_DECAY 0.3f
#define FLOOR_RISE 1.0116f         /* 0.05 dB per block */

static const float DBM0_POWER = 22827.0f * 22827.0f / 2.0f;
static const double TWO_PI = 6.283185307179586;
static const float SIT_FREQ[5] = {913.8f, 985.2f, 1370.6f, 1428.5f, 1776.7f};
static const float FAX_FREQ[2] = {1100.0f, 2100.0f};

/* Telcordia SIT patterns: frequency of segments 1, 2 (L/H), durations of 1, 2, 3 (S/L). */
static const struct {
    char freq[3];
    char dur[4];
    uint8_t code;
} SIT_TABLE[] = {
    {"LL", "SSL", CC_CPA_SIT_IC}, {"HL", "LSL", CC_CPA_SIT_VC}, {"LH", "SLL", CC_CPA_SIT_RO},
    {"HL", "SLL", CC_CPA_SIT_RO2}, {"LL", "LLL", CC_CPA_SIT_NC}, {"HH", "LLL", CC_CPA_SIT_NC2},
    {"LH", "LSS", CC_CPA_SIT_IO}, {"HH", "SSL", CC_CPA_SIT_FU},
};

static float dbm0(float p) { return p > 0.0f ? 10.0f * log10f(p / DBM0_POWER) : -200.0f; }

void cc_cpa_config_default(cc_cpa_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->min_level_dbm0 = -36.0f;
    cfg->voice_level_dbm0 = -42.0f;
    cfg->jitter_pct = 10.0f;
    cfg->dial_ms = 1000;
    cfg->voice_ms = 300;
    cfg->fax_ms = 500;
    cfg->no_answer_ms = 30000;
    cfg->learn = 1;
}

static int config_ok(const cc_cpa_config_t *c)
{
    if (!(c->min_level_dbm0 >= -60.0f && c->min_level_dbm0 <= 0.0f && c->voice_level_dbm0 >= -70.0f
          && c->voice_level_dbm0 <= 0.0f && c->jitter_pct >= 0.0f && c->jitter_pct <= 30.0f
          && c->dial_ms >= 100 && c->dial_ms <= 60000 && c->voice_ms >= 50 && c->voice_ms <= 10000
          && c->fax_ms >= 100 && c->fax_ms <= 10000 && c->no_answer_ms >= 0 && c->no_answer_ms <= 3600000
          && (c->learn == 0 || c->learn == 1)))
        return 0;
    for (int k = 0; k < CC_CPA_TONES; k++) {
        if (c->nseg[k] < 0 || c->nseg[k] > CC_TONE_MAX_SEGMENTS)
            return 0;
        for (int i = 0; i < c->nseg[k]; i++) {
            const cc_tone_segment_t *g = &c->tone[k][i];
            if (!(g->f1_hz >= 0.0f && g->f1_hz < 4000.0f && g->f2_hz >= 0.0f && g->f2_hz < 4000.0f
                  && g->ms >= 0 && g->ms <= 600000 && g->modulate <= 1 && g->once <= 1))
                return 0;
        }
    }
    return 1;
}

static int add_freq(cc_cpa_t *s, float f)
{
    for (int i = 0; i < s->nfreq; i++)
        if (fabsf(s->freq[i] - f) < 0.5f)
            return i;
    if (s->nfreq >= CC_CPA_MAX_FREQS)
        return -1;
    s->freq[s->nfreq] = f;
    return s->nfreq++;
}

/* Gauss-Jordan on an m x m matrix (m <= 4); 0 if singular. */
static int invert(double a[4][4], int m, float out[4][4])
{
    double b[4][8];
    for (int i = 0; i < m; i++)
        for (int j = 0; j < 2 * m; j++)
            b[i][j] = j < m ? a[i][j] : (j - m == i);
    for (int c = 0; c < m; c++) {
        int p = c;
        for (int r = c + 1; r < m; r++)
            if (fabs(b[r][c]) > fabs(b[p][c]))
                p = r;
        if (fabs(b[p][c]) < 1e-9)
            return 0;
        for (int j = 0; j < 2 * m; j++) {
            double t = b[c][j];
            b[c][j] = b[p][j];
            b[p][j] = t;
        }
        double d = b[c][c];
        for (int j = 0; j < 2 * m; j++)
            b[c][j] /= d;
        for (int r = 0; r < m; r++)
            if (r != c) {
                double f = b[r][c];
                for (int j = 0; j < 2 * m; j++)
                    b[r][j] -= f * b[c][j];
            }
    }
    memset(out, 0, 16 * sizeof(float));
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++)
            out[i][j] = (float)b[i][m + j];
    return 1;
}

/* The label (class + 1) of a frequency set, adding the class if new; -1 when full. */
static int add_class(cc_cpa_t *s, float f1, float f2)
{
    int a = add_freq(s, f1), b = f2 > 0.0f ? add_freq(s, f2) : -1;
    if (a < 0 || (f2 > 0.0f && b < 0))
        return -1;
    if (b == a)
        b = -1;
    if (b >= 0 && s->freq[b] < s->freq[a]) {
        int t = a;
        a = b;
        b = t;
    }
    int nf = b >= 0 ? 2 : 1;
    for (int c = 0; c < s->nclass; c++)
        if (s->cls[c].nf == nf && s->cls[c].fi[0] == a && (nf == 1 || s->cls[c].fi[1] == b))
            return c + 1;
    if (s->nclass >= CC_CPA_MAX_CLASSES)
        return -1;
    cc_cpa_class_t *k = &s->cls[s->nclass];
    k->nf = nf;
    k->fi[0] = a;
    k->fi[1] = b >= 0 ? b : a;
    double g[4][4] = {{0}};
    int m = 2 * nf;
    for (int n = 0; n < WIN; n++) {
        double phi[4];
        for (int j = 0; j < nf; j++) {
            double w = TWO_PI * s->freq[k->fi[j]] / CC_SAMPLE_RATE;
            phi[2 * j] = cos(w * n);
            phi[2 * j + 1] = sin(w * n);
        }
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++)
                g[i][j] += phi[i] * phi[j];
    }
    if (!invert(g, m, k->ginv))
        return -1;
    return ++s->nclass;
}

static int seg_label(cc_cpa_t *s, const cc_tone_segment_t *g)
{
    if (g->f1_hz <= 0.0f)
        return 0;
    return add_class(s, g->f1_hz, g->modulate ? 0.0f : g->f2_hz);
}

/* Turn a zone tone into a cadence: labels, merged runs, short gaps dropped. */
static int make_pattern(cc_cpa_t *s, int kind)
{
    const cc_tone_segment_t *g = s->cfg.tone[kind];
    int n = s->cfg.nseg[kind];
    cc_cpa_pattern_t *p = &s->pat[kind];
    memset(p, 0, sizeof(*p));
    if (n == 0)
        return 1;
    int loop_start = 0;
    while (loop_start < n && g[loop_start].once && g[loop_start].ms > 0)
        loop_start++;
    int looped = g[n - 1].ms > 0;
    int from = looped ? loop_start : 0;
    int to = looped ? n : (n > 1 ? n - 1 : 1); /* one-shot: the timed part, or the steady tone alone */
    cc_cpa_seg_t tmp[CC_TONE_MAX_SEGMENTS];
    int m = 0;
    for (int i = from; i < to; i++) {
        int lab = seg_label(s, &g[i]);
        if (lab < 0)
            return 0;
        int32_t dur = g[i].ms * (CC_SAMPLE_RATE / 1000);
        if (lab == 0 && dur > 0 && dur < GAP_SAMPLES && m > 0)
            continue; /* a gap the analyser bridges */
        if (m > 0 && tmp[m - 1].label == lab) {
            tmp[m - 1].dur += dur;
            continue;
        }
        tmp[m].label = (int16_t)lab;
        tmp[m].reserved = 0;
        tmp[m].dur = dur;
        m++;
    }
    if (looped && m > 1 && tmp[0].label == tmp[m - 1].label) {
        tmp[0].dur += tmp[m - 1].dur;
        m--;
    }
    if (m > CC_CPA_MAX_PATTERN) {
        /* se repeats its SIT five times as one-shot segments: the first ones are enough to match */
        m = CC_CPA_MAX_PATTERN;
        looped = 0;
    }
    p->looped = looped;
    p->n = m;
    /* ring group: rotate so the cycle starts after its longest off segment */
    int rot = 0;
    if (looped) {
        int longest = -1;
        for (int i = 0; i < m; i++)
            if (tmp[i].label == 0 && (longest < 0 || tmp[i].dur > tmp[longest].dur))
                longest = i;
        rot = longest >= 0 ? (longest + 1) % m : 0;
    }
    for (int i = 0; i < m; i++)
        p->seg[i] = tmp[(rot + i) % m];
    p->group = m;
    while (p->group > 0 && p->seg[p->group - 1].label == 0)
        p->group--;
    return 1;
}

static int derive(cc_cpa_t *s)
{
    s->nfreq = 0;
    s->nclass = 0;
    /* every segment's class, the one-shot ones too (in plays its SIT once, then loops silence) */
    for (int k = 0; k < CC_CPA_TONES; k++)
        for (int i = 0; i < s->cfg.nseg[k]; i++)
            if (seg_label(s, &s->cfg.tone[k][i]) < 0)
                return 0;
    for (int k = 0; k < CC_CPA_TONES; k++)
        if (!make_pattern(s, k))
            return 0;
    for (int i = 0; i < 5; i++)
        if (add_class(s, SIT_FREQ[i], 0.0f) < 0)
            return 0;
    for (int i = 0; i < 2; i++)
        if ((s->fax_class[i] = add_class(s, FAX_FREQ[i], 0.0f)) < 0)
            return 0;
    for (int f = 0; f < s->nfreq; f++) {
        double w = TWO_PI * s->freq[f] / CC_SAMPLE_RATE;
        for (int n = 0; n < BLOCK; n++) {
            s->basis[f][0][n] = (int16_t)lrint(Q * cos(w * n));
            s->basis[f][1][n] = (int16_t)lrint(Q * sin(w * n));
        }
        s->rot[f][0] = (float)cos(w * BLOCK);
        s->rot[f][1] = (float)-sin(w * BLOCK);
    }
    const cc_cpa_pattern_t *d = &s->pat[CC_CPA_TONE_DIAL];
    s->dial_class = d->n > 0 ? d->seg[0].label : 0;
    s->dial_samples = s->cfg.dial_ms * (CC_SAMPLE_RATE / 1000);
    float jit = 1.5f * s->cfg.jitter_pct / 100.0f;
    for (int k = 1; k < CC_CPA_TONES; k++)
        for (int i = 0; i < s->pat[k].n; i++)
            if (s->dial_class && s->pat[k].seg[i].label == s->dial_class) {
                int32_t need = (int32_t)(s->pat[k].seg[i].dur * (1.0f + jit)) + 2 * SLACK_SAMPLES;
                if (need > s->dial_samples)
                    s->dial_samples = need;
            }
    s->min_power = DBM0_POWER * powf(10.0f, s->cfg.min_level_dbm0 / 10.0f);
    s->voice_power = DBM0_POWER * powf(10.0f, s->cfg.voice_level_dbm0 / 10.0f);
    return 1;
}

static void clear_running(cc_cpa_t *s)
{
    s->t = 0;
    s->fill = 0;
    s->have_prev = 0;
    memset(s->prev_bins, 0, sizeof(s->prev_bins));
    s->prev_energy = 0.0f;
    s->floor = -1.0f;
    s->label = 0;
    s->cand = -1;
    s->cand_count = 0;
    s->cand_start = 0;
    s->seg_start = 0;
    s->seg_level = 0.0;
    s->seg_blocks = 0;
    s->nhist = 0;
    memset(s->hist, 0, sizeof(s->hist));
    memset(s->hist_start, 0, sizeof(s->hist_start));
    memset(s->hist_level, 0, sizeof(s->hist_level));
    s->rings = 0;
    s->learnt_on = 0;
    s->learnt_off = 0;
    s->voice_acc = 0.0f;
    s->voice_start = 0;
    s->voice_level = 0.0;
    s->reported = 0;
    s->dial_done = 0;
    s->fax_done = 0;
    memset(s->buf, 0, sizeof(s->buf));
}

cc_cpa_t *cc_cpa_init(cc_cpa_t *s, const cc_cpa_config_t *cfg, int32_t channel)
{
    if (cfg == NULL || !config_ok(cfg))
        return NULL;
    int own = s == NULL;
    if (own && (s = malloc(sizeof(*s))) == NULL)
        return NULL;
    memset(s, 0, sizeof(*s));
    s->magic = CC_CPA_MAGIC;
    s->channel = channel;
    s->cfg = *cfg;
    if (!derive(s)) {
        s->magic = 0;
        if (own)
            free(s);
        return NULL;
    }
    clear_running(s);
    return s;
}

static int valid(const cc_cpa_t *s) { return s != NULL && s->magic == CC_CPA_MAGIC; }

int cc_cpa_reset(cc_cpa_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    clear_running(s);
    return CC_OK;
}

int cc_cpa_release(cc_cpa_t *s) { return valid(s) ? CC_OK : CC_ERR_ARG; }

int cc_cpa_free(cc_cpa_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    s->magic = 0;
    free(s);
    return CC_OK;
}

size_t cc_cpa_state_size(void) { return sizeof(cc_cpa_t); }
size_t cc_cpa_max_events(size_t n) { return 4 * (n / BLOCK + 1); }
int64_t cc_cpa_samples(const cc_cpa_t *s) { return valid(s) ? s->t : 0; }
int cc_cpa_rings(const cc_cpa_t *s) { return valid(s) ? s->rings : CC_ERR_ARG; }

int cc_cpa_restore(cc_cpa_t *s, const void *saved, size_t len)
{
    if (s == NULL || saved == NULL)
        return CC_ERR_ARG;
    if (len != sizeof(cc_cpa_t))
        return CC_ERR_STATE;
    cc_cpa_t *t = malloc(sizeof(*t));
    if (t == NULL)
        return CC_ERR_NOMEM;
    memcpy(t, saved, sizeof(*t));
    int ok = t->magic == CC_CPA_MAGIC && config_ok(&t->cfg) && t->fill >= 0 && t->fill < BLOCK && t->t >= 0
        && t->nhist >= 0 && t->nhist <= CC_CPA_HISTORY && t->have_prev >= 0 && t->have_prev <= 1
        && t->cand_count >= 0 && t->cand_count < DEBOUNCE && t->seg_blocks >= 0 && t->rings >= 0
        && isfinite(t->voice_acc) && t->voice_acc >= 0.0f && isfinite(t->floor) && isfinite(t->prev_energy)
        && isfinite(t->seg_level) && isfinite(t->voice_level) && t->learnt_on >= 0 && t->learnt_off >= 0;
    if (ok) {
        /* the derived tables are rebuilt from cfg, never trusted */
        cc_cpa_t *d = cc_cpa_init(NULL, &t->cfg, t->channel);
        ok = d != NULL && t->label >= 0 && t->label <= d->nclass && t->cand >= -1 && t->cand <= d->nclass;
        for (int i = 0; ok && i < t->nhist; i++)
            ok = t->hist[i].label >= 0 && t->hist[i].label <= d->nclass && t->hist[i].dur >= 0;
        for (int f = 0; ok && f < CC_CPA_MAX_FREQS; f++)
            ok = isfinite(t->prev_bins[f][0]) && isfinite(t->prev_bins[f][1]);
        if (ok) {
            memcpy(t->freq, d->freq, sizeof(d->freq));
            memcpy(t->rot, d->rot, sizeof(d->rot));
            memcpy(t->basis, d->basis, sizeof(d->basis));
            memcpy(t->cls, d->cls, sizeof(d->cls));
            memcpy(t->pat, d->pat, sizeof(d->pat));
            t->nfreq = d->nfreq;
            t->nclass = d->nclass;
            t->dial_class = d->dial_class;
            t->fax_class[0] = d->fax_class[0];
            t->fax_class[1] = d->fax_class[1];
            t->dial_samples = d->dial_samples;
            t->min_power = d->min_power;
            t->voice_power = d->voice_power;
            memcpy(s, t, sizeof(*t));
        }
        if (d != NULL)
            cc_cpa_free(d);
    }
    free(t);
    return ok ? CC_OK : CC_ERR_STATE;
}

/* Every frequency's cos and sin sums over one block (Q9 basis, exact int32). */
CC_HOT static void block_bins(const int16_t *restrict x, const int16_t (*restrict basis)[2][BLOCK], int nf,
                              float (*restrict out)[2])
{
    for (int f = 0; f < nf; f++) {
        int32_t c = 0, sn = 0;
        for (int n = 0; n < BLOCK; n++) {
            c += (int32_t)x[n] * basis[f][0][n];
            sn += (int32_t)x[n] * basis[f][1][n];
        }
        out[f][0] = (float)c / Q;
        out[f][1] = (float)sn / Q;
    }
}

static void put(cc_cpa_event_t *ev, const cc_cpa_t *s, int kind, int code, int64_t start)
{
    memset(ev, 0, sizeof(*ev));
    ev->channel = s->channel;
    ev->kind = (uint8_t)kind;
    ev->code = (uint8_t)code;
    ev->count = (uint16_t)(s->rings > 65535 ? 65535 : s->rings);
    ev->start = start;
    ev->at = s->t;
    ev->level_dbm0 = -200.0f;
    for (int i = s->nhist - 1; i >= 0; i--)
        if (s->hist[i].label) {
            ev->on_ms = (float)s->hist[i].dur / 8.0f;
            ev->level_dbm0 = s->hist_level[i];
            ev->freq_hz = s->freq[s->cls[s->hist[i].label - 1].fi[0]];
            break;
        }
    for (int i = s->nhist - 1; i >= 0; i--)
        if (!s->hist[i].label) {
            ev->off_ms = (float)s->hist[i].dur / 8.0f;
            break;
        }
}

static int32_t tol(const cc_cpa_t *s, int32_t d)
{
    return (int32_t)(d * 1.5f * s->cfg.jitter_pct / 100.0f) + SLACK_SAMPLES;
}

static int seg_match(const cc_cpa_t *s, const cc_cpa_seg_t *h, const cc_cpa_seg_t *p)
{
    if (h->label != p->label)
        return 0;
    if (p->dur == 0)
        return 1;
    int32_t d = h->dur - p->dur;
    return (d < 0 ? -d : d) <= tol(s, p->dur);
}

/* The last k history segments match the pattern at some rotation (any rotation if looped). */
static int tail_matches(const cc_cpa_t *s, const cc_cpa_pattern_t *p, int k)
{
    if (p->n == 0 || s->nhist < k)
        return 0;
    int rots = p->looped ? p->n : 1;
    for (int r = 0; r < rots; r++) {
        int ok = 1;
        for (int i = 0; ok && i < k; i++)
            ok = seg_match(s, &s->hist[s->nhist - k + i], &p->seg[(r + i) % p->n]);
        if (ok)
            return 1;
    }
    return 0;
}

static int cadenced(const cc_cpa_pattern_t *p)
{
    int on = 0, off = 0;
    for (int i = 0; i < p->n; i++) {
        if (p->seg[i].label)
            on = 1;
        else if (p->seg[i].dur > 0)
            off = 1;
    }
    return on && off && p->looped;
}

/* 1..3: which SIT segment band a label's frequency is in; 0: none. L/H/N in *lh. */
static int sit_band(const cc_cpa_t *s, int label, char *lh)
{
    if (label <= 0 || s->cls[label - 1].nf != 1)
        return 0;
    float f = s->freq[s->cls[label - 1].fi[0]];
    *lh = fabsf(f - 913.8f) < 1.0f || fabsf(f - 1370.6f) < 1.0f || fabsf(f - 1776.7f) < 1.0f ? 'L'
        : fabsf(f - 985.2f) < 1.0f || fabsf(f - 1428.5f) < 1.0f                              ? 'H'
                                                                                              : 'N';
    if (f >= 880.0f && f <= 1020.0f)
        return 1;
    if (f >= 1340.0f && f <= 1460.0f)
        return 2;
    if (f >= 1740.0f && f <= 1840.0f)
        return 3;
    return 0;
}

static int zone_info_is_sit(const cc_cpa_t *s)
{
    const cc_cpa_pattern_t *p = &s->pat[CC_CPA_TONE_INFO];
    int band = 0;
    char lh;
    for (int i = 0; i < p->n; i++)
        if (p->seg[i].label && sit_band(s, p->seg[i].label, &lh) == band + 1)
            band++;
    return band == 3;
}

#define BIT(k) (1u << (k))
#define FINAL (BIT(CC_CPA_BUSY) | BIT(CC_CPA_CONGESTION) | BIT(CC_CPA_SIT) | BIT(CC_CPA_VOICE) | BIT(CC_CPA_FAX))

/* A segment was closed and pushed: run the cadence matchers. */
static int on_segment(cc_cpa_t *s, cc_cpa_event_t *ev)
{
    int nev = 0;
    const cc_cpa_seg_t *last = &s->hist[s->nhist - 1];
    int64_t hstart = s->hist_start[s->nhist - 1];
    if (last->label) {
        /* SIT: three tone segments in the three bands */
        if (s->nhist >= 3 && !(s->reported & BIT(CC_CPA_SIT))) {
            char lh[3], dur[4] = {0};
            int ok = 1, nominal = 0;
            for (int i = 0; ok && i < 3; i++) {
                const cc_cpa_seg_t *h = &s->hist[s->nhist - 3 + i];
                ok = sit_band(s, h->label, &lh[i]) == i + 1 && h->dur >= 150 * 8 && h->dur <= 500 * 8;
                dur[i] = h->dur < 327 * 8 ? 'S' : 'L';
                nominal |= lh[i] == 'N';
            }
            if (ok) {
                int code = nominal ? CC_CPA_SIT_ZONE : CC_CPA_SIT_UNKNOWN;
                for (size_t j = 0; !nominal && j < sizeof(SIT_TABLE) / sizeof(SIT_TABLE[0]); j++)
                    if (SIT_TABLE[j].freq[0] == lh[0] && SIT_TABLE[j].freq[1] == lh[1]
                        && memcmp(SIT_TABLE[j].dur, dur, 3) == 0)
                        code = SIT_TABLE[j].code;
                s->reported |= BIT(CC_CPA_SIT);
                put(&ev[nev++], s, CC_CPA_SIT, code, s->hist_start[s->nhist - 3]);
            }
        }
        /* a ring: the tail matches the zone's ring group */
        const cc_cpa_pattern_t *rp = &s->pat[CC_CPA_TONE_RINGBACK];
        int ring = 0, learnt = 0;
        if (rp->group > 0 && cadenced(rp) && s->nhist >= rp->group) {
            ring = 1;
            for (int i = 0; ring && i < rp->group; i++)
                ring = seg_match(s, &s->hist[s->nhist - rp->group + i], &rp->seg[i]);
        }
        if (!ring && s->cfg.learn) {
            if (s->learnt_on) {
                cc_cpa_seg_t p = {last->label, 0, s->learnt_on};
                ring = learnt = seg_match(s, last, &p);
            } else if (s->nhist >= 3 && s->rings == 0) {
                /* an unlisted cadence: two equal tones with a long pause between */
                const cc_cpa_seg_t *a = &s->hist[s->nhist - 3], *o = &s->hist[s->nhist - 2];
                if (a->label == last->label && o->label == 0 && seg_match(s, last, a) && a->dur <= 3000 * 8
                    && o->dur >= 1500 * 8 && o->dur >= 2 * a->dur && !(s->reported & FINAL)) {
                    s->learnt_on = a->dur;
                    s->learnt_off = o->dur;
                    if (s->rings == 0)
                        s->rings = 1; /* the first tone was a ring too */
                    ring = learnt = 1;
                }
            }
        }
        if (ring && !(s->reported & FINAL)) {
            s->rings++;
            put(&ev[nev++], s, CC_CPA_RINGBACK, learnt ? CC_CPA_LEARNT : 0,
                s->hist_start[s->nhist - (learnt ? 1 : rp->group)]);
        }
        /* a one-shot zone information tone that is not a 3-band SIT */
        const cc_cpa_pattern_t *ip = &s->pat[CC_CPA_TONE_INFO];
        if (!ip->looped && ip->n >= 2 && !zone_info_is_sit(s) && !(s->reported & BIT(CC_CPA_SIT))
            && tail_matches(s, ip, ip->n)) {
            s->reported |= BIT(CC_CPA_SIT);
            put(&ev[nev++], s, CC_CPA_SIT, CC_CPA_SIT_ZONE, s->hist_start[s->nhist - ip->n]);
        }
        (void)hstart;
        return nev;
    }
    /* an off segment closed: busy, congestion, a looped information tone, a cadenced dial tone
     * (it, gr, cz). A pattern that matches is held back while a longer one still could (es:
     * congestion is busy's 200/200 twice, then 600 off); equal cadences go to the first listed. */
    static const int kinds[4] = {CC_CPA_TONE_BUSY, CC_CPA_TONE_CONGESTION, CC_CPA_TONE_INFO, CC_CPA_TONE_DIAL};
    static const int events[4] = {CC_CPA_BUSY, CC_CPA_CONGESTION, CC_CPA_SIT, CC_CPA_DIAL};
    int full[4] = {0}, maybe[4] = {0}, need[4] = {0};
    int matched = 0;
    for (int j = 0; j < 4; j++) {
        const cc_cpa_pattern_t *p = &s->pat[kinds[j]];
        if (!cadenced(p) || (j == 2 && zone_info_is_sit(s)))
            continue;
        need[j] = p->n > 4 ? p->n : 4;
        full[j] = tail_matches(s, p, need[j]);
        /* "could still become": too few segments yet (besides the one before the tones) for its
         * full-length test, and what there is matches */
        maybe[j] = !full[j] && need[j] > 4 && s->nhist - 1 < need[j]
            && tail_matches(s, p, s->nhist < 4 ? s->nhist : 4);
        matched |= full[j] | maybe[j];
    }
    for (int j = 0; j < 4; j++) {
        int held = 0;
        for (int i = 0; i < 4; i++)
            held |= i != j && maybe[i] && need[i] > need[j];
        if (full[j] && !held && !(s->reported & BIT(events[j])) && !(s->reported & FINAL)) {
            s->reported |= BIT(events[j]);
            put(&ev[nev++], s, events[j], j == 2 ? CC_CPA_SIT_ZONE : 0, s->hist_start[s->nhist - need[j]]);
            if (events[j] != CC_CPA_DIAL)
                break;
        }
    }
    /* a tail that a zone cadence could still become (cn's SIT starts 100/100/100/100) is not learnt */
    for (int j = 0; j < CC_CPA_TONES && !matched; j++)
        matched = cadenced(&s->pat[j]) && tail_matches(s, &s->pat[j], s->nhist < 4 ? s->nhist : 4);
    if (!matched && s->cfg.learn && s->nhist >= 4 && !(s->reported & FINAL)) {
        const cc_cpa_seg_t *a = &s->hist[s->nhist - 4], *b = &s->hist[s->nhist - 3], *c = &s->hist[s->nhist - 2];
        if (a->label && a->label == c->label && b->label == 0 && seg_match(s, c, a) && seg_match(s, last, b)
            && a->dur <= 1000 * 8 && b->dur <= 1000 * 8 && 2 * a->dur >= b->dur && 2 * b->dur >= a->dur
            && (!s->pat[CC_CPA_TONE_RINGBACK].n || !tail_matches(s, &s->pat[CC_CPA_TONE_RINGBACK], 2))) {
            int kind = a->dur + b->dur >= 600 * 8 ? CC_CPA_BUSY : CC_CPA_CONGESTION;
            s->reported |= BIT(kind);
            put(&ev[nev++], s, kind, CC_CPA_LEARNT, s->hist_start[s->nhist - 4]);
        }
    }
    return nev;
}

static void push(cc_cpa_t *s, int label, int64_t start, int32_t dur, float level)
{
    if (s->nhist == CC_CPA_HISTORY) {
        memmove(s->hist, s->hist + 1, (CC_CPA_HISTORY - 1) * sizeof(s->hist[0]));
        memmove(s->hist_start, s->hist_start + 1, (CC_CPA_HISTORY - 1) * sizeof(s->hist_start[0]));
        memmove(s->hist_level, s->hist_level + 1, (CC_CPA_HISTORY - 1) * sizeof(s->hist_level[0]));
        s->nhist--;
    }
    s->hist[s->nhist].label = (int16_t)label;
    s->hist[s->nhist].reserved = 0;
    s->hist[s->nhist].dur = dur;
    s->hist_start[s->nhist] = start;
    s->hist_level[s->nhist] = level;
    s->nhist++;
}

/* The debounced label changes at sample at. */
static int change(cc_cpa_t *s, int label, int64_t at, cc_cpa_event_t *ev)
{
    int nev = 0;
    int32_t dur = (int32_t)(at - s->seg_start);
    float level = s->seg_blocks ? dbm0((float)(s->seg_level / s->seg_blocks)) : -200.0f;
    int old = s->label;
    s->label = label;
    s->dial_done = 0;
    s->fax_done = 0;
    if (old == 0 && dur < GAP_SAMPLES && s->nhist > 0 && s->hist[s->nhist - 1].label) {
        /* a short gap between tones: bridged */
        if (s->hist[s->nhist - 1].label == label) {
            /* the same tone again: reopen it */
            s->nhist--;
            s->seg_start = s->hist_start[s->nhist];
            s->seg_blocks = 0;
            s->seg_level = 0.0;
            return 0;
        }
        s->seg_start = at;
        s->seg_level = 0.0;
        s->seg_blocks = 0;
        return 0;
    }
    if (dur > 0) {
        push(s, old, s->seg_start, dur, level);
        nev += on_segment(s, ev);
    }
    s->seg_start = at;
    s->seg_level = 0.0;
    s->seg_blocks = 0;
    return nev;
}

CC_COLD static int block_end(cc_cpa_t *s, cc_cpa_event_t *ev)
{
    int nev = 0;
    int64_t e = 0;
    for (int n = 0; n < BLOCK; n++)
        e += (int32_t)s->buf[n] * s->buf[n];
    float ecur = (float)e;
    float pwin = (s->prev_energy + ecur) / WIN;
    float pblk = ecur / BLOCK;
    float bins[CC_CPA_MAX_FREQS][2];
    int label = 0;
    float fit_best = 0.0f;
    /* a tone class over min_power needs the window's power over 0.7 of it */
    int silent = pwin < MIN_FRACTION * s->min_power;
    if (!silent) {
        block_bins(s->buf, (const int16_t (*)[2][BLOCK])s->basis, s->nfreq, bins);
        float xr[CC_CPA_MAX_FREQS], xi[CC_CPA_MAX_FREQS];
        for (int f = 0; f < s->nfreq; f++) {
            /* X = sum x (cos - i sin); window = prev + exp(-i w 80) cur */
            float cr = bins[f][0], ci = -bins[f][1];
            float rr = s->rot[f][0], ri = s->rot[f][1];
            xr[f] = s->prev_bins[f][0] + (cr * rr - ci * ri);
            xi[f] = -s->prev_bins[f][1] + (cr * ri + ci * rr);
        }
        /* Each frequency's bin power over the window (2|X|^2/N^2, a sine's mean square when the
         * tones are apart); a class whose bins hold under 0.3 of the window cannot fit 0.7 of
         * it (leakage between 40 Hz neighbours is at most about 0.25), so most blocks of speech
         * or noise try no fit at all. */
        float pf[CC_CPA_MAX_FREQS];
        int any = 0;
        for (int f = 0; f < s->nfreq; f++) {
            pf[f] = 2.0f * (xr[f] * xr[f] + xi[f] * xi[f]) / (float)(WIN * WIN);
            any |= pf[f] >= 0.15f * pwin;
        }
        for (int c = 0; any && c < s->nclass; c++) {
            const cc_cpa_class_t *k = &s->cls[c];
            int m = 2 * k->nf;
            float pk = pf[k->fi[0]] + (k->nf == 2 ? pf[k->fi[1]] : 0.0f);
            if (pk < 0.3f * pwin)
                continue;
            float r[4] = {xr[k->fi[0]], -xi[k->fi[0]], xr[k->fi[1]], -xi[k->fi[1]]};
            float th[4] = {0};
            float fit = 0.0f;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < m; j++)
                    th[i] += k->ginv[i][j] * r[j];
                fit += th[i] * r[i];
            }
            fit /= WIN;
            if (fit < s->min_power || fit < MIN_FRACTION * pwin || fit <= fit_best)
                continue;
            if (k->nf == 2) {
                float pa = th[0] * th[0] + th[1] * th[1], pb = th[2] * th[2] + th[3] * th[3];
                if (pa > MAX_TWIST * pb || pb > MAX_TWIST * pa)
                    continue;
            }
            fit_best = fit;
            label = c + 1;
        }
    } else {
        memset(bins, 0, sizeof(bins));
    }
    /* the window starts with this block next time: keep its sums referred to its own start */
    for (int f = 0; f < s->nfreq; f++) {
        s->prev_bins[f][0] = bins[f][0];
        s->prev_bins[f][1] = bins[f][1];
    }
    s->prev_energy = ecur;
    /* noise floor: follows the minimum down at once, up by 0.05 dB a block */
    if (s->floor < 0.0f || pblk < s->floor)
        s->floor = pblk;
    else
        s->floor *= FLOOR_RISE;
    if (s->floor < 1.0f)
        s->floor = 1.0f;
    int voice = !label && pwin >= s->voice_power && pwin >= VOICE_OVER_FLOOR * s->floor;
    if (voice) {
        if (s->voice_acc <= 0.0f) {
            s->voice_start = s->t - WIN;
            s->voice_level = 0.0;
        }
        s->voice_acc += 1.0f;
        s->voice_level += pwin;
    } else {
        s->voice_acc = s->voice_acc > VOICE_DECAY ? s->voice_acc - VOICE_DECAY : 0.0f;
    }
    /* debounce */
    int64_t mid = s->t - BLOCK;
    if (label == s->label) {
        s->cand = -1;
        s->cand_count = 0;
    } else if (label == s->cand) {
        if (++s->cand_count >= DEBOUNCE) {
            nev += change(s, label, s->cand_start, ev + nev);
            s->cand = -1;
            s->cand_count = 0;
        }
    } else {
        s->cand = label;
        s->cand_count = 1;
        s->cand_start = mid;
    }
    if (s->label && label == s->label) {
        s->seg_level += fit_best;
        s->seg_blocks++;
    }
    /* steady-tone decisions */
    int64_t held = s->t - s->seg_start;
    if (s->label && s->label == s->dial_class && !s->dial_done && held >= s->dial_samples) {
        s->dial_done = 1;
        if (!(s->reported & FINAL)) {
            push(s, s->label, s->seg_start, (int32_t)held, dbm0((float)(s->seg_level / (s->seg_blocks ? s->seg_blocks : 1))));
            put(&ev[nev++], s, CC_CPA_DIAL, 0, s->seg_start);
            s->nhist--; /* the segment is still open */
        }
    }
    if (s->label && (s->label == s->fax_class[0] || s->label == s->fax_class[1]) && !s->fax_done
        && held >= (int64_t)s->cfg.fax_ms * (CC_SAMPLE_RATE / 1000)) {
        s->fax_done = 1;
        if (!(s->reported & FINAL)) {
            s->reported |= BIT(CC_CPA_FAX);
            put(&ev[nev++], s, CC_CPA_FAX, s->label == s->fax_class[0] ? 1 : 2, s->seg_start);
            ev[nev - 1].freq_hz = s->label == s->fax_class[0] ? 1100.0f : 2100.0f;
        }
    }
    if (s->voice_acc * 10.0f >= (float)s->cfg.voice_ms && !(s->reported & FINAL)) {
        s->reported |= BIT(CC_CPA_VOICE);
        put(&ev[nev++], s, CC_CPA_VOICE, 0, s->voice_start);
        ev[nev - 1].level_dbm0 = dbm0((float)(s->voice_level / (s->voice_acc > 1.0f ? s->voice_acc : 1.0f)));
    }
    if (s->cfg.no_answer_ms && !(s->reported & (FINAL | BIT(CC_CPA_NO_ANSWER)))
        && s->t >= (int64_t)s->cfg.no_answer_ms * (CC_SAMPLE_RATE / 1000)) {
        s->reported |= BIT(CC_CPA_NO_ANSWER);
        put(&ev[nev++], s, CC_CPA_NO_ANSWER, 0, 0);
    }
    return nev;
}

static int feed(cc_cpa_t *s, cc_law law, const void *x, size_t n, cc_cpa_event_t *ev)
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
            nev += block_end(s, ev + nev);
            s->fill = 0;
        }
    }
    return nev;
}

static int law_ok(cc_law law) { return law == CC_LAW_LINEAR || law == CC_LAW_ALAW || law == CC_LAW_ULAW; }

int cc_cpa_process(cc_cpa_t *s, cc_law law, const void *x, size_t n, cc_cpa_event_t *ev, size_t max_ev)
{
    if (!valid(s) || !law_ok(law) || (n > 0 && x == NULL) || ev == NULL || n > (size_t)INT32_MAX)
        return CC_ERR_ARG;
    if (max_ev < cc_cpa_max_events(n))
        return CC_ERR_SPACE;
    return feed(s, law, x, n, ev);
}

int cc_cpa_process_batch(cc_cpa_t *const *s, size_t nch, cc_law law, const void *x, size_t stride, size_t n,
                         cc_cpa_event_t *ev, size_t max_ev)
{
    if (s == NULL || !law_ok(law) || (n > 0 && nch > 0 && x == NULL) || ev == NULL || n > (size_t)INT32_MAX)
        return CC_ERR_ARG;
    for (size_t c = 0; c < nch; c++)
        if (!valid(s[c]))
            return CC_ERR_ARG;
    if (nch > 0 && max_ev / nch < cc_cpa_max_events(n))
        return CC_ERR_SPACE;
    size_t size = law == CC_LAW_LINEAR ? sizeof(int16_t) : sizeof(uint8_t);
    int nev = 0;
    for (size_t c = 0; c < nch; c++)
        nev += feed(s[c], law, (const char *)x + c * stride * size, n, ev + nev);
    return nev;
}
