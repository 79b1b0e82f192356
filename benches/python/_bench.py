"""Timing protocol and command line shared by the Python MLX benchmarks.

The same protocol as the Rust side (tests/support/bench.rs): `warmup`
untimed iterations, then `samples` timed batches of `batch` iterations; a
sample is the batch's time divided by `batch`; a case may prepare state
before each batch, untimed (`reset`). Prints one JSON line:

    {"name": ..., "impl": "python", "median_ns": ..., "samples_ns": [...], ...}

Each bench_<family>.py maps case names to factories `f(args) -> case`, where
a case has `run()` and optionally `reset()`. Run one case with, e.g.:

    python benches/python/bench_quantize.py --case quantize/mxfp4 \\
        --warmup 2 --samples 11 --batch 1 [--device gpu]

Needs the same MLX as mlx-sys links (0.32.2):
    python3 -m venv v && v/bin/pip install mlx==0.32.2 mlx-cpu==0.32.2
"""

import argparse
import json
import platform
import statistics
import time

import mlx.core as mx


def measure(case, warmup, samples, batch):
    reset = getattr(case, "reset", None) or (lambda: None)
    reset()
    for _ in range(warmup):
        case.run()
    batch = max(batch, 1)
    out = []
    for _ in range(max(samples, 1)):
        reset()
        t0 = time.perf_counter_ns()
        for _ in range(batch):
            case.run()
        out.append((time.perf_counter_ns() - t0) / batch)
    return out


def normal(shape, seed):
    a = mx.random.normal(shape, dtype=mx.float32, key=mx.random.key(seed))
    mx.eval(a)
    return a


def main(cases):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", required=True, choices=sorted(cases))
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--samples", type=int, default=11)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    p.add_argument("--model-dir", help="mlx-lm directory of the LLM cases")
    args = p.parse_args()
    mx.set_default_device(mx.gpu if args.device == "gpu" else mx.cpu)
    case = cases[args.case](args)
    samples = measure(case, args.warmup, args.samples, args.batch)
    record = {
        "name": args.case,
        "impl": "python",
        "median_ns": statistics.median(samples),
        "samples_ns": samples,
        "device": "gpu" if mx.default_device().type == mx.DeviceType.gpu else "cpu",
        "mlx_version": mx.__version__,
        "python_version": platform.python_version(),
    }
    record.update(getattr(case, "info", {}))
    print(json.dumps(record), flush=True)
