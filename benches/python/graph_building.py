"""Python MLX counterpart of benches/graph_building.rs: a chain of 100 small
adds, built and never evaluated. Prints the median time per chain and per op.

Run with the same MLX: python3 -m venv v && v/bin/pip install mlx==0.32.2 mlx-cpu==0.32.2
"""
import statistics
import time

import mlx.core as mx

CHAIN = 100


def chain(b):
    x = b
    for _ in range(CHAIN):
        x = x + b
    return x


def main():
    b = mx.ones((4,), dtype=mx.float32)
    mx.eval(b)
    for _ in range(200):  # warm up
        chain(b)
    samples = []
    for _ in range(50):
        reps = 200
        t0 = time.perf_counter()
        for _ in range(reps):
            chain(b)
        samples.append((time.perf_counter() - t0) / reps)
    med = statistics.median(samples)
    print(f"python mlx add chain ({CHAIN}): median {med * 1e6:.2f} us/chain, {med / CHAIN * 1e9:.1f} ns/op")


if __name__ == "__main__":
    main()
