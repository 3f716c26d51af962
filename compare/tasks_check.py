"""The tasks section: train each task's small model on scratch and on reference from one seed,
and report how far apart the two loss curves ever get.

Each task module exposes smoke_losses(impl, steps, seed) -> per-step training losses. A task
that is not there yet (ImportError, or no smoke_losses) is reported as not available, which
is not a failure: the section picks it up once it lands.
"""

import contextlib
import importlib
import io
import time
from dataclasses import dataclass, field

import torch
from tqdm import tqdm

TASKS = ("text", "series")
IMPLS = ("scratch", "reference")


@dataclass
class TaskResult:
    """One task: its loss curves per implementation, or why it was not run."""

    task: str
    losses: dict[str, list[float]] = field(default_factory=dict)  # impl -> loss per step
    seconds: dict[str, float] = field(default_factory=dict)  # impl -> wall time
    unavailable: str | None = None  # why the task could not be run

    @property
    def available(self) -> bool:
        return self.unavailable is None

    @property
    def max_difference(self) -> float | None:
        """The largest |loss_scratch − loss_reference| over the steps."""
        if not self.available:
            return None
        a, b = (self.losses[impl] for impl in IMPLS)
        return max((abs(x - y) for x, y in zip(a, b, strict=True)), default=0.0)

    def as_dict(self) -> dict:
        return {
            "task": self.task,
            "available": self.available,
            "unavailable": self.unavailable,
            "max_difference": self.max_difference,
            "losses": self.losses,
            "seconds": self.seconds,
        }


def check_task(task: str, steps: int, seed: int = 0) -> TaskResult:
    """Run tasks.<task>.smoke_losses on both implementations; its printing is swallowed so that
    the progress bars and tables stay readable."""
    try:
        smoke_losses = importlib.import_module(f"tasks.{task}").smoke_losses
    except (ImportError, AttributeError) as error:
        return TaskResult(task, unavailable=f"{type(error).__name__}: {error}")
    result = TaskResult(task)
    for impl in IMPLS:
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            result.losses[impl] = [float(x) for x in smoke_losses(impl, steps=steps, seed=seed)]
        result.seconds[impl] = time.perf_counter() - start
    return result


def run_tasks(steps: int, seed: int = 0, progress: bool = True) -> list[TaskResult]:
    """Every task, one thread (small models: a second thread only adds synchronisation)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        bar = tqdm(TASKS, desc="tasks", unit="task", disable=not progress)
        return [check_task(task, steps, seed) for task in bar]
    finally:
        torch.set_num_threads(threads)
