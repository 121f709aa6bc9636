/*
 * DTMF generator: see ccboard/dtmf.h.
 *
 * Each tone is a resonator y[n] = 2cos(w) y[n-1] - y[n-2] in double precision, restarted at
 * phase 0 for every digit, so a digit's samples do not depend on how the output is split
 * into blocks and the error cannot build up over a long queue.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/private/dtmf.h"

static const double PI = 3.14159265358979323846;
static const double DBM0_PEAK = 22767.0; /* peak of a 0 dBm0 sine, int16 scale */
static const char DIGITS[] = "123A456B789C*0#D";
static const double ROW_HZ[4] = {697.0, 770.0, 852.0, 941.0};
static const double COL_HZ[4] = {1209.0, 1336.0, 1477.0, 1633.0};

enum { MAX_MS = 60000 };

void cc_dtmf_tx_config_default(cc_dtmf_tx_config_t *cfg)
{
    cfg->level_low_dbm0 = -10.0f;
    cfg->level_high_dbm0 = -10.0f;
    cfg->on_ms = 50;
    cfg->off_ms = 55;
}

static int config_ok(const cc_dtmf_tx_config_t *c)
{
    return c->level_low_dbm0 >= -90.0f && c->level_low_dbm0 <= 3.0f && c->level_high_dbm0 >= -90.0f
        && c->level_high_dbm0 <= 3.0f && c->on_ms >= 1 && c->on_ms <= MAX_MS && c->off_ms >= 0
        && c->off_ms <= MAX_MS;
}

static int valid(const cc_dtmf_tx_t *s) { return s != NULL && s->magic == CC_DTMF_TX_MAGIC; }

cc_dtmf_tx_t *cc_dtmf_tx_init(cc_dtmf_tx_t *s, const cc_dtmf_tx_config_t *cfg)
{
    cc_dtmf_tx_config_t def;
    if (cfg == NULL) {
        cc_dtmf_tx_config_default(&def);
        cfg = &def;
    }
    if (!config_ok(cfg))
        return NULL;
    if (s == NULL && (s = malloc(sizeof(*s))) == NULL)
        return NULL;
    memset(s, 0, sizeof(*s));
    s->magic = CC_DTMF_TX_MAGIC;
    s->cfg = *cfg;
    return s;
}

int cc_dtmf_tx_reset(cc_dtmf_tx_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    cc_dtmf_tx_config_t cfg = s->cfg;
    cc_dtmf_tx_init(s, &cfg);
    return CC_OK;
}

int cc_dtmf_tx_release(cc_dtmf_tx_t *s) { return valid(s) ? CC_OK : CC_ERR_ARG; }

int cc_dtmf_tx_free(cc_dtmf_tx_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    s->magic = 0;
    free(s);
    return CC_OK;
}

size_t cc_dtmf_tx_state_size(void) { return sizeof(cc_dtmf_tx_t); }

static int digit_index(char d)
{
    const char *p = d ? strchr(DIGITS, d >= 'a' && d <= 'd' ? d - 'a' + 'A' : d) : NULL;
    return p ? (int)(p - DIGITS) : -1;
}

int cc_dtmf_tx_put(cc_dtmf_tx_t *s, const char *digits, size_t n, const cc_dtmf_tx_config_t *cfg)
{
    if (!valid(s) || (n > 0 && digits == NULL))
        return CC_ERR_ARG;
    if (cfg == NULL)
        cfg = &s->cfg;
    if (!config_ok(cfg))
        return CC_ERR_ARG;
    for (size_t i = 0; i < n; i++)
        if (digit_index(digits[i]) < 0)
            return CC_ERR_ARG;
    if (n > CC_DTMF_TX_QUEUE - s->count)
        return CC_ERR_SPACE;
    for (size_t i = 0; i < n; i++) {
        cc_dtmf_tx_item_t *it = &s->queue[(s->head + s->count++) % CC_DTMF_TX_QUEUE];
        memset(it, 0, sizeof(*it));
        it->digit = (uint8_t)DIGITS[digit_index(digits[i])];
        it->on_samples = cfg->on_ms * (CC_SAMPLE_RATE / 1000);
        it->off_samples = cfg->off_ms * (CC_SAMPLE_RATE / 1000);
        it->amp_low = (float)(DBM0_PEAK * pow(10.0, cfg->level_low_dbm0 / 20.0));
        it->amp_high = (float)(DBM0_PEAK * pow(10.0, cfg->level_high_dbm0 / 20.0));
    }
    return (int)n;
}

size_t cc_dtmf_tx_pending(const cc_dtmf_tx_t *s) { return valid(s) ? s->count : 0; }

/* Start the oscillators at phase 0: y[-1] = -A sin w, y[-2] = -A sin 2w. */
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

size_t cc_dtmf_tx_generate(cc_dtmf_tx_t *s, int16_t *out, size_t n)
{
    if (!valid(s) || (n > 0 && out == NULL))
        return 0;
    size_t i = 0;
    while (i < n && s->count > 0) {
        const cc_dtmf_tx_item_t *it = &s->queue[s->head];
        if (!s->active) {
            int k = digit_index((char)it->digit);
            start_tone(s->osc_low, &s->coeff_low, ROW_HZ[k / 4], it->amp_low);
            start_tone(s->osc_high, &s->coeff_high, COL_HZ[k % 4], it->amp_high);
            s->active = 1;
            s->pos = 0;
        }
        for (; i < n && s->pos < it->on_samples; i++, s->pos++) {
            double lo = s->coeff_low * s->osc_low[0] - s->osc_low[1];
            double hi = s->coeff_high * s->osc_high[0] - s->osc_high[1];
            s->osc_low[1] = s->osc_low[0];
            s->osc_low[0] = lo;
            s->osc_high[1] = s->osc_high[0];
            s->osc_high[0] = hi;
            out[i] = to_int16(lo + hi);
        }
        for (; i < n && s->pos < it->on_samples + it->off_samples; i++, s->pos++)
            out[i] = 0;
        if (s->pos == it->on_samples + it->off_samples) {
            s->head = (s->head + 1) % CC_DTMF_TX_QUEUE;
            s->count--;
            s->active = 0;
        }
    }
    size_t busy = i;
    if (i < n)
        memset(out + i, 0, (n - i) * sizeof(int16_t));
    return busy;
}
