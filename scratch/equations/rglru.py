"""RG-LRU cell (De et al. 2024, "Griffin", §2.4): one step forward, the same step backward, and
the same equations for all steps at once as the coefficients of the scan. Derivation:
docs/rglru.md.

The paper's RG-LRU maps a sequence of width H to width H. Here the layer takes torch.nn's
input_size, so x̂_t = x_t W_ihᵀ + b_ih gives, besides the two gates, u_t: the input projection
that Griffin's recurrent block applies before the RG-LRU (docs/rglru.md#the-layer). Gate order
r, i, u; no gate reads h_{t−1}, so there is no W_hh. Λ (H,) is the cell's own parameter.

    r_t = σ(x̂_r)                                  recurrence gate                (RG1)
    i_t = σ(x̂_i)                                  input gate                     (RG2)
    log a_t = c · r_t · log σ(Λ) = −c · r_t · softplus(−Λ),   a_t = σ(Λ)^{c r_t}      (RG3)
    s_t = √(1 − a_t²) = √(−expm1(2 log a_t))        normalises the input           (RG4)
    h_t = a_t ⊙ h_{t−1} + s_t ⊙ (i_t ⊙ u_t)          u_t = x̂_u                      (RG5)

c = 8. (RG5) is h_t = a_t ⊙ h_{t−1} + b_t with b_t = s_t ⊙ i_t ⊙ u_t: the scan (fast/scan.py).
Near a_t = 1 the factor s_t goes to 0 with infinite slope in a_t; the chain through log a_t to
r_t and Λ still goes to 0, and where s_t is exactly 0 the backward uses that limit, 0.
"""

import torch
from torch import Tensor
from torch.nn.functional import softplus

from scratch.declaration import Cell, ExtraParam, StepBackward, Weights
from scratch.fast import workspace
from scratch.fast.scan import scan_loop

C = 8.0  # the paper's c: a_t = a^{c r_t} reaches down to a^c when the gate is open
RING = (0.9, 0.999)  # σ(Λ) at initialisation: |a| drawn uniformly by area in this ring


def init_lambda(weight: Tensor) -> None:
    """Λ such that σ(Λ)² is uniform in [0.9², 0.999²], as the authors' code draws it
    (recurrentgemma's rnn_param_init): slow memories, from about 10 to 1000 steps."""
    with torch.no_grad():
        weight.uniform_(RING[0] ** 2, RING[1] ** 2).sqrt_()  # σ(Λ)
        weight.copy_(torch.log(weight / (1 - weight)))  # Λ = logit(σ(Λ))


def _sqrt_slope(a: Tensor, s: Tensor) -> Tensor:
    """ds/d(log a) = −a² / s, and 0 where s = 0 (a = 1). The chain to r and Λ multiplies it by
    ∂log a/∂r = log a / r (and alike for Λ), and with s ≈ √(−2 log a) the product goes to 0 as
    a → 1: where s is exactly 0 the backward takes that limit (docs/rglru.md#where-a-1)."""
    return torch.where(s > 0, -a * a / s.clamp_min(torch.finfo(s.dtype).tiny), 0)


# --8<-- [start:rglru_step]
def rglru_step(x_proj: Tensor, state: tuple, w: Weights):
    """One step forward. Returns (h_t,) (N, H) and what the backward step needs."""
    (h_prev,) = state
    x_r, x_i, u = x_proj.chunk(3, dim=1)  # u_t = x̂_u                                  (N, H)
    r = torch.sigmoid(x_r)  # (RG1) r_t = σ(x̂_r)
    i = torch.sigmoid(x_i)  # (RG2) i_t = σ(x̂_i)
    log_a = -C * softplus(-w.extra["lambda"]) * r  # (RG3) log a_t = −c r_t softplus(−Λ)
    a = torch.exp(log_a)
    s = torch.sqrt(-torch.expm1(2 * log_a))  # (RG4) s_t = √(1 − a_t²)
    h = a * h_prev + s * (i * u)  # (RG5) h_t = a_t ⊙ h_{t−1} + s_t ⊙ i_t ⊙ u_t
    return (h,), (r, i, u, a, s, h_prev)
    # --8<-- [end:rglru_step]


# --8<-- [start:rglru_step_backward]
def rglru_step_backward(d_state: tuple, w: Weights, saved: tuple):
    """d_state: (dL/dh_t,). Returns dL/dx̂_t (N, 3H), dL/dh_{t−1} and dL/dΛ's share."""
    (d_h,), (r, i, u, a, s, h_prev) = d_state, saved
    Lam = w.extra["lambda"]
    d_s = d_h * i * u  # (RG5) ∂h_t/∂s_t = i_t ⊙ u_t
    d_log_a = d_h * h_prev * a + d_s * _sqrt_slope(a, s)  # (RG5, RG4) ∂a/∂log a = a
    d_x_r = d_log_a * (-C * softplus(-Lam)) * r * (1 - r)  # (RG3) ∂log a/∂r; (RG1) σ'
    d_x_i = d_h * s * u * i * (1 - i)  # (RG5) ∂h_t/∂i_t = s_t ⊙ u_t; (RG2) σ'
    d_u = d_h * s * i  # (RG5) ∂h_t/∂u_t = s_t ⊙ i_t
    d_Lam = (d_log_a * C * r * torch.sigmoid(-Lam)).sum(0)  # (RG3) ∂softplus(−Λ)/∂Λ = −σ(−Λ)
    d_h_prev = d_h * a  # (RG5) ∂h_t/∂h_{t−1} = a_t
    d_x_proj = torch.cat([d_x_r, d_x_i, d_u], dim=1)
    return StepBackward(d_x_proj, (d_h_prev,), {"lambda": d_Lam}, (d_h,))
    # --8<-- [end:rglru_step_backward]


def rglru_coefficients(x_proj: Tensor, a: Tensor, b: Tensor, w: Weights) -> tuple:
    """(RG1–RG5) for all rows at once as h_t = a_t ⊙ h_{t−1} + b_t: writes a and b (T_total, H).
    x̂_r, x̂_i are overwritten by r, i. Returns what the backward needs."""
    H = a.shape[1]
    r, i, u = x_proj.chunk(3, dim=1)
    x_proj[:, : 2 * H].sigmoid_()  # (RG1, RG2) r = σ(x̂_r), i = σ(x̂_i), in place
    log_a = torch.mul(r, -C * softplus(-w.extra["lambda"]))  # (RG3)
    torch.exp(log_a, out=a)  # (RG3) a = exp(log a)
    s = log_a.mul_(2).expm1_().neg_().sqrt_()  # (RG4) s = √(−expm1(2 log a))
    torch.mul(i, u, out=b).mul_(s)  # (RG5) b = s ⊙ i ⊙ u
    return r, i, u, a, s


def rglru_coefficients_backward(g: Tensor, h_prev: Tensor, saved: tuple, w: Weights):
    """g = dL/dh_t and h_{t−1} of every row (from the scan) → dL/dx̂ (T_total, 3H), dL/dΛ."""
    r, i, u, a, s = saved
    Lam = w.extra["lambda"]
    d_x_proj = workspace.empty(g, g.shape[0], 3 * g.shape[1])  # used up by layer_backward
    d_x_r, d_x_i, d_u = d_x_proj.chunk(3, dim=1)
    d_s = torch.mul(g, i).mul_(u)  # (RG5) d_s = g ⊙ i ⊙ u
    d_log_a = d_s.mul_(_sqrt_slope(a, s)).addcmul_(g, h_prev * a)  # (RG4, RG5, RG3)
    d_Lam = (d_log_a * r).sum(0).mul_(C * torch.sigmoid(-Lam))  # (RG3)
    d_log_a.mul_(-C * softplus(-Lam))  # (RG3) ∂log a/∂r = −c softplus(−Λ)
    torch.addcmul(d_log_a, d_log_a, r, value=-1, out=d_x_r).mul_(r)  # (RG1) ⊙ r(1 − r)
    torch.mul(g, s, out=d_u).mul_(i)  # (RG5) d_u = g ⊙ s ⊙ i
    torch.mul(g, s, out=d_x_i).mul_(u).mul_(i).mul_(1 - i)  # (RG5, RG2)
    return d_x_proj, {"lambda": d_Lam}


RGLRU_CELL = Cell(
    key="rglru",
    about="RG-LRU of Griffin, trained by a parallel scan",
    layer="RGLRU",
    gates=("r", "i", "u"),
    states=("h",),
    x_proj_biases=("bias_ih",),
    step=rglru_step,
    step_backward=rglru_step_backward,
    manual_loop=scan_loop(rglru_coefficients, rglru_coefficients_backward),
    kinds=("weight_ih", "bias_ih"),  # no W_hh, no b_hh: nothing reads h_{t−1} but (RG5)
    extra=(ExtraParam("lambda", lambda H: (H,), init_lambda),),
)
