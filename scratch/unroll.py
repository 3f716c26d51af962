"""One layer, one direction, over time: the forward loop and BPTT, its hand-written backward.

Sequences arrive packed, as torch.nn.utils.rnn.PackedSequence lays them out: the rows of all
time steps stacked, (T_total, I), with batch_sizes[t] rows at step t, longest sequences first.
A plain (L, N, I) batch is the special case batch_sizes = [N] * L. At step t only the first
batch_sizes[t] rows move; the others keep their state (steps.py, docs/layers.md#packed).

    time  →   t=0   t=1   t=2   t=3         batch_sizes = [3, 3, 2, 1]
    row 0     x     x     x     x           the forward direction walks t = 0 … 3,
    row 1     x     x     x                 the reverse direction t = 3 … 0; BPTT walks
    row 2     x     x                       each in the opposite order.

Where the FLOPs are: the input projection x̂ of all steps is one matrix product before the
loop; each step does one recurrent product forward and one backward; the weight gradients
are one product each after the backward loop. Derivation: docs/layers.md#bptt.

Two loops compute the same thing. The readable loop below calls the cell steps of elman.py,
lstm.py and gru.py, exactly as docs/ shows them; autograd differentiates it (bptt="autograd"),
and the cells use it with its hand-written backward. Layers with bptt="manual" run the fused
loops (fused_*.py): the same equations, with buffers and precomputed derivative factors.
"""

import torch

from scratch.elman import elman_step, elman_step_backward
from scratch.fused_elman import elman_layer_backward, elman_layer_forward
from scratch.fused_gru import gru_layer_backward, gru_layer_forward
from scratch.fused_lstm import (
    FUSED_ORDER,
    TORCH_ORDER,
    lstm_layer_backward,
    lstm_layer_forward,
    reorder_gates,
)
from scratch.gru import gru_step, gru_step_backward
from scratch.lstm import lstm_step, lstm_step_backward
from scratch.steps import Steps


def _cell_step(mode: str, x_proj, state: tuple, W_hh, b_hh, W_hr):
    """Dispatch one forward step; state is (h,) or, for the LSTM, (h, c)."""
    if mode == "LSTM":
        h, c, saved = lstm_step(x_proj, state[0], state[1], W_hh, W_hr)
        return (h, c), saved
    if mode == "GRU":
        h, saved = gru_step(x_proj, state[0], W_hh, b_hh)
        return (h,), saved
    h, saved = elman_step(x_proj, state[0], W_hh, "tanh" if mode == "RNN_TANH" else "relu")
    return (h,), saved


def _cell_step_backward(mode: str, d_state: tuple, W_hh, W_hr, saved: tuple):
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


def readable_forward(mode, x_proj, state0, W_hh, b_hh, W_hr, steps: Steps):
    """The forward loop over the cell steps. Returns the outputs (T_total, P), the final
    state, and the tape that BPTT reads: what each cell step saved."""
    outputs, tape = [None] * len(steps.sizes), [None] * len(steps.sizes)
    state, xp = state0, steps.split(x_proj)
    for t in steps.forward_order:
        moving = tuple(steps.rows(s, t) for s in state)
        moved, saved = _cell_step(mode, xp[t], moving, W_hh, b_hh, W_hr)
        outputs[t], tape[t] = moved[0], saved
        state = tuple(steps.merge(m, s) for m, s in zip(moved, state, strict=True))
    return torch.cat(outputs), state, tape


def readable_backward(mode, d_y, d_state_n, W_hh, W_hr, steps: Steps, tape):
    """BPTT over the cell steps' backward. Returns dL/dx̂ and dL/dĥ (as column blocks, here one
    each), dL/d(state_0) and dL/dW_hr."""
    L = len(steps.sizes)
    d_x_projs, d_h_projs, d_hs = [None] * L, [None] * L, [None] * L
    d_state = d_state_n
    d_ys = steps.split(d_y)
    for t in steps.backward_order:
        d_h = steps.rows(d_state[0], t) + d_ys[t]  # from the output at t and from step t+1
        d_moved = (d_h, *(steps.rows(d, t) for d in d_state[1:]))
        d_x_projs[t], d_h_projs[t], d_prev = _cell_step_backward(mode, d_moved, W_hh, W_hr, tape[t])
        d_hs[t] = d_h
        d_state = tuple(steps.merge(p, d) for p, d in zip(d_prev, d_state, strict=True))
    d_X_proj = torch.cat(d_x_projs)
    d_H_proj = d_X_proj if mode != "GRU" else torch.cat(d_h_projs)
    d_W_hr = None
    if W_hr is not None:
        M = torch.cat([saved[-1] for saved in tape])  # m_t of every step
        d_W_hr = torch.cat(d_hs).t() @ M  # Σ_t d_h_tᵀ m_t
    return (d_X_proj,), (d_H_proj,), d_state, d_W_hr


def _fused_params(mode, params):
    """The fused LSTM keeps its gates in the order o, i, f, g: reorder the rows to match."""
    if mode != "LSTM":
        return params
    W_ih, W_hh, b_ih, b_hh, W_hr = params
    reordered = (
        None if p is None else reorder_gates(p, FUSED_ORDER) for p in (W_ih, W_hh, b_ih, b_hh)
    )
    return (*reordered, W_hr)


def _fused_forward(mode, x_proj, state0, W_hh, b_hh, W_hr, steps, keep):
    if mode == "LSTM":
        return lstm_layer_forward(x_proj, state0, W_hh, b_hh, W_hr, steps, keep)
    if mode == "GRU":
        return gru_layer_forward(x_proj, state0, W_hh, b_hh, W_hr, steps, keep)
    return elman_layer_forward(x_proj, state0, W_hh, b_hh, W_hr, steps, keep, mode == "RNN_RELU")


def _fused_backward(mode, d_y, d_state_n, W_hh, W_hr, steps, y, h0, saved):
    if mode == "LSTM":
        return lstm_layer_backward(d_y, d_state_n, W_hh, W_hr, steps, y, h0, saved)
    if mode == "GRU":
        return gru_layer_backward(d_y, d_state_n, W_hh, W_hr, steps, y, h0, saved)
    relu = mode == "RNN_RELU"
    return elman_layer_backward(d_y, d_state_n, W_hh, W_hr, steps, y, h0, saved, relu)


def layer_forward(mode, x, state0, params, steps: Steps, fused: bool, keep: bool):
    """x̂ for all steps, then the loop over time: the fused one (with the LSTM's gate rows
    reordered) or the readable one. keep: whether the fused loop keeps what its backward needs.
    Returns the outputs, the final state, the tape, and W_ih, W_hh as the loop used them."""
    if fused:
        params = _fused_params(mode, params)
    W_ih, W_hh, b_ih, b_hh, W_hr = params
    x_proj = input_projection(mode, x, W_ih, b_ih, b_hh)
    if fused:
        y, state_n, tape = _fused_forward(mode, x_proj, state0, W_hh, b_hh, W_hr, steps, keep)
    else:
        y, state_n, tape = readable_forward(mode, x_proj, state0, W_hh, b_hh, W_hr, steps)
    return y, state_n, tape, W_ih, W_hh


def input_projection(mode: str, x, W_ih, b_ih, b_hh):
    """x̂ = x W_ihᵀ + b_ih (+ b_hh, except for the GRU, whose b_hh sits inside r ⊙ ĥ)."""
    if b_ih is None:
        return x @ W_ih.t()  # (T_total, G)
    bias = b_ih if mode == "GRU" else b_ih + b_hh
    return torch.addmm(bias, x, W_ih.t())  # (T_total, G)


def weight_gradients(d_X_blocks, d_H_blocks, x, y, h0, steps: Steps, W_ih, has_bias, need_d_x):
    """After the backward loop, one product each: dL/dx, dL/dW_ih, dL/dW_hh, dL/db_ih, dL/db_hh.

    d_X_blocks, d_H_blocks: dL/dx̂ and dL/dĥ (T_total, ·) as column blocks that follow the rows
    of W_ih and W_hh in order (one block each, except in the GRU). y, h0: the outputs and the
    initial state, from which steps.previous_product reads h_{t-1}.
    """
    d_x = None
    if need_d_x:  # ∂x̂_t/∂x_t = W_ih
        row = 0
        for d in d_X_blocks:
            part = W_ih[row : row + d.shape[1]]
            d_x = d @ part if d_x is None else d_x.addmm_(d, part)
            row += d.shape[1]
    d_W_ih = torch.cat([d.t() @ x for d in d_X_blocks])  # Σ_t d_x̂_tᵀ x_t
    d_W_hh = torch.cat([steps.previous_product(d, y, h0) for d in d_H_blocks])  # Σ_t d_ĥ_tᵀ h_{t-1}
    d_b_ih = torch.cat([d.sum(0) for d in d_X_blocks]) if has_bias else None  # Σ_t d_x̂_t
    d_b_hh = torch.cat([d.sum(0) for d in d_H_blocks]) if has_bias else None  # Σ_t d_ĥ_t
    return d_x, d_W_ih, d_W_hh, d_b_ih, d_b_hh


class ManualBPTT(torch.autograd.Function):
    """Ties the hand-written BPTT to autograd: forward runs the loop, backward is ours."""

    @staticmethod
    def forward(ctx, mode, reverse, batch_sizes, fused, x, h0, c0, W_ih, W_hh, b_ih, b_hh, W_hr):
        steps = Steps(batch_sizes, reverse)
        state0 = (h0,) if c0 is None else (h0, c0)
        inputs = (x, h0, c0, W_ih, W_hh, b_ih, b_hh, W_hr)
        params = (W_ih, W_hh, b_ih, b_hh, W_hr)
        y, state_n, tape, W_ih_used, W_hh_used = layer_forward(
            mode, x, state0, params, steps, fused, keep=True
        )
        # The inputs as given, then the output and the weights as the loop used them.
        ctx.save_for_backward(*inputs, y, W_ih_used, W_hh_used)
        ctx.mode, ctx.steps, ctx.fused, ctx.tape = mode, steps, fused, tape
        ctx.has_bias = b_ih is not None
        # Fresh copies: the tape may hold the last state, and must not hold an output.
        return (y, *(s.clone() for s in state_n))

    @staticmethod
    def backward(ctx, d_y, *d_state_n):
        if torch.is_grad_enabled():  # backward(create_graph=True): gradients of gradients
            return (None, None, None, None, *_differentiable_backward(ctx, d_y, d_state_n))
        x, h0, _, _, _, _, _, W_hr, y, W_ih, W_hh = ctx.saved_tensors
        if ctx.fused:
            d_X_blocks, d_H_blocks, d_state0, d_W_hr = _fused_backward(
                ctx.mode, d_y, d_state_n, W_hh, W_hr, ctx.steps, y, h0, ctx.tape
            )
        else:
            d_X_blocks, d_H_blocks, d_state0, d_W_hr = readable_backward(
                ctx.mode, d_y, d_state_n, W_hh, W_hr, ctx.steps, ctx.tape
            )
        d_x, *d_params = weight_gradients(
            d_X_blocks, d_H_blocks, x, y, h0, ctx.steps, W_ih, ctx.has_bias, ctx.needs_input_grad[4]
        )
        if ctx.fused and ctx.mode == "LSTM":  # the gradients' gate rows back to torch.nn's order
            d_params = [None if d is None else reorder_gates(d, TORCH_ORDER) for d in d_params]
        d_c0 = d_state0[1] if len(d_state0) == 2 else None
        return (None, None, None, None, d_x, d_state0[0], d_c0, *d_params, d_W_hr)


def _differentiable_backward(ctx, d_y, d_state_n) -> tuple:
    """Only for higher-order gradients, which our first-order BPTT does not build a graph for:
    autograd differentiates the readable loop, recomputed from the saved inputs."""
    inputs = ctx.saved_tensors[:8]  # the inputs as given; the output and used weights follow
    x, h0, c0, *params = inputs
    state0 = (h0,) if c0 is None else (h0, c0)
    with torch.enable_grad():
        y, state_n, *_ = layer_forward(ctx.mode, x, state0, params, ctx.steps, False, False)
    wanted = [k for k, t in enumerate(inputs) if t is not None and ctx.needs_input_grad[4 + k]]
    grads = torch.autograd.grad(
        (y, *state_n),
        [inputs[k] for k in wanted],
        (d_y, *d_state_n),
        create_graph=True,
        allow_unused=True,
    )
    result = [None] * len(inputs)
    for k, g in zip(wanted, grads, strict=True):
        result[k] = g
    return tuple(result)


def run_layer(mode, x, state0, params, batch_sizes, reverse, bptt, fused=True):
    """One layer, one direction; gradients by our BPTT (bptt="manual") or by autograd.

    params: (W_ih, W_hh, b_ih, b_hh, W_hr), absent ones None. fused=False runs the readable
    loop under bptt="manual" too (the cells do: one step, the cell's own backward step).
    """
    needs_grad = torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (x, *state0, *params)
    )
    if bptt == "manual" and needs_grad:
        c0 = state0[1] if len(state0) == 2 else None
        y, *state_n = ManualBPTT.apply(mode, reverse, batch_sizes, fused, x, state0[0], c0, *params)
        return y, tuple(state_n)
    # Nothing to differentiate by hand: the fused loop keeps no factors; autograd records the
    # readable one if gradients are wanted.
    steps, fused = Steps(batch_sizes, reverse), bptt == "manual" and fused
    y, state_n, *_ = layer_forward(mode, x, state0, params, steps, fused, keep=False)
    return y, state_n
