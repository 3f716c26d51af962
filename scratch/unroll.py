"""One layer, one direction, over time: the forward loop and BPTT, its hand-written backward.

Sequences arrive packed, as torch.nn.utils.rnn.PackedSequence lays them out: the rows of all
time steps stacked, (T_total, I), with batch_sizes[t] rows at step t, longest sequences first.
A plain (L, N, I) batch is the special case batch_sizes = [N] * L. At step t only the first
batch_sizes[t] rows move; the others keep their state (docs/layers.md#packed).

    time  →   t=0   t=1   t=2   t=3         batch_sizes = [3, 3, 2, 1]
    row 0     x     x     x     x           the forward direction walks t = 0 … 3,
    row 1     x     x     x                 the reverse direction t = 3 … 0; BPTT walks
    row 2     x     x                       each in the opposite order.

Where the FLOPs are: the input projection x̂ of all steps is one matrix product before the
loop; each step does one recurrent product forward and one backward; the weight gradients
are one product each after the backward loop. Derivation: docs/bptt.md.
"""

import torch
from torch import Tensor

from scratch.elman import elman_step, elman_step_backward
from scratch.gru import gru_step, gru_step_backward
from scratch.lstm import lstm_step, lstm_step_backward

MODES = ("RNN_TANH", "RNN_RELU", "LSTM", "GRU")


def _cell_step(mode: str, x_proj: Tensor, state: tuple, W_hh: Tensor, b_hh, W_hr):
    """Dispatch one forward step; state is (h,) or, for the LSTM, (h, c)."""
    if mode == "LSTM":
        h, c, saved = lstm_step(x_proj, state[0], state[1], W_hh, W_hr)
        return (h, c), saved
    if mode == "GRU":
        h, saved = gru_step(x_proj, state[0], W_hh, b_hh)
        return (h,), saved
    h, saved = elman_step(x_proj, state[0], W_hh, "tanh" if mode == "RNN_TANH" else "relu")
    return (h,), saved


def _cell_step_backward(mode: str, d_state: tuple, W_hh: Tensor, W_hr, saved: tuple):
    """Dispatch one backward step. Returns dL/dx̂_t, dL/dĥ_t and dL/d(state_{t-1})."""
    if mode == "LSTM":
        d_a, d_h_prev, d_c_prev = lstm_step_backward(d_state[0], d_state[1], W_hh, W_hr, saved)
        return d_a, d_a, (d_h_prev, d_c_prev)
    if mode == "GRU":
        d_x_proj, d_h_proj, d_h_prev = gru_step_backward(d_state[0], W_hh, saved)
        return d_x_proj, d_h_proj, (d_h_prev,)
    nonlinearity = "tanh" if mode == "RNN_TANH" else "relu"
    d_a, d_h_prev = elman_step_backward(d_state[0], W_hh, saved, nonlinearity)
    return d_a, d_a, (d_h_prev,)


def _input_projection(mode: str, x: Tensor, W_ih: Tensor, b_ih, b_hh) -> Tensor:
    """x̂ = x W_ihᵀ + b_ih (+ b_hh, except for the GRU, whose b_hh sits inside r ⊙ ĥ)."""
    if b_ih is None:
        return x @ W_ih.t()  # (T_total, G)
    bias = b_ih if mode == "GRU" else b_ih + b_hh
    return torch.addmm(bias, x, W_ih.t())  # (T_total, G)


def _merge(moved: tuple, state: tuple) -> tuple:
    """Rows [0, b) took a step; rows [b, N) keep what they had."""
    b = moved[0].shape[0]
    if b == state[0].shape[0]:
        return moved
    return tuple(torch.cat([m, s[b:]]) for m, s in zip(moved, state, strict=True))


def unroll_forward(mode, x, state0, params, batch_sizes, reverse):
    """Run one layer over time.

    x: packed rows (T_total, I); state0: (h_0,) or (h_0, c_0), each (N, ·);
    params: (W_ih, W_hh, b_ih, b_hh, W_hr), absent ones None.
    Returns the outputs (T_total, P), the final state, and the tape that BPTT reads:
    for each step the h_{t-1} rows that moved and what the cell step saved.
    """
    W_ih, W_hh, b_ih, b_hh, W_hr = params
    x_proj = _input_projection(mode, x, W_ih, b_ih, b_hh)
    offsets = _offsets(batch_sizes)
    L = len(batch_sizes)
    outputs, tape = [None] * L, [None] * L
    state = state0
    for t in reversed(range(L)) if reverse else range(L):
        b, start = batch_sizes[t], offsets[t]
        moving = tuple(s[:b] for s in state)
        moved, saved = _cell_step(mode, x_proj[start : start + b], moving, W_hh, b_hh, W_hr)
        outputs[t] = moved[0]
        tape[t] = (moving[0], saved)
        state = _merge(moved, state)
    return torch.cat(outputs), state, tape


def unroll_backward(mode, d_y, d_state_n, x, params, batch_sizes, reverse, tape, need_d_x):
    """BPTT: walk time in the order opposite to the forward loop.

    d_y: dL/d(outputs) (T_total, P); d_state_n: dL/d(final state).
    Returns dL/dx (or None), dL/d(state_0) and the gradient of each parameter (None if absent).
    """
    W_ih, W_hh, b_ih, b_hh, W_hr = params
    offsets = _offsets(batch_sizes)
    L = len(batch_sizes)
    d_x_projs, d_h_projs, d_hs = [None] * L, [None] * L, [None] * L
    d_state = d_state_n
    for t in range(L) if reverse else reversed(range(L)):
        b, start = batch_sizes[t], offsets[t]
        d_h = d_state[0][:b] + d_y[start : start + b]  # from the output at t and from t+1
        d_moved = (d_h, *(d[:b] for d in d_state[1:]))
        d_x_projs[t], d_h_projs[t], d_prev = _cell_step_backward(
            mode, d_moved, W_hh, W_hr, tape[t][1]
        )
        d_hs[t] = d_h
        d_state = _merge(d_prev, d_state)

    d_X_proj = torch.cat(d_x_projs)  # (T_total, G)
    d_H_proj = d_X_proj if mode != "GRU" else torch.cat(d_h_projs)
    H_prev = torch.cat([h_prev for h_prev, _ in tape])  # (T_total, P)
    d_x = d_X_proj @ W_ih if need_d_x else None  # ∂x̂/∂x = W_ih
    d_W_ih = d_X_proj.t() @ x  # Σ_t d_x̂_tᵀ x_t
    d_W_hh = d_H_proj.t() @ H_prev  # Σ_t d_ĥ_tᵀ h_{t-1}
    d_b_ih = d_X_proj.sum(0) if b_ih is not None else None  # Σ_t d_x̂_t
    d_b_hh = d_H_proj.sum(0) if b_hh is not None else None  # Σ_t d_ĥ_t
    d_W_hr = None
    if W_hr is not None:
        M = torch.cat([saved[-1] for _, saved in tape])  # (T_total, H)
        d_W_hr = torch.cat(d_hs).t() @ M  # Σ_t d_h_tᵀ m_t
    return d_x, d_state, (d_W_ih, d_W_hh, d_b_ih, d_b_hh, d_W_hr)


def _offsets(batch_sizes: list[int]) -> list[int]:
    """Row where step t starts in the packed data."""
    offsets, total = [], 0
    for b in batch_sizes:
        offsets.append(total)
        total += b
    return offsets


class ManualBPTT(torch.autograd.Function):
    """Ties the hand-written BPTT to autograd: forward runs the loop, backward is ours."""

    @staticmethod
    def forward(ctx, mode, reverse, batch_sizes, x, h0, c0, W_ih, W_hh, b_ih, b_hh, W_hr):
        state0 = (h0,) if c0 is None else (h0, c0)
        params = (W_ih, W_hh, b_ih, b_hh, W_hr)
        y, state_n, tape = unroll_forward(mode, x, state0, params, batch_sizes, reverse)
        ctx.save_for_backward(x, W_ih, W_hh, b_ih, b_hh, W_hr)
        ctx.mode, ctx.reverse, ctx.batch_sizes, ctx.tape = mode, reverse, batch_sizes, tape
        # Fresh copies: the tape may hold the last state, and must not hold an output.
        return (y, *(s.clone() for s in state_n))

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, d_y, *d_state_n):
        x, *params = ctx.saved_tensors
        d_x, d_state0, d_params = unroll_backward(
            ctx.mode,
            d_y,
            d_state_n,
            x,
            params,
            ctx.batch_sizes,
            ctx.reverse,
            ctx.tape,
            need_d_x=ctx.needs_input_grad[3],
        )
        d_c0 = d_state0[1] if len(d_state0) == 2 else None
        return (None, None, None, d_x, d_state0[0], d_c0, *d_params)


def run_layer(mode, x, state0, params, batch_sizes, reverse, bptt):
    """One layer, one direction; gradients by our BPTT (bptt="manual") or by autograd."""
    if bptt == "autograd":
        y, state_n, _ = unroll_forward(mode, x, state0, params, batch_sizes, reverse)
        return y, state_n
    c0 = state0[1] if len(state0) == 2 else None
    y, *state_n = ManualBPTT.apply(mode, reverse, batch_sizes, x, state0[0], c0, *params)
    return y, tuple(state_n)
