#!/usr/bin/env python3
"""Generates mlx-rs/tests/golden/core.json: reference values from Python MLX.

The Rust tests in mlx-rs/tests/ read core.json and compare mlx-rs against
it; CI does not run Python. Regenerate (after changing the cases below, or
to move to another MLX version) with:

    python3 -m venv /tmp/venv-mlx
    /tmp/venv-mlx/bin/pip install mlx==0.32.2 mlx-cpu==0.32.2   # Linux
    /tmp/venv-mlx/bin/python scripts/golden/core.py

Everything is deterministic: fixed seeds, fixed cases, sorted keys.
"""

import os

import mlx.core as mx

from _common import DTYPES, OUT_DIR, dtype_name, encode_values, write_json

mx.random.seed(20261121)


def make(values, shape, dtype):
    return mx.array(values, dtype=mx.float64).reshape(shape).astype(DTYPES[dtype])


def attempt(f):
    try:
        return {"ok": encode_values(f())}
    except Exception as e:  # MLX's errors are ValueError / RuntimeError
        return {"err": str(e)}


out = {"mlx_version": mx.__version__}

# 1. Array-array promotion for every dtype pair.
out["promotion"] = []
for a in DTYPES:
    for b in DTYPES:
        x = mx.array([1], dtype=DTYPES[a])
        y = mx.array([1], dtype=DTYPES[b])
        out["promotion"].append(
            {"a": a, "b": b, "add": dtype_name((x + y).dtype), "divide": dtype_name((x / y).dtype)}
        )

# 2. Weak Python scalars next to arrays of every dtype, on both sides.
SCALARS = [
    {"kind": "bool", "value": True},
    {"kind": "int", "value": 3},
    {"kind": "int", "value": -2},
    {"kind": "int", "value": 300},
    {"kind": "int", "value": 70000},
    {"kind": "int", "value": 3000000000},
    {"kind": "float", "value": 2.5},
    {"kind": "complex", "value": [1.0, 2.0]},
]


def py_scalar(s):
    if s["kind"] == "complex":
        return complex(*s["value"])
    return s["value"]


out["scalar_promotion"] = []
for d in DTYPES:
    base = [1, 0] if d == "bool" else [1, 2]
    x = mx.array(base, dtype=mx.float64).astype(DTYPES[d])
    for s in SCALARS:
        v = py_scalar(s)
        for op in ["add", "multiply"]:
            f = (lambda a, b: a + b) if op == "add" else (lambda a, b: a * b)
            out["scalar_promotion"].append(
                {
                    "dtype": d,
                    "array": base,
                    "scalar": s,
                    "op": op,
                    "scalar_right": attempt(lambda: f(x, v)),
                    "scalar_left": attempt(lambda: f(v, x)),
                }
            )

# 3. Arithmetic and comparison values with broadcasting.
SHAPES = [([2, 3], [2, 3]), ([2, 3], [3]), ([2, 1], [1, 3]), ([4], [])]
ARITH_DTYPES = ["float32", "int32", "int8", "uint8", "float16", "bfloat16", "int64"]
OPS = {
    "add": lambda a, b: a + b,
    "subtract": lambda a, b: a - b,
    "multiply": lambda a, b: a * b,
    "divide": lambda a, b: a / b,
    "remainder": lambda a, b: a % b,
    "floor_divide": lambda a, b: a // b,
    "equal": lambda a, b: a == b,
    "not_equal": lambda a, b: a != b,
    "less": lambda a, b: a < b,
    "less_equal": lambda a, b: a <= b,
    "greater": lambda a, b: a > b,
    "greater_equal": lambda a, b: a >= b,
    "logical_and": mx.logical_and,
    "logical_or": mx.logical_or,
}


def rand_values(shape, dtype):
    n = 1
    for s in shape:
        n *= s
    if dtype.startswith("uint"):
        v = mx.random.randint(1, 20, [n])
    elif dtype.startswith("int"):
        v = mx.random.randint(-9, 10, [n])
        v = mx.where(v == 0, 3, v)  # no division by zero
    else:
        v = mx.round(mx.random.uniform(-4, 4, [n]) * 4) / 4
        v = mx.where(v == 0, 0.5, v)
    return [float(t) for t in v.tolist()]


out["arith"] = []
for d in ARITH_DTYPES:
    for sa, sb in SHAPES:
        va, vb = rand_values(sa, d), rand_values(sb, d)
        a, b = make(va, sa, d), make(vb, sb, d)
        case = {"dtype": d, "a": {"shape": sa, "values": va}, "b": {"shape": sb, "values": vb}}
        case["results"] = {op: attempt(lambda: f(a, b)) for op, f in OPS.items()}
        case["negative"] = attempt(lambda: -a)
        out["arith"].append(case)

# 4. Indexing.
def component(c):
    t = c["t"]
    if t == "int":
        return c["v"]
    if t == "slice":
        return slice(c.get("start"), c.get("stop"), c.get("step"))
    if t == "none":
        return None
    if t == "ellipsis":
        return Ellipsis
    if t == "array":
        return mx.array(c["data"], dtype=mx.int32).reshape(c["shape"])
    raise ValueError(t)


def I(v):
    return {"t": "int", "v": v}


def S(start=None, stop=None, step=None):
    c = {"t": "slice"}
    for k, v in (("start", start), ("stop", stop), ("step", step)):
        if v is not None:
            c[k] = v
    return c


N = {"t": "none"}
E = {"t": "ellipsis"}


def A(data, shape=None):
    return {"t": "array", "data": data, "shape": shape if shape is not None else [len(data)]}


SOURCES = {"a": [2, 3, 4], "b": [3, 4, 5, 6]}
INDEX_CASES = [
    ("a", False, [I(1)]),
    ("a", False, [I(-1)]),
    ("a", False, [S(1, None)]),
    ("a", False, [S(None, None, -1)]),
    ("a", False, [N]),
    ("a", False, [E]),
    ("a", False, [A([1, 0, 1])]),
    ("a", False, [A([[1, 0], [0, 1]], [2, 2])]),
    ("a", True, [I(1)]),
    ("a", True, [I(0), I(2)]),
    ("a", True, [I(1), I(2), I(3)]),
    ("a", True, [S(), S(1, 3), S(None, None, 2)]),
    ("a", True, [S(None, None, -1), S(-2, None), S(3, 0, -2)]),
    ("a", True, [E, I(-1)]),
    ("a", True, [E, N, I(-1)]),
    ("a", True, [N, I(0), N, S(1, None), E]),
    ("a", True, [I(0), A([2, 0])]),
    ("a", True, [A([1, 0]), S(), A([3, 1])]),
    ("a", True, [S(), A([2, 0, 1])]),
    ("a", True, [S(), A([[0, 1], [2, 2]], [2, 2]), S(1, 3)]),
    ("a", True, [A([0, 1]), A([1, 2]), A([3, 0])]),
    ("a", True, [A([0, 1]), N, A([1, 2])]),
    ("a", True, [E, A([0, 3])]),
    ("a", True, [S(None, None, 2), A([1]), I(2)]),
    ("b", True, [S(), A([0, 3]), S(), A([1, 5])]),
    ("b", True, [I(1), S(), A([[0], [4]], [2, 1]), A([0, 2, 5])]),
    ("b", True, [E, A([1, 2]), I(0)]),
    ("b", True, [S(1, None), N, E, S(None, None, -2)]),
    ("b", True, [A([2, 0]), E, N]),
    # Out-of-range slice bounds are clamped, as in NumPy.
    ("a", False, [S(10, 20)]),
    ("a", True, [S(-10, 2), S(5, None, -1), S(None, -10, -1)]),
    # (Python MLX does not clamp slices that meet an index array: it would
    # gather rows 7 and 4 of a 3-row axis; mlx-rs clamps, see api.rs.)
    ("a", True, [S(1, -1), S(-1, 0, -2), A([3, 0])]),
    ("a", True, [S(-2, None), S(None, None, -2), A([3, 0])]),
    ("a", True, [S(None, None, 3), S(-1, -4, -1)]),
]

out["index"] = []
for src, tup, comps in INDEX_CASES:
    shape = SOURCES[src]
    n = 1
    for s in shape:
        n *= s
    x = mx.arange(n, dtype=mx.int32).reshape(shape)
    idx = [component(c) for c in comps]
    key = tuple(idx) if tup else idx[0]
    out["index"].append(
        {"source": shape, "tuple": tup, "index": comps, "result": attempt(lambda: x[key])}
    )

# 5. Indexed updates (Python's item assignment).
PUT_CASES = [
    ("a", False, [I(1)], {"scalar": 7}),
    ("a", False, [S(1, None)], {"scalar": -1}),
    ("a", False, [S(None, None, -1)], {"array": [1, 2, 3, 4], "shape": [4]}),
    ("a", False, [A([1, 0])], {"array": [5, 6, 7, 8], "shape": [1, 4]}),
    ("a", True, [I(0), I(2)], {"array": [9, 8, 7, 6], "shape": [4]}),
    ("a", True, [S(), S(1, 3), S(None, None, 2)], {"scalar": 100}),
    ("a", True, [E, I(-1)], {"array": [1, 2, 3], "shape": [3]}),
    ("a", True, [N, I(1), S(None, 2)], {"array": [1, 2, 3, 4, 5, 6, 7, 8], "shape": [1, 2, 4]}),
    ("a", True, [S(), A([2, 0])], {"scalar": 50}),
    ("a", True, [A([1, 0]), S(), A([3, 1])], {"array": [10, 20, 30], "shape": [3, 1]}),
    ("a", True, [I(1), A([0, 2]), S(1, 3)], {"array": [1, 2, 3, 4], "shape": [2, 2]}),
    ("a", True, [S(None, None, 2), A([1, 2])], {"scalar": -5}),
    ("b", True, [S(), A([0, 3]), S(), A([1, 5])], {"scalar": -3}),
    ("b", True, [E, A([1, 2]), I(0)], {"array": [1, 2], "shape": [2]}),
    ("a", True, [E], {"scalar": 4}),
    ("a", True, [S(), I(1), S()], {"array": list(range(8)), "shape": [2, 4]}),
    ("a", True, [I(0), S(), I(1)], {"array": [5, 6, 7], "shape": [3]}),
    ("b", True, [S(), I(1), S(), I(2)], {"array": list(range(15)), "shape": [3, 5]}),
    ("b", True, [I(1), S(), I(2), S()], {"array": list(range(24)), "shape": [4, 6]}),
    ("b", True, [S(), I(1), S(), I(2)], {"array": list(range(15)), "shape": [3, 1, 5]}),
    ("b", True, [I(-1), E, I(0)], {"array": list(range(20)), "shape": [4, 5]}),
    ("a", False, [S(10, 20)], {"scalar": 9}),
    ("a", True, [S(-10, 2), S(5, None, -1), S(None, -10, -1)], {"scalar": -7}),
    ("a", True, [S(1, -1), S(7, 1, -2), A([3, 0])], {"scalar": 11}),
    ("a", True, [S(None, None, 3), S(-1, -4, -1)], {"array": [1, 2, 3, 4], "shape": [4]}),
    ("a", True, [I(0), S(None, None, -1), S(1, None, 2)], {"array": [1, 2], "shape": [2]}),
]

out["index_put"] = []
for src, tup, comps, val in PUT_CASES:
    shape = SOURCES[src]
    n = 1
    for s in shape:
        n *= s
    idx = [component(c) for c in comps]
    key = tuple(idx) if tup else idx[0]
    if "scalar" in val:
        v = val["scalar"]
    else:
        v = mx.array(val["array"], dtype=mx.int32).reshape(val["shape"])

    def put():
        x = mx.arange(n, dtype=mx.int32).reshape(shape)
        x[key] = v
        return x

    out["index_put"].append(
        {"source": shape, "tuple": tup, "index": comps, "value": val, "result": attempt(put)}
    )

# 6. How arrays print (repr).
REPR_CASES = [
    ([1, 2, 3, 4], [2, 2], "int32", None),
    ([0, 1, 2, 3, 4, 5], [2, 3], "int32", "transpose"),
    ([1.5], [], "float32", None),
    ([1.0, 0.0], [2], "bool", None),
    ([1, 2], [2], "float16", None),
    ([0.5, -1.25, 3.0], [3], "bfloat16", None),
    ([0.1, 0.2, 0.3], [3], "float32", None),
    ([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2], "uint8", None),
    ([-1, 2], [1, 2], "int64", None),
    ([1.0, 2.0], [2], "float64", None),
    (list(range(2000)), [2000], "int32", None),
    ([], [0], "float32", None),
]
out["repr"] = []
for values, shape, d, op in REPR_CASES:
    x = make(values, shape, d) if values else mx.zeros(shape, dtype=DTYPES[d])
    if op == "transpose":
        x = x.T
    out["repr"].append(
        {"values": values, "shape": shape, "dtype": d, "op": op, "repr": repr(x)}
    )
out["repr_complex"] = repr(mx.array([1 + 2j, -0.5j]))

# 7. Reading views (transposed, sliced, reversed, broadcast).
base = mx.arange(24, dtype=mx.float32).reshape(2, 3, 4)
out["views"] = {
    "transpose": encode_values(mx.transpose(base, (2, 0, 1))),
    "step_slice": encode_values(base[:, ::2, 1::2]),
    "reversed": encode_values(base[::-1, :, ::-3]),
    "broadcast": encode_values(mx.broadcast_to(mx.array([1.0, 2.0, 3.0]), (2, 3))),
    "broadcast_column": encode_values(mx.broadcast_to(mx.array([[1.0], [2.0]]), (2, 3))),
}

# 8. Constructors.
out["constructors"] = {
    "arange_int": encode_values(mx.arange(0, 10, 3, dtype=mx.int32)),
    "arange_float": encode_values(mx.arange(-1.0, 1.0, 0.5)),
    "linspace": encode_values(mx.linspace(0, 1, 5)),
    "eye": encode_values(mx.eye(3, 4, 1)),
    "full": encode_values(mx.full([2, 2], 7, dtype=mx.int16)),
}

path = os.path.join(OUT_DIR, "core.json")
write_json(path, out, compact=False)
print("wrote", path)
