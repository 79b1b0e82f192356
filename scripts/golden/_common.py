"""What the golden-data generators of scripts/golden/ share.

Each generator is run from the workspace root as

    /tmp/venv-mlx/bin/python scripts/golden/<name>.py

and imports this module from its own directory (Python puts the script's
directory first on the path). Importing it pins the run: it exits unless
Python MLX is MLX_VERSION and makes the CPU MLX's default device.

Two encodings of arrays, read by mlx-rs/tests/common/golden.rs:

- encode_hex: {"dtype", "shape", "hex"}, each element's raw bits as
  fixed-width hex (2 * itemsize digits, row-major; complex64: the 64 bits of
  the pair, real part in the low half), so the Rust tests compare bit for
  bit;
- encode_values: {"dtype", "shape", "values"}, the values as JSON numbers
  (non-finite ones as the strings "inf", "-inf", "nan"; complex as
  [re, im]).
"""

import json
import math
import os
import sys

import mlx.core as mx

MLX_VERSION = "0.32.2"
if mx.__version__ != MLX_VERSION:
    sys.exit(f"needs MLX {MLX_VERSION}, found {mx.__version__}")

mx.set_default_device(mx.cpu)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT_DIR = os.path.join(ROOT, "mlx-rs", "tests", "golden")

# Unsigned dtypes by item size: the views that expose an element's bits.
UINT = {1: mx.uint8, 2: mx.uint16, 4: mx.uint32, 8: mx.uint64}

# Every dtype of MLX 0.32.2, by the name mlx-rs's `Dtype::name` gives it.
DTYPES = {
    name: getattr(mx, "bool_" if name == "bool" else name)
    for name in [
        "bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16",
        "int32", "int64", "float16", "float32", "float64", "bfloat16",
        "complex64",
    ]
}


def dtype_name(d):
    """The name of an MLX dtype, as in DTYPES ("bool", "float32", ...)."""
    return str(d).split(".")[-1].replace("bool_", "bool")


def num(v):
    """A float for JSON; non-finite values as the strings inf, -inf, nan."""
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def values(x):
    """Row-major values: numbers (num), or [re, im] pairs for complex."""
    x = mx.contiguous(x).reshape(-1) if x.ndim else x.reshape(-1)
    if x.dtype == mx.complex64:
        return [[num(v.real), num(v.imag)] for v in x.tolist()]
    return [num(v) for v in x.astype(mx.float64).tolist()]


def encode_values(x):
    """An array as {"dtype", "shape", "values"}."""
    return {"dtype": dtype_name(x.dtype), "shape": list(x.shape), "values": values(x)}


def encode_hex(a):
    """An array (or anything mx.array takes) as {"dtype", "shape", "hex"}."""
    a = a if isinstance(a, mx.array) else mx.array(a)
    mx.eval(a)
    if a.dtype == mx.bool_:
        bits = a.astype(mx.uint8).reshape(-1).tolist()
        width = 2
    else:
        size = a.dtype.size
        bits = a.view(UINT[size]).reshape(-1).tolist() if a.size else []
        width = 2 * size
    return {
        "dtype": dtype_name(a.dtype),
        "shape": list(a.shape),
        "hex": "".join(format(int(b), f"0{width}x") for b in bits),
    }


def write_json(path, doc, *, compact, newline=True):
    """Writes doc to path: compact (one line, keys in the order written) or
    pretty (indent 1, keys sorted); non-ASCII text as it is; no NaN or
    infinity (JSON has none: encode them with num). Ends with a newline
    unless newline is false."""
    with open(path, "w") as f:
        if compact:
            json.dump(doc, f, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        else:
            json.dump(doc, f, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False)
        if newline:
            f.write("\n")
