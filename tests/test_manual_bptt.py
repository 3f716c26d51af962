"""bptt="manual" and "readable" really run the hand-written backward; "autograd" does not."""

import pytest
import torch

import scratch
import scratch.fast.blocks
import scratch.function
from compare.harness import Case, compare_case
from tests.breakage import broken_lstm


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
def test_hand_written_bptt_builds_no_per_step_graph(cls):
    sizes = {}
    for bptt in ("manual", "readable", "autograd"):
        model = cls(3, 4, bptt=bptt)
        sizes[bptt] = [graph_size(model(torch.randn(L, 2, 3))[0]) for L in (5, 20)]
    assert sizes["manual"][0] == sizes["manual"][1]  # one node for the whole layer
    assert sizes["readable"][0] == sizes["readable"][1]
    assert sizes["autograd"][1] > sizes["autograd"][0]  # nodes per step


@pytest.mark.parametrize("bptt", ["manual", "readable"])
def test_hand_written_backward_is_called(monkeypatch, bptt):
    calls = []
    original = scratch.function.layer_backward

    def counting(*args, **kwargs):
        calls.append(args[1] == "manual")  # whether it ran the manual loop
        return original(*args, **kwargs)

    monkeypatch.setattr(scratch.function, "layer_backward", counting)
    model = scratch.GRU(3, 4, num_layers=2, bidirectional=True, bptt=bptt)
    model(torch.randn(5, 2, 3))[0].sum().backward()
    assert calls == [bptt == "manual"] * 4  # one per layer and direction


@pytest.mark.parametrize(
    "broken, fails, passes",
    [
        # the manual loop: layers under "manual" only
        ({"step": False}, [Case("lstm")], [Case("lstm", bptt="readable"), Case("lstm", step=True)]),
        # the step pair: cells, and layers under "readable"
        (
            {"manual_loop": False},
            [Case("lstm", step=True), Case("lstm", bptt="readable")],
            [Case("lstm"), Case("lstm", step=True, bptt="autograd")],
        ),
    ],
)
def test_broken_backward_shows_only_where_it_is_used(monkeypatch, broken, fails, passes):
    """Layers run the manual loop under bptt="manual", the step pair under "readable", and cells
    the step pair: breaking one breaks only its users, and only their gradients."""
    broken_lstm(monkeypatch, **broken)
    for case in fails:
        result = compare_case(case)
        assert not result.passed, case.label()
        assert all(name.startswith("grad") for name in result.failed)  # the forward is untouched
    for case in passes + [Case("lstm", bptt="autograd")]:
        assert compare_case(case).passed, case.label()


@pytest.mark.parametrize("cls", [scratch.RNN, scratch.LSTM, scratch.GRU, scratch.RNNCell])
def test_bad_bptt_names_the_three_choices(cls):
    with pytest.raises(ValueError, match="'manual', 'readable' or 'autograd'"):
        cls(3, 4, bptt="numerical")


def test_gradient_of_unused_output_is_zero_not_missing():
    """Using only h_n still reaches every parameter through the manual backward."""
    model = scratch.LSTM(3, 4, num_layers=2)
    _, (h_n, _) = model(torch.randn(6, 2, 3))
    h_n.sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_tanh", "lstm_proj"])
@pytest.mark.parametrize("block", [1, 100, 300])
def test_factors_in_blocks_of_steps_change_no_gradient(monkeypatch, cell, block):
    """The fast loops form their factors a run of steps at a time (scratch.fast.blocks.BLOCK_ELEMENTS); runs of
    one step, or of a few that start and end inside packed, shrinking batches, in both
    directions, give torch.nn's numbers as one run does."""
    monkeypatch.setattr(scratch.fast.blocks, "BLOCK_ELEMENTS", block)
    lstm_proj = cell == "lstm_proj"
    case = Case(
        "lstm" if lstm_proj else cell,
        proj_size=3 if lstm_proj else 0,
        seq_len=7,
        batch=4,
        lengths=(3, 7, 1, 5),
        enforce_sorted=False,
        bidirectional=True,
    )
    result = compare_case(case)
    assert result.passed, result.failed
