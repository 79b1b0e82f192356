"""Goldens for mlx-rs's nn::losses: Python MLX 0.32.2's mlx.nn.losses.

Run from the repository root in a venv with `pip install mlx==0.32.2
mlx-cpu==0.32.2`:

    python3 scripts/golden/losses.py

Writes mlx-rs/tests/golden/losses.json: the inputs and each loss's value,
hex-encoded (each element's bits: the Rust test compares bit for bit).
"""

import os

import mlx.core as mx
import mlx.nn.losses as L

from _common import MLX_VERSION, OUT_DIR, encode_hex, write_json

key = mx.random.key(11)
ks = mx.random.split(key, 12)
X = {
    "logits": mx.random.normal((4, 5), key=ks[0]) * 3,
    "probs": mx.softmax(mx.random.normal((4, 5), key=ks[1]), axis=-1),
    "weights": mx.random.uniform(shape=(4,), key=ks[2]),
    "p": mx.random.normal((4, 5), key=ks[3]),
    "t": mx.random.normal((4, 5), key=ks[4]),
    "u": mx.random.uniform(low=0.01, high=0.99, shape=(4, 5), key=ks[5]),
    "bin": (mx.random.uniform(shape=(4, 5), key=ks[6]) > 0.5).astype(mx.float32),
    "vars": mx.random.uniform(low=0.0, high=2.0, shape=(4, 5), key=ks[7]),
    "n": mx.random.normal((4, 5), key=ks[8]),
    "sgn": mx.where(mx.random.uniform(shape=(4, 5), key=ks[9]) > 0.5, 1.0, -1.0),
    "logp": (lambda z: z - mx.logsumexp(z, axis=-1, keepdims=True))(mx.random.normal((4, 5), key=ks[10])),
    "logq": (lambda z: z - mx.logsumexp(z, axis=-1, keepdims=True))(mx.random.normal((4, 5), key=ks[11])),
}
CLASSES = mx.array([0, 3, 4, 1], mx.int32)

CASES = {
    "ce": L.cross_entropy(X["logits"], CLASSES),
    "ce_mean": L.cross_entropy(X["logits"], CLASSES, reduction="mean"),
    "ce_probs": L.cross_entropy(X["logits"], X["probs"]),
    "ce_smooth": L.cross_entropy(X["logits"], CLASSES, label_smoothing=0.1, reduction="sum"),
    "ce_weights": L.cross_entropy(X["logits"], CLASSES, weights=X["weights"]),
    "ce_axis0": L.cross_entropy(X["logits"].T, CLASSES, axis=0),
    "bce_logits": L.binary_cross_entropy(X["p"], X["bin"]),
    "bce_probs": L.binary_cross_entropy(X["u"], X["bin"], with_logits=False, reduction="none"),
    "l1": L.l1_loss(X["p"], X["t"]),
    "mse": L.mse_loss(X["p"], X["t"], reduction="sum"),
    "nll": L.nll_loss(X["logp"], CLASSES),
    "gaussian_nll": L.gaussian_nll_loss(X["p"], X["t"], X["vars"]),
    "gaussian_nll_full": L.gaussian_nll_loss(X["p"], X["t"], X["vars"], full=True, reduction="none"),
    "kl_div": L.kl_div_loss(X["logp"], X["logq"]),
    "smooth_l1": L.smooth_l1_loss(X["p"], X["t"]),
    "smooth_l1_beta": L.smooth_l1_loss(X["p"], X["t"], beta=0.5, reduction="none"),
    "triplet": L.triplet_loss(X["p"], X["t"], X["n"]),
    "triplet_p1": L.triplet_loss(X["p"], X["t"], X["n"], p=1, margin=0.5, reduction="mean"),
    "hinge": L.hinge_loss(X["p"], X["sgn"]),
    "huber": L.huber_loss(X["p"], X["t"]),
    "huber_delta": L.huber_loss(X["p"], X["t"], delta=0.5, reduction="mean"),
    "log_cosh": L.log_cosh_loss(X["p"], X["t"]),
    "cosine": L.cosine_similarity_loss(X["p"], X["t"]),
    "cosine_axis": L.cosine_similarity_loss(X["p"], X["t"], axis=-1, reduction="sum"),
    "margin_ranking": L.margin_ranking_loss(X["p"], X["t"], X["sgn"]),
    "margin_ranking_m": L.margin_ranking_loss(X["p"], X["t"], X["sgn"], margin=0.3, reduction="mean"),
}


def main():
    out = {
        "mlx_version": MLX_VERSION,
        "inputs": {k: encode_hex(v) for k, v in X.items()},
        "classes": encode_hex(CLASSES),
        "cases": {k: encode_hex(v) for k, v in CASES.items()},
    }
    path = os.path.join(OUT_DIR, "losses.json")
    write_json(path, out, compact=True)
    print(f"wrote {path} ({len(CASES)} cases)")


if __name__ == "__main__":
    main()
