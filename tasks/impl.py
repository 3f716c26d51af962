"""The one place where ``--impl`` becomes a module: every task asks here and nowhere else."""

import importlib
from types import ModuleType

IMPLS = ("scratch", "reference")


def load_impl(name: str) -> ModuleType:
    """Return the package ``scratch`` or ``reference``; both export RNN, LSTM, GRU and the cells."""
    if name not in IMPLS:
        raise ValueError(f"unknown implementation {name!r}: expected one of {', '.join(IMPLS)}")
    return importlib.import_module(name)
