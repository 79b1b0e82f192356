"""Checks, in Python mlx-lm 0.32.2, the prompt-cache files Rust wrote.

Run the Rust test with MLX_LM_PROMPT_CACHE_OUT=DIR
(`cargo test -p mlx-lm --test caches prompt_cache`), then

    /work/venv/bin/python scripts/golden/lm_caches_rust_files.py DIR

Each file must load with `load_prompt_cache` and continue to the tokens of
the golden (the ones Python gets from its own file).
"""
import json, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mlx.core as mx
from mlx_lm.generate import generate_step
from mlx_lm.models.cache import load_prompt_cache
import lm_caches as L
d = json.load(open(L.OUT))
for name, config in L.MODELS.items():
    model, _, _ = L.build(config)
    g = d["models"][name]["prompt_cache"]
    cache, meta = load_prompt_cache(os.path.join(sys.argv[1], g["file"]), return_metadata=True)
    kw = {} if g["kv_bits"] is None else {"kv_bits": g["kv_bits"], "kv_group_size": g["kv_group_size"], "quantized_kv_start": 0}
    ids = [int(t) for t, _ in generate_step(mx.array(L.TOKENS[L.PROMPT-1:L.PROMPT]), model, max_tokens=L.GREEDY, prompt_cache=cache, **kw)]
    ok = ids == g["tokens"]
    print(name, meta, [type(c).__name__ for c in cache], "same tokens" if ok else f"DIFFERENT: {ids}")
    if not ok:
        sys.exit(1)
