"""Goldens of mlx-lm's model families (mlx-lm/tests/families.rs).

For each family a small random-weight model (2 layers, hidden 64, vocab
256) is built with Python mlx-lm 0.32.2's own classes, saved as an mlx-lm
directory (float32, and quantized by mlx_lm.utils.quantize_model: affine 4
bits in groups of 64, the `down_proj` layers 8 bits in groups of 32, one
layer left float: a mixed per-layer config), loaded back with mlx-lm's
loader, and run on a fixed token sequence (teacher-forced logits) and
greedily for 32 tokens with mlx-lm's `generate_step` (its own caches).

The directories are not stored (too large): the recipe is. Parameter `i`
of the float model, in sorted-name order, is drawn as
`mx.random.normal(shape, key=mx.random.key(SEED + i))` and scaled by
NORM (`1 + 0.1 n`: names ending in `norm.weight`), BIAS (`0.1 n`: other
1-D) or `n * shape[-1] ** -0.5`; the Rust test draws the same bits with
mlx-rs, quantizes with mlx-rs and checks every tensor of the directory it
writes against the checksums of Python's (`checksum` below).

    /work/venv/bin/python scripts/golden/lm_families.py
"""

import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import ROOT, encode_hex, write_json  # noqa: E402

import mlx.core as mx  # noqa: E402
import numpy as np  # noqa: E402
from mlx.utils import tree_flatten, tree_unflatten  # noqa: E402
from mlx_lm.generate import generate_step  # noqa: E402
from mlx_lm.utils import _get_classes, load_model, quantize_model, save_config, save_model  # noqa: E402

# mlx-lm 0.32.2's QuantizedSwitchLinear passes `global_scale=None` to
# mx.gather_qmm, which MLX 0.32.2 does not take: the same call without it.
import mlx_lm.models.switch_layers as _sl  # noqa: E402


def _qsl_call(self, x, indices, sorted_indices=False):
    x = mx.gather_qmm(x, self["weight"], self["scales"], self.get("biases"),
                      rhs_indices=indices, transpose=True, group_size=self.group_size,
                      bits=self.bits, mode=self.mode, sorted_indices=sorted_indices)
    if "bias" in self:
        x = x + mx.expand_dims(self["bias"][indices], -2)
    return x


_sl.QuantizedSwitchLinear.__call__ = _qsl_call

OUT = os.path.join(ROOT, "mlx-lm", "tests", "golden", "lm_families.json")
SEED = 1000
TOKENS = [(7 * i * i + 3 * i + 1) % 256 for i in range(40)]
LOGIT_ROWS = [0, 13, 26, 39]
PROMPT = TOKENS[:12]
GREEDY = 32

BASE = {
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "intermediate_size": 128,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "rms_norm_eps": 1e-5,
    "vocab_size": 256,
    "max_position_embeddings": 512,
}

FAMILIES = {
    "llama": dict(BASE, rope_theta=10000.0, tie_word_embeddings=False),
    "qwen2": dict(BASE, rope_theta=1000000.0, tie_word_embeddings=True),
    "qwen3": dict(BASE, rope_theta=1000000.0, tie_word_embeddings=True),
    "gemma2": dict(BASE, rope_theta=10000.0, query_pre_attn_scalar=16.0,
                   attn_logit_softcapping=2.0, final_logit_softcapping=3.0),
    "gemma3_text": dict(BASE, rope_theta=1000000.0, rope_local_base_freq=10000.0,
                        query_pre_attn_scalar=16.0, sliding_window=8,
                        sliding_window_pattern=2),
    "phi3": dict({k: v for k, v in BASE.items() if k != "head_dim"},
                 rope_theta=10000.0, tie_word_embeddings=False),
    "mixtral": dict({k: v for k, v in BASE.items() if k != "head_dim"},
                    intermediate_size=64, num_local_experts=4,
                    num_experts_per_tok=2, rope_theta=1000000.0,
                    tie_word_embeddings=False),
    "qwen3_moe": dict(BASE, rope_theta=1000000.0, tie_word_embeddings=False,
                      num_experts=4, num_experts_per_tok=2, decoder_sparse_step=1,
                      mlp_only_layers=[1], moe_intermediate_size=64,
                      norm_topk_prob=True),
}


def draw(name, shape, i):
    n = mx.random.normal(shape, key=mx.random.key(SEED + i))
    if len(shape) == 1:
        return 1 + 0.1 * n if name.endswith("norm.weight") else 0.1 * n
    return n * (shape[-1] ** -0.5)


def checksum(a):
    """sum(byte_j * (j % 251 + 1)) over the raw little-endian bytes, mod 2^64."""
    b = np.frombuffer(np.array(a).tobytes(), np.uint8).astype(np.uint64)
    w = (np.arange(len(b), dtype=np.uint64) % np.uint64(251)) + np.uint64(1)
    return str(int((b * w).sum(dtype=np.uint64)))


def quant_predicate(path, _module):
    if path.endswith("down_proj"):
        return {"group_size": 32, "bits": 8, "mode": "affine"}
    if path == "model.layers.1.self_attn.o_proj":
        return False
    return True


def run(model):
    logits = model(mx.array([TOKENS]))[0]
    rows = mx.stack([logits[r] for r in LOGIT_ROWS])
    ids = []
    for tok, _ in generate_step(mx.array(PROMPT), model, max_tokens=GREEDY):
        ids.append(int(tok))
    return encode_hex(rows.astype(mx.float32)), ids


def family(model_type, cfg):
    config = dict(cfg, model_type=model_type)
    model_cls, args_cls = _get_classes(config)
    model = model_cls(args_cls.from_dict(config))
    params = sorted(tree_flatten(model.parameters()), key=lambda kv: kv[0])
    drawn = [(k, draw(k, v.shape, i)) for i, (k, v) in enumerate(params)]
    model.update(tree_unflatten(drawn))
    mx.eval(model.parameters())
    out = {"config": config, "params": [[k, list(v.shape)] for k, v in drawn]}
    for variant in ["float", "quantized"]:
        with tempfile.TemporaryDirectory() as d:
            m, c = model, dict(config)
            if variant == "quantized":
                m, c = quantize_model(model, c, 64, 4, quant_predicate=quant_predicate)
            save_model(d, m)
            save_config(c, os.path.join(d, "config.json"))
            with open(os.path.join(d, "config.json")) as f:
                saved_config = json.load(f)
            tensors = mx.load(os.path.join(d, "model.safetensors"))
            from pathlib import Path
            loaded, _ = load_model(Path(d))
            logits, ids = run(loaded)
        out[variant] = {
            "config": saved_config,
            "tensors": {k: [str(v.dtype).split(".")[-1], list(v.shape), checksum(v)]
                        for k, v in sorted(tensors.items())},
            "logits": logits,
            "greedy": ids,
        }
    return out


def main():
    doc = {"mlx_lm": __import__("mlx_lm").__version__, "seed": SEED,
           "tokens": TOKENS, "logit_rows": LOGIT_ROWS, "prompt": PROMPT,
           "families": {k: family(k, v) for k, v in FAMILIES.items()}}
    write_json(OUT, doc, compact=False)
    print(OUT, os.path.getsize(OUT))


if __name__ == "__main__":
    main()
