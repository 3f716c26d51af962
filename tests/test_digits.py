"""MNIST-1D: the data is the mnist1d package's own generator at its published defaults, made
without touching the network and without disturbing the global generators; scratch and
reference train the same losses from the same seed; the yardsticks and the table command."""

import random
import socket

import numpy as np
import pytest
import torch

from compare.tasks_check import MAX_DIFFERENCE, check_task
from tasks.patterns.digits import data, table
from tasks.patterns.digits.yardsticks import logistic_regression, majority


class NoNetwork(OSError):
    """What any attempt to open a socket raises in these tests."""


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise NoNetwork("networking is refused in this test")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    data.generate.cache_clear()
    yield
    data.generate.cache_clear()


def test_the_data_is_generated_offline_at_the_published_sizes(no_network, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the package's get_dataset would read or write a pickle here
    with pytest.raises(NoNetwork):  # the fixture does refuse the network
        socket.create_connection(("example.org", 80))
    train, test = data.splits()
    assert train.x.shape == (4000, 40) and test.x.shape == (1000, 40)
    assert train.x.dtype == torch.float32 and sorted(set(train.y.tolist())) == list(range(10))
    assert list(tmp_path.iterdir()) == []  # no cached pickle written, none read


def test_the_data_is_the_same_every_time_and_leaves_the_global_generators_alone(no_network):
    np.random.seed(7)
    random.seed(7)
    numpy_before, python_before = np.random.random(), random.random()
    np.random.seed(7)
    random.seed(7)
    first = data.generate()
    assert np.random.random() == numpy_before and random.random() == python_before
    data.generate.cache_clear()
    second = data.generate()
    for a, b in zip(first, second, strict=True):
        assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    # centred and scaled as the generator does it, over all 5,000 signals
    everything = torch.cat([first[0].x, first[1].x]).double()
    assert abs(everything.mean().item()) < 1e-6 and abs(everything.std().item() - 1) < 1e-3


def test_max_examples_keeps_the_first_training_signals_and_the_whole_test_set():
    train, test = data.splits(max_examples=50)
    full_train, full_test = data.splits()
    assert torch.equal(train.x, full_train.x[:50]) and len(test) == len(full_test) == 1000


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
def test_scratch_and_reference_train_the_same_losses_from_one_seed(cell):
    result = check_task("digits", steps=12, seed=3, cell=cell)
    assert result.error is None
    assert result.max_difference <= MAX_DIFFERENCE
    assert result.losses["scratch"][0] != result.losses["scratch"][-1]  # it did train


def test_the_logistic_regression_beats_the_majority_class_and_stays_linear():
    train, test = data.splits()
    linear = logistic_regression(train)
    with torch.no_grad():
        accuracy = (linear(test.x).argmax(dim=1) == test.y).double().mean().item()
    chance = (test.y == majority(train)).double().mean().item()
    assert chance < 0.15 < accuracy < 0.5  # published: 32 % for this model


def test_the_table_reads_finished_runs_and_says_how_far_the_implementations_part(tmp_path, capsys):
    flags = ["--preset", "smoke", "--steps", "3"]
    argv = ["--cells", "gru", "--seeds", "0", "1", "--reference", "gru", "--out", str(tmp_path)]
    assert table.main([*argv, *flags]) == 0
    text = (tmp_path / "table.md").read_text()
    assert "| GRU (scratch) |" in text and "seed 0, 1" in text and "| GRU (reference) |" in text
    assert "| GRU | 91 % | Greydanus 2020 |" in text
    assert "differ by at most" in text
    stamp = (tmp_path / "gru-scratch-s0" / "summary.json").stat().st_mtime_ns
    assert table.main([*argv, *flags]) == 0  # a second time: read, not trained again
    assert (tmp_path / "gru-scratch-s0" / "summary.json").stat().st_mtime_ns == stamp


def test_the_table_refuses_a_cell_it_does_not_know_in_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        table.main(["--cells", "tcn", "--out", str(tmp_path)])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1
