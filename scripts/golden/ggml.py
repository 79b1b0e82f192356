#!/usr/bin/env python3
"""Golden data for mlx-rs's GGML block dequantizers (`mlx_rs::io::ggml`).

Uses llama.cpp's own Python package `gguf` (version 0.19.0, MIT licence)
and numpy, fixed seed, and writes under mlx-rs/tests/golden/ggml/:

    <TYPE>.blocks   raw GGML blocks (a few per type)
    <TYPE>.f32      what `gguf.quants.dequantize` makes of them
                    (little-endian float32, row-major)
    all_types.gguf  one tensor per type (written with `gguf.GGUFWriter`):
                    the load test checks names, dtypes, shapes and values
    manifest.json   for each type: code, rows, columns, where the blocks
                    come from and who dequantized them

Blocks come from `gguf.quants.quantize` where gguf-py has a quantizer
(Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, TQ1_0, TQ2_0, MXFP4, BF16) applied to
random normal rows (one row all zeros, one scaled by 1e4); for the
others (the K-quants, IQ4_NL, IQ4_XS, NVFP4, Q8_1, Q8_K) they are random
bytes with finite scale fields (random magnitudes plus 0, the smallest
subnormal and +-65504 in float16).

gguf-py has no dequantizer for Q8_1 and Q8_K (llama.cpp uses them only as
dot-product intermediates): their expected values are computed here with
numpy from ggml's block layout (`d * q` in float32), and the manifest says
so. gguf-py's size table gives Q8_1 40-byte blocks (4 + 4 + 32, an old
layout); ggml's `block_q8_1` is 36 bytes (two float16 and 32 int8), which
is what llama.cpp reads and what mlx-rs uses.

Usage (from the workspace root):

    python3 -m venv /tmp/venv-gguf && /tmp/venv-gguf/bin/pip install gguf==0.19.0 numpy
    /tmp/venv-gguf/bin/python scripts/golden/ggml.py
"""

import json
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf.quants import quantize, dequantize

GGUF_VERSION = "0.19.0"
try:
    from importlib.metadata import version

    if version("gguf") != GGUF_VERSION:
        sys.exit(f"needs gguf {GGUF_VERSION}, found {version('gguf')}")
except ImportError:
    pass

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "mlx-rs", "tests", "golden", "ggml")
rng = np.random.default_rng(26)

# name -> (block elements, block bytes); Q8_1 as ggml lays it out.
SIZES = {t.name: gguf.GGML_QUANT_SIZES[t] for t in T}
SIZES["Q8_1"] = (32, 36)

QUANTIZED_BY_GGUF = ["BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "TQ1_0", "TQ2_0", "MXFP4"]
RANDOM_BYTES = ["Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ4_NL", "IQ4_XS", "NVFP4", "Q8_1"]
NO_GGUF_DEQUANT = ["Q8_1", "Q8_K"]

# Byte offsets of the float16 scale fields of each random-bytes type.
F16_FIELDS = {
    "Q2_K": [80, 82],
    "Q3_K": [108],
    "Q4_K": [0, 2],
    "Q5_K": [0, 2],
    "Q6_K": [208],
    "IQ4_NL": [0],
    "IQ4_XS": [0],
    "Q8_1": [0, 2],
}
SPECIAL_F16 = np.array([0.0, 2.0**-24, 65504.0, -65504.0], dtype=np.float16)


def random_f16(n):
    mag = 10.0 ** rng.uniform(-5, 0, n)
    sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    v = (mag * sign).astype(np.float16)
    k = min(n, len(SPECIAL_F16))
    v[:k] = SPECIAL_F16[:k]
    return v


def random_blocks(name, n_blocks):
    _, size = SIZES[name]
    b = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
    for off in F16_FIELDS.get(name, []):
        b[:, off : off + 2] = random_f16(n_blocks).view(np.uint8).reshape(n_blocks, 2)
    if name == "Q8_K":
        d = (10.0 ** rng.uniform(-6, 0, n_blocks)).astype(np.float32)
        d[0] = 0.0
        b[:, 0:4] = d.view(np.uint8).reshape(n_blocks, 4)
    return b


def expected(name, blocks):
    n = blocks.shape[0]
    if name == "Q8_1":
        d = blocks[:, 0:2].copy().view(np.float16).astype(np.float32)
        q = blocks[:, 4:].copy().view(np.int8).astype(np.float32)
        return (d * q).reshape(-1)
    if name == "Q8_K":
        d = blocks[:, 0:4].copy().view(np.float32)
        q = blocks[:, 4 : 4 + 256].copy().view(np.int8).astype(np.float32)
        return (d * q).reshape(-1)
    out = dequantize(blocks.reshape(n, -1), T[name])
    assert out.dtype == np.float32
    return out.reshape(-1)


def main():
    os.makedirs(OUT, exist_ok=True)
    manifest = {}
    tensors = []
    for name in QUANTIZED_BY_GGUF + RANDOM_BYTES:
        block, size = SIZES[name]
        cols = max(block, 256) * 2
        rows = 4
        n_blocks = rows * cols // block
        if name in QUANTIZED_BY_GGUF:
            x = rng.standard_normal((rows, cols)).astype(np.float32)
            x[1] = 0.0
            x[2] *= 1e4
            q = quantize(x, T[name]).view(np.uint8).reshape(n_blocks, size)
            source = "gguf.quants.quantize of random normal rows"
        else:
            q = random_blocks(name, n_blocks)
            source = "random bytes with finite scales"
        e = expected(name, q)
        assert np.all(np.isfinite(e)), name
        q.tofile(os.path.join(OUT, f"{name}.blocks"))
        e.astype("<f4").tofile(os.path.join(OUT, f"{name}.f32"))
        manifest[name] = {
            "code": int(T[name]),
            "rows": rows,
            "cols": cols,
            "source": source,
            "dequantized_by": "numpy (ggml layout)" if name in NO_GGUF_DEQUANT else "gguf.quants.dequantize",
        }
        if name != "Q8_1":  # gguf-py's writer sizes Q8_1 blocks at 40 bytes
            tensors.append((name, q.reshape(rows, -1)))
    w = gguf.GGUFWriter(os.path.join(OUT, "all_types.gguf"), arch="llama")
    w.add_string("general.name", "every GGML type")
    w.add_uint32("test.u32", 7)
    for name, q in tensors:
        w.add_tensor(f"{name.lower()}.weight", q, raw_dtype=T[name])
    f = rng.standard_normal((3, 32)).astype(np.float32)
    w.add_tensor("f32.weight", f)
    w.add_tensor("f16.weight", f.astype(np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    np.float32(f).astype("<f4").tofile(os.path.join(OUT, "F32.f32"))
    with open(os.path.join(OUT, "manifest.json"), "w") as fh:
        json.dump({"gguf": GGUF_VERSION, "seed": 26, "types": manifest}, fh, indent=1, sort_keys=True)
        fh.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, p)) for p in os.listdir(OUT))
    print(f"wrote {len(manifest)} types, {total} bytes to {OUT}")


if __name__ == "__main__":
    main()
