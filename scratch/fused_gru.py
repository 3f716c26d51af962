"""The GRU layer loop of bptt="manual", arranged for speed and memory. Same equations as gru.py.

Each step writes r_t, z_t, n_t over its own rows of x̂, which it no longer needs. The recurrent
product is split in two so that the r, z part lands on x̂ directly:
    x̂_{r,z} + ĥ_{r,z} = (x̂_{r,z} + b_hh,{r,z}) + h_{t-1} W_hh,{r,z}ᵀ      (b_hh,{r,z} added once)
    ĥ_n = h_{t-1} W_hnᵀ + b_hn                                             (kept: it is inside r ⊙ ĥ_n)
and h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1} is one call as n_t + z_t ⊙ (h_{t-1} − n_t), torch.lerp.

The backward computes the derivative factors once for all steps (docs/performance.md):
    ∂h_t/∂a_n = (1 − z_t) ⊙ (1 − n_t²)          ∂h_t/∂a_z = (h_{t-1} − n_t) ⊙ z_t(1 − z_t)
    ∂a_n/∂a_r = ĥ_n ⊙ r_t(1 − r_t)
and a backward step is the chain rule of gru_step_backward with those factors in hand:
    d_a_n = d_h_t ⊙ ∂h_t/∂a_n     d_a_z = d_h_t ⊙ ∂h_t/∂a_z     d_a_r = d_a_n ⊙ ∂a_n/∂a_r
    d_ĥ_t = [d_a_r, d_a_z, d_a_n ⊙ r_t]          d_h_{t-1} = d_h_t ⊙ z_t + d_ĥ_t W_hh
"""

import torch

from scratch.steps import Steps


def gru_layer_forward(x_proj, state0, W_hh, b_hh, W_hr, steps: Steps, keep: bool):
    """x_proj: x̂ for all steps (T_total, 3H), b_ih included; overwritten by r, z, n.
    Returns outputs (T_total, H), (h_n,) and what the backward needs beyond the outputs."""
    (h,) = state0
    H = h.shape[1]
    if b_hh is not None:
        x_proj[:, : 2 * H] += b_hh[: 2 * H]
    W_rz_t, W_n_t = W_hh[: 2 * H].t(), W_hh[2 * H :].t()
    b_n = b_hh[2 * H :] if b_hh is not None else None
    h_proj_n = x_proj.new_empty(x_proj.shape[0], H)  # ĥ_n = h_{t-1} W_hnᵀ + b_hn  (T_total, H)
    Y = torch.empty_like(h_proj_n)  # h_t
    split = steps.split
    rz, n, r, z = (
        split(x_proj[:, : 2 * H]),
        split(x_proj[:, 2 * H :]),
        split(x_proj[:, :H]),
        split(x_proj[:, H : 2 * H]),
    )
    hp_n, Ys = split(h_proj_n), split(Y)
    for t in steps.forward_order:
        h_prev = steps.rows(h, t)
        rz[t].addmm_(h_prev, W_rz_t).sigmoid_()  # r_t, z_t = σ(x̂ + ĥ)
        if b_n is None:
            torch.mm(h_prev, W_n_t, out=hp_n[t])  # ĥ_n = h_{t-1} W_hnᵀ
        else:
            torch.addmm(b_n, h_prev, W_n_t, out=hp_n[t])  # ĥ_n = h_{t-1} W_hnᵀ + b_hn
        n[t].addcmul_(r[t], hp_n[t]).tanh_()  # n_t = tanh(x̂_n + r_t ⊙ ĥ_n)
        torch.lerp(n[t], h_prev, z[t], out=Ys[t])  # h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}
        h = steps.merge(Ys[t], h)
    return Y, (h,), ((x_proj, h_proj_n) if keep else ())


def gru_layer_backward(d_Y, d_state_n, W_hh, W_hr, steps: Steps, Y, h0, saved):
    """BPTT with the factors in hand. Returns dL/dx̂ (T_total, 3H), dL/dĥ as column blocks
    (its r, z block is dL/dx̂'s), (dL/dh_0,) and no dL/dW_hr."""
    rzn, h_proj_n = saved
    H = h_proj_n.shape[1]
    r, z, n = rzn.chunk(3, dim=1)
    # The factors, in the columns where each step then overwrites them with its gradient.
    d_X_proj = torch.empty_like(rzn)  # (T_total, 3H)
    d_ar, d_az, d_an = d_X_proj.chunk(3, dim=1)
    torch.sub(1, r, out=d_ar).mul_(r).mul_(h_proj_n)  # ∂a_n/∂a_r = ĥ_n ⊙ r(1 − r)
    torch.sub(1, z, out=d_az).mul_(z).mul_(steps.previous(Y, h0) - n)  # ∂h/∂a_z
    torch.mul(n, n, out=d_an).neg_().add_(1).mul_(1 - z)  # ∂h/∂a_n = (1 − z) ⊙ (1 − n²)
    d_h_proj_n = torch.empty_like(h_proj_n)  # d_ĥ_n = d_a_n ⊙ r                 (T_total, H)
    split = steps.split
    d_ar, d_az, d_an, d_rz = split(d_ar), split(d_az), split(d_an), split(d_X_proj[:, : 2 * H])
    d_hpn, r_s, z_s, d_Ys = split(d_h_proj_n), split(r), split(z), split(d_Y)
    W_rz, W_n = W_hh[: 2 * H], W_hh[2 * H :]
    d_h_next = d_state_n[0]
    for t in steps.backward_order:
        d_h = d_Ys[t] + steps.rows(d_h_next, t)  # from the output at t and from step t+1
        d_a_n = d_an[t].mul_(d_h)  # d_a_n = d_h ⊙ ∂h/∂a_n
        d_az[t].mul_(d_h)  # d_a_z = d_h ⊙ ∂h/∂a_z
        d_ar[t].mul_(d_a_n)  # d_a_r = d_a_n ⊙ ∂a_n/∂a_r
        torch.mul(d_a_n, r_s[t], out=d_hpn[t])  # d_ĥ_n = d_a_n ⊙ r_t
        d_h_prev = torch.addmm(d_h * z_s[t], d_rz[t], W_rz)  # d_h ⊙ z_t + d_ĥ_{r,z} W_hh,{r,z}
        d_h_prev.addmm_(d_hpn[t], W_n)  # + d_ĥ_n W_hn
        d_h_next = steps.merge(d_h_prev, d_h_next)
    return d_X_proj, (d_X_proj[:, : 2 * H], d_h_proj_n), (d_h_next,), None
