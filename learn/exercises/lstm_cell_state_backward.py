"""The cells chapter: the derivative of the LSTM's cell-state line (L7, then L6)."""

import torch

from learn.exercise import Exercise, Probe, Quantity, rand, size, uniform


def lstm_cell_state_backward(d_m, d_c_next, o, tanh_c, i, f, g, c_prev):
    """Backward through m_t = o_t ⊙ tanh(c_t) and c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t.

    d_m: dL/dm_t (N, H); d_c_next: dL/dc_t arriving from step t+1 (N, H); o, i, f, g: the gates
    (N, H); tanh_c: tanh(c_t) (N, H); c_prev: c_{t−1} (N, H).
    Returns d_o, d_c (dL/dc_t, both paths), d_i, d_f, d_g and d_c_prev, each (N, H).
    """
    d_o = d_m * tanh_c  # (L7) ∂m_t/∂o_t = tanh(c_t)
    d_c = d_c_next + d_m * o * (1 - tanh_c * tanh_c)  # (L7) ∂m_t/∂c_t = o_t ⊙ (1 − tanh² c_t)
    d_i = d_c * g  # (L6) ∂c_t/∂i_t = g_t
    d_f = d_c * c_prev  # (L6) ∂c_t/∂f_t = c_{t−1}
    d_g = d_c * i  # (L6) ∂c_t/∂g_t = i_t
    d_c_prev = d_c * f  # (L6) ∂c_t/∂c_{t−1} = f_t
    return d_o, d_c, d_i, d_f, d_g, d_c_prev


def _draw(gen):
    N, H = size(gen, 1, 4), size(gen, 2, 5)
    gates = {name: uniform(gen, N, H) for name in ("o", "i", "f")}
    return {
        "d_m": rand(gen, N, H),
        "d_c_next": rand(gen, N, H),
        "tanh_c": torch.tanh(rand(gen, N, H)),
        "g": torch.tanh(rand(gen, N, H)),
        "c_prev": rand(gen, N, H),
        **gates,
    }


_AXES = ("row", "unit")
EXERCISE = Exercise(
    chapter="cells",
    labels={"L6": "c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t", "L7": "m_t = o_t ⊙ tanh(c_t)"},
    returns=(
        Quantity("d_o", "L7", _AXES, "d_m_t and tanh(c_t): d_m_t ⊙ tanh(c_t)"),
        Quantity(
            "d_c",
            "L7",
            _AXES,
            "two paths added: d_c from step t+1, plus d_m_t ⊙ o_t ⊙ (1 − tanh² c_t)",
        ),
        Quantity("d_i", "L6", _AXES, "the total d_c_t and g_t: d_c_t ⊙ g_t"),
        Quantity("d_f", "L6", _AXES, "the total d_c_t and c_{t−1}: d_c_t ⊙ c_{t−1}"),
        Quantity("d_g", "L6", _AXES, "the total d_c_t and i_t: d_c_t ⊙ i_t"),
        Quantity(
            "d_c_prev",
            "L6",
            _AXES,
            "the total d_c_t (both paths) and f_t only: d_c_t ⊙ f_t",
        ),
    ),
    probes=(Probe("random gates in (0, 1), d_m_t, d_c from step t+1", _draw),),
    solution=lstm_cell_state_backward,
    hint="c_t reaches the loss two ways (through m_t now, through c_{t+1} later): add both first, "
    "then every line of (L6) uses that total.",
)
