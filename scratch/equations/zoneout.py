"""LSTM with zoneout: one step forward, the same step backward. Derivation: docs/variants.md#zoneout.

Krueger et al. (2017), "Zoneout: Regularizing RNNs by Randomly Preserving Hidden Activations",
the zoneout LSTM: per unit and step, each state keeps its previous value where its mask is 1.
The LSTM step (lstm.py) proposes c̃_t and the output o_t ⊙ tanh(c̃_t) from c̃_t, as in the
paper; then two masks, d^c_t for c (rate z_c) and d^h_t for h (rate z_h), choose per unit.
At evaluation the masks are their expectations, z_c and z_h.

    c̃_t, m_t = the LSTM step (L1–L7) on x̂_t, h_{t−1}, c_{t−1}:
        c̃_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t,   m_t = o_t ⊙ tanh(c̃_t)
    c_t = d^c_t ⊙ c_{t−1} + (1 − d^c_t) ⊙ c̃_t                   (Z1)
    h_t = d^h_t ⊙ h_{t−1} + (1 − d^h_t) ⊙ m_t                     (Z2)
"""

import torch
from torch import Tensor

from scratch.declaration import Cell, Weights
from scratch.equations.lstm import lstm_step, lstm_step_backward
from scratch.fast.zoneout import ZONEOUT_LOOP


# --8<-- [start:zoneout_step]
def zoneout_step(x_proj: Tensor, state: tuple, w: Weights):
    """One step forward. w.masks["h"], w.masks["c"]: this step's d^h_t, d^c_t (b_t, H)."""
    h_prev, c_prev = state
    d_h_mask, d_c_mask = w.masks["h"], w.masks["c"]
    (m, c_new), saved = lstm_step(x_proj, state, w)  # (L1–L7) c̃_t and m_t = o_t ⊙ tanh(c̃_t)
    c = torch.lerp(c_new, c_prev, d_c_mask)  # (Z1) c_t = d^c ⊙ c_{t−1} + (1 − d^c) ⊙ c̃_t
    h = torch.lerp(m, h_prev, d_h_mask)  # (Z2) h_t = d^h ⊙ h_{t−1} + (1 − d^h) ⊙ m_t
    return (h, c), saved
    # --8<-- [end:zoneout_step]


def zoneout_step_backward(d_state: tuple, w: Weights, saved: tuple):
    """d_state: dL/dh_t and dL/dc_t. The LSTM's step backward on dL/dm_t and dL/dc̃_t, plus the
    paths that keep the previous value."""
    d_h, d_c = d_state
    d_h_mask, d_c_mask = w.masks["h"], w.masks["c"]
    d_m = d_h * (1 - d_h_mask)  # (Z2) ∂h_t/∂m_t = 1 − d^h_t
    d_c_new = d_c * (1 - d_c_mask)  # (Z1) ∂c_t/∂c̃_t = 1 − d^c_t
    back = lstm_step_backward((d_m, d_c_new), w, saved)  # (L1–L7) through c̃_t and m_t
    d_h_prev, d_c_prev = back.d_state_prev
    d_h_prev = d_h_prev + d_h * d_h_mask  # (Z2) ∂h_t/∂h_{t−1} = d^h_t, beside the gates' path
    d_c_prev = d_c_prev + d_c * d_c_mask  # (Z1) ∂c_t/∂c_{t−1} = d^c_t, beside f_t through c̃_t
    return back._replace(d_state_prev=(d_h_prev, d_c_prev), d_state=(d_h, d_c))


ZONEOUT_CELL = Cell(
    key="zoneout",
    about="LSTM with zoneout on h and c",
    layer="ZoneoutLSTM",
    gates=("i", "f", "g", "o"),
    states=("h", "c"),
    x_proj_biases=("bias_ih", "bias_hh"),
    step=zoneout_step,
    step_backward=zoneout_step_backward,
    manual_loop=ZONEOUT_LOOP,
    masks={"h": "step", "c": "step"},  # d^h, d^c: (T_total, H), one row per sequence and step
)
