/*
 * Far-end line mixer: random far-end audio, tx, echo factors and delays against the integer
 * model (law(sat16(far + (tx[t - delay] * q15) >> 15))), echo delay exact to the tick, rows
 * without tx silent in the echo, save/restore, argument errors.
 * Prints "N passed, N failed"; exit status 1 on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/farmix.h"
#include "ccboard/g711.h"

#include "check.h"

static uint32_t rng_state = 4242u;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

#define ROWS 70 /* more than one piece of 64 rows */
#define HIST 16
#define TICKS 60

static int16_t txlog[TICKS][ROWS][8];
static int16_t farbuf[ROWS][8];
static uint8_t out[ROWS][8];

static void test_model(void)
{
    uint8_t laws[ROWS];
    int32_t q[ROWS], d[ROWS];
    int has_tx[ROWS];
    for (int r = 0; r < ROWS; r++) {
        laws[r] = (r / 7) % 2 ? CC_LAW_ULAW : CC_LAW_ALAW;
        q[r] = r % 5 == 0 ? 0 : (int32_t)(rnd() % (CC_FARMIX_Q15_ONE + 1));
        d[r] = 1 + (int32_t)(rnd() % (HIST - 1));
        has_tx[r] = r % 9 != 0;
    }
    q[1] = CC_FARMIX_Q15_ONE; /* 0 dB: the sum saturates */
    cc_farmix_t *s = cc_farmix_init(NULL, ROWS, HIST, laws);
    for (int r = 0; r < ROWS; r++)
        cc_farmix_set_echo(s, (uint32_t)r, q[r], (uint32_t)d[r]);
    int64_t rows[ROWS];
    int16_t txb[ROWS][8];
    int ok = 1;
    memset(txlog, 0, sizeof(txlog));
    for (int t = 0; t < TICKS; t++) {
        size_t n = 0;
        for (int r = 0; r < ROWS; r++) {
            for (int j = 0; j < 8; j++)
                farbuf[r][j] = (int16_t)rnd();
            if (has_tx[r]) {
                for (int j = 0; j < 8; j++)
                    txlog[t][r][j] = txb[n][j] = (int16_t)rnd();
                rows[n++] = r;
            }
        }
        cc_farmix_put_tx(s, &txb[0][0], 8, rows, n);
        cc_farmix_process(s, &farbuf[0][0], &out[0][0]);
        for (int r = 0; r < ROWS; r++)
            for (int j = 0; j < 8; j++) {
                int32_t e = t - d[r] >= 0 ? txlog[t - d[r]][r][j] : 0;
                int32_t x = farbuf[r][j] + ((e * q[r]) >> 15);
                x = x < -32768 ? -32768 : x > 32767 ? 32767 : x;
                uint8_t want = laws[r] == CC_LAW_ALAW ? cc_linear_to_alaw((int16_t)x) : cc_linear_to_ulaw((int16_t)x);
                ok &= out[r][j] == want;
            }
    }
    check(ok, "every octet equals the integer model (echo delay, Q15 loss, saturation, law per row)");
    check(cc_farmix_ticks(s) == TICKS, "the tick count advances once per process");
    cc_farmix_free(s);
}

static void test_save_restore(void)
{
    uint8_t laws[3] = {CC_LAW_ALAW, CC_LAW_ULAW, CC_LAW_ALAW};
    cc_farmix_t *a = cc_farmix_init(NULL, 3, 4, laws), *b = cc_farmix_init(NULL, 3, 4, laws);
    int16_t far[3][8], tx[3][8];
    int64_t rows[3] = {0, 1, 2};
    uint8_t oa[3][8], ob[3][8];
    for (int r = 0; r < 3; r++)
        cc_farmix_set_echo(a, (uint32_t)r, 20000, (uint32_t)(r + 1));
    for (int t = 0; t < 5; t++) {
        for (int i = 0; i < 24; i++) {
            (&far[0][0])[i] = (int16_t)rnd();
            (&tx[0][0])[i] = (int16_t)rnd();
        }
        cc_farmix_put_tx(a, &tx[0][0], 8, rows, 3);
        cc_farmix_process(a, &far[0][0], &oa[0][0]);
    }
    check(cc_farmix_restore(b, a, cc_farmix_size(a)) == CC_OK, "restore accepts a saved state");
    int same = 1;
    for (int t = 0; t < 5; t++) {
        for (int i = 0; i < 24; i++) {
            (&far[0][0])[i] = (int16_t)rnd();
            (&tx[0][0])[i] = (int16_t)rnd();
        }
        cc_farmix_put_tx(a, &tx[0][0], 8, rows, 3);
        cc_farmix_put_tx(b, &tx[0][0], 8, rows, 3);
        cc_farmix_process(a, &far[0][0], &oa[0][0]);
        cc_farmix_process(b, &far[0][0], &ob[0][0]);
        same &= memcmp(oa, ob, sizeof(oa)) == 0;
    }
    check(same, "a restored mixer continues identically");
    uint8_t junk[16] = {0};
    check(cc_farmix_restore(b, junk, sizeof(junk)) == CC_ERR_STATE, "restore refuses junk");
    cc_farmix_free(a);
    cc_farmix_free(b);
}

static void test_args(void)
{
    uint8_t laws[2] = {CC_LAW_ALAW, CC_LAW_LINEAR};
    check(cc_farmix_init(NULL, 2, 4, laws) == NULL, "a linear row is refused (the line is G.711)");
    check(cc_farmix_state_size(0, 4) == 0 && cc_farmix_state_size(1, 1) == 0, "size ranges");
    laws[1] = CC_LAW_ULAW;
    cc_farmix_t *s = cc_farmix_init(NULL, 2, 4, laws);
    check(cc_farmix_set_echo(s, 2, 1, 1) == CC_ERR_ARG && cc_farmix_set_echo(s, 0, 1, 4) == CC_ERR_ARG
              && cc_farmix_set_echo(s, 0, CC_FARMIX_Q15_ONE + 1, 1) == CC_ERR_ARG,
          "set_echo ranges");
    int16_t tx[8] = {0};
    int64_t bad = 2;
    check(cc_farmix_put_tx(s, tx, 8, &bad, 1) == CC_ERR_ARG, "put_tx refuses a row outside");
    check(cc_farmix_process(s, NULL, NULL) == CC_ERR_ARG, "NULL buffers");
    cc_farmix_free(s);
}

int main(void)
{
    test_model();
    test_save_restore();
    test_args();
    return report();
}
