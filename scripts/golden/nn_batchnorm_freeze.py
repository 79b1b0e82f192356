"""Goldens for mlx-rs's BatchNorm and freeze/unfreeze: Python MLX 0.32.2's
nn.BatchNorm and Module.freeze / unfreeze / trainable_parameters.

Run from the repository root with the venv's Python:

    /work/venv/bin/python scripts/golden/nn_batchnorm_freeze.py

BatchNorm cases record, hex-encoded: three training steps (the input, the
output, the running statistics after the step, and the gradients of
sum(out * c) with respect to weight, bias and the input), then the output
in evaluation mode. Freeze cases record the names of the trainable
parameters after a sequence of freeze/unfreeze calls on a small model.

Writes mlx-rs/tests/golden/nn_batchnorm_freeze.json.
"""

import os

import mlx.core as mx
import mlx.nn as nn
from mlx.utils import tree_flatten, tree_unflatten

from _common import MLX_VERSION, OUT_DIR, encode_hex, write_json

BN = [
    # name, keyword arguments, input shape
    ("bn_2d", dict(num_features=4), (6, 4)),
    ("bn_3d", dict(num_features=3, momentum=0.3), (2, 5, 3)),
    ("bn_4d", dict(num_features=2, eps=1e-3), (2, 3, 4, 2)),
    ("bn_no_affine", dict(num_features=3, affine=False), (4, 3)),
    ("bn_no_stats", dict(num_features=3, track_running_stats=False), (5, 3)),
]


def batch_norm(i, name, kw, shape):
    layer = nn.BatchNorm(**kw)
    ks = mx.random.split(mx.random.key(7000 + i), 8)
    if "weight" in layer:
        layer.weight = mx.random.uniform(0.5, 1.5, layer.weight.shape, key=ks[6])
        layer.bias = mx.random.normal(layer.bias.shape, key=ks[7])
    init = {k: encode_hex(v) for k, v in tree_flatten(layer.parameters())}
    steps = []
    for s in range(3):
        x = mx.random.normal(shape, key=ks[2 * s]) * (s + 1) + s
        c = mx.random.normal(shape, key=ks[2 * s + 1])
        trainable = dict(tree_flatten(layer.trainable_parameters()))

        def loss(m, x):
            return (m(x) * c).sum()

        before = dict(tree_flatten(layer.parameters()))
        if trainable:
            value, grads = nn.value_and_grad(layer, loss)(layer, x)
        else:
            value, grads = loss(layer, x), {}
        after = dict(tree_flatten(layer.parameters()))

        def restore(p):
            layer.update(tree_unflatten(list(p.items())))

        # The output and dx from the state before the step (each call in
        # training mode updates the running statistics once more).
        restore(before)
        y = layer(x)
        restore(before)
        dx = mx.grad(lambda x: (layer(x) * c).sum())(x)
        restore(after)
        steps.append({
            "x": encode_hex(x), "cotangent": encode_hex(c), "y": encode_hex(y),
            "loss": encode_hex(value), "dx": encode_hex(dx),
            "trainable": sorted(trainable),
            "grads": {k: encode_hex(v) for k, v in tree_flatten(grads)},
            "after": {k: encode_hex(v) for k, v in after.items()},
        })
    layer.eval()
    x = mx.random.normal(shape, key=mx.random.key(7100 + i))
    return {
        "kwargs": kw, "params": init, "steps": steps,
        "eval_x": encode_hex(x), "eval_y": encode_hex(layer(x)),
    }


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(2, 2)
        self.norm = nn.BatchNorm(2)
        self.scale = mx.ones((2,))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(2, 2, bias=False)
        self.layers = [Block(), Block()]
        self.head = nn.Linear(2, 1)


# name, a list of (call, path, keyword arguments)
FREEZE = [
    ("fresh", []),
    ("freeze_all", [("freeze", "", {})]),
    ("freeze_all_unfreeze_all", [("freeze", "", {}), ("unfreeze", "", {})]),
    ("freeze_layer", [("freeze", "layers.0", {})]),
    ("freeze_keys", [("freeze", "", {"keys": ["bias"]})]),
    ("freeze_keys_no_recurse", [("freeze", "layers.1", {"keys": ["scale", "proj"], "recurse": False})]),
    ("unfreeze_part", [("freeze", "", {}), ("unfreeze", "layers.1", {"keys": ["weight"]})]),
    ("unfreeze_no_recurse", [("freeze", "", {}), ("unfreeze", "layers.0", {"recurse": False})]),
]


def at(model, path):
    m = model
    for p in path.split(".") if path else []:
        m = m[int(p)] if isinstance(m, list) else getattr(m, p)
    return m


def freeze_case(calls):
    net = Net()
    for call, path, kw in calls:
        getattr(at(net, path), call)(**kw)
    return {
        "calls": [[c, p, kw] for c, p, kw in calls],
        "parameters": sorted(k for k, _ in tree_flatten(net.parameters())),
        "trainable": sorted(k for k, _ in tree_flatten(net.trainable_parameters())),
    }


def main():
    out = {
        "mlx_version": MLX_VERSION,
        "batch_norm": {name: batch_norm(i, name, kw, shape) for i, (name, kw, shape) in enumerate(BN)},
        "freeze": {name: freeze_case(calls) for name, calls in FREEZE},
    }
    try:
        nn.Linear(2, 2).freeze(keys=["nope"], strict=True)
    except KeyError as e:
        out["strict_error"] = str(e)
    path = os.path.join(OUT_DIR, "nn_batchnorm_freeze.json")
    write_json(path, out, compact=True)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
