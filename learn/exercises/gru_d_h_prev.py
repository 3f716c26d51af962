"""The cells chapter: the GRU's dL/dh_{t−1}, through z_t, r_t, n_t and directly (G1–G5)."""

import torch

from learn.exercise import Exercise, Probe, Quantity, rand, size, uniform


def gru_d_h_prev(d_h, r, z, n, h_n, h_prev, W_hh):
    """The GRU's dL/dh_{t−1}: the direct path of (G5) plus the paths through r_t, z_t and n_t.

    d_h: dL/dh_t (N, H); r, z: the reset and update gates (N, H); n: the candidate n_t (N, H);
    h_n: ĥ_n, the n block of h_{t−1} W_hhᵀ + b_hh (N, H); h_prev: h_{t−1} (N, H);
    W_hh: (3H, H), the blocks r, z, n stacked as torch.nn.GRU does. Returns d_h_prev (N, H).
    """
    d_n = d_h * (1 - z)  # (G5) ∂h_t/∂n_t = 1 − z_t
    d_z = d_h * (h_prev - n)  # (G5) ∂h_t/∂z_t = h_{t−1} − n_t
    d_a_n = d_n * (1 - n * n)  # (G4) tanh' = 1 − n_t²
    d_r = d_a_n * h_n  # (G4) ∂a_n/∂r_t = ĥ_n
    d_a_r = d_r * r * (1 - r)  # (G2) σ' = r_t (1 − r_t)
    d_a_z = d_z * z * (1 - z)  # (G3) σ' = z_t (1 − z_t)
    d_h_proj = torch.cat([d_a_r, d_a_z, d_a_n * r], dim=1)  # (G4) ∂a_n/∂ĥ_n = r_t
    d_h_prev = d_h * z + d_h_proj @ W_hh  # (G5) ∂h_t/∂h_{t−1} = z_t, + (G1) through ĥ_t
    return d_h_prev


def _draw(keep: str):
    """Inputs whose W_hh keeps only the blocks named in ``keep`` (of "rzn"): one path at a time."""

    def draw(g):
        N, H = size(g, 1, 4), size(g, 2, 5)
        W_hh = rand(g, 3 * H, H)
        for k, gate in enumerate("rzn"):
            if gate not in keep:
                W_hh[k * H : (k + 1) * H] = 0
        return {
            "d_h": rand(g, N, H),
            "r": uniform(g, N, H),
            "z": uniform(g, N, H),
            "n": torch.tanh(rand(g, N, H)),
            "h_n": rand(g, N, H),
            "h_prev": rand(g, N, H),
            "W_hh": W_hh,
        }

    return draw


EXERCISE = Exercise(
    chapter="cells",
    labels={
        "G1": "ĥ_t = h_{t−1} W_hhᵀ + b_hh, split into ĥ_r, ĥ_z, ĥ_n",
        "G2": "r_t = σ(x̂_r + ĥ_r)",
        "G3": "z_t = σ(x̂_z + ĥ_z)",
        "G4": "n_t = tanh(x̂_n + r_t ⊙ ĥ_n)",
        "G5": "h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}",
    },
    returns=(
        Quantity(
            "d_h_prev",
            "G1",
            ("row", "unit"),
            "d_h_t ⊙ z_t, plus [d_a_r, d_a_z, d_a_n ⊙ r_t] W_hh over all three blocks of W_hh",
        ),
    ),
    probes=(
        Probe(
            "W_hh = 0, so only the direct path of (G5) is left",
            _draw(""),
            "G5",
            "d_h_t ⊙ z_t: (G5) holds h_{t−1} directly, weighted by z_t",
        ),
        Probe(
            "only W_hh's z block is nonzero: the direct path and the path through z_t",
            _draw("z"),
            "G3",
            "d_a_z W_hz, where d_a_z = d_h_t ⊙ (h_{t−1} − n_t) ⊙ z_t (1 − z_t)",
        ),
        Probe(
            "only W_hh's r block is nonzero: the direct path and the path through r_t",
            _draw("r"),
            "G2",
            "d_a_r W_hr, where d_a_r = d_h_t ⊙ (1 − z_t) ⊙ (1 − n_t²) ⊙ ĥ_n ⊙ r_t (1 − r_t)",
        ),
        Probe(
            "only W_hh's n block is nonzero: the direct path and the path through n_t",
            _draw("n"),
            "G4",
            "(d_a_n ⊙ r_t) W_hn, where d_a_n = d_h_t ⊙ (1 − z_t) ⊙ (1 − n_t²)",
        ),
        Probe("all of W_hh", _draw("rzn")),
    ),
    solution=gru_d_h_prev,
    hint="Four paths lead from h_{t−1} to h_t: directly (z_t), and through ĥ into r_t, z_t and n_t. "
    "Stack the three gates' pre-activation gradients as W_hh stacks them, then one product with W_hh.",
)
