"""The LSTM layer loop of bptt="manual", arranged for speed. Same equations as lstm.py.

What changes is where the work is done, not the math (docs/performance.md):
- every step writes into buffers allocated once for all steps, with out= and in-place ops;
- the gates are stored in the order o, i, f, g (unroll.py permutes the weights' rows to match,
  and the gradients' rows back), so the three sigmoids are one call and g's tanh another;
- the derivative factors are computed in bulk, a block of steps at a time just before BPTT
  reaches them, so that they are still in cache when the steps use them (blocks.runs):
      ∂m_t/∂a_o = tanh(c_t) ⊙ o_t(1 − o_t)               ∂c_t/∂a_i = g_t ⊙ i_t(1 − i_t)
      ∂c_t/∂a_f = c_{t−1} ⊙ f_t(1 − f_t)                 ∂c_t/∂a_g = i_t ⊙ (1 − g_t²)
      ∂c_t/∂c_{t−1} = f_t                                ∂m_t/∂c_t = o_t ⊙ (1 − tanh² c_t)
  and laid out per row as [∂m/∂a_o, ∂c/∂a_i, ∂c/∂a_f, ∂c/∂a_g, ∂c/∂c_{t−1}], so that a backward
  step is the chain rule of lstm_step_backward in four calls:
      d_c_t = d_c_{t+1→t} + d_m_t ⊙ ∂m_t/∂c_t
      [d_a_i, d_a_f, d_a_g, d_c_{t−1}] = d_c_t ⊙ [∂c/∂a_i, ∂c/∂a_f, ∂c/∂a_g, ∂c/∂c_{t−1}]   (one mul)
      d_a_o = d_m_t ⊙ ∂m_t/∂a_o
      d_h_{t−1} = ∂L/∂y_{t−1} + d_a_t W_hh             (one addmm: blocks.carry)
"""

import torch

from scratch.declaration import ManualLoop
from scratch.fast import workspace
from scratch.fast.blocks import begin_backward, carry, runs, state_grad_views
from scratch.steps import Steps

MANUAL_GATE_ORDER = (3, 0, 1, 2)  # torch.nn's gate blocks i, f, g, o (0 … 3), taken as o, i, f, g


def lstm_layer_forward(x_proj, state0, w, steps: Steps, read_mask=None):
    """x_proj: x̂ for all steps (T_total, 4H), gates o, i, f, g; W_hh's rows in that order.
    read_mask: None, or a per-sequence (N, H) mask m that the step reads h_{t−1} through,
    h̃_{t−1} = h_{t−1} ⊙ m (a cell's declared read_mask).
    Returns outputs (T_total, P), (h_n, c_n), and what the backward needs."""
    h, c = state0
    H = c.shape[1]
    W_hr = w.W_hr
    gates = x_proj  # each step overwrites its x̂_t with a_t, then with o, i, f, g  (T_total, 4H)
    C = x_proj.new_empty(x_proj.shape[0], H)  # c_t                               (T_total, H)
    M = torch.empty_like(C)  # m_t = o_t ⊙ tanh(c_t)
    Y = M if W_hr is None else x_proj.new_empty(x_proj.shape[0], W_hr.shape[0])  # h_t
    spans = (0, 4), (0, 3), (0, 1), (1, 2), (2, 3), (3, 4)  # in blocks of H columns
    a, oif, o, i, f, g = steps.split_columns(gates, H, *spans)  # a_t, [o i f], o, i, f, g
    Cs, Ms = map(steps.split, (C, M))
    Ys = Ms if Y is M else steps.split(Y)
    W_hh_t = w.W_hh.t()
    for t in steps.forward_order:
        c_prev, h_prev = steps.rows(c, t), steps.rows(h, t)
        if read_mask is not None:
            h_prev = h_prev * steps.rows(read_mask, t)  # h̃_{t−1} = h_{t−1} ⊙ m
        a[t].addmm_(h_prev, W_hh_t)  # (L1) a_t = x̂_t + h_{t−1} W_hhᵀ
        oif[t].sigmoid_()  # (L2, L3, L5) o_t, i_t, f_t = σ(a_o), σ(a_i), σ(a_f)
        g[t].tanh_()  # (L4) g_t = tanh(a_g)
        torch.mul(f[t], c_prev, out=Cs[t]).addcmul_(i[t], g[t])  # (L6) c = f ⊙ c_{t−1} + i ⊙ g
        torch.tanh(Cs[t], out=Ms[t]).mul_(o[t])  # (L7) m_t = o_t ⊙ tanh(c_t)
        if W_hr is not None:
            torch.mm(Ms[t], W_hr.t(), out=Ys[t])  # (L8) h_t = m_t W_hrᵀ
        h, c = steps.merge(Ys[t], h), steps.merge(Cs[t], c)
    return Y, (h, c), (gates, C, M, Y, *state0)


def lstm_factors(gates, squashed, C, c0, steps: Steps, out=None):
    """The derivative factors of all steps at once, laid out as the module docstring says, for
    m_t = o_t ⊙ tanh(squashed_t) and c_t from c_{t−1} = the previous row of C (or c_0). In the
    LSTM squashed is C itself; the variants squash LN_c(c_t) or c̃_t. Returns the factors
    (T_total, 5H; written into `out` when given, else into the workspace's buffer) and
    ∂m/∂squashed (T_total, H), neither a view of what the forward saved: the saved tensors stay
    as they are, so that a second backward over the same graph finds them unchanged."""
    o, i, f, g = gates.chunk(4, dim=1)
    factors = workspace.empty(gates, gates.shape[0], 5 * C.shape[1]) if out is None else out
    d_m_d_ao, d_c_d_ai, d_c_d_af, d_c_d_ag, d_c_d_cprev = factors.chunk(5, dim=1)
    one = gates.new_ones(())  # σ' = σ − σ² and 1 − tanh² are one addcmul each
    tanh_C = torch.tanh(squashed)
    torch.addcmul(o, o, o, value=-1, out=d_m_d_ao).mul_(tanh_C)  # ∂m/∂a_o = tanh(c) ⊙ o(1 − o)
    torch.addcmul(i, i, i, value=-1, out=d_c_d_ai).mul_(g)  # ∂c/∂a_i = g ⊙ i(1 − i)
    torch.addcmul(f, f, f, value=-1, out=d_c_d_af)  # f(1 − f), then
    steps.times_previous(d_c_d_af, C, c0)  # ⊙ c_{t−1}: ∂c/∂a_f = c_{t−1} ⊙ f(1 − f)
    torch.addcmul(one, g, g, value=-1, out=d_c_d_ag).mul_(i)  # ∂c/∂a_g = i ⊙ (1 − g²)
    d_c_d_cprev.copy_(f)  # ∂c/∂c_{t−1} = f
    d_m_d_c = torch.addcmul(one, tanh_C, tanh_C, value=-1, out=tanh_C).mul_(o)  # o(1 − tanh² c)
    return factors, d_m_d_c


def lstm_layer_backward(d_Y, d_state_n, w, steps: Steps, saved, state_grads, read_mask=None):
    """BPTT with the factors in hand. Returns dL/dx̂ (one column block, gates o, i, f, g),
    dL/d(h_0, c_0), and dL/dW_hh (rows o, i, f, g) and dL/dW_hr. read_mask: as the forward's."""
    gates, C, M, Y, h0, c0 = saved
    W_hr = w.W_hr
    H = C.shape[1]
    # [d_a_o, d_a_i, d_a_f, d_a_g, d_c_{t−1}]: first the factors, a block of steps at a time
    # just before BPTT reaches them (still in cache when the steps use them); then each step
    # multiplies its factors in place (an in-place multiply costs less per call than one with
    # out=).                                                                       (T_total, 5H)
    grads = workspace.empty(gates, gates.shape[0], 5 * H)
    o_grad, d_As, d_c_prevs = steps.split_columns(grads, H, (0, 1), (0, 4), (4, 5))
    c_grad = steps.split(grads[:, H:].view(-1, 4, H))  # i, f, g, c_{t−1} as (N, 4, H)
    d_Ys, d_m_d_cs = steps.split(d_Y), [None] * len(steps.sizes)
    rec_h, rec_c = state_grad_views(steps, state_grads, "h", "c")
    d_hs = [None] * len(d_Ys)
    d_h_n, d_c_next = d_state_n
    d_h, d_h0, buffers = begin_backward(steps, d_Ys, d_h_n, h0)  # d_h: dL/dh_t
    # d_c_t, used within its step only: one buffer, and its (N, 1, H) view for c_grad's multiply
    d_c_all = h0.new_empty(h0.shape[0], H)
    d_c_wide = d_c_all.unsqueeze(1)
    blocks = runs(steps, 11 * H)  # the factors read 5H + H columns, write 5H
    for k, t in enumerate(steps.backward_order):
        if t in blocks:  # the first step of a block that BPTT visits: the block's factors
            b, r = blocks[t], blocks[t].rows
            _, d_m_d_c = lstm_factors(gates[r], C[r], C[r], b.entry(C, c0), b.own, out=grads[r])
            d_m_d_cs[b.lo : b.hi] = b.own.split(d_m_d_c)
        d_m = d_h if W_hr is None else d_h @ W_hr  # (L8) ∂h_t/∂m_t = W_hr
        d_c = steps.rows(d_c_all, t)
        torch.addcmul(steps.rows(d_c_next, t), d_m, d_m_d_cs[t], out=d_c)  # (L7) + d_m ⊙ ∂m/∂c
        if rec_h is not None:
            rec_h[t].copy_(d_h)
            rec_c[t].copy_(d_c)
        c_grad[t].mul_(steps.rows(d_c_wide, t))  # (L6) d_a_{i,f,g}, d_c_{t−1} = d_c ⊙ their factors
        o_grad[t].mul_(d_m)  # (L7) d_a_o = d_m ⊙ ∂m/∂a_o
        if W_hr is not None:
            d_hs[t] = d_h.clone()  # the carry buffers are reused; d_W_hr needs every d_h_t
        # (L1) d_h_{t−1} = ∂L/∂y_{t−1} + d_a_t W_hh (⊙ m with a read mask: ∂h̃_{t−1}/∂h_{t−1} = m)
        d_h = carry(
            steps, t, d_As[t], w.W_hh, d_Ys, d_h_n, d_h0, out=buffers[k % 2], mask=read_mask
        )
        d_c_next = steps.merge(d_c_prevs[t], d_c_next)
    d_A = grads[:, : 4 * H]
    if read_mask is None:
        d_W_hh = steps.previous_product(d_A, Y, h0)  # (L1) Σ_t d_a_tᵀ h_{t−1}
    else:
        d_W_hh = d_A.t() @ steps.previous(Y, h0).mul_(steps.expand(read_mask))  # Σ d_aᵀ h̃_{t−1}
    d_weights = {"weight_hh": d_W_hh}
    if W_hr is not None:
        d_weights["weight_hr"] = torch.cat(d_hs).t() @ M  # (L8) Σ_t d_h_tᵀ m_t
    # d_c_0 is a view into `grads`: a copy, so that c_0.grad does not keep all of it alive.
    return (d_A,), (d_h0, d_c_next.clone()), d_weights


LSTM_LOOP = ManualLoop(lstm_layer_forward, lstm_layer_backward, gate_order=MANUAL_GATE_ORDER)
