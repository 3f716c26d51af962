"""The Elman layer loop of bptt="manual", arranged for speed. Same equations as elman.py.

Every step writes into one output buffer, and the derivative factor φ'(a_t) is computed once
for all steps at the end of the forward loop (docs/performance.md):
    tanh'(a_t) = 1 − h_t²          relu'(a_t) = 1[h_t > 0]
so that a backward step is d_a_t = d_h_t ⊙ φ'(a_t), then d_h_{t-1} = d_a_t W_hh.
"""

import torch

from scratch.steps import Steps


def elman_layer_forward(x_proj, state0, W_hh, b_hh, W_hr, steps: Steps, keep: bool, relu: bool):
    """x_proj: x̂ for all steps (T_total, H), both biases included. Returns outputs, (h_n,), saved."""
    (h,) = state0
    Y = torch.empty_like(x_proj)  # h_t of every step                            (T_total, H)
    xp, Ys = steps.split(x_proj), steps.split(Y)
    W_hh_t = W_hh.t()
    h_prevs = [None] * len(Ys)
    for t in steps.forward_order:
        h_prev = steps.rows(h, t)
        a = torch.addmm(xp[t], h_prev, W_hh_t, out=Ys[t])  # a_t = x̂_t + h_{t-1} W_hhᵀ
        if relu:
            a.relu_()  # h_t = relu(a_t)
        else:
            a.tanh_()  # h_t = tanh(a_t)
        h = steps.merge(Ys[t], h)
        h_prevs[t] = h_prev
    if not keep:
        return Y, (h,), None
    d_phi = (Y > 0).to(Y.dtype) if relu else 1 - Y * Y  # φ'(a_t)
    return Y, (h,), (d_phi, torch.cat(h_prevs))


def elman_layer_backward(d_Y, d_state_n, W_hh, W_hr, steps: Steps, saved):
    """BPTT with φ' in hand. Returns dL/dx̂ (T_total, H) twice (it is also dL/dĥ), H_prev, (dL/dh_0,)."""
    d_phi, H_prev = saved
    d_A = torch.empty_like(d_phi)  # dL/da_t of every step                       (T_total, H)
    d_Ys, d_As, d_phis = map(steps.split, (d_Y, d_A, d_phi))
    d_h_next = d_state_n[0]
    for t in steps.backward_order:
        d_h = d_Ys[t] + steps.rows(d_h_next, t)  # from the output at t and from step t+1
        torch.mul(d_h, d_phis[t], out=d_As[t])  # d_a_t = d_h_t ⊙ φ'(a_t)
        d_h_next = steps.merge(d_As[t] @ W_hh, d_h_next)  # d_h_{t-1} = d_a_t W_hh
    return d_A, d_A, H_prev, (d_h_next,), None
