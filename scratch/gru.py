"""GRU cell: one step forward, the same step backward. Derivation: docs/cells.md#gru.

Gate order r, z, n as in torch.nn.GRU. unroll.py computes x̂_t = x_t W_ihᵀ + b_ih for all t
before the loop. b_hh stays inside the recurrent product, because torch.nn.GRU multiplies the
reset gate into (h_{t-1} W_hnᵀ + b_hn), bias included.

    ĥ_t = h_{t-1} W_hhᵀ + b_hh                (N, 3H), split into ĥ_r, ĥ_z, ĥ_n; x̂_t likewise
    r_t = σ(x̂_r + ĥ_r)
    z_t = σ(x̂_z + ĥ_z)
    n_t = tanh(x̂_n + r_t ⊙ ĥ_n)
    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}
"""

import torch
from torch import Tensor


def gru_step(x_proj: Tensor, h_prev: Tensor, W_hh: Tensor, b_hh: Tensor | None):
    """One step forward. Returns h_t (N, H) and what the backward step needs."""
    if b_hh is None:
        h_proj = h_prev @ W_hh.t()  # ĥ_t = h_{t-1} W_hhᵀ             (N, 3H)
    else:
        h_proj = torch.addmm(b_hh, h_prev, W_hh.t())  # ĥ_t = h_{t-1} W_hhᵀ + b_hh
    x_r, x_z, x_n = x_proj.chunk(3, dim=1)
    h_r, h_z, h_n = h_proj.chunk(3, dim=1)
    r = torch.sigmoid(x_r + h_r)  # r_t = σ(x̂_r + ĥ_r)
    z = torch.sigmoid(x_z + h_z)  # z_t = σ(x̂_z + ĥ_z)
    n = torch.tanh(x_n + r * h_n)  # n_t = tanh(x̂_n + r_t ⊙ ĥ_n)
    h = (1 - z) * n + z * h_prev  # h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}
    return h, (r, z, n, h_n, h_prev)


def gru_step_backward(d_h: Tensor, W_hh: Tensor, saved: tuple):
    """d_h: dL/dh_t, from the output at t and from step t+1.

    Returns dL/dx̂_t (N, 3H), dL/dĥ_t (N, 3H) and dL/dh_{t-1} (N, H).
    """
    r, z, n, h_n, h_prev = saved
    d_n = d_h * (1 - z)  # ∂h_t/∂n_t = 1 − z_t
    d_z = d_h * (h_prev - n)  # ∂h_t/∂z_t = h_{t-1} − n_t
    d_a_n = d_n * (1 - n * n)  # tanh' = 1 − n_t², at a_n = x̂_n + r_t ⊙ ĥ_n
    d_r = d_a_n * h_n  # ∂a_n/∂r_t = ĥ_n
    d_a_r = d_r * r * (1 - r)  # σ' = r_t (1 − r_t)
    d_a_z = d_z * z * (1 - z)  # σ' = z_t (1 − z_t)
    d_x_proj = torch.cat([d_a_r, d_a_z, d_a_n], dim=1)  # ∂a/∂x̂ = 1 for each gate
    d_h_proj = torch.cat([d_a_r, d_a_z, d_a_n * r], dim=1)  # ∂a_n/∂ĥ_n = r_t
    d_h_prev = torch.addmm(d_h * z, d_h_proj, W_hh)  # ∂h_t/∂h_{t-1} = z_t, plus through ĥ_t
    return d_x_proj, d_h_proj, d_h_prev
