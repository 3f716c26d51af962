"""The patterns chapter: additive attention's scores, weights and context (A1–A3)."""

import torch

from learn.exercise import Exercise, Probe, Quantity, rand, size


def attention(query, keys, memory, mask, W_s, v):
    """Additive (Bahdanau) attention for one decoder step: score every memory position, turn the
    scores into weights over the real (unpadded) positions, read the weighted memory.

    query: s_{t−1} (N, H); keys: W_h m_j for every position (N, S, A); memory: m (N, S, M);
    mask: (N, S), True at real positions, False at padding; W_s: (A, H); v: (A,).
    Returns e (N, S), the scores of every position, padding included; alpha (N, S); context (N, M).
    """
    e = torch.tanh(keys + (query @ W_s.T)[:, None]) @ v  # (A1)   (N, S)
    alpha = torch.softmax(e.masked_fill(~mask, float("-inf")), dim=1)  # (A2)
    context = (alpha[:, :, None] * memory).sum(dim=1)  # (A3)   (N, M)
    return e, alpha, context


def _draw(square: bool):
    def draw(g):
        N, S, H, M = size(g, 2, 4), size(g, 3, 6), size(g, 2, 4), size(g, 2, 3)
        A = H if square else H + 1
        lengths = torch.randint(1, S, (N,), generator=g)
        lengths[0] = S  # one full row, the others padded
        return {
            "query": rand(g, N, H),
            "keys": rand(g, N, S, A),
            "memory": rand(g, N, S, M),
            "mask": torch.arange(S)[None] < lengths[:, None],
            "W_s": rand(g, A, H),
            "v": rand(g, A),
        }

    return draw


EXERCISE = Exercise(
    chapter="patterns",
    labels={
        "A1": "e_{t,j} = vᵀ tanh(W_s s_{t−1} + W_h m_j)",
        "A2": "α_t = softmax_j(e_{t,j}) over the real positions j; 0 at padding",
        "A3": "c_t = Σ_j α_{t,j} m_j",
    },
    returns=(
        Quantity(
            "e",
            "A1",
            ("row", "position"),
            "the query through W_s added to each position's key, tanh, then the dot product with v",
        ),
        Quantity(
            "alpha",
            "A2",
            ("row", "position"),
            "the row's scores e, softmax over the positions (not the rows), padding masked out first",
        ),
        Quantity(
            "context",
            "A3",
            ("row", "unit"),
            "the memory rows weighted by alpha, summed over positions",
        ),
    ),
    probes=(
        Probe("padded rows, W_s square (A = H)", _draw(True)),
        Probe("padded rows, W_s not square (A = H + 1)", _draw(False)),
    ),
    solution=attention,
    hint="Rows times transposed weights, as torch.nn.Linear: query @ W_s.T. Mask with -inf before "
    "the softmax, so padding gets weight exactly 0 and the real positions still sum to 1.",
)
