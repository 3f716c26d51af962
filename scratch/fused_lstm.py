"""The LSTM layer loop of bptt="manual", arranged for speed. Same equations as lstm.py.

What changes is where the work is done, not the math (docs/performance.md):
- every step writes into buffers allocated once for all steps, with out= and in-place ops;
- the derivative factors are computed once, for all steps, at the end of the forward loop:
      ∂c_t/∂a_i = g_t ⊙ σ'(a_i) = g_t ⊙ i_t(1 − i_t)      ∂c_t/∂a_f = c_{t-1} ⊙ f_t(1 − f_t)
      ∂c_t/∂a_g = i_t ⊙ (1 − g_t²)                        ∂m_t/∂a_o = tanh(c_t) ⊙ o_t(1 − o_t)
      ∂m_t/∂c_t = o_t ⊙ (1 − tanh² c_t)
  so that a backward step is the chain rule of lstm_step_backward with those factors in hand:
      d_c_t = d_c_{t+1→t} + d_m_t ⊙ ∂m_t/∂c_t         d_a_{i,f,g} = d_c_t ⊙ ∂c_t/∂a_{i,f,g}
      d_a_o = d_m_t ⊙ ∂m_t/∂a_o                        d_c_{t-1} = d_c_t ⊙ f_t
      d_h_{t-1} = ∂L/∂y_{t-1} + d_a_t W_hh            (one addmm: steps.carry)
"""

import torch

from scratch.steps import Steps


def lstm_layer_forward(x_proj, state0, W_hh, b_hh, W_hr, steps: Steps, keep: bool):
    """x_proj: x̂ for all steps (T_total, 4H). Returns outputs (T_total, P), (h_n, c_n), saved."""
    h, c = state0
    H = c.shape[1]
    gates = x_proj  # each step overwrites its x̂_t with a_t, then with i, f, g, o  (T_total, 4H)
    C = x_proj.new_empty(x_proj.shape[0], H)  # c_t                               (T_total, H)
    tanh_C = torch.empty_like(C)
    M = torch.empty_like(C)  # m_t = o_t ⊙ tanh(c_t)
    Y = M if W_hr is None else x_proj.new_empty(x_proj.shape[0], W_hr.shape[0])  # h_t
    split = steps.split
    i_f, g, o = split(gates[:, : 2 * H]), split(gates[:, 2 * H : 3 * H]), split(gates[:, 3 * H :])
    i, f = split(gates[:, :H]), split(gates[:, H : 2 * H])
    a, Cs, tanh_Cs, Ms, Ys = map(split, (gates, C, tanh_C, M, Y))
    W_hh_t = W_hh.t()
    for t in steps.forward_order:
        c_prev = steps.rows(c, t)
        a[t].addmm_(steps.rows(h, t), W_hh_t)  # a_t = x̂_t + h_{t-1} W_hhᵀ
        i_f[t].sigmoid_()  # i_t, f_t = σ(a_i), σ(a_f)
        g[t].tanh_()  # g_t = tanh(a_g)
        o[t].sigmoid_()  # o_t = σ(a_o)
        torch.mul(f[t], c_prev, out=Cs[t]).addcmul_(i[t], g[t])  # c_t = f ⊙ c_{t-1} + i ⊙ g
        torch.tanh(Cs[t], out=tanh_Cs[t])
        torch.mul(o[t], tanh_Cs[t], out=Ms[t])  # m_t = o_t ⊙ tanh(c_t)
        if W_hr is not None:
            torch.mm(Ms[t], W_hr.t(), out=Ys[t])  # h_t = m_t W_hrᵀ
        h, c = steps.merge(Ys[t], h), steps.merge(Cs[t], c)
    saved = _factors(gates, steps.previous(C, state0[1]), tanh_C, M, W_hr) if keep else ()
    return Y, (h, c), saved


def _factors(gates, C_prev, tanh_C, M, W_hr):
    """The derivative factors of all steps at once; the activations are overwritten by them."""
    i, f, g, o = gates.chunk(4, dim=1)
    f_saved = f.clone()  # d_c_{t-1} = d_c_t ⊙ f_t needs f_t itself
    d_c_d_m = o * (1 - tanh_C * tanh_C)  # ∂m/∂c = o ⊙ (1 − tanh² c)
    o.mul_(1 - o).mul_(tanh_C)  # ∂m/∂a_o = tanh(c) ⊙ o(1 − o)
    d_c_d_g = i * (1 - g * g)  # ∂c/∂a_g = i ⊙ (1 − g²)
    i.mul_(1 - i).mul_(g)  # ∂c/∂a_i = g ⊙ i(1 − i)
    f.mul_(1 - f).mul_(C_prev)  # ∂c/∂a_f = c_{t-1} ⊙ f(1 − f)
    g.copy_(d_c_d_g)
    return gates, f_saved, d_c_d_m, (M if W_hr is not None else None)


def lstm_layer_backward(d_Y, d_state_n, W_hh, W_hr, steps: Steps, Y, h0, saved):
    """BPTT with the factors in hand. Returns dL/dx̂ and dL/dĥ (the same) as column blocks,
    dL/d(h_0, c_0) and dL/dW_hr."""
    factors, f, d_c_d_m, M = saved
    H = f.shape[1]
    d_A = torch.empty_like(factors)  # dL/da_t of every step                     (T_total, 4H)
    split = steps.split
    ifg_factor = split(factors[:, : 3 * H].view(-1, 3, H))
    ifg_grad = split(d_A[:, : 3 * H].view(-1, 3, H))
    o_factor, o_grad = split(factors[:, 3 * H :]), split(d_A[:, 3 * H :])
    d_Ys, d_As, fs, d_c_d_ms = map(split, (d_Y, d_A, f, d_c_d_m))
    d_hs = [None] * len(d_Ys)
    d_h0, (d_h_n, d_c_next) = torch.zeros_like(h0), d_state_n
    d_h = steps.first_grad(d_Ys, d_h_n)  # dL/dh_t: from the output at t and from t+1
    for t in steps.backward_order:
        d_m = d_h if W_hr is None else d_h @ W_hr  # ∂h_t/∂m_t = W_hr
        d_c = torch.addcmul(steps.rows(d_c_next, t), d_m, d_c_d_ms[t])  # + d_m ⊙ ∂m/∂c
        torch.mul(ifg_factor[t], d_c.unsqueeze(1), out=ifg_grad[t])  # d_a_{i,f,g}
        torch.mul(d_m, o_factor[t], out=o_grad[t])  # d_a_o = d_m ⊙ ∂m/∂a_o
        d_hs[t] = d_h
        d_h = steps.carry(t, d_As[t], W_hh, d_Ys, d_h_n, d_h0)  # d_h_{t-1}, from d_a_t W_hh
        d_c_next = steps.merge(d_c * fs[t], d_c_next)  # d_c_{t-1} = d_c_t ⊙ f_t
    d_W_hr = None if W_hr is None else torch.cat(d_hs).t() @ M  # Σ_t d_h_tᵀ m_t
    return (d_A,), (d_A,), (d_h0, d_c_next), d_W_hr
