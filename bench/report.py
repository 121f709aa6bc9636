"""Turn pytest-benchmark's JSON (--benchmark-json) into bench/RESULTS.json, RESULTS.md, RESULTS.png.

Per kernel: median ns per sample (median round time / samples per round), channels per core in
real time = 1e9 / (ns_per_sample * 8000), and for each peer measured beside ours (spandsp, oslec,
stm32flash, ...) the ratio peer time / our time (> 1: ours is faster). Targets come from the
issues (DTMF receive and G.711 >= 4x, issue 3) or from the benchmark's `target` extra_info.

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


def _section(kernel: str) -> str:
    """dtmf_rx tick ... -> dtmf; g711 alaw_encode ... -> g711."""
    return kernel.split()[0].split("_")[0]


def _order(row: dict[str, Any]) -> tuple[int, int, str]:
    """Sections in issue order (DTMF and G.711 first), DTMF rows by workload shape."""
    k = row["kernel"]
    steps = ["linear 1x80000 one call", "160-sample", "8-sample", "alaw 1x", "tick linear", "tick alaw"]
    sections = ["dtmf", "g711", "mf", "echo", "tdm", "conf", "hdlc", "board", "fw"]
    sec = _section(k)
    rank = sections.index(sec) if sec in sections else len(sections)
    if sec == "dtmf":
        return (rank, next((i for i, s in enumerate(steps) if s in k), len(steps)), k)
    return (rank, 0, k)


def summarise(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per kernel: "ours" and every peer measured beside it (any other impl name).

    extra_info of a benchmark: impl, kernel, samples (per call; or `per` + `unit` for work that
    is not audio samples, e.g. bytes), optional target (ratio ours/peer to meet) and checks.
    """
    rows: dict[str, dict[str, Any]] = {}
    for b in raw["benchmarks"]:
        info = b.get("extra_info", {})
        if "kernel" not in info:
            continue
        unit = info.get("unit", "sample")
        per = info.get("per", info.get("samples", 1))
        ns = b["stats"]["median"] * 1e9 / per
        side = {
            "ns_per_unit": round(ns, 3),
            "unit": unit,
            "median_us_per_call": round(b["stats"]["median"] * 1e6, 3),
            "iqr_us": round(b["stats"]["iqr"] * 1e6, 3),
            "rounds": b["stats"]["rounds"],
            "per_call": per,
        }
        if unit == "sample":
            side["ns_per_sample"] = side["ns_per_unit"]
            side["ch_per_core"] = round(ch_per_core(ns), 0)
        for key, value in info.items():
            if key not in ("impl", "kernel", "samples", "per", "unit", "target"):
                side[key] = value
        row = rows.setdefault(info["kernel"], {"kernel": info["kernel"], "impls": {}})
        if "target" in info:
            row["target"] = info["target"]
        row["impls"][info["impl"]] = side
    out = []
    for row in sorted(rows.values(), key=_order):
        ours = row["impls"].get("ours")
        row["ratios"] = {
            peer: round(side["ns_per_unit"] / ours["ns_per_unit"], 2)
            for peer, side in row["impls"].items()
            if peer != "ours" and ours is not None
        }
        if "target" not in row and _section(row["kernel"]) in ("dtmf", "g711"):  # issue 3's goal
            row["target"] = TARGET
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
    """What the benchmark checked on its output: digits found, or payload efficiency."""
    if not side:
        return ""
    if "digits_expected" in side:
        mark = {True: "", False: " ✗", None: " (not judged)"}[side.get("digits_match")]
        return f"{side['digits_found']}/{side['digits_expected']}{mark}"
    if "payload_efficiency" in side:
        return f"payload/wire {side['payload_efficiency']:.3f}"
    return ""


def _per(side: dict[str, Any]) -> str:
    return f"{side['ns_per_unit']:.2f} ns/{side['unit']}"


def markdown(rows: list[dict[str, Any]], mach: dict[str, Any], command: str, date: str) -> str:
    lines = [
        "# Benchmarks: ccboard against its peers",
        "",
        f"Produced by `{command}` on {date}. Medians of one run, ours and each peer in the same process",
        "on the same buffers. ns/sample = median time per call / samples per call; ch/core = 1e9 / (ns x",
        "8000); ratio = peer time / our time for the same work (> 1: ours is faster; for audio kernels it",
        "equals ours / peer in channels per core). Targets are the issues' goals.",
        "",
        f"Machine: {mach['cpu']}, {mach['cpus']} CPUs"
        + (f" ({mach['hypervisor']} guest)" if mach["hypervisor"] else "")
        + f", L2 {mach['l2']}, L3 {mach['l3']}, AVX2 {'yes' if mach['avx2'] else 'no'}; {mach['gcc']};"
        f" libspandsp {mach['libspandsp']} (Debian build; shim {mach['spandsp_shim_cflags']});"
        f" Python {mach['python']}, numpy {mach['numpy']}.",
        "",
        "| kernel | peer | ours | peer's | ours ch/core | peer ch/core | ratio | target"
        " | checks ours | checks peer |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in rows:
        ours = r["impls"].get("ours")
        peers = [p for p in r["impls"] if p != "ours"] or [""]
        for peer in peers:
            side = r["impls"].get(peer) if peer else None
            ratio = r["ratios"].get(peer)
            target = r.get("target")
            verdict = "" if ratio is None or target is None else ("met" if ratio >= target else "not met")
            lines.append(
                "| {k} | {p} | {o} | {s} | {oc} | {sc} | {ra} | {t} | {od} | {sd} |".format(
                    k=r["kernel"],
                    p=peer,
                    o=_per(ours) if ours else "",
                    s=_per(side) if side else "",
                    oc=_fmt_int(ours["ch_per_core"]) if ours and "ch_per_core" in ours else "",
                    sc=_fmt_int(side["ch_per_core"]) if side and "ch_per_core" in side else "",
                    ra=f"{ratio:.2f}x" if ratio is not None else "",
                    t=(f">= {target:g}x: {verdict}" if target is not None and ratio is not None else ""),
                    od=_digits(ours),
                    sd=_digits(side),
                )
            )
    ticks = [r for r in rows if " tick " in r["kernel"]]
    if ticks:
        lines += ["", "Cost of one call per 1 ms tick (median; rounds of several ticks divided out):", ""]
        for r in ticks:
            parts = [
                f"{impl} {side['median_us_per_call'] / side.get('calls_per_round', 1):.1f} µs"
                for impl, side in r["impls"].items()
            ]
            lines.append(f"- {r['kernel']}: " + "; ".join(parts))
    diffs = [r for r in rows if r["impls"].get("ours", {}).get("differs_from_spandsp")]
    if diffs:
        lines += [
            "",
            "G.711 outputs that differ from spandsp's on the benchmark buffer (ours follows G.191 / G.711;",
            "spandsp is not the reference): "
            + ", ".join(f"{r['kernel']}: {r['impls']['ours']['differs_from_spandsp']}" for r in diffs)
            + ".",
        ]
    notes = sorted({str(side["note"]) for r in rows for side in r["impls"].values() if "note" in side})
    lines += [
        "",
        "Notes: in the DTMF `160-sample blocks` and `8-sample blocks` rows both sides are called once per",
        "block from Python (each side's per-call cost included; spandsp's calls pre-bound); the `one call`",
        "and `tick` rows are one call per buffer on both sides. spandsp has no G.711 input to dtmf_rx, so",
        "its A-law rows expand with its own alaw_to_linear first (timed).",
        "See bench/README.md for the workloads.",
        *[f"- {n}" for n in notes],
        "",
    ]
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    bars = [
        (f"{r['kernel']} vs {peer}", r["impls"]["ours"]["ch_per_core"], r["impls"][peer]["ch_per_core"], q)
        for r in rows
        for peer, q in r["ratios"].items()
        if "ch_per_core" in r["impls"]["ours"] and "ch_per_core" in r["impls"][peer]
    ]
    if not bars:
        return
    y = np.arange(len(bars))
    h = 0.4
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(bars) + 1.5))
    ax.barh(y - h / 2, [b[1] for b in bars], h, label="ccboard (ours)", color="#1f77b4")
    ax.barh(y + h / 2, [b[2] for b in bars], h, label="peer", color="#ff7f0e")
    for i, b in enumerate(bars):
        ax.text(b[1] * 1.05, i - h / 2, f"{b[3]:.2f}x", va="center", fontsize=7)
    ax.set_yticks(y, [b[0] for b in bars], fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlim(right=max(max(b[1], b[2]) for b in bars) * 2.5)  # room for the ratio labels
    ax.set_xlabel("channels per core in real time (8000 samples/s), log scale")
    ax.set_title("ccboard vs peers: channels per core (medians, same run)")
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
    bad = [r["kernel"] for r in rows for side in r["impls"].values() if side.get("digits_match") is False]
    print((args.out / "RESULTS.md").read_text())
    if bad:
        print("detection check failed in: " + ", ".join(bad), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
