"""The text chapter: drawing the next character with a temperature (S1, S2)."""

import torch

from learn.exercise import Exercise, Probe, Quantity, rand, size, uniform


def sample_next(logits, temperature, u):
    """Draw one token per row from softmax(logits / temperature), by inverting the cumulative
    distribution with a uniform number u: the same u always gives the same token.

    logits: (N, V); temperature: a float > 0; u: (N,) uniform numbers in [0, 1).
    Returns probs (N, V) and ids (N,), the first id whose cumulative probability exceeds u.
    """
    probs = torch.softmax(logits / temperature, dim=1)  # (S1)
    cdf = probs.cumsum(dim=1)  # (N, V)
    ids = torch.searchsorted(cdf, u[:, None], right=True)[:, 0]  # (S2)
    return probs, ids.clamp(max=logits.shape[1] - 1)


def _draw(temperature: float):
    def draw(g):
        N, V = size(g, 2, 5), size(g, 3, 8)
        return {"logits": rand(g, N, V, scale=2.0), "temperature": temperature, "u": uniform(g, N)}

    return draw


EXERCISE = Exercise(
    chapter="text",
    labels={
        "S1": "p = softmax(logits / T) over the vocabulary",
        "S2": "id = the first k with p_0 + … + p_k > u",
    },
    returns=(
        Quantity(
            "probs",
            "S1",
            ("row", "token"),
            "the row's logits divided by T, then softmax along the vocabulary",
        ),
        Quantity(
            "ids",
            "S2",
            ("row",),
            "probs and u: the first token whose running sum of probs exceeds u",
            exact=True,
        ),
    ),
    probes=(
        Probe("temperature 0.5 (sharper)", _draw(0.5)),
        Probe("temperature 2.0 (flatter)", _draw(2.0)),
    ),
    solution=sample_next,
    hint="Divide, do not multiply, by the temperature. torch.cumsum then torch.searchsorted "
    "(right=True) finds the first running sum above u.",
)
