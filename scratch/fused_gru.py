"""The GRU layer loop of bptt="manual", arranged for speed. Same equations as gru.py.

Every step writes into buffers allocated once, and the derivative factors are computed once for
all steps at the end of the forward loop (docs/performance.md):
    ∂h_t/∂a_n = (1 − z_t) ⊙ (1 − n_t²)          ∂h_t/∂a_z = (h_{t-1} − n_t) ⊙ z_t(1 − z_t)
    ∂a_n/∂a_r = ĥ_n ⊙ r_t(1 − r_t)
so that a backward step is the chain rule of gru_step_backward with those factors in hand:
    d_a_n = d_h_t ⊙ ∂h_t/∂a_n     d_a_z = d_h_t ⊙ ∂h_t/∂a_z     d_a_r = d_a_n ⊙ ∂a_n/∂a_r
    d_ĥ_t = [d_a_r, d_a_z, d_a_n ⊙ r_t]          d_h_{t-1} = d_h_t ⊙ z_t + d_ĥ_t W_hh
The update h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1} is one call as n_t + z_t ⊙ (h_{t-1} − n_t),
which is torch.lerp(n_t, h_{t-1}, z_t).
"""

import torch

from scratch.steps import Steps


def gru_layer_forward(x_proj, state0, W_hh, b_hh, W_hr, steps: Steps, keep: bool):
    """x_proj: x̂ for all steps (T_total, 3H), b_ih included. Returns outputs, (h_n,), saved."""
    (h,) = state0
    H = h.shape[1]
    h_proj = torch.empty_like(x_proj)  # ĥ_t = h_{t-1} W_hhᵀ + b_hh               (T_total, 3H)
    rz = x_proj.new_empty(x_proj.shape[0], 2 * H)  # r_t, z_t
    n_all = x_proj.new_empty(x_proj.shape[0], H)  # n_t
    Y = torch.empty_like(n_all)  # h_t
    split = steps.split
    xp_rz, xp_n = split(x_proj[:, : 2 * H]), split(x_proj[:, 2 * H :])
    hp, hp_rz, hp_n = split(h_proj), split(h_proj[:, : 2 * H]), split(h_proj[:, 2 * H :])
    rzs, r, z = split(rz), split(rz[:, :H]), split(rz[:, H:])
    ns, Ys = split(n_all), split(Y)
    W_hh_t = W_hh.t()
    h_prevs = [None] * len(Ys)
    for t in steps.forward_order:
        h_prev = steps.rows(h, t)
        if b_hh is None:
            torch.mm(h_prev, W_hh_t, out=hp[t])  # ĥ_t = h_{t-1} W_hhᵀ
        else:
            torch.addmm(b_hh, h_prev, W_hh_t, out=hp[t])  # ĥ_t = h_{t-1} W_hhᵀ + b_hh
        torch.add(xp_rz[t], hp_rz[t], out=rzs[t]).sigmoid_()  # r_t, z_t = σ(x̂ + ĥ)
        torch.addcmul(xp_n[t], r[t], hp_n[t], out=ns[t]).tanh_()  # n_t = tanh(x̂_n + r ⊙ ĥ_n)
        torch.lerp(ns[t], h_prev, z[t], out=Ys[t])  # h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}
        h = steps.merge(Ys[t], h)
        h_prevs[t] = h_prev
    saved = _factors(rz, n_all, h_proj[:, 2 * H :], torch.cat(h_prevs)) if keep else None
    return Y, (h,), saved


def _factors(rz, n, h_proj_n, H_prev):
    """The derivative factors of all steps at once."""
    r, z = rz.chunk(2, dim=1)
    d_h_d_an = (1 - z) * (1 - n * n)  # ∂h/∂a_n = (1 − z) ⊙ (1 − n²)
    d_h_d_az = (H_prev - n) * z * (1 - z)  # ∂h/∂a_z = (h_{t-1} − n) ⊙ z(1 − z)
    d_an_d_ar = h_proj_n * r * (1 - r)  # ∂a_n/∂a_r = ĥ_n ⊙ r(1 − r)
    return rz, d_h_d_an, d_h_d_az, d_an_d_ar, H_prev


def gru_layer_backward(d_Y, d_state_n, W_hh, W_hr, steps: Steps, saved):
    """BPTT with the factors in hand. Returns dL/dx̂, dL/dĥ (T_total, 3H), H_prev, (dL/dh_0,)."""
    rz, d_h_d_an, d_h_d_az, d_an_d_ar, H_prev = saved
    H = d_h_d_an.shape[1]
    d_X_proj = rz.new_empty(rz.shape[0], 3 * H)  # dL/dx̂_t of every step        (T_total, 3H)
    d_H_proj = torch.empty_like(d_X_proj)  # [d_a_r, d_a_z, d_a_n ⊙ r]
    split = steps.split
    d_an, d_hpn, d_hp = split(d_X_proj[:, 2 * H :]), split(d_H_proj[:, 2 * H :]), split(d_H_proj)
    d_ar, d_az = split(d_H_proj[:, :H]), split(d_H_proj[:, H : 2 * H])
    r, z = split(rz[:, :H]), split(rz[:, H:])
    d_Ys, f_an, f_az, f_ar = map(split, (d_Y, d_h_d_an, d_h_d_az, d_an_d_ar))
    d_h_next = d_state_n[0]
    for t in steps.backward_order:
        d_h = d_Ys[t] + steps.rows(d_h_next, t)  # from the output at t and from step t+1
        torch.mul(d_h, f_an[t], out=d_an[t])  # d_a_n = d_h ⊙ ∂h/∂a_n
        torch.mul(d_h, f_az[t], out=d_az[t])  # d_a_z = d_h ⊙ ∂h/∂a_z
        torch.mul(d_an[t], f_ar[t], out=d_ar[t])  # d_a_r = d_a_n ⊙ ∂a_n/∂a_r
        torch.mul(d_an[t], r[t], out=d_hpn[t])  # d_ĥ_n = d_a_n ⊙ r_t
        d_h_prev = torch.addmm(d_h * z[t], d_hp[t], W_hh)  # d_h ⊙ z_t + d_ĥ_t W_hh
        d_h_next = steps.merge(d_h_prev, d_h_next)
    d_X_proj[:, : 2 * H] = d_H_proj[:, : 2 * H]  # d_x̂_{r,z} = d_a_{r,z} = d_ĥ_{r,z}
    return d_X_proj, d_H_proj, H_prev, (d_h_next,), None
