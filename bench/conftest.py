"""Shared workload and fixtures for the benchmarks: ours and spandsp 0.0.6 on the same buffers.

Workload (as ../shared/peers/spandsp_bench.c): 10 s at 8000 Hz of speech-like noise, i.e. AR(2)
coloured Gaussian noise (pole radius 0.9 at 500 Hz) gated into 100-400 ms bursts at -25 dBm0
with 50-300 ms pauses at -55 dBm0, plus 80 DTMF digits from spandsp's dtmf_tx (-10 dBm0 per tone,
50 ms on / 55 ms off) in five bursts of 16 that all fit inside the 10 s.
Each benchmark records in extra_info: impl ('ours' / 'spandsp'), kernel, samples per round
(ns/sample = median / samples) and, for DTMF, the digits expected and found.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # in-place build of ccboard and tests.peers

from tests.peers import shim, spandsp  # noqa: E402

RATE = 8000
SECONDS = 10
N = RATE * SECONDS
DIGITS_BURST = "123A456B789C*0#D"
BURSTS = 5
BURST_START_S = 0.1  # bursts at 0.1, 2.1, ... 8.1 s; each lasts 16 * 105 ms = 1.68 s
TICK = 8  # one 1 ms DAHDI chunk
TICK_CHANNELS = 960  # 32 E1 spans of 30 channels
BUILD_HINT = "python setup.py build_clib build_ext --inplace"


def dbm0_rms(dbm0: float) -> float:
    """RMS of a sine at `dbm0` on spandsp's scale (0 dBm0 sine peak = 32768 * 10^(-3.14/20))."""
    return float(32768.0 * 10.0 ** ((dbm0 - 3.14) / 20.0) / np.sqrt(2.0))


def speech_like(
    n: int, rng: np.random.Generator, level_dbm0: float = -25.0, floor_dbm0: float = -55.0
) -> npt.NDArray[np.float64]:
    """AR(2) noise in syllable-like bursts: 100-400 ms at level_dbm0, 50-300 ms at floor_dbm0."""
    from scipy.signal import lfilter

    r, theta = 0.9, 2.0 * np.pi * 500.0 / RATE
    y = lfilter([1.0], [1.0, -2.0 * r * np.cos(theta), r * r], rng.standard_normal(n))
    rms = float(np.sqrt(np.mean(y * y)))
    gain = np.empty(n)
    i, talking = 0, True
    while i < n:
        ms = rng.uniform(100, 400) if talking else rng.uniform(50, 300)
        k = int(ms * RATE / 1000)
        gain[i : i + k] = dbm0_rms(level_dbm0 if talking else floor_dbm0) / rms
        i += k
        talking = not talking
    return np.asarray(y * gain)


@dataclass(frozen=True)
class Workload:
    """The 10 s test signal in every form the benchmarks feed."""

    linear: npt.NDArray[np.int16]
    alaw: npt.NDArray[np.uint8]
    ulaw: npt.NDArray[np.uint8]
    digits: str  # in order, as embedded

    @property
    def expected(self) -> int:
        return len(self.digits)


def _build_workload(peer: spandsp.SpandspPeer) -> Workload:
    rng = np.random.default_rng(20240611)
    x = speech_like(N, rng)
    tones = np.zeros(N)
    for b in range(BURSTS):
        burst = peer.dtmf_tx(DIGITS_BURST, on_ms=50, off_ms=55, level_dbm0=-10)
        start = int((BURST_START_S + 2.0 * b) * RATE)
        tones[start : start + burst.size] += burst
    lin = np.clip(np.rint(x + tones), -32768, 32767).astype(np.int16)
    return Workload(lin, peer.alaw_encode(lin), peer.ulaw_encode(lin), DIGITS_BURST * BURSTS)


@pytest.fixture(scope="session")
def peer() -> spandsp.SpandspPeer:
    return spandsp.load()


@pytest.fixture(scope="session")
def workload(peer: spandsp.SpandspPeer) -> Workload:
    return _build_workload(peer)


def import_ours(module: str) -> Any:
    """Our binding, or a failure that says how to build it (never a skip)."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        pytest.fail(f"{module} is not built ({exc}); build it in place first: {BUILD_HINT}")


class TickSource:
    """Feeds (channels x 8) ticks walking through the 10 s workload, one 1 ms tick per call.

    Each channel hears the workload rotated to start inside a different 55 ms inter-digit pause
    (burst c % 5, gap (c // 5) % 16, 20 + 29 * (c // 80) samples into it), so the channels hear
    the digits at different moments and every channel still hears all 80 digits whole.
    """

    def __init__(self, signal: npt.NDArray[Any], channels: int = TICK_CHANNELS) -> None:
        c = np.arange(channels)
        on, period = 50 * RATE // 1000, 105 * RATE // 1000
        first = int(BURST_START_S * RATE)
        offsets = first + 2 * RATE * (c % 5) + period * ((c // 5) % 16) + on + 20 + 29 * ((c // 80) % 12)
        self.signal = signal
        self.base = offsets[:, None] + np.arange(TICK)[None, :]
        self.buf = np.empty((channels, TICK), dtype=signal.dtype)
        self.t = 0

    @property
    def ticks(self) -> int:
        return self.signal.size // TICK

    def next(self) -> npt.NDArray[Any]:
        np.take(self.signal, (self.base + TICK * self.t) % self.signal.size, out=self.buf)
        self.t += 1
        return self.buf


def record(benchmark: Any, impl: str, kernel: str, samples: int, **extra: Any) -> None:
    """Tag a benchmark so bench/report.py can pair ours with spandsp."""
    benchmark.group = kernel
    benchmark.extra_info.update(impl=impl, kernel=kernel, samples=samples, **extra)


def _run(cmd: list[str]) -> str:
    if shutil.which(cmd[0]) is None:
        return ""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def pytest_benchmark_update_machine_info(config: Any, machine_info: dict[str, Any]) -> None:
    """CPU model, caches, compiler and library versions, so RESULTS.* say what ran."""
    lscpu = {}
    for line in _run(["lscpu"]).splitlines():
        key, _, value = line.partition(":")
        lscpu[key.strip()] = value.strip()
    machine_info["ccboard"] = {
        "cpu_model": lscpu.get("Model name", platform.processor()),
        "cpus": lscpu.get("CPU(s)", ""),
        "hypervisor": lscpu.get("Hypervisor vendor", ""),
        "l2": lscpu.get("L2 cache", ""),
        "l3": lscpu.get("L3 cache", ""),
        "avx2": "avx2" in lscpu.get("Flags", "").split(),
        "gcc": _run(["gcc", "--version"]).splitlines()[0:1],
        "libspandsp": _run(["dpkg-query", "-W", "-f", "${Version}", "libspandsp2"]),
        "spandsp_shim_cflags": " ".join(shim.SPANDSP_CFLAGS),
        "numpy": np.__version__,
        "python": platform.python_version(),
    }
