/*
 * Conference mixer: see native/include/ccboard/conf.h for what and how.
 *
 * Every member is a row; mixes are int32 rows of CC_CONF_BLOCK samples in the state's
 * scratch: mix c for conference c, mix (conferences + m) for the whisperers coaching member m.
 * Per block: (1) zero the mixes in use, (2) add each talker into its mix, (3) each member's
 * output = its mix - own + coaching mix, clipped to int16. All integer: exact, and the same for
 * any split of the input. The loops over samples have no branch; the choices (own or not,
 * coached or not) are made per row by pointing at a zero row or scaling by 0/1.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccboard/g711.h"
#include "ccboard/private/conf.h"

#define BLOCK CC_CONF_BLOCK
#define PBLOCK CC_CONF_POWER_BLOCK
/* 0 dBm0 = a sine of peak 22767 (spandsp's 3.14 dB reference), as the DTMF kernel uses. */
static const float DBM0_POWER = 22767.0f * 22767.0f / 2.0f;
static const int32_t ZEROS[BLOCK];

typedef struct {
    cc_conf_member_t *m;
    cc_conf_room_t *room;
    int32_t *acc;
    int16_t *lin;
} view_t;

static view_t view_of(cc_conf_t *s)
{
    cc_conf_layout_t l = cc_conf_layout_(s->cfg.members, s->cfg.conferences);
    char *b = (char *)s;
    view_t v;
    v.m = (cc_conf_member_t *)(b + l.member);
    v.room = (cc_conf_room_t *)(b + l.room);
    v.acc = (int32_t *)(b + l.acc);
    v.lin = (int16_t *)(b + l.lin);
    return v;
}

static int valid(const cc_conf_t *s) { return s != NULL && s->magic == CC_CONF_MAGIC; }

void cc_conf_config_default(cc_conf_config_t *cfg)
{
    if (cfg == NULL)
        return;
    cfg->members = 1024;
    cfg->conferences = 256;
    cfg->loudest_tau_ms = 300.0f;
    cfg->loudest_floor_dbm0 = -45.0f;
    cfg->loudest_hysteresis_db = 3.0f;
}

static int config_ok(const cc_conf_config_t *c)
{
    return c != NULL && c->members >= 1 && c->members <= CC_CONF_MAX_MEMBERS && c->conferences >= 1
           && c->conferences <= CC_CONF_MAX_CONFERENCES && c->loudest_tau_ms >= 20.0f
           && c->loudest_tau_ms <= 10000.0f && c->loudest_floor_dbm0 >= -90.0f && c->loudest_floor_dbm0 <= 0.0f
           && c->loudest_hysteresis_db >= 0.0f && c->loudest_hysteresis_db <= 20.0f;
}

size_t cc_conf_state_size(const cc_conf_config_t *cfg)
{
    return config_ok(cfg) ? cc_conf_layout_(cfg->members, cfg->conferences).size : 0;
}

static float power_to_dbm0(float p) { return p > 0.0f ? 10.0f * log10f(p / DBM0_POWER) : -200.0f; }

static void derive(cc_conf_t *s, cc_conf_member_t *m, uint32_t index)
{
    int32_t confs = (int32_t)s->cfg.conferences;
    m->tx = m->rx = m->rx2 = -1;
    if (m->role == CC_CONF_NONE)
        return;
    m->rx = m->conference;
    if (m->role == CC_CONF_PARTY)
        m->tx = m->conference;
    else if (m->role == CC_CONF_WHISPER)
        m->tx = confs + m->target;
    if (m->coached > 0)
        m->rx2 = confs + (int32_t)index;
}

static void clear(cc_conf_t *s)
{
    view_t v = view_of(s);
    s->t = 0;
    s->fill = 0;
    for (uint32_t i = 0; i < s->cfg.members; i++) {
        cc_conf_member_t *m = &v.m[i];
        memset(m, 0, sizeof(*m));
        m->conference = -1;
        m->role = CC_CONF_NONE;
        m->target = -1;
        derive(s, m, i);
    }
    for (uint32_t c = 0; c < s->cfg.conferences; c++) {
        v.room[c].loudest = -1;
        v.room[c].best = -1;
        v.room[c].best_power = 0.0f;
        v.room[c].reserved = 0;
    }
}

static void derive_limits(cc_conf_t *s)
{
    s->alpha = 1.0f - expf(-1000.0f * PBLOCK / CC_SAMPLE_RATE / s->cfg.loudest_tau_ms);
    s->floor_power = DBM0_POWER * powf(10.0f, s->cfg.loudest_floor_dbm0 / 10.0f);
    s->hysteresis = powf(10.0f, s->cfg.loudest_hysteresis_db / 10.0f);
}

cc_conf_t *cc_conf_init(void *mem, const cc_conf_config_t *cfg)
{
    cc_conf_config_t d;
    if (cfg == NULL) {
        cc_conf_config_default(&d);
        cfg = &d;
    }
    if (!config_ok(cfg))
        return NULL;
    size_t size = cc_conf_state_size(cfg);
    cc_conf_t *s = mem != NULL ? (cc_conf_t *)mem : (cc_conf_t *)calloc(1, size);
    if (s == NULL)
        return NULL;
    memset(s, 0, size);
    s->magic = CC_CONF_MAGIC;
    s->allocated = mem == NULL;
    s->cfg = *cfg;
    s->size = size;
    derive_limits(s);
    clear(s);
    return s;
}

int cc_conf_reset(cc_conf_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    clear(s);
    return CC_OK;
}

int cc_conf_release(cc_conf_t *s) { return valid(s) ? CC_OK : CC_ERR_ARG; }

int cc_conf_free(cc_conf_t *s)
{
    if (!valid(s))
        return CC_ERR_ARG;
    if (s->allocated) {
        s->magic = 0;
        free(s);
    }
    return CC_OK;
}

size_t cc_conf_size(const cc_conf_t *s) { return valid(s) ? (size_t)s->size : 0; }

/* ---- membership (rare path) ---- */

/* Whisperers coaching member i go back to listening (their target left or changed). */
CC_COLD static void drop_coaches(cc_conf_t *s, view_t *v, uint32_t i)
{
    if (v->m[i].coached == 0)
        return;
    for (uint32_t k = 0; k < s->cfg.members; k++) {
        cc_conf_member_t *w = &v->m[k];
        if (w->role == CC_CONF_WHISPER && w->target == (int32_t)i) {
            w->role = CC_CONF_LISTEN;
            w->target = -1;
            derive(s, w, k);
        }
    }
    v->m[i].coached = 0;
    derive(s, &v->m[i], i);
}

static void unlink_target(cc_conf_t *s, view_t *v, cc_conf_member_t *m)
{
    if (m->role == CC_CONF_WHISPER && m->target >= 0) {
        uint32_t t = (uint32_t)m->target;
        v->m[t].coached--;
        derive(s, &v->m[t], t);
    }
    m->target = -1;
}

int cc_conf_set(cc_conf_t *s, uint32_t member, uint32_t conference, int role, int32_t target)
{
    if (!valid(s) || member >= s->cfg.members || conference >= s->cfg.conferences)
        return CC_ERR_ARG;
    if (role != CC_CONF_PARTY && role != CC_CONF_LISTEN && role != CC_CONF_WHISPER)
        return CC_ERR_ARG;
    view_t v = view_of(s);
    cc_conf_member_t *m = &v.m[member];
    if (role == CC_CONF_WHISPER) {
        if (target < 0 || (uint32_t)target >= s->cfg.members || (uint32_t)target == member)
            return CC_ERR_ARG;
        const cc_conf_member_t *t = &v.m[target];
        if (t->conference != (int32_t)conference || t->role == CC_CONF_WHISPER)
            return CC_ERR_ARG;
    } else {
        target = -1;
    }
    /* a member whom others coach cannot itself coach, nor leave its conference with them */
    if (m->conference != (int32_t)conference || role == CC_CONF_WHISPER)
        drop_coaches(s, &v, member);
    unlink_target(s, &v, m);
    if (m->role != CC_CONF_PARTY || role != CC_CONF_PARTY || m->conference != (int32_t)conference) {
        m->energy = 0; /* a new talker starts its power afresh */
        m->power = 0.0f;
    }
    m->conference = (int32_t)conference;
    m->role = role;
    m->target = target;
    if (role == CC_CONF_WHISPER) {
        v.m[target].coached++;
        derive(s, &v.m[target], (uint32_t)target);
    }
    derive(s, m, member);
    return CC_OK;
}

int cc_conf_leave(cc_conf_t *s, uint32_t member)
{
    if (!valid(s) || member >= s->cfg.members)
        return CC_ERR_ARG;
    view_t v = view_of(s);
    cc_conf_member_t *m = &v.m[member];
    drop_coaches(s, &v, member);
    unlink_target(s, &v, m);
    m->conference = -1;
    m->role = CC_CONF_NONE;
    m->energy = 0;
    m->power = 0.0f;
    derive(s, m, member);
    return CC_OK;
}

int32_t cc_conf_conference(const cc_conf_t *s, uint32_t member)
{
    return valid(s) && member < s->cfg.members ? view_of((cc_conf_t *)s).m[member].conference : -1;
}

int cc_conf_role(const cc_conf_t *s, uint32_t member)
{
    return valid(s) && member < s->cfg.members ? view_of((cc_conf_t *)s).m[member].role : CC_CONF_NONE;
}

int32_t cc_conf_target(const cc_conf_t *s, uint32_t member)
{
    return valid(s) && member < s->cfg.members ? view_of((cc_conf_t *)s).m[member].target : -1;
}

int32_t cc_conf_loudest(const cc_conf_t *s, uint32_t conference)
{
    return valid(s) && conference < s->cfg.conferences ? view_of((cc_conf_t *)s).room[conference].loudest : -1;
}

float cc_conf_power_dbm0(const cc_conf_t *s, uint32_t member)
{
    if (!valid(s) || member >= s->cfg.members)
        return -200.0f;
    return power_to_dbm0(view_of((cc_conf_t *)s).m[member].power);
}

int64_t cc_conf_samples(const cc_conf_t *s) { return valid(s) ? s->t : 0; }

size_t cc_conf_max_events(const cc_conf_t *s, size_t n)
{
    return valid(s) ? (size_t)s->cfg.conferences * (n / PBLOCK + 1) : 0;
}

/* ---- mixing ---- */

CC_HOT static void add_row(int32_t *restrict acc, const int16_t *restrict x, size_t m)
{
    for (size_t j = 0; j < m; j++)
        acc[j] += x[j];
}

CC_HOT static int64_t energy_row(const int16_t *restrict x, size_t m)
{
    int64_t e = 0;
    for (size_t j = 0; j < m; j++)
        e += (int32_t)x[j] * (int32_t)x[j];
    return e;
}

/* out = clip(mix - own * x + coach) */
CC_HOT static void out_row(int16_t *restrict out, const int32_t *restrict mix, const int16_t *restrict x,
                           int32_t own, const int32_t *restrict coach, size_t m)
{
    for (size_t j = 0; j < m; j++) {
        int32_t v = mix[j] - own * (int32_t)x[j] + coach[j];
        v = v < -32768 ? -32768 : v;
        v = v > 32767 ? 32767 : v;
        out[j] = (int16_t)v;
    }
}

/* Samples [t, t+m) of the call; m <= BLOCK. */
static void mix_block(cc_conf_t *s, view_t *v, cc_law law, const void *x, size_t xs, void *y, size_t ys,
                      size_t t, size_t m)
{
    const uint32_t members = s->cfg.members;
    int16_t *restrict out16 = NULL;
    int16_t tmp[BLOCK];
    /* inputs: linear rows are read in place, G.711 rows decoded into the scratch */
    for (uint32_t i = 0; i < members; i++) {
        cc_conf_member_t *mb = &v->m[i];
        if (mb->role == CC_CONF_NONE)
            continue;
        if (law == CC_LAW_ALAW)
            cc_g711_alaw_decode(v->lin + (size_t)i * BLOCK, (const uint8_t *)x + i * xs + t, m);
        else if (law == CC_LAW_ULAW)
            cc_g711_ulaw_decode(v->lin + (size_t)i * BLOCK, (const uint8_t *)x + i * xs + t, m);
        memset(v->acc + (size_t)mb->rx * BLOCK, 0, m * sizeof(int32_t));
        if (mb->tx >= 0)
            memset(v->acc + (size_t)mb->tx * BLOCK, 0, m * sizeof(int32_t));
        if (mb->rx2 >= 0)
            memset(v->acc + (size_t)mb->rx2 * BLOCK, 0, m * sizeof(int32_t));
    }
#define IN(i) (law == CC_LAW_LINEAR ? (const int16_t *)x + (i) * xs + t : v->lin + (size_t)(i) * BLOCK)
    for (uint32_t i = 0; i < members; i++) {
        cc_conf_member_t *mb = &v->m[i];
        if (mb->tx < 0)
            continue;
        const int16_t *in = IN(i);
        add_row(v->acc + (size_t)mb->tx * BLOCK, in, m);
        if (mb->role == CC_CONF_PARTY)
            mb->energy += energy_row(in, m);
    }
    for (uint32_t i = 0; i < members; i++) {
        cc_conf_member_t *mb = &v->m[i];
        out16 = law == CC_LAW_LINEAR ? (int16_t *)y + i * ys + t : tmp;
        if (mb->role == CC_CONF_NONE) {
            if (law == CC_LAW_LINEAR)
                memset(out16, 0, m * sizeof(int16_t));
            else
                memset((uint8_t *)y + i * ys + t, law == CC_LAW_ALAW ? 0xD5 : 0xFF, m);
            continue;
        }
        const int32_t *coach = mb->rx2 >= 0 ? v->acc + (size_t)mb->rx2 * BLOCK : ZEROS;
        out_row(out16, v->acc + (size_t)mb->rx * BLOCK, IN(i), mb->tx == mb->rx, coach, m);
        if (law == CC_LAW_ALAW)
            cc_g711_alaw_encode((uint8_t *)y + i * ys + t, tmp, m);
        else if (law == CC_LAW_ULAW)
            cc_g711_ulaw_encode((uint8_t *)y + i * ys + t, tmp, m);
    }
#undef IN
}

/* A power block ended at sample s->t: smooth the powers, pick each conference's loudest. */
static size_t loudest(cc_conf_t *s, view_t *v, cc_conf_event_t *ev)
{
    const uint32_t members = s->cfg.members;
    size_t nev = 0;
    for (uint32_t c = 0; c < s->cfg.conferences; c++) {
        v->room[c].best = -1;
        v->room[c].best_power = 0.0f;
    }
    for (uint32_t i = 0; i < members; i++) {
        cc_conf_member_t *mb = &v->m[i];
        if (mb->role != CC_CONF_PARTY) {
            mb->power = 0.0f;
            mb->energy = 0;
            continue;
        }
        float ms = (float)mb->energy / (float)PBLOCK;
        mb->power += s->alpha * (ms - mb->power);
        mb->energy = 0;
        cc_conf_room_t *r = &v->room[mb->conference];
        if (r->best < 0 || mb->power > r->best_power) {
            r->best = (int32_t)i;
            r->best_power = mb->power;
        }
    }
    for (uint32_t c = 0; c < s->cfg.conferences; c++) {
        cc_conf_room_t *r = &v->room[c];
        int32_t cur = r->loudest, cand = r->best, next;
        if (cur < 0 && cand < 0)
            continue;
        const cc_conf_member_t *mc = cur >= 0 ? &v->m[cur] : NULL;
        int cur_ok = mc != NULL && mc->conference == (int32_t)c && mc->role == CC_CONF_PARTY
                     && mc->power >= s->floor_power;
        if (cur_ok)
            next = cand != cur && r->best_power > mc->power * s->hysteresis ? cand : cur;
        else
            next = cand >= 0 && r->best_power >= s->floor_power ? cand : -1;
        if (next != cur) {
            ev[nev].conference = (int32_t)c;
            ev[nev].member = next;
            ev[nev].previous = cur;
            ev[nev].level_dbm0 = next >= 0 ? power_to_dbm0(v->m[next].power) : -200.0f;
            ev[nev].at = s->t;
            nev++;
            r->loudest = next;
        }
    }
    return nev;
}

int cc_conf_process(cc_conf_t *s, cc_law law, const void *x, size_t x_stride, void *y, size_t y_stride,
                    size_t n, cc_conf_event_t *ev, size_t max_ev)
{
    if (!valid(s) || law > CC_LAW_ULAW || (n > 0 && (x == NULL || y == NULL)))
        return CC_ERR_ARG;
    if (s->cfg.members > 1 && n > 0 && (x_stride < n || y_stride < n))
        return CC_ERR_ARG;
    if (max_ev < cc_conf_max_events(s, n) || (ev == NULL && max_ev > 0))
        return CC_ERR_SPACE;
    view_t v = view_of(s);
    size_t t = 0, nev = 0;
    while (t < n) {
        size_t m = n - t < BLOCK ? n - t : BLOCK;
        m = m < PBLOCK - s->fill ? m : PBLOCK - s->fill;
        mix_block(s, &v, law, x, x_stride, y, y_stride, t, m);
        t += m;
        s->t += (int64_t)m;
        s->fill += (uint32_t)m;
        if (s->fill == PBLOCK) {
            s->fill = 0;
            nev += loudest(s, &v, ev + nev);
        }
    }
    return (int)nev;
}

/* ---- save / restore ---- */

int cc_conf_restore(cc_conf_t *s, const void *saved, size_t len)
{
    if (!valid(s) || saved == NULL)
        return CC_ERR_ARG;
    struct cc_conf_s h;
    if (len != s->size || len < sizeof(h))
        return CC_ERR_STATE;
    memcpy(&h, saved, sizeof(h));
    if (h.magic != CC_CONF_MAGIC || !config_ok(&h.cfg) || h.cfg.members != s->cfg.members
        || h.cfg.conferences != s->cfg.conferences || h.size != s->size || h.t < 0
        || h.fill != (uint32_t)(h.t % PBLOCK))
        return CC_ERR_STATE;
    cc_conf_layout_t l = cc_conf_layout_(h.cfg.members, h.cfg.conferences);
    const char *b = (const char *)saved;
    const int32_t members = (int32_t)h.cfg.members;
    /* coached counts are recounted below; everything else is checked field by field */
    for (int32_t i = 0; i < members; i++) {
        cc_conf_member_t m;
        memcpy(&m, b + l.member + (size_t)i * sizeof(m), sizeof(m));
        int in_conf = m.conference >= 0 && m.conference < (int32_t)h.cfg.conferences;
        if (m.role < CC_CONF_NONE || m.role > CC_CONF_WHISPER || (m.role == CC_CONF_NONE) != (m.conference == -1)
            || (m.role != CC_CONF_NONE && !in_conf) || !(m.power >= 0.0f && m.power <= 2.0e9f) || m.energy < 0
            || m.energy > (int64_t)PBLOCK * 32768 * 32768 || m.coached < 0)
            return CC_ERR_STATE;
        if (m.role == CC_CONF_WHISPER) {
            cc_conf_member_t t;
            if (m.target < 0 || m.target >= members || m.target == i)
                return CC_ERR_STATE;
            memcpy(&t, b + l.member + (size_t)m.target * sizeof(t), sizeof(t));
            if (t.conference != m.conference || t.role == CC_CONF_WHISPER)
                return CC_ERR_STATE;
        } else if (m.target != -1) {
            return CC_ERR_STATE;
        }
    }
    for (uint32_t c = 0; c < h.cfg.conferences; c++) {
        cc_conf_room_t r;
        memcpy(&r, b + l.room + c * sizeof(r), sizeof(r));
        if (r.loudest < -1 || r.loudest >= members)
            return CC_ERR_STATE;
    }
    uint32_t allocated = s->allocated;
    memcpy(s, saved, len);
    s->allocated = allocated;
    derive_limits(s);
    view_t v = view_of(s);
    for (int32_t i = 0; i < members; i++)
        v.m[i].coached = 0;
    for (int32_t i = 0; i < members; i++)
        if (v.m[i].role == CC_CONF_WHISPER)
            v.m[v.m[i].target].coached++;
    for (int32_t i = 0; i < members; i++)
        derive(s, &v.m[i], (uint32_t)i);
    return CC_OK;
}
