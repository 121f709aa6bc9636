/*
 * Conference mixer: random conferences (parties, listen-only, whisperers) against a per-sample
 * reference written the obvious way; saturation; G.711 in/out; loudest-talker events; any block
 * split == one call; save/restore; argument errors. Prints "N passed, N failed".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/g711.h"
#include "ccboard/private/conf.h"

#include "check.h"

static uint32_t rng_state = 777u;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

#define MEMBERS 40
#define CONFS 6
#define N 800

static int16_t x[MEMBERS][N], y[MEMBERS][N], z[MEMBERS][N];

/* What member i hears at sample t, from the member table alone. */
static int16_t expect(const cc_conf_t *s, int i, int t)
{
    int32_t conf = cc_conf_conference(s, (uint32_t)i);
    if (conf < 0)
        return 0;
    long v = 0;
    for (int k = 0; k < MEMBERS; k++) {
        if (k == i || cc_conf_conference(s, (uint32_t)k) != conf)
            continue;
        int role = cc_conf_role(s, (uint32_t)k);
        if (role == CC_CONF_PARTY || (role == CC_CONF_WHISPER && cc_conf_target(s, (uint32_t)k) == i))
            v += x[k][t];
    }
    return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}

static void random_members(cc_conf_t *s)
{
    for (uint32_t i = 0; i < MEMBERS; i++) {
        uint32_t c = rnd() % CONFS;
        int r = (int)(rnd() % 5);
        if (r == 0)
            cc_conf_leave(s, i);
        else
            cc_conf_set(s, i, c, r == 4 ? CC_CONF_LISTEN : CC_CONF_PARTY, -1);
    }
    for (int w = 0; w < 8; w++) {
        uint32_t i = rnd() % MEMBERS, t = rnd() % MEMBERS;
        int32_t c = cc_conf_conference(s, t);
        if (c >= 0)
            cc_conf_set(s, i, (uint32_t)c, CC_CONF_WHISPER, (int32_t)t); /* may be refused: fine */
    }
}

static void test_reference(void)
{
    cc_conf_config_t cfg;
    cc_conf_config_default(&cfg);
    cfg.members = MEMBERS;
    cfg.conferences = CONFS;
    cc_conf_t *s = cc_conf_init(NULL, &cfg);
    cc_conf_event_t ev[64];
    int bad = 0;
    for (int round = 0; round < 30; round++) {
        random_members(s);
        int loud = round % 3 == 0; /* some rounds near full scale, to saturate */
        for (int i = 0; i < MEMBERS; i++)
            for (int t = 0; t < 80; t++)
                x[i][t] = (int16_t)(loud ? (int16_t)(rnd() & 0xFFFF) : (int16_t)((int)(rnd() % 2001) - 1000));
        int rc = cc_conf_process(s, CC_LAW_LINEAR, x, N, y, N, 80, ev, 64);
        check(rc >= 0, "process");
        for (int i = 0; i < MEMBERS; i++)
            for (int t = 0; t < 80; t++)
                bad += y[i][t] != expect(s, i, t);
    }
    check(bad == 0, "random conferences with whisperers == per-sample reference (incl. saturation)");
    cc_conf_free(s);
}

static void test_whisper_rules(void)
{
    cc_conf_t *s = cc_conf_init(NULL, NULL);
    /* caller 0, agent 1, supervisor 2 in conference 5 */
    check(cc_conf_set(s, 0, 5, CC_CONF_PARTY, -1) == CC_OK, "join caller");
    check(cc_conf_set(s, 1, 5, CC_CONF_PARTY, -1) == CC_OK, "join agent");
    check(cc_conf_set(s, 2, 5, CC_CONF_WHISPER, 0 + 1) == CC_OK, "supervisor whispers to agent");
    check(cc_conf_set(s, 3, 5, CC_CONF_WHISPER, 2) == CC_ERR_ARG, "whisper to a whisperer refused");
    check(cc_conf_set(s, 3, 4, CC_CONF_WHISPER, 1) == CC_ERR_ARG, "whisper across conferences refused");
    check(cc_conf_set(s, 3, 5, CC_CONF_WHISPER, 3) == CC_ERR_ARG, "whisper to oneself refused");
    cc_conf_set(s, 1, 6, CC_CONF_PARTY, -1);
    check(cc_conf_role(s, 2) == CC_CONF_LISTEN && cc_conf_target(s, 2) == -1, "agent moved: whisperer listens");
    check(cc_conf_set(s, 2, 5, CC_CONF_WHISPER, 1) == CC_ERR_ARG, "agent no longer in the conference");
    cc_conf_free(s);
}

static void test_split_restore_g711(void)
{
    cc_conf_config_t cfg;
    cc_conf_config_default(&cfg);
    cfg.members = MEMBERS;
    cfg.conferences = CONFS;
    cc_conf_t *a = cc_conf_init(NULL, &cfg), *b = cc_conf_init(NULL, &cfg);
    random_members(a);
    memcpy(b, a, cc_conf_size(a));
    for (int i = 0; i < MEMBERS; i++)
        for (int t = 0; t < N; t++)
            x[i][t] = (int16_t)((int)(rnd() % 20001) - 10000) / (1 + i % 7);
    cc_conf_event_t ea[256], eb[256];
    int na = cc_conf_process(a, CC_LAW_LINEAR, x, N, y, N, N, ea, 256);
    int nb = 0, t = 0, cut = 0;
    void *save = malloc(cc_conf_size(b));
    while (t < N) {
        int m = 1 + (int)(rnd() % 37);
        m = m < N - t ? m : N - t;
        int rc = cc_conf_process(b, CC_LAW_LINEAR, &x[0][t], N, &z[0][t], N, (size_t)m, eb + nb, 256 - (size_t)nb);
        check(rc >= 0, "split process");
        nb += rc;
        t += m;
        if (!cut && t > N / 2) {
            cut = t;
            memcpy(save, b, cc_conf_size(b));
        }
    }
    check(na == nb && memcmp(ea, eb, (size_t)na * sizeof(ea[0])) == 0, "split: same events");
    check(memcmp(y, z, sizeof y) == 0, "split: same output");
    cc_conf_t *c = cc_conf_init(NULL, &cfg);
    check(cc_conf_restore(c, save, cc_conf_size(c)) == CC_OK, "restore");
    cc_conf_process(c, CC_LAW_LINEAR, &x[0][cut], N, &z[0][cut], N, (size_t)(N - cut), eb, 256);
    check(memcmp(y, z, sizeof y) == 0, "restored state continues identically");
    unsigned char *bytes = save;
    bytes[0] ^= 0x40;
    check(cc_conf_restore(c, save, cc_conf_size(c)) == CC_ERR_STATE, "restore: bad magic");
    bytes[0] ^= 0x40;
    cc_conf_layout_t l = cc_conf_layout_(MEMBERS, CONFS);
    int32_t role = 7;
    memcpy(bytes + l.member + offsetof(cc_conf_member_t, role), &role, 4);
    check(cc_conf_restore(c, save, cc_conf_size(c)) == CC_ERR_STATE, "restore: bad role");
    check(cc_conf_restore(c, save, 10) == CC_ERR_STATE, "restore: short");
    free(save);

    /* G.711: decode, mix, encode == linear mix of the decoded input, encoded */
    static uint8_t x8[MEMBERS][N], y8[MEMBERS][N];
    for (int law = CC_LAW_ALAW; law <= CC_LAW_ULAW; law++) {
        cc_conf_reset(a);
        cc_conf_reset(b);
        random_members(a);
        memcpy(b, a, cc_conf_size(a));
        for (int i = 0; i < MEMBERS; i++)
            for (int q = 0; q < N; q++) {
                x8[i][q] = (uint8_t)rnd();
                x[i][q] = law == CC_LAW_ALAW ? cc_alaw_to_linear(x8[i][q]) : cc_ulaw_to_linear(x8[i][q]);
            }
        cc_conf_process(a, (cc_law)law, x8, N, y8, N, N, ea, 256);
        cc_conf_process(b, CC_LAW_LINEAR, x, N, y, N, N, eb, 256);
        int bad = 0;
        for (int i = 0; i < MEMBERS; i++)
            for (int q = 0; q < N; q++) {
                uint8_t want = cc_conf_conference(b, (uint32_t)i) < 0
                                   ? (law == CC_LAW_ALAW ? 0xD5 : 0xFF)
                                   : (law == CC_LAW_ALAW ? cc_linear_to_alaw(y[i][q]) : cc_linear_to_ulaw(y[i][q]));
                bad += y8[i][q] != want;
            }
        check(bad == 0, law == CC_LAW_ALAW ? "A-law in/out == linear mix encoded" : "mu-law in/out == linear mix encoded");
    }
    cc_conf_free(a);
    cc_conf_free(b);
    cc_conf_free(c);
}

static void test_loudest(void)
{
    cc_conf_config_t cfg;
    cc_conf_config_default(&cfg);
    cfg.members = 4;
    cfg.conferences = 2;
    cc_conf_t *s = cc_conf_init(NULL, &cfg);
    for (uint32_t i = 0; i < 3; i++)
        cc_conf_set(s, i, 1, CC_CONF_PARTY, -1);
    static int16_t in[4][8000], out[4][8000];
    cc_conf_event_t ev[200];
    /* member 2 talks for 0.5 s, then member 0 much louder */
    for (int t = 0; t < 8000; t++) {
        int16_t sq = (int16_t)((t / 4) % 2 ? 3000 : -3000);
        in[2][t] = t < 4000 ? sq : 0;
        in[0][t] = t >= 4000 ? (int16_t)(sq * 4) : 0;
        in[1][t] = 0;
        in[3][t] = 0;
    }
    int n = cc_conf_process(s, CC_LAW_LINEAR, in, 8000, out, 8000, 8000, ev, 200);
    check(n >= 2, "loudest: at least two events");
    check(n >= 1 && ev[0].conference == 1 && ev[0].member == 2 && ev[0].previous == -1, "loudest: first is 2");
    check(n >= 2 && ev[1].member == 0 && ev[1].previous == 2 && ev[1].at > 4000 && ev[1].at < 6000,
          "loudest: then 0 within 250 ms");
    check(cc_conf_loudest(s, 1) == 0, "loudest query");
    int n2 = cc_conf_process(s, CC_LAW_LINEAR, in, 8000, out, 8000, 100, ev, 0);
    check(n2 == CC_ERR_SPACE, "event space too small refused");
    cc_conf_free(s);
}

int main(void)
{
    test_reference();
    test_whisper_rules();
    test_split_restore_g711();
    test_loudest();
    return report();
}
