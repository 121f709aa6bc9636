/*
 * HDLC kernel (Q.921 section 2 framing, CRC-16/X.25 FCS).
 *
 *   test_hdlc
 *
 * Checks: the FCS of known frames (CRC-16/X.25 check value 0x906E); hand-made line bits
 * (flag, five 1s stuffed, abort, non-octet, too short, too long, bad FCS); tx -> rx round
 * trips of random frames (with 0x7E and 0xFF runs) for both idle patterns and 1..3 flags;
 * the same frames at the same bit positions for random bit splits on both sides; batch ==
 * singles; save/restore mid-frame; underrun and requested aborts; restore refusing junk.
 * Prints "N passed, N failed"; exit status 1 on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/private/hdlc.h"

#include "check.h"

static uint32_t rng = 12345u;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static uint16_t fcs_of(const uint8_t *p, size_t n)
{
    uint16_t c = 0xFFFF;
    for (size_t i = 0; i < n; i++)
        c = cc_hdlc_fcs_byte(c, p[i]);
    return (uint16_t)(c ^ 0xFFFF);
}

/* A bit writer for hand-made line streams (bit 0 of each octet first). */
typedef struct {
    uint8_t b[4096];
    size_t n;
} bits_t;

static void put_bit(bits_t *w, int bit)
{
    if (w->n % 8 == 0)
        w->b[w->n / 8] = 0;
    w->b[w->n / 8] |= (uint8_t)((bit & 1) << (w->n % 8));
    w->n++;
}
static void put_raw(bits_t *w, unsigned v, int n)
{
    for (int i = 0; i < n; i++)
        put_bit(w, (v >> i) & 1);
}
static void put_stuffed(bits_t *w, const uint8_t *p, size_t n)
{
    int ones = 0;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 8; k++) {
            int bit = (p[i] >> k) & 1;
            put_bit(w, bit);
            ones = bit ? ones + 1 : 0;
            if (ones == 5) {
                put_bit(w, 0);
                ones = 0;
            }
        }
}
static void put_frame(bits_t *w, const uint8_t *p, size_t n)
{
    uint8_t tmp[600];
    uint16_t f = fcs_of(p, n);
    memcpy(tmp, p, n);
    tmp[n] = (uint8_t)f;
    tmp[n + 1] = (uint8_t)(f >> 8);
    put_stuffed(w, tmp, n + 2);
}

#define MAXF 65536
static cc_hdlc_frame_t fr[MAXF];
static uint8_t data[1 << 20];

static int rx_all(cc_hdlc_rx_t *rx, const uint8_t *x, size_t nbits)
{
    return cc_hdlc_rx_process_bits(rx, x, nbits, fr, MAXF, data, sizeof data);
}

static void test_fcs(void)
{
    check(fcs_of((const uint8_t *)"123456789", 9) == 0x906E, "CRC-16/X.25 check value 0x906E");
    uint8_t m[4] = {0x00, 0x01, 0x7F, 0x00};
    uint16_t f = fcs_of(m, 2);
    m[2] = (uint8_t)f;
    m[3] = (uint8_t)(f >> 8);
    uint16_t c = 0xFFFF;
    for (int i = 0; i < 4; i++)
        c = cc_hdlc_fcs_byte(c, m[i]);
    check(c == CC_HDLC_FCS_GOOD, "residue 0xF0B8 after data and FCS");
}

static void test_handmade(void)
{
    cc_hdlc_rx_config_t cfg;
    cc_hdlc_rx_t rx;
    bits_t w = {{0}, 0};
    const uint8_t good[5] = {0x02, 0x01, 0x7F, 0xFF, 0x3E};
    cc_hdlc_rx_config_default(&cfg);
    cc_hdlc_rx_init(&rx, &cfg, 7);
    put_raw(&w, 0x7E, 8);
    put_frame(&w, good, 5);          /* 1: OK, with stuffing */
    put_raw(&w, 0x7E, 8);            /* shared flag */
    put_frame(&w, good, 5);
    put_raw(&w, 0x7E, 8);
    put_stuffed(&w, good, 3);
    put_raw(&w, 0x7F, 7);            /* 2: abort after data */
    put_raw(&w, 0x7E, 8);
    put_raw(&w, 0x7E, 8);
    put_stuffed(&w, good, 3);        /* 3: good length, FCS wrong */
    put_raw(&w, 0x1234, 16);
    put_raw(&w, 0x7E, 8);
    put_stuffed(&w, good, 2);        /* 4: too short (2 + FCS < 3 + 2) */
    put_raw(&w, 0x0F, 5);            /* 5 bits more: non-octet */
    put_raw(&w, 0x7E, 8);
    put_frame(&w, good, 1);          /* 5: too short */
    put_raw(&w, 0x7E, 8);
    put_raw(&w, 0xFF, 8);            /* mark idle after the flag: no event */
    put_raw(&w, 0xFF, 8);
    put_raw(&w, 0x7E, 8);
    put_raw(&w, 0x7E, 8);
    int n = rx_all(&rx, w.b, w.n);
    for (int i = 0; getenv("HDLC_DEBUG") && i < n; i++)
        printf("frame %d: status %d length %u position %lld\n", i, fr[i].status, fr[i].length,
               (long long)fr[i].position);
    check(n == 6, "six frames from the hand-made stream");
    if (n == 6) {
        check(fr[0].status == CC_HDLC_OK && fr[0].length == 5 && memcmp(data + fr[0].offset, good, 5) == 0,
              "frame 1 OK with its octets");
        check(fr[0].channel == 7, "channel id carried");
        check(fr[1].status == CC_HDLC_OK, "frame after a shared flag OK");
        check(fr[2].status == CC_HDLC_ABORT, "abort");
        check(fr[3].status == CC_HDLC_BAD_FCS && fr[3].length == 3, "bad FCS");
        check(fr[4].status == CC_HDLC_NON_OCTET, "non-octet");
        check(fr[5].status == CC_HDLC_TOO_SHORT, "too short");
    }
    cc_hdlc_rx_stats_t st;
    cc_hdlc_rx_stats(&rx, &st);
    check(st.good == 2 && st.aborts == 1 && st.bad_fcs == 1 && st.non_octet == 1 && st.too_short == 1,
          "statistics count each status");
    /* the flag closing frame 1 ends at bit 8 + stuffed length + 8 - 1 */
    bits_t v = {{0}, 0};
    put_raw(&v, 0x7E, 8);
    put_frame(&v, good, 5);
    check(n >= 1 && fr[0].position == (int64_t)v.n + 7, "position = last bit of the closing flag");

    /* too long: max_len 4, a 5-octet frame */
    cfg.max_len = 4;
    cc_hdlc_rx_init(&rx, &cfg, 0);
    bits_t t = {{0}, 0};
    put_raw(&t, 0x7E, 8);
    put_frame(&t, good, 5);
    put_raw(&t, 0x7E, 8);
    put_frame(&t, good, 4);
    put_raw(&t, 0x7E, 8);
    n = rx_all(&rx, t.b, t.n);
    check(n == 2 && fr[0].status == CC_HDLC_TOO_LONG && fr[1].status == CC_HDLC_OK,
          "too long, then the next frame after a flag");
}

/* Random frames through tx (random bit splits) and rx (random bit splits). */
static void test_roundtrip(int idle, int min_flags, int split)
{
    static uint8_t frames[40][300];
    static size_t lens[40];
    static uint8_t line[65536];
    cc_hdlc_tx_config_t tc;
    cc_hdlc_rx_config_t rc;
    cc_hdlc_tx_t tx;
    cc_hdlc_rx_t rx;
    char what[160];
    cc_hdlc_tx_config_default(&tc);
    tc.idle = idle;
    tc.min_flags = min_flags;
    cc_hdlc_rx_config_default(&rc);
    rc.min_len = 0;
    cc_hdlc_tx_init(&tx, &tc);
    cc_hdlc_rx_init(&rx, &rc, 1);
    int nf = 30;
    for (int i = 0; i < nf; i++) {
        lens[i] = rnd() % 264;
        int kind = rnd() % 4;
        for (size_t j = 0; j < lens[i]; j++)
            frames[i][j] = kind == 0 ? 0x7E : kind == 1 ? 0xFF : (uint8_t)rnd();
    }
    int put = 0;
    size_t nbits = 0, tail = 0;
    /* put frames as space allows, generate in random bit-sized pieces */
    while (nbits < sizeof line * 8 - 64) {
        while (put < nf && cc_hdlc_tx_put(&tx, frames[put], lens[put], 0) >= 0)
            put++;
        size_t k = split ? rnd() % 61 : 64;
        if (nbits + k > sizeof line * 8)
            break;
        uint8_t tmp[16];
        cc_hdlc_tx_generate_bits(&tx, tmp, k);
        for (size_t b = 0; b < k; b++, nbits++) {
            if (nbits % 8 == 0)
                line[nbits / 8] = 0;
            line[nbits / 8] |= (uint8_t)(((tmp[b / 8] >> (b % 8)) & 1) << (nbits % 8));
        }
        /* stop some bits after the last closing flag went into the bit buffer */
        if (put == nf && cc_hdlc_tx_pending(&tx) == 0 && (tail += k) > 128)
            break;
    }
    /* rx in random bit pieces: re-pack each piece to start at bit 0 */
    int got = 0, ok = 1;
    size_t at = 0;
    while (at < nbits) {
        size_t k = split ? 1 + rnd() % 77 : nbits - at;
        if (k > nbits - at)
            k = nbits - at;
        static uint8_t piece[65536];
        memset(piece, 0, (k + 7) / 8);
        for (size_t b = 0; b < k; b++)
            piece[b / 8] |= (uint8_t)(((line[(at + b) / 8] >> ((at + b) % 8)) & 1) << (b % 8));
        int n = rx_all(&rx, piece, k);
        for (int i = 0; i < n; i++, got++) {
            if (got >= nf || fr[i].status != CC_HDLC_OK || fr[i].length != lens[got]
                || memcmp(data + fr[i].offset, frames[got], lens[got]) != 0)
                ok = 0;
        }
        at += k;
    }
    cc_hdlc_rx_stats_t st;
    cc_hdlc_rx_stats(&rx, &st);
    snprintf(what, sizeof what, "round trip idle=%d min_flags=%d split=%d: %d/%d frames, all OK", idle, min_flags,
             split, got, nf);
    check(ok && got == nf && st.good == (uint64_t)nf && st.bad_fcs + st.aborts + st.non_octet == 0, "%s", what);
}

static void test_underrun_abort(void)
{
    cc_hdlc_tx_t tx;
    cc_hdlc_rx_t rx;
    cc_hdlc_rx_config_t rc;
    uint8_t line[64], part[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    cc_hdlc_rx_config_default(&rc);
    cc_hdlc_tx_init(&tx, NULL);
    cc_hdlc_rx_init(&rx, &rc, 0);
    cc_hdlc_tx_put(&tx, part, 10, 1);                  /* open frame */
    cc_hdlc_tx_generate(&tx, line, 32);                /* runs dry: abort */
    int n = rx_all(&rx, line, 32 * 8);
    check(n == 1 && fr[0].status == CC_HDLC_ABORT, "underrun sends an abort");
    cc_hdlc_tx_stats_t ts;
    cc_hdlc_tx_stats(&tx, &ts);
    check(ts.underruns == 1 && ts.aborts == 1 && ts.frames == 0, "underrun counted");
    check(cc_hdlc_tx_put(&tx, part, 5, 0) == 5 && cc_hdlc_tx_pending(&tx) == 0,
          "the rest of an aborted open frame is dropped");
    cc_hdlc_tx_put(&tx, part, 10, 0);
    cc_hdlc_tx_generate(&tx, line, 32);
    n = rx_all(&rx, line, 32 * 8);
    check(n == 1 && fr[0].status == CC_HDLC_OK && fr[0].length == 10, "next frame after the abort OK");
    /* requested abort mid-frame */
    uint8_t big[200];
    memset(big, 0x55, sizeof big);
    cc_hdlc_tx_put(&tx, big, 200, 0);
    cc_hdlc_tx_generate(&tx, line, 20);
    check(cc_hdlc_tx_abort(&tx) == 1, "abort reports a frame in progress");
    cc_hdlc_tx_generate(&tx, line + 20, 20);
    n = rx_all(&rx, line, 40 * 8);
    check(n == 1 && fr[0].status == CC_HDLC_ABORT, "requested abort seen");
    check(cc_hdlc_tx_abort(&tx) == 0, "no frame in progress: abort returns 0");
    check(cc_hdlc_tx_put(&tx, big, 265, 0) == CC_ERR_ARG, "frame over max_len refused");
}

static void test_batch_restore(void)
{
    enum { NCH = 5, N = 400 };
    static cc_hdlc_tx_t txs[NCH], txb[NCH];
    static cc_hdlc_rx_t rxs[NCH], rxb[NCH];
    cc_hdlc_tx_t *tp[NCH];
    cc_hdlc_rx_t *rp[NCH];
    static uint8_t a[NCH][N], b[NCH][N + 3];
    static cc_hdlc_frame_t fb[MAXF];
    static uint8_t db[1 << 16];
    uint8_t f[100];
    for (int c = 0; c < NCH; c++) {
        cc_hdlc_tx_init(&txs[c], NULL);
        cc_hdlc_tx_init(&txb[c], NULL);
        cc_hdlc_rx_init(&rxs[c], NULL, c);
        cc_hdlc_rx_init(&rxb[c], NULL, c);
        tp[c] = &txb[c];
        rp[c] = &rxb[c];
        for (int k = 0; k < 3 + c; k++) {
            for (int j = 0; j < 40; j++)
                f[j] = (uint8_t)rnd();
            cc_hdlc_tx_put(&txs[c], f, 40, 0);
            cc_hdlc_tx_put(&txb[c], f, 40, 0);
        }
        cc_hdlc_tx_generate(&txs[c], a[c], N);
    }
    cc_hdlc_tx_generate_batch(tp, NCH, &b[0][0], N + 3, N);
    int same = 1;
    for (int c = 0; c < NCH; c++)
        same &= memcmp(a[c], b[c], N) == 0;
    check(same, "tx batch == singles");
    int total = 0, ok = 1;
    for (int c = 0; c < NCH; c++) {
        int n = cc_hdlc_rx_process(&rxs[c], a[c], N, fr, MAXF, data, sizeof data);
        for (int i = 0; i < n; i++)
            ok &= fr[i].status == CC_HDLC_OK;
        total += n;
    }
    int nb = cc_hdlc_rx_process_batch(rp, NCH, &b[0][0], N + 3, N, fb, MAXF, db, sizeof db);
    check(ok && nb == total && total == 3 + 4 + 5 + 6 + 7, "rx batch == singles, all frames");
    check(cc_hdlc_rx_process_batch(rp, NCH, &b[0][0], N + 3, N, fb, 10, db, sizeof db) == CC_ERR_SPACE,
          "rx batch refuses a short frame buffer");

    /* save mid-frame, restore elsewhere, same result */
    cc_hdlc_tx_t tx, tx2;
    cc_hdlc_rx_t rx, rx2;
    uint8_t l1[200], l2[200];
    cc_hdlc_tx_init(&tx, NULL);
    cc_hdlc_rx_init(&rx, NULL, 0);
    cc_hdlc_tx_put(&tx, f, 100, 0);
    cc_hdlc_tx_generate(&tx, l1, 37);
    rx_all(&rx, l1, 37 * 8 + 3);
    check(cc_hdlc_tx_restore(&tx2, &tx, sizeof tx) == CC_OK, "tx state restores");
    check(cc_hdlc_rx_restore(&rx2, &rx, sizeof rx) == CC_OK, "rx state restores");
    cc_hdlc_tx_generate(&tx, l1 + 37, 100);
    cc_hdlc_tx_generate(&tx2, l2, 100);
    check(memcmp(l1 + 37, l2, 100) == 0, "restored tx continues identically");
    int n1 = cc_hdlc_rx_process_bits(&rx, l1 + 37, 800, fr, MAXF, data, sizeof data);
    int n2 = cc_hdlc_rx_process_bits(&rx2, l1 + 37, 800, fb, MAXF, db, sizeof db);
    check(n1 == n2 && n1 >= 0, "restored rx continues identically");
    uint8_t junk[sizeof(cc_hdlc_tx_t)];
    int refused = 1;
    for (int i = 0; i < 200; i++) {
        for (size_t j = 0; j < sizeof junk; j++)
            junk[j] = (uint8_t)rnd();
        refused &= cc_hdlc_tx_restore(&tx2, junk, sizeof junk) == CC_ERR_STATE;
        refused &= cc_hdlc_rx_restore(&rx2, junk, sizeof(cc_hdlc_rx_t)) == CC_ERR_STATE;
    }
    /* a valid state with one field broken */
    memcpy(junk, &tx, sizeof tx);
    ((cc_hdlc_tx_t *)junk)->count += 1;
    refused &= cc_hdlc_tx_restore(&tx2, junk, sizeof tx) == CC_ERR_STATE;
    check(refused, "restore refuses random bytes and an inconsistent queue");
}

/* Flipped bits: never a crash, never an OK frame with different octets. */
static void test_corruption(void)
{
    static uint8_t line[8192];
    uint8_t f[64];
    int lied = 0;
    for (int round = 0; round < 300; round++) {
        cc_hdlc_tx_t tx;
        cc_hdlc_rx_t rx;
        cc_hdlc_tx_init(&tx, NULL);
        cc_hdlc_rx_init(&rx, NULL, 0);
        for (int j = 0; j < 64; j++)
            f[j] = (uint8_t)rnd();
        for (int k = 0; k < 4; k++)
            cc_hdlc_tx_put(&tx, f, 64, 0);
        cc_hdlc_tx_generate(&tx, line, 400);
        line[rnd() % 400] ^= (uint8_t)(1u << (rnd() % 8));
        int n = rx_all(&rx, line, 400 * 8);
        for (int i = 0; i < n; i++)
            if (fr[i].status == CC_HDLC_OK && (fr[i].length != 64 || memcmp(data + fr[i].offset, f, 64)))
                lied++;
    }
    check(lied == 0, "a flipped bit never yields an OK frame with other octets");
}

int main(void)
{
    test_fcs();
    test_handmade();
    for (int idle = 0; idle < 2; idle++)
        for (int flags = 1; flags <= 3; flags++)
            for (int split = 0; split < 2; split++)
                test_roundtrip(idle, flags, split);
    test_underrun_abort();
    test_batch_restore();
    test_corruption();
    return report();
}
