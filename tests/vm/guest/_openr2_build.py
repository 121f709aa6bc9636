"""cffi build module for the OpenR2 far end used in the VM: every cdef for Debian's libopenr2
(<openr2.h>, 1.3.x) lives here. API mode: the compiler checks each declaration against the real
header; enums are `int...` types and their constants `#define NAME ...`.

The far end runs OpenR2's own DAHDI I/O (openr2_chan_new opens /dev/dahdi/channel itself); we
only supply its event callbacks (extern "Python") and a transcoder. OpenR2 1.3 assumes A-law
octets on the line; the VM's dynamic spans are mu-law (dahdi_dynamic sets deflaw MULAW and
ccboard's system.conf reader does not take `alaw=` yet), so the transcoder is G.711 mu-law,
written here: the octets OpenR2 writes are what our side decodes with the channel's own law.

Built by tests/vm/run_vm.py on the host into build/vm/<kernel>/openr2-<hash>/ (the guest sees
the host's file system, so the same .so is imported inside the VM).
"""

from __future__ import annotations

import cffi

CDEF = """
typedef void *openr2_chan_t;
typedef void *openr2_context_t;
typedef int... openr2_variant_t;
typedef int... openr2_call_mode_t;
typedef int... openr2_call_disconnect_cause_t;
typedef int... openr2_calling_party_category_t;
typedef int... openr2_protocol_error_t;
typedef int... openr2_log_level_t;
typedef int... openr2_direction_t;

#define OR2_VAR_CHINA ...
#define OR2_VAR_ITU ...
#define OR2_CALL_WITH_CHARGE ...
#define OR2_CALL_NO_CHARGE ...
#define OR2_CAUSE_NORMAL_CLEARING ...
#define OR2_CAUSE_BUSY_NUMBER ...
#define OR2_CALLING_PARTY_CATEGORY_NATIONAL_SUBSCRIBER ...
#define OR2_LOG_ERROR ...
#define OR2_LOG_WARNING ...
#define OR2_LOG_NOTICE ...
#define OR2_LOG_DEBUG ...
#define OR2_LOG_MF_TRACE ...
#define OR2_LOG_CAS_TRACE ...

typedef struct { ...; } openr2_mflib_interface_t;
typedef struct {
    int16_t (*alaw_to_linear)(uint8_t alaw);
    uint8_t (*linear_to_alaw)(int linear);
} openr2_transcoder_interface_t;
typedef struct {
    void (*on_call_init)(openr2_chan_t *r2chan);
    void (*on_call_offered)(openr2_chan_t *r2chan, const char *ani, const char *dnis,
                            openr2_calling_party_category_t category);
    void (*on_call_accepted)(openr2_chan_t *r2chan, openr2_call_mode_t mode);
    void (*on_call_answered)(openr2_chan_t *r2chan);
    void (*on_call_disconnect)(openr2_chan_t *r2chan, openr2_call_disconnect_cause_t cause);
    void (*on_call_end)(openr2_chan_t *r2chan);
    void (*on_call_read)(openr2_chan_t *r2chan, const unsigned char *buf, int buflen);
    void (*on_hardware_alarm)(openr2_chan_t *r2chan, int alarm);
    void (*on_os_error)(openr2_chan_t *r2chan, int oserrorcode);
    void (*on_protocol_error)(openr2_chan_t *r2chan, openr2_protocol_error_t error);
    void (*on_line_blocked)(openr2_chan_t *r2chan);
    void (*on_line_idle)(openr2_chan_t *r2chan);
    ...;
} openr2_event_interface_t;

openr2_context_t *openr2_context_new(openr2_mflib_interface_t *mflib, openr2_event_interface_t *callmgmt,
                                     openr2_transcoder_interface_t *transcoder, openr2_variant_t variant,
                                     int max_ani, int max_dnis);
void openr2_context_delete(openr2_context_t *r2context);
int openr2_context_get_time_to_next_event(openr2_context_t *r2context);
void openr2_context_set_log_level(openr2_context_t *r2context, openr2_log_level_t level);
void openr2_context_set_mf_threshold(openr2_context_t *r2context, int threshold);

openr2_chan_t *openr2_chan_new(openr2_context_t *r2context, int channo, void *mf_write_handle,
                               void *mf_read_handle);
int openr2_chan_process_event(openr2_chan_t *r2chan);
int openr2_chan_set_idle(openr2_chan_t *r2chan);
void openr2_chan_enable_read(openr2_chan_t *r2chan);
int openr2_chan_get_fd(openr2_chan_t *r2chan);
int openr2_chan_get_number(openr2_chan_t *r2chan);
int openr2_chan_accept_call(openr2_chan_t *r2chan, openr2_call_mode_t accept);
int openr2_chan_answer_call(openr2_chan_t *r2chan);
int openr2_chan_disconnect_call(openr2_chan_t *r2chan, openr2_call_disconnect_cause_t cause);
int openr2_chan_make_call(openr2_chan_t *r2chan, const char *ani, const char *dnid,
                          openr2_calling_party_category_t category);
const char *openr2_chan_get_tx_cas_string(openr2_chan_t *r2chan);
const char *openr2_chan_get_rx_cas_string(openr2_chan_t *r2chan);
const char *openr2_chan_get_call_state_string(openr2_chan_t *r2chan);
const char *openr2_chan_get_r2_state_string(openr2_chan_t *r2chan);
const char *openr2_proto_get_error(openr2_protocol_error_t reason);
const char *openr2_proto_get_disconnect_string(openr2_call_disconnect_cause_t cause);
const char *openr2_proto_get_category_string(openr2_calling_party_category_t category);

/* ours (in the source below) */
void peer_fill_interface(openr2_event_interface_t *ev, openr2_transcoder_interface_t *tr);

extern "Python" {
    void peer_on_call_init(openr2_chan_t *);
    void peer_on_call_offered(openr2_chan_t *, const char *, const char *, openr2_calling_party_category_t);
    void peer_on_call_accepted(openr2_chan_t *, openr2_call_mode_t);
    void peer_on_call_answered(openr2_chan_t *);
    void peer_on_call_disconnect(openr2_chan_t *, openr2_call_disconnect_cause_t);
    void peer_on_call_end(openr2_chan_t *);
    void peer_on_os_error(openr2_chan_t *, int);
    void peer_on_protocol_error(openr2_chan_t *, openr2_protocol_error_t);
    void peer_on_line_idle(openr2_chan_t *);
    void peer_on_line_blocked(openr2_chan_t *);
    void peer_on_log(const char *);
}
"""

SOURCE = r"""
#include <stdarg.h>
#include <stdio.h>
#include <openr2.h>

static void peer_on_call_init(openr2_chan_t *);
static void peer_on_call_offered(openr2_chan_t *, const char *, const char *,
                                 openr2_calling_party_category_t);
static void peer_on_call_accepted(openr2_chan_t *, openr2_call_mode_t);
static void peer_on_call_answered(openr2_chan_t *);
static void peer_on_call_disconnect(openr2_chan_t *, openr2_call_disconnect_cause_t);
static void peer_on_call_end(openr2_chan_t *);
static void peer_on_os_error(openr2_chan_t *, int);
static void peer_on_protocol_error(openr2_chan_t *, openr2_protocol_error_t);
static void peer_on_line_idle(openr2_chan_t *);
static void peer_on_line_blocked(openr2_chan_t *);
static void peer_on_log(const char *);

static void peer_call_read(openr2_chan_t *c, const unsigned char *buf, int n) { (void)c; (void)buf; (void)n; }
static void peer_alarm(openr2_chan_t *c, int alarm) { (void)c; (void)alarm; }
static void peer_billing(openr2_chan_t *c) { (void)c; }
static void peer_ani_digit(openr2_chan_t *c, char d) { (void)c; (void)d; }
static int peer_dnis_digit(openr2_chan_t *c, char d) { (void)c; (void)d; return 1; /* want more */ }

/* OpenR2's log callbacks take a va_list, which cffi cannot pass to Python: format it here. */
static void peer_context_log(openr2_context_t *ctx, openr2_log_level_t level, const char *fmt, va_list ap)
{
    char line[512];
    (void)ctx; (void)level;
    vsnprintf(line, sizeof line, fmt, ap);
    peer_on_log(line);
}

/* G.711 mu-law, the VM spans' law (bias 0x84, segment in bits 4-6, all bits inverted on the line). */
static int16_t peer_ulaw_to_linear(uint8_t octet)
{
    int u = ~octet & 0xFF;
    int magnitude = ((((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)) - 0x84;
    return (int16_t)((u & 0x80) ? -magnitude : magnitude);
}

static uint8_t peer_linear_to_ulaw(int x)
{
    int sign = 0, seg = 0, mag;
    if (x < 0) { x = ~x; sign = 0x80; } /* one's complement, as G.191 */
    mag = (x > 32635 ? 32635 : x) + 0x84;
    for (seg = 7; seg > 0 && !(mag & (0x4000 >> (7 - seg))); seg--)
        ;
    return (uint8_t)~(sign | (seg << 4) | ((mag >> (seg + 3)) & 0x0F));
}

void peer_fill_interface(openr2_event_interface_t *ev, openr2_transcoder_interface_t *tr)
{
    ev->on_call_init = peer_on_call_init;
    ev->on_call_offered = peer_on_call_offered;
    ev->on_call_accepted = peer_on_call_accepted;
    ev->on_call_answered = peer_on_call_answered;
    ev->on_call_disconnect = peer_on_call_disconnect;
    ev->on_call_end = peer_on_call_end;
    ev->on_call_read = peer_call_read;
    ev->on_hardware_alarm = peer_alarm;
    ev->on_os_error = peer_on_os_error;
    ev->on_protocol_error = peer_on_protocol_error;
    ev->on_line_blocked = peer_on_line_blocked;
    ev->on_line_idle = peer_on_line_idle;
    ev->on_context_log = peer_context_log;
    ev->on_dnis_digit_received = peer_dnis_digit;
    ev->on_ani_digit_received = peer_ani_digit;
    ev->on_billing_pulse_received = peer_billing;
    tr->alaw_to_linear = peer_ulaw_to_linear;
    tr->linear_to_alaw = peer_linear_to_ulaw;
}
"""

ffibuilder = cffi.FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source("_openr2_peer", SOURCE, libraries=["openr2"], extra_compile_args=["-Wall"])

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
