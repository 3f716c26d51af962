"""The gradient-flow chapter: clipping the gradients by their global norm (GN1, GN2)."""

import torch

from learn.exercise import Exercise, Probe, Quantity, rand, size


def clip_grad_norm(grads, max_norm):
    """Rescale a model's gradients together so that their global L2 norm is at most max_norm;
    their direction is kept. (torch.nn.utils.clip_grad_norm_ does this in place, with 1e-6
    added to the norm against a division by zero.)

    grads: a list of tensors of any shapes; max_norm: a float > 0.
    Returns norm, the global norm before clipping (0-d), and the list of clipped tensors.
    """
    norm = torch.stack([(g * g).sum() for g in grads]).sum().sqrt()  # (GN1)
    scale = (max_norm / norm).clamp(max=1.0)  # (GN2)
    return norm, [g * scale for g in grads]


def _draw(spread: float):
    def draw(g):
        shapes = [(size(g, 1, 4), size(g, 1, 4)) for _ in range(size(g, 2, 4))]
        return {"grads": [rand(g, *s, scale=spread) for s in shapes], "max_norm": 1.0}

    return draw


EXERCISE = Exercise(
    chapter="gradients",
    labels={
        "GN1": "‖g‖ = sqrt(Σ over every tensor and entry of g²), one norm for the whole model",
        "GN2": "g ← g · min(1, max_norm / ‖g‖)",
    },
    returns=(
        Quantity(
            "norm", "GN1", (), "every entry of every tensor: the square root of their squares' sum"
        ),
        Quantity(
            "grads",
            "GN2",
            ("index",),
            "each tensor times one shared factor min(1, max_norm / ‖g‖): unchanged below the threshold",
        ),
    ),
    probes=(
        Probe("gradients far above max_norm", _draw(3.0)),
        Probe("gradients below max_norm: nothing to clip", _draw(0.05)),
    ),
    solution=clip_grad_norm,
    hint="One norm over all tensors together, not one per tensor; and never scale up.",
)
