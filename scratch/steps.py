"""Packed time: which rows move at each step, and in which order a direction walks time.

Rows are sorted longest sequence first, so at step t the rows that move are [0, batch_sizes[t]).
The state keeps all N rows; rows that do not move keep what they had (docs/layers.md#packed).
"""

import torch
from torch import Tensor


class Steps:
    """The time steps of one direction over packed rows."""

    def __init__(self, batch_sizes: list[int], reverse: bool) -> None:
        self.sizes = batch_sizes
        self.reverse = reverse

    @property
    def forward_order(self) -> range:
        L = len(self.sizes)
        return range(L - 1, -1, -1) if self.reverse else range(L)

    @property
    def backward_order(self) -> range:
        """BPTT walks time in the order opposite to the forward loop."""
        return self.forward_order[::-1]

    def split(self, rows: Tensor) -> tuple[Tensor, ...]:
        """Per-step views of a (T_total, ·) tensor: step t's rows are split(rows)[t]."""
        return rows.split(self.sizes)

    def rows(self, state: Tensor, t: int) -> Tensor:
        """The rows of the (N, ·) state that move at step t."""
        b = self.sizes[t]
        return state if state.shape[0] == b else state[:b]

    @staticmethod
    def merge(moved: Tensor, state: Tensor) -> Tensor:
        """Rows [0, b) took a step; rows [b, N) keep what they had."""
        b = moved.shape[0]
        return moved if b == state.shape[0] else torch.cat([moved, state[b:]])
