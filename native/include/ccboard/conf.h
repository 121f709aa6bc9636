/*
 * Conference mixer: many conferences in one call per chunk, over one flat member table.
 *
 * What: member m (row m of the input and output) belongs to at most one conference and has
 * a role: PARTY (heard by everyone in the conference, hears everyone but itself), LISTEN
 * (listen-only; a supervisor monitoring an agent's call), WHISPER (a supervisor coaching an
 * agent: hears the whole conference, heard by that agent only, the caller does not hear it).
 * A supervisor barges in by becoming a PARTY. Several whisperers may coach one agent; a
 * listen-only member may be coached too. The loudest talker of each conference is tracked and
 * reported as an event when it changes.
 * How: per block of at most CC_CONF_BLOCK samples, each conference's talkers are summed into
 * an int32 mix, and each member hears mix - own (if it talks into that mix) + the mix of the
 * whisperers coaching it; the result is saturated to int16 (clipped, never wrapped). The sum
 * is exact: total minus own equals the sum of the others, with no rounding anywhere. Inputs
 * can be G.711 octets (decoded by table first) and outputs are then encoded to the same law.
 * Loudest talker: each PARTY member's mean-square power over 20 ms blocks (aligned to the
 * sample count) is smoothed by a one-pole filter (time constant loudest_tau_ms); at each block
 * end a conference's loudest becomes the strongest party if that one is above
 * loudest_floor_dbm0 and louder than the current one by loudest_hysteresis_db (or the current
 * one left, stopped talking into it, or fell below the floor: then the strongest above the
 * floor, or none = -1).
 * Changes (join, leave, role) take effect from the next call's first sample.
 * Meets (tests/dsp/test_conf.py, native/tests/test_conf.c): every output sample equals a
 * float reference of the same rules, clipped to int16, including saturation; any split of the
 * input into blocks gives the same output and events.
 */
#ifndef CCBOARD_CONF_H
#define CCBOARD_CONF_H

#include "ccboard/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Members and conferences in one mixer, at most. */
#define CC_CONF_MAX_MEMBERS 65536
#define CC_CONF_MAX_CONFERENCES 65536
/** Samples mixed per internal pass. */
#define CC_CONF_BLOCK 16
/** Loudest-talker power block (20 ms). */
#define CC_CONF_POWER_BLOCK 160

/** Member roles. */
enum {
    CC_CONF_NONE = 0,    /**< not in a conference: its output is silence */
    CC_CONF_PARTY = 1,   /**< talks and listens (a supervisor who barges in is one) */
    CC_CONF_LISTEN = 2,  /**< listen-only (a supervisor monitoring) */
    CC_CONF_WHISPER = 3, /**< listens to all, heard only by its target member */
};

/** One loudest-talker change; 24 bytes, no padding. */
typedef struct {
    int32_t conference;
    int32_t member;      /**< the new loudest talker, -1 if none */
    int32_t previous;    /**< the one before, -1 if none */
    float level_dbm0;    /**< the new one's smoothed power (-200 if none) */
    int64_t at;          /**< sample index of the power block end that decided it */
} cc_conf_event_t;

typedef struct {
    uint32_t members;            /**< rows, 1..CC_CONF_MAX_MEMBERS; default 1024 */
    uint32_t conferences;        /**< 1..CC_CONF_MAX_CONFERENCES; default 256 */
    float loudest_tau_ms;        /**< power smoothing time constant, 20..10000; default 300 ms */
    float loudest_floor_dbm0;    /**< quieter is not talking, -90..0; default -45 dBm0 */
    float loudest_hysteresis_db; /**< a challenger must be louder by, 0..20; default 3 dB */
} cc_conf_config_t;

typedef struct cc_conf_s cc_conf_t;

void cc_conf_config_default(cc_conf_config_t *cfg);
/** Bytes of a mixer state for this config (0 if out of range). */
size_t cc_conf_state_size(const cc_conf_config_t *cfg);
/** Initialise in mem (cc_conf_state_size bytes, 8-byte aligned) or allocate (mem NULL). Empty. */
cc_conf_t *cc_conf_init(void *mem, const cc_conf_config_t *cfg);
/** Back to the state after init: no member, time 0. */
int cc_conf_reset(cc_conf_t *s);
int cc_conf_release(cc_conf_t *s);
int cc_conf_free(cc_conf_t *s);
/** Bytes of this state (a save holds them all; no pointer inside). */
size_t cc_conf_size(const cc_conf_t *s);
/** Load a saved state of the same config; CC_ERR_STATE, s unchanged, if it is not one. */
int cc_conf_restore(cc_conf_t *s, const void *saved, size_t len);

/**
 * Put member into conference with role (PARTY, LISTEN, or WHISPER with target = the coached
 * member, who must be in the same conference and not itself a whisperer). target is ignored
 * for other roles. Moving a member elsewhere drops whisperers that coached it to LISTEN.
 * CC_ERR_ARG on a bad index, role or target.
 */
int cc_conf_set(cc_conf_t *s, uint32_t member, uint32_t conference, int role, int32_t target);
/** Take member out of its conference (whisperers coaching it become LISTEN). */
int cc_conf_leave(cc_conf_t *s, uint32_t member);

int32_t cc_conf_conference(const cc_conf_t *s, uint32_t member); /**< -1 if none */
int cc_conf_role(const cc_conf_t *s, uint32_t member);
int32_t cc_conf_target(const cc_conf_t *s, uint32_t member);     /**< WHISPER's target, else -1 */
int32_t cc_conf_loudest(const cc_conf_t *s, uint32_t conference); /**< -1 if none */
/** A member's smoothed power (as of the last power block end), dBm0; -200 if silent. */
float cc_conf_power_dbm0(const cc_conf_t *s, uint32_t member);
int64_t cc_conf_samples(const cc_conf_t *s);
/** The most events one call over n samples can return. */
size_t cc_conf_max_events(const cc_conf_t *s, size_t n);

/**
 * Mix n samples. Row m of x (x + m*x_stride elements) is member m's input; row m of y its
 * output; every one of the config's members has a row (rows of members in no conference are
 * ignored on input and get silence / the law's idle code). law: int16 rows for CC_LAW_LINEAR,
 * G.711 octet rows otherwise (in and out). Events (loudest changes) to ev; returns their
 * count, CC_ERR_SPACE (nothing done) if max_ev < cc_conf_max_events(s, n), CC_ERR_ARG.
 */
int cc_conf_process(cc_conf_t *s, cc_law law, const void *x, size_t x_stride, void *y, size_t y_stride,
                    size_t n, cc_conf_event_t *ev, size_t max_ev);

#ifdef __cplusplus
}
#endif
#endif
