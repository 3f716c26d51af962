"""The one place where ``--impl`` becomes a module and ``--cell`` a layer or one-step cell class.

Every task asks here and nowhere else, so the vocabulary is the same in every task:

- ``--impl``: ``scratch`` (ours, hand-written BPTT) or ``reference`` (torch.nn);
- ``--cell``: a cell's key in scratch's registry (``scratch.registry.CELLS``, each declared in
  its file in scratch/equations/), never a list typed here. A cell torch.nn lacks exists only
  in scratch; asking reference for it is a one-line error. ``rnn``, the tasks' earlier name for
  the tanh Elman RNN, still means ``rnn_tanh``.

And what only scratch has, which the gradients lab (tasks/gradients/) reads: the recorder of
dL/dh_t (``scratch.record_state_grads``) and each cell's own step pair (``scratch.step_pair``).
"""

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from scratch import record_state_grads, registry, step_pair
from tasks.errors import BadInput
from tasks.init import GATED

IMPLS = ("scratch", "reference")
OLD_SPELLINGS = {"rnn": "rnn_tanh"}  # what --cell took before the registry's keys

# The tasks' rates for the cells that take them (our choice, from the papers): Gal &
# Ghahramani (2016) use 0.25 on the input and the state of their medium language model;
# Krueger et al. (2017) zone out c at 0.5 and h at 0.05 at character level.
RATES = {
    "variational": {"dropout_input": 0.25, "dropout_hidden": 0.25},
    "zoneout": {"zoneout_h": 0.05, "zoneout_c": 0.5},
}


@dataclass(frozen=True)
class Choice:
    """What ``--cell KEY`` builds, read from the cell's declaration in scratch's registry."""

    layer: str  # the layer class in the implementation's package, e.g. "LSTM"
    about: str  # a few words for --help
    impls: tuple[str, ...]  # the implementations that have it
    picks: dict  # the layer's arguments that pick this cell (the RNN's nonlinearity)
    options: dict  # the tasks' rates for the layer's own arguments (a variant's dropout)
    states: int  # state tensors a step carries: 1 (h), or 2 (h, c) for the LSTMs
    kind: str  # "RNN", "LSTM", "GRU", "minimal" (no W_hh) or "vector" (W_hh a vector u):
    #            what --init and --forget-bias see (tasks/init.py's cell_of)


def _choice(key: str) -> Choice:
    cell = registry.cell(key)
    if "weight_hh" not in cell.kinds:
        kind = "minimal"
    elif cell.recurrent_weight == "vector":
        kind = "vector"
    else:
        kind = GATED[cell.num_gates]
    return Choice(
        layer=cell.layer,
        about=cell.about,
        impls=IMPLS if cell.torch_nn else ("scratch",),
        picks=dict(cell.layer_options),
        options=RATES.get(key, {}),
        states=len(cell.states),
        kind=kind,
    )


CELLS = {key: _choice(key) for key in registry.CELLS}  # key -> Choice, from the registry
NAMES = (*CELLS, *OLD_SPELLINGS)  # what --cell accepts


def key(cell: str) -> str:
    """The registry key ``cell`` names (an old spelling becomes its key); ``BadInput`` for an
    unknown name."""
    found = OLD_SPELLINGS.get(cell, cell)
    if found not in CELLS:
        raise BadInput(f"--cell {cell}: unknown cell, expected one of {', '.join(CELLS)}")
    return found


def choice(cell: str) -> Choice:
    """What ``--cell`` ``cell`` builds (a key or an old spelling)."""
    return CELLS[key(cell)]


def help_text() -> str:
    """The --cell vocabulary for help texts: every key with its few words."""
    return "; ".join(f"{k} ({c.about})" for k, c in CELLS.items())


def load_impl(name: str) -> ModuleType:
    """Return the package ``scratch`` or ``reference``; both export RNN, LSTM, GRU and the cells."""
    if name not in IMPLS:
        raise BadInput(f"unknown implementation {name!r}: expected one of {', '.join(IMPLS)}")
    return importlib.import_module(name)


def check_cell(impl: str, cell: str) -> None:
    """``BadInput`` unless implementation ``impl`` has the layer that ``cell`` names."""
    impls = choice(cell).impls  # BadInput for an unknown cell
    if impl not in impls:
        only = " and ".join(impls)
        raise BadInput(f"--cell {cell} exists only in {only}, not in {impl}: use --impl {only}")


def layer_class(impl: str, cell: str) -> Callable[..., object]:
    """What builds the recurrent layer ``cell`` names, from ``impl``: its class (``RNN``,
    ``LSTM``, ...), with the cell's own options (the nonlinearity, a variant's rates) given."""
    check_cell(impl, cell)
    found = choice(cell)
    layer = getattr(load_impl(impl), found.layer)
    arguments = found.picks | found.options
    return functools.partial(layer, **arguments) if arguments else layer


def cell_class(impl: str, cell: str) -> Callable[..., object]:
    """What builds the one-step cell (``RNNCell``, ``LSTMCell``, ...) that ``cell`` names, from
    ``impl``, with what picks the cell given (the nonlinearity): what a decoder steps through
    one output at a time. ``BadInput`` for a cell that has a layer but no one-step class (the
    variants and the minimal RNNs)."""
    check_cell(impl, cell)
    found = getattr(load_impl(impl), choice(cell).layer + "Cell", None)
    if found is not None and choice(cell).picks:
        return functools.partial(found, **choice(cell).picks)
    if found is None:
        steppable = ", ".join(name for name in CELLS if _has_cell_class(impl, name))
        raise BadInput(
            f"--cell {cell}: {choice(cell).layer} has no one-step cell class to decode with, "
            f"one output at a time; use one of {steppable}"
        )
    return found


def _has_cell_class(impl: str, cell: str) -> bool:
    return impl in CELLS[cell].impls and hasattr(load_impl(impl), CELLS[cell].layer + "Cell")


__all__ = ["IMPLS", "CELLS", "NAMES", "Choice", "cell_class", "check_cell", "choice", "key"]
__all__ += ["help_text", "layer_class", "load_impl", "record_state_grads", "step_pair"]
