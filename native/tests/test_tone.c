/* Tone generator: cadence exact to the sample, any block split, save/restore, bad input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/private/tone.h"

#include "check.h"

int main(void)
{
    /* uk ringback: 400+450/400,0/200,400+450/400,0/2000 */
    cc_tone_segment_t seg[4] = {
        {400, 450, -10, -10, 400, 0, 0, {0}}, {0, 0, -10, -10, 200, 0, 0, {0}},
        {400, 450, -10, -10, 400, 0, 0, {0}}, {0, 0, -10, -10, 2000, 0, 0, {0}}};
    enum { N = 8 * 6000 };
    int16_t *a = calloc(N, sizeof(int16_t)), *b = calloc(N, sizeof(int16_t));
    cc_tone_tx_t *s = cc_tone_tx_init(NULL, seg, 4);
    CHECK(s != NULL);
    CHECK(cc_tone_tx_generate(s, a, N) == N);
    /* silent exactly in 3200..4800 and 8000..24000 (+ cycle of 24000) */
    int silent_ok = 1, tone_ok = 1;
    for (int i = 0; i < N; i++) {
        int p = i % 24000;
        int off = (p >= 3200 && p < 4800) || p >= 8000;
        if (off && a[i] != 0)
            silent_ok = 0;
        if (!off && p % 3200 == 1 && a[i] == 0)
            tone_ok = 0;
    }
    CHECK(silent_ok);
    CHECK(tone_ok);
    /* any split gives the same samples */
    cc_tone_tx_reset(s);
    for (int i = 0, k = 1; i < N; k = k * 7 % 997 + 1) {
        int n = k < N - i ? k : N - i;
        cc_tone_tx_generate(s, b + i, (size_t)n);
        i += n;
    }
    CHECK(memcmp(a, b, N * sizeof(int16_t)) == 0);
    /* save and restore mid-segment */
    cc_tone_tx_reset(s);
    cc_tone_tx_generate(s, b, 12345);
    cc_tone_tx_t t;
    CHECK(cc_tone_tx_restore(&t, s, sizeof(t)) == CC_OK);
    cc_tone_tx_generate(&t, b + 12345, N - 12345);
    CHECK(memcmp(a, b, N * sizeof(int16_t)) == 0);
    unsigned char junk[sizeof(cc_tone_tx_t)];
    memset(junk, 0x5a, sizeof(junk));
    CHECK(cc_tone_tx_restore(&t, junk, sizeof(junk)) == CC_ERR_STATE);
    /* nothing loops / bad frequency */
    cc_tone_segment_t once = {425, 0, -10, -10, 100, 0, 1, {0}};
    CHECK(cc_tone_tx_init(NULL, &once, 1) == NULL);
    cc_tone_segment_t hi = {4200, 0, -10, -10, 0, 0, 0, {0}};
    CHECK(cc_tone_tx_init(NULL, &hi, 1) == NULL);
    CHECK(cc_tone_tx_generate(NULL, a, 1) == CC_ERR_ARG);
    cc_tone_tx_free(s);
    free(a);
    free(b);
    return report();
}
