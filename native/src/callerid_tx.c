/*
 * Caller ID generator: see ccboard/callerid.h.
 *
 * FSK: continuous-phase, a 32-bit phase accumulator per sample and the bit clock as an
 * integer accumulator (bit_den units per sample, bit_num per bit: 3000 and 20000 at exactly
 * 1200 baud), so every bit edge falls on the sample the ideal clock puts it on.
 * DTMF: the generator of ccboard/dtmf.h, embedded.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/private/callerid.h"

static const double TWO_PI = 6.283185307179586;
static const double DBM0_PEAK = 22767.0;

static const double MARK_HZ[4] = {0.0, 1200.0, 1300.0, 0.0};
static const double SPACE_HZ[4] = {0.0, 2200.0, 2100.0, 0.0};

void cc_cid_tx_config_default(cc_cid_tx_config_t *cfg, cc_cid_standard standard)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->standard = (int32_t)standard;
    cfg->level_dbm0 = standard == CC_CID_DTMF ? -10.0f : -13.5f;
    cfg->seizure_bits = 300;
    cfg->mark_bits = 180;
    cfg->stop_bits = 1;
    cfg->postamble_bits = 5;
    cfg->dtmf_on_ms = 60;
    cfg->dtmf_off_ms = 60;
}

static int config_ok(const cc_cid_tx_config_t *c)
{
    return c->standard >= CC_CID_BELL202 && c->standard <= CC_CID_DTMF && c->level_dbm0 >= -90.0f
        && c->level_dbm0 <= 3.0f && c->seizure_bits >= 0 && c->seizure_bits <= 10000 && c->mark_bits >= 0
        && c->mark_bits <= 10000 && c->stop_bits >= 1 && c->stop_bits <= 8 && c->postamble_bits >= 0
        && c->postamble_bits <= 10000 && c->dtmf_on_ms >= 20 && c->dtmf_on_ms <= 1000 && c->dtmf_off_ms >= 20
        && c->dtmf_off_ms <= 1000 && c->baud_error_pct >= -10.0f && c->baud_error_pct <= 10.0f
        && c->freq_error_pct >= -10.0f && c->freq_error_pct <= 10.0f && c->twist_db >= -20.0f
        && c->twist_db <= 20.0f;
}

static uint32_t phase_inc(double hz) { return (uint32_t)llround(hz / CC_SAMPLE_RATE * 4294967296.0); }

cc_cid_tx_t *cc_cid_tx_init(cc_cid_tx_t *s, const cc_cid_tx_config_t *cfg)
{
    cc_cid_tx_config_t def;
    if (cfg == NULL) {
        cc_cid_tx_config_default(&def, CC_CID_BELL202);
        cfg = &def;
    }
    if (!config_ok(cfg))
        return NULL;
    if (s == NULL && (s = malloc(sizeof(*s))) == NULL)
        return NULL;
    memset(s, 0, sizeof(*s));
    s->magic = CC_CID_TX_MAGIC;
    s->cfg = *cfg;
    /* the twist is split evenly, so the mean level stays level_dbm0 */
    double peak = DBM0_PEAK * pow(10.0, cfg->level_dbm0 / 20.0);
    s->amp_mark = peak * pow(10.0, -cfg->twist_db / 40.0);
    s->amp_space = peak * pow(10.0, cfg->twist_db / 40.0);
    double f = 1.0 + cfg->freq_error_pct / 100.0;
    s->inc_mark = phase_inc(MARK_HZ[cfg->standard] * f);
    s->inc_space = phase_inc(SPACE_HZ[cfg->standard] * f);
    s->bit_den = 3000;
    s->bit_num = (int32_t)lround(20000.0 / (1.0 + cfg->baud_error_pct / 100.0));
    cc_dtmf_tx_config_t dc;
    cc_dtmf_tx_config_default(&dc);
    dc.level_low_dbm0 = dc.level_high_dbm0 = cfg->level_dbm0;
    dc.on_ms = cfg->dtmf_on_ms;
    dc.off_ms = cfg->dtmf_off_ms;
    cc_dtmf_tx_init(&s->dtmf, &dc);
    return s;
}

static int valid(const cc_cid_tx_t *s) { return s != NULL && s->magic == CC_CID_TX_MAGIC; }

int cc_cid_tx_reset(cc_cid_tx_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    cc_cid_tx_config_t cfg = s->cfg;
    cc_cid_tx_init(s, &cfg);
    return CC_OK;
}

int cc_cid_tx_release(cc_cid_tx_t *s) { return valid(s) ? CC_OK : CC_ERR_ARG; }

int cc_cid_tx_free(cc_cid_tx_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    s->magic = 0;
    free(s);
    return CC_OK;
}

size_t cc_cid_tx_state_size(void) { return sizeof(cc_cid_tx_t); }

int64_t cc_cid_tx_remaining(const cc_cid_tx_t *s) { return valid(s) ? s->remaining : 0; }

int cc_cid_tx_put(cc_cid_tx_t *s, const uint8_t *msg, size_t n)
{
    if (!valid(s) || (msg == NULL && n > 0))
        return CC_ERR_ARG;
    if (s->active)
        return CC_ERR_SPACE;
    if (s->cfg.standard == CC_CID_DTMF) {
        if (n == 0 || n > CC_CID_MSG_MAX)
            return CC_ERR_ARG;
        for (size_t i = 0; i < n; i++)
            if (msg[i] == 0 || strchr("0123456789*#ABCDabcd", msg[i]) == NULL)
                return CC_ERR_ARG;
        int rc = cc_dtmf_tx_put(&s->dtmf, (const char *)msg, n, NULL);
        if (rc < 0)
            return rc;
        s->remaining = (int64_t)n * (s->cfg.dtmf_on_ms + s->cfg.dtmf_off_ms) * (CC_SAMPLE_RATE / 1000);
        s->active = 1;
        return (int)n;
    }
    if (n < 2 || n > CC_CID_MSG_MAX || (size_t)msg[1] != n - 2)
        return CC_ERR_ARG;
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += msg[i];
    memcpy(s->msg, msg, n);
    s->msg[n] = (uint8_t)(-sum & 0xFFu);
    s->len = (int32_t)n + 1;
    s->total_bits = (int64_t)s->cfg.seizure_bits + s->cfg.mark_bits
        + (int64_t)s->len * (9 + s->cfg.stop_bits) + s->cfg.postamble_bits;
    /* ceil(total_bits * bit_num / bit_den): the sample the last bit ends on */
    s->remaining = (s->total_bits * s->bit_num + s->bit_den - 1) / s->bit_den;
    s->bit_index = 0;
    s->bit_acc = 0;
    s->active = 1;
    return (int)n;
}

/* Line bit number i of the message: seizure, mark, octets, postamble. */
static int line_bit(const cc_cid_tx_t *s, int64_t i)
{
    if (i < s->cfg.seizure_bits)
        return (int)(i & 1);
    i -= s->cfg.seizure_bits;
    if (i < s->cfg.mark_bits)
        return 1;
    i -= s->cfg.mark_bits;
    int64_t frame = 9 + s->cfg.stop_bits;
    if (i < (int64_t)s->len * frame) {
        int64_t p = i % frame;
        if (p == 0)
            return 0;
        if (p <= 8)
            return (s->msg[i / frame] >> (p - 1)) & 1;
        return 1;
    }
    return 1;
}

size_t cc_cid_tx_generate(cc_cid_tx_t *s, int16_t *out, size_t n)
{
    if (!valid(s) || (out == NULL && n > 0))
        return 0;
    size_t done = 0;
    if (s->cfg.standard == CC_CID_DTMF) {
        if (s->active) {
            size_t want = (size_t)s->remaining < n ? (size_t)s->remaining : n;
            cc_dtmf_tx_generate(&s->dtmf, out, want);
            s->remaining -= (int64_t)want;
            done = want;
            if (s->remaining == 0)
                s->active = 0;
        }
        memset(out + done, 0, (n - done) * sizeof(*out));
        return done;
    }
    while (done < n && s->active) {
        int bit = line_bit(s, s->bit_index);
        uint32_t inc = bit ? s->inc_mark : s->inc_space;
        double amp = bit ? s->amp_mark : s->amp_space;
        double v = amp * sin(TWO_PI * (double)s->phase / 4294967296.0);
        out[done++] = (int16_t)lrint(v > 32767.0 ? 32767.0 : v < -32768.0 ? -32768.0 : v);
        s->phase += inc;
        s->bit_acc += s->bit_den;
        if (s->bit_acc >= s->bit_num) {
            s->bit_acc -= s->bit_num;
            s->bit_index++;
        }
        if (--s->remaining == 0)
            s->active = 0;
    }
    size_t written = done;
    memset(out + done, 0, (n - done) * sizeof(*out));
    return written;
}
