"""Layer-normalised LSTM: one step forward, the same step backward. Derivation: docs/variants.md#lnlstm.

Ba, Kiros & Hinton (2016), "Layer Normalization", supplementary material, eqs (20)–(22), in
torch.nn's gate order i, f, g, o. Each of the two products is normalised over its whole 4H row,
with its own gain and bias, and the biases b_ih + b_hh are added after the normalisation, so
unroll.py projects x̂_t = x_t W_ihᵀ with no bias. The carried cell state is the un-normalised c_t
of eq (21); only the output reads LN_c(c_t), eq (22).

    â_t = LN_ih(x̂_t) + LN_hh(h_{t−1} W_hhᵀ) + b_ih + b_hh      (N, 4H)       eq (20)
    i_t = σ(â_i)   f_t = σ(â_f)   g_t = tanh(â_g)   o_t = σ(â_o)             eq (21)
    c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t                                          eq (21)
    h_t = o_t ⊙ tanh(LN_c(c_t))                                              eq (22)

LN(z; γ, β) = γ ⊙ (z − μ) / √(σ² + ε) + β over each row (N0), layer_norm.py.
"""

import torch
from torch import Tensor

from scratch.declaration import Cell, ExtraParam, Product, StepBackward, Weights
from scratch.equations.layer_norm import layer_norm, layer_norm_backward
from scratch.fast.lnlstm import LNLSTM_LOOP


# --8<-- [start:lnlstm_step]
def lnlstm_step(x_proj: Tensor, state: tuple, w: Weights):
    """One step forward. x_proj: x̂_t = x_t W_ihᵀ (N, 4H). Returns (h_t, c_t) and what it saved."""
    h_prev, c_prev = state
    ln = w.extra
    a_ih, ln_ih = layer_norm(x_proj, ln["ln_ih_weight"], ln["ln_ih_bias"])  # (N1) LN_ih(x̂_t)
    h_proj = h_prev @ w.W_hh.t()  # (N1) h_{t−1} W_hhᵀ                                 (N, 4H)
    a_hh, ln_hh = layer_norm(h_proj, ln["ln_hh_weight"], ln["ln_hh_bias"])  # (N1) LN_hh(·)
    a = a_ih + a_hh  # (N1) â_t = LN_ih + LN_hh (+ b_ih + b_hh)
    for b in (w.b_ih, w.b_hh):
        a = a if b is None else a + b
    a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
    i = torch.sigmoid(a_i)  # (N2) i_t = σ(â_i)
    f = torch.sigmoid(a_f)  # (N2) f_t = σ(â_f)
    g = torch.tanh(a_g)  # (N2) g_t = tanh(â_g)
    o = torch.sigmoid(a_o)  # (N2) o_t = σ(â_o)
    c = f * c_prev + i * g  # (N3) c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t: carried as it is
    n_c, ln_c = layer_norm(c, ln["ln_c_weight"], ln["ln_c_bias"])  # (N4) LN_c(c_t)
    tanh_n = torch.tanh(n_c)
    h = o * tanh_n  # (N4) h_t = o_t ⊙ tanh(LN_c(c_t))
    return (h, c), (i, f, g, o, h_prev, c_prev, tanh_n, ln_ih, ln_hh, ln_c)
    # --8<-- [end:lnlstm_step]


def lnlstm_step_backward(d_state: tuple, w: Weights, saved: tuple):
    """d_state: dL/dh_t and dL/dc_t. Returns dL/dx̂_t (N, 4H), dL/d(h_{t−1}, c_{t−1}), and the
    shares of W_hh, the biases and the six layer-norm parameters."""
    (d_h, d_c), (i, f, g, o, h_prev, c_prev, tanh_n, ln_ih, ln_hh, ln_c) = d_state, saved
    ln = w.extra
    d_o = d_h * tanh_n  # (N4) ∂h_t/∂o_t = tanh(LN_c(c_t))
    d_n_c = d_h * o * (1 - tanh_n * tanh_n)  # (N4) ∂h_t/∂LN_c = o_t ⊙ (1 − tanh²)
    d_c_ln, d_gain_c, d_bias_c = layer_norm_backward(d_n_c, ln["ln_c_weight"], ln_c)  # (N4, N0)
    d_c = d_c + d_c_ln  # (N4) the output's path joins the carried one
    d_c_prev = d_c * f  # (N3) ∂c_t/∂c_{t−1} = f_t
    d_a = torch.cat(
        [
            d_c * g * i * (1 - i),  # (N3, N2) ∂c_t/∂i_t = g_t, σ' = i(1 − i)
            d_c * c_prev * f * (1 - f),  # (N3, N2) ∂c_t/∂f_t = c_{t−1}
            d_c * i * (1 - g * g),  # (N3, N2) ∂c_t/∂g_t = i_t, tanh' = 1 − g²
            d_o * o * (1 - o),  # (N2) σ' = o(1 − o)
        ],
        dim=1,
    )  # dL/dâ_t                                                                       (N, 4H)
    d_x_proj, d_gain_ih, d_bias_ih = layer_norm_backward(d_a, ln["ln_ih_weight"], ln_ih)  # (N1)
    d_h_proj, d_gain_hh, d_bias_hh = layer_norm_backward(d_a, ln["ln_hh_weight"], ln_hh)  # (N1)
    d_h_prev = d_h_proj @ w.W_hh  # (N1) ∂(h_{t−1} W_hhᵀ)/∂h_{t−1} = W_hh
    d_weights = {
        "weight_hh": Product(d_h_proj, h_prev),  # (N1) d_W_hh = Σ_t d_ĥ_tᵀ h_{t−1}
        "ln_ih_weight": d_gain_ih,
        "ln_ih_bias": d_bias_ih,
        "ln_hh_weight": d_gain_hh,
        "ln_hh_bias": d_bias_hh,
        "ln_c_weight": d_gain_c,
        "ln_c_bias": d_bias_c,
    }
    for kind, b in (("bias_ih", w.b_ih), ("bias_hh", w.b_hh)):
        if b is not None:
            d_weights[kind] = d_a.sum(0)  # (N1) ∂â_t/∂b = 1
    return StepBackward(d_x_proj, (d_h_prev, d_c_prev), d_weights, (d_h, d_c))


LNLSTM_CELL = Cell(
    key="lnlstm",
    about="layer-normalised LSTM",
    layer="LayerNormLSTM",
    gates=("i", "f", "g", "o"),
    states=("h", "c"),
    x_proj_biases=(),  # the biases come after the normalisation, inside the step
    step=lnlstm_step,
    step_backward=lnlstm_step_backward,
    manual_loop=LNLSTM_LOOP,
    extra=(  # gains (4H,) or (H,) start at 1 and biases at 0, as torch.nn.LayerNorm's
        ExtraParam("ln_ih_weight", lambda H: (4 * H,), "ones", gate_stacked=True),
        ExtraParam("ln_ih_bias", lambda H: (4 * H,), "zeros", gate_stacked=True),
        ExtraParam("ln_hh_weight", lambda H: (4 * H,), "ones", gate_stacked=True),
        ExtraParam("ln_hh_bias", lambda H: (4 * H,), "zeros", gate_stacked=True),
        ExtraParam("ln_c_weight", lambda H: (H,), "ones"),
        ExtraParam("ln_c_bias", lambda H: (H,), "zeros"),
    ),
)
