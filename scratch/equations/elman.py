"""Elman RNN cell: one step forward, the same step backward. Derivation: docs/cells.md#elman.

    a_t = x̂_t + h_{t−1} W_hhᵀ          x̂_t = x_t W_ihᵀ + b_ih + b_hh   (unroll.py, all t at once)
    h_t = φ(a_t)                        φ = tanh or relu

Rows are batch elements: x̂_t is (N, H), h_{t−1} is (N, H), W_hh is (H, H).
"""

from functools import partial

import torch
from torch import Tensor

from scratch.declaration import Cell, Product, StepBackward, Weights
from scratch.fast.elman import ELMAN_LOOPS


# --8<-- [start:elman_step]
def elman_step(x_proj: Tensor, state: tuple, w: Weights, nonlinearity: str):
    """One step forward. Returns (h_t,) (N, H) and what the backward step needs."""
    (h_prev,) = state
    a = torch.addmm(x_proj, h_prev, w.W_hh.t())  # (E1) a_t = x̂_t + h_{t−1} W_hhᵀ    (N, H)
    h = torch.tanh(a) if nonlinearity == "tanh" else torch.relu(a)  # (E2) h_t = φ(a_t)
    return (h,), (h_prev, h)
    # --8<-- [end:elman_step]


# --8<-- [start:elman_step_backward]
def elman_step_backward(d_state: tuple, w: Weights, saved: tuple, nonlinearity: str):
    """d_state: (dL/dh_t,), from the output at t and from step t+1.

    Returns dL/da_t (N, H), which is also dL/dx̂_t, dL/dh_{t−1}, and W_hh's share.
    """
    (d_h,), (h_prev, h) = d_state, saved
    if nonlinearity == "tanh":
        d_a = d_h * (1 - h * h)  # (E2) tanh'(a_t) = 1 − h_t²
    else:
        d_a = d_h * (h > 0)  # (E2) relu'(a_t) = 1[a_t > 0] = 1[h_t > 0]
    d_h_prev = d_a @ w.W_hh  # (E1) ∂a_t/∂h_{t−1} = W_hh
    d_W_hh = Product(d_a, h_prev)  # (E1) ∂a_t/∂W_hh: d_W_hh = Σ_t d_a_tᵀ h_{t−1}
    return StepBackward(d_a, (d_h_prev,), {"weight_hh": d_W_hh}, (d_h,))
    # --8<-- [end:elman_step_backward]


def _declare(nonlinearity: str) -> Cell:
    """The Elman cell with one nonlinearity: keys rnn_tanh and rnn_relu, torch.nn's modes
    RNN_TANH and RNN_RELU in lower case; both are scratch.RNN, told apart by its nonlinearity."""
    return Cell(
        key=f"rnn_{nonlinearity}",
        gates=("h",),
        states=("h",),
        x_proj_biases=("bias_ih", "bias_hh"),  # both biases fold into x̂
        step=partial(elman_step, nonlinearity=nonlinearity),
        step_backward=partial(elman_step_backward, nonlinearity=nonlinearity),
        torch_nn="RNN",
        manual_loop=ELMAN_LOOPS[nonlinearity],
        about=f"Elman RNN, {nonlinearity}",
        layer="RNN",
        layer_options={"nonlinearity": nonlinearity},
    )


RNN_TANH_CELL = _declare("tanh")
RNN_RELU_CELL = _declare("relu")
