"""The Elman layer loop of bptt="manual", arranged for speed and memory. Same equations as elman.py.

Each step writes h_t over its own rows of x̂ (which it no longer needs), so the forward loop
allocates nothing. The backward computes the derivative factor once for all steps from the
outputs (docs/performance.md):
    tanh'(a_t) = 1 − h_t²          relu'(a_t) = 1[h_t > 0]
and a backward step is then d_a_t = d_h_t ⊙ φ'(a_t) (E2); d_h_{t−1} = ∂L/∂y_{t−1} + d_a_t W_hh
(E1) is one addmm (blocks.carry).
"""

from functools import partial

import torch

from scratch.declaration import ManualLoop
from scratch.fast import workspace
from scratch.fast.blocks import begin_backward, carry, state_grad_views
from scratch.steps import Steps


def elman_layer_forward(x_proj, state0, w, steps: Steps, relu: bool):
    """x_proj: x̂ for all steps (T_total, H), both biases included; overwritten by the outputs.
    Returns outputs (T_total, H), (h_n,) and what the backward needs: (outputs, h_0)."""
    (h,) = state0
    W_hh_t = w.W_hh.t()
    xp = steps.split(x_proj)
    for t in steps.forward_order:
        a = xp[t].addmm_(steps.rows(h, t), W_hh_t)  # (E1) a_t = x̂_t + h_{t−1} W_hhᵀ
        if relu:
            a.relu_()  # (E2) h_t = relu(a_t)
        else:
            a.tanh_()  # (E2) h_t = tanh(a_t)
        h = steps.merge(a, h)
    return x_proj, (h,), (x_proj, state0[0])


def elman_layer_backward(d_Y, d_state_n, w, steps: Steps, saved, state_grads, relu: bool):
    """BPTT with φ' in hand. Returns dL/dx̂ (one column block), (dL/dh_0,) and dL/dW_hh."""
    Y, h0 = saved
    d_A = workspace.empty(Y, *Y.shape)  # φ'(a_t), then dL/da_t
    if relu:
        d_A.copy_(Y > 0)
    else:
        torch.addcmul(Y.new_ones(()), Y, Y, value=-1, out=d_A)  # 1 − h²
    d_Ys, d_As = steps.split(d_Y), steps.split(d_A)
    (recorded,) = state_grad_views(steps, state_grads, "h")
    d_h, d_h0, buffers = begin_backward(steps, d_Ys, d_state_n[0], h0)  # d_h: dL/dh_t
    for k, t in enumerate(steps.backward_order):
        if recorded is not None:
            recorded[t].copy_(d_h)
        d_a = d_As[t].mul_(d_h)  # (E2) d_a_t = d_h_t ⊙ φ'(a_t)
        d_h = carry(steps, t, d_a, w.W_hh, d_Ys, d_state_n[0], d_h0, out=buffers[k % 2])  # (E1)
    d_W_hh = steps.previous_product(d_A, Y, h0)  # (E1) Σ_t d_a_tᵀ h_{t−1}
    return (d_A,), (d_h0,), {"weight_hh": d_W_hh}


# bptt="manual"'s loop of each Elman cell, by its nonlinearity φ
ELMAN_LOOPS = {
    phi: ManualLoop(
        partial(elman_layer_forward, relu=phi == "relu"),
        partial(elman_layer_backward, relu=phi == "relu"),
    )
    for phi in ("tanh", "relu")
}
