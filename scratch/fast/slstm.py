"""The sLSTM layer loop of bptt="manual", arranged for speed. Same equations as equations/slstm.py.

What changes is where the work is done, not the math:
- every step writes into buffers allocated once for all steps (out= and in-place ops); the
  gate buffer ends holding [log i, log f, z, o] of every step, and m_t, i′_t, f′_t, c_t, n_t
  have a (T_total, H) buffer each;
- what the backward needs beside them is formed in bulk before BPTT starts, for all steps at once:
      ∂h/∂c = o / n      ∂h/∂n = −h / n      ∂h/∂õ = (c / n) ⊙ o(1 − o)      ∂c/∂z̃ = i′ ⊙ (1 − z²)
      ∂ log σ(f̃)/∂f̃ = σ(−f̃) = −expm1(log f)    which branch of (S6)'s max m_t is
  so that a backward step is the chain rule of slstm_step_backward on (N, H) rows;
- R with several heads is expanded once per call into its full block-diagonal (4H, H) matrix.
"""

from functools import partial

import torch

from scratch.declaration import ManualLoop
from scratch.equations import heads
from scratch.fast import workspace
from scratch.fast.blocks import begin_backward, carry, state_grad_views
from scratch.steps import Steps


def slstm_layer_forward(x_proj, state0, w, steps: Steps, exp_forget: bool = False):
    """x_proj: x̂ for all steps (T_total, 4H), gates i, f, z, o, overwritten by the gates.
    Returns outputs (T_total, H), (h_n, c_n, n_n, m_n), and what the backward needs."""
    h, c, n, m = state0
    H = c.shape[1]
    R_t = heads.block_diagonal(w.W_hh, 4).t()
    gates = x_proj  # each step: a_t, then [log i, log f, z, o]                  (T_total, 4H)
    M, Ip, Fp, C, Nn = x_proj.new_empty(5, x_proj.shape[0], H)  # m, i′, f′, c, n  (T_total, H)
    Y = torch.empty_like(C)  # h_t
    a, log_i, log_f, z, o = steps.split_columns(gates, H, (0, 4), (0, 1), (1, 2), (2, 3), (3, 4))
    Ms, Ips, Fps, Cs, Ns, Ys = map(steps.split, (M, Ip, Fp, C, Nn, Y))
    for t in steps.forward_order:
        m_prev = steps.rows(m, t)
        a[t].addmm_(steps.rows(h, t), R_t)  # (S1) a_t = x̂_t + h_{t−1} Rᵀ
        if not exp_forget:
            log_f[t].copy_(torch.nn.functional.logsigmoid(log_f[t]))  # (S4) log f = log σ(f̃)
        z[t].tanh_()  # (S2) z_t = tanh(z̃_t)
        o[t].sigmoid_()  # (S5) o_t = σ(õ_t)
        f = torch.add(log_f[t], m_prev, out=Fps[t])  # log f_t + m_{t−1}
        torch.maximum(f, log_i[t], out=Ms[t])  # (S6) m_t = max(log f_t + m_{t−1}, log i_t)
        f.sub_(Ms[t]).exp_()  # (S8) f′_t = exp(log f_t + m_{t−1} − m_t)
        torch.sub(log_i[t], Ms[t], out=Ips[t]).exp_()  # (S7) i′_t = exp(log i_t − m_t)
        torch.mul(f, steps.rows(c, t), out=Cs[t]).addcmul_(Ips[t], z[t])  # (S9) c_t
        torch.mul(f, steps.rows(n, t), out=Ns[t]).add_(Ips[t])  # (S10) n_t
        torch.div(Cs[t], Ns[t], out=Ys[t]).mul_(o[t])  # (S11) h_t = o_t ⊙ c_t / n_t
        h, c = steps.merge(Ys[t], h), steps.merge(Cs[t], c)
        n, m = steps.merge(Ns[t], n), steps.merge(Ms[t], m)
    return Y, (h, c, n, m), (gates, M, Ip, Fp, C, Nn, Y, *state0)


def slstm_factors(gates, M, Ip, C, Nn, Y, m0, steps: Steps, exp_forget: bool):
    """The derivative factors of all steps at once (the module docstring's list), each
    (T_total, H), and the mask of the steps whose m_t took log i_t, as 0 or 1."""
    log_i, log_f, z, o = gates.chunk(4, dim=1)
    d_h_d_c = torch.div(o, Nn)  # ∂h/∂c = o / n
    d_h_d_n = torch.div(Y, Nn).neg_()  # ∂h/∂n = −o c / n² = −h / n
    d_h_d_o = torch.div(C, Nn).mul_(o).mul_(1 - o)  # ∂h/∂õ = (c / n) ⊙ o(1 − o)
    d_c_d_z = torch.addcmul(Ip, Ip, z * z, value=-1)  # ∂c/∂z̃ = i′ ⊙ (1 − z²)
    d_log_f = None if exp_forget else torch.expm1(log_f).neg_()  # σ(−f̃) = 1 − f
    took_i = torch.ge(log_i, steps.previous(M, m0).add_(log_f)).to(gates.dtype)  # (S6)
    return d_h_d_c, d_h_d_n, d_h_d_o, d_c_d_z, d_log_f, took_i


def slstm_layer_backward(d_Y, d_state_n, w, steps: Steps, saved, state_grads, exp_forget=False):
    """BPTT with the factors in hand. Returns dL/dx̂ (gates i, f, z, o), dL/d(h_0, c_0, n_0,
    m_0), and dL/dW_hh (R's blocks)."""
    gates, M, Ip, Fp, C, Nn, Y, h0, c0, n0, m0 = saved
    H = C.shape[1]
    R = heads.block_diagonal(w.W_hh, 4)
    factors = slstm_factors(gates, M, Ip, C, Nn, Y, m0, steps, exp_forget)
    d_h_d_c, d_h_d_n, d_h_d_o, d_c_d_z, d_log_f_d_f, took_i = (
        None if f is None else steps.split(f) for f in factors
    )
    z = steps.split(gates[:, 2 * H : 3 * H])
    C_prev, N_prev = steps.previous(C, c0), steps.previous(Nn, n0)
    Ips, Fps, Cs, Ns, Cps, Nps = map(steps.split, (Ip, Fp, C, Nn, C_prev, N_prev))
    grads = workspace.empty(gates, gates.shape[0], 4 * H)  # dL/da_t, gates i, f, z, o
    d_A, d_i_raw, d_f_raw, d_z_raw, d_o_raw = steps.split_columns(
        grads, H, (0, 4), (0, 1), (1, 2), (2, 3), (3, 4)
    )
    d_Ys = steps.split(d_Y)
    records = state_grad_views(steps, state_grads, "h", "c", "n", "m")
    d_h_n, d_c_next, d_n_next, d_m_next = d_state_n
    d_h, d_h0, buffers = begin_backward(steps, d_Ys, d_h_n, h0)  # d_h: dL/dh_t
    for k, t in enumerate(steps.backward_order):
        d_c = torch.addcmul(steps.rows(d_c_next, t), d_h, d_h_d_c[t])  # (S11) + d_h ∂h/∂c
        d_n = torch.addcmul(steps.rows(d_n_next, t), d_h, d_h_d_n[t])  # (S11) + d_h ∂h/∂n
        d_m = steps.rows(d_m_next, t)
        if state_grads is not None:
            for rec, d in zip(records, (d_h, d_c, d_n, d_m), strict=True):
                rec[t].copy_(d)
        torch.mul(d_h, d_h_d_o[t], out=d_o_raw[t])  # (S11, S5) d_õ
        torch.mul(d_c, d_c_d_z[t], out=d_z_raw[t])  # (S9, S2) d_z̃
        # (S9, S10) through i′_t, f′_t ∝ exp(−m_t): d_m_t − d_c ⊙ c_t − d_n ⊙ n_t
        d_m = torch.addcmul(d_m, d_c, Cs[t], value=-1).addcmul_(d_n, Ns[t], value=-1)
        took = d_m * took_i[t]  # (S6) the max's path where m_t = log i_t,
        d_m.sub_(took)  # and where m_t = log f_t + m_{t−1}
        torch.addcmul(d_n, d_c, z[t], out=d_i_raw[t]).mul_(Ips[t]).add_(took)  # (S9, S10, S7)
        d_f = torch.mul(d_c, Cps[t]).addcmul_(d_n, Nps[t]).mul_(Fps[t])  # (S9, S10, S8)
        d_log_f = d_f.add_(d_m)  # (S6): the other path; also dL/dm_{t−1}
        if exp_forget:
            d_f_raw[t].copy_(d_log_f)  # (S4) log f = f̃
        else:
            torch.mul(d_log_f, d_log_f_d_f[t], out=d_f_raw[t])  # (S4) σ(−f̃)
        d_h = carry(steps, t, d_A[t], R, d_Ys, d_h_n, d_h0, out=buffers[k % 2])  # (S1)
        d_c_next = steps.merge(d_c.mul_(Fps[t]), d_c_next)  # (S9) ∂c_t/∂c_{t−1} = f′_t
        d_n_next = steps.merge(d_n.mul_(Fps[t]), d_n_next)  # (S10) ∂n_t/∂n_{t−1} = f′_t
        d_m_next = steps.merge(d_log_f, d_m_next)  # (S6, S8) m_{t−1} enters beside log f_t
    d_R = steps.previous_product(grads, Y, h0)  # (S1) Σ_t d_a_tᵀ h_{t−1}
    d_W_hh = heads.diagonal_blocks(d_R, heads.count(w.W_hh, 4), 4)
    d_state0 = (d_h0, d_c_next.clone(), d_n_next.clone(), d_m_next.clone())
    return (grads,), d_state0, {"weight_hh": d_W_hh}


SLSTM_LOOP = ManualLoop(slstm_layer_forward, slstm_layer_backward)
SLSTM_EXP_LOOP = ManualLoop(  # f_t = exp(f̃_t): log f_t is f̃_t itself
    partial(slstm_layer_forward, exp_forget=True), partial(slstm_layer_backward, exp_forget=True)
)
