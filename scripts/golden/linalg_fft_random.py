#!/usr/bin/env python3
"""Golden data for mlx-rs's `ops::linalg`, `ops::fft` and `random` modules.

Runs Python MLX 0.32.2 on the CPU with fixed seeds and writes

    mlx-rs/tests/golden/lfr_linalg.json   (tests/ops_linalg.rs)
    mlx-rs/tests/golden/lfr_fft.json      (tests/ops_fft.rs)
    mlx-rs/tests/golden/lfr_random.json   (tests/random.rs)

Each file holds named input arrays, "cases" (a function of the Rust API, its
inputs and parameters, and the outputs Python MLX computes for it) and
"errors" (bad inputs, with MLX's message and the phase in which MLX raised
it: "build" when the op is called, "eval" when it is evaluated). The Rust
tests run every entry through one dispatcher per module, so the same table
drives the golden and the bad-input tests.

Arrays are stored exactly, as `{"dtype", "shape", "hex"}` with each
element's raw bits as fixed-width hex (complex64: the 64 bits of the pair,
real part in the low half), so the Rust tests compare bit for bit.

The dispatchers below (`linalg_call`, `fft_call`, `random_call`) mirror the
Rust API, defaults included, by calling the Python function form that
matches the mlx-c call mlx-rs makes: mlx-c has no optional sizes or axes for
the FFTs, so mlx-rs fills them in as MLX's C++ does, and so do these.

Two things have no Python function and are derived:
- `random::bits` (mlx_random_bits): Python has no `bits`, but `split(key,
  num)` is `bits([num, 2], 4, key)`, and MLX generates bits by byte count
  (the shape and width only decide how the bytes are viewed), so the
  expected bits of `width` bytes and `shape` are `split(key, bytes / 8)`
  viewed as that width.
- `random::split` (the pair form): the two rows of `split(key, 2)`.

Usage (from the workspace root):

    /tmp/venv-mlx/bin/python scripts/golden/linalg_fft_random.py

The script refuses to run with any other MLX version.
"""

import math
import os

import mlx.core as mx

from _common import DTYPES, MLX_VERSION, OUT_DIR, UINT, encode_hex, write_json


def normal(shape, seed, dtype=mx.float32):
    return mx.random.normal(shape, key=mx.random.key(seed)).astype(dtype)


class Table:
    """Inputs, golden cases and error cases of one module."""

    def __init__(self, call):
        self.call = call
        self.inputs = {}
        self.arrays = {}
        self.cases = []
        self.errors = []

    def input(self, name, a):
        mx.eval(a)
        self.inputs[name] = encode_hex(a)
        self.arrays[name] = a
        return a

    def _args(self, names):
        return [self.arrays[n] for n in names]

    def case(self, fn, inputs=(), **p):
        out = self.call(fn, self._args(inputs), p)
        outs = list(out) if isinstance(out, (list, tuple)) else [out]
        mx.eval(outs)
        self.cases.append({"fn": fn, "in": list(inputs), "p": p,
                           "out": [encode_hex(o) for o in outs]})

    def error(self, fn, inputs=(), **p):
        try:
            r = self.call(fn, self._args(inputs), p)
        except (ValueError, RuntimeError, IndexError) as e:
            phase, msg = "build", str(e)
        else:
            try:
                mx.eval(r)
            except (ValueError, RuntimeError, IndexError) as e:
                phase, msg = "eval", str(e)
            else:
                raise AssertionError(f"{fn} {inputs} {p}: no error")
        self.errors.append({"fn": fn, "in": list(inputs), "p": p,
                            "phase": phase, "message": msg})

    def dump(self, name):
        path = os.path.join(OUT_DIR, name)
        doc = {"mlx_version": MLX_VERSION, "inputs": self.inputs,
               "cases": self.cases, "errors": self.errors}
        write_json(path, doc, compact=True)
        print(f"{path}: {len(self.cases)} cases, {len(self.errors)} errors, "
              f"{os.path.getsize(path)} bytes")


# ---------------------------------------------------------------------------
# linalg
# ---------------------------------------------------------------------------

def norm_ord(o):
    if o is None or o in ("fro", "nuc"):
        return o
    if o in ("inf", "-inf"):
        return float(o)
    return float(o)


def linalg_call(fn, x, p):
    la = mx.linalg
    if fn == "norm":
        o = norm_ord(p["ord"])
        if o is None:
            return la.norm(x[0], axis=p["axes"], keepdims=p["keepdims"])
        return la.norm(x[0], o, axis=p["axes"], keepdims=p["keepdims"])
    if fn in ("inv", "pinv", "det", "eigvals", "qr", "lu", "lu_factor",
              "eig", "slogdet"):
        return getattr(la, fn)(x[0])
    if fn in ("tri_inv", "cholesky", "cholesky_inv"):
        return getattr(la, fn)(x[0], upper=p["upper"])
    if fn == "svd":
        return la.svd(x[0], compute_uv=True)
    if fn == "svdvals":
        return la.svd(x[0], compute_uv=False)
    if fn == "solve":
        return la.solve(x[0], x[1])
    if fn == "solve_triangular":
        return la.solve_triangular(x[0], x[1], upper=p["upper"])
    if fn == "cross":
        return la.cross(x[0], x[1], axis=p["axis"])
    if fn in ("eigh", "eigvalsh"):
        return getattr(la, fn)(x[0], UPLO=p["uplo"])
    raise KeyError(fn)


def linalg():
    t = Table(linalg_call)
    eye3 = mx.eye(3)
    a = t.input("A", normal((3, 3), 1) + 3 * eye3)
    t.input("A64", a.astype(mx.float64))
    t.input("Ab", normal((2, 3, 3), 2) + 3 * eye3)
    b = normal((3, 3), 3)
    spd = t.input("S", b @ b.T + 3 * eye3)
    t.input("S64", spd.astype(mx.float64))
    t.input("R", normal((3, 4), 4))
    t.input("Rt", normal((4, 3), 5))
    t.input("L", mx.tril(a))
    t.input("U", mx.triu(a))
    t.input("Lchol", mx.linalg.cholesky(spd))
    t.input("Uchol", mx.linalg.cholesky(spd, upper=True))
    t.input("b", normal((3,), 6))
    t.input("B2", normal((3, 2), 7))
    t.input("Bb", normal((2, 3, 2), 8))
    t.input("v", normal((4, 3), 9))
    t.input("w", normal((4, 3), 10))
    t.input("vT", normal((3, 4), 11))
    t.input("wT", normal((3, 4), 12))
    t.input("v2", normal((2,), 13))
    t.input("w2", normal((2,), 14))
    t.input("vi", mx.array([1, 2, 3], dtype=mx.int32))
    t.input("wi", mx.array([4, 5, 7], dtype=mx.int32))
    rot = mx.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 2.0]])
    t.input("E", rot + 0.1 * normal((3, 3), 15))
    c = (normal((3, 3), 16) + 1j * normal((3, 3), 17)).astype(mx.complex64)
    t.input("C", c)
    t.input("H", c + mx.conj(c.T))
    t.input("Sing", mx.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]]))
    t.input("Neg", mx.array([[0.0, 1.0], [1.0, 0.0]]))
    t.input("I3", mx.array([[2, 1, 0], [1, 3, 1], [0, 1, 4]], dtype=mx.int32))
    t.input("F16", a.astype(mx.float16))
    t.input("X3", normal((2, 3, 4), 18))
    t.input("v1", mx.array([3.0, -4.0, 0.0, 1.0]))
    t.input("Z", mx.zeros((3, 3)))
    t.input("s0", mx.array(3.0))

    # norms: every ord for vectors and matrices, axes, keepdims
    for o in (None, 1, 2, 3.5, 0, -1, "inf", "-inf", 0.5):
        t.case("norm", ["v1"], ord=o, axes=None, keepdims=False)
    for o in (None, "fro", "nuc", 1, -1, 2, -2, "inf", "-inf"):
        t.case("norm", ["A"], ord=o, axes=None, keepdims=False)
    t.case("norm", ["X3"], ord=None, axes=None, keepdims=False)
    t.case("norm", ["X3"], ord=None, axes=[1, 2], keepdims=True)
    t.case("norm", ["X3"], ord="fro", axes=[0, 2], keepdims=False)
    t.case("norm", ["X3"], ord=1, axes=[-1], keepdims=True)
    t.case("norm", ["X3"], ord="inf", axes=[2, 1], keepdims=False)
    t.case("norm", ["X3"], ord=2, axes=[1, 2], keepdims=False)
    t.case("norm", ["X3"], ord="nuc", axes=[1, 2], keepdims=True)
    t.case("norm", ["s0"], ord=None, axes=None, keepdims=False)
    t.case("norm", ["A64"], ord="fro", axes=None, keepdims=False)
    t.case("norm", ["C"], ord=None, axes=None, keepdims=False)
    # inverses and factorizations
    for name in ("A", "A64", "Ab"):
        t.case("inv", [name])
    for name in ("A", "R", "Rt", "A64"):
        t.case("pinv", [name])
    t.case("tri_inv", ["L"], upper=False)
    t.case("tri_inv", ["U"], upper=True)
    t.case("tri_inv", ["A"], upper=False)  # reads the lower triangle only
    for name, up in (("S", False), ("S", True), ("S64", False)):
        t.case("cholesky", [name], upper=up)
    t.case("cholesky", ["Neg"], upper=False)  # not definite: no error
    t.case("cholesky_inv", ["Lchol"], upper=False)
    t.case("cholesky_inv", ["Uchol"], upper=True)
    for name in ("A", "R", "Rt", "Ab", "A64"):
        t.case("qr", [name])
    for name in ("A", "R", "Rt", "Ab", "A64", "C"):
        t.case("svd", [name])
    for name in ("A", "R", "C"):
        t.case("svdvals", [name])
    for name in ("A", "R", "Rt", "Ab", "A64", "Sing"):
        t.case("lu", [name])
    for name in ("A", "R", "Ab", "A64"):
        t.case("lu_factor", [name])
    # solves
    t.case("solve", ["A", "b"])
    t.case("solve", ["A", "B2"])
    t.case("solve", ["Ab", "Bb"])
    t.case("solve", ["A64", "b"])  # b promotes
    t.case("solve_triangular", ["L", "b"], upper=False)
    t.case("solve_triangular", ["U", "B2"], upper=True)
    # cross
    t.case("cross", ["v", "w"], axis=-1)
    t.case("cross", ["vT", "wT"], axis=0)
    t.case("cross", ["v2", "w2"], axis=0)
    t.case("cross", ["vi", "wi"], axis=-1)
    t.case("cross", ["v", "b"], axis=-1)  # broadcasting
    # eigen decompositions
    for name in ("A", "E", "Ab", "A64", "C"):
        t.case("eig", [name])
        t.case("eigvals", [name])
    for name, uplo in (("S", "L"), ("S", "U"), ("A", "L"), ("A", "U"),
                       ("S64", "L"), ("H", "L"), ("Ab", "U")):
        t.case("eigh", [name], uplo=uplo)
        t.case("eigvalsh", [name], uplo=uplo)
    # determinants
    for name in ("A", "Ab", "A64", "Sing", "I3", "F16", "E"):
        t.case("det", [name])
        t.case("slogdet", [name])

    # bad inputs
    t.input("v3", mx.array([1.0, 2.0, 3.0]))
    t.input("I2", mx.array([[2, 1], [1, 2]], dtype=mx.int32))
    t.input("ones4", mx.ones((4,)))
    t.input("ones2", mx.ones((2,)))
    t.input("ones222", mx.ones((2, 2, 2)))
    t.input("Z22", mx.zeros((2, 2)))
    t.input("Ztri", mx.zeros((3, 3)))
    t.input("NaN33", mx.full((3, 3), float("nan")))
    t.input("Ecol", mx.zeros((0, 3)))
    for fn in ("inv", "pinv", "qr", "svd", "svdvals", "lu", "lu_factor",
               "eig", "eigvals", "det", "slogdet"):
        t.error(fn, ["v3"])
    for fn in ("inv", "eig", "eigvals", "det", "slogdet"):
        t.error(fn, ["R"])
    for fn in ("inv", "pinv", "qr", "lu", "lu_factor"):
        t.error(fn, ["I2"])
        t.error(fn, ["F16"])
        t.error(fn, ["C"])
    for fn in ("svd", "svdvals", "eig", "eigvals"):
        t.error(fn, ["I2"])
        t.error(fn, ["F16"])
    for fn in ("det", "slogdet"):
        t.error(fn, ["C"])
    for fn in ("tri_inv", "cholesky", "cholesky_inv"):
        t.error(fn, ["v3"], upper=False)
        t.error(fn, ["R"], upper=True)
        t.error(fn, ["I2"], upper=False)
        t.error(fn, ["F16"], upper=False)
    for fn in ("eigh", "eigvalsh"):
        t.error(fn, ["v3"], uplo="L")
        t.error(fn, ["R"], uplo="U")
        t.error(fn, ["I2"], uplo="L")
        t.error(fn, ["F16"], uplo="L")
        t.error(fn, ["NaN33"], uplo="L")  # LAPACK fails to converge: eval
    t.error("inv", ["Z22"])                 # singular: eval
    t.error("svd", ["NaN33"])               # eval
    t.error("svdvals", ["NaN33"])
    t.error("pinv", ["NaN33"])
    t.error("solve", ["A", "ones4"])
    t.error("solve", ["R", "b"])
    t.error("solve", ["v3", "v3"])
    t.error("solve", ["I2", "ones2"])
    t.error("solve", ["Z22", "ones2"])      # singular: eval
    t.error("solve_triangular", ["A", "ones4"], upper=False)
    t.error("solve_triangular", ["v3", "v3"], upper=False)
    t.error("solve_triangular", ["I2", "ones2"], upper=True)
    t.error("solve_triangular", ["Ztri", "b"], upper=False)  # eval
    t.error("cross", ["ones4", "ones4"], axis=0)
    t.error("cross", ["v3", "v3"], axis=5)
    t.error("cross", ["v3", "v3"], axis=-2)
    t.error("cross", ["v", "vT"], axis=-1)
    t.error("norm", ["ones222"], ord=None, axes=[0, 1, 2], keepdims=False)
    t.error("norm", ["A"], ord=None, axes=[5], keepdims=False)
    t.error("norm", ["A"], ord=2, axes=[0, 5], keepdims=False)
    t.error("norm", ["v3"], ord="fro", axes=None, keepdims=False)
    t.error("norm", ["A"], ord="nuc", axes=[0], keepdims=False)
    t.error("norm", ["A"], ord=3, axes=None, keepdims=False)
    t.error("norm", ["A"], ord=0.5, axes=[0, 1], keepdims=False)
    t.error("norm", ["ones222"], ord=2, axes=None, keepdims=False)
    t.error("norm", ["ones222"], ord="fro", axes=None, keepdims=False)
    t.error("norm", ["A"], ord=None, axes=[0, 0], keepdims=False)
    t.error("norm", ["s0"], ord=2, axes=None, keepdims=False)
    t.error("norm", ["Ecol"], ord="inf", axes=None, keepdims=False)
    t.dump("lfr_linalg.json")


# ---------------------------------------------------------------------------
# fft
# ---------------------------------------------------------------------------

def default_sizes(a, axes, inverse_real):
    """As mlx-rs (and MLX's C++): the lengths along `axes`, 2*(m-1) on the
    last one for the inverse real transforms; 1 for an axis out of range
    (MLX then reports the axis)."""
    n = [a.shape[ax] if -a.ndim <= ax < a.ndim else 1 for ax in axes]
    if inverse_real and a.ndim > 0 and n:
        n[-1] = (n[-1] - 1) * 2
    return n


def fft_call(fn, x, p):
    f = mx.fft
    inverse_real = fn.startswith("irfft")
    if fn in ("fft", "ifft", "rfft", "irfft"):
        n = p["n"]
        if n is None:
            n = default_sizes(x[0], [p["axis"]], inverse_real)[0]
        return getattr(f, fn)(x[0], n=n, axis=p["axis"], norm=p["norm"])
    if fn in ("fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn", "rfftn",
              "irfftn"):
        axes, s = p["axes"], p["s"]
        if axes is None:
            if fn.endswith("2"):
                axes = [-2, -1]
            elif s is not None:
                axes = list(range(-len(s), 0))
            else:
                axes = list(range(x[0].ndim))
        if s is None:
            s = default_sizes(x[0], axes, inverse_real)
        return getattr(f, fn)(x[0], s=s, axes=axes, norm=p["norm"])
    if fn in ("fftfreq", "rfftfreq"):
        return getattr(f, fn)(p["n"], p["d"])
    if fn in ("fftshift", "ifftshift"):
        axes = p["axes"]
        if axes is None:
            axes = list(range(x[0].ndim))
        return getattr(f, fn)(x[0], axes=axes)
    raise KeyError(fn)


def fft():
    t = Table(fft_call)
    t.input("x8", normal((8,), 1))
    t.input("x7", normal((7,), 2))
    t.input("x34", normal((3, 4), 3))
    t.input("x234", normal((2, 3, 4), 4))
    c = (normal((3, 4), 5) + 1j * normal((3, 4), 6)).astype(mx.complex64)
    t.input("c34", c)
    t.input("c234", (normal((2, 3, 4), 7) + 1j * normal((2, 3, 4), 8))
            .astype(mx.complex64))
    t.input("h35", mx.fft.rfft(normal((3, 8), 9)))
    t.input("xi", mx.array([1, 2, 3, 4, 5], dtype=mx.int32))
    t.input("x64", normal((6,), 10, mx.float64))
    t.input("x16", normal((6,), 11, mx.float16))
    t.input("s0", mx.array(1.0))
    t.input("e0", mx.zeros((0,)))

    norms = ("backward", "ortho", "forward")
    for fn in ("fft", "ifft"):
        for nm in norms:
            t.case(fn, ["x8"], n=None, axis=-1, norm=nm)
            t.case(fn, ["c34"], n=None, axis=0, norm=nm)
        t.case(fn, ["x8"], n=5, axis=-1, norm="backward")    # truncate
        t.case(fn, ["x7"], n=12, axis=0, norm="backward")    # pad
        t.case(fn, ["c234"], n=None, axis=1, norm="ortho")
    t.case("fft", ["xi"], n=None, axis=-1, norm="backward")
    t.case("fft", ["x64"], n=None, axis=-1, norm="backward")
    t.case("fft", ["x16"], n=None, axis=-1, norm="backward")
    for nm in norms:
        t.case("rfft", ["x8"], n=None, axis=-1, norm=nm)
        t.case("irfft", ["h35"], n=None, axis=-1, norm=nm)
    t.case("rfft", ["x7"], n=None, axis=-1, norm="backward")
    t.case("rfft", ["x34"], n=6, axis=0, norm="backward")
    t.case("rfft", ["c34"], n=None, axis=-1, norm="backward")
    t.case("irfft", ["h35"], n=9, axis=-1, norm="backward")
    t.case("irfft", ["h35"], n=None, axis=0, norm="backward")
    for fn in ("fft2", "ifft2", "fftn", "ifftn"):
        t.case(fn, ["c234"], s=None, axes=None, norm="backward")
        t.case(fn, ["x234"], s=None, axes=[0, 2], norm="ortho")
        t.case(fn, ["c34"], s=[2, 6], axes=None, norm="forward")
    t.case("fftn", ["x234"], s=[3], axes=None, norm="backward")
    t.case("fftn", ["x234"], s=[2, 2], axes=[2, 0], norm="backward")
    for fn in ("rfft2", "rfftn"):
        t.case(fn, ["x234"], s=None, axes=None, norm="backward")
        t.case(fn, ["x234"], s=None, axes=[0, 1], norm="ortho")
        t.case(fn, ["x34"], s=[4, 6], axes=None, norm="forward")
    for fn in ("irfft2", "irfftn"):
        t.case(fn, ["h35"], s=None, axes=None, norm="backward")
        t.case(fn, ["c234"], s=None, axes=[0, 2], norm="ortho")
        t.case(fn, ["h35"], s=[3, 7], axes=None, norm="forward")
    for n, d in ((1, 1.0), (8, 1.0), (7, 0.5), (10, -2.0)):
        t.case("fftfreq", [], n=n, d=d)
        t.case("rfftfreq", [], n=n, d=d)
    for fn in ("fftshift", "ifftshift"):
        t.case(fn, ["x7"], axes=None)
        t.case(fn, ["x234"], axes=None)
        t.case(fn, ["x234"], axes=[1])
        t.case(fn, ["c34"], axes=[0, -1])
        t.case(fn, ["x34"], axes=[])

    # bad inputs
    for fn in ("fft", "ifft", "rfft", "irfft"):
        t.error(fn, ["x34"], n=None, axis=2, norm="backward")
        t.error(fn, ["x34"], n=None, axis=-3, norm="backward")
        t.error(fn, ["x34"], n=0, axis=-1, norm="backward")
        t.error(fn, ["x34"], n=-4, axis=-1, norm="backward")
        t.error(fn, ["s0"], n=None, axis=-1, norm="backward")
        t.error(fn, ["e0"], n=None, axis=0, norm="backward")
    for fn in ("fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn", "rfftn",
               "irfftn"):
        t.error(fn, ["x234"], s=[2, 2], axes=[0], norm="backward")
        t.error(fn, ["x234"], s=None, axes=[1, 1], norm="backward")
        t.error(fn, ["x234"], s=None, axes=[0, 3], norm="backward")
        t.error(fn, ["x234"], s=[0, 2], axes=[0, 1], norm="backward")
        t.error(fn, ["s0"], s=None, axes=None, norm="backward")
    t.error("fft2", ["x8"], s=None, axes=None, norm="backward")
    for fn in ("fftfreq", "rfftfreq"):
        t.error(fn, [], n=0, d=1.0)
        t.error(fn, [], n=-3, d=1.0)
        t.error(fn, [], n=4, d=0.0)
    for fn in ("fftshift", "ifftshift"):
        t.error(fn, ["x34"], axes=[2])
        t.error(fn, ["x34"], axes=[-3])
    t.dump("lfr_fft.json")


# ---------------------------------------------------------------------------
# random
# ---------------------------------------------------------------------------

def operand(t, v):
    """A JSON parameter as Python passes it: an input name or a number."""
    return t.arrays[v] if isinstance(v, str) else v


def random_call(t):
    r = mx.random

    def call(fn, x, p):
        key = x[-1] if p.get("key_input") else (
            r.key(p["key"]) if p.get("key") is not None else None)
        dt = DTYPES[p["dtype"]] if "dtype" in p else None
        if fn == "key":
            return r.key(p["seed"])
        if fn == "split":
            k = r.split(x[0])
            return [k[0], k[1]]
        if fn == "split_n":
            return r.split(x[0], num=p["num"])
        if fn == "bits":
            size = math.prod(p["shape"])
            nbytes = size * p["width"]
            assert nbytes % 8 == 0 and p["width"] in (1, 2, 4)
            words = r.split(key, num=nbytes // 8)
            return words.reshape(-1).view(UINT[p["width"]]).reshape(p["shape"])
        if fn == "uniform":
            return r.uniform(operand(t, p["low"]), operand(t, p["high"]),
                             p["shape"], dtype=dt, key=key)
        if fn == "normal":
            return r.normal(p["shape"], dtype=dt, loc=p["loc"],
                            scale=p["scale"], key=key)
        if fn == "normal_broadcast":
            loc = t.arrays[p["loc"]] if p["loc"] else None
            scale = t.arrays[p["scale"]] if p["scale"] else None
            return r.normal(p["shape"], dtype=dt, loc=loc, scale=scale,
                            key=key)
        if fn == "multivariate_normal":
            return r.multivariate_normal(x[0], x[1], p["shape"], dtype=dt,
                                         key=key)
        if fn == "randint":
            return r.randint(operand(t, p["low"]), operand(t, p["high"]),
                             p["shape"], dtype=dt, key=key)
        if fn == "bernoulli":
            return r.bernoulli(operand(t, p["p"]), p["shape"], key=key)
        if fn == "truncated_normal":
            lower, upper = operand(t, p["lower"]), operand(t, p["upper"])
            shape = p["shape"]
            if shape is None:
                # as mlx-rs: the broadcast shape of the bounds, or lower's
                # shape when they do not broadcast (MLX then says so)
                ls = lower.shape if isinstance(lower, mx.array) else ()
                us = upper.shape if isinstance(upper, mx.array) else ()
                try:
                    shape = list(mx.broadcast_shapes(ls, us))
                except ValueError:
                    shape = list(ls)
            return r.truncated_normal(lower, upper, shape, dtype=dt, key=key)
        if fn == "gumbel":
            return r.gumbel(p["shape"], dtype=dt, key=key)
        if fn == "categorical":
            return r.categorical(x[0], axis=p["axis"], key=key)
        if fn == "categorical_with_shape":
            return r.categorical(x[0], axis=p["axis"], shape=p["shape"],
                                 key=key)
        if fn == "categorical_samples":
            return r.categorical(x[0], axis=p["axis"],
                                 num_samples=p["num_samples"], key=key)
        if fn == "laplace":
            return r.laplace(p["shape"], dtype=dt, loc=p["loc"],
                             scale=p["scale"], key=key)
        if fn == "permutation":
            return r.permutation(x[0], axis=p["axis"], key=key)
        if fn == "permutation_range":
            return r.permutation(p["n"], key=key)
        if fn == "default_state":
            # after seed(s), key-less calls draw from the default state
            r.seed(p["seed"])
            return [r.normal([3]), r.uniform(0.0, 1.0, [2, 2]),
                    r.randint(0, 100, [4]), r.bernoulli(0.5, [3]),
                    r.normal([2])]
        raise KeyError(fn)

    return call


def random():
    t = Table(None)
    t.call = random_call(t)
    t.input("k7", mx.random.key(7))
    t.input("fkey", mx.array([1.0, 2.0]))
    t.input("k3", mx.array([1, 2, 3], dtype=mx.uint32))
    t.input("lo3", mx.array([-1.0, 0.0, 10.0]))
    t.input("hi31", mx.array([[1.0], [2.0], [3.0]]))
    t.input("loc3", mx.array([0.0, 5.0, -5.0]))
    t.input("scale21", mx.array([[1.0], [0.1]]))
    t.input("mean2", mx.array([1.0, -1.0]))
    t.input("cov22", mx.array([[2.0, 0.5], [0.5, 1.0]]))
    t.input("meanb", mx.array([[0.0, 0.0], [10.0, 10.0]]))
    t.input("logits", normal((2, 5), 1))
    t.input("plogits", mx.log(mx.array([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]])))
    t.input("p23", mx.array([[0.1, 0.5, 0.9], [0.0, 1.0, 0.3]]))
    t.input("pi", mx.array([1, 0], dtype=mx.int32))
    t.input("x10", mx.arange(10))
    t.input("x34", mx.arange(12).reshape(3, 4))
    t.input("ri_lo", mx.array([0, 10, 100], dtype=mx.int32))

    for seed in (0, 1, 42, 2**40 + 5):
        t.case("key", [], seed=seed)
    t.case("split", ["k7"])
    t.case("split_n", ["k7"], num=3)
    t.case("split_n", ["k7"], num=1)
    for shape, width in (([3, 4], 4), ([8], 2), ([2, 8], 1), ([6], 4)):
        t.case("bits", [], shape=shape, width=width, key=5)
    for dt in ("float32", "float16", "bfloat16"):
        t.case("uniform", [], low=0.0, high=1.0, shape=[2, 3], dtype=dt, key=1)
        t.case("normal", [], shape=[2, 3], dtype=dt, loc=0.0, scale=1.0, key=2)
        t.case("gumbel", [], shape=[5], dtype=dt, key=3)
        t.case("laplace", [], shape=[5], dtype=dt, loc=0.0, scale=1.0, key=4)
        t.case("truncated_normal", [], lower=-1.0, upper=2.0, shape=[6],
               dtype=dt, key=5)
    t.case("uniform", [], low=-3, high=7, shape=[4], dtype="float32", key=6)
    t.case("uniform", [], low="lo3", high="hi31", shape=[3, 3],
           dtype="float32", key=7)
    t.case("normal", [], shape=[4], dtype="float32", loc=2.5, scale=0.5, key=8)
    t.case("normal", [], shape=[3], dtype="complex64", loc=0.0, scale=1.0,
           key=9)
    t.case("normal", [], shape=[3], dtype="float64", loc=0.0, scale=1.0,
           key=10)
    t.case("normal", [], shape=[], dtype="float32", loc=0.0, scale=1.0, key=11)
    t.case("laplace", [], shape=[3], dtype="float64", loc=0.5, scale=2.0,
           key=42)
    t.case("normal_broadcast", [], shape=[2, 3], dtype="float32", loc="loc3",
           scale="scale21", key=12)
    t.case("normal_broadcast", [], shape=[3], dtype="float32", loc="loc3",
           scale=None, key=13)
    t.case("normal_broadcast", [], shape=[2, 1], dtype="float32", loc=None,
           scale="scale21", key=14)
    # the output takes the broadcast shape of shape, loc and scale
    t.case("normal_broadcast", [], shape=[3], dtype="float32", loc=None,
           scale="scale21", key=41)
    t.case("normal_broadcast", [], shape=[4], dtype="float16", loc=None,
           scale=None, key=15)
    t.case("multivariate_normal", ["mean2", "cov22"], shape=[4],
           dtype="float32", key=16)
    t.case("multivariate_normal", ["meanb", "cov22"], shape=[],
           dtype="float32", key=17)
    t.case("multivariate_normal", ["meanb", "cov22"], shape=[3, 2],
           dtype="float32", key=18)
    t.case("randint", [], low=0, high=10, shape=[8], dtype="int32", key=19)
    t.case("randint", [], low=-5, high=5, shape=[2, 4], dtype="int8", key=20)
    t.case("randint", [], low="ri_lo", high=1000, shape=[2, 3],
           dtype="uint16", key=21)
    t.case("randint", [], low=0, high=2, shape=[5], dtype="bool", key=22)
    t.case("randint", [], low=0, high=2**40, shape=[3], dtype="int64", key=23)
    t.case("bernoulli", [], p=0.3, shape=[10], key=24)
    t.case("bernoulli", [], p="p23", shape=None, key=25)
    t.case("bernoulli", [], p="p23", shape=[4, 2, 3], key=26)
    t.case("truncated_normal", [], lower="lo3", upper=12.0, shape=None,
           dtype="float32", key=27)
    t.case("truncated_normal", [], lower="lo3", upper="hi31", shape=None,
           dtype="float32", key=28)
    t.case("categorical", ["logits"], axis=-1, key=29)
    t.case("categorical", ["logits"], axis=0, key=30)
    t.case("categorical", ["plogits"], axis=1, key=31)
    t.case("categorical_with_shape", ["logits"], axis=-1, shape=[4, 2],
           key=32)
    t.case("categorical_samples", ["logits"], axis=-1, num_samples=6, key=33)
    t.case("categorical_samples", ["plogits"], axis=1, num_samples=20, key=34)
    t.case("laplace", [], shape=[2, 2], dtype="float32", loc=1.0, scale=3.0,
           key=35)
    t.case("permutation", ["x10"], axis=0, key=36)
    t.case("permutation", ["x34"], axis=1, key=37)
    t.case("permutation", ["x34"], axis=-2, key=38)
    t.case("permutation_range", [], n=10, key=39)
    t.case("permutation_range", [], n=1, key=40)
    for seed in (0, 123):
        t.case("default_state", [], seed=seed)
    # explicit-key results do not depend on the default state
    t.case("normal", [], shape=[3], dtype="float32", loc=0.0, scale=1.0,
           key=0)

    # bad inputs (keys: float key, 3-element key)
    for kname in ("fkey", "k3"):
        t.error("split", [kname])
        t.error("split_n", [kname], num=2)
        t.error("normal", [kname], shape=[2], dtype="float32", loc=0.0,
                scale=1.0, key_input=True)
        t.error("uniform", [kname], low=0.0, high=1.0, shape=[2],
                dtype="float32", key_input=True)
        t.error("randint", [kname], low=0, high=3, shape=[2], dtype="int32",
                key_input=True)
        t.error("permutation_range", [kname], n=4, key_input=True)
    t.error("split_n", ["k7"], num=-1)
    t.error("normal", [], shape=[-2], dtype="float32", loc=0.0, scale=1.0,
            key=0)
    t.error("normal", [], shape=[2], dtype="int32", loc=0.0, scale=1.0, key=0)
    t.error("normal_broadcast", [], shape=[2], dtype="float32", loc="loc3",
            scale=None, key=0)
    t.error("normal_broadcast", [], shape=[2], dtype="float32", loc=None,
            scale="lo3", key=0)
    t.error("uniform", [], low=0.0, high=1.0, shape=[2], dtype="int32", key=0)
    t.error("uniform", [], low=0.0, high=1.0, shape=[2], dtype="float64",
            key=0)
    t.error("uniform", [], low="lo3", high=1.0, shape=[2], dtype="float32",
            key=0)
    t.error("randint", [], low=0, high=5, shape=[2], dtype="float32", key=0)
    t.error("randint", [], low="ri_lo", high=5, shape=[2], dtype="int32",
            key=0)
    t.error("bernoulli", [], p="lo3", shape=[2], key=0)
    t.error("bernoulli", [], p="pi", shape=None, key=0)
    t.error("bernoulli", [], p=1, shape=[3], key=0)
    t.error("truncated_normal", [], lower=-1.0, upper=1.0, shape=[2],
            dtype="int32", key=0)
    t.error("truncated_normal", [], lower="lo3", upper=1.0, shape=[2],
            dtype="float32", key=0)
    t.error("truncated_normal", [], lower="lo3", upper="mean2", shape=None,
            dtype="float32", key=0)
    t.error("gumbel", [], shape=[2], dtype="int32", key=0)
    t.error("gumbel", [], shape=[2], dtype="float64", key=0)
    t.error("truncated_normal", [], lower=-1.0, upper=1.0, shape=[2],
            dtype="float64", key=0)
    t.error("laplace", [], shape=[2], dtype="int32", loc=0.0, scale=1.0,
            key=0)
    t.error("categorical", ["logits"], axis=2, key=0)
    t.error("categorical", ["logits"], axis=-3, key=0)
    t.error("categorical_with_shape", ["logits"], axis=-1, shape=[3], key=0)
    t.error("categorical_samples", ["logits"], axis=-1, num_samples=-1,
            key=0)
    t.error("categorical_samples", ["logits"], axis=-1, num_samples=0, key=0)
    t.error("multivariate_normal", ["mean2", "cov22"], shape=[],
            dtype="float16", key=0)
    t.error("multivariate_normal", ["lo3", "cov22"], shape=[],
            dtype="float32", key=0)
    t.error("multivariate_normal", ["mean2", "mean2"], shape=[],
            dtype="float32", key=0)
    t.error("multivariate_normal", ["mean2", "p23"], shape=[],
            dtype="float32", key=0)
    t.error("multivariate_normal", ["meanb", "cov22"], shape=[3],
            dtype="float32", key=0)
    t.error("permutation", ["x10"], axis=1, key=0)
    t.error("permutation", ["x34"], axis=-3, key=0)
    t.error("permutation_range", [], n=-1, key=0)
    t.dump("lfr_random.json")


if __name__ == "__main__":
    linalg()
    fft()
    random()
