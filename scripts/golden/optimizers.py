"""Goldens for mlx-rs's optimizers: Python MLX 0.32.2's mlx.optimizers.

Run from the repository root in a venv with `pip install mlx==0.32.2
mlx-cpu==0.32.2`:

    python3 scripts/golden/optimizers.py

Writes mlx-rs/tests/golden/optimizers.json. Arrays are stored hex-encoded
(each element's bits), so the Rust test compares bit for bit.
"""

import os

import mlx.core as mx
import mlx.optimizers as optim

from _common import MLX_VERSION, OUT_DIR, encode_hex, write_json

def tree_bits(t):
    return {k: encode_hex(v) for k, v in t.items()}


key = mx.random.key(7)
k1, k2, key = mx.random.split(key, 3)
PARAMS = {"a": mx.random.normal((3, 4), key=k1), "b": mx.random.normal((5,), key=k2)}
GRADS = []
for _ in range(4):
    ka, kb, key = mx.random.split(key, 3)
    GRADS.append({"a": mx.random.normal((3, 4), key=ka), "b": mx.random.normal((5,), key=kb)})

S = optim.schedulers
SCHEDULES = {
    "exponential_decay": lambda: S.exponential_decay(0.1, 0.9),
    "step_decay": lambda: S.step_decay(0.1, 0.5, 3),
    "cosine_decay": lambda: S.cosine_decay(0.1, 10, 0.01),
    "linear_schedule": lambda: S.linear_schedule(0.0, 0.1, 5),
    "join_schedules": lambda: S.join_schedules(
        [S.linear_schedule(0.0, 0.1, 3), S.cosine_decay(0.1, 5)], [3]
    ),
}

# name -> (constructor, kwargs as the Rust test reads them)
OPTIMIZERS = {
    "sgd": (lambda: optim.SGD(0.1), {}),
    "sgd_momentum": (lambda: optim.SGD(0.1, momentum=0.9), {}),
    "sgd_all": (lambda: optim.SGD(0.1, momentum=0.9, weight_decay=0.01, dampening=0.1), {}),
    "sgd_nesterov": (lambda: optim.SGD(0.1, momentum=0.9, nesterov=True), {}),
    "rmsprop": (lambda: optim.RMSprop(0.01), {}),
    "rmsprop_opts": (lambda: optim.RMSprop(0.01, alpha=0.9, eps=1e-6), {}),
    "adagrad": (lambda: optim.Adagrad(0.1), {}),
    "adadelta": (lambda: optim.AdaDelta(1.0), {}),
    "adam": (lambda: optim.Adam(0.01), {}),
    "adam_bias": (lambda: optim.Adam(0.01, bias_correction=True), {}),
    "adamw": (lambda: optim.AdamW(0.01), {}),
    "adamw_opts": (lambda: optim.AdamW(0.01, weight_decay=0.1, bias_correction=True), {}),
    "adamax": (lambda: optim.Adamax(0.01), {}),
    "lion": (lambda: optim.Lion(0.01), {}),
    "lion_wd": (lambda: optim.Lion(0.01, weight_decay=0.1), {}),
    "adam_cosine": (lambda: optim.Adam(SCHEDULES["cosine_decay"]()), {}),
    "sgd_join": (lambda: optim.SGD(SCHEDULES["join_schedules"](), momentum=0.5), {}),
    "adafactor": (lambda: optim.Adafactor(), {}),
    "adafactor_opts": (lambda: optim.Adafactor(0.01, beta_1=0.9, weight_decay=0.01, relative_step=False), {}),
    "adafactor_warmup": (lambda: optim.Adafactor(scale_parameter=False, warmup_init=True), {}),
    "muon": (lambda: optim.Muon(0.02), {}),
    "muon_plain": (lambda: optim.Muon(0.02, momentum=0.9, weight_decay=0.0, nesterov=False, ns_steps=3), {}),
}

# MultiOptimizer: "a" to Adam, the rest ("b") to SGD with momentum; params
# and gradients as for the others. Its state is {"states": [...]}.
MULTI = lambda: optim.MultiOptimizer(
    [optim.Adam(0.01), optim.SGD(0.1, momentum=0.9)], [lambda name, g: name == "a"]
)


def flat_state(state, prefix=""):
    out = {}
    for k, v in state.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flat_state(v, name + "."))
        else:
            out[name] = v
    return out


def main():
    out = {
        "mlx_version": MLX_VERSION,
        "params": tree_bits(PARAMS),
        "grads": [tree_bits(g) for g in GRADS],
    }
    cases = {}
    for name, (make, _) in OPTIMIZERS.items():
        opt = make()
        # Fresh arrays: Adafactor's `parameter += ...` (weight decay)
        # overwrites the caller's parameter arrays in place.
        params = {k: mx.array(v) for k, v in PARAMS.items()}
        steps = []
        for g in GRADS:
            # Fresh array objects: SGD's `gradient += weight_decay * p`
            # overwrites the caller's gradient arrays in place.
            g = {k: mx.array(v) for k, v in g.items()}
            params = opt.apply_gradients(g, params)
            mx.eval(params)
            steps.append(tree_bits(params))
        st = flat_state(opt.state)
        state = {k: encode_hex(v) for k, v in st.items() if k != "step"}
        state["step"] = int(st["step"].item())
        cases[name] = {"steps": steps, "state": state}
    out["optimizers"] = cases
    opt = MULTI()
    params = {k: mx.array(v) for k, v in PARAMS.items()}
    steps = []
    for g in GRADS:
        g = {k: mx.array(v) for k, v in g.items()}
        params = opt.apply_gradients(g, params)
        mx.eval(params)
        steps.append(tree_bits(params))
    state = {}
    for i, st in enumerate(opt.state["states"]):
        for k, v in flat_state(st).items():
            state[f"states.{i}.{k}"] = int(v.item()) if k == "step" else encode_hex(v)
    out["multi"] = {"steps": steps, "state": state}
    out["schedules"] = {
        name: [encode_hex(mx.array(make()(mx.array(s, mx.uint64)))) for s in range(13)]
        for name, make in SCHEDULES.items()
    }
    clips = {}
    for max_norm in [1.0, 100.0]:
        g = {k: mx.array(v) for k, v in GRADS[0].items()}
        clipped, norm = optim.clip_grad_norm(g, max_norm)
        clips[str(max_norm)] = {"grads": tree_bits(clipped), "norm": encode_hex(norm)}
    out["clip_grad_norm"] = clips
    path = os.path.join(OUT_DIR, "optimizers.json")
    write_json(path, out, compact=True)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
