"""Goldens for mlx-rs's nn activations and initializers: Python MLX 0.32.2's
mlx.nn activation functions (mlx/nn/layers/activations.py, most of them
compiled with mx.compile(shapeless=True)), its activation layers and its
mlx.nn.init initializers.

Run from the repository root with the venv's Python:

    /work/venv/bin/python scripts/golden/nn_activations.py

Records, hex-encoded:
- "x": one fixed input [4, 16] (seeded normals times 4, then zeros of both
  signs, the kinks of the piecewise functions and large magnitudes), in
  float32; "x_low": the same input in bfloat16 and float16;
- "functions": for each case the function's name, its arguments after x,
  the dtype, the output and the gradient of sum(f(x) * c) with respect to x
  (c a fixed random cotangent of the output's shape and dtype);
- "layers": each activation layer's output on x (PReLU: its initial weight,
  and the gradients with respect to its weight and to x);
- "compose": a chain of activations called directly, under mx.compile
  and under mx.vmap;
- "init": each initializer's output after mx.random.seed(seed), for a
  shape and its arguments (all of mlx.nn.init: constant, normal, uniform,
  identity, glorot_normal/uniform, he_normal/uniform, sparse, orthogonal).

Writes mlx-rs/tests/golden/nn_activations.json.
"""

import os

import mlx.core as mx
import mlx.nn as nn
from mlx.utils import tree_flatten

from _common import MLX_VERSION, OUT_DIR, dtype_name, encode_hex, write_json

SPECIALS = [0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 3.0, -3.0, 6.0, -6.0, 20.0, -20.0, 100.0, -100.0, 1e4, -1e30]


def make_x():
    normals = mx.random.normal((48,), key=mx.random.key(7)) * 4
    return mx.concatenate([normals, mx.array(SPECIALS)]).reshape(4, 16)


# name (an mlx.nn function), arguments after x, dtypes
LOW = ["float32", "bfloat16", "float16"]
FUNCTIONS = [
    ("sigmoid", [], LOW),
    ("relu", [], ["float32"]),
    ("relu2", [], ["float32"]),
    ("relu6", [], LOW),
    ("leaky_relu", [0.01], ["float32"]),
    ("leaky_relu", [0.2], ["float32"]),
    ("log_softmax", [-1], LOW),
    ("log_softmax", [0], ["float32"]),
    ("elu", [1.0], LOW),
    ("elu", [0.5], ["float32"]),
    ("softmax", [-1], LOW),
    ("softmax", [0], ["float32"]),
    ("softplus", [], LOW),
    ("softsign", [], ["float32"]),
    ("softshrink", [0.5], ["float32"]),
    ("softshrink", [1.3], ["float32"]),
    ("celu", [1.0], LOW),
    ("celu", [0.7], ["float32"]),
    ("silu", [], LOW),
    ("log_sigmoid", [], LOW),
    ("gelu", [], LOW),
    ("gelu_approx", [], LOW),
    ("gelu_fast_approx", [], LOW),
    ("glu", [-1], LOW),
    ("glu", [0], ["float32"]),
    ("step", [0.0], ["float32"]),
    ("step", [0.5], ["float32"]),
    ("selu", [], LOW),
    ("mish", [], LOW),
    ("hardswish", [], LOW),
    ("hard_tanh", [-1.0, 1.0], ["float32"]),
    ("hard_tanh", [-0.5, 2.0], ["float32"]),
    ("hard_shrink", [0.5], ["float32"]),
    ("hard_shrink", [1.0], ["float32"]),
    ("softmin", [-1], ["float32"]),
    ("softmin", [0], ["float32"]),
    ("tanh", [], ["float32"]),
]


def function(i, name, args, x):
    f = getattr(nn, name)
    y = f(x, *args)
    c = mx.random.normal(y.shape, key=mx.random.key(100 + i)).astype(x.dtype)
    dx = mx.grad(lambda x: (f(x, *args) * c).sum())(x)
    return {
        "name": name,
        "args": args,
        "dtype": dtype_name(x.dtype),
        "y": encode_hex(y),
        "cotangent": encode_hex(c),
        "dx": encode_hex(dx),
    }


def prelu_cases(x):
    """nn.prelu with a per-channel alpha [16] and a single alpha [1]."""
    out = []
    for j, alpha in enumerate([mx.random.uniform(shape=(16,), key=mx.random.key(300)), mx.array([0.25])]):
        y = nn.prelu(x, alpha)
        c = mx.random.normal(y.shape, key=mx.random.key(310 + j))
        dx, da = mx.grad(lambda x, a: (nn.prelu(x, a) * c).sum(), argnums=(0, 1))(x, alpha)
        out.append({
            "alpha": encode_hex(alpha), "y": encode_hex(y), "cotangent": encode_hex(c),
            "dx": encode_hex(dx), "dalpha": encode_hex(da),
        })
    return out


# name, constructor, its arguments
LAYERS = [
    ("GLU", nn.GLU, [0]), ("Sigmoid", nn.Sigmoid, []), ("Mish", nn.Mish, []), ("ReLU", nn.ReLU, []),
    ("ReLU2", nn.ReLU2, []), ("ReLU6", nn.ReLU6, []), ("LeakyReLU", nn.LeakyReLU, [0.3]),
    ("ELU", nn.ELU, [0.8]), ("Softmax", nn.Softmax, []), ("Softplus", nn.Softplus, []),
    ("Softsign", nn.Softsign, []), ("Softshrink", nn.Softshrink, [0.7]), ("CELU", nn.CELU, [1.5]),
    ("SiLU", nn.SiLU, []), ("LogSoftmax", nn.LogSoftmax, []), ("LogSigmoid", nn.LogSigmoid, []),
    ("GELU", nn.GELU, ["none"]), ("GELU_precise", nn.GELU, ["precise"]), ("GELU_tanh", nn.GELU, ["tanh"]),
    ("GELU_fast", nn.GELU, ["fast"]), ("Tanh", nn.Tanh, []), ("Hardswish", nn.Hardswish, []),
    ("Step", nn.Step, [0.25]), ("SELU", nn.SELU, []), ("HardTanh", nn.HardTanh, []),
    ("HardShrink", nn.HardShrink, [0.9]), ("Softmin", nn.Softmin, []),
]


def layers(x):
    out = {name: {"args": args, "y": encode_hex(ctor(*args)(x))} for name, ctor, args in LAYERS}
    for name, args in [("PReLU", []), ("PReLU_16", [16, 0.1])]:
        layer = nn.PReLU(*args)
        params = dict(tree_flatten(layer.parameters()))
        y = layer(x)
        c = mx.random.normal(y.shape, key=mx.random.key(320))
        loss = lambda m, x: (m(x) * c).sum()
        _, grads = nn.value_and_grad(layer, loss)(layer, x)
        dx = mx.grad(lambda x: loss(layer, x))(x)
        out[name] = {
            "args": args,
            "params": {k: encode_hex(v) for k, v in params.items()},
            "y": encode_hex(y), "cotangent": encode_hex(c),
            "grads": {k: encode_hex(v) for k, v in dict(tree_flatten(grads)).items()},
            "dx": encode_hex(dx),
        }
    return out


# name, builder arguments, shape, call keyword arguments (gain, mode)
INIT = [
    ("constant", dict(value=0.5), (3, 4), {}),
    ("constant", dict(value=-2.25, dtype="float16"), (2, 3, 2), {}),
    ("normal", dict(), (2, 3), {}),
    ("normal", dict(mean=1.0, std=0.5), (5, 7), {}),
    ("normal", dict(mean=-0.3, std=2.0, dtype="bfloat16"), (4, 6), {}),
    ("uniform", dict(), (4, 5), {}),
    ("uniform", dict(low=-2.0, high=3.0, dtype="float16"), (3, 3, 3), {}),
    ("identity", dict(), (4, 4), {}),
    ("identity", dict(dtype="bfloat16"), (3, 3), {}),
    ("glorot_normal", dict(), (8, 5), {}),
    ("glorot_normal", dict(), (6, 3, 4), dict(gain=2.0)),
    ("glorot_uniform", dict(), (8, 5), {}),
    ("glorot_uniform", dict(dtype="float16"), (4, 2, 3, 5), dict(gain=0.5)),
    ("he_normal", dict(), (8, 5), {}),
    ("he_normal", dict(), (8, 5), dict(mode="fan_out", gain=5.0)),
    ("he_normal", dict(), (3, 2, 2, 7), dict(mode="fan_in", gain=1.5)),
    ("he_uniform", dict(), (8, 5), {}),
    ("he_uniform", dict(), (6, 4), dict(mode="fan_out", gain=3.0)),
    ("he_uniform", dict(dtype="bfloat16"), (5, 3, 2), dict(mode="fan_out")),
    ("sparse", dict(sparsity=0.5), (4, 6), {}),
    ("sparse", dict(sparsity=0.34, mean=1.0, std=0.1, dtype="bfloat16"), (5, 3), {}),
    ("sparse", dict(sparsity=0.0), (2, 3), {}),
    ("sparse", dict(sparsity=1.5), (2, 3), {}),
    ("orthogonal", dict(), (4, 4), {}),
    ("orthogonal", dict(gain=2.0), (3, 5), {}),
    ("orthogonal", dict(gain=0.5, dtype="float16"), (6, 2), {}),
]


def init_cases():
    out = []
    for i, (name, kwargs, shape, call) in enumerate(INIT):
        seed = 500 + i
        kw = {k: (getattr(mx, v) if k == "dtype" else v) for k, v in kwargs.items()}
        fn = getattr(nn.init, name)(**kw)
        mx.random.seed(seed)
        y = fn(mx.zeros(shape), **call)
        out.append({"name": name, "seed": seed, "args": kwargs, "shape": list(shape), "call": call,
                    "y": encode_hex(y)})
    return out


def compose(x):
    """A chain of compiled activations called directly, inside a user's
    mx.compile, and under mx.vmap over the rows."""
    chain = lambda x: nn.log_softmax(nn.mish(nn.celu(nn.gelu(x), 0.7)))
    return {
        "direct": encode_hex(chain(x)),
        "compiled": encode_hex(mx.compile(chain)(x)),
        "vmap": encode_hex(mx.vmap(chain)(x)),
    }


def main():
    x = make_x()
    lows = {d: x.astype(getattr(mx, d)) for d in ["bfloat16", "float16"]}
    xs = {"float32": x, **lows}
    out = {
        "mlx_version": MLX_VERSION,
        "x": encode_hex(x),
        "x_low": {d: encode_hex(v) for d, v in lows.items()},
        "functions": [function(i, name, args, xs[d]) for i, (name, args, dtypes) in enumerate(FUNCTIONS)
                      for d in dtypes],
        "prelu": prelu_cases(x),
        "layers": layers(x),
        "init": init_cases(),
        "compose": compose(x),
    }
    path = os.path.join(OUT_DIR, "nn_activations.json")
    write_json(path, out, compact=True)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
