"""Goldens for mlx-rs's export module: functions exported by Python MLX 0.32.2
(mx.export_function, mx.exporter), their inputs and Python's outputs.

Run from the repository root in a venv with `pip install mlx==0.32.2
mlx-cpu==0.32.2`:

    python3 scripts/golden/export.py

writes mlx-rs/tests/golden/export/: one .mlxfn per Python function (an MLP, a
4-bit quantized linear layer with a metadata string, a function of keyword arguments, a shapeless
function) and export.json with, per function, the calls the Rust test makes
(positional and keyword inputs) and the outputs of the file as Python
imports it, hex-encoded (bits: the Rust test compares bit for bit). export.json also holds Python's outputs for
the functions that the Rust test defines and exports itself (section "rust"),
computed here directly from the same definitions.

    python3 scripts/golden/export.py check DIR

is the other direction, run by mlx-rs/tests/export.rs when a Python with MLX
is present: it imports every DIR/NAME.mlxfn that Rust exported, calls it with
the inputs of each DIR/NAME.CALL.safetensors (keys "arg0", "arg1", ... for
positional inputs, "kw.KEY" for keyword ones, "out0", ... for Rust's
outputs) and exits non-zero unless every output equals Rust's bit for bit
(same dtype and shape too).
"""

import glob
import os
import sys

import mlx.core as mx
import mlx.nn as nn

from _common import MLX_VERSION, OUT_DIR, encode_hex, write_json

DIR = os.path.join(OUT_DIR, "export")
# Stored with the quantized layer (read back by ImportedFunction::metadata).
METADATA = '{"bits": 4, "group_size": 32}'


def mlp():
    mx.random.seed(23)
    model = nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.Linear(16, 4))
    mx.eval(model.parameters())
    return lambda x: model(x)


def quantized():
    mx.random.seed(24)
    layer = nn.QuantizedLinear.from_linear(nn.Linear(64, 32), group_size=32, bits=4)
    mx.eval(layer.parameters())
    return lambda x: layer(x)


def with_kwargs(x, *, bias, scale):
    return [mx.tanh(x) * scale + bias, mx.sum(x * bias, axis=-1)]


def shapeless(x, y):
    return mx.sin(x) * y + 1.0


def rust_binary(x, y):
    # The Rust test's `binary`: sum(tanh(x) * y, axis=-1) and x @ y.T.
    return [mx.sum(mx.tanh(x) * y, axis=-1), x @ y.T]


def rust_kwargs(x, bias, scale):
    # The Rust test's `affine`: x * scale + bias (scale and bias keywords).
    return [x * scale + bias]


def rust_traced(*args):
    # The Rust test's multi-trace function: exp(x) - 1, or x * y + x.
    if len(args) == 1:
        return [mx.exp(args[0]) - 1.0]
    return [args[0] * args[1] + args[0]]


def normal(shape, key):
    return mx.random.normal(shape, key=mx.random.key(key))


def call_doc(args, kwargs, outs):
    return {
        "args": [encode_hex(a) for a in args],
        "kwargs": {k: encode_hex(v) for k, v in kwargs.items()},
        "outputs": [encode_hex(o) for o in outs],
    }


def imported_call(name, args, kwargs, direct):
    """A call of the exported file `name` as Python imports it: its
    outputs are what the Rust test must match (bit for bit). The direct
    call of the Python function agrees to rounding (MLX compiles the
    imported graph, which may fuse ops such as GELU's)."""
    fn = mx.import_function(os.path.join(DIR, name + ".mlxfn"))
    outs = fn(*args, **kwargs)
    direct = direct if isinstance(direct, (list, tuple)) else [direct]
    for o, d in zip(outs, direct):
        assert mx.allclose(o, d, rtol=1e-5, atol=1e-6).item(), name
    return call_doc(args, kwargs, outs)


def export_cases():
    """Exports each Python function; returns name -> list of calls."""
    os.makedirs(DIR, exist_ok=True)
    cases = {}

    x = normal((3, 8), 1)
    f = mlp()
    mx.export_function(os.path.join(DIR, "mlp.mlxfn"), f, x)
    cases["mlp"] = [imported_call("mlp", [x], {}, f(x))]

    x = normal((2, 64), 2)
    f = quantized()
    mx.export_function(os.path.join(DIR, "quantized.mlxfn"), f, x, metadata=METADATA)
    cases["quantized"] = [imported_call("quantized", [x], {}, f(x))]

    x, b, s = normal((2, 5), 3), normal((5,), 4), mx.array(0.5)
    mx.export_function(os.path.join(DIR, "kwargs.mlxfn"), with_kwargs, x, bias=b, scale=s)
    cases["kwargs"] = [
        imported_call("kwargs", [x], {"bias": b, "scale": s}, with_kwargs(x, bias=b, scale=s))
    ]

    a, b = normal((2, 3), 5), normal((2, 3), 6)
    mx.export_function(os.path.join(DIR, "shapeless.mlxfn"), shapeless, a, b, shapeless=True)
    # Shapeless: other sizes, the same number of dimensions.
    c, d = normal((4, 5), 7), normal((4, 5), 8)
    cases["shapeless"] = [
        imported_call("shapeless", [a, b], {}, shapeless(a, b)),
        imported_call("shapeless", [c, d], {}, shapeless(c, d)),
    ]
    return cases


def rust_cases():
    """Python's outputs for the functions that mlx-rs's test exports."""
    x, y = normal((3, 4), 11), normal((3, 4), 12)
    b, s = normal((4,), 13), mx.array(2.0)
    z = normal((5,), 14)
    return {
        "binary": call_doc([x, y], {}, rust_binary(x, y)),
        "kwargs": call_doc([x], {"bias": b, "scale": s}, rust_kwargs(x, b, s)),
        "traced_one": call_doc([z], {}, rust_traced(z)),
        "traced_two": call_doc([x, y], {}, rust_traced(x, y)),
    }


def main():
    out = {
        "mlx_version": MLX_VERSION,
        "python": export_cases(),
        "rust": rust_cases(),
    }
    path = os.path.join(DIR, "export.json")
    write_json(path, out, compact=False)
    print(f"wrote {path} and {len(out['python'])} .mlxfn files")


def check(directory):
    """Imports the functions Rust exported into `directory` and compares."""
    failures = 0
    calls = sorted(glob.glob(os.path.join(directory, "*.safetensors")))
    if not calls:
        sys.exit(f"no calls (*.safetensors) in {directory}")
    for path in calls:
        name = os.path.basename(path).split(".")[0]
        fn = mx.import_function(os.path.join(directory, name + ".mlxfn"))
        t = mx.load(path)
        nargs = len([k for k in t if k.startswith("arg")])
        nouts = len([k for k in t if k.startswith("out")])
        args = [t[f"arg{i}"] for i in range(nargs)]
        kwargs = {k[3:]: v for k, v in t.items() if k.startswith("kw.")}
        got = fn(*args, **kwargs)
        want = [t[f"out{i}"] for i in range(nouts)]
        ok = len(got) == len(want) and all(
            g.dtype == w.dtype and g.shape == w.shape and mx.array_equal(g, w).item()
            for g, w in zip(got, want)
        )
        print(f"{os.path.basename(path)}: {'ok' if ok else 'MISMATCH'}")
        failures += not ok
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        check(sys.argv[2])
    else:
        main()
