"""How much gradient reaches each step: ‖dL/dh_t‖ recorded from our own BPTT
(``record_state_grads``), and the bound on it that the per-step Jacobians set (jacobian.py).

The adding network is many-to-one, so dL/dh_t is what the last step's error sends back
through T − 1 − t steps of the recurrence, and nothing else:

    d_{T−1} = ∂L/∂state_{T−1}            d_{t} = d_{t+1} J_{t+1}

    ‖d_t‖ ≤ ‖d_{T−1}‖ · σ_max(J_{T−1}) ⋯ σ_max(J_{t+1})     (Pascanu, Mikolov & Bengio 2013)

The curves average over sequences in linear space (log10 of the mean norm, so a sequence whose
gradient died counts as a zero, not as −∞) and are drawn in decades: a slope of −0.1 per step
is a factor 10 lost every 10 steps.
"""

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from tasks.gradients.model import AddingModel
from tasks.impl import record_state_grads


@dataclass
class Flow:
    """The gradient that reached each step of one batch, per sequence."""

    h: Tensor  # (T, N): ‖dL/dh_t‖
    state: Tensor  # (T, N): ‖dL/d(state_t)‖, h and c together for the LSTM (the bound's norm)


def state_gradients(model: AddingModel, x: Tensor, y: Tensor) -> Flow:
    """One backward pass of the adding loss on (x, y) through a scratch model, recorded."""
    model.zero_grad(set_to_none=True)
    with record_state_grads(model.rnn) as recorded:
        nn.functional.mse_loss(model(x), y).backward()
    grads = recorded[(0, 0)]  # {"h": (T, N, H), "c": (T, N, H) for the LSTM}
    model.zero_grad(set_to_none=True)
    state = torch.cat(list(grads.values()), dim=2)
    return Flow(grads["h"].norm(dim=2), state.norm(dim=2))


def log10_bound(last: Tensor, sigma: Tensor) -> Tensor:
    """log10 of ‖d_{T−1}‖ · Π_{j>t} σ_j at every step t: (T, N) from ``last`` (N,), the norm of
    the gradient at the last step, and ``sigma`` (T, N), each step's σ_max(J)."""
    logs = torch.log10(sigma)
    after = torch.flip(torch.cumsum(torch.flip(logs, [0]), 0), [0]) - logs  # Σ_{j>t} log10 σ_j
    return torch.log10(last) + after


def log10_mean(values: Tensor) -> Tensor:
    """log10 of the mean over sequences (dim 1) of positive ``values`` (T, N)."""
    return torch.log10(values.mean(dim=1))


def log10_mean_of_logs(log10_values: Tensor) -> Tensor:
    """log10 of the mean over sequences of 10^``log10_values`` (T, N), without overflowing."""
    n = log10_values.shape[1]
    return (torch.logsumexp(log10_values * math.log(10), dim=1) - math.log(n)) / math.log(10)


def slope(curve: Tensor) -> float:
    """Least-squares slope, in decades per step, of a log10 curve over its finite points."""
    t = torch.arange(len(curve), dtype=torch.float64)
    keep = torch.isfinite(curve)
    if keep.sum() < 2:
        return float("nan")
    t, y = t[keep], curve[keep].double()
    t_c = t - t.mean()
    return ((t_c * (y - y.mean())).sum() / (t_c * t_c).sum()).item()
