"""GRU cell: one step forward, the same step backward. Derivation: docs/cells.md#gru.

Gate order r, z, n as in torch.nn.GRU. unroll.py computes x̂_t = x_t W_ihᵀ + b_ih for all t
before the loop. b_hh stays inside the recurrent product, because torch.nn.GRU multiplies the
reset gate into (h_{t−1} W_hnᵀ + b_hn), bias included.

    ĥ_t = h_{t−1} W_hhᵀ + b_hh                (N, 3H), split into ĥ_r, ĥ_z, ĥ_n; x̂_t likewise
    r_t = σ(x̂_r + ĥ_r)
    z_t = σ(x̂_z + ĥ_z)
    n_t = tanh(x̂_n + r_t ⊙ ĥ_n)
    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}
"""

import torch
from torch import Tensor

from scratch.declaration import Cell, Product, StepBackward, Weights
from scratch.fast.gru import GRU_LOOP


# --8<-- [start:gru_step]
def gru_step(x_proj: Tensor, state: tuple, w: Weights):
    """One step forward. Returns (h_t,) (N, H) and what the backward step needs."""
    (h_prev,) = state
    if w.b_hh is None:
        h_proj = h_prev @ w.W_hh.t()  # (G1) ĥ_t = h_{t−1} W_hhᵀ             (N, 3H)
    else:
        h_proj = torch.addmm(w.b_hh, h_prev, w.W_hh.t())  # (G1) ĥ_t = h_{t−1} W_hhᵀ + b_hh
    x_r, x_z, x_n = x_proj.chunk(3, dim=1)
    h_r, h_z, h_n = h_proj.chunk(3, dim=1)
    r = torch.sigmoid(x_r + h_r)  # (G2) r_t = σ(x̂_r + ĥ_r)
    z = torch.sigmoid(x_z + h_z)  # (G3) z_t = σ(x̂_z + ĥ_z)
    n = torch.tanh(x_n + r * h_n)  # (G4) n_t = tanh(x̂_n + r_t ⊙ ĥ_n)
    h = (1 - z) * n + z * h_prev  # (G5) h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}
    return (h,), (r, z, n, h_n, h_prev)
    # --8<-- [end:gru_step]


# --8<-- [start:gru_step_backward]
def gru_step_backward(d_state: tuple, w: Weights, saved: tuple):
    """d_state: (dL/dh_t,), from the output at t and from step t+1.

    Returns dL/dx̂_t (N, 3H), dL/dh_{t−1}, and the shares of W_hh and b_hh (through ĥ_t).
    """
    (d_h,), (r, z, n, h_n, h_prev) = d_state, saved
    d_n = d_h * (1 - z)  # (G5) ∂h_t/∂n_t = 1 − z_t
    d_z = d_h * (h_prev - n)  # (G5) ∂h_t/∂z_t = h_{t−1} − n_t
    d_a_n = d_n * (1 - n * n)  # (G4) tanh' = 1 − n_t², at a_n = x̂_n + r_t ⊙ ĥ_n
    d_r = d_a_n * h_n  # (G4) ∂a_n/∂r_t = ĥ_n
    d_a_r = d_r * r * (1 - r)  # (G2) σ' = r_t (1 − r_t)
    d_a_z = d_z * z * (1 - z)  # (G3) σ' = z_t (1 − z_t)
    d_x_proj = torch.cat([d_a_r, d_a_z, d_a_n], dim=1)  # (G2–G4) ∂a/∂x̂ = 1 for each gate
    d_h_proj = torch.cat([d_a_r, d_a_z, d_a_n * r], dim=1)  # (G4) ∂a_n/∂ĥ_n = r_t
    d_h_prev = torch.addmm(d_h * z, d_h_proj, w.W_hh)  # (G5) ∂h_t/∂h_{t−1} = z_t, + (G1)
    d_weights = {"weight_hh": Product(d_h_proj, h_prev)}  # (G1) d_W_hh = Σ_t d_ĥ_tᵀ h_{t−1}
    if w.b_hh is not None:
        d_weights["bias_hh"] = d_h_proj.sum(0)  # (G1) d_b_hh = Σ_t d_ĥ_t
    return StepBackward(d_x_proj, (d_h_prev,), d_weights, (d_h,))
    # --8<-- [end:gru_step_backward]


GRU_CELL = Cell(
    key="gru",
    about="gated recurrent unit",
    layer="GRU",
    gates=("r", "z", "n"),
    states=("h",),
    x_proj_biases=("bias_ih",),  # b_hh stays inside the step: r_t ⊙ (h_{t−1} W_hnᵀ + b_hn)
    step=gru_step,
    step_backward=gru_step_backward,
    manual_loop=GRU_LOOP,
    torch_nn="GRU",
)
