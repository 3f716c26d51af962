"""Layer normalisation over each row, one function forward and one backward. Derivation:
docs/variants.md#lnlstm.

    LN(z; γ, β) = γ ⊙ ẑ + β,   ẑ = (z − μ) ρ,   ρ = 1/√(σ² + ε)                 (N0)

with μ and σ² the mean and the biased variance of the row and ε = 1e-5: what
torch.nn.LayerNorm computes (Ba, Kiros & Hinton (2016), eq (3), has no ε). The backward,
from ∂ẑ_j/∂z_k = ρ (δ_jk − 1/D − ẑ_j ẑ_k / D):

    dL/dz = ρ (d_ẑ − mean(d_ẑ) − ẑ ⊙ mean(d_ẑ ⊙ ẑ)),   d_ẑ = γ ⊙ dL/dy
"""

import torch
from torch import Tensor

EPS = 1e-5  # torch.nn.LayerNorm's default


# --8<-- [start:layer_norm]
def layer_norm(z: Tensor, gain: Tensor, bias: Tensor):
    """LN over each row of z (N, D). Returns y (N, D) and (ẑ, ρ), what the backward needs."""
    mu = z.mean(1, keepdim=True)  # (N0) μ = mean of the row                          (N, 1)
    centred = z - mu
    rstd = torch.rsqrt(centred.pow(2).mean(1, keepdim=True) + EPS)  # (N0) ρ = 1/√(σ² + ε)
    z_hat = centred * rstd  # (N0) ẑ = (z − μ) ρ
    return torch.addcmul(bias, z_hat, gain), (z_hat, rstd)  # (N0) y = γ ⊙ ẑ + β
    # --8<-- [end:layer_norm]


def layer_norm_backward(d_y: Tensor, gain: Tensor, saved: tuple):
    """dL/dz (N, D) and the shares of γ and β, from dL/dy and what layer_norm saved."""
    z_hat, rstd = saved
    d_z_hat = d_y * gain  # (N0) ∂y/∂ẑ = γ
    # (N0) ∂ẑ/∂z through z − μ and ρ: dL/dz = ρ (d_ẑ − mean(d_ẑ) − ẑ ⊙ mean(d_ẑ ⊙ ẑ))
    mean_d = d_z_hat.mean(1, keepdim=True)
    mean_dz = (d_z_hat * z_hat).mean(1, keepdim=True)
    d_z = (d_z_hat - mean_d - z_hat * mean_dz) * rstd
    return d_z, (d_y * z_hat).sum(0), d_y.sum(0)  # (N0) ∂y/∂γ = ẑ, ∂y/∂β = 1
