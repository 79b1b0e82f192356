"""Goldens of mlx-lm's KV caches (mlx-lm/tests/caches.rs).

A small random-weight llama (2 layers, hidden 128, 2 query heads and 1
key/value head of 64, vocab 256) and a gemma3_text of the same size with
sliding-window layers (window 32, every other layer) are built with Python
mlx-lm 0.32.2's own classes, parameters drawn as lm_families.py draws them
(parameter `i` in sorted-name order from `mx.random.key(SEED + i)`), and run
on a 300-token sequence with each kind of cache:

- `standard`: mlx-lm's `make_prompt_cache(model)` (gemma3: its own caches,
  rotating ones for the sliding-window layers);
- `rotating`: what `make_prompt_cache(model, max_kv_size=64)` makes for a
  family without its own `make_cache`, RotatingKVCache(64, keep=4) per layer
  (made explicitly: mlx-lm's llama has a `make_cache`, so mlx-lm itself
  ignores max_kv_size for llama; gemma3 keeps its own caches, as in mlx-lm);
- `q4_g64_s0`, `q8_g32_s0`, `q4_g32_s108`, `q8_g64_s108`: standard caches
  quantized by `maybe_quantize_kv_cache` (kv_bits, kv_group_size,
  quantized_kv_start) after every model call, as `generate_step` does.

The sequence is processed as prefill chunks of 40, 40 and 20 tokens, then
one token at a time; the logits of the rows in ROWS are stored. Then 16
greedy tokens of `generate_step` after the first 100 tokens, with
`prefill_step_size=40` and the same cache options.

    /work/venv/bin/python scripts/golden/lm_caches.py
"""

import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import ROOT, encode_hex, write_json  # noqa: E402

import mlx.core as mx  # noqa: E402
from mlx.utils import tree_flatten, tree_unflatten  # noqa: E402
from mlx_lm.generate import generate_step, maybe_quantize_kv_cache  # noqa: E402
from mlx_lm.models.cache import (  # noqa: E402
    RotatingKVCache,
    load_prompt_cache,
    make_prompt_cache,
    save_prompt_cache,
)
from mlx_lm.utils import _get_classes, save_config  # noqa: E402

from lm_families import SEED, draw  # noqa: E402

OUT = os.path.join(ROOT, "mlx-lm", "tests", "golden", "lm_caches.json")
N = 300
TOKENS = [(7 * i * i + 3 * i + 1) % 256 for i in range(N)]
CHUNKS = [(0, 40), (40, 80), (80, 100)]
# Rows whose logits are stored: the last of the prefill, then single steps.
ROWS = [99, 100, 101, 107, 108, 109, 120, 150, 200, 250, 299]
PROMPT = 100
GREEDY = 16
PREFILL_STEP = 40

BASE = {
    "hidden_size": 128,
    "num_hidden_layers": 2,
    "intermediate_size": 128,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "head_dim": 64,
    "rms_norm_eps": 1e-5,
    "vocab_size": 256,
    "max_position_embeddings": 1024,
}

MODELS = {
    "llama": dict(BASE, model_type="llama", rope_theta=10000.0, tie_word_embeddings=False),
    "gemma3_text": dict(BASE, model_type="gemma3_text", rope_theta=1000000.0,
                        rope_local_base_freq=10000.0, query_pre_attn_scalar=64.0,
                        sliding_window=32, sliding_window_pattern=2),
}

# name -> (max_kv_size, kv_bits, kv_group_size, quantized_kv_start)
CASES = {
    "standard": (None, None, 64, 5000),
    "rotating": (64, None, 64, 5000),
    "q4_g64_s0": (None, 4, 64, 0),
    "q8_g32_s0": (None, 8, 32, 0),
    "q4_g32_s108": (None, 4, 32, 108),
    "q8_g64_s108": (None, 8, 64, 108),
}
GEMMA_CASES = ["standard", "rotating"]


def caches(model, max_kv):
    if max_kv is not None and (model.model_type == "llama" or not hasattr(model, "make_cache")):
        return [RotatingKVCache(max_size=max_kv, keep=4) for _ in model.layers]
    return make_prompt_cache(model, max_kv_size=max_kv)


def logits_run(model, case):
    max_kv, bits, group, start = case
    cache = caches(model, max_kv)
    rows = {}

    def call(lo, hi):
        out = model(mx.array([TOKENS[lo:hi]]), cache=cache)
        maybe_quantize_kv_cache(cache, start, group, bits)
        mx.eval(out, [c.state for c in cache])
        if hi - 1 in ROWS:
            rows[hi - 1] = out[0, -1]

    for lo, hi in CHUNKS:
        call(lo, hi)
    for t in range(CHUNKS[-1][1], N):
        call(t, t + 1)
    classes = [type(c).__name__ for c in cache]
    return encode_hex(mx.stack([rows[r] for r in ROWS]).astype(mx.float32)), classes


def greedy_run(model, case):
    max_kv, bits, group, start = case
    ids = []
    for tok, _ in generate_step(mx.array(TOKENS[:PROMPT]), model, max_tokens=GREEDY,
                                prefill_step_size=PREFILL_STEP,
                                prompt_cache=caches(model, max_kv),
                                kv_bits=bits, kv_group_size=group,
                                quantized_kv_start=start):
        ids.append(int(tok))
    return ids


# The prompt-cache files: the caches after the first PROMPT - 1 tokens
# (llama: quantized to 8 bits in groups of 32; gemma3: its rotating and
# standard caches), saved with save_prompt_cache, loaded back, then
# generate_step continues from the last prompt token.
PROMPT_CACHE = {"llama": (8, 32), "gemma3_text": None}


def prompt_cache(name, model):
    quant = PROMPT_CACHE[name]
    cache = make_prompt_cache(model)
    model(mx.array([TOKENS[:PROMPT - 1]]), cache=cache)
    if quant is not None:
        cache = [c.to_quantized(group_size=quant[1], bits=quant[0]) for c in cache]
    mx.eval([c.state for c in cache])
    file = f"prompt_cache_{name}.safetensors"
    path = os.path.join(ROOT, "mlx-lm", "tests", "golden", file)
    save_prompt_cache(path, cache, {"model": name, "tokens": str(PROMPT - 1)})
    cache, meta = load_prompt_cache(path, return_metadata=True)
    ids = []
    kw = {} if quant is None else {"kv_bits": quant[0], "kv_group_size": quant[1],
                                   "quantized_kv_start": 0}
    for tok, _ in generate_step(mx.array(TOKENS[PROMPT - 1:PROMPT]), model, max_tokens=GREEDY,
                                prompt_cache=cache, **kw):
        ids.append(int(tok))
    return {"file": file, "metadata": meta, "classes": [type(c).__name__ for c in cache],
            "kv_bits": None if quant is None else quant[0],
            "kv_group_size": 64 if quant is None else quant[1], "tokens": ids}


def build(config):
    model_cls, args_cls = _get_classes(config)
    model = model_cls(args_cls.from_dict(config))
    params = sorted(tree_flatten(model.parameters()), key=lambda kv: kv[0])
    drawn = [(k, draw(k, v.shape, i)) for i, (k, v) in enumerate(params)]
    model.update(tree_unflatten(drawn))
    mx.eval(model.parameters())
    with tempfile.TemporaryDirectory() as d:
        save_config(dict(config), os.path.join(d, "config.json"))
        with open(os.path.join(d, "config.json")) as f:
            saved = json.load(f)
    return model, saved, [[k, list(v.shape)] for k, v in drawn]


def main():
    doc = {"mlx_lm": __import__("mlx_lm").__version__, "seed": SEED, "tokens": TOKENS,
           "chunks": CHUNKS, "rows": ROWS, "prompt": PROMPT, "greedy": GREEDY,
           "prefill_step": PREFILL_STEP, "models": {}}
    for name, config in MODELS.items():
        model, saved, params = build(config)
        cases = {}
        for case in (CASES if name == "llama" else GEMMA_CASES):
            opts = CASES[case]
            logits, classes = logits_run(model, opts)
            cases[case] = {
                "max_kv_size": opts[0], "kv_bits": opts[1], "kv_group_size": opts[2],
                "quantized_kv_start": opts[3], "logits": logits, "classes": classes,
                "tokens": greedy_run(model, opts),
            }
            doc["models"][name] = {"config": saved, "params": params, "cases": cases,
                               "prompt_cache": prompt_cache(name, model)}
    write_json(OUT, doc, compact=False)
    print(OUT, os.path.getsize(OUT))


if __name__ == "__main__":
    main()
