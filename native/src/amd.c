/*
 * Answering-machine detection: see ccboard/amd.h for what it does and the figures it meets.
 *
 * The word/silence logic is app_amd's, frame by frame (a fact of its behaviour, rewritten):
 * the state starts "in word", in the initial silence, not in a greeting; a silent frame ends a
 * word once silence has lasted between_words_silence_ms, decides MACHINE/INITIALSILENCE while
 * still in the initial silence, HUMAN once after_greeting_silence_ms follow a greeting; a voice
 * frame counts a word when min_word_ms of voice follow silence, and decides MACHINE on
 * max_word_ms of voice in a row, on max_words words, or on greeting_ms of voice in all; the
 * analysis gives up (NOTSURE/TOOLONG) at total_analysis_ms.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/g711.h"
#include "ccboard/private/amd.h"

#define BB CC_AMD_BEEP_BLOCK
#define SUB 160

static const float DBM0_POWER = 22767.0f * 22767.0f / 2.0f;
static const double PI = 3.141592653589793;

void cc_amd_config_default(cc_amd_config_t *c)
{
    memset(c, 0, sizeof(*c));
    c->initial_silence_ms = 2500;
    c->greeting_ms = 1500;
    c->after_greeting_silence_ms = 800;
    c->total_analysis_ms = 5000;
    c->min_word_ms = 100;
    c->between_words_silence_ms = 50;
    c->max_words = 2;
    c->silence_threshold = 256;
    c->max_word_ms = 5000;
    c->frame_ms = 20;
    c->detect_beep = 1;
    c->beep_min_ms = 100;
    c->beep_min_hz = 400.0f;
    c->beep_max_hz = 2000.0f;
    c->beep_min_level_dbm0 = -40.0f;
    c->beep_purity_db = -10.0f;
    c->beep_max_wait_ms = 60000;
}

static int ms_ok(int32_t v) { return v >= 0 && v <= 600000; }

static int config_ok(const cc_amd_config_t *c)
{
    return ms_ok(c->initial_silence_ms) && ms_ok(c->greeting_ms) && ms_ok(c->after_greeting_silence_ms)
        && c->total_analysis_ms > 0 && ms_ok(c->total_analysis_ms) && ms_ok(c->min_word_ms)
        && ms_ok(c->between_words_silence_ms) && c->max_words >= 1 && c->max_words <= 255
        && c->silence_threshold >= 0 && c->silence_threshold <= 32767 && ms_ok(c->max_word_ms)
        && c->frame_ms >= 10 && c->frame_ms <= 40 && c->frame_ms % 5 == 0
        && (c->detect_beep == 0 || c->detect_beep == 1) && c->beep_min_ms >= 10 && c->beep_min_ms <= 10000
        && c->beep_min_hz >= 100.0f && c->beep_max_hz <= 3800.0f && c->beep_min_hz < c->beep_max_hz
        && c->beep_min_level_dbm0 >= -90.0f && c->beep_min_level_dbm0 <= 0.0f && c->beep_purity_db <= 0.0f
        && c->beep_purity_db >= -60.0f && ms_ok(c->beep_max_wait_ms);
}

cc_amd_t *cc_amd_init(cc_amd_t *s, const cc_amd_config_t *cfg, int32_t channel)
{
    cc_amd_config_t def;
    if (cfg == NULL) {
        cc_amd_config_default(&def);
        cfg = &def;
    }
    if (!config_ok(cfg))
        return NULL;
    if (s == NULL && (s = malloc(sizeof(*s))) == NULL)
        return NULL;
    memset(s, 0, sizeof(*s));
    s->magic = CC_AMD_MAGIC;
    s->channel = channel;
    s->cfg = *cfg;
    s->frame_len = cfg->frame_ms * (CC_SAMPLE_RATE / 1000);
    s->in_word = 1;
    s->in_initial_silence = 1;
    s->first_voice = -1;
    s->armed_at = -1;
    s->min_beep_power = DBM0_POWER * powf(10.0f, cfg->beep_min_level_dbm0 / 10.0f);
    s->purity = powf(10.0f, cfg->beep_purity_db / 10.0f);
    return s;
}

static int valid(const cc_amd_t *s) { return s != NULL && s->magic == CC_AMD_MAGIC; }

int cc_amd_reset(cc_amd_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    cc_amd_config_t cfg = s->cfg;
    cc_amd_init(s, &cfg, s->channel);
    return CC_OK;
}

int cc_amd_release(cc_amd_t *s) { return valid(s) ? CC_OK : CC_ERR_ARG; }

int cc_amd_free(cc_amd_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    s->magic = 0;
    free(s);
    return CC_OK;
}

size_t cc_amd_state_size(void) { return sizeof(cc_amd_t); }

int cc_amd_restore(cc_amd_t *s, const void *saved, size_t len)
{
    cc_amd_t t, fresh;
    if (s == NULL || saved == NULL)
        return CC_ERR_ARG;
    if (len != sizeof(t))
        return CC_ERR_STATE;
    memcpy(&t, saved, sizeof(t));
    if (t.magic != CC_AMD_MAGIC || !config_ok(&t.cfg) || t.t < 0
        || t.frame_len != t.cfg.frame_ms * (CC_SAMPLE_RATE / 1000) || t.frame_fill < 0
        || t.frame_fill >= t.frame_len || t.frame_abs < 0 || t.beep_fill < 0 || t.beep_fill >= BB
        || t.result < 0 || t.result > CC_AMD_NOTSURE || t.words < 0 || t.total_ms < 0 || t.voice_ms < 0
        || t.silence_ms < 0 || t.consecutive_voice_ms < 0 || t.beep_run < 0 || t.beep_miss < 0)
        return CC_ERR_STATE;
    for (int i = 0; i < BB; i++)
        if (!isfinite(t.beep_buf[i]) || !isfinite(t.beep_past[i]) || !isfinite(t.beep_past[BB + i]))
            return CC_ERR_STATE;
    for (int i = 0; i < 4; i++)
        if (!isfinite(t.prev_sums[i]))
            return CC_ERR_STATE;
    cc_amd_init(&fresh, &t.cfg, t.channel);
    t.min_beep_power = fresh.min_beep_power;
    t.purity = fresh.purity;
    *s = t;
    return CC_OK;
}

size_t cc_amd_max_events(size_t n) { return n / BB + 2; }
int cc_amd_result_of(const cc_amd_t *s) { return valid(s) ? s->result : 0; }
int64_t cc_amd_samples(const cc_amd_t *s) { return valid(s) ? s->t : 0; }

const char *cc_amd_result_name(int r)
{
    static const char *const names[] = {"", "HUMAN", "MACHINE", "NOTSURE"};
    return r >= 0 && r <= 3 ? names[r] : "?";
}

const char *cc_amd_cause_name(int c)
{
    static const char *const names[] = {"",           "INITIALSILENCE", "HUMAN", "LONGGREETING",
                                        "MAXWORDLENGTH", "MAXWORDS",     "TOOLONG"};
    return c >= 0 && c <= 6 ? names[c] : "?";
}

static void decide(cc_amd_t *s, int result, int cause, cc_amd_event_t *ev)
{
    memset(ev, 0, sizeof(*ev));
    s->result = result;
    ev->channel = s->channel;
    ev->kind = CC_AMD_EV_RESULT;
    ev->result = (uint8_t)result;
    ev->cause = (uint8_t)cause;
    ev->words = (uint8_t)(s->words > 255 ? 255 : s->words);
    ev->at = s->t;
    ev->start = s->first_voice;
    ev->total_ms = s->total_ms;
    ev->voice_ms = s->voice_ms;
    ev->silence_ms = s->silence_ms;
}

/* One complete frame (ending at s->t): app_amd's step. Returns events written (0 or 1). */
static int frame_end(cc_amd_t *s, cc_amd_event_t *ev)
{
    const cc_amd_config_t *c = &s->cfg;
    int fl = c->frame_ms;
    int silent = s->frame_abs < (int64_t)c->silence_threshold * s->frame_len;
    s->frame_abs = 0;
    if (s->result)
        return 0;
    s->total_ms += fl;
    if (s->total_ms >= c->total_analysis_ms) {
        decide(s, CC_AMD_NOTSURE, CC_AMD_CAUSE_TOOLONG, ev);
        return 1;
    }
    if (silent) {
        s->silence_ms += fl;
        if (s->silence_ms >= c->between_words_silence_ms) {
            s->in_word = 0;
            s->consecutive_voice_ms = 0;
        }
        if (s->in_initial_silence && s->silence_ms >= c->initial_silence_ms) {
            decide(s, CC_AMD_MACHINE, CC_AMD_CAUSE_INITIALSILENCE, ev);
            return 1;
        }
        if (s->in_greeting && s->silence_ms >= c->after_greeting_silence_ms) {
            decide(s, CC_AMD_HUMAN, CC_AMD_CAUSE_HUMAN, ev);
            return 1;
        }
        return 0;
    }
    if (s->first_voice < 0)
        s->first_voice = s->t - s->frame_len;
    s->consecutive_voice_ms += fl;
    s->voice_ms += fl;
    if (s->consecutive_voice_ms >= c->min_word_ms && !s->in_word) {
        s->words++;
        s->in_word = 1;
    }
    if (s->consecutive_voice_ms >= c->max_word_ms) {
        decide(s, CC_AMD_MACHINE, CC_AMD_CAUSE_MAXWORDLENGTH, ev);
        return 1;
    }
    if (s->words >= c->max_words) {
        decide(s, CC_AMD_MACHINE, CC_AMD_CAUSE_MAXWORDS, ev);
        return 1;
    }
    if (s->in_greeting && s->voice_ms >= c->greeting_ms) {
        decide(s, CC_AMD_MACHINE, CC_AMD_CAUSE_LONGGREETING, ev);
        return 1;
    }
    if (s->voice_ms >= c->min_word_ms && s->armed_at < 0)
        s->armed_at = s->t;
    if (s->consecutive_voice_ms >= c->min_word_ms && !s->in_greeting) {
        s->in_initial_silence = 0;
        s->in_greeting = 1;
    }
    /* a voice frame ends the silence run as the silence detector sees it */
    s->silence_ms = 0;
    return 0;
}

/* Predictor sums of the block at ext[2 .. BB+1] (ext[0], ext[1]: the two samples before it),
 * with u = x[n] + x[n-2], v = x[n-1]: uv, vv, uu, xx. */
CC_HOT static void beep_sums(const float *restrict ext, double *restrict out)
{
    float acc[4][8] = {{0}};
    for (int i = 0; i < BB; i += 8) {
        for (int j = 0; j < 8; j++) {
            float x = ext[i + j + 2], v = ext[i + j + 1], u = x + ext[i + j];
            acc[0][j] += u * v;
            acc[1][j] += v * v;
            acc[2][j] += u * u;
            acc[3][j] += x * x;
        }
    }
    for (int k = 0; k < 4; k++) {
        double t = 0.0;
        for (int j = 0; j < 8; j++)
            t += acc[k][j];
        out[k] = t;
    }
}

/* Onset of a tone (predictor coefficient a, power p) that fills the end of the 3 blocks in
 * ext[0 .. 3*BB): walking back in 8-sample windows (4-sample steps) while each window keeps a
 * quarter of the tone's power and the predictor leaves at most half of it. */
CC_COLD static int onset_in(const float *ext, double a, double p)
{
    const int n = 3 * BB, win = 20; /* one period at 400 Hz */
    int onset = n - BB;
    for (int end = n; end - win >= 2; end -= 4) {
        double xx = 0.0, rr = 0.0;
        for (int k = end - win; k < end; k++) {
            double r = ext[k] - a * ext[k - 1] + ext[k - 2];
            xx += (double)ext[k] * ext[k];
            rr += r * r;
        }
        if (xx < 0.25 * p * win || rr > 0.5 * xx)
            break;
        onset = end - win;
    }
    return onset;
}

static int beep_block(cc_amd_t *s, cc_amd_event_t *ev)
{
    const cc_amd_config_t *c = &s->cfg;
    float ext[3 * BB];
    memcpy(ext, s->beep_past, sizeof(s->beep_past));
    memcpy(ext + 2 * BB, s->beep_buf, sizeof(s->beep_buf));
    double cur[4], sums[4];
    beep_sums(ext + 2 * BB - 2, cur);
    /* the window is the last two blocks (10 ms), hopped by one (5 ms) */
    for (int k = 0; k < 4; k++)
        sums[k] = cur[k] + s->prev_sums[k];
    memcpy(s->prev_sums, cur, sizeof(cur));
    memmove(s->beep_past, s->beep_past + BB, BB * sizeof(float));
    memcpy(s->beep_past + BB, s->beep_buf, sizeof(s->beep_buf));

    double p = sums[3] / (2 * BB);
    int tonal = 0;
    double f = 0.0, a = 0.0;
    if (p >= s->min_beep_power && sums[1] > 0.0) {
        a = sums[0] / sums[1];
        double resid = sums[2] - sums[0] * a;
        if (a > -2.0 && a < 2.0 && resid <= s->purity * sums[3]) {
            /* noise in v inflates sum vv by N sigma^2 and pulls a towards 0; sigma^2 comes from
             * the residual, which white noise fills at (2 + a^2) sigma^2 per sample */
            double noise = resid / (2.0 + a * a);
            if (sums[1] > 2.0 * noise)
                a = sums[0] / (sums[1] - noise);
            if (a > -2.0 && a < 2.0) {
                f = acos(a / 2.0) * CC_SAMPLE_RATE / (2.0 * PI);
                tonal = f >= c->beep_min_hz && f <= c->beep_max_hz;
            }
        }
    }
    if (s->beep_run) {
        double mean = s->beep_fsum / s->beep_run, pmean = s->beep_psum / s->beep_run;
        /* steady: frequency within 1.5 % and power within 3 dB of the run's means */
        if (tonal && fabs(f - mean) <= fmax(0.015 * mean, 8.0) && p >= 0.5 * pmean
            && (s->beep_run < 2 || p <= 2.0 * pmean)) {
            s->beep_run++;
            s->beep_miss = 0;
            s->beep_fsum += f;
            s->beep_psum += p;
        } else if (tonal && s->beep_run == 1) {
            /* the run's first window may hold only part of the tone (and more noise): start
             * the means again from this one, keep the onset */
            s->beep_fsum = f;
            s->beep_psum = p;
            s->beep_miss = 0;
            return 0;
        } else if (++s->beep_miss > 1) {
            s->beep_run = 0; /* two windows off the tone in a row end the run */
        } else {
            return 0;        /* one is a drop-out: bridged */
        }
    }
    if (!s->beep_run) {
        if (!tonal)
            return 0;
        s->beep_run = 1;
        s->beep_miss = 0;
        s->beep_done = 0;
        s->beep_fsum = f;
        s->beep_psum = p;
        s->beep_start = s->t - 3 * BB + onset_in(ext, a, p);
        s->beep_eligible = s->armed_at >= 0 && s->beep_start >= s->armed_at;
    }
    if (s->beep_run >= 2 && !s->beep_done && s->beep_eligible
        && s->t - s->beep_start >= (int64_t)c->beep_min_ms * (CC_SAMPLE_RATE / 1000)) {
        s->beep_done = 1;
        memset(ev, 0, sizeof(*ev));
        ev->channel = s->channel;
        ev->kind = CC_AMD_EV_BEEP;
        ev->result = (uint8_t)s->result;
        ev->words = (uint8_t)(s->words > 255 ? 255 : s->words);
        ev->at = s->t;
        ev->start = s->beep_start;
        ev->total_ms = s->total_ms;
        ev->voice_ms = s->voice_ms;
        ev->silence_ms = s->silence_ms;
        ev->freq_hz = (float)(s->beep_fsum / s->beep_run);
        ev->level_dbm0 = (float)(10.0 * log10(s->beep_psum / s->beep_run / DBM0_POWER));
        return 1;
    }
    return 0;
}

CC_HOT static int64_t abs_sum(const int16_t *restrict x, size_t n)
{
    int32_t acc = 0; /* n <= SUB: 160 * 32768 fits */
    for (size_t i = 0; i < n; i++)
        acc += x[i] < 0 ? -(int32_t)x[i] : x[i];
    return acc;
}

static int feed(cc_amd_t *s, cc_law law, const void *x, size_t n, cc_amd_event_t *ev)
{
    int16_t tmp[SUB];
    size_t size = law == CC_LAW_LINEAR ? 2 : 1;
    int nev = 0;
    int64_t beep_until = (int64_t)s->cfg.beep_max_wait_ms * (CC_SAMPLE_RATE / 1000);
    size_t i = 0;
    while (i < n) {
        size_t take = n - i < SUB ? n - i : SUB;
        /* stop at the frame end and at the beep block end */
        if (take > (size_t)(s->frame_len - s->frame_fill))
            take = (size_t)(s->frame_len - s->frame_fill);
        if (take > (size_t)(BB - s->beep_fill))
            take = (size_t)(BB - s->beep_fill);
        const int16_t *src = (const int16_t *)((const char *)x + i * size);
        if (law == CC_LAW_ALAW) {
            cc_g711_alaw_decode(tmp, (const uint8_t *)x + i, take);
            src = tmp;
        } else if (law == CC_LAW_ULAW) {
            cc_g711_ulaw_decode(tmp, (const uint8_t *)x + i, take);
            src = tmp;
        }
        s->frame_abs += abs_sum(src, take);
        for (size_t k = 0; k < take; k++)
            s->beep_buf[s->beep_fill + (int)k] = (float)src[k];
        s->frame_fill += (int32_t)take;
        s->beep_fill += (int32_t)take;
        s->t += (int64_t)take;
        i += take;
        if (s->frame_fill == s->frame_len) {
            s->frame_fill = 0;
            nev += frame_end(s, ev + nev);
        }
        if (s->beep_fill == BB) {
            s->beep_fill = 0;
            if (s->cfg.detect_beep && s->t <= beep_until)
                nev += beep_block(s, ev + nev);
        }
    }
    return nev;
}

static int law_ok(cc_law law) { return law == CC_LAW_LINEAR || law == CC_LAW_ALAW || law == CC_LAW_ULAW; }

int cc_amd_process(cc_amd_t *s, cc_law law, const void *x, size_t n, cc_amd_event_t *ev, size_t max_ev)
{
    if (!valid(s) || !law_ok(law) || (n > 0 && x == NULL) || ev == NULL || n > (size_t)INT32_MAX)
        return CC_ERR_ARG;
    if (max_ev < cc_amd_max_events(n))
        return CC_ERR_SPACE;
    return feed(s, law, x, n, ev);
}

int cc_amd_process_batch(cc_amd_t *const *s, size_t nch, cc_law law, const void *x, size_t stride, size_t n,
                         cc_amd_event_t *ev, size_t max_ev)
{
    if (s == NULL || !law_ok(law) || (n > 0 && nch > 0 && x == NULL) || ev == NULL || n > (size_t)INT32_MAX)
        return CC_ERR_ARG;
    for (size_t c = 0; c < nch; c++)
        if (!valid(s[c]))
            return CC_ERR_ARG;
    if (nch > 0 && max_ev / nch < cc_amd_max_events(n))
        return CC_ERR_SPACE;
    size_t size = law == CC_LAW_LINEAR ? sizeof(int16_t) : sizeof(uint8_t);
    int nev = 0;
    for (size_t c = 0; c < nch; c++)
        nev += feed(s[c], law, (const char *)x + c * stride * size, n, ev + nev);
    return nev;
}
