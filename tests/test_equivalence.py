"""scratch equals torch.nn after weight copying: outputs, final states and every gradient,
within the tolerances of docs/contract.md, over random configurations of every option."""

import pytest
from hypothesis import given, settings

from compare.harness import Case, compare_case
from tests.strategies import layer_cases, step_cases


def assert_equivalent(case: Case, seed: int = 0) -> None:
    result = compare_case(case, seed)
    assert result.passed, f"{case.label()}: {result.failed} differ; errors {result.errors}"


@settings(max_examples=60)
@given(case=layer_cases(full=False))
def test_single_layer_matches_torch(case):
    assert_equivalent(case)


@settings(max_examples=120)
@given(case=layer_cases(full=True))
def test_every_option_matches_torch(case):
    assert_equivalent(case)


@settings(max_examples=60)
@given(case=step_cases())
def test_cells_match_torch(case):
    assert_equivalent(case)


EDGE_CASES = [
    Case("lstm", seq_len=1, batch=1),
    Case("gru", lengths=(5, 1, 1), seq_len=5),  # batch_sizes shrink to 1
    Case("rnn_tanh", lengths=(1, 4, 2), seq_len=4, enforce_sorted=False, bidirectional=True),
    Case("lstm", lengths=(6, 6, 6), seq_len=6, proj_size=2, num_layers=2, bidirectional=True),
    Case("gru", batch=0),  # an empty batch runs, as in torch.nn
    Case("gru", step=True, batch=0),
    Case("rnn_relu", num_layers=3, bidirectional=True, batch_first=True, with_hx=False),
    Case("lstm", num_layers=3, dropout=0.5, train=True, bidirectional=True),
]


@pytest.mark.parametrize("case", EDGE_CASES, ids=lambda c: c.label())
def test_named_edge_cases(case):
    assert_equivalent(case)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
def test_saturated_gates(cell):
    """Large inputs drive σ and tanh into saturation, where 1 − tanh² and σ(1 − σ) vanish."""
    for seed in range(3):
        assert_equivalent(
            Case(cell, input_size=3, hidden_size=4, seq_len=12, input_scale=30.0), seed
        )
