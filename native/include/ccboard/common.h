/*
 * ccboard native core: what every kernel shares.
 *
 * Errors are negative cc_err codes; 0 (CC_OK) or a non-negative count means success.
 * cc_strerror() names each code. No kernel keeps global mutable state: read-only
 * tables are the only file-scope data.
 *
 * CC_HOT marks the few block-rate loops that are built twice, for a portable x86-64
 * baseline and for AVX2, with gcc's target_clones; the loader picks one (ifunc) on the
 * machine it runs on. Both clones compute bit-identical results: C99 mode keeps
 * -ffp-contract=off, so no FMA contraction changes rounding between them.
 */
#ifndef CCBOARD_COMMON_H
#define CCBOARD_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Sample rate of every kernel, in Hz (8 kHz G.711 telephony). */
#define CC_SAMPLE_RATE 8000

typedef enum {
    CC_OK = 0,
    CC_ERR_ARG = -1,      /**< a NULL pointer or an out-of-range argument */
    CC_ERR_NOMEM = -2,    /**< allocation failed (init with NULL memory) */
    CC_ERR_SPACE = -3,    /**< the caller's output buffer is too small: nothing was consumed */
    CC_ERR_STATE = -4,    /**< a state blob that is not one of ours (save/restore) */
} cc_err;

/** How 8-bit or 16-bit samples are coded on a channel. */
typedef enum {
    CC_LAW_LINEAR = 0,  /**< int16 linear PCM */
    CC_LAW_ALAW = 1,    /**< G.711 A-law octets as on the line */
    CC_LAW_ULAW = 2,    /**< G.711 mu-law octets as on the line */
} cc_law;

/** A static, human-readable name for an error code. */
const char *cc_strerror(int err);

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) \
    && !defined(__SANITIZE_ADDRESS__) && !defined(CC_NO_CLONES)
#define CC_HOT __attribute__((target_clones("avx2", "default")))
#else
#define CC_HOT
#endif

/* CC_COLD keeps a rare path (a block end, an error) out of the caller's registers. */
#if defined(__GNUC__)
#define CC_COLD __attribute__((noinline))
#else
#define CC_COLD
#endif

#ifdef __cplusplus
}
#endif
#endif
