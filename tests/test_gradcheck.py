"""The hand-written backward against finite differences alone (torch.autograd.gradcheck, float64):
each cell's backward step (a sequence of length one) and the unrolled layer over time."""

import pytest
import torch

from scratch.unroll import ManualBPTT

MODES = ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]


def layer_inputs(mode, batch_sizes, bias, proj_size, I=3, H=4, seed=0):
    """Leaf tensors for ManualBPTT.apply: x, h0, c0, W_ih, W_hh, b_ih, b_hh, W_hr."""
    g = torch.Generator().manual_seed(seed)
    gates = {"LSTM": 4, "GRU": 3}.get(mode, 1) * H
    P = proj_size or H

    def leaf(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64).requires_grad_()

    N = batch_sizes[0]
    return (
        leaf(sum(batch_sizes), I),
        leaf(N, P),
        leaf(N, H) if mode == "LSTM" else None,
        leaf(gates, I),
        leaf(gates, P),
        leaf(gates) if bias else None,
        leaf(gates) if bias else None,
        leaf(P, H) if proj_size else None,
    )


def check(mode, batch_sizes, reverse, bias=True, proj_size=0):
    """Both loops: the readable one over the cell steps, and the fused one the layers run."""
    inputs = layer_inputs(mode, batch_sizes, bias, proj_size)
    for fused in (False, True):

        def layer(*args, fused=fused):
            return ManualBPTT.apply(mode, reverse, batch_sizes, fused, *args)

        assert torch.autograd.gradcheck(layer, inputs, eps=1e-6, atol=1e-7), f"fused={fused}"


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("mode", MODES)
def test_cell_step_backward(mode, bias):
    check(mode, [3], reverse=False, bias=bias)


def test_lstm_projection_step_backward():
    check("LSTM", [3], reverse=False, proj_size=2)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("mode", MODES)
def test_unrolled_layer_backward(mode, reverse):
    check(mode, [3, 3, 2, 2, 1], reverse)


@pytest.mark.parametrize("reverse", [False, True])
def test_unrolled_lstm_with_projection(reverse):
    check("LSTM", [3, 2, 2, 1], reverse, proj_size=2)


@pytest.mark.parametrize("mode", MODES)
def test_second_order_gradients(mode):
    """backward(create_graph=True) gives a differentiable gradient, as torch.nn's does."""
    inputs = layer_inputs(mode, [2, 2, 1], bias=True, proj_size=0, I=2, H=2)

    def layer(*args):
        return ManualBPTT.apply(mode, False, [2, 2, 1], True, *args)

    assert torch.autograd.gradgradcheck(layer, inputs, eps=1e-6, atol=1e-6)
