"""The cells chapter: the LSTM's cell-state line (L6)."""

import torch

from learn.exercise import Exercise, Probe, Quantity, rand, size, uniform


def lstm_cell_state(f, c_prev, i, g):
    """The LSTM's new cell state: keep part of c_{t−1}, write part of the candidate g_t.

    f, i: the forget and input gates (N, H), in (0, 1); c_prev: c_{t−1} (N, H); g: g_t (N, H).
    Returns c (N, H).
    """
    c = f * c_prev + i * g  # (L6) c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t
    return c


def _draw(g):
    N, H = size(g, 1, 4), size(g, 2, 5)
    return {
        "f": uniform(g, N, H),
        "c_prev": rand(g, N, H),
        "i": uniform(g, N, H),
        "g": torch.tanh(rand(g, N, H)),
    }


EXERCISE = Exercise(
    chapter="cells",
    labels={"L6": "c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t"},
    returns=(
        Quantity(
            "c",
            "L6",
            ("row", "unit"),
            "f_t times c_{t−1} (what is kept) plus i_t times g_t (what is written), elementwise",
        ),
    ),
    probes=(Probe("random gates in (0, 1), c_{t−1}, g_t", _draw),),
    solution=lstm_cell_state,
    hint="Two elementwise products and a sum: the forget gate scales the old cell, the input gate the candidate.",
)
