"""The state-tracking chapter: the negative-eigenvalue minGRU step, a_t = 1 − 2 z_t (MG1, MG3)."""

import torch

from learn.exercise import Exercise, Probe, Quantity, rand, size


def mingru_negative_step(x_z, h_tilde, h_prev):
    """One step of the minGRU whose transition reaches (−1, 1): a_t = 1 − 2 z_t, so that a
    symbol can flip the sign of h_t, which a parity needs.

    x_z: x̂_z (N, H); h_tilde: h̃_t = x̂_h (N, H); h_prev: h_{t−1} (N, H).
    Returns z (z_t), a (a_t) and h (h_t), each (N, H).
    """
    z = torch.sigmoid(x_z)  # (MG1) z_t = σ(x̂_z)
    a = 1 - 2 * z  # (MG3) a_t = 1 − 2 z_t, in (−1, 1)
    h = a * h_prev + z * h_tilde  # (MG3) h_t = a_t ⊙ h_{t−1} + z_t ⊙ h̃_t
    return z, a, h


def _draw(g):
    N, H = size(g, 1, 4), size(g, 2, 5)
    return {
        "x_z": rand(g, N, H, scale=2.0),
        "h_tilde": rand(g, N, H),
        "h_prev": rand(g, N, H),
    }


_AXES = ("row", "unit")
EXERCISE = Exercise(
    chapter="state",
    labels={
        "MG1": "z_t = σ(x̂_z)",
        "MG3": "h_t = (1 − 2 z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t",
    },
    returns=(
        Quantity("z", "MG1", _AXES, "x̂_z only: σ(x̂_z)"),
        Quantity("a", "MG3", _AXES, "z_t only: 1 − 2 z_t, negative when z_t > ½"),
        Quantity("h", "MG3", _AXES, "a_t ⊙ h_{t−1} plus z_t ⊙ h̃_t"),
    ),
    probes=(Probe("random x̂_z, h̃_t, h_{t−1}", _draw),),
    solution=mingru_negative_step,
    hint="The minGRU's a_t = 1 − z_t only reaches (0, 1); stretch it to (−1, 1). "
    "The input term z_t ⊙ h̃_t is the minGRU's own.",
)
