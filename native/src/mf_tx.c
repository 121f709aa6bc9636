/*
 * MF R1 / MFC-R2 generator and the variant rows: see ccboard/mf.h.
 *
 * Each tone is a resonator y[n] = 2cos(w) y[n-1] - y[n-2] in double precision, restarted at
 * phase 0 for every signal, so a signal's samples do not depend on how the output is split
 * into blocks. Both tones start and stop on the same sample (skew 0; Q.441 allows 1 ms).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/private/mf.h"
#include "mf_tables.h"

static const double PI = 3.14159265358979323846;
static const double DBM0_PEAK = 22767.0; /* peak of a 0 dBm0 sine, int16 scale */
static const uint8_t PAIR_I[15] = {0, 0, 1, 0, 1, 2, 0, 1, 2, 3, 0, 1, 2, 3, 4};
static const uint8_t PAIR_J[15] = {1, 2, 2, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 5};
#define KP_SIGNAL 13 /* 1100 + 1700 Hz */

enum { MAX_MS = 60000 };

/* Variants as rows of data. */
static const cc_mf_variant_t VARIANTS[CC_MF_VARIANT_COUNT] = {
    {"r1", 0, -7.0f, 68, 100, 68,
     "spandsp bell_r2_mf.h (Q.320-Q.323): -7 dBm0 +-1 dB, 68+-7 ms, KP 100+-7 ms, gap 68+-7 ms"},
    {"r2_itu", 1, -11.5f, 150, 150, 150, "spandsp bell_r2_mf.c (Q.441): -11.5 dBm0 +-1 dB; compelled"},
    {"r2_china", 1, -8.0f, 150, 150, 150,
     "libtonezone cn mfr2_level -8 dBm0 (zonedata); compelled; pulse length 150 ms unverified"},
};

const cc_mf_variant_t *cc_mf_variant_get(int id)
{
    return id >= 0 && id < CC_MF_VARIANT_COUNT ? &VARIANTS[id] : NULL;
}

int cc_mf_tx_config_variant(cc_mf_tx_config_t *cfg, int variant)
{
    const cc_mf_variant_t *v = cc_mf_variant_get(variant);
    if (cfg == NULL || v == NULL)
        return CC_ERR_ARG;
    cfg->level_low_dbm0 = v->level_dbm0;
    cfg->level_high_dbm0 = v->level_dbm0;
    cfg->on_ms = v->on_ms;
    cfg->kp_ms = v->kp_ms;
    cfg->off_ms = v->off_ms;
    return CC_OK;
}

static int mode_ok(int mode) { return mode == CC_MF_R1 || mode == CC_MF_R2_FWD || mode == CC_MF_R2_BWD; }

static int config_ok(const cc_mf_tx_config_t *c)
{
    return c->level_low_dbm0 >= -90.0f && c->level_low_dbm0 <= 3.0f && c->level_high_dbm0 >= -90.0f
        && c->level_high_dbm0 <= 3.0f && c->on_ms >= 1 && c->on_ms <= MAX_MS && c->kp_ms >= 1
        && c->kp_ms <= MAX_MS && c->off_ms >= 0 && c->off_ms <= MAX_MS;
}

static int valid(const cc_mf_tx_t *s) { return s != NULL && s->magic == CC_MF_TX_MAGIC; }

cc_mf_tx_t *cc_mf_tx_init(cc_mf_tx_t *s, cc_mf_mode mode, const cc_mf_tx_config_t *cfg)
{
    cc_mf_tx_config_t def;
    if (!mode_ok(mode))
        return NULL;
    if (cfg == NULL) {
        cc_mf_tx_config_variant(&def, mode == CC_MF_R1 ? CC_MF_VARIANT_R1 : CC_MF_VARIANT_R2_ITU);
        cfg = &def;
    }
    if (!config_ok(cfg))
        return NULL;
    if (s == NULL && (s = malloc(sizeof(*s))) == NULL)
        return NULL;
    memset(s, 0, sizeof(*s));
    s->magic = CC_MF_TX_MAGIC;
    s->mode = mode;
    s->cfg = *cfg;
    return s;
}

int cc_mf_tx_reset(cc_mf_tx_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    cc_mf_tx_config_t cfg = s->cfg;
    cc_mf_tx_init(s, (cc_mf_mode)s->mode, &cfg);
    return CC_OK;
}

int cc_mf_tx_release(cc_mf_tx_t *s) { return valid(s) ? CC_OK : CC_ERR_ARG; }

int cc_mf_tx_free(cc_mf_tx_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    s->magic = 0;
    free(s);
    return CC_OK;
}

size_t cc_mf_tx_state_size(void) { return sizeof(cc_mf_tx_t); }

int cc_mf_tx_restore(cc_mf_tx_t *s, const void *saved, size_t len)
{
    cc_mf_tx_t t;
    if (s == NULL || saved == NULL)
        return CC_ERR_ARG;
    if (len != sizeof(t))
        return CC_ERR_STATE;
    memcpy(&t, saved, sizeof(t));
    if (t.magic != CC_MF_TX_MAGIC || !mode_ok(t.mode) || !config_ok(&t.cfg) || t.head >= CC_MF_TX_QUEUE
        || t.count > CC_MF_TX_QUEUE || t.pos < 0 || t.t < 0 || (t.active != 0 && t.active != 1)
        || (t.active && t.count == 0))
        return CC_ERR_STATE;
    for (uint32_t k = 0; k < t.count; k++) {
        const cc_mf_tx_item_t *it = &t.queue[(t.head + k) % CC_MF_TX_QUEUE];
        if (it->signal < 1 || it->signal > 15 || it->on_samples < -1 || it->off_samples < 0
            || !(it->amp_low >= 0.0f && it->amp_low <= 50000.0f) || !(it->amp_high >= 0.0f && it->amp_high <= 50000.0f)
            || (it->on_samples < 0 && it->off_samples != 0))
            return CC_ERR_STATE;
    }
    double osc[6] = {t.osc_low[0], t.osc_low[1], t.osc_high[0], t.osc_high[1], t.coeff_low, t.coeff_high};
    for (int k = 0; k < 6; k++)
        if (!(osc[k] >= -1e6 && osc[k] <= 1e6))
            return CC_ERR_STATE;
    memcpy(s, &t, sizeof(t));
    return CC_OK;
}

static float peak_of(float dbm0) { return (float)(DBM0_PEAK * pow(10.0, dbm0 / 20.0)); }

/* Amplitudes of signal's lower- and higher-frequency tone, per tone index (i, j). */
static void item_amps(const cc_mf_tx_t *s, int signal, const cc_mf_tx_config_t *cfg, cc_mf_tx_item_t *it)
{
    float fi = cc_mf_freq[s->mode][PAIR_I[signal - 1]], fj = cc_mf_freq[s->mode][PAIR_J[signal - 1]];
    float lo = peak_of(cfg->level_low_dbm0), hi = peak_of(cfg->level_high_dbm0);
    /* amp_low drives tone i, amp_high tone j */
    it->amp_low = fi < fj ? lo : hi;
    it->amp_high = fi < fj ? hi : lo;
}

int cc_mf_tx_put(cc_mf_tx_t *s, const char *symbols, size_t n, const cc_mf_tx_config_t *cfg)
{
    if (!valid(s) || (n > 0 && symbols == NULL))
        return CC_ERR_ARG;
    if (cfg == NULL)
        cfg = &s->cfg;
    if (!config_ok(cfg))
        return CC_ERR_ARG;
    if (s->count > 0 && s->queue[s->head].on_samples < 0)
        return CC_ERR_ARG; /* a started signal sounds until stopped */
    for (size_t i = 0; i < n; i++)
        if (cc_mf_signal((cc_mf_mode)s->mode, (unsigned char)symbols[i]) == 0)
            return CC_ERR_ARG;
    if (n > CC_MF_TX_QUEUE - s->count)
        return CC_ERR_SPACE;
    for (size_t i = 0; i < n; i++) {
        int sig = cc_mf_signal((cc_mf_mode)s->mode, (unsigned char)symbols[i]);
        cc_mf_tx_item_t *it = &s->queue[(s->head + s->count++) % CC_MF_TX_QUEUE];
        memset(it, 0, sizeof(*it));
        it->signal = (uint8_t)sig;
        int on = s->mode == CC_MF_R1 && sig == KP_SIGNAL ? cfg->kp_ms : cfg->on_ms;
        it->on_samples = on * (CC_SAMPLE_RATE / 1000);
        it->off_samples = cfg->off_ms * (CC_SAMPLE_RATE / 1000);
        item_amps(s, sig, cfg, it);
    }
    return (int)n;
}

int cc_mf_tx_start(cc_mf_tx_t *s, int signal, const cc_mf_tx_config_t *cfg)
{
    if (!valid(s) || signal < 1 || signal > 15)
        return CC_ERR_ARG;
    if (cfg == NULL)
        cfg = &s->cfg;
    if (!config_ok(cfg))
        return CC_ERR_ARG;
    cc_mf_tx_item_t *it = &s->queue[0];
    memset(it, 0, sizeof(*it));
    it->signal = (uint8_t)signal;
    it->on_samples = -1;
    item_amps(s, signal, cfg, it);
    s->head = 0;
    s->count = 1;
    s->pos = 0;
    s->active = 0;
    return CC_OK;
}

int cc_mf_tx_stop(cc_mf_tx_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    s->head = 0;
    s->count = 0;
    s->pos = 0;
    s->active = 0;
    return CC_OK;
}

int cc_mf_tx_current(const cc_mf_tx_t *s)
{
    if (!valid(s) || s->count == 0)
        return 0;
    const cc_mf_tx_item_t *it = &s->queue[s->head];
    return it->on_samples < 0 || s->pos < it->on_samples ? it->signal : 0;
}

int cc_mf_tx_mode(const cc_mf_tx_t *s) { return valid(s) ? s->mode : CC_ERR_ARG; }
size_t cc_mf_tx_pending(const cc_mf_tx_t *s) { return valid(s) ? s->count : 0; }
int64_t cc_mf_tx_samples(const cc_mf_tx_t *s) { return valid(s) ? s->t : 0; }

/* Start an oscillator at phase 0: y[-1] = -A sin w, y[-2] = -A sin 2w. */
static void start_tone(double *osc, double *coeff, double hz, double amp)
{
    double w = 2.0 * PI * hz / CC_SAMPLE_RATE;
    *coeff = 2.0 * cos(w);
    osc[0] = -amp * sin(w);
    osc[1] = -amp * sin(2.0 * w);
}

static int16_t to_int16(double v)
{
    v = floor(v + 0.5);
    return (int16_t)(v > 32767.0 ? 32767.0 : v < -32768.0 ? -32768.0 : v);
}

size_t cc_mf_tx_generate(cc_mf_tx_t *s, int16_t *out, size_t n)
{
    if (!valid(s) || (n > 0 && out == NULL))
        return 0;
    size_t i = 0;
    while (i < n && s->count > 0) {
        const cc_mf_tx_item_t *it = &s->queue[s->head];
        if (!s->active) {
            start_tone(s->osc_low, &s->coeff_low, cc_mf_freq[s->mode][PAIR_I[it->signal - 1]], it->amp_low);
            start_tone(s->osc_high, &s->coeff_high, cc_mf_freq[s->mode][PAIR_J[it->signal - 1]], it->amp_high);
            s->active = 1;
            s->pos = 0;
        }
        /* a started signal: on until stopped (pos saturates, it only tells on from off) */
        int64_t on = it->on_samples < 0 ? (int64_t)s->pos + (int64_t)(n - i) : it->on_samples;
        for (; i < n && s->pos < on; i++) {
            double a = s->coeff_low * s->osc_low[0] - s->osc_low[1];
            double b = s->coeff_high * s->osc_high[0] - s->osc_high[1];
            s->osc_low[1] = s->osc_low[0];
            s->osc_low[0] = a;
            s->osc_high[1] = s->osc_high[0];
            s->osc_high[0] = b;
            out[i] = to_int16(a + b);
            if (it->on_samples >= 0)
                s->pos++;
        }
        if (it->on_samples < 0)
            break;
        for (; i < n && s->pos < it->on_samples + it->off_samples; i++, s->pos++)
            out[i] = 0;
        if (s->pos == it->on_samples + it->off_samples) {
            s->head = (s->head + 1) % CC_MF_TX_QUEUE;
            s->count--;
            s->active = 0;
        }
    }
    size_t busy = i;
    if (i < n)
        memset(out + i, 0, (n - i) * sizeof(int16_t));
    s->t += (int64_t)n;
    return busy;
}
