/* Conference mixer state layout. Private: only the kernel and bindings that embed a state
 * include it. One block: this header, then arrays whose offsets follow from the config. It
 * holds no pointer, so it can be saved and restored as bytes. */
#ifndef CCBOARD_PRIVATE_CONF_H
#define CCBOARD_PRIVATE_CONF_H

#include "ccboard/conf.h"

#define CC_CONF_MAGIC 0x31464e43u /* "CNF1" */

/* One member; 40 bytes. tx/rx/rx2 are mix indices derived from conference, role and target
 * (conference c mixes into mix c; the whisperers coaching member m into mix conferences + m),
 * recomputed on restore, never trusted. */
typedef struct {
    int32_t conference; /* -1: none */
    int32_t role;       /* CC_CONF_* */
    int32_t target;     /* WHISPER: the coached member; else -1 */
    int32_t coached;    /* whisperers whose target this member is */
    int32_t tx;         /* mix this member talks into, -1 none */
    int32_t rx;         /* mix it hears (minus itself when tx == rx), -1 none */
    int32_t rx2;        /* the coaching mix it also hears, -1 none */
    float power;        /* smoothed mean-square power, int16 scale */
    int64_t energy;     /* sum of squares in the current power block */
} cc_conf_member_t;

typedef struct {
    int32_t loudest;    /* member, -1 none */
    int32_t best;       /* scratch at a power block end */
    float best_power;   /* scratch */
    int32_t reserved;
} cc_conf_room_t;

struct cc_conf_s {
    uint32_t magic;
    uint32_t allocated;  /* init allocated it */
    cc_conf_config_t cfg;
    float alpha;         /* one-pole smoothing factor per power block */
    float floor_power;   /* loudest_floor_dbm0 as int16-scale mean square */
    float hysteresis;    /* loudest_hysteresis_db as a power ratio */
    uint32_t fill;       /* samples into the current power block (= t mod CC_CONF_POWER_BLOCK) */
    int64_t t;           /* samples processed */
    uint64_t size;       /* bytes of the whole state */
    /* followed by, each 64-byte aligned:
     *   cc_conf_member_t member[members]
     *   cc_conf_room_t room[conferences]
     *   int32_t acc[(conferences + members) * CC_CONF_BLOCK]   scratch: the mixes
     *   int16_t lin[members * CC_CONF_BLOCK]                   scratch: decoded G.711 input */
};

static inline size_t cc_conf_align64_(size_t n) { return (n + 63u) & ~(size_t)63u; }

typedef struct {
    size_t member, room, acc, lin, size;
} cc_conf_layout_t;

static inline cc_conf_layout_t cc_conf_layout_(size_t members, size_t conferences)
{
    cc_conf_layout_t l;
    l.member = cc_conf_align64_(sizeof(struct cc_conf_s));
    l.room = l.member + cc_conf_align64_(members * sizeof(cc_conf_member_t));
    l.acc = l.room + cc_conf_align64_(conferences * sizeof(cc_conf_room_t));
    l.lin = l.acc + cc_conf_align64_((conferences + members) * CC_CONF_BLOCK * sizeof(int32_t));
    l.size = l.lin + cc_conf_align64_(members * CC_CONF_BLOCK * sizeof(int16_t));
    return l;
}

#endif
