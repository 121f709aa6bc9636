/* Call progress: US busy and ringback from the tone generator; speech-like noise is never busy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/private/cpa.h"
#include "ccboard/private/tone.h"

#include "check.h"

/* us zone tones as libtonezone ships them (test data) */
static const cc_tone_segment_t DIAL[1] = {{350, 440, -10, -10, 0, 0, 0, {0}}};
static const cc_tone_segment_t BUSY[2] = {{480, 620, -10, -10, 500, 0, 0, {0}}, {0, 0, -10, -10, 500, 0, 0, {0}}};
static const cc_tone_segment_t RING[2] = {{440, 480, -10, -10, 2000, 0, 0, {0}}, {0, 0, -10, -10, 4000, 0, 0, {0}}};

static void config(cc_cpa_config_t *c)
{
    cc_cpa_config_default(c);
    memcpy(c->tone[CC_CPA_TONE_DIAL], DIAL, sizeof(DIAL));
    c->nseg[CC_CPA_TONE_DIAL] = 1;
    memcpy(c->tone[CC_CPA_TONE_BUSY], BUSY, sizeof(BUSY));
    c->nseg[CC_CPA_TONE_BUSY] = 2;
    memcpy(c->tone[CC_CPA_TONE_RINGBACK], RING, sizeof(RING));
    c->nseg[CC_CPA_TONE_RINGBACK] = 2;
}

static int kinds(const int16_t *x, int n, int chunk, int *out, int max)
{
    cc_cpa_config_t *cfg = malloc(sizeof(*cfg));
    config(cfg);
    cc_cpa_t *s = cc_cpa_init(NULL, cfg, 0);
    free(cfg);
    cc_cpa_event_t ev[64];
    int m = 0;
    for (int i = 0; i < n; i += chunk) {
        int k = cc_cpa_process(s, CC_LAW_LINEAR, x + i, (size_t)(chunk < n - i ? chunk : n - i), ev, 64);
        for (int j = 0; j < k && m < max; j++)
            out[m++] = ev[j].kind * 100 + ev[j].count;
    }
    cc_cpa_free(s);
    return m;
}

int main(void)
{
    enum { N = 8000 * 15 };
    int16_t *x = calloc(N, sizeof(int16_t));
    int k[32], k2[32];
    cc_tone_tx_t *g = cc_tone_tx_init(NULL, BUSY, 2);
    cc_tone_tx_generate(g, x, 8000 * 4);
    cc_tone_tx_free(g);
    int n = kinds(x, 8000 * 4, 160, k, 32);
    CHECK(n == 1 && k[0] / 100 == CC_CPA_BUSY);
    g = cc_tone_tx_init(NULL, RING, 2);
    cc_tone_tx_generate(g, x, N);
    cc_tone_tx_free(g);
    n = kinds(x, N, 160, k, 32);
    CHECK(n == 3 && k[0] == CC_CPA_RINGBACK * 100 + 1 && k[2] == CC_CPA_RINGBACK * 100 + 3);
    CHECK(kinds(x, N, 13, k2, 32) == n && memcmp(k, k2, (size_t)n * sizeof(int)) == 0);
    /* syllable-like bursts of noise: voice, never busy */
    unsigned r = 12345;
    for (int i = 0; i < N; i++) {
        r = r * 1103515245u + 12345u;
        int on = (i / 1600) % 3 != 2;
        x[i] = (int16_t)(on ? (int)((r >> 16) & 0x1fff) - 4096 : 0);
    }
    n = kinds(x, N, 160, k, 32);
    int busy = 0;
    for (int i = 0; i < n; i++)
        busy |= k[i] / 100 == CC_CPA_BUSY || k[i] / 100 == CC_CPA_CONGESTION;
    CHECK(!busy && n >= 1 && k[0] / 100 == CC_CPA_VOICE);
    cc_cpa_config_t *bad = malloc(sizeof(*bad));
    config(bad);
    bad->jitter_pct = 90.0f;
    CHECK(cc_cpa_init(NULL, bad, 0) == NULL);
    free(bad);
    free(x);
    return report();
}
