"""Start here: one step of the Elman cell forward (E1, E2 of docs/cells.md)."""

import torch

from learn.exercise import Exercise, Probe, Quantity, rand, size


def elman_step(x_proj, h_prev, W_hh):
    """One Elman step forward: the pre-activation a_t and the new state h_t = tanh(a_t).

    x_proj: x̂_t (N, H), the input already projected; h_prev: h_{t−1} (N, H); W_hh: (H, H).
    Returns a (N, H) and h (N, H).
    """
    a = x_proj + h_prev @ W_hh.T  # (E1) a_t = x̂_t + h_{t−1} W_hhᵀ
    h = torch.tanh(a)  # (E2) h_t = tanh(a_t)
    return a, h


def _draw(g):
    N, H = size(g, 1, 4), size(g, 2, 5)
    return {"x_proj": rand(g, N, H), "h_prev": rand(g, N, H), "W_hh": rand(g, H, H)}


EXERCISE = Exercise(
    chapter="start",
    labels={"E1": "a_t = x̂_t + h_{t−1} W_hhᵀ", "E2": "h_t = tanh(a_t)"},
    returns=(
        Quantity("a", "E1", ("row", "unit"), "x̂_t, and h_{t−1} through W_hh: x̂_t + h_{t−1} W_hhᵀ"),
        Quantity("h", "E2", ("row", "unit"), "a_t alone, squashed by tanh"),
    ),
    probes=(Probe("random x̂_t, h_{t−1}, W_hh", _draw),),
    solution=elman_step,
    hint="Rows are batch elements, so the weights multiply from the right, transposed: h_prev @ W_hh.T.",
)
