"""The plain loop: one layer, one direction, every sequence as long as the others, forward and
BPTT over a cell's own step functions. The loop to read first (docs/layers.md#plain).

It computes what torch.nn's one-layer, one-direction RNN, LSTM or GRU computes (the tests hold
it equal in float64), and nothing more: no packed sequences, no reverse direction, no stacked
layers, no fast loop. unroll.py is the general loop that adds those.

    x (L, N, I)   state0 ((N, H),) or ((N, H), (N, H))   →   outputs (L, N, H), state_n, tape
"""

import torch
from torch import Tensor

from scratch.declaration import Cell, Product, Weights
from scratch.registry import cell as cell_named


# --8<-- [start:plain_loop]
def plain_forward(cell: Cell | str, x: Tensor, state0: tuple, w: Weights):
    """Run the cell's step for t = 1 … L (x[t − 1] is step t's input). Returns the outputs h_t
    stacked (L, N, H), the final state, and the tape: what each step saved for its backward."""
    cell = cell_named(cell) if isinstance(cell, str) else cell
    biases = [w.of(kind) for kind in cell.x_proj_biases if w.of(kind) is not None]
    x_proj = x @ w.W_ih.T + sum(biases)  # x̂_t = x_t W_ihᵀ + b, all t at once   (L, N, G·H)
    state, outputs, tape = state0, [], []
    for t in range(len(x)):
        state, saved = cell.step(x_proj[t], state, w)  # state_t from x̂_t and state_{t−1}
        outputs.append(state[0])  # y_t = h_t
        tape.append(saved)
    return torch.stack(outputs), state, tape


def plain_backward(cell: Cell | str, d_y: Tensor, d_state_n: tuple, x: Tensor, w: Weights, tape):
    """BPTT: the same steps backwards, t = L … 1. d_y is ∂L/∂y_t for every t (L, N, H),
    d_state_n is dL/d(state_n). Returns dL/dx, dL/d(state0) and {parameter kind: gradient}."""
    cell = cell_named(cell) if isinstance(cell, str) else cell
    d_state, d_x_proj, grads = d_state_n, [None] * len(x), {}
    for t in reversed(range(len(x))):
        d_h = d_y[t] + d_state[0]  # dL/dh_t = ∂L/∂y_t + what step t+1 sent back
        back = cell.step_backward((d_h, *d_state[1:]), w, tape[t])
        d_x_proj[t], d_state = back.d_x_proj, back.d_state_prev  # d_state: now dL/d(state_{t−1})
        for kind, share in back.d_weights.items():  # weights are shared: sum over the steps
            share = share.d.T @ share.v if isinstance(share, Product) else share
            grads[kind] = grads[kind] + share if kind in grads else share
    d_x_proj = torch.stack(d_x_proj)  # dL/dx̂_t for every t   (L, N, G·H)
    grads["weight_ih"] = d_x_proj.flatten(0, 1).T @ x.flatten(0, 1)  # Σ_t d_x̂_tᵀ x_t
    for kind in cell.x_proj_biases:
        if w.of(kind) is not None:
            grads[kind] = d_x_proj.sum((0, 1))  # Σ_t d_x̂_t: each folded bias alike
    return d_x_proj @ w.W_ih, d_state, grads  # dL/dx_t = d_x̂_t W_ih
    # --8<-- [end:plain_loop]
