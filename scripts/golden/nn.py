#!/usr/bin/env python3
"""Golden data for mlx-rs's `nn` module (layers, whole-model quantization,
mlx-lm compatibility).

Builds, with Python MLX 0.32.2's `mlx.nn` on the CPU, the same tiny
Llama-style transformer that `mlx-rs/tests/nn_transformer.rs` defines with
`#[derive(Module)]` (GQA attention with RoPE, RMSNorm, SwiGLU MLP, tied
embeddings), fills it with deterministic weights computed from each
parameter's name (the same integer hash in Rust, so no float weights are
stored), and writes

    mlx-rs/tests/golden/nn_cases.json
        layers:  small Linear / LayerNorm / RMSNorm / RoPE / activation cases
        model:   the model's shape and token ids
        runs:    for float and each quantization mode: logits of the full
                 sequence, logits of an incremental (KV-cache) decode, the
                 `quantization` block mlx-lm writes, and every parameter's
                 name, shape and dtype after quantization
    mlx-rs/tests/golden/nn_py_affine4/{config.json,model.safetensors}
    mlx-rs/tests/golden/nn_py_mxfp4/{config.json,model.safetensors}
        the model quantized and saved by Python, for the Python -> Rust test

Arrays are stored as the hex of each element's bits (as quant_fast.py does).

Usage (from the workspace root):

    /tmp/venv-mlx/bin/python scripts/golden/nn.py
    # Rust -> Python check of a directory saved by the Rust test
    # (`MLX_RS_NN_EXPORT=/tmp/dir cargo test -p mlx-rs --test nn_transformer`):
    /tmp/venv-mlx/bin/python scripts/golden/nn.py check /tmp/dir/affine4
"""

import json
import os
import sys

import mlx.core as mx
import mlx.nn as nn
from mlx.utils import tree_flatten

from _common import MLX_VERSION, OUT_DIR, dtype_name, encode_hex, write_json


# ---------------------------------------------------------------- weights

M32 = 0xFFFFFFFF


def fnv1a(name):
    h = 0x811C9DC5
    for b in name.encode():
        h = ((h ^ b) * 0x01000193) & M32
    return h


def mix(h):
    # lowbias32
    h ^= h >> 16
    h = (h * 0x7FEB352D) & M32
    h ^= h >> 15
    h = (h * 0x846CA68B) & M32
    h ^= h >> 16
    return h


def det_values(name, n):
    """n values in [-1, 1], multiples of 1/1000, from the name: the same
    integer computation as `det_values` in the Rust tests."""
    base = fnv1a(name)
    return [((mix((base + i * 0x9E3779B9) & M32) % 2001) - 1000) / 1000 for i in range(n)]


def det_weight(name, shape):
    n = 1
    for d in shape:
        n *= d
    v = det_values(name, n)
    if name.endswith("norm.weight"):
        vals = [1.0 + 0.1 * x for x in v]
    else:
        vals = [0.2 * x for x in v]
    return mx.array(vals, dtype=mx.float32).reshape(shape)


# ---------------------------------------------------------------- model

CFG = dict(vocab=64, dims=32, n_heads=4, n_kv_heads=2, head_dim=8, hidden=48, layers=2,
           rope_base=10000.0, eps=1e-5)
TOKENS = [3, 17, 42, 5, 60, 9, 33]
PREFILL = 4


class Cache:
    """A KV cache with mlx-lm's semantics (offset, append)."""

    def __init__(self):
        self.keys = None
        self.values = None
        self.offset = 0

    def update_and_fetch(self, k, v):
        if self.keys is None:
            self.keys, self.values = k, v
        else:
            self.keys = mx.concatenate([self.keys, k], axis=2)
            self.values = mx.concatenate([self.values, v], axis=2)
        self.offset += k.shape[2]
        return self.keys, self.values


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, h, kv, hd = c["dims"], c["n_heads"], c["n_kv_heads"], c["head_dim"]
        self.n_heads, self.n_kv_heads, self.scale = h, kv, hd**-0.5
        self.q_proj = nn.Linear(d, h * hd, bias=False)
        self.k_proj = nn.Linear(d, kv * hd, bias=False)
        self.v_proj = nn.Linear(d, kv * hd, bias=False)
        self.o_proj = nn.Linear(h * hd, d, bias=False)
        self.rope = nn.RoPE(hd, traditional=False, base=c["rope_base"])

    def __call__(self, x, mask, cache):
        B, L, _ = x.shape
        q = self.q_proj(x).reshape(B, L, self.n_heads, -1).transpose(0, 2, 1, 3)
        k = self.k_proj(x).reshape(B, L, self.n_kv_heads, -1).transpose(0, 2, 1, 3)
        v = self.v_proj(x).reshape(B, L, self.n_kv_heads, -1).transpose(0, 2, 1, 3)
        off = cache.offset if cache is not None else 0
        q = self.rope(q, offset=off)
        k = self.rope(k, offset=off)
        if cache is not None:
            k, v = cache.update_and_fetch(k, v)
        o = mx.fast.scaled_dot_product_attention(q, k, v, scale=self.scale, mask=mask)
        return self.o_proj(o.transpose(0, 2, 1, 3).reshape(B, L, -1))


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gate_proj = nn.Linear(c["dims"], c["hidden"], bias=False)
        self.up_proj = nn.Linear(c["dims"], c["hidden"], bias=False)
        self.down_proj = nn.Linear(c["hidden"], c["dims"], bias=False)

    def __call__(self, x):
        return self.down_proj(nn.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self_attn = Attention(c)
        self.mlp = MLP(c)
        self.input_layernorm = nn.RMSNorm(c["dims"], eps=c["eps"])
        self.post_attention_layernorm = nn.RMSNorm(c["dims"], eps=c["eps"])

    def __call__(self, x, mask, cache):
        h = x + self.self_attn(self.input_layernorm(x), mask, cache)
        return h + self.mlp(self.post_attention_layernorm(h))


class Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab"], c["dims"])
        self.layers = [Block(c) for _ in range(c["layers"])]
        self.norm = nn.RMSNorm(c["dims"], eps=c["eps"])

    def __call__(self, ids, caches=None):
        h = self.embed_tokens(ids)
        L = ids.shape[1]
        mask = "causal" if L > 1 else None
        for i, layer in enumerate(self.layers):
            h = layer(h, mask, caches[i] if caches is not None else None)
        return self.embed_tokens.as_linear(self.norm(h))


def build():
    model = Model(CFG)
    params = tree_flatten(model.parameters())
    model.load_weights([(k, det_weight(k, v.shape)) for k, v in params], strict=True)
    mx.eval(model.parameters())
    return model


def run(model):
    ids = mx.array([TOKENS], dtype=mx.uint32)
    full = model(ids)
    caches = [Cache() for _ in model.layers]
    steps = [model(ids[:, :PREFILL], caches)[:, -1:, :]]
    for t in range(PREFILL, len(TOKENS)):
        steps.append(model(ids[:, t : t + 1], caches))
    inc = mx.concatenate(steps, axis=1)
    return full, inc


MODES = {
    "affine4": dict(mode="affine", group_size=32, bits=4),
    "affine8": dict(mode="affine", group_size=32, bits=8),
    "mxfp4": dict(mode="mxfp4", group_size=32, bits=4),
    "mxfp8": dict(mode="mxfp8", group_size=32, bits=8),
    "nvfp4": dict(mode="nvfp4", group_size=16, bits=4),
}


def quantize_like_mlx_lm(model, q):
    """mlx-lm's `quantize_model`: every layer with `to_quantized` whose
    input dimension is a multiple of the group size."""
    gs = q["group_size"]
    nn.quantize(
        model,
        group_size=gs,
        bits=q["bits"],
        mode=q["mode"],
        class_predicate=lambda p, m: hasattr(m, "to_quantized") and m.weight.shape[-1] % gs == 0,
    )
    return dict(q)


def specs(model):
    return {k: [list(v.shape), dtype_name(v.dtype)] for k, v in tree_flatten(model.parameters())}


def save_dir(model, path, quant):
    os.makedirs(path, exist_ok=True)
    config = {"model_type": "tiny_llama", **CFG}
    if quant is not None:
        config["quantization"] = quant
        config["quantization_config"] = quant
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    mx.save_safetensors(
        os.path.join(path, "model.safetensors"),
        dict(tree_flatten(model.parameters())),
        metadata={"format": "mlx"},
    )


def load_dir(path):
    """mlx-lm's loader: quantize the layers whose `.scales` are in the
    weights, with the config's block, then load strictly."""
    with open(os.path.join(path, "config.json")) as f:
        config = json.load(f)
    weights = mx.load(os.path.join(path, "model.safetensors"))
    model = Model(CFG)
    q = config.get("quantization")
    if q is not None:
        def pred(p, m):
            if p in q:
                return q[p]
            return hasattr(m, "to_quantized") and f"{p}.scales" in weights

        nn.quantize(model, group_size=q["group_size"], bits=q["bits"],
                    mode=q.get("mode", "affine"), class_predicate=pred)
    model.load_weights(list(weights.items()), strict=True)
    return model, weights


# ---------------------------------------------------------------- layers


def layer_cases():
    cases = {}
    x = det_weight("input.x", (2, 3, 8)) * 10  # values in [-2, 2]
    cases["x"] = encode_hex(x)
    lin = nn.Linear(8, 4, bias=True)
    lin.load_weights([("weight", det_weight("lin.weight", (4, 8))),
                      ("bias", det_weight("lin.bias", (4,)))])
    cases["linear_bias"] = encode_hex(lin(x))
    ln = nn.LayerNorm(8, eps=1e-5)
    ln.load_weights([("weight", det_weight("ln.norm.weight", (8,))),
                     ("bias", det_weight("ln.bias", (8,)))])
    cases["layer_norm"] = encode_hex(ln(x))
    rms = nn.RMSNorm(8, eps=1e-5)
    rms.load_weights([("weight", det_weight("rms.norm.weight", (8,)))])
    cases["rms_norm"] = encode_hex(rms(x))
    rope = nn.RoPE(8, traditional=False, base=10000.0)
    cases["rope_offset3"] = encode_hex(rope(x, offset=3))
    cases["silu"] = encode_hex(nn.silu(x))
    cases["gelu"] = encode_hex(nn.gelu(x))
    cases["gelu_approx"] = encode_hex(nn.gelu_approx(x))
    cases["gelu_fast_approx"] = encode_hex(nn.gelu_fast_approx(x))
    emb = nn.Embedding(10, 8)
    emb.load_weights([("weight", det_weight("emb.weight", (10, 8)))])
    ids = mx.array([[1, 9, 0], [4, 4, 2]], dtype=mx.uint32)
    cases["embedding"] = encode_hex(emb(ids))
    cases["embedding_as_linear"] = encode_hex(emb.as_linear(x))
    return cases


def generate():
    out = {"mlx_version": MLX_VERSION, "config": CFG, "tokens": TOKENS, "prefill": PREFILL,
           "layers": layer_cases(), "runs": {}}
    model = build()
    full, inc = run(model)
    out["runs"]["float"] = {"logits": encode_hex(full), "incremental": encode_hex(inc), "specs": specs(model),
                            "quantization": None}
    for name, q in MODES.items():
        model = build()
        block = quantize_like_mlx_lm(model, q)
        full, inc = run(model)
        out["runs"][name] = {"logits": encode_hex(full), "incremental": encode_hex(inc),
                             "specs": specs(model), "quantization": block}
        if name in ("affine4", "mxfp4"):
            path = os.path.join(OUT_DIR, f"nn_py_{name}")
            save_dir(model, path, block)
            # The saved directory loads back (mlx-lm's way) to the same logits.
            m2, _ = load_dir(path)
            f2, _ = run(m2)
            assert mx.array_equal(f2, full).item()
    write_json(os.path.join(OUT_DIR, "nn_cases.json"), out, compact=False, newline=False)


def check(path):
    """Loads a directory saved by Rust, as mlx-lm does, and compares its
    logits with the golden run of the same mode (the directory's name)."""
    with open(os.path.join(OUT_DIR, "nn_cases.json")) as f:
        golden = json.load(f)
    name = os.path.basename(os.path.normpath(path))
    model, weights = load_dir(path)
    got = specs(model)
    want = golden["runs"][name]["specs"]
    assert got == want, f"specs differ: {set(got.items()) ^ set(want.items())}"
    file_specs = {k: [list(v.shape), dtype_name(v.dtype)] for k, v in weights.items()}
    assert file_specs == want, "file keys/shapes/dtypes differ from Python's"
    full, _ = run(model)
    ref, _ = run(build_quantized(name))
    diff = mx.abs(full - ref).max().item()
    print(f"{name}: {len(weights)} tensors, keys/shapes/dtypes identical, "
          f"max |logits - python| = {diff}")
    assert diff <= 1e-4, diff


def build_quantized(name):
    model = build()
    if name != "float":
        quantize_like_mlx_lm(model, MODES[name])
    return model


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "check":
        for p in sys.argv[2:]:
            check(p)
    else:
        generate()
