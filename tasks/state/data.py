"""The two state-tracking problems: a sequence of symbols, and at every step the running state.

    parity:  bits      1 0 1 1 0 1        running sum mod 2:  1 1 0 1 1 0
    mod5:    digits    3 4 4 0 2 1        running sum mod 5:  3 2 1 1 3 4

A network that has learnt the problem keeps that state in h_t: the next label is the previous
one moved by the symbol (a permutation of the states), so the same rule holds at every step and
at any length. Trained on length TRAIN_LEN, a network is tested on the label of the last step of
longer sequences, up to 256: what it learnt is the rule, or a function of lengths it has seen.

Each batch is a function of (seed, split, index) alone, so a resumed run reads the same data.
"""

from dataclasses import dataclass

import torch

TRAIN, TEST = 0, 1  # the split, part of every batch's seed
TEST_LENGTHS = (40, 64, 96, 128, 192, 256)  # held-out lengths: the label of the last step


@dataclass(frozen=True)
class Problem:
    name: str
    symbols: int  # input vocabulary: bits or digits
    states: int  # the modulus: label classes

    @property
    def chance(self) -> float:
        """Accuracy of guessing (and of the majority class: the labels are uniform)."""
        return 1.0 / self.states


PROBLEMS = {
    "parity": Problem("parity", symbols=2, states=2),
    "mod5": Problem("mod5", symbols=5, states=5),  # the digits of base 5
}


def batch(problem: Problem, seed: int, split: int, index: int, size: int, length: int):
    """x (length, size, symbols) one-hot, float32, and the running labels y (length, size)."""
    g = torch.Generator().manual_seed(((seed * 2 + split) * 1_000_003 + index) * 1031 + length)
    symbols = torch.randint(problem.symbols, (length, size), generator=g)
    labels = symbols.cumsum(0) % problem.states  # the running state                (T, N)
    x = torch.nn.functional.one_hot(symbols, problem.symbols).float()  # (T, N, symbols)
    return x, labels
