"""tasks.state: its data follow the rule, its commands run on the shared scaffolding (smoke,
resume, bad input), and the lab writes the table and the figure."""

import subprocess
import sys

import pytest
import torch

from tasks.state import data, smoke_losses
from tasks.state.figures import table


@pytest.mark.parametrize("name", list(data.PROBLEMS))
def test_every_label_is_the_running_sum_mod_the_states(name):
    problem = data.PROBLEMS[name]
    x, y = data.batch(problem, 0, data.TRAIN, 3, 16, 50)
    assert x.shape == (50, 16, problem.symbols) and y.shape == (50, 16)
    state = torch.zeros(16, dtype=torch.long)
    for x_t, y_t in zip(x.argmax(-1), y, strict=True):
        state = (state + x_t) % problem.states
        assert torch.equal(state, y_t)
    again, _ = data.batch(problem, 0, data.TRAIN, 3, 16, 50)
    other, _ = data.batch(problem, 0, data.TEST, 3, 16, 50)
    assert torch.equal(x, again) and not torch.equal(x, other)


def test_scratch_and_reference_train_alike():
    ours, theirs = smoke_losses("scratch", 3, cell="gru"), smoke_losses("reference", 3, cell="gru")
    assert ours == pytest.approx(theirs, rel=1e-4)


def _run(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "tasks.state", *args, "--no-progress"]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def test_train_smoke_then_resume(tmp_path):
    first = _run("train", "--smoke", "--cell", "slstm", "--out", str(tmp_path))
    assert first.returncode == 0, first.stderr
    assert "chance 50%" in first.stderr
    resumed = _run("train", "--resume", "--steps", "6", "--out", str(tmp_path))
    assert resumed.returncode == 0, resumed.stderr
    assert (tmp_path / "results.json").exists() and (tmp_path / "loss.png").exists()


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    done = _run(
        "train", "--smoke", "--impl", "reference", "--cell", "rglru", "--out", str(tmp_path)
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "only in scratch" in done.stderr


def test_lab_smoke_writes_the_table_and_the_figure(tmp_path):
    done = _run("lab", "--smoke", "--problems", "parity", "--cells", "lstm", "mingru_neg",
                "--steps", "2", "--out", str(tmp_path))  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "table.md").read_text()
    assert "| LSTM |" in text and "| minGRU, a ∈ (−1, 1) |" in text and "| chance" in text
    assert (tmp_path / "accuracy.png").stat().st_size > 0


def test_the_table_shows_chance_beside_every_length():
    run = {"acc_train": 1.0, "acc_by_length": {"64": 0.5, "256": 0.25}}
    text = table({"mod5": {"lstm": run}}, {"lstm": "LSTM"}, 40)
    assert "| LSTM | 100.0% | 50.0% | 25.0% |" in text
    assert "| chance (majority class) | 20% | 20% | 20% |" in text
