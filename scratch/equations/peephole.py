"""Peephole LSTM: one step forward, the same step backward. Derivation: docs/variants.md#peephole.

Gers, Schraudolph & Schmidhuber (2002), "Learning Precise Timing with LSTM Recurrent Networks":
the gates also see the cell state through diagonal weights, the input and forget gates the
previous one, c_{t−1}, and the output gate the new one, c_t, so o_t is formed after c_t. Gate
order i, f, g, o as in torch.nn.LSTM; x̂_t = x_t W_ihᵀ + b_ih + b_hh (unroll.py).

    a_t = x̂_t + h_{t−1} W_hhᵀ                      (N, 4H), split into a_i, a_f, a_g, a_o
    i_t = σ(a_i + w_ci ⊙ c_{t−1})    f_t = σ(a_f + w_cf ⊙ c_{t−1})    g_t = tanh(a_g)
    c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t
    o_t = σ(a_o + w_co ⊙ c_t)
    h_t = o_t ⊙ tanh(c_t)

With w_ci = w_cf = w_co = 0 this is torch.nn.LSTM; the peepholes start there (declaration).
"""

import torch
from torch import Tensor

from scratch.declaration import Cell, ExtraParam, Product, StepBackward, Weights
from scratch.fast.peephole import PEEPHOLE_LOOP


# --8<-- [start:peephole_step]
def peephole_step(x_proj: Tensor, state: tuple, w: Weights):
    """One step forward. Returns (h_t, c_t) and what the backward step needs."""
    h_prev, c_prev = state
    w_ci, w_cf, w_co = (w.extra[k] for k in ("weight_ci", "weight_cf", "weight_co"))
    a = torch.addmm(x_proj, h_prev, w.W_hh.t())  # (P1) a_t = x̂_t + h_{t−1} W_hhᵀ   (N, 4H)
    a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
    i = torch.sigmoid(a_i + w_ci * c_prev)  # (P2) i_t = σ(a_i + w_ci ⊙ c_{t−1})
    f = torch.sigmoid(a_f + w_cf * c_prev)  # (P3) f_t = σ(a_f + w_cf ⊙ c_{t−1})
    g = torch.tanh(a_g)  # (P4) g_t = tanh(a_g)
    c = f * c_prev + i * g  # (P5) c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t
    o = torch.sigmoid(a_o + w_co * c)  # (P6) o_t = σ(a_o + w_co ⊙ c_t)
    tanh_c = torch.tanh(c)
    h = o * tanh_c  # (P7) h_t = o_t ⊙ tanh(c_t)
    return (h, c), (i, f, g, o, h_prev, c_prev, c, tanh_c)
    # --8<-- [end:peephole_step]


def peephole_step_backward(d_state: tuple, w: Weights, saved: tuple):
    """d_state: dL/dh_t and dL/dc_t. Returns dL/da_t (N, 4H), which is also dL/dx̂_t,
    dL/d(h_{t−1}, c_{t−1}), and the shares of W_hh and the three peepholes."""
    (d_h, d_c), (i, f, g, o, h_prev, c_prev, c, tanh_c) = d_state, saved
    w_ci, w_cf, w_co = (w.extra[k] for k in ("weight_ci", "weight_cf", "weight_co"))
    d_a_o = d_h * tanh_c * o * (1 - o)  # (P7) ∂h_t/∂o_t = tanh(c_t); (P6) σ' = o(1 − o)
    d_c = d_c + d_h * o * (1 - tanh_c * tanh_c)  # (P7) ∂h_t/∂c_t = o_t ⊙ (1 − tanh² c_t)
    d_c = d_c + d_a_o * w_co  # (P6) ∂a_o/∂c_t = w_co: the output gate's peephole
    d_a_i = d_c * g * i * (1 - i)  # (P5) ∂c_t/∂i_t = g_t; (P2) σ'
    d_a_f = d_c * c_prev * f * (1 - f)  # (P5) ∂c_t/∂f_t = c_{t−1}; (P3) σ'
    d_a_g = d_c * i * (1 - g * g)  # (P5) ∂c_t/∂g_t = i_t; (P4) tanh' = 1 − g²
    # (P5) ∂c_t/∂c_{t−1} = f_t; (P2, P3) ∂(a_i, a_f)/∂c_{t−1} = w_ci, w_cf: the peepholes
    d_c_prev = d_c * f + d_a_i * w_ci + d_a_f * w_cf
    d_a = torch.cat([d_a_i, d_a_f, d_a_g, d_a_o], dim=1)  # dL/da_t                  (N, 4H)
    d_h_prev = d_a @ w.W_hh  # (P1) ∂a_t/∂h_{t−1} = W_hh
    d_weights = {
        "weight_hh": Product(d_a, h_prev),  # (P1) d_W_hh = Σ_t d_a_tᵀ h_{t−1}
        "weight_ci": (d_a_i * c_prev).sum(0),  # (P2) ∂/∂w_ci = c_{t−1}
        "weight_cf": (d_a_f * c_prev).sum(0),  # (P3) ∂/∂w_cf = c_{t−1}
        "weight_co": (d_a_o * c).sum(0),  # (P6) ∂/∂w_co = c_t
    }
    return StepBackward(d_a, (d_h_prev, d_c_prev), d_weights, (d_h, d_c))


PEEPHOLE_CELL = Cell(
    key="peephole",
    about="LSTM with peephole connections",
    layer="PeepholeLSTM",
    gates=("i", "f", "g", "o"),
    states=("h", "c"),
    x_proj_biases=("bias_ih", "bias_hh"),  # both biases fold into x̂, as in the LSTM
    step=peephole_step,
    step_backward=peephole_step_backward,
    manual_loop=PEEPHOLE_LOOP,
    extra=tuple(  # shape (H,); zeros: the peephole LSTM starts as torch.nn.LSTM
        ExtraParam(kind, lambda H: (H,), "zeros")
        for kind in ("weight_ci", "weight_cf", "weight_co")
    ),
)
