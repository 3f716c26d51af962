"""LSTM with variational (locked) dropout: one step forward, the same step backward.
Derivation: docs/variants.md#variational.

Gal & Ghahramani (2016), "A Theoretically Grounded Application of Dropout in Recurrent Neural
Networks": one dropout mask per sequence, drawn once and reused at every step, on the input x_t
and on the recurrent state h_{t−1} (never on c). Masks hold 0 or 1/(1 − p), as
torch.nn.functional.dropout scales them; at evaluation each is its expectation, 1. The input
mask m_x multiplies x_t before the input projection, which unroll.py does for all steps
(the declaration's input_mask); the step applies m_h and is the LSTM of lstm.py on h̃_{t−1}:

    x̂_t = (x_t ⊙ m_x) W_ihᵀ + b_ih + b_hh                       (V1, unroll.py)
    h̃_{t−1} = h_{t−1} ⊙ m_h                                       (V2)
    the LSTM step (L1–L7) on x̂_t, h̃_{t−1}, c_{t−1}
"""

from torch import Tensor

from scratch.declaration import Cell, Weights
from scratch.equations.lstm import lstm_step, lstm_step_backward
from scratch.fast.lstm import LSTM_LOOP


# --8<-- [start:variational_step]
def variational_step(x_proj: Tensor, state: tuple, w: Weights):
    """One step forward. w.masks["h"]: this step's rows of m_h (b_t, H)."""
    h_prev, c_prev = state
    h_dropped = h_prev * w.masks["h"]  # (V2) h̃_{t−1} = h_{t−1} ⊙ m_h
    return lstm_step(x_proj, (h_dropped, c_prev), w)  # (L1–L7) with h̃_{t−1} in a_t
    # --8<-- [end:variational_step]


def variational_step_backward(d_state: tuple, w: Weights, saved: tuple):
    """The LSTM's step backward, whose dL/dh̃_{t−1} goes back through m_h. W_hh's share is
    Σ_t d_a_tᵀ h̃_{t−1}, since the LSTM step saw h̃_{t−1}."""
    back = lstm_step_backward(d_state, w, saved)
    d_h_dropped, d_c_prev = back.d_state_prev
    d_h_prev = d_h_dropped * w.masks["h"]  # (V2) ∂h̃_{t−1}/∂h_{t−1} = m_h
    return back._replace(d_state_prev=(d_h_prev, d_c_prev))


# --8<-- [start:variational_cell]
VARIATIONAL_CELL = Cell(
    key="variational",
    about="LSTM with variational dropout on x and h",
    layer="VariationalLSTM",
    gates=("i", "f", "g", "o"),
    states=("h", "c"),
    x_proj_biases=("bias_ih", "bias_hh"),
    step=variational_step,
    step_backward=variational_step_backward,
    manual_loop=LSTM_LOOP,  # the LSTM's, told to read h_{t−1} through m_h (read_mask)
    masks={"x": "sequence", "h": "sequence"},  # m_x (N, I) and m_h (N, H), one row a sequence
    input_mask="x",  # (V1): unroll.py multiplies x_t by m_x before the projection
    read_mask="h",  # (V2): the manual loop reads h̃_{t−1} = h_{t−1} ⊙ m_h
)
# --8<-- [end:variational_cell]
