"""Python MLX side of benches/llm.rs: SmolLM2-135M (the mlx-lm directory the
runner converts: affine 4/64, float parts in f32), a greedy decode step (16 per
timed batch, from fresh caches holding a 32-token prompt), and the 128-token
prefill.

The model is mlx-lm's own Llama and KVCache (the `mlx_lm` package,
imported without its top-level `__init__`, which pulls in huggingface_hub
and transformers); where mlx-lm is not installed it falls back to the
repository's reference model, scripts/reference/llama_mlx.py (its cache
concatenates instead of growing in steps of 256, like mlx-lm's and
mlx-rs's); the JSON line says which ("model_impl")."""

import glob
import importlib.util
import json
import os
import sys
import types

import mlx.core as mx
import mlx.nn as nn

from _bench import main

PROMPT_TOKENS = 128
DECODE_CONTEXT = 32
FIRST_DECODE_TOKEN = 42
HERE = os.path.dirname(os.path.abspath(__file__))


def prompt(vocab, n):
    ids = [(7919 * i + 13) % vocab for i in range(n)]
    return mx.array([ids], dtype=mx.uint32)


def load_mlx_lm(path):
    """mlx-lm's model and cache for an mlx-lm directory, or None."""
    spec = importlib.util.find_spec("mlx_lm")
    if spec is None or not spec.submodule_search_locations:
        return None
    if "mlx_lm" not in sys.modules:
        pkg = types.ModuleType("mlx_lm")
        pkg.__path__ = list(spec.submodule_search_locations)
        sys.modules["mlx_lm"] = pkg
    from mlx_lm.models import llama
    from mlx_lm.models.cache import KVCache

    with open(os.path.join(path, "config.json")) as f:
        config = json.load(f)
    model = llama.Model(llama.ModelArgs.from_dict(config))
    weights = {}
    for file in sorted(glob.glob(os.path.join(path, "*.safetensors"))):
        weights.update(mx.load(file))
    weights = model.sanitize(weights)
    q = config.get("quantization")
    if q is not None:
        nn.quantize(
            model,
            group_size=q["group_size"],
            bits=q["bits"],
            mode=q.get("mode", "affine"),
            class_predicate=lambda p, m: hasattr(m, "to_quantized") and f"{p}.scales" in weights,
        )
    model.eval()
    model.load_weights(list(weights.items()), strict=True)
    mx.eval(model.parameters())
    n = len(model.layers)
    return model, config, (lambda: [KVCache() for _ in range(n)]), "mlx-lm " + mlx_lm_version(spec)


def mlx_lm_version(spec):
    try:
        from importlib.metadata import version

        return version("mlx-lm")
    except Exception:
        return "?"


def load_reference(path):
    sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts", "reference"))
    import llama_mlx

    model, config = llama_mlx.load(path)
    n = len(model.model.layers)
    return model, config, (lambda: [[None, None] for _ in range(n)]), "scripts/reference/llama_mlx.py"


def load(args):
    if not args.model_dir:
        raise SystemExit("the LLM cases need --model-dir")
    return load_mlx_lm(args.model_dir) or load_reference(args.model_dir)


class Decode:
    def __init__(self, args):
        self.model, config, self.new_cache, impl = load(args)
        self.info = {"model_impl": impl}
        self.prompt = prompt(config["vocab_size"], DECODE_CONTEXT)

    def reset(self):
        self.cache = self.new_cache()
        mx.eval(mx.argmax(self.model(self.prompt, self.cache), axis=-1))
        self.y = mx.array([[FIRST_DECODE_TOKEN]], dtype=mx.uint32)

    def run(self):
        self.y = mx.argmax(self.model(self.y, self.cache), axis=-1)
        mx.eval(self.y)


class Prefill:
    def __init__(self, args):
        self.model, config, self.new_cache, impl = load(args)
        self.info = {"model_impl": impl}
        self.prompt = prompt(config["vocab_size"], PROMPT_TOKENS)

    def run(self):
        mx.eval(mx.argmax(self.model(self.prompt, self.new_cache()), axis=-1))


if __name__ == "__main__":
    main({"llm/smollm2_decode": Decode, "llm/smollm2_prefill_128": Prefill})
