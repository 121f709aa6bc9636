"""The cffi binding against DAHDI's real header: a C program built by gcc on the same
<dahdi/user.h> prints every struct size, field offset/size and constant the binding declares
(ccboard/dahdi/_build.py), and each must equal what the compiled cffi module reports. Then
ioctl.py's error paths against real files: /dev/null, a pty, a missing path, a closed fd."""

from __future__ import annotations

import errno
import os
import pty
import subprocess
from pathlib import Path

import pytest

from ccboard.dahdi import _build
from ccboard.dahdi._dahdi import ffi, lib
from ccboard.dahdi.ioctl import ELAST, ChannelDevice, _check
from ccboard.errors import DeviceError


def _c_program() -> str:
    out = ["#include <stdio.h>", "#include <stddef.h>", "#include <dahdi/user.h>", "int main(void) {"]
    for name, fields in _build.STRUCTS.items():
        out.append(f'  printf("size struct {name} %zu\\n", sizeof(struct {name}));')
        for _, field in fields:
            out.append(f'  printf("offset struct {name}.{field} %zu\\n", offsetof(struct {name}, {field}));')
            out.append(
                f'  printf("fsize struct {name}.{field} %zu\\n", sizeof(((struct {name} *)0)->{field}));'
            )
    for c in _build.IOCTLS:
        out.append(f'  printf("const {c} %llu\\n", (unsigned long long)({c}));')
    for c in _build.CONSTANTS:
        out.append(f'  printf("const {c} %lld\\n", (long long)({c}));')
    out += ["  return 0;", "}"]
    return "\n".join(out) + "\n"


def _c_layout(tmp: Path, include: str) -> dict[str, int]:
    src = tmp / "layout.c"
    exe = tmp / "layout"
    src.write_text(_c_program())
    subprocess.run(
        ["gcc", "-std=gnu99", "-Wall", "-Werror", "-I", include, "-o", str(exe), str(src)], check=True
    )
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    table = {}
    for line in out.splitlines():
        kind, name, value = line.rsplit(" ", 2)
        table[f"{kind} {name}"] = int(value)
    return table


@pytest.fixture(scope="module")
def c_layout(tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    return _c_layout(tmp_path_factory.mktemp("layout"), _build.include_dir())


def test_program_covers_everything_the_binding_declares(c_layout: dict[str, int]) -> None:
    n_fields = sum(len(f) for f in _build.STRUCTS.values())
    assert len(c_layout) == len(_build.STRUCTS) + 2 * n_fields + len(_build.IOCTLS) + len(_build.CONSTANTS)


@pytest.mark.parametrize("struct", sorted(_build.STRUCTS))
def test_struct_size_and_fields(c_layout: dict[str, int], struct: str) -> None:
    ctype = ffi.typeof(f"struct {struct}")
    assert ffi.sizeof(ctype) == c_layout[f"size struct {struct}"]
    fields = dict(ctype.fields)
    assert set(fields) >= {f for _, f in _build.STRUCTS[struct]}
    for _, name in _build.STRUCTS[struct]:
        assert fields[name].offset == c_layout[f"offset struct {struct}.{name}"], name
        assert ffi.sizeof(fields[name].type) == c_layout[f"fsize struct {struct}.{name}"], name


def test_spaninfo_is_packed_and_helpers_agree(c_layout: dict[str, int]) -> None:
    # The header declares dahdi_spaninfo packed: a naturally aligned copy would be larger.
    fields = dict(ffi.typeof("struct dahdi_spaninfo").fields)
    assert fields["spantype"].offset + 6 == ffi.sizeof("struct dahdi_spaninfo")
    assert ffi.sizeof("struct dahdi_spaninfo") % 4 != 0
    assert lib.ccb_sizeof_spaninfo() == c_layout["size struct dahdi_spaninfo"]
    assert lib.ccb_sizeof_params() == c_layout["size struct dahdi_params"]


@pytest.mark.parametrize("name", _build.IOCTLS + _build.CONSTANTS)
def test_constant(c_layout: dict[str, int], name: str) -> None:
    assert getattr(lib, name) == c_layout[f"const {name}"]


def test_ioctl_numbers_encode_dahdi_code_and_struct_size() -> None:
    # _IOC layout on x86-64: dir(2) size(14) type(8) nr(8). Checks the header, not just agreement.
    def decode(req: int) -> tuple[int, int, int, int]:
        return req >> 30, (req >> 16) & 0x3FFF, (req >> 8) & 0xFF, req & 0xFF

    assert decode(lib.DAHDI_GET_PARAMS) == (3, ffi.sizeof("struct dahdi_params"), 0xDA, 5)
    assert decode(lib.DAHDI_SET_PARAMS) == (1, ffi.sizeof("struct dahdi_params"), 0xDA, 5)
    assert decode(lib.DAHDI_SPANSTAT) == (3, ffi.sizeof("struct dahdi_spaninfo"), 0xDA, 10)
    assert decode(lib.DAHDI_GETRXBITS) == (2, 4, 0xDA, 43)
    assert decode(lib.DAHDI_SETTXBITS) == (1, 4, 0xDA, 43)
    assert lib.DAHDI_SPECIFY == 0x4004DA26  # also seen working against the real driver (DAHDI-VM.md)


def test_header_extracted_from_tarball_gives_the_same_layout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, c_layout: dict[str, int]
) -> None:
    monkeypatch.delenv("CCBOARD_DAHDI_INCLUDE", raising=False)
    monkeypatch.setattr(_build, "SYSTEM_INCLUDE", str(tmp_path / "no-such-include"))
    monkeypatch.setattr(_build, "EXTRACT_DIR", str(tmp_path / "extracted"))
    inc = _build.include_dir()
    assert inc == str(tmp_path / "extracted")
    assert (tmp_path / "extracted" / "dahdi" / "user.h").read_bytes() == Path(
        "/usr/include/dahdi/user.h"
    ).read_bytes()
    (tmp_path / "c").mkdir()
    assert _c_layout(tmp_path / "c", inc) == c_layout


def test_include_override_must_hold_the_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCBOARD_DAHDI_INCLUDE", str(tmp_path))
    with pytest.raises(RuntimeError, match="no dahdi/user.h"):
        _build.include_dir()


# -- ioctl.py error paths against real files ---------------------------------------------------


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_open_dev_null_fails_at_specify_and_closes_the_file() -> None:
    before = _open_fds()
    with pytest.raises(DeviceError) as ei:
        ChannelDevice.open(5, "/dev/null")
    e = ei.value
    assert (e.errno, e.channel, e.op) == (errno.ENOTTY, 5, "DAHDI_SPECIFY")
    assert "channel 5" in str(e) and "DAHDI_SPECIFY" in str(e)
    assert _open_fds() == before


def test_open_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "dahdi" / "channel"
    with pytest.raises(DeviceError) as ei:
        ChannelDevice.open(12, str(missing))
    assert (ei.value.errno, ei.value.channel, ei.value.op) == (errno.ENOENT, 12, "open")
    assert str(missing) in str(ei.value) and "channel 12" in str(ei.value)


def test_open_a_directory(tmp_path: Path) -> None:
    with pytest.raises(DeviceError) as ei:
        ChannelDevice.open(3, str(tmp_path))
    assert (ei.value.errno, ei.value.op) == (errno.EISDIR, "open")


CALLS = [
    ("DAHDI_SPECIFY", lambda d: d.specify(1)),
    ("DAHDI_SET_BLOCKSIZE", lambda d: d.set_blocksize(8)),
    ("DAHDI_GET_BLOCKSIZE", lambda d: d.get_blocksize()),
    ("DAHDI_FLUSH", lambda d: d.flush(lib.DAHDI_FLUSH_ALL)),
    ("DAHDI_GET_PARAMS", lambda d: d.get_params()),
    ("DAHDI_GET_PARAMS", lambda d: d.set_params(flashtime=750)),
    ("DAHDI_SPANSTAT", lambda d: d.spanstat(1)),
    ("DAHDI_GETEVENT", lambda d: d.get_event()),
    ("DAHDI_HOOK", lambda d: d.hook(lib.DAHDI_OFFHOOK)),
    ("DAHDI_SETTXBITS", lambda d: d.set_tx_bits(0b1001)),
    ("DAHDI_GETRXBITS", lambda d: d.get_rx_bits()),
    ("DAHDI_SETLAW", lambda d: d.set_law(lib.DAHDI_LAW_ALAW)),
    ("DAHDI_GET_BUFINFO", lambda d: d.get_bufinfo()),
    ("DAHDI_SET_BUFINFO", lambda d: d.set_bufinfo(32, 16, lib.DAHDI_POLICY_HALF_FULL)),
]


@pytest.mark.parametrize(("op", "call"), CALLS, ids=[f"{op}-{i}" for i, (op, _) in enumerate(CALLS)])
def test_every_ioctl_on_a_pty_names_channel_and_op(op: str, call: object) -> None:
    # A pty accepts terminal ioctls only: DAHDI's numbers come back ENOTTY (or EINVAL).
    master, slave = pty.openpty()
    try:
        dev = ChannelDevice(slave, 17)
        with pytest.raises(DeviceError) as ei:
            call(dev)  # type: ignore[operator]
        assert ei.value.op == op and ei.value.channel == 17
        assert ei.value.errno in (errno.ENOTTY, errno.EINVAL)
        assert str(ei.value).startswith(f"channel 17: {op} failed: [Errno {ei.value.errno}]")
    finally:
        os.close(master)
        os.close(slave)


def test_audio_on_a_pty_moves_octets_and_nothing_ready_is_zero() -> None:
    master, slave = pty.openpty()
    try:
        os.set_blocking(slave, False)
        tty_raw(slave)
        dev = ChannelDevice(slave, 2)
        buf = bytearray(8)
        assert dev.readinto(buf) == 0  # nothing written yet: EAGAIN is "no octets", not an error
        assert dev.write(bytes(range(0x41, 0x49))) == 8
        assert os.read(master, 8) == bytes(range(0x41, 0x49))
        os.write(master, b"12345678")
        assert dev.readinto(buf) == 8 and bytes(buf) == b"12345678"
    finally:
        os.close(master)
        os.close(slave)


def tty_raw(fd: int) -> None:
    import tty

    tty.setraw(fd)


def test_read_and_write_errors_keep_errno(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.write_bytes(b"")
    fd = os.open(ro, os.O_RDONLY)
    dev = ChannelDevice(fd, 9)
    with pytest.raises(DeviceError) as ei:
        dev.write(b"\xd5" * 8)
    assert (ei.value.errno, ei.value.op, ei.value.channel) == (errno.EBADF, "write", 9)
    dev.close()
    dev.close()  # closing twice is harmless
    dev2 = ChannelDevice(fd, 9)  # fd now closed
    with pytest.raises(DeviceError) as ei:
        dev2.readinto(bytearray(8))
    assert (ei.value.errno, ei.value.op) == (errno.EBADF, "read")


def test_check_keeps_errno_of_the_last_native_call() -> None:
    assert lib.ccb_ioctl(-1, lib.DAHDI_GETEVENT, ffi.new("int *")) == -1
    with pytest.raises(DeviceError) as ei:
        _check(-1, "DAHDI_GETEVENT", 44)
    assert (ei.value.errno, ei.value.channel, ei.value.op) == (errno.EBADF, 44, "DAHDI_GETEVENT")
    assert _check(0, "DAHDI_GETEVENT", 44) == 0


def test_elast_is_the_headers_value() -> None:
    assert ELAST == 500 == lib.ELAST
