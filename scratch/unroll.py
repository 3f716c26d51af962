"""One layer, one direction, over time: the forward loop and BPTT, generic over a cell declaration.

Sequences arrive packed, as torch.nn.utils.rnn.PackedSequence lays them out: the rows of all
time steps stacked, (T_total, I), with batch_sizes[t] rows at step t, longest sequences first.
A plain (L, N, I) batch is the special case batch_sizes = [N] * L. At step t only the first
batch_sizes[t] rows move; the others keep their state (steps.py, docs/layers.md#packed).

    time  →   t=0   t=1   t=2   t=3         batch_sizes = [3, 3, 2, 1]
    row 0     x     x     x     x           the forward direction walks t = 0 … 3,
    row 1     x     x     x                 the reverse direction t = 3 … 0; BPTT walks
    row 2     x     x                       each in the opposite order.

Where the FLOPs are: the input projection x̂ of all steps is one matrix product before the
loop; each step does one recurrent product forward and one backward; the weight gradients
are one product each after the backward loop. Derivation: docs/layers.md#bptt.

Two loops compute the same thing. The readable loop below calls the cell's own step and
step-backward functions (elman.py, lstm.py, gru.py), exactly as docs/ shows them: it runs
under bptt="readable", autograd differentiates it under bptt="autograd", and the cells
(RNNCell, ...) use it. bptt="manual" runs the cell's manual loop (scratch/fast/) where it
declares one: the same equations, with buffers and derivative factors computed once for all
steps. ``loop`` below names which of the two runs: "manual" or "readable".
"""

import torch
from torch import Tensor

from scratch.declaration import GATE_STACKED, Cell, Product, Weights
from scratch.steps import Steps


def input_projection(cell: Cell, x: Tensor, w: Weights) -> Tensor:
    """x̂ = x W_ihᵀ + the biases the cell folds in (b_ih + b_hh, b_ih, or none)."""
    biases = [b for b in map(w.of, cell.x_proj_biases) if b is not None]
    if not biases:
        return x @ w.W_ih.t()  # (T_total, G·H)
    bias = biases[0] if len(biases) == 1 else sum(biases[1:], biases[0])
    return torch.addmm(bias, x, w.W_ih.t())  # (T_total, G·H)


def at_step(cell: Cell, w: Weights, steps: Steps, t: int, masks_by_step: dict) -> Weights:
    """``w`` with each mask cut to the rows that move at step t."""
    if not cell.masks:
        return w
    cut = {}
    for name, kind in cell.masks.items():
        mask = w.masks[name]
        cut[name] = steps.rows(mask, t) if kind == "sequence" else masks_by_step[name][t]
    return Weights(w.W_ih, w.W_hh, w.b_ih, w.b_hh, w.W_hr, w.extra, cut)


def _masks_by_step(cell: Cell, w: Weights, steps: Steps) -> dict:
    return {n: steps.split(w.masks[n]) for n, kind in cell.masks.items() if kind == "step"}


# --8<-- [start:readable_loop]
def readable_forward(cell: Cell, x_proj: Tensor, state0: tuple, w: Weights, steps: Steps):
    """The forward loop over the cell's step. Returns the outputs (T_total, H_out), the final
    state, and what each step saved, which BPTT reads."""
    outputs, saved = [None] * len(steps.sizes), [None] * len(steps.sizes)
    state, xp, by_step = state0, steps.split(x_proj), _masks_by_step(cell, w, steps)
    for t in steps.forward_order:
        moving = tuple(steps.rows(s, t) for s in state)
        moved, saved[t] = cell.step(xp[t], moving, at_step(cell, w, steps, t, by_step))
        outputs[t] = moved[0]
        state = tuple(steps.merge(m, s) for m, s in zip(moved, state, strict=True))
    return torch.cat(outputs), state, saved


def readable_backward(cell, d_y, d_state_n, w: Weights, steps: Steps, saved, state_grads=None):
    """BPTT over the cell's step backward. Returns dL/dx̂ (one column block), dL/d(state_0)
    and the gradients of the weights x̂ does not carry (kind -> Tensor). state_grads: None, or
    the recorder's buffers, which receive dL/d(state_t) of every step."""
    d_x_projs, shares = [None] * len(steps.sizes), {}
    d_state, d_ys, by_step = d_state_n, steps.split(d_y), _masks_by_step(cell, w, steps)
    for t in steps.backward_order:
        d_h = steps.rows(d_state[0], t) + d_ys[t]  # from the output at t and from step t+1
        d_moved = (d_h, *(steps.rows(d, t) for d in d_state[1:]))
        back = cell.step_backward(d_moved, at_step(cell, w, steps, t, by_step), saved[t])
        d_x_projs[t] = back.d_x_proj
        for kind, share in back.d_weights.items():
            shares.setdefault(kind, []).append(share)
        if state_grads is not None:
            for name, d in zip(cell.states, back.d_state, strict=True):
                steps.split(state_grads[name])[t].copy_(d)
        d_state = tuple(steps.merge(p, d) for p, d in zip(back.d_state_prev, d_state, strict=True))
    return (torch.cat(d_x_projs),), d_state, {k: _total(s) for k, s in shares.items()}


def _total(shares: list):
    """The sum over the steps of one weight's shares: Tensors add up; Products become one
    matrix product over the stacked rows; tuples of Products are blocks of rows."""
    first = shares[0]
    if isinstance(first, Product):
        return torch.cat([p.d for p in shares]).t() @ torch.cat([p.v for p in shares])
    if isinstance(first, tuple):
        return torch.cat([_total([s[k] for s in shares]) for k in range(len(first))])
    return torch.stack(shares).sum(0)
    # --8<-- [end:readable_loop]


def reorder(cell: Cell, w: Weights, order) -> Weights:
    """The gate-stacked weights with their gate blocks in ``order`` (a manual loop's layout)."""
    if order is None:
        return w
    stacked = {p.kind for p in cell.extra if p.gate_stacked}
    extra = {k: _permute(t, order) if k in stacked else t for k, t in w.extra.items()}
    W_ih, W_hh, b_ih, b_hh = (_permute(p, order) for p in (w.W_ih, w.W_hh, w.b_ih, w.b_hh))
    return Weights(W_ih, W_hh, b_ih, b_hh, w.W_hr, extra, w.masks)


def unorder(cell: Cell, grads: dict, order) -> dict:
    """Gradients of gate-stacked kinds back from ``order`` to the declared gate order."""
    if order is None:
        return grads
    back = [order.index(k) for k in range(len(order))]
    stacked = set(GATE_STACKED) | {p.kind for p in cell.extra if p.gate_stacked}
    return {k: _permute(g, back) if k in stacked else g for k, g in grads.items()}


def _permute(tensor, order):
    if tensor is None:
        return None
    blocks = tensor.chunk(len(order), dim=0)
    return torch.cat([blocks[k] for k in order])


def input_mask(cell: Cell, w: Weights, steps: Steps) -> Tensor | None:
    """The cell's input mask, if it declares one, laid out like the rows of x (T_total, I)."""
    return None if cell.input_mask is None else steps.expand(w.masks[cell.input_mask])


def read_mask(cell: Cell, w: Weights) -> dict:
    """The keyword a manual loop takes for the cell's read mask: {"read_mask": m}, or none."""
    return {} if cell.read_mask is None else {"read_mask": w.masks[cell.read_mask]}


def layer_forward(cell: Cell, x: Tensor, state0: tuple, w: Weights, steps: Steps, loop: str):
    """x̂ for all steps, then the loop over time: "manual" (the cell's manual loop, on weights
    in its gate order) or "readable". Returns the outputs, the final state, and what the loop
    saved for BPTT."""
    mask = input_mask(cell, w, steps)
    if mask is not None:
        x = x * mask  # x_t ⊙ m, each row by its own sequence's mask
    if loop == "manual":
        w = reorder(cell, w, cell.manual_loop.gate_order)
        x_proj = input_projection(cell, x, w)
        return cell.manual_loop.forward(x_proj, state0, w, steps, **read_mask(cell, w))
    return readable_forward(cell, input_projection(cell, x, w), state0, w, steps)


# --8<-- [start:layer_backward]
def layer_backward(cell, loop, d_y, d_state_n, x, w: Weights, steps, saved, need_d_x, state_grads):
    """BPTT over the ``loop`` that ran forward, then the gradients x̂ carries: dL/dx, dL/dW_ih
    and the folded biases' dL/db. Returns dL/dx (or None), dL/d(state_0), and kind -> gradient
    for every weight. state_grads: None, or the recorder's buffers (record.py)."""
    if loop == "manual":
        order = cell.manual_loop.gate_order
        w_used = reorder(cell, w, order)
        d_X_blocks, d_state0, d_w = cell.manual_loop.backward(
            d_y, d_state_n, w_used, steps, saved, state_grads, **read_mask(cell, w)
        )
    else:
        order, w_used = None, w
        d_X_blocks, d_state0, d_w = readable_backward(
            cell, d_y, d_state_n, w, steps, saved, state_grads
        )
    d_x, mask = None, input_mask(cell, w, steps)
    if need_d_x:  # ∂x̂_t/∂x_t = W_ih
        row = 0
        for d in d_X_blocks:
            part = w_used.W_ih[row : row + d.shape[1]]
            d_x = d @ part if d_x is None else d_x.addmm_(d, part)
            row += d.shape[1]
        if mask is not None:
            d_x.mul_(mask)  # ∂(x_t ⊙ m)/∂x_t = m
    x = x if mask is None else x * mask
    d_w["weight_ih"] = torch.cat([d.t() @ x for d in d_X_blocks])  # Σ_t d_x̂_tᵀ x_t
    folded = [kind for kind in cell.x_proj_biases if w.of(kind) is not None]
    if folded:  # each folded bias enters x̂ alike, so each has the one gradient Σ_t d_x̂_t
        d_b = torch.cat([d.sum(0) for d in d_X_blocks])
        d_w.update({kind: d_b if k == 0 else d_b.clone() for k, kind in enumerate(folded)})
    return d_x, d_state0, unorder(cell, d_w, order)
    # --8<-- [end:layer_backward]
