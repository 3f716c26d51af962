"""The layer-normalised LSTM's layer loop of bptt="manual", arranged for speed. Same equations
as lnlstm.py and layer_norm.py.

fast/lstm.py's arrangement (gates o, i, f, g; buffers allocated once; the LSTM's factors for
all steps at once, fast.lstm.lstm_factors, here at LN_c(c_t)), and what layer norm adds:
- each LN normalises in place, step by step ((z − μ) ρ, keeping ẑ and ρ), LN_ih included,
  though it does not depend on the state: on one step's rows the work stays in cache, while
  one pass over the rows of all steps (T_total, 4H) streams from memory several times, which
  measured about 2.5 times slower (layer_norm over (6400, 1024) against 100 steps of 64 rows);
- its backward is the formula of layer_norm.py in place,
      dL/dz = ρ (d_ẑ − mean(d_ẑ) − ẑ ⊙ mean(d_ẑ ⊙ ẑ));
- the biases, which come after the normalisations, are one bias of 4H for the loop,
  β_ih + β_hh + b_ih + b_hh; the gains' and biases' gradients are accumulated over the steps
  in (N, ·) buffers, Σ_t d_â_t ⊙ ẑ_t, and summed over the rows once at the end.
"""

import torch

from scratch.declaration import ManualLoop
from scratch.equations.layer_norm import EPS
from scratch.fast.blocks import begin_backward, carry, state_grad_views
from scratch.fast.lstm import MANUAL_GATE_ORDER, lstm_factors
from scratch.steps import Steps


def _normalise(z, z_hat, rstd, work) -> None:
    """ẑ = (z − μ) ρ into z_hat (may be z) and ρ = 1/√(σ² + ε) into rstd, per row (N0), with
    layer_norm.py's operations, so that both loops round alike (var_mean, which would fuse two
    of them, is many times slower at these sizes). work: a warm buffer of z's size or
    wider: a fresh (N, 4H) temporary per step costs several times the operation itself."""
    centred = torch.sub(z, z.mean(1, keepdim=True), out=z_hat)
    squares = torch.mul(centred, centred, out=work[: z.shape[0], : z.shape[1]])
    torch.add(squares.mean(1, keepdim=True), EPS, out=rstd).rsqrt_()
    centred.mul_(rstd)


def _normalise_backward(d_z_hat, z_hat, rstd, work):
    """dL/dz from dL/dẑ, in place: ρ (d_ẑ − mean(d_ẑ) − ẑ ⊙ mean(d_ẑ ⊙ ẑ)) (N0)."""
    product = torch.mul(d_z_hat, z_hat, out=work[: z_hat.shape[0], : z_hat.shape[1]])
    mean_dz = product.mean(1, keepdim=True)
    d_z_hat.sub_(d_z_hat.mean(1, keepdim=True)).addcmul_(z_hat, mean_dz, value=-1)
    return d_z_hat.mul_(rstd)


def lnlstm_layer_forward(x_proj, state0, w, steps: Steps):
    """x_proj: x W_ihᵀ for all steps (T_total, 4H), gates o, i, f, g, overwritten by ẑ_ih; W_hh's
    rows and the gate-stacked gains and biases in that order. Returns outputs, (h_n, c_n), saved."""
    h, c = state0
    H, T = c.shape[1], x_proj.shape[0]
    ln = w.extra
    shift = ln["ln_ih_bias"] + ln["ln_hh_bias"]  # (N1) β_ih + β_hh + b_ih + b_hh     (4H,)
    for bias in (w.b_ih, w.b_hh):
        shift = shift if bias is None else shift + bias
    gates = torch.empty_like(x_proj)  # â_t, then o, i, f, g                       (T_total, 4H)
    Z_hh = torch.empty_like(x_proj)  # ẑ of h_{t−1} W_hhᵀ
    R_ih, R_hh, R_c = (x_proj.new_empty(T, 1) for _ in range(3))  # ρ of each LN
    C, Z_c, Y = (x_proj.new_empty(T, H) for _ in range(3))  # c_t, ẑ of c_t, h_t
    work = x_proj.new_empty(c.shape[0], 4 * H)  # one step's temporary, reused
    spans = (0, 4), (0, 3), (0, 1), (1, 2), (2, 3), (3, 4)
    a, oif, o, i, f, g = steps.split_columns(gates, H, *spans)
    Z_ihs, Z_hhs, R_ihs, R_hhs, Cs, Z_cs, R_cs, Ys = map(
        steps.split, (x_proj, Z_hh, R_ih, R_hh, C, Z_c, R_c, Y)
    )
    W_hh_t, gain_ih, gain_hh = w.W_hh.t(), ln["ln_ih_weight"], ln["ln_hh_weight"]
    gain_c, bias_c = ln["ln_c_weight"], ln["ln_c_bias"]
    for t in steps.forward_order:
        c_prev = steps.rows(c, t)
        _normalise(Z_ihs[t], Z_ihs[t], R_ihs[t], work)  # (N0) ẑ and ρ of x̂_t, in place
        z = torch.mm(steps.rows(h, t), W_hh_t, out=Z_hhs[t])  # (N1) h_{t−1} W_hhᵀ
        _normalise(z, z, R_hhs[t], work)  # (N0) its ẑ and ρ, in place
        # (N1) â_t = γ_ih ⊙ ẑ_ih + γ_hh ⊙ ẑ_hh + β_ih + β_hh + b_ih + b_hh
        torch.addcmul(shift, Z_ihs[t], gain_ih, out=a[t]).addcmul_(z, gain_hh)
        oif[t].sigmoid_()  # (N2) o_t, i_t, f_t
        g[t].tanh_()  # (N2) g_t
        torch.mul(f[t], c_prev, out=Cs[t]).addcmul_(i[t], g[t])  # (N3) c = f c_{t−1} + i g
        _normalise(Cs[t], Z_cs[t], R_cs[t], work)  # (N4, N0) ẑ and ρ of c_t; c_t itself is carried
        torch.addcmul(bias_c, Z_cs[t], gain_c, out=Ys[t]).tanh_().mul_(o[t])  # (N4) h_t
        h, c = steps.merge(Ys[t], h), steps.merge(Cs[t], c)
    return Y, (h, c), (gates, x_proj, R_ih, Z_hh, R_hh, C, Z_c, R_c, Y, *state0)


def lnlstm_layer_backward(d_Y, d_state_n, w, steps: Steps, saved, state_grads):
    """BPTT with the factors in hand. Returns dL/dx̂ (gates o, i, f, g), dL/d(h_0, c_0), and
    the gradients of W_hh, the biases and the six layer-norm parameters."""
    gates, Z_ih, R_ih, Z_hh, R_hh, C, Z_c, R_c, Y, h0, c0 = saved
    ln = w.extra
    H = C.shape[1]
    N_c = torch.addcmul(ln["ln_c_bias"], Z_c, ln["ln_c_weight"])  # LN_c(c_t), all steps
    # [d_â_o, d_â_i, d_â_f, d_â_g, d_c_{t−1}] and ∂h/∂LN_c = o (1 − tanh² LN_c), factors first;
    # each step turns its d_â_t into dL/dx̂_t in place once the other uses of d_â_t are done
    grads, d_h_d_n = lstm_factors(gates, N_c, C, c0, steps)
    D_hh = torch.empty_like(Z_hh)  # dL/d(h_{t−1} W_hhᵀ) of every step, for W_hh's gradient
    o_grad, d_As, d_c_prevs = steps.split_columns(grads, H, (0, 1), (0, 4), (4, 5))
    c_grad = steps.split(grads[:, H:].view(-1, 4, H))  # i, f, g, c_{t−1} as (N, 4, H)
    d_Ys, d_h_d_ns = steps.split(d_Y), steps.split(d_h_d_n)
    Z_ihs, R_ihs, Z_hhs, R_hhs, Z_cs, R_cs, D_hhs = map(
        steps.split, (Z_ih, R_ih, Z_hh, R_hh, Z_c, R_c, D_hh)
    )
    gain_ih, gain_hh, gain_c = ln["ln_ih_weight"], ln["ln_hh_weight"], ln["ln_c_weight"]
    # Σ over steps of d_â ⊙ ẑ_ih, d_â ⊙ ẑ_hh, d_â, d_LN_c ⊙ ẑ_c, d_LN_c, row by row
    sums = [h0.new_zeros(h0.shape[0], n) for n in (4 * H, 4 * H, 4 * H, H, H)]
    rec_h, rec_c = state_grad_views(steps, state_grads, "h", "c")
    d_h_n, d_c_next = d_state_n
    work = h0.new_empty(h0.shape[0], 4 * H)  # one step's temporary, reused
    d_h, d_h0, buffers = begin_backward(steps, d_Ys, d_h_n, h0)  # d_h: dL/dh_t
    for k, t in enumerate(steps.backward_order):
        b = d_h.shape[0]
        s_ih, s_hh, s_b, s_c, s_bc = (s[:b] for s in sums)
        d_n = d_h_d_ns[t].mul_(d_h)  # (N4) dL/dLN_c(c_t)
        s_c.addcmul_(d_n, Z_cs[t])  # (N4) ∂LN_c/∂γ_c = ẑ_c
        s_bc.add_(d_n)  # (N4) ∂LN_c/∂β_c = 1
        d_c = _normalise_backward(d_n.mul_(gain_c), Z_cs[t], R_cs[t], work)  # (N0) ∂ẑ_c/∂c_t
        d_c.add_(steps.rows(d_c_next, t))  # (N4) the output's path joins the carried one
        if rec_h is not None:
            rec_h[t].copy_(d_h)
            rec_c[t].copy_(d_c)
        c_grad[t].mul_(d_c.unsqueeze(1))  # (N3, N2) d_â_{i,f,g}, and d_c ⊙ f_t
        o_grad[t].mul_(d_h)  # (N4, N2) d_â_o = d_h ⊙ tanh(LN_c) ⊙ o(1 − o)
        d_a = d_As[t]
        s_ih.addcmul_(d_a, Z_ihs[t])  # (N1) ∂â/∂γ_ih = ẑ_ih
        s_hh.addcmul_(d_a, Z_hhs[t])  # (N1) ∂â/∂γ_hh = ẑ_hh
        s_b.add_(d_a)  # (N1) ∂â/∂β = ∂â/∂b = 1
        d_z = torch.mul(d_a, gain_hh, out=D_hhs[t])  # (N1) ∂â/∂ẑ_hh = γ_hh
        _normalise_backward(d_z, Z_hhs[t], R_hhs[t], work)  # (N0) dL/d(h_{t−1} W_hhᵀ)
        _normalise_backward(d_a.mul_(gain_ih), Z_ihs[t], R_ihs[t], work)  # (N1, N0) dL/dx̂_t
        d_h = carry(steps, t, d_z, w.W_hh, d_Ys, d_h_n, d_h0, out=buffers[k % 2])  # (N1)
        d_c_next = steps.merge(d_c_prevs[t], d_c_next)
    d_gain_ih, d_gain_hh, d_bias, d_gain_c, d_bias_c = (s.sum(0) for s in sums)
    d_weights = {
        "weight_hh": steps.previous_product(D_hh, Y, h0),  # (N1) Σ_t d_ĥ_tᵀ h_{t−1}
        "ln_ih_weight": d_gain_ih,
        "ln_ih_bias": d_bias,
        "ln_hh_weight": d_gain_hh,
        "ln_hh_bias": d_bias.clone(),
        "ln_c_weight": d_gain_c,
        "ln_c_bias": d_bias_c,
    }
    for kind, bias in (("bias_ih", w.b_ih), ("bias_hh", w.b_hh)):
        if bias is not None:
            d_weights[kind] = d_bias.clone()  # (N1) ∂â/∂b = 1
    return (grads[:, : 4 * H],), (d_h0, d_c_next.clone()), d_weights


LNLSTM_LOOP = ManualLoop(lnlstm_layer_forward, lnlstm_layer_backward, gate_order=MANUAL_GATE_ORDER)
