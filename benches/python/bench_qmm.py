"""Python MLX side of benches/qmm.rs: quantized_matmul of [M, 4096] f32 with
[4096, 4096] affine 4/64 weights (transposed, as a linear layer), then eval."""

import mlx.core as mx

from _bench import main, normal

DIM = 4096


class Qmm:
    def __init__(self, m):
        self.w, self.scales, self.biases = mx.quantize(normal((DIM, DIM), 0), group_size=64, bits=4)
        mx.eval(self.w, self.scales, self.biases)
        self.x = normal((m, DIM), 1)

    def run(self):
        mx.eval(
            mx.quantized_matmul(self.x, self.w, self.scales, self.biases, transpose=True, group_size=64, bits=4)
        )


if __name__ == "__main__":
    main({"qmm/affine4_g64_m1": lambda a: Qmm(1), "qmm/affine4_g64_m32": lambda a: Qmm(32)})
