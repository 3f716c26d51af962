"""A layer's cell one step at a time, bound to the weights of its first layer (forward
direction): what the gradients lab (tasks/gradients/) computes per-step Jacobians from.
"""

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from scratch import registry
from scratch.declaration import STANDARD_KINDS, Weights
from scratch.unroll import input_projection


@dataclass(frozen=True)
class StepPair:
    """One step forward and its backward. Rows are independent: row m of the backward step is
    v_m ∂state_t/∂state_{t−1} at row m's own state."""

    states: tuple[str, ...]  # ("h",) or ("h", "c")
    step: Callable  # (x_t (N, H_in), state_{t−1}) -> (state_t, saved)
    step_backward: Callable  # (d_state_t, saved) -> d_state_{t−1}: vᵀ ∂state_t/∂state_{t−1}


def step_pair(layer: nn.Module) -> StepPair:
    """The step pair of ``layer``, a scratch or torch.nn layer (its ``mode``, torch.nn's
    attribute, is the cell's key in capitals: "LSTM", "RNN_TANH")."""
    cell = registry.cell(layer.mode.lower())
    w = Weights(*(getattr(layer, f"{kind}_l0", None) for kind in STANDARD_KINDS))

    def step(x, state):
        return cell.step(input_projection(cell, x, w), state, w)

    def step_backward(d_state, saved):
        return cell.step_backward(d_state, w, saved).d_state_prev

    return StepPair(cell.states, step, step_backward)
