"""The tasks that ``python -m compare tasks`` and CI know about: one line each.

Each entry names a package that provides, on the shared scaffolding:

- a command line with a ``train`` command that takes ``--smoke`` and ``--out DIR``: its own
  ``main(argv) -> int`` (``python -m <module> train ...``), or, for one demo of a task of
  several, the entry's ``command`` (``python -m tasks.patterns seq2seq train ...``); CI runs
  ``python -m <command> train --smoke --out DIR`` from an installed wheel;
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
    module: str  # the package with smoke_losses
    about: str  # one line for tables and help
    command: str = ""  # what follows `python -m` to reach its train command; "" = the module

    @property
    def run(self) -> str:
        """The words after ``python -m`` that lead to its ``train`` command."""
        return self.command or self.module


TASKS = {
    entry.name: entry
    for entry in (
        Entry("text", "tasks.text", "character-level language model on Shakespeare"),
        Entry("series", "tasks.series", "time-series forecasting beside yardsticks"),
        *(
            Entry(name, f"tasks.patterns.{name.replace('-', '_')}", about, f"tasks.patterns {name}")
            for name, about in (
                ("many-to-one", "which kind of play a speech is from"),
                ("one-to-many", "captions of generated scenes"),
                ("many-to-many", "case and punctuation restored, character by character"),
                ("seq2seq", "dates into ISO form, with attention"),
                ("digits", "MNIST-1D digits, beside published numbers"),
            )
        ),
        Entry("gradients", "tasks.gradients", "the adding problem; the gradient-flow lab"),
        Entry("state", "tasks.state", "parity and sums mod 5: what a recurrence can count"),
    )
}


def load(name: str) -> ModuleType:
    """Import the package of task ``name`` (its ImportError, if any, reaches the caller)."""
    return importlib.import_module(TASKS[name].module)
