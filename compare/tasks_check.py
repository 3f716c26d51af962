"""The tasks section: train each registered task's small model on scratch and on reference
from one seed, and check that the two loss curves never part by more than rounding.

The tasks come from tasks/registry.py; each exposes ``smoke_losses(impl, steps, seed)``. A task
passes when max_t |loss_scratch(t) − loss_reference(t)| ≤ ``MAX_DIFFERENCE``. A task that fails
to import, or raises, is an error: it fails too, with the exception in its row. The tests call
``check_task`` rather than comparing losses themselves.
"""

import contextlib
import io
import time
from dataclasses import dataclass, field

import torch
from tqdm import tqdm

from tasks import registry

IMPLS = ("scratch", "reference")
MAX_DIFFERENCE = 1e-4  # largest |Δ loss| at any step that still passes: rounding, amplified


@dataclass
class TaskResult:
    """One task: its loss curves per implementation, or the error that stopped it."""

    task: str
    losses: dict[str, list[float]] = field(default_factory=dict)  # impl -> loss per step
    seconds: dict[str, float] = field(default_factory=dict)  # impl -> wall time
    error: str | None = None  # "ExceptionType: message" when the task could not run

    @property
    def ran(self) -> bool:
        return self.error is None

    @property
    def max_difference(self) -> float | None:
        """The largest |loss_scratch − loss_reference| over the steps."""
        if not self.ran:
            return None
        a, b = (self.losses[impl] for impl in IMPLS)
        return max((abs(x - y) for x, y in zip(a, b, strict=True)), default=0.0)

    @property
    def passed(self) -> bool:
        """Ran, and the curves agree within ``MAX_DIFFERENCE`` at every step (NaN fails)."""
        return self.ran and self.max_difference <= MAX_DIFFERENCE

    def as_dict(self) -> dict:
        return {
            "task": self.task,
            "passed": self.passed,
            "error": self.error,
            "max_difference": self.max_difference,
            "threshold": MAX_DIFFERENCE,
            "losses": self.losses,
            "seconds": self.seconds,
        }


def check_task(task: str, steps: int, seed: int = 0, cell: str | None = None) -> TaskResult:
    """Run the task's smoke_losses on both implementations (``cell``: another recurrent cell
    than the task's default); its printing is swallowed so the bars and tables stay readable."""
    result = TaskResult(task)
    extra = {} if cell is None else {"cell": cell}
    try:
        smoke_losses = registry.load(task).smoke_losses
        for impl in IMPLS:
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                losses = smoke_losses(impl, steps=steps, seed=seed, **extra)
            result.losses[impl] = [float(x) for x in losses]
            result.seconds[impl] = time.perf_counter() - start
    except Exception as error:  # any failure of a task is reported in its row, not a crash
        result.error = f"{type(error).__name__}: {error}"
    return result


def run_tasks(steps: int, seed: int = 0, progress: bool = True) -> list[TaskResult]:
    """Every registered task, one thread (small models: a second thread only adds synchronisation)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        bar = tqdm(list(registry.TASKS), desc="tasks", unit="task", disable=not progress)
        return [check_task(task, steps, seed) for task in bar]
    finally:
        torch.set_num_threads(threads)
