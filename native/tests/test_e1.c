/*
 * E1 framer/deframer (G.704 / G.706 / G.732): CRC-4 against the bit-serial remainder, a
 * back-to-back pair of ends (our framer -> far deframer, far framer -> our deframer, each
 * framer sending its own receiver's RAI and E bits) aligning from either phase, then: a clean
 * line counts nothing; one bit error is one CRC-4 error here and one E-bit error there; ABCD
 * changes arrive once; LOS, AIS and RAI follow the line; save/restore continues identically;
 * argument errors. Prints "N passed, N failed"; exit status 1 on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/private/e1.h"

#include "check.h"

static uint32_t rng_state = 99991u;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

#define SPANS 3
#define TICK CC_E1_TICK_OCTETS

/* Bit-serial G.704 CRC-4 of one tick in wire order (frame, timeslot, MSB first), C bits = 0. */
static unsigned crc4_serial(const uint8_t *x)
{
    unsigned r = 0;
    for (int f = 0; f < 8; f++)
        for (int t = 0; t < 32; t++)
            for (int b = 7; b >= 0; b--) {
                unsigned bit = (x[t * 8 + f] >> b) & 1u;
                if (t == 0 && (f & 1) == 0 && b == 7)
                    bit = 0;
                r = (r << 1) | bit;
                if (r & 0x10u)
                    r ^= 0x13u;
            }
    for (int k = 0; k < 4; k++) {
        r <<= 1;
        if (r & 0x10u)
            r ^= 0x13u;
    }
    return r;
}

static void test_crc4(void)
{
    uint8_t x[TICK * 4], crc[4];
    int ok = 1;
    for (int round = 0; round < 50; round++) {
        for (size_t i = 0; i < sizeof(x); i++)
            x[i] = (uint8_t)rnd();
        cc_e1_crc4(x, 4, crc);
        for (int s = 0; s < 4; s++)
            ok &= crc[s] == crc4_serial(x + s * TICK);
    }
    check(ok, "CRC-4 equals the bit-serial remainder on random ticks");
}

typedef struct {
    cc_e1_tx_t *near_tx, *far_tx;
    cc_e1_rx_t *near_rx, *far_rx;
    uint8_t up[SPANS * TICK], down[SPANS * TICK];
    cc_e1_change_t ch[30 * SPANS];
    int near_changes, far_changes;
} link_t;

static void link_init(link_t *l, int far_phase)
{
    uint8_t crc4[SPANS] = {1, 1, 0}, cas[SPANS] = {1, 0, 1};
    memset(l, 0, sizeof(*l));
    l->near_tx = cc_e1_tx_init(NULL, SPANS, crc4, cas, 0);
    l->far_tx = cc_e1_tx_init(NULL, SPANS, crc4, cas, far_phase);
    l->near_rx = cc_e1_rx_init(NULL, SPANS, crc4, cas);
    l->far_rx = cc_e1_rx_init(NULL, SPANS, crc4, cas);
}

static void link_free(link_t *l)
{
    cc_e1_tx_free(l->near_tx);
    cc_e1_tx_free(l->far_tx);
    cc_e1_rx_free(l->near_rx);
    cc_e1_rx_free(l->far_rx);
}

/* One tick both ways; flip_up/flip_down: a bit index to invert in that direction's payload, or -1. */
static void link_tick(link_t *l, long flip_up, long flip_down, int cut_down)
{
    for (size_t i = 0; i < sizeof(l->up); i++) {
        l->up[i] = (uint8_t)rnd();
        l->down[i] = (uint8_t)rnd();
    }
    cc_e1_tx_process(l->near_tx, l->up, l->near_rx, NULL);
    if (flip_up >= 0)
        l->up[flip_up / 8] ^= (uint8_t)(1u << (flip_up % 8));
    l->far_changes = cc_e1_rx_process(l->far_rx, l->up, l->ch, 30 * SPANS);
    cc_e1_tx_process(l->far_tx, l->down, l->far_rx, NULL);
    if (flip_down >= 0)
        l->down[flip_down / 8] ^= (uint8_t)(1u << (flip_down % 8));
    if (cut_down)
        memset(l->down, 0, sizeof(l->down));
    l->near_changes = cc_e1_rx_process(l->near_rx, l->down, l->ch, 30 * SPANS);
}

static int counters_zero(const cc_e1_rx_t *rx)
{
    const cc_e1_rx_status_t *st = cc_e1_rx_status(rx);
    int ok = 1;
    for (int s = 0; s < SPANS; s++)
        ok &= st[s].fas_errors == 0 && st[s].crc_errors == 0 && st[s].ebit_errors == 0;
    return ok;
}

static void test_align_and_clean(int far_phase)
{
    link_t l;
    link_init(&l, far_phase);
    int t;
    for (t = 0; t < 40 && !(cc_e1_rx_quiet(l.near_rx) == 1 && cc_e1_rx_quiet(l.far_rx) == 1); t++)
        link_tick(&l, -1, -1, 0);
    check(t < 20, "both ends align (frame, CRC-4 multiframe) within 20 ms");
    for (int k = 0; k < 4; k++)
        link_tick(&l, -1, -1, 0);
    const cc_e1_rx_status_t *st = cc_e1_rx_status(l.near_rx);
    check(st[0].mf_aligned && st[1].mf_aligned && !st[2].mf_aligned, "CRC-4 multiframe aligned on CRC-4 spans only");
    check(st[0].cas_aligned && !st[1].cas_aligned && st[2].cas_aligned, "CAS multiframe aligned on CAS spans only");
    int clean = 1;
    for (int k = 0; k < 200; k++) {
        link_tick(&l, -1, -1, 0);
        clean &= cc_e1_rx_quiet(l.near_rx) == 1 && cc_e1_rx_quiet(l.far_rx) == 1;
        clean &= l.near_changes == 0 && l.far_changes == 0;
    }
    check(clean && counters_zero(l.near_rx) && counters_zero(l.far_rx), "a clean line stays quiet and counts nothing");

    /* one bit error in span 0's payload towards us: one CRC-4 error here, one E bit there */
    link_tick(&l, -1, 5 * 8 * 8 + 3, 0); /* timeslot 5, frame 0, bit 3 */
    for (int k = 0; k < 4; k++)
        link_tick(&l, -1, -1, 0);
    const cc_e1_rx_status_t *far = cc_e1_rx_status(l.far_rx);
    check(st[0].crc_errors == 1 && st[0].fas_errors == 0, "one bit error is one CRC-4 error");
    check(far[0].ebit_errors == 1, "the CRC-4 error comes back as one E-bit error");
    check(st[1].crc_errors == 0 && far[1].ebit_errors == 0, "the other spans count nothing");

    /* ABCD on span 2 timeslot 7 and 23: arrives once, after two multiframes */
    cc_e1_tx_set_bits(l.far_tx, 2, 7, 0x1);
    cc_e1_tx_set_bits(l.far_tx, 2, 23, 0xD);
    int seen = 0;
    for (int k = 0; k < 10; k++) {
        link_tick(&l, -1, -1, 0);
        for (int c = 0; c < l.near_changes; c++)
            seen += l.ch[c].span == 2 && (l.ch[c].timeslot == 7 || l.ch[c].timeslot == 23);
        seen += 100 * (l.near_changes > 2);
    }
    check(seen == 2 && st[2].rx_bits[7] == 0x1 && st[2].rx_bits[23] == 0xD, "ABCD changes arrive once each");

    /* LOS towards us: red here, RAI (yellow) at the far end; then back */
    for (int k = 0; k < 3; k++)
        link_tick(&l, -1, -1, 1);
    check(st[0].los && st[0].red && !st[0].in_frame, "a tick of zeros is LOS and red");
    link_tick(&l, -1, -1, 1);
    check(far[0].yellow && far[1].yellow, "the far end sees our RAI");
    for (int k = 0; k < 10; k++)
        link_tick(&l, -1, -1, 0);
    check(st[0].in_frame && !st[0].los && !far[0].yellow, "alignment and RAI recover");

    /* AIS from the far end on span 1 */
    cc_e1_tx_set_ais(l.far_tx, 1, 1);
    link_tick(&l, -1, -1, 0);
    check(st[1].ais && !st[1].in_frame && !st[0].ais, "all ones is AIS, on that span only");
    cc_e1_tx_set_ais(l.far_tx, 1, 0);
    for (int k = 0; k < 10; k++)
        link_tick(&l, -1, -1, 0);
    check(!st[1].ais && st[1].in_frame, "AIS clears");
    link_free(&l);
}

static void test_save_restore(void)
{
    link_t a, b;
    link_init(&a, 1);
    link_init(&b, 1);
    for (int k = 0; k < 30; k++)
        link_tick(&a, k == 20 ? 100 : -1, -1, 0);
    /* copy a's states into b, then both run the same input */
    size_t ntx = cc_e1_tx_size(a.near_tx), nrx = cc_e1_rx_size(a.near_rx);
    check(cc_e1_tx_restore(b.near_tx, a.near_tx, ntx) == CC_OK && cc_e1_tx_restore(b.far_tx, a.far_tx, ntx) == CC_OK
              && cc_e1_rx_restore(b.near_rx, a.near_rx, nrx) == CC_OK
              && cc_e1_rx_restore(b.far_rx, a.far_rx, nrx) == CC_OK,
          "restore accepts a saved state");
    uint32_t saved_rng = rng_state;
    for (int k = 0; k < 20; k++)
        link_tick(&a, -1, k == 5 ? 77 : -1, 0);
    uint32_t end_rng = rng_state;
    rng_state = saved_rng;
    for (int k = 0; k < 20; k++)
        link_tick(&b, -1, k == 5 ? 77 : -1, 0);
    check(rng_state == end_rng && memcmp(a.near_rx, b.near_rx, nrx) == 0 && memcmp(a.far_rx, b.far_rx, nrx) == 0
              && memcmp(a.near_tx, b.near_tx, ntx) == 0,
          "a restored pair continues identically");
    uint8_t junk[64] = {0};
    check(cc_e1_rx_restore(a.near_rx, junk, sizeof(junk)) == CC_ERR_STATE, "restore refuses junk");
    link_free(&a);
    link_free(&b);
}

static void test_args(void)
{
    uint8_t one[1] = {1};
    check(cc_e1_tx_state_size(0) == 0 && cc_e1_rx_state_size(CC_E1_MAX_SPANS + 1) == 0, "span count range");
    check(cc_e1_tx_init(NULL, 1, NULL, one, 0) == NULL, "init refuses NULL flags");
    cc_e1_tx_t *tx = cc_e1_tx_init(NULL, 1, one, one, 0);
    cc_e1_rx_t *rx = cc_e1_rx_init(NULL, 1, one, one);
    cc_e1_change_t ch[30];
    uint8_t x[TICK] = {0};
    check(cc_e1_tx_set_bits(tx, 1, 3, 1) == CC_ERR_ARG && cc_e1_tx_set_bits(tx, 0, 32, 1) == CC_ERR_ARG,
          "set_bits range");
    check(cc_e1_rx_process(rx, x, ch, 29) == CC_ERR_SPACE, "too small a change buffer");
    check(cc_e1_rx_process(NULL, x, ch, 30) == CC_ERR_ARG && cc_e1_tx_process(tx, NULL, NULL, NULL) == CC_ERR_ARG,
          "NULL arguments");
    check(cc_e1_tx_process(tx, x, rx, NULL) == CC_OK && cc_e1_rx_process(rx, x, ch, 30) == 0, "one span works");
    cc_e1_tx_free(tx);
    cc_e1_rx_free(rx);
}

int main(void)
{
    test_crc4();
    test_align_and_clean(0);
    test_align_and_clean(1);
    test_save_restore();
    test_args();
    return report();
}
