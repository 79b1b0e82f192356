#!/usr/bin/env python3
"""Generates mlx-rs/tests/golden/ops_cases.json: reference values from
Python MLX 0.32.2 for the ops of mlx-c's ops.h (mlx-rs/src/ops/).

    /tmp/venv-mlx/bin/python scripts/golden/ops.py

Two tables:

* CASES: numeric cases. Each has a name (the Rust test, tests/ops_golden.rs,
  has a closure of the same name that calls mlx-rs), the mlx-c functions
  it exercises (`c`; the Rust test checks that every function of ops.h is
  exercised by some case or listed in NOT_NUMERIC below), the inputs
  (small arrays drawn from fixed seeds, stored in full) and the outputs.
  Where Python MLX has no binding for an op (gather, scatter,
  masked_scatter, scatter_add_axis, number_of_elements, copy) the expected
  value is computed with Python MLX ops or plain Python that mean the same.
* BAD: invalid arguments (bad axis, shape mismatch, wrong dtype, ...). The
  expected message is Python MLX's, i.e. MLX's C++ exception text; the
  Rust test requires the same text in `Error::Mlx`. Cases that Python
  cannot express, or that mlx-rs checks itself before calling MLX (index
  values, which MLX does not check), have no message here.

Some invalid inputs crash Python MLX itself (SIGFPE, SIGSEGV: integer
division by zero, `groups=0`, negative dynamic-slice starts, ...); those
have no Python call here, and mlx-rs checks them before calling MLX. With
TRACE=1 the script prints each bad case before running it, to find such a
crash.

Everything is deterministic: fixed seeds, fixed cases.
"""

import math
import os

import mlx.core as mx

from _common import OUT_DIR, encode_values, write_json

OUT = os.path.join(OUT_DIR, "ops_cases.json")


# ---- inputs ------------------------------------------------------------

_seed = [1000]


def _key():
    _seed[0] += 1
    return mx.random.key(_seed[0])


def F(*shape, lo=-2.0, hi=2.0, dtype=mx.float32):
    """Uniform floats, rounded to 1/64 so that sums are exact."""
    x = mx.random.uniform(lo, hi, shape, key=_key())
    return (mx.round(x * 64) / 64).astype(dtype)


def P(*shape):
    """Positive floats in [0.25, 2]."""
    return F(*shape, lo=0.25, hi=2.0)


def U(*shape):
    """Floats in (-0.9, 0.9) (domain of arcsin, arctanh, erfinv)."""
    return F(*shape, lo=-0.9, hi=0.9)


def I(*shape, lo=-8, hi=8, dtype=mx.int32):
    return mx.random.randint(lo, hi, shape, key=_key()).astype(dtype)


def B(*shape):
    return mx.random.bernoulli(0.5, shape, key=_key())


def C(*shape):
    return (F(*shape) + 1j * F(*shape)).astype(mx.complex64)


def A(values, dtype=mx.float32):
    return mx.array(values, dtype=dtype)


CASES = []
BAD = []


def case(nm, c, inputs, fn):
    out = fn(*inputs)
    outs = out if isinstance(out, (list, tuple)) else [out]
    mx.eval(outs)
    CASES.append({
        "name": nm,
        "c": c.split(),
        "inputs": [encode_values(x) for x in inputs],
        "outputs": [encode_values(o) for o in outs],
    })


def bad(nm, inputs, fn=None):
    if os.environ.get("TRACE"):
        print("bad", nm, flush=True)
    """An invalid call; `fn` is the Python MLX equivalent, if any."""
    msg = None
    if fn is not None:
        try:
            out = fn(*inputs)
            mx.eval(out if isinstance(out, (list, tuple)) else [out])
            print(f"bad case {nm} did not fail in Python; left out")
            return
        except (ValueError, RuntimeError, IndexError) as e:
            msg = str(e)
    BAD.append({"name": nm, "inputs": [encode_values(x) for x in inputs], "message": msg})


# ---- unary --------------------------------------------------------------

UNARY = {
    "abs": F, "arccos": U, "arccosh": lambda *s: P(*s) + 1, "arcsin": U,
    "arcsinh": F, "arctan": F, "arctanh": U, "ceil": F, "cos": F, "cosh": F,
    "degrees": F, "erf": F, "erfinv": U, "exp": F, "expm1": F, "floor": F,
    "log": P, "log10": P, "log1p": P, "log2": P, "positive": F,
    "radians": F, "reciprocal": P, "rsqrt": P, "sigmoid": F, "sign": F,
    "sin": F, "sinh": F, "sqrt": P, "square": F, "stop_gradient": F,
    "tan": U, "tanh": F, "trunc": F, "negative": F,
}
for op, gen in UNARY.items():
    case(op, f"mlx_{op}", [gen(2, 3)], getattr(mx, op))
case("copy", "mlx_copy", [F(2, 3)], lambda a: a + 0)
case("bitwise_invert", "mlx_bitwise_invert", [I(2, 3)], mx.bitwise_invert)
case("conjugate", "mlx_conjugate", [C(2, 2)], mx.conjugate)
case("real", "mlx_real", [C(2, 2)], mx.real)
case("imag", "mlx_imag", [C(2, 2)], mx.imag)
for op in ["isfinite", "isinf", "isnan", "isneginf", "isposinf"]:
    case(op, f"mlx_{op}", [A([1.0, math.inf, -math.inf, math.nan, 0.0])], getattr(mx, op))
case("logical_not", "mlx_logical_not", [B(2, 3)], mx.logical_not)
case("round", "mlx_round", [F(2, 3)], lambda a: mx.round(a, 1))
case("round_neg", "mlx_round", [F(5, lo=-200.0, hi=200.0)], lambda a: mx.round(a, -1))
case("to_fp8", "mlx_to_fp8", [F(2, 3)], mx.to_fp8)
case("from_fp8", "mlx_from_fp8", [mx.to_fp8(F(2, 3))], lambda a: mx.from_fp8(a, mx.float32))
case("nan_to_num", "mlx_nan_to_num", [A([1.0, math.nan, math.inf, -math.inf])],
     lambda a: mx.nan_to_num(a, 0.5))
case("nan_to_num_opts", "mlx_nan_to_num", [A([1.0, math.nan, math.inf, -math.inf])],
     lambda a: mx.nan_to_num(a, 0.0, posinf=7.0, neginf=-7.0))
case("hadamard_transform", "mlx_hadamard_transform", [F(2, 8)], mx.hadamard_transform)
case("hadamard_transform_scale", "mlx_hadamard_transform", [F(2, 4)],
     lambda a: mx.hadamard_transform(a, scale=0.5))

# ---- binary -------------------------------------------------------------

for op in ["add", "subtract", "multiply", "divide", "maximum", "minimum",
           "logaddexp", "arctan2", "equal", "not_equal", "less", "less_equal",
           "greater", "greater_equal"]:
    case(op, f"mlx_{op}", [F(2, 3), F(3)], getattr(mx, op))
case("power", "mlx_power", [P(2, 3), F(3)], mx.power)
case("remainder", "mlx_remainder", [I(2, 3), I(3, lo=1, hi=5)], mx.remainder)
case("floor_divide", "mlx_floor_divide", [I(2, 3), I(3, lo=1, hi=5)], mx.floor_divide)
for op in ["bitwise_and", "bitwise_or", "bitwise_xor"]:
    case(op, f"mlx_{op}", [I(2, 3, lo=0, hi=64), I(3, lo=0, hi=64)], getattr(mx, op))
case("left_shift", "mlx_left_shift", [I(2, 3, lo=0, hi=64), I(3, lo=0, hi=4)], mx.left_shift)
case("right_shift", "mlx_right_shift", [I(2, 3, lo=-64, hi=64), I(3, lo=0, hi=4)], mx.right_shift)
for op in ["logical_and", "logical_or", "logical_xor"]:
    case(op, f"mlx_{op}", [B(2, 3), B(2, 3)], getattr(mx, op))
case("divmod", "mlx_divmod", [I(2, 3), I(3, lo=1, hi=5)], mx.divmod)
_close = [A([1.0, 2.0, math.nan, 4.0]), A([1.0 + 1e-7, 2.1, math.nan, 4.0])]
case("isclose", "mlx_isclose", _close, lambda a, b: mx.isclose(a, b))
case("isclose_nan", "mlx_isclose", _close,
     lambda a, b: mx.isclose(a, b, rtol=0.1, atol=0.0, equal_nan=True))
case("allclose", "mlx_allclose", _close, lambda a, b: mx.allclose(a, b))
case("allclose_loose", "mlx_allclose", _close,
     lambda a, b: mx.allclose(a, b, rtol=0.1, equal_nan=True))
case("array_equal", "mlx_array_equal", [A([1.0, math.nan]), A([1.0, math.nan])],
     lambda a, b: mx.array_equal(a, b, equal_nan=True))
case("where", "mlx_where", [B(2, 3), F(2, 3), F(3)], mx.where)
case("clip", "mlx_clip", [F(2, 3), A(-0.5), A(0.5)], mx.clip)
case("clip_min", "mlx_clip", [F(2, 3), A(-0.5)], lambda a, lo: mx.clip(a, lo, None))
case("clip_max", "mlx_clip", [F(2, 3), A(0.5)], lambda a, hi: mx.clip(a, None, hi))

# ---- reductions ---------------------------------------------------------

for op in ["all", "any"]:
    x = B(2, 3, 2)
    case(op, f"mlx_{op}", [x], lambda a: getattr(mx, op)(a))
    case(f"{op}_axis", f"mlx_{op}_axis", [x], lambda a: getattr(mx, op)(a, axis=1, keepdims=True))
    case(f"{op}_axes", f"mlx_{op}_axes", [x], lambda a: getattr(mx, op)(a, axis=[0, 2]))
for op in ["max", "min", "mean", "sum", "prod", "logsumexp", "median", "count_nonzero"]:
    x = F(2, 3, 4) if op != "count_nonzero" else I(2, 3, 4, lo=-1, hi=2)
    f = getattr(mx, op)
    case(op, f"mlx_{op}", [x], lambda a: f(a))
    case(f"{op}_axis", f"mlx_{op}_axis", [x], lambda a: f(a, axis=-1, keepdims=True))
    case(f"{op}_axes", f"mlx_{op}_axes", [x], lambda a: f(a, axis=[0, 2]))
for op in ["var", "std"]:
    x = F(3, 4)
    f = getattr(mx, op)
    case(op, f"mlx_{op}", [x], lambda a: f(a))
    case(f"{op}_axis", f"mlx_{op}_axis", [x], lambda a: f(a, axis=1, keepdims=True, ddof=1))
    case(f"{op}_axes", f"mlx_{op}_axes", [x], lambda a: f(a, axis=[0, 1], ddof=1))
for op in ["argmax", "argmin"]:
    x = F(3, 4)
    f = getattr(mx, op)
    case(op, f"mlx_{op}", [x], lambda a: f(a))
    case(f"{op}_axis", f"mlx_{op}_axis", [x], lambda a: f(a, axis=0, keepdims=True))
x = F(2, 3, 4)
case("softmax", "mlx_softmax", [x], lambda a: mx.softmax(a))
case("softmax_axis", "mlx_softmax_axis", [x], lambda a: mx.softmax(a, axis=-1))
case("softmax_axes", "mlx_softmax_axes", [x], lambda a: mx.softmax(a, axis=[0, 2], precise=True))

# ---- cumulative ---------------------------------------------------------

for op in ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"]:
    x = F(3, 4) if op != "cumprod" else F(3, 4, lo=0.5, hi=1.5)
    f = getattr(mx, op)
    case(op, f"mlx_{op}", [x], lambda a: f(a))
    case(f"{op}_axis", f"mlx_{op}_axis", [x], lambda a: f(a, axis=1, reverse=True, inclusive=False))
case("cumsum_dtype", "mlx_cumsum_axis", [I(2, 3, dtype=mx.int8)],
     lambda a: mx.cumsum(a, axis=0, dtype=mx.float32))
case("cumprod_dtype", "mlx_cumprod", [I(2, 3, lo=1, hi=3, dtype=mx.int8)],
     lambda a: mx.cumprod(a, dtype=mx.int64))

# ---- sorting ------------------------------------------------------------

x = F(3, 5)
case("sort", "mlx_sort", [x], lambda a: mx.sort(a, axis=None))
case("sort_axis", "mlx_sort_axis", [x], lambda a: mx.sort(a, axis=0))
case("argsort", "mlx_argsort", [x], lambda a: mx.argsort(a, axis=None))
case("argsort_axis", "mlx_argsort_axis", [x], lambda a: mx.argsort(a, axis=-1))
# partition and topk leave the order within the parts unspecified, so the
# outputs are sorted before comparison on both sides.
case("partition", "mlx_partition", [x], lambda a: mx.sort(mx.partition(a, 4, axis=None)[:4]))
case("partition_axis", "mlx_partition_axis", [x], lambda a: mx.partition(a, 1, axis=0)[1])
case("argpartition", "mlx_argpartition", [x],
     lambda a: mx.sort(a.reshape(-1)[mx.argpartition(a, 4, axis=None)[:4]]))
case("argpartition_axis", "mlx_argpartition_axis", [x],
     lambda a: mx.take_along_axis(a, mx.argpartition(a, 2, axis=1), axis=1)[:, 2])
case("topk", "mlx_topk", [x], lambda a: mx.sort(mx.topk(a, 3, axis=None)))
case("topk_axis", "mlx_topk_axis", [x], lambda a: mx.sort(mx.topk(a, 2, axis=1), axis=1))
case("searchsorted", "mlx_searchsorted", [A([1, 2, 2, 5], mx.int32), A([[2, 6], [0, 5]], mx.int32)],
     lambda a, v: mx.searchsorted(a, v))
case("searchsorted_right", "mlx_searchsorted", [A([1, 2, 2, 5], mx.int32), A([2, 6, 0, 5], mx.int32)],
     lambda a, v: mx.searchsorted(a, v, side="right"))

# ---- creation, triangles, diagonals -------------------------------------

case("arange", "mlx_arange", [], lambda: mx.arange(1.0, 3.0, 0.5))
case("linspace", "mlx_linspace", [], lambda: mx.linspace(0.0, 1.0, 5))
case("linspace_endpoint", "mlx_linspace_endpoint", [], lambda: mx.linspace(0.0, 1.0, 4, endpoint=False))
case("zeros", "mlx_zeros", [], lambda: mx.zeros((2, 3), mx.int16))
case("ones", "mlx_ones", [], lambda: mx.ones((2, 2), mx.float16))
case("full", "mlx_full", [], lambda: mx.full((2, 2), 2.5))
case("eye", "mlx_eye", [], lambda: mx.eye(3, 4, 1))
case("identity", "mlx_identity", [], lambda: mx.identity(3, mx.int32))
case("tri", "mlx_tri", [], lambda: mx.tri(3, 4, 1))
case("tril", "mlx_tril", [F(3, 4)], lambda a: mx.tril(a, -1))
case("triu", "mlx_triu", [F(3, 4)], lambda a: mx.triu(a, 1))
x = F(2, 3)
case("zeros_like", "mlx_zeros_like", [x], mx.zeros_like)
case("zeros_like_dtype", "mlx_zeros_like_dtype", [x], lambda a: mx.zeros_like(a).astype(mx.int32))
case("ones_like", "mlx_ones_like", [x], mx.ones_like)
case("ones_like_dtype", "mlx_ones_like_dtype", [x], lambda a: mx.ones_like(a, dtype=mx.uint8))
case("full_like", "mlx_full_like", [x], lambda a: mx.full(a.shape, 3.0))
for op in ["bartlett", "blackman", "hamming", "hanning"]:
    case(op, f"mlx_{op}", [], lambda: getattr(mx, op)(6))
case("diag", "mlx_diag", [F(3, 3)], lambda a: mx.diag(a, 1))
case("diag_vector", "mlx_diag", [F(3)], lambda a: mx.diag(a, -1))
case("diagonal", "mlx_diagonal", [F(2, 3, 4)], lambda a: mx.diagonal(a, 1, 1, 2))
case("trace", "mlx_trace", [F(3, 3)], mx.trace)
case("trace_axes", "mlx_trace_axes", [I(2, 3, 3)], lambda a: mx.trace(a, 1, 1, 2, dtype=mx.float32))

# ---- shapes and manipulation --------------------------------------------

x = F(2, 3, 4)
case("reshape", "mlx_reshape", [x], lambda a: a.reshape(4, -1))
case("transpose", "mlx_transpose", [x], lambda a: mx.transpose(a))
case("transpose_axes", "mlx_transpose_axes", [x], lambda a: mx.transpose(a, (1, 0, 2)))
case("broadcast_to", "mlx_broadcast_to", [F(3, 1)], lambda a: mx.broadcast_to(a, (2, 3, 2)))
case("expand_dims", "mlx_expand_dims", [F(2, 3)], lambda a: mx.expand_dims(a, 1))
case("expand_dims_axes", "mlx_expand_dims_axes", [F(2, 3)], lambda a: mx.expand_dims(a, [0, 3]))
y = F(1, 3, 1, 2)
case("squeeze", "mlx_squeeze", [y], lambda a: mx.squeeze(a))
case("squeeze_axis", "mlx_squeeze_axis", [y], lambda a: mx.squeeze(a, 2))
case("squeeze_axes", "mlx_squeeze_axes", [y], lambda a: mx.squeeze(a, [0, 2]))
case("flatten", "mlx_flatten", [x], lambda a: mx.flatten(a, 1, 2))
case("unflatten", "mlx_unflatten", [x], lambda a: mx.unflatten(a, 2, (2, 2)))
case("moveaxis", "mlx_moveaxis", [x], lambda a: mx.moveaxis(a, 0, -1))
case("swapaxes", "mlx_swapaxes", [x], lambda a: mx.swapaxes(a, 0, 2))
for op in ["atleast_1d", "atleast_2d", "atleast_3d"]:
    case(op, f"mlx_{op}", [F(3)], getattr(mx, op))
case("contiguous", "mlx_contiguous", [x], lambda a: mx.contiguous(mx.transpose(a)))
case("contiguous_col_major", "mlx_contiguous", [F(2, 3)], lambda a: mx.contiguous(a.T, allow_col_major=True))
case("astype", "mlx_astype", [x], lambda a: a.astype(mx.int32))
case("concatenate", "mlx_concatenate", [F(2, 2), F(3)], lambda a, b: mx.concatenate([a.reshape(-1), b]))
case("concatenate_axis", "mlx_concatenate_axis", [F(2, 2), F(2, 1)], lambda a, b: mx.concatenate([a, b], axis=1))
case("stack", "mlx_stack", [F(2, 2), F(2, 2)], lambda a, b: mx.stack([a, b]))
case("stack_axis", "mlx_stack_axis", [F(2, 2), F(2, 2)], lambda a, b: mx.stack([a, b], axis=-1))
case("split", "mlx_split", [F(4, 3)], lambda a: mx.split(a, 2, axis=0))
case("split_sections", "mlx_split_sections", [F(2, 5)], lambda a: mx.split(a, [1, 3], axis=1))
case("unstack", "mlx_unstack", [F(2, 3)], lambda a: mx.unstack(a))
case("unstack_axis", "mlx_unstack_axis", [F(2, 3)], lambda a: mx.unstack(a, axis=1))
case("pad", "mlx_pad", [F(2, 3)], lambda a: mx.pad(a, [(1, 0), (0, 2)], constant_values=9.0))
case("pad_edge", "mlx_pad", [F(2, 3)], lambda a: mx.pad(a, [(0, 0), (2, 1)], mode="edge"))
case("pad_reflect", "mlx_pad", [F(4)], lambda a: mx.pad(a, (2, 1), mode="reflect"))
case("pad_symmetric", "mlx_pad_symmetric", [F(2, 2)], lambda a: mx.pad(a, 1, mode="symmetric"))
case("roll", "mlx_roll", [F(2, 3)], lambda a: mx.roll(a, 2))
case("roll_axis", "mlx_roll_axis", [F(2, 3)], lambda a: mx.roll(a, -1, axis=1))
case("roll_axes", "mlx_roll_axes", [F(2, 3)], lambda a: mx.roll(a, (1, 2), axis=(0, 1)))
case("tile", "mlx_tile", [F(2, 2)], lambda a: mx.tile(a, (2, 1, 3)))
case("repeat", "mlx_repeat", [F(2, 2)], lambda a: mx.repeat(a, 2))
case("repeat_axis", "mlx_repeat_axis", [F(2, 2)], lambda a: mx.repeat(a, 3, axis=1))
case("flip", "mlx_flip", [F(2, 3)], lambda a: a[::-1, ::-1])
case("flip_axis", "mlx_flip_axis", [F(2, 3)], lambda a: a[:, ::-1])
case("flip_axes", "mlx_flip_axes", [F(2, 3, 2)], lambda a: a[::-1, :, ::-1])
case("broadcast_arrays", "mlx_broadcast_arrays", [F(2, 1), F(3)], lambda a, b: mx.broadcast_arrays(a, b))
case("meshgrid", "mlx_meshgrid", [F(2), F(3)], lambda a, b: mx.meshgrid(a, b))
case("meshgrid_ij_sparse", "mlx_meshgrid", [F(2), F(3)],
     lambda a, b: mx.meshgrid(a, b, sparse=True, indexing="ij"))
case("diff", "mlx_diff", [F(3, 4)], lambda a: mx.diff(a, 2, axis=1))
case("as_strided", "mlx_as_strided", [F(6)], lambda a: mx.as_strided(a, (3, 2), (1, 2), 1))
case("view", "mlx_view", [A([1.0, -2.0])], lambda a: mx.view(a, mx.int32))
case("number_of_elements", "mlx_number_of_elements", [F(2, 3, 4)], lambda a: mx.array(8, mx.int32))
# inverted: the reciprocal of the count (what `mean` divides by).
case("number_of_elements_inv", "mlx_number_of_elements", [F(2, 3, 4)], lambda a: mx.array(1 / 8, mx.float32))
case("depends", "mlx_depends", [F(2), F(3)], lambda a, b: mx.depends([a], [b]))

# ---- indexing -----------------------------------------------------------

x = F(4, 3)
case("take", "mlx_take", [x, A([[0, 11], [-1, 5]], mx.int32)], lambda a, i: mx.take(a, i))
case("take_axis", "mlx_take_axis", [x, A([3, 0, -2], mx.int32)], lambda a, i: mx.take(a, i, axis=0))
case("take_along_axis", "mlx_take_along_axis", [x, A([[2], [0], [1], [-1]], mx.int32)],
     lambda a, i: mx.take_along_axis(a, i, axis=1))
case("put_along_axis", "mlx_put_along_axis", [x, A([[2], [0], [1], [0]], mx.int32), F(4, 1)],
     lambda a, i, v: mx.put_along_axis(a, i, v, axis=1))


def scatter_add_axis_ref(a, idx, v, axis):
    out = a.tolist()
    il, vl = idx.tolist(), v.tolist()
    for r in range(len(il)):
        for c in range(len(il[0])):
            out[r][il[r][c]] += vl[r][c]
    return mx.array(out, dtype=a.dtype)


case("scatter_add_axis", "mlx_scatter_add_axis", [x, A([[1, 1], [0, 2], [2, 2], [0, 0]], mx.int32), F(4, 2)],
     lambda a, i, v: scatter_add_axis_ref(a, i, v, 1))
# gather(a, [i], axes=[0], slice_sizes=[1, 3]) is a[i][:, None, :].
case("gather_single", "mlx_gather_single", [x, A([2, 0], mx.int32)], lambda a, i: a[i][:, None, :])
# Two index arrays over axes 0 and 1, windows of 1 x 2 of a 4 x 3 x 2 array.
y = F(4, 3, 2)
case("gather", "mlx_gather", [y, A([0, 3], mx.int32), A([2, 1], mx.int32)],
     lambda a, i, j: a[i, j][:, None, None, :])

SCATTER = {"set": "", "add": "_add", "prod": "_prod", "max": "_max", "min": "_min"}
for kind, suffix in SCATTER.items():
    idx = A([3, 1], mx.int32)
    upd = F(2, 1, 3)

    def single(a, i, u, kind=kind):
        at = a.at[i]
        return a.at[i].add(u[:, 0]) if kind == "add" else (
            a.at[i].multiply(u[:, 0]) if kind == "prod" else (
                a.at[i].maximum(u[:, 0]) if kind == "max" else (
                    a.at[i].minimum(u[:, 0]) if kind == "min" else mx.array(
                        [list(u[list(i.tolist()).index(r), 0].tolist()) if r in i.tolist() else a[r].tolist()
                         for r in range(a.shape[0])]))))
    case(f"scatter{suffix}_single", f"mlx_scatter{suffix}_single", [F(4, 3), idx, upd], single)

    def multi(a, i, j, u, kind=kind):
        rows = a.tolist()
        il, jl, ul = i.tolist(), j.tolist(), u.tolist()
        for n in range(len(il)):
            r, c, v = il[n], jl[n], ul[n][0][0]
            old = rows[r][c]
            rows[r][c] = {"set": v, "add": old + v, "prod": old * v,
                          "max": max(old, v), "min": min(old, v)}[kind]
        return mx.array(rows, dtype=a.dtype)
    case(f"scatter{suffix}", f"mlx_scatter{suffix}", [F(4, 3), A([0, 3, 0], mx.int32), A([2, 1, 1], mx.int32), F(3, 1, 1)], multi)

case("masked_scatter", "mlx_masked_scatter", [F(2, 3), A([[True, False, True], [False, True, False]], mx.bool_), F(5)],
     None if False else (lambda a, m, s: mx.where(
         m, mx.array([[s[0].item(), 0.0, s[1].item()], [0.0, s[2].item(), 0.0]]), a)))
def masked_rows(a, m, src):
    b = mx.array(a)
    b[m] = src
    return b


case("masked_scatter_rows", "mlx_masked_scatter", [F(3, 2), A([True, False, True], mx.bool_), F(2, 2)], masked_rows)
x = F(4, 5)
case("slice", "mlx_slice", [x], lambda a: a[1:4:2, ::-2])
case("slice_dynamic", "mlx_slice_dynamic", [x, A([1, 2], mx.int32)],
     lambda a, st: mx.slice(a, st, [0, 1], [2, 3]))
case("slice_update", "mlx_slice_update", [x, F(2, 2)],
     lambda a, u: mx.concatenate([a[:1], mx.concatenate([a[1:3, :1], u, a[1:3, 3:]], axis=1), a[3:]]))
for kind in ["add", "prod", "max", "min"]:
    def upd(a, u, kind=kind):
        f = {"add": lambda p, q: p + q, "prod": lambda p, q: p * q,
             "max": mx.maximum, "min": mx.minimum}[kind]
        mid = f(a[1:3, 1:3], u)
        return mx.concatenate([a[:1], mx.concatenate([a[1:3, :1], mid, a[1:3, 3:]], axis=1), a[3:]])
    case(f"slice_update_{kind}", f"mlx_slice_update_{kind}", [x, F(2, 2)], upd)
case("slice_update_dynamic", "mlx_slice_update_dynamic", [x, F(2, 2), A([2, 3], mx.int32)],
     lambda a, u, st: mx.slice_update(a, u, st, [0, 1]))

# ---- products -----------------------------------------------------------

case("matmul", "mlx_matmul", [F(2, 3, 4), F(4, 2)], mx.matmul)
case("addmm", "mlx_addmm", [F(2), F(3, 4), F(4, 2)], lambda c, a, b: mx.addmm(c, a, b, alpha=0.5, beta=2.0))
case("inner", "mlx_inner", [F(2, 3), F(4, 3)], mx.inner)
case("outer", "mlx_outer", [F(3), F(2, 2)], mx.outer)
case("kron", "mlx_kron", [F(2, 2), F(2, 3)], mx.kron)
case("vecdot", "mlx_vecdot", [F(2, 3), F(2, 3)], lambda a, b: mx.vecdot(a, b, axis=-1))
case("tensordot", "mlx_tensordot_axis", [F(2, 3, 4), F(3, 4, 2)], lambda a, b: mx.tensordot(a, b, 2))
case("tensordot_axes", "mlx_tensordot", [F(2, 3, 4), F(4, 2, 3)],
     lambda a, b: mx.tensordot(a, b, ([1, 2], [2, 0])))
case("einsum", "mlx_einsum", [F(2, 3), F(3, 4)], lambda a, b: mx.einsum("ij,jk->ki", a, b))
case("block_masked_mm", "mlx_block_masked_mm", [F(64, 64), F(64, 32), A([[True], [False]], mx.bool_)],
     lambda a, b, m: mx.block_masked_mm(a, b, 32, m))
case("block_masked_mm_operands", "mlx_block_masked_mm",
     [F(32, 64), F(64, 32), A([[True, False]], mx.bool_), A([[False], [True]], mx.bool_)],
     lambda a, b, ml, mr: mx.block_masked_mm(a, b, 32, None, ml, mr))
case("gather_mm", "mlx_gather_mm", [F(3, 2, 4), F(2, 4, 2), A([2, 0], mx.uint32), A([1, 1], mx.uint32)],
     lambda a, b, li, ri: mx.gather_mm(a, b, li, ri))
case("gather_mm_rhs", "mlx_gather_mm", [F(2, 2, 4), F(3, 4, 2), A([2, 0], mx.uint32)],
     lambda a, b, ri: mx.gather_mm(a, b, None, ri))
case("segmented_mm", "mlx_segmented_mm", [F(2, 6), F(6, 3), A([[0, 2], [2, 6], [3, 3]], mx.uint32)],
     mx.segmented_mm)

# ---- convolutions -------------------------------------------------------

case("conv1d", "mlx_conv1d", [F(1, 7, 4), F(2, 3, 2)],
     lambda x, w: mx.conv1d(x, w, stride=2, padding=1, dilation=1, groups=2))
case("conv2d", "mlx_conv2d", [F(1, 5, 5, 2), F(3, 3, 2, 2)],
     lambda x, w: mx.conv2d(x, w, stride=(1, 2), padding=(1, 0), dilation=(2, 1)))
case("conv3d", "mlx_conv3d", [F(1, 4, 4, 4, 1), F(2, 2, 2, 2, 1)],
     lambda x, w: mx.conv3d(x, w, stride=(1, 2, 1), padding=(0, 1, 0)))
case("conv_transpose1d", "mlx_conv_transpose1d", [F(1, 4, 2), F(3, 3, 2)],
     lambda x, w: mx.conv_transpose1d(x, w, stride=2, padding=1, output_padding=1))
case("conv_transpose2d", "mlx_conv_transpose2d", [F(1, 3, 3, 2), F(2, 2, 2, 2)],
     lambda x, w: mx.conv_transpose2d(x, w, stride=(2, 1), padding=(0, 1)))
case("conv_transpose3d", "mlx_conv_transpose3d", [F(1, 2, 3, 2, 1), F(2, 2, 2, 2, 1)],
     lambda x, w: mx.conv_transpose3d(x, w, stride=(1, 1, 2)))
case("conv_general", "mlx_conv_general", [F(1, 5, 2), F(2, 3, 2)],
     lambda x, w: mx.conv_general(x, w, stride=1, padding=([1], [2]), kernel_dilation=1,
                                  input_dilation=2, groups=1, flip=True))

# ---- quantization (wrapped in mlx_rs::quantization) ----------------------

w = F(4, 64)
case("quantize", "mlx_quantize", [w], lambda w: mx.quantize(w, 64, 4))
case("dequantize", "mlx_dequantize", [w], lambda w: mx.dequantize(*mx.quantize(w, 64, 4), 64, 4))
case("quantized_matmul", "mlx_quantized_matmul", [F(2, 64), w],
     lambda x, w: mx.quantized_matmul(x, *mx.quantize(w, 64, 4), True, 64, 4))
case("gather_qmm", "mlx_gather_qmm", [F(2, 1, 64), F(3, 4, 64), A([2, 0], mx.uint32)],
     lambda x, w, r: mx.gather_qmm(x, *mx.quantize(w, 64, 4), rhs_indices=r, transpose=True, group_size=64, bits=4))
case("qqmm", "mlx_qqmm", [F(1, 64), F(4, 64)],
     lambda x, w: mx.qqmm(x, *mx.quantize(w, mode="mxfp8"), mode="mxfp8"))

# ---- bad inputs ---------------------------------------------------------
# Each: the Rust test makes the same call through mlx-rs and expects Err
# (with this message when there is one).

bad("sum_bad_axis", [F(2, 3)], lambda a: mx.sum(a, axis=2))
bad("sum_repeated_axes", [F(2, 3)], lambda a: mx.sum(a, axis=[0, 0]))
bad("mean_bad_axis", [F(2, 3)], lambda a: mx.mean(a, axis=-3))
bad("var_bad_axis", [F(2, 3)], lambda a: mx.var(a, axis=5))
bad("argmax_bad_axis", [F(2, 3)], lambda a: mx.argmax(a, axis=2))
bad("softmax_bad_axis", [F(2, 3)], lambda a: mx.softmax(a, axis=3))
bad("logsumexp_bad_axis", [F(2, 3)], lambda a: mx.logsumexp(a, axis=[0, 4]))
bad("cumsum_bad_axis", [F(2, 3)], lambda a: mx.cumsum(a, axis=2))
bad("cummax_bad_axis", [F(2, 3)], lambda a: mx.cummax(a, axis=-3))
bad("sort_bad_axis", [F(2, 3)], lambda a: mx.sort(a, axis=2))
bad("argsort_bad_axis", [F(2, 3)], lambda a: mx.argsort(a, axis=-4))
bad("partition_bad_kth", [F(2, 3)], lambda a: mx.partition(a, 5, axis=1))
bad("topk_too_many", [F(2, 3)], lambda a: mx.topk(a, 4, axis=1))
bad("add_shapes", [F(2, 3), F(4)], mx.add)
bad("maximum_shapes", [F(2, 3), F(2)], mx.maximum)
bad("matmul_shapes", [F(2, 3), F(4, 2)], mx.matmul)
bad("matmul_int", [I(2, 2), I(2, 2)], mx.matmul)
bad("addmm_shapes", [F(5), F(2, 3), F(3, 4)], lambda c, a, b: mx.addmm(c, a, b))
bad("inner_shapes", [F(2, 3), F(2)], mx.inner)
bad("tensordot_shapes", [F(2, 3), F(2, 3)], lambda a, b: mx.tensordot(a, b, 1))
bad("tensordot_axes_len", [F(2, 3), F(3, 2)], lambda a, b: mx.tensordot(a, b, ([0, 1], [0])))
bad("vecdot_shapes", [F(2, 3), F(4)], lambda a, b: mx.vecdot(a, b))
bad("einsum_bad", [F(2, 3), F(4, 4)], lambda a, b: mx.einsum("ij,jk->ik", a, b))
bad("einsum_syntax", [F(2, 3)], lambda a: mx.einsum("ij->iz", a))
bad("bitwise_and_float", [F(2), F(2)], mx.bitwise_and)
bad("bitwise_invert_float", [F(2)], mx.bitwise_invert)
bad("left_shift_float", [F(2), F(2)], mx.left_shift)
bad("remainder_shapes", [I(2, 3), I(2)], mx.remainder)
bad("divmod_complex", [C(2), C(2)], mx.divmod)
bad("concatenate_shapes", [F(2, 3), F(3, 2)], lambda a, b: mx.concatenate([a, b], axis=0))
bad("concatenate_bad_axis", [F(2, 3), F(2, 3)], lambda a, b: mx.concatenate([a, b], axis=2))
bad("concatenate_empty", [], lambda: mx.concatenate([], axis=0))
bad("stack_shapes", [F(2, 3), F(3, 2)], lambda a, b: mx.stack([a, b]))
bad("stack_bad_axis", [F(2), F(2)], lambda a, b: mx.stack([a, b], axis=3))
bad("split_uneven", [F(5)], lambda a: mx.split(a, 2))
bad("split_bad_axis", [F(4)], lambda a: mx.split(a, 2, axis=1))
bad("unstack_scalar", [A(1.0)], lambda a: mx.unstack(a))
bad("reshape_size", [F(2, 3)], lambda a: a.reshape(4, 2))
bad("reshape_two_infer", [F(2, 3)], lambda a: a.reshape(-1, -1))
bad("transpose_not_perm", [F(2, 3)], lambda a: mx.transpose(a, (0, 0)))
bad("broadcast_to_bad", [F(2, 3)], lambda a: mx.broadcast_to(a, (3, 3)))
bad("broadcast_arrays_bad", [F(2), F(3)], lambda a, b: mx.broadcast_arrays(a, b))
bad("expand_dims_bad_axis", [F(2)], lambda a: mx.expand_dims(a, 3))
bad("squeeze_not_one", [F(2, 3)], lambda a: mx.squeeze(a, 0))
bad("squeeze_bad_axis", [F(2, 1)], lambda a: mx.squeeze(a, [1, 5]))
bad("flatten_bad_axes", [F(2, 3, 4)], lambda a: mx.flatten(a, 2, 1))
bad("unflatten_bad_shape", [F(2, 6)], lambda a: mx.unflatten(a, 1, (4, 2)))
bad("moveaxis_bad", [F(2, 3)], lambda a: mx.moveaxis(a, 0, 2))
bad("swapaxes_bad", [F(2, 3)], lambda a: mx.swapaxes(a, 0, -3))
bad("flip_bad_axis", [F(2, 3)], None)  # Python reports its own indexing error
bad("roll_bad_axis", [F(2, 3)], lambda a: mx.roll(a, 1, axis=2))
bad("roll_shift_axes", [F(2, 3)], lambda a: mx.roll(a, (1, 2, 3), axis=(0, 1)))
bad("tile_negative", [F(2)], lambda a: mx.tile(a, -1))
bad("repeat_negative", [F(2)], lambda a: mx.repeat(a, -1))
bad("repeat_bad_axis", [F(2)], lambda a: mx.repeat(a, 2, axis=1))
bad("pad_negative", [F(2, 3)], lambda a: mx.pad(a, [(0, -1), (0, 0)]))
bad("pad_lengths", [F(2, 3)], None)
bad("pad_symmetric_negative", [F(2, 3)], lambda a: mx.pad(a, -1))
bad("meshgrid_2d", [F(2, 2), F(3)], lambda a, b: mx.meshgrid(a, b))
bad("diff_negative", [F(4)], lambda a: mx.diff(a, -1))
bad("diff_bad_axis", [F(4)], lambda a: mx.diff(a, 1, axis=1))
bad("tril_1d", [F(3)], lambda a: mx.tril(a))
bad("diag_3d", [F(2, 2, 2)], lambda a: mx.diag(a))
bad("diagonal_same_axes", [F(2, 2)], lambda a: mx.diagonal(a, 0, 1, 1))
bad("trace_bad_axes", [F(2, 2)], lambda a: mx.trace(a, 0, 0, 3))
bad("identity_negative", [], lambda: mx.identity(-1))
bad("linspace_negative", [], lambda: mx.linspace(0, 1, -1))
bad("take_out_of_range", [F(4, 3), A([4], mx.int32)], None)
bad("take_axis_out_of_range", [F(4, 3), A([0, -5], mx.int32)], None)
bad("take_float_indices", [F(4, 3), A([0.0, 1.0])], lambda a, i: mx.take(a, i, axis=0))
bad("take_bad_axis", [F(4, 3), A([0], mx.int32)], lambda a, i: mx.take(a, i, axis=2))
bad("take_along_axis_out_of_range", [F(4, 3), A([[3]], mx.int32)], None)
bad("take_along_axis_ndim", [F(4, 3), A([0], mx.int32)], lambda a, i: mx.take_along_axis(a, i, axis=1))
bad("put_along_axis_out_of_range", [F(4, 3), A([[0], [1], [2], [9]], mx.int32), F(4, 1)], None)
bad("scatter_add_axis_out_of_range", [F(4, 3), A([[0], [1], [2], [-9]], mx.int32), F(4, 1)], None)
bad("gather_out_of_range", [F(4, 3), A([4], mx.int32)], None)
bad("gather_axes_count", [F(4, 3), A([1], mx.int32)], None)
bad("scatter_out_of_range", [F(4, 3), A([0, 7], mx.int32), F(2, 1, 3)], None)
bad("scatter_updates_shape", [F(4, 3), A([0, 1], mx.int32), F(2, 3)], None)
bad("scatter_max_out_of_range", [F(4, 3), A([-5], mx.int32), F(1, 1, 3)], None)
bad("masked_scatter_short_source", [F(2, 3), A([[True, True, True], [True, False, False]], mx.bool_), F(3)], None)
bad("masked_scatter_float_mask", [F(2, 3), F(2, 3), F(6)], None)
bad("slice_zero_step", [F(4, 5)], None)
bad("slice_lengths", [F(4, 5)], None)
bad("slice_dynamic_out_of_range", [F(4, 5), A([3, 0], mx.int32)], None)
bad("slice_update_shape", [F(4, 5), F(3, 3)], None)
bad("slice_update_dynamic_out_of_range", [F(4, 5), F(2, 2), A([0, 4], mx.int32)], None)
bad("as_strided_out_of_range", [F(6)], None)
bad("as_strided_negative_reach", [F(6)], None)
bad("as_strided_lengths", [F(6)], None)
bad("view_bad_size", [A([1.0, 2.0, 3.0])], lambda a: mx.view(a, mx.float64))
bad("gather_mm_out_of_range", [F(2, 2, 4), F(3, 4, 2), A([3, 0], mx.uint32)], None)
bad("gather_mm_shapes", [F(2, 2, 4), F(3, 5, 2)], lambda a, b: mx.gather_mm(a, b, None, None))
bad("segmented_mm_out_of_range", [F(2, 6), F(6, 3), A([[0, 7]], mx.uint32)], None)
bad("block_masked_mm_block_size", [F(64, 64), F(64, 64)], lambda a, b: mx.block_masked_mm(a, b, 16))
bad("conv1d_channels", [F(1, 7, 4), F(2, 3, 3)], lambda x, w: mx.conv1d(x, w))
bad("conv1d_ndim", [F(7, 4), F(2, 3, 4)], lambda x, w: mx.conv1d(x, w))
bad("conv2d_groups", [F(1, 5, 5, 3), F(2, 3, 3, 3)], lambda x, w: mx.conv2d(x, w, groups=2))
bad("conv3d_ndim", [F(1, 4, 4, 1), F(2, 2, 2, 2, 1)], lambda x, w: mx.conv3d(x, w))
bad("conv_transpose1d_channels", [F(1, 4, 2), F(3, 3, 5)], lambda x, w: mx.conv_transpose1d(x, w))
bad("conv_transpose2d_ndim", [F(1, 3, 2), F(2, 2, 2, 2)], lambda x, w: mx.conv_transpose2d(x, w))
bad("conv_transpose3d_ndim", [F(1, 3, 2), F(2, 2, 2, 2, 1)], lambda x, w: mx.conv_transpose3d(x, w))
bad("conv_general_stride", [F(1, 5, 2), F(2, 3, 2)], lambda x, w: mx.conv_general(x, w, stride=[1, 1]))
bad("hadamard_bad_size", [F(2, 6)], lambda a: mx.hadamard_transform(a))
bad("from_fp8_float_input", [F(3)], lambda a: mx.from_fp8(a, mx.float32))
bad("searchsorted_0d", [A(1.0), F(2)], mx.searchsorted)
bad("where_shapes", [B(2, 3), F(2), F(3)], mx.where)
bad("clip_no_bounds", [F(3)], None)  # Python checks this itself
bad("isclose_shapes", [F(2), F(3)], mx.isclose)
bad("allclose_shapes", [F(2), F(3)], mx.allclose)
bad("negative_bool", [B(3)], mx.negative)
bad("round_complex", [C(2)], lambda a: mx.round(a, 1))
bad("einsum_nul", [F(2)], None)
bad("quantize_bad_group", [F(4, 64)], lambda w: mx.quantize(w, 48, 4))
bad("gather_qqmm_cpu", [F(2, 1, 64), F(3, 4, 64), A([2, 0], mx.uint32)],
    lambda x, w, r: mx.gather_qqmm(x, w, rhs_indices=r, mode="mxfp8"))
bad("gather_qqmm_out_of_range", [F(2, 1, 64), F(3, 4, 64), A([3], mx.uint32)], None)
bad("number_of_elements_bad_axis", [F(2, 3)], None)
bad("argpartition_bad_kth", [F(2, 3)], lambda a: mx.argpartition(a, -4, axis=1))
bad("cumprod_bad_axis", [F(2, 3)], lambda a: mx.cumprod(a, axis=3))
bad("logcumsumexp_bad_axis", [F(2, 3)], lambda a: mx.logcumsumexp(a, axis=3))
bad("count_nonzero_bad_axis", [F(2, 3)], lambda a: mx.count_nonzero(a, axis=3))
bad("median_bad_axis", [F(2, 3)], lambda a: mx.median(a, axis=3))
bad("std_bad_axes", [F(2, 3)], lambda a: mx.std(a, axis=[0, 0]))

# Edge cases that must not crash (division by zero, empty arrays, 0-d
# arrays, axes of huge magnitude).
bad("conv1d_zero_stride", [F(1, 7, 4), F(2, 3, 4)], lambda x, w: mx.conv1d(x, w, stride=0))
bad("conv1d_zero_dilation", [F(1, 7, 4), F(2, 3, 4)], lambda x, w: mx.conv1d(x, w, dilation=0))
bad("conv2d_zero_groups", [F(1, 5, 5, 2), F(2, 3, 3, 2)], None)  # SIGFPE in MLX; mlx-rs checks
bad("conv_transpose1d_zero_stride", [F(1, 4, 2), F(3, 3, 2)], lambda x, w: mx.conv_transpose1d(x, w, stride=0))
bad("conv1d_kernel_too_big", [F(1, 2, 4), F(2, 5, 4)], lambda x, w: mx.conv1d(x, w))
bad("split_zero", [F(4)], lambda a: mx.split(a, 0))
bad("argmax_empty", [F(0)], lambda a: mx.argmax(a))
bad("topk_zero_size", [F(0)], lambda a: mx.topk(a, 1))
bad("sum_axis_min", [F(2, 3)], lambda a: mx.sum(a, axis=-2**31))
bad("expand_dims_axis_max", [F(2)], lambda a: mx.expand_dims(a, 2**31 - 1))
bad("number_of_elements_0d", [A(1.0)], None)
bad("take_empty_axis", [F(0, 3), A([0], mx.int32)], None)
bad("gather_no_indices_wrong_sizes", [F(4, 3)], None)
bad("scatter_no_indices_wrong_shape", [F(4, 3), F(5, 3)], None)
bad("slice_dynamic_lengths", [F(4, 5), A([0], mx.int32)], lambda a, st: mx.slice(a, st, [0, 1], [2]))
bad("slice_dynamic_float_start", [F(4, 5), A([0.0, 1.0])], lambda a, st: mx.slice(a, st, [0, 1], [2, 2]))
bad("slice_update_dynamic_bigger", [F(4, 5), F(5, 2), A([0, 0], mx.int32)],
    lambda a, u, st: mx.slice_update(a, u, st, [0, 1]))
bad("as_strided_empty_source", [F(0)], None)
bad("view_0d_bigger", [A(1.0)], lambda a: mx.view(a, mx.float64))
bad("diagonal_bad_axis", [F(2, 2)], lambda a: mx.diagonal(a, 0, 0, 5))
bad("unflatten_zero", [F(2, 6)], None)  # SIGFPE in MLX; mlx-rs checks
bad("pad_edge_empty", [F(0, 2)], lambda a: mx.pad(a, [(1, 1), (0, 0)], mode="edge"))
bad("pad_reflect_too_wide", [F(3)], lambda a: mx.pad(a, (3, 0), mode="reflect"))
bad("put_along_axis_shapes", [F(4, 3), A([[0, 1]], mx.int32), F(3, 3)],
    lambda a, i, v: mx.put_along_axis(a, i, v, axis=1))
bad("gather_mm_float_indices", [F(2, 2, 4), F(3, 4, 2), A([0.0, 1.0])],
    lambda a, b, r: mx.gather_mm(a, b, None, r))
bad("segmented_mm_float_segments", [F(2, 6), F(6, 3), A([[0.0, 2.0]])], lambda a, b, s: mx.segmented_mm(a, b, s))
bad("block_masked_mm_mask_shape", [F(64, 64), F(64, 64), A([[True]], mx.bool_)],
    lambda a, b, m: mx.block_masked_mm(a, b, 32, m))
bad("einsum_too_few_operands", [F(2, 3)], lambda a: mx.einsum("ij,jk->ik", a))
bad("median_empty", [F(0)], lambda a: mx.median(a))
bad("repeat_0d_axis", [A(1.0)], lambda a: mx.repeat(a, 2, axis=0))
bad("roll_0d_axis", [A(1.0)], lambda a: mx.roll(a, 1, axis=0))
bad("flatten_0d_axes", [A(1.0)], lambda a: mx.flatten(a, 0, 1))
bad("tensordot_negative", [F(2, 3), F(3, 2)], lambda a, b: mx.tensordot(a, b, -1))
bad("hadamard_int", [I(2, 4)], lambda a: mx.hadamard_transform(a))
bad("softmax_int_axes_dup", [F(2, 3)], lambda a: mx.softmax(a, axis=[1, 1]))
bad("sort_empty_is_not_an_error_but_kth_is", [F(0)], lambda a: mx.partition(a, 1))
bad("floor_divide_int_zero", [I(3), A([1, 0, 2], mx.int32)], None)  # SIGFPE in MLX
bad("remainder_int_zero", [I(3, dtype=mx.uint8), A([0, 1, 2], mx.uint8)], None)  # SIGFPE in MLX
bad("remainder_min_by_minus_one", [A([-2**63, 4], mx.int64), A([-1, 3], mx.int64)], None)  # SIGFPE
bad("divmod_int_zero", [I(2), A([0, 1], mx.int32)], None)  # SIGFPE in MLX
bad("slice_dynamic_negative_start", [F(4, 5), A([-1, 0], mx.int32)], None)  # SIGSEGV in MLX
bad("slice_update_dynamic_broadcast_window", [F(4, 4), F(2), A([3], mx.int32)], None)  # heap overflow in MLX
bad("conv_transpose1d_zero_groups", [F(1, 3, 2), F(2, 1, 2)], None)  # SIGFPE in MLX
bad("conv_general_zero_groups", [F(1, 3, 2), F(2, 1, 2)], None)  # SIGFPE in MLX
bad("gather_slice_too_big", [F(4, 3), A([1], mx.int32)], None)
bad("gather_slice_negative", [F(4, 3), A([1], mx.int32)], None)
bad("scatter_window_too_big", [F(4, 3), A([1], mx.int32), F(1, 1, 5)], None)
bad("take_along_axis_bad_axis", [F(4, 3), A([[0]], mx.int32)], lambda a, i: mx.take_along_axis(a, i, axis=2))
bad("put_along_axis_float_indices", [F(4, 3), A([[0.0]]), F(1, 1)], lambda a, i, v: mx.put_along_axis(a, i, v, axis=1))
# Results whose size in bytes overflows (MLX computes it unchecked and
# would write past the buffer); built from lazy broadcasts, never allocated.
bad("as_strided_huge", [F(4)], None)
bad("broadcast_arrays_huge", [], None)
bad("outer_huge", [], None)
bad("add_huge_broadcast", [], None)
bad("exp_huge_broadcast", [], None)
bad("masked_scatter_rows_short_source", [F(2, 3), A([True, True], mx.bool_), F(1)], None)  # MLX reads past src
bad("depends_on_nothing_is_fine_but_shapes", [F(2)], None)

write_json(OUT, {"mlx": mx.__version__, "cases": CASES, "bad": BAD}, compact=True)
print(f"{len(CASES)} cases, {len(BAD)} bad inputs, {os.path.getsize(OUT)} bytes -> {OUT}")
