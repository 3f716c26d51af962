"""minGRU cell (Feng et al. 2024, "Were RNNs All We Needed?", §3): one step forward, the same
step backward. The same equations for all steps at once, as the scan's coefficients, are in
scratch/fast/mingru.py.
Derivation, and the GRU it comes from: docs/minimal.md#mingru.

Gate order z, h̃. unroll.py computes x̂_t = x_t W_ihᵀ + b_ih for all t before the loop, and that
is the whole input side: no gate reads h_{t−1}, so there is no W_hh.

    z_t = σ(x̂_z)                                  update gate, from x_t only   (MG1)
    h̃_t = x̂_h                                     candidate, no tanh           (MG2)
    h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t                                       (MG3)

(MG3) is linear in h_{t−1}: h_t = a_t ⊙ h_{t−1} + b_t with a_t = 1 − z_t, b_t = z_t ⊙ h̃_t, which
scan.py computes for all t in O(log T) levels.
"""

import torch
from torch import Tensor

from scratch.declaration import Cell, StepBackward, Weights
from scratch.fast.mingru import MINGRU_LOOP


def mingru_step(x_proj: Tensor, state: tuple, w: Weights):
    """One step forward. Returns (h_t,) (N, H) and what the backward step needs."""
    (h_prev,) = state
    x_z, h_tilde = x_proj.chunk(2, dim=1)  # (MG2) h̃_t = x̂_h                         (N, H)
    z = torch.sigmoid(x_z)  # (MG1) z_t = σ(x̂_z)
    h = (1 - z) * h_prev + z * h_tilde  # (MG3) h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t
    return (h,), (z, h_tilde, h_prev)


def mingru_step_backward(d_state: tuple, w: Weights, saved: tuple):
    """d_state: (dL/dh_t,), from the output at t and from step t+1.

    Returns dL/dx̂_t (N, 2H) and dL/dh_{t−1}; no weight shares (no weight is inside the step).
    """
    (d_h,), (z, h_tilde, h_prev) = d_state, saved
    d_z = d_h * (h_tilde - h_prev)  # (MG3) ∂h_t/∂z_t = h̃_t − h_{t−1}
    d_h_tilde = d_h * z  # (MG3) ∂h_t/∂h̃_t = z_t; (MG2) ∂h̃_t/∂x̂_h = 1
    d_x_z = d_z * z * (1 - z)  # (MG1) σ' = z_t (1 − z_t)
    d_h_prev = d_h * (1 - z)  # (MG3) ∂h_t/∂h_{t−1} = 1 − z_t
    return StepBackward(torch.cat([d_x_z, d_h_tilde], dim=1), (d_h_prev,), {}, (d_h,))


MINGRU_CELL = Cell(
    key="mingru",
    about="minGRU, trained by a parallel scan",
    layer="MinGRU",
    gates=("z", "h"),
    states=("h",),
    x_proj_biases=("bias_ih",),
    step=mingru_step,
    step_backward=mingru_step_backward,
    manual_loop=MINGRU_LOOP,
    kinds=("weight_ih", "bias_ih"),  # no W_hh, no b_hh: nothing reads h_{t−1} but (MG3)
)
