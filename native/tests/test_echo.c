/*
 * Line echo canceller (native/include/ccboard/echo.h), run under ASan+UBSan.
 *
 * On white noise through a sparse echo path (40 ms delay, 6 dB ERL) the canceller reaches
 * 30 dB of ERLE within 2 s; every split of the input into calls (1, 3, 8, 160 samples, random
 * sizes) gives bit-identical output, and so does a state placed at any 8-byte boundary; a
 * batch over several channels gives what single cancellers give; bypass is exact; a saved
 * state restores to the same output; the error paths (NULL, bad config, stray bytes to
 * restore) are checked.
 * Prints "N passed, N failed"; exits non-zero if any check failed.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/private/echo.h" /* states embedded on the stack */

#include "check.h"

#define N 16000 /* 2 s */

static uint32_t rng_state;
static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static int16_t rin[N], sinp[N];

static void make_signals(void)
{
    rng_state = 12345;
    for (int i = 0; i < N; i++)
        rin[i] = (int16_t)((int32_t)(rng() % 8001) - 4000);
    for (int i = 0; i < N; i++) {
        double e = 0.0;
        if (i >= 320)
            e += 0.35 * rin[i - 320];
        if (i >= 323)
            e -= 0.2 * rin[i - 323];
        if (i >= 330)
            e += 0.05 * rin[i - 330];
        sinp[i] = (int16_t)lrint(e + (double)((int32_t)(rng() % 5) - 2));
    }
}

static double power(const int16_t *x, int a, int b)
{
    double p = 0.0;
    for (int i = a; i < b; i++)
        p += (double)x[i] * x[i];
    return p / (b - a) + 1e-9;
}

static cc_echo_config_t adapt_only(void)
{
    cc_echo_config_t cfg;
    cc_echo_config_default(&cfg);
    cfg.flags = CC_ECHO_ADAPT | CC_ECHO_HPF;
    return cfg;
}

static void test_converges(void)
{
    static int16_t out[N];
    cc_echo_config_t cfg = adapt_only();
    cc_echo_t *s = cc_echo_init(NULL, &cfg);
    check(s != NULL, "init");
    check(cc_echo_process(s, rin, sinp, out, N) == N, "process returns n");
    double erle = 10.0 * log10(power(sinp, N - 2000, N) / power(out, N - 2000, N));
    check(erle >= 30.0, "ERLE after 2 s on white noise: %.1f dB < 30", erle);
    cc_echo_stats_t st;
    check(cc_echo_get_stats(s, &st) == CC_OK, "stats");
    check(st.samples == N, "samples %lld", (long long)st.samples);
    check(st.erl_db > 5.0f && st.erl_db < 12.0f, "ERL %.1f dB", st.erl_db);
    check(st.erle_db >= 25.0f, "stats ERLE %.1f dB", st.erle_db);
    check(cc_echo_free(s) == CC_OK, "free");
}

static void run_split(int mode, int16_t *out)
{
    cc_echo_t s;
    cc_echo_init(&s, NULL);
    rng_state = 99;
    int i = 0;
    while (i < N) {
        int k = mode == 0 ? 1 : mode == 1 ? 3 : mode == 2 ? 8 : mode == 3 ? 160 : (int)(rng() % 50);
        if (k > N - i)
            k = N - i;
        cc_echo_process(&s, rin + i, sinp + i, out + i, (size_t)k);
        i += k;
    }
}

static void test_splits(void)
{
    static int16_t ref[N], out[N];
    cc_echo_t s;
    cc_echo_init(&s, NULL);
    cc_echo_process(&s, rin, sinp, ref, N);
    for (int mode = 0; mode < 5; mode++) {
        run_split(mode, out);
        check(memcmp(ref, out, sizeof(ref)) == 0, "split mode %d differs from one call", mode);
    }
}

/* A batch solves its channels' chunk-end systems 4 at a time when all are at the same place in
 * their chunks, else goes channel by channel: 6 channels (a full group and a partial one), calls
 * of 8 samples, of 5 (chunks cut across calls), and channels out of step with each other
 * (channel 0 fed 3 samples alone first): each channel's output is a single canceller's. */
static void test_batch_bypass_restore(void)
{
    enum { CH = 6, T = 4000 };
    static int16_t r[CH][T], x[CH][T], o[CH][T], single[T];
    static cc_echo_t st[CH];
    cc_echo_t *p[CH];
    static const int calls[] = {8, 5, 8};
    for (int mode = 0; mode < 3; mode++) {
        for (int c = 0; c < CH; c++) {
            p[c] = cc_echo_init(&st[c], NULL);
            memcpy(r[c], rin + 1000 * c, sizeof(r[c]));
            memcpy(x[c], sinp + 1000 * c, sizeof(x[c]));
        }
        int t = 0;
        if (mode == 2) {
            /* channel 0 ahead by 3 samples: it gets them alone, then the rest shifted */
            cc_echo_process(p[0], r[0], x[0], o[0], 3);
            memmove(r[0], r[0] + 3, (T - 3) * sizeof(int16_t));
            memmove(x[0], x[0] + 3, (T - 3) * sizeof(int16_t));
            t = 3; /* the batch covers T - 3 samples */
        }
        for (int a = 0; a + calls[mode] <= T - t; a += calls[mode])
            check(cc_echo_process_batch(p, CH, &r[0][a], &x[0][a], &o[0][a], T, (size_t)calls[mode])
                      == calls[mode], "batch");
        const int done = (T - t) / calls[mode] * calls[mode];
        for (int c = 0; c < CH; c++) {
            cc_echo_t one;
            cc_echo_init(&one, NULL);
            cc_echo_process(&one, rin + 1000 * c, sinp + 1000 * c, single, T);
            /* channel 0 in mode 2: samples 3.. of the single run are at o[0][0..] */
            const int16_t *want = single + (mode == 2 && c == 0 ? 3 : 0);
            check(memcmp(want, o[c], (size_t)done * sizeof(int16_t)) == 0,
                  "batch (mode %d) channel %d differs from single", mode, c);
        }
    }
    /* bypass: Sout == Sin exactly */
    cc_echo_set_bypass(p[0], 1);
    cc_echo_process(p[0], rin, sinp, single, T);
    check(memcmp(single, sinp, sizeof(single)) == 0, "bypass is not transparent");
    /* restore: same output from the saved point */
    static int16_t a[T], b[T];
    unsigned char *saved = malloc(cc_echo_state_size());
    memcpy(saved, p[1], cc_echo_state_size());
    cc_echo_process(p[1], rin, sinp, a, T);
    check(cc_echo_restore(p[2], saved, cc_echo_state_size()) == CC_OK, "restore");
    cc_echo_process(p[2], rin, sinp, b, T);
    check(memcmp(a, b, sizeof(a)) == 0, "restored state gives other output");
    memset(saved, 0x5a, cc_echo_state_size());
    check(cc_echo_restore(p[2], saved, cc_echo_state_size()) == CC_ERR_STATE, "stray bytes accepted");
    check(cc_echo_restore(p[2], saved, 3) == CC_ERR_STATE, "short state accepted");
    free(saved);
}

/* The AVX-512 loops read the history in aligned blocks when the state's place allows it and
 * load every window otherwise (native/src/echo.c, window_shift): a state anywhere (each 8-byte
 * boundary of a 64-byte line, both paths, chunk by chunk) gives the same bits, at every tail. */
static void test_placement(void)
{
    static int16_t ref[N], out[N];
    const size_t size = cc_echo_state_size();
    unsigned char *raw = malloc(size + 128);
    unsigned char *base = raw + (64 - (uintptr_t)raw % 64) % 64;
    static const int32_t taps[] = {32, 256, 1024};
    for (int t = 0; t < 3; t++) {
        cc_echo_config_t cfg;
        cc_echo_config_default(&cfg);
        cfg.taps = taps[t];
        cc_echo_t *s = cc_echo_init(NULL, &cfg);
        cc_echo_process(s, rin, sinp, ref, N);
        cc_echo_free(s);
        for (size_t off = 0; off < 64; off += 8) {
            s = cc_echo_init((cc_echo_t *)(void *)(base + off), &cfg);
            cc_echo_process(s, rin, sinp, out, N / 2);
            cc_echo_process(s, rin + N / 2, sinp + N / 2, out + N / 2, N - N / 2);
            check(memcmp(ref, out, sizeof(ref)) == 0, "%d taps: state at offset %zu gives other output",
                  (int)taps[t], off);
        }
    }
    free(raw);
}

static void test_errors(void)
{
    cc_echo_config_t cfg;
    cc_echo_config_default(&cfg);
    cfg.taps = 100;
    check(cc_echo_init(NULL, &cfg) == NULL, "taps 100 accepted");
    cfg.taps = 2048;
    check(cc_echo_init(NULL, &cfg) == NULL, "taps 2048 accepted");
    cc_echo_config_default(&cfg);
    cfg.mu = NAN;
    check(cc_echo_init(NULL, &cfg) == NULL, "mu NaN accepted");
    check(cc_echo_process(NULL, rin, sinp, NULL, 8) == CC_ERR_ARG, "NULL state");
    cc_echo_t s;
    cc_echo_init(&s, NULL);
    check(cc_echo_process(&s, NULL, sinp, sinp, 8) == CC_ERR_ARG, "NULL rin");
    check(cc_echo_process(&s, NULL, NULL, NULL, 0) == 0, "n = 0");
    check(cc_echo_set_bypass(NULL, 1) == CC_ERR_ARG, "bypass NULL");
    check(cc_echo_reset(&s) == CC_OK, "reset");
    check(cc_echo_release(&s) == CC_OK, "release");
}

int main(void)
{
    make_signals();
    test_converges();
    test_splits();
    test_batch_bypass_restore();
    test_placement();
    test_errors();
    return report();
}
