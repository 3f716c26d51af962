"""The one training loop that every task shares.

A task hands over what only it knows (see ``Task``): the model, the optimizer, the loss of
training step ``k``, a held-out evaluation, and any state it carries between steps. The loop
does the rest, the same way for every task:

    for step in range(start, steps):
        set the learning rate to lr_schedule(step)                 (if the task has a schedule)
        loss = task.loss(step); backward
        grad_norm = global L2 norm of the gradient, before clipping -> metrics.jsonl
        stop if the loss or grad_norm is not finite                (Diverged; see below)
        hooks(step, model): gradient statistics, anything          -> metrics.jsonl
        clip: by global norm, by value, or not at all; optimizer step
        every eval_every steps:       task.evaluate()              -> metrics.jsonl, loss.png
        every checkpoint_every steps: model, optimizer, step, RNG states, task.get_state()
                                                                   -> checkpoint.pt (atomic)

Because the data a step reads is a function of its index, the step number is the data
position: ``train(..., resume=True)`` restores everything above and continues with the very
same losses an uninterrupted run gets (a larger ``steps`` continues to the new budget). The
first Ctrl-C finishes the current step, writes a checkpoint and then raises ``Stopped`` (a
KeyboardInterrupt); a second Ctrl-C stops at once. A `kill` (SIGTERM) is handled the same way.

Divergence: a step whose loss or gradient norm is NaN or infinite is not applied. The run
stops with ``Diverged`` (a ``RunFailed``): one line naming the step and the last good
checkpoint, which is left untouched. A file that cannot be written (a full disk) stops the run
the same way, naming the file, the cause and the last good checkpoint.

Run folder (``out``): config.json (the task's ``meta``), checkpoint.pt, metrics.jsonl (one
line per training step and per evaluation; a diverged step as ``"split": "diverged"``),
loss.png (training and held-out loss), and summary.json at the end. Every JSON file is valid
JSON: a value that is not a finite number is written as null.

Under torchrun (a process group joined with tasks/parallel.py ``start``) the same loop runs in
every process, data-parallel: the model is wrapped in DistributedDataParallel, which averages
the gradients during backward; each process's loss is weighed by its share of the batch
(``Shard``), so the logged loss, summed over the processes, is the whole batch's mean, what one
process computes. Rank 0 alone evaluates (on the whole held-out set, with the same weights as
every other process), writes the run folder and shows progress; every process takes part in
the checkpoint, which holds every process's rows of the task state and its RNG state. A stop
request or a failed write on any process stops all of them after the same step. docs/scale.md.
"""

import math
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn
from tqdm import tqdm

from tasks import checkpoint, files, parallel
from tasks.config import CLIP_MODES
from tasks.errors import BadInput, RunFailed, first_line

CHECKPOINT = "checkpoint.pt"
CONFIG = "config.json"
METRICS = "metrics.jsonl"
SMOOTHING = 50  # the training curve is also drawn as a moving average over this many steps

Hook = Callable[[int, nn.Module], dict[str, float] | None]  # (step, model) -> metrics to log


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
    clip_mode: str = "norm"  # norm: rescale to global L2 norm ≤ clip | value: clamp to ±clip | none
    clip: float = 1.0  # the threshold of clip_mode
    eval_every: int = 100  # steps between held-out evaluations (one more at the end)
    checkpoint_every: int = 500  # steps between checkpoints (one more at the end)
    lr_schedule: Callable[[int], float] | None = None  # step -> learning rate; None: leave it
    hooks: tuple[Hook, ...] = ()  # called after backward, before clipping and the step
    items_per_step: int = 1  # what one step trains on, for the throughput shown (e.g. B*T)
    item_name: str = "items"  # what an item is, e.g. "chars": the bar shows chars/s
    loss_label: str = "loss"  # y-axis label of loss.png, e.g. "cross-entropy (nats/char)"
    progress: bool = True  # show the tqdm progress bar
    print_evals: bool = True  # print a line with the held-out metrics after each evaluation

    @classmethod
    def of(cls, cfg: Any, **own: Any) -> "LoopConfig":
        """The settings every task's config shares by name (tasks/config.py ``SHARED``: steps,
        clip_mode, clip, eval_every, checkpoint_every), with the task's own in ``own``; a name in
        ``own`` is not read from ``cfg`` (a task that counts in epochs passes its own ``steps``)."""
        shared = ("steps", "clip_mode", "clip", "eval_every", "checkpoint_every")
        return cls(**{name: getattr(cfg, name) for name in shared if name not in own}, **own)

    def __post_init__(self):
        if self.clip_mode not in CLIP_MODES:
            raise ValueError(
                f"clip_mode {self.clip_mode!r}: expected one of {', '.join(CLIP_MODES)}"
            )


@dataclass
class History:
    records: list[dict] = field(
        default_factory=list
    )  # per training step: loss, grad_norm, lr, hooks'
    evals: list[dict] = field(default_factory=list)  # {"step": s, **task.evaluate()} each time
    seconds: float = 0.0  # time spent in training steps (not evaluation), over all sessions

    @property
    def train(self) -> list[float]:
        """The training loss of every step, in order."""
        return [r["loss"] for r in self.records]


class Stopped(KeyboardInterrupt):
    """Ctrl-C or SIGTERM: the step finished and (with a run folder) a checkpoint was written."""

    def __init__(self, step: int, out: Path | None):
        saved = f"; checkpoint of step {step} in {out}" if out is not None else ""
        super().__init__(f"stopped after step {step}{saved}")
        self.step, self.out = step, out


class Diverged(RunFailed):
    """The loss or the gradient norm of a step was not finite; the step was not applied."""


class _OptimizerFailed(Exception):
    """The optimizer could not apply a step (Adam's float32 update overflows at an absurd lr)."""


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
    continue from ``out/checkpoint.pt``; build ``task`` from the saved ``meta`` first. In a
    process group every process calls this alike; rank 0's history alone holds the evaluations.
    """
    meta, world = meta or {}, parallel.world()
    if out is not None and world.lead:  # the run folder is this run's alone while it trains
        files.make_folder(out)
        with files.owned(out):
            return _train(task, cfg, out, meta, resume, world)
    return _train(task, cfg, out, meta, resume, world)


def _train(
    task: Task, cfg: LoopConfig, out: Path | None, meta: dict, resume: bool, world: parallel.World
) -> History:
    writes = out if world.lead else None  # the run folder this process writes into
    history, step, saved = History(), 0, None  # saved: the step of the last checkpoint written
    if out is not None:
        if world.lead:
            files.remove_stale(out)
        if resume:
            step = saved = _restore(task, history, out / CHECKPOINT, world, meta)
            check_budget(step, cfg.steps, out)
        elif (out / CHECKPOINT).exists():
            raise BadInput(f"{out / CHECKPOINT} exists: resume it or choose another folder")
        if world.lead:
            files.write_json(meta, out / CONFIG)
            _rewrite_metrics(history, out)
    elif resume:
        raise ValueError("resume=True needs the run folder `out`")

    ddp = parallel.wrap(task.model, world)
    session_start, session_seconds, wall_start = step, 0.0, time.perf_counter()
    bar = tqdm(
        total=cfg.steps, initial=step, unit="step", disable=not (cfg.progress and world.lead)
    )
    with stop_requests() as ctrl_c, bar:
        try:
            while step < cfg.steps:
                started = time.perf_counter()
                try:
                    record = _train_step(task, step, cfg, ddp, world)
                except _OptimizerFailed as error:
                    raise RunFailed(
                        f"the optimizer could not apply step {step + 1} ({error}) at learning "
                        f"rate {task.optimizer.param_groups[0]['lr']:g}; "
                        f"{_last_good(out, saved)}; try a smaller --lr"
                    ) from None
                seconds = time.perf_counter() - started
                if not (math.isfinite(record["loss"]) and math.isfinite(record["grad_norm"])):
                    _log(writes, {"step": step + 1, "split": "diverged", **record})
                    raise Diverged(_divergence(step + 1, record, out, saved))
                step += 1
                history.records.append(record)
                history.seconds += seconds
                session_seconds += seconds
                rate = cfg.items_per_step * (step - session_start) / session_seconds
                shown = {"loss": f"{record['loss']:.3f}", f"{cfg.item_name}/s": f"{rate:,.0f}"}
                bar.set_postfix(shown, False)
                bar.update()

                failure = None
                if world.lead:
                    try:
                        _report(task, step, record, history, cfg, writes, bar, wall_start)
                    except files.WriteFailed as error:
                        failure = error
                stop, failed = world.any(bool(ctrl_c), failure is not None)
                _raise_if(failed, failure)
                if out is not None and (
                    step % cfg.checkpoint_every == 0 or step == cfg.steps or stop
                ):
                    failure = _save(out / CHECKPOINT, task, step, history, meta, world)
                    _raise_if(*world.any(failure is not None), failure)
                    saved = step
                if stop:
                    raise Stopped(step, out)
        except files.WriteFailed as error:
            raise RunFailed(
                f"{error}; stopped after step {step}; {_last_good(out, saved)}"
            ) from None

    if writes is not None:
        _write_summary(history, cfg, writes)
    return history


def _report(
    task: Task,
    step: int,
    record: dict,
    history: History,
    cfg: LoopConfig,
    out: Path | None,
    bar: tqdm,
    wall_start: float,
) -> None:
    """What rank 0 does after step ``step``: log it, and evaluate when it is time."""
    _log(out, {"step": step, "split": "train", **record})
    if step % cfg.eval_every == 0 or step == cfg.steps:
        metrics = _evaluate(task)
        history.evals.append({"step": step, **metrics})
        _log(out, {"step": step, "split": "held_out", **metrics})
        if cfg.print_evals:
            text = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items())
            elapsed = time.perf_counter() - wall_start
            bar.write(f"step {step} ({elapsed:.0f} s): held-out {text}")
        if out is not None:
            plot_losses(history, out / "loss.png", cfg.loss_label)


def _raise_if(failed: bool, failure: files.WriteFailed | None) -> None:
    """Stop every process when rank 0 could not write: rank 0 with its error, the others with
    a line that points to it (only rank 0 prints)."""
    if failed:
        raise failure or RunFailed("rank 0 could not write the run folder; see its error")


def check_budget(step: int, steps: int, out: Path) -> None:
    """A resumed run may extend its budget, not cut it below the steps it has done."""
    if step > steps:
        raise BadInput(
            f"the run in {out} is at step {step}, past this budget of {steps} steps: "
            "give a budget of at least its steps"
        )


def _train_step(
    task: Task, step: int, cfg: LoopConfig, ddp: nn.Module | None, world: parallel.World
) -> dict:
    """One optimizer step on ``task.loss(step)``, unless the loss or gradient is not finite.
    Returns what is logged for the step: loss, gradient norm before clipping, learning rate,
    and what the hooks return. Under N processes the loss is this process's share of the batch:
    DDP averages the gradients of loss · N · share, and the shares' sum is the logged loss."""
    task.model.train()
    if cfg.lr_schedule is not None:
        for group in task.optimizer.param_groups:
            group["lr"] = cfg.lr_schedule(step)
    task.optimizer.zero_grad(set_to_none=True)
    with _through(task, ddp):
        loss = task.loss(step)
    taken, rows = _share(task, world)
    scale = taken * world.size / rows  # exactly 1 when the batch splits evenly
    (loss if scale == 1 else loss * scale).backward()
    params = [p for p in task.model.parameters() if p.grad is not None]
    norm = torch.nn.utils.get_total_norm([p.grad for p in params]) if params else torch.zeros(())
    record = {
        "loss": world.sum(loss.item() * taken / rows) if world.size > 1 else loss.item(),
        "grad_norm": norm.item(),
        "lr": float(task.optimizer.param_groups[0]["lr"]),
    }
    if not (math.isfinite(record["loss"]) and math.isfinite(record["grad_norm"])):
        return record  # the loop stops: nothing is applied
    for hook in cfg.hooks:
        record.update(hook(step, task.model) or {})
    if cfg.clip_mode == "norm":
        torch.nn.utils.clip_grads_with_norm_(params, cfg.clip, norm)
    elif cfg.clip_mode == "value":
        torch.nn.utils.clip_grad_value_(params, cfg.clip)
    try:
        task.optimizer.step()
    except RuntimeError as error:  # e.g. "value cannot be converted to type float without overflow"
        raise _OptimizerFailed(first_line(error)) from None
    return record


@contextmanager
def _through(task: Task, ddp: nn.Module | None) -> Iterator[None]:
    """``task.model`` is the DDP wrapper while the task computes its loss, so that DDP sees the
    forward pass whose gradients it averages; the plain model everywhere else (hooks,
    evaluation, checkpoints, clipping)."""
    if ddp is None:
        yield
        return
    model, task.model = task.model, ddp
    try:
        yield
    finally:
        task.model = model


def _shard(task: Task) -> parallel.Shard:
    """How the task splits its batch (``parallel.Shard``); a task that declares none does not."""
    shard = getattr(task, "shard", None)
    return shard if shard is not None else parallel.Shard()


def _share(task: Task, world: parallel.World) -> tuple[int, int]:
    """(rows this process took, rows in the batch) of the step just computed; (1, N) when the
    task does not split its batch, and every process computed the whole of it."""
    shard = getattr(task, "shard", None)
    return shard.weight() if shard is not None else (1, world.size)


def _divergence(step: int, record: dict, out: Path | None, saved: int | None) -> str:
    """The one line that says a run diverged, and what survives."""
    return (
        f"diverged at step {step}: loss {record['loss']}, gradient norm {record['grad_norm']}; "
        f"the step was not applied; {_last_good(out, saved)}; try a smaller --lr"
    )


def _last_good(out: Path | None, saved: int | None) -> str:
    if out is None:
        return "no run folder"
    if saved is None:
        return "no checkpoint was written before it"
    return f"the last good checkpoint is {out / CHECKPOINT} (step {saved}), untouched"


def _evaluate(task: Task) -> dict[str, float]:
    """``task.evaluate()`` in eval mode, without gradients, leaving training's RNG untouched."""
    task.model.eval()
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        return task.evaluate()


def _save(
    path: Path, task: Task, step: int, history: History, meta: dict, world: parallel.World
) -> files.WriteFailed | None:
    """Rank 0 writes the checkpoint; under N processes every process first hands over its rows
    of the task's state and its RNG state. Returns the error of a write that failed."""
    task_state, rngs = task.get_state(), None
    if world.size > 1:
        rows = _shard(task).state
        if rows:
            own = parallel.to_device({key: task_state[key] for key in rows}, parallel.CPU)
            task_state = parallel.join_rows(world.gather(own), task_state, rows)
        rngs = world.gather(checkpoint.rng_state())
    if not world.lead:
        return None
    state = {
        "step": step,
        "model": task.model.state_dict(),
        "optimizer": task.optimizer.state_dict(),
        "rng": checkpoint.rng_state(),
        "task": task_state,
        "history": asdict(history),
        "meta": meta,
    }
    if rngs is not None:
        state["rng_ranks"] = rngs  # every process's, by rank: a resume on as many continues each
    try:
        checkpoint.save(state, path)
    except files.WriteFailed as error:
        return error
    return None


def _restore(task: Task, history: History, path: Path, world: parallel.World, meta: dict) -> int:
    """Load what ``_save`` wrote into ``task`` and ``history``; returns the step reached. Each
    process takes its rows of the task's state, and its own RNG state when the checkpoint was
    written by as many processes (else rank 0's). A checkpoint that does not fit the task's
    model or optimizer, or whose fields lie (tasks/checkpoint.py), is a ``BadInput``."""
    own_keys = tuple(key for key in ("config", "data") if key in meta)  # as this run writes them
    state = checkpoint.load_run(path, meta.get("task"), own_keys)
    checkpoint.load_weights(task.model, state["model"], path)
    try:
        task.optimizer.load_state_dict(state["optimizer"])
        own = parallel.own_rows(state["task"], _shard(task))
        task.set_state(parallel.to_device(own, parallel.device_of(task.model)))
        ranks = state.get("rng_ranks")
        same = ranks is not None and len(ranks) == world.size
        checkpoint.set_rng_state(ranks[world.rank] if same else state["rng"])
        history.records[:] = state["history"]["records"]
        history.evals[:] = state["history"]["evals"]
        history.seconds = state["history"]["seconds"]
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise BadInput(
            f"{path} does not fit this task's optimizer and state ({first_line(error)})"
        ) from None
    return state["step"]


def _write_summary(history: History, cfg: LoopConfig, out: Path) -> None:
    """out/summary.json: steps done, last held-out metrics, training time and throughput."""
    items = cfg.items_per_step * len(history.records)
    summary = {
        "steps": len(history.records),
        "held_out": history.evals[-1] if history.evals else None,
        "train_seconds": history.seconds,
        f"{cfg.item_name}_per_s": items / history.seconds if history.seconds else 0.0,
    }
    files.write_json(summary, out / "summary.json")


def _log(out: Path | None, record: dict) -> None:
    """Append one JSON line to out/metrics.jsonl."""
    if out is not None:
        files.append_line(record, out / METRICS)


def _rewrite_metrics(history: History, out: Path) -> None:
    """Make metrics.jsonl say what ``history`` says: on resume, lines written after the
    checkpoint (by the run that was stopped) are dropped."""
    lines = [{"step": i + 1, "split": "train", **r} for i, r in enumerate(history.records)]
    lines += [{"step": e["step"], "split": "held_out", **e} for e in history.evals]
    lines.sort(key=lambda r: (r["step"], r["split"] != "train"))
    files.write_text("".join(files.json_text(r) + "\n" for r in lines), out / METRICS)


@contextmanager
def stop_requests() -> Iterator[list]:
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
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    steps = np.arange(1, len(history.records) + 1)
    ax.plot(steps, history.train, color="tab:blue", alpha=0.25, linewidth=0.8)
    if len(history.records) >= SMOOTHING:
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
    files.write_figure(fig, path)
