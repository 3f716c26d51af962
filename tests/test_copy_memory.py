"""The copy-memory task in the gradient-flow lab: its sequences are the form Arjovsky et al.
(2016) give, its yardstick is the loss of the memoryless strategy, scratch and reference
train it alike, and the lab's table holds every network beside the yardstick."""

import json
import math
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from tasks import loop
from tasks.gradients import copying
from tasks.gradients.cli import main
from tasks.gradients.config import smoke_config
from tasks.gradients.train import prepare


@pytest.mark.parametrize("gap", [1, 7, 50])
def test_a_sequence_shows_ten_symbols_waits_and_asks_for_them_back(gap):
    x, y = copying.batch(seed=3, split=copying.TRAIN, step=5, size=6, gap=gap)
    assert x.shape == (gap + 20, 6, 10) and y.shape == (gap + 20, 6)
    assert torch.equal(x.sum(dim=2), torch.ones(gap + 20, 6))  # one-hot at every step
    shown = x.argmax(dim=2)  # (T + 20, N) input ids
    assert ((shown[:10] >= 1) & (shown[:10] <= 8)).all()
    assert (shown[10 : gap + 9] == copying.BLANK).all()  # T − 1 blanks
    assert (shown[gap + 9] == copying.CUE).all() and (shown[gap + 10 :] == copying.BLANK).all()
    assert torch.equal(y[-10:], shown[:10]) and (y[:-10] == copying.BLANK).all()


def test_batches_are_functions_of_seed_split_and_step():
    a = copying.batch(0, copying.TRAIN, 4, 5, 20)
    again = copying.batch(0, copying.TRAIN, 4, 5, 20)
    assert all(torch.equal(u, v) for u, v in zip(a, again, strict=True))
    assert not torch.equal(a[1], copying.batch(0, copying.TEST, 4, 5, 20)[1])


@pytest.mark.parametrize("gap", [50, 100, 200])
def test_the_yardstick_is_the_loss_of_writing_blank_then_guessing(gap):
    _, y = copying.batch(1, copying.TEST, 0, 64, gap)
    logits = torch.full((gap + 20, 64, 10), -math.inf)
    logits[:-10, :, copying.BLANK] = 0.0  # blank, for certain, until the last ten steps
    logits[-10:, :, 1:9] = 0.0  # then one of the eight symbols, each 1/8
    loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
    assert loss.item() == pytest.approx(copying.memoryless(gap), rel=1e-6)
    assert copying.memoryless(gap) == pytest.approx(10 * math.log(8) / (gap + 20))


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
def test_scratch_and_reference_train_the_same_copy_losses_from_one_seed(cell):
    losses = {}
    for impl in ("scratch", "reference"):
        cfg = replace(smoke_config(impl, steps=8, seed=2, cell=cell), problem="copy")
        prepared = prepare(cfg, progress=False)
        prepared.loop.print_evals = False
        losses[impl] = loop.train(prepared.task, prepared.loop).train
    gap = max(abs(a - b) for a, b in zip(losses["scratch"], losses["reference"], strict=True))
    assert gap <= 1e-4
    assert losses["scratch"][-1] < losses["scratch"][0]  # it trains: blanks are learnt first


def test_train_problem_copy_writes_its_yardstick_beside_its_loss(tmp_path, capsys):
    argv = ["train", "--smoke", "--problem", "copy", "--no-progress", "--out", str(tmp_path)]
    assert main(argv) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["memoryless"] == pytest.approx(copying.memoryless(20))
    assert "memoryless" in capsys.readouterr().err


def test_the_lab_tabulates_every_network_beside_the_memoryless_loss(tmp_path, capsys):
    argv = ["lab", "--smoke", "--no-progress", "--experiments", "copy", "--out", str(tmp_path)]
    assert main(argv) == 0
    text = (tmp_path / "results.md").read_text()
    assert "## Copy memory" in text
    for row in ("RNN (tanh)", "LSTM, b_f = 1", "GRU", "minGRU"):
        assert f"| {row} |" in text
    assert f"| memoryless: 10 ln 8 / (T + 20) | {copying.memoryless(5):.4f} |" in text
    found = json.loads((tmp_path / "results.json").read_text())["copy"]
    assert {e["seq_len"] for e in found} == {5} and len(found) == 4
