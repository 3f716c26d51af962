"""The plain loops (scratch/plain.py) against torch.nn in float64: the output, the final states,
and the gradient of the input, of the initial states and of every parameter, to 1e-12.

The gradients of torch.nn come from autograd through its own kernel; ours from plain_backward
alone, fed the same upstream gradients (random dL/dy_t and dL/d(state_n))."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from scratch import plain_backward, plain_forward
from scratch.declaration import STANDARD_KINDS, Weights

# key of the cell -> (torch.nn class, its keyword arguments)
TORCH = {
    "rnn_tanh": (torch.nn.RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": (torch.nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (torch.nn.LSTM, {}),
    "gru": (torch.nn.GRU, {}),
}
TOLERANCE = 1e-12


def compare(mode, L, N, I, H, bias, proj_size=0, seed=0):
    """Largest |ours − torch.nn| over every output, state and gradient, by name."""
    torch.manual_seed(seed)
    kind, kwargs = TORCH[mode]
    if proj_size:
        kwargs = {**kwargs, "proj_size": proj_size}
    layer = kind(I, H, bias=bias, dtype=torch.float64, **kwargs)
    P = proj_size or H
    x = torch.randn(L, N, I, dtype=torch.float64, requires_grad=True)
    state0 = [torch.randn(1, N, P, dtype=torch.float64, requires_grad=True)]
    if mode == "lstm":
        state0.append(torch.randn(1, N, H, dtype=torch.float64, requires_grad=True))
    y, state_n = layer(x, tuple(state0) if mode == "lstm" else state0[0])
    state_n = state_n if mode == "lstm" else (state_n,)
    d_y = torch.randn_like(y)
    d_state_n = tuple(torch.randn_like(s) for s in state_n)
    torch.autograd.backward([y, *state_n], [d_y, *d_state_n])

    params = dict(layer.named_parameters())
    w = Weights(*(params.get(f"{k}_l0") for k in STANDARD_KINDS))
    with torch.no_grad():
        our_y, our_state, tape = plain_forward(mode, x, tuple(s[0] for s in state0), w)
        d_x, d_state0, grads = plain_backward(mode, d_y, tuple(d[0] for d in d_state_n), x, w, tape)
    errors = {"output": our_y - y, "d_x": d_x - x.grad}
    for k, (ours, theirs) in enumerate(zip(our_state, state_n, strict=True)):
        errors[f"state_n[{k}]"] = ours - theirs[0]
    for k, (ours, s) in enumerate(zip(d_state0, state0, strict=True)):
        errors[f"d_state0[{k}]"] = ours - s.grad[0]
    assert set(grads) == {name.removesuffix("_l0") for name in params}, "a gradient is missing"
    for name, p in params.items():
        errors[name] = grads[name.removesuffix("_l0")] - p.grad
    return {name: e.abs().max().item() for name, e in errors.items()}


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("mode", list(TORCH))
def test_plain_loop_equals_torch_nn(mode, bias):
    errors = compare(mode, L=7, N=3, I=4, H=5, bias=bias)
    assert max(errors.values()) <= TOLERANCE, errors


def test_plain_loop_with_a_projection_equals_torch_nn():
    errors = compare("lstm", L=6, N=2, I=3, H=5, bias=True, proj_size=2)
    assert max(errors.values()) <= TOLERANCE, errors


@given(
    mode=st.sampled_from(list(TORCH)),
    L=st.integers(1, 12),
    N=st.integers(1, 4),
    I=st.integers(1, 6),
    H=st.integers(1, 6),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_plain_loop_equals_torch_nn_for_any_shape(mode, L, N, I, H, bias, seed):
    errors = compare(mode, L, N, I, H, bias, seed=seed)
    assert max(errors.values()) <= TOLERANCE, errors
