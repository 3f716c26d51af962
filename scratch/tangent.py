"""Forward mode through time: one layer's outputs and their tangents, by the cells' own tangent
steps. Derivation: docs/forward.md.

Where reverse mode (BPTT) carries dL/dh_t backwards from the loss, forward mode carries
ḣ_t = dh_t/dε forwards, alongside h_t, for one direction ε in the space of the inputs and the
weights: the tangent x̂̇ of all steps is one matrix product before the loop, as x̂ is, and
each step adds the tangent step of its cell (elman_step_tangent, lstm_step_tangent, ...).
A cell that declares no tangent step gets autograd's forward mode over its readable loop.
"""

import torch
from torch import Tensor

from scratch.declaration import Cell, Weights
from scratch.steps import Steps
from scratch.unroll import _masks_by_step, at_step, input_mask, input_projection, layer_forward


def input_projection_tangent(cell: Cell, x, x_dot, w: Weights, w_dot: Weights) -> Tensor:
    """x̂̇ = ẋ W_ihᵀ + x Ẇ_ihᵀ + the tangents of the biases the cell folds into x̂."""
    x_proj_dot = torch.addmm(x_dot @ w.W_ih.t(), x, w_dot.W_ih.t())
    for kind in cell.x_proj_biases:
        if w_dot.of(kind) is not None:
            x_proj_dot = x_proj_dot + w_dot.of(kind)
    return x_proj_dot


# --8<-- [start:tangent_loop]
def layer_tangent(cell: Cell, x, x_dot, state0, state0_dot, w: Weights, w_dot: Weights, steps):
    """The layer forward with its tangents. Returns (y, state_n) and (ẏ, ṡtate_n)."""
    if cell.step_tangent is None:
        return _autograd_tangent(cell, x, x_dot, state0, state0_dot, w, w_dot, steps)
    mask = input_mask(cell, w, steps)
    if mask is not None:
        x, x_dot = x * mask, x_dot * mask  # x_t ⊙ m: the mask has no tangent
    xp = steps.split(input_projection(cell, x, w))
    xp_dot = steps.split(input_projection_tangent(cell, x, x_dot, w, w_dot))
    outputs, outputs_dot = [None] * len(steps.sizes), [None] * len(steps.sizes)
    state, state_dot, by_step = state0, state0_dot, _masks_by_step(cell, w, steps)
    for t in steps.forward_order:
        w_t, w_dot_t = at_step(cell, w, steps, t, by_step), at_step(cell, w_dot, steps, t, by_step)
        moved, saved = cell.step(xp[t], tuple(steps.rows(s, t) for s in state), w_t)
        moving_dot = tuple(steps.rows(s, t) for s in state_dot)
        moved_dot = cell.step_tangent(xp_dot[t], moving_dot, w_t, w_dot_t, saved)
        outputs[t], outputs_dot[t] = moved[0], moved_dot[0]
        state = tuple(steps.merge(m, s) for m, s in zip(moved, state, strict=True))
        state_dot = tuple(steps.merge(m, s) for m, s in zip(moved_dot, state_dot, strict=True))
    return (torch.cat(outputs), state), (torch.cat(outputs_dot), state_dot)
    # --8<-- [end:tangent_loop]


def _autograd_tangent(cell: Cell, x, x_dot, state0, state0_dot, w, w_dot, steps: Steps):
    """A cell without a tangent step: torch.func's forward mode over its readable loop."""
    from scratch.function import flatten, unflatten

    tensors = flatten(cell, state0, w)
    tangents = flatten(cell, state0_dot, w_dot)
    n_masks = len(cell.masks)  # the masks come last and have no tangent
    wanted = [j for j, t in enumerate(tensors[: len(tensors) - n_masks]) if t is not None]

    def forward(x, *primals):
        full = list(tensors)
        for j, p in zip(wanted, primals, strict=True):
            full[j] = p
        s0, weights = unflatten(cell, tuple(full))
        y, state_n, _ = layer_forward(cell, x, s0, weights, steps, "readable")
        return y, state_n

    primals = (x, *(tensors[j] for j in wanted))
    dots = (x_dot, *(tangents[j] for j in wanted))
    return torch.func.jvp(forward, primals, dots)
