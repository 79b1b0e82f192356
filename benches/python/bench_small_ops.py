"""Python MLX side of benches/small_ops.rs: one small op, then eval."""

import mlx.core as mx

from _bench import main, normal


class AddEval:
    def __init__(self, args):
        self.a, self.b = normal((4,), 1), normal((4,), 2)

    def run(self):
        mx.eval(self.a + self.b)


class MatmulEval:
    def __init__(self, args):
        self.a, self.b = normal((64, 64), 1), normal((64, 64), 2)

    def run(self):
        mx.eval(self.a @ self.b)


if __name__ == "__main__":
    main({"small_ops/add_eval": AddEval, "small_ops/matmul_64_eval": MatmulEval})
