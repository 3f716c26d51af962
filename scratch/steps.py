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

    def split_columns(self, rows: Tensor, H: int, *spans) -> list[tuple[Tensor, ...]]:
        """Per-step views of column blocks: for each span (a, b), columns [a·H, b·H)."""
        return [self.split(rows[:, a * H : b * H]) for a, b in spans]

    def expand(self, per_sequence: Tensor) -> Tensor:
        """A per-sequence (N, ·) tensor laid out like the rows of all steps, (T_total, ·):
        step t's rows are its first batch_sizes[t] rows."""
        if self.uniform:
            return per_sequence.repeat(len(self.sizes), 1)
        return torch.cat([per_sequence[:b] for b in self.sizes])

    @property
    def uniform(self) -> bool:
        """A plain batch: every step moves all N rows."""
        return all(b == self.sizes[0] for b in self.sizes)

    def rows(self, state: Tensor, t: int) -> Tensor:
        """The rows of the (N, ·) state that move at step t."""
        b = self.sizes[t]
        return state if state.shape[0] == b else state[:b]

    @staticmethod
    def merge(moved: Tensor, state: Tensor) -> Tensor:
        """Rows [0, b) took a step; rows [b, N) keep what they had."""
        b = moved.shape[0]
        return moved if b == state.shape[0] else torch.cat([moved, state[b:]])

    def previous(self, outputs: Tensor, state0: Tensor) -> Tensor:
        """The state rows each step read, stacked like the outputs: H_prev (T_total, ·).

        Rebuilt from the outputs and the initial state, so the forward loop keeps no copy.
        """
        return self.previous_into(torch.empty_like(outputs), outputs, state0)

    def previous_into(self, out: Tensor, outputs: Tensor, state0: Tensor) -> Tensor:
        """previous(), written into `out` (T_total, ·), which is returned."""
        if self.uniform:  # a plain batch: the outputs, shifted by one step
            first, rest, rest_prev = self._shifted(out, outputs)
            first.copy_(state0[: first.shape[0]])
            rest.copy_(rest_prev)
            return out
        y, reads, state = self.split(outputs), self.split(out), state0
        for t in self.forward_order:
            reads[t].copy_(self.rows(state, t))
            state = self.merge(y[t], state)
        return out

    def times_previous(self, out: Tensor, outputs: Tensor, state0: Tensor) -> Tensor:
        """``out`` (T_total, ·) ⊙ previous(outputs, state0), in place; returned. A plain batch
        multiplies by shifted views, without a stacked copy of the previous rows."""
        if not self.uniform:
            return out.mul_(self.previous(outputs, state0))
        first, rest, rest_prev = self._shifted(out, outputs)
        first.mul_(state0[: first.shape[0]])
        rest.mul_(rest_prev)
        return out

    def previous_product(self, d: Tensor, outputs: Tensor, state0: Tensor) -> Tensor:
        """Σ_t d_tᵀ h_{t−1}, (G, P), for d stacked like the outputs (T_total, G).

        In a plain batch h_{t−1} is the previous step's output (or h_0 at the first step),
        so the sum is two products on shifted views, without a stacked copy of h_{t−1}.
        """
        if not self.uniform:
            return d.t() @ self.previous(outputs, state0)
        first, rest, rest_prev = self._shifted(d, outputs)
        return torch.addmm(first.t() @ state0, rest.t(), rest_prev)

    def _shifted(self, rows: Tensor, outputs: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """A plain batch's (T_total, ·) ``rows`` cut where h_{t−1} is h_0 and where it is an
        output: (the rows of the step that read h_0, the other rows, the outputs they read)."""
        N, T = self.sizes[0] if self.sizes else 0, rows.shape[0]
        if self.reverse:  # step t reads step t+1's output; the last step reads h_0
            return rows[T - N :], rows[: T - N], outputs[N:]
        return rows[:N], rows[N:], outputs[: T - N]  # step t reads step t−1's; the first, h_0
