"""Boot Debian's kernel in qemu with the real DAHDI driver and run the guest tests against it.

    python -m tests.vm.run_vm [pytest args for the guest ...]     (default: tests/vm/guest)

What it does (every step measured and printed with its wall time):
  1. packages: qemu-system-x86, busybox-static, linux-headers-amd64, dahdi-source, dahdi
     (dahdi_cfg), libopenr2-dev; apt-installs the missing ones when run as root.
  2. kernel: `apt-get download linux-image-$KVER` (KVER from linux-headers-amd64, so image and
     headers match), extracts vmlinuz and the few modules the guest needs (virtio, 9p, overlay)
     -- extracted, never installed: installing pulls initramfs-tools and udev.
  3. dahdi.ko, dahdi_dynamic.ko, dahdi_dynamic_loc.ko built from Debian's patched source
     (dahdi-source) against linux-headers-$KVER, debug info stripped. Installing dahdi-dkms
     would build every driver for every kernel (about 2 min); we build three.
  4. the OpenR2 peer (tests/vm/guest/_openr2_build.py, cffi API mode against <openr2.h>).
  Steps 2-4 are cached under build/vm/<KVER>-dahdi<version>/; a second run boots straight away.
  5. an initramfs (busybox, the modules, /init) written by this script (cpio newc, gzip).
  6. qemu (TCG unless the CPU has vmx/svm and /dev/kvm is writable; `-cpu max`, which numpy's
     wheels need): /init loads the modules (dahdi with auto_assign_spans=1), mounts the host's
     root read-only over virtio-9p with a tmpfs overlay on top, binds /dev /proc /sys, chroots
     into it and runs build/vm/run/cmd.sh: dahdi_cfg on the VM's system.conf, then this very
     interpreter's pytest over the guest tests, junit XML written to build/vm/run (the second,
     writable 9p share). The result is read from what the guest wrote back: qemu exits 0
     whatever happened inside.

Exit status: the guest pytest's (0 = every guest test passed); 125 when the guest never got as
far as writing its status (boot failure, timeout); 1 for a failure on the host side.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "build" / "vm"
GUEST_DIR = ROOT / "tests" / "vm" / "guest"
SYSTEM_CONF = GUEST_DIR / "system.conf"

# Debian packages: host tools the stage runs, and the inputs it builds from.
HOST_PACKAGES = (
    "qemu-system-x86",  # qemu-system-x86_64
    "busybox-static",  # the guest's /init shell and tools (must be static: the initramfs has no libc)
    "linux-headers-amd64",  # KVER, and the tree dahdi.ko is built against
    "dahdi-source",  # Debian's patched DAHDI kernel source (/usr/src/dahdi.tar.bz2)
    "dahdi",  # dahdi_cfg, run in the guest (from the host root)
    "libopenr2-dev",  # <openr2.h> + libopenr2.so for the OpenR2 far end (pulls libopenr2-3)
    "make",
    "gcc",
)
# Guest kernel modules, in load order: virtio PCI, 9p over virtio, overlayfs.
KERNEL_MODULES = (
    "drivers/virtio/virtio_ring",
    "drivers/virtio/virtio",
    "drivers/virtio/virtio_pci_modern_dev",
    "drivers/virtio/virtio_pci_legacy_dev",
    "drivers/virtio/virtio_pci",
    "fs/netfs/netfs",
    "fs/fscache/fscache",
    "net/9p/9pnet",
    "net/9p/9pnet_virtio",
    "fs/9p/9p",
    "fs/overlayfs/overlay",
)
DAHDI_MODULES = ("dahdi", "dahdi_dynamic", "dahdi_dynamic_loc")
VM_TIMEOUT_S = 600
VM_MEM_MB = 1024


class VmError(Exception):
    """The VM stage could not run (a missing tool, a failed download or build, no boot)."""


@dataclass
class StageResult:
    """What one VM run left behind."""

    rc: int  # the guest command's exit status; 125 = the guest never wrote it
    run_dir: Path
    console: str
    timings: dict[str, float] = field(default_factory=dict)  # step -> wall seconds

    @property
    def junit(self) -> Path:
        return self.run_dir / "junit.xml"


def _log(msg: str) -> None:
    print(f"[vm] {msg}", file=sys.stderr, flush=True)


def _run(cmd: list[str], what: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """Run a host command; VmError with its output tail when it fails."""
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        tail = (p.stdout + p.stderr).strip().splitlines()[-15:]
        raise VmError(f"{what} failed (exit {p.returncode}): {shlex.join(cmd)}\n" + "\n".join(tail))
    return p.stdout


def _installed(pkg: str) -> bool:
    p = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
    return p.returncode == 0 and "install ok installed" in p.stdout


def ensure_packages() -> None:
    """apt-get install what is missing (as root); VmError naming the packages otherwise."""
    missing = [p for p in HOST_PACKAGES if not _installed(p)]
    if not missing:
        return
    if os.geteuid() != 0:
        raise VmError(f"missing Debian packages (install as root): {' '.join(missing)}")
    _log(f"apt-get install {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run(["apt-get", "update", "-qq"], "apt-get update", env=env)
    _run(
        # dahdi-dkms- : apt must not pick dahdi-dkms for dahdi's dependency (builds every driver)
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing, "dahdi-dkms-"],
        "apt-get install",
        env=env,
    )


def kernel_version() -> str:
    """The kernel ABI linux-headers-amd64 points at (e.g. 6.1.0-57-amd64)."""
    deps = _run(["dpkg-query", "-W", "-f=${Depends}", "linux-headers-amd64"], "dpkg-query")
    m = re.search(r"linux-headers-(\d[^ ,]*)", deps)
    if not m:
        raise VmError(f"cannot find the kernel version in linux-headers-amd64's Depends: {deps!r}")
    return m.group(1)


def package_version(pkg: str) -> str:
    return _run(["dpkg-query", "-W", "-f=${Version}", pkg], "dpkg-query").strip()


def accel() -> tuple[str, str]:
    """(accelerator, cpu): KVM only with vmx/svm and a writable /dev/kvm (else -enable-kvm hangs)."""
    flags = Path("/proc/cpuinfo").read_text()
    if re.search(r"\b(vmx|svm)\b", flags) and os.access("/dev/kvm", os.W_OK):
        return "kvm", "host"
    return "tcg,thread=multi", "max"  # qemu64 lacks what numpy's wheels need (SIGILL)


# -- cached inputs ---------------------------------------------------------------------------------


def fetch_kernel(kver: str, dest: Path) -> None:
    """Download linux-image-KVER and extract vmlinuz and KERNEL_MODULES into dest."""
    with tempfile.TemporaryDirectory(prefix="ccboard-vm-") as tmp:
        os.chmod(tmp, 0o755)  # apt's _apt user writes the download here
        cmd = ["apt-get", "download", "-q", f"linux-image-{kver}"]
        p = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
        if p.returncode != 0:  # stale lists on a fresh machine
            _run(["apt-get", "update", "-qq"], "apt-get update")
            _run(cmd, "apt-get download", cwd=Path(tmp))
        deb = next(Path(tmp).glob("linux-image-*.deb"))
        want = {f"./boot/vmlinuz-{kver}"} | {f"./lib/modules/{kver}/kernel/{m}.ko" for m in KERNEL_MODULES}
        mods = dest / "modules"
        mods.mkdir(parents=True, exist_ok=True)
        tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
        assert tar.stdout is not None
        found: set[str] = set()
        with tarfile.open(fileobj=tar.stdout, mode="r|") as tf:
            for member in tf:
                if member.name not in want:
                    continue
                f = tf.extractfile(member)
                assert f is not None
                target = dest / "vmlinuz" if "/boot/" in member.name else mods / Path(member.name).name
                target.write_bytes(f.read())
                found.add(member.name)
        tar.wait()
        if want - found:
            raise VmError(f"linux-image-{kver} lacks {', '.join(sorted(want - found))}")


def build_dahdi(kver: str, dest: Path) -> None:
    """Build DAHDI_MODULES from /usr/src/dahdi.tar.bz2 against linux-headers-KVER into dest."""
    headers = Path(f"/usr/src/linux-headers-{kver}")
    if not headers.is_dir():
        raise VmError(f"{headers} missing (linux-headers-amd64 not installed?)")
    with tempfile.TemporaryDirectory(prefix="ccboard-dahdi-") as tmp:
        with tarfile.open("/usr/src/dahdi.tar.bz2") as tf:
            tf.extractall(tmp, filter="data")
        src = Path(tmp) / "modules" / "dahdi"
        cmd = [
            "make",
            "-s",
            f"-j{os.cpu_count() or 1}",
            "-C",
            str(headers),
            f"M={src}/drivers/dahdi",
            f"DAHDI_INCLUDE={src}/include",
            "CONFIG_DAHDI=m",
            "CONFIG_DAHDI_DYNAMIC=m",
            "CONFIG_DAHDI_DYNAMIC_LOC=m",
            "modules",
        ]
        _run(cmd, "building dahdi.ko")
        dest.mkdir(parents=True, exist_ok=True)
        for m in DAHDI_MODULES:
            ko = src / "drivers" / "dahdi" / f"{m}.ko"
            shutil.copy(ko, dest / ko.name)
            _run(["strip", "--strip-debug", str(dest / ko.name)], f"strip {ko.name}")


def build_openr2_peer(dest: Path) -> None:
    """Compile the cffi OpenR2 peer module into dest (the guest imports it from there)."""
    dest.mkdir(parents=True, exist_ok=True)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import _openr2_build as b; "
        "b.ffibuilder.compile(tmpdir=sys.argv[2], verbose=False)"
    )
    _run([sys.executable, "-c", code, str(GUEST_DIR), str(dest)], "building the OpenR2 peer (cffi)")


def prepare(kver: str) -> Path:
    """The cache dir for this kernel + DAHDI source, built if needed."""
    dver = re.sub(r"[^0-9A-Za-z.+-]", "_", package_version("dahdi-source"))
    cache = CACHE / f"{kver}-dahdi{dver}"
    stamp = cache / "ready"
    if not stamp.exists():
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True)
        t = time.monotonic()
        fetch_kernel(kver, cache)
        _log(f"kernel {kver} downloaded + extracted in {time.monotonic() - t:.1f} s")
        t = time.monotonic()
        build_dahdi(kver, cache / "dahdi")
        _log(f"dahdi modules built in {time.monotonic() - t:.1f} s")
        stamp.write_text(f"{kver} {dver}\n")
    # The peer depends on the guest-side build file: rebuilt when it changes.
    build_src = (GUEST_DIR / "_openr2_build.py").read_bytes()
    peer = cache / ("openr2-" + hashlib.sha256(build_src).hexdigest()[:12])
    if not any(peer.glob("_openr2_peer*.so")):
        t = time.monotonic()
        shutil.rmtree(peer, ignore_errors=True)
        build_openr2_peer(peer)
        _log(f"OpenR2 peer built in {time.monotonic() - t:.1f} s")
    return cache


# -- the initramfs ---------------------------------------------------------------------------------

INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
up() { cut -d' ' -f1 /proc/uptime; }
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mkdir -p /dev/shm /dev/pts; mount -t tmpfs shm /dev/shm; mount -t devpts devpts /dev/pts
for m in $(cat /lib/mod/order); do insmod /lib/mod/$m.ko || echo "VM: insmod $m failed"; done
# Debian's dahdi defaults to auto_assign_spans=0: the dynamic spans would never get numbers.
insmod /lib/mod/dahdi.ko auto_assign_spans=1 || echo "VM: insmod dahdi failed"
insmod /lib/mod/dahdi_dynamic.ko; insmod /lib/mod/dahdi_dynamic_loc.ko
O=trans=virtio,version=9p2000.L,msize=512000
mkdir -p /ro /ovl /host
mount -t 9p -o $O,ro,cache=loose hostroot /ro || echo "VM: mount hostroot failed"
mount -t tmpfs ovl /ovl; mkdir /ovl/u /ovl/w
mount -t overlay overlay -o lowerdir=/ro,upperdir=/ovl/u,workdir=/ovl/w /host || echo "VM: overlay failed"
mount -t proc proc /host/proc; mount -t sysfs sys /host/sys; mount -o bind /dev /host/dev
mount -o bind /dev/shm /host/dev/shm; mount -o bind /dev/pts /host/dev/pts
mkdir -p /host$VMRUN; mount -t 9p -o $O,cache=none xfer /host$VMRUN || echo "VM: mount xfer failed"
echo "VM: up at $(up) s"
chroot /host /bin/sh $VMRUN/cmd.sh
rc=$?
echo $rc > /host$VMRUN/rc; sync; umount /host$VMRUN
echo "VM: rc=$rc at $(up) s"
poweroff -f
"""


def _cpio(entries: list[tuple[str, int, bytes]]) -> bytes:
    """A newc cpio archive of (path, mode, data) entries (directories have empty data)."""
    out = io.BytesIO()

    def put(name: str, mode: int, data: bytes, ino: int) -> None:
        nm = name.encode() + b"\0"
        fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nm), 0)
        out.write(b"070701" + b"".join(b"%08X" % f for f in fields) + nm)
        out.write(b"\0" * (-(110 + len(nm)) % 4))
        out.write(data)
        out.write(b"\0" * (-len(data) % 4))

    for i, (name, mode, data) in enumerate(entries, start=1):
        put(name, mode, data, i)
    put("TRAILER!!!", 0, b"", 0)
    return out.getvalue()


def build_initramfs(cache: Path, dest: Path) -> None:
    """busybox + the kernel and DAHDI modules + /init, gzipped cpio."""
    d, f, x = stat.S_IFDIR | 0o755, stat.S_IFREG | 0o644, stat.S_IFREG | 0o755
    entries: list[tuple[str, int, bytes]] = [
        (p, d, b"") for p in ("bin", "lib", "lib/mod", "proc", "sys", "dev")
    ]
    entries.append(("bin/busybox", x, Path("/usr/bin/busybox").read_bytes()))
    entries.append(("init", x, INIT.encode()))
    order = [Path(m).name for m in KERNEL_MODULES]
    entries.append(("lib/mod/order", f, ("\n".join(order) + "\n").encode()))
    for m in order:
        entries.append((f"lib/mod/{m}.ko", f, (cache / "modules" / f"{m}.ko").read_bytes()))
    for m in DAHDI_MODULES:
        entries.append((f"lib/mod/{m}.ko", f, (cache / "dahdi" / f"{m}.ko").read_bytes()))
    dest.write_bytes(gzip.compress(_cpio(entries), compresslevel=1))


# -- the run ---------------------------------------------------------------------------------------


def guest_command(run: Path, pytest_args: list[str], exec_argv: list[str] | None = None) -> str:
    """cmd.sh, run by /bin/sh in the chroot: dahdi_cfg, then pytest over the guest tests (or
    exec_argv instead, for a look around: `python -m tests.vm.run_vm --exec CMD ARGS...`)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",  # halves pytest's start-up under TCG
        "PYTHONDONTWRITEBYTECODE": "1",
        "CCBOARD_VM_RUN": str(run),
        "CCBOARD_VM_CONF": str(run / "system.conf"),
    }
    # The interpreter that runs us, by path: a shim (pyenv) costs seconds under TCG.
    python = sys.executable
    args = [
        python,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-o",
        "python_files=vm_*.py",
        "-o",
        "addopts=",
        "-rA",
        f"--junitxml={run / 'junit.xml'}",
        *(pytest_args or [str(GUEST_DIR)]),
    ]
    lines = [f"export {k}={shlex.quote(v)}" for k, v in env.items()]
    lines += [
        f"/usr/sbin/dahdi_cfg -c {shlex.quote(str(run / 'system.conf'))} || "
        "{ echo 'VM: dahdi_cfg failed'; exit 124; }",
        'echo "VM: dahdi_cfg done at $(cut -d" " -f1 /proc/uptime) s"',
        f"cd {shlex.quote(str(ROOT))} || exit 125",
        "exec " + shlex.join(exec_argv or args),
    ]
    return "\n".join(lines) + "\n"


def run_stage(
    pytest_args: list[str] | None = None, timeout_s: float = VM_TIMEOUT_S, exec_argv: list[str] | None = None
) -> StageResult:
    """Prepare (cached), boot, run the guest tests; the result as the guest reported it."""
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    ensure_packages()
    kver = kernel_version()
    timings["packages"] = time.monotonic() - t0
    t = time.monotonic()
    cache = prepare(kver)
    timings["prepare"] = time.monotonic() - t
    run = CACHE / "run"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    t = time.monotonic()
    initrd = run / "initrd.gz"
    build_initramfs(cache, initrd)
    timings["initramfs"] = time.monotonic() - t
    shutil.copy(SYSTEM_CONF, run / "system.conf")
    (run / "cmd.sh").write_text(guest_command(run, pytest_args or [], exec_argv))
    acc, cpu = accel()
    smp = str(min(os.cpu_count() or 1, 4))
    cmd = [
        "qemu-system-x86_64",
        "-accel",
        acc,
        "-cpu",
        cpu,
        "-m",
        str(VM_MEM_MB),
        "-smp",
        smp,
        "-nographic",
        "-no-reboot",
        "-net",
        "none",
        "-kernel",
        str(cache / "vmlinuz"),
        "-initrd",
        str(initrd),
        "-append",
        f"console=ttyS0 panic=-1 quiet loglevel=3 VMRUN={run}",
        "-virtfs",
        "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
        "-virtfs",
        f"local,path={run},mount_tag=xfer,security_model=none,multidevs=remap",
    ]
    if shutil.which(cmd[0]) is None:
        raise VmError("qemu-system-x86_64 not found (Debian package qemu-system-x86)")
    t = time.monotonic()
    console = run / "console.log"
    with open(console, "wb") as out:
        try:
            subprocess.run(
                cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, timeout=timeout_s
            )
        except subprocess.TimeoutExpired:
            _log(f"qemu killed after {timeout_s:.0f} s")
    timings["boot+guest"] = time.monotonic() - t
    timings["total"] = time.monotonic() - t0
    text = console.read_text(errors="replace")
    rc_file = run / "rc"
    rc = int(rc_file.read_text().strip()) if rc_file.exists() and rc_file.read_text().strip() else 125
    return StageResult(rc=rc, run_dir=run, console=text, timings=timings)


def main(argv: list[str]) -> int:
    try:
        if argv[:1] == ["--exec"]:
            res = run_stage(exec_argv=argv[1:])
        else:
            res = run_stage(argv)
    except VmError as exc:
        _log(f"VM stage failed: {exc}")
        return 1
    sys.stdout.write(res.console)
    _log("timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in res.timings.items()))
    _log(f"guest exit status {res.rc} (results in {res.run_dir})")
    return res.rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
