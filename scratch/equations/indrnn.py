"""IndRNN cell (Li et al. 2018, "Independently Recurrent Neural Network (IndRNN)", eq. 2): one
step forward, the same step backward. Derivation: docs/adding-a-cell.md.

Each unit sees only its own past: the recurrent weight is a vector u (torch.nn's name
weight_hh, shape (H,)), multiplied elementwise, not a matrix.

    a_t = x̂_t + u ⊙ h_{t−1}            x̂_t = x_t W_ihᵀ + b_ih + b_hh   (unroll.py, all t at once)  (I1)
    h_t = relu(a_t)                                                                          (I2)
"""

import torch
from torch import Tensor

from scratch.declaration import Cell, StepBackward, Weights


# --8<-- [start:indrnn_step]
def indrnn_step(x_proj: Tensor, state: tuple, w: Weights):
    """One step forward. Returns (h_t,) (N, H) and what the backward step needs."""
    (h_prev,) = state
    a = torch.addcmul(x_proj, h_prev, w.W_hh)  # (I1) a_t = x̂_t + u ⊙ h_{t−1}    (N, H)
    h = torch.relu(a)  # (I2) h_t = relu(a_t)
    return (h,), (h_prev, h)
    # --8<-- [end:indrnn_step]


# --8<-- [start:indrnn_step_backward]
def indrnn_step_backward(d_state: tuple, w: Weights, saved: tuple):
    """d_state: (dL/dh_t,), from the output at t and from step t+1.

    Returns dL/da_t (N, H), which is also dL/dx̂_t, dL/dh_{t−1}, and u's share (H,).
    """
    (d_h,), (h_prev, h) = d_state, saved
    d_a = d_h * (h > 0)  # (I2) relu'(a_t) = 1[a_t > 0] = 1[h_t > 0]
    d_h_prev = d_a * w.W_hh  # (I1) ∂a_t/∂h_{t−1} = diag(u)
    d_u = (d_a * h_prev).sum(0)  # (I1) ∂a_t/∂u = h_{t−1}, summed over the rows
    return StepBackward(d_a, (d_h_prev,), {"weight_hh": d_u}, (d_h,))
    # --8<-- [end:indrnn_step_backward]


# --8<-- [start:indrnn_cell]
INDRNN_CELL = Cell(
    key="indrnn",
    about="independently recurrent: h_t = relu(x̂_t + u ⊙ h_{t−1})",
    layer="IndRNN",
    gates=("h",),
    states=("h",),
    x_proj_biases=("bias_ih", "bias_hh"),  # both biases fold into x̂
    step=indrnn_step,
    step_backward=indrnn_step_backward,
    recurrent_weight="vector",  # weight_hh is u (H,)
)
# --8<-- [end:indrnn_cell]
