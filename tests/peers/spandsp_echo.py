"""libspandsp 0.0.6's echo_can (Debian libspandsp-dev) as a peer of our echo canceller, via cffi.

spandsp's echo.c calls printf twice per sample (REFERENCE.md, "Peers measured here"); a Python
process cannot interpose printf for a library it did not link, so the shim rewrites
libspandsp's own PLT slot for __printf_chk (found from its dynamic section at load) to a function
that returns 0, which is what ../shared/peers/spandsp_bench.c does by defining __printf_chk in its
executable. Nothing else in spandsp changes. Every loop over samples and channels runs in the shim.

Audio: 8000 Hz int16; echo_can_update(ec, tx, rx) takes tx = Rin (sent to the line) and rx = Sin
and returns the cleaned Sin. Needs `apt-get install -y libspandsp-dev`. The shim is built at first
use into the peer cache ($CCBOARD_PEER_CACHE, else build/peers/).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from tests.peers.shim import SPANDSP_CFLAGS, SPANDSP_HINT, PeerUnavailable, build_shim

__all__ = ["APT_HINT", "CFLAGS", "EchoBank", "PeerUnavailable", "load"]

APT_HINT = SPANDSP_HINT
CFLAGS = SPANDSP_CFLAGS


CDEF = """
enum { ECHO_CAN_USE_ADAPTION = ..., ECHO_CAN_USE_NLP = ..., ECHO_CAN_USE_CNG = ...,
       ECHO_CAN_USE_TX_HPF = ..., ECHO_CAN_USE_RX_HPF = ... };
int peer_quiet(void);
void *peer_new(int taps, int mode);
void peer_free(void *h);
void peer_bank_run(void **h, int nch, const int16_t *rin, const int16_t *sin, int16_t *out,
                   int64_t stride, int64_t n);
"""

SOURCE = r"""
#include <link.h>
#include <elf.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#include <dlfcn.h>
#include <spandsp.h>

static int quiet_printf_chk(int flag, const char *fmt, ...) { (void) flag; (void) fmt; return 0; }

static uintptr_t spandsp_base;
static int find_base(struct dl_phdr_info *info, size_t size, void *data)
{
    (void) size;
    if (info->dlpi_addr == (uintptr_t) data) {
        spandsp_base = info->dlpi_addr;
        return 1;
    }
    return 0;
}

/* Point libspandsp's PLT slot for __printf_chk at quiet_printf_chk. Returns slots patched. */
int peer_quiet(void)
{
    Dl_info di;
    if (!dladdr((void *) echo_can_init, &di))
        return -1;
    uintptr_t base = (uintptr_t) di.dli_fbase;
    const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *) base;
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *) (base + eh->e_phoff);
    const ElfW(Dyn) *dyn = NULL;
    for (int i = 0;  i < eh->e_phnum;  i++)
        if (ph[i].p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *) (base + ph[i].p_vaddr);
    if (dyn == NULL)
        return -2;
    (void) find_base;
    const ElfW(Rela) *rel = NULL;
    size_t relsz = 0;
    const ElfW(Sym) *sym = NULL;
    const char *str = NULL;
    for (; dyn->d_tag != DT_NULL;  dyn++) {
        /* glibc relocates these d_ptr entries to absolute addresses */
        if (dyn->d_tag == DT_JMPREL) rel = (const ElfW(Rela) *) dyn->d_un.d_ptr;
        else if (dyn->d_tag == DT_PLTRELSZ) relsz = dyn->d_un.d_val;
        else if (dyn->d_tag == DT_SYMTAB) sym = (const ElfW(Sym) *) dyn->d_un.d_ptr;
        else if (dyn->d_tag == DT_STRTAB) str = (const char *) dyn->d_un.d_ptr;
    }
    if (rel == NULL || sym == NULL || str == NULL)
        return -3;
    int patched = 0;
    long page = sysconf(_SC_PAGESIZE);
    for (size_t i = 0;  i < relsz / sizeof(*rel);  i++) {
        const char *name = str + sym[ELF64_R_SYM(rel[i].r_info)].st_name;
        if (strcmp(name, "__printf_chk") == 0 || strcmp(name, "printf") == 0) {
            void **slot = (void **) (base + rel[i].r_offset);
            uintptr_t p = (uintptr_t) slot & ~(uintptr_t) (page - 1);
            if (mprotect((void *) p, (size_t) page, PROT_READ | PROT_WRITE) != 0)
                return -4;
            *slot = (void *) quiet_printf_chk;
            patched++;
        }
    }
    return patched;
}

void *peer_new(int taps, int mode) { return echo_can_init(taps, mode); }
void peer_free(void *h) { echo_can_free((echo_can_state_t *) h); }

void peer_bank_run(void **h, int nch, const int16_t *rin, const int16_t *sin, int16_t *out,
                   int64_t stride, int64_t n)
{
    for (int c = 0;  c < nch;  c++) {
        echo_can_state_t *s = (echo_can_state_t *) h[c];
        const int16_t *r = rin + c*stride, *x = sin + c*stride;
        int16_t *o = out + c*stride;
        for (int64_t i = 0;  i < n;  i++)
            o[i] = echo_can_update(s, r[i], x[i]);
    }
}
"""


def load() -> Any:
    """The shim, with spandsp's printf silenced (fails loudly if that could not be done)."""
    mod = build_shim(
        "_ccboard_spandsp_echo_peer", CDEF, SOURCE, APT_HINT, libraries=["spandsp"], extra_compile_args=CFLAGS
    )
    rc = mod.lib.peer_quiet()
    if rc < 1:
        raise PeerUnavailable(
            f"could not silence spandsp's printf (code {rc}): its timings would measure printing"
        )
    return mod


class EchoBank:
    """nch echo cancellers of one peer, fed (channels x samples) int16 buffers; loops run in C."""

    def __init__(self, mod: Any, channels: int, taps: int, mode: int) -> None:
        self._mod = mod
        self._h = mod.ffi.new("void *[]", channels)
        for c in range(channels):
            p = mod.lib.peer_new(taps, mode)
            if p == mod.ffi.NULL:
                raise PeerUnavailable(f"peer_new({taps}, {mode:#x}) failed")
            self._h[c] = p
        self.channels = channels

    def __del__(self) -> None:
        for c in range(getattr(self, "channels", 0)):
            self._mod.lib.peer_free(self._h[c])

    def process(
        self, rin: npt.NDArray[np.int16], sin: npt.NDArray[np.int16], out: npt.NDArray[np.int16] | None = None
    ) -> npt.NDArray[np.int16]:
        rin2 = np.ascontiguousarray(rin, dtype=np.int16).reshape(self.channels, -1)
        sin2 = np.ascontiguousarray(sin, dtype=np.int16).reshape(self.channels, -1)
        o = np.empty_like(sin2) if out is None else out
        ffi = self._mod.ffi
        n = rin2.shape[1]
        self._mod.lib.peer_bank_run(
            self._h, self.channels, ffi.from_buffer("int16_t[]", rin2), ffi.from_buffer("int16_t[]", sin2),
            ffi.from_buffer("int16_t[]", o, require_writable=True), n, n,
        )  # fmt: skip
        return o.reshape(np.shape(sin))


def modes() -> dict[str, int]:
    """spandsp's ECHO_CAN_USE_* values, read from its header by cffi: 'adapt' and 'full'."""
    lib = load().lib
    adapt = lib.ECHO_CAN_USE_ADAPTION
    full = (
        adapt
        | lib.ECHO_CAN_USE_NLP
        | lib.ECHO_CAN_USE_CNG
        | lib.ECHO_CAN_USE_TX_HPF
        | lib.ECHO_CAN_USE_RX_HPF
    )
    return {"adapt": adapt, "full": full}


def bank(channels: int, taps: int = 1024, mode: str = "adapt") -> EchoBank:
    """mode: 'adapt' (adaption only: what the ERLE comparisons use) or 'full' (NLP, CNG, HPFs)."""
    return EchoBank(load(), channels, taps, modes()[mode])
