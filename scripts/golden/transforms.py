#!/usr/bin/env python3
"""Golden data for mlx-rs's `transforms` module (grad, vjp, jvp, vmap,
compile, custom_function, checkpoint).

Runs, with Python MLX 0.32.2 on the CPU, cases ported from MLX's
python/tests/test_autograd.py, test_vmap.py and test_compile.py, and the
gradients of quantized_matmul, scaled_dot_product_attention, rms_norm,
layer_norm and rope, and writes

    mlx-rs/tests/golden/transforms_cases.json

Inputs come from `mx.random` with fixed seeds and are stored with the
results (float32 values written as JSON numbers: a float32 widened to a
double prints and parses back exactly), so the Rust tests rebuild them
bit for bit without a random generator of their own.

Usage (from the workspace root):

    /work/venv/bin/python scripts/golden/transforms.py
"""

import json
import os
import sys

import mlx.core as mx

MLX_VERSION = "0.32.2"
if mx.__version__ != MLX_VERSION:
    sys.exit(f"needs MLX {MLX_VERSION}, found {mx.__version__}")

mx.set_default_device(mx.cpu)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "mlx-rs", "tests", "golden", "transforms_cases.json")


def enc(a):
    a = a.astype(mx.float32)
    mx.eval(a)
    return {"shape": list(a.shape), "values": [float(v) for v in a.reshape(-1).tolist()]}


def rand(seed, shape):
    return mx.random.normal(shape, key=mx.random.key(seed))


cases = {}

# test_autograd.py: test_grad / test_value_and_grad with two arguments.
x, y = rand(1, (3,)), rand(2, (3,))
f = lambda x, y: (x * x * y).sum()
v, (gx, gy) = mx.value_and_grad(f, argnums=(0, 1))(x, y)
cases["vg_two_args"] = {"x": enc(x), "y": enc(y), "value": enc(v), "gx": enc(gx), "gy": enc(gy)}

# Second derivative (test_autograd.py: test_grad nested): d2/dx2 sum(x^3 + sin x).
x = rand(3, (4,))
g = mx.grad(lambda x: mx.grad(lambda z: (z ** 3 + mx.sin(z)).sum())(x).sum())
cases["second_order"] = {"x": enc(x), "g": enc(g(x))}

# Auxiliary outputs: value_and_grad of (loss, aux) returns both, grad of loss only.
x = rand(4, (2, 3))
fa = lambda x: ((mx.exp(x) * 0.5).sum(), mx.tanh(x))
(loss, aux), gx = mx.value_and_grad(fa)(x)
cases["aux"] = {"x": enc(x), "loss": enc(loss), "aux": enc(aux), "gx": enc(gx)}

# test_autograd.py: test_jvp / test_vjp with two outputs.
x, y = rand(5, (3,)), rand(6, (3,))
fv = lambda x, y: (x * y + mx.sin(x), mx.exp(y) * x)
c1, c2 = rand(7, (3,)), rand(8, (3,))
outs, vjps = mx.vjp(fv, [x, y], [c1, c2])
t1, t2 = rand(9, (3,)), rand(10, (3,))
_, jvps = mx.jvp(fv, [x, y], [t1, t2])
cases["vjp_jvp"] = {
    "x": enc(x), "y": enc(y), "c1": enc(c1), "c2": enc(c2), "t1": enc(t1), "t2": enc(t2),
    "out0": enc(outs[0]), "out1": enc(outs[1]),
    "vjp0": enc(vjps[0]), "vjp1": enc(vjps[1]), "jvp0": enc(jvps[0]), "jvp1": enc(jvps[1]),
}

# test_vmap.py: vmap of matmul with (0, None) in axes and out axis 1.
a, b = rand(11, (4, 2, 3)), rand(12, (3, 5))
vm = mx.vmap(lambda a, b: a @ b, in_axes=(0, None), out_axes=1)(a, b)
# vmap over axis 1 of a reduction.
c = rand(13, (3, 4, 2))
vs = mx.vmap(lambda c: mx.logsumexp(c, axis=0), in_axes=1)(c)
# per-example gradients: vmap(grad).
w = rand(14, (3,))
pe = mx.vmap(mx.grad(lambda w, x: ((w * x).sum() ** 2)), in_axes=(None, 0))(w, a[:, 0, :])
cases["vmap"] = {
    "a": enc(a), "b": enc(b), "c": enc(c), "w": enc(w),
    "matmul": enc(vm), "logsumexp": enc(vs), "per_example": enc(pe),
}

# test_compile.py: compiled function equals the plain one; gelu-like chain.
x = rand(15, (8,))
gelu = lambda x: x * (1 + mx.erf(x / 1.4142135623730951)) / 2
cases["compile_gelu"] = {"x": enc(x), "y": enc(mx.compile(gelu)(x)), "g": enc(mx.grad(lambda x: mx.compile(gelu)(x).sum())(x))}

# custom_function with a vjp rule (test_autograd.py: test_custom_function).
x = rand(16, (3,))


@mx.custom_function
def cf(x):
    return mx.sin(x)


@cf.vjp
def cf_vjp(primals, cotangent, output):
    return cotangent * 3 * mx.cos(primals)


cases["custom_vjp"] = {"x": enc(x), "g": enc(mx.grad(lambda x: cf(x).sum())(x))}

# checkpoint: same gradient as without.
x = rand(17, (5,))
ck = mx.checkpoint(lambda x: mx.exp(mx.sin(x)).sum())
cases["checkpoint"] = {"x": enc(x), "g": enc(mx.grad(ck)(x))}

# Gradients of fused ops on the CPU.
q = rand(20, (1, 2, 4, 8))
k = rand(21, (1, 2, 4, 8))
vv = rand(22, (1, 2, 4, 8))
scale = 8 ** -0.5
ct = rand(23, (1, 2, 4, 8))
sdpa = lambda q, k, v: mx.fast.scaled_dot_product_attention(q, k, v, scale=scale)
_, g = mx.vjp(sdpa, [q, k, vv], [ct])
cases["sdpa"] = {"q": enc(q), "k": enc(k), "v": enc(vv), "ct": enc(ct), "scale": scale,
                 "gq": enc(g[0]), "gk": enc(g[1]), "gv": enc(g[2])}

x = rand(24, (2, 3, 16))
wt = rand(25, (16,))
bs = rand(26, (16,))
ct = rand(27, (2, 3, 16))
_, g = mx.vjp(lambda x, w: mx.fast.rms_norm(x, w, 1e-5), [x, wt], [ct])
cases["rms_norm"] = {"x": enc(x), "w": enc(wt), "ct": enc(ct), "gx": enc(g[0]), "gw": enc(g[1])}
_, g = mx.vjp(lambda x, w, b: mx.fast.layer_norm(x, w, b, 1e-5), [x, wt, bs], [ct])
cases["layer_norm"] = {"x": enc(x), "w": enc(wt), "b": enc(bs), "ct": enc(ct),
                       "gx": enc(g[0]), "gw": enc(g[1]), "gb": enc(g[2])}
_, g = mx.vjp(lambda x: mx.fast.rope(x, 16, traditional=False, base=10000.0, scale=1.0, offset=3),
              [x], [ct])
cases["rope"] = {"x": enc(x), "ct": enc(ct), "gx": enc(g[0])}

x = rand(28, (3, 64))
wq = rand(29, (8, 64))
qw, qs, qb = mx.quantize(wq, group_size=64, bits=4)
ct = rand(30, (3, 8))
_, g = mx.vjp(lambda x: mx.quantized_matmul(x, qw, qs, qb, transpose=True, group_size=64, bits=4),
              [x], [ct])
cases["quantized_matmul"] = {"x": enc(x), "w": enc(wq), "ct": enc(ct), "gx": enc(g[0])}

# gather_qmm: 4 rows routed to 3 quantized experts; the gradient wrt x.
x = rand(31, (4, 1, 64))
we = rand(32, (3, 8, 64))
qw, qs, qb = mx.quantize(we, group_size=64, bits=4)
rhs = mx.array([2, 0, 1, 2], dtype=mx.uint32)
ct = rand(33, (4, 1, 8))
_, g = mx.vjp(lambda x: mx.gather_qmm(x, qw, qs, qb, rhs_indices=rhs, transpose=True,
                                      group_size=64, bits=4), [x], [ct])
cases["gather_qmm"] = {"x": enc(x), "w": enc(we), "rhs": enc(rhs), "ct": enc(ct), "gx": enc(g[0])}

# nn.value_and_grad over a model's parameter tree (dotted names).
import mlx.nn as nn
from mlx.utils import tree_flatten


class Two(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(3, 4)
        self.l2 = nn.Linear(4, 2)

    def __call__(self, x):
        return self.l2(nn.silu(self.l1(x)))


model = Two()
params = {}
for i, (name, p) in enumerate(tree_flatten(model.parameters())):
    params[name] = rand(40 + i, p.shape)
from mlx.utils import tree_unflatten

model.update(tree_unflatten(list(params.items())))
x, t = rand(50, (5, 3)), rand(51, (5, 2))
loss_and_grad = nn.value_and_grad(model, lambda m, x, t: ((m(x) - t) ** 2).mean())
loss, grads = loss_and_grad(model, x, t)
cases["nn_value_and_grad"] = {
    "params": {k: enc(v) for k, v in params.items()},
    "x": enc(x), "t": enc(t), "loss": enc(loss),
    "grads": {k: enc(v) for k, v in tree_flatten(grads)},
}

with open(OUT, "w") as fh:
    json.dump({"mlx_version": MLX_VERSION, "cases": cases}, fh, separators=(",", ":"))
    fh.write("\n")
print(f"wrote {OUT}")
