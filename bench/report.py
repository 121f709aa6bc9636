"""Turn pytest-benchmark's JSON (--benchmark-json) into bench/RESULTS.json, RESULTS.md, RESULTS.png.

Per kernel: median ns per sample (median round time / samples per round), channels per core in
real time = 1e9 / (ns_per_sample * 8000), and the ratio ours / spandsp of channels per core
(> 1: ours carries more channels). Targets from issue 3: DTMF receive and G.711 >= 4x.

Usage: python -m bench.report RAW_JSON [--out bench] [--command "python -m bench"]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

RATE = 8000
TARGET = 4.0
HERE = Path(__file__).resolve().parent


def ch_per_core(ns_per_sample: float) -> float:
    """Channels one core keeps up with in real time at 8000 samples/s."""
    return 1e9 / (ns_per_sample * RATE)


def _order(row: dict[str, Any]) -> tuple[int, int, str]:
    """DTMF rows first (one call, blocks, A-law, ticks), then G.711 by operation and shape."""
    k = row["kernel"]
    steps = ["linear 1x80000 one call", "160-sample", "8-sample", "alaw 1x", "tick linear", "tick alaw"]
    if k.startswith("dtmf"):
        return (0, next((i for i, s in enumerate(steps) if s in k), len(steps)), k)
    return (1, 0, k)


def summarise(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per kernel with both sides, in the order the benchmarks ran."""
    rows: dict[str, dict[str, Any]] = {}
    for b in raw["benchmarks"]:
        info = b.get("extra_info", {})
        if "kernel" not in info:
            continue
        ns = b["stats"]["median"] * 1e9 / info["samples"]
        side = {
            "ns_per_sample": round(ns, 3),
            "ch_per_core": round(ch_per_core(ns), 0),
            "median_us_per_call": round(b["stats"]["median"] * 1e6, 3),
            "iqr_us": round(b["stats"]["iqr"] * 1e6, 3),
            "rounds": b["stats"]["rounds"],
            "samples_per_call": info["samples"],
        }
        for key in ("digits_expected", "digits_found", "digits_match", "differs_from_spandsp"):
            if key in info:
                side[key] = info[key]
        rows.setdefault(info["kernel"], {"kernel": info["kernel"]})[info["impl"]] = side
    out = []
    for row in sorted(rows.values(), key=_order):
        if "ours" in row and "spandsp" in row:
            row["ratio"] = round(row["spandsp"]["ns_per_sample"] / row["ours"]["ns_per_sample"], 2)
        out.append(row)
    return out


def machine(raw: dict[str, Any]) -> dict[str, Any]:
    mi = raw.get("machine_info", {})
    extra = mi.get("ccboard", {})
    return {
        "cpu": extra.get("cpu_model") or mi.get("cpu", {}).get("brand_raw", ""),
        "cpus": extra.get("cpus", ""),
        "hypervisor": extra.get("hypervisor", ""),
        "l2": extra.get("l2", ""),
        "l3": extra.get("l3", ""),
        "avx2": extra.get("avx2"),
        "gcc": (extra.get("gcc") or [""])[0],
        "libspandsp": extra.get("libspandsp", ""),
        "spandsp_shim_cflags": extra.get("spandsp_shim_cflags", ""),
        "python": mi.get("python_version", extra.get("python", "")),
        "numpy": extra.get("numpy", ""),
    }


def _fmt_int(x: float) -> str:
    return f"{x:,.0f}"


def _digits(side: dict[str, Any] | None) -> str:
    if not side or "digits_expected" not in side:
        return ""
    mark = "" if side["digits_match"] else " ✗"
    return f"{side['digits_found']}/{side['digits_expected']}{mark}"


def markdown(rows: list[dict[str, Any]], mach: dict[str, Any], command: str, date: str) -> str:
    lines = [
        "# Benchmarks: ccboard against spandsp 0.0.6",
        "",
        f"Produced by `{command}` on {date}. Medians of one run, both sides in the same process on the",
        "same buffers. ns/sample = median time per call / samples per call; ch/core = 1e9 / (ns x 8000);",
        "ratio = ours / spandsp in channels per core (target >= 4x for DTMF receive and G.711).",
        "",
        f"Machine: {mach['cpu']}, {mach['cpus']} CPUs"
        + (f" ({mach['hypervisor']} guest)" if mach["hypervisor"] else "")
        + f", L2 {mach['l2']}, L3 {mach['l3']}, AVX2 {'yes' if mach['avx2'] else 'no'}; {mach['gcc']};"
        f" libspandsp {mach['libspandsp']} (Debian build; shim {mach['spandsp_shim_cflags']});"
        f" Python {mach['python']}, numpy {mach['numpy']}.",
        "",
        "| kernel | ours ns/sample | spandsp ns/sample | ours ch/core | spandsp ch/core | ratio | target"
        " | digits ours | digits spandsp |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in rows:
        ours, sp = r.get("ours"), r.get("spandsp")
        ratio = r.get("ratio")
        target = "" if ratio is None else ("met" if ratio >= TARGET else "not met")
        lines.append(
            "| {k} | {on} | {sn} | {oc} | {sc} | {ra} | {t} | {od} | {sd} |".format(
                k=r["kernel"],
                on=f"{ours['ns_per_sample']:.2f}" if ours else "",
                sn=f"{sp['ns_per_sample']:.2f}" if sp else "",
                oc=_fmt_int(ours["ch_per_core"]) if ours else "",
                sc=_fmt_int(sp["ch_per_core"]) if sp else "",
                ra=f"{ratio:.2f}x" if ratio is not None else "",
                t=target,
                od=_digits(ours),
                sd=_digits(sp),
            )
        )
    ticks = [r for r in rows if " tick " in r["kernel"]]
    if ticks:
        lines += ["", "Cost of one 1 ms tick (8 samples) for 960 channels in one call (median):", ""]
        for r in ticks:
            us = {impl: r[impl]["median_us_per_call"] for impl in ("ours", "spandsp") if impl in r}
            parts = [f"{impl} {t:.1f} µs ({t / 10:.1f} % of a core)" for impl, t in us.items()]
            lines.append(f"- {r['kernel']}: " + "; ".join(parts))
    diffs = [r for r in rows if r.get("ours", {}).get("differs_from_spandsp")]
    if diffs:
        lines += [
            "",
            "G.711 outputs that differ from spandsp's on the benchmark buffer (ours follows G.191 / G.711;",
            "spandsp is not the reference): "
            + ", ".join(f"{r['kernel']}: {r['ours']['differs_from_spandsp']}" for r in diffs)
            + ".",
        ]
    lines += [
        "",
        "Notes: in the `160-sample blocks` and `8-sample blocks` rows ours is called once per block from",
        "Python (binding cost per call included) while spandsp's blocks are looped in C inside the cffi",
        "shim; the `one call` and `tick` rows are one call per buffer on both sides. spandsp has no",
        "G.711 input to dtmf_rx, so its A-law rows expand with its own alaw_to_linear first (timed).",
        "See bench/README.md for the workload.",
        "",
    ]
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rows = [r for r in rows if "ours" in r and "spandsp" in r]
    y = np.arange(len(rows))
    h = 0.4
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(rows) + 1.5))
    ax.barh(y - h / 2, [r["ours"]["ch_per_core"] for r in rows], h, label="ccboard (ours)", color="#1f77b4")
    ax.barh(y + h / 2, [r["spandsp"]["ch_per_core"] for r in rows], h, label="spandsp 0.0.6", color="#ff7f0e")
    for i, r in enumerate(rows):
        ax.text(r["ours"]["ch_per_core"] * 1.05, i - h / 2, f"{r['ratio']:.2f}x", va="center", fontsize=7)
    ax.set_yticks(y, [r["kernel"] for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    top = max(max(r["ours"]["ch_per_core"], r["spandsp"]["ch_per_core"]) for r in rows)
    ax.set_xlim(right=top * 2.5)  # room for the ratio labels
    ax.set_xlabel("channels per core in real time (8000 samples/s), log scale")
    ax.set_title("ccboard vs spandsp 0.0.6: channels per core (medians, same run)")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("raw", type=Path, help="pytest-benchmark JSON (--benchmark-json)")
    ap.add_argument("--out", type=Path, default=HERE, help="directory for RESULTS.* (default bench/)")
    ap.add_argument("--command", default="python -m bench", help="command to cite in RESULTS.md")
    args = ap.parse_args(argv)
    raw = json.loads(args.raw.read_text())
    rows = summarise(raw)
    if not rows:
        print(f"{args.raw}: no ccboard benchmarks in it", file=sys.stderr)
        return 1
    mach = machine(raw)
    date = raw.get("datetime") or dt.datetime.now(dt.UTC).isoformat()
    date = date[:19].replace("T", " ") + " UTC"
    args.out.mkdir(parents=True, exist_ok=True)
    compact = {
        "command": args.command,
        "date": date,
        "machine": mach,
        "target_ratio": TARGET,
        "kernels": rows,
    }
    (args.out / "RESULTS.json").write_text(json.dumps(compact, indent=1, ensure_ascii=False) + "\n")
    (args.out / "RESULTS.md").write_text(markdown(rows, mach, args.command, date))
    plot(rows, args.out / "RESULTS.png")
    sides = ("ours", "spandsp")
    bad = [r["kernel"] for r in rows for side in sides if r.get(side, {}).get("digits_match") is False]
    print((args.out / "RESULTS.md").read_text())
    if bad:
        print("detection check failed in: " + ", ".join(bad), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
