"""Goldens for mlx-rs's trainable nn layers: Python MLX 0.32.2's convolution
and pooling layers (mlx.nn Conv1d/2d/3d, MaxPool1d/2d/3d, AvgPool1d/2d/3d),
and Dropout/2d/3d in training mode (the mask from the seeded global state).

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


def main():
    out = {
        "mlx_version": MLX_VERSION,
        "cases": {name: case(i, name, ctor, kw, shape) for i, (name, ctor, kw, shape) in enumerate(CASES)},
        "dropout": {name: dropout(i, name, ctor, p, shape) for i, (name, ctor, p, shape) in enumerate(DROPOUT)},
    }
    path = os.path.join(OUT_DIR, "nn_train_layers.json")
    write_json(path, out, compact=True)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
