"""What the network is held against on MNIST-1D: yardsticks we compute here, and the numbers
the dataset's author published.

Computed here, on the same test set: the majority class (reads nothing), and a logistic
regression on the 40 raw numbers, softmax(W x + b), fitted by L-BFGS on the cross-entropy plus
``L2`` · ‖W‖², deterministic from zeros. It sees every sample at once but only linearly; its
accuracy checks that our data is the published data: Greydanus reports 32 % for the same model.

Published (Greydanus 2020, the README of github.com/greydanus/mnist1d, test accuracy on this
same split): what a reader can hold our networks against.
"""

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tasks.patterns.digits.data import Split

L2 = 1e-4  # weight of ‖W‖² in the logistic regression's objective
ITERATIONS = 500  # L-BFGS iterations

PUBLISHED = {  # model -> test accuracy, Greydanus (2020), README of the mnist1d repository
    "logistic regression": 0.32,
    "MLP": 0.68,
    "CNN": 0.94,
    "GRU": 0.91,
    "human": 0.96,
}


def majority(train: Split) -> int:
    """The digit most training signals draw."""
    return int(torch.bincount(train.y, minlength=10).argmax())


def logistic_regression(train: Split) -> nn.Linear:
    """softmax(W x + b) on the raw signal, fitted on the training split."""
    linear = nn.Linear(train.x.shape[1], 10)
    nn.init.zeros_(linear.weight)
    nn.init.zeros_(linear.bias)
    optimizer = torch.optim.LBFGS(
        linear.parameters(), max_iter=ITERATIONS, line_search_fn="strong_wolfe"
    )

    def objective() -> Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(linear(train.x), train.y) + L2 * linear.weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(objective)
    return linear
