"""The layers chapter: backpropagation through time, the loop (B1 over E2 and E1)."""

import torch

from learn.exercise import Exercise, Probe, Quantity, rand, size


def elman_bptt(d_y, hs, h0, W_hh):
    """BPTT for a tanh Elman layer: walk the steps from last to first, carrying dL/dh back.

    d_y: dL/dy_t for every step (T, N, H), from the loss; hs: the outputs h_1 … h_T (T, N, H);
    h0: the initial state (N, H); W_hh: (H, H).
    Returns d_h (T, N, H), the total dL/dh_t of each step; d_a (T, N, H), which is also dL/dx̂;
    d_h0 (N, H); and d_W_hh (H, H), summed over the steps.
    """
    T = len(hs)
    h_prevs = torch.cat([h0[None], hs[:-1]])  # h_{t−1} of each step   (T, N, H)
    d_h, d_a = torch.zeros_like(hs), torch.zeros_like(hs)
    d_W_hh = torch.zeros_like(W_hh)
    d_carry = torch.zeros_like(h0)  # dL/dh_t arriving from step t+1: none after the last
    for t in reversed(range(T)):
        d_h[t] = d_y[t] + d_carry  # (B1) from the output at t and from step t+1
        d_a[t] = d_h[t] * (1 - hs[t] * hs[t])  # (E2) tanh' = 1 − h_t²
        d_W_hh += d_a[t].T @ h_prevs[t]  # (E1) d_W_hh = Σ_t d_a_tᵀ h_{t−1}
        d_carry = d_a[t] @ W_hh  # (E1) ∂a_t/∂h_{t−1} = W_hh
    return d_h, d_a, d_carry, d_W_hh


def _draw(g):
    T, N, H = size(g, 2, 5), size(g, 1, 3), size(g, 2, 4)
    return {
        "d_y": rand(g, T, N, H),
        "hs": torch.tanh(rand(g, T, N, H)),
        "h0": rand(g, N, H),
        "W_hh": rand(g, H, H),
    }


_AXES = ("step", "row", "unit")
EXERCISE = Exercise(
    chapter="layers",
    labels={
        "B1": "d_h_t = ∂L/∂y_t + d_h_t from step t+1 (which is d_a_{t+1} W_hh)",
        "E1": "a_t = x̂_t + h_{t−1} W_hhᵀ",
        "E2": "h_t = tanh(a_t)",
    },
    returns=(
        Quantity(
            "d_h",
            "B1",
            _AXES,
            "d_y at step t, plus d_a_{t+1} W_hh carried back from step t+1 (nothing at the last step)",
        ),
        Quantity("d_a", "E2", _AXES, "d_h_t of the same step and h_t: d_h_t ⊙ (1 − h_t²)"),
        Quantity("d_h0", "E1", ("row", "unit"), "the first step's d_a_1 and W_hh: d_a_1 W_hh"),
        Quantity(
            "d_W_hh",
            "E1",
            ("output unit", "input unit"),
            "every step's d_a_tᵀ h_{t−1}, summed: h_{t−1} is h0 at the first step, the step before after",
        ),
    ),
    probes=(Probe("random d_y, h_1 … h_T, h_0, W_hh", _draw),),
    solution=elman_bptt,
    walk="backward",
    hint="Walk t = T−1 … 0. At each step add what arrives from the output to what step t+1 sent "
    "back, apply tanh', then send d_a_t W_hh on to step t−1.",
)
