"""The forward-mode chapter: the Elman tangent step ȧ_t, ḣ_t (E1, E2)."""

import torch

from learn.exercise import Exercise, Probe, Quantity, rand, size


def elman_step_tangent(x_proj_dot, h_prev_dot, h_prev, h, W_hh, W_hh_dot):
    """Forward mode through one Elman step (tanh): the tangent ḣ_t from the tangents of its
    inputs x̂̇_t, ḣ_{t−1} and Ẇ_hh.

    x_proj_dot: x̂̇_t (N, H); h_prev_dot: ḣ_{t−1} (N, H); h_prev: h_{t−1} (N, H); h: h_t (N, H);
    W_hh, W_hh_dot: W_hh and its tangent Ẇ_hh (H, H).
    Returns a_dot (ȧ_t) and h_dot (ḣ_t), each (N, H).
    """
    a_dot = x_proj_dot + h_prev_dot @ W_hh.T + h_prev @ W_hh_dot.T  # (E1) ȧ_t
    h_dot = (1 - h * h) * a_dot  # (E2) ḣ_t = (1 − h_t²) ⊙ ȧ_t
    return a_dot, h_dot


def _draw(g):
    N, H = size(g, 1, 4), size(g, 2, 5)
    return {
        "x_proj_dot": rand(g, N, H),
        "h_prev_dot": rand(g, N, H),
        "h_prev": torch.tanh(rand(g, N, H)),
        "h": torch.tanh(rand(g, N, H)),
        "W_hh": rand(g, H, H),
        "W_hh_dot": rand(g, H, H),
    }


_AXES = ("row", "unit")
EXERCISE = Exercise(
    chapter="forward",
    labels={
        "E1": "ȧ_t = x̂̇_t + ḣ_{t−1} W_hhᵀ + h_{t−1} Ẇ_hhᵀ",
        "E2": "ḣ_t = (1 − h_t²) ⊙ ȧ_t",
    },
    returns=(
        Quantity(
            "a_dot",
            "E1",
            _AXES,
            "x̂̇_t, plus ḣ_{t−1} W_hhᵀ, plus h_{t−1} Ẇ_hhᵀ: every input of (E1) that moves",
        ),
        Quantity("h_dot", "E2", _AXES, "ȧ_t and h_t: (1 − h_t²) ⊙ ȧ_t"),
    ),
    probes=(Probe("random tangents x̂̇_t, ḣ_{t−1}, Ẇ_hh at a random point", _draw),),
    solution=elman_step_tangent,
    hint="Forward mode pushes a small change through each line as it is: the product rule on "
    "h_{t−1} W_hhᵀ gives two terms. tanh' is written with the output, 1 − h_t².",
)
