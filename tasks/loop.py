"""The one training loop that every task shares.

A task hands over what only it knows (see ``Task``): the model, the optimizer, the loss of
training step ``k``, a held-out evaluation, and any state it carries between steps. The loop
does the rest, the same way for every task:

    for step in range(start, steps):
        loss = task.loss(step); backward; clip the gradient norm; optimizer step
        every eval_every steps:       task.evaluate()              -> metrics.jsonl, loss.png
        every checkpoint_every steps: model, optimizer, step, RNG states, task.get_state()
                                                                   -> checkpoint.pt (atomic)

Because the data a step reads is a function of its index, the step number is the data
position: ``train(..., resume=True)`` restores everything above and continues with the very
same losses an uninterrupted run gets. The first Ctrl-C finishes the current step, writes a
checkpoint and then raises ``KeyboardInterrupt``; a second Ctrl-C stops at once. A `kill`
(SIGTERM) is handled the same way.

Run folder (``out``): config.json (the task's ``meta``), checkpoint.pt, metrics.jsonl (one
line per training step and per evaluation), loss.png (training and held-out loss), and
summary.json at the end.
"""

import json
import random
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import matplotlib
import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm

from tasks import checkpoint

matplotlib.use("Agg")  # figures go to files; no display needed
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

CHECKPOINT = "checkpoint.pt"
SMOOTHING = 50  # the training curve is also drawn as a moving average over this many steps


class Task(Protocol):
    """What a task supplies. The loop calls nothing else on it."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer

    def loss(self, step: int) -> Tensor:
        """Training loss of step ``step`` (0-based), a scalar with its graph attached."""
        ...

    def evaluate(self) -> dict[str, float]:
        """Held-out metrics; ``"loss"`` is required (same unit as ``loss``), more are logged."""
        ...

    def get_state(self) -> dict:
        """State the task carries from step to step (e.g. the hidden state), tensors and plain values."""
        ...

    def set_state(self, state: dict) -> None:
        """Restore what ``get_state`` returned."""
        ...


@dataclass
class LoopConfig:
    steps: int  # optimizer steps in the whole run (a resumed run continues up to this)
    clip: float = 1.0  # rescale the gradient when its global L2 norm exceeds this; 0 = never
    eval_every: int = 100  # steps between held-out evaluations (one more at the end)
    checkpoint_every: int = 500  # steps between checkpoints (one more at the end)
    items_per_step: int = 1  # what one step trains on, for the throughput shown (e.g. B*T)
    item_name: str = "items"  # what an item is, e.g. "chars": the bar shows chars/s
    loss_label: str = "loss"  # y-axis label of loss.png, e.g. "cross-entropy (nats/char)"
    progress: bool = True  # show the tqdm progress bar
    print_evals: bool = True  # print a line with the held-out metrics after each evaluation


@dataclass
class History:
    train: list[float] = field(default_factory=list)  # training loss of every step, in order
    evals: list[dict] = field(default_factory=list)  # {"step": s, **task.evaluate()} each time
    seconds: float = 0.0  # time spent in training steps (not evaluation), over all sessions


def seed_everything(seed: int) -> None:
    """Seed every generator a task may draw from (torch, NumPy, Python's ``random``)."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def train(
    task: Task,
    cfg: LoopConfig,
    out: Path | None = None,
    meta: dict | None = None,
    resume: bool = False,
) -> History:
    """Train ``task`` up to step ``cfg.steps`` and return the history of losses.

    ``out``: the run folder; ``None`` writes nothing at all. ``meta``: a JSON-able description
    of the run (config, vocabulary), kept in config.json and in every checkpoint. ``resume``:
    continue from ``out/checkpoint.pt``; build ``task`` from the saved ``meta`` first.
    """
    meta = meta or {}
    history, step = History(), 0
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        if resume:
            step = _restore(task, history, checkpoint.load(out / CHECKPOINT))
        elif (out / CHECKPOINT).exists():
            raise FileExistsError(f"{out / CHECKPOINT} exists: resume it or choose another folder")
        checkpoint.write_text(json.dumps(meta, indent=2) + "\n", out / "config.json")
        _rewrite_metrics(history, out)
    elif resume:
        raise ValueError("resume=True needs the run folder `out`")

    session_start, session_seconds, wall_start = step, 0.0, time.perf_counter()
    bar = tqdm(total=cfg.steps, initial=step, unit="step", disable=not cfg.progress)
    with _ctrl_c_requests() as ctrl_c, bar:
        while step < cfg.steps:
            started = time.perf_counter()
            loss = _train_step(task, step, cfg.clip)
            seconds = time.perf_counter() - started
            step += 1
            history.train.append(loss)
            history.seconds += seconds
            session_seconds += seconds
            _log(out, {"step": step, "split": "train", "loss": loss})
            rate = cfg.items_per_step * (step - session_start) / session_seconds
            bar.set_postfix({"loss": f"{loss:.3f}", f"{cfg.item_name}/s": f"{rate:,.0f}"}, False)
            bar.update()

            if step % cfg.eval_every == 0 or step == cfg.steps:
                metrics = _evaluate(task)
                history.evals.append({"step": step, **metrics})
                _log(out, {"step": step, "split": "held_out", **metrics})
                if cfg.print_evals:
                    shown = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items())
                    elapsed = time.perf_counter() - wall_start
                    bar.write(f"step {step} ({elapsed:.0f} s): held-out {shown}")
                if out is not None:
                    plot_losses(history, out / "loss.png", cfg.loss_label)
            if out is not None and (
                step % cfg.checkpoint_every == 0 or step == cfg.steps or ctrl_c
            ):
                _save(out / CHECKPOINT, task, step, history, meta)
            if ctrl_c:
                saved = f"; checkpoint of step {step} in {out}" if out is not None else ""
                raise KeyboardInterrupt(f"stopped after step {step}{saved}")

    if out is not None:
        _write_summary(history, cfg, out)
    return history


def _train_step(task: Task, step: int, clip: float) -> float:
    """One optimizer step on ``task.loss(step)``; returns the loss as a float."""
    task.model.train()
    task.optimizer.zero_grad(set_to_none=True)
    loss = task.loss(step)
    loss.backward()
    if clip > 0:
        torch.nn.utils.clip_grad_norm_(task.model.parameters(), clip)
    task.optimizer.step()
    return loss.item()


def _evaluate(task: Task) -> dict[str, float]:
    """``task.evaluate()`` in eval mode, without gradients, leaving training's RNG untouched."""
    task.model.eval()
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        return task.evaluate()


def _save(path: Path, task: Task, step: int, history: History, meta: dict) -> None:
    state = {
        "step": step,
        "model": task.model.state_dict(),
        "optimizer": task.optimizer.state_dict(),
        "rng": checkpoint.rng_state(),
        "task": task.get_state(),
        "history": asdict(history),
        "meta": meta,
    }
    checkpoint.save(state, path)


def _restore(task: Task, history: History, state: dict) -> int:
    """Load what ``_save`` wrote into ``task`` and ``history``; returns the step reached."""
    task.model.load_state_dict(state["model"])
    task.optimizer.load_state_dict(state["optimizer"])
    task.set_state(state["task"])
    checkpoint.set_rng_state(state["rng"])
    history.train[:] = state["history"]["train"]
    history.evals[:] = state["history"]["evals"]
    history.seconds = state["history"]["seconds"]
    return state["step"]


def _write_summary(history: History, cfg: LoopConfig, out: Path) -> None:
    """out/summary.json: steps done, last held-out metrics, training time and throughput."""
    items = cfg.items_per_step * len(history.train)
    summary = {
        "steps": len(history.train),
        "held_out": history.evals[-1] if history.evals else None,
        "train_seconds": history.seconds,
        f"{cfg.item_name}_per_s": items / history.seconds if history.seconds else 0.0,
    }
    checkpoint.write_text(json.dumps(summary, indent=2) + "\n", out / "summary.json")


def _log(out: Path | None, record: dict) -> None:
    """Append one JSON line to out/metrics.jsonl."""
    if out is not None:
        with open(out / "metrics.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")


def _rewrite_metrics(history: History, out: Path) -> None:
    """Make metrics.jsonl say what ``history`` says: on resume, lines written after the
    checkpoint (by the run that was stopped) are dropped."""
    lines = [
        {"step": i + 1, "split": "train", "loss": loss} for i, loss in enumerate(history.train)
    ]
    lines += [{"step": e["step"], "split": "held_out", **e} for e in history.evals]
    lines.sort(key=lambda r: (r["step"], r["split"] != "train"))
    checkpoint.write_text("".join(json.dumps(r) + "\n" for r in lines), out / "metrics.jsonl")


@contextmanager
def _ctrl_c_requests() -> Iterator[list]:
    """Turn the first Ctrl-C (SIGINT) or `kill` (SIGTERM) into an entry in the yielded list,
    checked between steps, so a step is never cut in half and the run is saved; a second
    signal acts at once, as it would without the loop."""
    requests: list = []
    if threading.current_thread() is not threading.main_thread():  # only it gets signals
        yield requests
        return

    caught = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.getsignal(signum) for signum in caught}

    def request_stop(signum, frame):
        requests.append(signum)
        for s, handler in previous.items():  # the next signal acts as usual
            signal.signal(s, handler)

    for signum in caught:
        signal.signal(signum, request_stop)
    try:
        yield requests
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def plot_losses(history: History, path: Path, ylabel: str = "loss") -> None:
    """Draw the training loss (raw and smoothed) and the held-out loss against the step."""
    fig, ax = plt.subplots(figsize=(7, 4))
    steps = np.arange(1, len(history.train) + 1)
    ax.plot(steps, history.train, color="tab:blue", alpha=0.25, linewidth=0.8)
    if len(history.train) >= SMOOTHING:
        smooth = np.convolve(history.train, np.ones(SMOOTHING) / SMOOTHING, mode="valid")
        ax.plot(
            steps[SMOOTHING - 1 :],
            smooth,
            color="tab:blue",
            label=f"training (mean of {SMOOTHING} steps)",
        )
    else:
        ax.lines[-1].set_label("training")
    evals = [e["step"] for e in history.evals], [e["loss"] for e in history.evals]
    ax.plot(*evals, "o-", color="tab:orange", markersize=3, label="held-out")
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
