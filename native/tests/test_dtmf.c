/*
 * DTMF receiver and generator (native/include/ccboard/dtmf.h), run under ASan+UBSan.
 *
 * The generator's digits are found with the right digit, start and end; every split of the
 * input into blocks (1, 8, 80, 160 samples, random sizes) gives the same events, on int16 and
 * on G.711 octets; a batch over several channels gives what single receivers give; the error
 * paths (NULL, CC_ERR_SPACE with nothing consumed, a bad digit with nothing queued), caller
 * memory and heap init/free, reset and copying the state are checked.
 * Prints "N passed, N failed"; exits non-zero if any check failed.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/dtmf.h"
#include "ccboard/g711.h"

#include "check.h"

#define MS 8 /* samples per millisecond */

/* xorshift32: the tests' only randomness, seeded per test so every run is the same. */
static uint32_t rng_state;
static uint32_t rng(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}
static int rng_range(int lo, int hi) { return lo + (int)(rng() % (uint32_t)(hi - lo + 1)); }

/* ---- growing event list ---- */

typedef struct {
    cc_dtmf_event_t *ev;
    size_t n, cap;
} evlist_t;

static cc_dtmf_event_t *evlist_room(evlist_t *l, size_t more)
{
    if (l->n + more > l->cap) {
        size_t cap = l->cap ? l->cap : 64;
        while (cap < l->n + more)
            cap *= 2;
        cc_dtmf_event_t *p = realloc(l->ev, cap * sizeof *p);
        if (!p) {
            fputs("out of memory\n", stderr);
            exit(2);
        }
        l->ev = p;
        l->cap = cap;
    }
    return l->ev + l->n;
}

static void evlist_free(evlist_t *l)
{
    free(l->ev);
    memset(l, 0, sizeof *l);
}

static int same_event(const cc_dtmf_event_t *a, const cc_dtmf_event_t *b)
{
    return a->channel == b->channel && a->digit == b->digit && a->kind == b->kind && a->start == b->start
           && a->end == b->end && a->at == b->at && a->level_low == b->level_low
           && a->level_high == b->level_high;
}

static int same_events(const evlist_t *a, const evlist_t *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (!same_event(&a->ev[i], &b->ev[i]))
            return 0;
    return 1;
}

static void print_events(const char *label, const evlist_t *l)
{
    printf("  %s: %zu events\n", label, l->n);
    for (size_t i = 0; i < l->n && i < 40; i++) {
        const cc_dtmf_event_t *e = &l->ev[i];
        printf("    ch %d %c %s start %lld end %lld at %lld %.2f/%.2f dBm0\n", e->channel, e->digit,
               e->kind == CC_DTMF_ON ? "ON " : "OFF", (long long)e->start, (long long)e->end,
               (long long)e->at, e->level_low, e->level_high);
    }
}

/* ---- signals ---- */

typedef struct {
    int16_t *x;
    size_t n;
    size_t ndig;
    char digits[64];
    int64_t start[64], end[64]; /* true tone bounds, samples */
} signal_t;

/* lead samples of silence, digits with per-digit timing from on_ms/off_ms (or random human
 * timing when on_ms == 0), 300 ms of silence, and white noise of peak noise_peak added. */
static void make_signal(signal_t *sig, const char *digits, size_t lead, int on_ms, int off_ms, float lo_dbm0,
                        float hi_dbm0, int noise_peak)
{
    memset(sig, 0, sizeof *sig);
    sig->ndig = strlen(digits);
    int on[64], off[64];
    size_t total = lead;
    for (size_t i = 0; i < sig->ndig; i++) {
        on[i] = on_ms ? on_ms : rng_range(60, 150);
        off[i] = on_ms ? off_ms : rng_range(80, 400);
        sig->digits[i] = digits[i];
        sig->start[i] = (int64_t)total;
        sig->end[i] = (int64_t)total + on[i] * MS;
        total += (size_t)(on[i] + off[i]) * MS;
    }
    size_t busy = total - lead;
    sig->n = total + 300 * MS;
    sig->x = calloc(sig->n, sizeof *sig->x);

    cc_dtmf_tx_t *tx = cc_dtmf_tx_init(NULL, NULL);
    check(tx != NULL, "tx init(NULL)");
    for (size_t i = 0; i < sig->ndig; i++) {
        cc_dtmf_tx_config_t cfg = {lo_dbm0, hi_dbm0, on[i], off[i]};
        int rc = cc_dtmf_tx_put(tx, &digits[i], 1, &cfg);
        check(rc == 1, "tx_put '%c' returned %d", digits[i], rc);
    }
    size_t got = cc_dtmf_tx_generate(tx, sig->x + lead, sig->n - lead);
    check(got == busy, "tx_generate: %zu samples before idle, expected %zu", got, busy);
    check(cc_dtmf_tx_pending(tx) == 0, "tx pending after the queue played out");
    check(cc_dtmf_tx_free(tx) == CC_OK, "tx free");

    for (size_t i = 0; noise_peak && i < sig->n; i++) {
        int v = sig->x[i] + rng_range(-noise_peak, noise_peak);
        sig->x[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
    }
}

static void signal_free(signal_t *sig) { free(sig->x); }

/* Feed x (n samples of law) in chunks: chunk > 0 fixed, 0 random 1..400. */
static int feed(cc_dtmf_rx_t *s, cc_law law, const void *x, size_t n, size_t chunk, evlist_t *out)
{
    size_t width = law == CC_LAW_LINEAR ? 2 : 1;
    for (size_t pos = 0; pos < n;) {
        size_t c = chunk ? chunk : (size_t)rng_range(1, 400);
        if (c > n - pos)
            c = n - pos;
        size_t max = cc_dtmf_rx_max_events(c);
        cc_dtmf_event_t *ev = evlist_room(out, max);
        int rc = cc_dtmf_rx_process(s, law, (const char *)x + pos * width, c, ev, max);
        if (rc < 0)
            return rc;
        out->n += (size_t)rc;
        pos += c;
    }
    return 0;
}

static void run_single(cc_law law, const void *x, size_t n, size_t chunk, int32_t channel, evlist_t *out)
{
    cc_dtmf_rx_t *s = cc_dtmf_rx_init(NULL, NULL, channel);
    check(s != NULL, "rx init(NULL)");
    int rc = feed(s, law, x, n, chunk, out);
    check(rc == 0, "rx_process returned %d (%s)", rc, cc_strerror(rc));
    check(cc_dtmf_rx_samples(s) == (int64_t)n, "rx samples %lld, fed %zu", (long long)cc_dtmf_rx_samples(s), n);
    cc_dtmf_rx_free(s);
}

/* Events are ON/OFF pairs, one per true tone, with the right digit, bounds and levels. */
static void check_detection(const char *label, const signal_t *sig, const evlist_t *l, float lo_dbm0,
                            float hi_dbm0, float level_tol_db)
{
    check(l->n == 2 * sig->ndig, "%s: %zu events for %zu digits", label, l->n, sig->ndig);
    for (size_t i = 0; i < sig->ndig && 2 * i + 1 < l->n; i++) {
        const cc_dtmf_event_t *on = &l->ev[2 * i], *off = &l->ev[2 * i + 1];
        int64_t ts = sig->start[i], te = sig->end[i];
        check(on->kind == CC_DTMF_ON && off->kind == CC_DTMF_OFF, "%s #%zu: kinds %d,%d", label, i, on->kind,
              off->kind);
        check(on->digit == (uint8_t)sig->digits[i] && off->digit == (uint8_t)sig->digits[i],
              "%s #%zu: digit %c/%c, sent %c", label, i, on->digit, off->digit, sig->digits[i]);
        check(llabs(on->start - ts) <= CC_DTMF_BLOCK, "%s #%zu: ON start %lld, tone began %lld", label, i,
              (long long)on->start, (long long)ts);
        check(on->end == -1, "%s #%zu: ON end %lld, expected -1", label, i, (long long)on->end);
        /* Reported while the tone still sounds (barge-in), after it began. */
        check(on->at > ts && on->at <= te, "%s #%zu: ON at %lld outside the tone [%lld, %lld)", label, i,
              (long long)on->at, (long long)ts, (long long)te);
        check(off->start == on->start, "%s #%zu: OFF start %lld != ON start %lld", label, i,
              (long long)off->start, (long long)on->start);
        check(llabs(off->end - te) <= CC_DTMF_BLOCK, "%s #%zu: OFF end %lld, tone ended %lld", label, i,
              (long long)off->end, (long long)te);
        check(off->at >= off->end && off->at <= te + 50 * MS, "%s #%zu: OFF at %lld, tone ended %lld", label,
              i, (long long)off->at, (long long)te);
        check(on->channel == off->channel, "%s #%zu: channel", label, i);
        check(fabsf(on->level_low - lo_dbm0) <= level_tol_db && fabsf(on->level_high - hi_dbm0) <= level_tol_db,
              "%s #%zu: levels %.2f/%.2f dBm0, sent %.2f/%.2f", label, i, on->level_low, on->level_high,
              lo_dbm0, hi_dbm0);
    }
    if (l->n != 2 * sig->ndig)
        print_events(label, l);
}

/* ---- tests ---- */

static void test_init_free(void)
{
    cc_dtmf_rx_config_t cfg;
    cc_dtmf_rx_config_default(&cfg);
    check(cfg.min_level_dbm0 == -40.0f && cfg.normal_twist_db == 9.0f && cfg.reverse_twist_db == 5.0f
              && cfg.freq_tolerance_pct == 2.3f && cfg.min_tone_fraction_db == -1.0f,
          "rx config defaults as documented");

    cc_dtmf_rx_t *s = cc_dtmf_rx_init(NULL, &cfg, 7);
    check(s != NULL, "rx init(NULL, cfg)");
    check(cc_dtmf_rx_samples(s) == 0 && cc_dtmf_rx_current(s) == 0, "fresh rx: 0 samples, no digit");
    check(cc_dtmf_rx_release(s) == CC_OK, "rx release");
    check(cc_dtmf_rx_free(s) == CC_OK, "rx free");

    size_t size = cc_dtmf_rx_state_size();
    check(size > 0, "rx state size %zu", size);
    void *mem = malloc(size);
    check(cc_dtmf_rx_init(mem, NULL, 3) == mem, "rx init on caller memory returns it");
    check(cc_dtmf_rx_release(mem) == CC_OK, "rx release (caller memory)");
    free(mem);

    cc_dtmf_rx_config_t bad = cfg;
    bad.freq_tolerance_pct = -1.0f;
    check(cc_dtmf_rx_init(NULL, &bad, 0) == NULL, "rx init refuses a negative frequency tolerance");

    cc_dtmf_tx_config_t tcfg;
    cc_dtmf_tx_config_default(&tcfg);
    check(tcfg.level_low_dbm0 == -10.0f && tcfg.level_high_dbm0 == -10.0f && tcfg.on_ms == 50
              && tcfg.off_ms == 55,
          "tx config defaults as documented");
    cc_dtmf_tx_t *t = cc_dtmf_tx_init(NULL, NULL);
    check(t != NULL && cc_dtmf_tx_pending(t) == 0, "tx init(NULL): nothing pending");
    check(cc_dtmf_tx_free(t) == CC_OK, "tx free");
    void *tmem = malloc(cc_dtmf_tx_state_size());
    check(cc_dtmf_tx_init(tmem, &tcfg) == tmem, "tx init on caller memory returns it");
    check(cc_dtmf_tx_release(tmem) == CC_OK, "tx release (caller memory)");
    free(tmem);

    check(cc_strerror(CC_ERR_SPACE) != NULL && strcmp(cc_strerror(CC_ERR_SPACE), cc_strerror(CC_ERR_ARG)) != 0,
          "cc_strerror names codes apart");
}

static void test_detect(void)
{
    static const struct {
        const char *label;
        const char *digits;
        size_t lead;
        int on_ms, off_ms;
        float lo, hi;
        int noise_peak;
    } cases[] = {
        {"all 16, 50/55 ms, -10/-10", "123A456B789C*0#D", 37, 50, 55, -10.0f, -10.0f, 0},
        {"40/40 ms (shortest), -7/-9", "9081726354", 5, 40, 40, -7.0f, -9.0f, 0},
        {"human timing, -24/-21, noise", "5551234#", 411, 0, 0, -24.0f, -21.0f, 60},
        {"low group louder by 6 dB", "#D*0", 80, 70, 90, -12.0f, -18.0f, 0},
    };
    rng_state = 0x1234567u;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        signal_t sig;
        make_signal(&sig, cases[k].digits, cases[k].lead, cases[k].on_ms, cases[k].off_ms, cases[k].lo,
                    cases[k].hi, cases[k].noise_peak);
        evlist_t l = {0};
        run_single(CC_LAW_LINEAR, sig.x, sig.n, 80, 11, &l);
        check_detection(cases[k].label, &sig, &l, cases[k].lo, cases[k].hi, 1.0f);
        for (size_t i = 0; i < l.n; i++)
            check(l.ev[i].channel == 11, "%s: channel id %d, expected 11", cases[k].label, l.ev[i].channel);

        /* The same digits coded as A-law and mu-law octets. */
        uint8_t *a = malloc(sig.n), *u = malloc(sig.n);
        cc_g711_alaw_encode(a, sig.x, sig.n);
        cc_g711_ulaw_encode(u, sig.x, sig.n);
        evlist_t la = {0}, lu = {0};
        run_single(CC_LAW_ALAW, a, sig.n, 160, 0, &la);
        run_single(CC_LAW_ULAW, u, sig.n, 160, 0, &lu);
        char label[96];
        snprintf(label, sizeof label, "%s (A-law)", cases[k].label);
        check_detection(label, &sig, &la, cases[k].lo, cases[k].hi, 1.0f);
        snprintf(label, sizeof label, "%s (mu-law)", cases[k].label);
        check_detection(label, &sig, &lu, cases[k].lo, cases[k].hi, 1.0f);
        free(a);
        free(u);
        evlist_free(&l);
        evlist_free(&la);
        evlist_free(&lu);
        signal_free(&sig);
    }
}

static void test_current(void)
{
    signal_t sig;
    make_signal(&sig, "7#", 100, 100, 100, -10.0f, -10.0f, 0);
    cc_dtmf_rx_t *s = cc_dtmf_rx_init(NULL, NULL, 0);
    evlist_t l = {0};
    size_t mid = (size_t)sig.end[0] - 8; /* the tone's last millisecond: ON already decided */
    feed(s, CC_LAW_LINEAR, sig.x, mid, 8, &l);
    check(cc_dtmf_rx_current(s) == '7', "current during '7' is '%c'", cc_dtmf_rx_current(s));
    check(cc_dtmf_rx_samples(s) == (int64_t)mid, "samples during the tone");
    feed(s, CC_LAW_LINEAR, sig.x + mid, sig.n - mid, 8, &l);
    check(cc_dtmf_rx_current(s) == 0, "current after the last digit is none");
    check(l.n == 4, "two digits, four events (got %zu)", l.n);
    cc_dtmf_rx_free(s);
    evlist_free(&l);
    signal_free(&sig);
}

static void test_durations(void)
{
    rng_state = 77;
    signal_t sig;
    /* Too short to be a digit: ~20 ms tones (under the ~25 ms the detector can see). */
    make_signal(&sig, "1234567890", 13, 20, 60, -10.0f, -10.0f, 0);
    evlist_t l = {0};
    run_single(CC_LAW_LINEAR, sig.x, sig.n, 8, 0, &l);
    check(l.n == 0, "20 ms tones: %zu events, expected none", l.n);
    if (l.n)
        print_events("20 ms tones", &l);
    evlist_free(&l);
    signal_free(&sig);

    /* White noise alone, peak 6000 (about -14 dBm0), 10 s: no digits. */
    size_t n = 10 * 8000;
    int16_t *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = (int16_t)rng_range(-6000, 6000);
    run_single(CC_LAW_LINEAR, x, n, 80, 0, &l);
    check(l.n == 0, "white noise: %zu events, expected none", l.n);
    evlist_free(&l);
    free(x);
}

static void test_chunking(void)
{
    rng_state = 0xC0FFEEu;
    signal_t sig;
    make_signal(&sig, "0123456789*#ABCD", 123, 0, 0, -15.0f, -13.0f, 200);
    uint8_t *a = malloc(sig.n);
    cc_g711_alaw_encode(a, sig.x, sig.n);
    static const size_t chunks[] = {1, 8, 80, 160, 0, 0, 0};
    static const cc_law laws[] = {CC_LAW_LINEAR, CC_LAW_ALAW};
    for (size_t li = 0; li < 2; li++) {
        const void *x = laws[li] == CC_LAW_LINEAR ? (const void *)sig.x : (const void *)a;
        evlist_t ref = {0};
        run_single(laws[li], x, sig.n, sig.n, 0, &ref);
        check(ref.n == 2 * sig.ndig, "chunking reference (law %d): %zu events for %zu digits", laws[li], ref.n,
              sig.ndig);
        for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
            evlist_t l = {0};
            run_single(laws[li], x, sig.n, chunks[k], 0, &l);
            check(same_events(&ref, &l), "law %d: chunks of %zu give the one-shot events", laws[li], chunks[k]);
            if (!same_events(&ref, &l)) {
                print_events("one shot", &ref);
                print_events("chunked", &l);
            }
            evlist_free(&l);
        }
        evlist_free(&ref);
    }
    free(a);
    signal_free(&sig);

    /* The generator is exact to the sample: any output split gives the same samples. */
    cc_dtmf_tx_t *t1 = cc_dtmf_tx_init(NULL, NULL), *t2 = cc_dtmf_tx_init(NULL, NULL);
    cc_dtmf_tx_put(t1, "159#", 4, NULL);
    cc_dtmf_tx_put(t2, "159#", 4, NULL);
    size_t n = 4 * 105 * MS + 100;
    int16_t *y1 = malloc(n * sizeof *y1), *y2 = malloc(n * sizeof *y2);
    cc_dtmf_tx_generate(t1, y1, n);
    for (size_t pos = 0; pos < n;) {
        size_t c = (size_t)rng_range(1, 97);
        if (c > n - pos)
            c = n - pos;
        cc_dtmf_tx_generate(t2, y2 + pos, c);
        pos += c;
    }
    check(memcmp(y1, y2, n * sizeof *y1) == 0, "tx: random output blocks give the one-shot samples");
    int loud = 0;
    for (size_t i = 0; i < 50 * MS; i++)
        loud |= abs(y1[i]) > 1000;
    check(loud, "tx: the first digit sounds at once");
    free(y1);
    free(y2);
    cc_dtmf_tx_free(t1);
    cc_dtmf_tx_free(t2);
}

#define NCH 6

static void test_batch(void)
{
    rng_state = 4242;
    static const char *const digits[NCH] = {"1234", "#*0", "ABCD9", "", "8", "5656"};
    signal_t sig[NCH];
    size_t n = 0;
    for (int c = 0; c < NCH; c++) {
        make_signal(&sig[c], digits[c], (size_t)rng_range(0, 500), 0, 0, -8.0f - (float)c, -9.0f - (float)c, 100);
        if (sig[c].n > n)
            n = sig[c].n;
    }
    n -= n % 8;
    size_t stride = n + 5; /* rows not packed: the stride is honoured */
    int16_t *x = calloc(NCH * stride, sizeof *x);
    uint8_t *a = calloc(NCH * stride, 1);
    for (int c = 0; c < NCH; c++) {
        memcpy(x + c * stride, sig[c].x, (sig[c].n < n ? sig[c].n : n) * sizeof *x);
        cc_g711_alaw_encode(a + c * stride, x + c * stride, n);
    }

    for (int li = 0; li < 2; li++) {
        cc_law law = li ? CC_LAW_ALAW : CC_LAW_LINEAR;
        size_t width = li ? 1 : 2;
        const char *base = li ? (const char *)a : (const char *)x;
        cc_dtmf_rx_t *s[NCH];
        for (int c = 0; c < NCH; c++)
            s[c] = cc_dtmf_rx_init(NULL, NULL, 100 + c);
        evlist_t per[NCH];
        memset(per, 0, sizeof per);
        size_t max = NCH * cc_dtmf_rx_max_events(8);
        cc_dtmf_event_t *ev = malloc(max * sizeof *ev);
        int ordered = 1, bad_rc = 0;
        /* 1 ms ticks, as DAHDI hands them over. */
        for (size_t pos = 0; pos < n; pos += 8) {
            int rc = cc_dtmf_rx_process_batch(s, NCH, law, base + pos * width, stride, 8, ev, max);
            if (rc < 0) {
                bad_rc = rc;
                break;
            }
            for (int i = 0; i < rc; i++) {
                int c = ev[i].channel - 100;
                if (c < 0 || c >= NCH || (i && ev[i].channel < ev[i - 1].channel)) {
                    ordered = 0;
                    continue;
                }
                *evlist_room(&per[c], 1) = ev[i];
                per[c].n++;
            }
        }
        check(bad_rc == 0, "batch (law %d) returned %d", law, bad_rc);
        check(ordered, "batch (law %d): events carry the channel ids, in channel order", law);
        size_t total = 0;
        for (int c = 0; c < NCH; c++) {
            evlist_t one = {0};
            run_single(law, base + c * stride * width, n, 0, 100 + c, &one);
            check(same_events(&one, &per[c]), "batch (law %d) channel %d == single receiver", law, c);
            check(one.n == 2 * strlen(digits[c]), "law %d channel %d: %zu events for \"%s\"", law, c, one.n,
                  digits[c]);
            check(cc_dtmf_rx_samples(s[c]) == (int64_t)n, "batch advanced channel %d by n", c);
            total += per[c].n;
            evlist_free(&one);
            evlist_free(&per[c]);
            cc_dtmf_rx_free(s[c]);
        }
        check(total == 2 * 17, "batch (law %d): %zu events in all, expected 34", law, total);
        free(ev);
    }
    free(x);
    free(a);
    for (int c = 0; c < NCH; c++)
        signal_free(&sig[c]);
}

static void test_errors(void)
{
    signal_t sig;
    make_signal(&sig, "12", 0, 60, 60, -10.0f, -10.0f, 0);
    cc_dtmf_rx_t *s = cc_dtmf_rx_init(NULL, NULL, 0);
    size_t max = cc_dtmf_rx_max_events(sig.n);
    cc_dtmf_event_t *ev = malloc((max + 1) * sizeof *ev);

    check(cc_dtmf_rx_process(NULL, CC_LAW_LINEAR, sig.x, 80, ev, max) == CC_ERR_ARG, "process(NULL state)");
    check(cc_dtmf_rx_process(s, CC_LAW_LINEAR, NULL, 80, ev, max) == CC_ERR_ARG, "process(NULL x)");
    check(cc_dtmf_rx_process(s, CC_LAW_LINEAR, sig.x, 80, NULL, max) == CC_ERR_ARG, "process(NULL events)");
    check(cc_dtmf_rx_process(s, (cc_law)9, sig.x, 80, ev, max) == CC_ERR_ARG, "process(law 9)");
    check(cc_dtmf_rx_reset(NULL) == CC_ERR_ARG, "reset(NULL)");
    check(cc_dtmf_rx_samples(s) == 0, "refused calls consumed nothing");

    /* Too little room: refused whole, nothing consumed, for small and large n. */
    static const size_t ns[] = {1, 8, 80, 4000};
    for (size_t k = 0; k < 4; k++) {
        size_t need = cc_dtmf_rx_max_events(ns[k]);
        check(need >= 1, "max_events(%zu) = %zu", ns[k], need);
        if (need >= 1)
            check(cc_dtmf_rx_process(s, CC_LAW_LINEAR, sig.x, ns[k], ev, need - 1) == CC_ERR_SPACE,
                  "max_ev %zu < max_events(%zu): CC_ERR_SPACE", need - 1, ns[k]);
    }
    check(cc_dtmf_rx_samples(s) == 0 && cc_dtmf_rx_current(s) == 0, "CC_ERR_SPACE consumed nothing");
    evlist_t after = {0}, ref = {0};
    feed(s, CC_LAW_LINEAR, sig.x, sig.n, 8, &after);
    run_single(CC_LAW_LINEAR, sig.x, sig.n, 8, 0, &ref);
    check(ref.n == 4 && same_events(&ref, &after), "after the refused calls the events are as fresh");

    /* Batch: NULL, a NULL state in the array, too little room. */
    cc_dtmf_rx_t *b[3] = {cc_dtmf_rx_init(NULL, NULL, 0), cc_dtmf_rx_init(NULL, NULL, 1),
                          cc_dtmf_rx_init(NULL, NULL, 2)};
    cc_dtmf_rx_t *holey[3] = {b[0], NULL, b[2]};
    size_t bmax = 3 * cc_dtmf_rx_max_events(800);
    cc_dtmf_event_t *bev = malloc(bmax * sizeof *bev);
    check(cc_dtmf_rx_process_batch(NULL, 3, CC_LAW_LINEAR, sig.x, 800, 800, bev, bmax) == CC_ERR_ARG,
          "batch(NULL states)");
    check(cc_dtmf_rx_process_batch(holey, 3, CC_LAW_LINEAR, sig.x, 800, 800, bev, bmax) == CC_ERR_ARG,
          "batch with a NULL state");
    check(cc_dtmf_rx_process_batch(b, 3, CC_LAW_LINEAR, NULL, 800, 800, bev, bmax) == CC_ERR_ARG,
          "batch(NULL x)");
    check(cc_dtmf_rx_process_batch(b, 3, CC_LAW_LINEAR, sig.x, 800, 800, bev, bmax - 1) == CC_ERR_SPACE,
          "batch: max_ev one short gives CC_ERR_SPACE");
    check(cc_dtmf_rx_samples(b[0]) == 0 && cc_dtmf_rx_samples(b[1]) == 0 && cc_dtmf_rx_samples(b[2]) == 0,
          "batch refusals consumed nothing on any channel");
    check(cc_dtmf_rx_process_batch(b, 3, CC_LAW_LINEAR, sig.x, 800, 800, bev, bmax) >= 0, "batch with room");
    check(cc_dtmf_rx_samples(b[2]) == 800, "batch advanced every channel");
    for (int c = 0; c < 3; c++)
        cc_dtmf_rx_free(b[c]);
    free(bev);

    /* Generator: nothing is queued when the call is refused. */
    cc_dtmf_tx_t *t = cc_dtmf_tx_init(NULL, NULL);
    check(cc_dtmf_tx_put(t, "12X4", 4, NULL) == CC_ERR_ARG, "tx_put with 'X'");
    check(cc_dtmf_tx_pending(t) == 0, "bad digit: nothing queued");
    check(cc_dtmf_tx_put(NULL, "1", 1, NULL) == CC_ERR_ARG, "tx_put(NULL state)");
    check(cc_dtmf_tx_put(t, NULL, 1, NULL) == CC_ERR_ARG, "tx_put(NULL digits)");
    cc_dtmf_tx_config_t neg = {-10.0f, -10.0f, -5, 50};
    check(cc_dtmf_tx_put(t, "1", 1, &neg) == CC_ERR_ARG, "tx_put with on_ms -5");
    char many[CC_DTMF_TX_QUEUE + 1];
    memset(many, '5', sizeof many);
    check(cc_dtmf_tx_put(t, many, sizeof many, NULL) == CC_ERR_SPACE, "tx_put over the queue: CC_ERR_SPACE");
    check(cc_dtmf_tx_pending(t) == 0, "queue overflow: nothing queued");
    check(cc_dtmf_tx_put(t, many, CC_DTMF_TX_QUEUE, NULL) == CC_DTMF_TX_QUEUE, "a full queue fits");
    check(cc_dtmf_tx_put(t, "1", 1, NULL) == CC_ERR_SPACE, "one more does not");
    check(cc_dtmf_tx_pending(t) == CC_DTMF_TX_QUEUE, "pending == queue size");
    check(cc_dtmf_tx_reset(t) == CC_OK && cc_dtmf_tx_pending(t) == 0, "tx reset empties the queue");
    int16_t y[200];
    memset(y, 0x55, sizeof y);
    check(cc_dtmf_tx_generate(t, y, 200) == 0, "idle tx writes 0 busy samples");
    int silent = 1;
    for (int i = 0; i < 200; i++)
        silent &= y[i] == 0;
    check(silent, "idle tx writes silence");
    cc_dtmf_tx_free(t);

    free(ev);
    evlist_free(&after);
    evlist_free(&ref);
    cc_dtmf_rx_free(s);
    signal_free(&sig);
}

static void test_reset_and_copy(void)
{
    rng_state = 99;
    signal_t sig;
    make_signal(&sig, "3141592653", 50, 0, 0, -11.0f, -10.0f, 150);
    evlist_t ref = {0};
    run_single(CC_LAW_LINEAR, sig.x, sig.n, 80, 5, &ref);
    check(ref.n == 20, "reset/copy reference: %zu events", ref.n);

    /* Reset in the middle of a tone: afterwards it behaves as fresh. */
    cc_dtmf_rx_t *s = cc_dtmf_rx_init(NULL, NULL, 5);
    evlist_t junk = {0}, l = {0};
    feed(s, CC_LAW_LINEAR, sig.x, (size_t)sig.end[3] - 40, 8, &junk);
    check(cc_dtmf_rx_current(s) != 0, "mid-tone before reset");
    check(cc_dtmf_rx_reset(s) == CC_OK, "reset");
    check(cc_dtmf_rx_samples(s) == 0 && cc_dtmf_rx_current(s) == 0, "after reset: 0 samples, no digit");
    feed(s, CC_LAW_LINEAR, sig.x, sig.n, 8, &l);
    check(same_events(&ref, &l), "after reset the events are as fresh");

    /* The state holds no pointers: a byte copy taken mid-tone goes on identically. */
    cc_dtmf_rx_reset(s);
    evlist_t l1 = {0}, l2 = {0};
    size_t cut = (size_t)sig.start[5] + 100;
    feed(s, CC_LAW_LINEAR, sig.x, cut, 80, &l1);
    void *copy = malloc(cc_dtmf_rx_state_size());
    memcpy(copy, s, cc_dtmf_rx_state_size());
    for (size_t i = 0; i < l1.n; i++)
        *evlist_room(&l2, 1) = l1.ev[i], l2.n++;
    feed(s, CC_LAW_LINEAR, sig.x + cut, sig.n - cut, 80, &l1);
    feed(copy, CC_LAW_LINEAR, sig.x + cut, sig.n - cut, 80, &l2);
    check(same_events(&l1, &l2) && same_events(&ref, &l1), "a copied state goes on identically");
    free(copy);
    cc_dtmf_rx_free(s);
    evlist_free(&ref);
    evlist_free(&junk);
    evlist_free(&l);
    evlist_free(&l1);
    evlist_free(&l2);
    signal_free(&sig);
}

int main(void)
{
    test_init_free();
    test_detect();
    test_current();
    test_durations();
    test_chunking();
    test_batch();
    test_errors();
    test_reset_and_copy();
    return report();
}
