"""MNIST-1D (Greydanus 2020), made on this machine by the ``mnist1d`` package's own generator.

Each example is one of ten 1-D digit templates (12 points each), padded, translated, scaled,
sheared, blurred by correlated noise and resampled to 40 points, then the whole set centred
and scaled to unit standard deviation. The published set is 5,000 examples from the
generator's default arguments (seed 42): the first 4,000 train, the last 1,000 test.

The package's ``get_dataset`` would download a pickle of that set (or read one from the working
folder); we call its generator ``make_dataset`` with ``get_dataset_args()`` instead, which
builds the same examples from the templates, offline, in about two seconds. The generator
seeds NumPy's and Python's global generators (seed 42); ``generate`` puts both back as they
were, so that making the data changes nothing else a run draws.
"""

import functools
import random
from dataclasses import dataclass

import numpy as np
import torch
from mnist1d.data import get_dataset_args, make_dataset
from torch import Tensor

CLASSES = tuple(str(digit) for digit in range(10))
LENGTH = 40  # steps of every example (the generator's final_seq_length)


@dataclass
class Split:
    """Signals (N, 40) as float32, one number a step, and their digits (N,)."""

    x: Tensor
    y: Tensor

    def __len__(self) -> int:
        return len(self.y)


@functools.cache
def generate() -> tuple[Split, Split]:
    """(training split, test split): the package's default arguments, 4,000 and 1,000."""
    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:
        made = make_dataset(get_dataset_args())
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)
    return (
        Split(torch.tensor(made["x"], dtype=torch.float32), torch.tensor(made["y"])),
        Split(torch.tensor(made["x_test"], dtype=torch.float32), torch.tensor(made["y_test"])),
    )


def splits(max_examples: int = 0) -> tuple[Split, Split]:
    """(training examples, test examples); ``max_examples`` > 0 keeps the first N for training."""
    train, test = generate()
    if max_examples:
        train = Split(train.x[:max_examples], train.y[:max_examples])
    return train, test
