"""The hand-written backward against finite differences alone (torch.autograd.gradcheck, float64):
each cell's backward step (a sequence of length one) and the unrolled layer over time, through
the fast loop (bptt="manual") and the loop over the cell's step pair (bptt="readable")."""

import pytest
import torch

import scratch
from scratch.declaration import Weights
from scratch.function import run_layer
from scratch.registry import CELLS

# Cells that read torch.nn's parameters alone; those with their own parameters or masks are
# gradchecked in test_variants.py.
MODES = [mode for mode, cell in CELLS.items() if not cell.extra and not cell.masks]


def layer_inputs(mode, batch_sizes, bias, proj_size, I=3, H=4, seed=0):
    """Leaf tensors: x, the initial states, then W_ih, W_hh, b_ih, b_hh, W_hr (absent: None)."""
    g = torch.Generator().manual_seed(seed)
    cell = CELLS[mode]
    gates, P, N = cell.num_gates * H, proj_size or H, batch_sizes[0]

    def leaf(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64).requires_grad_()

    states = [leaf(N, P)] + [leaf(N, H) for _ in cell.states[1:]]
    weights = [leaf(gates, I), leaf(gates, P) if cell.recurrent_weight == "matrix" else leaf(H)]
    weights += [leaf(gates), leaf(gates)] if bias else [None, None]
    weights += [leaf(P, H) if proj_size else None]
    return cell, [leaf(sum(batch_sizes), I), *states, *weights]


def check(mode, batch_sizes, reverse, bias=True, proj_size=0):
    """Both loops of bptt by hand: the readable one and the fast one the layers run."""
    cell, inputs = layer_inputs(mode, batch_sizes, bias, proj_size)
    n = len(cell.states)
    for bptt in ("readable", "manual"):

        def layer(x, *rest, bptt=bptt):
            w = Weights(*rest[n:])
            y, state = run_layer(cell, x, tuple(rest[:n]), w, batch_sizes, reverse, bptt)
            return (y, *state)

        assert torch.autograd.gradcheck(layer, inputs, eps=1e-6, atol=1e-7), f"bptt={bptt}"


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("mode", MODES)
def test_cell_step_backward(mode, bias):
    check(mode, [3], reverse=False, bias=bias)


def test_lstm_projection_step_backward():
    check("lstm", [3], reverse=False, proj_size=2)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("mode", MODES)
def test_unrolled_layer_backward(mode, reverse):
    check(mode, [3, 3, 2, 2, 1], reverse)


@pytest.mark.parametrize("reverse", [False, True])
def test_unrolled_lstm_with_projection(reverse):
    check("lstm", [3, 2, 2, 1], reverse, proj_size=2)


@pytest.mark.parametrize("bptt", ["readable", "manual"])
@pytest.mark.parametrize("mode", MODES)
def test_second_order_gradients(mode, bptt):
    """backward(create_graph=True) gives a differentiable gradient, as torch.nn's does."""
    cell, inputs = layer_inputs(mode, [2, 2, 1], bias=True, proj_size=0, I=2, H=2)
    n = len(cell.states)

    def layer(x, *rest):
        y, state = run_layer(cell, x, tuple(rest[:n]), Weights(*rest[n:]), [2, 2, 1], False, bptt)
        return (y, *state)

    assert torch.autograd.gradgradcheck(layer, inputs, eps=1e-6, atol=1e-6)


@pytest.mark.parametrize("bptt", ["manual", "readable"])
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU", "LSTMCell"])
def test_gradient_penalty_matches_torch(name, bptt):
    """A penalty on dL/dx with L nonlinear in the output (WGAN-GP, Hessian-vector products):
    dL/dy then depends on the layer's own output, a path the second backward counts once, as
    torch.nn's does."""
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(3, 4).double()
    ours = getattr(scratch, name)(3, 4, bptt=bptt).double()
    ours.load_state_dict(theirs.state_dict())
    shape = (4, 2, 3) if not name.endswith("Cell") else (2, 3)
    x = torch.randn(shape, dtype=torch.float64)

    def penalised_gradients(module):
        x_ = x.clone().requires_grad_()
        out = module(x_)[0]
        (d_x,) = torch.autograd.grad(torch.tanh(out).pow(2).sum(), x_, create_graph=True)
        d_x.pow(2).sum().backward()
        return [p.grad for p in module.parameters()] + [x_.grad]

    for a, b in zip(penalised_gradients(ours), penalised_gradients(theirs), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)
