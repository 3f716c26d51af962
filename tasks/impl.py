"""The one place where ``--impl`` becomes a module and ``--cell`` a layer or one-step cell class.

Every task asks here and nowhere else, so the vocabulary is the same in every task:

- ``--impl``: ``scratch`` (ours, hand-written BPTT) or ``reference`` (torch.nn);
- ``--cell``: a name in ``CELLS``, each with the layer class it stands for and the
  implementations that have it. A cell that only scratch has (a variant torch.nn lacks) is
  one more line there, with ``impls=("scratch",)``; asking reference for it is a one-line error.

And what only scratch has, which the gradients lab (tasks/gradients/) reads: the recorder of
dL/dh_t (``record_state_grads``) and each cell's own step pair (``step_pair``).
"""

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

from torch import nn

from tasks.errors import BadInput

IMPLS = ("scratch", "reference")


@dataclass(frozen=True)
class Cell:
    """What ``--cell NAME`` builds: ``getattr(impl, layer)``, in the implementations listed."""

    layer: str  # the layer class in the implementation's package, e.g. "LSTM"
    about: str  # a few words for --help
    impls: tuple[str, ...] = IMPLS  # the implementations that have it
    options: dict = field(default_factory=dict)  # the layer's own arguments, e.g. its rates
    states: int = 1  # state tensors a step carries: 1 (h), 2 (h, c) for the LSTM, 4 the sLSTM
    family: str | None = None  # a variant's core cell, for --init (below); "minimal": no W_hh

    @property
    def kind(self) -> str:
        """ "RNN", "LSTM", "GRU" or "minimal": what ``--init`` and ``--forget-bias`` see
        (tasks/init.py): the family of a variant, the layer of a core cell."""
        return self.family or self.layer


SCRATCH_ONLY = ("scratch",)

CELLS = {
    "rnn": Cell("RNN", "Elman RNN, tanh"),
    "lstm": Cell("LSTM", "long short-term memory", states=2),
    "gru": Cell("GRU", "gated recurrent unit"),
    # The variants torch.nn lacks (docs/variants.md) and the minimal RNNs (docs/minimal.md).
    "lnlstm": Cell("LayerNormLSTM", "layer-normalised LSTM", SCRATCH_ONLY, states=2, family="LSTM"),
    "peephole": Cell(
        "PeepholeLSTM", "LSTM with peephole connections", SCRATCH_ONLY, states=2, family="LSTM"
    ),
    "chogru": Cell("ChoGRU", "the GRU as Cho et al. wrote it", SCRATCH_ONLY, family="GRU"),
    # Rates: Gal & Ghahramani (2016) use 0.25 on the input and the state of their medium
    # language model; Krueger et al. (2017) zone out c at 0.5 and h at 0.05 at character level.
    "variational": Cell(
        "VariationalLSTM",
        "LSTM, variational dropout 0.25 on x and h",
        SCRATCH_ONLY,
        {"dropout_input": 0.25, "dropout_hidden": 0.25},
        states=2,
        family="LSTM",
    ),
    "zoneout": Cell(
        "ZoneoutLSTM",
        "LSTM, zoneout 0.05 on h, 0.5 on c",
        SCRATCH_ONLY,
        {"zoneout_h": 0.05, "zoneout_c": 0.5},
        states=2,
        family="LSTM",
    ),
    "mingru": Cell("MinGRU", "minGRU, trained by a parallel scan", SCRATCH_ONLY, family="minimal"),
    "minlstm": Cell(
        "MinLSTM", "minLSTM, trained by a parallel scan", SCRATCH_ONLY, family="minimal"
    ),
    # The recurrent revival (docs/slstm.md, docs/rglru.md). The sLSTM's gates are i, f, z, o,
    # its forget gate the LSTM's second block, so --init and --forget-bias treat it as one.
    "slstm": Cell(
        "SLSTM",
        "sLSTM of xLSTM: exponential gating, normaliser",
        SCRATCH_ONLY,
        states=4,
        family="LSTM",
    ),  # fmt: skip
    "rglru": Cell(
        "RGLRU", "RG-LRU of Griffin, trained by a parallel scan", SCRATCH_ONLY, family="minimal"
    ),
    "mingru_neg": Cell(
        "MinGRU",
        "minGRU with a_t = 1 − 2 z_t in (−1, 1)",
        SCRATCH_ONLY,
        {"negative": True},
        family="minimal",
    ),
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


def layer_class(impl: str, cell: str) -> Callable[..., object]:
    """What builds the recurrent layer ``cell`` names, from ``impl``: its class (``RNN``,
    ``LSTM``, ...), with the cell's own options (a variant's rates) already given."""
    check_cell(impl, cell)
    layer = getattr(load_impl(impl), CELLS[cell].layer)
    return functools.partial(layer, **CELLS[cell].options) if CELLS[cell].options else layer


def cell_class(impl: str, cell: str) -> type:
    """The one-step cell class (``RNNCell``, ``LSTMCell``, ...) that ``cell`` names, from
    ``impl``: what a decoder steps through one output at a time. ``BadInput`` for a cell that
    has a layer but no one-step class (the variants and the minimal RNNs)."""
    check_cell(impl, cell)
    found = getattr(load_impl(impl), CELLS[cell].layer + "Cell", None)
    if found is None:
        steppable = ", ".join(name for name in CELLS if _has_cell_class(impl, name))
        raise BadInput(
            f"--cell {cell}: {CELLS[cell].layer} has no one-step cell class to decode with, "
            f"one output at a time; use one of {steppable}"
        )
    return found


def _has_cell_class(impl: str, cell: str) -> bool:
    return impl in CELLS[cell].impls and hasattr(load_impl(impl), CELLS[cell].layer + "Cell")


# ---------------------------------------------------------------------------------------------
# what only scratch has: our own BPTT, step by step


def record_state_grads(module: nn.Module):
    """``scratch.record_state_grads``: dL/dh_t (and dL/dc_t) of every step, layer and direction
    of the scratch layer in ``module``, from our BPTT, while the block runs (docs/contract.md)."""
    return importlib.import_module("scratch").record_state_grads(module)


@dataclass(frozen=True)
class StepPair:
    """A layer's cell, one step at a time, from scratch's cell registry, bound to the weights of
    its first layer (forward direction). Rows are independent: row m of the backward step is
    v_m ∂state_t/∂state_{t−1} at row m's own state."""

    states: tuple[str, ...]  # ("h",) or ("h", "c")
    step: Callable  # (x_t (N, H_in), state_{t−1}) -> (state_t, saved)
    step_backward: (
        Callable  # (d_state_t, saved) -> d_state_{t−1}, the tuple vᵀ ∂state_t/∂state_{t−1}
    )


def step_pair(layer: nn.Module) -> StepPair:
    """The step pair of ``layer`` (a scratch or torch.nn layer: its ``mode`` names the cell)."""
    registry = importlib.import_module("scratch.registry")
    declaration = importlib.import_module("scratch.declaration")
    unroll = importlib.import_module("scratch.unroll")
    cell = registry.cell(layer.mode)
    w = declaration.Weights(
        *(getattr(layer, f"{kind}_l0", None) for kind in declaration.STANDARD_KINDS)
    )

    def step(x, state):
        return cell.step(unroll.input_projection(cell, x, w), state, w)

    def step_backward(d_state, saved):
        return cell.step_backward(d_state, w, saved).d_state_prev

    return StepPair(cell.states, step, step_backward)
