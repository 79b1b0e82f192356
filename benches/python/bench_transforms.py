"""Python MLX side of benches/transforms.rs: the gradient of a 2-layer MLP,
and an elementwise chain of 100 ops plain and compiled (the transform is
made once, as in tests/support/bench/transforms.rs)."""

import mlx.core as mx

from _bench import main, normal

MLP = (64, 256, 256, 10)
CHAIN = 100
CHAIN_LEN = 4096


def mlp_loss(w1, b1, w2, b2, x, y):
    h = mx.maximum(x @ w1 + b1, 0.0)
    d = h @ w2 + b2 - y
    return (d * d).mean()


class MlpGrad:
    def __init__(self, args):
        n, i, h, o = MLP
        self.args = [normal((i, h), 1), normal((h,), 2), normal((h, o), 3),
                     normal((o,), 4), normal((n, i), 5), normal((n, o), 6)]
        self.f = mx.value_and_grad(mlp_loss, argnums=(0, 1, 2, 3))

    def run(self):
        value, grads = self.f(*self.args)
        mx.eval(value, grads)


def chain(x, a, b):
    for _ in range(CHAIN // 2):
        x = x * a + b
    return x


def chain_inputs():
    args = [normal((CHAIN_LEN,), 7), mx.full((CHAIN_LEN,), 0.999), mx.full((CHAIN_LEN,), 0.001)]
    mx.eval(args)
    return args


class ChainPlain:
    def __init__(self, args):
        self.args = chain_inputs()

    def run(self):
        mx.eval(chain(*self.args))


class ChainCompiled:
    def __init__(self, args):
        self.args = chain_inputs()
        self.f = mx.compile(chain)

    def run(self):
        mx.eval(self.f(*self.args))


if __name__ == "__main__":
    main({
        "transforms/mlp_grad": MlpGrad,
        "transforms/chain_100_plain": ChainPlain,
        "transforms/chain_100_compiled": ChainCompiled,
    })
