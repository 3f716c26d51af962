"""The tasks that ``python -m compare tasks`` and CI know about: one line each.

Each entry names a package that provides, on the shared scaffolding:

- ``main(argv) -> int``: its command line, with a ``train`` command that takes ``--smoke`` and
  ``--out DIR`` (CI runs ``python -m <module> train --smoke --out DIR`` from an installed wheel);
- ``smoke_losses(impl, steps, seed, cell=None) -> list[float]``: the training loss of every step
  of its small model on ``impl``, writing no files and printing nothing; compare's tasks check
  (compare/tasks_check.py) requires scratch and reference to agree step by step.

A new task is a package under tasks/ and one line here.
"""

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Entry:
    name: str  # what compare's table calls it
    module: str  # the package: python -m <module>
    about: str  # one line for tables and help


TASKS = {
    entry.name: entry
    for entry in (
        Entry("text", "tasks.text", "character-level language model on Shakespeare"),
        Entry("series", "tasks.series", "time-series forecasting beside yardsticks"),
        Entry("gradients", "tasks.gradients", "the adding problem; the gradient-flow lab"),
    )
}


def load(name: str) -> ModuleType:
    """Import the package of task ``name`` (its ImportError, if any, reaches the caller)."""
    return importlib.import_module(TASKS[name].module)
