"""The GRU as Cho et al. wrote it: one step forward, the same step backward.
Derivation and the "which GRU is this?" audit: docs/variants.md#chogru.

Cho et al. (2014), "Learning Phrase Representations using RNN Encoder–Decoder for Statistical
Machine Translation", eqs (5)–(8): the reset gate multiplies h_{t−1} *before* the recurrent
product of the candidate, r_t ⊙ h_{t−1} then W_hn. torch.nn.GRU (like cuDNN) multiplies after
it, r_t ⊙ (h_{t−1} W_hnᵀ + b_hn) (gru.py). Gate order r, z, n and torch.nn.GRU's parameters, so
its weights load as they are. No bias sits inside a product with r here, so both biases fold
into x̂_t = x_t W_ihᵀ + b_ih + b_hh (unroll.py). W_hh's rows split as W_hr,z (2H, H), W_hn (H, H).

    r_t = σ(x̂_r + h_{t−1} W_hrᵀ)                                 eq (5)
    z_t = σ(x̂_z + h_{t−1} W_hzᵀ)                                 eq (6)
    n_t = tanh(x̂_n + (r_t ⊙ h_{t−1}) W_hnᵀ)                       eq (8)
    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}                         eq (7)
"""

import torch
from torch import Tensor

from scratch.declaration import Cell, Product, StepBackward, Weights
from scratch.fast.chogru import CHOGRU_LOOP


# --8<-- [start:chogru_step]
def chogru_step(x_proj: Tensor, state: tuple, w: Weights):
    """One step forward. Returns (h_t,) (N, H) and what the backward step needs."""
    (h_prev,) = state
    H = h_prev.shape[1]
    W_hrz, W_hn = w.W_hh[: 2 * H], w.W_hh[2 * H :]
    x_rz, x_n = x_proj[:, : 2 * H], x_proj[:, 2 * H :]
    rz = torch.sigmoid(torch.addmm(x_rz, h_prev, W_hrz.t()))  # (C1) r_t, z_t = σ(x̂ + h W_hr,zᵀ)
    r, z = rz.chunk(2, dim=1)
    s = r * h_prev  # (C2) s_t = r_t ⊙ h_{t−1}: reset before the product
    n = torch.tanh(torch.addmm(x_n, s, W_hn.t()))  # (C3) n_t = tanh(x̂_n + s_t W_hnᵀ)
    h = (1 - z) * n + z * h_prev  # (C4) h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}
    return (h,), (r, z, n, s, h_prev)
    # --8<-- [end:chogru_step]


def chogru_step_backward(d_state: tuple, w: Weights, saved: tuple):
    """d_state: (dL/dh_t,). Returns dL/dx̂_t (N, 3H), dL/dh_{t−1}, and W_hh's share in two
    blocks of rows: [r, z] from h_{t−1}, n from s_t = r_t ⊙ h_{t−1}."""
    (d_h,), (r, z, n, s, h_prev) = d_state, saved
    H = h_prev.shape[1]
    W_hrz, W_hn = w.W_hh[: 2 * H], w.W_hh[2 * H :]
    d_a_n = d_h * (1 - z) * (1 - n * n)  # (C4) ∂h_t/∂n_t = 1 − z_t; (C3) tanh' = 1 − n_t²
    d_a_z = d_h * (h_prev - n) * z * (1 - z)  # (C4) ∂h_t/∂z_t = h_{t−1} − n_t; (C1) σ'
    d_s = d_a_n @ W_hn  # (C3) ∂(s_t W_hnᵀ)/∂s_t = W_hn
    d_a_r = d_s * h_prev * r * (1 - r)  # (C2) ∂s_t/∂r_t = h_{t−1}; (C1) σ'
    d_a_rz = torch.cat([d_a_r, d_a_z], dim=1)
    # h_{t−1} reaches h_t directly (C4: z_t), through s_t (C2: r_t) and through the gates (C1)
    d_h_prev = torch.addmm(d_h * z + d_s * r, d_a_rz, W_hrz)
    d_x_proj = torch.cat([d_a_rz, d_a_n], dim=1)  # (C1, C3) ∂a/∂x̂ = 1 for each gate
    d_W_hh = (Product(d_a_rz, h_prev), Product(d_a_n, s))  # (C1) Σ d_a_rzᵀ h; (C3) Σ d_a_nᵀ s
    return StepBackward(d_x_proj, (d_h_prev,), {"weight_hh": d_W_hh}, (d_h,))


CHOGRU_CELL = Cell(
    key="chogru",
    about="the GRU as Cho et al. wrote it",
    layer="ChoGRU",
    gates=("r", "z", "n"),
    states=("h",),
    x_proj_biases=("bias_ih", "bias_hh"),  # both fold: no bias inside the reset product
    step=chogru_step,
    step_backward=chogru_step_backward,
    manual_loop=CHOGRU_LOOP,
)
