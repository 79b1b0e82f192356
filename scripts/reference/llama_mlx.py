"""Python MLX reference implementation of the Llama model that mlx-lm's
Rust code runs (mlx-lm/src/llama.rs): for parity tests and the quality
table, not shipped.

It loads an mlx-lm layout directory (config.json with an optional
`quantization` block + *.safetensors), builds the model with mlx.nn
(QuantizedLinear / QuantizedEmbedding where the weights are quantized, as
mlx-lm's loader does), and either

  * decodes greedily:   --prompt-ids '[1, 2, 3]' --max-tokens 32
  * or scores a text:   --loglik-ids '[...]'  (mean log-likelihood of each
                        token given the ones before it)

and prints JSON (also written to --out). Token ids come from the Rust
tokenizer (or any tokenizer): this script needs only mlx.

    /tmp/venv-mlx/bin/python scripts/reference/llama_mlx.py --model DIR \\
        --prompt-ids "$(cat ids.json)" --max-tokens 32 --out expected.json
"""

import argparse
import glob
import json
import math
import os

import mlx.core as mx
import mlx.nn as nn


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        dims, self.n_heads, self.n_kv_heads = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
        self.head_dim = c.get("head_dim") or dims // self.n_heads
        bias = c.get("attention_bias", False)
        self.q_proj = nn.Linear(dims, self.n_heads * self.head_dim, bias=bias)
        self.k_proj = nn.Linear(dims, self.n_kv_heads * self.head_dim, bias=bias)
        self.v_proj = nn.Linear(dims, self.n_kv_heads * self.head_dim, bias=bias)
        self.o_proj = nn.Linear(self.n_heads * self.head_dim, dims, bias=bias)
        self.rope = nn.RoPE(self.head_dim, traditional=c.get("rope_traditional", False), base=c.get("rope_theta", 10000.0))
        self.scale = self.head_dim**-0.5

    def __call__(self, x, cache):
        B, L, _ = x.shape
        q = self.q_proj(x).reshape(B, L, self.n_heads, -1).transpose(0, 2, 1, 3)
        k = self.k_proj(x).reshape(B, L, self.n_kv_heads, -1).transpose(0, 2, 1, 3)
        v = self.v_proj(x).reshape(B, L, self.n_kv_heads, -1).transpose(0, 2, 1, 3)
        offset = 0 if cache is None or cache[0] is None else cache[0].shape[2]
        q = self.rope(q, offset=offset)
        k = self.rope(k, offset=offset)
        if cache is not None:
            if cache[0] is not None:
                k = mx.concatenate([cache[0], k], axis=2)
                v = mx.concatenate([cache[1], v], axis=2)
            cache[0], cache[1] = k, v
        mask = "causal" if L > 1 else None
        o = mx.fast.scaled_dot_product_attention(q, k, v, scale=self.scale, mask=mask)
        return self.o_proj(o.transpose(0, 2, 1, 3).reshape(B, L, -1))


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        dims, hidden, bias = c["hidden_size"], c["intermediate_size"], c.get("mlp_bias", False)
        self.gate_proj = nn.Linear(dims, hidden, bias=bias)
        self.up_proj = nn.Linear(dims, hidden, bias=bias)
        self.down_proj = nn.Linear(hidden, dims, bias=bias)

    def __call__(self, x):
        return self.down_proj(nn.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self_attn = Attention(c)
        self.mlp = MLP(c)
        self.input_layernorm = nn.RMSNorm(c["hidden_size"], eps=c["rms_norm_eps"])
        self.post_attention_layernorm = nn.RMSNorm(c["hidden_size"], eps=c["rms_norm_eps"])

    def __call__(self, x, cache):
        h = x + self.self_attn(self.input_layernorm(x), cache)
        return h + self.mlp(self.post_attention_layernorm(h))


class Inner(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = [Block(c) for _ in range(c["num_hidden_layers"])]
        self.norm = nn.RMSNorm(c["hidden_size"], eps=c["rms_norm_eps"])


class Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.tied = c.get("tie_word_embeddings", True)
        self.model = Inner(c)
        if not self.tied:
            self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)

    def __call__(self, ids, caches=None):
        h = self.model.embed_tokens(ids)
        for i, layer in enumerate(self.model.layers):
            h = layer(h, None if caches is None else caches[i])
        h = self.model.norm(h)
        return self.model.embed_tokens.as_linear(h) if self.tied else self.lm_head(h)


def load(path, compute_dtype=None):
    with open(os.path.join(path, "config.json")) as f:
        config = json.load(f)
    weights = {}
    for file in sorted(glob.glob(os.path.join(path, "*.safetensors"))):
        weights.update(mx.load(file))
    model = Model(config)
    q = config.get("quantization")
    if q is not None:

        def predicate(p, m):
            if not hasattr(m, "to_quantized") or f"{p}.scales" not in weights:
                return False
            entry = q.get(p)
            return entry if isinstance(entry, dict) else True

        nn.quantize(model, q["group_size"], q["bits"], mode=q.get("mode", "affine"), class_predicate=predicate)
    model.load_weights(list(weights.items()), strict=True)
    if compute_dtype is not None:
        # Float parameters (norms, affine scales/biases) only, as mlx-lm's Rust loader does.
        from mlx.utils import tree_map

        model.update(tree_map(lambda a: a.astype(compute_dtype) if mx.issubdtype(a.dtype, mx.floating) else a, model.parameters()))
    mx.eval(model.parameters())
    return model, config


def greedy(model, prompt_ids, max_tokens, eos_ids=()):
    caches = [[None, None] for _ in model.model.layers]
    logits = model(mx.array([prompt_ids]), caches)
    out = []
    for _ in range(max_tokens):
        y = mx.argmax(logits[:, -1, :], axis=-1)
        tok = y.item()
        out.append(tok)
        if tok in eos_ids:
            break
        logits = model(y[:, None], caches)
    return out


def mean_loglik(model, ids):
    logits = model(mx.array([ids])).astype(mx.float32)
    logp = logits[0, :-1] - mx.logsumexp(logits[0, :-1], axis=-1, keepdims=True)
    targets = mx.array(ids[1:])
    ll = mx.take_along_axis(logp, targets[:, None], axis=-1)
    return mx.mean(ll).item()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="mlx-lm layout directory")
    ap.add_argument("--prompt-ids", help="JSON list of prompt token ids")
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--eos-ids", default="[]", help="JSON list of ids that stop decoding")
    ap.add_argument("--loglik-ids", help="JSON list of token ids to score")
    ap.add_argument("--dtype", default="float32", help="compute dtype of the float parameters ('stored': keep)")
    ap.add_argument("--out", help="also write the JSON here")
    args = ap.parse_args()
    mx.set_default_device(mx.cpu)
    model, config = load(args.model, None if args.dtype == "stored" else getattr(mx, args.dtype))
    result = {
        "model": os.path.basename(os.path.normpath(args.model)),
        "quantization": config.get("quantization"),
        "dtype": args.dtype,
    }
    if args.prompt_ids:
        prompt = json.loads(args.prompt_ids)
        result["prompt_ids"] = prompt
        result["max_tokens"] = args.max_tokens
        result["ids"] = greedy(model, prompt, args.max_tokens, set(json.loads(args.eos_ids)))
    if args.loglik_ids:
        ids = json.loads(args.loglik_ids)
        ll = mean_loglik(model, ids)
        result["tokens"] = len(ids)
        result["mean_loglik"] = ll
        result["perplexity"] = math.exp(-ll)
    text = json.dumps(result)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
