"""The variants chapter: the peephole LSTM's dL/dc_{t−1} (P5, P2, P3)."""

from learn.exercise import Exercise, Probe, Quantity, rand, size, uniform


def peephole_d_c_prev(d_c, f, d_a_i, d_a_f, w_ci, w_cf):
    """The peephole LSTM's dL/dc_{t−1}: through the cell-state line, and through the input and
    forget gates, which read c_{t−1} by their peepholes.

    d_c: dL/dc_t, total (N, H); f: the forget gate (N, H); d_a_i, d_a_f: the gradients of the
    input and forget gates' pre-activations (N, H); w_ci, w_cf: the peepholes (H,).
    Returns d_c_prev (N, H).
    """
    d_c_prev = d_c * f + d_a_i * w_ci + d_a_f * w_cf  # (P5), (P2), (P3)
    return d_c_prev


def _draw(paths: str):
    """Inputs whose gradient arrives only along the paths named in ``paths`` ("c" the cell-state
    line, "i" and "f" the gates): the other incoming gradients are zero."""

    def draw(g):
        N, H = size(g, 1, 4), size(g, 2, 5)
        return {
            "d_c": rand(g, N, H) * ("c" in paths),
            "f": uniform(g, N, H),
            "d_a_i": rand(g, N, H) * ("i" in paths),
            "d_a_f": rand(g, N, H) * ("f" in paths),
            "w_ci": rand(g, H),
            "w_cf": rand(g, H),
        }

    return draw


EXERCISE = Exercise(
    chapter="variants",
    labels={
        "P2": "i_t = σ(a_i + w_ci ⊙ c_{t−1})",
        "P3": "f_t = σ(a_f + w_cf ⊙ c_{t−1})",
        "P5": "c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t",
    },
    returns=(
        Quantity(
            "d_c_prev",
            "P5",
            ("row", "unit"),
            "d_c_t ⊙ f_t + d_a_i ⊙ w_ci + d_a_f ⊙ w_cf",
        ),
    ),
    probes=(
        Probe(
            "d_a_i = d_a_f = 0: only the cell-state line",
            _draw("c"),
            "P5",
            "d_c_t ⊙ f_t: (P5) holds c_{t−1} times f_t",
        ),
        Probe(
            "d_c = d_a_f = 0: only the input gate's path, through w_ci",
            _draw("i"),
            "P2",
            "d_a_i ⊙ w_ci: (P2) reads c_{t−1} through w_ci",
        ),
        Probe(
            "d_c = d_a_i = 0: only the forget gate's path, through w_cf",
            _draw("f"),
            "P3",
            "d_a_f ⊙ w_cf: (P3) reads c_{t−1} through w_cf",
        ),
        Probe("all three paths", _draw("cif")),
    ),
    solution=peephole_d_c_prev,
    hint="c_{t−1} appears in three equations (P2, P3, P5): its gradient is the sum of three terms. "
    "The peepholes are diagonal: elementwise products, no matrix.",
)
