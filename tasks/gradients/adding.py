"""The adding problem (Hochreiter & Schmidhuber 1997; in the form of Le et al. 2015 and
Arjovsky et al. 2016): read T pairs, output the sum of the two values that are marked.

    t         0     1     2     3     4     5     6     7        T = 8
    value   0.41  0.93  0.07  0.55  0.20  0.68  0.32  0.86       each ~ U(0, 1)
    marker    0     1     0     0     0     0     1     0        exactly two: one in each half
    target  0.93 + 0.32 = 1.25                                   read once, after step T − 1

The first marker falls in the first half [0, T/2), the second in the second half [T/2, T), so
the first marked value has to be carried for up to T − 1 steps and the gradient that teaches
it has to come back as far. A network that ignores the input can do no better than predict
the mean, E[target] = 1, whose mean squared error is Var(target) = 2 · 1/12 = 1/6 ≈ 0.167: the
yardstick. Solved means a test MSE below 0.01 (``SOLVED``).

Every batch is a function of (seed, split, step) alone, drawn by its own generator: step k's
batch is the same in every run and after every resume, and the test set is drawn once.
"""

import numpy as np
import torch
from torch import Tensor

MEAN_MSE = 1 / 6  # MSE of always predicting E[target] = 1: Var of a sum of two U(0, 1)
SOLVED = 0.01  # test MSE below this: the network adds the marked values
TRAIN, TEST = 0, 1  # the split, part of every batch's seed


# --8<-- [start:batch]
def batch(seed: int, split: int, step: int, size: int, seq_len: int) -> tuple[Tensor, Tensor]:
    """``size`` sequences of length T = ``seq_len`` (at least 2): inputs (T, N, 2), time-major,
    channel 0 the values and channel 1 the markers, and targets (N,), both float32."""
    rng = np.random.default_rng([seed, split, step])
    values = rng.random((size, seq_len))  # (N, T)
    half = seq_len // 2
    first = rng.integers(0, half, size)  # (N,): in [0, T/2)
    second = rng.integers(half, seq_len, size)  # (N,): in [T/2, T)
    markers = np.zeros((size, seq_len))
    rows = np.arange(size)
    markers[rows, first] = markers[rows, second] = 1.0
    targets = values[rows, first] + values[rows, second]  # (N,)
    x = np.stack([values, markers], axis=-1).transpose(1, 0, 2)  # (T, N, 2)
    return torch.tensor(x, dtype=torch.float32), torch.tensor(targets, dtype=torch.float32)
    # --8<-- [end:batch]


def mean_mse(targets: Tensor) -> float:
    """The yardstick on these targets: the MSE of predicting E[target] = 1 for every one."""
    return ((targets - 1.0) ** 2).mean().item()
