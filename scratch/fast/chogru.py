"""The Cho GRU's layer loop of bptt="manual", arranged for speed. Same equations as chogru.py.

Each step writes r_t, z_t, n_t over its own rows of x̂ (all biases are in x̂), keeps
s_t = r_t ⊙ h_{t−1}, which W_hn's gradient needs, and makes two recurrent products: the gates'
h_{t−1} W_hr,zᵀ (N, 2H), then the candidate's s_t W_hnᵀ (N, H), which needs r_t first; together
the FLOPs of torch.nn.GRU's one (N, 3H) product. The update is torch.lerp(n_t, h_{t−1}, z_t).

The backward computes the derivative factors once for all steps:
    ∂h_t/∂a_n = (1 − z_t) ⊙ (1 − n_t²)        ∂h_t/∂a_z = (h_{t−1} − n_t) ⊙ z_t(1 − z_t)
    ∂s_t/∂a_r = h_{t−1} ⊙ r_t(1 − r_t)
in one buffer [d_a_r, d_a_z, d_a_n] that each step overwrites with its gradient:
    d_a_n = d_h ⊙ ∂h/∂a_n    d_a_z = d_h ⊙ ∂h/∂a_z    d_s = d_a_n W_hn    d_a_r = d_s ⊙ ∂s/∂a_r
    d_h_{t−1} = ∂L/∂y_{t−1} + d_h ⊙ z_t + d_s ⊙ r_t + [d_a_r, d_a_z] W_hr,z        (blocks.carry)
The buffer is dL/dx̂ whole; W_hh's gradient is [d_a_r, d_a_z]ᵀ H_prev over d_a_nᵀ S.
"""

import torch

from scratch.declaration import ManualLoop
from scratch.fast import workspace
from scratch.fast.blocks import begin_backward, carry, state_grad_views
from scratch.steps import Steps


def chogru_layer_forward(x_proj, state0, w, steps: Steps):
    """x_proj: x̂ for all steps (T_total, 3H), both biases included; overwritten by r, z, n.
    Returns outputs (T_total, H), (h_n,) and what the backward needs."""
    (h,) = state0
    H = h.shape[1]
    S = x_proj.new_empty(x_proj.shape[0], H)  # s_t = r_t ⊙ h_{t−1}                (T_total, H)
    Y = torch.empty_like(S)  # h_t
    rz, r, z, n = steps.split_columns(x_proj, H, (0, 2), (0, 1), (1, 2), (2, 3))
    Ss, Ys = steps.split(S), steps.split(Y)
    W_hrz_t, W_hn_t = w.W_hh[: 2 * H].t(), w.W_hh[2 * H :].t()
    for t in steps.forward_order:
        h_prev = steps.rows(h, t)
        rz[t].addmm_(h_prev, W_hrz_t).sigmoid_()  # (C1) r_t, z_t = σ(x̂ + h_{t−1} W_hr,zᵀ)
        torch.mul(r[t], h_prev, out=Ss[t])  # (C2) s_t = r_t ⊙ h_{t−1}
        n[t].addmm_(Ss[t], W_hn_t).tanh_()  # (C3) n_t = tanh(x̂_n + s_t W_hnᵀ)
        torch.lerp(n[t], h_prev, z[t], out=Ys[t])  # (C4) h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}
        h = steps.merge(Ys[t], h)
    return Y, (h,), (x_proj, S, Y, state0[0])


def chogru_layer_backward(d_Y, d_state_n, w, steps: Steps, saved, state_grads):
    """BPTT with the factors in hand. Returns dL/dx̂ (one block), (dL/dh_0,), dL/dW_hh."""
    rzn, S, Y, h0 = saved
    H = S.shape[1]
    r, z, n = rzn.chunk(3, dim=1)
    H_prev = steps.previous(Y, h0)  # h_{t−1} of every step                          (T_total, H)
    D = workspace.empty(rzn, rzn.shape[0], 3 * H)  # [d_a_r, d_a_z, d_a_n]          (T_total, 3H)
    d_ar, d_az, d_an = D.chunk(3, dim=1)
    torch.sub(1, r, out=d_ar).mul_(r).mul_(H_prev)  # ∂s/∂a_r = h_{t−1} ⊙ r(1 − r)
    torch.sub(H_prev, n, out=d_az).mul_(z)  # (h_{t−1} − n) ⊙ z, then
    d_az.addcmul_(d_az, z, value=-1)  # ⊙ (1 − z): ∂h/∂a_z = (h_{t−1} − n) ⊙ z(1 − z)
    torch.mul(n, n, out=d_an).neg_().add_(1)  # 1 − n², then
    d_an.addcmul_(d_an, z, value=-1)  # ⊙ (1 − z): ∂h/∂a_n = (1 − z) ⊙ (1 − n²)
    d_ar, d_az, d_an, d_arz = steps.split_columns(D, H, (0, 1), (1, 2), (2, 3), (0, 2))
    r_s, z_s, d_Ys = steps.split(r), steps.split(z), steps.split(d_Y)
    W_hrz, W_hn = w.W_hh[: 2 * H], w.W_hh[2 * H :]
    (recorded,), d_s_buffer = state_grad_views(steps, state_grads, "h"), torch.empty_like(h0)
    d_h, d_h0, buffers = begin_backward(steps, d_Ys, d_state_n[0], h0)  # d_h: dL/dh_t
    for k, t in enumerate(steps.backward_order):
        if recorded is not None:
            recorded[t].copy_(d_h)
        d_an[t].mul_(d_h)  # (C4, C3) d_a_n = d_h ⊙ ∂h/∂a_n
        d_az[t].mul_(d_h)  # (C4, C1) d_a_z = d_h ⊙ ∂h/∂a_z
        d_s = torch.mm(d_an[t], W_hn, out=d_s_buffer[: d_h.shape[0]])  # (C3) ∂/∂s_t = W_hn
        d_ar[t].mul_(d_s)  # (C2, C1) d_a_r = d_s ⊙ ∂s/∂a_r
        direct = ((d_h, z_s[t]), (d_s, r_s[t]))  # (C4) z_t and (C2) r_t, beside W_hr,z (C1)
        d_h = carry(steps, t, d_arz[t], W_hrz, d_Ys, d_state_n[0], d_h0, direct, buffers[k % 2])
    d_W_hh = torch.cat([D[:, : 2 * H].t() @ H_prev, D[:, 2 * H :].t() @ S])  # (C1), (C3)
    return (D,), (d_h0,), {"weight_hh": d_W_hh}


CHOGRU_LOOP = ManualLoop(chogru_layer_forward, chogru_layer_backward)
