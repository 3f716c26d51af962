"""`python -m compare capabilities`: every row passes for scratch, and each row compares
numbers (it fails when the transform's answer is wrong, not only when the call raises)."""

import pytest

import scratch
import scratch.function
from compare import capabilities
from compare.capabilities import ROWS, Impl, Mismatch
from compare.cli import main

SLOW = {
    "compile time, T = 16",
    "compile time, T = 1024",
    "compiled ÷ eager time, T = 100 (fwd+bwd)",
}
SLOW |= {"torch.compile(fullgraph=True)", "torch.export, dynamic T and batch"}  # test_compile.py
SLOW |= {"torch.compile (graph breaks allowed)"}  # the same operator as fullgraph


@pytest.mark.parametrize("label", [k for k in ROWS if k not in SLOW])
def test_every_row_passes_for_scratch(label):
    ok, text = capabilities.attempt(ROWS[label], Impl("scratch", scratch, "lstm"))
    assert ok, text
    assert text.startswith("err ")


def test_a_row_fails_when_the_numbers_are_wrong(monkeypatch):
    """A layer whose tangent is off by a little: the jvp row says so, with the error."""
    original = scratch.function.layer_tangent

    def wrong(*args):
        primal, (y_dot, state_dot) = original(*args)
        return primal, (y_dot * (1 + 1e-4), state_dot)

    monkeypatch.setattr(scratch.function, "layer_tangent", wrong)
    ok, text = capabilities.attempt(ROWS["torch.func.jvp"], Impl("scratch", scratch, "gru"))
    assert not ok and Mismatch.__name__ in text and "differs from the reference" in text


def test_the_command_prints_a_table_with_both_columns(monkeypatch, capsys):
    rows = {k: ROWS[k] for k in ("torch.func.grad", "vmap: model ensembles")}
    monkeypatch.setattr(capabilities, "ROWS", rows)
    assert main(["capabilities", "--cell", "rnn_tanh"]) == 0
    out = capsys.readouterr().out
    assert "| torch.func.grad | ✓ err" in out
    assert "| vmap: model ensembles | ✓ err 0e+00 | ✗ RuntimeError:" in out  # torch.nn's
