"""The minimal-RNNs chapter: the minGRU step backward (MG3, MG1, MG2)."""

import torch

from learn.exercise import Exercise, Probe, Quantity, rand, size, uniform


def mingru_step_backward(d_h, z, h_tilde, h_prev):
    """The minGRU step backward, h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t with z_t = σ(x̂_z), h̃_t = x̂_h.

    d_h: dL/dh_t (N, H); z: z_t (N, H); h_tilde: h̃_t (N, H); h_prev: h_{t−1} (N, H).
    Returns d_z, d_x_z (dL/dx̂_z), d_x_h (dL/dx̂_h) and d_h_prev, each (N, H).
    """
    d_z = d_h * (h_tilde - h_prev)  # (MG3) ∂h_t/∂z_t = h̃_t − h_{t−1}
    d_x_z = d_z * z * (1 - z)  # (MG1) σ' = z_t (1 − z_t)
    d_x_h = d_h * z  # (MG2) ∂h̃_t/∂x̂_h = 1, after (MG3) ∂h_t/∂h̃_t = z_t
    d_h_prev = d_h * (1 - z)  # (MG3) ∂h_t/∂h_{t−1} = 1 − z_t
    return d_z, d_x_z, d_x_h, d_h_prev


def _draw(g):
    N, H = size(g, 1, 4), size(g, 2, 5)
    return {
        "d_h": rand(g, N, H),
        "z": uniform(g, N, H),
        "h_tilde": rand(g, N, H),
        "h_prev": torch.tanh(rand(g, N, H)),
    }


_AXES = ("row", "unit")
EXERCISE = Exercise(
    chapter="minimal",
    labels={
        "MG1": "z_t = σ(x̂_z)",
        "MG2": "h̃_t = x̂_h",
        "MG3": "h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t",
    },
    returns=(
        Quantity("d_z", "MG3", _AXES, "d_h_t ⊙ (h̃_t − h_{t−1})"),
        Quantity("d_x_z", "MG1", _AXES, "d_z and z_t: d_z ⊙ z_t (1 − z_t)"),
        Quantity("d_x_h", "MG2", _AXES, "d_h_t ⊙ z_t: h̃_t is x̂_h itself, no tanh"),
        Quantity("d_h_prev", "MG3", _AXES, "d_h_t ⊙ (1 − z_t): no matrix on the way back"),
    ),
    probes=(Probe("random d_h_t, z_t in (0, 1), h̃_t, h_{t−1}", _draw),),
    solution=mingru_step_backward,
    hint="Every line is elementwise: the minGRU has no W_hh. z_t weighs h̃_t, 1 − z_t weighs h_{t−1}.",
)
