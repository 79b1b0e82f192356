"""Runs the all_sum bandwidth bench, Rust and Python alternately under
mlx.launch (ring backend, loopback), and writes
docs/benchmarks/distributed-allsum.{json,md,svg}.

    cargo build --release -p mlx-rs --example distributed_bench
    /path/to/venv/bin/python scripts/bench_distributed.py [--ranks 2] [--rounds 3]

Needs Python MLX 0.32.2 (the MLX that mlx-sys links). Each round runs the
Rust program, then the Python one; per size, the report keeps the median
over rounds of each run's median.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "docs", "benchmarks")


def run(cmd, ranks, port):
    launch = [os.path.join(os.path.dirname(sys.executable), "mlx.launch"), "--backend", "ring", "-n", str(ranks),
              "--starting-port", str(port), "--"]
    out = subprocess.run(launch + cmd, capture_output=True, text=True, timeout=600, check=True)
    return [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]


def svg(rows):
    w, h, pad = 640, 360, 60
    sizes = sorted({r["bytes"] for r in rows})
    bw = {k: {r["bytes"]: r["bytes"] / r["median_ns"] for r in rows if r["impl"] == k}
          for k in ("rust", "python")}
    top = max(v for d in bw.values() for v in d.values()) * 1.1
    x = lambda i: pad + i * (w - 2 * pad) / max(len(sizes) - 1, 1)
    y = lambda v: h - pad - v / top * (h - 2 * pad)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="11">',
             f'<text x="{w/2}" y="20" text-anchor="middle" font-size="13">all_sum over the ring backend (loopback): GB/s by message size</text>',
             f'<line x1="{pad}" y1="{h-pad}" x2="{w-pad}" y2="{h-pad}" stroke="black"/>',
             f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{h-pad}" stroke="black"/>']
    for i, s in enumerate(sizes):
        label = f"{s >> 20} MiB" if s >= 1 << 20 else f"{s >> 10} KiB"
        parts.append(f'<text x="{x(i)}" y="{h-pad+15}" text-anchor="middle">{label}</text>')
    for k in range(5):
        v = top * k / 4
        parts.append(f'<text x="{pad-5}" y="{y(v)+4}" text-anchor="end">{v:.2f}</text>')
    for name, color in (("rust", "#c0392b"), ("python", "#2471a3")):
        pts = " ".join(f"{x(i)},{y(bw[name][s])}" for i, s in enumerate(sizes) if s in bw[name])
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{pts}"/>')
        ly = pad + (15 if name == "rust" else 30)
        parts.append(f'<text x="{w-pad-60}" y="{ly}" fill="{color}">{name}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rust-bin", default=os.path.join(ROOT, "target", "release", "examples", "distributed_bench"),
                    help="the built distributed_bench example (the work is in libmlx, so a debug build measures the same)")
    args = ap.parse_args()
    rust = [args.rust_bin]
    py = [sys.executable, os.path.join(ROOT, "benches", "python", "bench_distributed.py")]
    runs = {"rust": [], "python": []}
    for r in range(args.rounds):
        runs["rust"].append(run(rust, args.ranks, 33000 + 20 * r))
        runs["python"].append(run(py, args.ranks, 33010 + 20 * r))
    rows = []
    for name, rs in runs.items():
        for s in sorted({x["bytes"] for x in rs[0]}):
            med = statistics.median(x["median_ns"] for run_ in rs for x in run_ if x["bytes"] == s)
            rows.append({"impl": name, "bytes": s, "median_ns": med})
    meta = {"machine": platform.platform(), "cpus": os.cpu_count(), "ranks": args.ranks,
            "rust_bin": os.path.relpath(args.rust_bin, ROOT),
            "rounds": args.rounds, "backend": "ring (loopback)"}
    with open(os.path.join(OUT, "distributed-allsum.json"), "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
    with open(os.path.join(OUT, "distributed-allsum.svg"), "w") as f:
        f.write(svg(rows))
    lines = ["# all_sum over MLX's ring backend (loopback)", "",
             f"{args.ranks} ranks on one machine ({meta['machine']}, {meta['cpus']} CPUs), float32, "
             f"median of {args.rounds} rounds of each program's median; Rust "
             "(`mlx-rs/examples/distributed_bench.rs`) and Python (`benches/python/bench_distributed.py`) "
             f"alternate, both under `mlx.launch` (Rust binary: `{meta['rust_bin']}`). "
             "Written by `scripts/bench_distributed.py`.", "",
             "![chart](distributed-allsum.svg)", "",
             "| size | Rust µs | Python µs | Rust GB/s | Python GB/s | Rust/Python time |",
             "|---:|---:|---:|---:|---:|---:|"]
    by = {(r["impl"], r["bytes"]): r["median_ns"] for r in rows}
    for s in sorted({r["bytes"] for r in rows}):
        rt, pt = by[("rust", s)], by[("python", s)]
        label = f"{s >> 20} MiB" if s >= 1 << 20 else f"{s >> 10} KiB"
        lines.append(f"| {label} | {rt/1e3:.1f} | {pt/1e3:.1f} | {s/rt:.3f} | {s/pt:.3f} | {rt/pt:.2f} |")
    lines += ["", "Notes: over loopback both ranks share the machine's CPUs with the "
              "socket work, so the numbers measure MLX's ring code and the kernel's loopback, "
              "not a network. Rust and Python call the same libmlx collective; the difference "
              "between them is the binding's per-call overhead (microseconds), far below the "
              "run-to-run noise of a loaded machine."]
    with open(os.path.join(OUT, "distributed-allsum.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
