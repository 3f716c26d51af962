"""Packed time: which rows move at each step, and in which order a direction walks time.

Rows are sorted longest sequence first, so at step t the rows that move are [0, batch_sizes[t]).
The state keeps all N rows; rows that do not move keep what they had (docs/layers.md#packed).
"""

from dataclasses import dataclass

import torch
from torch import Tensor

# A fast loop's backward forms its derivative factors for a run of steps at a time, just
# before BPTT reaches them, so that they are still in cache when the steps use them: the
# buffers a run touches hold at most about this many elements (32 MiB of float32), or one
# step. The size trades cache against calls: runs that fit a core's L2 (2 MiB here) took
# 8–13 % longer at the benchmark's medium size than 32 MiB runs, which this machine's L3
# (300 MiB) still holds, and no less at large (docs/performance.md#factor-blocks).
BLOCK_ELEMENTS = 2**23


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

    def blocks(self, width: int) -> dict[int, "Block"]:
        """The steps in runs of consecutive steps, each run of at most BLOCK_ELEMENTS / width
        rows (at least one step), by the step of the run that BPTT visits first; width: the
        elements per row that the work on a run touches."""
        offsets = [0]
        for b in self.sizes:
            offsets.append(offsets[-1] + b)
        runs, lo = [], 0
        for t in range(1, len(self.sizes) + 1):  # end the run [lo, t) here, or take in step t
            if t == len(self.sizes) or (offsets[t + 1] - offsets[lo]) * width > BLOCK_ELEMENTS:
                runs.append((lo, t))
                lo = t
        blocks = (Block(self, lo, hi, offsets[lo], offsets[hi]) for lo, hi in runs)
        return {b.first: b for b in blocks}

    def begin_backward(self, d_outputs: tuple, d_h_n: Tensor, h0: Tensor) -> tuple:
        """What every fast backward loop starts from: dL/dh at the first step BPTT visits (its
        output's gradient plus the final state's), a zeroed dL/dh_0 for the rows that read h_0,
        and two (N, ·) buffers that ``carry`` writes in turn."""
        t = self.backward_order[0]
        d_h = d_outputs[t] + self.rows(d_h_n, t)
        return d_h, torch.zeros_like(h0), (torch.empty_like(h0), torch.empty_like(h0))

    def recorded(self, record: dict | None, state: str) -> tuple | None:
        """Per-step views of the recorder's buffer for ``state`` ("h", "c"), or None when off."""
        return None if record is None else self.split(record[state])

    def carry(
        self, t, d_a, W, d_outputs: tuple, d_state_n, d_state0, direct=(), out=None, mask=None
    ):
        """BPTT's hand-over from step t to the step it read its state from.

        The gradient reaching h_{t−1} is d_a W, times `mask` where the step read h_{t−1} ⊙ mask
        (variational dropout: a per-sequence (N, ·) mask), plus a ⊙ b for each pair (a, b) in
        `direct`: the paths that bypass W (the GRU's d_h ⊙ z). It is added to that step's
        output gradient in as few calls as possible, giving the d_h of the next step BPTT
        visits, which is returned (written into `out`, an (N, ·) buffer, when given: reusing a
        buffer that is warm in cache beats a fresh allocation per step). Rows that read h_0 at
        step t write their part into d_state0; rows whose sequence ended at that step bring in
        their share of dL/dh_n. None at the end.
        """
        b, prev = self.sizes[t], t + 1 if self.reverse else t - 1
        if not 0 <= prev < len(self.sizes):  # step t read h_0
            d_state0[:b] = _recurrent(None, d_a, W, direct, mask=_cut(mask, 0, b))
            return None
        b_prev = self.sizes[prev]
        if b_prev == b:
            return _recurrent(d_outputs[prev], d_a, W, direct, _rows(out, b), _cut(mask, 0, b))
        if b_prev > b:  # rows [b, b_prev) ended at step prev: their h there is in h_n
            head = _recurrent(d_outputs[prev][:b], d_a, W, direct, mask=_cut(mask, 0, b))
            return torch.cat([head, d_outputs[prev][b:] + d_state_n[b:b_prev]])
        # b_prev < b: rows [b_prev, b) started at step t, from h_0
        tail = tuple((x[b_prev:], y[b_prev:]) for x, y in direct)
        d_state0[b_prev:b] = _recurrent(None, d_a[b_prev:], W, tail, mask=_cut(mask, b_prev, b))
        head = tuple((x[:b_prev], y[:b_prev]) for x, y in direct)
        out = _rows(out, b_prev)
        return _recurrent(d_outputs[prev], d_a[:b_prev], W, head, out, _cut(mask, 0, b_prev))


def _rows(out, b):
    return out if out is None or out.shape[0] == b else out[:b]


def _cut(mask, lo, hi):
    return None if mask is None else mask[lo:hi]


def _recurrent(base, d_a, W, direct=(), out=None, mask=None):
    """base + Σ a ⊙ b over the pairs in direct + d_a W (⊙ mask), in as few calls as possible."""
    if mask is not None:
        total = torch.mm(d_a, W, out=out).mul_(mask)
        for a, b in direct:
            total.addcmul_(a, b)
        return total if base is None else total.add_(base)
    if direct:
        (a, b), rest = direct[0], direct[1:]
        total = torch.mul(a, b, out=out) if base is None else torch.addcmul(base, a, b, out=out)
        for a, b in rest:
            total.addcmul_(a, b)
        return total.addmm_(d_a, W)
    if base is None:
        return torch.mm(d_a, W, out=out)
    return torch.addmm(base, d_a, W, out=out)


@dataclass(frozen=True)
class Block:
    """A run of consecutive steps [lo, hi) of a direction, and their rows [row_lo, row_hi)."""

    steps: Steps
    lo: int
    hi: int
    row_lo: int
    row_hi: int

    @property
    def rows(self) -> slice:
        return slice(self.row_lo, self.row_hi)

    @property
    def first(self) -> int:
        """The step of the run that BPTT visits first."""
        return self.lo if self.steps.reverse else self.hi - 1

    @property
    def own(self) -> Steps:
        """The run as a direction of its own, for the whole-run operations of Steps."""
        return Steps(self.steps.sizes[self.lo : self.hi], self.steps.reverse)

    def entry(self, outputs: Tensor, state0: Tensor) -> Tensor:
        """The state the run's first step (in forward order) read: the output of the step before
        it, with the initial state's rows for the sequences that start inside the run."""
        steps = self.steps
        before = self.hi if steps.reverse else self.lo - 1
        if not 0 <= before < len(steps.sizes):
            return state0
        row = sum(steps.sizes[:before])
        previous = outputs[row : row + steps.sizes[before]]
        return steps.merge(previous, state0) if steps.reverse else previous
