"""Elman RNN cell: one step forward, the same step backward. Derivation: docs/cells.md#elman.

    a_t = x̂_t + h_{t-1} W_hhᵀ          x̂_t = x_t W_ihᵀ + b_ih + b_hh   (unroll.py, all t at once)
    h_t = φ(a_t)                        φ = tanh or relu

Rows are batch elements: x̂_t is (N, H), h_{t-1} is (N, H), W_hh is (H, H).
"""

import torch
from torch import Tensor


def elman_step(x_proj: Tensor, h_prev: Tensor, W_hh: Tensor, nonlinearity: str):
    """One step forward. Returns h_t (N, H) and what the backward step needs: (h_t,)."""
    a = torch.addmm(x_proj, h_prev, W_hh.t())  # a_t = x̂_t + h_{t-1} W_hhᵀ          (N, H)
    h = torch.tanh(a) if nonlinearity == "tanh" else torch.relu(a)  # h_t = φ(a_t)
    return h, (h,)


def elman_step_backward(d_h: Tensor, W_hh: Tensor, saved: tuple, nonlinearity: str):
    """d_h: dL/dh_t, from the output at t and from step t+1.

    Returns dL/da_t (N, H), which is also dL/dx̂_t, and dL/dh_{t-1} (N, H).
    """
    (h,) = saved
    if nonlinearity == "tanh":
        d_a = d_h * (1 - h * h)  # tanh'(a_t) = 1 − h_t²
    else:
        d_a = d_h * (h > 0)  # relu'(a_t) = 1[a_t > 0] = 1[h_t > 0]
    d_h_prev = d_a @ W_hh  # ∂a_t/∂h_{t-1} = W_hh
    return d_a, d_h_prev
