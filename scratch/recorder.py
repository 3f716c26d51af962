"""The state-gradient recorder's storage: which layers record during a backward pass, and
where each layer and direction's dL/d(state_t) of every step goes. function.py fills it from
our BPTT; record.py's ``record_state_grads`` switches it on for one layer and hands it out.
Off, the only cost is one dictionary lookup per layer and backward pass.
"""

from typing import NamedTuple

from torch import Tensor

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


def start(layer_id: int) -> StateGrads:
    """Record the layer whose id() is ``layer_id`` from now on; what it records, filled as
    backward passes run."""
    recording = StateGrads()
    _ACTIVE[layer_id] = recording
    return recording


def stop(layer_id: int) -> None:
    """Stop recording that layer."""
    del _ACTIVE[layer_id]


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
