"""LSTM cell: one step forward, the same step backward. Derivation: docs/cells.md#lstm.

Gate order i, f, g, o as in torch.nn.LSTM. unroll.py computes x̂_t = x_t W_ihᵀ + b_ih + b_hh
for all t before the loop. With a projection (proj_size > 0) the state h_t is m_t W_hrᵀ.

    a_t = x̂_t + h_{t-1} W_hhᵀ                 (N, 4H), split into a_i, a_f, a_g, a_o
    i_t = σ(a_i)   f_t = σ(a_f)   g_t = tanh(a_g)   o_t = σ(a_o)
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
    m_t = o_t ⊙ tanh(c_t)
    h_t = m_t                  (or m_t W_hrᵀ with a projection)
"""

import torch
from torch import Tensor


def lstm_step(x_proj: Tensor, h_prev: Tensor, c_prev: Tensor, W_hh: Tensor, W_hr: Tensor | None):
    """One step forward. Returns h_t, c_t and what the backward step needs."""
    a = torch.addmm(x_proj, h_prev, W_hh.t())  # a_t = x̂_t + h_{t-1} W_hhᵀ       (N, 4H)
    a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
    i = torch.sigmoid(a_i)  # i_t = σ(a_i)
    f = torch.sigmoid(a_f)  # f_t = σ(a_f)
    g = torch.tanh(a_g)  # g_t = tanh(a_g)
    o = torch.sigmoid(a_o)  # o_t = σ(a_o)
    c = f * c_prev + i * g  # c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
    tanh_c = torch.tanh(c)
    m = o * tanh_c  # m_t = o_t ⊙ tanh(c_t)
    h = m if W_hr is None else m @ W_hr.t()  # h_t = m_t W_hrᵀ   (N, P)
    return h, c, (i, f, g, o, c_prev, tanh_c, m)


def lstm_step_backward(d_h: Tensor, d_c: Tensor, W_hh: Tensor, W_hr: Tensor | None, saved: tuple):
    """d_h, d_c: dL/dh_t, dL/dc_t (from the output at t and from step t+1).

    Returns dL/da_t (N, 4H), which is also dL/dx̂_t, dL/dh_{t-1} and dL/dc_{t-1}.
    """
    i, f, g, o, c_prev, tanh_c, _ = saved
    d_m = d_h if W_hr is None else d_h @ W_hr  # ∂h_t/∂m_t = W_hr
    d_o = d_m * tanh_c  # ∂m_t/∂o_t = tanh(c_t)
    d_c = d_c + d_m * o * (1 - tanh_c * tanh_c)  # ∂m_t/∂c_t = o_t ⊙ (1 − tanh² c_t)
    d_i = d_c * g  # ∂c_t/∂i_t = g_t
    d_f = d_c * c_prev  # ∂c_t/∂f_t = c_{t-1}
    d_g = d_c * i  # ∂c_t/∂g_t = i_t
    d_c_prev = d_c * f  # ∂c_t/∂c_{t-1} = f_t
    d_a = torch.cat(
        [
            d_i * i * (1 - i),  # σ'(a) = σ(a)(1 − σ(a))
            d_f * f * (1 - f),
            d_g * (1 - g * g),  # tanh'(a) = 1 − tanh²(a)
            d_o * o * (1 - o),
        ],
        dim=1,
    )
    d_h_prev = d_a @ W_hh  # ∂a_t/∂h_{t-1} = W_hh
    return d_a, d_h_prev, d_c_prev
