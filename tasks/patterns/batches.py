"""Which examples training step k reads, and the coins of teacher forcing, as functions of
(seed, k) alone: a resumed run reads the very batches and draws the very coins that an
uninterrupted one would, and scratch and reference, given the same seed, see the same data.

    epoch 0: permutation of (seed, 0)   [ 7 2 9 | 0 4 1 | 8 3 6 | 5 ]   batches of B = 3
             step                          0       1       2      3
    epoch 1: permutation of (seed, 1)   [ 3 8 0 | 6 ...                  step 4 = batch 0 of epoch 1
"""

import math

import numpy as np
import torch
from torch import Tensor

from tasks.errors import BadInput

COINS, SCENES = 1, 2  # streams of random numbers per step, apart from the batch order's


class Batches:
    """Step k's example indices: batch ``k mod E`` of epoch ``k div E``, ``E`` batches an epoch."""

    def __init__(self, size: int, batch_size: int, seed: int, split: str = "training"):
        if size == 0:
            raise BadInput(f"the {split} split is empty: nothing to train on")
        self.size, self.batch_size, self.seed = size, min(batch_size, size), seed
        self.per_epoch = math.ceil(size / self.batch_size)

    def __call__(self, step: int) -> Tensor:
        epoch, k = divmod(step, self.per_epoch)
        order = np.random.default_rng([self.seed, epoch]).permutation(self.size)
        return torch.from_numpy(order[k * self.batch_size : (k + 1) * self.batch_size])


def draws(seed: int, step: int, stream: int) -> np.random.Generator:
    """The random numbers of training step ``step`` for one purpose (``COINS``, ``SCENES``):
    a generator of (seed, step, stream) alone."""
    return np.random.default_rng([seed, step, stream])


def coins(seed: int, step: int, shape: tuple[int, int], ratio: float, unit: str = "step") -> Tensor:
    """Teacher-forcing coins (N, T) of training step ``step``: True where the decoder reads the
    true previous token, False where it reads its own guess, each True with probability
    ``ratio``. ``unit`` "step": one coin per sequence *and* time step (the default; see
    tasks/patterns/decoder.py for why); "sequence": one coin per sequence, for all its steps."""
    n, t = shape
    drawn = draws(seed, step, COINS).random((n, t if unit == "step" else 1)) < ratio
    return torch.from_numpy(drawn).expand(n, t)
