"""Recording dL/dh_t (and dL/dc_t) at every step during one backward pass, from our own BPTT.

    with scratch.record_state_grads(model) as rec:
        loss.backward()
    rec[(layer, direction)]["h"]    # (L, N, H_out): dL/dh_t, the total gradient reaching h_t

The backward loops compute these gradients anyway; while a recorder is on, they also copy each
step's into a buffer. Off, the only cost is one dictionary lookup per layer and backward pass.
The tensors are time-major whatever ``batch_first`` is, in the batch's own order; for packed
input they have the padded layout, with zeros past each sequence's end. docs/gradients.md.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from torch import Tensor, nn

from scratch.steps import Steps


class RecordKey(NamedTuple):
    """Which layer and direction of which module a backward pass belongs to, and its layout."""

    module: int  # id() of the recurrent module
    layer: int
    direction: int
    unsorted_indices: Tensor | None  # packed input: back from sorted rows to the batch's order
    unbatched: bool  # the input had no batch dimension


class StateGrads(dict):
    """(layer, direction) -> {"h": (L, N, H_out), "c": (L, N, H) for the LSTM}."""


_ACTIVE: dict[int, StateGrads] = {}


@contextmanager
def record_state_grads(module: nn.Module) -> Iterator[StateGrads]:
    """Record dL/d(state_t) of every step, layer and direction of the one scratch recurrent
    layer in ``module`` (the layer itself, or a model holding it) while the block runs."""
    from scratch.modules import RNNBase  # modules imports this file

    layers = [m for m in module.modules() if isinstance(m, RNNBase)]
    if len(layers) != 1:
        found = "none" if not layers else f"{len(layers)}"
        raise ValueError(
            f"record_state_grads needs exactly one scratch recurrent layer in the module, found "
            f"{found}; pass the layer itself"
        )
    layer = layers[0]
    if layer.bptt == "autograd":
        raise ValueError(
            "record_state_grads reads our own BPTT: build the layer with bptt='manual' or "
            "'readable', not 'autograd'"
        )
    recording = StateGrads()
    _ACTIVE[id(layer)] = recording
    try:
        yield recording
    finally:
        del _ACTIVE[id(layer)]


def buffers(key: RecordKey | None, cell, state0: tuple, steps: Steps) -> dict | None:
    """Zeroed (T_total, ·) buffers for each state of the cell, or None when nothing records."""
    if key is None or key.module not in _ACTIVE:
        return None
    rows = sum(steps.sizes)
    return {
        name: s.new_zeros(rows, s.shape[1]) for name, s in zip(cell.states, state0, strict=True)
    }


def store(key: RecordKey, filled: dict | None, steps: Steps) -> None:
    """Lay the filled buffers out as (L, N, ·), padded, in the batch's order, and keep them."""
    if filled is None or key.module not in _ACTIVE:
        return
    _ACTIVE[key.module][(key.layer, key.direction)] = {
        name: _padded(rows, key, steps) for name, rows in filled.items()
    }


def _padded(rows: Tensor, key: RecordKey, steps: Steps) -> Tensor:
    L, N = len(steps.sizes), steps.sizes[0] if steps.sizes else 0
    padded = rows.new_zeros(L, N, rows.shape[1])
    for t, part in enumerate(steps.split(rows)):
        padded[t, : part.shape[0]] = part
    if key.unsorted_indices is not None:
        padded = padded.index_select(1, key.unsorted_indices)
    return padded.squeeze(1) if key.unbatched else padded
