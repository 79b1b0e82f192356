"""The cases of mlx-rs/examples/cpu_blas.rs in Python MLX (the wheel as
shipped: its reference BLAS) and in NumPy (its own OpenBLAS): the median of
several timed runs after one untimed run.

Run: python3 benches/python/cpu_blas.py [ROUNDS]   (needs mlx==0.32.2, numpy)
"""

import sys
import time

import mlx.core as mx
import numpy as np


def median(rounds, f):
    f()
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    mx.set_default_device(mx.cpu)
    print(f"Python MLX {mx.__version__}, NumPy {np.__version__}, {rounds} rounds")
    for m, k, n in [(1792, 384, 1536), (1024, 1024, 1024)]:
        a = mx.random.normal((m, k), key=mx.random.key(1))
        b = mx.random.normal((k, n), key=mx.random.key(2))
        mx.eval(a, b)
        t = median(rounds, lambda: mx.eval(a @ b))
        na, nb = np.array(a), np.array(b)
        tn = median(rounds, lambda: na @ nb)
        print(f"matmul f32 {m}x{k} @ {k}x{n}: MLX {t * 1e3:.2f} ms, NumPy {tn * 1e3:.2f} ms")
    a = mx.random.normal((512, 512), key=mx.random.key(3))
    mx.eval(a)
    t = median(rounds, lambda: mx.eval(mx.linalg.inv(a, stream=mx.cpu)))
    na = np.array(a)
    tn = median(rounds, lambda: np.linalg.inv(na))
    print(f"linalg inv f32 512x512: MLX {t * 1e3:.2f} ms, NumPy {tn * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
