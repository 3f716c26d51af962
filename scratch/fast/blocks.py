"""The manual loops' backward toolkit: runs of steps sized for the cache, and BPTT's hand-over
from one step to the one before it over packed rows (steps.py's bookkeeping underneath).
"""

from dataclasses import dataclass

import torch
from torch import Tensor

from scratch.steps import Steps

# A fast loop's backward forms its derivative factors for a run of steps at a time, just
# before BPTT reaches them, so that they are still in cache when the steps use them: the
# buffers a run touches hold at most about this many elements (32 MiB of float32), or one
# step. The size trades cache against calls: runs that fit a core's L2 (2 MiB here) took
# 8–13 % longer at the benchmark's medium size than 32 MiB runs, which this machine's L3
# (300 MiB) still holds, and no less at large (docs/performance.md#factor-blocks).
BLOCK_ELEMENTS = 2**23


def runs(steps: Steps, width: int) -> dict[int, "Block"]:
    """The steps in runs of consecutive steps, each run of at most BLOCK_ELEMENTS / width
    rows (at least one step), by the step of the run that BPTT visits first; width: the
    elements per row that the work on a run touches."""
    offsets = [0]
    for b in steps.sizes:
        offsets.append(offsets[-1] + b)
    spans, lo = [], 0
    for t in range(1, len(steps.sizes) + 1):  # end the run [lo, t) here, or take in step t
        if t == len(steps.sizes) or (offsets[t + 1] - offsets[lo]) * width > BLOCK_ELEMENTS:
            spans.append((lo, t))
            lo = t
    blocks = (Block(steps, lo, hi, offsets[lo], offsets[hi]) for lo, hi in spans)
    return {b.first: b for b in blocks}


def begin_backward(steps: Steps, d_outputs: tuple, d_h_n: Tensor, h0: Tensor) -> tuple:
    """What every fast backward loop starts from: dL/dh at the first step BPTT visits (its
    output's gradient plus the final state's), a zeroed dL/dh_0 for the rows that read h_0,
    and two (N, ·) buffers that ``carry`` writes in turn."""
    t = steps.backward_order[0]
    d_h = d_outputs[t] + steps.rows(d_h_n, t)
    return d_h, torch.zeros_like(h0), (torch.empty_like(h0), torch.empty_like(h0))


def state_grad_views(steps: Steps, state_grads: dict | None, *states: str) -> tuple:
    """Per-step views of the recorder's buffer (state_grads) for each of ``states`` ("h",
    "c"): a tuple with one entry per state, each None when nothing records."""
    return tuple(None if state_grads is None else steps.split(state_grads[s]) for s in states)


def carry(
    steps: Steps, t, d_a, W, d_outputs: tuple, d_state_n, d_state0, direct=(), out=None, mask=None
):
    """BPTT's hand-over from step t to the step it read its state from.

    The gradient reaching h_{t−1} is d_a W, times `mask` where the step read h_{t−1} ⊙ mask
    (a cell's read_mask: a per-sequence (N, ·) mask), plus a ⊙ b for each pair (a, b) in
    `direct`: the paths that bypass W (the GRU's d_h ⊙ z). It is added to that step's
    output gradient in as few calls as possible, giving the d_h of the next step BPTT
    visits, which is returned (written into `out`, an (N, ·) buffer, when given: reusing a
    buffer that is warm in cache beats a fresh allocation per step). Rows that read h_0 at
    step t write their part into d_state0; rows whose sequence ended at that step bring in
    their share of dL/dh_n. None at the end.
    """
    b, prev = steps.sizes[t], t + 1 if steps.reverse else t - 1
    if not 0 <= prev < len(steps.sizes):  # step t read h_0
        d_state0[:b] = _recurrent(None, d_a, W, direct, mask=_cut(mask, 0, b))
        return None
    b_prev = steps.sizes[prev]
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
