"""torch.func.vmap over scratch layers under bptt="manual" and "readable": model ensembles
(stack_module_state + functional_call) and per-sample gradients (vmap(grad)) give the numbers
of a Python loop over the members or samples; torch.autograd.functional.jacobian(vectorize=True)
and autograd.grad(is_grads_batched=True), which run torch's legacy vmap, give the unbatched
numbers."""

import pytest
import torch
from torch.func import functional_call, grad, stack_module_state, vmap

import scratch

EXACT = {"rtol": 1e-12, "atol": 1e-12}
X = torch.randn(5, 3, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
CLASSES = ["RNN", "LSTM", "GRU"]


def member(name: str, bptt: str, seed: int):
    torch.manual_seed(seed)
    return getattr(scratch, name)(2, 4, num_layers=2, bidirectional=True, bptt=bptt).double()


def flat(out) -> tuple:
    y, state = out
    return (y, *state) if isinstance(state, tuple) else (y, state)


@pytest.mark.parametrize("bptt", ["manual", "readable"])
@pytest.mark.parametrize("name", CLASSES)
def test_ensemble_equals_a_loop_over_the_members(name, bptt):
    members = [member(name, bptt, seed) for seed in range(3)]
    params, buffers = stack_module_state(members)

    def run(p, b, x):
        return flat(functional_call(members[0], (p, b), (x,)))

    got = vmap(run, in_dims=(0, 0, None))(params, buffers, X)
    want = [torch.stack(parts) for parts in zip(*(flat(m(X)) for m in members), strict=True)]
    torch.testing.assert_close(list(got), want, **EXACT)


@pytest.mark.parametrize("bptt", ["manual", "readable"])
@pytest.mark.parametrize("name", CLASSES)
def test_per_sample_gradients_equal_a_loop_over_the_samples(name, bptt):
    module = member(name, bptt, 0)
    params = {k: v.detach() for k, v in module.named_parameters()}

    def loss(p, sample):  # one sequence (L, I), as a batch of one
        y, _ = functional_call(module, p, (sample.unsqueeze(1),))
        return (y * y.cos()).sum()

    got = vmap(grad(loss), in_dims=(None, 1))(params, X)
    each = [grad(loss)(params, X[:, n]) for n in range(X.shape[1])]
    want = {k: torch.stack([g[k] for g in each]) for k in params}
    torch.testing.assert_close(got, want, **EXACT)


@pytest.mark.parametrize("name", CLASSES)
def test_legacy_vmap_jacobian_and_batched_grads(name):
    module = member(name, "manual", 0)
    f = lambda x: module(x)[0]  # noqa: E731
    torch.testing.assert_close(
        torch.autograd.functional.jacobian(f, X, vectorize=True),
        torch.autograd.functional.jacobian(f, X),
        **EXACT,
    )
    x = X.clone().requires_grad_()
    y = f(x)
    cotangents = torch.randn(3, *y.shape, dtype=y.dtype)
    (got,) = torch.autograd.grad(y, x, cotangents, retain_graph=True, is_grads_batched=True)
    want = torch.stack([torch.autograd.grad(y, x, c, retain_graph=True)[0] for c in cotangents])
    torch.testing.assert_close(got, want, **EXACT)
