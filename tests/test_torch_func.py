"""torch.func on scratch layers: grad and vjp run our hand-written backward and give torch.nn's
numbers; vmap and jvp work under bptt="autograd" too (our own rules serve them under "manual"
and "readable": tests/test_forward_mode.py, tests/test_vmap.py); torch.jit.trace records a
module as torch.nn's does; torch.jit.script says plainly that it is not supported."""

import pytest
import torch
from torch import nn
from torch.func import functional_call, grad, jvp, vjp, vmap

import scratch
import scratch.function

X = torch.randn(6, 2, 3, dtype=torch.float64)


def pair(name: str, bptt: str):
    torch.manual_seed(0)
    ref = getattr(nn, name)(3, 4, num_layers=2, bidirectional=True).double()
    ours = getattr(scratch, name)(3, 4, num_layers=2, bidirectional=True, bptt=bptt).double()
    ours.load_state_dict(ref.state_dict())
    return ours, ref


def loss(params, module):
    out, _ = functional_call(module, params, (X,))
    return (out * out.cos()).sum()


@pytest.mark.parametrize("bptt", ["manual", "readable"])
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_func_grad_and_vjp_use_our_backward_and_match_torch(monkeypatch, name, bptt):
    calls = []
    original = scratch.function.layer_backward
    monkeypatch.setattr(
        scratch.function, "layer_backward", lambda *a: calls.append(1) or original(*a)
    )
    ours, ref = pair(name, bptt)
    params = {k: v.detach() for k, v in ref.named_parameters()}
    theirs, mine = grad(loss)(params, ref), grad(loss)(params, ours)
    assert len(calls) == 4  # our BPTT, once per layer and direction
    for k in params:
        torch.testing.assert_close(mine[k], theirs[k], rtol=1e-10, atol=1e-10)
    d_out = torch.randn(6, 2, 8, dtype=torch.float64)
    (d_x_ours,) = vjp(lambda x: ours(x)[0], X)[1](d_out)
    (d_x_ref,) = vjp(lambda x: ref(x)[0], X)[1](d_out)
    torch.testing.assert_close(d_x_ours, d_x_ref, rtol=1e-10, atol=1e-10)


def test_vmap_and_jvp_work_under_autograd():
    ours, ref = pair("LSTM", "autograd")
    batch = torch.randn(3, *X.shape, dtype=torch.float64)
    torch.testing.assert_close(
        vmap(lambda x: ours(x)[0])(batch), torch.stack([ref(x)[0] for x in batch])
    )
    tangent = torch.randn_like(X)
    _, ours_t = jvp(lambda x: ours(x)[0], (X,), (tangent,))
    _, ref_t = jvp(lambda x: ref(x)[0], (X,), (tangent,))
    torch.testing.assert_close(ours_t, ref_t)


@pytest.mark.parametrize("module", [scratch.LSTM(3, 4), scratch.GRUCell(3, 4)])
def test_torchscript_refuses_with_one_clear_message(module):
    with pytest.raises(RuntimeError, match="TorchScript .* is not supported"):
        torch.jit.script(module)


@pytest.mark.parametrize("bptt", ["manual", "readable"])
@pytest.mark.parametrize("name", ["LSTM", "GRUCell"])
def test_torch_jit_trace_records_a_module_with_torch_nn_numbers(name, bptt):
    """torch.nn's layers trace; ours too: a trace records the readable loop's tensor operations
    (autograd differentiates them), and the traced module gives torch.nn's outputs and gradients."""
    torch.manual_seed(0)
    ref = getattr(nn, name)(3, 4)
    ours = getattr(scratch, name)(3, 4, bptt=bptt)
    ours.load_state_dict(ref.state_dict())
    shape = (5, 2, 3) if name == "LSTM" else (2, 3)
    traced = torch.jit.trace(ours, (torch.randn(shape),))
    x = torch.randn(shape)
    for module in (traced, ref):
        (module(x)[0] ** 2).sum().backward()
    torch.testing.assert_close(traced(x)[0], ref(x)[0])
    for a, b in zip(ours.parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad)
