"""What one compare run measured, section by section: what the tables, figures and report read."""

from dataclasses import dataclass, field

from compare.bench import BenchResult
from compare.cuda import CudaRow
from compare.equiv import EquivRow
from compare.tasks_check import TaskResult


@dataclass
class Results:
    """Everything one run measured; a section that was not run stays None."""

    meta: dict
    matrix: list[EquivRow] | None = None
    random: list[EquivRow] = field(default_factory=list)
    cuda: list[CudaRow] | None = None  # the CUDA rows; None when no GPU (or no equiv section)
    bench: list[BenchResult] | None = None
    tasks: list[TaskResult] | None = None

    @property
    def equiv_rows(self) -> list[EquivRow]:
        return (self.matrix or []) + self.random

    @property
    def failed(self) -> list[EquivRow]:
        """The equivalence cases that fail."""
        return [row for row in self.equiv_rows if not row.passed]

    @property
    def failed_cuda(self) -> list[CudaRow]:
        """The CUDA rows that fail."""
        return [row for row in self.cuda or [] if not row.passed]

    @property
    def failed_tasks(self) -> list[TaskResult]:
        """The tasks whose scratch and reference losses part, or that could not run."""
        return [task for task in self.tasks or [] if not task.passed]
