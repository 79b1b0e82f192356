"""Python MLX side of benches/sdpa.rs: scaled dot-product attention in f32
with GQA (32 query heads, 8 key/value heads, head dim 128) at a decode shape
(Tq = 1, Tkv = 1024, no mask) and a prefill shape (Tq = Tkv = 512, causal)."""

import mlx.core as mx

from _bench import main, normal

NQ, NKV, D = 32, 8, 128


class Sdpa:
    def __init__(self, tq, tkv, causal):
        self.q = normal((1, NQ, tq, D), 1)
        self.k = normal((1, NKV, tkv, D), 2)
        self.v = normal((1, NKV, tkv, D), 3)
        self.mask = "causal" if causal else None
        self.scale = 1.0 / D**0.5

    def run(self):
        mx.eval(mx.fast.scaled_dot_product_attention(self.q, self.k, self.v, scale=self.scale, mask=self.mask))


if __name__ == "__main__":
    main({"sdpa/decode_gqa": lambda a: Sdpa(1, 1024, False), "sdpa/prefill_gqa": lambda a: Sdpa(512, 512, True)})
