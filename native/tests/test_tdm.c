/*
 * TDM switch: random connection graphs against a reference model, one chunk of latency,
 * changes at the next chunk boundary, gain ramps, block-split invariance, save/restore and
 * argument errors. Prints "N passed, N failed"; exit status 1 on any failure.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/g711.h"
#include "ccboard/private/tdm.h"

#include "check.h"

static uint32_t rng_state = 12345u;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

#define SLOTS 37
#define CHUNK 8
#define CHUNKS 60
#define N (CHUNK * CHUNKS)

static uint8_t laws[SLOTS];
static uint8_t x8[SLOTS][N], y8[SLOTS][N];
static int16_t x16[SLOTS][N], y16[SLOTS][N];

static int16_t decode(uint8_t law, uint8_t c) { return law == CC_LAW_ALAW ? cc_alaw_to_linear(c) : cc_ulaw_to_linear(c); }
static uint8_t encode(uint8_t law, int16_t v) { return law == CC_LAW_ALAW ? cc_linear_to_alaw(v) : cc_linear_to_ulaw(v); }
static uint8_t idle(uint8_t law) { return law == CC_LAW_ALAW ? 0xD5 : 0xFF; }

/* What dst should carry at sample t given the map of t's chunk (src, gains g0 -> g1). */
static int expect(uint32_t dst, int32_t src, float g0, float g1, size_t t)
{
    uint8_t ld = laws[dst];
    if (src < 0)
        return ld == CC_LAW_LINEAR ? 0 : idle(ld);
    uint8_t ls = laws[src];
    int have_in = t >= CHUNK;
    size_t ti = t - CHUNK;
    if (g0 == 1.0f && g1 == 1.0f) {
        if (ls == ld)
            return ls == CC_LAW_LINEAR ? (have_in ? x16[src][ti] : 0) : (have_in ? x8[src][ti] : idle(ls));
        if (ls != CC_LAW_LINEAR && ld != CC_LAW_LINEAR) {
            uint8_t c = have_in ? x8[src][ti] : idle(ls);
            return ls == CC_LAW_ALAW ? cc_g711_alaw_to_ulaw_table[c] : cc_g711_ulaw_to_alaw_table[c];
        }
    }
    int16_t v = ls == CC_LAW_LINEAR ? (have_in ? x16[src][ti] : 0) : decode(ls, have_in ? x8[src][ti] : idle(ls));
    float step = (g1 - g0) / (float)CHUNK;
    float g = g0 + step * (float)(t % CHUNK + 1);
    float yv = (float)v * g;
    yv = yv < -32768.0f ? -32768.0f : yv > 32767.0f ? 32767.0f : yv;
    int16_t r = (int16_t)nearbyintf(yv);
    return ld == CC_LAW_LINEAR ? r : encode(ld, r);
}

static int got(uint32_t d, size_t t) { return laws[d] == CC_LAW_LINEAR ? y16[d][t] : y8[d][t]; }

static void fill_input(void)
{
    for (int i = 0; i < SLOTS; i++)
        for (int t = 0; t < N; t++) {
            x8[i][t] = (uint8_t)rnd();
            x16[i][t] = (int16_t)(rnd() & 0xFFFF);
        }
}

static void test_random_graphs(void)
{
    cc_tdm_config_t cfg = {SLOTS, CHUNK};
    for (int i = 0; i < SLOTS; i++)
        laws[i] = (uint8_t)(rnd() % 3);
    cc_tdm_t *s = cc_tdm_init(NULL, &cfg, laws);
    check(s != NULL, "init");
    static int32_t msrc[CHUNKS][SLOTS];
    static float mg0[CHUNKS][SLOTS], mg1[CHUNKS][SLOTS];
    int32_t src[SLOTS];
    float gain[SLOTS];
    for (int d = 0; d < SLOTS; d++) {
        src[d] = -1;
        gain[d] = 1.0f;
    }
    float applied[SLOTS];
    for (int d = 0; d < SLOTS; d++)
        applied[d] = 1.0f;
    fill_input();
    for (int k = 0; k < CHUNKS; k++) {
        /* queue a few random changes before chunk k, then model them as the switch should */
        int changes = (int)(rnd() % 6);
        int32_t prev_src[SLOTS];
        memcpy(prev_src, src, sizeof(src));
        for (int q = 0; q < changes; q++) {
            uint32_t d = rnd() % SLOTS, sr = rnd() % SLOTS;
            int what = (int)(rnd() % 4);
            if (what == 0) {
                check(cc_tdm_disconnect(s, d) == CC_OK, "disconnect");
                src[d] = -1;
                gain[d] = 1.0f;
            } else if (what == 1 && src[d] >= 0) {
                float db = (float)((int)(rnd() % 25) - 18);
                check(cc_tdm_set_gain(s, d, db) == CC_OK, "set_gain");
                gain[d] = cc_tdm_gain_factor(db);
            } else {
                float db = what == 3 ? (float)((int)(rnd() % 13) - 6) : 0.0f;
                check(cc_tdm_connect(s, sr, d, db) == CC_OK, "connect");
                src[d] = (int32_t)sr;
                gain[d] = cc_tdm_gain_factor(db);
            }
        }
        for (int d = 0; d < SLOTS; d++) {
            msrc[k][d] = src[d];
            if (src[d] != prev_src[d] || src[d] < 0) {
                mg0[k][d] = mg1[k][d] = src[d] < 0 ? 1.0f : gain[d];
            } else {
                mg0[k][d] = applied[d];
                mg1[k][d] = gain[d];
            }
            applied[d] = mg1[k][d];
        }
        check(cc_tdm_process(s, &x8[0][k * CHUNK], N, &x16[0][k * CHUNK], N, &y8[0][k * CHUNK], N,
                             &y16[0][k * CHUNK], N, CHUNK) == CC_OK,
              "process");
    }
    int bad = 0;
    for (int k = 0; k < CHUNKS; k++)
        for (int d = 0; d < SLOTS; d++)
            for (int j = 0; j < CHUNK; j++) {
                size_t t = (size_t)k * CHUNK + (size_t)j;
                if (got((uint32_t)d, t) != expect((uint32_t)d, msrc[k][d], mg0[k][d], mg1[k][d], t)) {
                    if (bad++ < 5)
                        printf("  chunk %d dst %d j %d: got %d want %d (src %d)\n", k, d, j, got((uint32_t)d, t),
                               expect((uint32_t)d, msrc[k][d], mg0[k][d], mg1[k][d], t), msrc[k][d]);
                }
            }
    check(bad == 0, "random graph: every sample as the model says");
    cc_tdm_free(s);
}

static void test_split_and_restore(void)
{
    cc_tdm_config_t cfg = {SLOTS, CHUNK};
    for (int i = 0; i < SLOTS; i++)
        laws[i] = (uint8_t)(i % 3);
    fill_input();
    cc_tdm_t *a = cc_tdm_init(NULL, &cfg, laws);
    cc_tdm_t *b = cc_tdm_init(NULL, &cfg, laws);
    for (uint32_t d = 0; d < SLOTS; d++) {
        cc_tdm_connect(a, (d * 7 + 3) % SLOTS, d, d % 4 == 0 ? -6.0f : 0.0f);
        cc_tdm_connect(b, (d * 7 + 3) % SLOTS, d, d % 4 == 0 ? -6.0f : 0.0f);
    }
    static uint8_t z8[SLOTS][N];
    static int16_t z16[SLOTS][N];
    memset(y8, 0, sizeof y8); /* rows of the other plane are left untouched: start equal */
    memset(y16, 0, sizeof y16);
    cc_tdm_process(a, &x8[0][0], N, &x16[0][0], N, &y8[0][0], N, &y16[0][0], N, N);
    size_t t = 0;
    size_t cut = 0;
    void *save = malloc(cc_tdm_size(b));
    while (t < N) {
        size_t m = 1 + rnd() % 23;
        m = m < N - t ? m : N - t;
        cc_tdm_process(b, &x8[0][t], N, &x16[0][t], N, &z8[0][t], N, &z16[0][t], N, m);
        t += m;
        if (cut == 0 && t > N / 2) {
            cut = t;
            memcpy(save, b, cc_tdm_size(b));
        }
    }
    check(memcmp(y8, z8, sizeof y8) == 0 && memcmp(y16, z16, sizeof y16) == 0, "random block split == one call");
    /* restore the mid-stream state into a fresh switch and replay the rest */
    cc_tdm_t *c = cc_tdm_init(NULL, &cfg, laws);
    check(cc_tdm_restore(c, save, cc_tdm_size(c)) == CC_OK, "restore a saved state");
    memset(z8, 0, sizeof z8);
    memset(z16, 0, sizeof z16);
    cc_tdm_process(c, &x8[0][cut], N, &x16[0][cut], N, &z8[0][cut], N, &z16[0][cut], N, N - cut);
    int same = 1;
    for (int i = 0; i < SLOTS; i++)
        same &= memcmp(&y8[i][cut], &z8[i][cut], N - cut) == 0 && memcmp(&y16[i][cut], &z16[i][cut], 2 * (N - cut)) == 0;
    check(same, "restored state continues identically");
    /* corrupted saves are refused and leave the state alone */
    unsigned char *bytes = save;
    size_t size = cc_tdm_size(c);
    check(cc_tdm_restore(c, save, size - 1) == CC_ERR_STATE, "restore: short length refused");
    bytes[0] ^= 1;
    check(cc_tdm_restore(c, save, size) == CC_ERR_STATE, "restore: bad magic refused");
    bytes[0] ^= 1;
    cc_tdm_layout_t l = cc_tdm_layout_(SLOTS, CHUNK);
    int32_t bogus = SLOTS + 5;
    memcpy(bytes + l.conn, &bogus, sizeof bogus);
    check(cc_tdm_restore(c, save, size) == CC_ERR_STATE, "restore: source out of range refused");
    for (int k = 0; k < 2000; k++) {
        unsigned char *junk = malloc(size);
        memcpy(junk, save, size);
        for (int q = 0; q < 8; q++)
            junk[rnd() % 64] = (uint8_t)rnd();
        int rc = cc_tdm_restore(c, junk, size);
        (void)rc; /* must not crash (ASan); accepted junk must still be a usable state */
        cc_tdm_process(c, &x8[0][0], N, &x16[0][0], N, &z8[0][0], N, &z16[0][0], N, CHUNK);
        free(junk);
    }
    check(1, "restore: random junk never crashes");
    free(save);
    cc_tdm_free(a);
    cc_tdm_free(b);
    cc_tdm_free(c);
}

static void test_errors(void)
{
    uint8_t lw[4] = {0, 1, 2, 0};
    cc_tdm_config_t cfg = {4, 8};
    cc_tdm_config_t bad = {0, 8};
    check(cc_tdm_init(NULL, &bad, lw) == NULL, "init: zero slots refused");
    bad.slots = CC_TDM_MAX_SLOTS + 1;
    check(cc_tdm_init(NULL, &bad, lw) == NULL, "init: too many slots refused");
    uint8_t badlaw[4] = {0, 3, 0, 0};
    check(cc_tdm_init(NULL, &cfg, badlaw) == NULL, "init: bad law refused");
    cc_tdm_t *s = cc_tdm_init(NULL, &cfg, lw);
    check(cc_tdm_connect(s, 4, 0, 0.0f) == CC_ERR_ARG, "connect: src out of range");
    check(cc_tdm_connect(s, 0, 4, 0.0f) == CC_ERR_ARG, "connect: dst out of range");
    check(cc_tdm_connect(s, 0, 1, 30.0f) == CC_ERR_ARG, "connect: gain out of range");
    check(cc_tdm_set_gain(s, 1, 0.0f) == CC_ERR_ARG, "set_gain: no connection");
    uint8_t b8[32];
    int16_t b16[32];
    check(cc_tdm_process(s, NULL, 8, b16, 8, b8, 8, b16, 8, 8) == CC_ERR_ARG, "process: missing octet plane");
    check(cc_tdm_process(s, b8, 4, b16, 8, b8, 8, b16, 8, 8) == CC_ERR_ARG, "process: stride < n");
    check(cc_tdm_pending(s) == 0 && cc_tdm_connections(s) == 0, "errors changed nothing");
    cc_tdm_free(s);
}

static void test_latency_and_boundary(void)
{
    uint8_t lw[2] = {CC_LAW_LINEAR, CC_LAW_LINEAR};
    cc_tdm_config_t cfg = {2, 8};
    cc_tdm_t *s = cc_tdm_init(NULL, &cfg, lw);
    int16_t in[2][24], out[2][24];
    for (int t = 0; t < 24; t++) {
        in[0][t] = (int16_t)(100 + t);
        in[1][t] = 0;
    }
    /* queued in the middle of a chunk: takes effect at the next boundary */
    cc_tdm_process(s, NULL, 0, &in[0][0], 24, NULL, 0, &out[0][0], 24, 3);
    cc_tdm_connect(s, 0, 1, 0.0f);
    check(cc_tdm_source(s, 1, 0) == -1 && cc_tdm_source(s, 1, 1) == 0, "queued, not yet applied");
    cc_tdm_process(s, NULL, 0, &in[0][3], 24, NULL, 0, &out[0][3], 24, 21);
    int ok = 1;
    for (int t = 0; t < 8; t++)
        ok &= out[1][t] == 0;
    for (int t = 8; t < 24; t++)
        ok &= out[1][t] == in[0][t - 8];
    check(ok, "applied at the next chunk boundary; latency exactly one chunk");
    check(cc_tdm_connections(s) == 1 && cc_tdm_pending(s) == 0, "counts after apply");
    cc_tdm_free(s);
}

int main(void)
{
    test_random_graphs();
    test_split_and_restore();
    test_errors();
    test_latency_and_boundary();
    return report();
}
