/* Tone generator state. No pointers: a state can be saved and restored as bytes. */
#ifndef CCBOARD_PRIVATE_TONE_H
#define CCBOARD_PRIVATE_TONE_H

#include "ccboard/tone.h"

#define CC_TONE_TX_MAGIC 0x31544e54u /* "TNT1" */
/* oscillator phase is recomputed exactly every CC_TONE_ANCHOR samples of a segment */
#define CC_TONE_ANCHOR 64

struct cc_tone_tx_s {
    uint32_t magic;
    int32_t nseg;
    int32_t loop_start;     /* first segment not marked once */
    int32_t seg;            /* segment sounding */
    int64_t pos;            /* samples into it */
    int64_t t;              /* samples since init/reset */
    cc_tone_segment_t def[CC_TONE_MAX_SEGMENTS];
    /* derived from the segment sounding (recomputed on restore): peak amplitudes, and
       exp(i w k) for k < CC_TONE_ANCHOR, so sample pos = Im(exp(i w anchor) exp(i w k)) */
    double amp[2];
    double depth;           /* modulation: m of 0.9 (1 - m sin) */
    double rot[2][CC_TONE_ANCHOR][2];
};

#endif
