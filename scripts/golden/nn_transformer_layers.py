"""Goldens for mlx-rs's Transformer layers: Python MLX 0.32.2's
nn.TransformerEncoderLayer / TransformerEncoder / TransformerDecoderLayer /
TransformerDecoder / Transformer (dropout 0, so deterministic).

Run from the repository root with the venv's Python:

    /work/venv/bin/python scripts/golden/nn_transformer_layers.py

Each case records, hex-encoded: the parameters as Python initialises them
after mx.random.seed(case seed), the inputs and additive masks, the output,
and the gradients of sum(out * c) with respect to every parameter.

Writes mlx-rs/tests/golden/nn_transformer_layers.json.
"""

import os

import mlx.core as mx
import mlx.nn as nn
from mlx.utils import tree_flatten

from _common import MLX_VERSION, OUT_DIR, encode_hex, write_json

D, H, M = 16, 4, 24

CASES = [
    # name, constructor, kind
    ("encoder_layer_pre", lambda: nn.TransformerEncoderLayer(D, H, M), "enc"),
    ("encoder_layer_post", lambda: nn.TransformerEncoderLayer(D, H, M, norm_first=False), "enc"),
    ("encoder", lambda: nn.TransformerEncoder(2, D, H), "enc"),
    ("decoder_layer_pre", lambda: nn.TransformerDecoderLayer(D, H, M), "dec"),
    ("decoder_layer_post", lambda: nn.TransformerDecoderLayer(D, H, M, norm_first=False), "dec"),
    ("decoder", lambda: nn.TransformerDecoder(2, D, H, M), "dec"),
    ("transformer", lambda: nn.Transformer(D, H, 1, 2, M), "full"),
    ("transformer_post", lambda: nn.Transformer(D, H, 2, 1, M, norm_first=False), "full"),
]


def case(i, name, ctor, kind):
    seed = 900 + i
    mx.random.seed(seed)
    layer = ctor()
    params = dict(tree_flatten(layer.parameters()))
    ks = mx.random.split(mx.random.key(9000 + i), 5)
    src = mx.random.normal((2, 5, D), key=ks[0])
    tgt = mx.random.normal((2, 4, D), key=ks[1])
    src_mask = nn.MultiHeadAttention.create_additive_causal_mask(5)
    tgt_mask = nn.MultiHeadAttention.create_additive_causal_mask(4)
    mem_mask = mx.random.normal((4, 5), key=ks[2])

    def run(m):
        if kind == "enc":
            return m(src, src_mask)
        if kind == "dec":
            return m(tgt, src, tgt_mask, mem_mask)
        return m(src, tgt, src_mask, tgt_mask, mem_mask)

    y = run(layer)
    c = mx.random.normal(y.shape, key=ks[3])
    _, grads = nn.value_and_grad(layer, lambda m: (run(m) * c).sum())(layer)
    return {
        "seed": seed, "kind": kind,
        "params": {k: encode_hex(v) for k, v in params.items()},
        "src": encode_hex(src), "tgt": encode_hex(tgt),
        "src_mask": encode_hex(src_mask), "tgt_mask": encode_hex(tgt_mask),
        "mem_mask": encode_hex(mem_mask),
        "y": encode_hex(y), "cotangent": encode_hex(c),
        "grads": {k: encode_hex(v) for k, v in dict(tree_flatten(grads)).items()},
    }


def main():
    out = {
        "mlx_version": MLX_VERSION,
        "cases": {name: case(i, name, ctor, kind) for i, (name, ctor, kind) in enumerate(CASES)},
    }
    path = os.path.join(OUT_DIR, "nn_transformer_layers.json")
    write_json(path, out, compact=True)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
