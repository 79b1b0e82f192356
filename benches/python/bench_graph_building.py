"""Python MLX side of benches/graph_building.rs: a chain of 100 small adds,
built and never evaluated (see _bench.py for the protocol)."""

import mlx.core as mx

from _bench import main

CHAIN = 100


class AddChain:
    def __init__(self, args):
        self.b = mx.ones((4,), dtype=mx.float32)
        mx.eval(self.b)

    def run(self):
        x = self.b
        for _ in range(CHAIN):
            x = x + self.b
        return x


class AddChainOnStream(AddChain):
    """The same chain with mx.add on a stream looked up once."""

    def __init__(self, args):
        super().__init__(args)
        self.stream = mx.default_stream(mx.default_device())

    def run(self):
        x, b, s = self.b, self.b, self.stream
        for _ in range(CHAIN):
            x = mx.add(x, b, stream=s)
        return x


if __name__ == "__main__":
    main({"graph_building/add_chain_100": AddChain, "graph_building/add_chain_100_on_stream": AddChainOnStream})
