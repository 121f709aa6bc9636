/*
 * MF R1 / MFC-R2 receiver and generator (native/include/ccboard/mf.h), run under ASan+UBSan.
 *
 * In each mode the generator's signals (R2: started and stopped on command; R1: queued) are found
 * with the right signal, start and end; every split of the input into blocks (1, 8, 80, 160,
 * random sizes) gives the same events, on int16 and on A-law; a batch over several channels gives
 * what single receivers give; state save/restore continues identically; error paths (NULL,
 * CC_ERR_SPACE with nothing consumed, bad symbols, bad states) are checked.
 * Prints "N passed, N failed"; exits non-zero if any check failed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/g711.h"
#include "ccboard/private/mf.h" /* caller memory: the test embeds states */

#include "check.h"

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

#define MAXSIG 20
typedef struct {
    int16_t *x;
    size_t n;
    int nsig;
    int sig[MAXSIG];
    int64_t start[MAXSIG], end[MAXSIG];
} signal_t;

/* nsig signals with random lengths and gaps from our generator, plus +-noise of white noise. */
static void make_signal(signal_t *s, cc_mf_mode mode, int nsig, int noise)
{
    memset(s, 0, sizeof(*s));
    s->n = 400 + (size_t)nsig * 4000 + 800;
    s->x = calloc(s->n, sizeof(int16_t));
    cc_mf_tx_t *tx = cc_mf_tx_init(NULL, mode, NULL);
    check(tx != NULL, "tx init");
    size_t pos = (size_t)rng_range(0, 400);
    cc_mf_tx_generate(tx, s->x, pos);
    for (int k = 0; k < nsig; k++) {
        int sig = rng_range(1, 15), on = rng_range(600, 1600), off = rng_range(500, 1200);
        if (mode == CC_MF_R1) {
            cc_mf_tx_config_t cfg;
            cc_mf_tx_config_variant(&cfg, CC_MF_VARIANT_R1);
            cfg.on_ms = cfg.kp_ms = on / 8;
            cfg.off_ms = 0;
            char sym = (char)cc_mf_symbol(mode, sig);
            check(cc_mf_tx_put(tx, &sym, 1, &cfg) == 1, "tx put %c", sym);
            on = on / 8 * 8;
        } else {
            check(cc_mf_tx_start(tx, sig, NULL) == CC_OK, "tx start %d", sig);
        }
        s->sig[k] = sig;
        s->start[k] = (int64_t)pos;
        cc_mf_tx_generate(tx, s->x + pos, (size_t)on);
        check(cc_mf_tx_current(tx) == (mode == CC_MF_R1 ? 0 : sig), "tx current after on");
        cc_mf_tx_stop(tx);
        pos += (size_t)on;
        s->end[k] = (int64_t)pos;
        cc_mf_tx_generate(tx, s->x + pos, (size_t)off);
        pos += (size_t)off;
    }
    s->nsig = nsig;
    check(cc_mf_tx_free(tx) == CC_OK, "tx free");
    for (size_t i = 0; noise && i < s->n; i++) {
        int v = s->x[i] + rng_range(-noise, noise);
        s->x[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
    }
}

typedef struct {
    cc_mf_event_t ev[4 * MAXSIG + 8];
    size_t n;
} evlist_t;

static void feed(cc_mf_rx_t *rx, cc_law law, const void *x, size_t n, size_t chunk, evlist_t *out)
{
    size_t w = law == CC_LAW_LINEAR ? 2 : 1;
    static cc_mf_event_t tmp[4096];
    for (size_t pos = 0; pos < n;) {
        size_t c = chunk ? chunk : (size_t)rng_range(1, 400);
        if (c > n - pos)
            c = n - pos;
        int rc = cc_mf_rx_process(rx, law, (const char *)x + pos * w, c, tmp, cc_mf_rx_max_events(c));
        check(rc >= 0, "process rc %d", rc);
        for (int i = 0; i < rc && out->n < sizeof(out->ev) / sizeof(out->ev[0]); i++)
            out->ev[out->n++] = tmp[i];
        pos += c;
    }
}

static int same(const evlist_t *a, const evlist_t *b)
{
    return a->n == b->n && memcmp(a->ev, b->ev, a->n * sizeof(a->ev[0])) == 0;
}

static void test_mode(cc_mf_mode mode)
{
    signal_t s;
    make_signal(&s, mode, 8, 30);
    evlist_t one = {0}, other;
    cc_mf_rx_t *rx = cc_mf_rx_init(NULL, mode, NULL, 7);
    check(rx != NULL, "rx init mode %d", mode);
    feed(rx, CC_LAW_LINEAR, s.x, s.n, s.n, &one);
    check(one.n == 2 * (size_t)s.nsig, "mode %d: %zu events for %d signals", mode, one.n, s.nsig);
    for (int k = 0; k < s.nsig && 2 * (size_t)k + 1 < one.n; k++) {
        const cc_mf_event_t *on = &one.ev[2 * k], *off = &one.ev[2 * k + 1];
        check(on->kind == CC_MF_ON && off->kind == CC_MF_OFF && on->signal == s.sig[k] && off->signal == s.sig[k],
              "mode %d #%d: signal %d/%d sent %d", mode, k, on->signal, off->signal, s.sig[k]);
        check(llabs(on->start - s.start[k]) <= 24 && llabs(off->end - s.end[k]) <= 24,
              "mode %d #%d: bounds %lld..%lld, true %lld..%lld", mode, k, (long long)on->start,
              (long long)off->end, (long long)s.start[k], (long long)s.end[k]);
        check(on->channel == 7 && on->mode == mode, "channel/mode in event");
    }
    size_t chunks[] = {1, 8, 80, 160, 0};
    for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
        memset(&other, 0, sizeof(other));
        cc_mf_rx_reset(rx);
        feed(rx, CC_LAW_LINEAR, s.x, s.n, chunks[c], &other);
        check(same(&one, &other), "mode %d: chunk %zu differs from one block", mode, chunks[c]);
    }
    /* A-law: same signals (levels/bounds may differ by the coding) */
    uint8_t *a = malloc(s.n);
    cc_g711_alaw_encode(a, s.x, s.n);
    int16_t *back = malloc(s.n * sizeof(int16_t));
    cc_g711_alaw_decode(back, a, s.n);
    evlist_t la = {0}, lb = {0};
    cc_mf_rx_reset(rx);
    feed(rx, CC_LAW_ALAW, a, s.n, 0, &la);
    cc_mf_rx_reset(rx);
    feed(rx, CC_LAW_LINEAR, back, s.n, 333, &lb);
    check(same(&la, &lb), "mode %d: A-law in == its decoded linear", mode);
    /* save / restore half way */
    cc_mf_rx_reset(rx);
    evlist_t h1 = {0};
    feed(rx, CC_LAW_LINEAR, s.x, s.n / 2, 97, &h1);
    unsigned char *blob = malloc(cc_mf_rx_state_size());
    memcpy(blob, rx, cc_mf_rx_state_size());
    cc_mf_rx_t *rx2 = cc_mf_rx_init(NULL, CC_MF_R1, NULL, 0);
    check(cc_mf_rx_restore(rx2, blob, cc_mf_rx_state_size()) == CC_OK, "restore");
    evlist_t t1 = {0}, t2 = {0};
    feed(rx, CC_LAW_LINEAR, s.x + s.n / 2, s.n - s.n / 2, 50, &t1);
    feed(rx2, CC_LAW_LINEAR, s.x + s.n / 2, s.n - s.n / 2, 0, &t2);
    check(same(&t1, &t2), "mode %d: restored state continues identically", mode);
    memset(blob, 0xA5, cc_mf_rx_state_size());
    check(cc_mf_rx_restore(rx2, blob, cc_mf_rx_state_size()) == CC_ERR_STATE, "stray bytes refused");
    check(cc_mf_rx_restore(rx2, blob, 3) == CC_ERR_STATE, "short blob refused");
    /* batch of 3 channels (row 1 offset) == singles */
    size_t n = s.n - 500;
    cc_mf_rx_t st[3];
    cc_mf_rx_t *ptrs[3];
    for (int c = 0; c < 3; c++)
        ptrs[c] = cc_mf_rx_init(&st[c], mode, NULL, c);
    static cc_mf_event_t bev[4096];
    int nb = 0;
    for (size_t pos = 0; pos < n; pos += 8) {
        size_t k = n - pos < 8 ? n - pos : 8;
        int rc = cc_mf_rx_process_batch(ptrs, 3, CC_LAW_LINEAR, s.x + pos, 250, k, bev + nb, 4096 - (size_t)nb);
        check(rc >= 0, "batch rc %d", rc);
        nb += rc > 0 ? rc : 0;
    }
    for (int c = 0; c < 3; c++) {
        evlist_t single = {0};
        cc_mf_rx_t *r = cc_mf_rx_init(NULL, mode, NULL, c);
        feed(r, CC_LAW_LINEAR, s.x + 250 * c, n, 0, &single);
        size_t m = 0;
        int ok = 1;
        for (int i = 0; i < nb; i++)
            if (bev[i].channel == c)
                ok &= m < single.n && memcmp(&bev[i], &single.ev[m++], sizeof(bev[i])) == 0;
        check(ok && m == single.n, "mode %d: batch channel %d == single", mode, c);
        cc_mf_rx_free(r);
    }
    cc_mf_event_t ev1[2];
    check(cc_mf_rx_process(rx, CC_LAW_LINEAR, s.x, 400, ev1, 2) == CC_ERR_SPACE, "CC_ERR_SPACE");
    check(cc_mf_rx_process(NULL, CC_LAW_LINEAR, s.x, 8, ev1, 2) == CC_ERR_ARG, "NULL state");
    free(blob);
    free(a);
    free(back);
    cc_mf_rx_free(rx);
    cc_mf_rx_free(rx2);
    free(s.x);
}

static void test_generator(void)
{
    cc_mf_tx_t tx;
    check(cc_mf_tx_init(&tx, CC_MF_R1, NULL) == &tx, "tx init caller memory");
    check(cc_mf_tx_put(&tx, "*12#", 4, NULL) == 4, "put *12#");
    check(cc_mf_tx_put(&tx, "1Z", 2, NULL) == CC_ERR_ARG && cc_mf_tx_pending(&tx) == 4, "bad symbol: nothing");
    int16_t out[8000];
    size_t busy = cc_mf_tx_generate(&tx, out, 8000);
    check(busy == (100 + 68 + 3 * (68 + 68)) * 8, "R1 timing: %zu samples busy", busy);
    cc_mf_tx_t r2;
    cc_mf_tx_config_t cfg;
    check(cc_mf_tx_config_variant(&cfg, CC_MF_VARIANT_R2_CHINA) == CC_OK, "china row");
    check(cc_mf_tx_init(&r2, CC_MF_R2_BWD, &cfg) != NULL, "r2 init");
    check(cc_mf_tx_start(&r2, 16, NULL) == CC_ERR_ARG && cc_mf_tx_start(&r2, 15, NULL) == CC_OK, "start range");
    check(cc_mf_tx_put(&r2, "1", 1, NULL) == CC_ERR_ARG, "put while started");
    check(cc_mf_tx_generate(&r2, out, 5000) == 5000 && cc_mf_tx_current(&r2) == 15, "started sounds on");
    check(cc_mf_tx_restore(&r2, &r2, sizeof(r2)) == CC_OK, "tx restore self");
    cc_mf_tx_stop(&r2);
    check(cc_mf_tx_generate(&r2, out, 100) == 0 && out[0] == 0 && out[99] == 0, "stopped: silence");
    check(cc_mf_variant_get(3) == NULL && cc_mf_variant_get(0) != NULL, "variant range");
}

int main(void)
{
    rng_state = 12345;
    test_mode(CC_MF_R2_FWD);
    test_mode(CC_MF_R2_BWD);
    test_mode(CC_MF_R1);
    test_generator();
    return report();
}
