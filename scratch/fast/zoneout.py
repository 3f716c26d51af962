"""The zoneout LSTM's layer loop of bptt="manual", arranged for speed. Same equations as zoneout.py.

fast/lstm.py's arrangement (gates o, i, f, g; buffers allocated once; factors for all steps
at once), with the LSTM's proposal c̃_t kept apart from the carried c_t and two lerps a step:
    c_t = lerp(c̃_t, c_{t−1}, d^c_t)          h_t = lerp(o_t ⊙ tanh(c̃_t), h_{t−1}, d^h_t)
The factors are the LSTM's at c̃_t (fast.lstm.lstm_factors), the output's two scaled by
1 − d^h_t, so that a backward step is
    d_c̃_t = d_c_t ⊙ (1 − d^c_t) + d_h_t ⊙ ∂h_t/∂c̃_t
    [d_a_i, d_a_f, d_a_g, d_c_{t−1}] = d_c̃_t ⊙ [∂c̃/∂a_i, ∂c̃/∂a_f, ∂c̃/∂a_g, f_t]   (one mul)
    d_c_{t−1} += d_c_t ⊙ d^c_t                    d_a_o = d_h_t ⊙ ∂h_t/∂a_o
    d_h_{t−1} = ∂L/∂y_{t−1} + d_h_t ⊙ d^h_t + d_a_t W_hh              (blocks.carry)
"""

import torch

from scratch.declaration import ManualLoop
from scratch.fast.blocks import begin_backward, carry, state_grad_views
from scratch.fast.lstm import MANUAL_GATE_ORDER, lstm_factors
from scratch.steps import Steps


def zoneout_layer_forward(x_proj, state0, w, steps: Steps):
    """x_proj: x̂ for all steps (T_total, 4H), gates o, i, f, g, overwritten by the gates.
    w.masks["h"], w.masks["c"]: d^h, d^c (T_total, H). Returns outputs, (h_n, c_n), saved."""
    h, c = state0
    H = c.shape[1]
    gates = x_proj
    C_new = x_proj.new_empty(x_proj.shape[0], H)  # c̃_t                          (T_total, H)
    C, Y = torch.empty_like(C_new), torch.empty_like(C_new)  # c_t, h_t
    spans = (0, 4), (0, 3), (0, 1), (1, 2), (2, 3), (3, 4)
    a, oif, o, i, f, g = steps.split_columns(gates, H, *spans)
    C_news, Cs, Ys = map(steps.split, (C_new, C, Y))
    keep_h, keep_c = steps.split(w.masks["h"]), steps.split(w.masks["c"])
    W_hh_t = w.W_hh.t()
    for t in steps.forward_order:
        h_prev, c_prev = steps.rows(h, t), steps.rows(c, t)
        a[t].addmm_(h_prev, W_hh_t)  # (L1) a_t = x̂_t + h_{t−1} W_hhᵀ
        oif[t].sigmoid_()  # (L2, L3, L5)
        g[t].tanh_()  # (L4)
        torch.mul(f[t], c_prev, out=C_news[t]).addcmul_(i[t], g[t])  # (L6) c̃ = f c_{t−1} + i g
        torch.lerp(C_news[t], c_prev, keep_c[t], out=Cs[t])  # (Z1) c_t = lerp(c̃_t, c_{t−1}, d^c)
        torch.tanh(C_news[t], out=Ys[t]).mul_(o[t]).lerp_(h_prev, keep_h[t])  # (L7, Z2) h_t
        h, c = steps.merge(Ys[t], h), steps.merge(Cs[t], c)
    return Y, (h, c), (gates, C_new, C, Y, *state0)


def zoneout_layer_backward(d_Y, d_state_n, w, steps: Steps, saved, state_grads):
    """BPTT with the factors in hand. Returns dL/dx̂ (gates o, i, f, g), dL/d(h_0, c_0), dL/dW_hh."""
    gates, C_new, C, Y, h0, c0 = saved
    D_h, D_c = w.masks["h"], w.masks["c"]
    # [d_a_o, d_a_i, d_a_f, d_a_g, d_c_{t−1}], factors first, as in fast/lstm.py   (T_total, 5H)
    grads, d_h_d_cnew = lstm_factors(gates, C_new, C, c0, steps)
    H = C.shape[1]
    unkept_h = torch.sub(1, D_h)  # 1 − d^h = ∂h_t/∂m_t
    grads[:, :H].mul_(unkept_h)  # ∂h_t/∂a_o = (1 − d^h) ⊙ ∂m_t/∂a_o
    d_h_d_cnew.mul_(unkept_h)  # ∂h_t/∂c̃_t = (1 − d^h) ⊙ o_t (1 − tanh² c̃_t)
    o_grad, d_As, d_c_prevs = steps.split_columns(grads, H, (0, 1), (0, 4), (4, 5))
    c_grad = steps.split(grads[:, H:].view(-1, 4, H))  # i, f, g, c_{t−1} as (N, 4, H)
    unkept_c = torch.sub(1, D_c)  # 1 − d^c = ∂c_t/∂c̃_t
    d_Ys, d_h_d_cnews, unkept_cs = map(steps.split, (d_Y, d_h_d_cnew, unkept_c))
    kept_h, kept_c = steps.split(D_h), steps.split(D_c)
    rec_h, rec_c = state_grad_views(steps, state_grads, "h", "c")
    d_h_n, d_c_next = d_state_n
    d_h, d_h0, buffers = begin_backward(steps, d_Ys, d_h_n, h0)  # d_h: dL/dh_t
    for k, t in enumerate(steps.backward_order):
        d_c = steps.rows(d_c_next, t)  # dL/dc_t, from step t+1
        if rec_h is not None:
            rec_h[t].copy_(d_h)
            rec_c[t].copy_(d_c)
        d_c_new = torch.mul(d_c, unkept_cs[t]).addcmul_(d_h, d_h_d_cnews[t])  # (Z1, Z2, L7)
        c_grad[t].mul_(d_c_new.unsqueeze(1))  # (L6) d_a_{i,f,g}, and d_c̃ ⊙ f_t
        d_c_prevs[t].addcmul_(d_c, kept_c[t])  # (Z1) + d_c_t ⊙ d^c_t
        o_grad[t].mul_(d_h)  # (L7, Z2) d_a_o = d_h ⊙ ∂h/∂a_o
        direct = ((d_h, kept_h[t]),)  # (Z2) ∂h_t/∂h_{t−1} = d^h_t, beside W_hh (L1)
        d_h = carry(steps, t, d_As[t], w.W_hh, d_Ys, d_h_n, d_h0, direct, buffers[k % 2])
        d_c_next = steps.merge(d_c_prevs[t], d_c_next)
    d_A = grads[:, : 4 * H]
    d_weights = {"weight_hh": steps.previous_product(d_A, Y, h0)}  # (L1) Σ_t d_a_tᵀ h_{t−1}
    return (d_A,), (d_h0, d_c_next.clone()), d_weights


ZONEOUT_LOOP = ManualLoop(
    zoneout_layer_forward, zoneout_layer_backward, gate_order=MANUAL_GATE_ORDER
)
