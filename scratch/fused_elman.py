"""The Elman layer loop of bptt="manual", arranged for speed and memory. Same equations as elman.py.

Each step writes h_t over its own rows of x̂ (which it no longer needs), so the forward loop
allocates nothing. The backward computes the derivative factor once for all steps from the
outputs (docs/performance.md):
    tanh'(a_t) = 1 − h_t²          relu'(a_t) = 1[h_t > 0]
and a backward step is then d_a_t = d_h_t ⊙ φ'(a_t); d_h_{t-1} = ∂L/∂y_{t-1} + d_a_t W_hh is
one addmm (steps.carry).
"""

import torch

from scratch.steps import Steps


def elman_layer_forward(x_proj, state0, W_hh, b_hh, W_hr, steps: Steps, keep: bool, relu: bool):
    """x_proj: x̂ for all steps (T_total, H), both biases included; overwritten by the outputs.
    Returns outputs (T_total, H), (h_n,) and what the backward needs beyond the outputs."""
    (h,) = state0
    W_hh_t = W_hh.t()
    xp = steps.split(x_proj)
    for t in steps.forward_order:
        a = xp[t].addmm_(steps.rows(h, t), W_hh_t)  # a_t = x̂_t + h_{t-1} W_hhᵀ
        if relu:
            a.relu_()  # h_t = relu(a_t)
        else:
            a.tanh_()  # h_t = tanh(a_t)
        h = steps.merge(a, h)
    return x_proj, (h,), ()


def elman_layer_backward(d_Y, d_state_n, W_hh, W_hr, steps: Steps, Y, h0, saved, relu: bool):
    """BPTT with φ' in hand. Returns dL/dx̂ and dL/dĥ (the same) as column blocks, (dL/dh_0,)
    and no dL/dW_hr."""
    d_A = (Y > 0).to(Y.dtype) if relu else torch.mul(Y, Y).neg_().add_(1)  # φ'(a_t), then dL/da_t
    d_Ys, d_As = steps.split(d_Y), steps.split(d_A)
    d_h0, buffers = torch.zeros_like(h0), (torch.empty_like(h0), torch.empty_like(h0))
    d_h = steps.first_grad(d_Ys, d_state_n[0])  # dL/dh_t: from the output at t and from t+1
    for k, t in enumerate(steps.backward_order):
        d_a = d_As[t].mul_(d_h)  # d_a_t = d_h_t ⊙ φ'(a_t)
        d_h = steps.carry(t, d_a, W_hh, d_Ys, d_state_n[0], d_h0, out=buffers[k % 2])  # d_h_{t-1}
    return (d_A,), (d_A,), (d_h0,), None
