"""cffi build module for libpri (ISDN PRI: Q.921 + Q.931): every cdef for <libpri.h> lives here.

API mode: the extension `ccboard.signalling._libpri` is compiled against Debian's real header
(apt-get install libpri-dev: /usr/include/libpri.h, /usr/lib/libpri.a), so every event struct's
layout and every constant comes from the C compiler; structs are declared with `...;`.

I/O. Each instance is made with pri_new_cb() and two C callbacks over a small buffer (struct
ccb_pri): the read callback hands libpri the one frame the caller put there (plus the two FCS
octets libpri expects and drops), the write callback queues each frame libpri sends (minus the
two FCS octets it reserves) for the caller to pop. No file descriptor is ever touched and no
Python runs inside libpri.

Time. libpri reads the wall clock (gettimeofday in its scheduler and in pri.c, time() in q931.c).
libpri.a is linked statically into this extension with `-Wl,--wrap=gettimeofday,--wrap=time`,
so those calls read `ccb_now_us`, a virtual clock the caller sets (ccb_set_now) before every
call into libpri: the caller owns time, as with pri_schedule_next/pri_schedule_run. The clock is
one per process; single-threaded use (the GIL, one board tick) keeps it consistent. libpri's
message/error hooks are global too (pri_set_message/pri_set_error): they count and keep the
last error line in the instance's buffer rather than print.

Build: setup.py lists `cffi_modules=[..., "ccboard/signalling/_libpri_build.py:ffibuilder"]`;
by hand `python ccboard/signalling/_libpri_build.py` builds the extension in place.
"""

from __future__ import annotations

import os

from cffi import FFI  # type: ignore[import-untyped]

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
HEADER = "/usr/include/libpri.h"
STATIC_LIB = os.environ.get("CCBOARD_LIBPRI_A", "/usr/lib/libpri.a")


def _require() -> None:
    for path in (HEADER, STATIC_LIB):
        if not os.path.isfile(path):
            raise RuntimeError(f"{path} not found: install it with `apt-get install libpri-dev`")


# Every constant pri.py and the sim far end use (values from the header).
CONSTANTS = (
    "PRI_NETWORK",
    "PRI_CPE",
    "PRI_SWITCH_NI2",
    "PRI_SWITCH_DMS100",
    "PRI_SWITCH_LUCENT5E",
    "PRI_SWITCH_ATT4ESS",
    "PRI_SWITCH_EUROISDN_E1",
    "PRI_SWITCH_EUROISDN_T1",
    "PRI_SWITCH_NI1",
    "PRI_SWITCH_QSIG",
    "PRI_EVENT_DCHAN_UP",
    "PRI_EVENT_DCHAN_DOWN",
    "PRI_EVENT_RESTART",
    "PRI_EVENT_CONFIG_ERR",
    "PRI_EVENT_RING",
    "PRI_EVENT_HANGUP",
    "PRI_EVENT_RINGING",
    "PRI_EVENT_ANSWER",
    "PRI_EVENT_HANGUP_ACK",
    "PRI_EVENT_RESTART_ACK",
    "PRI_EVENT_FACILITY",
    "PRI_EVENT_INFO_RECEIVED",
    "PRI_EVENT_PROCEEDING",
    "PRI_EVENT_SETUP_ACK",
    "PRI_EVENT_HANGUP_REQ",
    "PRI_EVENT_NOTIFY",
    "PRI_EVENT_PROGRESS",
    "PRI_EVENT_KEYPAD_DIGIT",
    "PRI_EVENT_SERVICE",
    "PRI_EVENT_SERVICE_ACK",
    "PRI_EVENT_CONNECT_ACK",
    "PRI_TRANS_CAP_SPEECH",
    "PRI_LAYER_1_ALAW",
    "PRI_LAYER_1_ULAW",
    "PRI_UNKNOWN",
    "PRI_NATIONAL_ISDN",
    "PRI_LOCAL_ISDN",
    "PRI_INTERNATIONAL_ISDN",
    "PRI_PRES_ALLOWED",
    "PRI_PRES_RESTRICTED",
    "PRI_PRES_RESTRICTION",
    "PRI_PROG_INBAND_AVAILABLE",
    "PRI_DEBUG_Q921_STATE",
    "PRI_DEBUG_Q931_DUMP",
    "PRI_DEBUG_Q931_STATE",
    "PRI_DEBUG_Q931_ANOMALY",
    "PRI_TIMER_T200",
    "PRI_TIMER_T203",
    "PRI_TIMER_T303",
    "PRI_TIMER_T305",
    "PRI_TIMER_T308",
    "PRI_TIMER_T309",
    "PRI_TIMER_T310",
    "PRI_TIMER_T313",
    "PRI_TIMER_T316",
    "PRI_TIMER_N200",
)

CDEF = (
    "\n".join(f"#define {c} ..." for c in CONSTANTS)
    + """
typedef struct q931_call q931_call;
struct pri;
struct pri_sr;

typedef struct { int e; ...; } pri_event_generic;
typedef struct { int e; char err[...]; ...; } pri_event_error;
typedef struct { int e; int channel; ...; } pri_event_restart;
typedef struct { int e; int channel; ...; } pri_event_restart_ack;
typedef struct { int e; int channel; int cref; int progress; int progressmask; q931_call *call; ...; }
    pri_event_ringing;
typedef struct { int e; int channel; int cref; int progress; int progressmask; q931_call *call; ...; }
    pri_event_answer;
typedef struct {
    int e; int channel; int callingpres; int callingplan; char callingnum[...]; char callingname[...];
    int calledplan; char callednum[...]; char redirectingnum[...]; int flexible; int cref;
    int ctype; int layer1; int complete; q931_call *call; ...;
} pri_event_ring;
typedef struct { int e; int channel; int cause; int cref; q931_call *call; ...; } pri_event_hangup;
typedef struct { int e; int channel; int cref; int progress; int progressmask; int cause;
    q931_call *call; ...; } pri_event_proceeding;
typedef struct { int e; int channel; q931_call *call; ...; } pri_event_setup_ack;
typedef struct { int e; int channel; q931_call *call; char digits[...]; ...; } pri_event_keypad_digit;
struct pri_event_connect_ack { int e; int channel; q931_call *call; ...; };
typedef union {
    int e;
    pri_event_generic gen;
    pri_event_restart restart;
    pri_event_error err;
    pri_event_ring ring;
    pri_event_hangup hangup;
    pri_event_ringing ringing;
    pri_event_answer answer;
    pri_event_restart_ack restartack;
    pri_event_proceeding proceeding;
    pri_event_setup_ack setup_ack;
    pri_event_keypad_digit digit;
    struct pri_event_connect_ack connect_ack;
    ...;
} pri_event;

q931_call *pri_new_call(struct pri *pri);
void pri_destroycall(struct pri *pri, q931_call *call);
struct pri_sr *pri_sr_new(void);
void pri_sr_free(struct pri_sr *sr);
int pri_sr_set_channel(struct pri_sr *sr, int channel, int exclusive, int nonisdn);
int pri_sr_set_bearer(struct pri_sr *sr, int transmode, int userl1);
int pri_sr_set_called(struct pri_sr *sr, char *called, int calledplan, int complete);
int pri_sr_set_caller(struct pri_sr *sr, char *caller, char *callername, int callerplan, int callerpres);
int pri_setup(struct pri *pri, q931_call *call, struct pri_sr *req);
int pri_proceeding(struct pri *pri, q931_call *c, int channel, int info);
int pri_acknowledge(struct pri *pri, q931_call *call, int channel, int info);
int pri_progress(struct pri *pri, q931_call *c, int channel, int info);
int pri_answer(struct pri *pri, q931_call *call, int channel, int nonisdn);
int pri_hangup(struct pri *pri, q931_call *call, int cause);
int pri_restart(struct pri *pri);
int pri_reset(struct pri *pri, int channel);
void pri_set_debug(struct pri *pri, int debug);
int pri_set_timer(struct pri *pri, int timer, int value);
int pri_get_timer(struct pri *pri, int timer);
char *pri_event2str(int id);
char *pri_cause2str(int cause);
char *pri_switch2str(int swtype);
char *pri_node2str(int nodetype);
struct timeval *pri_schedule_next(struct pri *pri);
pri_event *pri_schedule_run(struct pri *pri);
pri_event *pri_check_event(struct pri *pri);

/* ours (SOURCE below) */
struct ccb_pri { struct pri *ctrl; int errors; char last_error[...]; ...; };
void ccb_set_now(long long now_us);
long long ccb_get_now(void);
struct ccb_pri *ccb_pri_new(int nodetype, int switchtype);
void ccb_pri_free(struct ccb_pri *p);
pri_event *ccb_pri_feed(struct ccb_pri *p, const unsigned char *data, int len);
long long ccb_pri_next_us(struct ccb_pri *p);
int ccb_pri_pop(struct ccb_pri *p, unsigned char *buf, int buflen);
int ccb_pri_pending(struct ccb_pri *p);
"""
)

SOURCE = r"""
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <libpri.h>

#define CCB_FRAME_MAX 1024      /* libpri's own receive buffer in pri_check_event */
#define CCB_FCS 2               /* octets libpri adds for the FCS on write / drops on read */

/* The virtual clock (us) every wrapped clock read inside libpri returns. */
static long long ccb_now_us = 0;
static void ccb_set_now(long long now_us) { ccb_now_us = now_us; }
static long long ccb_get_now(void) { return ccb_now_us; }

int __wrap_gettimeofday(struct timeval *tv, void *tz)
{
    (void)tz;
    if (tv) {
        tv->tv_sec = (time_t)(ccb_now_us / 1000000);
        tv->tv_usec = (suseconds_t)(ccb_now_us % 1000000);
    }
    return 0;
}

time_t __wrap_time(time_t *t)
{
    /* 2020-01-01 as the epoch of virtual time: q931 encodes it in date/time IEs */
    time_t v = (time_t)(1577836800LL + ccb_now_us / 1000000);
    if (t)
        *t = v;
    return v;
}

struct ccb_pri {
    struct pri *ctrl;
    int errors;                 /* lines libpri reported through pri_error */
    char last_error[256];
    unsigned char in[CCB_FRAME_MAX];
    int in_len;                 /* 0: nothing to read */
    unsigned char *out;         /* queued frames: 2-octet length (LE) + octets */
    int out_len, out_cap, out_pos;
};

static int ccb_read(struct pri *ctrl, void *buf, int buflen)
{
    struct ccb_pri *p = pri_get_userdata(ctrl);
    int n = p->in_len;
    if (n <= 0 || n + CCB_FCS > buflen)
        return 0;
    memcpy(buf, p->in, (size_t)n);
    memset((unsigned char *)buf + n, 0, CCB_FCS);
    p->in_len = 0;
    return n + CCB_FCS;
}

static int ccb_write(struct pri *ctrl, void *buf, int buflen)
{
    struct ccb_pri *p = pri_get_userdata(ctrl);
    int n = buflen - CCB_FCS;
    if (n <= 0 || n > 0xFFFF)
        return buflen;
    if (p->out_len + n + 2 > p->out_cap) {
        int cap = p->out_cap ? p->out_cap : 4096;
        while (cap < p->out_len + n + 2)
            cap *= 2;
        unsigned char *q = realloc(p->out, (size_t)cap);
        if (!q) {
            errno = ENOMEM;
            return -1;          /* libpri reports a short write */
        }
        p->out = q;
        p->out_cap = cap;
    }
    p->out[p->out_len] = (unsigned char)(n & 0xFF);
    p->out[p->out_len + 1] = (unsigned char)(n >> 8);
    memcpy(p->out + p->out_len + 2, buf, (size_t)n);
    p->out_len += n + 2;
    return buflen;
}

static void ccb_message(struct pri *ctrl, char *s)
{
    (void)ctrl;
    (void)s;                    /* debug output: dropped (pri_set_debug is off by default) */
}

static void ccb_error(struct pri *ctrl, char *s)
{
    struct ccb_pri *p = ctrl ? pri_get_userdata(ctrl) : NULL;
    if (!p)
        return;
    p->errors++;
    strncpy(p->last_error, s, sizeof(p->last_error) - 1);
    p->last_error[sizeof(p->last_error) - 1] = '\0';
}

static struct ccb_pri *ccb_pri_new(int nodetype, int switchtype)
{
    struct ccb_pri *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    pri_set_message(ccb_message);
    pri_set_error(ccb_error);
    /* pri_new_cb already sends (Q.921 SABME): the callbacks must work from here on */
    p->ctrl = pri_new_cb(-1, nodetype, switchtype, ccb_read, ccb_write, p);
    if (!p->ctrl) {
        free(p);
        return NULL;
    }
    return p;
}

static void ccb_pri_free(struct ccb_pri *p)
{
    if (!p)
        return;
    /* libpri 1.6 has no pri_destroy in its API; the controller's memory goes with the process. */
    free(p->out);
    p->out = NULL;
    free(p);
}

static pri_event *ccb_pri_feed(struct ccb_pri *p, const unsigned char *data, int len)
{
    if (len <= 0 || len + CCB_FCS > CCB_FRAME_MAX)
        return NULL;
    memcpy(p->in, data, (size_t)len);
    p->in_len = len;
    pri_event *e = pri_check_event(p->ctrl);
    p->in_len = 0;
    return e;
}

static long long ccb_pri_next_us(struct ccb_pri *p)
{
    struct timeval *tv = pri_schedule_next(p->ctrl);
    if (!tv)
        return -1;
    return (long long)tv->tv_sec * 1000000 + tv->tv_usec;
}

static int ccb_pri_pending(struct ccb_pri *p) { return p->out_len - p->out_pos; }

/* Pop the next queued frame into buf: its length, 0 if none, -1 if buf is too small. */
static int ccb_pri_pop(struct ccb_pri *p, unsigned char *buf, int buflen)
{
    if (p->out_pos >= p->out_len) {
        p->out_pos = p->out_len = 0;
        return 0;
    }
    int n = p->out[p->out_pos] | (p->out[p->out_pos + 1] << 8);
    if (n > buflen)
        return -1;
    memcpy(buf, p->out + p->out_pos + 2, (size_t)n);
    p->out_pos += n + 2;
    if (p->out_pos >= p->out_len)
        p->out_pos = p->out_len = 0;
    return n;
}
"""

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
_require()
ffibuilder.set_source(
    "ccboard.signalling._libpri",
    SOURCE,
    extra_objects=[STATIC_LIB],
    # libpri's clock reads go to our virtual clock; its symbols stay private to this extension
    extra_link_args=["-Wl,--wrap=gettimeofday", "-Wl,--wrap=time", "-Wl,--exclude-libs,ALL"],
)


if __name__ == "__main__":
    import shutil

    # In-place build: compile under build/cffi-libpri, then put the .so next to this file.
    so = ffibuilder.compile(tmpdir=os.path.join(ROOT, "build", "cffi-libpri"), verbose=False)
    shutil.copy2(so, os.path.join(HERE, os.path.basename(so)))
