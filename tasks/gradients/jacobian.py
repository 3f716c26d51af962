"""The spectral norm of the per-step Jacobian J_t = ∂state_t/∂state_{t−1}, measured by power
iteration on our own backward step.

BPTT hands the gradient back one step at a time: d_{t−1} = d_t J_t (row vectors), so over k
steps ‖d_{t−k}‖ ≤ ‖d_t‖ · ‖J_t‖ ⋯ ‖J_{t−k+1}‖ (Pascanu, Mikolov & Bengio 2013). The spectral
norm ‖J‖ = σ_max(J) is the most one step can stretch a gradient; log10 σ_max is the steepest
slope the curve of log10 ‖dL/dh_t‖ against t can have there. See docs/gradients.md.

The cell's ``step_backward`` gives d ↦ d J and nothing else. Power iteration needs J Jᵀ, so the
other half, u ↦ u Jᵀ, comes from differentiating the backward step itself: it is linear in d,
so the gradient of ⟨s J, u⟩ with respect to s is u Jᵀ. For the LSTM the state is (h, c) and J
is the 2H × 2H Jacobian of the whole state, the map the gradient actually goes through.
"""

from collections.abc import Callable

import torch
from torch import Tensor

from tasks.impl import step_pair


def spectral_norms(
    vjp: Callable[[Tensor], Tensor], rows: int, dim: int, iterations: int, seed: int = 0
) -> Tensor:
    """σ_max(J_m) of each row m's Jacobian (dim × dim), given ``vjp``: (rows, dim) d ↦ d J,
    row by row. Power iteration on J Jᵀ from a random start: each estimate is a lower bound that
    rises to σ_max at a rate (σ_2 / σ_1)² per iteration. Returns (rows,)."""
    generator = torch.Generator().manual_seed(seed)
    d = _unit(torch.randn(rows, dim, dtype=torch.float64, generator=generator))
    for _ in range(iterations):
        d = _unit(_times_transpose(vjp, vjp(d)))  # d J Jᵀ
    return vjp(d).norm(dim=1)  # ‖d J‖ with ‖d‖ = 1


def _times_transpose(vjp: Callable[[Tensor], Tensor], u: Tensor) -> Tensor:
    """u Jᵀ, row by row: the gradient of ⟨s J, u⟩ with respect to s (``vjp`` is linear in s)."""
    s = torch.zeros_like(u, requires_grad=True)
    with torch.enable_grad():
        (u_jt,) = torch.autograd.grad(vjp(s), s, grad_outputs=u)
    return u_jt


def _unit(d: Tensor) -> Tensor:
    """Each row scaled to norm 1 (a zero row stays zero: its Jacobian sent everything to 0)."""
    return d / d.norm(dim=1, keepdim=True).clamp_min(1e-300)


@torch.no_grad()
def step_jacobian_norms(layer: torch.nn.Module, x: Tensor, iterations: int) -> Tensor:
    """σ_max(∂state_t/∂state_{t−1}) at every step t and sequence n of input ``x`` (T, N, H_in),
    from a zero state, through the first layer of ``layer`` (either implementation, float64).
    Returns (T, N). All T·N Jacobians are independent rows of one power iteration."""
    pair = step_pair(layer)
    T, N = x.shape[:2]
    state = tuple(x.new_zeros(N, layer.hidden_size) for _ in pair.states)
    tape = []
    for t in range(T):
        state, saved = pair.step(x[t], state)
        tape.append(saved)
    saved_all = tuple(torch.cat(parts) for parts in zip(*tape, strict=True))  # each (T·N, ·)
    widths = [s.shape[1] for s in state]

    def vjp(d: Tensor) -> Tensor:  # (T·N, D): d ↦ d J_t, row by row
        back = pair.step_backward(tuple(d.split(widths, dim=1)), saved_all)
        return torch.cat(back, dim=1)

    return spectral_norms(vjp, T * N, sum(widths), iterations).view(T, N)
