/*
 * G.711 kernel against ITU-T G.191 (STL) reference vectors and G.711 Tables 3/4.
 *
 *   test_g711 G191_DIR     (the folder holding sweep.src, sweep-r.a, ... sweep-r.u-u)
 *
 * Checks every code path of native/src/g711.c: all 65,536 inputs encoded (A and mu), every
 * code decoded, the encode-decode round trips, single channel at every unrolled tail length,
 * batch == per-row single with strides, the inline one-sample forms, and the transcoding
 * tables' G.711 properties. Prints "N passed, N failed"; exit status 1 on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/g711.h"

#include "check.h"

#define NWORDS 65536

/* Read a G.191 file: 65,536 little-endian 16-bit words. Returns 0 on success. */
static int read_words(const char *dir, const char *name, int16_t *w)
{
    char path[4096];
    unsigned char *raw = malloc(2 * NWORDS);
    FILE *f;
    size_t got;

    if (raw == NULL)
        return -1;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (f == NULL) {
        printf("cannot open %s\n", path);
        free(raw);
        return -1;
    }
    got = fread(raw, 1, 2 * NWORDS, f);
    fclose(f);
    if (got != 2 * NWORDS) {
        printf("%s: %zu bytes, expected %d\n", path, got, 2 * NWORDS);
        free(raw);
        return -1;
    }
    for (size_t i = 0; i < NWORDS; i++)
        w[i] = (int16_t)(uint16_t)(raw[2 * i] | (raw[2 * i + 1] << 8));
    free(raw);
    return 0;
}

/* Count positions where two arrays differ; print the first. */
static size_t diff16(const char *what, const int16_t *a, const int16_t *b, size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i] && bad++ == 0)
            printf("  %s: first difference at %zu: %d != %d\n", what, i, a[i], b[i]);
    }
    return bad;
}

static size_t diff8(const char *what, const uint8_t *a, const uint8_t *b, size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i] && bad++ == 0)
            printf("  %s: first difference at %zu: 0x%02X != 0x%02X\n", what, i, a[i], b[i]);
    }
    return bad;
}

typedef void (*enc_fn)(uint8_t *restrict, const int16_t *restrict, size_t);
typedef void (*dec_fn)(int16_t *restrict, const uint8_t *restrict, size_t);
typedef void (*map_fn)(uint8_t *restrict, const uint8_t *restrict, size_t);
typedef void (*enc_batch_fn)(uint8_t *restrict, size_t, const int16_t *restrict, size_t, size_t, size_t);
typedef void (*dec_batch_fn)(int16_t *restrict, size_t, const uint8_t *restrict, size_t, size_t, size_t);

typedef struct {
    const char *name;
    const char *code_file, *dec_file, *round_file;
    enc_fn enc;
    dec_fn dec;
    enc_batch_fn enc_batch;
    dec_batch_fn dec_batch;
    uint8_t (*enc1)(int16_t);
    int16_t (*dec1)(uint8_t);
    uint8_t silence;
    int16_t max_decoded;
} law_t;

static uint8_t enc1_a(int16_t x) { return cc_linear_to_alaw(x); }
static uint8_t enc1_u(int16_t x) { return cc_linear_to_ulaw(x); }
static int16_t dec1_a(uint8_t c) { return cc_alaw_to_linear(c); }
static int16_t dec1_u(uint8_t c) { return cc_ulaw_to_linear(c); }

static const law_t laws[2] = {
    {"A-law", "sweep-r.a", "sweep-r.rea", "sweep-r.a-a", cc_g711_alaw_encode, cc_g711_alaw_decode,
     cc_g711_alaw_encode_batch, cc_g711_alaw_decode_batch, enc1_a, dec1_a, 0xD5, 32256},
    {"mu-law", "sweep-r.u", "sweep-r.reu", "sweep-r.u-u", cc_g711_ulaw_encode, cc_g711_ulaw_decode,
     cc_g711_ulaw_encode_batch, cc_g711_ulaw_decode_batch, enc1_u, dec1_u, 0xFF, 32124},
};

static void test_law(const law_t *L, const char *dir, const int16_t *src, int16_t *ref_w,
                     uint8_t *ref_code, uint8_t *code, int16_t *lin, int16_t *ref_lin)
{
    char what[160];
    size_t bad;

    /* Every linear input encoded, one call over all 65,536. */
    if (read_words(dir, L->code_file, ref_w) != 0) {
        check(0, L->code_file);
        return;
    }
    for (size_t i = 0; i < NWORDS; i++)
        ref_code[i] = (uint8_t)(ref_w[i] & 0xFF);
    L->enc(code, src, NWORDS);
    snprintf(what, sizeof what, "%s encode of sweep.src == %s", L->name, L->code_file);
    check(diff8(what, code, ref_code, NWORDS) == 0, "%s", what);

    bad = 0;
    for (size_t i = 0; i < NWORDS; i++)
        bad += L->enc1(src[i]) != ref_code[i];
    snprintf(what, sizeof what, "%s inline one-sample encode == %s", L->name, L->code_file);
    check(bad == 0, "%s", what);

    /* Every code decoded: the reference codes then all 256 values. */
    if (read_words(dir, L->dec_file, ref_lin) != 0) {
        check(0, L->dec_file);
        return;
    }
    L->dec(lin, ref_code, NWORDS);
    snprintf(what, sizeof what, "%s decode of %s == %s", L->name, L->code_file, L->dec_file);
    check(diff16(what, lin, ref_lin, NWORDS) == 0, "%s", what);

    bad = 0;
    for (size_t i = 0; i < NWORDS; i++)
        bad += L->dec1(ref_code[i]) != ref_lin[i];
    snprintf(what, sizeof what, "%s inline one-sample decode == %s", L->name, L->dec_file);
    check(bad == 0, "%s", what);

    /* Round trip linear -> code -> linear, compared with the third file. */
    if (read_words(dir, L->round_file, ref_lin) != 0) {
        check(0, L->round_file);
        return;
    }
    L->dec(lin, code, NWORDS);
    snprintf(what, sizeof what, "%s encode+decode of sweep.src == %s", L->name, L->round_file);
    check(diff16(what, lin, ref_lin, NWORDS) == 0, "%s", what);

    /* Idle and full scale. */
    snprintf(what, sizeof what, "%s: 0 encodes to 0x%02X", L->name, L->silence);
    check(L->enc1(0) == L->silence, "%s", what);
    {
        int16_t lo = 0, hi = 0;
        uint8_t all[256];
        int16_t dec[256];
        for (int c = 0; c < 256; c++)
            all[c] = (uint8_t)c;
        L->dec(dec, all, 256);
        for (int c = 0; c < 256; c++) {
            lo = dec[c] < lo ? dec[c] : lo;
            hi = dec[c] > hi ? dec[c] : hi;
        }
        snprintf(what, sizeof what, "%s decodes to +-%d at most", L->name, L->max_decoded);
        check(hi == L->max_decoded && lo == -L->max_decoded, "%s", what);
        /* Every code re-encodes to itself, except the codes G.711 never emits: none for A-law;
           for mu-law, negative zero (0x7F) encodes back to positive zero (0xFF). */
        bad = 0;
        for (int c = 0; c < 256; c++) {
            uint8_t back = L->enc1(dec[c]);
            if (back != c && !(L->silence == 0xFF && c == 0x7F && back == 0xFF))
                bad++;
        }
        snprintf(what, sizeof what, "%s decode then encode gives the code back", L->name);
        check(bad == 0, "%s", what);
    }
}

/* Single-channel calls at every length 0..9 and at odd offsets: the unrolled body and
   each tail length agree with one call over the whole buffer. */
static void test_tails(const law_t *L, const int16_t *src, const uint8_t *ref_code, const int16_t *ref_lin)
{
    uint8_t code[64];
    int16_t lin[64];
    char what[160];
    size_t bad = 0;

    for (size_t off = 0; off < 40; off += 7) {
        for (size_t n = 0; n <= 9; n++) {
            memset(code, 0xAA, sizeof code);
            L->enc(code, src + 30000 + off, n);
            bad += diff8("tail encode", code, ref_code + 30000 + off, n) != 0;
            bad += code[n] != 0xAA; /* nothing written past n */
            for (size_t i = 0; i < 64; i++)
                lin[i] = 0x5A5A;
            L->dec(lin, code, n);
            bad += diff16("tail decode", lin, ref_lin + 30000 + off, n) != 0;
            bad += lin[n] != 0x5A5A;
        }
    }
    snprintf(what, sizeof what, "%s single-channel lengths 0..9 and offsets", L->name);
    check(bad == 0, "%s", what);
}

/* Batch over channels with row strides wider than the row == the single call per row. */
static void test_batch(const law_t *L, const int16_t *src)
{
    enum { NCH = 7, NS = 37, IN_STRIDE = 45, OUT_STRIDE = 41 };
    int16_t in[NCH * IN_STRIDE], lin[NCH * IN_STRIDE], lin1[NS];
    uint8_t code[NCH * OUT_STRIDE], code1[NS];
    char what[160];
    size_t bad = 0;

    for (size_t i = 0; i < NCH * IN_STRIDE; i++)
        in[i] = src[(i * 2654435761u) % NWORDS]; /* spread over the whole range */
    memset(code, 0xAA, sizeof code);
    L->enc_batch(code, OUT_STRIDE, in, IN_STRIDE, NCH, NS);
    for (size_t c = 0; c < NCH; c++) {
        L->enc(code1, in + c * IN_STRIDE, NS);
        bad += diff8("batch encode row", code + c * OUT_STRIDE, code1, NS) != 0;
        for (size_t i = NS; i < OUT_STRIDE; i++)
            bad += code[c * OUT_STRIDE + i] != 0xAA; /* gaps between rows untouched */
    }
    for (size_t i = 0; i < NCH * IN_STRIDE; i++)
        lin[i] = 0x5A5A;
    L->dec_batch(lin, IN_STRIDE, code, OUT_STRIDE, NCH, NS);
    for (size_t c = 0; c < NCH; c++) {
        L->dec(lin1, code + c * OUT_STRIDE, NS);
        bad += diff16("batch decode row", lin + c * IN_STRIDE, lin1, NS) != 0;
        for (size_t i = NS; i < IN_STRIDE; i++)
            bad += lin[c * IN_STRIDE + i] != 0x5A5A;
    }
    /* Packed rows (stride == samples) take the one-long-row path: same result. */
    L->enc_batch(code, NS, in, NS, NCH, NS);
    for (size_t c = 0; c < NCH; c++) {
        L->enc(code1, in + c * NS, NS);
        bad += diff8("packed batch encode row", code + c * NS, code1, NS) != 0;
    }
    L->dec_batch(lin, NS, code, NS, NCH, NS);
    for (size_t c = 0; c < NCH; c++) {
        L->dec(lin1, code + c * NS, NS);
        bad += diff16("packed batch decode row", lin + c * NS, lin1, NS) != 0;
    }
    /* Zero channels and zero samples write nothing. */
    L->enc_batch(code, OUT_STRIDE, in, IN_STRIDE, 0, NS);
    L->enc_batch(code, OUT_STRIDE, in, IN_STRIDE, NCH, 0);
    L->enc(code1, in, NS);
    bad += diff8("batch after empty calls", code, code1, NS) != 0;
    snprintf(what, sizeof what, "%s batch == per-row single (strides %d/%d, and packed)", L->name, IN_STRIDE,
             OUT_STRIDE);
    check(bad == 0, "%s", what);
}

/* Decoder output value numbers (G.711): mu-law 0..127, 0 = smallest; A-law 1..128. */
static int mu_num(uint8_t c) { return ~c & 0x7F; }
static int a_num(uint8_t c) { return ((c ^ 0x55) & 0x7F) + 1; }

static void test_transcoding(void)
{
    static const int mu_changed[8] = {0, 2, 4, 6, 8, 10, 12, 14};
    static const int a_changed[8] = {26, 28, 30, 32, 45, 47, 63, 80};
    uint8_t all[256], a2u[256], u2a[256], a2u2a[256], u2a2u[256];
    int sign_ok = 1, note_mu = 1, note_a = 1, mono = 1, tails = 1;

    for (int c = 0; c < 256; c++)
        all[c] = (uint8_t)c;
    cc_g711_alaw_to_ulaw(a2u, all, 256);
    cc_g711_ulaw_to_alaw(u2a, all, 256);
    cc_g711_ulaw_to_alaw(a2u2a, a2u, 256);
    cc_g711_alaw_to_ulaw(u2a2u, u2a, 256);

    for (int c = 0; c < 256; c++) {
        int is_mu_changed = 0, is_a_changed = 0;
        for (int k = 0; k < 8; k++) {
            is_mu_changed |= mu_num((uint8_t)c) == mu_changed[k];
            is_a_changed |= a_num((uint8_t)c) == a_changed[k];
        }
        /* Sign is kept (A-law sign bit survives the 0x55 inversion). */
        sign_ok &= (a2u[c] & 0x80) == (c & 0x80) && (u2a[c] & 0x80) == (c & 0x80);
        sign_ok &= a2u[c] == cc_g711_alaw_to_ulaw_table[c] && u2a[c] == cc_g711_ulaw_to_alaw_table[c];
        /* G.711 Note 2 to Table 3: mu-A-mu changes only mu numbers 0, 2, ..., 14, by + 1,
           which is bit 8 (the LSB) of the octet. */
        note_mu &= is_mu_changed ? u2a2u[c] == (c ^ 1) && mu_num(u2a2u[c]) == mu_num((uint8_t)c) + 1
                                 : u2a2u[c] == c;
        /* Note 2 to Table 4: A-mu-A changes only A numbers 26, 28, 30, 32, 45, 47, 63, 80, and
           again only bit 8. */
        note_a &= is_a_changed ? a2u2a[c] == (c ^ 1) : a2u2a[c] == c;
    }
    /* Both tables are monotonic in the decoder output value number, on each sign. */
    for (int num = 1; num < 128; num++) {
        for (int pos = 0; pos < 2; pos++) {
            uint8_t mu_lo = (uint8_t)((pos ? 0x80 : 0) | (0x7F - (num - 1)));
            uint8_t mu_hi = (uint8_t)((pos ? 0x80 : 0) | (0x7F - num));
            uint8_t a_lo = (uint8_t)(((pos ? 0x80 : 0) | (num - 1)) ^ 0x55);
            uint8_t a_hi = (uint8_t)(((pos ? 0x80 : 0) | num) ^ 0x55);
            mono &= a_num(u2a[mu_lo]) <= a_num(u2a[mu_hi]) && mu_num(a2u[a_lo]) <= mu_num(a2u[a_hi]);
        }
    }
    /* Single-call tails of the transcoders. */
    for (size_t n = 0; n <= 9; n++) {
        uint8_t o[16];
        memset(o, 0xAA, sizeof o);
        cc_g711_ulaw_to_alaw(o, all + 100, n);
        tails &= diff8("u2a tail", o, u2a + 100, n) == 0 && o[n] == 0xAA;
        memset(o, 0xAA, sizeof o);
        cc_g711_alaw_to_ulaw(o, all + 3, n);
        tails &= diff8("a2u tail", o, a2u + 3, n) == 0 && o[n] == 0xAA;
    }
    check(sign_ok, "transcoding keeps the sign and equals the tables");
    check(note_mu, "mu-A-mu changes only mu numbers 0,2,...,14 (+1, LSB only) (G.711 Table 3 Note 2)");
    check(note_a, "A-mu-A changes only A numbers 26,28,30,32,45,47,63,80 (LSB only) (G.711 Table 4 Note 2)");
    check(mono, "transcoding tables are monotonic");
    check(tails, "transcoding lengths 0..9");
    /* Silence maps to silence; full scale to full scale. */
    check(u2a[0xFF] == 0xD5 && u2a[0x7F] == 0x55 && a2u[0xD5] == 0xFE && a2u[0x55] == 0x7E,
          "smallest magnitudes: mu 0 -> A 1, A 1 -> mu 1 (G.711 Tables 3/4)");
    check(u2a[0x80] == 0xAA && a2u[0xAA] == 0x80 && u2a[0x00] == 0x2A && a2u[0x2A] == 0x00,
          "full scale maps to full scale");
}

int main(int argc, char **argv)
{
    int16_t *src = malloc(NWORDS * sizeof *src), *w = malloc(NWORDS * sizeof *w);
    int16_t *lin = malloc(NWORDS * sizeof *lin), *ref_lin = malloc(NWORDS * sizeof *ref_lin);
    uint8_t *ref_code = malloc(NWORDS), *code = malloc(NWORDS);

    if (argc != 2) {
        fprintf(stderr, "usage: %s G191_DIR (the ITU-T G.191 G.711 vectors)\n", argv[0]);
        return 2;
    }
    if (!src || !w || !lin || !ref_lin || !ref_code || !code) {
        fprintf(stderr, "out of memory\n");
        return 2;
    }
    if (read_words(argv[1], "sweep.src", src) != 0) {
        check(0, "read sweep.src");
    } else {
        int ok = 1;
        for (size_t i = 0; i < NWORDS; i++)
            ok &= src[i] == (int16_t)(i - 32768);
        check(ok, "sweep.src is every int16 from -32768 to 32767");
        for (int k = 0; k < 2; k++) {
            test_law(&laws[k], argv[1], src, w, ref_code, code, lin, ref_lin);
            /* ref_code: the law's reference codes; ref_lin: its round-trip file. */
            test_tails(&laws[k], src, ref_code, ref_lin);
            test_batch(&laws[k], src);
        }
    }
    test_transcoding();

    free(src);
    free(w);
    free(lin);
    free(ref_lin);
    free(ref_code);
    free(code);
    return report();
}
