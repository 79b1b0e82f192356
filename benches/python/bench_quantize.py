"""Python MLX side of benches/quantize.rs: quantize and dequantize a
[4096, 4096] f32 matrix (affine 4/64, mxfp4, nvfp4), then eval."""

import mlx.core as mx

from _bench import main, normal

DIM = 4096
MODES = {
    "affine4_g64": dict(mode="affine", group_size=64, bits=4),
    "mxfp4": dict(mode="mxfp4", group_size=32, bits=4),
    "nvfp4": dict(mode="nvfp4", group_size=16, bits=4),
}


class Quantize:
    def __init__(self, mode):
        self.params = MODES[mode]
        self.w = normal((DIM, DIM), 0)

    def run(self):
        mx.eval(*mx.quantize(self.w, **self.params))


class Dequantize:
    def __init__(self, mode):
        self.params = MODES[mode]
        self.q = mx.quantize(normal((DIM, DIM), 0), **self.params)
        mx.eval(*self.q)

    def run(self):
        w, scales, *biases = self.q
        biases = biases[0] if biases else None
        mx.eval(mx.dequantize(w, scales, biases, dtype=mx.float32, **self.params))


CASES = {
    "quantize/affine4_g64": lambda args: Quantize("affine4_g64"),
    "quantize/mxfp4": lambda args: Quantize("mxfp4"),
    "quantize/nvfp4": lambda args: Quantize("nvfp4"),
    "quantize/dequantize_affine4_g64": lambda args: Dequantize("affine4_g64"),
    "quantize/dequantize_mxfp4": lambda args: Dequantize("mxfp4"),
    "quantize/dequantize_nvfp4": lambda args: Dequantize("nvfp4"),
}

if __name__ == "__main__":
    main(CASES)
