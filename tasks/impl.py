"""The one place where ``--impl`` becomes a module and ``--cell`` a layer or one-step cell class.

Every task asks here and nowhere else, so the vocabulary is the same in every task:

- ``--impl``: ``scratch`` (ours, hand-written BPTT) or ``reference`` (torch.nn);
- ``--cell``: a name in ``CELLS``, each with the layer class it stands for and the
  implementations that have it. A cell that only scratch has (a variant torch.nn lacks) is
  one more line there, with ``impls=("scratch",)``; asking reference for it is a one-line error.
"""

import importlib
from dataclasses import dataclass
from types import ModuleType

from tasks.errors import BadInput

IMPLS = ("scratch", "reference")


@dataclass(frozen=True)
class Cell:
    """What ``--cell NAME`` builds: ``getattr(impl, layer)``, in the implementations listed."""

    layer: str  # the layer class in the implementation's package, e.g. "LSTM"
    about: str  # a few words for --help
    impls: tuple[str, ...] = IMPLS  # the implementations that have it
    states: int = 1  # state tensors a step carries: 1 (h), or 2 (h, c) for the LSTM


CELLS = {
    "rnn": Cell("RNN", "Elman RNN, tanh"),
    "lstm": Cell("LSTM", "long short-term memory", states=2),
    "gru": Cell("GRU", "gated recurrent unit"),
}


def load_impl(name: str) -> ModuleType:
    """Return the package ``scratch`` or ``reference``; both export RNN, LSTM, GRU and the cells."""
    if name not in IMPLS:
        raise BadInput(f"unknown implementation {name!r}: expected one of {', '.join(IMPLS)}")
    return importlib.import_module(name)


def check_cell(impl: str, cell: str) -> None:
    """``BadInput`` unless implementation ``impl`` has the layer that ``cell`` names."""
    if cell not in CELLS:
        raise BadInput(f"--cell {cell}: unknown cell, expected one of {', '.join(CELLS)}")
    if impl not in CELLS[cell].impls:
        only = " and ".join(CELLS[cell].impls)
        raise BadInput(f"--cell {cell} exists only in {only}, not in {impl}: use --impl {only}")


def layer_class(impl: str, cell: str) -> type:
    """The recurrent layer class (``RNN``, ``LSTM``, ...) that ``cell`` names, from ``impl``."""
    check_cell(impl, cell)
    return getattr(load_impl(impl), CELLS[cell].layer)


def cell_class(impl: str, cell: str) -> type:
    """The one-step cell class (``RNNCell``, ``LSTMCell``, ...) that ``cell`` names, from
    ``impl``: what a decoder steps through one output at a time."""
    check_cell(impl, cell)
    return getattr(load_impl(impl), CELLS[cell].layer + "Cell")
