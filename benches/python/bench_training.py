"""Python MLX side of benches/training.rs: one training step
(nn.value_and_grad, Adam update, mx.eval of the parameters, the optimizer
state and the loss) of the digits MLP (64-32-10) and CNN (conv 16, conv 32,
128-64-10) of examples/train_digits.rs, on a fixed batch of 32 uniform
"images" and labels i mod 10, Adam with lr 1e-3."""

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim

from _bench import main


class Mlp(nn.Module):
    INPUT = (64,)

    def __init__(self):
        super().__init__()
        self.layers = [nn.Linear(64, 32), nn.Linear(32, 10)]

    def __call__(self, x):
        return self.layers[1](nn.relu(self.layers[0](x)))


class Cnn(nn.Module):
    INPUT = (8, 8, 1)

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = nn.Linear(128, 64)
        self.fc2 = nn.Linear(64, 10)
        self.pool = nn.MaxPool2d(2)

    def __call__(self, x):
        h = self.pool(nn.relu(self.conv1(x)))
        h = self.pool(nn.relu(self.conv2(h)))
        h = nn.relu(self.fc1(h.reshape(h.shape[0], -1)))
        return self.fc2(h)


def loss_fn(model, x, y):
    return nn.losses.cross_entropy(model(x), y, reduction="mean")


class TrainStep:
    def __init__(self, model):
        self.model = model
        self.opt = optim.Adam(learning_rate=1e-3)
        self.x = mx.random.uniform(shape=(32, *model.INPUT), key=mx.random.key(5))
        self.y = mx.array([i % 10 for i in range(32)], mx.int32)
        self.step = nn.value_and_grad(model, loss_fn)
        mx.eval(self.x, model.parameters())

    def run(self):
        loss, grads = self.step(self.model, self.x, self.y)
        self.opt.update(self.model, grads)
        mx.eval(self.model.parameters(), self.opt.state, loss)


if __name__ == "__main__":
    main({
        "training/digits_mlp_step": lambda a: TrainStep(Mlp()),
        "training/digits_cnn_step": lambda a: TrainStep(Cnn()),
    })
