"""minLSTM cell (Feng et al. 2024, "Were RNNs All We Needed?", §3): one step forward, the same
step backward. The same equations for all steps at once, as the scan's coefficients, are in
scratch/fast/minlstm.py.
Derivation, and the LSTM it comes from: docs/minimal.md#minlstm.

Gate order i, f, h̃ (torch.nn.LSTM's i, f, g, with o gone). x̂_t = x_t W_ihᵀ + b_ih for all t is
the whole input side: no gate reads h_{t−1}, so there is no W_hh, and no cell state apart from h.

    i_t = σ(x̂_i)                                  input gate, from x_t only    (ML1)
    f_t = σ(x̂_f)                                  forget gate, from x_t only   (ML2)
    h̃_t = x̂_h                                     candidate, no tanh           (ML3)
    f′_t = f_t / (f_t + i_t),  i′_t = i_t / (f_t + i_t)   so f′ + i′ = 1       (ML4)
    h_t = f′_t ⊙ h_{t−1} + i′_t ⊙ h̃_t                                           (ML5)

(ML4) keeps h_t a convex mixture, so its scale does not grow with t (the paper's "time-
independent in scale"). (ML5) is h_t = a_t ⊙ h_{t−1} + b_t with a_t = f′_t, b_t = i′_t ⊙ h̃_t.
"""

import torch
from torch import Tensor

from scratch.declaration import Cell, StepBackward, Weights
from scratch.fast.minlstm import MINLSTM_LOOP


def minlstm_step(x_proj: Tensor, state: tuple, w: Weights):
    """One step forward. Returns (h_t,) (N, H) and what the backward step needs."""
    (h_prev,) = state
    x_i, x_f, h_tilde = x_proj.chunk(3, dim=1)  # (ML3) h̃_t = x̂_h                    (N, H)
    i = torch.sigmoid(x_i)  # (ML1) i_t = σ(x̂_i)
    f = torch.sigmoid(x_f)  # (ML2) f_t = σ(x̂_f)
    f_n, i_n = f / (f + i), i / (f + i)  # (ML4) f′_t, i′_t = f_t, i_t / (f_t + i_t)
    h = f_n * h_prev + i_n * h_tilde  # (ML5) h_t = f′_t ⊙ h_{t−1} + i′_t ⊙ h̃_t
    return (h,), (i, f, f_n, i_n, h_tilde, h_prev)


def minlstm_step_backward(d_state: tuple, w: Weights, saved: tuple):
    """d_state: (dL/dh_t,), from the output at t and from step t+1.

    Returns dL/dx̂_t (N, 3H) and dL/dh_{t−1}; no weight shares (no weight is inside the step).
    """
    (d_h,), (i, f, f_n, i_n, h_tilde, h_prev) = d_state, saved
    d_f_n = d_h * h_prev  # (ML5) ∂h_t/∂f′_t = h_{t−1}
    d_i_n = d_h * h_tilde  # (ML5) ∂h_t/∂i′_t = h̃_t
    d_h_tilde = d_h * i_n  # (ML5) ∂h_t/∂h̃_t = i′_t; (ML3) ∂h̃_t/∂x̂_h = 1
    d_h_prev = d_h * f_n  # (ML5) ∂h_t/∂h_{t−1} = f′_t
    # (ML4) ∂f′/∂f = i/(f+i)² = −∂i′/∂f and ∂i′/∂i = f/(f+i)² = −∂f′/∂i, so with
    # u = (d_f′ − d_i′) ⊙ f′ ⊙ i′:  d_f ⊙ f(1 − f) = u ⊙ (1 − f),  d_i ⊙ i(1 − i) = −u ⊙ (1 − i)
    u = (d_f_n - d_i_n) * f_n * i_n
    d_x_i = -u * (1 - i)  # (ML4, ML1) σ' = i_t (1 − i_t)
    d_x_f = u * (1 - f)  # (ML4, ML2) σ' = f_t (1 − f_t)
    return StepBackward(torch.cat([d_x_i, d_x_f, d_h_tilde], dim=1), (d_h_prev,), {}, (d_h,))


MINLSTM_CELL = Cell(
    key="minlstm",
    about="minLSTM, trained by a parallel scan",
    layer="MinLSTM",
    gates=("i", "f", "h"),
    states=("h",),
    x_proj_biases=("bias_ih",),
    step=minlstm_step,
    step_backward=minlstm_step_backward,
    manual_loop=MINLSTM_LOOP,
    kinds=("weight_ih", "bias_ih"),  # no W_hh, no b_hh: nothing reads h_{t−1} but (ML5)
)
