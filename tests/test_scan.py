"""The parallel scan (scratch/fast/scan.py) and its hand-written backward: the bare scan against a
plain loop, gradcheck of the scan layers (float64, packed rows, both directions), the layers'
bptt="manual" running the scan, and float32 scans against a float64 loop at T = 4096."""

import pytest
import torch

import scratch
from compare import scan_precision
from compare.harness import TOLERANCES, scaled_error
from scratch.declaration import Weights
from scratch.fast import scan
from scratch.function import run_layer
from scratch.registry import CELLS

MINIMAL = ["mingru", "minlstm"]


def loop(a, b, reverse):
    """h_k = a_k ⊙ h_{k−1} + b_k one position at a time, from h = 0 before the first."""
    h, out = torch.zeros_like(b[0]), torch.empty_like(b)
    for k in range(len(b) - 1, -1, -1) if reverse else range(len(b)):
        h = a[k] * h + b[k]
        out[k] = h
    return out


@pytest.mark.parametrize("reverse", [False, True])
def test_scan_equals_the_loop_at_every_length(reverse):
    """Every n up to 70 (powers of two and the ones between, where levels are ragged)."""
    g = torch.Generator().manual_seed(0)
    for n in range(1, 71):
        a = torch.rand(n, 2, 3, generator=g, dtype=torch.float64)
        b = torch.randn(n, 2, 3, generator=g, dtype=torch.float64)
        expected = loop(a, b, reverse)
        assert torch.allclose(scan.scan_(a.clone(), b.clone(), reverse), expected, 1e-13, 1e-13)


BATCH_SIZES = [[1], [2] * 9, [3, 3, 2, 2, 1], [4, 1, 1, 1, 1, 1], [2, 2, 2, 2]]


def layer_inputs(mode, batch_sizes, bias, seed=0, I=3, H=4):
    """Leaf tensors x, h_0, W_ih, b_ih (float64), and the layer run under bptt="manual"."""
    g = torch.Generator().manual_seed(seed)
    G = CELLS[mode].num_gates * H

    def leaf(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64).requires_grad_()

    return [
        leaf(sum(batch_sizes), I),
        leaf(batch_sizes[0], H),
        leaf(G, I),
        leaf(G) if bias else None,
    ]


@pytest.mark.parametrize("batch_sizes", BATCH_SIZES, ids=str)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("mode", MINIMAL)
def test_gradcheck_scan_layer(mode, reverse, batch_sizes):
    """The scan forward and its reversed-scan backward against finite differences alone."""
    inputs = layer_inputs(mode, batch_sizes, bias=True)

    def layer(x, h0, W_ih, b_ih):
        w = Weights(W_ih, b_ih=b_ih)
        y, (h_n,) = run_layer(CELLS[mode], x, (h0,), w, batch_sizes, reverse, "manual")
        return y, h_n

    assert torch.autograd.gradcheck(layer, inputs, eps=1e-6, atol=1e-7)


@pytest.mark.parametrize("mode", MINIMAL)
def test_gradcheck_scan_layer_without_bias(mode):
    inputs = layer_inputs(mode, [3, 2, 2, 1], bias=False)[:3]

    def layer(x, h0, W_ih):
        y, (h_n,) = run_layer(CELLS[mode], x, (h0,), Weights(W_ih), [3, 2, 2, 1], False, "manual")
        return y, h_n

    assert torch.autograd.gradcheck(layer, inputs, eps=1e-6, atol=1e-7)


@pytest.mark.parametrize("bptt, scans", [("manual", 2), ("readable", 0), ("autograd", 0)])
def test_manual_runs_the_scan_forward_and_backward(monkeypatch, bptt, scans):
    """One scan forward and one backward per layer and direction under "manual"; none else."""
    calls, scan_ = [], scan.scan_

    def counted(a, b, reverse=False):
        calls.append(reverse)
        return scan_(a, b, reverse)

    monkeypatch.setattr(scan, "scan_", counted)
    model = scratch.MinGRU(3, 4, num_layers=2, bidirectional=True, bptt=bptt).double()
    y, h_n = model(torch.randn(5, 2, 3, dtype=torch.float64))
    (y.sum() + h_n.sum()).backward()
    assert len(calls) == scans * 2 * 2
    if scans:  # the backward of each direction walks time the other way
        assert sorted(calls) == [False] * 4 + [True] * 4


# Bias shifts per gate block (in the declared order) that set a_t ≈ 0.12 ("fast" forgetting)
# or a_t ≈ 0.98 ("slow"): minGRU's a = 1 − z; minLSTM's a = f / (f + i).
FORGETTING = {
    ("MinGRU", "fast"): (2.0, 0.0),  # z, h̃
    ("MinGRU", "slow"): (-4.0, 0.0),
    ("MinLSTM", "fast"): (2.0, -2.0, 0.0),  # i, f, h̃
    ("MinLSTM", "slow"): (-4.0, 4.0, 0.0),
}


@pytest.mark.parametrize("forget", ["fast", "slow"])
@pytest.mark.parametrize("cls", [scratch.MinGRU, scratch.MinLSTM], ids=lambda c: c.__name__)
def test_float32_scan_matches_a_float64_loop_at_T_4096(cls, forget):
    """The float32 scan against the float64 sequential loop from the same float32 weights:
    outputs, h_n and every gradient within the contract's float32 tolerance. Slow forgetting
    keeps thousands of terms alive in each h_t; fast forgetting makes products of a underflow."""
    torch.manual_seed(0)
    T, N, I, H = 4096, 2, 4, 8
    fast = cls(I, H, bidirectional=True, bptt="manual")
    shift = torch.tensor(FORGETTING[(cls.__name__, forget)])
    with torch.no_grad():
        for name in ("bias_ih_l0", "bias_ih_l0_reverse"):
            getattr(fast, name).view(len(shift), H).add_(shift[:, None])
    exact = cls(I, H, bidirectional=True, bptt="readable", dtype=torch.float64)
    exact.load_state_dict(fast.state_dict())
    x, h0 = torch.randn(T, N, I), torch.randn(2, N, H)
    d_y, d_h = torch.randn(T, N, 2 * H), torch.randn(2, N, H)
    results = []
    for model, dtype in ((exact, torch.float64), (fast, torch.float32)):
        xx, hh = x.to(dtype).requires_grad_(), h0.to(dtype).requires_grad_()
        y, h_n = model(xx, hh)
        ((y * d_y.to(dtype)).sum() + (h_n * d_h.to(dtype)).sum()).backward()
        results.append([y, h_n, xx.grad, hh.grad, *(p.grad for p in model.parameters())])
    for ours, ref in zip(results[1], results[0], strict=True):
        assert scaled_error(ours.double(), ref) <= TOLERANCES["float32"]


def test_the_log_space_form_measured_in_the_docs_is_exact_in_float64():
    """compare/scan_precision.py's Heinsen form is the recurrence itself (so the float32 digits
    it loses there are the form's, not a bug's), negative b and h_0 included."""
    g = torch.Generator().manual_seed(0)
    x_z, h_tilde = torch.randn(2, 300, 3, 4, generator=g, dtype=torch.float64)
    h0 = torch.randn(3, 4, generator=g, dtype=torch.float64)
    z = torch.sigmoid(x_z)
    expected = scan_precision.loop(1 - z, z * h_tilde, h0)
    ours = scan_precision.log_space_scan(x_z, h_tilde, h0)
    assert torch.allclose(ours, expected, rtol=1e-10, atol=1e-10)
