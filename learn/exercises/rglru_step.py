"""The RG-LRU chapter: the gate a_t = σ(Λ)^{c r_t}, the input scale √(1 − a_t²), the step (RG3–RG5)."""

import torch

from learn.exercise import Exercise, Probe, Quantity, rand, size, uniform


def rglru_step(r, i, u, h_prev, lam):
    """One RG-LRU step from its gates: the transition a_t, the input scale s_t, and h_t.

    r, i: the recurrence and input gates r_t, i_t (N, H), in (0, 1); u: u_t = x̂_u (N, H);
    h_prev: h_{t−1} (N, H); lam: Λ (H,). c = 8.
    Returns a (a_t), s (s_t) and h (h_t), each (N, H).
    """
    a = torch.sigmoid(lam) ** (8.0 * r)  # (RG3) a_t = σ(Λ)^{c r_t}, c = 8
    s = torch.sqrt(1 - a * a)  # (RG4) s_t = √(1 − a_t²)
    h = a * h_prev + s * (i * u)  # (RG5) h_t = a_t ⊙ h_{t−1} + s_t ⊙ (i_t ⊙ u_t)
    return a, s, h


def _draw(g):
    N, H = size(g, 1, 4), size(g, 2, 5)
    ring = uniform(g, H, lo=0.9, hi=0.999)  # σ(Λ), as the layer draws it
    return {
        "r": uniform(g, N, H),
        "i": uniform(g, N, H),
        "u": rand(g, N, H),
        "h_prev": rand(g, N, H),
        "lam": torch.log(ring / (1 - ring)),
    }


_AXES = ("row", "unit")
EXERCISE = Exercise(
    chapter="rglru",
    labels={
        "RG3": "a_t = σ(Λ)^{c r_t}",
        "RG4": "s_t = √(1 − a_t²)",
        "RG5": "h_t = a_t ⊙ h_{t−1} + s_t ⊙ (i_t ⊙ u_t)",
    },
    returns=(
        Quantity("a", "RG3", _AXES, "Λ and r_t: σ(Λ) to the power c r_t, with c = 8"),
        Quantity("s", "RG4", _AXES, "a_t only: √(1 − a_t²)"),
        Quantity("h", "RG5", _AXES, "a_t ⊙ h_{t−1} plus s_t ⊙ i_t ⊙ u_t"),
    ),
    probes=(Probe("random gates in (0, 1), u_t, h_{t−1}, σ(Λ) in (0.9, 0.999)", _draw),),
    solution=rglru_step,
    hint="σ(Λ) is a number in (0, 1) per unit; r_t (times c) only sets how many times it is "
    "multiplied by itself. s_t keeps h_t's size: a_t² + s_t² = 1.",
)
