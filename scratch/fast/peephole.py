"""The peephole LSTM's layer loop of bptt="manual", arranged for speed. Same equations as peephole.py.

fast/lstm.py's arrangement: gates kept as o, i, f, g, buffers allocated once, the LSTM's
derivative factors for all steps at once (fast.lstm.lstm_factors: they are the same
expressions in the gates and the cell states). What the peepholes add: i and f read c_{t−1}
through w_ci, w_cf before their one sigmoid call, o reads c_t through w_co after c_t is made,
and a backward step carries two more paths into the cell state,
    d_c_t     += d_a_o ⊙ w_co                               (P6)
    d_c_{t−1} += d_a_i ⊙ w_ci + d_a_f ⊙ w_cf                (P2, P3)
The peepholes' own gradients are three column sums after the loop.
"""

import torch

from scratch.declaration import ManualLoop
from scratch.fast.blocks import begin_backward, carry, state_grad_views
from scratch.fast.lstm import MANUAL_GATE_ORDER, lstm_factors
from scratch.steps import Steps


def peephole_layer_forward(x_proj, state0, w, steps: Steps):
    """x_proj: x̂ for all steps (T_total, 4H), gates o, i, f, g, overwritten by the gates.
    Returns outputs (T_total, H), (h_n, c_n), and what the backward needs."""
    h, c = state0
    H = c.shape[1]
    w_if = torch.stack([w.extra["weight_ci"], w.extra["weight_cf"]])  # (2, H)
    w_co = w.extra["weight_co"]
    gates = x_proj
    C = x_proj.new_empty(x_proj.shape[0], H)  # c_t                                (T_total, H)
    Y = torch.empty_like(C)  # h_t
    spans = (0, 4), (0, 1), (1, 3), (1, 2), (2, 3), (3, 4)
    a, o, if_, i, f, g = steps.split_columns(gates, H, *spans)
    Cs, Ys = steps.split(C), steps.split(Y)
    W_hh_t = w.W_hh.t()
    for t in steps.forward_order:
        c_prev = steps.rows(c, t)
        a[t].addmm_(steps.rows(h, t), W_hh_t)  # (P1) a_t = x̂_t + h_{t−1} W_hhᵀ
        # (P2, P3) i_t, f_t = σ(a_{i,f} + w_{ci,cf} ⊙ c_{t−1}), both in one (N, 2, H) view
        if_[t].unflatten(1, (2, H)).addcmul_(c_prev.unsqueeze(1), w_if).sigmoid_()
        g[t].tanh_()  # (P4) g_t = tanh(a_g)
        torch.mul(f[t], c_prev, out=Cs[t]).addcmul_(i[t], g[t])  # (P5) c = f c_{t−1} + i g
        o[t].addcmul_(Cs[t], w_co).sigmoid_()  # (P6) o_t = σ(a_o + w_co ⊙ c_t)
        torch.tanh(Cs[t], out=Ys[t]).mul_(o[t])  # (P7) h_t = o_t ⊙ tanh(c_t)
        h, c = steps.merge(Ys[t], h), steps.merge(Cs[t], c)
    return Y, (h, c), (gates, C, Y, *state0)


def peephole_layer_backward(d_Y, d_state_n, w, steps: Steps, saved, state_grads):
    """BPTT with the factors in hand. Returns dL/dx̂ (gates o, i, f, g), dL/d(h_0, c_0), and
    dL/dW_hh and the peepholes' gradients."""
    gates, C, Y, h0, c0 = saved
    w_ci, w_cf, w_co = (w.extra[k] for k in ("weight_ci", "weight_cf", "weight_co"))
    # [d_a_o, d_a_i, d_a_f, d_a_g, d_c_{t−1}], factors first, as in fast/lstm.py   (T_total, 5H)
    grads, d_h_d_c = lstm_factors(gates, C, C, c0, steps)
    H = C.shape[1]
    spans = (0, 1), (1, 2), (2, 3), (0, 4), (4, 5)
    d_ao, d_ai, d_af, d_As, d_c_prevs = steps.split_columns(grads, H, *spans)
    c_grad = steps.split(grads[:, H:].view(-1, 4, H))  # i, f, g, c_{t−1} as (N, 4, H)
    d_Ys, d_h_d_cs = steps.split(d_Y), steps.split(d_h_d_c)
    rec_h, rec_c = state_grad_views(steps, state_grads, "h", "c")
    d_h_n, d_c_next = d_state_n
    d_h, d_h0, buffers = begin_backward(steps, d_Ys, d_h_n, h0)  # d_h: dL/dh_t
    for k, t in enumerate(steps.backward_order):
        d_c = torch.addcmul(steps.rows(d_c_next, t), d_h, d_h_d_cs[t])  # (P7) + d_h ⊙ ∂h/∂c
        d_ao[t].mul_(d_h)  # (P7, P6) d_a_o = d_h ⊙ tanh(c_t) ⊙ o(1 − o)
        d_c.addcmul_(d_ao[t], w_co)  # (P6) ∂a_o/∂c_t = w_co
        if rec_h is not None:
            rec_h[t].copy_(d_h)
            rec_c[t].copy_(d_c)
        c_grad[t].mul_(d_c.unsqueeze(1))  # (P5, P2–P4) d_a_{i,f,g}, and d_c ⊙ f_t
        d_c_prevs[t].addcmul_(d_ai[t], w_ci).addcmul_(d_af[t], w_cf)  # (P2, P3) peepholes
        d_h = carry(steps, t, d_As[t], w.W_hh, d_Ys, d_h_n, d_h0, out=buffers[k % 2])  # (P1)
        d_c_next = steps.merge(d_c_prevs[t], d_c_next)
    d_A = grads[:, : 4 * H]
    C_prev = steps.previous(C, c0)
    d_weights = {
        "weight_hh": steps.previous_product(d_A, Y, h0),  # (P1) Σ_t d_a_tᵀ h_{t−1}
        "weight_ci": (grads[:, H : 2 * H] * C_prev).sum(0),  # (P2) Σ d_a_i ⊙ c_{t−1}
        "weight_cf": (grads[:, 2 * H : 3 * H] * C_prev).sum(0),  # (P3) Σ d_a_f ⊙ c_{t−1}
        "weight_co": (grads[:, :H] * C).sum(0),  # (P6) Σ d_a_o ⊙ c_t
    }
    return (d_A,), (d_h0, d_c_next.clone()), d_weights


PEEPHOLE_LOOP = ManualLoop(
    peephole_layer_forward, peephole_layer_backward, gate_order=MANUAL_GATE_ORDER
)
