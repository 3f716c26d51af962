"""The cells chapter: the Elman step backward (E2, then E1)."""

import torch

from learn.exercise import Exercise, Probe, Quantity, rand, size


def elman_step_backward(d_h, h, h_prev, W_hh):
    """The Elman step backward (tanh): from dL/dh_t to dL/da_t, dL/dh_{t−1} and W_hh's share.

    d_h: dL/dh_t (N, H); h: h_t (N, H), the step's output; h_prev: h_{t−1} (N, H); W_hh: (H, H).
    Returns d_a (N, H), d_h_prev (N, H) and d_W_hh (H, H), this step's d_a_tᵀ h_{t−1}.
    """
    d_a = d_h * (1 - h * h)  # (E2) tanh'(a_t) = 1 − h_t²
    d_h_prev = d_a @ W_hh  # (E1) ∂a_t/∂h_{t−1} = W_hh
    d_W_hh = d_a.T @ h_prev  # (E1) ∂a_t/∂W_hh: d_a_tᵀ h_{t−1}
    return d_a, d_h_prev, d_W_hh


def _draw(g):
    N, H = size(g, 1, 4), size(g, 2, 5)
    h = torch.tanh(rand(g, N, H))
    return {"d_h": rand(g, N, H), "h": h, "h_prev": rand(g, N, H), "W_hh": rand(g, H, H)}


EXERCISE = Exercise(
    chapter="cells",
    labels={"E1": "a_t = x̂_t + h_{t−1} W_hhᵀ", "E2": "h_t = tanh(a_t)"},
    returns=(
        Quantity("d_a", "E2", ("row", "unit"), "d_h_t and h_t only: d_h_t ⊙ (1 − h_t²)"),
        Quantity("d_h_prev", "E1", ("row", "unit"), "d_a_t and W_hh: d_a_t W_hh (not W_hhᵀ)"),
        Quantity(
            "d_W_hh",
            "E1",
            ("output unit", "input unit"),
            "d_a_t and h_{t−1}: d_a_tᵀ h_{t−1}, shaped like W_hh",
        ),
    ),
    probes=(Probe("random d_h_t, h_t, h_{t−1}, W_hh", _draw),),
    solution=elman_step_backward,
    hint="Walk (E2) then (E1) backwards; tanh' is written with the output: 1 − h_t². "
    "Forward multiplied by W_hhᵀ, so backward multiplies by W_hh.",
)
