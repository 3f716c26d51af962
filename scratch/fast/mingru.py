"""The minGRU's loop of bptt="manual": the equations of scratch/equations/mingru.py for all steps
at once, as the coefficients of h_t = a_t ⊙ h_{t−1} + b_t, which the parallel scan (scan.py) runs.
"""

import torch
from torch import Tensor

from scratch.fast import workspace
from scratch.fast.scan import scan_loop


def mingru_coefficients(x_proj: Tensor, a: Tensor, b: Tensor) -> tuple:
    """(MG1–MG3) for all rows at once as h_t = a_t ⊙ h_{t−1} + b_t: writes a and b (T_total, H).
    x̂_z is overwritten by z. Returns what the backward needs."""
    x_z, h_tilde = x_proj.chunk(2, dim=1)  # (MG2) h̃ = x̂_h
    z = x_z.sigmoid_()  # (MG1) z = σ(x̂_z)
    torch.sub(1, z, out=a)  # (MG3) a = 1 − z
    torch.mul(z, h_tilde, out=b)  # (MG3) b = z ⊙ h̃
    return z, h_tilde


def mingru_coefficients_backward(g: Tensor, h_prev: Tensor, saved: tuple) -> Tensor:
    """g = dL/dh_t and h_{t−1} of every row (from the scan) → dL/dx̂ (T_total, 2H)."""
    z, h_tilde = saved
    d_x_proj = workspace.empty(g, g.shape[0], 2 * g.shape[1])  # used up by layer_backward
    d_x_z, d_h_tilde = d_x_proj.chunk(2, dim=1)
    torch.sub(h_tilde, h_prev, out=d_x_z).mul_(g)  # (MG3) d_z = g ⊙ (h̃ − h_{t−1})
    d_x_z.mul_(z).addcmul_(d_x_z, z, value=-1)  # (MG1) ⊙ σ' = z (1 − z)
    torch.mul(g, z, out=d_h_tilde)  # (MG3) d_h̃ = g ⊙ z
    return d_x_proj


MINGRU_LOOP = scan_loop(mingru_coefficients, mingru_coefficients_backward)
