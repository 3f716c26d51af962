"""The shared training loop: exact resume after Ctrl-C, atomic checkpoints, clipping, no files
without a run folder. A toy task stands in for a real one: it draws from every random generator
and carries state from step to step, so a resume that forgot any of them would drift."""

import errno
import json
import os
import random
import signal
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from tasks import checkpoint, files, loop
from tasks.errors import BadInput


class ToyTask:
    """Regress the sum of noisy inputs; data from torch, NumPy and Python RNGs, plus dropout."""

    def __init__(self, ctrl_c_at: int | None = None, optimizer=torch.optim.Adam, sig=signal.SIGINT):
        loop.seed_everything(0)
        self.model = nn.Sequential(nn.Linear(3, 16), nn.Dropout(0.5), nn.Linear(16, 1))
        self.optimizer = optimizer(self.model.parameters(), lr=0.01)
        self.carry = torch.zeros(3)  # task state: each step's data depends on the last
        self.ctrl_c_at, self.sig = ctrl_c_at, sig

    def loss(self, step: int) -> torch.Tensor:
        if step == self.ctrl_c_at:
            signal.raise_signal(self.sig)  # as if Ctrl-C was pressed (or kill run) in this step
        x = torch.randn(8, 3) + self.carry + np.random.randn() + random.random()
        self.carry = x.mean(0)
        return ((self.model(x) - x.sum(1, keepdim=True)) ** 2).mean()

    def evaluate(self) -> dict[str, float]:
        x = torch.randn(8, 3)  # draws from torch's RNG: the loop must shield training from it
        return {"loss": ((self.model(x) - x.sum(1, keepdim=True)) ** 2).mean().item()}

    def get_state(self) -> dict:
        return {"carry": self.carry}

    def set_state(self, state: dict) -> None:
        self.carry = state["carry"]


CFG = loop.LoopConfig(
    steps=8, eval_every=3, checkpoint_every=100, progress=False, print_evals=False
)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_resume_after_ctrl_c_continues_exactly(tmp_path, sig):
    whole = loop.train(ToyTask(), CFG, tmp_path / "whole")

    handler = signal.getsignal(sig)
    with pytest.raises(KeyboardInterrupt):
        loop.train(ToyTask(ctrl_c_at=4, sig=sig), CFG, tmp_path / "cut")
    saved = checkpoint.load(tmp_path / "cut" / loop.CHECKPOINT)
    assert saved["step"] == 5  # the interrupted step finished, then the checkpoint was written
    assert signal.getsignal(sig) is handler  # the loop's own handler is gone

    resumed = loop.train(ToyTask(), CFG, tmp_path / "cut", resume=True)
    assert resumed.train == whole.train
    assert resumed.evals == whole.evals
    metrics = [(tmp_path / run / "metrics.jsonl").read_text() for run in ("whole", "cut")]
    assert metrics[0] == metrics[1]


def test_a_finished_run_extended_matches_one_long_run(tmp_path):
    whole = loop.train(ToyTask(), CFG, tmp_path / "whole")
    loop.train(ToyTask(), replace(CFG, steps=4), tmp_path / "short")  # evaluates at its end, 4
    extended = loop.train(ToyTask(), CFG, tmp_path / "short", resume=True)
    assert extended.train == whole.train  # that extra evaluation drew nothing from training's RNG


def test_run_folder_holds_config_metrics_figure_and_summary(tmp_path):
    history = loop.train(ToyTask(), CFG, tmp_path, meta={"config": {"lr": 0.01}})
    assert json.loads((tmp_path / "config.json").read_text()) == {"config": {"lr": 0.01}}
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["loss"] for r in lines if r["split"] == "train"] == history.train
    assert [r["step"] for r in lines if r["split"] == "held_out"] == [3, 6, 8]
    assert (tmp_path / "loss.png").read_bytes().startswith(b"\x89PNG")
    assert json.loads((tmp_path / "summary.json").read_text())["steps"] == 8
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary files left behind


def test_failed_checkpoint_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.pt"
    checkpoint.save({"step": 1}, path)

    def crash(obj, f):
        f.write(b"half a checkpoint")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(files.WriteFailed, match=f"cannot write {path}: no space left on device"):
        checkpoint.save({"step": 2}, path)
    assert checkpoint.load(path) == {"step": 1}
    assert list(tmp_path.iterdir()) == [path]


def test_gradient_norm_is_clipped(tmp_path):
    task = ToyTask(optimizer=torch.optim.SGD)  # SGD: the update is lr * (clipped) gradient
    before = torch.cat([p.detach().flatten() for p in task.model.parameters()])
    loop.train(task, loop.LoopConfig(steps=1, clip=0.5, progress=False, print_evals=False))
    after = torch.cat([p.detach().flatten() for p in task.model.parameters()])
    assert torch.linalg.vector_norm(after - before).item() == pytest.approx(0.01 * 0.5, rel=1e-5)


def test_without_run_folder_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    history = loop.train(ToyTask(), CFG)
    assert len(history.train) == 8
    assert list(tmp_path.iterdir()) == []


def test_existing_run_is_not_overwritten(tmp_path):
    loop.train(ToyTask(), CFG, tmp_path)
    with pytest.raises(BadInput, match="resume"):
        loop.train(ToyTask(), CFG, tmp_path)
