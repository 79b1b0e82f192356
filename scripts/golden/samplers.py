#!/usr/bin/env python3
"""Golden data for mlx-lm's `sample` module: Python mlx-lm 0.32.2's
`make_sampler` and `make_logits_processors`, run the way `generate_step`
runs them, over a fixed sequence of logits.

For each configuration: `mx.random.seed(seed)`, then for each step the
processors over the tokens so far (a 4-token prompt, then the sampled ids,
joined with `mx.concat` as `generate_step` does), `logprobs = logits -
logsumexp(logits)`, the sampler. The logits of every step are stored (hex
bits), so the Rust test (`mlx-lm/tests/samplers.rs`) replays them and must
draw the same ids. (Python's repetition and presence processors assign
into the logits they get: each step hands them a new array object.) Writes

    mlx-lm/tests/golden/samplers.json

Usage (from the workspace root):

    /work/venv/bin/python scripts/golden/samplers.py
"""

import os

import mlx.core as mx
from mlx_lm.sample_utils import make_logits_processors, make_sampler

from _common import MLX_VERSION, ROOT, encode_hex, write_json

STEPS, VOCAB = 24, 64
PROMPT = [1, 2, 3, 2]
# Peaked enough that the filters matter, flat enough that draws vary.
LOGITS = [
    mx.random.normal((1, VOCAB), key=mx.random.key(100 + i)) * 2.5 for i in range(STEPS)
]

CONFIGS = {
    "temp_1": ({"temp": 1.0}, {}),
    "temp_07_top_p_09": ({"temp": 0.7, "top_p": 0.9}, {}),
    "min_p": ({"temp": 1.0, "min_p": 0.05, "min_tokens_to_keep": 3}, {}),
    "top_k_5": ({"temp": 1.0, "top_k": 5}, {}),
    "xtc": ({"temp": 0.8, "xtc_probability": 0.5, "xtc_threshold": 0.1,
             "xtc_special_tokens": [0]}, {}),
    "all_filters": ({"temp": 1.3, "top_p": 0.95, "min_p": 0.02, "top_k": 10}, {}),
    "greedy_repetition": ({}, {"repetition_penalty": 1.3, "repetition_context_size": 5}),
    "penalties_and_bias": ({"temp": 1.0}, {"presence_penalty": 0.5, "frequency_penalty": 0.7,
                                           "logit_bias": {3: 2.0, 10: -1.5}}),
}


def run(sampler_args, processor_args, seed):
    sampler = make_sampler(**sampler_args)
    processors = make_logits_processors(**processor_args)
    mx.random.seed(seed)
    tokens = mx.array(PROMPT)
    out = []
    for stored in LOGITS:
        # mlx-lm's repetition and presence processors assign into the
        # logits (`logits[:, tokens] = ...` rebinds that Python object):
        # give them a new object, so the stored logits stay as made.
        logits = mx.array(stored)
        for p in processors:
            logits = p(tokens, logits)
        logprobs = logits - mx.logsumexp(logits, keepdims=True)
        y = sampler(logprobs)
        tokens = mx.concat([tokens, y])
        out.append(y.item())
    return out


encoded_logits = [encode_hex(x) for x in LOGITS]
cases = {}
for name, (s, p) in CONFIGS.items():
    cases[name] = {
        "sampler": s,
        "processors": {k: ({str(i): b for i, b in v.items()} if k == "logit_bias" else v)
                       for k, v in p.items()},
        "seeds": {str(seed): run(s, p, seed) for seed in (0, 7)},
    }

doc = {
    "mlx_version": MLX_VERSION,
    "prompt": PROMPT,
    "logits": encoded_logits,
    "cases": cases,
}
out = os.path.join(ROOT, "mlx-lm", "tests", "golden", "samplers.json")
write_json(out, doc, compact=False)
print(f"wrote {out}")
