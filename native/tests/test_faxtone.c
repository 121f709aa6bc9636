/* Fax tones: our generator into our receiver: CNG, ANS, ANSam, ANS/ with the EC-disable event. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/private/faxtone.h"

#include "check.h"

static int run(int tone, int chunk, cc_faxtone_event_t *ev, int max)
{
    enum { N = 8000 * 5 };
    int16_t *x = calloc(N, sizeof(int16_t));
    cc_faxtone_tx_t tx;
    cc_faxtone_tx_init(&tx, tone, -15.0f, tone == CC_FAXTONE_CNG ? 0 : 3300);
    cc_faxtone_tx_generate(&tx, x, N);
    cc_faxtone_rx_t *rx = cc_faxtone_rx_init(NULL, NULL, 3);
    cc_faxtone_event_t buf[64];
    int nev = 0;
    for (int i = 0; i < N; i += chunk) {
        int n = chunk < N - i ? chunk : N - i;
        int k = cc_faxtone_rx_process(rx, CC_LAW_LINEAR, x + i, (size_t)n, buf, 64);
        for (int j = 0; j < k && nev < max; j++)
            ev[nev++] = buf[j];
    }
    cc_faxtone_rx_free(rx);
    free(x);
    return nev;
}

static int has(const cc_faxtone_event_t *ev, int n, int kind, int tone)
{
    for (int i = 0; i < n; i++)
        if (ev[i].kind == kind && (tone < 0 || ev[i].tone == tone))
            return 1;
    return 0;
}

int main(void)
{
    cc_faxtone_event_t a[64], b[64];
    int n = run(CC_FAXTONE_CNG, 160, a, 64);
    CHECK(has(a, n, CC_FAXTONE_EV_TONE, CC_FAXTONE_CNG));
    n = run(CC_FAXTONE_ANS, 160, a, 64);
    CHECK(has(a, n, CC_FAXTONE_EV_TONE, CC_FAXTONE_ANS) && !has(a, n, CC_FAXTONE_EV_EC_DISABLE, -1));
    n = run(CC_FAXTONE_ANSAM, 160, a, 64);
    CHECK(has(a, n, CC_FAXTONE_EV_TONE, CC_FAXTONE_ANSAM));
    n = run(CC_FAXTONE_ANS_PR, 160, a, 64);
    CHECK(has(a, n, CC_FAXTONE_EV_EC_DISABLE, -1) && has(a, n, CC_FAXTONE_EV_REVERSAL, CC_FAXTONE_ANS_PR));
    int m = run(CC_FAXTONE_ANS_PR, 7, b, 64);
    CHECK(n == m && memcmp(a, b, (size_t)n * sizeof(a[0])) == 0);
    cc_faxtone_rx_config_t bad;
    cc_faxtone_rx_config_default(&bad);
    bad.cng_tolerance_hz = -1.0f;
    CHECK(cc_faxtone_rx_init(NULL, &bad, 0) == NULL);
    cc_faxtone_rx_t rx;
    unsigned char junk[sizeof(rx)];
    memset(junk, 0x33, sizeof(junk));
    CHECK(cc_faxtone_rx_restore(&rx, junk, sizeof(junk)) == CC_ERR_STATE);
    return report();
}
