"""The minLSTM's loop of bptt="manual": the equations of scratch/equations/minlstm.py for all steps
at once, as the coefficients of h_t = a_t ⊙ h_{t−1} + b_t, which the parallel scan (scan.py) runs.
"""

import torch
from torch import Tensor

from scratch.fast import workspace
from scratch.fast.scan import scan_loop


def minlstm_coefficients(x_proj: Tensor, a: Tensor, b: Tensor) -> tuple:
    """(ML1–ML5) for all rows at once as h_t = a_t ⊙ h_{t−1} + b_t: writes a and b (T_total, H).
    x̂_i, x̂_f are overwritten by i, f. Returns what the backward needs."""
    i, f, h_tilde = x_proj.chunk(3, dim=1)  # (ML3) h̃ = x̂_h
    x_proj[:, : 2 * a.shape[1]].sigmoid_()  # (ML1, ML2) i = σ(x̂_i), f = σ(x̂_f), in place
    total = f + i
    f_n = torch.div(f, total, out=a)  # (ML4) a = f′ = f / (f + i)
    i_n = total.reciprocal_().mul_(i)  # (ML4) i′ = i / (f + i)
    torch.mul(i_n, h_tilde, out=b)  # (ML5) b = i′ ⊙ h̃
    return i, f, f_n, i_n, h_tilde


def minlstm_coefficients_backward(g: Tensor, h_prev: Tensor, saved: tuple) -> Tensor:
    """g = dL/dh_t and h_{t−1} of every row (from the scan) → dL/dx̂ (T_total, 3H)."""
    i, f, f_n, i_n, h_tilde = saved
    d_x_proj = workspace.empty(g, g.shape[0], 3 * g.shape[1])  # used up by layer_backward
    d_x_i, d_x_f, d_h_tilde = d_x_proj.chunk(3, dim=1)
    # (ML5) d_f′ = g ⊙ h_{t−1}, d_i′ = g ⊙ h̃; (ML4) u = (d_f′ − d_i′) ⊙ f′ ⊙ i′, as in the step
    u = torch.sub(h_prev, h_tilde).mul_(g).mul_(f_n).mul_(i_n)
    torch.addcmul(u, u, i, value=-1, out=d_x_i).neg_()  # (ML1) −u ⊙ (1 − i)
    torch.addcmul(u, u, f, value=-1, out=d_x_f)  # (ML2) u ⊙ (1 − f)
    torch.mul(g, i_n, out=d_h_tilde)  # (ML5, ML3) d_h̃ = g ⊙ i′
    return d_x_proj


MINLSTM_LOOP = scan_loop(minlstm_coefficients, minlstm_coefficients_backward)
