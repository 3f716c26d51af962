"""The cells page (docs/cells.md), as code you can run: one LSTM step forward with
scratch/equations/lstm.py's lstm_step, the same step backward with lstm_step_backward, and the
gradients it returns checked against autograd through the forward step.

    python -m docs.code.cells

prints what docs/code/cells_check.txt holds; tests/test_docs.py runs it and compares.
"""

import torch

from scratch.declaration import Weights
from scratch.equations.lstm import lstm_step, lstm_step_backward


def check_lstm_step() -> None:
    torch.manual_seed(0)
    # --8<-- [start:lstm_check]
    N, H = 3, 5  # batch, hidden units
    f64 = {"dtype": torch.float64, "requires_grad": True}
    x_proj = torch.randn(N, 4 * H, **f64)  # x̂_t = x_t W_ihᵀ + b_ih + b_hh, made by the loop
    h_prev, c_prev = torch.randn(N, H, **f64), torch.randn(N, H, **f64)
    w = Weights(W_ih=None, W_hh=torch.randn(4 * H, H, **f64))

    (h, c), saved = lstm_step(x_proj, (h_prev, c_prev), w)
    print("forward: h_t", tuple(h.shape), " c_t", tuple(c.shape))

    d_h, d_c = torch.randn(N, H, dtype=torch.float64), torch.randn(N, H, dtype=torch.float64)
    back = lstm_step_backward((d_h, d_c), w, saved)  # by hand, one line per derivative
    d_W_hh = back.d_weights["weight_hh"].d.T @ back.d_weights["weight_hh"].v  # Σ d_aᵀ h_{t−1}

    torch.autograd.backward([h, c], [d_h, d_c])  # autograd, through the forward step
    for name, ours, theirs in [
        ("d_x_proj", back.d_x_proj, x_proj.grad),
        ("d_h_prev", back.d_state_prev[0], h_prev.grad),
        ("d_c_prev", back.d_state_prev[1], c_prev.grad),
        ("d_W_hh", d_W_hh, w.W_hh.grad),
    ]:
        same = torch.allclose(ours, theirs, rtol=0, atol=1e-12)
        print(f"backward: {name:8} {tuple(ours.shape)} equals autograd's: {same}")
    # --8<-- [end:lstm_check]


PARTS = {"check": check_lstm_step}


def main() -> None:
    for part in PARTS.values():
        part()


if __name__ == "__main__":
    main()
