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
from matplotlib.figure import Figure
from torch import nn

from tasks import checkpoint, files, loop
from tasks.errors import BadInput, RunFailed


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


# divergence: a step whose loss or gradient is not finite is not applied, and the run stops


class PoisonedTask(ToyTask):
    """ToyTask whose loss (or only its gradient) is not finite from step ``at`` on."""

    def __init__(self, at: int, what: str = "loss"):
        super().__init__()
        self.at, self.what = at, what

    def loss(self, step):
        loss = super().loss(step)
        if step < self.at:
            return loss
        if self.what == "loss":
            return loss * float("inf")
        w = self.model[0].weight
        return loss + torch.sqrt(w.sum() * 0)  # value unchanged; d sqrt(0)/dw = inf * 0 = nan


@pytest.mark.parametrize("what", ["loss", "gradient"])
def test_divergence_stops_the_run_and_leaves_the_last_checkpoint_untouched(tmp_path, what):
    cfg = replace(CFG, checkpoint_every=2)
    task = PoisonedTask(at=5, what=what)
    with pytest.raises(loop.Diverged) as stopped:
        loop.train(task, cfg, tmp_path)
    path = tmp_path / loop.CHECKPOINT
    assert str(stopped.value).startswith("diverged at step 6: ")
    assert f"the last good checkpoint is {path} (step 4), untouched" in str(stopped.value)
    saved = checkpoint.load(path)
    assert saved["step"] == 4  # not overwritten by the diverged model
    weights = torch.cat([p.detach().flatten() for p in task.model.parameters()])
    assert torch.isfinite(weights).all()  # the poisoned step was not applied
    lines = [
        json.loads(line, parse_constant=_not_json)
        for line in (tmp_path / "metrics.jsonl").read_text().splitlines()
    ]
    assert lines[-1]["split"] == "diverged" and lines[-1]["step"] == 6
    assert lines[-1]["grad_norm" if what == "gradient" else "loss"] is None  # null, not NaN
    assert not (tmp_path / "summary.json").exists()


def _not_json(token):
    raise AssertionError(f"{token} is not JSON")


def test_divergence_before_any_checkpoint_says_so(tmp_path):
    with pytest.raises(loop.Diverged, match="no checkpoint was written before it"):
        loop.train(PoisonedTask(at=0), CFG, tmp_path)
    assert not (tmp_path / loop.CHECKPOINT).exists()


def test_json_files_never_hold_nan_tokens(tmp_path):
    files.write_json({"a": float("nan"), "b": [1.0, float("-inf")], "c": {"d": 2}}, tmp_path / "x")
    assert json.loads((tmp_path / "x").read_text()) == {"a": None, "b": [1.0, None], "c": {"d": 2}}


# clipping and hooks


def _update_and_norm(clip_mode: str, clip: float = 1.0) -> tuple[torch.Tensor, float]:
    """One SGD step (lr 0.01): the change of every parameter, and the gradient norm logged."""
    task = ToyTask(optimizer=torch.optim.SGD)
    before = torch.cat([p.detach().flatten() for p in task.model.parameters()])
    cfg = loop.LoopConfig(
        steps=1, clip_mode=clip_mode, clip=clip, progress=False, print_evals=False
    )
    history = loop.train(task, cfg)
    after = torch.cat([p.detach().flatten() for p in task.model.parameters()])
    return after - before, history.records[0]["grad_norm"]


def test_no_clipping_applies_the_whole_gradient_whose_norm_is_logged():
    update, norm = _update_and_norm("none")
    assert norm > 0.5  # large enough that the clipping tests below do clip
    assert torch.linalg.vector_norm(update).item() == pytest.approx(0.01 * norm, rel=1e-5)


def test_norm_clipping_logs_the_norm_before_clipping():
    update, norm = _update_and_norm("norm", clip=0.5)
    assert norm == _update_and_norm("none")[1]  # the same first step: the unclipped norm
    assert torch.linalg.vector_norm(update).item() == pytest.approx(0.01 * 0.5, rel=1e-5)


def test_value_clipping_clamps_each_element():
    free, _ = _update_and_norm("none")
    update, _ = _update_and_norm("value", clip=0.05)
    # weights near 0.5 in float32 resolve differences to about 6e-8
    assert update.abs().max().item() == pytest.approx(0.01 * 0.05, abs=1e-7)
    small = free.abs() < 0.01 * 0.05  # elements under the threshold are untouched
    torch.testing.assert_close(update[small], free[small])
    assert not torch.allclose(update, free)


def test_hooks_see_the_gradient_before_the_step_and_their_metrics_are_logged(tmp_path):
    seen = []

    def first_layer_norm(step, model):
        seen.append(step)
        return {"first_layer_grad_norm": model[0].weight.grad.norm().item()}

    cfg = replace(CFG, hooks=(first_layer_norm,))
    history = loop.train(ToyTask(), cfg, tmp_path)
    assert seen == list(range(CFG.steps))
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    logged = [r["first_layer_grad_norm"] for r in lines if r["split"] == "train"]
    assert logged == [r["first_layer_grad_norm"] for r in history.records] and all(logged)


def test_the_learning_rate_schedule_sets_every_step(tmp_path):
    cfg = replace(CFG, lr_schedule=lambda step: 0.1 / (step + 1))
    history = loop.train(ToyTask(), cfg)
    assert [r["lr"] for r in history.records] == [0.1 / (k + 1) for k in range(CFG.steps)]


# a full disk: one line naming the file and the cause; what was written before stays intact


def _enospc():
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_full_disk_while_checkpointing_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    save, calls = torch.save, []

    def fills_up(obj, f):
        calls.append(obj["step"])
        if len(calls) == 2:
            f.write(b"half")
            raise _enospc()
        save(obj, f)

    monkeypatch.setattr(torch, "save", fills_up)
    with pytest.raises(RunFailed) as stopped:
        loop.train(ToyTask(), replace(CFG, checkpoint_every=2), tmp_path)
    path = tmp_path / loop.CHECKPOINT
    assert str(stopped.value) == (
        f"cannot write {path}: no space left on device; stopped after step 4; "
        f"the last good checkpoint is {path} (step 2), untouched"
    )
    assert checkpoint.load(path)["step"] == 2
    assert not list(tmp_path.glob(".*.tmp"))


def test_full_disk_while_logging_cuts_the_half_line_off(tmp_path, monkeypatch):
    real_open, lines_written = open, []

    class HalfFull:
        """A file whose fifth write fills the disk after half of its bytes."""

        def __init__(self, f):
            self.f = f

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            lines_written.append(data)
            if len(lines_written) == 5:
                self.f.write(data[: len(data) // 2])
                raise _enospc()
            return self.f.write(data)

    monkeypatch.setattr(files, "open", lambda *a, **k: HalfFull(real_open(*a, **k)), raising=False)
    with pytest.raises(RunFailed, match=r"metrics.jsonl: no space left on device; stopped after"):
        loop.train(ToyTask(), CFG, tmp_path)
    text = (tmp_path / "metrics.jsonl").read_text()
    assert text.endswith("\n") and len(text.splitlines()) == 4  # whole lines only
    assert all(json.loads(line) for line in text.splitlines())


def test_full_disk_while_drawing_keeps_the_previous_figure(tmp_path, monkeypatch):
    loop.train(ToyTask(), replace(CFG, steps=3), tmp_path)
    figure = (tmp_path / "loss.png").read_bytes()

    def full(self, *args, **kwargs):
        raise _enospc()

    monkeypatch.setattr(Figure, "savefig", full)
    with pytest.raises(RunFailed, match=r"cannot write .*loss.png: no space left on device"):
        loop.train(ToyTask(), CFG, tmp_path, resume=True)
    assert (tmp_path / "loss.png").read_bytes() == figure
    assert not list(tmp_path.glob(".*.tmp"))


def test_an_optimizer_that_cannot_apply_a_step_stops_the_run_in_one_line(tmp_path):
    # Adam steps by lr / (1 − 0.9^k), at step 4 and lr 3e38 more than float32 holds: torch raises
    cfg = replace(CFG, checkpoint_every=1, lr_schedule=lambda step: 0.01 if step < 3 else 3e38)
    with pytest.raises(loop.RunFailed) as stopped:
        loop.train(ToyTask(), cfg, tmp_path)
    message, path = str(stopped.value), tmp_path / loop.CHECKPOINT
    assert message.startswith("the optimizer could not apply step 4 (value cannot be converted")
    assert f"at learning rate 3e+38; the last good checkpoint is {path} (step 3)" in message
    assert message.endswith("untouched; try a smaller --lr") and "\n" not in message
    assert checkpoint.load(path)["step"] == 3
