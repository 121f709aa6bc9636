/* AMD state layout. Private; no pointers inside, so a state can be saved and restored as bytes. */
#ifndef CCBOARD_PRIVATE_AMD_H
#define CCBOARD_PRIVATE_AMD_H

#include "ccboard/amd.h"

#define CC_AMD_MAGIC 0x31444D41u /* "AMD1" */
#define CC_AMD_BEEP_BLOCK 40     /* 5 ms */
#define CC_AMD_FRAME_MAX 320     /* 40 ms */

struct cc_amd_s {
    uint32_t magic;
    int32_t channel;
    cc_amd_config_t cfg;
    int64_t t;                /* samples consumed */
    /* app_amd's variables, in ms */
    int32_t frame_len;        /* samples per frame */
    int32_t frame_fill;
    int64_t frame_abs;        /* sum |x| of the frame being filled */
    int32_t total_ms;
    int32_t voice_ms;
    int32_t silence_ms;       /* silence in a row */
    int32_t consecutive_voice_ms;
    int32_t words;
    int32_t in_word;          /* STATE_IN_WORD (1) / STATE_IN_SILENCE (0) */
    int32_t in_initial_silence;
    int32_t in_greeting;
    int32_t result;
    int64_t first_voice;      /* sample where the first voice frame began, -1 */
    /* beep */
    int32_t beep_fill;
    int32_t beep_run;         /* tonal windows in this run */
    int32_t beep_miss;        /* non-tonal windows in a row inside the run */
    int32_t beep_done;        /* reported for this run */
    int32_t beep_eligible;    /* the run began after speech was heard */
    int64_t armed_at;         /* sample where min_word_ms of voice had been heard, -1 */
    double beep_fsum;
    double beep_psum;
    int64_t beep_start;       /* estimated onset of the run's tone */
    double prev_sums[4];      /* the previous block's predictor sums */
    float beep_past[2 * CC_AMD_BEEP_BLOCK]; /* the two blocks before the one being filled */
    float beep_buf[CC_AMD_BEEP_BLOCK];
    float min_beep_power;
    float purity;
};

#endif
