"""sLSTM cell (Beck et al. 2024, "xLSTM: Extended Long Short-Term Memory", §2.2, eqs. 8–17):
one step forward, the same step backward. Derivation: docs/slstm.md.

Gate order i, f, z, o, the paper's. unroll.py computes x̂_t = x_t W_ihᵀ + b_ih + b_hh for all t
before the loop. The recurrent weights R = W_hh are block-diagonal over heads: W_hh is
(4H, H/heads), and unit j of gate g reads only h_{t−1}'s units in j's head (one head: a full
(4H, H) matrix). The state is (h, c, n, m); the stabiliser m keeps exp() from overflowing.

    a_t = x̂_t + h_{t−1} Rᵀ                         (N, 4H) = [ĩ, f̃, z̃, õ]          (S1)
    z_t = tanh(z̃_t)                                 cell input            eq. 11  (S2)
    log i_t = ĩ_t                                   i_t = exp(ĩ_t)        eq. 12  (S3)
    log f_t = log σ(f̃_t)   (or f̃_t: f_t = exp(f̃_t))                     eq. 13  (S4)
    o_t = σ(õ_t)                                                          eq. 14  (S5)
    m_t = max(log f_t + m_{t−1}, log i_t)           stabiliser            eq. 15  (S6)
    i′_t = exp(log i_t − m_t)                                             eq. 16  (S7)
    f′_t = exp(log f_t + m_{t−1} − m_t)                                   eq. 17  (S8)
    c_t = f′_t ⊙ c_{t−1} + i′_t ⊙ z_t               cell state            eq. 8   (S9)
    n_t = f′_t ⊙ n_{t−1} + i′_t                     normaliser state      eq. 9   (S10)
    h_t = o_t ⊙ c_t / n_t                           hidden state          eq. 10  (S11)

Without the stabiliser (m ≡ 0) c_t and n_t are sums of products of exp() that overflow; with
it they are those sums times exp(−m_t), so c_t / n_t, and h_t, do not depend on m at all.
"""

import torch
from torch import Tensor
from torch.nn.functional import logsigmoid

from scratch.declaration import Cell, ManualLoop, StepBackward, Weights
from scratch.equations import heads
from scratch.fast.slstm import SLSTM_EXP_LOOP, SLSTM_LOOP


def log_forget(f_raw: Tensor, exp_forget: bool) -> Tensor:
    """(S4) log f_t: log σ(f̃) (the default), or f̃ itself for the exponential forget gate."""
    return f_raw if exp_forget else logsigmoid(f_raw)


# --8<-- [start:slstm_step]
def slstm_step(x_proj: Tensor, state: tuple, w: Weights, exp_forget: bool = False):
    """One step forward. Returns (h_t, c_t, n_t, m_t) and what the backward step needs."""
    h_prev, c_prev, n_prev, m_prev = state
    R = heads.block_diagonal(w.W_hh, 4)  # (4H, H): one block per head, one head: W_hh
    a = torch.addmm(x_proj, h_prev, R.t())  # (S1) a_t = x̂_t + h_{t−1} Rᵀ             (N, 4H)
    i_raw, f_raw, z_raw, o_raw = a.chunk(4, dim=1)
    z = torch.tanh(z_raw)  # (S2) z_t = tanh(z̃_t)
    log_i = i_raw  # (S3) log i_t = ĩ_t
    log_f = log_forget(f_raw, exp_forget)  # (S4) log f_t = log σ(f̃_t)
    o = torch.sigmoid(o_raw)  # (S5) o_t = σ(õ_t)
    m = torch.maximum(log_f + m_prev, log_i)  # (S6) m_t = max(log f_t + m_{t−1}, log i_t)
    i = torch.exp(log_i - m)  # (S7) i′_t = exp(log i_t − m_t)
    f = torch.exp(log_f + m_prev - m)  # (S8) f′_t = exp(log f_t + m_{t−1} − m_t)
    c = f * c_prev + i * z  # (S9) c_t = f′_t ⊙ c_{t−1} + i′_t ⊙ z_t
    n = f * n_prev + i  # (S10) n_t = f′_t ⊙ n_{t−1} + i′_t
    h = o * c / n  # (S11) h_t = o_t ⊙ c_t / n_t
    took_i = log_i >= log_f + m_prev  # which argument of (S6)'s max is m_t
    return (h, c, n, m), (f_raw, z, o, i, f, took_i, h_prev, c_prev, n_prev, c, n)
    # --8<-- [end:slstm_step]


# --8<-- [start:slstm_step_backward]
def slstm_step_backward(d_state: tuple, w: Weights, saved: tuple, exp_forget: bool = False):
    """d_state: dL/d(h_t, c_t, n_t, m_t), from the output at t and from step t+1.
    Returns dL/da_t (N, 4H), which is also dL/dx̂_t, dL/d(state_{t−1}) and dL/dW_hh's share."""
    (d_h, d_c, d_n, d_m), saved = d_state, saved
    f_raw, z, o, i, f, took_i, h_prev, c_prev, n_prev, c, n = saved
    q = c / n  # c_t / n_t, so that h_t = o_t ⊙ q
    d_o_raw = d_h * q * o * (1 - o)  # (S11) ∂h_t/∂o_t = c_t / n_t; (S5) σ' = o(1 − o)
    d_c = d_c + d_h * o / n  # (S11) ∂h_t/∂c_t = o_t / n_t
    d_n = d_n - d_h * o * q / n  # (S11) ∂h_t/∂n_t = −o_t c_t / n_t²
    # (S9, S10) c_t, n_t reach m_t through i′_t and f′_t, both ∝ exp(−m_t): ∂c_t/∂m_t = −c_t,
    # ∂n_t/∂m_t = −n_t. When only h reaches the loss, this total is zero (h ignores m).
    d_m = d_m - d_c * c - d_n * n
    d_i = d_c * z + d_n  # (S9, S10) ∂c_t/∂i′_t = z_t, ∂n_t/∂i′_t = 1
    d_f = d_c * c_prev + d_n * n_prev  # (S9, S10) ∂c_t/∂f′_t = c_{t−1}, ∂n_t/∂f′_t = n_{t−1}
    d_z_raw = d_c * i * (1 - z * z)  # (S9) ∂c_t/∂z_t = i′_t; (S2) tanh' = 1 − z²
    d_i_raw = d_i * i + torch.where(took_i, d_m, 0)  # (S7) ∂i′/∂ĩ = i′; (S6) the max's path
    d_log_f = d_f * f + torch.where(took_i, 0, d_m)  # (S8) ∂f′/∂log f = f′; (S6) the other
    d_m_prev = d_log_f  # (S6, S8) m_{t−1} enters beside log f_t in both
    sig_neg = 1.0 if exp_forget else torch.sigmoid(-f_raw)  # (S4) ∂ log σ(f̃)/∂f̃ = σ(−f̃)
    d_f_raw = d_log_f * sig_neg
    d_a = torch.cat([d_i_raw, d_f_raw, d_z_raw, d_o_raw], dim=1)  # dL/da_t           (N, 4H)
    R = heads.block_diagonal(w.W_hh, 4)
    d_h_prev = d_a @ R  # (S1) ∂a_t/∂h_{t−1} = R
    d_W_hh = heads.diagonal_blocks(d_a.t() @ h_prev, heads.count(w.W_hh, 4), 4)  # (S1) R's blocks
    d_prev = (d_h_prev, d_c * f, d_n * f, d_m_prev)  # (S9, S10) ∂(c_t, n_t)/∂(c, n)_{t−1} = f′_t
    return StepBackward(d_a, d_prev, {"weight_hh": d_W_hh}, (d_h, d_c, d_n, d_state[3]))
    # --8<-- [end:slstm_step_backward]


def slstm_exp_step(x_proj: Tensor, state: tuple, w: Weights):
    """slstm_step with the exponential forget gate, f_t = exp(f̃_t)."""
    return slstm_step(x_proj, state, w, exp_forget=True)


def slstm_exp_step_backward(d_state: tuple, w: Weights, saved: tuple):
    """slstm_step_backward with the exponential forget gate."""
    return slstm_step_backward(d_state, w, saved, exp_forget=True)


def _declare(key: str, about: str, step, step_backward, loop: ManualLoop, options: dict) -> Cell:
    return Cell(
        key=key,
        about=about,
        layer="SLSTM",
        layer_options=options,
        gates=("i", "f", "z", "o"),
        states=("h", "c", "n", "m"),
        x_proj_biases=("bias_ih", "bias_hh"),  # both fold into x̂, as in the LSTM
        step=step,
        step_backward=step_backward,
        manual_loop=loop,
    )


SLSTM_CELL = _declare(
    "slstm", "sLSTM of xLSTM: exponential gating, normaliser", slstm_step,
    slstm_step_backward, SLSTM_LOOP, {},
)  # fmt: skip
SLSTM_EXP_CELL = _declare(
    "slstm_exp", "sLSTM, exponential forget gate", slstm_exp_step, slstm_exp_step_backward,
    SLSTM_EXP_LOOP, {"forget_gate": "exp"},
)  # fmt: skip
