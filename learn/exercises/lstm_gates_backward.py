"""The cells chapter: the LSTM's gate pre-activations, backward (L2–L5, one per gate block)."""

import torch

from learn.exercise import Exercise, Probe, Quantity, rand, size, uniform


def lstm_gates_backward(d_i, d_f, d_g, d_o, i, f, g, o):
    """From the gradients of the four gates to that of their pre-activations a_t, stacked in
    torch.nn's order i, f, g, o: through σ for i, f and o, through tanh for g.

    d_i, d_f, d_g, d_o: dL/d(gate) (N, H); i, f, o: the sigmoid gates (N, H); g: the tanh
    candidate (N, H). Returns d_a (N, 4H).
    """
    d_a = torch.cat(
        [
            d_i * i * (1 - i),  # (L2) σ'(a) = σ(a)(1 − σ(a))
            d_f * f * (1 - f),  # (L3)
            d_g * (1 - g * g),  # (L4) tanh'(a) = 1 − tanh²(a)
            d_o * o * (1 - o),  # (L5)
        ],
        dim=1,
    )
    return d_a


def _draw(gen):
    N, H = size(gen, 1, 4), size(gen, 2, 5)
    return {
        **{f"d_{k}": rand(gen, N, H) for k in "ifgo"},
        **{k: uniform(gen, N, H) for k in "ifo"},
        "g": torch.tanh(rand(gen, N, H)),
    }


EXERCISE = Exercise(
    chapter="cells",
    labels={
        "L2": "i_t = σ(a_i)",
        "L3": "f_t = σ(a_f)",
        "L4": "g_t = tanh(a_g)",
        "L5": "o_t = σ(a_o)",
    },
    returns=(
        Quantity(
            "d_a",
            "L2",
            ("row", "gate"),
            "each gate's gradient times its own derivative, written with its output: "
            "σ' = s(1 − s) for i, f, o; tanh' = 1 − g² for g; blocks in the order i, f, g, o",
            gates=("i", "f", "g", "o"),
            gate_labels=("L2", "L3", "L4", "L5"),
        ),
    ),
    probes=(Probe("random gates and gate gradients", _draw),),
    solution=lstm_gates_backward,
    hint="Three sigmoids and one tanh; each derivative is written with the gate's own value. "
    "torch.cat along dim=1 in torch.nn's order i, f, g, o.",
)
