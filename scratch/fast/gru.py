"""The GRU layer loop of bptt="manual", arranged for speed and memory. Same equations as gru.py.

Each step writes r_t, z_t, n_t over its own rows of x̂, which it no longer needs, and keeps ĥ_n,
which the backward needs. The update h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1} is one call as
n_t + z_t ⊙ (h_{t−1} − n_t), which is torch.lerp(n_t, h_{t−1}, z_t).

The backward computes the derivative factors a block of steps at a time, just before BPTT
reaches them (blocks.runs; docs/performance.md):
    ∂h_t/∂a_n = (1 − z_t) ⊙ (1 − n_t²)          ∂h_t/∂a_z = (h_{t−1} − n_t) ⊙ z_t(1 − z_t)
    ∂a_n/∂a_r = ĥ_n ⊙ r_t(1 − r_t)
and a backward step is the chain rule of gru_step_backward with those factors in hand:
    d_a_n = d_h_t ⊙ ∂h_t/∂a_n     d_a_z = d_h_t ⊙ ∂h_t/∂a_z     d_a_r = d_a_n ⊙ ∂a_n/∂a_r
    d_ĥ_t = [d_a_r, d_a_z, d_a_n ⊙ r_t]          d_h_{t−1} = d_h_t ⊙ z_t + d_ĥ_t W_hh
One buffer holds [d_ĥ_n, d_a_r, d_a_z, d_a_n] per row: its last three blocks are d_x̂_t in the
gate order r, z, n, whole, for one input-gradient product after the loop; its first three are
d_ĥ_t in the order n, r, z, whole, for one recurrent product per step, against W_hh's rows
taken in that order (a copy of W_hh per call: 3H × H, against the T_total × 3H it spares).
"""

import torch
from torch import Tensor

from scratch.declaration import ManualLoop
from scratch.fast import workspace
from scratch.fast.blocks import begin_backward, carry, runs, state_grad_views
from scratch.steps import Steps


def gru_layer_forward(x_proj, state0, w, steps: Steps):
    """x_proj: x̂ for all steps (T_total, 3H), b_ih included; overwritten by r, z, n.
    Returns outputs (T_total, H), (h_n,) and what the backward needs."""
    (h,) = state0
    H = h.shape[1]
    # ĥ_t = h_{t−1} W_hhᵀ + b_hh is two products per step: its r, z blocks are added into x̂'s in
    # place (with b_hh's r, z blocks added to all steps' x̂ once, before the loop), its n block
    # lands in ĥ_n of every step, kept for the backward: no copy, no separate add per step.
    h_proj_n = x_proj.new_empty(x_proj.shape[0], H)  # ĥ_n of every step           (T_total, H)
    Y = torch.empty_like(h_proj_n)  # h_t
    rz, n, r, z = steps.split_columns(x_proj, H, (0, 2), (2, 3), (0, 1), (1, 2))
    hp_ns, Ys = steps.split(h_proj_n), steps.split(Y)
    W_rz_t, W_n_t, b_hh = w.W_hh[: 2 * H].t(), w.W_hh[2 * H :].t(), w.b_hh
    b_hn = None if b_hh is None else b_hh[2 * H :]
    if b_hh is not None:
        x_proj[:, : 2 * H].add_(b_hh[: 2 * H])  # (G2, G3) x̂_{r,z} + b_hh's r, z blocks
    for t in steps.forward_order:
        h_prev = steps.rows(h, t)
        rz[t].addmm_(h_prev, W_rz_t)  # (G1) a_{r,z} = x̂_{r,z} + h_{t−1} W_{hr,hz}ᵀ (+ b_hh)
        if b_hn is None:
            hp_n = torch.mm(h_prev, W_n_t, out=hp_ns[t])  # (G1) ĥ_n = h_{t−1} W_hnᵀ
        else:
            hp_n = torch.addmm(b_hn, h_prev, W_n_t, out=hp_ns[t])  # (G1) ĥ_n = … + b_hn
        rz[t].sigmoid_()  # (G2, G3) r_t, z_t = σ(a_r), σ(a_z)
        n[t].addcmul_(r[t], hp_n).tanh_()  # (G4) n_t = tanh(x̂_n + r_t ⊙ ĥ_n)
        torch.lerp(n[t], h_prev, z[t], out=Ys[t])  # (G5) h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}
        h = steps.merge(Ys[t], h)
    return Y, (h,), (x_proj, h_proj_n, Y, state0[0])


def gru_factors(rzn, h_proj_n, Y, h0, steps: Steps, out):
    """The derivative factors of the module docstring, in the columns [d_ĥ_n, d_a_r, d_a_z,
    d_a_n] of `out` (T_total, 4H), where each step then overwrites them with its gradient;
    h_{t−1} is the previous row of Y (or h_0)."""
    r, z, n = rzn.chunk(3, dim=1)
    d_hn, d_ar, d_az, d_an = out.chunk(4, dim=1)
    torch.addcmul(r, r, r, value=-1, out=d_ar).mul_(h_proj_n)  # ∂a_n/∂a_r = ĥ_n ⊙ r(1 − r)
    steps.previous_into(d_az, Y, h0).sub_(n).mul_(z)  # (h_{t−1} − n) ⊙ z, then
    d_az.addcmul_(d_az, z, value=-1)  # ⊙ (1 − z): ∂h/∂a_z = (h_{t−1} − n) ⊙ z(1 − z)
    torch.addcmul(rzn.new_ones(()), n, n, value=-1, out=d_an)  # 1 − n², then
    d_an.addcmul_(d_an, z, value=-1)  # ⊙ (1 − z): ∂h/∂a_n = (1 − z) ⊙ (1 − n²)
    d_hn.copy_(r)  # ∂a_n/∂ĥ_n = r_t; each step multiplies in its d_a_n


def gru_layer_backward(d_Y, d_state_n, w, steps: Steps, saved, state_grads):
    """BPTT with the factors in hand. Returns dL/dx̂ (one column block), (dL/dh_0,), and dL/dW_hh
    and dL/db_hh (through ĥ_t)."""
    rzn, h_proj_n, Y, h0 = saved
    H = h_proj_n.shape[1]
    # [d_ĥ_n, d_a_r, d_a_z, d_a_n]: first the factors, a block of steps at a time just before
    # BPTT reaches them (still in cache when the steps use them); then each step overwrites
    # them with its gradients.                                                   (T_total, 4H)
    D = workspace.empty(rzn, rzn.shape[0], 4 * H)
    d_hn, d_ar, d_az, d_an, d_hp = steps.split_columns(D, H, (0, 1), (1, 2), (2, 3), (3, 4), (0, 3))
    W_hh_nrz = _nrz(w.W_hh)  # W_hh's rows n, r, z, as d_ĥ_t's columns
    z_s, d_Ys = steps.split(rzn[:, H : 2 * H]), steps.split(d_Y)
    (recorded,) = state_grad_views(steps, state_grads, "h")
    d_h, d_h0, buffers = begin_backward(steps, d_Ys, d_state_n[0], h0)  # d_h: dL/dh_t
    blocks = runs(steps, 9 * H)  # the factors read 3H + H + H columns, write 4H
    for k, t in enumerate(steps.backward_order):
        if t in blocks:  # the first step of a block that BPTT visits: the block's factors
            b, r = blocks[t], blocks[t].rows
            gru_factors(rzn[r], h_proj_n[r], Y[r], b.entry(Y, h0), b.own, out=D[r])
        if recorded is not None:
            recorded[t].copy_(d_h)
        d_a_n = d_an[t].mul_(d_h)  # d_a_n = d_h ⊙ ∂h/∂a_n
        d_az[t].mul_(d_h)  # d_a_z = d_h ⊙ ∂h/∂a_z
        d_ar[t].mul_(d_a_n)  # d_a_r = d_a_n ⊙ ∂a_n/∂a_r
        d_hn[t].mul_(d_a_n)  # d_ĥ_n = d_a_n ⊙ r_t
        # d_h_{t−1} = d_h ⊙ z_t + d_ĥ_t W_hh
        direct = ((d_h, z_s[t]),)
        d_h = carry(steps, t, d_hp[t], W_hh_nrz, d_Ys, d_state_n[0], d_h0, direct, buffers[k % 2])
    d_H = D[:, : 3 * H]  # d_ĥ_t of every step, columns n, r, z
    d_weights = {"weight_hh": _rzn(steps.previous_product(d_H, Y, h0))}  # (G1) Σ d_ĥ_tᵀ h_{t−1}
    if w.b_hh is not None:
        d_weights["bias_hh"] = _rzn(d_H.sum(0))  # (G1) Σ_t d_ĥ_t
    return (D[:, H:],), (d_h0,), d_weights


def _nrz(rzn: Tensor) -> Tensor:
    """Gate blocks r, z, n (rows) taken as n, r, z."""
    H = rzn.shape[0] // 3
    return torch.cat([rzn[2 * H :], rzn[: 2 * H]])


def _rzn(nrz: Tensor) -> Tensor:
    """Gate blocks n, r, z (rows) back to r, z, n."""
    H = nrz.shape[0] // 3
    return torch.cat([nrz[H:], nrz[:H]])


GRU_LOOP = ManualLoop(gru_layer_forward, gru_layer_backward, step_products=(2, 1))
