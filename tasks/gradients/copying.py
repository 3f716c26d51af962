"""The copy-memory task (Hochreiter & Schmidhuber 1997; in the form of Arjovsky et al. 2016):
read ten symbols, wait through a gap of T blanks, then write the ten symbols back.

    t        0 … 9        10 … T+8       T+9      T+10 … T+19      T + 20 steps in all
    input    3 1 7 … 5    0 0 … 0        9        0 0 … 0          symbols 1–8, blank 0, cue 9
    target   0 0 0 … 0    0 0 … 0        0        3 1 7 … 5        blank until the cue's end

The loss is the cross-entropy of every step's prediction, averaged over all T + 20 steps. A
network that remembers nothing can still learn when to write: blank for the first T + 10 steps
(loss 0) and, for the last ten, any of the 8 symbols with probability 1/8 (ln 8 each). Its loss,
10 ln 8 / (T + 20) nats a step, is the yardstick (``memoryless``): a network below it has
carried something across the gap, which takes a gradient that survives T steps back.
"Solved" here means a test loss below a tenth of it (``solved``).

Every batch is a function of (seed, split, step) alone, drawn by its own generator, as in the
adding problem (adding.py).
"""

import math

import numpy as np
import torch
from torch import Tensor

SYMBOLS = 8  # the symbols to copy are 1..8
SHOWN = 10  # how many are shown and copied
BLANK, CUE = 0, 9
CLASSES = 10  # blank, the 8 symbols, the cue: the one-hot input and the output's classes
TRAIN, TEST = 0, 1


def memoryless(gap: int) -> float:
    """The yardstick: cross-entropy per step of a network that writes blank, then guesses."""
    return SHOWN * math.log(SYMBOLS) / (gap + 2 * SHOWN)


def solved(gap: int) -> float:
    """A test loss below this counts as solved: a tenth of the memoryless loss."""
    return memoryless(gap) / 10


def batch(seed: int, split: int, step: int, size: int, gap: int) -> tuple[Tensor, Tensor]:
    """``size`` sequences with a gap of ``gap`` blanks: inputs (T + 20, N, 10) one-hot,
    time-major, float32, and targets (T + 20, N), class ids."""
    rng = np.random.default_rng([seed, split, step])
    length = gap + 2 * SHOWN
    symbols = rng.integers(1, SYMBOLS + 1, (size, SHOWN))  # (N, 10)
    inputs = np.full((size, length), BLANK)
    inputs[:, :SHOWN] = symbols
    inputs[:, gap + SHOWN - 1] = CUE  # the last blank of the gap becomes the cue
    targets = np.full((size, length), BLANK)
    targets[:, -SHOWN:] = symbols
    x = torch.nn.functional.one_hot(torch.from_numpy(inputs.T), CLASSES).float()  # (T+20, N, 10)
    return x, torch.from_numpy(targets.T).contiguous()
