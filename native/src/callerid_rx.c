/*
 * Caller ID receiver: see ccboard/callerid.h for what it does and the figures it meets.
 *
 * FSK, per call: the input is cut into chunks of up to CHUNK samples; each chunk goes through
 * the four correlators in one vectorised loop (d and e per sample), then through the slicer,
 * which touches d sample by sample only while hunting for a start bit and otherwise jumps from
 * bit centre to bit centre (10 reads per octet).
 * Powers: a sine of peak A at a correlator's frequency gives |X|^2 ~ (A W / 2)^2, so a tone
 * of mean-square power P gives e ~ P W^2 / 2; 0 dBm0 is a sine of peak 22767.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/g711.h"
#include "ccboard/private/callerid.h"

#define W CC_CID_WIN
#define CHUNK 256
#define BIT_T (20.0 / 3.0)  /* samples per bit at 1200 baud */
#define IDLE_SAMPLES 67     /* 10 bit times of mark: the line is idle, a message may start */
#define GAP_SAMPLES 14      /* 2 bit times without carrier end a message in progress */
#define DTMF_SUB 160

static const double TWO_PI = 6.283185307179586;
static const float DBM0_POWER = 22767.0f * 22767.0f / 2.0f;
static const double MARK_HZ[4] = {0.0, 1200.0, 1300.0, 0.0};
static const double SPACE_HZ[4] = {0.0, 2200.0, 2100.0, 0.0};

void cc_cid_rx_config_default(cc_cid_rx_config_t *cfg, cc_cid_standard standard)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->standard = (int32_t)standard;
    cfg->min_level_dbm0 = -45.0f;
    cfg->dtmf_timeout_ms = 1000;
}

static int config_ok(const cc_cid_rx_config_t *c)
{
    return c->standard >= CC_CID_BELL202 && c->standard <= CC_CID_DTMF && c->min_level_dbm0 >= -90.0f
        && c->min_level_dbm0 <= 0.0f && c->dtmf_timeout_ms >= 100 && c->dtmf_timeout_ms <= 60000;
}

cc_cid_rx_t *cc_cid_rx_init(cc_cid_rx_t *s, const cc_cid_rx_config_t *cfg, int32_t channel)
{
    cc_cid_rx_config_t def;
    if (cfg == NULL) {
        cc_cid_rx_config_default(&def, CC_CID_BELL202);
        cfg = &def;
    }
    if (!config_ok(cfg))
        return NULL;
    if (s == NULL && (s = malloc(sizeof(*s))) == NULL)
        return NULL;
    memset(s, 0, sizeof(*s));
    s->magic = CC_CID_RX_MAGIC;
    s->channel = channel;
    s->cfg = *cfg;
    if (cfg->standard != CC_CID_DTMF) {
        for (int k = 0; k < W; k++) {
            double wm = TWO_PI * MARK_HZ[cfg->standard] / CC_SAMPLE_RATE * k;
            double ws = TWO_PI * SPACE_HZ[cfg->standard] / CC_SAMPLE_RATE * k;
            s->coef[0][k] = (float)cos(wm);
            s->coef[1][k] = (float)sin(wm);
            s->coef[2][k] = (float)cos(ws);
            s->coef[3][k] = (float)sin(ws);
        }
    }
    s->min_e = DBM0_POWER * powf(10.0f, cfg->min_level_dbm0 / 10.0f) * (float)(W * W) / 2.0f;
    cc_dtmf_rx_config_t dc;
    cc_dtmf_rx_config_default(&dc);
    cc_dtmf_rx_init(&s->dtmf, &dc, channel);
    return s;
}

static int valid(const cc_cid_rx_t *s) { return s != NULL && s->magic == CC_CID_RX_MAGIC; }

int cc_cid_rx_reset(cc_cid_rx_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    cc_cid_rx_config_t cfg = s->cfg;
    cc_cid_rx_init(s, &cfg, s->channel);
    return CC_OK;
}

int cc_cid_rx_release(cc_cid_rx_t *s) { return valid(s) ? CC_OK : CC_ERR_ARG; }

int cc_cid_rx_free(cc_cid_rx_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    s->magic = 0;
    free(s);
    return CC_OK;
}

size_t cc_cid_rx_state_size(void) { return sizeof(cc_cid_rx_t); }

int cc_cid_rx_restore(cc_cid_rx_t *s, const void *saved, size_t len)
{
    cc_cid_rx_t t, fresh;
    if (s == NULL || saved == NULL)
        return CC_ERR_ARG;
    if (len != sizeof(t))
        return CC_ERR_STATE;
    memcpy(&t, saved, sizeof(t));
    if (t.magic != CC_CID_RX_MAGIC || !config_ok(&t.cfg) || t.t < 0 || t.state < 0 || t.state > 1 || t.bit < 0
        || t.bit > 9 || t.octet < 0 || t.octet > 255 || t.msg_len < 0 || t.msg_len > CC_CID_MSG_MAX + 1
        || t.mark_run < 0 || t.gap < 0 || !(fabs(t.next_bit) < 9.0e18) || !isfinite(t.prev_d)
        || !isfinite(t.level))
        return CC_ERR_STATE;
    for (int k = 0; k < W - 1; k++)
        if (!isfinite(t.hist[k]))
            return CC_ERR_STATE;
    /* the embedded DTMF state is checked by its own restore */
    if (cc_dtmf_rx_restore(&fresh.dtmf, &t.dtmf, sizeof(t.dtmf)) != CC_OK)
        return CC_ERR_STATE;
    cc_dtmf_rx_t dtmf = fresh.dtmf;
    /* derived values are recomputed, never trusted */
    cc_cid_rx_init(&fresh, &t.cfg, t.channel);
    memcpy(t.coef, fresh.coef, sizeof(t.coef));
    t.min_e = fresh.min_e;
    t.dtmf = dtmf;
    *s = t;
    return CC_OK;
}

size_t cc_cid_rx_max_events(size_t n) { return n / 200 + 2; }
int64_t cc_cid_rx_samples(const cc_cid_rx_t *s) { return valid(s) ? s->t : 0; }
int cc_cid_rx_pending(const cc_cid_rx_t *s)
{
    return valid(s) ? s->msg_len : 0;
}
int64_t cc_cid_rx_framing_errors(const cc_cid_rx_t *s) { return valid(s) ? s->framing_errors : 0; }
int64_t cc_cid_rx_checksum_errors(const cc_cid_rx_t *s) { return valid(s) ? s->checksum_errors : 0; }

/* d = |mark|^2 - |space|^2 and e = |mark|^2 + |space|^2 for m samples; xb holds W-1 samples of
 * history then the m new ones. */
CC_HOT static void demod(const float *restrict xb, size_t m, const float *restrict coef, float *restrict d,
                         float *restrict e)
{
    float c[4][W];
    memcpy(c, coef, sizeof(c));
    for (size_t n = 0; n < m; n++) {
        float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
        for (int k = 0; k < W; k++) {
            float v = xb[n + k];
            a0 += c[0][k] * v;
            a1 += c[1][k] * v;
            a2 += c[2][k] * v;
            a3 += c[3][k] * v;
        }
        float pm = a0 * a0 + a1 * a1, ps = a2 * a2 + a3 * a3;
        d[n] = pm - ps;
        e[n] = pm + ps;
    }
}

static float e_to_dbm0(float e)
{
    float p = 2.0f * e / (float)(W * W);
    return p > 0.0f ? 10.0f * log10f(p / DBM0_POWER) : -200.0f;
}

static void drop_message(cc_cid_rx_t *s)
{
    s->msg_len = 0;
    s->ready = 0;
}

CC_COLD static int octet_done(cc_cid_rx_t *s, int64_t at, float e, cc_cid_msg_t *ev)
{
    if (!s->ready)
        return 0;
    if (s->msg_len == 0) {
        s->msg_start = s->edge_at;
        s->level = e;
    }
    s->msg[s->msg_len++] = (uint8_t)s->octet;
    if (s->msg_len < 2 || s->msg_len != s->msg[1] + 3)
        return 0;
    unsigned sum = 0;
    for (int i = 0; i < s->msg_len; i++)
        sum += s->msg[i];
    int nev = 0;
    if ((sum & 0xFFu) == 0) {
        memset(ev, 0, sizeof(*ev));
        ev->channel = s->channel;
        ev->standard = (uint8_t)s->cfg.standard;
        ev->status = CC_CID_OK;
        ev->len = (uint16_t)(s->msg_len - 1);
        ev->start = s->msg_start;
        ev->at = at;
        ev->level_dbm0 = e_to_dbm0(s->level);
        memcpy(ev->data, s->msg, (size_t)s->msg_len - 1);
        nev = 1;
    } else {
        s->checksum_errors++;
    }
    drop_message(s);
    return nev;
}

/* The slicer over one chunk: samples t0 .. t0+m-1. */
static int slice(cc_cid_rx_t *s, const float *restrict d, const float *restrict e, size_t m, int64_t t0,
                 cc_cid_msg_t *ev)
{
    int nev = 0;
    size_t n = 0;
    const float min_e = s->min_e;
    while (n < m) {
        if (s->state == 0) {
            for (; n < m; n++) {
                float dn = d[n];
                if (e[n] < min_e) {
                    s->mark_run = 0;
                    s->armed = 0;
                    if (++s->gap > GAP_SAMPLES && (s->msg_len || s->ready))
                        drop_message(s);
                    continue;
                }
                s->gap = 0;
                if (dn >= 0.0f) {
                    s->armed = 1;
                    if (++s->mark_run >= IDLE_SAMPLES && (!s->ready || s->msg_len)) {
                        s->ready = 1;
                        s->msg_len = 0;
                    }
                    continue;
                }
                s->mark_run = 0;
                if (!s->armed)
                    continue;
                /* start edge: d crossed zero between n-1 and n */
                float pd = n ? d[n - 1] : s->prev_d;
                double frac = pd > 0.0f ? (double)pd / ((double)pd - (double)dn) : 1.0;
                double tc = (double)(t0 + (int64_t)n) - 1.0 + frac;
                s->edge_at = (int64_t)floor(tc - (W - 1) / 2.0 + 0.5);
                s->next_bit = tc + 0.5 * BIT_T;
                s->bit = 0;
                s->octet = 0;
                s->state = 1;
                s->armed = 0;
                n++;
                break;
            }
            continue;
        }
        int64_t idx = (int64_t)floor(s->next_bit + 0.5);
        if (idx >= t0 + (int64_t)m)
            break;
        size_t i = (size_t)(idx - t0);
        int bit = d[i] >= 0.0f;
        n = i + 1;
        s->next_bit += BIT_T;
        if (s->bit == 0) {
            if (bit) {          /* a glitch, not a start bit */
                s->state = 0;
                s->armed = 1;
                continue;
            }
        } else if (s->bit <= 8) {
            s->octet |= bit << (s->bit - 1);
        } else {
            s->state = 0;
            if (!bit) {
                s->framing_errors++;
                drop_message(s);
                continue;
            }
            s->armed = 1;
            nev += octet_done(s, idx, e[i], ev + nev);
            continue;
        }
        s->bit++;
    }
    return nev;
}

static void to_float(float *restrict dst, cc_law law, const void *x, size_t n)
{
    int16_t tmp[CHUNK];
    const int16_t *src = (const int16_t *)x;
    if (law == CC_LAW_ALAW) {
        cc_g711_alaw_decode(tmp, (const uint8_t *)x, n);
        src = tmp;
    } else if (law == CC_LAW_ULAW) {
        cc_g711_ulaw_decode(tmp, (const uint8_t *)x, n);
        src = tmp;
    }
    for (size_t i = 0; i < n; i++)
        dst[i] = (float)src[i];
}

static int feed_fsk(cc_cid_rx_t *s, cc_law law, const void *x, size_t n, cc_cid_msg_t *ev)
{
    float xb[W - 1 + CHUNK], d[CHUNK], e[CHUNK];
    size_t size = law == CC_LAW_LINEAR ? 2 : 1;
    int nev = 0;
    for (size_t i = 0; i < n; i += CHUNK) {
        size_t m = n - i < CHUNK ? n - i : CHUNK;
        memcpy(xb, s->hist, sizeof(s->hist));
        to_float(xb + W - 1, law, (const char *)x + i * size, m);
        demod(xb, m, &s->coef[0][0], d, e);
        nev += slice(s, d, e, m, s->t, ev + nev);
        memcpy(s->hist, xb + m, sizeof(s->hist));
        s->prev_d = d[m - 1];
        s->t += (int64_t)m;
    }
    return nev;
}

static void dtmf_emit(cc_cid_rx_t *s, int status, int64_t at, cc_cid_msg_t *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->channel = s->channel;
    ev->standard = CC_CID_DTMF;
    ev->status = (uint8_t)status;
    ev->len = (uint16_t)s->msg_len;
    ev->start = s->msg_start;
    ev->at = at;
    ev->level_dbm0 = s->level;
    memcpy(ev->data, s->msg, (size_t)s->msg_len);
    s->msg_len = 0;
}

static int feed_dtmf(cc_cid_rx_t *s, cc_law law, const void *x, size_t n, cc_cid_msg_t *ev)
{
    cc_dtmf_event_t dev[8];
    size_t size = law == CC_LAW_LINEAR ? 2 : 1;
    int64_t timeout = (int64_t)s->cfg.dtmf_timeout_ms * (CC_SAMPLE_RATE / 1000);
    int nev = 0;
    size_t i = 0;
    while (i < n) {
        size_t take = n - i < DTMF_SUB ? n - i : DTMF_SUB;
        if (s->msg_len) {
            /* cut at the deadline, so the timeout falls on the same sample for any split */
            int64_t left = s->last_digit_at + timeout - s->t;
            if (left > 0 && (int64_t)take > left)
                take = (size_t)left;
        }
        int k = cc_dtmf_rx_process(&s->dtmf, law, (const char *)x + i * size, take, dev, 8);
        s->t += (int64_t)take;
        i += take;
        for (int j = 0; j < k; j++) {
            if (dev[j].kind != CC_DTMF_ON)
                continue;
            if (s->msg_len == 0) {
                s->msg_start = dev[j].start;
                s->level = dev[j].level_low;
            }
            uint8_t digit = dev[j].digit;
            if (s->msg_len < CC_CID_MSG_MAX)
                s->msg[s->msg_len++] = digit;
            s->last_digit_at = dev[j].at;
            if (digit == 'C' || digit == '#' || s->msg_len == CC_CID_MSG_MAX)
                dtmf_emit(s, digit == 'C' || digit == '#' ? CC_CID_OK : CC_CID_UNTERMINATED, dev[j].at, ev + nev++);
        }
        if (s->msg_len && s->t >= s->last_digit_at + timeout)
            dtmf_emit(s, CC_CID_UNTERMINATED, s->last_digit_at + timeout, ev + nev++);
    }
    return nev;
}

static int law_ok(cc_law law) { return law == CC_LAW_LINEAR || law == CC_LAW_ALAW || law == CC_LAW_ULAW; }

static int feed(cc_cid_rx_t *s, cc_law law, const void *x, size_t n, cc_cid_msg_t *ev)
{
    if (n == 0)
        return 0;
    return s->cfg.standard == CC_CID_DTMF ? feed_dtmf(s, law, x, n, ev) : feed_fsk(s, law, x, n, ev);
}

int cc_cid_rx_process(cc_cid_rx_t *s, cc_law law, const void *x, size_t n, cc_cid_msg_t *ev, size_t max_ev)
{
    if (!valid(s) || !law_ok(law) || (n > 0 && x == NULL) || ev == NULL || n > (size_t)INT32_MAX)
        return CC_ERR_ARG;
    if (max_ev < cc_cid_rx_max_events(n))
        return CC_ERR_SPACE;
    return feed(s, law, x, n, ev);
}

int cc_cid_rx_process_batch(cc_cid_rx_t *const *s, size_t nch, cc_law law, const void *x, size_t stride,
                            size_t n, cc_cid_msg_t *ev, size_t max_ev)
{
    if (s == NULL || !law_ok(law) || (n > 0 && nch > 0 && x == NULL) || ev == NULL || n > (size_t)INT32_MAX)
        return CC_ERR_ARG;
    for (size_t c = 0; c < nch; c++)
        if (!valid(s[c]))
            return CC_ERR_ARG;
    if (nch > 0 && max_ev / nch < cc_cid_rx_max_events(n))
        return CC_ERR_SPACE;
    size_t size = law == CC_LAW_LINEAR ? sizeof(int16_t) : sizeof(uint8_t);
    int nev = 0;
    for (size_t c = 0; c < nch; c++)
        nev += feed(s[c], law, (const char *)x + c * stride * size, n, ev + nev);
    return nev;
}
