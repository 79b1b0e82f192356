"""Goldens for mlx-rs's trainable nn layers: Python MLX 0.32.2's convolution
and pooling layers (mlx.nn Conv1d/2d/3d, MaxPool1d/2d/3d, AvgPool1d/2d/3d),
Dropout/2d/3d in training mode (the mask from the seeded global state),
RNN/GRU/LSTM, MultiHeadAttention, GroupNorm and InstanceNorm.

Run from the repository root with the venv's Python:

    /work/venv/bin/python scripts/golden/nn_layers_train.py

Each case records, hex-encoded: the layer's parameters as Python initialises
them after mx.random.seed(case seed) (the Rust test checks that its own
constructors give the same bits from the same seed), the input, the output,
and the gradients of sum(layer(x) * c) (c a fixed random cotangent) with
respect to every parameter and to the input.

Writes mlx-rs/tests/golden/nn_train_layers.json.
"""

import os

import mlx.core as mx
import mlx.nn as nn
from mlx.utils import tree_flatten

from _common import MLX_VERSION, OUT_DIR, encode_hex, write_json

CASES = [
    # name, constructor, keyword arguments, input shape
    ("conv1d", nn.Conv1d, dict(in_channels=3, out_channels=4, kernel_size=3, stride=2, padding=1), (2, 9, 3)),
    ("conv1d_groups", nn.Conv1d,
     dict(in_channels=4, out_channels=6, kernel_size=2, dilation=2, groups=2, bias=False), (2, 8, 4)),
    ("conv2d", nn.Conv2d, dict(in_channels=2, out_channels=3, kernel_size=3, stride=(1, 2), padding=(1, 0)),
     (2, 6, 7, 2)),
    ("conv2d_dilated", nn.Conv2d, dict(in_channels=1, out_channels=2, kernel_size=(2, 3), dilation=2),
     (1, 7, 8, 1)),
    ("conv3d", nn.Conv3d, dict(in_channels=2, out_channels=2, kernel_size=2, padding=1), (1, 4, 4, 4, 2)),
    ("max_pool1d", nn.MaxPool1d, dict(kernel_size=3, stride=2, padding=1), (2, 9, 3)),
    ("avg_pool1d", nn.AvgPool1d, dict(kernel_size=2), (2, 8, 3)),
    ("max_pool2d", nn.MaxPool2d, dict(kernel_size=2), (2, 6, 6, 3)),
    ("max_pool2d_overlap", nn.MaxPool2d, dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0)), (2, 7, 5, 2)),
    ("avg_pool2d", nn.AvgPool2d, dict(kernel_size=3, stride=2, padding=1), (2, 7, 7, 2)),
    ("max_pool3d", nn.MaxPool3d, dict(kernel_size=2), (1, 4, 4, 4, 2)),
    ("avg_pool3d", nn.AvgPool3d, dict(kernel_size=2, stride=1), (1, 3, 4, 3, 2)),
]


def case(i, name, ctor, kwargs, shape):
    seed = 100 + i
    mx.random.seed(seed)
    layer = ctor(**kwargs)
    params = dict(tree_flatten(layer.parameters()))
    kx, kc = mx.random.split(mx.random.key(1000 + i))
    x = mx.random.normal(shape, key=kx)
    y = layer(x)
    c = mx.random.normal(y.shape, key=kc)

    def loss(model, x):
        return (model(x) * c).sum()

    if params:
        _, grads = nn.value_and_grad(layer, loss)(layer, x)
        grads = dict(tree_flatten(grads))
    else:
        grads = {}
    dx = mx.grad(lambda x: loss(layer, x))(x)
    args = {k: (list(v) if isinstance(v, tuple) else v) for k, v in kwargs.items()}
    return {
        "seed": seed,
        "args": args,
        "params": {k: encode_hex(v) for k, v in params.items()},
        "x": encode_hex(x),
        "cotangent": encode_hex(c),
        "y": encode_hex(y),
        "grads": {k: encode_hex(v) for k, v in grads.items()},
        "dx": encode_hex(dx),
    }


DROPOUT = [
    ("dropout", nn.Dropout, 0.5, (4, 6)),
    ("dropout_p1", nn.Dropout, 0.1, (3, 5)),
    ("dropout2d", nn.Dropout2d, 0.25, (2, 3, 3, 4)),
    ("dropout3d", nn.Dropout3d, 0.5, (2, 2, 2, 2, 3)),
]


def dropout(i, name, ctor, p, shape):
    """The training-mode output after mx.random.seed(seed): the mask comes
    from the global random state."""
    x = mx.random.normal(shape, key=mx.random.key(2000 + i))
    layer = ctor(p)
    seed = 200 + i
    mx.random.seed(seed)
    y = layer(x)
    return {"seed": seed, "p": p, "x": encode_hex(x), "y": encode_hex(y)}


SEQ = [
    # name, constructor, args, input shape, with an initial hidden (and cell) state
    ("rnn", nn.RNN, (3, 5), (2, 4, 3), False),
    ("rnn_hidden_nobias", nn.RNN, (3, 5, False), (2, 4, 3), True),
    ("gru", nn.GRU, (3, 5), (2, 4, 3), False),
    ("gru_hidden", nn.GRU, (3, 5), (4, 3), True),
    ("gru_nobias", nn.GRU, (3, 5, False), (2, 4, 3), True),
    ("lstm", nn.LSTM, (3, 5), (2, 4, 3), False),
    ("lstm_state_nobias", nn.LSTM, (3, 5, False), (2, 4, 3), True),
]


def sequence(i, name, ctor, args, shape, with_state):
    """Recurrent layers: the seeded init, every step's outputs, and the
    gradients of sum(out * c) (LSTM: hidden and cell outputs each with its
    cotangent) with respect to the parameters."""
    seed = 300 + i
    mx.random.seed(seed)
    layer = ctor(*args)
    params = dict(tree_flatten(layer.parameters()))
    ks = mx.random.split(mx.random.key(3000 + i), 5)
    x = mx.random.normal(shape, key=ks[0])
    hidden = args[1]
    state_shape = shape[:-2] + (hidden,)
    h0 = mx.random.normal(state_shape, key=ks[1]) if with_state else None
    c0 = mx.random.normal(state_shape, key=ks[2]) if with_state else None
    is_lstm = ctor is nn.LSTM

    def run(model):
        return model(x, h0, c0) if is_lstm else (model(x, h0),)

    outs = run(layer)
    cots = [mx.random.normal(o.shape, key=ks[3 + j]) for j, o in enumerate(outs)]

    def loss(model):
        return sum((o * c).sum() for o, c in zip(run(model), cots))

    _, grads = nn.value_and_grad(layer, loss)(layer)
    rec = {
        "seed": seed,
        "args": list(args),
        "params": {k: encode_hex(v) for k, v in params.items()},
        "x": encode_hex(x),
        "outs": [encode_hex(o) for o in outs],
        "cotangents": [encode_hex(c) for c in cots],
        "grads": {k: encode_hex(v) for k, v in dict(tree_flatten(grads)).items()},
    }
    if with_state:
        rec["hidden"] = encode_hex(h0)
        if is_lstm:
            rec["cell"] = encode_hex(c0)
    return rec


def attention():
    """MultiHeadAttention (dims 16, 4 heads, with biases) of queries [2, 5, 16]
    over keys / values [2, 7, 16] with an additive mask, and causal
    self-attention; the gradients of sum(out * c)."""
    out = {}
    for j, (name, causal) in enumerate([("mha_mask", False), ("mha_causal", True)]):
        seed = 400 + j
        mx.random.seed(seed)
        layer = nn.MultiHeadAttention(16, 4, bias=True)
        params = dict(tree_flatten(layer.parameters()))
        ks = mx.random.split(mx.random.key(4000 + j), 5)
        q = mx.random.normal((2, 5, 16), key=ks[0])
        kv_len = 5 if causal else 7
        k = mx.random.normal((2, kv_len, 16), key=ks[1])
        v = mx.random.normal((2, kv_len, 16), key=ks[2])
        mask = "causal" if causal else mx.random.normal((5, 7), key=ks[3])
        if causal:
            k, v = q, q
        y = layer(q, k, v, mask)
        c = mx.random.normal(y.shape, key=ks[4])
        _, grads = nn.value_and_grad(layer, lambda m: (m(q, k, v, mask) * c).sum())(layer)
        out[name] = {
            "seed": seed,
            "params": {n: encode_hex(a) for n, a in params.items()},
            "q": encode_hex(q), "k": encode_hex(k), "v": encode_hex(v),
            "mask": None if causal else encode_hex(mask),
            "y": encode_hex(y),
            "cotangent": encode_hex(c),
            "grads": {n: encode_hex(a) for n, a in dict(tree_flatten(grads)).items()},
        }
    return out


NORMS = [
    ("group_norm", lambda: nn.GroupNorm(2, 6), (2, 4, 3, 6)),
    ("group_norm_pytorch", lambda: nn.GroupNorm(3, 6, pytorch_compatible=True), (2, 5, 6)),
    ("group_norm_plain", lambda: nn.GroupNorm(2, 4, affine=False, eps=1e-3), (3, 4, 4)),
    ("instance_norm", lambda: nn.InstanceNorm(3, affine=True), (2, 4, 5, 3)),
    ("instance_norm_plain", lambda: nn.InstanceNorm(4), (2, 6, 4)),
]


def norm(i, name, ctor, shape):
    """GroupNorm / InstanceNorm with random affine parameters (stored), the
    output and the gradients of sum(out * c)."""
    layer = ctor()
    ks = mx.random.split(mx.random.key(5000 + i), 4)
    if "weight" in layer:
        d = layer.weight.shape[0]
        layer.weight = mx.random.normal((d,), key=ks[0])
        layer.bias = mx.random.normal((d,), key=ks[1])
    x = mx.random.normal(shape, key=ks[2]) * 2 + 0.5
    y = layer(x)
    c = mx.random.normal(y.shape, key=ks[3])
    params = dict(tree_flatten(layer.parameters()))
    grads = {}
    if params:
        _, g = nn.value_and_grad(layer, lambda m: (m(x) * c).sum())(layer)
        grads = dict(tree_flatten(g))
    dx = mx.grad(lambda x: (layer(x) * c).sum())(x)
    return {
        "params": {k: encode_hex(v) for k, v in params.items()},
        "x": encode_hex(x), "y": encode_hex(y), "cotangent": encode_hex(c),
        "grads": {k: encode_hex(v) for k, v in grads.items()}, "dx": encode_hex(dx),
    }


def main():
    out = {
        "mlx_version": MLX_VERSION,
        "cases": {name: case(i, name, ctor, kw, shape) for i, (name, ctor, kw, shape) in enumerate(CASES)},
        "dropout": {name: dropout(i, name, ctor, p, shape) for i, (name, ctor, p, shape) in enumerate(DROPOUT)},
        "recurrent": {c[0]: sequence(i, *c) for i, c in enumerate(SEQ)},
        "attention": attention(),
        "norms": {name: norm(i, name, ctor, shape) for i, (name, ctor, shape) in enumerate(NORMS)},
    }
    path = os.path.join(OUT_DIR, "nn_train_layers.json")
    write_json(path, out, compact=True)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
