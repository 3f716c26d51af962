"""LSTM cell: one step forward, the same step backward. Derivation: docs/cells.md#lstm.

Gate order i, f, g, o as in torch.nn.LSTM. unroll.py computes x̂_t = x_t W_ihᵀ + b_ih + b_hh
for all t before the loop. With a projection (proj_size > 0) the state h_t is m_t W_hrᵀ.

    a_t = x̂_t + h_{t−1} W_hhᵀ                 (N, 4H), split into a_i, a_f, a_g, a_o
    i_t = σ(a_i)   f_t = σ(a_f)   g_t = tanh(a_g)   o_t = σ(a_o)
    c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t
    m_t = o_t ⊙ tanh(c_t)
    h_t = m_t                  (or m_t W_hrᵀ with a projection)
"""

import torch
from torch import Tensor

from scratch.declaration import Cell, Product, StepBackward, Weights
from scratch.fast.lstm import LSTM_LOOP


# --8<-- [start:lstm_step]
def lstm_step(x_proj: Tensor, state: tuple, w: Weights):
    """One step forward. Returns (h_t, c_t) and what the backward step needs."""
    h_prev, c_prev = state
    a = torch.addmm(x_proj, h_prev, w.W_hh.t())  # (L1) a_t = x̂_t + h_{t−1} W_hhᵀ   (N, 4H)
    a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
    i = torch.sigmoid(a_i)  # (L2) i_t = σ(a_i)
    f = torch.sigmoid(a_f)  # (L3) f_t = σ(a_f)
    g = torch.tanh(a_g)  # (L4) g_t = tanh(a_g)
    o = torch.sigmoid(a_o)  # (L5) o_t = σ(a_o)
    c = f * c_prev + i * g  # (L6) c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t
    tanh_c = torch.tanh(c)
    m = o * tanh_c  # (L7) m_t = o_t ⊙ tanh(c_t)
    h = m if w.W_hr is None else m @ w.W_hr.t()  # (L8) h_t = m_t W_hrᵀ   (N, P)
    return (h, c), (i, f, g, o, h_prev, c_prev, tanh_c, m)
    # --8<-- [end:lstm_step]


# --8<-- [start:lstm_step_backward]
def lstm_step_backward(d_state: tuple, w: Weights, saved: tuple):
    """d_state: dL/dh_t and dL/dc_t (from the output at t and from step t+1).

    Returns dL/da_t (N, 4H), which is also dL/dx̂_t, dL/d(h_{t−1}, c_{t−1}), and the shares
    of W_hh and W_hr.
    """
    (d_h, d_c), (i, f, g, o, h_prev, c_prev, tanh_c, m) = d_state, saved
    d_m = d_h if w.W_hr is None else d_h @ w.W_hr  # (L8) ∂h_t/∂m_t = W_hr
    d_o = d_m * tanh_c  # (L7) ∂m_t/∂o_t = tanh(c_t)
    d_c = d_c + d_m * o * (1 - tanh_c * tanh_c)  # (L7) ∂m_t/∂c_t = o_t ⊙ (1 − tanh² c_t)
    d_i = d_c * g  # (L6) ∂c_t/∂i_t = g_t
    d_f = d_c * c_prev  # (L6) ∂c_t/∂f_t = c_{t−1}
    d_g = d_c * i  # (L6) ∂c_t/∂g_t = i_t
    d_c_prev = d_c * f  # (L6) ∂c_t/∂c_{t−1} = f_t
    d_a = torch.cat(
        [
            d_i * i * (1 - i),  # (L2) σ'(a) = σ(a)(1 − σ(a))
            d_f * f * (1 - f),  # (L3)
            d_g * (1 - g * g),  # (L4) tanh'(a) = 1 − tanh²(a)
            d_o * o * (1 - o),  # (L5)
        ],
        dim=1,
    )
    d_h_prev = d_a @ w.W_hh  # (L1) ∂a_t/∂h_{t−1} = W_hh
    d_weights = {"weight_hh": Product(d_a, h_prev)}  # (L1) d_W_hh = Σ_t d_a_tᵀ h_{t−1}
    if w.W_hr is not None:
        d_weights["weight_hr"] = Product(d_h, m)  # (L8) d_W_hr = Σ_t d_h_tᵀ m_t
    return StepBackward(d_a, (d_h_prev, d_c_prev), d_weights, (d_h, d_c))
    # --8<-- [end:lstm_step_backward]


LSTM_CELL = Cell(
    key="lstm",
    about="long short-term memory",
    layer="LSTM",
    gates=("i", "f", "g", "o"),
    states=("h", "c"),
    x_proj_biases=("bias_ih", "bias_hh"),  # both biases fold into x̂
    step=lstm_step,
    step_backward=lstm_step_backward,
    manual_loop=LSTM_LOOP,
    torch_nn="LSTM",
)
