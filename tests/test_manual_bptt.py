"""bptt="manual" really runs the hand-written backward; bptt="autograd" really does not."""

import pytest
import torch

import scratch
import scratch.unroll
from compare.harness import Case, compare_case
from tests.breakage import flip_output_gate


def graph_size(t: torch.Tensor) -> int:
    """Number of autograd nodes reachable from t."""
    seen, stack = set(), [t.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        stack.extend(next_node for next_node, _ in node.next_functions)
    return len(seen)


@pytest.mark.parametrize("cls", [scratch.RNN, scratch.LSTM, scratch.GRU])
def test_manual_builds_no_per_step_graph(cls):
    sizes = {}
    for bptt in ("manual", "autograd"):
        model = cls(3, 4, bptt=bptt)
        sizes[bptt] = [graph_size(model(torch.randn(L, 2, 3))[0]) for L in (5, 20)]
    assert sizes["manual"][0] == sizes["manual"][1]  # one node for the whole layer
    assert sizes["autograd"][1] > sizes["autograd"][0]  # nodes per step


def test_manual_backward_is_called(monkeypatch):
    calls = []
    original = scratch.unroll.weight_gradients

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(scratch.unroll, "weight_gradients", counting)
    model = scratch.GRU(3, 4, num_layers=2, bidirectional=True)
    model(torch.randn(5, 2, 3))[0].sum().backward()
    assert len(calls) == 4  # one per layer and direction


@pytest.mark.parametrize(
    "target, broken_cell, intact_cell",
    [("lstm_layer_backward", "lstm", "lstm_cell"), ("lstm_step_backward", "lstm_cell", "lstm")],
)
def test_broken_backward_shows_only_where_it_is_used(monkeypatch, target, broken_cell, intact_cell):
    """Layers run the fused loop, cells the readable step: breaking one breaks only its users,
    only their gradients, and only under bptt="manual"."""
    monkeypatch.setattr(scratch.unroll, target, flip_output_gate(getattr(scratch.unroll, target)))
    manual = compare_case(Case(broken_cell))
    assert not manual.passed
    assert all(name.startswith("grad") for name in manual.failed)  # the forward is untouched
    assert "grad weight_hh" in {name.removesuffix("_l0") for name in manual.failed}
    assert compare_case(Case(broken_cell, bptt="autograd")).passed
    assert compare_case(Case(intact_cell)).passed


@pytest.mark.parametrize("cls", [scratch.RNN, scratch.LSTM, scratch.GRU, scratch.RNNCell])
def test_bad_bptt_names_both_choices(cls):
    with pytest.raises(ValueError, match="'manual' or 'autograd'"):
        cls(3, 4, bptt="numerical")


def test_gradient_of_unused_output_is_zero_not_missing():
    """Using only h_n still reaches every parameter through the manual backward."""
    model = scratch.LSTM(3, 4, num_layers=2)
    _, (h_n, _) = model(torch.randn(6, 2, 3))
    h_n.sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
