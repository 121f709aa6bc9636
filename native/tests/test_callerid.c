/*
 * Caller ID kernel (Bell 202 / V.23 FSK, DTMF).
 *
 *   test_callerid
 *
 * Checks: generator -> receiver round trips of SDMF/MDMF messages for both FSK standards at
 * several levels, frequency and baud errors and twists; the same messages at the same sample
 * positions for random block splits; batch == singles; a corrupted checksum refused and
 * counted; DTMF messages ended by 'C', '#' and by the timeout; save/restore mid-message;
 * restore refusing junk; bad arguments.
 * Prints "N passed, N failed"; exit status 1 on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/private/callerid.h"

#include "check.h"

static uint32_t rng = 2024u;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

#define SIG_MAX 40000

/* lead samples of silence, the message, then tail silence; returns the length. */
static size_t make_signal(const cc_cid_tx_config_t *cfg, const uint8_t *msg, size_t n, int16_t *out, size_t lead)
{
    cc_cid_tx_t tx;
    memset(out, 0, SIG_MAX * sizeof(*out));
    if (cc_cid_tx_init(&tx, cfg) == NULL || cc_cid_tx_put(&tx, msg, n) != (int)n)
        return 0;
    size_t len = lead + (size_t)cc_cid_tx_remaining(&tx);
    cc_cid_tx_generate(&tx, out + lead, SIG_MAX - lead);
    return len + 400 < SIG_MAX ? len + 400 : SIG_MAX;
}

static int run(cc_cid_rx_t *rx, const int16_t *x, size_t n, size_t split, cc_cid_msg_t *ev, int max)
{
    int total = 0;
    static cc_cid_msg_t tmp[256];
    size_t i = 0;
    while (i < n) {
        size_t take = split ? split : 1 + rnd() % 300;
        if (take > n - i)
            take = n - i;
        int k = cc_cid_rx_process(rx, CC_LAW_LINEAR, x + i, take, tmp, 256);
        if (k < 0)
            return k;
        for (int j = 0; j < k && total < max; j++)
            ev[total++] = tmp[j];
        i += take;
    }
    return total;
}

static const uint8_t SDMF[] = {0x04, 18, '0', '3', '1', '5', '1', '4', '3', '0',
                               '5', '5', '5', '1', '2', '3', '4', '5', '6', '7'};

static void mdmf(uint8_t *m, size_t *n)
{
    const char *name = "ALICE SMITH";
    size_t k = 2;
    m[k++] = 0x01; m[k++] = 8; memcpy(m + k, "12250830", 8); k += 8;
    m[k++] = 0x02; m[k++] = 10; memcpy(m + k, "8613800138", 10); k += 10;
    m[k++] = 0x07; m[k++] = (uint8_t)strlen(name); memcpy(m + k, name, strlen(name)); k += strlen(name);
    m[0] = 0x80;
    m[1] = (uint8_t)(k - 2);
    *n = k;
}

static void round_trips(void)
{
    static int16_t x[SIG_MAX];
    static cc_cid_msg_t ev[16], ev2[16];
    uint8_t m[300];
    size_t mn;
    mdmf(m, &mn);
    char what[160];
    for (int std = CC_CID_BELL202; std <= CC_CID_V23; std++) {
        const float levels[] = {-40.0f, -13.5f, 0.0f};
        const float ferr[] = {-2.0f, 0.0f, 2.0f};
        const float berr[] = {-2.0f, 0.0f, 2.0f};
        const float twist[] = {-10.0f, 0.0f, 10.0f};
        for (int v = 0; v < 3 * 4; v++) {
            cc_cid_tx_config_t tc;
            cc_cid_tx_config_default(&tc, (cc_cid_standard)std);
            int which = v / 3, i = v % 3;
            if (which == 0) tc.level_dbm0 = levels[i];
            if (which == 1) tc.freq_error_pct = ferr[i];
            if (which == 2) tc.baud_error_pct = berr[i];
            if (which == 3) { tc.twist_db = twist[i]; tc.level_dbm0 = -20.0f; }
            for (int msg = 0; msg < 2; msg++) {
                const uint8_t *p = msg ? m : SDMF;
                size_t pn = msg ? mn : sizeof(SDMF);
                size_t lead = 100 + rnd() % 500;
                size_t n = make_signal(&tc, p, pn, x, lead);
                cc_cid_rx_t rx;
                cc_cid_rx_config_t rc;
                cc_cid_rx_config_default(&rc, (cc_cid_standard)std);
                cc_cid_rx_init(&rx, &rc, 7);
                int k = run(&rx, x, n, n, ev, 16);
                snprintf(what, sizeof(what), "std %d variant %d msg %d: one message back", std, v, msg);
                check(k == 1 && ev[0].len == pn && memcmp(ev[0].data, p, pn) == 0 && ev[0].channel == 7, "%s", what);
                cc_cid_rx_reset(&rx);
                int k2 = run(&rx, x, n, 0, ev2, 16);
                snprintf(what, sizeof(what), "std %d variant %d msg %d: random split identical", std, v, msg);
                check(k2 == k && (k == 0 || memcmp(ev, ev2, sizeof(ev[0]) * (size_t)k) == 0), "%s", what);
            }
        }
    }
}

static void checksum_and_batch(void)
{
    static int16_t x[SIG_MAX], y[2 * SIG_MAX];
    static cc_cid_msg_t ev[16];
    cc_cid_tx_config_t tc;
    cc_cid_tx_config_default(&tc, CC_CID_BELL202);
    size_t n = make_signal(&tc, SDMF, sizeof(SDMF), x, 300);
    /* flip one data bit of the last body octet by sounding the other tone over it: regenerate
     * with a different last digit but keep the original checksum by patching the generator */
    cc_cid_tx_t tx;
    cc_cid_tx_init(&tx, &tc);
    cc_cid_tx_put(&tx, SDMF, sizeof(SDMF));
    tx.msg[sizeof(SDMF) - 1] ^= 0x01;  /* corrupt after the checksum was computed */
    memset(y, 0, sizeof(y));
    cc_cid_tx_generate(&tx, y + 300, SIG_MAX - 300);
    cc_cid_rx_t rx;
    cc_cid_rx_init(&rx, NULL, 0);
    int k = run(&rx, y, n, 160, ev, 16);
    check(k == 0 && cc_cid_rx_checksum_errors(&rx) == 1, "corrupted octet: no message, one checksum error");

    /* batch: channel 0 the good signal, channel 1 the corrupted one, channel 2 the good one again */
    static int16_t rows[3 * SIG_MAX];
    memcpy(rows, x, n * 2);
    memcpy(rows + SIG_MAX, y, n * 2);
    memcpy(rows + 2 * SIG_MAX, x, n * 2);
    cc_cid_rx_t b[3];
    cc_cid_rx_t *bp[3] = {&b[0], &b[1], &b[2]};
    for (int c = 0; c < 3; c++)
        cc_cid_rx_init(&b[c], NULL, 10 + c);
    static cc_cid_msg_t bev[64];
    int total = 0;
    for (size_t i = 0; i < n; i += 8) {
        size_t take = n - i < 8 ? n - i : 8;
        int r = cc_cid_rx_process_batch(bp, 3, CC_LAW_LINEAR, rows + i, SIG_MAX, take, bev + total, 64 - (size_t)total);
        if (r < 0) { total = -1; break; }
        total += r;
    }
    check(total == 2 && bev[0].channel == 10 && bev[1].channel == 12 && bev[0].start == bev[1].start,
          "batch of 3 in 8-sample ticks: the two good channels, same positions");
    cc_cid_rx_init(&rx, NULL, 10);
    k = run(&rx, x, n, n, ev, 16);
    check(k == 1 && ev[0].start == bev[0].start && ev[0].at == bev[0].at, "batch == single");

    /* save/restore in the middle of the message */
    cc_cid_rx_init(&rx, NULL, 10);
    size_t half = n / 2 + 3;
    int k1 = run(&rx, x, half, half, ev, 16);
    unsigned char saved[sizeof(cc_cid_rx_t)];
    memcpy(saved, &rx, sizeof(rx));
    cc_cid_rx_t other;
    cc_cid_rx_init(&other, NULL, 99);
    check(cc_cid_rx_restore(&other, saved, sizeof(saved)) == CC_OK, "restore accepts a saved state");
    int k2 = run(&other, x + half, n - half, 100, ev, 16);
    check(k1 == 0 && k2 == 1 && ev[0].start == bev[0].start, "restored mid-message: message completes");
    saved[0] ^= 0xFF;
    check(cc_cid_rx_restore(&other, saved, sizeof(saved)) == CC_ERR_STATE, "restore refuses a bad magic");
    check(cc_cid_rx_restore(&other, saved, 3) == CC_ERR_STATE, "restore refuses a short blob");
}

static void dtmf(void)
{
    static int16_t x[SIG_MAX];
    static cc_cid_msg_t ev[16];
    const char *msgs[] = {"A8613800138C", "D1#", "0123456789#", "A4015551234"};
    for (int i = 0; i < 4; i++) {
        cc_cid_tx_config_t tc;
        cc_cid_tx_config_default(&tc, CC_CID_DTMF);
        size_t len = strlen(msgs[i]);
        size_t n = make_signal(&tc, (const uint8_t *)msgs[i], len, x, 500);
        if (i == 3)
            n = SIG_MAX;  /* room for the timeout */
        cc_cid_rx_config_t rc;
        cc_cid_rx_config_default(&rc, CC_CID_DTMF);
        cc_cid_rx_t rx;
        cc_cid_rx_init(&rx, &rc, 1);
        int k = run(&rx, x, n, 0, ev, 16);
        char what[80];
        snprintf(what, sizeof(what), "DTMF %s back", msgs[i]);
        check(k == 1 && ev[0].len == len && memcmp(ev[0].data, msgs[i], len) == 0
                  && ev[0].status == (i == 3 ? CC_CID_UNTERMINATED : CC_CID_OK)
                  && ev[0].start >= 495 && ev[0].start <= 520,
              what);
        if (i == 3) {
            cc_cid_msg_t first = ev[0];
            cc_cid_rx_reset(&rx);
            k = run(&rx, x, n, 37, ev, 16);
            check(k == 1 && memcmp(&first, &ev[0], sizeof(first)) == 0, "DTMF timeout at the same sample for any split");
        }
    }
}

static void args(void)
{
    cc_cid_rx_t rx;
    cc_cid_msg_t ev[4];
    int16_t x[10] = {0};
    cc_cid_rx_init(&rx, NULL, 0);
    check(cc_cid_rx_process(&rx, CC_LAW_LINEAR, x, 10, ev, 1) == CC_ERR_SPACE, "too few event slots");
    check(cc_cid_rx_process(NULL, CC_LAW_LINEAR, x, 10, ev, 4) == CC_ERR_ARG, "NULL state");
    check(cc_cid_rx_process(&rx, (cc_law)9, x, 10, ev, 4) == CC_ERR_ARG, "bad law");
    cc_cid_rx_config_t rc;
    cc_cid_rx_config_default(&rc, CC_CID_V23);
    rc.standard = 9;
    check(cc_cid_rx_init(&rx, &rc, 0) == NULL, "bad standard refused");
    cc_cid_tx_t tx;
    cc_cid_tx_init(&tx, NULL);
    const uint8_t bad[] = {0x04, 5, '1'};
    check(cc_cid_tx_put(&tx, bad, 3) == CC_ERR_ARG, "length octet not matching refused");
    check(cc_cid_tx_put(&tx, SDMF, sizeof(SDMF)) == (int)sizeof(SDMF), "message queued");
    check(cc_cid_tx_put(&tx, SDMF, sizeof(SDMF)) == CC_ERR_SPACE, "second message while busy refused");
    cc_cid_rx_t *heap = cc_cid_rx_init(NULL, NULL, 0);
    check(heap != NULL && cc_cid_rx_free(heap) == CC_OK, "heap state");
}

int main(void)
{
    round_trips();
    checksum_and_batch();
    dtmf();
    args();
    return report();
}
