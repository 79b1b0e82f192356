"""Python mlx-lm 0.32.2's LoRA fine-tuning, for mlx-lm/tests/lora.rs.

Run by that test (when a venv with mlx-lm is present) on the model and data
it prepared, or by hand:

    python3 scripts/golden/lora.py --model DIR --data DIR --out FILE.json \
        [--num-layers 2 --batch-size 2 --iters 20 --learning-rate 1e-4 --seed 0] \
        [--adapters-out DIR] [--rust-adapters DIR] [--prompt-ids 1,2,3 --max-tokens 16]

It trains exactly as `mlx_lm.lora --train` does (mlx_lm.lora.train_model:
mx.random.seed, freeze, linear_to_lora_layers, Adam, the compiled step,
iterate_batches after np.random.seed), reporting every step, and writes

- losses: the training loss of each step (float32 values as Python floats);
- init: the sum of each initial lora_a (the initialisation check);
- permutations: np.random.seed(s); np.random.permutation(n) for a few (s, n);
- python_tokens: greedy ids after training (the adapters trained here);
- rust_tokens: greedy ids with --rust-adapters loaded through mlx_lm.load.

Regenerate the stored golden (mlx-lm/tests/golden/lora.json) with
`MLX_LM_LORA_GOLDEN=write cargo test -p mlx-lm --test lora`.
"""

import argparse
import json
import types

import mlx.core as mx
import numpy as np
from mlx.utils import tree_flatten

from _common import MLX_VERSION  # noqa: F401  (pins MLX, CPU device)

import mlx_lm
from mlx_lm.generate import generate_step
from mlx_lm.lora import CONFIG_DEFAULTS, train_model
from mlx_lm.tuner.callbacks import TrainingCallback
from mlx_lm.tuner.datasets import load_dataset
from mlx_lm.tuner.utils import linear_to_lora_layers

p = argparse.ArgumentParser()
p.add_argument("--model", required=True)
p.add_argument("--data", required=True)
p.add_argument("--out", required=True)
p.add_argument("--num-layers", type=int, default=2)
p.add_argument("--batch-size", type=int, default=2)
p.add_argument("--iters", type=int, default=20)
p.add_argument("--learning-rate", type=float, default=1e-4)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--adapters-out", default=None)
p.add_argument("--rust-adapters", default=None)
p.add_argument("--prompt-ids", default="")
p.add_argument("--max-tokens", type=int, default=16)
a = p.parse_args()


def greedy(model, ids, n):
    out = []
    for tok, _ in generate_step(mx.array(ids), model, max_tokens=n):
        out.append(int(tok))
    return out


args = dict(CONFIG_DEFAULTS)
args.update(
    model=a.model, data=a.data, train=True, num_layers=a.num_layers,
    batch_size=a.batch_size, iters=a.iters, learning_rate=a.learning_rate,
    seed=a.seed, steps_per_report=1, adapter_path=a.adapters_out or "/tmp/lora-golden-adapters",
    lora_parameters=dict(CONFIG_DEFAULTS["lora_parameters"]),
)
args = types.SimpleNamespace(**args)

# the initial adapters, drawn as train_model draws them
model, tokenizer = mlx_lm.load(a.model)
mx.random.seed(a.seed)
model.freeze()
linear_to_lora_layers(model, a.num_layers, args.lora_parameters)
init = {k: float(v.sum()) for k, v in tree_flatten(model.trainable_parameters()) if k.endswith("lora_a")}


class Steps(TrainingCallback):
    def __init__(self):
        self.losses = []

    def on_train_loss_report(self, info):
        self.losses.append(info["train_loss"])


# mlx_lm.lora.run, with a callback that sees every step
np.random.seed(a.seed)
model, tokenizer = mlx_lm.load(a.model)
train_set, valid_set, _ = load_dataset(args, tokenizer)
steps = Steps()
train_model(args, model, train_set, valid_set, steps)
prompt = [int(x) for x in a.prompt_ids.split(",") if x]
out = {
    "mlx_version": mx.__version__,
    "mlx_lm_version": mlx_lm.__version__,
    "hyper": dict(num_layers=a.num_layers, batch_size=a.batch_size, iters=a.iters,
                  learning_rate=a.learning_rate, seed=a.seed, rank=8, scale=20.0),
    "losses": steps.losses,
    "init": init,
    "permutations": [],
    "prompt_ids": prompt,
    "python_tokens": greedy(model, prompt, a.max_tokens) if prompt else [],
}
for s, n in [(0, 4), (0, 10), (7, 1000), (12345, 33)]:
    np.random.seed(s)
    out["permutations"].append({"seed": s, "n": n, "perm": [int(x) for x in np.random.permutation(n)]})
if a.rust_adapters and prompt:
    m2, _ = mlx_lm.load(a.model, adapter_path=a.rust_adapters)
    out["rust_tokens"] = greedy(m2, prompt, a.max_tokens)
with open(a.out, "w") as f:
    json.dump(out, f, indent=1)
