"""Build and load a peer's cffi shim: compiled once per source hash into the peer cache
($CCBOARD_PEER_CACHE, else build/peers/), under a lock so parallel workers build it once.
A peer that is missing or does not build raises PeerUnavailable naming what to install."""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

SPANDSP_HINT = "apt-get install -y libspandsp-dev"
# The flags ../shared/peers used to measure libspandsp here; every spandsp shim uses them.
SPANDSP_CFLAGS = ["-O2", "-march=x86-64", "-std=gnu99", "-Wall"]


class PeerUnavailable(RuntimeError):
    """A peer library or source is missing, or its shim did not build."""


def cache_dir() -> Path:
    env = os.environ.get("CCBOARD_PEER_CACHE")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "build" / "peers"


def build_shim(prefix: str, cdef: str, source: str, hint: str, **kw: Any) -> Any:
    """Compile (once per source hash, under a lock) and import a cffi API-mode shim."""
    import cffi  # needed only to build

    key = cdef + source + repr(sorted(kw.items()))
    name = f"{prefix}_{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    if name in sys.modules:
        return sys.modules[name]
    out = cache_dir()
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = sorted(out.glob(f"{name}.*so"))
        if found:
            path = found[0]
        else:
            ffi = cffi.FFI()
            ffi.cdef(cdef)
            ffi.set_source(name, source, **kw)
            tmp = tempfile.mkdtemp(prefix="build-", dir=out)
            try:
                built = Path(ffi.compile(tmpdir=tmp, verbose=False))
                path = out / built.name
                os.replace(built, path)
            except Exception as exc:  # cffi's VerificationError or a setuptools error
                raise PeerUnavailable(f"building the {prefix} shim failed ({exc}); {hint}") from exc
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            for old in out.glob(f"{prefix}_*"):  # earlier versions of this shim
                if not old.name.startswith(name) and old.suffix == ".so":
                    old.unlink(missing_ok=True)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PeerUnavailable(f"cannot import the {prefix} shim from {path}; {hint}")
    mod = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(mod)
    except ImportError as exc:
        raise PeerUnavailable(f"loading the {prefix} shim failed ({exc}); {hint}") from exc
    sys.modules[name] = mod
    return mod


def build_spandsp_shim(prefix: str, cdef: str, source: str) -> Any:
    """A shim over Debian's libspandsp with the flags the shared harness measured it with."""
    return build_shim(
        prefix, cdef, source, SPANDSP_HINT, libraries=["spandsp"], extra_compile_args=SPANDSP_CFLAGS
    )
