"""all_sum over MLX's ring backend, the Python twin of
mlx-rs/examples/distributed_bench.rs (same sizes, same protocol): for each
float32 size from 1 KiB to 64 MiB, 2 untimed calls, then the timed calls
(all_sum + eval), median. Rank 0 prints one JSON line per size.

    mlx.launch --backend ring -n 2 -- python benches/python/bench_distributed.py
"""

import json
import statistics
import time

import mlx.core as mx

g = mx.distributed.init(strict=True, backend="ring")
for log2 in range(10, 27, 2):
    nbytes = 1 << log2
    x = mx.ones((nbytes // 4,), dtype=mx.float32)
    mx.eval(x)
    samples = 5 if nbytes >= 1 << 24 else 15
    for _ in range(2):
        mx.eval(mx.distributed.all_sum(x, group=g))
    times = []
    for _ in range(samples):
        t = time.perf_counter_ns()
        mx.eval(mx.distributed.all_sum(x, group=g))
        times.append(time.perf_counter_ns() - t)
    times.sort()
    if g.rank() == 0:
        print(json.dumps({"impl": "python", "ranks": g.size(), "bytes": nbytes,
                          "median_ns": times[len(times) // 2], "samples_ns": times}))
