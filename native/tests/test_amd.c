/*
 * Answering-machine detection (app_amd's rules) and beep detection.
 *
 *   test_amd
 *
 * Checks, on synthetic answers (noise bursts as words, silence, tones): each cause of
 * app_amd at the frame it must be decided on (INITIALSILENCE, HUMAN, LONGGREETING, MAXWORDS,
 * MAXWORDLENGTH, TOOLONG); the beep after a greeting found with its onset, frequency and
 * latency, and no beep before speech; random block splits and batch give the same events;
 * save/restore; restore refusing junk; bad arguments.
 * Prints "N passed, N failed"; exit status 1 on any failure.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/private/amd.h"

#include "check.h"

static uint32_t rng = 777u;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

#define N_MAX 80000
static int16_t sig[N_MAX];
static size_t len;

static void silence(int ms)
{
    for (int i = 0; i < ms * 8; i++)
        sig[len++] = (int16_t)((int)(rnd() % 41) - 20);
}

static void burst(int ms)
{
    for (int i = 0; i < ms * 8; i++)
        sig[len++] = (int16_t)((int)(rnd() % 6001) - 3000);
}

static void tone(int ms, double hz, double peak)
{
    for (int i = 0; i < ms * 8; i++)
        sig[len++] = (int16_t)lrint(peak * sin(2.0 * 3.141592653589793 * hz * i / 8000.0));
}

static int run(cc_amd_t *s, size_t split, cc_amd_event_t *ev, int max)
{
    static cc_amd_event_t tmp[4096];
    int total = 0;
    for (size_t i = 0; i < len;) {
        size_t take = split ? split : 1 + rnd() % 500;
        if (take > len - i)
            take = len - i;
        int k = cc_amd_process(s, CC_LAW_LINEAR, sig + i, take, tmp, 4096);
        if (k < 0)
            return k;
        for (int j = 0; j < k && total < max; j++)
            ev[total++] = tmp[j];
        i += take;
    }
    return total;
}

static void expect(const char *name, int result, int cause, int64_t at_ms)
{
    cc_amd_t s;
    cc_amd_event_t ev[8], ev2[8];
    cc_amd_init(&s, NULL, 3);
    int k = run(&s, len, ev, 8);
    char what[120];
    snprintf(what, sizeof(what), "%s: %s/%s at %lld ms (got %d events, %s/%s at %lld)", name,
             cc_amd_result_name(result), cc_amd_cause_name(cause), (long long)at_ms, k,
             k ? cc_amd_result_name(ev[0].result) : "-", k ? cc_amd_cause_name(ev[0].cause) : "-",
             k ? (long long)(ev[0].at / 8) : -1LL);
    check(k >= 1 && ev[0].kind == CC_AMD_EV_RESULT && ev[0].result == result && ev[0].cause == cause
              && ev[0].at == at_ms * 8 && ev[0].channel == 3,
          what);
    cc_amd_reset(&s);
    int k2 = run(&s, 0, ev2, 8);
    snprintf(what, sizeof(what), "%s: random split identical", name);
    check(k2 == k && memcmp(ev, ev2, sizeof(ev[0]) * (size_t)(k < 8 ? k : 8)) == 0, "%s", what);
}

int main(void)
{
    len = 0;
    silence(3000);
    expect("silence", CC_AMD_MACHINE, CC_AMD_CAUSE_INITIALSILENCE, 2500);

    len = 0;
    silence(500);
    burst(400);
    silence(1500);
    expect("hello", CC_AMD_HUMAN, CC_AMD_CAUSE_HUMAN, 500 + 400 + 800);

    len = 0;
    silence(300);
    burst(2000);
    silence(1000);
    expect("long word", CC_AMD_MACHINE, CC_AMD_CAUSE_LONGGREETING, 300 + 1500);

    len = 0;
    silence(300);
    burst(300);
    silence(200);
    burst(300);
    silence(1000);
    /* word 1 at 300+100, word 2 100 ms into the second burst */
    expect("two words", CC_AMD_MACHINE, CC_AMD_CAUSE_MAXWORDS, 300 + 300 + 200 + 100);

    len = 0;
    for (int i = 0; i < 30; i++) {
        burst(40);
        silence(140);
    }
    /* 40 ms voice bursts never make a word; a 140 ms gap is never after-greeting silence */
    expect("short blips", CC_AMD_NOTSURE, CC_AMD_CAUSE_TOOLONG, 5000);

    /* beep after a greeting: found near its onset, not before */
    len = 0;
    silence(400);
    burst(1700);
    silence(300);
    size_t beep_at = len;
    tone(600, 1000.0, 8000.0);
    silence(500);
    cc_amd_t s;
    cc_amd_event_t ev[16], ev2[16];
    cc_amd_init(&s, NULL, 0);
    int k = run(&s, len, ev, 16);
    int beeps = 0, idx = -1;
    for (int i = 0; i < k; i++)
        if (ev[i].kind == CC_AMD_EV_BEEP) {
            beeps++;
            idx = i;
        }
    check(k == 2 && ev[0].cause == CC_AMD_CAUSE_LONGGREETING && beeps == 1, "greeting then one beep");
    if (idx >= 0) {
        char what[120];
        snprintf(what, sizeof(what), "beep onset %lld vs %zu, decided %lld, %.1f Hz", (long long)ev[idx].start,
                 beep_at, (long long)ev[idx].at, ev[idx].freq_hz);
        check(llabs(ev[idx].start - (int64_t)beep_at) <= 40 && ev[idx].at - (int64_t)beep_at <= 105 * 8
                  && fabsf(ev[idx].freq_hz - 1000.0f) < 5.0f,
              what);
    }
    cc_amd_reset(&s);
    int k2 = run(&s, 0, ev2, 16);
    check(k2 == k && memcmp(ev, ev2, sizeof(ev[0]) * (size_t)k) == 0, "beep: random split identical");

    /* a tone before any speech is not a beep */
    len = 0;
    tone(600, 1000.0, 8000.0);
    silence(500);
    cc_amd_reset(&s);
    k = run(&s, len, ev, 16);
    beeps = 0;
    for (int i = 0; i < k; i++)
        beeps += ev[i].kind == CC_AMD_EV_BEEP;
    check(beeps == 0, "a tone before any speech is not a beep");

    /* batch == singles, save/restore */
    len = 0;
    silence(500);
    burst(400);
    silence(1500);
    cc_amd_t b[2];
    cc_amd_t *bp[2] = {&b[0], &b[1]};
    cc_amd_init(&b[0], NULL, 0);
    cc_amd_init(&b[1], NULL, 1);
    static cc_amd_event_t bev[64];
    int total = 0;
    for (size_t i = 0; i < len; i += 8) {
        int r = cc_amd_process_batch(bp, 2, CC_LAW_LINEAR, sig + i, 0, 8, bev + total, 64 - (size_t)total);
        total += r > 0 ? r : 0;
    }
    check(total == 2 && bev[0].at == 1700 * 8 && bev[1].at == bev[0].at && bev[1].channel == 1,
          "batch over 2 channels (stride 0) in 8-sample ticks");
    cc_amd_init(&s, NULL, 0);
    static cc_amd_event_t first[512];
    check(cc_amd_process(&s, CC_LAW_LINEAR, sig, 7000, first, 512) == 0, "no decision in the first 7000 samples");
    unsigned char saved[sizeof(cc_amd_t)];
    memcpy(saved, &s, sizeof(s));
    cc_amd_t o;
    static cc_amd_event_t big[512];
    cc_amd_init(&o, NULL, 5);
    check(cc_amd_restore(&o, saved, sizeof(saved)) == CC_OK, "restore a saved state");
    k = cc_amd_process(&o, CC_LAW_LINEAR, sig + 7000, len - 7000, big, 512);
    check(k == 1 && big[0].at == 1700 * 8 && big[0].result == CC_AMD_HUMAN, "restored: same decision");
    saved[4] ^= 1;
    saved[0] ^= 1;
    check(cc_amd_restore(&o, saved, sizeof(saved)) == CC_ERR_STATE, "restore refuses junk");
    cc_amd_config_t c;
    cc_amd_config_default(&c);
    c.frame_ms = 7;
    check(cc_amd_init(&s, &c, 0) == NULL, "frame_ms 7 refused");
    check(cc_amd_process(&o, CC_LAW_LINEAR, sig, 400, ev, 1) == CC_ERR_SPACE, "too few event slots");
    check(strcmp(cc_amd_cause_name(CC_AMD_CAUSE_MAXWORDLENGTH), "MAXWORDLENGTH") == 0, "cause names");

    return report();
}
