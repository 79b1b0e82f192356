"""Python MLX's side of the `quantized_matmul_is_x_times_dequantized_w` test
(mlx-rs/tests/quantization.rs): on MLX's default device, quantized_matmul
against x @ dequantize(w).T computed on the CPU in float32 from the same
packed weights, over the same modes and shapes. Prints the configurations
whose error (relative to max |x·ŵᵀ|) exceeds 1e-2, so a difference seen
from Rust can be told apart from one in MLX itself.

Run on the GPU machine: eval "$(bash scripts/gpu/python.sh)"; python3 scripts/gpu/qmm_sweep.py
"""

import mlx.core as mx

MODES = [("affine", 2, 32), ("affine", 3, 64), ("affine", 4, 32), ("affine", 4, 64),
         ("affine", 4, 128), ("affine", 5, 64), ("affine", 6, 128), ("affine", 8, 32),
         ("affine", 8, 64), ("affine", 8, 128), ("mxfp4", 4, 32), ("mxfp8", 8, 32),
         ("nvfp4", 4, 16)]
SHAPES = [(1, 16, 128), (2, 4, 128), (3, 16, 128), (8, 64, 256), (32, 128, 512)]

bad = 0
for i, (mode, bits, gs) in enumerate(MODES):
    for m, n, k in SHAPES:
        w = mx.random.normal((n, k), key=mx.random.key(100 + i), stream=mx.cpu)
        x = mx.random.normal((m, k), key=mx.random.key(200 + i), stream=mx.cpu)
        parts = mx.quantize(w, group_size=gs, bits=bits, mode=mode)
        wq, scales = parts[0], parts[1]
        biases = parts[2] if mode == "affine" else None
        y = mx.quantized_matmul(x, wq, scales, biases, transpose=True,
                                group_size=gs, bits=bits, mode=mode)
        w_hat = mx.dequantize(wq, scales, biases, group_size=gs, bits=bits, mode=mode,
                              dtype=mx.float32, stream=mx.cpu)
        want = mx.matmul(x, w_hat.T, stream=mx.cpu)
        err = (mx.max(mx.abs(y - want)) / mx.max(mx.abs(want))).item()
        flag = "MISMATCH" if not err <= 1e-2 else "ok"
        bad += flag != "ok"
        print(f"{mode}{bits}/g{gs} {m}x{n}x{k} rel_to_max={err:.3e} {flag}")
print(f"{bad} mismatches on {mx.default_device()}")
