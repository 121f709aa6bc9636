"""`python -m bench`: build ccboard in place if needed, run the benchmarks, write bench/RESULTS.*.

Extra arguments go to pytest (e.g. `python -m bench -k g711`). The raw pytest-benchmark JSON is
kept in build/bench/benchmark.json.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "build" / "bench" / "benchmark.json"
BUILD = [sys.executable, "setup.py", "-q", "build_clib", "build_ext", "--inplace"]
LOCK = "/tmp/ccboard-build.lock"


def main(argv: list[str]) -> int:
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    # Always (re)build: it is incremental, and a stale extension would measure old code. Same
    # lock as the developers' in-place builds, so two builds never interleave.
    cmd = (["flock", LOCK] if os.path.exists("/usr/bin/flock") else []) + BUILD
    subprocess.run(cmd, check=True)
    RAW.parent.mkdir(parents=True, exist_ok=True)
    RAW.unlink(missing_ok=True)
    pytest = [
        sys.executable,
        "-m",
        "pytest",
        "bench",
        "-q",
        "-p",
        "no:cacheprovider",
        "--benchmark-disable-gc",
        "--benchmark-columns=median,iqr,min,max,rounds",
        "--benchmark-sort=name",
        f"--benchmark-json={RAW}",
        *argv,
    ]
    rc = subprocess.run(pytest).returncode
    if not RAW.exists() or not RAW.stat().st_size:
        return rc or 1
    command = " ".join(["python -m bench", *argv])
    # A partial run (any pytest arguments) reports into build/bench/, never over bench/RESULTS.*.
    out = str(RAW.parent if argv else ROOT / "bench")
    report = [sys.executable, "-m", "bench.report", str(RAW), "--command", command, "--out", out]
    return rc or subprocess.run(report).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
