"""The patterns chapter: one teacher-forced step of a decoder (D1–D4)."""

import torch

from learn.exercise import Exercise, Probe, Quantity, rand, size


def decoder_step(y_true, y_guess, teacher, h_prev, embedding, W_ih, W_hh, b, W_out, b_out):
    """One decoder step: choose the token to read (the true one where the teacher coin says so,
    the decoder's own guess elsewhere), embed it, step a tanh Elman cell, score the next token.

    y_true, y_guess: the true previous token and the decoder's guess for it (N,) (ints);
    teacher: (N,) bools; h_prev: s_{t−1} (N, H); embedding: (V, E); W_ih: (H, E); W_hh: (H, H);
    b: (H,); W_out: (V, H); b_out: (V,).
    Returns y_prev (N,), x (N, E), h (N, H) and logits (N, V).
    """
    y_prev = torch.where(teacher, y_true, y_guess)  # (D1)
    x = embedding[y_prev]  # (D2)   (N, E)
    h = torch.tanh(x @ W_ih.T + h_prev @ W_hh.T + b)  # (D3)   (N, H)
    logits = h @ W_out.T + b_out  # (D4)   (N, V)
    return y_prev, x, h, logits


def _draw(g):
    N, V, E, H = size(g, 2, 5), size(g, 4, 7), size(g, 2, 4), size(g, 2, 4)
    return {
        "y_true": torch.randint(V, (N,), generator=g),
        "y_guess": torch.randint(V, (N,), generator=g),
        "teacher": torch.rand(N, generator=g) < 0.5,
        "h_prev": rand(g, N, H),
        "embedding": rand(g, V, E),
        "W_ih": rand(g, H, E),
        "W_hh": rand(g, H, H),
        "b": rand(g, H),
        "W_out": rand(g, V, H),
        "b_out": rand(g, V),
    }


EXERCISE = Exercise(
    chapter="patterns",
    labels={
        "D1": "y_{t−1} = the true token where the teacher coin is heads, the decoder's guess elsewhere",
        "D2": "x_t = embed(y_{t−1})",
        "D3": "s_t = tanh(x_t W_ihᵀ + s_{t−1} W_hhᵀ + b)",
        "D4": "logits_t = s_t W_outᵀ + b_out",
    },
    returns=(
        Quantity(
            "y_prev",
            "D1",
            ("row",),
            "the coin: y_true where teacher is True, y_guess where it is False",
            exact=True,
        ),
        Quantity("x", "D2", ("row", "unit"), "the chosen token's row of the embedding table"),
        Quantity(
            "h",
            "D3",
            ("row", "unit"),
            "this step's x_t through W_ih and the previous state s_{t−1} through W_hh",
        ),
        Quantity("logits", "D4", ("row", "token"), "the new state s_t (not s_{t−1}) through W_out"),
    ),
    probes=(Probe("random tokens, coins, state and weights", _draw),),
    solution=decoder_step,
    hint="torch.where picks per row. The logits score the *next* token, so they read the state "
    "this step has just computed.",
)
